//! Pricing tables and the [`PriceBook`] that answers "what did element E cost provider P on
//! date D, and by which row of which table".
//!
//! Table files are described in `docs/formats.md`; [`PricingTable::from_toml`] reads one.

mod file;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::catalog::{Catalog, ElementIdx, Unit};
use crate::error::{Error, Result};
use crate::id::{ElementCode, ProviderId, TableId};
use crate::money::{Quantity, Rounding, UnitPrice};
use crate::Date;

/// Who a table applies to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// Every provider, unless a provider table prices the element.
    National,
    /// One provider; wins over the national table for the elements it prices.
    Provider(ProviderId),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::National => f.write_str("national"),
            Scope::Provider(p) => write!(f, "provider {p}"),
        }
    }
}

/// The declared rounding of a table: each valued line rounds once, with `mode`, to
/// `decimals` places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundingPolicy {
    mode: Rounding,
    decimals: u32,
}

impl Default for RoundingPolicy {
    /// Half-up to two decimals, per line.
    fn default() -> Self {
        Self {
            mode: Rounding::HalfUp,
            decimals: 2,
        }
    }
}

impl RoundingPolicy {
    /// A policy of `mode` to `decimals` places (at most 6).
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] for more than 6 decimals.
    pub fn new(mode: Rounding, decimals: u32) -> Result<Self> {
        if decimals > 6 {
            return Err(Error::Parse {
                what: "rounding decimals",
                value: decimals.to_string(),
                reason: "at most 6".to_owned(),
            });
        }
        Ok(Self { mode, decimals })
    }
    /// The rounding mode.
    pub fn mode(&self) -> Rounding {
        self.mode
    }
    /// The number of decimals.
    pub fn decimals(&self) -> u32 {
        self.decimals
    }
}

/// One step of a graduated price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    up_to: Option<Quantity>,
    unit_price: UnitPrice,
}

impl Tier {
    /// A tier that prices the client's year-to-date quantity up to `up_to` (the last tier:
    /// `None`, everything beyond) at `unit_price`.
    pub fn new(up_to: Option<Quantity>, unit_price: UnitPrice) -> Self {
        Self { up_to, unit_price }
    }
    /// The upper bound of the cumulative quantity this tier prices; `None` for the last.
    pub fn up_to(&self) -> Option<Quantity> {
        self.up_to
    }
    /// The price per unit within the tier.
    pub fn unit_price(&self) -> UnitPrice {
        self.unit_price
    }
}

/// How a row prices its element.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PriceRule {
    /// One price per unit.
    Flat(UnitPrice),
    /// Graduated prices by the client's cumulative quantity in the calendar year.
    Tiered(Vec<Tier>),
    /// The quantity is an actual cost in euro, priced at 1.
    PassThrough,
}

/// One row of a pricing table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceRow {
    number: usize,
    line: u64,
    element: ElementCode,
    rule: PriceRule,
    min_increment: Option<Quantity>,
    cap_per_client_year: Option<Quantity>,
    source: String,
    derived: Option<String>,
}

impl PriceRow {
    /// A row built in code.
    pub fn new(element: ElementCode, rule: PriceRule) -> Self {
        Self {
            number: 0,
            line: 0,
            element,
            rule,
            min_increment: None,
            cap_per_client_year: None,
            source: String::new(),
            derived: None,
        }
    }
    /// Sets the minimum billing increment (must be positive to take effect).
    pub fn with_min_increment(mut self, increment: Quantity) -> Self {
        self.min_increment = Some(increment);
        self
    }
    /// Sets the cap per client per calendar year.
    pub fn with_cap_per_client_year(mut self, cap: Quantity) -> Self {
        self.cap_per_client_year = Some(cap);
        self
    }
    /// Sets the source note.
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = source.into();
        self
    }
    /// The row's position in its table, counted from 1.
    pub fn number(&self) -> usize {
        self.number
    }
    /// The line of the table file where the row starts (0 for rows built in code).
    pub fn line(&self) -> u64 {
        self.line
    }
    /// The element priced.
    pub fn element(&self) -> &ElementCode {
        &self.element
    }
    /// The pricing rule.
    pub fn rule(&self) -> &PriceRule {
        &self.rule
    }
    /// The billing increment, if any.
    pub fn min_increment(&self) -> Option<Quantity> {
        self.min_increment
    }
    /// The cap per client per calendar year, if any.
    pub fn cap_per_client_year(&self) -> Option<Quantity> {
        self.cap_per_client_year
    }
    /// How the price was set.
    pub fn source(&self) -> &str {
        &self.source
    }
    /// The name of the derivation the price comes from, if the row names one.
    pub fn derived(&self) -> Option<&str> {
        self.derived.as_deref()
    }
}

