//! Prevention and public education (the programme's fifth task): one [`Activity`] per
//! event, publication run, social-advertising campaign, supervision session or training, with
//! its reach by [`Audience`]; valued through the same [`PriceBook`] as client deliveries, with
//! the same provenance and rounding, and reported as cost per person reached.
//!
//! The rules, in order, for one activity:
//!
//! 1. the element must be in the catalog and the quantity positive;
//! 2. the price row is looked up for the provider and date ([`PriceBook::lookup`]), so a
//!    provider's own table wins over the national one exactly as for deliveries;
//! 3. the billed quantity is the quantity rounded up to the row's `min_increment`;
//! 4. cumulative counts (a row's tiers and its yearly cap) run **per provider, per element,
//!    per calendar year** (a prevention activity has no client): the part beyond the cap is
//!    not priced and is listed as an over-cap rejection, partial when part of the row fitted;
//! 5. the amount is priced and rounded once by the same code that prices deliveries.
//!
//! Reach counts are contacts, not distinct persons: someone at two events counts twice.
//!
//! ```
//! use aidcost::prevention::{value_activities, Activity, Audience};
//! use aidcost::{Catalog, PriceBook};
//! let catalog = Catalog::shipped()?;
//! let book = PriceBook::shipped(&catalog)?;
//! let activities = [Activity::new("2024-03-12".parse()?, "PRV-KAUNAS".parse()?,
//!                                 "PREV_EVENT".parse()?, "1".parse()?)
//!     .with_reach(Audience::Pupils, 40)
//!     .with_reach(Audience::Students, 10)];
//! let v = value_activities(&activities, &catalog, &book)?;
//! let report = v.report(&catalog, None)?;
//! assert_eq!(report.total.to_string(), "193.00");       // lt-national 2024: 193.00 per event
//! assert_eq!(report.reach, 50);
//! assert_eq!(report.cost_per_person().map(|p| p.to_string()).as_deref(), Some("3.86"));
//! # Ok::<(), aidcost::Error>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use rust_decimal::Decimal;

use crate::catalog::{str_enum, Catalog, Category, ElementIdx};
use crate::csvio::{read_text, CsvOptions, CsvTable, Row};
use crate::delivery::Interner;
use crate::error::{Error, Result};
use crate::id::{ElementCode, ProviderId};
use crate::money::{allocate_dp, Money, Quantity, UnitPrice};
use crate::pricing::PriceBook;
use crate::valuation::{price_line, split_at_cap, ValuedLine};
use crate::Date;

str_enum!(
    /// Who a prevention activity reached (the seed project's audiences, DOMAIN.md section 1).
    Audience, "audience" {
        /// School pupils.
        Pupils = "pupils",
        /// Students.
        Students = "students",
        /// Residents of children's care homes.
        CareHomeResidents = "care_home_residents",
        /// The general public (readers, viewers, visitors).
        GeneralPublic = "general_public",
        /// Police officers.
        PoliceOfficers = "police_officers",
        /// Prosecutors and prosecution staff.
        Prosecutors = "prosecutors",
        /// Municipal staff.
        MunicipalStaff = "municipal_staff",
        /// Social-service staff.
        SocialServiceStaff = "social_service_staff",
    }
);

str_enum!(
    /// The institution a professional audience works for.
    Institution, "institution" {
        /// The police.
        Police = "police",
        /// The prosecution service.
        Prosecution = "prosecution",
        /// Municipalities.
        Municipal = "municipal",
        /// Social services.
        SocialServices = "social_services",
    }
);

impl Audience {
    /// The institution of a professional audience; `None` for the public audiences.
    pub fn institution(self) -> Option<Institution> {
        match self {
            Audience::PoliceOfficers => Some(Institution::Police),
            Audience::Prosecutors => Some(Institution::Prosecution),
            Audience::MunicipalStaff => Some(Institution::Municipal),
            Audience::SocialServiceStaff => Some(Institution::SocialServices),
            _ => None,
        }
    }
}

/// Persons reached by an activity, by audience (counts of participants or copies).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reach(BTreeMap<Audience, u32>);

impl Reach {
    /// No one reached.
    pub fn new() -> Self {
        Self::default()
    }

