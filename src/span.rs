//! Turning byte spans of a text into file, line and column (crate-private helpers).

use std::path::Path;

use crate::error::{Error, Location};

/// The location of byte offset `at` in `text`, lines and columns counted from 1
/// (columns in characters).
pub(crate) fn locate(origin: &Path, text: &str, at: usize) -> Location {
    let at = at.min(text.len());
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() as u64 + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) as u64 + 1;
    Location::new(origin, line, column)
}

/// A TOML parse or shape error at its span, with a hint where a number stands for a string.
pub(crate) fn toml_error(origin: &Path, text: &str, err: &toml::de::Error) -> Error {
    let location = match err.span() {
        Some(span) => locate(origin, text, span.start),
        None => Location::file(origin),
    };
    let mut message = err.message().trim_end_matches('.').to_owned();
    if message.contains("invalid type: floating point") || message.contains("invalid type: integer")
    {
        message.push_str(
            "; prices, quantities and dates are quoted strings in these files, e.g. \"12.50\"",
        );
    }
    Error::Toml { location, message }
}

/// An [`Error::Invalid`] at `span` of `text`.
pub(crate) fn invalid(
    origin: &Path,
    text: &str,
    span: std::ops::Range<usize>,
    field: &str,
    message: impl Into<String>,
) -> Error {
    Error::Invalid {
        location: locate(origin, text, span.start),
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Reads a whole file as UTF-8 text.
pub(crate) fn read_text(path: &Path) -> crate::Result<String> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|e| Error::Invalid {
        location: Location::new(path, 0, 0),
        field: "(file)".to_owned(),
        message: format!(
            "not UTF-8 text (byte {}); save the file as CSV UTF-8",
            e.utf8_error().valid_up_to()
        ),
    })
}

/// Refuses a file whose `schema` is not the one this version reads.
pub(crate) fn check_schema(
    origin: &Path,
    text: &str,
    schema: &toml::Spanned<u32>,
) -> crate::Result<()> {
    let version = *schema.get_ref();
    if version == crate::catalog::SCHEMA_VERSION {
        return Ok(());
    }
    Err(invalid(
        origin,
        text,
        schema.span(),
        "schema",
        format!(
            "unsupported schema {version}; this version reads schema {}",
            crate::catalog::SCHEMA_VERSION
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_counts_lines_and_characters_from_one() {
        let text = "a = 1\nbė = \"x\"\n";
        let at = text.find('"').unwrap();
        let loc = locate(Path::new("f.toml"), text, at);
        assert_eq!((loc.line(), loc.column()), (2, 6));
        assert_eq!(locate(Path::new("f"), text, 0).to_string(), "f:1:1");
    }
}
