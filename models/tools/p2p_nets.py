"""PyTorch definitions of the pix2pix / CycleGAN reference generators.

Written for gimp-pix2pix from the architecture description in the project's
reference notes (layer order, bias rules, norm settings, padding); the
module nesting is chosen so that ``state_dict()`` keys and shapes are
exactly those of the official checkpoints of
junyanz/pytorch-CycleGAN-and-pix2pix (``latest_net_G.pth``).

Used by the training script, the checkpoint converter and the golden-fixture
generator.  Run this file directly for a self-check of keys, shapes and
parameter counts against the published figures.

Modes:
  * official: ``set_official_test_mode(net)``: train() (BatchNorm uses the
    statistics of the image itself, batch 1) with every Dropout in eval()
    (identity).  This is the deterministic version of what the reference
    test.py computes.
  * running: ``set_running_mode(net)`` == ``net.eval()``: BatchNorm uses the
    running statistics, no dropout.
"""

import functools
import re

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = [
    'get_norm_layer', 'use_bias_for', 'UnetSkipConnectionBlock', 'UnetGenerator',
    'ResizeConv2d', 'ResnetBlock', 'ResnetGenerator', 'NLayerDiscriminator', 'build_generator',
    'parse_arch', 'init_weights', 'set_official_test_mode', 'set_running_mode',
    'count_params',
]

NORMS = ('batch', 'instance', 'none')


class _Identity(nn.Module):
    """Stand-in for norm='none' (no parameters, no buffers)."""

    def forward(self, x):
        return x


def get_norm_layer(norm):
    """Returns a factory ``f(num_channels) -> nn.Module`` for a --norm value."""
    if norm == 'batch':
        return functools.partial(nn.BatchNorm2d, eps=1e-5, momentum=0.1,
                                 affine=True, track_running_stats=True)
    if norm == 'instance':
        return functools.partial(nn.InstanceNorm2d, eps=1e-5,
                                 affine=False, track_running_stats=False)
    if norm == 'none':
        return lambda num_channels: _Identity()
    raise ValueError('unknown norm %r (expected batch, instance or none)' % (norm,))


def use_bias_for(norm):
    # The reference decides the bias by testing whether the norm factory is
    # InstanceNorm2d; with norm='none' the factory is not, so convs have no
    # bias either (a quirk that is visible in the checkpoints).
    if norm not in NORMS:
        raise ValueError('unknown norm %r' % (norm,))
    return norm == 'instance'


# --------------------------------------------------------------------------
# U-Net

class ResizeConv2d(nn.Conv2d):
    """Nearest-neighbour upsampling x2, then a 3x3 stride-1 convolution with zero padding 1
    (the decoder step of the resize-convolution U-Net, unet_rc_N).

    A subclass of Conv2d rather than Sequential(Upsample, Conv2d) so that the weight keeps the
    key of the ConvTranspose2d it replaces ('model.3.weight', not 'model.3.1.weight'); only its
    shape changes, to [out, in, 3, 3].  Resize-then-convolve gives every output pixel the same
    number of weights, which removes the checkerboard of stride-2 transposed convolutions
    (Odena et al. 2016)."""

    def __init__(self, in_channels, out_channels, bias):
        super().__init__(in_channels, out_channels, kernel_size=3, stride=1, padding=1, bias=bias)

    def forward(self, x):
        return super().forward(F.interpolate(x, scale_factor=2, mode='nearest'))


def _upconv(in_nc, out_nc, bias, resize_conv):
    if resize_conv:
        return ResizeConv2d(in_nc, out_nc, bias)
    return nn.ConvTranspose2d(in_nc, out_nc, kernel_size=4, stride=2, padding=1, bias=bias)