    /// The count for `audience` (0 when not given).
    pub fn get(&self, audience: Audience) -> u32 {
        self.0.get(&audience).copied().unwrap_or(0)
    }

    /// Sets the count for `audience`.
    pub fn set(&mut self, audience: Audience, count: u32) {
        if count == 0 {
            self.0.remove(&audience);
        } else {
            self.0.insert(audience, count);
        }
    }

    /// The audiences reached and their counts, in audience order (zero counts left out).
    pub fn iter(&self) -> impl Iterator<Item = (Audience, u32)> + '_ {
        self.0.iter().map(|(a, c)| (*a, *c))
    }

    /// Every audience's count added up.
    pub fn total(&self) -> u64 {
        self.0.values().map(|&c| u64::from(c)).sum()
    }
}

/// One prevention activity: an element delivered by a provider on a date, reaching people.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Activity {
    date: Date,
    provider: ProviderId,
    element: ElementCode,
    quantity: Quantity,
    reach: Reach,
    label: Option<String>,
    note: Option<String>,
    line: u64,
}

impl Activity {
    /// An activity built in code (no reach yet; see [`Activity::with_reach`]). The quantity is
    /// checked at valuation.
    pub fn new(date: Date, provider: ProviderId, element: ElementCode, quantity: Quantity) -> Self {
        Self {
            date,
            provider,
            element,
            quantity,
            reach: Reach::new(),
            label: None,
            note: None,
            line: 0,
        }
    }

    /// Sets the count of persons reached in `audience`.
    pub fn with_reach(mut self, audience: Audience, count: u32) -> Self {
        self.reach.set(audience, count);
        self
    }

    /// Names the activity (the `activity` column: an id that budget lines may point at).
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// The date.
    pub fn date(&self) -> Date {
        self.date
    }
    /// The provider.
    pub fn provider(&self) -> &ProviderId {
        &self.provider
    }
    /// The element.
    pub fn element(&self) -> &ElementCode {
        &self.element
    }
    /// The quantity, in the element's unit (events, copies, campaigns, sessions, participants).
    pub fn quantity(&self) -> Quantity {
        self.quantity
    }
    /// Persons reached, by audience.
    pub fn reach(&self) -> &Reach {
        &self.reach
    }
    /// The activity id, if the row gave one.
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }
    /// The note, if any.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }
    /// The line of the file the activity was read from (0 for activities built in code).
    pub fn line(&self) -> u64 {
        self.line
    }
}

const FIXED_COLUMNS: &[&str] = &[
    "date", "provider", "activity", "element", "quantity", "note",
];
const REQUIRED: &[&str] = &["date", "provider", "element", "quantity"];

fn columns() -> Vec<&'static str> {
    let mut c = FIXED_COLUMNS.to_vec();
    c.extend(Audience::ALL.iter().map(|a| a.as_str()));
    c
}

fn reach_cell(row: &Row<'_>, column: &str) -> Result<u32> {
    let text = row.get(column);
    if text.is_empty() {
        return Ok(0);
    }
    if let Some(body) = text.strip_prefix('-') {
        if body.bytes().any(|b| b.is_ascii_digit()) {
            return Err(row.error(
                column,
                format!("`{text}`: reach may not be negative; it counts persons reached"),
            ));
        }
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(row.error(
            column,
            format!("`{text}`: expected a whole number of persons reached, such as 25"),
        ));
    }
    text.parse().map_err(|_| {
        row.error(
            column,
            format!("`{text}`: too large (at most {})", u32::MAX),
        )
    })
}