/// A versioned pricing table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricingTable {
    id: TableId,
    version: String,
    scope: Scope,
    valid_from: Date,
    valid_to: Date,
    rounding: RoundingPolicy,
    source: String,
    derivations: Option<PathBuf>,
    tolerance: Option<UnitPrice>,
    rows: Vec<PriceRow>,
    origin: PathBuf,
    sha256: String,
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The options of [`PricingTable::new`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TableHeader {
    /// The table id.
    pub id: TableId,
    /// The version label.
    pub version: String,
    /// Who the table applies to.
    pub scope: Scope,
    /// First day of validity.
    pub valid_from: Date,
    /// Last day of validity (inclusive).
    pub valid_to: Date,
    /// The rounding policy.
    pub rounding: RoundingPolicy,
    /// How the table was set.
    pub source: String,
}

impl TableHeader {
    /// A national header with default rounding and no source note.
    pub fn national(id: TableId, version: &str, valid_from: Date, valid_to: Date) -> Self {
        Self {
            id,
            version: version.to_owned(),
            scope: Scope::National,
            valid_from,
            valid_to,
            rounding: RoundingPolicy::default(),
            source: String::new(),
        }
    }
}

impl PricingTable {
    /// A table built in code. Its content hash is that of its TOML form
    /// ([`PricingTable::to_toml`]).
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] when validity is reversed, an element is priced twice, or a tier list
    /// is malformed (as the file reader would refuse).
    pub fn new(header: TableHeader, rows: Vec<PriceRow>) -> Result<Self> {
        let mut t = Self {
            id: header.id,
            version: header.version,
            scope: header.scope,
            valid_from: header.valid_from,
            valid_to: header.valid_to,
            rounding: header.rounding,
            source: header.source,
            derivations: None,
            tolerance: None,
            rows,
            origin: PathBuf::from("<code>"),
            sha256: String::new(),
        };
        for (i, r) in t.rows.iter_mut().enumerate() {
            r.number = i + 1;
        }
        // Validate exactly as a file would be validated, by reading our own TOML form.
        let text = t.to_toml()?;
        let parsed = file::parse_table(&text, Path::new("<code>"))?;
        t.sha256 = parsed.sha256;
        Ok(t)
    }

    /// Reads a table file.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when unreadable; otherwise as [`PricingTable::from_toml`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = crate::span::read_text(path)?;
        Self::from_toml(&text, path)
    }

    /// Parses a table from TOML text; `origin` names the file in errors and provenance.
    ///
    /// # Errors
    ///
    /// [`Error::Toml`] for malformed TOML, unknown keys, or a bare number where a quoted
    /// price, quantity or date belongs; [`Error::Invalid`] for a value that breaks a rule;
    /// [`Error::DuplicatePrice`] for an element priced twice. Each names file, line, column.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Self> {
        file::parse_table(text, origin)
    }

    /// The table in its TOML file format; reading it back gives an equal table.
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] if the TOML writer fails (it does not for valid tables).
    pub fn to_toml(&self) -> Result<String> {
        file::write_table(self)
    }

    /// The same rows as a national table valid on every date: used to revalue deliveries of
    /// any provider and year at one common reference table. Keeps the id, version and hash.
    pub(crate) fn as_reference(&self) -> PricingTable {
        let mut t = self.clone();
        t.scope = Scope::National;
        t.valid_from = Date::MIN;
        t.valid_to = Date::MAX;
        t
    }

    /// The table id.
    pub fn id(&self) -> &TableId {
        &self.id
    }
    /// The version label.
    pub fn version(&self) -> &str {
        &self.version
    }
    /// Who the table applies to.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }
    /// First day of validity.
    pub fn valid_from(&self) -> Date {
        self.valid_from
    }
    /// Last day of validity (inclusive).
    pub fn valid_to(&self) -> Date {
        self.valid_to
    }
    /// True when `date` is within validity.
    pub fn covers(&self, date: Date) -> bool {
        self.valid_from <= date && date <= self.valid_to
    }
    /// The rounding policy.
    pub fn rounding(&self) -> RoundingPolicy {
        self.rounding
    }
    /// How the table was set.
    pub fn source(&self) -> &str {
        &self.source
    }
    /// The derivations file the table declares, as written (relative to the table file).
    pub fn derivations(&self) -> Option<&Path> {
        self.derivations.as_deref()
    }
    /// The declared derivations file resolved against the folder of the table file.
    pub fn derivations_path(&self) -> Option<PathBuf> {
        let declared = self.derivations.as_deref()?;
        Some(match self.origin.parent() {
            Some(dir) => dir.join(declared),
            None => declared.to_owned(),
        })
    }
    /// How far a literal price may differ from its derivation, if declared.
    pub fn tolerance(&self) -> Option<UnitPrice> {
        self.tolerance
    }
    /// The rows, in file order.
    pub fn rows(&self) -> &[PriceRow] {
        &self.rows
    }
    /// The row pricing `element`.
    pub fn row(&self, element: &str) -> Option<&PriceRow> {
        self.rows.iter().find(|r| r.element.as_str() == element)
    }
    /// The file the table was read from (`<code>` for tables built in code).
    pub fn origin(&self) -> &Path {
        &self.origin
    }
    /// The SHA-256 of the file's bytes, lowercase hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

