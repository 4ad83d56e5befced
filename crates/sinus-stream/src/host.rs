//! The host side: bytes in, a session out — what arrived, what was lost, and a WFDB record.

use sinus_core::rhythm::RhythmKind;
use sinus_core::wire::{
    rice_decode, Frame, FrameDecoder, FrameStats, Hello, Message, SampleCoding, SequenceTracker,
    Status,
};
use sinus_io::wfdb::annotation::{codes, write_annotations, Annotation, EncodeOptions};
use sinus_io::wfdb::format::SignalFormat;
use sinus_io::wfdb::write::write_record;
use sinus_io::{Error, Recording, Result, Signal, MISSING};
use std::path::Path;

/// A beat as the device reported it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BeatReport {
    /// R-peak sample.
    pub sample: u64,
    /// Samples since the previous beat.
    pub rr: u32,
    /// Class (AAMI N S V F Q = 0..4), once CLASSIFICATION came.
    pub class: Option<u8>,
    /// Its confidence.
    pub confidence: f32,
}

/// A decoded session.
#[derive(Debug, Default)]
pub struct HostSession {
    decoder: Box<FrameDecoder>,
    /// Sequence numbers of the device's packets.
    pub sequence: SequenceTracker,
    /// The device's HELLO, once it came.
    pub hello: Option<Hello>,
    /// Samples received (codes; [`MISSING`] where a block was lost or the leads were off).
    pub samples: Vec<i32>,
    /// Beats, in time order.
    pub beats: Vec<BeatReport>,
    /// Rhythm episodes (kind index, start, end), closed ones.
    pub episodes: Vec<(u8, u64, u64)>,
    /// The rhythm open now (onset received, episode not yet), if any.
    pub open_rhythm: Option<(u8, u64)>,
    /// Alarms active now (kind index bitmask).
    pub alarms: u8,
    /// The last STATUS.
    pub status: Option<Status>,
    /// Messages that parsed but made no sense here (e.g. a sample block before HELLO).
    pub ignored: u64,
    /// Packets that were valid but whose message did not parse.
    pub bad_messages: u64,
}

impl HostSession {
    /// An empty session.
    pub fn new() -> HostSession {
        HostSession::default()
    }

    /// Framing statistics (bytes, packets, refused frames by cause).
    pub fn frames(&self) -> FrameStats {
        self.decoder.stats()
    }

    /// Take in bytes from the link.
    pub fn feed(&mut self, bytes: &[u8]) {
        // The decoder lends each packet out of its own buffer: take it out of `self` for the
        // call so that the packets can update the rest of the session.
        let mut decoder = std::mem::take(&mut self.decoder);
        decoder.feed(bytes, &mut |f| {
            if let Frame::Packet(p) = f {
                if !self.sequence.accept(p.sequence()) {
                    return;
                }
                match Message::parse(&p) {
                    Ok(m) => self.message(m),
                    Err(_) => self.bad_messages += 1,
                }
            }
        });
        self.decoder = decoder;
    }

    fn message(&mut self, m: Message<'_>) {
        match m {
            Message::Hello(h) => self.hello = Some(h),
            Message::RawSamples {
                first,
                leads: 1,
                count,
                coding,
                data,
            } if self.hello.is_some() => {
                let mut block = vec![0i16; count as usize];
                let ok = match coding {
                    SampleCoding::Raw16 => {
                        for (v, c) in block.iter_mut().zip(data.chunks_exact(2)) {
                            *v = i16::from_le_bytes([c[0], c[1]]);
                        }
                        true
                    }
                    SampleCoding::DeltaRice => rice_decode(data, &mut block).is_ok(),
                };
                if !ok {
                    self.bad_messages += 1;
                    return;
                }
                let first = first as usize;
                // A lost block leaves a gap of missing samples; 2^31 samples is 99 days at 250 Hz.
                if first > i32::MAX as usize {
                    self.ignored += 1;
                    return;
                }
                if self.samples.len() < first {
                    self.samples.resize(first, MISSING);
                }
                for (k, &v) in block.iter().enumerate() {
                    let code = if v == i16::MIN { MISSING } else { v as i32 };
                    match self.samples.get_mut(first + k) {
                        Some(s) => *s = code,
                        None => self.samples.push(code),
                    }
                }
            }
            Message::Qrs { sample, rr, .. } => {
                if self.beats.last().is_none_or(|b| b.sample < sample) {
                    self.beats.push(BeatReport {
                        sample,
                        rr,
                        class: None,
                        confidence: 0.0,
                    });
                }
            }
            Message::Classification {
                sample,
                class,
                confidence,
            } => {
                if let Some(b) = self.beats.iter_mut().rev().find(|b| b.sample == sample) {
                    b.class = Some(class);
                    b.confidence = confidence;
                } else {
                    self.ignored += 1;
                }
            }
            Message::Rhythm {
                kind,
                phase,
                start,
                end,
                ..
            } => {
                if phase == 0 {
                    self.open_rhythm = Some((kind, start));
                } else {
                    self.episodes.push((kind, start, end));
                    if self.open_rhythm.is_some_and(|(k, _)| k == kind) {
                        self.open_rhythm = None;
                    }
                }
            }
            Message::Alarm { kind, active, .. } => {
                if active {
                    self.alarms |= 1 << kind;
                } else {
                    self.alarms &= !(1 << kind);
                }
            }
            Message::Status(s) => self.status = Some(s),
            Message::Heartbeat { .. } | Message::Features { .. } | Message::Ack { .. } => {}
            _ => self.ignored += 1,
        }
    }

