//! Deflators: a dated price index that turns current-price costs into base-year prices.
//!
//! ```toml
//! schema = 1
//! index = "HICP, all items, Lithuania (illustrative values)"
//! base_year = 2019
//! source = "where the values come from"
//!
//! [values]
//! "2019" = "100.0"
//! "2024" = "131.9"
//! ```
//!
//! A cost of year `y` in base-year prices is `cost × value[base_year] ÷ value[y]`.

use std::collections::BTreeMap;
use std::path::Path;

use rust_decimal::Decimal;
use serde::Deserialize;
use toml::Spanned;

use crate::catalog::reason_of;
use crate::error::{Error, Result};
use crate::span::{invalid, toml_error};

/// A price index by year, with a base year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deflators {
    index: String,
    base_year: u16,
    source: String,
    values: BTreeMap<u16, Decimal>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeflators {
    schema: Spanned<u32>,
    index: String,
    base_year: Spanned<u16>,
    #[serde(default)]
    source: String,
    values: BTreeMap<Spanned<String>, Spanned<String>>,
}

impl Deflators {
    /// An index built in code.
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] when a value is not positive or the base year has no value.
    pub fn new(index: &str, base_year: u16, values: BTreeMap<u16, Decimal>) -> Result<Self> {
        for (y, v) in &values {
            if *v <= Decimal::ZERO {
                return Err(Error::Parse {
                    what: "deflator",
                    value: format!("{y} = {v}"),
                    reason: "index values must be positive".to_owned(),
                });
            }
        }
        if !values.contains_key(&base_year) {
            return Err(Error::Parse {
                what: "deflator",
                value: base_year.to_string(),
                reason: "the base year has no value".to_owned(),
            });
        }
        Ok(Self {
            index: index.to_owned(),
            base_year,
            source: String::new(),
            values,
        })
    }

    /// Reads a deflator file.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when unreadable; otherwise as [`Deflators::from_toml`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = crate::span::read_text(path)?;
        Self::from_toml(&text, path)
    }

    /// Parses a deflator table.
    ///
    /// # Errors
    ///
    /// [`Error::Toml`] or [`Error::Invalid`] naming file, line, column and field for malformed
    /// TOML, a year that is not a year, a value that is not a positive quoted decimal, or a
    /// base year without a value.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Self> {
        let raw: RawDeflators = toml::from_str(text).map_err(|e| toml_error(origin, text, &e))?;
        crate::span::check_schema(origin, text, &raw.schema)?;
        let mut values = BTreeMap::new();
        for (year, value) in &raw.values {
            let y: u16 = year
                .get_ref()
                .parse()
                .ok()
                .filter(|y| (1900..=2200).contains(y))
                .ok_or_else(|| {
                    invalid(
                        origin,
                        text,
                        year.span(),
                        "values",
                        format!("`{}` is not a year", year.get_ref()),
                    )
                })?;
            let v = crate::money::parse_decimal("index value", value.get_ref())
                .map_err(|e| invalid(origin, text, value.span(), "values", reason_of(&e)))?;
            if v <= Decimal::ZERO {
                return Err(invalid(
                    origin,
                    text,
                    value.span(),
                    "values",
                    "index values must be positive",
                ));
            }
            values.insert(y, v);
        }
        let base_year = *raw.base_year.get_ref();
        if !values.contains_key(&base_year) {
            return Err(invalid(
                origin,
                text,
                raw.base_year.span(),
                "base_year",
                format!("{base_year} has no value in [values]"),
            ));
        }
        Ok(Self {
            index: raw.index,
            base_year,
            source: raw.source,
            values,
        })
    }

    /// The index's name.
    pub fn index(&self) -> &str {
        &self.index
    }
    /// The index's own base year.
    pub fn base_year(&self) -> u16 {
        self.base_year
    }
    /// Where the values come from.
    pub fn source(&self) -> &str {
        &self.source
    }
    /// The value for a year.
    pub fn value(&self, year: u16) -> Option<Decimal> {
        self.values.get(&year).copied()
    }

    /// The factor that takes year `year`'s prices to year `to`'s: `value[to] ÷ value[year]`.
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] naming the year when the index has no value for it.
    pub fn factor(&self, year: u16, to: u16) -> Result<Decimal> {
        let missing = |y: u16| Error::Parse {
            what: "deflator year",
            value: y.to_string(),
            reason: format!("the index `{}` has no value for it", self.index),
        };
        let from = self.value(year).ok_or_else(|| missing(year))?;
        let to_v = self.value(to).ok_or_else(|| missing(to))?;
        to_v.checked_div(from).ok_or_else(|| missing(year))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "schema = 1\nindex = \"test\"\nbase_year = 2019\n[values]\n\"2019\" = \"100\"\n\"2024\" = \"125\"\n";

    #[test]
    fn factor_takes_current_prices_to_base_year_prices() {
        let d = Deflators::from_toml(GOOD, Path::new("d.toml")).unwrap();
        // 1 250.00 in 2024 prices is 1 250 × 100 / 125 = 1 000.00 in 2019 prices.
        assert_eq!(
            d.factor(2024, 2019).unwrap() * Decimal::from(1250),
            Decimal::from(1000)
        );
        let err = d.factor(2021, 2019).unwrap_err();
        assert!(err.to_string().contains("`2021`"), "{err}");
    }

    #[test]
    fn bad_values_name_their_place() {
        let bad = GOOD.replace("\"125\"", "125");
        assert!(Deflators::from_toml(&bad, Path::new("d.toml"))
            .unwrap_err()
            .to_string()
            .contains("d.toml:6:"));
        let bad = GOOD.replace("\"125\"", "\"-1\"");
        assert!(Deflators::from_toml(&bad, Path::new("d.toml"))
            .unwrap_err()
            .to_string()
            .contains("must be positive"));
        let bad = GOOD.replace("base_year = 2019", "base_year = 2015");
        assert!(Deflators::from_toml(&bad, Path::new("d.toml"))
            .unwrap_err()
            .to_string()
            .contains("2015 has no value"));
        let bad = GOOD.replace("\"2024\" =", "\"MMXXIV\" =");
        assert!(Deflators::from_toml(&bad, Path::new("d.toml"))
            .unwrap_err()
            .to_string()
            .contains("is not a year"));
    }
}
