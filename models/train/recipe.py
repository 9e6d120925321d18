"""Training recipe options for train.py (issue 14 part 3): multi-scale discriminators with a
feature-matching loss (pix2pixHD, Wang et al. 2018), hinge loss with spectral norm in D
(SPADE, Park et al. 2019; two learning rates via train.py --lr-d), and differentiable
augmentation of D's inputs (DiffAugment, Zhao et al. 2020: translation, cutout, colour),
and an SSIM loss on luma for G (Zhao, Gallo, Frosio, Kautz 2017, "Loss Functions for Image
Restoration with Neural Networks": SSIM as a training loss), and for colorize the class
rebalancing of Zhang, Isola, Efros 2016 ("Colorful Image Colorization") applied to the L1 loss.

Written for gimp-pix2pix from the papers' descriptions.  Every option is off by default, and
then D is the plain NLayerDiscriminator with the same state-dict keys, computations and random
number use as before, so runs started earlier resume identically.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from models.dataset import p2p_data
from models.tools import p2p_nets

DIFFAUG_OPS = ("translation", "cutout", "colour")


# ---------------------------------------------------------------------------
# Discriminators

class MultiScaleD(nn.Module):
    """`scales` PatchGANs; scale s sees the pair downsampled s times by 3x3 average pooling with
    stride 2 (pix2pixHD: the coarse ones judge global structure, the fine one texture)."""

    def __init__(self, input_nc, ndf, n_layers, norm, scales):
        super().__init__()
        self.ds = nn.ModuleList(p2p_nets.NLayerDiscriminator(input_nc, ndf, n_layers, norm)
                                for _ in range(scales))


def build_discriminator(input_nc, ndf, scales=1, norm="batch", spectral=False, n_layers=3):
    if scales < 1:
        raise ValueError("--d-scales must be at least 1")
    if scales == 1:
        D = p2p_nets.NLayerDiscriminator(input_nc, ndf, n_layers, norm)
    else:
        D = MultiScaleD(input_nc, ndf, n_layers, norm, scales)
    p2p_nets.init_weights(D)
    if spectral:
        for m in list(D.modules()):
            if isinstance(m, nn.Conv2d):
                nn.utils.spectral_norm(m)
    return D


def _features(d, x):
    """The outputs of every LeakyReLU of one PatchGAN and its final map (the last entry)."""
    feats = []
    for layer in d.model:
        x = layer(x)
        if isinstance(layer, nn.LeakyReLU):
            feats.append(x)
    feats.append(x)
    return feats


def discriminate(D, pair):
    """List over scales (finest first) of feature lists; [-1] of each is the patch score map.
    For a single-scale D this computes exactly D(pair)."""
    if isinstance(D, MultiScaleD):
        out = []
        for i, d in enumerate(D.ds):
            if i:
                pair = F.avg_pool2d(pair, 3, stride=2, padding=1, count_include_pad=False)
            out.append(_features(d, pair))
        return out
    return [_features(D, pair)]


# ---------------------------------------------------------------------------
# Losses (each averaged over the scales)

def d_loss(kind, real_scores, fake_scores):
    """D's loss from lists of score maps.  lsgan/vanilla as pix2pix (0.5 x (real + fake));
    hinge: mean(relu(1 - real)) + mean(relu(1 + fake))."""
    total = 0.0
    for r, f in zip(real_scores, fake_scores):
        if kind == "hinge":
            total = total + F.relu(1.0 - r).mean() + F.relu(1.0 + f).mean()
        elif kind == "lsgan":
            # Fake term first: the order of the loss before these options, so that a resumed run
            # computes bit for bit what it did.
            total = total + 0.5 * (F.mse_loss(f, torch.zeros_like(f)) + F.mse_loss(r, torch.ones_like(r)))
        else:
            total = total + 0.5 * (F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)) +
                                   F.binary_cross_entropy_with_logits(r, torch.ones_like(r)))
    return total / len(real_scores)


def g_loss(kind, fake_scores):
    total = 0.0
    for f in fake_scores:
        if kind == "hinge":
            total = total - f.mean()
        elif kind == "lsgan":
            total = total + F.mse_loss(f, torch.ones_like(f))
        else:
            total = total + F.binary_cross_entropy_with_logits(f, torch.ones_like(f))
    return total / len(fake_scores)


def feature_matching(real_feats, fake_feats):
    """pix2pixHD's feature-matching loss: L1 between D's intermediate features of the real and
    the fake pair (every layer but the score map), each layer weighted 1/layers, averaged over
    the scales.  The real features carry no gradient."""
    total = 0.0
    for rf, ff in zip(real_feats, fake_feats):
        n = len(rf) - 1
        for r, f in zip(rf[:-1], ff[:-1]):
            total = total + F.l1_loss(f, r.detach()) / n
    return total / len(real_feats)


# ---------------------------------------------------------------------------
# DiffAugment: the same differentiable transform of real and fake pairs before D

def parse_diffaug(text):
    ops = tuple(o for o in (text or "").replace(" ", "").split(",") if o)
    bad = [o for o in ops if o not in DIFFAUG_OPS]
    if bad:
        raise ValueError("unknown --diffaug op %r (known: %s)" % (bad[0], ", ".join(DIFFAUG_OPS)))
    return ops


def diffaug_params(ops, n, h, w, device, generator=None):
    """Random parameters for a batch of n pairs (drawn from torch's RNG); the same parameters can
    be applied to a real and a fake batch (feature matching compares them pixel for pixel)."""
    def u(*shape):
        return torch.rand(*shape, device=device, generator=generator)
    p = {}
    if "translation" in ops:
        # Shift by up to 1/8 of the size in each direction, zero (mid-grey) fill.
        sy, sx = max(1, h // 8), max(1, w // 8)
        p["shift"] = (torch.floor(u(n, 2) * torch.tensor([2 * sy + 1, 2 * sx + 1], device=device))
                      .long() - torch.tensor([sy, sx], device=device))
    if "cutout" in ops:
        # One square of half the size, centred anywhere (it may be partly outside).
        p["cut"] = (torch.floor(u(n, 2) * torch.tensor([h, w], device=device)).long())
    if "colour" in ops:
        # Brightness +-0.5, saturation x[0, 2], contrast x[0.5, 1.5] (DiffAugment's ranges).
        p["bright"] = u(n) - 0.5
        p["sat"] = u(n) * 2.0
        p["contrast"] = u(n) + 0.5
    return p


def diffaug(pair, ops, p, rgb_groups=True):
    """Transforms a batch of pairs (N, C, H, W) in [-1, 1]: the condition and the image move
    together (translation, cutout), so D still sees them aligned.  Colour acts on each 3-channel
    image of the pair with the same parameters (needs C a multiple of 3)."""
    if not ops:
        return pair
    n, c, h, w = pair.shape
    x = pair
    if "colour" in ops:
        if c % 3:
            raise ValueError("--diffaug colour needs RGB pairs (channels a multiple of 3)")
        g = x.view(n, c // 3, 3, h, w)
        g = g + p["bright"].view(n, 1, 1, 1, 1)
        m = g.mean(dim=2, keepdim=True)
        g = (g - m) * p["sat"].view(n, 1, 1, 1, 1) + m
        m = g.mean(dim=(2, 3, 4), keepdim=True)
        g = (g - m) * p["contrast"].view(n, 1, 1, 1, 1) + m
        x = g.reshape(n, c, h, w)
    if "translation" in ops:
        sy, sx = max(1, h // 8), max(1, w // 8)
        padded = F.pad(x, (sx, sx, sy, sy))
        rows = []
        for i in range(n):
            dy, dx = int(p["shift"][i, 0]), int(p["shift"][i, 1])
            # Output pixel (y, x) takes input pixel (y - dy, x - dx).
            rows.append(padded[i, :, sy - dy:sy - dy + h, sx - dx:sx - dx + w])
        x = torch.stack(rows)
    if "cutout" in ops:
        ch, cw = h // 2, w // 2
        ys = torch.arange(h, device=x.device).view(1, h, 1)
        xs = torch.arange(w, device=x.device).view(1, 1, w)
        cy = p["cut"][:, 0].view(n, 1, 1)
        cx = p["cut"][:, 1].view(n, 1, 1)
        inside = ((ys >= cy - ch // 2) & (ys < cy - ch // 2 + ch) &
                  (xs >= cx - cw // 2) & (xs < cx - cw // 2 + cw))
        x = x * (~inside).to(x.dtype).unsqueeze(1)
    return x


# ---------------------------------------------------------------------------
# SSIM loss

def _gauss_taps(sigma=1.5, radius=5):
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    g = torch.exp(-0.5 * (t / sigma) ** 2)
    return g / g.sum()


def ssim_luma(a, b):
    """Per-sample mean SSIM [n] of the Rec.601 luma of two RGB batches in [-1, 1]: Gaussian window
    sigma 1.5 of radius 5, K1 0.01, K2 0.03 on a 0..1 range, over the positions where the window
    fits (valid filtering).  It is the measure models/eval/metrics.ssim takes of 8-bit luma with its
    5-pixel border left out (issue 14's lines-only target), so the loss trains what is scored."""
    w = torch.tensor(p2p_data.REC601, dtype=a.dtype, device=a.device).view(1, 3, 1, 1)
    x = ((a[:, :3] + 1) * 0.5 * w).sum(1, keepdim=True)
    y = ((b[:, :3] + 1) * 0.5 * w).sum(1, keepdim=True)
    g = _gauss_taps().to(a.device, a.dtype)
    gh, gv = g.view(1, 1, 1, -1), g.view(1, 1, -1, 1)

    def blur(z):
        return F.conv2d(F.conv2d(z, gh), gv)

    c1, c2 = 0.01 ** 2, 0.03 ** 2
    mx, my = blur(x), blur(y)
    sxx = blur(x * x) - mx * mx
    syy = blur(y * y) - my * my
    sxy = blur(x * y) - mx * my
    m = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return m.flatten(1).mean(dim=1)


# ---------------------------------------------------------------------------
# Colour rebalancing (colorize)

AB_BIN = 10.0      # Lab units per a, b bin (Zhang, Isola, Efros 2016, "Colorful Image Colorization")
AB_LIMIT = 110.0   # the targets are ab / 110
AB_BINS = int(2 * AB_LIMIT / AB_BIN)


def ab_bin_index(ab):
    """Flat bin index [n, h, w] (0 .. AB_BINS² - 1) of each pixel of targets ab/110 [n, 2, h, w]."""
    q = torch.floor((ab * AB_LIMIT + AB_LIMIT) / AB_BIN).long().clamp(0, AB_BINS - 1)
    return q[:, 0] * AB_BINS + q[:, 1]


def rebalance_table(ab, lam=0.5, sigma=5.0):
    """Per-bin weights [AB_BINS²] that make rare colours count more in the loss (Zhang et al.
    2016, section 2.2): w ∝ 1 / ((1 − lam) p̃ + lam / Q), where p̃ is the targets' ab distribution
    smoothed by a Gaussian of sigma Lab units and Q the number of bins the targets use;
    normalised so that the mean weight over the sample's pixels is 1 (the loss keeps its scale;
    Zhang normalise over p̃, which differs by the smoothing).  Bins the sample never used get the
    largest used bin's weight.  ab: a sample of targets [n, 2, h, w]."""
    idx = ab_bin_index(ab).flatten()
    counts = torch.bincount(idx, minlength=AB_BINS * AB_BINS).double()
    used = counts > 0
    radius = max(1, int(round(3 * sigma / AB_BIN)))
    t = torch.arange(-radius, radius + 1, dtype=torch.float64) * AB_BIN
    g = torch.exp(-0.5 * (t / sigma) ** 2)
    g = g / g.sum()
    p = counts.view(1, 1, AB_BINS, AB_BINS) / counts.sum()
    p = F.conv2d(p, g.view(1, 1, 1, -1), padding=(0, radius))
    p = F.conv2d(p, g.view(1, 1, -1, 1), padding=(radius, 0)).flatten()
    w = 1.0 / ((1 - lam) * p + lam / int(used.sum()))
    w[~used] = w[used].max()
    w = w * counts.sum() / (counts * w).sum()
    return w.float()


def rebalance_weights(ab, table):
    """Per-pixel weights [n, 1, h, w] of targets ab/110 [n, 2, h, w] from rebalance_table."""
    return table.to(ab.device)[ab_bin_index(ab)].unsqueeze(1)
