//! The device's whole pipeline (`sinus_core::monitor::Monitor`) fed arbitrary ADC streams:
//! bytes decoded as a configuration (rate, gain, zero code) and then samples (i16, with
//! `i16::MIN` as a leads-off sample) and the odd reconfiguration. It must never panic, never
//! report a beat after the samples it was given, and every event must encode.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sinus_core::beat::WindowShape;
use sinus_core::monitor::{Event, Monitor, MonitorConfig, MAX_EVENT_BYTES};

static MODEL: &[u8] = include_bytes!("../../crates/sinus-ml/models/beatnet-1lead.int8.snnm");

fn config(b: &[u8]) -> MonitorConfig {
    let u = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    MonitorConfig {
        // Mostly usable rates, sometimes not (refused, then the monitor ignores its input).
        fs: 90.0 + (u(0) % 420) as f32,
        counts_per_mv: f32::from(u(2)) / 64.0,
        zero_code: i32::from(u(4) as i16),
        window: WindowShape {
            before_s: 0.25,
            after_s: 0.4,
            length: 128,
            z_normalise: true,
            template: true,
            align: true,
        },
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 6 {
        return;
    }
    let mut monitor = Box::new(Monitor::unconfigured());
    let _ = monitor.configure(MODEL, config(&data[..6]));
    let mut n: u64 = 0;
    let mut buf = [0u8; MAX_EVENT_BYTES];
    let mut check = |e: Event, n: u64| {
        if let Event::Beat { sample, .. } = e {
            assert!(sample < n.max(1), "beat {sample} after {n} samples");
        }
        let len = e.encode(&mut buf);
        assert!(len > 0 && len <= MAX_EVENT_BYTES);
    };
    let mut rest = &data[6..];
    while rest.len() >= 2 {
        let v = i16::from_le_bytes([rest[0], rest[1]]);
        rest = &rest[2..];
        // A rare marker reconfigures from the next six bytes (a device told a new rate).
        if v == i16::MAX && rest.len() >= 6 {
            let _ = monitor.configure(MODEL, config(&rest[..6]));
            rest = &rest[6..];
            n = 0;
            continue;
        }
        // Each byte pair stands for a run of samples, so short inputs reach beats.
        for _ in 0..8 {
            n += 1;
            let code = (v != i16::MIN).then_some(i32::from(v));
            monitor.push(code, &mut |e| check(e, n));
        }
    }
    monitor.finish(&mut |e| check(e, n));
});
