//! Streaming QRS detection (in progress).
