//! Mutations of the committed trees: each statement a needed access depends on, and each service of the
//! environment key's `via_services`, deleted in a copy of the tree; `tfgen access` must then report exactly
//! the accesses that depend on it (every one of them, and no other).

mod support;

use std::collections::{BTreeMap, BTreeSet};

use tfgen::access::policy::Kind;
use tfgen::access::{self};
use tfgen::vfs::Tree;

fn committed(env: &str) -> (tfgen::model::Model, Tree) {
    let inputs = support::inputs(env);
    let model = tfgen::compile(&inputs).expect("the shipped spec compiles").model;
    let tree = Tree::read_terraform(&support::root().join("generated").join(env)).unwrap();
    (model, tree)
}

/// A flow, as the mutation test names it.
fn key(c: &access::Checked) -> String {
    format!(
        "{} | {} {} on {}",
        c.flow.purpose, c.flow.who, c.flow.action, c.resource
    )
}

/// The line range of the block (or list element) that encloses line `at`: up to the nearest opener
/// indented less, through its closing line; a `dynamic` block's `content` takes the whole `dynamic`.
fn enclosing(lines: &[&str], at: usize) -> (usize, usize) {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut start = at;
    let mut depth = indent(lines[at]);
    loop {
        start -= 1;
        let l = lines[start];
        if l.trim_end().ends_with('{') && indent(l) < depth {
            if l.trim_start().starts_with("content") {
                depth = indent(l);
                continue;
            }
            break;
        }
    }
    let open = indent(lines[start]);
    let mut end = start + 1;
    while !(indent(lines[end]) == open && lines[end].trim_start().starts_with('}')) {
        end += 1;
    }
    (start, end)
}

/// The tree with the statement whose Sid is `sid` deleted from the document `doc` (`data.T.N`) of `file`
/// (or, where the Sid is data, from the root module that passes it). `None` when the Sid is not written
/// literally anywhere.
fn without_statement(tree: &Tree, file: &str, doc: &str, sid: &str) -> Option<Tree> {
    let literal = format!("\"{sid}\"");
    let header = match doc.split('.').collect::<Vec<_>>().as_slice() {
        ["data", t, n] => format!("data \"{t}\" \"{n}\" {{"),
        _ => String::new(),
    };
    for path in [file, "main.tf"] {
        let text = tree.get(path)?;
        let lines: Vec<&str> = text.lines().collect();
        let from = if path == file {
            lines.iter().position(|l| l.starts_with(&header)).unwrap_or(0)
        } else {
            0
        };
        let Some(at) = lines
            .iter()
            .skip(from)
            .position(|l| {
                let t = l.trim_start();
                t.starts_with("sid") && t.contains(&literal)
                    || t.starts_with('{') && t.contains(&format!("sid = {literal}"))
            })
            .map(|i| i + from)
        else {
            continue;
        };
        let (start, end) = if lines[at].trim_start().starts_with('{') {
            (at, at)
        } else {
            enclosing(&lines, at)
        };
        let mut kept: Vec<&str> = lines[..start].to_vec();
        kept.extend(&lines[end + 1..]);
        let mut out = tree.clone();
        out.insert(path, kept.join("\n") + "\n");
        return Some(out);
    }
    None
}

