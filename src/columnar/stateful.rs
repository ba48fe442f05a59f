//! Pass 2 of the in-memory path for the rows priced by tiers or caps in scaled integers.
//!
//! Pass 1 packs these rows as records into lists by range of clients (see [`Layout`]): one
//! write a row, in place; 8 bytes a record when the columns' figures fit (see [`Fields`]),
//! else 16. Here each range's records, a few hundred kilobytes, are grouped by client and
//! element with a counting sort in the caches; each group is put in the general path's
//! order (date, provider, quantity, row) and valued with the client's cumulative counts
//! straight into the client's sums (in a loop chosen once per element, see [`Kind`]; when
//! every element has one of the two tight shapes, in one pass over the range without a
//! branch on the figures, see [`Pass2::value_two`], for every range of fewer than 2³¹
//! records). A rejection over a cap is kept as a compact record until
//! `ByClient::rejections` is first called, which sorts them by row and makes each a
//! [`Rejection`]. Ranges of clients split across threads.

use std::collections::HashMap;
use std::fmt::Debug;
use std::ops::BitOr;

use super::engine::{merge_acc, Acc, Part, SRow, Shared, Simple, MIXED};
use super::plan::{from_scaled, round_scaled, year_of, Plan, Rule, Step, NO_PLAN, QS};
use super::{expect_room, on_threads, Columns, Ids, MIN_PARALLEL_ROWS, NARROW_SIDE};
use crate::money::{Quantity, Rounding};
use crate::valuation::{RejectReason, Rejection};
use crate::ElementCode;

/// Buckets of a range (clients × elements) are at most 2^`KEY_BITS`: their counters (128 KiB
/// at most) stay in the second-level cache. With 2¹⁵ rather than 2¹⁴, the benchmark's
/// 5.15 M records are packed into 196 lists rather than 391 (about 1.5 ms less in 130).
const KEY_BITS: u32 = 15;

/// The bits of a client's place in its range, for elements whose places take `ord_bits`:
/// up to 2¹⁰ clients a range.
fn place_bits(ord_bits: u32) -> u32 {
    KEY_BITS.saturating_sub(ord_bits).clamp(1, 10)
}

/// A packed record: 64 or 128 bits, its figures where [`Fields`] says.
pub(crate) trait Record:
    Copy + Ord + Default + Debug + Send + Sync + BitOr<Output = Self> + 'static
{
    /// Whether records of this width are [`Fields::wide`]'s.
    const WIDE: bool;
    /// The bits from `shift` on, the lowest 64 of them.
    fn at(self, shift: u32) -> u64;
    /// A record of figures that fit their fields in `f` (of this width); `q`, the quantity
    /// with [`QS`] decimals, is a whole number of `f`'s units.
    fn assemble(f: &Fields, key: u64, date: u64, rank: u64, q: u64, row: u64, scale: u64) -> Self;
    /// The lists of this width in `lists`.
    fn lists(lists: &Lists) -> Option<&[Vec<Self>]>;
    /// A narrow record's bits as a record of this width.
    fn from_u64(v: u64) -> Self;
}

impl Record for u64 {
    const WIDE: bool = false;
    #[inline(always)]
    /// Each figure times the power of two where its field starts, rather than shifted: a
    /// shift by a count known only at run time first moves the count into one register,
    /// and six of them a row cost the packing more than multiplications. The quantity's
    /// factor divides it by the unit too (see [`Fields::times`]); the decimals start at 0.
    fn assemble(f: &Fields, key: u64, date: u64, rank: u64, q: u64, row: u64, scale: u64) -> Self {
        let t = &f.times;
        key.wrapping_mul(t.key)
            | date.wrapping_mul(t.date)
            | rank.wrapping_mul(t.rank)
            | q.wrapping_mul(t.quantity)
            | row.wrapping_mul(t.row)
            | scale
    }
    #[inline(always)]
    fn at(self, shift: u32) -> u64 {
        self.wrapping_shr(shift)
    }
    fn from_u64(v: u64) -> Self {
        v
    }
    fn lists(lists: &Lists) -> Option<&[Vec<Self>]> {
        match lists {
            Lists::Narrow(l) => Some(l),
            Lists::Wide(_) => None,
        }
    }
}

impl Record for u128 {
    const WIDE: bool = true;
    #[inline(always)]
    /// With the shifts of [`Fields::wide`], which every wide record has, as constants (its
    /// unit is 1).
    fn assemble(_: &Fields, key: u64, date: u64, rank: u64, q: u64, row: u64, scale: u64) -> Self {
        u128::from(key) << 112
            | u128::from(date) << 88
            | u128::from(rank) << 72
            | u128::from(q) << 40
            | u128::from(row) << 8
            | u128::from(scale)
    }
    #[inline(always)]
    fn at(self, shift: u32) -> u64 {
        self.wrapping_shr(shift) as u64
    }
    fn from_u64(v: u64) -> Self {
        u128::from(v)
    }
    fn lists(lists: &Lists) -> Option<&[Vec<Self>]> {
        match lists {
            Lists::Wide(l) => Some(l),
            Lists::Narrow(_) => None,
        }
    }
}

/// A thread's lists of records, one a range of clients, of the width its [`Layout`] chose.
#[derive(Debug, Clone)]
pub(crate) enum Lists {
    Narrow(Vec<Vec<u64>>),
    Wide(Vec<Vec<u128>>),
}

impl Default for Lists {
    fn default() -> Self {
        Self::Narrow(Vec::new())
    }
}

impl Lists {
    /// The records in all lists.
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Narrow(l) => l.iter().map(Vec::len).sum(),
            Self::Wide(l) => l.iter().map(Vec::len).sum(),
        }
    }

    /// Room in each list for `each` records in all.
    pub(crate) fn reserve(&mut self, each: usize) {
        fn room<R>(lists: &mut [Vec<R>], each: usize) {
            for list in lists {
                list.reserve(each.saturating_sub(list.len()));
            }
        }
        match self {
            Self::Narrow(l) => room(l, each),
            Self::Wide(l) => room(l, each),
        }
    }

    /// The number of lists.
    pub(crate) fn ranges(&self) -> usize {
        match self {
            Self::Narrow(l) => l.len(),
            Self::Wide(l) => l.len(),
        }
    }
}

/// What the columns hold, for [`Fields`]: their rows, providers, first and last packed
/// dates, largest positive quantity not kept aside (with [`QS`] decimals) and the fewest
/// and most decimals such a quantity was written with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Extent {
    pub(crate) rows: usize,
    pub(crate) providers: usize,
    pub(crate) dates: (u32, u32),
    pub(crate) quantity: i64,
    pub(crate) scales: (u8, u8),
}

/// The bits needed to write every number below `n`.
fn bits_below(n: u64) -> u32 {
    u64::BITS - n.saturating_sub(1).leading_zeros()
}

