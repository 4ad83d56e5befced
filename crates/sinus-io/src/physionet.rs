//! Downloading a PhysioNet database and verifying it against the published SHA256 sums.
//!
//! PhysioNet serves database `db`, version `v`, under `<base>/<db>/<v>/` (base:
//! [`DEFAULT_BASE_URL`]). Two index files describe it: `SHA256SUMS.txt` (lines `<hex digest>
//! <relative path>`, one per published file) and `RECORDS` (record names, one per line, possibly
//! with directories such as `p00/p00001`). [`fetch_database`] downloads the index, then every
//! published file (or only those of the requested records), and checks each against its digest.
//!
//! Guarantees:
//! - A file already present whose digest matches is not downloaded again, so re-running a fetch
//!   is a cheap resume.
//! - Data goes to `<file>.part` and is renamed to its final name only once its digest matches;
//!   an interrupted download keeps its `.part`, and the next run continues it with an HTTP
//!   `Range` request when the server honours one (otherwise it starts over).
//! - A digest mismatch deletes the `.part` and fails with [`ErrorKind::Integrity`].
//! - Index entries with absolute paths or `..` components are rejected before anything is
//!   downloaded, so a hostile index cannot write outside the destination directory.
//! - Bodies are streamed to disk; memory does not grow with file size.
//!
//! ```no_run
//! use sinus_io::physionet::{fetch_database, FetchEvent, FetchOptions};
//!
//! let show = |ev: &FetchEvent<'_>| match ev {
//!     FetchEvent::Planned { files, .. } => eprintln!("{files} files"),
//!     FetchEvent::FileFinished { index, files, path, outcome, .. } => {
//!         eprintln!("[{}/{files}] {path}: {outcome:?}", index + 1)
//!     }
//!     _ => {}
//! };
//! let mut opts = FetchOptions::new("mitdb", "data/mitdb");
//! opts.records = Some(vec!["100".into(), "101".into()]);
//! opts.progress = Some(&show);
//! let report = fetch_database(&opts)?;
//! eprintln!("{} downloaded, {} already there", report.downloaded.len(), report.verified_existing.len());
//! # Ok::<(), sinus_io::Error>(())
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind, Result, ResultExt};

/// Where PhysioNet serves its open databases.
pub const DEFAULT_BASE_URL: &str = "https://physionet.org/files";

/// Name of the published digest list in every PhysioNet database.
pub const SHA256SUMS: &str = "SHA256SUMS.txt";

/// Name of the record list in every PhysioNet WFDB database.
pub const RECORDS: &str = "RECORDS";

/// Suffix of a download in progress (`100.dat.part`).
pub const PART_SUFFIX: &str = ".part";

/// Largest `SHA256SUMS.txt` accepted (the biggest PhysioNet databases list ~10^6 files at
/// ~100 bytes a line, well below this).
const MAX_SUMS_BYTES: u64 = 512 << 20;
/// Largest `RECORDS` accepted when it is not covered by a digest.
const MAX_RECORDS_BYTES: u64 = 128 << 20;
/// Longest line accepted in either index file; real lines are well under 300 bytes.
const MAX_INDEX_LINE: usize = 4096;
/// Copy buffer: the unit of streaming and of progress events.
const CHUNK: usize = 64 * 1024;
/// Give up connecting after this long rather than hanging on a black-holed address.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Give up on a transfer that delivers nothing for this long (the `.part` stays for a resume).
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// A database this crate knows the current version of, so users can name it alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownDatabase {
    /// PhysioNet's short name (the URL path segment), e.g. `mitdb`.
    pub name: &'static str,
    /// The version fetched when none is given.
    pub version: &'static str,
    /// The database's title.
    pub title: &'static str,
}

/// Databases that can be fetched by name alone; any other is fetched as `name/version`.
pub const KNOWN_DATABASES: &[KnownDatabase] = &[KnownDatabase {
    name: "mitdb",
    version: "1.0.0",
    title: "MIT-BIH Arrhythmia Database",
}];

/// The entry of [`KNOWN_DATABASES`] called `name`, if any.
pub fn known_database(name: &str) -> Option<&'static KnownDatabase> {
    KNOWN_DATABASES.iter().find(|d| d.name == name)
}

