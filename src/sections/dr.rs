//! `[dr]`: disaster recovery across Regions. Where AWS Backup copies each recovery point of the database,
//! and how long the copies are kept. Raw form, checks, resolved [`Dr`].
//!
//! The copies come from the `[security] backup_plan`'s daily rule, so a DR Region without the plan is an
//! error ([`check_with_backup_plan`]); a prod environment without one is a warning. The vault and key in
//! the DR Region are the `backup_copy` module's; this module neither prices nor renders.

use serde::{Deserialize, Serialize};

use super::context::{Checker, SpecFile, suggest};
use super::security::Security;
use crate::aws::regions;
use crate::diag::{Diagnostic, rules};
use crate::spec::Spanned;

rules! {
    /// The diagnostics this module reports (`[dr]`).
    pub enum Rule {
        DrRegionUnknown,
        DrOwnRegion,
        DrCopyRetention,
        DrWithoutBackupPlan,
        ProdWithoutDr,
    }
}

/// The longest retention AWS Backup accepts for a copy, in days (its lifecycle's `delete_after`, 100 years).
const MAX_COPY_RETENTION_DAYS: i64 = 36_500;

/// `[dr]` as written.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DrSpec {
    /// The Region that receives a copy of every daily recovery point of the database (AWS Backup), into a
    /// vault encrypted with a key of that Region.
    pub region: Option<Spanned<String>>,
    /// Days each copy is kept in the DR Region (default: `[security] backup_retention_days`).
    pub copy_retention_days: Option<Spanned<i64>>,
}

/// Disaster recovery, resolved: present only when `[dr] region` is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dr {
    /// Another Region than the environment's.
    pub region: String,
    /// Days AWS Backup keeps each copy there.
    pub copy_retention_days: u32,
}

/// Checks `[dr]`; `region` is the environment's, when it is valid, and `backup_retention_days` the
/// default for the copies' retention.
pub fn check(cx: &mut Checker, spec: &DrSpec, region: Option<&str>, backup_retention_days: u32) -> Option<Option<Dr>> {
    let retention = cx.count(
        Rule::DrCopyRetention,
        spec.copy_retention_days.as_ref(),
        backup_retention_days,
        1..=MAX_COPY_RETENTION_DAYS,
        "copy_retention_days",
        "days AWS Backup keeps each copy in the DR region: 1 to 36500",
    );
    let Some(dr_region) = &spec.region else {
        return Some(None);
    };
    let name = dr_region.get_ref();
    if regions::region(name).is_none() {
        let help = suggest(name, regions::codes(), "use a commercial AWS region");
        cx.error(
            Rule::DrRegionUnknown,
            SpecFile::Env,
            dr_region,
            format!("unknown DR region `{name}`"),
            help,
        );
        return None;
    }
    if Some(name.as_str()) == region {
        cx.error(
            Rule::DrOwnRegion,
            SpecFile::Env,
            dr_region,
            format!("`{name}` is this environment's own region"),
            "copy the backups to another region: a regional outage takes both copies otherwise",
        );
        return None;
    }
    Some(Some(Dr {
        region: name.clone(),
        copy_retention_days: retention?,
    }))
}

/// The rules between `[dr]` and `[security]`: copies come from the backup plan, and prod's backups
/// should leave the Region.
/// The warning points at `sizing`, what makes the environment a prod one.
pub fn check_with_backup_plan(
    cx: &mut Checker,
    spec: &DrSpec,
    dr: Option<&Dr>,
    security: &Security,
    sizing: &Spanned<String>,
    prod: bool,
) {
    match (&spec.region, dr) {
        (Some(region), Some(_)) if !security.backup_plan => cx.error(
            Rule::DrWithoutBackupPlan,
            SpecFile::Env,
            region,
            "`[dr] region` copies the AWS Backup plan's recovery points, and `[security] backup_plan` is off",
            "turn `[security] backup_plan` on, or remove `[dr] region`",
        ),
        (None, _) if prod && security.backup_plan => cx.push(
            Diagnostic::warning(
                Rule::ProdWithoutDr,
                "every backup of this prod environment stays in its region: a regional outage loses the database",
                Some(cx.at(SpecFile::Env, sizing)),
            )
            .with_help("name a region for the copies: `[dr] region = \"...\"` (AWS Backup copies each daily recovery point there)"),
        ),
        _ => {}
    }
}
