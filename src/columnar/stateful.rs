//! Pass 2 of the in-memory path for the rows priced by tiers or caps in scaled integers.
//!
//! Pass 1 packs these rows as 16-byte records into lists by range of clients (see
//! [`Layout`]): one write a row, in place. Here each range's records, a few hundred
//! kilobytes, are grouped by client and element with a counting sort in the caches; each
//! group is put in the general path's order (date, provider, quantity, row) and valued with
//! the client's cumulative counts straight into the client's sums (in a loop chosen once per
//! element, see [`Kind`]; when every element has one of the two tight shapes, in one pass
//! over the range without a branch on the figures, see [`Pass2::value_two`], for every range
//! of fewer than 2³¹ records). A rejection over a cap is kept as a compact record until
//! `ByClient::rejections` is first called, which sorts them by row and makes each a
//! [`Rejection`]. Ranges of clients split across threads.

use std::collections::HashMap;

use super::engine::{merge_acc, Acc, Part, SRow, Shared, Simple, MIXED};
use super::plan::{from_scaled, round_scaled, year_of, Plan, Rule, Step, NO_PLAN, QS};
use super::{on_threads, Columns, Ids, MIN_PARALLEL_ROWS};
use crate::money::{Quantity, Rounding};
use crate::valuation::{RejectReason, Rejection};
use crate::ElementCode;

/// Buckets of a range (clients × elements) are at most 2^`KEY_BITS`: their counters (128 KiB
/// at most) stay in the second-level cache.
const KEY_BITS: u32 = 14;

/// How pass 1 packs a stateful row, and the range of clients it goes to.
///
/// A record, from its high bits: the group key (16: the client's place in its range, then
/// the element's place among the elements that may be stateful), packed date (24 bits: the
/// year, then the day), provider rank (16), quantity (32), row (32) and the decimals the
/// quantity was written with (8). The integer order is so the order of groups, and within a
/// group (one client, one element) the general path's order: date, provider, quantity, row.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// By element: its place among the elements that may be stateful; `u16::MAX` for others.
    ord: Vec<u16>,
    /// By place: the element.
    elements: Vec<u16>,
    /// Bits of an element's place.
    ord_bits: u32,
    /// Bits of a client's place in its range: a range holds 2^`place_bits` clients.
    place_bits: u32,
}

impl Layout {
    /// The layout for the elements marked in `stateful` (by interned element; at most 256).
    pub(crate) fn new(stateful: &[bool]) -> Self {
        let mut ord = vec![u16::MAX; stateful.len()];
        let mut elements = Vec::new();
        for (e, _) in stateful.iter().enumerate().filter(|(_, &s)| s).take(256) {
            ord[e] = elements.len() as u16;
            elements.push(e as u16);
        }
        let ord_bits = usize::BITS - elements.len().saturating_sub(1).leading_zeros();
        // Small ranges in tests, so that they hold many.
        let place_bits = if cfg!(test) {
            1
        } else {
            KEY_BITS.saturating_sub(ord_bits).clamp(1, 9)
        };
        Self {
            ord,
            elements,
            ord_bits,
            place_bits,
        }
    }

    /// The number of ranges for `clients` clients.
    pub(crate) fn ranges(&self, clients: usize) -> usize {
        (clients >> self.place_bits) + 1
    }

    /// The range of a row and its record; `None` when the element is not one of the layout's
    /// or the date does not fit 24 bits.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(crate) fn pack(
        &self,
        client: u32,
        element: u16,
        date: u32,
        rank: u16,
        q: u32,
        row: u32,
        scale: u8,
    ) -> Option<(usize, u128)> {
        let ord = *self.ord.get(usize::from(element))?;
        if ord == u16::MAX || date >= 1 << 24 {
            return None;
        }
        let place = client & ((1 << self.place_bits) - 1);
        let key = (place << self.ord_bits) | u32::from(ord);
        let r = (u128::from(key) << 112)
            | (u128::from(date) << 88)
            | (u128::from(rank) << 72)
            | (u128::from(q) << 40)
            | (u128::from(row) << 8)
            | u128::from(scale);
        Some(((client >> self.place_bits) as usize, r))
    }

    /// The client and element of a record in range `range`.
    #[inline(always)]
    fn whose(&self, range: usize, r: u128) -> (u32, u16) {
        let k = key(r);
        let place = k >> self.ord_bits;
        let ord = k & ((1 << self.ord_bits) - 1);
        let element = self.elements.get(ord).copied().unwrap_or(u16::MAX);
        (((range << self.place_bits) + place) as u32, element)
    }

    /// Rows `rows` of `columns` whose plans price them by tiers or caps in scaled integers
    /// (by `simple`; `rank`: the providers' ranks), packed into `fast` (by range of clients);
    /// the others listed in `rest`, for the checked paths. A function of its own, so that the
    /// loop's figures stay in registers.
    #[inline(never)]
    pub(crate) fn pack_rows(
        &self,
        simple: &Simple,
        rank: &[u16],
        columns: &Columns,
        rows: &[u32],
        fast: &mut [Vec<u128>],
        rest: &mut Vec<u32>,
    ) {
        // One block for every provider and date: the element decides.
        let uniform = simple.uniform_stateful();
        // The columns cut to one length, so that one check of a row covers all six.
        let c = columns;
        let n = (c.quantity.len().min(c.provider.len()).min(c.element.len()))
            .min(c.date.len().min(c.client.len()).min(c.scale.len()));
        let (quantity, provider, element) = (&c.quantity[..n], &c.provider[..n], &c.element[..n]);
        let (date, client, scale) = (&c.date[..n], &c.client[..n], &c.scale[..n]);
        for &i in rows {
            let row = i as usize;
            let packed = || {
                if row >= n {
                    return None;
                }
                let (q, provider) = (quantity[row], provider[row]);
                let (element, date) = (element[row], date[row]);
                let rank = *rank.get(usize::from(provider))?;
                let plan = match uniform {
                    Some(by_element) => *by_element.get(usize::from(element))?,
                    None => simple.stateful_plan(provider, element, date),
                };
                if plan == NO_PLAN || q <= 0 {
                    return None;
                }
                let (client, scale) = (client[row], scale[row]);
                let q = u32::try_from(q).ok()?;
                self.pack(client, element, date, rank, q, i, scale)
            };
            match packed().and_then(|(range, rec)| Some((fast.get_mut(range)?, rec))) {
                Some((list, rec)) => list.push(rec),
                None => rest.push(i),
            }
        }
    }

    /// The general records of every packed row (`fast`: by part, by range), for when some
    /// stateful rows need the general path and all must take it.
    pub(crate) fn set_aside(
        &self,
        simple: &Simple,
        rank: &[u16],
        fast: &[Vec<Vec<u128>>],
        out: &mut Vec<SRow>,
    ) {
        let unrank = unrank(rank);
        for lists in fast {
            for (range, list) in lists.iter().enumerate() {
                for &r in list {
                    let (client, element) = self.whose(range, r);
                    out.push(srow(simple, &unrank, client, element, r));
                }
            }
        }
    }
}

