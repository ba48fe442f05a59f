//! `aidcost derive FILE`: the staff costs per hour, element unit prices and capacity costs a
//! derivations file gives, each with its steps, as a table or JSON.

use std::io::Write;
use std::path::PathBuf;

use aidcost::{Catalog, Derivations, Step};
use serde::Serialize;

use crate::failure::{CmdResult, Outcome};
use crate::output::{write_json, Align, TextTable};

/// `--format` of `derive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum DeriveFormat {
    /// Aligned columns and the steps of every figure, for a terminal.
    #[default]
    Table,
    /// JSON with amounts as decimal strings at full precision plus a rounded twin.
    Json,
}

/// Arguments of `aidcost derive`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Derivations file (TOML; format in docs/formats.md).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Catalog to check element codes and units against (default: the shipped catalog).
    #[arg(long, value_name = "FILE")]
    catalog: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DeriveFormat::Table)]
    format: DeriveFormat,
}

/// Runs `aidcost derive`.
pub(crate) fn run(args: &Args) -> CmdResult {
    let catalog = match &args.catalog {
        Some(path) => Catalog::load(path)?,
        None => Catalog::shipped()?,
    };
    let d = Derivations::load(&args.file, &catalog)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        DeriveFormat::Json => write_json(&mut out, &json(&d))?,
        DeriveFormat::Table => out.write_all(table(&d).as_bytes())?,
    }
    out.flush()?;
    Ok(Outcome::Clean)
}

#[derive(Serialize)]
struct JsonOut {
    id: String,
    version: String,
    file: String,
    sha256: String,
    rounding: JsonRounding,
    roles: Vec<JsonRole>,
    elements: Vec<JsonElement>,
    capacities: Vec<JsonCapacity>,
}

#[derive(Serialize)]
struct JsonRounding {
    mode: String,
    decimals: u32,
}

#[derive(Serialize)]
struct JsonRole {
    name: String,
    annual_cost: String,
    annual_cost_rounded: String,
    annual_cost_without_qualifications: String,
    annual_cost_without_qualifications_rounded: String,
    annual_hours: String,
    cost_per_hour: String,
    cost_per_hour_rounded: String,
    cost_per_hour_without_qualifications: String,
    cost_per_hour_without_qualifications_rounded: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost_per_contact_hour: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost_per_contact_hour_rounded: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost_per_contact_hour_without_qualifications: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost_per_contact_hour_without_qualifications_rounded: Option<String>,
    steps: Vec<JsonStep>,
}

#[derive(Serialize)]
struct JsonElement {
    code: String,
    name: String,
    unit: String,
    unit_price: String,
    unit_price_rounded: String,
    steps: Vec<JsonStep>,
}

#[derive(Serialize)]
struct JsonCapacity {
    name: String,
    cost: String,
    practical_minutes: String,
    rate_per_minute: String,
    rate_per_minute_rounded: String,
    activities: Vec<JsonActivity>,
    used_minutes: String,
    used_cost: String,
    used_cost_rounded: String,
    unused_minutes: String,
    unused_cost: String,
    unused_cost_rounded: String,
    steps: Vec<JsonStep>,
}

#[derive(Serialize)]
struct JsonActivity {
    name: String,
    minutes_per_unit: String,
    volume: String,
    unit_cost: String,
    unit_cost_rounded: String,
    used_minutes: String,
    used_cost: String,
    steps: Vec<JsonStep>,
}

#[derive(Serialize)]
struct JsonStep {
    name: String,
    formula: String,
    inputs: Vec<JsonInput>,
    result: String,
    unit: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rounded: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rounding: Option<JsonRounding>,
}

#[derive(Serialize)]
struct JsonInput {
    name: String,
    value: String,
    unit: &'static str,
    source: String,
}

