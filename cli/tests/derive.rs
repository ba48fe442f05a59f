//! Command tests of `aidcost derive` and of the derivation check in `aidcost check`, on the
//! fixtures in `tests/fixtures/derive/` (worked figures in `eu.toml`'s header).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/derive")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aidcost"))
        .args(args)
        .current_dir(fixtures())
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8 stdout")
}

#[test]
fn derive_json_reproduces_the_eu_worked_example() {
    let o = run(&["derive", "eu.toml", "--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let role = &v["roles"][0];
    assert_eq!(role["name"], "social_worker");
    assert_eq!(role["cost_per_hour"], "18");
    assert_eq!(role["cost_per_hour_rounded"], "18.00");
    assert_eq!(role["cost_per_contact_hour"], "22.50");
    assert_eq!(role["cost_per_contact_hour_rounded"], "22.50");
    assert_eq!(
        role["cost_per_hour_without_qualifications_rounded"],
        "18.00"
    );
    assert!(role["steps"].as_array().unwrap().len() >= 2);
    let elements = v["elements"].as_array().unwrap();
    assert_eq!(elements[0]["code"], "INTAKE");
    assert_eq!(elements[0]["unit_price_rounded"], "2484.00");
    assert_eq!(elements[1]["unit_price_rounded"], "3024.00");
    let steps = elements[0]["steps"].as_array().unwrap();
    assert_eq!(steps[0]["result"], "2160");
    assert_eq!(steps[1]["name"], "indirect_costs");
    assert_eq!(steps[1]["result"], "324.00");
    assert!(steps[1]["inputs"][0]["source"]
        .as_str()
        .unwrap()
        .ends_with("(CPR Reg. 2021/1060 art. 54(b))"));
    let c = &v["capacities"][0];
    assert_eq!(c["rate_per_minute"], "0.70");
    assert_eq!(c["activities"][0]["name"], "consultation");
    assert_eq!(c["activities"][0]["unit_cost"], "23.100");
    assert_eq!(c["used_minutes"], "33000.0");
    assert_eq!(c["unused_minutes"], "47000.0");
    assert_eq!(c["used_cost_rounded"], "23100.00");
    assert_eq!(c["unused_cost_rounded"], "32900.00");
}

#[test]
fn derive_table_lists_figures_and_steps() {
    let o = run(&["derive", "eu.toml"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("cost_per_hour = annual_cost ÷ annual_hours = 18 EUR/h → 18.00 EUR/h (half_up to 2 decimals)"), "{out}");
    assert!(
        out.contains("unused 47000.0 min = 32900.00 (reported apart)"),
        "{out}"
    );
}

#[test]
fn derive_refuses_bad_input_with_file_line_and_field() {
    let o = run(&["derive", "tables-mismatch/t-2024.toml"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("error: tables-mismatch/t-2024.toml:"),
        "{err}"
    );
}

#[test]
fn check_reports_a_price_that_differs_from_its_derivation() {
    let o = run(&["check", "--tables", "tables-mismatch"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stdout(&o),
        "tables-mismatch/t-2024.toml:15: element `PSYCH` is priced 20.00 but derivation `PSYCH` gives 18.00 (18 exactly); difference 2.00 beyond tolerance 0.01\n1 problem found\n"
    );
}
