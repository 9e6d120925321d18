#!/usr/bin/python3
"""Write a CREDITS file for the training photos (package, path, author, source, licence).

Usage: /usr/bin/python3 -m models.dataset.make_credits [--out models/CREDITS] [--split train]

Sources of the facts, per photo of photo-sources.tsv:
* GCompris: the per-directory README files inside the activity's .rcc bundle (stanzas of
  Copyright / License / Source / Files, as in debian/copyright); when no stanza names the file,
  the activity's ActivityInfo.qml `credit` text is quoted for the whole activity;
* every package: the TSV licence column, the package version (packages.lock) and the path of its
  debian/copyright file (/usr/share/doc/<package>/copyright), where per-file details live;
* KDE avatars: the per-file `.license` (SPDX) file next to the photo when present;
* packages with a machine-readable debian/copyright (DEP-5): the stanza that covers the photo's
  source path (models/dataset/dep5.py), i.e. its copyright holders and licence;
* cut-outs composited onto a background (Tux Paint stamps): the background photo as well.
Needs the unpacked packages from fetch.sh (WORK/unpacked).
"""
import argparse
import os
import re
import sys

from models.dataset import dep5, extract

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_stanzas(text):
    """README stanzas -> list of dicts (Copyright, License, Source, Files: list)."""
    out = []
    for block in re.split(r"\n\s*\n", text):
        d = {}
        key = None
        for ln in block.splitlines():
            m = re.match(r"^([A-Za-z-]+):\s*(.*)$", ln)
            if m and m.group(1).lower() in ("copyright", "license", "licence", "source", "files", "author"):
                key = m.group(1).lower().replace("licence", "license")
                d[key] = m.group(2).strip()
            elif key == "files" and ln.strip():
                d["files"] = (d["files"] + " " + ln.strip()).strip()
            elif key and ln.strip():
                d[key] = (d[key] + " " + ln.strip()).strip()
        if "files" in d:
            d["files"] = d["files"].replace(",", " ").split()
            out.append(d)
    return out


