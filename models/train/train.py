#!/usr/bin/python3
"""pix2pix training for gimp-pix2pix (U-Net generator + 70x70 PatchGAN, GAN + L1).

Runs on the CPU or CUDA, resumes from its own state folder, logs losses, and exports the current
generator in our safetensors format (models/FORMAT.md, F16) at every checkpoint.

    /usr/bin/python3 -m models.train.train --task colorize          # start or resume
    /usr/bin/python3 -m models.train.train --task sketch-to-photo

(from the repository root; models/train/start.sh does this in the background).  State goes to
--state, default STATE_ROOT/<task> with STATE_ROOT from --state-root, $P2P_STATE_ROOT or
/var/lib/gimp-pix2pix-train; the exported model goes into the state folder unless --export names
a file, so the committed models/*.safetensors change only when asked.

Tasks:
* colorize: 1 -> 2 channels, input L/50-1 of a random grey conversion of a training crop (with noise
  and JPEG), target ab/110; crops are cut on the fly from the photo pack (cheap).
* sketch-to-photo: 3 -> 3 RGB, input a precomputed synthetic sketch (make_sketch_set.py: several
  styles per crop), target the photo crop.  With chance --sketch-colour (default 0.65) the sketch
  gets colour made on the fly from its photo crop (models/dataset/colour.py: flat fills of
  segments, partial fills, brush strokes of the local photo colour; issue 14), else it stays
  lines only.

Only the `train` split of the photo pack is used for training; a fixed set of `eval_in` crops gives a
validation L1 in the log (used for information and checkpoint choice, never for gradient steps).

BatchNorm: the engine's default inference mode normalises each image with its own statistics
(batch-1 train-mode BatchNorm, reference section 3.3).  Training with batch > 1 would normalise over
the batch instead and the net would meet different statistics in GIMP, so the generator's BatchNorm
layers compute per-sample statistics here (instance norm + the BN affine), and update the running
buffers from the batch so that the exported file also works in the engine's "running" mode.
"""
import argparse
import datetime
import functools
import json
import math
import os
import random
import signal
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from models.dataset import p2p_data
from models.tools import p2p_nets, p2p_safetensors
from models.train import recipe

# Where training state lives: --state-root, else $P2P_STATE_ROOT, else this default (outside the
# git tree; models/train/start.sh and status.sh use the same rule).
DEFAULT_STATE_ROOT = "/var/lib/gimp-pix2pix-train"


def state_root():
    return os.environ.get("P2P_STATE_ROOT") or DEFAULT_STATE_ROOT

TASKS = {
    # Colour hints (issue 13): one model for automatic and hinted use; input
    # [L/50-1, hint a/110, hint b/110, mask] (p2p_data.colorize_hints_pair).
    "colorize": dict(input_nc=4, output_nc=2, input_space="lab_l_hints", output_space="lab_ab",
                     export="colorize.safetensors", name="Auto Colorize (pix2pix, 128 px, hints)",
                     description="Predicts the colour (Lab a, b) of a greyscale photo from its "
                                 "lightness and optional colour hints (dots of known colour); "
                                 "the output keeps the input's full-resolution L."),
    # The earlier automatic-only model (1 input channel), kept to reproduce it.
    "colorize-auto": dict(input_nc=1, output_nc=2, input_space="lab_l", output_space="lab_ab",
                          export="colorize-auto.safetensors", md_task="colorize",
                          name="Auto Colorize (pix2pix, 128 px)",
                          description="Predicts the colour (Lab a, b) of a greyscale photo from its "
                                      "lightness; the output keeps the input's full-resolution L."),
    "sketch-to-photo": dict(input_nc=3, output_nc=3, input_space="rgb", output_space="rgb",
                            export="sketch-to-photo.safetensors",
                            name="Sketch to Photo (pix2pix, 128 px)",
                            description="Turns a line drawing (dark lines on a light ground, "
                                        "optionally with flat colour fills or brush strokes "
                                        "saying what colour each region is) into a photo-like "
                                        "image; trained on synthetic sketches of real photos."),
}


# ---------------------------------------------------------------------------
# Per-sample BatchNorm for the generator

def _per_sample_bn_forward(self, x):
    if not self.training:
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            False, 0.0, self.eps)
    with torch.no_grad():
        n = x.numel() / x.size(1)
        mean = x.mean(dim=(0, 2, 3))
        var = x.var(dim=(0, 2, 3), unbiased=False) * (n / max(n - 1, 1))
        self.running_mean.mul_(1 - self.momentum).add_(mean, alpha=self.momentum)
        self.running_var.mul_(1 - self.momentum).add_(var, alpha=self.momentum)
        self.num_batches_tracked += 1
    return F.instance_norm(x, None, None, self.weight, self.bias, True, 0.0, self.eps)


def use_per_sample_bn(net):
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.forward = _per_sample_bn_forward.__get__(m, nn.BatchNorm2d)
    return net


# ---------------------------------------------------------------------------
# Data

class ColorizeData:
    def __init__(self, work, size, seed, hints=False, hint_mean=None):
        """hint_mean: hinted samples get 1 + a geometric number of hints of this mean, unhinted
        ones keep Zhang's share (1/8); None: Zhang's geometric count (mean 7 over all samples)."""
        self.size = size
        self.pair = p2p_data.colorize_hints_pair if hints else p2p_data.colorize_pair
        if hints and hint_mean:
            count = functools.partial(p2p_data.hint_count, p_stop=1.0 / hint_mean,
                                      p_none=p2p_data.HINT_P_STOP)
            self.pair = functools.partial(p2p_data.colorize_hints_pair, count=count)
        self.rng = np.random.default_rng(seed)
        photos = p2p_data.load_photos("train", work)
        w = np.array([p2p_data.photo_weight(r) for r, _ in photos])
        keep = w > 0
        self.photos = [p for p, k in zip(photos, keep) if k]
        self.p = w[keep] / w[keep].sum()
        self.dropped = [r["id"] for (r, _), k in zip(photos, keep) if not k]

    def set_state(self, state):
        if state is not None:
            self.rng.bit_generator.state = state

    def get_state(self):
        return self.rng.bit_generator.state

    def sample(self, rng):
        i = rng.choice(len(self.photos), p=self.p)
        crop = p2p_data.random_crop(self.photos[i][1], self.size, rng,
                                    min_short=self.size, max_short=512)
        return self.pair(crop, rng)

    def batch(self, n):
        xs, ys = zip(*(self.sample(self.rng) for _ in range(n)))
        return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))


