#!/bin/sh
# run-tests.sh - the whole test suite, from a fresh Debian/Ubuntu machine:
# installs what the tests need (apt-get; sudo when not root), builds, and
# runs every meson test suite three ways:
#   1. normal build: core unit/golden tests, CLI tests, headless GIMP tests;
#   2. the core suite under valgrind memcheck (no errors, no definite leaks);
#   3. the core suite built with AddressSanitizer + UndefinedBehaviorSanitizer;
#   3b. a short libFuzzer run of each fuzz target (clang; suite fuzz);
#   4. install.sh leaves the user's GIMP profile to GIMP (and GIMP 3
#      imports GIMP 2.10 settings after it): tests/install-profile-test.sh
#      (runs ./install.sh in throw-away HOMEs);
#   5. where the host has no GIMP 3 (Debian 12): this README's two commands,
#      ./install.sh and ./run-tests.sh, as a user on a fresh Debian 13
#      system (GIMP 3.0) in a chroot: tests/debian13-readme.sh (needs root;
#      its base system is cached).
# Idempotent and quick when everything is already in place.
set -eu
cd "$(dirname "$0")"
. scripts/deps.sh

p2p_install_deps build
p2p_install_deps gimp
p2p_install_deps test

setup() {  # setup BUILDDIR [meson options...]
  dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@"
  fi
  meson compile -C "$dir"
}

total_ok=0 total_fail=0 total_skip=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# run_tests LABEL BUILDDIR [meson test options...]: runs, prints, counts.
run_tests() {
  label=$1 dir=$2; shift 2
  echo "=== $label"
  meson test -C "$dir" --print-errorlogs --num-processes 2 "$@" > "$out" 2>&1 || true
  cat "$out"
  ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$out" | tail -n 1)
  fail=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$out" | tail -n 1)
  tmo=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' "$out" | tail -n 1)
  skip=$(sed -n 's/^Skipped: *\([0-9]*\).*/\1/p' "$out" | tail -n 1)
  # No summary at all means meson itself failed: count it as a failure.
  [ -n "$ok" ] || fail=1
  total_ok=$((total_ok + ${ok:-0}))
  total_fail=$((total_fail + ${fail:-0} + ${tmo:-0}))
  total_skip=$((total_skip + ${skip:-0}))
}

BUILD=${P2P_TEST_BUILDDIR:-_build-tests}
setup "$BUILD"
run_tests "all suites" "$BUILD"
# Shell-script tests are left out: valgrind would check the shell.
run_tests "core under valgrind" "$BUILD" --setup valgrind --suite core --no-suite cli

setup "$BUILD-asan" -Dplugin=false -Dnls=false -Db_sanitize=address,undefined -Db_lundef=false
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
run_tests "core with ASan+UBSan" "$BUILD-asan" --suite core

# libFuzzer smoke runs (suite fuzz, 20 s per target): a clang build of the
# fuzz targets; without clang's libFuzzer the suite reports itself skipped.
if p2p_install_deps fuzz && command -v clang >/dev/null 2>&1; then
  (CC=clang; export CC; setup "$BUILD-fuzz" -Dplugin=false -Dnls=false -Dfuzzing=auto)
  run_tests "fuzz smoke (libFuzzer)" "$BUILD-fuzz" --suite fuzz
else
  echo "=== fuzz smoke: skipped (clang and libFuzzer could not be installed)"
  total_skip=$((total_skip + 1))
fi

# The profile tests (TAP): count their ok / not ok lines.
echo "=== install.sh and the GIMP profile"
sh tests/install-profile-test.sh > "$out" 2>&1 || true
cat "$out"
ok=$(grep -c '^ok ' "$out" || true)
fail=$(grep -c '^not ok ' "$out" || true)
grep -q '^1\.\.[0-9]' "$out" || fail=$((fail + 1))   # ended early
total_ok=$((total_ok + ok))
total_fail=$((total_fail + fail))

# GIMP 3.0 and Debian 13: the host's meson run above covered GIMP 3 if the
# host has it; otherwise the README on a fresh Debian 13 system, which runs
# this script there (GIMP 3 plug-in suite, GUI tests: screenshot, undo,
# cancel; profile and migration tests).
if ! pkg-config --exists gimp-3.0 && [ "${P2P_SKIP_GIMP3:-0}" != 1 ]; then
  echo "=== Debian 13 (GIMP 3.0): ./install.sh and ./run-tests.sh as a user on a fresh system"
  if p2p_as_root sh tests/debian13-readme.sh; then
    total_ok=$((total_ok + 1))
  else
    echo "Debian 13 stage FAILED"
    total_fail=$((total_fail + 1))
  fi
fi

echo
echo "$total_ok passed, $total_fail failed, $total_skip skipped"
[ "$total_ok" -gt 0 ] && [ "$total_fail" -eq 0 ]
