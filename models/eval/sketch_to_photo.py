"""Evaluate sketch-to-photo models through pix2pix-cli, as users get them.

    nice /usr/bin/python3 -m models.eval.sketch_to_photo [--model M ...] [--limit N]

(from the repository root).  Eval crops: for every eval_in photo, seeded 128 x 128 structured
crops with line-only sketches as in training (models.dataset.make_sketch_set.photo_crops: XDoG,
HED-like, Canny or a redrawn HED-like map, with hand-drawn augmentation; crop i uses variant i mod 3),
and the same crop drawn in a style never used in training (Laplacian-of-Gaussian zero crossings,
"held-out").  The crops are written once to --out/crops/ (seeded by photo id, reused).  Every
sketch goes through `pix2pix-cli run --model M SKETCH OUT` with default options.

Metrics against the photo crop: L1 (mean absolute error on a 0-1 scale), PSNR, SSIM, and the
detail ratio (mean gradient magnitude of the output over the photo's: below 1 is blurrier);
baseline: the sketch itself.  Writes sketch-to-photo.md / .json and contact-<model>.png (sketch |
output | photo) to --out (default models/eval/results/sketch-to-photo/), and
lineart-<model>.png: real line art (Tux Paint colouring-book starters, when the dataset work
folder has them) through the model, a qualitative check without ground truth.
"""
import argparse
import datetime
import json
import os
import zlib

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

from models.dataset import p2p_data, sketch
from models.eval import cli, metrics
from models.eval.colorize import contact_sheet, fmt, model_label

DEFAULT_OUT = os.path.join(cli.REPO, "models", "eval", "results", "sketch-to-photo")
SIZE = 128
SEED = 2026
STYLES = ("training-styles", "held-out")
LINE_ART = ("chicken", "frog", "jetplane", "pansy", "rocket", "shipwreck", "nagasaki", "street", "hat")


def log_style(rgb, sigma=1.5, k=0.6):
    """Held-out sketch style: Laplacian-of-Gaussian zero crossings with enough contrast, black on
    white."""
    g = sketch.luma(rgb)
    lg = ndi.gaussian_laplace(g, sigma)
    zc = np.zeros(g.shape, bool)
    for dy, dx in ((0, 1), (1, 0)):
        b = np.roll(lg, (-dy, -dx), axis=(0, 1))
        zc |= (np.sign(lg) != np.sign(b)) & (np.abs(lg - b) > k * np.percentile(np.abs(lg), 90))
    zc[-1, :] = zc[:, -1] = False
    return np.where(zc, 0, 255).astype(np.uint8)


def make_crops(work, folder, per_photo, limit=None, seed=SEED):
    """-> [(crop id, photo path, {style: sketch path})]; written once, then reused."""
    from models.dataset import make_sketch_set
    os.makedirs(folder, exist_ok=True)
    listing = os.path.join(folder, "crops-s%d-k%d.tsv" % (seed, per_photo))
    if not os.path.exists(listing):
        papers = sketch.load_papers(work)
        rows = []
        for r, img in p2p_data.load_photos("eval_in", work):
            rng = np.random.default_rng([seed, zlib.crc32(r["id"].encode("utf-8"))])
            made = make_sketch_set.photo_crops(img, SIZE, rng, papers, per_photo)
            for i, (crop, variants, *_rest) in enumerate(made):
                cid = "%s-%02d" % (r["id"], i)
                paths = {"photo": os.path.join(folder, cid + "-photo.png"),
                         "training-styles": os.path.join(folder, cid + "-sketch.png"),
                         "held-out": os.path.join(folder, cid + "-log.png")}
                Image.fromarray(crop).save(paths["photo"])
                Image.fromarray(variants[i % len(variants)]).save(paths["training-styles"])
                Image.fromarray(log_style(crop)).save(paths["held-out"])
                rows.append((cid, paths))
        with open(listing + ".tmp", "w") as f:
            for cid, p in rows:
                f.write("\t".join([cid, p["photo"], p["training-styles"], p["held-out"]]) + "\n")
        os.replace(listing + ".tmp", listing)
    out = []
    with open(listing) as f:
        for ln in f:
            cid, ph, sk, lg = ln.rstrip("\n").split("\t")
            out.append((cid, ph, {"training-styles": sk, "held-out": lg}))
    return out[:limit] if limit else out


def load(path):
    return np.asarray(Image.open(path).convert("RGB"))


def score(img, ref):
    return {"l1": float(np.abs(img.astype(np.float64) - ref).mean() / 255.0),
            "psnr": metrics.psnr(img, ref), "ssim": metrics.ssim(img, ref),
            "detail": metrics.detail_ratio(img, ref)}


