//! Render tests: snapshots of the rendered root module for every fixture, and the invariants every
//! output must satisfy (deterministic, parses, already formatted, carries the generated header).

mod support;

use std::fmt::Write as _;
use std::path::Path;

use tfgen::format::format_hcl;
use tfgen::load::{Inputs, Overrides};
use tfgen::vfs::{HEADER_MARK, Tree};

fn fixture_inputs(path: &Path) -> Inputs {
    let env = path.file_stem().unwrap().to_str().unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    let agents = std::fs::read_to_string(support::root().join("environments/agents.toml")).unwrap();
    Inputs::from_text(env, &text, &agents, Overrides::default())
}

/// What a snapshot shows: the root module in full, the child modules' file list, and of the smoke check
/// the agents it embeds (the rest of it is the same for every environment, and `tests/contract.rs` runs it).
fn snapshot_text(tree: &Tree) -> String {
    let mut out = String::new();
    for (path, text) in &tree.files {
        if path.contains('/') {
            let _ = writeln!(out, "--- {path} ({} lines)", text.lines().count());
        }
    }
    for (path, text) in &tree.files {
        if path.ends_with(".py") {
            let start = text.find("AGENTS = ").expect("the smoke check's agents");
            let end = start + text[start..].find("\n\"\"\")").expect("the end of the agents");
            let _ = writeln!(
                out,
                "=== {path} ({} lines), its agents:\n{}",
                text.lines().count(),
                &text[start..end]
            );
        } else if !path.contains('/') {
            let _ = write!(out, "=== {path}\n{text}");
        }
    }
    out
}

/// The generated smoke check is Python that Python itself parses (`ast.parse`, with no code run).
fn assert_python_parses(path: &str, text: &str) {
    let mut child = std::process::Command::new(std::env::var("TFGEN_PYTHON").unwrap_or_else(|_| "python3".into()))
        .args(["-c", "import ast, sys; ast.parse(sys.stdin.read())"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run python3 (the render tests parse the generated smoke check with it)");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{path} is not Python: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains('\t') && !text.contains(" \n"),
        "{path} has tabs or trailing spaces"
    );
}

fn assert_invariants(inputs: &Inputs, tree: &Tree) {
    let again = support::compile(inputs);
    assert_eq!(tree, &again, "rendering twice gave different bytes");
    for (path, text) in &tree.files {
        if path == "README.md" {
            assert!(
                text.starts_with(tfgen::vfs::MD_HEADER_MARK),
                "{path} lacks the generated header"
            );
            continue;
        }
        assert!(text.starts_with(HEADER_MARK), "{path} lacks the generated header");
        assert!(
            text.contains(&inputs.env.name),
            "{path}'s header does not name its spec"
        );
        if path.ends_with(".py") {
            assert_python_parses(path, text);
            continue;
        }
        hcl::parse(text).unwrap_or_else(|e| panic!("{path} does not parse: {e}"));
        assert_eq!(&format_hcl(text), text, "{path} is not in canonical format");
        assert!(
            !text.contains('\t') && !text.contains(" \n"),
            "{path} has tabs or trailing spaces"
        );
    }
    let problems = interface_problems(tree);
    assert!(
        problems.is_empty(),
        "module calls and modules disagree:\n{}",
        problems.join("\n")
    );
}

/// Every module call against the module it calls: each argument it passes is a declared variable there,
/// and each variable without a default is passed. (Terraform's `validate` says the same, in the slow
/// suites; this keeps the edit-test loop from missing it.)
fn interface_problems(tree: &Tree) -> Vec<String> {
    use std::collections::{BTreeMap, BTreeSet};
    let label = |b: &hcl::Block, i: usize| b.labels().get(i).map(|l| l.as_str().to_string()).unwrap_or_default();
    // Module directory → its variables (name → has a default) and its module calls.
    let mut variables: BTreeMap<String, BTreeMap<String, bool>> = BTreeMap::new();
    let mut calls: Vec<(String, hcl::Block)> = Vec::new();
    for (path, text) in tree.files.iter().filter(|(p, _)| p.ends_with(".tf")) {
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d).to_string();
        let body: hcl::Body = hcl::parse(text).unwrap();
        for block in body.into_blocks() {
            match block.identifier() {
                "variable" => {
                    let has_default = block.body().attributes().any(|a| a.key() == "default");
                    variables
                        .entry(dir.clone())
                        .or_default()
                        .insert(label(&block, 0), has_default);
                }
                "module" => calls.push((dir.clone(), block)),
                _ => {}
            }
        }
    }
    let mut problems = Vec::new();
    for (dir, call) in calls {
        let name = label(&call, 0);
        let Some(hcl::Expression::String(source)) = call
            .body()
            .attributes()
            .find(|a| a.key() == "source")
            .map(hcl::Attribute::expr)
        else {
            problems.push(format!("{dir}: module {name} has no literal source"));
            continue;
        };
        // Resolve `./x` and `../x` against the calling module's directory.
        let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
        for part in source.split('/') {
            match part {
                "." | "" => {}
                ".." => {
                    parts.pop();
                }
                p => parts.push(p),
            }
        }
        let target = parts.join("/");
        let Some(declared) = variables.get(&target) else {
            problems.push(format!(
                "{dir}: module {name} calls {target}, which declares no variables"
            ));
            continue;
        };
        let meta = ["source", "version", "count", "for_each", "depends_on", "providers"];
        let passed: BTreeSet<&str> = call
            .body()
            .attributes()
            .map(hcl::Attribute::key)
            .filter(|k| !meta.contains(k))
            .collect();
        for arg in &passed {
            if !declared.contains_key(*arg) {
                problems.push(format!(
                    "{dir}: module {name} passes `{arg}`, which {target} does not declare"
                ));
            }
        }
        for (var, has_default) in declared {
            if !has_default && !passed.contains(var.as_str()) {
                problems.push(format!(
                    "{dir}: module {name} does not pass `{var}`, which {target} requires"
                ));
            }
        }
    }
    problems
}

