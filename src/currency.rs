//! Currencies and the litas: [`Currency`], [`Litas`], and [`litas_to_euro`] with its named
//! [`ConversionRule`].
//!
//! Lithuania adopted the euro on 2015-01-01 at the fixed rate 1 EUR = 3.45280 LTL (Council
//! Regulation 1103/97, art. 4–5; DOMAIN.md section 3). The rate is never rounded and never
//! inverted: a litas amount is *divided* by 3.45280, exactly, and the quotient is rounded once
//! to the cent:
//!
//! * [`ConversionRule::Price`]: half away from zero ("half-up"), for prices, costs and budgets;
//! * [`ConversionRule::Benefit`]: up (away from zero) to the cent, in the recipient's favour,
//!   for wages, pensions and benefits.
//!
//! ```
//! use aidcost::{litas_to_euro, ConversionRule, Litas};
//! let a: Litas = "1540".parse()?;
//! assert_eq!(litas_to_euro(a, ConversionRule::Price)?.to_string(), "446.01");
//! assert_eq!(litas_to_euro(a, ConversionRule::Benefit)?.to_string(), "446.02");
//! # Ok::<(), aidcost::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::catalog::str_enum;
use crate::error::{Error, Result};
use crate::money::{parse_decimal, Money};

str_enum!(
    /// The currency an amount in a file is stated in.
    Currency, "currency" {
        /// The euro, Lithuania's currency since 2015-01-01.
        Eur = "EUR",
        /// The Lithuanian litas, before 2015-01-01; converted at [`LTL_PER_EUR`].
        Ltl = "LTL",
    }
);

str_enum!(
    /// How a litas amount is rounded to the euro cent (DOMAIN.md section 3).
    ConversionRule, "conversion rule" {
        /// Prices, costs, budgets: half away from zero.
        Price = "price",
        /// Wages, pensions and benefits: up to the cent, in the recipient's favour.
        Benefit = "benefit",
    }
);

impl ConversionRule {
    /// The rounding this rule applies to the exact quotient.
    pub fn rounding(self) -> crate::Rounding {
        match self {
            ConversionRule::Price => crate::Rounding::HalfUp,
            ConversionRule::Benefit => crate::Rounding::Up,
        }
    }
}

/// An amount in Lithuanian litas, exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Litas(Decimal);

impl Litas {
    /// Zero litas.
    pub const ZERO: Litas = Litas(Decimal::ZERO);

    /// Wraps an exact decimal.
    pub const fn new(value: Decimal) -> Self {
        Self(value)
    }

    /// The exact decimal value.
    pub const fn get(self) -> Decimal {
        self.0
    }

    /// True when the amount is less than zero.
    pub fn is_negative(self) -> bool {
        self.0 < Decimal::ZERO
    }

    /// `self + rhs`, or `None` on overflow.
    pub fn checked_add(self, rhs: Litas) -> Option<Litas> {
        self.0.checked_add(rhs.0).map(Litas)
    }
}

impl fmt::Display for Litas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Litas {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        parse_decimal("amount in litas", s).map(Litas)
    }
}

