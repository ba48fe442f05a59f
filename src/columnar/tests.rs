//! Laws of the fast path: it equals the general path, to the cent and to the row.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use rust_decimal::Decimal;

use super::plan::{round_scaled, to_scaled, AS};
use super::*;
use crate::testkit;
use crate::{
    value, Catalog, ClientId, CsvOptions, Date, Delivery, ElementCode, GroupBy, PriceBook,
    PricingTable, ProviderId, Quantity, Rollup, RollupContext, Rounding, Unit, ValuationOptions,
};

/// PRV-B's own table for the second half of 2024: flat prices with odd decimals, a capped flat
/// row, half-even rounding to one decimal.
const PROVIDER_B: &str = r#"schema = 1
id = "prv-b"
version = "2024-h2"
scope = "provider"
provider = "PRV-B"
valid_from = "2024-07-01"
valid_to = "2024-12-31"
source = "test"

[rounding]
mode = "half_even"
decimals = 1

[[price]]
element = "CONSULT"
unit_price = "17.333"
min_increment = "0.1"

[[price]]
element = "SHELTER"
unit_price = "12.345"
cap_per_client_year = "10.5"
"#;

/// 2023: rounding down to three decimals, tiers with a fractional bound.
const NATIONAL_2023: &str = r#"schema = 1
id = "lt-national"
version = "2023"
scope = "national"
valid_from = "2023-01-01"
valid_to = "2023-12-31"
source = "test"

[rounding]
mode = "down"
decimals = 3

[[price]]
element = "CONSULT"
unit_price = "19.995"

[[price]]
element = "SHELTER"
tiers = [
  { up_to = "2.5", unit_price = "10.005" },
  { up_to = "7", unit_price = "9.999" },
  { unit_price = "0.01" },
]
min_increment = "0.5"

[[price]]
element = "MEDICAL"
pass_through = true
"#;

/// 2022: a capped flat price (so two elements price by the client's year), and tiers whose
/// first price is so large that the scaled integers overflow past one unit: such a client
/// is valued through the decimal path.
const NATIONAL_2022: &str = r#"schema = 1
id = "lt-national"
version = "2022"
scope = "national"
valid_from = "2022-01-01"
valid_to = "2022-12-31"
source = "test"

[[price]]
element = "CONSULT"
unit_price = "3.10"
cap_per_client_year = "6.5"

[[price]]
element = "SHELTER"
tiers = [
  { up_to = "1", unit_price = "900000000000000.00" },
  { unit_price = "1.25" },
]

[[price]]
element = "MEDICAL"
pass_through = true
"#;

fn book(catalog: &Catalog) -> PriceBook {
    let t = |text: &str, name: &str| PricingTable::from_toml(text, Path::new(name)).unwrap();
    PriceBook::new(
        catalog,
        vec![
            t(testkit::NATIONAL, "n.toml"),
            t(PROVIDER_B, "b.toml"),
            t(NATIONAL_2023, "n23.toml"),
            t(NATIONAL_2022, "n22.toml"),
        ],
    )
    .unwrap()
}

/// The context of the tests: no client register.
fn context<'a>(catalog: &'a Catalog, book: &'a PriceBook) -> Context<'a> {
    Context {
        catalog,
        book,
        clients: None,
    }
}

fn general(deliveries: &[Delivery], catalog: &Catalog, book: &PriceBook) -> ByClient {
    let cx = context(catalog, book);
    let v = value(deliveries, cx, ValuationOptions::default()).unwrap();
    let mut rollup = Rollup::new(&[GroupBy::Client]).unwrap();
    rollup
        .extend(
            v.views(book),
            RollupContext {
                catalog,
                clients: None,
            },
        )
        .unwrap();
    ByClient::from_general(&v, &rollup)
}

/// Equal counts, total, rejections (and their messages) and totals by client (and their
/// printed figures).
fn assert_same(fast: &ByClient, general: &ByClient) {
    assert_eq!(fast.rows_read(), general.rows_read(), "rows read");
    assert_eq!(fast.rows_valued(), general.rows_valued(), "rows valued");
    assert_eq!(
        fast.rows_rejected(),
        general.rows_rejected(),
        "rows rejected"
    );
    assert_eq!(fast.total(), general.total(), "total");
    assert_eq!(fast.rejections(), general.rejections(), "rejections");
    let said = |b: &ByClient| -> Vec<String> {
        b.rejections()
            .iter()
            .map(|r| format!("{} {} {}", r.row(), r.is_partial(), r.reason()))
            .collect()
    };
    assert_eq!(said(fast), said(general));
    assert_eq!(
        fast.to_rollup().unwrap(),
        general.to_rollup().unwrap(),
        "rollup"
    );
    let shown = |b: &ByClient| -> Vec<String> {
        b.to_rollup()
            .unwrap()
            .groups()
            .map(|(k, t)| {
                let q = t
                    .quantity()
                    .map(|(q, u)| format!("{} {u}", q.get().normalize()));
                format!("{k} {} {:?} {}", t.lines(), q, t.amount().get().normalize())
            })
            .collect()
    };
    assert_eq!(shown(fast), shown(general));
}

fn check(deliveries: &[Delivery]) {
    let catalog = testkit::catalog();
    let book = book(&catalog);
    let expected = general(deliveries, &catalog, &book);
    let columns = Columns::from_deliveries(deliveries, &catalog).unwrap();
    let cx = context(&catalog, &book);
    for options in both_widths(&[1, 2, 3]) {
        let fast = value_by_client(&columns, cx, options).unwrap();
        assert_same(&fast, &expected);
    }
}

/// Options for each of `threads`, with pass 2's records in 64 bits where they fit and in
/// 128 bits.
fn both_widths(threads: &[usize]) -> impl Iterator<Item = ColumnarOptions> + '_ {
    threads.iter().flat_map(|&threads| {
        [false, true].map(|wide| ColumnarOptions {
            wide,
            ..ColumnarOptions::threads(threads)
        })
    })
}

fn arb_delivery() -> impl Strategy<Value = Delivery> {
    (
        (0u8..8, 0usize..3, 0usize..4),
        (2022u16..=2024, 1u8..=12, 1u8..=28),
        (-20i64..1500, 0u32..=5, 0u8..20),
        0u8..10,
    )
        .prop_map(|((c, p, e), (y, m, d), (q, scale, big), unit)| {
            let element = ["CONSULT", "SHELTER", "MEDICAL", "UNKNOWN_X"][e];
            let quantity = match big {
                // Beyond the scaled integers: the decimal path.
                0 => Decimal::new(q.abs() + 1, 0) * Decimal::new(100_000_000_000_000_000, 0),
                _ => Decimal::new(q, scale),
            };
            let mut delivery = Delivery::new(
                Date::new(y, m, d).unwrap(),
                ProviderId::new(["PRV-A", "PRV-B", "PRV-C"][p]).unwrap(),
                ClientId::new(&format!("C{c}")).unwrap(),
                ElementCode::new(element).unwrap(),
                Quantity::new(quantity),
            );
            if unit == 0 {
                delivery = delivery.with_unit(Unit::Hour);
            }
            delivery
        })
}

