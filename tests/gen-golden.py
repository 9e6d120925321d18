#!/usr/bin/python3
"""Generates the golden fixtures of tests/test-golden.c (run by developers,
not by CI; needs Debian's python3-torch and numpy):

    /usr/bin/python3 tests/gen-golden.py [OUTDIR]     (default tests/data/golden)

For each case it builds a reference generator (models/tools/p2p_nets.py)
with seeded RANDOM weights (BatchNorm affine parameters and running
statistics randomised too, so that a wrong norm mode fails), writes the
model as <case>.safetensors and the input/expected outputs as
<case>.io.safetensors.  Expected outputs are computed by PyTorch in float64
(weights first rounded to the file's dtype, so F16/BF16 cases expect what
the widened weights give) and stored as F32.

  official = net.train() with every Dropout in eval()   (reference test.py, dropout off)
  running  = net.eval()                                 (BatchNorm running statistics)

The stochastic mode (dropout on) cannot be matched against PyTorch's RNG and
is not covered.  Also writes colorize_e2e.safetensors: an RGB image, its Lab
L channel (scikit-image rgb2lab formulas), the network's ab output and the
final RGB (lab2rgb formulas, clipped, before 8-bit quantisation).
See tests/data/golden/README.md.
"""

import copy
import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'models', 'tools'))
import p2p_nets  # noqa: E402
import p2p_safetensors as st  # noqa: E402

# name, arch, ngf, in, out, norm, dropout, H, W, dtype, description
CASES = [
    ('unet256_batch', 'unet_256', 2, 1, 1, 'batch', True, 256, 256, 'F32',
     'unet_256, batch norm, dropout layers, 1 -> 1 channel, 256x256'),
    ('unet128_batch', 'unet_128', 2, 3, 3, 'batch', True, 128, 128, 'F32',
     'unet_128, batch norm, dropout layers, 3 -> 3, 128x128'),
    ('unet128_instance', 'unet_128', 2, 3, 1, 'instance', True, 128, 128, 'F32',
     'unet_128, instance norm (conv biases), dropout layers, 3 -> 1, 128x128'),
    ('unet128_none', 'unet_128', 2, 1, 3, 'none', False, 128, 128, 'F32',
     'unet_128, no norm (and no conv biases), no dropout, 1 -> 3, 128x128'),
    ('unet128_colorize', 'unet_128', 2, 1, 2, 'batch', True, 128, 256, 'F32',
     'unet_128 colorize (lab_l -> lab_ab), batch norm, dropout, non-square 128x256'),
    ('resnet9_instance', 'resnet_9blocks', 4, 3, 3, 'instance', False, 20, 28, 'F32',
     'resnet_9blocks, instance norm, no dropout (CycleGAN), 20x28'),
    ('resnet9_batch_drop', 'resnet_9blocks', 2, 3, 3, 'batch', True, 36, 24, 'F32',
     'resnet_9blocks, batch norm, dropout (conv_block.6), 36x24'),
    ('resnet6_instance_drop', 'resnet_6blocks', 3, 3, 3, 'instance', True, 28, 20, 'F32',
     'resnet_6blocks, instance norm, dropout, ngf 3 (odd channel counts), 28x20'),
    ('resnet6_batch', 'resnet_6blocks', 3, 3, 3, 'batch', False, 44, 64, 'F32',
     'resnet_6blocks, batch norm, no dropout, ngf 3, 44x64'),
    ('resnet6_none_small', 'resnet_6blocks', 2, 1, 1, 'none', False, 8, 12, 'F32',
     'resnet_6blocks, no norm, 1 -> 1, 8x12 (2x3 inside: smallest reflection padding)'),
    ('resnet9_instance_f16', 'resnet_9blocks', 4, 3, 3, 'instance', False, 20, 28, 'F16',
     'resnet_9blocks instance, weights stored as F16 (widened at load), 20x28'),
    ('resnet6_batch_drop_bf16', 'resnet_6blocks', 3, 3, 3, 'batch', True, 28, 20, 'BF16',
     'resnet_6blocks batch norm, dropout, weights stored as BF16 (widened at load), 28x20'),
    # The resize-convolution U-Net (nearest x2 + 3x3 conv in the decoder); appended so that the
    # seeds (1000 + index) of the cases above, and so their files, stay the same.
    ('unetrc128_batch', 'unet_rc_128', 2, 3, 3, 'batch', True, 128, 128, 'F32',
     'unet_rc_128, batch norm, dropout layers, 3 -> 3, 128x128'),
    ('unetrc128_instance', 'unet_rc_128', 2, 3, 1, 'instance', True, 128, 256, 'F32',
     'unet_rc_128, instance norm (conv biases), dropout layers, 3 -> 1, non-square 128x256'),
    ('unetrc128_none', 'unet_rc_128', 2, 1, 3, 'none', False, 128, 128, 'F32',
     'unet_rc_128, no norm (and no conv biases), no dropout, 1 -> 3, 128x128'),
    ('unetrc256_batch_f16', 'unet_rc_256', 2, 1, 1, 'batch', True, 256, 256, 'F16',
     'unet_rc_256, batch norm, dropout, weights stored as F16 (widened at load), 256x256'),
]

