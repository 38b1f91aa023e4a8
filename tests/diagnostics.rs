//! Every spec rule has a fixture under `fixtures/invalid/`; each fixture's diagnostics are
//! snapshotted exactly as a user sees them (file:line:column, the line, a caret, a help line).
//!
//! A fixture is an environment spec; text after a `# --- agents.toml ---` line replaces the shared
//! agents file. Every fixture is checked as the environment `test`, unless its first line is
//! `# environment: <name>` (the name a spec file's name would give). Text after a
//! `# --- sibling <name>.toml ---` line (up to the next such line, or the agents mark) is another
//! environment's spec in the same repository (a fixture with one holds every spec of its repository).
//! Specs in `fixtures/warnings/`
//! compile, and their warnings are snapshotted the same way.
//!
//! `every_diagnostic_has_a_fixture` fails when a diagnostic the code can report (one of
//! `tfgen::diagnostic_codes()`) is produced by no fixture.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use tfgen::diag::{Code, Diagnostics, Style};
use tfgen::load::{Inputs, Overrides};

const AGENTS_MARK: &str = "# --- agents.toml ---\n";
const ENV_MARK: &str = "# environment: ";
const SIBLING_MARK: &str = "# --- sibling ";

fn fixture(path: &Path) -> Inputs {
    let text = std::fs::read_to_string(path).unwrap();
    let shared = std::fs::read_to_string(support::root().join("environments/agents.toml")).unwrap();
    let env_name = text
        .lines()
        .next()
        .and_then(|line| line.strip_prefix(ENV_MARK))
        .unwrap_or("test")
        .trim()
        .to_string();
    let (env, agents) = match text.split_once(AGENTS_MARK) {
        Some((env, agents)) => (env.to_string(), agents.to_string()),
        None => (text, shared),
    };
    let mut parts = env.split(SIBLING_MARK);
    let env = parts.next().unwrap_or_default();
    let mut inputs = Inputs::from_text(&env_name, env, &agents, Overrides::default());
    for part in parts {
        let (header, sibling) = part.split_once('\n').unwrap_or((part, ""));
        let name = header.trim().trim_end_matches("---").trim().trim_end_matches(".toml");
        inputs = inputs.with_sibling(name, sibling);
        // A fixture with siblings is a whole repository: an environment it does not hold has no spec.
        inputs.siblings_complete = true;
    }
    inputs
}

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(support::root().join("tests/fixtures").join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
}

/// A fixture's diagnostics: the errors of an invalid spec, or the warnings of one that compiles.
fn diagnostics(path: &Path) -> Diagnostics {
    match tfgen::compile(&fixture(path)) {
        Ok(compiled) => compiled.warnings,
        Err(tfgen::CompileError::Spec(d)) => d,
        Err(tfgen::CompileError::Internal(e)) => panic!("internal error on {}: {e:#}", path.display()),
    }
}

#[test]
fn invalid_fixtures_report_located_errors() {
    insta::glob!("fixtures/invalid/*.toml", |path| {
        let inputs = fixture(path);
        let diags = match tfgen::compile(&inputs) {
            Ok(_) => panic!("{} should not compile", path.display()),
            Err(tfgen::CompileError::Spec(d)) => d,
            Err(tfgen::CompileError::Internal(e)) => {
                panic!("internal error on {}: {e:#}", path.display())
            }
        };
        assert!(diags.has_errors());
        for d in diags.iter() {
            assert!(d.help.is_some(), "{}: `{}` has no help line", path.display(), d.summary);
        }
        insta::assert_snapshot!(diags.render(Style::Plain));
    });
}

#[test]
fn warning_fixtures_compile_and_report_located_warnings() {
    insta::glob!("fixtures/warnings/*.toml", |path| {
        let inputs = fixture(path);
        let warnings = match tfgen::compile(&inputs) {
            Ok(compiled) => compiled.warnings,
            Err(tfgen::CompileError::Spec(d)) => {
                panic!("{} should compile:\n{}", path.display(), d.render(Style::Plain))
            }
            Err(tfgen::CompileError::Internal(e)) => panic!("internal error on {}: {e:#}", path.display()),
        };
        assert!(!warnings.is_empty(), "{} has no warning", path.display());
        for d in warnings.iter() {
            assert!(d.help.is_some(), "{}: `{}` has no help line", path.display(), d.summary);
        }
        insta::assert_snapshot!(warnings.render(Style::Plain));
    });
}

#[test]
fn every_diagnostic_has_a_fixture() {
    let mut seen = BTreeSet::new();
    for path in fixtures("invalid").into_iter().chain(fixtures("warnings")) {
        seen.extend(diagnostics(&path).iter().map(|d| d.code));
    }
    let missing: Vec<String> = tfgen::diagnostic_codes()
        .into_iter()
        .filter(|c| !seen.contains(c))
        .map(|c| format!("{}::Rule::{}", c.module, c.rule))
        .collect();
    assert!(
        missing.is_empty(),
        "no fixture under tests/fixtures/invalid or tests/fixtures/warnings reports {missing:?}"
    );
}

