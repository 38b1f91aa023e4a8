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
use crate::sections::network::{INTERFACE_ENDPOINTS, Nat};
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
pub fn readme(
    model: &Model,
    reach: &crate::reach::Graph,
    access: &crate::access::Report,
    levers: &[cost::levers::Lever],
) -> String {
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
    let _ = writeln!(
        out,
        "## Who can reach whom\n\nComputed by `tfgen reach` from the security groups in this directory, not from the spec. `tls` marks a connection this directory encrypts (an HTTPS listener or target group, Service Connect TLS, `rds.force_ssl`):\n\n```text\n{reach}```\n"
    );
    let _ = writeln!(out, "## Who may do what\n\n{}", crate::access::who_may(access));
    let _ = writeln!(out, "## Inventory\n\n{}", inventory(model));
    let _ = writeln!(out, "## Monthly cost\n\n{}", cost_table(model));
    let saving: Vec<&cost::levers::Lever> = levers
        .iter()
        .filter(|l| l.monthly_change.is_some_and(|c| c < 0.0))
        .take(3)
        .collect();
    if !saving.is_empty() {
        let _ = writeln!(
            out,
            "The three biggest savings this spec allows, each alone (`tfgen cost {} --levers` lists every lever):
",
            model.env
        );
        for l in saving {
            let c = l.monthly_change.unwrap_or_default();
            let _ = writeln!(out, "- `{}`: -{} a month; {}", l.setting, cost::money(-c), l.effect);
        }
        out.push('\n');
    }
    if let Some(b) = &model.budget {
        let _ = writeln!(
            out,
            "Budget: ${} a month ({}), in AWS Budgets on the costs tagged `{}`; the alarm topic hears when the \
             month's forecast or actual spend passes it. Activate the tag as a cost-allocation tag once, or the \
             budget counts nothing.\n",
            b.monthly_usd, b.basis, b.tag_filter
        );
    }
    out
}

/// The Mermaid id of an agent's node.
fn agent_id(name: &str) -> String {
    format!("agent_{}", name.replace('-', "_"))
}

/// "Spot", or "1 on-demand + 50% Spot" for an agent with an on-demand base or share.
fn spot_words(a: &crate::sections::agents::Agent) -> String {
    match (a.on_demand_base, a.spot_percent) {
        (0, 100) => "Spot".to_string(),
        (0, p) => format!("{p}% Spot"),
        (b, 100) => format!("{b} on-demand + Spot"),
        (b, p) => format!("{b} on-demand + {p}% Spot"),
    }
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
        let capacity = match a.capacity {
            Capacity::OnDemand => String::new(),
            Capacity::Spot => format!(", {}", spot_words(a)),
        };
        let _ = writeln!(
            out,
            "    {}[\"{} × {} ({} vCPU, {} MiB, {}{capacity})\"]",
            agent_id(a.name.as_str()),
            a.name,
            a.desired_count,
            f64::from(a.size.cpu) / 1024.0,
            a.size.memory,
            a.architecture.ecs_name()
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
        for callee in &a.calls {
            let port = model.agents.iter().find(|c| &c.name == callee).map_or(0, |c| c.port);
            let _ = writeln!(
                out,
                "  {} -->|\"calls :{port}\"| {}",
                agent_id(a.name.as_str()),
                agent_id(callee.as_str())
            );
        }
    }
    for a in &model.agents {
        let id = agent_id(a.name.as_str());
        if a.uses_database {
            let _ = writeln!(out, "  {id} --> aurora");
        }
        let _ = writeln!(out, "  {id} --> bedrock");
        let _ = writeln!(out, "  {id} --> secrets");
    }
    out
}

