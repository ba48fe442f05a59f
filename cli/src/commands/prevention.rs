//! The prevention section shared by `value`, `compare` and `demo`: prevention and public
//! education are reported apart from client assistance and never enter cost per client.

use std::collections::BTreeMap;
use std::path::Path;

use aidcost::prevention::{load_activities, value_activities, Activity, PreventionReport};
use aidcost::{Catalog, CsvOptions, PriceBook};
use serde::Serialize;

use crate::commands::rejection_summary_by;
use crate::failure::Failure;
use crate::output::{money2, money_exact, Align, TextTable};

/// Reads prevention activities.
pub(crate) fn read(path: &Path, options: CsvOptions) -> Result<Vec<Activity>, Failure> {
    Ok(load_activities(path, options)?)
}

/// Values `activities` and reports each year apart (`None` = all years together).
pub(crate) fn reports(
    activities: &[Activity],
    catalog: &Catalog,
    book: &PriceBook,
    years: &[Option<u16>],
) -> Result<(Vec<PreventionReport>, String), Failure> {
    let v = value_activities(activities, catalog, book)?;
    let summary = format!(
        "prevention: rows read {}, valued {}, rejected {}{}, total EUR {}",
        v.rows_read(),
        v.rows_valued(),
        v.rows_rejected(),
        match v.rejections().len() {
            0 => String::new(),
            _ => format!(
                " ({})",
                rejection_summary_by(
                    v.rejections()
                        .iter()
                        .map(|r| (r.reason().code(), r.is_partial()))
                )
            ),
        },
        money2(v.total())
    );
    let mut out = Vec::new();
    for y in years {
        out.push(v.report(catalog, *y)?);
    }
    Ok((out, summary))
}

fn per_person(p: Option<aidcost::UnitPrice>) -> String {
    p.map_or_else(
        || "not defined".to_owned(),
        |x| crate::output::dec2(x.get()),
    )
}

/// The prevention section as text.
pub(crate) fn render(r: &PreventionReport) -> String {
    let title = match r.year {
        Some(y) => {
            format!("Prevention and public education {y} (reported apart from client assistance)\n")
        }
        None => {
            "Prevention and public education (reported apart from client assistance)\n".to_owned()
        }
    };
    let mut s = title;
    s.push_str(&format!(
        "activities {} valued of {} ({} rejected); cost EUR {}; persons reached {} (contacts); cost per person reached EUR {}\n",
        r.rows_valued,
        r.rows_read,
        r.rows_rejected,
        money2(r.total),
        r.reach,
        per_person(r.cost_per_person()),
    ));
    let mut t = TextTable::new(&[
        ("audience", Align::Left),
        ("reached", Align::Right),
        ("cost EUR", Align::Right),
        ("per person EUR", Align::Right),
    ]);
    for (a, c) in &r.audiences {
        t.row(vec![
            a.to_string(),
            c.reach.to_string(),
            money2(c.cost),
            per_person(c.cost_per_person()),
        ]);
    }
    s.push_str(&t.render());
    if !r.unattributed.is_zero() {
        s.push_str(&format!(
            "cost of activities with no reach counted (in the total, in no audience): EUR {}\n",
            money2(r.unattributed)
        ));
    }
    for (institution, by_element) in &r.professionals {
        let parts: Vec<String> = by_element.iter().map(|(e, n)| format!("{e} {n}")).collect();
        s.push_str(&format!(
            "professionals, {institution}: {}\n",
            parts.join(", ")
        ));
    }
    s
}

/// The prevention section in JSON.
#[derive(Debug, Serialize)]
pub(crate) struct PreventionJson {
    year: Option<u16>,
    rows_read: u64,
    rows_valued: u64,
    rows_rejected: u64,
    total: String,
    reach: u64,
    cost_per_person: Option<String>,
    audiences: BTreeMap<String, AudienceJson>,
    professionals: BTreeMap<String, BTreeMap<String, u64>>,
}

#[derive(Debug, Serialize)]
struct AudienceJson {
    reach: u64,
    cost: String,
    cost_per_person: Option<String>,
}

impl From<&PreventionReport> for PreventionJson {
    fn from(r: &PreventionReport) -> Self {
        Self {
            year: r.year,
            rows_read: r.rows_read,
            rows_valued: r.rows_valued,
            rows_rejected: r.rows_rejected,
            total: money_exact(r.total),
            reach: r.reach,
            cost_per_person: r.cost_per_person().map(|p| p.to_string()),
            audiences: r
                .audiences
                .iter()
                .map(|(a, c)| {
                    (
                        a.to_string(),
                        AudienceJson {
                            reach: c.reach,
                            cost: money_exact(c.cost),
                            cost_per_person: c.cost_per_person().map(|p| p.to_string()),
                        },
                    )
                })
                .collect(),
            professionals: r
                .professionals
                .iter()
                .map(|(i, m)| {
                    (
                        i.to_string(),
                        m.iter().map(|(e, n)| (e.to_string(), *n)).collect(),
                    )
                })
                .collect(),
        }
    }
}
