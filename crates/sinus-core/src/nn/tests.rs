use super::*;

#[test]
fn requantisation_matches_real_multiplication() {
    for &real in &[
        1.0e-6, 0.0003, 0.01, 0.2, 0.4999, 0.5, 0.75, 1.0, 3.7, 1000.0,
    ] {
        let r = Requant::from_real(real).unwrap();
        for &acc in &[-1_000_000i32, -12345, -1, 0, 1, 77, 65_000, 2_000_000] {
            let want = (acc as f64 * real).round();
            let got = r.apply(acc) as f64;
            assert!((got - want).abs() <= 1.0, "{real} × {acc}: {got} vs {want}");
        }
    }
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-30, 1e30] {
        assert!(Requant::from_real(bad).is_none(), "{bad}");
    }
    // Saturates instead of overflowing.
    let r = Requant::from_real(1000.0).unwrap();
    assert_eq!(r.apply(i32::MAX), i32::MAX);
}

#[test]
fn garbage_is_rejected_without_panic() {
    let mut storage = [0.0f32; 64];
    for bytes in [
        &b""[..],
        b"SNNM",
        b"SNNM\x01\x00\x00\x00",
        b"XXXXXXXXXXXXXXXX",
        &[0xFF; 40][..],
    ] {
        assert!(FloatModel::parse(bytes, &mut storage[..]).is_err());
        assert!(QuantModel::parse(bytes).is_err());
    }
}

#[test]
fn softmax_and_argmax() {
    let mut p = [0.0f32; 3];
    softmax(&[1000.0, 1000.0, -1000.0], &mut p);
    assert!((p[0] - 0.5).abs() < 1e-6 && (p[1] - 0.5).abs() < 1e-6 && p[2] == 0.0);
    assert_eq!(argmax(&[0.1, 0.7, 0.7]), 1);
    assert_eq!(argmax(&[]), 0);
}
