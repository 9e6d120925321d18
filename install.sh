#!/bin/sh
# install.sh - one command from a fresh Debian 12/13 or Ubuntu machine:
# installs the build dependencies and GIMP (apt-get; sudo when not root),
# builds, installs the GIMP plug-in (with its bundled models, Script-Fu
# batch script and translations) into your GIMP profile, installs
# pix2pix-cli into $PREFIX/bin, then runs a demo through GIMP in batch mode
# (results in demo-output/).  Idempotent; quick when all is in place.
#
# Environment: PREFIX for pix2pix-cli (default /usr/local).
set -eu
cd "$(dirname "$0")"
. scripts/deps.sh

PREFIX=${PREFIX:-/usr/local}

p2p_install_deps build
p2p_install_deps gimp

# The plug-in goes into the user's own GIMP profile(s), where GIMP looks for
# third-party plug-ins; nothing of it is written outside ~/.config/GIMP.
sh plugin/install-user.sh

# The command-line tool.
if [ -f _build/build.ninja ]; then
  meson setup --reconfigure _build --buildtype=release -Dplugin=false -Dnls=false >/dev/null
else
  meson setup _build --buildtype=release -Dplugin=false -Dnls=false
fi
meson compile -C _build core/pix2pix-cli
p2p_as_root install -D -m 755 _build/core/pix2pix-cli "$PREFIX/bin/pix2pix-cli"
echo "installed $PREFIX/bin/pix2pix-cli"

sh scripts/demo.sh demo-output
