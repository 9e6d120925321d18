"""Image metrics for the evaluations (numpy + scipy only).

All images are HxWx3 uint8 sRGB unless said otherwise.  Lab is p2p_data's (the engine's) Lab.
"""
import numpy as np
from scipy import ndimage as ndi

from models.dataset import p2p_data


def psnr(a, b):
    """PSNR in dB of two 8-bit images (any shape, same shape), peak 255."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0 ** 2 / max(mse, 1e-10)))


def ssim(a, b):
    """Mean SSIM over channels (Gaussian window sigma 1.5, K1 0.01, K2 0.03, range 255), a
    5-pixel border left out (the filter's edge handling)."""
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def g(z):
        return ndi.gaussian_filter(z, 1.5, truncate=3.5)

    vals = []
    for c in range(a.shape[2]):
        x, y = a[..., c], b[..., c]
        mx, my = g(x), g(y)
        sxx, syy, sxy = g(x * x) - mx * mx, g(y * y) - my * my, g(x * y) - mx * my
        m = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
        vals.append(m[5:-5, 5:-5].mean() if min(m.shape) > 10 else m.mean())
    return float(np.mean(vals))


def colourfulness(rgb):
    """Hasler and Suesstrunk (2003), "Measuring colourfulness in natural images":
    sqrt(sd_rg^2 + sd_yb^2) + 0.3 sqrt(mean_rg^2 + mean_yb^2), rg = R - G, yb = (R + G)/2 - B."""
    x = rgb.astype(np.float64)
    rg = x[..., 0] - x[..., 1]
    yb = 0.5 * (x[..., 0] + x[..., 1]) - x[..., 2]
    return float(np.sqrt(rg.std() ** 2 + yb.std() ** 2) + 0.3 * np.sqrt(rg.mean() ** 2 + yb.mean() ** 2))


def ab_error_map(a, b):
    """Per-pixel Euclidean distance in the Lab (a, b) plane between two RGB images."""
    la, lb = p2p_data.rgb2lab(a), p2p_data.rgb2lab(b)
    return np.sqrt(((la[..., 1:] - lb[..., 1:]) ** 2).sum(axis=2))


def ab_error(a, b):
    """Mean chroma error (Lab a, b units) between two RGB images: the colour error that PSNR and
    SSIM hardly see when the lightness is equal by construction."""
    return float(ab_error_map(a, b).mean())


def hint_error(out, hint_ab, mask):
    """Mean Lab (a, b) distance between the output and the hint values at the hint pixels (mask
    true); NaN when there are none.  hint_ab: HxWx2 float."""
    if not mask.any():
        return float("nan")
    ab = p2p_data.rgb2lab(out)[..., 1:]
    return float(np.sqrt(((ab[mask] - hint_ab[mask]) ** 2).sum(axis=1)).mean())


def detail_ratio(out, ref):
    """Mean gradient magnitude (Sobel, on Rec.601 luma) of the output over that of the reference:
    below 1 means the output is blurrier than the photo."""
    def grad(img):
        g = img.astype(np.float64)
        if g.ndim == 3:
            g = g @ np.array(p2p_data.REC601)
        return float(np.hypot(ndi.sobel(g, axis=0), ndi.sobel(g, axis=1)).mean())
    r = grad(ref)
    return grad(out) / r if r > 0 else float("nan")


def grid_peak(img):
    """How much a periodic upsampling grid stands out in the image: the luma's power at the
    frequencies of period-2 and period-4 patterns along each axis (the lattice {0, 1/4, 1/2, 3/4}
    cycles per pixel in both axes, DC left out), each over the mean power of its neighbours 2-3 bins
    away (the peak taken as the mean of its 3x3 bins, which the window spreads it over), averaged
    over those 15 frequencies.  A natural photo, blurred or not, has a smooth
    spectrum there (about 1); a checkerboard or grid from a decoder's upsampling stands out as a
    peak (well above 1) even where it is faint to a metric like the detail ratio.  Needs a side
    divisible by 4 (the eval's 128 px views)."""
    g = img.astype(np.float64)
    if g.ndim == 3:
        g = g @ np.array(p2p_data.REC601)
    h, w = g.shape
    if h % 4 or w % 4:
        raise ValueError("grid_peak needs sides divisible by 4, not %dx%d" % (h, w))
    win = np.outer(np.hanning(h), np.hanning(w))
    p = np.abs(np.fft.fft2((g - g.mean()) * win)) ** 2
    ratios = []
    for fy in (0, h // 4, h // 2, 3 * h // 4):
        for fx in (0, w // 4, w // 2, 3 * w // 4):
            if fy == 0 and fx == 0:
                continue
            ring = [p[(fy + dy) % h, (fx + dx) % w] for dy in range(-3, 4) for dx in range(-3, 4)
                    if max(abs(dy), abs(dx)) >= 2]
            peak = [p[(fy + dy) % h, (fx + dx) % w] for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
            ratios.append(float(np.mean(peak)) / max(float(np.mean(ring)), 1e-12))
    return float(np.mean(ratios))
