//! The `sinus` command-line tool.
fn main() {}
