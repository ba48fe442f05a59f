//! Exact money: [`Money`] in euro, [`UnitPrice`], [`Quantity`], [`Rounding`] and allocation.
//!
//! All three wrap [`rust_decimal::Decimal`]; no binary floating point touches money. Only
//! meaningful arithmetic is offered:
//!
//! * `Quantity × UnitPrice → Money` (unrounded: rounding is a separate, declared step),
//! * `Money ± Money → Money`,
//! * `Money ÷ Quantity → UnitPrice`.
//!
//! The operators panic on overflow (as `Decimal`'s do) and each has a `checked_*` twin that
//! returns `None`; library code uses the checked forms.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, Div, Mul, Neg, Sub};
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::{Error, Result};

/// Parses an exact decimal string: an optional sign, digits, an optional point and fraction.
///
/// No exponent, no thousands separators, no surrounding spaces; at most 28 fraction digits.
pub(crate) fn parse_decimal(what: &'static str, s: &str) -> Result<Decimal> {
    let bad = |reason: &str| Error::Parse {
        what,
        value: s.to_owned(),
        reason: reason.to_owned(),
    };
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    if body.is_empty() {
        return Err(bad("empty"));
    }
    let mut seen_point = false;
    let mut digits = 0usize;
    for c in body.chars() {
        match c {
            '0'..='9' => digits += 1,
            '.' if !seen_point => seen_point = true,
            _ => return Err(bad("expected a decimal number such as 12.50")),
        }
    }
    if digits == 0 {
        return Err(bad("expected a decimal number such as 12.50"));
    }
    Decimal::from_str_exact(s).map_err(|e| bad(&e.to_string()))
}

