#!/usr/bin/env python3
"""QRS detection, Sinus vs peers, in one run on the same files and scored by the same matcher.

Peers (channel 0, each record's physical signal in mV, the peer's defaults):
  - NeuroKit2 `ecg_clean` + `ecg_peaks`, method "pantompkins1985" and the default "neurokit";
  - wfdb-python `xqrs_detect` and `gqrs_detect` (its Python port of WFDB's gqrs);
  - py-ecg-detectors: Pan-Tompkins, Hamilton, Christov, Engzee, two-average (Elgendi et al.
    2010), stationary wavelet transform (SWT), and its wqrs.
Each peer's detections are written as WFDB annotation files (`wfdb.wrann`, symbol N) to
target/qrs-peers/<peer>/<rec>.<ann> and scored with `sinus eval qrs --test-annotator`, the same
bxb-equivalent matcher (±150 ms, one-to-one) that scores our detectors (`sinus eval qrs
--detector`). Time is detection only (file reading excluded), one thread, wall clock
(perf_counter) around the detector call; for ours, `detect_seconds` of `sinus eval qrs --jobs 1`.

The noise-stress part scores ours and the best peers (by F1 on MIT-BIH) on the NSTDB-style
copies of records 118 and 119 written by `make_noisy_db` (target/nstdb-sim/<kind>_<snr>/),
with the first 5 minutes (clean in every copy) excluded, as EC57 does for the NSTDB.

Run: bash bench/qrs_peers.sh [--quick] [--records 100,101] [--peers xqrs,nk-pantompkins] ...
"""
import os

# One thread for numpy/scipy/numba pools, set before they are imported.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
             "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from importlib.metadata import version  # noqa: E402

import numpy as np  # noqa: E402
import wfdb  # noqa: E402
import wfdb.processing  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "peers"))
from wfdb_parity import MITDB_RECORDS, find_db  # noqa: E402

QUICK_RECORDS = ["100", "105", "108", "118", "119", "203", "208", "232"]
OURS = [("streaming", "Sinus streaming (device)"),
        ("streaming-250", "Sinus streaming, input resampled to 250 Hz"),
        ("offline", "Sinus offline (two leads)")]
OURS_SHORT = {"streaming": "Sinus streaming", "streaming-250": "Sinus streaming 250 Hz",
              "offline": "Sinus offline"}
NOISE_KINDS = ["bw", "ma", "em", "mix"]
NOISE_SNRS = ["24", "18", "12", "6", "0", "-6"]
KIND_NAMES = {"bw": "baseline wander", "ma": "muscle artifact", "em": "electrode motion",
              "mix": "all three mixed"}


class Peer:
    def __init__(self, name, ann, label, make, slow=False, short=None):
        self.name = name      # directory name and --peers key
        self.short = short or name  # for the noise tables
        self.ann = ann        # WFDB annotator (file extension)
        self.label = label    # for the table
        self.make = make      # fs -> (x -> sample indices); setup outside the timed call
        self.slow = slow      # left out by --quick


