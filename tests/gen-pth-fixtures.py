#!/usr/bin/python3
"""Generates the PyTorch checkpoint fixtures of tests/test-pth.c (run by
developers, not by CI; needs Debian's python3-torch and numpy):

    /usr/bin/python3 tests/gen-pth-fixtures.py [OUTDIR]     (default tests/data/pth)

For each case a reference generator (models/tools/p2p_nets.py) gets seeded
random weights (BatchNorm affine parameters and running statistics too) and
its state_dict is written with torch.save in BOTH container formats:

    NAME.zip.pth      torch.save(sd, f)                                    (PyTorch >= 1.6 zip)
    NAME.legacy.pth   torch.save(sd, f, _use_new_zipfile_serialization=False)

Some cases alter the state_dict the way real checkpoints are altered: a
'module.' prefix (DataParallel), legacy InstanceNorm running buffers with
num_batches_tracked (the 2018 official CycleGAN files), F16/BF16/F64
storages.

NAME.expected.f32 holds the network's output for the fixed input that
input_value() below defines (the C test computes the same input), as raw
little-endian float32, C x H x W.  It is computed by PyTorch in float64 on
the weights as stored, in the official test mode (train() with every
Dropout in eval()).  cases.txt lists, per case, what the importer must
detect: name arch ngf input_nc output_nc norm dropout(resnet: yes/no,
unet: -) H W.
"""

import collections
import copy
import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'models', 'tools'))
import p2p_nets  # noqa: E402

# name, arch, ngf, in, out, norm, dropout, H, W, storage dtype, alteration
CASES = [
    ('unet256_batch', 'unet_256', 1, 3, 1, 'batch', True, 256, 256, 'float32', None),
    ('unet128_batch_module', 'unet_128', 1, 3, 1, 'batch', False, 128, 128, 'float32', 'module'),
    ('unet128_instance', 'unet_128', 1, 1, 1, 'instance', True, 128, 128, 'float32', None),
    ('unet128_none_colorize', 'unet_128', 1, 1, 2, 'none', False, 128, 128, 'float32', None),
    ('resnet9_instance_legacybuf', 'resnet_9blocks', 2, 3, 3, 'instance', False, 20, 28,
     'float32', 'legacy_in'),
    ('resnet9_instance_drop_module', 'resnet_9blocks', 2, 3, 3, 'instance', True, 16, 24,
     'float32', 'module'),
    ('resnet6_batch_drop', 'resnet_6blocks', 2, 3, 3, 'batch', True, 24, 20, 'float32', None),
    ('resnet6_batch', 'resnet_6blocks', 2, 1, 1, 'batch', False, 16, 16, 'float32', None),
    ('resnet6_none', 'resnet_6blocks', 2, 3, 3, 'none', False, 12, 16, 'float32', 'keep_vars'),
    ('resnet6_instance_f16', 'resnet_6blocks', 3, 3, 3, 'instance', False, 16, 20, 'float16',
     'legacy_in'),
    ('resnet6_batch_bf16', 'resnet_6blocks', 2, 3, 3, 'batch', True, 16, 16, 'bfloat16', None),
    ('unet128_batch_f64', 'unet_128', 1, 1, 1, 'batch', True, 128, 128, 'float64', None),
    # The resize-convolution U-Net: the same keys as unet_128, told apart by the 3x3 decoder
    # weights; output_nc comes from dimension 0 of model.model.3.weight (3 here, dimension 1
    # holds 2 * ngf = 2).  Appended so that the seeds of the cases above stay the same.
    ('unetrc128_batch_module', 'unet_rc_128', 1, 1, 3, 'batch', True, 128, 128, 'float32',
     'module'),
]


def input_value(c, y, x):
    """The fixed input, exactly representable in float32 (k / 32 - 1 with
    0 <= k < 64); test-pth.c computes the same."""
    return ((c * 7 + y * 13 + x * 5 + (x * y) % 11) % 64) / 32.0 - 1.0


def make_input(c, h, w):
    cc, yy, xx = np.meshgrid(np.arange(c), np.arange(h), np.arange(w), indexing='ij')
    return (((cc * 7 + yy * 13 + xx * 5 + (xx * yy) % 11) % 64) / 32.0 - 1.0).astype(np.float64)


def randomise(net, gen, gain=1.7):
    with torch.no_grad():
        for m in net.modules():
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


def legacy_instance_buffers(net, sd, gen):
    """Adds running_mean/var and num_batches_tracked for every InstanceNorm,
    as in the official 2018 CycleGAN checkpoints (values that would change
    the output if the engine used them)."""
    names = [n for n, m in net.named_modules() if isinstance(m, torch.nn.InstanceNorm2d)]
    out = collections.OrderedDict()
    for k, v in sd.items():
        out[k] = v
    for n in names:
        c = net.get_submodule(n).num_features
        out[n + '.running_mean'] = torch.rand(c, generator=gen) * 3 - 1.5
        out[n + '.running_var'] = torch.rand(c, generator=gen) * 4 + 0.1
        out[n + '.num_batches_tracked'] = torch.tensor(7, dtype=torch.int64)
    assert names, 'no InstanceNorm to add buffers to'
    return out