/// Resolve a database spec to `(name, version)`: `mitdb` (a known database: its version),
/// `mitdb/1.0.0` (any database, explicit version), or `db` with `version` given separately.
/// Names and versions may contain only ASCII letters, digits, `.`, `_` and `-`.
pub fn resolve_database(spec: &str, version: Option<&str>) -> Result<(String, String)> {
    let spec = spec.trim().trim_end_matches('/');
    let (name, spec_version) = match spec.split_once('/') {
        Some((n, v)) => (n, Some(v)),
        None => (spec, None),
    };
    check_url_segment("database name", name)?;
    let version = match (spec_version, version) {
        (Some(a), Some(b)) if a != b => {
            return Err(Error::invalid(format!(
                "database '{spec}' names version {a} but version {b} was also given"
            )))
        }
        (Some(v), _) | (None, Some(v)) => v.to_string(),
        (None, None) => match known_database(name) {
            Some(d) => d.version.to_string(),
            None => {
                let known: Vec<&str> = KNOWN_DATABASES.iter().map(|d| d.name).collect();
                return Err(Error::invalid(format!(
                    "unknown database '{name}': give its version as {name}/VERSION \
                     (see https://physionet.org/content/{name}/); known by name: {}",
                    known.join(", ")
                )));
            }
        },
    };
    check_url_segment("database version", &version)?;
    Ok((name.to_string(), version))
}

fn check_url_segment(what: &str, s: &str) -> Result<()> {
    let ok = !s.is_empty()
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "bad {what} '{s}': use only letters, digits, '.', '_' and '-'"
        )))
    }
}

/// What happened during a fetch, for progress display. Paths are relative to the database root
/// (`100.dat`, `p00/p00001.hea`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchEvent<'e> {
    /// An index file (`SHA256SUMS.txt`, `RECORDS`) is being downloaded.
    Index {
        /// The index file.
        path: &'e str,
    },
    /// The index has been read: `files` files will be checked and fetched as needed.
    Planned {
        /// Number of files to check or fetch (index files not included).
        files: usize,
        /// Number of records they belong to (the requested ones, or all in `RECORDS`).
        records: usize,
    },
    /// Work on file number `index` (0-based, of `files`) begins; an existing copy is verified
    /// first, which for a large file takes a moment.
    FileStarted {
        /// Position of this file in the plan, from 0.
        index: usize,
        /// Total number of files in the plan.
        files: usize,
        /// The file.
        path: &'e str,
    },
    /// The server answered and bytes are about to flow. `offset` > 0 means a resumed download.
    /// It can come twice for one file: a resumed download that fails its digest is redone once
    /// from the start, so a progress bar should be reset here.
    Transfer {
        /// The file.
        path: &'e str,
        /// Bytes already on disk from an earlier run.
        offset: u64,
        /// The file's full size, when the server told it.
        total: Option<u64>,
    },
    /// Bytes of the file now on disk (including any resumed prefix); sent every 64 KiB.
    Progress {
        /// The file.
        path: &'e str,
        /// Bytes of the file on disk so far.
        done: u64,
        /// The file's full size, when known.
        total: Option<u64>,
    },
    /// The file is in place and verified.
    FileFinished {
        /// Position of this file in the plan, from 0.
        index: usize,
        /// Total number of files in the plan.
        files: usize,
        /// The file.
        path: &'e str,
        /// How it got there.
        outcome: FileOutcome,
        /// Bytes received over the network for it in this run.
        bytes: u64,
    },
}

/// How a file came to be in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileOutcome {
    /// It was already present with the published digest; nothing was downloaded.
    AlreadyPresent,
    /// It was downloaded from the start.
    Downloaded,
    /// An earlier partial download (`.part`) was continued.
    Resumed,
}

/// What to fetch and where. Build with [`FetchOptions::new`] and set fields as needed.
pub struct FetchOptions<'a> {
    /// Server root; the database is at `<base_url>/<db>/<version>/`. Default
    /// [`DEFAULT_BASE_URL`]; `http://` works too (tests use a local server).
    pub base_url: String,
    /// Database name (`mitdb`), or `name/version` (`mitdb/1.0.0`); see [`resolve_database`].
    pub db: String,
    /// Version; `None` = the one in [`KNOWN_DATABASES`] (or the one in `db`).
    pub version: Option<String>,
    /// Destination directory: files go to `<dir>/<relative path>`. Created if missing.
    pub dir: PathBuf,
    /// Only these records (names as in `RECORDS`, e.g. `100` or `p00/p00001`); `None` = all.
    /// A record's files are those named `<record>.*` in its directory, or everything under
    /// `<record>/` when the record is a directory; top-level files without an extension
    /// (`RECORDS`, `ANNOTATORS`, ...) and `LICENSE.txt` are always fetched.
    pub records: Option<Vec<String>>,
    /// Called with each [`FetchEvent`], e.g. to draw progress bars.
    pub progress: Option<&'a dyn Fn(&FetchEvent<'_>)>,
}

impl<'a> FetchOptions<'a> {
    /// Fetch all of database `db` (see [`FetchOptions::db`]) from PhysioNet into `dir`.
    pub fn new(db: impl Into<String>, dir: impl Into<PathBuf>) -> Self {
        FetchOptions {
            base_url: DEFAULT_BASE_URL.to_string(),
            db: db.into(),
            version: None,
            dir: dir.into(),
            records: None,
            progress: None,
        }
    }
}

