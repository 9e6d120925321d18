"""Evaluate colorize models through pix2pix-cli, as users get them (issue 13 part 5).

    nice /usr/bin/python3 -m models.eval.colorize [--model A.safetensors ...] [--limit N]

(from the repository root).  For every eval_in photo (--split eval_in2: the held-out photos of
other sources; short side 256, Rec.601 grey; monochrome originals, mean saturation < 0.01, left
out) and every hint count N in 0, 1, 2, 5, 10, 20, 50:

* the seeded hints file of models/eval/hints.py (one per photo and N, nested over N, reused for
  every model and for the baseline);
* every model runs through `pix2pix-cli run --model M [--hints H] GREY OUT` with default options
  (resize mode at the model's native size, guided-filter chroma upsampling); --hints is passed
  only when N > 0 and the model takes hints (input_space lab_l_hints).  A model without a hints
  input is run once, and its 0-hint output stands for every N (so it is compared at equal hints);
* baselines: the grey image, and Levin et al. 2004 (models/eval/levin.py) with the same hints.

Metrics against the original colour photo: PSNR on 8-bit RGB, SSIM, mean Lab (a, b) error (the
lightness is equal by construction, so PSNR moves little), Hasler-Suesstrunk colourfulness relative
to the originals' (ratio of the means), and the mean (a, b) error at the hint pixels against the
hint colours (the output must obey its hints).  Means, and paired per-image differences of each
model at N against the grey image, against Levin at N and against itself at 0 hints (at the
smallest N given, when 0 is not among --counts).

Writes to --out (default models/eval/results/colorize/): colorize.md (tables), colorize.json
(summary and per-image figures), contact-<model>.png (input with its 10 hints drawn | model at
0 hints | at 10 | Levin at 10 | original), and caches: inputs/, hints-s<seed>/, levin-s<seed>/
(model-independent, reused), runs/<model>/ (rewritten every time).
"""
import argparse
import datetime
import json
import math
import os

import numpy as np
from PIL import Image

from models.dataset import p2p_data
from models.eval import cli, hints, levin, metrics, sheets

REPO = cli.REPO
DEFAULT_OUT = os.path.join(REPO, "models", "eval", "results", "colorize")
SHEET_WIDTH = 176                      # px per panel of the contact sheets
METRICS = ("psnr", "ssim", "ab_err", "colourfulness", "hint_err")


def eval_photos(work, limit=None, split="eval_in"):
    """[(row, colour photo at eval size, grey)] of @split, monochrome originals left out."""
    rows = [r for r in p2p_data.read_index(work) if r["split"] == split and r["mean_saturation"] >= 0.01]
    rows.sort(key=lambda r: r["id"])
    if limit:
        rows = rows[:limit]
    out = []
    for r in rows:
        rgb, grey = hints.prepare(np.asarray(Image.open(r["file"]).convert("RGB")))
        out.append((r, rgb, grey))
    return out


def load_rgb(path):
    return np.asarray(Image.open(path).convert("RGB"))


def score(img, ref, hint_ab, mask):
    return {"psnr": metrics.psnr(img, ref), "ssim": metrics.ssim(img, ref),
            "ab_err": metrics.ab_error(img, ref), "colourfulness": metrics.colourfulness(img),
            "hint_err": metrics.hint_error(img, hint_ab, mask)}


