//! Beat-by-beat comparison of a test annotator with a reference, equivalent to WFDB's `bxb`
//! (the ANSI/AAMI EC38/EC57 comparator).
//!
//! # The rules, as `bxb` (WFDB 10.7.0) applies them
//!
//! - **Beats.** Reference and test beats are the annotations whose code is a QRS code (WFDB's
//!   `isqrs`, [`Annotation::is_beat`]). Each is mapped to an AAMI class ([`aami_class`]):
//!   N, S, V, F or Q. The ventricular flutter wave `!` is a QRS code with no AAMI class: `bxb`
//!   labels it `O` (not a beat), so a test beat matched to a reference `!` counts as a false
//!   positive and an unmatched `!` counts nothing. (In MIT-BIH every `!` lies inside a VF
//!   episode, which is skipped, see below.)
//! - **Window.** A reference beat at sample `T` and a test beat at `t` can match when
//!   `|T - t| <= w`, with `w` = the window in samples rounded half up (54 at 360 Hz, 38 at
//!   250 Hz for 0.15 s). The edge is inclusive.
//! - **Matching.** Both annotation lists are walked in order, looking at the current and the
//!   next beat of each. When the test beat comes first (`t < T`), it is paired with `T` if
//!   `T - t <= w` and either it is closer to `T` than the next test beat is
//!   (`T - t < |T - t'|`), or the next test beat is closer still to the next reference beat
//!   (`|T' - t'| < |T - t'|`); otherwise it is a false positive. When the reference beat comes
//!   first or at the same time (`T <= t`), the mirror rule applies, and an unmatched reference
//!   beat is a false negative. Every beat is used at most once.
//! - **Learning period** (`start`, EC57: the first 5 minutes). Reference beats before `start`
//!   are dropped. The last test beat before `start` may still be paired with the first
//!   reference beat at or after `start` (it then counts as a true positive); if it is not, the
//!   first test beat at or after `start` is dropped without being counted when it lies within
//!   `w` of `start` and the following test beat is closer to the first reference beat.
//! - **End.** The comparison runs while either the current reference or the current test beat
//!   is at or before `end` (by default the record length); a pair straddling `end` is still
//!   counted. Without a record length it runs to the end of the reference annotations, and with
//!   an end of 0 s to the end of either file (`bxb -t 0`).
//! - **Ventricular fibrillation / flutter.** Annotations between a `VFON` (`[`) and the
//!   following `VFOFF` (`]`) are skipped, in either file: reference beats there are neither
//!   detected nor missed. A test beat that matches no reference beat and lies inside one of the
//!   two most recent reference VF episodes (onset to offset, both inclusive) is not counted.
//!   A test beat inside VF that matches a reference beat outside it is a true positive. Rhythm
//!   labels such as `(VFL` are not looked at.
//! - **Shutdown.** A `NOISE` annotation whose subtype has bits 4 and 5 set (MIT-BIH stores it
//!   as `-1`) starts a shutdown, which the next `NOISE` with either bit clear ends (or, for a
//!   single mark, the interval from `w` after the previous beat or VF end to `w` before the next
//!   annotation). Shutdown does not remove beats: an unmatched test beat inside reference
//!   shutdown is still a false positive, reported in the `X` row of the [`BeatMatrix`], and an
//!   unmatched reference beat inside test shutdown still a false negative, in the `X` column.
//!
//! The implementation follows `bxb`'s walk step by step (including its handling of the
//! learning-period boundary), so that the counts are identical, not merely close. The whole
//! [`BeatMatrix`] (hence TP, FN, FP and the VEB/SVEB counts) was checked equal to `bxb`'s on all
//! 48 MIT-BIH records for several test annotators (WFDB's `gqrs` and `sqrs`, perturbed copies of
//! the reference with and without VF and shutdown marks) and option sets, using the
//! `bxb_counts` example; `tests/bxb_rules.rs` pins each rule with cases checked against `bxb`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sinus_io::wfdb::annotation::{codes, read_annotations, Annotation};
use sinus_io::wfdb::record::read_header;
use sinus_io::{Error, Result};

use crate::confusion::ConfusionMatrix;
use crate::stats::QrsCounts;

