//! Command tests of `aidcost convert` and `aidcost project`, run from the repository root on
//! the shipped projects, the demo activities and the library's bad-input fixtures.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aidcost"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn convert_prints_the_euro_amount_by_the_named_rule() {
    let cases = [
        (&["--amount", "250"][..], "72.41\n"),
        (&["--amount", "10"][..], "2.90\n"),
        (&["--amount", "1540", "--rule", "benefit"][..], "446.02\n"),
        (&["--amount", "1540", "--rule", "price"][..], "446.01\n"),
        (&["--amount", "1540,00"][..], "446.01\n"),
    ];
    for (extra, want) in cases {
        let mut args = vec!["convert", "--from", "LTL"];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert_eq!(stdout(&o), want, "{args:?}");
    }
}

#[cfg(unix)]
#[test]
fn convert_reports_a_closed_pipe_without_panicking() {
    // The reader is gone before `convert` writes; with pipefail the pipeline's status is
    // `convert`'s own.
    let script = format!(
        "set -o pipefail; (sleep 0.3; '{}' convert --from ltl --amount 1) | true",
        env!("CARGO_BIN_EXE_aidcost")
    );
    let o = Command::new("bash").args(["-c", &script]).output().unwrap();
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with("error: cannot write output"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn convert_refuses_other_currencies_and_rules_with_exit_2() {
    let o = run(&["convert", "--from", "USD", "--amount", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("error: --from: invalid currency `USD`"),
        "{}",
        stderr(&o)
    );
    let o = run(&[
        "convert", "--from", "LTL", "--amount", "1", "--rule", "pension",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("expected one of: price, benefit"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn project_reports_the_seed_projects_absorption_and_remaining_funds() {
    let o = run(&["project", "projects/caritas-2013-2015.toml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.starts_with("project VP1-1.3-SADM-01-K-02-014: "),
        "{text}"
    );
    assert!(
        text.contains("absorption (paid ÷ granted) 0.9999999 (exact 0.999999895971)\n"),
        "{text}"
    );
    assert!(text.contains("remaining funds 0.01\n"), "{text}");
    assert!(
        text.contains("shares: EU 96126.62 (100%), national 0.00 (0%)"),
        "{text}"
    );
}

#[test]
fn project_counts_prevention_apart_and_refuses_rows_outside_its_period() {
    let o = run(&[
        "project",
        "projects/sadm-2024.toml",
        "--activities",
        "demo/activities.csv",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "error: demo/activities.csv:2: field `date`: 2019-03-14 is outside project SADM-2024-2025-DEMO (2024-01-01 to 2025-12-31)\n"
    );
    let o = run(&[
        "project",
        "projects/sadm-2024.toml",
        "--activities",
        "demo/activities.csv",
        "--skip-outside",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json["prevention"], "9456.00");
    assert_eq!(json["assistance"], "0");
    assert_eq!(json["rows_outside"], 7);
    assert_eq!(json["absorption"], "0.5");
    let line = &json["lines"][6];
    assert_eq!(line["name"], "Prevention and training of professionals");
    assert_eq!(line["actual"], "9456.00");
    assert_eq!(line["overspent"], false);
}

#[test]
fn a_bad_project_file_names_file_line_and_field_with_exit_2() {
    let o = run(&["project", "tests/fixtures/bad/project/shares.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with(
            "error: tests/fixtures/bad/project/shares.toml:19:18: field `national_share`: "
        ),
        "{}",
        stderr(&o)
    );
    let o = run(&[
        "project",
        "tests/fixtures/bad/project/currency.toml",
        "--format",
        "csv",
    ]);
    assert!(
        stderr(&o).contains("field `currency`: `USD`: expected EUR or LTL"),
        "{}",
        stderr(&o)
    );
}
