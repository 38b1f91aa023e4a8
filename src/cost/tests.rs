//! Every price line against a hand computation for one known configuration (the plan's dev sizing in
//! us-east-1, the default usage), and how the estimate moves when counts, sizes and options change.

use super::*;
use crate::load::{Inputs, Overrides};
use crate::model::Model;

const AGENTS: &str = include_str!("../../environments/agents.toml");

fn model(extra: &str) -> Model {
    let env = format!("region = \"us-east-1\"\nsizing = \"dev\"\nimage_tag = \"1.0.0\"\n{extra}");
    let inputs = Inputs::from_text("dev", &env, AGENTS, Overrides::default());
    match crate::validate_spec(&inputs) {
        Ok((model, _)) => model,
        Err(d) => panic!("{}", d.render(crate::diag::Style::Plain)),
    }
}

fn line<'a>(e: &'a Estimate, item: &str) -> &'a Line {
    let found: Vec<&Line> = e.lines.iter().filter(|l| l.item.contains(item)).collect();
    assert_eq!(found.len(), 1, "{item:?} matches {} lines", found.len());
    found[0]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn every_line_matches_a_hand_computation() {
    let e = estimate(&model("")).unwrap();
    assert_eq!(e.region, "us-east-1");
    // (line, monthly USD worked out by hand from us-east-1's list prices)
    let mut expected: Vec<(String, f64)> = Vec::new();
    for agent in [
        "supervisor",
        "order-management",
        "product-recommendation",
        "personalization",
        "troubleshooting",
    ] {
        // 1 task × 0.5 vCPU × 730 h × $0.04048, and 1 task × 1 GB × 730 h × $0.004445.
        expected.push((format!("{agent}: 1 task(s), on-demand x86_64, 0.5 vCPU"), 14.7752));
        expected.push((format!("{agent}: 1 task(s), on-demand x86_64, 1 GB"), 3.244_85));
    }
    for (item, usd) in [
        ("NAT gateways (1)", 32.85),                     // 730 h × $0.045
        ("NAT data processed", 0.9),                     // 20 GB × $0.045
        ("public IPv4: 1 NAT + 2 load balancer", 10.95), // 3 × 730 h × $0.005
        ("data out to the internet", 0.9),               // 10 GB × $0.09
        ("Application Load Balancer", 16.425),           // 730 h × $0.0225
        ("load balancer capacity units", 2.92),          // 0.5 LCU × 730 h × $0.008
        ("WAF web ACL", 5.0),
        ("WAF rules (5)", 5.0), // 5 × $1
        ("WAF requests", 0.6),  // 1 million × $0.60
        // min_acu 0.5 with Performance Insights on: AWS's recommended 2 ACU, × 730 h × $0.12.
        ("1 instance(s) at 2 ACU, always on; Performance Insights", 175.2),
        ("Cloud Map service instances", 0.5),  // 5 tasks × $0.10
        ("storage (aurora_storage_gb)", 1.0),  // 10 GB × $0.10
        ("I/O requests", 1.0),                 // 5 million × $0.20
        ("AWS Backup recovery points", 0.21),  // 10 GB × $0.021
        ("log ingestion: agents", 2.5),        // 5 GB × $0.50
        ("log ingestion: VPC flow logs", 1.0), // 2 GB × $0.50
        ("log storage", 0.88),                 // (5 GB × 30/30 + 2 GB × 365/30) × $0.03
        ("alarms (39)", 3.9),                  // (4 + 5 × 6 + 5 running) × $0.10
        ("dashboards (1)", 3.0),               // 1 × $3
        ("custom metrics", 0.3),               // 1 log metric × $0.30 (no Container Insights)
        ("Secrets Manager secrets (6", 2.4),   // (2 + 4 database agents) × $0.40
        ("Secrets Manager API calls", 0.05),   // 10,000 calls × $0.05 / 10k
        ("KMS customer-managed keys (1", 1.0),
        ("KMS requests", 0.3),  // 100,000 × $0.03 / 10k
        ("image storage", 0.5), // 5 GB × $0.10
    ] {
        expected.push((item.to_string(), usd));
    }
    assert_eq!(e.lines.len(), expected.len(), "every line is checked: {:#?}", e.lines);
    for (item, usd) in &expected {
        let l = line(&e, item);
        assert!(close(l.monthly, *usd), "{item}: {} ≠ {usd}", l.monthly);
        assert!(close(l.monthly, l.quantity * l.unit_price));
    }
    let total: f64 = expected.iter().map(|(_, usd)| usd).sum();
    assert!(close(e.total, total), "{} ≠ {total}", e.total);
    // Endpoints: 6 services × 2 AZs × 730 h × $0.01 = $87.60 a month, saving $0.045 − $0.01 per GB.
    assert!(close(e.endpoint_break_even_gb, 87.6 / 0.035));
}