def evaluate(models, work, out, counts=hints.COUNTS, limit=None, seed=hints.SEED, cli_path=None,
             threads=None, with_levin=True, sheet_rows=8, log=print, cli_args=(), split="eval_in"):
    """-> result dict (see summarise); writes images and caches under out."""
    exe = cli.find_cli(cli_path)
    counts = sorted(set(counts))
    labels = []
    infos = []
    for m in models:
        md = cli.model_metadata(m)
        lab = cli.model_label(m, labels)
        labels.append(lab)
        infos.append({"label": lab, "file": os.path.abspath(m), "takes_hints": cli.takes_hints(md),
                      "step": cli.training_step(md), "training": md.get("training", ""),
                      "name": md.get("name", "")})
    photos = eval_photos(work, limit, split)
    dirs = {k: os.path.join(out, k) for k in ("inputs", "hints-s%d" % seed, "levin-s%d" % seed)}
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)
    per = []  # {"method", "n", "id", metric...}
    orig_cf = {}
    sheet = {info["label"]: [] for info in infos}
    for k, (row, rgb, grey) in enumerate(photos):
        pid = row["id"]
        inp = os.path.join(dirs["inputs"], pid + ".png")
        if not os.path.exists(inp):
            Image.fromarray(grey, "L").save(inp)
        hpaths = hints.ensure_hints(dirs["hints-s%d" % seed], pid, rgb, counts, seed)
        orig_cf[pid] = metrics.colourfulness(rgb)
        grey3 = np.repeat(grey[..., None], 3, axis=2)
        shown = {}
        for n in counts:
            rgba = np.asarray(Image.open(hpaths[n]).convert("RGBA"))
            hab, mask = hints.read_hints(rgba)
            per.append(dict(method="grey", n=n, id=pid, **score(grey3, rgb, hab, mask)))
            if with_levin:
                lp = os.path.join(dirs["levin-s%d" % seed], "%s-n%02d.png" % (pid, n))
                if os.path.exists(lp):
                    lv = load_rgb(lp)
                else:
                    lv = levin.colorize(grey, hab, mask)
                    Image.fromarray(lv).save(lp + ".tmp.png")
                    os.replace(lp + ".tmp.png", lp)
                per.append(dict(method="levin", n=n, id=pid, **score(lv, rgb, hab, mask)))
                shown[("levin", n)] = lv
            for info in infos:
                rdir = os.path.join(out, "runs", info["label"])
                os.makedirs(rdir, exist_ok=True)
                if info["takes_hints"]:
                    op = os.path.join(rdir, "%s-n%02d.png" % (pid, n))
                    cli.run(exe, info["file"], inp, op, hints=hpaths[n] if n > 0 else None,
                            threads=threads, extra=cli_args)
                else:  # one run without hints stands for every N
                    op = os.path.join(rdir, "%s-n%02d.png" % (pid, 0))
                    if n == counts[0]:
                        cli.run(exe, info["file"], inp, op, threads=threads, extra=cli_args)
                res = load_rgb(op)
                if res.shape != rgb.shape:
                    raise RuntimeError("%s: output %s, expected %s" % (op, res.shape, rgb.shape))
                per.append(dict(method=info["label"], n=n, id=pid, **score(res, rgb, hab, mask)))
                shown[(info["label"], n)] = res
            if n == 10 or (n == max(counts) and 10 not in counts):
                shown["hinted_input"] = hints.draw_hints(grey, rgba)
                shown["sheet_n"] = n
        for info in infos:
            if len(sheet[info["label"]]) < sheet_rows and "hinted_input" in shown:
                n10 = shown["sheet_n"]
                row_imgs = [shown["hinted_input"], shown[(info["label"], min(counts))],
                            shown[(info["label"], n10)]]
                if with_levin:
                    row_imgs.append(shown[("levin", n10)])
                sheet[info["label"]].append(row_imgs + [rgb])
        log("[%d/%d] %s" % (k + 1, len(photos), pid))
    result = summarise(per, orig_cf, infos, counts, with_levin)
    result.update({"photos": len(photos), "split": split, "eval_size": hints.EVAL_SIZE, "grey": "rec601",
                   "hint_side": hints.SIDE, "seed": seed, "cli": exe, "cli_args": list(cli_args),
                   "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%MZ")})
    for info in infos:
        if sheet[info["label"]]:
            n10 = 10 if 10 in counts else max(counts)
            titles = ["input, %d hints" % n10, "%s, %d hints" % (info["label"], min(counts)),
                      "%s, %d hints" % (info["label"], n10)]
            titles += ["Levin 2004, %d hints" % n10] if with_levin else []
            sheets.grid(sheet[info["label"]], SHEET_WIDTH, titles=titles + ["original"]).save(
                os.path.join(out, "contact-%s.png" % info["label"]))
    return result, per


def mean(xs):
    xs = [x for x in xs if not (isinstance(x, float) and math.isnan(x))]
    return float(np.mean(xs)) if xs else float("nan")


def paired(a, b):
    """Paired differences a - b over the same photos: mean, standard error, wins of a."""
    d = np.array(a, float) - np.array(b, float)
    d = d[~np.isnan(d)]
    if len(d) == 0:
        return {"mean": float("nan"), "se": float("nan"), "wins": 0, "n": 0}
    se = float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float("nan")
    return {"mean": float(d.mean()), "se": se, "wins": int((d > 0).sum()), "n": int(len(d))}


def summarise(per, orig_cf, infos, counts, with_levin):
    methods = ["grey"] + (["levin"] if with_levin else []) + [i["label"] for i in infos]
    ocf = float(np.mean(list(orig_cf.values())))
    table = {}
    by = {}
    for e in per:
        by.setdefault((e["method"], e["n"]), {})[e["id"]] = e
    for m in methods:
        for n in counts:
            es = list(by[(m, n)].values())
            s = {k: mean([e[k] for e in es]) for k in METRICS}
            s["colourfulness_rel"] = s["colourfulness"] / ocf if ocf > 0 else float("nan")
            table["%s@%d" % (m, n)] = s
    diffs = {}
    for info in infos:
        m = info["label"]
        for n in counts:
            ids = sorted(by[(m, n)])

            def col(method, nn, key="psnr"):
                return [by[(method, nn)][i][key] for i in ids]

            d = {"psnr_vs_grey": paired(col(m, n), col("grey", n)),
                 "psnr_vs_self_0": paired(col(m, n), col(m, min(counts))),
                 "ab_err_vs_grey": paired(col(m, n, "ab_err"), col("grey", n, "ab_err"))}
            if with_levin:
                d["psnr_vs_levin"] = paired(col(m, n), col("levin", n))
                d["ab_err_vs_levin"] = paired(col(m, n, "ab_err"), col("levin", n, "ab_err"))
            diffs["%s@%d" % (m, n)] = d
    return {"methods": methods, "counts": counts, "models": infos, "original_colourfulness": ocf,
            "means": table, "paired": diffs}


