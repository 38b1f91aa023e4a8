//! Facts about AWS that the checks rely on, kept in one place: regions, Bedrock inference profiles,
//! Aurora engine versions. Update this file when AWS changes; nothing else hard-codes these lists.
//!
//! This module holds data and lookups only; it reports nothing.

/// The model the plan names (Claude 3.7 Sonnet). A legacy model on Bedrock now, still the default.
pub const DEFAULT_MODEL: &str = "anthropic.claude-3-7-sonnet-20250219-v1:0";

/// A Bedrock cross-region inference profile geography.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileGroup {
    /// The prefix of profile IDs, e.g. `eu` for `eu.anthropic.claude-…`.
    pub prefix: &'static str,
    /// Regions a request can be routed to (and from which the profile can be invoked).
    pub regions: &'static [&'static str],
}

pub const PROFILE_GROUPS: [ProfileGroup; 3] = [
    ProfileGroup {
        prefix: "us",
        regions: &["us-east-1", "us-east-2", "us-west-2"],
    },
    ProfileGroup {
        prefix: "eu",
        regions: &["eu-central-1", "eu-north-1", "eu-west-1", "eu-west-3"],
    },
    ProfileGroup {
        prefix: "apac",
        regions: &[
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
        ],
    },
];

/// Foundation models tfgen knows, with the profile geographies that offer them.
/// A model not listed here is accepted with a warning: its profile availability cannot be checked.
pub const KNOWN_MODELS: [(&str, &[&str]); 5] = [
    ("anthropic.claude-3-7-sonnet-20250219-v1:0", &["us", "eu", "apac"]),
    ("anthropic.claude-3-5-sonnet-20241022-v2:0", &["us", "apac"]),
    ("anthropic.claude-sonnet-4-20250514-v1:0", &["us", "eu", "apac"]),
    ("anthropic.claude-3-5-haiku-20241022-v1:0", &["us"]),
    ("anthropic.claude-3-haiku-20240307-v1:0", &["us", "eu", "apac"]),
];

/// A commercial AWS region and whether the RDS Data API is offered there for Aurora PostgreSQL.
pub struct Region {
    pub name: &'static str,
    pub data_api: bool,
}

/// Commercial regions tfgen can deploy to. The Data API column follows the RDS documentation's
/// "Region and version availability" table for Aurora PostgreSQL Serverless v2.
pub const REGIONS: [Region; 29] = [
    Region {
        name: "us-east-1",
        data_api: true,
    },
    Region {
        name: "us-east-2",
        data_api: true,
    },
    Region {
        name: "us-west-1",
        data_api: true,
    },
    Region {
        name: "us-west-2",
        data_api: true,
    },
    Region {
        name: "ca-central-1",
        data_api: true,
    },
    Region {
        name: "ca-west-1",
        data_api: false,
    },
    Region {
        name: "sa-east-1",
        data_api: true,
    },
    Region {
        name: "eu-central-1",
        data_api: true,
    },
    Region {
        name: "eu-central-2",
        data_api: false,
    },
    Region {
        name: "eu-north-1",
        data_api: true,
    },
    Region {
        name: "eu-south-1",
        data_api: true,
    },
    Region {
        name: "eu-south-2",
        data_api: false,
    },
    Region {
        name: "eu-west-1",
        data_api: true,
    },
    Region {
        name: "eu-west-2",
        data_api: true,
    },
    Region {
        name: "eu-west-3",
        data_api: true,
    },
    Region {
        name: "ap-east-1",
        data_api: true,
    },
    Region {
        name: "ap-northeast-1",
        data_api: true,
    },
    Region {
        name: "ap-northeast-2",
        data_api: true,
    },
    Region {
        name: "ap-northeast-3",
        data_api: true,
    },
    Region {
        name: "ap-south-1",
        data_api: true,
    },
    Region {
        name: "ap-south-2",
        data_api: true,
    },
    Region {
        name: "ap-southeast-1",
        data_api: true,
    },
    Region {
        name: "ap-southeast-2",
        data_api: true,
    },
    Region {
        name: "ap-southeast-3",
        data_api: true,
    },
    Region {
        name: "ap-southeast-4",
        data_api: false,
    },
    Region {
        name: "af-south-1",
        data_api: true,
    },
    Region {
        name: "me-south-1",
        data_api: true,
    },
    Region {
        name: "me-central-1",
        data_api: false,
    },
    Region {
        name: "il-central-1",
        data_api: false,
    },
];

pub fn region(name: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|r| r.name == name)
}

/// The profile geography a source region belongs to, if any.
pub fn profile_group_for_region(region: &str) -> Option<&'static ProfileGroup> {
    PROFILE_GROUPS.iter().find(|g| g.regions.contains(&region))
}

pub fn profile_group_by_prefix(prefix: &str) -> Option<&'static ProfileGroup> {
    PROFILE_GROUPS.iter().find(|g| g.prefix == prefix)
}

/// Splits `eu.anthropic.…` into (`eu` group, `anthropic.…`); `None` for a bare foundation model ID.
pub fn split_profile(id: &str) -> Option<(&'static ProfileGroup, &str)> {
    let (prefix, model) = id.split_once('.')?;
    profile_group_by_prefix(prefix).map(|g| (g, model))
}

/// The geographies known to offer a profile for `model`, or `None` when tfgen does not know the model.
pub fn model_geographies(model: &str) -> Option<&'static [&'static str]> {
    KNOWN_MODELS.iter().find(|(m, _)| *m == model).map(|(_, g)| *g)
}

/// The retention periods (days) CloudWatch Logs accepts.
pub const LOG_RETENTION_CHOICES: [i64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/// The default engine version: Aurora PostgreSQL's long-term-support minor of major 15.
pub const DEFAULT_ENGINE_VERSION: &str = "15.10";

/// The lowest version with the RDS Data API on Serverless v2 (Aurora PostgreSQL).
pub const DATA_API_MIN_VERSION: (u32, u32) = (15, 3);

/// Aurora PostgreSQL versions that can be created today and support Serverless v2 and the Data API.
/// 15.3 was the plan's choice; AWS no longer lets new clusters use it.
pub const CREATABLE_ENGINE_VERSIONS: [&str; 24] = [
    "13.18", "13.20", "13.21", "14.13", "14.15", "14.17", "14.18", "15.6", "15.7", "15.8", "15.10", "15.12", "15.13",
    "15.14", "16.3", "16.4", "16.6", "16.8", "16.9", "16.10", "17.4", "17.5", "17.6", "17.7",
];

/// `"15.10"` → `(15, 10)`.
pub fn parse_version(v: &str) -> Option<(u32, u32)> {
    let (major, minor) = v.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_map_to_profile_groups() {
        assert_eq!(profile_group_for_region("eu-west-1").unwrap().prefix, "eu");
        assert_eq!(profile_group_for_region("us-east-1").unwrap().prefix, "us");
        assert_eq!(profile_group_for_region("ap-south-2").unwrap().prefix, "apac");
        assert!(profile_group_for_region("sa-east-1").is_none());
        for group in PROFILE_GROUPS {
            for r in group.regions {
                assert!(region(r).is_some(), "{r} missing from REGIONS");
            }
        }
    }

    #[test]
    fn default_engine_version_is_creatable_and_has_the_data_api() {
        assert!(CREATABLE_ENGINE_VERSIONS.contains(&DEFAULT_ENGINE_VERSION));
        assert!(parse_version(DEFAULT_ENGINE_VERSION).unwrap() >= DATA_API_MIN_VERSION);
        assert!(!CREATABLE_ENGINE_VERSIONS.contains(&"15.3"));
    }
}