impl std::fmt::Debug for FetchOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchOptions")
            .field("base_url", &self.base_url)
            .field("db", &self.db)
            .field("version", &self.version)
            .field("dir", &self.dir)
            .field("records", &self.records)
            .field("progress", &self.progress.map(|_| "callback"))
            .finish()
    }
}

/// What a fetch did. Paths are relative to the database root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchReport {
    /// Database name.
    pub db: String,
    /// Database version.
    pub version: String,
    /// Destination directory.
    pub dir: PathBuf,
    /// Number of records covered (the requested ones, or all listed in `RECORDS`).
    pub records: usize,
    /// Files downloaded in this run (fully or by resuming) and verified.
    pub downloaded: Vec<String>,
    /// Those of `downloaded` that continued an earlier `.part`.
    pub resumed: Vec<String>,
    /// Files already present with the published digest (not downloaded).
    pub verified_existing: Vec<String>,
    /// Index files written without a published digest to check (`SHA256SUMS.txt` itself, and
    /// `RECORDS` when `SHA256SUMS.txt` does not list it).
    pub unverified: Vec<String>,
    /// Body bytes received over the network, index files included.
    pub bytes: u64,
}

/// One line of `SHA256SUMS.txt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksumEntry {
    /// Lower-case hex SHA256 digest (64 characters).
    pub sha256: String,
    /// Relative path, `/`-separated, checked to stay inside the database directory.
    pub path: String,
}

/// Parse `SHA256SUMS.txt` (`sha256sum` output: `<64 hex>  <path>`, also with one space or
/// `*` before the path). Blank lines are skipped; a malformed line, a duplicate path, or a path
/// that is absolute or has `..`/`.`/empty components is an error naming the line, so a hostile
/// list is refused as a whole.
pub fn parse_sha256sums(reader: impl BufRead) -> Result<Vec<ChecksumEntry>> {
    let mut entries = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for_each_line(reader, |lineno, line| {
        let at = || format!("line {lineno}");
        if line.trim().is_empty() {
            return Ok(());
        }
        let (hex, rest) = line.split_once([' ', '\t']).ok_or_else(|| {
            Error::malformed(format!("expected '<sha256> <path>', got '{line}'")).at(at())
        })?;
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::malformed(format!(
                "'{hex}' is not a SHA256 digest (64 hex digits)"
            ))
            .at(at()));
        }
        let path = rest.trim_start_matches([' ', '\t']);
        let path = path.strip_prefix('*').unwrap_or(path);
        check_relative_path(path).map_err(|e| e.at(at()))?;
        if !seen.insert(path.to_string()) {
            return Err(Error::malformed(format!("'{path}' is listed twice")).at(at()));
        }
        entries.push(ChecksumEntry {
            sha256: hex.to_ascii_lowercase(),
            path: path.to_string(),
        });
        Ok(())
    })?;
    Ok(entries)
}

/// Parse `RECORDS`: one record name per line, blank lines skipped, a trailing `/` (a directory
/// of records) removed. Names are checked like index paths.
pub fn parse_records(reader: impl BufRead) -> Result<Vec<String>> {
    let mut records = Vec::new();
    for_each_line(reader, |lineno, line| {
        let name = line.trim();
        if name.is_empty() {
            return Ok(());
        }
        let name = name.trim_end_matches('/');
        check_relative_path(name).map_err(|e| e.at(format!("line {lineno}")))?;
        records.push(name.to_string());
        Ok(())
    })?;
    Ok(records)
}

/// Call `f(line_number, line)` for each line, without its `\n` / `\r\n`, refusing lines longer
/// than [`MAX_INDEX_LINE`] (so a file without newlines cannot make us buffer it whole).
fn for_each_line(
    mut reader: impl BufRead,
    mut f: impl FnMut(usize, &str) -> Result<()>,
) -> Result<()> {
    let mut buf = Vec::new();
    let mut lineno = 0usize;
    loop {
        buf.clear();
        lineno = lineno.saturating_add(1);
        let limit = (MAX_INDEX_LINE as u64).saturating_add(2);
        let n = (&mut reader).take(limit).read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        if buf.len() > MAX_INDEX_LINE {
            return Err(
                Error::malformed(format!("line longer than {MAX_INDEX_LINE} bytes"))
                    .at(format!("line {lineno}")),
            );
        }
        let line = std::str::from_utf8(&buf)
            .map_err(|_| Error::malformed("not UTF-8 text").at(format!("line {lineno}")))?;
        f(lineno, line)?;
    }
}