def fmt(x, spec="%.2f"):
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else spec % x


def markdown(res):
    c = res["counts"]
    mt = res["means"]
    lines = ["# Colorize evaluation through pix2pix-cli", "",
             "%d %s photos at short side %d, %s grey input; %d x %d px hints (seed %d); %s; "
             "CLI %s." % (res["photos"], res.get("split", "eval_in"), res["eval_size"], res["grey"], res["hint_side"],
                          res["hint_side"], res["seed"], res["date"], res["cli"]), ""]
    if res.get("cli_args"):
        lines += ["**Not the default options:** every run had `%s` (a diagnostic, not what users get)."
                  % " ".join(res["cli_args"]), ""]
    for info in res["models"]:
        lines.append("* `%s`: %s%s, %s" % (info["label"], info["file"],
                                            "" if info["takes_hints"] else " (takes no hints: its "
                                            "0-hint output stands for every N)", info["training"]))
    lines.append("")

    def sweep(key, title, spec):
        lines.extend(["## %s by number of hints" % title, "",
                      "| method | " + " | ".join("N=%d" % n for n in c) + " |",
                      "|---|" + "---|" * len(c)])
        for m in res["methods"]:
            lines.append("| %s | " % m + " | ".join(fmt(mt["%s@%d" % (m, n)][key], spec) for n in c) + " |")
        lines.append("")

    sweep("psnr", "PSNR (dB, 8-bit RGB)", "%.2f")
    sweep("ab_err", "Mean Lab (a, b) error", "%.2f")
    sweep("hint_err", "Mean (a, b) error at the hint pixels", "%.2f")
    sweep("ssim", "SSIM", "%.3f")
    sweep("colourfulness_rel", "Colourfulness relative to the originals", "%.2f")
    lines.extend(["## Paired per-image PSNR differences (dB): mean ± standard error (photos where "
                  "the model is better)", "",
                  "| model | N | vs grey | vs Levin at N | vs itself at 0 hints |", "|---|---|---|---|---|"])
    for info in res["models"]:
        for n in c:
            d = res["paired"]["%s@%d" % (info["label"], n)]

            def p(k):
                if k not in d:
                    return "–"
                x = d[k]
                return "%s ± %s (%d/%d)" % (fmt(x["mean"], "%+.2f"), fmt(x["se"], "%.2f"), x["wins"], x["n"])
            lines.append("| %s | %d | %s | %s | %s |" % (info["label"], n, p("psnr_vs_grey"),
                                                         p("psnr_vs_levin"), p("psnr_vs_self_0")))
    lines.append("")
    return "\n".join(lines)


def parse_counts(s):
    return tuple(int(x) for x in s.split(",") if x.strip())


def main(argv=None):
    ap = argparse.ArgumentParser(description="evaluate colorize models through pix2pix-cli")
    ap.add_argument("--model", action="append", help="model file (repeat for several; default "
                    "models/colorize.safetensors)")
    ap.add_argument("--work", default=p2p_data.DEFAULT_WORK, help="dataset work folder (photos/)")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--cli", help="pix2pix-cli binary (default $P2P_CLI, then _build/cli/, "
                    "_build/core/, $PATH)")
    ap.add_argument("--counts", type=parse_counts, default=hints.COUNTS, help="hint counts, e.g. 0,10")
    ap.add_argument("--limit", type=int, help="first N photos only (by id)")
    ap.add_argument("--split", default="eval_in", help="the index split to evaluate on: eval_in (the "
                    "photo pack's held-out photos) or eval_in2 (held-out photos of other sources)")
    ap.add_argument("--seed", type=int, default=hints.SEED)
    ap.add_argument("--threads", type=int, help="pix2pix-cli --threads")
    ap.add_argument("--no-levin", action="store_true", help="leave out the Levin baseline")
    ap.add_argument("--cli-arg", action="append", default=[],
                    help="extra pix2pix-cli run option for every run, e.g. --cli-arg=--size-mode "
                         "--cli-arg=whole (a diagnostic: the figures then no longer describe "
                         "what users get; said so in the report)")
    args = ap.parse_args(argv)
    models = args.model or [os.path.join(REPO, "models", "colorize.safetensors")]
    os.makedirs(args.out, exist_ok=True)
    res, per = evaluate(models, args.work, args.out, args.counts, args.limit, args.seed, args.cli,
                        args.threads, not args.no_levin, cli_args=args.cli_arg, split=args.split)
    with open(os.path.join(args.out, "colorize.json"), "w") as f:
        json.dump({"summary": res, "per_image": per}, f, indent=1)
    md = markdown(res)
    with open(os.path.join(args.out, "colorize.md"), "w") as f:
        f.write(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
