//! The TOML format of derivations: private raw structs and their checked conversion into the
//! specifications that `mod.rs` computes.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{
    compute_capacity, compute_element, compute_role, ActivitySpec, AmountOrRate, CapacitySpec,
    Derivations, ElementSpec, FlatRate, Given, Rate, Regulation, RoleSpec, StaffBasis, StaffSpec,
    TermSpec, TimeSpec,
};
use crate::catalog::{reason_of, Catalog, Unit};
use crate::error::{Error, Result};
use crate::id::ElementCode;
use crate::money::{parse_decimal, Money, Quantity, Rounding};
use crate::pricing::RoundingPolicy;
use crate::span::{invalid, locate, toml_error};

type S = Spanned<String>;

/// Makes a flat-rate option of a rate.
type MakeFlatRate = fn(Rate) -> FlatRate;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    schema: Spanned<u32>,
    id: S,
    #[serde(default)]
    version: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    regulation: Option<S>,
    #[serde(default)]
    rounding: Option<RawRounding>,
    #[serde(default)]
    role: Vec<Spanned<RawRole>>,
    #[serde(default)]
    element: Vec<Spanned<RawElement>>,
    #[serde(default)]
    capacity: Vec<Spanned<RawCapacity>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRounding {
    #[serde(default)]
    mode: Option<S>,
    #[serde(default)]
    decimals: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    name: S,
    annual_salary: S,
    #[serde(default)]
    on_costs: Option<S>,
    #[serde(default)]
    on_cost_rate: Option<S>,
    #[serde(default)]
    qualifications: Option<S>,
    #[serde(default)]
    direct_overheads: Option<S>,
    #[serde(default)]
    direct_overhead_rate: Option<S>,
    #[serde(default)]
    indirect_overheads: Option<S>,
    #[serde(default)]
    indirect_overhead_rate: Option<S>,
    #[serde(default)]
    capital: Option<S>,
    #[serde(default)]
    annual_hours: Option<S>,
    #[serde(default)]
    hours_rule: Option<S>,
    #[serde(default)]
    contact_ratio: Option<S>,
    #[serde(default)]
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawElement {
    #[serde(default)]
    name: Option<S>,
    code: S,
    unit: S,
    #[serde(default)]
    staff: Vec<RawStaff>,
    #[serde(default)]
    materials: Option<S>,
    #[serde(default)]
    pass_through: Option<S>,
    #[serde(default)]
    flat_rate: Option<Spanned<RawFlatRate>>,
    #[serde(default)]
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStaff {
    role: S,
    minutes: S,
    #[serde(default)]
    basis: Option<S>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlatRate {
    #[serde(default)]
    indirect_of_staff: Option<S>,
    #[serde(default)]
    indirect_of_direct: Option<S>,
    #[serde(default)]
    remaining_of_staff: Option<S>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCapacity {
    name: S,
    cost: S,
    practical_minutes: S,
    #[serde(default)]
    source: String,
    #[serde(default)]
    activity: Vec<RawActivity>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawActivity {
    name: S,
    #[serde(default)]
    minutes: Option<S>,
    #[serde(default)]
    time_equation: Option<Spanned<RawEquation>>,
    volume: S,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEquation {
    base: S,
    #[serde(default)]
    terms: Vec<RawTerm>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTerm {
    driver: S,
    minutes: S,
    frequency: S,
}

/// Which values a number may take.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sign {
    /// Greater than zero.
    Positive,
    /// Zero or more.
    NonNegative,
}

struct Ctx<'a> {
    origin: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    fn at(&self, span: std::ops::Range<usize>, field: &str, msg: impl Into<String>) -> Error {
        invalid(self.origin, self.text, span, field, msg)
    }

    /// An overflow in computing `kind` `name` (whose section is at `span`) as an error there,
    /// naming the field that drove it.
    fn overflowed(&self, e: Error, span: std::ops::Range<usize>, kind: &str, name: &str) -> Error {
        match e {
            Error::Overflow { what: field } => self.at(
                span,
                &field,
                format!("{kind} `{name}`: a figure computed from it leaves the decimal range"),
            ),
            other => other,
        }
    }

    /// Where `s` is written, and the section's source note if any: `file:line (note)`.
    fn source(&self, s: &S, note: &str) -> String {
        let loc = locate(self.origin, self.text, s.span().start);
        let at = format!("{}:{}", loc.path().display(), loc.line());
        if note.is_empty() {
            at
        } else {
            format!("{at} ({note})")
        }
    }

    fn decimal(&self, s: &S, field: &str, sign: Sign) -> Result<rust_decimal::Decimal> {
        let d = parse_decimal("number", s.get_ref())
            .map_err(|e| self.at(s.span(), field, reason_of(&e)))?;
        match sign {
            Sign::Positive if d <= rust_decimal::Decimal::ZERO => {
                Err(self.at(s.span(), field, format!("`{d}` must be greater than zero")))
            }
            Sign::NonNegative if d < rust_decimal::Decimal::ZERO => {
                Err(self.at(s.span(), field, format!("`{d}` may not be negative")))
            }
            _ => Ok(d),
        }
    }

    fn money(&self, s: &S, field: &str, sign: Sign, note: &str) -> Result<Given<Money>> {
        Ok(Given {
            value: Money::new(self.decimal(s, field, sign)?),
            source: self.source(s, note),
        })
    }

    fn quantity(&self, s: &S, field: &str, sign: Sign, note: &str) -> Result<Given<Quantity>> {
        Ok(Given {
            value: Quantity::new(self.decimal(s, field, sign)?),
            source: self.source(s, note),
        })
    }

    fn rate(&self, s: &S, field: &str, note: &str) -> Result<Given<Rate>> {
        Ok(Given {
            value: Rate::new(self.decimal(s, field, Sign::NonNegative)?),
            source: self.source(s, note),
        })
    }

    /// A cost given as an amount (`amount_field`) or a rate (`rate_field`), not both.
    fn amount_or_rate(
        &self,
        amount: Option<&S>,
        rate: Option<&S>,
        amount_field: &str,
        rate_field: &str,
        note: &str,
    ) -> Result<Option<AmountOrRate>> {
        match (amount, rate) {
            (Some(_), Some(r)) => Err(self.at(
                r.span(),
                rate_field,
                format!("give {amount_field} or {rate_field}, not both"),
            )),
            (Some(a), None) => Ok(Some(AmountOrRate::Amount(self.money(
                a,
                amount_field,
                Sign::NonNegative,
                note,
            )?))),
            (None, Some(r)) => Ok(Some(AmountOrRate::Rate(self.rate(r, rate_field, note)?))),
            (None, None) => Ok(None),
        }
    }

    /// A name: non-empty and not seen before in `seen`.
    fn name(&self, s: &S, field: &str, kind: &str, seen: &mut BTreeSet<String>) -> Result<String> {
        let name = s.get_ref().trim();
        if name.is_empty() {
            return Err(self.at(s.span(), field, format!("a {kind} needs a name")));
        }
        if !seen.insert(name.to_owned()) {
            return Err(self.at(s.span(), field, format!("{kind} `{name}` is defined twice")));
        }
        Ok(name.to_owned())
    }
}

pub(super) fn parse(text: &str, origin: &Path, catalog: &Catalog) -> Result<Derivations> {
    let raw: RawFile = toml::from_str(text).map_err(|e| toml_error(origin, text, &e))?;
    let cx = Ctx { origin, text };
    crate::span::check_schema(origin, text, &raw.schema)?;
    let id = raw.id.get_ref().trim().to_owned();
    if id.is_empty() {
        return Err(cx.at(raw.id.span(), "id", "the file needs an id"));
    }
    let regulation = raw
        .regulation
        .as_ref()
        .map(|r| {
            r.get_ref()
                .parse::<Regulation>()
                .map_err(|e| cx.at(r.span(), "regulation", reason_of(&e)))
        })
        .transpose()?;
    let rounding = rounding_policy(&cx, raw.rounding.as_ref())?;

    let mut roles = Vec::with_capacity(raw.role.len());
    let mut seen = BTreeSet::new();
    for spanned in &raw.role {
        let r = spanned.get_ref();
        let spec = role_spec(&cx, r, spanned.span(), &mut seen)?;
        roles.push(
            compute_role(&spec, rounding)
                .map_err(|e| cx.overflowed(e, spanned.span(), "role", &spec.name))?,
        );
    }

    let mut elements = Vec::with_capacity(raw.element.len());
    let mut seen = BTreeSet::new();
    for spanned in &raw.element {
        let e = spanned.get_ref();
        let spec = element_spec(&cx, e, catalog, &roles, regulation, &mut seen)?;
        elements.push(
            compute_element(&spec, regulation, rounding)
                .map_err(|e| cx.overflowed(e, spanned.span(), "element derivation", &spec.name))?,
        );
    }

    let mut capacities = Vec::with_capacity(raw.capacity.len());
    let mut seen = BTreeSet::new();
    for spanned in &raw.capacity {
        let c = spanned.get_ref();
        let spec = capacity_spec(&cx, c, &mut seen)?;
        let computed = compute_capacity(&spec, rounding)
            .map_err(|e| cx.overflowed(e, spanned.span(), "capacity", &spec.name))?;
        if computed.used_minutes() > computed.practical_minutes() {
            return Err(cx.at(
                c.practical_minutes.span(),
                "practical_minutes",
                format!(
                    "capacity `{}`: the activities use {} minutes, more than the practical capacity of {}",
                    spec.name,
                    computed.used_minutes(),
                    computed.practical_minutes()
                ),
            ));
        }
        capacities.push(computed);
    }

    Ok(Derivations {
        id,
        version: raw.version,
        source: raw.source,
        regulation,
        rounding,
        roles,
        elements,
        capacities,
        origin: origin.to_owned(),
        sha256: crate::pricing::sha256_hex(text.as_bytes()),
    })
}

fn rounding_policy(cx: &Ctx<'_>, raw: Option<&RawRounding>) -> Result<RoundingPolicy> {
    let mut mode = Rounding::HalfUp;
    let mut decimals = 2;
    if let Some(r) = raw {
        if let Some(m) = &r.mode {
            mode = m
                .get_ref()
                .parse()
                .map_err(|e| cx.at(m.span(), "rounding.mode", reason_of(&e)))?;
        }
        if let Some(dp) = &r.decimals {
            decimals = *dp.get_ref();
            if decimals > 6 {
                return Err(cx.at(dp.span(), "rounding.decimals", "at most 6 decimals"));
            }
        }
    }
    RoundingPolicy::new(mode, decimals)
}

fn role_spec(
    cx: &Ctx<'_>,
    r: &RawRole,
    span: std::ops::Range<usize>,
    seen: &mut BTreeSet<String>,
) -> Result<RoleSpec> {
    let name = cx.name(&r.name, "name", "role", seen)?;
    let note = r.source.as_str();
    let salary = cx.money(&r.annual_salary, "annual_salary", Sign::Positive, note)?;
    let on_costs = cx.amount_or_rate(
        r.on_costs.as_ref(),
        r.on_cost_rate.as_ref(),
        "on_costs",
        "on_cost_rate",
        note,
    )?;
    let direct_overheads = cx.amount_or_rate(
        r.direct_overheads.as_ref(),
        r.direct_overhead_rate.as_ref(),
        "direct_overheads",
        "direct_overhead_rate",
        note,
    )?;
    let indirect_overheads = cx.amount_or_rate(
        r.indirect_overheads.as_ref(),
        r.indirect_overhead_rate.as_ref(),
        "indirect_overheads",
        "indirect_overhead_rate",
        note,
    )?;
    let qualifications = r
        .qualifications
        .as_ref()
        .map(|s| cx.money(s, "qualifications", Sign::NonNegative, note))
        .transpose()?;
    let capital = r
        .capital
        .as_ref()
        .map(|s| cx.money(s, "capital", Sign::NonNegative, note))
        .transpose()?;
    let annual_hours = match (&r.annual_hours, &r.hours_rule) {
        (Some(h), None) => Some(cx.quantity(h, "annual_hours", Sign::Positive, note)?),
        (None, Some(rule)) if rule.get_ref() == "esf_1720" => None,
        (None, Some(rule)) => {
            return Err(cx.at(
                rule.span(),
                "hours_rule",
                format!(
                    "`{}`: the only rule is \"esf_1720\" (1,720 hours: Reg. 1303/2013 art. 68a(2); CPR Reg. 2021/1060 art. 55(2))",
                    rule.get_ref()
                ),
            ))
        }
        (Some(_), Some(rule)) => {
            return Err(cx.at(
                rule.span(),
                "hours_rule",
                "give annual_hours or hours_rule, not both",
            ))
        }
        (None, None) => {
            return Err(cx.at(
                span,
                "annual_hours",
                format!(
                    "role `{name}` has no working time: give annual_hours = \"…\" or hours_rule = \"esf_1720\""
                ),
            ))
        }
    };
    let contact_ratio = r
        .contact_ratio
        .as_ref()
        .map(|s| cx.rate(s, "contact_ratio", note))
        .transpose()?;
    Ok(RoleSpec {
        name,
        salary,
        on_costs,
        qualifications,
        direct_overheads,
        indirect_overheads,
        capital,
        annual_hours,
        contact_ratio,
    })
}

fn element_spec(
    cx: &Ctx<'_>,
    e: &RawElement,
    catalog: &Catalog,
    roles: &[super::RoleCost],
    regulation: Option<Regulation>,
    seen: &mut BTreeSet<String>,
) -> Result<ElementSpec> {
    let code = ElementCode::new(e.code.get_ref())
        .map_err(|err| cx.at(e.code.span(), "code", reason_of(&err)))?;
    let Some(element) = catalog.get(code.as_str()) else {
        return Err(cx.at(
            e.code.span(),
            "code",
            format!("unknown element `{code}`: the catalog has no such code"),
        ));
    };
    let unit: Unit = e
        .unit
        .get_ref()
        .parse()
        .map_err(|err| cx.at(e.unit.span(), "unit", reason_of(&err)))?;
    if unit != element.unit() {
        return Err(cx.at(
            e.unit.span(),
            "unit",
            format!(
                "element `{code}` is counted in {} in the catalog, not {unit}",
                element.unit()
            ),
        ));
    }
    if unit == Unit::Eur {
        return Err(cx.at(
            e.unit.span(),
            "unit",
            format!(
                "element `{code}` is a pass-through euro amount: there is no unit price to derive"
            ),
        ));
    }
    let name = match &e.name {
        Some(n) => cx.name(n, "name", "element derivation", seen)?,
        None => {
            let spanned = Spanned::new(e.code.span(), code.to_string());
            cx.name(&spanned, "code", "element derivation", seen)?
        }
    };
    let note = e.source.as_str();
    let mut staff = Vec::with_capacity(e.staff.len());
    for s in &e.staff {
        let role_name = s.role.get_ref().as_str();
        let Some(role) = roles.iter().find(|r| r.name() == role_name) else {
            return Err(cx.at(
                s.role.span(),
                "staff.role",
                format!("unknown role `{role_name}`: declare it in a [[role]] above"),
            ));
        };
        let minutes = cx.quantity(&s.minutes, "staff.minutes", Sign::Positive, note)?;
        let basis = match &s.basis {
            None => StaffBasis::WorkingHour,
            Some(b) => b
                .get_ref()
                .parse()
                .map_err(|err| cx.at(b.span(), "staff.basis", reason_of(&err)))?,
        };
        let rate = match basis {
            StaffBasis::WorkingHour => role.cost_per_hour(),
            StaffBasis::ContactHour => match role.cost_per_contact_hour() {
                Some(r) => r,
                None => {
                    return Err(cx.at(
                        s.basis.as_ref().map_or(s.role.span(), |b| b.span()),
                        "staff.basis",
                        format!(
                        "role `{role_name}` declares no contact_ratio: no cost per contact hour"
                    ),
                    ))
                }
            },
        };
        staff.push(StaffSpec {
            role: role_name.to_owned(),
            minutes,
            basis,
            rate,
        });
    }
    let materials = e
        .materials
        .as_ref()
        .map(|s| cx.money(s, "materials", Sign::NonNegative, note))
        .transpose()?;
    let pass_through = e
        .pass_through
        .as_ref()
        .map(|s| cx.money(s, "pass_through", Sign::NonNegative, note))
        .transpose()?;
    if staff.is_empty() && materials.is_none() && pass_through.is_none() {
        return Err(cx.at(
            e.code.span(),
            "staff",
            format!("element derivation `{name}` has no staff time, materials or pass_through"),
        ));
    }
    let flat_rate = e
        .flat_rate
        .as_ref()
        .map(|f| flat_rate(cx, f, regulation, materials.is_some(), note))
        .transpose()?;
    Ok(ElementSpec {
        name,
        code,
        unit,
        staff,
        materials,
        pass_through,
        flat_rate,
    })
}

fn flat_rate(
    cx: &Ctx<'_>,
    f: &Spanned<RawFlatRate>,
    regulation: Option<Regulation>,
    has_materials: bool,
    note: &str,
) -> Result<Given<FlatRate>> {
    let raw = f.get_ref();
    let given: Vec<(&S, MakeFlatRate)> = [
        (
            raw.indirect_of_staff.as_ref(),
            FlatRate::IndirectOfStaff as MakeFlatRate,
        ),
        (raw.indirect_of_direct.as_ref(), FlatRate::IndirectOfDirect),
        (raw.remaining_of_staff.as_ref(), FlatRate::RemainingOfStaff),
    ]
    .into_iter()
    .filter_map(|(s, make)| s.map(|s| (s, make)))
    .collect();
    let (s, make) = match given.as_slice() {
        [] => {
            return Err(cx.at(
                f.span(),
                "flat_rate",
                "declare one of indirect_of_staff, indirect_of_direct, remaining_of_staff",
            ))
        }
        [one] => *one,
        [_, second, ..] => {
            let field = format!("flat_rate.{}", second.1(Rate::ZERO).key());
            let message = if raw.remaining_of_staff.is_some() {
                "remaining costs at a flat rate of direct staff costs (Reg. 1303/2013 art. 68b; CPR Reg. 2021/1060 art. 56) cover indirect costs too: declare one flat rate, not both"
            } else {
                "one indirect cost rate only: indirect costs at a flat rate of direct staff costs (Reg. 1303/2013 art. 68(1)(b); CPR Reg. 2021/1060 art. 54(b)) or of direct costs (CPR Reg. 2021/1060 art. 54(a)), not both"
            };
            return Err(cx.at(second.0.span(), &field, message));
        }
    };
    let rate = cx.rate(s, "flat_rate", note)?;
    let option = make(rate.value);
    let field = format!("flat_rate.{}", option.key());
    if rate.value > option.ceiling() {
        return Err(cx.at(
            s.span(),
            &field,
            format!(
                "{} is above the ceiling of {} ({}%) set by {}",
                rate.value,
                option.ceiling(),
                option.ceiling().get() * rust_decimal::Decimal::ONE_HUNDRED,
                option.article(regulation)
            ),
        ));
    }
    if matches!(option, FlatRate::IndirectOfDirect(_)) && regulation == Some(Regulation::Reg1303) {
        return Err(cx.at(
            s.span(),
            &field,
            "Reg. 1303/2013 art. 68 sets indirect costs on direct staff costs (indirect_of_staff); a rate on direct costs is CPR Reg. 2021/1060 art. 54(a)",
        ));
    }
    if matches!(option, FlatRate::RemainingOfStaff(_)) && has_materials {
        return Err(cx.at(
            s.span(),
            &field,
            format!(
                "remaining costs at a flat rate ({}) cover all costs other than staff: drop materials",
                option.article(regulation)
            ),
        ));
    }
    Ok(Given {
        value: option,
        source: rate.source,
    })
}

fn capacity_spec(
    cx: &Ctx<'_>,
    c: &RawCapacity,
    seen: &mut BTreeSet<String>,
) -> Result<CapacitySpec> {
    let name = cx.name(&c.name, "name", "capacity", seen)?;
    let note = c.source.as_str();
    let cost = cx.money(&c.cost, "cost", Sign::Positive, note)?;
    let practical_minutes = cx.quantity(
        &c.practical_minutes,
        "practical_minutes",
        Sign::Positive,
        note,
    )?;
    let mut activities = Vec::with_capacity(c.activity.len());
    let mut seen_activities = BTreeSet::new();
    for a in &c.activity {
        let a_name = cx.name(&a.name, "activity.name", "activity", &mut seen_activities)?;
        let time = match (&a.minutes, &a.time_equation) {
            (Some(m), None) => {
                TimeSpec::Minutes(cx.quantity(m, "activity.minutes", Sign::Positive, note)?)
            }
            (None, Some(eq)) => {
                let raw = eq.get_ref();
                let base = cx.quantity(
                    &raw.base,
                    "activity.time_equation.base",
                    Sign::NonNegative,
                    note,
                )?;
                let mut terms = Vec::with_capacity(raw.terms.len());
                let mut drivers = BTreeSet::new();
                for t in &raw.terms {
                    let driver = cx.name(
                        &t.driver,
                        "activity.time_equation.terms.driver",
                        "driver",
                        &mut drivers,
                    )?;
                    terms.push(TermSpec {
                        driver,
                        minutes: cx.quantity(
                            &t.minutes,
                            "activity.time_equation.terms.minutes",
                            Sign::Positive,
                            note,
                        )?,
                        frequency: cx.quantity(
                            &t.frequency,
                            "activity.time_equation.terms.frequency",
                            Sign::NonNegative,
                            note,
                        )?,
                    });
                }
                let all_zero =
                    base.value.is_zero() && terms.iter().all(|t| t.frequency.value.is_zero());
                if all_zero {
                    return Err(cx.at(
                        eq.span(),
                        "activity.time_equation",
                        format!("activity `{a_name}` takes no time: the base or a term's frequency must be above zero"),
                    ));
                }
                TimeSpec::Equation { base, terms }
            }
            (Some(m), Some(_)) => {
                return Err(cx.at(
                    m.span(),
                    "activity.minutes",
                    "give minutes or time_equation, not both",
                ))
            }
            (None, None) => {
                return Err(cx.at(
                    a.name.span(),
                    "activity.minutes",
                    format!("activity `{a_name}` needs minutes = \"…\" or a time_equation"),
                ))
            }
        };
        activities.push(ActivitySpec {
            name: a_name,
            time,
            volume: cx.quantity(&a.volume, "activity.volume", Sign::NonNegative, note)?,
        });
    }
    Ok(CapacitySpec {
        name,
        cost,
        practical_minutes,
        activities,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_err(body: &str) -> String {
        let text = format!("schema = 1\nid = \"t\"\n{body}");
        let catalog = Catalog::shipped().unwrap();
        match parse(&text, Path::new("d.toml"), &catalog) {
            Ok(_) => panic!("accepted: {body}"),
            Err(e) => e.to_string(),
        }
    }

    const ROLE: &str =
        "[[role]]\nname = \"sw\"\nannual_salary = \"30960\"\nhours_rule = \"esf_1720\"\n";

    fn element(fields: &str) -> String {
        format!("{ROLE}\n[[element]]\ncode = \"CONSULT\"\nunit = \"hour\"\nstaff = [{{ role = \"sw\", minutes = \"60\" }}]\n{fields}")
    }

    #[test]
    fn bad_input_is_refused_naming_file_line_column_and_field() {
        let cases: &[(String, &str)] = &[
            (
                "[[role]]\nname = \"a\"\nannual_salary = \"1000\"\nannual_hours = \"0\"\n".to_owned(),
                "d.toml:6:16: field `annual_hours`: `0` must be greater than zero",
            ),
            (
                "[[role]]\nname = \"a\"\nannual_salary = \"1000\"\nannual_hours = \"-5\"\n".to_owned(),
                "d.toml:6:16: field `annual_hours`: `-5` must be greater than zero",
            ),
            (
                "[[role]]\nname = \"a\"\nannual_salary = \"1000\"\n".to_owned(),
                "d.toml:3:1: field `annual_hours`: role `a` has no working time: give annual_hours = \"…\" or hours_rule = \"esf_1720\"",
            ),
            (
                format!("{ROLE}\n[[element]]\ncode = \"CONSULT\"\nunit = \"hour\"\nstaff = [{{ role = \"nurse\", minutes = \"60\" }}]\n"),
                "d.toml:11:19: field `staff.role`: unknown role `nurse`: declare it in a [[role]] above",
            ),
            (
                format!("{ROLE}\n[[element]]\ncode = \"NOPE\"\nunit = \"hour\"\n"),
                "d.toml:9:8: field `code`: unknown element `NOPE`: the catalog has no such code",
            ),
            (
                format!("{ROLE}\n[[element]]\ncode = \"CONSULT\"\nunit = \"session\"\n"),
                "d.toml:10:8: field `unit`: element `CONSULT` is counted in hour in the catalog, not session",
            ),
            (
                format!("{ROLE}\n[[element]]\ncode = \"CONSULT\"\nunit = \"hour\"\nstaff = [{{ role = \"sw\", minutes = \"0\" }}]\n"),
                "d.toml:11:35: field `staff.minutes`: `0` must be greater than zero",
            ),
            (
                "[[capacity]]\nname = \"c\"\ncost = \"100\"\npractical_minutes = \"0\"\n".to_owned(),
                "d.toml:6:21: field `practical_minutes`: `0` must be greater than zero",
            ),
            (
                "[[capacity]]\nname = \"c\"\ncost = \"100\"\npractical_minutes = \"100\"\n[[capacity.activity]]\nname = \"a\"\nminutes = \"30\"\nvolume = \"4\"\n".to_owned(),
                "d.toml:6:21: field `practical_minutes`: capacity `c`: the activities use 120 minutes, more than the practical capacity of 100",
            ),
        ];
        let got: Vec<String> = cases.iter().map(|(body, _)| parse_err(body)).collect();
        let want: Vec<String> = cases.iter().map(|(_, w)| (*w).to_owned()).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn flat_rates_above_their_ceiling_name_the_article() {
        let cases = [
            (
                "flat_rate = { indirect_of_staff = \"0.16\" }",
                "field `flat_rate.indirect_of_staff`: 0.16 is above the ceiling of 0.15 (15.00%) set by Reg. 1303/2013 art. 68(1)(b); CPR Reg. 2021/1060 art. 54(b)",
            ),
            (
                "flat_rate = { indirect_of_direct = \"0.08\" }",
                "field `flat_rate.indirect_of_direct`: 0.08 is above the ceiling of 0.07 (7.00%) set by CPR Reg. 2021/1060 art. 54(a)",
            ),
            (
                "flat_rate = { remaining_of_staff = \"0.41\" }",
                "field `flat_rate.remaining_of_staff`: 0.41 is above the ceiling of 0.40 (40.00%) set by Reg. 1303/2013 art. 68b; CPR Reg. 2021/1060 art. 56",
            ),
            (
                "flat_rate = { indirect_of_staff = \"0.15\", remaining_of_staff = \"0.40\" }",
                "field `flat_rate.remaining_of_staff`: remaining costs at a flat rate of direct staff costs (Reg. 1303/2013 art. 68b; CPR Reg. 2021/1060 art. 56) cover indirect costs too: declare one flat rate, not both",
            ),
            (
                "materials = \"1\"\nflat_rate = { remaining_of_staff = \"0.40\" }",
                "field `flat_rate.remaining_of_staff`: remaining costs at a flat rate (Reg. 1303/2013 art. 68b; CPR Reg. 2021/1060 art. 56) cover all costs other than staff: drop materials",
            ),
        ];
        for (fields, want) in cases {
            let got = parse_err(&element(fields));
            assert!(got.ends_with(want), "{got}");
        }
        let cpr = format!(
            "regulation = \"2021/1060\"\n{}",
            element("flat_rate = { indirect_of_staff = \"0.2\" }")
        );
        assert!(parse_err(&cpr).ends_with("set by CPR Reg. 2021/1060 art. 54(b)"));
        let esf = format!(
            "regulation = \"1303/2013\"\n{}",
            element("flat_rate = { remaining_of_staff = \"0.5\" }")
        );
        assert!(parse_err(&esf).ends_with("set by Reg. 1303/2013 art. 68b"));
    }

    #[test]
    fn a_bare_number_or_an_unknown_key_is_a_toml_error_with_its_line() {
        let bare =
            parse_err("[[role]]\nname = \"a\"\nannual_salary = 1000\nhours_rule = \"esf_1720\"\n");
        assert!(bare.starts_with("d.toml:5:17: "), "{bare}");
        assert!(bare.contains("quoted strings"), "{bare}");
        let unknown = parse_err(&element("overhead = \"0.1\""));
        assert!(
            unknown.starts_with("d.toml:12:1: unknown field `overhead`"),
            "{unknown}"
        );
    }

    #[test]
    fn overflow_names_the_section_and_the_field_that_drove_it() {
        let cases: &[(String, &str)] = &[
            (
                "[[role]]\nname = \"a\"\nannual_salary = \"79228162514264337593543950335\"\non_cost_rate = \"2\"\nhours_rule = \"esf_1720\"\n".to_owned(),
                "d.toml:3:1: field `on_cost_rate`: role `a`: a figure computed from it leaves the decimal range",
            ),
            (
                "[[role]]\nname = \"a\"\nannual_salary = \"1000\"\nannual_hours = \"0.0000000000000000000000000001\"\n".to_owned(),
                "d.toml:3:1: field `annual_hours`: role `a`: a figure computed from it leaves the decimal range",
            ),
            (
                element("materials = \"79228162514264337593543950335\"\n"),
                "d.toml:8:1: field `materials`: element derivation `CONSULT`: a figure computed from it leaves the decimal range",
            ),
            (
                "[[capacity]]\nname = \"c\"\ncost = \"79228162514264337593543950335\"\npractical_minutes = \"0.5\"\n".to_owned(),
                "d.toml:3:1: field `practical_minutes`: capacity `c`: a figure computed from it leaves the decimal range",
            ),
        ];
        for (body, want) in cases {
            assert_eq!(&parse_err(body), want, "{body}");
        }
    }
}
