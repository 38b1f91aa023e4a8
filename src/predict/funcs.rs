//! The Terraform functions the generated modules call, for [`super::eval`].
//!
//! Only the functions the templates use outside of validation blocks are here; an expression calling
//! another one fails to evaluate, and the prediction tests (which evaluate every generated tree) fail.
//! Values unknown until apply are plain marker strings, so these functions stay total on them.

// Every function has the table's signature (the arguments, a Result), whether or not it can fail.
#![allow(clippy::unnecessary_wraps)]

use hcl::Value;
use hcl::eval::{Context, FuncArgs, FuncDef, ParamType};

/// How many arguments a function takes: exactly these, or any number.
#[derive(Clone, Copy)]
enum Arity {
    Fixed(usize),
    Variadic,
}
use Arity::{Fixed, Variadic};

type Function = fn(&[Value]) -> Result<Value, String>;

/// Every supported function: name, arguments (all of any type), implementation. hcl-rs calls them
/// through [`context`]; the evaluator's fast path through [`call`].
static FUNCTIONS: [(&str, Arity, Function); 35] = [
    ("length", Fixed(1), (length)),
    ("range", Variadic, (range)),
    ("distinct", Fixed(1), (distinct)),
    ("slice", Fixed(3), (slice)),
    ("keys", Fixed(1), (keys)),
    ("values", Fixed(1), (values)),
    ("tostring", Fixed(1), (tostring)),
    ("tonumber", Fixed(1), (|a| Ok(a[0].clone()))),
    ("split", Fixed(2), (split)),
    ("substr", Fixed(3), (substr)),
    ("jsonencode", Fixed(1), (jsonencode)),
    ("jsondecode", Fixed(1), (jsondecode)),
    // Digests and encodings: a marker naming the function and its input, equal exactly when the inputs
    // are, which is all a prediction compares.
    (
        "sha256",
        Fixed(1),
        (|a| Ok(Value::from(format!("sha256({})", text(&a[0]))))),
    ),
    (
        "base64sha256",
        Fixed(1),
        (|a| Ok(Value::from(format!("base64sha256({})", text(&a[0]))))),
    ),
    (
        "base64encode",
        Fixed(1),
        (|a| Ok(Value::from(format!("base64encode({})", text(&a[0]))))),
    ),
    ("toset", Fixed(1), (toset)),
    ("sort", Fixed(1), (toset)),
    ("tolist", Fixed(1), (|a| Ok(Value::Array(elements(&a[0]))))),
    ("join", Fixed(2), (join)),
    ("contains", Fixed(2), (contains)),
    ("concat", Variadic, (concat)),
    ("upper", Fixed(1), (|a| Ok(Value::from(text(&a[0]).to_uppercase())))),
    ("lower", Fixed(1), (|a| Ok(Value::from(text(&a[0]).to_lowercase())))),
    (
        "startswith",
        Fixed(2),
        (|a| Ok(Value::Bool(text(&a[0]).starts_with(&text(&a[1]))))),
    ),
    ("setintersection", Variadic, (setintersection)),
    ("lookup", Variadic, (lookup)),
    (
        "alltrue",
        Fixed(1),
        (|a| Ok(Value::Bool(elements(&a[0]).iter().all(|v| *v == Value::Bool(true))))),
    ),
    ("merge", Variadic, (merge)),
    ("flatten", Fixed(1), (flatten)),
    ("one", Fixed(1), (one)),
    ("tomap", Fixed(1), (|a| Ok(a[0].clone()))),
    (
        "coalesce",
        Variadic,
        (|a| {
            Ok(a.iter()
                .find(|v| !v.is_null() && **v != Value::from(""))
                .cloned()
                .unwrap_or(Value::Null))
        }),
    ),
    (
        "replace",
        Fixed(3),
        (|a| Ok(Value::from(text(&a[0]).replace(&text(&a[1]), &text(&a[2]))))),
    ),
    ("min", Variadic, (|a| extreme(a, std::cmp::Ordering::Less))),
    ("max", Variadic, (|a| extreme(a, std::cmp::Ordering::Greater))),
];

/// A context holding only the functions, declared once per thread and copied for each use (declaring
/// them is a few dozen allocations, and every evaluation context starts from them).
pub fn context() -> Context<'static> {
    thread_local! {
        static CONTEXT: Context<'static> = {
            let mut ctx = Context::new();
            declare(&mut ctx);
            ctx
        };
    }
    CONTEXT.with(Clone::clone)
}

/// `name(args)` as hcl-rs would call it, or `None` when there is no such function or the number of
/// arguments is wrong (then hcl-rs reports it).
pub fn call(name: &str, args: &[Value]) -> Option<Result<Value, String>> {
    let (_, arity, f) = FUNCTIONS.iter().find(|(n, _, _)| *n == name)?;
    match arity {
        Fixed(n) if args.len() != *n => None,
        _ => Some(f(args)),
    }
}