/// Rows every one of which the fast path takes: positive quantities with at most four
/// decimals, no stated unit; many clients, so that their stateful rows fall in many ranges.
fn arb_clean_delivery() -> impl Strategy<Value = Delivery> {
    (
        (0u8..40, 0usize..3, 0usize..3),
        (2022u16..=2024, 1u8..=12, 1u8..=28),
        (1i64..40_000, 0u32..=4),
    )
        .prop_map(|((c, p, e), (y, m, d), (q, scale))| {
            Delivery::new(
                Date::new(y, m, d).unwrap(),
                ProviderId::new(["PRV-A", "PRV-B", "PRV-C"][p]).unwrap(),
                ClientId::new(&format!("C{c}")).unwrap(),
                ElementCode::new(["CONSULT", "SHELTER", "MEDICAL"][e]).unwrap(),
                Quantity::new(Decimal::new(q, scale)),
            )
        })
}

/// One national table over two years for every provider and date, so that each element's
/// stateful rows take the tight loop of their shape when it has one: capped flat prices
/// (a capped pass-through is one too), two tiers, and shapes that keep the general loop
/// (three tiers, tiers with a cap, a cap with an increment); prices so large that the scaled
/// integers overflow, for both tight loops; simple rows with and without an increment.
/// `{rounding}` is replaced by a rounding section.
const UNIFORM: &str = r#"schema = 1
id = "lt-national"
version = "2023-2024"
scope = "national"
valid_from = "2023-01-01"
valid_to = "2024-12-31"
source = "test"
{rounding}
[[price]]
element = "INTAKE"
tiers = [
  { up_to = "2.5", unit_price = "10.005" },
  { unit_price = "8.00" },
]

[[price]]
element = "INFO"
unit_price = "24.555"
cap_per_client_year = "4"

[[price]]
element = "CONSULT"
unit_price = "31.75"
cap_per_client_year = "4.50"

[[price]]
element = "MEDIATE"
tiers = [
  { up_to = "1", unit_price = "38.00" },
  { up_to = "3.25", unit_price = "30.40" },
  { unit_price = "20.01" },
]

[[price]]
element = "SHELTER"
tiers = [
  { up_to = "2", unit_price = "42.00" },
  { unit_price = "33.60" },
]
cap_per_client_year = "5.5"

[[price]]
element = "FOOD"
unit_price = "12.50"
min_increment = "0.25"
cap_per_client_year = "4"

[[price]]
element = "DOCS"
pass_through = true
cap_per_client_year = "6"

[[price]]
element = "ESSENTIALS"
unit_price = "19.75"

[[price]]
element = "CASE_MGMT"
unit_price = "17.25"
min_increment = "0.25"

[[price]]
element = "SKILLS"
tiers = [
  { up_to = "1", unit_price = "900000000000000.00" },
  { unit_price = "1.25" },
]

[[price]]
element = "TRAINING"
unit_price = "900000000000000.00"
cap_per_client_year = "4"
"#;

/// One national table over two years in which every element priced by the client's year
/// has a shape of the one branch-free pass for tiers and caps: two tiers (one with a bound
/// of one decimal), capped flat prices with caps written with and without decimals, a capped
/// pass-through (in euros, beside lines in hours); flat prices and an increment beside them,
/// and HYGIENE unpriced. The elements are those [`arb_uniform_delivery`] picks.
const TWO_SHAPES: &str = r#"schema = 1
id = "lt-national"
version = "2023-2024"
scope = "national"
valid_from = "2023-01-01"
valid_to = "2024-12-31"
source = "test"

[[price]]
element = "INTAKE"
tiers = [
  { up_to = "2.5", unit_price = "10.005" },
  { unit_price = "8.00" },
]

[[price]]
element = "INFO"
unit_price = "24.555"
cap_per_client_year = "4"

[[price]]
element = "CONSULT"
unit_price = "31.75"
cap_per_client_year = "4.50"

[[price]]
element = "MEDIATE"
tiers = [
  { up_to = "1", unit_price = "38.00" },
  { unit_price = "30.40" },
]

[[price]]
element = "SHELTER"
tiers = [
  { up_to = "2", unit_price = "42.00" },
  { unit_price = "0" },
]

[[price]]
element = "FOOD"
unit_price = "12.50"
cap_per_client_year = "0.5"

[[price]]
element = "DOCS"
pass_through = true
cap_per_client_year = "6"

[[price]]
element = "ESSENTIALS"
unit_price = "19.75"

[[price]]
element = "CASE_MGMT"
unit_price = "17.25"
min_increment = "0.25"

[[price]]
element = "SKILLS"
tiers = [
  { up_to = "0.0001", unit_price = "99999.9999" },
  { unit_price = "1.25" },
]

[[price]]
element = "TRAINING"
unit_price = "0"
cap_per_client_year = "1"
"#;

/// The fast path and the general path on `deliveries` priced by `UNIFORM` with `rounding`.
fn check_uniform(deliveries: &[Delivery], rounding: &str) {
    check_one_table(deliveries, &UNIFORM.replace("{rounding}", rounding));
}

/// One national table of flat prices for every element of `catalog` (euro elements passed
/// through), CASE_MGMT and FOOD with a minimum increment: every element is simple and the
/// price block is the same for every row, so pass 1 takes its loop for such a block.
fn flat_increments(catalog: &Catalog) -> String {
    let mut text = String::from(
        "schema = 1\nid = \"lt-national\"\nversion = \"2023-2024\"\nscope = \"national\"\n\
         valid_from = \"2023-01-01\"\nvalid_to = \"2024-12-31\"\nsource = \"test\"\n",
    );
    for e in catalog.iter() {
        let code = e.code().as_str();
        let price = match code {
            "CONSULT" => "unit_price = \"31.75\"",
            "CASE_MGMT" => "unit_price = \"17.25\"\nmin_increment = \"0.25\"",
            "FOOD" => "unit_price = \"12.50\"\nmin_increment = \"0.3\"",
            _ if e.unit() == Unit::Eur => "pass_through = true",
            _ => "unit_price = \"19.75\"",
        };
        text.push_str(&format!("\n[[price]]\nelement = \"{code}\"\n{price}\n"));
    }
    text
}

/// The fast path and the general path on `deliveries` priced by the one table `text`.
fn check_one_table(deliveries: &[Delivery], text: &str) {
    let catalog = Catalog::shipped().unwrap();
    let table = PricingTable::from_toml(text, Path::new("u.toml")).unwrap();
    let book = PriceBook::new(&catalog, vec![table]).unwrap();
    let expected = general(deliveries, &catalog, &book);
    let columns = Columns::from_deliveries(deliveries, &catalog).unwrap();
    let cx = context(&catalog, &book);
    for options in both_widths(&[1, 2]) {
        let fast = value_by_client(&columns, cx, options).unwrap();
        assert_same(&fast, &expected);
    }
}

/// Rows for [`UNIFORM`]: two years, positive quantities with up to four decimals, large
/// enough to cross the tiers' bounds and the caps.
fn arb_uniform_delivery() -> impl Strategy<Value = Delivery> {
    const ELEMENTS: [&str; 12] = [
        "INTAKE",
        "INFO",
        "CONSULT",
        "MEDIATE",
        "SHELTER",
        "FOOD",
        "DOCS",
        "ESSENTIALS",
        "HYGIENE",
        "CASE_MGMT",
        "SKILLS",
        "TRAINING",
    ];
    (
        (0u8..30, 0usize..3, 0usize..ELEMENTS.len()),
        (2023u16..=2024, 1u8..=12, 1u8..=28),
        (1i64..30_000, 0u32..=4),
    )
        .prop_map(|((c, p, e), (y, m, d), (q, scale))| {
            // Only a few clients have the elements whose prices overflow (such a client is
            // valued through the decimal path as a whole).
            let element = match ELEMENTS[e] {
                "SKILLS" | "TRAINING" if c < 24 => "CASE_MGMT",
                other => other,
            };
            Delivery::new(
                Date::new(y, m, d).unwrap(),
                ProviderId::new(["PRV-A", "PRV-B", "PRV-C"][p]).unwrap(),
                ClientId::new(&format!("C{c}")).unwrap(),
                ElementCode::new(element).unwrap(),
                Quantity::new(Decimal::new(q, scale)),
            )
        })
}

