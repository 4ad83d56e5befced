//! End to end: a simulated device plays a recording through the monitor into a byte stream
//! (in memory, and over TCP on 127.0.0.1), faults injected or not; the host decodes it, counts
//! what was lost and stores a WFDB record that reads back.

use sinus_analyze::device::{device_signal, excerpt, monitor_config, FrontEnd};
use sinus_core::monitor::{Event, Monitor};
use sinus_io::MISSING;
use sinus_stream::device::DeviceSession;
use sinus_stream::host::HostSession;
use sinus_stream::link::{listen, play, Faults, PlayOptions, Speed};

static MODEL: &[u8] = sinus_ml::shipped::BEATNET_ONE_LEAD_INT8;

/// Two minutes of the demo recording as an AD8232 front end gives it.
fn codes() -> (Vec<Option<i32>>, sinus_core::monitor::MonitorConfig) {
    let spec = sinus_signal::synth::preset("demo").unwrap();
    let rec = excerpt(
        &sinus_signal::synth::generate(&spec).unwrap().recording,
        120.0,
    );
    let signal = device_signal(&rec, 0, FrontEnd::Ad8232).unwrap();
    let cfg = monitor_config(MODEL, &signal).unwrap();
    (signal.codes, cfg)
}

fn monitor_beats(codes: &[Option<i32>], cfg: sinus_core::monitor::MonitorConfig) -> Vec<(u64, u8)> {
    let mut m = Box::new(Monitor::new(MODEL, cfg).unwrap());
    let mut beats = Vec::new();
    let mut on = |e: Event| {
        if let Event::Beat { sample, class, .. } = e {
            beats.push((sample, class as u8));
        }
    };
    for &c in codes {
        m.push(c, &mut on);
    }
    m.finish(&mut on);
    beats
}

#[test]
fn a_clean_link_delivers_every_sample_and_beat() {
    let (codes, cfg) = codes();
    let mut dev = DeviceSession::new(MODEL, cfg, *b"TEST0001", true).unwrap();
    let mut bytes = Vec::new();
    let sent = play(
        &mut dev,
        &codes,
        cfg.fs as f64,
        PlayOptions::default(),
        &mut bytes,
        None,
    )
    .unwrap();
    assert_eq!(sent.samples, codes.len() as u64);
    let mut host = HostSession::new();
    listen(&mut host, &mut &bytes[..], &mut |_| {}).unwrap();
    assert_eq!(host.sequence.lost, 0);
    assert_eq!(host.sequence.duplicates, 0);
    let hello = host.hello.unwrap();
    assert_eq!(hello.fs, cfg.fs);
    assert_eq!(hello.counts_per_mv, cfg.counts_per_mv);
    let want: Vec<i32> = codes.iter().map(|c| c.unwrap_or(MISSING)).collect();
    assert_eq!(host.samples, want);
    let got: Vec<(u64, u8)> = host
        .beats
        .iter()
        .map(|b| (b.sample, b.class.unwrap()))
        .collect();
    assert_eq!(got, monitor_beats(&codes, cfg));
    assert!(got.len() > 100);
    assert!(host.status_line().contains("lost 0"));
}

#[test]
fn a_faulty_link_loses_what_was_hit_and_nothing_false() {
    // The rates (2.5 % of bytes hit: a one-second sample block of ~200 bytes rarely
    // survives), then a link 10 times better.
    faulty("drop=0.01,corrupt=0.01,dup=0.005", 0);
    faulty("drop=0.001,corrupt=0.001,dup=0.0005", 4);
}

