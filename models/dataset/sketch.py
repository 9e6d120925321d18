"""Synthetic sketches from photos (numpy/scipy), after training-data.md section 5.

All maps are float32 in [0, 1] with ink = 0 and paper = 1 (edges2shoes convention).

* canny(): Gaussian, Sobel, non-maximum suppression, hysteresis relative to the 95th percentile
  of the gradient magnitude.
* xdog(): Winnemoeller's XDoG, tau form.
* hed_like(): texture removal by three 5x5 bilateral passes, Canny at sigma 2, speck removal,
  1-px dilation: an outline close to what a person draws, without HED's weights.
* augment(): hand-drawn look (stroke width, wobble, gaps, pressure, blur, paper, contrast, JPEG,
  stray marks).
"""
import glob
import os

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

from models.dataset.p2p_data import REC601, jpeg


def luma(rgb):
    return (rgb.astype(np.float32) @ np.array(REC601, np.float32)) / 255.0


# ---------------------------------------------------------------------------
# Canny

def _nms(mag, gx, gy):
    """Keep pixels that are maxima along the gradient direction (4 quantised directions)."""
    ang = (np.rad2deg(np.arctan2(gy, gx)) + 180.0) % 180.0
    p = np.pad(mag, 1, mode="edge")
    h, w = mag.shape
    c = p[1:h + 1, 1:w + 1]

    def nb(dy, dx):
        return p[1 + dy:h + 1 + dy, 1 + dx:w + 1 + dx]

    out = np.zeros_like(mag)
    d0 = (ang < 22.5) | (ang >= 157.5)            # gradient horizontal -> compare left/right
    d45 = (ang >= 22.5) & (ang < 67.5)
    d90 = (ang >= 67.5) & (ang < 112.5)
    d135 = (ang >= 112.5) & (ang < 157.5)
    for m, (a, b) in ((d0, ((0, -1), (0, 1))), (d45, ((-1, -1), (1, 1))),
                      (d90, ((-1, 0), (1, 0))), (d135, ((-1, 1), (1, -1)))):
        keep = m & (c >= nb(*a)) & (c >= nb(*b))
        out[keep] = c[keep]
    return out


def canny_edges(g, sigma, lo, hi):
    """Binary edge map (True = edge) of grey image g in [0, 1]; lo/hi relative to the p95."""
    s = ndi.gaussian_filter(g.astype(np.float32), sigma)
    gx = ndi.sobel(s, axis=1)
    gy = ndi.sobel(s, axis=0)
    mag = np.hypot(gx, gy)
    thin = _nms(mag, gx, gy)
    ref = np.percentile(mag, 95)
    if ref <= 1e-6:
        return np.zeros(g.shape, bool)
    weak = thin >= lo * ref
    strong = thin >= hi * ref
    lab, n = ndi.label(weak, structure=np.ones((3, 3)))
    if n == 0:
        return np.zeros(g.shape, bool)
    keep = np.zeros(n + 1, bool)
    keep[np.unique(lab[strong])] = True
    keep[0] = False
    return keep[lab]


def canny(rgb, rng):
    e = canny_edges(luma(rgb), rng.uniform(1.0, 2.0), rng.uniform(0.3, 0.5), rng.uniform(0.8, 1.2))
    return np.where(e, 0.0, 1.0).astype(np.float32)


# ---------------------------------------------------------------------------
# XDoG

def xdog(rgb, rng):
    g = luma(rgb)
    # The doc's 0.6-2.0 is for 256-px images; the top of the range makes blobs at 128 px.
    sigma = rng.uniform(0.6, 1.4)
    if sigma >= 1.2:
        g = ndi.gaussian_filter(g, rng.uniform(0.8, 1.0))
    tau = rng.uniform(0.98, 0.995)
    eps = rng.uniform(-0.01, -0.004)
    phi = rng.uniform(60, 120)
    d = ndi.gaussian_filter(g, sigma) - tau * ndi.gaussian_filter(g, 1.6 * sigma)
    out = np.where(d >= eps, 1.0, 1.0 + np.tanh(phi * (d - eps)))
    return np.clip(out, 0, 1).astype(np.float32)


