//! Terraform resource addresses of a generated tree, per instance, read back with hcl-rs.
//!
//! Used by renames (which addresses need `moved` blocks) and by the plan prediction (which instances
//! are stateful, where `moved` blocks carry state). It reads text only; it knows nothing about specs.

use anyhow::{Context as _, Result};
use hcl::{Body, Expression};

use crate::vfs::Tree;

/// Resources (and module calls) that have one instance per agent, keyed by the agent's name.
/// A test renders the tree and checks that every `for_each` over agents is listed here.
///
/// The rules of the agent graph's edges (`agent_from_caller`, `caller_to_agent` in the networking module)
/// are keyed `"<caller>/<callee>"`, not by one agent: they are not listed, so a rename replaces them (a
/// security group rule holds no state) instead of moving them.
pub const AGENT_KEYED: [&str; 17] = [
    "module.ecs",
    "module.iam",
    "module.networking.aws_security_group.agent",
    "module.networking.aws_vpc_security_group_ingress_rule.agent_from_alb",
    "module.networking.aws_vpc_security_group_egress_rule.alb_to_agent",
    "module.networking.aws_vpc_security_group_egress_rule.agent_https",
    "module.networking.aws_vpc_security_group_egress_rule.agent_to_db",
    "module.networking.aws_vpc_security_group_ingress_rule.db_from_agent",
    "module.alb.aws_lb_target_group.this",
    "module.alb.aws_lb_listener_rule.this",
    "module.ecr.aws_ecr_repository.this",
    "module.ecr.aws_ecr_lifecycle_policy.this",
    "module.monitoring.aws_cloudwatch_log_metric_filter.db_connection_failures",
    "module.monitoring.aws_cloudwatch_metric_alarm.ecs_cpu_high",
    "module.monitoring.aws_cloudwatch_metric_alarm.ecs_memory_high",
    "module.monitoring.aws_cloudwatch_metric_alarm.ecs_running_tasks_low",
    "module.monitoring.aws_cloudwatch_metric_alarm.ecs_healthy_tasks_low",
];

/// Resource types whose destruction loses data or breaks what depends on them.
pub const STATEFUL_TYPES: [&str; 8] = [
    "aws_rds_cluster",
    "aws_rds_cluster_instance",
    "aws_ecr_repository",
    "aws_secretsmanager_secret",
    "aws_cloudwatch_log_group",
    "aws_kms_key",
    "aws_s3_bucket",
    "aws_backup_vault",
];

/// `module.ecr.aws_ecr_repository.this["supervisor"]` → is it a stateful resource type?
pub fn is_stateful(address: &str) -> bool {
    resource_type(address).is_some_and(|t| STATEFUL_TYPES.contains(&t))
}

fn resource_type(address: &str) -> Option<&str> {
    // Skip `module.NAME[...]` segments; the next segment is the type.
    let mut rest = address;
    while let Some(after) = rest.strip_prefix("module.") {
        let end = after.find('.').map_or(after.len(), |i| i + 1);
        let name_and_key = &after[..end];
        // A key may contain dots only inside quotes; agent names cannot.
        rest = &after[name_and_key.len()..];
    }
    rest.split('.').next().filter(|s| !s.is_empty())
}

/// The `moved` blocks a tree declares, as (from, to) address text.
pub fn moved_blocks(tree: &Tree) -> Result<Vec<(String, String)>> {
    let root = parse(tree, "main.tf")?;
    Ok(root
        .blocks()
        .filter(|b| b.identifier() == "moved")
        .map(|b| {
            let get = |k: &str| {
                b.body()
                    .attributes()
                    .find(|a| a.key() == k)
                    .map(|a| expr_text(a.expr()))
                    .unwrap_or_default()
            };
            (get("from"), get("to"))
        })
        .collect())
}

fn parse(tree: &Tree, path: &str) -> Result<Body> {
    let text = tree.get(path).with_context(|| format!("the tree has no {path}"))?;
    hcl::parse(text).with_context(|| format!("parsing {path}"))
}

/// An expression as HCL text (addresses in `moved`, `source` strings).
fn expr_text(expr: &Expression) -> String {
    hcl::format::to_string(expr).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_stateful_addresses() {
        assert!(is_stateful("module.aurora.aws_rds_cluster.this"));
        assert!(is_stateful("module.ecs[\"supervisor\"].aws_cloudwatch_log_group.this"));
        assert!(is_stateful("module.ecr.aws_ecr_repository.this[\"supervisor\"]"));
        assert!(!is_stateful("module.ecs[\"supervisor\"].aws_ecs_service.this"));
    }
}
