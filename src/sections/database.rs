//! `[database]`: the Aurora PostgreSQL Serverless v2 cluster. Engine version (creatable, with the Data
//! API), capacity, instances, backups, deletion protection, database name. Raw form, checks, resolved form.
//!
//! The cluster identifier is a derived name ([`crate::names::EnvNames`]); this module builds no settings
//! beyond the checked values.

use serde::{Deserialize, Serialize};

use super::context::{Checker, SpecFile, suggest};
use super::defaults::Defaults;
use crate::diag::rules;
use crate::regions;
use crate::spec::Spanned;

rules! {
    /// The diagnostics this module reports (`[database]`).
    pub enum Rule {
        EngineWithoutDataApi,
        EngineNotCreatable,
        AcuStep,
        AcuRange,
        AcuMinAboveMax,
        DbInstances,
        ProdSingleDbInstance,
        DbBackupRetention,
        ProdDatabaseUnprotected,
        DatabaseName,
    }
}

pub const DEFAULT_DATABASE_NAME: &str = "multi_agent";
pub const DEFAULT_MIN_ACU: f64 = 0.5;
pub const DEFAULT_MAX_ACU: f64 = 4.0;
pub const DEFAULT_BACKUP_RETENTION_DAYS: u32 = 7;
/// The master user; its password is generated and kept in Secrets Manager.
pub const MASTER_USERNAME: &str = "multi_agent_admin";

/// `[database]` as written.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSpec {
    pub engine_version: Option<Spanned<String>>,
    pub min_acu: Option<Spanned<f64>>,
    pub max_acu: Option<Spanned<f64>>,
    pub instances: Option<Spanned<i64>>,
    pub backup_retention_days: Option<Spanned<i64>>,
    pub deletion_protection: Option<Spanned<bool>>,
    pub database_name: Option<Spanned<String>>,
}

/// The database, resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Database {
    pub engine_version: String,
    pub database_name: String,
    pub master_username: String,
    pub min_acu: f64,
    pub max_acu: f64,
    pub instances: u32,
    pub backup_retention_days: u32,
    pub deletion_protection: bool,
    /// Take a final snapshot on destroy (prod) or not (dev).
    pub final_snapshot: bool,
}

/// Checks `[database]` and applies the sizing's defaults.
pub fn check(cx: &mut Checker, db: &DatabaseSpec, defaults: &Defaults, prod: bool) -> Option<Database> {
    let mut ok = true;
    let engine_version = match &db.engine_version {
        None => regions::DEFAULT_ENGINE_VERSION.to_string(),
        Some(v) => {
            let text = v.get_ref();
            match regions::parse_version(text) {
                Some(parsed) if parsed < regions::DATA_API_MIN_VERSION => {
                    cx.error(
                        Rule::EngineWithoutDataApi,
                        SpecFile::Env,
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
                    cx.error(
                        Rule::EngineNotCreatable,
                        SpecFile::Env,
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
    let (min_acu, max_acu) = (acu(&db.min_acu, DEFAULT_MIN_ACU), acu(&db.max_acu, DEFAULT_MAX_ACU));
    for (label, v) in [("min_acu", &db.min_acu), ("max_acu", &db.max_acu)] {
        if let Some(v) = v {
            let x = *v.get_ref();
            if !(x * 2.0).fract().eq(&0.0) || !x.is_finite() {
                cx.error(
                    Rule::AcuStep,
                    SpecFile::Env,
                    v,
                    format!("{label} {x} is not a multiple of 0.5"),
                    "Aurora Serverless v2 capacity moves in 0.5 ACU steps",
                );
                ok = false;
            } else if !(0.5..=256.0).contains(&x) {
                cx.error(
                    Rule::AcuRange,
                    SpecFile::Env,
                    v,
                    format!("{label} {x} is outside 0.5-256 ACU"),
                    "Aurora Serverless v2 scales between 0.5 and 256 ACU",
                );
                ok = false;
            }
        }
    }
    // The defaults are in order, so a written value is what puts them out of order.
    if min_acu > max_acu
        && let Some(at) = db.min_acu.as_ref().or(db.max_acu.as_ref())
    {
        cx.error(
            Rule::AcuMinAboveMax,
            SpecFile::Env,
            at,
            format!("min_acu {min_acu} is above max_acu {max_acu}"),
            "min_acu must be at most max_acu",
        );
        ok = false;
    }
    let instances = cx.count(
        Rule::DbInstances,
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
        cx.error(
            Rule::ProdSingleDbInstance,
            SpecFile::Env,
            v,
            "prod needs a writer and a reader in two AZs",
            "set `instances = 2` or more (the plan's Multi-AZ)",
        );
        ok = false;
    }
    let backup = cx.count(
        Rule::DbBackupRetention,
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
        cx.error(
            Rule::ProdDatabaseUnprotected,
            SpecFile::Env,
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
                cx.error(
                    Rule::DatabaseName,
                    SpecFile::Env,
                    v,
                    format!("`{n}` is not a valid PostgreSQL database name"),
                    "lowercase letters, digits and `_`, starting with a letter, at most 63 characters",
                );
                ok = false;
            }
            n.clone()
        }
    };
    ok.then_some(Database {
        engine_version,
        database_name,
        master_username: MASTER_USERNAME.to_string(),
        min_acu,
        max_acu,
        instances: instances?,
        backup_retention_days: backup?,
        deletion_protection,
        final_snapshot: defaults.final_snapshot,
    })
}
