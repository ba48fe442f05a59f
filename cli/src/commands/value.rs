//! `aidcost value`: value deliveries and total them by the chosen keys.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use aidcost::columnar::{value_csv_by_client, ColumnarOptions};
use aidcost::{Context, GroupBy, PriceBook, Rollup, RollupContext, Scope, Valuation};
use serde::Serialize;

use crate::commands::{load_register, rejection_summary, Loaded};
use crate::failure::{CmdResult, Failure, Outcome};
use crate::input::{load_tables, Deliveries, InputArgs, Status};
use crate::output::{
    money2, money_exact, qty, write_json, Align, Cell, CsvOut, Format, RawRecords, TextTable,
    TotalsCells,
};

/// Arguments of `aidcost value`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    input: InputArgs,
    /// Group by up to four of: client, household, provider, element, category, target-group,
    /// month, year (comma-separated).
    #[arg(long, value_name = "KEY[,KEY…]", default_value = "provider")]
    by: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Any rejection (even a partial, over-cap one) makes the exit status 1.
    #[arg(long)]
    strict: bool,
    /// Also write the rejections to this CSV file.
    #[arg(long, value_name = "FILE")]
    rejections: Option<PathBuf>,
    /// CSV output for Lithuanian Excel: semicolons, decimal commas, UTF-8 BOM, CRLF.
    #[arg(long)]
    excel_lt: bool,
    /// Prevention activities (CSV): valued and reported apart from client assistance.
    #[arg(long, value_name = "FILE")]
    activities: Option<PathBuf>,
    /// Threads for `--by client`, which values the file while reading it, in memory bounded
    /// by the number of clients (default: every core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

/// The JSON document of `value --format json` (documented in docs/cli.md; keep it stable).
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    tables: Vec<TableJson>,
    rows_read: u64,
    rows_valued: u64,
    rows_rejected: u64,
    total: String,
    by: Vec<&'static str>,
    groups: Vec<GroupJson>,
    rejections: Vec<RejectionJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prevention: Option<super::prevention::PreventionJson>,
}

/// A price table's identity.
#[derive(Debug, Serialize)]
pub(crate) struct TableJson {
    id: String,
    version: String,
    scope: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<String>,
    valid_from: String,
    valid_to: String,
    sha256: String,
    file: String,
}

#[derive(Debug, Serialize)]
struct GroupJson {
    key: BTreeMap<&'static str, String>,
    lines: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    quantity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<&'static str>,
    amount: String,
}

/// One rejection with the offending values.
#[derive(Debug, Serialize)]
pub(crate) struct RejectionJson {
    row: u64,
    line: u64,
    reason_code: &'static str,
    reason: String,
    partial: bool,
    date: String,
    provider: String,
    client: String,
    element: String,
    quantity: String,
}

/// The identity of every table in the book.
pub(crate) fn tables_json(book: &PriceBook) -> Vec<TableJson> {
    book.tables()
        .iter()
        .map(|t| {
            let (scope, provider) = match t.scope() {
                Scope::Provider(p) => ("provider", Some(p.to_string())),
                _ => ("national", None),
            };
            TableJson {
                id: t.id().to_string(),
                version: t.version().to_owned(),
                scope,
                provider,
                valid_from: t.valid_from().to_string(),
                valid_to: t.valid_to().to_string(),
                sha256: t.sha256().to_owned(),
                file: t.origin().display().to_string(),
            }
        })
        .collect()
}

/// Every rejection with its row's values and file line.
pub(crate) fn rejections_json(v: &Valuation<'_>, deliveries: &Deliveries) -> Vec<RejectionJson> {
    v.rejections()
        .iter()
        .map(|r| {
            let d = v.delivery(r.row());
            RejectionJson {
                row: r.row(),
                line: deliveries.line_of(r.row()),
                reason_code: r.reason().code(),
                reason: r.reason().to_string(),
                partial: r.is_partial(),
                date: d.map(|d| d.date().to_string()).unwrap_or_default(),
                provider: d.map(|d| d.provider().to_string()).unwrap_or_default(),
                client: d.map(|d| d.client().to_string()).unwrap_or_default(),
                element: d.map(|d| d.element().to_string()).unwrap_or_default(),
                quantity: d.map(|d| qty(d.quantity())).unwrap_or_default(),
            }
        })
        .collect()
}

