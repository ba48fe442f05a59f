//! Every load error, triggered from a bad file.

use std::path::Path;

use aidcost::{read_clients, read_deliveries, Catalog, CsvOptions, Error, PriceBook, PricingTable};

use crate::fixture;

#[test]
fn a_float_price_names_file_line_and_column() {
    let c = Catalog::shipped().unwrap();
    let err = PriceBook::load_dir(fixture("bad/float-price"), &c).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("float-price/national.toml:29:14: "), "{msg}");
    assert!(msg.contains("quoted strings"), "{msg}");
}

#[test]
fn overlapping_tables_name_both_files() {
    let c = Catalog::shipped().unwrap();
    let err = PriceBook::load_dir(fixture("bad/overlap"), &c).unwrap_err();
    assert!(matches!(err, Error::OverlappingTables { .. }));
    let msg = err.to_string();
    assert!(msg.contains("overlap/a.toml` and `"), "{msg}");
    assert!(
        msg.contains("overlap/b.toml` overlap: both national and valid on 2024-06-01"),
        "{msg}"
    );
    // check_dir lists it too, with nothing else.
    assert_eq!(PriceBook::check_dir(fixture("bad/overlap"), &c).len(), 1);
}

#[test]
fn a_missing_directory_is_an_io_error_naming_it() {
    let c = Catalog::shipped().unwrap();
    let err = PriceBook::load_dir(fixture("no-such-dir"), &c).unwrap_err();
    assert!(matches!(err, Error::Io { .. }));
    assert!(
        err.to_string().contains("no-such-dir: cannot read"),
        "{err}"
    );
}

#[test]
fn table_rows_naming_unknown_elements_are_refused() {
    let c = Catalog::shipped().unwrap();
    let text = std::fs::read_to_string(fixture("tables/prv-b-2024.toml"))
        .unwrap()
        .replace("PSYCH", "ASTROLOGY");
    let t = PricingTable::from_toml(&text, Path::new("x.toml")).unwrap();
    let err = PriceBook::new(&c, vec![t]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown element `ASTROLOGY` in table `test-prv-b` (x.toml:10)"
    );
}

#[test]
fn malformed_csv_cells_name_file_line_column_and_field() {
    let cases = [
        (
            "2024-01-10,PRV-A,C1,CONSULT,abc",
            "d.csv:2:5: field `quantity`: `abc`",
        ),
        (
            "2024-01-10,PRV A,C1,CONSULT,1",
            "d.csv:2:2: field `provider`: `PRV A`",
        ),
        ("2024-01-10,PRV-A,,CONSULT,1", "d.csv:2:3: field `client`"),
        (
            "2024-01-10,PRV-A,C1,consult,1",
            "d.csv:2:4: field `element`: `consult`",
        ),
        (
            "10.01.2024,PRV-A,C1,CONSULT,1",
            "d.csv:2:1: field `date`: `10.01.2024`: expected YYYY-MM-DD",
        ),
    ];
    for (row, expect) in cases {
        let text = format!("date,provider,client,element,quantity\n{row}\n");
        let err = read_deliveries(&text, Path::new("d.csv"), CsvOptions::detect()).unwrap_err();
        assert!(err.to_string().starts_with(expect), "{row}: {err}");
    }
    let text = "client,provider,applied_on,assisted\nC1,P,2024-01-01,perhaps\n";
    let err = read_clients(text, Path::new("c.csv"), CsvOptions::detect()).unwrap_err();
    assert!(
        err.to_string().starts_with("c.csv:2:4: field `assisted`"),
        "{err}"
    );
}

#[test]
fn a_personal_code_in_a_register_is_refused() {
    let text = "client,provider,applied_on,assisted\n38506120007,P,2024-01-01,yes\n";
    let err = read_clients(text, Path::new("c.csv"), CsvOptions::detect()).unwrap_err();
    assert!(
        err.to_string()
            .contains("looks like a Lithuanian personal code"),
        "{err}"
    );
    assert!(
        !err.to_string().contains("38506120007"),
        "the code itself is not echoed: {err}"
    );
}