    /// Heart rate over the last 8 intervals (bpm), if known.
    pub fn heart_rate(&self) -> Option<f64> {
        let fs = self.hello?.fs as f64;
        let rr: Vec<u32> = self
            .beats
            .iter()
            .rev()
            .take(8)
            .map(|b| b.rr)
            .filter(|&r| r > 0)
            .collect();
        (!rr.is_empty()).then(|| 60.0 * fs * rr.len() as f64 / rr.iter().sum::<u32>() as f64)
    }

    /// One line: heart rate, last class, rhythm, alarms, what the link lost.
    pub fn status_line(&self) -> String {
        let hr = self
            .heart_rate()
            .map_or("--".to_string(), |h| format!("{h:.0}"));
        let last = self
            .beats
            .iter()
            .rev()
            .find_map(|b| b.class)
            .map_or('-', |c| ['N', 'S', 'V', 'F', 'Q'][c.min(4) as usize]);
        let rhythm = self
            .open_rhythm
            .and_then(|(k, _)| RhythmKind::ALL.get(k as usize))
            .map_or("sinus", |k| k.name());
        let f = self.frames();
        format!(
            "HR {hr} bpm  last {last}  rhythm {rhythm}  alarms {:#06b}  beats {}  packets {} lost {} dup {} bad {}{}",
            self.alarms,
            self.beats.len(),
            self.sequence.received,
            self.sequence.lost,
            self.sequence.duplicates,
            f.cobs_errors + f.crc_errors + f.other_errors + f.overflows,
            if self.status.is_some_and(|s| s.leads_off) {
                "  LEADS OFF"
            } else {
                ""
            }
        )
    }

    /// Store the session as WFDB record `dir/name` (`.hea`, `.dat` format 16) with the beats
    /// and rhythm episodes as annotations `name.sinus` (class letters; rhythm changes as `+`
    /// with the aux text `sinus analyze` writes).
    pub fn write_wfdb(&self, dir: &Path, name: &str) -> Result<()> {
        let hello = self
            .hello
            .ok_or_else(|| Error::invalid("no HELLO received: the device's sampling is unknown"))?;
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let rec = Recording {
            name: name.to_string(),
            frame_frequency: hello.fs as f64,
            frames: self.samples.len() as u64,
            base_datetime: None,
            signals: vec![Signal {
                description: "ECG".to_string(),
                units: "mV".to_string(),
                gain: hello.counts_per_mv as f64,
                baseline: hello.zero_code,
                adc_resolution: 12,
                adc_zero: hello.zero_code,
                samples_per_frame: 1,
                samples: self.samples.clone(),
            }],
            info: vec![format!(
                "sinus listen: device {} firmware {}.{}.{} model crc {:08x}; packets {} lost {}",
                String::from_utf8_lossy(&hello.device_id),
                hello.firmware[0],
                hello.firmware[1],
                hello.firmware[2],
                hello.model_crc,
                self.sequence.received,
                self.sequence.lost
            )],
        };
        write_record(dir, name, &rec, SignalFormat::Fmt16)?;
        let mut anns: Vec<Annotation> = self
            .beats
            .iter()
            .map(|b| {
                let code = match b.class {
                    Some(0) => codes::NORMAL,
                    Some(1) => codes::APC,
                    Some(2) => codes::PVC,
                    Some(3) => codes::FUSION,
                    _ => codes::UNKNOWN,
                };
                Annotation::new(b.sample as i64, code)
            })
            .collect();
        for &(kind, start, end) in &self.episodes {
            let Some(k) = RhythmKind::ALL.get(kind as usize) else {
                continue;
            };
            let mut on = Annotation::new(start as i64, codes::RHYTHM);
            let mut aux = k.wfdb_aux().as_bytes().to_vec();
            aux.push(0);
            on.aux = Some(aux);
            anns.push(on);
            let mut off = Annotation::new(end as i64, codes::RHYTHM);
            off.aux = Some(b"(N\0".to_vec());
            anns.push(off);
        }
        anns.sort_by_key(|a| a.sample);
        write_annotations(
            dir.join(format!("{name}.sinus")),
            &anns,
            &EncodeOptions::default(),
        )
    }
}
