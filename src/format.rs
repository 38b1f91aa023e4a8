//! Format stage: makes rendered HCL byte-identical to what `terraform fmt` would print, then proves it
//! parses. It does not change meaning: only indentation, `=` alignment, trailing space and blank lines.
//!
//! hcl-rs can print HCL but never aligns `=` like `terraform fmt`, and it drops comments. So this pass
//! follows the rules of hclwrite (the formatter behind `terraform fmt`) on the rendered text itself:
//! indentation is two spaces per open bracket level, counted per line; consecutive lines whose first `=`
//! closes a whole single-line value form a group whose `=` signs line up; any other line (blank,
//! comment, block header, a value that opens a bracket) ends the group.

use anyhow::{Context as _, Result};

use crate::vfs::Tree;

/// Formats every rendered `.tf` file of a tree (and, in debug builds, checks that it still parses). Files copied verbatim
/// from static templates are left as they are (the render tests hold them to the same standard).
pub fn format_tree(tree: Tree) -> Result<Tree> {
    let mut out = Tree {
        verbatim: tree.verbatim.clone(),
        ..Tree::default()
    };
    for (path, text) in tree.files {
        let rendered = !tree.verbatim.contains(&path);
        let text = if rendered && std::path::Path::new(&path).extension().is_some_and(|e| e == "tf") {
            let formatted = format_hcl(&text);
            // A template bug must never reach a user's disk as HCL that does not parse. Debug builds (every
            // test run) parse each rendered file here; release builds rely on those tests, and on the
            // property test that parses the output of 10,000 random specs, because parsing would cost
            // more than the whole rest of a render.
            if cfg!(debug_assertions) {
                hcl::parse(&formatted)
                    .with_context(|| format!("tfgen produced HCL that does not parse in {path}:\n{formatted}"))?;
            }
            formatted
        } else {
            text
        };
        out.files.insert(path, text);
    }
    Ok(out)
}

/// What one line holds, as far as formatting is concerned.
#[derive(Debug, Default)]
struct Line {
    /// The line without its indentation and trailing space.
    text: String,
    /// The line is inside a heredoc or block comment: left exactly as it is.
    verbatim: bool,
    /// Net change in bracket depth over the line.
    net: i32,
    /// Byte offset (in `text`) of an `=` that assigns a complete single-line value.
    assign: Option<usize>,
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    /// Inside a quoted string.
    Str,
    /// Inside `${ … }` or `%{ … }` in a string; the number counts open braces.
    Interp(i32),
}

/// Formats one HCL file the way `terraform fmt` does (for the constructs tfgen emits).
pub fn format_hcl(src: &str) -> String {
    let lines = scan(src);
    let indents = indent(&lines);
    let pads = align(&lines, &indents);
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    for ((line, ind), pad) in lines.iter().zip(&indents).zip(&pads) {
        if line.verbatim {
            out.push(line.text.clone());
            continue;
        }
        if line.text.is_empty() {
            out.push(String::new());
            continue;
        }
        let mut s = " ".repeat(*ind);
        match (line.assign, pad) {
            (Some(at), Some(pad)) => {
                s.push_str(line.text[..at].trim_end());
                s.push_str(&" ".repeat(*pad));
                s.push('=');
                let rest = line.text[at + 1..].trim_start();
                if !rest.is_empty() {
                    s.push(' ');
                    s.push_str(rest);
                }
            }
            _ => s.push_str(&line.text),
        }
        out.push(s);
    }
    tidy_blank_lines(&out)
}

/// Splits into lines and classifies each, tracking strings, heredocs and comments across lines.
fn scan(src: &str) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut heredoc: Option<String> = None;
    let mut block_comment = false;
    for raw in src.lines() {
        if let Some(marker) = &heredoc {
            if raw.trim() == marker {
                heredoc = None;
                lines.push(Line {
                    text: raw.trim().to_string(),
                    ..Line::default()
                });
            } else {
                lines.push(Line {
                    text: raw.to_string(),
                    verbatim: true,
                    ..Line::default()
                });
            }
            continue;
        }
        if block_comment {
            block_comment = !raw.contains("*/");
            lines.push(Line {
                text: raw.to_string(),
                verbatim: true,
                ..Line::default()
            });
            continue;
        }
        let text = raw.trim().to_string();
        let (net, eq, net_after_eq, opens_heredoc, opens_comment) = scan_line(&text);
        let assign = eq.filter(|&at| at > 0 && net_after_eq == 0 && opens_heredoc.is_none());
        heredoc = opens_heredoc;
        block_comment = opens_comment;
        lines.push(Line {
            text,
            verbatim: false,
            net,
            assign,
        });
    }
    lines
}