/// Runs `aidcost value`.
pub(crate) fn run(args: &Args) -> CmdResult {
    let by = Rollup::parse_keys(&args.by)?;
    if args.excel_lt && args.format != Format::Csv {
        return Err(Failure::msg("--excel-lt applies to --format csv"));
    }
    if let Some(0) = args.threads {
        return Err(Failure::msg("--threads: at least 1"));
    }
    if by == [GroupBy::Client] {
        if let Some(done) = by_client_streaming(args)? {
            return Ok(done);
        }
    }
    let mut rollup = Rollup::new(&by)?;
    let loaded = Loaded::read(&args.input)?;
    let valuation = loaded.value()?;
    rollup.extend(
        valuation.views(&loaded.book),
        RollupContext {
            catalog: &loaded.catalog,
            clients: loaded.clients.as_ref(),
        },
    )?;
    let rejections = rejections_json(&valuation, &loaded.deliveries);
    if let Some(path) = &args.rejections {
        write_rejections_csv(path, &rejections, args.excel_lt)?;
    }
    let summary = format!(
        "rows read {}, valued {}, rejected {}, total EUR {}",
        valuation.rows_read(),
        valuation.rows_valued(),
        valuation.rows_rejected(),
        money2(valuation.total())
    );
    let prevention = match &args.activities {
        Some(path) => {
            let activities = super::prevention::read(path, args.input.csv_options())?;
            let (mut reports, line) =
                super::prevention::reports(&activities, &loaded.catalog, &loaded.book, &[None])?;
            Some((reports.remove(0), line))
        }
        None => None,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Table => {
            let head = Heading {
                deliveries: &loaded.deliveries.path,
                book: &loaded.book,
                rejections: valuation.rejections(),
            };
            write!(out, "{}", render_table(&head, &rollup))?;
            writeln!(out, "{summary}")?;
            if let Some((report, line)) = &prevention {
                write!(out, "\n{}", super::prevention::render(report))?;
                writeln!(out, "{line}")?;
            }
        }
        Format::Csv => {
            write_groups_csv(&mut out, &rollup, args.excel_lt)?;
            eprintln!("{summary}");
            if let Some((_, line)) = &prevention {
                eprintln!("{line} (use --format table or json for the prevention report)");
            }
        }
        Format::Json => {
            let report = Report {
                tables: tables_json(&loaded.book),
                rows_read: valuation.rows_read(),
                rows_valued: valuation.rows_valued(),
                rows_rejected: valuation.rows_rejected(),
                total: money_exact(valuation.total()),
                by: by.iter().map(|g| g.as_str()).collect(),
                groups: groups_json(&rollup),
                rejections,
                prevention: prevention.as_ref().map(|(r, _)| r.into()),
            };
            write_json(&mut out, &report)?;
            eprintln!("{summary}");
        }
    }
    out.flush()?;
    if args.strict && !valuation.rejections().is_empty() {
        let first = &valuation.rejections()[0];
        eprintln!(
            "error: {} rejection(s) under --strict; the first: {}: row {}: {}",
            valuation.rejections().len(),
            loaded.deliveries.locate(first.row()),
            first.row(),
            first.reason()
        );
        return Ok(Outcome::Problems);
    }
    Ok(Outcome::Clean)
}

fn groups_json(rollup: &Rollup) -> Vec<GroupJson> {
    rollup
        .groups()
        .map(|(key, t)| GroupJson {
            key: rollup
                .by()
                .iter()
                .zip(key.parts())
                .map(|(g, p)| (g.as_str(), p.to_string()))
                .collect(),
            lines: t.lines(),
            quantity: t.quantity().map(|(q, _)| qty(q)),
            unit: t.quantity().map(|(_, u)| u.as_str()),
            amount: money_exact(t.amount()),
        })
        .collect()
}

