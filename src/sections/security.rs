//! `[security]`: the environment's security controls. Raw form, checks, resolved form.
//!
//! Prod-sized environments may not turn off prod-critical controls; dev may, with safe defaults.
//! This module neither parses TOML nor renders.
//!
//! Every control but one is on by default for both sizings: none of them costs enough to justify a weaker
//! dev default (the largest items are the WAF web ACL, a few dollars a month, and the KMS key, one dollar).
//! The exception is in-transit encryption inside the VPC: its private CA costs $50 a month, a quarter of
//! dev's budget, so it is on by default in prod only (`tfgen cost` prices it). Retention periods also
//! differ by sizing.

use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

use super::context::{Checker, SpecFile};
use super::defaults::Defaults;
use crate::aws::aurora::MONITORING_INTERVALS;
use crate::aws::logs;
use crate::diag::{Diagnostic, rules};
use crate::model::Sizing;
use crate::spec::Spanned;

rules! {
    /// The diagnostics this module reports (`[security]`).
    pub enum Rule {
        ProdControlOff,
        SecurityDays,
        SecurityLogRetention,
        ProdLogRetentionShort,
        MonitoringInterval,
        ProdMonitoringOff,
        ProdBackupRetentionShort,
        ProdWritableRootFs,
        PrivateCaMalformed,
        PrivateCaOtherRegion,
        PrivateCaUnused,
    }
}

/// `[security]` as written in the spec. Every field is optional; absent means the sizing's default.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecuritySpec {
    /// A WAFv2 web ACL with AWS managed rule groups in front of the load balancer.
    pub waf: Option<Spanned<bool>>,
    /// Load balancer access logs in a private, versioned S3 bucket.
    pub alb_access_logs: Option<Spanned<bool>>,
    /// Days ALB access log objects are kept before the bucket's lifecycle rule expires them.
    pub alb_access_logs_expiration_days: Option<Spanned<i64>>,
    /// VPC flow logs (all traffic) to CloudWatch Logs.
    pub flow_logs: Option<Spanned<bool>>,
    /// A customer-managed KMS key (rotated yearly) for logs, secrets, SNS, ECR, Aurora and backups.
    pub kms: Option<Spanned<bool>>,
    /// Retention of the security and audit log groups: VPC flow logs, WAF logs, PostgreSQL logs.
    pub log_retention_days: Option<Spanned<i64>>,
    /// Aurora Performance Insights (7 days, the free tier), encrypted with the environment's key.
    pub performance_insights: Option<Spanned<bool>>,
    /// Seconds between Aurora enhanced monitoring samples: 0 (off), 1, 5, 10, 15, 30 or 60.
    pub enhanced_monitoring_interval: Option<Spanned<i64>>,
    /// A daily AWS Backup plan for the Aurora cluster, into an encrypted vault.
    pub backup_plan: Option<Spanned<bool>>,
    /// Days AWS Backup keeps each recovery point.
    pub backup_retention_days: Option<Spanned<i64>>,
    /// Containers run with a read-only root file system and a writable scratch volume at `/tmp`.
    pub read_only_root_filesystem: Option<Spanned<bool>>,
    /// Encryption inside the VPC: HTTPS from the load balancer to each task, and Service Connect TLS between
    /// agents, with certificates from an AWS Private CA in short-lived mode. On by default in prod.
    pub in_transit_encryption: Option<Spanned<bool>>,
    /// An existing AWS Private CA (in this environment's region, tagged `AmazonECSManaged = true`) to issue
    /// the Service Connect certificates, shared instead of creating one ($50 a month each).
    pub private_ca_arn: Option<Spanned<String>>,
}

/// The security controls an environment gets, every default applied. Templates read these as
/// `security.<field>`.
// Independent on/off controls, each read by a template on its own: an enum or state machine would not fit.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Security {
    pub waf: bool,
    pub alb_access_logs: bool,
    pub alb_access_logs_expiration_days: u32,
    pub flow_logs: bool,
    pub kms: bool,
    pub log_retention_days: u32,
    pub performance_insights: bool,
    pub enhanced_monitoring_interval: u32,
    pub backup_plan: bool,
    pub backup_retention_days: u32,
    pub read_only_root_filesystem: bool,
    pub in_transit_encryption: bool,
    /// The shared CA from the spec; `None` creates one when `in_transit_encryption` is on.
    pub private_ca_arn: Option<String>,
}

