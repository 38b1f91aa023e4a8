//! The `README.md` render writes into every environment's tree: a Mermaid architecture diagram, the
//! inventory of what each module creates (names and sizes), and the monthly cost table.
//!
//! A pure function of the [`Model`] (and [`crate::cost`]'s estimate of it): the same model gives the same
//! bytes. It starts with [`MD_HEADER_MARK`], which is how [`crate::vfs::owned`] knows the file is tfgen's.
//! It writes no Terraform.

use std::fmt::Write as _;

use crate::cost;
use crate::model::Model;
use crate::sections::compute::Capacity;
use crate::sections::network::INTERFACE_ENDPOINTS;
use crate::vfs::{MD_HEADER_MARK, Tree};

/// The path of the generated README inside an environment's tree.
pub const README: &str = "README.md";

/// The README's machine-readable record of the monthly total, which `tfgen diff` compares against.
const TOTAL_MARK: &str = "<!-- tfgen monthly total USD: ";

/// The monthly total a tree's README recorded when it was rendered.
pub fn recorded_total(tree: &Tree) -> Option<f64> {
    let text = tree.get(README)?;
    let line = text.lines().find_map(|l| l.strip_prefix(TOTAL_MARK))?;
    line.trim_end_matches("-->").trim().parse().ok()
}

/// `tfgen diff`'s cost line: the total recorded in the tree on disk → the model's, and the change.
/// Empty when the model's region has no price table.
pub fn cost_change(on_disk: &Tree, model: &Model) -> String {
    match cost::estimate(model) {
        Ok(after) => cost::render_change(recorded_total(on_disk), &after),
        Err(_) => String::new(),
    }
}

/// The generated README of `model`'s environment.
pub fn readme(model: &Model) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{MD_HEADER_MARK} from {}. DO NOT EDIT: change the spec, then run `tfgen render {}`. -->\n",
        model.spec_file, model.env
    );
    if let Ok(e) = cost::estimate(model) {
        let _ = writeln!(out, "{TOTAL_MARK}{:.2} -->\n", e.total);
    }
    let _ = writeln!(out, "# Environment `{}` ({})\n", model.env, model.region);
    let _ = writeln!(
        out,
        "What `terraform apply` in this directory builds, and what it costs a month. tfgen writes this file \
         on every render, so each pull request shows the architecture and cost change beside the HCL diff.\n"
    );
    let _ = writeln!(out, "## Architecture\n\n```mermaid\n{}```\n", mermaid(model));
    let _ = writeln!(out, "## Inventory\n\n{}", inventory(model));
    let _ = writeln!(out, "## Monthly cost\n\n{}", cost_table(model));
    out
}

/// The Mermaid id of an agent's node.
fn agent_id(name: &str) -> String {
    format!("agent_{}", name.replace('-', "_"))
}

/// The architecture as a Mermaid flowchart: internet → WAF → ALB → path rules → agents → data services.
pub fn mermaid(model: &Model) -> String {
    let mut out = String::from("flowchart LR\n");
    let _ = writeln!(out, "  internet((Internet))");
    let front = if model.security.waf {
        let _ = writeln!(out, "  waf[\"WAF web ACL\"]");
        let _ = writeln!(out, "  internet --> waf");
        "waf"
    } else {
        "internet"
    };
    let _ = writeln!(out, "  alb[\"ALB {}\"]", model.names.alb);
    let _ = writeln!(out, "  {front} --> alb");
    let _ = writeln!(out, "  subgraph agents [ECS Fargate - one cluster per agent]");
    for a in &model.agents {
        let _ = writeln!(
            out,
            "    {}[\"{} × {} ({} vCPU, {} MiB)\"]",
            agent_id(a.name.as_str()),
            a.name,
            a.desired_count,
            f64::from(a.size.cpu) / 1024.0,
            a.size.memory
        );
    }
    let _ = writeln!(out, "  end");
    for a in &model.agents {
        let paths = a.paths.join(" ");
        let _ = writeln!(out, "  alb -->|\"{paths}\"| {}", agent_id(a.name.as_str()));
    }
    let _ = writeln!(
        out,
        "  aurora[(\"Aurora PostgreSQL {} ({} instance(s))\")]",
        model.database.engine_version, model.database.instances
    );
    let _ = writeln!(out, "  bedrock[\"Bedrock {}\"]", model.bedrock.profile_id);
    let _ = writeln!(out, "  secrets[\"Secrets Manager\"]");
    for a in &model.agents {
        let id = agent_id(a.name.as_str());
        let _ = writeln!(out, "  {id} --> aurora");
        let _ = writeln!(out, "  {id} --> bedrock");
        let _ = writeln!(out, "  {id} --> secrets");
    }
    out
}