/// Refuse paths that could leave the destination directory or mean different files on
/// different systems: empty, absolute (`/x`, `C:\x`, `\\host`), with `..`, `.` or empty
/// components, backslashes, drive colons or control characters.
fn check_relative_path(path: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::malformed(format!("unsafe path '{path}': {why}")));
    if path.is_empty() {
        return bad("empty");
    }
    if path.starts_with('/') {
        return bad("absolute");
    }
    if path.contains('\\') || path.contains(':') {
        return bad("backslash or drive letter");
    }
    if path.chars().any(char::is_control) {
        return bad("control character");
    }
    for comp in path.split('/') {
        match comp {
            ".." => return bad("'..' component"),
            "." | "" => return bad("empty or '.' component"),
            _ => {}
        }
    }
    Ok(())
}

/// Whether index path `path` is one of `record`'s files: `<record>.*` in the record's
/// directory, or anything under `<record>/` when the record is a directory.
pub fn belongs_to_record(path: &str, record: &str) -> bool {
    if let Some(rest) = path.strip_prefix(record) {
        if rest.starts_with('/') {
            return true;
        }
    }
    let (rdir, rbase) = split_dir(record);
    let (pdir, pname) = split_dir(path);
    rdir == pdir
        && pname
            .strip_prefix(rbase)
            .is_some_and(|ext| ext.starts_with('.'))
}

/// Whether `path` is a database-wide file fetched with any subset of records: a top-level
/// file without an extension (`RECORDS`, `ANNOTATORS`) or `LICENSE.txt`.
pub fn is_shared_file(path: &str) -> bool {
    !path.contains('/') && (!path.contains('.') || path == "LICENSE.txt")
}

fn split_dir(path: &str) -> (&str, &str) {
    match path.rsplit_once('/') {
        Some((d, n)) => (d, n),
        None => ("", path),
    }
}

/// Hex SHA256 of the file at `path`, read in chunks.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    hash_reader(&mut file, &mut hasher).map_err(|e| Error::io(path, e))?;
    Ok(hex(&hasher.finalize()))
}

fn hash_reader(reader: &mut impl Read, hasher: &mut Sha256) -> io::Result<u64> {
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        total = total.saturating_add(n as u64);
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Percent-encode each `/`-separated segment of a checked relative path for a URL.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `bytes START-END/TOTAL` (TOTAL may be `*`) → (START, TOTAL).
fn parse_content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let end: u64 = end.trim().parse().ok()?;
    if end < start {
        return None;
    }
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((start, total))
}

fn part_path(dest: &Path) -> PathBuf {
    let mut s = dest.as_os_str().to_owned();
    s.push(PART_SUFFIX);
    PathBuf::from(s)
}

