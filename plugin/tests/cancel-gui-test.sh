#!/bin/sh
# cancel-gui-test.sh - "cancel during a run leaves the image exactly as it
# was" in a real GIMP (2.10 or 3.0) on a virtual X server.
#
# The cancel is GIMP's own, pressed as a user would: GIMP shows a
# plug-in's progress with a Cancel button, and cancelling makes GIMP end
# the plug-in process and return GIMP_PDB_CANCEL to the caller.  Nothing in
# the plug-in or the core is there for the test.
#   * GIMP 2.10: a plug-in called from a batch command with no image window
#     gets GIMP's "Progress" dialog; Escape in it cancels.
#   * GIMP 3.0: the progress is shown in the (empty) image window's status
#     bar, with a Cancel button that takes no keyboard focus.  The button
#     is found as what appeared at the right end of the status bar between
#     a screenshot before the call and one during it (p2p-png-compare
#     newbox), and clicked.
# Steps:
#   1. The batch command makes a 4096x4096 image (the test picture scaled
#      up), keeps a duplicate for the pixel check, marks the image clean and
#      runs Auto Colorize on it at network size 3072 (the filter offers
#      resize mode only; about 220 * 10^9 multiply-adds, 1.6 GB: about as
#      long as the tile-mode run this test used before, whose network
#      started after 0.7 s of the plug-in's CPU time and ended after 9.7 s).
#   2. This script waits until the plug-in process has used
#      P2P_CANCEL_AFTER_CPU seconds of CPU (default 1: the model is loaded
#      and the run under way, with most of the work still to do), then
#      cancels at once.  (With 2 s and a second's pause before the click, a
#      CI machine faster than this one had finished the network when the
#      click came: the plug-in was ended while copying the result into the
#      image, which then kept a half-written layer - since then the layer
#      goes into the image only with its pixels.)
#   3. The Script-Fu side reports what the call returned ("false": Script-Fu
#      gives (#f) for a call that ended with GIMP_PDB_CANCEL; an error would
#      raise, a finished run gives the layer) and checks: no new layer, the
#      image still clean (no undo step, nothing changed), the source
#      layer's pixels equal the duplicate's (difference layer: histogram
#      mean 0 over all pixels).
# The shell also checks that the plug-in process was gone within 10 s of
# the cancel (GIMP ended it; it did not run to its end).  TAP output.
# Needs Xvfb and xdotool.
#
#   cancel-gui-test.sh 2|3 PLUGIN_EXE COMPARE_EXE [SHOT.png]
# COMPARE_EXE: p2p-png-compare (screenshots).  The screen at the moment of
# the cancel is saved as SHOT.png (default cancel-gimpV.png), an artifact.
# P2P_CANCEL_KEY=shift (2.10) or P2P_CANCEL_CLICK=0 (3.0): no cancel; see
# the test fail.
set -u

GIMPV=$1
PLUGIN=$(readlink -f "$2")
COMPARE=$(readlink -f "$3")
SHOT=${4:-cancel-gimp$GIMPV.png}
HERE=$(dirname "$(readlink -f "$0")")
SRC=${P2P_SRC:-$(readlink -f "$HERE/../..")}
SIDE=${P2P_CANCEL_SIZE:-4096}
CPU_LIMIT=${P2P_CANCEL_AFTER_CPU:-1}

. "$HERE/gui-env.sh"
p2p_gui_setup "$GIMPV" "$PLUGIN" cancel

N=0
FAILED=0
ok()     { N=$((N + 1)); echo "ok $N - $*"; }
not_ok() { N=$((N + 1)); FAILED=$((FAILED + 1)); echo "not ok $N - $*"; }
bail()   { not_ok "$*"; sed 's/^/#   /' "$T/gimp.log"; echo "1..$N"; exit 1; }
wait_log() {  # wait_log PATTERN TENTHS
  j=0
  while [ $j -lt "$2" ] && ! grep -q "$1" "$T/gimp.log"; do sleep 0.1; j=$((j + 1)); done
  grep -q "$1" "$T/gimp.log"
}
screenshot() { "$COMPARE" xwd2png "$T/fb/Xvfb_screen0" "$1" > /dev/null; }

