//! What an expression of a module instance may read while it is evaluated: the instance's state (variables,
//! locals, resources, data sources, module outputs) and the names bound around it (`each`, `count`, a
//! `dynamic` block's iterator). It does not decide evaluation order or record instances (`eval.rs` does).
//!
//! hcl-rs evaluates a traversal such as `each.value.name` or `aws_iam_role.task["order"].arn` by cloning
//! its root (`each`, every `aws_iam_role` of the module) before walking it, and a context must hold clones
//! of everything an expression might read. So the common shapes (literals, plain traversals, templates
//! that interpolate them, `==` and `!=`, calls of tfgen's functions, `for` expressions, and arrays,
//! objects, parentheses and conditionals made of them) are resolved here by reference, cloning only the
//! leaf; anything else, or any traversal that does not resolve cleanly, goes to hcl-rs with a context
//! built on first need. Both paths give the same value: the fast one only answers where it is certain.

use std::cell::RefCell;
use std::collections::BTreeSet;

use anyhow::Result;
use hcl::eval::Context;
use hcl::expr::{BinaryOperator, ForExpr, ObjectKey, Operation, TemplateExpr, TraversalOperator};
use hcl::template::{Element, Strip, Template};
use hcl::{Expression, Map, Value};

use super::eval::{State, eval};

/// The values one expression (or one block's expressions) of a module instance can read.
pub(super) struct Scope<'s> {
    state: &'s State,
    /// The references of the step being evaluated (a context holds only these); `None`: everything.
    deps: Option<&'s BTreeSet<String>>,
    /// `each`, `count` and `dynamic` iterators, innermost last.
    bound: Vec<(String, Value)>,
    /// The hcl-rs context, built on the first expression the fast path does not answer.
    ctx: RefCell<Option<Context<'static>>>,
}

impl<'s> Scope<'s> {
    pub(super) fn new(state: &'s State, deps: Option<&'s BTreeSet<String>>) -> Self {
        Scope {
            state,
            deps,
            bound: Vec::new(),
            ctx: RefCell::new(None),
        }
    }

    /// Binds `name` (replacing an earlier binding of it); returns what it was bound to.
    pub(super) fn bind(&mut self, name: &str, value: Value) -> Option<Value> {
        if let Some(ctx) = self.ctx.get_mut() {
            ctx.declare_var(name, value.clone());
        }
        if let Some((_, old)) = self.bound.iter_mut().find(|(n, _)| n == name) {
            return Some(std::mem::replace(old, value));
        }
        self.bound.push((name.to_string(), value));
        None
    }

    /// Runs `f` once per item with `name` bound to it (a `dynamic` block's iterator), then restores what
    /// `name` was bound to before.
    pub(super) fn each_bound(
        &mut self,
        name: &str,
        items: Vec<Value>,
        mut f: impl FnMut(&mut Self) -> Result<()>,
    ) -> Result<()> {
        let mut outer = None;
        for (i, item) in items.into_iter().enumerate() {
            let before = self.bind(name, item);
            if i == 0 {
                outer = Some(before);
            }
            f(self)?;
        }
        if let Some(before) = outer {
            self.restore(name, before);
        }
        Ok(())
    }

    /// Restores a binding [`Scope::bind`] replaced.
    fn restore(&mut self, name: &str, old: Option<Value>) {
        match old {
            Some(v) => {
                self.bind(name, v);
            }
            // An hcl-rs context cannot forget a name; nothing outside the block reads it.
            None => self.bound.retain(|(n, _)| n != name),
        }
    }

    /// The value of `expr`.
    pub(super) fn eval(&self, expr: &Expression) -> Result<Value> {
        if let Some(v) = self.fast(expr) {
            return Ok(v);
        }
        let mut slot = self.ctx.borrow_mut();
        let ctx = slot.get_or_insert_with(|| {
            let mut ctx = self.state.context(self.deps);
            for (name, value) in &self.bound {
                ctx.declare_var(name.as_str(), value.clone());
            }
            ctx
        });
        eval(expr, ctx)
    }

