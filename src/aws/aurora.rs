//! Aurora PostgreSQL facts: engine versions (parse and order), which can be created, which have the RDS
//! Data API (by version and by Region), which can scale to zero ACUs, and the Serverless v2 capacity
//! rules. Pure lookups; the database section's check reports problems.
//!
//! Sources, checked 2026-11-25:
//! - Data API: <https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.Aurora_Fea_Regions_DB-eng.Feature.Data_API.html>
//!   ("Data API with Aurora PostgreSQL Serverless v2 and provisioned": 13.11+, 14.8+, 15.3+, 16.1+, 17.4+,
//!   18.3+; Hyderabad, Melbourne and New Zealand "Not available").
//! - Scale to zero (min 0 ACU, auto-pause):
//!   <https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2-auto-pause.html> and
//!   <https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.how-it-works.html#aurora-serverless-v2.how-it-works.capacity>
//!   (13.15+, 14.12+, 15.7+, 16.3+, every 17 and 18 release).
//! - Capacity: <https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ServerlessV2ScalingConfiguration.html>
//!   (0.5-ACU steps, max 256; min 0 only where auto-pause is supported; SecondsUntilAutoPause 300-86,400).
//! - Cluster shape: <https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Replication.html>
//!   (a writer and up to 15 Aurora Replicas) and
//!   <https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html> (`BackupRetentionPeriod` 1-35).
//! - Enhanced Monitoring: <https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html>
//!   (`MonitoringInterval` 0, 1, 5, 10, 15, 30, 60).
//! - Point-in-time restore: <https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aur-pitr.html>
//!   (the latest restorable time is typically within 5 minutes of the current time).
//! - Creatable versions: <https://docs.aws.amazon.com/AmazonRDS/latest/AuroraPostgreSQLReleaseNotes/aurorapostgresql-release-calendar.html>
//!   and `aws rds describe-db-engine-versions --engine aurora-postgresql` (15.3 can no longer be created).

use std::fmt;

use super::regions;

/// How far behind now the latest restorable time of a cluster typically is, in minutes: the recovery point
/// objective of a point-in-time restore in the cluster's own Region.
pub const PITR_LAG_MINUTES: u32 = 5;

/// `MAJOR.MINOR` of Aurora PostgreSQL, ordered numerically (15.10 > 15.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EngineVersion {
    pub major: u32,
    pub minor: u32,
}

impl EngineVersion {
    pub const fn new(major: u32, minor: u32) -> Self {
        Self { major, minor }
    }

    /// `"15.10"` → 15.10. No patch part, no leading zeros, no sign.
    pub fn parse(text: &str) -> Option<Self> {
        let (major, minor) = text.split_once('.')?;
        let num = |s: &str| {
            let canonical = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
            canonical.then(|| s.parse::<u32>().ok()).flatten()
        };
        Some(Self::new(num(major)?, num(minor)?))
    }
}

impl fmt::Display for EngineVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

const fn v(major: u32, minor: u32) -> EngineVersion {
    EngineVersion::new(major, minor)
}

/// The default engine version: creatable, with the Data API and scale to zero.
pub const DEFAULT_ENGINE_VERSION: EngineVersion = v(15, 10);

/// The first version of each major with the Data API (Serverless v2 and provisioned).
pub const DATA_API_MINIMUMS: &[EngineVersion] = &[v(13, 11), v(14, 8), v(15, 3), v(16, 1), v(17, 4), v(18, 3)];

/// Commercial Regions where AWS lists the Data API for Aurora PostgreSQL as "Not available".
pub const DATA_API_UNAVAILABLE: &[&str] = &[
    "ap-south-2",
    "ap-southeast-4",
    "ap-southeast-6",
    "ca-west-1",
    "eu-central-2",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
    "mx-central-1",
];

