//! Every spec rule has a fixture under `fixtures/invalid/`; each fixture's diagnostics are
//! snapshotted exactly as a user sees them (file:line:column, the line, a caret, a help line).
//!
//! A fixture is an environment spec; text after a `# --- agents.toml ---` line replaces the shared
//! agents file. Every fixture is checked as the environment `test`.

mod support;

use tfgen::diag::Style;
use tfgen::load::{Inputs, Overrides};

const AGENTS_MARK: &str = "# --- agents.toml ---\n";

fn fixture(path: &std::path::Path) -> Inputs {
    let text = std::fs::read_to_string(path).unwrap();
    let shared = std::fs::read_to_string(support::root().join("environments/agents.toml")).unwrap();
    let (env, agents) = match text.split_once(AGENTS_MARK) {
        Some((env, agents)) => (env.to_string(), agents.to_string()),
        None => (text, shared),
    };
    Inputs::from_text("test", &env, &agents, Overrides::default())
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
