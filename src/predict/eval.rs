//! Evaluates a generated tree the way `terraform plan` sees its configuration: every resource instance
//! with its attributes (nested blocks flattened to `block.attribute` paths) as values, with module
//! arguments, variables, locals, `for_each`/`count`, `dynamic` blocks and module outputs resolved.
//!
//! Values known only after apply (computed attributes of resources, attributes of data sources) are
//! marker strings naming where they come from; a replaced instance's markers differ from its old ones,
//! so whatever references them sees a change (Terraform's "known after apply"). A data source's markers
//! carry a hash of its evaluated arguments, since Terraform reads it again when they change.
//!
//! It does not know the provider: attributes Terraform would compute from unset arguments are absent,
//! and provider configuration (region, default tags) is read only for `data.aws_region` and the zone
//! names of `data.aws_availability_zones`, which it assumes are the region's zones in letter order
//! (`<region>a`, `<region>b`, ...): they only name subnet instances.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{DefaultHasher, Hash as _, Hasher as _};

use anyhow::{Context as _, Result, anyhow, bail};
use hcl::eval::{Context, Evaluate};
use hcl::{Block, BlockLabel, Body, Expression, Map, Structure, Value};

use super::scope::Scope;
use crate::vfs::Tree;

/// One resource instance of a tree, as configured.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub address: String,
    pub resource_type: String,
    /// Attribute path (`tags`, `serverlessv2_scaling_configuration.min_capacity`) → its value in each
    /// occurrence of the enclosing block; a nested block's own path holds one entry per occurrence.
    pub attrs: BTreeMap<String, Vec<Value>>,
    /// Top-level attributes named in `lifecycle { ignore_changes }`.
    pub ignore_changes: Vec<String>,
    /// The arguments as one structured value, nested blocks as lists of objects (`dynamic` blocks
    /// expanded): kept only for `aws_iam_policy_document`, whose statements the access proof reads.
    pub document: Option<Value>,
}

/// How unknown values of the tree being evaluated are named.
#[derive(Debug, Clone, Copy)]
pub struct Unknowns<'a> {
    /// Address in this tree → the address its state had before (from `moved` blocks).
    pub identity: &'a BTreeMap<String, String>,
    /// Addresses (in this tree) planned for replacement: their computed attributes are new unknowns.
    pub replaced: &'a BTreeSet<String>,
    /// Addresses (in this tree) with any planned change: a data source that refers to one of them
    /// directly (or through `depends_on`) is read only at apply, so all its attributes are unknown.
    pub changed: &'a BTreeSet<String>,
    /// Addresses planned for an in-place update that the provider recomputes attributes of
    /// (`aws_s3_object`'s `version_id` when its content changes): those attributes are new unknowns.
    pub recomputed: Option<&'a BTreeMap<String, Vec<&'static str>>>,
}

impl<'a> Unknowns<'a> {
    /// A tree evaluated on its own: nothing moved, replaced or changed.
    pub fn none(identity: &'a BTreeMap<String, String>, nothing: &'a BTreeSet<String>) -> Self {
        Unknowns {
            identity,
            replaced: nothing,
            changed: nothing,
            recomputed: None,
        }
    }
}

/// Arguments of a resource or data block that are Terraform meta-arguments, not provider attributes.
const META: [&str; 5] = ["count", "for_each", "depends_on", "provider", "providers"];

/// Every managed resource instance of `tree`, by address.
pub fn evaluate(tree: &Tree, unknowns: Unknowns<'_>) -> Result<BTreeMap<String, Instance>> {
    Ok(evaluate_all(tree, unknowns)?.resources)
}

/// Every instance of a tree: managed resources and data sources, each by address.
#[derive(Debug, Default)]
pub struct Evaluated {
    pub resources: BTreeMap<String, Instance>,
    /// Data source instances with their configured arguments (`aws_iam_policy_document` statements).
    pub data: BTreeMap<String, Instance>,
    /// The marker a data instance's unknown attributes carry (`data:1f2e…`) → the data instances that carry
    /// it (several when their arguments are equal, like every module's `aws_caller_identity`).
    pub data_markers: BTreeMap<String, Vec<String>>,
}

/// Like [`evaluate`], with the data source instances too.
pub fn evaluate_all(tree: &Tree, unknowns: Unknowns<'_>) -> Result<Evaluated> {
    Parsed::new(tree)?.evaluate(unknowns)
}

