//! The hardware side: clocks, pins, the sampling interrupt and the main loop.
//!
//! ```text
//! TIMER ALARM0 every 4000 µs ── TIMER_IRQ_0: LO+/LO− and one ADC conversion ── SAMPLES ring
//!                                                                                  │
//! main loop on core 0: SAMPLES ── Monitor::push ── event lines ── TxQueue ── UART0 FIFO
//! ```
//!
//! The interrupt never waits on the main loop: when the ring is full the sample becomes
//! part of a counted gap, which reaches the monitor as missing samples once there is room
//! (see `sinus_rp2040::sampler`). The main loop never waits on the UART: lines that do not fit
//! the transmit queue are dropped and counted (see `sinus_rp2040::tx`). Core 1 is not
//! started.

use core::cell::Cell;
use core::mem::MaybeUninit;

use critical_section::Mutex;
use embedded_hal::digital::{InputPin, StatefulOutputPin};
use rp2040_hal as hal;

use hal::clocks::Clock;
use hal::fugit::RateExtU32;
use hal::gpio::bank0::{Gpio20, Gpio21, Gpio26};
use hal::gpio::{FunctionSioInput, FunctionUart, Pin, PullDown, PullNone};
use hal::pac::{self, interrupt};
use hal::timer::{Alarm, Alarm0, Instant};
use hal::uart::{DataBits, StopBits, UartConfig, UartPeripheral};

use sinus_core::monitor::{Event, Monitor};
use sinus_rp2040::frontend::{self, PERIOD_US};
use sinus_rp2040::ring::{SampleRing, Slot};
use sinus_rp2040::sampler::{bump, Faults, Sampler};
use sinus_rp2040::tx::{event_line, notice_line, TxQueue, MAX_LINE};

/// The second-stage bootloader, which the bootrom loads from the first 256 bytes of flash to
/// set up execute-in-place for the flash chip. The W25Q080 variant drives the Winbond flash
/// of the Raspberry Pi Pico and most boards like it in its fast quad-I/O mode; a board with
/// another chip needs another variant of `rp2040_boot2` (`BOOT_LOADER_GENERIC_03H` works
/// with any, slowly).
// `link_section` is an unsafe attribute (a section can hold anything the linker puts there).
// Sound here: memory.x gives `.boot2` its own 256-byte region, BOOT2 at 0x10000000, into
// which only this 256-byte array goes (the link fails if it does not fit), and the program
// never reads the array; the bootrom alone reads those bytes, checking their CRC first.
#[allow(unsafe_code)]
#[link_section = ".boot2"]
#[used]
pub static BOOT2: [u8; 256] = rp2040_boot2::BOOT_LOADER_W25Q080;

/// The crystal on the board (12 MHz on the Pico and its kind): `init_clocks_and_plls` runs
/// the system clock at 125 MHz from it, and the timer at 1 MHz.
const XTAL_HZ: u32 = 12_000_000;

/// UART0 baud rate (8 data bits, no parity, 1 stop bit).
const BAUD: u32 = 115_200;

/// Slots of the sample ring: 512 samples, 2.048 s at 250 Hz, for the main loop to fall
/// behind by before samples are lost. One beat's work (window, template, a 77 k-MAC network)
/// should take milliseconds at 125 MHz (not measured on the board), so the ring should stay
/// nearly empty; at 1 KB it is cheap insurance.
const RING_SLOTS: usize = 512;

/// Bytes of the transmit queue: ~50 beat lines (37 bytes each). The UART moves 11.5 KB/s
/// against a few hundred bytes per second of events, so it fills only if the line stalls.
const TX_BYTES: usize = 2048;

/// Samples from the interrupt to the main loop.
static SAMPLES: SampleRing<RING_SLOTS> = SampleRing::new();

/// What went wrong in the interrupt (counters; a debugger can read them here too).
static FAULTS: Faults = Faults::new();

/// The interrupt's peripherals, handed over by `main` once before the interrupt is unmasked.
static SAMPLING: Mutex<Cell<Option<Sampling>>> = Mutex::new(Cell::new(None));

/// Everything the sampling interrupt owns.
struct Sampling {
    sampler: Sampler,
    timer: hal::Timer,
    alarm: Alarm0,
    /// The ADC, enabled by `hal::Adc::new` and driven directly (see [`convert`]).
    adc: pac::ADC,
    /// AD8232 OUTPUT on GPIO26 (ADC0), its digital input and output off. Held, not read:
    /// the pin stays configured for as long as the interrupt runs.
    _ecg: hal::adc::AdcPin<Pin<Gpio26, FunctionSioInput, PullNone>>,
    /// AD8232 LO+ on GPIO20: high when the + electrode is off.
    lo_plus: Pin<Gpio20, FunctionSioInput, PullDown>,
    /// AD8232 LO− on GPIO21: high when the − electrode is off.
    lo_minus: Pin<Gpio21, FunctionSioInput, PullDown>,
}