class UnetSkipConnectionBlock(nn.Module):
    """One level of the U-Net: down path, inner block, up path.

    Every level except the outermost returns cat([input, up], dim=1)."""

    def __init__(self, outer_nc, inner_nc, input_nc=None, submodule=None,
                 outermost=False, innermost=False, norm='batch', use_dropout=False,
                 resize_conv=False):
        super().__init__()
        self.outermost = outermost
        if input_nc is None:
            input_nc = outer_nc
        norm_layer = get_norm_layer(norm)
        use_bias = use_bias_for(norm)

        downconv = nn.Conv2d(input_nc, inner_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
        downrelu = nn.LeakyReLU(0.2, True)
        uprelu = nn.ReLU(True)

        if outermost:
            upconv = _upconv(inner_nc * 2, outer_nc, True, resize_conv)
            layers = [downconv, submodule, uprelu, upconv, nn.Tanh()]
        elif innermost:
            upconv = _upconv(inner_nc, outer_nc, use_bias, resize_conv)
            layers = [downrelu, downconv, uprelu, upconv, norm_layer(outer_nc)]
        else:
            upconv = _upconv(inner_nc * 2, outer_nc, use_bias, resize_conv)
            layers = [downrelu, downconv, norm_layer(inner_nc), submodule,
                      uprelu, upconv, norm_layer(outer_nc)]
            # Appended last so that it never shifts parameter indices.
            if use_dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    """U-Net with num_downs stride-2 levels (8: unet_256, 7: unet_128).  resize_conv=True gives
    the resize-convolution variant (unet_rc_N): every decoder ConvTranspose2d is a ResizeConv2d."""

    def __init__(self, input_nc, output_nc, num_downs, ngf=64, norm='batch', use_dropout=False,
                 resize_conv=False):
        super().__init__()
        if num_downs < 5:
            raise ValueError('num_downs must be at least 5')
        rc = resize_conv
        block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, innermost=True, norm=norm, resize_conv=rc)
        for _ in range(num_downs - 5):
            block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, submodule=block, norm=norm,
                                            use_dropout=use_dropout, resize_conv=rc)
        block = UnetSkipConnectionBlock(ngf * 4, ngf * 8, submodule=block, norm=norm, resize_conv=rc)
        block = UnetSkipConnectionBlock(ngf * 2, ngf * 4, submodule=block, norm=norm, resize_conv=rc)
        block = UnetSkipConnectionBlock(ngf, ngf * 2, submodule=block, norm=norm, resize_conv=rc)
        self.model = UnetSkipConnectionBlock(output_nc, ngf, input_nc=input_nc, submodule=block,
                                             outermost=True, norm=norm, resize_conv=rc)

    def forward(self, x):
        return self.model(x)


# --------------------------------------------------------------------------
# ResNet (CycleGAN)

