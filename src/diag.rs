//! Diagnostics: spec problems as data (summary, location, help), and their rendering for a terminal.
//!
//! This module does not decide what is wrong with a spec; [`crate::spec`] and [`crate::sections`] do.

use std::fmt::Write as _;
use std::ops::Range;
use std::sync::Arc;

/// How bad a diagnostic is. Errors stop the pipeline; warnings are printed and rendering goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One source file a diagnostic can point into: its display name and its full text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
}

/// A place in a source file: a byte range, shown as `file:line:column`.
#[derive(Debug, Clone)]
pub struct Location {
    pub file: Arc<SourceFile>,
    pub span: Range<usize>,
}

impl Location {
    pub fn new(file: &Arc<SourceFile>, span: Range<usize>) -> Self {
        Self {
            file: Arc::clone(file),
            span,
        }
    }

    /// One-based line and column (in characters) of the start of the span.
    pub fn line_col(&self) -> (usize, usize) {
        let text = &self.file.text;
        let start = self.span.start.min(text.len());
        let before = &text[..floor_char_boundary(text, start)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (line, col) = self.line_col();
        write!(f, "{}:{line}:{col}", self.file.name)
    }
}

/// Which rule a diagnostic comes from: the module that reports it, and the rule's name there. Internal:
/// never rendered, so output does not depend on it; tests use it to prove that every rule has a fixture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code {
    /// e.g. `tfgen::sections::alb`
    pub module: &'static str,
    /// e.g. `CertificateMalformed`
    pub rule: &'static str,
}

