#!/usr/bin/env python3
# Summarises a same-machine A/B of bench/cuda logs (scripts/gpu-check.sh copies it to .gpu/): per shape and
# variant, the minimum over the A logs and over the B logs of the forward and backward medians and of every
# phase, and B / A.
# usage: ab.py A1.log[,A2.log] B1.log[,B2.log]
import re, sys
def parse(path):
    rows, cur = {}, None
    for line in open(path):
        m = re.match(r'^(\S+)\s+(.+?)\s+fwd ([\d.]+) ms .*bwd ([\d.]+) ms', line)
        if m:
            cur = (m[1], m[2]); rows[cur] = {'fwd': float(m[3]), 'bwd': float(m[4])}
            h = re.search(r'host ([\d.]+) ms', line)
            if h: rows[cur]['fwd:host'] = float(h[1])
            continue
        m = re.match(r'^\s+host split: native ([\d.-]+), alloc ([\d.-]+), rest \(JavaScript\) ([\d.-]+)', line)
        if m and cur:  # NOTE [ The host split ] (bench --host-split)
            rows[cur].update({'fwd:host:native': float(m[1]), 'fwd:host:alloc': float(m[2]), 'fwd:host:js': float(m[3])})
            continue
        m = re.match(r'^\s+(fwd|bwd) phases: (.*)', line)
        if m and cur:
            for k, v in re.findall(r'(\w+) ([\d.]+)', m[2]):
                rows[cur][f'{m[1]}:{k}'] = float(v)
    return rows
def merged(paths):
    out = {}
    for p in paths:
        try: rows = parse(p)
        except OSError: continue
        for key, r in rows.items():
            o = out.setdefault(key, {})
            for k, v in r.items(): o[k] = min(o.get(k, v), v)
    return out
A, B = merged(sys.argv[1].split(',')), merged(sys.argv[2].split(','))
print('| shape | variant | what | A (min) | B (min) | A / B |')
print('|---|---|---|---:|---:|---:|')
for key in B:
    a = A.get(key, {})
    for k, bv in B[key].items():
        av = a.get(k)
        print(f'| {key[0]} | {key[1]} | {k} | ' + ('—' if av is None else f'{av:.3f}') + f' | {bv:.3f} | ' +
              ('—' if av is None or bv == 0 else f'{av / bv:.2f}x') + ' |')  # bwd is 0 with --forward-only
