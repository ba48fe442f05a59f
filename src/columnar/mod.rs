//! The columnar fast path: valuation and per-client rollup of millions of deliveries.
//!
//! [`Columns`] holds deliveries as struct-of-arrays: interned `u32` client ids, `u16`
//! provider and element ids, packed dates and quantities as `u32` with four decimals (17
//! bytes a row plus the id tables; a larger or unusual quantity is kept exact aside).
//! [`value_by_client`] values them and totals them by client, on one thread or several;
//! [`value_csv_by_client`] does the same while reading a deliveries file, with memory
//! bounded by the number of clients (plus the rows whose price depends on the client's year:
//! tiers and caps).
//!
//! The result is the general path's to the cent: the same rounded amounts, lines, billed
//! quantities, units, rows valued and rejected and rejections ([`crate::value`] followed by a
//! [`Rollup`] by client). Prices are scaled integers with checked arithmetic and the
//! table's rounding applied exactly in integers; a row or a client whose figures do not fit
//! goes through the general path's decimal helpers instead. Tiers and caps are counted per
//! client, element and calendar year in the general path's fixed order (client, element,
//! date, provider, quantity, then input row).
//!
//! ```
//! use aidcost::columnar::{value_by_client, Columns, ColumnarOptions};
//! use aidcost::{value, Catalog, Context, Delivery, GroupBy, PriceBook, Rollup, RollupContext,
//!               ValuationOptions};
//! let catalog = Catalog::shipped()?;
//! let book = PriceBook::shipped(&catalog)?;
//! let deliveries = vec![
//!     Delivery::new("2024-03-04".parse()?, "PRV-KAUNAS".parse()?, "C-1".parse()?,
//!                   "LEGAL_CONSULT".parse()?, "1.1".parse()?),
//!     Delivery::new("2024-03-04".parse()?, "PRV-KAUNAS".parse()?, "C-1".parse()?,
//!                   "SHELTER".parse()?, "3".parse()?),
//! ];
//! let cx = Context { catalog: &catalog, book: &book, clients: None };
//! let columns = Columns::from_deliveries(&deliveries, &catalog)?;
//! let fast = value_by_client(&columns, cx, ColumnarOptions::threads(2))?;
//!
//! let general = value(&deliveries, cx, ValuationOptions::default())?;
//! let mut by_client = Rollup::new(&[GroupBy::Client])?;
//! by_client.extend(general.views(&book), RollupContext { catalog: &catalog, clients: None })?;
//! assert_eq!(fast.to_rollup()?, by_client);
//! assert_eq!(fast.total(), general.total());
//! # Ok::<(), aidcost::Error>(())
//! ```

mod csv;
mod engine;
mod plan;
mod stateful;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use crate::catalog::Catalog;
use crate::delivery::Delivery;
use crate::error::{Error, Result};
use crate::id::{ClientId, ElementCode, ProviderId};
use crate::money::{Money, Quantity};
use crate::rollup::{GroupBy, KeyPart, Rollup, Totals};
use crate::valuation::{Context, Rejection};

pub use self::csv::value_csv_by_client;
use self::engine::{packed, Add, Part, RowIn, Shared, Side, Simple, BLOCK, SIDE};
use self::plan::{from_scaled, to_scaled, QS};

/// A narrow quantity whose row's quantity (or unit) is in [`Columns`]' side entries; any
/// other is the quantity with [`QS`] decimals. Beyond every simple quantity, and never
/// packed.
const NARROW_SIDE: u32 = u32::MAX;

/// A narrow quantity as the checked paths take it: [`SIDE`] for [`NARROW_SIDE`].
#[inline(always)]
fn wide(q: u32) -> i64 {
    match q {
        NARROW_SIDE => SIDE,
        q => i64::from(q),
    }
}

/// Rows per chunk of the tight loop (few in tests, so that a piece has many).
const CHUNK: usize = if cfg!(test) { 5 } else { 4096 };

/// A piece of rows of a mixed block at least this long is read twice (see the readings in
/// `value_columns`).
const TWO_READINGS: usize = if cfg!(test) { 2 } else { 1 << 20 };

/// Fewer rows than this are not worth a thread each.
pub(crate) const MIN_PARALLEL_ROWS: usize = if cfg!(test) { 2 } else { 1 << 14 };

/// Options of the fast path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ColumnarOptions {
    /// Threads to use (at least 1).
    pub threads: usize,
    /// Records of 128 bits for the rows priced by tiers or caps even when 64 fit, so that
    /// tests cover both widths.
    pub(crate) wide: bool,
    /// Ranges of clients for the tiers and caps of the size a release build takes (up to
    /// 1,024 clients), where tests otherwise take 2 so that a few rows fill many.
    pub(crate) full_ranges: bool,
}

impl Default for ColumnarOptions {
    /// One thread.
    fn default() -> Self {
        Self {
            threads: 1,
            wide: false,
            full_ranges: false,
        }
    }
}

impl ColumnarOptions {
    /// Use `threads` threads (0 counts as 1).
    pub fn threads(threads: usize) -> Self {
        Self {
            threads: threads.max(1),
            wide: false,
            full_ranges: false,
        }
    }
}

/// What the fast path gives: the counts, the total, the rejections and the totals by client,
/// each equal to what [`crate::value`] and a [`Rollup`] by client give.
///
/// The totals are kept as a plain list (building a [`Rollup`] of hundreds of thousands of
/// groups costs more than valuing millions of rows); [`ByClient::to_rollup`] makes one.
#[derive(Debug, Clone)]
pub struct ByClient {
    rows_read: u64,
    rows_valued: u64,
    rows_rejected: u64,
    total: Money,
    /// The rejections made as they were met, by row.
    made: Vec<Rejection>,
    /// The rejections over a cap of the rows priced in scaled integers, compact.
    overs: stateful::Overs,
    /// Both, by row, made on first use.
    rejections: OnceLock<Vec<Rejection>>,
    /// The client ids, by interned number, shared with the columns or the reader that
    /// interned them rather than cloned one by one (a clone changes the id's count of owners
    /// atomically: 200,000 clones took about 1 ms of a run of 0.11 s with tiers and caps, and
    /// 1.4 ms of one of 0.036 s with flat prices, one thread).
    ids: Arc<Vec<ClientId>>,
    /// Every client with at least one line, by number in `ids`, in no particular order, in
    /// the pieces the fast path's threads built (one list from the general path).
    clients: Vec<Vec<(u32, Totals)>>,
}

