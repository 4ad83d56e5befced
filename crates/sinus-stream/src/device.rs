//! The device side: codes in, framed packets out — the firmware's job, on a PC.

use sinus_core::monitor::{Event, Monitor, MonitorConfig};
use sinus_core::rhythm::{RhythmEvent, RhythmKind};
use sinus_core::wire::{
    cobs_encode, crc32, rice_encode, Frame, FrameDecoder, Hello, Message, SampleCoding, Status,
    MAX_FRAME, MAX_PACKET, VERSION,
};

/// Firmware version the simulator reports.
pub const FIRMWARE: [u16; 3] = [0, 1, 0];
/// Samples per RAW_SAMPLES block: one second at 250 Hz (and at most 500).
pub fn block_len(fs: f32) -> usize {
    (fs.round() as usize).clamp(1, 500)
}

/// A simulated device: the monitor, raw streaming on or off, sequence numbers.
pub struct DeviceSession {
    monitor: Box<Monitor<'static>>,
    cfg: MonitorConfig,
    model_crc: u32,
    device_id: [u8; 8],
    seq: u16,
    raw: bool,
    block: Vec<i16>,
    block_first: u64,
    n: u64,
    heartbeat_every: u64,
    commands: FrameDecoder,
    leads_off: bool,
    dropped: u32,
}

fn kind_index(k: RhythmKind) -> u8 {
    RhythmKind::ALL.iter().position(|&x| x == k).unwrap_or(0) as u8
}

impl DeviceSession {
    /// A device running `model` (int8, one lead, `'static` bytes as in flash) on samples as
    /// `cfg` describes; streams raw samples from the start when `raw`.
    pub fn new(
        model: &'static [u8],
        cfg: MonitorConfig,
        device_id: [u8; 8],
        raw: bool,
    ) -> Result<DeviceSession, String> {
        let mut monitor = Box::new(Monitor::unconfigured());
        monitor
            .configure(model, cfg)
            .map_err(|e| format!("device monitor: {e}"))?;
        Ok(DeviceSession {
            monitor,
            cfg,
            model_crc: crc32(model),
            device_id,
            seq: 0,
            raw,
            block: Vec::with_capacity(block_len(cfg.fs)),
            block_first: 0,
            n: 0,
            heartbeat_every: (5.0 * cfg.fs) as u64,
            commands: FrameDecoder::new(),
            leads_off: false,
            dropped: 0,
        })
    }

    /// The HELLO this device sends.
    pub fn hello(&self) -> Hello {
        Hello {
            protocol: VERSION,
            device_id: self.device_id,
            firmware: FIRMWARE,
            model_crc: self.model_crc,
            fs: self.cfg.fs,
            counts_per_mv: self.cfg.counts_per_mv,
            zero_code: self.cfg.zero_code,
            leads: 1,
        }
    }

    /// Frame one message into `out` (appended).
    fn send(&mut self, msg: &Message<'_>, out: &mut Vec<u8>) {
        let mut p = [0u8; MAX_PACKET];
        let mut f = [0u8; MAX_FRAME];
        match msg.emit(self.seq, &mut p) {
            Ok(n) => match cobs_encode(&p[..n], &mut f) {
                Ok(k) => {
                    out.extend_from_slice(&f[..k]);
                    self.seq = self.seq.wrapping_add(1);
                }
                Err(_) => self.dropped += 1,
            },
            Err(_) => self.dropped += 1,
        }
    }

    /// Start: HELLO (call once before the first sample).
    pub fn start(&mut self, out: &mut Vec<u8>) {
        let h = Message::Hello(self.hello());
        self.send(&h, out);
    }

