//! What this machine allows for the flat in-memory workload, without aidcost: the same data
//! shape (per row a client number, an element number and a quantity; 14 bytes) and the same
//! arithmetic (quantity × price rounded half-up to cents in scaled integers, summed by client
//! in 16-byte words), in the plainest loops, on one thread and on two.
//!
//! Two loops, each timed on 1 and 2 threads, the runs interleaved (1, 2, 1, 2, …) so that a
//! noisy moment of the machine falls on both, and the best of each kept:
//!
//! - `stream`: only reads the three columns and adds them up; the memory bandwidth's bound.
//! - `scatter`: the flat valuation itself, each row adding to its client's sums; on two
//!   threads each has its own sums over half the rows, merged at the end.
//!
//! The ratio `1 thread / 2 threads` of each loop is the ceiling of what any program can gain
//! from the second core on this workload here (target 4 of the benchmark asks for 1.7).
//!
//! ```sh
//! cargo run --release --example ceiling -- [--rows 10000000] [--clients 200000] [--runs 15]
//! ```

// The ratio of two timings, for display only.
#![allow(clippy::print_stdout, clippy::float_arithmetic)]

use std::hint::black_box;
use std::time::{Duration, Instant};

struct Data {
    client: Vec<u32>,
    element: Vec<u16>,
    quantity: Vec<i64>,
    /// By element, with four decimals.
    price: Vec<i64>,
    clients: usize,
}

/// A deterministic xorshift stream.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn data(rows: usize, clients: usize) -> Data {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let elements = 35;
    let mut d = Data {
        client: Vec::with_capacity(rows),
        element: Vec::with_capacity(rows),
        quantity: Vec::with_capacity(rows),
        price: (0..elements).map(|e| 100_000 + 12_345 * e).collect(),
        clients,
    };
    for _ in 0..rows {
        let r = rng.next();
        d.client.push((r % clients as u64) as u32);
        d.element.push(((r >> 32) % elements as u64) as u16);
        // 0.01 to 5.00, with four decimals as in aidcost's columns.
        d.quantity.push(((r >> 40) % 500 + 1) as i64 * 100);
    }
    d
}

/// Sums the three columns of rows `lo..hi`.
fn stream(d: &Data, lo: usize, hi: usize) -> u64 {
    let mut s = 0u64;
    for ((&c, &e), &q) in d.client[lo..hi]
        .iter()
        .zip(&d.element[lo..hi])
        .zip(&d.quantity[lo..hi])
    {
        s = s.wrapping_add(u64::from(c) ^ u64::from(e) ^ q as u64);
    }
    s
}

/// Values rows `lo..hi` into per-client sums: cents in the first word, quantity and lines in
/// the second.
fn scatter(d: &Data, lo: usize, hi: usize) -> Vec<[u64; 2]> {
    let mut sums = vec![[0u64; 2]; d.clients];
    for ((&c, &e), &q) in d.client[lo..hi]
        .iter()
        .zip(&d.element[lo..hi])
        .zip(&d.quantity[lo..hi])
    {
        let price = d.price.get(usize::from(e)).copied().unwrap_or(0);
        let cents = (q * price + 500_000) / 1_000_000;
        if let Some(w) = sums.get_mut(c as usize) {
            w[0] = w[0].wrapping_add(cents as u64);
            w[1] = w[1].wrapping_add(((q as u64) << 16) | 1);
        }
    }
    sums
}

/// Runs `f` over `threads` equal row ranges at once; the results in range order.
fn split<R: Send>(d: &Data, threads: usize, f: fn(&Data, usize, usize) -> R) -> Vec<R> {
    let n = d.client.len();
    let chunk = n.div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (lo, hi) = ((t * chunk).min(n), ((t + 1) * chunk).min(n));
                s.spawn(move || f(d, lo, hi))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// A loop over all rows on a number of threads, returning a check word.
type Loop = fn(&Data, usize) -> u64;

fn stream_run(d: &Data, threads: usize) -> u64 {
    split(d, threads, stream)
        .into_iter()
        .fold(0, u64::wrapping_add)
}

fn scatter_run(d: &Data, threads: usize) -> u64 {
    let mut parts = split(d, threads, scatter).into_iter();
    let mut sums = parts.next().unwrap_or_default();
    for other in parts {
        for (a, b) in sums.iter_mut().zip(&other) {
            a[0] = a[0].wrapping_add(b[0]);
            a[1] = a[1].wrapping_add(b[1]);
        }
    }
    sums.iter().fold(0, |s, w| s.wrapping_add(w[0]))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut rows, mut clients, mut runs) = (10_000_000usize, 200_000usize, 15usize);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || -> Result<usize, Box<dyn std::error::Error>> {
            Ok(args.next().ok_or(format!("{a} needs a value"))?.parse()?)
        };
        match a.as_str() {
            "--rows" => rows = val()?,
            "--clients" => clients = val()?.max(1),
            "--runs" => runs = val()?.max(1),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let d = data(rows, clients);
    let loops: [(&str, Loop); 2] = [("stream", stream_run), ("scatter", scatter_run)];
    for (name, run) in loops {
        let mut best = [Duration::MAX; 2];
        let mut check = [0u64; 2];
        for _ in 0..runs {
            for (k, threads) in [1usize, 2].into_iter().enumerate() {
                let t = Instant::now();
                check[k] = black_box(run(&d, threads));
                best[k] = best[k].min(t.elapsed());
            }
        }
        if check[0] != check[1] {
            return Err(format!("{name}: 1 and 2 threads disagree").into());
        }
        let (one, two) = (best[0].as_secs_f64(), best[1].as_secs_f64());
        println!(
            "{name:<8} rows {rows} clients {clients}: 1 thread {one:.4} s, 2 threads {two:.4} s, ratio {:.2}",
            one / two
        );
    }
    Ok(())
}
