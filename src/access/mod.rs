//! The access proof: every access the environment needs ([`flows`]) decided against the policies of the
//! rendered tree ([`world`]) by AWS's evaluation logic ([`evaluate`]), the accesses it must not have
//! checked the same way, and the grants no needed access uses. It reads the tree, never the model's
//! idea of the policies, so a template bug or a hand edit is judged as AWS would judge it. It does not
//! see what lies outside the tree: service control policies, permission boundaries, session policies,
//! the deployer's own IAM policies (assumed to allow), AWS managed policies' text.

pub mod evaluate;
pub mod flows;
pub mod policy;
pub mod world;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use anyhow::Result;
use serde::Serialize;

use crate::model::Model;
use crate::vfs::Tree;
use evaluate::{Caller, Decision, Documents, Request, Verdict, decide};
use flows::{Expect, Flow, Target, Who};
use policy::{Effect, Kind};
use world::{ACCOUNT, World};

/// One flow and what AWS would answer.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    #[serde(flatten)]
    pub flow: Flow,
    /// The resource ARN the request names (symbolic account and IDs).
    pub resource: String,
    pub decision: Decision,
    /// The answer is the one the system needs.
    pub ok: bool,
}

/// A statement of an agent's role that no needed access uses.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Unused {
    pub role: String,
    pub file: String,
    pub sid: Option<String>,
    pub actions: Vec<String>,
}

/// The principals that may use a secret or a key.
#[derive(Debug, Clone, Serialize)]
pub struct Readers {
    pub resource: String,
    pub name: String,
    pub principals: Vec<String>,
}

/// The whole proof for one tree.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub flows: Vec<Checked>,
    pub unused: Vec<Unused>,
    pub secret_readers: Vec<Readers>,
    pub key_users: Vec<Readers>,
    /// Policies the proof could not read: (resource, why).
    pub unreadable: Vec<(String, String)>,
}

impl Report {
    /// Needed accesses that are denied (or not proven), and forbidden ones that are allowed.
    pub fn failures(&self) -> impl Iterator<Item = &Checked> {
        self.flows.iter().filter(|c| !c.ok)
    }

    pub fn passed(&self) -> bool {
        self.failures().next().is_none() && self.unreadable.is_empty()
    }
}

/// Proves the tree's accesses for the model's environment.
pub fn check(model: &Model, tree: &Tree) -> Result<Report> {
    Ok(report(model, &World::read(tree)?))
}

/// [`check`] of a tree already evaluated with nothing changing.
pub fn check_evaluated(model: &Model, tree: &Tree, ev: &crate::predict::Evaluated) -> Result<Report> {
    Ok(report(model, &World::from_evaluated(tree, ev)?))
}

fn report(model: &Model, world: &World) -> Report {
    let flows = flows::flows(model, world);
    let checked: Vec<Checked> = flows.into_iter().map(|f| judge(world, f)).collect();
    let unused = unused(model, world, &checked);
    let (secret_readers, key_users) = readers(world);
    Report {
        flows: checked,
        unused,
        secret_readers,
        key_users,
        unreadable: world.unreadable.clone(),
    }
}

fn deployer() -> Caller {
    Caller::Iam {
        arn: format!("arn:aws:iam::{ACCOUNT}:role/deployer"),
        account: ACCOUNT.to_string(),
    }
}

/// The caller, its identity documents, or why it is missing.
fn caller<'w>(world: &'w World, who: &Who) -> Result<(Caller, Documents<'w>), String> {
    match who {
        Who::Deployer => Ok((
            deployer(),
            Documents {
                identity_allows_all: true,
                ..Documents::default()
            },
        )),
        Who::Service(name) => Ok((Caller::Service { name: name.clone() }, Documents::default())),
        Who::Role(name) => {
            let address = world
                .of_type("aws_iam_role")
                .find(|a| world.attr(a, "name").as_deref() == Some(name.as_str()))
                .ok_or_else(|| format!("role {name} is not in the tree"))?;
            Ok(role_caller(world, address))
        }
    }
}

