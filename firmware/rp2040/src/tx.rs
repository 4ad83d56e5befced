//! What goes out of UART0: one line per event, the event's encoded bytes in lowercase hex
//! and a newline (the text `sinus_analyze::device::DeviceRun::hex_lines` makes on the host and
//! the qemu firmware prints, so the outputs compare as text), plus diagnostic lines that
//! start with `#` and are not events.
//!
//! Lines wait in a [`TxQueue`] that the main loop feeds to the UART's hardware FIFO as it
//! takes them, so a slow or unplugged serial line never holds up the monitor, let alone the
//! sampling interrupt: a line that does not fit is dropped whole and counted, and a
//! `# dropped N` line says so once there is room again.

use sinus_core::monitor::{Event, MAX_EVENT_BYTES};

/// Longest line: every byte of the largest event as two hex digits, and the newline.
pub const MAX_LINE: usize = 2 * MAX_EVENT_BYTES + 1;

/// `e` as an event line into `out`; returns its length.
pub fn event_line(e: &Event, out: &mut [u8; MAX_LINE]) -> usize {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bytes = [0u8; MAX_EVENT_BYTES];
    let n = e.encode(&mut bytes).min(MAX_EVENT_BYTES);
    for (pair, b) in out.chunks_exact_mut(2).zip(&bytes[..n]) {
        pair[0] = HEX[(b >> 4) as usize];
        pair[1] = HEX[(b & 15) as usize];
    }
    out[2 * n] = b'\n';
    2 * n + 1
}