/// A tree's modules, parsed once to be evaluated several times (the prediction evaluates the new tree
/// until what it marks unknown stops growing).
#[derive(Debug)]
pub struct Parsed {
    modules: BTreeMap<String, Module>,
    region: String,
}

impl Parsed {
    pub fn new(tree: &Tree) -> Result<Self> {
        let mut files: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
        for (path, text) in tree.files.iter().filter(|(p, _)| p.ends_with(".tf")) {
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            files.entry(dir).or_default().push((path, text));
        }
        let mut modules = BTreeMap::new();
        for (dir, files) in files {
            modules.insert(dir.to_string(), Module::load(&files, dir)?);
        }
        let root = modules.get("").context("the tree has no root module")?;
        let region = root
            .providers
            .iter()
            .find_map(|b| b.body().attributes().find(|a| a.key() == "region"))
            .map(|a| eval(a.expr(), &functions()))
            .transpose()?
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        Ok(Parsed { modules, region })
    }

    /// Every instance, with unknown values named as `unknowns` says.
    pub fn evaluate(&self, unknowns: Unknowns<'_>) -> Result<Evaluated> {
        let root = self.modules.get("").context("the tree has no root module")?;
        let mut run = Run {
            modules: &self.modules,
            unknowns,
            region: self.region.clone(),
            out: Evaluated::default(),
        };
        run.module(root, "", Map::new())?;
        Ok(run.out)
    }
}

/// The configuration of one module directory.
#[derive(Debug, Default)]
struct Module {
    variables: Vec<(String, Option<Expression>)>,
    locals: Vec<(String, Expression)>,
    /// `resource`, `data` and `module` blocks.
    blocks: Vec<Block>,
    outputs: Vec<(String, Expression)>,
    providers: Vec<Block>,
    /// Every `.name` that appears in the module's text: the attributes its expressions may read; `true`
    /// when it is indexed, like the computed block `master_user_secret[0]`.
    attr_names: BTreeMap<String, bool>,
    /// For each indexed name, the names read after its index (`secret_arn` of `master_user_secret[0].secret_arn`).
    indexed_subs: BTreeMap<String, BTreeSet<String>>,
    /// Locals and blocks in dependency order.
    order: Vec<Step>,
    /// What the outputs refer to (a context for them holds only this).
    output_deps: BTreeSet<String>,
}

impl Module {
    /// The module of `dir` from its `.tf` files (path, text).
    fn load(files: &[(&str, &str)], dir: &str) -> Result<Self> {
        let mut m = Module::default();
        for &(path, text) in files {
            let body: Body = hcl::parse(text).with_context(|| format!("parsing {path}"))?;
            m.attr_names.extend(attr_names(text));
            for (name, subs) in indexed_subs(text) {
                m.indexed_subs.entry(name).or_default().extend(subs);
            }
            for block in body.into_blocks() {
                match block.identifier() {
                    "variable" => {
                        let default = block
                            .body()
                            .attributes()
                            .find(|a| a.key() == "default")
                            .map(|a| a.expr().clone());
                        m.variables.push((label(&block, 0), default));
                    }
                    "locals" => {
                        for a in block.body().attributes() {
                            m.locals.push((a.key().to_string(), a.expr().clone()));
                        }
                    }
                    "output" => {
                        if let Some(v) = block.body().attributes().find(|a| a.key() == "value") {
                            m.outputs.push((label(&block, 0), v.expr().clone()));
                        }
                    }
                    "resource" | "data" | "ephemeral" | "module" => m.blocks.push(block),
                    "provider" => m.providers.push(block),
                    _ => {}
                }
            }
        }
        (m.order, m.output_deps) = evaluation_order(&m, dir)?;
        Ok(m)
    }
}

/// What a module instance has evaluated so far.
#[derive(Default)]
pub(super) struct State {
    pub(super) vars: Map<String, Value>,
    pub(super) locals: Map<String, Value>,
    pub(super) resources: BTreeMap<String, Map<String, Value>>,
    pub(super) data: Map<String, Value>,
    /// Ephemeral resources (never planned, never in state): their values are unknown markers.
    pub(super) ephemeral: Map<String, Value>,
    pub(super) modules: Map<String, Value>,
}