/// Where each figure of a record lies: its shift, the mask of its bits, and how it is
/// written. From the high bits: the group key, the date (as days from the start of a year,
/// see [`super::plan::pack_date`]), the provider's rank, the quantity, the row and the
/// decimals the quantity was written with. The integer order is so the order of groups,
/// and within a group (one client, one element) the general path's order: date, provider,
/// quantity, row.
///
/// Wide (128 bits), each figure has all the bits it may need: 16, 24, 16, 32, 32 and 8.
/// Narrow (64 bits), only what the columns' figures need (see [`Extent`]): dates from the
/// first one's year on, quantities in units of their most decimals, decimals from the
/// fewest on. Ten million rows of one year, ten providers and quantities up to 4.00 with
/// two decimals take, with a key of 15 bits, 15 + 9 + 4 + 9 + 24 + 0 = 61 bits. Pass 1
/// writes half the bytes and pass 2 sorts and reads half.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    wide: bool,
    key: u32,
    /// The group key and year start here.
    year: u32,
    date: u32,
    date_mask: u64,
    /// The packed date that is 0 in a record.
    date_base: u32,
    rank: u32,
    rank_mask: u64,
    quantity: u32,
    quantity_mask: u64,
    /// A record's quantity times this is the row's, with [`QS`] decimals: a power of ten,
    /// 10^`unit_twos`, whose factor 5^`unit_twos` has the inverse `unit_inverse` (mod 2⁶⁴).
    unit: u64,
    unit_inverse: u64,
    unit_twos: u32,
    row: u32,
    row_mask: u64,
    scale: u32,
    scale_mask: u64,
    /// The decimals that are 0 in a record.
    scale_base: u8,
    /// What [`Record::assemble`] multiplies the figures by, for narrow records.
    times: Times,
}

/// The factors of narrow records' figures: 2^(where the field starts), and for the quantity
/// the unit's inverse too.
///
/// A quantity `q` that is a whole number of units 10^k (k = `unit_twos`) divides by 5^k
/// exactly, so `q` times the inverse of 5^k (mod 2⁶⁴) is q / 5^k, still a multiple of 2^k;
/// its field value q / 10^k, put at bit s (at least k), is then q / 5^k times 2^(s − k).
#[derive(Debug, Clone, Copy, Default)]
struct Times {
    key: u64,
    date: u64,
    rank: u64,
    quantity: u64,
    row: u64,
}

impl Fields {
    /// The wide fields, for a key of at most 16 bits.
    fn wide() -> Self {
        Self {
            wide: true,
            key: 112,
            year: 97,
            date: 88,
            date_mask: (1 << 24) - 1,
            date_base: 0,
            rank: 72,
            rank_mask: u64::from(u16::MAX),
            quantity: 40,
            quantity_mask: u64::from(u32::MAX),
            unit: 1,
            unit_inverse: 1,
            unit_twos: 0,
            row: 8,
            row_mask: u64::from(u32::MAX),
            scale: 0,
            scale_mask: u64::from(u8::MAX),
            scale_base: 0,
            times: Times::default(),
        }
    }

    /// The narrow fields for a key of `key_bits` bits and columns of `extent`, when all fit
    /// 64 bits.
    fn narrow(key_bits: u32, extent: &Extent) -> Option<Self> {
        let (first, last) = extent.dates;
        let date_base = first >> 9 << 9;
        let date_bits = bits_below(u64::from(last.checked_sub(date_base)?) + 1).max(9);
        let rank_bits = bits_below(extent.providers as u64);
        let (fewest, most) = extent.scales;
        let unit_twos = QS - u32::from(most).min(QS);
        let unit = 10u64.pow(unit_twos);
        // Below 2³² − 1: larger quantities are aside, never packed (see
        // [`Layout::pack_rows`]), nor in the extent.
        let quantity = u64::try_from(extent.quantity)
            .ok()?
            .min(u64::from(u32::MAX));
        let quantity_bits = bits_below(quantity / unit + 1);
        // At least the unit's twos, so that the quantity's field starts beyond them (see
        // [`Times`]).
        let row_bits = bits_below(extent.rows as u64).max(unit_twos);
        let scale_bits = bits_below(u64::from(most.checked_sub(fewest)?) + 1);
        let row = scale_bits;
        let quantity_at = row + row_bits;
        let rank = quantity_at + quantity_bits;
        let date = rank + rank_bits;
        let key = date + date_bits;
        if key + key_bits > u64::BITS || date_bits > 24 || quantity_bits > 32 || row_bits > 32 {
            return None;
        }
        // The inverse of 5^`unit_twos` modulo 2⁶⁴, by Newton's steps (each doubles the
        // bits that are right; an odd number is its own inverse to 3 bits).
        let five = 5u64.pow(unit_twos);
        let mut unit_inverse = five;
        for _ in 0..5 {
            unit_inverse =
                unit_inverse.wrapping_mul(2u64.wrapping_sub(five.wrapping_mul(unit_inverse)));
        }
        let mask = |bits: u32| (1u64 << bits) - 1;
        let times = Times {
            key: 1 << key,
            date: 1 << date,
            rank: 1 << rank,
            quantity: unit_inverse << (quantity_at - unit_twos),
            row: 1 << row,
        };
        Some(Self {
            wide: false,
            key,
            year: date + 9,
            date,
            date_mask: mask(date_bits),
            date_base,
            rank,
            rank_mask: mask(rank_bits),
            quantity: quantity_at,
            quantity_mask: mask(quantity_bits),
            unit,
            unit_inverse,
            unit_twos,
            row,
            row_mask: mask(row_bits),
            scale: 0,
            scale_mask: mask(scale_bits),
            scale_base: fewest,
            times,
        })
    }

    /// A record of these figures; `None` when a date does not fit the wide fields' 24 bits.
    ///
    /// The narrow fields are sized from the columns' extent, which every row is within: the
    /// dates, quantities and decimals are the columns' own, a rank is below the providers
    /// and a row below the rows, and a quantity written with at most the most decimals is
    /// a whole number of units. So a row always fits, unchecked: the check costs pass 1 a
    /// twentieth of its time (10 M rows). Debug builds check it here; the packing by
    /// [`Layout::fix_parts`]'s tables builds the same record without this function.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn pack<R: Record>(
        &self,
        key: u32,
        date: u32,
        rank: u16,
        q: u32,
        row: u32,
        scale: u8,
    ) -> Option<R> {
        let date = u64::from(date.wrapping_sub(self.date_base));
        let (rank, q, row) = (u64::from(rank), u64::from(q), u64::from(row));
        let scale = u64::from(scale.wrapping_sub(self.scale_base));
        // Known when compiled: the narrow records' dates always fit.
        if R::WIDE && date > self.date_mask {
            return None;
        }
        debug_assert!(
            self.fits(date, rank, q, row, scale),
            "a row beyond the columns' extent"
        );
        Some(R::assemble(self, u64::from(key), date, rank, q, row, scale))
    }

    /// Whether figures as [`Fields::pack`] takes them fit their fields (`q` divided by the
    /// unit exactly, else far beyond the mask).
    fn fits(&self, date: u64, rank: u64, q: u64, row: u64, scale: u64) -> bool {
        let q = q
            .wrapping_mul(self.unit_inverse)
            .rotate_right(self.unit_twos);
        let beyond = (date & !self.date_mask)
            | (rank & !self.rank_mask)
            | (q & !self.quantity_mask)
            | (row & !self.row_mask)
            | (scale & !self.scale_mask);
        beyond == 0
    }

    /// The group key of a record.
    #[inline(always)]
    fn key<R: Record>(&self, r: R) -> usize {
        r.at(self.key) as usize
    }

    /// The group key and year of a record: a new group of lines starts where it changes.
    #[inline(always)]
    fn group_year<R: Record>(&self, r: R) -> u32 {
        r.at(self.year) as u32
    }

    /// The quantity of a record, with [`QS`] decimals.
    #[inline(always)]
    fn quantity<R: Record>(&self, r: R) -> u32 {
        ((r.at(self.quantity) & self.quantity_mask) * self.unit) as u32
    }

    /// The row of a record.
    #[inline(always)]
    fn row<R: Record>(&self, r: R) -> u32 {
        (r.at(self.row) & self.row_mask) as u32
    }

    /// The decimals a record's quantity was written with.
    #[inline(always)]
    fn scale<R: Record>(&self, r: R) -> u8 {
        ((r.at(self.scale) & self.scale_mask) as u8).wrapping_add(self.scale_base)
    }

    /// The date, provider rank, quantity, row and decimals of a record.
    #[inline(always)]
    fn unpack<R: Record>(&self, r: R) -> (u32, u16, u32, u32, u8) {
        (
            ((r.at(self.date) & self.date_mask) as u32).wrapping_add(self.date_base),
            (r.at(self.rank) & self.rank_mask) as u16,
            self.quantity(r),
            self.row(r),
            self.scale(r),
        )
    }
}

