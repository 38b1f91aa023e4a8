//! What a rendered tree grants: every role with its trust and identity policies, every resource with its
//! ARN and its resource or key policy, read back from the tree's text through the plan evaluator (the way
//! `diff` reads it), never from the model. Values known only after apply become symbolic: the account is
//! [`ACCOUNT`], ARNs are built from each resource's configured name. It decides nothing.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result, bail};
use hcl::Value;

use super::policy::{Kind, Policy, Source};
use crate::predict::{self, Instance, Unknowns};
use crate::vfs::Tree;

/// The account the tree is evaluated in (AWS's documentation example account; never a real one).
pub const ACCOUNT: &str = "111122223333";

/// A tree's principals, resources and policies.
#[derive(Debug, Default)]
pub struct World {
    pub region: String,
    pub partition: String,
    /// Managed resource instances, by address, with markers resolved.
    pub resources: BTreeMap<String, Instance>,
    /// Address → symbolic ARN.
    pub arns: BTreeMap<String, String>,
    /// Address → what its `id` (or name) resolves to: a bucket's name, a role's name.
    pub ids: BTreeMap<String, String>,
    pub policies: Vec<Policy>,
    /// Role address → indexes of its identity policies.
    pub identity: BTreeMap<String, Vec<usize>>,
    /// Role address → AWS managed policies attached to it (not read).
    pub unread: BTreeMap<String, Vec<String>>,
    /// Resource address → index of its resource, key or trust policy.
    pub resource_policy: BTreeMap<String, usize>,
    /// Policies the proof could not read: (attaching resource, why).
    pub unreadable: Vec<(String, String)>,
}

impl World {
    /// Reads a rendered tree.
    pub fn read(tree: &Tree) -> Result<World> {
        let nothing = std::collections::BTreeSet::default();
        let identity = BTreeMap::default();
        Self::from_evaluated(tree, &predict::evaluate_all(tree, Unknowns::none(&identity, &nothing))?)
    }

