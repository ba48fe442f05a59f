//! Prevention activities, projects and litas: the DOMAIN.md figures and every bad-input error.

use std::path::Path;

use aidcost::prevention::{load_activities, value_activities, Audience, Institution};
use aidcost::project::{Project, ProjectReport};
use aidcost::{litas_to_euro, Catalog, ConversionRule, CsvOptions, PriceBook, Rounding};
use rust_decimal::Decimal;

use crate::fixture;

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn litas_convert_as_domain_md_section_3_says() {
    let eur = |ltl: &str, rule| {
        litas_to_euro(ltl.parse().unwrap(), rule)
            .unwrap()
            .to_string()
    };
    assert_eq!(eur("250", ConversionRule::Price), "72.41");
    assert_eq!(eur("10", ConversionRule::Price), "2.90");
    assert_eq!(eur("1540", ConversionRule::Benefit), "446.02");
    assert_eq!(eur("1540", ConversionRule::Price), "446.01");
}

#[test]
fn the_seed_projects_absorption_is_exact_and_shows_as_0_9999999() {
    let c = Catalog::shipped().unwrap();
    let p = Project::load(repo("projects/caritas-2013-2015.toml"), &c).unwrap();
    assert_eq!(p.code(), "VP1-1.3-SADM-01-K-02-014");
    let r = ProjectReport::new(&p, &c, None, None).unwrap();
    // By hand: 96 126,61 ÷ 96 126,62 = 1 − 0,01 ÷ 96 126,62 = 1 − 1 ÷ 9 612 662
    // = 1 − 0,000000104029456148567379150541… = 0,999999895970543851432620849458…,
    // which to 28 decimal places (rust_decimal's precision) is the value below, and to 7
    // significant digits 0,9999999 (the 8th digit is 8, the 9th 9: 0,99999989|59… rounds up).
    let a = r.absorption.value().unwrap();
    assert_eq!(a, d("0.9999998959705438514326208495"));
    assert_eq!(a.round_sf(7).unwrap().to_string(), "0.9999999");
    assert_eq!(r.absorption.to_string(), "0.999999895971"); // 12 significant digits
    assert_eq!(r.remaining.eur.to_string(), "0.01");
    assert_eq!(r.total_value.eur.to_string(), "96126.62");
    assert_eq!(r.eu_ratio.value(), Some(Decimal::ONE));
    assert_eq!(r.national_ratio.value(), Some(Decimal::ZERO));
    // The illustrative budget lines add up to the total value.
    assert_eq!(r.planned.eur, r.total_value.eur);
    assert!(!r.over_grant && !r.paid_over_grant);
}

#[test]
fn cost_per_person_reached_is_hand_worked() {
    // tests/fixtures/activities.csv (Excel-LT: BOM, semicolons, CRLF, decimal comma), valued
    // against lt-national 2024, by hand:
    //   PREV_EVENT 1 × 193.00 = 193.00, 40 pupils and 10 students: 154.40 + 38.60
    //   PUBLICATION 500 × 2.00 = 1000.00, 500 of the general public
    //   SOCIAL_AD 1 × 650.00 = 650.00, no reach counted: unattributed
    //   SUPERVISION 1.5 × 96.00 = 144.00, 4 police officers and 2 prosecutors: 96.00 + 48.00
    //   PREV_EVENT on 2014-06-01: no table covers the date: rejected (no_price)
    // Total 1987.00 over 556 persons = 3.5737… → 3.57 a person; pupils and students 3.86,
    // general public 2.00, police officers and prosecutors 24.00.
    let c = Catalog::shipped().unwrap();
    let b = PriceBook::shipped(&c).unwrap();
    let acts = load_activities(fixture("activities.csv"), CsvOptions::detect()).unwrap();
    let v = value_activities(&acts, &c, &b).unwrap();
    assert_eq!(
        (v.rows_read(), v.rows_valued(), v.rows_rejected()),
        (5, 4, 1)
    );
    assert_eq!(v.rejections()[0].reason().code(), "no_price");
    let r = v.report(&c, None).unwrap();
    assert_eq!(r.total.to_string(), "1987.00");
    assert_eq!(r.unattributed.to_string(), "650.00");
    assert_eq!(r.reach, 556);
    let shown =
        |p: Option<aidcost::UnitPrice>| Rounding::HalfUp.apply(p.unwrap().get(), 2).to_string();
    assert_eq!(shown(r.cost_per_person()), "3.57");
    let per = |a| shown(r.audiences[&a].cost_per_person());
    assert_eq!(per(Audience::Pupils), "3.86");
    assert_eq!(per(Audience::Students), "3.86");
    assert_eq!(per(Audience::GeneralPublic), "2.00");
    assert_eq!(per(Audience::PoliceOfficers), "24.00");
    assert_eq!(per(Audience::Prosecutors), "24.00");
    assert_eq!(r.professionals[&Institution::Police]["SUPERVISION"], 4);
    assert_eq!(r.professionals[&Institution::Prosecution]["SUPERVISION"], 2);
    // A year with nothing: cost per person is not defined, never 0.
    assert_eq!(v.report(&c, Some(2019)).unwrap().cost_per_person(), None);
}

