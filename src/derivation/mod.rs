//! Deriving element values: staff cost per hour (PSSRU schema), EU simplified cost options,
//! element unit prices from staff time, and time-driven activity-based costing.
//!
//! A derivations file (format in `docs/formats.md`) declares `[[role]]`s, `[[element]]`s and
//! `[[capacity]]`s; [`Derivations::from_toml`] checks it against the [`Catalog`] and computes
//! every result at once, so a loaded [`Derivations`] holds only valid, computed figures.
//!
//! Arithmetic is exact decimal (`rust_decimal`, 28 significant digits, no floats). Every
//! intermediate is kept at full precision; only the final figure of each result is rounded,
//! once, with the file's declared [`RoundingPolicy`] (or the price table's, when compared with
//! one). Each result carries its [`Step`]s: the formula, the named inputs with their sources,
//! the result at full precision and the rounding applied, so an auditor can redo it by hand.
//!
//! ```
//! use aidcost::{Catalog, Derivations};
//! let catalog = Catalog::shipped()?;
//! let text = r#"
//! schema = 1
//! id = "example"
//!
//! [[role]]
//! name = "social_worker"
//! annual_salary = "30960"
//! hours_rule = "esf_1720"
//!
//! [[element]]
//! code = "CONSULT"
//! unit = "hour"
//! flat_rate = { indirect_of_staff = "0.15" }
//! staff = [{ role = "social_worker", minutes = "60" }]
//! "#;
//! let d = Derivations::from_toml(text, "example.toml".as_ref(), &catalog)?;
//! assert_eq!(d.roles()[0].cost_per_hour().to_string(), "18");
//! assert_eq!(d.elements()[0].unit_price_rounded().to_string(), "20.70");
//! # Ok::<(), aidcost::Error>(())
//! ```

mod file;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::catalog::{str_enum, Catalog, Unit};
use crate::error::{Error, Location, Result};
use crate::id::{ElementCode, TableId};
use crate::money::{parse_decimal, Money, Quantity, UnitPrice};
use crate::pricing::{PriceBook, PriceRule, PricingTable, RoundingPolicy};

/// The derivation files shipped with the crate, by the path a shipped table names them with.
const SHIPPED_DERIVATIONS: &[(&str, &str)] = &[(
    "pricing-tables/derivations/lt-national-2024.toml",
    include_str!("../../pricing-tables/derivations/lt-national-2024.toml"),
)];

/// The EU rule of 1,720 working hours a year for an hourly staff rate.
const ESF_HOURS: Decimal = Decimal::from_parts(1720, 0, 0, false, 0);
const MINUTES_PER_HOUR: Decimal = Decimal::from_parts(60, 0, 0, false, 0);

/// A dimensionless rate or ratio, exact: a flat rate (`0.15` = 15%) or a contact ratio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Rate(Decimal);

impl Rate {
    /// Zero.
    pub const ZERO: Rate = Rate(Decimal::ZERO);

    /// Wraps an exact decimal (`0.15` for 15%).
    pub const fn new(value: Decimal) -> Self {
        Self(value)
    }

    /// The exact decimal value.
    pub const fn get(self) -> Decimal {
        self.0
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Rate {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        parse_decimal("rate", s).map(Rate)
    }
}

str_enum!(
    /// The EU regulation whose simplified cost options a file applies.
    Regulation, "regulation" {
        /// Regulation (EU) No 1303/2013, the 2014–2020 period.
        Reg1303 = "1303/2013",
        /// Regulation (EU) 2021/1060, the Common Provisions Regulation of 2021–2027.
        Cpr2021 = "2021/1060",
    }
);

str_enum!(
    /// Which hourly cost of a role an element's staff time is charged at.
    StaffBasis, "staff basis" {
        /// Cost per working hour (the minutes include the staff's indirect time).
        WorkingHour = "working_hour",
        /// Cost per hour of client contact (the minutes are contact time only).
        ContactHour = "contact_hour",
    }
);

impl StaffBasis {
    /// The name of the role's figure this basis uses.
    fn rate_name(self) -> &'static str {
        match self {
            StaffBasis::WorkingHour => "cost_per_hour",
            StaffBasis::ContactHour => "cost_per_contact_hour",
        }
    }
}

/// An EU simplified cost option: a flat rate on a declared base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlatRate {
    /// Indirect costs at a rate of direct staff costs, at most 15%
    /// (Reg. 1303/2013 art. 68(1)(b); CPR Reg. 2021/1060 art. 54(b)).
    IndirectOfStaff(Rate),
    /// Indirect costs at a rate of direct costs (staff plus materials), at most 7%
    /// (CPR Reg. 2021/1060 art. 54(a)).
    IndirectOfDirect(Rate),
    /// All remaining costs at a rate of direct staff costs, at most 40%
    /// (Reg. 1303/2013 art. 68b; CPR Reg. 2021/1060 art. 56); excludes a separate indirect
    /// rate and separate materials.
    RemainingOfStaff(Rate),
}

impl FlatRate {
    /// The declared rate.
    pub fn rate(self) -> Rate {
        match self {
            FlatRate::IndirectOfStaff(r)
            | FlatRate::IndirectOfDirect(r)
            | FlatRate::RemainingOfStaff(r) => r,
        }
    }

    /// The legal ceiling of the rate.
    pub fn ceiling(self) -> Rate {
        Rate(match self {
            FlatRate::IndirectOfStaff(_) => Decimal::new(15, 2),
            FlatRate::IndirectOfDirect(_) => Decimal::new(7, 2),
            FlatRate::RemainingOfStaff(_) => Decimal::new(40, 2),
        })
    }

    /// The key used in files.
    pub fn key(self) -> &'static str {
        match self {
            FlatRate::IndirectOfStaff(_) => "indirect_of_staff",
            FlatRate::IndirectOfDirect(_) => "indirect_of_direct",
            FlatRate::RemainingOfStaff(_) => "remaining_of_staff",
        }
    }

    /// The article that sets the option, under `regulation` (both periods when `None`).
    pub fn article(self, regulation: Option<Regulation>) -> &'static str {
        use Regulation::{Cpr2021, Reg1303};
        match (self, regulation) {
            (FlatRate::IndirectOfStaff(_), Some(Reg1303)) => "Reg. 1303/2013 art. 68(1)(b)",
            (FlatRate::IndirectOfStaff(_), Some(Cpr2021)) => "CPR Reg. 2021/1060 art. 54(b)",
            (FlatRate::IndirectOfStaff(_), None) => {
                "Reg. 1303/2013 art. 68(1)(b); CPR Reg. 2021/1060 art. 54(b)"
            }
            (FlatRate::IndirectOfDirect(_), _) => "CPR Reg. 2021/1060 art. 54(a)",
            (FlatRate::RemainingOfStaff(_), Some(Reg1303)) => "Reg. 1303/2013 art. 68b",
            (FlatRate::RemainingOfStaff(_), Some(Cpr2021)) => "CPR Reg. 2021/1060 art. 56",
            (FlatRate::RemainingOfStaff(_), None) => {
                "Reg. 1303/2013 art. 68b; CPR Reg. 2021/1060 art. 56"
            }
        }
    }
}

/// A figure in a derivation step, with its dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Figure {
    /// An amount in euro (or the file's currency).
    Money(Money),
    /// A cost per hour.
    PerHour(UnitPrice),
    /// A cost per minute.
    PerMinute(UnitPrice),
    /// A cost per unit of an element or activity.
    PerUnit(UnitPrice),
    /// Hours.
    Hours(Quantity),
    /// Minutes.
    Minutes(Quantity),
    /// A count of units (a volume, a driver's frequency per unit).
    Units(Quantity),
    /// A dimensionless rate or ratio.
    Rate(Rate),
}

impl Figure {
    /// The exact number, without its dimension.
    pub fn value(&self) -> Decimal {
        match *self {
            Figure::Money(m) => m.get(),
            Figure::PerHour(p) | Figure::PerMinute(p) | Figure::PerUnit(p) => p.get(),
            Figure::Hours(q) | Figure::Minutes(q) | Figure::Units(q) => q.get(),
            Figure::Rate(r) => r.get(),
        }
    }

    /// The dimension as written after the number (`EUR`, `EUR/h`, `h`, `min`, …; empty for
    /// counts and rates).
    pub fn unit_label(&self) -> &'static str {
        match self {
            Figure::Money(_) => "EUR",
            Figure::PerHour(_) => "EUR/h",
            Figure::PerMinute(_) => "EUR/min",
            Figure::PerUnit(_) => "EUR/unit",
            Figure::Hours(_) => "h",
            Figure::Minutes(_) => "min",
            Figure::Units(_) | Figure::Rate(_) => "",
        }
    }
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.unit_label() {
            "" => write!(f, "{}", self.value()),
            unit => write!(f, "{} {unit}", self.value()),
        }
    }
}

/// A named input of a step, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    name: String,
    value: Figure,
    source: String,
}

