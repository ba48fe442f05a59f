//! The TOML format of pricing tables: private raw structs and their checked conversion.

use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::{PriceRow, PriceRule, PricingTable, RoundingPolicy, Scope, Tier};
use crate::catalog::{reason_of, SCHEMA_VERSION};
use crate::error::{Error, Result};
use crate::id::{ElementCode, ProviderId, TableId};
use crate::money::{Quantity, Rounding, UnitPrice};
use crate::span::{invalid, locate, toml_error};
use crate::Date;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    schema: Spanned<u32>,
    id: Spanned<String>,
    version: String,
    scope: Spanned<String>,
    #[serde(default)]
    provider: Option<Spanned<String>>,
    valid_from: Spanned<String>,
    valid_to: Spanned<String>,
    #[serde(default)]
    source: String,
    #[serde(default)]
    rounding: Option<RawRounding>,
    #[serde(default)]
    derivations: Option<Spanned<String>>,
    #[serde(default)]
    tolerance: Option<Spanned<String>>,
    #[serde(default)]
    price: Vec<Spanned<RawPrice>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRounding {
    #[serde(default)]
    mode: Option<Spanned<String>>,
    #[serde(default)]
    step: Option<Spanned<String>>,
    #[serde(default)]
    decimals: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrice {
    element: Spanned<String>,
    #[serde(default)]
    unit_price: Option<Spanned<String>>,
    #[serde(default)]
    tiers: Option<Spanned<Vec<Spanned<RawTier>>>>,
    #[serde(default)]
    pass_through: Option<bool>,
    #[serde(default)]
    min_increment: Option<Spanned<String>>,
    #[serde(default)]
    cap_per_client_year: Option<Spanned<String>>,
    #[serde(default)]
    source: String,
    #[serde(default)]
    derived: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    #[serde(default)]
    up_to: Option<Spanned<String>>,
    unit_price: Spanned<String>,
}

struct Ctx<'a> {
    origin: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    fn err(&self, s: &Spanned<String>, field: &str, e: &Error) -> Error {
        invalid(self.origin, self.text, s.span(), field, reason_of(e))
    }

    fn at(&self, span: std::ops::Range<usize>, field: &str, msg: impl Into<String>) -> Error {
        invalid(self.origin, self.text, span, field, msg)
    }

    fn date(&self, s: &Spanned<String>, field: &str) -> Result<Date> {
        s.get_ref().parse().map_err(|e| self.err(s, field, &e))
    }

    fn price(&self, s: &Spanned<String>, field: &str) -> Result<UnitPrice> {
        let p: UnitPrice = s.get_ref().parse().map_err(|e| self.err(s, field, &e))?;
        if p.is_negative() {
            return Err(self.at(s.span(), field, "a price may not be negative"));
        }
        Ok(p)
    }

    fn positive_quantity(&self, s: &Spanned<String>, field: &str) -> Result<Quantity> {
        let q: Quantity = s.get_ref().parse().map_err(|e| self.err(s, field, &e))?;
        if !q.is_positive() {
            return Err(self.at(s.span(), field, format!("`{q}` must be greater than zero")));
        }
        Ok(q)
    }
}

