//! The whole analysis of one recording: signal quality → beats → classes → rhythm → HRV →
//! summary, trend and the events worth a strip.

use crate::model::*;
use crate::quality::{self, Quality, QualitySegment};
use crate::rhythm::{analyze_rhythm, RhythmResult};
use sinus_core::rhythm::{Beat, BeatClass, Episode, RhythmKind};
use sinus_io::open::{Opened, SourceFormat};
use sinus_io::wfdb::annotation::Annotation;
use sinus_io::{Error, Recording, Result};
use sinus_ml::dataset::{windows_at, Window};
use sinus_ml::infer::Classifier;
use sinus_ml::metadata::ModelMetadata;
use sinus_signal::detect::{detect_qrs, QrsDetectorKind};
use sinus_signal::offline_qrs::{detect_qrs_signals_owned, OfflineQrsOptions};
use sinus_signal::resample::map_indices;

/// Lowest and highest sampling rates the detectors are designed for; other recordings are
/// resampled to [`WORKING_FS`] for detection.
const DETECTOR_FS: (f64, f64) = (125.0, 1000.0);
/// Rate a recording outside [`DETECTOR_FS`] is resampled to.
const WORKING_FS: f64 = 250.0;
/// Fewest beats for any rhythm statement: fewer than this and the report says so.
const MIN_BEATS: usize = 3;
/// Beats averaged for the minimum and maximum heart rate (a Holter convention that keeps a
/// single missed or extra beat from making the extremes).
const RATE_AVERAGE_BEATS: usize = 8;
/// Half-width of an ECG strip (s).
const STRIP_HALF_S: f64 = 5.0;

/// How to analyse.
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    /// QRS detector.
    pub detector: QrsDetectorKind,
    /// Which engine analyses.
    pub engine: Engine,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            detector: QrsDetectorKind::Offline,
            engine: Engine::Host,
        }
    }
}

/// Which code analyses a recording.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Engine {
    /// Full precision on the whole recording: offline or streaming detection, the float (or
    /// given) model on every lead it reads, rhythm from the whole recording's quality.
    #[default]
    Host,
    /// The device's [`sinus_core::monitor::Monitor`], sample by sample, on lead 0 with the
    /// int8 one-lead model (`model`, or the shipped `beatnet-1lead`).
    Device {
        /// How the samples reach the monitor.
        front_end: crate::device::FrontEnd,
        /// int8 one-lead model bytes (`None`: the shipped one).
        model: Option<Vec<u8>>,
    },
}

/// What to analyse: the recording, what to call it, and its reference annotations if any.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// Signals.
    pub recording: &'a Recording,
    /// File it came from.
    pub path: Option<&'a std::path::Path>,
    /// Format name.
    pub format: &'a str,
    /// Reference annotator name and annotations (in the recording's frame clock).
    pub reference: Option<(&'a str, &'a [Annotation])>,
}

