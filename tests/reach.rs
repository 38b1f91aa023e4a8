//! The reachability proof: the graph `tfgen::reach` computes from a rendered tree's security groups equals
//! the graph the spec declares, exactly, in dev and prod; and a wrong rule edited into the rendered HCL (an
//! extra edge, a missing one, a rule with only one side) is caught. The emulator test checks the same graph
//! against the applied state.

mod support;

use tfgen::reach::{self, Edge, Node, Ports};
use tfgen::vfs::Tree;

const SECURITY_GROUPS: &str = "modules/networking/security_groups.tf";

fn rendered(env: &str) -> (tfgen::model::Model, Tree) {
    let inputs = support::inputs(env);
    let model = tfgen::compile(&inputs).expect("the shipped spec compiles").model;
    (model, support::compile(&inputs))
}

fn edited(tree: &Tree, path: &str, from: &str, to: &str) -> Tree {
    let mut tree = tree.clone();
    let text = tree.get(path).unwrap().to_string();
    assert!(text.contains(from), "{path} has no `{from}`");
    tree.insert(path, text.replacen(from, to, 1));
    tree
}

fn agent(name: &str) -> Node {
    Node::Agent(name.to_string())
}

#[test]
fn the_rendered_graph_is_exactly_the_declared_one() {
    for env in ["dev", "prod"] {
        let (model, tree) = rendered(env);
        let graph = reach::from_tree(&tree).unwrap();
        let declared = reach::declared(&model);
        assert_eq!(graph.differences(&declared), Vec::<String>::new(), "{env}:\n{graph}");
        assert_eq!(graph.edges, declared.edges, "{env}");
        assert!(graph.half_open.is_empty(), "{env}:\n{graph}");
    }
}

/// What the tree encrypts: with in-transit encryption (prod), every hop that carries a request (the
/// internet's HTTPS to the ALB, the ALB to each task, each call between agents, each connection to the
/// database); without it (dev, no certificate), only the database. Nothing else, whatever its port.
#[test]
fn the_encrypted_edges_are_the_ones_the_tree_encrypts() {
    for env in ["dev", "prod"] {
        let (model, tree) = rendered(env);
        let graph = reach::from_tree(&tree).unwrap();
        let transit = model.security.in_transit_encryption;
        let expected: std::collections::BTreeSet<_> = graph
            .edges
            .iter()
            .filter(|e| match (&e.from, &e.to) {
                (_, Node::Database) => true,
                (Node::Internet, Node::Alb) => model.alb.certificate_arn.is_some() && e.ports.0 == 443,
                (Node::Alb | Node::Agent(_), Node::Agent(_)) => transit,
                _ => false,
            })
            .cloned()
            .collect();
        assert_eq!(graph.encrypted, expected, "{env}:\n{graph}");
        assert_eq!(transit, env == "prod");
    }
    // Taking the Service Connect TLS block out of prod's services unmarks every call between agents.
    let (_, tree) = rendered("prod");
    let plain = edited(
        &tree,
        "modules/ecs/main.tf",
        "for_each = var.tls == null ? [] : [var.tls]",
        "for_each = []",
    );
    let graph = reach::from_tree(&plain).unwrap();
    assert!(
        !graph
            .encrypted
            .iter()
            .any(|e| matches!((&e.from, &e.to), (Node::Agent(_), Node::Agent(_)))),
        "{graph}"
    );
    assert!(graph.encrypted.iter().any(|e| e.from == Node::Alb), "{graph}");
}

/// The shipped graph, written out by hand: a reviewer's reading of agents.toml (dev's NAT instance
/// takes HTTPS from the VPC and sends it on).
#[test]
fn the_shipped_graph_reads_as_the_plan_describes() {
    let (_, tree) = rendered("dev");
    let text = reach::from_tree(&tree).unwrap().to_string();
    let expected = "\
internet                     -> alb (80, 443)
10.0.0.0/16                  -> nat instance (443)
alb                          -> agent order-management (8001), agent personalization (8003), agent product-recommendation (8002), agent supervisor (8000), agent troubleshooting (8004)
agent order-management       -> internet (443), database (5432 tls)
agent personalization        -> internet (443), database (5432 tls)
agent product-recommendation -> internet (443), database (5432 tls)
agent supervisor             -> internet (443), agent order-management (8001), agent personalization (8003), agent product-recommendation (8002), agent troubleshooting (8004), database (5432 tls)
agent troubleshooting        -> internet (443)
nat instance                 -> internet (443)
";
    assert_eq!(text, expected);
}

