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

#[test]
fn int8_logits_and_the_exporters_view() {
    let bytes: &[u8] = include_bytes!("../../../sinus-ml/models/beatnet.int8.snnm");
    let m = QuantModel::parse(bytes).unwrap();
    let info = *m.info();
    let mut scratch = [0i8; 8192];
    assert!(m.scratch_len() <= scratch.len());
    let wave: [f32; 512] = core::array::from_fn(|i| ((i * 37 % 101) as f32 - 50.0) / 20.0);
    let feats = [0.8f32, 0.9, 0.85, 0.8, 0.95, 1.05, 1.0, 1.0];
    let mut q = [0i8; 5];
    let mut f = [0.0f32; 5];
    m.logits_int8(&wave, &feats, &mut scratch, &mut q).unwrap();
    m.logits(&wave, &feats, &mut scratch, &mut f).unwrap();
    let (scale, zp) = m.output_quant();
    for (&q, &f) in q.iter().zip(&f) {
        assert_eq!((q as i32 - zp) as f32 * scale, f);
    }
    // Too many logits is an input error, not a panic.
    let mut many = [0.0f32; MAX_CLASSES + 1];
    assert!(m.logits(&wave, &feats, &mut scratch, &mut many).is_err());
    let n = m.layers().count();
    assert!(n > 0 && n <= MAX_LAYERS);
    assert_eq!(m.layers().last().unwrap().out_channels, info.n_classes);
    for l in m.layers() {
        if matches!(l.kind, LayerKind::Conv1d | LayerKind::Dense) {
            assert_eq!(l.channels.len(), 9 * l.out_channels);
            assert!(l.channel(l.out_channels - 1).is_some());
            assert!(l.channel(l.out_channels).is_none());
            assert!(!l.weights.is_empty());
        }
    }
    assert!(m.feature_norm(info.n_features - 1).is_some());
    assert!(m.feature_norm(info.n_features).is_none());
}
