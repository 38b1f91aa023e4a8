//! Inventory: parse the rendered prod and dev trees with hcl-rs and find every component the plan
//! names, with its numbers. A template edit that drops one fails here, not in AWS.

mod support;

use std::collections::BTreeSet;

use hcl::{Block, Body, Expression};
use tfgen::vfs::Tree;

struct Parsed {
    /// (file path, block)
    blocks: Vec<(String, Block)>,
}

impl Parsed {
    fn new(tree: &Tree) -> Self {
        let mut blocks = Vec::new();
        for (path, text) in tree.files.iter().filter(|(p, _)| p.ends_with(".tf")) {
            let body: Body = hcl::parse(text).unwrap();
            for b in body.blocks() {
                blocks.push((path.clone(), b.clone()));
            }
        }
        Self { blocks }
    }

    fn resource_types(&self) -> BTreeSet<String> {
        self.blocks
            .iter()
            .filter(|(_, b)| b.identifier() == "resource")
            .map(|(_, b)| label(b, 0))
            .collect()
    }

    /// The first resource of `ty` (in any module).
    fn resource(&self, ty: &str) -> &Block {
        self.blocks
            .iter()
            .find(|(_, b)| b.identifier() == "resource" && label(b, 0) == ty)
            .map_or_else(|| panic!("no {ty} resource"), |(_, b)| b)
    }

    /// The first resource of `ty` in the files under `dir` (e.g. `modules/ecs/`).
    fn resource_in(&self, dir: &str, ty: &str) -> &Block {
        self.blocks
            .iter()
            .find(|(p, b)| p.starts_with(dir) && b.identifier() == "resource" && label(b, 0) == ty)
            .map_or_else(|| panic!("no {ty} resource in {dir}"), |(_, b)| b)
    }

    fn root_block(&self, kind: &str, name: &str) -> &Block {
        self.blocks
            .iter()
            .find(|(p, b)| !p.contains('/') && b.identifier() == kind && (name.is_empty() || label(b, 0) == name))
            .map_or_else(|| panic!("no root {kind} {name}"), |(_, b)| b)
    }
}

fn label(b: &Block, i: usize) -> String {
    match &b.labels()[i] {
        hcl::BlockLabel::String(s) => s.clone(),
        hcl::BlockLabel::Identifier(id) => id.to_string(),
    }
}

/// An expression as compact, single-line HCL text.
fn text(e: &Expression) -> String {
    use hcl::format::{Format as _, Formatter};
    e.format_string(&mut Formatter::builder().compact(true).build_vec())
        .unwrap()
}

/// An attribute's expression as compact HCL text.
fn attr(b: &Block, key: &str) -> String {
    let e = b
        .body()
        .attributes()
        .find(|a| a.key() == key)
        .unwrap_or_else(|| panic!("{} has no {key}", label(b, 0)));
    text(e.expr())
}

fn nested<'a>(b: &'a Block, kind: &str) -> &'a Block {
    b.body()
        .blocks()
        .find(|n| n.identifier() == kind)
        .unwrap_or_else(|| panic!("{} has no {kind} block", label(b, 0)))
}

fn agents(p: &Parsed) -> Vec<(String, hcl::Object<hcl::ObjectKey, Expression>)> {
    let locals = p.root_block("locals", "");
    let e = locals
        .body()
        .attributes()
        .find(|a| a.key() == "agents")
        .unwrap()
        .expr()
        .clone();
    let Expression::Object(o) = e else {
        panic!("agents is not an object")
    };
    o.into_iter()
        .map(|(k, v)| {
            let Expression::Object(v) = v else { panic!() };
            (k.to_string().trim_matches('"').to_string(), v)
        })
        .collect()
}

fn field(o: &hcl::Object<hcl::ObjectKey, Expression>, key: &str) -> String {
    let (_, v) = o
        .iter()
        .find(|(k, _)| k.to_string().trim_matches('"') == key)
        .unwrap_or_else(|| panic!("no {key}"));
    text(v)
}

#[test]
fn every_component_of_the_plan_is_present() {
    let tree = support::compile(&support::inputs("prod"));
    let p = Parsed::new(&tree);
    let types = p.resource_types();
    let wanted = [
        // Network
        "aws_vpc",
        "aws_subnet",
        "aws_internet_gateway",
        "aws_eip",
        "aws_nat_gateway",
        "aws_route_table",
        "aws_route_table_association",
        "aws_security_group",
        "aws_vpc_security_group_ingress_rule",
        "aws_vpc_security_group_egress_rule",
        // ECS
        "aws_ecs_cluster",
        "aws_ecs_task_definition",
        "aws_ecs_service",
        "aws_appautoscaling_target",
        "aws_appautoscaling_policy",
        // Load balancing
        "aws_lb",
        "aws_lb_target_group",
        "aws_lb_listener",
        "aws_lb_listener_rule",
        // Database
        "aws_db_subnet_group",
        "aws_rds_cluster",
        "aws_rds_cluster_instance",
        // IAM and secrets
        "aws_iam_role",
        "aws_secretsmanager_secret",
        // Monitoring
        "aws_cloudwatch_log_group",
        "aws_cloudwatch_metric_alarm",
        "aws_cloudwatch_log_metric_filter",
        "aws_sns_topic",
        "aws_sns_topic_subscription",
        // Images
        "aws_ecr_repository",
        "aws_ecr_lifecycle_policy",
        "aws_ecr_replication_configuration",
    ];
    let missing: Vec<&str> = wanted.iter().copied().filter(|t| !types.contains(*t)).collect();
    assert!(missing.is_empty(), "missing resource types: {missing:?}");
    for module in [
        "networking",
        "ecr",
        "secrets",
        "aurora",
        "iam",
        "alb",
        "ecs",
        "monitoring",
    ] {
        p.root_block("module", module);
    }
}