impl ByClient {
    /// Rows read.
    pub fn rows_read(&self) -> u64 {
        self.rows_read
    }
    /// Rows valued (wholly, or within a cap).
    pub fn rows_valued(&self) -> u64 {
        self.rows_valued
    }
    /// Rows wholly rejected.
    pub fn rows_rejected(&self) -> u64 {
        self.rows_rejected
    }
    /// The sum of the rounded line amounts.
    pub fn total(&self) -> Money {
        self.total
    }
    /// The rejections (whole and partial), by row.
    ///
    /// Rejections over a cap are kept compact (24 bytes each) until this is first called:
    /// a year's data may have hundreds of thousands of them, and a caller that only wants
    /// the totals and counts never pays for making them.
    pub fn rejections(&self) -> &[Rejection] {
        self.rejections
            .get_or_init(|| self.overs.merged(&self.made))
    }
    /// The number of clients with at least one line.
    pub fn len(&self) -> usize {
        self.clients.iter().map(Vec::len).sum()
    }
    /// True when no client has a line.
    pub fn is_empty(&self) -> bool {
        self.clients.iter().all(Vec::is_empty)
    }
    /// The totals of each client with at least one line, by client id.
    pub fn by_client(&self) -> Vec<(&ClientId, &Totals)> {
        // Sorted on each id's first 16 bytes, read once, as a number; only ids that share
        // them are compared in full (their bytes live apart, one cache miss each).
        let mut all: Vec<(u128, &ClientId, &Totals)> = self
            .totals()
            .map(|(c, t)| (order_prefix(c.as_str()), c, t))
            .collect();
        all.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
        all.into_iter().map(|(_, c, t)| (c, t)).collect()
    }
    /// The totals as a [`Rollup`] by client, equal to the general path's.
    ///
    /// # Errors
    ///
    /// [`Error::Overflow`] when the grand total leaves the decimal range.
    pub fn to_rollup(&self) -> Result<Rollup> {
        let mut rollup = Rollup::new(&[GroupBy::Client])?;
        for (client, totals) in self.totals() {
            rollup.add_client_totals(client.clone(), *totals)?;
        }
        Ok(rollup)
    }
    /// Each client's totals, in no particular order (a number beyond `ids`, not reached,
    /// is passed over).
    fn totals(&self) -> impl Iterator<Item = (&ClientId, &Totals)> {
        (self.clients.iter().flatten()).filter_map(|(c, t)| Some((self.ids.get(*c as usize)?, t)))
    }
    /// From a general path's valuation rolled up by client.
    pub(crate) fn from_general(v: &crate::Valuation<'_>, rollup: &Rollup) -> Self {
        let (ids, clients): (Vec<ClientId>, Vec<(u32, Totals)>) = rollup
            .groups()
            .filter_map(|(k, t)| match k.parts().next() {
                Some(KeyPart::Client(c)) => Some((c.clone(), *t)),
                _ => None,
            })
            .zip(0..=u32::MAX)
            .map(|((c, t), i)| (c, (i, t)))
            .unzip();
        Self {
            rows_read: v.rows_read(),
            rows_valued: v.rows_valued(),
            rows_rejected: v.rows_rejected(),
            total: v.total(),
            made: v.rejections().to_vec(),
            overs: stateful::Overs::default(),
            rejections: OnceLock::new(),
            ids: Arc::new(ids),
            clients: vec![clients],
        }
    }
}

/// The first 16 bytes of `s`, zero-padded, as a big-endian number: when two strings' numbers
/// differ, they order as the strings do (at the first byte that differs, either both strings
/// have it, or the shorter one has ended and its zero is at most the other's byte; a string
/// that has ended is the lesser). Equal numbers say nothing.
fn order_prefix(s: &str) -> u128 {
    let mut w = [0u8; 16];
    let n = s.len().min(16);
    w[..n].copy_from_slice(&s.as_bytes()[..n]);
    u128::from_be_bytes(w)
}

/// FxHash (rustc's hash): fast for short keys; the keys here are ids, not attacker-chosen.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }
    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        // The table takes its bucket from the low bits, which the multiply leaves depending on
        // the low input bits only (the first bytes of an id, often the same): mix the high
        // bits down.
        let h = self.hash;
        (h ^ (h >> 32)).wrapping_mul(FX_SEED) ^ (h >> 29)
    }
}

pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// An empty slot of an [`IdMap`].
const EMPTY: u32 = u32::MAX;

/// A hash map from ids to numbers that keeps ids of up to 16 bytes in the table itself (one
/// memory access and two word compares a lookup); longer ids go to an ordinary map.
///
/// The table is a list of buckets of two slots, one cache line each; a lookup probes its
/// bucket's two slots, then the next bucket's (linear probing by bucket): at most half the
/// slots are taken, so a lookup rarely reads more than the one line that
/// [`IdMap::prefetch`] asked for ahead of it.
#[derive(Debug, Clone, Default)]
pub(crate) struct IdMap {
    buckets: Vec<Bucket>,
    len: usize,
    long: FxMap<Box<[u8]>, u32>,
}

/// Two slots, a cache line.
#[derive(Debug, Clone, Copy)]
#[repr(align(64))]
struct Bucket([Slot; 2]);

#[derive(Debug, Clone, Copy)]
struct Slot {
    a: u64,
    b: u64,
    len: u32,
    id: u32,
}

/// A vacant slot: its length is no id's, so a lookup's compare never matches it.
const VACANT: Slot = Slot {
    a: 0,
    b: 0,
    len: u32::MAX,
    id: EMPTY,
};

impl IdMap {
    /// An id of up to 16 bytes as two little-endian words, zero-padded, read with at most
    /// two loads each (overlapping, then shifted) rather than a copy of variable length.
    #[inline]
    fn words(s: &[u8]) -> (u64, u64) {
        #[inline(always)]
        fn load8(s: &[u8], at: usize) -> u64 {
            let mut w = [0u8; 8];
            w.copy_from_slice(&s[at..at + 8]);
            u64::from_le_bytes(w)
        }
        #[inline(always)]
        fn load4(s: &[u8], at: usize) -> u64 {
            let mut w = [0u8; 4];
            w.copy_from_slice(&s[at..at + 4]);
            u64::from(u32::from_le_bytes(w))
        }
        let n = s.len();
        match n {
            // The bytes past 8, shifted down from the last eight.
            9..=16 => (load8(s, 0), load8(s, n - 8) >> (8 * (16 - n))),
            8 => (load8(s, 0), 0),
            // The last four shifted up over the first four: where they overlap, the same bytes.
            4..=7 => (load4(s, 0) | (load4(s, n - 4) << (8 * (n - 4))), 0),
            _ => (
                s.iter()
                    .take(8)
                    .rev()
                    .fold(0u64, |w, &b| (w << 8) | u64::from(b)),
                0,
            ),
        }
    }

