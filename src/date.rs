//! [`Date`]: a civil calendar date, `YYYY-MM-DD`.
//!
//! The crate needs only whole days (no times, no time zones), ordering, the calendar year and
//! month, so it carries this small exact type rather than a date-time library.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// A civil date in the proleptic Gregorian calendar, years 1 to 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

fn is_leap(year: u16) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        _ => 28,
    }
}

impl Date {
    /// The first representable day, 0001-01-01.
    pub const MIN: Date = Date {
        year: 1,
        month: 1,
        day: 1,
    };
    /// The last representable day, 9999-12-31.
    pub const MAX: Date = Date {
        year: 9999,
        month: 12,
        day: 31,
    };

    /// The date `year-month-day`.
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] when no such day exists.
    pub fn new(year: u16, month: u8, day: u8) -> Result<Self> {
        if !(1..=9999).contains(&year)
            || !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
        {
            return Err(Error::Parse {
                what: "date",
                value: format!("{year:04}-{month:02}-{day:02}"),
                reason: "no such day".to_owned(),
            });
        }
        Ok(Self { year, month, day })
    }

    /// The calendar year.
    pub fn year(self) -> u16 {
        self.year
    }

    /// The month, 1 to 12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month.
    pub fn day(self) -> u8 {
        self.day
    }

    /// The next day, or `None` after 9999-12-31.
    pub fn next_day(self) -> Option<Date> {
        if self.day < days_in_month(self.year, self.month) {
            Some(Date {
                day: self.day + 1,
                ..self
            })
        } else if self.month < 12 {
            Some(Date {
                month: self.month + 1,
                day: 1,
                ..self
            })
        } else if self.year < 9999 {
            Some(Date {
                year: self.year + 1,
                month: 1,
                day: 1,
            })
        } else {
            None
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for Date {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::Parse {
            what: "date",
            value: s.to_owned(),
            reason: "expected YYYY-MM-DD".to_owned(),
        };
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| -> Result<u16> {
            let part = &s[r];
            if part.bytes().all(|c| c.is_ascii_digit()) {
                part.parse().map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        // Both fit: two digits are at most 99.
        Date::new(year, month as u8, day as u8).map_err(|_| Error::Parse {
            what: "date",
            value: s.to_owned(),
            reason: "no such day".to_owned(),
        })
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        for s in ["2019-01-01", "2024-02-29", "2015-12-31", "0001-01-01"] {
            assert_eq!(s.parse::<Date>().unwrap().to_string(), s);
        }
    }

    #[test]
    fn refuses_impossible_days_and_other_shapes() {
        for s in [
            "2019-02-29",
            "2019-13-01",
            "2019-00-10",
            "2019-04-31",
            "2019-1-1",
            "01.02.2019",
            "2019-01-01T00:00",
            "+019-01-01",
        ] {
            assert!(s.parse::<Date>().is_err(), "{s} accepted");
        }
    }

    #[test]
    fn next_day_crosses_months_and_years() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        assert_eq!(d("2024-02-28").next_day(), Some(d("2024-02-29")));
        assert_eq!(d("2024-02-29").next_day(), Some(d("2024-03-01")));
        assert_eq!(d("2019-12-31").next_day(), Some(d("2020-01-01")));
        assert_eq!(d("9999-12-31").next_day(), None);
    }
}
