//! Beat-by-beat comparison (in progress).