impl Input {
    fn new(name: impl Into<String>, value: Figure, source: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value,
            source: source.into(),
        }
    }
    /// The input's name (`annual_salary`, `cost_per_hour of social_worker`, …).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its value, exact.
    pub fn value(&self) -> Figure {
        self.value
    }
    /// Where it came from: a file location and source note, a regulation, or an earlier step.
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// One calculation step: `result = formula(inputs)`, at full precision, and the rounding
/// applied when the step gives a final figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    name: String,
    formula: String,
    inputs: Vec<Input>,
    result: Figure,
    rounding: Option<(RoundingPolicy, Figure)>,
}

impl Step {
    fn new(
        name: impl Into<String>,
        formula: impl Into<String>,
        inputs: Vec<Input>,
        result: Figure,
    ) -> Self {
        Self {
            name: name.into(),
            formula: formula.into(),
            inputs,
            result,
            rounding: None,
        }
    }

    fn rounded(mut self, policy: RoundingPolicy) -> Self {
        let r = match self.result {
            Figure::Money(m) => Figure::Money(Money::new(round(m.get(), policy))),
            Figure::PerHour(p) => Figure::PerHour(UnitPrice::new(round(p.get(), policy))),
            Figure::PerMinute(p) => Figure::PerMinute(UnitPrice::new(round(p.get(), policy))),
            Figure::PerUnit(p) => Figure::PerUnit(UnitPrice::new(round(p.get(), policy))),
            other => other,
        };
        self.rounding = Some((policy, r));
        self
    }

    /// The name of the figure computed (`annual_cost`, `unit_price`, …).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The formula, in the inputs' names.
    pub fn formula(&self) -> &str {
        &self.formula
    }
    /// The inputs, named, with their values and sources.
    pub fn inputs(&self) -> &[Input] {
        &self.inputs
    }
    /// The result at full precision.
    pub fn result(&self) -> Figure {
        self.result
    }
    /// The rounding applied to the result, when it is a final figure: the policy and the
    /// rounded value.
    pub fn rounding(&self) -> Option<(RoundingPolicy, Figure)> {
        self.rounding
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {} = {}", self.name, self.formula, self.result)?;
        if let Some((policy, r)) = self.rounding {
            write!(
                f,
                " → {r} ({} to {} decimals)",
                policy.mode(),
                policy.decimals()
            )?;
        }
        Ok(())
    }
}

/// Rounds `value` once with `policy`, showing exactly `policy.decimals()` places.
fn round(value: Decimal, policy: RoundingPolicy) -> Decimal {
    let mut r = policy.mode().apply(value, policy.decimals());
    r.rescale(policy.decimals());
    r
}

/// The hourly costs of a staff role (PSSRU schema).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleCost {
    name: String,
    annual_cost: Money,
    annual_cost_without_qualifications: Money,
    annual_hours: Quantity,
    cost_per_hour: UnitPrice,
    cost_per_hour_without_qualifications: UnitPrice,
    contact_ratio: Option<Rate>,
    cost_per_contact_hour: Option<UnitPrice>,
    cost_per_contact_hour_without_qualifications: Option<UnitPrice>,
    rounding: RoundingPolicy,
    steps: Vec<Step>,
}

impl RoleCost {
    /// The role's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Annual cost: salary + on-costs + qualifications + overheads + capital.
    pub fn annual_cost(&self) -> Money {
        self.annual_cost
    }
    /// Annual cost without qualifications.
    pub fn annual_cost_without_qualifications(&self) -> Money {
        self.annual_cost_without_qualifications
    }
    /// Annual working hours (declared, or 1,720 under the EU rule).
    pub fn annual_hours(&self) -> Quantity {
        self.annual_hours
    }
    /// Cost per working hour, full precision.
    pub fn cost_per_hour(&self) -> UnitPrice {
        self.cost_per_hour
    }
    /// Cost per working hour without qualifications, full precision.
    pub fn cost_per_hour_without_qualifications(&self) -> UnitPrice {
        self.cost_per_hour_without_qualifications
    }
    /// The ratio r of indirect to direct time (direct : indirect = 1 : r), when declared.
    pub fn contact_ratio(&self) -> Option<Rate> {
        self.contact_ratio
    }
    /// Cost per hour of client contact, when r is declared, full precision.
    pub fn cost_per_contact_hour(&self) -> Option<UnitPrice> {
        self.cost_per_contact_hour
    }
    /// Cost per hour of client contact without qualifications, when r is declared.
    pub fn cost_per_contact_hour_without_qualifications(&self) -> Option<UnitPrice> {
        self.cost_per_contact_hour_without_qualifications
    }
    /// [`RoleCost::annual_cost`] rounded with the file's policy.
    pub fn annual_cost_rounded(&self) -> Money {
        Money::new(round(self.annual_cost.get(), self.rounding))
    }
    /// [`RoleCost::annual_cost_without_qualifications`] rounded with the file's policy.
    pub fn annual_cost_without_qualifications_rounded(&self) -> Money {
        Money::new(round(
            self.annual_cost_without_qualifications.get(),
            self.rounding,
        ))
    }
    /// [`RoleCost::cost_per_hour`] rounded once with the file's policy.
    pub fn cost_per_hour_rounded(&self) -> UnitPrice {
        UnitPrice::new(round(self.cost_per_hour.get(), self.rounding))
    }
    /// [`RoleCost::cost_per_hour_without_qualifications`] rounded with the file's policy.
    pub fn cost_per_hour_without_qualifications_rounded(&self) -> UnitPrice {
        UnitPrice::new(round(
            self.cost_per_hour_without_qualifications.get(),
            self.rounding,
        ))
    }
    /// [`RoleCost::cost_per_contact_hour`] rounded with the file's policy.
    pub fn cost_per_contact_hour_rounded(&self) -> Option<UnitPrice> {
        self.cost_per_contact_hour
            .map(|p| UnitPrice::new(round(p.get(), self.rounding)))
    }
    /// [`RoleCost::cost_per_contact_hour_without_qualifications`] rounded with the file's
    /// policy.
    pub fn cost_per_contact_hour_without_qualifications_rounded(&self) -> Option<UnitPrice> {
        self.cost_per_contact_hour_without_qualifications
            .map(|p| UnitPrice::new(round(p.get(), self.rounding)))
    }
    /// The rounding policy of the rounded twins.
    pub fn rounding(&self) -> RoundingPolicy {
        self.rounding
    }
    /// Every calculation step, in order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }
}

/// The derived unit price of a catalog element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementCost {
    name: String,
    code: ElementCode,
    unit: Unit,
    staff_cost: UnitPrice,
    materials: UnitPrice,
    pass_through: UnitPrice,
    flat_rate: Option<FlatRate>,
    overheads: UnitPrice,
    unit_price: UnitPrice,
    rounding: RoundingPolicy,
    steps: Vec<Step>,
}

impl ElementCost {
    /// The derivation's name (what a price row's `derived` names).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The catalog element.
    pub fn code(&self) -> &ElementCode {
        &self.code
    }
    /// The element's unit.
    pub fn unit(&self) -> Unit {
        self.unit
    }
    /// Direct staff cost per unit, full precision.
    pub fn staff_cost(&self) -> UnitPrice {
        self.staff_cost
    }
    /// Materials per unit.
    pub fn materials(&self) -> UnitPrice {
        self.materials
    }
    /// Pass-through costs per unit (passed on at cost; no flat rate applies to them).
    pub fn pass_through(&self) -> UnitPrice {
        self.pass_through
    }
    /// The flat rate applied, if any.
    pub fn flat_rate(&self) -> Option<FlatRate> {
        self.flat_rate
    }
    /// Overheads per unit from the flat rate, full precision.
    pub fn overheads(&self) -> UnitPrice {
        self.overheads
    }
    /// The unit price at full precision: staff + materials + pass-through + overheads.
    pub fn unit_price(&self) -> UnitPrice {
        self.unit_price
    }
    /// The unit price rounded once with the file's policy.
    pub fn unit_price_rounded(&self) -> UnitPrice {
        self.unit_price_rounded_with(self.rounding)
    }
    /// The unit price rounded once with `policy` (a price table's).
    pub fn unit_price_rounded_with(&self, policy: RoundingPolicy) -> UnitPrice {
        UnitPrice::new(round(self.unit_price.get(), policy))
    }
    /// Every calculation step, in order; the last is the unit price and its rounding.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }
}

/// One activity of a capacity: its time per unit, volume and cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityCost {
    name: String,
    minutes_per_unit: Quantity,
    volume: Quantity,
    unit_cost: UnitPrice,
    used_minutes: Quantity,
    used_cost: Money,
    rounding: RoundingPolicy,
    steps: Vec<Step>,
}