#[test]
fn agents_follow_the_plan() {
    let p = Parsed::new(&support::compile(&support::inputs("prod")));
    let declared = agents(&p);
    let expect = [
        ("supervisor", 8000, "[\"/\", \"/supervisor/*\"]"),
        ("order-management", 8001, "[\"/order/*\"]"),
        ("product-recommendation", 8002, "[\"/product/*\"]"),
        ("personalization", 8003, "[\"/personalization/*\"]"),
        ("troubleshooting", 8004, "[\"/troubleshooting/*\"]"),
    ];
    assert_eq!(declared.len(), expect.len());
    for (name, port, paths) in expect {
        let (_, a) = declared
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no agent {name}"));
        assert_eq!(field(a, "port"), port.to_string());
        assert_eq!(field(a, "path_patterns"), paths);
        // prod: 2 tasks of 1 vCPU / 2 GB
        assert_eq!(field(a, "cpu"), "1024");
        assert_eq!(field(a, "memory"), "2048");
        assert_eq!(field(a, "desired_count"), "2");
        assert_eq!(field(a, "cluster_name"), format!("\"prod-{name}-cluster\""));
        assert_eq!(field(a, "service_name"), format!("\"prod-{name}-service\""));
        // prod encrypts in transit: its target groups speak HTTPS, named `-tls`.
        assert_eq!(field(a, "target_group_name"), format!("\"prod-{name}-tls\""));
        assert_eq!(field(a, "repository_name"), format!("\"prod/{name}-agent\""));
        assert_eq!(field(a, "log_group_name"), format!("\"/aws/ecs/prod/{name}\""));
        assert_eq!(field(a, "health_check_path"), "\"/health\"");
    }
    let dev = Parsed::new(&support::compile(&support::inputs("dev")));
    for (_, a) in agents(&dev) {
        // dev: 1 task of 0.5 vCPU / 1 GB
        assert_eq!(
            (field(&a, "cpu"), field(&a, "memory"), field(&a, "desired_count")),
            ("512".into(), "1024".into(), "1".into())
        );
    }
}

#[test]
fn network_database_and_alb_carry_the_plans_numbers() {
    let p = Parsed::new(&support::compile(&support::inputs("prod")));
    let net = p.root_block("module", "networking");
    assert_eq!(attr(net, "vpc_cidr"), "\"10.0.0.0/16\"");
    assert_eq!(attr(net, "public_subnet_cidrs"), "[\"10.0.1.0/24\", \"10.0.2.0/24\"]");
    assert_eq!(
        attr(net, "private_subnet_cidrs"),
        "[\"10.0.10.0/24\", \"10.0.20.0/24\"]"
    );
    assert_eq!(attr(net, "nat"), "\"per-az\"");

    let db = p.root_block("module", "aurora");
    assert_eq!(attr(db, "min_capacity"), "0.5");
    assert_eq!(attr(db, "max_capacity"), "4");
    assert_eq!(attr(db, "instance_count"), "2");
    assert_eq!(attr(db, "backup_retention_days"), "7");
    assert_eq!(attr(db, "deletion_protection"), "true");
    assert_eq!(attr(db, "skip_final_snapshot"), "false");
    assert_eq!(attr(db, "engine_version"), "\"15.10\"");
    let cluster = p.resource("aws_rds_cluster");
    assert_eq!(attr(cluster, "engine"), "\"aurora-postgresql\"");
    assert_eq!(attr(cluster, "enable_http_endpoint"), "true");
    assert_eq!(attr(cluster, "storage_encrypted"), "true");
    assert_eq!(attr(cluster, "manage_master_user_password"), "true");
    nested(cluster, "serverlessv2_scaling_configuration");
    assert_eq!(
        attr(p.resource("aws_rds_cluster_instance"), "instance_class"),
        "\"db.serverless\""
    );

    let alb = p.resource("aws_lb");
    assert_eq!(attr(alb, "internal"), "false");
    assert_eq!(attr(alb, "load_balancer_type"), "\"application\"");
    assert_eq!(attr(p.resource("aws_lb_target_group"), "target_type"), "\"ip\"");
    assert!(attr(p.root_block("module", "alb"), "certificate_arn").starts_with("\"arn:aws:acm:eu-west-1:"));
}