/// How pass 1 packs a stateful row, and the range of clients it goes to.
///
/// A record's group key is the client's place in its range, then the element's place among
/// the elements that may be stateful (see [`Keys`]); its other figures lie where [`Fields`]
/// says.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// By element: its place among the elements that may be stateful; `u16::MAX` for others.
    ord: Vec<u16>,
    /// By place: the element.
    elements: Vec<u16>,
    /// Bits of a client's place in its range: a range holds 2^`place_bits` clients.
    place_bits: u32,
    /// A client's keys: one for each of the elements.
    keys: Keys,
    fields: Fields,
    /// See [`Layout::fix_parts`].
    fixed: Option<Box<FixedParts>>,
}

/// The parts of a narrow record that its element and its provider decide, already in
/// place, when one price block serves every provider and date (see [`Layout::fix_parts`]).
#[derive(Debug, Clone)]
struct FixedParts {
    /// By element: its place among the layout's times the key's factor, plus 1; 0 when the
    /// element's rows are not packed (no plan of tiers or caps, or not the layout's).
    element: [u64; 256],
    /// By provider: its rank times the rank's factor.
    rank: [u64; 256],
}

/// The group keys of a client: a record's key is its client's place in the range times
/// the elements, plus its element's place, so that a range's counting sort has a counter
/// for each element a client may have and none for places no element takes (18 elements
/// take 18 a client, not 32: the counters are cleared and summed at every range).
#[derive(Debug, Clone, Copy)]
struct Keys {
    /// Keys a client: the elements (at least 1).
    each: usize,
    /// ⌈2³² / `each`⌉: a key below 2¹⁷ times this, shifted right by 32, is the key divided
    /// by `each` (the error, below 2¹⁷ / 2³², is below 1 / `each` for `each` up to 2⁸).
    inverse: u64,
}

impl Keys {
    fn new(each: usize) -> Self {
        let each = each.clamp(1, 256);
        Self {
            each,
            inverse: (1u64 << 32).div_ceil(each as u64),
        }
    }

    /// The key of element place `ord` of the client at `place`.
    #[inline(always)]
    fn of(self, place: usize, ord: usize) -> usize {
        place * self.each + ord
    }

    /// The client's place and the element's place of key `key` (below 2¹⁷; wrapping, not
    /// panicking, beyond).
    #[inline(always)]
    fn split(self, key: usize) -> (usize, usize) {
        let place = ((key as u64).wrapping_mul(self.inverse) >> 32) as usize;
        (place, key.wrapping_sub(place.wrapping_mul(self.each)))
    }
}

impl Layout {
    /// The layout for the elements marked in `stateful` (by interned element; at most 256),
    /// in 64-bit records when the figures of `extent` fit them and `wide` is not asked for;
    /// ranges of [`place_bits`] when `full`, else of 2 clients (for tests, so that a few
    /// rows fill many).
    pub(crate) fn new(stateful: &[bool], extent: &Extent, wide: bool, full: bool) -> Self {
        let mut ord = vec![u16::MAX; stateful.len()];
        let mut elements = Vec::new();
        for (e, _) in stateful.iter().enumerate().filter(|(_, &s)| s).take(256) {
            ord[e] = elements.len() as u16;
            elements.push(e as u16);
        }
        let ord_bits = usize::BITS - elements.len().saturating_sub(1).leading_zeros();
        let place_bits = if full { place_bits(ord_bits) } else { 1 };
        let fields = match wide {
            true => None,
            false => Fields::narrow(place_bits + ord_bits, extent),
        };
        let keys = Keys::new(elements.len());
        Self {
            ord,
            elements,
            place_bits,
            keys,
            fields: fields.unwrap_or_else(Fields::wide),
            fixed: None,
        }
    }

    /// Gives narrow records their parts by element and by provider (`rank`: the providers'
    /// ranks) in two tables of 256, when the records are narrow, `simple` has one block for
    /// every provider and date, and the elements and providers are that few: the packing
    /// then reads one entry for the element where it read its plan and its place and checked
    /// each, and one for the provider where it read its rank (pass 1 about 3–4 ms less in
    /// 115, one thread).
    pub(crate) fn fix_parts(&mut self, simple: &Simple, rank: &[u16]) {
        let Some(by_element) = simple.uniform_stateful() else {
            return;
        };
        if self.fields.wide || by_element.len() > 256 || rank.len() > 256 || self.ord.len() > 256 {
            return;
        }
        let mut fixed = Box::new(FixedParts {
            element: [0; 256],
            rank: [0; 256],
        });
        for (e, (&plan, &ord)) in by_element.iter().zip(&self.ord).enumerate() {
            if plan != NO_PLAN && ord != u16::MAX {
                fixed.element[e] = u64::from(ord).wrapping_mul(self.fields.times.key) + 1;
            }
        }
        for (p, &r) in rank.iter().enumerate() {
            fixed.rank[p] = u64::from(r).wrapping_mul(self.fields.times.rank);
        }
        self.fixed = Some(fixed);
    }

    /// The number of ranges for `clients` clients.
    pub(crate) fn ranges(&self, clients: usize) -> usize {
        (clients >> self.place_bits) + 1
    }

    /// Empty lists for `clients` clients, of this layout's width.
    pub(crate) fn lists(&self, clients: usize) -> Lists {
        let ranges = self.ranges(clients);
        match self.fields.wide {
            true => Lists::Wide(vec![Vec::new(); ranges]),
            false => Lists::Narrow(vec![Vec::new(); ranges]),
        }
    }

