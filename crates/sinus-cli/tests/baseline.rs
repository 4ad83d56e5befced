//! `sinus baseline`: the simple comparison setups run end to end under their user-facing names.

use serde_json::Value;
use sinus_io::datasets::mitdb_for_tests;

mod common;
use common::{sinus, stderr, stdout};

#[test]
fn rr_window_baseline_trains_and_reports_both_splits() {
    let Some(db) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let o = sinus(&[
        "--quiet",
        "baseline",
        "rr-window",
        "--db",
        db.to_str().unwrap(),
        "--epochs",
        "1",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let runs = v["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    // The honest (inter-patient) figure and the leaky one beside it.
    assert!(runs[0]["inter_patient"].is_object(), "{v}");
    assert!(runs[0]["leaky"].is_object(), "{v}");
}

#[test]
fn the_old_command_name_is_gone() {
    let o = sinus(&["seeds", "rr-window", "--db", "."]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("unrecognized subcommand"),
        "{}",
        stderr(&o)
    );
}
