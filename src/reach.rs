//! Reachability: who can open a connection to whom, on which ports, computed from a rendered tree's
//! security groups and rules (read back with hcl-rs and evaluated), never from the [`Model`].
//!
//! [`from_tree`] evaluates the root module's locals and module arguments, each called module's locals,
//! security groups, rules and outputs, with symbolic IDs for the groups; then it finds which resource each
//! group is attached to (the load balancer, the database cluster, each agent's ECS service). [`Graph::from_rules`]
//! turns groups and rules into edges: a connection between two groups needs an egress rule on one side and a
//! matching ingress rule on the other; a rule without its counterpart is reported as half-open. The same
//! function reads the rules of an applied state (the emulator test), so the rendered and the applied graph are
//! computed alike. [`declared`] is what the spec asks for, for the comparison. It does not judge anything else
//! about the tree, and it refuses trees whose rules it cannot see (inline or `aws_security_group_rule` rules).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use anyhow::{Context as _, Result, bail};
use hcl::eval::{Context, Evaluate};
use hcl::{Block, BlockLabel, Body, Expression, Map, Value};

use crate::model::Model;
use crate::sections::network::Nat;
use crate::vfs::Tree;

/// One end of a connection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Node {
    /// Anywhere (`0.0.0.0/0` or `::/0`).
    Internet,
    /// Another address range.
    Cidr(String),
    Alb,
    Agent(String),
    Database,
    /// The NAT instance (`[network] nat = "instance"`).
    NatInstance,
    /// A security group attached to nothing tfgen recognises.
    Group(String),
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Internet => f.write_str("internet"),
            Node::Cidr(c) => write!(f, "{c}"),
            Node::Alb => f.write_str("alb"),
            Node::Agent(a) => write!(f, "agent {a}"),
            Node::Database => f.write_str("database"),
            Node::NatInstance => f.write_str("nat instance"),
            Node::Group(g) => write!(f, "group {g}"),
        }
    }
}

/// A TCP port range, inclusive (`0..=65535` for "all traffic").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ports(pub u16, pub u16);

impl fmt::Display for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ports(0, 65535) => f.write_str("all"),
            Ports(a, b) if a == b => write!(f, "{a}"),
            Ports(a, b) => write!(f, "{a}-{b}"),
        }
    }
}

/// `from` can open connections to `to` on `ports`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    pub from: Node,
    pub to: Node,
    pub ports: Ports,
}

/// Whether a rule admits traffic into its group or lets it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Direction {
    Ingress,
    Egress,
}

/// Where a rule's traffic comes from or goes to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Peer {
    Cidr(String),
    Group(String),
}

/// One security group rule, whatever it was read from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rule {
    /// The group the rule belongs to (any stable ID).
    pub group: String,
    pub direction: Direction,
    /// `tcp`, `udp`, `icmp` or `-1` (everything).
    pub protocol: String,
    pub ports: Ports,
    pub peer: Peer,
}

/// Who can reach whom: the edges, and the rules that allow only one side of a connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    pub edges: BTreeSet<Edge>,
    /// A connection that one group allows and the other does not: harmless, but never intended.
    pub half_open: BTreeSet<Edge>,
}

impl Graph {
    /// Edges from rules: `owners` maps each group ID to what it is attached to.
    pub fn from_rules(owners: &BTreeMap<String, Node>, rules: &[Rule]) -> Self {
        let owner = |g: &str| owners.get(g).cloned().unwrap_or_else(|| Node::Group(g.to_string()));
        let mut graph = Graph::default();
        let cidr = |c: &str| {
            if c == "0.0.0.0/0" || c == "::/0" {
                Node::Internet
            } else {
                Node::Cidr(c.to_string())
            }
        };
        for rule in rules {
            let here = owner(&rule.group);
            match (&rule.peer, rule.direction) {
                (Peer::Cidr(c), Direction::Ingress) => {
                    graph.edges.insert(Edge {
                        from: cidr(c),
                        to: here,
                        ports: rule.ports,
                    });
                }
                (Peer::Cidr(c), Direction::Egress) => {
                    graph.edges.insert(Edge {
                        from: here,
                        to: cidr(c),
                        ports: rule.ports,
                    });
                }
                (Peer::Group(other), Direction::Egress) => {
                    let matching = rules.iter().filter(|r| {
                        r.direction == Direction::Ingress
                            && &r.group == other
                            && r.peer == Peer::Group(rule.group.clone())
                            && (r.protocol == rule.protocol || r.protocol == "-1" || rule.protocol == "-1")
                    });
                    let mut open = false;
                    for ingress in matching {
                        if let Some(ports) = overlap(rule.ports, ingress.ports) {
                            open = true;
                            graph.edges.insert(Edge {
                                from: here.clone(),
                                to: owner(other),
                                ports,
                            });
                        }
                    }
                    if !open {
                        graph.half_open.insert(Edge {
                            from: here,
                            to: owner(other),
                            ports: rule.ports,
                        });
                    }
                }
                (Peer::Group(other), Direction::Ingress) => {
                    let answered = rules.iter().any(|r| {
                        r.direction == Direction::Egress
                            && &r.group == other
                            && r.peer == Peer::Group(rule.group.clone())
                            && overlap(r.ports, rule.ports).is_some()
                    });
                    if !answered {
                        graph.half_open.insert(Edge {
                            from: owner(other),
                            to: here,
                            ports: rule.ports,
                        });
                    }
                }
            }
        }
        graph
    }

