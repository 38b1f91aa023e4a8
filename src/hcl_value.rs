//! The one way a value enters generated HCL: as a literal (quoted and escaped string, number, bool,
//! list, object, `null`). Templates never paste raw text; every `{{ value }}` goes through here.
//!
//! This module only encodes values; it does not decide which values a template gets.

use std::fmt::Write as _;

use minijinja::value::{Value, ValueKind};

/// Encodes a template value as an HCL literal expression.
pub fn encode(value: &Value) -> Result<String, minijinja::Error> {
    let mut out = String::new();
    write_value(&mut out, value)?;
    Ok(out)
}

fn write_value(out: &mut String, value: &Value) -> Result<(), minijinja::Error> {
    match value.kind() {
        ValueKind::Undefined => {
            return Err(minijinja::Error::new(
                minijinja::ErrorKind::UndefinedError,
                "undefined value in HCL output",
            ));
        }
        ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if value.is_true() { "true" } else { "false" }),
        ValueKind::Number => write_number(out, value),
        ValueKind::String => write_string(out, value.as_str().unwrap_or_default()),
        ValueKind::Seq | ValueKind::Iterable => {
            out.push('[');
            for (i, item) in value.try_iter()?.enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, &item)?;
            }
            out.push(']');
        }
        ValueKind::Map => {
            let keys: Vec<Value> = value.try_iter()?.collect();
            if keys.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push_str("{ ");
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let k = key.to_string();
                if is_identifier(&k) {
                    out.push_str(&k);
                } else {
                    write_string(out, &k);
                }
                out.push_str(" = ");
                write_value(out, &value.get_item(key)?)?;
            }
            out.push_str(" }");
        }
        other => {
            return Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                format!("cannot write a {other} value into HCL"),
            ));
        }
    }
    Ok(())
}

fn write_number(out: &mut String, value: &Value) {
    if let Ok(i) = i64::try_from(value.clone()) {
        let _ = write!(out, "{i}");
    } else if let Ok(f) = f64::try_from(value.clone()) {
        if f.fract() == 0.0 && f.abs() < 1e15 {
            #[allow(clippy::cast_possible_truncation)]
            let _ = write!(out, "{}", f as i64);
        } else {
            let _ = write!(out, "{f}");
        }
    }
}

/// A quoted HCL string: escapes quotes, backslashes, control characters and template sequences.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn is_identifier(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !matches!(s, "true" | "false" | "null")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        let v = Value::from("say \"hi\" ${x} %{y} \\ \n");
        assert_eq!(encode(&v).unwrap(), r#""say \"hi\" $${x} %%{y} \\ \n""#);
    }

    #[test]
    fn collections_and_scalars() {
        let v = Value::from(minijinja::value::Serde(
            serde_json::json!({"a-b": [1, 2.5, true, null], "has space": "x"}),
        ));
        assert_eq!(
            encode(&v).unwrap(),
            r#"{ a-b = [1, 2.5, true, null], "has space" = "x" }"#
        );
        assert_eq!(encode(&Value::from(4.0)).unwrap(), "4");
        assert!(encode(&Value::UNDEFINED).is_err());
    }

    #[test]
    fn encoded_strings_parse_back_to_the_same_value() {
        for s in ["plain", "q\"uote", "back\\slash", "tab\there", "é ünïcode", "new\nline"] {
            let text = format!("x = {}\n", encode(&Value::from(s)).unwrap());
            let body: hcl::Body = hcl::from_str(&text).unwrap();
            let attr = body.attributes().next().unwrap();
            assert_eq!(attr.expr(), &hcl::Expression::String(s.to_string()), "{text}");
        }
        for s in ["${interp}", "%{ if x }"] {
            let text = format!("x = {}\n", encode(&Value::from(s)).unwrap());
            assert!(hcl::parse(&text).is_ok(), "{text}");
        }
    }
}