GO=$T/go
if [ "$GIMPV" = 2 ]; then
  CALL="(plug-in-pix2pix-colorize RUN-NONINTERACTIVE img layer \"\" 0 0 0 1.0 3072 -1)"
  # 2.10 needs no screenshot before the call: go at once.
  : > "$GO"
else
  # The welcome dialog would cover the image window's status bar.
  echo '(show-welcome-dialog no)' >> "$G/gimprc"
  CALL="(plug-in-pix2pix-colorize #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector layer) #:size-mode \"resize\" #:net-size 3072)"
fi

# The call waits for $GO (GIMP 3: until the "before" screenshot is taken;
# open-input-file gives #f while the file does not exist).  The source
# layer is compared with the duplicate's through a difference layer.
EXPR="(let* ((img $LOAD)
             (layer $ACTIVE))
        (gimp-message-set-handler CONSOLE)
        (gimp-image-scale img $SIDE $SIDE)
        (let* ((ref (car (gimp-image-duplicate img)))
               (n0 $COUNT)
               (result #f))
          (gimp-image-clean-all img)
          (gimp-message \"CANCEL-READY\")
          (let loop ((i 0))
            (let ((port (open-input-file \"$GO\")))
              (if port
                  (close-input-port port)
                  (if (< i 1000000)
                      (begin (gimp-displays-flush) (loop (+ i 1)))))))
          (gimp-message \"CANCEL-STARTING\")
          (set! result (catch 'p2p-error $CALL))
          (gimp-message (string-append \"CANCEL-RETURNED \"
                                       (cond ((eq? result 'p2p-error) \"error\")
                                             ((null? result) \"empty\")
                                             ((eq? (car result) #f) \"false\")
                                             ((number? (car result)) \"layer\")
                                             (else \"other\"))))
          (gimp-message (string-append \"CANCEL-LAYERS \" (number->string $COUNT)
                                       \" expected \" (number->string n0)))
          (gimp-message (string-append \"CANCEL-DIRTY \" (number->string $DIRTY)))
          (let ((copy (car (gimp-layer-new-from-drawable layer ref))))
            (gimp-image-insert-layer ref copy 0 0)
            (gimp-layer-set-mode copy LAYER-MODE-DIFFERENCE)
            (let* ((diff (car (gimp-image-merge-down ref copy CLIP-TO-BOTTOM-LAYER)))
                   (hist (gimp-drawable-histogram diff HISTOGRAM-VALUE 0.0 1.0)))
              (gimp-message (string-append \"CANCEL-DIFF mean \" (number->string (car hist))
                                           \" pixels \" (number->string (list-ref hist 3))))))
          (gimp-message \"CANCEL-DONE\")
          (gimp-quit 1)))"

p2p_gui_start_x

# shellcheck disable=SC2086
"$GIMP" $GIMP_BATCH_ARGS -b "$EXPR" > "$T/gimp.log" 2>&1 &
GPID=$!

wait_log 'CANCEL-READY' 1800 || bail "the batch command made the image"
if [ "$GIMPV" = 3 ]; then
  # GIMP 3 maps its window well after the batch command started: wait for
  # it, let it draw, take the "before" screenshot, then let the call go.
  WID=""
  i=0
  while [ $i -lt 90 ] && [ -z "$WID" ]; do
    WID=$(xdotool search --onlyvisible --name 'GNU Image Manipulation Program' 2>/dev/null | head -1)
    [ -n "$WID" ] || { sleep 1; i=$((i + 1)); }
  done
  [ -n "$WID" ] || bail "GIMP's main window appeared"
  sleep 5
  screenshot "$T/before.png" || bail "screenshot before the call"
  : > "$GO"
fi

# The plug-in process: a child of GIMP named after the plug-in, once the
# call has started (GIMP's start-up queries the plug-in too, in a
# short-lived process of the same name).
wait_log 'CANCEL-STARTING' 600 || bail "the batch command started the call"
PLUGIN_PID=""
i=0
while [ $i -lt 1800 ] && [ -z "$PLUGIN_PID" ]; do
  PLUGIN_PID=$(ps --ppid "$GPID" -o pid=,comm= 2>/dev/null | awk -v n="$NAME" '$2 == n { print $1; exit }')
  [ -n "$PLUGIN_PID" ] || { sleep 0.1; i=$((i + 1)); }
done
[ -n "$PLUGIN_PID" ] || bail "the plug-in started"
ok "the plug-in started (pid $PLUGIN_PID)"

# CPU seconds used by a process (utime + stime, in clock ticks).
TICKS=$(getconf CLK_TCK)
cpu_s() { awk -v t="$TICKS" '{ sub(/^.*\) /, ""); print int(($12 + $13) / t) }' "/proc/$1/stat" 2>/dev/null; }
running() { [ -d "/proc/$1" ] && ! grep -q '^[0-9]* (.*) Z ' "/proc/$1/stat" 2>/dev/null; }

i=0
while [ $i -lt 1200 ] && running "$PLUGIN_PID"; do
  [ "$(cpu_s "$PLUGIN_PID")" -ge "$CPU_LIMIT" ] && break
  sleep 0.1; i=$((i + 1))
done
running "$PLUGIN_PID" || bail "the plug-in was still running after $CPU_LIMIT s of CPU"
ok "the plug-in is running ($(cpu_s "$PLUGIN_PID") s of CPU used)"

if [ "$GIMPV" = 2 ]; then
  WID=$(xdotool search --onlyvisible --name '^Progress$' 2>/dev/null | head -1)
  screenshot "$SHOT"
  if [ -z "$WID" ]; then
    xdotool search --onlyvisible --name '.' getwindowname %@ 2>/dev/null | sed 's/^/#   window: /'
    bail "GIMP shows the progress in its Progress dialog"
  fi
  ok "GIMP shows the progress in its Progress dialog"
  xdotool windowfocus "$WID"
  sleep 0.5
  xdotool key "${P2P_CANCEL_KEY:-Escape}"
else
  sleep 0.3   # the status bar redraws at most every 50 ms
  screenshot "$SHOT"
  # The bottom 48 pixels of the main window: its status bar.
  eval "$(xdotool getwindowgeometry --shell "$WID")"
  BOX=$("$COMPARE" newbox "$T/before.png" "$SHOT" "$X" $((Y + HEIGHT - 48)) "$WIDTH" 48)
  if [ -z "$BOX" ]; then
    bail "a Cancel button appeared in the status bar"
  fi
  set -- $BOX
  ok "a Cancel button appeared in the status bar ($3x$4 at $1,$2)"
  if [ "${P2P_CANCEL_CLICK:-1}" = 1 ]; then
    xdotool mousemove $(($1 + $3 / 2)) $(($2 + $4 / 2))
    sleep 0.3
    xdotool click 1
  fi
fi

i=0
while [ $i -lt 100 ] && running "$PLUGIN_PID"; do sleep 0.1; i=$((i + 1)); done
if running "$PLUGIN_PID"; then
  not_ok "GIMP ended the plug-in within 10 s of the cancel"
else
  ok "GIMP ended the plug-in within 10 s of the cancel"
fi

wait_log 'CANCEL-DONE' 1200 || bail "the batch command finished its checks"
sed -n 's/^.*\(CANCEL-[A-Z]*.*\)$/# \1/p' "$T/gimp.log"
grep -q "CANCEL-RETURNED false" "$T/gimp.log" && ok "the call returned the cancelled status" \
  || not_ok "the call returned the cancelled status"
grep -Eq 'CANCEL-LAYERS ([0-9]+) expected \1$' "$T/gimp.log" && ok "no new layer" || not_ok "no new layer"
grep -q 'CANCEL-DIRTY 0' "$T/gimp.log" && ok "the image is clean: no undo step, nothing changed" \
  || not_ok "the image is clean: no undo step, nothing changed"
grep -Eq "CANCEL-DIFF mean 0(\.0*)? pixels $((SIDE * SIDE))(\.0*)?$" "$T/gimp.log" \
  && ok "source pixels unchanged" || not_ok "source pixels unchanged"
. "$HERE/plugin-messages.sh"
if p2p_plugin_messages "$T/gimp.log" > "$T/messages"; then
  ok "the plug-in printed no critical or warning"
else
  not_ok "the plug-in printed no critical or warning"; sed 's/^/#   /' "$T/messages"
fi

echo "1..$N"
[ "$FAILED" -eq 0 ]
