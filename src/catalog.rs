//! The unified package: [`ServiceElement`]s with their [`Unit`] and [`Category`], in a
//! [`Catalog`] loaded from `pricing-tables/catalog.toml`.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};
use crate::id::ElementCode;
use crate::span::{invalid, toml_error};

macro_rules! str_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name used in files.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::Error;

            fn from_str(s: &str) -> $crate::Result<Self> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::Error::Parse {
                        what: $what,
                        value: s.to_owned(),
                        reason: format!("expected one of: {}", [$($text),+].join(", ")),
                    }),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use str_enum;

str_enum!(
    /// The billing unit of an element (DOMAIN.md section 2).
    Unit, "unit" {
        /// An hour of staff time.
        Hour = "hour",
        /// A session (psychologist, psychotherapist, supervision).
        Session = "session",
        /// One contact (information, hotline).
        Contact = "contact",
        /// One night in a bed.
        BedNight = "bed_night",
        /// One day.
        Day = "day",
        /// One month.
        Month = "month",
        /// One case.
        Case = "case",
        /// One kilometre.
        Km = "km",
        /// One trip.
        Trip = "trip",
        /// One item.
        Item = "item",
        /// One page.
        Page = "page",
        /// One event.
        Event = "event",
        /// One participant.
        Participant = "participant",
        /// Pass-through: the quantity is an actual cost in euro, at price 1.
        Eur = "eur",
    }
);

str_enum!(
    /// The category of an element (DOMAIN.md section 2).
    Category, "category" {
        /// Case management.
        CaseManagement = "case_management",
        /// General social services.
        GeneralSocial = "general_social",
        /// Material help.
        Material = "material",
        /// Logistics.
        Logistics = "logistics",
        /// Social inclusion.
        Inclusion = "inclusion",
        /// Identification of victims.
        Identification = "identification",
        /// Social care.
        SocialCare = "social_care",
        /// Psychosocial help.
        Psychosocial = "psychosocial",
        /// Accommodation.
        Accommodation = "accommodation",
        /// Psychological help.
        Psychological = "psychological",
        /// Legal aid.
        Legal = "legal",
        /// Language help.
        Language = "language",
        /// Health.
        Health = "health",
        /// Administrative help.
        Administrative = "administrative",
        /// Help for children.
        Child = "child",
        /// Information.
        Information = "information",
        /// Prevention and public education.
        Prevention = "prevention",
        /// Capacity building for professionals.
        CapacityBuilding = "capacity_building",
    }
);

/// One element of the unified service package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceElement {
    code: ElementCode,
    name_lt: String,
    name_en: String,
    category: Category,
    unit: Unit,
    spis: Option<u32>,
    description: String,
}

impl ServiceElement {
    /// An element, built in code.
    pub fn new(code: ElementCode, category: Category, unit: Unit) -> Self {
        Self {
            name_lt: String::new(),
            name_en: code.to_string(),
            code,
            category,
            unit,
            spis: None,
            description: String::new(),
        }
    }

    /// The code, such as `SHELTER`.
    pub fn code(&self) -> &ElementCode {
        &self.code
    }
    /// The Lithuanian name.
    pub fn name_lt(&self) -> &str {
        &self.name_lt
    }
    /// The English name.
    pub fn name_en(&self) -> &str {
        &self.name_en
    }
    /// The category.
    pub fn category(&self) -> Category {
        self.category
    }
    /// The billing unit.
    pub fn unit(&self) -> Unit {
        self.unit
    }
    /// The Social Services Catalogue (SPIS) code, where known.
    pub fn spis(&self) -> Option<u32> {
        self.spis
    }
    /// A one-line description.
    pub fn description(&self) -> &str {
        &self.description
    }
}

/// The position of an element in its [`Catalog`]: a small dense index for fast tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ElementIdx(pub(crate) u32);

impl ElementIdx {
    /// The index as a `usize`.
    pub fn get(self) -> usize {
        self.0 as usize
    }
}

/// The unified package: every element, by code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    elements: Vec<ServiceElement>,
    by_code: HashMap<ElementCode, ElementIdx>,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    schema: Spanned<u32>,
    #[serde(default)]
    source: String,
    #[serde(default)]
    element: Vec<Spanned<RawElement>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawElement {
    code: Spanned<String>,
    #[serde(default)]
    name_lt: String,
    name_en: String,
    category: Spanned<String>,
    unit: Spanned<String>,
    #[serde(default)]
    spis: Option<u32>,
    #[serde(default)]
    description: String,
}

/// The schema version of catalog and pricing-table files this crate reads.
pub const SCHEMA_VERSION: u32 = 1;

const SHIPPED_CATALOG: &str = include_str!("../pricing-tables/catalog.toml");

impl Catalog {
    /// A catalog built in code.
    ///
    /// # Errors
    ///
    /// [`Error::DuplicateElement`] when two elements share a code.
    pub fn new(elements: Vec<ServiceElement>) -> Result<Self> {
        let mut by_code = HashMap::new();
        for (i, e) in elements.iter().enumerate() {
            let idx = ElementIdx(u32::try_from(i).map_err(|_| Error::Overflow {
                what: "catalog size".to_owned(),
            })?);
            if by_code.insert(e.code.clone(), idx).is_some() {
                return Err(Error::DuplicateElement {
                    location: crate::Location::file("<code>"),
                    element: e.code.clone(),
                });
            }
        }
        Ok(Self {
            elements,
            by_code,
            source: String::new(),
        })
    }

