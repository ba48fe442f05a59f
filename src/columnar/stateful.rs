//! Pass 2 of the in-memory path for the rows priced by tiers or caps in scaled integers.
//!
//! Pass 1 lists these rows (by number) and counts them by client. Here they are placed by
//! client (a counting sort) as packed 16-byte records whose integer order is the general
//! path's order within a client, then each client's records are sorted and valued, clients
//! split across threads. The records cost 16 bytes a stateful row, where the general
//! [`SRow`]s cost 32 twice over (set aside, then grouped).

use std::collections::{BTreeMap, HashMap};

use super::engine::{Acc, Part, SRow, Shared, Simple};
use super::{on_threads, Columns, MIN_PARALLEL_ROWS};

/// Pass 1 counts the rows set aside by ranges of 2^`RANGE_BITS` clients.
pub(crate) const RANGE_BITS: u32 = 9;

/// Packs a row: element (8 bits), packed date (24), provider rank (16), quantity (32), row
/// (32), then (below the row, so never deciding the order) the client's place in its range
/// (9 bits) and the decimals the quantity was written with (7).
#[inline(always)]
fn pack(element: u16, date: u32, rank: u16, q: u32, row: u32, client: u32, scale: u8) -> u128 {
    let low = ((client & ((1 << RANGE_BITS) - 1)) << 7) | u32::from(scale & 0x7f);
    (u128::from(element & 0xff) << 120)
        | (u128::from(date & 0xff_ffff) << 96)
        | (u128::from(rank) << 80)
        | (u128::from(q) << 48)
        | (u128::from(row) << 16)
        | u128::from(low)
}

/// The client's place in its range of a packed row.
#[inline(always)]
fn place(r: u128) -> usize {
    ((r as u32 & 0xffff) >> 7) as usize
}

/// The element, date, provider rank, quantity, row and decimals of a packed row.
#[inline(always)]
fn unpack(r: u128) -> (u16, u32, u16, u32, u32, u8) {
    (
        (r >> 120) as u16 & 0xff,
        (r >> 96) as u32 & 0xff_ffff,
        (r >> 80) as u16,
        (r >> 48) as u32,
        (r >> 16) as u32,
        r as u8 & 0x7f,
    )
}

/// The rows pass 1 set aside, valued into `part`: each client's sums added to its own, the
/// rejections (over a cap) appended.
pub(crate) fn value_fast(
    shared: &Shared<'_>,
    simple: &Simple,
    columns: &Columns,
    rank: &[u16],
    fast: &[(Vec<u32>, Vec<u32>)],
    threads: usize,
    part: &mut Part,
) {
    let clients = columns.ids.clients.len();
    let ranges = (clients >> RANGE_BITS) + 1;
    // Where each range of clients starts.
    let mut range_start = vec![0usize; ranges + 1];
    for (_, counts) in fast {
        for (k, &n) in counts.iter().enumerate().take(ranges) {
            range_start[k + 1] += n as usize;
        }
    }
    for k in 0..ranges {
        range_start[k + 1] += range_start[k];
    }
    let total = range_start[ranges];
    // Two passes, each writing to few places at once: by range of clients, then, range by
    // range in the caches, by client.
    let mut next = range_start.clone();
    let mut records = vec![0u128; total];
    for (rows, _) in fast {
        for &i in rows {
            let i = i as usize;
            let c = columns.client[i];
            let provider = columns.provider[i];
            let r = pack(
                columns.element[i],
                columns.date[i],
                rank.get(usize::from(provider)).copied().unwrap_or(u16::MAX),
                columns.quantity[i] as u32,
                i as u32,
                c,
                columns.scale[i],
            );
            let at = next.get_mut((c >> RANGE_BITS) as usize).map(|at| {
                *at += 1;
                *at - 1
            });
            match at.and_then(|k| records.get_mut(k)) {
                Some(place) => *place = r,
                None => part.overflow = true,
            }
        }
    }
    drop(next);
    // Where each client's records start.
    let mut start = vec![0usize; clients + 1];
    let mut scratch: Vec<u128> = Vec::new();
    let mut next = [0usize; 1 << RANGE_BITS];
    for k in 0..ranges {
        let (lo, hi) = (range_start[k], range_start[k + 1]);
        let first = k << RANGE_BITS;
        scratch.clear();
        scratch.extend_from_slice(&records[lo..hi]);
        next.fill(0);
        for &r in &scratch {
            next[place(r)] += 1;
        }
        let mut at = lo;
        for (j, n) in next.iter_mut().enumerate() {
            if let Some(s) = start.get_mut(first + j) {
                *s = at;
            }
            (at, *n) = (at + *n, at);
        }
        for &r in &scratch {
            let k = &mut next[place(r)];
            match records.get_mut(*k).filter(|_| *k < hi) {
                Some(slot) => *slot = r,
                None => part.overflow = true,
            }
            *k += 1;
        }
    }
    start[clients] = total;
    // The provider of each rank.
    let mut unrank = vec![0u16; rank.len()];
    for (p, &r) in rank.iter().enumerate() {
        if let Some(u) = unrank.get_mut(usize::from(r)) {
            *u = p as u16;
        }
    }
    // Contiguous ranges of clients with about equal records, one a thread.
    let shares = if records.len() < MIN_PARALLEL_ROWS {
        1
    } else {
        threads.clamp(1, 64)
    };
    let mut cuts = vec![0usize];
    for k in 1..shares {
        let want = records.len() * k / shares;
        let c = start.partition_point(|&s| s < want).min(clients);
        cuts.push(c.max(*cuts.last().unwrap_or(&0)));
    }
    cuts.push(clients);
    let mut pieces: Vec<(usize, usize, &mut [u128])> = Vec::with_capacity(shares);
    let mut rest: &mut [u128] = &mut records;
    for w in cuts.windows(2) {
        let (lo, hi) = (w[0], w[1]);
        let (a, b) = std::mem::take(&mut rest).split_at_mut(start[hi] - start[lo]);
        pieces.push((lo, hi, a));
        rest = b;
    }
    let work = |(lo, hi, recs): (usize, usize, &mut [u128])| {
        value_clients(shared, simple, columns, &unrank, &start, lo, hi, recs)
    };
    let results = on_threads(pieces, work);
    part.merge_client_sums(results);
}

