//! The two passes of the fast path.
//!
//! Pass 1 (split by rows across threads) values every row whose price does not depend on the
//! client's year so far, into per-client partial sums, and sets the stateful rows (tiers,
//! caps) aside as compact records. Pass 2 (split by client across threads) sorts each
//! client's stateful rows in the general path's fixed order and values them with the
//! client's cumulative counts. Partial sums merge by addition.
//!
//! Every figure is a scaled integer with checked arithmetic; a row or a client whose figures
//! do not fit goes through the decimal helpers of [`crate::valuation`] instead.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;

use super::plan::{
    from_scaled, pack_date, round_scaled, to_scaled, unpack_date, year_of, Plan, Plans, Resolver,
    Rule, AS, NO_PLAN, QS,
};
use super::{ByClient, Ids};
use crate::catalog::{ElementIdx, Unit};
use crate::error::{Error, Result};
use crate::money::{Money, Quantity};
use crate::rollup::Totals;
use crate::valuation::{price_line, split_at_cap, Context, RejectReason, Rejection};

/// A quantity that is not held as a scaled integer: see the row's [`Side`] entry.
pub(crate) const SIDE: i64 = i64::MIN;
/// The unit code of a client whose lines have different units.
pub(crate) const MIXED: u8 = u8::MAX;

/// What a row holds beyond its columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Side {
    /// A quantity that does not fit the scaled integers, exact.
    Wide(Quantity),
    /// The row states a unit other than the catalog's.
    Unit(Unit),
}

/// Per-client partial sums (32 bytes aligned: a row touches one cache line).
#[derive(Debug, Clone, Copy, Default)]
#[repr(align(32))]
pub(crate) struct Acc {
    /// Sum of rounded amounts, [`AS`] decimals.
    amount: i64,
    /// Sum of the rounded amounts of the simplest lines (see [`Simple`]), in cents.
    cents: i64,
    /// Sum of billed quantities, [`QS`] decimals.
    quantity: i64,
    lines: u32,
    /// 0: no line yet; `1 + k`: every line in unit `k` of [`Shared::units`]; [`MIXED`].
    unit: u8,
}

impl Acc {
    /// Adds a line; `None` when a sum leaves the range (the sums are then unusable).
    #[inline(always)]
    pub(crate) fn add_line(&mut self, amount: i64, billed: i64, unit: u8) -> Option<()> {
        self.amount = self.amount.checked_add(amount)?;
        self.quantity = self.quantity.checked_add(billed)?;
        self.lines = self.lines.checked_add(1)?;
        self.unit = Self::unit_with(self.unit, unit);
        Some(())
    }

    /// The unit code of sums in unit code `unit` after a line in unit `line`.
    #[inline(always)]
    pub(crate) fn unit_with(unit: u8, line: u8) -> u8 {
        if unit == 0 || unit == line {
            line
        } else {
            MIXED
        }
    }

    /// The sums of `lines` lines whose rounded amounts ([`AS`] decimals) add up to `amount`
    /// and billed quantities ([`QS`] decimals) to `quantity`, with unit code `unit` (see
    /// [`Acc::unit_with`]).
    #[inline(always)]
    pub(crate) fn of_lines(amount: i64, quantity: i64, lines: u32, unit: u8) -> Self {
        Self {
            amount,
            cents: 0,
            quantity,
            lines,
            unit,
        }
    }

    /// Takes back a row over a cap that was added as a line of its whole quantity: its
    /// `excess` (with [`QS`] decimals) from the quantity, and the line when the row was
    /// `whole`ly over the cap (it makes none). Sums that had both cannot wrap; sums whose
    /// adding overflowed end the run in an error anyway.
    #[inline]
    pub(crate) fn take_back(&mut self, excess: i64, whole: bool) {
        self.quantity = self.quantity.wrapping_sub(excess);
        self.lines = self.lines.wrapping_sub(u32::from(whole));
    }
}

/// One cent with [`AS`] decimals.
const CENT: i128 = 1_000_000;

/// The simplest rows' pricing, for the tightest loop: per provider and date, the first slot
/// of that day's prices; per slot, a flat price that rounds half-up to cents with any
/// minimum increment below 6.5536 units, and the largest quantity for which a line stays small enough (quantity below
/// 2²⁴ with four decimals, amount below 2³² cents) to be summed in [`Part::simple`] words.
pub(crate) struct Simple {
    dmin: u32,
    providers: usize,
    /// `base[(date − dmin) × providers + provider]`: the slot of element 0.
    base: Vec<u32>,
    /// By slot (element within a block).
    slots: Vec<SimpleSlot>,
    /// By slot: the plan of a row priced by tiers or a cap in scaled integers, else
    /// [`NO_PLAN`].
    stateful: Vec<u32>,
    /// Slots per block (the interned elements).
    elements: usize,
    /// The one block, when every provider and date has the same.
    uniform: Option<u32>,
}

/// A slot of [`Simple`]: 16 bytes, one load. The default is not simple.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SimpleSlot {
    /// The price with [`QS`] decimals.
    pub(crate) price: i64,
    /// The largest simple quantity with [`QS`] decimals; 0: not simple.
    pub(crate) qmax: u32,
    /// The unit's bit in a sum word: `1 << unit_shift`.
    pub(crate) unit_shift: u16,
    /// The minimum increment with [`QS`] decimals (0 or 1: none).
    pub(crate) inc: u16,
}

impl SimpleSlot {
    /// The cents of a simple line of billed quantity `billed`, rounded half-up. A simple
    /// line's price and quantity are positive and their product below 2⁶³ (see [`Simple`]):
    /// unsigned arithmetic, a little shorter than signed.
    #[inline(always)]
    pub(crate) fn cents(&self, billed: i64) -> u64 {
        cents_of(billed as u64, self.price as u64)
    }

    /// The billed quantity of a quantity below `qmax`: rounded up to the increment.
    #[inline(always)]
    pub(crate) fn billed(&self, q: i64) -> i64 {
        if self.inc > 1 {
            let (q, inc) = (q as u32, u32::from(self.inc));
            i64::from(q.div_ceil(inc) * inc)
        } else {
            q
        }
    }
}

/// The cents of a simple line of billed quantity `billed` at price `price` (both with
/// [`QS`] decimals, their product below 2⁶³), rounded half-up.
#[inline(always)]
fn cents_of(billed: u64, price: u64) -> u64 {
    (billed * price + 500_000) / 1_000_000
}

/// A simple element's figures for [`Part::add_chosen`], one entry of 32 bytes: one load, and
/// an entry's place is its element's shifted (two tables, a [`SimpleSlot`] and the
/// increment's, took about 2 ms more of a run of 0.118 s, one thread).
#[derive(Debug, Clone, Copy)]
#[repr(align(32))]
pub(crate) struct ChosenSlot {
    /// The price with [`QS`] decimals.
    price: u64,
    /// The increment's multiplier, for the division by it.
    magic: u64,
    /// The unit's bit in a sum word.
    unit_bit: u64,
    /// The minimum increment with [`QS`] decimals, at least 1.
    inc: u32,
}

impl ChosenSlot {
    /// The entry of simple slot `slot`.
    pub(crate) fn new(slot: &SimpleSlot) -> Self {
        let inc = u32::from(slot.inc.max(1));
        Self {
            price: slot.price as u64,
            magic: super::magic(inc),
            unit_bit: 1 << slot.unit_shift,
            inc,
        }
    }
}

/// How many rows ahead the simple rows' loop asks for a client's sums.
const AHEAD: usize = 32;

const NOT_SIMPLE: SimpleSlot = SimpleSlot {
    price: 0,
    qmax: 0,
    unit_shift: 0,
    inc: 0,
};

