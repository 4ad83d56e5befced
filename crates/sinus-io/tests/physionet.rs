//! `physionet::fetch_database` against a small HTTP/1.1 file server run inside the test on
//! 127.0.0.1 (ephemeral port), serving MIT-BIH from the shared copy or a hand-made database.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sinus_io::datasets::mitdb_for_tests;
use sinus_io::physionet::{
    fetch_database, sha256_file, FetchEvent, FetchOptions, FetchReport, FileOutcome,
};
use sinus_io::{Error, ErrorKind};

// ---------------------------------------------------------------------------------------------
// Test server

/// The server stops after this many connections even if the test never drops it.
const MAX_CONNECTIONS: usize = 200;

#[derive(Default, Clone)]
struct ServerConfig {
    /// Directory served at `/files/<db>/<version>/`.
    root: PathBuf,
    db: String,
    version: String,
    /// Bodies served instead of the file on disk.
    overrides: HashMap<String, Vec<u8>>,
    /// Paths answered with 404 although present.
    missing: HashSet<String>,
    /// Whether `Range: bytes=N-` is honoured (206); otherwise it is ignored (200, whole file).
    ranges: bool,
    /// Send only this many body bytes of the path (Content-Length announcing all), then close.
    cut: HashMap<String, usize>,
}

/// One answered request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Served {
    /// Path relative to the database root (or the raw request path when outside it).
    path: String,
    range: Option<u64>,
    status: u16,
    /// Body bytes written.
    bytes: u64,
}

struct Server {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Served>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(config: ServerConfig) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log2, stop2) = (log.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for _ in 0..MAX_CONNECTIONS {
                let Ok((stream, _)) = listener.accept() else {
                    break;
                };
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                // One request per connection; errors only end that connection.
                if let Some(served) = handle(&config, stream) {
                    log2.lock().unwrap().push(served);
                }
            }
        });
        Server {
            addr,
            log,
            stop,
            thread: Some(thread),
        }
    }

    fn base_url(&self) -> String {
        format!("http://{}/files", self.addr)
    }

    fn log(&self) -> Vec<Served> {
        self.log.lock().unwrap().clone()
    }

    /// Requests for `path`.
    fn requests(&self, path: &str) -> Vec<Served> {
        self.log().into_iter().filter(|s| s.path == path).collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept so the thread sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn handle(config: &ServerConfig, stream: TcpStream) -> Option<Served> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    (&mut reader).take(8192).read_line(&mut request_line).ok()?;
    let mut range = None;
    for _ in 0..100 {
        let mut line = String::new();
        (&mut reader).take(8192).read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("range") {
                range = value
                    .trim()
                    .strip_prefix("bytes=")
                    .and_then(|v| v.strip_suffix('-'))
                    .and_then(|v| v.parse::<u64>().ok());
            }
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next()?, parts.next()?);
    let prefix = format!("/files/{}/{}/", config.db, config.version);
    let rel = target.strip_prefix(&prefix).map(str::to_string);
    let body = match &rel {
        _ if method != "GET" => None,
        None => None,
        Some(rel) if config.missing.contains(rel) || rel.split('/').any(|c| c == "..") => None,
        Some(rel) => match config.overrides.get(rel) {
            Some(b) => Some(b.clone()),
            None => fs::read(config.root.join(rel)).ok(),
        },
    };
    let mut out = stream;
    let path = rel.unwrap_or_else(|| target.to_string());
    let Some(body) = body else {
        let msg = b"not found\n";
        let head = format!(
            "HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            msg.len()
        );
        out.write_all(head.as_bytes()).ok()?;
        out.write_all(msg).ok()?;
        return Some(Served {
            path,
            range,
            status: 404,
            bytes: msg.len() as u64,
        });
    };
    let len = body.len() as u64;
    let (status, head, slice) = match range.filter(|_| config.ranges) {
        Some(start) if start >= len => (
            416,
            format!(
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{len}\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n"
            ),
            &body[..0],
        ),
        Some(start) => {
            let slice = &body[usize::try_from(start).ok()?..];
            (
                206,
                format!(
                    "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {start}-{}/{len}\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n",
                    len - 1,
                    slice.len()
                ),
                slice,
            )
        }
        None => (
            200,
            format!(
                "HTTP/1.1 200 OK\r\nAccept-Ranges: {}\r\nContent-Length: {len}\r\n\
                 Connection: close\r\n\r\n",
                if config.ranges { "bytes" } else { "none" }
            ),
            &body[..],
        ),
    };
    let sent = match config.cut.get(&path) {
        Some(&n) => &slice[..n.min(slice.len())],
        None => slice,
    };
    out.write_all(head.as_bytes()).ok()?;
    out.write_all(sent).ok()?;
    out.flush().ok()?;
    Some(Served {
        path,
        range,
        status,
        bytes: sent.len() as u64,
    })
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn mitdb_server(mitdb: &Path) -> ServerConfig {
    ServerConfig {
        root: mitdb.to_path_buf(),
        db: "mitdb".into(),
        version: "1.0.0".into(),
        ranges: true,
        ..ServerConfig::default()
    }
}

/// A hand-made database "demo/1.0": records a, b and sub/c, a big b.dat, RECORDS listed in
/// SHA256SUMS.txt (as on PhysioNet).
fn make_demo_db(root: &Path) -> ServerConfig {
    let mut files: Vec<(&str, Vec<u8>)> = vec![
        ("RECORDS", b"a\nb\nsub/c\n".to_vec()),
        ("ANNOTATORS", b"atr\treference beat annotations\n".to_vec()),
        (
            "a.hea",
            b"a 1 360 10\na.dat 16 200 16 0 0 0 0 MLII\n".to_vec(),
        ),
        ("a.dat", (0u8..20).collect()),
        (
            "b.hea",
            b"b 1 360 100000\nb.dat 16 200 16 0 0 0 0 V1\n".to_vec(),
        ),
        ("b.dat", noise(200_000)),
        (
            "sub/c.hea",
            b"c 1 360 2\nc.dat 16 200 16 0 0 0 0 V5\n".to_vec(),
        ),
        ("sub/c.dat", vec![1, 2, 3, 4]),
        ("notes.html", b"<p>about</p>".to_vec()),
    ];
    files.sort();
    let mut sums = String::new();
    for (rel, data) in &files {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, data).unwrap();
        sums.push_str(&format!("{}  {rel}\n", sha256_file(&p).unwrap()));
    }
    fs::write(root.join("SHA256SUMS.txt"), sums).unwrap();
    ServerConfig {
        root: root.to_path_buf(),
        db: "demo".into(),
        version: "1.0".into(),
        ranges: true,
        ..ServerConfig::default()
    }
}

