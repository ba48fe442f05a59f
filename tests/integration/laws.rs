//! Property laws: conservation, order independence, mergeability, allocation, round trips.

use std::path::Path;

use aidcost::{
    allocate, value, Catalog, ClientId, Context, Date, Delivery, ElementCode, GroupBy, Money,
    PriceBook, PriceRow, PriceRule, PricingTable, ProviderId, Quantity, Rollup, RollupContext,
    TableHeader, TableId, Tier, UnitPrice, ValuationOptions,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

struct Shipped {
    catalog: Catalog,
    book: PriceBook,
}

fn shipped() -> Shipped {
    let catalog = Catalog::shipped().unwrap();
    let book = PriceBook::shipped(&catalog).unwrap();
    Shipped { catalog, book }
}

/// Elements that exercise every kind of row in the shipped tables: flat, tiered (SHELTER),
/// increments (LEGAL_CONSULT, CONSULT), caps (TRANSPORT, OVERNIGHT), pass-through (MEDICAL).
const ELEMENTS: &[&str] = &[
    "SHELTER",
    "OVERNIGHT",
    "LEGAL_CONSULT",
    "CONSULT",
    "TRANSPORT",
    "MEDICAL",
    "PSYCH",
    "FOOD",
];
const PROVIDERS: &[&str] = &["PRV-VILNIUS", "PRV-KLAIPEDA", "PRV-KAUNAS"];

/// A delivery in 2019 or 2024 with a two-decimal quantity up to 1 500.00.
fn arb_delivery() -> impl Strategy<Value = Delivery> {
    (
        prop::sample::select(vec![2019u16, 2024]),
        1u8..=12,
        1u8..=28,
        0usize..PROVIDERS.len(),
        0u32..12,
        0usize..ELEMENTS.len(),
        1i64..150_000,
    )
        .prop_map(|(y, m, d, p, c, e, cents)| {
            Delivery::new(
                Date::new(y, m, d).unwrap(),
                ProviderId::new(PROVIDERS[p]).unwrap(),
                ClientId::new(&format!("C{c}")).unwrap(),
                ElementCode::new(ELEMENTS[e]).unwrap(),
                Quantity::new(Decimal::new(cents, 2)),
            )
        })
}

fn arb_deliveries() -> impl Strategy<Value = Vec<Delivery>> {
    prop::collection::vec(arb_delivery(), 0..120)
}

fn rollup_text(world: &Shipped, ds: &[Delivery], by: &[GroupBy]) -> String {
    let v = value(
        ds,
        Context {
            catalog: &world.catalog,
            book: &world.book,
            clients: None,
        },
        ValuationOptions::default(),
    )
    .unwrap();
    let mut r = Rollup::new(by).unwrap();
    r.extend(
        v.views(&world.book),
        RollupContext {
            catalog: &world.catalog,
            clients: None,
        },
    )
    .unwrap();
    let mut out = format!("{} {} {}\n", v.rows_valued(), v.rows_rejected(), v.total());
    for (k, t) in r.groups() {
        out.push_str(&format!("{k}: {} {}\n", t.lines(), t.amount()));
    }
    let mut rejections: Vec<String> = v
        .rejections()
        .iter()
        .map(|x| format!("{:?} {}", v.delivery(x.row()).unwrap(), x.reason()))
        .collect();
    rejections.sort();
    out.push_str(&rejections.join("\n"));
    out
}

fn split_rollups(world: &Shipped, ds: &[Delivery], cuts: (usize, usize)) -> [Rollup; 3] {
    let v = value(
        ds,
        Context {
            catalog: &world.catalog,
            book: &world.book,
            clients: None,
        },
        ValuationOptions::default(),
    )
    .unwrap();
    let views: Vec<_> = v.views(&world.book).collect();
    let n = views.len();
    let (a, b) = (cuts.0.min(n), cuts.1.min(n));
    let (lo, hi) = (a.min(b), a.max(b));
    let cx = RollupContext {
        catalog: &world.catalog,
        clients: None,
    };
    let by = [GroupBy::Provider, GroupBy::Element];
    let mut parts = [
        Rollup::new(&by).unwrap(),
        Rollup::new(&by).unwrap(),
        Rollup::new(&by).unwrap(),
    ];
    parts[0].extend(views[..lo].iter().copied(), cx).unwrap();
    parts[1].extend(views[lo..hi].iter().copied(), cx).unwrap();
    parts[2].extend(views[hi..].iter().copied(), cx).unwrap();
    parts
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn grand_total_equals_sum_of_client_and_of_provider_totals(ds in arb_deliveries()) {
        let w = shipped();
        let cx = Context { catalog: &w.catalog, book: &w.book, clients: None };
        let v = value(&ds, cx, ValuationOptions::default()).unwrap();
        prop_assert_eq!(v.rows_read(), v.rows_valued() + v.rows_rejected());
        let rcx = RollupContext { catalog: &w.catalog, clients: None };
        for by in [GroupBy::Client, GroupBy::Provider, GroupBy::Household] {
            let mut r = Rollup::new(&[by]).unwrap();
            r.extend(v.views(&w.book), rcx).unwrap();
            let sum = Money::checked_sum(r.groups().map(|(_, t)| t.amount())).unwrap();
            prop_assert_eq!(sum, v.total());
            prop_assert_eq!(r.total().amount(), v.total());
        }
    }

    #[test]
    fn shuffling_deliveries_changes_no_output_byte(
        ds in arb_deliveries(),
        seed in any::<u64>(),
    ) {
        let w = shipped();
        let mut shuffled = ds.clone();
        // Fisher–Yates with a small LCG: deterministic for the seed.
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let j = (s >> 33) as usize % (i + 1);
            shuffled.swap(i, j);
        }
        let by = [GroupBy::Client, GroupBy::Element];
        prop_assert_eq!(rollup_text(&w, &ds, &by), rollup_text(&w, &shuffled, &by));
    }

    #[test]
    fn merge_is_associative_and_commutative(
        ds in arb_deliveries(),
        cuts in (0usize..120, 0usize..120),
    ) {
        let w = shipped();
        let [a, b, c] = split_rollups(&w, &ds, cuts);
        let whole = {
            let mut r = Rollup::new(&[GroupBy::Provider, GroupBy::Element]).unwrap();
            let v = value(&ds, Context { catalog: &w.catalog, book: &w.book, clients: None },
                          ValuationOptions::default()).unwrap();
            r.extend(v.views(&w.book), RollupContext { catalog: &w.catalog, clients: None }).unwrap();
            r
        };
        // (a + b) + c
        let mut left = a.clone();
        left.merge(&b).unwrap();
        left.merge(&c).unwrap();
        // a + (b + c)
        let mut bc = b.clone();
        bc.merge(&c).unwrap();
        let mut right = a.clone();
        right.merge(&bc).unwrap();
        // c + b + a
        let mut reversed = c.clone();
        reversed.merge(&b).unwrap();
        reversed.merge(&a).unwrap();
        prop_assert_eq!(&left, &whole);
        prop_assert_eq!(&right, &whole);
        prop_assert_eq!(&reversed, &whole);
    }

    #[test]
    fn allocation_conserves_the_amount_and_stays_within_a_cent(
        cents in -10_000_000i64..10_000_000,
        weights in prop::collection::vec(0u32..1000, 1..12),
    ) {
        prop_assume!(weights.iter().any(|w| *w > 0));
        let total = Money::new(Decimal::new(cents, 2));
        let ws: Vec<Decimal> = weights.iter().map(|w| Decimal::from(*w)).collect();
        let parts = allocate(total, &ws).unwrap();
        prop_assert_eq!(Money::checked_sum(parts.iter().copied()).unwrap(), total);
        let wsum: Decimal = ws.iter().sum();
        for (p, w) in parts.iter().zip(&ws) {
            let exact = total.get() * w / wsum;
            prop_assert!((p.get() - exact).abs() < Decimal::new(1, 2));
        }
    }

    #[test]
    fn pricing_tables_round_trip_through_toml(
        rows in prop::collection::vec(arb_row(), 1..8),
        rounding in prop::sample::select(vec![aidcost::Rounding::HalfUp, aidcost::Rounding::HalfEven,
                                               aidcost::Rounding::Up, aidcost::Rounding::Down]),
        decimals in 0u32..=4,
    ) {
        // Distinct elements only: a table prices each element once.
        let mut seen = std::collections::BTreeSet::new();
        let rows: Vec<PriceRow> = rows.into_iter().filter(|r| seen.insert(r.element().clone())).collect();
        let mut header = TableHeader::national(
            TableId::new("t").unwrap(), "v1",
            "2024-01-01".parse().unwrap(), "2024-12-31".parse().unwrap(),
        );
        header.rounding = aidcost::RoundingPolicy::new(rounding, decimals).unwrap();
        header.source = "a \"quoted\" source\nover two lines".to_owned();
        let t = PricingTable::new(header, rows).unwrap();
        let text = t.to_toml().unwrap();
        let back = PricingTable::from_toml(&text, Path::new("t.toml")).unwrap();
        prop_assert_eq!(back.to_toml().unwrap(), text);
        prop_assert_eq!(back.rows().len(), t.rows().len());
        for (x, y) in back.rows().iter().zip(t.rows()) {
            prop_assert_eq!(x.rule(), y.rule());
            prop_assert_eq!(x.min_increment(), y.min_increment());
            prop_assert_eq!(x.cap_per_client_year(), y.cap_per_client_year());
            prop_assert_eq!(x.element(), y.element());
        }
        prop_assert_eq!(back.rounding(), t.rounding());
        prop_assert_eq!(back.sha256(), t.sha256());
    }
}

