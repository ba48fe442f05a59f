//! Reading the inputs: catalog, price tables, deliveries and the client register, with the
//! CSV line of every delivery row kept for messages, and a progress status for large inputs.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use aidcost::{
    read_clients, read_deliveries, record_lines, Catalog, ClientRegister, CsvOptions, Delivery,
    PriceBook,
};

use crate::failure::Failure;

/// Inputs shared by `value` and `explain`.
#[derive(Debug, clap::Args)]
pub(crate) struct InputArgs {
    /// Folder of price tables (`*.toml`); its `catalog.toml` if present, else the shipped catalog.
    #[arg(long, value_name = "DIR")]
    pub(crate) tables: PathBuf,
    /// Deliveries CSV (comma or semicolon, detected).
    #[arg(long, value_name = "FILE")]
    pub(crate) deliveries: PathBuf,
    /// Client register CSV: checks clients and links children to their household.
    #[arg(long, value_name = "FILE")]
    pub(crate) clients: Option<PathBuf>,
    /// Read decimal commas (`12,50`) in a comma-delimited file (semicolon files always may).
    #[arg(long)]
    pub(crate) decimal_comma: bool,
}

impl InputArgs {
    pub(crate) fn csv_options(&self) -> CsvOptions {
        csv_options(self.decimal_comma)
    }
}

/// The CSV options for `--decimal-comma`.
pub(crate) fn csv_options(decimal_comma: bool) -> CsvOptions {
    if decimal_comma {
        CsvOptions::detect().with_decimal_comma(true)
    } else {
        CsvOptions::detect()
    }
}

/// Rows above which a progress status is shown (on a terminal only).
const LARGE_INPUT_ROWS: usize = 200_000;

/// The catalog of a tables folder: its `catalog.toml` if present, else the shipped one.
pub(crate) fn catalog_of(dir: &Path) -> Result<Catalog, Failure> {
    let own = dir.join("catalog.toml");
    if own.is_file() {
        Ok(Catalog::load(own)?)
    } else {
        Ok(Catalog::shipped()?)
    }
}

/// The catalog and price book of a tables folder.
pub(crate) fn load_tables(dir: &Path) -> Result<(Catalog, PriceBook), Failure> {
    if !dir.is_dir() {
        return Err(Failure::msg(format!(
            "{}: cannot read: not a folder of price tables",
            dir.display()
        )));
    }
    let catalog = catalog_of(dir)?;
    let book = PriceBook::load_dir(dir, &catalog)?;
    if book.tables().is_empty() {
        return Err(Failure::msg(format!(
            "{}: no price tables (*.toml other than catalog.toml) in the folder",
            dir.display()
        )));
    }
    Ok((catalog, book))
}

/// A text file, or a one-line reason why not.
pub(crate) fn read_text(path: &Path) -> Result<String, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::msg(format!("{}: cannot read: {e}", path.display())))?;
    String::from_utf8(bytes).map_err(|e| {
        Failure::msg(format!(
            "{}: not UTF-8 text (byte {}); save the file as CSV UTF-8",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Deliveries read from a file, with the file line of each row.
#[derive(Debug)]
pub(crate) struct Deliveries {
    pub(crate) path: PathBuf,
    pub(crate) rows: Vec<Delivery>,
    /// `lines[i]` is the file line of row `i + 1`.
    pub(crate) lines: Vec<u64>,
}

impl Deliveries {
    /// The file line of a row counted from 1 (`row + 1` when unknown).
    pub(crate) fn line_of(&self, row: u64) -> u64 {
        usize::try_from(row)
            .ok()
            .and_then(|r| r.checked_sub(1))
            .and_then(|i| self.lines.get(i).copied())
            .unwrap_or(row + 1)
    }

    /// `file:line` of a row.
    pub(crate) fn locate(&self, row: u64) -> String {
        format!("{}:{}", self.path.display(), self.line_of(row))
    }
}

/// Reads a deliveries file; the first malformed cell is an error naming file, line, column
/// and field.
pub(crate) fn load_deliveries(path: &Path, options: CsvOptions) -> Result<Deliveries, Failure> {
    let big = std::fs::metadata(path).is_ok_and(|m| m.len() > 16 * 1024 * 1024);
    let status = big.then(|| Status::show(&format!("reading {}", path.display())));
    let text = read_text(path)?;
    let rows = read_deliveries(&text, path, options)?;
    let lines = record_lines(&text, options);
    drop(status);
    Ok(Deliveries {
        path: path.to_owned(),
        rows,
        lines,
    })
}

/// Reads a client register file.
pub(crate) fn load_clients(path: &Path, options: CsvOptions) -> Result<ClientRegister, Failure> {
    let text = read_text(path)?;
    Ok(read_clients(&text, path, options)?)
}

/// A one-line status on standard error, shown only when standard error is a terminal and
/// cleared when dropped.
pub(crate) struct Status {
    shown: bool,
}

impl Status {
    /// Shows `message…`.
    pub(crate) fn show(message: &str) -> Self {
        let shown = std::io::stderr().is_terminal();
        if shown {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{message}…\x1b[K");
            let _ = err.flush();
        }
        Self { shown }
    }

    /// A status for valuing a file while reading it, when it is large.
    pub(crate) fn for_file(path: &Path) -> Option<Self> {
        let big = std::fs::metadata(path).is_ok_and(|m| m.len() > 16 * 1024 * 1024);
        big.then(|| Self::show(&format!("valuing {}", path.display())))
    }

    /// A status for valuing `rows` rows, when there are many.
    pub(crate) fn for_rows(rows: usize) -> Option<Self> {
        (rows > LARGE_INPUT_ROWS).then(|| Self::show(&format!("valuing {rows} rows")))
    }
}

impl Drop for Status {
    fn drop(&mut self) {
        if self.shown {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }
}
