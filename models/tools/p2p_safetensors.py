"""Writer and reader of gimp-pix2pix model files (see models/FORMAT.md).

Safetensors layout: u64 little-endian header length N, N bytes of UTF-8 JSON
(padded with spaces so that the data section starts 8-byte aligned), then
the raw little-endian tensor data.  Only json, struct and numpy are used;
torch tensors are accepted as input but torch is not imported here.

    save_model(state_dict, path, metadata, dtype='F32')
    load_model(path) -> (dict name -> numpy float32 array, metadata dict)
"""

import json
import re
import struct

import numpy as np

__all__ = ['save_model', 'load_model', 'clean_state_dict', 'validate_metadata',
           'to_f16_bits', 'to_bf16_bits', 'round_to_dtype', 'encode_model', 'FormatError']

DTYPES = ('F32', 'F16', 'BF16')
_ELEM_SIZE = {'F32': 4, 'F16': 2, 'BF16': 2}

REQUIRED_KEYS = ('format', 'format_version', 'arch', 'ngf', 'input_nc', 'output_nc', 'norm',
                 'dropout', 'task', 'input_space', 'output_space', 'native_size', 'name', 'license')


class FormatError(ValueError):
    """A model file or a metadata dict that breaks models/FORMAT.md."""


# --------------------------------------------------------------------------
# Conversions

def _to_numpy(t):
    if isinstance(t, np.ndarray):
        return t
    if hasattr(t, 'detach'):  # torch.Tensor, without importing torch
        t = t.detach().cpu()
        if str(t.dtype) == 'torch.bfloat16':
            t = t.float()
        return t.numpy()
    return np.asarray(t)


def to_f16_bits(a):
    """float32 array -> uint16 IEEE half bits (round to nearest even, as numpy/torch)."""
    with np.errstate(over='ignore'):  # out of range -> inf, as in torch
        return np.ascontiguousarray(a, dtype=np.float32).astype(np.float16).view(np.uint16)


