#!/bin/sh
# Every message in the sources (po/POTFILES) has a translation, not fuzzy,
# in each catalogue users need (de es fr ja zh_CN).  A new or changed
# English text without one fails here: gettext would show the English.
# TAP output.  usage: check-complete.sh SOURCE_ROOT
set -u
root=$1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
# the keywords of meson's i18n 'glib' preset, as the real .pot is made
if ! xgettext --from-code=UTF-8 --keyword=_ --keyword=N_ --keyword=C_:1c,2 \
        --keyword=NC_:1c,2 --keyword=g_dngettext:2,3 --keyword=Q_ \
        -D "$root" -f "$root/po/POTFILES" -o "$tmp/sources.pot" 2> "$tmp/err"; then
    # the real .pot would not build either
    echo "Bail out! xgettext failed: $(cat "$tmp/err")"
    exit 1
fi
echo "1..5"
n=0
fail=0
for lang in de es fr ja zh_CN; do
    n=$((n + 1))
    if LC_ALL=C msgcmp "$root/po/$lang.po" "$tmp/sources.pot" > "$tmp/out" 2>&1; then
        echo "ok $n - $lang.po translates every message of the sources"
    else
        echo "not ok $n - $lang.po lacks translations (or has fuzzy ones): run"
        echo "# ninja gimp-pix2pix-pot gimp-pix2pix-update-po, then translate:"
        sed 's/^/# /' "$tmp/out" | head -20
        fail=1
    fi
done
exit $fail