/// Declares a module's diagnostics: `rules! { pub enum Rule { A, B } }` gives the enum, its list of
/// every variant (`Rule::ALL`), and the conversion into a [`Code`] that names the module. Each module that
/// reports diagnostics declares its own, so adding one touches only that module.
macro_rules! rules {
    ($(#[$meta:meta])* $vis:vis enum $ty:ident { $($(#[$doc:meta])* $name:ident,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $ty {
            $($(#[$doc])* $name,)*
        }

        impl $ty {
            /// Every rule of this module.
            pub const ALL: &'static [$ty] = &[$($ty::$name,)*];
        }

        impl From<$ty> for $crate::diag::Code {
            fn from(rule: $ty) -> Self {
                let rule = match rule {
                    $($ty::$name => stringify!($name),)*
                };
                $crate::diag::Code {
                    module: module_path!(),
                    rule,
                }
            }
        }
    };
}
pub(crate) use rules;

/// A spec problem: what is wrong, where, and how to fix it.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// The rule that found it (not shown to users).
    pub code: Code,
    pub severity: Severity,
    pub summary: String,
    pub location: Option<Location>,
    pub help: Option<String>,
    /// A second place that explains the first, e.g. where a duplicate was first defined.
    pub related: Option<(Location, String)>,
}

impl Diagnostic {
    pub fn error(code: impl Into<Code>, summary: impl Into<String>, location: Option<Location>) -> Self {
        Self {
            code: code.into(),
            severity: Severity::Error,
            summary: summary.into(),
            location,
            help: None,
            related: None,
        }
    }

    pub fn warning(code: impl Into<Code>, summary: impl Into<String>, location: Option<Location>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, summary, location)
        }
    }

    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    #[must_use]
    pub fn with_related(mut self, location: Location, note: impl Into<String>) -> Self {
        self.related = Some((location, note.into()));
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Every diagnostic of one run, collected before failing once.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// Leaves out the diagnostics located in a file named `shared` (such as `agents.toml`, which every
    /// environment reads) that are recorded in `seen`, and records the rest, so that a run over several
    /// environments shows each problem of a shared file once.
    #[must_use]
    pub fn without_repeats(self, seen: &mut std::collections::BTreeSet<String>, shared: &str) -> Self {
        Self(
            self.0
                .into_iter()
                .filter(|d| {
                    let in_shared = d.location.as_ref().is_some_and(|l| {
                        std::path::Path::new(&l.file.name)
                            .file_name()
                            .is_some_and(|n| n == shared)
                    });
                    !in_shared || seen.insert(render_one(d, Style::Plain))
                })
                .collect(),
        )
    }

    #[must_use]
    /// Errors first, then by file and position, so that output is stable and reads top to bottom.
    pub fn sorted(mut self) -> Self {
        self.0.sort_by(|a, b| {
            let key = |d: &Diagnostic| d.location.as_ref().map(|l| (l.file.name.clone(), l.span.start));
            a.severity.cmp(&b.severity).then_with(|| key(a).cmp(&key(b)))
        });
        self
    }

    /// Renders every diagnostic, then a one-line tally.
    pub fn render(&self, style: Style) -> String {
        let mut out = String::new();
        for d in &self.0 {
            out.push_str(&render_one(d, style));
            out.push('\n');
        }
        let errors = self.0.iter().filter(|d| d.is_error()).count();
        let warnings = self.0.len() - errors;
        if errors > 0 {
            let _ = writeln!(
                out,
                "{}: {} error{}{}; nothing was written",
                style.paint(Paint::Error, "error"),
                errors,
                plural(errors),
                if warnings > 0 {
                    format!(", {warnings} warning{}", plural(warnings))
                } else {
                    String::new()
                },
            );
        }
        out
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Whether to colour output. Decided at the edge (terminal, `NO_COLOR`), never inside the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Color,
}

#[derive(Clone, Copy)]
enum Paint {
    Error,
    Warning,
    Accent,
    Help,
}

impl Style {
    fn paint(self, paint: Paint, text: &str) -> String {
        if self == Style::Plain {
            return text.to_string();
        }
        let code = match paint {
            Paint::Error => "1;31",
            Paint::Warning => "1;33",
            Paint::Accent => "1;34",
            Paint::Help => "1;36",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

fn render_one(d: &Diagnostic, style: Style) -> String {
    let mut out = String::new();
    let (label, paint) = match d.severity {
        Severity::Error => ("error", Paint::Error),
        Severity::Warning => ("warning", Paint::Warning),
    };
    let _ = writeln!(out, "{}: {}", style.paint(paint, label), d.summary);
    let pad = " ".repeat(d.location.as_ref().map_or(1, |l| l.line_col().0.to_string().len()));
    if let Some(loc) = &d.location {
        snippet(&mut out, loc, style, paint);
    }
    if let Some((loc, note)) = &d.related {
        let _ = writeln!(out, "{pad} {} {note}: {loc}", style.paint(Paint::Accent, "="));
    }
    if let Some(help) = &d.help {
        let _ = writeln!(out, "{pad} {} {help}", style.paint(Paint::Help, "= help:"));
    }
    out
}

fn snippet(out: &mut String, loc: &Location, style: Style, paint: Paint) {
    let (line_no, col) = loc.line_col();
    let text = &loc.file.text;
    let line = text.lines().nth(line_no - 1).unwrap_or("");
    let gutter = line_no.to_string().len();
    let pad = " ".repeat(gutter);
    let bar = style.paint(Paint::Accent, "|");
    let _ = writeln!(out, "{pad}{} {loc}", style.paint(Paint::Accent, "-->"));
    let _ = writeln!(out, "{pad} {bar}");
    let _ = writeln!(out, "{} {bar} {line}", style.paint(Paint::Accent, &line_no.to_string()));
    let line_chars = line.chars().count();
    let start = col.saturating_sub(1).min(line_chars);
    let span_text = text.get(loc.span.clone()).unwrap_or("");
    let first_line_len = span_text.lines().next().map_or(0, |s| s.chars().count());
    let width = first_line_len.clamp(1, (line_chars - start).max(1));
    let caret = "^".repeat(width);
    let _ = writeln!(out, "{pad} {bar} {}{}", " ".repeat(start), style.paint(paint, &caret));
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The closest candidate to `word`, if any is close enough to be a useful "did you mean".
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    rules! {
        enum Probe {
            Any,
        }
    }

    fn file(name: &str) -> Arc<SourceFile> {
        Arc::new(SourceFile {
            name: name.into(),
            text: "port = 1\n".into(),
        })
    }

    #[test]
    fn problems_in_a_shared_file_are_kept_once_per_run() {
        assert_eq!(Probe::ALL.len(), 1);
        let agents = file("environments/agents.toml");
        let in_agents = Diagnostic::error(Probe::Any, "bad port", Some(Location::new(&agents, 7..8)));
        let per_env = |env: &str| {
            Diagnostics(vec![
                in_agents.clone(),
                Diagnostic::error(
                    Probe::Any,
                    "bad region",
                    Some(Location::new(&file(&format!("environments/{env}.toml")), 0..4)),
                ),
                Diagnostic::error(Probe::Any, "unlocated", None),
            ])
        };
        let mut seen = BTreeSet::new();
        let dev = per_env("dev").without_repeats(&mut seen, "agents.toml");
        let prod = per_env("prod").without_repeats(&mut seen, "agents.toml");
        let summaries = |d: &Diagnostics| d.iter().map(|d| d.summary.clone()).collect::<Vec<_>>();
        assert_eq!(summaries(&dev), ["bad port", "bad region", "unlocated"]);
        assert_eq!(summaries(&prod), ["bad region", "unlocated"]);
        // A different problem at the same place is not a repeat.
        let other = Diagnostics(vec![Diagnostic::error(
            Probe::Any,
            "port taken",
            Some(Location::new(&agents, 7..8)),
        )]);
        assert_eq!(other.without_repeats(&mut seen, "agents.toml").len(), 1);
    }
}
