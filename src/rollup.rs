//! Mergeable rollups of valued lines: totals by client, household, provider, element,
//! category, target group, month, year, and any combination of up to four of them.
//!
//! Rollups built over disjoint slices of the lines [`Rollup::merge`] into exactly the rollup
//! of the whole, in any order and grouping: that is what lets work be split across threads.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use crate::catalog::{Catalog, Category, Unit};
use crate::clients::{ClientRegister, TargetGroup};
use crate::error::{Error, Result};
use crate::id::{ClientId, ElementCode, ProviderId};
use crate::money::{Money, Quantity};
use crate::valuation::LineView;

crate::catalog::str_enum!(
    /// A dimension to group by.
    GroupBy, "grouping key" {
        /// The client.
        Client = "client",
        /// The household: a child's lines count under the parent client.
        Household = "household",
        /// The provider.
        Provider = "provider",
        /// The element.
        Element = "element",
        /// The element's category.
        Category = "category",
        /// The client's primary target group.
        TargetGroup = "target-group",
        /// The calendar month (`YYYY-MM`).
        Month = "month",
        /// The calendar year.
        Year = "year",
    }
);

/// One component of a group key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum KeyPart {
    /// A client.
    Client(ClientId),
    /// A household, named by its root client.
    Household(ClientId),
    /// A provider.
    Provider(ProviderId),
    /// An element.
    Element(ElementCode),
    /// A category.
    Category(Category),
    /// A primary target group; `None` when the client has none or is not in a register.
    TargetGroup(Option<TargetGroup>),
    /// A month.
    Month {
        /// The year.
        year: u16,
        /// The month, 1 to 12.
        month: u8,
    },
    /// A year.
    Year(u16),
}

impl fmt::Display for KeyPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyPart::Client(c) | KeyPart::Household(c) => c.fmt(f),
            KeyPart::Provider(p) => p.fmt(f),
            KeyPart::Element(e) => e.fmt(f),
            KeyPart::Category(c) => c.fmt(f),
            KeyPart::TargetGroup(Some(g)) => g.fmt(f),
            KeyPart::TargetGroup(None) => f.write_str("(none)"),
            KeyPart::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            KeyPart::Year(y) => write!(f, "{y}"),
        }
    }
}

/// The most dimensions one rollup groups by.
pub const MAX_KEYS: usize = 4;

/// A group key: one [`KeyPart`] per grouping dimension, in the rollup's order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupKey {
    parts: [Option<KeyPart>; MAX_KEYS],
}

impl GroupKey {
    /// The parts, in the rollup's order.
    pub fn parts(&self) -> impl Iterator<Item = &KeyPart> {
        self.parts.iter().flatten()
    }
}

impl fmt::Display for GroupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.parts().enumerate() {
            if i > 0 {
                f.write_str(" / ")?;
            }
            p.fmt(f)?;
        }
        Ok(())
    }
}

/// Totals of one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    lines: u64,
    amount: Money,
    quantity: Quantity,
    unit: UnitMix,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum UnitMix {
    #[default]
    Empty,
    One(Unit),
    Mixed,
}

impl UnitMix {
    fn with(self, unit: Unit) -> Self {
        match self {
            UnitMix::Empty => UnitMix::One(unit),
            UnitMix::One(u) if u == unit => self,
            _ => UnitMix::Mixed,
        }
    }
    fn merge(self, other: UnitMix) -> Self {
        match other {
            UnitMix::Empty => self,
            UnitMix::One(u) => self.with(u),
            UnitMix::Mixed => UnitMix::Mixed,
        }
    }
}

impl Totals {
    /// The number of valued lines.
    pub fn lines(&self) -> u64 {
        self.lines
    }
    /// The sum of the lines' rounded amounts.
    pub fn amount(&self) -> Money {
        self.amount
    }
    /// The billed quantity and its unit, when every line of the group has the same unit.
    pub fn quantity(&self) -> Option<(Quantity, Unit)> {
        match self.unit {
            UnitMix::One(u) => Some((self.quantity, u)),
            _ => None,
        }
    }

