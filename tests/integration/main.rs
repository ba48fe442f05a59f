//! The integration tests of aidcost: one binary, one module per theme.

mod compare;
mod derivation;
mod errors;
mod fixtures;
mod laws;
mod prevention;

use std::path::{Path, PathBuf};

use aidcost::{
    load_clients, load_deliveries, Catalog, ClientRegister, CsvOptions, Delivery, PriceBook,
};

pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub(crate) struct World {
    pub catalog: Catalog,
    pub book: PriceBook,
    pub clients: ClientRegister,
    pub deliveries: Vec<Delivery>,
}

pub(crate) fn world() -> World {
    let catalog = Catalog::shipped().unwrap();
    let book = PriceBook::load_dir(fixture("tables"), &catalog).unwrap();
    let clients = load_clients(fixture("clients.csv"), CsvOptions::detect()).unwrap();
    let deliveries = load_deliveries(fixture("deliveries.csv"), CsvOptions::detect()).unwrap();
    World {
        catalog,
        book,
        clients,
        deliveries,
    }
}
