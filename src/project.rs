//! Projects and their budgets: a [`Project`] read from TOML (format in `docs/formats.md`), and
//! the [`ProjectReport`] of planned against actual valued cost per budget line, absorption,
//! remaining funds and the EU and national shares.
//!
//! Amounts in a project file are in the project's currency, EUR or LTL. Litas amounts are kept
//! as given and converted to euro with [`ConversionRule::Price`] for reporting; sums and
//! differences of file amounts (remaining funds) are taken in the project's currency first and
//! converted once. Actual costs come from valuation and are in euro.
//!
//! ```
//! use aidcost::project::{Project, ProjectReport};
//! use aidcost::Catalog;
//! let catalog = Catalog::shipped()?;
//! let text = include_str!("../projects/caritas-2013-2015.toml");
//! let p = Project::from_toml(text, "projects/caritas-2013-2015.toml".as_ref(), &catalog)?;
//! let r = ProjectReport::new(&p, &catalog, None, None)?;
//! assert_eq!(r.absorption.value().unwrap().round_sf(7).unwrap().to_string(), "0.9999999");
//! assert_eq!(r.remaining.eur.to_string(), "0.01");
//! # Ok::<(), aidcost::Error>(())
//! ```

use std::collections::HashMap;
use std::path::Path;

use rust_decimal::Decimal;
use serde::Deserialize;
use toml::Spanned;

use crate::catalog::{reason_of, Catalog};
use crate::compare::Ratio;
use crate::currency::{litas_to_euro, ConversionRule, Currency, Litas};
use crate::error::{Error, Location, Result};
use crate::id::ElementCode;
use crate::money::{parse_decimal, Money};
use crate::prevention::{Activity, ActivityValuation};
use crate::span::{invalid, read_text, toml_error};
use crate::valuation::Valuation;
use crate::Date;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProject {
    schema: Spanned<u32>,
    code: Spanned<String>,
    title: String,
    #[serde(default)]
    title_en: String,
    executor: String,
    #[serde(default)]
    municipality: String,
    start: Spanned<String>,
    end: Spanned<String>,
    currency: Spanned<String>,
    total_value: Spanned<String>,
    funding_granted: Spanned<String>,
    paid: Spanned<String>,
    eu_share: Spanned<String>,
    national_share: Spanned<String>,
    #[serde(default)]
    source: String,
    #[serde(default)]
    budget_line: Vec<Spanned<RawBudgetLine>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBudgetLine {
    name: Spanned<String>,
    planned: Spanned<String>,
    #[serde(default)]
    elements: Vec<Spanned<String>>,
    #[serde(default)]
    activities: Vec<Spanned<String>>,
}

/// An amount from a project file: in euro, and as given in litas for a litas project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[non_exhaustive]
pub struct Amount {
    /// In euro (for a litas project, converted with [`ConversionRule::Price`]).
    pub eur: Money,
    /// As given, for a litas project.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ltl: Option<Litas>,
}

fn to_amount(currency: Currency, value: Decimal) -> Result<Amount> {
    match currency {
        Currency::Ltl => Ok(Amount {
            eur: litas_to_euro(Litas::new(value), ConversionRule::Price)?,
            ltl: Some(Litas::new(value)),
        }),
        _ => Ok(Amount {
            eur: Money::new(value),
            ltl: None,
        }),
    }
}

/// A budget line: a name, a planned amount and what counts against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetLine {
    name: String,
    planned: Decimal,
    elements: Vec<ElementCode>,
    activities: Vec<String>,
}

impl BudgetLine {
    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The catalog elements whose valued cost counts against the line.
    pub fn elements(&self) -> &[ElementCode] {
        &self.elements
    }
    /// The activity ids (the `activity` column of activities) that count against the line.
    pub fn activities(&self) -> &[String] {
        &self.activities
    }
}

/// A funded project with its budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    code: String,
    title: String,
    title_en: String,
    executor: String,
    municipality: String,
    start: Date,
    end: Date,
    currency: Currency,
    total_value: Decimal,
    granted: Decimal,
    paid: Decimal,
    eu_share: Decimal,
    national_share: Decimal,
    source: String,
    lines: Vec<BudgetLine>,
    origin: std::path::PathBuf,
}

