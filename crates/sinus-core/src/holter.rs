//! The Holter store: 24 h of tiered data in an append-only log on NOR flash, safe against power
//! loss at any instant.
//!
//! # Layout
//! Every erase sector holds entries of **one tier only**, behind a 16-byte sector header:
//!
//! | bytes | sector header                                        |
//! |-------|------------------------------------------------------|
//! | 0..4  | magic `SnH1`                                         |
//! | 4     | tier (1, 2, 3)                                       |
//! | 5     | format version (1)                                   |
//! | 6..8  | write size the sector was laid out for (u16 LE)      |
//! | 8..12 | sector sequence number (u32 LE, grows by one per sector opened) |
//! | 12..16| CRC-32 (IEEE) of bytes 0..12                         |
//!
//! Entries follow, each starting on a write-size boundary:
//!
//! | bytes | entry                                                |
//! |-------|------------------------------------------------------|
//! | 0     | tag `0x5A` (never `0xFF`, so a blank slot is told from a started one) |
//! | 1     | tier                                                 |
//! | 2..4  | payload length (u16 LE)                              |
//! | 4..8  | timestamp (u32 LE, the caller's clock)               |
//! | 8..12 | CRC-32 of bytes 0..8 and the payload                 |
//! | 12..  | payload, then `0xFF` padding to a write-size boundary |
//! | then  | commit marker: 4 bytes `0x00` rounded up to the write size, all `0x00` |
//!
//! # Commit protocol
//! Header and payload are programmed first, the commit marker last, in a separate program
//! operation. At mount an entry counts only if its marker reads all zero *and* its CRC matches:
//! a cut before or during the marker leaves it not all zero (programming a unit clears a random
//! subset of its bits), a cut during the body leaves the marker blank. Scanning a sector stops
//! at the first entry that fails; nothing is ever appended after such an entry (the sector is
//! closed and the tier moves to a fresh sector), so every committed entry precedes the torn one.
//! A sector whose header fails its CRC (cut while opening it, or while erasing it) is free space
//! and is erased before reuse; every sector is erased right before it is opened, so a half-erased
//! sector is never written into.
//!
//! # Priority ring
//! When no sector is free, the store reclaims one: the **oldest sector of the lowest tier
//! present**, but only if that tier is at or below the tier being written. So Tier 1 (per-minute
//! summaries) goes first, then Tier 2; Tier 3 (raw segments around anomalies) is never
//! overwritten by a lower tier, and when the flash holds Tier 3 only the oldest Tier 3 sector
//! goes. A write that would have to evict a higher tier is **refused** ([`Error::Full`]): a
//! Tier 1 summary never displaces Tier 2 or 3 data, so once Tier 2 and 3 hold every sector,
//! Tier 1 writes are refused (whether 24 h fit without that is for the capacity
//! measurement to show).
//!
//! Because a sector holds one tier, the victim holds nothing that is still wanted: reclaiming is
//! a single sector erase, with no copy-forward. That is what makes reclaim power-safe: there is
//! no moment at which a kept entry exists only in a half-written copy. A cut during the erase
//! leaves either a sector with a broken header (free) or one whose surviving intact entries are
//! still accepted — they were committed, and the policy had chosen to drop them anyway. Eviction
//! is at sector granularity (up to ~4 KB of the lowest tier at once).
//!
//! # Order
//! Within a tier, entries read back in append order: sectors by sequence number, entries by
//! position. Timestamps are stored as given.
//!
//! # Memory
//! The store keeps 16 bytes per sector in RAM: `N = 512` sectors (2 MB) is 8 KB, plus the
//! flash handle; appends and reads use a 256-byte stack buffer.

mod flash;
#[cfg(test)]
mod tests;

pub use flash::{FaultFlash, Flash, FlashError, MemFlash, MEM_ERASE_SIZE};

/// Bytes of the sector header.
pub const SECTOR_HEADER_LEN: u32 = 16;
/// Bytes of an entry header (before the payload).
pub const ENTRY_HEADER_LEN: u32 = 12;
const SECTOR_MAGIC: [u8; 4] = *b"SnH1";
const ENTRY_TAG: u8 = 0x5A;
const FORMAT_VERSION: u8 = 1;
/// The commit marker's length before rounding to the write size.
const MARKER_LEN: u32 = 4;
/// Chunk for staging writes and streaming reads (also the largest write size).
const CHUNK: usize = 256;

