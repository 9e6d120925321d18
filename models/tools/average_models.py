"""Averages the weights of model files from one training run (snapshots) into one model file.

    /usr/bin/python3 -m models.tools.average_models OUT.safetensors IN1 IN2 ... [--weights w1,w2,...]

Why: a GAN generator's weights wander from snapshot to snapshot, and each snapshot carries its
own speckles and tints; the mean of the late snapshots of one run (stochastic weight averaging,
like the running average of G that StyleGAN and BigGAN evaluate) keeps what they share.  It only
makes sense for snapshots of one run or of branches of one run (same architecture, nearby
weights); our U-Nets normalise each sample by its own statistics at run time (per_sample_bn), so
no batch-norm statistics need recomputing.

The output takes the last input's metadata; its `training` entry gains ` averaged=` with the
inputs' steps (and weights when not equal), so the model card can say what it is.
"""
import argparse
import sys

import numpy as np

from models.eval import cli
from models.tools import p2p_safetensors


def step_of(md, path):
    step = cli.training_step(md)
    return path if step is None else str(step)


def average(paths, weights=None):
    """-> (averaged tensors as float32 numpy arrays, metadata).  Raises ValueError when the
    inputs are not the same network."""
    if len(paths) < 2:
        raise ValueError("give at least two models to average")
    if weights is None:
        weights = [1.0] * len(paths)
    if len(weights) != len(paths) or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError("one non-negative weight per model, not all zero")
    total = float(sum(weights))
    acc, md0, steps = None, None, []
    for path, w in zip(paths, weights):
        tensors, md = p2p_safetensors.load_model(path)
        if acc is None:
            acc = {k: np.zeros(v.shape, np.float64) for k, v in tensors.items()}
            md0 = md
        else:
            for key in ("arch", "ngf", "input_nc", "output_nc", "norm", "task"):
                if md.get(key) != md0.get(key):
                    raise ValueError("%s: %s is %r, not %r as in %s" % (
                        path, key, md.get(key), md0.get(key), paths[0]))
            if list(tensors) != list(acc) or any(tensors[k].shape != acc[k].shape for k in acc):
                raise ValueError("%s: other tensors than %s" % (path, paths[0]))
        for k, v in tensors.items():
            acc[k] += (w / total) * v.astype(np.float64)
        steps.append(step_of(md, path))
    md = dict(md)
    tail = "+".join(steps)
    if len(set(weights)) > 1:
        tail += " weights=" + ",".join("%g" % w for w in weights)
    md["training"] = (md.get("training", "") + " averaged=" + tail).strip()
    return {k: v.astype(np.float32) for k, v in acc.items()}, md


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    ap.add_argument("out")
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--weights", help="comma-separated, one per input (default: equal)")
    ap.add_argument("--dtype", default="F16", choices=("F16", "F32"))
    args = ap.parse_args(argv)
    try:
        weights = [float(w) for w in args.weights.split(",")] if args.weights else None
        tensors, md = average(args.inputs, weights)
        p2p_safetensors.save_model(tensors, args.out, md, args.dtype)
    except (ValueError, OSError, p2p_safetensors.FormatError) as e:
        print("average_models: %s" % e, file=sys.stderr)
        return 2
    print("%s: mean of %d models (%s)" % (args.out, len(args.inputs), md["training"].split(" averaged=")[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
