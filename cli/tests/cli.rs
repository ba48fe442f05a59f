//! Command tests: run the built `aidcost` binary on the fixtures in `tests/fixtures/` and check
//! its output and exit status.
//!
//! The fixtures, worked by hand (tables: `fixtures/tables/`, shipped catalog):
//!
//! `fx-national` 2024: INTAKE 50.00, CONSULT 20.00 (min increment 0.25), LEGAL_CONSULT 35.00
//! (min increment 0.25), SHELTER tiers 30.00 up to night 30 then 20.00, TRANSPORT 0.50 capped
//! at 100 km per client-year, PSYCH 40.00, MEDICAL pass-through. `fx-prv-b` 2024-b: PSYCH 45.00
//! for PRV-B. Rounding half_up to 2 decimals per line.
//!
//! `deliveries.csv` (row = line − 1):
//!
//! | row | client | element | qty | worked | amount |
//! |---|---|---|---|---|---|
//! | 1 | C1 | SHELTER | 20 | nights 1–20: 20 × 30.00 | 600.00 |
//! | 2 | C1 | SHELTER | 15 | nights 21–30: 10 × 30.00 = 300.00; 31–35: 5 × 20.00 = 100.00 | 400.00 |
//! | 3 | C1 | LEGAL_CONSULT | 1.1 | 1.1 → 1.25 × 35.00 = 43.7500 | 43.75 |
//! | 4 | C1-K1 | CONSULT | 0.6 | 0.6 → 0.75 × 20.00 | 15.00 |
//! | 5 | C2 | PSYCH | 2 | 2 × 40.00 | 80.00 |
//! | 6 | C3 | PSYCH | 3 | PRV-B's own table: 3 × 45.00 | 135.00 |
//! | 7 | C3 | TRANSPORT | 79.99 | 79.99 × 0.50 = 39.995 → half up | 40.00 |
//! | 8 | C3 | TRANSPORT | 40.5 | cap 100 leaves 20.01: 20.01 × 0.50 = 10.005 → 10.01; 20.49 km over cap (partial) | 10.01 |
//! | 9 | C3 | MEDICAL | 12.34 | pass-through 12.34 × 1 | 12.34 |
//! | 10 | C2 | PSYCH | 1 | dated 2023-12-30: no table, rejected | — |
//!
//! PRV-A = 600 + 400 + 43.75 + 15 + 80 = 1138.75; PRV-B = 135 + 40 + 10.01 + 12.34 = 197.35;
//! total 1336.10. Household C1 (C1 and child C1-K1) = 600 + 400 + 43.75 + 15 = 1058.75.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Runs `aidcost` in the fixtures folder.
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

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("UTF-8 stderr")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("an exit code, not a signal")
}

const VALUE: &[&str] = &[
    "value",
    "--tables",
    "tables",
    "--deliveries",
    "deliveries.csv",
    "--clients",
    "clients.csv",
];