impl ActivityCost {
    /// The activity's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Minutes per unit (from its time equation, if it has one).
    pub fn minutes_per_unit(&self) -> Quantity {
        self.minutes_per_unit
    }
    /// Units performed.
    pub fn volume(&self) -> Quantity {
        self.volume
    }
    /// Cost per unit: rate per minute × minutes per unit, full precision.
    pub fn unit_cost(&self) -> UnitPrice {
        self.unit_cost
    }
    /// The unit cost rounded once with the file's policy.
    pub fn unit_cost_rounded(&self) -> UnitPrice {
        UnitPrice::new(round(self.unit_cost.get(), self.rounding))
    }
    /// Minutes used: volume × minutes per unit.
    pub fn used_minutes(&self) -> Quantity {
        self.used_minutes
    }
    /// Cost of the minutes used, full precision.
    pub fn used_cost(&self) -> Money {
        self.used_cost
    }
    /// Every calculation step, in order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }
}

/// A capacity under time-driven activity-based costing: its rate, its activities, and the
/// used and unused capacity (reported apart, never loaded onto units).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapacityCost {
    name: String,
    cost: Money,
    practical_minutes: Quantity,
    rate_per_minute: UnitPrice,
    activities: Vec<ActivityCost>,
    used_minutes: Quantity,
    used_cost: Money,
    unused_minutes: Quantity,
    unused_cost: Money,
    rounding: RoundingPolicy,
    steps: Vec<Step>,
}

impl CapacityCost {
    /// The capacity's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Cost of the capacity supplied.
    pub fn cost(&self) -> Money {
        self.cost
    }
    /// Practical capacity in minutes.
    pub fn practical_minutes(&self) -> Quantity {
        self.practical_minutes
    }
    /// Capacity cost rate: cost ÷ practical minutes, full precision.
    pub fn rate_per_minute(&self) -> UnitPrice {
        self.rate_per_minute
    }
    /// The rate rounded with the file's policy.
    pub fn rate_per_minute_rounded(&self) -> UnitPrice {
        UnitPrice::new(round(self.rate_per_minute.get(), self.rounding))
    }
    /// The activities, in file order.
    pub fn activities(&self) -> &[ActivityCost] {
        &self.activities
    }
    /// Minutes used by all activities.
    pub fn used_minutes(&self) -> Quantity {
        self.used_minutes
    }
    /// Cost of the minutes used, full precision.
    pub fn used_cost(&self) -> Money {
        self.used_cost
    }
    /// Practical minutes not used.
    pub fn unused_minutes(&self) -> Quantity {
        self.unused_minutes
    }
    /// Cost of the unused capacity, full precision: reported apart, never loaded onto units.
    pub fn unused_cost(&self) -> Money {
        self.unused_cost
    }
    /// The rounding policy of the rounded twins.
    pub fn rounding(&self) -> RoundingPolicy {
        self.rounding
    }
    /// Every calculation step of the capacity (the activities carry their own).
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }
}

/// A checked and computed derivations file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derivations {
    id: String,
    version: String,
    source: String,
    regulation: Option<Regulation>,
    rounding: RoundingPolicy,
    roles: Vec<RoleCost>,
    elements: Vec<ElementCost>,
    capacities: Vec<CapacityCost>,
    origin: PathBuf,
    sha256: String,
}

impl Derivations {
    /// Reads and computes a derivations file, checking it against `catalog`.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when unreadable; otherwise as [`Derivations::from_toml`].
    pub fn load(path: impl AsRef<Path>, catalog: &Catalog) -> Result<Self> {
        let path = path.as_ref();
        let text = crate::span::read_text(path)?;
        Self::from_toml(&text, path, catalog)
    }

    /// Parses, checks and computes derivations from TOML text; `origin` names the file in
    /// errors and sources.
    ///
    /// # Errors
    ///
    /// [`Error::Toml`] for malformed TOML, unknown keys or a bare number where a quoted
    /// decimal belongs; [`Error::Invalid`] for a value that breaks a rule: a negative or zero
    /// amount of hours, minutes or capacity, an unknown role, an element the catalog lacks,
    /// a unit that differs from the catalog's, missing working time, a flat rate above its
    /// legal ceiling or two flat rates at once (naming the regulation article), used time
    /// beyond practical capacity, or a figure that leaves the decimal range (naming the role,
    /// element or capacity and the field that drove it). Each names file, line, column and
    /// field.
    pub fn from_toml(text: &str, origin: &Path, catalog: &Catalog) -> Result<Self> {
        file::parse(text, origin, catalog)
    }

    /// The derivations shipped with the crate under `path` (as a shipped table names them,
    /// e.g. `pricing-tables/derivations/lt-national-2024.toml`), or `None`.
    ///
    /// # Errors
    ///
    /// As [`Derivations::from_toml`]; never for the shipped files and catalog (a test checks).
    pub fn shipped(path: &Path, catalog: &Catalog) -> Result<Option<Self>> {
        match SHIPPED_DERIVATIONS
            .iter()
            .find(|(name, _)| Path::new(name) == path)
        {
            Some((name, text)) => Self::from_toml(text, Path::new(name), catalog).map(Some),
            None => Ok(None),
        }
    }

    /// The file's id.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// The version label.
    pub fn version(&self) -> &str {
        &self.version
    }
    /// How the figures were set.
    pub fn source(&self) -> &str {
        &self.source
    }
    /// The regulation whose simplified cost options apply, if declared.
    pub fn regulation(&self) -> Option<Regulation> {
        self.regulation
    }
    /// The rounding policy of the rounded figures.
    pub fn rounding(&self) -> RoundingPolicy {
        self.rounding
    }
    /// The roles, in file order.
    pub fn roles(&self) -> &[RoleCost] {
        &self.roles
    }
    /// The role named `name`.
    pub fn role(&self, name: &str) -> Option<&RoleCost> {
        self.roles.iter().find(|r| r.name == name)
    }
    /// The element derivations, in file order.
    pub fn elements(&self) -> &[ElementCost] {
        &self.elements
    }
    /// The element derivation named `name`.
    pub fn element(&self, name: &str) -> Option<&ElementCost> {
        self.elements.iter().find(|e| e.name == name)
    }
    /// The capacities, in file order.
    pub fn capacities(&self) -> &[CapacityCost] {
        &self.capacities
    }
    /// The file the derivations were read from.
    pub fn origin(&self) -> &Path {
        &self.origin
    }
    /// The SHA-256 of the file's bytes, lowercase hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

/// A literal table price that differs from its derivation by more than the table's tolerance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    table: TableId,
    version: String,
    location: Location,
    element: ElementCode,
    derivation: String,
    literal: UnitPrice,
    derived: UnitPrice,
    derived_rounded: UnitPrice,
    tolerance: UnitPrice,
}

impl Mismatch {
    /// The table's id.
    pub fn table(&self) -> &TableId {
        &self.table
    }
    /// The table's version.
    pub fn version(&self) -> &str {
        &self.version
    }
    /// The table file and the line of the price row.
    pub fn location(&self) -> &Location {
        &self.location
    }
    /// The element priced.
    pub fn element(&self) -> &ElementCode {
        &self.element
    }
    /// The name of the element derivation.
    pub fn derivation(&self) -> &str {
        &self.derivation
    }
    /// The price written in the table.
    pub fn literal(&self) -> UnitPrice {
        self.literal
    }
    /// The derived price at full precision.
    pub fn derived(&self) -> UnitPrice {
        self.derived
    }
    /// The derived price rounded once with the table's rounding policy.
    pub fn derived_rounded(&self) -> UnitPrice {
        self.derived_rounded
    }
    /// The literal price minus the rounded derived price.
    pub fn difference(&self) -> UnitPrice {
        UnitPrice::new(self.literal.get() - self.derived_rounded.get())
    }
    /// The table's tolerance (zero when it declares none).
    pub fn tolerance(&self) -> UnitPrice {
        self.tolerance
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: element `{}` is priced {} but derivation `{}` gives {} ({} exactly); difference {} beyond tolerance {}",
            self.location,
            self.element,
            self.literal,
            self.derivation,
            self.derived_rounded,
            self.derived,
            self.difference(),
            self.tolerance
        )
    }
}

/// Every flat price of `table` that names a derivation and differs from it, rounded once with
/// the table's rounding policy, by more than the table's tolerance (zero when undeclared).
///
/// # Errors
///
/// [`Error::Invalid`] naming the table file, the row's line and field `derived` when a row
/// names a derivation that `derivations` lacks, one of another element, or is not a flat
/// price.
pub fn mismatches(table: &PricingTable, derivations: &Derivations) -> Result<Vec<Mismatch>> {
    let tolerance = table.tolerance().unwrap_or(UnitPrice::ZERO);
    let policy = table.rounding();
    let mut out = Vec::new();
    for row in table.rows() {
        let Some(name) = row.derived() else { continue };
        let location = Location::new(table.origin(), row.line(), 0);
        let bad = |message: String| Error::Invalid {
            location: location.clone(),
            field: "derived".to_owned(),
            message,
        };
        let element = derivations.element(name).ok_or_else(|| {
            bad(format!(
                "no element derivation `{name}` in {}",
                derivations.origin().display()
            ))
        })?;
        if element.code() != row.element() {
            return Err(bad(format!(
                "derivation `{name}` derives element `{}`, not `{}`",
                element.code(),
                row.element()
            )));
        }
        let PriceRule::Flat(literal) = row.rule() else {
            return Err(bad(format!(
                "element `{}`: only a flat unit_price can be derived",
                row.element()
            )));
        };
        let derived_rounded = element.unit_price_rounded_with(policy);
        let difference = (literal.get() - derived_rounded.get()).abs();
        if difference > tolerance.get() {
            out.push(Mismatch {
                table: table.id().clone(),
                version: table.version().to_owned(),
                location,
                element: row.element().clone(),
                derivation: name.to_owned(),
                literal: *literal,
                derived: element.unit_price(),
                derived_rounded,
                tolerance,
            });
        }
    }
    Ok(out)
}

