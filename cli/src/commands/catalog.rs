//! `aidcost catalog`: the unified package with the current national price of each element.

use std::io::Write;
use std::path::PathBuf;

use aidcost::{Catalog, Date, PriceBook, PriceRow, PriceRule, PricingTable, Scope};
use serde::Serialize;

use crate::failure::{CmdResult, Failure, Outcome};
use crate::input::load_tables;
use crate::output::{price, qty, write_json, Align, Cell, CsvOut, Format, TextTable};

/// Arguments of `aidcost catalog`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Folder of price tables; without it, the shipped catalog and tables.
    #[arg(long, value_name = "DIR")]
    tables: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// CSV output for Lithuanian Excel: semicolons, decimal commas, UTF-8 BOM, CRLF.
    #[arg(long)]
    excel_lt: bool,
    /// Price as on this date (`YYYY-MM-DD`) instead of today.
    #[arg(long, value_name = "DATE")]
    on: Option<String>,
}

#[derive(Serialize)]
struct CatalogJson {
    table: Option<TableRef>,
    elements: Vec<ElementJson>,
}

#[derive(Serialize)]
struct TableRef {
    id: String,
    version: String,
    valid_from: String,
    valid_to: String,
    sha256: String,
    file: String,
    covers_date: bool,
}

#[derive(Serialize)]
struct ElementJson {
    code: String,
    name_lt: String,
    name_en: String,
    category: &'static str,
    unit: &'static str,
    spis: Option<u32>,
    price: Option<PriceJson>,
}

#[derive(Serialize)]
struct PriceJson {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit_price: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tiers: Vec<TierJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_increment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cap_per_client_year: Option<String>,
}

#[derive(Serialize)]
struct TierJson {
    up_to: Option<String>,
    unit_price: String,
}

/// Today's date (UTC) from the system clock.
fn today() -> Option<Date> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    let days = i64::try_from(secs / 86_400).ok()?;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Date::new(
        u16::try_from(year).ok()?,
        u8::try_from(month).ok()?,
        u8::try_from(day).ok()?,
    )
    .ok()
}

/// The national table covering `date`, else the latest national table.
fn national_table(book: &PriceBook, date: Date) -> Option<(&PricingTable, bool)> {
    let national = || {
        book.tables()
            .iter()
            .filter(|t| matches!(t.scope(), Scope::National))
    };
    national()
        .find(|t| t.covers(date))
        .map(|t| (t, true))
        .or_else(|| {
            national()
                .max_by_key(|t| t.valid_from())
                .map(|t| (t, false))
        })
}