impl Security {
    /// The defaults of a sizing, before the spec is applied.
    pub fn defaults(sizing: Sizing) -> Self {
        let sized = Defaults::for_sizing(sizing);
        Self {
            waf: true,
            alb_access_logs: true,
            alb_access_logs_expiration_days: sized.alb_access_logs_expiration_days,
            flow_logs: true,
            kms: true,
            log_retention_days: 365,
            performance_insights: true,
            enhanced_monitoring_interval: 60,
            backup_plan: true,
            backup_retention_days: sized.backup_plan_retention_days,
            read_only_root_filesystem: true,
            in_transit_encryption: sizing == Sizing::Prod,
            private_ca_arn: None,
        }
    }
}

/// The shortest audit-log retention prod accepts: one year, what incident investigations and most audits need.
const PROD_MIN_LOG_RETENTION_DAYS: u32 = 365;

/// The shortest AWS Backup retention prod accepts.
const PROD_MIN_BACKUP_RETENTION_DAYS: u32 = 7;

/// Checks `[security]` against the environment's sizing and applies the defaults. A rejected value
/// leaves the control at its default; the error stops the compile anyway.
pub fn check(cx: &mut Checker, spec: &SecuritySpec, sizing: Sizing, region: Option<&str>) -> Security {
    let mut c = Controls {
        cx,
        prod: sizing == Sizing::Prod,
    };
    let d = Security::defaults(sizing);
    let in_transit_encryption = c.control(
        spec.in_transit_encryption.as_ref(),
        d.in_transit_encryption,
        "in_transit_encryption",
        "encryption in transit inside the VPC",
    );

    Security {
        waf: c.control(
            spec.waf.as_ref(),
            d.waf,
            "waf",
            "the WAF web ACL in front of the internet-facing load balancer",
        ),
        alb_access_logs: c.control(
            spec.alb_access_logs.as_ref(),
            d.alb_access_logs,
            "alb_access_logs",
            "load balancer access logs",
        ),
        alb_access_logs_expiration_days: c.days(
            spec.alb_access_logs_expiration_days.as_ref(),
            d.alb_access_logs_expiration_days,
            1..=3650,
            "alb_access_logs_expiration_days",
        ),
        flow_logs: c.control(spec.flow_logs.as_ref(), d.flow_logs, "flow_logs", "VPC flow logs"),
        kms: c.control(spec.kms.as_ref(), d.kms, "kms", "the customer-managed KMS key"),
        log_retention_days: c.log_retention(spec.log_retention_days.as_ref(), d.log_retention_days),
        performance_insights: c.control(
            spec.performance_insights.as_ref(),
            d.performance_insights,
            "performance_insights",
            "Aurora Performance Insights",
        ),
        enhanced_monitoring_interval: c.monitoring_interval(
            spec.enhanced_monitoring_interval.as_ref(),
            d.enhanced_monitoring_interval,
        ),
        backup_plan: c.control(
            spec.backup_plan.as_ref(),
            d.backup_plan,
            "backup_plan",
            "the AWS Backup plan of the database",
        ),
        backup_retention_days: c.backup_retention(spec.backup_retention_days.as_ref(), d.backup_retention_days),
        read_only_root_filesystem: c
            .read_only_root(spec.read_only_root_filesystem.as_ref(), d.read_only_root_filesystem),
        in_transit_encryption,
        private_ca_arn: spec
            .private_ca_arn
            .as_ref()
            .and_then(|arn| c.private_ca(arn, in_transit_encryption, region)),
    }
}

/// The checking context, with the sizing's strictness.
struct Controls<'a> {
    cx: &'a mut Checker,
    prod: bool,
}