#[test]
fn rounding_up_by_multiplication_equals_dividing() {
    // Every divisor from 1 to 2¹⁶, at multiples and their neighbours, small numerators and
    // the largest the loop takes (below 2²⁴).
    for d in 1u32..=1 << 16 {
        let m = magic(d);
        let top = (1u32 << 24) - 1;
        for q in [
            1,
            2,
            d - 1,
            d,
            d + 1,
            2 * d - 1,
            2 * d,
            3 * d + 1,
            top - d,
            top - 1,
            top,
        ] {
            if q == 0 || q >= 1 << 24 {
                continue;
            }
            assert_eq!(up_to(q, d, m), q.div_ceil(d) * d, "{q} by {d}");
        }
    }
    // Every numerator for a few divisors, the increments a table is likely to have.
    for d in [1u32, 3, 7, 25, 2500, 5000, 65535, 65536] {
        let m = magic(d);
        for q in 1..1 << 20 {
            assert_eq!(up_to(q, d, m), q.div_ceil(d) * d, "{q} by {d}");
        }
    }
}

#[test]
fn uniform_rows_across_chunks_and_threads() {
    // More rows than a chunk (4,096) in each thread's share, over enough clients that no
    // client's simple sums may carry (8 lines in tests): pass 1's split meets chunk and
    // piece boundaries.
    const ELEMENTS: [&str; 10] = [
        "INTAKE",
        "INFO",
        "CONSULT",
        "MEDIATE",
        "SHELTER",
        "FOOD",
        "DOCS",
        "ESSENTIALS",
        "CASE_MGMT",
        "HYGIENE",
    ];
    let deliveries = random_rows(0x2545_f491_4f6c_dd1d, &ELEMENTS, |next| {
        format!("{}.{:02}", next(5), next(100) + 1)
    });
    check_uniform(&deliveries, "");
}

/// 12,000 rows over 4,000 clients in 2023 and 2024 (more than a chunk of 4,096 in each
/// thread's share), each of one of `elements`, drawn by a xorshift from `seed`; `quantity`
/// writes each row's quantity from the same draws (`next(n)` is below `n`).
fn random_rows(
    seed: u64,
    elements: &[&str],
    quantity: impl Fn(&mut dyn FnMut(u64) -> u64) -> String,
) -> Vec<Delivery> {
    random_rows_of(seed, (12_000, 4_000), elements, quantity)
}

/// [`random_rows`] with `(rows, clients)`.
fn random_rows_of(
    seed: u64,
    (rows, clients): (usize, u64),
    elements: &[&str],
    quantity: impl Fn(&mut dyn FnMut(u64) -> u64) -> String,
) -> Vec<Delivery> {
    let mut x = seed;
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    (0..rows)
        .map(|_| {
            let date = format!("{}-{:02}-{:02}", 2023 + next(2), next(12) + 1, next(28) + 1);
            let client = format!("C{}", next(clients));
            let element = elements[next(elements.len() as u64) as usize];
            let q = quantity(&mut next);
            testkit::delivery(&date, &client, element, &q)
        })
        .collect()
}

#[test]
fn tiers_and_caps_in_ranges_of_the_release_size() {
    // Tests otherwise put 2 clients in a range of pass 2; here ranges take their release
    // size (1,024 clients for these tables' elements), so 3,000 clients fill two and part
    // of a third, each a counting sort over thousands of buckets. Both tables have caps and
    // tiers: TWO_SHAPES in the one branch-free pass, UNIFORM in the general loop (with
    // the clients of SKILLS or TRAINING, whose prices leave the scaled integers, through
    // the decimal path). Quantities reach 3.99, so that both cross tiers and caps, alone
    // and in turn; in each set all are written with the same decimals (two, then one),
    // whose rejections in part tell their excess's decimals without looking back (one
    // decimal, below CONSULT's cap of 4.50).
    // Simple elements are rare: under test, a client with more than 8 simple lines sends
    // the whole run through the checked paths (see `LINE_BITS`).
    let mut elements = vec!["SKILLS", "TRAINING", "ESSENTIALS", "CASE_MGMT", "HYGIENE"];
    for _ in 0..6 {
        elements.extend([
            "INTAKE", "INFO", "CONSULT", "MEDIATE", "SHELTER", "FOOD", "DOCS",
        ]);
    }
    let catalog = Catalog::shipped().unwrap();
    let book_of = |text: &str| {
        let table = PricingTable::from_toml(text, Path::new("u.toml")).unwrap();
        PriceBook::new(&catalog, vec![table]).unwrap()
    };
    let two_decimals = |next: &mut dyn FnMut(u64) -> u64| format!("{}.{:02}", next(4), next(100));
    let one_decimal = |next: &mut dyn FnMut(u64) -> u64| format!("{}.{}", next(4), next(10));
    let sets = [
        random_rows_of(
            0xd1b5_4a32_d192_ed03,
            (40_000, 3_000),
            &elements,
            two_decimals,
        ),
        random_rows_of(
            0x8cb9_2ba7_2f3d_8dd7,
            (40_000, 3_000),
            &elements,
            one_decimal,
        ),
    ];
    for deliveries in &sets {
        let columns = Columns::from_deliveries(deliveries, &catalog).unwrap();
        for text in [TWO_SHAPES.to_owned(), UNIFORM.replace("{rounding}", "")] {
            let book = book_of(&text);
            let expected = general(deliveries, &catalog, &book);
            // The data must reach what the test is for: rejections over a cap, whole and
            // in part.
            let over = |partial: bool| {
                let over_cap =
                    |r: &&Rejection| matches!(r.reason(), crate::RejectReason::OverCap { .. });
                let all = expected.rejections().iter();
                all.filter(over_cap)
                    .filter(|r| r.is_partial() == partial)
                    .count()
            };
            assert!(over(true) > 100 && over(false) > 100);
            for options in both_widths(&[1, 2]) {
                let options = ColumnarOptions {
                    full_ranges: true,
                    ..options
                };
                let fast = value_by_client(&columns, context(&catalog, &book), options);
                assert_same(&fast.unwrap(), &expected);
            }
        }
    }
}

