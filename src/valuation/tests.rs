use super::*;
use crate::testkit::{book, catalog, delivery};

/// (row, billed quantity, amount) per line; (row, reason code, partial) per rejection; total.
type Outcome = (Vec<(u64, String, String)>, Vec<(u64, String, bool)>, String);

fn run(ds: &[Delivery]) -> Outcome {
    let c = catalog();
    let b = book(&c);
    let v = value(
        ds,
        Context {
            catalog: &c,
            book: &b,
            clients: None,
        },
        ValuationOptions::default(),
    )
    .unwrap();
    assert_eq!(v.rows_read(), v.rows_valued() + v.rows_rejected());
    (
        v.lines()
            .iter()
            .map(|l| {
                (
                    l.row(),
                    l.billed_quantity().to_string(),
                    l.amount().to_string(),
                )
            })
            .collect(),
        v.rejections()
            .iter()
            .map(|r| (r.row(), r.reason().code().to_owned(), r.is_partial()))
            .collect(),
        v.total().to_string(),
    )
}

#[test]
fn flat_price_with_increment_rounds_the_quantity_up_then_the_amount_once() {
    // 1.1 h → 1.25 h billed × 20.00 = 25.00; 0.3 h → 0.5 h × 20.00 = 10.00.
    let (lines, rej, total) = run(&[
        delivery("2024-02-01", "C1", "CONSULT", "1.1"),
        delivery("2024-02-02", "C1", "CONSULT", "0.3"),
    ]);
    assert_eq!(
        lines,
        [
            (1, "1.25".into(), "25.00".into()),
            (2, "0.50".into(), "10.00".into())
        ]
    );
    assert!(rej.is_empty());
    assert_eq!(total, "35.00");
}

#[test]
fn pass_through_is_priced_at_one_and_rounded_half_up() {
    // 12.345 € → 12.345 × 1 = 12.345 → half-up 12.35 (banker's would give 12.34).
    let (lines, _, _) = run(&[delivery("2024-02-01", "C1", "MEDICAL", "12.345")]);
    assert_eq!(lines[0].2, "12.35");
}

#[test]
fn tiers_count_the_clients_nights_across_the_year_in_date_order() {
    // C1: 20 nights in March (tier 1: 20 × 30 = 600.00), then 15 in May: 10 at 30.00 + 5 at
    // 20.00 = 400.00. Given in reverse order: the result must not change.
    let ds = [
        delivery("2024-05-01", "C1", "SHELTER", "15"),
        delivery("2024-03-01", "C1", "SHELTER", "20"),
    ];
    let (lines, rej, total) = run(&ds);
    assert!(rej.is_empty());
    assert_eq!(
        lines,
        [
            (1, "15".into(), "400.00".into()),
            (2, "20".into(), "600.00".into())
        ]
    );
    assert_eq!(total, "1000.00");
}

#[test]
fn the_cap_values_the_part_within_it_and_rejects_the_excess() {
    // Cap 90 nights: 80 nights (30 × 30 + 50 × 20 = 1 900.00), then 25 more: 10 within the
    // cap at 20.00 = 200.00 and 15 over; then 5 more: wholly over.
    let (lines, rej, total) = run(&[
        delivery("2024-01-10", "C1", "SHELTER", "80"),
        delivery("2024-06-10", "C1", "SHELTER", "25"),
        delivery("2024-07-10", "C1", "SHELTER", "5"),
        // Another client starts from zero.
        delivery("2024-07-10", "C2", "SHELTER", "1"),
    ]);
    assert_eq!(
        lines,
        [
            (1, "80".into(), "1900.00".into()),
            (2, "10".into(), "200.00".into()),
            (4, "1".into(), "30.00".into())
        ]
    );
    assert_eq!(
        rej,
        [(2, "over_cap".into(), true), (3, "over_cap".into(), false)]
    );
    assert_eq!(total, "2130.00");
}