/// The `I`th function with the signature hcl-rs calls (`hcl::eval::Func` is a plain function pointer, so
/// each table entry gets its own instance).
#[allow(clippy::needless_pass_by_value)] // hcl-rs passes the arguments by value
fn nth<const I: usize>(a: FuncArgs) -> Result<Value, String> {
    (FUNCTIONS[I].2)(&a)
}

/// Declares every supported function in `ctx`.
fn declare(ctx: &mut Context<'_>) {
    macro_rules! entries {
        ($($i:literal)*) => { [$(nth::<$i> as hcl::eval::Func),*] };
    }
    let calls =
        entries!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34);
    for ((name, arity, _), call) in FUNCTIONS.iter().zip(calls) {
        let def = match arity {
            Fixed(n) => (0..*n).fold(FuncDef::builder(), |b, _| b.param(ParamType::Any)),
            Variadic => FuncDef::builder().variadic_param(ParamType::Any),
        };
        ctx.declare_func(*name, def.build(call));
    }
}

/// The elements of a list, set or object (its values), in order.
fn elements(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Object(o) => o.values().cloned().collect(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// A value as Terraform's string conversion shows it; other values as stable text.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => format!("{other:?}"),
    }
}

fn int(v: &Value) -> Result<i64, String> {
    v.as_number()
        .and_then(hcl::Number::as_f64)
        .map(|f| {
            #[allow(clippy::cast_possible_truncation)]
            let i = f as i64;
            i
        })
        .ok_or_else(|| format!("expected a number, got {v:?}"))
}

fn length(a: &[Value]) -> Result<Value, String> {
    let n = match &a[0] {
        Value::String(s) => s.chars().count(),
        Value::Object(o) => o.len(),
        other => elements(other).len(),
    };
    Ok(Value::from(n as u64))
}

fn range(a: &[Value]) -> Result<Value, String> {
    let args: Vec<i64> = a.iter().map(int).collect::<Result<_, _>>()?;
    let (start, end, step) = match args.as_slice() {
        [end] => (0, *end, 1),
        [start, end] => (*start, *end, 1),
        [start, end, step] => (*start, *end, *step),
        _ => return Err("range takes 1 to 3 arguments".into()),
    };
    if step == 0 {
        return Err("range step must not be 0".into());
    }
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0 && i < end) || (step < 0 && i > end) {
        out.push(Value::from(i));
        i += step;
    }
    Ok(Value::Array(out))
}

/// `one(list)`: null for an empty list, its element for a list of one, an error otherwise.
fn one(a: &[Value]) -> Result<Value, String> {
    let items = elements(&a[0]);
    match items.as_slice() {
        [] => Ok(Value::Null),
        [only] => Ok(only.clone()),
        _ => Err(format!("one() of a list of {}", items.len())),
    }
}

/// `min(…)` / `max(…)` over numbers; an unknown (marker) argument makes the result unknown too.
fn extreme(a: &[Value], keep: std::cmp::Ordering) -> Result<Value, String> {
    let mut best: Option<(f64, Value)> = None;
    for v in a {
        let Some(x) = v.as_number().and_then(hcl::Number::as_f64) else {
            return Ok(v.clone());
        };
        if best.as_ref().is_none_or(|(b, _)| x.partial_cmp(b) == Some(keep)) {
            best = Some((x, v.clone()));
        }
    }
    best.map(|(_, v)| v)
        .ok_or_else(|| "min/max need at least one argument".to_string())
}

