//! Datasets as NumPy `.npy` files, for training peers written in Python (PyTorch, Keras).
//!
//! The `.npy` format (NumPy's "NEP 1", version 1.0): the magic bytes `\x93NUMPY`, the version
//! bytes `1, 0`, a little-endian `u16` header length, then an ASCII Python dict literal
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (n, c, l), }` padded with spaces and ended
//! by `\n` so that the data starts at a multiple of 64 bytes (NumPy itself pads to 64 since
//! 1.21; readers only need 16), then the raw C-order (row-major) data. Only the dtypes used
//! here are written: `<f4` (f32), `|u1` (u8), `|i1` (i8), `<i4` (i32) and `<i8` (i64), all little-endian
//! whatever the host. `np.load(path)` reads every file without `allow_pickle`.
//!
//! [`write_dataset`] writes a [`Dataset`] as:
//!
//! | file | dtype | shape | content |
//! | --- | --- | --- | --- |
//! | `waveforms.npy` | `<f4` | (n, leads, length) | [`Beat::waveform`] |
//! | `rr.npy` | `<f4` | (n, 8) | [`Beat::rr`] (raw, not normalised; names in [`RR_FEATURES`]) |
//! | `labels.npy` | `\|u1` | (n,) | AAMI class index 0..5 = N S V F Q |
//! | `record.npy` | `<i4` | (n,) | index of the beat's record in `records.txt` |
//! | `sample.npy` | `<i8` | (n,) | R-peak sample in its record |
//! | `records.txt` | text | | record names, one a line, in [`Dataset::records`] order |

use crate::dataset::{Beat, Dataset, RR_FEATURES};
use sinus_io::{Error, Result, ResultExt};
use std::io::Write;
use std::path::Path;

/// Element types that can be written to a `.npy` file.
pub trait NpyElement: Copy {
    /// The NumPy dtype string (`descr`), e.g. `<f4`.
    const DESCR: &'static str;
    /// Append the element's little-endian bytes.
    fn put(self, out: &mut Vec<u8>);
}

impl NpyElement for f32 {
    const DESCR: &'static str = "<f4";
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl NpyElement for u8 {
    const DESCR: &'static str = "|u1";
    fn put(self, out: &mut Vec<u8>) {
        out.push(self);
    }
}

impl NpyElement for i8 {
    const DESCR: &'static str = "|i1";
    fn put(self, out: &mut Vec<u8>) {
        out.push(self as u8);
    }
}

impl NpyElement for i32 {
    const DESCR: &'static str = "<i4";
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl NpyElement for i64 {
    const DESCR: &'static str = "<i8";
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

/// Alignment of the data start (NumPy ≥ 1.21 writes 64; the format requires 16).
const NPY_ALIGN: usize = 64;

/// The `.npy` v1.0 header (magic, version, length, padded dict) for `descr` and `shape`.
/// Errors if the header would not fit v1.0's `u16` length (only for absurdly many dimensions).
pub fn npy_header(descr: &str, shape: &[usize]) -> Result<Vec<u8>> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    // A one-element tuple needs its trailing comma in Python: "(n,)".
    let shape_text = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut dict =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    // magic (6) + version (2) + length (2) + dict + '\n' must be a multiple of NPY_ALIGN.
    let unpadded = 10 + dict.len() + 1;
    let pad = (NPY_ALIGN - unpadded % NPY_ALIGN) % NPY_ALIGN;
    dict.extend(std::iter::repeat_n(' ', pad));
    dict.push('\n');
    let len = u16::try_from(dict.len())
        .map_err(|_| Error::invalid(format!("npy header of {} bytes is too long", dict.len())))?;
    let mut out = Vec::with_capacity(10 + dict.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    Ok(out)
}

/// The whole `.npy` file for `data` of `shape` (C order). Errors if the element count of
/// `shape` is not `data.len()`.
pub fn npy_bytes<T: NpyElement>(shape: &[usize], data: &[T]) -> Result<Vec<u8>> {
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| Error::invalid(format!("shape {shape:?} overflows")))?;
    if count != data.len() {
        return Err(Error::invalid(format!(
            "shape {shape:?} holds {count} elements but {} were given",
            data.len()
        )));
    }
    let mut out = npy_header(T::DESCR, shape)?;
    out.reserve(std::mem::size_of_val(data));
    for &v in data {
        v.put(&mut out);
    }
    Ok(out)
}

/// Write `data` of `shape` (C order) to the `.npy` file `path`.
pub fn write_npy<T: NpyElement>(path: impl AsRef<Path>, shape: &[usize], data: &[T]) -> Result<()> {
    let path = path.as_ref();
    let bytes = npy_bytes(shape, data).in_file(path)?;
    let mut f = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    f.write_all(&bytes).map_err(|e| Error::io(path, e))?;
    Ok(())
}

/// Write `dataset` into the directory `dir` (created if missing) as the files listed in the
/// [module documentation](self). Errors if the beats' waveforms do not all have the
/// configuration's `leads × length` values or a beat's record is not in `dataset.records`.
pub fn write_dataset(dir: impl AsRef<Path>, dataset: &Dataset) -> Result<()> {
    let dir = dir.as_ref();
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let leads = dataset.config.channels();
    let length = dataset.config.length;
    let per_beat = dataset.config.waveform_len();
    let n = dataset.beats.len();
    let record_index = |b: &Beat| -> Result<i32> {
        dataset
            .records
            .iter()
            .position(|r| *r == b.record)
            .and_then(|i| i32::try_from(i).ok())
            .ok_or_else(|| {
                Error::invalid(format!(
                    "beat at sample {} names record {:?}, which is not in the dataset's list",
                    b.sample, b.record
                ))
            })
    };
    let mut waveforms = Vec::with_capacity(n.saturating_mul(per_beat));
    let mut rr = Vec::with_capacity(n.saturating_mul(RR_FEATURES.len()));
    let mut labels = Vec::with_capacity(n);
    let mut records = Vec::with_capacity(n);
    let mut samples = Vec::with_capacity(n);
    for (i, b) in dataset.beats.iter().enumerate() {
        if b.waveform.len() != per_beat {
            return Err(Error::invalid(format!(
                "beat {i} has {} waveform values, the configuration {leads}×{length}",
                b.waveform.len()
            )));
        }
        waveforms.extend_from_slice(&b.waveform);
        rr.extend_from_slice(&b.rr);
        labels.push(b.class.index() as u8);
        records.push(record_index(b)?);
        samples.push(b.sample);
    }
    write_npy(dir.join("waveforms.npy"), &[n, leads, length], &waveforms)?;
    write_npy(dir.join("rr.npy"), &[n, RR_FEATURES.len()], &rr)?;
    write_npy(dir.join("labels.npy"), &[n], &labels)?;
    write_npy(dir.join("record.npy"), &[n], &records)?;
    write_npy(dir.join("sample.npy"), &[n], &samples)?;
    let names = dir.join("records.txt");
    let mut text = dataset.records.join("\n");
    text.push('\n');
    std::fs::write(&names, text).map_err(|e| Error::io(&names, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (descr, fortran_order, shape, data offset) parsed back from a v1.0 header, by hand.
    fn parse_header(b: &[u8]) -> (String, bool, Vec<usize>, usize) {
        assert_eq!(&b[..8], b"\x93NUMPY\x01\x00");
        let len = u16::from_le_bytes([b[8], b[9]]) as usize;
        let text = std::str::from_utf8(&b[10..10 + len]).unwrap();
        assert!(text.ends_with('\n'));
        assert!(text.is_ascii());
        let get = |key: &str| {
            let at = text.find(&format!("'{key}': ")).unwrap() + key.len() + 4;
            &text[at..]
        };
        let descr = get("descr");
        let descr = descr[1..descr[1..].find('\'').unwrap() + 1].to_string();
        let fortran = get("fortran_order").starts_with("True");
        let shape = get("shape");
        let shape = &shape[1..shape.find(')').unwrap()];
        let shape = shape
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        (descr, fortran, shape, 10 + len)
    }

    #[test]
    fn header_layout() {
        for (descr, shape) in [
            ("<f4", vec![3usize, 1, 128]),
            ("|u1", vec![7]),
            ("<i8", vec![0]),
            ("<f4", vec![]),
        ] {
            let h = npy_header(descr, &shape).unwrap();
            assert_eq!(h.len() % 64, 0, "{descr} {shape:?}");
            let (d, f, s, off) = parse_header(&h);
            assert_eq!((d.as_str(), f, s, off), (descr, false, shape, h.len()));
        }
        let h = npy_header("|u1", &[7]).unwrap();
        let text = std::str::from_utf8(&h[10..]).unwrap();
        assert!(
            text.starts_with("{'descr': '|u1', 'fortran_order': False, 'shape': (7,), }"),
            "{text}"
        );
        // A 0-d array has shape "()".
        assert!(std::str::from_utf8(&npy_header("<f4", &[]).unwrap()[10..])
            .unwrap()
            .contains("'shape': ()"));
    }

    #[test]
    fn data_follows_header_little_endian() {
        let b = npy_bytes(&[2, 2], &[1.0f32, -2.0, 0.5, 3.0]).unwrap();
        let (_, _, _, off) = parse_header(&b);
        assert_eq!(b.len(), off + 16);
        assert_eq!(&b[off..off + 4], &1.0f32.to_le_bytes());
        assert_eq!(&b[off + 4..off + 8], &(-2.0f32).to_le_bytes());
        let b = npy_bytes(&[2], &[258i32, -1]).unwrap();
        let off = b.len() - 8;
        assert_eq!(&b[off..], &[2, 1, 0, 0, 255, 255, 255, 255]);
        assert!(npy_bytes(&[3], &[1u8, 2]).is_err());
        assert!(npy_bytes(&[usize::MAX, 2], &[1u8]).is_err());
    }

    /// A Python with NumPy, if one is at hand: `SINUS_NUMPY_PYTHON`, the PyTorch peer venv
    /// (`bench/train_peers.sh`), or `python3`.
    fn numpy_python() -> Option<std::path::PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let candidates = [
            std::env::var_os("SINUS_NUMPY_PYTHON").map(Into::into),
            Some(root.join("target/peers-venv-torch/bin/python")),
            Some("python3".into()),
        ];
        candidates.into_iter().flatten().find(|p| {
            std::process::Command::new(p)
                .args(["-c", "import numpy"])
                .output()
                .is_ok_and(|o| o.status.success())
        })
    }

    #[test]
    fn dataset_files_on_record_100() {
        use crate::dataset::BeatWindowConfig;
        let Some(db) = sinus_io::datasets::mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
            return;
        };
        let config = BeatWindowConfig {
            leads: vec![0, 1],
            baseline: None,
            ..Default::default()
        };
        let ds = Dataset::build(&db, &["100"], &config).unwrap();
        let n = ds.beats.len();
        let dir = tempfile::tempdir().unwrap();
        write_dataset(dir.path(), &ds).unwrap();
        let read = |f: &str| std::fs::read(dir.path().join(f)).unwrap();
        for (file, descr, shape, size) in [
            ("waveforms.npy", "<f4", vec![n, 2, 128], 4),
            ("rr.npy", "<f4", vec![n, 8], 4),
            ("labels.npy", "|u1", vec![n], 1),
            ("record.npy", "<i4", vec![n], 4),
            ("sample.npy", "<i8", vec![n], 8),
        ] {
            let b = read(file);
            let (d, f, s, off) = parse_header(&b);
            assert_eq!((d.as_str(), f, &s), (descr, false, &shape), "{file}");
            assert_eq!(
                b.len() - off,
                shape.iter().product::<usize>() * size,
                "{file}"
            );
        }
        let labels = read("labels.npy");
        let labels = &labels[labels.len() - n..];
        assert_eq!(labels.iter().filter(|&&l| l == 1).count(), 33);
        let w = read("waveforms.npy");
        let off = w.len() - n * 256 * 4;
        let second = f32::from_le_bytes(w[off + 4..off + 8].try_into().unwrap());
        assert_eq!(second, ds.beats[0].waveform[1]);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("records.txt")).unwrap(),
            "100\n"
        );
        // Beats naming a record outside the list are refused.
        let mut bad = ds.clone();
        bad.records = vec!["101".into()];
        assert!(write_dataset(dir.path(), &bad).is_err());

        let Some(python) = numpy_python() else {
            eprintln!("note: no Python with NumPy; np.load check skipped");
            return;
        };
        let script = format!(
            "import numpy as np, sys\n\
             d = sys.argv[1]\n\
             w = np.load(d + '/waveforms.npy'); r = np.load(d + '/rr.npy')\n\
             l = np.load(d + '/labels.npy'); s = np.load(d + '/sample.npy')\n\
             assert w.shape == ({n}, 2, 128) and w.dtype == np.float32, (w.shape, w.dtype)\n\
             assert r.shape == ({n}, 8) and l.dtype == np.uint8 and s.dtype == np.int64\n\
             assert int((l == 1).sum()) == 33 and int(s[0]) == {}\n\
             assert w[0, 0, 1] == np.float32('{:e}')\n",
            ds.beats[0].sample, ds.beats[0].waveform[1]
        );
        let out = std::process::Command::new(python)
            .args(["-c", &script])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