def activity_credit(bundle, names):
    qml = [n for n in names if n.endswith("/ActivityInfo.qml")]
    if not qml:
        return ""
    t = bundle.read(qml[0]).decode("utf-8", "replace")
    m = re.search(r"credit:\s*(.*?)\n\s*(section|createdInVersion|levels|enabled)\s*:", t, re.S)
    if not m:
        return ""
    parts = re.findall(r"(?:qsTr\(\s*)?\"((?:[^\"\\\\]|\\\\.)*)\"|'((?:[^'\\\\]|\\\\.)*)'", m.group(1))
    text = " ".join(a or b for a, b in parts)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    ap.add_argument("--tsv", default=os.path.join(HERE, "photo-sources.tsv"))
    ap.add_argument("--lock", default=os.path.join(HERE, "packages.lock"))
    ap.add_argument("--split", default="train", choices=("train", "eval_in", "all"))
    ap.add_argument("--out", default="-")
    args = ap.parse_args()

    versions = {}
    if os.path.exists(args.lock):
        for ln in open(args.lock):
            f = ln.rstrip("\n").split("\t")
            versions[f[0]] = (f[1], f[2])
    with open(args.tsv, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        rows = [dict(zip(header, ln.rstrip("\n").split("\t"))) for ln in f if ln.strip()]
    all_rows = rows
    if args.split != "all":
        rows = [r for r in rows if r["split"] == args.split]
    copyrights = {}

    def dep5_stanza(pkg, path):
        """The DEP-5 stanza covering the photo, or None (old-style or missing file)."""
        if pkg not in copyrights:
            f = os.path.join(args.work, "unpacked", pkg, "usr/share/doc", pkg, "copyright")
            c = None
            if os.path.exists(f):
                text = open(f, encoding="utf-8", errors="replace").read()
                if re.match(r"\s*Format:", text):  # machine-readable (DEP-5), not free text
                    c = dep5.Copyright(text)
            copyrights[pkg] = c
        c = copyrights[pkg]
        return c.covering(dep5.source_path(pkg, path)) if c else None

    bundles = {}
    activity_notes = {}
    lines = []
    stats = {"stanza": 0, "activity": 0, "package": 0, "license_file": 0, "dep5": 0, "cutout": 0}
    for r in rows:
        pkg, path = r["package"], r["path_in_package"]
        ver, suite = versions.get(pkg, ("?", "?"))
        entry = ["%s (%s, Debian %s): %s" % (pkg, ver, suite, path),
                 "  licence (package record): %s" % r["licence"]]
        root = os.path.join(args.work, "unpacked", pkg)
        if path.startswith("activity:"):
            act, inner = path[len("activity:"):].split("/", 1)
            if act not in bundles:
                b = extract.RccBundle(open(os.path.join(root, "usr/share/gcompris-qt/rcc", act + ".rcc"), "rb").read())
                bundles[act] = (b, [p for p, _, _ in b.walk()])
            b, names = bundles[act]
            base = os.path.basename(inner)
            hit = None
            d = os.path.dirname(inner)
            while d and not hit:
                for n in names:
                    if os.path.dirname(n) == d and os.path.basename(n).upper().startswith("README"):
                        for st in parse_stanzas(b.read(n).decode("utf-8", "replace")):
                            if base in st["files"]:
                                hit = st
                                break
                    if hit:
                        break
                d = os.path.dirname(d)
            if hit:
                stats["stanza"] += 1
                for k in ("copyright", "author", "source", "license"):
                    if k in hit:
                        entry.append("  %s: %s" % (k, hit[k]))
            else:
                stats["activity"] += 1
                if act not in activity_notes:
                    activity_notes[act] = activity_credit(b, names)
                entry.append("  credit: see the GCompris activity '%s' credits below" % act)
        else:
            lic = os.path.join(root, path.lstrip("/") + ".license")
            if os.path.exists(lic):
                stats["license_file"] += 1
                t = open(lic, encoding="utf-8", errors="replace").read()
                for ln in t.splitlines():
                    if "SPDX" in ln:
                        entry.append("  " + ln.strip())
            else:
                st = dep5_stanza(pkg, path)
                if st is not None:
                    stats["dep5"] += 1
                    entry.append("  copyright (debian/copyright, Files: %s): %s" % (
                        " ".join(st["files"].split()[:3]) + (" ..." if len(st["files"].split()) > 3 else ""),
                        dep5.first_line(st, "copyright")))
                    entry.append("  licence (debian/copyright): %s" % dep5.short_licence(st))
                else:
                    stats["package"] += 1
            if extract.is_cutout(r):
                stats["cutout"] += 1
                bg = extract.cutout_background(r, all_rows)
                entry.append("  composited onto: %s: %s (credited as its own entry)" % (
                    bg["package"], bg["path_in_package"]))
        entry.append("  details: /usr/share/doc/%s/copyright" % pkg)
        lines.append("\n".join(entry))

    head = [
        "Training photographs of the bundled gimp-pix2pix models",
        "=" * 56,
        "",
        "The models in this folder are trained from scratch on photographs from the %d below (the"
        % len(rows),
        "'%s' split of models/dataset/photo-sources.tsv), all taken from Debian packages; the" % args.split,
        "model card (models/README.md) says which version of the list each model was trained on.",
        "For each photo: the package (version), the path inside it, and the author, source and",
        "licence as recorded by the package.  Generated by models/dataset/make_credits.py.",
        "",
    ]
    tail = []
    if activity_notes:
        tail += ["", "GCompris activity credits (for photos without a per-file README stanza)", "-" * 70]
        for act in sorted(activity_notes):
            tail.append("%s: %s" % (act, activity_notes[act] or "(no credit text; see "
                                    "/usr/share/doc/gcompris-qt-data/copyright)"))
    text = "\n".join(head) + "\n" + "\n\n".join(lines) + "\n" + "\n".join(tail) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    print("credits: %d photos; GCompris per-file stanzas %d, activity credit %d; .license files %d; "
          "debian/copyright stanzas %d; package record only %d; cut-outs with their background %d"
          % (len(rows), stats["stanza"], stats["activity"], stats["license_file"], stats["dep5"],
             stats["package"], stats["cutout"]), file=sys.stderr)


if __name__ == "__main__":
    main()
