//! Outcomes and efficiency: the four KPIs, cost per outcome, the base-year comparison
//! (scope kept, price and quantity indices, price/quantity effects, price-volume-mix),
//! constant prices, and the provider league table on a common reference table.
//!
//! Conventions, each documented where it applies:
//!
//! * a client's **years** are the calendar years of its delivery rows (valued or not); a client
//!   with no deliveries belongs to the year of `applied_on`. An *applicant* of year Y is a
//!   client whose years include Y; *assisted* in Y adds the register's assisted flag;
//! * a client's costs count for the **provider** that holds the client's file (the register's
//!   provider) and for the client's **primary target group** (the first listed);
//! * a quotient whose denominator is zero is [`Ratio::NOT_DEFINED`], never 0 or NaN;
//! * everything is exact decimal arithmetic; ratios are shown with 12 significant digits.

mod deflator;
mod index;
mod stats;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use rust_decimal::Decimal;
use serde::Serialize;

pub use deflator::Deflators;
pub use index::{decompose, indices, Decomposition, ElementFlows, Indices};
pub use stats::{quantile_type7, Outlier, Ratio, Spread, SHOWN_SIGNIFICANT_DIGITS};

use crate::catalog::{str_enum, Catalog};
use crate::clients::{Client, ClientRegister};
use crate::error::{Error, Result};
use crate::id::ClientId;
use crate::money::Money;
use crate::pricing::{PriceBook, PriceRule, PricingTable};
use crate::valuation::{value, Context, Valuation, ValuationOptions};
use crate::Date;

str_enum!(
    /// How clients are segmented for the price-volume-mix split.
    MixBy, "mix segmentation" {
        /// By most advanced outcome: working, studying, family, social_life, or `none`.
        Outcome = "outcome",
        /// By primary target group.
        TargetGroup = "target-group",
        /// By provider.
        Provider = "provider",
    }
);

/// What to compare.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CompareOptions {
    /// The base year (default 2019, the programme's baseline).
    pub base_year: u16,
    /// The year compared with the base; `None` takes the latest year with valued lines.
    pub year: Option<u16>,
    /// Segmentation of the price-volume-mix split.
    pub mix_by: MixBy,
    /// The common reference table for provider comparison, as `ID` or `ID@VERSION`; `None`
    /// takes the national table covering the compared year.
    pub reference_table: Option<String>,
    /// A deflator index, for real (base-year price) figures.
    pub deflators: Option<Deflators>,
}

impl Default for CompareOptions {
    fn default() -> Self {
        Self {
            base_year: 2019,
            year: None,
            mix_by: MixBy::Outcome,
            reference_table: None,
            deflators: None,
        }
    }
}

impl CompareOptions {
    /// Sets the base year.
    pub fn with_base_year(mut self, year: u16) -> Self {
        self.base_year = year;
        self
    }
    /// Sets the compared year.
    pub fn with_year(mut self, year: u16) -> Self {
        self.year = Some(year);
        self
    }
    /// Sets the price-volume-mix segmentation.
    pub fn with_mix_by(mut self, by: MixBy) -> Self {
        self.mix_by = by;
        self
    }
    /// Sets the reference table (`ID` or `ID@VERSION`).
    pub fn with_reference_table(mut self, table: impl Into<String>) -> Self {
        self.reference_table = Some(table.into());
        self
    }
    /// Sets the deflators.
    pub fn with_deflators(mut self, deflators: Deflators) -> Self {
        self.deflators = Some(deflators);
        self
    }
}

/// What the comparison needs besides the valuation.
#[derive(Debug, Clone, Copy)]
pub struct CompareContext<'a> {
    /// The catalog.
    pub catalog: &'a Catalog,
    /// The price book the valuation used.
    pub book: &'a PriceBook,
    /// The client register (required: KPIs are about people).
    pub clients: &'a ClientRegister,
}

/// A KPI: numerator, denominator and the percentage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Kpi {
    /// Persons counted.
    pub numerator: u64,
    /// Persons they are counted among.
    pub denominator: u64,
    /// 100 × numerator ÷ denominator, or not defined.
    pub rate: Ratio,
}

impl Kpi {
    fn new(numerator: u64, denominator: u64) -> Self {
        Self {
            numerator,
            denominator,
            rate: Ratio::of(Decimal::from(numerator), Decimal::from(denominator)).percent(),
        }
    }
}