/// Bits of a simple sum word below its unit bits (the cents), and of a count word below its
/// quantity (the lines).
const CENTS_BITS: u32 = 48;
const LINE_BITS: u32 = if cfg!(test) { 3 } else { 16 };

impl Simple {
    /// The table for `providers` (numbered as in `resolver`) over the packed dates
    /// `dmin..=dmax`, with `elements` interned elements; `None` when the dates span too
    /// much for a table.
    pub(crate) fn new(
        shared: &Shared<'_>,
        resolver: &Resolver,
        providers: usize,
        elements: usize,
        (dmin, dmax): (u32, u32),
    ) -> Option<Self> {
        let span = usize::try_from(dmax.checked_sub(dmin)?).ok()? + 1;
        if span.checked_mul(providers)? > 1 << 20 || providers.checked_mul(elements)? > 1 << 20 {
            return None;
        }
        let catalog = shared.elements();
        // Units 1 to 16 have a bit; elements in other units are never simple.
        let unit_shifts: Vec<Option<u32>> = (0..elements)
            .map(|e| match shared.unit_code(e) {
                k @ 1..=16 => Some(CENTS_BITS + u32::from(k) - 1),
                _ => None,
            })
            .collect();
        // One block of slots per (provider, stretch), in the resolver's order.
        let mut slots: Vec<SimpleSlot> = Vec::new();
        let mut stateful: Vec<u32> = Vec::new();
        let mut block_of: Vec<Option<u32>> = Vec::new();
        let mut base = Vec::with_capacity(span * providers);
        for d in 0..span {
            let date = dmin + d as u32;
            for p in 0..providers {
                let key = resolver.block(p, date);
                if block_of.len() <= key {
                    block_of.resize(key + 1, None);
                }
                let b = match block_of[key] {
                    Some(b) => b,
                    None => {
                        let b = u32::try_from(slots.len()).ok()?;
                        for (e, &shift) in unit_shifts.iter().enumerate() {
                            // Elements the catalog lacks are never simple.
                            let h = resolver.hot(p, e, date);
                            let inc = u16::try_from(h.increment).ok();
                            let simple = e < catalog
                                && shift.is_some()
                                && h.price > 0
                                && inc.is_some()
                                && h.decimals == 2
                                && h.mode == crate::money::Rounding::HalfUp;
                            slots.push(match (shift, inc) {
                                (Some(unit_shift), Some(inc)) if simple => {
                                    // The billed quantity (at most q + inc − 1) stays within
                                    // both limits.
                                    let limit = ((1i64 << 32) * 1_000_000 - 500_001) / h.price;
                                    let qmax = limit.min((1 << 24) - 1) - i64::from(inc);
                                    SimpleSlot {
                                        price: h.price,
                                        qmax: qmax.max(0) as u32,
                                        unit_shift: unit_shift as u16,
                                        inc,
                                    }
                                }
                                _ => NOT_SIMPLE,
                            });
                            stateful.push({
                                let id = resolver.plan(p, e, date);
                                let fast = e < catalog.min(256)
                                    && shared
                                        .plans
                                        .plans
                                        .get(id as usize)
                                        .is_some_and(|plan| plan.stateful && plan.integer);
                                if fast {
                                    id
                                } else {
                                    NO_PLAN
                                }
                            });
                        }
                        block_of[key] = Some(b);
                        b
                    }
                };
                base.push(b);
            }
        }
        // One block for all when every block's slots are the same.
        let block = |b: u32| {
            let b = b as usize;
            (slots.get(b..b + elements), stateful.get(b..b + elements))
        };
        let uniform = base
            .first()
            .copied()
            .filter(|&b| base.iter().all(|&x| x == b || block(x) == block(b)));
        Some(Self {
            dmin,
            providers,
            base,
            slots,
            stateful,
            elements,
            uniform,
        })
    }

    /// By element, the plan of its rows priced by tiers or a cap (else [`NO_PLAN`]) when one
    /// block serves every provider and date.
    pub(crate) fn uniform_stateful(&self) -> Option<&[u32]> {
        let first = self.uniform? as usize;
        self.stateful.get(first..first + self.elements)
    }

    /// The slots of every row (by element) when one block serves every provider and date.
    #[inline]
    pub(crate) fn uniform(&self) -> Option<&[SimpleSlot]> {
        let first = self.uniform? as usize;
        self.slots.get(first..first + self.elements)
    }

    /// The index of a row's slot in `slots` and `stateful` (out of range when the date or
    /// provider is outside the table).
    #[inline(always)]
    fn index(&self, provider: u16, element: u16, date: u32) -> usize {
        let day = date.wrapping_sub(self.dmin) as usize;
        self.base
            .get(day * self.providers + usize::from(provider))
            .map_or(usize::MAX, |&b| b as usize + usize::from(element))
    }

    /// By element: whether some provider and date price it by tiers or a cap in scaled
    /// integers.
    pub(crate) fn stateful_elements(&self) -> Vec<bool> {
        let mut out = vec![false; self.elements];
        if self.elements > 0 {
            for (i, &plan) in self.stateful.iter().enumerate() {
                if plan != NO_PLAN {
                    out[i % self.elements] = true;
                }
            }
        }
        out
    }

    /// The plan of a row priced by tiers or a cap in scaled integers, [`NO_PLAN`] for others.
    #[inline(always)]
    pub(crate) fn stateful_plan(&self, provider: u16, element: u16, date: u32) -> u32 {
        let i = self.index(provider, element, date);
        self.stateful.get(i).copied().unwrap_or(NO_PLAN)
    }

    /// The slot of a row (`qmax` 0 when it is not simple).
    #[inline(always)]
    pub(crate) fn slot(&self, provider: u16, element: u16, date: u32) -> SimpleSlot {
        let i = self.index(provider, element, date);
        self.slots.get(i).copied().unwrap_or(NOT_SIMPLE)
    }
}

impl Part {
    /// Room for simple lines of `n` clients, and lists for stateful rows of `ranges` ranges
    /// of clients. The checked sums of the `n` clients are made on first use: a share of the
    /// rows with only simple lines never needs them (see [`Part::fold_simple`]).
    pub(crate) fn with_simple(n: usize, fast: super::stateful::Lists) -> Self {
        Self {
            simple: vec![[0; 2]; n],
            fast,
            clients: n,
            ..Self::default()
        }
    }

    /// Adds a simple line (see [`Simple`]): the cents and the unit bit to the client's first
    /// word, the quantity and one line to its second. Each line's figures are small enough
    /// that nothing carries between the parts of a word while a client has fewer than 2¹⁶
    /// lines (8 in tests); [`Part::fold_simple`] checks that.
    #[inline(always)]
    pub(crate) fn add_simple(&mut self, client: u32, cents: i64, q: i64, unit_bit: u64) {
        match self.simple.get_mut(client as usize) {
            Some(w) => {
                add_to_words(w, cents as u64, q, unit_bit);
                self.simple_lines += 1;
            }
            None => self.overflow = true,
        }
    }