    /// The differences to `expected`, one line each (`+` only here, `-` only expected), empty when equal.
    pub fn differences(&self, expected: &Graph) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.edges.difference(&expected.edges) {
            out.push(format!("+ {} -> {} : {}", e.from, e.to, e.ports));
        }
        for e in expected.edges.difference(&self.edges) {
            out.push(format!("- {} -> {} : {}", e.from, e.to, e.ports));
        }
        for e in &self.half_open {
            out.push(format!("+ half-open {} -> {} : {}", e.from, e.to, e.ports));
        }
        out
    }
}

fn overlap(a: Ports, b: Ports) -> Option<Ports> {
    let (lo, hi) = (a.0.max(b.0), a.1.min(b.1));
    (lo <= hi).then_some(Ports(lo, hi))
}

/// The graph as a reviewer reads it: one line per source, each destination once with its ports.
impl fmt::Display for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut by_source: BTreeMap<&Node, BTreeMap<&Node, Vec<String>>> = BTreeMap::new();
        for e in &self.edges {
            by_source
                .entry(&e.from)
                .or_default()
                .entry(&e.to)
                .or_default()
                .push(e.ports.to_string());
        }
        let width = by_source.keys().map(|n| n.to_string().len()).max().unwrap_or(0);
        for (from, to) in &by_source {
            let to: Vec<String> = to
                .iter()
                .map(|(node, ports)| format!("{node} ({})", ports.join(", ")))
                .collect();
            writeln!(f, "{:width$} -> {}", from.to_string(), to.join(", "))?;
        }
        for e in &self.half_open {
            writeln!(f, "half-open (one side only): {} -> {} ({})", e.from, e.to, e.ports)?;
        }
        Ok(())
    }
}

/// What the spec declares: the internet reaches the ALB on 80 and 443, the ALB each agent on its port,
/// each caller its callees on theirs, agents that use the database its port; every agent reaches 443
/// anywhere (AWS APIs and third parties, through the NAT gateways or instance). A NAT instance takes 443
/// from inside the VPC and sends it to anywhere.
pub fn declared(model: &Model) -> Graph {
    let mut edges = BTreeSet::new();
    for port in [80, 443] {
        edges.insert(Edge {
            from: Node::Internet,
            to: Node::Alb,
            ports: Ports(port, port),
        });
    }
    let ports: BTreeMap<&str, u16> = model.agents.iter().map(|a| (a.name.as_str(), a.port)).collect();
    for agent in &model.agents {
        let me = Node::Agent(agent.name.to_string());
        edges.insert(Edge {
            from: Node::Alb,
            to: me.clone(),
            ports: Ports(agent.port, agent.port),
        });
        edges.insert(Edge {
            from: me.clone(),
            to: Node::Internet,
            ports: Ports(443, 443),
        });
        for callee in &agent.calls {
            if let Some(&port) = ports.get(callee.as_str()) {
                edges.insert(Edge {
                    from: me.clone(),
                    to: Node::Agent(callee.to_string()),
                    ports: Ports(port, port),
                });
            }
        }
        if agent.uses_database {
            edges.insert(Edge {
                from: me,
                to: Node::Database,
                ports: Ports(5432, 5432),
            });
        }
    }
    if model.network.nat == Nat::Instance {
        edges.insert(Edge {
            from: Node::Cidr(model.network.vpc_cidr.to_string()),
            to: Node::NatInstance,
            ports: Ports(443, 443),
        });
        edges.insert(Edge {
            from: Node::NatInstance,
            to: Node::Internet,
            ports: Ports(443, 443),
        });
    }
    Graph {
        edges,
        half_open: BTreeSet::new(),
    }
}

