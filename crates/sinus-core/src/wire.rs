//! The device link's packets, as zero-copy views over byte slices (in the manner of smoltcp's
//! `wire`): [`Packet`] checks and reads a received packet in place, [`Message`] is what a
//! packet means, [`Message::emit`] writes one; [`cobs_encode`] and [`FrameDecoder`] put packets
//! on a byte stream and take them off it again, resynchronising after any corruption;
//! [`SequenceTracker`] counts what was lost. The layouts are in `docs/protocol.md`.
//!
//! A packet (before framing):
//!
//! ```text
//! 0      1        2          4            4+n
//! +------+--------+----------+------------+-----------+
//! | 0x10 | type   | sequence | payload    | CRC-32    |
//! | ver. | (u8)   | (u16 LE) | (n bytes)  | (u32 LE)  |
//! +------+--------+----------+------------+-----------+
//! ```
//!
//! The CRC-32 (IEEE 802.3, the one of zlib) covers everything before it. On the line each
//! packet is COBS-encoded and followed by a zero byte, so a receiver finds packet boundaries
//! from any point in the stream: a corrupted, cut or duplicated stretch costs the packets it
//! touches and no more.

/// Protocol version carried in the first byte of every packet (high nibble: major).
pub const VERSION: u8 = 0x10;
/// Bytes before the payload.
pub const HEADER_LEN: usize = 4;
/// Bytes after the payload.
pub const CRC_LEN: usize = 4;
/// Largest payload.
pub const MAX_PAYLOAD: usize = 1024;
/// Largest packet.
pub const MAX_PACKET: usize = HEADER_LEN + MAX_PAYLOAD + CRC_LEN;
/// Largest frame on the line: COBS adds one byte per 254 and a leading byte, then the
/// delimiter.
pub const MAX_FRAME: usize = MAX_PACKET + MAX_PACKET / 254 + 2;

/// Why bytes are not a valid packet or message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    /// Shorter than a header and CRC, or than the message needs.
    Truncated,
    /// The CRC does not match: the packet was damaged.
    Checksum,
    /// A protocol version this code does not speak.
    Version(u8),
    /// An unknown packet type.
    UnknownType(u8),
    /// A field holds a value outside its range (named).
    Field(&'static str),
    /// The output buffer is too small.
    BufferTooSmall,
    /// More payload than [`MAX_PAYLOAD`].
    TooLong,
}

impl core::fmt::Display for WireError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            WireError::Truncated => write!(f, "packet too short"),
            WireError::Checksum => write!(f, "CRC mismatch"),
            WireError::Version(v) => write!(f, "protocol version 0x{v:02x} not supported"),
            WireError::UnknownType(t) => write!(f, "unknown packet type 0x{t:02x}"),
            WireError::Field(name) => write!(f, "field {name} out of range"),
            WireError::BufferTooSmall => write!(f, "output buffer too small"),
            WireError::TooLong => write!(f, "payload longer than {MAX_PAYLOAD} bytes"),
        }
    }
}

pub use crate::crc::crc32;

/// Packet types. Device → host below 0x40, host → device from 0x40.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum PacketType {
    /// Who the device is and how it samples (on start-up and on request).
    Hello = 0x01,
    /// Still alive.
    Heartbeat = 0x02,
    /// A block of samples, coded.
    RawSamples = 0x03,
    /// A QRS complex detected.
    Qrs = 0x04,
    /// Heart rate and HRV of an epoch.
    Features = 0x05,
    /// A beat's class.
    Classification = 0x06,
    /// A rhythm episode's start or end.
    Rhythm = 0x07,
    /// A stretch of raw signal around something abnormal.
    Anomaly = 0x08,
    /// Battery, leads, storage.
    Status = 0x09,
    /// An alarm on or off.
    Alarm = 0x0A,
    /// The answer to a host command.
    Ack = 0x0B,
    /// Start streaming raw samples.
    StartRaw = 0x40,
    /// Stop streaming raw samples.
    StopRaw = 0x41,
    /// Send the stored entries of a time range.
    ReadStored = 0x42,
    /// The wall-clock time of a sample.
    SetTime = 0x43,
    /// Send HELLO.
    HelloRequest = 0x44,
}

impl PacketType {
    /// The type of a type byte.
    pub fn from_u8(b: u8) -> Option<PacketType> {
        use PacketType::*;
        Some(match b {
            0x01 => Hello,
            0x02 => Heartbeat,
            0x03 => RawSamples,
            0x04 => Qrs,
            0x05 => Features,
            0x06 => Classification,
            0x07 => Rhythm,
            0x08 => Anomaly,
            0x09 => Status,
            0x0A => Alarm,
            0x0B => Ack,
            0x40 => StartRaw,
            0x41 => StopRaw,
            0x42 => ReadStored,
            0x43 => SetTime,
            0x44 => HelloRequest,
            _ => return None,
        })
    }
}

