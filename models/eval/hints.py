"""Seeded colour hints for evaluating hint-taking colorize models (issue 13).

The evaluation photo is prepared as the evaluation always did: the eval_in photo scaled to short
side 256 (Lanczos), made grey with Rec.601 luma (GIMP's usual "Desaturate").  For it, one RGBA
hints image per hint count N: N squares of SIDE x SIDE pixels (5 x 5: Zhang et al. 2017 used 6 x 6
at 256 px; 5 is odd so a square has a centre pixel) at seeded positions, each painted in the
photo's mean colour over the square (the mean Lab over the square turned into 8-bit sRGB, so its
Lab a, b is the true mean a, b up to 8-bit rounding; pix2pix-cli ignores a hint colour's L), fully
opaque; everything else transparent.  Positions are uniform over the image, drawn from a
generator seeded by (seed, photo id), and squares neither overlap nor touch, so the sets are
nested: the N = 10 image holds exactly the squares of the N = 5 image plus five more, and sweeps
over N are paired.  The same files serve every model and the Levin baseline.

    /usr/bin/python3 -m models.eval.hints --work models/dataset/work --out DIR   # write them all
"""
import argparse
import os
import zlib

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage as ndi

from models.dataset import p2p_data

SIDE = 5
COUNTS = (0, 1, 2, 5, 10, 20, 50)
EVAL_SIZE = 256
SEED = 2026


def scaled(img, short=EVAL_SIZE):
    """Scale an RGB uint8 image to short side `short` (Lanczos); smaller images stay as they are."""
    h, w = img.shape[:2]
    s = min(h, w)
    if s <= short:
        return img
    sc = short / s
    return np.asarray(Image.fromarray(img).resize((round(w * sc), round(h * sc)), Image.LANCZOS))


def prepare(img, short=EVAL_SIZE):
    """-> (the colour photo at evaluation size, its Rec.601 grey version HxW uint8)."""
    rgb = scaled(img, short)
    return rgb, p2p_data.to_grey(rgb, "rec601")


def positions(shape, n, seed, key, side=SIDE, tries=10000):
    """Top-left corners (y, x) of n seeded, non-touching side x side squares inside an image of
    `shape`; the first k of them are the same for every n >= k."""
    h, w = shape[:2]
    rng = np.random.default_rng([seed, zlib.crc32(key.encode("utf-8"))])
    taken = np.zeros((h, w), bool)
    out = []
    for _ in range(tries):
        if len(out) == n:
            break
        y = int(rng.integers(0, h - side + 1))
        x = int(rng.integers(0, w - side + 1))
        # One free pixel around every square: squares never touch, so none changes another.
        if taken[max(0, y - 1):y + side + 1, max(0, x - 1):x + side + 1].any():
            continue
        taken[y:y + side, x:x + side] = True
        out.append((y, x))
    if len(out) < n:
        raise ValueError("no room for %d hints of %d px in %dx%d" % (n, side, w, h))
    return out


def hints_image(rgb, pos, side=SIDE):
    """RGBA uint8 image of rgb's size: each square at pos painted opaque in the photo's mean
    colour over it (mean Lab -> sRGB, 8 bits), transparent elsewhere."""
    h, w = rgb.shape[:2]
    out = np.zeros((h, w, 4), np.uint8)
    lab = p2p_data.rgb2lab(rgb)
    for y, x in pos:
        mean = lab[y:y + side, x:x + side].reshape(-1, 3).mean(axis=0)
        col = np.rint(p2p_data.lab2rgb(mean[None, None])[0, 0] * 255.0).astype(np.uint8)
        out[y:y + side, x:x + side, :3] = col
        out[y:y + side, x:x + side, 3] = 255
    return out


def read_hints(rgba):
    """What pix2pix-cli --hints reads from an RGBA image: mask = alpha >= 50 %, hint (a, b) = the
    Lab a, b of the pixel's colour.  -> (hint_ab HxWx2 float64, zero off the mask; mask HxW bool)."""
    rgba = np.asarray(rgba)
    mask = rgba[..., 3] >= 128
    ab = p2p_data.rgb2lab(rgba[..., :3])[..., 1:]
    ab[~mask] = 0.0
    return ab, mask


def draw_hints(grey_or_rgb, rgba, side=SIDE):
    """The input with the hints drawn on it, each square framed in black and white so that it
    shows on any background (for contact sheets)."""
    base = grey_or_rgb if grey_or_rgb.ndim == 3 else np.repeat(grey_or_rgb[..., None], 3, axis=2)
    im = Image.fromarray(np.ascontiguousarray(base))
    im.paste(Image.fromarray(np.ascontiguousarray(rgba[..., :3])), (0, 0),
             Image.fromarray(np.ascontiguousarray(rgba[..., 3])))
    d = ImageDraw.Draw(im)
    mask = rgba[..., 3] >= 128
    lab, n = ndi.label(mask)
    for i in range(1, n + 1):
        ys, xs = np.nonzero(lab == i)
        y0, y1, x0, x1 = ys.min(), ys.max(), xs.min(), xs.max()
        d.rectangle((x0 - 2, y0 - 2, x1 + 2, y1 + 2), outline=(255, 255, 255))
        d.rectangle((x0 - 1, y0 - 1, x1 + 1, y1 + 1), outline=(0, 0, 0))
    return np.asarray(im)


def photo_hints(rgb, key, counts=COUNTS, seed=SEED, side=SIDE):
    """{N: RGBA hints image} for one prepared photo, nested over N."""
    pos = positions(rgb.shape, max(counts), seed, key, side)
    return {n: hints_image(rgb, pos[:n], side) for n in counts}


def hints_path(folder, photo_id, n):
    return os.path.join(folder, "%s-n%02d.png" % (photo_id, n))


def ensure_hints(folder, photo_id, rgb, counts=COUNTS, seed=SEED):
    """Write the photo's hints files into folder unless all are there; -> {N: path}.  Files
    already there are reused as they are (they are deterministic in seed and photo)."""
    paths = {n: hints_path(folder, photo_id, n) for n in counts}
    if not all(os.path.exists(p) for p in paths.values()):
        os.makedirs(folder, exist_ok=True)
        for n, img in photo_hints(rgb, photo_id, counts, seed).items():
            tmp = paths[n] + ".tmp.png"
            Image.fromarray(img, "RGBA").save(tmp)
            os.replace(tmp, paths[n])
    return paths


def main():
    ap = argparse.ArgumentParser(description="write the seeded hints files of the eval_in photos")
    ap.add_argument("--work", default=p2p_data.DEFAULT_WORK, help="dataset work folder")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    n = 0
    for row in p2p_data.read_index(args.work):
        if row["split"] != "eval_in":
            continue
        rgb, _ = prepare(np.asarray(Image.open(row["file"]).convert("RGB")))
        ensure_hints(args.out, row["id"], rgb, seed=args.seed)
        n += 1
    print("hints for %d photos in %s" % (n, args.out))


if __name__ == "__main__":
    main()
