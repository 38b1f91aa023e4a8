//! `[budget]`: the environment's monthly AWS Budgets cost budget, set from `tfgen cost`'s estimate with a
//! margin (or a stated amount), alerting the alarm topic at the forecast and at the actual spend. Raw form,
//! checks, resolved [`Budget`].
//!
//! The amount is computed here from [`crate::cost`]'s estimate of the finished model; the budget resource
//! is in the `monitoring` module's template. This module neither prices nor renders.

use serde::{Deserialize, Serialize};

use super::context::{Checker, SpecFile};
use crate::diag::{Diagnostic, rules};
use crate::model::Model;
use crate::spec::Spanned;

rules! {
    /// The diagnostics this module reports (`[budget]`).
    pub enum Rule {
        BudgetMarginRange,
        BudgetLimitRange,
        BudgetUnpriced,
    }
}

/// The margin over the estimate when `[budget]` does not state one, in percent.
pub const DEFAULT_MARGIN_PERCENT: u32 = 20;
/// The cost-allocation tag the budget is scoped to: the provider's default tag naming the environment.
pub const TAG_KEY: &str = "environment";

/// `[budget]` as written: every key optional.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetSpec {
    /// Percent above `tfgen cost`'s monthly total at which the budget alerts (default 20, 0-1000).
    pub margin_percent: Option<Spanned<i64>>,
    /// A monthly amount in USD instead of the estimate plus the margin (needed where tfgen has no prices).
    pub limit_usd: Option<Spanned<i64>>,
}

/// What `[budget]` asks for, checked; the amount is set once the model is complete ([`amount`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetChoice {
    pub margin_percent: u32,
    pub limit_usd: Option<u32>,
}

/// The rendered budget.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Budget {
    /// Whole USD a month: the estimate plus the margin, rounded up, or `[budget] limit_usd`. (Not named
    /// `limit_usd`: `tfgen show` would take it for the spec key, which it is only when stated.)
    pub monthly_usd: u32,
    /// `user:environment$<env>`: the cost-allocation tag filter.
    pub tag_filter: String,
    /// How the limit was set, for the generated README and `tfgen cost`.
    pub basis: String,
}

pub fn check(cx: &mut Checker, spec: &BudgetSpec) -> Option<BudgetChoice> {
    let mut ok = true;
    let margin_percent = match &spec.margin_percent {
        None => DEFAULT_MARGIN_PERCENT,
        Some(v) => match u32::try_from(*v.get_ref()) {
            Ok(m) if m <= 1000 => m,
            _ => {
                cx.error(
                    Rule::BudgetMarginRange,
                    SpecFile::Env,
                    v,
                    format!("`margin_percent = {}` is not a margin", v.get_ref()),
                    "0 to 1000: how far above `tfgen cost`'s monthly total the budget alerts",
                );
                ok = false;
                0
            }
        },
    };
    let limit_usd = match &spec.limit_usd {
        None => None,
        Some(v) => match u32::try_from(*v.get_ref()) {
            Ok(l) if l >= 1 => Some(l),
            _ => {
                cx.error(
                    Rule::BudgetLimitRange,
                    SpecFile::Env,
                    v,
                    format!("`limit_usd = {}` is not a monthly amount", v.get_ref()),
                    "a whole number of US dollars, 1 or more",
                );
                ok = false;
                None
            }
        },
    };
    ok.then_some(BudgetChoice {
        margin_percent,
        limit_usd,
    })
}

/// The budget of the finished `model`: `[budget] limit_usd`, else the estimate plus the margin. In a
/// region tfgen has no prices for and without `limit_usd`, no budget and a warning saying how to get one.
pub fn amount(cx: &mut Checker, model: &Model, choice: BudgetChoice, region: &Spanned<String>) -> Option<Budget> {
    let tag_filter = format!("user:{TAG_KEY}${}", model.env);
    if let Some(limit_usd) = choice.limit_usd {
        return Some(Budget {
            monthly_usd: limit_usd,
            tag_filter,
            basis: "`[budget] limit_usd`".to_string(),
        });
    }
    match crate::cost::estimate(model) {
        Ok(e) => {
            let limit = (e.total * (1.0 + f64::from(choice.margin_percent) / 100.0)).ceil();
            // A month of any real environment is far below u32::MAX dollars.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let limit_usd = limit.max(1.0) as u32;
            Some(Budget {
                monthly_usd: limit_usd,
                tag_filter,
                basis: format!(
                    "`tfgen cost`'s {} a month plus {}%",
                    crate::cost::money(e.total),
                    choice.margin_percent
                ),
            })
        }
        Err(why) => {
            let at = Some(cx.at(SpecFile::Env, region));
            cx.push(
                Diagnostic::warning(Rule::BudgetUnpriced, format!("no cost budget is rendered: {why}"), at)
                    .with_help("state the monthly amount as `limit_usd` under `[budget]`"),
            );
            None
        }
    }
}
