//! `[deployment]`: how ECS rolls out and scales the agents' services. Steady-state wait, the CPU target of
//! autoscaling, log retention, and the fixed rollout settings. Raw form, checks, resolved form.

use serde::{Deserialize, Serialize};

use super::context::{Checker, SpecFile};
use crate::aws::logs;
use crate::diag::rules;
use crate::spec::Spanned;

rules! {
    /// The diagnostics this module reports (`[deployment]`).
    pub enum Rule {
        CpuTargetPercent,
        LogRetention,
    }
}

pub const DEFAULT_CPU_TARGET_PERCENT: u32 = 70;
pub const DEFAULT_LOG_RETENTION_DAYS: u32 = 30;

/// `[deployment]` as written.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeploymentSpec {
    /// Make `terraform apply` wait (up to the 10-minute deployment timeout) until every service is stable.
    pub wait_for_steady_state: Option<Spanned<bool>>,
    pub cpu_target_percent: Option<Spanned<i64>>,
    pub log_retention_days: Option<Spanned<i64>>,
}

/// Deployment settings, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deployment {
    pub wait_for_steady_state: bool,
    pub cpu_target_percent: u32,
    pub log_retention_days: u32,
    pub health_check_grace_period_seconds: u32,
    pub minimum_healthy_percent: u32,
    pub maximum_percent: u32,
    pub timeout: String,
    /// Memory target tracking next to CPU's: scale out before memory runs short (tasks are OOM-killed at
    /// 100 %), leaving a quarter for a burst of long conversations.
    pub memory_target_percent: u32,
    /// SIGTERM to SIGKILL: Fargate's maximum, 120 s, for answers still being written when a task stops.
    pub stop_timeout_seconds: u32,
}

pub fn check(cx: &mut Checker, d: &DeploymentSpec) -> Option<Deployment> {
    let wait_for_steady_state = d.wait_for_steady_state.as_ref().is_some_and(|v| *v.get_ref());
    let cpu_target_percent = cx.count(
        Rule::CpuTargetPercent,
        d.cpu_target_percent.as_ref(),
        DEFAULT_CPU_TARGET_PERCENT,
        1..=100,
        "cpu_target_percent",
        "target tracking takes a CPU percentage between 1 and 100",
    );
    let log_retention_days = match &d.log_retention_days {
        None => Some(DEFAULT_LOG_RETENTION_DAYS),
        Some(v) if logs::valid_retention(*v.get_ref()) => u32::try_from(*v.get_ref()).ok(),
        Some(v) => {
            let nearest = logs::nearest_retention(*v.get_ref());
            cx.error(
                Rule::LogRetention,
                SpecFile::Env,
                v,
                format!("CloudWatch Logs has no {}-day retention", v.get_ref()),
                format!("the nearest allowed value is {nearest}"),
            );
            None
        }
    };
    Some(Deployment {
        wait_for_steady_state,
        cpu_target_percent: cpu_target_percent?,
        log_retention_days: log_retention_days?,
        health_check_grace_period_seconds: 60,
        minimum_healthy_percent: 50,
        maximum_percent: 200,
        timeout: "10m".to_string(),
        memory_target_percent: 75,
        stop_timeout_seconds: 120,
    })
}
