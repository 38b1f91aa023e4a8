//! Validate stage, environment settings: region, image tag, certificate, e-mail, ECR replication,
//! deployment knobs and the state backend. Each check is local to its value.

use super::{Checker, DEFAULT_CPU_TARGET_PERCENT, File, suggest};
use crate::model::Backend;
use crate::names::EnvName;
use crate::regions::{self, LOG_RETENTION_CHOICES};
use crate::spec::{ParsedSpec, Spanned};

impl Checker {
    pub(super) fn region(&mut self, region: &Spanned<String>) -> Option<String> {
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

    pub(super) fn image_tag(&mut self, tag: &Spanned<String>) -> Option<String> {
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

    pub(super) fn certificate(&mut self, arn: &Spanned<String>, region: Option<&str>) -> Option<String> {
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

    pub(super) fn email(&mut self, email: &Spanned<String>) -> Option<String> {
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

    pub(super) fn replication(&mut self, parsed: &ParsedSpec, region: Option<&str>) -> Vec<String> {
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
                let summary = format!("replication region `{name}` is listed twice");
                self.duplicate(
                    File::Env,
                    r,
                    first,
                    summary,
                    "first listed here",
                    "list each region once",
                );
            } else {
                out.push((name.clone(), r));
            }
        }
        out.into_iter().map(|(n, _)| n).collect()
    }

    pub(super) fn deployment(&mut self, parsed: &ParsedSpec) -> (bool, u32, u32) {
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

    pub(super) fn backend(&mut self, parsed: &ParsedSpec, env: Option<&EnvName>, region: Option<&str>) -> Backend {
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
}
