#!/usr/bin/python3
"""Creates the benchmark's test networks (random weights) in bench/cache/.

For each network it writes
  NAME.safetensors    our model format (models/FORMAT.md), for pix2pix-cli bench
  NAME.pt             the PyTorch state_dict, for bench_torch.py
  NAME.onnx           the same network for ONNX Runtime, with the BatchNorm layers
                      replaced by affine InstanceNorm (see below)
  NAME-eval.onnx      (batch-norm nets only) exported in eval() mode: BatchNorm with
                      running statistics, which ONNX Runtime folds into the convolutions

Why two ONNX files for the U-Net: our engine's default ("official") mode normalises
each image with its own statistics, as the reference test.py does.  At batch 1 that is
exactly InstanceNorm with the BatchNorm's weight and bias as affine parameters, so
NAME.onnx computes the same function as our engine.  NAME-eval.onnx is the cheaper
running-statistics network; the benchmark times both and reports the faster, so the
reference runtime is never handicapped by our choice.

Dropout layers are in the U-Net (pix2pix default) and are the identity in every
exported / timed mode.

Usage: make_models.py CACHE_DIR   (files already there are kept)
"""

import copy
import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'models', 'tools'))

import p2p_nets  # noqa: E402
import p2p_safetensors  # noqa: E402

NETS = {
    # name: (arch, norm, dropout)
    'unet_256': ('unet_256', 'batch', True),
    'resnet_9blocks': ('resnet_9blocks', 'instance', False),
}
OPSET = 13


def metadata(arch, norm, dropout):
    return {
        'arch': arch, 'ngf': 64, 'input_nc': 3, 'output_nc': 3, 'norm': norm,
        'dropout': dropout, 'task': 'generic', 'input_space': 'rgb', 'output_space': 'rgb',
        'native_size': 256, 'name': 'bench ' + arch, 'license': 'CC0-1.0',
        'description': 'Random weights, for timing only.',
        'source': 'bench/make_models.py',
    }


def build(arch, norm, dropout, seed):
    torch.manual_seed(seed)
    net = p2p_nets.build_generator(arch, 3, 3, ngf=64, norm=norm, use_dropout=dropout)
    p2p_nets.init_weights(net)
    # Plausible running statistics, so the eval() variant is not a trivial identity norm.
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 2.0)
    return net


def bn_to_instance(net):
    """Copy of @net with every BatchNorm2d replaced by InstanceNorm2d(affine) with the
    same weight and bias: equal to BatchNorm with per-image statistics at batch 1."""
    net = copy.deepcopy(net)

    def swap(module):
        for name, child in module.named_children():
            if isinstance(child, nn.BatchNorm2d):
                inst = nn.InstanceNorm2d(child.num_features, eps=child.eps, affine=True,
                                         track_running_stats=False)
                with torch.no_grad():
                    inst.weight.copy_(child.weight)
                    inst.bias.copy_(child.bias)
                setattr(module, name, inst)
            else:
                swap(child)
    swap(net)
    return net


def export_onnx(net, path):
    net.eval()
    x = torch.randn(1, 3, 256, 256)
    tmp = path + '.tmp'
    torch.onnx.export(net, x, tmp, opset_version=OPSET, input_names=['input'],
                      output_names=['output'],
                      dynamic_axes={'input': {2: 'height', 3: 'width'},
                                    'output': {2: 'height', 3: 'width'}},
                      do_constant_folding=True)
    try:
        import onnx  # optional (Debian python3-onnx): structural check only
        onnx.checker.check_model(onnx.load(tmp))
    except ImportError:
        pass
    os.replace(tmp, path)


def check_equivalence(net, inst):
    """The InstanceNorm copy must equal the official (per-image statistics) mode."""
    official = p2p_nets.set_official_test_mode(copy.deepcopy(net))
    inst.eval()
    x = torch.rand(1, 3, 256, 256) * 2 - 1
    with torch.no_grad():
        d = (official(x) - inst(x)).abs().max().item()
    if d > 1e-4:
        raise SystemExit('make_models: InstanceNorm copy differs from official mode by %g' % d)


def main():
    if len(sys.argv) != 2:
        raise SystemExit('usage: make_models.py CACHE_DIR')
    cache = sys.argv[1]
    os.makedirs(cache, exist_ok=True)
    for i, (name, (arch, norm, dropout)) in enumerate(NETS.items()):
        base = os.path.join(cache, name)
        want = [base + '.safetensors', base + '.pt', base + '.onnx']
        if norm == 'batch':
            want.append(base + '-eval.onnx')
        if all(os.path.exists(p) for p in want):
            continue
        net = build(arch, norm, dropout, seed=1234 + i)
        p2p_safetensors.save_model(net.state_dict(), base + '.safetensors',
                                   metadata(arch, norm, dropout))
        torch.save(net.state_dict(), base + '.pt')
        if norm == 'batch':
            inst = bn_to_instance(net)
            check_equivalence(net, inst)
            export_onnx(inst, base + '.onnx')
            export_onnx(copy.deepcopy(net), base + '-eval.onnx')
        else:
            export_onnx(copy.deepcopy(net), base + '.onnx')
        print('make_models: wrote %s.{safetensors,pt,onnx}' % base)


if __name__ == '__main__':
    main()
