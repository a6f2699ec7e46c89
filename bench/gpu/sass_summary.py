#!/usr/bin/env python3
"""Per-kernel instruction counts from `cuobjdump -sass` output: are the
tensor-core (HGMMA) and TMA (UTMALDG) instructions there, any local memory
(LDL/STL = spills), and how the warpgroup syncs look.
usage: sass_summary.py file.sass"""
import re
import sys
from collections import Counter

PATTERNS = ["HGMMA", "UTMALDG", "LDL", "STL", "WARPGROUP.ARRIVE", "WARPGROUP.DEPBAR",
            "BAR.SYNC", "SYNCS", "MUFU.EX2", "SHFL", "USETMAXREG", "STG", "LDS", "STS"]
funcs = {}
cur = None
for line in open(sys.argv[1]):
    m = re.search(r"Function : (\S+)", line)
    if m:
        cur = funcs.setdefault(m.group(1), Counter())
        continue
    if cur is None:
        continue
    m = re.search(r"/\*[0-9a-f]{4,}\*/\s+(@!?U?P\w+\s+)?([A-Z][A-Z0-9_.]*)", line)
    if not m:
        continue
    op = m.group(2)
    cur["total"] += 1
    for p in PATTERNS:
        if op.startswith(p):
            cur[p] += 1
cols = ["total"] + PATTERNS
print(f"{'kernel':32s} " + " ".join(f"{c[:10]:>10s}" for c in cols))
for name, c in funcs.items():
    print(f"{name:32s} " + " ".join(f"{c[k]:10d}" for k in cols))