def sketch_input(photo, sk, rng, colour_p):
    """3xSxS float input in [-1, 1]: the sketch (uint8, ink dark) as grey RGB, or with chance
    colour_p a coloured sketch made from the photo crop (colour.py; fills, partial fills or
    strokes in the proportions of colour.COLOUR_KINDS_P)."""
    if colour_p > 0 and rng.random() < colour_p:
        from models.dataset import colour
        rgb, _ = colour.coloured_sketch(photo, sk, rng, p=colour.COLOUR_KINDS_P)
        return rgb.astype(np.float32).transpose(2, 0, 1) / 127.5 - 1.0
    return np.repeat((sk.astype(np.float32) / 127.5 - 1.0)[None], 3, axis=0)


class SketchData:
    """Precomputed sets from make_sketch_set.py: every WORK/sketch-train* folder holds photos
    (N,S,S,3) and sketches (N,K,S,S) uint8; all of them are used (more can be added between runs)."""

    def __init__(self, work, size, seed, colour_p=0.0, photo_ids=None):
        """photo_ids: use only the crops of these photos (crops.tsv's photo column; --subject)."""
        import glob
        self.colour_p = colour_p
        self.sets = []
        for d in sorted(glob.glob(os.path.join(work, "sketch-train*"))):
            if not os.path.exists(os.path.join(d, "sketches.npy")):
                continue
            ph = np.load(os.path.join(d, "photos.npy"), mmap_mode="r")
            sk = np.load(os.path.join(d, "sketches.npy"), mmap_mode="r")
            if ph.shape[1] != size:
                raise SystemExit("sketch set %s has %d px crops, --size is %d" % (d, ph.shape[1], size))
            self.sets.append((d, ph, sk))
        if not self.sets:
            raise SystemExit("no sketch set in %s: run models/dataset/make_sketch_set.py --split train" % work)
        self.index = [(j, i) for j, (_, ph, _) in enumerate(self.sets) for i in range(len(ph))]
        if photo_ids is not None:
            keep = set()
            for j, (d, ph, _) in enumerate(self.sets):
                with open(os.path.join(d, "crops.tsv"), encoding="utf-8") as f:
                    head = f.readline().rstrip("\n").split("\t")
                    for ln in f:
                        r = dict(zip(head, ln.rstrip("\n").split("\t")))
                        if r["photo"] in photo_ids:
                            keep.add((j, int(r["index"])))
            self.index = [ji for ji in self.index if ji in keep]
            if not self.index:
                raise SystemExit("no crop of the chosen photos in the sketch sets of %s" % work)
        self.rng = np.random.default_rng(seed)
        self.order = None
        self.pos = 0

    def describe(self):
        used = {j: 0 for j in range(len(self.sets))}
        for j, _ in self.index:
            used[j] += 1
        return ", ".join("%s: %d of %d crops x %d sketches" % (os.path.basename(d), used[j], len(ph),
                                                               sk.shape[1])
                         for j, (d, ph, sk) in enumerate(self.sets))

    def set_state(self, state):
        if state is not None:
            self.rng.bit_generator.state = state["rng"]
            order = state["order"]
            # A changed data set (a set added since) starts a new permutation.
            if order is not None and len(order) == len(self.index):
                self.order = np.array(order)
                self.pos = state["pos"]

    def get_state(self):
        return {"rng": self.rng.bit_generator.state,
                "order": None if self.order is None else self.order.tolist(), "pos": self.pos}

    def batch(self, n):
        xs, ys = [], []
        for _ in range(n):
            if self.order is None or self.pos >= len(self.order):
                self.order = self.rng.permutation(len(self.index))
                self.pos = 0
            j, i = self.index[int(self.order[self.pos])]
            self.pos += 1
            _, photos, sketches = self.sets[j]
            k = self.rng.integers(0, sketches.shape[1])
            x = sketch_input(np.asarray(photos[i]), np.asarray(sketches[i, k]), self.rng, self.colour_p)
            ph = np.asarray(photos[i], dtype=np.float32).transpose(2, 0, 1) / 127.5 - 1.0
            if self.rng.random() < 0.5:
                x, ph = x[:, :, ::-1], ph[:, :, ::-1]
            xs.append(x)
            ys.append(ph)
        return (torch.from_numpy(np.ascontiguousarray(np.stack(xs))),
                torch.from_numpy(np.ascontiguousarray(np.stack(ys))))


