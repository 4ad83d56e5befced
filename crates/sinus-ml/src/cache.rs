//! A binary on-disk cache of a [`Dataset`].
//!
//! Layout, all little-endian:
//!
//! ```text
//! magic  "SINUSBT\0"        8 bytes
//! version u32               FORMAT_VERSION
//! key     u64               cache key (see cache_key), 0 when unknown
//! config: before_s f64, after_s f64, length u32, n_leads u32, leads u32 × n_leads,
//!         baseline u8 (0 none, 1 wave medians + 2 f64, 2 high-pass + f64), z_normalise u8, template u8, align u8
//! records: n u32, then n × (len u32, UTF-8 bytes)
//! skipped_edge u64, skipped_missing u64
//! beats: n u64, then n × (record index u32, sample i64, class u8, symbol len u8 + bytes,
//!        rr 8 × f32, waveform leads × length × f32)
//! checksum u64              FNV-1a 64 of every byte before it
//! ```
//!
//! Beats refer to their record by index into the record list, so names are stored once.

use crate::dataset::{AamiClass, Beat, BeatWindowConfig, Dataset};
use sinus_io::{Error, Result, ResultExt};
use sinus_signal::baseline::BaselineMethod;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// File magic.
pub const MAGIC: &[u8; 8] = b"SINUSBT\0";
/// Format version written and accepted.
/// Version 4: beats cut by the causal `sinus_core::beat` path (running template and RR
/// means, fiducial alignment), with the `align` flag.
pub const FORMAT_VERSION: u32 = 4;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a 64-bit hash: simple and fast enough for checksumming a cache (it detects
/// truncation and corruption, not tampering).
fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

fn put_config(out: &mut Vec<u8>, c: &BeatWindowConfig) {
    out.extend_from_slice(&c.before_s.to_le_bytes());
    out.extend_from_slice(&c.after_s.to_le_bytes());
    out.extend_from_slice(&(c.length as u32).to_le_bytes());
    out.extend_from_slice(&(c.leads.len() as u32).to_le_bytes());
    for &l in &c.leads {
        out.extend_from_slice(&(l as u32).to_le_bytes());
    }
    match c.baseline {
        None => out.push(0),
        Some(BaselineMethod::WaveMedians {
            qrs_p_window_s,
            t_window_s,
        }) => {
            out.push(1);
            out.extend_from_slice(&qrs_p_window_s.to_le_bytes());
            out.extend_from_slice(&t_window_s.to_le_bytes());
        }
        Some(BaselineMethod::HighPass { cutoff_hz }) => {
            out.push(2);
            out.extend_from_slice(&cutoff_hz.to_le_bytes());
        }
    }
    out.push(c.z_normalise as u8);
    out.push(c.template as u8);
    out.push(c.align as u8);
}

/// The checksum a cache file ends with, over every byte before it (public for the fuzz
/// target, which repairs it to reach the fields behind it).
pub fn checksum(body: &[u8]) -> u64 {
    fnv1a(FNV_OFFSET, body)
}

/// Serialise `ds` with cache key `key`.
pub fn encode(ds: &Dataset, key: u64) -> Result<Vec<u8>> {
    ds.config.validate()?;
    let wl = ds.config.waveform_len();
    let mut names: Vec<&str> = ds.records.iter().map(String::as_str).collect();
    let mut index: HashMap<&str, u32> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (*n, i as u32))
        .collect();
    for b in &ds.beats {
        if !index.contains_key(b.record.as_str()) {
            index.insert(&b.record, names.len() as u32);
            names.push(&b.record);
        }
    }
    let mut out = Vec::with_capacity(64 + ds.beats.len() * (4 * (wl + 8) + 16));
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&key.to_le_bytes());
    put_config(&mut out, &ds.config);
    out.extend_from_slice(&(names.len() as u32).to_le_bytes());
    for n in &names {
        out.extend_from_slice(&(n.len() as u32).to_le_bytes());
        out.extend_from_slice(n.as_bytes());
    }
    out.extend_from_slice(&ds.skipped_edge.to_le_bytes());
    out.extend_from_slice(&ds.skipped_missing.to_le_bytes());
    out.extend_from_slice(&(ds.beats.len() as u64).to_le_bytes());
    for b in &ds.beats {
        if b.waveform.len() != wl {
            return Err(Error::invalid(format!(
                "beat at {} of record {} has {} waveform values, the configuration gives {wl}",
                b.sample,
                b.record,
                b.waveform.len()
            )));
        }
        let sym = b.symbol.as_bytes();
        let sym_len = u8::try_from(sym.len()).map_err(|_| {
            Error::invalid(format!(
                "beat symbol {:?} is longer than 255 bytes",
                b.symbol
            ))
        })?;
        out.extend_from_slice(&index[b.record.as_str()].to_le_bytes());
        out.extend_from_slice(&b.sample.to_le_bytes());
        out.push(b.class.index() as u8);
        out.push(sym_len);
        out.extend_from_slice(sym);
        for v in b.rr.iter().chain(&b.waveform) {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    let sum = fnv1a(FNV_OFFSET, &out);
    out.extend_from_slice(&sum.to_le_bytes());
    Ok(out)
}

/// A bounds-checked reader over a byte slice.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| Error::truncated(format!("beat cache ends inside {what}")))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }
    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.array::<1>(what)?[0])
    }
    fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
    fn f64(&mut self, what: &str) -> Result<f64> {
        Ok(f64::from_le_bytes(self.array(what)?))
    }
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }
    /// Check that `count` items of at least `min_size` bytes each can still be present, before
    /// allocating room for them.
    fn check_count(&self, count: u64, min_size: usize, what: &str) -> Result<usize> {
        let need = count.checked_mul(min_size as u64);
        match need {
            Some(n) if n <= self.remaining() as u64 => Ok(count as usize),
            _ => Err(Error::truncated(format!(
                "beat cache declares {count} {what}, more than its {} remaining bytes can hold",
                self.remaining()
            ))),
        }
    }
}