fn header_names(by: &[GroupBy]) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = by.iter().map(|g| g.as_str()).collect();
    names.extend(["lines", "quantity", "unit", "amount"]);
    names
}

/// What the table output says above and below the groups.
struct Heading<'a> {
    deliveries: &'a std::path::Path,
    book: &'a PriceBook,
    rejections: &'a [aidcost::Rejection],
}

fn render_table(head: &Heading<'_>, rollup: &Rollup) -> String {
    let mut text = String::new();
    text.push_str(&format!(
        "deliveries {} valued against:\n",
        head.deliveries.display()
    ));
    for t in head.book.tables() {
        text.push_str(&format!(
            "  {} version {} ({}, {} to {}) sha256 {} ({})\n",
            t.id(),
            t.version(),
            t.scope(),
            t.valid_from(),
            t.valid_to(),
            t.sha256(),
            t.origin().display()
        ));
    }
    text.push('\n');
    let names = header_names(rollup.by());
    let columns: Vec<(&str, Align)> = names
        .iter()
        .map(|n| match *n {
            "lines" | "quantity" | "amount" => (*n, Align::Right),
            _ => (*n, Align::Left),
        })
        .collect();
    let mut table = TextTable::new(&columns);
    let keys = rollup.by().len();
    for (key, t) in rollup.groups() {
        let mut cells: Vec<String> = key.parts().map(ToString::to_string).collect();
        cells.push(t.lines().to_string());
        cells.extend(quantity_cells(t));
        cells.push(money2(t.amount()));
        table.row(cells);
    }
    table.rule();
    let t = rollup.total();
    let mut cells = vec![String::new(); keys];
    if let Some(first) = cells.first_mut() {
        *first = "total".to_owned();
    }
    cells.push(t.lines().to_string());
    cells.extend(quantity_cells(t));
    cells.push(money2(t.amount()));
    table.row(cells);
    text.push_str(&table.render());
    text.push('\n');
    if !head.rejections.is_empty() {
        text.push_str(&format!(
            "rejections: {} ({}); list them with --rejections FILE or --format json\n",
            head.rejections.len(),
            rejection_summary(head.rejections)
        ));
    }
    text
}

/// `--by client` without reading the whole file into memory: the rows are valued and totalled
/// while they are read, on `--threads` threads. `None` when the output must list rejected
/// rows with their values (JSON, `--rejections`, `--strict`), which the whole-file path keeps;
/// or when prevention activities are to be reported too.
fn by_client_streaming(args: &Args) -> Result<Option<Outcome>, Failure> {
    if args.activities.is_some() {
        return Ok(None);
    }
    let (catalog, book) = load_tables(&args.input.tables)?;
    let clients = load_register(&args.input, &catalog)?;
    let cx = Context {
        catalog: &catalog,
        book: &book,
        clients: clients.as_ref(),
    };
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let result = {
        let _status = Status::for_file(&args.input.deliveries);
        value_csv_by_client(
            &args.input.deliveries,
            args.input.csv_options(),
            cx,
            ColumnarOptions::threads(threads),
        )?
    };
    let listed = args.format == Format::Json || args.rejections.is_some() || args.strict;
    if listed && !result.rejections().is_empty() {
        return Ok(None);
    }
    if let Some(path) = &args.rejections {
        write_rejections_csv(path, &[], args.excel_lt)?;
    }
    let summary = format!(
        "rows read {}, valued {}, rejected {}, total EUR {}",
        result.rows_read(),
        result.rows_valued(),
        result.rows_rejected(),
        money2(result.total())
    );
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Table => {
            let head = Heading {
                deliveries: &args.input.deliveries,
                book: &book,
                rejections: result.rejections(),
            };
            write!(out, "{}", render_table(&head, &result.to_rollup()?))?;
            writeln!(out, "{summary}")?;
        }
        Format::Csv => {
            // Straight from the totals by client, in client order, as the rollup lists them,
            // with no string made for a cell.
            let mut csv = CsvOut::new(&mut out, args.excel_lt)?;
            csv.header(&header_names(&[GroupBy::Client]))?;
            csv.finish()?;
            let mut records = RawRecords::new(&mut out, args.excel_lt);
            let mut totals = TotalsCells::default();
            // In id order the clients' totals and ids lie scattered in memory: each batch's
            // are read first in a tight loop, where their cache misses overlap, then written.
            // The totals are copied whole (a client's may straddle two cache lines).
            let mut copies = [aidcost::Totals::default(); 32];
            for batch in result.by_client().chunks(32) {
                let touched = batch
                    .iter()
                    .zip(&mut copies)
                    .fold(0, |x, ((client, t), copy)| {
                        *copy = **t;
                        x ^ u64::from(client.as_str().as_bytes().first().copied().unwrap_or(0))
                    });
                std::hint::black_box(touched);
                for ((client, _), t) in batch.iter().zip(&copies) {
                    let [lines, q, u, amount] = totals.fill(t, args.excel_lt);
                    records.record(&[client.as_str().as_bytes(), lines, q, u, amount])?;
                }
            }
            records.finish()?;
            eprintln!("{summary}");
        }
        Format::Json => {
            let rollup = result.to_rollup()?;
            let report = Report {
                tables: tables_json(&book),
                rows_read: result.rows_read(),
                rows_valued: result.rows_valued(),
                rows_rejected: result.rows_rejected(),
                total: money_exact(result.total()),
                by: vec![GroupBy::Client.as_str()],
                groups: groups_json(&rollup),
                rejections: Vec::new(),
                prevention: None,
            };
            write_json(&mut out, &report)?;
            eprintln!("{summary}");
        }
    }
    out.flush()?;
    Ok(Some(Outcome::Clean))
}

