//! Writes the benchmark data (see `benches/data/gen.rs`):
//!
//! ```sh
//! cargo run --release --example gen_bench -- [DIR] [ROWS] [CLIENTS]
//! ```
//!
//! Defaults: `bench-data`, 10,000,000 deliveries, 200,000 clients.

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../benches/data/gen.rs"]
mod gen;

use std::path::PathBuf;

use aidcost::{Catalog, Unit};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "bench-data".to_owned()));
    let rows: usize = args.next().map_or(Ok(10_000_000), |s| s.parse())?;
    let clients: usize = args.next().map_or(Ok(200_000), |s| s.parse())?;
    let catalog = Catalog::shipped()?;
    let elements: Vec<(String, bool)> = catalog
        .iter()
        .map(|e| (e.code().to_string(), e.unit() == Unit::Eur))
        .collect();
    let started = std::time::Instant::now();
    gen::write_all(&dir, rows, clients, &elements)?;
    eprintln!(
        "wrote {rows} deliveries of {clients} clients over {} elements to {} in {:.1?}",
        elements.len(),
        dir.display(),
        started.elapsed()
    );
    Ok(())
}
