#!/bin/sh
# run-gimp3-chroot.sh - build the project with the GIMP 3.0 front-end inside
# a Debian 13 (trixie) chroot and run the headless GIMP 3 tests there (the
# Debian 12 host has only GIMP 2.10).  Run as root; TAP on stdout.
#
#   plugin/tests/run-gimp3-chroot.sh [MESON_TEST_ARGS...]
# Without arguments: meson test --suite gimp.  With the GUI tests too:
#   plugin/tests/run-gimp3-chroot.sh --suite gimp --suite gimp-gui
#
# The chroot comes from setup-gimp3-chroot.sh (cached; see there).  Each run
# copies the working tree into a fresh folder inside the chroot, so runs do
# not share build state; the copy is removed afterwards.
# Environment: P2P_GIMP3_ROOT (chroot folder), P2P_PROJECT (tree to copy,
# default: this repository), P2P_KEEP=1 keeps the copy, P2P_ARTIFACTS=DIR
# receives the test log and any dialog screenshot.
set -eu

HERE=$(dirname "$(readlink -f "$0")")
PROJECT=${P2P_PROJECT:-$(readlink -f "$HERE/../..")}
ROOT=${P2P_GIMP3_ROOT:-/var/lib/gimp3-chroot}

"$HERE/setup-gimp3-chroot.sh" "$ROOT" >&2
[ $# -gt 0 ] || set -- --suite gimp

WORK=$(mktemp -d "$ROOT/tmp/p2p-src.XXXXXX")
INNER=${WORK#"$ROOT"}

cleanup() {
  if [ -n "${P2P_ARTIFACTS:-}" ]; then
    mkdir -p "$P2P_ARTIFACTS"
    # (meson names the log after the test setup: testlog-full.txt for --setup full)
    for f in "$WORK"/build-gimp3/meson-logs/testlog*.txt; do
      [ -f "$f" ] && cp "$f" "$P2P_ARTIFACTS/gimp3-${f##*/}"
    done
    cp "$WORK"/build-gimp3/plugin/tests/dialog-gimp3.png "$WORK"/build-gimp3/plugin/tests/cancel-gimp3.png \
       "$P2P_ARTIFACTS/" 2>/dev/null || true
  fi
  for m in "$ROOT/dev/shm" "$ROOT/proc"; do
    if mountpoint -q "$m" 2>/dev/null; then umount "$m" || umount -l "$m"; fi
  done
  if [ "${P2P_KEEP:-0}" != 1 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT INT TERM

mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
mkdir -p "$ROOT/dev/shm"
# GIMP and its plug-ins talk through shared memory.
mountpoint -q "$ROOT/dev/shm" || mount -t tmpfs -o mode=1777,size=512m shm "$ROOT/dev/shm"

# The working tree without build folders, git data or big data sets;
# -h follows symlinks so that a tree made of links copies as files.
tar -C "$PROJECT" -ch --exclude='./build*' --exclude='./_build*' --exclude='./bench/cache' --exclude='./bench/node_modules' --exclude='./.git' --exclude='./models/dataset' \
    --exclude='./models/train/runs' . | tar -C "$WORK" -x

chroot "$ROOT" env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
  P2P_GIMP3_PROFILE=/opt/gimp3-profile TMPDIR=/tmp P2P_KEEP="${P2P_KEEP:-0}" \
  sh -c 'cd "$1" && shift &&
         meson setup build-gimp3 -Dgimp2=disabled -Dgimp3=enabled >build-gimp3.log 2>&1 ||
           { cat build-gimp3.log >&2; exit 1; } &&
         ninja -C build-gimp3 >>build-gimp3.log 2>&1 ||
           { tail -50 build-gimp3.log >&2; exit 1; } &&
         meson test -C build-gimp3 --print-errorlogs "$@" >&2 ; rc=$?;
         cat build-gimp3/meson-logs/testlog*.txt; exit $rc' \
  sh "$INNER" "$@"