/// Download database `opts.db` into `opts.dir`, skipping files already present and verified,
/// resuming `.part` files, and checking every published digest. See the module docs.
///
/// Errors: [`ErrorKind::Network`] when the server cannot be reached, answers 404 (the message
/// names the URL) or another error status, or a transfer breaks off (run again to resume);
/// [`ErrorKind::Integrity`] when a downloaded file's digest differs from the published one;
/// [`ErrorKind::Malformed`] for a bad or hostile index; [`ErrorKind::Invalid`] for a bad
/// database name or a record not in `RECORDS`; [`ErrorKind::Io`] for local disk errors.
pub fn fetch_database(opts: &FetchOptions<'_>) -> Result<FetchReport> {
    let (db, version) = resolve_database(&opts.db, opts.version.as_deref())?;
    let base = opts.base_url.trim_end_matches('/');
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_per_read(Some(READ_TIMEOUT))
        .user_agent(concat!("sinus/", env!("CARGO_PKG_VERSION")))
        // Digests and byte ranges refer to the stored bytes: never ask for a compressed body
        // (even if another crate turns on ureq's gzip feature).
        .accept_encoding("identity")
        .build()
        .into();
    let mut f = Fetcher {
        agent,
        host: host_of(base).to_string(),
        root: format!("{base}/{db}/{version}/"),
        dir: opts.dir.clone(),
        progress: opts.progress,
        bytes: 0,
    };
    fs::create_dir_all(&f.dir).map_err(|e| Error::io(&f.dir, e))?;
    let mut report = FetchReport {
        db,
        version,
        dir: opts.dir.clone(),
        ..FetchReport::default()
    };

    // The digest list first: everything else is checked against it. It is parsed from the
    // `.part` and put in place only when valid, so a hostile list never lands in `dir`.
    f.emit(&FetchEvent::Index { path: SHA256SUMS });
    let sums_dest = f.dir.join(SHA256SUMS);
    let sums_part = part_path(&sums_dest);
    f.download_unverified(SHA256SUMS, &sums_part, MAX_SUMS_BYTES)?;
    let parsed = File::open(&sums_part)
        .map_err(|e| Error::io(&sums_part, e))
        .and_then(|file| parse_sha256sums(BufReader::new(file)).in_file(&sums_dest));
    let mut entries = match parsed {
        Ok(entries) => entries,
        Err(e) => {
            let _ = fs::remove_file(&sums_part);
            return Err(e);
        }
    };
    fs::rename(&sums_part, &sums_dest).map_err(|e| Error::io(&sums_dest, e))?;
    report.unverified.push(SHA256SUMS.to_string());
    // A list cannot contain its own digest; an entry for it would always fail.
    entries.retain(|e| e.path != SHA256SUMS);

    // The record list: verified like any file when listed, else fetched as is.
    f.emit(&FetchEvent::Index { path: RECORDS });
    let records_dest = f.dir.join(RECORDS);
    let have_records = match entries.iter().position(|e| e.path == RECORDS) {
        Some(i) => {
            let entry = entries.remove(i);
            let (outcome, _) = f.fetch_verified(&entry, None)?;
            note_outcome(&mut report, &entry.path, outcome);
            true
        }
        None => {
            let part = part_path(&records_dest);
            match f.download_unverified(RECORDS, &part, MAX_RECORDS_BYTES) {
                Ok(()) => {
                    fs::rename(&part, &records_dest).map_err(|e| Error::io(&records_dest, e))?;
                    report.unverified.push(RECORDS.to_string());
                    true
                }
                // Not every database has a record list; only a subset needs one.
                Err(e) if is_not_found(&e) && opts.records.is_none() => false,
                Err(e) => return Err(e),
            }
        }
    };
    let all_records = if have_records {
        let file = File::open(&records_dest).map_err(|e| Error::io(&records_dest, e))?;
        parse_records(BufReader::new(file)).in_file(&records_dest)?
    } else {
        Vec::new()
    };

    let selected: Vec<ChecksumEntry> = match &opts.records {
        None => {
            report.records = all_records.len();
            entries
        }
        Some(wanted) if wanted.is_empty() => {
            return Err(Error::invalid("an empty list of records was given"));
        }
        Some(wanted) => {
            let mut names = Vec::with_capacity(wanted.len().min(all_records.len()));
            for w in wanted {
                let name = w.trim().trim_end_matches('/');
                check_relative_path(name)
                    .map_err(|_| Error::invalid(format!("bad record name '{w}'")))?;
                if !all_records.iter().any(|r| r == name) {
                    return Err(Error::invalid(format!(
                        "record '{name}' is not in {}/{}'s RECORDS",
                        report.db, report.version
                    )));
                }
                if !entries.iter().any(|e| belongs_to_record(&e.path, name)) {
                    return Err(Error::invalid(format!(
                        "record '{name}' has no files in {}/{}'s {SHA256SUMS}",
                        report.db, report.version
                    )));
                }
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            report.records = names.len();
            entries
                .into_iter()
                .filter(|e| {
                    is_shared_file(&e.path) || names.iter().any(|n| belongs_to_record(&e.path, n))
                })
                .collect()
        }
    };

    let files = selected.len();
    f.emit(&FetchEvent::Planned {
        files,
        records: report.records,
    });
    for (index, entry) in selected.iter().enumerate() {
        f.emit(&FetchEvent::FileStarted {
            index,
            files,
            path: &entry.path,
        });
        let (outcome, bytes) = f.fetch_verified(entry, Some((index, files)))?;
        note_outcome(&mut report, &entry.path, outcome);
        f.emit(&FetchEvent::FileFinished {
            index,
            files,
            path: &entry.path,
            outcome,
            bytes,
        });
    }
    report.bytes = f.bytes;
    Ok(report)
}

fn note_outcome(report: &mut FetchReport, path: &str, outcome: FileOutcome) {
    match outcome {
        FileOutcome::AlreadyPresent => report.verified_existing.push(path.to_string()),
        FileOutcome::Downloaded => report.downloaded.push(path.to_string()),
        FileOutcome::Resumed => {
            report.downloaded.push(path.to_string());
            report.resumed.push(path.to_string());
        }
    }
}

fn is_not_found(e: &Error) -> bool {
    matches!(&e.kind, ErrorKind::Network(m) if m.starts_with("HTTP 404"))
}

/// `https://host:port/path` → `host:port`.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest)
}

struct Fetcher<'a> {
    agent: ureq::Agent,
    host: String,
    /// `<base>/<db>/<version>/`.
    root: String,
    dir: PathBuf,
    progress: Option<&'a dyn Fn(&FetchEvent<'_>)>,
    /// Body bytes received so far.
    bytes: u64,
}

/// The result of one attempt to complete a `.part` file.
struct Attempt {
    digest: String,
    /// The attempt continued bytes that were already on disk.
    resumed: bool,
    bytes: u64,
}

