//! Predicts what `terraform plan` does to each resource instance when a generated tree replaces another:
//! create, update in place, replace, delete, or move (possibly with an update or a replacement).
//!
//! Both trees are evaluated ([`eval`]) into per-instance attribute values; an instance whose values differ
//! is replaced when a differing path is force-new for its type ([`crate::aws::provider`]), else updated.
//! A replacement makes the instance's computed attributes unknown again, and any change defers the read
//! of data sources that refer to the instance (their results become unknown), so the new tree is
//! evaluated again with those marked until nothing more changes (cascades). It reads no state: it assumes the
//! old tree was applied and nothing drifted, and it does not model provider configuration changes.

mod eval;
pub(crate) mod funcs;
mod scope;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use serde::Serialize;

use crate::addresses;
use crate::aws::provider;
use crate::vfs::Tree;

pub use eval::{Evaluated, Instance, Parsed, Unknowns, evaluate, evaluate_all};

/// What Terraform plans for one resource instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    Update,
    Replace,
    Delete,
    /// Nothing changes (reported only for moved instances).
    NoOp,
}

impl Action {
    /// The sign the human summary uses.
    pub fn sign(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
            Action::NoOp => ">",
        }
    }
}

/// One resource instance that the plan touches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceChange {
    pub address: String,
    pub action: Action,
    /// Its address in the old tree, when a `moved` block carries it over.
    pub moved_from: Option<String>,
    /// Its type keeps data (databases, repositories, secrets, logs, keys, buckets, backups).
    pub stateful: bool,
    /// The changed attributes that force the replacement (empty unless `action` is `replace`).
    pub forces_replacement: Vec<String>,
    /// Every changed attribute path (empty for creates and deletes).
    pub changed_attributes: Vec<String>,
}

impl ResourceChange {
    /// Does applying this lose the data of a stateful resource?
    pub fn destroys_state(&self) -> bool {
        self.stateful && matches!(self.action, Action::Delete | Action::Replace)
    }
}

/// Every instance the plan would touch (including moves with no other change), sorted by address.
pub fn predict(old: &Tree, new: &Tree) -> Result<Vec<ResourceChange>> {
    predict_from(old, new, &Evaluation::new(new)?)
}

/// A tree parsed once and evaluated with nothing changing: what the access proof and the reachability
/// graph read, and the prediction's first round, shared by `render`, `diff` and `check`.
#[derive(Debug)]
pub struct Evaluation {
    pub parsed: Parsed,
    pub plain: Evaluated,
}

impl Evaluation {
    pub fn new(tree: &Tree) -> Result<Self> {
        let parsed = Parsed::new(tree)?;
        let plain = parsed.evaluate(Unknowns::none(&BTreeMap::new(), &BTreeSet::new()))?;
        Ok(Evaluation { parsed, plain })
    }
}

/// [`predict`] with the new tree's [`Evaluation`] already done.
pub fn predict_from(old: &Tree, new: &Tree, evaluation: &Evaluation) -> Result<Vec<ResourceChange>> {
    let nothing = BTreeSet::new();
    let before = evaluate(old, Unknowns::none(&BTreeMap::new(), &nothing))?;
    // The new tree is parsed once and evaluated until the unknowns stop growing.
    let (parsed, plain) = (&evaluation.parsed, &evaluation.plain.resources);
    let identity = moved_identities(new, plain, &before)?;
    // Without moves, the first round's evaluation is the plain one.
    let mut first = identity.is_empty().then_some(plain);
    let (mut replaced, mut changed) = (BTreeSet::new(), BTreeSet::new());
    let mut recomputed: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
    loop {
        let unknowns = Unknowns {
            identity: &identity,
            replaced: &replaced,
            changed: &changed,
            recomputed: Some(&recomputed),
        };
        let after = match first.take() {
            Some(plain) => Cow::Borrowed(plain),
            None => Cow::Owned(parsed.evaluate(unknowns)?.resources),
        };
        let changes = compare(&before, &after, &identity);
        let with = |keep: fn(Action) -> bool| -> BTreeSet<String> {
            changes
                .iter()
                .filter(|c| keep(c.action))
                .map(|c| c.address.clone())
                .collect()
        };
        let now_replaced = with(|a| a == Action::Replace);
        // A deletion is a pending change of its resource too: Terraform defers a data source that refers
        // to a resource with any instance being created, updated, replaced or deleted (the resource, not
        // the instance, is what it depends on), so removing one agent's secret re-reads every agent's
        // policy document at apply.
        let now_changed = with(|a| matches!(a, Action::Create | Action::Update | Action::Replace | Action::Delete));
        // An update the provider recomputes attributes for makes them unknown to whatever reads them.
        let now_recomputed: BTreeMap<String, Vec<&'static str>> = changes
            .iter()
            .filter(|c| c.action == Action::Update)
            .filter_map(|c| {
                let rtype = after.get(&c.address)?.resource_type.as_str();
                let attrs = provider::recomputed_on_update(rtype, &c.changed_attributes);
                (!attrs.is_empty()).then(|| (c.address.clone(), attrs))
            })
            .collect();
        if now_replaced.is_subset(&replaced)
            && now_changed.is_subset(&changed)
            && now_recomputed.keys().all(|a| recomputed.contains_key(a))
        {
            return Ok(changes);
        }
        replaced.extend(now_replaced);
        changed.extend(now_changed);
        recomputed.extend(now_recomputed);
    }
}

