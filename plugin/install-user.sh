#!/bin/sh
# install-user.sh - build the plug-in and install it into your own GIMP
# profile(s): GIMP 2.10 and/or GIMP 3.0, whichever development files are
# present.  No root needed; nothing outside ~/.config/GIMP is written.
# (./install.sh installs system-wide instead and leaves profiles alone.)
#
# A profile folder is never made here: GIMP runs its first-run set-up, and
# GIMP 3 imports the GIMP 2.10 settings, only when it finds no profile.  A
# GIMP whose profile does not exist yet is started once, headless, so
# that it makes its own first.
#
#   plugin/install-user.sh            # build + install for every GIMP found
#   plugin/install-user.sh --uninstall
#
# Needs: meson, ninja, a C compiler, and libgimp2.0-dev (GIMP 2.10) or
# libgimp-3.0-dev (GIMP 3.0) plus the core's build dependencies.
set -eu

SRC=$(readlink -f "$(dirname "$0")/..")
CONFIG=${XDG_CONFIG_HOME:-$HOME/.config}

install_for() {  # $1 = 2 or 3, $2 = profile folder name
  ver=$1; profile=$CONFIG/GIMP/$2
  build=$SRC/build-user-gimp$ver
  if [ "${UNINSTALL:-0}" = 1 ]; then
    rm -rf "$profile/plug-ins/gimp-pix2pix" "$profile/scripts/pix2pix-batch.scm"
    echo "removed the plug-in from $profile"
    return
  fi
  if [ ! -d "$profile" ]; then
    echo "GIMP $2 has no profile in $profile yet: starting it once so that it makes it ..."
    if [ "$ver" = 2 ]; then
      GIMP2_DIRECTORY=$profile timeout 300 gimp-console-2.10 -i -b '(gimp-quit 0)' > /dev/null 2>&1 || true
    else
      GIMP3_DIRECTORY=$profile timeout 300 gimp-console-3.0 -i --quit > /dev/null 2>&1 || true
    fi
    if [ ! -d "$profile" ]; then
      echo "install-user.sh: GIMP $2 did not make its profile $profile; start GIMP $2 once, then run this again" >&2
      exit 1
    fi
  fi
  if [ "$ver" = 2 ]; then other=gimp3; else other=gimp2; fi
  opts="-D$other=disabled -Dgimp$ver=enabled -Dplugindir=$profile/plug-ins -Dscriptdir=$profile/scripts"
  if [ -d "$build" ]; then
    # shellcheck disable=SC2086
    meson configure "$build" $opts >/dev/null
  else
    # shellcheck disable=SC2086
    meson setup "$build" "$SRC" $opts --buildtype=release >/dev/null
  fi
  ninja -C "$build"
  # Only the plug-in, its scripts, models and catalogues: the tags keep
  # pix2pix-cli and friends out of the system prefix.
  meson install -C "$build" --no-rebuild --quiet --tags gimp-plugin,i18n
  echo "installed for GIMP $2 in $profile/plug-ins/gimp-pix2pix (restart GIMP)"
}

[ "${1:-}" = --uninstall ] && UNINSTALL=1
found=0
if pkg-config --exists 'gimp-2.0 >= 2.10'; then install_for 2 2.10; found=1; fi
if pkg-config --exists 'gimp-3.0 >= 3.0'; then install_for 3 3.0; found=1; fi
if [ $found = 0 ]; then
  echo "no GIMP development files found: install libgimp2.0-dev (GIMP 2.10) or libgimp-3.0-dev (GIMP 3.0)" >&2
  exit 1
fi