/// The group key of a record.
#[inline(always)]
fn key(r: u128) -> usize {
    (r >> 112) as usize
}

/// The group key and year of a record: a new group of lines starts where it changes.
#[inline(always)]
fn group_year(r: u128) -> u32 {
    (r >> 97) as u32
}

/// The date, provider rank, quantity, row and decimals of a record.
#[inline(always)]
fn unpack(r: u128) -> (u32, u16, u32, u32, u8) {
    (
        (r >> 88) as u32 & 0xff_ffff,
        (r >> 72) as u16,
        (r >> 40) as u32,
        (r >> 8) as u32,
        r as u8,
    )
}

/// The provider of each rank.
fn unrank(rank: &[u16]) -> Vec<u16> {
    let mut unrank = vec![0u16; rank.len()];
    for (p, &r) in rank.iter().enumerate() {
        if let Some(u) = unrank.get_mut(usize::from(r)) {
            *u = p as u16;
        }
    }
    unrank
}

/// A record as a general stateful row.
#[inline]
fn srow(simple: &Simple, unrank: &[u16], client: u32, element: u16, r: u128) -> SRow {
    let (date, rank, q, row, scale) = unpack(r);
    let provider = unrank.get(usize::from(rank)).copied().unwrap_or(0);
    SRow {
        key: SRow::key_of(element, date, rank),
        q: i64::from(q),
        row,
        client,
        plan: simple.stateful_plan(provider, element, date),
        scale,
    }
}

/// A rejection over a cap, until it is made a [`Rejection`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Over {
    /// The input row, from 0.
    row: u32,
    plan: u32,
    /// The excess with [`QS`] decimals.
    excess: i64,
    element: u16,
    /// The decimals the excess is written with.
    scale: u8,
    partial: bool,
}

/// `a` when `c`, else `b`, by a mask rather than a branch.
#[inline(always)]
fn pick(c: bool, a: i64, b: i64) -> i64 {
    let m = -i64::from(c);
    (a & m) | (b & !m)
}

/// The rejections over a cap of the rows pass 2 valued, compact until they are asked for
/// (see [`crate::columnar::ByClient::rejections`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct Overs {
    /// In no particular order; one a row at most.
    list: Vec<Over>,
    /// How many are whole.
    whole: u64,
    /// By plan: its cap, when it has one (every rejection's plan has one).
    caps: Vec<Option<Quantity>>,
    /// The interned elements (every rejection's element is one).
    elements: Vec<ElementCode>,
}

impl Overs {
    /// How many rows are wholly rejected.
    pub(crate) fn whole(&self) -> u64 {
        self.whole
    }

    /// These rejections and `made` (by row; no row in both), by row.
    pub(crate) fn merged(&self, made: &[Rejection]) -> Vec<Rejection> {
        // The list's rows with their places, sorted: eight bytes each.
        let mut order: Vec<u64> = (0u64..)
            .zip(&self.list)
            .map(|(i, o)| u64::from(o.row) << 32 | i)
            .collect();
        order.sort_unstable();
        let mut out = Vec::with_capacity(made.len() + order.len());
        let mut made = made.iter().peekable();
        for k in order {
            let Some(o) = self.list.get((k & u64::from(u32::MAX)) as usize) else {
                continue;
            };
            let row = u64::from(o.row) + 1;
            while let Some(r) = made.next_if(|r| r.row() < row) {
                out.push(r.clone());
            }
            let cap = self.caps.get(o.plan as usize).copied().flatten();
            let element = self.elements.get(usize::from(o.element));
            // Both are known: `value_fast` checked every rejection.
            if let (Some(cap), Some(element)) = (cap, element) {
                let reason = RejectReason::OverCap {
                    element: element.clone(),
                    cap,
                    excess: Quantity::new(from_scaled(o.excess, QS, u32::from(o.scale))),
                };
                out.push(Rejection::new(row, reason, o.partial));
            }
        }
        out.extend(made.cloned());
        out
    }
}

