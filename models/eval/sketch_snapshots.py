"""Sketch to Photo training snapshots through pix2pix-cli, kept in a table (issue 14 part 6), so
that the model to ship is chosen by evaluation, not by the last step.

    nice /usr/bin/python3 -m models.eval.sketch_snapshots [--snapshots DIR] [--table FILE] [--model M]

(from the repository root).  Every *.safetensors in DIR (default
$P2P_STATE_ROOT/sketch-to-photo/snapshots, P2P_STATE_ROOT defaulting to /var/lib/gimp-pix2pix-train)
and every --model whose file name is not yet in the table is evaluated as models.eval.sketch does
(same seeded inputs, default CLI options), one at a time, and its row appended to the table
(default models/eval/snapshots-sketch.tsv, committed).  Columns per input kind (lines, lines-log,
fills, partial, strokes): PSNR, SSIM, SSIM on luma, detail ratio.  The table's header comment
carries the input-itself baseline of the same inputs.  Printed best first by the mean PSNR over the
coloured kinds.
"""
import argparse
import datetime
import os

from models.dataset import p2p_data
from models.eval import cli, sketch
from models.eval.snapshots import read_table

SHORT = {"lines": "lines", "lines-log": "log", "fills": "fills", "partial": "partial", "strokes": "strokes"}
QS = (("psnr", "psnr"), ("ssim", "ssim"), ("ssimY", "ssim_luma"), ("detail", "detail"), ("grid", "grid"))
COLUMNS = (("snapshot", "step", "photos", "views")
           + tuple("%s_%s" % (q, SHORT[k]) for k in sketch.KINDS for q, _ in QS) + ("evaluated",))
DEFAULT_TABLE = os.path.join(cli.REPO, "models", "eval", "snapshots-sketch.tsv")


def default_snapshots():
    root = os.environ.get("P2P_STATE_ROOT") or "/var/lib/gimp-pix2pix-train"
    return os.path.join(root, "sketch-to-photo", "snapshots")


def write_table(path, rows, baseline):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("# Sketch to Photo snapshots through pix2pix-cli (models/eval/sketch_snapshots.py): eval_in,\n"
                "# two 128-px views per photo, seeded inputs (models/eval/sketch.py); PSNR dB on 8-bit RGB,\n"
                "# SSIM on RGB and on luma (ssimY), detail = mean gradient of output / photo, grid = grid peak\n"
                "# (metrics.grid_peak; about 1 for photos, above for a checkerboard; blank in older rows).\n")
        if baseline:
            f.write("# input itself: %s\n" % baseline)
        f.write("\t".join(COLUMNS) + "\n")
        for r in sorted(rows, key=lambda r: (int(r["step"]) if r["step"].isdigit() else -1, r["snapshot"])):
            f.write("\t".join(str(r.get(c, "")) for c in COLUMNS) + "\n")
    os.replace(tmp, path)


def evaluate_snapshot(path, work, out, limit, cli_path, threads):
    res, _ = sketch.evaluate([path], work, out, limit=limit, cli_path=cli_path, threads=threads,
                             sheet_rows=0, log=lambda *a: None)
    info = res["models"][0]
    m = res["means"]
    row = {"snapshot": os.path.basename(path), "step": "" if info["step"] is None else str(info["step"]),
           "photos": str(res["photos"]), "views": str(m["%s@lines" % info["label"]]["n"]),
           "evaluated": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%MZ")}
    base = []
    for k in sketch.KINDS:
        for q, key in QS:
            row["%s_%s" % (q, SHORT[k])] = "%.3f" % m["%s@%s" % (info["label"], k)][key]
        b = m["input@%s" % k]
        base.append("%s %.2f dB / SSIM %.3f / ssimY %.3f / detail %.2f" % (
            SHORT[k], b["psnr"], b["ssim"], b["ssim_luma"], b["detail"]))
    return row, "; ".join(base)


def read_baseline(path):
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for ln in f:
                if ln.startswith("# input itself: "):
                    return ln[len("# input itself: "):].strip()
    return ""


def main(argv=None):
    ap = argparse.ArgumentParser(description="evaluate new sketch-to-photo snapshots into a table")
    ap.add_argument("--snapshots", default=default_snapshots(), help="folder of *.safetensors")
    ap.add_argument("--table", default=DEFAULT_TABLE)
    ap.add_argument("--work", default=p2p_data.DEFAULT_WORK, help="dataset work folder (photos/)")
    ap.add_argument("--out", default=os.path.join(cli.REPO, "models", "eval", "results", "sketch-snapshots"))
    ap.add_argument("--cli", help="pix2pix-cli binary")
    ap.add_argument("--model", action="append", default=[], help="also this model file (a reference row)")
    ap.add_argument("--limit", type=int, help="first N photos only (rows say how many)")
    ap.add_argument("--threads", type=int, default=1, help="pix2pix-cli --threads")
    args = ap.parse_args(argv)
    rows = read_table(args.table)
    baseline = read_baseline(args.table)
    done = {r["snapshot"] for r in rows}
    files = [os.path.join(args.snapshots, f) for f in sorted(os.listdir(args.snapshots))
             if f.endswith(".safetensors")] if os.path.isdir(args.snapshots) else []
    new = [p for p in args.model + files if os.path.basename(p) not in done]
    failed = 0
    for path in new:
        print("evaluating %s ..." % path, flush=True)
        try:
            row, base = evaluate_snapshot(path, args.work, args.out, args.limit, args.cli, args.threads)
        except cli.CliError as e:
            print("  failed, not recorded: %s" % e, flush=True)
            failed += 1
            continue
        rows.append(row)
        baseline = baseline or base
        write_table(args.table, rows, baseline)
    print("%d new snapshot(s) evaluated, %d failed; table %s" % (len(new) - failed, failed, args.table))

    def key(r):
        try:
            return sum(float(r["psnr_" + k]) for k in ("fills", "partial", "strokes")) / 3
        except (KeyError, ValueError):
            return float("-inf")
    cols = ("snapshot", "step", "psnr_lines", "ssimY_lines", "psnr_fills", "ssim_fills",
            "detail_fills", "psnr_strokes", "detail_lines")
    print("\t".join(cols))
    for r in sorted(rows, key=key, reverse=True):
        print("\t".join(r.get(c, "") for c in cols))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