/// The header of a cache: its key and configuration (a cheap check before a full decode).
fn decode_header(c: &mut Cursor) -> Result<(u64, BeatWindowConfig)> {
    if c.take(8, "the magic")? != MAGIC {
        return Err(Error::malformed("not a sinus beat cache (bad magic)"));
    }
    let version = c.u32("the version")?;
    if version != FORMAT_VERSION {
        return Err(Error::unsupported(format!(
            "beat cache version {version}; this build reads version {FORMAT_VERSION}"
        )));
    }
    let key = c.u64("the key")?;
    let before_s = c.f64("the configuration")?;
    let after_s = c.f64("the configuration")?;
    let length = c.u32("the configuration")? as usize;
    let n_leads = c.u32("the configuration")?;
    let n_leads = c.check_count(n_leads as u64, 4, "leads")?;
    let mut leads = Vec::with_capacity(n_leads.min(64));
    for _ in 0..n_leads {
        leads.push(c.u32("the lead list")? as usize);
    }
    let baseline = match c.u8("the baseline method")? {
        0 => None,
        1 => Some(BaselineMethod::WaveMedians {
            qrs_p_window_s: c.f64("the baseline method")?,
            t_window_s: c.f64("the baseline method")?,
        }),
        2 => Some(BaselineMethod::HighPass {
            cutoff_hz: c.f64("the baseline method")?,
        }),
        t => {
            return Err(Error::malformed(format!(
                "unknown baseline method tag {t} in beat cache"
            )))
        }
    };
    let z_normalise = match c.u8("the configuration")? {
        0 => false,
        1 => true,
        t => {
            return Err(Error::malformed(format!(
                "z-normalisation flag {t} is not 0 or 1"
            )))
        }
    };
    let template = match c.u8("the configuration")? {
        0 => false,
        1 => true,
        t => return Err(Error::malformed(format!("template flag {t} is not 0 or 1"))),
    };
    let align = match c.u8("the configuration")? {
        0 => false,
        1 => true,
        t => return Err(Error::malformed(format!("align flag {t} is not 0 or 1"))),
    };
    let config = BeatWindowConfig {
        before_s,
        after_s,
        length,
        leads,
        baseline,
        z_normalise,
        template,
        align,
    };
    config.validate()?;
    Ok((key, config))
}