fn steps(steps: &[Step]) -> Vec<JsonStep> {
    steps
        .iter()
        .map(|s| JsonStep {
            name: s.name().to_owned(),
            formula: s.formula().to_owned(),
            inputs: s
                .inputs()
                .iter()
                .map(|i| JsonInput {
                    name: i.name().to_owned(),
                    value: i.value().value().to_string(),
                    unit: i.value().unit_label(),
                    source: i.source().to_owned(),
                })
                .collect(),
            result: s.result().value().to_string(),
            unit: s.result().unit_label(),
            rounded: s.rounding().map(|(_, r)| r.value().to_string()),
            rounding: s.rounding().map(|(p, _)| JsonRounding {
                mode: p.mode().to_string(),
                decimals: p.decimals(),
            }),
        })
        .collect()
}

fn json(d: &Derivations) -> JsonOut {
    let s = |v: &dyn std::fmt::Display| v.to_string();
    let opt = |v: Option<aidcost::UnitPrice>| v.map(|p| p.to_string());
    JsonOut {
        id: d.id().to_owned(),
        version: d.version().to_owned(),
        file: d.origin().display().to_string(),
        sha256: d.sha256().to_owned(),
        rounding: JsonRounding {
            mode: d.rounding().mode().to_string(),
            decimals: d.rounding().decimals(),
        },
        roles: d
            .roles()
            .iter()
            .map(|r| JsonRole {
                name: r.name().to_owned(),
                annual_cost: s(&r.annual_cost()),
                annual_cost_rounded: s(&r.annual_cost_rounded()),
                annual_cost_without_qualifications: s(&r.annual_cost_without_qualifications()),
                annual_cost_without_qualifications_rounded: s(
                    &r.annual_cost_without_qualifications_rounded()
                ),
                annual_hours: s(&r.annual_hours()),
                cost_per_hour: s(&r.cost_per_hour()),
                cost_per_hour_rounded: s(&r.cost_per_hour_rounded()),
                cost_per_hour_without_qualifications: s(&r.cost_per_hour_without_qualifications()),
                cost_per_hour_without_qualifications_rounded: s(
                    &r.cost_per_hour_without_qualifications_rounded()
                ),
                cost_per_contact_hour: opt(r.cost_per_contact_hour()),
                cost_per_contact_hour_rounded: opt(r.cost_per_contact_hour_rounded()),
                cost_per_contact_hour_without_qualifications: opt(
                    r.cost_per_contact_hour_without_qualifications()
                ),
                cost_per_contact_hour_without_qualifications_rounded: opt(
                    r.cost_per_contact_hour_without_qualifications_rounded()
                ),
                steps: steps(r.steps()),
            })
            .collect(),
        elements: d
            .elements()
            .iter()
            .map(|e| JsonElement {
                code: e.code().to_string(),
                name: e.name().to_owned(),
                unit: e.unit().to_string(),
                unit_price: s(&e.unit_price()),
                unit_price_rounded: s(&e.unit_price_rounded()),
                steps: steps(e.steps()),
            })
            .collect(),
        capacities: d
            .capacities()
            .iter()
            .map(|c| {
                let rounded = |m: aidcost::Money| {
                    m.round(c.rounding().mode(), c.rounding().decimals())
                        .to_string()
                };
                JsonCapacity {
                    name: c.name().to_owned(),
                    cost: s(&c.cost()),
                    practical_minutes: s(&c.practical_minutes()),
                    rate_per_minute: s(&c.rate_per_minute()),
                    rate_per_minute_rounded: s(&c.rate_per_minute_rounded()),
                    activities: c
                        .activities()
                        .iter()
                        .map(|a| JsonActivity {
                            name: a.name().to_owned(),
                            minutes_per_unit: s(&a.minutes_per_unit()),
                            volume: s(&a.volume()),
                            unit_cost: s(&a.unit_cost()),
                            unit_cost_rounded: s(&a.unit_cost_rounded()),
                            used_minutes: s(&a.used_minutes()),
                            used_cost: s(&a.used_cost()),
                            steps: steps(a.steps()),
                        })
                        .collect(),
                    used_minutes: s(&c.used_minutes()),
                    used_cost: s(&c.used_cost()),
                    used_cost_rounded: rounded(c.used_cost()),
                    unused_minutes: s(&c.unused_minutes()),
                    unused_cost: s(&c.unused_cost()),
                    unused_cost_rounded: rounded(c.unused_cost()),
                    steps: steps(c.steps()),
                }
            })
            .collect(),
    }
}

