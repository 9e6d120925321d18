#!/bin/sh
# test-hints-model.sh - the bundled Auto Colorize model obeys a colour hint,
# through pix2pix-cli with default options as users run it (TAP).
#
#   sh test-hints-model.sh PIX2PIX_CLI MAKE_FIXTURES MODEL
#
# A flat grey 80x64 photo and one red 4x4 dot at 43,35: with the dot as
# --hints, that spot and its surroundings turn red; without, they do not.
CLI=$1 FIX=$2 MODEL=$3
T=$(mktemp -d "${TMPDIR:-/tmp}/p2p-hints-model.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
n=0 failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
echo "1..4"

"$FIX" flat "$T/grey.png" 80 64 128 && "$FIX" dot "$T/dot.png" 80 64 43 35 4 220 30 30 ||
  { echo "Bail out! cannot write the inputs"; exit 1; }
if "$CLI" run --model "$MODEL" --hints "$T/dot.png" "$T/grey.png" "$T/with.png" 2>"$T/err" &&
   "$CLI" run --model "$MODEL" "$T/grey.png" "$T/without.png" 2>>"$T/err"; then
  ok "pix2pix-cli ran with and without the hint"
else
  not_ok "pix2pix-cli ran with and without the hint"; sed 's/^/# /' "$T/err"
fi

# red_by FILE X Y: how much R exceeds the larger of G and B there
red_by () {
  set -- $("$FIX" pixel "$1" "$2" "$3")
  g=$2; [ "$3" -gt "$g" ] && g=$3
  echo $(($1 - g))
}
at=$(red_by "$T/with.png" 45 37)
near=$(red_by "$T/with.png" 40 32)
off=$(red_by "$T/without.png" 45 37)
[ "$at" -gt 60 ] && ok "the hinted spot is red ($at levels)" || not_ok "the hinted spot is red ($at levels)"
[ "$near" -gt 40 ] && ok "the colour spreads around the dot ($near levels 5 px away)" \
  || not_ok "the colour spreads around the dot ($near levels 5 px away)"
[ "$off" -lt 30 ] && ok "without the hint the spot is not red ($off levels)" \
  || not_ok "without the hint the spot is not red ($off levels)"
[ "$failed" -eq 0 ]
