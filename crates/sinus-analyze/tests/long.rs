//! A long recording analysed in chunks gives the analysis of a single pass: the same beats
//! (±1 sample) and classes on all but a few, the same AF episodes within seconds, and a report
//! with its strips read back from the file.

use sinus_analyze::long::{analyze_chunked, Chunking};
use sinus_analyze::model::Analysis;
use sinus_analyze::{analyze, html, AnalyzeOptions, Input};
use sinus_io::chunked::ChunkedReader;
use sinus_io::wfdb::format::SignalFormat;
use sinus_io::wfdb::record::read_record;
use sinus_ml::infer::Classifier;
use sinus_signal::noise::NoiseKind;
use sinus_signal::synth::{generate, preset, write_wfdb, Event, Rhythm, Segment};

/// Three hours of the 24 h Holter preset's signal with its own script: AF across the first
/// chunk boundary (60 min), bigeminy and a VT run near the second (120 min), a noise burst
/// straddling it, a pause.
fn write_3h(dir: &std::path::Path) -> std::path::PathBuf {
    let mut spec = preset("holter-24h").expect("preset");
    spec.seconds = 3.0 * 3600.0;
    spec.name = "h3".into();
    spec.segments = vec![
        Segment::new(55.0 * 60.0, 10.0 * 60.0, Rhythm::Afib { mean_bpm: 110.0 }),
        Segment::new(100.0 * 60.0, 3.0 * 60.0, Rhythm::Bigeminy),
        Segment::new(
            119.0 * 60.0 + 50.0,
            6.0 * 60.0 / 160.0 - 0.1,
            Rhythm::Vt { bpm: 160.0 },
        ),
        Segment::new(150.0 * 60.0, 5.0 * 60.0, Rhythm::Afib { mean_bpm: 90.0 }),
    ];
    spec.events = vec![
        Event::NoiseBurst {
            at_s: 120.0 * 60.0 - 8.0,
            duration_s: 20.0,
            kind: NoiseKind::ElectrodeMotion,
            level_mv: 0.4,
        },
        Event::Pause {
            at_s: 80.0 * 60.0,
            duration_s: 2.6,
        },
    ];
    let synthetic = generate(&spec).expect("generate");
    write_wfdb(&synthetic, dir, "h3", SignalFormat::Fmt212).expect("write");
    dir.join("h3")
}

fn classifier() -> Classifier {
    sinus_ml::shipped::classifier().expect("shipped model loads")
}

fn af(a: &Analysis) -> Vec<(f64, f64)> {
    a.episodes
        .iter()
        .filter(|e| e.kind == "AF")
        .map(|e| (e.start_s, e.end_s))
        .collect()
}

#[test]
fn three_hours_in_chunks_match_a_single_pass() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_3h(dir.path());
    let model = classifier();
    let options = AnalyzeOptions::default();

    let rec = read_record(&path).unwrap().recording;
    fn input(r: &sinus_io::Recording) -> Input<'_> {
        Input {
            recording: r,
            path: None,
            format: "WFDB",
            reference: None,
        }
    }
    let (whole, _) = analyze(input(&rec), &model, &options).unwrap();
    drop(rec);

    let reader = ChunkedReader::open(&path).unwrap();
    for chunking in [
        Chunking::default(),
        // Shorter chunks and the shortest margin the module allows for: more boundaries.
        Chunking {
            chunk_s: 20.0 * 60.0,
            margin_s: 60.0,
        },
    ] {
        let (chunked, details) = analyze_chunked(
            &reader,
            input(reader.metadata()),
            &model,
            &options,
            chunking,
        )
        .unwrap();
        assert_eq!(chunked.record.samples, whole.record.samples);

        // Beats: matched within one sample, in order.
        let (a, b) = (&whole.beats, &chunked.beats);
        let (mut i, mut j, mut same, mut same_class) = (0, 0, 0usize, 0usize);
        while i < a.len() && j < b.len() {
            let (x, y) = (a[i].sample as i64, b[j].sample as i64);
            if (x - y).abs() <= 1 {
                same += 1;
                same_class += usize::from(a[i].class == b[j].class);
                i += 1;
                j += 1;
            } else if x < y {
                i += 1;
            } else {
                j += 1;
            }
        }
        let n = a.len().max(b.len());
        let beat_share = same as f64 / n as f64;
        let class_share = same_class as f64 / n as f64;
        eprintln!(
            "{chunking:?}: {} / {} beats, {same} the same ({:.4} %), classes {:.4} %",
            a.len(),
            b.len(),
            100.0 * beat_share,
            100.0 * class_share
        );
        assert!(beat_share >= 0.999, "{beat_share}");
        assert!(class_share >= 0.995, "{class_share}");

        // AF episodes: the same ones, edges within a few seconds.
        let (wa, ca) = (af(&whole), af(&chunked));
        eprintln!("AF whole {wa:?}\nAF chunked {ca:?}");
        assert_eq!(wa.len(), ca.len());
        for (w, c) in wa.iter().zip(&ca) {
            assert!(
                (w.0 - c.0).abs() < 5.0 && (w.1 - c.1).abs() < 5.0,
                "{w:?} {c:?}"
            );
        }
        assert_eq!(whole.signal_quality.len(), chunked.signal_quality.len());
        assert_eq!(whole.events.len(), chunked.events.len());

        // The report draws every strip from what was read back.
        assert!(details.lead0.is_empty());
        assert!(!details.strips.is_empty());
        let report = html::report(&chunked, &details, None);
        let strips = report.matches("class=\"strip\"").count();
        assert_eq!(strips, chunked.events.len());
        assert!(report.matches("stroke=\"#111\"").count() >= 2 * strips);
    }
}
