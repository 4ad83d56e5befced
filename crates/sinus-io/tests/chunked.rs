//! `sinus_io::chunked`: range reads give exactly the samples of a whole read, for every format
//! the writers produce, whatever the chunk size (boundaries inside 212 pairs and 310/311
//! triplets included), and reading a long record in chunks allocates about one chunk.

use sinus_io::chunked::ChunkedReader;
use sinus_io::edf::{read_edf, write_edf, write_edf_plus, EdfAnnotation};
use sinus_io::wfdb::format::SignalFormat;
use sinus_io::wfdb::record::read_record;
use sinus_io::wfdb::write::write_record;
use sinus_io::{Recording, Signal, MISSING};
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts live bytes and their peak, so that a test can bound what a stretch of code holds.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Serialises the tests: the allocation test must not see the others' allocations.
static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A recording with `leads` signals (`spf` samples per frame each), values within `range`,
/// some missing when `with_missing`.
fn recording(frames: u64, spf: &[u32], range: (i32, i32), with_missing: bool) -> Recording {
    let span = (range.1 as i64 - range.0 as i64).min(4000);
    let signals = spf
        .iter()
        .enumerate()
        .map(|(k, &n)| {
            let samples = (0..frames * u64::from(n))
                .map(|i| {
                    if with_missing && (i + 17 * k as u64).is_multiple_of(997) {
                        MISSING
                    } else {
                        // A triangle wave with small steps (format 8 stores differences).
                        let t = ((i as i64 + 31 * k as i64) % 200 - 100).abs() - 50;
                        (t * span / 120).clamp(range.0 as i64 + 1, range.1 as i64) as i32
                    }
                })
                .collect();
            Signal {
                description: format!("lead {k}"),
                units: "mV".into(),
                gain: 200.0,
                baseline: 0,
                adc_resolution: 12,
                adc_zero: 0,
                samples_per_frame: n,
                samples,
            }
        })
        .collect();
    Recording {
        name: "r".into(),
        frame_frequency: 250.0,
        frames,
        base_datetime: None,
        signals,
        info: Vec::new(),
    }
}

/// Reads `path` in chunks of `chunk` frames and checks every sample against `whole`.
fn check_chunks(path: &Path, whole: &Recording, chunk: u64) {
    let reader = ChunkedReader::open(path).unwrap();
    assert_eq!(reader.frames(), whole.frames, "{path:?}");
    assert_eq!(reader.frame_frequency(), whole.frame_frequency);
    assert_eq!(reader.signals().len(), whole.signals.len());
    let mut got: Vec<Vec<i32>> = vec![Vec::new(); whole.signals.len()];
    let mut start = 0;
    while start < reader.frames() {
        let len = chunk.min(reader.frames() - start);
        let part = reader.read(start, len).unwrap();
        assert_eq!(part.frames, len);
        for (g, s) in got.iter_mut().zip(&part.signals) {
            assert_eq!(s.samples.len() as u64, len * u64::from(s.samples_per_frame));
            g.extend_from_slice(&s.samples);
        }
        start += len;
    }
    for (k, (g, w)) in got.iter().zip(&whole.signals).enumerate() {
        assert!(g == &w.samples, "{path:?} chunk {chunk} signal {k} differs");
        let m = &reader.signals()[k];
        assert_eq!(
            (m.gain, m.baseline, &m.description),
            (w.gain, w.baseline, &w.description)
        );
    }
}

const ALL_FORMATS: [SignalFormat; 10] = [
    SignalFormat::Fmt8,
    SignalFormat::Fmt16,
    SignalFormat::Fmt24,
    SignalFormat::Fmt32,
    SignalFormat::Fmt61,
    SignalFormat::Fmt80,
    SignalFormat::Fmt160,
    SignalFormat::Fmt212,
    SignalFormat::Fmt310,
    SignalFormat::Fmt311,
];

