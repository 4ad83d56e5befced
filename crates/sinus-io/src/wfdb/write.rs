//! WFDB write (in progress).
