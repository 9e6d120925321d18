"""Which size modes give good pictures, through pix2pix-cli (issue 16 part 4).

    nice /usr/bin/python3 -m models.eval.modes [--limit N] [--filters colorize,sketch-to-photo]

(from the repository root).  Every eval_in photo (monochrome originals left out) at the size the
photo pack holds it (short side 512, the largest we have; the network's native size is 128, so
the image is 4x its side and the network at full resolution sees what a 128-px crop shows),
through every mode a filter could offer:

* resize at the default network size (no option: the model's native size, or for a model that
  declares resize_max_size, the image's shorter side up to it; models/FORMAT.md), and at 128 (the
  bundled models' native size), 256, 384 and 512 (--net-size);
* whole (the network on the whole image at its own resolution);
* tile (the default tiles: twice the native size, a quarter overlap, statistics of the whole image).

Auto Colorize: the input is the photo's Rec.601 grey; scored against the true colours by PSNR (8-bit
RGB) and mean Lab (a, b) error, and by colourfulness (Hasler-Suesstrunk, the mean over the photos
relative to the originals' mean: whole-resolution runs that see texture and not objects give
pale or wrong colours).  Baseline: the grey image.

Sketch to Photo: the input is a line drawing of the whole photo in the training's XDoG style
(models.dataset.sketch.style_map, seeded by photo id), the same drawing over flat fills of the
photo's segments in their mean colours (models.dataset.colour, "fills": a drawing with colour,
what the filter is made for; contact sheet of these), and a drawing in the held-out Laplacian style
(models.eval.sketch.log_sketch); scored against the photo by L1, PSNR, SSIM and the detail
ratio (output's mean gradient over the photo's).  Baseline: the sketch itself.

Writes modes.md and modes.json to --out (default models/eval/results/modes/) and a contact sheet
per filter (input | each mode | original).  The table in models/README.md ("Size modes") comes from
this script.
"""
import argparse
import datetime
import json
import os
import zlib

import numpy as np
from PIL import Image

from models.dataset import colour, p2p_data, sketch
from models.eval import cli, metrics, sheets
from models.eval.sketch import log_sketch

DEFAULT_OUT = os.path.join(cli.REPO, "models", "eval", "results", "modes")
MODELS = {"colorize": os.path.join(cli.REPO, "models", "colorize.safetensors"),
          "sketch-to-photo": os.path.join(cli.REPO, "models", "sketch-to-photo.safetensors")}
# (label, pix2pix-cli options)
# resize-default: no option, what users get (the native size, or for a model with a
# resize_max_size, the image's shorter side up to it); resize-128: the bundled models' native size.
MODES = (("resize-default", ()),
         ("resize-128", ("--net-size", "128")),
         ("resize-256", ("--net-size", "256")),
         ("resize-384", ("--net-size", "384")),
         ("resize-512", ("--net-size", "512")),
         ("whole", ("--size-mode", "whole")),
         ("tile", ("--size-mode", "tile")))
SEED = 2026
SHEET_WIDTH = 176                      # px per panel of the contact sheets


def photos(work, limit=None):
    rows = [r for r in p2p_data.read_index(work)
            if r["split"] == "eval_in" and r["mean_saturation"] >= 0.01]
    rows.sort(key=lambda r: r["id"])
    return rows[:limit] if limit else rows


def load(path):
    return np.asarray(Image.open(path).convert("RGB"))


def colorize_inputs(rgb):
    return {"grey": p2p_data.to_grey(rgb, "rec601")}


def sketch_inputs(rgb, pid):
    """Lines in the training's XDoG style, the same lines over flat fills of the photo's segments
    in their mean colours (the drawing with colour the filter is made for), and lines in the
    held-out style."""
    rng = np.random.default_rng([SEED, zlib.crc32(pid.encode("utf-8"))])
    xd = sketch.style_map(rgb, "xdog", rng)
    xd = (np.clip(xd, 0, 1) * 255).astype(np.uint8) if xd.dtype != np.uint8 else xd
    # Its own generator, so that adding this kind left the other two inputs as they were.
    frng = np.random.default_rng([SEED, zlib.crc32(pid.encode("utf-8")), 1])
    fills, _ = colour.coloured_sketch(rgb, xd, frng, "fills")
    return {"xdog": xd, "fills": fills, "held-out": log_sketch(rgb)}


def score_colorize(img, ref):
    return {"psnr": metrics.psnr(img, ref), "ab_err": metrics.ab_error(img, ref),
            "colourfulness": metrics.colourfulness(img)}


def score_sketch(img, ref):
    return {"l1": float(np.abs(img.astype(np.float64) - ref).mean() / 255.0),
            "psnr": metrics.psnr(img, ref), "ssim": metrics.ssim(img, ref),
            "detail": metrics.detail_ratio(img, ref)}


