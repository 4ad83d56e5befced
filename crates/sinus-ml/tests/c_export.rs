//! The C export: the header of each shipped int8 model with test vectors, compiled with the C99
//! runtime of `crates/sinus-ml/c/` by the host's C compiler (`$CC`, else `cc`), must reproduce
//! our int8 logits and classes bit for bit. Vectors: synthetic inputs (both ends of the int8
//! range) and, when MIT-BIH is at hand, DS2 beats.
//! Skipped, with a note, when no C compiler runs.

use sinus_ml::model_export::{c, parse_int8, TestVectors};
use std::path::{Path, PathBuf};
use std::process::Command;

fn compiler() -> Option<String> {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    Command::new(&cc)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
        .then_some(cc)
}

fn c_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("c")
}

/// Compile the check program for `header` (in `dir`) and run it; returns its stdout.
fn build_and_run(cc: &str, dir: &Path, header: &str) -> Result<String, String> {
    let exe = dir.join("snnm_check");
    let out = Command::new(cc)
        .args([
            "-std=c99",
            "-O2",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
        ])
        .arg(format!("-DSINUS_MODEL_HEADER=\"{header}\""))
        .arg("-I")
        .arg(dir)
        .arg(c_dir().join("snnm.c"))
        .arg(c_dir().join("snnm_check.c"))
        .arg("-o")
        .arg(&exe)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("compile: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let run = Command::new(&exe).output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    if !run.status.success() {
        return Err(format!("{stdout}{}", String::from_utf8_lossy(&run.stderr)));
    }
    Ok(stdout)
}

#[test]
fn c_runtime_reproduces_the_rust_kernels() {
    let Some(cc) = compiler() else {
        eprintln!("note: no C compiler ($CC or cc); C export check skipped");
        return;
    };
    let db = sinus_io::datasets::mitdb_for_tests(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    for name in ["beatnet.int8.snnm", "beatnet-1lead.int8.snnm"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .join(name);
        let model = parse_int8(std::fs::read(&path).unwrap()).unwrap();
        let mut v = TestVectors::synthetic(&model, 200, 7).unwrap();
        if let Some(db) = &db {
            let real = TestVectors::ds2(&model, db, 300).unwrap();
            assert!(real.len() >= 290, "{}", real.len());
            v.waveforms.extend(real.waveforms);
            v.features.extend(real.features);
            v.logits.extend(real.logits);
            v.logits_tflite_ref.extend(real.logits_tflite_ref);
            v.classes.extend(real.classes);
            v.labels.extend(real.labels);
            v.origin.extend(real.origin);
        }
        let header = format!("{name}.h");
        std::fs::write(
            dir.path().join(&header),
            c::header(&model, &v, &path.display().to_string()),
        )
        .unwrap();
        let out = build_and_run(&cc, dir.path(), &header).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            out.contains(&format!("{} vectors", v.len())) && out.contains("identical"),
            "{out}"
        );
    }
}

/// A damaged model is refused by the C parser too (CRC), with a message and exit status 1.
#[test]
fn c_runtime_refuses_a_damaged_model() {
    let Some(cc) = compiler() else {
        eprintln!("note: no C compiler ($CC or cc); C export check skipped");
        return;
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/beatnet-1lead.int8.snnm");
    let model = parse_int8(std::fs::read(path).unwrap()).unwrap();
    let v = TestVectors::synthetic(&model, 1, 1).unwrap();
    let text = c::header(&model, &v, "damaged");
    // Change one bit of the 200th model byte (past the header fields): only the CRC notices.
    let at = text.match_indices("0x").nth(200).unwrap().0 + 3;
    let mut bytes = text.into_bytes();
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("damaged.h"), bytes).unwrap();
    let err = build_and_run(&cc, dir.path(), "damaged.h").unwrap_err();
    assert!(err.contains("CRC-32 mismatch"), "{err}");
}