/// How the records of one stateful element are valued, decided once per element when one
/// plan serves every provider and date (else [`Kind::General`]). The two tight shapes are
/// the usual ones, with the default rounding (half-up to cents) and prices that are not
/// negative; each gives the figures [`Pass2::value_group`] gives.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// The plan of each record, looked up by provider and date.
    General,
    /// A flat price with a yearly cap and no minimum increment, all with [`QS`] decimals; the
    /// cap written with `cap_scale` decimals.
    Cap {
        plan: u32,
        price: i64,
        cap: i64,
        cap_scale: u32,
    },
    /// Two tiers, `low` up to `upper` and `high` beyond; no cap, no minimum increment.
    Tiers { upper: i64, low: i64, high: i64 },
}

impl Kind {
    /// The shape of plan `id` (of `plans`), whose cap is written with `cap_scale` decimals.
    fn of(plans: &[Plan], id: u32, cap_scale: Option<u32>) -> Self {
        let Some(plan) = plans.get(id as usize) else {
            return Self::General;
        };
        let default_rounding = plan.mode == Rounding::HalfUp && plan.decimals == 2;
        if !default_rounding || plan.increment.is_some() {
            return Self::General;
        }
        match (&plan.rule, plan.cap, cap_scale) {
            (Rule::Flat(price), Some(cap), Some(cap_scale)) if *price >= 0 => Self::Cap {
                plan: id,
                price: *price,
                cap,
                cap_scale,
            },
            (Rule::Tiers(steps), None, _) => match **steps {
                [Step {
                    upper: Some(upper),
                    price: low,
                }, Step {
                    upper: None,
                    price: high,
                }] if low >= 0 && high >= 0 => Self::Tiers { upper, low, high },
                _ => Self::General,
            },
            _ => Self::General,
        }
    }
}

/// The figures of an element of [`Kind::Tiers`] or [`Kind::Cap`] as one shape, for
/// [`Pass2::value_two`]: a line's part up to `upper` (of the client's year so far) at `low`,
/// its part beyond at `high`. A tier bills both parts; a cap bills the first only (`high` is
/// 0) and rejects the second.
#[derive(Debug, Clone, Copy)]
struct Two {
    upper: i64,
    low: i64,
    high: i64,
    /// What the year so far may reach: `upper` for a cap, else no bound.
    lim: i64,
    /// All ones (−1) when the part beyond is billed (tiers), 0 when rejected (a cap).
    beyond_billed: i64,
    /// All ones when the part beyond is rejected (a cap), else 0.
    rejects: usize,
    /// The plan, its cap's decimals and the element, for a rejection.
    plan: u32,
    cap_scale: u32,
    element: u16,
    unit: u8,
}

/// [`Two`] by element's place, for every place of at most 8 bits (the places beyond the
/// elements: [`NO_TWO`]).
type Twos = [Two; 256];

/// Prices below this (with [`QS`] decimals) keep a line's unrounded amount (a quantity
/// below 2³² times the price) below 2⁶².
const TWO_PRICE_LIMIT: i64 = 1 << 30;

impl Two {
    /// The figures of `kind`, of `element` in unit `unit`; `None` for [`Kind::General`] or
    /// figures beyond [`Pass2::value_two`]'s bounds.
    fn of(kind: Kind, element: u16, unit: u8) -> Option<Self> {
        let price = 0..TWO_PRICE_LIMIT;
        // A bit of a 64-bit word for each unit code; 0 means no line.
        if !(1..64).contains(&unit) {
            return None;
        }
        match kind {
            Kind::General => None,
            Kind::Tiers { upper, low, high } => {
                (upper >= 0 && price.contains(&low) && price.contains(&high)).then_some(Self {
                    upper,
                    low,
                    high,
                    lim: i64::MAX,
                    beyond_billed: -1,
                    rejects: 0,
                    plan: NO_PLAN,
                    cap_scale: 0,
                    element,
                    unit,
                })
            }
            Kind::Cap {
                plan,
                price: p,
                cap,
                cap_scale,
            } => (cap >= 0 && price.contains(&p)).then_some(Self {
                upper: cap,
                low: p,
                high: 0,
                lim: cap,
                beyond_billed: 0,
                rejects: usize::MAX,
                plan,
                cap_scale,
                element,
                unit,
            }),
        }
    }
}

/// The shape of a place no element has: a client with a record of it takes the decimal path
/// (its unit bit, 0, is never an element's; the row always makes a line).
const NO_TWO: Two = Two {
    upper: 0,
    low: 0,
    high: 0,
    lim: 0,
    beyond_billed: -1,
    rejects: 0,
    plan: NO_PLAN,
    cap_scale: 0,
    element: u16::MAX,
    unit: 0,
};

/// Clients with fewer rows than this take [`Pass2::value_two`]'s pass: their sums cannot
/// leave the range.
const TWO_ROWS: usize = 1 << 20;

/// Groups of at most this many records are put in order by insertion.
const SMALL_GROUP: usize = 48;

/// [`round_scaled`] half-up to cents of an amount that is not negative.
#[inline(always)]
fn round_cents(v: i64) -> Option<i64> {
    const D: i64 = 1_000_000;
    Some(v.checked_add(D / 2)? / D * D)
}

