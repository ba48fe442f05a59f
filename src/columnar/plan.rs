//! Price plans: every price row of a [`PriceBook`] as scaled 64-bit integers, the table's
//! rounding applied exactly in integers, and a resolver from (provider, element, date) to the
//! plan, with [`PriceBook::lookup`]'s answer precomputed per stretch of dates.

use rust_decimal::Decimal;

use crate::catalog::{Catalog, ElementIdx};
use crate::id::ProviderId;
use crate::money::Rounding;
use crate::pricing::{PriceBook, PriceRef, PriceRule, TableIdx};
use crate::Date;

/// Decimals of a scaled quantity (and of a scaled unit price).
pub(crate) const QS: u32 = 4;
/// Decimals of a scaled amount: quantity × price.
pub(crate) const AS: u32 = 8;
/// No plan: no table prices the element for the provider that day.
pub(crate) const NO_PLAN: u32 = u32::MAX;

/// `d × 10^scale` when that is a whole number that fits an `i64`; else `None`.
pub(crate) fn to_scaled(d: Decimal, scale: u32) -> Option<i64> {
    let n = if d.scale() > scale { d.normalize() } else { d };
    if n.scale() > scale {
        return None;
    }
    let factor = 10i128.checked_pow(scale - n.scale())?;
    i64::try_from(n.mantissa().checked_mul(factor)?).ok()
}

/// A scaled integer back as an exact decimal with `scale` decimals (`v` at [`QS`] or [`AS`]
/// decimals, `from`): the value `v / 10^from` written with `scale` decimals.
pub(crate) fn from_scaled(v: i64, from: u32, scale: u32) -> Decimal {
    let mut d = Decimal::new(v, from);
    // Exact: the caller knows the digits beyond `scale` are zero.
    d.rescale(scale);
    d
}

/// Rounds `v` (an amount with [`AS`] decimals) to `decimals` places with `mode`, exactly as
/// [`Rounding::apply`] rounds the same decimal; the result still has [`AS`] decimals.
/// `None` when the result leaves the `i64` range.
#[inline]
pub(crate) fn round_scaled(v: i64, mode: Rounding, decimals: u32) -> Option<i64> {
    match decimals {
        0 => round_by::<100_000_000>(v, mode),
        1 => round_by::<10_000_000>(v, mode),
        2 => round_by::<1_000_000>(v, mode),
        3 => round_by::<100_000>(v, mode),
        4 => round_by::<10_000>(v, mode),
        5 => round_by::<1_000>(v, mode),
        6 => round_by::<100>(v, mode),
        7 => round_by::<10>(v, mode),
        _ => Some(v),
    }
}

#[inline(always)]
fn round_by<const D: i64>(v: i64, mode: Rounding) -> Option<i64> {
    let q = v / D;
    let rem = v % D;
    if rem == 0 {
        return Some(v);
    }
    let twice = rem.unsigned_abs() * 2;
    let away = match mode {
        Rounding::Down => false,
        Rounding::Up => true,
        Rounding::HalfUp => twice >= D as u64,
        Rounding::HalfEven => twice > D as u64 || (twice == D as u64 && q % 2 != 0),
    };
    let q = match (away, v < 0) {
        (false, _) => q,
        (true, false) => q.checked_add(1)?,
        (true, true) => q.checked_sub(1)?,
    };
    q.checked_mul(D)
}

/// One step of a graduated price: the cumulative quantity it prices up to (`None`: all the
/// rest) and its price, both with [`QS`] decimals.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    pub(crate) upper: Option<i64>,
    pub(crate) price: i64,
}

/// How a plan prices, in scaled integers.
#[derive(Debug, Clone)]
pub(crate) enum Rule {
    /// One price per unit (pass-through: 1), with [`QS`] decimals.
    Flat(i64),
    /// Graduated prices.
    Tiers(Box<[Step]>),
}

/// A price row in scaled integers.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) price: PriceRef,
    pub(crate) element: ElementIdx,
    pub(crate) rule: Rule,
    /// The minimum increment with [`QS`] decimals, and the scale it was written with.
    pub(crate) increment: Option<(i64, u8)>,
    /// The cap per client and year with [`QS`] decimals.
    pub(crate) cap: Option<i64>,
    pub(crate) mode: Rounding,
    pub(crate) decimals: u32,
    /// Every figure of the row fits the scaled integers; when false, rows priced by it go
    /// through the decimal path.
    pub(crate) integer: bool,
    /// The price depends on the client's year so far (tiers or a cap).
    pub(crate) stateful: bool,
    /// The flat price with [`QS`] decimals when the row takes the hot path (integer, flat, not
    /// stateful); 0 otherwise.
    pub(crate) hot_price: i64,
}