    #[inline]
    fn hash(a: u64, b: u64, len: usize) -> u64 {
        let mut h = a.wrapping_mul(FX_SEED) ^ b.rotate_left(31) ^ (len as u64);
        h ^= h >> 32;
        h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h ^ (h >> 29)
    }

    #[inline(always)]
    pub(crate) fn get(&self, s: &[u8]) -> Option<u32> {
        match Key::of(s) {
            Some(key) => self.get_key(&key),
            None => self.get_long(s),
        }
    }

    /// The number of the id whose key is `key`.
    #[inline(always)]
    pub(crate) fn get_key(&self, key: &Key) -> Option<u32> {
        if self.buckets.is_empty() {
            return None;
        }
        let Key { a, b, len, hash } = *key;
        let mask = self.buckets.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            // Both slots compared without a branch between them: which of the two holds an
            // id is a coin toss to the processor.
            let [s0, s1] = &self.buckets[i].0;
            let hit0 = (s0.a == a) & (s0.b == b) & (s0.len == len);
            let hit1 = (s1.a == a) & (s1.b == b) & (s1.len == len);
            if hit0 | hit1 {
                return Some(if hit0 { s0.id } else { s1.id });
            }
            if s1.id == EMPTY {
                // Slots fill in order, so a vacant second slot ends the probe.
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    /// An id of more than 16 bytes, kept out of line so that the short path inlines.
    #[inline(never)]
    fn get_long(&self, s: &[u8]) -> Option<u32> {
        self.long.get(s).copied()
    }

    /// Asks for the bucket where a lookup of `key` starts (a prefetch hint), so that the
    /// lookup soon after finds it in the caches. Many asked for in a row overlap their
    /// memory accesses; a hint, unlike a read, lets the processor go on with later work
    /// while memory answers (the reads this replaced held it up: `aidcost value` took 0.98 s
    /// against 1.06 s on the benchmark's file). Should the table grow before the lookup, the
    /// hint was wasted, never wrong.
    #[inline(always)]
    pub(crate) fn prefetch(&self, key: &Key) {
        let mask = self.buckets.len().wrapping_sub(1);
        if let Some(b) = self.buckets.get(key.hash as usize & mask) {
            mem_prefetch::prefetch_read_data::<_, 3>(b);
        }
    }

    pub(crate) fn insert(&mut self, s: &[u8], id: u32) {
        if s.len() > 16 {
            self.long.insert(s.into(), id);
            return;
        }
        // At most half the slots taken.
        if self.len + 1 > self.buckets.len() {
            let grown = vec![Bucket([VACANT; 2]); (self.buckets.len() * 2).max(32)];
            let old = std::mem::replace(&mut self.buckets, grown);
            for slot in old.iter().flat_map(|b| b.0).filter(|s| s.id != EMPTY) {
                self.place(slot);
            }
        }
        let (a, b) = Self::words(s);
        self.place(Slot {
            a,
            b,
            len: s.len() as u32,
            id,
        });
        self.len += 1;
    }

    /// Puts `slot` in the first vacant slot of its probe sequence (the order lookups read).
    fn place(&mut self, slot: Slot) {
        let mask = self.buckets.len() - 1;
        let mut i = Self::hash(slot.a, slot.b, slot.len as usize) as usize & mask;
        loop {
            if let Some(vacant) = self.buckets[i].0.iter_mut().find(|s| s.id == EMPTY) {
                *vacant = slot;
                return;
            }
            i = (i + 1) & mask;
        }
    }
}

/// An id of up to 16 bytes as an [`IdMap`] looks it up: its words, length and hash, made
/// once where a reader both asks for the id's bucket ahead ([`IdMap::prefetch`]) and then
/// looks it up ([`IdMap::get_key`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Key {
    a: u64,
    b: u64,
    len: u32,
    hash: u64,
}

impl Key {
    /// The key of `s`; `None` for an id of more than 16 bytes.
    #[inline(always)]
    pub(crate) fn of(s: &[u8]) -> Option<Self> {
        if s.len() > 16 {
            return None;
        }
        let (a, b) = IdMap::words(s);
        Some(Self {
            a,
            b,
            len: s.len() as u32,
            hash: IdMap::hash(a, b, s.len()),
        })
    }
}

/// Slots of a [`SmallIdMap`]'s direct table (6 KiB).
const DIRECT_BITS: u32 = 8;

/// At most this many ids are kept in a [`SmallIdMap`]'s direct table.
const DIRECT_IDS: usize = 64;

/// An [`IdMap`] for the few ids of providers and elements, with a direct table in front: each
/// id in the slot that a multiply of its words picks, the multiplier chosen so that no two
/// ids share a slot. A lookup reads that one slot, and the map behind only when the slot
/// holds another id (an id not met before, or one of more than [`DIRECT_IDS`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct SmallIdMap {
    map: IdMap,
    direct: Vec<Slot>,
    multiplier: u64,
    /// The ids of the direct table, in the order inserted.
    kept: Vec<Slot>,
}

impl SmallIdMap {
    #[inline(always)]
    fn index(a: u64, b: u64, len: u32, multiplier: u64) -> usize {
        ((a ^ b.rotate_left(32) ^ u64::from(len)).wrapping_mul(multiplier) >> (64 - DIRECT_BITS))
            as usize
    }

    #[inline(always)]
    pub(crate) fn get(&self, s: &[u8]) -> Option<u32> {
        if s.len() > 16 {
            return self.map.get_long(s);
        }
        let (a, b) = IdMap::words(s);
        let len = s.len() as u32;
        let i = Self::index(a, b, len, self.multiplier);
        match self.direct.get(i) {
            Some(slot) if (slot.a == a) & (slot.b == b) & (slot.len == len) => Some(slot.id),
            _ => self.map.get_key(&Key {
                a,
                b,
                len,
                hash: IdMap::hash(a, b, s.len()),
            }),
        }
    }

