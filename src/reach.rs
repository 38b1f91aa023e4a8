//! Reachability: who can open a connection to whom, on which ports, computed from a rendered tree's
//! security groups and rules (read back with hcl-rs and evaluated), never from the [`Model`].
//!
//! [`from_tree`] evaluates the tree with the plan prediction's evaluator ([`predict::evaluate_all`]; `render`
//! shares one evaluation with the access proof through [`from_evaluated`]): a group's ID is its address,
//! which the unknown marker of its `id` names; then it finds which resource each group is attached to (the
//! load balancer, the database cluster, each agent's ECS service). [`Graph::from_rules`]
//! turns groups and rules into edges: a connection between two groups needs an egress rule on one side and a
//! matching ingress rule on the other; a rule without its counterpart is reported as half-open. The same
//! function reads the rules of an applied state (the emulator test), so the rendered and the applied graph are
//! computed alike. [`declared`] is what the spec asks for, for the comparison. It does not judge anything else
//! about the tree, and it refuses trees whose rules it cannot see (inline or `aws_security_group_rule` rules).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use anyhow::{Context as _, Result, bail};
use hcl::Value;

use crate::model::Model;
use crate::predict::{self, Evaluated, Instance, Unknowns};
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
    /// The edges whose traffic the tree itself encrypts (see [`encrypted_edges`]); empty for a graph read
    /// from rules alone.
    pub encrypted: BTreeSet<Edge>,
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
                .push(if self.encrypted.contains(e) {
                    format!("{} tls", e.ports)
                } else {
                    e.ports.to_string()
                });
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

/// What the spec declares: the internet reaches the ALB on 80 and 443, the ALB each agent on its port (its TLS port with in-transit encryption),
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
        // With in-transit encryption the load balancer reaches every agent on the image contract's TLS port.
        let alb_port = if model.security.in_transit_encryption {
            crate::contract::TLS_PORT
        } else {
            agent.port
        };
        edges.insert(Edge {
            from: Node::Alb,
            to: me.clone(),
            ports: Ports(alb_port, alb_port),
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
        ..Graph::default()
    }
}

/// The graph of a rendered tree: its security groups and rules, and what each group is attached to.
pub fn from_tree(tree: &Tree) -> Result<Graph> {
    let (identity, nothing) = (BTreeMap::new(), BTreeSet::new());
    from_evaluated(&predict::evaluate_all(tree, Unknowns::none(&identity, &nothing))?)
}

/// The graph of a tree already evaluated with nothing changing (the evaluation `render` shares with the
/// access proof): a group's ID is its address, which its `id` attribute's unknown marker names.
pub fn from_evaluated(ev: &Evaluated) -> Result<Graph> {
    let (owners, rules) = groups_and_rules(ev)?;
    let mut graph = Graph::from_rules(&owners, &rules);
    graph.encrypted = encrypted_edges(ev, &graph.edges);
    Ok(graph)
}

/// The edges whose protocol the tree makes TLS, read from the resources that decide it: an `HTTPS`
/// listener (internet → load balancer, on its port); an `HTTPS` target group (load balancer → the agent
/// of its key, on its port); a Service Connect `tls` block on an agent's service (its callers → it); the
/// database's parameter group with `rds.force_ssl = 1` (anyone → the database). Anything else is not
/// known to be encrypted, whatever its port (an agent's 443 to the internet is HTTPS by convention only).
pub fn encrypted_edges(ev: &Evaluated, edges: &BTreeSet<Edge>) -> BTreeSet<Edge> {
    let text = |inst: &Instance, k: &str| -> Vec<String> {
        inst.attrs
            .get(k)
            .into_iter()
            .flatten()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()
    };
    let port = |inst: &Instance| text(inst, "port").first().and_then(|p| p.parse::<u16>().ok());
    let mut tls: Vec<(Option<Node>, Node, Option<u16>)> = Vec::new();
    for (address, inst) in &ev.resources {
        let https = text(inst, "protocol").first().is_some_and(|p| p == "HTTPS");
        match inst.resource_type.as_str() {
            "aws_lb_listener" if https => tls.push((Some(Node::Internet), Node::Alb, port(inst))),
            "aws_lb_target_group" if https => {
                if let Some(agent) = instance_key(address) {
                    tls.push((Some(Node::Alb), Node::Agent(agent), port(inst)));
                }
            }
            "aws_ecs_service" => {
                let key = "service_connect_configuration.service.tls.issuer_cert_authority.aws_pca_authority_arn";
                if inst.attrs.get(key).is_some_and(|v| v.iter().any(|v| !v.is_null()))
                    && let Some(agent) = module_instance(address)
                {
                    for e in edges.iter().filter(|e| e.to == Node::Agent(agent.clone())) {
                        if matches!(e.from, Node::Agent(_)) {
                            tls.push((Some(e.from.clone()), e.to.clone(), Some(e.ports.0)));
                        }
                    }
                }
            }
            "aws_rds_cluster_parameter_group" => {
                let forced = text(inst, "parameter.name")
                    .iter()
                    .zip(text(inst, "parameter.value"))
                    .any(|(n, v)| n == "rds.force_ssl" && v == "1");
                if forced {
                    tls.push((None, Node::Database, None));
                }
            }
            _ => {}
        }
    }
    edges
        .iter()
        .filter(|e| {
            tls.iter().any(|(from, to, port)| {
                from.as_ref().is_none_or(|f| *f == e.from)
                    && *to == e.to
                    && port.is_none_or(|p| e.ports.0 <= p && p <= e.ports.1)
            })
        })
        .cloned()
        .collect()
}

