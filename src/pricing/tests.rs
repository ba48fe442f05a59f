use std::path::Path;

use super::*;

use crate::testkit::{catalog, NATIONAL};

fn table(text: &str, name: &str) -> Result<PricingTable> {
    PricingTable::from_toml(text, Path::new(name))
}

#[test]
fn reads_every_kind_of_row() {
    let t = table(NATIONAL, "n.toml").unwrap();
    assert_eq!(t.rows().len(), 3);
    assert_eq!(
        t.row("CONSULT").unwrap().rule(),
        &PriceRule::Flat("20.00".parse().unwrap())
    );
    assert_eq!(
        t.row("CONSULT").unwrap().line(),
        9,
        "the row's [[price]] header line"
    );
    assert!(matches!(t.row("SHELTER").unwrap().rule(), PriceRule::Tiered(v) if v.len() == 2));
    assert_eq!(t.row("MEDICAL").unwrap().rule(), &PriceRule::PassThrough);
    assert_eq!(t.rounding(), RoundingPolicy::default());
}

#[test]
fn content_hash_is_sha256_of_the_file_bytes() {
    // `printf 'abc' | sha256sum` (FIPS 180-2 test vector).
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let t = table(NATIONAL, "n.toml").unwrap();
    assert_eq!(t.sha256(), sha256_hex(NATIONAL.as_bytes()));
}

#[test]
fn a_bare_number_where_a_price_belongs_names_line_and_column() {
    let bad = NATIONAL.replace("unit_price = \"20.00\"", "unit_price = 12.50");
    let err = table(&bad, "n.toml").unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("n.toml:11:14: "), "{msg}");
    assert!(msg.contains("quoted strings"), "{msg}");
}

#[test]
fn malformed_tables_are_refused_with_their_field() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "scope = \"national\"",
            "scope = \"regional\"",
            "field `scope`",
        ),
        (
            "scope = \"national\"",
            "scope = \"provider\"",
            "field `provider`",
        ),
        (
            "valid_to = \"2024-12-31\"",
            "valid_to = \"2023-12-31\"",
            "is before valid_from",
        ),
        (
            "valid_from = \"2024-01-01\"",
            "valid_from = \"2024-13-01\"",
            "field `valid_from`",
        ),
        (
            "unit_price = \"20.00\"",
            "unit_price = \"-1\"",
            "may not be negative",
        ),
        (
            "min_increment = \"0.25\"",
            "min_increment = \"0\"",
            "must be greater than zero",
        ),
        (
            "{ up_to = \"30\", unit_price = \"30.00\" },",
            "{ unit_price = \"30.00\" },",
            "every tier but the last",
        ),
        (
            "{ unit_price = \"20.00\" },",
            "{ up_to = \"40\", unit_price = \"20.00\" },",
            "the last tier has no up_to",
        ),
        (
            "pass_through = true",
            "pass_through = true\nunit_price = \"1\"",
            "exactly one of",
        ),
        (
            "source = \"test\"",
            "source = \"test\"\ncolour = \"red\"",
            "unknown field `colour`",
        ),
        ("schema = 1", "schema = 9", "unsupported schema 9"),
        (
            "element = \"MEDICAL\"",
            "element = \"CONSULT\"",
            "priced twice",
        ),
    ];
    for (from, to, expect) in cases {
        assert!(NATIONAL.contains(from), "{from}");
        let bad = NATIONAL.replacen(from, to, 1);
        let err = table(&bad, "n.toml").unwrap_err();
        assert!(err.to_string().contains(expect), "{to}: {err}");
        assert!(err.to_string().starts_with("n.toml:"), "{err}");
    }
}

#[test]
fn tiers_must_rise() {
    let bad = NATIONAL.replace(
        "{ up_to = \"30\", unit_price = \"30.00\" },",
        "{ up_to = \"30\", unit_price = \"30.00\" },\n  { up_to = \"30\", unit_price = \"25.00\" },",
    );
    let err = table(&bad, "n.toml").unwrap_err();
    assert!(
        err.to_string()
            .contains("must be above the previous tier's 30"),
        "{err}"
    );
}

#[test]
fn tables_round_trip_through_toml() {
    let t = table(NATIONAL, "n.toml").unwrap();
    let text = t.to_toml().unwrap();
    let back = table(&text, "n.toml").unwrap();
    assert_eq!(
        back.rows(),
        t.rows()
            .iter()
            .cloned()
            .map(|mut r| {
                r.line = back.row(r.element.as_str()).unwrap().line;
                r
            })
            .collect::<Vec<_>>()
    );
    assert_eq!(
        (back.id(), back.version(), back.scope()),
        (t.id(), t.version(), t.scope())
    );
}

