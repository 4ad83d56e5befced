#!/usr/bin/env python3
"""Worst-case stack depth of a Thumb-1 (Cortex-M0+) ELF, from its disassembly.

Each function's frame is what its prologue reserves (`push {...}`, `sub sp, #n`, and
`ldr rX, =-n; add sp, rX` for frames over 508 bytes); the call graph is its direct calls
(`bl`). The depth of a root is its frame plus the deepest of its callees', recursively.
Indirect calls (`blx`) are not followed: in this firmware they are the boot ROM's float,
division and memory routines, which rp2040-hal calls through the ROM's function table and
which use a few words of stack. An estimate to set beside a stack-painting measurement on the
board, not a replacement for one.

usage: stack-depth.py ELF ROOT [ROOT...] [--exclude NAME...]
  ROOT: a symbol, or a substring of a demangled one (e.g. main, TIMER_IRQ_0)
  --exclude: callees to leave out (e.g. build_monitor, for the main loop alone)
"""

import argparse
import bisect
import re
import struct
import subprocess
import sys


def load(elf):
    text = subprocess.run(
        ["llvm-objdump", "-d", "--no-show-raw-insn", "-C", elf],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    data = open(elf, "rb").read()
    heads = subprocess.run(
        ["llvm-readelf", "-l", elf], capture_output=True, text=True, check=True
    ).stdout
    segs = [
        (int(p[2], 16), int(p[1], 16), int(p[4], 16))
        for p in (line.split() for line in heads.splitlines())
        if p and p[0] == "LOAD"
    ]

    def word(addr):
        for vaddr, off, size in segs:
            if vaddr <= addr < vaddr + size:
                return struct.unpack_from("<i", data, off + addr - vaddr)[0]
        return 0

    frame, calls, starts = {}, {}, {}
    func = None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^([0-9a-f]+) <(.*)>:", line)
        if m:
            # `$t` / `$d` mark code and data inside a function, not a new function.
            if not m.group(2).startswith("$"):
                func = m.group(2)
                starts[int(m.group(1), 16)] = func
                frame.setdefault(func, 0)
                calls.setdefault(func, set())
            continue
        if func is None:
            continue
        m = re.search(r"\tpush\t\{(.*)\}", line)
        if m:
            frame[func] += 4 * len(m.group(1).split(","))
        m = re.search(r"\tsub\tsp, #(\d+)", line)
        if m:
            frame[func] += int(m.group(1))
        m = re.search(r"\tadd\tsp, (r\d)", line)
        if m:
            for j in range(i - 1, max(i - 6, 0), -1):
                lit = re.search(m.group(1) + r", \[pc.*@ 0x([0-9a-f]+)", lines[j])
                if lit and "\tldr\t" in lines[j]:
                    v = word(int(lit.group(1), 16))
                    if v < 0:
                        frame[func] += -v
                    break
        m = re.search(r"\tbl\t0x([0-9a-f]+)", line)
        if m:
            calls[func].add(int(m.group(1), 16))
    order = sorted(starts)

    def owner(addr):
        k = bisect.bisect_right(order, addr) - 1
        return starts[order[k]] if k >= 0 else hex(addr)

    return frame, {f: {owner(a) for a in c} for f, c in calls.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("elf")
    ap.add_argument("roots", nargs="+")
    ap.add_argument("--exclude", nargs="*", default=[])
    a = ap.parse_args()
    frame, calls = load(a.elf)
    memo = {}

    def skip(name):
        return any(x in name for x in a.exclude)

    def depth(f, path=()):
        if f in path:
            return 0, [f + " (recursion: not counted)"]
        if f in memo:
            return memo[f]
        best = (0, [])
        for c in calls.get(f, ()):
            if not skip(c):
                d = depth(c, path + (f,))
                if d[0] > best[0]:
                    best = d
        memo[f] = (frame.get(f, 0) + best[0], [f] + best[1])
        return memo[f]

    for r in a.roots:
        names = [r] if r in frame else [n for n in frame if r in n]
        if not names:
            print(f"{r}: no such function", file=sys.stderr)
            return 1
        d, path = depth(names[0])
        print(f"{d} bytes: {names[0]}")
        for p in path:
            print(f"  {frame.get(p, 0):6}  {p[:110]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