#[test]
fn the_over_cap_rejection_carries_the_excess() {
    let c = catalog();
    let b = book(&c);
    let ds = [delivery("2024-01-10", "C1", "SHELTER", "100")];
    let v = value(
        &ds,
        Context {
            catalog: &c,
            book: &b,
            clients: None,
        },
        ValuationOptions::default(),
    )
    .unwrap();
    assert_eq!(
        v.rejections()[0].reason().to_string(),
        "over cap: `SHELTER` is capped at 90 per client per year; 10 beyond it is not priced"
    );
    // Tiers: 30 × 30 + 60 × 20 = 2 100.00.
    assert_eq!(v.total().to_string(), "2100.00");
    let parts = v.lines()[0].tiers().unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(
        (parts[1].from.to_string(), parts[1].to.to_string()),
        ("30".into(), "90".into())
    );
}

#[test]
fn the_cap_resets_each_calendar_year() {
    let (lines, rej, _) = run(&[
        delivery("2024-12-31", "C1", "SHELTER", "90"),
        delivery("2025-01-01", "C1", "SHELTER", "1"),
    ]);
    assert_eq!(lines.len(), 1);
    // 2025 has no table at all: a miss, not over cap.
    assert_eq!(rej, [(2, "no_price".into(), false)]);
}

#[test]
fn every_rejection_reason_from_a_bad_row() {
    let c = catalog();
    let b = book(&c);
    let reg = crate::ClientRegister::new(vec![crate::Client::new(
        "C1".parse().unwrap(),
        "PRV-A".parse().unwrap(),
        "2024-01-01".parse().unwrap(),
    )])
    .unwrap();
    let ds = [
        delivery("2024-02-01", "C1", "YOGA", "1"),
        delivery("2024-02-01", "C1", "CONSULT", "1").with_unit(Unit::Session),
        delivery("2024-02-01", "C9", "CONSULT", "1"),
        delivery("2023-02-01", "C1", "CONSULT", "1"),
        delivery("2024-02-01", "C1", "CONSULT", "0"),
        delivery("2024-02-01", "C1", "CONSULT", "-2"),
        delivery("2024-02-01", "C1", "SHELTER", "91"),
        delivery(
            "2024-02-01",
            "C1",
            "CONSULT",
            "79228162514264337593543950335",
        ),
        delivery("2024-02-01", "C1", "CONSULT", "1"),
    ];
    let v = value(
        &ds,
        Context {
            catalog: &c,
            book: &b,
            clients: Some(&reg),
        },
        ValuationOptions::default(),
    )
    .unwrap();
    let got: Vec<String> = v
        .rejections()
        .iter()
        .map(|r| format!("{} {}", r.row(), r.reason()))
        .collect();
    assert_eq!(
        got,
        [
            "1 unknown element `YOGA`",
            "2 unit mismatch: `CONSULT` is priced per hour, the row gives session",
            "3 unknown client `C9`: not in the client register",
            "4 no price: no table prices `CONSULT` for provider `PRV-A` on 2023-02-01",
            "5 quantity not positive: 0",
            "6 quantity not positive: -2",
            "7 over cap: `SHELTER` is capped at 90 per client per year; 1 beyond it is not priced",
            "8 overflow: the amount is out of range",
        ]
    );
    assert_eq!(
        (v.rows_read(), v.rows_valued(), v.rows_rejected()),
        (9, 2, 7)
    );
}

#[test]
fn strict_mode_turns_the_first_rejection_into_an_error() {
    let c = catalog();
    let b = book(&c);
    let ds = [
        delivery("2024-02-01", "C1", "CONSULT", "1"),
        delivery("2024-02-01", "C1", "YOGA", "1"),
    ];
    let err = value(
        &ds,
        Context {
            catalog: &c,
            book: &b,
            clients: None,
        },
        ValuationOptions::strict(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "row 2: unknown element `YOGA` (strict mode)"
    );
}