    /// Bytes from the host (commands): answered into `out`.
    pub fn receive(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        let mut cmds: Vec<(u16, Option<Message<'static>>)> = Vec::new();
        self.commands.feed(bytes, &mut |f| {
            if let Frame::Packet(p) = f {
                let seq = p.sequence();
                let m = match Message::parse(&p) {
                    Ok(Message::StartRaw) => Some(Message::StartRaw),
                    Ok(Message::StopRaw) => Some(Message::StopRaw),
                    Ok(Message::HelloRequest) => Some(Message::HelloRequest),
                    Ok(Message::SetTime { sample, unix_ms }) => {
                        Some(Message::SetTime { sample, unix_ms })
                    }
                    Ok(Message::ReadStored { from, to, tiers }) => {
                        Some(Message::ReadStored { from, to, tiers })
                    }
                    _ => None,
                };
                cmds.push((seq, m));
            }
        });
        for (seq, m) in cmds {
            let result = match m {
                Some(Message::StartRaw) => {
                    self.raw = true;
                    0
                }
                Some(Message::StopRaw) => {
                    self.raw = false;
                    0
                }
                Some(Message::HelloRequest) => {
                    let h = Message::Hello(self.hello());
                    self.send(&h, out);
                    0
                }
                Some(Message::SetTime { .. }) => 0,
                // The simulator keeps no store yet.
                Some(Message::ReadStored { .. }) => 2,
                _ => 1,
            };
            self.send(
                &Message::Ack {
                    command: seq,
                    result,
                },
                out,
            );
        }
    }

    /// One sample (`None`: leads off); the packets it causes are appended to `out`.
    pub fn push(&mut self, code: Option<i32>, out: &mut Vec<u8>) {
        let n = self.n;
        self.n += 1;
        if self.block.is_empty() {
            self.block_first = n;
        }
        self.block.push(match code {
            Some(c) => c.clamp(i16::MIN as i32 + 1, i16::MAX as i32) as i16,
            None => i16::MIN,
        });
        let mut events = Vec::new();
        self.monitor.push(code, &mut |e| events.push(e));
        for e in events {
            self.event(e, out);
        }
        if self.block.len() == block_len(self.cfg.fs) {
            self.flush_block(out);
        }
        if self.n.is_multiple_of(self.heartbeat_every) {
            self.send(&Message::Heartbeat { uptime: self.n }, out);
            let status = Message::Status(Status {
                sample: self.n,
                battery_mv: 3900,
                battery_pct: 255,
                leads_off: self.leads_off,
                storage_permille: 0,
                samples_lost: 0,
                packets_dropped: self.dropped,
            });
            self.send(&status, out);
        }
    }

    /// The recording ended: the last block and the monitor's final events.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.flush_block(out);
        let mut events = Vec::new();
        self.monitor.finish(&mut |e| events.push(e));
        for e in events {
            self.event(e, out);
        }
    }

    fn flush_block(&mut self, out: &mut Vec<u8>) {
        if self.block.is_empty() {
            return;
        }
        let block = std::mem::take(&mut self.block);
        if self.raw {
            // Missing samples go as RAW16 (DELTA_RICE has no "missing"); the rest coded.
            let missing = block.contains(&i16::MIN);
            let mut coded = vec![0u8; 3 + 6 * block.len()];
            let (coding, data): (SampleCoding, Vec<u8>) =
                match (missing, rice_encode(&block, &mut coded)) {
                    (false, Ok(k)) if k < 2 * block.len() => {
                        (SampleCoding::DeltaRice, coded[..k].to_vec())
                    }
                    _ => (
                        SampleCoding::Raw16,
                        block.iter().flat_map(|v| v.to_le_bytes()).collect(),
                    ),
                };
            let m = Message::RawSamples {
                first: self.block_first,
                leads: 1,
                count: block.len() as u16,
                coding,
                data: &data,
            };
            self.send(&m, out);
        }
        // Keep the buffer's allocation for the next block.
        self.block = block;
        self.block.clear();
    }

    fn event(&mut self, e: Event, out: &mut Vec<u8>) {
        let msgs: Vec<Message<'static>> = match e {
            Event::Beat {
                sample,
                class,
                confidence,
                rr,
            } => vec![
                Message::Qrs {
                    sample,
                    rr,
                    amplitude_uv: 0,
                },
                Message::Classification {
                    sample,
                    class: class as u8,
                    confidence,
                },
            ],
            Event::Rhythm(RhythmEvent::Onset { kind, sample }) => vec![Message::Rhythm {
                kind: kind_index(kind),
                phase: 0,
                start: sample,
                end: sample,
                beats: 0,
                mean_bpm: 0.0,
            }],
            Event::Rhythm(RhythmEvent::Episode(ep)) => vec![Message::Rhythm {
                kind: kind_index(ep.kind),
                phase: 1,
                start: ep.start,
                end: ep.end,
                beats: ep.beats,
                mean_bpm: ep.mean_rate_bpm,
            }],
            Event::Hrv(h) => vec![Message::Features {
                start: h.start,
                nn: h.nn,
                mean_nn_ms: h.mean_nn_ms,
                sdnn_ms: h.sdnn_ms,
                rmssd_ms: h.rmssd_ms,
                pnn50: h.pnn50,
            }],
            Event::Alarm {
                kind,
                sample,
                active,
            } => vec![Message::Alarm {
                kind: kind as u8,
                active,
                sample,
            }],
            Event::LeadsOff { sample, off } => {
                self.leads_off = off;
                vec![Message::Status(Status {
                    sample,
                    battery_mv: 3900,
                    battery_pct: 255,
                    leads_off: off,
                    storage_permille: 0,
                    samples_lost: 0,
                    packets_dropped: self.dropped,
                })]
            }
            Event::Quality { .. } => Vec::new(),
        };
        for m in msgs {
            self.send(&m, out);
        }
    }
}
