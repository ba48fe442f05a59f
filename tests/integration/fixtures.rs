//! The fixture data set, valued and rolled up, against totals worked out by hand.
//!
//! tests/fixtures/deliveries.csv, row by row (prices from tests/fixtures/tables/):
//!
//! | row | delivery | table | billed × price | amount |
//! |---|---|---|---|---|
//! | 1 | C1 SHELTER 20, 2023-11-15 | 2023 | nights 1–20 at 25.00 | 500.00 |
//! | 2 | C1 SHELTER 25, 2024-01-10 | 2024 | new year: nights 1–25 at 28.00 | 700.00 |
//! | 3 | C1 SHELTER 10, 2024-02-10 | 2024 | nights 26–30: 5 × 28.00 + 31–35: 5 × 20.00 | 240.00 |
//! | 4 | C1 CONSULT 1.1 | 2024 | 1.1 → 1.25 h × 20.00 | 25.00 |
//! | 5 | C2 PSYCH 2 (PRV-A) | 2024 national | 2 × 35.00 | 70.00 |
//! | 6 | C3 PSYCH 3 (PRV-B) | PRV-B's own | 3 × 32.00 | 96.00 |
//! | 7 | C3 INTERPRET 0.7 | 2024 | 0.7 → 1.0 h × 25.00 | 25.00 |
//! | 8 | C3 TRANSPORT 480 | 2024 | 480 × 0.45 | 216.00 |
//! | 9 | C3 TRANSPORT 40.5 | 2024 | cap 500: 20 × 0.45; 20.5 km over cap | 9.00 |
//! | 10 | C3 MEDICAL 12.345 | 2024 | pass-through, half-up | 12.35 |
//! | 11 | YOGA | — | unknown element | rejected |
//! | 12 | CONSULT on 2022-05-01 | — | no table | rejected |
//! | 13 | client C9 | — | not in register | rejected |
//! | 14 | CONSULT 0 | — | quantity not positive | rejected |
//!
//! Total 500 + 700 + 240 + 25 + 70 + 96 + 25 + 216 + 9 + 12.35 = 1 893.35.
//! PRV-A: 500 + 700 + 240 + 25 + 70 = 1 535.00; PRV-B: 96 + 25 + 216 + 9 + 12.35 = 358.35.

use aidcost::{
    load_deliveries, value, Context, CsvOptions, GroupBy, Rollup, RollupContext, ValuationOptions,
};

use crate::{fixture, world};

fn rollup(by: &[GroupBy]) -> Vec<(String, String, u64)> {
    let w = world();
    let cx = Context {
        catalog: &w.catalog,
        book: &w.book,
        clients: Some(&w.clients),
    };
    let v = value(&w.deliveries, cx, ValuationOptions::default()).unwrap();
    let mut r = Rollup::new(by).unwrap();
    r.extend(
        v.views(&w.book),
        RollupContext {
            catalog: &w.catalog,
            clients: Some(&w.clients),
        },
    )
    .unwrap();
    r.groups()
        .map(|(k, t)| (k.to_string(), t.amount().to_string(), t.lines()))
        .collect()
}

#[test]
fn fixture_reconciles_and_totals_to_the_hand_figure() {
    let w = world();
    let cx = Context {
        catalog: &w.catalog,
        book: &w.book,
        clients: Some(&w.clients),
    };
    let v = value(&w.deliveries, cx, ValuationOptions::default()).unwrap();
    assert_eq!(
        (v.rows_read(), v.rows_valued(), v.rows_rejected()),
        (14, 10, 4)
    );
    assert_eq!(v.total().to_string(), "1893.35");
    let amounts: Vec<String> = v.lines().iter().map(|l| l.amount().to_string()).collect();
    assert_eq!(
        amounts,
        [
            "500.00", "700.00", "240.00", "25.00", "70.00", "96.00", "25.00", "216.00", "9.00",
            "12.35"
        ]
    );
    let reasons: Vec<(u64, &str, bool)> = v
        .rejections()
        .iter()
        .map(|r| (r.row(), r.reason().code(), r.is_partial()))
        .collect();
    assert_eq!(
        reasons,
        [
            (9, "over_cap", true),
            (11, "unknown_element", false),
            (12, "no_price", false),
            (13, "unknown_client", false),
            (14, "quantity_not_positive", false),
        ]
    );
}

