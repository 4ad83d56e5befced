//! The sample ring: a single-producer, single-consumer queue of 16-bit slots from the timer
//! interrupt (producer) to the main loop (consumer).
//!
//! It is lock-free and needs no `unsafe`: every slot is an `AtomicU16` and the two indices are
//! `AtomicU32`s, and only atomic loads and stores are used (the Cortex-M0+ has no
//! compare-and-swap, but its word and half-word loads and stores are single-copy atomic). Each
//! index has one writer: the producer writes `head`, the consumer `tail`. The producer writes
//! a slot and then publishes it with a release store of `head`; the consumer acquires `head`
//! before it reads the slot, and releases `tail` after, which the producer acquires before it
//! reuses the slot. Used by more than one producer or consumer it would lose or repeat
//! samples, but it could not cause undefined behaviour.

use core::sync::atomic::{AtomicU16, AtomicU32, Ordering};

use crate::frontend::ADC_MAX;

/// What one slot of the ring says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// An ADC code (0..=4095).
    Code(u16),
    /// No sample: the leads were off, or the conversion failed. `Monitor` gets `None`.
    Missing,
    /// This many sample times (1..=[`MAX_GAP`]) passed without a sample reaching the ring:
    /// the ring was full (the main loop had fallen behind) or the interrupt came more than a
    /// period late. `Monitor` gets that many `None`s, so its sample count stays the time.
    Gap(u16),
}

/// Largest gap one slot can carry; longer gaps take several slots.
pub const MAX_GAP: u16 = 0x3FFF;

const MISSING: u16 = 0xF000;
const GAP: u16 = 0x8000;

impl Slot {
    /// The slot as 16 bits: codes as they are, `Missing` as 0xF000, gaps as 0x8000 | n.
    pub fn encode(self) -> u16 {
        match self {
            Slot::Code(c) => c.min(ADC_MAX),
            Slot::Missing => MISSING,
            Slot::Gap(n) => GAP | n.clamp(1, MAX_GAP),
        }
    }

    /// What the monitor is fed for this slot: the sample (`None` when missing) and how many
    /// sample times it stands for.
    pub fn samples(self) -> (Option<i32>, u16) {
        match self {
            Slot::Code(c) => (Some(i32::from(c)), 1),
            Slot::Missing => (None, 1),
            Slot::Gap(n) => (None, n),
        }
    }

    /// The slot from its 16 bits; any value decodes to something (values `encode` never makes
    /// read as `Missing`).
    pub fn decode(v: u16) -> Slot {
        if v <= ADC_MAX {
            Slot::Code(v)
        } else if v & 0xC000 == GAP && v & MAX_GAP != 0 {
            Slot::Gap(v & MAX_GAP)
        } else {
            Slot::Missing
        }
    }
}

/// A single-producer, single-consumer ring of `N` slots (`N` a power of two, at most 2¹⁶).
pub struct SampleRing<const N: usize> {
    slots: [AtomicU16; N],
    /// Slots written (free-running; wraps at 2³², a multiple of `N`).
    head: AtomicU32,
    /// Slots read (free-running).
    tail: AtomicU32,
    /// Most slots ever waiting at once (written by the producer only).
    high_water: AtomicU32,
}

impl<const N: usize> SampleRing<N> {
    const SIZE_OK: () = assert!(N.is_power_of_two() && N <= 1 << 16, "N: a power of two");

    /// An empty ring (a `const fn`, so the ring can be a `static`).
    pub const fn new() -> Self {
        #[allow(clippy::let_unit_value)] // evaluates the size check at compile time
        let () = Self::SIZE_OK;
        SampleRing {
            slots: [const { AtomicU16::new(0) }; N],
            head: AtomicU32::new(0),
            tail: AtomicU32::new(0),
            high_water: AtomicU32::new(0),
        }
    }

