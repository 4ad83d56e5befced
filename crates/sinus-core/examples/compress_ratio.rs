//! Compression ratio of `sinus_core::compress` on all 48 MIT-BIH records, against 16-bit samples
//! (2 bytes per sample per lead), per lead and for the two leads in one block, beside the naive
//! reference (second difference + one Rice parameter per block and lead) on the same blocks;
//! encode and decode speed.
//!
//! `cargo run --release -p sinus-core --example compress_ratio [BLOCK_SECONDS]` (default 10 s);
//! data from `SINUS_MITDB` or /work/shared/data/mitdb. One line per record, then `ALL`:
//! `record lead0 lead1 per_lead two_lead naive` (ratios), then speed lines.
use sinus_core::compress::{decode, encode, max_encoded_len};
use std::time::{Duration, Instant};

const RECORDS: [u32; 48] = [
    100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 111, 112, 113, 114, 115, 116, 117, 118, 119,
    121, 122, 123, 124, 200, 201, 202, 203, 205, 207, 208, 209, 210, 212, 213, 214, 215, 217, 219,
    220, 221, 222, 223, 228, 230, 231, 232, 233, 234,
];

/// Size in bytes of the naive reference on one block of one lead: the first two samples raw (16
/// bits each), a 4-bit Rice parameter chosen for the block, then each second difference
/// (zigzag-mapped) Rice-coded. Sizes are computed, not coded: the code is fixed by them.
fn naive_bytes(x: &[i32]) -> usize {
    if x.len() <= 2 {
        return 2 * x.len();
    }
    let u: Vec<u64> = x
        .windows(3)
        .map(|w| {
            let e = (w[2] - 2 * w[1] + w[0]) as i64;
            ((e << 1) ^ (e >> 63)) as u64
        })
        .collect();
    let best = (0..16)
        .map(|k| u.iter().map(|&v| (v >> k) + 1 + k).sum::<u64>())
        .min()
        .unwrap();
    ((32 + 4 + best).div_ceil(8)) as usize
}

fn main() {
    let block_s: f64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("block seconds"))
        .unwrap_or(10.0);
    let db = std::env::var("SINUS_MITDB").unwrap_or_else(|_| "/work/shared/data/mitdb".into());
    let mut tot = [0usize; 5]; // lead0, lead1, two-lead, naive, raw bytes per lead
    let (mut t_enc, mut t_dec, mut n_samples) = (Duration::ZERO, Duration::ZERO, 0usize);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    println!("record lead0 lead1 per_lead two_lead naive");
    for r in RECORDS {
        let rec = sinus_io::wfdb::record::read_record(format!("{db}/{r}")).expect("record");
        let sig = &rec.recording.signals;
        let fs = rec.recording.frame_frequency;
        let block = ((block_s * fs).round() as usize).max(1);
        let (a, b) = (&sig[0].samples, &sig[1].samples);
        let mut s = [0usize; 5];
        for (ca, cb) in a.chunks(block).zip(b.chunks(block)) {
            buf.resize(max_encoded_len(2, ca.len()), 0);
            out.resize(2 * ca.len(), 0);
            s[0] += encode(&[ca], &mut buf).unwrap();
            s[1] += encode(&[cb], &mut buf).unwrap();
            let t = Instant::now();
            let len = encode(&[ca, cb], &mut buf).unwrap();
            t_enc += t.elapsed();
            let t = Instant::now();
            decode(&buf[..len], &mut out).unwrap();
            t_dec += t.elapsed();
            assert!(
                out[..ca.len()] == *ca && out[ca.len()..] == *cb,
                "round trip {r}"
            );
            n_samples += 2 * ca.len();
            s[2] += len;
            s[3] += naive_bytes(ca) + naive_bytes(cb);
            s[4] += 2 * ca.len();
        }
        let raw = s[4] as f64;
        println!(
            "{r} {:.3} {:.3} {:.3} {:.3} {:.3}",
            raw / s[0] as f64,
            raw / s[1] as f64,
            2.0 * raw / (s[0] + s[1]) as f64,
            2.0 * raw / s[2] as f64,
            2.0 * raw / s[3] as f64
        );
        for i in 0..5 {
            tot[i] += s[i];
        }
    }
    let raw = tot[4] as f64;
    println!(
        "ALL {:.3} {:.3} {:.3} {:.3} {:.3}",
        raw / tot[0] as f64,
        raw / tot[1] as f64,
        2.0 * raw / (tot[0] + tot[1]) as f64,
        2.0 * raw / tot[2] as f64,
        2.0 * raw / tot[3] as f64
    );
    let ms = |d: Duration| n_samples as f64 / d.as_secs_f64() / 1e6;
    println!(
        "speed encode {:.1} Msamples/s decode {:.1} Msamples/s (two-lead blocks, one core)",
        ms(t_enc),
        ms(t_dec)
    );
}