#[test]
fn flat_prices_with_increments_across_chunks_and_threads() {
    // Every element simple, two with a minimum increment: the loop for one price block of
    // simple elements only, over more rows than a chunk in each thread's share. Quantities
    // have four decimals, a quarter of them below one.
    const ELEMENTS: [&str; 5] = ["CONSULT", "CASE_MGMT", "ESSENTIALS", "FOOD", "INFO"];
    let deliveries = random_rows(0x9e37_79b9_7f4a_7c15, &ELEMENTS, |next| {
        format!("{}.{:04}", next(4), next(10_000))
    });
    let catalog = Catalog::shipped().unwrap();
    let text = flat_increments(&catalog);
    check_one_table(&deliveries, &text);
    // By hand: CASE_MGMT 0.26 is billed 0.5 (17.25 × 0.5 = 8.625 → 8.63); FOOD 0.31 is
    // billed 0.6 (12.50 × 0.6 = 7.50); CONSULT 0.01 is 0.3175 → 0.32. Together 16.45.
    let few = [
        testkit::delivery("2024-03-01", "C1", "CASE_MGMT", "0.26"),
        testkit::delivery("2024-03-02", "C1", "FOOD", "0.31"),
        testkit::delivery("2024-03-03", "C1", "CONSULT", "0.01"),
    ];
    let table = PricingTable::from_toml(&text, Path::new("u.toml")).unwrap();
    let book = PriceBook::new(&catalog, vec![table]).unwrap();
    let columns = Columns::from_deliveries(&few, &catalog).unwrap();
    let fast = value_by_client(
        &columns,
        context(&catalog, &book),
        ColumnarOptions::threads(1),
    );
    assert_eq!(fast.unwrap().total().get(), Decimal::new(1645, 2));
}

#[test]
fn uniform_caps_met_exactly_and_tiers_ended_exactly() {
    // INFO (cap 4): 1.5 and 2.5 meet the cap exactly, 0.5 is then wholly over it, and the
    // same client's next year starts again; CONSULT (cap 4.50) is met by one row;
    // INTAKE's first tier (2.5) ends exactly at a row's end; SHELTER and FOOD keep the
    // general loop. Dates are out of order, as in a file.
    let rows = [
        ("2024-03-01", "INFO", "2.5"),
        ("2024-01-01", "INFO", "1.5"),
        ("2024-05-01", "INFO", "0.5"),
        ("2023-05-01", "INFO", "4.25"),
        ("2024-02-02", "CONSULT", "4.50"),
        ("2024-02-03", "CONSULT", "0.01"),
        ("2024-06-01", "INTAKE", "1.25"),
        ("2024-04-01", "INTAKE", "1.25"),
        ("2024-07-01", "INTAKE", "1"),
        ("2024-07-01", "SHELTER", "6"),
        ("2024-07-01", "FOOD", "3.9"),
        ("2024-07-02", "FOOD", "0.2"),
    ];
    let deliveries: Vec<Delivery> = rows
        .iter()
        .map(|(date, element, q)| testkit::delivery(date, "C1", element, q))
        .collect();
    check_uniform(&deliveries, "");
    let general = {
        let catalog = Catalog::shipped().unwrap();
        let text = UNIFORM.replace("{rounding}", "");
        let table = PricingTable::from_toml(&text, Path::new("u.toml")).unwrap();
        let book = PriceBook::new(&catalog, vec![table]).unwrap();
        general(&deliveries, &catalog, &book)
    };
    // By hand: INFO 2024, 1.5 × 24.555 = 36.8325 → 36.83 and 2.5 × 24.555 = 61.3875 →
    // 61.39; 2023, 4 of 4.25 → 98.22; CONSULT 4.5 × 31.75 = 142.875 → 142.88; INTAKE
    // 1.25 × 10.005 = 12.50625 → 12.51 twice, then 1 × 8.00; SHELTER 5.5 of 6, 2 × 42.00 +
    // 3.5 × 33.60 = 201.60; FOOD 3.9 billed as 4 × 12.50 = 50.00, then 0.2 (billed 0.25)
    // wholly over the cap.
    assert_eq!(general.total().to_string(), "623.94");
    let rejected: Vec<(u64, bool)> = general
        .rejections()
        .iter()
        .map(|r| (r.row(), r.is_partial()))
        .collect();
    assert_eq!(
        rejected,
        [(3, false), (4, true), (6, false), (10, true), (12, false)]
    );
}

#[test]
fn long_groups_of_tiers_and_caps_equal_value_and_rollup() {
    // More rows of one client and element than a group sorted by insertion holds (48), in
    // no order of date, with ties of date; some clients with a few rows beside them. Every
    // element is priced by the client's year and takes the one branch-free pass (rows
    // priced simply would, past 8 a client in tests, send all through the checked path).
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut deliveries = Vec::new();
    for k in 0..400 {
        let r = next();
        let client = if k % 5 == 0 {
            format!("C{}", r % 7)
        } else {
            "C9".into()
        };
        let element = ["INFO", "INTAKE", "DOCS", "FOOD"][(r >> 8) as usize % 4];
        let (year, month, day) = (2023 + (r >> 16) % 2, 1 + (r >> 20) % 12, 1 + (r >> 24) % 9);
        let quantity = Decimal::new(1 + ((r >> 32) % 300) as i64, ((r >> 48) % 3) as u32);
        deliveries.push(Delivery::new(
            Date::new(year as u16, month as u8, day as u8).unwrap(),
            ProviderId::new(["PRV-A", "PRV-B"][(r >> 56) as usize % 2]).unwrap(),
            ClientId::new(&client).unwrap(),
            ElementCode::new(element).unwrap(),
            Quantity::new(quantity),
        ));
    }
    check_one_table(&deliveries, TWO_SHAPES);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The same when one table serves every provider and date, with the default rounding
    /// (the tight loops for capped flat prices and two tiers) and with another (the general
    /// loop for every shape).
    #[test]
    fn uniform_tables_equal_value_and_rollup(
        deliveries in prop::collection::vec(arb_uniform_delivery(), 0..250),
        other_rounding in any::<bool>(),
    ) {
        let rounding = match other_rounding {
            true => "\n[rounding]\nmode = \"half_even\"\ndecimals = 1\n",
            false => "",
        };
        check_uniform(&deliveries, rounding);
    }

    /// The same with a table whose every tier and cap takes the one branch-free pass.
    #[test]
    fn two_shape_tables_equal_value_and_rollup(
        deliveries in prop::collection::vec(arb_uniform_delivery(), 0..250),
    ) {
        check_one_table(&deliveries, TWO_SHAPES);
    }

    /// The same on rows that all take the fast path: tiers and caps counted per client,
    /// element and year across tables and providers, partial and whole rejections over caps,
    /// clients whose figures leave the scaled integers, on 1 to 3 threads.
    #[test]
    fn fast_stateful_rows_equal_value_and_rollup(
        deliveries in prop::collection::vec(arb_clean_delivery(), 0..200),
    ) {
        check(&deliveries);
    }

    /// Per-client totals, rows valued and rejected, and every rejection with its reason equal
    /// `value` + `Rollup` by client, on data with tiers, caps, increments, several tables and
    /// roundings, rejections and quantities beyond the scaled integers, on 1 to 3 threads.
    #[test]
    fn fast_path_equals_value_and_rollup(deliveries in prop::collection::vec(arb_delivery(), 0..120)) {
        check(&deliveries);
    }

    /// Integer rounding equals `Rounding::apply` on the same decimal.
    #[test]
    fn integer_rounding_equals_decimal_rounding(
        v in -10_000_000_000_000i64..10_000_000_000_000,
        mode in 0usize..4,
        decimals in 0u32..=8,
        tail in 0i64..4,
    ) {
        // Push some values onto midpoints.
        let v = if tail == 0 { v - v % 1_000 + 500 } else { v };
        let mode = [Rounding::HalfUp, Rounding::HalfEven, Rounding::Up, Rounding::Down][mode];
        let expected = mode.apply(Decimal::new(v, AS), decimals);
        prop_assert_eq!(round_scaled(v, mode, decimals), to_scaled(expected, AS));
    }
}