def all_peers():
    import neurokit2 as nk
    from ecgdetectors import Detectors

    nkv = nk.__version__
    edv = version("py-ecg-detectors")
    wfv = wfdb.__version__

    def neurokit(method):
        def make(fs):
            def run(x):
                cleaned = nk.ecg_clean(x, sampling_rate=fs, method=method)
                _, info = nk.ecg_peaks(cleaned, sampling_rate=fs, method=method)
                return info["ECG_R_Peaks"]
            return run
        return make

    def ecgdet(method):
        return lambda fs: getattr(Detectors(fs), method)

    return [
        Peer("nk-pantompkins", "nkpt", f"NeuroKit2 {nkv} Pan-Tompkins 1985",
             neurokit("pantompkins1985"), short="NeuroKit2 Pan-Tompkins"),
        Peer("nk-neurokit", "nknk", f"NeuroKit2 {nkv} default (neurokit)", neurokit("neurokit"),
             short="NeuroKit2 default"),
        Peer("xqrs", "xqrs", f"wfdb-python {wfv} xqrs",
             lambda fs: lambda x: wfdb.processing.xqrs_detect(sig=x, fs=fs, verbose=False),
             short="xqrs"),
        Peer("gqrs-py", "gqrs", f"wfdb-python {wfv} gqrs (Python port)",
             lambda fs: lambda x: wfdb.processing.gqrs_detect(sig=x, fs=fs),
             short="gqrs (Python)"),
        Peer("ed-pantompkins", "edpt", f"py-ecg-detectors {edv} Pan-Tompkins",
             ecgdet("pan_tompkins_detector"), short="py-ecg Pan-Tompkins"),
        Peer("ed-hamilton", "edha", f"py-ecg-detectors {edv} Hamilton",
             ecgdet("hamilton_detector"), short="py-ecg Hamilton"),
        Peer("ed-christov", "edch", f"py-ecg-detectors {edv} Christov",
             ecgdet("christov_detector"), slow=True, short="py-ecg Christov"),
        Peer("ed-engzee", "edez", f"py-ecg-detectors {edv} Engzee", ecgdet("engzee_detector"),
             slow=True, short="py-ecg Engzee"),
        Peer("ed-elgendi", "edel", f"py-ecg-detectors {edv} two-average (Elgendi 2010)",
             ecgdet("two_average_detector"), short="py-ecg Elgendi"),
        Peer("ed-swt", "edsw", f"py-ecg-detectors {edv} stationary wavelet",
             ecgdet("swt_detector"), short="py-ecg SWT"),
        Peer("ed-wqrs", "edwq", f"py-ecg-detectors {edv} wqrs", ecgdet("wqrs_detector"),
             short="py-ecg wqrs"),
    ]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def write_ann(out_dir, rec, ann, beats):
    if len(beats) == 0:
        # wfdb.wrann refuses an empty file; an MIT annotation file with only the end word.
        with open(os.path.join(out_dir, f"{rec}.{ann}"), "wb") as f:
            f.write(b"\x00\x00")
        return
    wfdb.wrann(rec, ann, sample=beats, symbol=["N"] * len(beats), write_dir=out_dir)


def run_peer(peer, db, records, out_dir, reuse):
    """Detect on each record, write annotations, return {rec: {samples, seconds, error}}."""
    os.makedirs(out_dir, exist_ok=True)
    timing_path = os.path.join(out_dir, "timing.json")
    timing = {}
    if reuse and os.path.isfile(timing_path):
        with open(timing_path) as f:
            timing = json.load(f)
    for rec in records:
        ann_path = os.path.join(out_dir, f"{rec}.{peer.ann}")
        if reuse and rec in timing and os.path.isfile(ann_path):
            continue
        r = wfdb.rdrecord(os.path.join(db, rec), channels=[0])
        x = np.ascontiguousarray(r.p_signal[:, 0], dtype=np.float64)
        detect = peer.make(float(r.fs))
        error = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            try:
                beats = detect(x)
            except Exception as e:  # a peer failing on a record is reported, not fatal
                beats, error = [], f"{type(e).__name__}: {e}"
            seconds = time.perf_counter() - t0
        beats = np.unique(np.asarray(beats, dtype=np.int64))
        beats = beats[(beats >= 0) & (beats < len(x))]
        write_ann(out_dir, rec, peer.ann, beats)
        timing[rec] = {"samples": int(len(x)), "seconds": seconds, "error": error}
        if error:
            log(f"  {peer.name} {rec}: {error}")
        with open(timing_path, "w") as f:
            json.dump(timing, f, indent=1)
    return {rec: timing[rec] for rec in records}


def sinus_eval(sinus, db, records, skip, extra):
    cmd = [sinus, "eval", "qrs", "--db", db, "--records", ",".join(records),
           "--skip", str(skip), "--json", "--jobs", "1"] + extra
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{p.stderr}")
    return json.loads(p.stdout)