#[test]
fn services_deploy_as_the_plan_says() {
    let p = Parsed::new(&support::compile(&support::inputs("prod")));
    let ecs = p.root_block("module", "ecs");
    assert_eq!(attr(ecs, "for_each"), "local.agents");
    assert_eq!(attr(ecs, "cpu_target_percent"), "70");
    assert_eq!(attr(ecs, "health_check_grace_period_seconds"), "60");
    assert_eq!(attr(ecs, "deployment_minimum_healthy_percent"), "50");
    assert_eq!(attr(ecs, "deployment_timeout"), "\"10m\"");
    assert_eq!(attr(ecs, "log_retention_days"), "30");
    let env = attr(ecs, "environment");
    for var in [
        "BEDROCK_MODEL_ID = local.bedrock_model_id",
        "AWS_DEFAULT_REGION = local.region",
    ] {
        assert!(env.contains(var), "container environment lacks {var}: {env}");
    }
    let secrets = attr(ecs, "secrets");
    // No container gets the master secret, injected or by ARN (issue 11): database agents get their own.
    assert!(secrets.contains("module.secrets.api_keys_secret_arn"));
    assert!(!secrets.contains("master_user_secret") && !env.contains("master_user_secret"));
    assert!(
        env.contains("module.database_bootstrap.agent_secret_arns[each.key]"),
        "{env}"
    );

    let cluster = p.resource("aws_ecs_cluster");
    let setting = nested(cluster, "setting");
    assert_eq!(attr(setting, "name"), "\"containerInsights\"");
    assert_eq!(
        attr(setting, "value"),
        "var.container_insights ? \"enabled\" : \"disabled\""
    );
    // The spec's choice reaches every cluster, and the alarm that needs no Container Insights is there.
    assert_eq!(attr(ecs, "container_insights"), "false");
    assert!(tree_has(&p, "HealthyHostCount"));
    let service = p.resource("aws_ecs_service");
    let breaker = nested(service, "deployment_circuit_breaker");
    assert_eq!(
        (attr(breaker, "enable"), attr(breaker, "rollback")),
        ("true".into(), "true".into())
    );
    let policy = p.resource("aws_appautoscaling_policy");
    assert_eq!(attr(policy, "policy_type"), "\"TargetTrackingScaling\"");
    let td = p.resource_in("modules/ecs/", "aws_ecs_task_definition");
    assert_eq!(attr(td, "network_mode"), "\"awsvpc\"");
    assert_eq!(attr(td, "requires_compatibilities"), "[\"FARGATE\"]");
    assert_eq!(
        attr(td, "container_definitions"),
        "jsonencode([local.container_definition])"
    );
    let ecs_locals = p
        .blocks
        .iter()
        .find(|(f, b)| f == "modules/ecs/main.tf" && b.identifier() == "locals")
        .map(|(_, b)| b)
        .expect("ecs locals");
    let container = attr(ecs_locals, "container_definition");
    for part in [
        "healthCheck",
        "var.health_check_path",
        "logDriver = \"awslogs\"",
        "secrets",
        "portMappings",
        "essential = true",
    ] {
        assert!(
            container.contains(part),
            "the container definition lacks {part}: {container}"
        );
    }
}

fn tree_has(p: &Parsed, needle: &str) -> bool {
    p.blocks.iter().any(|(_, b)| format!("{b:?}").contains(needle))
}

#[test]
fn model_and_alarms_and_outputs() {
    let p = Parsed::new(&support::compile(&support::inputs("prod")));
    let locals = p.root_block("locals", "");
    let model = locals
        .body()
        .attributes()
        .find(|a| a.key() == "bedrock_model_id")
        .unwrap();
    assert_eq!(text(model.expr()), "\"eu.anthropic.claude-sonnet-4-5-20250929-v1:0\"");
    let iam = p.root_block("module", "iam");
    // The task role's Bedrock statements are the grants of `Route::iam_grants`, passed as data.
    let grants = attr(iam, "bedrock_grants");
    let route = tfgen::aws::bedrock::resolve(tfgen::aws::bedrock::DEFAULT_MODEL, "eu-west-1").unwrap();
    for grant in route.iam_grants("$${partition}", "$${account_id}") {
        for resource in grant.resources {
            assert!(grants.contains(&resource), "{resource} missing from {grants}");
        }
    }
    assert!(tree_has(&p, "bedrock_statements"));
    assert!(tree_has(&p, "bedrock:InvokeModel"));
    assert!(tree_has(&p, "rds-data:ExecuteStatement"));
    for metric in [
        "CPUUtilization",
        "MemoryUtilization",
        "RunningTaskCount",
        "HTTPCode_Target_5XX_Count",
        "DatabaseConnectionFailures",
    ] {
        assert!(tree_has(&p, metric), "no alarm on {metric}");
    }
    let mon = p.root_block("module", "monitoring");
    assert_eq!(attr(mon, "alarm_email"), "\"platform-oncall@example.com\"");
    let outputs: BTreeSet<String> = p
        .blocks
        .iter()
        .filter(|(f, b)| f == "outputs.tf" && b.identifier() == "output")
        .map(|(_, b)| label(b, 0))
        .collect();
    for o in [
        "alb_dns_name",
        "cluster_names",
        "service_names",
        "ecr_repository_urls",
        "db_endpoint",
        "db_cluster_arn",
        "db_secret_arn",
        "api_keys_secret_arn",
        "bedrock_model_source",
    ] {
        assert!(outputs.contains(o), "missing output {o}");
    }
    // Every provider configuration (the replication regions' too) tags with the one set of default tags.
    for (path, b) in &p.blocks {
        if !path.contains('/') && b.identifier() == "provider" {
            assert_eq!(attr(nested(b, "default_tags"), "tags"), "local.default_tags");
        }
    }
    let tags = p
        .blocks
        .iter()
        .filter(|(path, b)| !path.contains('/') && b.identifier() == "locals")
        .find_map(|(_, b)| b.body().attributes().find(|a| a.key() == "default_tags"))
        .map(|a| text(a.expr()))
        .expect("a local default_tags");
    for t in ["project", "environment", "managed-by"] {
        assert!(tags.contains(t), "default_tags lacks {t}");
    }
}

