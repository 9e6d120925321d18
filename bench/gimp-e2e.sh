#!/bin/sh
# End-to-end cost of the GIMP 2.10 plug-in against the engine's own time (issue 5: the plug-in's
# run on a 1024x1024 layer may cost at most 1.3x the engine's time for the same work).
#
#   bench/gimp-e2e.sh [BUILD_DIR] [MODEL] [SIZE] [REPS]
#
# Needs GIMP 2.10 with the plug-in installed (plugin/install-user.sh) and a build of pix2pix-cli.
# For each repetition, interleaved:
#   gimp_with     gimp-console-2.10 batch: new SIZExSIZE image + plug-in-pix2pix-sketch-to-photo
#                 (size mode "whole", default model unless MODEL is given)
#   gimp_without  the same batch without the filter call (GIMP's start-up and exit)
#   cli_run       pix2pix-cli run --size-mode whole on a SIZExSIZE PNG (engine + PNG I/O)
# and prints the medians, the filter's cost in GIMP (with - without) and its ratio to cli_run.
# `pix2pix-cli bench` at SIZE gives the network alone, for reference.
set -eu
BUILD=${1:-build}
MODEL=${2:-}
SIZE=${3:-1024}
REPS=${4:-5}
CLI=$BUILD/cli/pix2pix-cli
GIMP=${GIMP:-gimp-console-2.10}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
HERE=$(cd "$(dirname "$0")" && pwd)
[ -n "$MODEL" ] || MODEL=$HERE/../models/sketch-to-photo.safetensors

# The same picture for both: the bundled sketch example at SIZE.
/usr/bin/python3 - "$HERE/../models/examples" "$TMP/in.png" "$SIZE" <<'PY'
import os, sys
from PIL import Image
d, out, s = sys.argv[1], sys.argv[2], int(sys.argv[3])
f = sorted(x for x in os.listdir(d) if "sketch" in x)[0]
Image.open(os.path.join(d, f)).convert("RGB").resize((s, s), Image.BICUBIC).save(out)
PY

batch() { # with|without
    call=""
    [ "$1" = with ] && call="(plug-in-pix2pix-sketch-to-photo RUN-NONINTERACTIVE img layer \"$MODEL\" 1 0 0 0)"
    "$GIMP" -i -d -f -b "(let* ((img (car (gimp-file-load RUN-NONINTERACTIVE \"$TMP/in.png\" \"in.png\")))
                                (layer (car (gimp-image-get-active-layer img))))
                           $call (gimp-image-delete img))" -b '(gimp-quit 0)' > "$TMP/gimp.log" 2>&1
    if grep -q "execution error" "$TMP/gimp.log"; then cat "$TMP/gimp.log" >&2; exit 1; fi
}
now() { date +%s.%N; }
: > "$TMP/times"
for r in $(seq "$REPS"); do
    for what in with without cli; do
        t0=$(now)
        case $what in
            cli) "$CLI" run -m "$MODEL" --size-mode whole "$TMP/in.png" "$TMP/out.png" ;;
            *) batch "$what" ;;
        esac
        echo "$what $(awk "BEGIN { print $(now) - $t0 }")" >> "$TMP/times"
    done
done
net=$("$CLI" bench -m "$MODEL" -s "${SIZE}x$SIZE" -n 3 2>&1 | grep median)
/usr/bin/python3 - "$TMP/times" "$SIZE" "$REPS" "$net" <<'PY'
import statistics, sys
t = {}
for ln in open(sys.argv[1]):
    k, v = ln.split()
    t.setdefault(k, []).append(float(v))
m = {k: statistics.median(v) for k, v in t.items()}
filt = m["with"] - m["without"]
print("GIMP 2.10 end to end, %sx%s layer, size mode whole, %s reps (medians, s):" % (sys.argv[2], sys.argv[2], sys.argv[3]))
print("  gimp batch with the filter    %.2f   (runs: %s)" % (m["with"], " ".join("%.2f" % x for x in t["with"])))
print("  gimp batch without the filter %.2f   (runs: %s)" % (m["without"], " ".join("%.2f" % x for x in t["without"])))
print("  filter in GIMP (difference)   %.2f" % filt)
print("  pix2pix-cli run (engine+PNG)  %.2f   (runs: %s)" % (m["cli"], " ".join("%.2f" % x for x in t["cli"])))
print("  ratio filter-in-GIMP / cli    %.2fx  (target <= 1.3x)" % (filt / m["cli"]))
print("  pix2pix-cli bench (net only): %s" % sys.argv[4])
PY
