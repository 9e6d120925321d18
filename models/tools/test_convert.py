#!/usr/bin/python3
"""Test of convert-checkpoint.py (needs Debian's python3-torch), run from the repository root:
    /usr/bin/python3 -m unittest models.tools.test_convert
Builds checkpoints of every supported kind with torch.save (zip and legacy
formats, legacy InstanceNorm buffers, 'module.' prefix), converts them and
checks detection, tensors and error handling."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch

from models.tools import p2p_nets
from models.tools import p2p_safetensors as st

HERE = os.path.dirname(os.path.abspath(__file__))
CONVERT = os.path.join(HERE, 'convert-checkpoint.py')


class ConvertTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='p2p-convert-')
        self.failed = []

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_convert(self, *args):
        r = subprocess.run([sys.executable, CONVERT, '-q'] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return r.returncode, r.stdout, r.stderr

    def check(self, cond, what):
        if not cond:
            self.failed.append(what)

    def save(self, obj, name, legacy):
        path = os.path.join(self.tmp, name)
        if legacy:
            torch.save(obj, path, _use_new_zipfile_serialization=False)
        else:
            torch.save(obj, path)
        return path

    def test_convert(self):
        tmp, check, run, save = self.tmp, self.check, self.run_convert, self.save
        cases = [
            # arch, in, out, norm, dropout, legacy, prefix, legacy_in_buffers, task, extra args
            ('unet_256', 3, 3, 'batch', True, False, False, False, 'sketch-to-photo', []),
            ('unet_256', 3, 3, 'batch', True, True, False, False, 'generic', []),
            ('unet_128', 1, 2, 'batch', True, True, True, False, 'colorize', ['--dtype', 'F16']),
            ('unet_128', 3, 3, 'instance', False, False, False, True, 'generic', []),
            ('unet_128', 3, 3, 'none', True, False, False, False, 'generic', ['--dropout']),
            ('unet_256', 3, 3, 'batch', False, False, False, False, 'generic', ['--no-dropout']),
            ('resnet_9blocks', 3, 3, 'instance', False, True, True, True, 'generic', []),
            ('resnet_9blocks', 3, 3, 'instance', True, False, False, True, 'generic', ['--dtype', 'BF16']),
            ('resnet_6blocks', 3, 3, 'batch', True, False, True, False, 'generic', []),
            ('resnet_6blocks', 3, 1, 'batch', False, True, False, False, 'generic', []),
            # Appended: later checks reuse the files of the cases above by index.
            ('unet_rc_128', 3, 1, 'batch', True, False, True, False, 'generic', []),
            ('unet_rc_128', 3, 3, 'instance', False, True, False, False, 'sketch-to-photo', []),
        ]
        torch.manual_seed(1)
        for i, (arch, ic, oc, norm, drop, legacy, prefix, inbuf, task, extra) in enumerate(cases):
            net = randomise(p2p_nets.build_generator(arch, ic, oc, 4, norm, drop))
            sd = net.state_dict()
            if inbuf:  # what 2018 checkpoints carry for every InstanceNorm
                for name, m in net.named_modules():
                    if isinstance(m, torch.nn.InstanceNorm2d):
                        sd[name + '.running_mean'] = torch.zeros(m.num_features)
                        sd[name + '.running_var'] = torch.ones(m.num_features)
                        sd[name + '.num_batches_tracked'] = torch.tensor(7)
            if prefix:
                sd = type(sd)(('module.' + k, v) for k, v in sd.items())
            ckpt = save(sd, 'c%d.pth' % i, legacy)
            out = os.path.join(tmp, 'c%d.safetensors' % i)
            rc, so, se = run(ckpt, out, '--task', task, '--license', 'CC0-1.0', *extra)
            what = '%s %s %s drop=%s legacy=%s prefix=%s inbuf=%s' % (arch, norm, task, drop, legacy,
                                                                       prefix, inbuf)
            check(rc == 0 and se == '', 'convert ' + what + (' :: ' + se.strip() if se else ''))
            if rc:
                continue
            t, md = st.load_model(out)
            check((md['arch'], md['norm'], md['dropout'], md['ngf'], md['input_nc'], md['output_nc']) ==
                  (arch, norm, 'true' if drop else 'false', '4', str(ic), str(oc)), 'metadata ' + what)
            check(md['task'] == task and (md['input_space'], md['output_space']) ==
                  (('lab_l', 'lab_ab') if task == 'colorize' else ('rgb', 'rgb')), 'spaces ' + what)
            dt = extra[1] if extra[:1] == ['--dtype'] else 'F32'
            exp = {k: st.round_to_dtype(v, dt) for k, v in net.state_dict().items()
                   if not k.endswith('num_batches_tracked')}
            check(list(t) == list(exp) and all(np.array_equal(t[k], exp[k]) for k in exp),
                  'tensors ' + what)
            # The written file reproduces the network.
            net2 = p2p_nets.build_generator(arch, ic, oc, 4, norm, drop)
            net2.load_state_dict({k: torch.from_numpy(v) for k, v in t.items()}, strict=False)
            size = 2 ** p2p_nets.parse_arch(arch)[1] if arch.startswith('unet') else 16
            x = torch.rand(1, ic, size, size) * 2 - 1
            with torch.no_grad():
                y1 = p2p_nets.set_running_mode(net)(x)
                y2 = p2p_nets.set_running_mode(net2)(x)
            tol = 0 if dt == 'F32' else 0.1
            check(float((y1 - y2).abs().max()) <= tol, 'forward ' + what)

        # Files from PyTorch < 0.4.1 have no num_batches_tracked.
        net = randomise(p2p_nets.build_generator('unet_128', 3, 3, 4, 'batch', True))
        old_sd = {k: v for k, v in net.state_dict().items() if not k.endswith('num_batches_tracked')}
        rc, so, se = run(save(old_sd, 'old.pth', True), os.path.join(tmp, 'old.safetensors'),
                         '--task', 'generic')
        t, md = st.load_model(os.path.join(tmp, 'old.safetensors')) if rc == 0 else ({}, {})
        check(rc == 0 and list(t) == list(old_sd) and md.get('norm') == 'batch',
              'batch norm without num_batches_tracked ' + se.strip())

        # Errors: exit 2, exactly one line on stderr.
        good = os.path.join(tmp, 'c0.pth')
        net = p2p_nets.build_generator('unet_256', 3, 3, 4, 'batch', True)
        sd = net.state_dict()
        bad_shape = dict(sd)
        bad_shape['model.model.1.model.5.weight'] = torch.zeros(3, 3, 4, 4)
        extra_key = dict(sd)
        extra_key['model.model.1.model.9.weight'] = torch.zeros(3)
        missing = dict(sd)
        del missing['model.model.1.model.6.weight']
        with open(os.path.join(tmp, 'text.pth'), 'w') as f:
            f.write('hello')
        errors = [
            ('missing file', [os.path.join(tmp, 'nope.pth'), 'o.safetensors', '--task', 'generic']),
            ('not a checkpoint', [os.path.join(tmp, 'text.pth'), 'o.safetensors', '--task', 'generic']),
            ('list, not dict', [save([torch.zeros(1)], 'list.pth', False), 'o.safetensors',
                                '--task', 'generic']),
            ('unknown keys', [save({'fc.weight': torch.zeros(2, 2)}, 'fc.pth', False), 'o.safetensors',
                              '--task', 'generic']),
            ('wrong shape', [save(bad_shape, 'shape.pth', False), 'o.safetensors', '--task', 'generic']),
            ('extra key', [save(extra_key, 'extra.pth', True), 'o.safetensors', '--task', 'generic']),
            ('missing key', [save(missing, 'missing.pth', False), 'o.safetensors', '--task', 'generic']),
            ('colorize on 3->3', [good, 'o.safetensors', '--task', 'colorize']),
            ('bad native size', [good, 'o.safetensors', '--task', 'generic', '--native-size', '100']),
            ('resnet dropout contradiction', [os.path.join(tmp, 'c6.pth'), 'o.safetensors',
                                              '--task', 'generic', '--dropout']),
        ]
        for what, args in errors:
            args = [a if not a.endswith('.safetensors') else os.path.join(tmp, a) for a in args]
            rc, so, se = run(*args)
            check(rc == 2 and len(se.strip().splitlines()) == 1 and 'error:' in se,
                  'error %s -> %d %s' % (what, rc, se.strip()))
        check(not os.path.exists(os.path.join(tmp, 'o.safetensors')), 'no output written on error')

        self.assertEqual(self.failed, [])


def randomise(net):
    for k, v in net.state_dict().items():
        if v.is_floating_point():
            if k.endswith('running_var'):
                v.uniform_(0.5, 2.0)
            else:
                v.normal_(0, 0.2)
    return net


if __name__ == '__main__':
    unittest.main()