/// Returns (net brackets, first `=` offset, net brackets from that `=` on, heredoc marker, unclosed `/*`).
fn scan_line(text: &str) -> (i32, Option<usize>, i32, Option<String>, bool) {
    let bytes = text.as_bytes();
    let mut stack: Vec<Ctx> = Vec::new();
    let (mut net, mut eq, mut after) = (0, None, 0);
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        match stack.last().copied() {
            Some(Ctx::Str) => match c {
                b'\\' => i += 1,
                b'"' => {
                    stack.pop();
                }
                b'$' | b'%' if next == Some(b'{') => {
                    if bytes.get(i.wrapping_sub(1)) == Some(&c) && i > 0 {
                        // `$${` / `%%{` are escapes, not interpolation.
                    } else {
                        stack.push(Ctx::Interp(1));
                        i += 1;
                    }
                }
                _ => {}
            },
            ctx => {
                let in_interp = matches!(ctx, Some(Ctx::Interp(_)));
                match c {
                    b'"' => stack.push(Ctx::Str),
                    b'#' => break,
                    b'/' if next == Some(b'/') => break,
                    b'/' if next == Some(b'*') => match text[i + 2..].find("*/") {
                        Some(end) => i += end + 3,
                        None => return (net, eq, after, None, true),
                    },
                    b'{' | b'[' | b'(' => {
                        if let Some(Ctx::Interp(d)) = stack.last_mut() {
                            if c == b'{' {
                                *d += 1;
                            }
                        } else {
                            net += 1;
                            after += 1;
                        }
                    }
                    b'}' | b']' | b')' => {
                        if let Some(Ctx::Interp(d)) = stack.last_mut() {
                            if c == b'}' {
                                *d -= 1;
                                if *d == 0 {
                                    stack.pop();
                                }
                            }
                        } else {
                            net -= 1;
                            after -= 1;
                        }
                    }
                    b'<' if next == Some(b'<') && !in_interp => {
                        let rest = text[i + 2..].trim_start_matches('-');
                        let marker: String = rest
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                            .collect();
                        if !marker.is_empty() {
                            return (net, eq, after, Some(marker), false);
                        }
                    }
                    b'=' if !in_interp && eq.is_none() => {
                        let prev = if i > 0 { bytes[i - 1] } else { b' ' };
                        let is_op = matches!(next, Some(b'=' | b'>')) || matches!(prev, b'=' | b'!' | b'<' | b'>');
                        if !is_op {
                            eq = Some(i);
                            after = 0;
                        }
                    }
                    _ => {}
                }
            }
        }
        i += 1;
    }
    (net, eq, after, None, false)
}

/// Indentation per line, with hclwrite's stack of "how many brackets did this indent open".
fn indent(lines: &[Line]) -> Vec<usize> {
    let mut stack: Vec<i32> = Vec::new();
    lines
        .iter()
        .map(|line| {
            if line.verbatim || line.text.is_empty() {
                return 0;
            }
            if line.net > 0 {
                let ind = 2 * stack.len();
                stack.push(line.net);
                ind
            } else {
                let mut closed = -line.net;
                while closed > 0 {
                    let Some(top) = stack.last_mut() else { break };
                    if closed >= *top {
                        closed -= *top;
                        stack.pop();
                    } else {
                        *top -= closed;
                        closed = 0;
                    }
                }
                2 * stack.len()
            }
        })
        .collect()
}

/// Spaces before each aligned `=`: groups are runs of consecutive assigning lines.
fn align(lines: &[Line], indents: &[usize]) -> Vec<Option<usize>> {
    let mut pads = vec![None; lines.len()];
    let mut start = 0;
    for i in 0..=lines.len() {
        let in_group = lines.get(i).is_some_and(|l| !l.verbatim && l.assign.is_some());
        if in_group {
            continue;
        }
        let group = start..i;
        let width = |j: usize| indents[j] + lines[j].text[..lines[j].assign.unwrap_or(0)].trim_end().chars().count();
        if let Some(max) = group.clone().map(width).max() {
            for j in group {
                pads[j] = Some(max - width(j) + 1);
            }
        }
        start = i + 1;
    }
    pads
}

/// One blank line at most; none at the start or end of a file, or right inside brackets.
fn tidy_blank_lines(lines: &[String]) -> String {
    let mut out: Vec<&str> = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if line.is_empty() {
            let prev = out.last().map(|l| l.trim_end());
            let next = lines[i + 1..].iter().find(|l| !l.is_empty()).map(|l| l.trim_start());
            let after_open = prev.is_none_or(|p| p.is_empty() || p.ends_with('{') || p.ends_with('['));
            let before_close = next.is_none_or(|n| n.starts_with('}') || n.starts_with(']'));
            if after_open || before_close {
                continue;
            }
        }
        out.push(line);
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::format_hcl;

    #[test]
    fn aligns_groups_and_indents() {
        let src = "resource \"a\" \"b\" {\nname = \"x\"\nlonger_name = 1\ntags = {\nA = \"1\"\nBbb = \"2\"\n}\n\n\nafter = true\n}\n";
        let want = "resource \"a\" \"b\" {\n  name        = \"x\"\n  longer_name = 1\n  tags = {\n    A   = \"1\"\n    Bbb = \"2\"\n  }\n\n  after = true\n}\n";
        assert_eq!(format_hcl(src), want);
    }

    #[test]
    fn ignores_equals_and_brackets_inside_strings() {
        let src = "x = \"a = {\"\nyy = \"${join(\",\", [\"=\"])}\"\nz = a == b\n";
        let want = "x  = \"a = {\"\nyy = \"${join(\",\", [\"=\"])}\"\nz  = a == b\n";
        assert_eq!(format_hcl(src), want);
    }

    #[test]
    fn single_line_objects_count_as_single_line_values() {
        let src = "a = { b = 1 }\nccc = [1, 2]\nd = jsonencode({\ne = 1\n})\n";
        let want = "a   = { b = 1 }\nccc = [1, 2]\nd = jsonencode({\n  e = 1\n})\n";
        assert_eq!(format_hcl(src), want);
    }

    #[test]
    fn comments_break_groups() {
        let src = "a = 1\n# note\nbbb = 2\ncc = 3\n";
        assert_eq!(format_hcl(src), "a = 1\n# note\nbbb = 2\ncc  = 3\n");
    }
}
