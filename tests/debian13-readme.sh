#!/bin/sh
# debian13-readme.sh - the README's two commands on a fresh Debian 13
# (trixie, GIMP 3.0) system, as a new user would run them: a minimal
# trixie chroot, a normal user with passwordless sudo, `git clone` of this
# repository's committed state (HEAD), then as that user `./install.sh`
# and `./run-tests.sh` (core, CLI, GIMP 3.0 headless and GUI tests, the
# profile tests, valgrind, sanitizers, fuzz smoke).  run-tests.sh runs this
# on a Debian 12 host, which has no GIMP 3.  Run as root.
#
#   tests/debian13-readme.sh
#
# The base system (debootstrap minbase + sudo + git) is cached as a tarball
# in $P2P_D13_CACHE (default /var/cache/p2p-debian13), and so are the .deb
# files install.sh downloads; everything else is made fresh on every run,
# in $P2P_D13_ROOT (default /var/lib/p2p-debian13), removed afterwards
# (P2P_KEEP=1 keeps it).  P2P_ARTIFACTS=DIR receives the logs and the GIMP 3
# dialog screenshots.  Needs: debootstrap, zstd, git, the system's Debian
# archive.  Times: ~2 min for the system, then install.sh and run-tests.sh.
set -eu

SRC=$(readlink -f "$(dirname "$0")/..")
ROOT=${P2P_D13_ROOT:-/var/lib/p2p-debian13}
CACHE_DIR=${P2P_D13_CACHE:-/var/cache/p2p-debian13}
# Bump when the base system's package list changes.
BASE_VERSION=1
TARBALL=$CACHE_DIR/trixie-base-v$BASE_VERSION.tar.zst
U=p2p-user
HOMEDIR=/home/$U

log() { echo "debian13-readme: $*"; }
die() { echo "debian13-readme: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mount)"
for tool in debootstrap zstd git flock; do
  command -v "$tool" >/dev/null 2>&1 || die "missing $tool (apt-get install $tool)"
done
case $ROOT in /|"") die "refusing ROOT=$ROOT" ;; esac

mkdir -p "$CACHE_DIR/debs"
# One run at a time (the chroot folder and the caches are shared).
exec 9>"$CACHE_DIR/.lock"
flock 9