def score_peer(sinus, db, records, skip, peer, out_dir):
    return sinus_eval(sinus, db, records, skip,
                      ["--test-annotator", peer.ann, "--test-dir", out_dir])


def run_ours(sinus, db, records, skip, detector, repeat):
    """Best throughput of `repeat` runs (the counts are the same every run)."""
    best = None
    for _ in range(max(1, repeat)):
        r = sinus_eval(sinus, db, records, skip, ["--detector", detector])
        if best is None or (r.get("samples_per_second") or 0) > (best.get("samples_per_second") or 0):
            best = r
    return best


def fmt_pct(v):
    return "-" if v is None else f"{v:.2f}"


def accuracy_table(rows, ref_sps):
    print("| detector | Se % | +P % | F1 % | TP | FN | FP | M samples/s "
          "| Sinus streaming is × faster |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        g, sps = r["gross"], r["sps"]
        speed = f"{sps / 1e6:.2f}" if sps else "-"
        ratio = f"{ref_sps / sps:.1f}" if sps and ref_sps else "-"
        print(f"| {r['label']} | {fmt_pct(g['se'])} | {fmt_pct(g['ppv'])} | {fmt_pct(g['f1'])} "
              f"| {g['tp']} | {g['fn']} | {g['fp']} | {speed} | {ratio} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sinus", default="target/release/sinus", help="the sinus executable")
    ap.add_argument("--db", help="MIT-BIH directory (default: SINUS_MITDB or ../shared/data/mitdb)")
    ap.add_argument("--records", help="comma-separated records (default: all 48)")
    ap.add_argument("--quick", action="store_true",
                    help=f"records {','.join(QUICK_RECORDS)}, no slow peers, noise kind em only")
    ap.add_argument("--peers", help="comma-separated peer names (default: all)")
    ap.add_argument("--skip-slow", action="store_true", help="leave out Christov and Engzee")
    ap.add_argument("--out", default="target/qrs-peers", help="where peer annotations go")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse peer annotations and timings already in --out")
    ap.add_argument("--repeat", type=int, default=3, help="runs of ours; best throughput kept")
    ap.add_argument("--noise-root", default="target/nstdb-sim")
    ap.add_argument("--no-noise", action="store_true", help="MIT-BIH table only")
    ap.add_argument("--noise-kinds", default=",".join(NOISE_KINDS))
    ap.add_argument("--noise-peers", type=int, default=3,
                    help="how many of the best peers (by F1 on MIT-BIH) run on the noisy records")
    ap.add_argument("--noise-skip", type=float, default=300.0,
                    help="seconds excluded at the start of noisy records (EC57: 300)")
    args = ap.parse_args()

    db = args.db or find_db()
    records = (args.records.split(",") if args.records
               else QUICK_RECORDS if args.quick else list(MITDB_RECORDS))
    kinds = ["em"] if args.quick and args.noise_kinds == ",".join(NOISE_KINDS) \
        else args.noise_kinds.split(",")
    peers = all_peers()
    if args.peers:
        wanted = args.peers.split(",")
        unknown = set(wanted) - {p.name for p in peers}
        if unknown:
            sys.exit(f"unknown peers {sorted(unknown)}; known: {[p.name for p in peers]}")
        peers = [p for p in peers if p.name in wanted]
    elif args.quick or args.skip_slow:
        peers = [p for p in peers if not p.slow]

    # --- MIT-BIH -------------------------------------------------------------------------------
    rows = []
    for det, label in OURS:
        log(f"ours: {det}")
        r = run_ours(args.sinus, db, records, 0, det, args.repeat)
        rows.append({"name": det, "label": label, "gross": r["gross"],
                     "sps": r.get("samples_per_second"), "ours": True})
    ref_sps = rows[0]["sps"]
    failures = {}
    for peer in peers:
        log(f"peer: {peer.name} on {len(records)} records")
        out_dir = os.path.join(args.out, peer.name)
        timing = run_peer(peer, db, records, out_dir, args.reuse)
        r = score_peer(args.sinus, db, records, 0, peer, out_dir)
        samples = sum(t["samples"] for t in timing.values())
        seconds = sum(t["seconds"] for t in timing.values())
        errs = {rec: t["error"] for rec, t in timing.items() if t["error"]}
        if errs:
            failures[peer.label] = errs
        rows.append({"name": peer.name, "label": peer.label, "gross": r["gross"],
                     "sps": samples / seconds if seconds > 0 else None, "ours": False,
                     "peer": peer})

    ours_rows = [r for r in rows if r["ours"]]
    peer_rows = sorted((r for r in rows if not r["ours"]), key=lambda r: -(r["gross"]["f1"] or 0))
    cpu = platform.processor() or platform.machine()
    print(f"QRS detection on MIT-BIH, {len(records)} records, channel 0 (Sinus offline: both "
          f"leads), whole records, bxb-equivalent matching ±150 ms (`sinus eval qrs`); "
          f"throughput is detection only, one thread, {cpu}, {os.cpu_count()} cores; "
          f"Sinus offline's samples count both leads.\n")
    accuracy_table(ours_rows + peer_rows, ref_sps)
    for label, errs in failures.items():
        print(f"\n{label} failed on {len(errs)} record(s) (scored as no detections): "
              + "; ".join(f"{rec}: {e}" for rec, e in list(errs.items())[:5]))
    results = {"records": records, "mitdb": [
        {k: v for k, v in r.items() if k != "peer"} for r in ours_rows + peer_rows]}

    # --- noise stress --------------------------------------------------------------------------
    if not args.no_noise:
        best = [r["peer"] for r in peer_rows[:max(0, args.noise_peers)]]
        columns = [(d, OURS_SHORT[d]) for d, _ in OURS] + [(p.name, p.short) for p in best]
        results["noise"] = {}
        for kind in kinds:
            table = {}
            for snr in NOISE_SNRS:
                ndb = os.path.join(args.noise_root, f"{kind}_{snr}")
                if not os.path.isfile(os.path.join(ndb, "RECORDS")):
                    log(f"missing {ndb}: run make_noisy_db (bench/qrs_peers.sh does)")
                    continue
                with open(os.path.join(ndb, "RECORDS")) as f:
                    nrecs = [l.strip() for l in f if l.strip()]
                cells = {}
                for det, _ in OURS:
                    r = sinus_eval(args.sinus, ndb, nrecs, args.noise_skip, ["--detector", det])
                    cells[det] = r["gross"]
                for peer in best:
                    log(f"noise {kind}_{snr}: {peer.name}")
                    out_dir = os.path.join(args.out, "nstdb-sim", f"{kind}_{snr}", peer.name)
                    run_peer(peer, ndb, nrecs, out_dir, args.reuse)
                    cells[peer.name] = score_peer(args.sinus, ndb, nrecs, args.noise_skip, peer,
                                                  out_dir)["gross"]
                table[snr] = cells
            results["noise"][kind] = table
            if not table:
                continue
            print(f"\nNoise stress, {KIND_NAMES.get(kind, kind)} ({kind}): records "
                  f"{', '.join(nrecs)} with noise added from 5 min on in alternating 2-min "
                  f"segments (NSTDB protocol, nst's SNR), first {args.noise_skip:g} s excluded; "
                  f"cells are Se % / +P %.\n")
            print("| SNR (dB) | " + " | ".join(lbl for _, lbl in columns) + " |")
            print("|---:|" + "---:|" * len(columns))
            for snr, cells in table.items():
                print(f"| {snr} | " + " | ".join(
                    f"{fmt_pct(cells[c]['se'])} / {fmt_pct(cells[c]['ppv'])}"
                    for c, _ in columns) + " |")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)


if __name__ == "__main__":
    main()
