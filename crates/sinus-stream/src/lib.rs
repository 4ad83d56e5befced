//! `sinus-stream`: the device link on a PC. [`device::DeviceSession`] plays ADC codes through
//! `sinus-core`'s monitor and speaks the protocol of `sinus_core::wire` (`docs/protocol.md`):
//! HELLO, raw-sample blocks, beats, rhythms, alarms, heartbeats, status, answering host
//! commands — what the firmware does. [`host::HostSession`] takes a byte stream apart again,
//! counts what the link lost, shows a live status and stores the session as a WFDB record
//! with annotations that `sinus analyze` and wfdb-python read. [`link`] runs both over TCP (or
//! any byte stream), with faults injected on demand.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod device;
pub mod host;
pub mod link;
