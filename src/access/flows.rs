//! The accesses the system needs to deploy and run, and the ones it must never have: each a caller, an
//! action, a resource and the request context AWS would see (the service acting for the caller, the
//! encryption context). Who and what come from the model (agents, their roles, model, database use);
//! where the tree must be looked at to know what AWS will be asked (which secrets a task definition
//! injects, which key encrypts a bucket), from the tree's resources. It evaluates nothing.

use std::collections::BTreeMap;

use serde::Serialize;

use super::world::{ACCOUNT, World};
use crate::model::Model;

/// Who makes the request.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "type", content = "name", rename_all = "kebab-case")]
pub enum Who {
    /// The principal running `terraform apply` (its own IAM rights are assumed; only resource and key
    /// policies can deny it).
    Deployer,
    /// A role of the tree, by its name (the model's name for it).
    Role(String),
    /// An AWS service principal.
    Service(String),
}

impl std::fmt::Display for Who {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Who::Deployer => f.write_str("deployer"),
            Who::Role(r) => write!(f, "role {r}"),
            Who::Service(s) => write!(f, "service {s}"),
        }
    }
}

/// What the request is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "kebab-case")]
pub enum Target {
    /// A resource of the tree by address (its ARN and policies come from the tree).
    Resource(String),
    /// A resource of the tree by address, with a suffix on its ARN (`/key` of a bucket, `:*` of a log group).
    Under(String, String),
    /// An ARN outside the tree (a foundation model), or `*`.
    Arn(String),
}

/// Whether the system needs the access or must not have it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expect {
    Allow,
    Deny,
}

/// One access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flow {
    /// What it is for, in a few words (`agent supervisor pulls its image`).
    pub purpose: String,
    pub who: Who,
    pub action: String,
    pub target: Target,
    /// Request context: `kms:ViaService`, `kms:EncryptionContext:…`, `aws:SourceAccount`, …
    pub context: BTreeMap<String, Vec<String>>,
    pub expect: Expect,
}

struct Builder<'a> {
    world: &'a World,
    out: Vec<Flow>,
}

impl Builder<'_> {
    fn add(&mut self, purpose: &str, who: &Who, action: &str, target: Target, context: &[(&str, String)]) {
        self.push(purpose, who, action, target, context, Expect::Allow);
    }

    fn forbid(&mut self, purpose: &str, who: &Who, action: &str, target: Target, context: &[(&str, String)]) {
        self.push(purpose, who, action, target, context, Expect::Deny);
    }

    fn push(
        &mut self,
        purpose: &str,
        who: &Who,
        action: &str,
        target: Target,
        context: &[(&str, String)],
        expect: Expect,
    ) {
        let mut ctx: BTreeMap<String, Vec<String>> = BTreeMap::new();
        ctx.insert("aws:securetransport".to_string(), vec!["true".to_string()]);
        ctx.insert("aws:requestedregion".to_string(), vec![self.world.region.clone()]);
        if let Who::Service(_) = who {
            ctx.insert("aws:sourceaccount".to_string(), vec![ACCOUNT.to_string()]);
        }
        let mut given: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in context {
            given.entry(k.to_ascii_lowercase()).or_default().push(v.clone());
        }
        // A flow's own value replaces a default (aws:RequestedRegion is `unspecified` for a global call).
        ctx.extend(given);
        self.out.push(Flow {
            purpose: purpose.to_string(),
            who: who.clone(),
            action: action.to_string(),
            target,
            context: ctx,
            expect,
        });
    }

    fn via(&self, service: &str) -> (&'static str, String) {
        (
            "kms:ViaService",
            format!("{service}.{}.amazonaws.com", self.world.region),
        )
    }

    fn caller_account() -> (&'static str, String) {
        ("kms:CallerAccount", ACCOUNT.to_string())
    }

    /// `who` reads a secret: `GetSecretValue` on it, and `kms:Decrypt` through Secrets Manager on its key
    /// (`key`: the key's ARN, when the secret is not a resource of the tree).
    fn reads_secret(&mut self, purpose: &str, who: &Who, secret: Target, key: Option<String>) {
        let w = self.world;
        let (arn, key) = match &secret {
            Target::Resource(a) => (w.arns[a].clone(), key.or_else(|| w.attr(a, "kms_key_id"))),
            Target::Under(a, suffix) => (format!("{}{suffix}", w.arns[a]), key),
            Target::Arn(arn) => (arn.clone(), key),
        };
        self.add(purpose, who, "secretsmanager:GetSecretValue", secret, &[]);
        if let Some(kms) = self.key(key) {
            let ctx = [
                self.via("secretsmanager"),
                Builder::caller_account(),
                ("kms:EncryptionContext:SecretARN", arn),
            ];
            self.add(purpose, who, "kms:Decrypt", Target::Resource(kms), &ctx);
        }
    }

    /// The key (its address) an ARN attribute names, if it is a key of the tree.
    fn key(&self, arn: Option<String>) -> Option<String> {
        let arn = arn?;
        self.world.by_arn(&arn).cloned()
    }

    /// The address of the tree's resource of `rtype` whose `attr` is `value`.
    fn find(&self, rtype: &str, attr: &str, value: &str) -> Option<String> {
        self.world
            .of_type(rtype)
            .find(|a| self.world.attr(a, attr).as_deref() == Some(value))
            .cloned()
    }
}

