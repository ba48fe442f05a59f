//! Hand-worked comparisons on small data sets.

use std::path::Path;

use super::*;
use crate::{Client, ClientRegister, Delivery, Outcome, PricingTable, TargetGroup};

fn table(year: u16, prices: &[(&str, &str)]) -> PricingTable {
    let mut text = format!(
        "schema = 1\nid = \"t\"\nversion = \"{year}\"\nscope = \"national\"\nvalid_from = \"{year}-01-01\"\nvalid_to = \"{year}-12-31\"\n"
    );
    for (e, p) in prices {
        text.push_str(&format!(
            "[[price]]\nelement = \"{e}\"\nunit_price = \"{p}\"\n"
        ));
    }
    PricingTable::from_toml(&text, Path::new("t.toml")).unwrap()
}

fn d(date: &str, provider: &str, client: &str, element: &str, q: &str) -> Delivery {
    Delivery::new(
        date.parse().unwrap(),
        provider.parse().unwrap(),
        client.parse().unwrap(),
        element.parse().unwrap(),
        q.parse().unwrap(),
    )
}

fn client(id: &str, provider: &str, applied: &str) -> Client {
    Client::new(
        id.parse().unwrap(),
        provider.parse().unwrap(),
        applied.parse().unwrap(),
    )
}