/// Every mismatch in `book`: for each table that declares a derivations file, that file is
/// read (its path relative to the table file; for the shipped tables, the shipped file when it
/// is not on disk) and [`mismatches`] is applied.
///
/// # Errors
///
/// [`Error::Invalid`] for a row naming a derivation in a table that declares no derivations
/// file; otherwise as [`Derivations::load`] and [`mismatches`].
pub fn check_book(book: &PriceBook, catalog: &Catalog) -> Result<Vec<Mismatch>> {
    let mut loaded: BTreeMap<PathBuf, Derivations> = BTreeMap::new();
    let mut out = Vec::new();
    for table in book.tables() {
        let Some(path) = table.derivations_path() else {
            if let Some(row) = table.rows().iter().find(|r| r.derived().is_some()) {
                return Err(Error::Invalid {
                    location: Location::new(table.origin(), row.line(), 0),
                    field: "derived".to_owned(),
                    message: format!(
                        "table `{}` names no derivations file: add derivations = \"<file>\" at the top",
                        table.id()
                    ),
                });
            }
            continue;
        };
        let path = normalize(&path);
        if !loaded.contains_key(&path) {
            let d = if path.is_file() {
                Derivations::load(&path, catalog)?
            } else {
                match Derivations::shipped(&path, catalog)? {
                    Some(d) => d,
                    None => Derivations::load(&path, catalog)?,
                }
            };
            loaded.insert(path.clone(), d);
        }
        if let Some(d) = loaded.get(&path) {
            out.extend(mismatches(table, d)?);
        }
    }
    Ok(out)
}

/// `a/b/../c` → `a/c`, `./a` → `a`, lexically (no file system access).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The computations. `file.rs` checks every input (signs, presence, references) and hands over
// these specifications; nothing here can divide by zero, and overflow is an error.

/// An input read from the file: its value and where it was written.
#[derive(Debug, Clone)]
struct Given<T> {
    value: T,
    source: String,
}

/// How a cost is declared: an amount, or a rate on a base.
#[derive(Debug, Clone)]
enum AmountOrRate {
    Amount(Given<Money>),
    Rate(Given<Rate>),
}

#[derive(Debug, Clone)]
struct RoleSpec {
    name: String,
    salary: Given<Money>,
    on_costs: Option<AmountOrRate>,
    qualifications: Option<Given<Money>>,
    direct_overheads: Option<AmountOrRate>,
    indirect_overheads: Option<AmountOrRate>,
    capital: Option<Given<Money>>,
    /// `None` for the EU 1,720-hour rule.
    annual_hours: Option<Given<Quantity>>,
    contact_ratio: Option<Given<Rate>>,
}

#[derive(Debug, Clone)]
struct StaffSpec {
    role: String,
    minutes: Given<Quantity>,
    basis: StaffBasis,
    /// The role's rate on `basis`, resolved by `file.rs` (which checked the role exists).
    rate: UnitPrice,
}

#[derive(Debug, Clone)]
struct ElementSpec {
    name: String,
    code: ElementCode,
    unit: Unit,
    staff: Vec<StaffSpec>,
    materials: Option<Given<Money>>,
    pass_through: Option<Given<Money>>,
    flat_rate: Option<Given<FlatRate>>,
}

#[derive(Debug, Clone)]
struct TermSpec {
    driver: String,
    minutes: Given<Quantity>,
    frequency: Given<Quantity>,
}

#[derive(Debug, Clone)]
enum TimeSpec {
    Minutes(Given<Quantity>),
    Equation {
        base: Given<Quantity>,
        terms: Vec<TermSpec>,
    },
}

#[derive(Debug, Clone)]
struct ActivitySpec {
    name: String,
    time: TimeSpec,
    volume: Given<Quantity>,
}

#[derive(Debug, Clone)]
struct CapacitySpec {
    name: String,
    cost: Given<Money>,
    practical_minutes: Given<Quantity>,
    activities: Vec<ActivitySpec>,
}

/// An overflow driven by `field` of the file; `file.rs` turns it into [`Error::Invalid`] at the
/// role's, element's or capacity's place.
fn overflow(field: &str) -> Error {
    Error::Overflow {
        what: field.to_owned(),
    }
}

fn add(a: Decimal, b: Decimal, field: &str) -> Result<Decimal> {
    a.checked_add(b).ok_or_else(|| overflow(field))
}

fn mul(a: Decimal, b: Decimal, field: &str) -> Result<Decimal> {
    a.checked_mul(b).ok_or_else(|| overflow(field))
}

/// `a ÷ b`; callers pass a divisor that validation made positive.
fn div(a: Decimal, b: Decimal, field: &str) -> Result<Decimal> {
    a.checked_div(b).ok_or_else(|| overflow(field))
}

fn money(d: Decimal) -> Figure {
    Figure::Money(Money::new(d))
}

fn step_ref(name: &str) -> String {
    format!("step `{name}`")
}

/// A cost declared as an amount, or as a rate on `base` (named `base_name`): its value and
/// the step that computes it.
fn amount_or_rate(
    name: &str,
    rate_name: &str,
    spec: Option<&AmountOrRate>,
    base: Decimal,
    base_name: &str,
    steps: &mut Vec<Step>,
) -> Result<Decimal> {
    match spec {
        None => Ok(Decimal::ZERO),
        Some(AmountOrRate::Amount(g)) => Ok(g.value.get()),
        Some(AmountOrRate::Rate(r)) => {
            let v = mul(r.value.get(), base, rate_name)?;
            steps.push(Step::new(
                name,
                format!("{rate_name} × {base_name}"),
                vec![
                    Input::new(rate_name, Figure::Rate(r.value), r.source.clone()),
                    Input::new(base_name, money(base), step_ref(base_name)),
                ],
                money(v),
            ));
            Ok(v)
        }
    }
}