/// What a thread of pass 2 gives besides the sums it added.
struct Out {
    overs: Vec<Over>,
    /// Clients valued through the decimal path: their rejections and sums beyond the
    /// scaled integers.
    slow: Part,
}

/// What every thread of pass 2 reads.
struct Pass2<'s, 'a> {
    shared: &'s Shared<'a>,
    simple: &'s Simple,
    layout: &'s Layout,
    ids: &'s Ids,
    unrank: Vec<u16>,
    /// By plan: the decimals the yearly cap is written with, when the plan has one.
    cap_scale: Vec<Option<u32>>,
    fast: &'s [Vec<Vec<u128>>],
    /// By element's place in the layout: how its records are valued.
    kinds: Vec<Kind>,
    /// By element's place, when every element is of [`Kind::Tiers`] or [`Kind::Cap`] within
    /// [`Two::of`]'s bounds: their figures, for [`Pass2::value_two`] (which takes the ranges
    /// of fewer than 2³¹ records; the others take the general loop).
    two: Option<Box<Twos>>,
}

/// The rows pass 1 packed (`fast`: by part, by range of clients), valued into `part`: each
/// client's sums added to its own, the rejections over a cap kept compact in `part.overs`
/// (those of a client taken through the decimal path are made at once and appended to
/// `part.rejections`, which `Shared::result` sorts by row).
#[allow(clippy::too_many_arguments)]
pub(crate) fn value_fast(
    shared: &Shared<'_>,
    simple: &Simple,
    layout: &Layout,
    ids: &Ids,
    rank: &[u16],
    fast: &[Vec<Vec<u128>>],
    threads: usize,
    part: &mut Part,
) {
    let ranges = layout.ranges(ids.clients.len());
    let sizes: Vec<usize> = (0..ranges)
        .map(|r| fast.iter().map(|f| f.get(r).map_or(0, Vec::len)).sum())
        .collect();
    let total: usize = sizes.iter().sum();
    if total == 0 {
        return;
    }
    let book = shared.cx.book;
    let caps: Vec<Option<Quantity>> = shared
        .plans
        .plans
        .iter()
        .map(|p| p.cap.and_then(|_| book.row(p.price).cap_per_client_year()))
        .collect();
    let cap_scale: Vec<Option<u32>> = caps.iter().map(|c| c.map(|c| c.get().scale())).collect();
    let plans = &shared.plans.plans;
    let uniform = simple.uniform_stateful();
    let kinds: Vec<Kind> = layout
        .elements
        .iter()
        .map(|&e| match uniform {
            Some(by_element) => {
                let id = by_element.get(usize::from(e)).copied().unwrap_or(NO_PLAN);
                Kind::of(plans, id, cap_scale.get(id as usize).copied().flatten())
            }
            None => Kind::General,
        })
        .collect();
    let two = kinds
        .iter()
        .zip(&layout.elements)
        .map(|(&kind, &e)| Two::of(kind, e, shared.unit_code(usize::from(e))))
        .collect::<Option<Vec<Two>>>()
        .map(|by_place| {
            let mut all = Box::new([NO_TWO; 256]);
            for (slot, two) in all.iter_mut().zip(by_place) {
                *slot = two;
            }
            all
        });
    let pass = Pass2 {
        shared,
        simple,
        layout,
        ids,
        unrank: unrank(rank),
        cap_scale,
        fast,
        kinds,
        two,
    };
    // Contiguous ranges of clients with about equal records, one a thread, each with its
    // clients' sums.
    let shares = if total < MIN_PARALLEL_ROWS {
        1
    } else {
        threads.clamp(1, 64)
    };
    let mut cuts = vec![0usize];
    let mut seen = 0usize;
    for (r, &n) in sizes.iter().enumerate() {
        seen += n;
        if cuts.len() < shares && seen * shares >= total * cuts.len() {
            cuts.push(r + 1);
        }
    }
    cuts.push(ranges);
    let mut pieces = Vec::with_capacity(shares);
    let mut rest: &mut [Acc] = &mut part.acc;
    let mut first = 0usize;
    for w in cuts.windows(2) {
        let end = (w[1] << layout.place_bits).clamp(first, first + rest.len());
        let (mine, more) = std::mem::take(&mut rest).split_at_mut(end - first);
        pieces.push((w[0]..w[1], first, mine));
        rest = more;
        first = end;
    }
    let outs = on_threads(pieces, |(ranges, first, accs)| {
        pass.value_ranges(ranges, first, accs)
    });
    let mut list: Vec<Over> = Vec::new();
    let mut whole = 0u64;
    for mut out in outs {
        // Every rejection's plan has a cap and its element is interned (not reached
        // otherwise: only plans with a cap reject over it).
        let known = |o: &Over| {
            caps.get(o.plan as usize).is_some_and(Option::is_some)
                && usize::from(o.element) < ids.elements.len()
        };
        for o in &out.overs {
            part.overflow |= !known(o);
            whole += u64::from(!o.partial);
        }
        if list.is_empty() {
            list = std::mem::take(&mut out.overs);
        } else {
            list.extend_from_slice(&out.overs);
        }
        part.merge_rest(out.slow);
    }
    part.overs = Overs {
        list,
        whole,
        caps,
        elements: ids.elements.clone(),
    };
}

