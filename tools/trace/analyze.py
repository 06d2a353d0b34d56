#!/usr/bin/env python3
"""Reads a trace written by tools/trace/trace55.c and prints, for block 0 (or the block given),
each role's phases: the median clocks between consecutive event codes, their count and their
share of the role's traced span, and the compute roles' median tile period (event 7 to 7).
Event codes: tools/trace/instrument.py. Usage: analyze.py TRACE.bin [BLOCK]"""
import sys

import numpy as np

ROLES = ("compute warpgroup 0", "compute warpgroup 1", "producers", "loader")


def main():
    data = open(sys.argv[1], "rb").read()
    block = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    counts = np.frombuffer(data[:48], dtype=np.uint32).reshape(3, 4)
    words = np.frombuffer(data[48:], dtype=np.uint32).reshape(3, 4, 4096)
    for role, name in enumerate(ROLES):
        n = int(counts[block][role])
        if n < 2:
            print(f"{name}: no events")
            continue
        code = (words[block][role][:n] >> 24).astype(int)
        clock = (words[block][role][:n] & 0xFFFFFF).astype(np.int64)
        phases = {}
        for i in range(1, n):
            phases.setdefault((code[i - 1], code[i]), []).append(clock[i] - clock[i - 1])
        span = clock[-1] - clock[0]
        tiles = clock[code == 7]
        period = f", tile period {np.median(np.diff(tiles)):.0f}" if len(tiles) > 3 else ""
        print(f"{name}: {n} events over {span} clocks{period}")
        for (a, b), d in sorted(phases.items()):
            print(f"  {a:2d} -> {b:2d}: median {int(np.median(d)):6d}  n {len(d):5d}  "
                  f"share {100 * sum(d) / span:5.1f}%")


if __name__ == "__main__":
    main()
