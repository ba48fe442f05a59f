//! `aidcost check`: every problem with the tables, the register and the deliveries, one per
//! line with file, line and reason; exit status 1 when there is any.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use aidcost::{
    read_clients_all, read_deliveries_all, value, Catalog, ClientRegister, Context, Error,
    PriceBook, ValuationOptions,
};

use crate::failure::{causes, CmdResult, Failure, Outcome};
use crate::input::{csv_options, read_text};
use crate::output::money2;

/// Arguments of `aidcost check`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Folder of price tables (`*.toml`); its `catalog.toml` if present, else the shipped catalog.
    #[arg(long, value_name = "DIR")]
    tables: PathBuf,
    /// Deliveries CSV to check (and value, listing every rejection).
    #[arg(long, value_name = "FILE")]
    deliveries: Option<PathBuf>,
    /// Client register CSV to check.
    #[arg(long, value_name = "FILE")]
    clients: Option<PathBuf>,
    /// Read decimal commas (`12,50`) in a comma-delimited file.
    #[arg(long)]
    decimal_comma: bool,
}

/// Problem messages, each prefixed with its file when the library's message does not name it.
#[derive(Default)]
struct Problems {
    list: Vec<String>,
}

impl Problems {
    fn push(&mut self, file: &Path, e: &Error) {
        let text = causes(e).join(": ");
        let name = file.display().to_string();
        if text.starts_with(&name) {
            self.list.push(text);
        } else {
            self.list.push(format!("{name}: {text}"));
        }
    }
}

/// Runs `aidcost check`.
pub(crate) fn run(args: &Args) -> CmdResult {
    let options = csv_options(args.decimal_comma);
    let mut problems = Problems::default();
    let mut summary: Vec<String> = Vec::new();
    if !args.tables.is_dir() {
        return Err(Failure::msg(format!(
            "{}: cannot read: not a folder of price tables",
            args.tables.display()
        )));
    }
    let catalog_path = args.tables.join("catalog.toml");
    let catalog = if catalog_path.is_file() {
        match Catalog::load(&catalog_path) {
            Ok(c) => {
                summary.push(format!(
                    "catalog {} ({} elements)",
                    catalog_path.display(),
                    c.len()
                ));
                Some(c)
            }
            Err(e) => {
                problems.push(&catalog_path, &e);
                None
            }
        }
    } else {
        let c = Catalog::shipped()?;
        summary.push(format!("shipped catalog ({} elements)", c.len()));
        Some(c)
    };

    let mut book = None;
    if let Some(catalog) = &catalog {
        let found = PriceBook::check_dir(&args.tables, catalog);
        if found.is_empty() {
            let b = PriceBook::load_dir(&args.tables, catalog)?;
            summary.push(format!("{} price tables", b.tables().len()));
            match aidcost::derivation::check_book(&b, catalog) {
                Ok(found) => problems.list.extend(found.iter().map(ToString::to_string)),
                Err(e) => problems.push(&args.tables, &e),
            }
            book = Some(b);
        } else {
            for e in &found {
                problems.push(&args.tables, e);
            }
        }
    }

    let mut register: Option<ClientRegister> = None;
    if let Some(path) = &args.clients {
        let text = read_text(path)?;
        let (reg, errors) = read_clients_all(&text, path, options);
        for e in &errors {
            problems.push(path, e);
        }
        if let Some(catalog) = &catalog {
            for e in &reg.unknown_needs(catalog) {
                problems.push(path, e);
            }
        }
        summary.push(format!("{} clients", reg.len()));
        register = Some(reg);
    }

    if let Some(path) = &args.deliveries {
        let text = read_text(path)?;
        let (rows, errors) = read_deliveries_all(&text, path, options);
        // The file lines of the rows that were read well: every record's line but the bad ones.
        let bad: BTreeSet<u64> = errors.iter().filter_map(error_line).collect();
        let lines: Vec<u64> = aidcost::record_lines(&text, options)
            .into_iter()
            .filter(|l| !bad.contains(l))
            .collect();
        for e in &errors {
            problems.push(path, e);
        }
        match (&catalog, &book) {
            (Some(catalog), Some(book)) => {
                let cx = Context {
                    catalog,
                    book,
                    clients: register.as_ref(),
                };
                let v = value(&rows, cx, ValuationOptions::default())?;
                for r in v.rejections() {
                    let line = usize::try_from(r.row())
                        .ok()
                        .and_then(|i| lines.get(i.wrapping_sub(1)).copied())
                        .unwrap_or(r.row() + 1);
                    problems.list.push(format!(
                        "{}:{line}: row {}{}: {}",
                        path.display(),
                        r.row(),
                        if r.is_partial() {
                            " (partly valued)"
                        } else {
                            ""
                        },
                        r.reason()
                    ));
                }
                summary.push(format!(
                    "{} deliveries read, {} valued, total EUR {}",
                    rows.len(),
                    v.rows_valued(),
                    money2(v.total())
                ));
            }
            _ => summary.push(format!(
                "{} deliveries read (not valued: the tables have problems)",
                rows.len()
            )),
        }
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if problems.list.is_empty() {
        writeln!(out, "ok: {}", summary.join(", "))?;
        out.flush()?;
        Ok(Outcome::Clean)
    } else {
        for p in &problems.list {
            writeln!(out, "{p}")?;
        }
        writeln!(
            out,
            "{} problem{} found",
            problems.list.len(),
            if problems.list.len() == 1 { "" } else { "s" }
        )?;
        out.flush()?;
        Ok(Outcome::Problems)
    }
}

fn error_line(e: &Error) -> Option<u64> {
    match e {
        Error::Invalid { location, .. } if location.line() > 0 => Some(location.line()),
        _ => None,
    }
}