    /// The rows of columns `(client, element, quantity)`, the first being row `start`, priced
    /// by one price block (by element): each simple one added as [`Part::add_simple_or_list`]
    /// adds it, the others listed in `others`. `INC`: whether some element of the block has
    /// a minimum increment.
    ///
    /// A function of its own, so that the loop's figures all stay in registers, and nothing
    /// counted in the loop: its lines are the rows it did not list (10 M rows, flat prices:
    /// about an eighth less time than the loop inlined with a count).
    #[inline(never)]
    pub(crate) fn add_block<const INC: bool>(
        &mut self,
        block: &[SimpleSlot],
        (clients, element, quantity): (&[u32], &[u16], &[u32]),
        start: usize,
        others: &mut Vec<u32>,
    ) {
        let words = &mut self.simple;
        let listed = others.len();
        let rows = clients.iter().zip(element).zip(quantity);
        for (k, ((&client, &element), &q)) in rows.enumerate() {
            // Beyond every simple quantity where the row's quantity is aside: never simple.
            let q = i64::from(q);
            // The sums of a client some rows ahead are asked for now: waiting for each in
            // turn, the loop took about a fifth longer (10 M rows over 200,000 clients).
            if let Some(w) = clients.get(k + AHEAD).and_then(|&c| words.get(c as usize)) {
                mem_prefetch::prefetch_write_data::<_, 3>(w);
            }
            let slot = block
                .get(usize::from(element))
                .copied()
                .unwrap_or(NOT_SIMPLE);
            let simple = (q.wrapping_sub(1) as u64) < u64::from(slot.qmax);
            match words.get_mut(client as usize) {
                Some(w) if simple => {
                    let billed = if INC { slot.billed(q) } else { q };
                    add_to_words(w, slot.cents(billed), billed, 1 << slot.unit_shift);
                }
                _ => others.push((start + k) as u32),
            }
        }
        let rows = clients.len().min(element.len()).min(quantity.len());
        self.simple_lines += (rows - (others.len() - listed)) as u64;
    }

    /// Rows `rows` of columns `(client, element, quantity)`, each simple in the entry of its
    /// element in `table`, added as [`Part::add_simple`] adds them, each quantity rounded up
    /// to its element's increment by [`super::up_to`]. A function of its own, as
    /// [`Part::add_block`].
    #[inline(never)]
    pub(crate) fn add_chosen(
        &mut self,
        table: &[ChosenSlot],
        (client, element, quantity): (&[u32], &[u16], &[u32]),
        rows: &[u32],
    ) {
        let words = &mut self.simple;
        let mut missed = 0usize;
        for (j, &i) in rows.iter().enumerate() {
            // As in `add_block`.
            let ahead = rows.get(j + AHEAD).and_then(|&a| client.get(a as usize));
            if let Some(w) = ahead.and_then(|&c| words.get(c as usize)) {
                mem_prefetch::prefetch_write_data::<_, 3>(w);
            }
            let i = i as usize;
            let (Some(&c), Some(&e), Some(&q)) = (client.get(i), element.get(i), quantity.get(i))
            else {
                missed += 1;
                continue;
            };
            let Some(s) = table.get(usize::from(e)) else {
                missed += 1;
                continue;
            };
            match words.get_mut(c as usize) {
                Some(w) => {
                    let billed = super::up_to(q, s.inc, s.magic);
                    let cents = cents_of(u64::from(billed), s.price);
                    add_to_words(w, cents, i64::from(billed), s.unit_bit);
                }
                None => missed += 1,
            }
        }
        self.overflow |= missed > 0;
        self.simple_lines += (rows.len() - missed) as u64;
    }

    /// Adds row `row` of quantity `q` as a simple line when `slot` takes it (0 < q <= qmax,
    /// in one comparison); else lists it in `others`, for the checked paths.
    #[inline(always)]
    pub(crate) fn add_simple_or_list(
        &mut self,
        slot: &SimpleSlot,
        client: u32,
        q: i64,
        row: usize,
        others: &mut Vec<u32>,
    ) {
        if (q.wrapping_sub(1) as u64) < u64::from(slot.qmax) {
            let billed = slot.billed(q);
            let cents = slot.cents(billed) as i64;
            self.add_simple(client, cents, billed, 1 << slot.unit_shift);
        } else {
            others.push(row as u32);
        }
    }

    /// Moves the simple sums, these and those of `others` (over the same client numbering),
    /// into the checked ones, the clients split into `threads` pieces moved at once; false
    /// when some client had so many simple lines that its words may have carried (the caller
    /// then values again with checks). See [`simple_acc`] for how the words add.
    pub(crate) fn fold_simple(
        &mut self,
        others: &mut [Part],
        units: usize,
        threads: usize,
    ) -> bool {
        let mut all = vec![std::mem::take(&mut self.simple)];
        for p in others {
            self.simple_lines += std::mem::take(&mut p.simple_lines);
            all.push(std::mem::take(&mut p.simple));
        }
        let clients = all.iter().map(Vec::len).max().unwrap_or(0);
        if self.acc.len() < clients {
            self.acc.resize(clients, Acc::default());
        }
        let pieces = super::in_pieces(&mut self.acc, threads, |lo, accs| {
            let (mut counted, mut overflow) = (0u64, false);
            for (c, a) in (lo..).zip(accs.iter_mut()) {
                let theirs = simple_acc(&all, c, units);
                counted += u64::from(theirs.lines);
                merge_acc(a, &theirs, &mut overflow);
            }
            (counted, overflow)
        });
        let mut counted = 0u64;
        for (c, o) in pieces {
            counted += c;
            self.overflow |= o;
        }
        counted == self.simple_lines
    }
}

/// The sums of client `c`'s simple lines in the words of every part (`all`), for a catalog
/// of `units` units; its lines are 0 when it has none. A client's words from several parts
/// add as its lines would have: the cents with a carry that only more than 2¹⁶ lines can
/// cause (which the count of lines then shows, see [`Part::fold_simple`]), the unit bits by
/// union.
#[inline(always)]
fn simple_acc(all: &[Vec<[u64; 2]>], c: usize, units: usize) -> Acc {
    const CENTS: u64 = (1 << CENTS_BITS) - 1;
    let mut w = [0u64; 2];
    for words in all {
        if let Some(b) = words.get(c) {
            w[0] = w[0].wrapping_add(b[0] & CENTS) | (b[0] & !CENTS);
            w[1] = w[1].wrapping_add(b[1]);
        }
    }
    let lines = (w[1] & ((1 << LINE_BITS) - 1)) as u32;
    if lines == 0 {
        return Acc::default();
    }
    let bits = w[0] >> CENTS_BITS;
    let unit = if bits.count_ones() == 1 {
        bits.trailing_zeros() as u8 + 1
    } else {
        MIXED
    };
    Acc {
        amount: 0,
        cents: (w[0] & CENTS) as i64,
        quantity: (w[1] >> LINE_BITS) as i64,
        lines,
        unit: if usize::from(unit) <= units || unit == MIXED {
            unit
        } else {
            MIXED
        },
    }
}

/// Adds a simple line to a client's two words (see [`Part::add_simple`]): the cents and the
/// unit bit to the first, the billed quantity and one line to the second.
#[inline(always)]
fn add_to_words(w: &mut [u64; 2], cents: u64, billed: i64, unit_bit: u64) {
    w[0] = w[0].wrapping_add(cents) | unit_bit;
    w[1] = w[1].wrapping_add(((billed as u64) << LINE_BITS) | 1);
}

/// A stateful row set aside for pass 2.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SRow {
    /// element << 40 | packed date << 16 | provider rank: the general path's order.
    pub(crate) key: u64,
    /// The quantity with [`QS`] decimals, or [`SIDE`].
    pub(crate) q: i64,
    /// The input row, from 0.
    pub(crate) row: u32,
    pub(crate) client: u32,
    pub(crate) plan: u32,
    /// The decimals the quantity was written with.
    pub(crate) scale: u8,
}