MOUNTS="proc sys dev/shm var/cache/apt/archives"
unmount_all() {
  for m in var/cache/apt/archives dev/shm sys proc; do
    if mountpoint -q "$ROOT/$m" 2>/dev/null; then
      umount "$ROOT/$m" 2>/dev/null || umount -l "$ROOT/$m" || true
    fi
  done
}
cleanup() {
  rc=$?
  unmount_all
  if [ -n "${P2P_ARTIFACTS:-}" ] && [ -d "$ROOT$HOMEDIR/gimp-pix2pix" ]; then
    mkdir -p "$P2P_ARTIFACTS"
    w=$ROOT$HOMEDIR/gimp-pix2pix
    # one log per meson test run, named after its setup (testlog-full.txt, ...)
    for f in "$w"/_build-tests*/meson-logs/testlog*.txt; do
      [ -f "$f" ] && cp "$f" "$P2P_ARTIFACTS/debian13-$(basename "$(dirname "$(dirname "$f")")")-${f##*/}"
    done
    cp "$w"/_build-tests/plugin/tests/*.png "$P2P_ARTIFACTS/" 2>/dev/null || true
    cp "$ROOT/tmp/install.log" "$ROOT/tmp/run-tests.log" "$P2P_ARTIFACTS/" 2>/dev/null || true
  fi
  if [ "${P2P_KEEP:-0}" = 1 ]; then
    log "kept $ROOT"
  else
    # Only after every mount is gone: never delete through a mount.
    if ! grep -q " $ROOT/" /proc/mounts; then rm -rf "$ROOT"; fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A run that was killed may have left mounts behind.
unmount_all
grep -q " $ROOT/" /proc/mounts && die "$ROOT still has mounts; unmount them first"
rm -rf "$ROOT"
mkdir -p "$ROOT"

# --- 1. a fresh trixie system --------------------------------------------------
t0=$(date +%s)
if [ -f "$TARBALL" ]; then
  log "restoring the base system from $TARBALL"
  tar -C "$ROOT" --numeric-owner -I 'zstd -T0' -xf "$TARBALL"
else
  # The system's own Debian archive (never a host name written here).
  MIRROR=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$MIRROR" ] && [ -f /etc/apt/sources.list ]; then
    MIRROR=$(awk '$1=="deb"{for(i=2;i<=NF;i++) if($i ~ /^[a-z]+:\/\//){print $i; exit}}' /etc/apt/sources.list)
  fi
  [ -n "$MIRROR" ] || die "cannot find the Debian archive URI in /etc/apt"
  log "debootstrap trixie from $MIRROR"
  debootstrap --variant=minbase --include=sudo,git,ca-certificates trixie "$ROOT" "$MIRROR" \
    > "$CACHE_DIR/debootstrap.log" 2>&1 || { tail -n 30 "$CACHE_DIR/debootstrap.log" >&2; die "debootstrap failed"; }
  rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*_Packages
  log "caching the base system in $TARBALL"
  tar -C "$ROOT" --numeric-owner -I 'zstd -T0 -3' -cf "$TARBALL.tmp" .
  mv "$TARBALL.tmp" "$TARBALL"
  for old in "$CACHE_DIR"/trixie-base-v*.tar.zst; do
    [ "$old" = "$TARBALL" ] || rm -f "$old"
  done
fi
grep -q '^VERSION_ID="13"' "$ROOT/etc/os-release" || die "the chroot is not Debian 13: $(cat "$ROOT/etc/os-release")"

for m in $MOUNTS; do mkdir -p "$ROOT/$m"; done
mount -t proc proc "$ROOT/proc"
mount -t sysfs sysfs "$ROOT/sys"
# GIMP and its plug-ins talk through shared memory.
mount -t tmpfs -o mode=1777,size=1g shm "$ROOT/dev/shm"
# Downloaded packages outlive the chroot (the archive is the slow part).
mount --bind "$CACHE_DIR/debs" "$ROOT/var/cache/apt/archives"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
# The chroot shares the host's kernel host name; a real system lists its
# own in /etc/hosts (else sudo warns "unable to resolve host").
printf '127.0.1.1\t%s\n' "$(hostname)" >> "$ROOT/etc/hosts"

# --- 2. a normal user with sudo, and a clone of the committed state ------------
chroot "$ROOT" useradd -m -s /bin/bash "$U"
printf '%s ALL=(ALL) NOPASSWD: ALL\n' "$U" > "$ROOT/etc/sudoers.d/$U"
chmod 0440 "$ROOT/etc/sudoers.d/$U"
uid=$(chroot "$ROOT" id -u "$U")
gid=$(chroot "$ROOT" id -g "$U")

HEAD=$(git -C "$SRC" rev-parse HEAD)
if [ -n "$(git -C "$SRC" status --porcelain --untracked-files=no)" ]; then
  log "note: $SRC has uncommitted changes; this stage tests the committed $HEAD"
fi
# The project, as `git clone` would bring it: a bare copy of this
# repository for the user to clone from (no network remote needed).
git clone -q --bare --no-hardlinks "$SRC" "$ROOT/tmp/origin.git"
git -C "$ROOT/tmp/origin.git" update-ref refs/heads/under-test "$HEAD"
git -C "$ROOT/tmp/origin.git" symbolic-ref HEAD refs/heads/under-test
chown -R "$uid:$gid" "$ROOT/tmp/origin.git"

as_user() {  # as_user LOG COMMAND: a login-like environment as the user
  chroot --userspec="$uid:$gid" "$ROOT" env -i HOME="$HOMEDIR" USER="$U" LOGNAME="$U" \
    SHELL=/bin/bash LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin \
    sh -c "cd \"$HOMEDIR\" && $2" > "$ROOT/tmp/$1" 2>&1
}
as_user clone.log "git clone /tmp/origin.git gimp-pix2pix" ||
  { cat "$ROOT/tmp/clone.log" >&2; die "git clone failed"; }
t1=$(date +%s)
log "trixie system, user $U and clone of $HEAD ready in $((t1 - t0)) s"

# --- 3. the README ----------------------------------------------------------------
status=0
log "as $U: ./install.sh"
if as_user install.log "cd gimp-pix2pix && timeout 2400 ./install.sh"; then
  t2=$(date +%s)
  log "install.sh succeeded in $((t2 - t1)) s; its last lines:"
  tail -n 6 "$ROOT/tmp/install.log" | sed 's/^/  /'
  grep -q 'Installed the plug-in for GIMP 3.0' "$ROOT/tmp/install.log" ||
    { log "install.sh did not say it installed for GIMP 3.0"; status=1; }
else
  t2=$(date +%s)
  log "install.sh FAILED after $((t2 - t1)) s:"
  tail -n 40 "$ROOT/tmp/install.log" | sed 's/^/  /'
  status=1
fi

log "as $U: ./run-tests.sh"
if as_user run-tests.log "cd gimp-pix2pix && timeout 3000 ./run-tests.sh"; then
  t3=$(date +%s)
  log "run-tests.sh succeeded in $((t3 - t2)) s"
else
  t3=$(date +%s)
  log "run-tests.sh FAILED after $((t3 - t2)) s"
  status=1
fi
# Its per-stage summaries and failures (the whole log is in P2P_ARTIFACTS).
grep -E '^(=== |not ok|[0-9]+ passed|Ok:|Fail:|Skipped:|Timeout:)| FAIL | TIMEOUT ' "$ROOT/tmp/run-tests.log" |
  sed 's/^/  /'
if [ $status != 0 ]; then
  # What each failed test printed (meson's --print-errorlogs blocks: the
  # command line, then the output between scissors lines), its last 60
  # lines each: the summary alone does not say why a test failed.
  awk '/^>>> / { print substr($0, 1, 200); next }
       /✀/ { inblk = 1; n = 0; delete buf; next }
       inblk && /^(―)+$/ { s = n > 60 ? n - 60 : 0
                           if (s) print "[" s " lines left out]"
                           for (i = s + 1; i <= n; i++) print buf[i]
                           inblk = 0; next }
       inblk { buf[++n] = $0 }' "$ROOT/tmp/run-tests.log" | head -n 600 | sed 's/^/  ! /'
  tail -n 60 "$ROOT/tmp/run-tests.log" | sed 's/^/  | /'
fi
log "total $(($(date +%s) - t0)) s"
exit $status