#[test]
fn every_wfdb_format_reads_the_same_in_chunks() {
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    for f in ALL_FORMATS {
        // Three signals (odd, so 212 pairs and 310 triplets straddle frames) and one at two
        // samples per frame.
        for spf in [&[1u32, 1, 1][..], &[1, 2][..]] {
            let rec = recording(2_003, spf, f.valid_range(), f != SignalFormat::Fmt8);
            let name = format!("f{}_{}", f.code(), spf.len());
            write_record(dir.path(), &name, &rec, f).unwrap();
            let path = dir.path().join(&name);
            let whole = read_record(&path).unwrap().recording;
            assert_eq!(whole.signals[0].samples, rec.signals[0].samples);
            for chunk in [1, 2, 3, 4, 5, 7, 64, 1000, 2_003, 5_000] {
                check_chunks(&path, &whole, chunk);
            }
        }
    }
}

#[test]
fn skew_byte_offset_and_segments_read_the_same_in_chunks() {
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Skew and a byte offset, edited into a written record: signal 1 skewed by 3 frames, 7
    // bytes of junk before the samples.
    for f in [
        SignalFormat::Fmt212,
        SignalFormat::Fmt310,
        SignalFormat::Fmt16,
    ] {
        let rec = recording(1_501, &[1, 1, 1], f.valid_range(), true);
        let name = format!("s{}", f.code());
        write_record(d, &name, &rec, f).unwrap();
        let dat = d.join(format!("{name}.dat"));
        let mut bytes = vec![0xA5u8; 7];
        bytes.extend(std::fs::read(&dat).unwrap());
        std::fs::write(&dat, bytes).unwrap();
        let hea = d.join(format!("{name}.hea"));
        let text = std::fs::read_to_string(&hea).unwrap();
        let code = f.code().to_string();
        let edited: Vec<String> = text
            .lines()
            .enumerate()
            .map(|(i, line)| {
                let mut fields: Vec<String> = line.split(' ').map(String::from).collect();
                if i > 0 && fields.len() > 1 && fields[1] == code {
                    let skew = if i == 2 { ":3" } else { "" };
                    fields[1] = format!("{code}{skew}+7");
                }
                fields.join(" ")
            })
            .collect();
        std::fs::write(&hea, edited.join("\n") + "\n").unwrap();
        let path = d.join(&name);
        let whole = read_record(&path).unwrap().recording;
        assert_eq!(whole.signals[1].samples[0], rec.signals[1].samples[3]);
        assert_eq!(*whole.signals[1].samples.last().unwrap(), MISSING);
        for chunk in [1, 2, 3, 100, 1_501] {
            check_chunks(&path, &whole, chunk);
        }
    }
    // A multi-segment record: two segments around a null one.
    let a = recording(700, &[1, 1], SignalFormat::Fmt212.valid_range(), true);
    let b = recording(900, &[1, 1], SignalFormat::Fmt212.valid_range(), false);
    write_record(d, "m_1", &a, SignalFormat::Fmt212).unwrap();
    write_record(d, "m_2", &b, SignalFormat::Fmt16).unwrap();
    std::fs::write(d.join("m.hea"), "m/3 2 250 1900\nm_1 700\n~ 300\nm_2 900\n").unwrap();
    let path = d.join("m");
    let whole = read_record(&path).unwrap().recording;
    assert_eq!(whole.frames, 1900);
    for chunk in [1, 3, 299, 301, 700, 1900] {
        check_chunks(&path, &whole, chunk);
    }
}

#[test]
fn edf_reads_the_same_in_chunks() {
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let rec = recording(5_000, &[1, 1, 2], (-30_000, 30_000), false);
    let plain = dir.path().join("plain.edf");
    write_edf(&plain, &rec).unwrap();
    let anns: Vec<EdfAnnotation> = (0..15)
        .map(|i| EdfAnnotation {
            onset: i as f64 * 1.25,
            duration: None,
            text: format!("event {i}"),
        })
        .collect();
    let plus = dir.path().join("plus.edf");
    write_edf_plus(&plus, &rec, &anns).unwrap();
    for path in [&plain, &plus] {
        let whole = read_edf(path).unwrap();
        for chunk in [1, 7, 249, 250, 251, 1000, 5_000] {
            check_chunks(path, &whole.recording, chunk);
        }
        let reader = ChunkedReader::open(path).unwrap();
        assert!(reader.streams());
        let scan = reader.scan().unwrap();
        assert_eq!(scan.edf_annotations, whole.annotations);
        assert_eq!(scan.missing, vec![0; 3]);
    }
    // Out of range: an error naming the file, not a panic.
    let reader = ChunkedReader::open(&plain).unwrap();
    let e = reader.read(4_999, 2).unwrap_err();
    assert!(e.to_string().contains("plain.edf"), "{e}");
}