/// The four KPIs of one scope and year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KpiSet {
    /// The year.
    pub year: u16,
    /// `overall`, `provider:ID` or `target_group:CODE`.
    pub scope: String,
    /// Persons who applied.
    pub applicants: u64,
    /// Persons assisted.
    pub assisted: u64,
    /// Assisted persons without a needs assessment (not in K2).
    pub without_assessment: u64,
    /// K1: assisted ÷ applicants.
    pub k1_coverage: Kpi,
    /// K2: fully served ÷ assisted persons with a needs assessment.
    pub k2_fully_served: Kpi,
    /// K3: cooperating with law enforcement ÷ assisted.
    pub k3_law_enforcement: Kpi,
    /// K4: integrated (any outcome) ÷ assisted.
    pub k4_integration: Kpi,
}

/// Cost per outcome for one scope and year: activity-weighted averages (total ÷ count).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CostPerOutcome {
    /// The year.
    pub year: u16,
    /// `overall`, `provider:ID` or `target_group:CODE`.
    pub scope: String,
    /// Total valued cost of the scope's clients in the year.
    pub total_cost: Money,
    /// Average cost per assisted person.
    pub per_assisted: Ratio,
    /// Average cost per fully served person.
    pub per_fully_served: Ratio,
    /// Average cost per person cooperating with law enforcement.
    pub per_cooperating: Ratio,
    /// Average cost per integrated person.
    pub per_integrated: Ratio,
    /// Cost of the lines with staff hours recorded ÷ those hours.
    pub per_staff_hour: Ratio,
    /// The same, in base-year prices (when deflators were given).
    pub real: Option<RealCosts>,
}

/// Costs in base-year prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RealCosts {
    /// The factor applied: deflator(base) ÷ deflator(year).
    pub factor: Ratio,
    /// Total cost in base-year prices, to the cent.
    pub total_cost: Money,
    /// Average cost per assisted person.
    pub per_assisted: Ratio,
    /// Average cost per fully served person.
    pub per_fully_served: Ratio,
    /// Average cost per cooperating person.
    pub per_cooperating: Ratio,
    /// Average cost per integrated person.
    pub per_integrated: Ratio,
}

/// Did the programme keep at least its base-year scope?
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScopeCheck {
    /// The base year.
    pub base_year: u16,
    /// The compared year.
    pub year: u16,
    /// Persons assisted in the base year.
    pub assisted_base: u64,
    /// Persons assisted in the compared year.
    pub assisted: u64,
    /// Assisted persons no fewer than in the base year.
    pub assisted_kept: bool,
    /// Volume at base-year prices: Σp₀q₁ ÷ Σp₀q₀.
    pub quantity_index_laspeyres: Ratio,
    /// The volume index is at least 1.
    pub volume_kept: bool,
    /// Both kept.
    pub kept: bool,
}

/// One segment of the price-volume-mix split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// The segment.
    pub segment: String,
    /// Assisted persons in the base year.
    pub base_clients: u64,
    /// Their cost.
    pub base_cost: Money,
    /// Assisted persons in the compared year.
    pub clients: u64,
    /// Their cost.
    pub cost: Money,
}

/// The change in cost split into volume, mix and rate, in cents, adding up exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MixSplit {
    /// The segmentation.
    pub by: MixBy,
    /// The segments.
    pub segments: Vec<Segment>,
    /// Change in assisted persons × the base average cost per person.
    pub volume: Money,
    /// Shift between segments, at base segment costs (new segments at the base average).
    pub mix: Money,
    /// Change of cost per person within segments: the change less volume and mix.
    pub rate: Money,
    /// The rate effect with current costs in base-year prices (when deflators were given):
    /// the part of the rate not explained by general price change.
    pub rate_real: Option<Money>,
    /// volume + mix + rate = C₁ − C₀.
    pub total: Money,
}

