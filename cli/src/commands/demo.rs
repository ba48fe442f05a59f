//! `aidcost demo`: values the embedded synthetic demo data against the shipped tables and
//! prints, for 2019 and 2024, what each provider cost per assisted client.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use aidcost::{
    read_clients, read_deliveries, value, Catalog, ClientId, Context, CsvOptions, GroupBy, KeyPart,
    PriceBook, ProviderId, Rollup, RollupContext, ValuationOptions,
};
use rust_decimal::Decimal;

use crate::commands::rejection_summary;
use crate::failure::{CmdResult, Outcome};
use crate::output::{dec2, money2, Align, TextTable};

const DEMO_CLIENTS: &str = include_str!("../../../demo/clients.csv");
const DEMO_DELIVERIES: &str = include_str!("../../../demo/deliveries.csv");
const DEMO_ACTIVITIES: &str = include_str!("../../../demo/activities.csv");
const DEMO_DEFLATORS: &str = include_str!("../../../deflators/lt-hicp-illustrative.toml");

/// The years the demo reports on.
const YEARS: [u16; 2] = [2019, 2024];

#[derive(Default)]
struct ProviderYear {
    clients: BTreeSet<ClientId>,
    lines: u64,
    amount: aidcost::Money,
}

/// Runs `aidcost demo`.
pub(crate) fn run() -> CmdResult {
    let catalog = Catalog::shipped()?;
    let book = PriceBook::shipped(&catalog)?;
    let register = read_clients(
        DEMO_CLIENTS,
        Path::new("demo/clients.csv"),
        CsvOptions::detect(),
    )?;
    let deliveries = read_deliveries(
        DEMO_DELIVERIES,
        Path::new("demo/deliveries.csv"),
        CsvOptions::detect(),
    )?;
    let cx = Context {
        catalog: &catalog,
        book: &book,
        clients: Some(&register),
    };
    let valuation = value(&deliveries, cx, ValuationOptions::default())?;
    let mut rollup = Rollup::new(&[GroupBy::Year, GroupBy::Provider])?;
    rollup.extend(
        valuation.views(&book),
        RollupContext {
            catalog: &catalog,
            clients: Some(&register),
        },
    )?;

    // Lines and amounts from the rollup; distinct assisted clients counted beside it.
    let mut table: BTreeMap<(u16, ProviderId), ProviderYear> = BTreeMap::new();
    for (key, totals) in rollup.groups() {
        let parts: Vec<&KeyPart> = key.parts().collect();
        if let [KeyPart::Year(y), KeyPart::Provider(p)] = parts.as_slice() {
            let e = table.entry((*y, p.clone())).or_default();
            e.lines = totals.lines();
            e.amount = totals.amount();
        }
    }
    for v in valuation.views(&book) {
        let d = v.delivery;
        table
            .entry((d.date().year(), d.provider().clone()))
            .or_default()
            .clients
            .insert(d.client().clone());
    }

    let mut s = String::new();
    s.push_str(
        "aidcost demo: synthetic data (demo/clients.csv, demo/deliveries.csv; see demo/README.md)\n",
    );
    s.push_str("valued against the shipped price tables:\n");
    for t in book.tables() {
        s.push_str(&format!(
            "  {} version {} ({}, {} to {}) sha256 {}\n",
            t.id(),
            t.version(),
            t.scope(),
            t.valid_from(),
            t.valid_to(),
            &t.sha256()[..t.sha256().len().min(12)]
        ));
    }
    for year in YEARS {
        s.push_str(&format!("\n{year}\n"));
        let mut tt = TextTable::new(&[
            ("provider", Align::Left),
            ("clients assisted", Align::Right),
            ("lines", Align::Right),
            ("total cost EUR", Align::Right),
            ("per assisted client EUR", Align::Right),
        ]);
        let mut all_clients: BTreeSet<&ClientId> = BTreeSet::new();
        let (mut lines, mut amount) = (0u64, aidcost::Money::ZERO);
        for ((y, p), row) in &table {
            if *y != year {
                continue;
            }
            tt.row(vec![
                p.to_string(),
                row.clients.len().to_string(),
                row.lines.to_string(),
                money2(row.amount),
                per_client(row.amount, row.clients.len()),
            ]);
            all_clients.extend(&row.clients);
            lines += row.lines;
            amount = amount.checked_add(row.amount).unwrap_or(amount);
        }
        tt.rule();
        tt.row(vec![
            "total".to_owned(),
            all_clients.len().to_string(),
            lines.to_string(),
            money2(amount),
            per_client(amount, all_clients.len()),
        ]);
        s.push_str(&tt.render());
        let rejected: Vec<&aidcost::Rejection> = valuation
            .rejections()
            .iter()
            .filter(|r| {
                valuation
                    .delivery(r.row())
                    .is_some_and(|d| d.date().year() == year)
            })
            .collect();
        if rejected.is_empty() {
            s.push_str("rejections: none\n");
        } else {
            let all_over_cap = rejected.iter().all(|r| r.reason().code() == "over_cap");
            s.push_str(&format!(
                "rejections: {} ({}){}\n",
                rejected.len(),
                rejection_summary(rejected.iter().copied()),
                if all_over_cap {
                    ": quantity beyond a yearly cap per client is not priced"
                } else {
                    ""
                }
            ));
        }
    }
    let activities = aidcost::prevention::read_activities(
        DEMO_ACTIVITIES,
        Path::new("demo/activities.csv"),
        CsvOptions::detect(),
    )?;
    let (reports, _) =
        crate::commands::prevention::reports(&activities, &catalog, &book, &YEARS.map(Some))?;
    for r in &reports {
        s.push('\n');
        s.push_str(&crate::commands::prevention::render(r));
    }
    s.push_str(&format!(
        "\nall years, client assistance: rows read {}, valued {}, rejected {}, total EUR {}\n",
        valuation.rows_read(),
        valuation.rows_valued(),
        valuation.rows_rejected(),
        money2(valuation.total())
    ));
    let deflators = aidcost::compare::Deflators::from_toml(
        DEMO_DEFLATORS,
        Path::new("deflators/lt-hicp-illustrative.toml"),
    )?;
    let comparison = aidcost::compare::compare(
        &valuation,
        aidcost::compare::CompareContext {
            catalog: &catalog,
            book: &book,
            clients: &register,
        },
        &aidcost::compare::CompareOptions::default().with_deflators(deflators),
    )?;
    s.push_str(&format!(
        "\n{} against {} (real figures deflated with the illustrative index in deflators/):\n",
        comparison.year, comparison.base_year
    ));
    s.push_str(&crate::commands::compare::summary(&comparison));
    s.push_str(TRY_NEXT);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    out.write_all(s.as_bytes())?;
    out.flush()?;
    Ok(Outcome::Clean)
}

/// `amount / clients`, two decimals for display.
fn per_client(amount: aidcost::Money, clients: usize) -> String {
    match Decimal::from(clients as u64) {
        n if n.is_zero() => "-".to_owned(),
        n => amount
            .get()
            .checked_div(n)
            .map_or_else(|| "-".to_owned(), dec2),
    }
}

const TRY_NEXT: &str = "
Try next (from the repository root):
  aidcost value --tables pricing-tables --deliveries demo/deliveries.csv --clients demo/clients.csv --by provider,year
  aidcost value --tables pricing-tables --deliveries demo/deliveries.csv --clients demo/clients.csv --by year,category --format csv --excel-lt > by-category.csv
  aidcost compare --tables pricing-tables --deliveries demo/deliveries.csv --clients demo/clients.csv --deflators deflators/lt-hicp-illustrative.toml --chart compare.svg
  aidcost explain --client C24-0092 --tables pricing-tables --deliveries demo/deliveries.csv --clients demo/clients.csv
  aidcost check --tables pricing-tables --deliveries demo/deliveries.csv --clients demo/clients.csv
  aidcost catalog
";
