"""Shared data code for gimp-pix2pix training: photo pack, crops, Lab, grey conversions.

The Lab formulas follow docs section 5.4 of the pix2pix reference (skimage.color.rgb2lab/lab2rgb,
D65, 2 degree observer), which is also what the C engine implements, so the network sees in
training exactly the numbers it gets in GIMP.  Sketch generators live in sketch.py.
"""
import io
import os
import random

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_WORK = os.path.join(HERE, "work")

# sRGB (D65) -> XYZ, and the D65 white point, as in the reference.
M_RGB2XYZ = np.array([[0.412453, 0.357580, 0.180423],
                      [0.212671, 0.715160, 0.072169],
                      [0.019334, 0.119193, 0.950227]])
M_XYZ2RGB = np.linalg.inv(M_RGB2XYZ)
WHITE = np.array([0.95047, 1.0, 1.08883])


def srgb_to_linear(c):
    return np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)


def linear_to_srgb(v):
    return np.where(v > 0.0031308, 1.055 * np.power(np.maximum(v, 0), 1 / 2.4) - 0.055, 12.92 * v)


def _f(t):
    return np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16.0 / 116.0)


def rgb2lab(rgb):
    """rgb: HxWx3 uint8 or float in [0, 1] -> HxWx3 float64 Lab."""
    rgb = np.asarray(rgb)
    if rgb.dtype == np.uint8:
        rgb = rgb.astype(np.float64) / 255.0
    lin = srgb_to_linear(rgb.astype(np.float64))
    xyz = lin @ M_RGB2XYZ.T / WHITE
    fx, fy, fz = _f(xyz[..., 0]), _f(xyz[..., 1]), _f(xyz[..., 2])
    return np.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def lab2rgb(lab):
    """HxWx3 Lab -> HxWx3 float64 sRGB clipped to [0, 1] (reference 5.4)."""
    L, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    y = (L + 16.0) / 116.0
    x = a / 500.0 + y
    z = np.maximum(y - b / 200.0, 0.0)
    xyz = np.stack([x, y, z], axis=-1)
    xyz = np.where(xyz > 0.2068966, xyz ** 3, (xyz - 16.0 / 116.0) / 7.787) * WHITE
    return np.clip(linear_to_srgb(xyz @ M_XYZ2RGB.T), 0.0, 1.0)


def grey_to_L(g):
    """L of the neutral grey sRGB value g in [0, 1] (what the engine computes for a grey pixel)."""
    y = srgb_to_linear(np.asarray(g, dtype=np.float64))
    return 116.0 * _f(y) - 16.0


# ---------------------------------------------------------------------------
# Photo pack

def read_index(work=DEFAULT_WORK):
    path = os.path.join(work, "photos", "index.tsv")
    rows = []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        for ln in f:
            r = dict(zip(header, ln.rstrip("\n").split("\t")))
            r["file"] = os.path.join(work, "photos", r["split"], r["id"] + ".jpg")
            r["mean_saturation"] = float(r["mean_saturation"])
            rows.append(r)
    return rows


# Subjects for a narrower model (issue 14 part 4): the first word of photo-sources.tsv's content
# column ("landscape", "plant (flower)", "nature/texture"; "people/landscape" is people).
SUBJECTS = {"nature": ("landscape", "seascape", "sky", "plant", "underwater", "nature")}


def content_word(content):
    return content.replace("(", "/").replace(" ", "/").split("/")[0].strip().lower()


def subject_ids(subject, work=DEFAULT_WORK, sources=None):
    """Photo ids in WORK's index whose photo-sources.tsv content is of `subject` (SUBJECTS)."""
    if subject not in SUBJECTS:
        raise ValueError("unknown subject %r (known: %s)" % (subject, ", ".join(SUBJECTS)))
    from models.dataset import photo_sources
    _, rows = photo_sources.read(sources or photo_sources.DEFAULT_TSV)
    content = {(r["package"], r["path_in_package"]): r.get("content", "") for r in rows}
    return {r["id"] for r in read_index(work)
            if content_word(content.get((r["package"], r["path"]), "")) in SUBJECTS[subject]}