/// Reads prevention activities from CSV text; `origin` names the file in errors.
///
/// The format is in `docs/formats.md`: one row per activity, one column per audience; the
/// same Excel dialects as deliveries (comma or semicolon, BOM, decimal commas).
///
/// # Errors
///
/// The first malformed row, as an [`Error::Invalid`] naming file, line, column and field
/// (a negative reach among them).
pub fn read_activities(text: &str, origin: &Path, options: CsvOptions) -> Result<Vec<Activity>> {
    let known = columns();
    let mut table = CsvTable::open(text, origin, options, REQUIRED, &known)?;
    let mut ids = Interner::default();
    let mut out = Vec::new();
    while let Some(row) = table.next_row()? {
        let id_err = |col: &str, e: Error| row.error(col, crate::catalog::reason_of(&e));
        let date = row.parse("date")?;
        let provider = ids
            .provider(row.get("provider"))
            .map_err(|e| id_err("provider", e))?;
        let element = ids
            .element(row.get("element"))
            .map_err(|e| id_err("element", e))?;
        let quantity = row
            .decimal("quantity")?
            .ok_or_else(|| row.error("quantity", "empty; a value is required"))?;
        let mut reach = Reach::new();
        for a in Audience::ALL {
            reach.set(*a, reach_cell(&row, a.as_str())?);
        }
        let text_of = |c: &str| match row.get(c) {
            "" => None,
            t => Some(t.to_owned()),
        };
        out.push(Activity {
            date,
            provider,
            element,
            quantity,
            reach,
            label: text_of("activity"),
            note: text_of("note"),
            line: row.line,
        });
    }
    Ok(out)
}

/// Reads an activities file.
///
/// # Errors
///
/// [`Error::Io`] when unreadable, otherwise as [`read_activities`].
pub fn load_activities(path: impl AsRef<Path>, options: CsvOptions) -> Result<Vec<Activity>> {
    let path = path.as_ref();
    read_activities(&read_text(path)?, path, options)
}

/// Why an activity (or part of one) was not valued.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ActivityRejectReason {
    /// The element code is not in the catalog.
    UnknownElement {
        /// The code.
        element: ElementCode,
    },
    /// No table prices the element for the provider on the date.
    NoPrice {
        /// The element.
        element: ElementCode,
        /// The provider.
        provider: ProviderId,
        /// The date.
        date: Date,
    },
    /// The quantity is zero or negative.
    QuantityNotPositive {
        /// The quantity.
        quantity: Quantity,
    },
    /// Quantity beyond the row's yearly cap, counted per provider for activities.
    OverCap {
        /// The element.
        element: ElementCode,
        /// The cap.
        cap: Quantity,
        /// The quantity beyond the cap, not priced.
        excess: Quantity,
    },
    /// The amount does not fit the decimal range.
    Overflow,
}

impl ActivityRejectReason {
    /// A short machine-readable name: `unknown_element`, `no_price`,
    /// `quantity_not_positive`, `over_cap`, `overflow` (as for deliveries).
    pub fn code(&self) -> &'static str {
        match self {
            ActivityRejectReason::UnknownElement { .. } => "unknown_element",
            ActivityRejectReason::NoPrice { .. } => "no_price",
            ActivityRejectReason::QuantityNotPositive { .. } => "quantity_not_positive",
            ActivityRejectReason::OverCap { .. } => "over_cap",
            ActivityRejectReason::Overflow => "overflow",
        }
    }
}

impl fmt::Display for ActivityRejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActivityRejectReason::UnknownElement { element } => {
                write!(f, "unknown element `{element}`")
            }
            ActivityRejectReason::NoPrice {
                element,
                provider,
                date,
            } => write!(
                f,
                "no price: no table prices `{element}` for provider `{provider}` on {date}"
            ),
            ActivityRejectReason::QuantityNotPositive { quantity } => {
                write!(f, "quantity not positive: {quantity}")
            }
            ActivityRejectReason::OverCap {
                element,
                cap,
                excess,
            } => write!(
                f,
                "over cap: `{element}` is capped at {cap} per provider per year; {excess} beyond it is not priced"
            ),
            ActivityRejectReason::Overflow => f.write_str("overflow: the amount is out of range"),
        }
    }
}

/// An activity, or part of one, that was not valued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityRejection {
    row: u64,
    reason: ActivityRejectReason,
    partial: bool,
}

impl ActivityRejection {
    /// The input row, counted from 1.
    pub fn row(&self) -> u64 {
        self.row
    }
    /// Why.
    pub fn reason(&self) -> &ActivityRejectReason {
        &self.reason
    }
    /// True when the row was valued within a cap and only the excess is rejected.
    pub fn is_partial(&self) -> bool {
        self.partial
    }
}

/// The result of valuing activities: valued lines with provenance, and rejections.
#[derive(Debug, Clone)]
pub struct ActivityValuation<'a> {
    activities: &'a [Activity],
    lines: Vec<ValuedLine>,
    rejections: Vec<ActivityRejection>,
    total: Money,
}