/// The key of a resource instance's own `for_each`: `module.alb.aws_lb_target_group.this["order"]` → `order`.
fn instance_key(address: &str) -> Option<String> {
    let rest = address.strip_suffix("\"]")?;
    let start = rest.rfind("[\"")?;
    Some(rest[start + 2..].to_string())
}

/// Resource types that attach security groups, the attribute path of their list, and what they are.
const ATTACHMENTS: [(&str, &str, Owner); 4] = [
    ("aws_lb", "security_groups", Owner::Alb),
    ("aws_rds_cluster", "vpc_security_group_ids", Owner::Database),
    ("aws_ecs_service", "network_configuration.security_groups", Owner::Agent),
    ("aws_instance", "vpc_security_group_ids", Owner::NatInstance),
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

/// The security groups' owners and every rule, from the evaluated tree.
pub fn groups_and_rules(ev: &Evaluated) -> Result<(BTreeMap<String, Node>, Vec<Rule>)> {
    refuse_invisible_rules(ev)?;
    let mut owners = BTreeMap::new();
    let mut rules = Vec::new();
    for (address, inst) in &ev.resources {
        match inst.resource_type.as_str() {
            "aws_vpc_security_group_ingress_rule" | "aws_vpc_security_group_egress_rule" => {
                rules.push(rule(inst).with_context(|| format!("evaluating {address}"))?);
            }
            kind => {
                if let Some((_, path, owner)) = ATTACHMENTS.iter().find(|(k, _, _)| *k == kind) {
                    let node = match owner {
                        Owner::Alb => Node::Alb,
                        Owner::Database => Node::Database,
                        Owner::NatInstance => Node::NatInstance,
                        Owner::Agent => {
                            Node::Agent(module_instance(address).with_context(|| format!("{address} is in no module"))?)
                        }
                    };
                    for list in inst.attrs.get(*path).into_iter().flatten() {
                        for id in list.as_array().into_iter().flatten() {
                            if let Value::String(id) = id {
                                owners.insert(group_id(id), node.clone());
                            }
                        }
                    }
                }
            }
        }
    }
    Ok((owners, rules))
}

/// The ID a security group's `id` stands for: its address (`unknown:::::<address>:id` → `<address>`).
fn group_id(value: &str) -> String {
    value
        .strip_prefix("unknown:::::")
        .and_then(|rest| rest.strip_suffix(":id"))
        .unwrap_or(value)
        .to_string()
}

/// The key (or, without one, the name) of the module instance an address is in: `module.ecs["order"].…`
/// → `order`.
fn module_instance(address: &str) -> Option<String> {
    let rest = address.strip_prefix("module.")?;
    let end = rest.find(['.', '[']).unwrap_or(rest.len());
    let (name, after) = rest.split_at(end);
    match after.strip_prefix("[\"").and_then(|k| k.split_once("\"]")) {
        Some((key, _)) => Some(key.to_string()),
        None => Some(name.to_string()),
    }
}

fn rule(inst: &Instance) -> Result<Rule> {
    let direction = if inst.resource_type == "aws_vpc_security_group_ingress_rule" {
        Direction::Ingress
    } else {
        Direction::Egress
    };
    let get = |k: &str| -> Option<&Value> { inst.attrs.get(k).and_then(|v| v.first()).filter(|v| !v.is_null()) };
    let string = |k: &str| -> Option<String> {
        get(k).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    };
    let group = group_id(&string("security_group_id").context("no security_group_id")?);
    let protocol = string("ip_protocol").context("no ip_protocol")?;
    let port = |k: &str| -> Result<Option<u16>> {
        get(k)
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
    let peer = if let Some(g) = string("referenced_security_group_id") {
        Peer::Group(group_id(&g))
    } else if let Some(c) = string("cidr_ipv4").or_else(|| string("cidr_ipv6")) {
        Peer::Cidr(c)
    } else if let Some(p) = string("prefix_list_id") {
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

/// Rules tfgen's reading would miss: inline `ingress`/`egress` rules, `aws_security_group_rule`, and
/// groups or rules of the root module.
fn refuse_invisible_rules(ev: &Evaluated) -> Result<()> {
    for (address, inst) in &ev.resources {
        let kind = inst.resource_type.as_str();
        if kind == "aws_security_group_rule" {
            bail!("{address} is an aws_security_group_rule, which `tfgen reach` does not read");
        }
        if kind == "aws_security_group" && (inst.attrs.contains_key("ingress") || inst.attrs.contains_key("egress")) {
            bail!("{address}: a security group with inline rules, which `tfgen reach` does not read");
        }
        let read = [
            "aws_security_group",
            "aws_vpc_security_group_ingress_rule",
            "aws_vpc_security_group_egress_rule",
        ];
        if read.contains(&kind) && address.starts_with(kind) {
            bail!("the root module declares a {kind}; `tfgen reach` reads security groups in called modules only");
        }
    }
    Ok(())
}
