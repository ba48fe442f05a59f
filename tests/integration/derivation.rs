//! Derivations meet the price tables: the shipped 2024 national prices agree with the shipped
//! derivations, and a price that drifts from its derivation is reported.

use std::path::{Path, PathBuf};

use aidcost::derivation::{check_book, mismatches};
use aidcost::{Catalog, Derivations, PriceBook, PriceRule, PricingTable};

fn shipped_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("pricing-tables")
}

fn national_2024() -> PricingTable {
    PricingTable::load(shipped_dir().join("lt-national-2024.toml")).unwrap()
}

#[test]
fn every_staff_based_2024_price_names_its_derivation_and_equals_it() {
    let catalog = Catalog::shipped().unwrap();
    let table = national_2024();
    let path = table.derivations_path().unwrap();
    let d = Derivations::load(&path, &catalog).unwrap();
    let staff_based = [
        "INTAKE",
        "CASE_MGMT",
        "INFO",
        "CONSULT",
        "MEDIATE",
        "ACCOMPANY",
        "SOCIOCULT",
        "OUTREACH",
        "SKILLS",
        "PSYCHOSOC",
        "PSYCH",
        "PSYCHOTHERAPY",
        "LEGAL_CONSULT",
        "LEGAL_REP",
        "EMPLOY",
        "CHILD_SVC",
        "HOTLINE",
        "RETURN",
        "PREV_EVENT",
    ];
    for code in staff_based {
        let row = table.row(code).unwrap();
        let name = row
            .derived()
            .unwrap_or_else(|| panic!("{code} names no derivation"));
        let derived = d.element(name).unwrap();
        let PriceRule::Flat(literal) = row.rule() else {
            panic!("{code} is not flat")
        };
        assert_eq!(
            derived.unit_price_rounded_with(table.rounding()),
            *literal,
            "{code}"
        );
    }
    assert_eq!(table.tolerance().unwrap().to_string(), "0.01");
    assert!(mismatches(&table, &d).unwrap().is_empty());
}

#[test]
fn the_shipped_folder_has_no_mismatch_and_its_subfolder_is_not_a_table() {
    let catalog = Catalog::shipped().unwrap();
    let book = PriceBook::load_dir(shipped_dir(), &catalog).unwrap();
    assert_eq!(book.tables().len(), 3);
    assert!(check_book(&book, &catalog).unwrap().is_empty());
    let shipped = PriceBook::shipped(&catalog).unwrap();
    assert!(check_book(&shipped, &catalog).unwrap().is_empty());
}

#[test]
fn a_price_that_drifts_from_its_derivation_is_reported_with_its_line() {
    let catalog = Catalog::shipped().unwrap();
    let text = std::fs::read_to_string(shipped_dir().join("lt-national-2024.toml")).unwrap();
    let drifted = text.replacen("unit_price = \"29.00\"", "unit_price = \"29.50\"", 1);
    let origin = shipped_dir().join("drifted.toml");
    let table = PricingTable::from_toml(&drifted, &origin).unwrap();
    let d = Derivations::load(table.derivations_path().unwrap(), &catalog).unwrap();
    let found = mismatches(&table, &d).unwrap();
    assert_eq!(found.len(), 1);
    let m = &found[0];
    assert_eq!(m.element().as_str(), "PSYCH");
    assert_eq!(m.difference().to_string(), "0.50");
    let line = drifted
        .lines()
        .position(|l| l.contains("\"PSYCH\""))
        .unwrap() as u64;
    // The row starts at its `[[price]]` header, the line before the element.
    assert_eq!(m.location().line(), line);
}

#[test]
fn derivations_and_tolerance_survive_the_table_round_trip() {
    let table = national_2024();
    let text = table.to_toml().unwrap();
    let back = PricingTable::from_toml(&text, table.origin()).unwrap();
    assert_eq!(back.derivations(), table.derivations());
    assert_eq!(back.tolerance(), table.tolerance());
    let derived = |t: &PricingTable| -> Vec<Option<String>> {
        t.rows()
            .iter()
            .map(|r| r.derived().map(str::to_owned))
            .collect()
    };
    assert_eq!(derived(&back), derived(&table));
}

#[test]
fn every_derived_figure_carries_steps_with_sourced_inputs() {
    let catalog = Catalog::shipped().unwrap();
    let d = Derivations::load(
        shipped_dir().join("derivations/lt-national-2024.toml"),
        &catalog,
    )
    .unwrap();
    let sw = d.role("social_worker").unwrap();
    assert_eq!(sw.cost_per_hour_rounded().to_string(), "16.00");
    let step = sw.steps().last().unwrap();
    assert_eq!(
        step.to_string(),
        "cost_per_hour = annual_cost ÷ annual_hours = 16 EUR/h → 16.00 EUR/h (half_up to 2 decimals)"
    );
    assert!(step.inputs()[1].source().contains("art. 55(2)"));
    for e in d.elements() {
        let last = e.steps().last().unwrap();
        assert_eq!(last.name(), "unit_price");
        assert!(last.rounding().is_some());
        assert!(e
            .steps()
            .iter()
            .all(|s| s.inputs().iter().all(|i| !i.source().is_empty())));
    }
}
