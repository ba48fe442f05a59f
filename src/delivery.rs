//! Deliveries of help: one [`Delivery`] per row of `deliveries.csv`, or built in code.

use std::collections::HashMap;
use std::path::Path;

use crate::catalog::Unit;
use crate::csvio::{read_text, CsvOptions, CsvTable};
use crate::error::{Error, Result};
use crate::id::{ClientId, ElementCode, ProviderId};
use crate::money::Quantity;
use crate::Date;

/// One delivery of an element to a client by a provider on a date.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Delivery {
    date: Date,
    provider: ProviderId,
    client: ClientId,
    element: ElementCode,
    quantity: Quantity,
    unit: Option<Unit>,
    staff_hours: Option<Quantity>,
    note: Option<String>,
}

impl Delivery {
    /// A delivery built in code. The quantity is checked at valuation (a quantity that is not
    /// positive is a rejection there, not a panic here).
    pub fn new(
        date: Date,
        provider: ProviderId,
        client: ClientId,
        element: ElementCode,
        quantity: Quantity,
    ) -> Self {
        Self {
            date,
            provider,
            client,
            element,
            quantity,
            unit: None,
            staff_hours: None,
            note: None,
        }
    }

    /// States the unit the quantity is in (checked against the catalog at valuation).
    pub fn with_unit(mut self, unit: Unit) -> Self {
        self.unit = Some(unit);
        self
    }

    /// Records the staff hours spent.
    pub fn with_staff_hours(mut self, hours: Quantity) -> Self {
        self.staff_hours = Some(hours);
        self
    }

    /// Adds a free-text note (never a name).
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// The date.
    pub fn date(&self) -> Date {
        self.date
    }
    /// The provider.
    pub fn provider(&self) -> &ProviderId {
        &self.provider
    }
    /// The client.
    pub fn client(&self) -> &ClientId {
        &self.client
    }
    /// The element.
    pub fn element(&self) -> &ElementCode {
        &self.element
    }
    /// The quantity, in the element's unit.
    pub fn quantity(&self) -> Quantity {
        self.quantity
    }
    /// The unit the row stated, if it stated one.
    pub fn unit(&self) -> Option<Unit> {
        self.unit
    }
    /// The staff hours recorded, if any.
    pub fn staff_hours(&self) -> Option<Quantity> {
        self.staff_hours
    }
    /// The note, if any.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }
}

pub(crate) const COLUMNS: &[&str] = &[
    "date",
    "provider",
    "client",
    "element",
    "quantity",
    "unit",
    "staff_hours",
    "note",
];
pub(crate) const REQUIRED: &[&str] = &["date", "provider", "client", "element", "quantity"];

/// Shares one allocation per distinct id and checks each distinct id once.
#[derive(Default)]
pub(crate) struct Interner {
    clients: HashMap<String, ClientId>,
    providers: HashMap<String, ProviderId>,
    elements: HashMap<String, ElementCode>,
}

macro_rules! intern_fn {
    ($fn:ident, $field:ident, $ty:ty) => {
        pub(crate) fn $fn(&mut self, s: &str) -> Result<$ty> {
            if let Some(id) = self.$field.get(s) {
                return Ok(id.clone());
            }
            let id = <$ty>::new(s)?;
            self.$field.insert(s.to_owned(), id.clone());
            Ok(id)
        }
    };
}

impl Interner {
    intern_fn!(client, clients, ClientId);
    intern_fn!(provider, providers, ProviderId);
    intern_fn!(element, elements, ElementCode);
}

/// Reads deliveries from CSV text; `origin` names the file in errors.
///
/// # Errors
///
/// The first malformed row, as an [`Error::Invalid`] naming file, line, column and field;
/// [`read_deliveries_all`] lists every one.
pub fn read_deliveries(text: &str, origin: &Path, options: CsvOptions) -> Result<Vec<Delivery>> {
    let mut out = Vec::new();
    parse(text, origin, options, |r| {
        r.map(|d| out.push(d))?;
        Ok(())
    })?;
    Ok(out)
}

/// Reads deliveries, collecting every malformed row instead of stopping at the first.
pub fn read_deliveries_all(
    text: &str,
    origin: &Path,
    options: CsvOptions,
) -> (Vec<Delivery>, Vec<Error>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    if let Err(e) = parse(text, origin, options, |r| {
        match r {
            Ok(d) => out.push(d),
            Err(e) => errors.push(e),
        }
        Ok(())
    }) {
        errors.push(e);
    }
    (out, errors)
}

/// Reads a deliveries file.
///
/// # Errors
///
/// [`Error::Io`] when unreadable, otherwise as [`read_deliveries`].
pub fn load_deliveries(path: impl AsRef<Path>, options: CsvOptions) -> Result<Vec<Delivery>> {
    let path = path.as_ref();
    read_deliveries(&read_text(path)?, path, options)
}

