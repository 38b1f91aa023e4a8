//! `[database]`: the Aurora PostgreSQL Serverless v2 cluster. Engine version (creatable, with the Data
//! API), capacity, instances, backups, deletion protection, database name. Raw form, checks, resolved form.
//!
//! The cluster identifier is a derived name ([`crate::names::EnvNames`]); this module builds no settings
//! beyond the checked values.

use serde::{Deserialize, Serialize};

use super::context::{Checker, SpecFile, suggest};
use super::defaults::Defaults;
use crate::aws::aurora::{self, EngineVersion, NoDataApi};
use crate::diag::rules;
use crate::spec::Spanned;

rules! {
    /// The diagnostics this module reports (`[database]`).
    pub enum Rule {
        EngineWithoutDataApi,
        EngineNotCreatable,
        AcuStep,
        AcuRange,
        AcuMaxBelowOne,
        AcuMinAboveMax,
        ScaleToZeroUnsupported,
        ScaleToZeroInProd,
        AutoPauseRange,
        AutoPauseWithoutZero,
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
/// The auto-pause delay when `min_acu = 0` and `auto_pause_seconds` is not written (AWS's default).
pub const DEFAULT_AUTO_PAUSE_SECONDS: u32 = 300;
/// The master user; its password is generated and kept in Secrets Manager.
pub const MASTER_USERNAME: &str = "multi_agent_admin";

/// `[database]` as written.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSpec {
    pub engine_version: Option<Spanned<String>>,
    pub min_acu: Option<Spanned<f64>>,
    pub max_acu: Option<Spanned<f64>>,
    /// Seconds without connections before a `min_acu = 0` cluster pauses.
    pub auto_pause_seconds: Option<Spanned<i64>>,
    /// prod refuses `min_acu = 0` (the first query after a pause waits for the resume) unless this is `true`.
    pub allow_scale_to_zero: Option<Spanned<bool>>,
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
    /// 0.0 when the cluster scales to zero (then `seconds_until_auto_pause` is set).
    pub min_acu: f64,
    pub max_acu: f64,
    /// The auto-pause delay of a scale-to-zero cluster; `None` when `min_acu > 0`.
    pub seconds_until_auto_pause: Option<u32>,
    pub instances: u32,
    pub backup_retention_days: u32,
    pub deletion_protection: bool,
    /// Take a final snapshot on destroy (prod) or not (dev).
    pub final_snapshot: bool,
}

/// Checks the engine version against the creatable list and the Data API table; `None` if refused.
fn engine_version(cx: &mut Checker, v: &Spanned<String>) -> Option<EngineVersion> {
    let text = v.get_ref();
    let creatable: Vec<String> = aurora::CREATABLE.iter().map(ToString::to_string).collect();
    let parsed = EngineVersion::parse(text);
    if let Some(version) = parsed {
        let why = match aurora::data_api_version(version) {
            Ok(()) => None,
            Err(NoDataApi::TooOld { min }) => Some(format!(
                "the Data API needs {min} or later in the {} line",
                version.major
            )),
            Err(_) => Some(format!("no {} release has the Data API", version.major)),
        };
        if let Some(why) = why {
            cx.error(
                Rule::EngineWithoutDataApi,
                SpecFile::Env,
                v,
                format!("Aurora PostgreSQL {text} has no RDS Data API"),
                format!(
                    "{why} ({}); use {} (the default) or a later creatable version",
                    aurora::minimums_text(aurora::DATA_API_MINIMUMS),
                    aurora::DEFAULT_ENGINE_VERSION
                ),
            );
            return None;
        }
        if aurora::creatable(version) {
            return Some(version);
        }
    }
    let help = suggest(text, creatable.iter().map(String::as_str), "");
    cx.error(
        Rule::EngineNotCreatable,
        SpecFile::Env,
        v,
        format!("Aurora PostgreSQL {text} cannot be created"),
        format!(
            "{help} versions tfgen knows can be created: {}; the default is {}",
            creatable.join(", "),
            aurora::DEFAULT_ENGINE_VERSION
        )
        .trim()
        .to_string(),
    );
    None
}

/// `min_acu = 0`: allowed where the version can pause, refused in prod unless `allow_scale_to_zero`.
/// Returns the auto-pause delay, `None` when the cluster does not scale to zero.
fn scale_to_zero(
    cx: &mut Checker,
    db: &DatabaseSpec,
    version: Option<EngineVersion>,
    min_acu: f64,
    prod: bool,
    ok: &mut bool,
) -> Option<u32> {
    let zero = min_acu == 0.0;
    if let Some(v) = &db.auto_pause_seconds {
        let range = aurora::AUTO_PAUSE_SECONDS;
        if !zero {
            cx.error(
                Rule::AutoPauseWithoutZero,
                SpecFile::Env,
                v,
                "auto_pause_seconds applies only to a cluster that scales to zero",
                "set `min_acu = 0` too, or remove the line",
            );
            *ok = false;
        } else if !u32::try_from(*v.get_ref()).is_ok_and(|s| range.contains(&s)) {
            cx.error(
                Rule::AutoPauseRange,
                SpecFile::Env,
                v,
                format!(
                    "auto_pause_seconds {} is outside {}-{}",
                    v.get_ref(),
                    range.start(),
                    range.end()
                ),
                "Aurora pauses after 300 to 86400 seconds (5 minutes to a day) without connections",
            );
            *ok = false;
        }
    }
    let at = db.min_acu.as_ref().filter(|_| zero)?;
    if let Some(version) = version
        && let Err(min) = aurora::scale_to_zero(version)
    {
        let why = min.map_or_else(
            || format!("no {} release can", version.major),
            |min| format!("it needs {min} or later"),
        );
        cx.error(
            Rule::ScaleToZeroUnsupported,
            SpecFile::Env,
            at,
            format!("Aurora PostgreSQL {version} cannot scale to 0 ACU: {why}"),
            format!(
                "scale to zero needs {}; raise engine_version or set min_acu = {}",
                aurora::minimums_text(aurora::SCALE_TO_ZERO_MINIMUMS),
                aurora::MIN_ACU_WITHOUT_PAUSE
            ),
        );
        *ok = false;
    }
    let allowed = db.allow_scale_to_zero.as_ref().is_some_and(|v| *v.get_ref());
    if prod && !allowed {
        cx.error(
            Rule::ScaleToZeroInProd,
            SpecFile::Env,
            at,
            "prod would pause its database (min_acu = 0)",
            "the first request after a pause waits about 15 seconds for the resume; set `allow_scale_to_zero = true` \
             to accept that, or min_acu = 0.5",
        );
        *ok = false;
    }
    let seconds = db.auto_pause_seconds.as_ref().map_or(DEFAULT_AUTO_PAUSE_SECONDS, |v| {
        u32::try_from(*v.get_ref()).unwrap_or(DEFAULT_AUTO_PAUSE_SECONDS)
    });
    Some(seconds)
}

/// Checks `[database]` and applies the sizing's defaults.
#[allow(clippy::too_many_lines)]
pub fn check(cx: &mut Checker, db: &DatabaseSpec, defaults: &Defaults, prod: bool) -> Option<Database> {
    let mut ok = true;
    let version = match &db.engine_version {
        None => Some(aurora::DEFAULT_ENGINE_VERSION),
        Some(v) => engine_version(cx, v),
    };
    ok &= version.is_some();
    let acu = |v: &Option<Spanned<f64>>, default: f64| v.as_ref().map_or(default, |v| *v.get_ref());
    let (min_acu, max_acu) = (acu(&db.min_acu, DEFAULT_MIN_ACU), acu(&db.max_acu, DEFAULT_MAX_ACU));
    for (label, v) in [("min_acu", &db.min_acu), ("max_acu", &db.max_acu)] {
        if let Some(v) = v {
            let x = *v.get_ref();
            if !aurora::valid_acu(x) && x.is_finite() && (0.0..=aurora::MAX_ACU).contains(&x) {
                cx.error(
                    Rule::AcuStep,
                    SpecFile::Env,
                    v,
                    format!("{label} {x} is not a multiple of {}", aurora::ACU_STEP),
                    format!("Aurora Serverless v2 capacity moves in {} ACU steps", aurora::ACU_STEP),
                );
                ok = false;
            } else if !aurora::valid_acu(x) {
                cx.error(
                    Rule::AcuRange,
                    SpecFile::Env,
                    v,
                    format!("{label} {x} is outside 0-{} ACU", aurora::MAX_ACU),
                    format!(
                        "Aurora Serverless v2 scales between {} and {} ACU (a minimum of 0 pauses the cluster)",
                        aurora::MIN_ACU_WITHOUT_PAUSE,
                        aurora::MAX_ACU
                    ),
                );
                ok = false;
            }
        }
    }
    if let Some(v) = &db.max_acu
        && aurora::valid_acu(max_acu)
        && max_acu < aurora::MIN_MAX_ACU
    {
        cx.error(
            Rule::AcuMaxBelowOne,
            SpecFile::Env,
            v,
            format!("max_acu {max_acu} is below {} ACU", aurora::MIN_MAX_ACU),
            format!(
                "AWS requires a Serverless v2 maximum of at least {} ACU",
                aurora::MIN_MAX_ACU
            ),
        );
        ok = false;
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
    let seconds_until_auto_pause = scale_to_zero(cx, db, version, min_acu, prod, &mut ok);
    let instances = cx.count(
        Rule::DbInstances,
        db.instances.as_ref(),
        defaults.db_instances,
        aurora::INSTANCES,
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
        aurora::BACKUP_RETENTION_DAYS,
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
                && n.starts_with(|c: char| c.is_ascii_lowercase())
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
        engine_version: version?.to_string(),
        database_name,
        master_username: MASTER_USERNAME.to_string(),
        min_acu,
        max_acu,
        seconds_until_auto_pause,
        instances: instances?,
        backup_retention_days: backup?,
        deletion_protection,
        final_snapshot: defaults.final_snapshot,
    })
}