/// Every access the environment needs (and every one it must not have).
pub fn flows(model: &Model, world: &World) -> Vec<Flow> {
    let mut b = Builder { world, out: Vec::new() };
    deployer(&mut b);
    log_groups(&mut b);
    alarm_topics(&mut b);
    agents(&mut b, model);
    bootstrap(&mut b);
    migrations(&mut b);
    flow_logs(&mut b);
    service_roles(&mut b);
    pipeline(&mut b);
    b.out
}

/// What `terraform apply` does with keys and SSE-KMS buckets.
fn deployer(b: &mut Builder<'_>) {
    let w = b.world;
    let me = Who::Deployer;
    // Objects uploaded into SSE-KMS buckets: S3 asks KMS for a data key on the deployer's behalf.
    for object in w.of_type("aws_s3_object") {
        let Some(bucket) = w
            .attr(object, "bucket")
            .and_then(|id| w.by_arn(&format!("arn:{}:s3:::{id}", w.partition)).cloned())
        else {
            continue;
        };
        let bucket_name = w.ids[&bucket].clone();
        let key = w.attr(object, "key").unwrap_or_default();
        let purpose = format!("deployer uploads {key} to bucket {bucket_name}");
        b.add(
            &purpose,
            &me,
            "s3:PutObject",
            Target::Under(bucket.clone(), format!("/{key}")),
            &[],
        );
        let sse = w
            .of_type("aws_s3_bucket_server_side_encryption_configuration")
            .find(|c| w.attr(c, "bucket").as_deref() == Some(bucket_name.as_str()))
            .cloned();
        let kms = sse.and_then(|c| b.key(w.attr(&c, "rule.apply_server_side_encryption_by_default.kms_master_key_id")));
        if let Some(kms) = kms {
            let context = [
                b.via("s3"),
                Builder::caller_account(),
                (
                    "kms:EncryptionContext:aws:s3:arn",
                    format!("arn:{}:s3:::{bucket_name}/{key}", w.partition),
                ),
            ];
            b.add(
                &purpose,
                &me,
                "kms:GenerateDataKey",
                Target::Resource(kms.clone()),
                &context,
            );
            // Lambda reads its code object with the caller's rights when the function is created.
            let code = w.of_type("aws_lambda_function").any(|f| {
                w.attr(f, "s3_bucket").as_deref() == Some(bucket_name.as_str())
                    && w.attr(f, "s3_key").as_deref() == Some(key.as_str())
            });
            if code {
                let purpose = format!("deployer creates a function from {key} in bucket {bucket_name}");
                b.add(&purpose, &me, "kms:Decrypt", Target::Resource(kms), &context);
            }
        }
    }
    // Secrets written by the apply.
    for version in w.of_type("aws_secretsmanager_secret_version") {
        let Some(secret) = w.attr(version, "secret_id").and_then(|id| w.by_arn(&id).cloned()) else {
            continue;
        };
        let Some(kms) = b.key(w.attr(&secret, "kms_key_id")) else {
            continue;
        };
        let arn = w.arns[&secret].clone();
        let purpose = format!("deployer writes secret {}", w.attr(&secret, "name").unwrap_or_default());
        let context = [
            b.via("secretsmanager"),
            Builder::caller_account(),
            ("kms:EncryptionContext:SecretARN", arn),
        ];
        b.add(&purpose, &me, "kms:GenerateDataKey", Target::Resource(kms), &context);
    }
    // Services that keep a grant on the key for the resources the apply creates with it.
    let grants: [(&str, &[&str], &str); 4] = [
        (
            "aws_rds_cluster",
            &[
                "kms_key_id",
                "performance_insights_kms_key_id",
                "master_user_secret_kms_key_id",
            ],
            "rds",
        ),
        ("aws_ecr_repository", &["encryption_configuration.kms_key"], "ecr"),
        ("aws_backup_vault", &["kms_key_arn"], "backup"),
        ("aws_secretsmanager_secret", &["kms_key_id"], "secretsmanager"),
    ];
    for (rtype, attrs, service) in grants {
        for resource in w.of_type(rtype) {
            for attr in attrs {
                let Some(kms) = b.key(w.attr(resource, attr)) else {
                    continue;
                };
                let name = w.arns.get(resource).cloned().unwrap_or_default();
                let purpose = format!("deployer creates {rtype} {} with the key ({attr})", short(&name));
                let via = b.via(if *attr == "master_user_secret_kms_key_id" {
                    "secretsmanager"
                } else {
                    service
                });
                b.add(
                    &purpose,
                    &me,
                    "kms:DescribeKey",
                    Target::Resource(kms.clone()),
                    &[via.clone(), Builder::caller_account()],
                );
                if service != "secretsmanager" && *attr != "master_user_secret_kms_key_id" {
                    b.add(
                        &purpose,
                        &me,
                        "kms:CreateGrant",
                        Target::Resource(kms),
                        &[
                            via,
                            Builder::caller_account(),
                            ("kms:GrantIsForAWSResource", "true".to_string()),
                        ],
                    );
                }
            }
        }
    }
}