/// The first version of each major whose Serverless v2 instances can scale to 0 ACUs.
pub const SCALE_TO_ZERO_MINIMUMS: &[EngineVersion] = &[v(13, 15), v(14, 12), v(15, 7), v(16, 3), v(17, 4), v(18, 3)];

/// Versions new clusters can be created with (Serverless v2 capable). 15.3, the plan's choice, is gone.
pub const CREATABLE: &[EngineVersion] = &[
    v(13, 18),
    v(13, 20),
    v(13, 21),
    v(14, 13),
    v(14, 15),
    v(14, 17),
    v(14, 18),
    v(15, 6),
    v(15, 7),
    v(15, 8),
    v(15, 10),
    v(15, 12),
    v(15, 13),
    v(15, 14),
    v(16, 3),
    v(16, 4),
    v(16, 6),
    v(16, 8),
    v(16, 9),
    v(16, 10),
    v(17, 4),
    v(17, 5),
    v(17, 6),
    v(17, 7),
];

/// Serverless v2 capacity: steps, bounds, and the auto-pause delay range (seconds).
pub const ACU_STEP: f64 = 0.5;
pub const MAX_ACU: f64 = 256.0;
/// The lowest minimum without auto-pause.
pub const MIN_ACU_WITHOUT_PAUSE: f64 = 0.5;
/// The lowest maximum capacity AWS accepts (`MaxCapacity` "minimum 1").
pub const MIN_MAX_ACU: f64 = 1.0;
pub const AUTO_PAUSE_SECONDS: std::ops::RangeInclusive<u32> = 300..=86_400;
/// Instances per cluster: the writer and up to 15 replicas.
pub const INSTANCES: std::ops::RangeInclusive<i64> = 1..=16;
/// Automated backup retention, days.
pub const BACKUP_RETENTION_DAYS: std::ops::RangeInclusive<i64> = 1..=35;
/// With Performance Insights on, AWS recommends a minimum capacity of at least this many ACUs, and says a
/// lower minimum may not be reached: the instance can stay above it. Source: Amazon Aurora User Guide,
/// "Choosing the minimum Aurora Serverless v2 capacity setting for a cluster"; checked 2026-12-07.
pub const PERFORMANCE_INSIGHTS_MIN_ACU: f64 = 2.0;
/// Enhanced Monitoring intervals, seconds (0 turns it off).
pub const MONITORING_INTERVALS: &[i64] = &[0, 1, 5, 10, 15, 30, 60];

fn at_least(minimums: &[EngineVersion], version: EngineVersion) -> Result<(), Option<EngineVersion>> {
    match minimums.iter().find(|m| m.major == version.major) {
        Some(min) if version >= *min => Ok(()),
        Some(min) => Err(Some(*min)),
        None => Err(None),
    }
}

/// Why the Data API is not available.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoDataApi {
    /// The major has it from `min` on.
    TooOld { min: EngineVersion },
    /// No version of this major has it.
    Major,
    /// AWS does not offer it in the Region.
    Region,
}

/// Whether a cluster of `version` in `region` has the RDS Data API.
pub fn data_api(version: EngineVersion, region: &str) -> Result<(), NoDataApi> {
    if DATA_API_UNAVAILABLE.contains(&region) || regions::region(region).is_none() {
        return Err(NoDataApi::Region);
    }
    data_api_version(version)
}

/// Whether `version` has the RDS Data API in the Regions that offer it.
pub fn data_api_version(version: EngineVersion) -> Result<(), NoDataApi> {
    at_least(DATA_API_MINIMUMS, version).map_err(|min| min.map_or(NoDataApi::Major, |min| NoDataApi::TooOld { min }))
}

/// A list of minimums for messages and the README: "13.11+, 14.8+, …".
pub fn minimums_text(minimums: &[EngineVersion]) -> String {
    let parts: Vec<String> = minimums.iter().map(|m| format!("{m}+")).collect();
    parts.join(", ")
}