#[test]
fn the_estimate_grows_with_counts_and_sizes() {
    let base = estimate(&model("")).unwrap();
    let compute = |e: &Estimate| e.subtotal("Compute (ECS Fargate)");
    // Twice the tasks: twice the compute, and one more Cloud Map instance.
    let two = estimate(&model("[agents.supervisor]\ndesired_count = 2\nmax_count = 4\n")).unwrap();
    assert!(close(compute(&two) - compute(&base), 14.7752 + 3.244_85 + 0.1));
    // A bigger task: 1 vCPU / 2 GB instead of 0.5 / 1.
    let big = estimate(&model("[agents.supervisor]\ncpu = 1024\nmemory = 2048\n")).unwrap();
    assert!(close(compute(&big) - compute(&base), 14.7752 + 3.244_85));
    // A NAT gateway per AZ: one more gateway and one more public IP, all month.
    let per_az = estimate(&model("[network]\nnat = \"per-az\"\n")).unwrap();
    assert!(close(per_az.total - base.total, 730.0 * 0.045 + 730.0 * 0.005));
    // A reader: one more instance, at the 2 ACU AWS recommends with Performance Insights.
    let reader = estimate(&model("[database]\ninstances = 2\n")).unwrap();
    assert!(close(reader.total - base.total, 175.2));
    // Without Performance Insights, the database is priced at its min_acu (0.5 ACU × 730 h × $0.12).
    let no_pi = estimate(&model("[security]\nperformance_insights = false\n")).unwrap();
    assert!(close(
        line(&no_pi, "1 instance(s) at 0.5 ACU, always on at min_acu").monthly,
        43.8
    ));
    // A stated average wins over both.
    let stated = estimate(&model("[cost]\naurora_average_acu = 1\n")).unwrap();
    assert!(close(
        line(&stated, "at 1 ACU, always on: aurora_average_acu").monthly,
        87.6
    ));
    // A third AZ: one more load balancer IP.
    let three = estimate(&model("[network]\naz_count = 3\n")).unwrap();
    assert!(close(three.total - base.total, 730.0 * 0.005));
    // More requests: more WAF requests.
    let busy = estimate(&model("[cost]\nrequests_per_month = 3000000\n")).unwrap();
    assert!(close(busy.total - base.total, 2.0 * 0.6));
}

#[test]
fn spot_and_graviton_use_their_own_prices() {
    let spot = estimate(&model("[compute]\ncapacity = \"spot\"\n")).unwrap();
    let l = line(&spot, "supervisor: 1 task(s), Spot x86_64, 0.5 vCPU");
    assert!(close(l.monthly, 0.5 * 730.0 * 0.012_144));
    let arm = estimate(&model("[agents.supervisor]\narchitecture = \"arm64\"\n")).unwrap();
    let l = line(&arm, "supervisor: 1 task(s), on-demand ARM64, 1 GB");
    assert!(close(l.monthly, 730.0 * 0.003_56));
    assert!(spot.total < arm.total && arm.total < estimate(&model("")).unwrap().total);
}

#[test]
fn container_insights_adds_its_metrics() {
    let on = estimate(&model("[alarms]\ncontainer_insights = true\n")).unwrap();
    // (5 agents × 17 metrics + 1 log metric) × $0.30; the alarm count does not change.
    assert!(close(line(&on, "Container Insights + 1 log metric (86)").monthly, 25.8));
    let off = estimate(&model("")).unwrap();
    assert!(close(on.total - off.total, 25.5));
    assert!(close(
        line(&on, "alarms (39)").monthly,
        line(&off, "alarms (39)").monthly
    ));
}

