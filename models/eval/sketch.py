"""Evaluate Sketch to Photo models through pix2pix-cli, as users get them (issue 14 part 5).

    nice /usr/bin/python3 -m models.eval.sketch [--model A.safetensors ...] [--limit N]

(from the repository root; default model models/sketch-to-photo.safetensors).  For every
eval_in photo, two square views at --size px (default 128, the model's native size, so the CLI's
default resize mode passes the image through unchanged): the whole photo (short side --size,
centre crop) and a detail (short side 2 x --size, centre crop).  Inputs, made once with a seed per
photo and view and reused for every model:

* lines: a training-style sketch (XDoG, HED-like, Canny in turn) with the hand-drawn augmentation;
* lines-log: a style never used in training (Laplacian-of-Gaussian zero crossings, no augmentation);
* fills, partial, strokes: the lines sketch with colour made from the photo (models/dataset/colour.py:
  flat fills of all segments, of some segments, brush strokes of the local photo colour).

Every model runs through `pix2pix-cli run --model M IN OUT` with default options.  Metrics
against the photo: PSNR (8-bit RGB), SSIM (RGB, and on Rec.601 luma as in the issue's lines-only
target) and the detail ratio (mean gradient magnitude of the output over the photo's; < 1 is
blurrier than the photo) and the grid peak (metrics.grid_peak: a decoder's checkerboard or grid
stands out above 1; photos score about 1).  Baseline: the input itself, scored the same way.

Writes to --out (default models/eval/results/sketch/): sketch.md (tables), sketch.json (summary and
per-image figures), contact-<model>-<kind>.png (input | output | photo, --sheet-rows rows), and
caches inputs/ (model-independent, reused) and runs/<model>/.  Also lineart.png, a qualitative
sheet on real human line art (Tux Paint starters, no ground truth): each page as lines only and
bucket-filled (every closed paper region in a palette colour), with every model's output.
"""
import argparse
import datetime
import json
import os

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

from models.dataset import colour, p2p_data, sketch
from models.eval import cli, metrics, sheets

REPO = cli.REPO
DEFAULT_OUT = os.path.join(REPO, "models", "eval", "results", "sketch")
KINDS = ("lines", "lines-log", "fills", "partial", "strokes")
LINE_STYLES = ("xdog", "hed", "canny")
SEED = 14
METRICS = ("psnr", "ssim", "ssim_luma", "detail", "grid")


def square(img, short, size):
    """Photo scaled to short side `short` (Lanczos), centre crop size x size."""
    h, w = img.shape[:2]
    sc = short / min(h, w)
    im = Image.fromarray(img).resize((max(size, round(w * sc)), max(size, round(h * sc))), Image.LANCZOS)
    a = np.asarray(im)
    y, x = (a.shape[0] - size) // 2, (a.shape[1] - size) // 2
    return np.ascontiguousarray(a[y:y + size, x:x + size])


def log_sketch(rgb, sigma=1.5, k=0.6):
    """Held-out style: zero crossings of the Laplacian of Gaussian of the luma whose jump exceeds
    k x the 90th percentile of |LoG| (the size-mode table in models/README.md draws its held-out style with it too)."""
    g = sketch.luma(rgb)
    lg = ndi.gaussian_laplace(g, sigma)
    thr = k * np.percentile(np.abs(lg), 90)
    zc = np.zeros(g.shape, bool)
    for ax in (0, 1):
        b = np.roll(lg, -1, axis=ax)
        zc |= (np.sign(lg) != np.sign(b)) & (np.abs(lg - b) > thr)
    zc[-1, :] = False
    zc[:, -1] = False
    return np.where(zc, 0, 255).astype(np.uint8)


def make_inputs(rgb, index, view, papers, seed=SEED):
    """{kind: HxWx3 uint8} for one photo view, seeded by (seed, index, view)."""
    rng = np.random.default_rng([seed, index, view])
    style = LINE_STYLES[(2 * index + view) % len(LINE_STYLES)]
    m = sketch.style_map(rgb, style, rng)
    if style == "hed":
        m = sketch.thicken(m)
    lines = sketch.augment(m, rng, papers)
    out = {"lines": np.repeat(lines[..., None], 3, axis=2),
           "lines-log": np.repeat(log_sketch(rgb)[..., None], 3, axis=2)}
    for kind in ("fills", "partial", "strokes"):
        out[kind], _ = colour.coloured_sketch(rgb, lines, rng, kind)
    return out, style


def score(img, ref):
    def y(a):
        return a.astype(np.float64) @ np.array(p2p_data.REC601)
    return {"psnr": metrics.psnr(img, ref), "ssim": metrics.ssim(img, ref),
            "ssim_luma": metrics.ssim(y(img), y(ref)), "detail": metrics.detail_ratio(img, ref),
            "grid": metrics.grid_peak(img)}