/// An EDF file whose length is not a whole number of data records (padding marked "no
/// sample"), with missing samples, some of them at a data record's end in every signal: the
/// chunked reader gives the true length and the same samples as a whole read.
#[test]
fn edf_padding_and_missing_samples_read_the_same_in_chunks() {
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    for frames in [1_001u64, 4_321] {
        let mut rec = recording(frames, &[1, 1], (-2_000, 2_000), true);
        // A whole frame missing in every signal, mid-file.
        for s in &mut rec.signals {
            s.samples[500] = MISSING;
        }
        let path = dir.path().join(format!("pad{frames}.edf"));
        write_edf(&path, &rec).unwrap();
        let whole = read_edf(&path).unwrap();
        assert_eq!(whole.recording.frames, frames);
        for chunk in [1, 13, 360, 999, 5_000] {
            check_chunks(&path, &whole.recording, chunk);
        }
    }
}

#[test]
fn scan_counts_missing_samples() {
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let rec = recording(300_001, &[1, 1], SignalFormat::Fmt212.valid_range(), true);
    write_record(dir.path(), "c", &rec, SignalFormat::Fmt212).unwrap();
    let scan = ChunkedReader::open(dir.path().join("c"))
        .unwrap()
        .scan()
        .unwrap();
    let want: Vec<u64> = rec
        .signals
        .iter()
        .map(|s| s.samples.iter().filter(|&&v| v == MISSING).count() as u64)
        .collect();
    assert_eq!(scan.missing, want);
    assert!(scan.warnings.is_empty(), "{:?}", scan.warnings);
    // A wrong checksum is reported as a whole read reports it.
    let hea = dir.path().join("c.hea");
    let text = std::fs::read_to_string(&hea).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut fields: Vec<String> = lines[2].split(' ').map(String::from).collect();
    let right: i16 = fields[6].parse().unwrap();
    fields[6] = right.wrapping_add(1).to_string();
    lines[2] = fields.join(" ");
    std::fs::write(&hea, lines.join("\n") + "\n").unwrap();
    let whole = read_record(dir.path().join("c")).unwrap();
    let scan = ChunkedReader::open(dir.path().join("c"))
        .unwrap()
        .scan()
        .unwrap();
    assert_eq!(scan.warnings, whole.warnings);
    assert_eq!(scan.warnings.len(), 1);
}

#[test]
fn reading_in_chunks_allocates_about_one_chunk() {
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    // Two million frames of two signals: 16 MB of samples read whole.
    let frames = 2_000_000u64;
    let rec = recording(frames, &[1, 1], SignalFormat::Fmt212.valid_range(), true);
    write_record(dir.path(), "big", &rec, SignalFormat::Fmt212).unwrap();
    let edf = dir.path().join("big.edf");
    write_edf(&edf, &rec).unwrap();
    drop(rec);
    for path in [dir.path().join("big"), edf] {
        let reader = ChunkedReader::open(&path).unwrap();
        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let chunk = 20_000u64;
        let mut start = 0;
        let mut missing = 0usize;
        while start < frames {
            let part = reader.read(start, chunk).unwrap();
            missing += part.signals[0]
                .samples
                .iter()
                .filter(|&&v| v == MISSING)
                .count();
            start += chunk;
        }
        let peak = PEAK.load(Ordering::Relaxed) - base;
        // EDF stores a missing sample as -32768, which reads back as a value.
        assert!(missing > 0 || path.extension().is_some());
        // A chunk's samples are 160 KB; the reader's buffers add about 200 KB.
        assert!(
            peak < 1_000_000,
            "{path:?}: peak {peak} bytes above the start"
        );
    }
}