def load_photos(split, work=DEFAULT_WORK):
    """[(row, HxWx3 uint8)] of one split.  `split` must be given: callers never mix splits."""
    if split not in ("train", "eval_in"):
        raise ValueError("split must be train or eval_in")
    out = []
    for r in read_index(work):
        if r["split"] == split:
            out.append((r, np.asarray(Image.open(r["file"]).convert("RGB"))))
    return out


def structured(crop):
    """Tile test from training-data.md section 7: std > 12 grey levels and mean |gradient| > 3."""
    g = crop.astype(np.float32).mean(axis=2) if crop.ndim == 3 else crop.astype(np.float32)
    if g.std() <= 12.0:
        return False
    gx = np.abs(np.diff(g, axis=1)).mean()
    gy = np.abs(np.diff(g, axis=0)).mean()
    return (gx + gy) / 2 > 3.0


def random_crop(img, size, rng, min_short=None, max_short=None, tries=5):
    """Random rescale (short side log-uniform in [min_short, max_short], never above the pack
    size) + random crop of size x size + random horizontal flip; retries for structured crops."""
    h, w = img.shape[:2]
    s = min(h, w)
    lo = min_short or size
    hi = min(max_short or s, s)
    lo = min(lo, hi)
    crop = None
    for _ in range(tries):
        short = int(round(np.exp(rng.uniform(np.log(lo), np.log(hi)))))
        short = max(size, short)
        if short != s:
            sc = short / s
            im = np.asarray(Image.fromarray(img).resize((max(size, round(w * sc)), max(size, round(h * sc))),
                                                       Image.BICUBIC))
        else:
            im = img
        y = rng.integers(0, im.shape[0] - size + 1)
        x = rng.integers(0, im.shape[1] - size + 1)
        crop = im[y:y + size, x:x + size]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        if structured(crop):
            break
    return np.ascontiguousarray(crop)


def jpeg(arr, quality):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=int(quality))
    buf.seek(0)
    return np.asarray(Image.open(buf))


# ---------------------------------------------------------------------------
# Colorize inputs

# Rec.601 luma weights of R, G, B (GIMP's usual Desaturate; every luma in the model tools)
REC601 = (0.299, 0.587, 0.114)

GREY_METHODS = ("rec601", "rec709", "average", "lightness", "luminance")


def to_grey(rgb, method):
    """rgb uint8 HxWx3 -> grey uint8 HxW as a GIMP user might make it."""
    x = rgb.astype(np.float64)
    if method == "rec601":
        g = x @ np.array(REC601)
    elif method == "rec709":
        g = x @ np.array([0.2126, 0.7152, 0.0722])
    elif method == "average":
        g = x.mean(axis=2)
    elif method == "lightness":
        g = (x.max(axis=2) + x.min(axis=2)) / 2
    elif method == "luminance":
        # CIE luminance in linear light (GIMP 2.10's "Luminance" desaturate), back to sRGB.
        y = srgb_to_linear(x / 255.0) @ np.array([0.2126, 0.7152, 0.0722])
        g = linear_to_srgb(y) * 255.0
    else:
        raise ValueError(method)
    return np.clip(np.rint(g), 0, 255).astype(np.uint8)


def degrade_grey(g, rng):
    """Mild noise, film grain and JPEG artefacts on the grey input only."""
    x = g.astype(np.float32)
    if rng.random() < 0.5:
        x = x + rng.normal(0, rng.uniform(0.5, 4.0), x.shape)
    if rng.random() < 0.2:
        from scipy.ndimage import gaussian_filter
        grain = gaussian_filter(rng.normal(0, 1, x.shape), rng.uniform(0.6, 1.2))
        x = x + grain * rng.uniform(2.0, 6.0)
    if rng.random() < 0.15:  # old scans: slight contrast/gamma changes
        x = 255.0 * (np.clip(x, 0, 255) / 255.0) ** rng.uniform(0.85, 1.15)
    x = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        x = jpeg(x, rng.integers(55, 96))
    return x


GREY_P = (0.22, 0.22, 0.16, 0.25, 0.15)


def colorize_pair(rgb, rng):
    """-> (input L/50-1 as 1xHxW float32, target ab/110 as 2xHxW float32)."""
    method = GREY_METHODS[rng.choice(len(GREY_METHODS), p=GREY_P)]
    g = degrade_grey(to_grey(rgb, method), rng)
    L = grey_to_L(g.astype(np.float64) / 255.0)
    lab = rgb2lab(rgb)
    inp = (L / 50.0 - 1.0)[None].astype(np.float32)
    tgt = (lab[..., 1:] / 110.0).transpose(2, 0, 1).astype(np.float32)
    return inp, tgt