/// New address → old address, for every new instance that a `moved` block carries over from an old one.
fn moved_identities(
    new: &Tree,
    after: &BTreeMap<String, Instance>,
    before: &BTreeMap<String, Instance>,
) -> Result<BTreeMap<String, String>> {
    let moves = addresses::moved_blocks(new)?;
    let mut out = BTreeMap::new();
    for address in after.keys() {
        if before.contains_key(address) {
            continue;
        }
        let from = moves
            .iter()
            .find(|(_, to)| covers(to, address))
            .map(|(from, to)| format!("{from}{}", &address[to.len()..]))
            .filter(|old| before.contains_key(old));
        if let Some(from) = from {
            out.insert(address.clone(), from);
        }
    }
    Ok(out)
}

/// Does a `moved` target (`module.ecs["a"]`) cover this address (`module.ecs["a"].aws_x.y`)?
fn covers(target: &str, address: &str) -> bool {
    address == target
        || address
            .strip_prefix(target)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

fn compare(
    before: &BTreeMap<String, Instance>,
    after: &BTreeMap<String, Instance>,
    identity: &BTreeMap<String, String>,
) -> Vec<ResourceChange> {
    let mut out = Vec::new();
    let mut carried: BTreeSet<&str> = BTreeSet::new();
    for (address, new) in after {
        let moved_from = identity.get(address);
        let old_address = moved_from.map_or(address.as_str(), String::as_str);
        let stateful = addresses::is_stateful(address);
        let Some(old) = before.get(old_address) else {
            out.push(ResourceChange {
                address: address.clone(),
                action: Action::Create,
                moved_from: None,
                stateful,
                forces_replacement: Vec::new(),
                changed_attributes: Vec::new(),
            });
            continue;
        };
        carried.insert(old_address);
        let paths: BTreeSet<&String> = old.attrs.keys().chain(new.attrs.keys()).collect();
        let changed: Vec<String> = paths
            .into_iter()
            .filter(|p| old.attrs.get(*p) != new.attrs.get(*p))
            .filter(|p| !ignored(&new.ignore_changes, p))
            .filter(|p| !provider::is_write_only(&new.resource_type, p))
            .cloned()
            .collect();
        let forces: Vec<String> = changed
            .iter()
            .filter(|p| provider::forces_replacement(&new.resource_type, p))
            .cloned()
            .collect();
        let action = if !forces.is_empty() {
            Action::Replace
        } else if !changed.is_empty() {
            Action::Update
        } else {
            Action::NoOp
        };
        if action != Action::NoOp || moved_from.is_some() {
            out.push(ResourceChange {
                address: address.clone(),
                action,
                moved_from: moved_from.cloned(),
                stateful,
                forces_replacement: forces,
                changed_attributes: changed,
            });
        }
    }
    for address in before.keys() {
        if !after.contains_key(address) && !carried.contains(address.as_str()) {
            out.push(ResourceChange {
                address: address.clone(),
                action: Action::Delete,
                moved_from: None,
                stateful: addresses::is_stateful(address),
                forces_replacement: Vec::new(),
                changed_attributes: Vec::new(),
            });
        }
    }
    out.sort_by(|a, b| a.address.cmp(&b.address));
    out
}

/// Is `path` under one of the `ignore_changes` entries (`desired_count`, `tags["x"]` not supported)?
fn ignored(ignore: &[String], path: &str) -> bool {
    ignore
        .iter()
        .any(|i| path == i || path.strip_prefix(i.as_str()).is_some_and(|r| r.starts_with('.')))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A root module calling `./modules/app` once per agent, like tfgen's trees.
    fn tree(image: &str, name_suffix: &str, count: u32, extra_root: &str) -> Tree {
        let mut t = Tree::default();
        t.insert(
            "main.tf",
            format!(
                r#"
locals {{
  tag    = "{image}"
  agents = {{ "a" = {{ cpu = 256 }}, "b" = {{ cpu = 512 }} }}
}}

resource "aws_ecs_cluster" "shared" {{
  name = "shared{name_suffix}"
}}

module "app" {{
  source   = "./modules/app"
  for_each = local.agents

  name    = each.key
  cpu     = each.value.cpu
  image   = "repo:${{local.tag}}"
  cluster = aws_ecs_cluster.shared.arn
  copies  = {count}
}}
{extra_root}
"#
            ),
        );
        t.insert(
            "modules/app/main.tf",
            r#"
variable "name" {}
variable "cpu" {}
variable "image" {}
variable "cluster" {}
variable "copies" {}

locals {
  containers = [{ name = var.name, image = var.image }]
}

resource "aws_ecs_task_definition" "this" {
  family                = var.name
  cpu                   = var.cpu
  container_definitions = jsonencode(local.containers)
}

resource "aws_ecs_service" "this" {
  name            = var.name
  cluster         = var.cluster
  task_definition = aws_ecs_task_definition.this.arn
  desired_count   = var.copies

  lifecycle {
    ignore_changes = [desired_count]
  }
}

resource "aws_cloudwatch_log_group" "extra" {
  count = var.copies
  name  = "${var.name}-${count.index}"
}
"#,
        );
        t
    }

    fn actions(old: &Tree, new: &Tree) -> Vec<(String, Action, Option<String>)> {
        predict(old, new)
            .unwrap()
            .into_iter()
            .map(|c| (c.address, c.action, c.moved_from))
            .collect()
    }

    fn row(address: &str, action: Action) -> (String, Action, Option<String>) {
        (address.to_string(), action, None)
    }

    #[test]
    fn identical_trees_plan_nothing() {
        let t = tree("1", "", 1, "");
        assert!(predict(&t, &t).unwrap().is_empty());
    }

    #[test]
    fn a_root_local_reaches_resources_through_module_inputs_and_cascades() {
        // The image reaches container_definitions (force-new) through a module argument, a variable and a
        // local; the replaced task definition's ARN is unknown, so the service is updated in place.
        let got = actions(&tree("1", "", 1, ""), &tree("2", "", 1, ""));
        assert_eq!(
            got,
            vec![
                row("module.app[\"a\"].aws_ecs_service.this", Action::Update),
                row("module.app[\"a\"].aws_ecs_task_definition.this", Action::Replace),
                row("module.app[\"b\"].aws_ecs_service.this", Action::Update),
                row("module.app[\"b\"].aws_ecs_task_definition.this", Action::Replace),
            ]
        );
    }

    #[test]
    fn a_replaced_resource_forces_replacement_where_a_force_new_attribute_reads_it() {
        // The shared cluster's name is force-new; each service's `cluster` (force-new) reads its ARN.
        let changes = predict(&tree("1", "", 1, ""), &tree("1", "-2", 1, "")).unwrap();
        let service = changes
            .iter()
            .find(|c| c.address == "module.app[\"a\"].aws_ecs_service.this")
            .unwrap();
        assert_eq!(service.action, Action::Replace);
        assert_eq!(service.forces_replacement, vec!["cluster".to_string()]);
        assert_eq!(changes.iter().filter(|c| c.action == Action::Replace).count(), 3);
    }

    #[test]
    fn count_changes_create_and_delete_instances_and_ignore_changes_is_respected() {
        let got = actions(&tree("1", "", 1, ""), &tree("1", "", 2, ""));
        assert_eq!(
            got,
            vec![
                row("module.app[\"a\"].aws_cloudwatch_log_group.extra[1]", Action::Create),
                row("module.app[\"b\"].aws_cloudwatch_log_group.extra[1]", Action::Create),
            ]
        );
        let back = predict(&tree("1", "", 2, ""), &tree("1", "", 1, "")).unwrap();
        assert!(
            back.iter().all(|c| c.action == Action::Delete && c.stateful),
            "{back:?}"
        );
    }

    #[test]
    fn moved_blocks_carry_state_and_report_where_from() {
        let old = tree("1", "", 1, "");
        let mut new = tree(
            "1",
            "",
            1,
            "moved {\n  from = aws_ecs_cluster.shared\n  to   = aws_ecs_cluster.main\n}\n",
        );
        let main = new.files.get_mut("main.tf").unwrap();
        *main = main.replace("\"aws_ecs_cluster\" \"shared\"", "\"aws_ecs_cluster\" \"main\"");
        *main = main.replace("aws_ecs_cluster.shared.arn", "aws_ecs_cluster.main.arn");
        assert_eq!(
            actions(&old, &new),
            vec![(
                "aws_ecs_cluster.main".to_string(),
                Action::NoOp,
                Some("aws_ecs_cluster.shared".to_string())
            )]
        );
        // Without the moved block, the old cluster goes and a new one comes, replacing the services.
        let main = new.files.get_mut("main.tf").unwrap();
        let cut = main.find("moved {").unwrap();
        main.truncate(cut);
        let got = actions(&old, &new);
        assert!(got.contains(&row("aws_ecs_cluster.main", Action::Create)), "{got:?}");
        assert!(got.contains(&row("aws_ecs_cluster.shared", Action::Delete)), "{got:?}");
        assert!(
            got.contains(&row("module.app[\"a\"].aws_ecs_service.this", Action::Replace)),
            "{got:?}"
        );
    }

    /// A tree of one root module file.
    fn root_only(main: &str) -> Tree {
        let mut t = Tree::default();
        t.insert("main.tf", main.to_string());
        t
    }

    /// A data source that refers to a resource with an instance being deleted is read at apply (Terraform
    /// depends on the resource, not the instance): everything reading it is an update, the survivors' too.
    #[test]
    fn deleting_an_instance_defers_the_data_sources_that_refer_to_its_resource() {
        let with = |names: &str| {
            root_only(&format!(
                r#"
locals {{
  agents = toset([{names}])
}}

resource "aws_secretsmanager_secret" "agent" {{
  for_each = local.agents
  name     = each.key
}}

data "aws_iam_policy_document" "agent" {{
  for_each = local.agents
  statement {{
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.agent[each.key].arn]
  }}
}}

resource "aws_iam_policy" "agent" {{
  for_each = local.agents
  name     = each.key
  policy   = data.aws_iam_policy_document.agent[each.key].json
}}
"#
            ))
        };
        let got = actions(&with(r#""a", "b""#), &with(r#""a""#));
        let want = vec![
            ("aws_iam_policy.agent[\"a\"]".to_string(), Action::Update, None),
            ("aws_iam_policy.agent[\"b\"]".to_string(), Action::Delete, None),
            (
                "aws_secretsmanager_secret.agent[\"b\"]".to_string(),
                Action::Delete,
                None,
            ),
        ];
        assert_eq!(got, want);
    }

    /// An S3 object whose content changes is updated in place, and the provider recomputes its
    /// `version_id`: a function that reads it is updated too.
    #[test]
    fn an_updated_object_s_new_version_updates_what_reads_it() {
        let with = |content: &str| {
            root_only(&format!(
                r#"
resource "aws_s3_object" "code" {{
  bucket         = "b"
  key            = "code.zip"
  content_base64 = "{content}"
}}

resource "aws_lambda_function" "f" {{
  function_name     = "f"
  s3_bucket         = aws_s3_object.code.bucket
  s3_key            = aws_s3_object.code.key
  s3_object_version = aws_s3_object.code.version_id
}}
"#
            ))
        };
        let got = actions(&with("AAAA"), &with("BBBB"));
        let want = vec![
            ("aws_lambda_function.f".to_string(), Action::Update, None),
            ("aws_s3_object.code".to_string(), Action::Update, None),
        ];
        assert_eq!(got, want);
    }
}