impl SRow {
    /// The order key of a row: element, packed date, provider rank.
    #[inline(always)]
    pub(crate) fn key_of(element: u16, date: u32, rank: u16) -> u64 {
        (u64::from(element) << 40) | (u64::from(date) << 16) | u64::from(rank)
    }
    fn element(&self) -> usize {
        (self.key >> 40) as usize
    }
    fn date(&self) -> u32 {
        ((self.key >> 16) & 0xff_ffff) as u32
    }
    pub(crate) fn set_provider_rank(&mut self, rank: u16) {
        self.key = (self.key & !0xffff) | u64::from(rank);
    }
    pub(crate) fn provider(&self) -> u16 {
        (self.key & 0xffff) as u16
    }
}

/// What every thread shares: the context, the plans and the units.
pub(crate) struct Shared<'a> {
    pub(crate) cx: Context<'a>,
    pub(crate) plans: Plans,
    /// Per catalog element, its unit code (1-based index into `units`).
    unit_code: Vec<u8>,
    units: Vec<Unit>,
}

impl<'a> Shared<'a> {
    pub(crate) fn new(cx: Context<'a>) -> Self {
        let plans = Plans::new(cx.book, cx.catalog);
        let mut units: Vec<Unit> = Vec::new();
        let mut unit_code = Vec::with_capacity(cx.catalog.len());
        for e in cx.catalog.iter() {
            let k = match units.iter().position(|u| *u == e.unit()) {
                Some(k) => k,
                None => {
                    units.push(e.unit());
                    units.len() - 1
                }
            };
            unit_code.push((k + 1).min(usize::from(MIXED) - 1) as u8);
        }
        Self {
            cx,
            plans,
            unit_code,
            units,
        }
    }

    pub(crate) fn resolver(&self) -> Resolver {
        Resolver::new(self.cx.book, self.cx.catalog)
    }

    pub(crate) fn elements(&self) -> usize {
        self.unit_code.len()
    }

    /// The number of distinct units of the catalog.
    pub(crate) fn units(&self) -> usize {
        self.units.len()
    }

    /// The unit code of a catalog element (0 for others).
    #[inline(always)]
    pub(crate) fn unit_code(&self, element: usize) -> u8 {
        self.unit_code.get(element).copied().unwrap_or(0)
    }

    fn unit_of(&self, element: usize) -> Unit {
        self.cx
            .catalog
            .element(ElementIdx(element as u32))
            .map_or(Unit::Eur, |e| e.unit())
    }
}

/// A flat row's line, to add to its client's sums. Pass 1 collects these for a block of rows
/// and adds them in a tight loop of its own, so that the memory accesses to many clients'
/// sums are in flight at once.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Add {
    client: u32,
    unit: u8,
    amount: i64,
    billed: i64,
}

/// Rows per block of [`Add`]s.
pub(crate) const BLOCK: usize = 1 << 14;

/// One row as pass 1 sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowIn<'s> {
    /// The input row, from 0.
    pub(crate) row: u32,
    pub(crate) client: u32,
    /// The provider as numbered in the resolver.
    pub(crate) provider: u16,
    /// The provider's rank among all providers by id (may be fixed up after pass 1).
    pub(crate) rank: u16,
    pub(crate) element: u16,
    pub(crate) date: u32,
    pub(crate) q: i64,
    pub(crate) scale: u8,
    pub(crate) side: Option<&'s Side>,
}

/// The partial result of a share of the rows (pass 1) or of the clients (pass 2).
#[derive(Debug, Default)]
pub(crate) struct Part {
    pub(crate) acc: Vec<Acc>,
    /// Amounts and quantities that do not fit the scaled integers, by client.
    pub(crate) extra: BTreeMap<u32, (Decimal, Decimal)>,
    /// Pass 1's lines beyond the scaled integers, as (row, client, amount, billed quantity),
    /// added to `extra` in row order by [`Part::settle_extra`]: a decimal sum of more than 28
    /// digits rounds, so its order must not depend on which thread took which rows.
    pub(crate) extra_rows: Vec<(u32, u32, Decimal, Decimal)>,
    pub(crate) stateful: Vec<SRow>,
    /// Wide quantities of stateful rows, by row.
    pub(crate) wide: HashMap<u32, Quantity>,
    pub(crate) rejections: Vec<Rejection>,
    /// Rejections over a cap from [`super::stateful`], kept compact.
    pub(crate) overs: super::stateful::Overs,
    pub(crate) overflow: bool,
    /// Room for [`Part::add_all`].
    scratch: Vec<Add>,
    /// The sums of the simple lines by client (see [`Part::add_simple`]).
    pub(crate) simple: Vec<[u64; 2]>,
    /// The simple lines added.
    simple_lines: u64,
    /// Some client had so many simple lines that its sums may have carried.
    pub(crate) simple_wrapped: bool,
    /// Rows priced by tiers or caps in scaled integers (see [`Simple::stateful_plan`]), set
    /// aside for [`super::stateful`] as packed records, by range of clients.
    pub(crate) fast: super::stateful::Lists,
    /// The clients `acc` is for, when it is made on first use (see [`Part::with_simple`]).
    clients: usize,
}

impl Part {
    pub(crate) fn with_clients(n: usize) -> Self {
        Self {
            acc: vec![Acc::default(); n],
            clients: n,
            ..Self::default()
        }
    }

    #[inline(always)]
    fn add(&mut self, client: u32, amount: i64, billed: i64, unit: u8) {
        let Some(a) = self.acc.get_mut(client as usize) else {
            self.add_first(client, amount, billed, unit);
            return;
        };
        match (
            a.amount.checked_add(amount),
            a.quantity.checked_add(billed),
            a.lines.checked_add(1),
        ) {
            (Some(x), Some(y), Some(l)) => {
                a.amount = x;
                a.quantity = y;
                a.lines = l;
            }
            _ => self.overflow = true,
        }
        a.unit = if a.unit == 0 || a.unit == unit {
            unit
        } else {
            MIXED
        };
    }

    /// [`Part::add`] when the client has no sums: the first line of a part whose sums are
    /// made on first use makes them; any other client is out of range.
    #[cold]
    #[inline(never)]
    fn add_first(&mut self, client: u32, amount: i64, billed: i64, unit: u8) {
        if self.acc.len() < self.clients && (client as usize) < self.clients {
            self.acc.resize(self.clients, Acc::default());
            self.add(client, amount, billed, unit);
        } else {
            self.overflow = true;
        }
    }

    /// Adds one line.
    #[inline(always)]
    pub(crate) fn add_one(&mut self, a: &Add) {
        self.add(a.client, a.amount, a.billed, a.unit);
    }

    /// Asks for the sums of `clients` ahead (prefetch hints, see [`super::IdMap::prefetch`]),
    /// so that adding to them soon after finds them in the caches.
    #[inline]
    pub(crate) fn prefetch(&self, clients: impl Iterator<Item = u32>) {
        for c in clients {
            if let Some(a) = self.acc.get(c as usize) {
                mem_prefetch::prefetch_write_data::<_, 3>(a);
            }
        }
    }

    /// Adds lines in a tight loop of their own.
    #[inline(always)]
    pub(crate) fn add_plain(&mut self, adds: &[Add]) {
        for a in adds {
            self.add(a.client, a.amount, a.billed, a.unit);
        }
    }

