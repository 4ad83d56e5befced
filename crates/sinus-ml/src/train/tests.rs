use super::*;

#[test]
fn feature_stats_and_normalisation() {
    let d = TrainData::new(
        vec![],
        vec![1.0, 5.0, 3.0, 5.0],
        vec![0, 1],
        0,
        0,
        2,
        vec!['a', 'b'],
    )
    .unwrap();
    let (m, s) = feature_stats(&d);
    assert_eq!(m, vec![2.0, 5.0]);
    assert_eq!(
        s,
        vec![1.0, 1.0],
        "sd 1, and a constant feature keeps scale 1"
    );
    assert_eq!(normalised_features(&d, &m, &s), vec![-1.0, 0.0, 1.0, 0.0]);
}

#[test]
fn bad_data_is_rejected() {
    let classes = vec!['a', 'b'];
    assert!(TrainData::new(vec![0.0; 5], vec![], vec![0, 1], 1, 3, 0, classes.clone()).is_err());
    assert!(TrainData::new(vec![], vec![0.0; 3], vec![0, 1], 0, 0, 2, classes.clone()).is_err());
    assert!(TrainData::new(vec![], vec![0.0; 2], vec![0, 2], 0, 0, 1, classes.clone()).is_err());
    assert!(TrainData::new(vec![], vec![f32::NAN], vec![0], 0, 0, 1, classes.clone()).is_err());
    let d = TrainData::new(vec![], vec![0.0, 1.0], vec![0, 1], 0, 0, 1, classes).unwrap();
    let arch = ArchConfig::rr_dense(1, &[4], &['a', 'b']);
    let cfg = TrainConfig {
        epochs: 1,
        ..TrainConfig::default()
    };
    assert!(train(&arch, &d, &d, &cfg, &mut |_| {}).is_ok());
    let wrong = ArchConfig::rr_dense(2, &[4], &['a', 'b']);
    assert!(train(&wrong, &d, &d, &cfg, &mut |_| {}).is_err());
    let bad_weights = TrainConfig {
        class_weights: vec![1.0],
        ..cfg.clone()
    };
    assert!(train(&arch, &d, &d, &bad_weights, &mut |_| {}).is_err());
}

#[test]
fn host_loss_matches_definition() {
    // logits (0, ln 3): p = (1/4, 3/4).
    let z = [0.0f32, 3f32.ln()];
    assert!((host_loss(&z, 1, Loss::CrossEntropy) - (4.0f64 / 3.0).ln()).abs() < 1e-6);
    let focal = host_loss(&z, 0, Loss::Focal { gamma: 2.0 });
    assert!((focal - 0.75f64.powi(2) * 4f64.ln()).abs() < 1e-6);
}

#[test]
fn select_keeps_rows() {
    let d = TrainData::new(
        vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        vec![10.0, 20.0, 30.0],
        vec![0, 1, 0],
        1,
        2,
        1,
        vec!['a', 'b'],
    )
    .unwrap();
    let s = d.select(&[2, 0, 9]);
    assert_eq!(s.waveforms, vec![5.0, 6.0, 1.0, 2.0]);
    assert_eq!(s.features, vec![30.0, 10.0]);
    assert_eq!(s.labels, vec![0, 0]);
    assert_eq!(d.class_counts(), vec![2, 1]);
}