fn provider_table(from: &str, to: &str) -> String {
    format!(
        "schema = 1\nid = \"prv-a\"\nversion = \"1\"\nscope = \"provider\"\nprovider = \"PRV-A\"\nvalid_from = \"{from}\"\nvalid_to = \"{to}\"\n\n[[price]]\nelement = \"CONSULT\"\nunit_price = \"15.00\"\n"
    )
}

#[test]
fn provider_table_wins_for_its_elements_and_dates_only() {
    let c = catalog();
    let book = PriceBook::new(
        &c,
        vec![
            table(NATIONAL, "n.toml").unwrap(),
            table(&provider_table("2024-06-01", "2024-12-31"), "a.toml").unwrap(),
        ],
    )
    .unwrap();
    let consult = c.index_of("CONSULT").unwrap();
    let shelter = c.index_of("SHELTER").unwrap();
    let day = |s: &str| s.parse::<Date>().unwrap();
    let hit = book.lookup(consult, "PRV-A", day("2024-07-01")).unwrap();
    assert_eq!(book.table(hit.table).id().as_str(), "prv-a");
    // Before the provider table starts, the national price applies.
    let hit = book.lookup(consult, "PRV-A", day("2024-05-31")).unwrap();
    assert_eq!(book.table(hit.table).id().as_str(), "lt-national");
    // The provider table does not price SHELTER: national.
    let hit = book.lookup(shelter, "PRV-A", day("2024-07-01")).unwrap();
    assert_eq!(book.table(hit.table).id().as_str(), "lt-national");
    // Another provider: national.
    let hit = book.lookup(consult, "PRV-B", day("2024-07-01")).unwrap();
    assert_eq!(book.table(hit.table).id().as_str(), "lt-national");
    // A date no table covers is a miss.
    assert_eq!(book.lookup(consult, "PRV-A", day("2025-01-01")), None);
}

#[test]
fn overlapping_tables_of_one_scope_are_a_load_error_naming_both_files() {
    let c = catalog();
    let err = PriceBook::new(
        &c,
        vec![
            table(&provider_table("2024-01-01", "2024-06-30"), "a.toml").unwrap(),
            table(&provider_table("2024-06-30", "2024-12-31"), "b.toml").unwrap(),
        ],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "tables `a.toml` and `b.toml` overlap: both provider PRV-A and valid on 2024-06-30"
    );
    // Adjacent validity is fine.
    PriceBook::new(
        &c,
        vec![
            table(&provider_table("2024-01-01", "2024-06-29"), "a.toml").unwrap(),
            table(&provider_table("2024-06-30", "2024-12-31"), "b.toml").unwrap(),
        ],
    )
    .unwrap();
}

#[test]
fn rows_must_match_the_catalog() {
    let c = catalog();
    let unknown = NATIONAL.replace(
        "element = \"MEDICAL\"\npass_through = true",
        "element = \"YOGA\"\nunit_price = \"1\"",
    );
    let err = PriceBook::new(&c, vec![table(&unknown, "n.toml").unwrap()]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown element `YOGA` in table `lt-national` (n.toml:22)"
    );
    let priced_euro = NATIONAL.replace("pass_through = true", "unit_price = \"1.00\"");
    let err = PriceBook::new(&c, vec![table(&priced_euro, "n.toml").unwrap()]).unwrap_err();
    assert!(
        err.to_string()
            .contains("euro elements must be pass_through = true"),
        "{err}"
    );
}

#[test]
fn shipped_tables_load_and_price_every_catalog_element_in_2019_and_2024() {
    let c = Catalog::shipped().unwrap();
    let book = PriceBook::shipped(&c).unwrap();
    for year in ["2019-06-30", "2024-06-30"] {
        let date: Date = year.parse().unwrap();
        for e in c.iter() {
            let idx = c.index_of(e.code().as_str()).unwrap();
            let hit = book.lookup(idx, "NO-SUCH-PROVIDER", date);
            assert!(hit.is_some(), "{} unpriced on {year}", e.code());
            assert!(
                !book.row(hit.unwrap()).source().is_empty(),
                "{} has no source",
                e.code()
            );
        }
    }
}