    /// The value of the shapes resolved by reference, or `None` (then hcl-rs decides, errors included).
    fn fast(&self, expr: &Expression) -> Option<Value> {
        Some(match expr {
            Expression::Null => Value::Null,
            Expression::Bool(b) => Value::Bool(*b),
            Expression::Number(n) => Value::Number(*n),
            Expression::String(s) => Value::String(s.clone()),
            Expression::Parenthesis(inner) => self.fast(inner)?,
            Expression::Array(items) => Value::Array(items.iter().map(|e| self.fast(e)).collect::<Option<_>>()?),
            Expression::Object(object) => {
                let mut out = Map::new();
                for (key, value) in object {
                    let key = match key {
                        ObjectKey::Identifier(id) => id.to_string(),
                        ObjectKey::Expression(Expression::String(s)) => s.clone(),
                        _ => return None,
                    };
                    out.insert(key, self.fast(value)?);
                }
                Value::Object(out)
            }
            Expression::Conditional(c) => match self.fast(&c.cond_expr)? {
                Value::Bool(true) => self.fast(&c.true_expr)?,
                Value::Bool(false) => self.fast(&c.false_expr)?,
                _ => return None,
            },
            Expression::Operation(op) => match &**op {
                Operation::Binary(b) => binary(self.fast(&b.lhs_expr)?, b.operator, self.fast(&b.rhs_expr)?)?,
                Operation::Unary(_) => return None,
            },
            Expression::TemplateExpr(t) => self.template(t)?,
            Expression::FuncCall(call) if !call.expand_final && call.name.namespace.is_empty() => {
                let args: Vec<Value> = call.args.iter().map(|e| self.fast(e)).collect::<Option<_>>()?;
                // An error is hcl-rs's to report, with its context.
                super::funcs::call(call.name.name.as_str(), &args)?.ok()?
            }
            Expression::ForExpr(f) => self.for_expr(f)?,
            Expression::Variable(v) => self.root(v.as_str(), None)?.clone(),
            Expression::Traversal(t) => {
                let Expression::Variable(root) = &t.expr else {
                    return None;
                };
                let mut ops = t.operators.iter();
                // The first attribute selects inside the state's maps (`var.x`, `aws_t.name`).
                let first = match ops.next()? {
                    TraversalOperator::GetAttr(name) => name.as_str(),
                    _ => return None,
                };
                let mut at = self.root(root.as_str(), Some(first))?;
                for op in ops {
                    at = match op {
                        TraversalOperator::GetAttr(name) => at.as_object()?.get(name.as_str())?,
                        TraversalOperator::LegacyIndex(i) => at.as_array()?.get(usize::try_from(*i).ok()?)?,
                        TraversalOperator::Index(index) => match (at, self.fast(index)?) {
                            (Value::Object(o), Value::String(k)) => o.get(&k)?,
                            (Value::Array(a), Value::Number(n)) => a.get(usize::try_from(n.as_u64()?).ok()?)?,
                            _ => return None,
                        },
                        _ => return None,
                    };
                }
                at.clone()
            }
            _ => return None,
        })
    }

    /// A template of literals and interpolations (no directives, no whitespace stripping), interpolated as
    /// hcl-rs does: strings as they are, other values as text; one interpolation alone gives its value.
    fn template(&self, expr: &TemplateExpr) -> Option<Value> {
        let template = Template::from_expr(expr).ok()?;
        if let [Element::Interpolation(only)] = template.elements() {
            return (only.strip == Strip::None).then(|| self.fast(&only.expr)).flatten();
        }
        let mut out = String::new();
        for element in template.elements() {
            match element {
                Element::Literal(text) => out.push_str(text),
                Element::Interpolation(i) if i.strip == Strip::None => match self.fast(&i.expr)? {
                    Value::String(s) => out.push_str(&s),
                    other => out.push_str(&other.to_string()),
                },
                _ => return None,
            }
        }
        Some(Value::String(out))
    }