fn arb_price() -> impl Strategy<Value = UnitPrice> {
    (0i64..10_000_000, 0u32..=4).prop_map(|(m, s)| UnitPrice::new(Decimal::new(m, s)))
}

fn arb_row() -> impl Strategy<Value = PriceRow> {
    let code = prop::sample::select(vec![
        "CONSULT", "SHELTER", "PSYCH", "FOOD", "MEDICAL", "X_1",
    ]);
    let rule = prop_oneof![
        arb_price().prop_map(PriceRule::Flat),
        (
            prop::collection::vec((1i64..500, arb_price()), 0..3),
            arb_price()
        )
            .prop_map(|(steps, last)| {
                let mut up = 0i64;
                let mut tiers: Vec<Tier> = steps
                    .into_iter()
                    .map(|(d, p)| {
                        up += d;
                        Tier::new(Some(Quantity::new(Decimal::from(up))), p)
                    })
                    .collect();
                tiers.push(Tier::new(None, last));
                PriceRule::Tiered(tiers)
            }),
        Just(PriceRule::PassThrough),
    ];
    (
        code,
        rule,
        prop::option::of(prop::sample::select(vec!["0.25", "0.5", "1"])),
        prop::option::of(1i64..10_000),
    )
        .prop_map(|(code, rule, inc, cap)| {
            let mut r = PriceRow::new(ElementCode::new(code).unwrap(), rule).with_source("s");
            if let Some(i) = inc {
                r = r.with_min_increment(i.parse().unwrap());
            }
            if let Some(c) = cap {
                r = r.with_cap_per_client_year(Quantity::new(Decimal::from(c)));
            }
            r
        })
}
