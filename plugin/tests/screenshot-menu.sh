#!/bin/sh
# screenshot-menu.sh - opens GIMP 2.10 on a virtual X server (Xvfb) with an
# image, opens "Filters > Artistic" (or "Colors") from the keyboard and saves
# a screenshot of the screen with our entry highlighted: the README's menu
# picture.  Isolated profile, like screenshot-dialog.sh.
#
#   screenshot-menu.sh PLUGIN_EXE COMPARE_EXE IMAGE OUT.png [sketch|colorize]
#
# The keys are GIMP 2.10's English mnemonics: Alt+R opens Filte_rs,
# A its _Artistic submenu; Alt+C opens _Colors.  Then Up/Down walk to our
# entry (no window manager is needed:
# xdotool focuses the image window itself).  The number of Down presses
# depends on the GIMP version's menus: P2P_MENU_STEPS overrides it; check
# the picture.  Exit 0 when a PNG was written.
set -u

PLUGIN=$(readlink -f "$1")
COMPARE=$(readlink -f "$2")
IMAGE=$(readlink -f "$3")
OUTPNG=$4
FILTER=${5:-sketch}
HERE=$(dirname "$(readlink -f "$0")")
SRC=${P2P_SRC:-$(readlink -f "$HERE/../..")}
. "$HERE/gui-env.sh"
P2P_GUI_MODELS=${P2P_GUI_MODELS:-$SRC/models}
p2p_gui_setup 2 "$PLUGIN" menu
p2p_gui_start_x

# The image window fills the screen (no window manager to place it).
EXPR="(let* ((img (car (gimp-file-load RUN-NONINTERACTIVE \"$IMAGE\" \"$IMAGE\")))
             (disp (car (gimp-display-new img))))
        (gimp-displays-flush))"
"$GIMP" -n -s -d -f -b "$EXPR" > "$T/gimp.log" 2>&1 &
GPID=$!

WID=""
i=0
while [ $i -lt 120 ]; do
  WID=$(xdotool search --onlyvisible --name 'GNU Image Manipulation Program' 2>/dev/null | head -1)
  [ -n "$WID" ] && break
  sleep 1; i=$((i + 1))
done
if [ -z "$WID" ]; then
  echo "no GIMP image window within 120 s; GIMP log:" >&2
  sed 's/^/  /' "$T/gimp.log" >&2
  exit 1
fi
xdotool windowsize "$WID" 1280 800 windowmove "$WID" 0 0
sleep "${P2P_SHOT_DELAY:-6}"
xdotool mousemove 1279 799
xdotool windowfocus "$WID"
sleep 1
if [ "$FILTER" = sketch ]; then
  xdotool key alt+r; sleep 1; xdotool key a; sleep 1
  # With GIMP 2.10.34's stock filters "Sketch to Photo..." is 13 Down
  # presses below the first entry (insensitive entries are skipped).
  steps=${P2P_MENU_STEPS:-13}
else
  xdotool key alt+c; sleep 1
  # "Auto Colorize..." is the last sensitive entry of Colors, 20 presses down.
  steps=${P2P_MENU_STEPS:-20}
fi
n=0
while [ $n -lt "$steps" ]; do xdotool key Down; n=$((n + 1)); done
sleep 2
"$COMPARE" xwd2png "$T/fb/Xvfb_screen0" "$OUTPNG" || exit 1
echo "screenshot: $OUTPNG"