fn run(
    tables: Vec<PricingTable>,
    reg: Vec<Client>,
    ds: &[Delivery],
    options: &CompareOptions,
) -> Result<Comparison> {
    let catalog = Catalog::shipped().unwrap();
    let book = PriceBook::new(&catalog, tables).unwrap();
    let reg = ClientRegister::new(reg).unwrap();
    let v = value(
        ds,
        Context {
            catalog: &catalog,
            book: &book,
            clients: Some(&reg),
        },
        ValuationOptions::default(),
    )
    .unwrap();
    compare(
        &v,
        CompareContext {
            catalog: &catalog,
            book: &book,
            clients: &reg,
        },
        options,
    )
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// DOMAIN.md section 5, end to end: staff hours (CASE_MGMT) €30 → €36, 10 000 → 11 000 h;
/// shelter nights €50 → €55, 2 000 → 2 500; spread over ten clients a year.
#[test]
fn the_fisher_example_from_deliveries_and_two_tables() {
    let tables = vec![
        table(2019, &[("CASE_MGMT", "30.00"), ("SHELTER", "50.00")]),
        table(2024, &[("CASE_MGMT", "36.00"), ("SHELTER", "55.00")]),
    ];
    let mut reg = Vec::new();
    let mut ds = Vec::new();
    for i in 0..10 {
        let (a, b) = (format!("A{i}"), format!("B{i}"));
        reg.push(client(&a, "P1", "2019-01-01").assisted(true));
        reg.push(client(&b, "P1", "2024-01-01").assisted(true));
        ds.push(d("2019-03-01", "P1", &a, "CASE_MGMT", "1000"));
        ds.push(d("2019-03-01", "P1", &a, "SHELTER", "200"));
        ds.push(d("2024-03-01", "P1", &b, "CASE_MGMT", "1100"));
        ds.push(d("2024-03-01", "P1", &b, "SHELTER", "250"));
    }
    let c = run(tables, reg, &ds, &CompareOptions::default()).unwrap();
    assert_eq!(c.year, 2024);
    let i = c.indices;
    assert_eq!(i.value_ratio.value(), Some(dec("1.33375")));
    assert_eq!(i.laspeyres_price.value(), Some(dec("1.175")));
    assert_eq!(i.paasche_price.to_string(), "1.17252747253"); // 533 500 / 455 000
    assert_eq!(i.fisher_price.round_to(7), Some(dec("1.1737631")));
    assert_eq!(i.fisher_quantity.round_to(7), Some(dec("1.1363026")));
    assert_eq!(c.decomposition.change, Money::new(dec("133500.00")));
    assert_eq!(c.decomposition.quantity_effect, Money::new(dec("59250.00")));
    assert_eq!(c.decomposition.price_effect, Money::new(dec("74250.00")));
    // Scope: 10 assisted both years (kept); volume index Q_L = 455 000 / 400 000 = 1.1375.
    assert_eq!(
        c.scope.quantity_index_laspeyres.value(),
        Some(dec("1.1375"))
    );
    assert!(c.scope.kept);
}

/// KPIs by hand. 2024: A1 (needs CONSULT+SHELTER, both delivered; cooperates; working),
/// A2 (needs CONSULT+PSYCH, only CONSULT delivered), K1 (A1's child, needs PSYCH+SHELTER:
/// PSYCH to K1, SHELTER to A1 — the household's counts), A3 (no assessment, cooperates),
/// A4 (applied, not assisted), A5 (not assisted, yet outcomes recorded: a warning).
///
/// K1 = 4 assisted / 6 applicants = 66.67 %; K2 = 2 fully served (A1, K1) / 3 assessed;
/// K3 = 2 cooperating (A1, A3) / 4; K4 = 1 integrated (A1) / 4.
#[test]
fn kpis_by_hand_with_a_childs_household_needs_and_no_assessment() {
    let tables = vec![
        table(2019, &[("CONSULT", "10.00")]),
        table(
            2024,
            &[
                ("CONSULT", "10.00"),
                ("SHELTER", "20.00"),
                ("PSYCH", "30.00"),
            ],
        ),
    ];
    let code = |s: &str| s.parse().unwrap();
    let reg = vec![
        client("B1", "P1", "2019-01-01").assisted(true),
        client("A1", "P1", "2024-01-01")
            .assisted(true)
            .with_needs(vec![code("CONSULT"), code("SHELTER")])
            .cooperating(true)
            .with_outcomes(vec![Outcome::Working])
            .with_target_groups(vec![TargetGroup::WorkingAge]),
        client("A2", "P1", "2024-01-01")
            .assisted(true)
            .with_needs(vec![code("CONSULT"), code("PSYCH")]),
        client("K1", "P1", "2024-01-01")
            .assisted(true)
            .with_age_band(crate::AgeBand::Child)
            .with_parent("A1".parse().unwrap())
            .with_needs(vec![code("PSYCH"), code("SHELTER")]),
        client("A3", "P2", "2024-01-01")
            .assisted(true)
            .cooperating(true),
        client("A4", "P2", "2024-02-01"),
        client("A5", "P2", "2024-02-01").with_outcomes(vec![Outcome::Family]),
    ];
    let ds = [
        d("2019-05-01", "P1", "B1", "CONSULT", "1"),
        d("2024-05-01", "P1", "A1", "CONSULT", "1"),
        d("2024-05-02", "P1", "A1", "SHELTER", "2"),
        d("2024-05-01", "P1", "A2", "CONSULT", "3"),
        d("2024-05-01", "P1", "K1", "PSYCH", "1"),
        d("2024-05-01", "P2", "A3", "CONSULT", "4"),
    ];
    let c = run(tables, reg, &ds, &CompareOptions::default()).unwrap();
    let k = c
        .kpis
        .iter()
        .find(|k| k.year == 2024 && k.scope == "overall")
        .unwrap();
    assert_eq!((k.applicants, k.assisted, k.without_assessment), (6, 4, 1));
    assert_eq!((k.k1_coverage.numerator, k.k1_coverage.denominator), (4, 6));
    assert_eq!(k.k1_coverage.rate.display_dp(2), "66.67");
    assert_eq!(
        (k.k2_fully_served.numerator, k.k2_fully_served.denominator),
        (2, 3)
    );
    assert_eq!(
        (
            k.k3_law_enforcement.numerator,
            k.k3_law_enforcement.denominator
        ),
        (2, 4)
    );
    assert_eq!(k.k3_law_enforcement.rate.value(), Some(dec("50")));
    assert_eq!(
        (k.k4_integration.numerator, k.k4_integration.denominator),
        (1, 4)
    );
    // Provider P2: A3, A4, A5 applied; A3 assisted, no assessment: K2 is 0 / 0, not defined.
    let p2 = c
        .kpis
        .iter()
        .find(|k| k.year == 2024 && k.scope == "provider:P2")
        .unwrap();
    assert_eq!((p2.applicants, p2.assisted), (3, 1));
    assert_eq!(p2.k2_fully_served.rate.to_string(), "not defined");
    // Costs 2024: A1 10 + 40, A2 30, K1 30, A3 40 = 150; per assisted 150 / 4 = 37.5;
    // per integrated 150 / 1; per fully served 150 / 2 = 75.
    let cost = c
        .cost_per_outcome
        .iter()
        .find(|x| x.year == 2024 && x.scope == "overall")
        .unwrap();
    assert_eq!(cost.total_cost, Money::new(dec("150.00")));
    assert_eq!(cost.per_assisted.value(), Some(dec("37.5")));
    assert_eq!(cost.per_fully_served.value(), Some(dec("75")));
    assert_eq!(cost.per_staff_hour.to_string(), "not defined");
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("client A5 has outcomes")),
        "{:?}",
        c.warnings
    );
}

