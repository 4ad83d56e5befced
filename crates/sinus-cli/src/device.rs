//! `sinus device simulate REC --tcp ADDR|--out FILE` (a device on a PC: the recording through the
//! monitor, spoken in the device protocol) and `sinus listen --tcp ADDR [--out DIR]` (the host:
//! decode, live status, store the session as WFDB). Both only parse arguments and call
//! `sinus-stream`.

use crate::engine_arg::FrontEndArg;
use crate::progress::Progress;
use crate::CliResult;
use clap::{Args, Subcommand};
use sinus_analyze::device::{device_signal, monitor_config};
use sinus_core::wire::{cobs_encode, Message, MAX_FRAME, MAX_PACKET};
use sinus_io::open::{open, OpenOptions};
use sinus_io::Error;
use sinus_stream::device::DeviceSession;
use sinus_stream::host::HostSession;
use sinus_stream::link::{listen, play, Faults, PlayOptions, Speed};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::mpsc;

/// `sinus device` subcommands.
#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Play a recording through the device's monitor and send what the device would send.
    Simulate(SimulateArgs),
}

/// Arguments of `sinus device simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The recording (default: the built-in demo).
    pub input: Option<PathBuf>,
    /// Connect to a listener at ADDR (host:port) and send there; host commands are answered.
    #[arg(long, value_name = "ADDR", conflicts_with = "out")]
    pub tcp: Option<String>,
    /// Write the byte stream to FILE instead (`sinus listen --file FILE` reads it).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// `1x` (as the device: one second per second), `Nx` (N times faster) or `max`.
    #[arg(long, default_value = "max")]
    pub speed: String,
    /// Faults on the line, e.g. `drop=0.01,corrupt=0.01,dup=0.005` (fractions of bytes).
    #[arg(long, value_name = "SPEC")]
    pub inject_faults: Option<String>,
    /// Seed of the faults.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Front end.
    #[arg(long, value_enum, default_value = "ad8232")]
    pub front_end: FrontEndArg,
    /// Do not stream raw samples until the host asks (START_RAW).
    #[arg(long)]
    pub no_raw: bool,
}

/// Arguments of `sinus listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Accept one device connection on ADDR (host:port).
    #[arg(long, value_name = "ADDR", required_unless_present = "file")]
    pub tcp: Option<String>,
    /// Read a byte stream written by `sinus device simulate --out FILE`.
    #[arg(long, value_name = "FILE", conflicts_with = "tcp")]
    pub file: Option<PathBuf>,
    /// Store the session as a WFDB record (`NAME.hea`, `NAME.dat`, `NAME.sinus`) in DIR.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Record name.
    #[arg(long, default_value = "session")]
    pub name: String,
}

/// Run `sinus device`.
pub fn run(cmd: DeviceCommand, progress: &Progress) -> CliResult {
    match cmd {
        DeviceCommand::Simulate(a) => simulate(a, progress),
    }
}

fn parse_speed(s: &str) -> CliResult<Speed> {
    if s == "max" {
        return Ok(Speed::Max);
    }
    match s.strip_suffix('x').and_then(|v| v.parse::<f64>().ok()) {
        Some(f) if f.is_finite() && f > 0.0 => Ok(Speed::RealTime(f)),
        _ => Err(format!("--speed {s}: expected 1x, 10x, ... or max").into()),
    }
}

/// Bytes a reader thread got, handed over without blocking the sender.
struct Pending(mpsc::Receiver<Vec<u8>>);

impl Read for Pending {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.0.try_recv() {
            Ok(v) => {
                let n = v.len().min(buf.len());
                buf[..n].copy_from_slice(&v[..n]);
                Ok(n)
            }
            Err(_) => Ok(0),
        }
    }
}

