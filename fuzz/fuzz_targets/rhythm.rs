//! The device's rhythm state machine fed arbitrary beat streams, signal-quality segments and
//! clock advances (bytes decoded as commands): it must never panic, and every episode it reports
//! must be well formed.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sinus_core::rhythm::{Beat, BeatClass, RhythmAnalyzer, RhythmConfig, RhythmEvent, SignalQuality};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let fs = 100.0 + (u16::from_le_bytes([data[0], data[1]]) % 901) as f32;
    let Ok(mut a) = RhythmAnalyzer::new(RhythmConfig::new(fs)) else {
        return;
    };
    let mut now: u64 = 0;
    let mut check = |e: RhythmEvent| {
        if let RhythmEvent::Episode(ep) = e {
            assert!(ep.start <= ep.end, "{ep:?}");
        }
    };
    for chunk in data[2..].chunks(4) {
        if chunk.len() < 4 {
            break;
        }
        let step = u16::from_le_bytes([chunk[1], chunk[2]]) as u64;
        match chunk[0] % 8 {
            // Mostly beats, at any spacing (including none: equal samples are rejected).
            0..=4 => {
                now = now.saturating_add(step);
                let class = match chunk[3] % 6 {
                    0 | 1 => BeatClass::Normal,
                    2 => BeatClass::Supraventricular,
                    3 => BeatClass::Ventricular,
                    4 => BeatClass::Fusion,
                    _ => BeatClass::Unknown,
                };
                let beat = if chunk[3] & 0x80 != 0 {
                    Beat::unlabelled(now)
                } else {
                    Beat::labelled(now, class)
                };
                a.push_beat(beat, &mut check);
            }
            // A beat from the past (a bug upstream): must be ignored.
            5 => a.push_beat(Beat::labelled(now.saturating_sub(step), BeatClass::Normal), &mut check),
            6 => {
                let q = match chunk[3] % 3 {
                    0 => SignalQuality::Good,
                    1 => SignalQuality::Noisy,
                    _ => SignalQuality::LeadsOff,
                };
                let start = now.saturating_sub(step / 2);
                a.push_quality(start, start.saturating_add(step), q, &mut check);
            }
            _ => {
                now = now.saturating_add(step * 16);
                a.advance(now, &mut check);
            }
        }
    }
    a.finish(now.saturating_add(1), &mut check);
});
