//! The NOR flash the Holter store lives on: the [`Flash`] trait, a RAM-backed [`MemFlash`] and a
//! [`FaultFlash`] wrapper that loses power in the middle of an operation.

/// Why a flash operation failed. Errors are values: the store never panics on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlashError {
    /// The address range is not inside the flash.
    OutOfBounds,
    /// A program operation did not start or end on a [`Flash::write_size`] boundary.
    Misaligned,
    /// Power was lost (simulated by [`FaultFlash`]); nothing more is done until power returns.
    PowerLost,
    /// The device reported a failure (for real drivers).
    Device,
}

/// A NOR flash as the RP2040's QSPI part behaves: erasing sets a whole sector to `0xFF`,
/// programming can only clear bits (1 → 0).
///
/// Programming over bits that are already 0 is not an error: like real NOR the result is the AND
/// of the old contents and the data. The store relies only on programming erased space.
pub trait Flash {
    /// Size of the flash in bytes (a multiple of [`Flash::erase_size`]).
    fn size(&self) -> u32;
    /// Size of an erase sector in bytes (4096 on the device).
    fn erase_size(&self) -> u32;
    /// Program granularity in bytes (1..=256): writes start and end on multiples of it.
    fn write_size(&self) -> u32;
    /// Reads `buf.len()` bytes at `addr`.
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), FlashError>;
    /// Erases sector number `sector` (byte address `sector * erase_size()`) to all `0xFF`.
    fn erase(&mut self, sector: u32) -> Result<(), FlashError>;
    /// Programs `data` at `addr` (both multiples of [`Flash::write_size`]): every byte becomes
    /// `old & new`.
    fn write(&mut self, addr: u32, data: &[u8]) -> Result<(), FlashError>;
}

/// Erase sector size of [`MemFlash`] (the RP2040's QSPI flash).
pub const MEM_ERASE_SIZE: u32 = 4096;