# ---------------------------------------------------------------------------
# HED-like boundary map

def bilateral(rgb01, sigma_s=2.0, sigma_r=0.1, radius=2):
    """5x5 bilateral filter on an HxWxC float image (range distance over all channels)."""
    h, w = rgb01.shape[:2]
    p = np.pad(rgb01, ((radius, radius), (radius, radius), (0, 0)), mode="reflect")
    acc = np.zeros_like(rgb01)
    wsum = np.zeros((h, w, 1), np.float32)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            q = p[radius + dy:radius + dy + h, radius + dx:radius + dx + w]
            d2 = ((q - rgb01) ** 2).sum(axis=2, keepdims=True)
            wgt = np.exp(-(dy * dy + dx * dx) / (2 * sigma_s ** 2)) * np.exp(-d2 / (2 * sigma_r ** 2))
            acc += wgt * q
            wsum += wgt
    return acc / wsum


def remove_specks(edge, min_count=7, window=9):
    count = ndi.uniform_filter(edge.astype(np.float32), window) * window * window
    return edge & (count >= min_count - 0.5)


def hed_like(rgb, rng, passes=3, dilate=True):
    x = rgb.astype(np.float32) / 255.0
    for _ in range(passes):
        x = bilateral(x)
    g = x @ np.array(REC601, np.float32)
    e = canny_edges(g, 2.0, 0.3, 0.8)
    e = remove_specks(e)
    if dilate:
        e = ndi.binary_dilation(e, structure=np.ones((3, 3), bool))
    return np.where(e, 0.0, 1.0).astype(np.float32)


# ---------------------------------------------------------------------------
# Hand-drawn augmentation

_PAPERS = None


def load_papers(work):
    """Grey paper textures from mypaint-data-extras (relative modulation around 1)."""
    global _PAPERS
    if _PAPERS is None:
        _PAPERS = []
        root = os.path.join(work, "unpacked", "mypaint-data-extras", "usr/share/mypaint/backgrounds")
        for f in sorted(glob.glob(os.path.join(root, "*", "*.png"))):
            a = np.asarray(Image.open(f).convert("L"), np.float32)
            a = a / max(a.mean(), 1.0)
            _PAPERS.append(np.clip(a, 0.5, 1.5))
    return _PAPERS


def smooth_noise(shape, period, rng):
    """Band-limited noise with unit std and features about `period` px wide."""
    h, w = shape
    gh, gw = max(2, int(np.ceil(h / period)) + 2), max(2, int(np.ceil(w / period)) + 2)
    n = rng.standard_normal((gh, gw)).astype(np.float32)
    up = ndi.zoom(n, (h / (gh - 1) * 1.0001, w / (gw - 1) * 1.0001), order=3)[:h, :w]
    up = up - up.mean()
    return up / max(up.std(), 1e-6)