    pub(crate) fn insert(&mut self, s: &[u8], id: u32) {
        self.map.insert(s, id);
        if s.len() > 16 {
            return;
        }
        if self.kept.len() == DIRECT_IDS {
            self.direct = Vec::new();
            return;
        }
        let (a, b) = IdMap::words(s);
        self.kept.push(Slot {
            a,
            b,
            len: s.len() as u32,
            id,
        });
        // Odd multipliers tried in turn until one gives every id a slot of its own; should
        // none, the last is kept, and an id that finds another in its slot takes the map.
        let mut direct = vec![VACANT; 1 << DIRECT_BITS];
        let mut multiplier = FX_SEED;
        for k in 0..64u64 {
            multiplier = FX_SEED.wrapping_mul(2 * k + 1) | 1;
            direct.fill(VACANT);
            let mut apart = true;
            for slot in &self.kept {
                let at = &mut direct[Self::index(slot.a, slot.b, slot.len, multiplier)];
                if at.id == EMPTY {
                    *at = *slot;
                } else {
                    apart = false;
                }
            }
            if apart {
                break;
            }
        }
        self.direct = direct;
        self.multiplier = multiplier;
    }
}

/// The id tables: position = interned id. The first elements are the catalog's, in catalog
/// order; codes the catalog lacks follow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Ids {
    /// Shared with the results (see [`ByClient`]).
    pub(crate) clients: Arc<Vec<ClientId>>,
    pub(crate) providers: Vec<ProviderId>,
    pub(crate) elements: Vec<ElementCode>,
}

/// Interns ids: bytes → number, validating each distinct id once.
#[derive(Debug, Clone, Default)]
pub(crate) struct Interner {
    pub(crate) ids: Ids,
    clients: IdMap,
    providers: SmallIdMap,
    elements: SmallIdMap,
}

fn too_many(what: &str) -> Error {
    Error::Overflow {
        what: format!("number of distinct {what}"),
    }
}

impl Interner {
    pub(crate) fn new(catalog: &Catalog) -> Self {
        let mut me = Self::default();
        for (i, e) in catalog.iter().enumerate() {
            me.elements.insert(e.code().as_str().as_bytes(), i as u32);
            me.ids.elements.push(e.code().clone());
        }
        me
    }

    /// The number of client `s`, interning it when new. The lookup is inlined into the
    /// reader's loop; a new id (validated once) is not.
    #[inline(always)]
    pub(crate) fn client(&mut self, s: &[u8]) -> Result<u32> {
        match self.clients.get(s) {
            Some(i) => Ok(i),
            None => self.new_client(s),
        }
    }

    #[inline(never)]
    fn new_client(&mut self, s: &[u8]) -> Result<u32> {
        let id = ClientId::new(utf8(s)?)?;
        let i = u32::try_from(self.ids.clients.len())
            .ok()
            .filter(|&i| i != EMPTY)
            .ok_or_else(|| too_many("clients"))?;
        Arc::make_mut(&mut self.ids.clients).push(id);
        self.clients.insert(s, i);
        Ok(i)
    }

    /// As [`Interner::client`], for an id whose key the caller made.
    #[inline(always)]
    pub(crate) fn client_key(&mut self, s: &[u8], key: &Key) -> Result<u32> {
        match self.clients.get_key(key) {
            Some(i) => Ok(i),
            None => self.new_client(s),
        }
    }

    /// See [`IdMap::prefetch`].
    #[inline(always)]
    pub(crate) fn prefetch_client(&self, key: &Key) {
        self.clients.prefetch(key);
    }

    /// As [`Interner::client`], for providers.
    #[inline(always)]
    pub(crate) fn provider(&mut self, s: &[u8]) -> Result<u16> {
        match self.providers.get(s) {
            Some(i) => Ok(i as u16),
            None => self.new_provider(s),
        }
    }

    #[inline(never)]
    fn new_provider(&mut self, s: &[u8]) -> Result<u16> {
        let id = ProviderId::new(utf8(s)?)?;
        let i = u16::try_from(self.ids.providers.len()).map_err(|_| too_many("providers"))?;
        self.ids.providers.push(id);
        self.providers.insert(s, u32::from(i));
        Ok(i)
    }

    /// As [`Interner::client`], for elements.
    #[inline(always)]
    pub(crate) fn element(&mut self, s: &[u8]) -> Result<u16> {
        match self.elements.get(s) {
            Some(i) => Ok(i as u16),
            None => self.new_element(s),
        }
    }

    #[inline(never)]
    fn new_element(&mut self, s: &[u8]) -> Result<u16> {
        let id = ElementCode::new(utf8(s)?)?;
        let i = u16::try_from(self.ids.elements.len()).map_err(|_| too_many("elements"))?;
        self.ids.elements.push(id);
        self.elements.insert(s, u32::from(i));
        Ok(i)
    }
}

fn utf8(s: &[u8]) -> Result<&str> {
    std::str::from_utf8(s).map_err(|_| Error::Parse {
        what: "id",
        value: String::from_utf8_lossy(s).into_owned(),
        reason: "not UTF-8".to_owned(),
    })
}

/// Deliveries as columns: interned ids, packed dates, scaled quantities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    ids: Ids,
    /// The catalog the element ids were numbered against (its codes, in order).
    catalog: usize,
    client: Vec<u32>,
    provider: Vec<u16>,
    element: Vec<u16>,
    date: Vec<u32>,
    /// With [`QS`] decimals, in 32 bits (0 to 429,496.7294): the passes over the rows read
    /// half the bytes. [`NARROW_SIDE`] where the row's quantity, or its unit, is in `side`.
    quantity: Vec<u32>,
    scale: Vec<u8>,
    side: HashMap<u32, Side>,
    /// The first and last packed dates (`(u32::MAX, 0)` when empty).
    dates: (u32, u32),
    /// The largest positive quantity held in `quantity` (not the mark of one aside), with
    /// [`QS`] decimals (0 when none).
    largest: i64,
    /// The fewest and most decimals such a quantity was written with (`(u8::MAX, 0)` when
    /// none).
    scales: (u8, u8),
}

impl Columns {
    fn empty(interner: &Interner, catalog: &Catalog) -> Self {
        Self {
            ids: interner.ids.clone(),
            catalog: catalog.len(),
            client: Vec::new(),
            provider: Vec::new(),
            element: Vec::new(),
            date: Vec::new(),
            quantity: Vec::new(),
            scale: Vec::new(),
            side: HashMap::new(),
            dates: (u32::MAX, 0),
            largest: 0,
            scales: (u8::MAX, 0),
        }
    }

