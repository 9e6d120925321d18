#!/usr/bin/python3
"""PyTorch side of the benchmark: times one network in one norm mode.

Usage: bench_torch.py NAME.pt ARCH NORM DROPOUT SIZE THREADS RUNS MODE
  MODE official: train() with dropout off (BatchNorm uses the image's own statistics,
                 what the reference test.py and our engine's default compute)
       eval:     eval() (BatchNorm with running statistics)
Prints one JSON line: {"ms": median, "min": .., "max": .., "rss_mib": peak RSS,
"threads": torch.get_num_threads(), "blas_core": OpenBLAS core name}.

The caller sets OMP_WAIT_POLICY=PASSIVE, OMP_NUM_THREADS and OPENBLAS_NUM_THREADS
before Python starts (the libraries read them at load time).  Input: uniform [-1, 1),
seeded; fp32; batch 1; torch.no_grad().
"""

import ctypes
import json
import os
import resource
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'models', 'tools'))

import p2p_nets  # noqa: E402


def blas_core():
    try:
        lib = ctypes.CDLL('libopenblas.so.0')
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib.openblas_get_corename().decode()
    except (OSError, AttributeError):
        return 'unknown'


def main():
    if len(sys.argv) != 9:
        raise SystemExit(__doc__)
    path, arch, norm, dropout, size, threads, runs, mode = sys.argv[1:]
    size, threads, runs = int(size), int(threads), int(runs)
    torch.set_num_threads(threads)
    net = p2p_nets.build_generator(arch, 3, 3, ngf=64, norm=norm,
                                   use_dropout=dropout == 'true')
    net.load_state_dict(torch.load(path))
    if mode == 'official':
        p2p_nets.set_official_test_mode(net)
    elif mode == 'eval':
        p2p_nets.set_running_mode(net)
    else:
        raise SystemExit('bench_torch: unknown mode %r' % mode)
    for p in net.parameters():
        p.requires_grad_(False)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(1, 3, size, size, generator=g) * 2 - 1
    times = []
    with torch.no_grad():
        for r in range(-1, runs):
            t0 = time.perf_counter()
            y = net(x)
            dt = (time.perf_counter() - t0) * 1000.0
            if r >= 0:
                times.append(dt)
    assert y.shape == (1, 3, size, size)
    print(json.dumps({
        'ms': statistics.median(times), 'min': min(times), 'max': max(times),
        # Linux: ru_maxrss in KiB
        'rss_mib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        'threads': torch.get_num_threads(), 'blas_core': blas_core(),
    }))


if __name__ == '__main__':
    main()