fn role_caller<'w>(world: &'w World, address: &str) -> (Caller, Documents<'w>) {
    let identity = world
        .identity
        .get(address)
        .map(|is| is.iter().map(|&i| &world.policies[i]).collect())
        .unwrap_or_default();
    (
        Caller::Iam {
            arn: world.arns[address].clone(),
            account: ACCOUNT.to_string(),
        },
        Documents {
            identity,
            unread: world.unread.get(address).cloned().unwrap_or_default(),
            ..Documents::default()
        },
    )
}

fn judge(world: &World, flow: Flow) -> Checked {
    let (resource, policy) = match &flow.target {
        Target::Resource(a) => (
            world.arns.get(a).cloned().unwrap_or_default(),
            world.resource_policy.get(a),
        ),
        Target::Under(a, suffix) => (
            format!("{}{suffix}", world.arns.get(a).cloned().unwrap_or_default()),
            world.resource_policy.get(a),
        ),
        Target::Arn(arn) => (
            arn.clone(),
            world.by_arn(arn).and_then(|a| world.resource_policy.get(a)),
        ),
    };
    let decision = match caller(world, &flow.who) {
        Err(missing) => Decision {
            verdict: Verdict::Denied,
            because: Vec::new(),
            missing: Some(missing),
        },
        Ok((caller, mut docs)) => {
            docs.resource = policy.map(|&i| &world.policies[i]);
            let is_key = matches!(&flow.target, Target::Resource(a) if world.resources.get(a).is_some_and(|r| r.resource_type == "aws_kms_key"));
            if is_key && docs.resource.is_none() {
                Decision {
                    verdict: Verdict::Unknown("the key's policy could not be read".to_string()),
                    because: Vec::new(),
                    missing: None,
                }
            } else {
                decide(
                    &Request {
                        caller: &caller,
                        action: &flow.action,
                        resource: &resource,
                        resource_account: ACCOUNT,
                        context: &flow.context,
                    },
                    &docs,
                )
            }
        }
    };
    let ok = matches!(
        (flow.expect, &decision.verdict),
        (Expect::Allow, Verdict::Allowed) | (Expect::Deny, Verdict::Denied)
    );
    Checked {
        flow,
        resource,
        decision,
        ok,
    }
}

/// Allow statements of the agents' roles that no allowed, needed flow was granted by.
fn unused(model: &Model, world: &World, checked: &[Checked]) -> Vec<Unused> {
    let used: BTreeSet<(String, Option<String>)> = checked
        .iter()
        .filter(|c| c.ok && c.flow.expect == Expect::Allow)
        .flat_map(|c| c.decision.because.iter())
        .filter(|c| c.source.kind == Kind::Identity)
        .map(|c| (c.source.file.clone(), c.sid.clone()))
        .collect();
    let mut out = BTreeSet::new();
    for agent in &model.agents {
        for role in [&agent.names.execution_role, &agent.names.task_role] {
            let Some(address) = world
                .of_type("aws_iam_role")
                .find(|a| world.attr(a, "name").as_deref() == Some(role.as_str()))
            else {
                continue;
            };
            for &i in world.identity.get(address).into_iter().flatten() {
                let p = &world.policies[i];
                for st in p.statements.iter().filter(|s| s.effect == Effect::Allow) {
                    if !used.contains(&(p.source.file.clone(), st.sid.clone())) {
                        out.insert(Unused {
                            role: role.clone(),
                            file: p.source.file.clone(),
                            sid: st.sid.clone(),
                            actions: st.actions.values.clone(),
                        });
                    }
                }
            }
        }
    }
    out.into_iter().collect()
}