impl Controls<'_> {
    fn error<T>(&mut self, code: Rule, v: &Spanned<T>, summary: impl Into<String>, help: impl Into<String>) {
        self.cx.error(code, SpecFile::Env, v, summary, help);
    }

    /// An on/off control that prod may not turn off.
    fn control(&mut self, v: Option<&Spanned<bool>>, default: bool, field: &str, what: &str) -> bool {
        let Some(v) = v else { return default };
        if self.prod && !*v.get_ref() {
            self.error(
                Rule::ProdControlOff,
                v,
                format!("prod turns off {what} (`[security] {field} = false`)"),
                format!("prod requires {what}: remove the line or set `{field} = true`; only dev may turn it off"),
            );
            return true;
        }
        *v.get_ref()
    }

    fn days(&mut self, v: Option<&Spanned<i64>>, default: u32, range: RangeInclusive<i64>, field: &str) -> u32 {
        let Some(v) = v else { return default };
        let n = *v.get_ref();
        if !range.contains(&n) {
            self.error(
                Rule::SecurityDays,
                v,
                format!("`{field}` is {n} days"),
                format!(
                    "use a whole number of days between {} and {}",
                    range.start(),
                    range.end()
                ),
            );
            return default;
        }
        u32::try_from(n).unwrap_or(default)
    }

    fn log_retention(&mut self, v: Option<&Spanned<i64>>, default: u32) -> u32 {
        let Some(v) = v else { return default };
        let n = *v.get_ref();
        if !logs::valid_retention(n) {
            let nearest = logs::nearest_retention(n);
            self.error(
                Rule::SecurityLogRetention,
                v,
                format!("CloudWatch Logs has no {n}-day retention"),
                format!("the nearest allowed value is {nearest}"),
            );
            return default;
        }
        let days = u32::try_from(n).unwrap_or(default);
        if self.prod && days < PROD_MIN_LOG_RETENTION_DAYS {
            self.error(
                Rule::ProdLogRetentionShort,
                v,
                format!("prod keeps its flow, WAF and database logs only {days} days"),
                format!("prod keeps security and audit logs at least {PROD_MIN_LOG_RETENTION_DAYS} days; remove the line or raise it"),
            );
            return default;
        }
        days
    }

    fn monitoring_interval(&mut self, v: Option<&Spanned<i64>>, default: u32) -> u32 {
        let Some(v) = v else { return default };
        let n = *v.get_ref();
        if !MONITORING_INTERVALS.contains(&n) {
            self.error(
                Rule::MonitoringInterval,
                v,
                format!("RDS has no {n}-second enhanced monitoring interval"),
                "use 0 (off), 1, 5, 10, 15, 30 or 60",
            );
            return default;
        }
        if self.prod && n == 0 {
            self.error(
                Rule::ProdMonitoringOff,
                v,
                "prod turns off Aurora enhanced monitoring (`[security] enhanced_monitoring_interval = 0`)",
                "enhanced monitoring is required in prod: remove the line or use 1, 5, 10, 15, 30 or 60; only dev may turn it off",
            );
            return default;
        }
        u32::try_from(n).unwrap_or(default)
    }

    fn backup_retention(&mut self, v: Option<&Spanned<i64>>, default: u32) -> u32 {
        let days = self.days(v, default, 1..=36500, "backup_retention_days");
        if let Some(v) = v
            && self.prod
            && days < PROD_MIN_BACKUP_RETENTION_DAYS
        {
            self.error(
                Rule::ProdBackupRetentionShort,
                v,
                format!("prod keeps database backups only {days} days"),
                format!("prod keeps AWS Backup recovery points at least {PROD_MIN_BACKUP_RETENTION_DAYS} days"),
            );
            return default;
        }
        days
    }

    /// An AWS Private CA ARN in the environment's region, used only with in-transit encryption.
    fn private_ca(&mut self, arn: &Spanned<String>, used: bool, region: Option<&str>) -> Option<String> {
        let text = arn.get_ref();
        let Some(parsed) = crate::arn::Arn::parse_uuid_resource(text, "acm-pca", "certificate-authority") else {
            self.error(
                Rule::PrivateCaMalformed,
                arn,
                "malformed AWS Private CA ARN",
                "expected `arn:aws:acm-pca:<region>:<12-digit account>:certificate-authority/<uuid>`",
            );
            return None;
        };
        if let Some(region) = region
            && parsed.region != region
        {
            self.error(
                Rule::PrivateCaOtherRegion,
                arn,
                format!("the private CA is in {}, the environment in {region}", parsed.region),
                format!("Service Connect issues certificates only from a CA of its own region; use one in {region}, or remove the line to create one"),
            );
            return None;
        }
        if !used {
            self.error(
                Rule::PrivateCaUnused,
                arn,
                "`private_ca_arn` is set but in-transit encryption is off",
                "set `in_transit_encryption = true` under `[security]`, or remove the line",
            );
            return None;
        }
        Some(text.clone())
    }

    /// Not prod-critical: an application that must write outside `/tmp` may turn it off, with a warning in prod.
    fn read_only_root(&mut self, v: Option<&Spanned<bool>>, default: bool) -> bool {
        let Some(v) = v else { return default };
        if self.prod && !*v.get_ref() {
            let at = self.cx.at(SpecFile::Env, v);
            self.cx.push(
                Diagnostic::warning(
                    Rule::ProdWritableRootFs,
                    "prod containers get a writable root file system",
                    Some(at),
                )
                .with_help(
                    "a writable root file system lets an intruder modify the image's binaries; prefer making the application write only to /tmp",
                ),
            );
        }
        *v.get_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(sizing: Sizing, toml_text: &str) -> (Security, Vec<Diagnostic>) {
        let spec: SecuritySpec = toml::from_str(toml_text).expect("parse [security]");
        let file = |name: &str, text: &str| {
            std::sync::Arc::new(crate::diag::SourceFile {
                name: name.into(),
                text: text.into(),
            })
        };
        let mut cx = Checker::new(&file("env.toml", toml_text), &file("agents.toml", ""));
        let security = check(&mut cx, &spec, sizing, Some("eu-west-1"));
        (security, cx.finish().0)
    }

    fn errors(diags: &[Diagnostic]) -> Vec<&str> {
        diags
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.summary.as_str())
            .collect()
    }

    #[test]
    fn everything_is_on_by_default_for_both_sizings() {
        for sizing in [Sizing::Dev, Sizing::Prod] {
            let (s, diags) = run(sizing, "");
            assert!(diags.is_empty(), "{diags:?}");
            assert!(s.waf && s.alb_access_logs && s.flow_logs && s.kms && s.performance_insights && s.backup_plan);
            assert!(s.read_only_root_filesystem);
            assert_eq!(s.enhanced_monitoring_interval, 60);
            assert_eq!(s.log_retention_days, 365);
        }
        assert_eq!(run(Sizing::Dev, "").0.backup_retention_days, 7);
        assert_eq!(run(Sizing::Prod, "").0.backup_retention_days, 35);
    }

    #[test]
    fn in_transit_encryption_is_on_in_prod_and_may_share_a_ca() {
        assert!(run(Sizing::Prod, "").0.in_transit_encryption);
        assert!(!run(Sizing::Dev, "").0.in_transit_encryption);
        let ca = "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
        let (s, diags) = run(
            Sizing::Dev,
            &format!("in_transit_encryption = true\nprivate_ca_arn = \"{ca}\"\n"),
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(s.private_ca_arn.as_deref(), Some(ca));
        let (_, diags) = run(Sizing::Dev, &format!("private_ca_arn = \"{ca}\"\n"));
        assert_eq!(
            errors(&diags),
            ["`private_ca_arn` is set but in-transit encryption is off"]
        );
        let other = ca.replace("eu-west-1", "us-east-1");
        let (_, diags) = run(Sizing::Prod, &format!("private_ca_arn = \"{other}\"\n"));
        assert_eq!(
            errors(&diags),
            ["the private CA is in us-east-1, the environment in eu-west-1"]
        );
        let (_, diags) = run(
            Sizing::Prod,
            "private_ca_arn = \"arn:aws:acm:eu-west-1:111122223333:certificate/x\"\n",
        );
        assert_eq!(errors(&diags), ["malformed AWS Private CA ARN"]);
    }

    #[test]
    fn dev_may_turn_controls_off() {
        let text = "waf = false\nalb_access_logs = false\nflow_logs = false\nkms = false\nperformance_insights = false\n\
                    enhanced_monitoring_interval = 0\nbackup_plan = false\nlog_retention_days = 30\nread_only_root_filesystem = false\n";
        let (s, diags) = run(Sizing::Dev, text);
        assert!(diags.is_empty(), "{diags:?}");
        assert!(!s.waf && !s.alb_access_logs && !s.flow_logs && !s.kms && !s.performance_insights && !s.backup_plan);
        assert!(!s.read_only_root_filesystem);
        assert_eq!(s.enhanced_monitoring_interval, 0);
        assert_eq!(s.log_retention_days, 30);
    }

    #[test]
    fn prod_refuses_to_turn_off_critical_controls() {
        for field in [
            "in_transit_encryption",
            "waf",
            "alb_access_logs",
            "flow_logs",
            "kms",
            "performance_insights",
            "backup_plan",
        ] {
            let text = format!("{field} = false\n");
            let (s, diags) = run(Sizing::Prod, &text);
            let errs = errors(&diags);
            assert_eq!(errs.len(), 1, "{field}: {diags:?}");
            assert!(errs[0].contains(field), "{}", errs[0]);
            let d = &diags[0];
            let loc = d.location.as_ref().expect("points at the value");
            assert_eq!(&text[loc.span.clone()], "false");
            assert!(
                d.help.as_deref().is_some_and(|h| h.contains("only dev")),
                "{:?}",
                d.help
            );
            assert_eq!(s, Security::defaults(Sizing::Prod), "the control stays on");
        }
    }

    #[test]
    fn prod_refuses_monitoring_off_and_short_retention() {
        let (_, diags) = run(Sizing::Prod, "enhanced_monitoring_interval = 0\n");
        assert_eq!(errors(&diags).len(), 1, "{diags:?}");
        let (_, diags) = run(Sizing::Prod, "log_retention_days = 30\n");
        assert!(errors(&diags)[0].contains("30 days"), "{diags:?}");
        let (_, diags) = run(Sizing::Prod, "backup_retention_days = 3\n");
        assert_eq!(errors(&diags).len(), 1, "{diags:?}");
        let (s, diags) = run(
            Sizing::Prod,
            "log_retention_days = 731\nbackup_retention_days = 90\nenhanced_monitoring_interval = 15\n",
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            (
                s.log_retention_days,
                s.backup_retention_days,
                s.enhanced_monitoring_interval
            ),
            (731, 90, 15)
        );
    }

    #[test]
    fn values_aws_does_not_accept_are_errors_in_any_sizing() {
        let (_, diags) = run(Sizing::Dev, "log_retention_days = 100\n");
        let d = &diags[0];
        assert!(
            d.is_error() && d.help.as_deref() == Some("the nearest allowed value is 90"),
            "{d:?}"
        );
        let (_, diags) = run(Sizing::Dev, "enhanced_monitoring_interval = 20\n");
        assert_eq!(errors(&diags).len(), 1);
        let (_, diags) = run(Sizing::Dev, "alb_access_logs_expiration_days = 0\n");
        assert_eq!(errors(&diags).len(), 1);
    }

    #[test]
    fn a_writable_root_file_system_is_only_a_warning_in_prod() {
        let (s, diags) = run(Sizing::Prod, "read_only_root_filesystem = false\n");
        assert!(!s.read_only_root_filesystem);
        assert_eq!(diags.len(), 1);
        assert!(!diags[0].is_error());
    }

    #[test]
    fn unknown_fields_are_rejected() {
        assert!(toml::from_str::<SecuritySpec>("wafs = true\n").is_err());
    }
}