fn compute_role(spec: &RoleSpec, policy: RoundingPolicy) -> Result<RoleCost> {
    let mut steps = Vec::new();
    let salary = spec.salary.value.get();
    let on_costs = amount_or_rate(
        "on_costs",
        "on_cost_rate",
        spec.on_costs.as_ref(),
        salary,
        "annual_salary",
        &mut steps,
    )?;
    let salary_and_on_costs = add(
        salary,
        on_costs,
        aor_key(spec.on_costs.as_ref(), "on_costs", "on_cost_rate"),
    )?;
    let oh_base = "salary_and_on_costs";
    if matches!(spec.direct_overheads, Some(AmountOrRate::Rate(_)))
        || matches!(spec.indirect_overheads, Some(AmountOrRate::Rate(_)))
    {
        steps.push(Step::new(
            oh_base,
            "annual_salary + on_costs",
            vec![
                Input::new("annual_salary", money(salary), spec.salary.source.clone()),
                Input::new("on_costs", money(on_costs), on_costs_source(spec)),
            ],
            money(salary_and_on_costs),
        ));
    }
    let direct = amount_or_rate(
        "direct_overheads",
        "direct_overhead_rate",
        spec.direct_overheads.as_ref(),
        salary_and_on_costs,
        oh_base,
        &mut steps,
    )?;
    let indirect = amount_or_rate(
        "indirect_overheads",
        "indirect_overhead_rate",
        spec.indirect_overheads.as_ref(),
        salary_and_on_costs,
        oh_base,
        &mut steps,
    )?;
    let quals = spec
        .qualifications
        .as_ref()
        .map_or(Decimal::ZERO, |g| g.value.get());
    let capital = spec
        .capital
        .as_ref()
        .map_or(Decimal::ZERO, |g| g.value.get());
    let mut parts = vec![
        ("annual_salary", salary, spec.salary.source.clone()),
        ("on_costs", on_costs, on_costs_source(spec)),
    ];
    if let Some(q) = &spec.qualifications {
        parts.push(("qualifications", quals, q.source.clone()));
    }
    parts.push((
        "direct_overheads",
        direct,
        aor_source(spec.direct_overheads.as_ref(), "direct_overheads"),
    ));
    parts.push((
        "indirect_overheads",
        indirect,
        aor_source(spec.indirect_overheads.as_ref(), "indirect_overheads"),
    ));
    if let Some(c) = &spec.capital {
        parts.push(("capital", capital, c.source.clone()));
    }
    let annual = parts.iter().try_fold(Decimal::ZERO, |acc, (n, v, _)| {
        add(acc, *v, part_key(spec, n))
    })?;
    steps.push(
        Step::new(
            "annual_cost",
            parts.iter().map(|p| p.0).collect::<Vec<_>>().join(" + "),
            parts
                .iter()
                .map(|(n, v, s)| Input::new(*n, money(*v), s.clone()))
                .collect(),
            money(annual),
        )
        .rounded(policy),
    );
    let annual_wq = annual - quals;
    if spec.qualifications.is_some() {
        steps.push(
            Step::new(
                "annual_cost_without_qualifications",
                "annual_cost − qualifications",
                vec![
                    Input::new("annual_cost", money(annual), step_ref("annual_cost")),
                    Input::new(
                        "qualifications",
                        money(quals),
                        spec.qualifications
                            .as_ref()
                            .map_or(String::new(), |g| g.source.clone()),
                    ),
                ],
                money(annual_wq),
            )
            .rounded(policy),
        );
    }
    let (hours, hours_source) = match &spec.annual_hours {
        Some(h) => (h.value.get(), h.source.clone()),
        None => (
            ESF_HOURS,
            "hours_rule = \"esf_1720\": Reg. 1303/2013 art. 68a(2); CPR Reg. 2021/1060 art. 55(2)"
                .to_owned(),
        ),
    };
    let per_hour = div(annual, hours, "annual_hours")?;
    steps.push(
        Step::new(
            "cost_per_hour",
            "annual_cost ÷ annual_hours",
            vec![
                Input::new("annual_cost", money(annual), step_ref("annual_cost")),
                Input::new(
                    "annual_hours",
                    Figure::Hours(Quantity::new(hours)),
                    hours_source.clone(),
                ),
            ],
            Figure::PerHour(UnitPrice::new(per_hour)),
        )
        .rounded(policy),
    );
    let per_hour_wq = div(annual_wq, hours, "annual_hours")?;
    if spec.qualifications.is_some() {
        steps.push(
            Step::new(
                "cost_per_hour_without_qualifications",
                "annual_cost_without_qualifications ÷ annual_hours",
                vec![
                    Input::new(
                        "annual_cost_without_qualifications",
                        money(annual_wq),
                        step_ref("annual_cost_without_qualifications"),
                    ),
                    Input::new(
                        "annual_hours",
                        Figure::Hours(Quantity::new(hours)),
                        hours_source,
                    ),
                ],
                Figure::PerHour(UnitPrice::new(per_hour_wq)),
            )
            .rounded(policy),
        );
    }
    let mut contact = None;
    let mut contact_wq = None;
    if let Some(r) = &spec.contact_ratio {
        let factor = add(Decimal::ONE, r.value.get(), "contact_ratio")?;
        let c = mul(per_hour, factor, "contact_ratio")?;
        steps.push(
            Step::new(
                "cost_per_contact_hour",
                "cost_per_hour × (1 + contact_ratio)",
                vec![
                    Input::new(
                        "cost_per_hour",
                        Figure::PerHour(UnitPrice::new(per_hour)),
                        step_ref("cost_per_hour"),
                    ),
                    Input::new("contact_ratio", Figure::Rate(r.value), r.source.clone()),
                ],
                Figure::PerHour(UnitPrice::new(c)),
            )
            .rounded(policy),
        );
        let cwq = mul(per_hour_wq, factor, "contact_ratio")?;
        if spec.qualifications.is_some() {
            steps.push(
                Step::new(
                    "cost_per_contact_hour_without_qualifications",
                    "cost_per_hour_without_qualifications × (1 + contact_ratio)",
                    vec![
                        Input::new(
                            "cost_per_hour_without_qualifications",
                            Figure::PerHour(UnitPrice::new(per_hour_wq)),
                            step_ref("cost_per_hour_without_qualifications"),
                        ),
                        Input::new("contact_ratio", Figure::Rate(r.value), r.source.clone()),
                    ],
                    Figure::PerHour(UnitPrice::new(cwq)),
                )
                .rounded(policy),
            );
        }
        contact = Some(UnitPrice::new(c));
        contact_wq = Some(UnitPrice::new(cwq));
    }
    Ok(RoleCost {
        name: spec.name.clone(),
        annual_cost: Money::new(annual),
        annual_cost_without_qualifications: Money::new(annual_wq),
        annual_hours: Quantity::new(hours),
        cost_per_hour: UnitPrice::new(per_hour),
        cost_per_hour_without_qualifications: UnitPrice::new(per_hour_wq),
        contact_ratio: spec.contact_ratio.as_ref().map(|g| g.value),
        cost_per_contact_hour: contact,
        cost_per_contact_hour_without_qualifications: contact_wq,
        rounding: policy,
        steps,
    })
}

/// The file's key of a cost given as an amount (`amount`) or a rate (`rate`).
fn aor_key(spec: Option<&AmountOrRate>, amount: &'static str, rate: &'static str) -> &'static str {
    match spec {
        Some(AmountOrRate::Rate(_)) => rate,
        _ => amount,
    }
}

/// The file's key of a part of a role's annual cost.
fn part_key<'a>(spec: &RoleSpec, part: &'a str) -> &'a str {
    match part {
        "on_costs" => aor_key(spec.on_costs.as_ref(), "on_costs", "on_cost_rate"),
        "direct_overheads" => aor_key(
            spec.direct_overheads.as_ref(),
            "direct_overheads",
            "direct_overhead_rate",
        ),
        "indirect_overheads" => aor_key(
            spec.indirect_overheads.as_ref(),
            "indirect_overheads",
            "indirect_overhead_rate",
        ),
        other => other,
    }
}

fn on_costs_source(spec: &RoleSpec) -> String {
    aor_source(spec.on_costs.as_ref(), "on_costs")
}

fn aor_source(spec: Option<&AmountOrRate>, name: &str) -> String {
    match spec {
        None => "not declared: zero".to_owned(),
        Some(AmountOrRate::Amount(g)) => g.source.clone(),
        Some(AmountOrRate::Rate(_)) => step_ref(name),
    }
}

fn compute_element(
    spec: &ElementSpec,
    regulation: Option<Regulation>,
    policy: RoundingPolicy,
) -> Result<ElementCost> {
    let mut steps = Vec::new();
    let mut staff_total = Decimal::ZERO;
    let mut staff_inputs = Vec::new();
    for (i, s) in spec.staff.iter().enumerate() {
        let (rate, rate_name) = (s.rate, s.basis.rate_name());
        let cost = div(
            mul(s.minutes.value.get(), rate.get(), "staff.minutes")?,
            MINUTES_PER_HOUR,
            "staff.minutes",
        )?;
        let name = format!("staff_cost[{}] {}", i + 1, s.role);
        steps.push(Step::new(
            name.clone(),
            format!("minutes × {rate_name} ÷ 60"),
            vec![
                Input::new(
                    "minutes",
                    Figure::Minutes(s.minutes.value),
                    s.minutes.source.clone(),
                ),
                Input::new(
                    format!("{rate_name} of {}", s.role),
                    Figure::PerHour(rate),
                    format!("role `{}`, {}", s.role, step_ref(rate_name)),
                ),
            ],
            Figure::PerUnit(UnitPrice::new(cost)),
        ));
        staff_inputs.push(Input::new(
            name.clone(),
            Figure::PerUnit(UnitPrice::new(cost)),
            step_ref(&name),
        ));
        staff_total = add(staff_total, cost, "staff.minutes")?;
    }
    if spec.staff.len() > 1 {
        steps.push(Step::new(
            "staff_cost",
            "Σ staff_cost[i]",
            staff_inputs,
            Figure::PerUnit(UnitPrice::new(staff_total)),
        ));
    }
    let staff_name = match spec.staff.len() {
        1 => format!("staff_cost[1] {}", spec.staff[0].role),
        _ => "staff_cost".to_owned(),
    };
    let materials = spec
        .materials
        .as_ref()
        .map_or(Decimal::ZERO, |g| g.value.get());
    let pass = spec
        .pass_through
        .as_ref()
        .map_or(Decimal::ZERO, |g| g.value.get());
    let per_unit = |d: Decimal| Figure::PerUnit(UnitPrice::new(d));
    let mut overheads = Decimal::ZERO;
    if let Some(fr) = &spec.flat_rate {
        let rate = fr.value.rate();
        let source = format!("{} ({})", fr.source, fr.value.article(regulation));
        let (base, base_name) = match fr.value {
            FlatRate::IndirectOfStaff(_) | FlatRate::RemainingOfStaff(_) => {
                (staff_total, staff_name.clone())
            }
            FlatRate::IndirectOfDirect(_) => {
                let direct = add(staff_total, materials, "materials")?;
                steps.push(Step::new(
                    "direct_costs",
                    format!("{staff_name} + materials"),
                    vec![
                        Input::new(
                            staff_name.clone(),
                            per_unit(staff_total),
                            step_ref(&staff_name),
                        ),
                        Input::new(
                            "materials",
                            per_unit(materials),
                            spec.materials
                                .as_ref()
                                .map_or("not declared: zero".to_owned(), |g| g.source.clone()),
                        ),
                    ],
                    per_unit(direct),
                ));
                (direct, "direct_costs".to_owned())
            }
        };
        overheads = mul(rate.get(), base, "flat_rate")?;
        let name = match fr.value {
            FlatRate::RemainingOfStaff(_) => "remaining_costs",
            _ => "indirect_costs",
        };
        steps.push(Step::new(
            name,
            format!("{} × {base_name}", fr.value.key()),
            vec![
                Input::new(fr.value.key(), Figure::Rate(rate), source),
                Input::new(base_name.clone(), per_unit(base), step_ref(&base_name)),
            ],
            per_unit(overheads),
        ));
    }
    let mut inputs = vec![Input::new(
        staff_name.clone(),
        per_unit(staff_total),
        step_ref(&staff_name),
    )];
    let mut formula = vec![staff_name.clone()];
    if let Some(m) = &spec.materials {
        inputs.push(Input::new(
            "materials",
            per_unit(materials),
            m.source.clone(),
        ));
        formula.push("materials".to_owned());
    }
    if let Some(p) = &spec.pass_through {
        inputs.push(Input::new("pass_through", per_unit(pass), p.source.clone()));
        formula.push("pass_through".to_owned());
    }
    if let Some(fr) = &spec.flat_rate {
        let name = match fr.value {
            FlatRate::RemainingOfStaff(_) => "remaining_costs",
            _ => "indirect_costs",
        };
        inputs.push(Input::new(name, per_unit(overheads), step_ref(name)));
        formula.push(name.to_owned());
    }
    let price = [
        (materials, "materials"),
        (pass, "pass_through"),
        (overheads, "flat_rate"),
    ]
    .iter()
    .try_fold(staff_total, |acc, (v, field)| add(acc, *v, field))?;
    steps.push(
        Step::new("unit_price", formula.join(" + "), inputs, per_unit(price)).rounded(policy),
    );
    Ok(ElementCost {
        name: spec.name.clone(),
        code: spec.code.clone(),
        unit: spec.unit,
        staff_cost: UnitPrice::new(staff_total),
        materials: UnitPrice::new(materials),
        pass_through: UnitPrice::new(pass),
        flat_rate: spec.flat_rate.as_ref().map(|g| g.value),
        overheads: UnitPrice::new(overheads),
        unit_price: UnitPrice::new(price),
        rounding: policy,
        steps,
    })
}

