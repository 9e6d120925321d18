"""Read and check models/dataset/photo-sources.tsv, the list of training and evaluation photos.

    /usr/bin/python3 -m models.dataset.photo_sources            # counts, and problems if any

Columns: package, suite, path_in_package, container, width, height, licence, content, split, note.
Splits: `train` (the only photos any training reads), `eval_in` (the 33 photos every evaluation
table in models/eval was computed on: never changed, never trained on) and `eval_in2` (photos held
out when the list grew; a second evaluation list, read by nothing yet).
"""
import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TSV = os.path.join(HERE, "photo-sources.tsv")

COLUMNS = ["package", "suite", "path_in_package", "container", "width", "height", "licence",
           "content", "split", "note"]
SPLITS = ("train", "eval_in", "eval_in2")
SUITES = ("bookworm", "trixie", "bookworm+trixie")
# The eval_in list the evaluation tables depend on: 33 photos, SHA-256 of their sorted
# "package:path" lines (one per line, each ending in a newline).
EVAL_IN_COUNT = 33
EVAL_IN_SHA256 = "6f43b2cce135f2486e10a572a097bab29ca3b8df28a4e94d164fcc4f9efcae60"
# Issue 14: at least twice the 370 train photos of the first list.
MIN_TRAIN = 740
# Words that mark a row whose licence we could not confirm; such rows must not be in the list.
DOUBT_MARKS = ("doubtful", "non-commercial", "noncommercial", "cc-by-nc", "unknown licence",
               "may not be sold")


def read(path=DEFAULT_TSV):
    """-> (header, [row dict]); each row also gets "_line" (its line number in the file)."""
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        rows = []
        for n, ln in enumerate(f, start=2):
            if not ln.strip():
                continue
            fields = ln.rstrip("\n").split("\t")
            r = dict(zip(header, fields))
            r["_line"] = n
            r["_fields"] = len(fields)
            rows.append(r)
    return header, rows


def eval_in_digest(rows):
    keys = sorted("%s:%s" % (r["package"], r["path_in_package"]) for r in rows if r["split"] == "eval_in")
    return hashlib.sha256("".join(k + "\n" for k in keys).encode()).hexdigest()


def problems(header, rows, check_eval_in=True, min_train=MIN_TRAIN):
    """Every rule the list must keep, as a list of human-readable problems (empty: all kept)."""
    out = []
    if header != COLUMNS:
        out.append("header is %s, expected %s" % (header, COLUMNS))
    seen = {}
    suites = {}
    for r in rows:
        where = "line %d" % r["_line"]
        if r["_fields"] != len(COLUMNS):
            out.append("%s: %d fields, expected %d" % (where, r["_fields"], len(COLUMNS)))
            continue
        for col in ("package", "suite", "path_in_package", "licence", "split", "content"):
            if not r[col].strip():
                out.append("%s: empty %s" % (where, col))
        if r["split"] not in SPLITS:
            out.append("%s: split %r is none of %s" % (where, r["split"], ", ".join(SPLITS)))
        if r["suite"] not in SUITES:
            out.append("%s: suite %r is none of %s" % (where, r["suite"], ", ".join(SUITES)))
        for c in ("width", "height"):
            if not r[c].isdigit() or int(r[c]) <= 0:
                out.append("%s: %s %r is not a positive integer" % (where, c, r[c]))
        text = (r["licence"] + " " + r["note"]).lower()
        for w in DOUBT_MARKS:
            if w in text:
                out.append("%s: licence or note says %r" % (where, w))
        key = (r["package"], r["path_in_package"])
        if key in seen:
            a = seen[key]
            what = "in two splits (%s and %s)" % (a["split"], r["split"]) if a["split"] != r["split"] else "twice"
            out.append("%s: %s %s listed %s (first at line %d)" % (where, key[0], key[1], what, a["_line"]))
        else:
            seen[key] = r
        suites.setdefault(r["package"], set()).add(r["suite"])
    # fetch.sh fetches each package from one suite: trixie if any row is trixie-only.  A row that
    # says "bookworm" (bookworm only) in such a package would name a file the fetched .deb lacks.
    for pkg, s in sorted(suites.items()):
        if "trixie" in s and "bookworm" in s:
            out.append("%s: rows say both 'bookworm' and 'trixie' only; one package comes from one suite" % pkg)
    # Extracted photo ids (extract.photo_id) must not collide either: they name the files.
    from models.dataset import extract
    ids = {}
    for r in rows:
        pid = extract.photo_id(r["package"], r["path_in_package"])
        if pid in ids and ids[pid] is not r:
            out.append("line %d: photo id %s also used by line %d" % (r["_line"], pid, ids[pid]["_line"]))
        ids[pid] = r
    # A cut-out is composited onto a photo of its own split, never across splits.
    for r in rows:
        if extract.is_cutout(r):
            try:
                bg = extract.cutout_background(r, rows)
            except ValueError as e:
                out.append("line %d: %s" % (r["_line"], e))
                continue
            if bg["split"] != r["split"]:
                out.append("line %d: cut-out of split %s on a %s background" % (r["_line"], r["split"], bg["split"]))
    n_train = sum(r["split"] == "train" for r in rows)
    if n_train < min_train:
        out.append("%d train photos, fewer than %d" % (n_train, min_train))
    if check_eval_in:
        n_eval = sum(r["split"] == "eval_in" for r in rows)
        if n_eval != EVAL_IN_COUNT:
            out.append("%d eval_in photos, expected the %d of the evaluation tables" % (n_eval, EVAL_IN_COUNT))
        elif eval_in_digest(rows) != EVAL_IN_SHA256:
            out.append("the eval_in photos differ from the %d the evaluation tables were computed on" % EVAL_IN_COUNT)
    return out


def counts(rows):
    """{(package, split): n} and {(content kind, split): n}; kind = first word of `content`."""
    import re
    by_pkg, by_kind = {}, {}
    for r in rows:
        k = (r["package"], r["split"])
        by_pkg[k] = by_pkg.get(k, 0) + 1
        kind = re.split(r"[ /(]", r["content"])[0]
        k = (kind, r["split"])
        by_kind[k] = by_kind.get(k, 0) + 1
    return by_pkg, by_kind


def main():
    header, rows = read(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_TSV)
    by_pkg, by_kind = counts(rows)
    for title, d in (("package", by_pkg), ("content", by_kind)):
        names = sorted({k[0] for k in d})
        print("%-28s %6s %6s %6s" % (title, *SPLITS))
        for n in names:
            print("%-28s %6d %6d %6d" % (n, *(d.get((n, s), 0) for s in SPLITS)))
        print("%-28s %6d %6d %6d\n" % ("total", *(sum(v for k, v in d.items() if k[1] == s) for s in SPLITS)))
    p = problems(header, rows)
    for x in p:
        print("PROBLEM:", x)
    return 1 if p else 0


if __name__ == "__main__":
    sys.exit(main())