    /// What packing reads, copied so that a loop keeps it in registers: stores to the lists
    /// could otherwise, to the compiler, change the layout.
    fn packer(&self) -> Packer<'_> {
        Packer {
            fields: self.fields,
            ord: &self.ord,
            place_bits: self.place_bits,
            keys: self.keys,
        }
    }

    /// The client at `place` in range `range`.
    #[inline(always)]
    fn client(&self, range: usize, place: usize) -> usize {
        (range << self.place_bits) + place
    }

    /// The client and element of a record in range `range`.
    #[inline(always)]
    fn whose<R: Record>(&self, range: usize, r: R) -> (u32, u16) {
        let (place, ord) = self.keys.split(self.fields.key(r));
        let element = self.elements.get(ord).copied().unwrap_or(u16::MAX);
        (self.client(range, place) as u32, element)
    }

    /// Rows `rows` of `columns` whose plans price them by tiers or caps in scaled integers
    /// (by `simple`; `rank`: the providers' ranks), packed into `fast` (by range of clients);
    /// the others listed in `rest`, for the checked paths.
    pub(crate) fn pack_rows(
        &self,
        simple: &Simple,
        rank: &[u16],
        columns: &Columns,
        rows: &[u32],
        fast: &mut Lists,
        rest: &mut Vec<u32>,
    ) {
        match fast {
            Lists::Narrow(lists) if !self.fields.wide => {
                self.pack_into(simple, rank, columns, rows, lists, rest);
            }
            Lists::Wide(lists) if self.fields.wide => {
                self.pack_into(simple, rank, columns, rows, lists, rest);
            }
            // Not reached: the lists are made by the layout.
            _ => rest.extend_from_slice(rows),
        }
    }

    /// [`Layout::pack_rows`] into lists of records `R`. A function of its own, so that the
    /// loop's figures stay in registers.
    #[inline(never)]
    fn pack_into<R: Record>(
        &self,
        simple: &Simple,
        rank: &[u16],
        columns: &Columns,
        rows: &[u32],
        fast: &mut [Vec<R>],
        rest: &mut Vec<u32>,
    ) {
        if let (Some(fixed), false) = (&self.fixed, R::WIDE) {
            self.pack_fixed(fixed, columns, rows, fast, rest);
            return;
        }
        // One block for every provider and date: the element decides, in a loop of its own.
        match simple.uniform_stateful() {
            Some(by_element) => {
                let plan = |_, element: u16, _| by_element.get(usize::from(element)).copied();
                self.pack_each(rank, columns, rows, fast, rest, plan);
            }
            None => {
                let plan =
                    |provider, element, date| Some(simple.stateful_plan(provider, element, date));
                self.pack_each(rank, columns, rows, fast, rest, plan);
            }
        }
    }

    /// [`Layout::pack_into`] with the parts of [`Layout::fix_parts`], into narrow records.
    #[inline(always)]
    fn pack_fixed<R: Record>(
        &self,
        fixed: &FixedParts,
        columns: &Columns,
        rows: &[u32],
        fast: &mut [Vec<R>],
        rest: &mut Vec<u32>,
    ) {
        let (f, place_bits) = (self.fields, self.place_bits);
        let t = f.times;
        let mask = (1u32 << place_bits) - 1;
        // A client's place times this is its first key's part.
        let place_key = (self.keys.each as u64).wrapping_mul(t.key);
        pack_rows_by(columns, rows, fast, rest, |c, row, i| {
            // The element's part, plus 1 (not 0: packed).
            let element = *fixed.element.get(usize::from(c.element[row]))?;
            let q = c.quantity[row];
            // Not 0, nor aside.
            if element == 0 || !(1..NARROW_SIDE).contains(&q) {
                return None;
            }
            // Every provider of the columns is interned, so below the ranks' count: the
            // entries beyond it (0) are never read.
            let rank = *fixed.rank.get(usize::from(c.provider[row]))?;
            let client = c.client[row];
            let key = u64::from(client & mask)
                .wrapping_mul(place_key)
                .wrapping_add(element - 1);
            let date = u64::from(c.date[row].wrapping_sub(f.date_base));
            // As [`Record::assemble`] puts them (the narrow records' figures always fit).
            let r = key
                | date.wrapping_mul(t.date)
                | rank
                | u64::from(q).wrapping_mul(t.quantity)
                | u64::from(i).wrapping_mul(t.row)
                | u64::from(c.scale[row].wrapping_sub(f.scale_base));
            Some(((client >> place_bits) as usize, R::from_u64(r)))
        });
    }

    /// [`Layout::pack_into`] with each row's stateful plan by `plan(provider, element, date)`.
    #[inline(always)]
    fn pack_each<R: Record>(
        &self,
        rank: &[u16],
        columns: &Columns,
        rows: &[u32],
        fast: &mut [Vec<R>],
        rest: &mut Vec<u32>,
        plan: impl Fn(u16, u16, u32) -> Option<u32>,
    ) {
        let packer = self.packer();
        pack_rows_by(columns, rows, fast, rest, |c, row, i| {
            let (q, provider) = (c.quantity[row], c.provider[row]);
            let (element, date) = (c.element[row], c.date[row]);
            let rank = *rank.get(usize::from(provider))?;
            // Not 0, nor aside.
            if plan(provider, element, date)? == NO_PLAN || !(1..NARROW_SIDE).contains(&q) {
                return None;
            }
            let (client, scale) = (c.client[row], c.scale[row]);
            packer.pack(client, element, date, rank, q, i, scale)
        });
    }

    /// The general records of every packed row (`fast`: by part, by range), for when some
    /// stateful rows need the general path and all must take it.
    pub(crate) fn set_aside(
        &self,
        simple: &Simple,
        rank: &[u16],
        fast: &[Lists],
        out: &mut Vec<SRow>,
    ) {
        fn each<R: Record>(
            layout: &Layout,
            simple: &Simple,
            unrank: &[u16],
            lists: &[Vec<R>],
            out: &mut Vec<SRow>,
        ) {
            for (range, list) in lists.iter().enumerate() {
                for &r in list {
                    let (client, element) = layout.whose(range, r);
                    out.push(srow(layout, simple, unrank, client, element, r));
                }
            }
        }
        let unrank = unrank(rank);
        for lists in fast {
            match lists {
                Lists::Narrow(l) => each(self, simple, &unrank, l, out),
                Lists::Wide(l) => each(self, simple, &unrank, l, out),
            }
        }
    }
}

/// The columns the packing reads, cut to one length, so that one check of a row covers all
/// six.
struct Cut<'c> {
    n: usize,
    quantity: &'c [u32],
    provider: &'c [u16],
    element: &'c [u16],
    date: &'c [u32],
    client: &'c [u32],
    scale: &'c [u8],
}

impl<'c> Cut<'c> {
    fn of(c: &'c Columns) -> Self {
        let n = (c.quantity.len().min(c.provider.len()).min(c.element.len()))
            .min(c.date.len().min(c.client.len()).min(c.scale.len()));
        Self {
            n,
            quantity: &c.quantity[..n],
            provider: &c.provider[..n],
            element: &c.element[..n],
            date: &c.date[..n],
            client: &c.client[..n],
            scale: &c.scale[..n],
        }
    }
}

