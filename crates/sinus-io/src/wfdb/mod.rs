//! PhysioNet WFDB format: headers, signal files, annotation files.
//!
//! - [`header`]: parse and write `.hea` files (single- and multi-segment).
//! - [`format`](mod@format): decode and encode the sample storage formats (8 ... 311, FLAC 508/516/524).
//! - [`record`]: read a whole record (signals of all files, skew, offsets, segments) into a
//!   [`crate::Recording`].
//! - [`write`](mod@write): write a record in format 16 or 212 with a header that WFDB tools read.
//! - [`annotation`]: read and write MIT-format annotation files (`.atr`, ...).

pub mod annotation;
pub mod format;
pub mod header;
pub mod record;
pub mod write;