fn table(d: &Derivations) -> String {
    let mut out = format!(
        "derivations {} version {} ({}, sha256 {}), rounded {} to {} decimals\n",
        d.id(),
        d.version(),
        d.origin().display(),
        d.sha256().get(..12).unwrap_or(""),
        d.rounding().mode(),
        d.rounding().decimals()
    );
    let push_steps = |out: &mut String, steps: &[Step]| {
        for s in steps {
            out.push_str(&format!("    {s}\n"));
            for i in s.inputs() {
                out.push_str(&format!(
                    "        {} = {} [{}]\n",
                    i.name(),
                    i.value(),
                    i.source()
                ));
            }
        }
    };
    if !d.roles().is_empty() {
        let mut t = TextTable::new(&[
            ("role", Align::Left),
            ("annual cost", Align::Right),
            ("hours", Align::Right),
            ("per hour", Align::Right),
            ("per contact hour", Align::Right),
        ]);
        for r in d.roles() {
            t.row(vec![
                r.name().to_owned(),
                r.annual_cost_rounded().to_string(),
                r.annual_hours().to_string(),
                r.cost_per_hour_rounded().to_string(),
                r.cost_per_contact_hour_rounded()
                    .map_or_else(|| "-".to_owned(), |p| p.to_string()),
            ]);
        }
        out.push('\n');
        out.push_str(&t.render());
        for r in d.roles() {
            out.push_str(&format!("  role {}\n", r.name()));
            push_steps(&mut out, r.steps());
        }
    }
    if !d.elements().is_empty() {
        let mut t = TextTable::new(&[
            ("element", Align::Left),
            ("derivation", Align::Left),
            ("unit", Align::Left),
            ("unit price", Align::Right),
            ("full precision", Align::Right),
        ]);
        for e in d.elements() {
            t.row(vec![
                e.code().to_string(),
                e.name().to_owned(),
                e.unit().to_string(),
                e.unit_price_rounded().to_string(),
                e.unit_price().to_string(),
            ]);
        }
        out.push('\n');
        out.push_str(&t.render());
        for e in d.elements() {
            out.push_str(&format!("  element {} ({})\n", e.name(), e.code()));
            push_steps(&mut out, e.steps());
        }
    }
    for c in d.capacities() {
        let round = |m: aidcost::Money| m.round(c.rounding().mode(), c.rounding().decimals());
        out.push_str(&format!(
            "\ncapacity {}: rate {} per minute; used {} min = {}; unused {} min = {} (reported apart)\n",
            c.name(),
            c.rate_per_minute_rounded(),
            c.used_minutes(),
            round(c.used_cost()),
            c.unused_minutes(),
            round(c.unused_cost())
        ));
        let mut t = TextTable::new(&[
            ("activity", Align::Left),
            ("min per unit", Align::Right),
            ("volume", Align::Right),
            ("unit cost", Align::Right),
            ("used min", Align::Right),
        ]);
        for a in c.activities() {
            t.row(vec![
                a.name().to_owned(),
                a.minutes_per_unit().to_string(),
                a.volume().to_string(),
                a.unit_cost_rounded().to_string(),
                a.used_minutes().to_string(),
            ]);
        }
        out.push_str(&t.render());
        push_steps(&mut out, c.steps());
        for a in c.activities() {
            out.push_str(&format!("  activity {}\n", a.name()));
            push_steps(&mut out, a.steps());
        }
    }
    out
}
