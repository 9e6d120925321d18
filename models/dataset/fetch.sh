#!/bin/sh
# Download and unpack the Debian packages that hold the training photos.
#
# Usage: models/dataset/fetch.sh [WORK]      (WORK defaults to models/dataset/work)
#
# Packages come from models/dataset/photo-sources.tsv (column 1 = package, column 2 = suite).
# Packages available in bookworm are fetched with the system's apt; trixie-only packages go through
# a separate apt configuration under WORK/apt-trixie, so the system's sources are never changed.
# The archive URI is read from the system's own apt sources.  Nothing is installed: each .deb is kept
# under WORK/debs, its version and SHA256 are written to WORK/packages.lock, and it is unpacked with
# dpkg-deb -x into WORK/unpacked/<package>.
#
# To reproduce an older data set exactly, set PINNED=1: versions are then taken from
# models/dataset/packages.lock (apt-get download pkg=version); old versions may have left the
# archive and then have to come from Debian's snapshot archive.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${1:-$HERE/work}
TSV=$HERE/photo-sources.tsv
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
DEBS=$WORK/debs
APTX=$WORK/apt-trixie
mkdir -p "$DEBS" "$WORK/unpacked"

# Extra packages that are not photo sources but feed the sketch augmentation (paper textures).
AUX_BOOKWORM="mypaint-data-extras"

# One suite per package: trixie when any of its rows is "trixie" only (a file that bookworm's version
# lacks, or a path as trixie's version installs it), else bookworm (rows "bookworm" or
# "bookworm+trixie").
trixie_pkgs=$(awk -F'\t' 'NR > 1 && $2 == "trixie" {print $1}' "$TSV" | sort -u)
bookworm_pkgs=$(awk -F'\t' 'NR > 1 {all[$1] = 1; if ($2 == "trixie") tx[$1] = 1}
    END {for (p in all) if (!(p in tx)) print p}' "$TSV" | sort)

# The archive the system already uses; sources may be deb822 (.sources) or one-line (.list).
MIRROR=""
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    MIRROR=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' "$f")
    [ -n "$MIRROR" ] && break
done
if [ -z "$MIRROR" ] && [ -f /etc/apt/sources.list ]; then
    MIRROR=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)
fi
if [ -z "$MIRROR" ]; then
    echo "fetch.sh: cannot find the Debian archive URI in /etc/apt/sources.list{,.d}" >&2
    exit 1
fi

mkdir -p "$APTX/lists/partial" "$APTX/cache/archives/partial" "$APTX/empty"
echo "deb $MIRROR trixie main" > "$APTX/sources.list"
APTO="-o Dir::Etc::SourceList=$APTX/sources.list -o Dir::Etc::SourceParts=$APTX/empty \
 -o Dir::State::Lists=$APTX/lists -o Dir::Cache=$APTX/cache -o Dir::State::Status=/dev/null"

pinned() {  # pinned PKG -> pkg=version from the committed lock file, or pkg
    if [ "${PINNED:-0}" = 1 ] && [ -f "$HERE/packages.lock" ]; then
        v=$(awk -v p="$1" '$1 == p {print $2; exit}' "$HERE/packages.lock")
        [ -n "$v" ] && { echo "$1=$v"; return; }
    fi
    echo "$1"
}

cd "$DEBS"
echo "== bookworm (system apt): $bookworm_pkgs $AUX_BOOKWORM"
for p in $bookworm_pkgs $AUX_BOOKWORM; do
    ls "${p}"_*.deb >/dev/null 2>&1 || apt-get download -q "$(pinned "$p")"
done

echo "== trixie (separate apt configuration in $APTX): $trixie_pkgs"
# shellcheck disable=SC2086
apt-get $APTO -q update
for p in $trixie_pkgs; do
    # shellcheck disable=SC2086
    ls "${p}"_*.deb >/dev/null 2>&1 || apt-get $APTO download -q "$(pinned "$p")"
done

echo "== lock file and unpack"
: > "$WORK/packages.lock.tmp"
wanted=" $(echo $bookworm_pkgs $AUX_BOOKWORM $trixie_pkgs) "
for deb in "$DEBS"/*.deb; do
    p=$(dpkg-deb -f "$deb" Package)
    v=$(dpkg-deb -f "$deb" Version)
    [ -n "$p" ] || { echo "fetch.sh: $deb has no package name" >&2; exit 1; }
    # Only the packages the TSV asks for (the folder may hold others from older lists).
    case "$wanted" in *" $p "*) ;; *) continue ;; esac
    case "${seen:-}" in *" $p "*)
        echo "fetch.sh: two .deb files of $p in $DEBS (one per suite?): remove the one not wanted" >&2
        exit 1 ;;
    esac
    seen="${seen:- }$p "
    s=$(sha256sum "$deb" | cut -d' ' -f1)
    case " $(echo $trixie_pkgs) " in *" $p "*) suite=trixie ;; *) suite=bookworm ;; esac
    printf '%s\t%s\t%s\t%s\t%s\n' "$p" "$v" "$suite" "$s" "$(basename "$deb")" >> "$WORK/packages.lock.tmp"
    if [ ! -f "$WORK/unpacked/$p/.done" ]; then
        rm -rf "$WORK/unpacked/$p"
        dpkg-deb -x "$deb" "$WORK/unpacked/$p"
        touch "$WORK/unpacked/$p/.done"
    fi
done
sort "$WORK/packages.lock.tmp" > "$WORK/packages.lock" && rm "$WORK/packages.lock.tmp"
cat "$WORK/packages.lock"
echo "fetch.sh: done; packages in $DEBS, unpacked in $WORK/unpacked"