/// Who may read each secret (the secret and its key), and who may decrypt with each key.
fn readers(world: &World) -> (Vec<Readers>, Vec<Readers>) {
    let roles: Vec<&String> = world.of_type("aws_iam_role").collect();
    let mut callers: Vec<(String, Caller, Documents<'_>)> = roles
        .iter()
        .map(|a| {
            let (c, d) = role_caller(world, a);
            (format!("role {}", world.attr(a, "name").unwrap_or_default()), c, d)
        })
        .collect();
    callers.push((
        "deployer (and every principal of the account its IAM policies allow)".to_string(),
        deployer(),
        Documents {
            identity_allows_all: true,
            ..Documents::default()
        },
    ));
    let allowed =
        |caller: &Caller, docs: &Documents<'_>, action: &str, address: &str, ctx: &BTreeMap<String, Vec<String>>| {
            let mut docs = docs.clone();
            docs.resource = world.resource_policy.get(address).map(|&i| &world.policies[i]);
            let req = Request {
                caller,
                action,
                resource: &world.arns[address],
                resource_account: ACCOUNT,
                context: ctx,
            };
            decide(&req, &docs).verdict == Verdict::Allowed
        };
    let mut secrets = Vec::new();
    for secret in world.of_type("aws_secretsmanager_secret") {
        let key = world.attr(secret, "kms_key_id").and_then(|k| world.by_arn(&k).cloned());
        let mut ctx = BTreeMap::new();
        ctx.insert(
            "kms:viaservice".to_string(),
            vec![format!("secretsmanager.{}.amazonaws.com", world.region)],
        );
        ctx.insert("kms:calleraccount".to_string(), vec![ACCOUNT.to_string()]);
        ctx.insert(
            "kms:encryptioncontext:secretarn".to_string(),
            vec![world.arns[secret].clone()],
        );
        let principals = callers
            .iter()
            .filter(|(_, c, d)| {
                allowed(c, d, "secretsmanager:GetSecretValue", secret, &BTreeMap::new())
                    && key.as_ref().is_none_or(|k| allowed(c, d, "kms:Decrypt", k, &ctx))
            })
            .map(|(n, _, _)| n.clone())
            .collect();
        secrets.push(Readers {
            resource: secret.clone(),
            name: world.attr(secret, "name").unwrap_or_default(),
            principals,
        });
    }
    let mut keys = Vec::new();
    for key in world.of_type("aws_kms_key") {
        let mut principals = Vec::new();
        for (name, c, d) in &callers {
            let via: Vec<&str> = ["secretsmanager", "s3", "sns", "ecr", "rds", "backup", "logs", "lambda"]
                .into_iter()
                .filter(|svc| {
                    let mut ctx = BTreeMap::new();
                    ctx.insert(
                        "kms:viaservice".to_string(),
                        vec![format!("{svc}.{}.amazonaws.com", world.region)],
                    );
                    ctx.insert("kms:calleraccount".to_string(), vec![ACCOUNT.to_string()]);
                    allowed(c, d, "kms:Decrypt", key, &ctx)
                })
                .collect();
            if !via.is_empty() {
                principals.push(format!("{name} via {}", via.join(", ")));
            }
        }
        if let Some(&i) = world.resource_policy.get(key) {
            for st in world.policies[i]
                .statements
                .iter()
                .filter(|s| s.effect == Effect::Allow)
            {
                let decrypts = st
                    .actions
                    .values
                    .iter()
                    .any(|a| evaluate::glob(&a.to_ascii_lowercase(), "kms:decrypt"));
                for (kind, id) in st.principals.iter().flat_map(|p| p.values.iter()) {
                    if decrypts && kind == "Service" {
                        principals.push(format!("service {id} (statement {})", st.sid.as_deref().unwrap_or("-")));
                    }
                }
            }
        }
        keys.push(Readers {
            resource: key.clone(),
            name: world.attr(key, "description").unwrap_or_default(),
            principals,
        });
    }
    (secrets, keys)
}