    /// Reads a rendered tree already evaluated with nothing changing (`render` shares the evaluation
    /// with the reachability graph).
    pub fn from_evaluated(tree: &Tree, ev: &predict::Evaluated) -> Result<World> {
        let region = region_of(tree).unwrap_or_default();
        let partition = partition_of(&region).to_string();
        // Data sources with equal arguments share a marker (every argument-less one does).
        let data_kinds: BTreeMap<String, Vec<String>> = ev
            .data_markers
            .iter()
            .map(|(marker, addrs)| {
                let kinds = addrs
                    .iter()
                    .filter_map(|a| ev.data.get(a))
                    .map(|i| i.resource_type.clone());
                (marker.clone(), kinds.collect())
            })
            .collect();
        // First pass: names and ARNs from each resource's own configuration (data markers resolved).
        let mut resolver = Resolver {
            region: region.clone(),
            partition: partition.clone(),
            data_kinds: &data_kinds,
            arns: BTreeMap::new(),
            ids: BTreeMap::new(),
        };
        let mut resources = BTreeMap::new();
        for (address, inst) in &ev.resources {
            let mut inst = inst.clone();
            for values in inst.attrs.values_mut() {
                for v in values.iter_mut() {
                    resolver.value(v);
                }
            }
            resources.insert(address.clone(), inst);
        }
        for (address, inst) in &resources {
            let (arn, id) = identify(&partition, &region, address, inst);
            resolver.arns.insert(address.clone(), arn);
            resolver.ids.insert(address.clone(), id);
        }
        // A name built from another resource's ID (prod's secrets carry the key's id) resolves once that
        // ID is known; names do not chain deeper than that.
        let resolved: Vec<(bool, String, String)> = resources
            .keys()
            .flat_map(|a| [(true, a, &resolver.arns[a]), (false, a, &resolver.ids[a])])
            .filter(|(_, _, v)| v.contains("unknown:::::"))
            .map(|(is_arn, a, v)| (is_arn, a.clone(), resolver.text(v)))
            .collect();
        for (is_arn, address, value) in resolved {
            let table = if is_arn { &mut resolver.arns } else { &mut resolver.ids };
            table.insert(address, value);
        }
        // Second pass: references to other resources' ARNs and IDs.
        for inst in resources.values_mut() {
            for values in inst.attrs.values_mut() {
                for v in values.iter_mut() {
                    resolver.value(v);
                }
            }
        }
        let arns = resolver.arns.clone();
        let ids = resolver.ids.clone();
        let module_dirs = module_dirs(tree);
        let mut policies = Vec::new();
        let mut identity_of: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut unread: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut resource_policy = BTreeMap::new();
        let mut unreadable = Vec::new();
        let by_id = |wanted: &str, rtype: &str| -> Option<String> {
            resources
                .iter()
                .filter(|(_, i)| i.resource_type == rtype)
                .find(|(a, _)| ids.get(*a).is_some_and(|id| id == wanted) || arns.get(*a).is_some_and(|x| x == wanted))
                .map(|(a, _)| a.clone())
        };
        for (address, inst) in &resources {
            let attr = |name: &str| one(inst, name);
            let read = |kind: Kind, attr_name: &str| -> Option<Result<Policy>> {
                let text = attr(attr_name)?;
                Some(document(tree, &module_dirs, ev, &resolver, address, kind, &text))
            };
            // (policy, the resource it governs, the role it is an identity policy of)
            let (found, target, role): (Option<Result<Policy>>, Option<String>, Option<String>) =
                match inst.resource_type.as_str() {
                    "aws_iam_role" => {
                        if let Some(list) = inst.attrs.get("managed_policy_arns").and_then(|v| v.first()) {
                            for arn in list.as_array().into_iter().flatten().filter_map(Value::as_str) {
                                unread.entry(address.clone()).or_default().push(arn.to_string());
                            }
                        }
                        if inst.attrs.contains_key("inline_policy.policy") {
                            unreadable.push((address.clone(), "inline_policy blocks are not read".to_string()));
                        }
                        (read(Kind::Trust, "assume_role_policy"), Some(address.clone()), None)
                    }
                    "aws_iam_role_policy" => {
                        let role = attr("role").and_then(|r| by_id(&r, "aws_iam_role"));
                        if role.is_none() {
                            unreadable.push((address.clone(), "its role is not in the tree".to_string()));
                        }
                        (read(Kind::Identity, "policy"), None, role)
                    }
                    "aws_iam_policy" => (read(Kind::Identity, "policy"), Some(address.clone()), None),
                    "aws_kms_key" if inst.attrs.contains_key("policy") => {
                        (read(Kind::Key, "policy"), Some(address.clone()), None)
                    }
                    "aws_kms_key" => (
                        Some(Ok(default_key_policy(address, &partition))),
                        Some(address.clone()),
                        None,
                    ),
                    "aws_s3_bucket_policy" => (
                        read(Kind::Resource, "policy"),
                        attr("bucket").and_then(|b| by_id(&b, "aws_s3_bucket")),
                        None,
                    ),
                    "aws_sns_topic_policy" => (
                        read(Kind::Resource, "policy"),
                        attr("arn").and_then(|b| by_id(&b, "aws_sns_topic")),
                        None,
                    ),
                    "aws_sns_topic" => (read(Kind::Resource, "policy"), Some(address.clone()), None),
                    "aws_secretsmanager_secret_policy" => (
                        read(Kind::Resource, "policy"),
                        attr("secret_arn").and_then(|b| by_id(&b, "aws_secretsmanager_secret")),
                        None,
                    ),
                    "aws_ecr_repository_policy" => (
                        read(Kind::Resource, "policy"),
                        attr("repository").and_then(|b| by_id(&b, "aws_ecr_repository")),
                        None,
                    ),
                    "aws_lambda_permission" => {
                        unreadable.push((address.clone(), "Lambda permissions are not read".to_string()));
                        (None, None, None)
                    }
                    _ => (None, None, None),
                };
            match found {
                None => {}
                Some(Err(e)) => unreadable.push((address.clone(), format!("{e:#}"))),
                Some(Ok(policy)) => {
                    policies.push(policy);
                    let i = policies.len() - 1;
                    if let Some(target) = target {
                        resource_policy.insert(target, i);
                    }
                    if let Some(role) = role {
                        identity_of.entry(role).or_default().push(i);
                    }
                }
            }
        }
        // Attachments last: the policies they attach are read by now.
        for (address, inst) in &resources {
            if inst.resource_type != "aws_iam_role_policy_attachment" {
                continue;
            }
            let role = one(inst, "role").and_then(|r| by_id(&r, "aws_iam_role"));
            let arn = one(inst, "policy_arn").unwrap_or_default();
            let Some(role) = role else {
                unreadable.push((address.clone(), "its role is not in the tree".to_string()));
                continue;
            };
            match by_id(&arn, "aws_iam_policy").and_then(|p| resource_policy.get(&p).copied()) {
                Some(i) => identity_of.entry(role).or_default().push(i),
                None => unread.entry(role).or_default().push(arn),
            }
        }
        Ok(World {
            region,
            partition,
            resources,
            arns,
            ids,
            policies,
            identity: identity_of,
            unread,
            resource_policy,
            unreadable,
        })
    }

