use super::*;

#[test]
fn builds_at_supported_rates() {
    for fs in [125.0, 250.0, 360.0, 500.0, 1000.0] {
        assert!(QrsDetector::new(QrsConfig::new(fs)).is_ok(), "fs={fs}");
    }
    assert!(QrsDetector::new(QrsConfig::new(100.0)).is_err());
}
