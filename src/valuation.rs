//! Valuation: every delivery becomes a [`ValuedLine`] citing the table, version, content hash
//! and price row it used, or a [`Rejection`] with a typed [`RejectReason`].
//!
//! The rules, in order, for one delivery:
//!
//! 1. the element must be in the catalog, the stated unit (if any) must be the catalog's, the
//!    client must be in the register (when one is given), and the quantity must be positive;
//! 2. the price row is looked up for the provider and date ([`PriceBook::lookup`]);
//! 3. the billed quantity is the quantity rounded up to the row's `min_increment`;
//! 4. with a `cap_per_client_year`, the part of the billed quantity beyond the client's
//!    cap for that element and calendar year is not priced: it is listed as an
//!    [`RejectReason::OverCap`] (a partial rejection when part of the row was within the cap);
//! 5. the amount is billed quantity × unit price (per tier for tiered rows, the tiers counted
//!    on the client's cumulative billed quantity of the element in the calendar year), at full
//!    precision, then rounded once as the table declares.
//!
//! Cumulative counts (tiers, caps) are taken in a fixed order, by client, element, date,
//! provider and quantity, so the result does not depend on the order of the input; rows alike
//! in all of these (differing at most in a note, staff hours or a stated unit) are taken in
//! input order, which decides only which of them a cap cuts.

use std::collections::HashMap;
use std::fmt;

use crate::catalog::{Catalog, ElementIdx, Unit};
use crate::clients::ClientRegister;
use crate::delivery::Delivery;
use crate::error::{Error, Result};
use crate::id::{ClientId, ElementCode, ProviderId};
use crate::money::{Money, Quantity, UnitPrice};
use crate::pricing::{PriceBook, PriceRef, PriceRow, PriceRule, PricingTable};
use crate::Date;

/// Why a row (or part of one) was not valued.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum RejectReason {
    /// The element code is not in the catalog.
    UnknownElement {
        /// The code.
        element: ElementCode,
    },
    /// The row states a unit other than the catalog's.
    UnitMismatch {
        /// The element.
        element: ElementCode,
        /// The catalog's unit.
        expected: Unit,
        /// The row's unit.
        given: Unit,
    },
    /// The client is not in the register.
    UnknownClient {
        /// The client.
        client: ClientId,
    },
    /// No table prices the element for the provider on the date.
    NoPrice {
        /// The element.
        element: ElementCode,
        /// The provider.
        provider: ProviderId,
        /// The date.
        date: Date,
    },
    /// The quantity is zero or negative.
    QuantityNotPositive {
        /// The quantity.
        quantity: Quantity,
    },
    /// Quantity beyond the cap per client per calendar year.
    OverCap {
        /// The element.
        element: ElementCode,
        /// The cap.
        cap: Quantity,
        /// The quantity beyond the cap, not priced.
        excess: Quantity,
    },
    /// The amount does not fit the decimal range.
    Overflow,
}

impl RejectReason {
    /// A short machine-readable name: `unknown_element`, `unit_mismatch`, `unknown_client`,
    /// `no_price`, `quantity_not_positive`, `over_cap`, `overflow`.
    pub fn code(&self) -> &'static str {
        match self {
            RejectReason::UnknownElement { .. } => "unknown_element",
            RejectReason::UnitMismatch { .. } => "unit_mismatch",
            RejectReason::UnknownClient { .. } => "unknown_client",
            RejectReason::NoPrice { .. } => "no_price",
            RejectReason::QuantityNotPositive { .. } => "quantity_not_positive",
            RejectReason::OverCap { .. } => "over_cap",
            RejectReason::Overflow => "overflow",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectReason::UnknownElement { element } => {
                write!(f, "unknown element `{element}`")
            }
            RejectReason::UnitMismatch {
                element,
                expected,
                given,
            } => write!(
                f,
                "unit mismatch: `{element}` is priced per {expected}, the row gives {given}"
            ),
            RejectReason::UnknownClient { client } => {
                write!(f, "unknown client `{client}`: not in the client register")
            }
            RejectReason::NoPrice {
                element,
                provider,
                date,
            } => write!(
                f,
                "no price: no table prices `{element}` for provider `{provider}` on {date}"
            ),
            RejectReason::QuantityNotPositive { quantity } => {
                write!(f, "quantity not positive: {quantity}")
            }
            RejectReason::OverCap {
                element,
                cap,
                excess,
            } => write!(
                f,
                "over cap: `{element}` is capped at {cap} per client per year; {excess} beyond it is not priced"
            ),
            RejectReason::Overflow => f.write_str("overflow: the amount is out of range"),
        }
    }
}