#[test]
fn an_extra_edge_is_caught() {
    let (model, tree) = rendered("dev");
    let extra = r#"
resource "aws_vpc_security_group_ingress_rule" "sneaky_in" {
  security_group_id            = aws_security_group.agent["order-management"].id
  ip_protocol                  = "tcp"
  from_port                    = 8001
  to_port                      = 8001
  referenced_security_group_id = aws_security_group.agent["troubleshooting"].id
}

resource "aws_vpc_security_group_egress_rule" "sneaky_out" {
  security_group_id            = aws_security_group.agent["troubleshooting"].id
  ip_protocol                  = "tcp"
  from_port                    = 8001
  to_port                      = 8001
  referenced_security_group_id = aws_security_group.agent["order-management"].id
}
"#;
    let text = format!("{}{extra}", tree.get(SECURITY_GROUPS).unwrap());
    let mut wrong = tree.clone();
    wrong.insert(SECURITY_GROUPS, text);
    let graph = reach::from_tree(&wrong).unwrap();
    assert_eq!(
        graph.differences(&reach::declared(&model)),
        ["+ agent troubleshooting -> agent order-management : 8001"]
    );
}

#[test]
fn a_call_declared_only_in_the_rendered_root_is_caught() {
    // Module wiring: an edge added through the root's locals, not the networking module.
    let (model, tree) = rendered("dev");
    let wrong = edited(
        &tree,
        "main.tf",
        "calls             = []\n      callee_urls       = {}\n      uses_database     = false",
        "calls             = [\"supervisor\"]\n      callee_urls       = {}\n      uses_database     = false",
    );
    let differences = reach::from_tree(&wrong).unwrap().differences(&reach::declared(&model));
    assert_eq!(differences, ["+ agent troubleshooting -> agent supervisor : 8000"]);
}

#[test]
fn a_missing_edge_is_caught() {
    let (model, tree) = rendered("prod");
    let wrong = edited(
        &tree,
        SECURITY_GROUPS,
        "resource \"aws_vpc_security_group_ingress_rule\" \"agent_from_caller\" {\n  for_each = local.calls",
        "resource \"aws_vpc_security_group_ingress_rule\" \"agent_from_caller\" {\n  for_each = { for k, v in local.calls : k => v if v.callee != \"personalization\" }",
    );
    let graph = reach::from_tree(&wrong).unwrap();
    assert!(!graph.edges.contains(&Edge {
        from: agent("supervisor"),
        to: agent("personalization"),
        ports: Ports(8003, 8003)
    }));
    assert_eq!(
        graph.differences(&reach::declared(&model)),
        [
            "- agent supervisor -> agent personalization : 8003",
            "+ half-open agent supervisor -> agent personalization : 8003",
        ]
    );
}

#[test]
fn a_rule_with_one_side_only_is_caught() {
    // The database admitting every agent, while only the four with `[agent.database]` may send to it.
    let (model, tree) = rendered("dev");
    let wrong = edited(
        &tree,
        SECURITY_GROUPS,
        "resource \"aws_vpc_security_group_ingress_rule\" \"db_from_agent\" {\n  for_each = { for name, agent in var.agents : name => agent if agent.uses_database }",
        "resource \"aws_vpc_security_group_ingress_rule\" \"db_from_agent\" {\n  for_each = var.agents",
    );
    let differences = reach::from_tree(&wrong).unwrap().differences(&reach::declared(&model));
    assert_eq!(differences, ["+ half-open agent troubleshooting -> database : 5432"]);
}

#[test]
fn a_wrong_port_is_caught() {
    let (model, tree) = rendered("dev");
    let wrong = edited(
        &tree,
        SECURITY_GROUPS,
        "  description       = \"HTTPS to AWS APIs and external APIs via NAT\"\n  ip_protocol       = \"tcp\"\n  from_port         = 443",
        "  description       = \"HTTPS to AWS APIs and external APIs via NAT\"\n  ip_protocol       = \"tcp\"\n  from_port         = 0",
    );
    let differences = reach::from_tree(&wrong).unwrap().differences(&reach::declared(&model));
    assert_eq!(differences.len(), 10, "{differences:#?}");
    assert!(differences.contains(&"+ agent supervisor -> internet : 0-443".to_string()));
    assert!(differences.contains(&"- agent supervisor -> internet : 443".to_string()));
}