/// A packet in a byte buffer: checked once, then read in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// A view after checking the length, the CRC and the version (in that order: a damaged
    /// packet is a checksum error whatever its first byte).
    pub fn new_checked(buffer: T) -> Result<Packet<T>, WireError> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN + CRC_LEN {
            return Err(WireError::Truncated);
        }
        if b.len() > MAX_PACKET {
            return Err(WireError::TooLong);
        }
        let body = &b[..b.len() - CRC_LEN];
        let crc = u32::from_le_bytes([
            b[b.len() - 4],
            b[b.len() - 3],
            b[b.len() - 2],
            b[b.len() - 1],
        ]);
        if crc32(body) != crc {
            return Err(WireError::Checksum);
        }
        if b[0] & 0xF0 != VERSION & 0xF0 {
            return Err(WireError::Version(b[0]));
        }
        Ok(Packet { buffer })
    }

    /// The type byte.
    pub fn type_byte(&self) -> u8 {
        self.buffer.as_ref()[1]
    }

    /// The sequence number.
    pub fn sequence(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_le_bytes([b[2], b[3]])
    }

    /// The payload.
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[HEADER_LEN..b.len() - CRC_LEN]
    }
}

/// Little-endian field reader over a payload; every read is checked.
struct Rd<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Rd<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let s = self
            .b
            .get(self.at..self.at + n)
            .ok_or(WireError::Truncated)?;
        self.at += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, WireError> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Result<u32, WireError> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn i32(&mut self) -> Result<i32, WireError> {
        Ok(self.u32()? as i32)
    }
    fn u64(&mut self) -> Result<u64, WireError> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_le_bytes(a))
    }
    fn f32(&mut self) -> Result<f32, WireError> {
        Ok(f32::from_bits(self.u32()?))
    }
    fn rest(&mut self) -> &'a [u8] {
        let s = &self.b[self.at.min(self.b.len())..];
        self.at = self.b.len();
        s
    }
    fn end(&self) -> Result<(), WireError> {
        if self.at == self.b.len() {
            Ok(())
        } else {
            Err(WireError::Field("trailing bytes"))
        }
    }
}

/// Little-endian field writer into a packet buffer.
struct Wr<'a> {
    b: &'a mut [u8],
    at: usize,
}

impl Wr<'_> {
    fn put(&mut self, s: &[u8]) -> Result<(), WireError> {
        let dst = self
            .b
            .get_mut(self.at..self.at + s.len())
            .ok_or(WireError::BufferTooSmall)?;
        dst.copy_from_slice(s);
        self.at += s.len();
        Ok(())
    }
}

/// How a block of samples is coded in RAW_SAMPLES and ANOMALY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum SampleCoding {
    /// i16 little-endian, leads interleaved per sample; `i16::MIN` = missing.
    Raw16 = 0,
    /// First differences, zig-zag mapped, Rice-coded with one parameter per block
    /// ([`rice_encode`]); leads one after the other.
    DeltaRice = 1,
}

/// A device's identity and sampling, as HELLO gives them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hello {
    /// Protocol version the device speaks ([`VERSION`]).
    pub protocol: u8,
    /// Device serial number.
    pub device_id: [u8; 8],
    /// Firmware version: major, minor, patch.
    pub firmware: [u16; 3],
    /// CRC-32 of the model bytes the device runs (tells models apart).
    pub model_crc: u32,
    /// Sampling rate (Hz).
    pub fs: f32,
    /// ADC codes per millivolt.
    pub counts_per_mv: f32,
    /// Code of 0 mV.
    pub zero_code: i32,
    /// Leads sampled.
    pub leads: u8,
}

/// Battery, electrodes and storage, as STATUS gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// Sample the status refers to.
    pub sample: u64,
    /// Battery voltage (mV).
    pub battery_mv: u16,
    /// Battery charge (%), 255 = unknown.
    pub battery_pct: u8,
    /// Electrodes off.
    pub leads_off: bool,
    /// Holter store filled, per mille.
    pub storage_permille: u16,
    /// Samples lost on the device since start (sampling overruns).
    pub samples_lost: u32,
    /// Packets dropped on the device since start (link too slow).
    pub packets_dropped: u32,
}