def evaluate(models, work, out, size=128, limit=None, seed=SEED, cli_path=None, threads=None,
             sheet_rows=8, log=print, split="eval_in", subject=None):
    exe = cli.find_cli(cli_path)
    papers = sketch.load_papers(work)
    splits = split.split(",")
    keep = p2p_data.subject_ids(subject, work) if subject else None
    rows = sorted((r for r in p2p_data.read_index(work)
                   if r["split"] in splits and (keep is None or r["id"] in keep)), key=lambda r: r["id"])
    if limit:
        rows = rows[:limit]
    labels, infos = [], []
    for m in models:
        md = cli.model_metadata(m)
        lab = cli.model_label(m, labels)
        labels.append(lab)
        infos.append({"label": lab, "file": os.path.abspath(m), "step": cli.training_step(md),
                      "training": md.get("training", "")})
    idir = os.path.join(out, "inputs-s%d-%d" % (seed, size))
    for k in KINDS + ("photo",):
        os.makedirs(os.path.join(idir, k), exist_ok=True)
    per = []
    sheet_of = {(i["label"], k): [] for i in infos for k in KINDS}
    for index, r in enumerate(rows):
        img = np.asarray(Image.open(r["file"]).convert("RGB"))
        for view, short in enumerate((size, 2 * size)):
            if min(img.shape[:2]) < short and view > 0:
                continue
            name = "%s-v%d" % (r["id"], view)
            rgb = square(img, short, size)
            paths = {k: os.path.join(idir, k, name + ".png") for k in KINDS}
            if not all(os.path.exists(p) for p in paths.values()):
                ins, _ = make_inputs(rgb, index, view, papers, seed)
                for k, p in paths.items():
                    Image.fromarray(ins[k]).save(p)
                Image.fromarray(rgb).save(os.path.join(idir, "photo", name + ".png"))
            for k in KINDS:
                inp = np.asarray(Image.open(paths[k]).convert("RGB"))
                per.append(dict(method="input", kind=k, id=name, **score(inp, rgb)))
                for info in infos:
                    rdir = os.path.join(out, "runs", info["label"], k)
                    os.makedirs(rdir, exist_ok=True)
                    op = os.path.join(rdir, name + ".png")
                    cli.run(exe, info["file"], paths[k], op, threads=threads)
                    res = np.asarray(Image.open(op).convert("RGB"))
                    if res.shape != rgb.shape:
                        raise RuntimeError("%s: output %s, expected %s" % (op, res.shape, rgb.shape))
                    per.append(dict(method=info["label"], kind=k, id=name, **score(res, rgb)))
                    sh = sheet_of[(info["label"], k)]
                    # rows spread over the photos: every 4th photo, alternating views
                    if len(sh) < sheet_rows and index % 4 == 0 and view == (index // 4) % 2:
                        sh.append([inp, res, rgb])
        log("[%d/%d] %s" % (index + 1, len(rows), r["id"]))
    means = {}
    for m in ["input"] + labels:
        for k in KINDS:
            es = [e for e in per if e["method"] == m and e["kind"] == k]
            means["%s@%s" % (m, k)] = {q: float(np.mean([e[q] for e in es])) for q in METRICS}
            means["%s@%s" % (m, k)]["n"] = len(es)
    for (lab, k), sh in sheet_of.items():
        if sh:
            # 128-px views drawn at 2x, nearest, to see single pixels (speckles, a grid)
            sheets.grid(sh, 2 * size, resample=Image.NEAREST).save(
                os.path.join(out, "contact-%s-%s.png" % (lab, k)))
    return {"models": infos, "kinds": KINDS, "size": size, "seed": seed, "cli": exe,
            "photos": len(rows), "split": split + (" (%s)" % subject if subject else ""), "means": means,
            "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%MZ")}, per


# Tux Paint colouring-book starters (GPL-2+): real human line art, no ground truth.
LINE_ART = ("chicken", "frog", "jetplane", "pansy", "rocket", "shipwreck", "nagasaki", "street", "hat")
# Colours for bucket-filling their regions (sky, grass, leaf, bark, sand, skin, brick, water, ...).
PALETTE = ((135, 180, 230), (110, 160, 70), (60, 110, 50), (120, 85, 60), (220, 200, 150),
           (230, 180, 150), (170, 70, 50), (60, 110, 160), (200, 60, 50), (240, 210, 80),
           (150, 150, 150))


