#!/usr/bin/env python3
"""The device pipeline on an emulated Cortex-M0, checked against the host, and its budget.

For each case, `sinus edge simulate` writes the codes the device would sample (AD8232-like
front end, 250 Hz, 12 bit) and the events the host's `Monitor` gives for them; qemu's micro:bit
(a Cortex-M0) runs `firmware/qemu-m0` on the same codes. The events must be identical, byte for
byte. The firmware also reports what the run cost (instructions counted by qemu's -icount, the
stack's high-water marks by painting); the ELF gives flash and static RAM. Prints the budget
table of the README.

Usage: python3 scripts/device-check.py SINUS_BINARY FIRMWARE_ELF [--db MITDB] [--json OUT]
Exit status 1 when any case differs or fails.
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

CORE_HZ = 133e6  # RP2040 at its rated clock
SAMPLE_HZ = 250.0
QEMU = [
    "qemu-system-arm",
    "-cpu", "cortex-m0",
    "-M", "microbit",
    # The RP2040's 264 KB of SRAM instead of the nRF51's 16 KB (see firmware/qemu-m0/memory.x).
    "-global", "nrf51-soc.sram-size=270336",
    "-nographic",
    "-semihosting-config", "enable=on,target=native",
    # Virtual time advances 1 ns per instruction: the firmware's timer counts instructions.
    "-icount", "shift=0",
    "-kernel",
]


def elf_sections(path):
    """Section name -> (address, size, type) of a 32-bit little-endian ELF."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 1 or data[5] != 1:
        raise SystemExit(f"{path}: not a 32-bit little-endian ELF")
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
    headers = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize) for i in range(shnum)]
    names = headers[shstrndx]
    out = {}
    for h in headers:
        name_off, stype, _flags, addr, off, size = h[:6]
        start = names[4] + name_off
        name = data[start:data.index(b"\0", start)].decode()
        out[name] = (addr, size, stype)
    return out


