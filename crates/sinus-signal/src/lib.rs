//! `sinus-signal`: offline ECG processing (whole records in memory, `std`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]