/// What a packet means; borrowed sample data stays in the packet buffer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Message<'a> {
    /// See [`Hello`].
    Hello(Hello),
    /// Uptime in samples.
    Heartbeat {
        /// Samples since start.
        uptime: u64,
    },
    /// A block of samples from `first` on, `count` per lead, coded as `coding`.
    RawSamples {
        /// Index of the first sample.
        first: u64,
        /// Leads.
        leads: u8,
        /// Samples per lead.
        count: u16,
        /// Coding of `data`.
        coding: SampleCoding,
        /// The coded samples.
        data: &'a [u8],
    },
    /// A QRS complex: its R peak, the interval since the previous one, its amplitude.
    Qrs {
        /// R-peak sample.
        sample: u64,
        /// Samples since the previous R peak (0: none).
        rr: u32,
        /// Baseline-removed amplitude at the R peak (µV).
        amplitude_uv: i32,
    },
    /// Heart rate and HRV of an epoch starting at `start`.
    Features {
        /// First sample of the epoch.
        start: u64,
        /// NN intervals.
        nn: u32,
        /// Mean NN (ms).
        mean_nn_ms: f32,
        /// SDNN (ms).
        sdnn_ms: f32,
        /// RMSSD (ms).
        rmssd_ms: f32,
        /// pNN50 (%).
        pnn50: f32,
    },
    /// A beat's class (AAMI N S V F Q = 0..4) and confidence.
    Classification {
        /// R-peak sample.
        sample: u64,
        /// Class 0..=4.
        class: u8,
        /// Softmax probability of the class.
        confidence: f32,
    },
    /// A rhythm episode began (`end` = `start`, `beats` = 0) or ended.
    Rhythm {
        /// Kind, as `sinus_core::rhythm::RhythmKind::ALL`'s index.
        kind: u8,
        /// 0 = onset, 1 = closed episode.
        phase: u8,
        /// First sample.
        start: u64,
        /// Last sample.
        end: u64,
        /// Beats.
        beats: u32,
        /// Mean rate (bpm).
        mean_bpm: f32,
    },
    /// Raw signal around something abnormal: part `part` of `parts` of the segment starting at
    /// `first`.
    Anomaly {
        /// First sample of the segment.
        first: u64,
        /// Why it was kept (a rhythm kind or alarm code).
        reason: u8,
        /// This part, 0-based.
        part: u16,
        /// Parts in all.
        parts: u16,
        /// Leads.
        leads: u8,
        /// Samples per lead in this part.
        count: u16,
        /// Coding of `data`.
        coding: SampleCoding,
        /// The coded samples.
        data: &'a [u8],
    },
    /// See [`Status`].
    Status(Status),
    /// An alarm (`sinus_core::monitor::AlarmKind` as 0..=3) on or off.
    Alarm {
        /// Alarm kind.
        kind: u8,
        /// On (true) or off.
        active: bool,
        /// Sample of the change.
        sample: u64,
    },
    /// The device's answer to the host packet with sequence number `command`: 0 = done,
    /// otherwise an error code.
    Ack {
        /// The command's sequence number.
        command: u16,
        /// 0 = done.
        result: u8,
    },
    /// Start streaming raw samples.
    StartRaw,
    /// Stop streaming raw samples.
    StopRaw,
    /// Send the stored entries from sample `from` to `to` of the tiers in `tiers` (bit 0 =
    /// tier 1 ...).
    ReadStored {
        /// First sample.
        from: u64,
        /// Last sample.
        to: u64,
        /// Tier mask.
        tiers: u8,
    },
    /// Sample `sample` was taken at `unix_ms` (ms since 1970, UTC).
    SetTime {
        /// Sample.
        sample: u64,
        /// Wall-clock time.
        unix_ms: u64,
    },
    /// Ask for HELLO.
    HelloRequest,
}

fn coding(b: u8) -> Result<SampleCoding, WireError> {
    match b {
        0 => Ok(SampleCoding::Raw16),
        1 => Ok(SampleCoding::DeltaRice),
        _ => Err(WireError::Field("coding")),
    }
}

impl<'a> Message<'a> {
    /// The packet type of the message.
    pub fn packet_type(&self) -> PacketType {
        match self {
            Message::Hello(_) => PacketType::Hello,
            Message::Heartbeat { .. } => PacketType::Heartbeat,
            Message::RawSamples { .. } => PacketType::RawSamples,
            Message::Qrs { .. } => PacketType::Qrs,
            Message::Features { .. } => PacketType::Features,
            Message::Classification { .. } => PacketType::Classification,
            Message::Rhythm { .. } => PacketType::Rhythm,
            Message::Anomaly { .. } => PacketType::Anomaly,
            Message::Status(_) => PacketType::Status,
            Message::Alarm { .. } => PacketType::Alarm,
            Message::Ack { .. } => PacketType::Ack,
            Message::StartRaw => PacketType::StartRaw,
            Message::StopRaw => PacketType::StopRaw,
            Message::ReadStored { .. } => PacketType::ReadStored,
            Message::SetTime { .. } => PacketType::SetTime,
            Message::HelloRequest => PacketType::HelloRequest,
        }
    }

