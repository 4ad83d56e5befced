//! Adaptive binary range coder: 32-bit range, 12-bit probabilities, carries propagated through a
//! pending-byte count. The decoder needs only 32-bit integer arithmetic (Cortex-M0 has a
//! 32×32→32 multiplier and no divider; neither coder divides).

/// Probability precision (bits): `p / 4096` is the chance of a 0.
pub(crate) const PROB_BITS: u32 = 12;
/// A fresh context: even odds, nothing seen.
pub(crate) const PROB_INIT: Prob = Prob { p: 1 << 15, n: 0 };
/// Slowest adaptation: each coded bit moves the probability 1/2^LIMIT of the way. A fresh
/// context adapts faster (1/2, 1/3, ... in effect a running frequency count) until it reaches
/// this speed: the tables start from scratch in every block, and most contexts see few bits.
const LIMIT: u8 = 5;

/// An adaptive probability that the next bit is 0 (16 bits) and how many bits it has seen.
#[derive(Clone, Copy)]
pub(crate) struct Prob {
    p: u16,
    n: u8,
}

impl Prob {
    /// The coding probability, in PROB_BITS, kept off 0 and 1 so both symbols stay codable.
    fn get(self) -> u32 {
        (u32::from(self.p) >> (16 - PROB_BITS)).clamp(16, (1 << PROB_BITS) - 16)
    }

    fn update(&mut self, bit: bool) {
        let shift = (self.n + 1).min(LIMIT);
        if self.n < LIMIT {
            self.n += 1;
        }
        if bit {
            self.p -= self.p >> shift;
        } else {
            self.p += (u16::MAX - self.p) >> shift;
        }
    }
}

/// Renormalise when the range falls below this: keeps ≥ 12 bits of precision for `range >> 12`.
const TOP: u32 = 1 << 24;

/// Writes coded bits into a caller's slice.
pub(crate) struct Encoder<'a> {
    out: &'a mut [u8],
    pos: usize,
    low: u64,
    range: u32,
    cache: u8,
    /// Bytes held back: the cache byte plus pending 0xFF bytes a carry may still change.
    pending: u32,
    /// The first byte the scheme produces is always 0; it is not written (saves a byte a block).
    first: bool,
    overflow: bool,
}

impl<'a> Encoder<'a> {
    pub(crate) fn new(out: &'a mut [u8]) -> Self {
        Encoder {
            out,
            pos: 0,
            low: 0,
            range: u32::MAX,
            cache: 0,
            pending: 1,
            first: true,
            overflow: false,
        }
    }

    fn put(&mut self, b: u8) {
        if self.first {
            self.first = false;
            return;
        }
        match self.out.get_mut(self.pos) {
            Some(slot) => {
                *slot = b;
                self.pos += 1;
            }
            None => self.overflow = true,
        }
    }

    fn shift_low(&mut self) {
        // A byte is final once no carry can reach it: its low 32 bits are not all 0xFF.. or a
        // carry has already happened.
        if (self.low as u32) < 0xFF00_0000 || (self.low >> 32) != 0 {
            let carry = (self.low >> 32) as u8;
            let mut b = self.cache;
            while self.pending > 0 {
                self.put(b.wrapping_add(carry));
                b = 0xFF;
                self.pending -= 1;
            }
            self.cache = (self.low >> 24) as u8;
        }
        self.pending += 1;
        self.low = (self.low & 0x00FF_FFFF) << 8;
    }

    fn normalize(&mut self) {
        while self.range < TOP {
            self.range <<= 8;
            self.shift_low();
        }
    }

    /// Code `bit` with the adaptive probability `p`, then adapt `p`.
    pub(crate) fn bit(&mut self, p: &mut Prob, bit: bool) {
        let bound = (self.range >> PROB_BITS) * p.get();
        if bit {
            self.low += u64::from(bound);
            self.range -= bound;
        } else {
            self.range = bound;
        }
        p.update(bit);
        self.normalize();
    }

    /// Code the low `n` bits of `v` (most significant first) at even odds.
    pub(crate) fn direct(&mut self, v: u32, n: u32) {
        for i in (0..n).rev() {
            self.range >>= 1;
            if (v >> i) & 1 != 0 {
                self.low += u64::from(self.range);
            }
            self.normalize();
        }
    }

    /// Flush and return the number of bytes written, or `None` if `out` was too small.
    pub(crate) fn finish(mut self) -> Option<usize> {
        // Any value in [low, low + range) decodes the same; pick the one with the most trailing
        // zero bits, so that the zero bytes at the end can be left out (the decoder reads zeros
        // past the end).
        let hi = self.low + u64::from(self.range) - 1;
        let mut mask: u64 = 0xFFFF_FFFF;
        while mask != 0 && (hi & !mask) < self.low {
            mask >>= 1;
        }
        self.low = hi & !mask;
        for _ in 0..5 {
            self.shift_low();
        }
        if self.overflow {
            return None;
        }
        while self.pos > 0 && self.out[self.pos - 1] == 0 {
            self.pos -= 1;
        }
        Some(self.pos)
    }
}

/// Reads coded bits from a slice; reads past its end as zero bytes and counts them.
pub(crate) struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
    range: u32,
    code: u32,
}

impl<'a> Decoder<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        let mut d = Decoder {
            data,
            pos: 0,
            range: u32::MAX,
            code: 0,
        };
        for _ in 0..4 {
            d.code = (d.code << 8) | u32::from(d.next());
        }
        d
    }

    fn next(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos = self.pos.saturating_add(1);
        b
    }

    fn normalize(&mut self) {
        while self.range < TOP {
            self.range <<= 8;
            self.code = (self.code << 8) | u32::from(self.next());
        }
    }

    /// Decode one bit coded with the adaptive probability `p`, and adapt `p` as the encoder did.
    pub(crate) fn bit(&mut self, p: &mut Prob) -> bool {
        let bound = (self.range >> PROB_BITS) * p.get();
        let bit = if self.code < bound {
            self.range = bound;
            false
        } else {
            // A corrupt stream can hold a code above the range; wrapping keeps the decoder
            // defined (the result is garbage, caught by the length checks, never a panic).
            self.code = self.code.wrapping_sub(bound);
            self.range -= bound;
            true
        };
        p.update(bit);
        self.normalize();
        bit
    }

    /// Decode `n` bits coded at even odds.
    pub(crate) fn direct(&mut self, n: u32) -> u32 {
        let mut v = 0u32;
        for _ in 0..n {
            self.range >>= 1;
            let b = self.code >= self.range;
            if b {
                self.code = self.code.wrapping_sub(self.range);
            }
            v = (v << 1) | u32::from(b);
            self.normalize();
        }
        v
    }

    /// Bytes consumed, including the zero bytes read past the end.
    pub(crate) fn consumed(&self) -> usize {
        self.pos
    }
}
