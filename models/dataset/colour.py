"""Sketches that carry colour (issue 14 parts 1-2): what a GIMP user draws, made from a photo.

A coloured sketch is one RGB image: dark lines on a light ground, optionally over colour that says
what colour each region is.  From a photo crop and its line sketch (sketch.py, ink dark) we make:

* fills: the photo cut into regions (colour k-means with a spatial term, split into connected
  pieces: superpixels when the spatial term is strong, colour segments when it is weak), each
  region filled flat with the photo's mean colour there: the bucket-fill look.  "partial": only
  some regions are filled, the rest stays paper.
* strokes: soft brush strokes in the manner of DeepFill v2's free-form masks (Yu et al. 2019:
  1-3 strokes of 4-11 vertices, width 12-40 px at 256 px, scaled to the crop), each painted with
  the median photo colour under it (or under each of its segments), optionally with blurred edges.
* lines: no colour; the result is exactly the plain sketch in all three channels.

Composite: ink on coloured paper, out = colour layer x sketch darkness (sketch in [0, 1], paper 1),
with a white colour layer where nothing is coloured.

All functions take an HxWx3 uint8 photo, an HxW uint8 sketch (ink dark, paper light) and a numpy
Generator; they use numpy, scipy and PIL only, and are cheap enough (a few ms at 128 px) to run
per training sample.
"""
import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage as ndi

KINDS = ("lines", "fills", "partial", "strokes")
# Training mix when a sample is coloured (train.py --sketch-colour is the chance of colour at all).
COLOUR_KINDS_P = {"fills": 0.3, "partial": 0.3, "strokes": 0.4}


# ---------------------------------------------------------------------------
# Regions

def segments(rgb, rng=None, n=None, compactness=None, smooth=1.0, iters=6, min_frac=0.01):
    """Label map (HxW int32, labels 0..L-1, each a 4-connected region).

    k-means over (R, G, B, c*y, c*x) with n centres started on a grid; c = compactness in colour
    levels per grid step of distance.  Clusters are then split into their connected pieces, and
    pieces smaller than min_frac of the image are absorbed by the nearest large piece (a user
    does not bucket-fill specks), so every label is one connected region of some size."""
    h, w = rgb.shape[:2]
    if n is None:
        n = int(rng.integers(3, 25))
    if compactness is None:
        compactness = float(np.exp(rng.uniform(np.log(4.0), np.log(60.0))))
    img = rgb.astype(np.float32)
    if smooth > 0:
        img = ndi.gaussian_filter(img, (smooth, smooth, 0))
    gy_n = max(1, int(round(np.sqrt(n * h / w))))
    gx_n = max(1, int(round(n / gy_n)))
    step = np.sqrt(h * w / (gy_n * gx_n))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    c = compactness / step
    feat = np.concatenate([img.reshape(-1, 3), (yy * c).reshape(-1, 1), (xx * c).reshape(-1, 1)], 1)
    cy = ((np.arange(gy_n) + 0.5) * h / gy_n).astype(int)
    cx = ((np.arange(gx_n) + 0.5) * w / gx_n).astype(int)
    idx = (cy[:, None] * w + cx[None, :]).ravel()
    centres = feat[idx].copy()
    lab = None
    for _ in range(iters):
        d = (feat ** 2).sum(1)[:, None] - 2 * feat @ centres.T + (centres ** 2).sum(1)[None, :]
        new = d.argmin(1)
        if lab is not None and np.array_equal(new, lab):
            break
        lab = new
        cnt = np.bincount(lab, minlength=len(centres)).astype(np.float32)
        for j in range(feat.shape[1]):
            s = np.bincount(lab, weights=feat[:, j], minlength=len(centres))
            centres[:, j] = np.where(cnt > 0, s / np.maximum(cnt, 1), centres[:, j])
    lab = lab.reshape(h, w)
    out = np.zeros((h, w), np.int32)
    nxt = 0
    for k in np.unique(lab):
        pieces, m = ndi.label(lab == k)
        sel = pieces > 0
        out[sel] = pieces[sel] - 1 + nxt
        nxt += m
    area = np.bincount(out.ravel())
    small = area[out] < min_frac * h * w
    if small.any() and not small.all():
        _, (iy, ix) = ndi.distance_transform_edt(small, return_indices=True)
        out = out[iy, ix]
    _, out = np.unique(out, return_inverse=True)
    return out.reshape(h, w).astype(np.int32)


def region_means(rgb, labels):
    """(L, 3) float64: the photo's mean colour over each label."""
    nl = int(labels.max()) + 1
    flat = labels.ravel()
    cnt = np.maximum(np.bincount(flat, minlength=nl), 1)
    return np.stack([np.bincount(flat, weights=rgb[..., c].ravel().astype(np.float64), minlength=nl) / cnt
                     for c in range(3)], 1)