/// `tfgen::addresses::AGENT_KEYED` (used for renames and diffs) must list every per-agent resource:
/// those whose `for_each` is a module input built from `local.agents`, or another per-agent resource.
#[test]
fn every_per_agent_resource_is_listed_for_renames() {
    let tree = support::compile(&support::inputs("prod"));
    let p = Parsed::new(&tree);
    let mut keyed: BTreeSet<String> = BTreeSet::new();
    for (_, call) in p
        .blocks
        .iter()
        .filter(|(f, b)| !f.contains('/') && b.identifier() == "module")
    {
        let module = label(call, 0);
        if attr_opt(call, "for_each").as_deref() == Some("local.agents") {
            keyed.insert(format!("module.{module}"));
            continue;
        }
        let inputs: Vec<String> = call
            .body()
            .attributes()
            .filter(|a| {
                let t = text(a.expr());
                t.starts_with("{for name, agent in local.agents : name =>")
                    || t.starts_with("{ for name, agent in local.agents : name =>")
            })
            .map(|a| format!("var.{}", a.key()))
            .collect();
        let dir = format!("modules/{module}/");
        let mut changed = true;
        while changed {
            changed = false;
            for (_, b) in p
                .blocks
                .iter()
                .filter(|(f, b)| f.starts_with(&dir) && b.identifier() == "resource")
            {
                let address = format!("module.{module}.{}.{}", label(b, 0), label(b, 1));
                let Some(each) = attr_opt(b, "for_each") else { continue };
                let local_keyed = keyed
                    .iter()
                    .filter_map(|k| k.strip_prefix(&format!("module.{module}.")))
                    .any(|r| each.contains(r));
                if (inputs.iter().any(|i| each.contains(i.as_str())) || local_keyed) && keyed.insert(address) {
                    changed = true;
                }
            }
        }
    }
    let listed: BTreeSet<String> = tfgen::addresses::AGENT_KEYED.iter().map(ToString::to_string).collect();
    assert_eq!(keyed, listed, "update tfgen::addresses::AGENT_KEYED");
}

fn attr_opt(b: &Block, key: &str) -> Option<String> {
    b.body().attributes().find(|a| a.key() == key).map(|a| text(a.expr()))
}

/// How many instances of each resource type a tree creates, as tfgen's evaluator expands `count` and
/// `for_each` (the same evaluation the plan prediction uses).
fn instance_counts(tree: &Tree) -> std::collections::BTreeMap<String, usize> {
    let none = std::collections::BTreeMap::new();
    let nothing = BTreeSet::new();
    let instances = tfgen::predict::evaluate(tree, tfgen::predict::Unknowns::none(&none, &nothing)).unwrap();
    let mut counts = std::collections::BTreeMap::new();
    for i in instances.into_values() {
        *counts.entry(i.resource_type).or_insert(0) += 1;
    }
    counts
}