fn simulate(args: SimulateArgs, _progress: &Progress) -> CliResult {
    let opened = match &args.input {
        Some(p) => open(p, &OpenOptions::default())?,
        None => crate::record_arg::open_builtin_demo()?,
    };
    let signal = device_signal(&opened.recording, 0, args.front_end.front_end())?;
    let model = sinus_ml::shipped::BEATNET_ONE_LEAD_INT8;
    let cfg = monitor_config(model, &signal)?;
    let speed = parse_speed(&args.speed)?;
    let faults: Faults = match &args.inject_faults {
        Some(s) => s
            .parse()
            .map_err(|e: String| format!("--inject-faults: {e}"))?,
        None => Faults::default(),
    };
    let options = PlayOptions {
        speed,
        faults,
        seed: args.seed,
    };
    let mut device = DeviceSession::new(model, cfg, *b"SIM00001", !args.no_raw)?;
    let stats = match (&args.tcp, &args.out) {
        (Some(addr), _) => {
            let mut stream = std::net::TcpStream::connect(addr)
                .map_err(|e| format!("--tcp {addr}: cannot connect: {e}"))?;
            let mut reader = stream.try_clone()?;
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                let mut buf = [0u8; 512];
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            });
            let mut commands = Pending(rx);
            play(
                &mut device,
                &signal.codes,
                signal.fs,
                options,
                &mut stream,
                Some(&mut commands),
            )?
        }
        (None, Some(path)) => {
            let mut file = std::io::BufWriter::new(
                std::fs::File::create(path).map_err(|e| Error::io(path, e))?,
            );
            let s = play(
                &mut device,
                &signal.codes,
                signal.fs,
                options,
                &mut file,
                None,
            )?;
            file.flush().map_err(|e| Error::io(path, e))?;
            s
        }
        (None, None) => return Err("give --tcp ADDR or --out FILE".into()),
    };
    eprintln!(
        "sent {} samples ({:.1} min) in {} bytes; faults injected: {} dropped, {} corrupted, {} duplicated bytes",
        stats.samples,
        stats.samples as f64 / signal.fs / 60.0,
        stats.bytes,
        stats.faults[0],
        stats.faults[1],
        stats.faults[2]
    );
    Ok(())
}

/// Frame a host command.
fn command(msg: Message<'_>, seq: u16) -> Vec<u8> {
    let mut p = [0u8; MAX_PACKET];
    let mut f = [0u8; MAX_FRAME];
    let n = msg.emit(seq, &mut p).unwrap_or(0);
    let k = cobs_encode(&p[..n], &mut f).unwrap_or(0);
    f[..k].to_vec()
}

/// Run `sinus listen`.
pub fn run_listen(args: ListenArgs, progress: &Progress) -> CliResult {
    let mut host = HostSession::new();
    let quiet = progress.is_hidden();
    let mut last = std::time::Instant::now();
    let mut status = |h: &HostSession| {
        if !quiet && last.elapsed().as_millis() >= 250 {
            last = std::time::Instant::now();
            eprint!("\r\x1b[2K{}", h.status_line());
        }
    };
    match (&args.tcp, &args.file) {
        (Some(addr), _) => {
            let listener = std::net::TcpListener::bind(addr)
                .map_err(|e| format!("--tcp {addr}: cannot listen: {e}"))?;
            if !quiet {
                eprintln!("listening on {}", listener.local_addr()?);
            }
            let (mut stream, peer) = listener.accept()?;
            if !quiet {
                eprintln!("device connected from {peer}");
            }
            // Ask who it is and for the signal.
            let mut hello = command(Message::HelloRequest, 0);
            hello.extend(command(Message::StartRaw, 1));
            stream.write_all(&hello)?;
            listen(&mut host, &mut stream, &mut status)?;
        }
        (None, Some(path)) => {
            let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
            listen(&mut host, &mut file, &mut status)?;
        }
        (None, None) => return Err("give --tcp ADDR or --file FILE".into()),
    }
    if !quiet {
        eprintln!();
    }
    let f = host.frames();
    let summary = format!(
        "{}\nreceived {} packets, {} lost, {} duplicates; refused frames: {} bad CRC, {} bad framing, {} other; {} samples ({:.1} min)\n",
        host.status_line(),
        host.sequence.received,
        host.sequence.lost,
        host.sequence.duplicates,
        f.crc_errors,
        f.cobs_errors + f.overflows,
        f.other_errors,
        host.samples.len(),
        host.hello.map_or(0.0, |h| host.samples.len() as f64 / h.fs as f64 / 60.0)
    );
    crate::print_out(&summary)?;
    if let Some(dir) = &args.out {
        host.write_wfdb(dir, &args.name)?;
        crate::print_out(&format!(
            "stored {}/{}.hea, .dat and .sinus (analyse with: sinus analyze {}/{})\n",
            dir.display(),
            args.name,
            dir.display(),
            args.name
        ))?;
    }
    Ok(())
}
