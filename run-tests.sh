#!/bin/sh
# run-tests.sh - the whole test suite, from a fresh Debian/Ubuntu machine:
# installs what the tests need (apt-get; sudo when not root), builds, and
# runs every meson test suite.  Idempotent and quick when all is in place.
set -eu
cd "$(dirname "$0")"
. scripts/deps.sh

p2p_install_deps build
p2p_install_deps gimp
p2p_install_deps test

BUILD=${P2P_TEST_BUILDDIR:-_build-tests}
if [ -f "$BUILD/build.ninja" ]; then
  meson setup --reconfigure "$BUILD" >/dev/null
else
  meson setup "$BUILD"
fi
meson compile -C "$BUILD"

status=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
meson test -C "$BUILD" --print-errorlogs --num-processes 2 2>&1 | tee "$out" || true
# meson's exit status is lost in the pipe: recompute it from its summary.
ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$out" | tail -n 1)
fail=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$out" | tail -n 1)
timeout=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' "$out" | tail -n 1)
skipped=$(sed -n 's/^Skipped: *\([0-9]*\).*/\1/p' "$out" | tail -n 1)
ok=${ok:-0}; fail=$(( ${fail:-1} + ${timeout:-0} )); skipped=${skipped:-0}
[ "$ok" -gt 0 ] && [ "$fail" -eq 0 ] || status=1
echo
echo "$ok passed, $fail failed, $skipped skipped"
exit $status
