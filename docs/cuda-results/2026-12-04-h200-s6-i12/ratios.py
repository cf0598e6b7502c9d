#!/usr/bin/env python3
# Ours ÷ cuDNN for the 1D/3D/transposed ops from bench logs of one machine: the minimum over the given
# runs of our medians (forward; forward + backward) against the minimum over the given torch_bench logs
# of cuDNN's, for the base addon (A logs) and the new one (B logs).
# usage: ratios.py A1.log,A2.log B1.log,B2.log torch1.log,torch2.log
import re, sys
def parse(paths, cudnn):
    out = {}
    for p in paths.split(','):
        for line in open(p):
            m = re.match(r'^(\S+)\s+(.+?)\s+fwd ([\d.]+) ms .*bwd ([\d.]+) ms', line)
            if not m or m[2].startswith('cuDNN') != cudnn or m[2].startswith('torchvision'): continue
            key = (m[1], m[2].removeprefix('cuDNN ').strip())
            f, b = float(m[3]), float(m[4])
            o = out.setdefault(key, [9e9, 9e9])
            o[0], o[1] = min(o[0], f), min(o[1], f + b)
    return out
A, B, C = parse(sys.argv[1], False), parse(sys.argv[2], False), parse(sys.argv[3], True)
print('| shape | dtype | fwd ms: base → new (cuDNN) | fwd ÷ cuDNN: base → new | fwd+bwd ms: base → new (cuDNN) | fwd+bwd ÷ cuDNN: base → new |')
print('|---|---|---|---|---|---|')
for s in ['1d-c256', '3d-c64', 'tr2d-256', 'tr3d-64']:
    for v in ['fp16', 'bf16', 'tf32', 'fp32']:
        a, b, c = A.get((s, v)), B.get((s, v)), C.get((s, v))
        if not (a and b and c): continue
        print(f'| {s} | {v} | {a[0]:.3f} → {b[0]:.3f} ({c[0]:.3f}) | {a[0] / c[0]:.2f}x → {b[0] / c[0]:.2f}x | '
              f'{a[1]:.3f} → {b[1]:.3f} ({c[1]:.3f}) | {a[1] / c[1]:.2f}x → {b[1] / c[1]:.2f}x |')