struct Ctx<'a> {
    origin: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    fn at(&self, span: std::ops::Range<usize>, field: &str, msg: impl Into<String>) -> Error {
        invalid(self.origin, self.text, span, field, msg)
    }

    fn date(&self, s: &Spanned<String>, field: &str) -> Result<Date> {
        s.get_ref()
            .parse()
            .map_err(|e| self.at(s.span(), field, reason_of(&e)))
    }

    fn amount(&self, s: &Spanned<String>, field: &str) -> Result<Decimal> {
        let v = parse_decimal("amount", s.get_ref())
            .map_err(|e| self.at(s.span(), field, reason_of(&e)))?;
        if v.is_sign_negative() && !v.is_zero() {
            return Err(self.at(s.span(), field, format!("`{v}`: may not be negative")));
        }
        Ok(v)
    }
}

impl Project {
    /// Parses a project from TOML text; `origin` names the file in errors. Budget lines are
    /// checked against `catalog`.
    ///
    /// # Errors
    ///
    /// [`Error::Toml`] for malformed TOML, unknown keys or a bare number where a quoted amount
    /// or date belongs; [`Error::Invalid`], naming file, line, column and field, for a
    /// currency other than EUR or LTL, an end before the start, a negative amount, shares
    /// that do not add up to the total value exactly, a budget line naming an unknown
    /// element, or an element or activity counted against two lines.
    pub fn from_toml(text: &str, origin: &Path, catalog: &Catalog) -> Result<Self> {
        let raw: RawProject = toml::from_str(text).map_err(|e| toml_error(origin, text, &e))?;
        let cx = Ctx { origin, text };
        crate::span::check_schema(origin, text, &raw.schema)?;
        if raw.code.get_ref().trim().is_empty() {
            return Err(cx.at(
                raw.code.span(),
                "code",
                "empty; the project code is required",
            ));
        }
        let start = cx.date(&raw.start, "start")?;
        let end = cx.date(&raw.end, "end")?;
        if end < start {
            return Err(cx.at(
                raw.end.span(),
                "end",
                format!("{end} is before start {start}"),
            ));
        }
        let currency = match raw.currency.get_ref().as_str() {
            "EUR" => Currency::Eur,
            "LTL" => Currency::Ltl,
            other => {
                return Err(cx.at(
                    raw.currency.span(),
                    "currency",
                    format!("`{other}`: expected EUR or LTL"),
                ))
            }
        };
        let total_value = cx.amount(&raw.total_value, "total_value")?;
        let granted = cx.amount(&raw.funding_granted, "funding_granted")?;
        let paid = cx.amount(&raw.paid, "paid")?;
        let eu_share = cx.amount(&raw.eu_share, "eu_share")?;
        let national_share = cx.amount(&raw.national_share, "national_share")?;
        let shares = eu_share.checked_add(national_share);
        if shares != Some(total_value) {
            let sum = shares.map_or_else(|| "out of range".to_owned(), |s| s.to_string());
            return Err(cx.at(
                raw.national_share.span(),
                "national_share",
                format!(
                    "eu_share {eu_share} + national_share {national_share} = {sum}, not the total_value {total_value}; the shares must add up to it exactly"
                ),
            ));
        }
        let mut lines: Vec<BudgetLine> = Vec::with_capacity(raw.budget_line.len());
        let mut element_owner: HashMap<ElementCode, usize> = HashMap::new();
        let mut activity_owner: HashMap<String, usize> = HashMap::new();
        for spanned in &raw.budget_line {
            let b = spanned.get_ref();
            let name = b.name.get_ref().trim().to_owned();
            if name.is_empty() {
                return Err(cx.at(
                    b.name.span(),
                    "budget_line.name",
                    "empty; a name is required",
                ));
            }
            if lines.iter().any(|l| l.name == name) {
                return Err(cx.at(
                    b.name.span(),
                    "budget_line.name",
                    format!("`{name}`: two budget lines have this name"),
                ));
            }
            let planned = cx.amount(&b.planned, "budget_line.planned")?;
            let mut elements = Vec::with_capacity(b.elements.len());
            for e in &b.elements {
                let code = ElementCode::new(e.get_ref())
                    .map_err(|err| cx.at(e.span(), "budget_line.elements", reason_of(&err)))?;
                if catalog.get(code.as_str()).is_none() {
                    return Err(cx.at(
                        e.span(),
                        "budget_line.elements",
                        format!("unknown element `{code}`: not in the catalog"),
                    ));
                }
                if let Some(&other) = element_owner.get(&code) {
                    return Err(cx.at(
                        e.span(),
                        "budget_line.elements",
                        format!(
                            "element `{code}` already counts against budget line `{}`",
                            lines[other].name
                        ),
                    ));
                }
                element_owner.insert(code.clone(), lines.len());
                elements.push(code);
            }
            let mut activities = Vec::with_capacity(b.activities.len());
            for a in &b.activities {
                let id = a.get_ref().trim().to_owned();
                if id.is_empty() {
                    return Err(cx.at(a.span(), "budget_line.activities", "empty activity id"));
                }
                if let Some(&other) = activity_owner.get(&id) {
                    return Err(cx.at(
                        a.span(),
                        "budget_line.activities",
                        format!(
                            "activity `{id}` already counts against budget line `{}`",
                            lines[other].name
                        ),
                    ));
                }
                activity_owner.insert(id.clone(), lines.len());
                activities.push(id);
            }
            lines.push(BudgetLine {
                name,
                planned,
                elements,
                activities,
            });
        }
        Ok(Project {
            code: raw.code.into_inner(),
            title: raw.title,
            title_en: raw.title_en,
            executor: raw.executor,
            municipality: raw.municipality,
            start,
            end,
            currency,
            total_value,
            granted,
            paid,
            eu_share,
            national_share,
            source: raw.source,
            lines,
            origin: origin.to_owned(),
        })
    }