fn parse(
    text: &str,
    origin: &Path,
    options: CsvOptions,
    mut sink: impl FnMut(Result<Delivery>) -> Result<()>,
) -> Result<()> {
    let mut table = CsvTable::open(text, origin, options, REQUIRED, COLUMNS)?;
    let mut ids = Interner::default();
    loop {
        let row = match table.next_row() {
            Ok(Some(row)) => row,
            Ok(None) => return Ok(()),
            Err(e) => {
                // A structural error (wrong field count) spoils only its row.
                sink(Err(e))?;
                continue;
            }
        };
        let one = (|| -> Result<Delivery> {
            let id_err = |col: &str, e: Error| row.error(col, crate::catalog::reason_of(&e));
            let date = row.parse("date")?;
            let provider = ids
                .provider(row.get("provider"))
                .map_err(|e| id_err("provider", e))?;
            let client = ids
                .client(row.get("client"))
                .map_err(|e| id_err("client", e))?;
            let element = ids
                .element(row.get("element"))
                .map_err(|e| id_err("element", e))?;
            let quantity = row
                .decimal("quantity")?
                .ok_or_else(|| row.error("quantity", "empty; a value is required"))?;
            let unit = match row.get("unit") {
                "" => None,
                _ => Some(row.parse("unit")?),
            };
            let staff_hours = row.decimal("staff_hours")?;
            let note = match row.get("note") {
                "" => None,
                n => Some(n.to_owned()),
            };
            Ok(Delivery {
                date,
                provider,
                client,
                element,
                quantity,
                unit,
                staff_hours,
                note,
            })
        })();
        sink(one)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_comma_files_with_optional_columns() {
        let text = "date,provider,client,element,quantity\n2019-03-01,P1,C1,CONSULT,1.5\n";
        let d = read_deliveries(text, Path::new("d.csv"), CsvOptions::detect()).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].quantity().to_string(), "1.5");
        assert_eq!(d[0].unit(), None);
    }

    #[test]
    fn reads_excel_lithuanian_dialect_with_bom_and_decimal_commas() {
        let text = "\u{feff}date;provider;client;element;quantity;staff_hours\r\n2019-03-01;P1;C1;CONSULT;1,25;2,5\r\n";
        let d = read_deliveries(text, Path::new("d.csv"), CsvOptions::detect()).unwrap();
        assert_eq!(d[0].quantity().to_string(), "1.25");
        assert_eq!(d[0].staff_hours().unwrap().to_string(), "2.5");
    }

    #[test]
    fn a_bad_cell_names_file_line_column_and_field() {
        let text = "date,provider,client,element,quantity\n2019-03-01,P1,C1,CONSULT,1.5\n2019-02-30,P1,C1,CONSULT,x\n";
        let err = read_deliveries(text, Path::new("d.csv"), CsvOptions::detect()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "d.csv:3:1: field `date`: `2019-02-30`: no such day"
        );
        let (ok, errors) = read_deliveries_all(text, Path::new("d.csv"), CsvOptions::detect());
        assert_eq!((ok.len(), errors.len()), (1, 1));
    }

    #[test]
    fn a_decimal_comma_in_a_comma_file_explains_itself() {
        let text = "date,provider,client,element,quantity\n2019-03-01,P1,C1,CONSULT,\"1,5\"\n";
        let err = read_deliveries(text, Path::new("d.csv"), CsvOptions::detect()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("d.csv:2:5: field `quantity`"), "{msg}");
        assert!(msg.contains("--decimal-comma"), "{msg}");
        let d = read_deliveries(
            text,
            Path::new("d.csv"),
            CsvOptions::detect().with_decimal_comma(true),
        )
        .unwrap();
        assert_eq!(d[0].quantity().to_string(), "1.5");
    }

    #[test]
    fn personal_codes_and_unknown_columns_are_refused() {
        let text = "date,provider,client,element,quantity\n2019-03-01,P1,39001010000,CONSULT,1\n";
        let err = read_deliveries(text, Path::new("d.csv"), CsvOptions::detect()).unwrap_err();
        assert!(err.to_string().contains("personal code"), "{err}");
        assert!(
            err.to_string().starts_with("d.csv:2:3: field `client`"),
            "{err}"
        );
        let text = "date,provider,client,element,quantity,name\n";
        let err = read_deliveries(text, Path::new("d.csv"), CsvOptions::detect()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("d.csv:1:6: field `name`: unknown column"),
            "{err}"
        );
        let text = "date,provider,client,element\n";
        let err = read_deliveries(text, Path::new("d.csv"), CsvOptions::detect()).unwrap_err();
        assert!(
            err.to_string().contains("`quantity`: required column"),
            "{err}"
        );
    }

    #[test]
    fn a_short_row_is_an_error_with_its_line() {
        let text = "date,provider,client,element,quantity\n2019-03-01,P1,C1\n";
        let err = read_deliveries(text, Path::new("d.csv"), CsvOptions::detect()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("d.csv:2: field `(row)`: the row has 3 fields"),
            "{err}"
        );
    }
}