/// The graph of a rendered tree: its security groups and rules, and what each group is attached to.
pub fn from_tree(tree: &Tree) -> Result<Graph> {
    let (owners, rules) = groups_and_rules(tree)?;
    Ok(Graph::from_rules(&owners, &rules))
}

/// Resource types that attach security groups, where their list is, and what they are.
const ATTACHMENTS: [(&str, &[&str], Owner); 4] = [
    ("aws_lb", &["security_groups"], Owner::Alb),
    ("aws_rds_cluster", &["vpc_security_group_ids"], Owner::Database),
    (
        "aws_ecs_service",
        &["network_configuration", "security_groups"],
        Owner::Agent,
    ),
    ("aws_instance", &["vpc_security_group_ids"], Owner::NatInstance),
];

#[derive(Debug, Clone, Copy)]
enum Owner {
    Alb,
    Database,
    /// The module instance's key is the agent's name.
    Agent,
    /// The only EC2 instance tfgen generates.
    NatInstance,
}

/// One module instance of the tree: its directory, its `var`, and its instance key.
struct Instance {
    name: String,
    key: Option<String>,
    dir: String,
    vars: Map<String, Value>,
}

/// Every `.tf` file of a tree, parsed once.
struct Parsed(BTreeMap<String, Body>);

impl Parsed {
    fn new(tree: &Tree) -> Result<Self> {
        tree.files
            .iter()
            .filter(|(p, _)| p.ends_with(".tf"))
            .map(|(p, text)| Ok((p.clone(), hcl::parse(text).with_context(|| format!("parsing {p}"))?)))
            .collect::<Result<_>>()
            .map(Self)
    }

    fn file(&self, path: &str) -> Result<&Body> {
        self.0.get(path).with_context(|| format!("the tree has no {path}"))
    }

    /// The files of the module in `dir` (not its subdirectories).
    fn module(&self, dir: &str) -> Vec<&Body> {
        let prefix = format!("{dir}/");
        self.0
            .iter()
            .filter(|(p, _)| p.starts_with(&prefix) && !p[prefix.len()..].contains('/'))
            .map(|(_, b)| b)
            .collect()
    }
}

/// The security groups' owners and every rule, from the tree's text.
pub fn groups_and_rules(tree: &Tree) -> Result<(BTreeMap<String, Node>, Vec<Rule>)> {
    let parsed = Parsed::new(tree)?;
    let root = parsed.file("main.tf")?;
    refuse_invisible_rules(&parsed)?;
    for kind in [
        "aws_security_group",
        "aws_vpc_security_group_ingress_rule",
        "aws_vpc_security_group_egress_rule",
    ] {
        if resources(root, kind).next().is_some() {
            bail!("the root module declares a {kind}; `tfgen reach` reads security groups in called modules only");
        }
    }
    let root_locals = fixpoint_locals(&[root], &Map::new(), &Map::new());
    let calls: Vec<&Block> = root.blocks().filter(|b| b.identifier() == "module").collect();
    let mut outputs: Map<String, Value> = Map::new();
    let mut instances: Vec<(Instance, Scope)> = Vec::new();
    // Two passes: a module's arguments may use the outputs of one called later in the file.
    for _ in 0..2 {
        instances.clear();
        for call in &calls {
            let name = label(call, 0);
            let dir = attr(call.body(), "source")
                .and_then(|e| eval(e, &context(&Map::new(), &root_locals, &outputs, None)).ok())
                .and_then(|v| v.as_str().map(|s| s.trim_start_matches("./").to_string()))
                .with_context(|| format!("module {name} has no literal source"))?;
            let keys: Vec<Option<(String, Value)>> = match attr(call.body(), "for_each") {
                None => vec![None],
                Some(e) => each_of(&eval(e, &context(&Map::new(), &root_locals, &outputs, None))?)?
                    .into_iter()
                    .map(Some)
                    .collect(),
            };
            let mut per_key: Map<String, Value> = Map::new();
            for each in keys {
                let cx = context(&Map::new(), &root_locals, &outputs, each.as_ref());
                let mut vars = Map::new();
                for a in call.body().attributes() {
                    if let Ok(v) = eval(a.expr(), &cx) {
                        vars.insert(a.key().to_string(), v);
                    }
                }
                let instance = Instance {
                    name: name.clone(),
                    key: each.map(|(k, _)| k),
                    dir: dir.clone(),
                    vars,
                };
                let bodies = parsed.module(&instance.dir);
                let scope = module_scope(&bodies, &instance)?;
                let module_outputs = module_outputs(&bodies, &instance, &scope);
                match &instance.key {
                    Some(k) => {
                        per_key.insert(k.clone(), Value::Object(module_outputs));
                    }
                    None => {
                        outputs.insert(name.clone(), Value::Object(module_outputs));
                    }
                }
                instances.push((instance, scope));
            }
            if attr(call.body(), "for_each").is_some() {
                outputs.insert(name.clone(), Value::Object(per_key));
            }
        }
    }
    let mut owners = BTreeMap::new();
    let mut rules = Vec::new();
    for (instance, scope) in instances {
        for (group, node) in attachments(&parsed.module(&instance.dir), &instance, &scope)? {
            owners.insert(group, node);
        }
        rules.extend(scope.rules);
    }
    Ok((owners, rules))
}