/// What is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tier {
    /// Per-minute summaries of confident normal rhythm (evicted first).
    Summary = 1,
    /// Beat-level features of less confident normal rhythm.
    Beats = 2,
    /// Raw signal segments around anomalies, compressed (opaque bytes here; kept longest).
    Raw = 3,
}

impl Tier {
    /// The three tiers, lowest priority first.
    pub const ALL: [Tier; 3] = [Tier::Summary, Tier::Beats, Tier::Raw];

    /// The tier stored as `code`.
    pub fn from_code(code: u8) -> Option<Tier> {
        match code {
            1 => Some(Tier::Summary),
            2 => Some(Tier::Beats),
            3 => Some(Tier::Raw),
            _ => None,
        }
    }

    /// The tier's code on flash (1, 2, 3).
    pub fn code(self) -> u8 {
        self as u8
    }

    fn index(self) -> usize {
        self as usize - 1
    }
}

/// Why a store operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The flash failed; after [`FlashError::PowerLost`] remount.
    Flash(FlashError),
    /// The flash geometry cannot hold the store: more sectors than `N`, a sector too small
    /// for one entry or larger than 64 KB, a write size outside 1..=256, or a flash over 2 GB.
    Geometry,
    /// The payload is longer than [`HolterStore::max_payload`].
    TooLarge,
    /// No room without evicting a higher tier: the write is refused.
    Full,
    /// The caller's buffer is shorter than the entry (`needed` bytes); the cursor stays put.
    BufferTooSmall {
        /// Length of the entry's payload.
        needed: usize,
    },
    /// An entry accepted at mount no longer matches its CRC (the flash changed under the
    /// store); the rest of its sector is skipped.
    Corrupt,
    /// Sector sequence numbers are used up (2^32 sectors opened; never in a device's life, but a
    /// corrupted image can claim it).
    Exhausted,
}

impl From<FlashError> for Error {
    fn from(e: FlashError) -> Self {
        Error::Flash(e)
    }
}

/// Entries dropped to make room, reported by [`HolterStore::append`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Evicted {
    /// Their tier.
    pub tier: Tier,
    /// How many (the oldest of that tier, in order).
    pub entries: u32,
}

/// The outcome of a successful append.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    /// The sector reclaimed for this entry, if one was.
    pub evicted: Option<Evicted>,
}

/// An entry read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryInfo {
    /// Its tier.
    pub tier: Tier,
    /// The timestamp given at append.
    pub timestamp: u32,
    /// Payload length (the payload is in the caller's buffer).
    pub len: usize,
}

/// Fill of one tier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TierUsage {
    /// Sectors holding the tier.
    pub sectors: u32,
    /// Entries.
    pub entries: u32,
    /// Payload bytes.
    pub payload_bytes: u32,
    /// Flash bytes the entries take (headers, padding, markers included).
    pub used_bytes: u32,
}

/// Fill of the whole store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Per tier, Tier 1 first.
    pub tiers: [TierUsage; 3],
    /// Sectors holding no tier.
    pub free_sectors: u32,
    /// All sectors.
    pub total_sectors: u32,
    /// Bytes of a sector.
    pub sector_bytes: u32,
}

/// A position in one tier's entries, for [`HolterStore::next_entry`].
#[derive(Clone, Copy, Debug)]
pub struct Cursor {
    tier: Tier,
    sector: u32,
    seq: u32,
    pos: u32,
    started: bool,
}

impl Cursor {
    /// Before the oldest entry of `tier`.
    pub fn new(tier: Tier) -> Self {
        Cursor {
            tier,
            sector: 0,
            seq: 0,
            pos: 0,
            started: false,
        }
    }
}

/// What the store knows of a sector (16 bytes).
#[derive(Clone, Copy, Debug, Default)]
struct SectorInfo {
    /// Sequence number from the header.
    seq: u32,
    /// End of the valid entries (absolute address).
    end: u32,
    /// Payload bytes of the valid entries.
    payload: u32,
    /// Valid entries.
    entries: u16,
    /// Tier code, 0 for a free (erased or broken) sector.
    tier: u8,
    /// Whether entries may be appended at `end` (the rest of the sector is known blank).
    open: bool,
}

