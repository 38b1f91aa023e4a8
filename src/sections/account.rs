//! `[account]`: the AWS account an environment deploys to, and the quotas it has there. Raw form, checks,
//! resolved form; then two checks that need the whole model: what the environment needs of the account's
//! quotas ([`check_quotas`]), and whether it manages an account-wide singleton another environment of the
//! same account and Region also manages ([`check_singletons`]).
//!
//! The quota facts and the list of singletons are [`crate::aws::quotas`]'s. Nothing here renders; the
//! templates read [`Account::id`] (the provider's `allowed_account_ids`).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::context::{Checker, SpecFile};
use crate::aws::quotas::{self, Quota};
use crate::diag::{Diagnostic, Location, SourceFile, rules};
use crate::model::Model;
use crate::sections::compute::Capacity;
use crate::sections::network::Nat;
use crate::spec::{EnvSpec, Spanned};

rules! {
    /// The diagnostics this module reports (`[account]`, and the account-wide needs of the whole spec).
    pub enum Rule {
        AccountIdInvalid,
        AccountIdExample,
        CertificateOtherAccount,
        QuotaInvalid,
        QuotaExceeded,
        SharedSingleton,
        SingletonAccountUnknown,
    }
}

/// `[account]` as written.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountSpec {
    /// The 12-digit AWS account this environment deploys to: Terraform then refuses to plan in any other
    /// (the provider's `allowed_account_ids`), and tfgen can tell whether two environments share one.
    pub id: Option<Spanned<String>>,
    /// The account's applied quotas in this Region, where they are not AWS's defaults.
    #[serde(default)]
    pub quotas: QuotasSpec,
}

/// `[account.quotas]`: one key per quota of [`quotas::ALL`] (tests/module_facts.rs holds them equal).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotasSpec {
    /// Fargate On-Demand vCPU resource count (L-3032A538).
    pub fargate_vcpu: Option<Spanned<i64>>,
    /// Fargate Spot vCPU resource count (L-36FBB829).
    pub fargate_spot_vcpu: Option<Spanned<i64>>,
    /// EC2-VPC Elastic IPs (L-0263D0A3).
    pub elastic_ips: Option<Spanned<i64>>,
    /// Lambda concurrent executions (L-B99A9384).
    pub lambda_concurrent_executions: Option<Spanned<i64>>,
    /// Concurrently running CodeBuild builds for the Linux/Small environment (L-9D07B6EF).
    pub codebuild_small_builds: Option<Spanned<i64>>,
}

impl QuotasSpec {
    /// The value written for `quota`, if any.
    fn get(&self, quota: &Quota) -> Option<&Spanned<i64>> {
        match quota.key {
            "fargate_vcpu" => self.fargate_vcpu.as_ref(),
            "fargate_spot_vcpu" => self.fargate_spot_vcpu.as_ref(),
            "elastic_ips" => self.elastic_ips.as_ref(),
            "lambda_concurrent_executions" => self.lambda_concurrent_executions.as_ref(),
            "codebuild_small_builds" => self.codebuild_small_builds.as_ref(),
            other => unreachable!("quota key {other} has no field in QuotasSpec"),
        }
    }
}

/// The account, resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Account {
    /// The account the tree may be applied in; `None`: any.
    pub id: Option<String>,
}

/// Checks `[account]`; the certificate, when the spec names one, must be in the stated account.
pub fn check(cx: &mut Checker, spec: &AccountSpec, certificate_arn: Option<&Spanned<String>>) -> Option<Account> {
    for quota in quotas::ALL {
        if let Some(v) = spec.quotas.get(quota)
            && *v.get_ref() < 0
        {
            cx.error(
                Rule::QuotaInvalid,
                SpecFile::Env,
                v,
                format!("quota {} cannot be negative", quota.key),
                format!(
                    "write the applied value of \"{}\" from the Service Quotas console",
                    quota.name
                ),
            );
        }
    }
    let Some(id) = &spec.id else {
        return Some(Account { id: None });
    };
    let text = id.get_ref();
    if text.len() != 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        cx.error(
            Rule::AccountIdInvalid,
            SpecFile::Env,
            id,
            format!("`{text}` is not an AWS account ID"),
            "an account ID is 12 digits, as `aws sts get-caller-identity --query Account` prints it",
        );
        return None;
    }
    if crate::aws::EXAMPLE_ACCOUNTS.contains(&text.as_str()) {
        cx.error(
            Rule::AccountIdExample,
            SpecFile::Env,
            id,
            format!("`{text}` is an account ID from AWS's documentation, not a real account"),
            "write the ID of the account this environment deploys to",
        );
        return None;
    }
    if let Some(arn) = certificate_arn
        && let Some(owner) = arn.get_ref().split(':').nth(4)
        && owner != text
    {
        cx.error(
            Rule::CertificateOtherAccount,
            SpecFile::Env,
            arn,
            format!("the certificate is in account {owner}, but `[account] id` is {text}"),
            "a load balancer can only use a certificate of its own account: import or request it there",
        );
    }
    Some(Account { id: Some(text.clone()) })
}