    /// Reads a project file.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when unreadable; otherwise as [`Project::from_toml`].
    pub fn load(path: impl AsRef<Path>, catalog: &Catalog) -> Result<Self> {
        let path = path.as_ref();
        Self::from_toml(&read_text(path)?, path, catalog)
    }

    /// The project code.
    pub fn code(&self) -> &str {
        &self.code
    }
    /// The title (as registered, usually Lithuanian).
    pub fn title(&self) -> &str {
        &self.title
    }
    /// The English title, if given ("" otherwise).
    pub fn title_en(&self) -> &str {
        &self.title_en
    }
    /// The executor.
    pub fn executor(&self) -> &str {
        &self.executor
    }
    /// The municipality.
    pub fn municipality(&self) -> &str {
        &self.municipality
    }
    /// The first day.
    pub fn start(&self) -> Date {
        self.start
    }
    /// The last day (inclusive).
    pub fn end(&self) -> Date {
        self.end
    }
    /// The currency of the file's amounts.
    pub fn currency(&self) -> Currency {
        self.currency
    }
    /// How the figures were obtained.
    pub fn source(&self) -> &str {
        &self.source
    }
    /// The budget lines, in file order.
    pub fn budget_lines(&self) -> &[BudgetLine] {
        &self.lines
    }
    /// The file the project was read from.
    pub fn origin(&self) -> &Path {
        &self.origin
    }
    /// True when `date` is within the project's period.
    pub fn covers(&self, date: Date) -> bool {
        self.start <= date && date <= self.end
    }

    /// Checks that every dated row lies within the project: `rows` gives each row's line in
    /// `origin` and its date.
    ///
    /// # Errors
    ///
    /// The first row outside, as [`Error::Invalid`] naming `origin`, the line and field `date`.
    pub fn check_dates(
        &self,
        origin: &Path,
        rows: impl IntoIterator<Item = (u64, Date)>,
    ) -> Result<()> {
        for (line, date) in rows {
            if !self.covers(date) {
                return Err(Error::Invalid {
                    location: Location::new(origin, line, 0),
                    field: "date".to_owned(),
                    message: format!(
                        "{date} is outside project {} ({} to {})",
                        self.code, self.start, self.end
                    ),
                });
            }
        }
        Ok(())
    }