impl<'a> ActivityValuation<'a> {
    /// Rows read.
    pub fn rows_read(&self) -> u64 {
        self.activities.len() as u64
    }
    /// Rows valued (wholly, or within a cap).
    pub fn rows_valued(&self) -> u64 {
        self.lines.len() as u64
    }
    /// Rows wholly rejected. `rows_read == rows_valued + rows_rejected` always.
    pub fn rows_rejected(&self) -> u64 {
        self.rejections.iter().filter(|r| !r.partial).count() as u64
    }
    /// The valued lines, by row; [`ValuedLine::row`] counts activities from 1.
    pub fn lines(&self) -> &[ValuedLine] {
        &self.lines
    }
    /// The rejections (whole and partial), by row.
    pub fn rejections(&self) -> &[ActivityRejection] {
        &self.rejections
    }
    /// The sum of the rounded line amounts.
    pub fn total(&self) -> Money {
        self.total
    }
    /// The input activities.
    pub fn activities(&self) -> &'a [Activity] {
        self.activities
    }
    /// The activity of an input row (counted from 1).
    pub fn activity(&self, row: u64) -> Option<&'a Activity> {
        usize::try_from(row)
            .ok()
            .and_then(|r| r.checked_sub(1))
            .and_then(|r| self.activities.get(r))
    }

    /// The prevention report over the valued activities, of calendar year `year` or of all.
    ///
    /// Each activity's amount is split over its audiences in proportion to their reach
    /// (largest remainder, in whole cents, or in the amount's own smallest unit when its table
    /// rounds to more decimals, so the parts add up to the amount); the cost of activities
    /// that reached no one counted is [`PreventionReport::unattributed`].
    ///
    /// # Errors
    ///
    /// [`Error::Overflow`] on overflow.
    pub fn report(&self, catalog: &Catalog, year: Option<u16>) -> Result<PreventionReport> {
        let overflow = |what: &str| Error::Overflow {
            what: what.to_owned(),
        };
        let mut r = PreventionReport {
            year,
            rows_read: 0,
            rows_valued: 0,
            rows_rejected: 0,
            total: Money::ZERO,
            reach: 0,
            unattributed: Money::ZERO,
            audiences: BTreeMap::new(),
            professionals: BTreeMap::new(),
        };
        let in_year = |a: &Activity| year.map_or(true, |y| a.date.year() == y);
        r.rows_read = self.activities.iter().filter(|a| in_year(a)).count() as u64;
        r.rows_rejected = self
            .rejections
            .iter()
            .filter(|x| !x.partial && self.activity(x.row).is_some_and(in_year))
            .count() as u64;
        for line in &self.lines {
            let Some(a) = self.activity(line.row()).filter(|a| in_year(a)) else {
                continue;
            };
            r.rows_valued += 1;
            r.total = r
                .total
                .checked_add(line.amount())
                .ok_or_else(|| overflow("the prevention total"))?;
            let reached: Vec<(Audience, u32)> = a.reach.iter().collect();
            if reached.is_empty() {
                r.unattributed = r
                    .unattributed
                    .checked_add(line.amount())
                    .ok_or_else(|| overflow("the unattributed prevention cost"))?;
                continue;
            }
            let weights: Vec<Decimal> = reached.iter().map(|(_, c)| Decimal::from(*c)).collect();
            // In cents, or finer when the table rounds to more decimals (3 to 6).
            let decimals = line.amount().get().scale().max(2);
            let parts = allocate_dp(line.amount(), &weights, decimals)?;
            for ((audience, count), part) in reached.iter().zip(parts) {
                let e = r.audiences.entry(*audience).or_default();
                e.reach += u64::from(*count);
                e.cost = e
                    .cost
                    .checked_add(part)
                    .ok_or_else(|| overflow("an audience's prevention cost"))?;
                r.reach += u64::from(*count);
            }
            let capacity = catalog
                .element(line.element())
                .is_some_and(|e| e.category() == Category::CapacityBuilding);
            if capacity {
                for (audience, count) in &reached {
                    if let Some(inst) = audience.institution() {
                        *r.professionals
                            .entry(inst)
                            .or_default()
                            .entry(a.element.clone())
                            .or_default() += u64::from(*count);
                    }
                }
            }
        }
        Ok(r)
    }
}