impl<'a> Input<'a> {
    /// The input of an opened recording.
    pub fn of(opened: &'a Opened) -> Input<'a> {
        Input {
            recording: &opened.recording,
            path: opened.path.as_deref(),
            format: match opened.format {
                SourceFormat::Demo => "demo",
                f => f.name(),
            },
            reference: opened
                .annotations
                .as_ref()
                .map(|a| (a.annotator.as_str(), a.set.annotations.as_slice())),
        }
    }
}

/// The intermediate results an analysis keeps beside its [`Analysis`] (for the HTML report).
#[derive(Debug, Clone)]
pub struct Details {
    /// Lead-0 signal in physical units (NaN = missing), as analysed.
    pub lead0: Vec<f64>,
    /// Second lead, when there is one.
    pub lead1: Option<Vec<f64>>,
    /// HRV spectrum (frequencies Hz, power ms²/Hz), when computed.
    pub spectrum: Option<crate::hrv::Spectrum>,
    /// Seconds spent in each stage, in order (for `sinus analyze --timings` and benchmarks).
    pub timings: Vec<(&'static str, f64)>,
    /// Stretches of signal kept for the report's strips when whole leads are not (`lead0` empty:
    /// a long recording analysed in chunks, see [`crate::long`]).
    pub strips: Vec<crate::long::Strip>,
}

/// Analyse one recording with `classifier` (or its fallback for the leads the recording has:
/// [`Classifier::for_signals`]).
pub fn analyze(
    input: Input<'_>,
    classifier: &Classifier,
    options: &AnalyzeOptions,
) -> Result<(Analysis, Details)> {
    let rec = input.recording;
    let classifier = classifier.for_signals(rec.signals.len());
    let fs = rec.frame_frequency;
    let mut limitations = Vec::new();
    if !(fs.is_finite() && fs > 0.0) {
        return Err(Error::invalid(format!(
            "sampling frequency {fs} Hz is not positive"
        )));
    }
    if rec.signals.is_empty() {
        return Err(Error::invalid("the recording has no signals"));
    }
    if let Some(s) = rec.signals.iter().position(|s| s.samples_per_frame != 1) {
        return Err(Error::unsupported(format!(
            "signal {s} has {} samples per frame; analysis needs one sample per frame in every lead",
            rec.signals[s].samples_per_frame
        )));
    }
    let frames = rec.frames;
    if let Engine::Device { front_end, model } = &options.engine {
        return analyze_on_device(input, options, *front_end, model.as_deref(), limitations);
    }
    let mut timings = Vec::new();
    let mut clock_at = std::time::Instant::now();
    let mut lap = |name: &'static str| {
        let now = std::time::Instant::now();
        timings.push((name, (now - clock_at).as_secs_f64()));
        clock_at = now;
    };
    let leads: Vec<Vec<f64>> = rec
        .signals
        .iter()
        .take(2)
        .map(|s| s.physical_samples())
        .collect();

    // 1. Signal quality, on the original samples.
    lap("physical units");
    let bad = quality::assess(&leads, fs, frames);
    lap("signal quality");

    // 2. Beats: detection (resampled when the rate is outside the detectors' design range).
    // (Detection takes the leads and frees them as it goes; the report's copies are made
    // again at the end.)
    let (peaks, resampled_to) = detect(rec, leads, fs, options.detector)?;
    lap("beat detection");

    // 3. Classes.
    let meta = ModelMetadata::parse(&classifier.metadata)?;
    let config = meta.window_config()?;
    let mut classes: Vec<(char, Option<f32>)> = vec![('Q', None); peaks.len()];
    if !peaks.is_empty() {
        let windows = windows_at(rec, &peaks, &config)?;
        let ok = classify_windows(
            classifier,
            windows
                .iter()
                .enumerate()
                .filter_map(|(i, (w, rr))| match w {
                    Window::Ok(w) => Some((i, w.as_slice(), rr)),
                    _ => None,
                }),
            &mut classes,
        )?;
        if let Some(note) = unclassified_note(peaks.len() - ok) {
            limitations.push(note);
        }
    }
    lap("beat classification");
    let beats = beats_out(&peaks, &classes, fs);

