//! Price and quantity indices over elements (Laspeyres, Paasche, Fisher) and the additive
//! split of a cost change into price and quantity effects.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, MathematicalOps};
use serde::Serialize;

use super::stats::Ratio;
use crate::money::Money;

/// One element's quantity and cost in the base and the current period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ElementFlows {
    /// Base-period quantity.
    pub q0: Decimal,
    /// Current-period quantity.
    pub q1: Decimal,
    /// Base-period unit price: cost ÷ quantity, or the base table's price when q0 = 0.
    pub p0: Decimal,
    /// Current-period unit price: cost ÷ quantity, or the current table's price when q1 = 0.
    pub p1: Decimal,
    /// Base-period cost (sum of rounded lines).
    pub c0: Decimal,
    /// Current-period cost (sum of rounded lines).
    pub c1: Decimal,
}

/// The indices of one comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Indices {
    /// Σp₁q₀ / Σp₀q₀.
    pub laspeyres_price: Ratio,
    /// Σp₁q₁ / Σp₀q₁.
    pub paasche_price: Ratio,
    /// √(P_L · P_P).
    pub fisher_price: Ratio,
    /// Σp₀q₁ / Σp₀q₀.
    pub laspeyres_quantity: Ratio,
    /// Σp₁q₁ / Σp₁q₀.
    pub paasche_quantity: Ratio,
    /// √(Q_L · Q_P).
    pub fisher_quantity: Ratio,
    /// C₁ / C₀ (= P_F · Q_F).
    pub value_ratio: Ratio,
}

/// The cost change split into a price and a quantity effect that add up to it exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Decomposition {
    /// C₁ − C₀.
    pub change: Money,
    /// Σ (p₁ − p₀)(q₀ + q₁)/2, to the cent, taken as the change less the quantity effect.
    pub price_effect: Money,
    /// Σ (q₁ − q₀)(p₀ + p₁)/2 (Bennet), rounded half-up to the cent.
    pub quantity_effect: Money,
}

fn sum(
    flows: &BTreeMap<String, ElementFlows>,
    f: impl Fn(&ElementFlows) -> Option<Decimal>,
) -> Option<Decimal> {
    flows
        .values()
        .try_fold(Decimal::ZERO, |acc, e| acc.checked_add(f(e)?))
}

fn sqrt(r: Ratio) -> Ratio {
    match r.value() {
        Some(v) if v >= Decimal::ZERO => v.sqrt().map_or(Ratio::NOT_DEFINED, Ratio::new),
        _ => Ratio::NOT_DEFINED,
    }
}

/// Computes the indices from per-element flows. Base and current totals are the sums of the
/// costs (Σp₀q₀ = C₀ exactly, Σp₁q₁ = C₁), so the value ratio is exact.
pub fn indices(flows: &BTreeMap<String, ElementFlows>) -> Indices {
    let c0 = sum(flows, |e| Some(e.c0));
    let c1 = sum(flows, |e| Some(e.c1));
    let p1q0 = sum(flows, |e| e.p1.checked_mul(e.q0));
    let p0q1 = sum(flows, |e| e.p0.checked_mul(e.q1));
    let r = |a: Option<Decimal>, b: Option<Decimal>| match (a, b) {
        (Some(a), Some(b)) => Ratio::of(a, b),
        _ => Ratio::NOT_DEFINED,
    };
    let lp = r(p1q0, c0);
    let pp = r(c1, p0q1);
    let lq = r(p0q1, c0);
    let pq = r(c1, p1q0);
    let mul = |a: Ratio, b: Ratio| match (a.value(), b.value()) {
        (Some(a), Some(b)) => a.checked_mul(b).map_or(Ratio::NOT_DEFINED, Ratio::new),
        _ => Ratio::NOT_DEFINED,
    };
    Indices {
        laspeyres_price: lp,
        paasche_price: pp,
        fisher_price: sqrt(mul(lp, pp)),
        laspeyres_quantity: lq,
        paasche_quantity: pq,
        fisher_quantity: sqrt(mul(lq, pq)),
        value_ratio: r(c1, c0),
    }
}

/// Splits C₁ − C₀ into price and quantity effects (Bennet's symmetric split), the parts in
/// whole cents adding up exactly to the change. `None` on overflow.
pub fn decompose(flows: &BTreeMap<String, ElementFlows>) -> Option<Decomposition> {
    let c0 = sum(flows, |e| Some(e.c0))?;
    let c1 = sum(flows, |e| Some(e.c1))?;
    let half = Decimal::new(5, 1);
    let quantity = sum(flows, |e| {
        e.q1.checked_sub(e.q0)?
            .checked_mul(e.p0.checked_add(e.p1)?)?
            .checked_mul(half)
    })?;
    let change = c1.checked_sub(c0)?;
    let quantity_effect = crate::Rounding::HalfUp.apply(quantity, 2);
    Some(Decomposition {
        change: Money::new(change),
        quantity_effect: Money::new(quantity_effect),
        price_effect: Money::new(change.checked_sub(quantity_effect)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// DOMAIN.md section 5: staff hours €30 → €36, 10 000 → 11 000 h; shelter nights
    /// €50 → €55, 2 000 → 2 500.
    fn worked() -> BTreeMap<String, ElementFlows> {
        let e = |p0: &str, p1: &str, q0: &str, q1: &str| ElementFlows {
            p0: d(p0),
            p1: d(p1),
            q0: d(q0),
            q1: d(q1),
            c0: d(p0) * d(q0),
            c1: d(p1) * d(q1),
        };
        BTreeMap::from([
            ("STAFF".to_owned(), e("30", "36", "10000", "11000")),
            ("SHELTER".to_owned(), e("50", "55", "2000", "2500")),
        ])
    }

    fn close(r: Ratio, expected: &str) {
        let v = r.value().unwrap();
        let e = d(expected);
        // The published figures have 7 decimals.
        assert!((v - e).abs() < d("0.00000005"), "{v} vs {expected}");
    }

    #[test]
    fn reproduces_the_domain_fisher_example() {
        let i = indices(&worked());
        // C₀ = 400 000, C₁ = 533 500: V = 1.33375 exactly.
        assert_eq!(i.value_ratio.value(), Some(d("1.33375")));
        // P_L = (36·10 000 + 55·2 000) / 400 000 = 470 000 / 400 000 = 1.175 exactly.
        assert_eq!(i.laspeyres_price.value(), Some(d("1.175")));
        close(i.paasche_price, "1.1725275");
        close(i.fisher_price, "1.1737631");
        close(i.fisher_quantity, "1.1363026");
        let pf_qf = i.fisher_price.value().unwrap() * i.fisher_quantity.value().unwrap();
        assert!((pf_qf - d("1.33375")).abs() < d("1e-20"), "{pf_qf}");
    }

    #[test]
    fn effects_add_up_to_the_change() {
        let x = decompose(&worked()).unwrap();
        assert_eq!(x.change, Money::new(d("133500")));
        // Quantity: 1 000·(30+36)/2 + 500·(50+55)/2 = 33 000 + 26 250 = 59 250.
        assert_eq!(x.quantity_effect, Money::new(d("59250.00")));
        // Price: 6·(10 000+11 000)/2 + 5·(2 000+2 500)/2 = 63 000 + 11 250 = 74 250.
        assert_eq!(x.price_effect, Money::new(d("74250.00")));
    }
}