/// What the environment needs of one quota, and why.
struct Need {
    quota: Quota,
    amount: f64,
    why: String,
}

/// What `model` needs of each quota at its largest: every agent at its maximum task count while a
/// deployment replaces its tasks (`maximum_percent` of them at once), a public address per NAT gateway,
/// and every agent's image built at once by the release pipeline.
fn needs(model: &Model) -> Vec<Need> {
    let surge = f64::from(model.deployment.maximum_percent) / 100.0;
    // Each agent's tasks on this capacity: its share of its desired count at rest, of its max_count at peak.
    let vcpu = |capacity: Capacity| -> (f64, f64) {
        let share = |a: &crate::sections::agents::Agent, tasks: u32| {
            let (on_demand, spot) = a.placement().split(tasks);
            match capacity {
                Capacity::OnDemand => on_demand,
                Capacity::Spot => spot,
            }
        };
        model.agents.iter().fold((0.0, 0.0), |(rest, peak), a| {
            let v = f64::from(a.size.cpu) / 1024.0;
            (
                rest + share(a, a.desired_count) * v,
                peak + share(a, a.max_count) * v * surge,
            )
        })
    };
    let mut out = Vec::new();
    for (quota, capacity) in [
        (quotas::FARGATE_ON_DEMAND_VCPU, Capacity::OnDemand),
        (quotas::FARGATE_SPOT_VCPU, Capacity::Spot),
    ] {
        let (rest, peak) = vcpu(capacity);
        out.push(Need {
            quota,
            amount: peak,
            why: format!(
                "{} vCPU at rest, {} with every agent at its max_count while a deployment runs {}% of its tasks",
                number(rest),
                number(peak),
                model.deployment.maximum_percent
            ),
        });
    }
    let nat_gateways = match model.network.nat {
        Nat::Single => 1,
        Nat::PerAz => u32::from(model.network.az_count),
        Nat::Instance => 0,
    };
    out.push(Need {
        quota: quotas::ELASTIC_IPS,
        amount: f64::from(nat_gateways),
        why: format!("one per NAT gateway ({nat_gateways})"),
    });
    if !model.bootstrap.agents.is_empty() {
        out.push(Need {
            quota: quotas::LAMBDA_CONCURRENT_EXECUTIONS,
            amount: 1.0,
            why: "the database bootstrap, one run at a time, with no reserved concurrency".to_string(),
        });
    }
    if model.pipeline.is_some() {
        let builds = u32::try_from(model.agents.len()).unwrap_or(u32::MAX);
        out.push(Need {
            quota: quotas::CODEBUILD_SMALL_BUILDS,
            amount: f64::from(builds),
            why: format!(
                "the release pipeline builds all {builds} agents' images at once; builds beyond the quota wait in a queue"
            ),
        });
    }
    out
}

fn number(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}").trim_end_matches('0').to_string()
    }
}

/// Warns of every quota the environment would outgrow: the applied value written under `[account.quotas]`,
/// else AWS's default. Points at the written value, else at `sizing`.
pub fn check_quotas(cx: &mut Checker, model: &Model, spec: &EnvSpec) {
    for need in needs(model) {
        let written = spec.account.quotas.get(&need.quota);
        let have = written.map_or(f64::from(need.quota.default), |v| {
            f64::from(u32::try_from(*v.get_ref()).unwrap_or(u32::MAX))
        });
        if need.amount <= have {
            continue;
        }
        let q = &need.quota;
        let wanted = need.amount.ceil();
        let (summary, at) = match written {
            Some(v) => (
                format!(
                    "this environment needs up to {} of \"{}\" ({}); the account's quota is {}",
                    number(need.amount),
                    q.name,
                    need.why,
                    v.get_ref()
                ),
                cx.at(SpecFile::Env, v),
            ),
            None => (
                format!(
                    "this environment needs up to {} of \"{}\" ({}); {} {}, and new accounts may start lower",
                    number(need.amount),
                    q.name,
                    need.why,
                    if q.stated {
                        "AWS's default quota is"
                    } else {
                        "AWS states no default; the lowest reported is"
                    },
                    q.default
                ),
                cx.at(SpecFile::Env, &spec.sizing),
            ),
        };
        cx.push(Diagnostic::warning(Rule::QuotaExceeded, summary, Some(at)).with_help(format!(
            "raise it before the first apply: `aws service-quotas request-service-quota-increase --service-code {} --quota-code {} --desired-value {wanted} --region {}`, then write the granted value as `{} = {wanted}` under `[account.quotas]`",
            q.service, q.code, model.region, q.key
        )));
    }
}

