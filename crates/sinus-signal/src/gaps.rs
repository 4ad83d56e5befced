//! Missing samples: finding runs of NaN (the physical value of [`sinus_io::MISSING`]) and
//! filling them so that filters and resamplers, which need every sample, can run.
//!
//! Policy used throughout this crate: a run of missing samples is filled by straight-line
//! interpolation between the valid samples on either side (a run at the start or end takes the
//! nearest valid value; an all-missing signal becomes zeros). Interpolation is invisible for a
//! gap of a few samples, but over a long gap it invents a flat line; callers that care (the
//! resampler, the detector) get the gap list back and treat long gaps as "no signal" — they
//! report NaN there or detect no beat there.

use sinus_io::Signal;
use std::ops::Range;

/// Runs of non-finite samples (NaN or ±∞), as half-open index ranges in increasing order.
pub fn find_gaps(x: &[f64]) -> Vec<Range<usize>> {
    let mut gaps = Vec::new();
    let mut start = None;
    for (i, v) in x.iter().enumerate() {
        match (v.is_finite(), start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                gaps.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        gaps.push(s..x.len());
    }
    gaps
}

/// Fill every non-finite sample in place by linear interpolation (see the module policy) and
/// return the runs that were filled.
pub fn fill_gaps(x: &mut [f64]) -> Vec<Range<usize>> {
    let gaps = find_gaps(x);
    for g in &gaps {
        let before = g.start.checked_sub(1).map(|i| x[i]);
        let after = x.get(g.end).copied();
        match (before, after) {
            (Some(a), Some(b)) => {
                let n = (g.end - g.start + 1) as f64;
                for (k, i) in g.clone().enumerate() {
                    let t = (k + 1) as f64 / n;
                    x[i] = a + (b - a) * t;
                }
            }
            (Some(v), None) | (None, Some(v)) => x[g.clone()].iter_mut().for_each(|s| *s = v),
            (None, None) => x[g.clone()].iter_mut().for_each(|s| *s = 0.0),
        }
    }
    gaps
}

/// A copy of `x` with gaps filled, and the gaps.
pub fn filled(x: &[f64]) -> (Vec<f64>, Vec<Range<usize>>) {
    let mut y = x.to_vec();
    let gaps = fill_gaps(&mut y);
    (y, gaps)
}

/// Physical samples of a signal (NaN where missing) with gaps filled; also returns the gaps.
pub fn physical_filled(signal: &Signal) -> (Vec<f64>, Vec<Range<usize>>) {
    let mut y = signal.physical_samples();
    let gaps = fill_gaps(&mut y);
    (y, gaps)
}

/// Mark as NaN, in place, every sample inside a gap longer than `max_len` samples.
pub fn restore_long_gaps(x: &mut [f64], gaps: &[Range<usize>], max_len: usize) {
    for g in gaps {
        if g.len() > max_len {
            let end = g.end.min(x.len());
            let start = g.start.min(end);
            x[start..end].iter_mut().for_each(|v| *v = f64::NAN);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_inner_and_holds_edges() {
        let n = f64::NAN;
        let mut x = [n, 1.0, n, n, 4.0, f64::INFINITY, 6.0, n];
        let gaps = fill_gaps(&mut x);
        assert_eq!(gaps, vec![0..1, 2..4, 5..6, 7..8]);
        assert_eq!(x, [1.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 6.0]);
    }

    #[test]
    fn all_missing_becomes_zero_and_empty_is_fine() {
        let mut x = [f64::NAN; 3];
        assert_eq!(fill_gaps(&mut x), vec![0..3]);
        assert_eq!(x, [0.0; 3]);
        let mut e: [f64; 0] = [];
        assert!(fill_gaps(&mut e).is_empty());
    }

    #[test]
    fn restores_only_long_gaps() {
        let mut x = [0.0; 10];
        restore_long_gaps(&mut x, &[1..2, 4..8], 2);
        assert!(!x[1].is_nan());
        assert!(x[4..8].iter().all(|v| v.is_nan()));
        assert!(!x[8].is_nan());
    }
}
