# gui-env.sh - sourced (not run) by the scripts that drive a real GIMP on a
# virtual X server: undo-gui-test.sh, cancel-gui-test.sh,
# screenshot-dialog.sh, screenshot-menu.sh.  What they all need, once:
#
#   p2p_gui_setup 2|3 PLUGIN_EXE TAG
#       a private folder $T (removed on exit, together with the GIMP in
#       $GPID and the X server in $XPID, which the script sets), HOME and
#       XDG folders inside it, an isolated GIMP profile $G for GIMP 2.10
#       or 3.0 (P2P_GIMP3_PROFILE: a prepared GIMP 3 profile to start
#       from) with the plug-in installed as $NAME, GIMP's binary name in
#       $GIMP, English messages, P2P_MODEL_PATH at the test models
#       (P2P_GUI_MODELS: another folder).  The real home is never touched.
#       For Script-Fu expressions on the test picture, in that GIMP's
#       dialect: $SOURCE, $LOAD (the image), $ACTIVE (its layer, given
#       `img`), $COUNT (layers), $DIRTY (0/1), and $GIMP_BATCH_ARGS (the
#       options before -b; word-split on purpose).
#   p2p_gui_start_x
#       Xvfb on the first free display, 1280x800, its frame buffer in
#       $T/fb/Xvfb_screen0 (for p2p-png-compare xwd2png); sets DISPLAY.
#
# Needs SRC (the source tree) set by the caller.

NAME=gimp-pix2pix
XPID=""
GPID=""

p2p_gui_cleanup () {
  # Only the processes started here, GIMP first.
  [ -n "$GPID" ] && kill "$GPID" 2>/dev/null
  sleep 1
  [ -n "$GPID" ] && kill -9 "$GPID" 2>/dev/null
  [ -n "$XPID" ] && kill "$XPID" 2>/dev/null
  rm -rf "$T"
}

p2p_gui_setup () {
  T=$(mktemp -d "${TMPDIR:-/tmp}/p2p-$3.XXXXXX")
  trap p2p_gui_cleanup EXIT INT TERM
  export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config XDG_CACHE_HOME=$T/home/.cache TMPDIR=$T/temp
  unset DBUS_SESSION_BUS_ADDRESS GIMP2_PLUGINDIR GIMP3_PLUGINDIR
  export LANG=C.UTF-8 LC_ALL= LANGUAGE=
  export P2P_MODEL_PATH=${P2P_GUI_MODELS:-$SRC/plugin/tests/data/models}
  G=$T/gimpdir
  SOURCE=$SRC/plugin/tests/data/source.png
  mkdir -p "$HOME" "$XDG_CACHE_HOME" "$TMPDIR" "$G/plug-ins/$NAME" "$T/fb"
  if [ "$1" = 2 ]; then
    export GIMP2_DIRECTORY=$G
    # 2.10 complains (and may fail to save) without its writable data folders.
    mkdir -p "$G"/brushes "$G"/dynamics "$G"/gradients "$G"/palettes "$G"/patterns "$G"/tool-presets
    GIMP=gimp-2.10
    LOAD="(car (gimp-file-load RUN-NONINTERACTIVE \"$SOURCE\" \"source.png\"))"
    ACTIVE="(car (gimp-image-get-active-layer img))"
    COUNT="(car (gimp-image-get-layers img))"
    DIRTY="(car (gimp-image-is-dirty img))"
    GIMP_BATCH_ARGS="-n -s -d -f"
  else
    if [ -n "${P2P_GIMP3_PROFILE:-}" ] && [ -d "$P2P_GIMP3_PROFILE" ]; then
      cp -a "$P2P_GIMP3_PROFILE/." "$G/"
    fi
    export GIMP3_DIRECTORY=$G
    # GIMP 3 opens its Welcome dialog over the image window on a first run
    # (gimprc without config-version: an empty profile) and whenever
    # show-welcome-dialog is on; it covers the status bar (cancel test).
    if ! grep -q '^(config-version' "$G/gimprc" 2>/dev/null; then
      ver=$(gimp-console-3.0 --version | sed -n 's/.* version \([0-9][0-9.]*\).*/\1/p')
      [ -n "$ver" ] && printf '(config-version "%s")\n' "$ver" >> "$G/gimprc"
    fi
    printf '(show-welcome-dialog no)\n' >> "$G/gimprc"
    GIMP=gimp-3.0
    LOAD="(car (gimp-file-load RUN-NONINTERACTIVE \"$SOURCE\"))"
    ACTIVE="(vector-ref (car (gimp-image-get-selected-layers img)) 0)"
    COUNT="(vector-length (car (gimp-image-get-layers img)))"
    DIRTY="(if (eqv? (car (gimp-image-is-dirty img)) TRUE) 1 0)"
    GIMP_BATCH_ARGS="-n -s -d -f --batch-interpreter=plug-in-script-fu-eval"
  fi
  install -m755 "$2" "$G/plug-ins/$NAME/$NAME"
}

p2p_gui_start_x () {
  D=90
  while [ -e "/tmp/.X$D-lock" ]; do D=$((D + 1)); done
  Xvfb ":$D" -screen 0 1280x800x24 -fbdir "$T/fb" -nolisten tcp > "$T/xvfb.log" 2>&1 &
  XPID=$!
  sleep 2
  export DISPLAY=":$D"
}