/// A row, or part of a row, that was not valued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    row: u64,
    reason: RejectReason,
    partial: bool,
}

impl Rejection {
    /// A rejection of input row `row` (the columnar fast path builds its own).
    pub(crate) fn new(row: u64, reason: RejectReason, partial: bool) -> Self {
        Self {
            row,
            reason,
            partial,
        }
    }
    /// The input row, counted from 1 (in a CSV file with a one-line header, line `row + 1`).
    pub fn row(&self) -> u64 {
        self.row
    }
    /// Why.
    pub fn reason(&self) -> &RejectReason {
        &self.reason
    }
    /// True when the row was valued in part (within a cap) and only the excess is rejected;
    /// such rows count as valued, not rejected.
    pub fn is_partial(&self) -> bool {
        self.partial
    }
}

/// The part of a tiered line priced at one tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierPart {
    /// The tier's position in the row, counted from 1.
    pub tier: u32,
    /// The client's cumulative quantity before this part (exclusive lower bound).
    pub from: Quantity,
    /// The cumulative quantity after this part.
    pub to: Quantity,
    /// The quantity priced at this tier.
    pub quantity: Quantity,
    /// The tier's price.
    pub unit_price: UnitPrice,
    /// `quantity × unit_price`, unrounded.
    pub amount: Money,
}

/// One valued delivery with its provenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuedLine {
    row: u64,
    element: ElementIdx,
    price: PriceRef,
    billed: Quantity,
    unit_price: Option<UnitPrice>,
    tiers: Option<Box<[TierPart]>>,
    unrounded: Money,
    amount: Money,
}

impl ValuedLine {
    /// The input row, counted from 1.
    pub fn row(&self) -> u64 {
        self.row
    }
    /// The element's index in the catalog.
    pub fn element(&self) -> ElementIdx {
        self.element
    }
    /// The table and row that priced it.
    pub fn price(&self) -> PriceRef {
        self.price
    }
    /// The quantity billed: after the minimum increment and within any cap.
    pub fn billed_quantity(&self) -> Quantity {
        self.billed
    }
    /// The single unit price applied (`None` for tiered lines; see [`ValuedLine::tiers`]).
    pub fn unit_price(&self) -> Option<UnitPrice> {
        self.unit_price
    }
    /// The tier breakdown of a tiered line.
    pub fn tiers(&self) -> Option<&[TierPart]> {
        self.tiers.as_deref()
    }
    /// The amount before rounding.
    pub fn unrounded(&self) -> Money {
        self.unrounded
    }
    /// The amount after the table's one rounding step.
    pub fn amount(&self) -> Money {
        self.amount
    }
}

/// Options of [`value`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValuationOptions {
    /// Turn the first rejection into an error.
    pub strict: bool,
}

impl ValuationOptions {
    /// Strict: any rejection is an error.
    pub fn strict() -> Self {
        Self { strict: true }
    }
}

/// What to value against: the catalog, the price book and (optionally) the client register.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The unified package.
    pub catalog: &'a Catalog,
    /// The pricing tables.
    pub book: &'a PriceBook,
    /// The client register; without it clients are not checked and households are clients.
    pub clients: Option<&'a ClientRegister>,
}

/// The result of valuing a set of deliveries.
#[derive(Debug, Clone)]
pub struct Valuation<'d> {
    deliveries: &'d [Delivery],
    lines: Vec<ValuedLine>,
    rejections: Vec<Rejection>,
    total: Money,
}

