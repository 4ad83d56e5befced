//! IIR filters (in progress).