/// Stop for good (only when the chip cannot be brought up; nothing else can be reported).
fn halt() -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}

/// The code is written not to panic (bounds are checked by construction, arithmetic
/// saturates), but the compiler cannot prove every check away. Should one fire anyway, reset
/// the chip: the monitor starts afresh and announces itself with its `# sinus-rp2040` line,
/// where a halt would leave a silent device.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // Through the watchdog and the power-on state machine: every block of the chip, not
    // only the processor, starts again from its reset state.
    hal::reset()
}

#[hal::entry]
fn main() -> ! {
    // `static mut`s at the top of the entry function are handed to it by cortex-m-rt as
    // `&'static mut` references (the entry runs once), so the 50 KB monitor and the queue
    // live in static RAM, not on the stack, with no `unsafe` here.
    static mut MONITOR: MaybeUninit<Monitor<'static>> = MaybeUninit::uninit();
    static mut TX: TxQueue<TX_BYTES> = TxQueue::new();

    let Some(mut pac) = pac::Peripherals::take() else {
        halt()
    };
    let mut watchdog = hal::Watchdog::new(pac.WATCHDOG);
    let Ok(clocks) = hal::clocks::init_clocks_and_plls(
        XTAL_HZ,
        pac.XOSC,
        pac.CLOCKS,
        pac.PLL_SYS,
        pac.PLL_USB,
        &mut pac.RESETS,
        &mut watchdog,
    ) else {
        halt()
    };
    let sio = hal::Sio::new(pac.SIO);
    let pins = hal::gpio::Pins::new(
        pac.IO_BANK0,
        pac.PADS_BANK0,
        sio.gpio_bank0,
        &mut pac.RESETS,
    );

    let mut led = pins.gpio25.into_push_pull_output();
    let uart_pins = (
        pins.gpio0.into_function::<FunctionUart>(),
        pins.gpio1.into_function::<FunctionUart>(),
    );
    let Ok(uart) = UartPeripheral::new(pac.UART0, uart_pins, &mut pac.RESETS).enable(
        UartConfig::new(BAUD.Hz(), DataBits::Eight, None, StopBits::One),
        clocks.peripheral_clock.freq(),
    ) else {
        halt()
    };
    // Takes what the hardware FIFO has room for, never waits.
    let send = |bytes: &[u8]| match uart.write_raw(bytes) {
        Ok(rest) => bytes.len() - rest.len(),
        Err(_) => 0,
    };
    let tx = TX;
    tx.push_line(concat!("# sinus-rp2040 ", env!("CARGO_PKG_VERSION"), "\n").as_bytes());
    tx.pump(send);

    // Configured in place: `Monitor::configure` sets it up field by field, never building a
    // second monitor on the stack.
    let monitor = place_monitor(MONITOR);
    if monitor
        .configure(sinus_model::MODEL, frontend::monitor_config())
        .is_err()
    {
        // Cannot happen with the shipped model (a host test checks it), but say so rather
        // than run without a monitor.
        tx.push_line(b"# monitor: the model does not fit this front end\n");
        loop {
            tx.pump(send);
        }
    }

    let adc = hal::Adc::new(pac.ADC, &mut pac.RESETS).free();
    let Ok(ecg) = hal::adc::AdcPin::new(pins.gpio26.into_floating_input()) else {
        halt()
    };
    // The AD8232 drives LO+/LO− push-pull; the pull-downs only decide what an unwired pin
    // reads: leads on, so a board without the leads-off lines still streams its signal.
    let lo_plus = pins.gpio20.into_pull_down_input();
    let lo_minus = pins.gpio21.into_pull_down_input();
    let mut timer = hal::Timer::new(pac.TIMER, &mut pac.RESETS, &clocks);
    let Some(mut alarm) = timer.alarm_0() else {
        halt()
    };
    let first = timer.get_counter().ticks().saturating_add(PERIOD_US);
    if alarm.schedule_at(Instant::from_ticks(first)).is_err() {
        halt()
    }
    alarm.enable_interrupt();
    critical_section::with(|cs| {
        SAMPLING.borrow(cs).set(Some(Sampling {
            sampler: Sampler::new(first),
            timer,
            alarm,
            adc,
            _ecg: ecg,
            lo_plus,
            lo_minus,
        }))
    });
    // Unmasking an interrupt is unsafe because it can break a critical section that works
    // by masking it. Sound here: the only critical sections are cortex-m's single-core ones,
    // which disable all interrupts (PRIMASK) rather than mask one, and the state the
    // handler uses was handed over in one above, before this point.
    #[allow(unsafe_code)]
    unsafe {
        pac::NVIC::unmask(pac::Interrupt::TIMER_IRQ_0)
    };

    let mut line = [0u8; MAX_LINE];
    loop {
        while let Some(slot) = SAMPLES.pop() {
            let mut emit = |e: Event| {
                if matches!(e, Event::Beat { .. }) {
                    // Heartbeat: the LED changes state on every beat.
                    let _ = led.toggle();
                }
                let n = event_line(&e, &mut line);
                tx.push_line(&line[..n]);
            };
            let (sample, times) = slot.samples();
            for _ in 0..times {
                monitor.push(sample, &mut emit);
            }
            if let Slot::Gap(n) = slot {
                let k = notice_line("missed", u32::from(n), &mut line);
                tx.push_line(&line[..k]);
            }
            // Between samples too, so a burst of work does not leave the FIFO idle long.
            tx.pump(send);
        }
        tx.pump(send);
        // Sleep until the next interrupt. Should the sample interrupt come between the
        // emptiness check above and this instruction, it is handled before the sleep and
        // its sample waits for the next one, 4 ms: late, never lost. Queued lines move at
        // least one FIFO (32 bytes) per 4 ms this way, more than the events need.
        cortex_m::asm::wfi();
    }
}

