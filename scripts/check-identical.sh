#!/bin/sh
# check-identical.sh - proves that a change left every pix2pix-cli output
# byte-identical (refactors must): builds pix2pix-cli at BASE (a commit,
# default HEAD) in a temporary worktree and in the current tree, runs both
# over the same fixed set of inputs, and compares every output file and
# every `info` text with cmp.
#
#   scripts/check-identical.sh [BASE]
#
# The set: the two bundled models, a U-Net and a ResNet loaded straight
# from .pth, and a one-channel colorize .pth; RGB, RGBA, grey, grey+alpha
# and a line drawing (tests/data/identity/, 203x141: no size a net takes as
# it is); resize (native and --net-size 200), whole, and tile mode with
# 128-pixel tiles (several tiles and a ragged edge).
# Exit status 0 when all outputs are identical, 1 otherwise.
set -eu
cd "$(dirname "$0")/.."
SRC=$(pwd)
BASE=${1:-HEAD}
WORK=$(mktemp -d)
trap 'git -C "$SRC" worktree remove --force "$WORK/base" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT INT TERM

build() {  # build SOURCE_DIR BUILD_DIR -> path of pix2pix-cli
  meson setup "$2" "$1" -Dplugin=false -Dnls=false >/dev/null
  meson compile -C "$2" >/dev/null
  for p in "$2/cli/pix2pix-cli" "$2/core/pix2pix-cli"; do
    [ -x "$p" ] && { echo "$p"; return; }
  done
  echo "check-identical: no pix2pix-cli in $2" >&2
  exit 1
}

outputs() {  # outputs CLI OUTDIR
  cli=$1 out=$2
  mkdir -p "$out"
  D=tests/data/identity
  P=tests/data/pth
  for m in models/colorize.safetensors models/sketch-to-photo.safetensors \
           $P/unet128_batch_module.zip.pth $P/resnet6_instance_f16.zip.pth \
           $P/unet128_none_colorize.zip.pth; do
    mn=$(basename "$m")
    "$cli" info "$m" > "$out/$mn.info" 2>&1 || echo "exit $?" >> "$out/$mn.info"
    for i in rgb rgba grey grey-alpha sketch; do
      for mode in resize resize200 whole tile; do
        case $mode in
          resize) opts="--size-mode resize" ;;
          resize200) opts="--size-mode resize --net-size 200" ;;
          whole) opts="--size-mode whole" ;;
          tile) opts="--size-mode tile --tile-size 128" ;;
        esac
        # shellcheck disable=SC2086
        "$cli" run --model "$m" $opts --threads 2 "$D/$i.png" "$out/$mn-$i-$mode.png" \
          > "$out/$mn-$i-$mode.log" 2>&1 || echo "exit $?" >> "$out/$mn-$i-$mode.log"
      done
    done
  done
}

git -C "$SRC" worktree add --detach "$WORK/base" "$BASE" >/dev/null 2>&1
echo "check-identical: building $BASE and the working tree"
base_cli=$(build "$WORK/base" "$WORK/build-base")
new_cli=$(build "$SRC" "$WORK/build-new")
outputs "$base_cli" "$WORK/out-base"
outputs "$new_cli" "$WORK/out-new"

n=0 bad=0
for f in "$WORK/out-base"/*; do
  n=$((n + 1))
  g="$WORK/out-new/$(basename "$f")"
  if ! cmp -s "$f" "$g"; then
    echo "DIFFERS: $(basename "$f")"
    bad=$((bad + 1))
  fi
done
[ "$(ls "$WORK/out-new" | wc -l)" -eq "$n" ] || { echo "the file sets differ"; bad=$((bad + 1)); }
echo "check-identical: $n files compared ($(ls "$WORK/out-base"/*.png | wc -l) images), $bad differ"
[ "$bad" -eq 0 ]
