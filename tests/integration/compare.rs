//! Comparison laws and the shipped demo data.

use std::collections::BTreeMap;

use aidcost::compare::{
    compare, decompose, indices, CompareContext, CompareOptions, Deflators, ElementFlows,
};
use aidcost::{
    read_clients, read_deliveries, value, Catalog, Context, CsvOptions, PriceBook, ValuationOptions,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn arb_flows() -> impl Strategy<Value = BTreeMap<String, ElementFlows>> {
    prop::collection::btree_map(
        "[A-Z]{3}",
        (
            1i64..100_000,
            1i64..100_000,
            1i64..1_000_000,
            1i64..1_000_000,
        ),
        1..8,
    )
    .prop_map(|m| {
        m.into_iter()
            .map(|(k, (p0, p1, q0, q1))| {
                let (p0, p1) = (Decimal::new(p0, 2), Decimal::new(p1, 2));
                let (q0, q1) = (Decimal::new(q0, 2), Decimal::new(q1, 2));
                let f = ElementFlows {
                    p0,
                    p1,
                    q0,
                    q1,
                    c0: p0 * q0,
                    c1: p1 * q1,
                };
                (k, f)
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn value_ratio_equals_fisher_price_times_fisher_quantity(flows in arb_flows()) {
        let i = indices(&flows);
        let v = i.value_ratio.value().unwrap();
        let pq = i.fisher_price.value().unwrap() * i.fisher_quantity.value().unwrap();
        prop_assert!((v - pq).abs() <= v * Decimal::new(1, 18), "{} vs {}", v, pq);
    }

    #[test]
    fn price_and_quantity_effects_sum_exactly_to_the_change(flows in arb_flows()) {
        let x = decompose(&flows).unwrap();
        prop_assert_eq!(x.price_effect.get() + x.quantity_effect.get(), x.change.get());
    }
}

struct Demo {
    catalog: Catalog,
    book: PriceBook,
    clients: aidcost::ClientRegister,
    deliveries: Vec<aidcost::Delivery>,
}

fn demo() -> Demo {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalog = Catalog::shipped().unwrap();
    let book = PriceBook::shipped(&catalog).unwrap();
    let text = std::fs::read_to_string(root.join("demo/clients.csv")).unwrap();
    let clients =
        read_clients(&text, &root.join("demo/clients.csv"), CsvOptions::detect()).unwrap();
    let text = std::fs::read_to_string(root.join("demo/deliveries.csv")).unwrap();
    let deliveries = read_deliveries(
        &text,
        &root.join("demo/deliveries.csv"),
        CsvOptions::detect(),
    )
    .unwrap();
    Demo {
        catalog,
        book,
        clients,
        deliveries,
    }
}

#[test]
fn the_demo_compares_2024_with_2019_and_the_parts_add_up() {
    let d = demo();
    let v = value(
        &d.deliveries,
        Context {
            catalog: &d.catalog,
            book: &d.book,
            clients: Some(&d.clients),
        },
        ValuationOptions::default(),
    )
    .unwrap();
    let defl = Deflators::load(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("deflators/lt-hicp-illustrative.toml"),
    )
    .unwrap();
    let options = CompareOptions::default().with_deflators(defl);
    let c = compare(
        &v,
        CompareContext {
            catalog: &d.catalog,
            book: &d.book,
            clients: &d.clients,
        },
        &options,
    )
    .unwrap();
    assert_eq!((c.base_year, c.year), (2019, 2024));
    // The generator made exactly 224 assisted persons in 2019 (the public TIP figure).
    assert_eq!(c.scope.assisted_base, 224);
    let m = &c.mix;
    assert_eq!(m.volume.get() + m.mix.get() + m.rate.get(), m.total.get());
    let x = &c.decomposition;
    assert_eq!(
        x.price_effect.get() + x.quantity_effect.get(),
        x.change.get()
    );
    // The change equals the difference of the two years' valued totals.
    let overall = |y: u16| {
        c.cost_per_outcome
            .iter()
            .find(|k| k.year == y && k.scope == "overall")
            .unwrap()
            .total_cost
            .get()
    };
    assert_eq!(x.change.get(), overall(2024) - overall(2019));
    assert_eq!(c.providers.len(), 2);
    for league in &c.providers {
        assert_eq!(league.rows.len(), 4);
        assert!(
            !league.flags_reliable,
            "four providers: flags are unreliable"
        );
    }
}

/// Two providers with the same clients and deliveries under different names rank level and
/// have the same index to the median; each revalued at its own (the reference) prices is 100.
#[test]
fn identical_providers_rank_level() {
    let d = demo();
    // Copy PRV-KAUNAS's 2019 and 2024 data as a twin provider PRV-TWIN.
    let mut deliveries = d.deliveries.clone();
    let mut clients: Vec<aidcost::Client> = d.clients.iter().cloned().collect();
    let twin = |id: &str| format!("T{id}");
    for c in d
        .clients
        .iter()
        .filter(|c| c.provider().as_str() == "PRV-KAUNAS")
    {
        let mut t = aidcost::Client::new(
            twin(c.id().as_str()).parse().unwrap(),
            "PRV-TWIN".parse().unwrap(),
            c.applied_on(),
        )
        .assisted(c.is_assisted())
        .with_target_groups(c.target_groups().to_vec())
        .cooperating(c.cooperates())
        .with_outcomes(c.outcomes().to_vec())
        .with_age_band(c.age_band());
        if let Some(n) = c.needs() {
            t = t.with_needs(n.to_vec());
        }
        if let Some(p) = c.parent() {
            t = t.with_parent(twin(p.as_str()).parse().unwrap());
        }
        clients.push(t);
    }
    for x in d
        .deliveries
        .iter()
        .filter(|x| x.provider().as_str() == "PRV-KAUNAS")
    {
        let mut t = aidcost::Delivery::new(
            x.date(),
            "PRV-TWIN".parse().unwrap(),
            twin(x.client().as_str()).parse().unwrap(),
            x.element().clone(),
            x.quantity(),
        );
        if let Some(h) = x.staff_hours() {
            t = t.with_staff_hours(h);
        }
        deliveries.push(t);
    }
    let reg = aidcost::ClientRegister::new(clients).unwrap();
    let v = value(
        &deliveries,
        Context {
            catalog: &d.catalog,
            book: &d.book,
            clients: Some(&reg),
        },
        ValuationOptions::default(),
    )
    .unwrap();
    let c = compare(
        &v,
        CompareContext {
            catalog: &d.catalog,
            book: &d.book,
            clients: &reg,
        },
        &CompareOptions::default(),
    )
    .unwrap();
    for league in &c.providers {
        let row = |p: &str| league.rows.iter().find(|r| r.provider == p).unwrap();
        assert_eq!(row("PRV-KAUNAS").rank, row("PRV-TWIN").rank);
        assert_eq!(
            row("PRV-KAUNAS").index_to_median,
            row("PRV-TWIN").index_to_median
        );
        assert_eq!(
            row("PRV-KAUNAS").reference_index,
            row("PRV-TWIN").reference_index
        );
    }
    // 2024 at the 2024 national table: providers priced wholly by it index at 100.
    let l24 = &c.providers[1];
    let kaunas = l24
        .rows
        .iter()
        .find(|r| r.provider == "PRV-KAUNAS")
        .unwrap();
    assert_eq!(kaunas.reference_index.value(), Some(Decimal::ONE_HUNDRED));
}

fn arb_year_2024() -> impl Strategy<Value = Vec<(u8, u8, usize, u32, usize, i64)>> {
    prop::collection::vec(
        (
            1u8..=12,
            1u8..=28,
            0usize..2,
            0u32..15,
            0usize..6,
            1i64..50_000,
        ),
        1..80,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Revalued at its own prices (the national 2024 table, which prices every row of these
    /// providers), each provider's reference-cost index is exactly 100, whatever the mix,
    /// tiers, increments and caps.
    #[test]
    fn revaluing_at_a_providers_own_prices_gives_index_100(rows in arb_year_2024()) {
        const PROVIDERS: [&str; 2] = ["PRV-VILNIUS", "PRV-KAUNAS"];
        const ELEMENTS: [&str; 6] = ["SHELTER", "CONSULT", "LEGAL_CONSULT", "TRANSPORT", "PSYCH", "MEDICAL"];
        let catalog = Catalog::shipped().unwrap();
        let book = PriceBook::shipped(&catalog).unwrap();
        let mut clients = std::collections::BTreeMap::new();
        let deliveries: Vec<aidcost::Delivery> = rows
            .iter()
            .map(|&(m, d, p, c, e, cents)| {
                let id = format!("{}-C{c}", &PROVIDERS[p][4..]);
                clients.entry(id.clone()).or_insert_with(|| {
                    aidcost::Client::new(id.parse().unwrap(), PROVIDERS[p].parse().unwrap(),
                                         "2024-01-01".parse().unwrap()).assisted(true)
                });
                aidcost::Delivery::new(
                    aidcost::Date::new(2024, m, d).unwrap(),
                    PROVIDERS[p].parse().unwrap(),
                    id.parse().unwrap(),
                    ELEMENTS[e].parse().unwrap(),
                    aidcost::Quantity::new(Decimal::new(cents, 2)),
                )
            })
            .collect();
        // One base-year client elsewhere, so that 2024 can be compared with 2019.
        clients.insert("BASE".to_owned(), aidcost::Client::new("BASE".parse().unwrap(),
            "PRV-SIAULIAI".parse().unwrap(), "2019-01-01".parse().unwrap()).assisted(true));
        let mut deliveries = deliveries;
        deliveries.push(aidcost::Delivery::new("2019-05-01".parse().unwrap(),
            "PRV-SIAULIAI".parse().unwrap(), "BASE".parse().unwrap(),
            "CONSULT".parse().unwrap(), "1".parse().unwrap()));
        let reg = aidcost::ClientRegister::new(clients.into_values().collect()).unwrap();
        let v = value(
            &deliveries,
            Context { catalog: &catalog, book: &book, clients: Some(&reg) },
            ValuationOptions::default(),
        )
        .unwrap();
        let c = compare(
            &v,
            CompareContext { catalog: &catalog, book: &book, clients: &reg },
            &CompareOptions::default().with_reference_table("lt-national@2024"),
        )
        .unwrap();
        for row in c.providers[1].rows.iter().filter(|r| r.provider != "PRV-SIAULIAI") {
            if row.cost.total_cost.is_zero() {
                prop_assert!(!row.reference_index.is_defined());
            } else {
                prop_assert_eq!(row.reference_index.value(), Some(Decimal::ONE_HUNDRED), "{}", row.provider);
            }
        }
    }
}