/// Options of a comparison, in seconds. [`BxbOptions::default`] is the EC57 setting.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BxbOptions {
    /// Half-width of the match window (`bxb -w`), 0.15 s by EC57.
    pub window_s: f64,
    /// Start of the scored interval (`bxb -f`): 300 s by EC57 (the learning period is not
    /// scored), 0 to score the whole record.
    pub start_s: f64,
    /// End of the scored interval (`bxb -t`). `None`: the end of the record when its length is
    /// given, else the end of the reference annotations. `Some(0.0)`: the end of whichever
    /// annotation list ends first, as `bxb -t 0`.
    pub end_s: Option<f64>,
    /// Skip annotations inside `VFON`/`VFOFF` episodes as `bxb` does (EC57). When false, the
    /// episode marks are ignored and beats inside them are scored like any other.
    pub exclude_vf: bool,
}

impl Default for BxbOptions {
    fn default() -> Self {
        BxbOptions::EC57
    }
}

impl BxbOptions {
    /// The EC57 comparison: ±150 ms, the first 5 minutes not scored, VF episodes excluded.
    pub const EC57: BxbOptions = BxbOptions {
        window_s: 0.15,
        start_s: 300.0,
        end_s: None,
        exclude_vf: true,
    };

    /// EC57 rules applied to the whole record (`bxb -f 0`), as most QRS-detector papers report
    /// MIT-BIH results.
    pub fn whole_record() -> Self {
        BxbOptions {
            start_s: 0.0,
            ..BxbOptions::EC57
        }
    }
}

/// Label of a beat in the comparison: an AAMI class, `O` (no beat: the pseudo-label of an
/// unmatched beat's missing partner, or a QRS code without an AAMI class) or `X` (no beat
/// because the other annotator marked shutdown there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Label {
    /// Normal and bundle-branch-block beats (`N L R B`).
    N,
    /// Supraventricular ectopic beats (`A a J S e j n`).
    S,
    /// Ventricular ectopic beats (`V r E`).
    V,
    /// Fusion of ventricular and normal (`F`).
    F,
    /// Paced, paced fusion, unclassifiable and learning beats (`/ f Q ?`).
    Q,
    /// Not a beat (no partner, or a QRS code outside the AAMI classes such as `!`).
    O,
    /// Not a beat, in the other annotator's shutdown.
    X,
}

impl Label {
    /// The seven labels in the row/column order of [`BeatMatrix`].
    pub const ALL: [Label; 7] = [
        Label::N,
        Label::S,
        Label::V,
        Label::F,
        Label::Q,
        Label::O,
        Label::X,
    ];

    /// Whether this label denotes a beat (N, S, V, F or Q).
    pub fn is_beat(self) -> bool {
        !matches!(self, Label::O | Label::X)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The AAMI class `bxb` gives an annotation code (its `amap` with SVEB statistics on): `None`
/// for codes that are not QRS codes at all, `Some(Label::O)` for the flutter wave `!`.
pub fn aami_class(code: u8) -> Option<Label> {
    if !sinus_io::wfdb::annotation::is_beat(code) {
        return None;
    }
    Some(match code {
        codes::NORMAL | codes::LBBB | codes::RBBB | codes::BBB => Label::N,
        codes::NPC
        | codes::APC
        | codes::SVPB
        | codes::ABERR
        | codes::NESC
        | codes::AESC
        | codes::SVESC => Label::S,
        codes::PVC | codes::RONT | codes::VESC => Label::V,
        codes::FUSION => Label::F,
        codes::UNKNOWN | codes::PACE | codes::PFUS | codes::LEARN => Label::Q,
        _ => Label::O,
    })
}

/// `bxb`'s beat-label matrix: `counts[reference][test]`, rows and columns in [`Label::ALL`]
/// order. Cells with a non-beat on both sides are always 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeatMatrix {
    /// Pair counts, indexed by reference label then test label.
    pub counts: [[u64; 7]; 7],
}

impl BeatMatrix {
    /// The number of pairs with reference label `reference` and test label `test`.
    pub fn get(&self, reference: Label, test: Label) -> u64 {
        self.counts[reference.index()][test.index()]
    }

