#!/bin/sh
# test-cli.sh - pix2pix-cli exit codes, one-line errors and a real run (TAP).
#
#   sh test-cli.sh PATH/TO/pix2pix-cli PATH/TO/make-fixtures
#
# Runtime failures must exit 1 with exactly one line on stderr starting
# "pix2pix-cli: "; usage errors exit 2; no case may crash (exit >= 128).

CLI=$1
FIX=$2
if [ ! -x "$CLI" ] || [ ! -x "$FIX" ]; then
  echo "Bail out! usage: test-cli.sh PIX2PIX_CLI MAKE_FIXTURES"
  exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/p2p-cli-test.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT INT TERM

n=0
failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

# run_cli EXPECTED_RC DESCRIPTION ARGS...: checks the status and, for
# failures, that stderr is a single "pix2pix-cli: " line.
run_cli () {
  want=$1; what=$2; shift 2
  "$CLI" "$@" >"$T/out" 2>"$T/err"
  rc=$?
  lines=$(wc -l <"$T/err" | tr -d ' ')
  first=$(head -n 1 "$T/err")
  if [ "$rc" -ne "$want" ]; then
    not_ok "$what" "exit status $rc, expected $want" "stderr: $(cat "$T/err")"
    return
  fi
  if [ "$want" -eq 1 ]; then
    case $first in
      "pix2pix-cli: "?*) ;;
      *) not_ok "$what" "stderr does not start with 'pix2pix-cli: ': $first"; return ;;
    esac
    if [ "$lines" -ne 1 ]; then
      not_ok "$what" "stderr has $lines lines, expected 1:" "$(cat "$T/err")"
      return
    fi
  fi
  ok "$what${first:+ ($first)}"
}

# Fixtures: a tiny random ResNet, a colorize one, PNG inputs, junk files.
"$FIX" model "$T/tiny.safetensors" rgb || { echo "Bail out! cannot write fixtures"; exit 1; }
"$FIX" model "$T/col.safetensors" colorize || exit 1
"$FIX" model "$T/hints.safetensors" colorize-hints || exit 1
"$FIX" png "$T/hints.png" 37 21 rgba || exit 1
"$FIX" png "$T/hints-small.png" 36 21 rgba || exit 1
"$FIX" png "$T/in.png" 37 21 rgb || exit 1
"$FIX" png "$T/in-alpha.png" 5 1 rgba || exit 1
"$FIX" png "$T/too-wide.png" 65536 1 rgb || exit 1
"$FIX" drawing "$T/drawing.png" "$T/drawing-flat.png" 37 29 || exit 1
printf 'This is not a model at all, just some text that is long enough.\n' >"$T/text.safetensors"
printf 'not a PNG either\n' >"$T/text.png"
head -c 300 "$T/tiny.safetensors" >"$T/truncated.safetensors"
size=$(wc -c <"$T/tiny.safetensors")
head -c $((size - 10)) "$T/tiny.safetensors" >"$T/truncated-data.safetensors"
: >"$T/empty.safetensors"

# Installed models by name: a throw-away home whose GIMP profile holds a
# model and a PyTorch checkpoint, and a folder in $P2P_MODEL_PATH.
mkdir -p "$T/home/.config/GIMP/3.0/pix2pix" "$T/modelpath"
cp "$T/tiny.safetensors" "$T/home/.config/GIMP/3.0/pix2pix/mine.safetensors"
cp "$T/col.safetensors" "$T/modelpath/tint.safetensors"
PTH=$(dirname "$0")/data/pth/resnet6_batch.zip.pth
[ -f "$PTH" ] && cp "$PTH" "$T/home/.config/GIMP/3.0/pix2pix/style.pth"
# Batch inputs: two images, a PNG cut in half, a text file that is no image.
mkdir -p "$T/batch" "$T/batch-out" "$T/batch-ok"
cp "$T/in.png" "$T/batch/a.png"
cp "$T/in-alpha.png" "$T/batch/b.png"
size=$(wc -c <"$T/in.png")
head -c $((size / 2)) "$T/in.png" >"$T/batch/cut.png"
echo "not an image" >"$T/batch/notes.txt"

