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