/// The report as `tfgen access` prints it.
pub fn render_text(env: &str, report: &Report) -> String {
    let mut out = String::new();
    let needed = report.flows.iter().filter(|c| c.flow.expect == Expect::Allow).count();
    let forbidden = report.flows.len() - needed;
    let failed = report.failures().count();
    let _ = writeln!(
        out,
        "access {env}: {needed} needed accesses, {forbidden} forbidden ones; {}",
        if failed == 0 {
            "every one decided as the system needs".to_string()
        } else {
            format!("{failed} not as the system needs")
        }
    );
    for c in report.failures() {
        let verdict = match &c.decision.verdict {
            Verdict::Allowed => "ALLOWED (must be denied)".to_string(),
            Verdict::Denied => "DENIED".to_string(),
            Verdict::Unknown(why) => format!("NOT PROVEN ({why})"),
        };
        let _ = writeln!(out, "  {verdict}: {}", c.flow.purpose);
        let _ = writeln!(out, "    {} {} on {}", c.flow.who, c.flow.action, c.resource);
        let ctx: Vec<String> = c
            .flow
            .context
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "aws:securetransport" | "aws:requestedregion"))
            .map(|(k, v)| format!("{k}={}", v.join(",")))
            .collect();
        if !ctx.is_empty() {
            let _ = writeln!(out, "    context: {}", ctx.join(" "));
        }
        if let Some(m) = &c.decision.missing {
            let _ = writeln!(out, "    {m}");
        }
        for cited in &c.decision.because {
            let _ = writeln!(
                out,
                "    {} by {} statement {} ({} in {}, attached by {})",
                cited.effect.to_lowercase(),
                cited.source.kind,
                cited.sid.as_deref().unwrap_or("(no Sid)"),
                cited.source.policy,
                cited.source.file,
                cited.source.attached_by
            );
        }
    }
    for (what, why) in &report.unreadable {
        let _ = writeln!(out, "  NOT READ: {what}: {why}");
    }
    if !report.unused.is_empty() {
        let _ = writeln!(out, "\nGranted to an agent's role, used by no needed access:");
        for u in &report.unused {
            let _ = writeln!(
                out,
                "  {}: statement {} ({}) in {}",
                u.role,
                u.sid.as_deref().unwrap_or("(no Sid)"),
                u.actions.join(", "),
                u.file
            );
        }
    }
    let _ = writeln!(out, "\nWho may read each secret:");
    for r in &report.secret_readers {
        let _ = writeln!(out, "  {}: {}", r.name, r.principals.join("; "));
    }
    let _ = writeln!(out, "\nWho may decrypt with each key:");
    for r in &report.key_users {
        let _ = writeln!(out, "  {} ({}):", r.resource, r.name);
        for p in &r.principals {
            let _ = writeln!(out, "    {p}");
        }
    }
    out
}

/// The generated README's table: who may do what, from the needed accesses the tree allows, one row per
/// principal and resource; and how many forbidden accesses it denies.
pub fn who_may(report: &Report) -> String {
    let mut rows: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for c in report.flows.iter().filter(|c| c.ok && c.flow.expect == Expect::Allow) {
        let resource = c.resource.split(":log-stream:").next().unwrap_or(&c.resource);
        let resource = resource.strip_suffix("-AbCdEf").unwrap_or(resource);
        let on = resource
            .splitn(6, ':')
            .nth(5)
            .filter(|r| !r.is_empty())
            .unwrap_or(resource);
        let on = if c.resource.starts_with("arn:") && c.resource.split(':').nth(2) == Some("bedrock") {
            c.resource.rsplit('/').next().map_or(on, |m| m).to_string()
        } else {
            on.to_string()
        };
        rows.entry((c.flow.who.to_string(), on))
            .or_default()
            .insert(c.flow.action.clone());
    }
    let mut out = String::from(
        "Computed by `tfgen access` from the IAM, key, bucket and trust policies in this directory, not from \
         the spec: every access the environment needs, allowed.\n\n| Who | May | On |\n| --- | --- | --- |\n",
    );
    for ((who, on), actions) in &rows {
        let actions: Vec<&str> = actions.iter().map(String::as_str).collect();
        let _ = writeln!(out, "| {who} | {} | `{on}` |", actions.join(", "));
    }
    let forbidden: Vec<&Checked> = report.flows.iter().filter(|c| c.flow.expect == Expect::Deny).collect();
    let denied = forbidden.iter().filter(|c| c.ok).count();
    let _ = writeln!(
        out,
        "\nAnd {denied} of {} forbidden accesses denied (another agent's database secret, the master secret, \
         a model other than the environment's or around its profile, the bootstrap function, the Data API \
         for agents without a database).",
        forbidden.len()
    );
    out
}