    /// Adds a block of lines, grouped first by range of clients (a counting sort on the high
    /// bits of the client number): the sums of each range fit the caches and the page tables'
    /// caches, where a random walk over all clients' sums would wait on memory at every row.
    pub(crate) fn add_all(&mut self, adds: &[Add]) {
        let bits = usize::BITS - self.acc.len().max(self.clients).leading_zeros();
        let shift = bits.saturating_sub(6);
        let mut count = [0u32; 65];
        for a in adds {
            count[((a.client >> shift) as usize).min(63) + 1] += 1;
        }
        for i in 1..count.len() {
            count[i] += count[i - 1];
        }
        let mut sorted = std::mem::take(&mut self.scratch);
        sorted.clear();
        sorted.resize(adds.len(), Add::default());
        for a in adds {
            let b = ((a.client >> shift) as usize).min(63);
            sorted[count[b] as usize] = *a;
            count[b] += 1;
        }
        for a in &sorted {
            self.add(a.client, a.amount, a.billed, a.unit);
        }
        self.scratch = sorted;
    }

    fn add_decimal(&mut self, client: u32, amount: Money, billed: Quantity, unit: u8) {
        match (to_scaled(amount.get(), AS), to_scaled(billed.get(), QS)) {
            (Some(a), Some(b)) => self.add(client, a, b, unit),
            _ => {
                self.add(client, 0, 0, unit);
                let e = self.extra.entry(client).or_default();
                match (e.0.checked_add(amount.get()), e.1.checked_add(billed.get())) {
                    (Some(a), Some(b)) => *e = (a, b),
                    _ => self.overflow = true,
                }
            }
        }
    }

    /// [`Part::add_decimal`] for row `row` of pass 1: what does not fit the scaled integers is
    /// kept by row (see [`Part::extra_rows`]).
    fn add_decimal_row(
        &mut self,
        row: u32,
        client: u32,
        amount: Money,
        billed: Quantity,
        unit: u8,
    ) {
        match (to_scaled(amount.get(), AS), to_scaled(billed.get(), QS)) {
            (Some(a), Some(b)) => self.add(client, a, b, unit),
            _ => {
                self.add(client, 0, 0, unit);
                self.extra_rows
                    .push((row, client, amount.get(), billed.get()));
            }
        }
    }

    /// Adds [`Part::extra_rows`] to the clients' `extra` sums, in row order.
    pub(crate) fn settle_extra(&mut self) {
        let mut rows = std::mem::take(&mut self.extra_rows);
        rows.sort_unstable_by_key(|r| r.0);
        for (_, client, amount, billed) in rows {
            let e = self.extra.entry(client).or_default();
            match (e.0.checked_add(amount), e.1.checked_add(billed)) {
                (Some(a), Some(q)) => *e = (a, q),
                _ => self.overflow = true,
            }
        }
    }

    fn reject(&mut self, row: u32, reason: RejectReason) {
        self.rejections
            .push(Rejection::new(u64::from(row) + 1, reason, false));
    }

    /// Adds other parts' sums (over the same client numbering), the clients split into
    /// `threads` contiguous pieces merged at once.
    pub(crate) fn merge_all(&mut self, others: Vec<Part>, threads: usize) {
        let len = others.iter().map(|p| p.acc.len()).max().unwrap_or(0);
        if self.acc.len() < len {
            self.acc.resize(len, Acc::default());
        }
        // Shares with only simple lines have no sums here (see `fold_simple`): no threads then.
        let busy = if others.iter().any(|p| !p.acc.is_empty()) {
            threads
        } else {
            1
        };
        let overflow = super::in_pieces(&mut self.acc, busy, |lo, mine| {
            let mut overflow = false;
            for other in &others {
                let theirs = other.acc.get(lo..).unwrap_or(&[]);
                for (mine, theirs) in mine.iter_mut().zip(theirs) {
                    merge_acc(mine, theirs, &mut overflow);
                }
            }
            overflow
        });
        self.overflow |= overflow.into_iter().any(|o| o);
        for other in others {
            self.merge_rest(Part {
                acc: Vec::new(),
                ..other
            });
        }
    }

    /// Adds another part's sums with its clients renumbered by `map`.
    pub(crate) fn merge_mapped(&mut self, other: Part, map: &[u32]) {
        for (i, theirs) in other.acc.iter().enumerate() {
            if theirs.lines == 0 {
                continue;
            }
            match self.acc.get_mut(map[i] as usize) {
                Some(mine) => merge_acc(mine, theirs, &mut self.overflow),
                None => self.overflow = true,
            }
        }
        let mut other = other;
        other.extra = std::mem::take(&mut other.extra)
            .into_iter()
            .map(|(c, v)| (map[c as usize], v))
            .collect();
        for s in &mut other.stateful {
            s.client = map[s.client as usize];
        }
        for r in &mut other.extra_rows {
            r.1 = map[r.1 as usize];
        }
        self.merge_rest(other);
    }

    /// Whether the part holds nothing but simple sums: no checked sums, amounts beyond the
    /// scaled integers, stateful rows, rejections or overflow (pass 1 made every row it took
    /// a simple line). Pass 1 leaves no amount beyond the scaled integers without a checked
    /// line, and sets no compact rejection nor wrapped words: those tests only guard.
    pub(crate) fn only_simple(&self) -> bool {
        self.acc.is_empty()
            && self.extra.is_empty()
            && self.extra_rows.is_empty()
            && self.stateful.is_empty()
            && self.wide.is_empty()
            && self.rejections.is_empty()
            && self.overs.is_empty()
            && self.fast.len() == 0
            && !self.overflow
            && !self.simple_wrapped
    }

    /// Adds the results of pass 2: sums by client, and what else each share found.
    pub(crate) fn merge_client_sums(&mut self, results: Vec<(Vec<(u32, Acc)>, Part)>) {
        for (sums, rest) in results {
            for (c, a) in sums {
                match self.acc.get_mut(c as usize) {
                    Some(mine) => merge_acc(mine, &a, &mut self.overflow),
                    None => self.overflow = true,
                }
            }
            self.merge_rest(Part {
                acc: Vec::new(),
                ..rest
            });
        }
    }

    /// Adds what another part holds besides its sums.
    pub(crate) fn merge_rest(&mut self, other: Part) {
        for (c, (a, q)) in other.extra {
            let e = self.extra.entry(c).or_default();
            match (e.0.checked_add(a), e.1.checked_add(q)) {
                (Some(a), Some(q)) => *e = (a, q),
                _ => self.overflow = true,
            }
        }
        self.stateful.extend(other.stateful);
        self.extra_rows.extend(other.extra_rows);
        self.wide.extend(other.wide);
        self.rejections.extend(other.rejections);
        self.overflow |= other.overflow;
        self.simple_wrapped |= other.simple_wrapped;
    }
}

/// Adds `theirs` to `mine`; `overflow` set when a sum leaves the range.
pub(crate) fn merge_acc(mine: &mut Acc, theirs: &Acc, overflow: &mut bool) {
    if theirs.lines == 0 {
        return;
    }
    match (
        mine.amount.checked_add(theirs.amount),
        mine.cents.checked_add(theirs.cents),
        mine.quantity.checked_add(theirs.quantity),
        mine.lines.checked_add(theirs.lines),
    ) {
        (Some(a), Some(c), Some(q), Some(l)) => {
            mine.amount = a;
            mine.cents = c;
            mine.quantity = q;
            mine.lines = l;
        }
        _ => *overflow = true,
    }
    mine.unit = if mine.unit == 0 || mine.unit == theirs.unit {
        theirs.unit
    } else {
        MIXED
    };
}

