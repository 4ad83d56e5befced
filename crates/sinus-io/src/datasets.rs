//! Locating reference databases on disk (the project's shared MIT-BIH and LTAFDB copies, or a
//! user's).

use std::path::{Path, PathBuf};

/// Environment variable that overrides where the MIT-BIH Arrhythmia Database is read from.
pub const MITDB_ENV: &str = "SINUS_MITDB";

/// The 48 MIT-BIH Arrhythmia Database records.
pub const MITDB_RECORDS: [&str; 48] = [
    "100", "101", "102", "103", "104", "105", "106", "107", "108", "109", "111", "112", "113",
    "114", "115", "116", "117", "118", "119", "121", "122", "123", "124", "200", "201", "202",
    "203", "205", "207", "208", "209", "210", "212", "213", "214", "215", "217", "219", "220",
    "221", "222", "223", "228", "230", "231", "232", "233", "234",
];

/// Find the MIT-BIH directory: `$SINUS_MITDB` if set, else `shared/data/mitdb` beside `start`
/// or beside any of its ancestors (the layout of a checkout with `shared/` next to it).
pub fn find_mitdb(start: &Path) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(MITDB_ENV) {
        let p = PathBuf::from(p);
        return p.join("100.hea").is_file().then_some(p);
    }
    start
        .ancestors()
        .map(|a| a.join("shared/data/mitdb"))
        .find(|p| p.join("100.hea").is_file())
}

/// For tests: the MIT-BIH directory, or `None` with a note on stderr when it is absent.
/// Under CI (`CI` set) a missing database is a failure, so a test can never pass by skipping there.
pub fn mitdb_for_tests(manifest_dir: &str) -> Option<PathBuf> {
    let found = find_mitdb(Path::new(manifest_dir));
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "MIT-BIH not found (set {MITDB_ENV}); CI must have it"
        );
        eprintln!("note: MIT-BIH not found (set {MITDB_ENV}); skipping");
    }
    found
}

/// Environment variable that overrides where the Long-Term AF Database is read from.
pub const LTAFDB_ENV: &str = "SINUS_LTAFDB";

/// Find the MIT-BIH Long-Term AF Database directory (headers and annotations; its `.dat` files
/// may be absent): `$SINUS_LTAFDB` if set, else `shared/data/ltafdb` beside `start` or beside any
/// of its ancestors.
pub fn find_ltafdb(start: &Path) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(LTAFDB_ENV) {
        let p = PathBuf::from(p);
        return p.join("00.hea").is_file().then_some(p);
    }
    start
        .ancestors()
        .map(|a| a.join("shared/data/ltafdb"))
        .find(|p| p.join("00.hea").is_file())
}

/// For tests: the LTAFDB directory, or `None` with a note on stderr when it is absent. Unlike
/// MIT-BIH it is not required under CI (the project's CI does not hold it).
pub fn ltafdb_for_tests(manifest_dir: &str) -> Option<PathBuf> {
    let found = find_ltafdb(Path::new(manifest_dir));
    if found.is_none() {
        eprintln!("note: LTAFDB not found (set {LTAFDB_ENV}); skipping");
    }
    found
}