impl Plan {
    /// `ceil(q / increment) × increment`, with [`QS`] decimals, for a positive `q`.
    #[inline]
    pub(crate) fn billed(&self, q: i64) -> Option<i64> {
        match self.increment {
            None => Some(q),
            Some((inc, _)) => {
                let steps = q / inc + i64::from(q % inc != 0);
                steps.checked_mul(inc)
            }
        }
    }

    /// The unrounded amount of `billed` units placed after `before` units of the year, with
    /// [`AS`] decimals.
    #[inline]
    pub(crate) fn unrounded(&self, before: i64, billed: i64) -> Option<i64> {
        match &self.rule {
            Rule::Flat(p) => billed.checked_mul(*p),
            Rule::Tiers(steps) => {
                let end = before.checked_add(billed)?;
                let mut sum = 0i64;
                let mut lower = 0i64;
                for s in steps.iter() {
                    let from = before.max(lower);
                    let to = match s.upper {
                        Some(u) => end.min(u),
                        None => end,
                    };
                    if to > from {
                        sum = sum.checked_add((to - from).checked_mul(s.price)?)?;
                    }
                    match s.upper {
                        Some(u) => lower = u,
                        None => break,
                    }
                }
                Some(sum)
            }
        }
    }
}

/// Every price row of a book as a [`Plan`], numbered table by table.
#[derive(Debug)]
pub(crate) struct Plans {
    pub(crate) plans: Vec<Plan>,
    /// The first plan of each table.
    base: Vec<u32>,
}

impl Plans {
    pub(crate) fn new(book: &PriceBook, catalog: &Catalog) -> Self {
        let mut plans = Vec::new();
        let mut base = Vec::with_capacity(book.tables().len());
        for (t, table) in book.tables().iter().enumerate() {
            base.push(plans.len() as u32);
            let rounding = table.rounding();
            for (r, row) in table.rows().iter().enumerate() {
                let scaled = |d: Decimal| to_scaled(d, QS);
                let mut integer = rounding.decimals() <= AS;
                let mut ok = |v: Option<i64>| {
                    integer &= v.is_some();
                    v.unwrap_or(0)
                };
                let rule = match row.rule() {
                    PriceRule::Flat(p) => Rule::Flat(ok(scaled(p.get()))),
                    PriceRule::Tiered(tiers) => Rule::Tiers(
                        tiers
                            .iter()
                            .map(|t| Step {
                                upper: t.up_to().map(|u| ok(scaled(u.get()))),
                                price: ok(scaled(t.unit_price().get())),
                            })
                            .collect(),
                    ),
                    _ => Rule::Flat(10i64.pow(QS)),
                };
                let increment = row.min_increment().map(|i| {
                    let v = ok(scaled(i.get()));
                    (v, i.get().scale().min(28) as u8)
                });
                let cap = row.cap_per_client_year().map(|c| ok(scaled(c.get())));
                if let Some((inc, _)) = increment {
                    // A zero or negative increment is an overflow rejection on the decimal path.
                    integer &= inc > 0;
                }
                let element = catalog
                    .index_of(row.element().as_str())
                    .unwrap_or(ElementIdx(u32::MAX));
                let stateful = cap.is_some() || matches!(rule, Rule::Tiers(_));
                let hot_price = match rule {
                    Rule::Flat(p) if integer && !stateful && p > 0 => p,
                    _ => 0,
                };
                plans.push(Plan {
                    hot_price,
                    price: PriceRef {
                        table: TableIdx(t as u32),
                        row: r as u32,
                    },
                    element,
                    stateful,
                    rule,
                    increment,
                    cap,
                    mode: rounding.mode(),
                    decimals: rounding.decimals(),
                    integer,
                });
            }
        }
        Self { plans, base }
    }

    fn id_of(&self, r: PriceRef) -> u32 {
        self.base[r.table.get()] + r.row
    }
}

/// A date packed into a `u32` that orders as the date does: `year << 9 | month << 5 | day`.
#[inline]
pub(crate) fn pack_date(d: Date) -> u32 {
    (u32::from(d.year()) << 9) | (u32::from(d.month()) << 5) | u32::from(d.day())
}

/// The date of [`pack_date`]'s result.
pub(crate) fn unpack_date(p: u32) -> Date {
    Date::new((p >> 9) as u16, ((p >> 5) & 15) as u8, (p & 31) as u8).unwrap_or(Date::MIN)
}

/// The calendar year of a packed date.
#[inline]
pub(crate) fn year_of(p: u32) -> u32 {
    p >> 9
}

