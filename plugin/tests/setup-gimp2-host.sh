#!/bin/sh
# setup-gimp2-host.sh - install what the GIMP 2.10 plug-in build and its
# headless tests need on a Debian 12 host (run as root).  Idempotent: exits
# quickly when everything is already installed.
set -eu

PKGS="gimp libgimp2.0-dev libgegl-dev libbabl-dev libgtk2.0-dev \
libopenblas-dev libjson-glib-dev libgdk-pixbuf-2.0-dev \
meson ninja-build gcc pkg-config gettext \
debootstrap zstd gtk2-engines-pixbuf xvfb xauth xdotool"

missing=""
for p in $PKGS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "setup-gimp2-host: all packages present"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "setup-gimp2-host: missing packages:$missing (run as root)" >&2
  exit 1
fi

echo "setup-gimp2-host: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