    let (analysis, spectrum, tail_timings) = finish(
        input,
        classifier,
        options,
        Found {
            beats,
            bad,
            rhythm: None,
        },
        resampled_to,
        limitations,
    )?;
    timings.extend(tail_timings);
    Ok((analysis, details(rec, spectrum, timings)))
}

/// The report's copies of the first two leads, with the spectrum and timings.
fn details(
    rec: &Recording,
    spectrum: Option<crate::hrv::Spectrum>,
    timings: Vec<(&'static str, f64)>,
) -> Details {
    // Detection took the leads and freed them as it went; the report's copies are made again.
    let mut leads: Vec<Vec<f64>> = rec
        .signals
        .iter()
        .take(2)
        .map(|s| s.physical_samples())
        .collect();
    let lead1 = (leads.len() > 1).then(|| leads.pop()).flatten();
    let lead0 = leads.pop().unwrap_or_default();
    Details {
        lead0,
        lead1,
        spectrum,
        timings,
        strips: Vec::new(),
    }
}

/// [`analyze`] with [`Engine::Device`]: the monitor's beats, classes, rhythm episodes and
/// bad-signal stretches, then the same HRV, summary and report as the host engine.
fn analyze_on_device(
    input: Input<'_>,
    options: &AnalyzeOptions,
    front_end: crate::device::FrontEnd,
    model: Option<&[u8]>,
    mut limitations: Vec<String>,
) -> Result<(Analysis, Details)> {
    let rec = input.recording;
    let fs = rec.frame_frequency;
    let start = std::time::Instant::now();
    let model = model.unwrap_or(sinus_ml::shipped::BEATNET_ONE_LEAD_INT8);
    let classifier = Classifier::from_bytes(model)?;
    if !classifier.is_int8() {
        return Err(Error::unsupported(
            "the device engine runs int8 models (e.g. crates/sinus-ml/models/beatnet-1lead.int8.snnm)",
        ));
    }
    let signal = crate::device::device_signal(rec, 0, front_end)?;
    let run = crate::device::run_monitor(model, &signal)?;
    let (beats, rhythm, bad) = crate::device::run_results(&run, &signal, fs, rec.frames);
    let unclassified = beats.iter().filter(|b| b.2 == 0.0).count();
    if let Some(note) = unclassified_note(unclassified) {
        limitations.push(note);
    }
    let peaks: Vec<i64> = beats.iter().map(|b| b.0 as i64).collect();
    let classes: Vec<(char, Option<f32>)> = beats
        .iter()
        .map(|&(_, c, p)| (c, (p > 0.0).then_some(p)))
        .collect();
    let beats = beats_out(&peaks, &classes, fs);
    let mut timings = vec![("device monitor", start.elapsed().as_secs_f64())];
    let (analysis, spectrum, tail) = finish(
        input,
        &classifier,
        options,
        Found {
            beats,
            bad,
            rhythm: Some(rhythm),
        },
        signal.resampled_to,
        limitations,
    )?;
    timings.extend(tail);
    Ok((analysis, details(rec, spectrum, timings)))
}

/// What [`finish`] gives: the analysis, the HRV spectrum (frequencies, ms²/Hz) and the seconds
/// spent in each stage.
pub(crate) type Finished = (
    Analysis,
    Option<(Vec<f64>, Vec<f64>)>,
    Vec<(&'static str, f64)>,
);

/// What the analysis found before [`finish`]: the classified beats, the bad-signal stretches
/// and, when an engine decided them already (the device's), the rhythm episodes.
pub(crate) struct Found {
    pub beats: Vec<BeatOut>,
    pub bad: Vec<QualitySegment>,
    pub rhythm: Option<RhythmResult>,
}

/// Everything after the beats are classified — rhythm, HRV, summary, trend, events — from the
/// beats list and the bad-signal stretches alone: shared by the single-pass analysis and the
/// chunked one ([`crate::long`]), which have no whole signal at this point. Returns the
/// analysis, the HRV spectrum and the time spent in each stage.
pub(crate) fn finish(
    input: Input<'_>,
    classifier: &Classifier,
    options: &AnalyzeOptions,
    found: Found,
    resampled_to: Option<f64>,
    mut limitations: Vec<String>,
) -> Result<Finished> {
    let Found { beats, bad, rhythm } = found;
    let rec = input.recording;
    let fs = rec.frame_frequency;
    let frames = rec.frames;
    let mut timings = Vec::new();
    let mut clock_at = std::time::Instant::now();
    let mut lap = |name: &'static str| {
        let now = std::time::Instant::now();
        timings.push((name, (now - clock_at).as_secs_f64()));
        clock_at = now;
    };
    // 4. Rhythm, through the device's state machine.
    let core_beats: Vec<Beat> = beats
        .iter()
        .map(|b| Beat {
            sample: b.sample,
            class: BeatClass::from_symbol(b.class),
            probability: b.probability.unwrap_or(0.0),
            labelled: true,
        })
        .collect();
    let rhythm = match rhythm {
        Some(r) => r,
        None => analyze_rhythm(&core_beats, &bad, fs, frames)?,
    };
    lap("rhythm");

    // 5. HRV.
    let af: Vec<(u64, u64)> = rhythm
        .episodes
        .iter()
        .filter(|e| e.kind == RhythmKind::AtrialFibrillation)
        .map(|e| (e.start, e.end))
        .collect();
    let (hrv, spectrum) = crate::hrv::hrv_of(&beats, fs, &af, &mut limitations);
    lap("HRV");

    if beats.is_empty() {
        limitations
            .push("no beats were found: no heart rate, rhythm or HRV can be given".to_string());
    } else if beats.len() < MIN_BEATS {
        limitations.push(format!(
            "only {} beat(s) found: too few for a rhythm statement",
            beats.len()
        ));
    }
    let bad_s: f64 = bad.iter().map(|s| (s.end - s.start) as f64 / fs).sum();
    let duration_s = frames as f64 / fs;
    if duration_s > 0.0 && bad_s > 0.5 * duration_s {
        limitations.push(format!(
            "{:.0} % of the recording is noise or leads-off: figures rest on the rest",
            100.0 * bad_s / duration_s
        ));
    }

    let summary = summarize(&beats, &rhythm, &bad, fs, frames);
    let episodes = episodes_out(&rhythm.episodes, fs);
    let heart_rate_trend = trend(&beats, &bad, fs, frames);
    let events = pick_events(&episodes, &summary, duration_s);
    let reference = input
        .reference
        .map(|(name, anns)| reference_summary(name, anns, fs, frames));
    let signal_quality = bad
        .iter()
        .map(|&segment| QualityOut {
            segment,
            start_s: segment.start as f64 / fs,
            end_s: segment.end as f64 / fs,
        })
        .collect();
    let analysis = Analysis {
        schema: SCHEMA,
        schema_version: SCHEMA_VERSION,
        sinus_version: env!("CARGO_PKG_VERSION"),
        record: RecordInfo {
            name: rec.name.clone(),
            path: input.path.map(|p| p.display().to_string()),
            format: input.format.to_string(),
            fs,
            samples: frames,
            duration_s,
            leads: rec.signals.iter().map(|s| s.description.clone()).collect(),
            start: rec.base_datetime.and_then(iso_datetime),
        },
        settings: Settings {
            detector: match options.engine {
                Engine::Host => options.detector.name().to_string(),
                Engine::Device { .. } => "device monitor (streaming)".to_string(),
            },
            model: describe(classifier),
            resampled_to_hz: resampled_to,
        },
        summary,
        episodes,
        signal_quality,
        heart_rate_trend,
        hrv,
        events,
        reference,
        limitations,
        beats,
    };
    lap("summary");
    Ok((analysis, spectrum, timings))
}

/// Run `classifier` on beat windows (beat index, waveform, RR features) and write each beat's
/// class and probability into `classes`; returns how many beats were classified.
pub(crate) fn classify_windows<'a>(
    classifier: &Classifier,
    windows: impl Iterator<Item = (usize, &'a [f32], &'a [f32; 8])>,
    classes: &mut [(char, Option<f32>)],
) -> Result<usize> {
    let (mut waveforms, mut features, mut ok) = (Vec::new(), Vec::new(), Vec::new());
    for (i, w, rr) in windows {
        waveforms.extend_from_slice(w);
        features.extend_from_slice(rr);
        ok.push(i);
    }
    let probs = classifier.probabilities_batch(&waveforms, &features)?;
    let k = classifier.classes.len();
    for (j, &i) in ok.iter().enumerate() {
        let p = &probs[j * k..(j + 1) * k];
        let best = sinus_core::nn::argmax(p);
        classes[i] = (classifier.classes[best], Some(p[best]));
    }
    Ok(ok.len())
}

/// The note for beats that could not be classified, if any.
pub(crate) fn unclassified_note(n: usize) -> Option<String> {
    (n > 0).then(|| {
        format!(
            "{n} beat(s) at the record's edges or next to missing samples could not be classified (called Q)"
        )
    })
}

/// The beats of an analysis from their R-peak samples and (class, probability).
pub(crate) fn beats_out(peaks: &[i64], classes: &[(char, Option<f32>)], fs: f64) -> Vec<BeatOut> {
    peaks
        .iter()
        .enumerate()
        .map(|(i, &s)| BeatOut {
            sample: s as u64,
            time_s: s as f64 / fs,
            class: classes[i].0,
            probability: classes[i].1,
            rr_s: (i > 0).then(|| (s - peaks[i - 1]) as f64 / fs),
        })
        .collect()
}

/// One line describing a classifier.
pub fn describe(model: &Classifier) -> String {
    let name = ModelMetadata::parse(&model.metadata)
        .map(|m| m.name)
        .unwrap_or_else(|_| "?".into());
    let (params, _) = model.size();
    format!(
        "{name} ({}, {params} parameters)",
        if model.is_int8() { "int8" } else { "float32" }
    )
}

fn iso_datetime(b: sinus_io::BaseDateTime) -> Option<String> {
    let t = b.time?;
    Some(match b.date {
        Some(d) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            d.year, d.month, d.day, t.hour, t.minute, t.second
        ),
        None => format!("{:02}:{:02}:{:02}", t.hour, t.minute, t.second),
    })
}

