extern crate std;

use super::*;
use proptest::prelude::*;
use std::vec::Vec;

fn samples() -> Vec<Message<'static>> {
    static RAW: [u8; 8] = [1, 0, 2, 0, 0xFF, 0xFF, 0, 0x80];
    vec_of(&[
        Message::Hello(Hello {
            protocol: VERSION,
            device_id: *b"SN000042",
            firmware: [0, 1, 0],
            model_crc: 0xDEAD_BEEF,
            fs: 250.0,
            counts_per_mv: 372.36365,
            zero_code: 2048,
            leads: 1,
        }),
        Message::Heartbeat { uptime: 1 << 40 },
        Message::RawSamples {
            first: 12345,
            leads: 2,
            count: 2,
            coding: SampleCoding::Raw16,
            data: &RAW,
        },
        Message::Qrs {
            sample: 99,
            rr: 200,
            amplitude_uv: -1500,
        },
        Message::Features {
            start: 0,
            nn: 300,
            mean_nn_ms: 800.5,
            sdnn_ms: 40.0,
            rmssd_ms: 31.0,
            pnn50: 4.5,
        },
        Message::Classification {
            sample: 77,
            class: 2,
            confidence: 0.875,
        },
        Message::Rhythm {
            kind: 0,
            phase: 1,
            start: 10,
            end: 5000,
            beats: 33,
            mean_bpm: 121.0,
        },
        Message::Anomaly {
            first: 5,
            reason: 1,
            part: 1,
            parts: 3,
            leads: 1,
            count: 4,
            coding: SampleCoding::Raw16,
            data: &RAW,
        },
        Message::Status(Status {
            sample: 1,
            battery_mv: 3700,
            battery_pct: 80,
            leads_off: true,
            storage_permille: 120,
            samples_lost: 3,
            packets_dropped: 4,
        }),
        Message::Alarm {
            kind: 0,
            active: true,
            sample: 8,
        },
        Message::Ack {
            command: 7,
            result: 0,
        },
        Message::StartRaw,
        Message::StopRaw,
        Message::ReadStored {
            from: 1,
            to: 2,
            tiers: 0b111,
        },
        Message::SetTime {
            sample: 3,
            unix_ms: 1_765_000_000_000,
        },
        Message::HelloRequest,
    ])
}

fn vec_of(m: &[Message<'static>]) -> Vec<Message<'static>> {
    m.to_vec()
}

#[test]
fn crc_is_the_zlib_crc32() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32(b""), 0);
}

#[test]
fn every_message_round_trips() {
    let mut buf = [0u8; MAX_PACKET];
    for (seq, m) in samples().into_iter().enumerate() {
        let n = m.emit(seq as u16, &mut buf).unwrap();
        let p = Packet::new_checked(&buf[..n]).unwrap();
        assert_eq!(p.sequence(), seq as u16);
        assert_eq!(p.type_byte(), m.packet_type() as u8);
        assert_eq!(Message::parse(&p).unwrap(), m);
        // Any single flipped bit is caught by the CRC.
        for bit in 0..n * 8 {
            let mut c = buf;
            c[bit / 8] ^= 1 << (bit % 8);
            assert!(Packet::new_checked(&c[..n]).is_err(), "bit {bit}");
        }
        // Too short a buffer is an error, not a panic.
        assert_eq!(m.emit(0, &mut buf[..n - 1]), Err(WireError::BufferTooSmall));
    }
}

#[test]
fn bad_fields_are_refused() {
    let mut buf = [0u8; MAX_PACKET];
    let n = Message::Classification {
        sample: 1,
        class: 9,
        confidence: 0.5,
    }
    .emit(0, &mut buf)
    .unwrap();
    let p = Packet::new_checked(&buf[..n]).unwrap();
    assert_eq!(Message::parse(&p), Err(WireError::Field("class")));
    // An unknown type and a foreign version.
    let mut raw = [0x10u8, 0x7F, 0, 0, 0, 0, 0, 0];
    let crc = crc32(&raw[..4]);
    raw[4..].copy_from_slice(&crc.to_le_bytes());
    let p = Packet::new_checked(&raw[..]).unwrap();
    assert_eq!(Message::parse(&p), Err(WireError::UnknownType(0x7F)));
    raw[0] = 0x20;
    let crc = crc32(&raw[..4]);
    raw[4..].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(
        Packet::new_checked(&raw[..]).err(),
        Some(WireError::Version(0x20))
    );
    assert_eq!(
        Packet::new_checked(&raw[..5]).err(),
        Some(WireError::Truncated)
    );
}

#[test]
fn cobs_round_trips_at_block_boundaries() {
    for len in [0usize, 1, 253, 254, 255, 256, 508, 509, 1000] {
        for fill in [0u8, 1, 0xFF] {
            let mut src: Vec<u8> = (0..len)
                .map(|i| if i % 7 == 3 { 0 } else { fill })
                .collect();
            if fill == 1 {
                src.iter_mut().for_each(|b| *b = 1);
            }
            let mut frame = std::vec![0u8; len + len / 254 + 2];
            let n = cobs_encode(&src, &mut frame).unwrap();
            assert_eq!(frame[n - 1], 0);
            assert!(!frame[..n - 1].contains(&0));
            let m = cobs_decode_in_place(&mut frame[..n - 1]).unwrap();
            assert_eq!(&frame[..m], &src[..], "len {len} fill {fill}");
        }
    }
    assert_eq!(cobs_decode_in_place(&mut [3, 1]), None);
    assert_eq!(cobs_decode_in_place(&mut [2, 0]), None);
}