impl State {
    /// An evaluation context with what `deps` (keys like `local.x`, `aws_t.n`, `var.v`) name, or
    /// everything. Only what is named is cloned: a module's variables can hold whole files (the bootstrap's
    /// code), and cloning them for every block was most of an evaluation's time.
    pub(super) fn context(&self, deps: Option<&BTreeSet<String>>) -> Context<'static> {
        let Some(deps) = deps else {
            return self.full_context();
        };
        // Walk the (few) names the step reads, not the (many) values the module holds.
        let (mut vars, mut locals, mut modules) = (Map::new(), Map::new(), Map::new());
        let mut data: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
        let mut ephemeral: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
        let mut resources: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
        let nested = |map: &Map<String, Value>, rtype: &str, name: &str| -> Option<Value> {
            match map.get(rtype) {
                Some(Value::Object(by_name)) => by_name.get(name).cloned(),
                _ => None,
            }
        };
        for dep in deps {
            let (space, rest) = dep.split_once('.').unwrap_or((dep.as_str(), ""));
            match space {
                "var" => copy(&self.vars, rest, &mut vars),
                "local" => copy(&self.locals, rest, &mut locals),
                "module" => copy(&self.modules, rest, &mut modules),
                "data" | "ephemeral" => {
                    let (rtype, name) = rest.split_once('.').unwrap_or((rest, ""));
                    let (from, into) = if space == "data" {
                        (&self.data, &mut data)
                    } else {
                        (&self.ephemeral, &mut ephemeral)
                    };
                    if let Some(v) = nested(from, rtype, name) {
                        into.entry(rtype).or_default().insert(name.to_string(), v);
                    }
                }
                rtype => {
                    if let Some(v) = self.resources.get(rtype).and_then(|by_name| by_name.get(rest)) {
                        resources.entry(rtype).or_default().insert(rest.to_string(), v.clone());
                    }
                }
            }
        }
        let mut ctx = functions();
        ctx.declare_var("var", Value::Object(vars));
        ctx.declare_var("local", Value::Object(locals));
        ctx.declare_var("module", Value::Object(modules));
        let spaces = |declared: &Map<String, Value>, mut picked: BTreeMap<&str, Map<String, Value>>| -> Value {
            Value::Object(
                declared
                    .keys()
                    .map(|rtype| {
                        (
                            rtype.clone(),
                            Value::Object(picked.remove(rtype.as_str()).unwrap_or_default()),
                        )
                    })
                    .collect(),
            )
        };
        ctx.declare_var("data", spaces(&self.data, data));
        ctx.declare_var("ephemeral", spaces(&self.ephemeral, ephemeral));
        for rtype in self.resources.keys() {
            ctx.declare_var(
                rtype.as_str(),
                Value::Object(resources.remove(rtype.as_str()).unwrap_or_default()),
            );
        }
        ctx
    }

    /// A context with every value (the outputs read whatever they like).
    fn full_context(&self) -> Context<'static> {
        let mut ctx = functions();
        ctx.declare_var("var", Value::Object(self.vars.clone()));
        ctx.declare_var("local", Value::Object(self.locals.clone()));
        ctx.declare_var("module", Value::Object(self.modules.clone()));
        ctx.declare_var("data", Value::Object(self.data.clone()));
        ctx.declare_var("ephemeral", Value::Object(self.ephemeral.clone()));
        for (rtype, by_name) in &self.resources {
            ctx.declare_var(rtype.as_str(), Value::Object(by_name.clone()));
        }
        ctx
    }
}

impl State {
    /// Records a block's value (all its instances) where expressions read it.
    fn insert(&mut self, block: &Block, name: String, value: Value) {
        let rtype = label(block, 0);
        match block.identifier() {
            "module" => {
                self.modules.insert(name, value);
            }
            "data" => {
                let by_type = self.data.entry(rtype).or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(o) = by_type {
                    o.insert(name, value);
                }
            }
            "ephemeral" => {
                let by_type = self.ephemeral.entry(rtype).or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(o) = by_type {
                    o.insert(name, value);
                }
            }
            _ => {
                self.resources.entry(rtype).or_default().insert(name, value);
            }
        }
    }
}