    /// Deliveries as columns, element ids numbered against `catalog` (value them with the
    /// same catalog).
    ///
    /// # Errors
    ///
    /// [`Error::Overflow`] for more than 2³² rows or clients or 2¹⁶ providers or elements.
    pub fn from_deliveries(deliveries: &[Delivery], catalog: &Catalog) -> Result<Self> {
        let mut interner = Interner::new(catalog);
        let mut c = Self::empty(&interner, catalog);
        let n = deliveries.len();
        u32::try_from(n).map_err(|_| too_many("rows"))?;
        c.reserve(n);
        for d in deliveries {
            let client = interner.client(d.client().as_str().as_bytes())?;
            let provider = interner.provider(d.provider().as_str().as_bytes())?;
            let element = interner.element(d.element().as_str().as_bytes())?;
            let stated = d.unit().filter(|u| {
                catalog
                    .element(crate::catalog::ElementIdx(u32::from(element)))
                    .is_some_and(|e| e.unit() != *u)
            });
            let side = match stated {
                Some(u) => Some(Side::Unit(u)),
                // Quantities that are not positive are kept exact (a `-0` prints as given).
                None => match to_scaled(d.quantity().get(), QS) {
                    Some(v) if v > 0 => None,
                    _ => Some(Side::Wide(d.quantity())),
                },
            };
            let (q, scale) = match side {
                Some(_) => (SIDE, 0),
                None => (
                    to_scaled(d.quantity().get(), QS).unwrap_or(SIDE),
                    d.quantity().get().scale().min(28) as u8,
                ),
            };
            c.push(client, provider, element, packed(d.date()), q, scale, side);
        }
        c.ids = interner.ids;
        Ok(c)
    }

    fn reserve(&mut self, n: usize) {
        self.client.reserve_exact(n);
        self.provider.reserve_exact(n);
        self.element.reserve_exact(n);
        self.date.reserve_exact(n);
        self.quantity.reserve_exact(n);
        self.scale.reserve_exact(n);
    }

    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn push(
        &mut self,
        client: u32,
        provider: u16,
        element: u16,
        date: u32,
        q: i64,
        scale: u8,
        mut side: Option<Side>,
    ) {
        let narrow = match u32::try_from(q) {
            Ok(v) if side.is_none() && v != NARROW_SIDE => v,
            _ => {
                if side.is_none() && q != SIDE {
                    // Beyond 32 bits: kept exact, as written, with the others that are.
                    let d = from_scaled(q, QS, u32::from(scale));
                    side = Some(Side::Wide(Quantity::new(d)));
                }
                NARROW_SIDE
            }
        };
        if let Some(s) = side {
            self.side.insert(self.client.len() as u32, s);
        }
        self.dates = (self.dates.0.min(date), self.dates.1.max(date));
        // Only the quantities the fast paths may take: not those aside, whose mark would
        // widen every packed record's quantity to 32 bits.
        if narrow > 0 && narrow != NARROW_SIDE {
            self.largest = self.largest.max(i64::from(narrow));
            self.scales = (self.scales.0.min(scale), self.scales.1.max(scale));
        }
        self.client.push(client);
        self.provider.push(provider);
        self.element.push(element);
        self.date.push(date);
        self.quantity.push(narrow);
        self.scale.push(scale);
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.client.len()
    }

    /// What the columns hold, for the records of pass 2.
    fn extent(&self) -> stateful::Extent {
        stateful::Extent {
            rows: self.len(),
            providers: self.ids.providers.len(),
            dates: self.dates,
            quantity: self.largest,
            scales: self.scales,
        }
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.client.is_empty()
    }

    /// The number of distinct clients.
    pub fn clients(&self) -> usize {
        self.ids.clients.len()
    }

    /// Bytes held by the columns (their capacity), not counting the id tables.
    pub fn column_bytes(&self) -> usize {
        self.client.capacity() * 4
            + self.provider.capacity() * 2
            + self.element.capacity() * 2
            + self.date.capacity() * 4
            + self.quantity.capacity() * 4
            + self.scale.capacity()
    }

    fn shrink(&mut self) {
        self.client.shrink_to_fit();
        self.provider.shrink_to_fit();
        self.element.shrink_to_fit();
        self.date.shrink_to_fit();
        self.quantity.shrink_to_fit();
        self.scale.shrink_to_fit();
    }
}

fn check_catalog(ids: &Ids, columns_catalog: usize, catalog: &Catalog) -> Result<()> {
    let same = columns_catalog == catalog.len()
        && catalog
            .iter()
            .zip(&ids.elements)
            .all(|(e, code)| e.code() == code);
    if same {
        Ok(())
    } else {
        Err(Error::Parse {
            what: "columns",
            value: format!("{columns_catalog} catalog elements"),
            reason: "the columns were built against another catalog".to_owned(),
        })
    }
}

/// Runs `f` on each item at once: the first on this thread, each other on a thread of its
/// own; the results in the items' order. A panic in `f` is resumed here.
pub(crate) fn on_threads<I: Send, R: Send>(items: Vec<I>, f: impl Fn(I) -> R + Sync) -> Vec<R> {
    let mut items = items.into_iter();
    let Some(first) = items.next() else {
        return Vec::new();
    };
    std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = items.map(|item| s.spawn(move || f(item))).collect();
        let mut out = Vec::with_capacity(handles.len() + 1);
        out.push(f(first));
        for h in handles {
            out.push(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        out
    })
}

/// Rows `0..n` handed out in pieces to whichever thread asks next: a thread that the machine
/// slows down takes fewer pieces, where fixed equal shares would make the others wait for it.
/// Pass 1's sums do not depend on which thread adds a row, and its other outputs are ordered
/// afterwards by row.
struct Pieces {
    n: usize,
    size: usize,
    next: AtomicUsize,
}

impl Pieces {
    /// Pieces for `threads` threads: one, the whole, for one thread; else about 16 per thread
    /// (whole chunks of [`CHUNK`] rows when there are enough).
    fn new(n: usize, threads: usize) -> Self {
        let size = if threads <= 1 {
            n.max(1)
        } else {
            let size = n.div_ceil(threads * 16);
            if size >= CHUNK {
                size.next_multiple_of(CHUNK)
            } else {
                size.max(1)
            }
        };
        Self {
            n,
            size,
            next: AtomicUsize::new(0),
        }
    }