/// The Holter store over a [`Flash`], tracking at most `N` sectors (512 for 2 MB).
#[derive(Clone, Debug)]
pub struct HolterStore<F, const N: usize> {
    flash: F,
    info: [SectorInfo; N],
    sectors: u32,
    sector_size: u32,
    write_size: u32,
    /// Sequence number of the next sector opened (u64 so that exhaustion is representable).
    next_seq: u64,
    /// Where the search for a free sector starts, so that wear goes round the flash.
    alloc_hint: u32,
    /// Longest payload that fits in every sector.
    max_payload: u32,
}

fn round_up(x: u32, to: u32) -> u32 {
    x.div_ceil(to).saturating_mul(to)
}

pub use crate::crc::crc32;
use crate::crc::Crc;

fn le32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_le_bytes(a)
}

/// An entry header as parsed (not yet checked against CRC and marker).
struct EntryHeader {
    tier: u8,
    len: u32,
    timestamp: u32,
    crc: u32,
    raw: [u8; ENTRY_HEADER_LEN as usize],
}

impl EntryHeader {
    fn parse(raw: [u8; ENTRY_HEADER_LEN as usize]) -> Option<Self> {
        (raw[0] == ENTRY_TAG).then(|| EntryHeader {
            tier: raw[1],
            len: u16::from_le_bytes([raw[2], raw[3]]) as u32,
            timestamp: le32(&raw[4..8]),
            crc: le32(&raw[8..12]),
            raw,
        })
    }
}

impl<F: Flash, const N: usize> HolterStore<F, N> {
    /// Mounts the store on `flash`, recovering from any interrupted operation: every committed
    /// entry is kept, torn ones are ignored, broken sectors become free space. Any image is
    /// accepted (a garbage image mounts as an empty store); only a geometry the store cannot
    /// use, or a failing flash, is refused.
    pub fn mount(flash: F) -> Result<Self, Error> {
        let sector_size = flash.erase_size();
        let write_size = flash.write_size();
        // The limits keep every address computation far from u32 overflow.
        if !(1..=65536).contains(&sector_size)
            || !(1..=CHUNK as u32).contains(&write_size)
            || flash.size() > 1 << 31
        {
            return Err(Error::Geometry);
        }
        let sectors = flash.size() / sector_size;
        if sectors == 0 || sectors as usize > N || !flash.size().is_multiple_of(sector_size) {
            return Err(Error::Geometry);
        }
        let mut store = HolterStore {
            flash,
            info: [SectorInfo::default(); N],
            sectors,
            sector_size,
            write_size,
            next_seq: 0,
            alloc_hint: 0,
            max_payload: 0,
        };
        store.max_payload = store.compute_max_payload();
        if store.max_payload == 0 {
            return Err(Error::Geometry);
        }
        let mut max_seq = None;
        for s in 0..sectors {
            let info = store.scan_sector(s)?;
            if info.tier != 0 {
                max_seq = max_seq.max(Some(info.seq));
            }
            store.info[s as usize] = info;
        }
        store.next_seq = max_seq.map_or(0, |m| m as u64 + 1);
        // Only the newest sector of a tier takes appends; older ones (a corrupted image can
        // leave several open) are closed so the tier's order stays append order.
        for tier in Tier::ALL {
            if let Some(newest) = store.newest(tier.code()) {
                for (i, info) in store.info.iter_mut().enumerate() {
                    if info.tier == tier.code() && i != newest {
                        info.open = false;
                    }
                }
            }
        }
        if let Some(m) = max_seq {
            if let Some(i) = store.info[..sectors as usize]
                .iter()
                .position(|x| x.tier != 0 && x.seq == m)
            {
                store.alloc_hint = (i as u32 + 1) % sectors;
            }
        }
        Ok(store)
    }

    /// The flash back (e.g. to remount it).
    pub fn into_flash(self) -> F {
        self.flash
    }

    /// The flash.
    pub fn flash(&self) -> &F {
        &self.flash
    }

    /// The flash, mutably (to arm a [`FaultFlash`]). Changing its contents under a mounted
    /// store is not recovered from until the next mount (reads report [`Error::Corrupt`]).
    pub fn flash_mut(&mut self) -> &mut F {
        &mut self.flash
    }

    /// The longest payload an entry can carry (3572 bytes with 256-byte pages and 4 KB sectors,
    /// 4064 with 1-byte writes). Longer records (raw segments) are split by the caller.
    pub fn max_payload(&self) -> usize {
        self.max_payload as usize
    }