#[test]
fn midpoints_round_as_declared() {
    for (v, mode, d, want) in [
        (234_500_000, Rounding::HalfUp, 2, "2.35"),
        (-234_500_000, Rounding::HalfUp, 2, "-2.35"),
        (234_500_000, Rounding::HalfEven, 2, "2.34"),
        (235_500_000, Rounding::HalfEven, 2, "2.36"),
        (44_601_482_000, Rounding::Up, 2, "446.02"),
        (44_601_900_000, Rounding::Down, 2, "446.01"),
    ] {
        let got = round_scaled(v, mode, d).unwrap();
        assert_eq!(Decimal::new(got, AS).normalize().to_string(), want);
    }
}

#[test]
fn caps_and_tiers_follow_the_general_order_across_threads() {
    let mut deliveries = Vec::new();
    for i in 0..300u32 {
        let client = format!("C{}", i % 7);
        let date = format!("2024-{:02}-{:02}", i % 12 + 1, i % 28 + 1);
        deliveries.push(testkit::delivery(
            &date,
            &client,
            "SHELTER",
            &format!("{}.{}", i % 9 + 1, i % 10),
        ));
        deliveries.push(testkit::delivery(&date, &client, "CONSULT", "1.1"));
    }
    deliveries.reverse();
    check(&deliveries);
}

