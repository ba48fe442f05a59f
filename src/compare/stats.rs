//! Exact quotients that may be undefined, and order statistics (Hyndman–Fan type 7
//! quantiles, Tukey fences).

use std::fmt;

use rust_decimal::Decimal;

/// Significant digits kept when a ratio is shown.
pub const SHOWN_SIGNIFICANT_DIGITS: u32 = 12;

/// A quotient: defined, or "not defined" when its denominator is zero. Never 0 or NaN in
/// place of an undefined value.
///
/// ```
/// use aidcost::compare::Ratio;
/// use rust_decimal::Decimal;
/// assert_eq!(Ratio::of(Decimal::from(1), Decimal::from(3)).to_string(), "0.333333333333");
/// assert_eq!(Ratio::of(Decimal::from(1), Decimal::ZERO).to_string(), "not defined");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Ratio(Option<Decimal>);

impl Ratio {
    /// The undefined ratio.
    pub const NOT_DEFINED: Ratio = Ratio(None);

    /// `numerator ÷ denominator` at full decimal precision; not defined for a zero
    /// denominator (or a quotient out of range).
    pub fn of(numerator: Decimal, denominator: Decimal) -> Ratio {
        if denominator.is_zero() {
            return Ratio(None);
        }
        Ratio(numerator.checked_div(denominator))
    }

    /// A defined ratio.
    pub fn new(value: Decimal) -> Ratio {
        Ratio(Some(value))
    }

    /// The value, if defined.
    pub fn value(self) -> Option<Decimal> {
        self.0
    }

    /// True when defined.
    pub fn is_defined(self) -> bool {
        self.0.is_some()
    }

    /// The ratio times 100.
    pub fn percent(self) -> Ratio {
        Ratio(self.0.and_then(|v| v.checked_mul(Decimal::ONE_HUNDRED)))
    }

    /// The ratio times `factor` (not defined stays not defined).
    pub fn scale(self, factor: Decimal) -> Ratio {
        Ratio(self.0.and_then(|v| v.checked_mul(factor)))
    }

    /// The value rounded half-up to `decimals` places, for display.
    pub fn round_to(self, decimals: u32) -> Option<Decimal> {
        self.0.map(|v| crate::Rounding::HalfUp.apply(v, decimals))
    }

    /// Shown with `decimals` places, or `not defined`.
    pub fn display_dp(self, decimals: u32) -> String {
        match self.round_to(decimals) {
            Some(v) => v.to_string(),
            None => "not defined".to_owned(),
        }
    }
}

impl fmt::Display for Ratio {
    /// Twelve significant digits, trailing zeros dropped, or `not defined`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(v) => {
                let shown = v
                    .round_sf_with_strategy(
                        SHOWN_SIGNIFICANT_DIGITS,
                        rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                    )
                    .unwrap_or(v)
                    .normalize();
                fmt::Display::fmt(&shown, f)
            }
            None => f.write_str("not defined"),
        }
    }
}

impl serde::Serialize for Ratio {
    /// A decimal string, or `null` when not defined.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(_) => s.collect_str(self),
            None => s.serialize_none(),
        }
    }
}

/// The `p`-quantile of sorted values by Hyndman and Fan's definition 7 (the default of R
/// and numpy): `h = (n − 1)·p`, `x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])`, with `x`
/// counted from 0. `None` for no values.
pub fn quantile_type7(sorted: &[Decimal], p: Decimal) -> Option<Decimal> {
    let n = sorted.len();
    let last = sorted.last()?;
    let h = Decimal::from(n - 1).checked_mul(p)?;
    let lo = h.floor();
    let i = rust_decimal::prelude::ToPrimitive::to_usize(&lo)?;
    let frac = h - lo;
    let x = sorted.get(i)?;
    match sorted.get(i + 1) {
        Some(y) => x.checked_add(frac.checked_mul(y - x)?),
        None => Some(*last),
    }
}

