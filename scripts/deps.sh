# scripts/deps.sh - sourced by install.sh and run-tests.sh: installs the
# Debian/Ubuntu packages a purpose needs, quickly when they are present.
#
#   p2p_install_deps build|gimp|test|fuzz

p2p_as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

p2p_missing() {
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || printf '%s ' "$p"
  done
}

p2p_install_deps() {
  case "$1" in
    build) set -- meson ninja-build gcc pkg-config gettext \
                   libglib2.0-dev libjson-glib-dev libopenblas-dev libgdk-pixbuf-2.0-dev ;;
    gimp)  set -- gimp libgimp2.0-dev libgegl-dev libbabl-dev libgtk2.0-dev gtk2-engines-pixbuf ;;
    test)  set -- valgrind debootstrap zstd xvfb xauth xdotool ;;
    fuzz)  set -- clang libclang-rt-dev ;;   # libFuzzer (tests/fuzz)
    *) echo "p2p_install_deps: unknown set $1" >&2; return 2 ;;
  esac
  missing=$(p2p_missing "$@")
  [ -z "$missing" ] && return 0
  echo "Installing:$missing"
  p2p_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  # shellcheck disable=SC2086
  p2p_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
}