/// The clients `lo..hi`, whose records (from `start[lo]` on) are `recs`.
#[allow(clippy::too_many_arguments)]
fn value_clients(
    shared: &Shared<'_>,
    simple: &Simple,
    columns: &Columns,
    unrank: &[u16],
    start: &[usize],
    lo: usize,
    hi: usize,
    recs: &mut [u128],
) -> (Vec<(u32, Acc)>, Part) {
    let base = start[lo];
    let mut out = Vec::new();
    let mut extra = BTreeMap::new();
    let mut part = Part::with_clients(1);
    let no_wide = HashMap::new();
    for c in lo..hi {
        let Some(group) = recs.get_mut(start[c] - base..start[c + 1] - base) else {
            part.overflow = true;
            continue;
        };
        if group.is_empty() {
            continue;
        }
        sort_small(group);
        let client = c as u32;
        let rows = group.iter().map(|&r| {
            let (element, date, rank, q, row, scale) = unpack(r);
            let provider = unrank.get(usize::from(rank)).copied().unwrap_or(0);
            SRow {
                key: SRow::key_of(element, date, rank),
                q: i64::from(q),
                row,
                client,
                plan: simple.stateful_plan(provider, element, date),
                scale,
            }
        });
        shared.value_client(&mut part, &columns.ids, client, rows, true, &no_wide);
        out.push((client, part.acc[0]));
        if let Some(x) = part.extra.remove(&0) {
            extra.insert(client, x);
        }
    }
    part.acc = Vec::new();
    part.extra = extra;
    (out, part)
}

/// Sorts a client's records: by insertion when few (the usual case: they come in row order,
/// a few dozen), else by the standard sort.
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
    fn packed_order_is_element_date_rank_quantity_row() {
        // The general path orders a client's stateful rows by element, date, provider,
        // quantity, then row; the decimals written never decide.
        let a = pack(1, 5, 9, 100, 7, 3, 4);
        assert!(pack(0, 9, 9, 999, 9, 511, 0) < a);
        assert!(pack(1, 4, 99, 999, 9, 511, 0) < a);
        assert!(pack(1, 5, 8, 999, 9, 511, 0) < a);
        assert!(pack(1, 5, 9, 99, 9, 511, 0) < a);
        assert!(pack(1, 5, 9, 100, 6, 511, 28) < a);
        assert_eq!(unpack(a), (1, 5, 9, 100, 7, 4));
        assert_eq!(place(a), 3);
        // Only the client's place in its range of 512 is kept.
        assert_eq!(place(pack(1, 5, 9, 100, 7, 512 + 300, 4)), 300);
        let max = pack(255, 0xff_ffff, u16::MAX, u32::MAX, u32::MAX, u32::MAX, 28);
        assert_eq!(
            unpack(max),
            (255, 0xff_ffff, u16::MAX, u32::MAX, u32::MAX, 28)
        );
        assert_eq!(place(max), 511);
    }
}
