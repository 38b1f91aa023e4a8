//! `tfgen cost`: the environment's monthly estimate, with its levers on request.

use anyhow::Result;

use tfgen::diag::Style;
use tfgen::load::{self, Overrides};

use crate::cli::Cli;
use crate::common::{self, exit};

/// `tfgen cost ENV`: the estimate as text or JSON.
pub fn run(cli: &Cli, env: &str, (json, with_levers): (bool, bool), prices: Option<&str>, style: Style) -> Result<u8> {
    let inputs = load::load(&cli.root, env, Overrides::from_env())?;
    let model = match tfgen::validate_spec(&inputs) {
        Ok((model, warnings)) => {
            common::print_warnings(&warnings, style);
            model
        }
        Err(diags) => return Ok(common::report_diags(&diags, style)),
    };
    let estimate = match prices {
        None => tfgen::cost::estimate(&model),
        Some(region) => tfgen::cost::prices::for_region(region)
            .map(|p| tfgen::cost::estimate_with(&model, p))
            .ok_or_else(|| {
                format!(
                    "tfgen has no price table for {region}; priced regions: {}",
                    tfgen::cost::prices::priced_regions().join(", ")
                )
            }),
    }
    .map_err(anyhow::Error::msg)?;
    let levers = with_levers.then(|| tfgen::cost::levers::levers(&inputs, &model, &estimate));
    if json {
        let mut value = serde_json::to_value(&estimate)?;
        if let Some(levers) = &levers {
            value["levers"] = serde_json::to_value(levers)?;
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", tfgen::cost::render_text(&estimate, &model.spec_file));
        if let Some(levers) = &levers {
            print!("\n{}", tfgen::cost::levers::render_text(levers));
        }
    }
    Ok(exit::OK)
}
