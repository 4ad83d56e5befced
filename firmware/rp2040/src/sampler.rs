//! The timer interrupt's bookkeeping: the sample deadlines, and the samples that could not be
//! delivered, turned into gaps in the ring so that the monitor's sample count stays the time.

use core::sync::atomic::{AtomicU32, Ordering};

use crate::frontend::PERIOD_US;
use crate::ring::{SampleRing, Slot, MAX_GAP};

/// Counters of what went wrong in the interrupt, for the main loop (and a debugger) to read.
/// Each is written by the interrupt only, so a load and a store make an increment (the
/// Cortex-M0+ has no atomic read-modify-write); they saturate instead of wrapping.
pub struct Faults {
    /// Samples lost because the ring was full (the main loop had fallen behind).
    pub overruns: AtomicU32,
    /// Sample times skipped because the interrupt ran more than a period late.
    pub late: AtomicU32,
    /// Failed ADC conversions (delivered as missing samples).
    pub adc_errors: AtomicU32,
}

impl Faults {
    /// All zero.
    pub const fn new() -> Self {
        Faults {
            overruns: AtomicU32::new(0),
            late: AtomicU32::new(0),
            adc_errors: AtomicU32::new(0),
        }
    }
}

impl Default for Faults {
    fn default() -> Self {
        Self::new()
    }
}

/// Add `by` to a counter that only the caller writes.
pub fn bump(counter: &AtomicU32, by: u32) {
    let v = counter.load(Ordering::Relaxed).saturating_add(by);
    counter.store(v, Ordering::Relaxed);
}

/// The interrupt's state between samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sampler {
    /// Timer time (µs) of the sample being taken.
    deadline: u64,
    /// Sample times not yet in the ring (written as a [`Slot::Gap`] when there is room).
    gap: u32,
}

impl Sampler {
    /// Sampling starts at timer time `first` (µs).
    pub const fn new(first: u64) -> Self {
        Sampler {
            deadline: first,
            gap: 0,
        }
    }

    /// Timer time (µs) at which the next sample is due.
    pub fn deadline(&self) -> u64 {
        self.deadline
    }

    /// Sample times owed to the ring as a gap.
    pub fn owed(&self) -> u32 {
        self.gap
    }

    /// The sample due at [`Sampler::deadline`] is `reading`, taken with the timer at `now`:
    /// put it in `ring` (after any gap still owed, so that the order stays the time order)
    /// and return the next deadline. Never waits: a full ring makes the sample part of a gap.
    ///
    /// The next deadline is the previous one plus [`PERIOD_US`], not `now` plus it, so the
    /// interrupt's latency does not accumulate. If the interrupt ran so late that later
    /// deadlines have passed too, those sample times become a gap and the next deadline is
    /// the first one still ahead: a sample is never taken more than one period late.
    pub fn tick<const N: usize>(
        &mut self,
        reading: Slot,
        now: u64,
        ring: &SampleRing<N>,
        faults: &Faults,
    ) -> u64 {
        self.settle_gap(ring);
        if self.gap == 0 && ring.push(reading) {
            // Delivered.
        } else {
            self.gap = self.gap.saturating_add(1);
            bump(&faults.overruns, 1);
        }
        let passed = now.saturating_sub(self.deadline) / PERIOD_US;
        if passed > 0 {
            let skipped = u32::try_from(passed).unwrap_or(u32::MAX);
            self.gap = self.gap.saturating_add(skipped);
            bump(&faults.late, skipped);
        }
        self.deadline = self
            .deadline
            .saturating_add(passed.saturating_add(1).saturating_mul(PERIOD_US));
        self.deadline
    }

