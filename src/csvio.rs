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
    // The header is the first line that is not blank: the csv reader skips blank lines.
    let header = strip_bom(text)
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
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
        let header_line = headers
            .position()
            .map_or(1, |p| line_of(body.as_bytes(), p));
        let mut columns = HashMap::new();
        for (i, h) in headers.iter().enumerate() {
            let name = h.trim().to_ascii_lowercase();
            if !known.contains(&name.as_str()) {
                return Err(Error::Invalid {
                    location: Location::new(origin, header_line, i as u64 + 1),
                    field: name.clone(),
                    message: format!("unknown column; expected some of: {}", known.join(", ")),
                });
            }
            if columns.insert(name.clone(), i).is_some() {
                return Err(Error::Invalid {
                    location: Location::new(origin, header_line, i as u64 + 1),
                    field: name,
                    message: "column appears twice".to_owned(),
                });
            }
        }
        for r in required {
            if !columns.contains_key(*r) {
                return Err(Error::Invalid {
                    location: Location::new(origin, header_line, 0),
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

/// The file line on which each data record of a CSV text starts (the header excluded), with
/// the delimiter of `options` (detected from the header unless set), as the readers of this
/// crate count lines in their messages: from 1, across blank lines, quoted line breaks, CRLF
/// line ends and a byte-order mark. A record the reader cannot read (not UTF-8) ends the list.
///
/// ```
/// use aidcost::{record_lines, CsvOptions};
/// let text = "date;client\n2024-01-01;C1\n\n\n2024-01-02;C2\n";
/// assert_eq!(record_lines(text, CsvOptions::detect()), [2, 5]);
/// ```
pub fn record_lines(text: &str, options: CsvOptions) -> Vec<u64> {
    let body = strip_bom(text);
    let delimiter = options.delimiter.unwrap_or_else(|| detect_delimiter(body));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .from_reader(body.as_bytes());
    // Read the header first: read implicitly, it would shift the first record's position.
    if reader.byte_headers().is_err() {
        return Vec::new();
    }
    let mut record = csv::ByteRecord::new();
    let mut lines = Vec::new();
    while let Ok(true) = reader.read_byte_record(&mut record) {
        lines.push(record.position().map_or(0, |p| line_of(body.as_bytes(), p)));
    }
    lines
}

/// The line a record starts on. The csv reader places a record's start just after the end of
/// the previous one: on the LF of a CRLF, or on the first of any blank lines it skips. Those
/// line ends belong before the record, so each LF among them moves it one line on.
fn line_of(body: &[u8], p: &csv::Position) -> u64 {
    let start = usize::try_from(p.byte()).unwrap_or(usize::MAX);
    let skipped = body
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&c| c == b'\n' || c == b'\r')
        .filter(|&&c| c == b'\n')
        .count();
    p.line() + skipped as u64
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

    /// Where the cell of `column` of this row is (column 0 when the file lacks the column).
    pub(crate) fn location(&self, column: &str) -> Location {
        let col = self.columns.get(column).map_or(0, |&i| i as u64 + 1);
        Location::new(self.origin, self.line, col)
    }

    /// An error about `column` of this row.
    pub(crate) fn error(&self, column: &str, message: impl Into<String>) -> Error {
        Error::Invalid {
            location: self.location(column),
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

    /// Parses a required yes/no column (`yes`, `no`, `true`, `false`, `1`, `0`, `taip`,
    /// `ne`); an empty cell is an error.
    pub(crate) fn flag(&self, column: &str) -> Result<bool> {
        match self.get(column).to_ascii_lowercase().as_str() {
            "" => Err(self.error(column, "empty; a value is required (yes or no)")),
            "yes" | "y" | "true" | "1" | "taip" | "t" => Ok(true),
            "no" | "n" | "false" | "0" | "ne" => Ok(false),
            other => Err(self.error(
                column,
                format!("`{other}`: expected yes or no (or true/false, 1/0, taip/ne)"),
            )),
        }
    }

    /// Parses an optional yes/no column as [`Row::flag`]; an empty cell is no.
    pub(crate) fn optional_flag(&self, column: &str) -> Result<bool> {
        if self.get(column).is_empty() {
            Ok(false)
        } else {
            self.flag(column)
        }
    }
}

pub(crate) use crate::span::read_text;

#[cfg(test)]
mod tests {
    use super::*;

    fn first_error(text: &str) -> String {
        crate::read_deliveries(text, Path::new("d.csv"), CsvOptions::detect())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn error_lines_count_blank_lines_before_the_record() {
        let header = "date,provider,client,element,quantity";
        let good = "2024-01-02,P1,C1,SHELTER,1";
        let bad = "2024-01-02,P1,C1,SHELTER,x";
        let lf = format!("{header}\n{good}\n\n\n\n\n{bad}\n");
        assert!(
            first_error(&lf).starts_with("d.csv:7:5: field `quantity`"),
            "{}",
            first_error(&lf)
        );
        let crlf = format!("{header}\r\n{good}\r\n\r\n{bad}\r\n");
        assert!(
            first_error(&crlf).starts_with("d.csv:4:5: field `quantity`"),
            "{}",
            first_error(&crlf)
        );
        let ragged = format!("{header}\n{good}\n\n\n2024-01-02,P1\n");
        assert_eq!(
            first_error(&ragged),
            "d.csv:5: field `(row)`: the row has 2 fields; the header has 5"
        );
        assert_eq!(record_lines(&lf, CsvOptions::detect()), [2, 7]);
        assert_eq!(record_lines(&crlf, CsvOptions::detect()), [2, 4]);
        assert_eq!(
            record_lines("a;b\r\n1;\"x\r\ny\"\r\n\r\n2;z\r\n", CsvOptions::detect()),
            [2, 5]
        );
        let lines = |t: &str| record_lines(t, CsvOptions::detect());
        assert_eq!(lines("a;b\n1;\"x\ny\"\n2;z\n"), [2, 4]);
        assert_eq!(lines("\u{feff}a;b\r\n1;2\r\n2;z\r\n"), [2, 3]);
        assert_eq!(lines("\u{feff}a;b\r\n1;\"x\r\ny\"\r\n2;z\r\n"), [2, 4]);
    }

    #[test]
    fn header_errors_name_the_header_line_after_blank_lines() {
        let text = "\n\ndate;provider;client;element;quantity;colour\n";
        assert!(
            first_error(text).starts_with("d.csv:3:6: field `colour`: unknown column"),
            "{}",
            first_error(text)
        );
        let missing = "\r\n\r\ndate,provider,client,element\r\n";
        assert!(
            first_error(missing).starts_with("d.csv:3: field `quantity`"),
            "{}",
            first_error(missing)
        );
    }
}
