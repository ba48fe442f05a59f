//! Reading CSV as spreadsheets write it: comma or semicolon (detected from the header), an
//! optional UTF-8 byte-order mark, and decimal commas in semicolon files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Location, Result};

/// How to read a CSV file. The default detects everything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CsvOptions {
    /// The delimiter; `None` detects `;` or `,` from the header line.
    pub delimiter: Option<u8>,
    /// Accept `12,50` for 12.50; `None` accepts it exactly when the delimiter is `;`.
    pub decimal_comma: Option<bool>,
}

impl CsvOptions {
    /// Detects the delimiter; decimal commas follow the delimiter.
    pub fn detect() -> Self {
        Self::default()
    }

    /// Forces decimal commas on (or off).
    pub fn with_decimal_comma(mut self, on: bool) -> Self {
        self.decimal_comma = Some(on);
        self
    }

    /// Forces a delimiter.
    pub fn with_delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = Some(delimiter);
        self
    }
}

/// A CSV file opened for reading by column name.
pub(crate) struct CsvTable<'a> {
    origin: PathBuf,
    reader: csv::Reader<&'a [u8]>,
    body: &'a [u8],
    columns: HashMap<String, usize>,
    decimal_comma: bool,
    record: csv::StringRecord,
}

/// One record, with what is needed to locate its fields.
pub(crate) struct Row<'t> {
    pub(crate) line: u64,
    record: &'t csv::StringRecord,
    columns: &'t HashMap<String, usize>,
    origin: &'t Path,
    decimal_comma: bool,
}

fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

pub(crate) fn detect_delimiter(text: &str) -> u8 {
    let header = strip_bom(text).lines().next().unwrap_or("");
    let semis = header.matches(';').count();
    let commas = header.matches(',').count();
    if semis > commas {
        b';'
    } else {
        b','
    }
}

impl<'a> CsvTable<'a> {
    pub(crate) fn open(
        text: &'a str,
        origin: &Path,
        options: CsvOptions,
        required: &[&str],
        known: &[&str],
    ) -> Result<Self> {
        let body = strip_bom(text);
        let delimiter = options.delimiter.unwrap_or_else(|| detect_delimiter(body));
        let decimal_comma = options.decimal_comma.unwrap_or(delimiter == b';');
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(true)
            .flexible(false)
            .trim(csv::Trim::All)
            .from_reader(body.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| csv_error(origin, body.as_bytes(), &e))?
            .clone();
        let mut columns = HashMap::new();
        for (i, h) in headers.iter().enumerate() {
            let name = h.trim().to_ascii_lowercase();
            if !known.contains(&name.as_str()) {
                return Err(Error::Invalid {
                    location: Location::new(origin, 1, i as u64 + 1),
                    field: name.clone(),
                    message: format!("unknown column; expected some of: {}", known.join(", ")),
                });
            }
            if columns.insert(name.clone(), i).is_some() {
                return Err(Error::Invalid {
                    location: Location::new(origin, 1, i as u64 + 1),
                    field: name,
                    message: "column appears twice".to_owned(),
                });
            }
        }
        for r in required {
            if !columns.contains_key(*r) {
                return Err(Error::Invalid {
                    location: Location::new(origin, 1, 0),
                    field: (*r).to_owned(),
                    message: "required column is missing from the header".to_owned(),
                });
            }
        }
        Ok(Self {
            origin: origin.to_owned(),
            reader,
            body: body.as_bytes(),
            columns,
            decimal_comma,
            record: csv::StringRecord::new(),
        })
    }

    /// The next record, `Ok(None)` at the end.
    pub(crate) fn next_row(&mut self) -> Result<Option<Row<'_>>> {
        match self.reader.read_record(&mut self.record) {
            Ok(false) => Ok(None),
            Ok(true) => Ok(Some(Row {
                line: self.record.position().map_or(0, |p| line_of(self.body, p)),
                record: &self.record,
                columns: &self.columns,
                origin: &self.origin,
                decimal_comma: self.decimal_comma,
            })),
            Err(e) => Err(csv_error(&self.origin, self.body, &e)),
        }
    }
}

/// The line a record starts on. After a CRLF the csv reader places the next record's start on
/// the LF, still counted on the previous line; such a start belongs to the next line.
fn line_of(body: &[u8], p: &csv::Position) -> u64 {
    let on_lf = usize::try_from(p.byte())
        .ok()
        .and_then(|b| body.get(b))
        .is_some_and(|&c| c == b'\n');
    p.line() + u64::from(on_lf)
}

fn csv_error(origin: &Path, body: &[u8], e: &csv::Error) -> Error {
    let line = e.position().map_or(0, |p| line_of(body, p));
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("the row has {len} fields; the header has {expected_len}"),
        csv::ErrorKind::Utf8 { err, .. } => format!("not UTF-8 text (field {})", err.field() + 1),
        _ => e.to_string(),
    };
    Error::Invalid {
        location: Location::new(origin, line, 0),
        field: "(row)".to_owned(),
        message,
    }
}

impl Row<'_> {
    /// The trimmed text of `column`, or "" when the column is absent.
    pub(crate) fn get(&self, column: &str) -> &str {
        self.columns
            .get(column)
            .and_then(|&i| self.record.get(i))
            .unwrap_or("")
    }

    /// An error about `column` of this row.
    pub(crate) fn error(&self, column: &str, message: impl Into<String>) -> Error {
        let col = self.columns.get(column).map_or(0, |&i| i as u64 + 1);
        Error::Invalid {
            location: Location::new(self.origin, self.line, col),
            field: column.to_owned(),
            message: message.into(),
        }
    }

    /// Parses `column` with `FromStr`, naming the cell on failure.
    pub(crate) fn parse<T>(&self, column: &str) -> Result<T>
    where
        T: std::str::FromStr<Err = Error>,
    {
        let text = self.get(column);
        if text.is_empty() {
            return Err(self.error(column, "empty; a value is required"));
        }
        text.parse()
            .map_err(|e| self.error(column, crate::catalog::reason_of(&e)))
    }

    /// Parses a decimal column, turning a decimal comma into a point when allowed.
    pub(crate) fn decimal<T>(&self, column: &str) -> Result<Option<T>>
    where
        T: std::str::FromStr<Err = Error>,
    {
        let text = self.get(column);
        if text.is_empty() {
            return Ok(None);
        }
        let parsed = if self.decimal_comma && text.contains(',') {
            if text.contains('.') {
                return Err(self.error(
                    column,
                    format!("`{text}`: both a point and a comma; write 1234,50 or 1234.50"),
                ));
            }
            text.replace(',', ".").parse()
        } else {
            text.parse()
        };
        parsed.map(Some).map_err(|e| {
            let mut msg = crate::catalog::reason_of(&e);
            if !self.decimal_comma && text.contains(',') {
                msg.push_str(
                    "; for decimal commas use a semicolon-delimited file or --decimal-comma",
                );
            }
            self.error(column, msg)
        })
    }

    /// Parses a yes/no column (`yes`, `no`, `true`, `false`, `1`, `0`, `taip`, `ne`).
    pub(crate) fn flag(&self, column: &str) -> Result<bool> {
        match self.get(column).to_ascii_lowercase().as_str() {
            "yes" | "y" | "true" | "1" | "taip" | "t" => Ok(true),
            "no" | "n" | "false" | "0" | "ne" | "" => Ok(false),
            other => Err(self.error(
                column,
                format!("`{other}`: expected yes or no (or true/false, 1/0, taip/ne)"),
            )),
        }
    }
}

pub(crate) use crate::span::read_text;
