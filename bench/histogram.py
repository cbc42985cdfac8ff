"""Percentiles of Prometheus histograms between two scrapes of /observe/metrics.

    python3 bench/histogram.py before.txt after.txt metric_name [metric_name ...]
prints one line per metric: name=count p50 p90 p99 p99.9, each as the upper bound (ms) of the bucket that holds it.
"""
import re
import sys
from collections import defaultdict


def buckets(path):
    counts = defaultdict(dict)
    for line in open(path):
        match = re.match(r'(\w+)_bucket\{(.*)\} (\S+)', line)
        if match:
            le = re.search(r'le="([^"]+)"', match.group(2)).group(1)
            counts[match.group(1)][float('inf') if le == '+Inf' else float(le)] = float(match.group(3))
    return counts


before, after = buckets(sys.argv[1]), buckets(sys.argv[2])
for name in sys.argv[3:]:
    bounds = sorted(after[name])
    counts = [after[name][b] - before[name].get(b, 0) for b in bounds]
    total = counts[-1] if counts else 0
    quantiles = []
    for q in (0.5, 0.9, 0.99, 0.999):
        bound = next((b for b, c in zip(bounds, counts) if total and c >= q * total), float('nan'))
        quantiles.append(f"{bound * 1000:.1f}")
    print(f"{name}={int(total)} {' '.join(quantiles)}")