/// A valued line seen together with its delivery and pricing row.
#[derive(Debug, Clone, Copy)]
pub struct LineView<'v> {
    /// The delivery.
    pub delivery: &'v Delivery,
    /// The valued line.
    pub line: &'v ValuedLine,
    /// The table that priced it.
    pub table: &'v PricingTable,
    /// The row that priced it.
    pub price_row: &'v PriceRow,
}

impl<'d> Valuation<'d> {
    /// Rows read.
    pub fn rows_read(&self) -> u64 {
        self.deliveries.len() as u64
    }
    /// Rows valued (wholly, or within a cap).
    pub fn rows_valued(&self) -> u64 {
        self.lines.len() as u64
    }
    /// Rows wholly rejected. `rows_read == rows_valued + rows_rejected` always.
    pub fn rows_rejected(&self) -> u64 {
        self.rejections.iter().filter(|r| !r.partial).count() as u64
    }
    /// The valued lines, by row.
    pub fn lines(&self) -> &[ValuedLine] {
        &self.lines
    }
    /// The rejections (whole and partial), by row.
    pub fn rejections(&self) -> &[Rejection] {
        &self.rejections
    }
    /// The sum of the rounded line amounts.
    pub fn total(&self) -> Money {
        self.total
    }
    /// The input deliveries.
    pub fn deliveries(&self) -> &'d [Delivery] {
        self.deliveries
    }
    /// The delivery of an input row (counted from 1).
    pub fn delivery(&self, row: u64) -> Option<&'d Delivery> {
        usize::try_from(row)
            .ok()
            .and_then(|r| r.checked_sub(1))
            .and_then(|r| self.deliveries.get(r))
    }
    /// Each valued line with its delivery, table and row.
    pub fn views<'v>(&'v self, book: &'v PriceBook) -> impl Iterator<Item = LineView<'v>> + 'v {
        self.lines.iter().filter_map(move |line| {
            Some(LineView {
                delivery: self.delivery(line.row)?,
                line,
                table: book.tables().get(line.price.table.get())?,
                price_row: book
                    .tables()
                    .get(line.price.table.get())?
                    .rows()
                    .get(line.price.row as usize)?,
            })
        })
    }
}

struct Pending {
    row: usize,
    element: ElementIdx,
    price: PriceRef,
    billed: Quantity,
}

