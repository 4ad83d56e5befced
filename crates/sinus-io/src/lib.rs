//! `sinus-io`: reading and writing ECG recordings exactly right.
//!
//! - [`wfdb`]: PhysioNet WFDB records — headers (single and multi-segment), signal formats
//!   8/16/24/32/61/80/160/212/310/311 and FLAC 508/516/524, annotations (MIT format), writing.
//! - [`edf`]: EDF and EDF+ (continuous and discontinuous, annotations).
//! - [`chunked`]: reading a long recording a frame range at a time, in bounded memory.
//! - [`csv`]: delimited text, one column per lead; [`kaggle`]: the 187-sample beat format.
//! - [`physionet`]: downloading a database and verifying its SHA256 sums.
//!
//! Every reader returns [`Error`] naming the file and the problem; none panics on bad input, and
//! declared sizes are checked against [`error::MAX_TOTAL_SAMPLES`] before allocation.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod beat_csv;
pub mod chunked;
pub mod csv;
pub mod datasets;
pub mod demo;
pub mod edf;
pub mod error;
pub mod open;
pub mod physionet;
pub mod recording;
pub mod wfdb;

pub use error::{Error, ErrorKind, Result, ResultExt};
pub use recording::{BaseDateTime, Date, Recording, Signal, TimeOfDay, MISSING};
