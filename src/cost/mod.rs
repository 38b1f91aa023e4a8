//! `tfgen cost`: a monthly estimate of an environment from its resolved [`Model`] and the embedded list
//! prices of its region ([`prices`]). Line items grouped by component, the usage assumptions of `[cost]`,
//! a total; text, JSON and Markdown views.
//!
//! A pure function of the model: no AWS API, no plan, no credentials. It does not price what depends on
//! what the agents do (Bedrock tokens) or what costs cents (S3 access-log objects): the notes say so.

pub mod levers;
pub mod prices;

use std::fmt::Write as _;

use serde::Serialize;

use crate::aws::aurora;
use crate::model::Model;
use crate::sections::compute::{Architecture, Capacity};
use crate::sections::network::{INTERFACE_ENDPOINTS, Nat};
use prices::Prices;

/// The rules of the WAF web ACL in `modules/alb/waf.tf` (a test counts them in the template).
pub const WAF_RULES: u32 = 5;
/// Alarms the monitoring module creates once per environment: ALB 5xx rate, Bedrock throttling,
/// database connection failures, Aurora ACU utilisation.
pub const ENV_ALARMS: u32 = 4;
/// Alarms per agent: CPU high, memory high (plus running-tasks-low when it runs tasks), and the two
/// alarms each of its two target-tracking policies (CPU, memory) creates. `tests/inventory.rs` holds
/// these counts to the instances of the rendered trees.
pub const AGENT_ALARMS: u32 = 6;
/// Secrets besides the agents' own: the API keys secret, and the Aurora master user secret that RDS
/// manages. Each agent with `[agent.database]` adds its own.
pub const ENV_SECRETS: u32 = 2;
/// The root volume of the NAT instance (`modules/networking/nat_instance.tf`; a test reads it there).
pub const NAT_INSTANCE_VOLUME_GB: u32 = 8;
/// Dashboards: the environment's one CloudWatch dashboard.
pub const DASHBOARDS: u32 = 1;

/// One priced line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    pub component: &'static str,
    pub item: String,
    pub quantity: f64,
    pub unit: &'static str,
    pub unit_price: f64,
    pub monthly: f64,
}

/// One usage assumption, as `[cost]` names it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assumption {
    pub key: &'static str,
    pub value: f64,
    pub meaning: &'static str,
}

/// An environment's monthly estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub env: String,
    pub region: String,
    pub currency: &'static str,
    pub prices_checked: &'static str,
    pub lines: Vec<Line>,
    pub total: f64,
    pub assumptions: Vec<Assumption>,
    pub notes: Vec<String>,
    /// GB a month through the NAT gateways above which VPC interface endpoints cost less.
    pub endpoint_break_even_gb: f64,
    /// The environment's AWS Budgets limit (`[budget]`), whole USD a month, if it has one.
    pub budget_usd: Option<u32>,
}

impl Estimate {
    /// The sum of one component's lines.
    pub fn subtotal(&self, component: &str) -> f64 {
        self.lines
            .iter()
            .filter(|l| l.component == component)
            .map(|l| l.monthly)
            .sum()
    }

    /// The components, in the order their lines appear.
    pub fn components(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for l in &self.lines {
            if !out.contains(&l.component) {
                out.push(l.component);
            }
        }
        out
    }
}

/// The estimate of `model` at its region's list prices; an error names the priced regions.
pub fn estimate(model: &Model) -> Result<Estimate, String> {
    let p = prices::for_region(&model.region).ok_or_else(|| {
        format!(
            "tfgen has no price table for {}; priced regions: {}",
            model.region,
            prices::priced_regions().join(", ")
        )
    })?;
    Ok(estimate_with(model, p))
}