impl<'s> Pass2<'s, '_> {
    /// The clients of `ranges`, whose sums are `accs` (from client `first` on).
    fn value_ranges(&self, ranges: std::ops::Range<usize>, first: usize, accs: &mut [Acc]) -> Out {
        let layout = self.layout;
        let mut out = Out {
            overs: Vec::new(),
            slow: Part::default(),
        };
        let mut scratch: Vec<u128> = Vec::new();
        let mut sorted: Vec<u128> = Vec::new();
        let mut spare: Vec<u64> = Vec::new();
        let per_client = 1usize << layout.ord_bits;
        let clients = 1usize << layout.place_bits;
        // After placing: `next[k]` is where bucket `k` ends (and `k + 1` starts).
        let mut next = vec![0usize; per_client * clients + 1];
        for range in ranges {
            let list = |lists: &'s [Vec<u128>]| lists.get(range).map_or(&[][..], Vec::as_slice);
            // One part's list is read where it is; several are put together first.
            let records: &[u128] = match self.fast {
                [one] => list(one),
                parts => {
                    scratch.clear();
                    for lists in parts {
                        scratch.extend_from_slice(list(lists));
                    }
                    &scratch
                }
            };
            if records.is_empty() {
                continue;
            }
            // A counting sort by group: clients in order, each client's elements in order.
            next.fill(0);
            for &r in records {
                next[key(r) + 1] += 1;
            }
            let mut long = false;
            for k in 1..next.len() {
                long |= next[k] > SMALL_GROUP;
                next[k] += next[k - 1];
            }
            sorted.clear();
            sorted.resize(records.len(), 0);
            for &r in records {
                let at = &mut next[key(r)];
                sorted[*at] = r;
                *at += 1;
            }
            // The pass for the usual shapes notes a rejection's record by its index in 31 bits.
            if let Some(two) = self.two.as_ref().filter(|_| sorted.len() < 1 << 31) {
                sort_groups(&mut sorted, &next, long);
                let ends = (&next[..], per_client);
                self.value_two(range, &sorted, ends, two, first, accs, &mut spare, &mut out);
                continue;
            }
            // Client by client, only those with records: a client's groups follow one
            // another, and `next` says where each ends.
            let mut lo = 0usize;
            while lo < sorted.len() {
                let place = key(sorted[lo]) >> layout.ord_bits;
                let ends = &next[place * per_client..(place + 1) * per_client];
                let hi = ends[per_client - 1].clamp(lo + 1, sorted.len());
                let client = (range << layout.place_bits) + place;
                if let Some(acc) = client.checked_sub(first).and_then(|c| accs.get_mut(c)) {
                    self.value_client(client as u32, &mut sorted[lo..hi], lo, ends, acc, &mut out);
                } else {
                    out.slow.overflow = true;
                }
                lo = hi;
            }
        }
        out
    }

    /// The records of range `range` (`recs`, in order: client by client, each client's groups
    /// in turn, each group in the general path's order), every element of the shapes `two`
    /// (by place, one for every place the layout's bits allow), added to the clients' sums
    /// (`accs`, from client `first` on).
    ///
    /// One pass without a branch that depends on the figures, as which way such a branch
    /// goes is a coin toss to the processor: one shape for tiers and caps, the year so far
    /// cleared where a group starts, each client's sums kept in registers, every row written
    /// to `spare` as a possible rejection over a cap (its index in `recs`, below 2³¹, its
    /// excess and whether it is in part within the cap) and kept only where it is one. No sum
    /// can leave the range while a client has fewer than [`TWO_ROWS`] rows (each row's
    /// cents below 2⁴³, its quantity below 2³²); a client with more goes through the
    /// decimal path.
    #[allow(clippy::too_many_arguments)]
    fn value_two(
        &self,
        range: usize,
        recs: &[u128],
        (ends, per_client): (&[usize], usize),
        two: &Twos,
        first: usize,
        accs: &mut [Acc],
        spare: &mut Vec<u64>,
        out: &mut Out,
    ) {
        const HALF: i64 = 500_000;
        const CENT: i64 = 1_000_000;
        let layout = self.layout;
        let ord_mask = (1usize << layout.ord_bits) - 1;
        // One place more than the rows: the last row writes one beyond the last kept.
        if spare.len() <= recs.len() {
            spare.resize(recs.len() + 1, 0);
        }
        let mut kept = 0usize;
        let mut lo = 0usize;
        while let Some(&head) = recs.get(lo) {
            let place = key(head) >> layout.ord_bits;
            // The client's records end where its last group does.
            let hi = ends
                .get((place + 1) * per_client - 1)
                .map_or(lo + 1, |&end| end.clamp(lo + 1, recs.len()));
            let before = kept;
            // Cents, billed quantity ([`QS`] decimals), lines, and a bit for each unit.
            let (mut cents, mut quantity, mut lines, mut units) = (0i64, 0i64, 0u64, 0u64);
            // The group and year, and the quantity so far.
            let (mut group, mut so_far) = (u32::MAX, 0i64);
            for (at, &r) in (lo as u64..).zip(recs.get(lo..hi).unwrap_or_default()) {
                let same = group_year(r) == group;
                group = group_year(r);
                so_far = pick(same, so_far, 0);
                let p = &two[(key(r) & ord_mask) as u8 as usize];
                let q = i64::from((r >> 40) as u32);
                // Wrapping operations only so that a client too long for this pass (set
                // aside below) cannot panic here: none wraps for the others.
                let end = so_far.wrapping_add(q);
                let below = end.min(p.upper).wrapping_sub(so_far.min(p.upper));
                let beyond = q.wrapping_sub(below);
                let unrounded = below
                    .wrapping_mul(p.low)
                    .wrapping_add(beyond.wrapping_mul(p.high));
                // Not negative (both parts and both prices are, the prices below
                // [`TWO_PRICE_LIMIT`], the parts below 2³²): divided as unsigned.
                let rounded = unrounded.wrapping_add(HALF) as u64 / CENT as u64;
                cents = cents.wrapping_add(rounded as i64);
                let billed = below.wrapping_add(beyond & p.beyond_billed);
                quantity = quantity.wrapping_add(billed);
                // A row wholly over its cap makes no line.
                let line = u64::from(billed > 0);
                lines += line;
                units |= line << p.unit;
                // Every row is written where the next rejection goes; kept only when one:
                // the excess (below 2³²), the row's index, and whether it is in part within
                // the cap (the top bit, set when `below` is above 0, without a branch).
                let partial = (below.wrapping_neg() as u64) & 1 << 63;
                if let Some(slot) = spare.get_mut(kept) {
                    *slot = beyond as u64 & u64::from(u32::MAX) | at << 32 | partial;
                }
                kept += usize::from(beyond > 0) & p.rejects;
                so_far = end.min(p.lim);
            }
            let client = (range << layout.place_bits) + place;
            let Some(acc) = client.checked_sub(first).and_then(|c| accs.get_mut(c)) else {
                out.slow.overflow = true;
                lo = hi;
                continue;
            };
            let unit = match units.count_ones() {
                0 => 0,
                1 => units.trailing_zeros() as u8,
                _ => MIXED,
            };
            let amount = cents.checked_mul(CENT);
            match (amount, u32::try_from(lines)) {
                (Some(amount), Ok(lines)) if hi - lo < TWO_ROWS && units & 1 == 0 => {
                    let sums = Acc::of_lines(amount, quantity, lines, unit);
                    merge_acc(acc, &sums, &mut out.slow.overflow);
                }
                _ => {
                    kept = before;
                    let recs = recs.get(lo..hi).unwrap_or_default();
                    self.value_decimal(client as u32, recs, acc, out);
                }
            }
            lo = hi;
        }
        // The rejections kept, made compact.
        for &packed in spare.get(..kept).unwrap_or_default() {
            let at = (packed >> 32) as usize & ((1 << 31) - 1);
            let Some(&r) = recs.get(at) else {
                continue;
            };
            let p = &two[(key(r) & ord_mask) as u8 as usize];
            let (row, scale) = ((r >> 8) as u32, r as u8);
            let partial = packed >> 63 == 1;
            // In part: the larger of the decimals of the row, the cap and the year so far
            // (the rows before it in its group: one row a group and year is in part).
            let scale = match partial {
                true => (recs.get(..at).unwrap_or_default().iter())
                    .rev()
                    .take_while(|&&b| group_year(b) == group_year(r))
                    .fold(scale.max(p.cap_scale as u8), |m, &b| m.max(b as u8)),
                false => scale,
            };
            out.overs.push(Over {
                row,
                plan: p.plan,
                excess: i64::from(packed as u32),
                element: p.element,
                scale,
                partial,
            });
        }
    }

    /// One client's records through the decimal path, added to its sums `acc`.
    fn value_decimal(&self, client: u32, recs: &[u128], acc: &mut Acc, out: &mut Out) {
        let layout = self.layout;
        let range = client as usize >> layout.place_bits;
        let rows = recs.iter().map(|&r| {
            let (_, element) = layout.whose(range, r);
            srow(self.simple, &self.unrank, client, element, r)
        });
        let mut one = Part::with_clients(1);
        self.shared
            .value_client(&mut one, self.ids, client, rows, false, &HashMap::new());
        merge_acc(acc, &one.acc[0], &mut out.slow.overflow);
        if let Some(x) = one.extra.remove(&0) {
            out.slow.extra.insert(client, x);
        }
        out.slow.rejections.append(&mut one.rejections);
        out.slow.overflow |= one.overflow;
    }

    /// One client's records (`recs`, from `lo` in the range's records; its groups end at
    /// `ends`), added to its sums `acc`: in scaled integers when every figure fits, else
    /// through the decimal path.
    fn value_client(
        &self,
        client: u32,
        recs: &mut [u128],
        lo: usize,
        ends: &[usize],
        acc: &mut Acc,
        out: &mut Out,
    ) {
        let before = out.overs.len();
        let mut sums = Acc::default();
        let mut fits = true;
        let mut start = 0usize;
        let ord_mask = ends.len() - 1;
        // Group by group (one element each), only those with records.
        while start < recs.len() {
            let ord = key(recs[start]) & ord_mask;
            let end = ends[ord].saturating_sub(lo).clamp(start + 1, recs.len());
            let group = &mut recs[start..end];
            if group.len() > 1 {
                sort_small(group);
            }
            let element = self.layout.elements.get(ord).copied().unwrap_or(u16::MAX);
            let unit = self.shared.unit_code(usize::from(element));
            let (sums, overs) = (&mut sums, &mut out.overs);
            fits = fits
                && match self.kinds.get(ord).copied().unwrap_or(Kind::General) {
                    Kind::General => self.value_group(element, group, sums, overs),
                    Kind::Cap {
                        plan,
                        price,
                        cap,
                        cap_scale,
                    } => value_capped(
                        group,
                        (plan, element, unit),
                        price,
                        (cap, cap_scale),
                        sums,
                        overs,
                    ),
                    Kind::Tiers { upper, low, high } => {
                        value_tiers(group, unit, upper, low, high, sums)
                    }
                }
                .is_some();
            start = end;
        }
        if fits {
            merge_acc(acc, &sums, &mut out.slow.overflow);
            return;
        }
        out.overs.truncate(before);
        self.value_decimal(client, recs, acc, out);
    }

    /// One group (a client's records of `element`, in order) in scaled integers into `sums`;
    /// `None` when a figure leaves the range.
    #[inline]
    fn value_group(
        &self,
        element: u16,
        group: &[u128],
        sums: &mut Acc,
        overs: &mut Vec<Over>,
    ) -> Option<()> {
        let unit = self.shared.unit_code(usize::from(element));
        let plans = &self.shared.plans.plans;
        let (mut year, mut so_far, mut so_far_scale) = (u32::MAX, 0i64, 0u32);
        for &r in group {
            let (date, rank, q, row, scale) = unpack(r);
            let provider = self.unrank.get(usize::from(rank)).copied().unwrap_or(0);
            let id = self.simple.stateful_plan(provider, element, date);
            let plan = plans.get(id as usize)?;
            if year_of(date) != year {
                (year, so_far, so_far_scale) = (year_of(date), 0, 0);
            }
            let mut billed = plan.billed(i64::from(q))?;
            let mut billed_scale = match plan.increment {
                Some((_, s)) => u32::from(s),
                None => u32::from(scale),
            };
            if let Some(cap) = plan.cap {
                let cap_scale = || self.cap_scale.get(id as usize).copied().flatten();
                let over = Over {
                    row,
                    plan: id,
                    excess: 0,
                    element,
                    scale: 0,
                    partial: false,
                };
                let at_cap = (cap, cap_scale, so_far, so_far_scale);
                match within_cap(at_cap, billed, billed_scale, over, overs)? {
                    Some(within) => (billed, billed_scale) = within,
                    None => continue,
                }
            }
            let unrounded = plan.unrounded(so_far, billed)?;
            let amount = round_scaled(unrounded, plan.mode, plan.decimals)?;
            so_far = so_far.checked_add(billed)?;
            so_far_scale = so_far_scale.max(billed_scale);
            sums.add_line(amount, billed, unit)?;
        }
        Some(())
    }
}