/// Regions with the Data API, for messages and the README.
pub fn data_api_regions() -> Vec<&'static str> {
    regions::codes().filter(|r| !DATA_API_UNAVAILABLE.contains(r)).collect()
}

pub fn creatable(version: EngineVersion) -> bool {
    CREATABLE.contains(&version)
}

/// `Err(Some(min))`: scale to zero needs `min` or later; `Err(None)`: not in this major.
pub fn scale_to_zero(version: EngineVersion) -> Result<(), Option<EngineVersion>> {
    at_least(SCALE_TO_ZERO_MINIMUMS, version)
}

/// A capacity value is a multiple of 0.5 within 0-256 (0 only as a minimum with auto-pause).
pub fn valid_acu(x: f64) -> bool {
    x.is_finite() && (0.0..=MAX_ACU).contains(&x) && (x / ACU_STEP).fract() == 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> EngineVersion {
        EngineVersion::parse(s).unwrap()
    }

    #[test]
    fn versions_parse_and_order_numerically() {
        assert!(p("15.10") > p("15.3"));
        assert_eq!(p("14.17").to_string(), "14.17");
        for bad in ["15", "15.", ".3", "15.3.1", "a.b", "015.3", "15.03", "-1.2", "+1.2", ""] {
            assert!(EngineVersion::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn data_api_follows_aws_table() {
        // The findings: 14.17 and 14.13 have it; Hyderabad does not.
        assert_eq!(data_api(p("14.17"), "eu-west-1"), Ok(()));
        assert_eq!(data_api(p("14.13"), "eu-west-1"), Ok(()));
        assert_eq!(data_api(p("13.11"), "us-east-1"), Ok(()));
        assert_eq!(
            data_api(p("13.10"), "us-east-1"),
            Err(NoDataApi::TooOld { min: p("13.11") })
        );
        assert_eq!(
            data_api(p("17.3"), "us-east-1"),
            Err(NoDataApi::TooOld { min: p("17.4") })
        );
        assert_eq!(data_api(p("12.20"), "us-east-1"), Err(NoDataApi::Major));
        assert_eq!(data_api(p("15.10"), "ap-south-2"), Err(NoDataApi::Region));
        assert_eq!(data_api(p("15.10"), "ap-southeast-4"), Err(NoDataApi::Region));
        assert!(data_api_regions().contains(&"ap-south-1"));
        for r in DATA_API_UNAVAILABLE {
            assert!(regions::region(r).is_some(), "{r}");
        }
    }

    #[test]
    fn creatable_versions_have_the_data_api() {
        assert!(creatable(DEFAULT_ENGINE_VERSION));
        assert!(!creatable(p("15.3")));
        assert!(CREATABLE.windows(2).all(|w| w[0] < w[1]), "sorted, no duplicates");
        for version in CREATABLE {
            assert_eq!(data_api(*version, "us-east-1"), Ok(()), "{version}");
        }
        assert_eq!(scale_to_zero(DEFAULT_ENGINE_VERSION), Ok(()));
    }

    #[test]
    fn scale_to_zero_minimums() {
        assert_eq!(scale_to_zero(p("13.15")), Ok(()));
        assert_eq!(scale_to_zero(p("14.11")), Err(Some(p("14.12"))));
        assert_eq!(scale_to_zero(p("15.6")), Err(Some(p("15.7"))));
        assert_eq!(scale_to_zero(p("16.3")), Ok(()));
        assert_eq!(scale_to_zero(p("17.4")), Ok(()));
        assert_eq!(scale_to_zero(p("12.9")), Err(None));
    }

    #[test]
    fn capacity_values() {
        for ok in [0.0, 0.5, 1.0, 2.5, 256.0] {
            assert!(valid_acu(ok), "{ok}");
        }
        for bad in [-0.5, 0.75, 256.5, f64::NAN, f64::INFINITY] {
            assert!(!valid_acu(bad), "{bad}");
        }
    }
}