/// The estimate of `model` at the prices `p` (any region's table, e.g. us-east-1 for a comparison).
#[allow(clippy::many_single_char_names)] // p(rice), b(uilder), u(sage), h(ours), d(atabase): read as a formula
pub fn estimate_with(model: &Model, p: &Prices) -> Estimate {
    let mut b = Builder::default();
    let u = &model.cost;
    let h = u.hours_per_month;
    let azs = f64::from(model.network.az_count);

    for agent in &model.agents {
        let (on_demand, spot) = agent.placement().split(agent.desired_count);
        let arch = agent.architecture;
        let (od_vcpu, od_gb, spot_vcpu, spot_gb) = match arch {
            Architecture::Arm64 => (
                p.fargate_arm_vcpu_hour,
                p.fargate_arm_gb_hour,
                p.fargate_spot_arm_vcpu_hour,
                p.fargate_spot_arm_gb_hour,
            ),
            Architecture::X86_64 => (
                p.fargate_x86_vcpu_hour,
                p.fargate_x86_gb_hour,
                p.fargate_spot_vcpu_hour,
                p.fargate_spot_gb_hour,
            ),
        };
        let vcpu = f64::from(agent.size.cpu) / 1024.0;
        let gb = f64::from(agent.size.memory) / 1024.0;
        let arch = match arch {
            Architecture::Arm64 => "ARM64",
            Architecture::X86_64 => "x86_64",
        };
        for (tasks, kind, vcpu_price, gb_price) in [
            (on_demand, "on-demand", od_vcpu, od_gb),
            (spot, "Spot", spot_vcpu, spot_gb),
        ] {
            // An on-demand agent has no Spot lines; a Spot agent always shows its Spot lines.
            if tasks == 0.0 && (kind == "on-demand" || agent.capacity == Capacity::OnDemand) {
                continue;
            }
            let who = format!("{}: {} task(s), {kind} {arch}", agent.name, quantity(tasks));
            b.line(
                "Compute (ECS Fargate)",
                format!("{who}, {vcpu} vCPU each"),
                tasks * vcpu * h,
                "vCPU-hour",
                vcpu_price,
            );
            b.line(
                "Compute (ECS Fargate)",
                format!("{who}, {gb} GB each"),
                tasks * gb * h,
                "GB-hour",
                gb_price,
            );
        }
    }

    // Service Connect registers every running task as a Cloud Map service instance.
    let instances: u32 = model.agents.iter().map(|a| a.desired_count).sum();
    b.line(
        "Compute (ECS Fargate)",
        format!("Service Connect: Cloud Map service instances (one per task, {instances})"),
        f64::from(instances),
        "instance-month",
        p.cloud_map_instance_month,
    );

    let net = "Network";
    let (nat_gb, endpoint_gb) = if model.network.vpc_endpoints {
        (0.0, u.nat_gb)
    } else {
        (u.nat_gb, 0.0)
    };
    let instance = model.network.nat == Nat::Instance;
    let nats = if instance {
        1.0
    } else {
        f64::from(model.network.nat.gateways(model.network.az_count))
    };
    if instance {
        b.line(
            net,
            "NAT instance (t4g.nano; no data processing charge)".to_string(),
            h,
            "hour",
            p.nat_instance_hour,
        );
        b.line(
            net,
            format!("NAT instance root volume ({NAT_INSTANCE_VOLUME_GB} GB gp3)"),
            f64::from(NAT_INSTANCE_VOLUME_GB),
            "GB-month",
            p.ebs_gp3_gb_month,
        );
    } else {
        b.line(net, format!("NAT gateways ({nats})"), nats * h, "hour", p.nat_hour);
        b.line(net, "NAT data processed (nat_gb)".to_string(), nat_gb, "GB", p.nat_gb);
    }
    let nat_kind = if instance { "NAT instance" } else { "NAT" };
    b.line(
        net,
        format!("public IPv4: {nats} {nat_kind} + {azs} load balancer"),
        (nats + azs) * h,
        "IP-hour",
        p.public_ipv4_hour,
    );
    let endpoints = f64::from(u32::try_from(INTERFACE_ENDPOINTS.len()).unwrap_or(u32::MAX));
    if model.network.vpc_endpoints {
        b.line(
            net,
            format!("interface endpoints ({endpoints} services × {azs} AZs)"),
            endpoints * azs * h,
            "endpoint-hour",
            p.endpoint_hour,
        );
        b.line(
            net,
            "interface endpoint data (nat_gb)".to_string(),
            endpoint_gb,
            "GB",
            p.endpoint_gb,
        );
    }
    b.line(
        net,
        "data out to the internet (data_out_gb)".to_string(),
        u.data_out_gb,
        "GB",
        p.data_out_gb,
    );

    let lb = "Load balancer";
    b.line(lb, "Application Load Balancer".to_string(), h, "hour", p.alb_hour);
    b.line(
        lb,
        "load balancer capacity units (alb_lcu)".to_string(),
        u.alb_lcu * h,
        "LCU-hour",
        p.alb_lcu_hour,
    );
    if model.security.waf {
        b.line(lb, "WAF web ACL".to_string(), 1.0, "ACL-month", p.waf_acl_month);
        b.line(
            lb,
            format!("WAF rules ({WAF_RULES})"),
            f64::from(WAF_RULES),
            "rule-month",
            p.waf_rule_month,
        );
        b.line(
            lb,
            "WAF requests (requests_per_month)".to_string(),
            u.requests_per_month / 1e6,
            "million requests",
            p.waf_requests_million,
        );
    }

    let db = "Database (Aurora Serverless v2)";
    let d = &model.database;
    let instances = f64::from(d.instances);
    let (acu, hours, why) = if d.min_acu == 0.0 {
        let acu = if u.aurora_average_acu > 0.0 {
            u.aurora_average_acu
        } else {
            0.5
        };
        (acu, u.aurora_active_hours, "paused when idle: aurora_active_hours")
    } else if u.aurora_average_acu > 0.0 {
        (u.aurora_average_acu, h, "always on: aurora_average_acu")
    } else if model.security.performance_insights && d.min_acu < aurora::PERFORMANCE_INSIGHTS_MIN_ACU {
        // AWS recommends this floor with Performance Insights on, and says the instance may stay above a
        // lower minimum: price what it recommends, not the minimum it may never reach.
        (
            aurora::PERFORMANCE_INSIGHTS_MIN_ACU,
            h,
            "always on; Performance Insights: AWS's recommended floor, above min_acu",
        )
    } else {
        (d.min_acu, h, "always on at min_acu")
    };
    b.line(
        db,
        format!("{} instance(s) at {acu} ACU, {why}", d.instances),
        instances * acu * hours,
        "ACU-hour",
        p.aurora_acu_hour,
    );
    b.line(
        db,
        "storage (aurora_storage_gb)".to_string(),
        u.aurora_storage_gb,
        "GB-month",
        p.aurora_storage_gb_month,
    );
    b.line(
        db,
        "I/O requests (aurora_io_millions)".to_string(),
        u.aurora_io_millions,
        "million requests",
        p.aurora_io_million,
    );
    if model.security.backup_plan {
        b.line(
            db,
            "AWS Backup recovery points (backup_gb)".to_string(),
            u.backup_gb,
            "GB-month",
            p.backup_aurora_gb_month,
        );
    }
    if let Some(dr) = &model.dr {
        // The copies hold what the recovery points hold, priced at this Region's rate (as ECR's replicas).
        b.line(
            db,
            format!("AWS Backup copies in {} (backup_gb)", dr.region),
            u.backup_gb,
            "GB-month",
            p.backup_aurora_gb_month,
        );
    }

    let mon = "Monitoring (CloudWatch)";
    let agents = f64::from(u32::try_from(model.agents.len()).unwrap_or(u32::MAX));
    let running =
        f64::from(u32::try_from(model.agents.iter().filter(|a| a.desired_count > 0).count()).unwrap_or(u32::MAX));
    b.line(
        mon,
        "log ingestion: agents, database, WAF (log_gb)".to_string(),
        u.log_gb,
        "GB",
        p.logs_ingest_gb,
    );
    let retention_months = f64::from(model.deployment.log_retention_days) / 30.0;
    let mut stored = u.log_gb * retention_months;
    if model.security.flow_logs {
        b.line(
            mon,
            "log ingestion: VPC flow logs (flow_log_gb)".to_string(),
            u.flow_log_gb,
            "GB",
            p.logs_ingest_gb,
        );
        stored += u.flow_log_gb * f64::from(model.security.log_retention_days) / 30.0;
    }
    b.line(
        mon,
        "log storage at the retention periods".to_string(),
        stored,
        "GB-month",
        p.logs_storage_gb_month,
    );
    let alarms = f64::from(ENV_ALARMS) + agents * f64::from(AGENT_ALARMS) + running;
    b.line(mon, format!("alarms ({alarms})"), alarms, "alarm-month", p.alarm_month);
    if model.alarms.container_insights {
        let metrics = agents * u.container_insights_metrics_per_agent + 1.0;
        b.line(
            mon,
            format!("custom metrics: Container Insights + 1 log metric ({metrics})"),
            metrics,
            "metric-month",
            p.metric_month,
        );
    } else {
        b.line(
            mon,
            "custom metrics: the database connection failures log metric (1)".to_string(),
            1.0,
            "metric-month",
            p.metric_month,
        );
    }
    b.line(
        mon,
        format!("dashboards ({DASHBOARDS})"),
        f64::from(DASHBOARDS),
        "dashboard-month",
        p.dashboard_month,
    );

    let sec = "Secrets and keys";
    let secrets = ENV_SECRETS + u32::try_from(model.bootstrap.agents.len()).unwrap_or(u32::MAX);
    b.line(
        sec,
        format!("Secrets Manager secrets ({secrets}: API keys, master, one per database agent)"),
        f64::from(secrets),
        "secret-month",
        p.secret_month,
    );
    b.line(
        sec,
        "Secrets Manager API calls (secrets_api_calls)".to_string(),
        u.secrets_api_calls / 1e4,
        "10k calls",
        p.secrets_api_10k,
    );
    if model.security.in_transit_encryption {
        // Service Connect TLS: the CA (unless shared), and each agent's certificate, reissued every few
        // days, its private key in a secret ECS creates for the service.
        if model.security.private_ca_arn.is_none() {
            b.line(
                sec,
                "private CA for Service Connect TLS (short-lived certificate mode)".to_string(),
                1.0,
                "CA-month",
                p.private_ca_short_lived_month,
            );
        }
        let agents = f64::from(u32::try_from(model.agents.len()).unwrap_or(u32::MAX));
        let days = crate::aws::service_connect::CERTIFICATE_ROTATION_DAYS;
        b.line(
            sec,
            format!("Service Connect certificates (one per agent every {days} days)"),
            agents * (h / 24.0 / days),
            "certificate",
            p.private_ca_short_lived_certificate,
        );
        b.line(
            sec,
            "Service Connect private keys (one ECS-managed secret per agent)".to_string(),
            agents,
            "secret-month",
            p.secret_month,
        );
    }
    let owners = [
        (model.security.kms, "the environment's"),
        (model.dr.is_some(), "the DR Region's"),
        (model.pipeline.is_some(), "the release pipeline's"),
    ];
    let keys = u32::try_from(owners.iter().filter(|(has, _)| *has).count()).unwrap_or(u32::MAX);
    if keys > 0 {
        let owners: Vec<&str> = owners.iter().filter(|(has, _)| *has).map(|(_, who)| *who).collect();
        let which = match owners.as_slice() {
            [one] => (*one).to_string(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
            [] => String::new(),
        };
        b.line(
            sec,
            format!("KMS customer-managed keys ({keys}: {which})"),
            f64::from(keys),
            "key-month",
            p.kms_key_month,
        );
        b.line(
            sec,
            "KMS requests (kms_requests)".to_string(),
            u.kms_requests / 1e4,
            "10k requests",
            p.kms_requests_10k,
        );
    }

    // One repository per agent, and with [pipeline] one release repository per agent too.
    let repositories = model.agents.len() * if model.pipeline.is_some() { 2 } else { 1 };
    b.line(
        "Images (ECR)",
        format!("image storage, {repositories} repositories (ecr_gb)"),
        u.ecr_gb,
        "GB-month",
        p.ecr_storage_gb_month,
    );

    for region in &model.ecr.replication_regions {
        // The replicas hold the same images under the same lifecycle rules (their creation template).
        b.line(
            "Images (ECR)",
            format!(
                "replica storage in {region}, {} repositories (ecr_gb)",
                model.agents.len()
            ),
            u.ecr_gb,
            "GB-month",
            p.ecr_storage_gb_month,
        );
    }

    let total = b.lines.iter().map(|l| l.monthly).sum();
    let fixed = endpoints * azs * h * p.endpoint_hour;
    let endpoint_break_even_gb = fixed / (p.nat_gb - p.endpoint_gb);
    let mut notes = vec![
        "Service Connect: no charge of its own; its proxy runs inside each task's CPU and memory, priced above, \
         and each task is a Cloud Map service instance (priced above; Service Connect makes no per-request \
         discovery calls)."
            .to_string(),
        "Bedrock model calls are priced per token by AWS and depend on the agents' traffic: not estimated.".to_string(),
        "Not priced (cents a month): S3 access-log objects, SNS alarm e-mails, Performance Insights' free 7 days, \
         the database bootstrap function (invoked only by an apply that changes its input) and its code bucket, \
         and one-off SQLite migration tasks."
            .to_string(),
        "Fargate Spot has no fixed list price: the table holds the price shown on the date checked.".to_string(),
        if model.network.nat == Nat::Instance {
            format!(
                "VPC endpoints would cost {} a month here; a NAT instance charges nothing per GB, so they never pay for themselves.",
                money(fixed)
            )
        } else {
            format!(
                "VPC endpoints cost {} a month here; they pay for themselves above {endpoint_break_even_gb:.0} GB a month through the NAT gateways.",
                money(fixed)
            )
        },
        "Free tiers, Savings Plans and taxes are left out: list prices only.".to_string(),
        "Not priced, with the reason: Data API requests (per million calls; they follow the agents' traffic, \
         like Bedrock tokens), Enhanced Monitoring (billed as CloudWatch Logs ingestion into RDSOSMetrics; \
         count it in log_gb), the cost budget (AWS Budgets charges only beyond an account's free budgets), \
         ECR replication's transfer between regions (per GB of newly pushed layers; replica storage is \
         priced at this region's rate), and the backup copies' transfer to the DR region (per GB copied; \
         their storage is priced at this region's rate)."
            .to_string(),
    ];
    if keys > 0 {
        notes.push(format!(
            "KMS rotation: each key rotates yearly and each of its first two rotations adds {} a month, so the \
             {keys} key(s) cost {} more a month in their second year and {} more from their third.",
            money(p.kms_key_month),
            money(f64::from(keys) * p.kms_key_month),
            money(2.0 * f64::from(keys) * p.kms_key_month),
        ));
    }
    for (what, how) in prices::DERIVED {
        notes.push(format!("Derived price: {what}: {how}."));
    }
    for (region, what) in prices::UNCONFIRMED {
        if *region == p.region {
            notes.push(format!(
                "Unconfirmed for {region}: {what} were not matched against the price page on {} (carried from \
                 the earlier table).",
                prices::CHECKED
            ));
        }
    }
    if model.pipeline.is_some() {
        notes.push(
            "The release pipeline's CodeBuild build minutes and CodePipeline action minutes are charged per release: \
             not estimated (its key is priced above)."
                .to_string(),
        );
    }
    Estimate {
        env: model.env.to_string(),
        region: p.region.to_string(),
        currency: "USD",
        prices_checked: prices::CHECKED,
        lines: b.lines,
        total,
        assumptions: assumptions(model),
        notes,
        endpoint_break_even_gb,
        budget_usd: model.budget.as_ref().map(|b| b.monthly_usd),
    }
}

fn assumptions(model: &Model) -> Vec<Assumption> {
    let u = &model.cost;
    let a = |key, value, meaning| Assumption { key, value, meaning };
    vec![
        a(
            "hours_per_month",
            u.hours_per_month,
            "hours each always-on resource runs",
        ),
        a(
            "requests_per_month",
            u.requests_per_month,
            "requests through the WAF and load balancer",
        ),
        a("data_out_gb", u.data_out_gb, "GB sent to the internet"),
        a(
            "nat_gb",
            u.nat_gb,
            "GB to AWS APIs and Bedrock (NAT, or endpoints when on)",
        ),
        a("log_gb", u.log_gb, "GB of agent, database and WAF logs"),
        a("flow_log_gb", u.flow_log_gb, "GB of VPC flow logs"),
        a("alb_lcu", u.alb_lcu, "average load balancer capacity units"),
        a(
            "aurora_active_hours",
            u.aurora_active_hours,
            "hours the database runs when min_acu = 0",
        ),
        a(
            "aurora_average_acu",
            u.aurora_average_acu,
            "average ACU per instance (0 = min_acu)",
        ),
        a("aurora_storage_gb", u.aurora_storage_gb, "GB stored by Aurora"),
        a(
            "aurora_io_millions",
            u.aurora_io_millions,
            "millions of Aurora I/O requests",
        ),
        a("backup_gb", u.backup_gb, "GB of AWS Backup recovery points"),
        a("ecr_gb", u.ecr_gb, "GB of images in ECR"),
        a("secrets_api_calls", u.secrets_api_calls, "Secrets Manager API calls"),
        a("kms_requests", u.kms_requests, "KMS requests"),
        a(
            "container_insights_metrics_per_agent",
            u.container_insights_metrics_per_agent,
            "Container Insights metrics per agent",
        ),
    ]
}

#[derive(Default)]
struct Builder {
    lines: Vec<Line>,
}

impl Builder {
    fn line(&mut self, component: &'static str, item: String, quantity: f64, unit: &'static str, unit_price: f64) {
        self.lines.push(Line {
            component,
            item,
            quantity,
            unit,
            unit_price,
            monthly: quantity * unit_price,
        });
    }
}

/// `$12.34`.
pub fn money(x: f64) -> String {
    format!("${x:.2}")
}

fn quantity(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

/// The estimate for a terminal: grouped lines, subtotals, the total, assumptions, notes and sources.
pub fn render_text(e: &Estimate, spec_file: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Monthly cost of {} in {} (USD, AWS list prices checked {})\n",
        e.env, e.region, e.prices_checked
    );
    let width = e.lines.iter().map(|l| l.item.len()).max().unwrap_or(0);
    for c in e.components() {
        let _ = writeln!(out, "{c}");
        for l in e.lines.iter().filter(|l| l.component == c) {
            let how = format!("{} {} × ${}", quantity(l.quantity), l.unit, l.unit_price);
            let _ = writeln!(out, "  {:<width$}  {how:<34} {:>10}", l.item, money(l.monthly));
        }
        let _ = writeln!(
            out,
            "  {:<width$}  {:<34} {:>10}\n",
            "subtotal",
            "",
            money(e.subtotal(c))
        );
    }
    let _ = writeln!(out, "Total: {} a month\n", money(e.total));
    if let Some(limit) = e.budget_usd {
        let _ = writeln!(
            out,
            "Budget: ${limit} a month (AWS Budgets, on the costs tagged with this environment; the alarm topic \
             hears when the month's forecast or actual spend passes it)\n"
        );
    }
    let _ = writeln!(out, "Usage assumptions (override them in [cost] of {spec_file}):");
    for a in &e.assumptions {
        let _ = writeln!(out, "  {} = {}  ({})", a.key, quantity(a.value), a.meaning);
    }
    let _ = writeln!(out, "\nNotes:");
    for n in &e.notes {
        let _ = writeln!(out, "  - {n}");
    }
    let _ = writeln!(out, "\nPrice sources (checked {}):", e.prices_checked);
    for (what, url) in prices::SOURCES {
        let _ = writeln!(out, "  {what}: {url}");
    }
    out
}

/// The estimate as JSON (`tfgen cost --json`).
pub fn render_json(e: &Estimate) -> String {
    serde_json::to_string_pretty(e).unwrap_or_else(|err| format!("{{\"error\": \"{err}\"}}")) + "\n"
}

/// One line for `tfgen diff`: the monthly cost before and after a change, and the difference.
pub fn render_change(before: Option<f64>, after: &Estimate) -> String {
    match before {
        Some(b) => {
            let delta = after.total - b;
            if delta.abs() < 0.005 {
                return format!("monthly cost: {} (no change)\n", money(after.total));
            }
            let sign = if delta < 0.0 { "-" } else { "+" };
            format!(
                "monthly cost: {} → {} ({sign}{})\n",
                money(b),
                money(after.total),
                money(delta.abs())
            )
        }
        None => format!("monthly cost: {} (new)\n", money(after.total)),
    }
}

#[cfg(test)]
mod tests;