/// Of `billed` (written with `billed_scale` decimals), the part within a yearly cap (`cap`,
/// written with `cap_scale()` decimals, of which `so_far` is used, written with
/// `so_far_scale` decimals) and its decimals, as [`crate::valuation::split_at_cap`] splits
/// it; `None` inside when nothing is (the row is wholly over). Any excess is pushed onto
/// `overs` as `over` with its figures. `None` when a figure leaves the range.
#[inline(always)]
fn within_cap(
    (cap, cap_scale, so_far, so_far_scale): (i64, impl Fn() -> Option<u32>, i64, u32),
    billed: i64,
    billed_scale: u32,
    mut over: Over,
    overs: &mut Vec<Over>,
) -> Option<Option<(i64, u32)>> {
    let room = cap.checked_sub(so_far)?;
    if room > 0 && billed <= room {
        return Some(Some((billed, billed_scale)));
    }
    let cap_scale = cap_scale()?;
    if room <= 0 {
        (over.excess, over.scale) = (billed, billed_scale as u8);
        overs.push(over);
        return Some(None);
    }
    // A difference of decimals has the larger of their scales.
    let room_scale = cap_scale.max(so_far_scale);
    over.excess = billed.checked_sub(room)?;
    over.scale = billed_scale.max(room_scale) as u8;
    over.partial = true;
    overs.push(over);
    Some(Some((room, room_scale)))
}

