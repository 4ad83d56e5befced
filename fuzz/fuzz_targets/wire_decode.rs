//! The device link's receive path fed arbitrary bytes: framing (COBS, delimiters, overflow),
//! packet checks (CRC, version) and message parsing never panic; every accepted message emits
//! back to the very packet it came from.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sinus_core::wire::{rice_decode, Frame, FrameDecoder, Message, MAX_PACKET};

fuzz_target!(|data: &[u8]| {
    let mut dec = Box::new(FrameDecoder::new());
    // Feed in two pieces, so a frame split across reads is exercised.
    let cut = data.first().map_or(0, |&b| b as usize % (data.len() + 1));
    for part in [&data[..cut], &data[cut..]] {
        dec.feed(part, &mut |frame| {
            if let Frame::Packet(p) = frame {
                if let Ok(m) = Message::parse(&p) {
                    let mut buf = [0u8; MAX_PACKET];
                    let n = m.emit(p.sequence(), &mut buf).expect("a parsed message emits");
                    let orig_len = p.payload().len() + 8;
                    assert_eq!(n, orig_len);
                    assert_eq!(&buf[4..n - 4], p.payload());
                }
            }
        });
    }
    let mut out = [0i16; 256];
    let _ = rice_decode(data, &mut out);
});
