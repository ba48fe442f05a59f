//! The columnar fast path at scale: valuation plus per-client rollup of the benchmark data
//! (`benches/data/gen.rs`: 200,000 clients, 10 providers, every catalog element, two-decimal
//! quantities), in memory, with flat prices and with tiers, increments and caps, on one
//! thread and on two.
//!
//! ```sh
//! cargo bench --bench scale                          # 1,000,000 and 10,000,000 rows
//! AIDCOST_BENCH_ROWS=1000000 cargo bench --bench scale
//! ```
//!
//! The data is written once to `target/bench-scale-ROWS/` (about 40 bytes a row).

#![allow(missing_docs)] // criterion_group! generates undocumented functions
#![allow(clippy::print_stderr)]

#[path = "data/gen.rs"]
mod gen;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use aidcost::columnar::{value_by_client, ColumnarOptions, Columns};
use aidcost::{Catalog, Context, CsvOptions, PriceBook, Unit};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const CLIENTS: usize = 200_000;

fn sizes() -> Vec<usize> {
    std::env::var("AIDCOST_BENCH_ROWS")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000_000, 10_000_000])
}

/// The data folder for `rows` rows, written when absent.
fn data(rows: usize, catalog: &Catalog) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
        PathBuf::from,
    );
    let dir = target.join(format!("bench-scale-{rows}"));
    if !dir.join("deliveries.csv").is_file() {
        let elements: Vec<(String, bool)> = catalog
            .iter()
            .map(|e| (e.code().to_string(), e.unit() == Unit::Eur))
            .collect();
        eprintln!("writing {rows} benchmark deliveries to {}", dir.display());
        gen::write_all(&dir, rows, CLIENTS.min(rows), &elements).expect("benchmark data");
    }
    dir
}

fn bench(c: &mut Criterion) {
    let catalog = Catalog::shipped().unwrap();
    for rows in sizes() {
        let dir = data(rows, &catalog);
        let columns = Columns::read_csv(dir.join("deliveries.csv"), CsvOptions::detect(), &catalog)
            .unwrap()
            .expect("the generated file takes the fast reader");
        let mut group = c.benchmark_group(format!("value_by_client/{rows}"));
        group.throughput(Throughput::Elements(rows as u64));
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(if rows > 2_000_000 { 20 } else { 5 }));
        for (name, tables) in [("flat", "tables-flat"), ("tiered", "tables-tiered")] {
            let book = PriceBook::load_dir(dir.join(tables), &catalog).unwrap();
            let cx = Context {
                catalog: &catalog,
                book: &book,
                clients: None,
            };
            for threads in [1, 2] {
                group.bench_function(format!("{name}/threads-{threads}"), |b| {
                    b.iter(|| {
                        black_box(
                            value_by_client(&columns, cx, ColumnarOptions::threads(threads))
                                .unwrap(),
                        )
                    })
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