/// Frames of `messages`, and their packets' bytes.
fn stream(n: usize) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let all = samples();
    let (mut frames, mut packets) = (Vec::new(), Vec::new());
    let mut pbuf = [0u8; MAX_PACKET];
    let mut fbuf = [0u8; MAX_FRAME];
    for i in 0..n {
        let m = all[i % all.len()];
        let len = m.emit(i as u16, &mut pbuf).unwrap();
        let f = cobs_encode(&pbuf[..len], &mut fbuf).unwrap();
        packets.push(pbuf[..len].to_vec());
        frames.push(fbuf[..f].to_vec());
    }
    (frames, packets)
}

#[test]
fn a_long_faulty_stream_loses_only_what_was_hit_and_accepts_nothing_false() {
    let n = 200_000;
    let (frames, packets) = stream(n);
    // 1 % of bytes corrupted, 0.5 % dropped, 0.5 % duplicated.
    let mut faults = FaultInjector::new(7, 5_000, 10_000, 5_000);
    let mut dec = FrameDecoder::new();
    let mut seqs = SequenceTracker::default();
    let mut got: Vec<u16> = Vec::new();
    let mut hit = std::vec![false; n];
    let mut false_accepts = 0;
    let mut line = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let before = faults.counts;
        line.clear();
        faults.apply(f, &mut |b| line.push(b));
        hit[i] = faults.counts != before;
        dec.feed(&line, &mut |frame| {
            if let Frame::Packet(p) = frame {
                let s = p.sequence();
                // Sequence numbers wrap every 65536 packets: the sent packet is the latest
                // one with this number.
                let i = (0..=i).rev().find(|&k| k as u16 == s).unwrap();
                if p.payload() != &packets[i][HEADER_LEN..packets[i].len() - CRC_LEN]
                    || Message::parse(&p).is_err()
                {
                    false_accepts += 1;
                }
                if seqs.accept(s) {
                    got.push(s);
                }
            }
        });
    }
    assert_eq!(false_accepts, 0);
    // Every frame untouched, whose predecessor's delimiter was untouched too, arrives: sync is
    // regained within one packet.
    let mut received = std::vec![false; n];
    let mut k = 0;
    for (i, r) in received.iter_mut().enumerate() {
        if k < got.len() && got[k] == i as u16 {
            *r = true;
            k += 1;
        }
    }
    let mut must = 0;
    for i in 1..n {
        if !hit[i] && !hit[i - 1] {
            must += 1;
            assert!(received[i], "frame {i} was intact but not received");
        }
    }
    // Loss is counted exactly: every packet not received is counted lost (the stream starts
    // and ends with a received packet here).
    let first = received.iter().position(|&r| r).unwrap();
    let last = received.iter().rposition(|&r| r).unwrap();
    let missing = (first..=last).filter(|&i| !received[i]).count() as u64;
    assert_eq!(seqs.lost, missing);
    let s = dec.stats();
    std::println!(
        "{n} packets, {} bytes; faults {:?}; accepted {}, lost {}, intact-and-required {must}; \
         refused: cobs {}, crc {}, other {}, overflow {}",
        s.bytes,
        faults.counts,
        s.packets,
        seqs.lost,
        s.cobs_errors,
        s.crc_errors,
        s.other_errors,
        s.overflows
    );
    assert!(s.packets > (n as u64) / 2);
}

#[test]
fn duplicated_and_lost_packets_are_counted() {
    let mut t = SequenceTracker::default();
    for s in [65534u16, 65535, 65535, 1, 2, 0, 5] {
        t.accept(s);
    }
    // 0 lost between 65535 and 1; 3, 4 between 2 and 5; 65535 again and the late 0 are
    // duplicates.
    assert_eq!((t.received, t.lost, t.duplicates), (5, 3, 2));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn rice_round_trips(x in proptest::collection::vec(any::<i16>(), 0..600), smooth in any::<bool>()) {
        let x: Vec<i16> = if smooth {
            x.iter().scan(0i16, |acc, &d| { *acc = acc.wrapping_add(d / 512); Some(*acc) }).collect()
        } else {
            x
        };
        let mut buf = std::vec![0u8; 3 + x.len() * 6];
        let n = rice_encode(&x, &mut buf).unwrap();
        let mut back = std::vec![0i16; x.len()];
        rice_decode(&buf[..n], &mut back).unwrap();
        prop_assert_eq!(back, x);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let mut dec = FrameDecoder::new();
        dec.feed(&bytes, &mut |f| {
            if let Frame::Packet(p) = f {
                let _ = Message::parse(&p);
            }
        });
        let mut out = [0i16; 64];
        let _ = rice_decode(&bytes, &mut out);
        let mut b = bytes.clone();
        let _ = cobs_decode_in_place(&mut b);
    }
}
