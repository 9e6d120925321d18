#!/bin/sh
# Start (or resume) one training run in the background, detached from this shell.
#
#   models/train/start.sh colorize [extra train.py args]
#   models/train/start.sh sketch-to-photo [extra train.py args]
#
# State folder: $P2P_STATE_ROOT/<task>, default /var/lib/gimp-pix2pix-train/<task>; the run resumes
# from its checkpoint.pt when it exists.  It runs
# niced with passive OpenMP waiting so that it yields the 2 cores to interactive work.  Its
# stdout/stderr go to <state>/stdout.log, its PID to <state>/pid.
set -eu
TASK=${1:?usage: start.sh colorize|sketch-to-photo [train.py args]}
shift
REPO=$(cd "$(dirname "$0")/../.." && pwd)
STATE=${P2P_STATE_ROOT:-/var/lib/gimp-pix2pix-train}/$TASK
mkdir -p "$STATE"
if [ -f "$STATE/pid" ] && kill -0 "$(cat "$STATE/pid")" 2>/dev/null; then
    echo "start.sh: $TASK is already running (PID $(cat "$STATE/pid"))" >&2
    exit 1
fi
# train.py is a module of the models package: run it from the repository root.
cd "$REPO"
OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=${THREADS:-2} \
    setsid nohup nice -n 19 /usr/bin/python3 -m models.train.train --task "$TASK" \
    --state "$STATE" --threads "${THREADS:-2}" "$@" >> "$STATE/stdout.log" 2>&1 < /dev/null &
echo $! > "$STATE/pid"
echo "started $TASK: PID $(cat "$STATE/pid"), log $STATE/train.log"
