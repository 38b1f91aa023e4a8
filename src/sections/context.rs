//! The checking context every section shares: where each spec file is, and the diagnostics found so far.
//!
//! It turns a spanned value and a message into a located [`Diagnostic`]; it decides nothing about values.

use std::ops::{Range, RangeInclusive};
use std::sync::Arc;

use crate::diag::{Code, Diagnostic, Diagnostics, Location, SourceFile, did_you_mean};
use crate::spec::Spanned;

/// Which spec file a spanned value lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecFile {
    /// `environments/<env>.toml`
    Env,
    /// `environments/agents.toml`
    Agents,
}

/// Collects every diagnostic of one check, located in the spec files.
#[derive(Debug)]
pub struct Checker {
    env_file: Arc<SourceFile>,
    agents_file: Arc<SourceFile>,
    diags: Diagnostics,
}

impl Checker {
    pub fn new(env_file: &Arc<SourceFile>, agents_file: &Arc<SourceFile>) -> Self {
        Self {
            env_file: Arc::clone(env_file),
            agents_file: Arc::clone(agents_file),
            diags: Diagnostics::default(),
        }
    }

    /// The environment file's display name, for help lines.
    pub fn env_file_name(&self) -> &str {
        &self.env_file.name
    }

    /// The agents file's display name, for help lines.
    pub fn agents_file_name(&self) -> &str {
        &self.agents_file.name
    }

    /// The location of a byte range of `file`.
    pub fn at_span(&self, file: SpecFile, span: Range<usize>) -> Location {
        let f = match file {
            SpecFile::Env => &self.env_file,
            SpecFile::Agents => &self.agents_file,
        };
        Location::new(f, span)
    }

    /// The location of a value written in `file`.
    pub fn at<T>(&self, file: SpecFile, v: &Spanned<T>) -> Location {
        self.at_span(file, v.span())
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diags.push(diagnostic);
    }

    /// An error pointing at `v`.
    pub fn error<T>(
        &mut self,
        code: impl Into<Code>,
        file: SpecFile,
        v: &Spanned<T>,
        summary: impl Into<String>,
        help: impl Into<String>,
    ) {
        let d = Diagnostic::error(code, summary, Some(self.at(file, v))).with_help(help);
        self.diags.push(d);
    }

    /// A duplicate: the error points at the `second` place, and a note names the `first`.
    #[allow(clippy::too_many_arguments)]
    pub fn duplicate<T>(
        &mut self,
        code: impl Into<Code>,
        file: SpecFile,
        second: &Spanned<T>,
        first: &Spanned<T>,
        summary: impl Into<String>,
        note: impl Into<String>,
        help: impl Into<String>,
    ) {
        let d = Diagnostic::error(code, summary, Some(self.at(file, second)))
            .with_related(self.at(file, first), note)
            .with_help(help);
        self.diags.push(d);
    }

    /// A whole number of the environment file in `range`, or `default` when absent.
    pub fn count(
        &mut self,
        code: impl Into<Code>,
        v: Option<&Spanned<i64>>,
        default: u32,
        range: RangeInclusive<i64>,
        label: &str,
        help: &str,
    ) -> Option<u32> {
        match v {
            None => Some(default),
            Some(n) if range.contains(n.get_ref()) => u32::try_from(*n.get_ref()).ok(),
            Some(n) => {
                self.error(
                    code,
                    SpecFile::Env,
                    n,
                    format!("{label} {} is outside {}-{}", n.get_ref(), range.start(), range.end()),
                    help,
                );
                None
            }
        }
    }

    /// Whether an error was found so far.
    pub fn has_errors(&self) -> bool {
        self.diags.has_errors()
    }

    /// Every diagnostic found, errors first, in source order.
    pub fn finish(self) -> Diagnostics {
        self.diags.sorted()
    }
}

/// "did you mean" help for `word` among `choices`, else `fallback`.
pub fn suggest<'a>(word: &str, choices: impl IntoIterator<Item = &'a str>, fallback: &str) -> String {
    match did_you_mean(word, choices) {
        Some(best) => format!("did you mean `{best}`?"),
        None if fallback.is_empty() => String::new(),
        None => fallback.to_string(),
    }
}
