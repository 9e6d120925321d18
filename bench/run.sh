#!/bin/bash
# bench/run.sh [--quick] [--runs N] - our engine vs PyTorch vs ONNX Runtime, same machine, same run.
#
# Installs what is missing (Debian packages; onnxruntime-node into bench/node_modules from the
# committed package-lock.json), builds pix2pix-cli into build-bench/, creates random-weight test
# networks in bench/cache/ (outside git), measures this CPU's clock and FMA peak, then times
# unet_256 (256, 512, 1024) and resnet_9blocks (256, 512) with 1 and 2 threads and prints a
# Markdown table (also saved as bench/cache/latest.md).  --quick: the 256 rows only, 2 runs each.
#
# Priority: the machine is shared.  With the kernel's autogroup scheduling (the default on
# desktop-style kernels) a process's nice value only counts inside its own session, so the
# timings run in a session of their own whose autogroup nice is BENCH_NICE (default -10) and at
# nice -5 inside it.  Both need root or CAP_SYS_NICE; without them the run goes on at normal
# priority and the output says so.
#
# Speed goals are never asserted here or in meson tests: this prints figures, nothing fails on
# them.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CACHE=${BENCH_CACHE:-$HERE/cache}
BUILD=${BENCH_BUILD:-$ROOT/build-bench}
BENCH_NICE=${BENCH_NICE:--10}

say() { echo "run.sh: $*" >&2; }
die() { echo "run.sh: $*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root to run: $*"
  fi
}

apt_install() {
  say "installing $* (apt-get)"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2; then
    as_root apt-get update >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2
  fi
}

deb_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
deb_available() { apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [0-9]'; }

# ---- dependencies ----------------------------------------------------------
need=()
/usr/bin/python3 -c 'import torch' 2>/dev/null || need+=(python3-torch)
/usr/bin/python3 -c 'import numpy' 2>/dev/null || need+=(python3-numpy)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
command -v meson >/dev/null || need+=(meson)
command -v ninja >/dev/null || need+=(ninja-build)
command -v cc >/dev/null || need+=(gcc)
pkg-config --exists glib-2.0 2>/dev/null || need+=(libglib2.0-dev)
[ -e /usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h ] || [ -e /usr/include/cblas.h ] ||
  deb_installed libopenblas-dev || need+=(libopenblas-dev)
if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi
# python3-onnx is optional (a structural check of the exported files); Debian 12 has it.
if ! /usr/bin/python3 -c 'import onnx' 2>/dev/null && deb_available python3-onnx; then
  apt_install python3-onnx || say "python3-onnx not installed; ONNX files are not checked"
fi

if [ ! -e "$HERE/node_modules/onnxruntime-node/package.json" ]; then
  say "installing onnxruntime-node into bench/node_modules (npm ci)"
  # The CPU build is bundled in the package; its install script would only fetch CUDA
  # binaries from another feed (see bench/.npmrc).
  (cd "$HERE" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund >&2)
fi

# ---- build -----------------------------------------------------------------
if [ ! -e "$BUILD/build.ninja" ]; then
  say "configuring $BUILD"
  (cd "$ROOT" && nice -n 19 meson setup "$BUILD" -Dplugin=false -Dnls=false \
     --buildtype=release >&2)
fi
say "building pix2pix-cli"
nice -n 19 ninja -j2 -C "$BUILD" cli/pix2pix-cli >&2
CLI=$BUILD/cli/pix2pix-cli
[ -x "$CLI" ] || die "no $CLI after the build"

mkdir -p "$CACHE"
if [ ! -x "$CACHE/peak" ] || [ "$HERE/peak.c" -nt "$CACHE/peak" ]; then
  cc -O2 -march=native -pthread -Wall -Wextra "$HERE/peak.c" -o "$CACHE/peak"
fi

say "creating test networks in $CACHE (first time: about a minute)"
nice -n 19 /usr/bin/python3 -W ignore "$HERE/make_models.py" "$CACHE" >&2

# ---- timings ---------------------------------------------------------------
say "timing (load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
export BENCH_NICE
setsid -w bash -c '
  echo "$BENCH_NICE" > /proc/self/autogroup 2>/dev/null ||
    echo "run.sh: could not set the autogroup nice (not root?): normal priority" >&2
  if nice -n -5 true 2>/dev/null; then n="nice -n -5"; else n=; fi
  exec $n /usr/bin/python3 "$0" "$@"
' "$HERE/bench.py" --cli "$CLI" --cache "$CACHE" --peak "$CACHE/peak" \
    --out "$CACHE/latest.md" "$@"