#[test]
fn rules_it_cannot_read_are_refused() {
    let (_, tree) = rendered("dev");
    let inline = edited(
        &tree,
        SECURITY_GROUPS,
        "  vpc_id      = aws_vpc.this.id\n",
        "  vpc_id      = aws_vpc.this.id\n\n  ingress {\n    from_port   = 0\n    to_port     = 0\n    protocol    = \"-1\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n",
    );
    let err = reach::from_tree(&inline).unwrap_err().to_string();
    assert!(err.contains("inline rules"), "{err}");
}

/// A group or rule in the root module is refused: the graph reads called modules' groups only.
#[test]
fn rules_in_the_root_module_are_refused() {
    let (_, tree) = rendered("dev");
    let mut root = tree.clone();
    let main = root.get("main.tf").unwrap().to_string();
    root.insert(
        "main.tf",
        format!(
            "{main}\nresource \"aws_vpc_security_group_ingress_rule\" \"extra\" {{\n  security_group_id = \"sg-1\"\n  ip_protocol       = \"-1\"\n  cidr_ipv4         = \"0.0.0.0/0\"\n}}\n"
        ),
    );
    let err = reach::from_tree(&root).unwrap_err().to_string();
    assert!(
        err.contains("the root module declares a aws_vpc_security_group_ingress_rule"),
        "{err}"
    );
}

#[test]
fn reach_command_prints_the_graph_and_agrees() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tfgen"))
        .args(["--root", support::root().to_str().unwrap(), "reach", "prod"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("agent supervisor             -> internet (443), agent order-management (8001 tls)"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("prod: the security groups allow exactly the declared graph\n"),
        "{stdout}"
    );
}

/// The wiring behind the graph: each caller gets one URL per callee (its Service Connect alias and port),
/// every service registers under its agent's name, and the container check needs nothing but Python.
#[test]
fn callers_get_one_url_per_callee_and_every_agent_is_a_service_connect_service() {
    let (model, tree) = rendered("dev");
    let root: hcl::Body = hcl::parse(tree.get("main.tf").unwrap()).unwrap();
    let locals = root.blocks().find(|b| b.identifier() == "locals").unwrap();
    let agents = locals.body().attributes().find(|a| a.key() == "agents").unwrap();
    let hcl::Expression::Object(agents) = agents.expr() else {
        panic!("local.agents is not an object")
    };
    for agent in &model.agents {
        let entry = agents
            .iter()
            .find(|(k, _)| k.to_string().trim_matches('"') == agent.name.as_str())
            .map(|(_, v)| hcl::format::to_string(v).unwrap())
            .unwrap();
        for callee in &agent.calls {
            let port = model.agents.iter().find(|a| &a.name == callee).unwrap().port;
            let variable = callee.as_str().to_uppercase().replace('-', "_");
            assert!(
                entry.contains(&format!("{variable}_URL = \"http://{callee}:{port}\"")),
                "{}: {entry}",
                agent.name
            );
        }
        assert_eq!(entry.matches("_URL = ").count(), agent.calls.len(), "{entry}");
    }
    let supervisor = model.agents.iter().find(|a| a.name.as_str() == "supervisor").unwrap();
    assert_eq!(
        supervisor.callee_urls["ORDER_MANAGEMENT_URL"],
        "http://order-management:8001"
    );
    let main = tree.get("main.tf").unwrap();
    assert!(
        main.contains("    each.value.callee_urls,\n"),
        "the callee URLs do not reach the containers"
    );
    let ecs = tree.get("modules/ecs/main.tf").unwrap();
    for wiring in [
        "port_name      = var.agent_name",
        "discovery_name = var.agent_name",
        "dns_name = var.agent_name",
        "port     = var.container_port",
        "namespace = var.service_connect_namespace_arn",
        "\"CMD\", \"python3\", \"-c\", \"import urllib.request;",
        "stopTimeout = var.stop_timeout_seconds",
    ] {
        assert!(ecs.contains(wiring), "modules/ecs/main.tf lacks `{wiring}`");
    }
    assert!(!ecs.contains("\"curl"), "python:3.11-slim has no curl");
    assert!(main.contains("stop_timeout_seconds               = 120"));
}
