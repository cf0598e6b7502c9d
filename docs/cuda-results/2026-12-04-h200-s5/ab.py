#!/usr/bin/env python3
# Summarises a same-machine A/B of bench/cuda logs: per shape and variant, the forward and backward
# medians and the phases of each log, then B / A ratios of the minimum over the A logs and the B logs.
# usage: ab.py A1.log[,A2.log] B1.log[,B2.log] [variant ...]
import re, sys
def parse(path):
    rows, cur = {}, None
    for line in open(path):
        m = re.match(r'^(\S+)\s+(.+?)\s+fwd ([\d.]+) ms .*bwd ([\d.]+) ms', line)
        if m:
            cur = (m[1], m[2]); rows[cur] = {'fwd': float(m[3]), 'bwd': float(m[4])}; continue
        m = re.match(r'^\s+(fwd|bwd) phases: (.*)', line)
        if m and cur:
            for k, v in re.findall(r'(\w+) ([\d.]+)', m[2]):
                rows[cur][f'{m[1]}:{k}'] = float(v)
    return rows
def merged(paths):
    out = {}
    for p in paths:
        for key, r in parse(p).items():
            o = out.setdefault(key, {})
            for k, v in r.items(): o[k] = min(o.get(k, v), v)
    return out
A, B = merged(sys.argv[1].split(',')), merged(sys.argv[2].split(','))
want = set(sys.argv[3:])
keys = ['fwd', 'bwd', 'fwd:gemm_forward', 'bwd:gemm_dcol', 'bwd:gemm_weight']
print('| shape | variant | ' + ' | '.join(keys) + ' |')
print('|---|---|' + '---|' * len(keys))
for key in A:
    if key not in B or (want and key[1] not in want): continue
    cells = []
    for k in keys:
        a, b = A[key].get(k), B[key].get(k)
        cells.append('—' if a is None or b is None else f'{a:.3f} → {b:.3f} ({a / b:.2f}x)')
    print(f'| {key[0]} | {key[1]} | ' + ' | '.join(cells) + ' |')