impl Shared<'_> {
    /// The hot path of pass 1: a known element, a positive quantity held as a scaled integer,
    /// a flat price; `None` sends the row to [`Shared::row`].
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn hot(
        &self,
        resolver: &Resolver,
        known: &[bool],
        client: u32,
        provider: u16,
        element: u16,
        date: u32,
        q: i64,
    ) -> Option<Add> {
        let e = usize::from(element);
        if e >= self.unit_code.len() || q <= 0 {
            return None;
        }
        if self.cx.clients.is_some() && !known.get(client as usize).copied().unwrap_or(false) {
            return None;
        }
        let (billed, amount) = resolver.hot(usize::from(provider), e, date).line(q)?;
        Some(Add {
            client,
            unit: self.unit_code[e],
            amount,
            billed,
        })
    }

    /// Pass 1 for one row: a flat row's line to add (by the caller, in a block), or `None`
    /// when the row was dealt with here.
    #[inline(always)]
    pub(crate) fn row(
        &self,
        part: &mut Part,
        resolver: &Resolver,
        ids: &Ids,
        known: &[bool],
        r: RowIn<'_>,
    ) -> Option<Add> {
        let e = usize::from(r.element);
        if e >= self.elements() {
            let element = ids.elements[e].clone();
            part.reject(r.row, RejectReason::UnknownElement { element });
            return None;
        }
        let mut wide = None;
        if r.q == SIDE {
            match r.side {
                Some(Side::Unit(given)) => {
                    part.reject(
                        r.row,
                        RejectReason::UnitMismatch {
                            element: ids.elements[e].clone(),
                            expected: self.unit_of(e),
                            given: *given,
                        },
                    );
                    return None;
                }
                Some(Side::Wide(q)) => wide = Some(*q),
                None => {
                    part.overflow = true;
                    return None;
                }
            }
        }
        if self.cx.clients.is_some() && !known.get(r.client as usize).copied().unwrap_or(false) {
            let client = ids.clients[r.client as usize].clone();
            part.reject(r.row, RejectReason::UnknownClient { client });
            return None;
        }
        let positive = match wide {
            Some(q) => q.is_positive(),
            None => r.q > 0,
        };
        if !positive {
            let quantity =
                wide.unwrap_or_else(|| Quantity::new(from_scaled(r.q, QS, u32::from(r.scale))));
            part.reject(r.row, RejectReason::QuantityNotPositive { quantity });
            return None;
        }
        let plan_id = resolver.plan(usize::from(r.provider), e, r.date);
        if plan_id == NO_PLAN {
            part.reject(
                r.row,
                RejectReason::NoPrice {
                    element: ids.elements[e].clone(),
                    provider: ids.providers[usize::from(r.provider)].clone(),
                    date: unpack_date(r.date),
                },
            );
            return None;
        }
        let plan = &self.plans.plans[plan_id as usize];
        if plan.stateful {
            if let Some(q) = wide {
                part.wide.insert(r.row, q);
            }
            part.stateful.push(SRow {
                key: SRow::key_of(r.element, r.date, r.rank),
                q: r.q,
                row: r.row,
                client: r.client,
                plan: plan_id,
                scale: r.scale,
            });
            return None;
        }
        let unit = self.unit_code[e];
        if plan.integer && wide.is_none() {
            if let Rule::Flat(price) = plan.rule {
                if let Some(billed) = plan.billed(r.q) {
                    if let Some(v) = billed.checked_mul(price) {
                        if let Some(amount) = round_scaled(v, plan.mode, plan.decimals) {
                            return Some(Add {
                                client: r.client,
                                unit,
                                amount,
                                billed,
                            });
                        }
                    }
                }
            }
        }
        let q = wide.unwrap_or_else(|| Quantity::new(from_scaled(r.q, QS, u32::from(r.scale))));
        self.flat_decimal(part, r.row, r.client, plan, q, unit);
        None
    }

    /// A flat row through the general path's decimal helpers.
    fn flat_decimal(
        &self,
        part: &mut Part,
        row: u32,
        client: u32,
        plan: &Plan,
        q: Quantity,
        unit: u8,
    ) {
        let price_row = self.cx.book.row(plan.price);
        let billed = match price_row.min_increment() {
            Some(inc) => q.checked_round_up_to(inc),
            None => Some(q),
        };
        let line = billed.and_then(|b| {
            price_line(
                self.cx.book,
                u64::from(row) + 1,
                plan.element,
                plan.price,
                Quantity::ZERO,
                b,
            )
        });
        match line {
            Some((line, _)) => {
                part.add_decimal_row(row, client, line.amount(), line.billed_quantity(), unit)
            }
            None => part.reject(row, RejectReason::Overflow),
        }
    }

    /// Pass 2 over `mine`: the general stateful rows of a contiguous share of the clients,
    /// grouped by client.
    pub(crate) fn stateful(
        &self,
        ids: &Ids,
        mine: &mut [SRow],
        wide: &HashMap<u32, Quantity>,
    ) -> (Vec<(u32, Acc)>, Part) {
        let qty = |r: &SRow| -> Decimal {
            match wide.get(&r.row) {
                Some(q) if r.q == SIDE => q.get(),
                _ => Decimal::new(r.q, QS),
            }
        };
        // The rows come grouped by client: order each client's rows as the general path does.
        let mut start = 0;
        while start < mine.len() {
            let client = mine[start].client;
            let end = mine[start..]
                .iter()
                .position(|r| r.client != client)
                .map_or(mine.len(), |k| start + k);
            let group = &mut mine[start..end];
            if group.iter().any(|r| r.q == SIDE) {
                group.sort_unstable_by(|a, b| {
                    a.key
                        .cmp(&b.key)
                        .then_with(|| qty(a).cmp(&qty(b)))
                        .then(a.row.cmp(&b.row))
                });
            } else {
                group.sort_unstable_by_key(|r| (r.key, r.q, r.row));
            }
            start = end;
        }
        let mine: &[SRow] = mine;
        let mut out = Vec::new();
        let mut extra = BTreeMap::new();
        let mut part = Part::with_clients(1);
        let mut start = 0;
        while start < mine.len() {
            let client = mine[start].client;
            let end = mine[start..]
                .iter()
                .position(|r| r.client != client)
                .map_or(mine.len(), |k| start + k);
            let group = &mine[start..end];
            let integer = group
                .iter()
                .all(|r| r.q != SIDE && self.plans.plans[r.plan as usize].integer);
            self.value_client(&mut part, ids, client, group.iter().copied(), integer, wide);
            out.push((client, part.acc[0]));
            if let Some(x) = part.extra.remove(&0) {
                extra.insert(client, x);
            }
            start = end;
        }
        part.acc = Vec::new();
        part.extra = extra;
        (out, part)
    }

    /// One client's stateful rows, in order, into client 0 of `part` (reset first): in scaled
    /// integers when `integer` and every figure fits, else through the decimal helpers.
    pub(crate) fn value_client(
        &self,
        part: &mut Part,
        ids: &Ids,
        client: u32,
        group: impl Iterator<Item = SRow> + Clone,
        integer: bool,
        wide: &HashMap<u32, Quantity>,
    ) {
        part.acc[0] = Acc::default();
        let done = integer && {
            let before = part.rejections.len();
            let ok = self.group_integer(part, ids, group.clone()).is_some() && !part.overflow;
            if !ok {
                part.rejections.truncate(before);
                part.overflow = false;
                part.acc[0] = Acc::default();
            }
            ok
        };
        if !done {
            let rows: Vec<SRow> = group.map(|r| SRow { client, ..r }).collect();
            self.group_decimal(part, ids, &rows, wide);
        }
    }

    /// One client's stateful rows in scaled integers; `None` when a figure leaves the range
    /// (the caller then takes the decimal path for the client). Sums go to client 0 of `part`.
    fn group_integer(
        &self,
        part: &mut Part,
        ids: &Ids,
        group: impl Iterator<Item = SRow>,
    ) -> Option<()> {
        let mut current = (usize::MAX, 0u32);
        let mut so_far = 0i64;
        let mut so_far_scale = 0u32;
        for r in group {
            let plan = &self.plans.plans[r.plan as usize];
            let e = r.element();
            let year = year_of(r.date());
            if (e, year) != current {
                current = (e, year);
                so_far = 0;
                so_far_scale = 0;
            }
            let mut billed = plan.billed(r.q)?;
            let mut billed_scale = match plan.increment {
                Some((_, s)) => u32::from(s),
                None => u32::from(r.scale),
            };
            if let Some(cap) = plan.cap {
                let room = cap.checked_sub(so_far)?;
                if room <= 0 || billed > room {
                    let cap_q = self.cx.book.row(plan.price).cap_per_client_year()?;
                    let (within, within_scale, excess) =
                        beyond_cap(cap_q, room, so_far_scale, billed, billed_scale)?;
                    let reason = RejectReason::OverCap {
                        element: ids.elements[e].clone(),
                        cap: cap_q,
                        excess,
                    };
                    let whole = within <= 0;
                    part.rejections
                        .push(Rejection::new(u64::from(r.row) + 1, reason, !whole));
                    if whole {
                        continue;
                    }
                    (billed, billed_scale) = (within, within_scale);
                }
            }
            let unrounded = plan.unrounded(so_far, billed)?;
            let amount = round_scaled(unrounded, plan.mode, plan.decimals)?;
            so_far = so_far.checked_add(billed)?;
            so_far_scale = so_far_scale.max(billed_scale);
            part.add(0, amount, billed, self.unit_code[e]);
        }
        Some(())
    }

    /// One client's stateful rows through the general path's decimal helpers, exactly as
    /// `value` takes them. Sums go to client 0 of `part`.
    fn group_decimal(
        &self,
        part: &mut Part,
        ids: &Ids,
        group: &[SRow],
        wide: &HashMap<u32, Quantity>,
    ) {
        let mut current = (usize::MAX, 0u32);
        let mut so_far = Quantity::ZERO;
        for r in group {
            let plan = &self.plans.plans[r.plan as usize];
            let price_row = self.cx.book.row(plan.price);
            let row = u64::from(r.row) + 1;
            let q = match wide.get(&r.row) {
                Some(q) if r.q == SIDE => *q,
                _ => Quantity::new(from_scaled(r.q, QS, u32::from(r.scale))),
            };
            let billed = match price_row.min_increment() {
                Some(inc) => match q.checked_round_up_to(inc) {
                    Some(b) => b,
                    None => {
                        part.rejections
                            .push(Rejection::new(row, RejectReason::Overflow, false));
                        continue;
                    }
                },
                None => q,
            };
            let e = r.element();
            let year = year_of(r.date());
            if (e, year) != current {
                current = (e, year);
                so_far = Quantity::ZERO;
            }
            let mut billed = billed;
            if let Some(cap) = price_row.cap_per_client_year() {
                let (within, excess) = split_at_cap(cap, so_far, billed);
                let reason = || RejectReason::OverCap {
                    element: ids.elements[e].clone(),
                    cap,
                    excess,
                };
                if within.get() <= Decimal::ZERO {
                    part.rejections.push(Rejection::new(row, reason(), false));
                    continue;
                }
                if excess.is_positive() {
                    part.rejections.push(Rejection::new(row, reason(), true));
                    billed = within;
                }
            }
            match price_line(self.cx.book, row, plan.element, plan.price, so_far, billed) {
                Some((line, end)) => {
                    so_far = end;
                    part.add_decimal(0, line.amount(), line.billed_quantity(), self.unit_code[e]);
                }
                None => part
                    .rejections
                    .push(Rejection::new(row, RejectReason::Overflow, false)),
            }
        }
    }

    /// Pass 2 on `threads` threads, then the result.
    pub(crate) fn finish(
        &self,
        ids: &Ids,
        mut part: Part,
        rows: u64,
        threads: usize,
    ) -> Result<ByClient> {
        // Pass 1's extra lines, when the caller has not added them yet.
        part.settle_extra();
        let stateful = std::mem::take(&mut part.stateful);
        let wide = std::mem::take(&mut part.wide);
        let mut grouped = group_by_client(stateful, ids.clients.len());
        let shares = if grouped.len() < super::MIN_PARALLEL_ROWS {
            1
        } else {
            threads.clamp(1, 64)
        };
        // Contiguous shares of about equal rows, cut between clients.
        let mut pieces: Vec<&mut [SRow]> = Vec::with_capacity(shares);
        let mut rest: &mut [SRow] = &mut grouped;
        for k in (1..=shares).rev() {
            let mut cut = rest.len().div_ceil(k);
            while cut < rest.len() && cut > 0 && rest[cut].client == rest[cut - 1].client {
                cut += 1;
            }
            let (a, b) = std::mem::take(&mut rest).split_at_mut(cut);
            pieces.push(a);
            rest = b;
        }
        let results = super::on_threads(pieces, |p| self.stateful(ids, p, &wide));
        drop(grouped);
        part.merge_client_sums(results);
        self.result(ids, part, rows, threads)
    }

    /// The totals by client, built in `threads` pieces at once.
    fn result(&self, ids: &Ids, mut part: Part, rows: u64, threads: usize) -> Result<ByClient> {
        if part.overflow {
            return Err(overflow());
        }
        let extra = &part.extra;
        let pieces = super::in_pieces(&mut part.acc, threads, |lo, accs| {
            self.piece((lo..).zip(accs.iter().copied()), extra)
        });
        let pieces = pieces.into_iter().collect::<Result<Vec<Piece>>>()?;
        let rejections = by_row(part.rejections);
        let rows_rejected =
            rejections.iter().filter(|r| !r.is_partial()).count() as u64 + part.overs.whole();
        self.assemble(ids, pieces, (rows, rows_rejected), rejections, part.overs)
    }

    /// The totals by client straight from the simple sums of pass 1's `parts`, when they hold
    /// nothing else (every row was a simple line: see [`Part::only_simple`]), built in
    /// `threads` pieces at once; `None` when some client had so many lines that its sums
    /// may have carried, or a total is beyond the decimal range (the caller then values
    /// again with checks, which tell the error).
    ///
    /// The checked sums ([`Part::fold_simple`]) are not made, which would be written and read
    /// back once more (10 M rows of flat prices: the run about 0.7 ms quicker on one thread,
    /// 1 ms on two, of 34 and 19 ms).
    pub(crate) fn result_simple(
        &self,
        ids: &Ids,
        parts: Vec<Part>,
        rows: u64,
        threads: usize,
    ) -> Option<ByClient> {
        let units = self.units();
        let lines: u64 = parts.iter().map(|p| p.simple_lines).sum();
        let all: Vec<Vec<[u64; 2]>> = parts.into_iter().map(|p| p.simple).collect();
        let clients = all.iter().map(Vec::len).max().unwrap_or(0);
        let no_extra = BTreeMap::new();
        // Pieces of the clients as `in_pieces` cuts them; a unit is nothing to hold.
        let pieces = super::in_pieces(&mut vec![(); clients], threads, |lo, piece| {
            let accs = (lo..lo + piece.len()).map(|c| (c, simple_acc(&all, c, units)));
            self.piece(accs, &no_extra)
        });
        let pieces = pieces.into_iter().collect::<Result<Vec<Piece>>>().ok()?;
        // Every line is counted once: a carry past a client's count of lines shows here.
        if pieces.iter().map(|p| p.lines).sum::<u64>() != lines {
            return None;
        }
        let overs = super::stateful::Overs::default();
        self.assemble(ids, pieces, (rows, 0), Vec::new(), overs)
            .ok()
    }

    /// The totals of the clients of one piece, from each client's sums (`accs`: client,
    /// sums) and the amounts and quantities beyond the scaled integers (`extra`).
    #[inline(always)]
    fn piece(
        &self,
        accs: impl Iterator<Item = (usize, Acc)>,
        extra: &BTreeMap<u32, (Decimal, Decimal)>,
    ) -> Result<Piece> {
        let mut clients = Vec::with_capacity(accs.size_hint().0);
        let mut lines = 0u64;
        let mut total = 0i128;
        let mut total_extra = Decimal::ZERO;
        // The grand total of quantities too: the general path's rollup refuses one
        // beyond the decimal range.
        let (mut quantities, mut quantities_extra) = (0i128, Decimal::ZERO);
        for (c, a) in accs {
            if a.lines == 0 {
                continue;
            }
            lines += u64::from(a.lines);
            let scaled = i128::from(a.amount) + i128::from(a.cents) * CENT;
            total += scaled;
            quantities += i128::from(a.quantity);
            let mut amount =
                Decimal::try_from_i128_with_scale(scaled, AS).map_err(|_| overflow())?;
            let mut quantity = Decimal::new(a.quantity, QS);
            if let Some((xa, xq)) = extra.get(&(c as u32)) {
                amount = amount.checked_add(*xa).ok_or_else(overflow)?;
                quantity = quantity.checked_add(*xq).ok_or_else(overflow)?;
                total_extra = total_extra.checked_add(*xa).ok_or_else(overflow)?;
                quantities_extra = quantities_extra.checked_add(*xq).ok_or_else(overflow)?;
            }
            let unit = match a.unit {
                MIXED => Some(None),
                k => Some(self.units.get(usize::from(k) - 1).copied()),
            };
            clients.push((
                c as u32,
                Totals::from_parts(
                    u64::from(a.lines),
                    Money::new(amount),
                    Quantity::new(quantity),
                    unit,
                ),
            ));
        }
        let quantities = Decimal::try_from_i128_with_scale(quantities, QS)
            .ok()
            .and_then(|q| q.checked_add(quantities_extra))
            .ok_or_else(overflow)?;
        Ok(Piece {
            clients,
            lines,
            total,
            total_extra,
            quantities,
        })
    }

    /// The result of the pieces' totals (in client order): `rows` read and rejected, the
    /// rejections made and those kept compact.
    fn assemble(
        &self,
        ids: &Ids,
        pieces: Vec<Piece>,
        (rows, rows_rejected): (u64, u64),
        made: Vec<Rejection>,
        overs: super::stateful::Overs,
    ) -> Result<ByClient> {
        let mut clients = Vec::with_capacity(pieces.len());
        let (mut lines, mut total, mut total_extra) = (0u64, 0i128, Decimal::ZERO);
        let mut quantities = Decimal::ZERO;
        for p in pieces {
            quantities = quantities.checked_add(p.quantities).ok_or_else(overflow)?;
            clients.push(p.clients);
            lines += p.lines;
            total = total.checked_add(p.total).ok_or_else(overflow)?;
            total_extra = total_extra
                .checked_add(p.total_extra)
                .ok_or_else(overflow)?;
        }
        let total = Decimal::try_from_i128_with_scale(total, AS)
            .ok()
            .and_then(|t| t.checked_add(total_extra))
            .ok_or_else(overflow)?;
        Ok(ByClient {
            rows_read: rows,
            rows_valued: lines,
            rows_rejected,
            total: Money::new(total),
            made,
            overs,
            rejections: std::sync::OnceLock::new(),
            ids: std::sync::Arc::clone(&ids.clients),
            clients,
        })
    }
}

