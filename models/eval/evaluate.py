#!/usr/bin/python3
"""Evaluate the sketch-to-photo model on the eval_in split (issue 4's figures).

    /usr/bin/python3 -m models.eval.evaluate --task sketch-to-photo      # from the repository root

Colorize is no longer evaluated here: it goes through pix2pix-cli, as users get it, with the
colour-hint sweep and the grey and Levin baselines (models.eval.colorize, models.eval.snapshots).
This older path runs the network in PyTorch (models/tools/p2p_nets.py) from the exported
safetensors file, in the engine's default "official-deterministic" mode (BatchNorm with
per-image statistics, no dropout), with bilinear resizing; the product resizes bicubically, so
these figures describe the network rather than the shipped filter.

sketch-to-photo: the fixed eval crops of make_sketch_set --split eval_in (styles as in training),
and the same crops drawn with a style the net never saw in training (Laplacian-of-Gaussian zero
crossings, "log"): L1 (mean absolute error on a 0-1 scale), PSNR, SSIM of the output against the
photo, and of the baseline (the sketch itself) against the photo.

Writes a JSON file and a contact sheet (input | output | original) to --out, and a sheet of real
line art (Tux Paint starters) through the model, as a qualitative check.
"""
import argparse
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from scipy import ndimage as ndi

from models.dataset import p2p_data, sketch
from models.eval.metrics import psnr, ssim
from models.tools import p2p_nets, p2p_safetensors

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def load_net(path):
    tensors, md = p2p_safetensors.load_model(path)
    G = p2p_nets.build_generator(md["arch"], int(md["input_nc"]), int(md["output_nc"]),
                                 int(md["ngf"]), md["norm"], md["dropout"] == "true")
    sd = G.state_dict()
    for k in sd:
        if k in tensors:
            sd[k] = torch.from_numpy(np.array(tensors[k], dtype=np.float32))
    G.load_state_dict(sd)
    p2p_nets.set_official_test_mode(G)
    return G, md


def run_net(G, x, multiple):
    """x: 1xCxHxW float tensor; resized to multiples of `multiple`, output resized back."""
    h, w = x.shape[2:]
    H = max(multiple, int(round(h / multiple)) * multiple)
    W = max(multiple, int(round(w / multiple)) * multiple)
    xi = F.interpolate(x, size=(H, W), mode="bilinear", align_corners=False) if (H, W) != (h, w) else x
    with torch.no_grad():
        y = G(xi)
    if (H, W) != (h, w):
        y = F.interpolate(y, size=(h, w), mode="bilinear", align_corners=False)
    return y


def scaled(img, short):
    h, w = img.shape[:2]
    s = min(h, w)
    if s <= short:
        return img
    sc = short / s
    return np.asarray(Image.fromarray(img).resize((round(w * sc), round(h * sc)), Image.LANCZOS))


