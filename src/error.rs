//! The one error type of the crate and its [`Result`] alias.

use std::fmt;
use std::path::PathBuf;

use crate::id::{ClientId, ElementCode, TableId};

/// Where in an input file something was found.
///
/// Lines and columns count from 1. A location from a whole-file check has line 0.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    file: PathBuf,
    line: u64,
    column: u64,
}

impl Location {
    /// A location in `file` at `line` and `column` (both counted from 1; 0 when unknown).
    pub fn new(file: impl Into<PathBuf>, line: u64, column: u64) -> Self {
        Self {
            file: file.into(),
            line,
            column,
        }
    }

    /// A location naming only the file.
    pub fn file(file: impl Into<PathBuf>) -> Self {
        Self::new(file, 0, 0)
    }

    /// The file.
    pub fn path(&self) -> &std::path::Path {
        &self.file
    }

    /// The line, counted from 1 (0 when unknown).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The column, counted from 1 (0 when unknown).
    pub fn column(&self) -> u64 {
        self.column
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.column > 0 {
                write!(f, ":{}", self.column)?;
            }
        }
        Ok(())
    }
}

/// Everything that can go wrong in aidcost.
///
/// Messages are lowercase, have no trailing period and name the offending item.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A value in an input file is malformed or breaks a rule.
    #[error("{location}: field `{field}`: {message}")]
    Invalid {
        /// Where.
        location: Location,
        /// The field (TOML key or CSV column).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A TOML document could not be parsed.
    #[error("{location}: {message}")]
    Toml {
        /// Where.
        location: Location,
        /// The parser's message.
        message: String,
    },
    /// A value given in code (not from a file) is malformed.
    #[error("invalid {what} `{value}`: {reason}")]
    Parse {
        /// What kind of value was being parsed.
        what: &'static str,
        /// The offending text.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// A client id that is a valid Lithuanian personal code.
    #[error(
        "client id `{masked}` looks like a Lithuanian personal code (11 digits with a valid check digit); use a pseudonym"
    )]
    PersonalCode {
        /// The id with all but the last two digits masked.
        masked: String,
    },
    /// An element code that the catalog does not know.
    #[error("unknown element `{element}` in {context}")]
    UnknownElement {
        /// The code.
        element: ElementCode,
        /// Where it was named (a table, a file).
        context: String,
    },
    /// A pricing table prices an element twice.
    #[error("{location}: element `{element}` is priced twice in table `{table}`")]
    DuplicatePrice {
        /// Where the second row is.
        location: Location,
        /// The element.
        element: ElementCode,
        /// The table.
        table: TableId,
    },
    /// Two tables of the same scope have overlapping validity.
    #[error("tables `{first}` and `{second}` overlap: both {scope} and valid on {date}")]
    OverlappingTables {
        /// The first file.
        first: PathBuf,
        /// The second file.
        second: PathBuf,
        /// The shared scope.
        scope: String,
        /// The first date both cover.
        date: crate::Date,
    },
    /// The catalog names an element twice.
    #[error("{location}: element `{element}` is defined twice in the catalog")]
    DuplicateElement {
        /// Where the second definition is.
        location: Location,
        /// The element.
        element: ElementCode,
    },
    /// A client id appears twice in a register.
    #[error("{location}: client `{client}` is listed twice")]
    DuplicateClient {
        /// Where the second row is.
        location: Location,
        /// The client.
        client: ClientId,
    },
    /// A client register is inconsistent (e.g. a parent that is not listed).
    #[error("client `{client}`: {message}")]
    Register {
        /// The client.
        client: ClientId,
        /// What is wrong.
        message: String,
    },
    /// Arithmetic would overflow the decimal range.
    #[error("arithmetic overflow: {what}")]
    Overflow {
        /// What was being computed.
        what: String,
    },
    /// Under the strict option, a row could not be valued.
    #[error("row {row}: {reason} (strict mode)")]
    Rejected {
        /// The input row (data rows counted from 1).
        row: u64,
        /// Why.
        reason: crate::valuation::RejectReason,
    },
    /// A comparison year has no valued deliveries.
    #[error("no valued deliveries in {year}: nothing to compare")]
    NoData {
        /// The year.
        year: u16,
    },
    /// The reference table of a comparison does not price every element in use.
    #[error("reference table `{table}` does not price {elements} used in the deliveries")]
    ReferenceIncomplete {
        /// The table (id and version).
        table: String,
        /// The elements it lacks, comma-separated.
        elements: String,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_display_names_file_line_and_column() {
        assert_eq!(Location::new("a.toml", 3, 7).to_string(), "a.toml:3:7");
        assert_eq!(Location::new("a.toml", 3, 0).to_string(), "a.toml:3");
        assert_eq!(Location::file("a.toml").to_string(), "a.toml");
    }
}