/// Deterministic bytes that do not compress or repeat.
fn noise(n: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect()
}

fn options<'a>(server: &Server, db: &str, dir: &Path) -> FetchOptions<'a> {
    let mut o = FetchOptions::new(db, dir);
    o.base_url = server.base_url();
    o
}

fn records(names: &[&str]) -> Option<Vec<String>> {
    Some(names.iter().map(|s| s.to_string()).collect())
}

/// All files under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().to_string_lossy();
                out.push(rel.replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn assert_same(a: &Path, b: &Path) {
    assert!(
        fs::read(a).unwrap() == fs::read(b).unwrap(),
        "{} differs from {}",
        a.display(),
        b.display()
    );
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// Published digest of `rel` in the served SHA256SUMS.txt.
fn published(root: &Path, rel: &str) -> String {
    let sums = fs::read_to_string(root.join("SHA256SUMS.txt")).unwrap();
    sums.lines()
        .find_map(|l| {
            let (d, p) = l.split_once(' ')?;
            (p.trim_start() == rel).then(|| d.to_string())
        })
        .unwrap()
}

fn expect_err(r: sinus_io::Result<FetchReport>) -> Error {
    match r {
        Ok(report) => panic!("expected an error, got {report:?}"),
        Err(e) => e,
    }
}

// ---------------------------------------------------------------------------------------------
// MIT-BIH over the local server

#[test]
fn mitdb_subset_is_byte_identical_and_rerun_is_cheap() {
    let Some(mitdb) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let server = Server::start(mitdb_server(&mitdb));
    let dest = tempfile::tempdir().unwrap();
    let events = RefCell::new(Vec::<String>::new());
    let last_done = RefCell::new(HashMap::<String, (u64, Option<u64>)>::new());
    let cb = |ev: &FetchEvent<'_>| match ev {
        FetchEvent::Progress { path, done, total } => {
            last_done
                .borrow_mut()
                .insert(path.to_string(), (*done, *total));
        }
        other => events.borrow_mut().push(format!("{other:?}")),
    };
    let mut o = options(&server, "mitdb", dest.path());
    o.records = records(&["100", "101"]);
    o.progress = Some(&cb);
    let report = fetch_database(&o).unwrap();

    let data = [
        "100.atr", "100.dat", "100.hea", "101.atr", "101.dat", "101.hea",
    ];
    let mut expected_tree: Vec<String> = data.iter().map(|s| s.to_string()).collect();
    expected_tree.extend(["RECORDS".into(), "SHA256SUMS.txt".into()]);
    expected_tree.sort();
    assert_eq!(tree(dest.path()), expected_tree);
    for f in &expected_tree {
        assert_same(&dest.path().join(f), &mitdb.join(f));
    }
    assert_eq!(
        (report.db.as_str(), report.version.as_str()),
        ("mitdb", "1.0.0")
    );
    assert_eq!(report.records, 2);
    assert_eq!(sorted(&report.downloaded), data);
    assert!(report.resumed.is_empty() && report.verified_existing.is_empty());
    // The shared copy's SHA256SUMS.txt does not list RECORDS, so it comes unverified.
    assert_eq!(report.unverified, ["SHA256SUMS.txt", "RECORDS"]);
    let total: u64 = expected_tree
        .iter()
        .map(|f| fs::metadata(mitdb.join(f)).unwrap().len())
        .sum();
    assert_eq!(report.bytes, total);

    // Events: index, plan, then start/transfer/finish per file; progress reaches the size.
    let events = events.into_inner();
    assert_eq!(events[0], r#"Index { path: "SHA256SUMS.txt" }"#);
    assert_eq!(events[1], r#"Index { path: "RECORDS" }"#);
    assert_eq!(events[2], "Planned { files: 6, records: 2 }");
    assert_eq!(
        events
            .iter()
            .filter(|e| e.starts_with("FileFinished"))
            .count(),
        6
    );
    assert!(events.iter().any(|e| e
        .contains(r#"FileFinished { index: 1, files: 6, path: "100.dat", outcome: Downloaded"#)));
    let last_done = last_done.into_inner();
    for f in data {
        let size = fs::metadata(mitdb.join(f)).unwrap().len();
        assert_eq!(last_done[f], (size, Some(size)), "{f}");
    }

    // A second run verifies what is there and downloads only the two index files.
    let before = server.log().len();
    let mut o = options(&server, "mitdb/1.0.0", dest.path());
    o.records = records(&["101", "100", "100"]);
    let again = fetch_database(&o).unwrap();
    assert!(again.downloaded.is_empty(), "{again:?}");
    assert_eq!(sorted(&again.verified_existing), data);
    let log = server.log();
    let new: Vec<&str> = log[before..].iter().map(|s| s.path.as_str()).collect();
    assert_eq!(new, ["SHA256SUMS.txt", "RECORDS"]);
}

#[test]
fn mitdb_resume_fetches_only_missing_bytes() {
    let Some(mitdb) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let server = Server::start(mitdb_server(&mitdb));
    let dest = tempfile::tempdir().unwrap();
    let full = fs::read(mitdb.join("100.dat")).unwrap();
    let half = full.len() / 2;
    fs::write(dest.path().join("100.dat.part"), &full[..half]).unwrap();
    fs::copy(mitdb.join("100.hea"), dest.path().join("100.hea")).unwrap();

    let mut o = options(&server, "mitdb", dest.path());
    o.records = records(&["100"]);
    let report = fetch_database(&o).unwrap();

    assert_eq!(report.resumed, ["100.dat"]);
    assert_eq!(sorted(&report.downloaded), ["100.atr", "100.dat"]);
    assert_eq!(report.verified_existing, ["100.hea"]);
    assert_same(&dest.path().join("100.dat"), &mitdb.join("100.dat"));
    assert!(!dest.path().join("100.dat.part").exists());
    assert_eq!(
        server.requests("100.dat"),
        [Served {
            path: "100.dat".into(),
            range: Some(half as u64),
            status: 206,
            bytes: (full.len() - half) as u64,
        }]
    );
    assert!(server.requests("100.hea").is_empty());
    let atr = fs::metadata(mitdb.join("100.atr")).unwrap().len();
    let index: u64 = ["SHA256SUMS.txt", "RECORDS"]
        .iter()
        .map(|f| fs::metadata(mitdb.join(f)).unwrap().len())
        .sum();
    assert_eq!(report.bytes, index + atr + (full.len() - half) as u64);
}

#[test]
fn mitdb_tampered_file_is_an_integrity_error() {
    let Some(mitdb) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let mut config = mitdb_server(&mitdb);
    let mut bad = fs::read(mitdb.join("101.dat")).unwrap();
    bad[1000] ^= 0x40;
    config.overrides.insert("101.dat".into(), bad.clone());
    let server = Server::start(config);
    let dest = tempfile::tempdir().unwrap();
    let mut o = options(&server, "mitdb", dest.path());
    o.records = records(&["101"]);
    let err = expect_err(fetch_database(&o));

    assert!(matches!(err.kind, ErrorKind::Integrity(_)), "{err}");
    assert_eq!(
        err.path.as_deref(),
        Some(dest.path().join("101.dat").as_path())
    );
    let msg = err.to_string();
    let badfile = dest.path().join("bad");
    fs::write(&badfile, &bad).unwrap();
    assert!(msg.contains(&published(&mitdb, "101.dat")), "{msg}");
    assert!(msg.contains(&sha256_file(&badfile).unwrap()), "{msg}");
    assert!(msg.contains("/files/mitdb/1.0.0/101.dat"), "{msg}");
    assert!(!dest.path().join("101.dat").exists());
    assert!(!dest.path().join("101.dat.part").exists());
    // Files before it in the list were completed and stay.
    assert_same(&dest.path().join("101.atr"), &mitdb.join("101.atr"));
}

// ---------------------------------------------------------------------------------------------
// Hand-made database (runs without MIT-BIH)

#[test]
fn full_fetch_verifies_listed_records_and_creates_subdirectories() {
    let src = tempfile::tempdir().unwrap();
    let server = Server::start(make_demo_db(src.path()));
    let dest = tempfile::tempdir().unwrap();
    let report = fetch_database(&options(&server, "demo/1.0", dest.path())).unwrap();
    assert_eq!(tree(dest.path()), tree(src.path()));
    for f in tree(src.path()) {
        assert_same(&dest.path().join(&f), &src.path().join(&f));
    }
    assert_eq!(report.records, 3);
    // RECORDS is listed in SHA256SUMS.txt here, so it is verified like the rest.
    assert_eq!(report.unverified, ["SHA256SUMS.txt"]);
    assert_eq!(report.downloaded.len(), 9);
    assert_eq!(report.downloaded[0], "RECORDS");

    // Subset of a record in a subdirectory: its files plus RECORDS/ANNOTATORS, nothing else.
    let dest2 = tempfile::tempdir().unwrap();
    let mut o = options(&server, "demo", dest2.path());
    o.version = Some("1.0".into());
    o.records = records(&["sub/c"]);
    let report = fetch_database(&o).unwrap();
    assert_eq!(
        tree(dest2.path()),
        [
            "ANNOTATORS",
            "RECORDS",
            "SHA256SUMS.txt",
            "sub/c.dat",
            "sub/c.hea"
        ]
    );
    assert_eq!(report.records, 1);
}

#[test]
fn resume_falls_back_to_full_download_when_range_is_ignored() {
    let src = tempfile::tempdir().unwrap();
    let mut config = make_demo_db(src.path());
    config.ranges = false;
    let server = Server::start(config);
    let dest = tempfile::tempdir().unwrap();
    let full = fs::read(src.path().join("b.dat")).unwrap();
    fs::write(dest.path().join("b.dat.part"), &full[..5000]).unwrap();
    let mut o = options(&server, "demo/1.0", dest.path());
    o.records = records(&["b"]);
    let report = fetch_database(&o).unwrap();
    assert_same(&dest.path().join("b.dat"), &src.path().join("b.dat"));
    assert!(report.resumed.is_empty());
    let served = server.requests("b.dat");
    assert_eq!(served.len(), 1);
    assert_eq!((served[0].range, served[0].status), (Some(5000), 200));
    assert_eq!(served[0].bytes, full.len() as u64);
}

#[test]
fn resumed_part_with_wrong_bytes_is_downloaded_again() {
    let src = tempfile::tempdir().unwrap();
    let server = Server::start(make_demo_db(src.path()));
    let dest = tempfile::tempdir().unwrap();
    fs::write(dest.path().join("b.dat.part"), vec![0xEE; 7000]).unwrap();
    let mut o = options(&server, "demo/1.0", dest.path());
    o.records = records(&["b"]);
    let report = fetch_database(&o).unwrap();
    assert_same(&dest.path().join("b.dat"), &src.path().join("b.dat"));
    assert!(!dest.path().join("b.dat.part").exists());
    assert!(
        report.resumed.is_empty(),
        "the fresh download is not a resume"
    );
    let ranges: Vec<_> = server
        .requests("b.dat")
        .iter()
        .map(|s| (s.range, s.status))
        .collect();
    assert_eq!(ranges, [(Some(7000), 206), (None, 200)]);
}

#[test]
fn complete_part_is_verified_and_put_in_place() {
    let src = tempfile::tempdir().unwrap();
    let server = Server::start(make_demo_db(src.path()));
    let dest = tempfile::tempdir().unwrap();
    fs::copy(src.path().join("b.dat"), dest.path().join("b.dat.part")).unwrap();
    let mut o = options(&server, "demo/1.0", dest.path());
    o.records = records(&["b"]);
    let report = fetch_database(&o).unwrap();
    assert_eq!(report.resumed, ["b.dat"]);
    assert_same(&dest.path().join("b.dat"), &src.path().join("b.dat"));
    let served = server.requests("b.dat");
    assert_eq!((served[0].status, served[0].bytes), (416, 0));
}

#[test]
fn interrupted_transfer_keeps_part_and_next_run_resumes() {
    let src = tempfile::tempdir().unwrap();
    let mut config = make_demo_db(src.path());
    config.cut.insert("b.dat".into(), 120_000);
    let dest = tempfile::tempdir().unwrap();
    let err = {
        let server = Server::start(config.clone());
        let mut o = options(&server, "demo/1.0", dest.path());
        o.records = records(&["b"]);
        expect_err(fetch_database(&o))
    };
    assert!(matches!(err.kind, ErrorKind::Network(_)), "{err}");
    assert!(err.to_string().contains("run again to resume"), "{err}");
    assert!(err.to_string().contains("/files/demo/1.0/b.dat"), "{err}");
    assert!(!dest.path().join("b.dat").exists());
    let kept = fs::metadata(dest.path().join("b.dat.part")).unwrap().len();
    assert!(kept > 0 && kept <= 120_000, "{kept}");

    config.cut.clear();
    let server = Server::start(config);
    let mut o = options(&server, "demo/1.0", dest.path());
    o.records = records(&["b"]);
    let report = fetch_database(&o).unwrap();
    assert_eq!(report.resumed, ["b.dat"]);
    assert_same(&dest.path().join("b.dat"), &src.path().join("b.dat"));
    assert_eq!(server.requests("b.dat")[0].bytes, 200_000 - kept);
}

#[test]
fn missing_file_404_names_the_url() {
    let src = tempfile::tempdir().unwrap();
    let mut config = make_demo_db(src.path());
    config.missing.insert("a.dat".into());
    let server = Server::start(config);
    let dest = tempfile::tempdir().unwrap();
    let err = expect_err(fetch_database(&options(&server, "demo/1.0", dest.path())));
    assert!(matches!(err.kind, ErrorKind::Network(_)), "{err}");
    let url = format!("{}/demo/1.0/a.dat", server.base_url());
    assert!(err.to_string().contains("404"), "{err}");
    assert!(err.to_string().contains(&url), "{err}");
    assert!(!dest.path().join("a.dat.part").exists());
}

#[test]
fn unknown_version_404_names_the_index_url() {
    let src = tempfile::tempdir().unwrap();
    let server = Server::start(make_demo_db(src.path()));
    let dest = tempfile::tempdir().unwrap();
    let err = expect_err(fetch_database(&options(&server, "demo/9.9", dest.path())));
    let url = format!("{}/demo/9.9/SHA256SUMS.txt", server.base_url());
    assert!(err.to_string().contains(&url), "{err}");
    assert!(matches!(err.kind, ErrorKind::Network(_)), "{err}");
}

#[test]
fn connection_refused_is_a_clear_network_error() {
    // A port that was just free: nothing listens on it.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dest = tempfile::tempdir().unwrap();
    let mut o = FetchOptions::new("mitdb", dest.path());
    o.base_url = format!("http://127.0.0.1:{port}/files");
    let started = Instant::now();
    let err = expect_err(fetch_database(&o));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(matches!(err.kind, ErrorKind::Network(_)), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("cannot reach 127.0.0.1:{port}")),
        "{msg}"
    );
    assert!(msg.contains("connection refused"), "{msg}");
    assert!(msg.contains("check your network"), "{msg}");
}

#[test]
fn hostile_index_entries_are_rejected_before_downloading() {
    for hostile in ["../evil", "/tmp/evil", "sub/../../evil"] {
        let src = tempfile::tempdir().unwrap();
        let mut config = make_demo_db(src.path());
        let digest = sha256_file(&src.path().join("a.dat")).unwrap();
        let sums = format!("{digest}  a.dat\n{digest}  {hostile}\n");
        config
            .overrides
            .insert("SHA256SUMS.txt".into(), sums.into_bytes());
        let server = Server::start(config);
        let outer = tempfile::tempdir().unwrap();
        let dest = outer.path().join("db");
        let err = expect_err(fetch_database(&options(&server, "demo/1.0", &dest)));
        assert!(matches!(err.kind, ErrorKind::Malformed(_)), "{err}");
        assert!(err.to_string().contains("unsafe path"), "{err}");
        assert!(err.to_string().contains("line 2"), "{err}");
        let paths: Vec<String> = server.log().into_iter().map(|s| s.path).collect();
        assert_eq!(paths, ["SHA256SUMS.txt"], "{hostile}");
        assert!(tree(&dest).is_empty(), "{:?}", tree(&dest));
        assert!(!outer.path().join("evil").exists());
    }
}

#[test]
fn unknown_or_unsafe_records_are_refused() {
    let src = tempfile::tempdir().unwrap();
    let server = Server::start(make_demo_db(src.path()));
    let dest = tempfile::tempdir().unwrap();
    for (rec, needle) in [
        ("zzz", "'zzz' is not in demo/1.0's RECORDS"),
        ("../a", "bad record"),
    ] {
        let mut o = options(&server, "demo/1.0", dest.path());
        o.records = records(&["a", rec]);
        let err = expect_err(fetch_database(&o));
        assert!(matches!(err.kind, ErrorKind::Invalid(_)), "{err}");
        assert!(err.to_string().contains(needle), "{err}");
    }
    let mut o = options(&server, "demo/1.0", dest.path());
    o.records = Some(Vec::new());
    let err = expect_err(fetch_database(&o));
    assert!(err.to_string().contains("empty list of records"), "{err}");
    // Nothing but the index was written.
    assert_eq!(tree(dest.path()), ["RECORDS", "SHA256SUMS.txt"]);
}

#[test]
fn outcome_of_present_files_is_reported_in_events() {
    let src = tempfile::tempdir().unwrap();
    let server = Server::start(make_demo_db(src.path()));
    let dest = tempfile::tempdir().unwrap();
    fs::copy(src.path().join("a.hea"), dest.path().join("a.hea")).unwrap();
    // A wrong final file is replaced (only after the new one is verified).
    fs::write(dest.path().join("a.dat"), b"stale").unwrap();
    let outcomes = RefCell::new(Vec::new());
    let cb = |ev: &FetchEvent<'_>| {
        if let FetchEvent::FileFinished { path, outcome, .. } = ev {
            outcomes.borrow_mut().push((path.to_string(), *outcome));
        }
    };
    let mut o = options(&server, "demo/1.0", dest.path());
    o.records = records(&["a"]);
    o.progress = Some(&cb);
    fetch_database(&o).unwrap();
    assert_same(&dest.path().join("a.dat"), &src.path().join("a.dat"));
    assert_eq!(
        outcomes.into_inner(),
        [
            ("ANNOTATORS".to_string(), FileOutcome::Downloaded),
            ("a.dat".to_string(), FileOutcome::Downloaded),
            ("a.hea".to_string(), FileOutcome::AlreadyPresent),
        ]
    );
}