/// Parse a cache file's bytes; returns the dataset and the stored cache key.
pub fn decode(bytes: &[u8]) -> Result<(Dataset, u64)> {
    if bytes.len() < MAGIC.len() + 12 + 8 {
        return Err(Error::truncated(format!(
            "beat cache of {} bytes is shorter than its header",
            bytes.len()
        )));
    }
    if &bytes[..8] != MAGIC {
        return Err(Error::malformed("not a sinus beat cache (bad magic)"));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 8);
    let mut s = [0; 8];
    s.copy_from_slice(sum);
    if fnv1a(FNV_OFFSET, body) != u64::from_le_bytes(s) {
        return Err(Error::checksum(
            "beat cache checksum mismatch (truncated or corrupted)",
        ));
    }
    let mut c = Cursor {
        bytes: body,
        pos: 0,
    };
    let (key, config) = decode_header(&mut c)?;
    let n_names = c.u32("the record count")?;
    let n_names = c.check_count(n_names as u64, 4, "records")?;
    let mut names = Vec::with_capacity(n_names);
    for _ in 0..n_names {
        let len = c.u32("a record name")? as usize;
        let raw = c.take(len, "a record name")?;
        let name = std::str::from_utf8(raw)
            .map_err(|_| Error::malformed("record name in beat cache is not UTF-8"))?;
        names.push(name.to_string());
    }
    let skipped_edge = c.u64("the skip counts")?;
    let skipped_missing = c.u64("the skip counts")?;
    let n_beats = c.u64("the beat count")?;
    let wl = config.waveform_len();
    let beat_min = 4 + 8 + 1 + 1 + 4 * (8 + wl);
    let n_beats = c.check_count(n_beats, beat_min, "beats")?;
    let mut beats = Vec::with_capacity(n_beats);
    for i in 0..n_beats {
        let ri = c.u32("a beat")? as usize;
        let record = names
            .get(ri)
            .ok_or_else(|| {
                Error::malformed(format!("beat {i} refers to record {ri} of {n_names}"))
            })?
            .clone();
        let sample = i64::from_le_bytes(c.array("a beat")?);
        let ci = c.u8("a beat")?;
        let class = AamiClass::from_index(ci as usize)
            .ok_or_else(|| Error::malformed(format!("beat {i} has class index {ci}, not 0..5")))?;
        let sl = c.u8("a beat")? as usize;
        let symbol = std::str::from_utf8(c.take(sl, "a beat symbol")?)
            .map_err(|_| Error::malformed(format!("beat {i} symbol is not UTF-8")))?
            .to_string();
        let mut rr = [0f32; 8];
        for v in &mut rr {
            *v = f32::from_le_bytes(c.array("a beat's RR features")?);
        }
        let raw = c.take(4 * wl, "a beat's waveform")?;
        let waveform = raw
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        beats.push(Beat {
            record,
            sample,
            class,
            symbol,
            waveform,
            rr,
        });
    }
    if c.remaining() != 0 {
        return Err(Error::malformed(format!(
            "{} unexpected bytes after the last beat in beat cache",
            c.remaining()
        )));
    }
    // The dataset's own record list: names beyond it were only added for beats.
    let ds = Dataset {
        beats,
        config,
        records: names,
        skipped_edge,
        skipped_missing,
    };
    Ok((ds, key))
}

impl Dataset {
    /// Write the dataset to `path` (cache key 0), via a temporary file renamed into place so a
    /// reader never sees a half-written cache.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        save_with_key(self, path.as_ref(), 0)
    }

    /// Read a dataset written by [`Dataset::save`] or [`build_cached`].
    pub fn load(path: impl AsRef<Path>) -> Result<Dataset> {
        load_with_key(path.as_ref()).map(|(ds, _)| ds)
    }
}

fn save_with_key(ds: &Dataset, path: &Path, key: u64) -> Result<()> {
    let bytes = encode(ds, key).in_file(path)?;
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, &bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

fn load_with_key(path: &Path) -> Result<(Dataset, u64)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decode(&bytes).in_file(path)
}

