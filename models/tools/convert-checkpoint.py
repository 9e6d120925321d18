#!/usr/bin/python3
"""Converts an official pix2pix / CycleGAN generator checkpoint
(``latest_net_G.pth`` of junyanz/pytorch-CycleGAN-and-pix2pix, a bare
state_dict in the zip or the legacy torch.save format) to a gimp-pix2pix
model file (models/FORMAT.md).

The architecture (unet_N, unet_rc_N / resnet_Nblocks), ngf, channel counts, norm type
and, for ResNets, dropout are detected from the keys; the result is checked
by a strict load into the reference network (p2p_nets) before writing.

    convert-checkpoint.py latest_net_G.pth out.safetensors --task sketch-to-photo \
        --name "Edges to shoes" --license "..." [--dtype F16]

Errors are one line on stderr and exit status 2.
"""

import argparse
import os
import re
import sys

# Run as a script (its name has a dash): Python puts this folder first on the module path, so
# the two sibling modules import directly.
import p2p_nets
import p2p_safetensors as st


class ConvertError(Exception):
    pass


def _load_checkpoint(path):
    import torch
    if not os.path.isfile(path):
        raise ConvertError('%s: no such file' % path)
    try:
        # weights_only refuses arbitrary pickled objects: checkpoints are untrusted.
        obj = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:  # torch raises many kinds here
        msg = str(e).strip().splitlines()
        raise ConvertError('%s: cannot read as a PyTorch checkpoint (%s: %s)'
                           % (path, type(e).__name__, msg[0][:200] if msg else ''))
    if isinstance(obj, dict) and 'state_dict' in obj and isinstance(obj['state_dict'], dict):
        obj = obj['state_dict']
    if not isinstance(obj, dict) or not obj:
        raise ConvertError('%s: not a state_dict (expected a dict of tensors, got %s)'
                           % (path, type(obj).__name__))
    sd = {}
    for k, v in obj.items():
        if not isinstance(k, str) or not isinstance(v, torch.Tensor):
            raise ConvertError('%s: not a bare state_dict (entry %r is not a tensor)' % (path, k))
        if k.startswith('module.'):
            k = k[len('module.'):]
        sd[k] = v
    return sd


def _shape(sd, key):
    return tuple(sd[key].shape) if key in sd else None


def _unet_prefix(level):
    if level == 1:
        return 'model.model.'
    return 'model.model.1.' + 'model.3.' * (level - 2) + 'model.'


def _is_affine_norm(sd, mod):
    s = _shape(sd, mod + '.weight')
    return s is not None and len(s) == 1


def detect(sd):
    """Returns a dict with family, depth, arch, ngf, input_nc, output_nc,
    norm, dropout (None where not detectable)."""
    if _shape(sd, 'model.model.0.weight') is not None:
        w0 = _shape(sd, 'model.model.0.weight')
        wl = _shape(sd, 'model.model.3.weight')
        if len(w0) != 4 or w0[2:] != (4, 4) or wl is None or len(wl) != 4:
            raise ConvertError('keys look like a U-Net but model.model.0/3 have unexpected shapes')
        depth = 1
        while _shape(sd, _unet_prefix(depth + 1) + '1.weight') is not None:
            depth += 1
        if depth < 5:
            raise ConvertError('U-Net with only %d levels is not a pix2pix generator' % depth)
        if depth > 10:
            raise ConvertError('U-Net with %d levels is not supported (at most 10)' % depth)
        if _shape(sd, _unet_prefix(depth) + '3.weight') is None:
            raise ConvertError('U-Net innermost level %d has no up-convolution' % depth)
        if _is_affine_norm(sd, _unet_prefix(2) + '2'):
            norm = 'batch'
        elif 'model.model.0.bias' in sd:
            norm = 'instance'
        else:
            norm = 'none'
        # The resize-convolution U-Net (unet_rc_N) has the same keys; its up layers are 3x3
        # convolutions [out, in, 3, 3] instead of 4x4 transposed ones [in, out, 4, 4].
        rc = wl[2:] == (3, 3)
        return dict(family='unet', depth=depth,
                    arch=('unet_rc_%d' if rc else 'unet_%d') % (2 ** depth), ngf=w0[0],
                    input_nc=w0[1], output_nc=wl[0] if rc else wl[1], norm=norm, dropout=None)

    w1 = _shape(sd, 'model.1.weight')
    if w1 is not None and len(w1) == 4 and w1[2:] == (7, 7):
        blocks = set()
        for k in sd:
            m = re.match(r'^model\.([0-9]+)\.conv_block\.', k)
            if m:
                blocks.add(int(m.group(1)))
        n = len(blocks)
        if n == 0:
            raise ConvertError('ResNet generator without residual blocks is not supported')
        if blocks != set(range(10, 10 + n)):
            raise ConvertError('ResNet residual blocks are not numbered model.10..model.%d'
                               % (9 + n))
        if n > 32:
            raise ConvertError('ResNet with %d blocks is not supported (at most 32)' % n)
        wf = _shape(sd, 'model.%d.weight' % (17 + n))
        if wf is None or len(wf) != 4:
            raise ConvertError('ResNet final convolution model.%d.weight not found' % (17 + n))
        s6 = _shape(sd, 'model.10.conv_block.6.weight')
        dropout = s6 is not None and len(s6) == 4
        if _is_affine_norm(sd, 'model.2'):
            norm = 'batch'
        elif 'model.1.bias' in sd:
            norm = 'instance'
        else:
            norm = 'none'
        return dict(family='resnet', depth=n, arch='resnet_%dblocks' % n, ngf=w1[0],
                    input_nc=w1[1], output_nc=wf[0], norm=norm, dropout=dropout)

    sample = ', '.join(sorted(sd)[:3])
    raise ConvertError('unrecognised generator: neither U-Net (model.model.0.weight) nor ResNet '
                       '(model.1.weight 7x7) keys; first keys: %s' % sample)