/// One provider in a year's league table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeagueRow {
    /// The provider.
    pub provider: String,
    /// Persons assisted.
    pub assisted: u64,
    /// The provider's KPIs.
    pub kpis: KpiSet,
    /// Its cost per outcome.
    pub cost: CostPerOutcome,
    /// Its deliveries revalued at the reference table.
    pub reference_cost: Money,
    /// 100 × actual ÷ reference cost: above 100, dearer prices than the reference for the
    /// same volume and mix.
    pub reference_index: Ratio,
    /// 100 × cost per assisted person ÷ the median provider's.
    pub index_to_median: Ratio,
    /// Rank by cost per assisted person, cheapest first; equal values share a rank.
    pub rank: Option<u32>,
    /// Outside the Tukey fences of cost per assisted person.
    pub outlier: Option<Outlier>,
}

/// A year's league table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct League {
    /// The year.
    pub year: u16,
    /// The reference table, `id@version`.
    pub reference_table: String,
    /// The providers, by name.
    pub rows: Vec<LeagueRow>,
    /// Quartiles and fences of cost per assisted person over providers (type 7).
    pub spread: Option<Spread>,
    /// False with fewer than 8 providers: outlier flags are then unreliable; read the ratio to
    /// the median instead.
    pub flags_reliable: bool,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Comparison {
    /// The base year.
    pub base_year: u16,
    /// The compared year.
    pub year: u16,
    /// KPIs, both years: overall, per provider, per target group.
    pub kpis: Vec<KpiSet>,
    /// Cost per outcome, both years, same scopes.
    pub cost_per_outcome: Vec<CostPerOutcome>,
    /// Scope kept.
    pub scope: ScopeCheck,
    /// Price and quantity indices over elements.
    pub indices: Indices,
    /// Per-element flows behind the indices.
    pub elements: BTreeMap<String, ElementFlows>,
    /// Price and quantity effects.
    pub decomposition: Decomposition,
    /// Price-volume-mix over client segments.
    pub mix: MixSplit,
    /// League tables, base year and compared year.
    pub providers: Vec<League>,
    /// Things the reader should know (clients with outcomes never assisted, elements left out
    /// of the indices …).
    pub warnings: Vec<String>,
}

/// Per client and year: cost, staff hours and the elements delivered.
#[derive(Default)]
struct ClientYear {
    cost: Decimal,
    staff_cost: Decimal,
    staff_hours: Decimal,
    elements: BTreeSet<String>,
}

struct Facts<'a> {
    clients: &'a ClientRegister,
    /// (client, year) → what happened.
    by_client: HashMap<(ClientId, u16), ClientYear>,
    /// Years each client was active in.
    years: HashMap<ClientId, BTreeSet<u16>>,
    /// (household, year) → elements delivered to anyone in it.
    household_elements: HashMap<(ClientId, u16), BTreeSet<String>>,
}

/// Counters of one scope.
#[derive(Default, Clone)]
struct Tally {
    applicants: u64,
    assisted: u64,
    without_assessment: u64,
    with_assessment: u64,
    fully_served: u64,
    cooperating: u64,
    integrated: u64,
    cost: Decimal,
    staff_cost: Decimal,
    staff_hours: Decimal,
}

fn overflow(what: &str) -> Error {
    Error::Overflow {
        what: what.to_owned(),
    }
}

impl<'a> Facts<'a> {
    fn gather(valuation: &Valuation<'_>, clients: &'a ClientRegister) -> Result<Self> {
        let mut by_client: HashMap<(ClientId, u16), ClientYear> = HashMap::new();
        let mut years: HashMap<ClientId, BTreeSet<u16>> = HashMap::new();
        let mut household_elements: HashMap<(ClientId, u16), BTreeSet<String>> = HashMap::new();
        // Rows that are no real help (a quantity that is not positive, a unit that does not
        // match, an unknown element) count neither for activity nor as delivered. Rows valued,
        // or delivered but unpriced (no price, beyond a cap), count for both.
        let not_help: HashSet<u64> = valuation
            .rejections()
            .iter()
            .filter(|r| {
                !r.is_partial()
                    && !matches!(
                        r.reason(),
                        crate::RejectReason::NoPrice { .. } | crate::RejectReason::OverCap { .. }
                    )
            })
            .map(|r| r.row())
            .collect();
        for (i, d) in valuation.deliveries().iter().enumerate() {
            if clients.get(d.client().as_str()).is_none() || not_help.contains(&(i as u64 + 1)) {
                continue;
            }
            let y = d.date().year();
            years.entry(d.client().clone()).or_default().insert(y);
            let e = by_client.entry((d.client().clone(), y)).or_default();
            e.elements.insert(d.element().to_string());
            if let Some(h) = clients.household(d.client().as_str()) {
                household_elements
                    .entry((h.clone(), y))
                    .or_default()
                    .insert(d.element().to_string());
            }
        }
        for line in valuation.lines() {
            let Some(d) = valuation.delivery(line.row()) else {
                continue;
            };
            let Some(e) = by_client.get_mut(&(d.client().clone(), d.date().year())) else {
                continue;
            };
            let amount = line.amount().get();
            e.cost = e
                .cost
                .checked_add(amount)
                .ok_or_else(|| overflow("client cost"))?;
            if let Some(h) = d.staff_hours() {
                e.staff_cost = e
                    .staff_cost
                    .checked_add(amount)
                    .ok_or_else(|| overflow("staff cost"))?;
                e.staff_hours = e
                    .staff_hours
                    .checked_add(h.get())
                    .ok_or_else(|| overflow("staff hours"))?;
            }
        }
        Ok(Self {
            clients,
            by_client,
            years,
            household_elements,
        })
    }

