//! The Holter store mounted on arbitrary flash images (a corrupted or half-written flash):
//! mount, recovery, iteration and appends must never panic, and an entry appended to a
//! recovered store must read back after the next mount.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sinus_core::holter::{Cursor, Error, HolterStore, MemFlash, Tier};

/// Reads every entry of every tier (bounded: a tier holds at most a few thousand).
fn read_all(s: &mut HolterStore<MemFlash<Vec<u8>>, 64>, buf: &mut [u8]) -> usize {
    let mut n = 0;
    for t in Tier::ALL {
        let mut cur = Cursor::new(t);
        loop {
            match s.next_entry(&mut cur, buf) {
                Ok(Some(e)) => {
                    assert_eq!(e.tier, t);
                    assert!(e.len <= s.max_payload());
                    n += 1;
                }
                Ok(None) => break,
                Err(Error::Corrupt) => {}
                Err(e) => panic!("{e:?}"),
            }
            assert!(n < 100_000, "iteration does not end");
        }
    }
    n
}

/// Mounts `image`, reads it, appends, remounts and checks the append survived.
fn check(image: Vec<u8>, write_size: u32, seed: &[u8]) {
    let sectors = image.len() as u32 / 4096;
    let Some(flash) = MemFlash::new(image, write_size) else {
        return;
    };
    let Ok(mut s) = HolterStore::<_, 64>::mount(flash) else {
        return;
    };
    let mut buf = vec![0u8; 4096];
    read_all(&mut s, &mut buf);
    let u = s.usage();
    assert_eq!(
        u.free_sectors + u.tiers.iter().map(|t| t.sectors).sum::<u32>(),
        sectors
    );
    // A Tier 3 append always has room (it may evict anything), and must survive a remount.
    let payload: Vec<u8> = seed.iter().take(s.max_payload()).copied().collect();
    match s.append(Tier::Raw, 0xDEAD_BEEF, &payload) {
        Ok(_) => {}
        // A forged header can claim the last sequence number: refused, not wrapped.
        Err(Error::Exhausted) => return,
        Err(e) => panic!("{e:?}"),
    }
    let _ = s.append(Tier::Summary, 1, b"summary");
    let _ = s.append(Tier::Beats, 2, b"beats");
    let mut s = HolterStore::<_, 64>::mount(s.into_flash()).expect("remount");
    read_all(&mut s, &mut buf);
    let mut cur = Cursor::new(Tier::Raw);
    let mut last = None;
    while let Ok(Some(e)) = s.next_entry(&mut cur, &mut buf) {
        last = Some((e.timestamp, buf[..e.len].to_vec()));
    }
    assert_eq!(last, Some((0xDEAD_BEEF, payload)));
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    // Geometry from the first two bytes: 16..=64 sectors, write size 1..=256.
    let sectors = 16 + ((data[0] & 0x7F) as usize % 49);
    let write_size = 1 + data[1] as u32;
    let body = &data[2..];
    if data[0] & 0x80 == 0 {
        // Raw mode: the input repeated over the flash, so short inputs cover every sector.
        let image: Vec<u8> = (0..sectors * 4096).map(|i| body[i % body.len()]).collect();
        check(image, write_size, body);
        return;
    }
    // Structured mode: a store written by the store itself (entries of the tiers and lengths
    // the input names), then damaged where the input says (byte AND: half-programmed bits;
    // byte OR: half-erased bits), so the fuzzer explores valid sectors and entries.
    let Some(flash) = MemFlash::new(vec![0xFF; sectors * 4096], write_size) else {
        return;
    };
    let Ok(mut s) = HolterStore::<_, 64>::mount(flash) else {
        return;
    };
    let appends = body[0] as usize * 4;
    let mut rest = &body[1..];
    for id in 0..appends {
        let Some((op, tail)) = rest.split_first_chunk::<3>() else {
            break;
        };
        rest = tail;
        let tier = Tier::ALL[op[0] as usize % 3];
        let len = u16::from_le_bytes([op[1], op[2]]) as usize % (s.max_payload() + 1);
        let payload: Vec<u8> = (0..len).map(|i| (i ^ id) as u8).collect();
        let _ = s.append(tier, id as u32, &payload);
    }
    let mut image = s.into_flash().into_inner();
    let n = image.len();
    for patch in rest.chunks_exact(4) {
        let at = (u32::from_le_bytes([patch[0], patch[1], patch[2], 0]) as usize) % n;
        if patch[3] & 0x80 == 0 {
            image[at] &= patch[3] | 0x80;
        } else {
            image[at] |= patch[3] & 0x7F;
        }
    }
    check(image, write_size, body);
});