/// Price-volume-mix by provider. Base 2019: P1 two clients × 100 (10 h at 10.00), P2 two
/// clients × 300 (30 h); N₀ = 4, C₀ = 800, A₀ = 200. 2024 at 11.00/h: P1 three clients × 110,
/// P2 one client × 330; N₁ = 4, C₁ = 660. Volume (4 − 4)·200 = 0; X = 3·100 + 1·300 = 600;
/// mix 600 − 4·200 = −200; rate 660 − 600 = +60; total −140.
#[test]
fn price_volume_mix_by_provider_by_hand() {
    let tables = vec![
        table(2019, &[("CONSULT", "10.00")]),
        table(2024, &[("CONSULT", "11.00")]),
    ];
    let mut reg = Vec::new();
    let mut ds = Vec::new();
    let mut add = |id: &str, p: &str, date: &str, hours: &str| {
        reg.push(client(id, p, date).assisted(true));
        ds.push(d(date, p, id, "CONSULT", hours));
    };
    add("X1", "P1", "2019-02-01", "10");
    add("X2", "P1", "2019-02-01", "10");
    add("X3", "P2", "2019-02-01", "30");
    add("X4", "P2", "2019-02-01", "30");
    add("Y1", "P1", "2024-02-01", "10");
    add("Y2", "P1", "2024-02-01", "10");
    add("Y3", "P1", "2024-02-01", "10");
    add("Y4", "P2", "2024-02-01", "30");
    let options = CompareOptions {
        mix_by: MixBy::Provider,
        ..CompareOptions::default()
    };
    let c = run(tables, reg, &ds, &options).unwrap();
    let m = &c.mix;
    assert_eq!(m.volume, Money::new(dec("0.00")));
    assert_eq!(m.mix, Money::new(dec("-200.00")));
    assert_eq!(m.rate, Money::new(dec("60.00")));
    assert_eq!(m.total, Money::new(dec("-140.00")));

    // League 2024: P1 110 per client, P2 330; median of two (type 7) = 220: indices 50, 150.
    let l = &c.providers[1];
    assert_eq!(l.year, 2024);
    assert!(!l.flags_reliable);
    assert_eq!(l.rows[0].index_to_median.value(), Some(dec("50")));
    assert_eq!(l.rows[1].index_to_median.value(), Some(dec("150")));
    assert_eq!((l.rows[0].rank, l.rows[1].rank), (Some(1), Some(2)));
    // Reference = the 2024 table: 2024 revalued at its own prices gives 100.
    assert_eq!(l.rows[0].reference_index.value(), Some(dec("100")));
    // 2019 at 2024 prices: P1 20 h × 11 = 220 against 200 actual: 90.909…
    let l19 = &c.providers[0];
    assert_eq!(l19.rows[0].reference_cost, Money::new(dec("220.00")));
    assert_eq!(
        l19.rows[0].reference_index.round_to(4),
        Some(dec("90.9091"))
    );
}