/// Detect beats; outside the detectors' design range the leads are resampled to
/// [`WORKING_FS`] and the beats mapped back.
pub(crate) fn detect(
    rec: &Recording,
    leads: Vec<Vec<f64>>,
    fs: f64,
    kind: QrsDetectorKind,
) -> Result<(Vec<i64>, Option<f64>)> {
    if rec.frames == 0 {
        return Ok((Vec::new(), None));
    }
    if (DETECTOR_FS.0..=DETECTOR_FS.1).contains(&fs) {
        if kind == QrsDetectorKind::Offline {
            // What `detect_qrs` does for this recording (every lead one sample per frame: the
            // first two leads), on the physical samples already at hand.
            let beats = detect_qrs_signals_owned(leads, fs, &OfflineQrsOptions::default())?;
            return Ok((beats.into_iter().map(|b| b as i64).collect(), None));
        }
        return Ok((detect_qrs(rec, 0, kind)?, None));
    }
    let work = resample_leads(rec, &leads, WORKING_FS)?;
    drop(leads);
    let found = detect_qrs(&work, 0, kind)?;
    let mut mapped = map_indices(&found, WORKING_FS, fs);
    let last = rec.frames as i64 - 1;
    mapped.retain(|&i| (0..=last).contains(&i));
    mapped.dedup();
    Ok((mapped, Some(WORKING_FS)))
}