/// Copies `map[name]` into `into`, if there.
fn copy(map: &Map<String, Value>, name: &str, into: &mut Map<String, Value>) {
    if let Some(v) = map.get(name) {
        into.insert(name.to_string(), v.clone());
    }
}

struct Run<'a> {
    modules: &'a BTreeMap<String, Module>,
    unknowns: Unknowns<'a>,
    region: String,
    out: Evaluated,
}

impl Run<'_> {
    /// Evaluates one module instance (its addresses start with `prefix`); returns its outputs.
    fn module(&mut self, module: &Module, prefix: &str, vars: Map<String, Value>) -> Result<Value> {
        let mut st = State {
            vars,
            ..State::default()
        };
        let consts = functions();
        for (name, default) in &module.variables {
            if !st.vars.contains_key(name) {
                let v = default.as_ref().map(|d| eval(d, &consts)).transpose()?;
                st.vars.insert(name.clone(), v.unwrap_or(Value::Null));
            }
        }
        for step in &module.order {
            match step.node {
                Node::Local(i) => {
                    let (name, expr) = &module.locals[i];
                    let v = Scope::new(&st, Some(&step.deps))
                        .eval(expr)
                        .with_context(|| format!("{prefix}local.{name}"))?;
                    st.locals.insert(name.clone(), v);
                }
                Node::Block(i) => {
                    let block = &module.blocks[i];
                    let deferred = block.identifier() == "data" && self.any_changed(&step.deps, prefix);
                    let mut scope = Scope::new(&st, Some(&step.deps));
                    let (name, value) = self.block(module, block, prefix, &mut scope, deferred)?;
                    st.insert(block, name, value);
                }
            }
        }
        let scope = Scope::new(&st, Some(&module.output_deps));
        let mut outputs = Map::new();
        for (name, expr) in &module.outputs {
            let v = scope.eval(expr).with_context(|| format!("{prefix}output.{name}"))?;
            outputs.insert(name.clone(), v);
        }
        Ok(Value::Object(outputs))
    }

    fn block(
        &mut self,
        module: &Module,
        block: &Block,
        prefix: &str,
        scope: &mut Scope<'_>,
        deferred: bool,
    ) -> Result<(String, Value)> {
        let kind = block.identifier();
        let name = if kind == "module" {
            label(block, 0)
        } else {
            label(block, 1)
        };
        let rtype = label(block, 0);
        let base = match kind {
            "module" => format!("{prefix}module.{name}"),
            "data" => format!("{prefix}data.{rtype}.{name}"),
            "ephemeral" => format!("{prefix}ephemeral.{rtype}.{name}"),
            _ => format!("{prefix}{rtype}.{name}"),
        };
        let instances = repetition(block, scope).with_context(|| base.clone())?;
        let mut values: Vec<(Option<Value>, Value)> = Vec::new();
        // One scope for every instance: each instance re-binds `each` or `count`.
        for (key, each) in instances {
            let address = match &key {
                None => base.clone(),
                Some(k) => format!("{base}{}", key_text(k)),
            };
            match (&each, &key) {
                (Some(each), Some(k)) => {
                    let mut obj = Map::new();
                    obj.insert("key".to_string(), k.clone());
                    obj.insert("value".to_string(), each.clone());
                    scope.bind("each", Value::Object(obj));
                }
                (None, Some(k)) => {
                    let mut obj = Map::new();
                    obj.insert("index".to_string(), k.clone());
                    scope.bind("count", Value::Object(obj));
                }
                _ => {}
            }
            let value = match kind {
                "module" => self.call(block, &address, scope)?,
                _ => self.instance(module, block, &address, scope, deferred)?,
            };
            values.push((key, value));
        }
        let value = match (repeated_by(block), values.len()) {
            (None, _) => values.pop().map_or(Value::Null, |(_, v)| v),
            (Some("count"), _) => Value::Array(values.into_iter().map(|(_, v)| v).collect()),
            _ => Value::Object(
                values
                    .into_iter()
                    .map(|(k, v)| (k.as_ref().map(key_string).unwrap_or_default(), v))
                    .collect(),
            ),
        };
        Ok((name, value))
    }

    /// A module call's instance: its arguments become the child's variables; returns its outputs.
    fn call(&mut self, block: &Block, address: &str, scope: &Scope<'_>) -> Result<Value> {
        let mut vars = Map::new();
        let mut source = None;
        for a in block.body().attributes() {
            match a.key() {
                "source" => source = scope.eval(a.expr())?.as_str().map(str::to_string),
                "version" => {}
                k if META.contains(&k) => {}
                k => {
                    let v = scope
                        .eval(a.expr())
                        .with_context(|| format!("{address}: argument {k}"))?;
                    vars.insert(k.to_string(), v);
                }
            }
        }
        let source = source.with_context(|| format!("{address} has no source"))?;
        let dir = source.trim_start_matches("./").trim_end_matches('/');
        let module = self
            .modules
            .get(dir)
            .with_context(|| format!("{address}: no module in {dir}"))?;
        self.module(module, &format!("{address}."), vars)
    }

    /// Does any of these references (of a block in the module at `prefix`) name a managed resource
    /// with planned changes?
    fn any_changed(&self, deps: &BTreeSet<String>, prefix: &str) -> bool {
        deps.iter()
            .filter(|r| !["data.", "local.", "module.", "var."].iter().any(|p| r.starts_with(p)))
            .any(|r| {
                let base = format!("{prefix}{r}");
                self.unknowns.changed.iter().any(|a| {
                    a.strip_prefix(&base)
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with('['))
                })
            })
    }

    /// One resource or data instance: records a managed one; returns what expressions may read of it.
    fn instance(
        &mut self,
        module: &Module,
        block: &Block,
        address: &str,
        scope: &mut Scope<'_>,
        deferred: bool,
    ) -> Result<Value> {
        let rtype = label(block, 0);
        let mut attrs = BTreeMap::new();
        let mut ignore_changes = Vec::new();
        flatten(block.body(), scope, "", &mut attrs, &mut ignore_changes).with_context(|| address.to_string())?;
        let data = block.identifier() == "data";
        let ephemeral = block.identifier() == "ephemeral";
        let marker = if ephemeral {
            // Opened anew on every plan and apply: never known ahead, never the same twice.
            format!("ephemeral:{rtype}")
        } else if data {
            let mut h = DefaultHasher::new();
            format!("{attrs:?}").hash(&mut h);
            let read = if deferred { " (read at apply)" } else { "" };
            format!("data:{:x}{read}", h.finish())
        } else {
            let identity = self.unknowns.identity.get(address).map_or(address, String::as_str);
            let replaced = if self.unknowns.replaced.contains(address) {
                " (replaced)"
            } else {
                ""
            };
            format!("{identity}{replaced}")
        };
        let mut object = Map::new();
        // Unknown values: seven `:`-separated parts, like an ARN, so that ARN surgery keeps them whole.
        let recomputed = self.unknowns.recomputed.and_then(|r| r.get(address));
        let unknown = |name: &str| {
            if recomputed.is_some_and(|attrs| attrs.contains(&name)) {
                Value::from(format!("unknown:::::{marker} (updated):{name}"))
            } else {
                Value::from(format!("unknown:::::{marker}:{name}"))
            }
        };
        for (name, indexed) in &module.attr_names {
            let configured = attrs
                .get(name)
                .and_then(|v| (v.len() == 1).then(|| v[0].clone()))
                .filter(|v| !v.is_null());
            let value = configured.unwrap_or_else(|| {
                if *indexed {
                    let block = module
                        .indexed_subs
                        .get(name)
                        .into_iter()
                        .flatten()
                        .map(|sub| (sub.clone(), unknown(&format!("{name}.{sub}"))))
                        .collect();
                    Value::Array(vec![Value::Object(block)])
                } else {
                    unknown(name)
                }
            });
            object.insert(name.clone(), value);
        }
        let document = if data && rtype == "aws_iam_policy_document" {
            Some(structured(block.body(), scope).with_context(|| address.to_string())?)
        } else {
            None
        };
        let instance = Instance {
            address: address.to_string(),
            resource_type: rtype.clone(),
            attrs,
            ignore_changes,
            document,
        };
        if data {
            self.known_data(&rtype, &mut object);
            self.out
                .data_markers
                .entry(marker)
                .or_default()
                .push(address.to_string());
            self.out.data.insert(address.to_string(), instance);
        } else if !ephemeral {
            self.out.resources.insert(address.to_string(), instance);
        }
        Ok(Value::Object(object))
    }
    /// Data sources whose results the region decides.
    fn known_data(&self, rtype: &str, object: &mut Map<String, Value>) {
        let region = Value::from(self.region.clone());
        match rtype {
            "aws_region" => {
                for k in ["name", "id", "region"] {
                    object.insert(k.to_string(), region.clone());
                }
            }
            "aws_availability_zones" => {
                let names = ('a'..='f').map(|c| Value::from(format!("{}{c}", self.region)));
                object.insert("names".to_string(), Value::Array(names.collect()));
            }
            _ => {}
        }
    }
}

