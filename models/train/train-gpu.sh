#!/bin/bash
# Train both bundled models at once on one CUDA GPU for a fixed time (e.g. a borrowed GPU machine).
#
#   models/train/train-gpu.sh MINUTES OUTDIR [train.py args for both runs]
#
# Each run makes its samples on the fly in DataLoader worker processes (train.py --workers:
# colorize crops as on the CPU, sketches drawn live from the photos), so only the photo pack
# (models/dataset/work/photos/) and the paper textures (work/unpacked/mypaint-data-extras/) need
# to be on the machine.  Batch 16; the learning rate decays linearly to 0 over the last 30 % of
# the time.  Writes OUTDIR/<task>.safetensors (exported every 2 minutes and at the end),
# OUTDIR/<task>.log and OUTDIR/state-<task>/ (full training state, for a later resume).
# If a run dies in its first three minutes the other is stopped at once, so that a broken set-up
# wastes little of the borrowed time.
#
# Environment: PYTHON (default python3), DEVICE (cuda), COLORIZE_WORKERS (5), SKETCH_WORKERS (10),
# COLORIZE_ARGS / SKETCH_ARGS (extra train.py arguments for one run).
set -u
MIN=${1:?usage: train-gpu.sh MINUTES OUTDIR [train.py args]}
OUT=${2:?usage: train-gpu.sh MINUTES OUTDIR [train.py args]}
shift 2
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PYTHON:-python3}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)   # absolute: the runs start in the repository root
cd "$REPO"
# One thread per process: the workers are the parallelism; numpy's BLAS must not oversubscribe.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONUNBUFFERED=1

run() { # task workers extra-args...
    local task=$1 workers=$2
    shift 2
    "$PY" -m models.train.train --task "$task" --device "${DEVICE:-cuda}" --workers "$workers" --sketch-source live \
        --batch "${BATCH:-16}" --max-minutes "$MIN" --decay-fraction 0.3 --ckpt-minutes 2 \
        --threads 1 --state "$OUT/state-$task" --export "$OUT/$task.safetensors" "$@" \
        > "$OUT/$task.log" 2>&1
}

# shellcheck disable=SC2086
run colorize "${COLORIZE_WORKERS:-5}" ${COLORIZE_ARGS:-} "$@" &
pc=$!
# shellcheck disable=SC2086
run sketch-to-photo "${SKETCH_WORKERS:-10}" ${SKETCH_ARGS:-} "$@" &
ps=$!
t0=$(date +%s)
declare -A done_rc=()
while [ ${#done_rc[@]} -lt 2 ]; do
    sleep 5
    for p in $pc $ps; do
        [ -n "${done_rc[$p]:-}" ] && continue
        kill -0 "$p" 2>/dev/null && continue
        wait "$p"
        done_rc[$p]=$?
        if [ "${done_rc[$p]}" != 0 ] && [ $(( $(date +%s) - t0 )) -lt 180 ]; then
            echo "train-gpu.sh: a run failed early (rc ${done_rc[$p]}); stopping the other" >&2
            kill $pc $ps 2>/dev/null
            wait
            tail -n 30 "$OUT"/*.log >&2
            exit 1
        fi
    done
    # A progress line each minute.
    if [ $(( ($(date +%s) - t0) % 60 )) -lt 5 ]; then
        for t in colorize sketch-to-photo; do
            echo "[$(( $(date +%s) - t0 )) s] $t: $(grep ' step ' "$OUT/$t.log" | tail -n 1)"
        done
    fi
done
echo "train-gpu.sh: colorize rc ${done_rc[$pc]}, sketch-to-photo rc ${done_rc[$ps]}"
[ "${done_rc[$pc]}" = 0 ] && [ "${done_rc[$ps]}" = 0 ]
