#!/usr/bin/python3
"""Precompute a fixed sketch -> photo training set for CPU training.

Usage:
  /usr/bin/python3 -m models.dataset.make_sketch_set --split train   [--crops-per-photo 14]
  /usr/bin/python3 -m models.dataset.make_sketch_set --split eval_in --out sketch-eval

For each photo of the split, at two scales (short side log-uniform in [128, 256] and in
[256, 512], never above the pack), the XDoG, HED-like and Canny maps are computed on the whole
scaled photo (no border effects inside crops); then random structured 128x128 crops are cut, and
each crop gets K = 3 sketch variants: XDoG, HED-like (60 % dilated by 1 px), and Canny (60 %) or a redrawn HED-like map
(40 %), each with its own hand-drawn augmentation.

Writes WORK/<out>/photos.npy (N,S,S,3 uint8), sketches.npy (N,K,S,S uint8, ink dark),
crops.tsv (index, photo id, scale, x, y, styles) and preview.png (a few rows of examples).
Never mixes splits: --split picks the photos.
"""
import argparse
import os
import time

import numpy as np
from PIL import Image

from models.dataset import p2p_data, sketch


def scaled(img, short):
    h, w = img.shape[:2]
    s = min(h, w)
    if short >= s:
        return img
    sc = short / s
    return np.asarray(Image.fromarray(img).resize((max(1, round(w * sc)), max(1, round(h * sc))),
                                                  Image.LANCZOS))


def photo_crops(img, S, rng, papers, crops_per_photo):
    """Structured S x S crops of one photo at up to two scales, each with K = 3 sketch variants.

    Returns [(crop SxSx3 uint8, variants KxSxS uint8, scale, x, y, styles)].  The style maps are
    computed on the whole scaled photo, so crops have no border effects.  Used for the fixed sets
    below and by train.py's live sketch stream (--sketch-source live).
    """
    out = []
    short = min(img.shape[:2])
    scales = []
    for lo, hi in ((S, 2 * S), (2 * S, 4 * S)):
        hi = min(hi, short)
        if hi >= lo:
            scales.append(int(round(np.exp(rng.uniform(np.log(lo), np.log(hi))))))
    if not scales:
        scales = [max(S, short)]
    for sc in scales:
        im = scaled(img, sc)
        h, w = im.shape[:2]
        if h < S or w < S:
            continue
        area_tiles = (h * w) / (S * S)
        want = int(min(np.ceil(area_tiles * 0.6), np.ceil(crops_per_photo / len(scales))))
        maps = {st: sketch.style_map(im, st, rng) for st in ("xdog", "hed", "canny")}
        got, tries = 0, 0
        while got < want and tries < want * 4:
            tries += 1
            y = int(rng.integers(0, h - S + 1))
            x = int(rng.integers(0, w - S + 1))
            crop = im[y:y + S, x:x + S]
            if not p2p_data.structured(crop):
                continue
            styles = ["xdog", "hed", "canny" if rng.random() < 0.6 else "redrawn"]
            variants = []
            for st in styles:
                m = maps["hed" if st == "redrawn" else st][y:y + S, x:x + S]
                if st == "hed" and rng.random() < 0.6:
                    m = sketch.thicken(m)
                if st == "redrawn":
                    m = sketch.redraw(m, rng)
                variants.append(sketch.augment(m, rng, papers))
            out.append((np.ascontiguousarray(crop), np.stack(variants), sc, x, y, styles))
            got += 1
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", default=p2p_data.DEFAULT_WORK)
    ap.add_argument("--split", required=True, choices=("train", "eval_in"))
    ap.add_argument("--out", help="output folder name under WORK (default sketch-<split>)")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--crops-per-photo", type=int, default=14, help="upper bound, over both scales")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--limit", type=int, default=0, help="only the first N photos (tests)")
    args = ap.parse_args()
    out = os.path.join(args.work, args.out or ("sketch-train" if args.split == "train" else "sketch-eval"))
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    papers = sketch.load_papers(args.work)
    photos = p2p_data.load_photos(args.split, args.work)
    if args.limit:
        photos = photos[:args.limit]
    S = args.size
    P, K, meta = [], [], []
    t0 = time.time()
    for n, (row, img) in enumerate(photos):
        for crop, variants, sc, x, y, styles in photo_crops(img, S, rng, papers, args.crops_per_photo):
            P.append(crop)
            K.append(variants)
            meta.append((len(meta), row["id"], sc, x, y, ",".join(styles)))
        if (n + 1) % 20 == 0 or n + 1 == len(photos):
            print("%d/%d photos, %d crops, %.0f s" % (n + 1, len(photos), len(P), time.time() - t0),
                  flush=True)
    P = np.stack(P)
    K = np.stack(K)
    for name, arr in (("photos", P), ("sketches", K)):
        np.save(os.path.join(out, name + ".tmp.npy"), arr)
        os.replace(os.path.join(out, name + ".tmp.npy"), os.path.join(out, name + ".npy"))
    with open(os.path.join(out, "crops.tsv"), "w") as f:
        f.write("index\tphoto\tscale\tx\ty\tstyles\n")
        for m in meta:
            f.write("%d\t%s\t%d\t%d\t%d\t%s\n" % m)
    # Preview: 8 rows of photo | 3 sketches.
    idx = np.linspace(0, len(P) - 1, 8).astype(int)
    rows = [np.concatenate([P[i]] + [np.repeat(K[i, k][..., None], 3, 2) for k in range(K.shape[1])], 1)
            for i in idx]
    Image.fromarray(np.concatenate(rows, 0)).save(os.path.join(out, "preview.png"))
    print("wrote %s: %d crops of %d photos, photos %s, sketches %s, %.0f s" % (
        out, len(P), len(photos), P.shape, K.shape, time.time() - t0))


if __name__ == "__main__":
    main()