/// A module instance's evaluated security groups (symbolic IDs), rules and `local`s.
struct Scope {
    groups: Map<String, Value>,
    locals: Map<String, Value>,
    rules: Vec<Rule>,
}

fn module_scope(bodies: &[&Body], instance: &Instance) -> Result<Scope> {
    let mut groups: Map<String, Value> = Map::new();
    let address = |kind: &str, name: &str, key: Option<&str>| {
        let module = match &instance.key {
            Some(k) => format!("module.{}[\"{k}\"]", instance.name),
            None => format!("module.{}", instance.name),
        };
        match key {
            Some(k) => format!("{module}.{kind}.{name}[\"{k}\"]"),
            None => format!("{module}.{kind}.{name}"),
        }
    };
    let locals = fixpoint_locals(bodies, &instance.vars, &Map::new());
    for body in bodies {
        for block in resources(body, "aws_security_group") {
            let name = label(block, 1);
            if let Some(e) = attr(block.body(), "for_each") {
                let each = each_of(&eval(e, &scope_context(&instance.vars, &locals, &groups, None))?)
                    .with_context(|| format!("for_each of aws_security_group.{name}"))?;
                let mut by_key = Map::new();
                for (k, _) in each {
                    let id = address("aws_security_group", &name, Some(&k));
                    by_key.insert(k, object([("id", Value::String(id))]));
                }
                groups.insert(name, Value::Object(by_key));
            } else if let Some(c) = attr(block.body(), "count") {
                let n = count_of(&eval(c, &scope_context(&instance.vars, &locals, &groups, None))?)
                    .with_context(|| format!("count of aws_security_group.{name}"))?;
                let base = address("aws_security_group", &name, None);
                let items = (0..n).map(|i| object([("id", Value::String(format!("{base}[{i}]")))]));
                groups.insert(name, Value::Array(items.collect()));
            } else {
                let id = address("aws_security_group", &name, None);
                groups.insert(name, object([("id", Value::String(id))]));
            }
        }
    }
    // Locals may refer to the groups (e.g. a map of group IDs).
    let locals = fixpoint_locals(bodies, &instance.vars, &groups);
    let mut rules = Vec::new();
    for body in bodies {
        for (kind, direction) in [
            ("aws_vpc_security_group_ingress_rule", Direction::Ingress),
            ("aws_vpc_security_group_egress_rule", Direction::Egress),
        ] {
            for block in resources(body, kind) {
                let what = format!("{}.{kind}.{}", instance.name, label(block, 1));
                let each: Vec<Option<(String, Value)>> = match attr(block.body(), "for_each") {
                    None => match attr(block.body(), "count") {
                        // `count` rules repeat as written (no `count.index` in their arguments).
                        Some(c) => {
                            let n = count_of(&eval(c, &scope_context(&instance.vars, &locals, &groups, None))?)
                                .with_context(|| format!("count of {what}"))?;
                            vec![None; n]
                        }
                        None => vec![None],
                    },
                    Some(e) => each_of(&eval(e, &scope_context(&instance.vars, &locals, &groups, None))?)
                        .with_context(|| format!("for_each of {what}"))?
                        .into_iter()
                        .map(Some)
                        .collect(),
                };
                for e in each {
                    let cx = scope_context(&instance.vars, &locals, &groups, e.as_ref());
                    rules.push(rule(block.body(), &cx, direction).with_context(|| format!("evaluating {what}"))?);
                }
            }
        }
    }
    Ok(Scope { groups, locals, rules })
}