    /// The message of a checked packet. Every field is range-checked; a payload longer than
    /// its message is refused (no hidden bytes).
    pub fn parse<T: AsRef<[u8]>>(packet: &'a Packet<T>) -> Result<Message<'a>, WireError> {
        let t = packet.type_byte();
        let ty = PacketType::from_u8(t).ok_or(WireError::UnknownType(t))?;
        let mut r = Rd {
            b: packet.payload(),
            at: 0,
        };
        let m = match ty {
            PacketType::Hello => {
                let protocol = r.u8()?;
                let mut device_id = [0u8; 8];
                device_id.copy_from_slice(r.take(8)?);
                let firmware = [r.u16()?, r.u16()?, r.u16()?];
                let model_crc = r.u32()?;
                let fs = r.f32()?;
                let counts_per_mv = r.f32()?;
                let zero_code = r.i32()?;
                let leads = r.u8()?;
                if !(fs.is_finite() && fs > 0.0) {
                    return Err(WireError::Field("fs"));
                }
                if !(counts_per_mv.is_finite() && counts_per_mv > 0.0) {
                    return Err(WireError::Field("counts_per_mv"));
                }
                if leads == 0 || leads > 8 {
                    return Err(WireError::Field("leads"));
                }
                Message::Hello(Hello {
                    protocol,
                    device_id,
                    firmware,
                    model_crc,
                    fs,
                    counts_per_mv,
                    zero_code,
                    leads,
                })
            }
            PacketType::Heartbeat => Message::Heartbeat { uptime: r.u64()? },
            PacketType::RawSamples => {
                let first = r.u64()?;
                let leads = r.u8()?;
                let count = r.u16()?;
                let coding = coding(r.u8()?)?;
                let data = r.rest();
                if leads == 0 || leads > 8 {
                    return Err(WireError::Field("leads"));
                }
                if coding == SampleCoding::Raw16
                    && data.len() != 2 * count as usize * leads as usize
                {
                    return Err(WireError::Field("raw length"));
                }
                Message::RawSamples {
                    first,
                    leads,
                    count,
                    coding,
                    data,
                }
            }
            PacketType::Qrs => Message::Qrs {
                sample: r.u64()?,
                rr: r.u32()?,
                amplitude_uv: r.i32()?,
            },
            PacketType::Features => Message::Features {
                start: r.u64()?,
                nn: r.u32()?,
                mean_nn_ms: r.f32()?,
                sdnn_ms: r.f32()?,
                rmssd_ms: r.f32()?,
                pnn50: r.f32()?,
            },
            PacketType::Classification => {
                let sample = r.u64()?;
                let class = r.u8()?;
                let confidence = r.f32()?;
                if class > 4 {
                    return Err(WireError::Field("class"));
                }
                if !(0.0..=1.0).contains(&confidence) {
                    return Err(WireError::Field("confidence"));
                }
                Message::Classification {
                    sample,
                    class,
                    confidence,
                }
            }
            PacketType::Rhythm => {
                let kind = r.u8()?;
                let phase = r.u8()?;
                let start = r.u64()?;
                let end = r.u64()?;
                let beats = r.u32()?;
                let mean_bpm = r.f32()?;
                if kind as usize >= crate::rhythm::RhythmKind::ALL.len() {
                    return Err(WireError::Field("rhythm kind"));
                }
                if phase > 1 || end < start {
                    return Err(WireError::Field("rhythm phase"));
                }
                Message::Rhythm {
                    kind,
                    phase,
                    start,
                    end,
                    beats,
                    mean_bpm,
                }
            }
            PacketType::Anomaly => {
                let first = r.u64()?;
                let reason = r.u8()?;
                let part = r.u16()?;
                let parts = r.u16()?;
                let leads = r.u8()?;
                let count = r.u16()?;
                let coding = coding(r.u8()?)?;
                let data = r.rest();
                if part >= parts {
                    return Err(WireError::Field("part"));
                }
                if leads == 0 || leads > 8 {
                    return Err(WireError::Field("leads"));
                }
                if coding == SampleCoding::Raw16
                    && data.len() != 2 * count as usize * leads as usize
                {
                    return Err(WireError::Field("raw length"));
                }
                Message::Anomaly {
                    first,
                    reason,
                    part,
                    parts,
                    leads,
                    count,
                    coding,
                    data,
                }
            }
            PacketType::Status => {
                let s = Status {
                    sample: r.u64()?,
                    battery_mv: r.u16()?,
                    battery_pct: r.u8()?,
                    leads_off: match r.u8()? {
                        0 => false,
                        1 => true,
                        _ => return Err(WireError::Field("leads_off")),
                    },
                    storage_permille: r.u16()?,
                    samples_lost: r.u32()?,
                    packets_dropped: r.u32()?,
                };
                if s.storage_permille > 1000 {
                    return Err(WireError::Field("storage_permille"));
                }
                Message::Status(s)
            }
            PacketType::Alarm => {
                let kind = r.u8()?;
                let active = match r.u8()? {
                    0 => false,
                    1 => true,
                    _ => return Err(WireError::Field("active")),
                };
                if kind > 3 {
                    return Err(WireError::Field("alarm kind"));
                }
                Message::Alarm {
                    kind,
                    active,
                    sample: r.u64()?,
                }
            }
            PacketType::Ack => Message::Ack {
                command: r.u16()?,
                result: r.u8()?,
            },
            PacketType::StartRaw => Message::StartRaw,
            PacketType::StopRaw => Message::StopRaw,
            PacketType::ReadStored => {
                let (from, to, tiers) = (r.u64()?, r.u64()?, r.u8()?);
                if to < from {
                    return Err(WireError::Field("range"));
                }
                Message::ReadStored { from, to, tiers }
            }
            PacketType::SetTime => Message::SetTime {
                sample: r.u64()?,
                unix_ms: r.u64()?,
            },
            PacketType::HelloRequest => Message::HelloRequest,
        };
        r.end()?;
        Ok(m)
    }

    /// Write the message as a packet with sequence number `seq` into `buf`; returns the
    /// packet's length.
    pub fn emit(&self, seq: u16, buf: &mut [u8]) -> Result<usize, WireError> {
        let mut w = Wr { b: buf, at: 0 };
        let seqb = seq.to_le_bytes();
        w.put(&[VERSION, self.packet_type() as u8, seqb[0], seqb[1]])?;
        match *self {
            Message::Hello(h) => {
                w.put(&[h.protocol])?;
                w.put(&h.device_id)?;
                for v in h.firmware {
                    w.put(&v.to_le_bytes())?;
                }
                w.put(&h.model_crc.to_le_bytes())?;
                w.put(&h.fs.to_le_bytes())?;
                w.put(&h.counts_per_mv.to_le_bytes())?;
                w.put(&h.zero_code.to_le_bytes())?;
                w.put(&[h.leads])?;
            }
            Message::Heartbeat { uptime } => w.put(&uptime.to_le_bytes())?,
            Message::RawSamples {
                first,
                leads,
                count,
                coding,
                data,
            } => {
                w.put(&first.to_le_bytes())?;
                w.put(&[leads])?;
                w.put(&count.to_le_bytes())?;
                w.put(&[coding as u8])?;
                w.put(data)?;
            }
            Message::Qrs {
                sample,
                rr,
                amplitude_uv,
            } => {
                w.put(&sample.to_le_bytes())?;
                w.put(&rr.to_le_bytes())?;
                w.put(&amplitude_uv.to_le_bytes())?;
            }
            Message::Features {
                start,
                nn,
                mean_nn_ms,
                sdnn_ms,
                rmssd_ms,
                pnn50,
            } => {
                w.put(&start.to_le_bytes())?;
                w.put(&nn.to_le_bytes())?;
                for v in [mean_nn_ms, sdnn_ms, rmssd_ms, pnn50] {
                    w.put(&v.to_le_bytes())?;
                }
            }
            Message::Classification {
                sample,
                class,
                confidence,
            } => {
                w.put(&sample.to_le_bytes())?;
                w.put(&[class])?;
                w.put(&confidence.to_le_bytes())?;
            }
            Message::Rhythm {
                kind,
                phase,
                start,
                end,
                beats,
                mean_bpm,
            } => {
                w.put(&[kind, phase])?;
                w.put(&start.to_le_bytes())?;
                w.put(&end.to_le_bytes())?;
                w.put(&beats.to_le_bytes())?;
                w.put(&mean_bpm.to_le_bytes())?;
            }
            Message::Anomaly {
                first,
                reason,
                part,
                parts,
                leads,
                count,
                coding,
                data,
            } => {
                w.put(&first.to_le_bytes())?;
                w.put(&[reason])?;
                w.put(&part.to_le_bytes())?;
                w.put(&parts.to_le_bytes())?;
                w.put(&[leads])?;
                w.put(&count.to_le_bytes())?;
                w.put(&[coding as u8])?;
                w.put(data)?;
            }
            Message::Status(s) => {
                w.put(&s.sample.to_le_bytes())?;
                w.put(&s.battery_mv.to_le_bytes())?;
                w.put(&[s.battery_pct, s.leads_off as u8])?;
                w.put(&s.storage_permille.to_le_bytes())?;
                w.put(&s.samples_lost.to_le_bytes())?;
                w.put(&s.packets_dropped.to_le_bytes())?;
            }
            Message::Alarm {
                kind,
                active,
                sample,
            } => {
                w.put(&[kind, active as u8])?;
                w.put(&sample.to_le_bytes())?;
            }
            Message::Ack { command, result } => {
                w.put(&command.to_le_bytes())?;
                w.put(&[result])?;
            }
            Message::StartRaw | Message::StopRaw | Message::HelloRequest => {}
            Message::ReadStored { from, to, tiers } => {
                w.put(&from.to_le_bytes())?;
                w.put(&to.to_le_bytes())?;
                w.put(&[tiers])?;
            }
            Message::SetTime { sample, unix_ms } => {
                w.put(&sample.to_le_bytes())?;
                w.put(&unix_ms.to_le_bytes())?;
            }
        }
        if w.at - HEADER_LEN > MAX_PAYLOAD {
            return Err(WireError::TooLong);
        }
        let crc = crc32(&w.b[..w.at]);
        w.put(&crc.to_le_bytes())?;
        Ok(w.at)
    }
}

/// COBS-encode `src` into `dst` and append the zero delimiter; returns the frame's length.
/// `dst` needs `src.len() + src.len() / 254 + 2` bytes.
pub fn cobs_encode(src: &[u8], dst: &mut [u8]) -> Result<usize, WireError> {
    if dst.len() < src.len() + src.len() / 254 + 2 {
        return Err(WireError::BufferTooSmall);
    }
    let mut code_at = 0;
    let mut out = 1;
    let mut code = 1u8;
    for &b in src {
        if b == 0 {
            dst[code_at] = code;
            code_at = out;
            out += 1;
            code = 1;
        } else {
            dst[out] = b;
            out += 1;
            code += 1;
            if code == 0xFF {
                dst[code_at] = code;
                code_at = out;
                out += 1;
                code = 1;
            }
        }
    }
    dst[code_at] = code;
    dst[out] = 0;
    Ok(out + 1)
}

/// Decode a COBS frame (without its delimiter) in place; returns the decoded length, or
/// `None` when the frame is not valid COBS (a zero inside, or a code running past the end).
pub fn cobs_decode_in_place(buf: &mut [u8]) -> Option<usize> {
    let (mut read, mut write) = (0, 0);
    while read < buf.len() {
        let code = buf[read] as usize;
        if code == 0 || read + code > buf.len() {
            return None;
        }
        read += 1;
        for _ in 1..code {
            let b = buf[read];
            if b == 0 {
                return None;
            }
            buf[write] = b;
            write += 1;
            read += 1;
        }
        if code != 0xFF && read < buf.len() {
            buf[write] = 0;
            write += 1;
        }
    }
    Some(write)
}

/// What [`FrameDecoder`] hands out for each delimited frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A packet, CRC and version checked.
    Packet(Packet<&'a [u8]>),
    /// A frame that is not a packet: bad COBS, too long, bad CRC, bad version, too short.
    Bad(FrameError),
}

/// Why a frame was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// Not valid COBS.
    Cobs,
    /// Longer than [`MAX_FRAME`]: bytes were dropped until the next delimiter.
    Overflow,
    /// Not a valid packet.
    Packet(WireError),
}