    fn active_in(&self, c: &Client, year: u16) -> bool {
        match self.years.get(c.id()) {
            Some(ys) => ys.contains(&year),
            None => c.applied_on().year() == year,
        }
    }

    fn fully_served(&self, c: &Client, year: u16) -> Option<bool> {
        let needs = c.needs()?;
        let own = self
            .by_client
            .get(&(c.id().clone(), year))
            .map(|x| &x.elements);
        let household = self
            .clients
            .household(c.id().as_str())
            .and_then(|h| self.household_elements.get(&(h.clone(), year)));
        let is_child = c.age_band() == crate::AgeBand::Child;
        Some(needs.iter().all(|n| {
            own.is_some_and(|s| s.contains(n.as_str()))
                || (is_child && household.is_some_and(|s| s.contains(n.as_str())))
        }))
    }

    /// Tallies per scope key for `year`; `scope_of` gives the scopes a client counts in.
    fn tally(
        &self,
        year: u16,
        scope_of: impl Fn(&Client) -> Vec<String>,
    ) -> Result<BTreeMap<String, Tally>> {
        let mut out: BTreeMap<String, Tally> = BTreeMap::new();
        for c in self.clients.iter() {
            if !self.active_in(c, year) {
                continue;
            }
            for scope in scope_of(c) {
                let t = out.entry(scope).or_default();
                t.applicants += 1;
                if !c.is_assisted() {
                    continue;
                }
                t.assisted += 1;
                match self.fully_served(c, year) {
                    None => t.without_assessment += 1,
                    Some(full) => {
                        t.with_assessment += 1;
                        t.fully_served += u64::from(full);
                    }
                }
                t.cooperating += u64::from(c.cooperates());
                t.integrated += u64::from(!c.outcomes().is_empty());
                if let Some(x) = self.by_client.get(&(c.id().clone(), year)) {
                    t.cost = t.cost.checked_add(x.cost).ok_or_else(|| overflow("cost"))?;
                    t.staff_cost = t
                        .staff_cost
                        .checked_add(x.staff_cost)
                        .ok_or_else(|| overflow("cost"))?;
                    t.staff_hours = t
                        .staff_hours
                        .checked_add(x.staff_hours)
                        .ok_or_else(|| overflow("hours"))?;
                }
            }
        }
        Ok(out)
    }

    fn client_cost(&self, c: &Client, year: u16) -> Decimal {
        self.by_client
            .get(&(c.id().clone(), year))
            .map_or(Decimal::ZERO, |x| x.cost)
    }
}

fn kpi_set(year: u16, scope: &str, t: &Tally) -> KpiSet {
    KpiSet {
        year,
        scope: scope.to_owned(),
        applicants: t.applicants,
        assisted: t.assisted,
        without_assessment: t.without_assessment,
        k1_coverage: Kpi::new(t.assisted, t.applicants),
        k2_fully_served: Kpi::new(t.fully_served, t.with_assessment),
        k3_law_enforcement: Kpi::new(t.cooperating, t.assisted),
        k4_integration: Kpi::new(t.integrated, t.assisted),
    }
}