COLORIZE_E2E_MODEL = 'unet128_colorize'
E2E_SIZE = 128


def randomise(net, gen, gain=1.7):
    """Weights that keep activations in a range where errors show: default
    PyTorch conv init scaled up, BatchNorm affine and running stats random."""
    with torch.no_grad():
        for name, m in net.named_modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                fan_in = m.weight[0].numel() if isinstance(m, torch.nn.Conv2d) else \
                    m.weight.shape[0] * m.weight.shape[2] * m.weight.shape[3] // 4
                bound = gain / np.sqrt(fan_in)
                m.weight.copy_((torch.rand(m.weight.shape, generator=gen) * 2 - 1) * bound)
                if m.bias is not None:
                    m.bias.copy_((torch.rand(m.bias.shape, generator=gen) * 2 - 1) * 0.3)
            elif isinstance(m, torch.nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                m.bias.copy_((torch.rand(c, generator=gen) * 2 - 1) * 0.3)
                m.running_mean.copy_((torch.rand(c, generator=gen) * 2 - 1) * 0.5)
                m.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
                m.num_batches_tracked.fill_(1000)
    return net


def calibrate(net, x, gen):
    """Running statistics near the real ones of this input (one train pass
    with momentum 1), then perturbed: eval() output stays in tanh's useful
    range yet clearly differs from the official mode."""
    bns = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    if not bns:
        return
    n = copy.deepcopy(net)
    p2p_nets.set_official_test_mode(n)
    for m in n.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = 1.0
    with torch.no_grad():
        n(torch.from_numpy(x)[None])
        for (name, m), m2 in zip([(k, v) for k, v in net.named_modules()
                                  if isinstance(v, torch.nn.BatchNorm2d)],
                                 [v for v in n.modules() if isinstance(v, torch.nn.BatchNorm2d)]):
            c = m.num_features
            std = m2.running_var.sqrt()
            m.running_mean.copy_(m2.running_mean +
                                 (torch.rand(c, generator=gen) * 2 - 1) * 0.3 * std)
            m.running_var.copy_(m2.running_var * (torch.rand(c, generator=gen) * 0.8 + 0.6))


def count_macs(net, c, h, w):
    """Multiply-adds of one pass at h x w, counted by PyTorch forward hooks on every
    convolution (a conv: each output element takes cin * k * k; a transposed conv: each input
    element is spread over cout * k * k), for the engine's p2p_model_macs()."""
    total = [0]

    def hook(m, inputs, out):
        k = m.kernel_size[0] * m.kernel_size[1]
        if isinstance(m, torch.nn.ConvTranspose2d):
            total[0] += inputs[0][0].numel() * m.out_channels * k
        else:
            total[0] += out[0].numel() * m.in_channels * k

    n = copy.deepcopy(net).float()
    hs = [m.register_forward_hook(hook) for m in n.modules()
          if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    p2p_nets.set_running_mode(n)
    with torch.no_grad():
        n(torch.zeros(1, c, h, w))
    for hd in hs:
        hd.remove()
    return total[0]


def make_input(c, h, w, gen):
    """Structured content plus noise in [-1, 1], rounded to values that F16
    represents exactly (so the fixture can store it as F16)."""
    yy, xx = np.meshgrid(np.arange(h) / h, np.arange(w) / w, indexing='ij')
    noise = torch.rand((c, h, w), generator=gen, dtype=torch.float64).numpy()
    out = np.empty((c, h, w))
    for k in range(c):
        out[k] = (0.5 * np.sin(2 * np.pi * (xx * (k + 1) + yy * (2 - k * 0.5)))
                  + 0.3 * (xx - yy) + 0.4 * (noise[k] - 0.5))
    out = np.clip(out, -1, 1).astype(np.float16).astype(np.float32)
    return out


def run(net, x, mode):
    """Forward in float64 on a copy (train-mode passes update BN buffers)."""
    n = copy.deepcopy(net).double()
    if mode == 'official':
        p2p_nets.set_official_test_mode(n)
    else:
        p2p_nets.set_running_mode(n)
    with torch.no_grad():
        y = n(torch.from_numpy(x).double()[None])[0]
    return y.numpy()


def run32(net, x, mode):
    n = copy.deepcopy(net)
    (p2p_nets.set_official_test_mode if mode == 'official' else p2p_nets.set_running_mode)(n)
    with torch.no_grad():
        return n(torch.from_numpy(x)[None])[0].numpy()


def metadata(arch, ngf, ic, oc, norm, drop, native, name, desc):
    colorize = (ic, oc) == (1, 2)
    return {
        'arch': arch, 'ngf': ngf, 'input_nc': ic, 'output_nc': oc, 'norm': norm,
        'dropout': drop, 'task': 'colorize' if colorize else 'generic',
        'input_space': 'lab_l' if colorize else 'rgb',
        'output_space': 'lab_ab' if colorize else 'rgb',
        'native_size': native, 'name': 'golden ' + name, 'license': 'CC0-1.0',
        'description': desc, 'source': 'tests/gen-golden.py (random weights)',
    }


# ---------------------------------------------------------------------------
# scikit-image colour formulas (D65, 2 degree observer), float64

XYZ_FROM_RGB = np.array([[0.412453, 0.357580, 0.180423],
                         [0.212671, 0.715160, 0.072169],
                         [0.019334, 0.119193, 0.950227]])
RGB_FROM_XYZ = np.linalg.inv(XYZ_FROM_RGB)
WHITE = np.array([0.95047, 1.0, 1.08883])


def rgb2lab(rgb8):
    c = rgb8.astype(np.float64) / 255.0
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    xyz = c @ XYZ_FROM_RGB.T / WHITE
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16.0 / 116.0)
    L = 116.0 * f[..., 1] - 16.0
    a = 500.0 * (f[..., 0] - f[..., 1])
    b = 200.0 * (f[..., 1] - f[..., 2])
    return np.stack([L, a, b], axis=-1)


def lab2rgb(lab):
    L, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    y = (L + 16.0) / 116.0
    x = a / 500.0 + y
    z = y - b / 200.0
    z = np.maximum(z, 0.0)
    f = np.stack([x, y, z], axis=-1)
    xyz = np.where(f > 0.2068966, f ** 3, (f - 16.0 / 116.0) / 7.787) * WHITE
    rgb = xyz @ RGB_FROM_XYZ.T
    with np.errstate(invalid='ignore'):
        rgb = np.where(rgb > 0.0031308, 1.055 * np.power(np.maximum(rgb, 0), 1 / 2.4) - 0.055,
                       12.92 * rgb)
    return np.clip(rgb, 0.0, 1.0)


def make_rgb_image(n):
    """Synthetic 8-bit RGB test image: hue sweep, grey ramp, saturated discs,
    stripes and black/white areas (exercises both branches of every
    piecewise formula)."""
    yy, xx = np.meshgrid(np.arange(n), np.arange(n), indexing='ij')
    img = np.zeros((n, n, 3))
    img[..., 0] = 0.5 + 0.5 * np.sin(xx / n * 2 * np.pi)
    img[..., 1] = 0.5 + 0.5 * np.sin(xx / n * 2 * np.pi + 2.1)
    img[..., 2] = yy / (n - 1)
    img[:, : n // 8] = (yy[:, : n // 8, None] / (n - 1))        # grey ramp
    img[: n // 16, :] = (xx[: n // 16, :, None] / (n - 1)) ** 3  # dark ramp (linear branch)
    for (cy, cx, r, col) in [(0.3, 0.4, 0.12, (1, 0, 0)), (0.6, 0.7, 0.15, (0, 1, 0)),
                             (0.75, 0.3, 0.1, (0, 0, 1)), (0.4, 0.8, 0.08, (1, 1, 0))]:
        d = (yy / n - cy) ** 2 + (xx / n - cx) ** 2
        img[d < r * r] = col
    img[n - 10:, n - 30:] = ((xx[n - 10:, n - 30:, None] // 3) % 2)  # stripes
    img[n - 10:, n - 40: n - 30] = 0
    return np.clip(np.round(img * 255), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------

def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, 'tests', 'data', 'golden')
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(2)
    nets = {}
    total = 0
    for i, (name, arch, ngf, ic, oc, norm, drop, h, w, dtype, desc) in enumerate(CASES):
        gen = torch.Generator().manual_seed(1000 + i)
        family, depth = p2p_nets.parse_arch(arch)
        net = randomise(p2p_nets.build_generator(arch, ic, oc, ngf, norm, drop), gen,
                        # without norm layers, keep the signal from fading
                        gain=(2.45 if family != 'resnet' else 2.0) if norm == 'none' else 1.7)
        family, depth = p2p_nets.parse_arch(arch)
        native = 2 ** depth if family != 'resnet' else 256
        md = metadata(arch, ngf, ic, oc, norm, drop, native, name, desc)
        x = make_input(ic, h, w, gen)
        calibrate(net, x, gen)
        model_bytes = st.encode_model(net.state_dict(), md, dtype)
        # Expected outputs use exactly what the engine will load.
        tensors, _ = st.decode(model_bytes)
        ref = p2p_nets.build_generator(arch, ic, oc, ngf, norm, drop)
        missing, unexpected = ref.load_state_dict(
            {k: torch.from_numpy(v) for k, v in tensors.items()}, strict=False)
        assert not unexpected and all(k.endswith('num_batches_tracked') for k in missing)
        io = {'input': x}
        stats = []
        outs = {}
        for mode in ('official', 'running'):
            y = run(ref, x, mode)
            outs[mode] = y
            d32 = float(np.abs(run32(ref, x, mode) - y).max())
            sat = float((np.abs(y) > 0.99).mean())
            stats.append('%s: std %.3f sat %.3f f32err %.1e' % (mode, y.std(), sat, d32))
            assert y.std() > 0.05 and sat < 0.2, (name, mode, stats)
        if dtype != 'F32':
            # The rounding must matter, or the case would not test widening.
            d = float(np.abs(run(net, x, 'official') - outs['official']).max())
            stats.append('%s rounding moves output by %.1e' % (dtype, d))
            assert d > 1e-3, (name, d)
        same = norm != 'batch'
        if same:
            assert np.abs(outs['official'] - outs['running']).max() < 1e-12
        else:
            assert np.abs(outs['official'] - outs['running']).max() > 0.05, name
        io['output_official'] = outs['official'].astype(np.float32)
        if not same:
            io['output_running'] = outs['running'].astype(np.float32)
        io_md = {'model': name + '.safetensors', 'description': desc,
                 'running_equals_official': 'true' if same else 'false', 'tolerance': '1e-4',
                 'macs': str(count_macs(ref, ic, h, w))}
        io_bytes = encode_io(io, io_md)
        with open(os.path.join(outdir, name + '.safetensors'), 'wb') as f:
            f.write(model_bytes)
        with open(os.path.join(outdir, name + '.io.safetensors'), 'wb') as f:
            f.write(io_bytes)
        total += len(model_bytes) + len(io_bytes)
        nets[name] = ref
        print('%-22s %7d + %7d bytes  %s' % (name, len(model_bytes), len(io_bytes),
                                             '; '.join(stats)))

    # Colorize end to end, official mode.
    net = nets[COLORIZE_E2E_MODEL]
    rgb8 = make_rgb_image(E2E_SIZE)
    lab = rgb2lab(rgb8)
    # As the reference dataset: Lab cast to float32, then L/50 - 1 in float32.
    L32 = lab[..., 0].astype(np.float32)
    net_in = (L32 / np.float32(50.0) - np.float32(1.0))[None]
    ab = run(net, net_in, 'official')
    ab32 = ab.astype(np.float32)
    # As ColorizationModel.lab2rgb: float32 (A+1)*50 and ab*110, then float64.
    L_back = ((net_in[0] + np.float32(1.0)) * np.float32(50.0)).astype(np.float64)
    lab_out = np.stack([L_back, (ab32[0] * np.float32(110.0)).astype(np.float64),
                        (ab32[1] * np.float32(110.0)).astype(np.float64)], axis=-1)
    rgb = lab2rgb(lab_out)
    e2e = {
        'image_rgb8': rgb8.astype(np.float32),            # H x W x 3, 0..255
        'lab_l': lab[..., 0].astype(np.float32),          # H x W, 0..100
        'net_output_ab': ab32,                            # 2 x H x W, official mode
        'rgb_float': rgb.astype(np.float32),              # H x W x 3, [0, 1], before 8-bit
    }
    e2e_md = {'model': COLORIZE_E2E_MODEL + '.safetensors', 'norm_mode': 'official',
              'description': 'colorize pipeline: rgb2lab L, network ab (official mode), lab2rgb '
                             '(scikit-image formulas), clipped to [0, 1], not quantised'}
    e2e_bytes = encode_io(e2e, e2e_md)
    with open(os.path.join(outdir, 'colorize_e2e.safetensors'), 'wb') as f:
        f.write(e2e_bytes)
    total += len(e2e_bytes)
    print('colorize_e2e          %7d bytes  ab std %.3f, rgb mean %.3f' %
          (len(e2e_bytes), ab.std(), rgb.mean()))
    print('total %d bytes' % total)


def encode_io(tensors, md):
    """Fixture data file: same container; 'input' and 'image_rgb8' hold values
    that F16 represents exactly, so they are stored as F16, the rest F32."""
    # encode_tensors takes one dtype per call: assemble the entries by hand.
    import json
    import struct
    header = {'__metadata__': md}
    chunks = []
    off = 0
    for k, v in tensors.items():
        v = np.ascontiguousarray(v, dtype=np.float32)
        if k in ('input', 'image_rgb8'):
            assert np.array_equal(v.astype(np.float16).astype(np.float32), v)
            raw, dt = st.to_f16_bits(v).astype('<u2').tobytes(), 'F16'
        else:
            raw, dt = v.astype('<f4').tobytes(), 'F32'
        header[k] = {'dtype': dt, 'shape': list(v.shape), 'data_offsets': [off, off + len(raw)]}
        chunks.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    data = struct.pack('<Q', len(h)) + h + b''.join(chunks)
    back, _ = st.decode(data)
    assert all(np.array_equal(back[k], np.asarray(tensors[k], np.float32)) for k in tensors)
    return data


if __name__ == '__main__':
    main()
