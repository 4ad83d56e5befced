//! `sinus export-model`: both formats on the shipped models, and bad model files.

mod common;
use common::{sinus, stderr, stdout};
use std::path::Path;

fn shipped(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../sinus-ml/models")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn c_header_with_vectors_and_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("beatnet.h");
    let o = sinus(&[
        "export-model",
        &shipped("beatnet.int8.snnm"),
        "--format",
        "c",
        "--out",
        out.to_str().unwrap(),
        "--vectors",
        "5",
        "--with-runtime",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("5 test vectors"), "{}", stdout(&o));
    let h = std::fs::read_to_string(&out).unwrap();
    let len = std::fs::metadata(shipped("beatnet.int8.snnm"))
        .unwrap()
        .len();
    assert!(h.contains(&format!("sinus_model_len = {len};")));
    assert!(h.contains("#define SINUS_VECTORS 5"));
    for f in ["snnm.h", "snnm.c", "snnm_check.c"] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
}

#[test]
fn tflite_flatbuffer_and_npy_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.tflite");
    let o = sinus(&[
        "export-model",
        &shipped("beatnet-1lead.int8.snnm"),
        "--format",
        "tflite",
        "--out",
        out.to_str().unwrap(),
        "--vectors",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let b = std::fs::read(&out).unwrap();
    assert_eq!(&b[4..8], b"TFL3", "flatbuffer file identifier");
    let vec_dir = dir.path().join("m-vectors");
    for f in [
        "waveforms.npy",
        "rr.npy",
        "logits.npy",
        "logits_tflite_ref.npy",
        "classes.npy",
        "labels.npy",
        "origin.txt",
    ] {
        assert!(vec_dir.join(f).is_file(), "{f}");
    }
    // Without --vectors no vectors are written.
    let out2 = dir.path().join("n.tflite");
    let o = sinus(&[
        "export-model",
        &shipped("beatnet-1lead.int8.snnm"),
        "-f",
        "tflite",
        "-o",
        out2.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&out2).unwrap(), b, "deterministic output");
    assert!(!dir.path().join("n-vectors").exists());
}

#[test]
fn bad_models_exit_1_and_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(shipped("beatnet.int8.snnm")).unwrap();
    bytes[200] ^= 0x10;
    let corrupt = dir.path().join("corrupt.snnm");
    std::fs::write(&corrupt, &bytes).unwrap();
    let truncated = dir.path().join("short.snnm");
    std::fs::write(&truncated, &bytes[..3]).unwrap();
    let out = dir.path().join("x.out");
    for (model, what) in [
        (corrupt.display().to_string(), "CRC"),
        (truncated.display().to_string(), "SNNM"),
        (shipped("beatnet.snnm"), "float32"),
        (
            dir.path().join("absent.snnm").display().to_string(),
            "absent.snnm",
        ),
    ] {
        for format in ["c", "tflite"] {
            let o = sinus(&[
                "export-model",
                &model,
                "--format",
                format,
                "--out",
                out.to_str().unwrap(),
            ]);
            assert_eq!(o.status.code(), Some(1), "{model} {format}");
            let e = stderr(&o);
            let file = Path::new(&model).file_name().unwrap().to_str().unwrap();
            assert!(e.contains(file) && e.contains(what), "{model}: {e}");
        }
    }
    assert!(!out.exists());
    let o = sinus(&[
        "export-model",
        &shipped("beatnet.int8.snnm"),
        "--format",
        "onnx",
    ]);
    assert_eq!(o.status.code(), Some(2));
}
