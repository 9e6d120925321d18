#!/bin/sh
# install.sh - one command from a fresh Debian 12/13 or Ubuntu machine:
# installs the build dependencies and GIMP (apt-get; sudo when not root),
# builds, installs the GIMP plug-in (with its bundled models, Script-Fu
# batch script and translations) for every GIMP the system offers (2.10
# and/or 3.0) into GIMP's own system plug-in folder, installs pix2pix-cli
# into $PREFIX/bin, then runs a demo through GIMP in batch mode (results
# in demo-output/).  Idempotent; quick when all is in place.
#
# Your GIMP profile (~/.config/GIMP/...) is left alone: a profile made
# before GIMP's first start stops GIMP's first-run set-up and GIMP 3's
# import of your GIMP 2.10 settings, so GIMP must be the one to make it.
# (plugin/install-user.sh installs into an existing profile instead.)
#
#   ./install.sh               build and install
#   ./install.sh --uninstall   remove what it installed
#
# Environment: PREFIX for pix2pix-cli (default /usr/local).
set -eu
cd "$(dirname "$0")"
. scripts/deps.sh

PREFIX=${PREFIX:-/usr/local}
CONFIG=${XDG_CONFIG_HOME:-$HOME/.config}

# gimp_dir VERSION VARIABLE: one of GIMP's system folders (pkg-config).
gimp_dir() {
  pc=gimp-2.0; [ "$1" = 3.0 ] && pc=gimp-3.0
  pkg-config --define-variable=prefix=/usr --variable="$2" "$pc"
}

if [ "${1:-}" = --uninstall ]; then
  for v in 2.10 3.0; do
    pc=gimp-2.0; [ "$v" = 3.0 ] && pc=gimp-3.0
    pkg-config --exists "$pc" || continue
    p2p_as_root rm -rf "$(gimp_dir "$v" gimplibdir)/plug-ins/gimp-pix2pix" \
                       "$(gimp_dir "$v" gimpdatadir)/scripts/pix2pix-batch.scm"
    echo "removed the plug-in for GIMP $v"
  done
  p2p_as_root rm -f "$PREFIX/bin/pix2pix-cli"
  echo "removed $PREFIX/bin/pix2pix-cli"
  exit 0
fi

p2p_install_deps build
p2p_install_deps gimp     # sets P2P_GIMP_VERSIONS: the GIMP(s) this system offers

# The plug-in: one build for every GIMP found, installed into GIMP's system
# folders (prefix /usr, where the distribution's GIMP looks), so that no
# user profile is created or changed.
opts="--prefix=/usr --buildtype=release -Dgimp2=disabled -Dgimp3=disabled"
for v in $P2P_GIMP_VERSIONS; do
  case $v in
    2.10) opts="$opts -Dgimp2=enabled" ;;
    3.0)  opts="$opts -Dgimp3=enabled" ;;
  esac
done
# shellcheck disable=SC2086
if [ -f _build-plugin/build.ninja ]; then
  meson setup --reconfigure _build-plugin $opts >/dev/null
else
  meson setup _build-plugin $opts >/dev/null
fi
meson compile -C _build-plugin
# Only the plug-in, its script, models and catalogues: the tags keep
# pix2pix-cli and friends out of /usr.
p2p_as_root meson install -C _build-plugin --no-rebuild --quiet --tags gimp-plugin,i18n

for v in $P2P_GIMP_VERSIONS; do
  dir=$(gimp_dir "$v" gimplibdir)/plug-ins/gimp-pix2pix
  if [ ! -x "$dir/gimp-pix2pix" ]; then
    echo "install.sh: the plug-in for GIMP $v is missing from $dir after the install" >&2
    exit 1
  fi
  # A copy an earlier version of this script put into the profile would
  # hide the new one (GIMP reads the profile's plug-ins first).
  old=$CONFIG/GIMP/$v
  if [ -d "$old/plug-ins/gimp-pix2pix" ] || [ -f "$old/scripts/pix2pix-batch.scm" ]; then
    rm -rf "$old/plug-ins/gimp-pix2pix" "$old/scripts/pix2pix-batch.scm"
    echo "removed the older per-user copy from $old"
  fi
done

# The command-line tool.
if [ -f _build/build.ninja ]; then
  meson setup --reconfigure _build --buildtype=release -Dplugin=false -Dnls=false >/dev/null
else
  meson setup _build --buildtype=release -Dplugin=false -Dnls=false
fi
meson compile -C _build cli/pix2pix-cli
p2p_as_root install -D -m 755 _build/cli/pix2pix-cli "$PREFIX/bin/pix2pix-cli"

sh scripts/demo.sh demo-output

echo
for v in $P2P_GIMP_VERSIONS; do
  echo "Installed the plug-in for GIMP $v in $(gimp_dir "$v" gimplibdir)/plug-ins/gimp-pix2pix"
done
echo "Installed $PREFIX/bin/pix2pix-cli"
echo "Restart GIMP to see Filters > Artistic > Sketch to Photo... and Apply pix2pix Model..., and Colors > Auto Colorize..."