/// The position of a table in its [`PriceBook`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TableIdx(pub(crate) u32);

impl TableIdx {
    /// The index as a `usize`.
    pub fn get(self) -> usize {
        self.0 as usize
    }
}

/// What a lookup found: the table and the row (index into [`PricingTable::rows`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PriceRef {
    /// The table.
    pub table: TableIdx,
    /// The row, an index into the table's rows.
    pub row: u32,
}

/// Every loaded table, checked against the catalog and against each other.
#[derive(Debug, Clone)]
pub struct PriceBook {
    tables: Vec<PricingTable>,
    /// Per table, per catalog element, the row index pricing it.
    dense: Vec<Vec<Option<u32>>>,
    national: Vec<TableIdx>,
    by_provider: HashMap<ProviderId, Vec<TableIdx>>,
}

const SHIPPED_TABLES: &[(&str, &str)] = &[
    (
        "pricing-tables/lt-national-2019.toml",
        include_str!("../../pricing-tables/lt-national-2019.toml"),
    ),
    (
        "pricing-tables/lt-national-2024.toml",
        include_str!("../../pricing-tables/lt-national-2024.toml"),
    ),
    (
        "pricing-tables/prv-klaipeda-2024.toml",
        include_str!("../../pricing-tables/prv-klaipeda-2024.toml"),
    ),
];

impl PriceBook {
    /// Checks `tables` against `catalog` and each other.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownElement`] for a row whose element the catalog lacks,
    /// [`Error::Invalid`] for a pass-through row on a non-euro element or a priced row on a
    /// euro element, [`Error::OverlappingTables`] for two tables of one scope whose validity
    /// overlaps (naming both files).
    pub fn new(catalog: &Catalog, mut tables: Vec<PricingTable>) -> Result<Self> {
        // Deterministic order whatever order the caller gave.
        tables.sort_by(|a, b| {
            (&a.scope, a.valid_from, &a.id, &a.origin).cmp(&(
                &b.scope,
                b.valid_from,
                &b.id,
                &b.origin,
            ))
        });
        let mut errors = Self::problems(catalog, &tables);
        if !errors.is_empty() {
            return Err(errors.swap_remove(0));
        }
        let mut dense = Vec::with_capacity(tables.len());
        let mut national = Vec::new();
        let mut by_provider: HashMap<ProviderId, Vec<TableIdx>> = HashMap::new();
        for (i, t) in tables.iter().enumerate() {
            let idx = TableIdx(u32::try_from(i).map_err(|_| Error::Overflow {
                what: "number of tables".to_owned(),
            })?);
            let mut rows = vec![None; catalog.len()];
            for (r, row) in t.rows.iter().enumerate() {
                if let Some(e) = catalog.index_of(row.element.as_str()) {
                    rows[e.get()] = Some(r as u32);
                }
            }
            dense.push(rows);
            match &t.scope {
                Scope::National => national.push(idx),
                Scope::Provider(p) => by_provider.entry(p.clone()).or_default().push(idx),
            }
        }
        Ok(Self {
            tables,
            dense,
            national,
            by_provider,
        })
    }