/// Rows `rows` of `columns` packed by `pack(columns, row as an index, row)` (its range and
/// record, read from the row's own index below the columns' length) into `fast`; the rows
/// it gives no record, or a range beyond the lists, listed in `rest`.
#[inline(always)]
fn pack_rows_by<R: Record>(
    columns: &Columns,
    rows: &[u32],
    fast: &mut [Vec<R>],
    rest: &mut Vec<u32>,
    pack: impl Fn(&Cut<'_>, usize, u32) -> Option<(usize, R)>,
) {
    let cut = Cut::of(columns);
    for &i in rows {
        let row = i as usize;
        let packed = if row < cut.n {
            pack(&cut, row, i)
        } else {
            None
        };
        match packed.and_then(|(range, rec)| Some((fast.get_mut(range)?, rec))) {
            Some((list, rec)) => list.push(rec),
            None => rest.push(i),
        }
    }
}

/// See [`Layout::packer`].
#[derive(Debug, Clone, Copy)]
struct Packer<'l> {
    fields: Fields,
    ord: &'l [u16],
    place_bits: u32,
    keys: Keys,
}

impl Packer<'_> {
    /// The range of a row and its record; `None` when the element is not one of the layout's
    /// or a figure does not fit its field.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn pack<R: Record>(
        &self,
        client: u32,
        element: u16,
        date: u32,
        rank: u16,
        q: u32,
        row: u32,
        scale: u8,
    ) -> Option<(usize, R)> {
        let ord = *self.ord.get(usize::from(element))?;
        if ord == u16::MAX {
            return None;
        }
        let place = client & ((1 << self.place_bits) - 1);
        let key = self.keys.of(place as usize, usize::from(ord)) as u32;
        let r = self.fields.pack(key, date, rank, q, row, scale)?;
        Some(((client >> self.place_bits) as usize, r))
    }
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
fn srow<R: Record>(
    layout: &Layout,
    simple: &Simple,
    unrank: &[u16],
    client: u32,
    element: u16,
    r: R,
) -> SRow {
    let (date, rank, q, row, scale) = layout.fields.unpack(r);
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

    /// Whether there are none.
    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
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
            // Both are known: pass 2 checked every rejection (see `Pass2::knows`).
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
/// 0) and rejects the second. The year so far is the sum of the quantities before, not held
/// at a cap: the parts are the same, as the part up to the cap is the difference of the two
/// sums each held at it.
///
/// Aligned to 64 bytes (from 56), so that an entry's place is its index shifted rather than
/// multiplied, and each entry is one line of the cache (about 1 ms in 127, one thread).
#[derive(Debug, Clone, Copy)]
#[repr(align(64))]
struct Two {
    upper: i64,
    low: i64,
    high: i64,
    /// All ones (−1) when the part beyond is billed (tiers), 0 when rejected (a cap).
    beyond_billed: i64,
    /// The bit of the element's unit code in a client's bits of units. Every group of
    /// records makes a line, as its first does (a cap is above 0), so each record can add
    /// its bit.
    unit_bit: u64,
    /// The plan, its cap's decimals and the element, for a rejection.
    plan: u32,
    cap_scale: u32,
    element: u16,
}

/// [`Two`] by element's place, for every place of at most 8 bits (the places beyond the
/// elements: [`NO_TWO`]).
type Twos = [Two; 256];

/// Prices below this (with [`QS`] decimals) keep a line's unrounded amount (a quantity
/// below 2³² times the price) below 2⁶².
const TWO_PRICE_LIMIT: i64 = 1 << 30;

impl Two {
    /// The figures of `kind`, of `element` in unit `unit`; `None` for [`Kind::General`],
    /// a cap of 0 (no line at all) or figures beyond [`Pass2::value_two`]'s bounds.
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
                    beyond_billed: -1,
                    unit_bit: 1 << unit,
                    plan: NO_PLAN,
                    cap_scale: 0,
                    element,
                })
            }
            Kind::Cap {
                plan,
                price: p,
                cap,
                cap_scale,
            } => (cap > 0 && price.contains(&p)).then_some(Self {
                upper: cap,
                low: p,
                high: 0,
                beyond_billed: 0,
                unit_bit: 1 << unit,
                plan,
                cap_scale,
                element,
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
    beyond_billed: -1,
    unit_bit: 1,
    plan: NO_PLAN,
    cap_scale: 0,
    element: u16::MAX,
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
    /// How many of `overs` are whole.
    whole: u64,
    /// Clients valued through the decimal path: their rejections and sums beyond the
    /// scaled integers.
    slow: Part,
}

/// What every thread of pass 2 reads.
struct Pass2<'s, 'a, R> {
    shared: &'s Shared<'a>,
    simple: &'s Simple,
    layout: &'s Layout,
    ids: &'s Ids,
    unrank: Vec<u16>,
    /// By plan: the decimals the yearly cap is written with, when the plan has one.
    cap_scale: Vec<Option<u32>>,
    fast: &'s [&'s [Vec<R>]],
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
    fast: &[Lists],
    threads: usize,
    part: &mut Part,
) {
    match layout.fields.wide {
        false => value_lists::<u64>(shared, simple, layout, ids, rank, fast, threads, part),
        true => value_lists::<u128>(shared, simple, layout, ids, rank, fast, threads, part),
    }
}

