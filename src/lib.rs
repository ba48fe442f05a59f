#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod catalog;
pub mod clients;
pub mod columnar;
pub mod compare;
mod csvio;
pub mod currency;
mod date;
pub mod delivery;
pub mod derivation;
mod error;
pub mod id;
pub mod money;
pub mod prevention;
pub mod pricing;
pub mod project;
pub mod rollup;
mod span;
#[cfg(test)]
mod testkit;
pub mod valuation;

pub use catalog::{Catalog, Category, ElementIdx, ServiceElement, Unit};
pub use clients::{
    load_clients, read_clients, read_clients_all, AgeBand, Client, ClientRegister, Outcome,
    TargetGroup, VictimStatus,
};
pub use csvio::{record_lines, CsvOptions};
pub use currency::{litas_to_euro, ConversionRule, Currency, Litas, LTL_PER_EUR};
pub use date::Date;
pub use delivery::{load_deliveries, read_deliveries, read_deliveries_all, Delivery};
pub use derivation::{
    ActivityCost, CapacityCost, Derivations, ElementCost, Figure, FlatRate, Mismatch, Rate,
    Regulation, RoleCost, Step,
};
pub use error::{Error, Location, Result};
pub use id::{ClientId, ElementCode, ProviderId, TableId};
pub use money::{allocate, allocate_dp, Money, Quantity, Rounding, UnitPrice};
pub use pricing::{
    PriceBook, PriceRef, PriceRow, PriceRule, PricingTable, RoundingPolicy, Scope, TableHeader,
    TableIdx, Tier,
};
pub use rollup::{GroupBy, GroupKey, KeyPart, Rollup, RollupContext, Totals};
pub use valuation::{
    value, Context, LineView, RejectReason, Rejection, TierPart, Valuation, ValuationOptions,
    ValuedLine,
};