/// CloudWatch Logs encrypts each log group with its key as the logs service.
fn log_groups(b: &mut Builder<'_>) {
    let w = b.world;
    for group in w.of_type("aws_cloudwatch_log_group") {
        let Some(kms) = b.key(w.attr(group, "kms_key_id")) else {
            continue;
        };
        let name = w.attr(group, "name").unwrap_or_default();
        let logs = Who::Service(format!("logs.{}.amazonaws.com", w.region));
        let context = [("kms:EncryptionContext:aws:logs:arn", w.arns[group].clone())];
        for action in ["kms:GenerateDataKey", "kms:Decrypt"] {
            b.add(
                &format!("CloudWatch Logs encrypts log group {name}"),
                &logs,
                action,
                Target::Resource(kms.clone()),
                &context,
            );
        }
    }
}

/// CloudWatch alarms, AWS Budgets and EventBridge rules that target the topic publish to the alarm topic as
/// their services (the topic's policy), and use its key when it is encrypted; the same services acting for
/// another account may do neither.
fn alarm_topics(b: &mut Builder<'_>) {
    let w = b.world;
    for topic in w.of_type("aws_sns_topic") {
        let name = w.attr(topic, "name").unwrap_or_default();
        let kms = b.key(w.attr(topic, "kms_master_key_id"));
        let mut publishers = vec![
            (
                "CloudWatch alarms",
                "cloudwatch.amazonaws.com",
                format!("arn:{}:cloudwatch:{}:{ACCOUNT}:alarm:any", w.partition, w.region),
            ),
            (
                "AWS Budgets",
                "budgets.amazonaws.com",
                format!("arn:{}:budgets::{ACCOUNT}:budget/any", w.partition),
            ),
        ];
        // An EventBridge rule that targets the topic (the backup-failure rule) publishes as EventBridge.
        for target in w.of_type("aws_cloudwatch_event_target") {
            if w.attr(target, "arn").as_deref() == Some(w.arns[topic].as_str()) {
                let rule = w.attr(target, "rule").unwrap_or_default();
                publishers.push((
                    "EventBridge rules",
                    "events.amazonaws.com",
                    format!("arn:{}:events:{}:{ACCOUNT}:rule/{rule}", w.partition, w.region),
                ));
                break;
            }
        }
        for (what, service, source) in publishers {
            let who = Who::Service(service.to_string());
            let purpose = format!("{what} publish to topic {name}");
            let ctx = [("aws:SourceArn", source.clone())];
            b.add(&purpose, &who, "sns:Publish", Target::Resource(topic.clone()), &ctx);
            let other = [
                ("aws:SourceArn", source.replace(ACCOUNT, "444455556666")),
                ("aws:SourceAccount", "444455556666".to_string()),
            ];
            b.forbid(
                &format!("{what} of another account publish to topic {name}"),
                &who,
                "sns:Publish",
                Target::Resource(topic.clone()),
                &other,
            );
            if let Some(kms) = &kms {
                for action in ["kms:GenerateDataKey", "kms:Decrypt"] {
                    b.add(&purpose, &who, action, Target::Resource(kms.clone()), &ctx);
                }
            }
        }
    }
}

