//! PhysioNet download (in progress).