    /// Totals from their parts: `unit` is `None` for no line, `Some(None)` for mixed units.
    pub(crate) fn from_parts(
        lines: u64,
        amount: Money,
        quantity: Quantity,
        unit: Option<Option<Unit>>,
    ) -> Self {
        Self {
            lines,
            amount,
            quantity,
            unit: match unit {
                None => UnitMix::Empty,
                Some(Some(u)) => UnitMix::One(u),
                Some(None) => UnitMix::Mixed,
            },
        }
    }

    fn add_line(&mut self, amount: Money, quantity: Quantity, unit: Unit) -> Option<()> {
        self.lines += 1;
        self.amount = self.amount.checked_add(amount)?;
        self.quantity = self.quantity.checked_add(quantity)?;
        self.unit = self.unit.with(unit);
        Some(())
    }

    fn merge(&mut self, other: &Totals) -> Option<()> {
        self.lines += other.lines;
        self.amount = self.amount.checked_add(other.amount)?;
        self.quantity = self.quantity.checked_add(other.quantity)?;
        self.unit = self.unit.merge(other.unit);
        Some(())
    }
}

/// What a rollup needs to know beyond the lines: the catalog (categories, units) and the
/// client register (households, target groups).
#[derive(Debug, Clone, Copy)]
pub struct RollupContext<'a> {
    /// The catalog.
    pub catalog: &'a Catalog,
    /// The client register, if any.
    pub clients: Option<&'a ClientRegister>,
}

/// Totals grouped by a list of dimensions, plus the grand total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollup {
    by: Vec<GroupBy>,
    /// Hashed while adding (fast); sorted whenever read (deterministic).
    groups: HashMap<GroupKey, Totals>,
    total: Totals,
}

fn overflow() -> Error {
    Error::Overflow {
        what: "rollup totals".to_owned(),
    }
}

