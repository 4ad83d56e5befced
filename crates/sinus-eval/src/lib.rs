//! `sinus-eval`: evaluating detectors and classifiers the way the field reports them.
//!
//! - [`bxb`]: beat-by-beat comparison of a test annotator (or a detector's beat samples) with
//!   reference annotations, equivalent to WFDB's `bxb` (ANSI/AAMI EC38/EC57 rules).
//! - [`stats`]: Se, +P and F1 per record, gross and average, serializable as JSON.
//! - [`confusion`]: a confusion matrix over any classes with per-class Se and +P (EC57's VEB
//!   and SVEB counts are on [`bxb::BeatMatrix`]).
//! - [`rhythm`]: rhythm episodes from `+` annotations, episode and duration Se/+P by WFDB
//!   `epicmp`'s rules (EC38/EC57), beat-by-beat AF statistics, and their report.
//! - [`report`]: the plain-text tables of a [`stats::QrsReport`] and a [`rhythm::RhythmReport`].
//!
//! ```
//! use sinus_eval::bxb::{compare_samples, BxbOptions};
//! use sinus_eval::stats::{QrsReport, RecordResult};
//! use sinus_io::wfdb::annotation::{codes, Annotation};
//!
//! let reference: Vec<Annotation> =
//!     [100, 400, 700].iter().map(|&s| Annotation::new(s, codes::NORMAL)).collect();
//! let detections: [u64; 3] = [110, 420, 1000];
//! let cmp = compare_samples(&reference, detections, 360.0, Some(1200), &BxbOptions::whole_record())?;
//! let counts = cmp.qrs_counts();
//! assert_eq!((counts.tp, counts.fn_, counts.fp), (2, 1, 1));
//! let report = QrsReport::new(vec![RecordResult::new("demo", counts)]);
//! println!("{report}");
//! # Ok::<(), sinus_io::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bxb;
pub mod confusion;
pub mod report;
pub mod rhythm;
pub mod stats;
pub mod stress;
