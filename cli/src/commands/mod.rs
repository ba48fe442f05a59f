//! One module per subcommand, and what they share: loading the inputs and valuing them.

pub(crate) mod catalog;
pub(crate) mod chart;
pub(crate) mod check;
pub(crate) mod compare;
pub(crate) mod convert;
pub(crate) mod demo;
pub(crate) mod derive;
pub(crate) mod explain;
pub(crate) mod prevention;
pub(crate) mod project;
pub(crate) mod value;

use std::collections::BTreeMap;

use aidcost::{
    value as value_deliveries, Catalog, ClientRegister, Context, PriceBook, Rejection, Valuation,
    ValuationOptions,
};

use crate::failure::Failure;
use crate::input::{load_clients, load_deliveries, load_tables, Deliveries, InputArgs, Status};

/// Everything read for `value` and `explain`.
pub(crate) struct Loaded {
    pub(crate) catalog: Catalog,
    pub(crate) book: PriceBook,
    pub(crate) clients: Option<ClientRegister>,
    pub(crate) deliveries: Deliveries,
}

impl Loaded {
    /// Reads the tables, the register (if given) and the deliveries.
    pub(crate) fn read(args: &InputArgs) -> Result<Self, Failure> {
        let (catalog, book) = load_tables(&args.tables)?;
        let clients = load_register(args, &catalog)?;
        let deliveries = load_deliveries(&args.deliveries, args.csv_options())?;
        Ok(Self {
            catalog,
            book,
            clients,
            deliveries,
        })
    }

    /// The valuation context.
    pub(crate) fn context(&self) -> Context<'_> {
        Context {
            catalog: &self.catalog,
            book: &self.book,
            clients: self.clients.as_ref(),
        }
    }

    /// Values every row (never strict: rejections are reported, not raised).
    pub(crate) fn value(&self) -> Result<Valuation<'_>, Failure> {
        let _status = Status::for_rows(self.deliveries.rows.len());
        Ok(value_deliveries(
            &self.deliveries.rows,
            self.context(),
            ValuationOptions::default(),
        )?)
    }
}

/// The client register of `--clients`, if given; a needs code the catalog lacks could never
/// be served, so it refuses the register.
pub(crate) fn load_register(
    args: &InputArgs,
    catalog: &Catalog,
) -> Result<Option<ClientRegister>, Failure> {
    let Some(path) = &args.clients else {
        return Ok(None);
    };
    let register = load_clients(path, args.csv_options())?;
    if let Some(e) = register.unknown_needs(catalog).into_iter().next() {
        return Err(e.into());
    }
    Ok(Some(register))
}

/// Rejections counted by reason code, partial ones apart: `no_price 1, over_cap 2 (1 partial)`.
pub(crate) fn rejection_summary<'r>(rejections: impl IntoIterator<Item = &'r Rejection>) -> String {
    rejection_summary_by(
        rejections
            .into_iter()
            .map(|r| (r.reason().code(), r.is_partial())),
    )
}

/// As [`rejection_summary`], from (reason code, partial) pairs.
pub(crate) fn rejection_summary_by(
    rejections: impl IntoIterator<Item = (&'static str, bool)>,
) -> String {
    let mut by_code: BTreeMap<&'static str, (u64, u64)> = BTreeMap::new();
    for (code, partial) in rejections {
        let e = by_code.entry(code).or_default();
        e.0 += 1;
        if partial {
            e.1 += 1;
        }
    }
    by_code
        .iter()
        .map(|(code, (n, partial))| match partial {
            0 => format!("{code} {n}"),
            p => format!("{code} {n} ({p} partial)"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
