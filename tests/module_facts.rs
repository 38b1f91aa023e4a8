//! The child modules under `modules/` restate a few AWS facts in their variable validations and
//! locals (so a module used on its own still refuses bad input). This test parses those `.tf` files
//! with hcl-rs and holds each copy equal to the one home of the facts, `tfgen::aws`.

mod support;

use hcl::{Block, Body, Expression};
use tfgen::aws::{fargate, logs};

fn body(module: &str, file: &str) -> Body {
    let path = support::root().join("modules").join(module).join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    hcl::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn block<'a>(body: &'a Body, kind: &str, label: Option<&str>) -> &'a Block {
    body.blocks()
        .find(|b| b.identifier() == kind && label.is_none_or(|l| b.labels().first().is_some_and(|x| x.as_str() == l)))
        .unwrap_or_else(|| panic!("no `{kind} {label:?}` block"))
}

fn attr<'a>(body: &'a Body, key: &str) -> &'a Expression {
    body.attributes()
        .find(|a| a.key() == key)
        .map_or_else(|| panic!("no attribute `{key}`"), hcl::Attribute::expr)
}

fn number(e: &Expression) -> u32 {
    match e {
        Expression::Number(n) => u32::try_from(n.as_u64().expect("whole number")).unwrap(),
        other => panic!("expected a number, found {other:?}"),
    }
}

/// A literal list of numbers, or `range(start, limit, step)` (Terraform's, limit exclusive).
fn numbers(e: &Expression) -> Vec<u32> {
    match e {
        Expression::Array(items) => items.iter().map(number).collect(),
        Expression::FuncCall(call) if call.name.name.as_str() == "range" => {
            let [start, limit, step] = &call.args[..] else {
                panic!("range() with {} arguments", call.args.len())
            };
            (number(start)..number(limit)).step_by(number(step) as usize).collect()
        }
        other => panic!("expected a list of numbers, found {other:?}"),
    }
}

/// The list in a validation written `contains([...], var.<name>)`.
fn contains_list(module: &str, variable: &str) -> Vec<u32> {
    let vars = body(module, "variables.tf");
    let validation = block(block(&vars, "variable", Some(variable)).body(), "validation", None);
    match attr(validation.body(), "condition") {
        Expression::FuncCall(call) if call.name.name.as_str() == "contains" => numbers(&call.args[0]),
        other => {
            panic!("{module}/variables.tf: `{variable}` validation is not contains([...], var.{variable}): {other:?}")
        }
    }
}

#[test]
fn ecs_cpu_validation_is_the_fargate_table() {
    assert_eq!(contains_list("ecs", "cpu"), fargate::cpus().collect::<Vec<_>>());
}

#[test]
fn ecs_memory_precondition_table_is_the_fargate_table() {
    let main = body("ecs", "main.tf");
    let locals = block(&main, "locals", None);
    let Expression::Object(table) = attr(locals.body(), "fargate_memory_by_cpu") else {
        panic!("fargate_memory_by_cpu is not an object")
    };
    let mut cpus = Vec::new();
    for (key, memory) in table {
        let cpu: u32 = match key {
            hcl::ObjectKey::Expression(Expression::String(s)) => s.parse().unwrap(),
            hcl::ObjectKey::Identifier(i) => i.as_str().parse().unwrap(),
            other => panic!("unexpected key {other:?}"),
        };
        assert_eq!(numbers(memory), fargate::memory_values(cpu), "memory for cpu {cpu}");
        cpus.push(cpu);
    }
    assert_eq!(cpus, fargate::cpus().collect::<Vec<_>>());
}

#[test]
fn ecs_log_retention_validation_is_the_cloudwatch_list() {
    assert_eq!(contains_list("ecs", "log_retention_days"), logs::RETENTION_DAYS);
}

#[test]
fn module_retention_defaults_are_cloudwatch_values() {
    // Variables without a validation still must default to a value CloudWatch Logs accepts.
    for (module, variable) in [("aurora", "log_retention_days"), ("alb", "waf_log_retention_days")] {
        let vars = body(module, "variables.tf");
        let default = number(attr(block(&vars, "variable", Some(variable)).body(), "default"));
        assert!(
            logs::valid_retention(default.into()),
            "{module}.{variable} default {default}"
        );
    }
}

/// The text of `variable "<name>" { … }` in `modules/<module>/variables.tf`, whitespace collapsed.
fn variable_text(module: &str, name: &str) -> String {
    let path = support::root().join("modules").join(module).join("variables.tf");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text
        .find(&format!("variable \"{name}\" {{"))
        .unwrap_or_else(|| panic!("{module}: no variable {name}"));
    let end = text[start..].find("\n}\n").map_or(text.len(), |e| start + e);
    text[start..end].split_whitespace().collect::<Vec<_>>().join(" ")
}