#[test]
fn bad_inputs_are_clear_errors() {
    let tables = || {
        vec![
            table(2019, &[("CONSULT", "10.00")]),
            table(2024, &[("CONSULT", "11.00"), ("PSYCH", "30.00")]),
        ]
    };
    let reg = || {
        vec![
            client("X1", "P1", "2019-02-01").assisted(true),
            client("Y1", "P1", "2024-02-01").assisted(true),
        ]
    };
    let ds = [
        d("2019-02-01", "P1", "X1", "CONSULT", "1"),
        d("2024-02-01", "P1", "Y1", "CONSULT", "1"),
    ];
    // No base-year data.
    let options = CompareOptions::default().with_base_year(2018);
    let err = run(tables(), reg(), &ds, &options).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no valued deliveries in 2018: nothing to compare"
    );
    // A year compared with itself.
    let options = CompareOptions::default().with_base_year(2024);
    let err = run(tables(), reg(), &ds, &options).unwrap_err();
    assert!(
        err.to_string()
            .contains("the compared year is the base year"),
        "{err}"
    );
    // A deflator missing the compared year.
    let only_2019 = Deflators::new("test", 2019, BTreeMap::from([(2019, dec("100"))])).unwrap();
    let options = CompareOptions::default().with_deflators(only_2019);
    let err = run(tables(), reg(), &ds, &options).unwrap_err();
    assert!(err.to_string().contains("`2024`"), "{err}");
    // With it: 2024 cost 11.00 at index 110 against 100 is 10.00 in 2019 prices.
    let both = Deflators::new(
        "test",
        2019,
        BTreeMap::from([(2019, dec("100")), (2024, dec("110"))]),
    )
    .unwrap();
    let c = run(
        tables(),
        reg(),
        &ds,
        &CompareOptions::default().with_deflators(both),
    )
    .unwrap();
    let real = c
        .cost_per_outcome
        .iter()
        .find(|x| x.year == 2024 && x.scope == "overall")
        .and_then(|x| x.real.clone())
        .unwrap();
    assert_eq!(real.total_cost, Money::new(dec("10.00")));
    // A reference table that does not price an element in use.
    let mut tables2 = tables();
    tables2.push({
        let text = "schema = 1\nid = \"ref\"\nversion = \"1\"\nscope = \"provider\"\nprovider = \"NOBODY\"\nvalid_from = \"2000-01-01\"\nvalid_to = \"2000-12-31\"\n[[price]]\nelement = \"CONSULT\"\nunit_price = \"1\"\n";
        PricingTable::from_toml(text, Path::new("r.toml")).unwrap()
    });
    let ds2 = [
        d("2019-02-01", "P1", "X1", "CONSULT", "1"),
        d("2024-02-01", "P1", "Y1", "CONSULT", "1"),
        d("2024-02-01", "P1", "Y1", "PSYCH", "1"),
    ];
    let options = CompareOptions::default().with_reference_table("ref");
    let err = run(tables2, reg(), &ds2, &options).unwrap_err();
    assert_eq!(
        err.to_string(),
        "reference table `ref@1` does not price PSYCH used in the deliveries"
    );
}

/// Review findings, each pinned: a delivery of quantity 0 is no help (K2), the reference cost
/// covers the same (assisted) clients as the actual cost, and the outcome segment does not
/// depend on the order outcomes are listed in.
#[test]
fn rejected_rows_are_not_delivered_and_reference_covers_assisted_clients_only() {
    let tables = vec![
        table(2019, &[("CONSULT", "10.00")]),
        table(
            2024,
            &[
                ("CONSULT", "10.00"),
                ("PSYCH", "30.00"),
                ("INTAKE", "50.00"),
            ],
        ),
    ];
    let code = |s: &str| s.parse().unwrap();
    let reg = vec![
        client("B1", "P1", "2019-01-01").assisted(true),
        client("C1", "P1", "2024-01-01")
            .assisted(true)
            .with_needs(vec![code("CONSULT"), code("PSYCH")])
            .with_outcomes(vec![Outcome::Family, Outcome::Working]),
        client("C2", "P1", "2024-01-01").with_outcomes(vec![]),
        client("C3", "P1", "2024-01-01")
            .assisted(true)
            .with_outcomes(vec![Outcome::Working, Outcome::Family]),
    ];
    let ds = [
        d("2019-05-01", "P1", "B1", "CONSULT", "1"),
        d("2024-05-01", "P1", "C1", "INTAKE", "1"),
        d("2024-05-01", "P1", "C1", "CONSULT", "0"),
        d("2024-05-01", "P1", "C1", "PSYCH", "-3"),
        // C2 is not assisted: its line is valued but belongs to neither side of the index.
        d("2024-05-01", "P1", "C2", "INTAKE", "1"),
        d("2024-05-01", "P1", "C3", "INTAKE", "1"),
    ];
    let options = CompareOptions::default().with_reference_table("t@2024");
    let c = run(tables, reg, &ds, &options).unwrap();
    let k = c
        .kpis
        .iter()
        .find(|k| k.year == 2024 && k.scope == "overall")
        .unwrap();
    // C1 needs CONSULT and PSYCH; both rows are rejected (quantity not positive): 0 of 1.
    assert_eq!(
        (k.k2_fully_served.numerator, k.k2_fully_served.denominator),
        (0, 1)
    );
    let p1 = &c.providers[1].rows[0];
    // Actual: C1 50 + C3 50 = 100; reference the same lines at the same table: index 100.
    assert_eq!(p1.cost.total_cost, Money::new(dec("100.00")));
    assert_eq!(p1.reference_cost, Money::new(dec("100.00")));
    assert_eq!(p1.reference_index.value(), Some(dec("100")));
    // C1 lists family|working, C3 working|family: both are in segment "working".
    let working = c
        .mix
        .segments
        .iter()
        .find(|s| s.segment == "working")
        .unwrap();
    assert_eq!(working.clients, 2);
}
