//! The device pipeline on an emulated Cortex-M0: `qemu-system-arm -M microbit` runs this
//! firmware, which reads ADC codes from the host file `input.bin` (in qemu's working
//! directory) over semihosting, pushes them one by one through `sinus_core::monitor::Monitor`
//! with the shipped one-lead int8 model, and prints every event as one line of hex — the
//! bytes of `Event::encode` — on the semihosting console. The host's `Monitor` run on the
//! same codes must print the same lines (`sinus edge simulate --events-hex`): the CI parity
//! test compares them byte for byte.
//!
//! `input.bin`: a 20-byte header (`b"SINUSADC"`, then little-endian: the sampling rate and the
//! codes per mV as `f32` bits, the code of 0 mV as `i32`), then one little-endian `i16` per
//! sample, `i16::MIN` for a leads-off sample.
//!
//! Last, a `budget` line gives what the run cost: instructions (qemu's `-icount shift=0`
//! makes virtual time one nanosecond per instruction; the nRF51 TIMER0 counts it at 16 MHz,
//! i.e. one tick per 62.5 instructions), the most in any one sample, and the stack's
//! high-water mark from painting the free stack before the run.
#![no_std]
#![no_main]

use core::fmt::Write;
use core::mem::MaybeUninit;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hio, syscall};
use sinus_core::monitor::{Event, Monitor, MAX_EVENT_BYTES};

/// Samples read per semihosting call.
const BLOCK: usize = 512;
/// Pattern painted on the free stack.
const PAINT: u32 = 0x5A5A_A5A5;
/// Bytes of stack left unpainted below the stack pointer at painting time (the painting
/// function's own frame and what it calls).
const PAINT_MARGIN: usize = 256;

const TIMER0: usize = 0x4000_8000;
const TASKS_START: usize = TIMER0;
const TASKS_CAPTURE0: usize = TIMER0 + 0x040;
const MODE: usize = TIMER0 + 0x504;
const BITMODE: usize = TIMER0 + 0x508;
const PRESCALER: usize = TIMER0 + 0x510;
const CC0: usize = TIMER0 + 0x540;

/// Write a TIMER0 register.
fn timer_write(addr: usize, v: u32) {
    // SAFETY: `addr` is one of the TIMER0 register addresses above, a valid, aligned MMIO
    // word on the nRF51 (qemu models it); volatile so the access is not elided or merged.
    unsafe { core::ptr::write_volatile(addr as *mut u32, v) }
}

/// Start TIMER0 as a free-running 32-bit counter at 16 MHz.
fn timer_start() {
    timer_write(MODE, 0); // timer mode
    timer_write(BITMODE, 3); // 32 bit
    timer_write(PRESCALER, 0); // 16 MHz
    timer_write(TASKS_START, 1);
}

/// TIMER0's count now (16 MHz ticks).
fn ticks() -> u32 {
    timer_write(TASKS_CAPTURE0, 1);
    // SAFETY: CC[0] is a valid, aligned TIMER0 register word; volatile read.
    unsafe { core::ptr::read_volatile(CC0 as *const u32) }
}

extern "C" {
    // From cortex-m-rt's link.x: the end of .bss/.uninit (the stack's lowest bound) and the
    // initial stack pointer (the top of RAM).
    static mut __euninit: u32;
    static _stack_start: u32;
}

/// Paint the free stack (from the end of static data to `PAINT_MARGIN` below the stack
/// pointer) with `PAINT`; returns the painted range.
#[inline(never)]
fn paint_stack() -> (usize, usize) {
    let bottom = (&raw const __euninit) as usize;
    let sp = cortex_m::register::msp::read() as usize;
    let top = sp.saturating_sub(PAINT_MARGIN) & !3;
    let mut p = bottom;
    while p < top {
        // SAFETY: [bottom, top) lies between the end of all static data and the live stack
        // (below the stack pointer less a margin that covers this function's frame), so no
        // object lives there; it is RAM, word-aligned, and nothing reads it before writing.
        unsafe { core::ptr::write_volatile(p as *mut u32, PAINT) };
        p += 4;
    }
    (bottom, top)
}

/// Lowest address whose paint was overwritten (the stack's deepest point), or `top`.
fn stack_low_water(bottom: usize, top: usize) -> usize {
    let mut p = bottom;
    while p < top {
        // SAFETY: same range as `paint_stack` wrote; reading a word of RAM is sound.
        if unsafe { core::ptr::read_volatile(p as *const u32) } != PAINT {
            return p;
        }
        p += 4;
    }
    top
}

/// The monitor, in static memory (≈ 50 KB), configured in place: never copied to the stack.
/// In `.uninit` (not `.data`) so that its mostly-zero initial value does not take 50 KB of
/// flash as an initialiser image; `main` writes it before any use.
#[link_section = ".uninit.MONITOR"]
static mut MONITOR: MaybeUninit<Monitor<'static>> = MaybeUninit::uninit();

/// A semihosting file opened for reading in binary mode.
struct HostFile(usize);

impl HostFile {
    fn open(path: &str) -> Option<HostFile> {
        // The path must be NUL-terminated for the host; semihosting also takes its length.
        let mut buf = [0u8; 64];
        let b = path.as_bytes();
        if b.len() >= buf.len() {
            return None;
        }
        buf[..b.len()].copy_from_slice(b);
        // SAFETY: SYS_OPEN reads `b.len()` bytes (plus the NUL) from `buf`, which lives across
        // the call; mode 1 = "rb".
        let h = unsafe { syscall!(OPEN, buf.as_ptr(), 1usize, b.len()) } as isize;
        (h >= 0).then_some(HostFile(h as usize))
    }