impl Rollup {
    /// An empty rollup grouping by `by` (at most [`MAX_KEYS`] dimensions; an empty list gives
    /// the grand total only).
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] for more than [`MAX_KEYS`] dimensions or a repeated one.
    pub fn new(by: &[GroupBy]) -> Result<Self> {
        let names: Vec<&str> = by.iter().map(|g| g.as_str()).collect();
        let refuse = |reason: &str| Error::Parse {
            what: "grouping",
            value: names.join(","),
            reason: reason.to_owned(),
        };
        if by.len() > MAX_KEYS {
            return Err(refuse("at most four grouping keys"));
        }
        for (i, g) in by.iter().enumerate() {
            if by[..i].contains(g) {
                return Err(refuse("a key is repeated"));
            }
        }
        Ok(Self {
            by: by.to_vec(),
            groups: HashMap::new(),
            total: Totals::default(),
        })
    }

    /// Parses a comma-separated list of keys such as `provider,element`.
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] for an unknown key; as [`Rollup::new`].
    pub fn parse_keys(list: &str) -> Result<Vec<GroupBy>> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(GroupBy::from_str)
            .collect()
    }

    /// The dimensions.
    pub fn by(&self) -> &[GroupBy] {
        &self.by
    }

    fn key_of(&self, view: &LineView<'_>, cx: RollupContext<'_>) -> GroupKey {
        let d = view.delivery;
        let mut parts: [Option<KeyPart>; MAX_KEYS] = Default::default();
        for (slot, g) in parts.iter_mut().zip(&self.by) {
            *slot = Some(match g {
                GroupBy::Client => KeyPart::Client(d.client().clone()),
                GroupBy::Household => KeyPart::Household(
                    cx.clients
                        .and_then(|r| r.household(d.client().as_str()))
                        .unwrap_or(d.client())
                        .clone(),
                ),
                GroupBy::Provider => KeyPart::Provider(d.provider().clone()),
                GroupBy::Element => KeyPart::Element(d.element().clone()),
                GroupBy::Category => KeyPart::Category(
                    cx.catalog
                        .element(view.line.element())
                        .map_or(Category::CaseManagement, |e| e.category()),
                ),
                GroupBy::TargetGroup => KeyPart::TargetGroup(
                    cx.clients
                        .and_then(|r| r.get(d.client().as_str()))
                        .and_then(|c| c.primary_group()),
                ),
                GroupBy::Month => KeyPart::Month {
                    year: d.date().year(),
                    month: d.date().month(),
                },
                GroupBy::Year => KeyPart::Year(d.date().year()),
            });
        }
        GroupKey { parts }
    }

    /// Adds one valued line.
    ///
    /// # Errors
    ///
    /// [`Error::Overflow`] when a total leaves the decimal range.
    pub fn add(&mut self, view: &LineView<'_>, cx: RollupContext<'_>) -> Result<()> {
        let key = self.key_of(view, cx);
        let unit = cx
            .catalog
            .element(view.line.element())
            .map_or(Unit::Eur, |e| e.unit());
        let (amount, qty) = (view.line.amount(), view.line.billed_quantity());
        match self.groups.get_mut(&key) {
            Some(t) => t.add_line(amount, qty, unit),
            None => {
                let mut t = Totals::default();
                t.add_line(amount, qty, unit);
                self.groups.insert(key, t);
                Some(())
            }
        }
        .ok_or_else(overflow)?;
        self.total.add_line(amount, qty, unit).ok_or_else(overflow)
    }

    /// Adds every line.
    ///
    /// # Errors
    ///
    /// [`Error::Overflow`] when a total leaves the decimal range.
    pub fn extend<'v>(
        &mut self,
        views: impl IntoIterator<Item = LineView<'v>>,
        cx: RollupContext<'_>,
    ) -> Result<()> {
        for v in views {
            self.add(&v, cx)?;
        }
        Ok(())
    }

    /// Adds the totals of one client's lines as the group of that client, in a rollup by
    /// client alone (the columnar fast path builds its result this way).
    pub(crate) fn add_client_totals(&mut self, client: ClientId, totals: Totals) -> Result<()> {
        let mut parts: [Option<KeyPart>; MAX_KEYS] = Default::default();
        parts[0] = Some(KeyPart::Client(client));
        let key = GroupKey { parts };
        match self.groups.get_mut(&key) {
            Some(mine) => mine.merge(&totals).ok_or_else(overflow)?,
            None => {
                self.groups.insert(key, totals);
            }
        }
        self.total.merge(&totals).ok_or_else(overflow)
    }

    /// Merges a rollup of other lines (disjoint from this one's) into this one.
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] when the two group by different keys; [`Error::Overflow`] when a total
    /// leaves the decimal range.
    pub fn merge(&mut self, other: &Rollup) -> Result<()> {
        if self.by != other.by {
            return Err(Error::Parse {
                what: "rollup merge",
                value: format!("{:?} and {:?}", self.by, other.by),
                reason: "the rollups group by different keys".to_owned(),
            });
        }
        for (k, t) in &other.groups {
            match self.groups.get_mut(k) {
                Some(mine) => mine.merge(t).ok_or_else(overflow)?,
                None => {
                    self.groups.insert(k.clone(), *t);
                }
            }
        }
        self.total.merge(&other.total).ok_or_else(overflow)
    }

    /// The groups, in key order.
    pub fn groups(&self) -> impl Iterator<Item = (&GroupKey, &Totals)> {
        let mut sorted: Vec<(&GroupKey, &Totals)> = self.groups.iter().collect();
        sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
        sorted.into_iter()
    }

    /// The number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// True when no line was added.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The grand total.
    pub fn total(&self) -> &Totals {
        &self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_keys_refuses_unknown_keys() {
        assert_eq!(
            Rollup::parse_keys("provider, element").unwrap(),
            [GroupBy::Provider, GroupBy::Element]
        );
        let err = Rollup::parse_keys("provider,colour").unwrap_err();
        assert!(
            err.to_string().contains("invalid grouping key `colour`"),
            "{err}"
        );
        assert!(Rollup::new(&[GroupBy::Year, GroupBy::Year]).is_err());
        assert!(Rollup::new(&[
            GroupBy::Year,
            GroupBy::Month,
            GroupBy::Client,
            GroupBy::Element,
            GroupBy::Provider
        ])
        .is_err());
    }

    #[test]
    fn unit_mix_tracks_a_single_unit() {
        let mut t = Totals::default();
        t.add_line(Money::ZERO, Quantity::ZERO, Unit::Hour).unwrap();
        assert!(t.quantity().is_some());
        t.add_line(Money::ZERO, Quantity::ZERO, Unit::Km).unwrap();
        assert!(t.quantity().is_none());
    }
}
