//! CloudWatch Logs retention periods. Data only.
//!
//! Source: <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html>
//! (`retentionInDays` valid values). The AWS provider's `aws_cloudwatch_log_group.retention_in_days`
//! accepts the same values plus 0 ("never expire"), which tfgen never writes. Checked 2026-11-25.

/// The retention periods (days) CloudWatch Logs accepts, ascending.
pub const RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

pub fn valid_retention(days: i64) -> bool {
    u32::try_from(days).is_ok_and(|d| RETENTION_DAYS.contains(&d))
}

/// The accepted value nearest to `days` (ties go up), for "did you mean" help.
pub fn nearest_retention(days: i64) -> u32 {
    *RETENTION_DAYS
        .iter()
        .min_by_key(|&&d| (i64::from(d).abs_diff(days), std::cmp::Reverse(d)))
        .expect("non-empty table")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_values() {
        assert!(RETENTION_DAYS.windows(2).all(|w| w[0] < w[1]));
        assert!(valid_retention(30) && valid_retention(3653) && !valid_retention(45) && !valid_retention(0));
        assert!(!valid_retention(-1) && !valid_retention(i64::MAX));
        assert_eq!(nearest_retention(45), 60);
        assert_eq!(nearest_retention(10_000), 3653);
        // The extremes a spec can write: no overflow in the distance (it wrapped to 3653 for i64::MIN).
        assert_eq!(nearest_retention(i64::MIN), 1);
        assert_eq!(nearest_retention(i64::MAX), 3653);
    }
}
