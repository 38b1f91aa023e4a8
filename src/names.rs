//! Validated names (checked constructors), the one place AWS resource names are derived from them, and
//! [`fit`], which shortens a derived name that exceeds its AWS limit.
//!
//! This module does not know where a name came from; [`crate::sections`] and [`crate::resolve`] turn
//! failures into diagnostics.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

/// An agent's name: lowercase letters, digits and single hyphens, starting with a letter, at most 32 characters.
///
/// It becomes part of cluster, service, target-group, repository and log-group names, so it keeps to the
/// strictest of their character sets.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct AgentName(String);

impl AgentName {
    pub const MAX_LEN: usize = 32;

    pub fn new(name: &str) -> Result<Self, String> {
        check_dns_label(name, Self::MAX_LEN)?;
        Ok(Self(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AgentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An environment's name (`dev`, `prod`, `staging`): the prefix that keeps environments apart in one account.
///
/// At most [`EnvName::MAX_LEN`] (20) characters: the modules' own `name_prefix` validations allow 20, and
/// the names they build themselves, such as the ALB access-log bucket `<env>-alb-logs-<account>-<region>`,
/// fit their AWS limits with it (tested). Names tfgen derives in Rust that would exceed an AWS limit are
/// shortened by [`fit`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct EnvName(String);

impl EnvName {
    pub const MAX_LEN: usize = 20;

    pub fn new(name: &str) -> Result<Self, String> {
        check_dns_label(name, Self::MAX_LEN)?;
        Ok(Self(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EnvName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn check_dns_label(name: &str, max: usize) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if name.len() > max {
        return Err(format!("is {} characters long; the limit is {max}", name.len()));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("must start with a lowercase letter".into());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "contains `{bad}`; only lowercase letters, digits and `-` are allowed"
        ));
    }
    if name.ends_with('-') || name.contains("--") {
        return Err("must not end with `-` or contain `--`".into());
    }
    Ok(())
}

/// A kind of AWS name tfgen derives, with AWS's length limit for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    Cluster,
    Service,
    TargetGroup,
    LoadBalancer,
    Repository,
    LogGroup,
    TaskFamily,
    DbCluster,
    IamRole,
}

impl NameKind {
    pub fn limit(self) -> usize {
        match self {
            NameKind::Cluster | NameKind::Service | NameKind::TaskFamily => 255,
            NameKind::TargetGroup | NameKind::LoadBalancer => 32,
            NameKind::Repository => 256,
            NameKind::LogGroup => 512,
            NameKind::DbCluster => 63,
            NameKind::IamRole => 64,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            NameKind::Cluster => "ECS cluster name",
            NameKind::Service => "ECS service name",
            NameKind::TargetGroup => "target group name",
            NameKind::LoadBalancer => "load balancer name",
            NameKind::Repository => "ECR repository name",
            NameKind::LogGroup => "log group name",
            NameKind::TaskFamily => "task definition family",
            NameKind::DbCluster => "Aurora cluster identifier",
            NameKind::IamRole => "IAM role name",
        }
    }
}

/// The plan's names, qualified by the environment so that dev and prod can share an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentNames {
    pub cluster: String,
    pub service: String,
    pub target_group: String,
    pub repository: String,
    pub log_group: String,
    pub task_family: String,
    /// The agent's own IAM roles: no role serves two agents.
    pub task_role: String,
    pub execution_role: String,
    /// The agent's own security group.
    pub security_group: String,
}

impl AgentNames {
    /// `order-management` in `prod` → `prod-order-management-cluster`, `prod/order-management-agent`, …,
    /// each [`fit`] to its AWS limit (names that fit are unchanged). `tls`: the environment encrypts in
    /// transit, and its target groups speak HTTPS.
    pub fn derive(env: &EnvName, agent: &str, tls: bool) -> Self {
        let full = Self::full(env, agent, tls);
        let fitted = |kind: NameKind, name: String| fit(&name, kind.limit()).into_owned();
        Self {
            cluster: fitted(NameKind::Cluster, full.cluster),
            service: fitted(NameKind::Service, full.service),
            target_group: fitted(NameKind::TargetGroup, full.target_group),
            repository: fitted(NameKind::Repository, full.repository),
            log_group: fitted(NameKind::LogGroup, full.log_group),
            task_family: fitted(NameKind::TaskFamily, full.task_family),
            task_role: fitted(NameKind::IamRole, full.task_role),
            execution_role: fitted(NameKind::IamRole, full.execution_role),
            // Security group names may be 255 characters: an agent's always fits.
            security_group: full.security_group,
        }
    }

    /// The names as the plan spells them, before fitting (some may exceed AWS's limits).
    ///
    /// An HTTPS target group is `-tls`, not `-tg`: turning in-transit encryption on or off replaces every
    /// target group (protocol and port force it), and AWS refuses to create a group under the name of one
    /// still attached to a listener rule, so the new groups take another name and replace the old ones
    /// create-before-destroy.
    pub fn full(env: &EnvName, agent: &str, tls: bool) -> Self {
        Self {
            cluster: format!("{env}-{agent}-cluster"),
            service: format!("{env}-{agent}-service"),
            target_group: format!("{env}-{agent}-{}", if tls { "tls" } else { "tg" }),
            repository: format!("{env}/{agent}-agent"),
            log_group: format!("/aws/ecs/{env}/{agent}"),
            task_family: format!("{env}-{agent}"),
            task_role: format!("{env}-{agent}-task"),
            execution_role: format!("{env}-{agent}-execution"),
            security_group: format!("{env}-{agent}-agent"),
        }
    }

    pub fn all(&self) -> [(NameKind, &str); 8] {
        [
            (NameKind::Cluster, &self.cluster),
            (NameKind::Service, &self.service),
            (NameKind::TargetGroup, &self.target_group),
            (NameKind::Repository, &self.repository),
            (NameKind::LogGroup, &self.log_group),
            (NameKind::TaskFamily, &self.task_family),
            (NameKind::IamRole, &self.task_role),
            (NameKind::IamRole, &self.execution_role),
        ]
    }
}

/// Names shared by the whole environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvNames {
    pub alb: String,
    pub db_cluster: String,
}

impl EnvNames {
    /// The environment's names, each [`fit`] to its AWS limit (names that fit are unchanged).
    pub fn derive(env: &EnvName) -> Self {
        let full = Self::full(env);
        let name = |kind: NameKind, full: String| fit(&full, kind.limit()).into_owned();
        Self {
            alb: name(NameKind::LoadBalancer, full.alb),
            db_cluster: name(NameKind::DbCluster, full.db_cluster),
        }
    }

    /// The names as the plan spells them, before fitting.
    pub fn full(env: &EnvName) -> Self {
        Self {
            alb: format!("{env}-multi-agent-alb"),
            db_cluster: format!("{env}-multi-agent-db"),
        }
    }

    pub fn all(&self) -> [(NameKind, &str); 2] {
        [
            (NameKind::LoadBalancer, &self.alb),
            (NameKind::DbCluster, &self.db_cluster),
        ]
    }
}

/// Hex digits of the hash [`fit`] appends: 32 bits, so two long names of one kind collide with a
/// chance of about one in four billion per pair.
const HASH_DIGITS: usize = 8;

/// `name` if it is at most `limit` bytes long (unchanged, so that names that fit stay byte-identical and
/// nothing already deployed is replaced); otherwise its first `limit - 9` bytes (without a trailing `-`),
/// `-`, and 8 hex digits of the FNV-1a hash of the whole name. The result is deterministic, at most
/// `limit` long, and keeps to the characters of the name (plus lowercase hex digits and `-`).
///
/// Why FNV-1a, written here: the suffix becomes part of AWS resource names, so it must never change
/// between tfgen builds or Rust releases. `std`'s `DefaultHasher` promises no such stability, and FNV-1a
/// is a fixed, published algorithm (a few lines, with official test vectors) that needs no dependency. It
/// is not cryptographic, and needs not be: the names are not secrets, only distinct.
///
/// `limit` must leave room for the suffix and one character of the name (at least 10).
pub fn fit(name: &str, limit: usize) -> Cow<'_, str> {
    if name.len() <= limit {
        return Cow::Borrowed(name);
    }
    assert!(
        limit > HASH_DIGITS + 1,
        "a name limit of {limit} leaves no room for a hash suffix"
    );
    let mut keep = limit - HASH_DIGITS - 1;
    while !name.is_char_boundary(keep) {
        keep -= 1;
    }
    let head = name[..keep].trim_end_matches(['-', '_', '/', '.']);
    Cow::Owned(format!("{head}-{:08x}", fnv1a_32(name.as_bytes())))
}

/// The 32-bit FNV-1a hash (<http://www.isthe.com/chongo/tech/comp/fnv/>).
pub fn fnv1a_32(bytes: &[u8]) -> u32 {
    const OFFSET_BASIS: u32 = 0x811c_9dc5;
    const PRIME: u32 = 0x0100_0193;
    bytes
        .iter()
        .fold(OFFSET_BASIS, |hash, &b| (hash ^ u32::from(b)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a_32(b""), 0x811c_9dc5);
        assert_eq!(fnv1a_32(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a_32(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn names_that_fit_are_unchanged() {
        for (name, limit) in [
            ("prod-order-management-tg", 32),
            ("prod-multi-agent-alb", 32),
            ("dev-product-recommendation-tg", 32),
            ("", 32),
            (&"a".repeat(32), 32),
        ] {
            let fitted = fit(name, limit);
            assert!(matches!(fitted, Cow::Borrowed(_)), "{name}");
            assert_eq!(fitted, name);
        }
    }

    #[test]
    fn long_names_are_cut_to_the_limit_with_a_stable_hash_suffix() {
        let name = "staging-product-recommendation-tg";
        assert_eq!(name.len(), 33);
        let short = fit(name, 32);
        assert_eq!(short, "staging-product-recomme-0e048242");
        assert_eq!(short.len(), 32);
        assert_eq!(short, fit(name, 32), "deterministic");
        // A trailing hyphen of the cut is dropped, so the result never has `--`.
        let cut_at_hyphen = fit("qa-eu-west-1-order-management-tg", 22);
        assert!(
            cut_at_hyphen.starts_with("qa-eu-west-1-") && !cut_at_hyphen.contains("--"),
            "{cut_at_hyphen}"
        );
        assert_eq!(cut_at_hyphen.len(), 21);
    }

    #[test]
    fn shortened_names_stay_distinct_valid_and_within_limits() {
        let longest = "e".repeat(EnvName::MAX_LEN);
        let envs = ["staging", "qa-eu-west-1", "integration-testing", longest.as_str()];
        let agents = [
            "supervisor",
            "order-management",
            "product-recommendation",
            "personalization",
            "troubleshooting",
        ];
        let mut seen = std::collections::BTreeSet::new();
        for env in envs {
            for agent in agents {
                for limit in [32, 63, 64] {
                    let full = format!("{env}-{agent}-tg");
                    let short = fit(&full, limit);
                    assert!(short.len() <= limit, "{short}");
                    assert!(check_dns_label(&short, limit).is_ok(), "{short}");
                    assert!(seen.insert((limit, short.into_owned())), "{full} collides at {limit}");
                }
            }
        }
    }

    #[test]
    fn twenty_character_environment_names_are_valid() {
        assert!(EnvName::new("integration-testing1").is_ok());
        assert!(EnvName::new(&"e".repeat(EnvName::MAX_LEN)).is_ok());
        assert!(EnvName::new(&"e".repeat(EnvName::MAX_LEN + 1)).is_err());
    }

    #[test]
    fn agent_names_follow_aws_rules() {
        assert!(AgentName::new("order-management").is_ok());
        assert!(AgentName::new("Order").is_err());
        assert!(AgentName::new("9lives").is_err());
        assert!(AgentName::new("a--b").is_err());
        assert!(AgentName::new("a_b").is_err());
        assert!(AgentName::new(&"a".repeat(33)).is_err());
    }

    #[test]
    fn the_longest_environment_and_agent_names_give_names_within_limits() {
        let env = EnvName::new(&"e".repeat(EnvName::MAX_LEN)).unwrap();
        for (kind, name) in EnvNames::derive(&env).all() {
            assert!(name.len() <= kind.limit(), "{name} exceeds {}", kind.limit());
        }
        let agent = "a".repeat(AgentName::MAX_LEN);
        for (kind, name) in AgentNames::derive(&env, &agent, false).all() {
            assert!(name.len() <= kind.limit(), "{name} exceeds {}", kind.limit());
        }
    }

    /// Names the Terraform modules build from the environment's name themselves (not passed from Rust),
    /// with AWS's limits: with the longest environment name, a 12-digit account and the longest region
    /// tfgen knows, each fits. Each template is read, so a changed pattern fails here until listed again.
    #[test]
    fn names_built_in_the_modules_fit_with_the_longest_environment_name() {
        let env = "e".repeat(EnvName::MAX_LEN);
        let region = crate::aws::regions::REGIONS
            .iter()
            .map(|r| r.code)
            .max_by_key(|r| r.len())
            .unwrap();
        let account = "123456789012";
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("modules");
        for (file, pattern, limit) in [
            // S3 bucket names: 63.
            (
                "access_logs/main.tf",
                "${var.name_prefix}-alb-logs-${local.account_id}-${local.region}",
                63,
            ),
            // IAM role names: 64 (the agents' own roles are named in Rust and fitted).
            ("networking/flow_logs.tf", "${local.name}-flow-logs", 64),
            // Security group names: 255; SNS topics: 256; secrets: 512.
            ("networking/security_groups.tf", "${local.name}-alb", 255),
            ("monitoring/main.tf", "${var.name_prefix}-multi-agent-alarms", 256),
            ("secrets/main.tf", "${var.name_prefix}/multi-agent/api-keys", 512),
        ] {
            let text = std::fs::read_to_string(root.join(file)).unwrap();
            assert!(text.contains(pattern), "{file} no longer builds `{pattern}`");
            let name = pattern
                .replace("${var.name_prefix}", &env)
                .replace("${local.name}", &format!("{env}-multi-agent"))
                .replace("${local.account_id}", account)
                .replace("${local.region}", region);
            assert!(name.len() <= limit, "{file}: `{name}` is {} > {limit}", name.len());
        }
        // The modules' `name_prefix` validations accept the longest environment name.
        for file in ["networking/variables.tf", "access_logs/variables.tf"] {
            let text = std::fs::read_to_string(root.join(file)).unwrap();
            let rest = &text[text.find("[a-z0-9-]{0,").expect(file) + "[a-z0-9-]{0,".len()..];
            let max: usize = rest[..rest.find('}').unwrap()].parse().unwrap();
            assert_eq!(max + 1, EnvName::MAX_LEN, "{file} allows {} characters", max + 1);
        }
    }

    #[test]
    fn derived_names_match_the_plan_qualified_by_environment() {
        let names = AgentNames::derive(&EnvName::new("prod").unwrap(), "order-management", false);
        assert_eq!(names.cluster, "prod-order-management-cluster");
        assert_eq!(names.target_group, "prod-order-management-tg");
        assert_eq!(names.repository, "prod/order-management-agent");
        assert_eq!(names.log_group, "/aws/ecs/prod/order-management");
    }
}