pub use sinus_signal::resample::{resample_leads, resample_recording};

/// Whether sample `s` lies in a bad stretch (`bad` sorted).
fn in_bad(bad: &[QualitySegment], s: u64) -> bool {
    let i = bad.partition_point(|seg| seg.end <= s);
    bad.get(i).is_some_and(|seg| seg.start <= s)
}

/// Usable RR intervals: both beats in good signal, 0.2–3 s (shorter is not a cardiac cycle,
/// longer is a pause, counted as such and kept out of rates).
fn usable_rr(beats: &[BeatOut], bad: &[QualitySegment], fs: f64) -> Vec<(f64, f64)> {
    beats
        .windows(2)
        .filter(|w| !in_bad(bad, w[0].sample) && !in_bad(bad, w[1].sample))
        .map(|w| (w[1].time_s, (w[1].sample - w[0].sample) as f64 / fs))
        .filter(|&(_, rr)| (0.2..=3.0).contains(&rr))
        .collect()
}

fn summarize(
    beats: &[BeatOut],
    rhythm: &RhythmResult,
    bad: &[QualitySegment],
    fs: f64,
    frames: u64,
) -> Summary {
    let mut classes = ClassCounts::default();
    for b in beats {
        classes.add(b.class);
    }
    let secs = |q: Quality| -> f64 {
        bad.iter()
            .filter(|s| s.quality == q)
            .map(|s| (s.end - s.start) as f64 / fs)
            .sum::<f64>()
            .max(0.0) // an empty sum is -0.0
    };
    let noisy_s = secs(Quality::Noisy);
    let leads_off_s = secs(Quality::LeadsOff);
    let analysed_s = (frames as f64 / fs - noisy_s - leads_off_s).max(0.0);
    let rr = usable_rr(beats, bad, fs);
    let heart_rate_mean_bpm =
        (!rr.is_empty()).then(|| 60.0 * rr.len() as f64 / rr.iter().map(|r| r.1).sum::<f64>());
    let (mut lo, mut hi): (Option<RateAt>, Option<RateAt>) = (None, None);
    if rr.len() >= RATE_AVERAGE_BEATS {
        let mut sum: f64 = rr[..RATE_AVERAGE_BEATS].iter().map(|r| r.1).sum();
        for i in RATE_AVERAGE_BEATS - 1..rr.len() {
            if i >= RATE_AVERAGE_BEATS {
                sum += rr[i].1 - rr[i - RATE_AVERAGE_BEATS].1;
            }
            // Only runs of contiguous intervals (no gap between them) make an average.
            let span =
                rr[i].0 - rr[i + 1 - RATE_AVERAGE_BEATS].0 + rr[i + 1 - RATE_AVERAGE_BEATS].1;
            if (span - sum).abs() > 0.05 {
                continue;
            }
            let at = RateAt {
                bpm: 60.0 * RATE_AVERAGE_BEATS as f64 / sum,
                time_s: rr[i].0,
            };
            if lo.is_none_or(|l| at.bpm < l.bpm) {
                lo = Some(at);
            }
            if hi.is_none_or(|h| at.bpm > h.bpm) {
                hi = Some(at);
            }
        }
    }
    let c = &rhythm.counts;
    let ectopy = Ectopy {
        isolated_v: c.v_isolated as u64,
        v_couplets: c.v_couplets as u64,
        v_runs: c.v_runs as u64,
        isolated_s: c.s_isolated as u64,
        s_couplets: c.s_couplets as u64,
        s_runs: c.s_runs as u64,
    };
    let mut totals: Vec<EpisodeTotals> = Vec::new();
    for e in &rhythm.episodes {
        let d = (e.end - e.start) as f64 / fs;
        let kind = e.kind.name().to_string();
        match totals.iter_mut().find(|t| t.kind == kind) {
            Some(t) => {
                t.count += 1;
                t.total_s += d;
                t.longest_s = t.longest_s.max(d);
            }
            None => totals.push(EpisodeTotals {
                kind,
                count: 1,
                total_s: d,
                longest_s: d,
            }),
        }
    }
    let af_s: f64 = rhythm
        .episodes
        .iter()
        .filter(|e| e.kind == RhythmKind::AtrialFibrillation)
        .map(|e| (e.end - e.start) as f64 / fs)
        .sum();
    Summary {
        beats: beats.len() as u64,
        classes,
        heart_rate_mean_bpm,
        heart_rate_min: lo,
        heart_rate_max: hi,
        analysed_s,
        noisy_s,
        leads_off_s,
        ectopy,
        af_burden_percent: if analysed_s > 0.0 {
            // `+ 0.0`: an empty sum is −0.0, which clamp keeps and reports print as "-0.0 %".
            (100.0 * af_s / analysed_s).clamp(0.0, 100.0) + 0.0
        } else {
            0.0
        },
        episode_totals: totals,
    }
}

