//! `sinus-eval`: evaluating detectors and classifiers the way the field reports them.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bxb;