    /// [`Project::check_dates`] for activities read from `origin`.
    ///
    /// # Errors
    ///
    /// As [`Project::check_dates`].
    pub fn check_activities(&self, origin: &Path, activities: &[Activity]) -> Result<()> {
        self.check_dates(origin, activities.iter().map(|a| (a.line(), a.date())))
    }

    fn line_of(&self, element: &str, activity: Option<&str>) -> Option<usize> {
        if let Some(id) = activity {
            if let Some(i) = self
                .lines
                .iter()
                .position(|l| l.activities.iter().any(|a| a == id))
            {
                return Some(i);
            }
        }
        self.lines
            .iter()
            .position(|l| l.elements.iter().any(|e| e.as_str() == element))
    }
}

/// Planned against actual for one budget line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct BudgetLineReport {
    /// The line's name.
    pub name: String,
    /// The planned amount.
    pub planned: Amount,
    /// The valued cost counted against it, in euro.
    pub actual: Money,
    /// Planned (in euro) − actual; negative when overspent.
    pub remaining: Money,
    /// Actual ÷ planned; not defined for a line planned at zero.
    pub used: Ratio,
    /// True when the actual cost is above the planned amount.
    pub overspent: bool,
}

/// A project's budget report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct ProjectReport {
    /// The project code.
    pub code: String,
    /// The currency of the project file.
    pub currency: Currency,
    /// Per budget line, in file order.
    pub lines: Vec<BudgetLineReport>,
    /// Valued cost that counts against no budget line.
    pub unbudgeted: Money,
    /// The sum of the budget lines' planned amounts (summed in the project's currency).
    pub planned: Amount,
    /// All valued cost within the project's period: `assistance + prevention`.
    pub actual: Money,
    /// Valued client assistance (deliveries) within the period.
    pub assistance: Money,
    /// Valued prevention activities within the period.
    pub prevention: Money,
    /// Valued rows outside the project's period, left out.
    pub rows_outside: u64,
    /// The project's total value.
    pub total_value: Amount,
    /// Funding granted.
    pub granted: Amount,
    /// Amounts paid.
    pub paid: Amount,
    /// Granted − paid (in the project's currency, then converted).
    pub remaining: Amount,
    /// Paid ÷ granted, exact decimal (28 digits); not defined for nothing granted.
    pub absorption: Ratio,
    /// The EU share.
    pub eu_share: Amount,
    /// The national share.
    pub national_share: Amount,
    /// EU share ÷ total value.
    pub eu_ratio: Ratio,
    /// National share ÷ total value.
    pub national_ratio: Ratio,
    /// True when the actual valued cost is above the funding granted.
    pub over_grant: bool,
    /// True when more was paid than granted.
    pub paid_over_grant: bool,
}