/// A human title for a rhythm kind.
pub fn kind_title(kind: RhythmKind) -> &'static str {
    match kind {
        RhythmKind::AtrialFibrillation => "Atrial fibrillation / flutter",
        RhythmKind::VentricularTachycardia => "Ventricular tachycardia",
        RhythmKind::VentricularBigeminy => "Ventricular bigeminy",
        RhythmKind::VentricularTrigeminy => "Ventricular trigeminy",
        RhythmKind::SupraventricularTachycardia => "Supraventricular tachyarrhythmia",
        RhythmKind::SinusBradycardia => "Bradycardia",
        RhythmKind::SinusTachycardia => "Tachycardia",
        RhythmKind::Pause => "Pause",
        RhythmKind::Asystole => "Asystole",
        RhythmKind::Noise => "Noise / leads off",
    }
}

/// The report form of the rhythm state machine's episodes.
pub fn episodes_out(episodes: &[Episode], fs: f64) -> Vec<EpisodeOut> {
    episodes
        .iter()
        .map(|e| EpisodeOut {
            kind: e.kind.name().to_string(),
            title: kind_title(e.kind).to_string(),
            start_sample: e.start,
            end_sample: e.end,
            start_s: e.start as f64 / fs,
            end_s: e.end as f64 / fs,
            duration_s: (e.end - e.start) as f64 / fs,
            beats: e.beats,
            min_rate_bpm: e.min_rate_bpm,
            mean_rate_bpm: e.mean_rate_bpm,
            max_rate_bpm: e.max_rate_bpm,
        })
        .collect()
}