/// The cache key of a dataset build: a hash of the format version, the configuration, the
/// record list and the name, size and modification time of every input file (`db_dir/REC.*`).
/// Any change to an input or a setting gives another key, hence another cache file.
pub fn cache_key<S: AsRef<str>>(
    db_dir: impl AsRef<Path>,
    records: &[S],
    config: &BeatWindowConfig,
) -> Result<u64> {
    let db_dir = db_dir.as_ref();
    let mut h = fnv1a(FNV_OFFSET, MAGIC);
    h = fnv1a(h, &FORMAT_VERSION.to_le_bytes());
    let mut cfg = Vec::new();
    put_config(&mut cfg, config);
    h = fnv1a(h, &cfg);
    let mut files: Vec<(String, u64, u128)> = Vec::new();
    let entries = std::fs::read_dir(db_dir).map_err(|e| Error::io(db_dir, e))?;
    let wanted: std::collections::HashSet<&str> = records.iter().map(|r| r.as_ref()).collect();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(db_dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let stem = name.split('.').next().unwrap_or("");
        if name.contains('.') && wanted.contains(stem) {
            let meta = entry.metadata().map_err(|e| Error::io(entry.path(), e))?;
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            files.push((name, meta.len(), mtime));
        }
    }
    files.sort();
    for r in records {
        h = fnv1a(h, r.as_ref().as_bytes());
        h = fnv1a(h, &[0]);
    }
    for (name, len, mtime) in &files {
        h = fnv1a(h, name.as_bytes());
        h = fnv1a(h, &len.to_le_bytes());
        h = fnv1a(h, &mtime.to_le_bytes());
    }
    Ok(h)
}