/// One code per diagnostic: each rule is reported from exactly one place in its module, so a new
/// diagnostic needs a new rule, and with it a fixture; and every `Rule::…` in `src/` is listed by
/// `tfgen::diagnostic_codes()`, so no module's rules escape the check above.
#[test]
fn every_rule_is_reported_from_one_place() {
    fn sources(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path, text));
            }
        }
    }
    /// The rule names used as `Rule::<name>` in `text`.
    fn uses(text: &str) -> Vec<&str> {
        text.match_indices("Rule::")
            .map(|(i, m)| {
                let rest = &text[i + m.len()..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                &rest[..end]
            })
            .filter(|name| name.starts_with(|c: char| c.is_ascii_uppercase()) && *name != "ALL")
            .collect()
    }
    let src = support::root().join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let codes: Vec<Code> = tfgen::diagnostic_codes();
    for code in &codes {
        let rel = code.module.strip_prefix("tfgen::").unwrap().replace("::", "/");
        let file = [src.join(format!("{rel}.rs")), src.join(rel).join("mod.rs")]
            .into_iter()
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("no source file for {}", code.module));
        let text = std::fs::read_to_string(&file).unwrap();
        let n = uses(&text).iter().filter(|name| **name == code.rule).count();
        assert_eq!(
            n,
            1,
            "`Rule::{}` is reported {n} times in {}; give each diagnostic its own rule",
            code.rule,
            file.display()
        );
    }
    for (path, text) in &files {
        for name in uses(text) {
            assert!(
                codes.iter().any(|c| c.rule == name),
                "{}: `Rule::{name}` is not in tfgen::diagnostic_codes()",
                path.display()
            );
        }
    }
}

#[test]
fn all_problems_are_reported_at_once() {
    let inputs = fixture(&support::root().join("tests/fixtures/invalid/agents-invalid.toml"));
    let Err(tfgen::CompileError::Spec(diags)) = tfgen::compile(&inputs) else {
        panic!("should fail")
    };
    assert!(
        diags.len() >= 8,
        "expected every problem, got {}",
        diags.render(Style::Plain)
    );
}

#[test]
fn duplicates_point_at_the_second_place_and_name_the_first() {
    let inputs = fixture(&support::root().join("tests/fixtures/invalid/agents-invalid.toml"));
    let Err(tfgen::CompileError::Spec(diags)) = tfgen::compile(&inputs) else {
        panic!("should fail")
    };
    let dup = diags
        .iter()
        .find(|d| d.summary == "agent `supervisor` is declared twice")
        .expect("duplicate reported");
    let (second, _) = dup.location.as_ref().unwrap().line_col();
    let (first_loc, note) = dup.related.as_ref().unwrap();
    assert!(second > first_loc.line_col().0, "points at the second declaration");
    assert_eq!(note, "first declared here");
}

#[test]
fn colour_only_when_asked() {
    let inputs = fixture(&support::root().join("tests/fixtures/invalid/region-unknown.toml"));
    let Err(tfgen::CompileError::Spec(diags)) = tfgen::compile(&inputs) else {
        panic!("should fail")
    };
    assert!(!diags.render(Style::Plain).contains('\x1b'));
    assert!(diags.render(Style::Color).contains("\x1b[1;31m"));
}

/// The committed JSON Schemas are the ones tfgen generates from its spec types (`tfgen schema env`).
#[test]
fn committed_schemas_are_generated_from_the_spec_types() {
    use tfgen::keys::Schema;
    for (which, path) in [
        (Schema::Env, tfgen::schema::ENV_SCHEMA_PATH),
        (Schema::Agents, tfgen::schema::AGENTS_SCHEMA_PATH),
    ] {
        let committed = std::fs::read_to_string(support::root().join(path)).unwrap();
        assert_eq!(
            committed,
            tfgen::schema::json_schema_text(which),
            "{path} is stale: run `cargo run -- schema {}` > {path}",
            if which == Schema::Env { "env" } else { "agents" }
        );
        // `tfgen init` writes the same file.
        let scaffolded = tfgen::scaffold::files()
            .into_iter()
            .find(|(p, _)| *p == path)
            .map(|(_, t)| t);
        assert_eq!(
            scaffolded.as_deref(),
            Some(committed.as_str()),
            "init does not write {path}"
        );
    }
}

fn toml_as_json(text: &str) -> serde_json::Value {
    serde_json::to_value(toml::from_str::<toml::Table>(text).unwrap()).unwrap()
}

