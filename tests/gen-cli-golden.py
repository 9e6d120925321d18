#!/usr/bin/python3
"""Writes the fixtures of tests/test-cli-golden.c (run by developers, not CI;
needs Debian's python3-torch, numpy and PIL):

    /usr/bin/python3 tests/gen-cli-golden.py [OUTDIR]   (default tests/data/cli)

The issue's acceptance check for `pix2pix-cli run --size-mode whole`: on a
256x256 input the PNG it writes must match the reference pipeline's PNG to
within 1 level on 99.9% of the pixels and 2 levels everywhere.  The
reference here is what the official test.py does: PIL image -> float32
x/255*2-1 -> generator (train mode, Dropout modules eval) -> (y+1)/2*255
in float32 -> uint8 by truncation.

Files: unet256-rgb.safetensors (unet_256, ngf 4, batch norm, dropout
layers, random weights, F16), input.png (synthetic, structured),
expected.png.
"""
import os
import sys

import numpy as np
import torch
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'models', 'tools'))
import p2p_nets  # noqa: E402
import p2p_safetensors as st  # noqa: E402


def synthetic_image(size, rng):
    """Gradients, discs and stripes: edges and flat areas like a photo has."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    img = np.stack([x, y, 1 - x * y], axis=-1) * 200 + 20
    for _ in range(12):
        cx, cy, r = rng.uniform(0, 1, 2).tolist() + [rng.uniform(0.04, 0.2)]
        mask = (x - cx) ** 2 + (y - cy) ** 2 < r * r
        img[mask] = rng.uniform(0, 255, 3)
    img[(np.floor(x * 40) % 2 == 0) & (y > 0.8)] *= 0.5
    img += rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, 'tests', 'data', 'cli')
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(7)
    rng = np.random.default_rng(7)

    net = p2p_nets.build_generator('unet_256', 3, 3, 4, 'batch', True)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.3, 0.3)
            m.running_mean.data.uniform_(-0.2, 0.2)
            m.running_var.data.uniform_(0.5, 2.0)
    # The file stores F16: compute the reference with the same rounded weights.
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(p.half().float())
    meta = {
        'format': 'gimp-pix2pix', 'format_version': '1', 'arch': 'unet_256', 'ngf': '4',
        'input_nc': '3', 'output_nc': '3', 'norm': 'batch', 'dropout': 'true',
        'task': 'generic', 'input_space': 'rgb', 'output_space': 'rgb', 'native_size': '256',
        'name': 'CLI golden test model', 'license': 'CC0-1.0',
        'description': 'Random weights; tests/gen-cli-golden.py',
    }
    st.save_model(net.state_dict(), os.path.join(out, 'unet256-rgb.safetensors'), meta, dtype='F16')

    img = synthetic_image(256, rng)
    Image.fromarray(img).save(os.path.join(out, 'input.png'))

    p2p_nets.set_official_test_mode(net)
    x = torch.from_numpy((img.astype(np.float32) / 255.0 - 0.5) / 0.5).permute(2, 0, 1)[None]
    with torch.no_grad():
        y = net(x)[0].permute(1, 2, 0).numpy().astype(np.float32)
    ref = ((y + 1.0) / 2.0 * 255.0).astype(np.uint8)   # tensor2im: truncation
    Image.fromarray(ref).save(os.path.join(out, 'expected.png'))
    print('wrote', out)


if __name__ == '__main__':
    main()