/// Counts of what a [`FrameDecoder`] saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameStats {
    /// Packets accepted.
    pub packets: u64,
    /// Frames refused (each kind below).
    pub cobs_errors: u64,
    /// Frames that overflowed the buffer.
    pub overflows: u64,
    /// Frames with a bad CRC.
    pub crc_errors: u64,
    /// Other invalid packets (too short, version).
    pub other_errors: u64,
    /// Bytes seen.
    pub bytes: u64,
}

/// Takes packets off a byte stream: bytes go in as they arrive, each zero-delimited frame is
/// decoded in place and checked. After garbage the next delimiter restores sync, so a
/// corruption costs the frame it hit (and the next one when it hit a delimiter) and no more.
pub struct FrameDecoder {
    buf: [u8; MAX_FRAME],
    len: usize,
    overflow: bool,
    stats: FrameStats,
}

impl core::fmt::Debug for FrameDecoder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FrameDecoder")
            .field("buffered", &self.len)
            .field("stats", &self.stats)
            .finish()
    }
}

impl Default for FrameDecoder {
    fn default() -> Self {
        FrameDecoder::new()
    }
}

impl FrameDecoder {
    /// An empty decoder (≈ 1 KB).
    pub const fn new() -> FrameDecoder {
        FrameDecoder {
            buf: [0; MAX_FRAME],
            len: 0,
            overflow: false,
            stats: FrameStats {
                packets: 0,
                cobs_errors: 0,
                overflows: 0,
                crc_errors: 0,
                other_errors: 0,
                bytes: 0,
            },
        }
    }

