//! `sinus device simulate` → `sinus listen` through a file and over TCP on 127.0.0.1, then
//! `sinus analyze` on the stored session; bad arguments fail with a message.

mod common;
use common::{sinus, stderr, stdout};

#[test]
fn a_session_through_a_file_is_stored_and_analysed() {
    let dir = tempfile::tempdir().unwrap();
    let stream = dir.path().join("stream.bin");
    let o = sinus(&[
        "device",
        "simulate",
        "--out",
        stream.to_str().unwrap(),
        "--inject-faults",
        "corrupt=0.0002",
        "--seed",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("faults injected"), "{}", stderr(&o));
    let out = dir.path().join("rec");
    let o = sinus(&[
        "-q",
        "listen",
        "--file",
        stream.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("lost") && text.contains("stored"), "{text}");
    let o = sinus(&[
        "analyze",
        out.join("session").to_str().unwrap(),
        "-a",
        "sinus",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("250 Hz"), "{}", stdout(&o));
}

#[test]
fn over_tcp_the_listener_asks_for_the_signal_and_stores_it() {
    let dir = tempfile::tempdir().unwrap();
    // A free port: bind, read it, release it for the listener.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let out = dir.path().to_path_buf();
    let a = addr.clone();
    let listener = std::thread::spawn(move || {
        sinus(&["-q", "listen", "--tcp", &a, "--out", out.to_str().unwrap()])
    });
    // The device starts without raw streaming: the listener's START_RAW turns it on.
    let mut sent = None;
    for _ in 0..50 {
        let o = sinus(&["device", "simulate", "--tcp", &addr, "--no-raw"]);
        if o.status.success() {
            sent = Some(o);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(sent.is_some(), "the device never connected");
    let o = listener.join().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains(" 0 lost"), "{}", stdout(&o));
    let rec = std::fs::read_to_string(dir.path().join("session.hea")).unwrap();
    assert!(rec.contains("250"), "{rec}");
    // Ten minutes of the demo at 250 Hz, less what was sent before START_RAW arrived.
    let dat = std::fs::metadata(dir.path().join("session.dat"))
        .unwrap()
        .len();
    assert!(dat > 2 * 250 * 550, "{dat} bytes");
}

#[test]
fn bad_arguments_are_refused() {
    let o = sinus(&[
        "device",
        "simulate",
        "--out",
        "/dev/null",
        "--speed",
        "fast",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--speed"), "{}", stderr(&o));
    let o = sinus(&[
        "device",
        "simulate",
        "--out",
        "/dev/null",
        "--inject-faults",
        "drop=3",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--inject-faults"), "{}", stderr(&o));
    let o = sinus(&["listen", "--file", "/nonexistent/stream.bin"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("/nonexistent/stream.bin"),
        "{}",
        stderr(&o)
    );
}
