#!/bin/sh
# screenshot-dialog.sh - opens a filter's dialog in a real GIMP on a
# virtual X server (Xvfb) and saves a screenshot of the screen, for the
# README and as a test artifact.  Isolated profile, like run-gimp-tests.sh.
#
#   screenshot-dialog.sh 2|3 PLUGIN_EXE COMPARE_EXE OUT.png [sketch|colorize|apply]
#
# The screenshot is taken from Xvfb's frame buffer file (-fbdir), converted
# by p2p-png-compare xwd2png: no ImageMagick, no window manager needed.
# Exit 0 when the dialog process appeared and a PNG was written.
set -u

GIMPV=$1
PLUGIN=$(readlink -f "$2")
COMPARE=$(readlink -f "$3")
OUTPNG=$4
FILTER=${5:-colorize}
HERE=$(dirname "$(readlink -f "$0")")
SRC=${P2P_SRC:-$(readlink -f "$HERE/../..")}
# P2P_GUI_MODELS: another model folder (the README pictures use models/).
. "$HERE/gui-env.sh"
p2p_gui_setup "$GIMPV" "$PLUGIN" shot
if [ "$GIMPV" = 2 ]; then
  if [ "$FILTER" = sketch ]; then
    CALL='(plug-in-pix2pix-sketch-to-photo RUN-INTERACTIVE img layer "" 0 0 0 0)'
  elif [ "$FILTER" = apply ]; then
    CALL='(plug-in-pix2pix-apply-model RUN-INTERACTIVE img layer "" 0 0 0 0)'
  else
    CALL='(plug-in-pix2pix-colorize RUN-INTERACTIVE img layer "" 0 0 0 1.0 0 -1)'
  fi
  EXPR="(let* ((img (car (gimp-file-load RUN-NONINTERACTIVE \"$SRC/plugin/tests/data/source.png\" \"s.png\")))
               (layer (car (gimp-image-get-active-layer img))))
          (gimp-display-new img) $CALL)"
  set -- -n -s -d -f -b "$EXPR"
else
  case $FILTER in
    sketch) PROC=plug-in-pix2pix-sketch-to-photo ;;
    apply) PROC=plug-in-pix2pix-apply-model ;;
    *) PROC=plug-in-pix2pix-colorize ;;
  esac
  EXPR="(let* ((img (car (gimp-file-load RUN-NONINTERACTIVE \"$SRC/plugin/tests/data/source.png\")))
               (layer (vector-ref (car (gimp-image-get-selected-layers img)) 0)))
          (gimp-display-new img)
          ($PROC #:run-mode RUN-INTERACTIVE #:image img #:drawables (vector layer)))"
  set -- -n -s -d -f --batch-interpreter=plug-in-script-fu-eval -b "$EXPR"
fi

p2p_gui_start_x

"$GIMP" "$@" > "$T/gimp.log" 2>&1 &
GPID=$!

# The dialog is up once GIMP has started our plug-in; then give the
# preview a moment to render.
found=0
i=0
while [ $i -lt 120 ]; do
  if ps --ppid "$GPID" -o comm= 2>/dev/null | grep -q "^$NAME"; then found=1; break; fi
  sleep 1; i=$((i + 1))
done
if [ $found = 0 ]; then
  echo "the plug-in did not start within 120 s; GIMP log:" >&2
  sed 's/^/  /' "$T/gimp.log" >&2
  exit 1
fi
# GIMP 3 maps its windows later than 2.10 (its first frame came out black
# after 8 s in the trixie chroot).
if [ "$GIMPV" = 3 ]; then delay=25; else delay=8; fi
sleep "${P2P_SHOT_DELAY:-$delay}"
# Xvfb draws the pointer into the frame buffer: move it out of the way.
command -v xdotool > /dev/null 2>&1 && xdotool mousemove 1279 799 && sleep 1
"$COMPARE" xwd2png "$T/fb/Xvfb_screen0" "$OUTPNG" || exit 1
echo "screenshot: $OUTPNG"
# The dialog is open: what the plug-in printed while making it (GTK's
# warnings, e.g. mnemonic clashes, included).
. "$HERE/plugin-messages.sh"
if ! p2p_plugin_messages "$T/gimp.log" > "$T/messages"; then
  echo "the plug-in printed criticals or warnings:" >&2
  sed 's/^/  /' "$T/messages" >&2
  exit 1
fi
