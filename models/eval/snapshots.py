"""Evaluate training snapshots through pix2pix-cli and keep their figures in a table, so that the
model to ship is chosen by evaluation, not by the last step (issue 13 part 6).

    nice /usr/bin/python3 -m models.eval.snapshots [--snapshots DIR] [--table FILE]

(from the repository root).  Every *.safetensors in DIR (default
$P2P_STATE_ROOT/colorize/snapshots, P2P_STATE_ROOT defaulting to /var/lib/gimp-pix2pix-train)
whose file name is not yet in the table is evaluated as models.eval.colorize does, at 0 and 10
hints (the same seeded hints files), one snapshot at a time, and its row appended to the table
(default models/eval/snapshots-colorize.tsv, committed).  Columns: snapshot file name, training
step, photos, PSNR at 0 and 10 hints, their differences from the grey image, mean Lab (a, b)
error at 0 and 10 hints, colourfulness relative to the originals at 0 hints, (a, b) error at the
hint pixels at 10 hints, date.  Then the table is printed best first (PSNR at 10 hints, then at 0).
`--split eval_in2` evaluates on the photos held out from the other sources instead (table
snapshots-colorize-eval_in2.tsv): the check that a snapshot's automatic mode holds on photos
unlike the training pack's.
"""
import argparse
import datetime
import os

from models.dataset import p2p_data
from models.eval import cli, colorize

COLUMNS = ("snapshot", "step", "photos", "psnr_n0", "psnr_n10", "dgrey_n0", "dgrey_n10",
           "ab_err_n0", "ab_err_n10", "colourfulness_n0", "hint_err_n10", "evaluated")
DEFAULT_TABLE = os.path.join(cli.REPO, "models", "eval", "snapshots-colorize.tsv")


def default_snapshots():
    root = os.environ.get("P2P_STATE_ROOT") or "/var/lib/gimp-pix2pix-train"
    return os.path.join(root, "colorize", "snapshots")


def read_table(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        lines = [ln.rstrip("\n") for ln in f if ln.strip() and not ln.startswith("#")]
    if not lines:
        return []
    head = lines[0].split("\t")
    return [dict(zip(head, ln.split("\t"))) for ln in lines[1:]]


def write_table(path, rows, split="eval_in"):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("# Colorize training snapshots evaluated through pix2pix-cli (models/eval/snapshots.py):\n"
                "# %s photos at short side 256, Rec.601 grey, seeded 5x5 hints; PSNR in dB on\n"
                "# 8-bit RGB, dgrey = PSNR minus the grey image's, colourfulness relative to the\n"
                "# originals, errors in Lab (a, b) units.\n" % split)
        f.write("\t".join(COLUMNS) + "\n")
        for r in sorted(rows, key=lambda r: (int(r["step"]) if r["step"].isdigit() else -1, r["snapshot"])):
            f.write("\t".join(str(r.get(c, "")) for c in COLUMNS) + "\n")
    os.replace(tmp, path)


def evaluate_snapshot(path, work, out, limit, cli_path, threads, split="eval_in"):
    res, _ = colorize.evaluate([path], work, out, counts=(0, 10), limit=limit, cli_path=cli_path,
                               threads=threads, with_levin=False, sheet_rows=0, log=lambda *a: None,
                               split=split)
    info = res["models"][0]
    m = res["means"]
    lab = info["label"]

    def f(x, spec="%.3f"):
        return spec % x

    return {"snapshot": os.path.basename(path), "step": "" if info["step"] is None else str(info["step"]),
            "photos": str(res["photos"]),
            "psnr_n0": f(m[lab + "@0"]["psnr"]), "psnr_n10": f(m[lab + "@10"]["psnr"]),
            "dgrey_n0": f(m[lab + "@0"]["psnr"] - m["grey@0"]["psnr"], "%+.3f"),
            "dgrey_n10": f(m[lab + "@10"]["psnr"] - m["grey@10"]["psnr"], "%+.3f"),
            "ab_err_n0": f(m[lab + "@0"]["ab_err"]), "ab_err_n10": f(m[lab + "@10"]["ab_err"]),
            "colourfulness_n0": f(m[lab + "@0"]["colourfulness_rel"]),
            "hint_err_n10": f(m[lab + "@10"]["hint_err"]),
            "evaluated": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%MZ")}


def main(argv=None):
    ap = argparse.ArgumentParser(description="evaluate new training snapshots into a table")
    ap.add_argument("--snapshots", default=default_snapshots(), help="folder of *.safetensors")
    ap.add_argument("--table", help="default models/eval/snapshots-colorize.tsv, for another split "
                    "snapshots-colorize-<split>.tsv")
    ap.add_argument("--split", default="eval_in", help="eval_in, or eval_in2 (held-out photos of other "
                    "sources)")
    ap.add_argument("--work", default=p2p_data.DEFAULT_WORK, help="dataset work folder (photos/)")
    ap.add_argument("--out", default=os.path.join(cli.REPO, "models", "eval", "results", "snapshots"),
                    help="folder for inputs, hints and outputs")
    ap.add_argument("--cli", help="pix2pix-cli binary")
    ap.add_argument("--model", action="append", default=[],
                    help="also this model file (e.g. the shipped one, as a reference row)")
    ap.add_argument("--limit", type=int, help="first N photos only (rows say how many)")
    ap.add_argument("--threads", type=int, help="pix2pix-cli --threads")
    args = ap.parse_args(argv)
    if not args.table:
        args.table = DEFAULT_TABLE if args.split == "eval_in" else \
            DEFAULT_TABLE.replace(".tsv", "-%s.tsv" % args.split)
    rows = read_table(args.table)
    done = {r["snapshot"] for r in rows}
    files = [os.path.join(args.snapshots, f) for f in sorted(os.listdir(args.snapshots))
             if f.endswith(".safetensors")] if os.path.isdir(args.snapshots) else []
    new = [p for p in files + args.model if os.path.basename(p) not in done]
    failed = 0
    for path in new:
        print("evaluating %s ..." % path, flush=True)
        try:
            rows.append(evaluate_snapshot(path, args.work, args.out, args.limit, args.cli, args.threads,
                                          args.split))
        except cli.CliError as e:  # e.g. a model this pix2pix-cli cannot run yet: retried next time
            print("  failed, not recorded: %s" % e, flush=True)
            failed += 1
            continue
        write_table(args.table, rows, args.split)  # after each: an interrupted run keeps what it finished
    print("%d new snapshot(s) evaluated, %d failed; table %s" % (len(new) - failed, failed, args.table))

    def key(r):
        return tuple(float(r[k]) if r.get(k) not in (None, "", "nan") else float("-inf")
                     for k in ("psnr_n10", "psnr_n0"))
    print("\t".join(COLUMNS[:-1]))
    for r in sorted(rows, key=key, reverse=True):
        print("\t".join(r.get(c, "") for c in COLUMNS[:-1]))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