/// `32.00`, `32.00 ≤30, 24.00`, or `pass-through`.
fn price_text(row: &PriceRow) -> String {
    match row.rule() {
        PriceRule::Flat(p) => price(*p),
        PriceRule::Tiered(tiers) => tiers
            .iter()
            .map(|t| match t.up_to() {
                Some(u) => format!("{} ≤{}", price(t.unit_price()), qty(u)),
                None => price(t.unit_price()),
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => "pass-through".to_owned(),
    }
}

/// `min 0.25; cap 2000/yr`.
fn rules_text(row: &PriceRow) -> String {
    let mut parts = Vec::new();
    if let Some(inc) = row.min_increment() {
        parts.push(format!("min increment {}", qty(inc)));
    }
    if let Some(cap) = row.cap_per_client_year() {
        parts.push(format!("cap {} per client-year", qty(cap)));
    }
    parts.join("; ")
}

fn price_json(row: &PriceRow) -> PriceJson {
    let (kind, unit_price, tiers) = match row.rule() {
        PriceRule::Flat(p) => ("flat", Some(price(*p)), Vec::new()),
        PriceRule::Tiered(tiers) => (
            "tiered",
            None,
            tiers
                .iter()
                .map(|t| TierJson {
                    up_to: t.up_to().map(qty),
                    unit_price: price(t.unit_price()),
                })
                .collect(),
        ),
        _ => ("pass_through", None, Vec::new()),
    };
    PriceJson {
        kind,
        unit_price,
        tiers,
        min_increment: row.min_increment().map(qty),
        cap_per_client_year: row.cap_per_client_year().map(qty),
    }
}

/// Runs `aidcost catalog`.
pub(crate) fn run(args: &Args) -> CmdResult {
    if args.excel_lt && args.format != Format::Csv {
        return Err(Failure::msg("--excel-lt applies to --format csv"));
    }
    let date = match &args.on {
        Some(s) => s
            .parse::<Date>()
            .map_err(|e| Failure::msg(format!("--on: {e}")))?,
        None => today().ok_or_else(|| Failure::msg("cannot read today's date from the clock"))?,
    };
    let (catalog, book) = match &args.tables {
        Some(dir) => load_tables(dir)?,
        None => {
            let c = Catalog::shipped()?;
            let b = PriceBook::shipped(&c)?;
            (c, b)
        }
    };
    let table = national_table(&book, date);
    let row_of = |code: &str| table.and_then(|(t, _)| t.row(code));

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Table => {
            match table {
                Some((t, covers)) => writeln!(
                    out,
                    "Prices: national table {} version {} ({} to {}, {}){}",
                    t.id(),
                    t.version(),
                    t.valid_from(),
                    t.valid_to(),
                    t.origin().display(),
                    if covers {
                        format!(", in force on {date}")
                    } else {
                        format!("; the latest national table, none covers {date}")
                    }
                )?,
                None => writeln!(out, "Prices: no national table")?,
            }
            writeln!(out)?;
            let mut tt = TextTable::new(&[
                ("code", Align::Left),
                ("name (lt)", Align::Left),
                ("name (en)", Align::Left),
                ("category", Align::Left),
                ("unit", Align::Left),
                ("SPIS", Align::Right),
                ("price EUR", Align::Right),
                ("rules", Align::Left),
            ]);
            for e in catalog.iter() {
                let row = row_of(e.code().as_str());
                tt.row(vec![
                    e.code().to_string(),
                    e.name_lt().to_owned(),
                    e.name_en().to_owned(),
                    e.category().to_string(),
                    e.unit().to_string(),
                    e.spis().map(|s| s.to_string()).unwrap_or_default(),
                    row.map_or_else(|| "-".to_owned(), price_text),
                    row.map(rules_text).unwrap_or_default(),
                ]);
            }
            write!(out, "{}", tt.render())?;
        }
        Format::Csv => {
            let mut csv = CsvOut::new(&mut out, args.excel_lt)?;
            csv.header(&[
                "code", "name_lt", "name_en", "category", "unit", "spis", "price", "rules",
                "table", "version",
            ])?;
            for e in catalog.iter() {
                let row = row_of(e.code().as_str());
                let price_cell = match row.map(|r| r.rule()) {
                    Some(PriceRule::Flat(p)) => Cell::Num(price(*p)),
                    Some(_) => Cell::Text(row.map(price_text).unwrap_or_default()),
                    None => Cell::Text(String::new()),
                };
                csv.record(&[
                    Cell::Text(e.code().to_string()),
                    Cell::Text(e.name_lt().to_owned()),
                    Cell::Text(e.name_en().to_owned()),
                    Cell::Text(e.category().to_string()),
                    Cell::Text(e.unit().to_string()),
                    Cell::Text(e.spis().map(|s| s.to_string()).unwrap_or_default()),
                    price_cell,
                    Cell::Text(row.map(rules_text).unwrap_or_default()),
                    Cell::Text(table.map(|(t, _)| t.id().to_string()).unwrap_or_default()),
                    Cell::Text(
                        table
                            .map(|(t, _)| t.version().to_owned())
                            .unwrap_or_default(),
                    ),
                ])?;
            }
            csv.finish()?;
        }
        Format::Json => {
            let doc = CatalogJson {
                table: table.map(|(t, covers)| TableRef {
                    id: t.id().to_string(),
                    version: t.version().to_owned(),
                    valid_from: t.valid_from().to_string(),
                    valid_to: t.valid_to().to_string(),
                    sha256: t.sha256().to_owned(),
                    file: t.origin().display().to_string(),
                    covers_date: covers,
                }),
                elements: catalog
                    .iter()
                    .map(|e| ElementJson {
                        code: e.code().to_string(),
                        name_lt: e.name_lt().to_owned(),
                        name_en: e.name_en().to_owned(),
                        category: e.category().as_str(),
                        unit: e.unit().as_str(),
                        spis: e.spis(),
                        price: row_of(e.code().as_str()).map(price_json),
                    })
                    .collect(),
            };
            write_json(&mut out, &doc)?;
        }
    }
    out.flush()?;
    Ok(Outcome::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn today_is_a_plausible_date() {
        let d = today().unwrap();
        assert!(d.year() >= 2024);
    }
}