/// What each module creates, with names and sizes.
pub fn inventory(model: &Model) -> String {
    let mut out = String::new();
    let n = &model.network;
    let nat = match n.nat {
        Nat::Instance => "a NAT instance (t4g.nano)".to_string(),
        Nat::Single => "1 NAT gateway".to_string(),
        Nat::PerAz => format!("{} NAT gateways", n.az_count),
    };
    let list = |v: &[crate::cidr::Ipv4Cidr]| v.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    let _ = writeln!(out, "| Module | Creates |\n|---|---|");
    let mut networking = format!(
        "VPC {} in {} AZs; public subnets {}; private subnets {}; {nat}",
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
    let listener = if model.alb.certificate_arn.is_some() {
        "HTTPS"
    } else {
        "HTTP"
    };
    let waf = if model.security.waf {
        format!("; WAF web ACL with {} rules", cost::WAF_RULES)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "| alb | load balancer `{}` ({listener}), {} target groups{waf} |",
        model.names.alb,
        model.agents.len()
    );
    for a in &model.agents {
        let capacity = match a.capacity {
            Capacity::OnDemand => "on-demand".to_string(),
            Capacity::Spot => spot_words(a),
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
    let repos: Vec<String> = model
        .agents
        .iter()
        .map(|a| format!("`{}`", a.names.repository))
        .collect();
    let _ = writeln!(out, "| ecr | repositories {} |", repos.join(", "));
    let d = &model.database;
    let _ = writeln!(
        out,
        "| aurora | cluster `{}`: PostgreSQL {}, {} instance(s), {}-{} ACU, backups kept {} days |",
        model.names.db_cluster, d.engine_version, d.instances, d.min_acu, d.max_acu, d.backup_retention_days
    );
    let _ = writeln!(
        out,
        "| secrets | the API keys secret, and one secret per database agent ({}); the master user's secret is RDS-managed |",
        model.bootstrap.agents.len()
    );
    let _ = writeln!(
        out,
        "| iam | per agent: its own task role and execution role (e.g. `{}`) |",
        model.agents.first().map_or("", |a| a.names.execution_role.as_str())
    );
    if model.security.kms {
        let _ = writeln!(out, "| kms | one customer-managed key, rotated yearly |");
    }
    if model.security.in_transit_encryption {
        let ca = if model.security.private_ca_arn.is_some() {
            "the shared private CA of `[security] private_ca_arn`"
        } else {
            "a root private CA in short-lived certificate mode"
        };
        let _ = writeln!(
            out,
            "| service_connect_tls | {ca} and the ECS role that has it issue each agent's Service Connect certificate |"
        );
    }
    if model.security.alb_access_logs {
        let _ = writeln!(out, "| access_logs | S3 bucket for load balancer access logs |");
    }
    let tasks = if model.alarms.container_insights {
        "running-task alarms (Container Insights)"
    } else {
        "healthy-task alarms (load balancer health checks)"
    };
    let _ = writeln!(
        out,
        "| monitoring | SNS alarm topic; CPU, memory and {tasks} per agent; ALB, database and Bedrock alarms; a dashboard{} |",
        if model.budget.is_some() {
            "; the monthly cost budget"
        } else {
            ""
        }
    );
    for r in &model.ecr.replicas {
        let _ = writeln!(
            out,
            "| {} | {}: the creation template of the image replicas (lifecycle rules, immutable tags, AES256) and their scan on push |",
            r.alias, r.region
        );
    }
    if let Some(dr) = &model.dr {
        let _ = writeln!(
            out,
            "| backup_copy_key, backup_copy | {}: the key and vault that receive a copy of each daily recovery point, kept {} days |",
            dr.region, dr.copy_retention_days
        );
    }
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

#[cfg(test)]
mod tests {
    /// The generated README of a compiled spec ends its cost section with the three biggest savings and
    /// the budget.
    #[test]
    fn the_readme_lists_three_savings_and_the_budget() {
        let inputs = crate::load::Inputs::from_text(
            "dev",
            "region = \"us-east-1\"\nsizing = \"dev\"\nimage_tag = \"1.0.0\"\n",
            AGENTS,
            crate::load::Overrides::default(),
        );
        let compiled = crate::compile(&inputs).unwrap_or_else(|e| panic!("{e:?}"));
        let readme = compiled.tree.get(README).unwrap();
        let at = readme.find("The three biggest savings").expect("a savings list");
        let bullets = readme[at..].lines().filter(|l| l.starts_with("- `")).count();
        assert_eq!(bullets, 3, "{readme}");
        let budget = compiled.model.budget.as_ref().unwrap();
        assert!(
            readme.contains(&format!("Budget: ${} a month", budget.monthly_usd)),
            "{readme}"
        );
    }

    use super::*;
    use crate::load::{Inputs, Overrides};
    use std::collections::BTreeSet;

    const AGENTS: &str = include_str!("../environments/agents.toml");

    fn model(env: &str) -> Model {
        let text = std::fs::read_to_string(format!("{}/environments/{env}.toml", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let inputs = Inputs::from_text(env, &text, AGENTS, Overrides::default());
        crate::validate_spec(&inputs).unwrap().0
    }

    fn is_id(s: &str) -> bool {
        s.starts_with(|c: char| c.is_ascii_alphabetic()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    }

    /// A node's text after its id: `["…"]`, `((…))`, `[("…")]` or `[plain]`, without stray quotes or brackets.
    fn is_shape(s: &str) -> bool {
        let quoted = |inner: &str| {
            inner.len() >= 2
                && inner.starts_with('"')
                && inner.ends_with('"')
                && !inner[1..inner.len() - 1].contains('"')
        };
        if let Some(inner) = s.strip_prefix("[(").and_then(|r| r.strip_suffix(")]")) {
            return quoted(inner);
        }
        if let Some(inner) = s.strip_prefix("((").and_then(|r| r.strip_suffix("))")) {
            return !inner.is_empty() && !inner.contains(['(', ')', '"']);
        }
        if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            return quoted(inner) || (!inner.is_empty() && !inner.contains(['[', ']', '(', ')', '"']));
        }
        false
    }

    /// A structural check of the Mermaid constructs tfgen writes: `flowchart LR`, node definitions, edges
    /// with optional quoted labels, and subgraphs. Two kinds of rule, kept apart in the tests: what
    /// Mermaid's parser rejects (a quote inside a quoted label, a subgraph without `end`), and tfgen's own
    /// rules, which Mermaid does not enforce: every edge's ends are defined (with their label) before use,
    /// since Mermaid draws an undefined end as a bare id node (`agent_order` instead of the agent's name),
    /// and ids are not redefined. It is not Mermaid's parser. Returns the edges.
    fn check_mermaid(text: &str) -> Result<Vec<(String, String)>, String> {
        let mut lines = text.lines();
        if lines.next() != Some("flowchart LR") {
            return Err("the first line must be `flowchart LR`".into());
        }
        let mut defined = BTreeSet::new();
        let mut edges = Vec::new();
        let mut depth = 0usize;
        for (n, line) in lines.enumerate() {
            let l = line.trim();
            let at = |why: &str| format!("line {}: {why}: {line}", n + 2);
            if l == "end" {
                depth = depth.checked_sub(1).ok_or_else(|| at("`end` without `subgraph`"))?;
            } else if let Some(rest) = l.strip_prefix("subgraph ") {
                let (id, title) = rest
                    .split_once(' ')
                    .ok_or_else(|| at("a subgraph needs an id and a title"))?;
                if !is_id(id) || !is_shape(title) || !defined.insert(id.to_string()) {
                    return Err(at("bad subgraph"));
                }
                depth += 1;
            } else if let Some((from, rest)) = l.split_once(" -->") {
                let to = if let Some(labelled) = rest.strip_prefix("|\"") {
                    let (label, to) = labelled
                        .split_once("\"| ")
                        .ok_or_else(|| at("unterminated edge label"))?;
                    if label.contains(['"', '|']) {
                        return Err(at("quote or bar inside an edge label"));
                    }
                    to
                } else {
                    rest.strip_prefix(' ').ok_or_else(|| at("bad edge"))?
                };
                for end in [from, to] {
                    if !is_id(end) || !defined.contains(end) {
                        return Err(at(&format!("`{end}` is used before it is defined")));
                    }
                }
                edges.push((from.to_string(), to.to_string()));
            } else {
                let split = l
                    .find(['[', '('])
                    .ok_or_else(|| at("neither a node, an edge nor a subgraph"))?;
                let (id, shape) = l.split_at(split);
                if !is_id(id) || !is_shape(shape) {
                    return Err(at("bad node definition"));
                }
                if !defined.insert(id.to_string()) {
                    return Err(at("node defined twice"));
                }
            }
        }
        if depth != 0 {
            return Err("a subgraph is not closed".into());
        }
        Ok(edges)
    }

    /// Mermaid's parser rejects these: a quote inside a quoted label, a subgraph that never ends.
    #[test]
    fn the_checker_rejects_what_mermaid_rejects() {
        assert!(
            check_mermaid("flowchart LR\n  a[\"A \"x\" \"]\n").is_err(),
            "quote in a label"
        );
        assert!(
            check_mermaid("flowchart LR\n  subgraph s [S]\n  a[\"A\"]\n").is_err(),
            "unclosed"
        );
    }

    /// Mermaid accepts these (it draws an undefined end as a node named by its id, and a self-edge as a
    /// loop); tfgen's diagrams never have them, so the checker refuses them as tfgen's own rules.
    #[test]
    fn the_checker_holds_tfgens_own_rules() {
        assert!(
            check_mermaid("flowchart LR\n  a[\"A\"]\n  a --> b\n").is_err(),
            "an end without a label"
        );
        assert!(
            check_mermaid("flowchart LR\n  a --> a\n").is_err(),
            "used before defined"
        );
        assert!(
            check_mermaid("graph\n").is_err(),
            "tfgen's diagrams are left-to-right flowcharts"
        );
        let ok = "flowchart LR\n  a((A))\n  subgraph s [S]\n    b[(\"B\")]\n  end\n  a -->|\"/x/*\"| b\n";
        assert_eq!(check_mermaid(ok).unwrap(), [("a".to_string(), "b".to_string())]);
    }

    #[test]
    fn the_diagram_parses_and_routes_every_agent() {
        for env in ["dev", "prod"] {
            let m = model(env);
            let edges = check_mermaid(&mermaid(&m)).unwrap_or_else(|e| panic!("{env}: {e}"));
            let has = |a: &str, b: &str| edges.iter().any(|(x, y)| x == a && y == b);
            if m.security.waf {
                assert!(has("internet", "waf") && has("waf", "alb"), "{env}");
            } else {
                assert!(
                    has("internet", "alb") && !edges.iter().any(|(_, y)| y == "waf"),
                    "{env}"
                );
            }
            for a in &m.agents {
                let id = agent_id(a.name.as_str());
                for to in ["bedrock", "secrets"] {
                    assert!(has(&id, to), "{env}: {id} → {to}");
                }
                assert_eq!(has(&id, "aurora"), a.uses_database, "{env}: {id} → aurora");
                assert!(has("alb", &id), "{env}: alb → {id}");
                for callee in &a.calls {
                    assert!(has(&id, &agent_id(callee.as_str())), "{env}: {id} calls {callee}");
                }
            }
        }
    }

    #[test]
    fn the_readme_is_deterministic_and_carries_the_header_and_total() {
        let m = model("dev");
        let reach = crate::reach::declared(&m);
        let access = crate::access::Report::default();
        let text = readme(&m, &reach, &access, &[]);
        assert_eq!(text, readme(&m.clone(), &reach, &access, &[]));
        assert!(text.starts_with("<!-- Generated by tfgen from environments/dev.toml. DO NOT EDIT"));
        let mut tree = Tree::default();
        tree.insert(README, text.clone());
        let total = cost::estimate(&m).unwrap().total;
        assert!((recorded_total(&tree).unwrap() - total).abs() < 0.005);
        assert!(text.contains(&format!("| **Total** | **{}** |", cost::money(total))));
        assert!(text.contains("dev-multi-agent-db") && text.contains("dev/supervisor-agent"));
        assert_eq!(
            cost_change(&tree, &m),
            format!("monthly cost: {} (no change)\n", cost::money(total))
        );
    }

    #[test]
    fn the_inventory_names_the_nat_and_the_task_alarms_the_spec_chose() {
        let dev = inventory(&model("dev"));
        assert!(dev.contains("; a NAT instance (t4g.nano);"), "{dev}");
        assert!(
            dev.contains("healthy-task alarms (load balancer health checks)"),
            "{dev}"
        );
        assert!(dev.contains("one secret per database agent (4)"), "{dev}");
        let prod = inventory(&model("prod"));
        assert!(prod.contains("; 2 NAT gateways;"), "{prod}");
        let mut m = model("prod");
        m.alarms.container_insights = true;
        assert!(inventory(&m).contains("running-task alarms (Container Insights)"));
    }
}