fn rule(body: &Body, cx: &Context, direction: Direction) -> Result<Rule> {
    let get = |k: &str| -> Result<Option<Value>> {
        attr(body, k)
            .map(|e| eval(e, cx))
            .transpose()
            .map(|v| v.filter(|v| !v.is_null()))
    };
    let string = |k: &str| -> Result<Option<String>> {
        Ok(get(k)?.map(|v| match v {
            Value::String(s) => s,
            other => other.to_string(),
        }))
    };
    let group = string("security_group_id")?.context("no security_group_id")?;
    let protocol = string("ip_protocol")?.context("no ip_protocol")?;
    let port = |k: &str| -> Result<Option<u16>> {
        get(k)?
            .map(|v| {
                v.as_i64()
                    .and_then(|n| u16::try_from(n).ok())
                    .with_context(|| format!("{k} is not a port: {v}"))
            })
            .transpose()
    };
    let ports = if protocol == "-1" || protocol == "all" {
        Ports(0, 65535)
    } else {
        Ports(port("from_port")?.unwrap_or(0), port("to_port")?.unwrap_or(65535))
    };
    let peer = if let Some(g) = string("referenced_security_group_id")? {
        Peer::Group(g)
    } else if let Some(c) = string("cidr_ipv4")?.or(string("cidr_ipv6")?) {
        Peer::Cidr(c)
    } else if let Some(p) = string("prefix_list_id")? {
        Peer::Cidr(format!("prefix list {p}"))
    } else {
        bail!("a rule without a peer")
    };
    Ok(Rule {
        group,
        direction,
        protocol,
        ports,
        peer,
    })
}