echo "1..67"

# Usage.
run_cli 2 "no arguments" 
run_cli 0 "--help" --help
run_cli 2 "unknown command" frobnicate
run_cli 2 "run without --model" run "$T/in.png" "$T/out.png"
run_cli 2 "run with one file" run --model "$T/tiny.safetensors" "$T/in.png"
run_cli 2 "bad --size-mode" run --model "$T/tiny.safetensors" --size-mode tiles "$T/in.png" "$T/o.png"
run_cli 2 "bad --norm-mode" run --model "$T/tiny.safetensors" --norm-mode eval "$T/in.png" "$T/o.png"
run_cli 2 "bad --seed" run --model "$T/tiny.safetensors" --seed -3 "$T/in.png" "$T/o.png"
run_cli 2 "bench without --size" bench --model "$T/tiny.safetensors"

# Runtime errors: one line, exit 1.
run_cli 1 "missing model file" run --model "$T/nope.safetensors" "$T/in.png" "$T/o.png"
run_cli 1 "a file that is not a model" run --model "$T/text.safetensors" "$T/in.png" "$T/o.png"
run_cli 1 "empty model file" info "$T/empty.safetensors"
run_cli 1 "model truncated in the header" run --model "$T/truncated.safetensors" "$T/in.png" "$T/o.png"
run_cli 1 "model truncated in the data" info "$T/truncated-data.safetensors"
run_cli 1 "unreadable image" run --model "$T/tiny.safetensors" "$T/text.png" "$T/o.png"
run_cli 1 "missing image" run --model "$T/tiny.safetensors" "$T/nope.png" "$T/o.png"
run_cli 1 "image too large (65536 pixels wide)" run --model "$T/tiny.safetensors" "$T/too-wide.png" "$T/o.png"
run_cli 1 "unwritable output" run --model "$T/tiny.safetensors" "$T/in.png" "$T/no/such/dir/o.png"
run_cli 1 "bench size the net cannot take" bench --model "$T/tiny.safetensors" --size 10x10 --runs 1

# Colour hints: errors leave no output file behind.
run_hints_error () {
  what=$1; shift
  rm -f "$T/h.png"
  run_cli 1 "$what" "$@"
  if [ -e "$T/h.png" ]; then not_ok "$what: no output file" "$T/h.png was written"; else ok "$what: no output file"; fi
}
run_hints_error "hints for a model that takes none" run --model "$T/col.safetensors" --hints "$T/hints.png" "$T/in.png" "$T/h.png"
run_hints_error "hints of another size than the input" run --model "$T/hints.safetensors" --hints "$T/hints-small.png" "$T/in.png" "$T/h.png"
run_hints_error "hints file that is not an image" run --model "$T/hints.safetensors" --hints "$T/text.png" "$T/in.png" "$T/h.png"
run_cli 1 "hints image without transparency" run --model "$T/hints.safetensors" --hints "$T/in.png" "$T/in.png" "$T/h.png"

# Successful runs.
check_png () {
  what=$1; file=$2; want=$3
  got=$("$FIX" size "$file" 2>&1)
  if [ "$got" = "$want" ]; then ok "$what: $got"; else not_ok "$what" "PNG is '$got', expected '$want'"; fi
}
"$CLI" run --model "$T/tiny.safetensors" --threads 1 "$T/in.png" "$T/out.png" 2>"$T/err" &&
  check_png "run, resize mode, writes a 37x21 RGB PNG" "$T/out.png" "37 21 3" ||
  not_ok "run, resize mode" "$(cat "$T/err")"
"$CLI" run --model "$T/col.safetensors" --size-mode whole --chroma 0.5 --threads 1 \
    "$T/in-alpha.png" "$T/out-alpha.png" 2>"$T/err" &&
  check_png "colorize, whole mode, 5x1 RGBA keeps alpha" "$T/out-alpha.png" "5 1 4" ||
  not_ok "colorize, whole mode" "$(cat "$T/err")"