/// What each agent's roles need, and what they must not have.
fn agents(b: &mut Builder<'_>, model: &Model) {
    let w = b.world;
    let region = &w.region;
    let p = &w.partition;
    let ecs = Who::Service("ecs-tasks.amazonaws.com".to_string());
    let db_secrets: BTreeMap<String, String> = model
        .agents
        .iter()
        .filter(|a| a.uses_database)
        .filter_map(|a| {
            // The bootstrap module's secret of this agent (its name may carry a suffix: prod's key id).
            let wanted = format!(".aws_secretsmanager_secret.agent[\"{}\"]", a.physical_name.as_str());
            let secret = w.of_type("aws_secretsmanager_secret").find(|s| s.ends_with(&wanted))?;
            Some((a.name.as_str().to_string(), secret.clone()))
        })
        .collect();
    let cluster = w.of_type("aws_rds_cluster").next().cloned();
    for agent in &model.agents {
        let name = agent.name.as_str();
        let exec = Who::Role(agent.names.execution_role.clone());
        let task = Who::Role(agent.names.task_role.clone());
        let task_arn = format!(
            "arn:{p}:ecs:{region}:{ACCOUNT}:task/{}/0123456789abcdef",
            agent.names.cluster
        );
        for (role, what) in [
            (&agent.names.execution_role, "execution"),
            (&agent.names.task_role, "task"),
        ] {
            if let Some(addr) = b.find("aws_iam_role", "name", role) {
                b.add(
                    &format!("ECS tasks of agent {name} assume its {what} role"),
                    &ecs,
                    "sts:AssumeRole",
                    Target::Resource(addr),
                    &[("aws:SourceArn", task_arn.clone())],
                );
            }
        }
        // The image.
        let purpose = format!("agent {name} pulls its image");
        b.add(
            &purpose,
            &exec,
            "ecr:GetAuthorizationToken",
            Target::Arn("*".to_string()),
            &[],
        );
        if let Some(repo) = b.find("aws_ecr_repository", "name", &agent.names.repository) {
            for action in [
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchCheckLayerAvailability",
            ] {
                b.add(&purpose, &exec, action, Target::Resource(repo.clone()), &[]);
            }
        }
        // Its log group.
        if let Some(group) = b.find("aws_cloudwatch_log_group", "name", &agent.names.log_group) {
            let purpose = format!("agent {name} writes its logs");
            for action in ["logs:CreateLogStream", "logs:PutLogEvents"] {
                b.add(
                    &purpose,
                    &exec,
                    action,
                    Target::Under(group.clone(), ":log-stream:ecs/app/0123".to_string()),
                    &[],
                );
            }
        }
        // Each secret its task definition injects.
        let family = b.find("aws_ecs_task_definition", "family", &agent.names.task_family);
        for secret in family.map(|f| injected_secrets(w, &f)).unwrap_or_default() {
            let Some(addr) = w.by_arn(&secret).cloned() else {
                continue;
            };
            let sname = w.attr(&addr, "name").unwrap_or_default();
            let purpose = format!("agent {name} starts with secret {sname}");
            b.reads_secret(&purpose, &exec, Target::Resource(addr), None);
        }
        // Its model, through the profile only.
        let bedrock = &model.bedrock;
        let profile = if bedrock.profile_id.starts_with("arn:") {
            bedrock.profile_id.clone()
        } else {
            format!(
                "arn:{p}:bedrock:{region}:{ACCOUNT}:inference-profile/{}",
                bedrock.profile_id
            )
        };
        let purpose = format!("agent {name} calls its model");
        for action in ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"] {
            b.add(&purpose, &task, action, Target::Arn(profile.clone()), &[]);
            // A geographic profile needs the model in each destination Region; a global one the model in
            // the source Region and the Region-less model ARN (AWS's IAM pages for both kinds).
            let regional: Vec<&String> = if bedrock.scope == "global" {
                bedrock.destination_regions.iter().filter(|r| **r == w.region).collect()
            } else {
                bedrock.destination_regions.iter().collect()
            };
            for dest in regional {
                let model_arn = format!("arn:{p}:bedrock:{dest}::foundation-model/{}", bedrock.model_id);
                b.add(
                    &purpose,
                    &task,
                    action,
                    Target::Arn(model_arn),
                    &[("bedrock:InferenceProfileArn", profile.clone())],
                );
            }
            if bedrock.scope == "global" {
                let model_arn = format!("arn:{p}:bedrock:::foundation-model/{}", bedrock.model_id);
                b.add(
                    &purpose,
                    &task,
                    action,
                    Target::Arn(model_arn),
                    &[
                        ("bedrock:InferenceProfileArn", profile.clone()),
                        ("aws:RequestedRegion", "unspecified".to_string()),
                    ],
                );
            }
        }
        if let Some(dest) = bedrock.destination_regions.first() {
            let direct = format!("arn:{p}:bedrock:{dest}::foundation-model/{}", bedrock.model_id);
            b.forbid(
                &format!("agent {name} calls the model around its profile"),
                &task,
                "bedrock:InvokeModel",
                Target::Arn(direct),
                &[],
            );
            let other = format!("arn:{p}:bedrock:{dest}::foundation-model/anthropic.claude-opus-4-1-20250805-v1:0");
            b.forbid(
                &format!("agent {name} calls another model"),
                &task,
                "bedrock:InvokeModel",
                Target::Arn(other),
                &[("bedrock:InferenceProfileArn", profile.clone())],
            );
        }
        // The database: its own secret and the Data API, nothing of the other agents.
        if let (Some(own), Some(cluster)) = (db_secrets.get(name), &cluster) {
            let purpose = format!("agent {name} uses its own schema through the Data API");
            b.add(
                &purpose,
                &task,
                "rds-data:ExecuteStatement",
                Target::Resource(cluster.clone()),
                &[],
            );
            b.reads_secret(&purpose, &task, Target::Resource(own.clone()), None);
        }
        for (other, secret) in &db_secrets {
            if other != name {
                let purpose = format!("agent {name} reads agent {other}'s database secret");
                b.forbid(
                    &purpose,
                    &task,
                    "secretsmanager:GetSecretValue",
                    Target::Resource(secret.clone()),
                    &[],
                );
                b.forbid(
                    &purpose,
                    &exec,
                    "secretsmanager:GetSecretValue",
                    Target::Resource(secret.clone()),
                    &[],
                );
            }
        }
        if let Some(cluster) = &cluster {
            if let Some(master) = w.attr(cluster, "master_user_secret.secret_arn") {
                let purpose = format!("agent {name} reads the database's master secret");
                for who in [&task, &exec] {
                    b.forbid(
                        &purpose,
                        who,
                        "secretsmanager:GetSecretValue",
                        Target::Arn(master.clone()),
                        &[],
                    );
                }
            }
            if !agent.uses_database {
                b.forbid(
                    &format!("agent {name} (no [agent.database]) uses the Data API"),
                    &task,
                    "rds-data:ExecuteStatement",
                    Target::Resource(cluster.clone()),
                    &[],
                );
            }
        }
        // Model access in the account (the Anthropic use-case form, the Marketplace subscription) is an
        // administrator's one-time prerequisite (README, "First deploy in a fresh account"), never an agent's.
        for action in ["aws-marketplace:Subscribe", "aws-marketplace:ViewSubscriptions"] {
            b.forbid(
                &format!("agent {name} manages Marketplace subscriptions"),
                &task,
                action,
                Target::Arn("*".to_string()),
                &[],
            );
        }
        if let Some(function) = w.of_type("aws_lambda_function").next().cloned() {
            b.forbid(
                &format!("agent {name} invokes the database bootstrap"),
                &task,
                "lambda:InvokeFunction",
                Target::Resource(function),
                &[],
            );
        }
    }
}