fn write(name: &str, text: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aidcost-columnar-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The fast reader takes the file (no hand-over) and gives what the general path gives.
fn csv_case(name: &str, text: &str, options: CsvOptions) {
    let catalog = testkit::catalog();
    let book = book(&catalog);
    let path = write(name, text.as_bytes());
    let deliveries = crate::load_deliveries(&path, options).unwrap();
    let expected = general(&deliveries, &catalog, &book);
    let cx = context(&catalog, &book);
    for threads in [1, 2, 4] {
        let fast = super::csv::fast_csv(&path, options, cx, ColumnarOptions::threads(threads))
            .unwrap()
            .unwrap_or_else(|| panic!("{name}: handed to the general reader"));
        assert_same(&fast, &expected);
    }
    let columns = Columns::read_csv(&path, options, &catalog)
        .unwrap()
        .unwrap();
    assert_eq!(
        columns,
        Columns::from_deliveries(&deliveries, &catalog).unwrap()
    );
}

#[test]
fn fast_reader_takes_every_dialect() {
    let rows = "2024-03-01,PRV-A,C1,CONSULT,1.1\n2024-03-02,PRV-B,C2,SHELTER,40\n\
                2024-08-02,PRV-B,C1,SHELTER,7.25\n2023-05-05,PRV-A,C1,SHELTER,3\n\
                2024-03-01,PRV-A,C3,NOPE,1\n2024-03-01,PRV-A,C3,MEDICAL,0\n\
                2021-03-01,PRV-A,C3,MEDICAL,5\n2024-09-01, PRV-B , C3 ,CONSULT, 2.00005 \n";
    let comma = format!("date,provider,client,element,quantity\n{rows}");
    csv_case("comma.csv", &comma, CsvOptions::detect());
    csv_case(
        "no-final-newline.csv",
        comma.trim_end(),
        CsvOptions::detect(),
    );
    let semi = "\u{feff}date;provider;client;element;quantity;unit;staff_hours;note\r\n\
                2024-03-01;PRV-A;C1;CONSULT;1,1;hour;1,5;ačiū\r\n\
                2024-03-02;PRV-B;C2;SHELTER;40;;;\r\n\
                \r\n\
                2024-08-02;PRV-B;C1;SHELTER;7,25;bed_night;;\r\n\
                2024-08-03;PRV-B;C1;CONSULT;2;km;;wrong unit\r\n";
    csv_case("semicolon.csv", semi, CsvOptions::detect());
    let decimal_comma = "date,provider,client,element,quantity\n2024-03-01,PRV-A,C1,CONSULT,1.5\n";
    csv_case(
        "dc.csv",
        decimal_comma,
        CsvOptions::detect().with_decimal_comma(true),
    );
}

/// Lines of every length from short to longer than the reader's index block (1,024 bytes),
/// plain (line feed, or carriage return and line feed) and not (a note with spaces), so that
/// separators fall at every offset of the 64-byte blocks and lines cross the index blocks;
/// the last line without a line end, or with a lone carriage return.
#[test]
fn fast_reader_reads_lines_across_its_index_blocks() {
    for last in ["", "\r"] {
        let mut text = String::from("date,provider,client,element,quantity,note\n");
        for k in 0..300usize {
            let mut note = "x".repeat(k * 7 % 1500);
            if k % 11 == 0 {
                note.push_str(" spaced");
            }
            let end = if k % 3 == 0 { "\r\n" } else { "\n" };
            text.push_str(&format!(
                "2024-03-0{},PRV-{},C{},{},{}.{:02},{note}{end}",
                k % 9 + 1,
                ["A", "B"][k % 2],
                k % 17,
                ["CONSULT", "SHELTER", "MEDICAL"][k % 3],
                k % 5 + 1,
                k % 100
            ));
        }
        text.push_str("2024-03-01,PRV-A,C1,SHELTER,2,last");
        text.push_str(last);
        csv_case(
            &format!("blocks-{}.csv", last.len()),
            &text,
            CsvOptions::detect(),
        );
    }
}

#[test]
fn anything_unsure_goes_to_the_general_reader_and_its_exact_error() {
    let catalog = testkit::catalog();
    let book = book(&catalog);
    let cx = context(&catalog, &book);
    let quoted = write(
        "quoted.csv",
        b"date,provider,client,element,quantity\n2024-03-01,PRV-A,\"C1\",CONSULT,1\n",
    );
    assert!(super::csv::fast_csv(
        &quoted,
        CsvOptions::detect(),
        cx,
        ColumnarOptions::default()
    )
    .unwrap()
    .is_none());
    let fast = value_csv_by_client(
        &quoted,
        CsvOptions::detect(),
        cx,
        ColumnarOptions::default(),
    )
    .unwrap();
    assert_eq!(fast.rows_valued(), 1);
    for (name, text) in [
        ("bad-qty.csv", "date,provider,client,element,quantity\n2024-03-01,PRV-A,C1,CONSULT,1\n2024-03-01,PRV-A,C1,CONSULT,abc\n"),
        ("bad-date.csv", "date,provider,client,element,quantity\n2024-02-30,PRV-A,C1,CONSULT,1\n"),
        ("short.csv", "date,provider,client,element,quantity\n2024-02-03,PRV-A,C1\n"),
        ("comma-qty.csv", "date,provider,client,element,quantity\n2024-02-03,PRV-A,C1,CONSULT,1,5\n"),
    ] {
        let path = write(name, text.as_bytes());
        let want = crate::load_deliveries(&path, CsvOptions::detect()).unwrap_err().to_string();
        let got = value_csv_by_client(&path, CsvOptions::detect(), cx, ColumnarOptions::threads(2))
            .unwrap_err()
            .to_string();
        assert_eq!(got, want);
    }
}

/// When every row pass 1 takes is a simple line, the totals are made straight from the
/// simple sums; one row of another kind among them (rejected, through the checked sums,
/// beyond the scaled integers, or priced by tiers but aside from the packed records) sends
/// them the usual way. Either way they equal the general path.
#[test]
fn totals_straight_from_the_simple_sums_equal_the_general_path() {
    // The valuations of `deliveries` by `table` (four: two widths, one and two threads)
    // that took their totals straight from the simple sums.
    let straight = |deliveries: &[Delivery], table: &str| {
        let before = STRAIGHT.with(std::cell::Cell::get);
        check_one_table(deliveries, table);
        STRAIGHT.with(std::cell::Cell::get) - before
    };
    let catalog = Catalog::shipped().unwrap();
    let flat = flat_increments(&catalog);
    let mut simple = Vec::new();
    for (i, client) in ["C-1", "C-2", "C-3"].into_iter().enumerate() {
        // CASE_MGMT's 0.6 is billed as 0.75, its increment's multiple.
        for (k, (element, q)) in [("ESSENTIALS", "1.25"), ("CASE_MGMT", "0.6")]
            .into_iter()
            .enumerate()
        {
            let date = format!("2024-0{}-1{k}", i + 1);
            simple.push(testkit::delivery(&date, client, element, q));
        }
    }
    assert_eq!(straight(&simple, &flat), 4);
    let rows = [
        // Passed through, in euros: a simple line too.
        ("2024-06-01", "C-3", "DOCS", "12.40", 4),
        // No price on that date: rejected.
        ("2022-06-01", "C-2", "ESSENTIALS", "1", 0),
        // Beyond the 32-bit quantities: a line in the checked sums.
        ("2024-06-01", "C-2", "ESSENTIALS", "500000.25", 0),
        // An amount beyond the scaled integers: a line in decimals.
        ("2024-06-01", "C-2", "ESSENTIALS", "10000000000", 0),
    ];
    for (date, client, element, q, expected) in rows {
        let mut deliveries = simple.clone();
        deliveries.push(testkit::delivery(date, client, element, q));
        assert_eq!(straight(&deliveries, &flat), expected, "{element} {q}");
    }
    // Under tiers, beyond the 32-bit quantities: a general stateful row, no packed record.
    let mut deliveries = simple.clone();
    deliveries.push(testkit::delivery(
        "2024-06-01",
        "C-1",
        "INTAKE",
        "500000.25",
    ));
    assert_eq!(straight(&deliveries, TWO_SHAPES), 0);
}

/// The unchecked loop for the simplest rows sums a client's lines in packed words; a client
/// with more lines than the words hold (8 under test) sends the whole valuation through the
/// checked path. Both sides of that limit equal the general path.
#[test]
fn simple_sums_equal_the_general_path_on_both_sides_of_their_limit() {
    for lines in [1usize, 7, 8, 9, 40] {
        let mut deliveries = Vec::new();
        for i in 0..lines {
            let date = format!("2024-{:02}-{:02}", i % 12 + 1, i % 28 + 1);
            deliveries.push(testkit::delivery(&date, "C-MANY", "CONSULT", "1.25"));
            deliveries.push(testkit::delivery(&date, "C-ONE", "MEDICAL", "10.5"));
        }
        check(&deliveries);
    }
}

/// Columns hold quantities in 32 bits (up to 429,496.7294; the next, all ones, marks a
/// quantity aside); a larger one is kept exact aside, and valued as the general path values
/// it: on each side of that limit, simple, under tiers and over a cap, from rows in memory
/// and from a file.
#[test]
fn quantities_beyond_32_bits_equal_the_general_path() {
    let mut deliveries = Vec::new();
    let mut text = String::from("date,provider,client,element,quantity\n");
    let quantities = [
        "429496.7294",
        "429496.7295",
        "429496.7296",
        "429496.72",
        "500000.25",
        "1000000",
    ];
    for (i, q) in quantities.iter().enumerate() {
        for element in ["CONSULT", "SHELTER", "MEDICAL"] {
            let date = format!("2024-03-{:02}", i + 1);
            deliveries.push(testkit::delivery(&date, "C-BIG", element, q));
            deliveries.push(testkit::delivery(&date, "C-SMALL", element, "1.5"));
            text.push_str(&format!("{date},PRV-A,C-BIG,{element},{q}\n"));
            text.push_str(&format!("{date},PRV-A,C-SMALL,{element},1.5\n"));
        }
    }
    check(&deliveries);
    let path = write("big-quantities.csv", text.as_bytes());
    let catalog = testkit::catalog();
    let columns = Columns::read_csv(&path, CsvOptions::default(), &catalog)
        .unwrap()
        .unwrap();
    // The file's rows are the deliveries' own.
    assert_eq!(
        columns,
        Columns::from_deliveries(&deliveries, &catalog).unwrap()
    );
    csv_case("big-quantities.csv", &text, CsvOptions::default());
    // And through the pass for tiers and caps, which takes only the quantities not aside.
    let mut shaped = Vec::new();
    for (i, q) in quantities.iter().enumerate() {
        for element in ["INTAKE", "INFO", "CONSULT"] {
            let date = format!("2024-03-{:02}", i + 1);
            shaped.push(testkit::delivery(&date, "C-BIG", element, q));
            shaped.push(testkit::delivery(&date, "C-SMALL", element, "1.5"));
        }
    }
    check_one_table(&shaped, TWO_SHAPES);
}

#[test]
fn an_excess_beyond_32_bits_equals_the_general_path() {
    // INFO capped at 1 and billed in steps of 500,000 (5 × 10⁹ with four decimals, beyond
    // 32 bits, from quantities within them): each row's excess over the cap is that large,
    // in part and whole, through pass 2's general loop for a cap with an increment. C2's
    // excess is small.
    let table = r#"schema = 1
id = "lt-national"
version = "2024"
scope = "national"
valid_from = "2024-01-01"
valid_to = "2024-12-31"
source = "test"

[[price]]
element = "INFO"
unit_price = "0.01"
min_increment = "500000"
cap_per_client_year = "1"

[[price]]
element = "FOOD"
unit_price = "12.50"
min_increment = "0.5"
cap_per_client_year = "2"
"#;
    let deliveries = [
        testkit::delivery("2024-03-01", "C1", "INFO", "0.5"),
        testkit::delivery("2024-03-02", "C1", "INFO", "2"),
        testkit::delivery("2024-03-02", "C1", "FOOD", "1.2"),
        testkit::delivery("2024-03-01", "C2", "FOOD", "1.2"),
        testkit::delivery("2024-03-03", "C2", "FOOD", "0.7"),
    ];
    check_one_table(&deliveries, table);
}

#[test]
fn rows_aside_leave_the_records_narrow() {
    // Nine quantities of two decimals, the largest 9.25; then a zero quantity, a stated
    // unit and a quantity beyond 32 bits, all three kept aside (their mark in the column
    // is all ones). The extent that sizes pass 2's records must stay the nine's: counted
    // in, the mark made the largest quantity 2³² − 1 (26 bits of quantity a record at two
    // decimals, not 10) and the decimals 0 to 2, and records for ten million rows went to
    // 128 bits.
    let catalog = testkit::catalog();
    let mut text = String::from("date,provider,client,element,quantity,unit\n");
    let mut deliveries = Vec::new();
    for d in 1..=9 {
        let (date, q) = (format!("2024-03-0{d}"), format!("{d}.25"));
        deliveries.push(testkit::delivery(&date, "C1", "CONSULT", &q));
        text.push_str(&format!("{date},PRV-A,C1,CONSULT,{q},\n"));
    }
    let plain = Columns::from_deliveries(&deliveries, &catalog)
        .unwrap()
        .extent();
    assert_eq!((plain.quantity, plain.scales), (92_500, (2, 2)));
    let stated = testkit::delivery("2024-03-11", "C1", "CONSULT", "2").with_unit(Unit::Eur);
    deliveries.extend([
        testkit::delivery("2024-03-10", "C1", "CONSULT", "0"),
        stated,
        testkit::delivery("2024-03-12", "C1", "CONSULT", "1000000"),
    ]);
    text.push_str("2024-03-10,PRV-A,C1,CONSULT,0,\n2024-03-11,PRV-A,C1,CONSULT,2,eur\n");
    text.push_str("2024-03-12,PRV-A,C1,CONSULT,1000000,\n");
    let path = write("rows-aside.csv", text.as_bytes());
    let read = Columns::read_csv(&path, CsvOptions::default(), &catalog);
    for columns in [
        Columns::from_deliveries(&deliveries, &catalog).unwrap(),
        read.unwrap().unwrap(),
    ] {
        assert_eq!(columns.len(), 12);
        let extent = columns.extent();
        assert_eq!((extent.quantity, extent.scales), (92_500, (2, 2)));
        // At the benchmark's size, 18 stateful elements over ten million rows of a year,
        // the records stay 64 bits.
        let large = stateful::Extent {
            rows: 10_000_000,
            providers: 10,
            ..extent
        };
        let layout = stateful::Layout::new(&[true; 18], &large, false, true);
        assert!(matches!(layout.lists(1), stateful::Lists::Narrow(_)));
    }
}

proptest! {
    /// The id tables' two-load reading of an id equals the plain zero-padded copy, at every
    /// length the tables keep inline.
    #[test]
    fn id_words_equal_a_zero_padded_copy(bytes in proptest::collection::vec(any::<u8>(), 0..=16)) {
        let mut padded = [0u8; 16];
        padded[..bytes.len()].copy_from_slice(&bytes);
        let word = |r: &[u8]| u64::from_le_bytes(r.try_into().unwrap());
        let expected = (word(&padded[..8]), word(&padded[8..]));
        prop_assert_eq!(IdMap::words(&bytes), expected);
    }
}

/// One generated CSV line: its cells (date, provider, client, element, quantity, note) picked
/// from plain and awkward spellings that the general reader takes, its line end, and, one line
/// in twenty, a flaw the general reader refuses (the flag says so).
fn csv_line() -> impl Strategy<Value = (Vec<String>, &'static str, bool)> {
    let pick = |v: Vec<&'static str>| prop::sample::select(v);
    let cells = (
        pick(vec![
            "2024-03-01",
            "2024-08-02",
            " 2024-09-01 ",
            "2023-05-05",
        ]),
        pick(vec!["PRV-A", "PRV-B", " PRV-B\t", "PRV-A-LONG-NAME-X"]),
        pick(vec![
            "C1",
            "C2 ",
            "C-12345678",
            "C-LONG-PSEUDONYM-0001",
            "C.7_x",
        ]),
        pick(vec!["CONSULT", "SHELTER", "MEDICAL", "NOPE"]),
        pick(vec!["1", "1.25", "0", " 2.00005 ", "40", "12345.5"]),
        pick(vec![
            "",
            "ačiū",
            "plain note",
            "a longer plain note; no comma",
        ]),
    )
        .prop_map(|(d, p, c, e, q, n)| [d, p, c, e, q, n].map(str::to_owned).to_vec());
    let end = pick(vec!["\n", "\r\n", "\r\n\r\n", "\n\n"]);
    // (cell, replacement): a cell the general reader refuses; cell 6 adds a cell, 9 drops two.
    let flaw = prop_oneof![
        19 => Just(None),
        1 => prop::sample::select(vec![
            (0usize, "2024-02-30"),
            (4, "abc"),
            (4, "1\r2"),
            (2, "Č7"),
            (6, "extra"),
            (9, ""),
        ])
        .prop_map(Some),
    ];
    (cells, end, flaw).prop_map(|(mut cells, end, flaw)| {
        match flaw {
            Some((9, _)) => cells.truncate(3),
            Some((6, extra)) => cells.push(extra.to_owned()),
            Some((i, bad)) => cells[i] = bad.to_owned(),
            None => {}
        }
        (cells, end, flaw.is_some())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// On any file the fast reader reads, word by word or line by line, it gives what the
    /// general reader and path give, or the general reader's error; and it reads every file
    /// of lines the general reader takes without handing it over.
    #[test]
    fn fast_reader_equals_the_general_reader_on_awkward_files(
        lines in proptest::collection::vec(csv_line(), 1..40),
        with_note in any::<bool>(),
        case in 0u32..1_000_000,
    ) {
        // With the note, the last cell is one the reader skips; without, the quantity.
        let mut text = String::from("date,provider,client,element,quantity");
        text.push_str(if with_note { ",note\n" } else { "\n" });
        for (cells, end, _) in &lines {
            let keep = if with_note || cells.len() != 6 { cells.len() } else { 5 };
            text.push_str(&cells[..keep].join(","));
            text.push_str(end);
        }
        let catalog = testkit::catalog();
        let book = book(&catalog);
        let cx = context(&catalog, &book);
        let path = write(&format!("awkward-{case}.csv"), text.as_bytes());
        let want = crate::load_deliveries(&path, CsvOptions::detect());
        let good = lines.iter().all(|(_, _, bad)| !bad);
        if good {
            prop_assert!(want.is_ok(), "{:?}", want.err());
        }
        for threads in [1, 2] {
            let options = ColumnarOptions::threads(threads);
            if good {
                let fast = super::csv::fast_csv(&path, CsvOptions::detect(), cx, options).unwrap();
                prop_assert!(fast.is_some(), "handed to the general reader");
            }
            let got = value_csv_by_client(&path, CsvOptions::detect(), cx, options);
            match &want {
                Ok(deliveries) => assert_same(&got.unwrap(), &general(deliveries, &catalog, &book)),
                Err(e) => prop_assert_eq!(got.unwrap_err().to_string(), e.to_string()),
            }
        }
        std::fs::remove_file(&path).ok();
    }
}

/// Two clients whose billed quantities each fit but together leave the decimal range: the
/// general path's rollup refuses the grand total, and so does the fast path (whose output
/// writers never build that rollup).
#[test]
fn a_grand_total_quantity_beyond_the_decimal_range_is_an_overflow() {
    let catalog = testkit::catalog();
    let book = book(&catalog);
    let cx = context(&catalog, &book);
    // 1e27 each: 80 clients together pass the decimal maximum, about 7.9e28.
    let big = "1000000000000000000000000000";
    let deliveries: Vec<Delivery> = (0..80)
        .map(|c| testkit::delivery("2023-06-01", &format!("C-{c}"), "SHELTER", big))
        .collect();
    let v = value(&deliveries, cx, ValuationOptions::default()).unwrap();
    assert_eq!(
        v.lines().len(),
        80,
        "every line is valued: {:?}",
        v.rejections()
    );
    let mut rollup = Rollup::new(&[GroupBy::Client]).unwrap();
    let rc = RollupContext {
        catalog: &catalog,
        clients: None,
    };
    assert!(rollup.extend(v.views(&book), rc).is_err());
    let columns = Columns::from_deliveries(&deliveries, &catalog).unwrap();
    for threads in [1, 2] {
        let fast = value_by_client(&columns, cx, ColumnarOptions::threads(threads));
        assert!(
            matches!(fast, Err(Error::Overflow { .. })),
            "{threads} threads: {fast:?}"
        );
    }
}

#[test]
fn id_table_finds_every_id_it_was_given_and_no_other() {
    // Ids of 1 to 20 bytes (longer than 16 go to the ordinary map), enough to grow the table
    // many times and fill buckets past their two slots.
    let id = |i: usize| format!("{}{}", "C".repeat(i % 14 + 1), i);
    let mut map = IdMap::default();
    for i in 0..20_000 {
        assert_eq!(map.get(id(i).as_bytes()), None, "{i} before");
        map.insert(id(i).as_bytes(), i as u32);
    }
    for i in 0..20_000 {
        assert_eq!(map.get(id(i).as_bytes()), Some(i as u32), "{i}");
    }
    for i in 20_000..25_000 {
        assert_eq!(map.get(id(i).as_bytes()), None, "{i} never given");
    }
    assert_eq!(map.get(b""), None);
    // The key made once, as the reader makes it for a touch and then a lookup.
    for i in (0..25_000).step_by(7) {
        let key = Key::of(id(i).as_bytes());
        let found = key.and_then(|k| map.get_key(&k));
        let expected = (i < 20_000 && id(i).len() <= 16).then_some(i as u32);
        assert_eq!(found, expected, "{i} by key");
    }
}

#[test]
fn small_id_table_finds_every_id_it_was_given_and_no_other() {
    // Ids alike but for one byte, of 1 to 20 bytes, past the direct table's limit.
    let id = |i: usize| format!("{}{}", "P".repeat(i % 18), i);
    let mut map = SmallIdMap::default();
    for n in 0..(DIRECT_IDS + 20) {
        assert_eq!(map.get(id(n).as_bytes()), None, "{n} before");
        map.insert(id(n).as_bytes(), n as u32);
        for i in 0..=n {
            assert_eq!(map.get(id(i).as_bytes()), Some(i as u32), "{i} of {n}");
        }
        for i in n + 1..n + 40 {
            assert_eq!(map.get(id(i).as_bytes()), None, "{i} never given");
        }
    }
}

#[test]
fn the_catalog_codes_each_have_a_direct_slot() {
    // Every element of the catalog is found by its one slot, without the map behind.
    let catalog = testkit::catalog();
    let interner = Interner::new(&catalog);
    let small = &interner.elements;
    for (i, e) in catalog.iter().enumerate() {
        let s = e.code().as_str().as_bytes();
        let (a, b) = IdMap::words(s);
        let slot = small.direct[SmallIdMap::index(a, b, s.len() as u32, small.multiplier)];
        assert_eq!(slot.id, i as u32, "{}", e.code());
    }
}

proptest! {
    /// Ordering by the 16-byte prefix number, then by the whole string, is the strings'
    /// order: for prefixes of each other, strings longer than 16 bytes, and zero bytes.
    #[test]
    fn prefix_numbers_order_as_the_strings(
        mut v in prop::collection::vec("[AB0\u{0}]{0,20}", 0..60),
    ) {
        let mut want = v.clone();
        want.sort();
        v.sort_by(|a, b| order_prefix(a).cmp(&order_prefix(b)).then_with(|| a.cmp(b)));
        prop_assert_eq!(v, want);
    }
}

#[test]
fn pieces_hand_out_every_row_once() {
    for n in [0, 1, 5, 31, 4_095, 4_096, 70_001, 1_000_003] {
        for threads in 1..=4 {
            // One thread asking: contiguous pieces from row 0 to row n, then nothing.
            let pieces = Pieces::new(n, threads);
            let mut next = 0;
            let mut count = 0;
            while let Some((lo, hi)) = pieces.next() {
                assert_eq!(lo, next, "n {n}, threads {threads}");
                assert!(hi > lo, "an empty piece: n {n}, threads {threads}");
                next = hi;
                count += 1;
            }
            assert_eq!(next, n, "n {n}, threads {threads}");
            assert!(pieces.next().is_none());
            if threads == 1 {
                assert!(count <= 1, "one thread takes the rows whole");
            } else if n >= threads * 16 {
                assert!(count >= threads * 8, "{count} pieces for {threads} threads");
            }
            // Several threads asking at once: together, every row once.
            let pieces = Pieces::new(n, threads);
            let mut got: Vec<(usize, usize)> = on_threads(vec![(); threads], |()| {
                std::iter::from_fn(|| pieces.next()).collect::<Vec<_>>()
            })
            .concat();
            got.sort_unstable();
            let mut next = 0;
            for (lo, hi) in got {
                assert_eq!(lo, next);
                next = hi;
            }
            assert_eq!(next, n);
        }
    }
}

/// Lines whose billed quantity does not fit the scaled integers are summed as decimals, and a
/// decimal sum of more than 28 digits rounds: such a client's sums are added in row order,
/// whichever threads took its rows, so every run and every thread count gives the same
/// figures (and the general path's, which adds line by line in row order, when the client
/// has no lines within the scaled integers: those are added as one sum, after, so a sum
/// that rounds more than once may differ from the general path's in its last digit).
#[test]
fn sums_beyond_the_scaled_integers_add_in_row_order() {
    // Alone, the first plus the second needs 31 digits and rounds; the second plus the
    // third does not: (a + b) + c and a + (b + c) differ in the last digit.
    let wide = [
        "12345678901234.56789",
        "0.12345678901234567",
        "0.12345678901234567",
    ];
    let mut deliveries = Vec::new();
    for (i, q) in wide.iter().enumerate() {
        // Plain rows between, so that the wide ones fall to different pieces and threads.
        for k in 0..20 {
            let client = format!("C-FILL-{k}");
            deliveries.push(testkit::delivery("2024-03-01", &client, "MEDICAL", "1.5"));
        }
        let date = format!("2024-03-{:02}", i + 2);
        deliveries.push(testkit::delivery(&date, "C-WIDE", "MEDICAL", q));
    }
    let q: Vec<Decimal> = wide.iter().map(|q| q.parse().unwrap()).collect();
    let in_row_order = (q[0] + q[1]) + q[2];
    assert_ne!(
        in_row_order,
        q[0] + (q[1] + q[2]),
        "the case must be order-sensitive"
    );
    let catalog = testkit::catalog();
    let book = book(&catalog);
    let expected = general(&deliveries, &catalog, &book);
    let columns = Columns::from_deliveries(&deliveries, &catalog).unwrap();
    let cx = context(&catalog, &book);
    for _ in 0..30 {
        for threads in [1, 2, 3] {
            let fast = value_by_client(&columns, cx, ColumnarOptions::threads(threads)).unwrap();
            assert_same(&fast, &expected);
            let wide = fast.by_client();
            let (_, totals) = wide.iter().find(|(c, _)| c.as_str() == "C-WIDE").unwrap();
            let (quantity, _) = totals.quantity().unwrap();
            assert_eq!(quantity.get(), in_row_order, "{threads} threads");
        }
    }
}

#[test]
fn room_expected_is_the_share_seen_scaled_up_and_a_sixteenth_more() {
    // 10 items from 1 unit of 10: 100 expected, 106 with a sixteenth more.
    let mut v: Vec<u32> = (0..10).collect();
    expect_room(&mut v, 1, 10);
    assert!(v.capacity() >= 106, "{}", v.capacity());
    assert_eq!(v.len(), 10);
    // Nothing seen: no room asked for.
    let mut none: Vec<u32> = Vec::new();
    expect_room(&mut none, 0, 10);
    assert_eq!(none.capacity(), 0);
}
