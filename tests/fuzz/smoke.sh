#!/bin/sh
# smoke.sh FUZZER SEED_DIR DICT MAX_LEN SECONDS - a short libFuzzer run
# (meson suite 'fuzz').  New inputs go to a temporary folder, never into the
# seed corpus; a crash leaves its input in the current folder (the build
# folder under meson) as crash-*, leak-* or timeout-*.
# Without arguments: the fuzz targets were not built; exit 77 (skipped).
if [ $# -eq 0 ]; then
  echo "fuzz targets not built (configure a clang build with -Dfuzzing=enabled)"
  exit 77
fi
fuzzer=$1 seeds=$2 dict=$3 max_len=$4 seconds=$5
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
# One BLAS thread: the fuzzer runs one input at a time anyway.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
set -- -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1
[ -n "$dict" ] && set -- "$@" -dict="$dict"
"$fuzzer" "$@" "$work" "$seeds"