/// A local or a block of a module, by index.
#[derive(Debug, Clone, Copy)]
enum Node {
    Local(usize),
    Block(usize),
}

/// One node of a module, with the nodes of the same module it refers to.
#[derive(Debug)]
struct Step {
    node: Node,
    deps: BTreeSet<String>,
}

/// The module's locals and blocks in an order where each comes after everything it refers to, and what
/// its outputs refer to.
fn evaluation_order(m: &Module, dir: &str) -> Result<(Vec<Step>, BTreeSet<String>)> {
    let mut pending: Vec<(String, Step)> = Vec::new();
    for (i, (name, expr)) in m.locals.iter().enumerate() {
        let text = hcl::format::to_string(expr).unwrap_or_default();
        let deps = references(&text);
        pending.push((
            format!("local.{name}"),
            Step {
                node: Node::Local(i),
                deps,
            },
        ));
    }
    for (i, block) in m.blocks.iter().enumerate() {
        let key = match block.identifier() {
            "data" => format!("data.{}.{}", label(block, 0), label(block, 1)),
            "ephemeral" => format!("ephemeral.{}.{}", label(block, 0), label(block, 1)),
            "module" => format!("module.{}", label(block, 0)),
            _ => format!("{}.{}", label(block, 0), label(block, 1)),
        };
        let deps = references(&hcl::format::to_string(block).unwrap_or_default());
        pending.push((
            key,
            Step {
                node: Node::Block(i),
                deps,
            },
        ));
    }
    let keys: BTreeSet<String> = pending.iter().map(|(k, _)| k.clone()).collect();
    let mut output_deps: BTreeSet<String> = m
        .outputs
        .iter()
        .flat_map(|(_, expr)| references(&hcl::format::to_string(expr).unwrap_or_default()))
        .collect();
    output_deps.retain(|d| keys.contains(d) || d.starts_with("var."));
    for (key, step) in &mut pending {
        step.deps
            .retain(|d| d != key && (keys.contains(d) || d.starts_with("var.")));
    }
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut order = Vec::new();
    while !pending.is_empty() {
        let Some(i) = pending
            .iter()
            .position(|(_, s)| s.deps.iter().all(|d| d.starts_with("var.") || done.contains(d)))
        else {
            let left: Vec<&str> = pending.iter().map(|(k, _)| k.as_str()).collect();
            bail!("module `{dir}`: cannot order {}", left.join(", "));
        };
        let (key, step) = pending.remove(i);
        done.insert(key);
        order.push(step);
    }
    Ok((order, output_deps))
}