/// [`value_fast`] for records `R`.
#[allow(clippy::too_many_arguments)]
fn value_lists<R: Record>(
    shared: &Shared<'_>,
    simple: &Simple,
    layout: &Layout,
    ids: &Ids,
    rank: &[u16],
    fast: &[Lists],
    threads: usize,
    part: &mut Part,
) {
    let Some(fast) = fast.iter().map(R::lists).collect::<Option<Vec<_>>>() else {
        // Not reached: the lists are made by the layout.
        part.overflow = true;
        return;
    };
    let fast = &fast[..];
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
    let mut pass = Pass2 {
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
    // Every rejection's plan has a cap and its element is interned (not reached otherwise:
    // only plans with a cap reject over it). For the usual shapes, checked here once for
    // every shape that rejects; for the others, as each client's rejections are made.
    let rejecting = |t: &Two| t.beyond_billed == 0;
    if (pass.two.iter().flat_map(|t| t.iter()))
        .any(|t| rejecting(t) && !pass.knows(t.plan, t.element))
    {
        pass.two = None;
    }
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
        whole += out.whole;
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

impl<'s, R: Record> Pass2<'s, '_, R> {
    /// Whether a rejection of plan `plan` and element `element` can be made: the plan has a
    /// cap and the element is interned.
    fn knows(&self, plan: u32, element: u16) -> bool {
        self.cap_scale
            .get(plan as usize)
            .is_some_and(Option::is_some)
            && usize::from(element) < self.ids.elements.len()
    }

    /// The clients of `ranges`, whose sums are `accs` (from client `first` on).
    fn value_ranges(&self, ranges: std::ops::Range<usize>, first: usize, accs: &mut [Acc]) -> Out {
        let layout = self.layout;
        let mut out = Out {
            overs: Vec::new(),
            whole: 0,
            slow: Part::default(),
        };
        let fields = self.layout.fields;
        let mut scratch: Vec<R> = Vec::new();
        let mut sorted: Vec<R> = Vec::new();
        let mut spare: Vec<u64> = Vec::new();
        let keys = layout.keys;
        let per_client = keys.each;
        let clients = 1usize << layout.place_bits;
        // After placing: `next[k]` is where bucket `k` ends (and `k + 1` starts). In 32 bits,
        // so that the counters take half the cache.
        let mut next = vec![0u32; per_client * clients + 1];
        // The records of these ranges, those read so far, and whether the rejections have
        // been given their room (see [`expect_room`]).
        let count = |range: usize| -> usize {
            (self.fast.iter())
                .map(|lists| lists.get(range).map_or(0, Vec::len))
                .sum()
        };
        let (all, mut done, mut sized) = (ranges.clone().map(count).sum(), 0usize, false);
        for range in ranges {
            if !sized && !out.overs.is_empty() {
                expect_room(&mut out.overs, done, all);
                sized = true;
            }
            let list = |lists: &'s [Vec<R>]| lists.get(range).map_or(&[][..], Vec::as_slice);
            // One part's list is read where it is; several are put together first.
            let records: &[R] = match self.fast {
                [one] => list(one),
                parts => {
                    scratch.clear();
                    for &lists in parts {
                        scratch.extend_from_slice(list(lists));
                    }
                    &scratch
                }
            };
            if records.is_empty() {
                continue;
            }
            done += records.len();
            // Counted in 32 bits: a range of more records (more than 32 GiB) is beyond the
            // scaled integers.
            if u32::try_from(records.len()).is_err() {
                out.slow.overflow = true;
                continue;
            }
            let long = group_by_key(&fields, records, &mut next, &mut sorted);
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
                let (place, _) = keys.split(fields.key(sorted[lo]));
                let ends = &next[place * per_client..(place + 1) * per_client];
                let hi = (ends[per_client - 1] as usize).clamp(lo + 1, sorted.len());
                let client = layout.client(range, place);
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
    /// to `spare` as a possible rejection over a cap (its index in `recs`, below 2³¹, and
    /// its excess) and kept only where it is one. Each row counts as a line of its whole
    /// quantity; the rejections kept are then taken back from their clients' sums (their
    /// excess, and their line when wholly over the cap), which costs far less than telling
    /// each row's billed quantity and line apart (about 3 ms in 57). No sum can leave the
    /// range while a client has fewer than [`TWO_ROWS`] rows (each row's cents below 2⁴³,
    /// its quantity below 2³²); a client with more goes through the decimal path.
    ///
    /// Not inlined, nor are the grouping and ordering before it: inlined into the loop over
    /// the ranges, their loops' figures were pushed out of the registers.
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn value_two(
        &self,
        range: usize,
        recs: &[R],
        (ends, per_client): (&[u32], usize),
        two: &Twos,
        first: usize,
        accs: &mut [Acc],
        spare: &mut Vec<u64>,
        out: &mut Out,
    ) {
        const HALF: i64 = 500_000;
        const CENT: i64 = 1_000_000;
        let layout = self.layout;
        let fields = layout.fields;
        let keys = layout.keys;
        // One place more than the rows: the last row writes one beyond the last kept.
        if spare.len() <= recs.len() {
            spare.resize(recs.len() + 1, 0);
        }
        let mut kept = 0usize;
        let mut lo = 0usize;
        while let Some(&head) = recs.get(lo) {
            let (place, _) = keys.split(fields.key(head));
            // The client's first key: a record's less this is its element's place.
            let base = keys.of(place, 0);
            // The client's records end where its last group does.
            let hi = ends
                .get((place + 1) * per_client - 1)
                .map_or(lo + 1, |&end| (end as usize).clamp(lo + 1, recs.len()));
            let before = kept;
            // Cents, quantity ([`QS`] decimals), and a bit for each unit. Each row is a line
            // of its whole quantity here; a rejection's excess, and its line when it is
            // wholly over its cap, are taken back with the rejections below.
            let (mut cents, mut quantity, mut units) = (0i64, 0i64, 0u64);
            // The group and year, and the quantity so far.
            let (mut group, mut so_far) = (u32::MAX, 0i64);
            for (at, &r) in (lo as u64..).zip(recs.get(lo..hi).unwrap_or_default()) {
                let same = fields.group_year(r) == group;
                group = fields.group_year(r);
                so_far = pick(same, so_far, 0);
                let p = &two[fields.key(r).wrapping_sub(base) as u8 as usize];
                let q = i64::from(fields.quantity(r));
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
                quantity = quantity.wrapping_add(q);
                // A row wholly over its cap makes no line, but never a group's first (a cap
                // is above 0): each element's unit is the client's when it has a group.
                units |= p.unit_bit;
                // Every row is written where the next rejection goes; kept only when one:
                // the excess (below 2³²) and the row's index. Whether it is in part within
                // the cap is told later, by an excess below its quantity.
                if let Some(slot) = spare.get_mut(kept) {
                    *slot = beyond as u64 & u64::from(u32::MAX) | at << 32;
                }
                // A rejection when a cap's part beyond is above 0, in one comparison: written
                // as two, the compiler branched on the first, and the branch missed often
                // enough to cost pass 2 a sixth more time.
                kept += usize::from((beyond & !p.beyond_billed) > 0);
                so_far = end;
            }
            let client = layout.client(range, place);
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
            match (amount, u32::try_from(hi - lo)) {
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
        // When every quantity was written with the same decimals, the rows before a
        // rejection have its row's: its decimals are told without looking back.
        let one_scale = fields.scale_mask == 0;
        // The rejections kept, made compact, and taken back from their clients' sums.
        for &packed in spare.get(..kept).unwrap_or_default() {
            let at = (packed >> 32) as usize & ((1 << 31) - 1);
            let Some(&r) = recs.get(at) else {
                continue;
            };
            let (place, ord) = keys.split(fields.key(r));
            let p = &two[ord as u8 as usize];
            let (row, scale) = (fields.row(r), fields.scale(r));
            let excess = i64::from(packed as u32);
            let partial = excess < i64::from(fields.quantity(r));
            let client = layout.client(range, place);
            if let Some(acc) = client.checked_sub(first).and_then(|c| accs.get_mut(c)) {
                acc.take_back(excess, !partial);
            }
            // In part: the larger of the decimals of the row, the cap and the year so far
            // (the rows before it in its group: one row a group and year is in part).
            let scale = match (partial, one_scale) {
                // The cap's decimals by a mask, as whether a rejection is in part is a coin
                // toss to the processor. The compiler turned a plain mask back into a branch
                // (about 1.5 ms a run, one thread): `black_box` hides where the mask comes
                // from. (`std::hint::select_unpredictable` says this, from Rust 1.88.)
                (_, true) => {
                    let in_part = std::hint::black_box(u8::from(partial).wrapping_neg());
                    scale.max(p.cap_scale as u8 & in_part)
                }
                (false, false) => scale,
                (true, false) => (recs.get(..at).unwrap_or_default().iter())
                    .rev()
                    .take_while(|&&b| fields.group_year(b) == fields.group_year(r))
                    .fold(scale.max(p.cap_scale as u8), |m, &b| m.max(fields.scale(b))),
            };
            out.whole += u64::from(!partial);
            out.overs.push(Over {
                row,
                plan: p.plan,
                excess,
                element: p.element,
                scale,
                partial,
            });
        }
    }

    /// One client's records through the decimal path, added to its sums `acc`.
    fn value_decimal(&self, client: u32, recs: &[R], acc: &mut Acc, out: &mut Out) {
        let layout = self.layout;
        let range = client as usize >> layout.place_bits;
        let rows = recs.iter().map(|&r| {
            let (_, element) = layout.whose(range, r);
            srow(layout, self.simple, &self.unrank, client, element, r)
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
        recs: &mut [R],
        lo: usize,
        ends: &[u32],
        acc: &mut Acc,
        out: &mut Out,
    ) {
        let before = out.overs.len();
        let mut sums = Acc::default();
        let mut fits = true;
        let mut start = 0usize;
        let keys = self.layout.keys;
        // Group by group (one element each), only those with records.
        while start < recs.len() {
            let fields = &self.layout.fields;
            let (_, ord) = keys.split(fields.key(recs[start]));
            let end = (ends[ord] as usize)
                .saturating_sub(lo)
                .clamp(start + 1, recs.len());
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
                        fields,
                        group,
                        (plan, element, unit),
                        price,
                        (cap, cap_scale),
                        sums,
                        overs,
                    ),
                    Kind::Tiers { upper, low, high } => {
                        value_tiers(fields, group, unit, upper, low, high, sums)
                    }
                }
                .is_some();
            start = end;
        }
        if fits {
            for o in out.overs.get(before..).unwrap_or_default() {
                out.whole += u64::from(!o.partial);
                out.slow.overflow |= !self.knows(o.plan, o.element);
            }
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
        group: &[R],
        sums: &mut Acc,
        overs: &mut Vec<Over>,
    ) -> Option<()> {
        let unit = self.shared.unit_code(usize::from(element));
        let plans = &self.shared.plans.plans;
        let (mut year, mut so_far, mut so_far_scale) = (u32::MAX, 0i64, 0u32);
        for &r in group {
            let (date, rank, q, row, scale) = self.layout.fields.unpack(r);
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
fn value_capped<R: Record>(
    fields: &Fields,
    group: &[R],
    (plan, element, unit): (u32, u16, u8),
    price: i64,
    (cap, cap_scale): (i64, u32),
    sums: &mut Acc,
    overs: &mut Vec<Over>,
) -> Option<()> {
    let (mut year, mut so_far, mut so_far_scale) = (u32::MAX, 0i64, 0u32);
    for &r in group {
        let (date, _, q, row, scale) = fields.unpack(r);
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
fn value_tiers<R: Record>(
    fields: &Fields,
    group: &[R],
    unit: u8,
    upper: i64,
    low: i64,
    high: i64,
    sums: &mut Acc,
) -> Option<()> {
    let (mut year, mut so_far) = (u32::MAX, 0i64);
    for &r in group {
        let (date, _, q, _, _) = fields.unpack(r);
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

/// A counting sort of `records` by group (clients in order, each client's elements in
/// order) into `sorted`, after which group `k` ends at `next[k]` (`next` has a place for
/// every key and one more); true when some group is longer than [`SMALL_GROUP`].
///
/// A function of its own, so that its loops keep their figures in registers: inlined
/// into pass 2's, they read the key's shift and the counters' place back from memory at
/// every record.
#[inline(never)]
fn group_by_key<R: Record>(
    fields: &Fields,
    records: &[R],
    next: &mut [u32],
    sorted: &mut Vec<R>,
) -> bool {
    next.fill(0);
    // The first reading of the range's records, which pass 1 wrote long before: eight
    // records a line, the line 2 KiB ahead asked for with each line's first (pass 2 took
    // about 1.5 ms less in 57; 1 or 8 KiB ahead, about the same).
    const AHEAD: usize = 256;
    for (k, &r) in records.iter().enumerate() {
        if k % 8 == 0 {
            if let Some(a) = records.get(k + AHEAD) {
                mem_prefetch::prefetch_read_data::<_, 3>(a);
            }
        }
        next[fields.key(r) + 1] += 1;
    }
    let mut long = false;
    for k in 1..next.len() {
        long |= next[k] as usize > SMALL_GROUP;
        next[k] += next[k - 1];
    }
    sorted.clear();
    sorted.resize(records.len(), R::default());
    for &r in records {
        let at = &mut next[fields.key(r)];
        sorted[*at as usize] = r;
        *at += 1;
    }
    long
}

/// Puts each group of a range's records (`v`, grouped by key; group `k` ends at `ends[k]`)
/// in order: the groups longer than [`SMALL_GROUP`], if any (`long`), by the standard sort,
/// then all by one pass of insertion, which a group's smaller key stops at its start.
///
/// Whether a record goes before the one ahead of it is a coin toss to the processor, so
/// each record and the one ahead are put in order without a branch; only a record that
/// goes back further (rare: groups are short) takes the loop.
#[inline(never)]
fn sort_groups<R: Record>(v: &mut [R], ends: &[u32], long: bool) {
    if long {
        let mut start = 0usize;
        for &end in ends {
            let end = end as usize;
            if end.saturating_sub(start) > SMALL_GROUP {
                if let Some(group) = v.get_mut(start..end) {
                    group.sort_unstable();
                }
            }
            start = end;
        }
    }
    // `v[..i - 2]` and then `a` and `b` are in order: the groups are, and their keys rise.
    // `a` and `b`, the records at `i - 2` and `i - 1`, are kept in registers, and stored
    // only as a later record's `v[i - 2]` or after the loop (nothing reads them before).
    // Two records, not one: a record that goes back two places (one in 15 of the
    // benchmark's) then takes no branch either.
    let [first, second, ..] = *v else {
        return;
    };
    let (mut a, mut b) = (first.min(second), first.max(second));
    for i in 2..v.len() {
        let x = v[i];
        let (lo, up) = (a.min(x), a.max(x));
        v[i - 2] = lo;
        (a, b) = (up.min(b), up.max(b));
        // Further back only if the record three ahead is larger too (never when `x` did not
        // go before `a`: that record is at most the old `a`); for `i` = 2 it is the record
        // just put first.
        if v[i.saturating_sub(3)] > lo {
            let mut j = i - 2;
            while j > 0 && v[j - 1] > lo {
                v[j] = v[j - 1];
                j -= 1;
            }
            v[j] = lo;
        }
    }
    if let [.., second_last, last] = v {
        (*second_last, *last) = (a, b);
    }
}

/// Sorts a group's records: by insertion when few (the usual case), else by the standard
/// sort.
#[inline]
fn sort_small<R: Record>(v: &mut [R]) {
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
    fn grouped_records_sort_as_the_standard_sort_does() {
        // Groups of 0 to 59 records (some beyond `SMALL_GROUP`), each group's key in the
        // high bits and rising, the rest of each record drawn at random; a few records
        // equal. The ordering must put each group in order, as a whole sort does.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for round in 0..200 {
            let (mut v, mut ends) = (Vec::new(), Vec::new());
            for key in 0..next(12) {
                let len = match round % 4 {
                    0 => next(60),
                    _ => next(5),
                };
                for _ in 0..len {
                    v.push(key << 40 | next(if round % 3 == 0 { 4 } else { 1 << 20 }));
                }
                ends.push(v.len() as u32);
            }
            let mut want = v.clone();
            want.sort_unstable();
            // Either way: the standard sort of the long groups first only saves time.
            sort_groups(&mut v, &ends, round % 2 == 0);
            assert_eq!(v, want, "round {round}");
        }
    }

    /// Columns of 10 rows, 10 providers, dates in 2024 and 2025, quantities up to 4.00
    /// written with 1 or 2 decimals.
    const EXTENT: Extent = Extent {
        rows: 10,
        providers: 10,
        dates: (2024 << 9 | 1 << 5 | 1, 2025 << 9 | 12 << 5 | 31),
        quantity: 40_000,
        scales: (1, 2),
    };

    #[test]
    fn a_groups_order_is_date_rank_quantity_row() {
        // The general path orders a client's stateful rows of an element by date, provider,
        // quantity, then row; the decimals written never decide. Both widths.
        for wide in [true, false] {
            let layout = Layout::new(&[false, true, false, true], &EXTENT, wide, false);
            let packer = layout.packer();
            assert_eq!(layout.fields.wide, wide);
            let d = |month: u32, day: u32| 2024 << 9 | month << 5 | day;
            // A record of either width, as 128 bits (a narrow one keeps its order and bits).
            let pack = |client, element, date, rank, q, row, scale| match wide {
                true => packer.pack::<u128>(client, element, date, rank, q, row, scale),
                false => packer
                    .pack::<u64>(client, element, date, rank, q, row, scale)
                    .map(|(range, r)| (range, u128::from(r))),
            };
            let rec = |date, rank, q, row, scale| pack(6, 3, date, rank, q, row, scale).unwrap().1;
            let a = rec(d(3, 5), 9, 100, 7, 2);
            assert!(rec(d(3, 4), 9, 40_000, 9, 1) < a);
            assert!(rec(d(2, 28), 9, 40_000, 9, 1) < a);
            assert!(rec(d(3, 5), 8, 40_000, 9, 1) < a);
            assert!(rec(d(3, 5), 9, 0, 9, 1) < a);
            assert!(rec(d(3, 5), 9, 100, 6, 2) < a);
            assert_eq!(layout.fields.unpack(a), (d(3, 5), 9, 100, 7, 2));
            // A group and year changes with the year, not with the day.
            let fields = layout.fields;
            let next_year = rec(2025 << 9 | 1 << 5 | 1, 0, 100, 0, 2);
            assert_eq!(
                fields.group_year(rec(d(1, 1), 0, 100, 0, 2)),
                fields.group_year(a)
            );
            assert_ne!(fields.group_year(next_year), fields.group_year(a));
            // Client 6 is the first of range 3 (two clients a range in tests); element 3 is
            // the second stateful one.
            let range = pack(6, 3, d(3, 5), 9, 100, 7, 2).map(|(g, _)| g);
            assert_eq!(range, Some(3));
            assert_eq!(layout.whose(3, a), (6, 3));
            let b = pack(7, 1, d(3, 5), 9, 100, 7, 2).unwrap().1;
            assert_eq!(layout.whose(3, b), (7, 1));
            // Elements that are never stateful are not packed.
            assert_eq!(pack(6, 2, d(3, 5), 9, 100, 7, 2), None);
            assert_eq!(pack(6, 9, d(3, 5), 9, 100, 7, 2), None);
            // Nor, in 128 bits, dates beyond 24 bits.
            if wide {
                assert_eq!(pack(6, 3, 1 << 24, 9, 100, 7, 2), None);
            }
        }
    }

    #[test]
    fn keys_split_back_into_their_places_for_every_layout() {
        // Every number of elements a layout takes, every key its ranges give (outside
        // tests): the division by multiplication is exact.
        for each in 1..=256usize {
            let keys = Keys::new(each);
            let ord_bits = usize::BITS - (each - 1).leading_zeros();
            for key in 0..each << place_bits(ord_bits) {
                assert_eq!(keys.split(key), (key / each, key % each), "{each} {key}");
                let (place, ord) = keys.split(key);
                assert_eq!(keys.of(place, ord), key);
            }
        }
    }

    #[test]
    fn narrow_records_take_only_the_bits_the_columns_need() {
        // 10 rows (4 bits), 10 providers (4), two years of dates (10), quantities up to 400
        // hundredths (9) and 1 or 2 decimals (1): with a key of 13 bits, 41 in all.
        let f = Fields::narrow(13, &EXTENT).unwrap();
        assert_eq!((f.scale, f.row, f.quantity, f.rank), (0, 1, 5, 14));
        assert_eq!((f.date, f.year, f.key), (18, 27, 28));
        assert_eq!((f.unit, f.date_base), (100, 2024 << 9));
        // The benchmark's columns, with a key of 13 bits: 59 (see [`Fields`], with 15).
        let bench = Extent {
            rows: 10_000_000,
            dates: (2024 << 9 | 1 << 5 | 1, 2024 << 9 | 12 << 5 | 28),
            scales: (2, 2),
            ..EXTENT
        };
        assert_eq!(Fields::narrow(13, &bench).map(|f| f.key + 13), Some(59));
        // Figures beyond the fields do not fit: a quantity that is not a whole number of
        // hundredths, or beyond 5.11 (9 bits); a date before 2024 or after 2025; rank 16;
        // row 16; decimals other than 1 or 2 (1 bit from 1).
        let day = 2024 << 9 | 1 << 5 | 1;
        let most = f.pack::<u64>(1, day, 15, 51_100, 15, 2);
        assert_eq!(most.map(|r| f.unpack(r)), Some((day, 15, 51_100, 15, 2)));
        // As `pack` takes them.
        let fits = |date: u32, rank: u64, q: u64, row: u64, scale: u8| {
            f.fits(
                u64::from(date.wrapping_sub(f.date_base)),
                rank,
                q,
                row,
                u64::from(scale.wrapping_sub(f.scale_base)),
            )
        };
        assert!(fits(day, 15, 51_100, 15, 2));
        for (date, rank, q, row, scale) in [
            (day, 9, 40_001, 9, 1),
            (day, 9, 150, 9, 1),
            (day, 9, 51_200, 9, 1),
            (2023 << 9 | 12 << 5 | 31, 9, 100, 9, 1),
            (2026 << 9 | 1 << 5 | 1, 9, 100, 9, 1),
            (day, 16, 100, 9, 1),
            (day, 9, 100, 16, 1),
            (day, 9, 100, 9, 3),
            (day, 9, 100, 9, 0),
        ] {
            assert!(
                !fits(date, rank, q, row, scale),
                "{date} {rank} {q} {row} {scale}"
            );
        }
        // Quantities with four decimals: a unit of one, and 4.0000 takes 16 bits.
        let fine = Extent {
            scales: (0, 4),
            ..EXTENT
        };
        let f = Fields::narrow(13, &fine).unwrap();
        assert_eq!((f.unit, f.rank - f.quantity), (1, 16));
        assert_eq!(
            f.pack::<u64>(1, day, 0, 12_345, 0, 4)
                .map(|r| f.quantity(r)),
            Some(12_345)
        );
        // A quantity of 2³² − 1 or more (with four decimals) is kept aside, never packed:
        // the field need not hold it, and 42,949,672.95 takes 26 bits in hundredths.
        let huge = Extent {
            quantity: i64::MAX,
            ..EXTENT
        };
        assert_eq!(
            Fields::narrow(13, &huge).map(|f| f.rank - f.quantity),
            Some(26)
        );
        // Too many figures for 64 bits: the wide layout.
        let many = Extent {
            rows: 1 << 32,
            ..fine
        };
        assert!(Fields::narrow(13, &many).is_none());
        assert!(Layout::new(&[true], &many, false, false).fields.wide);
    }
}
