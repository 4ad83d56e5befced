//! Fuzz the CSV reader (with and without a given sampling frequency) and the Kaggle beat reader.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sinus_io::csv::{parse_csv, CsvOptions};
use sinus_io::beat_csv::{parse_beat_csv, BeatCsvOptions};

fuzz_target!(|data: &[u8]| {
    let _ = parse_csv(data, &CsvOptions::default());
    let _ = parse_csv(data, &CsvOptions { fs: Some(360.0), ..CsvOptions::default() });
    let _ = parse_beat_csv(data, &BeatCsvOptions::default());
});
