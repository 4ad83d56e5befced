# Generates the FLAC test fixtures (run inside a venv with `pip install wfdb soundfile`).
import numpy as np
import wfdb

rng = np.random.default_rng(20240601)

def walk(n, lo, hi, step):
    x = np.cumsum(rng.integers(-step, step + 1, n))
    return np.clip(x, lo, hi)

# flac516: 2 signals, 1 sample per frame, 16-bit, with negative values, extremes and missing samples.
n = 400
s0 = walk(n, -32767, 32767, 900)
s1 = walk(n, -32767, 32767, 50) - 20000
s0[10] = -32768  # invalid-sample code -> missing
s1[11] = -32768
s0[20], s1[20] = 32767, -32767
d = np.stack([s0, s1], axis=1).astype(np.int64)
wfdb.wrsamp("flac516", fs=250, units=["mV", "mV"], sig_name=["I", "II"], d_signal=d,
            fmt=["516", "516"], adc_gain=[200.0, 200.0], baseline=[0, 0])

# flac508: 3 signals, 2 samples per frame each, 8-bit.
frames = 150
e = []
for k in range(3):
    x = walk(frames * 2, -127, 127, 6)
    if k == 1:
        x[7] = -128
    e.append(x.astype(np.int64))
rec = wfdb.Record(record_name="flac508", n_sig=3, fs=100, samps_per_frame=[2, 2, 2],
                  sig_len=frames, e_d_signal=e, fmt=["508"] * 3, adc_gain=[10.0] * 3,
                  baseline=[0] * 3, units=["mV"] * 3, sig_name=["a", "b", "c"],
                  file_name=["flac508.flac"] * 3, adc_res=[8] * 3, adc_zero=[0] * 3,
                  block_size=[0] * 3)
rec.set_d_features(expanded=True)
rec.wrsamp(expanded=True)

# flac524: 1 signal, 24-bit.
s = walk(300, -(2**23) + 1, 2**23 - 1, 400000)
s[5] = -(2**23)
wfdb.wrsamp("flac524", fs=500, units=["uV"], sig_name=["x"], d_signal=s.reshape(-1, 1).astype(np.int64),
            fmt=["524"], adc_gain=[1000.0], baseline=[0])

# Expected values as wfdb-python reads them: one frame-ordered sample per line, missing as "M".
for name in ["flac516", "flac508", "flac524"]:
    r = wfdb.rdrecord(name, physical=False, smooth_frames=False)
    spf = r.samps_per_frame
    sigs = r.e_d_signal
    invalid = {"508": -128, "516": -32768, "524": -(2**23)}
    with open(name + ".expected", "w") as f:
        for t in range(r.sig_len):
            for k, m in enumerate(spf):
                for j in range(m):
                    v = int(sigs[k][t * m + j])
                    f.write("M\n" if v == invalid[r.fmt[k]] else f"{v}\n")