class PoolStream(torch.utils.data.IterableDataset):
    """Endless training samples made on the fly in DataLoader worker processes (--workers N).

    colorize: as ColorizeData.  sketch-to-photo with --sketch-source live: new synthetic sketches
    for every sample (make_sketch_set.photo_crops on a random training photo: 3 sketch variants per
    crop, random flip), so a long GPU run never repeats a fixed set.  The CPU-side synthesis is
    slower than a GPU step, so each new sample is used about `reuse` times, drawn at random from a
    pool of the worker's most recent samples.  The photos are loaded once, before the workers fork.
    """

    def __init__(self, task, work, size, seed, reuse=2.0, pool=512, colour_p=0.0, hint_mean=None):
        super().__init__()
        self.colour_p = colour_p
        self.task, self.size, self.seed, self.reuse, self.pool = task, size, seed, reuse, pool
        if task.startswith("colorize"):
            self.colorize = ColorizeData(work, size, seed, hints=TASKS[task]["input_nc"] == 4,
                                         hint_mean=hint_mean)
        else:
            from models.dataset import sketch
            self.photos = [img for _, img in p2p_data.load_photos("train", work)]
            self.papers = sketch.load_papers(work)

    def _new_samples(self, rng):
        if self.task.startswith("colorize"):
            return [self.colorize.sample(rng)]
        from models.dataset import make_sketch_set
        img = self.photos[rng.integers(len(self.photos))]
        out = []
        for crop, variants, *_ in make_sketch_set.photo_crops(img, self.size, rng, self.papers, 14):
            ph = crop.astype(np.float32).transpose(2, 0, 1) / 127.5 - 1.0
            for v in variants:
                x, y = sketch_input(crop, v, rng, self.colour_p), ph
                if rng.random() < 0.5:
                    x, y = x[:, :, ::-1], y[:, :, ::-1]
                out.append((np.ascontiguousarray(x), np.ascontiguousarray(y)))
        return out

    def __iter__(self):
        import collections
        info = torch.utils.data.get_worker_info()
        rng = np.random.default_rng([self.seed, info.id if info else 0, os.getpid()])
        pool = collections.deque(maxlen=self.pool)
        credit = 0.0
        while True:
            new = self._new_samples(rng)
            pool.extend(new)
            credit += len(new) * self.reuse
            while credit >= 1.0:
                credit -= 1.0
                yield pool[int(rng.integers(len(pool)))]


def fixed_val_set(task, work, size, n=32, seed=1234):
    """A fixed batch of eval_in crops for the validation L1 (never used for gradient steps)."""
    rng = np.random.default_rng(seed)
    if task.startswith("colorize"):
        pair = p2p_data.colorize_hints_pair if TASKS[task]["input_nc"] == 4 else p2p_data.colorize_pair
        photos = p2p_data.load_photos("eval_in", work)
        photos = [p for p in photos if p2p_data.photo_weight(p[0]) > 0]
        xs, ys = [], []
        for j in range(n):
            crop = p2p_data.random_crop(photos[j % len(photos)][1], size, rng, min_short=size, max_short=512)
            x, y = pair(crop, rng)
            xs.append(x)
            ys.append(y)
        return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))
    d = os.path.join(work, "sketch-eval")
    if not os.path.exists(os.path.join(d, "photos.npy")):
        # No precomputed eval set (e.g. a GPU machine with only the photo pack): make one.
        from models.dataset import make_sketch_set, sketch
        papers = sketch.load_papers(work)
        xs, ys = [], []
        for _, img in p2p_data.load_photos("eval_in", work):
            for crop, variants, *_ in make_sketch_set.photo_crops(img, size, rng, papers, 2)[:1]:
                xs.append(np.repeat((variants[0].astype(np.float32) / 127.5 - 1.0)[None], 3, axis=0))
                ys.append(crop.astype(np.float32).transpose(2, 0, 1) / 127.5 - 1.0)
            if len(xs) == n:
                break
        return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))
    ph = np.load(os.path.join(d, "photos.npy"))[:n]
    sk = np.load(os.path.join(d, "sketches.npy"))[:n, 0]
    x = np.repeat((sk.astype(np.float32) / 127.5 - 1.0)[:, None], 3, axis=1)
    y = ph.astype(np.float32).transpose(0, 3, 1, 2) / 127.5 - 1.0
    return torch.from_numpy(x), torch.from_numpy(y)


def coloured_val_set(val, seed=1414):
    """The same fixed eval_in crops with colour (fills, partial fills, strokes in turn, seeded):
    a second validation L1 for sketches that carry colour."""
    from models.dataset import colour
    rng = np.random.default_rng(seed)
    x, y = val
    kinds = ("fills", "partial", "strokes")
    xs = []
    for i in range(len(x)):
        sk = np.clip(np.rint((x[i, 0].numpy() + 1.0) * 127.5), 0, 255).astype(np.uint8)
        ph = np.clip(np.rint((y[i].numpy().transpose(1, 2, 0) + 1.0) * 127.5), 0, 255).astype(np.uint8)
        rgb, _ = colour.coloured_sketch(ph, sk, rng, kinds[i % 3])
        xs.append(rgb.astype(np.float32).transpose(2, 0, 1) / 127.5 - 1.0)
    return torch.from_numpy(np.stack(xs)), y


# ---------------------------------------------------------------------------
# Checkpoints and export