/// The groups each attaching resource of the instance uses, with their owner.
fn attachments(bodies: &[&Body], instance: &Instance, scope: &Scope) -> Result<Vec<(String, Node)>> {
    let mut out = Vec::new();
    for body in bodies {
        for (kind, path, owner) in ATTACHMENTS {
            for block in resources(body, kind) {
                let cx = scope_context(&instance.vars, &scope.locals, &scope.groups, None);
                // A resource switched off by its count (the NAT instance without `nat = "instance"`).
                if let Some(count) = attr(block.body(), "count") {
                    let n = eval(count, &cx).with_context(|| format!("count of {}.{kind}", instance.name))?;
                    if n == Value::from(0) {
                        continue;
                    }
                }
                let mut at = block.body();
                for nested in &path[..path.len() - 1] {
                    at = at
                        .blocks()
                        .find(|b| b.identifier() == *nested)
                        .map(Block::body)
                        .with_context(|| format!("{kind} has no {nested} block"))?;
                }
                let Some(expr) = attr(at, path[path.len() - 1]) else {
                    continue;
                };
                let value = eval(expr, &cx).with_context(|| format!("security groups of {}.{kind}", instance.name))?;
                let node = match owner {
                    Owner::Alb => Node::Alb,
                    Owner::Database => Node::Database,
                    Owner::NatInstance => Node::NatInstance,
                    Owner::Agent => Node::Agent(instance.key.clone().unwrap_or_else(|| instance.name.clone())),
                };
                if let Value::Array(ids) = value {
                    for id in ids {
                        if let Value::String(id) = id {
                            out.push((id, node.clone()));
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The instance's outputs that evaluate (those that depend on other resources' attributes do not).
fn module_outputs(bodies: &[&Body], instance: &Instance, scope: &Scope) -> Map<String, Value> {
    let cx = scope_context(&instance.vars, &scope.locals, &scope.groups, None);
    let mut out = Map::new();
    for body in bodies {
        for block in body.blocks().filter(|b| b.identifier() == "output") {
            if let Some(Ok(v)) = attr(block.body(), "value").map(|e| eval(e, &cx)) {
                out.insert(label(block, 0), v);
            }
        }
    }
    out
}

/// Rules tfgen's reading would miss: inline `ingress`/`egress` blocks and `aws_security_group_rule`.
fn refuse_invisible_rules(parsed: &Parsed) -> Result<()> {
    for (path, body) in &parsed.0 {
        if resources(body, "aws_security_group_rule").next().is_some() {
            bail!("{path} uses aws_security_group_rule, which `tfgen reach` does not read");
        }
        for group in resources(body, "aws_security_group") {
            if group
                .body()
                .blocks()
                .any(|b| matches!(b.identifier(), "ingress" | "egress"))
                || group
                    .body()
                    .attributes()
                    .any(|a| matches!(a.key(), "ingress" | "egress"))
            {
                bail!("{path}: a security group with inline rules, which `tfgen reach` does not read");
            }
        }
    }
    Ok(())
}

/// Evaluates `locals` blocks until no more of them evaluate (the others depend on resources).
fn fixpoint_locals(bodies: &[&Body], vars: &Map<String, Value>, groups: &Map<String, Value>) -> Map<String, Value> {
    let mut locals = Map::new();
    // Each round evaluates what is missing in one context holding the locals known so far (building a
    // context copies every map, so it is built once per round, not once per attribute).
    loop {
        let cx = scope_context(vars, &locals, groups, None);
        let mut found = Vec::new();
        for body in bodies {
            for block in body.blocks().filter(|b| b.identifier() == "locals") {
                for a in block.body().attributes() {
                    if !locals.contains_key(a.key())
                        && let Ok(v) = eval(a.expr(), &cx)
                    {
                        found.push((a.key().to_string(), v));
                    }
                }
            }
        }
        if found.is_empty() {
            return locals;
        }
        locals.extend(found);
    }
}

fn scope_context<'a>(
    vars: &Map<String, Value>,
    locals: &Map<String, Value>,
    groups: &Map<String, Value>,
    each: Option<&(String, Value)>,
) -> Context<'a> {
    let mut cx = context(vars, locals, &Map::new(), each);
    cx.declare_var("aws_security_group", Value::Object(groups.clone()));
    cx
}

fn context<'a>(
    vars: &Map<String, Value>,
    locals: &Map<String, Value>,
    modules: &Map<String, Value>,
    each: Option<&(String, Value)>,
) -> Context<'a> {
    // The same Terraform functions the plan prediction evaluates with: one implementation of each,
    // declared once per process.
    let mut cx = crate::predict::funcs::context();
    cx.declare_var("var", Value::Object(vars.clone()));
    cx.declare_var("local", Value::Object(locals.clone()));
    cx.declare_var("module", Value::Object(modules.clone()));
    if let Some((k, v)) = each {
        cx.declare_var(
            "each",
            object([("key", Value::String(k.clone())), ("value", v.clone())]),
        );
    }
    cx
}

/// A `count` value: a whole, non-negative number (`true`/`false` from a conditional count count as 1/0).
fn count_of(v: &Value) -> Result<usize> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .with_context(|| format!("count is {n}")),
        Value::Bool(b) => Ok(usize::from(*b)),
        other => bail!("count over {other}"),
    }
}

/// A `for_each` value's instances: an object's keys and values, or a set's strings (key = value).
fn each_of(value: &Value) -> Result<Vec<(String, Value)>> {
    match value {
        Value::Object(m) => Ok(m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok((s.clone(), i.clone())),
                other => bail!("for_each over a set of non-strings: {other}"),
            })
            .collect(),
        other => bail!("for_each over {other}"),
    }
}

fn eval(expr: &Expression, cx: &Context) -> Result<Value> {
    expr.evaluate(cx).map_err(|e| anyhow::anyhow!("{e}"))
}

fn object<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Object(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn resources<'b>(body: &'b Body, kind: &'b str) -> impl Iterator<Item = &'b Block> + 'b {
    body.blocks()
        .filter(move |b| b.identifier() == "resource" && label(b, 0) == kind)
}

fn attr<'b>(body: &'b Body, key: &str) -> Option<&'b Expression> {
    body.attributes().find(|a| a.key() == key).map(hcl::Attribute::expr)
}

fn label(block: &Block, i: usize) -> String {
    match block.labels().get(i) {
        Some(BlockLabel::String(s)) => s.clone(),
        Some(BlockLabel::Identifier(id)) => id.to_string(),
        None => String::new(),
    }
}