"$CLI" run --model "$T/hints.safetensors" --hints "$T/hints.png" --threads 1 \
    "$T/in.png" "$T/out-hints.png" 2>"$T/err" &&
  check_png "colorize with hints writes a 37x21 RGB PNG" "$T/out-hints.png" "37 21 3" ||
  not_ok "colorize with hints" "$(cat "$T/err")"
# A sketch-to-photo model sees a transparent drawing on white paper: the
# same picture as the drawing flattened on white, opaque, in every mode.
for mode in resize whole tile; do
  if "$CLI" run --model "$T/tiny.safetensors" --size-mode $mode --threads 1 "$T/drawing.png" \
       "$T/out-drawing.png" 2>"$T/err" &&
     "$CLI" run --model "$T/tiny.safetensors" --size-mode $mode --threads 1 "$T/drawing-flat.png" \
       "$T/out-drawing-flat.png" 2>>"$T/err" &&
     [ "$("$FIX" size "$T/out-drawing.png")" = "37 29 3" ] &&
     cmp -s "$T/out-drawing.png" "$T/out-drawing-flat.png"; then
    ok "sketch-to-photo, $mode mode: an RGBA drawing hiding black gives the flattened drawing's opaque result"
  else
    not_ok "sketch-to-photo, $mode mode: RGBA drawing = flattened on white" "$(cat "$T/err")" \
      "$("$FIX" size "$T/out-drawing.png")"
  fi
done

# Memory: a run estimated above --max-memory is refused before anything is
# written (and with the memory available as the limit, the real 8192 case
# of issue 16 on a computer with less than its 9 GB); --estimate says why.
rm -f "$T/o.png"
run_cli 1 "run over --max-memory refused" run --model "$T/tiny.safetensors" --net-size 2048 \
    --max-memory 10 "$T/in.png" "$T/o.png"
if grep -q "memory" "$T/err" && grep -q "network size" "$T/err" && [ ! -e "$T/o.png" ]; then
  ok "the refusal names the memory and the network size, no output written"
else
  not_ok "refusal message" "$(cat "$T/err")" "$(ls "$T")"
fi
run_cli 2 "bad --max-memory" run --model "$T/tiny.safetensors" --max-memory -5 "$T/in.png" "$T/o.png"
run_cli 0 "--estimate" run --model "$T/tiny.safetensors" --net-size 1024 --estimate "$T/in.png" "$T/o.png"
if grep -q '^peak memory: ' "$T/out" && grep -q '^network: *1024 x 1024, 1 pass$' "$T/out" &&
   grep -q '^fits: *yes' "$T/out" && [ ! -e "$T/o.png" ]; then
  ok "--estimate prints the network, memory and fit, writes nothing"
else
  not_ok "--estimate output" "$(cat "$T/out")"
fi
run_cli 1 "--estimate over --max-memory" run --model "$T/tiny.safetensors" --net-size 1024 \
    --max-memory 1 --estimate "$T/in.png" "$T/o.png"
"$CLI" run --model "$T/tiny.safetensors" --max-memory 4000 --threads 1 "$T/in.png" "$T/o.png" \
    2>"$T/err" && check_png "run within --max-memory" "$T/o.png" "37 21 3" ||
  not_ok "run within --max-memory" "$(cat "$T/err")"

run_cli 0 "info" info "$T/tiny.safetensors"
if grep -q '^parameters: ' "$T/out" && grep -q '^MACs: ' "$T/out"; then
  ok "info prints parameters and MACs"
else
  not_ok "info prints parameters and MACs" "$(cat "$T/out")"
fi