/// Width of a heart-rate trend bin (s): 10 s up to an hour of recording (a 30-minute record gets
/// 180 points), a minute beyond (a day gets 1440).
pub fn trend_bin_s(duration_s: f64) -> f64 {
    if duration_s <= 3600.0 {
        10.0
    } else {
        60.0
    }
}

/// Heart rate per trend bin (bins without usable intervals are left out).
fn trend(beats: &[BeatOut], bad: &[QualitySegment], fs: f64, frames: u64) -> Vec<TrendPoint> {
    let bin = trend_bin_s(frames as f64 / fs);
    let minutes = ((frames as f64 / fs) / bin).ceil() as usize;
    let mut acc = vec![(0.0f64, 0u32, f64::INFINITY, 0.0f64); minutes];
    for (t, rr) in usable_rr(beats, bad, fs) {
        let m = ((t / bin) as usize).min(minutes.saturating_sub(1));
        if let Some(a) = acc.get_mut(m) {
            a.0 += rr;
            a.1 += 1;
            a.2 = a.2.min(60.0 / rr);
            a.3 = a.3.max(60.0 / rr);
        }
    }
    acc.iter()
        .enumerate()
        .filter(|(_, a)| a.1 > 0)
        .map(|(m, a)| TrendPoint {
            time_s: m as f64 * bin,
            bin_s: bin,
            mean_bpm: 60.0 * a.1 as f64 / a.0,
            min_bpm: a.2,
            max_bpm: a.3,
            beats: a.1,
        })
        .collect()
}