    /// The next piece's rows, `None` when all are handed out.
    fn next(&self) -> Option<(usize, usize)> {
        let k = self.next.fetch_add(1, Ordering::Relaxed);
        let lo = k.checked_mul(self.size).filter(|&lo| lo < self.n)?;
        Some((lo, lo.saturating_add(self.size).min(self.n)))
    }
}

/// Splits `items` into `threads` contiguous pieces (one when they are few) and runs
/// `f(index of the piece's first item, piece)` on each, each piece on a thread of its own;
/// the results in order.
pub(crate) fn in_pieces<T: Send, R: Send>(
    items: &mut [T],
    threads: usize,
    f: impl Fn(usize, &mut [T]) -> R + Sync,
) -> Vec<R> {
    let shares = if items.len() < MIN_PARALLEL_ROWS {
        1
    } else {
        threads.clamp(1, 64)
    };
    let step = items.len().div_ceil(shares).max(1);
    let pieces: Vec<(usize, &mut [T])> = items
        .chunks_mut(step)
        .enumerate()
        .map(|(k, piece)| (k * step, piece))
        .collect();
    if pieces.is_empty() {
        return vec![f(0, items)];
    }
    on_threads(pieces, |(lo, piece)| f(lo, piece))
}

/// Rows `rows` of columns `(element, quantity)` (from row `start` on, at most a chunk)
/// split by whether each is simple (by `qmax`, the largest simple quantity by element):
/// the simple ones written to `chosen`, the others to `others`, without a branch (which
/// way a row goes is a coin toss to the processor); how many of each.
///
/// A function of its own, so that its loop keeps its figures in registers; its tables
/// and lists of fixed sizes let it index them without checks. Only the simple rows are
/// counted: the others so far are the rows so far less them, which spares the loop a
/// second count and a register (in a loop of this alone, 10 M rows, half simple: 11.0 ms
/// to 9.4 ms).
#[inline(never)]
fn split(
    qmax: &[u32; 1 << 16],
    (element, quantity): (&[u16], &[u32]),
    start: usize,
    chosen: &mut [u32; CHUNK],
    others: &mut [u32; CHUNK],
) -> (usize, usize) {
    let mut ns = 0usize;
    let n = element.len().min(quantity.len()).min(CHUNK);
    let (element, quantity) = (&element[..n], &quantity[..n]);
    let mut row = start as u32;
    for k in 0..n {
        // Simple when 1 <= q <= qmax, in one comparison (0 wraps to the largest).
        let (element, q) = (element[k], quantity[k]);
        let is_simple = q.wrapping_sub(1) < qmax[usize::from(element)];
        // Both below `k`, so below a chunk.
        chosen[ns % CHUNK] = row;
        others[k.wrapping_sub(ns) % CHUNK] = row;
        ns += usize::from(is_simple);
        row = row.wrapping_add(1);
    }
    (ns, n - ns)
}

/// Provider ranks by id: the general path orders stateful rows by provider id.
fn ranks(providers: &[ProviderId]) -> Vec<u16> {
    let mut order: Vec<usize> = (0..providers.len()).collect();
    order.sort_by(|&a, &b| providers[a].cmp(&providers[b]));
    let mut rank = vec![0u16; providers.len()];
    for (r, &p) in order.iter().enumerate() {
        rank[p] = r as u16;
    }
    rank
}

/// The multiplier that divides by `d` (1 to 2¹⁶) in [`up_to`]: ⌊2⁴¹ / d⌋ + 1.
const fn magic(d: u32) -> u64 {
    let d = if d == 0 { 1 } else { d as u64 };
    (1u64 << 41) / d + 1
}

/// `q` (below 2²⁴) rounded up to a multiple of `d` (1 to 2¹⁶, `m = magic(d)`): ⌈q / d⌉ × d,
/// the division done as a multiplication. Exact for every numerator below 2²⁵ and divisor up
/// to 2¹⁶ (Granlund and Montgomery, 1994, theorem 4.2: m × d lies in (2⁴¹, 2⁴¹ + 2¹⁶]).
#[inline(always)]
fn up_to(q: u32, d: u32, m: u64) -> u32 {
    let n = u128::from(q + d - 1);
    ((n * u128::from(m)) >> 41) as u32 * d
}

/// Values `columns` against `cx` and totals the lines by client: the same counts, total,
/// rejections and totals by client as [`crate::value`] followed by a [`Rollup`] by client.
///
/// Rows are split across `options.threads` threads into mergeable per-client sums; the rows
/// priced by tiers or caps are then split by client, so that each client's cumulative
/// counts stay in one thread.
///
/// # Errors
///
/// [`Error::Parse`] when `columns` were built against another catalog;
/// [`Error::Overflow`] when a total leaves the decimal range.
pub fn value_by_client(
    columns: &Columns,
    cx: Context<'_>,
    options: ColumnarOptions,
) -> Result<ByClient> {
    value_columns(columns, cx, options, true)
}

/// Rows a thread of pass 1 reads before it gives its lists of stateful records their room.
const SIZE_LISTS_AFTER: usize = 1 << 16;

/// Room in each of a thread's lists of stateful records (`fast`, one a range of clients),
/// asked for once `seen` of its about `rows` rows are read and `packed` of them are in the
/// lists: each list's even share of the records expected, and a seventh more. A list that
/// would otherwise grow by doubling copies on the way as many records as it ends with, and
/// holds up to twice their room; room never written to is never resident.
fn reserve_lists(fast: &mut stateful::Lists, packed: usize, seen: usize, rows: usize) {
    if let (Some(expected), 1..) = (expected(packed, seen, rows), fast.ranges()) {
        let each = expected / fast.ranges();
        fast.reserve(each + each / 7 + 16);
    }
}

/// How many of something `all` units (rows, records) are expected to give when `seen` of
/// them gave `count`; `None` when none were seen.
fn expected(count: usize, seen: usize, all: usize) -> Option<usize> {
    (seen > 0).then(|| (count as u128 * all.max(seen) as u128 / seen as u128) as usize)
}

