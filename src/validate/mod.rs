//! Validate stage: raw spec → [`ValidSpec`], every value checked and typed, or every problem found.
//!
//! Checks run to the end and collect all diagnostics before failing once. Defaults that a rule depends
//! on are applied here (through [`Defaults`]); names, CIDRs and priorities are derived in
//! [`crate::resolve`], which never fails. This module does not render anything.

use std::sync::Arc;

use crate::cidr::Ipv4Cidr;
use crate::diag::{Diagnostic, Diagnostics, Location, SourceFile, did_you_mean};
use crate::fargate::FargateSize;
use crate::load::Inputs;
use crate::model::{Backend, Bedrock, Sizing};
use crate::names::{AgentName, EnvName};
use crate::spec::{ParsedSpec, Spanned};

mod agents;
mod bedrock;
mod database;
mod network;
mod settings;

/// The plan's "Resource Sizing" numbers, per sizing.
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    pub cpu: i64,
    pub memory: i64,
    pub desired_count: i64,
    pub max_count: i64,
    pub db_instances: i64,
    pub deletion_protection: bool,
    pub single_nat_gateway: bool,
}

impl Defaults {
    pub fn for_sizing(sizing: Sizing) -> Self {
        match sizing {
            Sizing::Dev => Self {
                cpu: 512,
                memory: 1024,
                desired_count: 1,
                max_count: 2,
                db_instances: 1,
                deletion_protection: false,
                single_nat_gateway: true,
            },
            Sizing::Prod => Self {
                cpu: 1024,
                memory: 2048,
                desired_count: 2,
                max_count: 4,
                db_instances: 2,
                deletion_protection: true,
                single_nat_gateway: false,
            },
        }
    }
}

pub const DEFAULT_VPC_CIDR: &str = "10.0.0.0/16";
pub const DEFAULT_AZ_COUNT: i64 = 2;
pub const DEFAULT_HEALTH_CHECK_PATH: &str = "/health";
pub const DEFAULT_DATABASE_NAME: &str = "multi_agent";
pub const DEFAULT_LOG_RETENTION_DAYS: i64 = 30;
pub const DEFAULT_BACKUP_RETENTION_DAYS: i64 = 7;
pub const DEFAULT_CPU_TARGET_PERCENT: i64 = 70;
/// ALB's default quota of rules per listener (excluding the default rule).
pub const MAX_LISTENER_RULES: usize = 100;
/// ALB allows at most five condition values per rule.
pub const MAX_PATHS_PER_AGENT: usize = 5;

/// A checked agent: typed values, environment overrides and sizing defaults applied.
#[derive(Debug, Clone)]
pub struct ValidAgent {
    pub name: AgentName,
    pub renamed_from: Option<AgentName>,
    pub port: u16,
    pub paths: Vec<String>,
    pub health_check_path: String,
    pub size: FargateSize,
    pub desired_count: u32,
    pub max_count: u32,
}

#[derive(Debug, Clone)]
pub struct ValidDatabase {
    pub engine_version: String,
    pub database_name: String,
    pub min_acu: f64,
    pub max_acu: f64,
    pub instances: u32,
    pub backup_retention_days: u32,
    pub deletion_protection: bool,
}

/// A spec that passed every check: typed, defaults applied, nothing derived yet.
#[derive(Debug, Clone)]
pub struct ValidSpec {
    pub env: EnvName,
    pub spec_file: String,
    pub region: String,
    pub sizing: Sizing,
    pub image_tag: String,
    pub vpc_cidr: Ipv4Cidr,
    pub az_count: u8,
    pub single_nat_gateway: bool,
    /// Subnets written in the spec (public, private); `None` means derive the plan's layout.
    pub explicit_subnets: Option<(Vec<Ipv4Cidr>, Vec<Ipv4Cidr>)>,
    pub database: ValidDatabase,
    pub bedrock: Bedrock,
    pub certificate_arn: Option<String>,
    pub alb_deletion_protection: bool,
    pub alarm_email: Option<String>,
    pub ecr_replication_regions: Vec<String>,
    pub wait_for_steady_state: bool,
    pub cpu_target_percent: u32,
    pub log_retention_days: u32,
    pub backend: Backend,
    pub security: crate::security::Security,
    pub agents: Vec<ValidAgent>,
}

/// Checks a parsed spec. On success also returns warnings (which never stop a render).
pub fn validate(parsed: &ParsedSpec, inputs: &Inputs) -> Result<(ValidSpec, Diagnostics), Diagnostics> {
    let mut c = Checker {
        env_file: Arc::clone(&inputs.env),
        agents_file: Arc::clone(&inputs.agents),
        diags: Diagnostics::default(),
    };
    let spec = c.check(parsed, inputs);
    let diags = c.diags.sorted();
    match spec {
        Some(spec) if !diags.has_errors() => Ok((spec, diags)),
        _ => Err(diags),
    }
}

struct Checker {
    env_file: Arc<SourceFile>,
    agents_file: Arc<SourceFile>,
    diags: Diagnostics,
}

/// Which spec file a spanned value lives in.
#[derive(Clone, Copy)]
enum File {
    Env,
    Agents,
}

impl Checker {
    #[allow(clippy::unnecessary_wraps)] // every caller wants an `Option<Location>` for a diagnostic
    pub(super) fn at<T>(&self, file: File, v: &Spanned<T>) -> Option<Location> {
        let f = match file {
            File::Env => &self.env_file,
            File::Agents => &self.agents_file,
        };
        Some(Location::new(f, v.span()))
    }

