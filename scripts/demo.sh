#!/bin/sh
# demo.sh OUTDIR - runs both filters through GIMP in batch mode on the
# example images (models/examples/), with the installed plug-in and its
# bundled models, and writes the results into OUTDIR.
#
# GIMP_CONSOLE: gimp-console-2.10 or gimp-console-3.0 (default: whichever
# is installed, 3.0 first).  Batch GIMP can exit 0 after a failed command,
# so success is judged by the files written.  GIMP runs with a throw-away
# profile: the user's own must be made by the user's first GIMP start (its
# first-run set-up and the import of GIMP 2.10 settings happen only then).
set -eu
cd "$(dirname "$0")/.."

OUT=${1:-demo-output}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
EX=$(pwd)/models/examples

if [ -z "${GIMP_CONSOLE:-}" ]; then
  if command -v gimp-console-3.0 >/dev/null 2>&1; then GIMP_CONSOLE=gimp-console-3.0
  elif command -v gimp-console-2.10 >/dev/null 2>&1; then GIMP_CONSOLE=gimp-console-2.10
  else echo "demo.sh: GIMP is not installed" >&2; exit 1; fi
fi

PROFILE=$(mktemp -d "${TMPDIR:-/tmp}/p2p-demo-profile.XXXXXX")
trap 'rm -rf "$PROFILE"' EXIT
GIMP2_DIRECTORY=$PROFILE/gimp2 GIMP3_DIRECTORY=$PROFILE/gimp3
export GIMP2_DIRECTORY GIMP3_DIRECTORY

batch() {  # batch PATTERN FILTER
  call="(pix2pix-batch \"$1\" \"$OUT\" \"$2\" \"\" \"resize\" \"official\" 0 1.0)"
  case "$GIMP_CONSOLE" in
    *3.0*) timeout 600 "$GIMP_CONSOLE" -i --quit --batch-interpreter=plug-in-script-fu-eval -b "$call" ;;
    *)     timeout 600 "$GIMP_CONSOLE" -i -b "$call" -b '(gimp-quit 0)' ;;
  esac
}

rm -f "$OUT/lake-sherburne-grey.png" "$OUT/lake-sherburne-sketch.png" \
  "$OUT/lake-sherburne-coloured-sketch.png"
echo "Demo: Auto Colorize and Sketch to Photo through $GIMP_CONSOLE ..."
batch "$EX/lake-sherburne-grey.jpg" colorize > "$OUT/gimp-colorize.log" 2>&1 || true
# the line drawing, and the same drawing with its regions filled in colour
batch "$EX/lake-sherburne*sketch.png" sketch-to-photo > "$OUT/gimp-sketch.log" 2>&1 || true

status=0
for f in lake-sherburne-grey.png lake-sherburne-sketch.png lake-sherburne-coloured-sketch.png; do
  if [ -s "$OUT/$f" ]; then
    echo "  wrote $OUT/$f"
  else
    echo "demo.sh: GIMP did not write $OUT/$f; see $OUT/gimp-*.log" >&2
    status=1
  fi
done
exit $status