    /// A `for` expression, as hcl-rs evaluates it: over an array's indexes and elements or an object's keys
    /// and values, in order, its variables bound in a scope of its own.
    fn for_expr(&self, f: &ForExpr) -> Option<Value> {
        let items: Vec<(Value, Value)> = match self.fast(&f.collection_expr)? {
            Value::Array(a) => a.into_iter().enumerate().map(|(i, v)| (Value::from(i), v)).collect(),
            Value::Object(o) => o.into_iter().map(|(k, v)| (Value::from(k), v)).collect(),
            _ => return None,
        };
        let mut inner = Scope {
            state: self.state,
            deps: self.deps,
            bound: self.bound.clone(),
            ctx: RefCell::new(None),
        };
        let mut array = Vec::new();
        let mut object = Map::new();
        for (key, value) in items {
            if let Some(k) = &f.key_var {
                inner.bind(k.as_str(), key);
            }
            inner.bind(f.value_var.as_str(), value);
            if let Some(cond) = &f.cond_expr {
                match inner.fast(cond)? {
                    Value::Bool(true) => {}
                    Value::Bool(false) => continue,
                    _ => return None,
                }
            }
            let Some(key_expr) = &f.key_expr else {
                array.push(inner.fast(&f.value_expr)?);
                continue;
            };
            let key = match inner.fast(key_expr)? {
                Value::String(s) => s,
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            };
            let value = inner.fast(&f.value_expr)?;
            if f.grouping {
                object
                    .entry(key)
                    .or_insert_with(|| Value::Array(Vec::new()))
                    .as_array_mut()?
                    .push(value);
            } else if object.insert(key, value).is_some() {
                // A repeated key is an error: hcl-rs reports it.
                return None;
            }
        }
        Some(if f.key_expr.is_some() {
            Value::Object(object)
        } else {
            Value::Array(array)
        })
    }

    /// A root name's value (after its first attribute, when the state keeps it in a map).
    fn root(&self, root: &str, first: Option<&str>) -> Option<&Value> {
        if let Some((_, v)) = self.bound.iter().rev().find(|(n, _)| n == root) {
            return match first {
                Some(attr) => v.as_object()?.get(attr),
                None => Some(v),
            };
        }
        let first = first?;
        let st = self.state;
        let by_type = |map: &'s Map<String, Value>| map.get(first);
        match root {
            "var" => st.vars.get(first),
            "local" => st.locals.get(first),
            "module" => st.modules.get(first),
            "data" => by_type(&st.data),
            "ephemeral" => by_type(&st.ephemeral),
            rtype if rtype.starts_with("aws_") => st.resources.get(rtype)?.get(first),
            _ => None,
        }
    }
}

