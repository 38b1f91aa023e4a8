//! Name rules and quotas for the AWS resources tfgen names or sizes: ALB and target groups, listener
//! rules, security groups, IAM roles, log groups, RDS identifiers, ECS services. Data and pure checks;
//! the sections report problems.
//!
//! Sources, checked 2026-11-25:
//! - ELB names and quotas: <https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html>,
//!   <https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html>,
//!   <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html>
//!   (rules per ALB 100 excluding defaults, condition values per rule 5, condition wildcards per rule 5,
//!   target groups per ALB 100, priority 1-50,000, path pattern up to 128 characters).
//! - Security groups: <https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups>
//!   (60 inbound and 60 outbound rules per group, 5 groups per network interface).
//! - IAM: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html> (role name 64,
//!   `[\w+=,.@-]`; inline policies per role 10,240 characters in total; managed policy 6,144).
//! - CloudWatch log group names: <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html> (1-512).
//! - RDS cluster identifier: <https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html> (1-63).
//! - ECS: <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html> (tasks per service 5,000; names 1-255).
//! - WAF rate-based rule limit: <https://docs.aws.amazon.com/waf/latest/APIReference/API_RateBasedStatement.html> (10-2,000,000,000).

/// Application Load Balancer and target group names.
pub const ELB_NAME_MAX: usize = 32;
/// Listener rules per ALB (all listeners, excluding default rules); an adjustable quota, default shown.
pub const ALB_RULES_PER_LOAD_BALANCER: usize = 100;
/// Condition values per listener rule (all conditions together).
pub const ALB_CONDITION_VALUES_PER_RULE: usize = 5;
/// `*` and `?` wildcards per listener rule.
pub const ALB_WILDCARDS_PER_RULE: usize = 5;
pub const ALB_PATH_PATTERN_MAX: usize = 128;
pub const ALB_RULE_PRIORITY: std::ops::RangeInclusive<u32> = 1..=50_000;
pub const ALB_TARGET_GROUPS_PER_LOAD_BALANCER: usize = 100;
/// Characters of a path-pattern condition value besides letters and digits (`*` and `?` are wildcards).
pub const ALB_PATH_PATTERN_CHARS: &str = "_-.$/~\"'@:+&*?";
/// A target group health check path (`HealthCheckPath`, 1-1,024 characters).
pub const ALB_HEALTH_CHECK_PATH_MAX: usize = 1024;
/// Characters tfgen allows in a health check path after the leading `/`. The ALB accepts more, but the
/// same path is the container health check's URL inside a `CMD-SHELL` command, so only URL path
/// characters that a shell takes literally. The `ecs` module's validation regex is this set (tests/module_facts.rs).
pub const HEALTH_CHECK_PATH_CHARS: &str = "/._~-";

/// Security group rules, per direction and group (adjustable; default shown).
pub const SG_INBOUND_RULES: usize = 60;
pub const SG_OUTBOUND_RULES: usize = 60;
pub const SG_PER_NETWORK_INTERFACE: usize = 5;

/// The most agents one environment can have: each agent adds one inbound rule to the tasks' security
/// group and one outbound rule to the load balancer's (the `networking` module keys them by port), and
/// one listener rule. (With a security group per agent, the inbound cap would move to the ALB's group.)
pub const MAX_AGENTS: usize = min(min(SG_INBOUND_RULES, SG_OUTBOUND_RULES), ALB_RULES_PER_LOAD_BALANCER);

const fn min(a: usize, b: usize) -> usize {
    if a < b { a } else { b }
}

pub const IAM_ROLE_NAME_MAX: usize = 64;
/// `name_prefix` of `aws_iam_role` (the provider appends a 26-character suffix).
pub const IAM_ROLE_NAME_PREFIX_MAX: usize = 38;
pub const IAM_INLINE_POLICIES_PER_ROLE_CHARS: usize = 10_240;
pub const IAM_MANAGED_POLICY_CHARS: usize = 6_144;

pub const LOG_GROUP_NAME_MAX: usize = 512;
pub const RDS_CLUSTER_IDENTIFIER_MAX: usize = 63;
pub const ECS_NAME_MAX: usize = 255;
pub const ECS_TASKS_PER_SERVICE: u32 = 5_000;
pub const WAF_RATE_LIMIT: std::ops::RangeInclusive<u64> = 10..=2_000_000_000;