/// Quartiles and Tukey fences of a set of values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Spread {
    /// Number of values.
    pub n: usize,
    /// First quartile (type 7).
    pub q1: Decimal,
    /// Median (type 7).
    pub median: Decimal,
    /// Third quartile (type 7).
    pub q3: Decimal,
    /// Q1 − 1.5·IQR.
    pub lower_fence: Decimal,
    /// Q3 + 1.5·IQR.
    pub upper_fence: Decimal,
}

impl Spread {
    /// The spread of `values` (any order); `None` when empty.
    pub fn of(values: &[Decimal]) -> Option<Spread> {
        let mut v = values.to_vec();
        v.sort();
        let q1 = quantile_type7(&v, Decimal::new(25, 2))?;
        let median = quantile_type7(&v, Decimal::new(5, 1))?;
        let q3 = quantile_type7(&v, Decimal::new(75, 2))?;
        let reach = q3.checked_sub(q1)?.checked_mul(Decimal::new(15, 1))?;
        Some(Spread {
            n: v.len(),
            q1,
            median,
            q3,
            lower_fence: q1.checked_sub(reach)?,
            upper_fence: q3.checked_add(reach)?,
        })
    }

    /// Whether `x` lies outside the fences: `Some(Low)`, `Some(High)` or `None`.
    pub fn outlier(&self, x: Decimal) -> Option<Outlier> {
        if x < self.lower_fence {
            Some(Outlier::Low)
        } else if x > self.upper_fence {
            Some(Outlier::High)
        } else {
            None
        }
    }
}

/// A value outside the Tukey fences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outlier {
    /// Below Q1 − 1.5·IQR.
    Low,
    /// Above Q3 + 1.5·IQR.
    High,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn type7_quartiles_match_r_and_numpy() {
        // R: quantile(c(1, 2, 3, 4), type = 7) → 1.75, 2.5, 3.25
        // (h = 3·0.25 = 0.75: 1 + 0.75·(2 − 1) = 1.75).
        let s = Spread::of(&[d("4"), d("1"), d("3"), d("2")]).unwrap();
        assert_eq!((s.q1, s.median, s.q3), (d("1.75"), d("2.5"), d("3.25")));
        // IQR 1.5 → fences 1.75 − 2.25 = −0.5 and 3.25 + 2.25 = 5.5.
        assert_eq!((s.lower_fence, s.upper_fence), (d("-0.5"), d("5.5")));
        // numpy.percentile([10, 20, 30, 40, 1000], [25, 50, 75]) → 20, 30, 40;
        // IQR 20, upper fence 40 + 30 = 70: 1000 is a high outlier.
        let s = Spread::of(&[d("10"), d("20"), d("30"), d("40"), d("1000")]).unwrap();
        assert_eq!((s.q1, s.median, s.q3), (d("20"), d("30"), d("40")));
        assert_eq!(s.outlier(d("1000")), Some(Outlier::High));
        assert_eq!(s.outlier(d("10")), None);
        // One value: every quartile is that value.
        let s = Spread::of(&[d("7")]).unwrap();
        assert_eq!((s.q1, s.median, s.q3), (d("7"), d("7"), d("7")));
        assert!(Spread::of(&[]).is_none());
    }

    #[test]
    fn ratios_are_not_defined_for_zero_denominators() {
        assert!(!Ratio::of(d("5"), Decimal::ZERO).is_defined());
        assert_eq!(
            Ratio::of(d("5"), d("0")).percent().to_string(),
            "not defined"
        );
        assert_eq!(Ratio::of(d("533500"), d("400000")).to_string(), "1.33375");
        // Shown half away from zero, not round_sf's default banker's rounding: the 13th
        // significant digit is a 5 after an even 2.
        assert_eq!(
            Ratio::of(d("1234567890125"), d("10000000000000")).to_string(),
            "0.123456789013"
        );
        assert_eq!(serde_json::to_string(&Ratio::NOT_DEFINED).unwrap(), "null");
    }
}