def sheet(rows, path, cell=160):
    """rows: list of [HxWx3 uint8 ...]; each image fitted into cell x cell."""
    ncol = max(len(r) for r in rows)
    W = Image.new("RGB", (ncol * cell, len(rows) * cell), "white")
    for i, r in enumerate(rows):
        for j, im in enumerate(r):
            p = Image.fromarray(im)
            p.thumbnail((cell, cell), Image.LANCZOS)
            W.paste(p, (j * cell + (cell - p.size[0]) // 2, i * cell + (cell - p.size[1]) // 2))
    W.save(path)


def log_style(rgb, sigma=1.5, k=0.6):
    """Held-out sketch style: Laplacian-of-Gaussian zero crossings with enough contrast."""
    g = sketch.luma(rgb)
    lg = ndi.gaussian_laplace(g, sigma)
    zc = np.zeros(g.shape, bool)
    for dy, dx in ((0, 1), (1, 0)):
        a = lg
        b = np.roll(lg, (-dy, -dx), axis=(0, 1))
        zc |= (np.sign(a) != np.sign(b)) & (np.abs(a - b) > k * np.percentile(np.abs(lg), 90))
    zc[-1, :] = zc[:, -1] = False
    return np.where(zc, 0, 255).astype(np.uint8)


def eval_sketch(args):
    G, md = load_net(args.model)
    d = os.path.join(args.work, "sketch-eval")
    photos = np.load(os.path.join(d, "photos.npy"))
    sketches = np.load(os.path.join(d, "sketches.npy"))
    n = min(len(photos), args.max_crops)
    styles = {"training-styles": [sketches[i, i % sketches.shape[1]] for i in range(n)],
              "held-out-log": [log_style(photos[i]) for i in range(n)]}
    summary = {"task": "sketch-to-photo", "model_file": args.model, "training": md.get("training", ""),
               "crops": n}
    rows = []
    for sname, sks in styles.items():
        acc = {"model": [], "baseline": []}
        for i in range(n):
            sk = sks[i]
            x = torch.from_numpy(np.repeat((sk.astype(np.float32) / 127.5 - 1.0)[None, None], 3, axis=1))
            y = run_net(G, x, 2 ** p2p_nets.parse_arch(md["arch"])[1])[0].numpy().transpose(1, 2, 0)
            out = ((y + 1.0) / 2.0 * 255.0).clip(0, 255).astype(np.uint8)
            base = np.repeat(sk[..., None], 3, axis=2)
            for name, im in (("model", out), ("baseline", base)):
                acc[name].append((np.abs(im.astype(np.float64) - photos[i]).mean() / 255.0,
                                  psnr(im, photos[i]), ssim(im, photos[i])))
            per_style = max(1, args.sheet_rows // len(styles))
            if i % max(1, n // per_style) == 0 and len(rows) < per_style * (1 + list(styles).index(sname)):
                rows.append([base, out, photos[i]])
        summary[sname] = {k: dict(zip(("l1", "psnr", "ssim"), np.mean(v, axis=0).tolist()))
                          for k, v in acc.items()}
    return summary, None, rows


LINE_ART = ("chicken", "frog", "jetplane", "pansy", "rocket", "shipwreck", "nagasaki", "street", "hat")


def line_art_sheet(args, path):
    """Real human line art (Tux Paint colouring-book starters, GPL-2+): no ground truth, a
    qualitative sheet only (input | output)."""
    G, md = load_net(args.model)
    root = os.path.join(args.work, "unpacked", "tuxpaint-data", "usr/share/tuxpaint/starters")
    rows = []
    for name in LINE_ART:
        f = os.path.join(root, name + ".png")
        if not os.path.exists(f):
            continue
        im = Image.open(f).convert("RGBA")
        bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
        g = np.asarray(Image.alpha_composite(bg, im).convert("L"))
        g = scaled(g, args.eval_size)
        x = torch.from_numpy(np.repeat((g.astype(np.float32) / 127.5 - 1.0)[None, None], 3, axis=1))
        y = run_net(G, x, 2 ** p2p_nets.parse_arch(md["arch"])[1])[0].numpy().transpose(1, 2, 0)
        rows.append([np.repeat(g[..., None], 3, axis=2), ((y + 1) / 2 * 255).clip(0, 255).astype(np.uint8)])
    if rows:
        sheet(rows, path, cell=200)
    return len(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--task", default="sketch-to-photo", choices=("sketch-to-photo",),
                    help="colorize: see models.eval.colorize")
    ap.add_argument("--model", help="default models/<task>.safetensors")
    ap.add_argument("--work", default=p2p_data.DEFAULT_WORK)
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--eval-size", type=int, default=256)
    ap.add_argument("--max-crops", type=int, default=400)
    ap.add_argument("--sheet-rows", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.model is None:
        args.model = os.path.join(REPO, "models", args.task + ".safetensors")
    os.makedirs(args.out, exist_ok=True)
    summary, per, rows = eval_sketch(args)
    summary["line_art_sheet_rows"] = line_art_sheet(
        args, os.path.join(args.out, args.task + "-lineart.png"))
    with open(os.path.join(args.out, args.task + ".json"), "w") as f:
        json.dump({"summary": summary, "per_image": per}, f, indent=1)
    sheet(rows, os.path.join(args.out, args.task + "-contact.png"))
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
