//! Output writers: number formatting, aligned terminal tables, CSV (plain or Excel-LT), JSON.

use std::borrow::Cow;
use std::io::{self, Write};

use aidcost::{Money, Quantity, UnitPrice};
use rust_decimal::{Decimal, RoundingStrategy};

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum Format {
    /// Aligned columns for a terminal.
    #[default]
    Table,
    /// CSV (with `--excel-lt`: semicolons, decimal commas, BOM, CRLF).
    Csv,
    /// JSON with amounts as decimal strings.
    Json,
}

/// A display amount: two decimals, half away from zero (display only; figures are exact).
pub(crate) fn money2(m: Money) -> String {
    dec2(m.get())
}

/// Two decimals, half away from zero, for display.
pub(crate) fn dec2(d: Decimal) -> String {
    let r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    format!("{r:.2}")
}

/// An exact amount as a decimal string with at least two decimals (`12.5` → `12.50`,
/// `43.7500` → `43.75`, `10.005` stays `10.005`): nothing is rounded.
pub(crate) fn money_exact(m: Money) -> String {
    exact2(m.get())
}

/// As [`money_exact`], for any decimal.
pub(crate) fn exact2(d: Decimal) -> String {
    exact2_decimal(d).to_string()
}

/// The decimal [`exact2`] writes.
fn exact2_decimal(d: Decimal) -> Decimal {
    let mut n = d.normalize();
    if n.scale() < 2 {
        n.rescale(2);
    }
    n
}

/// A quantity without trailing zeros (`1.50` → `1.5`).
pub(crate) fn qty(q: Quantity) -> String {
    q.get().normalize().to_string()
}

/// A unit price as written in its table (`32.00`, `0.40`).
pub(crate) fn price(p: UnitPrice) -> String {
    p.to_string()
}

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

/// An aligned text table: a header, rows and optional separator lines before some rows.
#[derive(Debug)]
pub(crate) struct TextTable {
    headers: Vec<String>,
    align: Vec<Align>,
    rows: Vec<Option<Vec<String>>>,
}

impl TextTable {
    pub(crate) fn new(columns: &[(&str, Align)]) -> Self {
        Self {
            headers: columns.iter().map(|(h, _)| (*h).to_owned()).collect(),
            align: columns.iter().map(|(_, a)| *a).collect(),
            rows: Vec::new(),
        }
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(Some(cells));
    }

    /// A rule line (before a total row, say).
    pub(crate) fn rule(&mut self) {
        self.rows.push(None);
    }

