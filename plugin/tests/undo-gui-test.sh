#!/bin/sh
# undo-gui-test.sh - "one Ctrl+Z undoes the whole filter" in a real GIMP
# (2.10 or 3.0) on a virtual X server.  No PDB procedure performs an undo, so the key is
# pressed with xdotool while a Script-Fu loop watches the image:
#   1. the batch command opens the test picture in a window, marks it clean,
#      runs Auto Colorize and prints READY-FOR-UNDO;
#   2. this script clicks into the image window and presses Ctrl+Z once;
#   3. the Script-Fu loop sees the layer count drop back and then checks
#      that the image is clean again (dirty count 0): a filter that left
#      several undo steps would still be dirty after one Ctrl+Z.
# TAP output.  Needs Xvfb and xdotool.
#
#   undo-gui-test.sh 2|3 PLUGIN_EXE
set -u

GIMPV=$1
PLUGIN=$(readlink -f "$2")
HERE=$(dirname "$(readlink -f "$0")")
SRC=${P2P_SRC:-$(readlink -f "$HERE/../..")}
. "$HERE/gui-env.sh"
p2p_gui_setup "$GIMPV" "$PLUGIN" undo
if [ "$GIMPV" = 2 ]; then
  CALL="(plug-in-pix2pix-colorize RUN-NONINTERACTIVE img layer \"\" 0 0 0 1.0 0)"
else
  CALL="(plug-in-pix2pix-colorize #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector layer))"
fi

EXPR="(let* ((img $LOAD)
             (layer $ACTIVE)
             (n0 $COUNT))
        (gimp-message-set-handler CONSOLE)
        (gimp-display-new img)
        (gimp-image-clean-all img)
        $CALL
        (gimp-displays-flush)
        (gimp-message (string-append \"READY-FOR-UNDO layers \" (number->string $COUNT)))
        (let loop ((i 0))
          (if (and (< i 400000) (> $COUNT n0))
              (loop (+ i 1))))
        (gimp-message (string-append \"AFTER-UNDO layers \" (number->string $COUNT)
                                     \" dirty \" (number->string $DIRTY)
                                     \" expected \" (number->string n0)))
        (gimp-quit 1))"

p2p_gui_start_x

# shellcheck disable=SC2086
"$GIMP" $GIMP_BATCH_ARGS -b "$EXPR" > "$T/gimp.log" 2>&1 &
GPID=$!

i=0
while [ $i -lt 180 ] && ! grep -q 'READY-FOR-UNDO' "$T/gimp.log"; do sleep 1; i=$((i + 1)); done
if ! grep -q 'READY-FOR-UNDO layers 2' "$T/gimp.log"; then
  echo "not ok 1 - filter ran in the GUI and added a layer"
  sed 's/^/#   /' "$T/gimp.log"
  echo "1..1"
  exit 1
fi
echo "ok 1 - filter ran in the GUI and added a layer"

# No window manager: give the image window the keyboard focus directly
# (a click into the canvas would paint with the active tool).
# GIMP 3 maps its windows well after the batch command went on: poll.
WID=""
i=0
while [ $i -lt 90 ] && [ -z "$WID" ]; do
  # The image window: its title ends in "<W>x<H> – GIMP".
  WID=$(xdotool search --onlyvisible --name '[0-9]+x[0-9]+' 2>/dev/null | head -1)
  [ -n "$WID" ] || { sleep 1; i=$((i + 1)); }
done
if [ -z "$WID" ]; then
  xdotool search --onlyvisible --name '.' getwindowname %@ 2>/dev/null | sed 's/^/#   window: /'
  sed 's/^/#   /' "$T/gimp.log"
  echo "not ok 2 - image window found"; echo "1..2"; exit 1
fi
echo "ok 2 - image window found"
sleep 3
xdotool windowfocus "$WID"
sleep 1
xdotool key "${P2P_UNDO_KEY:-ctrl+z}"   # P2P_UNDO_KEY=shift: see the test fail

i=0
while [ $i -lt 60 ] && ! grep -q 'AFTER-UNDO' "$T/gimp.log"; do sleep 1; i=$((i + 1)); done
if grep -q 'AFTER-UNDO layers 1 dirty 0 expected 1' "$T/gimp.log"; then
  echo "ok 3 - one Ctrl+Z removed the new layer and left the image clean"
  rc=0
else
  echo "not ok 3 - one Ctrl+Z removed the new layer and left the image clean"
  grep -a 'UNDO' "$T/gimp.log" | sed 's/^/#   /'
  rc=1
fi
. "$HERE/plugin-messages.sh"
if p2p_plugin_messages "$T/gimp.log" > "$T/messages"; then
  echo "ok 4 - the plug-in printed no critical or warning"
else
  echo "not ok 4 - the plug-in printed no critical or warning"
  sed 's/^/#   /' "$T/messages"
  rc=1
fi
echo "1..4"
exit $rc