/// The unconfigured monitor, written into `slot`. Not inlined, so that whatever temporary
/// the write needs lives in this frame only while it runs, not in `main`'s for ever.
#[inline(never)]
fn place_monitor(
    slot: &'static mut MaybeUninit<Monitor<'static>>,
) -> &'static mut Monitor<'static> {
    slot.write(Monitor::unconfigured())
}

/// ADC input of the ECG: ADC0, on GPIO26.
const ECG_CHANNEL: u8 = 0;

/// Most polls of the ADC's READY flag per conversion. A conversion takes 96 ADC clocks at
/// 48 MHz, 2 µs, some 25 polls at 125 MHz; ten times that and the ADC is deemed stuck.
const ADC_POLLS: u32 = 256;

/// One conversion of the ECG channel: its 12-bit code, or `None` if the ADC flagged an error
/// or did not finish in [`ADC_POLLS`] polls. Bounded, unlike the HAL's blocking read, so a
/// faulty ADC costs samples, not the sampling.
fn convert(adc: &pac::ADC) -> Option<u16> {
    adc.cs()
        .modify(|_, w| w.ainsel().variant(ECG_CHANNEL).start_once().set_bit());
    for _ in 0..ADC_POLLS {
        let cs = adc.cs().read();
        if cs.ready().bit_is_set() {
            if cs.err().bit_is_set() {
                return None;
            }
            return Some(adc.result().read().result().bits());
        }
    }
    None
}

#[interrupt]
fn TIMER_IRQ_0() {
    // Handed to this handler as `&'static mut` by cortex-m-rt, like the statics of main.
    static mut STATE: Option<Sampling> = None;
    if STATE.is_none() {
        *STATE = critical_section::with(|cs| SAMPLING.borrow(cs).take());
    }
    let Some(s) = STATE.as_mut() else {
        // Nothing to sample with (main unmasks this interrupt only after the handover):
        // mask it rather than return to a pending interrupt forever.
        pac::NVIC::mask(pac::Interrupt::TIMER_IRQ_0);
        return;
    };
    s.alarm.clear_interrupt();
    // Either electrode off: no ECG in the output, whatever the ADC reads.
    let off = s.lo_plus.is_high().unwrap_or(true) || s.lo_minus.is_high().unwrap_or(true);
    let reading = if off {
        Slot::Missing
    } else {
        match convert(&s.adc) {
            Some(code) => Slot::Code(code),
            None => {
                bump(&FAULTS.adc_errors, 1);
                Slot::Missing
            }
        }
    };
    let now = s.timer.get_counter().ticks();
    let next = s.sampler.tick(reading, now, &SAMPLES, &FAULTS);
    // `next` is at most one period ahead, well inside the alarm's 32-bit reach, so this does
    // not fail; a deadline already passed by the time it is set fires at once.
    let _ = s.alarm.schedule_at(Instant::from_ticks(next));
}
