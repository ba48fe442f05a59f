//! Valuation and per-client rollup of 1,000,000 synthetic deliveries (200,000 clients, every
//! catalog element) against the shipped 2024 national table.

#![allow(missing_docs)] // criterion_group! generates undocumented functions
use std::hint::black_box;

use aidcost::{
    value, Catalog, ClientId, Context, Date, Delivery, ElementCode, GroupBy, PriceBook, ProviderId,
    Quantity, Rollup, RollupContext, ValuationOptions,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rust_decimal::Decimal;

/// Deterministic synthetic deliveries: a splitmix64 stream picks client, provider, element,
/// day of 2024 and a two-decimal quantity.
fn synthetic(n: usize, clients: usize, catalog: &Catalog) -> Vec<Delivery> {
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let client_ids: Vec<ClientId> = (0..clients)
        .map(|i| ClientId::new(&format!("C{i:06}")).unwrap())
        .collect();
    let providers: Vec<ProviderId> = (0..10)
        .map(|i| ProviderId::new(&format!("PRV-{i:02}")).unwrap())
        .collect();
    let elements: Vec<ElementCode> = catalog.iter().map(|e| e.code().clone()).collect();
    (0..n)
        .map(|_| {
            let r = next();
            let month = (r % 12) as u8 + 1;
            let day = ((r >> 8) % 28) as u8 + 1;
            Delivery::new(
                Date::new(2024, month, day).unwrap(),
                providers[((r >> 16) % 10) as usize].clone(),
                client_ids[((r >> 24) % clients as u64) as usize].clone(),
                elements[((r >> 44) % elements.len() as u64) as usize].clone(),
                Quantity::new(Decimal::new(((r >> 52) % 400 + 1) as i64, 2)),
            )
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let catalog = Catalog::shipped().unwrap();
    let book = PriceBook::shipped(&catalog).unwrap();
    let deliveries = synthetic(1_000_000, 200_000, &catalog);
    let mut group = c.benchmark_group("value_and_rollup_per_client");
    group.sample_size(10);
    group.throughput(Throughput::Elements(deliveries.len() as u64));
    group.bench_function("1M_deliveries_200k_clients", |b| {
        b.iter(|| {
            let cx = Context {
                catalog: &catalog,
                book: &book,
                clients: None,
            };
            let v = value(black_box(&deliveries), cx, ValuationOptions::default()).unwrap();
            let mut r = Rollup::new(&[GroupBy::Client]).unwrap();
            r.extend(
                v.views(&book),
                RollupContext {
                    catalog: &catalog,
                    clients: None,
                },
            )
            .unwrap();
            black_box(r.total().amount())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
