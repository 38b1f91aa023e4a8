//! Validate stage: raw spec → [`ValidSpec`], every value checked and typed, or every problem found.
//!
//! Checks run to the end and collect all diagnostics before failing once. Defaults that a rule depends
//! on are applied here (through [`Defaults`]); names, CIDRs and priorities are derived in
//! [`crate::resolve`], which never fails. This module does not render anything.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::cidr::Ipv4Cidr;
use crate::diag::{Diagnostic, Diagnostics, Location, SourceFile, did_you_mean};
use crate::fargate::FargateSize;
use crate::load::Inputs;
use crate::model::{Backend, Bedrock, ModelSource, Sizing};
use crate::names::{AgentName, AgentNames, EnvName, EnvNames};
use crate::regions;
use crate::resolve::default_subnets;
use crate::spec::{AgentSpec, ParsedSpec, Spanned};

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
/// CloudWatch Logs accepts only these retention periods.
pub const LOG_RETENTION_CHOICES: [i64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

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
    fn at<T>(&self, file: File, v: &Spanned<T>) -> Option<Location> {
        let f = match file {
            File::Env => &self.env_file,
            File::Agents => &self.agents_file,
        };
        Some(Location::new(f, v.span()))
    }

    fn error<T>(&mut self, file: File, v: &Spanned<T>, summary: impl Into<String>, help: impl Into<String>) {
        let d = Diagnostic::error(summary, self.at(file, v)).with_help(help);
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

    fn region(&mut self, region: &Spanned<String>) -> Option<String> {
        let name = region.get_ref();
        let Some(r) = regions::region(name) else {
            let help = suggest(
                name,
                regions::REGIONS.iter().map(|r| r.name),
                "use a commercial AWS region such as `eu-west-1`",
            );
            self.error(File::Env, region, format!("unknown AWS region `{name}`"), help);
            return None;
        };
        if !r.data_api {
            let offered: Vec<&str> = regions::REGIONS.iter().filter(|r| r.data_api).map(|r| r.name).collect();
            self.error(
                File::Env,
                region,
                format!("the RDS Data API for Aurora PostgreSQL is not offered in `{name}`"),
                format!(
                    "the plan's agents need the Data API; regions that offer it: {}",
                    offered.join(", ")
                ),
            );
        }
        Some(name.clone())
    }

    fn image_tag(&mut self, tag: &Spanned<String>) -> Option<String> {
        let t = tag.get_ref();
        let ok = !t.is_empty()
            && t.len() <= 128
            && t.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !ok {
            self.error(
                File::Env,
                tag,
                format!("`{t}` is not a valid image tag"),
                "up to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`",
            );
            return None;
        }
        if t == "latest" {
            self.error(
                File::Env,
                tag,
                "`latest` cannot be deployed: ECR tags are immutable",
                "tag images with a version or a git SHA and name it here",
            );
            return None;
        }
        Some(t.clone())
    }

    #[allow(clippy::type_complexity)]
    fn network(
        &mut self,
        parsed: &ParsedSpec,
        defaults: &Defaults,
        prod: bool,
    ) -> (
        Option<Ipv4Cidr>,
        Option<u8>,
        bool,
        Option<(Vec<Ipv4Cidr>, Vec<Ipv4Cidr>)>,
    ) {
        let net = &parsed.env.network;
        let vpc = match &net.vpc_cidr {
            None => Ipv4Cidr::parse(DEFAULT_VPC_CIDR).ok(),
            Some(v) => match Ipv4Cidr::parse(v.get_ref()) {
                Ok(c) if (16..=28).contains(&c.prefix()) => Some(c),
                Ok(c) => {
                    self.error(
                        File::Env,
                        v,
                        format!("VPC prefix /{} is outside /16-/28", c.prefix()),
                        "AWS VPCs are between /16 (65,536 addresses) and /28 (16)",
                    );
                    None
                }
                Err(why) => {
                    self.error(File::Env, v, format!("invalid VPC CIDR `{}`", v.get_ref()), why);
                    None
                }
            },
        };
        let az_count = match &net.az_count {
            None => Some(DEFAULT_AZ_COUNT),
            Some(n) if (2..=6).contains(n.get_ref()) => Some(*n.get_ref()),
            Some(n) if *n.get_ref() == 1 => {
                let why = if prod {
                    "prod's Multi-AZ database and load balancer need"
                } else {
                    "an ALB and an Aurora subnet group need"
                };
                self.error(
                    File::Env,
                    n,
                    "one availability zone is not enough",
                    format!("{why} at least 2 AZs; set `az_count = 2`"),
                );
                None
            }
            Some(n) => {
                self.error(
                    File::Env,
                    n,
                    format!("az_count {} is outside 2-6", n.get_ref()),
                    "use 2 (the plan) or 3",
                );
                None
            }
        }
        .and_then(|n| u8::try_from(n).ok());
        let single_nat = match &net.nat {
            None => defaults.single_nat_gateway,
            Some(v) => match v.get_ref().as_str() {
                "single" => true,
                "per-az" => false,
                other => {
                    let help = suggest(
                        other,
                        ["single", "per-az"],
                        "`single` (one NAT gateway) or `per-az` (one per AZ)",
                    );
                    self.error(File::Env, v, format!("unknown NAT mode `{other}`"), help);
                    defaults.single_nat_gateway
                }
            },
        };

        let explicit = match (&net.public_subnets, &net.private_subnets) {
            (None, None) => None,
            (Some(public), Some(private)) => Some((public, private)),
            (Some(one), None) | (None, Some(one)) => {
                self.error(
                    File::Env,
                    one,
                    "only one of `public_subnets` and `private_subnets` is set",
                    "set both, or neither to derive the plan's layout from the VPC CIDR",
                );
                None
            }
        };
        let explicit = match (explicit, vpc, az_count) {
            (Some((public, private)), Some(vpc), Some(n)) => self.explicit_subnets(vpc, n, public, private),
            _ => None,
        };
        if explicit.is_none()
            && net.public_subnets.is_none()
            && let (Some(vpc), Some(n)) = (vpc, az_count)
            && default_subnets(vpc, n).is_none()
            && let Some(v) = &net.vpc_cidr
        {
            self.error(
                File::Env,
                v,
                format!("VPC {vpc} is too small for {n} public and {n} private subnets"),
                "use a larger VPC (e.g. a /16) or list `public_subnets` and `private_subnets`",
            );
        }
        (vpc, az_count, single_nat, explicit)
    }

    fn explicit_subnets(
        &mut self,
        vpc: Ipv4Cidr,
        az_count: u8,
        public: &Spanned<Vec<Spanned<String>>>,
        private: &Spanned<Vec<Spanned<String>>>,
    ) -> Option<(Vec<Ipv4Cidr>, Vec<Ipv4Cidr>)> {
        let mut seen: Vec<(Ipv4Cidr, &Spanned<String>)> = Vec::new();
        let mut ok = true;
        let mut lists = Vec::new();
        for (label, list) in [("public_subnets", public), ("private_subnets", private)] {
            if list.get_ref().len() != usize::from(az_count) {
                self.error(
                    File::Env,
                    list,
                    format!(
                        "`{label}` lists {} subnets for {az_count} availability zones",
                        list.get_ref().len()
                    ),
                    "list exactly one subnet per AZ",
                );
                ok = false;
            }
            let mut out = Vec::new();
            for item in list.get_ref() {
                match Ipv4Cidr::parse(item.get_ref()) {
                    Err(why) => {
                        self.error(
                            File::Env,
                            item,
                            format!("invalid subnet CIDR `{}`", item.get_ref()),
                            why,
                        );
                        ok = false;
                    }
                    Ok(c) if !vpc.contains(c) => {
                        self.error(
                            File::Env,
                            item,
                            format!("subnet {c} is outside the VPC {vpc}"),
                            format!("pick a block inside {vpc}"),
                        );
                        ok = false;
                    }
                    Ok(c) if c.prefix() > 28 => {
                        self.error(
                            File::Env,
                            item,
                            format!("subnet {c} is smaller than /28"),
                            "AWS subnets are /16 to /28",
                        );
                        ok = false;
                    }
                    Ok(c) => {
                        if let Some((first, first_at)) = seen.iter().find(|(s, _)| s.overlaps(c)) {
                            let d = Diagnostic::error(format!("subnet {c} overlaps {first}"), self.at(File::Env, item))
                                .with_related(
                                    self.at(File::Env, first_at).expect("env location"),
                                    format!("{first} is defined first"),
                                )
                                .with_help("subnets of one VPC must not overlap");
                            self.diags.push(d);
                            ok = false;
                        }
                        seen.push((c, item));
                        out.push(c);
                    }
                }
            }
            lists.push(out);
        }
        let private = lists.pop()?;
        let public = lists.pop()?;
        ok.then_some((public, private))
    }

    fn database(&mut self, parsed: &ParsedSpec, defaults: &Defaults, prod: bool) -> Option<ValidDatabase> {
        let db = &parsed.env.database;
        let mut ok = true;
        let engine_version = match &db.engine_version {
            None => regions::DEFAULT_ENGINE_VERSION.to_string(),
            Some(v) => {
                let text = v.get_ref();
                match regions::parse_version(text) {
                    Some(parsed) if parsed < regions::DATA_API_MIN_VERSION => {
                        self.error(
                            File::Env,
                            v,
                            format!("Aurora PostgreSQL {text} has no RDS Data API on Serverless v2"),
                            format!(
                                "use {} (the default, a long-term-support release) or later",
                                regions::DEFAULT_ENGINE_VERSION
                            ),
                        );
                        ok = false;
                    }
                    _ if !regions::CREATABLE_ENGINE_VERSIONS.contains(&text.as_str()) => {
                        let help = suggest(text, regions::CREATABLE_ENGINE_VERSIONS, "");
                        self.error(
                            File::Env,
                            v,
                            format!("Aurora PostgreSQL {text} cannot be created"),
                            format!(
                                "{help} versions tfgen knows can be created: {}; the default is {}",
                                regions::CREATABLE_ENGINE_VERSIONS.join(", "),
                                regions::DEFAULT_ENGINE_VERSION
                            )
                            .trim()
                            .to_string(),
                        );
                        ok = false;
                    }
                    _ => {}
                }
                text.clone()
            }
        };
        let acu = |v: &Option<Spanned<f64>>, default: f64| v.as_ref().map_or(default, |v| *v.get_ref());
        let (min_acu, max_acu) = (acu(&db.min_acu, 0.5), acu(&db.max_acu, 4.0));
        for (label, v) in [("min_acu", &db.min_acu), ("max_acu", &db.max_acu)] {
            if let Some(v) = v {
                let x = *v.get_ref();
                if !(x * 2.0).fract().eq(&0.0) || !x.is_finite() {
                    self.error(
                        File::Env,
                        v,
                        format!("{label} {x} is not a multiple of 0.5"),
                        "Aurora Serverless v2 capacity moves in 0.5 ACU steps",
                    );
                    ok = false;
                } else if !(0.5..=256.0).contains(&x) {
                    self.error(
                        File::Env,
                        v,
                        format!("{label} {x} is outside 0.5-256 ACU"),
                        "Aurora Serverless v2 scales between 0.5 and 256 ACU",
                    );
                    ok = false;
                }
            }
        }
        if min_acu > max_acu {
            let at = db
                .min_acu
                .as_ref()
                .or(db.max_acu.as_ref())
                .expect("one of them was written");
            self.error(
                File::Env,
                at,
                format!("min_acu {min_acu} is above max_acu {max_acu}"),
                "min_acu must be at most max_acu",
            );
            ok = false;
        }
        let instances = self.count(
            db.instances.as_ref(),
            defaults.db_instances,
            1..=16,
            "instances",
            "an Aurora cluster has 1 to 16 instances",
        );
        if prod
            && let (Some(n), Some(v)) = (instances, &db.instances)
            && n < 2
        {
            self.error(
                File::Env,
                v,
                "prod needs a writer and a reader in two AZs",
                "set `instances = 2` or more (the plan's Multi-AZ)",
            );
            ok = false;
        }
        let backup = self.count(
            db.backup_retention_days.as_ref(),
            DEFAULT_BACKUP_RETENTION_DAYS,
            1..=35,
            "backup_retention_days",
            "Aurora keeps automated backups for 1 to 35 days",
        );
        let deletion_protection = db
            .deletion_protection
            .as_ref()
            .map_or(defaults.deletion_protection, |v| *v.get_ref());
        if prod
            && let Some(v) = &db.deletion_protection
            && !v.get_ref()
        {
            self.error(
                File::Env,
                v,
                "prod turns off the database's deletion protection",
                "remove the line or set it to `true`; only dev may turn it off",
            );
            ok = false;
        }
        let database_name = match &db.database_name {
            None => DEFAULT_DATABASE_NAME.to_string(),
            Some(v) => {
                let n = v.get_ref();
                let valid = n.len() <= 63
                    && n.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                    && n.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                if !valid {
                    self.error(
                        File::Env,
                        v,
                        format!("`{n}` is not a valid PostgreSQL database name"),
                        "lowercase letters, digits and `_`, starting with a letter, at most 63 characters",
                    );
                    ok = false;
                }
                n.clone()
            }
        };
        (ok).then_some(ValidDatabase {
            engine_version,
            database_name,
            min_acu,
            max_acu,
            instances: instances?,
            backup_retention_days: backup?,
            deletion_protection,
        })
    }

    /// A whole number in `range`, or the default when absent.
    fn count(
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

    fn bedrock(
        &mut self,
        parsed: &ParsedSpec,
        inputs: &Inputs,
        region: &str,
        region_at: &Spanned<String>,
    ) -> Option<Bedrock> {
        let spec_model = parsed.env.bedrock.model.as_ref();
        let (id, source) = match (&inputs.overrides.bedrock_model_id, spec_model) {
            (Some(env), _) => (env.clone(), ModelSource::EnvVar),
            (None, Some(m)) => (m.get_ref().clone(), ModelSource::Spec),
            (None, None) => (regions::DEFAULT_MODEL.to_string(), ModelSource::Default),
        };
        // Where to point: the spec's model line, else the region line.
        let at = match source {
            ModelSource::Spec => spec_model.map(|m| self.at(File::Env, m)).unwrap_or_default(),
            ModelSource::EnvVar => None,
            ModelSource::Default => self.at(File::Env, region_at),
        };
        let origin = match source {
            ModelSource::EnvVar => " (from BEDROCK_MODEL_ID)",
            _ => "",
        };
        let home = regions::profile_group_for_region(region);
        let (group, model) = match (regions::split_profile(&id), home) {
            (Some((group, model)), Some(home)) if group.prefix == home.prefix => (group, model.to_string()),
            (Some((group, model)), _) => {
                let help = match home {
                    Some(home) => format!(
                        "from {region} use the `{}.` profile: `{}.{model}`",
                        home.prefix, home.prefix
                    ),
                    None => format!(
                        "`{}.` profiles can be invoked only from {}",
                        group.prefix,
                        group.regions.join(", ")
                    ),
                };
                self.diags.push(
                    Diagnostic::error(
                        format!("Bedrock profile `{id}`{origin} cannot be invoked from {region}"),
                        at,
                    )
                    .with_help(help),
                );
                return None;
            }
            (None, Some(home)) => (home, id.clone()),
            (None, None) => {
                let all: Vec<&str> = regions::PROFILE_GROUPS
                    .iter()
                    .flat_map(|g| g.regions.iter().copied())
                    .collect();
                self.diags.push(
                    Diagnostic::error(
                        format!("no Bedrock cross-region inference profile for `{id}`{origin} in {region}"),
                        at,
                    )
                    .with_help(format!("deploy to a region with a profile: {}", all.join(", "))),
                );
                return None;
            }
        };
        if !model.contains('.') || model.contains(char::is_whitespace) {
            self.diags.push(
                Diagnostic::error(format!("`{id}`{origin} is not a Bedrock model ID"), at)
                    .with_help(format!("e.g. `{}`", regions::DEFAULT_MODEL)),
            );
            return None;
        }
        match regions::model_geographies(&model) {
            Some(geos) if !geos.contains(&group.prefix) => {
                self.diags.push(
                    Diagnostic::error(
                        format!(
                            "`{model}`{origin} has no `{}.` inference profile, so it cannot run from {region}",
                            group.prefix
                        ),
                        at,
                    )
                    .with_help(format!(
                        "it is offered in the {} geographies; pick another model or region",
                        geos.join(", ")
                    )),
                );
                return None;
            }
            Some(_) => {}
            None => self.diags.push(
                Diagnostic::warning(
                    format!(
                        "tfgen does not know the model `{model}`{origin}; its `{}.` profile is assumed to exist",
                        group.prefix
                    ),
                    at,
                )
                .with_help("check `aws bedrock list-inference-profiles` in the region before applying"),
            ),
        }
        Some(Bedrock {
            profile_id: format!("{}.{model}", group.prefix),
            model_id: model,
            destination_regions: group.regions.iter().map(ToString::to_string).collect(),
            source,
        })
    }

    fn certificate(&mut self, arn: &Spanned<String>, region: Option<&str>) -> Option<String> {
        let text = arn.get_ref();
        let parts: Vec<&str> = text.splitn(6, ':').collect();
        let well_formed = parts.len() == 6
            && parts[0] == "arn"
            && parts[1].starts_with("aws")
            && parts[2] == "acm"
            && parts[4].len() == 12
            && parts[4].chars().all(|c| c.is_ascii_digit())
            && parts[5]
                .strip_prefix("certificate/")
                .is_some_and(|id| id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-'));
        if !well_formed {
            self.error(
                File::Env,
                arn,
                "malformed ACM certificate ARN",
                "expected `arn:aws:acm:<region>:<12-digit account>:certificate/<uuid>`",
            );
            return None;
        }
        if let Some(region) = region
            && parts[3] != region
        {
            self.error(
                File::Env,
                arn,
                format!("the certificate is in {}, the load balancer in {region}", parts[3]),
                format!(
                    "an ALB can only use an ACM certificate from its own region; request or import one in {region}"
                ),
            );
            return None;
        }
        Some(text.clone())
    }

    fn email(&mut self, email: &Spanned<String>) -> Option<String> {
        let e = email.get_ref();
        let valid = e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.starts_with('.')
                && domain.contains('.')
                && !domain.ends_with('.')
                && !e.contains(char::is_whitespace)
                && domain
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        });
        if !valid {
            self.error(
                File::Env,
                email,
                format!("`{e}` is not an e-mail address"),
                "e.g. `platform-oncall@example.com`",
            );
            return None;
        }
        Some(e.clone())
    }

    fn replication(&mut self, parsed: &ParsedSpec, region: Option<&str>) -> Vec<String> {
        let Some(list) = &parsed.env.ecr.replication_regions else {
            return Vec::new();
        };
        let mut out: Vec<(String, &Spanned<String>)> = Vec::new();
        for r in list.get_ref() {
            let name = r.get_ref();
            if regions::region(name).is_none() {
                let help = suggest(name, regions::REGIONS.iter().map(|r| r.name), "");
                self.error(
                    File::Env,
                    r,
                    format!("unknown replication region `{name}`"),
                    if help.is_empty() {
                        "use a commercial AWS region".to_string()
                    } else {
                        help
                    },
                );
            } else if Some(name.as_str()) == region {
                self.error(
                    File::Env,
                    r,
                    format!("`{name}` is this environment's own region"),
                    "replicate to another region for disaster recovery",
                );
            } else if let Some((_, first)) = out.iter().find(|(n, _)| n == name) {
                let d = Diagnostic::error(
                    format!("replication region `{name}` is listed twice"),
                    self.at(File::Env, r),
                )
                .with_related(self.at(File::Env, first).expect("location"), "first listed here")
                .with_help("list each region once");
                self.diags.push(d);
            } else {
                out.push((name.clone(), r));
            }
        }
        out.into_iter().map(|(n, _)| n).collect()
    }

    fn deployment(&mut self, parsed: &ParsedSpec) -> (bool, u32, u32) {
        let d = &parsed.env.deployment;
        let wait = d.wait_for_steady_state.as_ref().is_some_and(|v| *v.get_ref());
        let target = self
            .count(
                d.cpu_target_percent.as_ref(),
                DEFAULT_CPU_TARGET_PERCENT,
                1..=100,
                "cpu_target_percent",
                "target tracking takes a CPU percentage between 1 and 100",
            )
            .unwrap_or(70);
        let retention = match &d.log_retention_days {
            None => 30,
            Some(v) if LOG_RETENTION_CHOICES.contains(v.get_ref()) => u32::try_from(*v.get_ref()).unwrap_or(30),
            Some(v) => {
                let nearest = LOG_RETENTION_CHOICES
                    .iter()
                    .min_by_key(|c| (*c - v.get_ref()).abs())
                    .copied()
                    .unwrap_or(30);
                self.error(
                    File::Env,
                    v,
                    format!("CloudWatch Logs has no {}-day retention", v.get_ref()),
                    format!("the nearest allowed value is {nearest}"),
                );
                30
            }
        };
        (wait, target, retention)
    }

    fn backend(&mut self, parsed: &ParsedSpec, env: Option<&EnvName>, region: Option<&str>) -> Backend {
        let Some(s3) = parsed.env.backend.as_ref().and_then(|b| b.s3.as_ref()) else {
            return Backend::Local;
        };
        let bucket = s3.bucket.get_ref();
        let valid = (3..=63).contains(&bucket.len())
            && bucket
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.'))
            && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
            && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !valid {
            self.error(
                File::Env,
                &s3.bucket,
                format!("`{bucket}` is not a valid S3 bucket name"),
                "3-63 lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit",
            );
        }
        if let Some(r) = &s3.region
            && regions::region(r.get_ref()).is_none()
        {
            self.error(
                File::Env,
                r,
                format!("unknown AWS region `{}`", r.get_ref()),
                "the region of the state bucket",
            );
        }
        Backend::S3 {
            bucket: bucket.clone(),
            key: s3.key.as_ref().map_or_else(
                || format!("tfgen/{}/terraform.tfstate", env.map_or("env", EnvName::as_str)),
                |k| k.get_ref().clone(),
            ),
            region: s3
                .region
                .as_ref()
                .map_or_else(|| region.unwrap_or_default().to_string(), |r| r.get_ref().clone()),
        }
    }

    fn agents(&mut self, parsed: &ParsedSpec, defaults: &Defaults) -> Vec<ValidAgent> {
        if parsed.agents.agents.is_empty() {
            self.diags.push(
                Diagnostic::error("no agents are declared", None)
                    .with_help(format!("declare at least one `[[agent]]` in {}", self.agents_file.name)),
            );
        }
        let mut names: BTreeMap<String, &Spanned<String>> = BTreeMap::new();
        let mut ports: BTreeMap<i64, &Spanned<i64>> = BTreeMap::new();
        let mut paths: BTreeMap<String, &Spanned<String>> = BTreeMap::new();
        let mut out = Vec::new();
        let mut rules = 0;
        for agent in &parsed.agents.agents {
            let name = self.agent_name(agent, &mut names);
            let port = self.agent_port(agent, &mut ports);
            let agent_paths = self.agent_paths(agent, &mut paths);
            rules += usize::from(!agent_paths.is_empty());
            if rules == MAX_LISTENER_RULES + 1 {
                self.error(
                    File::Agents,
                    &agent.paths,
                    format!("this agent's path rule is the {}st on one listener; an ALB allows {MAX_LISTENER_RULES} by default", MAX_LISTENER_RULES + 1),
                    "merge agents' paths, or ask AWS for a quota increase and split the agents over two load balancers",
                );
            }
            let health = match &agent.health_check_path {
                None => DEFAULT_HEALTH_CHECK_PATH.to_string(),
                Some(p) => {
                    if !p.get_ref().starts_with('/')
                        || p.get_ref().len() > 1024
                        || p.get_ref().contains(char::is_whitespace)
                    {
                        self.error(
                            File::Agents,
                            p,
                            format!("health check path `{}` is not a URL path", p.get_ref()),
                            "start it with `/`, e.g. `/health`",
                        );
                    }
                    p.get_ref().clone()
                }
            };
            let renamed_from = agent
                .renamed_from
                .as_ref()
                .and_then(|r| match AgentName::new(r.get_ref()) {
                    Ok(n) => Some(n),
                    Err(why) => {
                        self.error(
                            File::Agents,
                            r,
                            format!("renamed_from `{}` {why}", r.get_ref()),
                            "give the agent's previous name exactly as it was",
                        );
                        None
                    }
                });
            let overrides = parsed
                .env
                .agents
                .iter()
                .find(|(k, _)| k.get_ref() == agent.name.get_ref())
                .map(|(_, v)| v);
            let sizing = self.agent_sizing(overrides, defaults);
            if let (Some(name), Some(port), Some((size, desired, max))) = (name, port, sizing) {
                out.push(ValidAgent {
                    name,
                    renamed_from,
                    port,
                    paths: agent_paths,
                    health_check_path: health,
                    size,
                    desired_count: desired,
                    max_count: max,
                });
            }
        }
        for key in parsed.env.agents.keys() {
            if !names.contains_key(key.get_ref()) {
                let help = suggest(
                    key.get_ref(),
                    names.keys().map(String::as_str),
                    "override only agents that agents.toml declares",
                );
                self.error(
                    File::Env,
                    key,
                    format!("`{}` is not a declared agent", key.get_ref()),
                    help,
                );
            }
        }
        for agent in &out {
            if let Some(old) = &agent.renamed_from
                && names.contains_key(old.as_str())
            {
                let at = parsed
                    .agents
                    .agents
                    .iter()
                    .find(|a| a.name.get_ref() == agent.name.as_str())
                    .and_then(|a| a.renamed_from.as_ref());
                if let Some(at) = at {
                    self.error(
                        File::Agents,
                        at,
                        format!("`{old}` is renamed, but an agent named `{old}` still exists"),
                        "remove `renamed_from`, or remove the other agent",
                    );
                }
            }
        }
        out
    }

    fn agent_name<'p>(
        &mut self,
        agent: &'p AgentSpec,
        seen: &mut BTreeMap<String, &'p Spanned<String>>,
    ) -> Option<AgentName> {
        let raw = agent.name.get_ref();
        let name = match AgentName::new(raw) {
            Ok(n) => Some(n),
            Err(why) => {
                self.error(
                    File::Agents,
                    &agent.name,
                    format!("agent name `{raw}` {why}"),
                    "agent names become parts of AWS names: lowercase letters, digits and single hyphens",
                );
                None
            }
        };
        if let Some(first) = seen.get(raw) {
            let d = Diagnostic::error(
                format!("agent `{raw}` is declared twice"),
                self.at(File::Agents, &agent.name),
            )
            .with_related(self.at(File::Agents, first).expect("location"), "first declared here")
            .with_help("agent names must be unique; rename or remove one");
            self.diags.push(d);
            return None;
        }
        seen.insert(raw.clone(), &agent.name);
        name
    }

    fn agent_port<'p>(&mut self, agent: &'p AgentSpec, seen: &mut BTreeMap<i64, &'p Spanned<i64>>) -> Option<u16> {
        let p = *agent.port.get_ref();
        let Ok(port) = u16::try_from(p) else {
            self.error(
                File::Agents,
                &agent.port,
                format!("port {p} is outside 1-65535"),
                "the plan's agents use 8000-8004",
            );
            return None;
        };
        if port == 0 || port == 5432 {
            self.error(
                File::Agents,
                &agent.port,
                format!("port {p} cannot be an agent port"),
                if port == 0 {
                    "use 1-65535"
                } else {
                    "5432 is the database port"
                },
            );
            return None;
        }
        if let Some(first) = seen.get(&p) {
            let d = Diagnostic::error(
                format!("port {p} is used by two agents"),
                self.at(File::Agents, &agent.port),
            )
            .with_related(self.at(File::Agents, first).expect("location"), "first used here")
            .with_help("give each agent its own port");
            self.diags.push(d);
            return None;
        }
        seen.insert(p, &agent.port);
        Some(port)
    }

    fn agent_paths<'p>(
        &mut self,
        agent: &'p AgentSpec,
        seen: &mut BTreeMap<String, &'p Spanned<String>>,
    ) -> Vec<String> {
        let list = agent.paths.get_ref();
        if list.is_empty() {
            self.error(
                File::Agents,
                &agent.paths,
                format!("agent `{}` has no paths", agent.name.get_ref()),
                "route at least one path pattern to it, e.g. `[\"/order/*\"]`",
            );
        }
        if list.len() > MAX_PATHS_PER_AGENT {
            self.error(
                File::Agents,
                &agent.paths,
                format!(
                    "{} path patterns in one rule; an ALB rule takes at most {MAX_PATHS_PER_AGENT}",
                    list.len()
                ),
                "use wildcards to cover several paths with one pattern",
            );
        }
        let mut out = Vec::new();
        for p in list {
            let text = p.get_ref();
            let allowed = |c: char| c.is_ascii_alphanumeric() || "_-.$/~\"'@:+&*?".contains(c);
            if !text.starts_with('/') || text.len() > 128 || !text.chars().all(allowed) {
                self.error(File::Agents, p, format!("`{text}` is not a path pattern an ALB accepts"), "start with `/`, at most 128 characters of A-Z a-z 0-9 _ - . $ / ~ \" ' @ : + & and the wildcards * and ?");
                continue;
            }
            if let Some(first) = seen.get(text) {
                let d = Diagnostic::error(
                    format!("path pattern `{text}` is routed to two agents"),
                    self.at(File::Agents, p),
                )
                .with_related(self.at(File::Agents, first).expect("location"), "first routed here")
                .with_help("each path pattern goes to one agent");
                self.diags.push(d);
                continue;
            }
            seen.insert(text.clone(), p);
            out.push(text.clone());
        }
        out
    }

    fn agent_sizing(
        &mut self,
        o: Option<&crate::spec::AgentOverride>,
        defaults: &Defaults,
    ) -> Option<(FargateSize, u32, u32)> {
        let get = |v: Option<&Spanned<i64>>, d: i64| v.map_or(d, |v| *v.get_ref());
        let o = o.cloned().unwrap_or_default();
        let (cpu, memory) = (
            get(o.cpu.as_ref(), defaults.cpu),
            get(o.memory.as_ref(), defaults.memory),
        );
        let size = match FargateSize::new(cpu, memory) {
            Ok(s) => Some(s),
            Err(why) => {
                let cpu_is_wrong = FargateSize::new(cpu, 2 * cpu).is_err() && FargateSize::new(cpu, 2048).is_err();
                let at = if cpu_is_wrong {
                    o.cpu.as_ref().or(o.memory.as_ref())
                } else {
                    o.memory.as_ref().or(o.cpu.as_ref())
                };
                let d = Diagnostic::error(
                    format!("invalid Fargate size: {why}"),
                    at.and_then(|a| self.at(File::Env, a)),
                )
                .with_help("see the Fargate task CPU and memory table; e.g. cpu = 1024 with memory = 2048");
                self.diags.push(d);
                None
            }
        };
        let desired = get(o.desired_count.as_ref(), defaults.desired_count);
        let max = get(o.max_count.as_ref(), defaults.max_count.max(desired));
        let problem = if desired < 0 {
            Some((
                o.desired_count.as_ref(),
                format!("desired_count {desired} is negative"),
                "use 0 to stop an agent, or a positive count",
            ))
        } else if desired > 1000 {
            Some((
                o.desired_count.as_ref(),
                format!("desired_count {desired} is above 1000"),
                "ECS runs at most 1000 tasks per service by default",
            ))
        } else if !(1..=1000).contains(&max) {
            Some((
                o.max_count.as_ref(),
                format!("max_count {max} is outside 1-1000"),
                "autoscaling needs a maximum between 1 and 1000",
            ))
        } else if desired > max {
            Some((
                o.desired_count.as_ref().or(o.max_count.as_ref()),
                format!("desired_count {desired} is above max_count {max}"),
                "autoscaling runs between desired_count and max_count; raise max_count",
            ))
        } else {
            None
        };
        let ok = problem.is_none();
        if let Some((at, summary, help)) = problem {
            let location = at.and_then(|a| self.at(File::Env, a));
            self.diags.push(Diagnostic::error(summary, location).with_help(help));
        }
        let (desired, max) = (u32::try_from(desired).ok()?, u32::try_from(max).ok()?);
        if ok { size.map(|s| (s, desired, max)) } else { None }
    }

    fn derived_names(&mut self, env: &EnvName, agents: &[ValidAgent], parsed: &ParsedSpec) {
        for (kind, name) in EnvNames::derive(env).all() {
            if name.len() > kind.limit() {
                self.diags.push(
                    Diagnostic::error(
                        format!(
                            "derived {} `{name}` is {} characters; AWS allows {}",
                            kind.describe(),
                            name.len(),
                            kind.limit()
                        ),
                        None,
                    )
                    .with_help("use a shorter environment name"),
                );
            }
        }
        for agent in agents {
            let physical = agent.renamed_from.as_ref().unwrap_or(&agent.name);
            for (kind, name) in AgentNames::derive(env, physical.as_str()).all() {
                if name.len() > kind.limit() {
                    let at = parsed
                        .agents
                        .agents
                        .iter()
                        .find(|a| a.name.get_ref() == agent.name.as_str())
                        .map(|a| &a.name);
                    let d = Diagnostic::error(
                        format!(
                            "derived {} `{name}` is {} characters; AWS allows {}",
                            kind.describe(),
                            name.len(),
                            kind.limit()
                        ),
                        at.and_then(|a| self.at(File::Agents, a)),
                    )
                    .with_help(format!(
                        "shorten the agent name by {} characters",
                        name.len() - kind.limit()
                    ));
                    self.diags.push(d);
                }
            }
        }
    }
}

/// "did you mean" help for `word` among `choices`, else `fallback`.
fn suggest<'a>(word: &str, choices: impl IntoIterator<Item = &'a str>, fallback: &str) -> String {
    match did_you_mean(word, choices) {
        Some(best) => format!("did you mean `{best}`?"),
        None if fallback.is_empty() => String::new(),
        None => fallback.to_string(),
    }
}