pub(super) fn parse_table(text: &str, origin: &Path) -> Result<PricingTable> {
    let raw: RawTable = toml::from_str(text).map_err(|e| toml_error(origin, text, &e))?;
    let cx = Ctx { origin, text };
    crate::span::check_schema(origin, text, &raw.schema)?;
    let id = TableId::new(raw.id.get_ref()).map_err(|e| cx.err(&raw.id, "id", &e))?;
    let scope = match (raw.scope.get_ref().as_str(), &raw.provider) {
        ("national", None) => Scope::National,
        ("national", Some(p)) => {
            return Err(cx.at(
                p.span(),
                "provider",
                "a national table names no provider; use scope = \"provider\"",
            ))
        }
        ("provider", Some(p)) => {
            Scope::Provider(ProviderId::new(p.get_ref()).map_err(|e| cx.err(p, "provider", &e))?)
        }
        ("provider", None) => {
            return Err(cx.at(
                raw.scope.span(),
                "provider",
                "scope = \"provider\" needs provider = \"<provider id>\"",
            ))
        }
        (other, _) => {
            return Err(cx.at(
                raw.scope.span(),
                "scope",
                format!("`{other}`: expected national or provider"),
            ))
        }
    };
    let valid_from = cx.date(&raw.valid_from, "valid_from")?;
    let valid_to = cx.date(&raw.valid_to, "valid_to")?;
    if valid_to < valid_from {
        return Err(cx.at(
            raw.valid_to.span(),
            "valid_to",
            format!("{valid_to} is before valid_from {valid_from}"),
        ));
    }
    let mut rounding = RoundingPolicy::default();
    if let Some(r) = &raw.rounding {
        if let Some(mode) = &r.mode {
            rounding.mode = mode
                .get_ref()
                .parse::<Rounding>()
                .map_err(|e| cx.err(mode, "rounding.mode", &e))?;
        }
        if let Some(step) = &r.step {
            if step.get_ref() != "line" {
                return Err(cx.at(
                    step.span(),
                    "rounding.step",
                    format!(
                        "`{}`: only \"line\" is supported (each valued line rounds once)",
                        step.get_ref()
                    ),
                ));
            }
        }
        if let Some(dp) = &r.decimals {
            if *dp.get_ref() > 6 {
                return Err(cx.at(dp.span(), "rounding.decimals", "at most 6 decimals"));
            }
            rounding.decimals = *dp.get_ref();
        }
    }
    let derivations = match &raw.derivations {
        Some(d) if d.get_ref().trim().is_empty() => {
            return Err(cx.at(d.span(), "derivations", "an empty path"))
        }
        Some(d) => Some(std::path::PathBuf::from(d.get_ref())),
        None => None,
    };
    let tolerance = raw
        .tolerance
        .as_ref()
        .map(|t| cx.price(t, "tolerance"))
        .transpose()?;
    let mut rows = Vec::with_capacity(raw.price.len());
    for (i, spanned) in raw.price.into_iter().enumerate() {
        let row_span = spanned.span();
        let p = spanned.into_inner();
        let element =
            ElementCode::new(p.element.get_ref()).map_err(|e| cx.err(&p.element, "element", &e))?;
        if rows.iter().any(|r: &PriceRow| r.element == element) {
            return Err(Error::DuplicatePrice {
                location: locate(origin, text, p.element.span().start),
                element,
                table: id,
            });
        }
        let given = usize::from(p.unit_price.is_some())
            + usize::from(p.tiers.is_some())
            + usize::from(p.pass_through == Some(true));
        if given != 1 {
            return Err(cx.at(
                p.element.span(),
                "unit_price",
                format!(
                    "element `{element}`: give exactly one of unit_price, tiers, pass_through = true"
                ),
            ));
        }
        let rule = if let Some(up) = &p.unit_price {
            PriceRule::Flat(cx.price(up, "unit_price")?)
        } else if let Some(tiers) = &p.tiers {
            let mut out: Vec<Tier> = Vec::with_capacity(tiers.get_ref().len());
            let n = tiers.get_ref().len();
            if n == 0 {
                return Err(cx.at(tiers.span(), "tiers", "at least one tier is needed"));
            }
            for (k, t) in tiers.get_ref().iter().enumerate() {
                let t = t.get_ref();
                let price = cx.price(&t.unit_price, "tiers.unit_price")?;
                let up_to =
                    match (&t.up_to, k + 1 == n) {
                        (Some(u), false) => {
                            let q = cx.positive_quantity(u, "tiers.up_to")?;
                            if let Some(prev) = out.last().and_then(|x| x.up_to) {
                                if q <= prev {
                                    return Err(cx.at(
                                        u.span(),
                                        "tiers.up_to",
                                        format!("{q} must be above the previous tier's {prev}"),
                                    ));
                                }
                            }
                            Some(q)
                        }
                        (None, true) => None,
                        (Some(u), true) => return Err(cx.at(
                            u.span(),
                            "tiers.up_to",
                            "the last tier has no up_to: it prices everything beyond the others",
                        )),
                        (None, false) => {
                            return Err(cx.at(
                                t.unit_price.span(),
                                "tiers.up_to",
                                "every tier but the last needs up_to",
                            ))
                        }
                    };
                out.push(Tier {
                    up_to,
                    unit_price: price,
                });
            }
            PriceRule::Tiered(out)
        } else {
            PriceRule::PassThrough
        };
        let min_increment = p
            .min_increment
            .as_ref()
            .map(|s| cx.positive_quantity(s, "min_increment"))
            .transpose()?;
        let cap_per_client_year = p
            .cap_per_client_year
            .as_ref()
            .map(|s| cx.positive_quantity(s, "cap_per_client_year"))
            .transpose()?;
        rows.push(PriceRow {
            number: i + 1,
            line: locate(origin, text, row_span.start).line(),
            element,
            rule,
            min_increment,
            cap_per_client_year,
            source: p.source,
            derived: p.derived,
        });
    }
    Ok(PricingTable {
        id,
        version: raw.version,
        scope,
        valid_from,
        valid_to,
        rounding,
        source: raw.source,
        derivations,
        tolerance,
        rows,
        origin: origin.to_owned(),
        sha256: super::sha256_hex(text.as_bytes()),
    })
}