def fill_layer(rgb, labels, keep=None, jitter=0.0, rng=None):
    """Colour layer (HxWx3 float in [0, 1]) and coverage (HxW float): every kept region filled
    with the photo's mean colour over it (plus a uniform per-region jitter of up to `jitter`
    levels of 255, a user's imprecise colour choice).  keep: bool per label, default all."""
    means = region_means(rgb, labels)
    if jitter > 0:
        means = means + rng.uniform(-jitter, jitter, means.shape)
    means = np.clip(means, 0, 255) / 255.0
    if keep is None:
        keep = np.ones(len(means), bool)
    cov = keep[labels].astype(np.float32)
    layer = np.where(cov[..., None] > 0, means[labels], 1.0)
    return layer.astype(np.float32), cov


# ---------------------------------------------------------------------------
# Strokes

def stroke_paths(h, w, rng, n_strokes=None):
    """Free-form strokes after DeepFill v2: [(vertices [(x, y)], width px)].  Widths 12-40 px and
    vertex counts 4-11 are DeepFill's at 256 px; widths and segment lengths scale with the crop."""
    scale = min(h, w) / 256.0
    if n_strokes is None:
        n_strokes = int(rng.integers(1, 4))
    diag = np.hypot(h, w)
    out = []
    for _ in range(n_strokes):
        nv = int(rng.integers(4, 12))
        width = rng.uniform(12, 40) * scale
        base = rng.uniform(0, 2 * np.pi)
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        pts = [(x, y)]
        for i in range(nv - 1):
            ang = base + rng.uniform(-2 * np.pi / 15, 2 * np.pi / 15)
            if i % 2:
                ang += np.pi                                   # DeepFill's back-and-forth scribble
            ln = np.clip(rng.normal(diag / 8, diag / 16), diag / 32, diag / 4)
            x = float(np.clip(x + ln * np.cos(ang), 0, w - 1))
            y = float(np.clip(y + ln * np.sin(ang), 0, h - 1))
            pts.append((x, y))
        out.append((pts, width))
    return out


def draw_path(h, w, pts, width):
    """Binary mask (HxW bool) of a round-capped polyline."""
    im = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(im)
    r = width / 2.0
    d.line(pts, fill=255, width=max(1, int(round(width))))
    for x, y in pts:
        d.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(im) > 127


def stroke_layer(rgb, rng, n_strokes=None, per_segment=None, soft=None):
    """Colour layer and coverage of 1-3 brush strokes, each (or each of its segments) painted in
    the median photo colour under it; later strokes paint over earlier ones.  soft: blur the
    stroke edges (Gaussian, sigma up to a quarter of the width)."""
    h, w = rgb.shape[:2]
    layer = np.ones((h, w, 3), np.float32)
    cov = np.zeros((h, w), np.float32)
    for pts, width in stroke_paths(h, w, rng, n_strokes):
        seg = per_segment if per_segment is not None else rng.random() < 0.5
        pieces = [pts[i:i + 2] for i in range(len(pts) - 1)] if seg else [pts]
        for p in pieces:
            m = draw_path(h, w, p, width)
            if not m.any():
                continue
            col = np.median(rgb[m].astype(np.float32), axis=0) / 255.0
            a = m.astype(np.float32)
            if soft if soft is not None else rng.random() < 0.5:
                a = np.clip(ndi.gaussian_filter(a, rng.uniform(0.15, 0.25) * width), 0, 1)
            layer = layer * (1 - a[..., None]) + col[None, None, :] * a[..., None]
            cov = np.maximum(cov, a)
    return layer, cov


# ---------------------------------------------------------------------------
# Composite

def composite(sketch_u8, layer):
    """Ink on coloured paper: colour layer (HxWx3 in [0, 1], white where uncoloured) times the
    sketch's darkness (paper 1, ink 0).  -> HxWx3 uint8."""
    s = sketch_u8.astype(np.float32) / 255.0
    return np.clip(np.rint(layer * s[..., None] * 255.0), 0, 255).astype(np.uint8)


def coloured_sketch(rgb, sketch_u8, rng, kind=None, p=None):
    """A coloured sketch of one kind ("lines", "fills", "partial", "strokes"; drawn from p, a
    dict kind -> probability, when kind is None).  -> (HxWx3 uint8, kind)."""
    if kind is None:
        p = p or {"lines": 0.35, **{k: 0.65 * v for k, v in COLOUR_KINDS_P.items()}}
        ks = list(p)
        pr = np.array([p[k] for k in ks], np.float64)
        kind = ks[int(rng.choice(len(ks), p=pr / pr.sum()))]
    h, w = sketch_u8.shape
    if kind == "lines":
        layer = np.ones((h, w, 3), np.float32)
    elif kind in ("fills", "partial"):
        labels = segments(rgb, rng)
        nl = int(labels.max()) + 1
        keep = None
        if kind == "partial":
            keep = rng.random(nl) < rng.uniform(0.2, 0.7)
            if not keep.any():
                keep[rng.integers(nl)] = True
        jitter = rng.uniform(0, 12) if rng.random() < 0.5 else 0.0
        layer, _ = fill_layer(rgb, labels, keep, jitter, rng)
    elif kind == "strokes":
        layer, _ = stroke_layer(rgb, rng)
    else:
        raise ValueError(kind)
    return composite(sketch_u8, layer), kind