/// An ALB or target group name: 1-32 letters, digits and hyphens, not starting or ending with a hyphen;
/// a load balancer's must not start with `internal-`.
pub fn elb_name(name: &str, load_balancer: bool) -> Result<(), String> {
    if name.is_empty() || name.len() > ELB_NAME_MAX {
        return Err(format!("must be 1-{ELB_NAME_MAX} characters (it has {})", name.len()));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err("may contain only letters, digits and hyphens".into());
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err("must not start or end with a hyphen".into());
    }
    if load_balancer && name.starts_with("internal-") {
        return Err("must not start with `internal-`".into());
    }
    Ok(())
}

/// An IAM role name: 1-64 of letters, digits and `+=,.@_-`.
pub fn iam_role_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > IAM_ROLE_NAME_MAX {
        return Err(format!(
            "must be 1-{IAM_ROLE_NAME_MAX} characters (it has {})",
            name.len()
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
    {
        return Err("may contain only letters, digits and + = , . @ _ -".into());
    }
    Ok(())
}

/// An RDS DB cluster identifier: 1-63 lowercase letters, digits and single hyphens, starting with a
/// letter and not ending with a hyphen.
pub fn rds_cluster_identifier(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > RDS_CLUSTER_IDENTIFIER_MAX {
        return Err(format!(
            "must be 1-{RDS_CLUSTER_IDENTIFIER_MAX} characters (it has {})",
            id.len()
        ));
    }
    if !id.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("must start with a lowercase letter".into());
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("may contain only lowercase letters, digits and hyphens".into());
    }
    if id.ends_with('-') || id.contains("--") {
        return Err("must not end with a hyphen or contain two in a row".into());
    }
    Ok(())
}

/// A listener rule's path pattern: starts with `/`, at most 128 characters of letters, digits and
/// [`ALB_PATH_PATTERN_CHARS`].
pub fn alb_path_pattern(p: &str) -> bool {
    p.starts_with('/')
        && p.len() <= ALB_PATH_PATTERN_MAX
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || ALB_PATH_PATTERN_CHARS.contains(c))
}

/// A health check path: `/` then letters, digits and [`HEALTH_CHECK_PATH_CHARS`], at most 1,024 characters.
pub fn health_check_path(p: &str) -> bool {
    p.starts_with('/')
        && p.len() <= ALB_HEALTH_CHECK_PATH_MAX
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || HEALTH_CHECK_PATH_CHARS.contains(c))
}

/// Wildcards (`*`, `?`) in a set of path patterns of one rule.
pub fn wildcards(patterns: &[&str]) -> usize {
    patterns
        .iter()
        .map(|p| p.bytes().filter(|b| matches!(b, b'*' | b'?')).count())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elb_names() {
        assert!(elb_name("prod-supervisor-tg", false).is_ok());
        assert!(elb_name(&"a".repeat(32), true).is_ok());
        assert!(elb_name(&"a".repeat(33), true).is_err());
        assert!(elb_name("-x", false).is_err() && elb_name("x-", false).is_err());
        assert!(elb_name("a_b", false).is_err() && elb_name("", false).is_err());
        assert!(elb_name("internal-x", true).is_err() && elb_name("internal-x", false).is_ok());
    }

    #[test]
    fn iam_and_rds_names() {
        assert!(iam_role_name("prod-supervisor-task").is_ok());
        assert!(iam_role_name(&"r".repeat(65)).is_err() && iam_role_name("a b").is_err());
        assert!(rds_cluster_identifier("prod-aurora").is_ok());
        for bad in ["", "1db", "Db", "a--b", "a-", &"a".repeat(64)] {
            assert!(rds_cluster_identifier(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn paths() {
        assert!(alb_path_pattern("/order/*") && alb_path_pattern("/a?b") && !alb_path_pattern("x"));
        assert!(!alb_path_pattern(&format!("/{}", "a".repeat(128))) && !alb_path_pattern("/x y"));
        assert!(health_check_path("/health") && health_check_path("/") && health_check_path("/a/b.c_d~e-f"));
        for bad in ["health", "", "/h?x=1", "/a b", "/$(id)", "/a;b", "/a&b"] {
            assert!(!health_check_path(bad), "{bad}");
        }
        assert_eq!(MAX_AGENTS, 60);
    }

    #[test]
    fn wildcard_count() {
        assert_eq!(wildcards(&["/order/*", "/a?/*"]), 3);
    }
}