/// Cost and reach of one audience.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AudienceCost {
    /// Persons reached (contacts).
    pub reach: u64,
    /// The share of the activities' cost attributed to this audience.
    pub cost: Money,
}

impl AudienceCost {
    /// Cost ÷ reach, unrounded; `None` ("not defined") when no one was reached.
    pub fn cost_per_person(&self) -> Option<UnitPrice> {
        per_person(self.cost, self.reach)
    }
}

fn per_person(cost: Money, reach: u64) -> Option<UnitPrice> {
    if reach == 0 {
        return None;
    }
    cost.checked_div(Quantity::new(Decimal::from(reach)))
}

/// What prevention cost and whom it reached.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PreventionReport {
    /// The calendar year reported, or `None` for all.
    pub year: Option<u16>,
    /// Activities read (of the year).
    pub rows_read: u64,
    /// Activities valued, wholly or within a cap.
    pub rows_valued: u64,
    /// Activities wholly rejected; `rows_read == rows_valued + rows_rejected`.
    pub rows_rejected: u64,
    /// The total valued cost.
    pub total: Money,
    /// Persons reached by the valued activities, all audiences (contacts).
    pub reach: u64,
    /// The cost of valued activities that reached no one counted (e.g. a campaign without a
    /// reach figure); part of `total`, in no audience.
    pub unattributed: Money,
    /// Per audience reached: persons and the cost attributed.
    pub audiences: BTreeMap<Audience, AudienceCost>,
    /// Professionals supervised or trained (capacity-building elements), by institution and
    /// element.
    pub professionals: BTreeMap<Institution, BTreeMap<ElementCode, u64>>,
}

impl PreventionReport {
    /// The total cost ÷ persons reached, unrounded; `None` ("not defined") for no reach.
    pub fn cost_per_person(&self) -> Option<UnitPrice> {
        per_person(self.total, self.reach)
    }
}

struct Pending {
    row: usize,
    element: ElementIdx,
    price: crate::pricing::PriceRef,
    billed: Quantity,
}