macro_rules! decimal_newtype {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(Decimal);

        impl $name {
            /// Zero.
            pub const ZERO: Self = Self(Decimal::ZERO);

            /// Wraps an exact decimal.
            pub const fn new(value: Decimal) -> Self {
                Self(value)
            }

            /// The exact decimal value.
            pub const fn get(self) -> Decimal {
                self.0
            }

            /// True when the value is zero.
            pub fn is_zero(self) -> bool {
                self.0.is_zero()
            }

            /// True when the value is greater than zero.
            pub fn is_positive(self) -> bool {
                self.0 > Decimal::ZERO
            }

            /// True when the value is less than zero.
            pub fn is_negative(self) -> bool {
                self.0 < Decimal::ZERO
            }

            /// The value without trailing fraction zeros (`2.500` → `2.5`).
            pub fn normalize(self) -> Self {
                Self(self.0.normalize())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = Error;

            fn from_str(s: &str) -> Result<Self> {
                parse_decimal($what, s).map(Self)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

decimal_newtype!(
    /// An amount of money in euro, exact.
    ///
    /// ```
    /// use aidcost::{Money, Quantity, Rounding, UnitPrice};
    /// let q: Quantity = "1.25".parse()?;
    /// let p: UnitPrice = "18.00".parse()?;
    /// let m: Money = q.checked_mul(p).expect("in range");
    /// assert_eq!(m.to_string(), "22.5000");
    /// assert_eq!(m.round(Rounding::HalfUp, 2).to_string(), "22.50");
    /// # Ok::<(), aidcost::Error>(())
    /// ```
    Money,
    "amount"
);
decimal_newtype!(
    /// A price per unit of an element, in euro, exact.
    UnitPrice,
    "unit price"
);
decimal_newtype!(
    /// A quantity in an element's unit (hours, nights, km, euro for pass-through …), exact.
    Quantity,
    "quantity"
);

/// How a value is rounded to a number of decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[non_exhaustive]
pub enum Rounding {
    /// Commercial rounding: half away from zero (the default; DOMAIN.md section 3).
    #[default]
    HalfUp,
    /// Banker's rounding: half to even.
    HalfEven,
    /// Away from zero: any remainder rounds up in magnitude (in favour of a recipient).
    Up,
    /// Toward zero: any remainder is dropped.
    Down,
}

impl Rounding {
    fn strategy(self) -> RoundingStrategy {
        match self {
            Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
            Rounding::Up => RoundingStrategy::AwayFromZero,
            Rounding::Down => RoundingStrategy::ToZero,
        }
    }

    /// Rounds `value` to `decimals` places with this rule.
    pub fn apply(self, value: Decimal, decimals: u32) -> Decimal {
        value.round_dp_with_strategy(decimals, self.strategy())
    }

    /// The name used in files: `half_up`, `half_even`, `up`, `down`.
    pub fn as_str(self) -> &'static str {
        match self {
            Rounding::HalfUp => "half_up",
            Rounding::HalfEven => "half_even",
            Rounding::Up => "up",
            Rounding::Down => "down",
        }
    }
}

impl fmt::Display for Rounding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Rounding {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "half_up" => Ok(Rounding::HalfUp),
            "half_even" => Ok(Rounding::HalfEven),
            "up" => Ok(Rounding::Up),
            "down" => Ok(Rounding::Down),
            _ => Err(Error::Parse {
                what: "rounding mode",
                value: s.to_owned(),
                reason: "expected half_up, half_even, up or down".to_owned(),
            }),
        }
    }
}

impl Money {
    /// Rounds to `decimals` places with `mode`. This is the one rounding step of a line.
    pub fn round(self, mode: Rounding, decimals: u32) -> Money {
        Money(mode.apply(self.0, decimals))
    }

    /// `self + rhs`, or `None` on overflow.
    pub fn checked_add(self, rhs: Money) -> Option<Money> {
        self.0.checked_add(rhs.0).map(Money)
    }

    /// `self - rhs`, or `None` on overflow.
    pub fn checked_sub(self, rhs: Money) -> Option<Money> {
        self.0.checked_sub(rhs.0).map(Money)
    }

    /// The price per unit: `self ÷ quantity`, or `None` when the quantity is zero or on overflow.
    pub fn checked_div(self, quantity: Quantity) -> Option<UnitPrice> {
        self.0.checked_div(quantity.0).map(UnitPrice)
    }

    /// Sums amounts, or `None` on overflow.
    pub fn checked_sum<I: IntoIterator<Item = Money>>(iter: I) -> Option<Money> {
        iter.into_iter()
            .try_fold(Money::ZERO, |acc, m| acc.checked_add(m))
    }
}

impl Quantity {
    /// The money for this quantity at `price`, unrounded; `None` on overflow.
    pub fn checked_mul(self, price: UnitPrice) -> Option<Money> {
        self.0.checked_mul(price.0).map(Money)
    }

    /// `self + rhs`, or `None` on overflow.
    pub fn checked_add(self, rhs: Quantity) -> Option<Quantity> {
        self.0.checked_add(rhs.0).map(Quantity)
    }

    /// `self - rhs`, or `None` on overflow.
    pub fn checked_sub(self, rhs: Quantity) -> Option<Quantity> {
        self.0.checked_sub(rhs.0).map(Quantity)
    }

    /// The smallest multiple of `increment` that is at least `self` (for a positive increment);
    /// `None` on overflow or when `increment` is not positive.
    pub fn checked_round_up_to(self, increment: Quantity) -> Option<Quantity> {
        if increment.0 <= Decimal::ZERO {
            return None;
        }
        let steps = self.0.checked_div(increment.0)?.ceil();
        steps.checked_mul(increment.0).map(Quantity)
    }
}

impl UnitPrice {
    /// The unit price of pass-through elements: one euro per euro.
    pub const ONE_EURO: UnitPrice = UnitPrice(Decimal::ONE);
}

impl Mul<UnitPrice> for Quantity {
    type Output = Money;

    /// # Panics
    ///
    /// On overflow; use [`Quantity::checked_mul`].
    fn mul(self, rhs: UnitPrice) -> Money {
        Money(self.0 * rhs.0)
    }
}

impl Add for Money {
    type Output = Money;

    /// # Panics
    ///
    /// On overflow; use [`Money::checked_add`].
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl Sub for Money {
    type Output = Money;

    /// # Panics
    ///
    /// On overflow; use [`Money::checked_sub`].
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl Neg for Money {
    type Output = Money;

    fn neg(self) -> Money {
        Money(-self.0)
    }
}

impl Div<Quantity> for Money {
    type Output = UnitPrice;

    /// # Panics
    ///
    /// When the quantity is zero or on overflow; use [`Money::checked_div`].
    fn div(self, rhs: Quantity) -> UnitPrice {
        UnitPrice(self.0 / rhs.0)
    }
}

impl Add for Quantity {
    type Output = Quantity;

    /// # Panics
    ///
    /// On overflow; use [`Quantity::checked_add`].
    fn add(self, rhs: Quantity) -> Quantity {
        Quantity(self.0 + rhs.0)
    }
}

impl Sum for Money {
    /// # Panics
    ///
    /// On overflow; use [`Money::checked_sum`].
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

/// Splits `total` into parts proportional to `weights`, in whole cents, so that the parts add
/// up exactly to `total` (largest-remainder method; ties go to the earlier party).
///
/// `total` must be a whole number of cents. Weights must not be negative and must not all be
/// zero.
///
/// ```
/// use aidcost::{allocate, Money};
/// let parts = allocate("100.00".parse()?, &[1u32.into(), 1u32.into(), 1u32.into()])?;
/// let shown: Vec<String> = parts.iter().map(|m| m.to_string()).collect();
/// assert_eq!(shown, ["33.34", "33.33", "33.33"]);
/// # Ok::<(), aidcost::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::Parse`] when the weights are empty, negative or all zero, or the total has a
/// fraction of a cent; [`Error::Overflow`] when the arithmetic leaves the decimal range.
pub fn allocate(total: Money, weights: &[Decimal]) -> Result<Vec<Money>> {
    allocate_dp(total, weights, 2)
}

/// Splits `total` into parts proportional to `weights`, in whole units of `decimals` decimal
/// places (2: cents; 4: hundredths of a cent), so that the parts add up exactly to `total`
/// (largest-remainder method; ties go to the earlier party). [`allocate`] is
/// `allocate_dp(total, weights, 2)`.
///
/// `total` must be a whole number of such units. Weights must not be negative and must not
/// all be zero.
///
/// ```
/// use aidcost::{allocate_dp, Money};
/// let parts = allocate_dp("10.005".parse()?, &[1u32.into(), 1u32.into()], 3)?;
/// let shown: Vec<String> = parts.iter().map(|m| m.to_string()).collect();
/// assert_eq!(shown, ["5.003", "5.002"]);
/// # Ok::<(), aidcost::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::Parse`] when the weights are empty, negative or all zero, `decimals` is above 28,
/// or the total has a fraction of the smallest unit; [`Error::Overflow`] when the arithmetic
/// leaves the decimal range.
pub fn allocate_dp(total: Money, weights: &[Decimal], decimals: u32) -> Result<Vec<Money>> {
    let refuse = |reason: &str| Error::Parse {
        what: "allocation",
        value: total.to_string(),
        reason: reason.to_owned(),
    };
    let overflow = || Error::Overflow {
        what: "allocation".to_owned(),
    };
    if weights.is_empty() {
        return Err(refuse("no parties to allocate to"));
    }
    if weights.iter().any(|w| w.is_sign_negative() && !w.is_zero()) {
        return Err(refuse("a weight is negative"));
    }
    let weight_sum = weights
        .iter()
        .try_fold(Decimal::ZERO, |a, w| a.checked_add(*w))
        .ok_or_else(overflow)?;
    if weight_sum.is_zero() {
        return Err(refuse("all weights are zero"));
    }
    if decimals > 28 {
        return Err(refuse("at most 28 decimals"));
    }
    // One smallest unit is 10^-decimals; `cents` counts them (cents when decimals is 2).
    let unit = (0..decimals)
        .try_fold(Decimal::ONE, |u, _| u.checked_mul(Decimal::TEN))
        .ok_or_else(overflow)?;
    let cents = total.0.checked_mul(unit).ok_or_else(overflow)?;
    if cents.fract() != Decimal::ZERO {
        return Err(refuse(&if decimals == 2 {
            "the total has a fraction of a cent".to_owned()
        } else {
            format!("the total has more than {decimals} decimals")
        }));
    }
    let negative = cents.is_sign_negative();
    let cents = cents.abs();
    let mut floors = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    let mut given = Decimal::ZERO;
    for (i, w) in weights.iter().enumerate() {
        let exact = cents
            .checked_mul(*w)
            .and_then(|x| x.checked_div(weight_sum))
            .ok_or_else(overflow)?;
        let floor = exact.floor();
        given += floor;
        floors.push(floor);
        remainders.push((exact - floor, i));
    }
    let mut left = cents - given;
    // Largest remainder first; on equal remainders the earlier party first.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders {
        if left <= Decimal::ZERO {
            break;
        }
        floors[i] += Decimal::ONE;
        left -= Decimal::ONE;
    }
    floors
        .into_iter()
        .map(|c| {
            let mut m = c.checked_div(unit).ok_or_else(overflow)?;
            m.rescale(decimals);
            Ok(Money(if negative { -m } else { m }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn half_up_rounds_midpoints_away_from_zero_unlike_round_dp() {
        // DOMAIN.md section 3: round_dp() is banker's rounding; the rule is half away from zero.
        assert_eq!(d("2.345").round_dp(2), d("2.34"));
        assert_eq!(Rounding::HalfUp.apply(d("2.345"), 2), d("2.35"));
        assert_eq!(Rounding::HalfUp.apply(d("-2.345"), 2), d("-2.35"));
        assert_eq!(Rounding::HalfEven.apply(d("2.345"), 2), d("2.34"));
        assert_eq!(Rounding::Up.apply(d("446.01482"), 2), d("446.02"));
        assert_eq!(Rounding::Down.apply(d("446.019"), 2), d("446.01"));
    }

    #[test]
    fn parsing_is_exact_and_refuses_floats_in_disguise() {
        let m: Money = "9.95".parse().unwrap();
        assert_eq!(m.get() * Decimal::ONE_HUNDRED, d("995"));
        assert_eq!("12.50".parse::<UnitPrice>().unwrap().to_string(), "12.50");
        for bad in ["", "-", "1e3", "1,5", " 1", "1.2.3", ".", "NaN", "inf"] {
            assert!(bad.parse::<Money>().is_err(), "{bad:?} accepted");
        }
        assert_eq!(".5".parse::<Quantity>().unwrap().get(), d("0.5"));
    }

    #[test]
    fn display_and_from_str_are_inverses() {
        for s in [
            "0",
            "12.50",
            "-3.125",
            "0.0001",
            "79228162514264337593543950335",
        ] {
            assert_eq!(s.parse::<Money>().unwrap().to_string(), s);
        }
    }

    #[test]
    fn overflow_is_none_not_panic() {
        let big = Quantity::new(Decimal::MAX);
        assert!(big.checked_mul(UnitPrice::new(d("2"))).is_none());
        assert!(Money::new(Decimal::MAX)
            .checked_add(Money::new(d("1")))
            .is_none());
        assert!(Money::new(d("1")).checked_div(Quantity::ZERO).is_none());
    }

    #[test]
    fn round_up_to_increment() {
        let q = |s: &str| s.parse::<Quantity>().unwrap();
        assert_eq!(q("1.1").checked_round_up_to(q("0.25")), Some(q("1.25")));
        assert_eq!(q("1.25").checked_round_up_to(q("0.25")), Some(q("1.25")));
        assert_eq!(q("0.01").checked_round_up_to(q("0.5")), Some(q("0.5")));
        assert_eq!(q("1").checked_round_up_to(q("0")), None);
    }

    #[test]
    fn allocation_conserves_and_breaks_ties_to_earlier_parties() {
        let parts = allocate(Money::new(d("0.05")), &[d("1"), d("1"), d("1")]).unwrap();
        assert_eq!(parts, [d("0.02"), d("0.02"), d("0.01")].map(Money::new));
        let parts = allocate(Money::new(d("-10.00")), &[d("1"), d("2")]).unwrap();
        assert_eq!(parts, [d("-3.33"), d("-6.67")].map(Money::new));
        assert!(allocate(Money::new(d("1.005")), &[d("1")]).is_err());
        assert!(allocate(Money::new(d("1")), &[d("0")]).is_err());
        assert!(allocate(Money::new(d("1")), &[d("-1"), d("2")]).is_err());
        assert!(allocate(Money::new(d("1")), &[]).is_err());
    }

    #[test]
    fn allocation_in_other_decimals_conserves_the_total() {
        let parts = allocate_dp(Money::new(d("10.005")), &[d("1"), d("1")], 3).unwrap();
        assert_eq!(parts, [d("5.003"), d("5.002")].map(Money::new));
        let parts = allocate_dp(Money::new(d("-1.000001")), &[d("1"), d("2")], 6).unwrap();
        assert_eq!(parts, [d("-0.333334"), d("-0.666667")].map(Money::new));
        let parts = allocate_dp(Money::new(d("7")), &[d("1"), d("1")], 0).unwrap();
        assert_eq!(parts, [d("4"), d("3")].map(Money::new));
        assert_eq!(
            allocate_dp(Money::new(d("100.00")), &[d("1"); 3], 2).unwrap(),
            allocate(Money::new(d("100.00")), &[d("1"); 3]).unwrap()
        );
        let err = allocate_dp(Money::new(d("1.0005")), &[d("1")], 3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid allocation `1.0005`: the total has more than 3 decimals"
        );
        assert!(allocate_dp(Money::new(d("1")), &[d("1")], 29).is_err());
    }
}