impl serde::Serialize for Litas {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The fixed conversion rate: 3.45280 litas per euro, exactly as fixed (five decimals).
pub const LTL_PER_EUR: Litas = Litas(Decimal::from_parts(345_280, 0, 0, false, 5));

/// Converts `amount` litas to euro: `amount ÷ 3.45280`, rounded once to the cent by `rule`.
///
/// The quotient is rounded exactly, whatever its length: the whole cents are found by exact
/// multiplication back by the rate, and the remainder decides the last cent (for
/// [`ConversionRule::Price`], a remainder of at least half the rate rounds up; for
/// [`ConversionRule::Benefit`], any remainder rounds up). Negative amounts round
/// symmetrically (away from zero). Examples (DOMAIN.md section 3): 250 LTL → 72.405… →
/// €72.41; 10 LTL → €2.90; 1 540 LTL → 446.01482… → €446.01 as a price, €446.02 as a benefit.
///
/// # Errors
///
/// [`Error::Overflow`] when the amount is too large for exact arithmetic (beyond about
/// 10²⁶ litas).
pub fn litas_to_euro(amount: Litas, rule: ConversionRule) -> Result<Money> {
    let overflow = || Error::Overflow {
        what: format!("converting {amount} LTL to euro"),
    };
    let rate = LTL_PER_EUR.0;
    // Work in litas cents so that whole euro cents are whole quotients.
    let cents_ltl = amount
        .0
        .abs()
        .checked_mul(Decimal::ONE_HUNDRED)
        .ok_or_else(overflow)?;
    // A first estimate of the whole cents, corrected by exact multiplication so that
    // q × rate ≤ cents_ltl < (q + 1) × rate holds exactly.
    let mut q = cents_ltl.checked_div(rate).ok_or_else(overflow)?.floor();
    let times_rate = |q: Decimal| q.checked_mul(rate).ok_or_else(overflow);
    while times_rate(q)? > cents_ltl {
        q -= Decimal::ONE;
    }
    while times_rate(q + Decimal::ONE)? <= cents_ltl {
        q += Decimal::ONE;
    }
    let remainder = cents_ltl - times_rate(q)?;
    let round_up = match rule {
        ConversionRule::Price => remainder.checked_mul(Decimal::TWO).ok_or_else(overflow)? >= rate,
        ConversionRule::Benefit => !remainder.is_zero(),
    };
    if round_up {
        q = q.checked_add(Decimal::ONE).ok_or_else(overflow)?;
    }
    let mut euro = q.checked_div(Decimal::ONE_HUNDRED).ok_or_else(overflow)?;
    euro.rescale(2);
    Ok(Money::new(if amount.is_negative() { -euro } else { euro }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(ltl: &str, rule: ConversionRule) -> String {
        litas_to_euro(ltl.parse().unwrap(), rule)
            .unwrap()
            .to_string()
    }

    #[test]
    fn domain_examples_convert_to_the_cent() {
        // DOMAIN.md section 3. By hand: 250 / 3.4528 = 72.4050…, the third decimal 5 → 72.41;
        // 10 / 3.4528 = 2.89619… → 2.90; 1540 / 3.4528 = 446.01482… → 446.01 half-up,
        // 446.02 rounded up for a benefit.
        let cases = [
            ("250", ConversionRule::Price, "72.41"),
            ("10", ConversionRule::Price, "2.90"),
            ("1540", ConversionRule::Benefit, "446.02"),
            ("1540", ConversionRule::Price, "446.01"),
            ("3.4528", ConversionRule::Price, "1.00"),
            ("3.4528", ConversionRule::Benefit, "1.00"),
            ("0", ConversionRule::Benefit, "0.00"),
            ("-250", ConversionRule::Price, "-72.41"),
            ("-1540", ConversionRule::Benefit, "-446.02"),
        ];
        for (ltl, rule, want) in cases {
            assert_eq!(eur(ltl, rule), want, "{ltl} LTL as {rule}");
        }
    }

    #[test]
    fn an_exact_half_cent_rounds_up_under_the_price_rule_only_when_at_or_above_half() {
        // 0.017264 LTL = 0.005 EUR exactly (0.5 × 3.4528 / 100): half-up gives 0.01.
        assert_eq!(eur("0.017264", ConversionRule::Price), "0.01");
        // One millionth of a litas less is below the half: 0.00.
        assert_eq!(eur("0.017263", ConversionRule::Price), "0.00");
        // As a benefit any remainder rounds up.
        assert_eq!(eur("0.000001", ConversionRule::Benefit), "0.01");
    }

    #[test]
    fn the_rate_is_the_fixed_rate_unrounded() {
        assert_eq!(LTL_PER_EUR.to_string(), "3.45280");
        assert_eq!("LTL".parse::<Currency>().unwrap(), Currency::Ltl);
        assert!("USD".parse::<Currency>().is_err());
        assert_eq!(
            "benefit".parse::<ConversionRule>().unwrap(),
            ConversionRule::Benefit
        );
    }

    #[test]
    fn huge_amounts_are_an_overflow_error_not_a_panic() {
        let err = litas_to_euro(Litas::new(Decimal::MAX), ConversionRule::Price).unwrap_err();
        assert!(matches!(err, Error::Overflow { .. }), "{err}");
    }
}