def evaluate(work, out, filters, limit=None, cli_path=None, threads=None, sheet_rows=6, log=print,
             reuse=False, models=None):
    """models: {filter: model file} for filters measured with another file than the bundled one."""
    models = {**MODELS, **(models or {})}
    exe = cli.find_cli(cli_path)
    rows = photos(work, limit)
    per = []
    orig_cf = []
    sheet_of = {f: [] for f in filters}
    for k, r in enumerate(rows):
        pid = r["id"]
        rgb = load(r["file"])
        orig_cf.append(metrics.colourfulness(rgb))
        for f in filters:
            idir = os.path.join(out, "inputs", f)
            os.makedirs(idir, exist_ok=True)
            inputs = colorize_inputs(rgb) if f == "colorize" else sketch_inputs(rgb, pid)
            score = score_colorize if f == "colorize" else score_sketch
            for kind, arr in inputs.items():
                inp = os.path.join(idir, "%s-%s.png" % (pid, kind))
                if not os.path.exists(inp):
                    Image.fromarray(arr).save(inp)
                base = arr if arr.ndim == 3 else np.repeat(arr[..., None], 3, axis=2)
                per.append(dict(filter=f, input=kind, mode="input", id=pid, **score(base, rgb)))
                row = [base]
                for mode, opts in MODES:
                    rdir = os.path.join(out, "runs", f, mode)
                    os.makedirs(rdir, exist_ok=True)
                    op = os.path.join(rdir, "%s-%s.png" % (pid, kind))
                    if not (reuse and os.path.exists(op)):
                        cli.run(exe, models[f], inp, op, threads=threads, extra=opts)
                    res = load(op)
                    per.append(dict(filter=f, input=kind, mode=mode, id=pid, **score(res, rgb)))
                    row.append(res)
                row.append(rgb)
                if kind in ("grey", "fills") and k % max(1, len(rows) // sheet_rows) == 0 \
                        and len(sheet_of[f]) < sheet_rows:
                    sheet_of[f].append(row)
        log("[%d/%d] %s" % (k + 1, len(rows), pid))
    for f in filters:
        sheets.grid(sheet_of[f], SHEET_WIDTH, titles=["input"] + [m for m, _ in MODES] + ["original"]).save(
            os.path.join(out, "contact-%s.png" % f))
    res = summarise(per, float(np.mean(orig_cf)), len(rows), exe)
    res["models"] = {f: models[f] for f in filters}
    return res


def summarise(per, orig_cf, n, exe):
    means = {}
    for e in per:
        key = "%s|%s|%s" % (e["filter"], e["input"], e["mode"])
        means.setdefault(key, []).append(e)
    table = {}
    for key, es in means.items():
        metrics_ = [k for k in es[0] if k not in ("filter", "input", "mode", "id")]
        table[key] = {m: float(np.mean([e[m] for e in es])) for m in metrics_}
        if "colourfulness" in table[key]:
            table[key]["colourfulness"] /= orig_cf
    return {"photos": n, "cli": exe, "date": datetime.datetime.utcnow().isoformat() + "Z",
            "means": table, "per_image": per}


def markdown(res):
    lines = ["Photos: %d (eval_in at short side 512)." % res["photos"], ""]
    lines += ["Model for %s: %s" % (f, path) for f, path in sorted(res.get("models", {}).items())] + [""]
    by = {}
    for key, v in res["means"].items():
        f, inp, mode = key.split("|")
        by.setdefault((f, inp), {})[mode] = v
    order = ["input"] + [m for m, _ in MODES]
    for (f, inp), modes in sorted(by.items()):
        cols = list(next(iter(modes.values())).keys())
        lines.append("**%s, input %s**" % (f, inp))
        lines.append("")
        lines.append("| mode | " + " | ".join(cols) + " |")
        lines.append("|---|" + "---|" * len(cols))
        for m in order:
            if m in modes:
                lines.append("| %s | " % m + " | ".join("%.3f" % modes[m][c] for c in cols) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default=os.path.join(cli.REPO, "models", "dataset", "work"))
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--filters", default="colorize,sketch-to-photo")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--cli")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--model", action="append", default=[], metavar="FILTER=FILE",
                    help="measure FILTER with this model file instead of the bundled one (repeatable)")
    ap.add_argument("--reuse", action="store_true",
                    help="keep the outputs of an earlier run in --out/runs (same CLI and models)")
    a = ap.parse_args(argv)
    filters = [f for f in a.filters.split(",") if f]
    for f in filters:
        if f not in MODELS:
            ap.error("unknown filter %s" % f)
    models = {}
    for spec in a.model:
        f, sep, path = spec.partition("=")
        if not sep or f not in MODELS or not os.path.isfile(path):
            ap.error("--model %s: give FILTER=FILE with a filter of %s and an existing file"
                     % (spec, ",".join(MODELS)))
        models[f] = os.path.abspath(path)
    os.makedirs(a.out, exist_ok=True)
    res = evaluate(a.work, a.out, filters, a.limit, a.cli, a.threads, reuse=a.reuse, models=models)
    with open(os.path.join(a.out, "modes.json"), "w") as fh:
        json.dump(res, fh, indent=1)
    md = markdown(res)
    with open(os.path.join(a.out, "modes.md"), "w") as fh:
        fh.write(md + "\n")
    print(md)


if __name__ == "__main__":
    main()