/// What each module creates, with names and sizes.
pub fn inventory(model: &Model) -> String {
    let mut out = String::new();
    let n = &model.network;
    let nats = if n.single_nat_gateway { 1 } else { n.az_count };
    let list = |v: &[crate::cidr::Ipv4Cidr]| v.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    let _ = writeln!(out, "| Module | Creates |\n|---|---|");
    let mut networking = format!(
        "VPC {} in {} AZs; public subnets {}; private subnets {}; {nats} NAT gateway(s)",
        n.vpc_cidr,
        n.az_count,
        list(&n.public_subnets),
        list(&n.private_subnets)
    );
    if model.security.flow_logs {
        networking.push_str("; VPC flow logs");
    }
    if n.vpc_endpoints {
        let _ = write!(
            networking,
            "; interface endpoints for {} and an S3 gateway endpoint",
            INTERFACE_ENDPOINTS.join(", ")
        );
    }
    let _ = writeln!(out, "| networking | {networking} |");
    let listener = if model.alb.certificate_arn.is_some() { "HTTPS" } else { "HTTP" };
    let waf = if model.security.waf { "; WAF web ACL with 5 rules" } else { "" };
    let _ = writeln!(
        out,
        "| alb | load balancer `{}` ({listener}), {} target groups{waf} |",
        model.names.alb,
        model.agents.len()
    );
    for a in &model.agents {
        let capacity = match a.capacity {
            Capacity::OnDemand => "on-demand",
            Capacity::Spot => "Spot",
        };
        let _ = writeln!(
            out,
            "| ecs[\"{}\"] | cluster `{}`, service `{}`: {}-{} task(s) of {} CPU units / {} MiB, {capacity} {}; log group `{}` |",
            a.name,
            a.names.cluster,
            a.names.service,
            a.desired_count,
            a.max_count,
            a.size.cpu,
            a.size.memory,
            a.architecture.ecs_name(),
            a.names.log_group
        );
    }
    let repos: Vec<String> = model.agents.iter().map(|a| format!("`{}`", a.names.repository)).collect();
    let _ = writeln!(out, "| ecr | repositories {} |", repos.join(", "));
    let d = &model.database;
    let _ = writeln!(
        out,
        "| aurora | cluster `{}`: PostgreSQL {}, {} instance(s), {}-{} ACU, backups kept {} days |",
        model.names.db_cluster, d.engine_version, d.instances, d.min_acu, d.max_acu, d.backup_retention_days
    );
    let _ = writeln!(out, "| secrets | the API keys secret (the database secret is RDS-managed) |");
    let _ = writeln!(out, "| iam | execution role `{}`, task role |", model.names.execution_role);
    if model.security.kms {
        let _ = writeln!(out, "| kms | one customer-managed key, rotated yearly |");
    }
    if model.security.alb_access_logs {
        let _ = writeln!(out, "| access_logs | S3 bucket for load balancer access logs |");
    }
    let _ = writeln!(out, "| monitoring | SNS alarm topic; CPU, memory and task-count alarms per agent; ALB and database alarms |");
    out
}

/// The cost estimate as a Markdown table, or why there is none.
pub fn cost_table(model: &Model) -> String {
    let e = match cost::estimate(model) {
        Ok(e) => e,
        Err(why) => return format!("{why}.\n"),
    };
    let mut out = format!(
        "List prices in {} (USD, checked {}); `tfgen cost {}` shows every line and the usage assumptions.\n\n",
        e.region, e.prices_checked, model.env
    );
    let _ = writeln!(out, "| Component | Monthly |\n|---|---:|");
    for c in e.components() {
        let _ = writeln!(out, "| {c} | {} |", cost::money(e.subtotal(c)));
    }
    let _ = writeln!(out, "| **Total** | **{}** |", cost::money(e.total));
    out
}
