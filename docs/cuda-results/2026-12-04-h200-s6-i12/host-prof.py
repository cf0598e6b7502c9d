import json, glob, collections, sys
p = json.load(open(glob.glob(sys.argv[1] + '/*.cpuprofile')[0]))
nodes = {n['id']: n for n in p['nodes']}
self = collections.Counter(p['samples'])
tot = sum(self.values())
agg = collections.Counter()
for nid, c in self.items():
    cf = nodes[nid]['callFrame']
    agg[(cf['functionName'] or '(anon)', cf['url'].split('/')[-1], cf['lineNumber'])] += c
for k, c in agg.most_common(20): print(f'{100 * c / tot:5.1f}%', k)