    fn add(&mut self, reference: Label, test: Label) {
        let cell = &mut self.counts[reference.index()][test.index()];
        *cell = cell.saturating_add(1);
    }

    /// QRS detection counts: beats matched to beats (TP), reference beats matched to no beat
    /// (FN), test beats matched to no reference beat (FP), regardless of class.
    pub fn qrs_counts(&self) -> QrsCounts {
        let mut counts = QrsCounts::default();
        for r in Label::ALL {
            for t in Label::ALL {
                let n = self.get(r, t);
                match (r.is_beat(), t.is_beat()) {
                    (true, true) => counts.tp += n,
                    (true, false) => counts.fn_ += n,
                    (false, true) => counts.fp += n,
                    (false, false) => {}
                }
            }
        }
        counts
    }

    /// Ventricular ectopic beat counts as EC57 and `bxb` define them: TP = V/v; FN = V
    /// reference called anything else (or missed); FP = N, S, O or X reference called V (F and
    /// Q reference beats called V are not counted).
    pub fn veb_counts(&self) -> QrsCounts {
        use Label::*;
        QrsCounts {
            tp: self.get(V, V),
            fn_: self.row_sum_except(V, V),
            fp: [N, S, O, X].iter().map(|&r| self.get(r, V)).sum(),
        }
    }

    /// Supraventricular ectopic beat counts as `bxb -S` defines them: TP = S/s; FN = S
    /// reference called anything else (or missed); FP = N, V, F, O or X reference called S (Q
    /// reference beats called S are not counted).
    pub fn sveb_counts(&self) -> QrsCounts {
        use Label::*;
        QrsCounts {
            tp: self.get(S, S),
            fn_: self.row_sum_except(S, S),
            fp: [N, V, F, O, X].iter().map(|&r| self.get(r, S)).sum(),
        }
    }

    /// VEB false positive rate in percent as `bxb` reports it: FP / (TN + FP), where TN counts
    /// the N, S, F, Q, O and X reference labels paired with a test beat labelled N, S, F or Q
    /// (missed beats are not negatives); `None` when 0/0.
    pub fn veb_false_positive_rate(&self) -> Option<f64> {
        use Label::*;
        let tn: u64 = [N, S, F, Q, O, X]
            .iter()
            .flat_map(|&r| [N, S, F, Q].map(|t| self.get(r, t)))
            .sum();
        let fp = self.veb_counts().fp;
        let den = tn.saturating_add(fp);
        (den > 0).then(|| 100.0 * fp as f64 / den as f64)
    }

    fn row_sum_except(&self, reference: Label, test: Label) -> u64 {
        Label::ALL
            .iter()
            .filter(|&&t| t != test)
            .map(|&t| self.get(reference, t))
            .sum()
    }

    /// The matrix as a generic [`ConfusionMatrix`] over the seven labels.
    pub fn to_confusion(&self) -> ConfusionMatrix<Label> {
        let mut m = ConfusionMatrix::new(Label::ALL);
        for r in Label::ALL {
            for t in Label::ALL {
                m.add(r, t, self.get(r, t));
            }
        }
        m
    }

    /// Sum of two matrices (e.g. over records).
    pub fn merged(&self, other: &BeatMatrix) -> BeatMatrix {
        let mut out = *self;
        for (row, other_row) in out.counts.iter_mut().zip(other.counts.iter()) {
            for (cell, o) in row.iter_mut().zip(other_row.iter()) {
                *cell = cell.saturating_add(*o);
            }
        }
        out
    }
}

/// The outcome of comparing one record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Pair counts by reference and test label.
    pub matrix: BeatMatrix,
    /// Samples of the reference beats that no test beat matched (the false negatives).
    pub missed: Vec<i64>,
    /// Samples of the test beats that matched no reference beat (the false positives).
    pub extra: Vec<i64>,
    /// (reference, test) samples of the matched beat pairs, in time order (not serialised:
    /// one per beat).
    #[serde(skip)]
    pub matched: Vec<(i64, i64)>,
    /// The match window used, in samples.
    pub window: i64,
    /// First scored sample (the end of the learning period).
    pub start: i64,
    /// Last scored sample, or `None` when the comparison ran to the end of an annotation list.
    pub end: Option<i64>,
}

