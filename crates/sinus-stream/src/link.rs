//! Running a device session into a byte sink (TCP, a serial port, a file), paced in real time
//! or as fast as possible, with faults injected on the way; and a host reading a stream.

use crate::device::DeviceSession;
use crate::host::HostSession;
use sinus_core::wire::FaultInjector;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// Fault rates (per million bytes) for `--inject-faults drop=0.01,corrupt=0.01,dup=0.005`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    /// Bytes dropped.
    pub drop_ppm: u32,
    /// Bytes replaced.
    pub corrupt_ppm: u32,
    /// Bytes duplicated.
    pub duplicate_ppm: u32,
}

impl std::str::FromStr for Faults {
    type Err = String;
    fn from_str(s: &str) -> Result<Faults, String> {
        let mut f = Faults::default();
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("{part}: expected NAME=RATE, e.g. drop=0.01"))?;
            let rate: f64 = v
                .trim()
                .parse()
                .ok()
                .filter(|r: &f64| (0.0..=0.5).contains(r))
                .ok_or_else(|| format!("{part}: the rate must be a fraction between 0 and 0.5"))?;
            let ppm = (rate * 1e6).round() as u32;
            match k.trim() {
                "drop" => f.drop_ppm = ppm,
                "corrupt" => f.corrupt_ppm = ppm,
                "dup" | "duplicate" => f.duplicate_ppm = ppm,
                other => return Err(format!("{other}: faults are drop, corrupt and dup")),
            }
        }
        Ok(f)
    }
}

/// How fast a simulated device sends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// As the device would: one second of samples per second.
    RealTime(f64),
    /// As fast as the sink takes it.
    Max,
}

/// What a device run sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct SentStats {
    /// Samples played.
    pub samples: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Faults injected: dropped, corrupted, duplicated bytes.
    pub faults: [u64; 3],
}

/// How [`play`] sends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlayOptions {
    /// Pace.
    pub speed: Speed,
    /// Faults on the line.
    pub faults: Faults,
    /// Seed of the faults.
    pub seed: u64,
}

impl Default for PlayOptions {
    fn default() -> Self {
        PlayOptions {
            speed: Speed::Max,
            faults: Faults::default(),
            seed: 1,
        }
    }
}

/// Play `codes` (at `fs` Hz) through `device` into `sink`, reading host commands from
/// `commands` (if any) between tenths of a second.
pub fn play(
    device: &mut DeviceSession,
    codes: &[Option<i32>],
    fs: f64,
    options: PlayOptions,
    sink: &mut impl Write,
    mut commands: Option<&mut dyn Read>,
) -> std::io::Result<SentStats> {
    let (speed, faults) = (options.speed, options.faults);
    let mut injector = FaultInjector::new(
        options.seed,
        faults.drop_ppm,
        faults.corrupt_ppm,
        faults.duplicate_ppm,
    );
    let mut out = Vec::new();
    let mut line = Vec::new();
    let mut stats = SentStats::default();
    let start = Instant::now();
    let chunk = ((fs / 10.0).round() as usize).max(1);
    device.start(&mut out);
    let mut write =
        |out: &mut Vec<u8>, sink: &mut dyn Write, stats: &mut SentStats| -> std::io::Result<()> {
            line.clear();
            injector.apply(out, &mut |b| line.push(b));
            sink.write_all(&line)?;
            sink.flush()?;
            stats.bytes += line.len() as u64;
            stats.faults = injector.counts;
            out.clear();
            Ok(())
        };
    for (k, part) in codes.chunks(chunk).enumerate() {
        if let Some(cmd) = commands.as_deref_mut() {
            let mut buf = [0u8; 512];
            // Non-blocking sources return WouldBlock; treat it as no command.
            match cmd.read(&mut buf) {
                Ok(n) if n > 0 => device.receive(&buf[..n], &mut out),
                _ => {}
            }
        }
        for &c in part {
            device.push(c, &mut out);
        }
        stats.samples += part.len() as u64;
        write(&mut out, sink, &mut stats)?;
        if let Speed::RealTime(factor) = speed {
            let due = Duration::from_secs_f64((k + 1) as f64 * chunk as f64 / fs / factor);
            if let Some(wait) = due.checked_sub(start.elapsed()) {
                std::thread::sleep(wait);
            }
        }
    }
    device.finish(&mut out);
    write(&mut out, sink, &mut stats)?;
    Ok(stats)
}

/// Read `source` to its end into `host`, calling `status` with the session after every read.
pub fn listen(
    host: &mut HostSession,
    source: &mut impl Read,
    status: &mut impl FnMut(&HostSession),
) -> std::io::Result<()> {
    let mut buf = [0u8; 4096];
    loop {
        match source.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                host.feed(&buf[..n]);
                status(host);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Open a serial port at `baud` (8N1) for the link, with a read timeout so that a quiet line
/// does not block a listener for ever.
pub fn open_serial(path: &str, baud: u32) -> Result<Box<dyn serialport::SerialPort>, String> {
    serialport::new(path, baud)
        .timeout(Duration::from_millis(200))
        .open()
        .map_err(|e| format!("{path}: cannot open the serial port: {e}"))
}

/// Read `source` into `host` until it ends or stays quiet for `idle` (a serial line never
/// ends: read timeouts count as quiet time), calling `status` after every read.
pub fn listen_until_idle(
    host: &mut HostSession,
    source: &mut impl Read,
    idle: Duration,
    status: &mut impl FnMut(&HostSession),
) -> std::io::Result<()> {
    let mut buf = [0u8; 4096];
    let mut last = Instant::now();
    loop {
        match source.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                last = Instant::now();
                host.feed(&buf[..n]);
                status(host);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                if last.elapsed() >= idle {
                    return Ok(());
                }
            }
            Err(e) => return Err(e),
        }
    }
}