/// The events worth a strip, most important first.
fn pick_events(episodes: &[EpisodeOut], summary: &Summary, duration_s: f64) -> Vec<Event> {
    let mut events = Vec::new();
    let mut push = |kind: &str, title: String, t: f64| {
        let start = (t - STRIP_HALF_S).max(0.0);
        let end = (start + 2.0 * STRIP_HALF_S).min(duration_s);
        let start = (end - 2.0 * STRIP_HALF_S).max(0.0);
        events.push(Event {
            kind: kind.to_string(),
            title,
            time_s: t,
            strip_start_s: start,
            strip_end_s: end,
        });
    };
    fn of<'a>(episodes: &'a [EpisodeOut], k: &'a str) -> impl Iterator<Item = &'a EpisodeOut> {
        episodes.iter().filter(move |e| e.kind == k)
    }
    // Ventricular tachycardia: the fastest run, the longest breaking ties.
    if let Some(e) = of(episodes, "VT").max_by(|a, b| {
        (a.max_rate_bpm, a.duration_s)
            .partial_cmp(&(b.max_rate_bpm, b.duration_s))
            .unwrap_or(std::cmp::Ordering::Equal)
    }) {
        push(
            "worst_vt",
            format!(
                "Worst VT run: {} beats, up to {:.0} bpm, at {}",
                e.beats,
                e.max_rate_bpm,
                clock(e.start_s)
            ),
            e.start_s + (e.duration_s / 2.0).min(STRIP_HALF_S - 1.0),
        );
    }
    if let Some(e) = of(episodes, "asystole").max_by(|a, b| a.duration_s.total_cmp(&b.duration_s)) {
        push(
            "longest_asystole",
            format!("Asystole: {:.1} s at {}", e.duration_s, clock(e.start_s)),
            (e.start_s + e.end_s) / 2.0,
        );
    }
    if let Some(e) = of(episodes, "pause").max_by(|a, b| a.duration_s.total_cmp(&b.duration_s)) {
        push(
            "longest_pause",
            format!(
                "Longest pause: {:.2} s at {}",
                e.duration_s,
                clock(e.start_s)
            ),
            (e.start_s + e.end_s) / 2.0,
        );
    }
    if let Some(e) = of(episodes, "AF").next() {
        push(
            "af_onset",
            format!("Atrial fibrillation onset at {}", clock(e.start_s)),
            e.start_s,
        );
    }
    if let Some(e) = of(episodes, "AF")
        .skip(1)
        .max_by(|a, b| a.duration_s.total_cmp(&b.duration_s))
    {
        push(
            "longest_af",
            format!(
                "Longest AF episode: {} at {}",
                clock(e.duration_s),
                clock(e.start_s)
            ),
            e.start_s + STRIP_HALF_S,
        );
    }
    for (k, name) in [
        ("SVT", "Supraventricular tachyarrhythmia"),
        ("bigeminy", "Ventricular bigeminy"),
        ("trigeminy", "Ventricular trigeminy"),
    ] {
        if let Some(e) = of(episodes, k).max_by(|a, b| a.duration_s.total_cmp(&b.duration_s)) {
            push(
                &format!("longest_{}", k.to_ascii_lowercase()),
                format!("{name}: {:.0} s at {}", e.duration_s, clock(e.start_s)),
                e.start_s + (e.duration_s / 2.0).min(STRIP_HALF_S),
            );
        }
    }
    if let Some(r) = summary.heart_rate_max {
        push(
            "max_rate",
            format!(
                "Fastest heart rate: {:.0} bpm at {}",
                r.bpm,
                clock(r.time_s)
            ),
            r.time_s,
        );
    }
    if let Some(r) = summary.heart_rate_min {
        push(
            "min_rate",
            format!(
                "Slowest heart rate: {:.0} bpm at {}",
                r.bpm,
                clock(r.time_s)
            ),
            r.time_s,
        );
    }
    events
}

/// `h:mm:ss` of a time in seconds.
pub fn clock(t: f64) -> String {
    let s = t.max(0.0).round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

fn reference_summary(name: &str, anns: &[Annotation], fs: f64, frames: u64) -> ReferenceSummary {
    let mut classes = ClassCounts::default();
    for a in anns.iter().filter(|a| a.is_beat()) {
        use sinus_eval::bxb::Label;
        let c = match sinus_eval::bxb::aami_class(a.code) {
            Some(Label::N) => 'N',
            Some(Label::S) => 'S',
            Some(Label::V) => 'V',
            Some(Label::F) => 'F',
            _ => 'Q',
        };
        classes.add(c);
    }
    let rhythms = sinus_eval::rhythm::rhythm_intervals(anns, frames as i64)
        .into_iter()
        .map(|r| (r.label, r.start as f64 / fs, r.end as f64 / fs))
        .collect();
    ReferenceSummary {
        annotator: name.to_string(),
        classes,
        rhythms,
    }
}