/// Values `deliveries` against `cx`.
///
/// # Errors
///
/// With [`ValuationOptions::strict`], the first rejection (by row) as [`Error::Rejected`];
/// [`Error::Overflow`] when the total leaves the decimal range. Otherwise every row ends as a
/// valued line or a rejection.
///
/// ```
/// use aidcost::{value, Catalog, Context, Delivery, PriceBook, ValuationOptions};
/// let catalog = Catalog::shipped()?;
/// let book = PriceBook::shipped(&catalog)?;
/// let d = Delivery::new(
///     "2024-03-01".parse()?, "PRV-KAUNAS".parse()?, "C-1".parse()?,
///     "LEGAL_CONSULT".parse()?, "1.1".parse()?,
/// );
/// let deliveries = [d];
/// let v = value(&deliveries, Context { catalog: &catalog, book: &book, clients: None },
///               ValuationOptions::default())?;
/// assert_eq!(v.rows_valued(), 1);
/// assert_eq!(v.lines()[0].billed_quantity().to_string(), "1.25"); // 0.25-hour increments
/// # Ok::<(), aidcost::Error>(())
/// ```
pub fn value<'d>(
    deliveries: &'d [Delivery],
    cx: Context<'_>,
    options: ValuationOptions,
) -> Result<Valuation<'d>> {
    let mut lines = Vec::with_capacity(deliveries.len());
    let mut rejections = Vec::new();
    let mut pending = Vec::new();
    for (i, d) in deliveries.iter().enumerate() {
        let row = i as u64 + 1;
        let reject = |reason| Rejection {
            row,
            reason,
            partial: false,
        };
        let Some(element) = cx.catalog.index_of(d.element().as_str()) else {
            rejections.push(reject(RejectReason::UnknownElement {
                element: d.element().clone(),
            }));
            continue;
        };
        let unit = cx.catalog.element(element).map_or(Unit::Eur, |e| e.unit());
        if let Some(given) = d.unit() {
            if given != unit {
                rejections.push(reject(RejectReason::UnitMismatch {
                    element: d.element().clone(),
                    expected: unit,
                    given,
                }));
                continue;
            }
        }
        if let Some(reg) = cx.clients {
            if reg.get(d.client().as_str()).is_none() {
                rejections.push(reject(RejectReason::UnknownClient {
                    client: d.client().clone(),
                }));
                continue;
            }
        }
        if !d.quantity().is_positive() {
            rejections.push(reject(RejectReason::QuantityNotPositive {
                quantity: d.quantity(),
            }));
            continue;
        }
        let Some(price) = cx.book.lookup(element, d.provider().as_str(), d.date()) else {
            rejections.push(reject(RejectReason::NoPrice {
                element: d.element().clone(),
                provider: d.provider().clone(),
                date: d.date(),
            }));
            continue;
        };
        let table = cx.book.table(price.table);
        let price_row = cx.book.row(price);
        let billed = match price_row.min_increment() {
            Some(inc) => match d.quantity().checked_round_up_to(inc) {
                Some(q) => q,
                None => {
                    rejections.push(reject(RejectReason::Overflow));
                    continue;
                }
            },
            None => d.quantity(),
        };
        let stateful = price_row.cap_per_client_year().is_some()
            || matches!(price_row.rule(), PriceRule::Tiered(_));
        if stateful {
            pending.push(Pending {
                row: i,
                element,
                price,
                billed,
            });
            continue;
        }
        let unit_price = match price_row.rule() {
            PriceRule::Flat(p) => *p,
            _ => UnitPrice::ONE_EURO,
        };
        match billed.checked_mul(unit_price) {
            Some(unrounded) => lines.push(ValuedLine {
                row,
                element,
                price,
                billed,
                unit_price: Some(unit_price),
                tiers: None,
                unrounded,
                amount: round(unrounded, table),
            }),
            None => rejections.push(reject(RejectReason::Overflow)),
        }
    }

    value_stateful(deliveries, cx, pending, &mut lines, &mut rejections);

    lines.sort_by_key(|l| l.row);
    rejections.sort_by_key(|r| (r.row, r.partial));
    if options.strict {
        if let Some(r) = rejections.first() {
            return Err(Error::Rejected {
                row: r.row,
                reason: r.reason.clone(),
            });
        }
    }
    let total =
        Money::checked_sum(lines.iter().map(|l| l.amount)).ok_or_else(|| Error::Overflow {
            what: "the total of all lines".to_owned(),
        })?;
    Ok(Valuation {
        deliveries,
        lines,
        rejections,
        total,
    })
}

fn round(m: Money, table: &PricingTable) -> Money {
    let r = table.rounding();
    m.round(r.mode(), r.decimals())
}

/// Values the rows whose price depends on the client's year so far (tiers, caps), in a fixed
/// order so that the input order does not matter.
fn value_stateful(
    deliveries: &[Delivery],
    cx: Context<'_>,
    mut pending: Vec<Pending>,
    lines: &mut Vec<ValuedLine>,
    rejections: &mut Vec<Rejection>,
) {
    // Rows alike in all of these (they differ at most in a note, staff hours or a stated
    // unit, none of which changes a price) are taken in input order.
    fn key<'d>(
        d: &'d Delivery,
        p: &Pending,
    ) -> (
        &'d ClientId,
        ElementIdx,
        Date,
        &'d ProviderId,
        Quantity,
        usize,
    ) {
        (
            d.client(),
            p.element,
            d.date(),
            d.provider(),
            d.quantity(),
            p.row,
        )
    }
    pending.sort_by(|a, b| key(&deliveries[a.row], a).cmp(&key(&deliveries[b.row], b)));
    let mut used: HashMap<(&ClientId, ElementIdx, u16), Quantity> = HashMap::new();
    for p in pending {
        let d = &deliveries[p.row];
        let row = p.row as u64 + 1;
        let price_row = cx.book.row(p.price);
        let so_far = used
            .entry((d.client(), p.element, d.date().year()))
            .or_insert(Quantity::ZERO);
        let mut billed = p.billed;
        if let Some(cap) = price_row.cap_per_client_year() {
            let (within, excess) = split_at_cap(cap, *so_far, billed);
            if within.get() <= rust_decimal::Decimal::ZERO {
                rejections.push(Rejection {
                    row,
                    reason: RejectReason::OverCap {
                        element: d.element().clone(),
                        cap,
                        excess,
                    },
                    partial: false,
                });
                continue;
            }
            if excess.is_positive() {
                rejections.push(Rejection {
                    row,
                    reason: RejectReason::OverCap {
                        element: d.element().clone(),
                        cap,
                        excess,
                    },
                    partial: true,
                });
                billed = within;
            }
        }
        let Some((line, end)) = price_line(cx.book, row, p.element, p.price, *so_far, billed)
        else {
            rejections.push(Rejection {
                row,
                reason: RejectReason::Overflow,
                partial: false,
            });
            continue;
        };
        *so_far = end;
        lines.push(line);
    }
}

