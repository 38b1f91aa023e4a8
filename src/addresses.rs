//! Terraform resource addresses of a generated tree, per instance, read back with hcl-rs.
//!
//! Used by `tfgen diff` (what would Terraform add, change or destroy) and by renames (which addresses
//! need `moved` blocks). It reads text only; it knows nothing about specs.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result};
use hcl::{Block, BlockLabel, Body, Expression};

use crate::vfs::Tree;

/// Resources (and module calls) that have one instance per agent, keyed by the agent's name.
/// A test renders the tree and checks that every `for_each` over agents is listed here.
///
/// The rules of the agent graph's edges (`agent_from_caller`, `caller_to_agent` in the networking module)
/// are keyed `"<caller>/<callee>"`, not by one agent: they are not listed, so a rename replaces them (a
/// security group rule holds no state) instead of moving them.
pub const AGENT_KEYED: [&str; 16] = [
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
];

/// Resource types whose destruction loses data or breaks what depends on them.
pub const STATEFUL_TYPES: [&str; 7] = [
    "aws_rds_cluster",
    "aws_rds_cluster_instance",
    "aws_ecr_repository",
    "aws_secretsmanager_secret",
    "aws_cloudwatch_log_group",
    "aws_kms_key",
    "aws_s3_bucket",
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

/// Every resource instance address of a tree → a fingerprint of its configuration.
///
/// Instances of agent-keyed resources are expanded with the agents of the root's `local.agents`, and
/// each one's fingerprint includes that agent's entry, so a one-agent change shows on that agent only.
/// Other `for_each`/`count` resources appear once, with `[*]`.
pub fn instances(tree: &Tree) -> Result<BTreeMap<String, String>> {
    let root = parse(tree, "main.tf")?;
    let agents = agents_local(&root);
    let mut calls: BTreeMap<String, String> = BTreeMap::new();
    for block in root.blocks().filter(|b| b.identifier() == "module") {
        let name = label(block, 0);
        let source = block
            .body()
            .attributes()
            .find(|a| a.key() == "source")
            .map(|a| expr_text(a.expr()));
        if let Some(source) = source {
            let dir = source.trim_matches('"').trim_start_matches("./").to_string();
            calls.insert(name, dir);
        }
    }
    let mut out = BTreeMap::new();
    for (path, text) in &tree.files {
        if !path.ends_with(".tf") {
            continue;
        }
        let module = calls
            .iter()
            .find(|(_, dir)| path.starts_with(&format!("{dir}/")))
            .map(|(n, _)| n.clone());
        let is_root = !path.contains('/');
        if !is_root && module.is_none() {
            continue;
        }
        let body: Body = hcl::parse(text).with_context(|| format!("parsing {path}"))?;
        for block in body.blocks().filter(|b| b.identifier() == "resource") {
            let base = format!("{}.{}", label(block, 0), label(block, 1));
            let repeated = block
                .body()
                .attributes()
                .any(|a| a.key() == "for_each" || a.key() == "count");
            let fingerprint = format!("{block:?}");
            let module_prefix = module.as_ref().map(|m| format!("module.{m}"));
            let full = match &module_prefix {
                Some(p) => format!("{p}.{base}"),
                None => base.clone(),
            };
            let module_keyed = module_prefix
                .as_ref()
                .is_some_and(|p| AGENT_KEYED.contains(&p.as_str()));
            if module_keyed || (repeated && AGENT_KEYED.contains(&full.as_str())) {
                for (key, entry) in &agents {
                    let address = match (&module_prefix, module_keyed) {
                        (Some(p), true) => format!("{p}[\"{key}\"].{base}"),
                        _ => format!("{full}[\"{key}\"]"),
                    };
                    out.insert(address, format!("{fingerprint}{entry}"));
                }
            } else {
                let address = if repeated { format!("{full}[*]") } else { full };
                out.insert(address, fingerprint);
            }
        }
    }
    Ok(out)
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

fn label(block: &Block, i: usize) -> String {
    match block.labels().get(i) {
        Some(BlockLabel::String(s)) => s.clone(),
        Some(BlockLabel::Identifier(id)) => id.to_string(),
        None => String::new(),
    }
}

/// `local.agents` of the root module: agent name → its entry, as text.
fn agents_local(root: &Body) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for locals in root.blocks().filter(|b| b.identifier() == "locals") {
        for attr in locals.body().attributes().filter(|a| a.key() == "agents") {
            if let Expression::Object(object) = attr.expr() {
                for (key, value) in object {
                    let key = key.to_string().trim_matches('"').to_string();
                    out.insert(key, format!("{value:?}"));
                }
            }
        }
    }
    out
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