def augment(s, rng, papers=None):
    """s: HxW float in [0, 1], ink = 0.  Returns uint8 HxW."""
    h, w = s.shape
    ink = 1.0 - s
    if rng.random() < 0.3:                                   # stroke width +1 px
        ink = ndi.grey_dilation(ink, size=(2, 2))
    if rng.random() < 0.7:                                   # elastic wobble
        # 1-2 px at 256 px in the data doc; our crops are 128 px.
        amp = rng.uniform(0.5, 1.3)
        period = rng.uniform(20, 40)
        dy = smooth_noise((h, w), period, rng) * amp
        dx = smooth_noise((h, w), period, rng) * amp
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        ink = ndi.map_coordinates(ink, [yy + dy, xx + dx], order=1, mode="nearest")
    if rng.random() < 0.5:                                   # missing strokes (~12 % of ink)
        m = smooth_noise((h, w), rng.uniform(16, 32), rng)
        ink = ink * (m < np.quantile(m, 1.0 - rng.uniform(0.06, 0.18)))
    if rng.random() < 0.4:                                   # short gaps
        m = smooth_noise((h, w), rng.uniform(3, 6), rng)
        ink = ink * (m < np.quantile(m, 1.0 - rng.uniform(0.04, 0.12)))
    if rng.random() < 0.6:                                   # pressure
        pr = smooth_noise((h, w), rng.uniform(20, 50), rng)
        lo = rng.uniform(0.55, 0.85)
        pr = lo + (1 - lo) * (pr - pr.min()) / max(pr.max() - pr.min(), 1e-6)
        ink = ink * pr
    if rng.random() < 0.15:                                  # stray marks
        for _ in range(rng.integers(1, 4)):
            y0, x0 = rng.uniform(0, h), rng.uniform(0, w)
            ang, ln = rng.uniform(0, np.pi), rng.uniform(2, 12)
            for t in np.linspace(0, ln, int(ln * 2) + 1):
                yi, xi = int(y0 + t * np.sin(ang)), int(x0 + t * np.cos(ang))
                if 0 <= yi < h and 0 <= xi < w:
                    ink[yi, xi] = max(ink[yi, xi], rng.uniform(0.4, 0.9))
    if rng.random() < 0.5:                                   # soft pencil edge
        ink = ndi.gaussian_filter(ink, 0.6)
    out = 1.0 - np.clip(ink, 0, 1)
    if papers and rng.random() < 0.4:                        # paper texture (multiply)
        p = papers[rng.integers(len(papers))]
        if p.shape[0] >= h and p.shape[1] >= w:
            y, x = rng.integers(0, p.shape[0] - h + 1), rng.integers(0, p.shape[1] - w + 1)
            tex = p[y:y + h, x:x + w]
            strength = rng.uniform(0.15, 0.6)
            out = out * (1.0 + strength * (tex - 1.0)) * rng.uniform(0.88, 1.0)
    if rng.random() < 0.5:                                   # contrast and gamma
        lo = rng.uniform(0.0, 0.25)
        out = lo + (1 - lo) * out
        out = np.clip(out, 0, 1) ** rng.uniform(0.7, 1.4)
    u8 = np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        u8 = jpeg(u8, rng.integers(60, 96))
    return u8


# Mix of training-data.md section 5 (redrawn = heavy augmentation of the HED-like map, standing in
# for potrace/roughjs redraws).
STYLES = ("xdog", "hed", "canny", "redrawn")


def style_map(rgb, style, rng):
    if style == "xdog":
        return xdog(rgb, rng)
    if style == "canny":
        return canny(rgb, rng)
    if style in ("hed", "redrawn"):
        # The 1-px dilation is applied per crop (thicken()) so that thin and thick versions mix.
        return hed_like(rgb, rng, dilate=False)
    raise ValueError(style)


def thicken(s):
    """1-px dilation of the ink of a binary-ish map."""
    return np.where(ndi.binary_dilation(s < 0.5, structure=np.ones((3, 3), bool)), 0.0, 1.0).astype(np.float32)


def redraw(s, rng):
    """Sketchier redraw of a boundary map: stronger wobble and a doubled, offset stroke."""
    h, w = s.shape
    ink = 1.0 - s
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    outs = []
    for _ in range(2 if rng.random() < 0.6 else 1):
        amp = rng.uniform(0.8, 1.8)
        dy = smooth_noise((h, w), rng.uniform(16, 32), rng) * amp
        dx = smooth_noise((h, w), rng.uniform(16, 32), rng) * amp
        outs.append(ndi.map_coordinates(ink, [yy + dy, xx + dx], order=1, mode="nearest"))
    ink = np.max(outs, axis=0)
    return 1.0 - ink