/// The totals of one piece of the clients (see [`Shared::piece`]).
struct Piece {
    clients: Vec<(u32, Totals)>,
    lines: u64,
    /// The amounts in scaled integers ([`AS`] decimals), and beyond them.
    total: i128,
    total_extra: Decimal,
    quantities: Decimal,
}

/// The error of a total beyond the decimal range.
fn overflow() -> Error {
    Error::Overflow {
        what: "the total of all lines".to_owned(),
    }
}

/// [`split_at_cap`] in scaled integers: of `billed` (written with `billed_scale` decimals),
/// with `room` left under the yearly cap `cap` (the quantity so far written with
/// `before_scale` decimals), the part within the cap and its decimals, and the excess, each
/// with the decimals the decimal arithmetic would give them.
fn beyond_cap(
    cap: Quantity,
    room: i64,
    before_scale: u32,
    billed: i64,
    billed_scale: u32,
) -> Option<(i64, u32, Quantity)> {
    if room <= 0 {
        return Some((0, 0, Quantity::new(from_scaled(billed, QS, billed_scale))));
    }
    // A difference of decimals has the larger of their scales.
    let room_scale = cap.get().scale().max(before_scale);
    let excess = billed.checked_sub(room)?;
    let excess = from_scaled(excess, QS, billed_scale.max(room_scale));
    Some((room, room_scale, Quantity::new(excess)))
}