#[test]
fn a_nat_instance_replaces_the_gateway_and_its_data_charge() {
    let base = estimate(&model("")).unwrap();
    let e = estimate(&model("[network]\nnat = \"instance\"\n")).unwrap();
    assert!(close(line(&e, "NAT instance (t4g.nano").monthly, 730.0 * 0.0042));
    assert!(close(
        line(&e, "NAT instance root volume (8 GB gp3)").monthly,
        8.0 * 0.08
    ));
    assert!(close(
        line(&e, "public IPv4: 1 NAT instance + 2 load balancer").monthly,
        10.95
    ));
    assert!(
        e.lines
            .iter()
            .all(|l| !l.item.starts_with("NAT gateways") && !l.item.starts_with("NAT data"))
    );
    // Gateway $32.85 and 20 GB × $0.045 out; instance $3.066 and volume $0.64 in.
    assert!(
        close(base.total - e.total, 32.85 + 0.9 - 3.066 - 0.64),
        "{}",
        base.total - e.total
    );
    assert!(e.notes.iter().any(|n| n.contains("never pay for themselves")));
}

#[test]
fn endpoints_carry_the_nat_traffic() {
    let e = estimate(&model("[network]\nvpc_endpoints = true\n")).unwrap();
    assert!(close(line(&e, "NAT data processed").monthly, 0.0));
    assert!(close(
        line(&e, "interface endpoints (6 services × 2 AZs)").monthly,
        87.6
    ));
    assert!(close(line(&e, "interface endpoint data").monthly, 20.0 * 0.01));
}

#[test]
fn a_database_that_pauses_is_priced_for_its_active_hours_only() {
    let mut m = model("[cost]\naurora_active_hours = 100\n");
    m.database.min_acu = 0.0;
    let e = estimate(&m).unwrap();
    let l = line(&e, "paused when idle");
    // At least 0.5 ACU while it runs: 0.5 × 100 h × $0.12.
    assert!(close(l.monthly, 6.0), "{}", l.monthly);
}

#[test]
fn a_region_without_prices_is_an_error_naming_the_priced_ones() {
    let mut m = model("");
    m.region = "sa-east-1".to_string();
    let err = estimate(&m).unwrap_err();
    assert!(
        err.contains("sa-east-1") && err.contains("us-east-1, us-east-2, eu-west-1, ap-northeast-1"),
        "{err}"
    );
}

#[test]
fn the_waf_rule_count_is_the_templates() {
    let waf = include_str!("../../modules/alb/waf.tf");
    assert_eq!(waf.matches("\n  rule {").count(), WAF_RULES as usize);
}

#[test]
fn the_diff_line_shows_before_after_and_delta() {
    let e = estimate(&model("")).unwrap();
    let line = render_change(Some(e.total - 10.0), &e);
    assert_eq!(
        line,
        format!(
            "monthly cost: {} → {} (+$10.00)\n",
            money(e.total - 10.0),
            money(e.total)
        )
    );
    assert!(render_change(Some(e.total + 5.0), &e).ends_with("(-$5.00)\n"));
    assert!(render_change(None, &e).ends_with("(new)\n"));
}

#[test]
fn the_nat_instance_volume_is_the_templates() {
    let nat = include_str!("../../modules/networking/nat_instance.tf");
    assert!(nat.contains(&format!("volume_size = {NAT_INSTANCE_VOLUME_GB}\n")));
    assert!(nat.contains("instance_type               = var.nat_instance_type"));
    let vars = include_str!("../../modules/networking/variables.tf");
    assert!(
        vars.contains("default     = \"t4g.nano\""),
        "the price table prices a t4g.nano"
    );
}

/// ARM64 on Spot is priced at the Spot ARM64 rate; a base of on-demand tasks with a share of Spot above it
/// prices each part at its own rate: of 3 tasks with a base of 1 and 50 % Spot, 2 on-demand and 1 on Spot.
#[test]
fn spot_on_arm64_and_an_on_demand_base_are_priced_by_part() {
    let p = &prices::US_EAST_1;
    let e = estimate(&model("[compute]\ncapacity = \"spot\"\narchitecture = \"arm64\"\n")).unwrap();
    let spot = line(&e, "supervisor: 1 task(s), Spot ARM64, 0.5 vCPU");
    assert!(close(spot.unit_price, p.fargate_spot_arm_vcpu_hour), "{spot:?}");
    assert!(!e.lines.iter().any(|l| l.item.contains("on-demand")));

    let e = estimate(&model(
        "[compute]\ncapacity = \"spot\"\non_demand_base = 1\nspot_percent = 50\n\n[agents.supervisor]\ndesired_count = 3\nmax_count = 4\n",
    ))
    .unwrap();
    let od = line(&e, "supervisor: 2 task(s), on-demand x86_64, 0.5 vCPU");
    assert!(close(od.monthly, 2.0 * 0.5 * 730.0 * p.fargate_x86_vcpu_hour), "{od:?}");
    let spot = line(&e, "supervisor: 1 task(s), Spot x86_64, 1 GB");
    assert!(close(spot.monthly, 730.0 * p.fargate_spot_gb_hour), "{spot:?}");
    // The derived Spot ARM64 price is the ARM64 on-demand price at the x86_64 Spot discount, as stated.
    for r in prices::REGIONS {
        let ratio = r.fargate_spot_vcpu_hour / r.fargate_x86_vcpu_hour;
        assert!(
            (r.fargate_spot_arm_vcpu_hour - r.fargate_arm_vcpu_hour * ratio).abs() < 1e-5,
            "{}",
            r.region
        );
        assert!(
            (r.fargate_spot_arm_gb_hour - r.fargate_arm_gb_hour * ratio).abs() < 1e-5,
            "{}",
            r.region
        );
    }
}

