#!/bin/sh
# Print where each training run stands: running or not, last logged step and losses, last
# checkpoint (with the validation L1 on eval_in crops) and the exported model.
#   models/train/status.sh [STATE_ROOT]
ROOT=${1:-${P2P_STATE_ROOT:-/var/lib/gimp-pix2pix-train}}
for d in "$ROOT"/*/; do
    [ -f "$d/train.log" ] || continue
    task=$(basename "$d")
    pid=$(cat "$d/pid" 2>/dev/null || echo "")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        run="running, PID $pid"
    else
        run="not running"
    fi
    echo "== $task ($run), state $d"
    grep ' step [0-9]* epoch ' "$d/train.log" | tail -n 1
    grep ' checkpoint step ' "$d/train.log" | tail -n 1
    grep -E ' (resumed|fresh start|G initialised|stopped)' "$d/train.log" | tail -n 1
    [ -f "$d/status.json" ] && cat "$d/status.json" && echo
done