/// `Some("for_each")` or `Some("count")` when the block is repeated.
fn repeated_by(block: &Block) -> Option<&'static str> {
    block.body().attributes().find_map(|a| match a.key() {
        "for_each" => Some("for_each"),
        "count" => Some("count"),
        _ => None,
    })
}

/// The instances of a block: (key or index, `each.value`), or one `(None, None)` when not repeated.
fn repetition(block: &Block, scope: &Scope<'_>) -> Result<Vec<(Option<Value>, Option<Value>)>> {
    let Some(kind) = repeated_by(block) else {
        return Ok(vec![(None, None)]);
    };
    let expr = block
        .body()
        .attributes()
        .find(|a| a.key() == kind)
        .map_or(Expression::Null, |a| a.expr().clone());
    let v = scope.eval(&expr)?;
    Ok(match (kind, v) {
        ("count", v) => {
            let n = v
                .as_number()
                .and_then(hcl::Number::as_u64)
                .context("count is not a number")?;
            (0..n).map(|i| (Some(Value::from(i)), None)).collect()
        }
        (_, Value::Object(o)) => o.into_iter().map(|(k, v)| (Some(Value::from(k)), Some(v))).collect(),
        (_, Value::Array(items)) => items.into_iter().map(|v| (Some(v.clone()), Some(v))).collect(),
        (_, Value::Null) => Vec::new(),
        (_, other) => bail!("for_each over {other:?}"),
    })
}