def write_zip64(src, dst):
    """Rewrites a stored zip with every size and offset in the central
    directory given as 0xffffffff plus a ZIP64 extra field, and a ZIP64 end
    record and locator (what large checkpoints have)."""
    import struct
    import zipfile
    import zlib
    out = bytearray()
    central = bytearray()
    with zipfile.ZipFile(src) as z:
        infos = z.infolist()
        for info in infos:
            data = z.read(info.filename)
            name = info.filename.encode()
            crc = zlib.crc32(data) & 0xffffffff
            off = len(out)
            out += struct.pack('<IHHHHHIIIHH', 0x04034b50, 45, 0, 0, 0, 0x21, crc,
                               len(data), len(data), len(name), 0) + name + data
            extra = struct.pack('<HHQQQ', 1, 24, len(data), len(data), off)
            central += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 45, 45, 0, 0, 0, 0x21, crc,
                                   0xffffffff, 0xffffffff, len(name), len(extra), 0, 0, 0, 0,
                                   0xffffffff) + name + extra
    cd_off = len(out)
    out += central
    z64 = len(out)
    out += struct.pack('<IQHHIIQQQQ', 0x06064b50, 44, 45, 45, 0, 0, len(infos), len(infos),
                       len(central), cd_off)
    out += struct.pack('<IIQI', 0x07064b50, 0, z64, 1)
    out += struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, 0xffff, 0xffff, 0xffffffff, 0xffffffff, 0)
    with open(dst, 'wb') as f:
        f.write(out)
    with zipfile.ZipFile(dst) as z:   # Python's reader agrees
        assert z.namelist() == [i.filename for i in infos]
    return dst


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, 'tests', 'data', 'pth')
    os.makedirs(outdir, exist_ok=True)
    lines = []
    for i, (name, arch, ngf, ic, oc, norm, drop, h, w, dtype, alter) in enumerate(CASES):
        gen = torch.Generator().manual_seed(1000 + i)
        net = p2p_nets.build_generator(arch, ic, oc, ngf, norm, drop)
        randomise(net, gen)
        tdtype = getattr(torch, dtype)
        # Round the weights to the storage type first: the expected output is
        # what the stored weights give.
        with torch.no_grad():
            for t in list(net.parameters()) + list(net.buffers()):
                if t.is_floating_point():
                    t.copy_(t.to(tdtype).to(torch.float32))
        sd = net.state_dict(keep_vars=(alter == 'keep_vars'))
        sd = collections.OrderedDict((k, v.to(tdtype) if v.is_floating_point() else v)
                                     for k, v in sd.items())
        if alter == 'keep_vars':
            assert all(isinstance(v, torch.nn.Parameter) for v in sd.values())
        if alter == 'legacy_in':
            sd = legacy_instance_buffers(net, sd, gen)
            sd = collections.OrderedDict((k, v.to(tdtype) if v.is_floating_point() else v)
                                         for k, v in sd.items())
        elif alter == 'module':
            sd = collections.OrderedDict(('module.' + k, v) for k, v in sd.items())
        # A bare OrderedDict with the _metadata attribute, as state_dict() gives.
        sd._metadata = net.state_dict()._metadata
        torch.save(sd, os.path.join(outdir, name + '.zip.pth'))
        torch.save(sd, os.path.join(outdir, name + '.legacy.pth'),
                   _use_new_zipfile_serialization=False)
        if alter == 'keep_vars':
            write_zip64(os.path.join(outdir, name + '.zip.pth'),
                        os.path.join(outdir, name + '.zip64.pth'))

        # Reference output in float64, official test mode.
        n64 = copy.deepcopy(net).double()
        p2p_nets.set_official_test_mode(n64)
        x = make_input(ic, h, w)
        with torch.no_grad():
            y = n64(torch.from_numpy(x)[None])[0].numpy()
        assert y.shape == (oc, h, w), (name, y.shape)
        y.astype('<f4').tofile(os.path.join(outdir, name + '.expected.f32'))
        # Sanity: float32 PyTorch agrees, and the output is not flat.
        n32 = copy.deepcopy(net)
        p2p_nets.set_official_test_mode(n32)
        with torch.no_grad():
            y32 = n32(torch.from_numpy(x).float()[None])[0].numpy()
        d = float(np.abs(y32 - y).max())
        assert d < 1e-4, (name, d)
        assert float(y.std()) > 0.05, (name, float(y.std()))
        # The fixture must load back in PyTorch the strict way.
        for fmt in ('zip', 'legacy') + (('zip64',) if alter == 'keep_vars' else ()):
            back = torch.load(os.path.join(outdir, '%s.%s.pth' % (name, fmt)), map_location='cpu')
            assert list(back.keys()) == list(sd.keys())
        dtxt = ('yes' if drop else 'no') if arch.startswith('resnet') else '-'
        lines.append('%s %s %d %d %d %s %s %d %d' % (name, arch, ngf, ic, oc, norm, dtxt, h, w))
        print('%-30s %-15s %-8s f32-vs-f64 %.2e  keys %d' % (name, arch, dtype, d, len(sd)))
    with open(os.path.join(outdir, 'cases.txt'), 'w') as f:
        f.write('# name arch ngf input_nc output_nc norm resnet-dropout H W  '
                '(tests/gen-pth-fixtures.py)\n')
        f.write('\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