def atomic_torch_save(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def export_generator(G, args, step, epoch, train_seconds, path):
    t = TASKS[args.task]
    md = {
        "arch": args.arch, "ngf": str(args.ngf), "input_nc": str(t["input_nc"]),
        "output_nc": str(t["output_nc"]), "norm": "batch", "dropout": "true",
        "task": t.get("md_task", args.task), "input_space": t["input_space"], "output_space": t["output_space"],
        "native_size": str(args.size), "name": t["name"], "license": args.license,
        "description": t["description"],
        "author": "gimp-pix2pix project",
        "source": "trained from scratch on the photos listed in models/dataset/photo-sources.tsv "
                  "(train split; see models/CREDITS)",
        "training": "step=%d epoch=%.2f batch=%d images=%d gan=%s lambda_l1=%g lr=%g "
                    "%s_hours=%.2f per_sample_bn=true date=%s" % (
                        step, epoch, args.batch, step * args.batch, args.gan, args.lambda_l1,
                        args.lr, "gpu" if args.device.startswith("cuda") else "cpu",
                        train_seconds / 3600.0,
                        datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%MZ"))
                    + (" sketch_colour=%g" % args.sketch_colour if args.task == "sketch-to-photo" else "")
                    + recipe_text(args),
    }
    sd = {k: v.detach().cpu().float() for k, v in G.state_dict().items()}
    data = p2p_safetensors.encode_model(sd, md, dtype="F16")
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return len(data)


def recipe_text(args):
    """The recipe options that differ from the defaults, for the log and the export's
    `training` metadata (empty for the default recipe, so its exports are as before)."""
    parts = []
    if args.d_scales != 1:
        parts.append("d_scales=%d" % args.d_scales)
    if args.d_norm != "batch":
        parts.append("d_norm=%s" % args.d_norm)
    if args.spectral_norm:
        parts.append("spectral_norm=true")
    if args.feat_match:
        parts.append("feat_match=%g" % args.feat_match)
    if args.lr_d is not None and args.lr_d != args.lr:
        parts.append("lr_d=%g" % args.lr_d)
    if args.beta2 != 0.999:
        parts.append("beta2=%g" % args.beta2)
    if args.subject:
        parts.append("subject=%s" % args.subject)
    if args.lambda_l1_unhinted is not None and args.lambda_l1_unhinted != args.lambda_l1:
        parts.append("lambda_l1_unhinted=%g" % args.lambda_l1_unhinted)
    if args.lambda_ssim:
        parts.append("lambda_ssim=%g" % args.lambda_ssim)
    if args.hint_mean:
        parts.append("hint_mean=%g" % args.hint_mean)
    if args.rebalance:
        parts.append("rebalance=%g" % args.rebalance)
    if args.rebalance_unhinted_only:
        parts.append("rebalance_unhinted_only=true")
    if args.diffaug:
        parts.append("diffaug=%s" % ",".join(recipe.parse_diffaug(args.diffaug)))
    return "".join(" " + p for p in parts)


# Options that change what a resumed run computes: a resume must pass the values it started with.
RECIPE_KEYS = {"arch": "unet_128", "gan": "lsgan", "d_scales": 1, "d_norm": "batch",
               "spectral_norm": False, "feat_match": 0.0, "lr_d": None, "beta2": 0.999, "diffaug": "",
               "hint_mean": None, "rebalance": 0.0, "rebalance_unhinted_only": False}


# --rebalance: the crops its colour distribution is taken from, and their seed's offset.
REBALANCE_CROPS = 512
REBALANCE_SEED = 7919


def unhinted_mask(x):
    """[n] bool: the colorize samples whose hint mask (input channel 3) is empty."""
    return x[:, 3].flatten(1).amax(dim=1) == 0


def l1_weights(x, args):
    """Per-sample L1 weights [n]: --lambda-l1, or --lambda-l1-unhinted for colorize samples whose
    hint mask (input channel 3) is empty."""
    w = torch.full((x.shape[0],), args.lambda_l1, device=x.device)
    if args.lambda_l1_unhinted is not None and x.shape[1] == 4:
        w[unhinted_mask(x)] = args.lambda_l1_unhinted
    return w


def l1_per_sample(fake, y, x, args, ab_weights=None):
    """Per-sample mean absolute error [n]; with --rebalance each pixel weighed by its true
    colour's weight (ab_weights: recipe.rebalance_table), for every sample or, with
    --rebalance-unhinted-only, for the samples without hints only."""
    err = (fake - y).abs()
    if ab_weights is not None:
        w = recipe.rebalance_weights(y, ab_weights)
        if args.rebalance_unhinted_only:
            w = torch.where(unhinted_mask(x).view(-1, 1, 1, 1), w, torch.ones_like(w))
        err = w * err
    return err.mean(dim=(1, 2, 3))


# The resize-convolution decoder step (nearest x2, then a 3x3 conv w) and a ConvTranspose2d(4, s2,
# p1) T both give each of the 4 output phases its own 2x2 kernel on the low-resolution input.
# Along one axis, output 2i takes input i-1 with T[3] and i with T[1]; output 2i+1 takes i with T[2]
# and i+1 with T[0].  For the resize-conv, 2i takes i-1 with w[0] and i with w[1] + w[2]; 2i+1
# takes i with w[0] + w[1] and i+1 with w[2].  So T = M w with M below (rows: T's taps 0..3), and
# in 2-D with kron(M, M).  A resize-conv is a conv-transpose with this tied structure; the
# least-squares w of a trained T is the closest one.
_RC_FROM_T_1D = np.array([[0, 0, 1], [0, 1, 1], [1, 1, 0], [1, 0, 0]], np.float64)


def resize_conv_from_conv_t(t):
    """[in, out, 4, 4] conv-transpose weights -> the least-squares [out, in, 3, 3] weights of the
    resize-convolution (nearest x2 + 3x3 conv, padding 1) that computes the nearest thing."""
    m = np.kron(_RC_FROM_T_1D, _RC_FROM_T_1D)                  # (16, 9)
    cin, cout = t.shape[:2]
    w = np.linalg.lstsq(m, t.reshape(cin * cout, 16).T.astype(np.float64), rcond=None)[0]
    return w.T.reshape(cin, cout, 3, 3).transpose(1, 0, 2, 3).astype(np.float32)


def check_resume_args(was, args, ckpt_path):
    """Stops when the checkpoint's recipe options (its saved args; older checkpoints have none
    of the new ones, i.e. the defaults) differ from this run's."""
    differ = ["--%s %s (now %s)" % (k.replace("_", "-"), was.get(k, dflt), getattr(args, k))
              for k, dflt in RECIPE_KEYS.items() if was.get(k, dflt) != getattr(args, k)]
    if differ:
        raise SystemExit("%s was trained with other recipe options: %s; pass the same ones "
                         "to resume it" % (ckpt_path, ", ".join(differ)))


def load_generator_from_export(G, path, partial=False):
    """Loads G's weights from an exported model; returns its training step.  partial: tensors
    whose name or shape do not fit keep G's own initialisation instead of stopping (their names
    go into the returned list), except that a unet file's conv-transpose weights [in, out, 4, 4]
    start a unet_rc decoder [out, in, 3, 3] at their least-squares resize-conv counterpart
    (resize_conv_from_conv_t; listed as 'name (projected)')."""
    tensors, md = p2p_safetensors.load_model(path)
    sd = G.state_dict()
    first_conv = next(k for k, v in sd.items() if v.ndim == 4)
    missing = [k for k in sd if k not in tensors and not k.endswith("num_batches_tracked")]
    if missing and not partial:
        raise SystemExit("%s does not match the generator (missing %s ...)" % (path, missing[:3]))
    skipped = list(missing)
    for k in sd:
        if k in tensors:
            src = np.array(tensors[k], dtype=np.float32)
            if (k == first_conv and src.ndim == 4 and src.shape[0] == sd[k].shape[0]
                    and src.shape[1] < sd[k].shape[1] and src.shape[2:] == tuple(sd[k].shape[2:])):
                # A model with fewer inputs (the automatic colorize model before hints): its
                # weights for the channels it had, zeros for the new ones, so G starts out
                # computing exactly what the old model did.
                grown = np.zeros(tuple(sd[k].shape), np.float32)
                grown[:, :src.shape[1]] = src
                sd[k] = torch.from_numpy(grown)
                continue
            if tuple(src.shape) != tuple(sd[k].shape) and partial:
                want = tuple(sd[k].shape)
                if (src.ndim == 4 and src.shape[2:] == (4, 4) and want[2:] == (3, 3)
                        and want[:2] == (src.shape[1], src.shape[0])):
                    sd[k] = torch.from_numpy(resize_conv_from_conv_t(src))
                    skipped.append(k + " (projected)")
                else:
                    skipped.append(k)
                continue
            if tuple(src.shape) != tuple(sd[k].shape):
                raise SystemExit("%s: tensor %s has shape %s, expected %s"
                                 % (path, k, tensors[k].shape, tuple(sd[k].shape)))
            sd[k] = torch.from_numpy(src)
    G.load_state_dict(sd)
    step = 0
    for tok in md.get("training", "").split():
        if tok.startswith("step="):
            step = int(tok[5:])
    return step, skipped


# ---------------------------------------------------------------------------

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="pix2pix training for gimp-pix2pix")
    ap.add_argument("--task", required=True, choices=sorted(TASKS))
    ap.add_argument("--work", default=p2p_data.DEFAULT_WORK, help="dataset work folder")
    ap.add_argument("--state-root", default=state_root(),
                    help="folder of the per-task state folders (default $P2P_STATE_ROOT or %s)"
                         % DEFAULT_STATE_ROOT)
    ap.add_argument("--state", help="state folder (default STATE_ROOT/<task>)")
    ap.add_argument("--export", help="exported model path (default: in the state folder; the "
                                     "committed models/ files change only when asked)")
    ap.add_argument("--init-from", help="start G from an exported model when no state exists "
                                        "(D and the optimisers start fresh)")
    ap.add_argument("--arch", default="unet_128")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--ngf", type=int, default=32)
    ap.add_argument("--ndf", type=int, default=32)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--beta1", type=float, default=0.5)
    ap.add_argument("--gan", choices=("lsgan", "vanilla", "hinge"), default="lsgan",
                    help="GAN loss; hinge as in SPADE (use with --spectral-norm)")
    ap.add_argument("--lr-d", type=float, default=None,
                    help="D's learning rate (default --lr); two rates (TTUR) as in SPADE, e.g. "
                         "--lr 1e-4 --lr-d 4e-4")
    ap.add_argument("--beta2", type=float, default=0.999, help="Adam beta2 of G and D")
    ap.add_argument("--d-scales", type=int, default=1,
                    help="number of PatchGANs at scales 1, 1/2, 1/4 (pix2pixHD multi-scale D)")
    ap.add_argument("--d-norm", choices=("batch", "instance", "none"), default="batch",
                    help="D's norm layers")
    ap.add_argument("--spectral-norm", action="store_true", help="spectral norm on D's convolutions")
    ap.add_argument("--feat-match", type=float, default=0.0,
                    help="weight of pix2pixHD's feature-matching loss (e.g. 10; 0 = off)")
    ap.add_argument("--diffaug", default="",
                    help="DiffAugment ops on D's real and fake pairs, comma-separated: "
                         "translation,cutout,colour (empty = off)")
    ap.add_argument("--init-partial", action="store_true",
                    help="with --init-from: tensors whose shape differs (unet_rc decoder from a "
                         "unet file) keep their fresh initialisation")
    ap.add_argument("--stop-step", type=int, default=0,
                    help="stop (with a checkpoint and snapshot) at this step (0: run to --total-steps)")
    ap.add_argument("--snapshot-steps", default="",
                    help="comma-separated steps at which to checkpoint and keep a snapshot besides "
                         "the timed ones (to compare runs at equal steps)")
    ap.add_argument("--lambda-l1", type=float, default=100.0)
    ap.add_argument("--lambda-l1-unhinted", type=float, default=None,
                    help="colorize with hints: the L1 weight for samples drawn with no hint "
                         "(default: --lambda-l1).  A lighter weight there lets the GAN loss give "
                         "more colour where the model must guess, while hinted samples keep the "
                         "full weight that makes the model follow the hints")
    ap.add_argument("--hint-mean", type=float, default=None,
                    help="colorize with hints: one sample in eight stays without hints (as "
                         "by default); the others get 1 + a geometric number of hints with this "
                         "mean (default: Zhang's geometric count, mean 7 over all samples)")
    ap.add_argument("--rebalance", type=float, default=0.0, metavar="LAMBDA",
                    help="colorize: weigh each pixel's L1 by how rare its true colour is "
                         "(Zhang et al. 2016's class rebalancing, LAMBDA their uniform mix, 0.5 "
                         "there; recipe.rebalance_table from %d training crops); 0 = off" % REBALANCE_CROPS)
    ap.add_argument("--rebalance-unhinted-only", action="store_true",
                    help="with --rebalance: rebalance only the samples drawn without hints (the "
                         "automatic mode); hinted samples keep plain L1")
    ap.add_argument("--lambda-ssim", type=float, default=0.0,
                    help="weight of an SSIM loss on luma, 1 - SSIM (recipe.ssim_luma; RGB-output "
                         "tasks), beside L1: it trains the measure of issue 14's lines-only target. "
                         "Tried 2026-12-03: that figure rose to the flat-grey level and the "
                         "pictures turned grey (models/README.md), so no shipped model uses it")
    ap.add_argument("--total-steps", type=int, default=30000,
                    help="learning rate decays linearly to 0 over the last --decay-steps")
    ap.add_argument("--decay-steps", type=int, default=10000)
    ap.add_argument("--epoch-size", type=int, default=2000, help="images per epoch (logging)")
    ap.add_argument("--ckpt-minutes", type=float, default=10.0)
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-minutes", type=float, default=0, help="stop after this long (0: never)")
    ap.add_argument("--decay-fraction", type=float, default=0.0,
                    help="with --max-minutes: decay the learning rate linearly to 0 over this last "
                         "fraction of the time (a time-boxed run, e.g. on a borrowed GPU)")
    ap.add_argument("--workers", type=int, default=0,
                    help="make samples on the fly in N DataLoader worker processes (PoolStream)")
    ap.add_argument("--reuse", type=float, default=2.0, help="with --workers: uses of each new sample")
    ap.add_argument("--sketch-source", choices=("sets", "live"), default="sets",
                    help="sketch-to-photo with --workers: precomputed sets or new sketches (live)")
    ap.add_argument("--sketch-colour", type=float, default=0.65,
                    help="sketch-to-photo: chance that a training sketch carries colour made from "
                         "its photo (fills, partial fills, strokes); 0 = lines only as before")
    ap.add_argument("--subject", choices=sorted(p2p_data.SUBJECTS),
                    help="sketch-to-photo: train on the crops of this subject's photos only "
                         "(photo-sources.tsv's content column; a narrower model, issue 14 part 4)")
    ap.add_argument("--license", default="CC-BY-SA-4.0")
    ap.add_argument("--bench", type=int, default=0, help="run N steps, print s/step, save nothing")
    args = ap.parse_args(argv)
    if args.state is None:
        args.state = os.path.join(args.state_root, args.task)
    if args.export is None:
        args.export = os.path.join(args.state, TASKS[args.task]["export"])
    try:
        recipe.parse_diffaug(args.diffaug)
    except ValueError as e:
        ap.error(str(e))
    if "colour" in args.diffaug and TASKS[args.task]["input_nc"] % 3:
        ap.error("--diffaug colour needs an RGB task (sketch-to-photo)")
    if args.subject and (args.task != "sketch-to-photo" or (args.workers and args.sketch_source == "live")):
        ap.error("--subject works with sketch-to-photo from the precomputed sketch sets")
    if args.hint_mean is not None and (TASKS[args.task]["input_nc"] != 4 or args.hint_mean < 1):
        ap.error("--hint-mean needs a task with a hints input (colorize) and a mean of at least 1")
    if args.lambda_l1_unhinted is not None and TASKS[args.task]["input_nc"] != 4:
        ap.error("--lambda-l1-unhinted needs a task with a hints input (colorize)")
    if args.rebalance and (TASKS[args.task]["output_nc"] != 2 or not 0 < args.rebalance <= 1):
        ap.error("--rebalance needs colorize and a LAMBDA in (0, 1]")
    if args.rebalance_unhinted_only and (not args.rebalance or TASKS[args.task]["input_nc"] != 4):
        ap.error("--rebalance-unhinted-only needs --rebalance and a task with a hints input")
    if args.lambda_ssim and TASKS[args.task]["output_nc"] != 3:
        ap.error("--lambda-ssim needs a task with an RGB output (sketch-to-photo)")
    if args.d_scales < 1 or args.d_scales > 4:
        ap.error("--d-scales must be 1..4")
    try:
        args.snapshot_at = {int(v) for v in args.snapshot_steps.split(",") if v.strip()}
    except ValueError:
        ap.error("--snapshot-steps takes comma-separated step numbers")
    return args


def lr_at(step, args):
    start = args.total_steps - args.decay_steps
    if step <= start:
        return args.lr
    return args.lr * max(0.0, 1.0 - (step - start) / max(1, args.decay_steps))


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    t = TASKS[args.task]
    os.makedirs(args.state, exist_ok=True)
    log_path = os.path.join(args.state, "train.log")
    ckpt_path = os.path.join(args.state, "checkpoint.pt")

    def log(msg):
        line = "%s %s" % (datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"), msg)
        print(line, flush=True)
        if not args.bench:
            with open(log_path, "a") as f:
                f.write(line + "\n")

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)

    G = p2p_nets.build_generator(args.arch, t["input_nc"], t["output_nc"], args.ngf, "batch", True)
    p2p_nets.init_weights(G)
    use_per_sample_bn(G)
    D = recipe.build_discriminator(t["input_nc"] + t["output_nc"], args.ndf, args.d_scales,
                                   args.d_norm, args.spectral_norm)
    G.to(dev).train()
    D.to(dev).train()
    lr_d_factor = (args.lr_d / args.lr) if args.lr_d is not None else 1.0
    optG = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(args.beta1, args.beta2))
    optD = torch.optim.Adam(D.parameters(), lr=args.lr * lr_d_factor, betas=(args.beta1, args.beta2))
    aug_ops = recipe.parse_diffaug(args.diffaug)

    loader = None
    colorize = args.task.startswith("colorize")
    if args.workers > 0 and (colorize or args.sketch_source == "live"):
        stream = PoolStream(args.task, args.work, args.size, args.seed, reuse=args.reuse,
                            colour_p=args.sketch_colour, hint_mean=args.hint_mean)
        loader = iter(torch.utils.data.DataLoader(
            stream, batch_size=args.batch, num_workers=args.workers, pin_memory=dev.type == "cuda",
            prefetch_factor=4, persistent_workers=True))
        log("data: made on the fly by %d workers (%s), each sample used ~%.1f times" % (
            args.workers, "colorize" if colorize else "live sketches", args.reuse))
        data = None
    elif colorize:
        data = ColorizeData(args.work, args.size, args.seed, hints=t["input_nc"] == 4,
                            hint_mean=args.hint_mean)
        if data.dropped:
            log("colorize: dropped monochrome photos: %s" % ", ".join(data.dropped))
    else:
        ids = p2p_data.subject_ids(args.subject, args.work) if args.subject else None
        data = SketchData(args.work, args.size, args.seed, colour_p=args.sketch_colour, photo_ids=ids)
        log("sketch data: %s; coloured inputs: %.0f %%" % (data.describe(), 100 * args.sketch_colour))
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
    val = fixed_val_set(args.task, args.work, args.size)
    ab_weights = None
    if args.rebalance:
        # The colour distribution from crops of their own (another seed), so the training
        # stream stays the one a run without rebalancing sees.
        prior = ColorizeData(args.work, args.size, args.seed + REBALANCE_SEED, hints=False)
        ab_weights = recipe.rebalance_table(prior.batch(REBALANCE_CROPS)[1], args.rebalance).to(dev)
        del prior  # its copy of the photos
        log("rebalance: colour weights from %d crops, %.2f .. %.2f" % (
            REBALANCE_CROPS, ab_weights.min().item(), ab_weights.max().item()))
    val_colour = coloured_val_set(val) if args.task == "sketch-to-photo" else None

    step = 0
    train_seconds = 0.0
    if os.path.exists(ckpt_path) and not args.bench:
        ck = torch.load(ckpt_path, map_location="cpu")
        check_resume_args(ck.get("args", {}), args, ckpt_path)
        G.load_state_dict(ck["G"])
        D.load_state_dict(ck["D"])
        optG.load_state_dict(ck["optG"])
        optD.load_state_dict(ck["optD"])
        step = ck["step"]
        train_seconds = ck.get("train_seconds", 0.0)
        torch.set_rng_state(ck["torch_rng"])
        np.random.set_state(ck["np_rng"])
        random.setstate(ck["py_rng"])
        if data is not None:
            data.set_state(ck.get("data_state"))
        log("resumed from %s at step %d (%.2f h of training)" % (ckpt_path, step, train_seconds / 3600))
    elif args.init_from and not args.bench:
        step, skipped = load_generator_from_export(G, args.init_from, args.init_partial)
        log("G initialised from %s (step %d); D and optimisers start fresh%s%s" % (
            args.init_from, step,
            "; not loaded as stored (shape differs): %s" % ", ".join(skipped) if skipped else "",
            "; recipe:" + recipe_text(args) if recipe_text(args) else ""))
    else:
        log("fresh start: task=%s arch=%s ngf=%d ndf=%d batch=%d size=%d gan=%s lambda_l1=%g "
            "G params=%d D params=%d device=%s threads=%d%s" % (
                args.task, args.arch, args.ngf, args.ndf, args.batch, args.size, args.gan,
                args.lambda_l1, p2p_nets.count_params(G), p2p_nets.count_params(D), dev, args.threads,
                recipe_text(args)))

    stop = {"now": False}

    def on_signal(signum, frame):
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def validate(val):
        if val is None:
            return float("nan")
        # Official-deterministic mode: per-image BN statistics, no dropout (what GIMP runs).
        G.train()
        for m in G.modules():
            if isinstance(m, nn.Dropout):
                m.eval()
        saved = {k: v.clone() for k, v in G.state_dict().items() if "running" in k or "num_batches" in k}
        with torch.no_grad():
            out = G(val[0].to(dev))
            l1 = (out - val[1].to(dev)).abs().mean().item()
        G.load_state_dict({**G.state_dict(), **saved})
        G.train()
        return l1

    def checkpoint():
        atomic_torch_save({
            "G": G.state_dict(), "D": D.state_dict(), "optG": optG.state_dict(),
            "optD": optD.state_dict(), "step": step, "train_seconds": train_seconds,
            "torch_rng": torch.get_rng_state(), "np_rng": np.random.get_state(),
            "py_rng": random.getstate(), "data_state": data.get_state() if data is not None else None, "args": vars(args),
        }, ckpt_path)
        nbytes = export_generator(G, args, step, step * args.batch / args.epoch_size,
                                  train_seconds, args.export)
        vl1 = validate(val)
        vl1c = validate(val_colour)
        # Every checkpoint's export is kept: the model to ship is chosen by evaluating the
        # snapshots through pix2pix-cli (models/eval), not by taking the last step.
        snap_dir = os.path.join(args.state, "snapshots")
        os.makedirs(snap_dir, exist_ok=True)
        import shutil
        shutil.copyfile(args.export, os.path.join(
            snap_dir, "%s-step%06d.safetensors" % (args.task, step)))
        log("checkpoint step %d: state %s, exported %s (%.1f MB), val_L1(eval_in)=%.4f%s" % (
            step, ckpt_path, args.export, nbytes / 1e6, vl1,
            "" if val_colour is None else ", coloured sketches %.4f" % vl1c))
        with open(os.path.join(args.state, "status.json.tmp"), "w") as f:
            json.dump({"task": args.task, "step": step, "epoch": step * args.batch / args.epoch_size,
                       "train_hours": train_seconds / 3600, "val_l1": vl1, "val_l1_colour": vl1c,
                       "pid": os.getpid(),
                       "export": args.export,
                       "time": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")}, f)
        os.replace(os.path.join(args.state, "status.json.tmp"), os.path.join(args.state, "status.json"))

    t_start = time.time()
    last_ckpt = time.time()
    acc = {"D": 0.0, "G_gan": 0.0, "G_l1": 0.0, "G_ssim": 0.0, "n": 0, "data_s": 0.0, "step_s": 0.0}
    bench_times = []
    while not stop["now"] and step < args.total_steps:
        lr = lr_at(step, args)
        if args.max_minutes and args.decay_fraction > 0:
            left = 1.0 - (time.time() - t_start) / (args.max_minutes * 60)
            lr *= min(1.0, max(0.0, left / args.decay_fraction))
        for g in optG.param_groups:
            g["lr"] = lr
        for g in optD.param_groups:
            g["lr"] = lr * lr_d_factor
        t0 = time.time()
        x, y = next(loader) if loader is not None else data.batch(args.batch)
        x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
        t1 = time.time()

        fake = G(x)
        real_pair = torch.cat([x, y], 1)
        n, _, hh, ww = real_pair.shape

        def aug(pair, p):
            return recipe.diffaug(pair, aug_ops, p) if aug_ops else pair

        def params():
            return recipe.diffaug_params(aug_ops, n, hh, ww, real_pair.device) if aug_ops else None

        # D: real pairs vs fake pairs (conditional GAN); with DiffAugment both go through
        # independently drawn transforms, as in the paper.
        optD.zero_grad(set_to_none=True)
        out_fake = recipe.discriminate(D, aug(torch.cat([x, fake.detach()], 1), params()))
        out_real = recipe.discriminate(D, aug(real_pair, params()))
        loss_D = recipe.d_loss(args.gan, [o[-1] for o in out_real], [o[-1] for o in out_fake])
        loss_D.backward()
        optD.step()
        # G: fool D + L1 to the target (+ feature matching: real and fake through the same
        # transform so that their features line up).
        optG.zero_grad(set_to_none=True)
        p = params()
        out_fake = recipe.discriminate(D, aug(torch.cat([x, fake], 1), p))
        loss_G_gan = recipe.g_loss(args.gan, [o[-1] for o in out_fake])
        loss_G_l1 = (fake - y).abs().mean()
        loss_G = loss_G_gan + (l1_weights(x, args) * l1_per_sample(fake, y, x, args, ab_weights)).mean()
        if args.lambda_ssim:
            loss_G_ssim = (1 - recipe.ssim_luma(fake, y)).mean()
            loss_G = loss_G + args.lambda_ssim * loss_G_ssim
        if args.feat_match:
            with torch.no_grad():
                out_real = recipe.discriminate(D, aug(real_pair, p))
            loss_G = loss_G + args.feat_match * recipe.feature_matching(out_real, out_fake)
        loss_G.backward()
        optG.step()
        t2 = time.time()

        step += 1
        train_seconds += t2 - t0
        acc["D"] += loss_D.item()
        acc["G_gan"] += loss_G_gan.item()
        acc["G_l1"] += loss_G_l1.item()
        if args.lambda_ssim:
            acc["G_ssim"] += loss_G_ssim.item()
        acc["n"] += 1
        acc["data_s"] += t1 - t0
        acc["step_s"] += t2 - t1
        if args.bench:
            bench_times.append((t1 - t0, t2 - t1))
            if step >= args.bench:
                d = np.array(bench_times[2:]) if len(bench_times) > 4 else np.array(bench_times)
                tot = d.sum(axis=1)
                print("bench %s batch %d: data %.3f s, step %.3f s, total median %.3f s/step "
                      "(%.3f s/img, %.2f img/s), best %.3f s/step" % (
                          args.task, args.batch, np.median(d[:, 0]), np.median(d[:, 1]),
                          np.median(tot), np.median(tot) / args.batch, args.batch / np.median(tot),
                          tot.min()))
                return 0
            continue
        if step % args.log_every == 0:
            n = acc["n"]
            # G_SSIM is the unweighted 1 - SSIM of luma, shown only when --lambda-ssim adds it.
            ssim = " G_SSIM %.4f" % (acc["G_ssim"] / n) if args.lambda_ssim else ""
            log("step %d epoch %.2f lr %.2e D %.4f G_gan %.4f G_L1 %.4f%s data %.3fs step %.3fs "
                "(%.3f s/img)" % (step, step * args.batch / args.epoch_size, lr, acc["D"] / n,
                                  acc["G_gan"] / n, acc["G_l1"] / n, ssim, acc["data_s"] / n,
                                  acc["step_s"] / n, (acc["data_s"] + acc["step_s"]) / n / args.batch))
            acc = {k: 0.0 for k in acc}
            acc["n"] = 0
        if args.stop_step and step >= args.stop_step:
            break
        if time.time() - last_ckpt >= args.ckpt_minutes * 60 or step in args.snapshot_at:
            checkpoint()
            last_ckpt = time.time()
        if args.max_minutes and time.time() - t_start >= args.max_minutes * 60:
            break
    if not args.bench:
        checkpoint()
        log("stopped at step %d" % step)
    return 0


if __name__ == "__main__":
    sys.exit(main())
