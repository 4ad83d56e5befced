//! WFDB record (in progress).