#[derive(Serialize)]
struct OutTable<'a> {
    schema: u32,
    id: &'a str,
    version: &'a str,
    scope: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<&'a str>,
    valid_from: String,
    valid_to: String,
    source: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    derivations: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tolerance: Option<String>,
    rounding: OutRounding,
    price: Vec<OutPrice<'a>>,
}

#[derive(Serialize)]
struct OutRounding {
    mode: &'static str,
    step: &'static str,
    decimals: u32,
}

#[derive(Serialize)]
struct OutPrice<'a> {
    element: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit_price: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tiers: Option<Vec<OutTier>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pass_through: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_increment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cap_per_client_year: Option<String>,
    source: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    derived: Option<&'a str>,
}

#[derive(Serialize)]
struct OutTier {
    #[serde(skip_serializing_if = "Option::is_none")]
    up_to: Option<String>,
    unit_price: String,
}

pub(super) fn write_table(t: &PricingTable) -> Result<String> {
    let out = OutTable {
        schema: SCHEMA_VERSION,
        id: t.id.as_str(),
        version: &t.version,
        scope: match t.scope {
            Scope::National => "national",
            Scope::Provider(_) => "provider",
        },
        provider: match &t.scope {
            Scope::National => None,
            Scope::Provider(p) => Some(p.as_str()),
        },
        valid_from: t.valid_from.to_string(),
        valid_to: t.valid_to.to_string(),
        source: &t.source,
        derivations: t.derivations.as_ref().map(|p| p.display().to_string()),
        tolerance: t.tolerance.map(|p| p.to_string()),
        rounding: OutRounding {
            mode: t.rounding.mode.as_str(),
            step: "line",
            decimals: t.rounding.decimals,
        },
        price: t
            .rows
            .iter()
            .map(|r| {
                let (unit_price, tiers, pass_through) = match &r.rule {
                    PriceRule::Flat(p) => (Some(p.to_string()), None, None),
                    PriceRule::Tiered(ts) => (
                        None,
                        Some(
                            ts.iter()
                                .map(|x| OutTier {
                                    up_to: x.up_to.map(|q| q.to_string()),
                                    unit_price: x.unit_price.to_string(),
                                })
                                .collect(),
                        ),
                        None,
                    ),
                    PriceRule::PassThrough => (None, None, Some(true)),
                };
                OutPrice {
                    element: r.element.as_str(),
                    unit_price,
                    tiers,
                    pass_through,
                    min_increment: r.min_increment.map(|q| q.to_string()),
                    cap_per_client_year: r.cap_per_client_year.map(|q| q.to_string()),
                    source: &r.source,
                    derived: r.derived.as_deref(),
                }
            })
            .collect(),
    };
    toml::to_string(&out).map_err(|e| Error::Parse {
        what: "pricing table",
        value: t.id.to_string(),
        reason: e.to_string(),
    })
}