impl Fetcher<'_> {
    fn emit(&self, event: &FetchEvent<'_>) {
        if let Some(cb) = self.progress {
            cb(event);
        }
    }

    fn url(&self, rel: &str) -> String {
        format!("{}{}", self.root, encode_path(rel))
    }

    /// GET `rel`, from byte `from` on when > 0. Non-success statuses other than 206/416 become
    /// errors here; 404 names the URL.
    fn get(&self, rel: &str, from: u64) -> Result<ureq::http::Response<ureq::Body>> {
        let url = self.url(rel);
        let mut req = self.agent.get(&url);
        if from > 0 {
            req = req.header("Range", format!("bytes={from}-"));
        }
        let resp = req.call().map_err(|e| self.request_error(&url, e))?;
        let status = resp.status().as_u16();
        match status {
            200 | 206 => Ok(resp),
            416 if from > 0 => Ok(resp),
            404 => Err(Error::new(ErrorKind::Network(format!(
                "HTTP 404 Not Found: {url} (is the database name, version or file right?)"
            )))),
            _ => Err(Error::new(ErrorKind::Network(format!(
                "HTTP {status} {} from {url}",
                resp.status().canonical_reason().unwrap_or("")
            )))),
        }
    }

    fn request_error(&self, url: &str, e: ureq::Error) -> Error {
        let unreachable = |detail: String| {
            Error::new(ErrorKind::Network(format!(
                "cannot reach {}: {detail} — check your network, or pass --dir with an \
                 existing copy",
                self.host
            )))
        };
        match e {
            ureq::Error::HostNotFound => unreachable("host not found (DNS lookup failed)".into()),
            ureq::Error::ConnectionFailed => unreachable("connection failed".into()),
            ureq::Error::Timeout(t) => unreachable(format!("timed out ({t})")),
            ureq::Error::Io(io) => unreachable(match io.kind() {
                io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
                // The system resolver's failure comes as a plain I/O error.
                _ if io.to_string().contains("lookup") => format!("DNS lookup failed ({io})"),
                _ => io.to_string(),
            }),
            other => Error::new(ErrorKind::Network(format!(
                "request for {url} failed: {other}"
            ))),
        }
    }

    fn interrupted(&self, rel: &str, e: io::Error) -> Error {
        Error::new(ErrorKind::Network(format!(
            "download of {} broke off: {e} — run again to resume",
            self.url(rel)
        )))
    }

    /// Download `rel` whole into `part` (replacing it), refusing more than `cap` bytes.
    fn download_unverified(&mut self, rel: &str, part: &Path, cap: u64) -> Result<()> {
        let resp = self.get(rel, 0)?;
        let mut file = File::create(part).map_err(|e| Error::io(part, e))?;
        let mut reader = resp.into_body().into_reader().take(cap.saturating_add(1));
        let mut hasher = Sha256::new();
        let n = self.copy(rel, &mut reader, &mut file, part, &mut hasher, 0, None)?;
        if n > cap {
            drop(file);
            let _ = fs::remove_file(part);
            return Err(Error::too_large(format!(
                "{} is over {cap} bytes",
                self.url(rel)
            )));
        }
        file.sync_all().map_err(|e| Error::io(part, e))?;
        Ok(())
    }

    /// Make `entry` present and verified in `dir`; returns how, and the bytes received.
    /// `slot` is (index, files) when progress events should be sent.
    fn fetch_verified(
        &mut self,
        entry: &ChecksumEntry,
        slot: Option<(usize, usize)>,
    ) -> Result<(FileOutcome, u64)> {
        let rel = entry.path.as_str();
        let dest = self.dir.join(rel);
        if dest.is_file() && sha256_file(&dest)? == entry.sha256 {
            return Ok((FileOutcome::AlreadyPresent, 0));
        }
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let part = part_path(&dest);
        let progress = slot.is_some();
        let mut received = 0u64;
        // A resumed download can fail its digest because the old `.part` held wrong bytes
        // (e.g. from another version); that earns one fresh download before giving up.
        let mut fresh_retry_left = true;
        loop {
            let from = match fs::metadata(&part) {
                Ok(m) if m.is_file() => m.len(),
                Ok(_) => return Err(Error::invalid("not a regular file").in_file(&part)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
                Err(e) => return Err(Error::io(&part, e)),
            };
            let attempt = self.attempt(rel, &part, from, progress)?;
            received = received.saturating_add(attempt.bytes);
            if attempt.digest == entry.sha256 {
                fs::rename(&part, &dest).map_err(|e| Error::io(&dest, e))?;
                let outcome = if attempt.resumed {
                    FileOutcome::Resumed
                } else {
                    FileOutcome::Downloaded
                };
                return Ok((outcome, received));
            }
            fs::remove_file(&part).map_err(|e| Error::io(&part, e))?;
            if attempt.resumed && fresh_retry_left {
                fresh_retry_left = false;
                continue;
            }
            return Err(Error::new(ErrorKind::Integrity(format!(
                "SHA256 of the download from {} is {}, but {SHA256SUMS} says {}; \
                 the download was deleted",
                self.url(rel),
                attempt.digest,
                entry.sha256
            )))
            .in_file(&dest));
        }
    }

    /// Bring `part` to the server's full content of `rel`, continuing from byte `from` when
    /// the server honours a Range request; returns the digest of the whole `.part`.
    fn attempt(&mut self, rel: &str, part: &Path, from: u64, progress: bool) -> Result<Attempt> {
        let resp = self.get(rel, from)?;
        let status = resp.status().as_u16();
        if status == 416 {
            // Nothing left to send from `from` on: the `.part` may already be complete.
            let digest = sha256_file(part)?;
            return Ok(Attempt {
                digest,
                resumed: true,
                bytes: 0,
            });
        }
        let content_range = resp
            .headers()
            .get("content-range")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_content_range);
        let body = resp.into_body();
        let length = body.content_length();
        let (offset, total) = match (status, content_range) {
            (206, Some((start, total))) if start == from => (
                from,
                total.or_else(|| length.map(|l| l.saturating_add(from))),
            ),
            (206, _) if from > 0 => {
                // A range we did not ask for: start over without one.
                drop(body);
                let _ = fs::remove_file(part);
                return self.attempt(rel, part, 0, progress);
            }
            (206, _) => {
                return Err(Error::new(ErrorKind::Network(format!(
                    "{} answered a plain request with partial content",
                    self.url(rel)
                ))))
            }
            // 200: the whole file (a server that ignores Range also lands here).
            _ => (0, length),
        };
        let mut hasher = Sha256::new();
        let mut file = if offset > 0 {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(part)
                .map_err(|e| Error::io(part, e))?;
            let have = hash_reader(&mut (&mut file).take(offset), &mut hasher)
                .map_err(|e| Error::io(part, e))?;
            if have != offset {
                return Err(Error::invalid("changed size while resuming").in_file(part));
            }
            file.set_len(offset).map_err(|e| Error::io(part, e))?;
            file.seek(SeekFrom::Start(offset))
                .map_err(|e| Error::io(part, e))?;
            file
        } else {
            File::create(part).map_err(|e| Error::io(part, e))?
        };
        if progress {
            self.emit(&FetchEvent::Transfer {
                path: rel,
                offset,
                total,
            });
        }
        let mut reader = body.into_reader();
        let bytes = self.copy(
            rel,
            &mut reader,
            &mut file,
            part,
            &mut hasher,
            offset,
            progress.then_some(total),
        )?;
        file.sync_all().map_err(|e| Error::io(part, e))?;
        Ok(Attempt {
            digest: hex(&hasher.finalize()),
            resumed: offset > 0,
            bytes,
        })
    }

    /// Stream `reader` to `file` through `hasher`; returns the bytes copied. `done` is the
    /// number of bytes already in the file; `progress` = Some(total) sends progress events.
    #[allow(clippy::too_many_arguments)]
    fn copy(
        &mut self,
        rel: &str,
        reader: &mut impl Read,
        file: &mut File,
        path: &Path,
        hasher: &mut Sha256,
        mut done: u64,
        progress: Option<Option<u64>>,
    ) -> Result<u64> {
        let mut buf = vec![0u8; CHUNK];
        let mut copied = 0u64;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Keep what arrived: the next run resumes from it.
                    let _ = file.sync_all();
                    return Err(self.interrupted(rel, e));
                }
            };
            let chunk = &buf[..n];
            file.write_all(chunk).map_err(|e| Error::io(path, e))?;
            hasher.update(chunk);
            copied = copied.saturating_add(n as u64);
            done = done.saturating_add(n as u64);
            self.bytes = self.bytes.saturating_add(n as u64);
            if let Some(total) = progress {
                self.emit(&FetchEvent::Progress {
                    path: rel,
                    done,
                    total,
                });
            }
        }
        Ok(copied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "8d8a5349fb16638ebbf649f1779d12e96d91b736b2aafe59db43719ae583d471";

    fn sums(text: &str) -> Result<Vec<ChecksumEntry>> {
        parse_sha256sums(text.as_bytes())
    }

    #[test]
    fn parses_sha256sum_formats() {
        let upper = D.to_ascii_uppercase();
        let text = format!("{D}  100.atr\r\n\n{D} x/101.dat\n{upper} *p00/p00001.hea");
        let e = sums(&text).unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].path, "100.atr");
        assert_eq!(e[1].path, "x/101.dat");
        assert_eq!(e[2].path, "p00/p00001.hea");
        assert!(e.iter().all(|x| x.sha256 == D));
    }

    #[test]
    fn rejects_malformed_sums() {
        for (text, needle) in [
            ("abc 100.atr", "not a SHA256"),
            (D, "expected"),
            (&format!("{D}  100.atr\n{D}  100.atr"), "twice"),
            (&format!("{D}  "), "empty"),
        ] {
            let err = sums(text).unwrap_err();
            assert!(matches!(err.kind, ErrorKind::Malformed(_)), "{text}");
            assert!(err.to_string().contains(needle), "{text}: {err}");
        }
        let err = sums(&format!("{D}  ok\n{D}  ../x")).unwrap_err();
        assert_eq!(err.location.as_deref(), Some("line 2"));
    }

    #[test]
    fn rejects_hostile_paths() {
        for p in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "a//b",
            "./a",
            "a/.",
            "C:\\x",
            "c:x",
            "\\\\h\\s",
            "a\\..\\b",
            "..",
            "a/\u{0}b",
        ] {
            let err = sums(&format!("{D}  {p}")).unwrap_err();
            assert!(err.to_string().contains("unsafe path"), "{p:?}: {err}");
        }
    }

    #[test]
    fn refuses_overlong_lines() {
        let long = "a".repeat(MAX_INDEX_LINE + 10);
        let err = parse_records(long.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("longer than"), "{err}");
        let ok = "a".repeat(MAX_INDEX_LINE);
        assert_eq!(parse_records(ok.as_bytes()).unwrap(), vec![ok]);
    }

    #[test]
    fn parses_records() {
        let r = parse_records("100\r\n101\n\np00/p00001/\n".as_bytes()).unwrap();
        assert_eq!(r, ["100", "101", "p00/p00001"]);
        assert!(parse_records("../etc\n".as_bytes()).is_err());
    }

    #[test]
    fn record_membership() {
        assert!(belongs_to_record("100.dat", "100"));
        assert!(belongs_to_record("100.hea", "100"));
        assert!(!belongs_to_record("1000.dat", "100"));
        assert!(!belongs_to_record("x/100.dat", "100"));
        assert!(!belongs_to_record("100", "100"));
        assert!(belongs_to_record("p00/p00001.hea", "p00/p00001"));
        assert!(!belongs_to_record("p00/p00001.hea", "p00001"));
        assert!(belongs_to_record(
            "p00/p00001/3000003_0001.dat",
            "p00/p00001"
        ));
        assert!(!belongs_to_record("p00/p000010/a.dat", "p00/p00001"));
        assert!(is_shared_file("RECORDS"));
        assert!(is_shared_file("ANNOTATORS"));
        assert!(is_shared_file("LICENSE.txt"));
        assert!(!is_shared_file("100.dat"));
        assert!(!is_shared_file("x/RECORDS"));
    }

    #[test]
    fn resolves_database_specs() {
        let r = |s, v| resolve_database(s, v).map_err(|e| e.to_string());
        assert_eq!(r("mitdb", None).unwrap(), ("mitdb".into(), "1.0.0".into()));
        assert_eq!(
            r("mitdb/1.0.0/", None).unwrap(),
            ("mitdb".into(), "1.0.0".into())
        );
        assert_eq!(
            r("ptb-xl", Some("1.0.3")).unwrap(),
            ("ptb-xl".into(), "1.0.3".into())
        );
        assert!(r("nosuchdb", None)
            .unwrap_err()
            .contains("nosuchdb/VERSION"));
        assert!(r("mitdb/1.0.0", Some("2"))
            .unwrap_err()
            .contains("also given"));
        assert!(r("../x", None).is_err());
        assert!(r("mitdb/..", None).is_err());
        assert!(r("mitdb/1/2", None).is_err());
        assert!(r("mi tdb", Some("1")).is_err());
        assert!(r("", Some("1")).is_err());
    }

    #[test]
    fn content_range() {
        assert_eq!(parse_content_range("bytes 10-19/20"), Some((10, Some(20))));
        assert_eq!(parse_content_range("bytes 10-19/*"), Some((10, None)));
        assert_eq!(parse_content_range("bytes 19-10/20"), None);
        assert_eq!(parse_content_range("bytes */20"), None);
        assert_eq!(parse_content_range("items 1-2/3"), None);
    }

    #[test]
    fn encodes_paths_and_hosts() {
        assert_eq!(encode_path("p00/a b#1.dat"), "p00/a%20b%231.dat");
        assert_eq!(encode_path("100.dat"), "100.dat");
        assert_eq!(host_of("https://physionet.org/files"), "physionet.org");
        assert_eq!(host_of("http://127.0.0.1:80"), "127.0.0.1:80");
        assert_eq!(
            part_path(Path::new("d/100.dat")),
            Path::new("d/100.dat.part")
        );
    }

    #[test]
    fn hashes_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, b"abc").unwrap();
        assert_eq!(
            sha256_file(&p).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let err = sha256_file(&dir.path().join("missing")).unwrap_err();
        assert!(err.to_string().contains("missing"));
    }
}
