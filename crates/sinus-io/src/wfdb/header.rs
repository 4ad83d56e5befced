//! WFDB header (in progress).
