//! `[cost]`: the usage assumptions behind `tfgen cost` (hours a month, requests, data through the NAT and
//! out to the internet, log volume, Aurora's active hours when it may pause, storage). Raw form, checks,
//! resolved [`Usage`].
//!
//! Nothing here is rendered into Terraform, and no price lives here ([`crate::cost::prices`] holds them).
//! The defaults describe a lightly used environment; an environment with real traffic writes its own.

use serde::{Deserialize, Serialize};

use super::context::{Checker, SpecFile};
use crate::diag::rules;
use crate::spec::Spanned;

rules! {
    /// The diagnostics this module reports (`[cost]`).
    pub enum Rule {
        CostAssumption,
    }
}

/// `[cost]` as written: every key optional.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CostSpec {
    pub hours_per_month: Option<Spanned<f64>>,
    pub requests_per_month: Option<Spanned<f64>>,
    pub data_out_gb: Option<Spanned<f64>>,
    pub nat_gb: Option<Spanned<f64>>,
    pub log_gb: Option<Spanned<f64>>,
    pub flow_log_gb: Option<Spanned<f64>>,
    pub alb_lcu: Option<Spanned<f64>>,
    pub aurora_active_hours: Option<Spanned<f64>>,
    pub aurora_average_acu: Option<Spanned<f64>>,
    pub aurora_storage_gb: Option<Spanned<f64>>,
    pub aurora_io_millions: Option<Spanned<f64>>,
    pub backup_gb: Option<Spanned<f64>>,
    pub ecr_gb: Option<Spanned<f64>>,
    pub secrets_api_calls: Option<Spanned<f64>>,
    pub kms_requests: Option<Spanned<f64>>,
    pub container_insights_metrics_per_agent: Option<Spanned<f64>>,
}

/// The usage `tfgen cost` prices, every default applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Usage {
    /// Hours each always-on resource runs in a month (730 = 24 × 365 / 12).
    pub hours_per_month: f64,
    /// Requests through the load balancer and the WAF.
    pub requests_per_month: f64,
    /// GB sent to the internet (responses).
    pub data_out_gb: f64,
    /// GB the NAT gateways process (Bedrock calls, image pulls, AWS APIs) when no endpoint carries them.
    pub nat_gb: f64,
    /// GB of agent, database and WAF logs ingested by CloudWatch Logs.
    pub log_gb: f64,
    /// GB of VPC flow logs ingested.
    pub flow_log_gb: f64,
    /// Average load balancer capacity units in use.
    pub alb_lcu: f64,
    /// Hours a month the database runs when `min_acu = 0` lets it pause.
    pub aurora_active_hours: f64,
    /// Average ACUs per instance while running (0 = the instance's `min_acu`).
    pub aurora_average_acu: f64,
    pub aurora_storage_gb: f64,
    /// Millions of Aurora I/O requests.
    pub aurora_io_millions: f64,
    /// GB of AWS Backup recovery points kept.
    pub backup_gb: f64,
    /// GB of images kept in ECR, all repositories together.
    pub ecr_gb: f64,
    pub secrets_api_calls: f64,
    pub kms_requests: f64,
    /// CloudWatch metrics Container Insights publishes per agent (its cluster and its service).
    pub container_insights_metrics_per_agent: f64,
}

impl Default for Usage {
    fn default() -> Self {
        Self {
            hours_per_month: 730.0,
            requests_per_month: 1_000_000.0,
            data_out_gb: 10.0,
            nat_gb: 20.0,
            log_gb: 5.0,
            flow_log_gb: 2.0,
            alb_lcu: 0.5,
            aurora_active_hours: 200.0,
            aurora_average_acu: 0.0,
            aurora_storage_gb: 10.0,
            aurora_io_millions: 5.0,
            backup_gb: 10.0,
            ecr_gb: 5.0,
            secrets_api_calls: 10_000.0,
            kms_requests: 100_000.0,
            container_insights_metrics_per_agent: 17.0,
        }
    }
}

/// Checks `[cost]`: every value a finite number, not negative; hours within a month.
pub fn check(cx: &mut Checker, spec: &CostSpec) -> Usage {
    let d = Usage::default();
    let mut get = |v: &Option<Spanned<f64>>, default: f64, label: &str, max: f64| match v {
        None => default,
        Some(v) if v.get_ref().is_finite() && (0.0..=max).contains(v.get_ref()) => *v.get_ref(),
        Some(v) => {
            let x = *v.get_ref();
            let why = if x < 0.0 {
                "is negative".to_string()
            } else {
                format!("is above {max}")
            };
            cx.error(
                Rule::CostAssumption,
                SpecFile::Env,
                v,
                format!("[cost] {label} = {x} {why}"),
                "usage assumptions are amounts per month: zero or more (hours at most 744, a 31-day month)",
            );
            default
        }
    };
    let big = 1e12;
    let hours_per_month = get(&spec.hours_per_month, d.hours_per_month, "hours_per_month", 744.0);
    Usage {
        hours_per_month,
        requests_per_month: get(
            &spec.requests_per_month,
            d.requests_per_month,
            "requests_per_month",
            big,
        ),
        data_out_gb: get(&spec.data_out_gb, d.data_out_gb, "data_out_gb", big),
        nat_gb: get(&spec.nat_gb, d.nat_gb, "nat_gb", big),
        log_gb: get(&spec.log_gb, d.log_gb, "log_gb", big),
        flow_log_gb: get(&spec.flow_log_gb, d.flow_log_gb, "flow_log_gb", big),
        alb_lcu: get(&spec.alb_lcu, d.alb_lcu, "alb_lcu", big),
        aurora_active_hours: get(
            &spec.aurora_active_hours,
            d.aurora_active_hours,
            "aurora_active_hours",
            744.0,
        ),
        aurora_average_acu: get(
            &spec.aurora_average_acu,
            d.aurora_average_acu,
            "aurora_average_acu",
            256.0,
        ),
        aurora_storage_gb: get(&spec.aurora_storage_gb, d.aurora_storage_gb, "aurora_storage_gb", big),
        aurora_io_millions: get(
            &spec.aurora_io_millions,
            d.aurora_io_millions,
            "aurora_io_millions",
            big,
        ),
        backup_gb: get(&spec.backup_gb, d.backup_gb, "backup_gb", big),
        ecr_gb: get(&spec.ecr_gb, d.ecr_gb, "ecr_gb", big),
        secrets_api_calls: get(&spec.secrets_api_calls, d.secrets_api_calls, "secrets_api_calls", big),
        kms_requests: get(&spec.kms_requests, d.kms_requests, "kms_requests", big),
        container_insights_metrics_per_agent: get(
            &spec.container_insights_metrics_per_agent,
            d.container_insights_metrics_per_agent,
            "container_insights_metrics_per_agent",
            big,
        ),
    }
}
