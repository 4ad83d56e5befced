"""Whole-analysis benchmark: `sinus analyze` on a synthetic 24 h two-lead Holter (one core) and on
the 48 MIT-BIH records (directory mode, two threads), against NeuroKit2 (`nk.ecg_process` +
`nk.hrv`) on the same 24 h recording, lead 0, read with wfdb-python. Driven by bench/analyze.sh.

Every timed job is a child process pinned with sched_setaffinity; its CPU time and peak RSS come
from os.wait4 (that child alone). NeuroKit2 is first run on the first hour; when 24 times that
exceeds --nk-max-s it is not run on the whole day, and the table shows the hour scaled by 24
(marked so: its HRV has super-linear parts, so the real day would take longer still).
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time

NK_CHILD = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import wfdb, neurokit2 as nk
path, seconds = sys.argv[1], float(sys.argv[2])
t0 = time.perf_counter()
hdr = wfdb.rdheader(path)
sampto = hdr.sig_len if seconds <= 0 else min(hdr.sig_len, int(seconds * hdr.fs))
rec = wfdb.rdrecord(path, channels=[0], sampto=sampto)
x = rec.p_signal[:, 0]
t1 = time.perf_counter()
signals, info = nk.ecg_process(x, sampling_rate=rec.fs)
t2 = time.perf_counter()
hrv = nk.hrv(info["ECG_R_Peaks"], sampling_rate=rec.fs)
t3 = time.perf_counter()
print(json.dumps({"samples": len(x), "beats": len(info["ECG_R_Peaks"]), "read_s": t1 - t0,
                  "process_s": t2 - t1, "hrv_s": t3 - t2, "hrv_columns": int(hrv.shape[1])}))
"""


