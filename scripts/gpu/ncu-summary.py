#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Summarises the per-instruction CSV that `ncu --import R.ncu-rep --page source --csv --print-source sass`
# writes (scripts/gpu/ncu-on-gpu.sh makes them): per kernel, the warp-stall samples by reason, the executed
# instruction mix by opcode, and the instruction count per loop trip (SASS lines grouped by how often
# they ran). Usage: python3 scripts/gpu/ncu-summary.py FILE.csv[.xz] ...
import collections
import csv
import io
import lzma
import re
import sys


def kernels(path):
    opener = lzma.open if path.endswith('.xz') else open
    with opener(path, 'rt') as f:
        out, cur = [], None
        for row in csv.reader(f):
            if not row:
                continue
            if row[0] == 'Kernel Name':
                cur = {'name': row[1], 'hdr': None, 'rows': []}
                out.append(cur)
            elif row[0] == 'Address' and cur is not None:
                cur['hdr'] = row
            elif cur is not None and cur['hdr'] is not None:
                cur['rows'].append(row)
    seen, unique = set(), []
    for k in out:  # the source page repeats a kernel once per profiled launch
        key = (k['name'], len(k['rows']))
        if key not in seen:
            seen.add(key)
            unique.append(k)
    return unique


def num(x):
    try:
        return float(x.replace(',', ''))
    except ValueError:
        return 0.0


def summarise(k):
    hdr, rows = k['hdr'], k['rows']
    col = {h: i for i, h in enumerate(hdr)}
    samples = sum(num(r[col['Warp Stall Sampling (All Samples)']]) for r in rows)
    stalls = collections.Counter()
    for r in rows:
        for h in hdr:
            if h.startswith('stall_') and '(Not Issued)' not in h:
                stalls[h[6:]] += num(r[col[h]])
    ops, trips = collections.Counter(), collections.Counter()
    for r in rows:
        n = num(r[col['Instructions Executed']])
        m = re.match(r'(@!?U?P\w+\s+)?([A-Z0-9_]+)', r[1].strip())
        ops[m.group(2) if m else '?'] += n
        if n > 0:
            trips[int(round(n, -2))] += 1
    total = sum(ops.values())
    name = re.sub(r'\(dcn::cuda::[A-Za-z_:]*Args.*', '', k['name'])
    print(f'== {name}')
    print(f'   warp instructions executed {total:.4g}, stall samples {samples:.0f}')
    print('   stalls: ' + ', '.join(f'{s} {100 * v / samples:.1f}%' for s, v in stalls.most_common(10)))
    print('   opcodes: ' + ', '.join(f'{o} {100 * v / total:.1f}%' for o, v in ops.most_common(16)))
    print('   SASS lines by executions (count x lines = share): ' + ', '.join(
        f'{c} x {n} = {100 * c * n / total:.0f}%' for c, n in sorted(trips.items(), key=lambda t: -t[0] * t[1])[:4]))


for path in sys.argv[1:]:
    print(f'# {path}')
    for k in kernels(path):
        summarise(k)