# --- output formats: the extension names the format ----------------------
magic () { od -An -tx1 -N4 "$1" 2>/dev/null | tr -d ' \n'; }
"$CLI" run --model "$T/tiny.safetensors" --threads 1 "$T/in.png" "$T/out.jpg" 2>"$T/err"
m=$(magic "$T/out.jpg")
case $m in ffd8ff*) ok "out.jpg holds JPEG data ($m)" ;; *) not_ok "out.jpg holds JPEG data" "magic '$m'" "$(cat "$T/err")" ;; esac
"$CLI" run --model "$T/tiny.safetensors" --threads 1 "$T/in.png" "$T/out.TIF" 2>"$T/err"
m=$(magic "$T/out.TIF")
case $m in 49492a00|4d4d002a) ok "out.TIF holds TIFF data ($m)" ;; *) not_ok "out.TIF holds TIFF data" "magic '$m'" "$(cat "$T/err")" ;; esac
m=$(magic "$T/out.png")
case $m in 89504e47) ok "out.png holds PNG data" ;; *) not_ok "out.png holds PNG data" "magic '$m'" ;; esac
rm -f "$T/out.xyz" "$T/noext"
run_cli 2 "an unknown output extension is refused" run --model "$T/tiny.safetensors" "$T/in.png" "$T/out.xyz"
grep -q 'unknown image type' "$T/err" && [ ! -e "$T/out.xyz" ] && ok "... with a message, and nothing written" \
  || not_ok "... with a message, and nothing written" "$(cat "$T/err")"
run_cli 2 "an output name without extension is refused" run --model "$T/tiny.safetensors" "$T/in.png" "$T/noext"
# Refused before the model is even read: a missing model does not matter.
run_cli 2 "the extension is checked before anything runs" run --model "$T/nope.safetensors" "$T/in.png" "$T/out.xyz"

# --- models by name (the plug-in's lookup) ----------------------------------
export_home () { env HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" GIMP3_DIRECTORY= GIMP2_DIRECTORY= \
  P2P_MODEL_PATH="$T/modelpath" "$@"; }
rm -f "$T/byname.png"
export_home "$CLI" run --model mine --threads 1 "$T/in.png" "$T/byname.png" 2>"$T/err" >/dev/null
"$CLI" run --model "$T/tiny.safetensors" --threads 1 "$T/in.png" "$T/bypath.png" 2>/dev/null
if cmp -s "$T/byname.png" "$T/bypath.png"; then ok "--model mine finds the model in the GIMP profile's pix2pix folder"
else not_ok "--model mine finds the model in the GIMP profile's pix2pix folder" "$(cat "$T/err")"; fi
export_home "$CLI" run --model tint.safetensors --threads 1 "$T/in.png" "$T/tint.png" 2>"$T/err" >/dev/null &&
  ok "--model tint.safetensors finds the model in \$P2P_MODEL_PATH" ||
  not_ok "--model tint.safetensors finds the model in \$P2P_MODEL_PATH" "$(cat "$T/err")"
if [ -f "$T/home/.config/GIMP/3.0/pix2pix/style.pth" ]; then
  export_home "$CLI" info style >"$T/out" 2>"$T/err" && grep -q '^architecture: *resnet' "$T/out" &&
    ok "a .pth in the profile is found by its name" || not_ok "a .pth in the profile is found by its name" "$(cat "$T/err")"
  export_home "$CLI" info style.pth >"$T/out" 2>"$T/err" &&
    ok "... and by its file name" || not_ok "... and by its file name" "$(cat "$T/err")"
else
  not_ok "a .pth in the profile" "$PTH is missing"; not_ok "... and by its file name"
fi
export_home "$CLI" models >"$T/out" 2>"$T/err"
if grep -q "^  $T/home/.config/GIMP/3.0/pix2pix\$" "$T/out" && grep -q "^  $T/modelpath\$" "$T/out" &&
   grep -q "^  mine " "$T/out" && grep -q "^  tint " "$T/out" && grep -q "/gimp-pix2pix/models\$" "$T/out"; then
  ok "models lists the folders (installed, profile, \$P2P_MODEL_PATH) and the models by name"
else
  not_ok "models lists the folders and the models by name" "$(cat "$T/out" "$T/err")"
fi
export_home "$CLI" run --model no-such-model "$T/in.png" "$T/o.png" >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 1 ] && grep -q 'No model named "no-such-model" was found' "$T/err" && grep -q "$T/modelpath" "$T/err"; then
  ok "an unknown name: exit 1, the name and the folders searched"