fn cost_per_outcome(
    year: u16,
    scope: &str,
    t: &Tally,
    factor: Option<Decimal>,
) -> Result<CostPerOutcome> {
    let per = |cost: Decimal, n: u64| Ratio::of(cost, Decimal::from(n));
    let real = factor
        .map(|f| {
            t.cost
                .checked_mul(f)
                .map(|c| (f, c))
                .ok_or_else(|| overflow("cost in base-year prices"))
        })
        .transpose()?
        .map(|(f, real_cost)| RealCosts {
            factor: Ratio::new(f),
            total_cost: Money::new(crate::Rounding::HalfUp.apply(real_cost, 2)),
            per_assisted: per(real_cost, t.assisted),
            per_fully_served: per(real_cost, t.fully_served),
            per_cooperating: per(real_cost, t.cooperating),
            per_integrated: per(real_cost, t.integrated),
        });
    Ok(CostPerOutcome {
        year,
        scope: scope.to_owned(),
        total_cost: Money::new(t.cost),
        per_assisted: per(t.cost, t.assisted),
        per_fully_served: per(t.cost, t.fully_served),
        per_cooperating: per(t.cost, t.cooperating),
        per_integrated: per(t.cost, t.integrated),
        per_staff_hour: Ratio::of(t.staff_cost, t.staff_hours),
        real,
    })
}

fn scopes(c: &Client) -> Vec<String> {
    vec![
        "overall".to_owned(),
        format!("provider:{}", c.provider()),
        format!(
            "target_group:{}",
            c.primary_group().map_or("(none)", |g| g.as_str())
        ),
    ]
}

/// A client's most advanced outcome, whatever order the register lists them in: working, then
/// studying, then family relations, then social life.
fn most_advanced_outcome(c: &Client) -> Option<crate::Outcome> {
    use crate::Outcome::{Family, SocialLife, Studying, Working};
    [Working, Studying, Family, SocialLife]
        .into_iter()
        .find(|o| c.outcomes().contains(o))
}

fn segment_of(c: &Client, by: MixBy) -> String {
    match by {
        MixBy::Outcome => most_advanced_outcome(c)
            .map_or("none", |o| o.as_str())
            .to_owned(),
        MixBy::TargetGroup => c
            .primary_group()
            .map_or("(none)", |g| g.as_str())
            .to_owned(),
        MixBy::Provider => c.provider().to_string(),
    }
}

/// A representative unit price of a row (flat price, first tier, or 1 for pass-through).
fn list_price(rule: &PriceRule) -> Option<Decimal> {
    match rule {
        PriceRule::Flat(p) => Some(p.get()),
        PriceRule::Tiered(t) => t.first().map(|x| x.unit_price().get()),
        PriceRule::PassThrough => Some(Decimal::ONE),
    }
}

fn element_flows(
    valuation: &Valuation<'_>,
    cx: CompareContext<'_>,
    base: u16,
    year: u16,
    warnings: &mut Vec<String>,
) -> Result<BTreeMap<String, ElementFlows>> {
    let mut flows: BTreeMap<String, ElementFlows> = BTreeMap::new();
    for line in valuation.lines() {
        let Some(d) = valuation.delivery(line.row()) else {
            continue;
        };
        let y = d.date().year();
        if y != base && y != year {
            continue;
        }
        let f = flows.entry(d.element().to_string()).or_default();
        let (q, c) = if y == base {
            (&mut f.q0, &mut f.c0)
        } else {
            (&mut f.q1, &mut f.c1)
        };
        *q = q
            .checked_add(line.billed_quantity().get())
            .ok_or_else(|| overflow("quantity"))?;
        *c = c
            .checked_add(line.amount().get())
            .ok_or_else(|| overflow("cost"))?;
    }
    let mut left_out = Vec::new();
    for (code, f) in flows.iter_mut() {
        let table_price = |y: u16| -> Option<Decimal> {
            let idx = cx.catalog.index_of(code)?;
            let date = Date::new(y, 7, 1).ok()?;
            let hit = cx.book.lookup(idx, "", date)?;
            list_price(cx.book.row(hit).rule())
        };
        let p0 = if f.q0.is_zero() {
            table_price(base)
        } else {
            f.c0.checked_div(f.q0)
        };
        let p1 = if f.q1.is_zero() {
            table_price(year)
        } else {
            f.c1.checked_div(f.q1)
        };
        match (p0, p1) {
            (Some(p0), Some(p1)) => {
                f.p0 = p0;
                f.p1 = p1;
            }
            _ => left_out.push(code.clone()),
        }
    }
    for code in left_out {
        flows.remove(&code);
        warnings.push(format!(
            "element {code} is left out of the indices: it has no price in one of the two years"
        ));
    }
    Ok(flows)
}