#[test]
fn every_line_cites_table_version_hash_and_row() {
    let w = world();
    let cx = Context {
        catalog: &w.catalog,
        book: &w.book,
        clients: Some(&w.clients),
    };
    let v = value(&w.deliveries, cx, ValuationOptions::default()).unwrap();
    let cites: Vec<String> = v
        .views(&w.book)
        .map(|x| {
            format!(
                "{}@{} row {}",
                x.table.id(),
                x.table.version(),
                x.price_row.number()
            )
        })
        .collect();
    assert_eq!(cites[0], "test-national@2023 row 2");
    assert_eq!(cites[5], "test-prv-b@2024 row 1");
    for x in v.views(&w.book) {
        assert_eq!(x.table.sha256().len(), 64);
        let bytes = std::fs::read(x.table.origin()).unwrap();
        assert_eq!(x.table.sha256(), sha256_of(&bytes));
    }
}

/// The hash recomputed independently of the library's helper, with `sha2` directly.
fn sha256_of(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn rollups_by_each_key_match_the_hand_figures() {
    assert_eq!(
        rollup(&[GroupBy::Provider]),
        [
            ("PRV-A".into(), "1535.00".into(), 5),
            ("PRV-B".into(), "358.35".into(), 5)
        ]
    );
    assert_eq!(
        rollup(&[GroupBy::Client]),
        [
            ("C1".into(), "1465.00".into(), 4),
            ("C2".into(), "70.00".into(), 1),
            ("C3".into(), "358.35".into(), 5)
        ]
    );
    // C2 is C1's child: the household C1 carries both.
    assert_eq!(
        rollup(&[GroupBy::Household]),
        [
            ("C1".into(), "1535.00".into(), 5),
            ("C3".into(), "358.35".into(), 5)
        ]
    );
    assert_eq!(
        rollup(&[GroupBy::Year]),
        [
            ("2023".into(), "500.00".into(), 1),
            ("2024".into(), "1393.35".into(), 9)
        ]
    );
    assert_eq!(
        rollup(&[GroupBy::TargetGroup]),
        [
            ("working_age".into(), "1465.00".into(), 4),
            ("risk_minor".into(), "70.00".into(), 1),
            ("crisis".into(), "358.35".into(), 5),
        ]
    );
    assert_eq!(
        rollup(&[GroupBy::Category]),
        [
            ("general_social".into(), "25.00".into(), 1),
            ("logistics".into(), "225.00".into(), 2),
            ("accommodation".into(), "1440.00".into(), 3),
            ("psychological".into(), "166.00".into(), 2),
            ("language".into(), "25.00".into(), 1),
            ("health".into(), "12.35".into(), 1),
        ]
    );
    let by_pe = rollup(&[GroupBy::Provider, GroupBy::Element]);
    assert_eq!(by_pe.len(), 7);
    assert_eq!(by_pe[1], ("PRV-A / PSYCH".into(), "70.00".into(), 1));
    let months = rollup(&[GroupBy::Month]);
    assert_eq!(months[0], ("2023-11".into(), "500.00".into(), 1));
}

#[test]
fn the_excel_lithuanian_dialect_reads_to_the_same_deliveries() {
    let plain = load_deliveries(fixture("deliveries.csv"), CsvOptions::detect()).unwrap();
    let excel = load_deliveries(fixture("deliveries-excel-lt.csv"), CsvOptions::detect()).unwrap();
    assert_eq!(plain, excel);
}
