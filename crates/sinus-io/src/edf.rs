//! EDF and EDF+ (in progress).