    /// The resource's string attribute, if configured once.
    pub fn attr(&self, address: &str, name: &str) -> Option<String> {
        self.resources.get(address).and_then(|i| one(i, name))
    }

    /// Addresses of the resources of one type.
    pub fn of_type<'a>(&'a self, rtype: &'a str) -> impl Iterator<Item = &'a String> + 'a {
        self.resources
            .iter()
            .filter(move |(_, i)| i.resource_type == rtype)
            .map(|(a, _)| a)
    }

    /// The address of the resource with this ARN (or ID).
    pub fn by_arn(&self, arn: &str) -> Option<&String> {
        self.arns.iter().find(|(_, a)| *a == arn).map(|(addr, _)| addr)
    }
}

fn one(inst: &Instance, name: &str) -> Option<String> {
    inst.attrs
        .get(name)
        .and_then(|v| v.first())
        .and_then(|v| v.as_str().map(str::to_string))
}

/// The region of the root module's provider block.
fn region_of(tree: &Tree) -> Option<String> {
    let text = tree.get("providers.tf")?;
    let line = text.lines().find(|l| l.trim_start().starts_with("region"))?;
    Some(line.split('"').nth(1)?.to_string())
}

/// The partition a region belongs to.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// Replaces the evaluator's markers for values known only after apply.
struct Resolver<'a> {
    region: String,
    partition: String,
    data_kinds: &'a BTreeMap<String, Vec<String>>,
    arns: BTreeMap<String, String>,
    ids: BTreeMap<String, String>,
}

impl Resolver<'_> {
    fn value(&self, v: &mut Value) {
        match v {
            Value::String(s) if s.contains("unknown:::::") => *s = self.text(s),
            Value::Array(items) => items.iter_mut().for_each(|i| self.value(i)),
            Value::Object(o) => o.values_mut().for_each(|i| self.value(i)),
            _ => {}
        }
    }

    /// `unknown:::::<marker>:<attr>` → the symbolic value, where it is known; left as it is otherwise.
    fn text(&self, s: &str) -> String {
        const MARK: &str = "unknown:::::";
        let mut out = String::new();
        let mut rest = s;
        while let Some(at) = rest.find(MARK) {
            out.push_str(&rest[..at]);
            let tail = &rest[at + MARK.len()..];
            let (marker, after) = if let Some(d) = tail.strip_prefix("data:") {
                let end = d.find(':').unwrap_or(d.len());
                (format!("data:{}", &d[..end]), &d[end..])
            } else {
                let end = tail.find(':').unwrap_or(tail.len());
                (tail[..end].to_string(), &tail[end..])
            };
            let after = after.strip_prefix(':').unwrap_or(after);
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .unwrap_or(after.len());
            let attr = &after[..end];
            if let Some(value) = self.lookup(&marker, attr) {
                out.push_str(&value);
            } else {
                out.push_str(MARK);
                out.push_str(&marker);
                out.push(':');
                out.push_str(attr);
            }
            rest = &after[end..];
        }
        out.push_str(rest);
        out
    }

    fn lookup(&self, marker: &str, attr: &str) -> Option<String> {
        if let Some(kinds) = self.data_kinds.get(marker) {
            let has = |k: &str| kinds.iter().any(|x| x == k);
            return match attr {
                "account_id" if has("aws_caller_identity") => Some(ACCOUNT.to_string()),
                "partition" if has("aws_partition") => Some(self.partition.clone()),
                "dns_suffix" if has("aws_partition") => Some("amazonaws.com".to_string()),
                "name" | "region" if has("aws_region") => Some(self.region.clone()),
                _ => None,
            };
        }
        let arn = self.arns.get(marker)?;
        match attr {
            "arn" => Some(arn.clone()),
            "id" | "name" | "bucket" | "key_id" | "function_name" | "repository_name" => self.ids.get(marker).cloned(),
            "master_user_secret.secret_arn" => Some(format!(
                "arn:{}:secretsmanager:{}:{ACCOUNT}:secret:rds!cluster-{}-AbCdEf",
                self.partition,
                self.region,
                symbolic_id(marker)
            )),
            "cluster_resource_id" => Some(format!("cluster-{}", symbolic_id(marker))),
            "repository_url" => self
                .ids
                .get(marker)
                .map(|n| format!("{ACCOUNT}.dkr.ecr.{}.amazonaws.com/{n}", self.region)),
            _ => None,
        }
    }
}

