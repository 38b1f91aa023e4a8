//! Ground truth: the real `terraform` with the real AWS provider validates and formats the output.
//! These tests fail (never skip) when Terraform is missing; see `support::terraform`.

mod support;

use support::{compile, inputs, tf, tf_ok, us_east_1_variant, write_tree};
use tfgen::load::Inputs;

fn validate(inputs: &Inputs) {
    let tree = compile(inputs);
    let dir = tempfile::tempdir().unwrap();
    write_tree(&tree, dir.path());
    tf_ok(dir.path(), &["init", "-backend=false", "-input=false", "-no-color"]);
    let out = tf_ok(dir.path(), &["validate", "-no-color"]);
    assert!(out.contains("The configuration is valid"), "{out}");
    // `terraform fmt` must have nothing to change.
    let fmt = tf(dir.path(), &["fmt", "-check", "-recursive", "-list=true", "-no-color"]);
    assert!(
        fmt.status.success(),
        "terraform fmt would change: {}{}",
        String::from_utf8_lossy(&fmt.stdout),
        String::from_utf8_lossy(&fmt.stderr)
    );
}

#[test]
fn dev_is_valid_terraform() {
    validate(&inputs("dev"));
}

#[test]
fn prod_is_valid_terraform() {
    validate(&inputs("prod"));
}

#[test]
fn us_east_1_variant_is_valid_terraform() {
    validate(&us_east_1_variant());
}

/// Spot, ARM64 on one agent and the VPC endpoints, all on at once.
#[test]
fn cost_options_are_valid_terraform() {
    validate(&support::valid_fixture("spot"));
}

/// Three AZs, explicit subnets, an S3 backend and `[account] id` (the provider's `allowed_account_ids`).
#[test]
fn an_environment_pinned_to_its_account_is_valid_terraform() {
    validate(&support::valid_fixture("tokyo"));
}

#[test]
fn the_release_pipeline_is_valid_terraform() {
    validate(&support::valid_fixture(support::PIPELINE_FIXTURE));
}