fn assert_has(module: &str, variable: &str, needle: &str) {
    let text = variable_text(module, variable);
    assert!(
        text.contains(needle),
        "modules/{module}/variables.tf `{variable}` no longer says `{needle}`; keep it equal to src/aws:\n{text}"
    );
}

#[test]
fn aurora_validations_are_the_aurora_facts() {
    use tfgen::aws::aurora;
    let (max, step) = (aurora::MAX_ACU, aurora::ACU_STEP);
    assert!(
        (step * 2.0 - 1.0).abs() < f64::EPSILON,
        "the modules test steps as floor(x * 2) == x * 2"
    );
    assert_has(
        "aurora",
        "min_capacity",
        &format!("var.min_capacity >= 0 && var.min_capacity <= {max}"),
    );
    assert_has(
        "aurora",
        "max_capacity",
        &format!(
            "var.max_capacity >= {} && var.max_capacity <= {max}",
            aurora::MIN_MAX_ACU
        ),
    );
    let (lo, hi) = (aurora::AUTO_PAUSE_SECONDS.start(), aurora::AUTO_PAUSE_SECONDS.end());
    assert_has(
        "aurora",
        "seconds_until_auto_pause",
        &format!("var.seconds_until_auto_pause >= {lo} && var.seconds_until_auto_pause <= {hi}"),
    );
    let (lo, hi) = (aurora::INSTANCES.start(), aurora::INSTANCES.end());
    assert_has(
        "aurora",
        "instance_count",
        &format!("var.instance_count >= {lo} && var.instance_count <= {hi}"),
    );
    let (lo, hi) = (
        aurora::BACKUP_RETENTION_DAYS.start(),
        aurora::BACKUP_RETENTION_DAYS.end(),
    );
    assert_has(
        "aurora",
        "backup_retention_days",
        &format!("var.backup_retention_days >= {lo} && var.backup_retention_days <= {hi}"),
    );
    let intervals: Vec<u32> = aurora::MONITORING_INTERVALS
        .iter()
        .map(|&i| u32::try_from(i).unwrap())
        .collect();
    assert_eq!(contains_list("aurora", "monitoring_interval"), intervals);
}