/// Values `activities` against `book`: every activity ends as a valued line or a rejection.
///
/// # Errors
///
/// [`Error::Overflow`] when the total leaves the decimal range.
pub fn value_activities<'a>(
    activities: &'a [Activity],
    catalog: &Catalog,
    book: &PriceBook,
) -> Result<ActivityValuation<'a>> {
    let mut rejections = Vec::new();
    let mut pending = Vec::with_capacity(activities.len());
    for (i, a) in activities.iter().enumerate() {
        let row = i as u64 + 1;
        let mut reject = |reason| {
            rejections.push(ActivityRejection {
                row,
                reason,
                partial: false,
            })
        };
        let Some(element) = catalog.index_of(a.element.as_str()) else {
            reject(ActivityRejectReason::UnknownElement {
                element: a.element.clone(),
            });
            continue;
        };
        if !a.quantity.is_positive() {
            reject(ActivityRejectReason::QuantityNotPositive {
                quantity: a.quantity,
            });
            continue;
        }
        let Some(price) = book.lookup(element, a.provider.as_str(), a.date) else {
            reject(ActivityRejectReason::NoPrice {
                element: a.element.clone(),
                provider: a.provider.clone(),
                date: a.date,
            });
            continue;
        };
        let billed = match book.row(price).min_increment() {
            Some(inc) => match a.quantity.checked_round_up_to(inc) {
                Some(q) => q,
                None => {
                    reject(ActivityRejectReason::Overflow);
                    continue;
                }
            },
            None => a.quantity,
        };
        pending.push(Pending {
            row: i,
            element,
            price,
            billed,
        });
    }
    // Cumulative counts per provider, element and year, in a fixed order.
    pending.sort_by(|x, y| {
        let (a, b) = (&activities[x.row], &activities[y.row]);
        (&a.provider, x.element, a.date, a)
            .cmp(&(&b.provider, y.element, b.date, b))
            .then(x.row.cmp(&y.row))
    });
    let mut used: HashMap<(&ProviderId, ElementIdx, u16), Quantity> = HashMap::new();
    let mut lines = Vec::with_capacity(pending.len());
    for p in pending {
        let a = &activities[p.row];
        let row = p.row as u64 + 1;
        let so_far = used
            .entry((&a.provider, p.element, a.date.year()))
            .or_insert(Quantity::ZERO);
        let mut billed = p.billed;
        if let Some(cap) = book.row(p.price).cap_per_client_year() {
            let (within, excess) = split_at_cap(cap, *so_far, billed);
            let over = |partial| ActivityRejection {
                row,
                reason: ActivityRejectReason::OverCap {
                    element: a.element.clone(),
                    cap,
                    excess,
                },
                partial,
            };
            if !within.is_positive() {
                rejections.push(over(false));
                continue;
            }
            if excess.is_positive() {
                rejections.push(over(true));
                billed = within;
            }
        }
        match price_line(book, row, p.element, p.price, *so_far, billed) {
            Some((line, end)) => {
                *so_far = end;
                lines.push(line);
            }
            None => rejections.push(ActivityRejection {
                row,
                reason: ActivityRejectReason::Overflow,
                partial: false,
            }),
        }
    }
    lines.sort_by_key(|l| l.row());
    rejections.sort_by_key(|r| (r.row, r.partial));
    let total =
        Money::checked_sum(lines.iter().map(|l| l.amount())).ok_or_else(|| Error::Overflow {
            what: "the total of all prevention activities".to_owned(),
        })?;
    Ok(ActivityValuation {
        activities,
        lines,
        rejections,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> (Catalog, PriceBook) {
        let c = Catalog::shipped().unwrap();
        let b = PriceBook::shipped(&c).unwrap();
        (c, b)
    }

    fn read(text: &str) -> Result<Vec<Activity>> {
        read_activities(text, Path::new("a.csv"), CsvOptions::detect())
    }

    const HEADER: &str = "date,provider,activity,element,quantity,pupils,students,care_home_residents,general_public,police_officers,prosecutors,municipal_staff,social_service_staff";

    #[test]
    fn reads_one_column_per_audience_with_empty_cells_as_zero() {
        let text = format!("{HEADER}\n2024-03-12,PRV-KAUNAS,A1,PREV_EVENT,1,40,10,,,,,,\n");
        let a = read(&text).unwrap();
        assert_eq!(a[0].reach().get(Audience::Pupils), 40);
        assert_eq!(a[0].reach().get(Audience::GeneralPublic), 0);
        assert_eq!(a[0].reach().total(), 50);
        assert_eq!((a[0].label(), a[0].line()), (Some("A1"), 2));
    }

    #[test]
    fn reads_the_excel_lithuanian_dialect_and_only_the_required_columns() {
        let text = "\u{feff}date;provider;element;quantity;police_officers\r\n2024-03-12;PRV-KAUNAS;SUPERVISION;1,5;6\r\n";
        let a = read(text).unwrap();
        assert_eq!(a[0].quantity().to_string(), "1.5");
        assert_eq!(a[0].reach().get(Audience::PoliceOfficers), 6);
    }

    #[test]
    fn a_negative_or_fractional_reach_names_file_line_column_and_field() {
        let text = format!("{HEADER}\n2024-03-12,PRV-KAUNAS,A1,PREV_EVENT,1,-3,,,,,,,\n");
        assert_eq!(
            read(&text).unwrap_err().to_string(),
            "a.csv:2:6: field `pupils`: `-3`: reach may not be negative; it counts persons reached"
        );
        let text = format!("{HEADER}\n2024-03-12,PRV-KAUNAS,A1,PREV_EVENT,1,,2.5,,,,,,\n");
        assert_eq!(
            read(&text).unwrap_err().to_string(),
            "a.csv:2:7: field `students`: `2.5`: expected a whole number of persons reached, such as 25"
        );
    }

    #[test]
    fn cost_per_person_is_split_by_reach_and_not_defined_without_reach() {
        // By hand, lt-national 2024: PREV_EVENT 193.00 for 40 pupils and 10 students: split
        // 40:10 → 154.40 and 38.60, i.e. 3.86 a person each. PUBLICATION 500 copies × 2.00
        // = 1000.00 to 500 of the public: 2.00 each. SOCIAL_AD 650.00, reach not counted:
        // unattributed. Total 1843.00 over 550 persons = 3.3509090… a person.
        let (c, b) = shipped();
        let acts = [
            Activity::new(
                p_date("2024-03-12"),
                prv("PRV-KAUNAS"),
                el("PREV_EVENT"),
                q("1"),
            )
            .with_reach(Audience::Pupils, 40)
            .with_reach(Audience::Students, 10),
            Activity::new(
                p_date("2024-04-01"),
                prv("PRV-KAUNAS"),
                el("PUBLICATION"),
                q("500"),
            )
            .with_reach(Audience::GeneralPublic, 500),
            Activity::new(
                p_date("2024-05-01"),
                prv("PRV-KAUNAS"),
                el("SOCIAL_AD"),
                q("1"),
            ),
        ];
        let v = value_activities(&acts, &c, &b).unwrap();
        let r = v.report(&c, Some(2024)).unwrap();
        assert_eq!((r.rows_read, r.rows_valued, r.rows_rejected), (3, 3, 0));
        assert_eq!(r.total.to_string(), "1843.00");
        assert_eq!(r.unattributed.to_string(), "650.00");
        assert_eq!(r.reach, 550);
        let pupils = r.audiences[&Audience::Pupils];
        assert_eq!(
            (pupils.reach, pupils.cost.to_string()),
            (40, "154.40".into())
        );
        assert_eq!(
            pupils.cost_per_person().unwrap().get(),
            "3.86".parse().unwrap()
        );
        let public = r.audiences[&Audience::GeneralPublic];
        assert_eq!(
            public.cost_per_person().unwrap().get(),
            "2".parse().unwrap()
        );
        assert_eq!(
            Rounding::HalfUp
                .apply(r.cost_per_person().unwrap().get(), 2)
                .to_string(),
            "3.35"
        );
        assert!(!r.audiences.contains_key(&Audience::Prosecutors));
        assert_eq!(AudienceCost::default().cost_per_person(), None);
        let none = v.report(&c, Some(2019)).unwrap();
        assert_eq!((none.rows_read, none.cost_per_person()), (0, None));
    }

    use crate::Rounding;

    fn p_date(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn q(s: &str) -> Quantity {
        s.parse().unwrap()
    }

    fn prv(s: &str) -> ProviderId {
        s.parse().unwrap()
    }

    fn el(s: &str) -> ElementCode {
        s.parse().unwrap()
    }

    #[test]
    fn professionals_are_counted_by_institution_for_capacity_building_only() {
        let (c, b) = shipped();
        let acts = [
            Activity::new(
                p_date("2019-05-01"),
                prv("PRV-A"),
                el("SUPERVISION"),
                q("2"),
            )
            .with_reach(Audience::PoliceOfficers, 8)
            .with_reach(Audience::Prosecutors, 3),
            Activity::new(p_date("2019-06-01"), prv("PRV-A"), el("TRAINING"), q("12"))
                .with_reach(Audience::SocialServiceStaff, 12),
            // A public event attended by police officers trains no one.
            Activity::new(p_date("2019-06-02"), prv("PRV-A"), el("PREV_EVENT"), q("1"))
                .with_reach(Audience::PoliceOfficers, 5),
        ];
        let v = value_activities(&acts, &c, &b).unwrap();
        let r = v.report(&c, None).unwrap();
        let count = |i, e: &str| r.professionals[&i][e];
        assert_eq!(count(Institution::Police, "SUPERVISION"), 8);
        assert_eq!(count(Institution::Prosecution, "SUPERVISION"), 3);
        assert_eq!(count(Institution::SocialServices, "TRAINING"), 12);
        assert_eq!(r.professionals.len(), 3);
        // 2 × 60.00 + 12 × 25.00 + 130.00 (lt-national 2019).
        assert_eq!(r.total.to_string(), "550.00");
    }

    #[test]
    fn unvaluable_activities_are_rejections_and_reconcile() {
        let (c, b) = shipped();
        let acts = [
            Activity::new(p_date("2024-01-10"), prv("PRV-A"), el("ASTROLOGY"), q("1")),
            Activity::new(p_date("2014-01-10"), prv("PRV-A"), el("PREV_EVENT"), q("1")),
            Activity::new(p_date("2024-01-10"), prv("PRV-A"), el("PREV_EVENT"), q("0")),
            Activity::new(p_date("2024-01-10"), prv("PRV-A"), el("PREV_EVENT"), q("2")),
        ];
        let v = value_activities(&acts, &c, &b).unwrap();
        assert_eq!(v.rows_read(), v.rows_valued() + v.rows_rejected());
        let codes: Vec<_> = v
            .rejections()
            .iter()
            .map(|r| (r.row(), r.reason().code()))
            .collect();
        assert_eq!(
            codes,
            [
                (1, "unknown_element"),
                (2, "no_price"),
                (3, "quantity_not_positive")
            ]
        );
        assert_eq!(
            v.rejections()[1].reason().to_string(),
            "no price: no table prices `PREV_EVENT` for provider `PRV-A` on 2014-01-10"
        );
        // Provenance: the 2024 national table, its row for PREV_EVENT.
        let line = &v.lines()[0];
        let t = b.table(line.price().table);
        assert_eq!((t.id().as_str(), t.version()), ("lt-national", "2024"));
        assert_eq!(b.row(line.price()).element().as_str(), "PREV_EVENT");
        assert_eq!(line.amount().to_string(), "386.00");
    }

    #[test]
    fn caps_and_tiers_run_per_provider_element_and_year_in_any_input_order() {
        let c = Catalog::shipped().unwrap();
        let table = crate::PricingTable::from_toml(
            r#"schema = 1
id = "t"
version = "1"
scope = "national"
valid_from = "2024-01-01"
valid_to = "2024-12-31"
[[price]]
element = "PREV_EVENT"
tiers = [{ up_to = "2", unit_price = "100.00" }, { unit_price = "50.00" }]
cap_per_client_year = "4"
"#,
            Path::new("t.toml"),
        )
        .unwrap();
        let b = PriceBook::new(&c, vec![table]).unwrap();
        let ev = |d: &str, who: &str, n: &str| {
            Activity::new(p_date(d), prv(who), el("PREV_EVENT"), q(n))
        };
        let acts = vec![
            ev("2024-03-01", "PRV-A", "3"), // events 1–3: 2 × 100 + 1 × 50 = 250
            ev("2024-02-01", "PRV-B", "1"), // another provider: its own count, 100
            ev("2024-04-01", "PRV-A", "2"), // event 4 within the cap (50), event 5 over it
        ];
        let v = value_activities(&acts, &c, &b).unwrap();
        let amounts: Vec<String> = v.lines().iter().map(|l| l.amount().to_string()).collect();
        assert_eq!(amounts, ["250.00", "100.00", "50.00"]);
        assert_eq!(v.rejections().len(), 1);
        assert!(v.rejections()[0].is_partial());
        assert_eq!(
            v.rejections()[0].reason().to_string(),
            "over cap: `PREV_EVENT` is capped at 4 per provider per year; 1 beyond it is not priced"
        );
        let mut reversed = acts.clone();
        reversed.reverse();
        let w = value_activities(&reversed, &c, &b).unwrap();
        assert_eq!(w.total(), v.total());
    }

    #[test]
    fn amounts_with_fractions_of_a_cent_are_split_in_their_own_decimals() {
        // A table rounding to 3 decimals: PREV_EVENT 10.005 for 1 pupil and 1 student is split
        // 5.003 and 5.002 (ties to the earlier audience), not refused.
        let c = Catalog::shipped().unwrap();
        let table = crate::PricingTable::from_toml(
            r#"schema = 1
id = "fine"
version = "1"
scope = "national"
valid_from = "2024-01-01"
valid_to = "2024-12-31"
source = "test"
[rounding]
mode = "half_up"
decimals = 3

[[price]]
element = "PREV_EVENT"
unit_price = "10.005"
"#,
            Path::new("fine.toml"),
        )
        .unwrap();
        let b = PriceBook::new(&c, vec![table]).unwrap();
        let acts = [Activity::new(
            p_date("2024-03-12"),
            prv("PRV-KAUNAS"),
            el("PREV_EVENT"),
            q("1"),
        )
        .with_reach(Audience::Pupils, 1)
        .with_reach(Audience::Students, 1)];
        let v = value_activities(&acts, &c, &b).unwrap();
        let r = v.report(&c, None).unwrap();
        assert_eq!(r.total.to_string(), "10.005");
        assert_eq!(r.audiences[&Audience::Pupils].cost.to_string(), "5.003");
        assert_eq!(r.audiences[&Audience::Students].cost.to_string(), "5.002");
    }
}