impl Comparison {
    /// TP, FN and FP of QRS detection.
    pub fn qrs_counts(&self) -> QrsCounts {
        self.matrix.qrs_counts()
    }
}

/// Compare test annotations with reference annotations of one record.
///
/// `reference` and `test` are annotation lists in file order, with times in samples at `fs`
/// (read them with the record's sampling frequency so that a declared time resolution is
/// converted). Non-beat annotations are used only for VF episodes and shutdown. `record_samples`
/// is the record length in samples (`Header::known_samples`), which ends the comparison unless
/// [`BxbOptions::end_s`] is given.
///
/// Errors (`Invalid`) when `fs` or an option is not a finite non-negative number (`fs` must be
/// positive), when the end precedes the start, or when an annotation has a negative time.
pub fn compare(
    reference: &[Annotation],
    test: &[Annotation],
    fs: f64,
    record_samples: Option<u64>,
    options: &BxbOptions,
) -> Result<Comparison> {
    let reference = events_of_annotations(reference, "reference")?;
    let test = events_of_annotations(test, "test")?;
    run(&reference, &test, fs, record_samples, options)
}

/// Compare a detector's beats, given as sample numbers, with reference annotations. Each
/// detection is a beat of class N; see [`compare`] for the other arguments.
///
/// Errors as [`compare`], and when a detection does not fit a non-negative `i64`.
pub fn compare_samples<I>(
    reference: &[Annotation],
    detections: I,
    fs: f64,
    record_samples: Option<u64>,
    options: &BxbOptions,
) -> Result<Comparison>
where
    I: IntoIterator,
    I::Item: TryInto<i64> + Copy + std::fmt::Debug,
{
    let reference = events_of_annotations(reference, "reference")?;
    let test = detections
        .into_iter()
        .map(|s| {
            let time = s
                .try_into()
                .ok()
                .filter(|&t: &i64| (0..NEVER).contains(&t))
                .ok_or_else(|| Error::invalid(format!("detection at sample {s:?} out of range")))?;
            Ok(Event {
                time,
                kind: Kind::Beat(Label::N),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    run(&reference, &test, fs, record_samples, options)
}

/// A record's reference annotations with what a comparison needs to know about the record.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// Record name (the last component of the record path).
    pub name: String,
    /// Sampling frequency of the record (frames per second; 250 when the header omits it, as
    /// in WFDB).
    pub fs: f64,
    /// Record length in samples, when the header gives it.
    pub samples: Option<u64>,
    /// The reference annotations, times in samples of the record.
    pub annotations: Vec<Annotation>,
}

impl Reference {
    /// Read the header of `record` (a record path such as `mitdb/100`) and its annotation file
    /// of the given annotator (`atr` for MIT-BIH). Errors name the file.
    pub fn load(record: impl AsRef<Path>, annotator: &str) -> Result<Self> {
        let record = record.as_ref();
        let header = read_header(record)?;
        let fs = header.record.sampling_frequency_or_default();
        let mut path = record.as_os_str().to_os_string();
        path.push(".");
        path.push(annotator);
        let set = read_annotations(PathBuf::from(path), Some(fs))?;
        Ok(Reference {
            name: record
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            fs,
            samples: header.record.known_samples(),
            annotations: set.annotations,
        })
    }

    /// Compare test annotations with this reference (see [`compare`]).
    pub fn compare(&self, test: &[Annotation], options: &BxbOptions) -> Result<Comparison> {
        compare(&self.annotations, test, self.fs, self.samples, options)
    }

    /// Compare a detector's beat samples with this reference (see [`compare_samples`]).
    pub fn compare_samples<I>(&self, detections: I, options: &BxbOptions) -> Result<Comparison>
    where
        I: IntoIterator,
        I::Item: TryInto<i64> + Copy + std::fmt::Debug,
    {
        compare_samples(
            &self.annotations,
            detections,
            self.fs,
            self.samples,
            options,
        )
    }
}

// ---------------------------------------------------------------------------------------------
// The walk

/// The time of a beat that does not exist (after the end of a list): later than any real time.
const NEVER: i64 = i64::MAX;
/// "No such time yet" for episode bounds, as in `bxb` (times are never negative).
const UNSET: i64 = -1;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Beat(Label),
    /// A NOISE annotation; `true` when its subtype marks shutdown (bits 4 and 5 set).
    Noise(bool),
    VfOn,
    VfOff,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Event {
    time: i64,
    kind: Kind,
}

fn events_of_annotations(annotations: &[Annotation], which: &str) -> Result<Vec<Event>> {
    annotations
        .iter()
        .map(|a| {
            if !(0..NEVER).contains(&a.sample) {
                return Err(Error::invalid(format!(
                    "{which} annotation at sample {} out of range",
                    a.sample
                )));
            }
            let kind = match aami_class(a.code) {
                Some(label) => Kind::Beat(label),
                None => match a.code {
                    // `subtyp` is a C `signed char`: -1 has bits 4 and 5 set.
                    codes::NOISE => Kind::Noise((a.subtype as u8) & 0x30 == 0x30),
                    codes::VFON => Kind::VfOn,
                    codes::VFOFF => Kind::VfOff,
                    _ => Kind::Other,
                },
            };
            Ok(Event {
                time: a.sample,
                kind,
            })
        })
        .collect()
}

/// A beat as the walk sees it: its time and label, the label `None` for the placeholder before
/// the first beat and after the last one (neither is ever counted).
#[derive(Debug, Clone, Copy)]
struct Beat {
    time: i64,
    label: Option<Label>,
}

const PLACEHOLDER: Beat = Beat {
    time: 0,
    label: None,
};
const END: Beat = Beat {
    time: NEVER,
    label: None,
};

/// An interval of VF or shutdown; bounds are [`UNSET`] until read.
#[derive(Debug, Clone, Copy)]
struct Interval {
    on: i64,
    off: i64,
}

const NO_INTERVAL: Interval = Interval {
    on: UNSET,
    off: UNSET,
};

impl Interval {
    /// Whether `t` is inside, an interval whose end was never read reaching to the end (the
    /// test `bxb` applies to the latest interval).
    fn holds_open(&self, t: i64) -> bool {
        self.on != UNSET && self.on <= t && (t <= self.off || self.off == UNSET)
    }

    /// Whether `t` is inside (the test `bxb` applies to the previous interval).
    fn holds(&self, t: i64) -> bool {
        self.on != UNSET && self.on <= t && t <= self.off
    }
}

/// One annotation list being walked: the current and the next beat, and the two latest VF
/// episodes and shutdown intervals read so far.
struct Walker<'a> {
    events: &'a [Event],
    pos: usize,
    is_reference: bool,
    exclude_vf: bool,
    window: i64,
    current: Beat,
    next: Beat,
    vf: Interval,
    prev_vf: Interval,
    shutdown: Interval,
    prev_shutdown: Interval,
}

impl<'a> Walker<'a> {
    fn new(events: &'a [Event], is_reference: bool, exclude_vf: bool, window: i64) -> Self {
        Walker {
            events,
            pos: 0,
            is_reference,
            exclude_vf,
            window,
            current: PLACEHOLDER,
            next: PLACEHOLDER,
            vf: NO_INTERVAL,
            prev_vf: NO_INTERVAL,
            shutdown: NO_INTERVAL,
            prev_shutdown: NO_INTERVAL,
        }
    }

    fn read(&mut self) -> Option<Event> {
        let event = self.events.get(self.pos).copied();
        if event.is_some() {
            self.pos += 1;
        }
        event
    }

    /// Make the next beat current and read the one after it (`bxb`'s `getref`/`gettest`).
    fn advance(&mut self) {
        self.current = self.next;
        self.next = self.read_beat();
    }

    fn read_beat(&mut self) -> Beat {
        while let Some(event) = self.read() {
            match event.kind {
                Kind::Beat(label) => {
                    return Beat {
                        time: event.time,
                        label: Some(label),
                    }
                }
                Kind::Noise(true) => {
                    if let Some(end) = self.read_shutdown(event.time) {
                        return end;
                    }
                }
                Kind::VfOn if self.exclude_vf => {
                    self.prev_vf = self.vf;
                    self.vf.on = event.time;
                    // Everything up to the VFOFF is skipped; an unterminated episode ends the
                    // list (and leaves `off` as it was, as `bxb` does).
                    loop {
                        match self.read() {
                            None => return END,
                            Some(e) if e.kind == Kind::VfOff => {
                                self.vf.off = e.time;
                                break;
                            }
                            Some(_) => {}
                        }
                    }
                }
                _ => {}
            }
        }
        END
    }

    /// A shutdown mark at `on` was read: read its end. Returns the end-of-list beat when the
    /// list ends inside the shutdown.
    fn read_shutdown(&mut self, on: i64) -> Option<Beat> {
        self.prev_shutdown = self.shutdown;
        self.shutdown.on = on;
        match self.events.get(self.pos).copied() {
            None => {
                // `bxb` closes an unterminated reference shutdown at the end of time but leaves
                // the test side's end as it was.
                if self.is_reference {
                    self.shutdown.off = NEVER;
                }
                Some(END)
            }
            Some(e) if e.kind == Kind::Noise(false) => {
                self.pos += 1;
                self.shutdown.off = e.time;
                None
            }
            Some(e) => {
                // A single mark inside the shutdown (AHA style): it spans from one window after
                // the previous beat (or VF end) to one window before the next annotation, which
                // is left to be read normally.
                let after = if self.vf.off > self.current.time {
                    self.vf.off
                } else {
                    self.current.time
                };
                self.shutdown.on = after.saturating_add(self.window);
                self.shutdown.off = e.time.saturating_sub(self.window);
                if self.shutdown.on > self.shutdown.off {
                    self.shutdown.on = self.shutdown.off;
                }
                None
            }
        }
    }

    /// The reference pseudo-label of an unmatched test beat at `t` (`bxb`'s `rpann`): `None`
    /// inside reference VF (not counted), `X` inside reference shutdown, else `O`.
    fn reference_pseudo_label(&self, t: i64) -> Option<Label> {
        if self.vf.holds_open(t) || self.prev_vf.holds(t) {
            None
        } else {
            Some(self.shutdown_label(t))
        }
    }

    /// `X` inside this list's shutdown, else `O` (`bxb`'s `tpann` for the test list).
    fn shutdown_label(&self, t: i64) -> Label {
        if self.shutdown.holds_open(t) || self.prev_shutdown.holds(t) {
            Label::X
        } else {
            Label::O
        }
    }
}

/// How the comparison ends.
#[derive(Debug, Clone, Copy)]
enum Stop {
    /// While the current reference or test beat is at or before this sample.
    At(i64),
    /// At the end of the reference list.
    ReferenceEnd,
    /// At the end of either list.
    EitherEnd,
}

impl Stop {
    fn keep_going(self, reference: i64, test: i64) -> bool {
        match self {
            Stop::At(end) => reference <= end || test <= end,
            Stop::ReferenceEnd => reference != NEVER,
            Stop::EitherEnd => reference != NEVER && test != NEVER,
        }
    }
}

/// Seconds to samples as WFDB's `strtim` does: `(long)(x * fs + 0.5)`.
fn samples_of(seconds: f64, fs: f64) -> i64 {
    // `as` saturates; keep one below NEVER so that "at or before the end" stays decidable.
    ((seconds * fs + 0.5) as i64).min(NEVER - 1)
}

fn check_option(name: &str, value: f64) -> Result<()> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "bxb option {name} must be a finite number >= 0, got {value}"
        )))
    }
}

