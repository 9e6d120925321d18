# scripts/deps.sh - sourced by install.sh and run-tests.sh: installs the
# Debian/Ubuntu packages a purpose needs, quickly when they are present.
#
#   p2p_install_deps build|gimp|test|fuzz
#
# The GIMP set depends on what the distribution offers: libgimp2.0-dev
# (GIMP 2.10: Debian 12, Ubuntu 24.04) and/or libgimp-3.0-dev (GIMP 3.0:
# Debian 13); a package the archive does not have is never asked for.
# P2P_GIMP_VERSIONS then lists the GIMP(s) being built for ("2.10 3.0").

p2p_as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

p2p_missing() {
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || printf '%s ' "$p"
  done
}

# apt-get update at most once per run, and only when something is missing.
P2P_APT_UPDATED=${P2P_APT_UPDATED:-0}
p2p_apt_update() {
  [ "$P2P_APT_UPDATED" = 1 ] && return 0
  p2p_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  P2P_APT_UPDATED=1
}

# p2p_has_candidate PKG: the archive offers PKG (installed or installable).
p2p_has_candidate() {
  dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed' && return 0
  cand=$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
  [ -n "$cand" ] && [ "$cand" != "(none)" ]
}

# p2p_gimp_packages: sets P2P_GIMP_PKGS to the GIMP packages for every
# GIMP this system offers, and P2P_GIMP_VERSIONS.  Fails with a message
# when there is none.
p2p_gimp_packages() {
  P2P_GIMP_VERSIONS=""
  pkgs=""
  # A fresh system may have no package lists yet: update before judging.
  if ! p2p_has_candidate libgimp2.0-dev && ! p2p_has_candidate libgimp-3.0-dev; then
    p2p_apt_update
  fi
  if p2p_has_candidate libgimp2.0-dev; then
    P2P_GIMP_VERSIONS="2.10"
    pkgs="libgimp2.0-dev libgtk2.0-dev"
    # Silences GTK 2's "Unable to locate theme engine" warnings (GIMP 2.10).
    p2p_has_candidate gtk2-engines-pixbuf && pkgs="$pkgs gtk2-engines-pixbuf"
  fi
  if p2p_has_candidate libgimp-3.0-dev; then
    P2P_GIMP_VERSIONS="${P2P_GIMP_VERSIONS:+$P2P_GIMP_VERSIONS }3.0"
    pkgs="$pkgs libgimp-3.0-dev"
  fi
  if [ -z "$P2P_GIMP_VERSIONS" ]; then
    echo "This system's package archive offers neither libgimp2.0-dev (GIMP 2.10) nor" \
         "libgimp-3.0-dev (GIMP 3.0); the plug-in needs one of them." >&2
    return 1
  fi
  P2P_GIMP_PKGS="gimp $pkgs libgegl-dev libbabl-dev"
}

p2p_install_deps() {
  case "$1" in
    build) set -- meson ninja-build gcc pkg-config gettext \
                   libglib2.0-dev libjson-glib-dev libopenblas-dev libgdk-pixbuf-2.0-dev ;;
    gimp)  p2p_gimp_packages || return 1
           # shellcheck disable=SC2086
           set -- $P2P_GIMP_PKGS ;;
    # locales: the German translation tests make a de_DE.UTF-8 locale of
    # their own with localedef from its sources.
    test)  set -- valgrind debootstrap zstd xvfb xauth xdotool locales git ;;
    fuzz)  set -- clang libclang-rt-dev ;;   # libFuzzer (tests/fuzz)
    *) echo "p2p_install_deps: unknown set $1" >&2; return 2 ;;
  esac
  missing=$(p2p_missing "$@")
  [ -z "$missing" ] && return 0
  echo "Installing:$missing"
  p2p_apt_update
  # shellcheck disable=SC2086
  p2p_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
}