    fn compute_max_payload(&self) -> u32 {
        let w = self.write_size;
        // The sector with the least room: its start may not be write-aligned.
        let mut least = u32::MAX;
        for s in 0..self.sectors.min(w) {
            let (first, limit) = self.bounds(s);
            least = least.min(limit.saturating_sub(first));
        }
        let room = least.saturating_sub(round_up(MARKER_LEN, w));
        let body = room / w * w;
        body.saturating_sub(ENTRY_HEADER_LEN).min(u16::MAX as u32)
    }

    /// How full each tier is.
    pub fn usage(&self) -> Usage {
        let mut u = Usage {
            total_sectors: self.sectors,
            sector_bytes: self.sector_size,
            ..Usage::default()
        };
        for (s, info) in self.info[..self.sectors as usize].iter().enumerate() {
            match Tier::from_code(info.tier) {
                None => u.free_sectors += 1,
                Some(t) => {
                    let tu = &mut u.tiers[t.index()];
                    tu.sectors += 1;
                    tu.entries += info.entries as u32;
                    tu.payload_bytes += info.payload;
                    tu.used_bytes += info.end - self.bounds(s as u32).0;
                }
            }
        }
        u
    }

    /// Appends an entry; when it returns `Ok` the entry is committed and survives any later
    /// power cut (unless the priority ring evicts it). On `Err` the entry may or may not be
    /// there after a remount, but never torn.
    pub fn append(
        &mut self,
        tier: Tier,
        timestamp: u32,
        payload: &[u8],
    ) -> Result<Appended, Error> {
        if payload.len() > self.max_payload() {
            return Err(Error::TooLarge);
        }
        let len = payload.len() as u32;
        let body = round_up(ENTRY_HEADER_LEN + len, self.write_size);
        let span = body + round_up(MARKER_LEN, self.write_size);
        let mut evicted = None;
        let s = match self.open_sector(tier) {
            Some(s) if self.info[s].end + span <= self.bounds(s as u32).1 => s,
            old => {
                let (s, e) = self.open_new(tier)?;
                // The old sector is closed only now, so that a refused write leaves it open
                // for smaller entries.
                if let Some(old) = old.filter(|&o| o != s) {
                    self.info[old].open = false;
                }
                evicted = e;
                s
            }
        };
        let at = self.info[s].end;
        let mut hdr = [0u8; ENTRY_HEADER_LEN as usize];
        hdr[0] = ENTRY_TAG;
        hdr[1] = tier.code();
        hdr[2..4].copy_from_slice(&(len as u16).to_le_bytes());
        hdr[4..8].copy_from_slice(&timestamp.to_le_bytes());
        let mut crc = Crc::new();
        crc.update(&hdr[..8]);
        crc.update(payload);
        hdr[8..12].copy_from_slice(&crc.finish().to_le_bytes());
        let written = self
            .program(at, &hdr, payload, body)
            .and_then(|()| self.program(at + body, &[], &[], span - body));
        if let Err(e) = written {
            // Whatever is half-written there is never appended after.
            self.info[s].open = false;
            return Err(e.into());
        }
        let info = &mut self.info[s];
        info.end = at + span;
        info.entries = info.entries.saturating_add(1);
        info.payload += len;
        Ok(Appended { evicted })
    }

    /// Reads the entry after `cursor` in its tier into `buf` and advances the cursor; `None`
    /// when there is none yet (the same cursor sees later appends). Entries evicted since the
    /// last call are skipped.
    pub fn next_entry(
        &mut self,
        cursor: &mut Cursor,
        buf: &mut [u8],
    ) -> Result<Option<EntryInfo>, Error> {
        let code = cursor.tier.code();
        loop {
            let s = cursor.sector as usize;
            let here = cursor.started
                && s < self.sectors as usize
                && self.info[s].tier == code
                && self.info[s].seq == cursor.seq;
            if !here || cursor.pos >= self.info[s].end {
                // The tier's next sector in sequence order; the index breaks ties, which only
                // a corrupted image has, so that no sector is skipped or visited twice.
                let after = cursor.started.then_some((cursor.seq, cursor.sector));
                let next = self.info[..self.sectors as usize]
                    .iter()
                    .enumerate()
                    .filter(|&(i, x)| x.tier == code && after.is_none_or(|a| (x.seq, i as u32) > a))
                    .min_by_key(|&(i, x)| (x.seq, i));
                let Some((n, x)) = next else {
                    return Ok(None);
                };
                cursor.sector = n as u32;
                cursor.seq = x.seq;
                cursor.pos = self.bounds(n as u32).0;
                cursor.started = true;
                continue;
            }
            let end = self.info[s].end;
            let mut raw = [0u8; ENTRY_HEADER_LEN as usize];
            self.flash.read(cursor.pos, &mut raw)?;
            let Some(h) = EntryHeader::parse(raw) else {
                cursor.pos = end;
                return Err(Error::Corrupt);
            };
            let len = h.len as usize;
            if len > buf.len() {
                return Err(Error::BufferTooSmall { needed: len });
            }
            let payload_at = cursor.pos + ENTRY_HEADER_LEN;
            self.flash.read(payload_at, &mut buf[..len])?;
            let mut crc = Crc::new();
            crc.update(&h.raw[..8]);
            crc.update(&buf[..len]);
            if crc.finish() != h.crc || h.tier != code {
                cursor.pos = end;
                return Err(Error::Corrupt);
            }
            cursor.pos += self.span(h.len);
            return Ok(Some(EntryInfo {
                tier: cursor.tier,
                timestamp: h.timestamp,
                len,
            }));
        }
    }