fn distinct(a: &[Value]) -> Result<Value, String> {
    let mut out: Vec<Value> = Vec::new();
    for v in elements(&a[0]) {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(Value::Array(out))
}

fn slice(a: &[Value]) -> Result<Value, String> {
    let list = elements(&a[0]);
    let (from, to) = (usize::try_from(int(&a[1])?), usize::try_from(int(&a[2])?));
    let (Ok(from), Ok(to)) = (from, to) else {
        return Err("slice indices must not be negative".into());
    };
    if from > to || to > list.len() {
        return Err(format!("slice({from}, {to}) of a list of {}", list.len()));
    }
    Ok(Value::Array(list[from..to].to_vec()))
}

fn keys(a: &[Value]) -> Result<Value, String> {
    let Value::Object(o) = &a[0] else {
        return Err("keys needs a map or object".into());
    };
    let mut k: Vec<String> = o.keys().cloned().collect();
    k.sort();
    Ok(Value::Array(k.into_iter().map(Value::from).collect()))
}

fn values(a: &[Value]) -> Result<Value, String> {
    let Value::Object(o) = &a[0] else {
        return Err("values needs a map or object".into());
    };
    let mut entries: Vec<(&String, &Value)> = o.iter().collect();
    entries.sort_by(|x, y| x.0.cmp(y.0));
    Ok(Value::Array(entries.into_iter().map(|(_, v)| v.clone()).collect()))
}

fn tostring(a: &[Value]) -> Result<Value, String> {
    Ok(match &a[0] {
        Value::Null => Value::Null,
        v => Value::from(text(v)),
    })
}

/// `substr(string, offset, length)`: characters, not bytes; a negative offset counts from the end, a
/// length of -1 means to the end. A string holding an unknown's marker stays whole: cutting it could make
/// two different unknowns equal.
fn substr(a: &[Value]) -> Result<Value, String> {
    let s = text(&a[0]);
    if s.contains("unknown:::::") {
        return Ok(Value::from(s));
    }
    let chars: Vec<char> = s.chars().collect();
    let len = i64::try_from(chars.len()).map_err(|e| e.to_string())?;
    let mut offset = int(&a[1])?;
    let length = int(&a[2])?;
    if offset < 0 {
        offset += len;
    }
    let start = offset.clamp(0, len);
    let end = if length < 0 { len } else { (start + length).min(len) };
    let (start, end) = (
        usize::try_from(start).map_err(|e| e.to_string())?,
        usize::try_from(end).map_err(|e| e.to_string())?,
    );
    Ok(Value::from(chars[start..end].iter().collect::<String>()))
}

fn split(a: &[Value]) -> Result<Value, String> {
    let (sep, s) = (text(&a[0]), text(&a[1]));
    Ok(Value::Array(s.split(sep.as_str()).map(Value::from).collect()))
}

/// JSON text, as Terraform writes it (keys sorted): the access proof reads task definitions back from it.
fn jsonencode(a: &[Value]) -> Result<Value, String> {
    let json = serde_json::to_value(&a[0]).map_err(|e| e.to_string())?;
    serde_json::to_string(&json).map(Value::from).map_err(|e| e.to_string())
}

/// JSON text to a value; any other string (an unknown marker, or jsonencode's stable text) stays itself.
fn jsondecode(a: &[Value]) -> Result<Value, String> {
    let t = text(&a[0]);
    Ok(serde_json::from_str::<Value>(&t).unwrap_or(Value::from(t)))
}

fn toset(a: &[Value]) -> Result<Value, String> {
    let mut items = elements(&a[0]);
    items.sort_by_key(text);
    items.dedup();
    Ok(Value::Array(items))
}

fn join(a: &[Value]) -> Result<Value, String> {
    let sep = text(&a[0]);
    Ok(Value::from(
        elements(&a[1]).iter().map(text).collect::<Vec<_>>().join(&sep),
    ))
}

fn contains(a: &[Value]) -> Result<Value, String> {
    Ok(Value::Bool(elements(&a[0]).contains(&a[1])))
}

fn concat(a: &[Value]) -> Result<Value, String> {
    Ok(Value::Array(a.iter().flat_map(elements).collect()))
}

fn setintersection(a: &[Value]) -> Result<Value, String> {
    let mut sets = a.iter().map(elements);
    let first = sets.next().unwrap_or_default();
    let rest: Vec<Vec<Value>> = sets.collect();
    Ok(Value::Array(
        first
            .into_iter()
            .filter(|v| rest.iter().all(|s| s.contains(v)))
            .collect(),
    ))
}

fn lookup(a: &[Value]) -> Result<Value, String> {
    let Value::Object(o) = &a[0] else {
        return Err("lookup needs a map".into());
    };
    match (o.get(&text(&a[1])), a.get(2)) {
        (Some(v), _) => Ok(v.clone()),
        (None, Some(default)) => Ok(default.clone()),
        (None, None) => Err(format!("lookup: no key {:?}", a[1])),
    }
}

fn merge(a: &[Value]) -> Result<Value, String> {
    let mut out = hcl::Map::new();
    for v in a {
        if let Value::Object(o) = v {
            for (k, v) in o {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(Value::Object(out))
}

fn flatten(a: &[Value]) -> Result<Value, String> {
    fn go(v: &Value, out: &mut Vec<Value>) {
        match v {
            Value::Array(items) => items.iter().for_each(|i| go(i, out)),
            other => out.push(other.clone()),
        }
    }
    let mut out = Vec::new();
    go(&a[0], &mut out);
    Ok(Value::Array(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcl::eval::Evaluate;

    fn eval(src: &str) -> Value {
        let body: hcl::Body = hcl::parse(&format!("x = {src}")).unwrap();
        let mut ctx = Context::new();
        declare(&mut ctx);
        body.attributes().next().unwrap().expr().evaluate(&ctx).unwrap()
    }

    #[test]
    fn substr_counts_characters_from_either_end() {
        assert_eq!(
            eval(r#"substr("live-multi-agent-source", 0, 10)"#),
            Value::from("live-multi")
        );
        assert_eq!(eval(r#"substr("short", 0, 32)"#), Value::from("short"));
        assert_eq!(eval(r#"substr("hello", -3, -1)"#), Value::from("llo"));
        assert_eq!(eval(r#"substr("héllo", 1, 2)"#), Value::from("él"));
        let unknown = "unknown:::::aws_kms_key.this:arn";
        assert_eq!(eval(&format!(r#"substr("{unknown}", 0, 4)"#)), Value::from(unknown));
    }
}