/// A diagnostic line, `# <what> <n>\n`, into `out`; returns its length (`what` is cut to
/// fit).
pub fn notice_line(what: &str, n: u32, out: &mut [u8; MAX_LINE]) -> usize {
    let mut digits = [0u8; 10];
    let mut k = digits.len();
    let mut v = n;
    loop {
        k -= 1;
        digits[k] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let number = &digits[k..];
    let room = MAX_LINE - 2 - 1 - number.len() - 1;
    let what = &what.as_bytes()[..what.len().min(room)];
    let mut at = 0;
    for part in [b"# ".as_slice(), what, b" ", number, b"\n"] {
        out[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
    at
}

/// A byte queue of `N` bytes holding whole lines, filled by the main loop and emptied into
/// the UART by it.
pub struct TxQueue<const N: usize> {
    buf: [u8; N],
    /// Index of the oldest byte.
    head: usize,
    /// Bytes waiting.
    len: usize,
    /// Lines dropped since the last `# dropped` notice went in.
    unreported: u32,
    /// Lines dropped in all.
    dropped: u32,
}

impl<const N: usize> TxQueue<N> {
    /// An empty queue (a `const fn`, so the queue can be a `static`).
    pub const fn new() -> Self {
        TxQueue {
            buf: [0; N],
            head: 0,
            len: 0,
            unreported: 0,
            dropped: 0,
        }
    }

    /// Queue `line` whole, or drop and count it if it does not fit. Drops not yet reported
    /// are reported first, by a `# dropped N` line, so the receiver knows where lines are
    /// missing.
    pub fn push_line(&mut self, line: &[u8]) -> bool {
        if self.unreported > 0 {
            let mut note = [0u8; MAX_LINE];
            let k = notice_line("dropped", self.unreported, &mut note);
            if k + line.len() > N - self.len {
                return self.drop_line();
            }
            self.put(&note[..k]);
            self.unreported = 0;
        }
        if line.len() > N - self.len {
            return self.drop_line();
        }
        self.put(line);
        true
    }

    fn drop_line(&mut self) -> bool {
        self.unreported = self.unreported.saturating_add(1);
        self.dropped = self.dropped.saturating_add(1);
        false
    }

    fn put(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.buf[(self.head + self.len) % N] = b;
            self.len += 1;
        }
    }

    /// The oldest waiting bytes that are contiguous in the buffer (empty when none wait).
    pub fn pending(&self) -> &[u8] {
        let end = (self.head + self.len).min(N);
        // `head < N` always; `get` keeps a panic path out of the firmware all the same.
        self.buf.get(self.head..end).unwrap_or(&[])
    }

    /// `n` bytes of [`TxQueue::pending`] were sent.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        self.head = (self.head + n) % N;
        self.len -= n;
    }

    /// Hand waiting bytes to `send`, which takes what it can without waiting and returns
    /// how many it took, until it takes none or none wait.
    pub fn pump(&mut self, mut send: impl FnMut(&[u8]) -> usize) {
        while self.len > 0 {
            let taken = send(self.pending());
            if taken == 0 {
                return;
            }
            self.consume(taken);
        }
    }

    /// Bytes waiting.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no byte is waiting.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Lines dropped in all.
    pub fn dropped(&self) -> u32 {
        self.dropped
    }
}

impl<const N: usize> Default for TxQueue<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sinus_core::rhythm::BeatClass;
    use std::vec::Vec;

    fn drain<const N: usize>(q: &mut TxQueue<N>, fifo: usize) -> Vec<u8> {
        let mut out = Vec::new();
        q.pump(|b| {
            let k = b.len().min(fifo);
            out.extend_from_slice(&b[..k]);
            k
        });
        out
    }

    #[test]
    fn event_lines_are_the_hosts_hex() {
        let e = Event::Beat {
            sample: 0x0102,
            class: BeatClass::Ventricular,
            confidence: 1.0,
            rr: 250,
        };
        let mut line = [0u8; MAX_LINE];
        let n = event_line(&e, &mut line);
        // Tag 1, class 2, sample (u64 LE), confidence (f32 LE, 1.0 = 0x3f800000), rr (u32 LE).
        assert_eq!(
            core::str::from_utf8(&line[..n]).unwrap(),
            concat!("0102", "0201000000000000", "0000803f", "fa000000", "\n")
        );
    }

    #[test]
    fn notices() {
        let mut line = [0u8; MAX_LINE];
        let n = notice_line("missed", 0, &mut line);
        assert_eq!(&line[..n], b"# missed 0\n");
        let n = notice_line("dropped", u32::MAX, &mut line);
        assert_eq!(&line[..n], b"# dropped 4294967295\n");
        let long = "x".repeat(200);
        let n = notice_line(&long, 7, &mut line);
        assert_eq!(n, MAX_LINE);
        assert!(line[..n].ends_with(b" 7\n"));
    }

    #[test]
    fn lines_go_out_whole_and_in_order_across_the_wrap() {
        let mut q = TxQueue::<16>::new();
        assert!(q.push_line(b"abcdefghij\n"));
        assert_eq!(drain(&mut q, 4), b"abcdefghij\n");
        // This one wraps around the end of the buffer.
        assert!(q.push_line(b"0123456789\n"));
        assert_eq!(q.pending(), b"01234");
        assert_eq!(drain(&mut q, 3), b"0123456789\n");
        assert!(q.is_empty());
    }

    #[test]
    fn a_full_queue_drops_and_then_says_so() {
        let mut q = TxQueue::<24>::new();
        assert!(q.push_line(b"aaaaaaaaaaaaaaaaaaa\n"));
        assert!(!q.push_line(b"bbbbbbbb\n"));
        assert!(!q.push_line(b"cc\n")); // 4 bytes free: still no room
        assert_eq!(q.dropped(), 2);
        // The UART takes nothing: pumping returns at once.
        q.pump(|_| 0);
        assert_eq!(q.len(), 20);
        drain(&mut q, 1);
        assert!(q.push_line(b"dd\n"));
        assert_eq!(drain(&mut q, 32), b"# dropped 2\ndd\n");
        // Reported once.
        assert!(q.push_line(b"ee\n"));
        assert_eq!(drain(&mut q, 32), b"ee\n");
        assert_eq!(q.dropped(), 2);
    }

    #[test]
    fn a_line_longer_than_the_queue_is_dropped() {
        let mut q = TxQueue::<4>::new();
        assert!(!q.push_line(b"too long\n"));
        assert!(q.is_empty());
    }
}
