//! Validated names (checked constructors) and the one place AWS resource names are derived from them.
//!
//! This module does not know where a name came from; [`crate::sections`] and [`crate::resolve`] turn
//! failures into diagnostics.

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
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct EnvName(String);

impl EnvName {
    pub const MAX_LEN: usize = 12;

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
}

impl AgentNames {
    /// `order-management` in `prod` → `prod-order-management-cluster`, `prod/order-management-agent`, ….
    pub fn derive(env: &EnvName, agent: &str) -> Self {
        Self {
            cluster: format!("{env}-{agent}-cluster"),
            service: format!("{env}-{agent}-service"),
            target_group: format!("{env}-{agent}-tg"),
            repository: format!("{env}/{agent}-agent"),
            log_group: format!("/aws/ecs/{env}/{agent}"),
            task_family: format!("{env}-{agent}"),
        }
    }

    pub fn all(&self) -> [(NameKind, &str); 6] {
        [
            (NameKind::Cluster, &self.cluster),
            (NameKind::Service, &self.service),
            (NameKind::TargetGroup, &self.target_group),
            (NameKind::Repository, &self.repository),
            (NameKind::LogGroup, &self.log_group),
            (NameKind::TaskFamily, &self.task_family),
        ]
    }
}

/// Names shared by the whole environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvNames {
    pub alb: String,
    pub db_cluster: String,
    pub execution_role: String,
}

impl EnvNames {
    pub fn derive(env: &EnvName) -> Self {
        Self {
            alb: format!("{env}-multi-agent-alb"),
            db_cluster: format!("{env}-multi-agent-db"),
            execution_role: format!("{env}-multi-agent-ecs-execution"),
        }
    }

    pub fn all(&self) -> [(NameKind, &str); 3] {
        [
            (NameKind::LoadBalancer, &self.alb),
            (NameKind::DbCluster, &self.db_cluster),
            (NameKind::IamRole, &self.execution_role),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_names_follow_aws_rules() {
        assert!(AgentName::new("order-management").is_ok());
        assert!(AgentName::new("Order").is_err());
        assert!(AgentName::new("9lives").is_err());
        assert!(AgentName::new("a--b").is_err());
        assert!(AgentName::new("a_b").is_err());
        assert!(AgentName::new(&"a".repeat(33)).is_err());
    }

    /// Why only agents' derived names are checked for length: any valid environment name fits.
    #[test]
    fn the_longest_environment_name_gives_names_within_limits() {
        let env = EnvName::new(&"e".repeat(EnvName::MAX_LEN)).unwrap();
        for (kind, name) in EnvNames::derive(&env).all() {
            assert!(name.len() <= kind.limit(), "{name} exceeds {}", kind.limit());
        }
    }

    #[test]
    fn derived_names_match_the_plan_qualified_by_environment() {
        let names = AgentNames::derive(&EnvName::new("prod").unwrap(), "order-management");
        assert_eq!(names.cluster, "prod-order-management-cluster");
        assert_eq!(names.target_group, "prod-order-management-tg");
        assert_eq!(names.repository, "prod/order-management-agent");
        assert_eq!(names.log_group, "/aws/ecs/prod/order-management");
    }
}