/// What stands for an identifier AWS generates: the resource's address, so reports stay readable.
fn symbolic_id(address: &str) -> String {
    format!("<{address}>")
}

/// A resource's symbolic ARN and the value of its `id`/`name`, from its configured name.
fn identify(p: &str, r: &str, address: &str, inst: &Instance) -> (String, String) {
    let attr = |n: &str| one(inst, n);
    let name = || {
        attr("name")
            .or_else(|| attr("name_prefix").map(|p| format!("{p}<generated>")))
            .unwrap_or_else(|| symbolic_id(address))
    };
    match inst.resource_type.as_str() {
        "aws_kms_key" => {
            let id = symbolic_id(address);
            (format!("arn:{p}:kms:{r}:{ACCOUNT}:key/{id}"), id)
        }
        "aws_s3_bucket" => {
            let bucket = attr("bucket")
                .or_else(|| attr("bucket_prefix").map(|p| format!("{p}<generated>")))
                .unwrap_or_else(|| symbolic_id(address));
            (format!("arn:{p}:s3:::{bucket}"), bucket)
        }
        "aws_secretsmanager_secret" => {
            let arn = format!("arn:{p}:secretsmanager:{r}:{ACCOUNT}:secret:{}-AbCdEf", name());
            (arn.clone(), arn)
        }
        "aws_cloudwatch_log_group" => {
            let n = name();
            (format!("arn:{p}:logs:{r}:{ACCOUNT}:log-group:{n}"), n)
        }
        "aws_iam_role" => {
            let n = name();
            (
                format!(
                    "arn:{p}:iam::{ACCOUNT}:role/{}{n}",
                    attr("path").unwrap_or_else(|| "/".into()).trim_start_matches('/')
                ),
                n,
            )
        }
        "aws_iam_policy" => {
            let arn = format!("arn:{p}:iam::{ACCOUNT}:policy/{}", name());
            (arn.clone(), arn)
        }
        "aws_rds_cluster" => {
            let n = attr("cluster_identifier").unwrap_or_else(|| symbolic_id(address));
            (format!("arn:{p}:rds:{r}:{ACCOUNT}:cluster:{n}"), n)
        }
        "aws_ecr_repository" => {
            let n = name();
            (format!("arn:{p}:ecr:{r}:{ACCOUNT}:repository/{n}"), n)
        }
        "aws_sns_topic" => {
            let arn = format!("arn:{p}:sns:{r}:{ACCOUNT}:{}", name());
            (arn.clone(), arn)
        }
        "aws_lambda_function" => {
            let n = attr("function_name").unwrap_or_else(|| symbolic_id(address));
            (format!("arn:{p}:lambda:{r}:{ACCOUNT}:function:{n}"), n)
        }
        "aws_ecs_cluster" => {
            let n = name();
            (format!("arn:{p}:ecs:{r}:{ACCOUNT}:cluster/{n}"), n)
        }
        "aws_backup_vault" => {
            let n = name();
            (format!("arn:{p}:backup:{r}:{ACCOUNT}:backup-vault:{n}"), n)
        }
        "aws_s3_object" => {
            let key = attr("key").unwrap_or_default();
            let bucket = attr("bucket").unwrap_or_default();
            (format!("arn:{p}:s3:::{bucket}/{key}"), key)
        }
        other => {
            let id = symbolic_id(address);
            (
                format!("arn:{p}:{}:{r}:{ACCOUNT}:{id}", other.trim_start_matches("aws_")),
                id,
            )
        }
    }
}

/// The key policy AWS gives a key created without one: the account's IAM policies decide.
fn default_key_policy(address: &str, partition: &str) -> Policy {
    let text = format!(
        r#"{{"Statement":[{{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{{"AWS":"arn:{partition}:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#
    );
    let mut p = Policy::from_json(
        Source {
            file: "(AWS default key policy)".to_string(),
            attached_by: address.to_string(),
            policy: "(default)".to_string(),
            kind: Kind::Key,
        },
        &text,
    )
    .expect("the default key policy parses");
    p.source.kind = Kind::Key;
    p
}