def check_with_reference(sd, info):
    """Strict load into the reference net; returns the state_dict to write."""
    import torch
    net = p2p_nets.build_generator(info['arch'], info['input_nc'], info['output_nc'], info['ngf'],
                                   info['norm'], info['dropout'])
    # InstanceNorm running buffers of legacy files are dropped exactly as
    # the reference loader does; num_batches_tracked is left to PyTorch.
    cleaned = {k: v for k, v in st.clean_state_dict(sd).items()}
    for k, v in sd.items():
        if k.endswith('num_batches_tracked') and k.rsplit('.', 1)[0] + '.weight' in sd:
            cleaned[k] = v
    try:
        net.load_state_dict(cleaned, strict=True)
    except RuntimeError as e:
        lines = [l.strip() for l in str(e).splitlines() if l.strip()]
        raise ConvertError('checkpoint does not match a %s %s-norm generator (ngf %d): %s'
                           % (info['arch'], info['norm'], info['ngf'],
                              ' '.join(lines[1:])[:300] or lines[0]))
    for k, v in net.state_dict().items():
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise ConvertError('tensor %s contains NaN or infinity' % k)
    return net.state_dict()


def main(argv=None):
    p = argparse.ArgumentParser(description='Convert a pix2pix/CycleGAN latest_net_G.pth to a '
                                            'gimp-pix2pix .safetensors model.')
    p.add_argument('checkpoint')
    p.add_argument('output')
    p.add_argument('--task', required=True, choices=['sketch-to-photo', 'colorize', 'generic'])
    p.add_argument('--name', help='display name (default: output file name)')
    p.add_argument('--license', default='unknown', help='licence of the weights')
    p.add_argument('--description')
    p.add_argument('--author')
    p.add_argument('--source')
    p.add_argument('--training', help='free text on how the weights were trained')
    p.add_argument('--dtype', default='F32', choices=['F32', 'F16', 'BF16'])
    p.add_argument('--native-size', type=int,
                   help='training resolution (default: 2^depth for U-Nets, 256 for ResNets)')
    g = p.add_mutually_exclusive_group()
    g.add_argument('--dropout', dest='dropout', action='store_true', default=None,
                   help='the U-Net has dropout layers (not visible in its keys)')
    g.add_argument('--no-dropout', dest='dropout', action='store_false')
    p.add_argument('-q', '--quiet', action='store_true')
    args = p.parse_args(argv)

    try:
        sd = _load_checkpoint(args.checkpoint)
        info = detect(sd)
        if info['family'] == 'resnet':
            if args.dropout is not None and args.dropout != info['dropout']:
                raise ConvertError('--%sdropout contradicts the checkpoint: this ResNet %s dropout '
                                   'layers' % ('' if args.dropout else 'no-',
                                               'has' if info['dropout'] else 'has no'))
        elif args.dropout is not None:
            info['dropout'] = args.dropout
        else:
            # pix2pix trains U-Nets with dropout unless --no_dropout was given.
            info['dropout'] = info['norm'] == 'batch'
        if not 1 <= info['ngf'] <= 1024:
            raise ConvertError('ngf %d out of range 1..1024' % info['ngf'])
        for k in ('input_nc', 'output_nc'):
            if not 1 <= info[k] <= 4:
                raise ConvertError('%s %d not supported (1..4)' % (k, info[k]))
        if args.task == 'colorize':
            if (info['input_nc'], info['output_nc']) != (1, 2):
                raise ConvertError('--task colorize needs a 1 -> 2 channel generator, this one is '
                                   '%d -> %d' % (info['input_nc'], info['output_nc']))
            spaces = ('lab_l', 'lab_ab')
        else:
            if info['input_nc'] not in (1, 3) or info['output_nc'] not in (1, 3):
                raise ConvertError('--task %s needs 1 or 3 channels on each side, this generator '
                                   'is %d -> %d' % (args.task, info['input_nc'], info['output_nc']))
            spaces = ('rgb', 'rgb')
        native = args.native_size
        if native is None:
            native = 2 ** info['depth'] if info['family'] == 'unet' else 256
        mult = 2 ** info['depth'] if info['family'] == 'unet' else 4
        if native <= 0 or native % mult:
            raise ConvertError('--native-size %d is not a positive multiple of %d' % (native, mult))

        state = check_with_reference(sd, info)
        md = {
            'arch': info['arch'], 'ngf': info['ngf'], 'input_nc': info['input_nc'],
            'output_nc': info['output_nc'], 'norm': info['norm'], 'dropout': info['dropout'],
            'task': args.task, 'input_space': spaces[0], 'output_space': spaces[1],
            'native_size': native,
            'name': args.name or os.path.splitext(os.path.basename(args.output))[0],
            'license': args.license,
        }
        for k in ('description', 'author', 'source', 'training'):
            if getattr(args, k):
                md[k] = getattr(args, k)
        st.save_model(state, args.output, md, args.dtype)
    except (ConvertError, st.FormatError, OSError) as e:
        print('convert-checkpoint: error: %s' % str(e).replace('\n', ' '), file=sys.stderr)
        return 2
    if not args.quiet:
        print('%s: %s, ngf %d, %d -> %d, norm %s, dropout %s, %s -> %s (%s)'
              % (args.output, info['arch'], info['ngf'], info['input_nc'], info['output_nc'],
                 info['norm'], 'yes' if info['dropout'] else 'no', spaces[0], spaces[1],
                 args.dtype))
    return 0


if __name__ == '__main__':
    sys.exit(main())