impl ProjectReport {
    /// The budget report of `project`, counting the valued deliveries and activities dated
    /// within its period against its budget lines (an activity's id first, then its element).
    ///
    /// # Errors
    ///
    /// [`Error::Overflow`] on overflow; [`Error::Parse`] never for valid projects.
    pub fn new(
        project: &Project,
        catalog: &Catalog,
        deliveries: Option<&Valuation<'_>>,
        activities: Option<&ActivityValuation<'_>>,
    ) -> Result<Self> {
        let overflow = |what: &str| Error::Overflow {
            what: what.to_owned(),
        };
        let add = |a: Money, b: Money, what: &str| a.checked_add(b).ok_or_else(|| overflow(what));
        let mut actual_by_line = vec![Money::ZERO; project.lines.len()];
        let mut unbudgeted = Money::ZERO;
        let mut assistance = Money::ZERO;
        let mut prevention = Money::ZERO;
        let mut rows_outside = 0u64;
        let code_of = |idx| catalog.element(idx).map_or("", |e| e.code().as_str());
        let mut book = |amount: Money, line: Option<usize>| -> Result<()> {
            match line {
                Some(i) => actual_by_line[i] = add(actual_by_line[i], amount, "a budget line")?,
                None => unbudgeted = add(unbudgeted, amount, "the unbudgeted cost")?,
            }
            Ok(())
        };
        if let Some(v) = deliveries {
            for l in v.lines() {
                let Some(d) = v.delivery(l.row()) else {
                    continue;
                };
                if !project.covers(d.date()) {
                    rows_outside += 1;
                    continue;
                }
                assistance = add(assistance, l.amount(), "the assistance cost")?;
                book(l.amount(), project.line_of(code_of(l.element()), None))?;
            }
        }
        if let Some(v) = activities {
            for l in v.lines() {
                let Some(a) = v.activity(l.row()) else {
                    continue;
                };
                if !project.covers(a.date()) {
                    rows_outside += 1;
                    continue;
                }
                prevention = add(prevention, l.amount(), "the prevention cost")?;
                book(l.amount(), project.line_of(code_of(l.element()), a.label()))?;
            }
        }
        let currency = project.currency;
        let amount = |v: Decimal| to_amount(currency, v);
        let mut lines = Vec::with_capacity(project.lines.len());
        let mut planned_sum = Decimal::ZERO;
        for (b, actual) in project.lines.iter().zip(actual_by_line) {
            planned_sum = planned_sum
                .checked_add(b.planned)
                .ok_or_else(|| overflow("the planned total"))?;
            let planned = amount(b.planned)?;
            lines.push(BudgetLineReport {
                name: b.name.clone(),
                planned,
                actual,
                remaining: planned
                    .eur
                    .checked_sub(actual)
                    .ok_or_else(|| overflow("a line's remainder"))?,
                used: Ratio::of(actual.get(), planned.eur.get()),
                overspent: actual > planned.eur,
            });
        }
        let actual = add(assistance, prevention, "the actual cost")?;
        let granted = amount(project.granted)?;
        let remaining = project
            .granted
            .checked_sub(project.paid)
            .ok_or_else(|| overflow("the remaining funds"))?;
        Ok(ProjectReport {
            code: project.code.clone(),
            currency,
            lines,
            unbudgeted,
            planned: amount(planned_sum)?,
            actual,
            assistance,
            prevention,
            rows_outside,
            total_value: amount(project.total_value)?,
            granted,
            paid: amount(project.paid)?,
            remaining: amount(remaining)?,
            absorption: Ratio::of(project.paid, project.granted),
            eu_share: amount(project.eu_share)?,
            national_share: amount(project.national_share)?,
            eu_ratio: Ratio::of(project.eu_share, project.total_value),
            national_ratio: Ratio::of(project.national_share, project.total_value),
            over_grant: actual > granted.eur,
            paid_over_grant: project.paid > project.granted,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"schema = 1
code = "T-1"
title = "Bandymas"
executor = "NGO"
start = "2024-01-01"
end = "2024-12-31"
currency = "EUR"
total_value = "1000.00"
funding_granted = "1000.00"
paid = "400.00"
eu_share = "850.00"
national_share = "150.00"

[[budget_line]]
name = "Events"
planned = "300.00"
elements = ["PREV_EVENT"]

[[budget_line]]
name = "Supervision"
planned = "700.00"
elements = ["SUPERVISION"]
activities = ["SUP-X"]
"#;

    fn parse(text: &str) -> Result<Project> {
        Project::from_toml(text, Path::new("p.toml"), &Catalog::shipped().unwrap())
    }

    fn err(from: &str, to: &str) -> String {
        assert!(GOOD.contains(from), "{from}");
        parse(&GOOD.replacen(from, to, 1)).unwrap_err().to_string()
    }

    #[test]
    fn bad_project_files_name_file_line_and_field() {
        let cases = [
            (
                "currency = \"EUR\"",
                "currency = \"USD\"",
                "p.toml:7:12: field `currency`: `USD`: expected EUR or LTL",
            ),
            (
                "national_share = \"150.00\"",
                "national_share = \"149.99\"",
                "p.toml:12:18: field `national_share`: eu_share 850.00 + national_share 149.99 = 999.99, not the total_value 1000.00; the shares must add up to it exactly",
            ),
            (
                "elements = [\"SUPERVISION\"]",
                "elements = [\"ASTROLOGY\"]",
                "p.toml:22:13: field `budget_line.elements`: unknown element `ASTROLOGY`: not in the catalog",
            ),
            (
                "end = \"2024-12-31\"",
                "end = \"2023-12-31\"",
                "p.toml:6:7: field `end`: 2023-12-31 is before start 2024-01-01",
            ),
            (
                "paid = \"400.00\"",
                "paid = \"-1\"",
                "p.toml:10:8: field `paid`: `-1`: may not be negative",
            ),
            (
                "elements = [\"SUPERVISION\"]",
                "elements = [\"PREV_EVENT\"]",
                "p.toml:22:13: field `budget_line.elements`: element `PREV_EVENT` already counts against budget line `Events`",
            ),
        ];
        for (from, to, want) in cases {
            assert_eq!(err(from, to), want);
        }
        let e = err("paid = \"400.00\"", "paid = 400.00");
        assert!(
            e.starts_with("p.toml:10:8: ") && e.contains("quoted strings"),
            "{e}"
        );
    }

    #[test]
    fn report_counts_lines_by_activity_id_first_then_element_and_flags_overspending() {
        let c = Catalog::shipped().unwrap();
        let b = crate::PriceBook::shipped(&c).unwrap();
        let p = parse(GOOD).unwrap();
        let a = |d: &str, e: &str, n: &str| {
            Activity::new(
                d.parse().unwrap(),
                "PRV-A".parse().unwrap(),
                e.parse().unwrap(),
                n.parse().unwrap(),
            )
        };
        let acts = [
            a("2024-02-01", "PREV_EVENT", "2"), // 386.00 → Events (over 300)
            a("2024-02-02", "PREV_EVENT", "1").with_label("SUP-X"), // 193.00 → Supervision by id
            a("2024-02-03", "SUPERVISION", "1"), // 96.00 → Supervision
            a("2024-02-04", "PUBLICATION", "10"), // 20.00 → no line
            a("2019-02-04", "PUBLICATION", "10"), // outside the period
        ];
        let v = crate::prevention::value_activities(&acts, &c, &b).unwrap();
        let r = ProjectReport::new(&p, &c, None, Some(&v)).unwrap();
        let got: Vec<(String, bool)> = r
            .lines
            .iter()
            .map(|l| (l.actual.to_string(), l.overspent))
            .collect();
        assert_eq!(got, [("386.00".into(), true), ("289.00".into(), false)]);
        assert_eq!(r.unbudgeted.to_string(), "20.00");
        assert_eq!(r.actual.to_string(), "695.00");
        assert_eq!(r.rows_outside, 1);
        assert!(!r.over_grant);
        assert_eq!(r.absorption.value(), Some("0.4".parse().unwrap()));
        assert_eq!(r.remaining.eur.to_string(), "600.00");
        assert_eq!(r.eu_ratio.to_string(), "0.85");
        let err = p
            .check_activities(Path::new("a.csv"), &[acts[4].clone()])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "a.csv: field `date`: 2019-02-04 is outside project T-1 (2024-01-01 to 2024-12-31)"
        );
    }

    #[test]
    fn litas_projects_are_converted_with_the_price_rule_and_keep_their_litas() {
        let text = GOOD
            .replace("currency = \"EUR\"", "currency = \"LTL\"")
            .replace("\"1000.00\"", "\"250\"")
            .replace("\"850.00\"", "\"240\"")
            .replace("\"150.00\"", "\"10\"")
            .replace("\"400.00\"", "\"10\"");
        let p = parse(&text).unwrap();
        let r = ProjectReport::new(&p, &Catalog::shipped().unwrap(), None, None).unwrap();
        assert_eq!(r.total_value.eur.to_string(), "72.41");
        assert_eq!(r.total_value.ltl.unwrap().to_string(), "250");
        assert_eq!(r.paid.eur.to_string(), "2.90");
        // Remaining 240 LTL converted once: 69.508… → 69.51 (72.41 − 2.90 would give 69.51 too,
        // but the rule is to subtract in litas first).
        assert_eq!(r.remaining.eur.to_string(), "69.51");
        assert_eq!(r.absorption.value(), Some("0.04".parse().unwrap()));
    }
}