    pub(crate) fn render(&self) -> String {
        let n = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for r in self.rows.iter().flatten() {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = String::new();
        let line = |cells: &[String], out: &mut String| {
            let mut text = String::new();
            for (i, c) in cells.iter().enumerate().take(n) {
                if i > 0 {
                    text.push_str("  ");
                }
                let pad = widths[i].saturating_sub(c.chars().count());
                match self.align[i] {
                    Align::Left => {
                        text.push_str(c);
                        text.extend(std::iter::repeat(' ').take(pad));
                    }
                    Align::Right => {
                        text.extend(std::iter::repeat(' ').take(pad));
                        text.push_str(c);
                    }
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        line(&self.headers, &mut out);
        let total: usize = widths.iter().sum::<usize>() + 2 * n.saturating_sub(1);
        let rule: String = "-".repeat(total);
        out.push_str(&rule);
        out.push('\n');
        for r in &self.rows {
            match r {
                Some(cells) => line(cells, &mut out),
                None => {
                    out.push_str(&rule);
                    out.push('\n');
                }
            }
        }
        out
    }
}

/// One CSV cell: text is written as is, numbers get a decimal comma in the Excel-LT dialect.
#[derive(Debug, Clone)]
pub(crate) enum Cell {
    Text(String),
    Num(String),
}

/// A CSV writer in the plain dialect (comma, point, LF) or Excel-LT (semicolon, comma, BOM,
/// CRLF).
pub(crate) struct CsvOut<W: Write> {
    writer: csv::Writer<W>,
    excel_lt: bool,
}

impl<W: Write> CsvOut<W> {
    pub(crate) fn new(mut sink: W, excel_lt: bool) -> io::Result<Self> {
        let mut b = csv::WriterBuilder::new();
        if excel_lt {
            sink.write_all("\u{feff}".as_bytes())?;
            b.delimiter(b';').terminator(csv::Terminator::CRLF);
        }
        Ok(Self {
            writer: b.from_writer(sink),
            excel_lt,
        })
    }

    pub(crate) fn header(&mut self, names: &[&str]) -> csv::Result<()> {
        self.writer.write_record(names)
    }

    pub(crate) fn record(&mut self, cells: &[Cell]) -> csv::Result<()> {
        self.record_then(cells, &[])
    }

    /// A record of `cells`, then `more` written as they are (see [`TotalsCells`]).
    pub(crate) fn record_then(&mut self, cells: &[Cell], more: &[Vec<u8>]) -> csv::Result<()> {
        let excel = self.excel_lt;
        let cells = cells.iter().map(|c| match c {
            Cell::Text(t) => Cow::Borrowed(t.as_bytes()),
            Cell::Num(n) if excel => Cow::Owned(n.replace('.', ",").into_bytes()),
            Cell::Num(n) => Cow::Borrowed(n.as_bytes()),
        });
        self.writer
            .write_record(cells.chain(more.iter().map(|m| Cow::Borrowed(m.as_slice()))))
    }

    /// A record of fields written as they are.
    pub(crate) fn fields<'f>(
        &mut self,
        fields: impl IntoIterator<Item = &'f [u8]>,
    ) -> csv::Result<()> {
        self.writer.write_record(fields)
    }

    pub(crate) fn finish(mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

/// The totals cells of a CSV group line (lines, quantity, unit, amount), formatted as
/// [`Cell`]s of [`qty`] and [`money_exact`] would be, into buffers kept from one line to the
/// next: a per-client CSV of 200,000 lines then makes no string a cell.
#[derive(Debug, Default)]
pub(crate) struct TotalsCells([Vec<u8>; 4]);

impl TotalsCells {
    pub(crate) fn fill(&mut self, t: &aidcost::Totals, excel_lt: bool) -> &[Vec<u8>; 4] {
        let [lines, q, u, amount] = &mut self.0;
        for cell in [&mut *lines, &mut *q, &mut *u, &mut *amount] {
            cell.clear();
        }
        // Writing into a vector cannot fail.
        let _ = write!(lines, "{}", t.lines());
        if let Some((quantity, unit)) = t.quantity() {
            let _ = write!(q, "{}", quantity.get().normalize());
            let _ = write!(u, "{unit}");
        }
        let _ = write!(amount, "{}", exact2_decimal(t.amount().get()));
        if excel_lt {
            // Numbers, not the unit, take a decimal comma.
            for cell in [lines, q, amount] {
                for b in cell.iter_mut().filter(|b| **b == b'.') {
                    *b = b',';
                }
            }
        }
        &self.0
    }
}

/// Writes `value` as pretty JSON with a final newline.
pub(crate) fn write_json<T: serde::Serialize>(
    mut sink: impl Write,
    value: &T,
) -> Result<(), crate::failure::Failure> {
    serde_json::to_writer_pretty(&mut sink, value)?;
    sink.write_all(b"\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_amounts_keep_every_digit_and_at_least_two_decimals() {
        let m = |s: &str| s.parse::<Money>().unwrap();
        assert_eq!(money_exact(m("12.5")), "12.50");
        assert_eq!(money_exact(m("43.7500")), "43.75");
        assert_eq!(money_exact(m("10.005")), "10.005");
        assert_eq!(money2(m("10.005")), "10.01");
        assert_eq!(money2(m("7")), "7.00");
    }

    #[test]
    fn tables_align_amounts_right() {
        let mut t = TextTable::new(&[("name", Align::Left), ("amount", Align::Right)]);
        t.row(vec!["a".into(), "1.00".into()]);
        t.row(vec!["long name".into(), "100.00".into()]);
        let text = t.render();
        assert!(text.contains("a            1.00\n"), "{text}");
    }
}