/// Minutes per unit of an activity and the step of its time equation, if it has one.
fn minutes_per_unit(a: &ActivitySpec, field: &str) -> Result<(Decimal, Option<Step>)> {
    match &a.time {
        TimeSpec::Minutes(m) => Ok((m.value.get(), None)),
        TimeSpec::Equation { base, terms } => {
            let mut total = base.value.get();
            let mut inputs = vec![Input::new(
                "base",
                Figure::Minutes(base.value),
                base.source.clone(),
            )];
            let mut formula = vec!["base".to_owned()];
            for t in terms {
                total = add(
                    total,
                    mul(t.minutes.value.get(), t.frequency.value.get(), field)?,
                    field,
                )?;
                inputs.push(Input::new(
                    format!("{}.minutes", t.driver),
                    Figure::Minutes(t.minutes.value),
                    t.minutes.source.clone(),
                ));
                inputs.push(Input::new(
                    format!("{}.frequency", t.driver),
                    Figure::Units(t.frequency.value),
                    t.frequency.source.clone(),
                ));
                formula.push(format!("{0}.minutes × {0}.frequency", t.driver));
            }
            let step = Step::new(
                format!("minutes_per_unit {}", a.name),
                formula.join(" + "),
                inputs,
                Figure::Minutes(Quantity::new(total)),
            );
            Ok((total, Some(step)))
        }
    }
}