/// Splits `billed` at a yearly `cap` of which `before` is already used: the part within the
/// cap and the excess beyond it. A cap already reached gives zero within and all as excess.
pub(crate) fn split_at_cap(
    cap: Quantity,
    before: Quantity,
    billed: Quantity,
) -> (Quantity, Quantity) {
    let room = cap.checked_sub(before).unwrap_or(Quantity::ZERO);
    if room.get() <= rust_decimal::Decimal::ZERO {
        return (Quantity::ZERO, billed);
    }
    if billed > room {
        (room, billed.checked_sub(room).unwrap_or(Quantity::ZERO))
    } else {
        (billed, Quantity::ZERO)
    }
}

/// Prices one billed quantity against the row `price` of `book`, the cumulative billed
/// quantity of the year before it being `before` (it places the quantity on the tiers), and
/// rounds the amount once as the table declares. Returns the line (citing input row `row`)
/// and the cumulative quantity after it; `None` on overflow.
pub(crate) fn price_line(
    book: &PriceBook,
    row: u64,
    element: ElementIdx,
    price: PriceRef,
    before: Quantity,
    billed: Quantity,
) -> Option<(ValuedLine, Quantity)> {
    let end = before.checked_add(billed)?;
    let (unit_price, tiers, unrounded) = match book.row(price).rule() {
        PriceRule::Tiered(tiers) => {
            let (parts, sum) = price_tiers(tiers, before, end)?;
            (None, Some(parts.into_boxed_slice()), sum)
        }
        PriceRule::Flat(p) => (Some(*p), None, billed.checked_mul(*p)?),
        _ => (
            Some(UnitPrice::ONE_EURO),
            None,
            billed.checked_mul(UnitPrice::ONE_EURO)?,
        ),
    };
    let line = ValuedLine {
        row,
        element,
        price,
        billed,
        unit_price,
        tiers,
        unrounded,
        amount: round(unrounded, book.table(price.table)),
    };
    Some((line, end))
}

/// Splits the cumulative range `(start, end]` over `tiers` and prices each part.
fn price_tiers(
    tiers: &[crate::pricing::Tier],
    start: Quantity,
    end: Quantity,
) -> Option<(Vec<TierPart>, Money)> {
    let mut parts = Vec::new();
    let mut sum = Money::ZERO;
    let mut lower = Quantity::ZERO;
    for (k, t) in tiers.iter().enumerate() {
        let upper = t.up_to();
        let from = start.max(lower);
        let to = match upper {
            Some(u) => end.min(u),
            None => end,
        };
        if to > from {
            let quantity = to.checked_sub(from)?;
            let amount = quantity.checked_mul(t.unit_price())?;
            sum = sum.checked_add(amount)?;
            parts.push(TierPart {
                tier: k as u32 + 1,
                from,
                to,
                quantity,
                unit_price: t.unit_price(),
                amount,
            });
        }
        match upper {
            Some(u) => lower = u,
            None => break,
        }
    }
    Some((parts, sum))
}

#[cfg(test)]
mod tests;