    /// What was seen so far.
    pub fn stats(&self) -> FrameStats {
        self.stats
    }

    /// Feed bytes; `on_frame` receives every complete frame (empty frames — two delimiters in
    /// a row — are skipped).
    pub fn feed(&mut self, bytes: &[u8], on_frame: &mut impl FnMut(Frame<'_>)) {
        for &b in bytes {
            self.stats.bytes += 1;
            if b != 0 {
                if self.len < MAX_FRAME {
                    self.buf[self.len] = b;
                    self.len += 1;
                } else {
                    self.overflow = true;
                }
                continue;
            }
            // A delimiter: a frame is complete.
            let (len, overflow) = (self.len, self.overflow);
            self.len = 0;
            self.overflow = false;
            if overflow {
                self.stats.overflows += 1;
                on_frame(Frame::Bad(FrameError::Overflow));
                continue;
            }
            if len == 0 {
                continue;
            }
            match cobs_decode_in_place(&mut self.buf[..len]) {
                None => {
                    self.stats.cobs_errors += 1;
                    on_frame(Frame::Bad(FrameError::Cobs));
                }
                Some(n) => match Packet::new_checked(&self.buf[..n]) {
                    Ok(p) => {
                        self.stats.packets += 1;
                        on_frame(Frame::Packet(p));
                    }
                    Err(e) => {
                        if e == WireError::Checksum {
                            self.stats.crc_errors += 1;
                        } else {
                            self.stats.other_errors += 1;
                        }
                        on_frame(Frame::Bad(FrameError::Packet(e)));
                    }
                },
            }
        }
    }
}

/// Counts packets lost and duplicated from their sequence numbers (16-bit, wrapping).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SequenceTracker {
    last: Option<u16>,
    /// Packets missing between the ones received.
    pub lost: u64,
    /// Packets received again (same or older sequence number).
    pub duplicates: u64,
    /// Packets received in order.
    pub received: u64,
}