def run_case(sinus, elf, name, record, extra, workdir):
    d = os.path.join(workdir, name)
    os.makedirs(d, exist_ok=True)
    cmd = [sinus, "-q", "edge", "simulate", "--firmware-input", os.path.join(d, "input.bin"),
           "--events-hex", os.path.join(d, "host.hex"), "--json"] + extra
    if record:
        cmd.insert(4, record)
    sim = subprocess.run(cmd, capture_output=True, text=True)
    if sim.returncode != 0:
        return {"case": name, "ok": False, "error": "sinus: " + sim.stderr.strip()}
    t0 = time.time()
    m0 = subprocess.run(QEMU + [elf], cwd=d, capture_output=True, text=True, timeout=1800)
    wall = time.time() - t0
    if m0.returncode != 0:
        return {"case": name, "ok": False, "error": f"qemu exit {m0.returncode}: {m0.stderr.strip()}"}
    lines = m0.stdout.splitlines()
    budget = [l for l in lines if l.startswith("budget ")]
    events = [l for l in lines if not l.startswith("budget ")]
    with open(os.path.join(d, "host.hex")) as f:
        host = f.read().splitlines()
    first_diff = next((i for i, (a, b) in enumerate(zip(host, events)) if a != b), None)
    if first_diff is None and len(host) != len(events):
        first_diff = min(len(host), len(events))
    if len(budget) != 1:
        return {"case": name, "ok": False, "error": "no budget line from the firmware"}
    b = dict(kv.split("=", 1) for kv in budget[0].split()[1:])
    samples = int(b["samples"])
    per_tick = float(b["insns_per_tick"])
    insns = int(b["ticks"]) * per_tick
    seconds = samples / SAMPLE_HZ
    return {
        "case": name,
        "ok": first_diff is None,
        "first_difference": first_diff,
        "events": len(host),
        "device_events": len(events),
        "samples": samples,
        "seconds": seconds,
        "insns_per_s": insns / seconds if seconds else 0.0,
        "worst_insns_per_sample": int(b["worst_ticks"]) * per_tick,
        "finish_insns": int(b["finish_ticks"]) * per_tick,
        "init_stack": int(b["init_stack_bytes"]),
        "run_stack": int(b["run_stack_bytes"]),
        "qemu_wall_s": wall,
        "host": json.loads(sim.stdout)["total"],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sinus")
    ap.add_argument("elf")
    ap.add_argument("--db", default=os.environ.get("SINUS_MITDB",
                    os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mitdb")))
    ap.add_argument("--json")
    ap.add_argument("--quick", action="store_true", help="5-minute excerpts only")
    args = ap.parse_args()
    args.sinus = os.path.abspath(args.sinus)
    args.elf = os.path.abspath(args.elf)
    db = args.db
    minutes = ["--seconds", "300"] if args.quick else []
    cases = [
        # (name, record, extra arguments)
        ("demo", None, []),
        ("demo-leads-off", None, ["--leads-off", "20-31.5", "--leads-off", "100-100.5"]),
    ]
    if os.path.isdir(db):
        for rec in ["100", "203", "207", "119"]:
            cases.append((f"mitdb-{rec}", os.path.join(db, rec), minutes))
    else:
        print(f"note: {db} not found; MIT-BIH cases skipped (set SINUS_MITDB)", file=sys.stderr)
    secs = elf_sections(args.elf)
    flash = sum(secs.get(s, (0, 0, 0))[1] for s in (".vector_table", ".text", ".rodata", ".data"))
    static_ram = sum(secs.get(s, (0, 0, 0))[1] for s in (".data", ".bss", ".uninit"))
    model_bytes = os.path.getsize(os.path.join(os.path.dirname(__file__), "..", "crates",
                                               "sinus-ml", "models", "beatnet-1lead.int8.snnm"))
    results = []
    with tempfile.TemporaryDirectory(prefix="sinus-m0-") as work:
        for name, rec, extra in cases:
            r = run_case(args.sinus, args.elf, name, rec, extra, work)
            results.append(r)
            status = "identical" if r["ok"] else f"DIFFERENT ({r.get('error') or 'event ' + str(r.get('first_difference'))})"
            print(f"  {name:<16} {status}"
                  + (f": {r['events']} events, {r['seconds'] / 60:.1f} min of ECG, qemu {r['qemu_wall_s']:.1f} s"
                     if r["ok"] else ""), flush=True)
    ok = [r for r in results if r["ok"]]
    if ok:
        total_s = sum(r["seconds"] for r in ok)
        ips = sum(r["insns_per_s"] * r["seconds"] for r in ok) / total_s
        worst = max(r["worst_insns_per_sample"] for r in ok)
        init_stack = max(r["init_stack"] for r in ok)
        run_stack = max(r["run_stack"] for r in ok)
        ram = static_ram + max(init_stack, run_stack)
        print()
        print("| budget (Cortex-M0, qemu) | measured | goal |")
        print("|---|---|---|")
        print(f"| RAM: static (ELF .data+.bss+.uninit) | {static_ram / 1024:.1f} KB | |")
        print(f"| RAM: stack, start-up / running (painting) | {init_stack / 1024:.1f} KB / {run_stack / 1024:.1f} KB | |")
        print(f"| **RAM total** (static + deepest stack) | **{ram / 1024:.1f} KB** | ≤ 64 KB |")
        print(f"| flash: whole firmware (.text+.rodata+.data) | {flash / 1024:.1f} KB | |")
        print(f"| **flash: model** | **{model_bytes / 1024:.1f} KB** | ≤ 64 KB |")
        print(f"| instructions per second of ECG (mean over {total_s / 3600:.2f} h) | {ips / 1e6:.2f} M | |")
        print(f"| **share of one 133 MHz core** at 1 / 2 cycles per instruction | **{100 * ips / CORE_HZ:.1f} % / {200 * ips / CORE_HZ:.1f} %** | < 10 % |")
        print(f"| worst sample (a beat classified) | {worst / 1e6:.2f} M instructions = {1e3 * worst / CORE_HZ:.0f}–{2e3 * worst / CORE_HZ:.0f} ms | |")
        summary = {"static_ram": static_ram, "init_stack": init_stack, "run_stack": run_stack,
                   "ram_total": ram, "flash": flash, "model_bytes": model_bytes,
                   "insns_per_s": ips, "core_share_cpi1": ips / CORE_HZ, "worst_insns_per_sample": worst}
    else:
        summary = {}
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cases": results, "budget": summary, "sections": secs}, f, indent=1)
    bad = [r["case"] for r in results if not r["ok"]]
    if bad:
        print(f"FAILED: the emulated device and the host differ or failed on: {', '.join(bad)}", file=sys.stderr)
        sys.exit(1)
    print(f"\n{len(results)} passed, 0 failed")


if __name__ == "__main__":
    main()