/// (module directory, module call name) → the called module's directory, from the tree's text.
fn module_dirs(tree: &Tree) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for (path, text) in &tree.files {
        if !path.ends_with(".tf") {
            continue;
        }
        let dir = path.rsplit_once('/').map_or(String::new(), |(d, _)| d.to_string());
        let mut current: Option<String> = None;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("module \"") {
                current = rest.split('"').next().map(str::to_string);
            } else if line.starts_with('}') {
                current = None;
            } else if let (Some(name), Some(src)) = (&current, line.trim_start().strip_prefix("source"))
                && let Some(source) = src.split('"').nth(1)
            {
                let child = source.trim_start_matches("./").trim_end_matches('/');
                let full = if dir.is_empty() {
                    child.to_string()
                } else {
                    format!("{dir}/{child}")
                };
                out.insert((dir.clone(), name.clone()), full);
            }
        }
    }
    out
}

/// The module directory of an address and the rest of it: `module.iam["a"].aws_iam_role.task` →
/// (`modules/iam`, `aws_iam_role.task`).
fn locate<'a>(dirs: &BTreeMap<(String, String), String>, address: &'a str) -> (String, &'a str) {
    let mut dir = String::new();
    let mut rest = address;
    while let Some(after) = rest.strip_prefix("module.") {
        let end = after.find(['.', '[']).unwrap_or(after.len());
        let name = &after[..end];
        let mut tail = &after[end..];
        if tail.starts_with('[') {
            let close = tail.find("].").map_or(tail.len(), |i| i + 1);
            tail = &tail[close..];
        }
        dir = dirs.get(&(dir.clone(), name.to_string())).cloned().unwrap_or_default();
        rest = tail.trim_start_matches('.');
    }
    (dir, rest)
}

/// The file in `dir` that declares the block (`data "aws_iam_policy_document" "task"`), or any of the
/// directory's files when none does.
fn file_declaring(tree: &Tree, dir: &str, kind: &str, rtype: &str, name: &str) -> String {
    let header = format!("{kind} \"{rtype}\" \"{name}\"");
    tree.files
        .iter()
        .filter(|(p, _)| p.rsplit_once('/').map_or("", |(d, _)| d) == dir && p.ends_with(".tf"))
        .find(|(_, t)| t.lines().any(|l| l.starts_with(&header)))
        .map_or_else(|| format!("{dir}/"), |(p, _)| p.clone())
}

/// The policy a resource's attribute holds: a data source's document, or JSON.
#[allow(clippy::too_many_arguments)]
fn document(
    tree: &Tree,
    dirs: &BTreeMap<(String, String), String>,
    ev: &predict::Evaluated,
    resolver: &Resolver<'_>,
    attached_by: &str,
    kind: Kind,
    text: &str,
) -> Result<Policy> {
    const MARK: &str = "unknown:::::data:";
    if let Some(rest) = text.strip_prefix(MARK) {
        let (hash, attr) = rest.split_once(':').context("a data marker")?;
        if attr != "json" {
            bail!("the policy is a data source's {attr}, not a document");
        }
        let marker = format!("data:{hash}");
        let address = ev
            .data_markers
            .get(&marker)
            .and_then(|a| a.first())
            .context("the policy's data source is not in the tree")?;
        let inst = &ev.data[address];
        let mut doc = inst
            .document
            .clone()
            .with_context(|| format!("{address} is not an aws_iam_policy_document"))?;
        resolver.value(&mut doc);
        let (dir, rest) = locate(dirs, address);
        let mut parts = rest.trim_start_matches("data.").splitn(2, '.');
        let (rtype, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let name = name.split('[').next().unwrap_or(name);
        let source = Source {
            file: file_declaring(tree, &dir, "data", rtype, name),
            attached_by: attached_by.to_string(),
            policy: format!("data.{rtype}.{name}"),
            kind,
        };
        return Policy::from_document(source, &doc).with_context(|| address.clone());
    }
    let (dir, rest) = locate(dirs, attached_by);
    let mut parts = rest.splitn(2, '.');
    let (rtype, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let name = name.split('[').next().unwrap_or(name);
    let source = Source {
        file: file_declaring(tree, &dir, "resource", rtype, name),
        attached_by: attached_by.to_string(),
        policy: format!("{rtype}.{name}"),
        kind,
    };
    Policy::from_json(source, text)
}
