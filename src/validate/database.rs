//! Validate stage, database: engine version (creatable, with the Data API), capacity, instances, backups,
//! deletion protection. It builds no cluster settings beyond the checked values.

use super::{Checker, DEFAULT_BACKUP_RETENTION_DAYS, DEFAULT_DATABASE_NAME, Defaults, File, ValidDatabase, suggest};
use crate::regions;
use crate::spec::{ParsedSpec, Spanned};

impl Checker {
    pub(super) fn database(&mut self, parsed: &ParsedSpec, defaults: &Defaults, prod: bool) -> Option<ValidDatabase> {
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
}
