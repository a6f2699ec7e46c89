#!/usr/bin/env python3
"""Extracts the PTX text from the gpu.binary that
`mlir-opt -gpu-lower-to-nvvm-pipeline="... cubin-format=isa"` prints.

usage: extract_ptx.py lowered.mlir out.ptx

The object is printed as `#gpu.object<#nvvm.target<...>, properties = {...},
assembly = "..."` (MLIR 22). MLIR string escapes are \\XX (two hex digits),
\\\\ and \\"."""
import re
import sys


def unescape(body: str) -> str:
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in '\\"':
            out.append(nxt)
            i += 2
        elif nxt == "n":
            out.append("\n")
            i += 2
        elif nxt == "t":
            out.append("\t")
            i += 2
        else:
            out.append(chr(int(body[i + 1:i + 3], 16)))
            i += 3
    return "".join(out)


def main():
    text = open(sys.argv[1]).read()
    m = re.search(r'assembly\s*=\s*"((?:[^"\\]|\\.)*)"', text, re.S)
    if not m:
        m = re.search(r'#gpu\.object<#nvvm\.target<[^>]*>,\s*"((?:[^"\\]|\\.)*)"',
                      text, re.S)
    if not m:
        sys.exit("extract_ptx: no PTX assembly found in " + sys.argv[1])
    ptx = unescape(m.group(1))
    with open(sys.argv[2], "w") as f:
        f.write(ptx)


if __name__ == "__main__":
    main()