else
  not_ok "an unknown name: exit 1, the name and the folders searched" "rc $rc" "$(cat "$T/err")"
fi

# --- batch use ---------------------------------------------------------------
"$CLI" run --model "$T/tiny.safetensors" --threads 1 --output-dir "$T/batch-out" "$T/batch" \
  >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 1 ] && ok "batch with a bad file exits 1" || not_ok "batch with a bad file exits 1" "rc $rc" "$(cat "$T/err")"
[ -f "$T/batch-out/a.png" ] && [ -f "$T/batch-out/b.png" ] && ok "... the good files are written" \
  || not_ok "... the good files are written" "$(ls "$T/batch-out")"
[ ! -e "$T/batch-out/cut.png" ] && [ ! -e "$T/batch-out/notes.png" ] \
  && ok "... nothing for the cut PNG, the text file is no input" || not_ok "... nothing for the cut PNG" "$(ls "$T/batch-out")"
if [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q '^pix2pix-cli: .*cut\.png.*' "$T/err"; then
  ok "... one line on stderr names the cut PNG and why ($(cat "$T/err"))"
else
  not_ok "... one line on stderr names the cut PNG" "$(cat "$T/err")"
fi
if grep -q "^\[1/3\] $T/batch/a.png -> $T/batch-out/a.png\$" "$T/out" && grep -q '^\[3/3\] .*cut.png' "$T/out" &&
   grep -q '^2 written, 1 failed$' "$T/out"; then
  ok "... a progress line per file and the summary"
else
  not_ok "... a progress line per file and the summary" "$(cat "$T/out")"
fi
"$CLI" run --model "$T/tiny.safetensors" --threads 1 "$T/batch/b.png" "$T/b-single.png" 2>/dev/null
cmp -s "$T/batch-out/b.png" "$T/b-single.png" && ok "... a batch result equals the single run's" \
  || not_ok "... a batch result equals the single run's"
"$CLI" run --model "$T/tiny.safetensors" --threads 1 -o "$T/batch-ok" --format jpg \
  "$T/batch/a.png" "$T/batch/b.png" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && [ "$(magic "$T/batch-ok/a.jpg" | cut -c1-6)" = ffd8ff ] &&
   [ "$(magic "$T/batch-ok/b.jpg" | cut -c1-6)" = ffd8ff ] &&
   grep -q '^2 written, 0 failed$' "$T/out"; then
  ok "batch of two files, --format jpg: exit 0, JPEG files"
else
  not_ok "batch of two files, --format jpg" "rc $rc" "$(cat "$T/out" "$T/err")"
fi
run_cli 1 "batch: a missing output folder is refused" run --model "$T/tiny.safetensors" -o "$T/no-such-dir" "$T/in.png"
run_cli 2 "batch: an empty output folder name is refused" run --model "$T/tiny.safetensors" -o "" "$T/in.png"
run_cli 2 "several inputs without --output-dir" run --model "$T/tiny.safetensors" "$T/in.png" "$T/in.png" "$T/o.png"
run_cli 2 "batch: an unknown --format" run --model "$T/tiny.safetensors" -o "$T/batch-ok" --format xyz "$T/in.png"
mkdir -p "$T/same"
cp "$T/in.png" "$T/same/in.png"
run_cli 1 "batch: a result never replaces its input" run --model "$T/tiny.safetensors" -o "$T/same" "$T/same/in.png"
cmp -s "$T/same/in.png" "$T/in.png" && ok "... the input is unchanged" || not_ok "... the input is unchanged"

[ "$failed" -eq 0 ]