fn value_with(extra: &[&str]) -> Output {
    let mut args = VALUE.to_vec();
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn value_prints_an_aligned_table_and_the_summary_line() {
    let o = value_with(&[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.ends_with("rows read 10, valued 9, rejected 1, total EUR 1336.10\n"),
        "{out}"
    );
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("PRV-") || l.starts_with("total "))
        .collect();
    assert_eq!(rows.len(), 3, "{out}");
    assert!(
        rows[0].starts_with("PRV-A") && rows[0].ends_with(" 1138.75"),
        "{out}"
    );
    assert!(
        rows[1].starts_with("PRV-B") && rows[1].ends_with(" 197.35"),
        "{out}"
    );
    assert!(rows[2].ends_with(" 1336.10"), "{out}");
    // Amounts are right-aligned: every row has the same width.
    assert!(rows.iter().all(|r| r.len() == rows[0].len()), "{out}");
    assert!(
        out.contains("rejections: 2 (no_price 1, over_cap 1 (1 partial))"),
        "{out}"
    );
    assert!(out.contains("fx-national version 2024"), "{out}");
}

#[test]
fn value_csv_groups_by_several_keys_with_exact_amounts() {
    let o = value_with(&["--by", "provider,element", "--format", "csv"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "provider,element,lines,quantity,unit,amount\n\
         PRV-A,CONSULT,1,0.75,hour,15.00\n\
         PRV-A,LEGAL_CONSULT,1,1.25,hour,43.75\n\
         PRV-A,PSYCH,1,2,session,80.00\n\
         PRV-A,SHELTER,2,35,bed_night,1000.00\n\
         PRV-B,MEDICAL,1,12.34,eur,12.34\n\
         PRV-B,PSYCH,1,3,session,135.00\n\
         PRV-B,TRANSPORT,2,100,km,50.01\n"
    );
    // The summary goes to stderr so the CSV stays clean.
    assert_eq!(
        stderr(&o),
        "rows read 10, valued 9, rejected 1, total EUR 1336.10\n"
    );
}

#[test]
fn value_json_has_the_documented_keys_and_decimal_string_amounts() {
    let o = value_with(&["--by", "household,year", "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert_eq!(v["rows_read"], 10);
    assert_eq!(v["rows_valued"], 9);
    assert_eq!(v["rows_rejected"], 1);
    assert_eq!(v["total"], "1336.10");
    assert_eq!(v["by"], serde_json::json!(["household", "year"]));
    let tables = v["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 2);
    for t in tables {
        for k in ["id", "version", "scope", "sha256", "file"] {
            assert!(t.get(k).is_some(), "table without {k}: {t}");
        }
        assert_eq!(t["sha256"].as_str().unwrap().len(), 64);
    }
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(
        groups[0],
        serde_json::json!({"key": {"household": "C1", "year": "2024"}, "lines": 4, "amount": "1058.75"})
    );
    assert_eq!(
        groups[1],
        serde_json::json!({"key": {"household": "C2", "year": "2024"}, "lines": 1,
                           "quantity": "2", "unit": "session", "amount": "80.00"})
    );
    assert_eq!(groups[2]["amount"], "197.35");
    let rejections = v["rejections"].as_array().unwrap();
    assert_eq!(rejections.len(), 2);
    assert_eq!(
        rejections[0],
        serde_json::json!({
            "row": 8, "line": 9, "reason_code": "over_cap",
            "reason": "over cap: `TRANSPORT` is capped at 100 per client per year; 20.49 beyond it is not priced",
            "partial": true, "date": "2024-04-01", "provider": "PRV-B", "client": "C3",
            "element": "TRANSPORT", "quantity": "40.5"
        })
    );
    assert_eq!(rejections[1]["reason_code"], "no_price");
    assert_eq!(rejections[1]["partial"], false);
    assert_eq!(rejections[1]["line"], 11);
}

#[test]
fn strict_makes_any_rejection_exit_1_after_the_output() {
    let o = value_with(&["--strict"]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("total EUR 1336.10"));
    let err = stderr(&o);
    assert!(
        err.starts_with(
            "error: 2 rejection(s) under --strict; the first: deliveries.csv:9: row 8: over cap"
        ),
        "{err}"
    );
    // Grouped otherwise, the same rejections still fail it.
    let o = run(&[
        "value",
        "--tables",
        "tables",
        "--deliveries",
        "deliveries.csv",
        "--by",
        "year",
        "--strict",
    ]);
    assert_eq!(code(&o), 1);
}

#[test]
fn strict_without_rejections_exits_0() {
    let dir = std::env::temp_dir().join(format!("aidcost-cli-strict-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("clean.csv");
    std::fs::write(
        &file,
        "date,provider,client,element,quantity\n2024-05-01,PRV-A,C2,PSYCH,1\n",
    )
    .unwrap();
    let o = run(&[
        "value",
        "--tables",
        "tables",
        "--deliveries",
        file.to_str().unwrap(),
        "--strict",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).ends_with("rows read 1, valued 1, rejected 0, total EUR 40.00\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_file_exits_2_with_one_error_line() {
    let o = run(&["value", "--tables", "tables", "--deliveries", "no-such.csv"]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.starts_with("error: no-such.csv: cannot read: "),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let o = run(&[
        "value",
        "--tables",
        "no-such-dir",
        "--deliveries",
        "deliveries.csv",
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).starts_with("error: no-such-dir: cannot read"));
}

#[test]
fn a_malformed_file_exits_2_naming_file_line_column_and_field() {
    let o = run(&[
        "value",
        "--tables",
        "tables",
        "--deliveries",
        "deliveries-bad.csv",
    ]);
    assert_eq!(code(&o), 2);
    assert_eq!(
        stderr(&o),
        "error: deliveries-bad.csv:3:5: field `quantity`: `abc`: expected a decimal number such as 12.50\n"
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn usage_errors_exit_2() {
    let o = run(&["value", "--tables", "tables"]);
    assert_eq!(code(&o), 2, "clap: a required argument is missing");
    let o = value_with(&["--by", "colour"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).starts_with("error: invalid grouping key `colour`"),
        "{}",
        stderr(&o)
    );
    let o = run(&["frobnicate"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn excel_lt_input_with_semicolons_and_decimal_commas_gives_the_same_result() {
    let plain = value_with(&["--by", "provider,element", "--format", "csv"]);
    let excel = run(&[
        "value",
        "--tables",
        "tables",
        "--deliveries",
        "deliveries-excel-lt.csv",
        "--clients",
        "clients.csv",
        "--by",
        "provider,element",
        "--format",
        "csv",
    ]);
    assert_eq!(code(&excel), 0, "{}", stderr(&excel));
    assert_eq!(stdout(&plain), stdout(&excel));
    assert_eq!(stderr(&plain), stderr(&excel));
}

#[test]
fn decimal_comma_flag_reads_quoted_commas_in_a_comma_file() {
    let dir = std::env::temp_dir().join(format!("aidcost-cli-dc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("dc.csv");
    // 1,1 h → 1.25 billed × 35.00 = 43.75
    std::fs::write(
        &file,
        "date,provider,client,element,quantity\n2024-01-11,PRV-A,C1,LEGAL_CONSULT,\"1,1\"\n",
    )
    .unwrap();
    let args = [
        "value",
        "--tables",
        "tables",
        "--deliveries",
        file.to_str().unwrap(),
    ];
    let o = run(&args);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--decimal-comma"), "{}", stderr(&o));
    let mut with_flag = args.to_vec();
    with_flag.push("--decimal-comma");
    let o = run(&with_flag);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).ends_with("total EUR 43.75\n"), "{}", stdout(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn excel_lt_output_has_bom_semicolons_decimal_commas_and_crlf() {
    let o = value_with(&["--by", "provider", "--format", "csv", "--excel-lt"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        o.stdout,
        "\u{feff}provider;lines;quantity;unit;amount\r\nPRV-A;5;;;1138,75\r\nPRV-B;4;;;197,35\r\n"
            .as_bytes()
    );
    let o = value_with(&["--excel-lt"]);
    assert_eq!(code(&o), 2, "--excel-lt needs --format csv");
}

#[test]
fn rejections_file_lists_every_rejection_as_csv() {
    let dir = std::env::temp_dir().join(format!("aidcost-cli-rej-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("rejections.csv");
    let o = value_with(&["--rejections", file.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        text,
        "row,line,reason_code,reason,partial,date,provider,client,element,quantity\n\
         8,9,over_cap,over cap: `TRANSPORT` is capped at 100 per client per year; 20.49 beyond it is not priced,yes,2024-04-01,PRV-B,C3,TRANSPORT,40.5\n\
         10,11,no_price,no price: no table prices `PSYCH` for provider `PRV-A` on 2023-12-30,no,2023-12-30,PRV-A,C2,PSYCH,1\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn output_is_byte_identical_on_reruns_and_for_shuffled_rows() {
    for extra in [
        &["--by", "provider,element"][..],
        &["--by", "household,month", "--format", "csv"][..],
        &["--by", "category", "--format", "csv", "--excel-lt"][..],
    ] {
        let a = value_with(extra);
        let b = value_with(extra);
        assert_eq!(a.stdout, b.stdout);
        assert_eq!(a.stderr, b.stderr);
        let mut args = vec![
            "value",
            "--tables",
            "tables",
            "--deliveries",
            "deliveries-shuffled.csv",
            "--clients",
            "clients.csv",
        ];
        args.extend_from_slice(extra);
        let shuffled = run(&args);
        let plain = String::from_utf8(a.stdout.clone()).unwrap();
        let shuf = stdout(&shuffled).replace("deliveries-shuffled.csv", "deliveries.csv");
        assert_eq!(plain, shuf, "shuffled input, same report");
        assert_eq!(a.stderr, shuffled.stderr);
    }
    let a = value_with(&["--format", "json"]);
    let b = value_with(&["--format", "json"]);
    assert_eq!(a.stdout, b.stdout);
}

fn explain(client: &str) -> Output {
    run(&[
        "explain",
        "--client",
        client,
        "--tables",
        "tables",
        "--deliveries",
        "deliveries.csv",
        "--clients",
        "clients.csv",
    ])
}

#[test]
fn explain_shows_tiers_increments_rounding_and_citations_for_a_household() {
    let o = explain("C1");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let has = |needle: &str| assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    has("Receipt for client C1\n");
    has("Household of C1: 2 members (C1, C1-K1)\n");
    // Tiers: the first stay fills nights 1–20, the second crosses the tier boundary at 30.
    has("    nights 1–20 of the year: 20 × 30.00 = 600.00 (tier 1, up to 30)\n");
    has("    nights 21–30 of the year: 10 × 30.00 = 300.00 (tier 1, up to 30)\n");
    has("    nights 31–35 of the year: 5 × 20.00 = 100.00 (tier 2, beyond the previous tiers)\n");
    has("    300.00 + 100.00 = 400.00\n");
    // Increments.
    has("    quantity 1.1 hour, 1.1 → 1.25 (min increment 0.25); billed 1.25 hour\n");
    has("    1.25 × 35.00 = 43.75\n");
    has("    quantity 0.6 hour, 0.6 → 0.75 (min increment 0.25); billed 0.75 hour\n");
    has("    unrounded 43.75 → rounded half_up to 2 decimals: 43.75\n");
    has("    deliveries.csv:4 (row 3), provider PRV-A\n");
    // Citations with the full content hash, price row and file line.
    let cite = out
        .lines()
        .find(|l| l.contains("price: table fx-national version 2024 sha256 "))
        .expect("a citation");
    let hash = cite
        .split("sha256 ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert_eq!(hash.len(), 64, "{cite}");
    has(" row 4 (tables/fx-national-2024.toml:32)\n");
    has("SHELTER            2      35  bed_night  1000.00\n");
    has("\nTotal EUR 1058.75 (4 lines valued)\n");
    // A child alone is just the child.
    let o = explain("C1-K1");
    assert!(
        stdout(&o).ends_with("Total EUR 15.00 (1 lines valued)\n"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn explain_shows_over_cap_excess_rounding_and_rejected_rows() {
    let out = stdout(&explain("C3"));
    assert!(out.contains("    79.99 × 0.50 = 39.995\n"), "{out}");
    assert!(
        out.contains("    unrounded 39.995 → rounded half_up to 2 decimals: 40.00\n"),
        "{out}"
    );
    assert!(
        out.contains("    partly rejected (over_cap): over cap: `TRANSPORT` is capped at 100 per client per year; 20.49 beyond it is not priced\n"),
        "{out}"
    );
    assert!(out.contains("    20.01 × 0.50 = 10.005\n"), "{out}");
    assert!(
        out.contains("price: table fx-prv-b version 2024-b"),
        "{out}"
    );
    assert!(
        out.contains("(pass-through: the quantity is the actual cost in euro)"),
        "{out}"
    );
    assert!(
        out.ends_with("Total EUR 197.35 (4 lines valued)\n"),
        "{out}"
    );
    let out = stdout(&explain("C2"));
    assert!(
        out.contains("    quantity 1: NOT VALUED (no_price)"),
        "{out}"
    );
    assert!(
        out.ends_with("Total EUR 80.00 (1 lines valued, 1 not valued)\n"),
        "{out}"
    );
    let o = explain("C-NOBODY");
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).starts_with("error: no client `C-NOBODY`"));
}

#[test]
fn check_is_quiet_and_exits_0_when_everything_is_fine() {
    let o = run(&["check", "--tables", "tables", "--clients", "clients.csv"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert_eq!(
        stdout(&o),
        "ok: shipped catalog (35 elements), 2 price tables, 4 clients\n"
    );
}

#[test]
fn check_lists_every_problem_with_file_and_line_and_exits_1() {
    let o = run(&[
        "check",
        "--tables",
        "tables",
        "--deliveries",
        "deliveries-problems.csv",
        "--clients",
        "clients.csv",
    ]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        stdout(&o),
        "deliveries-problems.csv:3:5: field `quantity`: `abc`: expected a decimal number such as 12.50\n\
         deliveries-problems.csv:5:1: field `date`: `2024-02-30`: no such day\n\
         deliveries-problems.csv:4: row 2: unknown client `C9`: not in the client register\n\
         deliveries-problems.csv:6: row 3: unknown element `NOPE`\n\
         4 problems found\n"
    );
    let o = run(&["check", "--tables", "tables-bad"]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(out.contains("unknown element `NOPE`"), "{out}");
    assert!(
        out.contains("tables-bad/national.toml:15: field `pass_through`"),
        "{out}"
    );
    assert!(out.ends_with("2 problems found\n"), "{out}");
    let o = run(&["check", "--tables", "tables", "--deliveries", "no-such.csv"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn catalog_lists_elements_with_the_national_price_in_force() {
    let o = run(&["catalog", "--tables", "tables", "--on", "2024-06-01"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with(
        "Prices: national table fx-national version 2024 (2024-01-01 to 2024-12-31, tables/fx-national-2024.toml), in force on 2024-06-01\n"
    ), "{out}");
    let shelter = out.lines().find(|l| l.starts_with("SHELTER ")).unwrap();
    assert!(shelter.contains("30.00 ≤30, 20.00"), "{shelter}");
    let medical = out.lines().find(|l| l.starts_with("MEDICAL ")).unwrap();
    assert!(medical.contains("pass-through"), "{medical}");
    let consult = out.lines().find(|l| l.starts_with("CONSULT ")).unwrap();
    assert!(consult.contains("20.00  min increment 0.25"), "{consult}");

    let o = run(&["catalog", "--format", "json", "--on", "2019-05-01"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["table"]["id"], "lt-national");
    assert_eq!(v["table"]["version"], "2019");
    assert_eq!(v["table"]["covers_date"], true);
    assert_eq!(v["elements"].as_array().unwrap().len(), 35);

    let o = run(&[
        "catalog",
        "--format",
        "csv",
        "--excel-lt",
        "--on",
        "2030-01-01",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("\u{feff}code;name_lt;"), "{out}");
    assert!(
        out.contains(";lt-national;2024\r\n"),
        "latest national table: {out}"
    );
}

#[test]
fn demo_runs_without_files_and_prints_both_years() {
    let dir = std::env::temp_dir();
    let o = Command::new(env!("CARGO_BIN_EXE_aidcost"))
        .arg("demo")
        .current_dir(dir)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("\n2019\n"), "{out}");
    assert!(out.contains("\n2024\n"), "{out}");
    for p in ["PRV-KAUNAS", "PRV-KLAIPEDA", "PRV-SIAULIAI", "PRV-VILNIUS"] {
        assert_eq!(
            out.lines().filter(|l| l.starts_with(p)).count(),
            2,
            "{p}: {out}"
        );
    }
    assert_eq!(out.lines().filter(|l| l.starts_with("total ")).count(), 2);
    assert!(out.contains("rejections: "), "{out}");
    assert!(out.contains("Try next"), "{out}");
    assert!(out.contains("aidcost value --tables pricing-tables --deliveries demo/deliveries.csv"));
    assert_eq!(o.stdout, run(&["demo"]).stdout, "deterministic");
}

#[test]
fn a_malformed_crlf_file_names_the_right_line() {
    // Excel writes CRLF; the bad cell is on line 3.
    let o = run(&[
        "value",
        "--tables",
        "tables",
        "--deliveries",
        "deliveries-bad-crlf.csv",
    ]);
    assert_eq!(code(&o), 2);
    assert_eq!(
        stderr(&o),
        "error: deliveries-bad-crlf.csv:3:5: field `quantity`: `abc`: expected a decimal number such as 12.50\n"
    );
}

#[test]
fn rejection_lines_are_right_in_excel_lt_files() {
    let o = run(&[
        "value",
        "--tables",
        "tables",
        "--deliveries",
        "deliveries-excel-lt.csv",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["rejections"][0]["row"], 8);
    assert_eq!(v["rejections"][0]["line"], 9);
}

#[test]
fn check_and_rejection_lines_count_blank_lines() {
    let dir = std::env::temp_dir().join(format!("aidcost-cli-blank-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tables = fixtures().join("tables");
    let header = "date,provider,client,element,quantity\n";
    // Line 2 is good, lines 3–6 blank, line 7 has a bad quantity, line 9 is rejected (no price).
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        format!(
            "{header}2024-02-01,PRV-A,C1,PSYCH,1\n\n\n\n\n2024-02-01,PRV-A,C1,PSYCH,x\n\n2023-12-30,PRV-A,C2,PSYCH,1\n"
        ),
    )
    .unwrap();
    let o = run(&[
        "check",
        "--tables",
        tables.to_str().unwrap(),
        "--deliveries",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    let name = bad.display().to_string();
    assert!(
        out.contains(&format!("{name}:7:5: field `quantity`")),
        "{out}"
    );
    assert!(out.contains(&format!("{name}:9: row 2: no price")), "{out}");
    // CRLF with one blank line: the bad row is on line 4.
    let crlf = dir.join("crlf.csv");
    std::fs::write(
        &crlf,
        "date,provider,client,element,quantity\r\n2024-02-01,PRV-A,C1,PSYCH,1\r\n\r\n2024-02-01,PRV-A,C1,PSYCH,x\r\n",
    )
    .unwrap();
    let o = run(&[
        "value",
        "--tables",
        tables.to_str().unwrap(),
        "--deliveries",
        crlf.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).starts_with(&format!("error: {}:4:5: field `quantity`", crlf.display())),
        "{}",
        stderr(&o)
    );
    // The rejections file names the line too.
    let good = dir.join("good.csv");
    std::fs::write(
        &good,
        format!("{header}2024-02-01,PRV-A,C1,PSYCH,1\n\n\n\n2023-12-30,PRV-A,C2,PSYCH,1\n"),
    )
    .unwrap();
    let rej = dir.join("rejections.csv");
    let o = run(&[
        "value",
        "--tables",
        tables.to_str().unwrap(),
        "--deliveries",
        good.to_str().unwrap(),
        "--rejections",
        rej.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = std::fs::read_to_string(&rej).unwrap();
    assert!(
        text.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("2,6,no_price")),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn registers_refuse_unknown_needs_and_name_the_parent_cell() {
    let dir = std::env::temp_dir().join(format!("aidcost-cli-reg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tables = fixtures().join("tables");
    let reg = dir.join("clients.csv");
    std::fs::write(
        &reg,
        "client,provider,applied_on,assisted,parent,needs\n\
         C1,PRV-A,2024-01-05,yes,,SHELTER|CONSUL\n\
         C1-K1,PRV-A,2024-01-05,yes,C9,\n",
    )
    .unwrap();
    let name = reg.display().to_string();
    let o = run(&[
        "check",
        "--tables",
        tables.to_str().unwrap(),
        "--clients",
        &name,
    ]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        stdout(&o),
        format!(
            "{name}:3:5: field `parent`: client `C1-K1`: parent `C9` is not in the register\n\
             {name}:2:6: field `needs`: client `C1`: unknown element `CONSUL`: not in the catalog\n\
             2 problems found\n"
        )
    );
    let o = run(&[
        "value",
        "--tables",
        tables.to_str().unwrap(),
        "--deliveries",
        "deliveries.csv",
        "--clients",
        &name,
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).starts_with(&format!("error: {name}:3:5: field `parent`")),
        "{}",
        stderr(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn explain_never_echoes_a_personal_code() {
    let o = explain("Jonas 39001010000");
    assert_eq!(code(&o), 2);
    assert!(!stderr(&o).contains("390010100"), "{}", stderr(&o));
    assert!(stderr(&o).contains("`*********00`"), "{}", stderr(&o));
}

/// `--by client` values the file while reading it (on `--threads` threads); its groups equal
/// the whole-file path's to the byte (per client from the rows worked in the module
/// comment: C1 600 + 400 + 43.75 = 1043.75, C3 135 + 40 + 10.01 + 12.34 = 197.35), and a run
/// that must list rejections (JSON) still lists them.
#[test]
fn value_by_client_streams_and_equals_the_whole_file_path() {
    let expected = "client,lines,quantity,unit,amount\n\
                    C1,3,,,1043.75\n\
                    C1-K1,1,0.75,hour,15.00\n\
                    C2,1,2,session,80.00\n\
                    C3,4,,,197.35\n";
    for threads in ["1", "2", "3"] {
        let o = value_with(&["--by", "client", "--format", "csv", "--threads", threads]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert_eq!(stdout(&o), expected, "threads {threads}");
        assert!(stderr(&o).contains("rows read 10, valued 9, rejected 1, total EUR 1336.10"));
    }
    // In Excel-LT: a byte-order mark, semicolons, decimal commas in numbers (not in ids or
    // units), CRLF.
    let o = value_with(&["--by", "client", "--format", "csv", "--excel-lt"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "\u{feff}client;lines;quantity;unit;amount\r\n\
         C1;3;;;1043,75\r\n\
         C1-K1;1;0,75;hour;15,00\r\n\
         C2;1;2;session;80,00\r\n\
         C3;4;;;197,35\r\n"
    );
    let json = value_with(&["--by", "client", "--format", "json", "--threads", "2"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(doc["rows_rejected"], 1);
    assert_eq!(doc["rejections"].as_array().map(Vec::len), Some(2));
    assert_eq!(doc["groups"].as_array().map(Vec::len), Some(4));
    let zero = value_with(&["--by", "client", "--threads", "0"]);
    assert_eq!(code(&zero), 2);
}
