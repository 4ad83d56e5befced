//! The device link's bandwidth on a real recording: the codes the device would sample (a
//! firmware input file from `sinus edge simulate REC --firmware-input FILE`) run through the
//! monitor; every event becomes its packet, and the samples go as RAW_SAMPLES blocks of one
//! second, delta/Rice coded; every packet is COBS-framed. Prints bytes per second by kind and
//! the share of a 115200-baud line (8N1: 11,520 bytes/s).
//!
//! `cargo run --release -p sinus-core --example link_budget -- input.bin`
use sinus_core::beat::WindowShape;
use sinus_core::monitor::{Event, Monitor, MonitorConfig};
use sinus_core::rhythm::{RhythmEvent, RhythmKind};
use sinus_core::wire::{cobs_encode, rice_encode, Message, SampleCoding, MAX_FRAME, MAX_PACKET};

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: link_budget INPUT.bin");
    let b = std::fs::read(&path).expect("read the firmware input");
    assert!(
        b.len() >= 20 && &b[..8] == b"SINUSADC",
        "{path}: not a SINUSADC file"
    );
    let u = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let cfg = MonitorConfig {
        fs: f32::from_bits(u(8)),
        counts_per_mv: f32::from_bits(u(12)),
        zero_code: u(16) as i32,
        window: WindowShape {
            before_s: 0.25,
            after_s: 0.4,
            length: 128,
            z_normalise: true,
            template: true,
            align: true,
        },
    };
    let codes: Vec<i16> = b[20..]
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    let model = include_bytes!("../../sinus-ml/models/beatnet-1lead.int8.snnm");
    let mut m = Box::new(Monitor::new(model, cfg).expect("monitor"));
    let mut seq = 0u16;
    let mut bytes = [0u64; 4]; // raw samples, beat events, other events, framing overhead
    let mut packets = [0u64; 4];
    let mut send = |msg: Message<'_>, kind: usize, bytes: &mut [u64; 4], packets: &mut [u64; 4]| {
        let mut p = [0u8; MAX_PACKET];
        let mut f = [0u8; MAX_FRAME];
        let n = msg.emit(seq, &mut p).expect("emit");
        let fl = cobs_encode(&p[..n], &mut f).expect("frame");
        seq = seq.wrapping_add(1);
        bytes[kind] += n as u64;
        bytes[3] += (fl - n) as u64;
        packets[kind] += 1;
    };
    let fs = cfg.fs as usize;
    let mut coded = vec![0u8; 3 + 6 * fs];
    for (k, block) in codes.chunks(fs).enumerate() {
        let n = rice_encode(block, &mut coded).expect("rice");
        send(
            Message::RawSamples {
                first: (k * fs) as u64,
                leads: 1,
                count: block.len() as u16,
                coding: SampleCoding::DeltaRice,
                data: &coded[..n],
            },
            0,
            &mut bytes,
            &mut packets,
        );
        for &c in block {
            let mut events = Vec::new();
            m.push((c != i16::MIN).then_some(c as i32), &mut |e| events.push(e));
            for e in events {
                let (msg, kind) = match e {
                    Event::Beat {
                        sample,
                        class,
                        confidence,
                        rr,
                    } => {
                        send(
                            Message::Qrs {
                                sample,
                                rr,
                                amplitude_uv: 0,
                            },
                            1,
                            &mut bytes,
                            &mut packets,
                        );
                        (
                            Message::Classification {
                                sample,
                                class: class as u8,
                                confidence,
                            },
                            1,
                        )
                    }
                    Event::Rhythm(RhythmEvent::Onset { kind, sample }) => (
                        Message::Rhythm {
                            kind: idx(kind),
                            phase: 0,
                            start: sample,
                            end: sample,
                            beats: 0,
                            mean_bpm: 0.0,
                        },
                        2,
                    ),
                    Event::Rhythm(RhythmEvent::Episode(ep)) => (
                        Message::Rhythm {
                            kind: idx(ep.kind),
                            phase: 1,
                            start: ep.start,
                            end: ep.end,
                            beats: ep.beats,
                            mean_bpm: ep.mean_rate_bpm,
                        },
                        2,
                    ),
                    Event::Hrv(h) => (
                        Message::Features {
                            start: h.start,
                            nn: h.nn,
                            mean_nn_ms: h.mean_nn_ms,
                            sdnn_ms: h.sdnn_ms,
                            rmssd_ms: h.rmssd_ms,
                            pnn50: h.pnn50,
                        },
                        2,
                    ),
                    Event::Alarm {
                        kind,
                        sample,
                        active,
                    } => (
                        Message::Alarm {
                            kind: kind as u8,
                            active,
                            sample,
                        },
                        2,
                    ),
                    Event::LeadsOff { .. } | Event::Quality { .. } => continue,
                };
                send(msg, kind, &mut bytes, &mut packets);
            }
        }
    }
    let seconds = codes.len() as f64 / cfg.fs as f64;
    let total: u64 = bytes.iter().sum();
    let line = 11_520.0;
    println!("{path}: {:.0} s at {} Hz", seconds, cfg.fs);
    for (name, k) in [
        ("raw samples (1 s DeltaRice blocks)", 0),
        ("beats (QRS + class)", 1),
        ("rhythm, HRV, alarms", 2),
        ("COBS + delimiters", 3),
    ] {
        println!(
            "  {name:<36} {:>8.1} B/s  {:>6} packets",
            bytes[k] as f64 / seconds,
            packets[k]
        );
    }
    let rate = total as f64 / seconds;
    println!(
        "  total {rate:.1} B/s = {:.2} % of 115200 baud 8N1 (margin {:.0}x)",
        100.0 * rate / line,
        line / rate
    );
    println!(
        "  raw samples as 16-bit: {:.1} B/s; DeltaRice gives {:.2}x",
        2.0 * cfg.fs as f64,
        2.0 * codes.len() as f64 / bytes[0] as f64
    );
}

fn idx(k: RhythmKind) -> u8 {
    RhythmKind::ALL.iter().position(|&x| x == k).unwrap_or(0) as u8
}