#[test]
fn the_demo_activities_value_in_full_for_both_years() {
    let c = Catalog::shipped().unwrap();
    let b = PriceBook::shipped(&c).unwrap();
    let acts = load_activities(repo("demo/activities.csv"), CsvOptions::detect()).unwrap();
    let v = value_activities(&acts, &c, &b).unwrap();
    assert_eq!(v.rows_rejected(), 0);
    let total = |y| v.report(&c, Some(y)).unwrap().total.to_string();
    assert_eq!(
        (total(2019), total(2024)),
        ("4700.00".into(), "9456.00".into())
    );
    let p = Project::load(repo("projects/sadm-2024.toml"), &c).unwrap();
    let r = ProjectReport::new(&p, &c, None, Some(&v)).unwrap();
    assert_eq!(r.prevention.to_string(), "9456.00");
    assert_eq!(r.rows_outside, 7);
    assert_eq!(r.unbudgeted, aidcost::Money::ZERO);
}

#[test]
fn bad_project_files_name_file_line_and_field() {
    let c = Catalog::shipped().unwrap();
    let cases = [
        ("currency", "currency.toml:14:12: field `currency`: `USD`: expected EUR or LTL"),
        (
            "shares",
            "shares.toml:19:18: field `national_share`: eu_share 96126.62 + national_share 0.01 = 96126.63, not the total_value 96126.62; the shares must add up to it exactly",
        ),
        (
            "unknown-element",
            "unknown-element.toml:40:28: field `budget_line.elements`: unknown element `TRAINNG`: not in the catalog",
        ),
    ];
    for (name, want) in cases {
        let err = Project::load(fixture(&format!("bad/project/{name}.toml")), &c).unwrap_err();
        let msg = err.to_string();
        assert!(msg.ends_with(want), "{msg}");
    }
}

#[test]
fn negative_reach_and_dates_outside_the_project_name_file_line_and_field() {
    let err = load_activities(
        fixture("bad/activities-negative-reach.csv"),
        CsvOptions::detect(),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.ends_with("activities-negative-reach.csv:3:6: field `pupils`: `-12`: reach may not be negative; it counts persons reached"),
        "{msg}"
    );
    let c = Catalog::shipped().unwrap();
    let p = Project::load(repo("projects/sadm-2024.toml"), &c).unwrap();
    let path = fixture("activities.csv");
    let acts = load_activities(&path, CsvOptions::detect()).unwrap();
    let msg = p.check_activities(&path, &acts).unwrap_err().to_string();
    assert!(
        msg.ends_with("activities.csv:6: field `date`: 2014-06-01 is outside project SADM-2024-2025-DEMO (2024-01-01 to 2025-12-31)"),
        "{msg}"
    );
}