    pub(super) fn error<T>(&mut self, file: File, v: &Spanned<T>, summary: impl Into<String>, help: impl Into<String>) {
        let d = Diagnostic::error(summary, self.at(file, v)).with_help(help);
        self.diags.push(d);
    }

    /// A duplicate: the error points at the `second` place, and a note names the `first`.
    pub(super) fn duplicate<T>(
        &mut self,
        file: File,
        second: &Spanned<T>,
        first: &Spanned<T>,
        summary: impl Into<String>,
        note: impl Into<String>,
        help: impl Into<String>,
    ) {
        let first = match file {
            File::Env => Location::new(&self.env_file, first.span()),
            File::Agents => Location::new(&self.agents_file, first.span()),
        };
        let d = Diagnostic::error(summary, self.at(file, second))
            .with_related(first, note)
            .with_help(help);
        self.diags.push(d);
    }

    fn check(&mut self, parsed: &ParsedSpec, inputs: &Inputs) -> Option<ValidSpec> {
        let spec = &parsed.env;
        let env = match EnvName::new(&inputs.env_name) {
            Ok(env) => Some(env),
            Err(why) => {
                self.diags.push(
                    Diagnostic::error(format!("environment name `{}` {why}", inputs.env_name), None)
                        .with_help("rename the spec file, e.g. `environments/staging.toml`"),
                );
                None
            }
        };

        let sizing = match spec.sizing.get_ref().as_str() {
            "dev" => Some(Sizing::Dev),
            "prod" => Some(Sizing::Prod),
            other => {
                let help = suggest(other, ["dev", "prod"], "sizing is `dev` or `prod`");
                self.error(File::Env, &spec.sizing, format!("unknown sizing `{other}`"), help);
                None
            }
        };
        let defaults = Defaults::for_sizing(sizing.unwrap_or(Sizing::Dev));
        let prod = sizing == Some(Sizing::Prod);

        let region = self.region(&spec.region);
        let image_tag = self.image_tag(&spec.image_tag);
        let network = self.network(parsed, &defaults, prod);
        let database = self.database(parsed, &defaults, prod);
        let bedrock = region
            .as_deref()
            .and_then(|r| self.bedrock(parsed, inputs, r, &spec.region));

        let certificate_arn = spec
            .alb
            .certificate_arn
            .as_ref()
            .and_then(|arn| self.certificate(arn, region.as_deref()));
        if prod && spec.alb.certificate_arn.is_none() {
            self.diags.push(
                Diagnostic::error("prod has no HTTPS listener: `[alb] certificate_arn` is missing", None).with_help(
                    format!(
                        "add `[alb]` with `certificate_arn = \"arn:aws:acm:…\"` to {}",
                        self.env_file.name
                    ),
                ),
            );
        }
        let alb_deletion_protection = spec
            .alb
            .deletion_protection
            .as_ref()
            .map_or(defaults.deletion_protection, |v| *v.get_ref());
        if prod
            && let Some(v) = &spec.alb.deletion_protection
            && !v.get_ref()
        {
            self.error(
                File::Env,
                v,
                "prod turns off the load balancer's deletion protection",
                "remove the line or set it to `true`; only dev may turn it off",
            );
        }
        let alarm_email = spec.alarms.email.as_ref().and_then(|e| self.email(e));
        let ecr_replication_regions = self.replication(parsed, region.as_deref());
        let (wait_for_steady_state, cpu_target_percent, log_retention_days) = self.deployment(parsed);
        let backend = self.backend(parsed, env.as_ref(), region.as_deref());
        let agents = self.agents(parsed, &defaults);
        let (security, security_diags) =
            crate::security::validate(&spec.security, sizing.unwrap_or(Sizing::Dev), &self.env_file);
        self.diags.0.extend(security_diags);

        if let Some(env) = &env {
            self.derived_names(env, &agents, parsed);
        }

        Some(ValidSpec {
            env: env?,
            spec_file: self.env_file.name.clone(),
            region: region?,
            sizing: sizing?,
            image_tag: image_tag?,
            vpc_cidr: network.0?,
            az_count: network.1?,
            single_nat_gateway: network.2,
            explicit_subnets: network.3,
            database: database?,
            bedrock: bedrock?,
            certificate_arn,
            alb_deletion_protection,
            alarm_email,
            ecr_replication_regions,
            wait_for_steady_state,
            cpu_target_percent,
            log_retention_days,
            backend,
            security,
            agents,
        })
    }

    /// A whole number in `range`, or the default when absent.
    pub(super) fn count(
        &mut self,
        v: Option<&Spanned<i64>>,
        default: i64,
        range: std::ops::RangeInclusive<i64>,
        label: &str,
        help: &str,
    ) -> Option<u32> {
        match v {
            None => u32::try_from(default).ok(),
            Some(n) if range.contains(n.get_ref()) => u32::try_from(*n.get_ref()).ok(),
            Some(n) => {
                self.error(
                    File::Env,
                    n,
                    format!("{label} {} is outside {}-{}", n.get_ref(), range.start(), range.end()),
                    help,
                );
                None
            }
        }
    }
}

/// "did you mean" help for `word` among `choices`, else `fallback`.
pub(super) fn suggest<'a>(word: &str, choices: impl IntoIterator<Item = &'a str>, fallback: &str) -> String {
    match did_you_mean(word, choices) {
        Some(best) => format!("did you mean `{best}`?"),
        None if fallback.is_empty() => String::new(),
        None => fallback.to_string(),
    }
}