/// Whether both files of a fixture satisfy the committed schemas, per a real JSON Schema validator.
fn schema_valid(inputs: &Inputs) -> bool {
    let load = |path: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(support::root().join(path)).unwrap()).unwrap()
    };
    let env = jsonschema::validator_for(&load(tfgen::schema::ENV_SCHEMA_PATH)).unwrap();
    let agents = jsonschema::validator_for(&load(tfgen::schema::AGENTS_SCHEMA_PATH)).unwrap();
    env.is_valid(&toml_as_json(&inputs.env.text)) && agents.is_valid(&toml_as_json(&inputs.agents.text))
}

/// Every fixture against the schema: specs that compile (valid, warnings, the shipped and the
/// scaffolded ones) pass; invalid ones fail exactly when tfgen reports a schema-level problem (an
/// unknown key, a missing key, a wrong type) and pass when their problems are values the schema cannot
/// judge (ranges, names, cross-checks). Only TOML syntax errors are left out: they are not documents.
#[test]
fn the_schema_accepts_every_valid_spec_and_rejects_schema_level_problems() {
    let schema_rules: Vec<Code> = vec![
        tfgen::spec::Rule::MissingKey.into(),
        tfgen::spec::Rule::WrongType.into(),
        tfgen::keys::Rule::UnknownKey.into(),
    ];
    let mut rejected = 0;
    for path in fixtures("valid").into_iter().chain(fixtures("warnings")) {
        assert!(schema_valid(&fixture(&path)), "{} fails the schema", path.display());
    }
    for path in fixtures("invalid") {
        let diags = diagnostics(&path);
        if diags.iter().any(|d| d.code == tfgen::spec::Rule::InvalidToml.into()) {
            continue;
        }
        let schema_level = diags.iter().any(|d| schema_rules.contains(&d.code));
        assert_eq!(
            schema_valid(&fixture(&path)),
            !schema_level,
            "{}: the schema and tfgen disagree",
            path.display()
        );
        rejected += usize::from(schema_level);
    }
    assert!(rejected >= 5, "only {rejected} schema-level fixtures");
    let agents = std::fs::read_to_string(support::root().join("environments/agents.toml")).unwrap();
    for env in ["dev", "prod"] {
        let shipped = std::fs::read_to_string(support::root().join(format!("environments/{env}.toml"))).unwrap();
        let scaffolded = tfgen::scaffold::files()
            .into_iter()
            .find(|(p, _)| *p == format!("environments/{env}.toml"))
            .unwrap()
            .1;
        for text in [shipped, scaffolded] {
            assert!(
                text.starts_with("#:schema ../schema/env.schema.json\n"),
                "no #:schema directive"
            );
            let inputs = Inputs::from_text(env, &text, &agents, Overrides::default());
            assert!(schema_valid(&inputs), "environments/{env}.toml fails the schema");
        }
    }
    assert!(agents.starts_with("#:schema ../schema/agents.schema.json\n"));
}

/// The README's spec-error and name-shortening examples are what tfgen prints, and its limit on
/// environment names is tfgen's.
#[test]
fn the_readmes_examples_are_tfgens_output() {
    let readme = std::fs::read_to_string(support::root().join("README.md")).unwrap();
    let block_after = |marker: &str| -> String {
        let rest = &readme[readme.find(marker).unwrap_or_else(|| panic!("README lacks `{marker}`"))..];
        let rest = &rest[rest.find("```text\n").unwrap() + "```text\n".len()..];
        rest[..rest.find("```").unwrap()].to_string()
    };
    let rendered =
        diagnostics(&support::root().join("tests/fixtures/invalid/unknown-keys-and-ranges.toml")).render(Style::Plain);
    let example = block_after("Every problem is reported in one run");
    assert!(rendered.starts_with(&example), "README:\n{example}\ntfgen:\n{rendered}");
    let warning =
        diagnostics(&support::root().join("tests/fixtures/warnings/derived-name-shortened.toml")).render(Style::Plain);
    let example = block_after("### Environment names");
    assert_eq!(warning.lines().next().unwrap(), example.trim_end());
    assert!(readme.contains(&format!(
        "starting with\na letter, at most {} characters",
        tfgen::names::EnvName::MAX_LEN
    )));
}

/// A catch-all pattern declared last is the fallback: every agent before it keeps its requests, so it is
/// accepted (declared before others, `agents-catch-all-and-renames.toml` shows the error).
#[test]
fn a_catch_all_declared_last_is_the_fallback() {
    let env = "region = \"eu-west-1\"\nsizing = \"dev\"\nimage_tag = \"1.0.0\"\n";
    let agents = "[[agent]]\nname = \"supervisor\"\nport = 8000\npaths = [\"/supervisor/*\"]\n\n\
                  [[agent]]\nname = \"orders\"\nport = 8001\npaths = [\"/order/*\"]\n\n\
                  [[agent]]\nname = \"fallback\"\nport = 8002\npaths = [\"/*\"]\n";
    let inputs = Inputs::from_text("test", env, agents, Overrides::default());
    if let Err(diags) = tfgen::validate_spec(&inputs) {
        panic!("{}", diags.render(Style::Plain));
    }
}
