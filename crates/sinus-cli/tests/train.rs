//! `sinus train` end to end on a tiny split: an ensemble of two networks folded into one model
//! file, which `sinus eval beats` then runs like any other.

use serde_json::Value;
use sinus_io::datasets::mitdb_for_tests;

mod common;
use common::{sinus, stderr, stdout};

#[test]
fn an_ensemble_trains_into_one_model_that_evaluates() {
    let Some(db) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("model");
    let db_arg = db.to_str().unwrap();
    let o = sinus(&[
        "--quiet",
        "train",
        "--db",
        db_arg,
        "--out",
        out.to_str().unwrap(),
        "--train",
        "119",
        "--valid",
        "208",
        "--epochs",
        "1",
        "--ensemble",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let h: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("history.json")).unwrap()).unwrap();
    let members = h["members"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    assert_ne!(members[0]["seed"], members[1]["seed"]);
    assert!(h["valid_final"]["macro_f1"].as_f64().is_some(), "{h}");
    // Two members side by side: twice one network's convolutions, one output layer.
    let one_network = 5_013u64;
    let parameters = h["parameters"].as_u64().unwrap();
    assert!(
        parameters > one_network && parameters < 4 * one_network,
        "{parameters}"
    );
    for model in ["model.snnm", "model.int8.snnm"] {
        let o = sinus(&[
            "--quiet",
            "eval",
            "beats",
            "--db",
            db_arg,
            "--records",
            "208",
            "--mode",
            "reference",
            "--json",
            "--model",
            out.join(model).to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert!(v["macro_f1"].as_f64().unwrap() > 0.0, "{v}");
    }
}