fn quantity_cells(t: &aidcost::Totals) -> [String; 2] {
    match t.quantity() {
        Some((q, u)) => [qty(q), u.to_string()],
        None => [String::new(), String::new()],
    }
}

fn write_groups_csv(out: impl Write, rollup: &Rollup, excel_lt: bool) -> Result<(), Failure> {
    let groups = rollup
        .groups()
        .map(|(key, t)| (key.parts().map(|p| Cell::Text(p.to_string())).collect(), t));
    write_csv_groups(out, rollup.by(), groups, excel_lt)
}

/// Groups as CSV: the key's cells, then lines, quantity, unit and amount.
fn write_csv_groups<'t>(
    out: impl Write,
    by: &[GroupBy],
    groups: impl Iterator<Item = (Vec<Cell>, &'t aidcost::Totals)>,
    excel_lt: bool,
) -> Result<(), Failure> {
    let mut csv = CsvOut::new(out, excel_lt)?;
    csv.header(&header_names(by))?;
    let mut totals = TotalsCells::default();
    for (cells, t) in groups {
        csv.record_then(&cells, totals.fill(t, excel_lt))?;
    }
    csv.finish()?;
    Ok(())
}

fn write_rejections_csv(
    path: &std::path::Path,
    rejections: &[RejectionJson],
    excel_lt: bool,
) -> Result<(), Failure> {
    let file = std::fs::File::create(path)
        .map_err(|e| Failure::msg(format!("{}: cannot write: {e}", path.display())))?;
    let mut csv = CsvOut::new(std::io::BufWriter::new(file), excel_lt)?;
    csv.header(&[
        "row",
        "line",
        "reason_code",
        "reason",
        "partial",
        "date",
        "provider",
        "client",
        "element",
        "quantity",
    ])?;
    for r in rejections {
        csv.record(&[
            Cell::Num(r.row.to_string()),
            Cell::Num(r.line.to_string()),
            Cell::Text(r.reason_code.to_owned()),
            Cell::Text(r.reason.clone()),
            Cell::Text(if r.partial { "yes" } else { "no" }.to_owned()),
            Cell::Text(r.date.clone()),
            Cell::Text(r.provider.clone()),
            Cell::Text(r.client.clone()),
            Cell::Text(r.element.clone()),
            Cell::Num(r.quantity.clone()),
        ])?;
    }
    csv.finish()
        .map_err(|e| Failure::msg(format!("{}: cannot write: {e}", path.display())))
}
