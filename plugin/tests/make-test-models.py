#!/usr/bin/python3
"""Writes the two tiny random-weight models the plug-in tests use.

    /usr/bin/python3 plugin/tests/make-test-models.py plugin/tests/data/models

They are named like the bundled defaults (sketch-to-photo.safetensors,
colorize.safetensors) so that the tests can run the filters with an empty
model argument through P2P_MODEL_PATH.  Tiny on purpose (unet_32, ngf 4):
the tests check the plug-in's plumbing against pix2pix-cli, not image
quality, and must run fast in CI.  Fixed seeds: re-running gives the same
files.  Developer tool (needs Debian's python3-torch); CI uses the committed
files.
"""
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'models', 'tools'))

import p2p_nets  # noqa: E402
import p2p_safetensors  # noqa: E402


def make(path, seed, task, input_nc, output_nc, in_space, out_space, name):
    torch.manual_seed(seed)
    net = p2p_nets.build_generator('unet_32', input_nc, output_nc, ngf=4, norm='batch',
                                   use_dropout=True)
    p2p_nets.init_weights(net, init_gain=0.2)
    # Non-trivial running statistics so that the "running" norm mode differs.
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    md = {
        'format': 'gimp-pix2pix', 'format_version': '1', 'arch': 'unet_32', 'ngf': '4',
        'input_nc': str(input_nc), 'output_nc': str(output_nc), 'norm': 'batch',
        'dropout': 'true', 'task': task, 'input_space': in_space, 'output_space': out_space,
        'native_size': '32', 'name': name, 'license': 'CC0-1.0',
        'description': 'Random weights for the plug-in tests; not a useful model.',
    }
    p2p_safetensors.save_model(net.state_dict(), path, md, dtype='F32')


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, 'data', 'models')
    os.makedirs(out, exist_ok=True)
    make(os.path.join(out, 'sketch-to-photo.safetensors'), 1, 'sketch-to-photo', 3, 3,
         'rgb', 'rgb', 'Test sketch model')
    make(os.path.join(out, 'colorize.safetensors'), 2, 'colorize', 1, 2,
         'lab_l', 'lab_ab', 'Test colorize model')


if __name__ == '__main__':
    main()