/// [`Pass2::value_group`] for a group of [`Kind::Cap`]: plan `plan` of `element`, whose lines
/// are in unit `unit`; the cap with [`QS`] decimals and the decimals it is written with.
#[inline(always)]
fn value_capped(
    group: &[u128],
    (plan, element, unit): (u32, u16, u8),
    price: i64,
    (cap, cap_scale): (i64, u32),
    sums: &mut Acc,
    overs: &mut Vec<Over>,
) -> Option<()> {
    let (mut year, mut so_far, mut so_far_scale) = (u32::MAX, 0i64, 0u32);
    for &r in group {
        let (date, _, q, row, scale) = unpack(r);
        if year_of(date) != year {
            (year, so_far, so_far_scale) = (year_of(date), 0, 0);
        }
        let over = Over {
            row,
            plan,
            excess: 0,
            element,
            scale: 0,
            partial: false,
        };
        let at_cap = (cap, || Some(cap_scale), so_far, so_far_scale);
        let Some((billed, billed_scale)) =
            within_cap(at_cap, i64::from(q), u32::from(scale), over, overs)?
        else {
            continue;
        };
        let amount = round_cents(billed.checked_mul(price)?)?;
        so_far = so_far.checked_add(billed)?;
        so_far_scale = so_far_scale.max(billed_scale);
        sums.add_line(amount, billed, unit)?;
    }
    Some(())
}