    /// The catalog shipped with the crate (`pricing-tables/catalog.toml`).
    ///
    /// # Errors
    ///
    /// Never in a released crate (a test loads it); the `Result` keeps library code panic-free.
    pub fn shipped() -> Result<Self> {
        Self::from_toml(SHIPPED_CATALOG, Path::new("pricing-tables/catalog.toml"))
    }

    /// Reads a catalog file.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when unreadable; otherwise as [`Catalog::from_toml`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = crate::span::read_text(path)?;
        Self::from_toml(&text, path)
    }

    /// Parses a catalog from TOML text; `origin` names the file in errors.
    ///
    /// # Errors
    ///
    /// [`Error::Toml`] for malformed TOML or unknown keys, [`Error::Invalid`] for a bad
    /// code, unit, category or schema, [`Error::DuplicateElement`] for a repeated code; each
    /// names file, line and column.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Self> {
        let raw: RawCatalog = toml::from_str(text).map_err(|e| toml_error(origin, text, &e))?;
        crate::span::check_schema(origin, text, &raw.schema)?;
        let mut elements = Vec::with_capacity(raw.element.len());
        let mut by_code = HashMap::new();
        for spanned in raw.element {
            let e = spanned.into_inner();
            let at = |s: &Spanned<String>, field: &str, err: Error| {
                invalid(origin, text, s.span(), field, reason_of(&err))
            };
            let code =
                ElementCode::new(e.code.get_ref()).map_err(|err| at(&e.code, "code", err))?;
            let unit = e
                .unit
                .get_ref()
                .parse()
                .map_err(|err| at(&e.unit, "unit", err))?;
            let category = e
                .category
                .get_ref()
                .parse()
                .map_err(|err| at(&e.category, "category", err))?;
            let idx = ElementIdx(elements.len() as u32);
            if by_code.insert(code.clone(), idx).is_some() {
                return Err(Error::DuplicateElement {
                    location: crate::span::locate(origin, text, e.code.span().start),
                    element: code,
                });
            }
            elements.push(ServiceElement {
                code,
                name_lt: e.name_lt,
                name_en: e.name_en,
                category,
                unit,
                spis: e.spis,
                description: e.description,
            });
        }
        Ok(Self {
            elements,
            by_code,
            source: raw.source,
        })
    }

    /// The element with this code.
    pub fn get(&self, code: &str) -> Option<&ServiceElement> {
        self.index_of(code).map(|i| &self.elements[i.get()])
    }

    /// The dense index of the element with this code.
    pub fn index_of(&self, code: &str) -> Option<ElementIdx> {
        self.by_code.get(code).copied()
    }

    /// The element at a dense index.
    pub fn element(&self, idx: ElementIdx) -> Option<&ServiceElement> {
        self.elements.get(idx.get())
    }

    /// Every element, in file order.
    pub fn iter(&self) -> impl Iterator<Item = &ServiceElement> {
        self.elements.iter()
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.elements.len()
    }

    /// True when the catalog has no elements.
    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// The file's `source` note.
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// The human reason inside a parse error, without its repetition of the value.
pub(crate) fn reason_of(err: &Error) -> String {
    match err {
        Error::Parse { value, reason, .. } => format!("`{value}`: {reason}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
schema = 1
[[element]]
code = "SHELTER"
name_en = "shelter"
category = "accommodation"
unit = "bed_night"
"#;

    #[test]
    fn loads_a_minimal_catalog() {
        let c = Catalog::from_toml(GOOD, Path::new("c.toml")).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c.get("SHELTER").unwrap().unit(), Unit::BedNight);
    }

    #[test]
    fn shipped_catalog_has_every_domain_element_once() {
        let c = Catalog::shipped().unwrap();
        assert_eq!(c.len(), 35, "DOMAIN.md section 2 lists 35 elements");
        assert_eq!(c.get("MEDICAL").unwrap().unit(), Unit::Eur);
        assert_eq!(c.get("INFO").unwrap().spis(), Some(201));
        assert_eq!(c.get("SKILLS").unwrap().spis(), Some(320));
        assert_eq!(c.get("OVERNIGHT").unwrap().unit(), Unit::BedNight);
    }

    #[test]
    fn rejects_unknown_unit_with_location() {
        let bad = GOOD.replace("bed_night", "night");
        let err = Catalog::from_toml(&bad, Path::new("c.toml")).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("c.toml:7:8: field `unit`: `night`"),
            "{msg}"
        );
    }

    #[test]
    fn rejects_unknown_category_and_duplicate_code() {
        let bad = GOOD.replace("accommodation", "housing");
        let msg = Catalog::from_toml(&bad, Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("field `category`"), "{msg}");
        let twice = format!("{GOOD}{}", GOOD.replace("schema = 1", ""));
        let err = Catalog::from_toml(&twice, Path::new("c.toml")).unwrap_err();
        assert!(matches!(err, Error::DuplicateElement { .. }), "{err}");
        assert!(err.to_string().starts_with("c.toml:11:"), "{err}");
    }

    #[test]
    fn rejects_unknown_keys_and_schema() {
        let bad = GOOD.replace("unit =", "colour = \"red\"\nunit =");
        let err = Catalog::from_toml(&bad, Path::new("c.toml")).unwrap_err();
        assert!(err.to_string().contains("unknown field `colour`"), "{err}");
        let bad = GOOD.replace("schema = 1", "schema = 2");
        let err = Catalog::from_toml(&bad, Path::new("c.toml")).unwrap_err();
        assert!(err.to_string().contains("unsupported schema 2"), "{err}");
    }
}