#[test]
fn the_interface_check_finds_a_mismatch() {
    let tree = support::compile(&support::inputs("dev"));
    assert_eq!(interface_problems(&tree), Vec::<String>::new());
    let mut broken = tree.clone();
    let vars = broken.get("modules/kms/variables.tf").unwrap().to_string();
    let removed = vars.replacen("variable \"name_prefix\"", "variable \"renamed_prefix\"", 1);
    assert_ne!(vars, removed, "modules/kms/variables.tf has no name_prefix variable");
    broken.insert("modules/kms/variables.tf", removed);
    let problems = interface_problems(&broken);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("passes `name_prefix`, which modules/kms does not declare")),
        "{problems:#?}"
    );
}

#[test]
fn fixtures_render_as_snapshotted() {
    insta::glob!("fixtures/valid/*.toml", |path| {
        let inputs = fixture_inputs(path);
        let tree = support::compile(&inputs);
        assert_invariants(&inputs, &tree);
        insta::assert_snapshot!(snapshot_text(&tree));
    });
}

#[test]
fn committed_environments_satisfy_the_invariants() {
    for env in ["dev", "prod"] {
        let inputs = support::inputs(env);
        let tree = support::compile(&inputs);
        assert_invariants(&inputs, &tree);
    }
}

#[test]
fn committed_trees_are_up_to_date() {
    for env in ["dev", "prod"] {
        let tree = support::compile(&support::inputs(env));
        let on_disk = Tree::read_generated(&support::root().join("generated").join(env)).unwrap();
        let d = tfgen::diff::diff(&on_disk, &tree, env).unwrap();
        assert!(
            d.is_empty(),
            "generated/{env} is stale; run `cargo run -- render {env}`:\n{}",
            tfgen::diff::render_stat(&d)
        );
    }
}