/// Room in `v` for the items expected when `seen` of `all` units (rows, records) gave its
/// `v.len()`, and a sixteenth more, given once: grown by doubling, a list copies on the
/// way as many items as it ends with (for the 20 MB of a long piece's noted others and the
/// 19 MB of the rejections over a cap, 10 M rows, about 2 ms of a run of 0.11 s, one
/// thread). Room for every row at once (40 MB) took more time than the copies: memory
/// that large is mapped afresh at every run, and each page's first touch is slow.
pub(crate) fn expect_room<T>(v: &mut Vec<T>, seen: usize, all: usize) {
    if let Some(expected) = expected(v.len(), seen, all) {
        v.reserve(
            expected
                .saturating_add(expected / 16)
                .saturating_sub(v.len()),
        );
    }
}

#[cfg(test)]
thread_local! {
    /// Valuations on this thread whose totals came straight from the simple sums, so that
    /// tests can tell where that way is taken.
    static STRAIGHT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// [`value_by_client`], with the unchecked loop for the simplest rows or without.
fn value_columns(
    columns: &Columns,
    cx: Context<'_>,
    options: ColumnarOptions,
    allow_simple: bool,
) -> Result<ByClient> {
    check_catalog(&columns.ids, columns.catalog, cx.catalog)?;
    let shared = Shared::new(cx);
    let mut resolver = shared.resolver();
    for p in &columns.ids.providers {
        resolver.add_provider(cx.book, &shared.plans, p);
    }
    let rank = ranks(&columns.ids.providers);
    let known: Vec<bool> = match cx.clients {
        Some(reg) => columns
            .ids
            .clients
            .iter()
            .map(|c| reg.get(c.as_str()).is_some())
            .collect(),
        None => Vec::new(),
    };
    let n = columns.len();
    let threads = options.threads.clamp(1, 64);
    // The tightest loop for the simplest rows, when no register is to be checked.
    let simple = match cx.clients {
        None if allow_simple && !columns.is_empty() => Simple::new(
            &shared,
            &resolver,
            columns.ids.providers.len(),
            columns.ids.elements.len(),
            columns.dates,
        ),
        _ => None,
    };
    let layout = simple.as_ref().map(|s| {
        let full = options.full_ranges || !cfg!(test);
        let mut layout = stateful::Layout::new(
            &s.stateful_elements(),
            &columns.extent(),
            options.wide,
            full,
        );
        layout.fix_parts(s, &rank);
        layout
    });
    // One price block for every provider and date, which prices some elements simply and
    // others not.
    let block = simple.as_ref().and_then(Simple::uniform);
    let mixed =
        block.is_some_and(|b| b.iter().any(|s| s.qmax == 0) && b.iter().any(|s| s.qmax > 0));
    // By element of a mixed block (of every number an element may have): the largest
    // quantity it takes as simple, for the split.
    let qmax: Option<Box<[u32; 1 << 16]>> = block.filter(|_| mixed).and_then(|block| {
        let mut qmax = vec![0u32; 1 << 16];
        for (q, slot) in qmax.iter_mut().zip(block) {
            *q = slot.qmax;
        }
        qmax.into_boxed_slice().try_into().ok()
    });
    // By element of a mixed block: what its simple rows' loop needs.
    let chosen_slots: Vec<engine::ChosenSlot> = match block {
        Some(block) if mixed => block.iter().map(engine::ChosenSlot::new).collect(),
        _ => Vec::new(),
    };
    // Whether some element of the one price block has a minimum increment.
    let increments = block.is_some_and(|b| b.iter().any(|s| s.inc > 1));
    let shares = if n < MIN_PARALLEL_ROWS { 1 } else { threads };
    // Pass 1 on each thread: the rows of the pieces `take` hands out, until none is left.
    let pass1 = |take: &Pieces| -> Part {
        let clients = columns.ids.clients.len();
        let mut part = match &layout {
            Some(layout) => Part::with_simple(clients, layout.lists(clients)),
            None => Part::with_clients(clients),
        };
        let mut adds: Vec<Add> = Vec::with_capacity(BLOCK);
        // Every row that is not simple, through the checked paths.
        let other = |part: &mut Part, adds: &mut Vec<Add>, i: usize| {
            let q = wide(columns.quantity[i]);
            let hot = shared.hot(
                &resolver,
                &known,
                columns.client[i],
                columns.provider[i],
                columns.element[i],
                columns.date[i],
                q,
            );
            if let Some(a) = hot {
                adds.push(a);
                if adds.len() == 512 {
                    part.add_plain(adds);
                    adds.clear();
                }
                return;
            }
            let provider = columns.provider[i];
            let r = RowIn {
                row: i as u32,
                client: columns.client[i],
                provider,
                rank: rank[usize::from(provider)],
                element: columns.element[i],
                date: columns.date[i],
                q,
                scale: columns.scale[i],
                side: if q == SIDE {
                    columns.side.get(&(i as u32))
                } else {
                    None
                },
            };
            if let Some(a) = shared.row(part, &resolver, &columns.ids, &known, r) {
                adds.push(a);
                if adds.len() == BLOCK {
                    part.add_all(adds);
                    adds.clear();
                }
            }
        };
        // In chunks: the simple rows in a tight loop, the others after them (the order of
        // adding does not change a sum; stateful rows and rejections are ordered later).
        let mut others: Vec<u32> = Vec::with_capacity(CHUNK);
        // The others that pass 2 does not take.
        let mut rest: Vec<u32> = Vec::new();
        let mut chosen: Box<[u32; CHUNK]> = Box::new([0; CHUNK]);
        // Rows whose others were taken so far, and whether the lists of stateful records
        // have been given their room (see `reserve_lists`).
        let (mut seen, mut sized) = (0usize, false);
        // A long piece's others, in row order, noted by its first reading for its second,
        // and where each chunk's end in them.
        let mut noted: Vec<u32> = Vec::new();
        let mut marks: Vec<usize> = Vec::new();
        while let Some((lo, hi)) = take.next() {
            // Whether a reading of the piece adds its simple rows, and whether it takes its
            // others. With simple and other elements in one block, a long piece is read
            // twice: its simple rows first, then its others, so that the clients' simple
            // sums and the lists of stateful rows do not evict each other from the caches
            // (10 M rows, 5.15 M of them stateful, one thread: about a tenth less time). A
            // short piece is read once: the sums, evicted by its second reading, would be
            // fetched again for the next piece's first. The second reading does not split
            // the rows again: it takes the others the first noted (4 bytes each: with one
            // thread, the whole input being one piece, about 20 MB for 10 M rows).
            let readings: &[(bool, bool)] = match mixed && hi - lo >= TWO_READINGS {
                true => &[(true, false), (false, true)],
                false => &[(true, true)],
            };
            noted.clear();
            marks.clear();
            for &(adds_simple, takes_others) in readings {
                let mut start = lo;
                // The second reading's chunk, and the others of it the first noted.
                let (mut chunk, mut span) = (0usize, None);
                while start < hi {
                    let end = (start + CHUNK).min(hi);
                    match &simple {
                        Some(_) if mixed && !adds_simple => {
                            // The second reading: the chunk's others, where the first noted
                            // them (not searched for: a search of the 20 MB that 10 M rows
                            // note misses the caches, about 7 ms a run).
                            let from = chunk.checked_sub(1).and_then(|c| marks.get(c)).copied();
                            let from = from.unwrap_or(0);
                            span = Some(from..marks.get(chunk).copied().unwrap_or(from));
                            chunk += 1;
                        }
                        Some(_) if mixed => {
                            // One price block, with simple and other elements: the rows are first
                            // split without a branch (which way a row goes is a coin toss to the
                            // processor), then the simple ones are added in a loop of their own.
                            // The others go straight to the noted ones when a second reading
                            // takes them.
                            let sink = match takes_others {
                                true => &mut others,
                                false => &mut noted,
                            };
                            let base = sink.len();
                            sink.resize(base + CHUNK, 0);
                            let out = sink.get_mut(base..).and_then(|s| s.try_into().ok());
                            let rows =
                                (&columns.element[start..end], &columns.quantity[start..end]);
                            let (ns, no) = match (out, &qmax) {
                                (Some(out), Some(qmax)) => {
                                    split(qmax, rows, start, &mut chosen, out)
                                }
                                _ => {
                                    // Not reached: the sink has room for a chunk, and the
                                    // block is mixed.
                                    part.overflow = true;
                                    (0, 0)
                                }
                            };
                            sink.truncate(base + no);
                            if !takes_others {
                                marks.push(noted.len());
                                if marks.len() == 1 {
                                    expect_room(&mut noted, end - start, hi - lo);
                                }
                            }
                            if adds_simple {
                                let rows = chosen.get(..ns).unwrap_or_default();
                                let cols = (
                                    &columns.client[..],
                                    &columns.element[..],
                                    &columns.quantity[..],
                                );
                                // Rounded up to the increment without a branch (whether a row's
                                // element has an increment is a coin toss too) or a division.
                                part.add_chosen(&chosen_slots, cols, rows);
                            }
                        }
                        Some(simple) if simple.uniform().is_some() => {
                            // One price block for every provider and date: the element decides.
                            let block = simple.uniform().unwrap_or_default();
                            let rows = (
                                &columns.client[start..end],
                                &columns.element[start..end],
                                &columns.quantity[start..end],
                            );
                            match increments {
                                true => part.add_block::<true>(block, rows, start, &mut others),
                                false => part.add_block::<false>(block, rows, start, &mut others),
                            }
                        }
                        Some(simple) => {
                            let rows = columns.client[start..end]
                                .iter()
                                .zip(&columns.provider[start..end])
                                .zip(&columns.element[start..end])
                                .zip(&columns.date[start..end])
                                .zip(&columns.quantity[start..end]);
                            for (k, ((((&client, &provider), &element), &date), &q)) in
                                rows.enumerate()
                            {
                                let slot = simple.slot(provider, element, date);
                                let q = i64::from(q);
                                part.add_simple_or_list(&slot, client, q, start + k, &mut others);
                            }
                        }
                        None => others.extend(start as u32..end as u32),
                    }
                    let mut checked = match span.take() {
                        Some(span) => noted.get(span).unwrap_or_default(),
                        None => &others[..],
                    };
                    if let (Some(simple), Some(layout)) = (&simple, &layout) {
                        // Tiers and caps in scaled integers: set aside for pass 2 by client.
                        rest.clear();
                        layout.pack_rows(
                            simple,
                            &rank,
                            columns,
                            checked,
                            &mut part.fast,
                            &mut rest,
                        );
                        checked = &rest;
                        seen += if takes_others { end - start } else { 0 };
                        if !sized && seen >= SIZE_LISTS_AFTER {
                            let packed = part.fast.len();
                            reserve_lists(&mut part.fast, packed, seen, n / shares);
                            sized = true;
                        }
                    }
                    for &i in checked {
                        other(&mut part, &mut adds, i as usize);
                    }
                    others.clear();
                    start = end;
                }
            }
        }
        part.add_plain(&adds);
        part
    };
    let pieces = Pieces::new(n, shares);
    let mut parts: Vec<Part> = on_threads(vec![(); shares], |()| pass1(&pieces));
    if simple.is_some() && parts.iter().all(Part::only_simple) {
        // Every row a simple line: the totals straight from the simple sums.
        return match shared.result_simple(&columns.ids, parts, n as u64, threads) {
            Some(result) => {
                #[cfg(test)]
                STRAIGHT.with(|s| s.set(s.get() + 1));
                Ok(result)
            }
            None => value_columns(columns, cx, options, false),
        };
    }
    if let Some((first, rest)) = parts.split_first_mut().filter(|_| simple.is_some()) {
        // The simple sums of every share into the first's checked sums.
        if !first.fold_simple(rest, shared.units(), threads) {
            first.overflow = true;
            first.simple_wrapped = true;
        }
    }
    let fast: Vec<stateful::Lists> = parts
        .iter_mut()
        .map(|p| std::mem::take(&mut p.fast))
        .collect();
    let mut part = parts.remove(0);
    part.merge_all(parts, threads);
    // Pass 1's lines beyond the scaled integers, in row order, before pass 2's.
    part.settle_extra();
    if part.simple_wrapped {
        // A client with so many lines that the unchecked sums may have wrapped: again,
        // every row with checks.
        return value_columns(columns, cx, options, false);
    }
    if let (Some(simple), Some(layout)) = (&simple, &layout) {
        if part.stateful.is_empty() {
            let ids = &columns.ids;
            stateful::value_fast(
                &shared, simple, layout, ids, &rank, &fast, threads, &mut part,
            );
        } else {
            // Some rows priced by tiers or caps need the general records: all of them take
            // that way, so that each client's rows are in one order.
            layout.set_aside(simple, &rank, &fast, &mut part.stateful);
        }
    }
    shared.finish(&columns.ids, part, n as u64, threads)
}