/// The notes say what is derived, unconfirmed and unpriced, and price KMS rotation, as the README says.
#[test]
fn the_notes_name_what_is_derived_unconfirmed_and_unpriced() {
    let e = estimate(&model("")).unwrap();
    let notes = e.notes.join("\n");
    for words in [
        "Derived price: Fargate Spot ARM64",
        "Data API requests",
        "Enhanced Monitoring",
        "the cost budget",
        "ECR replication's transfer",
        // One key: $1 more a month in its second year, $2 from its third.
        "cost $1.00 more a month in their second year and $2.00 more from their third",
    ] {
        assert!(notes.contains(words), "the notes lack {words:?}:\n{notes}");
    }
    assert!(!notes.contains("Unconfirmed"), "us-east-1 is confirmed:\n{notes}");
    let eu = estimate_with(&model(""), &prices::EU_WEST_1);
    assert!(
        eu.notes.iter().any(|n| n.starts_with("Unconfirmed for eu-west-1")),
        "{:#?}",
        eu.notes
    );
}

/// Levers: each is priced by the same estimate of the edited spec, a refused one carries the refusal and no
/// price, and the savings come first.
#[test]
fn levers_are_priced_edits_of_the_spec() {
    let env = "region = \"us-east-1\"\nsizing = \"prod\"\nimage_tag = \"1.0.0\"\n\n[alb]\ncertificate_arn = \"arn:aws:acm:us-east-1:210987654321:certificate/5f1c9f4e-8b0a-4c3e-9d2a-6e7f8a9b0c1d\"\n\n[alarms]\nemail = \"oncall@company.io\"\n\n[backend.s3]\nbucket = \"example-terraform-state\"\n";
    let inputs = Inputs::from_text("prod", env, AGENTS, Overrides::default());
    let (m, _) = crate::validate_spec(&inputs).unwrap_or_else(|d| panic!("{}", d.render(crate::diag::Style::Plain)));
    let e = estimate(&m).unwrap();
    let all = levers::levers(&inputs, &m, &e);
    let find = |setting: &str| {
        all.iter()
            .find(|l| l.setting == setting)
            .unwrap_or_else(|| panic!("no lever {setting}: {all:#?}"))
    };
    // Spot above one on-demand task: 2 tasks per agent, 1 moves to Spot; the difference is the Spot discount.
    let spot = find("[compute] capacity = \"spot\", on_demand_base = 1");
    let half: f64 = m
        .agents
        .iter()
        .map(|a| {
            let (vcpu, gb) = (f64::from(a.size.cpu) / 1024.0, f64::from(a.size.memory) / 1024.0);
            730.0
                * (vcpu * (prices::US_EAST_1.fargate_spot_vcpu_hour - prices::US_EAST_1.fargate_x86_vcpu_hour)
                    + gb * (prices::US_EAST_1.fargate_spot_gb_hour - prices::US_EAST_1.fargate_x86_gb_hour))
        })
        .sum();
    assert!((spot.monthly_change.unwrap() - half).abs() < 1e-6, "{spot:?} ≠ {half}");
    let waf = find("[security] waf = false");
    assert!(waf.monthly_change.is_none() && waf.refused.as_deref().is_some_and(|r| r.contains("WAF")));
    let changes: Vec<f64> = all.iter().filter_map(|l| l.monthly_change).collect();
    assert!(changes.windows(2).all(|w| w[0] <= w[1]), "{changes:?}");
    assert!(all.last().unwrap().refused.is_some());
}