    /// Producer: append `slot`; `false` (and nothing written) if the ring is full.
    pub fn push(&self, slot: Slot) -> bool {
        let head = self.head.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Acquire);
        let waiting = head.wrapping_sub(tail);
        if waiting as usize >= N {
            return false;
        }
        self.slots[head as usize % N].store(slot.encode(), Ordering::Relaxed);
        self.head.store(head.wrapping_add(1), Ordering::Release);
        if waiting + 1 > self.high_water.load(Ordering::Relaxed) {
            self.high_water.store(waiting + 1, Ordering::Relaxed);
        }
        true
    }

    /// Consumer: the oldest slot, if any.
    pub fn pop(&self) -> Option<Slot> {
        let tail = self.tail.load(Ordering::Relaxed);
        let head = self.head.load(Ordering::Acquire);
        if head == tail {
            return None;
        }
        let v = self.slots[tail as usize % N].load(Ordering::Relaxed);
        self.tail.store(tail.wrapping_add(1), Ordering::Release);
        Some(Slot::decode(v))
    }

    /// Slots waiting (a snapshot: either side may move it on).
    pub fn len(&self) -> usize {
        let tail = self.tail.load(Ordering::Acquire);
        let head = self.head.load(Ordering::Acquire);
        head.wrapping_sub(tail) as usize
    }

    /// Whether no slot is waiting (a snapshot).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Most slots that were ever waiting at once: how far the main loop has fallen behind.
    pub fn high_water(&self) -> u32 {
        self.high_water.load(Ordering::Relaxed)
    }
}

impl<const N: usize> Default for SampleRing<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_round_trip() {
        for s in [
            Slot::Code(0),
            Slot::Code(2048),
            Slot::Code(4095),
            Slot::Missing,
            Slot::Gap(1),
            Slot::Gap(MAX_GAP),
        ] {
            assert_eq!(Slot::decode(s.encode()), s);
        }
        // Out-of-range values are clamped, not wrapped into something else.
        assert_eq!(Slot::decode(Slot::Code(5000).encode()), Slot::Code(4095));
        assert_eq!(Slot::decode(Slot::Gap(0).encode()), Slot::Gap(1));
        assert_eq!(
            Slot::decode(Slot::Gap(u16::MAX).encode()),
            Slot::Gap(MAX_GAP)
        );
        // Every 16-bit value decodes without panicking, and codes only from the code range.
        for v in 0..=u16::MAX {
            if let Slot::Code(c) = Slot::decode(v) {
                assert!(c <= ADC_MAX && c == v);
            }
        }
    }

    #[test]
    fn what_the_monitor_is_fed() {
        assert_eq!(Slot::Code(4095).samples(), (Some(4095), 1));
        assert_eq!(Slot::Missing.samples(), (None, 1));
        assert_eq!(Slot::Gap(300).samples(), (None, 300));
    }

    #[test]
    fn fifo_order_and_full() {
        let r = SampleRing::<4>::new();
        assert!(r.is_empty());
        for c in 0..4 {
            assert!(r.push(Slot::Code(c)));
        }
        assert!(!r.push(Slot::Code(9)), "full");
        assert_eq!(r.len(), 4);
        assert_eq!(r.pop(), Some(Slot::Code(0)));
        assert!(r.push(Slot::Missing));
        let got: [Option<Slot>; 5] = core::array::from_fn(|_| r.pop());
        assert_eq!(
            got,
            [
                Some(Slot::Code(1)),
                Some(Slot::Code(2)),
                Some(Slot::Code(3)),
                Some(Slot::Missing),
                None
            ]
        );
        assert_eq!(r.high_water(), 4);
    }

    #[test]
    fn indices_wrap() {
        let r = SampleRing::<8>::new();
        r.head.store(u32::MAX - 2, Ordering::Relaxed);
        r.tail.store(u32::MAX - 2, Ordering::Relaxed);
        for c in 0..6 {
            assert!(r.push(Slot::Code(c)));
        }
        assert_eq!(r.len(), 6);
        for c in 0..6 {
            assert_eq!(r.pop(), Some(Slot::Code(c)));
        }
        assert!(r.is_empty());
    }
}