#[test]
fn bedrock_model_id_override_is_recorded() {
    let mut inputs = support::inputs("dev");
    inputs.overrides.bedrock_model_id = Some("eu.anthropic.claude-3-haiku-20240307-v1:0".into());
    let tree = support::compile(&inputs);
    let main = tree.get("main.tf").unwrap();
    assert!(
        main.contains(r#"bedrock_model_id = "eu.anthropic.claude-3-haiku-20240307-v1:0""#),
        "{main}"
    );
    assert!(main.contains(r#"bedrock_model_source = "env_var""#));
    let default = support::compile(&support::inputs("dev"));
    assert!(
        default
            .get("main.tf")
            .unwrap()
            .contains(r#"bedrock_model_source = "default""#)
    );
}

#[test]
fn region_picks_the_inference_profile() {
    for (region, prefix) in [("us-west-2", "us"), ("eu-north-1", "eu"), ("ap-northeast-1", "jp")] {
        let mut inputs = support::inputs("dev");
        let text = inputs
            .env
            .text
            .replace("region = \"eu-west-1\"", &format!("region = \"{region}\""));
        inputs = Inputs::from_text("dev", &text, &inputs.agents.text, Overrides::default());
        let main = support::compile(&inputs).files["main.tf"].clone();
        assert!(
            main.contains(&format!("\"{prefix}.anthropic.claude-sonnet-4-5-20250929-v1:0\"")),
            "{region}: {main}"
        );
    }
}

#[test]
fn adding_an_agent_is_one_entry() {
    let inputs = support::inputs("dev");
    let agents = format!(
        "{}\n[[agent]]\nname = \"billing\"\nport = 8005\npaths = [\"/billing/*\"]\n",
        inputs.agents.text
    );
    let inputs = Inputs::from_text("dev", &inputs.env.text, &agents, Overrides::default());
    let tree = support::compile(&inputs);
    let main = tree.get("main.tf").unwrap();
    for name in [
        "dev-billing-cluster",
        "dev-billing-service",
        "dev-billing-tg",
        "dev/billing-agent",
        "/aws/ecs/dev/billing",
    ] {
        assert!(main.contains(name), "missing {name}");
    }
}

/// The cost options reach the Terraform: Spot through the service's capacity provider strategy (with
/// FARGATE_SPOT registered on every cluster), ARM64 in the task definition, and the VPC endpoints.
#[test]
fn cost_options_reach_the_terraform() {
    let path = support::root().join("tests/fixtures/valid/spot.toml");
    let tree = support::compile(&fixture_inputs(&path));
    let main = tree.get("main.tf").unwrap();
    assert_eq!(
        main.matches(r#"capacity_strategy = [{ capacity_provider = "FARGATE_SPOT", base = 0, weight = 1 }]"#)
            .count(),
        4,
        "{main}"
    );
    assert_eq!(main.matches("capacity_strategy = []").count(), 1, "{main}");
    assert_eq!(main.matches("cpu_architecture  = \"ARM64\"").count(), 1, "{main}");
    assert!(main.contains("interface_endpoints  = [\"ecr.api\", \"ecr.dkr\", \"logs\", \"secretsmanager\", \"bedrock-runtime\", \"rds-data\"]"));
    let ecs = tree.get("modules/ecs/main.tf").unwrap();
    assert!(ecs.contains("capacity_providers = [\"FARGATE\", \"FARGATE_SPOT\"]"));
    assert!(
        ecs.contains("dynamic \"capacity_provider_strategy\"")
            && ecs.contains("cpu_architecture        = var.cpu_architecture")
    );
    let endpoints = tree.get("modules/networking/endpoints.tf").unwrap();
    assert!(
        endpoints.contains("vpc_endpoint_type   = \"Interface\"")
            && endpoints.contains("vpc_endpoint_type = \"Gateway\"")
    );
    // A base of on-demand tasks with Spot above it, on ARM64 (live's personalization: 1 on-demand, then half).
    let live = support::compile(&fixture_inputs(&support::root().join("tests/fixtures/valid/live.toml")));
    let main = live.get("main.tf").unwrap();
    let strategy = r#"capacity_strategy = [{ capacity_provider = "FARGATE", base = 1, weight = 1 }, { capacity_provider = "FARGATE_SPOT", base = 0, weight = 1 }]
      cpu_architecture  = "ARM64""#;
    assert_eq!(main.matches(strategy).count(), 1, "{main}");
    assert!(ecs.contains(r#"launch_type      = length(var.capacity_strategy) == 0 ? "FARGATE" : null"#));

    // Without the options, nothing asks for Spot, ARM64 or endpoints.
    let plain = support::compile(&support::valid_fixture("mini"));
    let main = plain.get("main.tf").unwrap();
    assert!(
        !main.contains(r#"capacity_provider = "FARGATE_SPOT""#)
            && !main.contains("ARM64")
            && main.contains("interface_endpoints  = []")
    );
}