#[test]
fn committed_trees_are_fmt_clean() {
    for env in ["dev", "prod"] {
        let dir = support::root().join("generated").join(env);
        let out = tf(&dir, &["fmt", "-check", "-recursive", "-no-color"]);
        assert!(
            out.status.success(),
            "terraform fmt -check failed on generated/{env}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn renamed_agent_moved_blocks_are_valid_terraform() {
    let base = inputs("dev");
    let agents = base
        .agents
        .text
        .replace(
            "name = \"troubleshooting\"",
            "name = \"tech-support\"\nrenamed_from = \"troubleshooting\"",
        )
        // The supervisor calls the agent by its new name.
        .replace("\"troubleshooting\"]", "\"tech-support\"]");
    let renamed = Inputs::from_text("dev", &base.env.text, &agents, tfgen::load::Overrides::default());
    let tree = compile(&renamed);
    assert_eq!(
        tfgen::addresses::moved_blocks(&tree).unwrap().len(),
        tfgen::addresses::AGENT_KEYED.len()
    );
    validate(&renamed);
}

/// The paths of a provider schema block's write-only attributes, nested blocks included.
fn write_only(block: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
    if let Some(attrs) = block["attributes"].as_object() {
        for (name, a) in attrs {
            if a["write_only"] == true {
                out.push(format!("{prefix}{name}"));
            }
        }
    }
    if let Some(blocks) = block["block_types"].as_object() {
        for (name, b) in blocks {
            write_only(&b["block"], &format!("{prefix}{name}."), out);
        }
    }
}

/// The force-new table (`tfgen::aws::provider::FORCE_NEW`) names every resource type the generated trees
/// use (dev, prod and every valid fixture, the pipeline's included), and each of its paths exists in the
/// mirrored provider's schema (`terraform providers schema -json`).
#[test]
fn force_new_table_covers_generated_types_and_matches_the_provider_schema() {
    use tfgen::aws::provider::{FORCE_NEW, force_new};
    let mut types = std::collections::BTreeSet::new();
    let mut trees = Vec::new();
    let mut specs = vec![inputs("dev"), inputs("prod")];
    let mut fixtures: Vec<String> = std::fs::read_dir(support::root().join("tests/fixtures/valid"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    fixtures.sort();
    assert!(fixtures.iter().any(|f| f == support::PIPELINE_FIXTURE), "{fixtures:?}");
    specs.extend(fixtures.iter().map(|f| support::valid_fixture(f)));
    for spec in &specs {
        let tree = compile(spec);
        let none = std::collections::BTreeMap::new();
        let nothing = std::collections::BTreeSet::new();
        let instances = tfgen::predict::evaluate(&tree, tfgen::predict::Unknowns::none(&none, &nothing)).unwrap();
        types.extend(instances.into_values().map(|i| i.resource_type));
        trees.push(tree);
    }
    let missing: Vec<&String> = types.iter().filter(|t| force_new(t).is_none()).collect();
    assert!(missing.is_empty(), "add these types to FORCE_NEW: {missing:?}");

    let dir = tempfile::tempdir().unwrap();
    write_tree(&trees[0], dir.path());
    tf_ok(dir.path(), &["init", "-input=false", "-no-color"]);
    let out = tf(dir.path(), &["providers", "schema", "-json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let resources = &schema["provider_schemas"]["registry.terraform.io/hashicorp/aws"]["resource_schemas"];
    let mut unknown = Vec::new();
    for (rtype, paths) in FORCE_NEW {
        let Some(block) = resources.get(rtype).map(|r| &r["block"]) else {
            unknown.push(rtype.to_string());
            continue;
        };
        for path in paths {
            let mut at = block;
            let parts: Vec<&str> = path.split('.').collect();
            for (i, part) in parts.iter().enumerate() {
                if let Some(nested) = at["block_types"].get(part) {
                    at = &nested["block"];
                } else if at["attributes"].get(part).is_some() && i + 1 == parts.len() {
                } else {
                    unknown.push(format!("{rtype}.{path}"));
                    break;
                }
            }
        }
    }
    // So are the arguments and attributes of the recomputed-on-update table.
    for (rtype, args, attrs) in tfgen::aws::provider::RECOMPUTED_ON_UPDATE {
        for name in args.iter().chain(attrs.iter()) {
            if resources[rtype]["block"]["attributes"].get(name).is_none() {
                unknown.push(format!("{rtype}.{name}"));
            }
        }
    }
    assert!(unknown.is_empty(), "not in the provider's schema: {unknown:?}");

    // The write-only table is exactly the schema's `write_only` attributes of those types.
    let mut in_schema = Vec::new();
    for (rtype, _) in FORCE_NEW {
        let mut found = Vec::new();
        write_only(&resources[rtype]["block"], "", &mut found);
        in_schema.extend(found.into_iter().map(|a| format!("{rtype}.{a}")));
    }
    let mut listed: Vec<String> = tfgen::aws::provider::WRITE_ONLY
        .iter()
        .map(|(t, a)| format!("{t}.{a}"))
        .collect();
    in_schema.sort();
    listed.sort();
    assert_eq!(
        listed, in_schema,
        "WRITE_ONLY differs from the provider's write-only attributes"
    );
}

/// Any sensible environment name works with the plan's five agents: `staging`, `qa-eu-west-1` and the
/// longest allowed name render (names over an AWS limit shortened, with a warning naming both), every
/// derived name fits its limit and stays distinct, and the trees pass `terraform validate`.
#[test]
fn other_environment_names_render_and_validate() {
    let dev = inputs("dev");
    let longest = "integration-eu-west1";
    assert_eq!(longest.len(), tfgen::names::EnvName::MAX_LEN);
    for env in ["staging", "qa-eu-west-1", longest] {
        let named = Inputs::from_text(env, &dev.env.text, &dev.agents.text, tfgen::load::Overrides::default());
        let compiled = match tfgen::compile(&named) {
            Ok(c) => c,
            Err(e) => panic!("{env} does not compile: {e:?}"),
        };
        let mut seen = std::collections::BTreeSet::new();
        for agent in &compiled.model.agents {
            for (kind, name) in agent.names.all() {
                assert!(name.len() <= kind.limit(), "{env}: `{name}` exceeds {}", kind.limit());
                assert!(seen.insert(name.to_string()), "{env}: `{name}` is derived twice");
            }
        }
        for (kind, name) in compiled.model.names.all() {
            assert!(name.len() <= kind.limit(), "{env}: `{name}` exceeds {}", kind.limit());
        }
        // Every shortened name is shown, full and short, in a warning.
        let tg = &compiled
            .model
            .agents
            .iter()
            .find(|a| a.name.as_str() == "product-recommendation")
            .unwrap()
            .names
            .target_group;
        let full = format!("{env}-product-recommendation-tg");
        if full.len() > 32 {
            let warned = compiled
                .warnings
                .iter()
                .any(|d| d.summary.contains(&format!("`{full}`")) && d.summary.contains(&format!("`{tg}`")));
            assert!(warned, "{env}: no warning names `{full}` → `{tg}`");
        } else {
            assert_eq!(tg, &full);
        }
        validate(&named);
    }
}