impl SequenceTracker {
    /// A packet with sequence number `seq` arrived; returns false for a duplicate or late
    /// packet (which the receiver should drop).
    pub fn accept(&mut self, seq: u16) -> bool {
        let Some(last) = self.last else {
            self.last = Some(seq);
            self.received += 1;
            return true;
        };
        let ahead = seq.wrapping_sub(last);
        if ahead == 0 || ahead >= 0x8000 {
            // The same packet again, or one from the past: a duplicate (or a reordering,
            // which a serial line does not do).
            self.duplicates += 1;
            return false;
        }
        self.lost += (ahead - 1) as u64;
        self.last = Some(seq);
        self.received += 1;
        true
    }
}

/// Zig-zag: 0, −1, 1, −2, 2 ... → 0, 1, 2, 3, 4 ...
fn zigzag(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

fn unzigzag(u: u32) -> i32 {
    ((u >> 1) as i32) ^ -((u & 1) as i32)
}

struct BitWriter<'a> {
    out: &'a mut [u8],
    byte: usize,
    bit: u32,
}

impl BitWriter<'_> {
    fn put(&mut self, value: u32, bits: u32) -> Result<(), WireError> {
        for i in (0..bits).rev() {
            if self.byte >= self.out.len() {
                return Err(WireError::BufferTooSmall);
            }
            if self.bit == 0 {
                self.out[self.byte] = 0;
            }
            if (value >> i) & 1 == 1 {
                self.out[self.byte] |= 0x80 >> self.bit;
            }
            self.bit += 1;
            if self.bit == 8 {
                self.bit = 0;
                self.byte += 1;
            }
        }
        Ok(())
    }
    fn len(&self) -> usize {
        self.byte + (self.bit > 0) as usize
    }
}

struct BitReader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl BitReader<'_> {
    fn bit(&mut self) -> Result<u32, WireError> {
        let byte = *self.b.get(self.pos / 8).ok_or(WireError::Truncated)?;
        let v = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Ok(v as u32)
    }
    fn bits(&mut self, n: u32) -> Result<u32, WireError> {
        let mut v = 0u32;
        for _ in 0..n {
            v = (v << 1) | self.bit()?;
        }
        Ok(v)
    }
}

/// Longest unary run [`rice_decode`] accepts before calling the data corrupt; values that
/// would need more are sent escaped (17 bits after the run).
const RICE_ESCAPE: u32 = 24;

