//! The chunked reader on arbitrary EDF bytes: whatever opens must read, in chunks, exactly the
//! samples the whole-file reader gives; nothing may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sinus_io::chunked::ChunkedReader;
use sinus_io::edf::parse_edf;

fuzz_target!(|data: &[u8]| {
    let Ok(whole) = parse_edf(data) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("sinus-fuzz-chunked-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("x.edf");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let Ok(reader) = ChunkedReader::open(&path) else {
        return;
    };
    let frames = reader.frames();
    if !reader.streams() || frames > 1 << 20 {
        return;
    }
    assert_eq!(frames, whole.recording.frames);
    let chunk = 1 + (data.len() as u64 % 97);
    let mut start = 0;
    while start < frames {
        let len = chunk.min(frames - start);
        let part = reader.read(start, len).expect("a range inside the recording reads");
        for (s, w) in part.signals.iter().zip(&whole.recording.signals) {
            let spf = w.samples_per_frame as usize;
            let a = start as usize * spf;
            let b = a + s.samples.len();
            assert_eq!(s.samples[..], w.samples[a..b]);
        }
        start += len;
    }
});
