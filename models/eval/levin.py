"""Colorization using Optimization (Levin, Lischinski and Weiss, SIGGRAPH 2004): the classical
baseline for colour hints.

The paper's premise: neighbouring pixels of similar intensity should have similar colours.  For
every pixel r that carries no hint, its chroma U(r) is asked to equal the weighted mean of its
neighbours' chroma, U(r) - sum_s w_rs U(s) = 0, over the 3x3 window around r (s != r), with
weights from the intensity Y

    w_rs proportional to exp(-(Y(r) - Y(s))^2 / (2 sigma_r^2)),   sum_s w_rs = 1,

where sigma_r^2 is the variance of Y over the 3x3 window around r (the paper's "affinity
function" of its equation 2).  Hint pixels keep their value (the paper's constraints).  That is
one sparse linear system per image, shared by both chroma channels.  Here Y is Lab L / 100 of the
grey input and the chroma channels are Lab a and b (the paper used YUV; the engine and the
metrics work in Lab).  sigma_r^2 has a floor EPS so that flat windows give uniform weights
instead of dividing by zero.  With no hints the chroma is 0 everywhere: the grey image.
"""
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from models.dataset import p2p_data

EPS = 1e-4  # floor of sigma_r^2, in (L/100)^2 units: sigma >= 0.01, about 2.5 grey levels


def weights(Y, eps=EPS):
    """-> (rows, cols, vals) of the normalised neighbour weights w_rs of every pixel r, 3x3
    windows clipped at the image border."""
    h, w = Y.shape
    idx = np.arange(h * w).reshape(h, w)
    pad = np.pad(Y, 1, mode="edge")
    valid_pad = np.pad(np.ones((h, w), bool), 1)
    # Window variance over the in-image pixels of each 3x3 window.
    s1 = np.zeros((h, w))
    s2 = np.zeros((h, w))
    cnt = np.zeros((h, w))
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            v = valid_pad[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
            y = pad[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
            s1 += v * y
            s2 += v * y * y
            cnt += v
    var = np.maximum(s2 / cnt - (s1 / cnt) ** 2, eps)
    rows, cols, vals = [], [], []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == 0 and dx == 0:
                continue
            v = valid_pad[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
            y = pad[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
            wt = np.exp(-((Y - y) ** 2) / (2.0 * var))
            rows.append(idx[v])
            cols.append(np.pad(idx, 1, mode="edge")[1 + dy:1 + dy + h, 1 + dx:1 + dx + w][v])
            vals.append(wt[v])
    rows, cols, vals = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    total = np.bincount(rows, weights=vals, minlength=h * w)
    return rows, cols, vals / total[rows]


def colorize_ab(L, hint_ab, mask, eps=EPS):
    """L: HxW Lab lightness (0-100) of the grey image; hint_ab: HxWx2; mask: HxW bool (hint
    pixels).  -> HxWx2 float64 Lab a, b."""
    h, w = L.shape
    if not mask.any():
        return np.zeros((h, w, 2))
    n = h * w
    rows, cols, vals = weights(L / 100.0, eps)
    m = mask.ravel()
    # Rows of hint pixels become U(r) = hint: drop their neighbour terms.
    keep = ~m[rows]
    A = sp.identity(n, format="csr") - sp.csr_matrix((vals[keep], (rows[keep], cols[keep])), shape=(n, n))
    B = np.where(m[:, None], hint_ab.reshape(n, 2), 0.0)
    solve = spla.factorized(A.tocsc())
    return np.stack([solve(B[:, 0]), solve(B[:, 1])], axis=1).reshape(h, w, 2)


def colorize(grey, hint_ab, mask, eps=EPS):
    """grey: HxW uint8 grey image -> HxWx3 uint8 sRGB: its own lightness with Levin's chroma."""
    L = p2p_data.grey_to_L(grey.astype(np.float64) / 255.0)
    ab = colorize_ab(L, hint_ab, mask, eps)
    rgb = p2p_data.lab2rgb(np.concatenate([L[..., None], ab], axis=2))
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)