/// [`SampleCoding::DeltaRice`]: `samples` (one lead) as its first value (i16), then first
/// differences zig-zag mapped and Rice-coded with the parameter `k` (one byte) that minimises
/// the block's size. Values outside i16 are refused. Returns the bytes written.
pub fn rice_encode(samples: &[i16], out: &mut [u8]) -> Result<usize, WireError> {
    let Some(&first) = samples.first() else {
        return Ok(0);
    };
    // The best k from the mean of the mapped differences (Rice's rule of thumb, then ±1).
    let mut sum = 0u64;
    for w in samples.windows(2) {
        sum += zigzag(w[1] as i32 - w[0] as i32) as u64;
    }
    let n = (samples.len() - 1).max(1) as u64;
    let mean = sum / n;
    let mut k = 0u32;
    while k < 15 && (1u64 << (k + 1)) <= mean + 1 {
        k += 1;
    }
    if out.len() < 3 {
        return Err(WireError::BufferTooSmall);
    }
    out[0] = k as u8;
    out[1..3].copy_from_slice(&first.to_le_bytes());
    let mut w = BitWriter {
        out: &mut out[3..],
        byte: 0,
        bit: 0,
    };
    for pair in samples.windows(2) {
        let u = zigzag(pair[1] as i32 - pair[0] as i32);
        let q = u >> k;
        if q < RICE_ESCAPE {
            for _ in 0..q {
                w.put(1, 1)?;
            }
            w.put(0, 1)?;
            w.put(u & ((1 << k) - 1), k)?;
        } else {
            // Escape: RICE_ESCAPE ones, a zero, then the 17-bit mapped difference.
            for _ in 0..RICE_ESCAPE {
                w.put(1, 1)?;
            }
            w.put(0, 1)?;
            w.put(u, 17)?;
        }
    }
    Ok(3 + w.len())
}

/// Decode [`rice_encode`]'s bytes into `out` (exactly `out.len()` samples).
pub fn rice_decode(bytes: &[u8], out: &mut [i16]) -> Result<(), WireError> {
    if out.is_empty() {
        return Ok(());
    }
    if bytes.len() < 3 {
        return Err(WireError::Truncated);
    }
    let k = bytes[0] as u32;
    if k > 15 {
        return Err(WireError::Field("rice parameter"));
    }
    let mut prev = i16::from_le_bytes([bytes[1], bytes[2]]) as i32;
    out[0] = prev as i16;
    let mut r = BitReader {
        b: &bytes[3..],
        pos: 0,
    };
    for o in out[1..].iter_mut() {
        let mut q = 0u32;
        while r.bit()? == 1 {
            q += 1;
            if q > RICE_ESCAPE {
                return Err(WireError::Field("rice run"));
            }
        }
        let u = if q == RICE_ESCAPE {
            r.bits(17)?
        } else {
            (q << k) | r.bits(k)?
        };
        let v = prev + unzigzag(u);
        if !(i16::MIN as i32..=i16::MAX as i32).contains(&v) {
            return Err(WireError::Field("sample"));
        }
        *o = v as i16;
        prev = v;
    }
    Ok(())
}

/// A pseudo-random fault injector for byte streams (tests and `--inject-faults`): each byte
/// is dropped, replaced by another value, duplicated or passed
/// at the given rates (per million), from a seed — the same seed gives the same faults.
#[derive(Debug, Clone)]
pub struct FaultInjector {
    state: u64,
    /// Drop rate per million bytes.
    pub drop_ppm: u32,
    /// Corruption rate per million bytes.
    pub corrupt_ppm: u32,
    /// Duplication rate per million bytes.
    pub duplicate_ppm: u32,
    /// Counts: dropped, corrupted, duplicated bytes.
    pub counts: [u64; 3],
}

impl FaultInjector {
    /// An injector with rates in parts per million and a seed.
    pub fn new(seed: u64, drop_ppm: u32, corrupt_ppm: u32, duplicate_ppm: u32) -> Self {
        FaultInjector {
            state: seed ^ 0x9E37_79B9_7F4A_7C15,
            drop_ppm,
            corrupt_ppm,
            duplicate_ppm,
            counts: [0; 3],
        }
    }

    fn next(&mut self) -> u64 {
        // SplitMix64.
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Pass `bytes` through the faults, `out` receiving what comes out, byte by byte.
    pub fn apply(&mut self, bytes: &[u8], out: &mut impl FnMut(u8)) {
        for &b in bytes {
            let r = (self.next() % 1_000_000) as u32;
            if r < self.drop_ppm {
                self.counts[0] += 1;
            } else if r < self.drop_ppm + self.corrupt_ppm {
                self.counts[1] += 1;
                // A different byte (never the same: a corruption that changes nothing is none).
                let x = (self.next() % 255) as u8 + 1;
                out(b ^ x);
            } else if r < self.drop_ppm + self.corrupt_ppm + self.duplicate_ppm {
                self.counts[2] += 1;
                out(b);
                out(b);
            } else {
                out(b);
            }
        }
    }
}

#[cfg(test)]
mod tests;