struct Tally {
    matrix: BeatMatrix,
    missed: Vec<i64>,
    extra: Vec<i64>,
    matched: Vec<(i64, i64)>,
}

impl Tally {
    /// Count a pair (`bxb`'s `pair`): a reference beat at `ref_time` labelled `reference`
    /// against a test beat at `test_time` labelled `test`. Pairs with a placeholder, or with no
    /// beat on either side, count nothing.
    fn pair(
        &mut self,
        reference: Option<Label>,
        test: Option<Label>,
        ref_time: i64,
        test_time: i64,
    ) {
        let (Some(r), Some(t)) = (reference, test) else {
            return;
        };
        match (r.is_beat(), t.is_beat()) {
            (false, false) => return,
            (true, false) => self.missed.push(ref_time),
            (false, true) => self.extra.push(test_time),
            (true, true) => self.matched.push((ref_time, test_time)),
        }
        self.matrix.add(r, t);
    }
}

fn run(
    reference: &[Event],
    test: &[Event],
    fs: f64,
    record_samples: Option<u64>,
    options: &BxbOptions,
) -> Result<Comparison> {
    if !(fs.is_finite() && fs > 0.0) {
        return Err(Error::invalid(format!(
            "sampling frequency must be a positive number, got {fs}"
        )));
    }
    check_option("window_s", options.window_s)?;
    check_option("start_s", options.start_s)?;
    if let Some(end_s) = options.end_s {
        check_option("end_s", end_s)?;
    }
    let w = samples_of(options.window_s, fs);
    let start = samples_of(options.start_s, fs);
    let stop = match options.end_s {
        Some(end_s) => match samples_of(end_s, fs) {
            0 => Stop::EitherEnd,
            end => Stop::At(end),
        },
        None => match record_samples {
            Some(n) if n > 0 => Stop::At(i64::try_from(n).unwrap_or(NEVER - 1).min(NEVER - 1)),
            _ => Stop::ReferenceEnd,
        },
    };
    if let Stop::At(end) = stop {
        if end < start {
            return Err(Error::invalid(format!(
                "bxb interval ends (sample {end}) before it starts (sample {start})"
            )));
        }
    }

    let mut r = Walker::new(reference, true, options.exclude_vf, w);
    let mut t = Walker::new(test, false, options.exclude_vf, w);
    let mut tally = Tally {
        matrix: BeatMatrix::default(),
        missed: Vec::new(),
        extra: Vec::new(),
        matched: Vec::new(),
    };

    // The first reference beat at or after the start.
    loop {
        r.advance();
        if r.current.time >= start {
            break;
        }
    }
    // The first test beat at or after the start becomes `next`; `current` is the last one
    // before it (or the placeholder).
    loop {
        t.advance();
        if t.next.time >= start {
            break;
        }
    }

    // The last test beat of the learning period may match the first scored reference beat
    // (`T - t` is positive here since `t < start <= T`).
    let (rt, tt, tn) = (r.current.time, t.current.time, t.next.time);
    if rt - tt < (rt - tn).abs() && rt - tt <= w {
        tally.pair(r.current.label, t.current.label, rt, tt);
        r.advance();
        t.advance();
    } else {
        t.advance();
        // A test beat right at the start is dropped, uncounted, when the following one is a
        // better match for the first reference beat.
        let (rt, tt, tn) = (r.current.time, t.current.time, t.next.time);
        if tt - start <= w && (rt - tn).abs() < (rt - tt).abs() {
            t.advance();
        }
    }

    while stop.keep_going(r.current.time, t.current.time) {
        if r.current.time == NEVER && t.current.time == NEVER {
            // Both lists are exhausted: nothing more can be counted (guards `end` at the end of
            // time, where `bxb` itself would not stop).
            break;
        }
        let (rt, rn) = (r.current.time, r.next.time);
        let (tt, tn) = (t.current.time, t.next.time);
        if tt < rt {
            // The test beat comes first: pair it if it is within the window and no better
            // partner exists for it or for the reference beat.
            let dt = rt - tt;
            if dt <= w && (dt < (rt - tn).abs() || (rn - tn).abs() < (rt - tn).abs()) {
                tally.pair(r.current.label, t.current.label, rt, tt);
                r.advance();
                t.advance();
            } else {
                tally.pair(r.reference_pseudo_label(tt), t.current.label, rt, tt);
                t.advance();
            }
        } else {
            // The reference beat comes first (or at the same time): the mirror rule.
            let dt = tt - rt;
            if dt <= w && (dt < (tt - rn).abs() || (tn - rn).abs() < (tt - rn).abs()) {
                tally.pair(r.current.label, t.current.label, rt, tt);
                t.advance();
                r.advance();
            } else {
                tally.pair(r.current.label, Some(t.shutdown_label(rt)), rt, tt);
                r.advance();
            }
        }
    }

    Ok(Comparison {
        matrix: tally.matrix,
        missed: tally.missed,
        extra: tally.extra,
        matched: tally.matched,
        window: w,
        start,
        end: match stop {
            Stop::At(end) => Some(end),
            _ => None,
        },
    })
}
