//! CSV (in progress).