/// Records every attribute of `body` (and of its nested and `dynamic` blocks) under `prefix`.
fn flatten(
    body: &Body,
    scope: &mut Scope<'_>,
    prefix: &str,
    attrs: &mut BTreeMap<String, Vec<Value>>,
    ignore_changes: &mut Vec<String>,
) -> Result<()> {
    for s in body {
        match s {
            Structure::Attribute(a) => {
                if prefix.is_empty() && META.contains(&a.key()) {
                    continue;
                }
                let v = scope.eval(a.expr()).with_context(|| format!("{prefix}{}", a.key()))?;
                attrs.entry(format!("{prefix}{}", a.key())).or_default().push(v);
            }
            Structure::Block(b) => match b.identifier() {
                "lifecycle" if prefix.is_empty() => {
                    for a in b.body().attributes().filter(|a| a.key() == "ignore_changes") {
                        if let Expression::Array(items) = a.expr() {
                            for item in items {
                                ignore_changes.push(hcl::format::to_string(item).unwrap_or_default());
                            }
                        }
                    }
                }
                "dynamic" => {
                    let name = label(b, 0);
                    let path = format!("{prefix}{name}");
                    let (content, iterator, items) = dynamic(b, scope)?;
                    scope.each_bound(&iterator, items, |scope| {
                        attrs.entry(path.clone()).or_default().push(Value::from("block"));
                        flatten(content.body(), scope, &format!("{path}."), attrs, ignore_changes)
                    })?;
                }
                "precondition" | "postcondition" | "provisioner" | "connection" => {}
                ident => {
                    let path = format!("{prefix}{ident}");
                    attrs.entry(path.clone()).or_default().push(Value::from("block"));
                    flatten(b.body(), scope, &format!("{path}."), attrs, ignore_changes)?;
                }
            },
        }
    }
    Ok(())
}

/// A `dynamic` block's expansion: its `content` block, the iterator's name, and for each element of
/// `for_each` the iterator's value (`key`, `value`). Callers declare it in one context they re-use.
fn dynamic<'b>(b: &'b Block, scope: &Scope<'_>) -> Result<(&'b Block, String, Vec<Value>)> {
    let name = label(b, 0);
    let iterator = b
        .body()
        .attributes()
        .find(|a| a.key() == "iterator")
        .map_or(name.clone(), |a| hcl::format::to_string(a.expr()).unwrap_or_default());
    let for_each = b
        .body()
        .attributes()
        .find(|a| a.key() == "for_each")
        .ok_or_else(|| anyhow!("dynamic {name} has no for_each"))?;
    let items: Vec<(Value, Value)> = match scope.eval(for_each.expr())? {
        Value::Object(o) => o.into_iter().map(|(k, v)| (Value::from(k), v)).collect(),
        Value::Array(a) => a
            .into_iter()
            .enumerate()
            .map(|(i, v)| (Value::from(i as u64), v))
            .collect(),
        Value::Null => Vec::new(),
        other => bail!("dynamic {name} over {other:?}"),
    };
    let content = b
        .body()
        .blocks()
        .find(|c| c.identifier() == "content")
        .ok_or_else(|| anyhow!("dynamic {name} has no content"))?;
    let values = items
        .into_iter()
        .map(|(key, value)| {
            let mut obj = Map::new();
            obj.insert("key".to_string(), key);
            obj.insert("value".to_string(), value);
            Value::Object(obj)
        })
        .collect();
    Ok((content, iterator, values))
}

/// A block body as one value: attributes by name, nested blocks (and expanded `dynamic` blocks) as a list
/// of objects under their name. Meta-arguments are left out.
fn structured(body: &Body, scope: &mut Scope<'_>) -> Result<Value> {
    let mut out = Map::new();
    let push = |out: &mut Map<String, Value>, name: String, v: Value| {
        if let Value::Array(list) = out.entry(name).or_insert_with(|| Value::Array(Vec::new())) {
            list.push(v);
        }
    };
    for s in body {
        match s {
            Structure::Attribute(a) if !META.contains(&a.key()) => {
                out.insert(a.key().to_string(), scope.eval(a.expr())?);
            }
            Structure::Attribute(_) => {}
            Structure::Block(b) if b.identifier() == "dynamic" => {
                let (content, iterator, items) = dynamic(b, scope)?;
                scope.each_bound(&iterator, items, |scope| {
                    push(&mut out, label(b, 0), structured(content.body(), scope)?);
                    Ok(())
                })?;
            }
            Structure::Block(b) => push(&mut out, b.identifier().to_string(), structured(b.body(), scope)?),
        }
    }
    Ok(Value::Object(out))
}