fn mix_split(
    facts: &Facts<'_>,
    by: MixBy,
    base: u16,
    year: u16,
    factor: Option<Decimal>,
) -> Result<MixSplit> {
    #[derive(Default)]
    struct Seg {
        n0: u64,
        c0: Decimal,
        n1: u64,
        c1: Decimal,
    }
    let mut segs: BTreeMap<String, Seg> = BTreeMap::new();
    for c in facts.clients.iter().filter(|c| c.is_assisted()) {
        for (y, is_base) in [(base, true), (year, false)] {
            if !facts.active_in(c, y) {
                continue;
            }
            let s = segs.entry(segment_of(c, by)).or_default();
            let cost = facts.client_cost(c, y);
            if is_base {
                s.n0 += 1;
                s.c0 = s.c0.checked_add(cost).ok_or_else(|| overflow("mix"))?;
            } else {
                s.n1 += 1;
                s.c1 = s.c1.checked_add(cost).ok_or_else(|| overflow("mix"))?;
            }
        }
    }
    let (n0, c0, n1, c1) = segs.values().fold(
        (0u64, Decimal::ZERO, 0u64, Decimal::ZERO),
        |(a, b, c, d), s| (a + s.n0, b + s.c0, c + s.n1, d + s.c1),
    );
    let avg0 = Ratio::of(c0, Decimal::from(n0))
        .value()
        .unwrap_or(Decimal::ZERO);
    // X = Σ n1_s · a0_s, with a0_s the base segment average (the base overall average for a
    // segment new in the compared year).
    let mut x = Decimal::ZERO;
    for s in segs.values() {
        let a0 = Ratio::of(s.c0, Decimal::from(s.n0)).value().unwrap_or(avg0);
        x = x
            .checked_add(
                Decimal::from(s.n1)
                    .checked_mul(a0)
                    .ok_or_else(|| overflow("mix"))?,
            )
            .ok_or_else(|| overflow("mix"))?;
    }
    let n1a0 = Decimal::from(n1)
        .checked_mul(avg0)
        .ok_or_else(|| overflow("mix"))?;
    let change = c1 - c0;
    let cents = |v: Decimal| crate::Rounding::HalfUp.apply(v, 2);
    let volume = cents(n1a0 - c0);
    let mix = cents(x - n1a0);
    let rate = change - volume - mix;
    let rate_real = factor
        .and_then(|f| c1.checked_mul(f))
        .map(|c1r| Money::new(cents(c1r - x)));
    Ok(MixSplit {
        by,
        segments: segs
            .into_iter()
            .map(|(segment, s)| Segment {
                segment,
                base_clients: s.n0,
                base_cost: Money::new(s.c0),
                clients: s.n1,
                cost: Money::new(s.c1),
            })
            .collect(),
        volume: Money::new(volume),
        mix: Money::new(mix),
        rate: Money::new(rate),
        rate_real,
        total: Money::new(change),
    })
}