# ---------------------------------------------------------------------------
# Colour hints (issue 13): the network input is [L/50-1, hint a/110, hint b/110, mask], with
# mask 1 at hint pixels and 0 elsewhere, hint ab 0 where there is no hint (models/FORMAT.md,
# input_space "lab_l_hints").  Training hints are simulated as in Zhang et al. 2017 (SIGGRAPH,
# "Real-Time User-Guided Image Colorization"): a geometric number of hints (keep adding while
# rand < 1 - p, p = 1/8: 12.5% of samples have none, mean 7), each a small square patch holding
# the mean ground-truth ab over the patch.  Our hints are smaller (1-5 px at 128 px) because a
# user's dot on a large photo shrinks to one or two network pixels in resize mode, spread
# uniformly (a user puts dots anywhere), and some are short 1-px strokes following the local
# colour, as drawn with GIMP's pencil.

HINT_P_STOP = 1.0 / 8.0


def hint_count(rng, p_stop=HINT_P_STOP, cap=64, p_none=None):
    """Zhang's geometric count: keep adding a hint while rand >= p_stop.  With p_none, a sample
    has no hint with chance p_none and otherwise 1 + a geometric number (mean 1/p_stop), so the
    share of unhinted samples and the count of the hinted ones are set apart (--hint-mean)."""
    if p_none is not None:
        if rng.random() < p_none:
            return 0
        n = 1
    else:
        n = 0
    while n < cap and rng.random() >= p_stop:
        n += 1
    return n


def simulate_hints(ab, rng, n=None, count=None):
    """ab: HxWx2 float (true Lab a, b) -> (hint_ab HxWx2 float32, mask HxW float32).
    n: the number of hints, else drawn by count(rng) (default hint_count)."""
    h, w = ab.shape[:2]
    if n is None:
        n = (count or hint_count)(rng)
    hint = np.zeros((h, w, 2), np.float32)
    mask = np.zeros((h, w), np.float32)
    for _ in range(n):
        if rng.random() < 0.25:
            # A short pencil stroke: 1 px wide, 4-16 px long, each pixel its own true colour
            # averaged over a 3x3 neighbourhood (users follow the local colour when drawing).
            length = int(rng.integers(4, 17))
            ang = rng.uniform(0, np.pi)
            y0, x0 = rng.uniform(0, h), rng.uniform(0, w)
            for t in range(length):
                y = int(np.clip(y0 + t * np.sin(ang), 0, h - 1))
                x = int(np.clip(x0 + t * np.cos(ang), 0, w - 1))
                ys, xs = slice(max(0, y - 1), y + 2), slice(max(0, x - 1), x + 2)
                hint[y, x] = ab[ys, xs].reshape(-1, 2).mean(axis=0)
                mask[y, x] = 1.0
        else:
            side = int(rng.choice([1, 2, 3, 4, 5], p=[0.3, 0.25, 0.2, 0.15, 0.1]))
            y = int(rng.integers(0, h - side + 1))
            x = int(rng.integers(0, w - side + 1))
            hint[y:y + side, x:x + side] = ab[y:y + side, x:x + side].reshape(-1, 2).mean(axis=0)
            mask[y:y + side, x:x + side] = 1.0
    return hint, mask


def colorize_hints_pair(rgb, rng, n=None, count=None):
    """-> (input [L/50-1, a/110, b/110, mask] as 4xHxW float32, target ab/110 as 2xHxW)."""
    inp, tgt = colorize_pair(rgb, rng)
    ab = tgt.transpose(1, 2, 0) * 110.0
    hint, mask = simulate_hints(ab, rng, n, count)
    x = np.concatenate([inp, (hint / 110.0).transpose(2, 0, 1), mask[None]], axis=0)
    return x.astype(np.float32), tgt


def photo_weight(row):
    """Sampling weight: drop monochrome photos, down-weight low-saturation ones (section 6)."""
    s = row["mean_saturation"]
    if s < 0.01:
        return 0.0
    return float(np.clip(s / 0.2, 0.25, 1.0))


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