#[test]
fn alb_validations_are_the_elb_facts() {
    use tfgen::aws::limits;
    let values = limits::ALB_CONDITION_VALUES_PER_RULE;
    let chars = limits::ALB_PATH_PATTERN_MAX;
    assert_has(
        "alb",
        "agents",
        &format!(
            "length(agent.path_patterns) >= 1 && length(agent.path_patterns) <= {values} && alltrue([for pattern in agent.path_patterns : length(pattern) >= 1 && length(pattern) <= {chars}])"
        ),
    );
    // The target group name: 1-32 characters, alphanumeric at both ends.
    let middle = limits::ELB_NAME_MAX - 2;
    assert_has(
        "alb",
        "agents",
        &format!(r#"regex("^[A-Za-z0-9]([A-Za-z0-9-]{{0,{middle}}}[A-Za-z0-9])?$", agent.target_group_name)"#),
    );
    let (lo, hi) = (limits::ALB_RULE_PRIORITY.start(), limits::ALB_RULE_PRIORITY.end());
    assert_has(
        "alb",
        "agents",
        &format!("agent.priority >= {lo} && agent.priority <= {hi}"),
    );
    // The module's regex and tfgen's check agree on a sample of names.
    for (name, ok) in [("a", true), ("a-b", true), ("-a", false), ("a-", false), ("a_b", false)] {
        assert_eq!(limits::elb_name(name, false).is_ok(), ok, "{name}");
    }
    assert!(limits::elb_name(&"a".repeat(limits::ELB_NAME_MAX), false).is_ok());
    assert!(limits::elb_name(&"a".repeat(limits::ELB_NAME_MAX + 1), false).is_err());
    assert_eq!(tfgen::sections::agents::MAX_PATHS_PER_AGENT, values);
}

#[test]
fn ecs_validations_are_the_ecs_facts() {
    use tfgen::aws::limits;
    // The health check path: `/` then letters, digits and HEALTH_CHECK_PATH_CHARS (`-` last in the class).
    let class: String = limits::HEALTH_CHECK_PATH_CHARS.chars().collect();
    assert!(class.ends_with('-'), "keep `-` last so it is literal in a regex class");
    assert_has(
        "ecs",
        "health_check_path",
        &format!(r#"regex("^/[A-Za-z0-9{class}]*$", var.health_check_path)"#),
    );
    let tasks = limits::ECS_TASKS_PER_SERVICE;
    assert_has(
        "ecs",
        "desired_count",
        &format!("var.desired_count >= 0 && var.desired_count <= {tasks}"),
    );
    assert_has(
        "ecs",
        "max_count",
        &format!("var.max_count >= 1 && var.max_count <= {tasks}"),
    );
}

#[test]
fn readme_tables_are_the_facts() {
    use tfgen::aws::tables;
    let path = support::root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let mut expected = readme.clone();
    for (name, table) in [
        ("regions", tables::regions_markdown()),
        ("models", tables::models_markdown()),
        ("quotas", tables::quotas_markdown()),
    ] {
        expected =
            tables::splice(&expected, name, &table).unwrap_or_else(|| panic!("README lacks <!-- facts:{name} -->"));
    }
    if std::env::var_os("TFGEN_BLESS_README").is_some() {
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    assert!(
        readme == expected,
        "README's AWS facts tables differ from src/aws; run `TFGEN_BLESS_README=1 cargo test --test module_facts`"
    );
}

/// The README's requirements name the Terraform versions the generated trees declare: the database
/// bootstrap's, S3 state's and the plain tree's `required_version`.
#[test]
fn the_readmes_terraform_requirements_are_what_trees_declare() {
    use tfgen::sections::backend::Backend;
    let readme = std::fs::read_to_string(support::root().join("README.md")).unwrap();
    let requirements = readme
        .split("Requirements:")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("a Requirements paragraph")
        .replace('\n', " ");
    let s3 = Backend::S3 {
        bucket: String::new(),
        key: String::new(),
        region: String::new(),
    };
    let plain = |v: &str| v.trim_start_matches(">= ").to_string();
    let bootstrap = plain(tfgen::bootstrap::REQUIRED_TERRAFORM);
    for (version, why) in [
        (bootstrap.clone(), "when an agent has its own database"),
        (plain(s3.terraform_required_version()), "with S3 state"),
        (plain(Backend::Local.terraform_required_version()), "otherwise"),
    ] {
        assert!(
            requirements.contains(&format!("{version} {why}")),
            "{version} {why}: {requirements}"
        );
    }
    assert!(
        requirements.contains(&format!("Terraform {bootstrap} or later")),
        "{requirements}"
    );
}

/// Every Rust version the README and CONTRIBUTING.md name is the `rust-version` of Cargo.toml.
#[test]
fn the_docs_name_the_rust_version_cargo_requires() {
    let cargo = std::fs::read_to_string(support::root().join("Cargo.toml")).unwrap();
    let required = cargo
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("Cargo.toml has a rust-version");
    let mut named = 0;
    for doc in ["README.md", "CONTRIBUTING.md"] {
        let text = std::fs::read_to_string(support::root().join(doc)).unwrap();
        for (i, _) in text.match_indices("Rust 1.") {
            let version: String = text[i + 5..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            assert_eq!(version.trim_end_matches('.'), required, "{doc} names Rust {version}");
            named += 1;
        }
    }
    assert!(named >= 2, "the docs name the Rust version {named} times");
}

/// `[account.quotas]` has exactly one key per quota of `src/aws/quotas.rs`, in the same order.
#[test]
fn account_quota_keys_are_the_quota_table() {
    use tfgen::aws::quotas;
    use tfgen::sections::account::QuotasSpec;
    let keys: Vec<&str> = quotas::ALL.iter().map(|q| q.key).collect();
    assert_eq!(tfgen::keys::fields_of::<QuotasSpec>(), keys.as_slice());
}

/// The README's "Disaster recovery" figures are this repository's prod spec, the backup plan's schedule
/// and the point-in-time-restore fact, so a change to any of them shows here.
#[test]
fn the_readmes_recovery_figures_are_prods() {
    let readme = std::fs::read_to_string(support::root().join("README.md")).unwrap();
    let start = readme
        .find("### Disaster recovery")
        .expect("a Disaster recovery section");
    let section = &readme[start..start + readme[start..].find("\n### Migrating").unwrap()];
    let (model, _) = tfgen::validate_spec(&support::inputs("prod")).unwrap();
    let dr = model.dr.as_ref().expect("prod copies its backups");
    for said in [
        format!(
            "`[database] backup_retention_days` ({} days here)",
            model.database.backup_retention_days
        ),
        format!(
            "`[security] backup_retention_days` ({} days in prod)",
            model.security.backup_retention_days
        ),
        format!("(`[dr] region`; prod: {})", dr.region),
        format!("about {} minutes", tfgen::aws::aurora::PITR_LAG_MINUTES),
    ] {
        assert!(
            section.contains(&said),
            "the README's Disaster recovery section lacks `{said}`"
        );
    }
    // "daily recovery points (06:00 UTC)": the plan's rule.
    let plan = std::fs::read_to_string(support::root().join("modules/aurora/backup.tf")).unwrap();
    assert!(section.contains("(06:00 UTC)") && plan.contains("schedule          = \"cron(0 6 * * ? *)\""));
}