def evaluate(models, work, out, per_photo=6, limit=None, cli_path=None, threads=None, sheet_rows=8,
             log=print):
    exe = cli.find_cli(cli_path)
    crops = make_crops(work, os.path.join(out, "crops"), per_photo, limit)
    labels = []
    for m in models:
        labels.append(model_label(m, labels))
    per = []
    sheets = {lab: [] for lab in labels}
    for k, (cid, ph, sks) in enumerate(crops):
        photo = load(ph)
        for style in STYLES:
            sk = load(sks[style])
            per.append(dict(method="sketch", style=style, id=cid, **score(sk, photo)))
            for m, lab in zip(models, labels):
                rdir = os.path.join(out, "runs", lab)
                os.makedirs(rdir, exist_ok=True)
                op = os.path.join(rdir, "%s-%s.png" % (cid, style))
                cli.run(exe, m, sks[style], op, threads=threads)
                res = load(op)
                per.append(dict(method=lab, style=style, id=cid, **score(res, photo)))
                if style == "training-styles" and k % max(1, len(crops) // sheet_rows) == 0 \
                        and len(sheets[lab]) < sheet_rows:
                    sheets[lab].append([sk, res, photo])
        if (k + 1) % 20 == 0:
            log("[%d/%d]" % (k + 1, len(crops)))
    methods = ["sketch"] + labels
    means = {}
    for m in methods:
        for style in STYLES:
            es = [e for e in per if e["method"] == m and e["style"] == style]
            means["%s@%s" % (m, style)] = {k: float(np.mean([e[k] for e in es]))
                                           for k in ("l1", "psnr", "ssim", "detail")}
    for lab in labels:
        contact_sheet(sheets[lab], os.path.join(out, "contact-%s.png" % lab), ["sketch", lab, "photo"])
        line_art(exe, work, [m for m, l2 in zip(models, labels) if l2 == lab][0],
                 os.path.join(out, "lineart-%s.png" % lab), os.path.join(out, "runs", lab), threads)
    return {"methods": methods, "crops": len(crops), "per_photo": per_photo, "cli": exe,
            "models": [{"label": lab, "file": os.path.abspath(m),
                        "training": cli.model_metadata(m).get("training", "")}
                       for m, lab in zip(models, labels)],
            "means": means, "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%MZ")}, per


def line_art(exe, work, model, path, rdir, threads):
    """Real line art (Tux Paint starters, GPL-2+) through the model: input | output."""
    root = os.path.join(work, "unpacked", "tuxpaint-data", "usr/share/tuxpaint/starters")
    rows = []
    for name in LINE_ART:
        f = os.path.join(root, name + ".png")
        if not os.path.exists(f):
            continue
        im = Image.open(f).convert("RGBA")
        flat = Image.alpha_composite(Image.new("RGBA", im.size, (255, 255, 255, 255)), im).convert("L")
        flat.thumbnail((384, 384), Image.LANCZOS)
        inp = os.path.join(rdir, "lineart-%s-in.png" % name)
        out = os.path.join(rdir, "lineart-%s-out.png" % name)
        flat.save(inp)
        cli.run(exe, model, inp, out, threads=threads)
        rows.append([np.asarray(flat.convert("RGB")), load(out)])
    if rows:
        contact_sheet(rows, path, ["line art", "output"], cell=200)


def markdown(res):
    lines = ["# Sketch to Photo evaluation through pix2pix-cli", "",
             "%d eval_in crops of %d px (%d a photo at most); %s; CLI %s." % (
                 res["crops"], SIZE, res["per_photo"], res["date"], res["cli"]), ""]
    for m in res["models"]:
        lines.append("* `%s`: %s, %s" % (m["label"], m["file"], m["training"]))
    lines += ["", "| input style | method | L1 | PSNR (dB) | SSIM | detail ratio |",
              "|---|---|---|---|---|---|"]
    for style in STYLES:
        for m in res["methods"]:
            e = res["means"]["%s@%s" % (m, style)]
            lines.append("| %s | %s | %s | %s | %s | %s |" % (style, m, fmt(e["l1"], "%.3f"), fmt(e["psnr"]),
                                                          fmt(e["ssim"], "%.3f"), fmt(e["detail"])))
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description="evaluate sketch-to-photo models through pix2pix-cli")
    ap.add_argument("--model", action="append", help="default models/sketch-to-photo.safetensors")
    ap.add_argument("--work", default=p2p_data.DEFAULT_WORK, help="dataset work folder")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--cli", help="pix2pix-cli binary")
    ap.add_argument("--per-photo", type=int, default=6, help="crops per photo at most")
    ap.add_argument("--limit", type=int, help="first N crops only")
    ap.add_argument("--threads", type=int, help="pix2pix-cli --threads")
    args = ap.parse_args(argv)
    models = args.model or [os.path.join(cli.REPO, "models", "sketch-to-photo.safetensors")]
    os.makedirs(args.out, exist_ok=True)
    res, per = evaluate(models, args.work, args.out, args.per_photo, args.limit, args.cli, args.threads)
    with open(os.path.join(args.out, "sketch-to-photo.json"), "w") as f:
        json.dump({"summary": res, "per_image": per}, f, indent=1)
    md = markdown(res)
    with open(os.path.join(args.out, "sketch-to-photo.md"), "w") as f:
        f.write(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