pub(super) fn eval(expr: &Expression, ctx: &Context<'_>) -> Result<Value> {
    expr.evaluate(ctx)
        .map_err(|e| anyhow!("{e}: in `{}`", hcl::format::to_string(expr).unwrap_or_default()))
}

fn functions() -> Context<'static> {
    super::funcs::context()
}

fn label(block: &Block, i: usize) -> String {
    match block.labels().get(i) {
        Some(BlockLabel::String(s)) => s.clone(),
        Some(BlockLabel::Identifier(id)) => id.to_string(),
        None => String::new(),
    }
}

/// An instance key as an address shows it: `["name"]` or `[0]`.
fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => format!("[\"{}\"]", s.replace('\\', "\\\\").replace('"', "\\\"")),
        other => format!("[{}]", key_string(other)),
    }
}

fn key_string(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

/// The nodes an expression's text refers to: `local.x`, `module.m`, `data.t.n`, `aws_t.n`.
fn references(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for path in dotted_paths(text) {
        let parts: Vec<&str> = path.split('.').collect();
        let key = match parts.as_slice() {
            ["local", name, ..] => format!("local.{name}"),
            ["var", name, ..] => format!("var.{name}"),
            ["module", name, ..] => format!("module.{name}"),
            ["data", t, n, ..] => format!("data.{t}.{n}"),
            ["ephemeral", t, n, ..] => format!("ephemeral.{t}.{n}"),
            [t, n, ..] if t.starts_with("aws_") => format!("{t}.{n}"),
            _ => continue,
        };
        out.insert(key);
    }
    out
}

/// Every `.name` in a module's text.
/// Every `.name` in a module's text → whether it is ever indexed (`.name[0]`, a computed nested block).
fn attr_names(text: &str) -> BTreeMap<String, bool> {
    let mut out: BTreeMap<String, bool> = BTreeMap::new();
    for rest in text.split('.').skip(1) {
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let name = &rest[..end];
        if name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            let indexed = rest[end..].starts_with('[');
            *out.entry(name.to_string()).or_default() |= indexed;
        }
    }
    out
}

/// Every `.name[...]` in a module's text → the names read right after the index (`.name[0].sub`).
fn indexed_subs(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let word = |s: &str| -> usize {
        s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len())
    };
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut rest = text;
    while let Some(dot) = rest.find('.') {
        rest = &rest[dot + 1..];
        let (name, after) = rest.split_at(word(rest));
        if name.is_empty() || !after.starts_with('[') {
            continue;
        }
        let subs = out.entry(name.to_string()).or_default();
        if let Some(sub) = after.find(']').and_then(|close| after[close + 1..].strip_prefix('.')) {
            let sub = &sub[..word(sub)];
            if !sub.is_empty() {
                subs.insert(sub.to_string());
            }
        }
    }
    out
}

/// Maximal `a.b.c` identifier paths in a text.
fn dotted_paths(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let is_start = |b: u8| b.is_ascii_alphabetic() || b == b'_';
    let is_part = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let boundary = i == 0 || !(is_part(bytes[i - 1]) || bytes[i - 1] == b'.');
        if boundary && is_start(bytes[i]) {
            let start = i;
            while i < bytes.len()
                && (is_part(bytes[i]) || (bytes[i] == b'.' && i + 1 < bytes.len() && is_start(bytes[i + 1])))
            {
                i += 1;
            }
            spans.push(&text[start..i]);
        } else {
            i += 1;
        }
    }
    spans.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_references() {
        let refs = references(
            "merge(local.a, { x = module.kms.key_arn, y = data.aws_region.current.name, z = aws_vpc.this.id })",
        );
        let want: BTreeSet<String> = ["local.a", "module.kms", "data.aws_region.current", "aws_vpc.this"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(refs, want);
    }
}