    /// Write as much of the owed gap into the ring as it has room for.
    fn settle_gap<const N: usize>(&mut self, ring: &SampleRing<N>) {
        while self.gap > 0 {
            let n = self.gap.min(MAX_GAP as u32) as u16;
            if !ring.push(Slot::Gap(n)) {
                return;
            }
            self.gap -= n as u32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::vec::Vec;

    fn drain<const N: usize>(r: &SampleRing<N>) -> Vec<Slot> {
        core::iter::from_fn(|| r.pop()).collect()
    }

    #[test]
    fn on_time_ticks_advance_by_the_period() {
        let r = SampleRing::<8>::new();
        let f = Faults::new();
        let mut s = Sampler::new(1_000);
        // Latency inside one period is absorbed: the deadlines stay on the 4 ms grid.
        assert_eq!(s.tick(Slot::Code(1), 1_000, &r, &f), 5_000);
        assert_eq!(s.tick(Slot::Code(2), 5_900, &r, &f), 9_000);
        assert_eq!(s.tick(Slot::Code(3), 12_999, &r, &f), 13_000);
        assert_eq!(drain(&r), [Slot::Code(1), Slot::Code(2), Slot::Code(3)]);
        assert_eq!(f.late.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_late_interrupt_skips_passed_deadlines_as_a_gap() {
        let r = SampleRing::<8>::new();
        let f = Faults::new();
        let mut s = Sampler::new(0);
        // 2.5 periods late: deadlines 4000 and 8000 have passed.
        assert_eq!(s.tick(Slot::Code(7), 10_000, &r, &f), 12_000);
        assert_eq!(s.owed(), 2);
        assert_eq!(s.tick(Slot::Code(8), 12_000, &r, &f), 16_000);
        assert_eq!(drain(&r), [Slot::Code(7), Slot::Gap(2), Slot::Code(8)]);
        assert_eq!(f.late.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn a_full_ring_becomes_a_gap_in_order() {
        let r = SampleRing::<2>::new();
        let f = Faults::new();
        let mut s = Sampler::new(0);
        let mut t = 0;
        for c in 0..5 {
            s.tick(Slot::Code(c), t, &r, &f);
            t += PERIOD_US;
        }
        assert_eq!(f.overruns.load(Ordering::Relaxed), 3);
        assert_eq!(s.owed(), 3);
        assert_eq!(r.pop(), Some(Slot::Code(0)));
        // One slot free: the gap goes in, the new sample joins the (new) gap.
        s.tick(Slot::Code(5), t, &r, &f);
        t += PERIOD_US;
        assert_eq!(s.owed(), 1);
        assert_eq!(r.pop(), Some(Slot::Code(1)));
        assert_eq!(r.pop(), Some(Slot::Gap(3)));
        s.tick(Slot::Code(6), t, &r, &f);
        assert_eq!(drain(&r), [Slot::Gap(1), Slot::Code(6)]);
        assert_eq!(s.owed(), 0);
        // All 7 sample times are accounted for, in order: codes 0 and 1, a gap of 3 (codes
        // 2-4 lost), a gap of 1 (code 5 lost), code 6.
    }

    #[test]
    fn long_gaps_take_several_slots() {
        let r = SampleRing::<8>::new();
        let f = Faults::new();
        let mut s = Sampler::new(0);
        let late = (MAX_GAP as u64 + 5) * PERIOD_US;
        s.tick(Slot::Code(1), late, &r, &f);
        s.tick(Slot::Code(2), s.deadline(), &r, &f);
        assert_eq!(
            drain(&r),
            [
                Slot::Code(1),
                Slot::Gap(MAX_GAP),
                Slot::Gap(5),
                Slot::Code(2)
            ]
        );
    }

    #[test]
    fn extreme_times_saturate_instead_of_panicking() {
        let r = SampleRing::<2>::new();
        let f = Faults::new();
        let mut s = Sampler::new(u64::MAX - 10);
        assert_eq!(s.tick(Slot::Missing, u64::MAX, &r, &f), u64::MAX);
        let mut s = Sampler::new(0);
        s.tick(Slot::Missing, u64::MAX, &r, &f);
        assert_eq!(s.owed(), u32::MAX);
        assert_eq!(f.late.load(Ordering::Relaxed), u32::MAX);
    }
}