fn compute_capacity(spec: &CapacitySpec, policy: RoundingPolicy) -> Result<CapacityCost> {
    let cost = spec.cost.value.get();
    let practical = spec.practical_minutes.value.get();
    let rate = div(cost, practical, "practical_minutes")?;
    let rate_fig = Figure::PerMinute(UnitPrice::new(rate));
    let mut steps = vec![Step::new(
        "rate_per_minute",
        "cost ÷ practical_minutes",
        vec![
            Input::new("cost", money(cost), spec.cost.source.clone()),
            Input::new(
                "practical_minutes",
                Figure::Minutes(spec.practical_minutes.value),
                spec.practical_minutes.source.clone(),
            ),
        ],
        rate_fig,
    )
    .rounded(policy)];
    let mut activities = Vec::with_capacity(spec.activities.len());
    let mut used = Decimal::ZERO;
    let mut used_inputs = Vec::new();
    for a in &spec.activities {
        let (minutes, eq_step) = minutes_per_unit(a, "activity.time_equation")?;
        let mut a_steps: Vec<Step> = eq_step.into_iter().collect();
        let minutes_source = match &a.time {
            TimeSpec::Minutes(m) => m.source.clone(),
            TimeSpec::Equation { .. } => step_ref(&format!("minutes_per_unit {}", a.name)),
        };
        let minutes_field = match &a.time {
            TimeSpec::Minutes(_) => "activity.minutes",
            TimeSpec::Equation { .. } => "activity.time_equation",
        };
        let unit_cost = mul(rate, minutes, minutes_field)?;
        a_steps.push(
            Step::new(
                format!("unit_cost {}", a.name),
                "rate_per_minute × minutes_per_unit",
                vec![
                    Input::new("rate_per_minute", rate_fig, step_ref("rate_per_minute")),
                    Input::new(
                        "minutes_per_unit",
                        Figure::Minutes(Quantity::new(minutes)),
                        minutes_source.clone(),
                    ),
                ],
                Figure::PerUnit(UnitPrice::new(unit_cost)),
            )
            .rounded(policy),
        );
        let a_used = mul(a.volume.value.get(), minutes, "activity.volume")?;
        a_steps.push(Step::new(
            format!("used_minutes {}", a.name),
            "volume × minutes_per_unit",
            vec![
                Input::new(
                    "volume",
                    Figure::Units(a.volume.value),
                    a.volume.source.clone(),
                ),
                Input::new(
                    "minutes_per_unit",
                    Figure::Minutes(Quantity::new(minutes)),
                    minutes_source,
                ),
            ],
            Figure::Minutes(Quantity::new(a_used)),
        ));
        let a_used_cost = mul(a_used, rate, "activity.volume")?;
        a_steps.push(
            Step::new(
                format!("used_cost {}", a.name),
                "used_minutes × rate_per_minute",
                vec![
                    Input::new(
                        "used_minutes",
                        Figure::Minutes(Quantity::new(a_used)),
                        step_ref(&format!("used_minutes {}", a.name)),
                    ),
                    Input::new("rate_per_minute", rate_fig, step_ref("rate_per_minute")),
                ],
                money(a_used_cost),
            )
            .rounded(policy),
        );
        used_inputs.push(Input::new(
            format!("used_minutes {}", a.name),
            Figure::Minutes(Quantity::new(a_used)),
            step_ref(&format!("used_minutes {}", a.name)),
        ));
        used = add(used, a_used, "activity.volume")?;
        activities.push(ActivityCost {
            name: a.name.clone(),
            minutes_per_unit: Quantity::new(minutes),
            volume: a.volume.value,
            unit_cost: UnitPrice::new(unit_cost),
            used_minutes: Quantity::new(a_used),
            used_cost: Money::new(a_used_cost),
            rounding: policy,
            steps: a_steps,
        });
    }
    // `file.rs` refuses used > practical, so this is never negative for a loaded file.
    let unused = practical - used;
    let used_cost = mul(used, rate, "activity.volume")?;
    let unused_cost = mul(unused, rate, "practical_minutes")?;
    let minutes = |d: Decimal| Figure::Minutes(Quantity::new(d));
    steps.push(Step::new(
        "used_minutes",
        if used_inputs.is_empty() {
            "0".to_owned()
        } else {
            "Σ volume × minutes_per_unit".to_owned()
        },
        used_inputs,
        minutes(used),
    ));
    steps.push(
        Step::new(
            "used_cost",
            "used_minutes × rate_per_minute",
            vec![
                Input::new("used_minutes", minutes(used), step_ref("used_minutes")),
                Input::new("rate_per_minute", rate_fig, step_ref("rate_per_minute")),
            ],
            money(used_cost),
        )
        .rounded(policy),
    );
    steps.push(Step::new(
        "unused_minutes",
        "practical_minutes − used_minutes",
        vec![
            Input::new(
                "practical_minutes",
                minutes(practical),
                spec.practical_minutes.source.clone(),
            ),
            Input::new("used_minutes", minutes(used), step_ref("used_minutes")),
        ],
        minutes(unused),
    ));
    steps.push(
        Step::new(
            "unused_cost",
            "unused_minutes × rate_per_minute (reported apart, never loaded onto units)",
            vec![
                Input::new(
                    "unused_minutes",
                    minutes(unused),
                    step_ref("unused_minutes"),
                ),
                Input::new("rate_per_minute", rate_fig, step_ref("rate_per_minute")),
            ],
            money(unused_cost),
        )
        .rounded(policy),
    );
    Ok(CapacityCost {
        name: spec.name.clone(),
        cost: spec.cost.value,
        practical_minutes: spec.practical_minutes.value,
        rate_per_minute: UnitPrice::new(rate),
        activities,
        used_minutes: Quantity::new(used),
        used_cost: Money::new(used_cost),
        unused_minutes: Quantity::new(unused),
        unused_cost: Money::new(unused_cost),
        rounding: policy,
        steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> &'static Catalog {
        static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
        CATALOG.get_or_init(|| Catalog::shipped().expect("shipped catalog"))
    }

    fn derive(body: &str) -> Derivations {
        let text = format!("schema = 1\nid = \"t\"\n{body}");
        Derivations::from_toml(&text, Path::new("t.toml"), catalog()).expect("valid derivations")
    }

    fn s<T: fmt::Display>(v: T) -> String {
        v.to_string()
    }

    const EU_ROLE: &str = r#"
[[role]]
name = "sw"
annual_salary = "30960"
hours_rule = "esf_1720"
"#;

    #[test]
    fn eu_worked_example_reproduces_domain_figures_to_the_cent() {
        let d = derive(&format!(
            r#"{EU_ROLE}
[[element]]
name = "indirect"
code = "INTAKE"
unit = "case"
staff = [{{ role = "sw", minutes = "7200" }}]
flat_rate = {{ indirect_of_staff = "0.15" }}

[[element]]
name = "remaining"
code = "INTAKE"
unit = "case"
staff = [{{ role = "sw", minutes = "7200" }}]
flat_rate = {{ remaining_of_staff = "0.40" }}
"#
        ));
        let role = d.role("sw").unwrap();
        assert_eq!(s(role.annual_hours()), "1720");
        assert_eq!(s(role.cost_per_hour()), "18");
        assert_eq!(s(role.cost_per_hour_rounded()), "18.00");
        let indirect = d.element("indirect").unwrap();
        assert_eq!(s(indirect.staff_cost()), "2160");
        assert_eq!(s(indirect.overheads()), "324.00");
        assert_eq!(s(indirect.unit_price_rounded()), "2484.00");
        let remaining = d.element("remaining").unwrap();
        assert_eq!(s(remaining.overheads()), "864.00");
        assert_eq!(s(remaining.unit_price_rounded()), "3024.00");
    }

    #[test]
    fn pssru_worked_example_to_full_precision_and_the_published_whole_pound() {
        let d = derive(
            r#"
[rounding]
decimals = 0

[[role]]
name = "social_work_assistant"
annual_salary = "26610"
on_costs = "7166"
direct_overheads = "9795"
indirect_overheads = "5404"
capital = "3488"
annual_hours = "1591"
source = "PSSRU Unit Costs 2022"
"#,
        );
        let role = &d.roles()[0];
        assert_eq!(s(role.annual_cost()), "52463");
        let per_hour = role.cost_per_hour().get();
        assert!(
            s(per_hour).starts_with("32.97485857950974230043997"),
            "{per_hour}"
        );
        let back = per_hour * Decimal::from(1591) - Decimal::from(52463);
        assert!(back.abs() < Decimal::new(1, 20), "{back}");
        assert_eq!(s(role.cost_per_hour_rounded()), "33");
        let last = role.steps().last().unwrap();
        assert_eq!(last.name(), "cost_per_hour");
        assert_eq!(last.formula(), "annual_cost ÷ annual_hours");
        assert_eq!(
            last.inputs()[1].source(),
            "t.toml:14 (PSSRU Unit Costs 2022)"
        );
        let (policy, rounded) = last.rounding().unwrap();
        assert_eq!((policy.decimals(), s(rounded)), (0, "33 EUR/h".to_owned()));
    }

    #[test]
    fn pssru_overhead_rates_apply_to_salary_plus_on_costs() {
        let d = derive(
            r#"
[[role]]
name = "swa"
annual_salary = "26610"
on_costs = "7166"
direct_overhead_rate = "0.29"
indirect_overhead_rate = "0.16"
capital = "3488"
annual_hours = "1591"
"#,
        );
        let role = &d.roles()[0];
        // 29% and 16% of 33,776 = 9,795.04 and 5,404.16.
        assert_eq!(s(role.annual_cost()), "52463.20");
        assert_eq!(s(role.cost_per_hour_rounded()), "32.97");
        let names: Vec<&str> = role.steps().iter().map(Step::name).collect();
        assert_eq!(
            names,
            [
                "salary_and_on_costs",
                "direct_overheads",
                "indirect_overheads",
                "annual_cost",
                "cost_per_hour"
            ]
        );
        assert_eq!(s(role.steps()[1].result()), "9795.04 EUR");
    }

    #[test]
    fn qualifications_and_contact_ratio_give_both_twins() {
        // 20,000 + 25% on-costs 5,000 + qualifications 1,000 + 29% and 16% of 25,000
        // (7,250 and 4,000) + capital 750 = 38,000; without qualifications 37,000.
        // ÷ 1,600 h = 23.75 and 23.125; × (1 + 0.25) = 29.6875 and 28.90625.
        let d = derive(
            r#"
[[role]]
name = "r"
annual_salary = "20000"
on_cost_rate = "0.25"
qualifications = "1000"
direct_overhead_rate = "0.29"
indirect_overhead_rate = "0.16"
capital = "750"
annual_hours = "1600"
contact_ratio = "0.25"
"#,
        );
        let r = &d.roles()[0];
        assert_eq!(s(r.annual_cost().normalize()), "38000");
        assert_eq!(
            s(r.annual_cost_without_qualifications().normalize()),
            "37000"
        );
        assert_eq!(s(r.cost_per_hour().normalize()), "23.75");
        assert_eq!(
            s(r.cost_per_hour_without_qualifications().normalize()),
            "23.125"
        );
        assert_eq!(s(r.cost_per_contact_hour().unwrap().normalize()), "29.6875");
        assert_eq!(
            s(r.cost_per_contact_hour_without_qualifications()
                .unwrap()
                .normalize()),
            "28.90625"
        );
        assert_eq!(s(r.cost_per_contact_hour_rounded().unwrap()), "29.69");
        assert_eq!(
            s(r.cost_per_contact_hour_without_qualifications_rounded()
                .unwrap()),
            "28.91"
        );
    }

    #[test]
    fn indirect_rate_on_direct_costs_includes_materials_not_pass_through() {
        // staff 60 min × 18.00 = 18.00; direct costs 18.00 + 2.00 = 20.00; 7% = 1.40;
        // + pass-through 5.00 → 26.40.
        let d = derive(&format!(
            r#"{EU_ROLE}
[[element]]
code = "CONSULT"
unit = "hour"
staff = [{{ role = "sw", minutes = "60" }}]
materials = "2.00"
pass_through = "5.00"
flat_rate = {{ indirect_of_direct = "0.07" }}
"#
        ));
        let e = &d.elements()[0];
        assert_eq!(e.name(), "CONSULT");
        assert_eq!(s(e.overheads().normalize()), "1.4");
        assert_eq!(s(e.unit_price_rounded()), "26.40");
        let last = e.steps().last().unwrap();
        assert_eq!(
            last.formula(),
            "staff_cost[1] sw + materials + pass_through + indirect_costs"
        );
        let article = &e.steps()[2].inputs()[0];
        assert_eq!(article.name(), "indirect_of_direct");
        assert!(article
            .source()
            .ends_with("(CPR Reg. 2021/1060 art. 54(a))"));
    }

    #[test]
    fn element_price_rounds_once_at_the_end() {
        // 52,463 / 1,591 = 32.9748…/h; 10 h = 329.7485… → 329.75, where rounding the hourly
        // rate first would give 10 × 32.97 = 329.70.
        let d = derive(
            r#"
[[role]]
name = "swa"
annual_salary = "52463"
annual_hours = "1591"

[[element]]
code = "INTAKE"
unit = "case"
staff = [{ role = "swa", minutes = "600" }]
"#,
        );
        let e = &d.elements()[0];
        assert!(s(e.unit_price()).starts_with("329.74858579509742300439"));
        assert_eq!(s(e.unit_price_rounded()), "329.75");
        let rounded_steps = e.steps().iter().filter(|s| s.rounding().is_some()).count();
        assert_eq!(rounded_steps, 1);
    }

    #[test]
    fn several_roles_and_contact_hours_add_up() {
        // 30 min × 18.00 ÷ 60 = 9.00 at working hours; contact hour = 18 × 1.5 = 27.00,
        // 20 min → 9.00; total 18.00.
        let d = derive(
            r#"
[[role]]
name = "a"
annual_salary = "30960"
hours_rule = "esf_1720"
contact_ratio = "0.5"

[[element]]
code = "CONSULT"
unit = "hour"
staff = [
  { role = "a", minutes = "30" },
  { role = "a", minutes = "20", basis = "contact_hour" },
]
"#,
        );
        let e = &d.elements()[0];
        assert_eq!(s(e.staff_cost().normalize()), "18");
        assert_eq!(e.steps()[2].name(), "staff_cost");
    }

    #[test]
    fn time_driven_capacity_reports_used_and_unused_apart() {
        // 56,000 ÷ 80,000 min = 0.70/min. Consultation: 30 + 15 × 0.2 + 60 × 0.1 = 39 min,
        // 27.30 a unit, 1,000 units = 39,000 min. Intake: 90 min, 63.00, 300 units = 27,000.
        // Used 66,000 min = 46,200.00; unused 14,000 min = 9,800.00.
        let d = derive(
            r#"
[[capacity]]
name = "legal team"
cost = "56000"
practical_minutes = "80000"

[[capacity.activity]]
name = "consultation"
volume = "1000"
time_equation = { base = "30", terms = [
  { driver = "interpreter", minutes = "15", frequency = "0.2" },
  { driver = "court", minutes = "60", frequency = "0.1" },
] }

[[capacity.activity]]
name = "intake"
minutes = "90"
volume = "300"
"#,
        );
        let c = &d.capacities()[0];
        assert_eq!(s(c.rate_per_minute()), "0.70");
        let a = &c.activities()[0];
        assert_eq!(s(a.minutes_per_unit().normalize()), "39");
        assert_eq!(s(a.unit_cost_rounded()), "27.30");
        assert_eq!(s(c.activities()[1].unit_cost_rounded()), "63.00");
        assert_eq!(s(c.used_minutes().normalize()), "66000");
        assert_eq!(s(c.used_cost().normalize()), "46200");
        assert_eq!(s(c.unused_minutes().normalize()), "14000");
        assert_eq!(s(c.unused_cost().normalize()), "9800");
        assert_eq!(
            a.steps()[0].formula(),
            "base + interpreter.minutes × interpreter.frequency + court.minutes × court.frequency"
        );
    }

    #[test]
    fn mismatches_compare_the_rounded_derivation_with_the_tolerance() {
        let d = derive(&format!(
            r#"{EU_ROLE}
[[element]]
code = "CONSULT"
unit = "hour"
staff = [{{ role = "sw", minutes = "60" }}]

[[element]]
name = "psych"
code = "PSYCH"
unit = "session"
staff = [{{ role = "sw", minutes = "50" }}]
"#
        ));
        let table = |consult: &str, psych: &str| {
            let text = format!(
                r#"schema = 1
id = "x"
version = "1"
scope = "national"
valid_from = "2024-01-01"
valid_to = "2024-12-31"
derivations = "d.toml"
tolerance = "0.01"

[[price]]
element = "CONSULT"
unit_price = "{consult}"
derived = "CONSULT"

[[price]]
element = "PSYCH"
unit_price = "{psych}"
derived = "psych"
"#
            );
            PricingTable::from_toml(&text, Path::new("dir/x.toml")).unwrap()
        };
        // PSYCH: 50 min × 18.00 ÷ 60 = 15.00.
        assert!(mismatches(&table("18.01", "14.99"), &d).unwrap().is_empty());
        let found = mismatches(&table("18.02", "15.00"), &d).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].to_string(),
            "dir/x.toml:10: element `CONSULT` is priced 18.02 but derivation `CONSULT` gives 18.00 (18 exactly); difference 0.02 beyond tolerance 0.01"
        );
        assert_eq!(
            table("1", "1").derivations_path(),
            Some(PathBuf::from("dir/d.toml"))
        );
    }

    #[test]
    fn a_row_naming_an_unknown_derivation_is_an_error_at_its_line() {
        let d = derive(EU_ROLE);
        let text = "schema = 1\nid = \"x\"\nversion = \"1\"\nscope = \"national\"\nvalid_from = \"2024-01-01\"\nvalid_to = \"2024-12-31\"\n\n[[price]]\nelement = \"CONSULT\"\nunit_price = \"1\"\nderived = \"nope\"\n";
        let t = PricingTable::from_toml(text, Path::new("x.toml")).unwrap();
        let err = mismatches(&t, &d).unwrap_err().to_string();
        assert_eq!(
            err,
            "x.toml:8: field `derived`: no element derivation `nope` in t.toml"
        );
    }

    #[test]
    fn shipped_derivations_load_and_agree_with_the_shipped_prices() {
        let catalog = catalog();
        let book = PriceBook::shipped(catalog).unwrap();
        let found = check_book(&book, catalog).unwrap();
        assert!(found.is_empty(), "{found:?}");
        let d = Derivations::shipped(
            Path::new("pricing-tables/derivations/lt-national-2024.toml"),
            catalog,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            s(d.role("social_worker").unwrap().cost_per_hour_rounded()),
            "16.00"
        );
    }

    #[test]
    fn normalize_resolves_dots_lexically() {
        assert_eq!(normalize(Path::new("./a/b/../c")), PathBuf::from("a/c"));
    }

    /// Laws: a price grows with staff time and with any cost input; used + unused capacity
    /// equals practical capacity.
    mod laws {
        use super::*;
        use proptest::prelude::*;

        /// A positive amount with two decimals, as text.
        fn amount() -> impl Strategy<Value = String> {
            (1u64..10_000_000).prop_map(|c| Decimal::new(c as i64, 2).to_string())
        }

        /// A flat rate below every ceiling (0 to 6.99%), so that one more basis point is allowed.
        fn rate() -> impl Strategy<Value = String> {
            (0u64..700).prop_map(|b| Decimal::new(b as i64, 4).to_string())
        }

        fn price(
            salary: &str,
            hours: &str,
            minutes: &str,
            materials: &str,
            pass: &str,
            option: &str,
            rate: &str,
        ) -> Decimal {
            derive(&format!(
                r#"
[[role]]
name = "r"
annual_salary = "{salary}"
annual_hours = "{hours}"

[[element]]
code = "CONSULT"
unit = "hour"
staff = [{{ role = "r", minutes = "{minutes}" }}]
materials = "{materials}"
pass_through = "{pass}"
flat_rate = {{ {option} = "{rate}" }}
"#
            ))
            .elements()[0]
                .unit_price()
                .get()
        }

        proptest! {
            #[test]
            fn price_grows_with_staff_time_and_every_cost_input(
                salary in amount(), hours in 1u32..3000, minutes in 1u32..10_000,
                materials in amount(), pass in amount(), r in rate(),
                extra in amount(), extra_minutes in 1u32..1000,
                option in prop::sample::select(vec!["indirect_of_staff", "indirect_of_direct"]),
            ) {
                let hours = hours.to_string();
                let m = minutes.to_string();
                let base = price(&salary, &hours, &m, &materials, &pass, option, &r);
                let more = |d: &str| (Decimal::from_str(d).unwrap() + Decimal::from_str(&extra).unwrap()).to_string();
                let more_minutes = (minutes + extra_minutes).to_string();
                prop_assert!(price(&salary, &hours, &more_minutes, &materials, &pass, option, &r) > base);
                prop_assert!(price(&more(&salary), &hours, &m, &materials, &pass, option, &r) > base);
                prop_assert!(price(&salary, &hours, &m, &more(&materials), &pass, option, &r) > base);
                prop_assert!(price(&salary, &hours, &m, &materials, &more(&pass), option, &r) > base);
                let higher_rate = (Decimal::from_str(&r).unwrap() + Decimal::new(1, 4)).to_string();
                prop_assert!(price(&salary, &hours, &m, &materials, &pass, option, &higher_rate) > base);
            }

            #[test]
            fn used_plus_unused_is_practical_capacity(
                cost in amount(),
                activities in prop::collection::vec((1u32..600, 0u32..50, 0u32..40, 0u32..100), 0..6),
                spare in 0u32..100_000,
            ) {
                let mut body = String::new();
                let mut used = Decimal::ZERO;
                for (i, (base, term, freq, volume)) in activities.iter().enumerate() {
                    let freq = Decimal::new(i64::from(*freq), 1);
                    let per_unit = Decimal::from(*base) + Decimal::from(*term + 1) * freq;
                    used += per_unit * Decimal::from(*volume);
                    body.push_str(&format!(
                        "\n[[capacity.activity]]\nname = \"a{i}\"\nvolume = \"{volume}\"\ntime_equation = {{ base = \"{base}\", terms = [{{ driver = \"d\", minutes = \"{}\", frequency = \"{freq}\" }}] }}\n",
                        term + 1
                    ));
                }
                let practical = used + Decimal::from(spare) + Decimal::ONE;
                let d = derive(&format!(
                    "[[capacity]]\nname = \"c\"\ncost = \"{cost}\"\npractical_minutes = \"{practical}\"\n{body}"
                ));
                let c = &d.capacities()[0];
                prop_assert_eq!(c.used_minutes().get() + c.unused_minutes().get(), practical);
                prop_assert_eq!(c.used_minutes().get(), used);
                let total = c.used_cost().get() + c.unused_cost().get();
                prop_assert!((total - c.cost().get()).abs() < Decimal::new(1, 15));
                prop_assert!(!c.unused_cost().is_negative());
            }
        }
    }
}