/// [`Dataset::build`] through a cache in `cache_dir`: a file `beats-KEY.bin` with the current
/// [`cache_key`] is loaded if valid; otherwise (absent, corrupt, other key) the dataset is
/// built and the cache (re)written.
pub fn build_cached<S: AsRef<str> + Sync>(
    cache_dir: impl AsRef<Path>,
    db_dir: impl AsRef<Path>,
    records: &[S],
    config: &BeatWindowConfig,
) -> Result<Dataset> {
    config.validate()?;
    let key = cache_key(db_dir.as_ref(), records, config)?;
    let cache_dir = cache_dir.as_ref();
    let path = cache_dir.join(format!("beats-{key:016x}.bin"));
    if let Ok((ds, stored)) = load_with_key(&path) {
        if stored == key && ds.config == *config {
            return Ok(ds);
        }
    }
    let ds = Dataset::build(db_dir, records, config)?;
    std::fs::create_dir_all(cache_dir).map_err(|e| Error::io(cache_dir, e))?;
    save_with_key(&ds, &path, key)?;
    Ok(ds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample_dataset() -> Dataset {
        let config = BeatWindowConfig {
            length: 4,
            leads: vec![0, 1],
            baseline: Some(BaselineMethod::HIGH_PASS_0_5_HZ),
            ..Default::default()
        };
        let beat = |record: &str, sample, class, symbol: &str, k: f32| Beat {
            record: record.into(),
            sample,
            class,
            symbol: symbol.into(),
            waveform: (0..8).map(|i| i as f32 * k - 0.5).collect(),
            rr: [0.8, 0.9, 0.85, 0.8, 0.94, 1.05, 1.0, 1.06],
        };
        Dataset {
            beats: vec![
                beat("100", 370, AamiClass::N, "N", 0.1),
                beat("100", 662, AamiClass::S, "A", -3.0),
                beat("x", -5, AamiClass::Q, "/", f32::MAX),
            ],
            config,
            records: vec!["100".into(), "101".into()],
            skipped_edge: 2,
            skipped_missing: 1,
        }
    }

    #[test]
    fn round_trip_exact() {
        let ds = sample_dataset();
        let bytes = encode(&ds, 42).unwrap();
        let (back, key) = decode(&bytes).unwrap();
        assert_eq!(key, 42);
        assert_eq!(back.beats, ds.beats);
        assert_eq!(back.config, ds.config);
        // "x" was added to the name table for its beat.
        assert_eq!(back.records, vec!["100", "101", "x"]);
        assert_eq!((back.skipped_edge, back.skipped_missing), (2, 1));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.bin");
        ds.save(&p).unwrap();
        assert_eq!(Dataset::load(&p).unwrap().beats, ds.beats);
    }

    #[test]
    fn garbage_rejected_with_clear_errors() {
        let bytes = encode(&sample_dataset(), 1).unwrap();
        let e = decode(&bytes[..bytes.len() - 1]).unwrap_err();
        assert!(e.to_string().contains("checksum"), "{e}");
        let e = decode(b"hello").unwrap_err();
        assert!(e.to_string().contains("shorter"), "{e}");
        let e = decode(&[0u8; 100]).unwrap_err();
        assert!(e.to_string().contains("magic"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.bin");
        std::fs::write(&p, b"SINUSBT\0garbage-garbage-garbage").unwrap();
        let e = Dataset::load(&p).unwrap_err();
        assert!(e.to_string().contains("bad.bin"), "{e}");
        // A valid checksum over a lying beat count is caught by the size check.
        let mut ds = sample_dataset();
        ds.beats.clear();
        let mut b = encode(&ds, 0).unwrap();
        let n = b.len();
        b[n - 16..n - 8].copy_from_slice(&u64::MAX.to_le_bytes());
        let sum = fnv1a(FNV_OFFSET, &b[..n - 8]);
        b[n - 8..].copy_from_slice(&sum.to_le_bytes());
        let e = decode(&b).unwrap_err();
        assert!(e.to_string().contains("declares"), "{e}");
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = decode(&bytes);
            let mut with_magic = MAGIC.to_vec();
            with_magic.extend_from_slice(&bytes);
            let _ = decode(&with_magic);
        }

        #[test]
        fn truncations_and_flips_rejected(cut in 0usize..1000, flip in 0usize..1000, bit in 0u8..8) {
            let bytes = encode(&sample_dataset(), 9).unwrap();
            let cut = cut % bytes.len();
            prop_assert!(decode(&bytes[..cut]).is_err());
            let mut b = bytes.clone();
            b[flip % bytes.len()] ^= 1 << bit;
            prop_assert!(decode(&b).is_err());
        }

        #[test]
        fn corrupt_body_with_fixed_checksum_never_panics(
            flip in 0usize..1000, val in any::<u8>()
        ) {
            // Recompute the checksum so decoding gets past it and into the body.
            let mut b = encode(&sample_dataset(), 9).unwrap();
            let n = b.len();
            b[flip % (n - 8)] = val;
            let sum = fnv1a(FNV_OFFSET, &b[..n - 8]);
            b[n - 8..].copy_from_slice(&sum.to_le_bytes());
            let _ = decode(&b);
        }
    }

    #[test]
    fn build_cached_on_mitdb() {
        let Some(db) = sinus_io::datasets::mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let config = BeatWindowConfig {
            baseline: None,
            ..Default::default()
        };
        let records = ["100", "103"];
        let a = build_cached(dir.path(), &db, &records, &config).unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 1);
        let b = build_cached(dir.path(), &db, &records, &config).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.records, vec!["100", "103"]);
        let c = a.class_counts();
        assert_eq!(c[1], 33 + 2, "S beats of 100 and 103");
        // Another configuration gets another key and file.
        let other = BeatWindowConfig {
            length: 64,
            ..config.clone()
        };
        assert_ne!(
            cache_key(&db, &records, &config).unwrap(),
            cache_key(&db, &records, &other).unwrap()
        );
        assert_ne!(
            cache_key(&db, &records, &config).unwrap(),
            cache_key(&db, &["100"], &config).unwrap()
        );
        let only_103 = a.subset(&["103"]);
        assert_eq!(only_103.records, vec!["103"]);
        assert!(!only_103.beats.is_empty());
        assert!(only_103.beats.iter().all(|b| b.record == "103"));
        assert_eq!(
            only_103.beats.len() + a.subset(&["100"]).beats.len(),
            a.beats.len()
        );
        // A missing record is a clear error naming it, and writes no cache.
        let e = Dataset::build(&db, &["100", "999"], &config).unwrap_err();
        assert!(e.to_string().contains("999"), "{e}");
        // A corrupted cache file is rebuilt, not trusted.
        let path = files[0].as_ref().unwrap().path();
        std::fs::write(&path, b"junk").unwrap();
        let d = build_cached(dir.path(), &db, &records, &config).unwrap();
        assert_eq!(d, a);
        assert_eq!(Dataset::load(&path).unwrap(), a);
    }
}
