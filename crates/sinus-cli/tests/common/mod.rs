//! Helpers shared by the CLI's integration tests: run the `sinus` binary, read its output.
#![allow(dead_code)] // Each test file uses its own subset.

use std::process::{Command, Output};

/// Run `sinus` with `args`.
pub fn sinus(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sinus"))
        .args(args)
        .output()
        .expect("run sinus")
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