/// Rejections in row order, sorted in place (sorting compact keys and then moving the
/// rejections measured slower: the moves are random).
fn by_row(mut rejections: Vec<Rejection>) -> Vec<Rejection> {
    let key = |r: &Rejection| (r.row(), r.is_partial());
    if !rejections.windows(2).all(|w| key(&w[0]) <= key(&w[1])) {
        // A row has one rejection at most: the unstable sort gives the stable order.
        rejections.sort_unstable_by_key(key);
    }
    rejections
}

/// The rows ordered by client (a counting sort: one pass to count, one to place).
fn group_by_client(rows: Vec<SRow>, clients: usize) -> Vec<SRow> {
    let Some(&first) = rows.first() else {
        return rows;
    };
    let clients = rows
        .iter()
        .map(|r| r.client as usize + 1)
        .max()
        .unwrap_or(0)
        .max(clients);
    let mut next = vec![0usize; clients + 1];
    for r in &rows {
        next[r.client as usize + 1] += 1;
    }
    for i in 1..next.len() {
        next[i] += next[i - 1];
    }
    let mut out = vec![first; rows.len()];
    for r in rows {
        let n = &mut next[r.client as usize];
        out[*n] = r;
        *n += 1;
    }
    out
}

/// The packed date of a [`crate::Date`] (re-exported for the readers).
pub(crate) fn packed(d: crate::Date) -> u32 {
    pack_date(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beyond_cap_matches_the_decimal_split_digit_for_digit() {
        // The over-cap rejection prints its excess: the integer split must give the decimal
        // split's value and its written decimals.
        let q = |s: &str| s.parse::<Quantity>().unwrap();
        let cases = [
            ("4", "3.5", "1.25"),
            ("4", "0", "4.10"),
            ("4.0", "3.75", "0.5"),
            ("2.5", "2.5", "0.3"),
            ("2.5", "3", "1"),
            ("10", "9.999", "0.0020"),
            ("4", "1", "7"),
        ];
        for (cap, before, billed) in cases {
            let (cap, before, billed) = (q(cap), q(before), q(billed));
            let (within, excess) = split_at_cap(cap, before, billed);
            let scaled = |d: Quantity| to_scaled(d.get(), QS).unwrap();
            let room = scaled(cap) - scaled(before);
            let (w, ws, x) = beyond_cap(
                cap,
                room,
                before.get().scale(),
                scaled(billed),
                billed.get().scale(),
            )
            .unwrap();
            assert_eq!(x.to_string(), excess.to_string(), "{cap} {before} {billed}");
            if within.is_positive() {
                assert_eq!(from_scaled(w, QS, ws).to_string(), within.to_string());
            } else {
                assert!(w <= 0);
            }
        }
    }
}