class ResnetBlock(nn.Module):
    """x + conv_block(x), reflection padding, no activation after the sum."""

    def __init__(self, dim, norm='instance', use_dropout=False):
        super().__init__()
        norm_layer = get_norm_layer(norm)
        use_bias = use_bias_for(norm)
        layers = [nn.ReflectionPad2d(1),
                  nn.Conv2d(dim, dim, kernel_size=3, padding=0, bias=use_bias),
                  norm_layer(dim), nn.ReLU(True)]
        if use_dropout:
            layers.append(nn.Dropout(0.5))
        layers += [nn.ReflectionPad2d(1),
                   nn.Conv2d(dim, dim, kernel_size=3, padding=0, bias=use_bias),
                   norm_layer(dim)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """c7s1-ngf, d2ngf, d4ngf, n_blocks x R4ngf, u2ngf, ungf, c7s1-output_nc."""

    def __init__(self, input_nc, output_nc, ngf=64, norm='instance', use_dropout=False, n_blocks=9):
        super().__init__()
        if n_blocks < 0:
            raise ValueError('n_blocks must be >= 0')
        norm_layer = get_norm_layer(norm)
        use_bias = use_bias_for(norm)
        layers = [nn.ReflectionPad2d(3),
                  nn.Conv2d(input_nc, ngf, kernel_size=7, padding=0, bias=use_bias),
                  norm_layer(ngf), nn.ReLU(True)]
        n_down = 2
        for i in range(n_down):
            mult = 2 ** i
            layers += [nn.Conv2d(ngf * mult, ngf * mult * 2, kernel_size=3, stride=2, padding=1,
                                 bias=use_bias),
                       norm_layer(ngf * mult * 2), nn.ReLU(True)]
        mult = 2 ** n_down
        for _ in range(n_blocks):
            layers.append(ResnetBlock(ngf * mult, norm=norm, use_dropout=use_dropout))
        for i in range(n_down):
            mult = 2 ** (n_down - i)
            layers += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, kernel_size=3, stride=2,
                                          padding=1, output_padding=1, bias=use_bias),
                       norm_layer(ngf * mult // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3),
                   nn.Conv2d(ngf, output_nc, kernel_size=7, padding=0, bias=True),
                   nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


# --------------------------------------------------------------------------
# PatchGAN discriminator (training only)

class NLayerDiscriminator(nn.Module):
    """PatchGAN; n_layers=3 gives the 70x70 receptive field of pix2pix."""

    def __init__(self, input_nc, ndf=64, n_layers=3, norm='batch'):
        super().__init__()
        norm_layer = get_norm_layer(norm)
        use_bias = use_bias_for(norm)
        layers = [nn.Conv2d(input_nc, ndf, kernel_size=4, stride=2, padding=1),
                  nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers):
            prev, mult = mult, min(2 ** n, 8)
            layers += [nn.Conv2d(ndf * prev, ndf * mult, kernel_size=4, stride=2, padding=1,
                                 bias=use_bias),
                       norm_layer(ndf * mult), nn.LeakyReLU(0.2, True)]
        prev, mult = mult, min(2 ** n_layers, 8)
        layers += [nn.Conv2d(ndf * prev, ndf * mult, kernel_size=4, stride=1, padding=1,
                             bias=use_bias),
                   norm_layer(ndf * mult), nn.LeakyReLU(0.2, True),
                   nn.Conv2d(ndf * mult, 1, kernel_size=4, stride=1, padding=1)]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


# --------------------------------------------------------------------------
# Helpers

_UNET_RE = re.compile(r'^unet_([0-9]+)$')
_UNET_RC_RE = re.compile(r'^unet_rc_([0-9]+)$')
_RESNET_RE = re.compile(r'^resnet_([0-9]+)blocks$')


def parse_arch(arch_name):
    """'unet_256' -> ('unet', 8); 'unet_rc_128' -> ('unet_rc', 7); 'resnet_9blocks' -> ('resnet', 9).

    Accepts the same family as models/FORMAT.md: unet_N and unet_rc_N with N = 2^d,
    5 <= d <= 10, and resnet_Nblocks with 1 <= N <= 32."""
    for family, rx in (('unet', _UNET_RE), ('unet_rc', _UNET_RC_RE)):
        m = rx.match(arch_name)
        if m:
            n = int(m.group(1))
            d = n.bit_length() - 1
            if n != 2 ** d or not 5 <= d <= 10:
                raise ValueError('unsupported U-Net size in %r (need 2^d, 5 <= d <= 10)' % arch_name)
            return family, d
    m = _RESNET_RE.match(arch_name)
    if m:
        n = int(m.group(1))
        if not 1 <= n <= 32:
            raise ValueError('unsupported ResNet block count in %r (1..32)' % arch_name)
        return 'resnet', n
    raise ValueError('unknown architecture %r (expected unet_256, unet_128, unet_rc_128, '
                     'resnet_9blocks, resnet_6blocks, ...)' % (arch_name,))


def build_generator(arch_name, input_nc=3, output_nc=3, ngf=64, norm='batch', use_dropout=True):
    """Builds a generator by its --netG name."""
    family, depth = parse_arch(arch_name)
    if family in ('unet', 'unet_rc'):
        return UnetGenerator(input_nc, output_nc, depth, ngf=ngf, norm=norm, use_dropout=use_dropout,
                             resize_conv=family == 'unet_rc')
    return ResnetGenerator(input_nc, output_nc, ngf=ngf, norm=norm, use_dropout=use_dropout,
                           n_blocks=depth)


def init_weights(net, init_gain=0.02):
    """The reference 'normal' initialisation: conv weights N(0, gain), biases
    0, BatchNorm weight N(1, gain) and bias 0."""
    def _init(m):
        name = m.__class__.__name__
        if hasattr(m, 'weight') and m.weight is not None and ('Conv' in name or 'Linear' in name):
            nn.init.normal_(m.weight.data, 0.0, init_gain)
            if getattr(m, 'bias', None) is not None:
                nn.init.constant_(m.bias.data, 0.0)
        elif 'BatchNorm2d' in name:
            nn.init.normal_(m.weight.data, 1.0, init_gain)
            nn.init.constant_(m.bias.data, 0.0)
    net.apply(_init)
    return net


def set_official_test_mode(net):
    """train() with every Dropout in eval(): BatchNorm normalises with the
    image's own statistics (batch 1), dropout is the identity.  Note that
    BatchNorm running buffers are still updated by forward passes in this
    mode; work on a copy if they matter."""
    net.train()
    for m in net.modules():
        if isinstance(m, nn.Dropout):
            m.eval()
    return net


def set_running_mode(net):
    """PyTorch eval(): BatchNorm uses running statistics, dropout off."""
    net.eval()
    return net


def count_params(net):
    return sum(p.numel() for p in net.parameters())


# --------------------------------------------------------------------------
# Self-check

def _unet_prefix(level):
    """Key prefix of U-Net level (1 = outermost)."""
    if level == 1:
        return 'model.model.'
    return 'model.model.1.' + 'model.3.' * (level - 2) + 'model.'


def _expected_unet256_batch_keys():
    """Appendix A of the reference notes, rebuilt from its prefix rule."""
    keys = [('model.model.0.weight', (64, 3, 4, 4))]
    chans = [(64, 128), (128, 256), (256, 512), (512, 512), (512, 512), (512, 512), (512, 512)]
    bn = ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']

    def bn_keys(p, c):
        return [(p + s, (c,) if s != 'num_batches_tracked' else ()) for s in bn]

    # Down path, in module order (down conv, down norm, then submodule).
    for lvl in range(2, 9):
        outer, inner = chans[lvl - 2]
        p = _unet_prefix(lvl)
        keys.append((p + '1.weight', (inner, outer, 4, 4)))
        if lvl < 8:
            keys += bn_keys(p + '2.', inner)
    # Up path, innermost first.
    p = _unet_prefix(8)
    keys.append((p + '3.weight', (512, 512, 4, 4)))
    keys += bn_keys(p + '4.', 512)
    for lvl in range(7, 1, -1):
        outer, inner = chans[lvl - 2]
        p = _unet_prefix(lvl)
        keys.append((p + '5.weight', (2 * inner, outer, 4, 4)))
        keys += bn_keys(p + '6.', outer)
    keys += [('model.model.3.weight', (128, 3, 4, 4)), ('model.model.3.bias', (3,))]
    return keys


def _expected_resnet9_instance_keys():
    keys = [('model.1.weight', (64, 3, 7, 7)), ('model.1.bias', (64,)),
            ('model.4.weight', (128, 64, 3, 3)), ('model.4.bias', (128,)),
            ('model.7.weight', (256, 128, 3, 3)), ('model.7.bias', (256,))]
    for b in range(10, 19):
        for i in (1, 5):
            keys += [('model.%d.conv_block.%d.weight' % (b, i), (256, 256, 3, 3)),
                     ('model.%d.conv_block.%d.bias' % (b, i), (256,))]
    keys += [('model.19.weight', (256, 128, 3, 3)), ('model.19.bias', (128,)),
             ('model.22.weight', (128, 64, 3, 3)), ('model.22.bias', (64,)),
             ('model.26.weight', (3, 64, 7, 7)), ('model.26.bias', (3,))]
    return keys


def _self_check():
    def shapes(net):
        return [(k, tuple(v.shape)) for k, v in net.state_dict().items()]

    got = shapes(build_generator('unet_256', 3, 3, 64, 'batch', True))
    exp = _expected_unet256_batch_keys()
    assert len(got) == 82, len(got)
    assert got == exp, [(a, b) for a, b in zip(got, exp) if a != b][:3]

    got = shapes(build_generator('resnet_9blocks', 3, 3, 64, 'instance', False))
    assert got == _expected_resnet9_instance_keys(), got

    # Dropout shifts ResNet indices but not U-Net ones.
    k = build_generator('resnet_9blocks', 3, 3, 64, 'instance', True).state_dict().keys()
    assert 'model.10.conv_block.6.weight' in k and 'model.10.conv_block.5.weight' not in k
    assert (list(build_generator('unet_256', 3, 3, 8, 'batch', True).state_dict().keys()) ==
            list(build_generator('unet_256', 3, 3, 8, 'batch', False).state_dict().keys()))

    # resnet_6blocks: ConvTs at 16, 19, final conv 23.
    k = build_generator('resnet_6blocks', 3, 3, 64, 'instance', False).state_dict().keys()
    assert {'model.16.weight', 'model.19.weight', 'model.23.weight', 'model.15.conv_block.5.bias'} <= set(k)

    # Batch norm ResNet: only the final conv has a bias.
    sd = build_generator('resnet_9blocks', 3, 3, 64, 'batch', False).state_dict()
    assert [k for k in sd if k.endswith('.bias') and sd[k].dim() == 1 and
            k.replace('.bias', '.weight') in sd and sd[k.replace('.bias', '.weight')].dim() == 4] \
        == ['model.26.bias']
    assert 'model.2.running_mean' in sd and 'model.10.conv_block.6.running_var' in sd

    # norm=none: no biases except the outermost ConvT, no norm keys.
    sd = build_generator('unet_128', 3, 3, 8, 'none', True).state_dict()
    assert [k for k in sd if k.endswith('bias')] == ['model.model.3.bias']

    # Unet instance: every conv has a bias, no norm keys.
    sd = build_generator('unet_256', 3, 3, 64, 'instance', True).state_dict()
    assert all(k.endswith('.weight') or k.endswith('.bias') for k in sd)
    assert sum(1 for k in sd if k.endswith('.bias')) == 16

    # Published parameter counts (reference notes §8).
    counts = {
        ('unet_256', 3, 3, 'batch'): 54413955,
        ('unet_128', 3, 3, 'batch'): 41828995,
        ('unet_256', 1, 2, 'batch'): 54409858,
        ('resnet_9blocks', 3, 3, 'instance'): 11378179,
        ('resnet_6blocks', 3, 3, 'instance'): 7837699,
    }
    for (arch, i, o, norm), n in counts.items():
        got = count_params(build_generator(arch, i, o, 64, norm, True))
        assert got == n, (arch, got, n)

    # unet_rc: the same keys in the same order as unet, decoder weights [out, in, 3, 3].
    for norm in ('batch', 'instance', 'none'):
        a = build_generator('unet_128', 3, 3, 8, norm, True).state_dict()
        b = build_generator('unet_rc_128', 3, 3, 8, norm, True).state_dict()
        assert list(a) == list(b), norm
        for k in a:
            if a[k].dim() == 4 and a[k].shape[2:] == (4, 4) and b[k].shape[2:] == (3, 3):
                assert b[k].shape == (a[k].shape[1], a[k].shape[0], 3, 3), k
            else:
                assert a[k].shape == b[k].shape, k
    assert build_generator('unet_rc_128', 3, 3, 8, 'batch', True).state_dict()[
        'model.model.3.weight'].shape == (3, 16, 3, 3)

    # Shapes flow through.
    with torch.no_grad():
        net = set_official_test_mode(build_generator('unet_128', 1, 2, 4, 'batch', True))
        assert net(torch.zeros(1, 1, 128, 256)).shape == (1, 2, 128, 256)
        net = set_official_test_mode(build_generator('unet_rc_128', 3, 3, 4, 'batch', True))
        assert net(torch.zeros(1, 3, 128, 256)).shape == (1, 3, 128, 256)
        net = set_running_mode(build_generator('resnet_6blocks', 3, 3, 4, 'instance', True))
        assert net(torch.zeros(1, 3, 20, 28)).shape == (1, 3, 20, 28)
        d = NLayerDiscriminator(6)
        assert d(torch.zeros(1, 6, 256, 256)).shape == (1, 1, 30, 30)
    print('p2p_nets self-check: OK')


if __name__ == '__main__':
    _self_check()