def to_bf16_bits(a):
    """float32 array -> uint16 bfloat16 bits, round to nearest even (as torch);
    NaN stays a quiet NaN."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    bits = a.view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    out = rounded.astype(np.uint16)
    nan = np.isnan(a)
    if nan.any():
        out[nan] = ((bits[nan] >> 16).astype(np.uint16) | np.uint16(0x0040))
    return out


def _from_bits(raw, dtype, shape):
    if dtype == 'F32':
        a = np.frombuffer(raw, dtype='<f4')
    elif dtype == 'F16':
        a = np.frombuffer(raw, dtype='<f2').astype(np.float32)
    else:
        a = (np.frombuffer(raw, dtype='<u2').astype(np.uint32) << 16).view(np.float32)
    return a.reshape(shape).astype(np.float32, copy=True)


def round_to_dtype(a, dtype):
    """float32 array rounded to F16/BF16 precision and widened back (what the
    engine will compute with after loading a file written with @dtype)."""
    a = np.ascontiguousarray(_to_numpy(a), dtype=np.float32)
    if dtype == 'F32':
        return a.copy()
    bits = to_f16_bits(a) if dtype == 'F16' else to_bf16_bits(a)
    return _from_bits(bits.tobytes(), dtype, a.shape)


# --------------------------------------------------------------------------
# Tensors and metadata

def clean_state_dict(state_dict):
    """Applies FORMAT.md's naming rules: strip a leading 'module.', drop
    num_batches_tracked and the running buffers of InstanceNorm layers.

    A running_mean/running_var pair is kept only where the same module also
    has a 'weight' of the same length (BatchNorm is affine in the reference
    nets; InstanceNorm there is not), which is how legacy InstanceNorm
    buffers are recognised without the network object."""
    sd = {}
    for k, v in state_dict.items():
        if k.startswith('module.'):
            k = k[len('module.'):]
        if k in sd:
            raise FormatError('duplicate tensor name after stripping "module.": %s' % k)
        sd[k] = v
    out = {}
    for k, v in sd.items():
        if k.endswith('num_batches_tracked'):
            continue
        if k.endswith('.running_mean') or k.endswith('.running_var'):
            mod = k.rsplit('.', 1)[0]
            w = sd.get(mod + '.weight')
            if w is None or len(_to_numpy(w).shape) != 1:
                continue  # InstanceNorm (no affine): legacy buffer
        out[k] = v
    return out


_ARCH_RE = re.compile(r'^(unet_(?:rc_)?([0-9]+)|resnet_([0-9]+)blocks)$')


def _int_in(md, key, lo, hi):
    v = md[key]
    if not re.fullmatch(r'[0-9]+', v) or not lo <= int(v) <= hi:
        raise FormatError('metadata %s=%r must be an integer in %d..%d' % (key, v, lo, hi))
    return int(v)


def validate_metadata(metadata):
    """Returns a normalised copy (all values str) or raises FormatError."""
    md = {}
    for k, v in metadata.items():
        if not isinstance(k, str):
            raise FormatError('metadata key %r is not a string' % (k,))
        if isinstance(v, bool):
            v = 'true' if v else 'false'
        elif isinstance(v, int):
            v = str(v)
        elif not isinstance(v, str):
            raise FormatError('metadata %s must be a string, got %r' % (k, v))
        md[k] = v
    md.setdefault('format', 'gimp-pix2pix')
    md.setdefault('format_version', '1')
    missing = [k for k in REQUIRED_KEYS if k not in md]
    if missing:
        raise FormatError('missing metadata keys: %s' % ', '.join(missing))
    if md['format'] != 'gimp-pix2pix':
        raise FormatError('metadata format must be "gimp-pix2pix"')
    if md['format_version'] != '1':
        raise FormatError('unsupported format_version %r' % md['format_version'])
    m = _ARCH_RE.match(md['arch'])
    ok = False
    if m and m.group(2):
        n = int(m.group(2))
        ok = n >= 32 and n <= 1024 and n & (n - 1) == 0
    elif m:
        ok = 1 <= int(m.group(3)) <= 32
    if not ok:
        raise FormatError('unknown arch %r' % md['arch'])
    _int_in(md, 'ngf', 1, 1024)
    in_nc = _int_in(md, 'input_nc', 1, 4)
    out_nc = _int_in(md, 'output_nc', 1, 4)
    native = _int_in(md, 'native_size', 1, 65535)
    if 'resize_max_size' in md:  # optional; the engine's limits (P2P_RESIZE_MAX_SIZE_LIMIT)
        _int_in(md, 'resize_max_size', native, 4096)
    if 'unhinted_chroma_percent' in md:  # optional (P2P_UNHINTED_CHROMA_PERCENT_MIN/MAX)
        _int_in(md, 'unhinted_chroma_percent', 100, 400)
    if 'unhinted_chroma_target' in md:  # optional (P2P_UNHINTED_CHROMA_TARGET_MIN/MAX)
        _int_in(md, 'unhinted_chroma_target', 1, 100)
    enums = {
        'norm': ('batch', 'instance', 'none'),
        'dropout': ('true', 'false'),
        'task': ('sketch-to-photo', 'colorize', 'generic'),
        'input_space': ('rgb', 'lab_l', 'lab_l_hints'),
        'output_space': ('rgb', 'lab_ab'),
    }
    for k, allowed in enums.items():
        if md[k] not in allowed:
            raise FormatError('metadata %s=%r must be one of %s' % (k, md[k], ', '.join(allowed)))
    for k in ('name', 'license'):
        if not md[k].strip():
            raise FormatError('metadata %s must not be empty' % k)
    colorize_in = {'lab_l': 1, 'lab_l_hints': 4}
    if md['task'] == 'colorize' and (md['input_space'] not in colorize_in
                                     or md['output_space'] != 'lab_ab' or out_nc != 2
                                     or in_nc != colorize_in[md['input_space']]):
        raise FormatError('task colorize needs input_space=lab_l with input_nc=1 or lab_l_hints '
                          'with input_nc=4, and output_space=lab_ab, output_nc=2')
    if md['input_space'] == 'lab_l_hints' and in_nc != 4:
        raise FormatError('input_space lab_l_hints needs input_nc=4')
    if md['input_space'] == 'lab_l' and in_nc != 1:
        raise FormatError('input_space lab_l needs input_nc=1')
    if md['output_space'] == 'lab_ab' and out_nc != 2:
        raise FormatError('output_space lab_ab needs output_nc=2')
    if md['input_space'] == 'rgb' and in_nc not in (1, 3):
        raise FormatError('input_space rgb needs input_nc 1 or 3')
    if md['output_space'] == 'rgb' and out_nc not in (1, 3):
        raise FormatError('output_space rgb needs output_nc 1 or 3')
    return md


# --------------------------------------------------------------------------
# Writing

def encode_tensors(tensors, metadata=None, dtype='F32'):
    """Low-level encoder: {name: array} (+ raw string metadata, unchecked) ->
    bytes.  Used by save_model and by the fixture generator for data files
    that are not models."""
    if dtype not in DTYPES:
        raise FormatError('dtype must be one of %s' % ', '.join(DTYPES))
    header = {}
    if metadata is not None:
        header['__metadata__'] = dict(metadata)
    chunks = []
    offset = 0
    for name, t in tensors.items():
        if name == '__metadata__':
            raise FormatError('a tensor cannot be named __metadata__')
        a = np.ascontiguousarray(_to_numpy(t), dtype=np.float32)
        if dtype == 'F32':
            raw = a.astype('<f4').tobytes()
        elif dtype == 'F16':
            raw = to_f16_bits(a).astype('<u2').tobytes()
        else:
            raw = to_bf16_bits(a).astype('<u2').tobytes()
        header[name] = {'dtype': dtype, 'shape': [int(s) for s in a.shape],
                        'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    hjson = json.dumps(header, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
    hjson += b' ' * (-len(hjson) % 8)
    return struct.pack('<Q', len(hjson)) + hjson + b''.join(chunks)


def encode_model(state_dict, metadata, dtype='F32'):
    md = validate_metadata(metadata)
    return encode_tensors(clean_state_dict(state_dict), md, dtype)


def save_model(state_dict, path, metadata, dtype='F32'):
    """Writes @state_dict (torch tensors or numpy arrays, float) as a model
    file.  Tensor order is kept; values are stored as @dtype."""
    data = encode_model(state_dict, metadata, dtype)
    with open(path, 'wb') as f:
        f.write(data)


# --------------------------------------------------------------------------
# Reading

def decode(data):
    """bytes -> (tensors as float32 numpy arrays, metadata dict or None)."""
    if len(data) < 8:
        raise FormatError('file too short for a safetensors header')
    (n,) = struct.unpack_from('<Q', data, 0)
    if n > len(data) - 8:
        raise FormatError('header length %d beyond end of file' % n)
    if n < 2 or data[8:9] != b'{':
        raise FormatError('not a safetensors file (header does not start with "{")')

    def no_duplicates(pairs):
        d = {}
        for k, v in pairs:
            if k in d:
                raise FormatError('duplicate name in header: %s' % k)
            d[k] = v
        return d
    try:
        header = json.loads(data[8:8 + n].decode('utf-8'), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, ValueError) as e:
        if isinstance(e, FormatError):
            raise
        raise FormatError('header is not valid JSON: %s' % e)
    if not isinstance(header, dict):
        raise FormatError('header is not a JSON object')
    body = memoryview(data)[8 + n:]
    metadata = header.pop('__metadata__', None)
    tensors = {}
    spans = []
    for name, info in header.items():
        try:
            dt, shape, (b, e) = info['dtype'], info['shape'], info['data_offsets']
        except (KeyError, TypeError, ValueError):
            raise FormatError('tensor %s: bad entry' % name)
        if dt not in DTYPES:
            raise FormatError('tensor %s: unsupported dtype %r' % (name, dt))
        if not all(isinstance(s, int) and s >= 0 for s in shape):
            raise FormatError('tensor %s: bad shape %r' % (name, shape))
        size = int(np.prod(shape, dtype=object)) * _ELEM_SIZE[dt]
        if not (0 <= b <= e <= len(body)) or e - b != size:
            raise FormatError('tensor %s: bad data_offsets %r' % (name, [b, e]))
        spans.append((b, e, name))
        tensors[name] = _from_bits(bytes(body[b:e]), dt, tuple(shape))
    # As safetensors requires: the tensors tile the data section exactly.
    spans.sort()
    pos = 0
    for b, e, name in spans:
        if b < pos:
            raise FormatError('tensor %s overlaps another tensor' % name)
        if b > pos:
            raise FormatError('bytes %d..%d of the data belong to no tensor' % (pos, b))
        pos = e
    if pos != len(body):
        raise FormatError('the last %d bytes of the data belong to no tensor' % (len(body) - pos))
    return tensors, metadata


def load_model(path):
    """Reads a model file -> (tensors dict of float32 numpy arrays, metadata)."""
    with open(path, 'rb') as f:
        data = f.read()
    tensors, metadata = decode(data)
    if metadata is None:
        raise FormatError('%s: no __metadata__' % path)
    return tensors, validate_metadata(metadata)


# --------------------------------------------------------------------------
# Self-test

def _self_test():
    import os
    import tempfile
    import torch
    import p2p_nets

    torch.manual_seed(0)
    tmp = tempfile.mkdtemp()
    cases = [('unet_256', 3, 3, 'batch', True), ('unet_128', 1, 2, 'instance', True),
             ('unet_128', 3, 3, 'none', False), ('unet_rc_128', 3, 3, 'batch', True),
             ('resnet_9blocks', 3, 3, 'instance', False),
             ('resnet_6blocks', 3, 3, 'batch', True)]
    for arch, i, o, norm, drop in cases:
        net = p2p_nets.build_generator(arch, i, o, 8, norm, drop)
        for p in net.state_dict().values():
            if p.is_floating_point():
                p.uniform_(-1, 1)
        colorize = (i, o) == (1, 2)
        md = {'arch': arch, 'ngf': 8, 'input_nc': i, 'output_nc': o, 'norm': norm,
              'dropout': drop, 'task': 'colorize' if colorize else 'generic',
              'input_space': 'lab_l' if colorize else 'rgb',
              'output_space': 'lab_ab' if colorize else 'rgb',
              'native_size': 256, 'name': 'test', 'license': 'CC0-1.0'}
        sd = net.state_dict()
        for dt in DTYPES:
            path = os.path.join(tmp, '%s-%s.safetensors' % (arch, dt))
            save_model(sd, path, md, dt)
            raw = open(path, 'rb').read()
            assert struct.unpack_from('<Q', raw)[0] % 8 == 0
            t, m = load_model(path)
            assert m['arch'] == arch and m['dropout'] == ('true' if drop else 'false')
            exp = {k: v for k, v in sd.items() if not k.endswith('num_batches_tracked')}
            assert list(t) == list(exp), (set(t) ^ set(exp))
            for k, v in exp.items():
                ref = v.float() if dt == 'F32' else v.to(
                    torch.float16 if dt == 'F16' else torch.bfloat16).float()
                assert np.array_equal(t[k], ref.numpy()), (arch, dt, k)
            # The loaded weights load into the net (strict).
            net2 = p2p_nets.build_generator(arch, i, o, 8, norm, drop)
            missing, unexpected = net2.load_state_dict(
                {k: torch.from_numpy(v) for k, v in t.items()}, strict=False)
            assert not unexpected and all(k.endswith('num_batches_tracked') for k in missing)
    # bf16 rounding ties and specials match torch.
    x = torch.tensor([1.0, 1.00390625, 1.01171875, -2.5, 3.4e38, float('inf'), 1e-40, 0.0],
                     dtype=torch.float32)
    x = torch.cat([x, torch.randn(10000) * 100])
    assert np.array_equal(to_bf16_bits(x.numpy()),
                          x.to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16))
    assert np.array_equal(to_f16_bits(x.numpy()),
                          x.to(torch.float16).view(torch.int16).numpy().view(np.uint16))
    # Legacy IN buffers and module. prefix are cleaned.
    net = p2p_nets.build_generator('resnet_6blocks', 3, 3, 4, 'instance', False)
    sd = {'module.' + k: v for k, v in net.state_dict().items()}
    sd['module.model.2.running_mean'] = torch.zeros(4)
    sd['module.model.2.running_var'] = torch.ones(4)
    sd['module.model.2.num_batches_tracked'] = torch.tensor(0)
    assert list(clean_state_dict(sd)) == list(net.state_dict())
    # Metadata validation.
    good = {'arch': 'unet_256', 'ngf': '64', 'input_nc': '3', 'output_nc': '3', 'norm': 'batch',
            'dropout': 'true', 'task': 'generic', 'input_space': 'rgb', 'output_space': 'rgb',
            'native_size': '256', 'name': 'x', 'license': 'y'}
    validate_metadata(good)
    for k, v in [('ngf', '0'), ('arch', 'unet_100'), ('norm', 'group'), ('task', 'x'),
                 ('dropout', 'yes'), ('input_nc', '5'), ('task', 'colorize'), ('name', ' ')]:
        try:
            validate_metadata(dict(good, **{k: v}))
        except FormatError:
            pass
        else:
            raise AssertionError('accepted %s=%s' % (k, v))
    # Malformed files are refused.
    good_bytes = encode_tensors({'a': np.zeros(2, np.float32), 'b': np.ones(3, np.float32)}, {})
    h_len = struct.unpack_from('<Q', good_bytes)[0]
    head = good_bytes[8:8 + h_len].decode()
    bad = [good_bytes[:5], good_bytes[:-1], good_bytes + b'xxxx',
           struct.pack('<Q', 1 << 63) + good_bytes[8:],
           good_bytes.replace(b'"F32"', b'"F64"', 1)]
    dup = head.replace('"b"', '"a"')
    bad.append(good_bytes[:8] + dup.encode() + good_bytes[8 + h_len:])
    for b in bad:
        try:
            decode(b)
        except FormatError:
            pass
        else:
            raise AssertionError('accepted a malformed file')
    decode(good_bytes)
    print('p2p_safetensors self-test: OK')


if __name__ == '__main__':
    _self_test()
