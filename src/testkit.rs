//! Fixtures shared by the unit tests.

use std::path::Path;

use crate::{Catalog, ClientId, Delivery, ElementCode, PriceBook, PricingTable, ProviderId};

const CATALOG: &str = r#"
schema = 1
[[element]]
code = "CONSULT"
name_en = "counselling"
category = "general_social"
unit = "hour"
[[element]]
code = "SHELTER"
name_en = "shelter"
category = "accommodation"
unit = "bed_night"
[[element]]
code = "MEDICAL"
name_en = "medical"
category = "health"
unit = "eur"
"#;

pub(crate) fn catalog() -> Catalog {
    Catalog::from_toml(CATALOG, Path::new("catalog.toml")).unwrap()
}

/// CONSULT 20.00/h in 0.25 h; SHELTER 30.00 for nights 1–30 of the client's year, 20.00
/// beyond, at most 90 a year; MEDICAL pass-through.
pub(crate) const NATIONAL: &str = r#"schema = 1
id = "lt-national"
version = "2024"
scope = "national"
valid_from = "2024-01-01"
valid_to = "2024-12-31"
source = "test"

[[price]]
element = "CONSULT"
unit_price = "20.00"
min_increment = "0.25"

[[price]]
element = "SHELTER"
tiers = [
  { up_to = "30", unit_price = "30.00" },
  { unit_price = "20.00" },
]
cap_per_client_year = "90"

[[price]]
element = "MEDICAL"
pass_through = true
"#;

pub(crate) fn book(c: &Catalog) -> PriceBook {
    PriceBook::new(
        c,
        vec![PricingTable::from_toml(NATIONAL, Path::new("n.toml")).unwrap()],
    )
    .unwrap()
}

pub(crate) fn delivery(date: &str, client: &str, element: &str, qty: &str) -> Delivery {
    Delivery::new(
        date.parse().unwrap(),
        ProviderId::new("PRV-A").unwrap(),
        ClientId::new(client).unwrap(),
        ElementCode::new(element).unwrap(),
        qty.parse().unwrap(),
    )
}