    /// Flash bytes an entry with an `len`-byte payload takes.
    fn span(&self, len: u32) -> u32 {
        round_up(ENTRY_HEADER_LEN + len, self.write_size) + round_up(MARKER_LEN, self.write_size)
    }

    /// (first entry address, end address) of sector `s`.
    fn bounds(&self, s: u32) -> (u32, u32) {
        let base = s * self.sector_size;
        let header = round_up(base, self.write_size);
        (
            round_up(header + SECTOR_HEADER_LEN, self.write_size),
            base + self.sector_size,
        )
    }

    fn open_sector(&self, tier: Tier) -> Option<usize> {
        // The newest, should a cut have left two open.
        self.info[..self.sectors as usize]
            .iter()
            .enumerate()
            .filter(|(_, x)| x.tier == tier.code() && x.open)
            .max_by_key(|(_, x)| x.seq)
            .map(|(i, _)| i)
    }

    /// The sector of tier `code` with the highest sequence number.
    fn newest(&self, code: u8) -> Option<usize> {
        self.info[..self.sectors as usize]
            .iter()
            .enumerate()
            .filter(|(_, x)| x.tier == code)
            .max_by_key(|(_, x)| x.seq)
            .map(|(i, _)| i)
    }

    /// Erases a free sector (reclaiming one by the priority policy if there is none) and opens
    /// it for `tier`.
    fn open_new(&mut self, tier: Tier) -> Result<(usize, Option<Evicted>), Error> {
        let seq = u32::try_from(self.next_seq).map_err(|_| Error::Exhausted)?;
        let n = self.sectors as usize;
        let mut evicted = None;
        let free = (0..n)
            .map(|k| (self.alloc_hint as usize + k) % n)
            .find(|&i| self.info[i].tier == 0);
        let s = match free {
            Some(s) => s,
            None => {
                // Lowest tier present, oldest sector of it.
                let lowest = self.info[..n].iter().map(|x| x.tier).min().unwrap_or(0);
                if lowest == 0 || lowest > tier.code() {
                    return Err(Error::Full);
                }
                let victim = self.info[..n]
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| x.tier == lowest)
                    .min_by_key(|(_, x)| x.seq)
                    .map(|(i, _)| i)
                    .ok_or(Error::Full)?;
                evicted = Tier::from_code(lowest).map(|t| Evicted {
                    tier: t,
                    entries: self.info[victim].entries as u32,
                });
                victim
            }
        };
        // Free in RAM first: if the erase or the header write is cut, the sector is free
        // (broken header) at the next mount too.
        self.info[s] = SectorInfo::default();
        self.flash.erase(s as u32)?;
        self.next_seq += 1;
        let mut hdr = [0u8; SECTOR_HEADER_LEN as usize];
        hdr[..4].copy_from_slice(&SECTOR_MAGIC);
        hdr[4] = tier.code();
        hdr[5] = FORMAT_VERSION;
        hdr[6..8].copy_from_slice(&(self.write_size as u16).to_le_bytes());
        hdr[8..12].copy_from_slice(&seq.to_le_bytes());
        let crc = crc32(&hdr[..12]);
        hdr[12..16].copy_from_slice(&crc.to_le_bytes());
        let base = s as u32 * self.sector_size;
        let header_at = round_up(base, self.write_size);
        let (first, _) = self.bounds(s as u32);
        self.program(header_at, &hdr, &[], first - header_at)?;
        self.info[s] = SectorInfo {
            seq,
            end: first,
            payload: 0,
            entries: 0,
            tier: tier.code(),
            open: true,
        };
        self.alloc_hint = (s as u32 + 1) % self.sectors;
        Ok((s, evicted))
    }

    /// Programs `a ++ b`, then `0xFF` padding up to `total` bytes — or `0x00` filling when
    /// both are empty (the commit marker) — at `at`, in whole write units.
    fn program(&mut self, at: u32, a: &[u8], b: &[u8], total: u32) -> Result<(), FlashError> {
        let fill = if a.is_empty() && b.is_empty() {
            0x00
        } else {
            0xFF
        };
        let chunk = (CHUNK as u32 / self.write_size * self.write_size) as usize;
        let mut buf = [0u8; CHUNK];
        let mut done = 0usize;
        let total = total as usize;
        while done < total {
            let n = chunk.min(total - done);
            for (k, slot) in buf[..n].iter_mut().enumerate() {
                let i = done + k;
                *slot = if i < a.len() {
                    a[i]
                } else if i - a.len() < b.len() {
                    b[i - a.len()]
                } else {
                    fill
                };
            }
            self.flash.write(at + done as u32, &buf[..n])?;
            done += n;
        }
        Ok(())
    }

    /// Reads sector `s` and works out what it holds.
    fn scan_sector(&mut self, s: u32) -> Result<SectorInfo, Error> {
        let free = SectorInfo::default();
        let base = s * self.sector_size;
        let header_at = round_up(base, self.write_size);
        let (first, limit) = self.bounds(s);
        if first > limit {
            return Ok(free);
        }
        let mut hdr = [0u8; SECTOR_HEADER_LEN as usize];
        self.flash.read(header_at, &mut hdr)?;
        let tier = hdr[4];
        let valid = hdr[..4] == SECTOR_MAGIC
            && Tier::from_code(tier).is_some()
            && hdr[5] == FORMAT_VERSION
            && u16::from_le_bytes([hdr[6], hdr[7]]) as u32 == self.write_size
            && crc32(&hdr[..12]) == le32(&hdr[12..16]);
        if !valid {
            return Ok(free);
        }
        let mut info = SectorInfo {
            seq: le32(&hdr[8..12]),
            end: first,
            payload: 0,
            entries: 0,
            tier,
            open: false,
        };
        let max_len = self.max_payload;
        let marker = round_up(MARKER_LEN, self.write_size);
        let mut pos = first;
        loop {
            if pos + self.span(0) > limit {
                break;
            }
            let mut raw = [0u8; ENTRY_HEADER_LEN as usize];
            self.flash.read(pos, &mut raw)?;
            if raw[0] == 0xFF {
                // Nothing was started here; appendable only if the rest is blank too.
                info.open = self.all_equal(pos, limit - pos, 0xFF)?;
                break;
            }
            let Some(h) = EntryHeader::parse(raw) else {
                break;
            };
            if h.tier != tier || h.len > max_len {
                break;
            }
            let body = round_up(ENTRY_HEADER_LEN + h.len, self.write_size);
            if pos + body + marker > limit || !self.all_equal(pos + body, marker, 0x00)? {
                break;
            }
            let mut crc = Crc::new();
            crc.update(&h.raw[..8]);
            let mut buf = [0u8; CHUNK];
            let mut done = 0;
            while done < h.len {
                let n = (h.len - done).min(CHUNK as u32);
                self.flash
                    .read(pos + ENTRY_HEADER_LEN + done, &mut buf[..n as usize])?;
                crc.update(&buf[..n as usize]);
                done += n;
            }
            if crc.finish() != h.crc {
                break;
            }
            info.entries = info.entries.saturating_add(1);
            info.payload += h.len;
            pos += body + marker;
            info.end = pos;
        }
        Ok(info)
    }

    /// Whether the `len` bytes at `at` all read `value`.
    fn all_equal(&mut self, at: u32, len: u32, value: u8) -> Result<bool, Error> {
        let mut buf = [0u8; CHUNK];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(CHUNK as u32);
            self.flash.read(at + done, &mut buf[..n as usize])?;
            if buf[..n as usize].iter().any(|&b| b != value) {
                return Ok(false);
            }
            done += n;
        }
        Ok(true)
    }
}
