//! `aidcost compare` on the shipped demo data: exit statuses, the JSON schema, the chart.

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
        .expect("the binary runs")
}

const DEMO: &[&str] = &[
    "compare",
    "--tables",
    "pricing-tables",
    "--deliveries",
    "demo/deliveries.csv",
    "--clients",
    "demo/clients.csv",
];

fn with(extra: &[&str]) -> Vec<String> {
    DEMO.iter().chain(extra).map(|s| (*s).to_owned()).collect()
}

fn run_with(extra: &[&str]) -> Output {
    let args = with(extra);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&refs)
}

#[test]
fn json_has_the_documented_keys_and_exact_ratios() {
    let out = run_with(&[
        "--format",
        "json",
        "--deflators",
        "deflators/lt-hicp-illustrative.toml",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "kpis",
        "cost_per_outcome",
        "scope",
        "indices",
        "decomposition",
        "mix",
        "providers",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let scope = &v["scope"];
    assert_eq!(scope["assisted_base"], 224);
    assert_eq!(scope["kept"], true);
    for key in [
        "laspeyres_price",
        "paasche_price",
        "fisher_price",
        "laspeyres_quantity",
        "paasche_quantity",
        "fisher_quantity",
        "value_ratio",
    ] {
        let s = v["indices"][key].as_str().expect("a decimal string");
        let digits = s.chars().filter(char::is_ascii_digit).count();
        assert!(digits >= 7, "{key} = {s}: fewer than 7 significant digits");
    }
    // The additive splits add up exactly, to the cent.
    let dec = |x: &serde_json::Value| {
        x.as_str()
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .unwrap()
    };
    let d = &v["decomposition"];
    assert_eq!(
        dec(&d["price_effect"]) + dec(&d["quantity_effect"]),
        dec(&d["change"])
    );
    let m = &v["mix"];
    assert_eq!(
        dec(&m["volume"]) + dec(&m["mix"]) + dec(&m["rate"]),
        dec(&m["total"])
    );
    // A KPI with its three parts.
    let k = &v["kpis"][0]["k1_coverage"];
    assert!(k["numerator"].is_u64() && k["denominator"].is_u64() && k["rate"].is_string());
}

#[test]
fn the_chart_is_a_valid_svg() {
    let dir = std::env::temp_dir().join(format!("aidcost-chart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("compare.svg");
    let out = run_with(&["--chart", file.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert!(text.contains("PRV-VILNIUS"), "provider names are drawn");
    assert!(text.contains(">\nK4\n<") || text.contains("K4"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn table_output_says_scope_and_flags_reliability() {
    let out = run_with(&[]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("scope kept: assisted 252 against 224 in 2019"),
        "{text}"
    );
    assert!(text.contains("fewer than 8 providers: outlier flags are unreliable"));
    assert!(text.contains("Hyndman–Fan type 7"));
}

#[test]
fn csv_excel_lt_uses_semicolons_and_decimal_commas() {
    let out = run_with(&["--format", "csv", "--excel-lt"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("\u{feff}section;year;scope;measure;value\r\n"));
    assert!(
        text.contains("indices;2024;overall;value_ratio;1,"),
        "{text}"
    );
}

#[test]
fn bad_inputs_exit_2_with_a_clear_line() {
    let out = run(&[
        "compare",
        "--tables",
        "pricing-tables",
        "--deliveries",
        "demo/deliveries.csv",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("compare needs --clients FILE"));

    let out = run_with(&["--base-year", "2018"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: no valued deliveries in 2018: nothing to compare\n"
    );

    let out = run_with(&["--mix-by", "colour"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid mix segmentation `colour`"));

    let out = run_with(&["--reference-table", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid reference table `nope`"));
}

#[test]
fn prevention_is_reported_apart_and_leaves_cost_per_client_unchanged() {
    let plain = run_with(&["--format", "json"]);
    let with = run_with(&["--format", "json", "--activities", "demo/activities.csv"]);
    assert_eq!(
        with.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
    let a: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&with.stdout).unwrap();
    assert_eq!(
        a["cost_per_outcome"], b["cost_per_outcome"],
        "prevention never enters cost per client"
    );
    let p = b["prevention"]
        .as_array()
        .expect("a prevention section per year");
    assert_eq!(p.len(), 2);
    assert_eq!(p[0]["year"], 2019);
    // demo/activities.csv: the 2019 activities total 4 700.00 (the generator's figure).
    assert_eq!(p[0]["total"], "4700.00");
    assert!(a.get("prevention").is_none());
}

#[test]
fn value_with_activities_appends_the_prevention_report() {
    let out = run(&[
        "value",
        "--tables",
        "pricing-tables",
        "--deliveries",
        "demo/deliveries.csv",
        "--clients",
        "demo/clients.csv",
        "--activities",
        "demo/activities.csv",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // 4 700.00 in 2019 + 9 456.00 in 2024.
    assert_eq!(v["prevention"]["total"], "14156.00");
    assert_eq!(
        v["total"], "460031.15",
        "client assistance total is unchanged"
    );
    let demo = run(&["demo"]);
    let text = String::from_utf8(demo.stdout).unwrap();
    assert!(text
        .contains("Prevention and public education 2024 (reported apart from client assistance)"));
}