def run_measured(cmd, cpus, env=None, timeout=None):
    """Run `cmd` pinned to `cpus`: (stdout, stderr, wall s, CPU s, peak RSS MB, exit code or
    "timeout"), CPU time and peak RSS of that child alone (os.wait4)."""
    t0 = time.perf_counter()
    with open(os.devnull, "rb") as devnull:
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.sched_setaffinity(0, cpus)
            os.dup2(devnull.fileno(), 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            os.close(out_r)
            os.close(err_r)
            try:
                os.execvpe(cmd[0], cmd, env or os.environ)
            finally:
                os._exit(127)
    os.close(out_w)
    os.close(err_w)
    bufs = {out_r: [], err_r: []}

    def pump(fd):
        while True:
            b = os.read(fd, 65536)
            if not b:
                break
            bufs[fd].append(b)
        os.close(fd)

    threads = [threading.Thread(target=pump, args=(fd,)) for fd in (out_r, err_r)]
    for t in threads:
        t.start()
    deadline = None if timeout is None else t0 + timeout
    status = None
    while True:
        wpid, st, ru = os.wait4(pid, os.WNOHANG)
        if wpid == pid:
            status = st
            break
        if deadline is not None and time.perf_counter() > deadline:
            os.kill(pid, 9)
            _, st, ru = os.wait4(pid, 0)
            status = "timeout"
            break
        time.sleep(0.02)
    wall = time.perf_counter() - t0
    for t in threads:
        t.join()
    out = b"".join(bufs[out_r]).decode(errors="replace")
    err = b"".join(bufs[err_r]).decode(errors="replace")
    rc = status if status == "timeout" else os.waitstatus_to_exitcode(status)
    return out, err, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, rc


def fmt(v, unit="", nd=2):
    return "-" if v is None else f"{v:.{nd}f}{unit}"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sinus", required=True)
    ap.add_argument("--work", required=True, help="directory for the synthetic Holter")
    ap.add_argument("--mitdb", help="MIT-BIH directory (48 records); skipped when absent")
    ap.add_argument("--nk-max-s", type=float, default=600.0,
                    help="run NeuroKit2 on the whole day only if 24 x its first hour is below this")
    ap.add_argument("--no-peer", action="store_true")
    a = ap.parse_args()
    one = {min(os.sched_getaffinity(0))}
    two = set(sorted(os.sched_getaffinity(0))[:2])
    env1 = dict(os.environ, RAYON_NUM_THREADS="1", OMP_NUM_THREADS="1")
    rec = os.path.join(a.work, "holter-24h")
    if not os.path.exists(rec + ".hea"):
        print("generating the 24 h Holter ...", file=sys.stderr)
        subprocess.run([a.sinus, "--quiet", "synth", "--preset", "holter-24h", "--out", a.work],
                       check=True, stdout=subprocess.DEVNULL)
    rows = []
    out, err, wall, cpu, rss, rc = run_measured(
        [a.sinus, "--quiet", "analyze", rec, "--timings", "--out", os.path.join(a.work, "out")],
        one, env1)
    if rc != 0:
        sys.exit(f"sinus analyze failed ({rc}): {err}")
    stages = [l.strip() for l in err.splitlines() if ": " in l and l.strip().endswith(" s")]
    beats = None
    try:
        with open(os.path.join(a.work, "out", "holter-24h.json")) as f:
            beats = json.load(f)["summary"]["beats"]
    except (OSError, KeyError, ValueError):
        pass
    sinus_row = ("sinus analyze (24 h, 2 leads, everything + reports)", "1", wall, cpu, rss, beats, "")
    rows.append(sinus_row)
    if a.mitdb and os.path.isdir(a.mitdb):
        env2 = dict(os.environ, RAYON_NUM_THREADS="2")
        out, err, w2, c2, r2, rc = run_measured([a.sinus, "--quiet", "analyze", a.mitdb], two, env2)
        n = sum(1 for l in out.splitlines() if l[:3].isdigit())
        rows.append((f"sinus analyze DIR (MIT-BIH, {n} records, 30 min each)", str(len(two)),
                     w2, c2, r2, None, "" if rc == 0 else f"exit {rc}"))
    peer = None
    if not a.no_peer:
        py = sys.executable
        out, err, w, c, r, rc = run_measured([py, "-c", NK_CHILD, rec, "3600"], one, env1)
        if rc != 0:
            print(f"NeuroKit2 failed on the first hour ({rc}):\n{err[-2000:]}", file=sys.stderr)
        else:
            hour = json.loads(out.strip().splitlines()[-1])
            if 24 * w <= a.nk_max_s:
                out, err, W, C, R, rc2 = run_measured([py, "-c", NK_CHILD, rec, "0"], one, env1,
                                                      timeout=a.nk_max_s)
                if rc2 == 0:
                    day = json.loads(out.strip().splitlines()[-1])
                    peer = ("NeuroKit2 0.2.13 ecg_process + hrv (24 h, lead 0)", "1", W, C, R,
                            day["beats"], "")
            if peer is None:
                peer = ("NeuroKit2 0.2.13 ecg_process + hrv (1 h, lead 0) x 24", "1", 24 * w,
                        24 * c, r, hour["beats"] * 24,
                        f"measured on the first hour ({w:.1f} s wall, {r:.0f} MB), scaled x24; "
                        "its HRV is super-linear, so the real day is slower")
            rows.append(peer)
    print("| job | cores | wall s | CPU s | peak RSS MB | beats | x sinus wall | x sinus CPU "
          "| x sinus RSS |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, cores, wall, cpu, rss, nb, note in rows:
        ratio_w = ratio_c = ratio_m = "-"
        if name.startswith("NeuroKit2"):
            ratio_w = f"{wall / sinus_row[2]:.1f}"
            ratio_c = f"{cpu / sinus_row[3]:.1f}" if cpu and sinus_row[3] else "-"
            ratio_m = f"{rss / sinus_row[4]:.1f}" if rss and sinus_row[4] else "-"
        print(f"| {name} | {cores} | {fmt(wall)} | {fmt(cpu)} | {fmt(rss, nd=0)} | "
              f"{nb if nb is not None else '-'} | {ratio_w} | {ratio_c} | {ratio_m} |")
    for name, *_, note in rows:
        if note:
            print(f"\n{name}: {note}")
    print("\nsinus stages (24 h, one core):")
    for s in stages:
        print("  " + s)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores "
          "(wall times on a busy machine are longer; CPU s is what the job itself used)")


if __name__ == "__main__":
    main()
