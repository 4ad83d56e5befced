extern crate std;

use super::*;
use proptest::prelude::*;
use std::collections::VecDeque;
use std::vec;
use std::vec::Vec;

type Mem = MemFlash<Vec<u8>>;
type Store<F> = HolterStore<F, 64>;
type Entry = (u32, Vec<u8>);

fn mem(sectors: usize, w: u32) -> Mem {
    MemFlash::new(vec![0xFF; sectors * 4096], w).unwrap()
}

/// Payload of entry `id`: its bytes depend on the id, so a mixed-up entry is caught.
fn payload(id: u32, len: usize) -> Vec<u8> {
    let mut x = id.wrapping_mul(0x9E37_79B9) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn read_tier<F: Flash, const N: usize>(s: &mut HolterStore<F, N>, tier: Tier) -> Vec<Entry> {
    let mut cur = Cursor::new(tier);
    let mut buf = vec![0u8; 4096];
    let mut out = Vec::new();
    while let Some(e) = s.next_entry(&mut cur, &mut buf).unwrap() {
        assert_eq!(e.tier, tier);
        out.push((e.timestamp, buf[..e.len].to_vec()));
    }
    out
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn crc32_check_value() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
}

#[test]
fn mem_flash_behaves_like_nor() {
    let mut f = mem(2, 4);
    f.write(0, &[0xF0, 0x0F, 0xFF, 0x00]).unwrap();
    f.write(0, &[0x3C, 0xFF, 0xFF, 0xFF]).unwrap();
    let mut b = [0u8; 4];
    f.read(0, &mut b).unwrap();
    assert_eq!(b, [0x30, 0x0F, 0xFF, 0x00]);
    assert_eq!(f.write(2, &[0; 4]), Err(FlashError::Misaligned));
    assert_eq!(f.write(0, &[0; 3]), Err(FlashError::Misaligned));
    assert_eq!(f.write(8192, &[0; 4]), Err(FlashError::OutOfBounds));
    assert_eq!(f.read(8190, &mut b), Err(FlashError::OutOfBounds));
    assert_eq!(f.erase(2), Err(FlashError::OutOfBounds));
    f.erase(0).unwrap();
    f.read(0, &mut b).unwrap();
    assert_eq!(b, [0xFF; 4]);
    assert!(MemFlash::new(vec![0u8; 4000], 4).is_none());
    assert!(MemFlash::new(vec![0u8; 4096], 0).is_none());
    assert!(MemFlash::new(vec![0u8; 4096], 257).is_none());
}

#[test]
fn fault_flash_tears_the_step_in_flight() {
    let mut f = FaultFlash::new(mem(1, 4), 7);
    f.cut_after(Some(2));
    assert_eq!(
        f.write(0, &[0u8; 16]),
        Err(FlashError::PowerLost),
        "third unit of four"
    );
    assert!(f.is_lost());
    assert_eq!(f.steps(), 2);
    assert_eq!(f.read(0, &mut [0u8; 1]), Err(FlashError::PowerLost));
    let img = f.into_inner().into_inner();
    assert_eq!(img[..8], [0u8; 8]);
    assert!(
        img[8..12].iter().any(|&b| b != 0),
        "torn unit partly cleared"
    );
    assert_eq!(img[12..16], [0xFF; 4]);

    let mut f = FaultFlash::new(MemFlash::new(vec![0u8; 4096], 1).unwrap(), 3);
    f.cut_after(Some(0));
    assert_eq!(f.erase(0), Err(FlashError::PowerLost));
    let img = f.into_inner().into_inner();
    let ff = img.iter().filter(|&&b| b == 0xFF).count();
    assert!(ff > 1000 && ff < 3000, "{ff} bytes erased");
}

#[test]
fn round_trip_and_remount_for_every_write_size() {
    for w in [1, 2, 3, 4, 7, 16, 64, 100, 255, 256] {
        let mut s = Store::mount(mem(32, w)).unwrap();
        let max = s.max_payload();
        assert!(max >= 3000, "w {w}: max payload {max}");
        match w {
            1 => assert_eq!(max, 4064),
            256 => assert_eq!(max, 3572),
            _ => {}
        }
        let mut want: [Vec<Entry>; 3] = Default::default();
        for id in 0..40u32 {
            let tier = Tier::ALL[(id % 3) as usize];
            let len = [0, 1, 13, 300, max][(id % 5) as usize];
            let p = payload(id, len);
            if let Ok(a) = s.append(tier, id, &p) {
                assert_eq!(a.evicted, None, "w {w}");
                want[tier.index()].push((id, p));
            } else {
                panic!("w {w} id {id}");
            }
            if id == 4 {
                assert_eq!(s.append(tier, id, &vec![0; max + 1]), Err(Error::TooLarge));
            }
        }
        for t in Tier::ALL {
            assert_eq!(read_tier(&mut s, t), want[t.index()], "w {w}");
        }
        let mut s = Store::mount(s.into_flash()).unwrap();
        for t in Tier::ALL {
            assert_eq!(read_tier(&mut s, t), want[t.index()], "w {w} remounted");
        }
        let u = s.usage();
        for t in Tier::ALL {
            let tu = u.tiers[t.index()];
            assert_eq!(tu.entries as usize, want[t.index()].len());
            let bytes: usize = want[t.index()].iter().map(|e| e.1.len()).sum();
            assert_eq!(tu.payload_bytes as usize, bytes);
            assert!(tu.used_bytes as usize > bytes);
        }
        assert_eq!(
            u.free_sectors + u.tiers.iter().map(|t| t.sectors).sum::<u32>(),
            32
        );
    }
}

#[test]
fn cursor_sees_later_appends_and_small_buffers_are_refused() {
    let mut s = Store::mount(mem(4, 256)).unwrap();
    let mut cur = Cursor::new(Tier::Beats);
    let mut buf = [0u8; 8];
    assert_eq!(s.next_entry(&mut cur, &mut buf), Ok(None));
    s.append(Tier::Beats, 1, b"abc").unwrap();
    s.append(Tier::Beats, 2, b"0123456789").unwrap();
    let e = s.next_entry(&mut cur, &mut buf).unwrap().unwrap();
    assert_eq!((e.timestamp, &buf[..e.len]), (1, &b"abc"[..]));
    assert_eq!(
        s.next_entry(&mut cur, &mut buf),
        Err(Error::BufferTooSmall { needed: 10 })
    );
    let mut big = [0u8; 16];
    let e = s.next_entry(&mut cur, &mut big).unwrap().unwrap();
    assert_eq!(e.timestamp, 2);
    assert_eq!(s.next_entry(&mut cur, &mut big), Ok(None));
    s.append(Tier::Beats, 3, b"x").unwrap();
    assert_eq!(
        s.next_entry(&mut cur, &mut big).unwrap().unwrap().timestamp,
        3
    );
}

#[test]
fn priority_ring() {
    let mut s = Store::mount(mem(4, 256)).unwrap();
    let big = s.max_payload();
    // One entry per sector: Tier 1 fills the flash, then wraps on itself.
    for id in 0..6 {
        let a = s.append(Tier::Summary, id, &payload(id, big)).unwrap();
        assert_eq!(
            a.evicted.map(|e| (e.tier, e.entries)),
            (id >= 4).then_some((Tier::Summary, 1))
        );
    }
    let ids = |s: &mut Store<Mem>, t| read_tier(s, t).iter().map(|e| e.0).collect::<Vec<_>>();
    assert_eq!(ids(&mut s, Tier::Summary), [2, 3, 4, 5]);
    // Tier 2 takes the oldest Tier 1, Tier 3 the next oldest Tier 1.
    s.append(Tier::Beats, 10, &payload(10, big / 2)).unwrap();
    s.append(Tier::Raw, 20, &payload(20, big)).unwrap();
    assert_eq!(ids(&mut s, Tier::Summary), [4, 5]);
    // Tier 1 writes wrap within Tier 1.
    s.append(Tier::Summary, 6, &payload(6, big)).unwrap();
    assert_eq!(ids(&mut s, Tier::Summary), [5, 6]);
    // Tier 3 takes Tier 1 first.
    for id in 21..23 {
        s.append(Tier::Raw, id, &payload(id, big)).unwrap();
    }
    assert_eq!(ids(&mut s, Tier::Summary), [] as [u32; 0]);
    assert_eq!(ids(&mut s, Tier::Beats), [10]);
    assert_eq!(ids(&mut s, Tier::Raw), [20, 21, 22]);
    // Tier 1 never overwrites Tier 2 or 3: refused.
    assert_eq!(s.append(Tier::Summary, 7, b"x"), Err(Error::Full));
    // Room left in the Tier 2 sector: small Tier 2 entries still go in.
    s.append(Tier::Beats, 11, b"small").unwrap();
    // Then Tier 2 goes.
    let a = s.append(Tier::Raw, 23, &payload(23, big)).unwrap();
    assert_eq!(
        a.evicted,
        Some(Evicted {
            tier: Tier::Beats,
            entries: 2
        })
    );
    assert_eq!(
        s.append(Tier::Beats, 12, &payload(12, big)),
        Err(Error::Full)
    );
    // Full of Tier 3: the oldest Tier 3 goes.
    let a = s.append(Tier::Raw, 24, &payload(24, big)).unwrap();
    assert_eq!(
        a.evicted,
        Some(Evicted {
            tier: Tier::Raw,
            entries: 1
        })
    );
    let mut s = Store::mount(s.into_flash()).unwrap();
    assert_eq!(ids(&mut s, Tier::Raw), [21, 22, 23, 24]);
    let u = s.usage();
    assert_eq!(u.tiers[2].sectors, 4);
    assert_eq!(u.free_sectors, 0);
}

#[test]
fn garbage_images_mount_and_work() {
    let mut rng = Rng(99);
    for kind in 0..4 {
        let mut f = mem(8, 16);
        for (i, b) in f.image_mut().iter_mut().enumerate() {
            *b = match kind {
                0 => 0x00,
                1 => rng.next() as u8,
                2 => (i % 251) as u8,
                _ => 0xFF,
            };
        }
        // A valid-looking sector header in front of garbage, too.
        if kind == 2 {
            let mut s = Store::mount(mem(8, 16)).unwrap();
            s.append(Tier::Raw, 1, b"hello").unwrap();
            let img = s.into_flash().into_inner();
            f.image_mut()[..32].copy_from_slice(&img[..32]);
        }
        let mut s = Store::mount(f).unwrap();
        for t in Tier::ALL {
            let _ = read_tier(&mut s, t);
        }
        for id in 0..100u32 {
            let t = Tier::ALL[(id % 3) as usize];
            match s.append(t, id, &payload(id, 500)) {
                Ok(_) => {}
                // Lower tiers are refused once Tier 3 holds the flash.
                Err(Error::Full) => assert_ne!(t, Tier::Raw),
                Err(e) => panic!("kind {kind}: {e:?}"),
            }
        }
        let mut s = Store::mount(s.into_flash()).unwrap();
        // Tier 3 is written every third id, never refused: the last one is id 98.
        let last = read_tier(&mut s, Tier::Raw).pop().unwrap();
        assert_eq!(last, (98, payload(98, 500)), "kind {kind}");
    }
}

#[test]
fn geometry_is_checked() {
    assert_eq!(
        HolterStore::<_, 4>::mount(mem(5, 1)).err(),
        Some(Error::Geometry)
    );
    assert!(HolterStore::<_, 5>::mount(mem(5, 1)).is_ok());
}

/// Whether `got` is what a remount may find of `expected` after a cut during an append: the
/// entries in order, all of them except possibly some of the first `may_miss` (the sector the
/// append was reclaiming), plus possibly the entry in flight at the end.
fn recovered_ok(got: &[Entry], expected: &[Entry], may_miss: usize, in_flight: Option<&Entry>) {
    let mut j = 0;
    for (k, g) in got.iter().enumerate() {
        while j < may_miss.min(expected.len()) && expected[j] != *g {
            j += 1;
        }
        if j < expected.len() && expected[j] == *g {
            j += 1;
        } else {
            assert!(
                k + 1 == got.len() && in_flight == Some(g),
                "entry {} read back is not one that was committed",
                g.0
            );
            assert_eq!(j, expected.len(), "in-flight entry before committed ones");
        }
    }
    // Unmatched entries may remain only inside the reclaimed prefix.
    assert!(
        j.max(may_miss) >= expected.len(),
        "committed entries lost: got {} of {}",
        got.len(),
        expected.len()
    );
}

struct Session {
    w: u32,
    sectors: usize,
    entries: u32,
    /// Per mille of Tier 2 and Tier 3 entries.
    p2: u64,
    p3: u64,
    /// Payload lengths per tier (min, max exclusive).
    lens: [(u64, u64); 3],
    seed: u64,
}

/// Runs the session fault-free and, at every append, replays it on a copy with power cut at
/// each of its program and erase steps; every copy is remounted and checked against the
/// model, then written to. Returns (cut points, appends refused, entries evicted).
fn power_loss_session(p: &Session) -> (usize, usize, usize) {
    let mut rng = Rng(p.seed);
    let mut store: Store<FaultFlash<Vec<u8>>> =
        Store::mount(FaultFlash::new(mem(p.sectors, p.w), p.seed)).unwrap();
    let max = store.max_payload() as u64;
    let mut model: [Vec<Entry>; 3] = Default::default();
    let (mut cuts, mut refused, mut evicted) = (0, 0, 0);
    for id in 0..p.entries {
        let r = rng.below(1000);
        let tier = if r < p.p3 {
            Tier::Raw
        } else if r < p.p3 + p.p2 {
            Tier::Beats
        } else {
            Tier::Summary
        };
        let (lo, hi) = p.lens[tier.index()];
        let len = (lo + rng.below(hi - lo)).min(max) as usize;
        let entry = (id, payload(id, len));
        let before = store.clone();
        let s0 = store.flash().steps();
        let result = store.append(tier, id, &entry.1);
        let steps = store.flash().steps() - s0;
        let may_miss = match result {
            Ok(Appended { evicted: Some(e) }) => Some(e),
            Ok(_) => None,
            Err(Error::Full) => {
                assert_eq!(steps, 0);
                None
            }
            Err(e) => panic!("append {id}: {e:?}"),
        };
        for k in 0..steps {
            let mut cut = before.clone();
            cut.flash_mut().cut_after(Some(k));
            assert_eq!(
                cut.append(tier, id, &entry.1),
                Err(Error::Flash(FlashError::PowerLost))
            );
            let mut rec = Store::mount(cut.into_flash().into_inner()).unwrap();
            for t in Tier::ALL {
                let miss = may_miss
                    .filter(|e| e.tier == t)
                    .map_or(0, |e| e.entries as usize);
                let got = read_tier(&mut rec, t);
                recovered_ok(&got, &model[t.index()], miss, (t == tier).then_some(&entry));
            }
            // The store keeps working: a new entry in each tier reads back last.
            for t in Tier::ALL {
                let after = (u32::MAX - t as u32, payload(7, 40));
                match rec.append(t, after.0, &after.1) {
                    Ok(_) => assert_eq!(read_tier(&mut rec, t).last(), Some(&after)),
                    Err(Error::Full) => {}
                    Err(e) => panic!("after cut {k} of append {id}: {e:?}"),
                }
            }
            cuts += 1;
        }
        if let Some(e) = may_miss {
            let m = &mut model[e.tier.index()];
            assert!(e.entries as usize <= m.len());
            m.drain(..e.entries as usize);
            evicted += e.entries as usize;
        }
        match result {
            Ok(_) => model[tier.index()].push(entry),
            Err(_) => refused += 1,
        }
        if id % 97 == 0 || id + 1 == p.entries {
            let mut s = Store::mount(store.flash().inner().clone()).unwrap();
            for t in Tier::ALL {
                assert_eq!(read_tier(&mut s, t), model[t.index()], "after append {id}");
            }
        }
    }
    (cuts, refused, evicted)
}

#[test]
fn power_loss_at_every_step_pages_of_256() {
    // Mostly Tier 1 and 2 with some Tier 3: the low tiers wrap many times, Tier 3 grows.
    let (cuts, refused, evicted) = power_loss_session(&Session {
        w: 256,
        sectors: 16,
        entries: 3000,
        p2: 300,
        p3: 8,
        lens: [(8, 64), (16, 600), (100, 2500)],
        seed: 1,
    });
    std::println!("256-byte pages: {cuts} cuts, {refused} refused, {evicted} evicted");
    assert!(cuts > 3000 && evicted > 500 && refused > 0);
}

#[test]
fn power_loss_at_every_step_tier3_fills_the_flash() {
    // Tier 3 takes over: Tier 1 and 2 are evicted, then refused, then Tier 3 wraps on itself.
    let (cuts, refused, evicted) = power_loss_session(&Session {
        w: 16,
        sectors: 8,
        entries: 1200,
        p2: 300,
        p3: 150,
        lens: [(0, 40), (16, 300), (200, 4000)],
        seed: 2,
    });
    std::println!("16-byte writes: {cuts} cuts, {refused} refused, {evicted} evicted");
    assert!(cuts > 10_000 && refused > 100 && evicted > 100);
}

#[test]
fn power_loss_at_every_step_byte_writes() {
    let (cuts, refused, evicted) = power_loss_session(&Session {
        w: 1,
        sectors: 4,
        entries: 260,
        p2: 300,
        p3: 50,
        lens: [(0, 40), (8, 120), (50, 400)],
        seed: 3,
    });
    std::println!("1-byte writes: {cuts} cuts, {refused} refused, {evicted} evicted");
    assert!(cuts > 10_000 && evicted > 20);
}

#[test]
fn repeated_power_cuts_in_one_long_session() {
    // Power fails every few dozen steps; after each remount the session goes on from what
    // was recovered, so recovery itself is recovered from.
    let mut rng = Rng(5);
    let mut flash = FaultFlash::new(mem(8, 8), 5);
    let mut model: [Vec<Entry>; 3] = Default::default();
    let mut cuts = 0;
    let mut id = 0u32;
    while id < 4000 {
        let mut store: Store<_> = Store::mount(flash).unwrap();
        for t in Tier::ALL {
            let got = read_tier(&mut store, t);
            let m = &mut model[t.index()];
            // What a cut left is what the model holds from now on (checked in the loop below
            // against what was committed).
            *m = got;
        }
        store.flash_mut().cut_after(Some(1 + rng.below(60)));
        loop {
            let tier = Tier::ALL[rng.below(3) as usize];
            let len = rng.below(if tier == Tier::Raw { 2000 } else { 200 }) as usize;
            let entry = (id, payload(id, len));
            id += 1;
            let before = store.clone();
            match store.append(tier, entry.0, &entry.1) {
                Ok(a) => {
                    if let Some(e) = a.evicted {
                        model[e.tier.index()].drain(..e.entries as usize);
                    }
                    model[tier.index()].push(entry);
                }
                Err(Error::Full) => {}
                Err(Error::Flash(FlashError::PowerLost)) => {
                    // What the uncut append would have evicted may be missing.
                    let mut dry = before;
                    dry.flash_mut().cut_after(None);
                    let miss = match dry.append(tier, entry.0, &entry.1) {
                        Ok(Appended { evicted: Some(e) }) => Some(e),
                        _ => None,
                    };
                    flash = store.into_flash();
                    let mut rec = Store::mount(flash.inner().clone()).unwrap();
                    for t in Tier::ALL {
                        let m = miss
                            .filter(|e| e.tier == t)
                            .map_or(0, |e| e.entries as usize);
                        let got = read_tier(&mut rec, t);
                        recovered_ok(&got, &model[t.index()], m, (t == tier).then_some(&entry));
                    }
                    flash = FaultFlash::new(flash.into_inner(), rng.next());
                    cuts += 1;
                    break;
                }
                Err(e) => panic!("{e:?}"),
            }
        }
    }
    assert!(cuts > 100, "{cuts} cuts");
}

#[derive(Clone, Debug)]
enum Op {
    Append(u8, usize),
    Remount,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (1u8..=3, 0usize..1500).prop_map(|(t, l)| Op::Append(t, l)),
        1 => Just(Op::Remount),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    /// Random operation sequences against a model: per tier a queue; eviction drops the
    /// oldest of the lowest tier at or below the written one, else the write is refused.
    #[test]
    fn store_matches_model(
        w in prop::sample::select(vec![1u32, 4, 16, 256]),
        sectors in 3usize..7,
        ops in prop::collection::vec(op(), 1..150),
    ) {
        let mut s: Store<Mem> = Store::mount(mem(sectors, w)).unwrap();
        let mut model: [VecDeque<Entry>; 3] = Default::default();
        for (id, op) in ops.into_iter().enumerate() {
            let id = id as u32;
            match op {
                Op::Remount => s = Store::mount(s.into_flash()).unwrap(),
                Op::Append(t, len) => {
                    let tier = Tier::from_code(t).unwrap();
                    let p = payload(id, len);
                    let lowest = (0..3).find(|&i| !model[i].is_empty());
                    let free = s.usage().free_sectors;
                    match s.append(tier, id, &p) {
                        Ok(a) => {
                            if let Some(e) = a.evicted {
                                prop_assert_eq!(free, 0);
                                prop_assert!(e.tier.index() <= tier.index());
                                prop_assert_eq!(Some(e.tier.index()), lowest);
                                for _ in 0..e.entries {
                                    prop_assert!(model[e.tier.index()].pop_front().is_some());
                                }
                            }
                            model[tier.index()].push_back((id, p));
                        }
                        Err(Error::Full) => {
                            prop_assert_eq!(free, 0);
                            prop_assert!(lowest.is_some_and(|l| l > tier.index()));
                        }
                        Err(e) => prop_assert!(false, "{:?}", e),
                    }
                }
            }
            for t in Tier::ALL {
                prop_assert_eq!(&read_tier(&mut s, t), &Vec::from(model[t.index()].clone()));
            }
        }
    }
}

#[test]
fn duplicate_sequence_numbers_neither_skip_nor_repeat_sectors() {
    // Only a forged image has two sectors with one sequence number; both are still read.
    let mut s = Store::mount(mem(4, 1)).unwrap();
    let big = s.max_payload();
    s.append(Tier::Raw, 1, &payload(1, big)).unwrap();
    s.append(Tier::Raw, 2, &payload(2, big)).unwrap();
    let mut f = s.into_flash();
    let img = f.image_mut();
    let (a, b) = img.split_at_mut(4096);
    b[8..12].copy_from_slice(&a[8..12]);
    let crc = crc32(&b[..12]);
    b[12..16].copy_from_slice(&crc.to_le_bytes());
    let mut s = Store::mount(f).unwrap();
    let ids: Vec<u32> = read_tier(&mut s, Tier::Raw).iter().map(|e| e.0).collect();
    assert_eq!(ids, [1, 2]);
    s.append(Tier::Raw, 3, b"three").unwrap();
    let mut s = Store::mount(s.into_flash()).unwrap();
    assert_eq!(read_tier(&mut s, Tier::Raw).last().unwrap().0, 3);
}

#[test]
fn ram_use() {
    // 16 bytes a sector: 8 KB of state for the 2 MB flash (512 sectors).
    assert_eq!(core::mem::size_of::<SectorInfo>(), 16);
    let store = core::mem::size_of::<HolterStore<MemFlash<&mut [u8]>, 512>>();
    std::println!("HolterStore<MemFlash<&mut [u8]>, 512>: {store} bytes");
    assert!(store <= 8192 + 64, "{store} bytes");
}
