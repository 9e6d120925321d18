#!/bin/sh
# setup-gimp3-chroot.sh - provide a Debian 13 (trixie) chroot with GIMP 3.0
# and its development files, for building and testing the GIMP 3 front-end on
# a Debian 12 host (which ships only GIMP 2.10).  Run as root.
#
#   plugin/tests/setup-gimp3-chroot.sh [ROOT]
#
# ROOT defaults to $P2P_GIMP3_ROOT or /var/lib/gimp3-chroot.  Idempotent:
#  1. ROOT already set up (stamp file present)      -> nothing to do (instant)
#  2. cached tarball in $P2P_GIMP3_CACHE present     -> unpack it (~10 s)
#  3. otherwise debootstrap + apt-get + profile warm-up, then write the
#     tarball so that the next machine run takes path 2 (~2.5 min).
# Needs: debootstrap, zstd, network access to the system's Debian archive.
set -eu

ROOT=${1:-${P2P_GIMP3_ROOT:-/var/lib/gimp3-chroot}}
CACHE_DIR=${P2P_GIMP3_CACHE:-/var/cache/gimp3-chroot}
# Bump when the package list below changes, so that old caches are rebuilt.
STAMP_VERSION=3
TARBALL=$CACHE_DIR/trixie-gimp3-v$STAMP_VERSION.tar.zst
STAMP=$ROOT/.gimp-pix2pix-chroot-v$STAMP_VERSION
PKGS="gimp libgimp-3.0-dev meson ninja-build gcc pkg-config libopenblas-dev \
libjson-glib-dev libgdk-pixbuf-2.0-dev gettext xvfb xauth xdotool locales"

log() { echo "setup-gimp3-chroot: $*"; }

# One set-up at a time, and no test run (which calls this script first)
# while the chroot is still being built or archived.
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$CACHE_DIR"
  exec 9>"$CACHE_DIR/.lock"
  flock 9
fi

if [ -e "$STAMP" ]; then
  log "ready at $ROOT"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  log "needs root (debootstrap, chroot, mount)" >&2
  exit 1
fi

for tool in debootstrap zstd; do
  command -v "$tool" >/dev/null 2>&1 || { log "missing $tool (apt-get install $tool)" >&2; exit 1; }
done

# Unmount anything a previous, interrupted run left behind before touching ROOT.
cleanup_mounts() {
  for m in "$ROOT/dev/shm" "$ROOT/proc"; do
    if mountpoint -q "$m" 2>/dev/null; then umount "$m" || umount -l "$m"; fi
  done
}
cleanup_mounts
trap cleanup_mounts EXIT INT TERM

if [ -f "$TARBALL" ]; then
  log "restoring $TARBALL"
  rm -rf "$ROOT"
  mkdir -p "$ROOT"
  tar -C "$ROOT" --numeric-owner -I 'zstd -T0' -xf "$TARBALL"
  [ -e "$STAMP" ] || { log "tarball has no stamp, remove $TARBALL and retry" >&2; exit 1; }
  log "ready at $ROOT"
  exit 0
fi

# The system's own Debian archive (never a hard-coded host name).
MIRROR=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
fi
if [ -z "$MIRROR" ] && [ -f /etc/apt/sources.list ]; then
  MIRROR=$(awk '$1=="deb"{for(i=2;i<=NF;i++) if($i ~ /^[a-z]+:\/\//){print $i; exit}}' /etc/apt/sources.list)
fi
[ -n "$MIRROR" ] || { log "cannot find the Debian archive URI in /etc/apt" >&2; exit 1; }

log "debootstrap trixie from $MIRROR into $ROOT"
rm -rf "$ROOT"
mkdir -p "$ROOT"
debootstrap --variant=minbase trixie "$ROOT" "$MIRROR"

mount -t proc proc "$ROOT/proc"
chroot "$ROOT" apt-get update -q
# shellcheck disable=SC2086
chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends $PKGS
chroot "$ROOT" apt-get clean
# A German locale for the translation test: trixie's glibc ignores LANGUAGE
# under C.UTF-8, so GIMP 3 needs a real de_DE.UTF-8 to speak German.
echo "de_DE.UTF-8 UTF-8" > "$ROOT/etc/locale.gen"
chroot "$ROOT" locale-gen
rm -rf "$ROOT"/var/lib/apt/lists/*_Packages "$ROOT"/usr/share/doc "$ROOT"/usr/share/man

# Pre-warm a profile with the LANG the tests use: a copy of it saves the ~5 s
# plug-in query on every test run.
mkdir -p "$ROOT/dev/shm"
mount -t tmpfs -o mode=1777,size=512m shm "$ROOT/dev/shm"
chroot "$ROOT" env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
  GIMP3_DIRECTORY=/opt/gimp3-profile \
  timeout 300 gimp-console-3.0 -i --quit --batch-interpreter=plug-in-script-fu-eval \
  -b '(gimp-message "prewarm")' || log "warning: profile warm-up failed"
chroot "$ROOT" dpkg-query -W -f='${Package} ${Version}\n' gimp libgimp-3.0-dev libgegl-0.4-0t64 \
  > "$ROOT/.gimp-pix2pix-versions" 2>/dev/null || true
cleanup_mounts

touch "$STAMP"
mkdir -p "$CACHE_DIR"
log "writing cache $TARBALL"
tar -C "$ROOT" --numeric-owner -I 'zstd -T0 -3' -cf "$TARBALL.tmp" .
mv "$TARBALL.tmp" "$TARBALL"
# Caches of older package lists are of no use any more (0.4 GB each).
for old in "$CACHE_DIR"/trixie-gimp3-v*.tar.zst; do
  [ "$old" = "$TARBALL" ] || rm -f "$old"
done
log "ready at $ROOT"