fn reference_table<'b>(
    book: &'b PriceBook,
    spec: Option<&str>,
    year: u16,
) -> Result<&'b PricingTable> {
    let national = |t: &&PricingTable| matches!(t.scope(), crate::Scope::National);
    let found = match spec {
        None => {
            let mid = Date::new(year, 7, 1)?;
            book.tables()
                .iter()
                .filter(national)
                .find(|t| t.covers(mid))
        }
        Some(s) => match s.split_once('@') {
            Some((id, version)) => book
                .tables()
                .iter()
                .find(|t| t.id().as_str() == id && t.version() == version),
            None => {
                let mid = Date::new(year, 7, 1)?;
                let same: Vec<&PricingTable> = book
                    .tables()
                    .iter()
                    .filter(|t| t.id().as_str() == s)
                    .collect();
                same.iter()
                    .copied()
                    .find(|t| t.covers(mid))
                    .or(same.last().copied())
            }
        },
    };
    found.ok_or_else(|| Error::Parse {
        what: "reference table",
        value: spec.map_or_else(|| format!("(national table of {year})"), str::to_owned),
        reason: format!(
            "no such table; loaded: {}",
            book.tables()
                .iter()
                .map(|t| format!("{}@{}", t.id(), t.version()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

/// Revalues the valued rows at the reference table; per (provider, year), the reference cost.
fn reference_costs(
    valuation: &Valuation<'_>,
    cx: CompareContext<'_>,
    table: &PricingTable,
    years: &[u16],
) -> Result<HashMap<(String, u16), Decimal>> {
    // The same lines as the actual costs of the league: valued lines of assisted clients.
    let deliveries: Vec<crate::Delivery> = valuation
        .lines()
        .iter()
        .filter_map(|l| valuation.delivery(l.row()))
        .filter(|d| years.contains(&d.date().year()))
        .filter(|d| {
            cx.clients
                .get(d.client().as_str())
                .is_some_and(Client::is_assisted)
        })
        .cloned()
        .collect();
    let book = PriceBook::new(cx.catalog, vec![table.as_reference()])?;
    let revalued = value(
        &deliveries,
        Context {
            catalog: cx.catalog,
            book: &book,
            clients: None,
        },
        ValuationOptions::default(),
    )?;
    let missing: BTreeSet<String> = revalued
        .rejections()
        .iter()
        .filter(|r| matches!(r.reason(), crate::RejectReason::NoPrice { .. }))
        .filter_map(|r| revalued.delivery(r.row()))
        .map(|d| d.element().to_string())
        .collect();
    if !missing.is_empty() {
        return Err(Error::ReferenceIncomplete {
            table: format!("{}@{}", table.id(), table.version()),
            elements: missing.into_iter().collect::<Vec<_>>().join(", "),
        });
    }
    let mut out: HashMap<(String, u16), Decimal> = HashMap::new();
    for v in revalued.views(&book) {
        let provider = cx.clients.get(v.delivery.client().as_str()).map_or_else(
            || v.delivery.provider().to_string(),
            |c| c.provider().to_string(),
        );
        let e = out.entry((provider, v.delivery.date().year())).or_default();
        *e = e
            .checked_add(v.line.amount().get())
            .ok_or_else(|| overflow("reference cost"))?;
    }
    Ok(out)
}

/// Competition ranking ("1224") of values, lowest first; undefined values get no rank.
fn ranks(values: &[Ratio]) -> Vec<Option<u32>> {
    values
        .iter()
        .map(|v| {
            let x = v.value()?;
            let below = values
                .iter()
                .filter(|o| o.value().is_some_and(|y| y < x))
                .count();
            Some(below as u32 + 1)
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn league(
    year: u16,
    facts: &Facts<'_>,
    reference: &HashMap<(String, u16), Decimal>,
    reference_name: &str,
    factor: Option<Decimal>,
) -> Result<League> {
    let tallies = facts.tally(year, |c| vec![c.provider().to_string()])?;
    let per_assisted: Vec<Ratio> = tallies
        .values()
        .map(|t| Ratio::of(t.cost, Decimal::from(t.assisted)))
        .collect();
    let defined: Vec<Decimal> = per_assisted.iter().filter_map(|r| r.value()).collect();
    let spread = Spread::of(&defined);
    let rank = ranks(&per_assisted);
    let rows = tallies
        .iter()
        .zip(per_assisted.iter().zip(rank))
        .map(|((provider, t), (pa, rank))| {
            let reference_cost = reference
                .get(&(provider.clone(), year))
                .copied()
                .unwrap_or(Decimal::ZERO);
            Ok(LeagueRow {
                provider: provider.clone(),
                assisted: t.assisted,
                kpis: kpi_set(year, &format!("provider:{provider}"), t),
                cost: cost_per_outcome(year, &format!("provider:{provider}"), t, factor)?,
                reference_cost: Money::new(reference_cost),
                reference_index: Ratio::of(t.cost, reference_cost).percent(),
                index_to_median: match (pa.value(), spread) {
                    (Some(v), Some(s)) => Ratio::of(v, s.median).percent(),
                    _ => Ratio::NOT_DEFINED,
                },
                rank,
                outlier: match (pa.value(), spread) {
                    (Some(v), Some(s)) => s.outlier(v),
                    _ => None,
                },
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(League {
        year,
        reference_table: reference_name.to_owned(),
        rows,
        spread,
        flags_reliable: defined.len() >= 8,
    })
}

/// Compares `year` with the base year. `valuation` must have been made with `cx.book` and
/// the register `cx.clients`.
///
/// # Errors
///
/// [`Error::NoData`] when the base or compared year has no valued line;
/// [`Error::Parse`] for a deflator missing a needed year or an unknown reference table;
/// [`Error::ReferenceIncomplete`] when the reference table does not price an element in use;
/// [`Error::Overflow`] if a sum leaves the decimal range.
pub fn compare(
    valuation: &Valuation<'_>,
    cx: CompareContext<'_>,
    options: &CompareOptions,
) -> Result<Comparison> {
    let valued_years: BTreeSet<u16> = valuation
        .lines()
        .iter()
        .filter_map(|l| valuation.delivery(l.row()))
        .map(|d| d.date().year())
        .collect();
    let base = options.base_year;
    if !valued_years.contains(&base) {
        return Err(Error::NoData { year: base });
    }
    let year = match options.year {
        Some(y) => y,
        None => valued_years.last().copied().unwrap_or(base),
    };
    if !valued_years.contains(&year) {
        return Err(Error::NoData { year });
    }
    if year == base {
        return Err(Error::Parse {
            what: "comparison years",
            value: format!("{year} against {base}"),
            reason: "the compared year is the base year; choose another --year or --base-year"
                .to_owned(),
        });
    }
    let factor_of = |y: u16| -> Result<Option<Decimal>> {
        options
            .deflators
            .as_ref()
            .map(|d| d.factor(y, base))
            .transpose()
    };
    let factors = [(base, factor_of(base)?), (year, factor_of(year)?)];

    let facts = Facts::gather(valuation, cx.clients)?;
    let mut warnings = Vec::new();
    let touched: HashSet<&ClientId> = facts.years.keys().collect();
    for c in cx.clients.iter() {
        if !c.is_assisted() && !c.outcomes().is_empty() {
            warnings.push(format!(
                "client {} has outcomes recorded but was never assisted; the outcomes are not counted",
                c.id()
            ));
        }
        if !c.is_assisted() && touched.contains(c.id()) {
            warnings.push(format!(
                "client {} has deliveries but is not marked assisted; counted as an applicant only",
                c.id()
            ));
        }
    }

    let mut kpis = Vec::new();
    let mut costs = Vec::new();
    let mut assisted = [0u64; 2];
    for (i, (y, factor)) in factors.iter().enumerate() {
        let tallies = facts.tally(*y, scopes)?;
        for (scope, t) in &tallies {
            kpis.push(kpi_set(*y, scope, t));
            costs.push(cost_per_outcome(*y, scope, t, *factor)?);
        }
        assisted[i] = tallies.get("overall").map_or(0, |t| t.assisted);
        if base == year {
            assisted[1] = assisted[0];
            break;
        }
    }

    let elements = element_flows(valuation, cx, base, year, &mut warnings)?;
    let idx = indices(&elements);
    let decomposition = decompose(&elements).ok_or_else(|| overflow("decomposition"))?;
    let ql = idx.laspeyres_quantity;
    let volume_kept = ql.value().is_some_and(|v| v >= Decimal::ONE);
    let scope = ScopeCheck {
        base_year: base,
        year,
        assisted_base: assisted[0],
        assisted: assisted[1],
        assisted_kept: assisted[1] >= assisted[0],
        quantity_index_laspeyres: ql,
        volume_kept,
        kept: assisted[1] >= assisted[0] && volume_kept,
    };
    let mix = mix_split(&facts, options.mix_by, base, year, factors[1].1)?;

    let reference = reference_table(cx.book, options.reference_table.as_deref(), year)?;
    let reference_name = format!("{}@{}", reference.id(), reference.version());
    let ref_costs = reference_costs(valuation, cx, reference, &[base, year])?;
    let mut providers = vec![league(
        base,
        &facts,
        &ref_costs,
        &reference_name,
        factors[0].1,
    )?];
    if year != base {
        providers.push(league(
            year,
            &facts,
            &ref_costs,
            &reference_name,
            factors[1].1,
        )?);
    }

    Ok(Comparison {
        base_year: base,
        year,
        kpis,
        cost_per_outcome: costs,
        scope,
        indices: idx,
        elements,
        decomposition,
        mix,
        providers,
        warnings,
    })
}

#[cfg(test)]
mod tests;