    /// Every problem with `tables` against `catalog` and each other (empty when fine).
    pub fn problems(catalog: &Catalog, tables: &[PricingTable]) -> Vec<Error> {
        let mut errors = Vec::new();
        for t in tables {
            for row in &t.rows {
                let loc = crate::Location::new(&t.origin, row.line, 0);
                match catalog.get(row.element.as_str()) {
                    None => errors.push(Error::UnknownElement {
                        element: row.element.clone(),
                        context: format!("table `{}` ({loc})", t.id),
                    }),
                    Some(e) => {
                        let pass = matches!(row.rule, PriceRule::PassThrough);
                        if pass != (e.unit() == Unit::Eur) {
                            errors.push(Error::Invalid {
                                location: loc,
                                field: "pass_through".to_owned(),
                                message: format!(
                                    "element `{}` has unit {}: {}",
                                    row.element,
                                    e.unit(),
                                    if pass {
                                        "only euro elements are pass-through"
                                    } else {
                                        "euro elements must be pass_through = true"
                                    }
                                ),
                            });
                        }
                    }
                }
            }
        }
        for (i, a) in tables.iter().enumerate() {
            for b in &tables[i + 1..] {
                if a.scope == b.scope && a.valid_from <= b.valid_to && b.valid_from <= a.valid_to {
                    errors.push(Error::OverlappingTables {
                        first: a.origin.clone(),
                        second: b.origin.clone(),
                        scope: a.scope.to_string(),
                        date: a.valid_from.max(b.valid_from),
                    });
                }
            }
        }
        errors
    }

    /// The tables shipped with the crate (`pricing-tables/`), checked against `catalog`.
    ///
    /// # Errors
    ///
    /// As [`PriceBook::new`]; never for the shipped catalog (a test checks).
    pub fn shipped(catalog: &Catalog) -> Result<Self> {
        let tables = SHIPPED_TABLES
            .iter()
            .map(|(name, text)| PricingTable::from_toml(text, Path::new(name)))
            .collect::<Result<Vec<_>>>()?;
        Self::new(catalog, tables)
    }

    /// Reads every `*.toml` file directly in `dir` except `catalog.toml` (subfolders are not
    /// read), in file-name order.
    ///
    /// # Errors
    ///
    /// The first problem found; [`PriceBook::check_dir`] lists them all.
    pub fn load_dir(dir: impl AsRef<Path>, catalog: &Catalog) -> Result<Self> {
        let mut tables = Vec::new();
        for path in table_files(dir.as_ref())? {
            tables.push(PricingTable::load(&path)?);
        }
        Self::new(catalog, tables)
    }

    /// Every problem with the tables in `dir`, each naming its file (empty when fine).
    pub fn check_dir(dir: impl AsRef<Path>, catalog: &Catalog) -> Vec<Error> {
        let files = match table_files(dir.as_ref()) {
            Ok(f) => f,
            Err(e) => return vec![e],
        };
        let mut errors = Vec::new();
        let mut tables = Vec::new();
        for path in files {
            match PricingTable::load(&path) {
                Ok(t) => tables.push(t),
                Err(e) => errors.push(e),
            }
        }
        errors.extend(Self::problems(catalog, &tables));
        errors
    }

    /// The tables, in a fixed order (by scope, start of validity, id, file).
    pub fn tables(&self) -> &[PricingTable] {
        &self.tables
    }

    /// The table at `idx`.
    pub fn table(&self, idx: TableIdx) -> &PricingTable {
        &self.tables[idx.get()]
    }

    /// The row a reference points at.
    pub fn row(&self, r: PriceRef) -> &PriceRow {
        &self.tables[r.table.get()].rows[r.row as usize]
    }

    /// The price of `element` for `provider` on `date`: a provider table covering the date and
    /// pricing the element wins, else the national table covering the date; `None` when no
    /// table prices it that day (never a default).
    pub fn lookup(&self, element: ElementIdx, provider: &str, date: Date) -> Option<PriceRef> {
        if let Some(own) = self.by_provider.get(provider) {
            if let Some(hit) = self.find_in(own, element, date) {
                return Some(hit);
            }
        }
        self.find_in(&self.national, element, date)
    }

    /// The price of `element` in one chosen table by id, for `date`, for any provider
    /// (used to revalue everything at a common reference table).
    pub fn lookup_in_table(
        &self,
        table: &str,
        element: ElementIdx,
        date: Date,
    ) -> Option<PriceRef> {
        let candidates: Vec<TableIdx> = (0..self.tables.len() as u32)
            .map(TableIdx)
            .filter(|i| self.tables[i.get()].id.as_str() == table)
            .collect();
        self.find_in(&candidates, element, date)
    }

    fn find_in(&self, tables: &[TableIdx], element: ElementIdx, date: Date) -> Option<PriceRef> {
        tables.iter().find_map(|&t| {
            let table = &self.tables[t.get()];
            if !table.covers(date) {
                return None;
            }
            let row = (*self.dense[t.get()].get(element.get())?)?;
            Some(PriceRef { table: t, row })
        })
    }
}

fn table_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::Io {
            path: dir.to_owned(),
            source,
        })?;
        let path = entry.path();
        let is_toml = path.extension().is_some_and(|e| e == "toml");
        let is_catalog = path.file_name().is_some_and(|n| n == "catalog.toml");
        if path.is_file() && is_toml && !is_catalog {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests;