/// Deletes each statement and condition some needed access depends on, and each `via_services` entry of
/// the environment key, in a copy of the committed tree; `tfgen access` must then report exactly the flows
/// that depend on it (every one of them, and no other).
#[test]
fn deleting_what_an_access_depends_on_fails_exactly_the_accesses_that_depend_on_it() {
    for env in ["dev", "prod"] {
        let (model, tree) = committed(env);
        let base = access::check(&model, &tree).unwrap();
        assert!(base.passed(), "{env}");
        // (file, document, Sid) → the flows for which it is the only allowing statement of its kind.
        let mut depends: BTreeMap<(String, String, String), BTreeSet<String>> = BTreeMap::new();
        for c in base
            .flows
            .iter()
            .filter(|c| c.flow.expect == access::flows::Expect::Allow)
        {
            let mut by_side: BTreeMap<bool, BTreeSet<(String, String, String)>> = BTreeMap::new();
            for cited in &c.decision.because {
                let side = cited.source.kind == Kind::Identity;
                let sid = cited.sid.clone().unwrap_or_default();
                let doc = cited.source.policy.clone();
                by_side
                    .entry(side)
                    .or_default()
                    .insert((cited.source.file.clone(), doc, sid));
            }
            for statements in by_side.values().filter(|s| s.len() == 1) {
                let only = statements.iter().next().unwrap().clone();
                depends.entry(only).or_default().insert(key(c));
            }
        }
        let mut mutated = 0;
        for ((file, doc, sid), flows) in &depends {
            let Some(copy) = without_statement(&tree, file, doc, sid) else {
                panic!("{env}: statement {sid} of {file} is not written literally");
            };
            let report = access::check(&model, &copy).unwrap();
            let failed: BTreeSet<String> = report.failures().map(key).collect();
            assert_eq!(&failed, flows, "{env}: deleting statement {sid} of {file}");
            mutated += 1;
        }
        // The key's services, one at a time: the accesses through that service that only statements with a
        // kms:ViaService condition allow (and only they) fail.
        let kms = "modules/kms/main.tf";
        let world = tfgen::access::world::World::read(&tree).unwrap();
        let via_statements: BTreeSet<(String, Option<String>)> = world
            .policies
            .iter()
            .filter(|p| p.source.file == kms)
            .flat_map(|p| p.statements.iter())
            .filter(|st| {
                st.conditions
                    .iter()
                    .any(|c| c.key.eq_ignore_ascii_case("kms:ViaService"))
            })
            .map(|st| (kms.to_string(), st.sid.clone()))
            .collect();
        // The environment's key takes the module's default list of services (`var.services`).
        let vars = "modules/kms/variables.tf";
        let text = tree.get(vars).unwrap();
        let list = text
            .lines()
            .find(|l| l.trim_start().starts_with("default") && l.contains("\"secretsmanager\""))
            .unwrap();
        let services: Vec<&str> = list
            .split('[')
            .nth(1)
            .unwrap()
            .split(']')
            .next()
            .unwrap()
            .split(", ")
            .collect();
        assert!(services.len() >= 5, "{list}");
        for service in &services {
            let name = service.trim_matches('"');
            let shorter: Vec<&str> = services.iter().copied().filter(|s| s != service).collect();
            let mut copy = tree.clone();
            let edited = list.replace(&services.join(", "), &shorter.join(", "));
            copy.insert(vars, text.replace(list, &edited));
            let report = access::check(&model, &copy).unwrap();
            let failed: BTreeSet<String> = report.failures().map(key).collect();
            let via = format!(
                "{name}.{}.amazonaws.com",
                base.flows
                    .iter()
                    .find_map(|c| c.flow.context.get("aws:requestedregion"))
                    .unwrap()[0]
            );
            let want: BTreeSet<String> = base
                .flows
                .iter()
                .filter(|c| c.flow.context.get("kms:viaservice").is_some_and(|v| v.contains(&via)))
                // Only the environment's key takes the default list; the DR region's names its own.
                .filter(|c| key(c).contains("<module.kms.aws_kms_key.this>"))
                .filter(|c| {
                    let key_side: Vec<_> = c
                        .decision
                        .because
                        .iter()
                        .filter(|b| b.source.kind == Kind::Key)
                        .collect();
                    !key_side.is_empty()
                        && key_side
                            .iter()
                            .all(|b| via_statements.contains(&(b.source.file.clone(), b.sid.clone())))
                })
                .map(key)
                .collect();
            assert!(!want.is_empty(), "{env}: no access goes through {name}");
            assert_eq!(failed, want, "{env}: removing {name} from via_services");
            mutated += 1;
        }
        assert!(mutated >= 25, "{env}: only {mutated} mutations");
        eprintln!("{env}: {mutated} mutations, each failing exactly its dependent accesses");
    }
}