def bucket_fill(grey, rng, min_frac=0.003):
    """GIMP's bucket fill on line art: every 4-connected paper region (grey > 128) of at least
    min_frac of the image filled with a palette colour, lines multiplied on top."""
    lab, n = ndi.label(grey > 128)
    area = np.bincount(lab.ravel(), minlength=n + 1)
    cols = np.array(PALETTE, np.float64)[rng.integers(0, len(PALETTE), n + 1)] / 255.0
    cols[0] = 1.0
    cols[area < min_frac * grey.size] = 1.0
    return colour.composite(grey, cols[lab])


def line_art_sheet(models, work, out, long_side=256, cli_path=None, threads=None, seed=SEED):
    """Input | output for each model, lines only and bucket-filled, on the Tux Paint starters.
    -> number of rows (0 when tuxpaint-data is not unpacked)."""
    exe = cli.find_cli(cli_path)
    root = os.path.join(work, "unpacked", "tuxpaint-data", "usr/share/tuxpaint/starters")
    d = os.path.join(out, "lineart")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    for name in LINE_ART:
        f = os.path.join(root, name + ".png")
        if not os.path.exists(f):
            continue
        im = Image.open(f).convert("RGBA")
        g = Image.alpha_composite(Image.new("RGBA", im.size, (255, 255, 255, 255)), im).convert("L")
        g.thumbnail((long_side, long_side), Image.LANCZOS)
        g = np.asarray(g)
        ins = {"lines": np.repeat(g[..., None], 3, axis=2), "filled": bucket_fill(g, rng)}
        row = []
        for k, x in ins.items():
            ip = os.path.join(d, "%s-%s.png" % (name, k))
            Image.fromarray(x).save(ip)
            row.append(x)
            for i, m in enumerate(models):
                op = os.path.join(d, "%s-%s-out%d.png" % (name, k, i))
                cli.run(exe, m, ip, op, threads=threads)
                row.append(np.asarray(Image.open(op).convert("RGB")))
        rows.append(row)
    if rows:
        sheets.grid(rows, long_side).save(os.path.join(out, "lineart.png"))
    return len(rows)


def markdown(res):
    lines = ["# Sketch to Photo through pix2pix-cli (default options)", "",
             "%d %s photos, 2 views each at %d px, seed %d, %s." % (
                 res["photos"], res.get("split", "eval_in"), res["size"], res["seed"], res["date"]), ""]
    for info in res["models"]:
        lines.append("* `%s`: %s" % (info["label"], info["training"]))
    lines += ["", "| kind | method | PSNR dB | SSIM | SSIM luma | detail ratio | grid peak | n |",
              "|---|---|---|---|---|---|---|---|"]
    for k in res["kinds"]:
        for m in ["input"] + [i["label"] for i in res["models"]]:
            s = res["means"]["%s@%s" % (m, k)]
            lines.append("| %s | %s | %.2f | %.3f | %.3f | %.2f | %.2f | %d |" % (
                k, m, s["psnr"], s["ssim"], s["ssim_luma"], s["detail"], s["grid"], s["n"]))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", action="append", help="model file (repeatable); default "
                    "models/sketch-to-photo.safetensors")
    ap.add_argument("--work", default=p2p_data.DEFAULT_WORK)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--cli", help="pix2pix-cli binary (default: see models/eval/cli.py)")
    ap.add_argument("--threads", type=int, default=1, help="pix2pix-cli --threads")
    ap.add_argument("--sheet-rows", type=int, default=8)
    ap.add_argument("--split", default="eval_in",
                    help="photos of this split, or of several (comma-separated; eval_in2: the second "
                         "held-out set of the grown list, --work /var/lib/gimp-pix2pix-train/data-v2)")
    ap.add_argument("--subject", choices=sorted(p2p_data.SUBJECTS),
                    help="only the photos of this subject (photo-sources.tsv's content column)")
    args = ap.parse_args()
    models = args.model or [os.path.join(REPO, "models", "sketch-to-photo.safetensors")]
    os.makedirs(args.out, exist_ok=True)
    res, per = evaluate(models, args.work, args.out, args.size, args.limit or None, args.seed,
                        args.cli, args.threads, args.sheet_rows, split=args.split,
                        subject=args.subject)
    with open(os.path.join(args.out, "sketch.json"), "w") as f:
        json.dump({"summary": res, "per_image": per}, f, indent=1)
    md = markdown(res)
    with open(os.path.join(args.out, "sketch.md"), "w") as f:
        f.write(md)
    print(md)
    n = line_art_sheet(models, args.work, args.out, cli_path=args.cli, threads=args.threads)
    print("lineart.png: %d Tux Paint starters (lines | output per model, filled | output per model)" % n)


if __name__ == "__main__":
    main()