/// Everything that arrives through `spec`'s faults is what was sent; at least
/// `1/min_present_part` of the samples arrive (0: no such floor).
fn faulty(spec: &str, min_present_part: usize) {
    let (codes, cfg) = codes();
    let mut dev = DeviceSession::new(MODEL, cfg, *b"TEST0002", true).unwrap();
    let mut bytes = Vec::new();
    let faults: Faults = spec.parse().unwrap();
    let sent = play(
        &mut dev,
        &codes,
        cfg.fs as f64,
        PlayOptions {
            speed: Speed::Max,
            faults,
            seed: 9,
        },
        &mut bytes,
        None,
    )
    .unwrap();
    assert!(sent.faults.iter().all(|&f| f > 10), "{:?}", sent.faults);
    let mut host = HostSession::new();
    listen(&mut host, &mut &bytes[..], &mut |_| {}).unwrap();
    // Something was lost and counted; everything that arrived is exactly what was sent.
    assert!(host.sequence.lost > 0);
    let mut present = 0;
    for (k, &s) in host.samples.iter().enumerate() {
        if s != MISSING {
            assert_eq!(Some(s), codes[k], "sample {k}");
            present += 1;
        }
    }
    if let Some(floor) = codes.len().checked_div(min_present_part) {
        assert!(present > floor, "{spec}: {present}");
    }
    let truth = monitor_beats(&codes, cfg);
    for b in &host.beats {
        if let Some(c) = b.class {
            assert!(truth.contains(&(b.sample, c)), "{b:?} was never sent");
        }
    }
    let f = host.frames();
    assert!(f.crc_errors + f.cobs_errors > 0);
}

#[test]
fn over_tcp_the_session_is_stored_as_a_wfdb_record() {
    let (codes, cfg) = codes();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_path_buf();
    let host_thread = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut host = HostSession::new();
        listen(&mut host, &mut stream, &mut |_| {}).unwrap();
        host.write_wfdb(&out, "session").unwrap();
        host
    });
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let mut dev = DeviceSession::new(MODEL, cfg, *b"TEST0003", true).unwrap();
    play(
        &mut dev,
        &codes,
        cfg.fs as f64,
        PlayOptions::default(),
        &mut stream,
        None,
    )
    .unwrap();
    drop(stream);
    let host = host_thread.join().unwrap();
    assert_eq!(host.sequence.lost, 0);
    let rec = sinus_io::wfdb::record::read_record(dir.path().join("session"))
        .unwrap()
        .recording;
    assert_eq!(rec.frame_frequency, cfg.fs as f64);
    let want: Vec<i32> = codes.iter().map(|c| c.unwrap_or(MISSING)).collect();
    assert_eq!(rec.signals[0].samples, want);
    let anns = sinus_io::wfdb::annotation::read_annotations(
        dir.path().join("session.sinus"),
        Some(cfg.fs as f64),
    )
    .unwrap();
    let beats = anns.annotations.iter().filter(|a| a.is_beat()).count();
    assert_eq!(beats, monitor_beats(&codes, cfg).len());
}

#[test]
fn fault_specs_parse_and_bad_ones_are_refused() {
    let f: Faults = "drop=0.01,corrupt=0.02,dup=0.005".parse().unwrap();
    assert_eq!(
        (f.drop_ppm, f.corrupt_ppm, f.duplicate_ppm),
        (10_000, 20_000, 5_000)
    );
    assert!("drop=2".parse::<Faults>().is_err());
    assert!("lose=0.1".parse::<Faults>().is_err());
    assert!("drop".parse::<Faults>().is_err());
}

#[cfg(unix)]
#[test]
fn over_a_pseudo_terminal_pair_like_a_serial_line() {
    use sinus_stream::link::listen_until_idle;
    let (codes, cfg) = codes();
    let (mut master, mut slave) = serialport::TTYPort::pair().expect("a pseudo-terminal pair");
    serialport::SerialPort::set_timeout(&mut slave, std::time::Duration::from_millis(100)).unwrap();
    let host_thread = std::thread::spawn(move || {
        let mut host = HostSession::new();
        listen_until_idle(
            &mut host,
            &mut slave,
            std::time::Duration::from_secs(2),
            &mut |_| {},
        )
        .unwrap();
        host
    });
    let mut dev = DeviceSession::new(MODEL, cfg, *b"TEST0004", true).unwrap();
    play(
        &mut dev,
        &codes,
        cfg.fs as f64,
        PlayOptions::default(),
        &mut master,
        None,
    )
    .unwrap();
    let host = host_thread.join().unwrap();
    assert_eq!(host.sequence.lost, 0, "{}", host.status_line());
    let want: Vec<i32> = codes.iter().map(|c| c.unwrap_or(MISSING)).collect();
    assert_eq!(host.samples, want);
    assert_eq!(host.beats.len(), monitor_beats(&codes, cfg).len());
}