/// The secret ARNs (without a JSON key suffix) a task definition injects.
fn injected_secrets(w: &World, task_definition: &str) -> Vec<String> {
    let Some(defs) = w.attr(task_definition, "container_definitions") else {
        return Vec::new();
    };
    let Ok(serde_json::Value::Array(containers)) = serde_json::from_str::<serde_json::Value>(&defs) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for c in &containers {
        for s in c.get("secrets").and_then(|s| s.as_array()).into_iter().flatten() {
            if let Some(v) = s.get("valueFrom").and_then(|v| v.as_str()) {
                let arn: Vec<&str> = v.split(':').take(7).collect();
                out.push(arn.join(":"));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The database bootstrap function's role.
fn bootstrap(b: &mut Builder<'_>) {
    let w = b.world;
    let Some(function) = w.of_type("aws_lambda_function").next().cloned() else {
        return;
    };
    let Some(role) = w.attr(&function, "role").and_then(|arn| w.by_arn(&arn).cloned()) else {
        return;
    };
    let who = Who::Role(w.attr(&role, "name").unwrap_or_default());
    let lambda = Who::Service("lambda.amazonaws.com".to_string());
    b.add(
        "Lambda assumes the bootstrap function's role",
        &lambda,
        "sts:AssumeRole",
        Target::Resource(role.clone()),
        &[],
    );
    let cluster = w.of_type("aws_rds_cluster").next().cloned();
    if let Some(cluster) = &cluster {
        // One transaction per run, under an advisory lock (src/bootstrap/handler.py).
        for action in [
            "rds-data:BeginTransaction",
            "rds-data:ExecuteStatement",
            "rds-data:CommitTransaction",
            "rds-data:RollbackTransaction",
        ] {
            b.add(
                "the bootstrap runs SQL in one transaction through the Data API",
                &who,
                action,
                Target::Resource(cluster.clone()),
                &[],
            );
        }
        if let Some(master) = w.attr(cluster, "master_user_secret.secret_arn") {
            let key = w.attr(cluster, "master_user_secret_kms_key_id");
            b.reads_secret("the bootstrap reads the master secret", &who, Target::Arn(master), key);
        }
    }
    for secret in w
        .of_type("aws_secretsmanager_secret")
        .filter(|s| s.starts_with("module.database_bootstrap."))
    {
        let purpose = format!(
            "the bootstrap reads agent password {}",
            w.attr(secret, "name").unwrap_or_default()
        );
        b.reads_secret(&purpose, &who, Target::Resource(secret.clone()), None);
    }
    let log = format!("/aws/lambda/{}", w.attr(&function, "function_name").unwrap_or_default());
    if let Some(group) = b.find("aws_cloudwatch_log_group", "name", &log) {
        for action in ["logs:CreateLogStream", "logs:PutLogEvents"] {
            b.add(
                "the bootstrap writes its logs",
                &who,
                action,
                Target::Under(group.clone(), ":log-stream:2026/01/01/x".to_string()),
                &[],
            );
        }
    }
}

/// Each agent's one-off SQLite migration task (`sqlite_migration = true`).
fn migrations(b: &mut Builder<'_>) {
    let w = b.world;
    let ecs = Who::Service("ecs-tasks.amazonaws.com".to_string());
    for def in w
        .of_type("aws_ecs_task_definition")
        .filter(|d| d.starts_with("module.database_migration"))
    {
        let family = w.attr(def, "family").unwrap_or_default();
        for (attr, what) in [("execution_role_arn", "execution"), ("task_role_arn", "task")] {
            let Some(role) = w.attr(def, attr).and_then(|arn| w.by_arn(&arn).cloned()) else {
                continue;
            };
            b.add(
                &format!("ECS tasks of {family} assume its {what} role"),
                &ecs,
                "sts:AssumeRole",
                Target::Resource(role),
                &[],
            );
        }
        let exec = w
            .attr(def, "execution_role_arn")
            .and_then(|arn| w.by_arn(&arn).cloned());
        let task = w.attr(def, "task_role_arn").and_then(|arn| w.by_arn(&arn).cloned());
        if let Some(exec) = exec {
            let who = Who::Role(w.attr(&exec, "name").unwrap_or_default());
            for secret in injected_secrets(w, def) {
                let Some(addr) = w.by_arn(&secret).cloned() else {
                    continue;
                };
                let purpose = format!("migration {family} starts with its agent's secret");
                b.reads_secret(&purpose, &who, Target::Resource(addr), None);
            }
        }
        // The upload bucket of the same module instance: the operator puts the file, the task reads it.
        let prefix = def.split(".aws_ecs_task_definition").next().unwrap_or_default();
        let Some(bucket) = w.of_type("aws_s3_bucket").find(|a| a.starts_with(prefix)).cloned() else {
            continue;
        };
        let bucket_name = w.ids[&bucket].clone();
        let key = "order_management.db".to_string();
        let object_key = w
            .policies
            .iter()
            .flat_map(|p| p.statements.iter())
            .flat_map(|s| s.resources.iter().flat_map(|r| r.values.iter()))
            .find_map(|r| {
                r.strip_prefix(&format!("arn:{}:s3:::{bucket_name}/", w.partition))
                    .map(str::to_string)
            })
            .unwrap_or(key);
        let kms = w
            .of_type("aws_s3_bucket_server_side_encryption_configuration")
            .find(|c| w.attr(c, "bucket").as_deref() == Some(bucket_name.as_str()))
            .and_then(|c| b.key(w.attr(c, "rule.apply_server_side_encryption_by_default.kms_master_key_id")));
        let ctx = [
            b.via("s3"),
            Builder::caller_account(),
            (
                "kms:EncryptionContext:aws:s3:arn",
                format!("arn:{}:s3:::{bucket_name}/{object_key}", w.partition),
            ),
        ];
        let purpose = format!("the operator uploads the SQLite file for {family}");
        b.add(
            &purpose,
            &Who::Deployer,
            "s3:PutObject",
            Target::Under(bucket.clone(), format!("/{object_key}")),
            &[],
        );
        if let Some(kms) = &kms {
            b.add(
                &purpose,
                &Who::Deployer,
                "kms:GenerateDataKey",
                Target::Resource(kms.clone()),
                &ctx,
            );
        }
        if let Some(task) = task {
            let who = Who::Role(w.attr(&task, "name").unwrap_or_default());
            let purpose = format!("migration {family} reads the uploaded file");
            b.add(
                &purpose,
                &who,
                "s3:GetObject",
                Target::Under(bucket.clone(), format!("/{object_key}")),
                &[],
            );
            if let Some(kms) = kms {
                b.add(&purpose, &who, "kms:Decrypt", Target::Resource(kms), &ctx);
            }
        }
    }
}

/// VPC flow logs write to their log group through their role.
fn flow_logs(b: &mut Builder<'_>) {
    let w = b.world;
    for log in w.of_type("aws_flow_log") {
        let Some(role) = w.attr(log, "iam_role_arn").and_then(|arn| w.by_arn(&arn).cloned()) else {
            continue;
        };
        let svc = Who::Service("vpc-flow-logs.amazonaws.com".to_string());
        let flow_arn = format!(
            "arn:{}:ec2:{}:{ACCOUNT}:vpc-flow-log/fl-0123456789abcdef0",
            w.partition, w.region
        );
        b.add(
            "VPC flow logs assume their role",
            &svc,
            "sts:AssumeRole",
            Target::Resource(role.clone()),
            &[("aws:SourceArn", flow_arn)],
        );
        let who = Who::Role(w.attr(&role, "name").unwrap_or_default());
        if let Some(group) = w.attr(log, "log_destination").and_then(|arn| w.by_arn(&arn).cloned()) {
            for action in ["logs:CreateLogStream", "logs:PutLogEvents"] {
                b.add(
                    "VPC flow logs write their log group",
                    &who,
                    action,
                    Target::Under(group.clone(), ":log-stream:eni-0123".to_string()),
                    &[],
                );
            }
        }
    }
}

/// The release pipeline (`[pipeline]`): CodePipeline and CodeBuild assume their roles, move artifacts
/// through the encrypted artifact bucket, and CodeBuild writes its logs.
fn pipeline(b: &mut Builder<'_>) {
    let w = b.world;
    for pipeline in w.of_type("aws_codepipeline") {
        let Some(bucket) = w
            .attr(pipeline, "artifact_store.location")
            .and_then(|name| w.by_arn(&format!("arn:{}:s3:::{name}", w.partition)).cloned())
        else {
            continue;
        };
        let key = b.key(w.attr(pipeline, "artifact_store.encryption_key.id"));
        let mut users = Vec::new();
        if let Some(role) = w.attr(pipeline, "role_arn").and_then(|arn| w.by_arn(&arn).cloned()) {
            users.push(("codepipeline.amazonaws.com", role, true));
        }
        for project in w.of_type("aws_codebuild_project") {
            if let Some(role) = w.attr(project, "service_role").and_then(|arn| w.by_arn(&arn).cloned()) {
                if !users.iter().any(|(_, r, _)| *r == role) {
                    users.push(("codebuild.amazonaws.com", role.clone(), false));
                }
                if let Some(group) = w
                    .attr(project, "logs_config.cloudwatch_logs.group_name")
                    .and_then(|name| b.find("aws_cloudwatch_log_group", "name", &name))
                {
                    let who = Who::Role(w.attr(&role, "name").unwrap_or_default());
                    for action in ["logs:CreateLogStream", "logs:PutLogEvents"] {
                        let project_name = w.attr(project, "name").unwrap_or_default();
                        let purpose = format!("CodeBuild project {project_name} writes its logs");
                        b.add(
                            &purpose,
                            &who,
                            action,
                            Target::Under(group.clone(), ":log-stream:build/0".to_string()),
                            &[],
                        );
                    }
                }
            }
        }
        let object = format!("arn:{}:s3:::{}/release/artifact.zip", w.partition, w.ids[&bucket]);
        for (service, role, writes) in users {
            let name = w.attr(&role, "name").unwrap_or_default();
            let who = Who::Role(name.clone());
            b.add(
                &format!("{service} assumes role {name}"),
                &Who::Service(service.to_string()),
                "sts:AssumeRole",
                Target::Resource(role.clone()),
                &[],
            );
            let purpose = format!("role {name} moves pipeline artifacts");
            let ctx = [
                b.via("s3"),
                Builder::caller_account(),
                ("kms:EncryptionContext:aws:s3:arn", object.clone()),
            ];
            b.add(
                &purpose,
                &who,
                "s3:GetObject",
                Target::Under(bucket.clone(), "/release/artifact.zip".to_string()),
                &[],
            );
            if let Some(key) = &key {
                b.add(&purpose, &who, "kms:Decrypt", Target::Resource(key.clone()), &ctx);
            }
            if writes {
                b.add(
                    &purpose,
                    &who,
                    "s3:PutObject",
                    Target::Under(bucket.clone(), "/release/artifact.zip".to_string()),
                    &[],
                );
                if let Some(key) = &key {
                    b.add(
                        &purpose,
                        &who,
                        "kms:GenerateDataKey",
                        Target::Resource(key.clone()),
                        &ctx,
                    );
                }
            }
        }
    }
}

/// Roles that AWS services assume: the trust policy must let the service in. Where the service says which
/// account it acts for (`aws:SourceAccount`), the same service acting for another account must be refused
/// (the confused deputy). ECS assuming the Service Connect TLS role (`[security] in_transit_encryption`)
/// is the exception: AWS documents no such condition key for ECS infrastructure roles, so the trust policy
/// has none and no foreign-account case is checked.
fn service_roles(b: &mut Builder<'_>) {
    let w = b.world;
    let cases: [(&str, &str, &str, bool); 3] = [
        ("aws_backup_selection", "iam_role_arn", "backup.amazonaws.com", true),
        (
            "aws_rds_cluster_instance",
            "monitoring_role_arn",
            "monitoring.rds.amazonaws.com",
            true,
        ),
        (
            "aws_ecs_service",
            "service_connect_configuration.service.tls.role_arn",
            "ecs.amazonaws.com",
            false,
        ),
    ];
    for (rtype, attr, service, source_account) in cases {
        let mut seen = Vec::new();
        for user in w.of_type(rtype) {
            let Some(role) = w.attr(user, attr).and_then(|arn| w.by_arn(&arn).cloned()) else {
                continue;
            };
            if seen.contains(&role) {
                continue;
            }
            seen.push(role.clone());
            let name = w.attr(&role, "name").unwrap_or_default();
            let who = Who::Service(service.to_string());
            if !source_account {
                b.add(
                    &format!("{service} assumes role {name}"),
                    &who,
                    "sts:AssumeRole",
                    Target::Resource(role),
                    &[],
                );
                continue;
            }
            b.add(
                &format!("{service} assumes role {name}"),
                &who,
                "sts:AssumeRole",
                Target::Resource(role.clone()),
                &[("aws:SourceAccount", super::world::ACCOUNT.to_string())],
            );
            b.forbid(
                &format!("{service} assumes role {name} for another account's resource"),
                &who,
                "sts:AssumeRole",
                Target::Resource(role),
                &[("aws:SourceAccount", "444455556666".to_string())],
            );
        }
    }
}

/// The last part of an ARN, for purposes.
fn short(arn: &str) -> &str {
    arn.rsplit([':', '/']).next().unwrap_or(arn)
}
