//! Commercial AWS Regions tfgen can deploy to: display name and the Availability Zones a new account
//! can use. Data only; Bedrock and Data API availability per Region live in [`super::bedrock`] and
//! [`super::aurora`].
//!
//! Source: <https://aws.amazon.com/about-aws/global-infrastructure/regions_az/> and
//! <https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html>
//! (AZ counts as `aws ec2 describe-availability-zones` reports them to a new account: us-west-1 shows 2,
//! ap-northeast-1 shows 3). Checked 2026-11-25.

/// A commercial Region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub code: &'static str,
    pub name: &'static str,
    /// Availability Zones a new account can place subnets in.
    pub azs: u8,
    /// Opt-in Regions must be enabled in the account before use.
    pub opt_in: bool,
}

const fn r(code: &'static str, name: &'static str, azs: u8, opt_in: bool) -> Region {
    Region {
        code,
        name,
        azs,
        opt_in,
    }
}

/// Every commercial Region (GovCloud and China are separate partitions and not supported).
pub const REGIONS: &[Region] = &[
    r("us-east-1", "US East (N. Virginia)", 6, false),
    r("us-east-2", "US East (Ohio)", 3, false),
    r("us-west-1", "US West (N. California)", 2, false),
    r("us-west-2", "US West (Oregon)", 4, false),
    r("af-south-1", "Africa (Cape Town)", 3, true),
    r("ap-east-1", "Asia Pacific (Hong Kong)", 3, true),
    r("ap-east-2", "Asia Pacific (Taipei)", 3, true),
    r("ap-south-1", "Asia Pacific (Mumbai)", 3, false),
    r("ap-south-2", "Asia Pacific (Hyderabad)", 3, true),
    r("ap-southeast-1", "Asia Pacific (Singapore)", 3, false),
    r("ap-southeast-2", "Asia Pacific (Sydney)", 3, false),
    r("ap-southeast-3", "Asia Pacific (Jakarta)", 3, true),
    r("ap-southeast-4", "Asia Pacific (Melbourne)", 3, true),
    r("ap-southeast-5", "Asia Pacific (Malaysia)", 3, true),
    r("ap-southeast-6", "Asia Pacific (New Zealand)", 3, true),
    r("ap-southeast-7", "Asia Pacific (Thailand)", 3, true),
    r("ap-northeast-1", "Asia Pacific (Tokyo)", 3, false),
    r("ap-northeast-2", "Asia Pacific (Seoul)", 4, false),
    r("ap-northeast-3", "Asia Pacific (Osaka)", 3, false),
    r("ca-central-1", "Canada (Central)", 3, false),
    r("ca-west-1", "Canada West (Calgary)", 3, true),
    r("eu-central-1", "Europe (Frankfurt)", 3, false),
    r("eu-central-2", "Europe (Zurich)", 3, true),
    r("eu-north-1", "Europe (Stockholm)", 3, false),
    r("eu-south-1", "Europe (Milan)", 3, true),
    r("eu-south-2", "Europe (Spain)", 3, true),
    r("eu-west-1", "Europe (Ireland)", 3, false),
    r("eu-west-2", "Europe (London)", 3, false),
    r("eu-west-3", "Europe (Paris)", 3, false),
    r("il-central-1", "Israel (Tel Aviv)", 3, true),
    r("me-central-1", "Middle East (UAE)", 3, true),
    r("me-south-1", "Middle East (Bahrain)", 3, true),
    r("mx-central-1", "Mexico (Central)", 3, true),
    r("sa-east-1", "South America (São Paulo)", 3, false),
];

/// The Region with this code, if it is a commercial Region.
pub fn region(code: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|r| r.code == code)
}

/// Every Region code, in table order.
pub fn codes() -> impl Iterator<Item = &'static str> {
    REGIONS.iter().map(|r| r.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = std::collections::BTreeSet::new();
        for r in REGIONS {
            assert!(seen.insert(r.code), "{} twice", r.code);
            let parts: Vec<&str> = r.code.split('-').collect();
            assert_eq!(parts.len(), 3, "{}", r.code);
            assert!(parts[2].parse::<u8>().is_ok(), "{}", r.code);
            assert!(
                r.azs >= 2,
                "{} has fewer than the two AZs an ALB and a DB subnet group need",
                r.code
            );
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(region("us-west-1").unwrap().azs, 2);
        assert_eq!(region("us-east-1").unwrap().azs, 6);
        assert!(region("cn-north-1").is_none());
        assert!(region("us-gov-west-1").is_none());
        assert_eq!(codes().count(), REGIONS.len());
    }
}