    /// Fill `buf` as far as the file allows; returns the bytes read.
    fn read(&self, buf: &mut [u8]) -> usize {
        // SAFETY: SYS_READ writes at most `buf.len()` bytes into `buf`, which is live and
        // exclusively borrowed; it returns the number of bytes NOT read.
        let left = unsafe { syscall!(READ, self.0, buf.as_mut_ptr(), buf.len()) };
        buf.len().saturating_sub(left)
    }
}

fn fail(msg: &str) -> ! {
    if let Ok(mut e) = hio::hstderr() {
        let _ = writeln!(e, "sinus-qemu-m0: {msg}");
    }
    debug::exit(debug::EXIT_FAILURE);
    #[allow(clippy::empty_loop)]
    loop {}
}

/// Header: `b"SINUSADC"`, then little-endian: the sampling rate (Hz) and the codes per mV
/// as `f32` bits, the code of 0 mV as `i32`.
fn parse_header(h: &[u8; 20]) -> Option<(f32, f32, i32)> {
    if &h[..8] != b"SINUSADC" {
        return None;
    }
    let u = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    Some((f32::from_bits(u(8)), f32::from_bits(u(12)), u(16) as i32))
}

/// One sample through the monitor, in a frame of its own (so that the stack it needs shows
/// apart from `main`'s).
#[inline(never)]
fn step(monitor: &mut Monitor<'static>, code: Option<i32>, emit: &mut impl FnMut(Event)) {
    monitor.push(code, emit);
}

/// Write the unconfigured monitor into its slot, in a frame of its own (whatever temporary the
/// compiler makes lives only during this call, and the init stack measurement includes it).
#[inline(never)]
fn init_monitor<'a>(slot: &'a mut MaybeUninit<Monitor<'static>>) -> &'a mut Monitor<'static> {
    slot.write(Monitor::unconfigured())
}

#[entry]
fn main() -> ! {
    let mut out = match hio::hstdout() {
        Ok(o) => o,
        Err(_) => fail("no semihosting console"),
    };
    let Some(file) = HostFile::open("input.bin") else {
        fail("cannot open input.bin in qemu's working directory")
    };
    let mut header = [0u8; 20];
    if file.read(&mut header) != header.len() {
        fail("input.bin: shorter than its 20-byte header");
    }
    let Some((fs, counts_per_mv, zero_code)) = parse_header(&header) else {
        fail("input.bin: not a SINUSADC file");
    };
    let cfg = sinus_model::config(fs, counts_per_mv, zero_code);
    let stack_start = (&raw const _stack_start) as usize;
    // The stack is measured twice: while the monitor is configured, and while it runs.
    let (bottom, top) = paint_stack();
    // SAFETY: this is the only place MONITOR is named; `main` runs once and never returns, and
    // no interrupt handler exists, so this `&mut` is the only reference to it, ever.
    let monitor = unsafe { init_monitor(&mut *core::ptr::addr_of_mut!(MONITOR)) };
    if monitor.configure(sinus_model::MODEL, cfg).is_err() {
        fail("the model or configuration was refused by Monitor::configure");
    }
    let init_stack = stack_start.saturating_sub(stack_low_water(bottom, top));
    let (bottom, top) = paint_stack();
    timer_start();
    let mut line = [0u8; 2 * MAX_EVENT_BYTES + 1];
    let mut emit = |e: Event| {
        let mut bytes = [0u8; MAX_EVENT_BYTES];
        let n = e.encode(&mut bytes);
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for (i, b) in bytes[..n].iter().enumerate() {
            line[2 * i] = HEX[(b >> 4) as usize];
            line[2 * i + 1] = HEX[(b & 15) as usize];
        }
        line[2 * n] = b'\n';
        let _ = out.write_all(&line[..2 * n + 1]);
    };
    let mut raw = [0u8; 2 * BLOCK];
    let (mut samples, mut total, mut worst, mut worst_at) = (0u64, 0u64, 0u32, 0u64);
    loop {
        let got = file.read(&mut raw) / 2;
        if got == 0 {
            break;
        }
        for k in 0..got {
            let v = i16::from_le_bytes([raw[2 * k], raw[2 * k + 1]]);
            let code = (v != i16::MIN).then_some(v as i32);
            let t0 = ticks();
            step(monitor, code, &mut emit);
            let dt = ticks().wrapping_sub(t0);
            total += dt as u64;
            if dt > worst {
                worst = dt;
                worst_at = samples;
            }
            samples += 1;
        }
    }
    let t0 = ticks();
    monitor.finish(&mut emit);
    let finish = ticks().wrapping_sub(t0);
    let run_stack = stack_start.saturating_sub(stack_low_water(bottom, top));
    let _ = writeln!(
        out,
        "budget samples={samples} ticks={total} worst_ticks={worst} worst_at={worst_at} \
         finish_ticks={finish} tick_hz=16000000 insns_per_tick=62.5 \
         init_stack_bytes={init_stack} run_stack_bytes={run_stack} \
         static_end=0x{bottom:08x} ram_start=0x20000000",
    );
    debug::exit(debug::EXIT_SUCCESS);
    #[allow(clippy::empty_loop)]
    loop {}
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // The pipeline is written not to panic; if it ever does, say so and fail the run.
    fail("panic")
}