/// `tfgen cost` prices what the rendered tree creates: its counted lines (alarms, secrets, dashboards,
/// keys, NAT gateways, load balancers, web ACLs, database instances, interface endpoints, repositories)
/// equal the instances of those resource types in dev, prod and every valid fixture.
#[test]
// Counts are small whole numbers, exact in f64: comparing them exactly is right.
#[allow(clippy::float_cmp, clippy::cast_precision_loss)]
fn the_cost_counts_what_the_tree_creates() {
    let mut specs = vec![support::inputs("dev"), support::inputs("prod")];
    let mut fixtures: Vec<String> = std::fs::read_dir(support::root().join("tests/fixtures/valid"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    fixtures.sort();
    specs.extend(fixtures.iter().map(|f| support::valid_fixture(f)));
    for inputs in &specs {
        let compiled = tfgen::compile(inputs).unwrap_or_else(|e| panic!("{}: {e:?}", inputs.env_name));
        let estimate =
            tfgen::cost::estimate_with(&compiled.model, tfgen::cost::prices::for_region("us-east-1").unwrap());
        let counts = instance_counts(&compiled.tree);
        let n = |ty: &str| counts.get(ty).copied().unwrap_or(0) as f64;
        let quantity = |unit: &str| -> f64 {
            estimate
                .lines
                .iter()
                .filter(|l| l.unit == unit)
                .map(|l| l.quantity)
                .sum()
        };
        let env = inputs.env_name.as_str();
        // Each target-tracking policy creates two alarms of its own (scale out, scale in).
        let alarms = n("aws_cloudwatch_metric_alarm") + 2.0 * n("aws_appautoscaling_policy");
        assert_eq!(quantity("alarm-month"), alarms, "{env}: alarms");
        // Plus the master user secret, which RDS creates and manages (manage_master_user_password), and with
        // in-transit encryption one secret per Service Connect service, which ECS creates for its TLS key.
        let ecs_managed = if compiled.model.security.in_transit_encryption {
            n("aws_ecs_service")
        } else {
            0.0
        };
        assert_eq!(
            quantity("secret-month"),
            n("aws_secretsmanager_secret") + 1.0 + ecs_managed,
            "{env}: secrets"
        );
        assert_eq!(
            quantity("CA-month"),
            n("aws_acmpca_certificate_authority"),
            "{env}: private CAs"
        );
        assert_eq!(
            quantity("dashboard-month"),
            n("aws_cloudwatch_dashboard"),
            "{env}: dashboards"
        );
        assert_eq!(quantity("key-month"), n("aws_kms_key"), "{env}: keys");
        assert_eq!(quantity("ACL-month"), n("aws_wafv2_web_acl"), "{env}: web ACLs");
        let hours = compiled.model.cost.hours_per_month;
        let nat = estimate.lines.iter().find(|l| l.item.starts_with("NAT gateways"));
        assert_eq!(
            nat.map_or(0.0, |l| l.quantity / hours),
            n("aws_nat_gateway"),
            "{env}: NAT gateways"
        );
        let nat_instance = estimate.lines.iter().find(|l| l.item.starts_with("NAT instance ("));
        assert_eq!(
            nat_instance.map_or(0.0, |l| l.quantity / hours),
            n("aws_instance"),
            "{env}: NAT instances"
        );
        // One public IPv4 address per NAT gateway or instance, and one per load balancer AZ.
        let ips = n("aws_eip") + n("aws_instance") + f64::from(compiled.model.network.az_count);
        assert_eq!(quantity("IP-hour") / hours, ips, "{env}: public IPv4 addresses");
        let alb = estimate.lines.iter().find(|l| l.item == "Application Load Balancer");
        assert_eq!(
            alb.map_or(0.0, |l| l.quantity / hours),
            n("aws_lb"),
            "{env}: load balancers"
        );
        let ecr = estimate
            .lines
            .iter()
            .find(|l| l.item.starts_with("image storage"))
            .unwrap();
        assert!(
            ecr.item
                .contains(&format!(", {} repositories", counts["aws_ecr_repository"])),
            "{env}: {} for {} repositories",
            ecr.item,
            counts["aws_ecr_repository"]
        );
    }
}

/// Every call between agents may take as long as the ALB waits: Service Connect's per-request and idle
/// timeouts of every service are at least the load balancer's idle timeout (Envoy's default, 15 s, cut
/// the supervisor's calls to specialists that wait on the model), and the container is told the same.
#[test]
fn calls_between_agents_may_last_as_long_as_the_alb_waits() {
    use std::collections::{BTreeMap, BTreeSet};
    for env in ["dev", "prod"] {
        let tree = support::compile(&support::inputs(env));
        let identity = BTreeMap::new();
        let nothing = BTreeSet::new();
        let instances = tfgen::predict::evaluate(&tree, tfgen::predict::Unknowns::none(&identity, &nothing)).unwrap();
        let number = |v: &hcl::Value| v.as_number().and_then(hcl::Number::as_f64).unwrap();
        let alb = instances.values().find(|i| i.resource_type == "aws_lb").unwrap();
        let idle = number(&alb.attrs["idle_timeout"][0]);
        let services: Vec<_> = instances
            .values()
            .filter(|i| i.resource_type == "aws_ecs_service")
            .collect();
        assert_eq!(services.len(), 5, "{env}");
        for s in services {
            for key in ["per_request_timeout_seconds", "idle_timeout_seconds"] {
                let path = format!("service_connect_configuration.service.timeout.{key}");
                let v = s
                    .attrs
                    .get(&path)
                    .unwrap_or_else(|| panic!("{env}: {} has no {path}", s.address));
                assert!(
                    number(&v[0]) >= idle,
                    "{env}: {} {key} below the ALB's {idle} s",
                    s.address
                );
            }
        }
        let defs: Vec<_> = instances
            .values()
            .filter(|i| i.resource_type == "aws_ecs_task_definition" && i.address.starts_with("module.ecs"))
            .collect();
        for d in defs {
            let text = d.attrs["container_definitions"][0].as_str().unwrap().to_string();
            assert!(
                text.contains(&format!("\"name\":\"CALL_TIMEOUT_SECONDS\",\"value\":\"{idle}\"")),
                "{env}: {}",
                d.address
            );
        }
    }
}

/// A Spot capacity provider strategy needs the cluster's capacity providers first: every agent's service
/// waits for its cluster's association (Terraform would otherwise create both at once).
#[test]
fn services_wait_for_their_clusters_capacity_providers() {
    let tree = support::compile(&support::inputs("dev"));
    let body: hcl::Body = hcl::from_str(tree.get("modules/ecs/main.tf").unwrap()).unwrap();
    let service = body
        .blocks()
        .find(|b| {
            b.identifier() == "resource" && b.labels().first().map(hcl::BlockLabel::as_str) == Some("aws_ecs_service")
        })
        .unwrap();
    let depends = service
        .body()
        .attributes()
        .find(|a| a.key() == "depends_on")
        .expect("depends_on");
    let text = hcl::format::to_string(depends.expr()).unwrap();
    assert!(text.contains("aws_ecs_cluster_capacity_providers.this"), "{text}");
}

/// Dev can be destroyed and applied again at once: its secrets skip the recovery window (which keeps a
/// deleted secret's name taken for 7 days) and its repositories are deleted with their images. Prod keeps
/// both protections, with names a re-created prod does not collide with.
#[test]
fn dev_is_recreatable_at_once_and_prod_keeps_its_protections() {
    use std::collections::{BTreeMap, BTreeSet};
    for (env, disposable) in [("dev", true), ("prod", false)] {
        let tree = support::compile(&support::inputs(env));
        let (identity, nothing) = (BTreeMap::new(), BTreeSet::new());
        let instances = tfgen::predict::evaluate(&tree, tfgen::predict::Unknowns::none(&identity, &nothing)).unwrap();
        let of = |t: &'static str| instances.values().filter(move |i| i.resource_type == t);
        for secret in of("aws_secretsmanager_secret") {
            let window = secret.attrs["recovery_window_in_days"][0]
                .as_number()
                .and_then(hcl::Number::as_u64);
            assert_eq!(window == Some(0), disposable, "{env}: {} {window:?}", secret.address);
            // A secret kept recoverable keeps its name taken: prod's are named after the storage key,
            // which a re-created environment does not share, so its second life does not collide.
            let name = secret.attrs["name"][0].as_str().unwrap_or_default().to_string();
            assert_eq!(
                name.contains("aws_kms_key.this:key_id"),
                !disposable,
                "{env}: {} is named {name}",
                secret.address
            );
        }
        for repo in of("aws_ecr_repository") {
            assert_eq!(
                repo.attrs["force_delete"][0].as_bool(),
                Some(disposable),
                "{env}: {}",
                repo.address
            );
        }
        // Prod's final snapshot is named after its storage key, which a re-created environment does not
        // share: the second destroy cannot collide with the first's snapshot.
        if !disposable {
            let cluster = of("aws_rds_cluster").next().unwrap();
            let name = cluster.attrs["final_snapshot_identifier"][0]
                .as_str()
                .unwrap_or_default()
                .to_string();
            assert!(
                name.starts_with("prod-") && name.contains("-final-") && name.contains("aws_kms_key.this:key_id"),
                "{name}"
            );
        }
    }
}

/// Day one, item 10: every resource type any tree renders is either named per environment (two
/// environments of one account each get their own) or one of the account-wide singletons tfgen knows
/// (`tfgen::aws::quotas::ACCOUNT_SINGLETONS`), which `[account]` keeps to one environment per account and
/// Region. A new resource type must be placed in one list or the other.
#[test]
fn every_resource_type_is_per_environment_or_a_known_singleton() {
    const PER_ENVIRONMENT: &[&str] = &[
        "aws_acmpca_certificate",
        "aws_acmpca_certificate_authority",
        "aws_acmpca_certificate_authority_certificate",
        "aws_appautoscaling_policy",
        "aws_appautoscaling_target",
        "aws_backup_plan",
        "aws_backup_selection",
        "aws_backup_vault",
        "aws_budgets_budget",
        "aws_cloudwatch_dashboard",
        "aws_cloudwatch_event_rule",
        "aws_cloudwatch_event_target",
        "aws_cloudwatch_log_group",
        "aws_cloudwatch_log_metric_filter",
        "aws_cloudwatch_metric_alarm",
        "aws_codebuild_project",
        "aws_codepipeline",
        "aws_codestarconnections_connection",
        "aws_db_subnet_group",
        "aws_default_security_group",
        "aws_ecr_lifecycle_policy",
        "aws_ecr_repository",
        "aws_ecr_repository_policy",
        "aws_ecr_repository_creation_template",
        "aws_ecs_cluster",
        "aws_ecs_cluster_capacity_providers",
        "aws_ecs_service",
        "aws_ecs_task_definition",
        "aws_eip",
        "aws_flow_log",
        "aws_iam_policy",
        "aws_iam_role",
        "aws_iam_role_policy",
        "aws_iam_role_policy_attachment",
        "aws_instance",
        "aws_internet_gateway",
        "aws_kms_alias",
        "aws_kms_key",
        "aws_lambda_function",
        "aws_lambda_invocation",
        "aws_lb",
        "aws_lb_listener",
        "aws_lb_listener_rule",
        "aws_lb_target_group",
        "aws_nat_gateway",
        "aws_rds_cluster",
        "aws_rds_cluster_instance",
        "aws_rds_cluster_parameter_group",
        "aws_route",
        "aws_route_table",
        "aws_route_table_association",
        "aws_s3_bucket",
        "aws_s3_bucket_lifecycle_configuration",
        "aws_s3_bucket_ownership_controls",
        "aws_s3_bucket_policy",
        "aws_s3_bucket_public_access_block",
        "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_versioning",
        "aws_s3_object",
        "aws_secretsmanager_secret",
        "aws_secretsmanager_secret_version",
        "aws_security_group",
        "aws_service_discovery_http_namespace",
        "aws_sns_topic",
        "aws_sns_topic_policy",
        "aws_sns_topic_subscription",
        "aws_subnet",
        "aws_vpc",
        "aws_vpc_endpoint",
        "aws_vpc_security_group_egress_rule",
        "aws_vpc_security_group_ingress_rule",
        "aws_wafv2_web_acl",
        "aws_wafv2_web_acl_association",
        "aws_wafv2_web_acl_logging_configuration",
    ];
    let singletons = tfgen::aws::quotas::ACCOUNT_SINGLETONS;
    let mut seen = BTreeSet::new();
    let mut inputs = vec![support::inputs("dev"), support::inputs("prod")];
    inputs.extend(["live", "mini", "sp", "spot", "tokyo"].map(support::valid_fixture));
    for i in &inputs {
        seen.extend(Parsed::new(&support::compile(i)).resource_types());
    }
    let unplaced: Vec<&String> = seen
        .iter()
        .filter(|t| !PER_ENVIRONMENT.contains(&t.as_str()) && !singletons.contains(&t.as_str()))
        .collect();
    assert!(unplaced.is_empty(), "resource types in neither list: {unplaced:?}");
    for s in singletons {
        assert!(seen.contains(*s), "{s} is listed as a singleton but no tree renders it");
    }
}

/// `[account] id` becomes the provider's `allowed_account_ids`; without it the provider names no account.
#[test]
fn the_provider_is_pinned_to_the_spec_account() {
    let tokyo = support::compile(&support::valid_fixture("tokyo"));
    let pinned = Parsed::new(&tokyo);
    let provider = pinned
        .blocks
        .iter()
        .find(|(_, b)| b.identifier() == "provider")
        .map(|(_, b)| b)
        .unwrap();
    assert_eq!(attr(provider, "allowed_account_ids"), r#"["210987654321"]"#);
    let dev = Parsed::new(&support::compile(&support::inputs("dev")));
    assert!(
        dev.blocks
            .iter()
            .filter(|(_, b)| b.identifier() == "provider")
            .all(|(_, b)| attr_opt(b, "allowed_account_ids").is_none())
    );
}

/// Day one, item 4 (the readiness proof for secrets): ECS cannot start a task whose secret has no
/// AWSCURRENT version, so every secret a task definition injects must get its first version from the same
/// apply (`aws_secretsmanager_secret_version` in the tree), and whatever reads the secret's ARN must wait
/// for that version. Checked on every tree the repository and the valid fixtures render.
#[test]
fn every_injected_secret_has_a_version_from_the_same_apply() {
    use std::collections::BTreeMap;
    let mut inputs = vec![support::inputs("dev"), support::inputs("prod")];
    inputs.extend(["live", "mini", "sp", "spot", "tokyo"].map(support::valid_fixture));
    for i in &inputs {
        let tree = support::compile(i);
        let (identity, nothing) = (BTreeMap::new(), BTreeSet::new());
        let instances = tfgen::predict::evaluate(&tree, tfgen::predict::Unknowns::none(&identity, &nothing)).unwrap();
        // The secret each version belongs to: its `secret_id` is the secret's (unknown) id.
        let versioned: BTreeSet<String> = instances
            .values()
            .filter(|x| x.resource_type == "aws_secretsmanager_secret_version")
            .filter_map(|x| {
                x.attrs["secret_id"][0]
                    .as_str()
                    .map(|s| s.trim_end_matches(":id").to_string())
            })
            .collect();
        let mut injected = 0;
        for td in instances
            .values()
            .filter(|x| x.resource_type == "aws_ecs_task_definition")
        {
            let defs: serde_json::Value =
                serde_json::from_str(td.attrs["container_definitions"][0].as_str().unwrap()).unwrap();
            for c in defs.as_array().unwrap() {
                for s in c["secrets"].as_array().into_iter().flatten() {
                    let from = s["valueFrom"].as_str().unwrap();
                    let secret = from.split(":arn").next().unwrap();
                    assert!(
                        secret.contains("aws_secretsmanager_secret.") && versioned.contains(secret),
                        "{}: {} injects {} ({from}), which no version in the tree fills",
                        i.env_name,
                        td.address,
                        s["name"]
                    );
                    injected += 1;
                }
            }
        }
        assert!(injected > 0, "{}: no task definition injects a secret", i.env_name);
    }
    // And the API keys' ARN, which the task definitions read, is only handed out once its version exists.
    let outputs = support::root().join("modules/secrets/outputs.tf");
    let text = std::fs::read_to_string(outputs).unwrap();
    let body: Body = hcl::parse(&text).unwrap();
    let arn = body
        .blocks()
        .find(|b| b.identifier() == "output" && label(b, 0) == "api_keys_secret_arn")
        .unwrap();
    assert_eq!(attr(arn, "depends_on"), "[aws_secretsmanager_secret_version.initial]");
}

/// Day one, item 12a: no role grants `rds-db:connect` (IAM database authentication). Every agent logs in
/// through the Data API with its own secret, and a PostgreSQL role granted `rds_iam` for IAM authentication
/// could no longer log in with that secret's password.
#[test]
fn no_role_grants_iam_database_authentication() {
    for env in ["dev", "prod"] {
        let tree = support::compile(&support::inputs(env));
        for (path, text) in tree.files.iter().filter(|(p, _)| p.ends_with(".tf")) {
            assert!(
                !text.contains("rds-db:"),
                "{env}: {path} grants IAM database authentication"
            );
        }
    }
}

/// Day one, item 4 (images): each service depends on its image being in its repository. The image is read
/// by a data source (which fails, stopping plan or apply, when the tag is missing) and the service's
/// precondition names it, so a service is never created or changed before its image exists.
#[test]
fn services_wait_for_their_images() {
    for env in ["dev", "prod"] {
        let tree = support::compile(&support::inputs(env));
        let p = Parsed::new(&tree);
        let image = p
            .blocks
            .iter()
            .find_map(|(_, b)| (b.identifier() == "data" && label(b, 0) == "aws_ecr_image").then_some(b))
            .unwrap_or_else(|| panic!("{env}: no aws_ecr_image data source"));
        assert_eq!(attr(image, "for_each"), "local.agents");
        assert_eq!(attr(image, "image_tag"), "local.image_tag");
        let ecs = p
            .blocks
            .iter()
            .find(|(_, b)| b.identifier() == "module" && label(b, 0) == "ecs")
            .map(|(_, b)| b)
            .unwrap();
        assert_eq!(
            attr(ecs, "image_digest"),
            "data.aws_ecr_image.agent[each.key].image_digest"
        );
        let service = p.resource("aws_ecs_service");
        let lifecycle = nested(service, "lifecycle");
        let preconditions: Vec<String> = lifecycle
            .body()
            .blocks()
            .filter(|b| b.identifier() == "precondition")
            .map(|b| attr(b, "condition"))
            .collect();
        assert!(
            preconditions.iter().any(|c| c.contains("var.image_digest")),
            "{env}: {preconditions:?}"
        );
    }
}

/// Disaster recovery: prod's backup plan copies each recovery point to the vault of its `[dr]` region,
/// which is encrypted with that region's own key, and a failed backup or copy job reaches the alarm
/// topic; dev, without `[dr]`, copies nothing.
#[test]
fn prods_backups_leave_the_region_and_a_failed_copy_alerts() {
    use std::collections::{BTreeMap, BTreeSet};
    for (env, copies) in [("dev", false), ("prod", true)] {
        let tree = support::compile(&support::inputs(env));
        let (identity, nothing) = (BTreeMap::new(), BTreeSet::new());
        let instances = tfgen::predict::evaluate(&tree, tfgen::predict::Unknowns::none(&identity, &nothing)).unwrap();
        let of = |t: &'static str| instances.values().filter(move |i| i.resource_type == t);
        let plan = of("aws_backup_plan").next().expect("a backup plan");
        let destination = plan
            .attrs
            .iter()
            .find(|(k, _)| k.ends_with("copy_action.destination_vault_arn"))
            .map(|(_, v)| format!("{v:?}"));
        assert_eq!(
            destination.is_some(),
            copies,
            "{env}: {:?}",
            plan.attrs.keys().collect::<Vec<_>>()
        );
        if copies {
            let destination = destination.unwrap();
            assert!(
                destination.contains("module.backup_copy.aws_backup_vault.this"),
                "{destination}"
            );
            let vault = of("aws_backup_vault")
                .find(|v| v.address.starts_with("module.backup_copy."))
                .unwrap();
            let key = format!("{:?}", vault.attrs["kms_key_arn"]);
            assert!(key.contains("module.backup_copy_key.aws_kms_key.this"), "{key}");
            // The DR module is configured by the provider of the DR region, not the environment's.
            let root = tree.get("main.tf").unwrap();
            let block = &root[root.find("module \"backup_copy\"").unwrap()..];
            assert!(block[..block.find("\n}").unwrap()].contains("aws = aws.dr"), "{block}");
            let block = &root[root.find("module \"backup_copy_key\"").unwrap()..];
            assert!(block[..block.find("\n}").unwrap()].contains("aws = aws.dr"), "{block}");
            assert!(tree.get("providers.tf").unwrap().contains("region = \"eu-central-1\""));
        }
        let target = of("aws_cloudwatch_event_target").next().expect("a backup-failure rule");
        assert!(
            format!("{:?}", target.attrs["arn"]).contains("aws_sns_topic.this"),
            "{env}"
        );
    }
}

/// Trust boundaries, item 10: no agent task starts before the bootstrap created its database role. The
/// task definitions read each agent's secret through the bootstrap module's output, and that output waits
/// for the bootstrap run; the root passes the output, never the secret resource itself.
#[test]
fn agents_read_their_database_secret_only_after_the_bootstrap_ran() {
    let tree = support::compile(&support::inputs("dev"));
    let body: hcl::Body = hcl::from_str(tree.get("modules/database_bootstrap/outputs.tf").unwrap()).unwrap();
    let output = body
        .blocks()
        .find(|b| {
            b.identifier() == "output" && b.labels().first().map(hcl::BlockLabel::as_str) == Some("agent_secret_arns")
        })
        .expect("the agent_secret_arns output");
    let depends = output
        .body()
        .attributes()
        .find(|a| a.key() == "depends_on")
        .expect("depends_on");
    let text = hcl::format::to_string(depends.expr()).unwrap();
    assert!(text.contains("aws_lambda_invocation.bootstrap"), "{text}");
    let root = tree.get("main.tf").unwrap();
    assert!(root.contains("DB_SECRET_ARN  = module.database_bootstrap.agent_secret_arns[each.key]"));
    assert!(!root.contains("aws_secretsmanager_secret.agent"));
}