/// [`Pass2::value_group`] for a group of [`Kind::Tiers`], whose lines are in unit `unit`.
#[inline(always)]
fn value_tiers(
    group: &[u128],
    unit: u8,
    upper: i64,
    low: i64,
    high: i64,
    sums: &mut Acc,
) -> Option<()> {
    let (mut year, mut so_far) = (u32::MAX, 0i64);
    for &r in group {
        let (date, _, q, _, _) = unpack(r);
        if year_of(date) != year {
            (year, so_far) = (year_of(date), 0);
        }
        let billed = i64::from(q);
        let end = so_far.checked_add(billed)?;
        // The part below the bound at the low price, the part beyond it at the high one.
        let below = end.min(upper) - so_far.min(upper);
        let beyond = end.max(upper) - so_far.max(upper);
        let unrounded = below
            .checked_mul(low)?
            .checked_add(beyond.checked_mul(high)?)?;
        sums.add_line(round_cents(unrounded)?, billed, unit)?;
        so_far = end;
    }
    Some(())
}

/// Puts each group of a range's records (`v`, grouped by key; group `k` ends at `ends[k]`)
/// in order: the groups longer than [`SMALL_GROUP`], if any (`long`), by the standard sort,
/// then all by one pass of insertion, which a group's smaller key stops at its start.
///
/// Whether a record goes before the one ahead of it is a coin toss to the processor, so
/// each record and the one ahead are put in order without a branch; only a record that
/// goes back further (rare: groups are short) takes the loop.
fn sort_groups(v: &mut [u128], ends: &[usize], long: bool) {
    if long {
        let mut start = 0usize;
        for &end in ends {
            if end.saturating_sub(start) > SMALL_GROUP {
                if let Some(group) = v.get_mut(start..end) {
                    group.sort_unstable();
                }
            }
            start = end;
        }
    }
    // `v[..i]` is in order: the groups are, and their keys rise. `ahead` is `v[i - 1]`,
    // kept in registers rather than read back from the store just made.
    let Some(&(mut ahead)) = v.first() else {
        return;
    };
    for i in 1..v.len() {
        let x = v[i];
        v[i - 1] = ahead.min(x);
        ahead = ahead.max(x);
        v[i] = ahead;
        // Further back only if the record two ahead is larger too (never when `x` stayed:
        // that record is at most the old `ahead`); for `i` = 1 it is the record just put
        // first, at most `x`.
        if v[i.saturating_sub(2)] > x {
            let mut j = i - 1;
            while j > 0 && v[j - 1] > x {
                v[j] = v[j - 1];
                j -= 1;
            }
            v[j] = x;
        }
    }
}

/// Sorts a group's records: by insertion when few (the usual case), else by the standard
/// sort.
#[inline]
fn sort_small(v: &mut [u128]) {
    if v.len() > 48 {
        v.sort_unstable();
        return;
    }
    for i in 1..v.len() {
        let x = v[i];
        let mut j = i;
        while j > 0 && v[j - 1] > x {
            v[j] = v[j - 1];
            j -= 1;
        }
        v[j] = x;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_sorts_agree_with_the_standard_sort() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in [0, 1, 2, 7, 48, 49, 200] {
            let mut v: Vec<u128> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    u128::from(x % 17) << 100 | u128::from(x)
                })
                .collect();
            let mut want = v.clone();
            want.sort();
            sort_small(&mut v);
            assert_eq!(v, want, "{len}");
        }
    }

    #[test]
    fn a_groups_order_is_date_rank_quantity_row() {
        // The general path orders a client's stateful rows of an element by date, provider,
        // quantity, then row; the decimals written never decide.
        let layout = Layout::new(&[false, true, false, true]);
        let rec = |date, rank, q, row, scale| {
            layout
                .pack(6, 3, date, rank, q, row, scale)
                .map(|(_, r)| r)
                .unwrap()
        };
        let a = rec(5, 9, 100, 7, 4);
        assert!(rec(4, 99, 999, 9, 0) < a);
        assert!(rec(5, 8, 999, 9, 0) < a);
        assert!(rec(5, 9, 99, 9, 0) < a);
        assert!(rec(5, 9, 100, 6, 28) < a);
        assert_eq!(unpack(a), (5, 9, 100, 7, 4));
        // Client 6 is the first of range 3 (two clients a range in tests); element 3 is the
        // second stateful one.
        assert_eq!(layout.pack(6, 3, 5, 9, 100, 7, 4).map(|(g, _)| g), Some(3));
        assert_eq!(layout.whose(3, a), (6, 3));
        assert_eq!(
            layout.whose(3, layout.pack(7, 1, 5, 9, 1, 7, 4).unwrap().1),
            (7, 1)
        );
        // Elements that are never stateful, and dates beyond 24 bits, are not packed.
        assert_eq!(layout.pack(6, 2, 5, 9, 100, 7, 4), None);
        assert_eq!(layout.pack(6, 9, 5, 9, 100, 7, 4), None);
        assert_eq!(layout.pack(6, 3, 1 << 24, 9, 100, 7, 4), None);
        let max = layout
            .pack(u32::MAX, 3, 0xff_ffff, u16::MAX, u32::MAX, u32::MAX, 28)
            .unwrap();
        assert_eq!(unpack(max.1), (0xff_ffff, u16::MAX, u32::MAX, u32::MAX, 28));
        assert_eq!(layout.whose(max.0, max.1), (u32::MAX, 3));
    }
}