/// A binary operation as hcl-rs evaluates it (`==` and `!=` on any values, `&&` and `||` on booleans,
/// comparisons and arithmetic on numbers); `None` where hcl-rs reports an error.
fn binary(lhs: Value, op: BinaryOperator, rhs: Value) -> Option<Value> {
    use BinaryOperator::{And, Div, Eq, Greater, GreaterEq, Less, LessEq, Minus, Mod, Mul, NotEq, Or, Plus};
    Some(match (lhs, op, rhs) {
        (l, Eq, r) => Value::Bool(l == r),
        (l, NotEq, r) => Value::Bool(l != r),
        (Value::Bool(l), And, Value::Bool(r)) => Value::Bool(l && r),
        (Value::Bool(l), Or, Value::Bool(r)) => Value::Bool(l || r),
        (Value::Number(l), LessEq, Value::Number(r)) => Value::Bool(l <= r),
        (Value::Number(l), GreaterEq, Value::Number(r)) => Value::Bool(l >= r),
        (Value::Number(l), Less, Value::Number(r)) => Value::Bool(l < r),
        (Value::Number(l), Greater, Value::Number(r)) => Value::Bool(l > r),
        (Value::Number(l), Plus, Value::Number(r)) => Value::Number(l + r),
        (Value::Number(l), Minus, Value::Number(r)) => Value::Number(l - r),
        (Value::Number(l), Mul, Value::Number(r)) => Value::Number(l * r),
        (Value::Number(l), Div, Value::Number(r)) => Value::Number(l / r),
        (Value::Number(l), Mod, Value::Number(r)) => Value::Number(l % r),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state like a module instance's: variables, a local, a for_each resource, a data source.
    fn state() -> State {
        let parse = |text: &str| -> Value {
            let body: hcl::Body = hcl::from_str(&format!("v = {text}")).unwrap();
            let expr = body.attributes().next().unwrap().expr().clone();
            eval(&expr, &Context::new()).unwrap()
        };
        let mut st = State::default();
        st.vars.insert("name".into(), parse(r#""prod""#));
        st.vars.insert(
            "agents".into(),
            parse(r#"{ order = { port = 8001, tags = ["a", "b"] }, "x-y" = { port = 8002, tags = [] } }"#),
        );
        st.vars.insert("key".into(), Value::Null);
        st.locals.insert("n".into(), parse("3"));
        st.resources.insert(
            "aws_iam_role".into(),
            [(
                "task".to_string(),
                parse(r#"{ order = { arn = "unknown:::::r:arn", name = "t" } }"#),
            )]
            .into_iter()
            .collect(),
        );
        st.data
            .insert("aws_region".into(), parse(r#"{ current = { name = "eu-west-1" } }"#));
        st
    }

    /// Every shape the fast path answers gives what hcl-rs gives with a context holding everything.
    #[test]
    fn the_fast_path_agrees_with_hcl_rs() {
        let st = state();
        let mut scope = Scope::new(&st, None);
        scope.bind(
            "each",
            Value::Object([("key".to_string(), Value::from("order"))].into_iter().collect()),
        );
        let cases = [
            "var.name",
            "var.agents.order.port",
            r#"var.agents["x-y"].tags"#,
            "var.agents[each.key].tags[1]",
            "var.agents[each.key].tags.0",
            "local.n",
            "aws_iam_role.task[each.key].arn",
            "data.aws_region.current.name",
            r#""${var.name}-${each.key}-${local.n}""#,
            r#""${local.n}""#,
            r#""plain""#,
            r#"[var.name, { a = local.n, "b-c" = (var.key) }]"#,
            "var.key == null ? [] : [var.key]",
            r#"var.name != "prod" ? 1 : 0"#,
            "null",
            "true",
            "local.n > 2 && local.n <= 3 || false",
            "local.n * 2 + 1 - local.n / 3 % 2",
            "length(var.agents)",
            "merge(var.agents.order, { extra = local.n })",
            "[for k, v in var.agents : v.port]",
            "{ for k, v in var.agents : k => v.port if v.port > 8001 }",
            r#"{ for k, v in var.agents : "${k}-${v.port}" => k }"#,
            "{ for k, v in var.agents : v.port == 8001 => k... }",
            r#"[for i, t in var.agents.order.tags : "${i}:${t}"]"#,
        ];
        let mut full = st.context(None);
        full.declare_var("each", scope.bound[0].1.clone());
        for text in cases {
            let body: hcl::Body = hcl::from_str(&format!("v = {text}")).unwrap();
            let expr = body.attributes().next().unwrap().expr().clone();
            let fast = scope
                .fast(&expr)
                .unwrap_or_else(|| panic!("`{text}` is not on the fast path"));
            assert_eq!(fast, eval(&expr, &full).unwrap(), "{text}");
            assert!(scope.ctx.borrow().is_none(), "`{text}` built a context");
        }
    }

    /// What the fast path leaves to hcl-rs still evaluates, and errors stay hcl-rs's.
    #[test]
    fn the_rest_goes_to_hcl_rs() {
        let st = state();
        let scope = Scope::new(&st, None);
        for (text, want) in [
            (r#""%{ if true }x%{ endif }""#, Some("\"x\"")),
            ("length(var.agents, 1)", None),
            (r#"cidrsubnet("10.0.0.0/16", 8, 1)"#, None),
            (r#"{ for k, v in var.agents : "same" => k }"#, None),
            ("var.agents.order.missing", None),
            ("var.missing", None),
        ] {
            let body: hcl::Body = hcl::from_str(&format!("v = {text}")).unwrap();
            let expr = body.attributes().next().unwrap().expr().clone();
            assert!(scope.fast(&expr).is_none(), "{text}");
            match want {
                Some(want) => assert_eq!(hcl::format::to_string(&scope.eval(&expr).unwrap()).unwrap(), want),
                None => assert!(scope.eval(&expr).is_err(), "{text}"),
            }
        }
    }
}