/// Answers [`PriceBook::lookup`] with a table: per provider, per stretch of dates on which
/// no table starts or ends, per element, the plan.
#[derive(Debug, Clone)]
pub(crate) struct Resolver {
    /// Packed dates on which some table's validity starts or ends (the day after `valid_to`).
    bounds: Vec<u32>,
    /// One date in each stretch (stretch `s` holds the dates `d` with `s` bounds `<= d`).
    probes: Vec<Date>,
    elements: usize,
    /// `blocks[(provider × stretches + stretch) × elements + element]`.
    blocks: Vec<u32>,
    /// The hot-path pricing of each block, in the same order.
    hot: Vec<Hot>,
}

/// A plan as the hot path needs it: a flat price (0: the row is not hot), the minimum
/// increment (0: none) and the rounding, all in a few bytes next to each other.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hot {
    /// The flat price with [`QS`] decimals; 0 when the plan does not take the hot path.
    pub(crate) price: i64,
    /// The minimum increment with [`QS`] decimals; 0 for none.
    pub(crate) increment: i64,
    pub(crate) mode: Rounding,
    pub(crate) decimals: u32,
}

const COLD: Hot = Hot {
    price: 0,
    increment: 0,
    mode: Rounding::HalfUp,
    decimals: 2,
};

impl Hot {
    /// The billed quantity and the rounded amount ([`AS`] decimals) of a positive quantity
    /// `q` ([`QS`] decimals); `None` when a figure leaves the `i64` range.
    #[inline(always)]
    pub(crate) fn line(&self, q: i64) -> Option<(i64, i64)> {
        if self.price == 0 {
            return None;
        }
        let billed = if self.increment == 0 {
            q
        } else {
            let inc = self.increment;
            (q / inc + i64::from(q % inc != 0)).checked_mul(inc)?
        };
        let v = billed.checked_mul(self.price)?;
        // The common case, positive half-up to cents, without a remainder's branches.
        let amount = if self.decimals == 2 && self.mode == Rounding::HalfUp {
            const D: i64 = 1_000_000;
            (v.checked_add(D / 2)? / D) * D
        } else {
            round_scaled(v, self.mode, self.decimals)?
        };
        Some((billed, amount))
    }
}

impl Resolver {
    pub(crate) fn new(book: &PriceBook, catalog: &Catalog) -> Self {
        let mut bounds: Vec<u32> = Vec::new();
        for t in book.tables() {
            bounds.push(pack_date(t.valid_from()));
            if let Some(after) = t.valid_to().next_day() {
                bounds.push(pack_date(after));
            }
        }
        bounds.sort_unstable();
        bounds.dedup();
        let mut probes = vec![Date::MIN];
        probes.extend(bounds.iter().map(|&b| unpack_date(b)));
        Self {
            bounds,
            probes,
            elements: catalog.len(),
            blocks: Vec::new(),
            hot: Vec::new(),
        }
    }

    /// Adds the next provider (providers are numbered in the order added).
    pub(crate) fn add_provider(&mut self, book: &PriceBook, plans: &Plans, provider: &ProviderId) {
        for &date in &self.probes {
            for e in 0..self.elements {
                let hit = book.lookup(ElementIdx(e as u32), provider.as_str(), date);
                let id = hit.map_or(NO_PLAN, |r| plans.id_of(r));
                self.blocks.push(id);
                self.hot.push(match plans.plans.get(id as usize) {
                    Some(p) if p.hot_price > 0 => Hot {
                        price: p.hot_price,
                        increment: p.increment.map_or(0, |(inc, _)| inc),
                        mode: p.mode,
                        decimals: p.decimals,
                    },
                    _ => COLD,
                });
            }
        }
    }

    /// The plan for a provider (as numbered by [`Resolver::add_provider`]), an element of the
    /// catalog and a packed date.
    #[inline]
    pub(crate) fn plan(&self, provider: usize, element: usize, date: u32) -> u32 {
        self.blocks
            .get(self.slot(provider, element, date))
            .copied()
            .unwrap_or(NO_PLAN)
    }

    /// The hot-path pricing for a provider, an element of the catalog and a packed date.
    #[inline(always)]
    pub(crate) fn hot(&self, provider: usize, element: usize, date: u32) -> Hot {
        self.hot
            .get(self.slot(provider, element, date))
            .copied()
            .unwrap_or(COLD)
    }

    /// The block of a provider on a date: its index among (provider, stretch) pairs.
    pub(crate) fn block(&self, provider: usize, date: u32) -> usize {
        provider * self.probes.len() + self.bounds.partition_point(|&b| b <= date)
    }

    #[inline(always)]
    fn slot(&self, provider: usize, element: usize, date: u32) -> usize {
        // A few bounds (the usual case): count them without branches.
        let stretch = if self.bounds.len() <= 8 {
            self.bounds.iter().map(|&b| usize::from(b <= date)).sum()
        } else {
            self.bounds.partition_point(|&b| b <= date)
        };
        (provider * self.probes.len() + stretch) * self.elements + element
    }
}