/// What another environment's spec says about the account-wide singletons (its other keys are its own
/// business, checked when it is rendered).
#[derive(Debug, Default, Deserialize)]
struct Sibling {
    region: Option<Spanned<String>>,
    #[serde(default)]
    account: SiblingAccount,
    #[serde(default)]
    ecr: SiblingEcr,
}

#[derive(Debug, Default, Deserialize)]
struct SiblingAccount {
    id: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
struct SiblingEcr {
    replication_regions: Option<Spanned<Vec<String>>>,
}

/// The account-wide singletons an environment that replicates ECR images to `replication_regions`
/// manages, each with the Region it is in: the replication configuration in its own Region, and the
/// registry's scanning configuration in each replication Region (which scans the replicas).
fn managed_singletons(region: &str, replication_regions: &[String]) -> Vec<(&'static str, String)> {
    if replication_regions.is_empty() {
        return Vec::new();
    }
    std::iter::once((quotas::ECR_REPLICATION, region.to_string()))
        .chain(replication_regions.iter().map(|r| (quotas::ECR_SCANNING, r.clone())))
        .collect()
}

/// What a singleton is, for a sentence.
fn describe(singleton: &str) -> &'static str {
    if singleton == quotas::ECR_REPLICATION {
        "ECR replication"
    } else {
        "ECR scanning (of the replicas)"
    }
}

/// An error when `model` manages an account-wide singleton ([`quotas::ACCOUNT_SINGLETONS`]: ECR's
/// replication configuration in its Region, the registry scanning configuration in each replication
/// Region) that another environment of the same account manages too; a warning when either does not say
/// which account it is in.
pub fn check_singletons(cx: &mut Checker, model: &Model, spec: &EnvSpec, siblings: &[Arc<SourceFile>]) {
    let Some(mine) = spec.ecr.replication_regions.as_ref() else {
        return;
    };
    let managed = managed_singletons(&model.region, &model.ecr.replication_regions);
    if managed.is_empty() {
        return;
    }
    for file in siblings {
        let Ok(other) = toml::from_str::<Sibling>(&file.text) else {
            continue;
        };
        let (Some(region), Some(theirs)) = (&other.region, &other.ecr.replication_regions) else {
            continue;
        };
        let shared: Vec<_> = managed_singletons(region.get_ref(), theirs.get_ref())
            .into_iter()
            .filter(|s| managed.contains(s))
            .collect();
        let there = Location::new(file, theirs.span());
        for (singleton, where_) in shared {
            let what = describe(singleton);
            match (&model.account.id, other.account.id.as_ref().map(Spanned::get_ref)) {
                (Some(a), Some(b)) if a != b => {}
                (Some(a), Some(_)) => cx.push(
                    Diagnostic::error(
                        Rule::SharedSingleton,
                        format!(
                            "{what} is one setting per account and Region ({singleton}), and `{}` also sets it in account {a}, {where_}: each apply would overwrite the other's, and destroying either would end both",
                            file.name
                        ),
                        Some(cx.at(SpecFile::Env, mine)),
                    )
                    .with_related(there.clone(), "the other environment replicates here")
                    .with_help(if singleton == quotas::ECR_REPLICATION {
                        "let one environment of the account replicate, with a prefix covering every environment's repositories, or deploy them to separate accounts"
                    } else {
                        "replicate each environment of the account to its own Region, or deploy them to separate accounts"
                    }),
                ),
                _ => cx.push(
                    Diagnostic::warning(
                        Rule::SingletonAccountUnknown,
                        format!(
                            "{what} is one setting per account and Region ({singleton}), and `{}` also sets it in {where_}: if both deploy to one account, each apply overwrites the other's",
                            file.name
                        ),
                        Some(cx.at(SpecFile::Env, mine)),
                    )
                    .with_related(there.clone(), "the other environment replicates here")
                    .with_help("write each environment's `[account] id`: tfgen then refuses a clash and stays quiet when the accounts differ"),
                ),
            }
        }
    }
}