/// A flash in RAM over any owned or borrowed byte buffer (`&mut [u8]` on the device and in
/// `no_std` tests, `Vec<u8>` on the host), with 4 KB sectors and a chosen write size.
#[derive(Clone, Debug)]
pub struct MemFlash<B> {
    buf: B,
    write_size: u32,
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> MemFlash<B> {
    /// A flash over `buf` (its contents are the image; a multiple of 4096 bytes, at most
    /// 4 GB) programming `write_size` bytes at a time (1..=256). `None` for other geometries.
    pub fn new(buf: B, write_size: u32) -> Option<Self> {
        let len = buf.as_ref().len();
        let ok = len > 0
            && len % MEM_ERASE_SIZE as usize == 0
            && u32::try_from(len).is_ok()
            && (1..=256).contains(&write_size);
        ok.then_some(MemFlash { buf, write_size })
    }

    /// The raw image.
    pub fn image(&self) -> &[u8] {
        self.buf.as_ref()
    }

    /// The raw image, to corrupt it in tests or to load a stored one.
    pub fn image_mut(&mut self) -> &mut [u8] {
        self.buf.as_mut()
    }

    /// The buffer back.
    pub fn into_inner(self) -> B {
        self.buf
    }

    fn range(&self, addr: u32, len: usize) -> Result<core::ops::Range<usize>, FlashError> {
        let start = addr as usize;
        let end = start.checked_add(len).ok_or(FlashError::OutOfBounds)?;
        if end > self.buf.as_ref().len() {
            return Err(FlashError::OutOfBounds);
        }
        Ok(start..end)
    }

    fn check_write(&self, addr: u32, len: usize) -> Result<core::ops::Range<usize>, FlashError> {
        let r = self.range(addr, len)?;
        let w = self.write_size as usize;
        if !r.start.is_multiple_of(w) || !len.is_multiple_of(w) {
            return Err(FlashError::Misaligned);
        }
        Ok(r)
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> Flash for MemFlash<B> {
    fn size(&self) -> u32 {
        // `new` checked that the length fits in u32.
        self.buf.as_ref().len() as u32
    }
    fn erase_size(&self) -> u32 {
        MEM_ERASE_SIZE
    }
    fn write_size(&self) -> u32 {
        self.write_size
    }
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), FlashError> {
        let r = self.range(addr, buf.len())?;
        buf.copy_from_slice(&self.buf.as_ref()[r]);
        Ok(())
    }
    fn erase(&mut self, sector: u32) -> Result<(), FlashError> {
        let addr = sector
            .checked_mul(MEM_ERASE_SIZE)
            .ok_or(FlashError::OutOfBounds)?;
        let r = self.range(addr, MEM_ERASE_SIZE as usize)?;
        self.buf.as_mut()[r].fill(0xFF);
        Ok(())
    }
    fn write(&mut self, addr: u32, data: &[u8]) -> Result<(), FlashError> {
        let r = self.check_write(addr, data.len())?;
        for (b, d) in self.buf.as_mut()[r].iter_mut().zip(data) {
            *b &= *d;
        }
        Ok(())
    }
}

/// A [`MemFlash`] that loses power after a set number of steps (one step = one program unit of
/// `write_size` bytes or one sector erase).
///
/// The step in flight when power goes is left half done, as on real NOR: a program unit with a
/// random subset of the bits it should clear cleared, or an erase with a random subset of the
/// sector's bytes back at `0xFF` and the rest untouched. Every later operation fails with
/// [`FlashError::PowerLost`].
#[derive(Clone, Debug)]
pub struct FaultFlash<B> {
    inner: MemFlash<B>,
    budget: Option<u64>,
    steps: u64,
    lost: bool,
    rng: u64,
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> FaultFlash<B> {
    /// Wraps `inner` with no fault armed; `seed` drives the partial operations.
    pub fn new(inner: MemFlash<B>, seed: u64) -> Self {
        FaultFlash {
            inner,
            budget: None,
            steps: 0,
            lost: false,
            rng: seed | 1,
        }
    }

    /// Power is lost during step number `steps() + n` (counting from 0): `n` more steps complete.
    /// `None` disarms.
    pub fn cut_after(&mut self, n: Option<u64>) {
        self.budget = n.map(|n| self.steps.saturating_add(n));
    }

    /// Steps (program units and erases) completed so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Whether power has been lost.
    pub fn is_lost(&self) -> bool {
        self.lost
    }

    /// The flash as power-up finds it.
    pub fn into_inner(self) -> MemFlash<B> {
        self.inner
    }

    /// The underlying flash.
    pub fn inner(&self) -> &MemFlash<B> {
        &self.inner
    }

    fn next_rand(&mut self) -> u64 {
        // xorshift64: deterministic, so that a failing cut point can be replayed.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// Whether the next step is the one power is lost in.
    fn dies_now(&self) -> bool {
        self.budget.is_some_and(|b| self.steps >= b)
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> Flash for FaultFlash<B> {
    fn size(&self) -> u32 {
        self.inner.size()
    }
    fn erase_size(&self) -> u32 {
        self.inner.erase_size()
    }
    fn write_size(&self) -> u32 {
        self.inner.write_size()
    }
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), FlashError> {
        if self.lost {
            return Err(FlashError::PowerLost);
        }
        self.inner.read(addr, buf)
    }
    fn erase(&mut self, sector: u32) -> Result<(), FlashError> {
        if self.lost {
            return Err(FlashError::PowerLost);
        }
        if self.dies_now() {
            let start = sector
                .checked_mul(MEM_ERASE_SIZE)
                .ok_or(FlashError::OutOfBounds)?;
            let r = self.inner.range(start, MEM_ERASE_SIZE as usize)?;
            for i in r {
                if self.next_rand() & 1 == 1 {
                    self.inner.buf.as_mut()[i] = 0xFF;
                }
            }
            self.lost = true;
            return Err(FlashError::PowerLost);
        }
        self.inner.erase(sector)?;
        self.steps += 1;
        Ok(())
    }
    fn write(&mut self, addr: u32, data: &[u8]) -> Result<(), FlashError> {
        if self.lost {
            return Err(FlashError::PowerLost);
        }
        let r = self.inner.check_write(addr, data.len())?;
        let w = self.inner.write_size as usize;
        for (k, unit) in data.chunks(w).enumerate() {
            let at = r.start + k * w;
            if self.dies_now() {
                for (j, &d) in unit.iter().enumerate() {
                    let old = self.inner.buf.as_ref()[at + j];
                    // Of the bits this byte should clear, a random subset made it.
                    let cleared = old & !d & self.next_rand() as u8;
                    self.inner.buf.as_mut()[at + j] = old & !cleared;
                }
                self.lost = true;
                return Err(FlashError::PowerLost);
            }
            // `at` is in range and aligned: checked for the whole write above.
            self.inner.write(at as u32, unit)?;
            self.steps += 1;
        }
        Ok(())
    }
}
