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
        // Numbers, not the unit, take a decimal comma.
        let point = if excel_lt { b',' } else { b'.' };
        push_digits(lines, u128::from(t.lines()));
        if let Some((quantity, unit)) = t.quantity() {
            push_decimal(q, quantity.get(), 0, point);
            u.extend_from_slice(unit.as_str().as_bytes());
        }
        push_decimal(amount, t.amount().get(), 2, point);
        &self.0
    }
}

/// Records written as [`CsvOut`] writes them, gathered into blocks of 64 KiB before they
/// reach the sink. For the per-client CSV of a large file (200,000 short records) the CSV
/// writer's work on each field was a tenth of the time spent on each client.
pub(crate) struct RawRecords<W: Write> {
    sink: W,
    block: Vec<u8>,
    excel_lt: bool,
}

impl<W: Write> RawRecords<W> {
    const BLOCK: usize = 64 * 1024;

    /// Records after what `sink` holds (a [`CsvOut`]'s BOM and header, say).
    pub(crate) fn new(sink: W, excel_lt: bool) -> Self {
        Self {
            sink,
            block: Vec::with_capacity(Self::BLOCK + 1024),
            excel_lt,
        }
    }

    pub(crate) fn record(&mut self, fields: &[&[u8]]) -> io::Result<()> {
        push_record(&mut self.block, fields, self.excel_lt);
        if self.block.len() >= Self::BLOCK {
            self.sink.write_all(&self.block)?;
            self.block.clear();
        }
        Ok(())
    }

    pub(crate) fn finish(mut self) -> io::Result<()> {
        self.sink.write_all(&self.block)?;
        self.sink.flush()
    }
}

/// Appends one record as the CSV writer of [`CsvOut`] writes it: fields apart by the
/// delimiter, a field that holds the delimiter, a quote, a CR or an LF in quotes (its quotes
/// doubled), and the line end.
fn push_record(out: &mut Vec<u8>, fields: &[&[u8]], excel_lt: bool) {
    let (delimiter, end): (u8, &[u8]) = if excel_lt {
        (b';', b"\r\n")
    } else {
        (b',', b"\n")
    };
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(delimiter);
        }
        let special = |b: &u8| matches!(*b, b'"' | b'\r' | b'\n') || *b == delimiter;
        if field.iter().any(special) {
            out.push(b'"');
            for &b in *field {
                if b == b'"' {
                    out.push(b'"');
                }
                out.push(b);
            }
            out.push(b'"');
        } else {
            out.extend_from_slice(field);
        }
    }
    out.extend_from_slice(end);
}

/// Appends `n` in decimal digits.
fn push_digits(out: &mut Vec<u8>, mut n: u128) {
    const CHUNK: u128 = 10_000_000_000_000_000_000;
    let mut digits = [0u8; 40];
    let mut at = digits.len();
    // 128-bit division is a call to a slow routine: it is used only for numbers that do not
    // fit 64 bits, nineteen digits at a time (zeros in front).
    while n > u128::from(u64::MAX) {
        let mut v = (n % CHUNK) as u64;
        for _ in 0..19 {
            at -= 1;
            digits[at] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        n /= CHUNK;
    }
    let mut v = n as u64;
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Appends `d` as `Display` writes it once its trailing zeros are gone (`normalize`) and at
/// least `min_scale` decimals are back (`rescale`): the way [`qty`] (0) and [`exact2`] (2)
/// write, with `point` for the decimal point, made from the mantissa with no formatter.
fn push_decimal(out: &mut Vec<u8>, d: Decimal, min_scale: u32, point: u8) {
    let (mut m, mut scale) = (d.mantissa().unsigned_abs(), d.scale());
    // Trailing zeros dropped in 64 bits where the mantissa fits them (see [`push_digits`]).
    if let Ok(mut small) = u64::try_from(m) {
        while scale > min_scale && small % 10 == 0 {
            small /= 10;
            scale -= 1;
        }
        m = u128::from(small);
    }
    while scale > min_scale && m % 10 == 0 {
        m /= 10;
        scale -= 1;
    }
    // As `rescale` does, decimals are added while the mantissa stays within its 96 bits.
    while scale < min_scale && m * 10 < 1 << 96 {
        m *= 10;
        scale += 1;
    }
    if m != 0 && d.is_sign_negative() {
        out.push(b'-');
    }
    let start = out.len();
    push_digits(out, m);
    let scale = scale as usize;
    if scale > 0 {
        // At least one digit before the point: 5 with scale 2 is 0.05.
        let digits = out.len() - start;
        if digits <= scale {
            out.splice(
                start..start,
                std::iter::repeat(b'0').take(scale + 1 - digits),
            );
        }
        let at = out.len() - scale;
        out.insert(at, point);
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

    /// Cells made from the mantissa equal `Display` of the normalized (and, for amounts,
    /// rescaled) decimal: every scale, mantissas with trailing zeros and without, both
    /// signs, zero, and the largest mantissa.
    #[test]
    fn decimals_from_the_mantissa_equal_display() {
        let mut mantissas = vec![0i128, 1, 5, 7, 10, 100, 105, 1_000_000, 123_456_789_000];
        // The largest, and ones that take one more decimal but not two.
        mantissas.extend([(1i128 << 96) - 1, (1i128 << 96) / 50, (1i128 << 96) / 11]);
        let mut x: i128 = 1;
        for _ in 0..40 {
            // A spread of mantissas of every length.
            x = (x * 7_919 + 13) % ((1i128 << 96) - 1);
            mantissas.push(x);
            mantissas.push(x / 1000 * 1000);
        }
        for &m in &mantissas {
            for scale in 0..=28 {
                for m in [m, -m] {
                    let d = Decimal::from_i128_with_scale(m, scale);
                    for (min_scale, expected) in [
                        (0, d.normalize().to_string()),
                        (2, exact2_decimal(d).to_string()),
                    ] {
                        let mut cell = Vec::new();
                        push_decimal(&mut cell, d, min_scale, b'.');
                        assert_eq!(String::from_utf8(cell).unwrap(), expected, "{m} e-{scale}");
                        let mut comma = Vec::new();
                        push_decimal(&mut comma, d, min_scale, b',');
                        assert_eq!(comma, expected.replace('.', ",").into_bytes());
                    }
                }
            }
        }
        let mut n = Vec::new();
        for v in [
            0,
            9,
            10,
            4_096,
            u128::from(u64::MAX),
            u128::from(u64::MAX) + 1,
            10u128.pow(19),
        ]
        .into_iter()
        .chain([
            10u128.pow(38),
            u128::MAX,
            u128::MAX / 3,
            10u128.pow(19) * 7 + 5,
        ]) {
            n.clear();
            push_digits(&mut n, v);
            assert_eq!(n, v.to_string().into_bytes());
        }
    }

    /// Records written raw equal the CSV writer's, in both dialects, for fields that need
    /// quotes and fields that do not.
    #[test]
    fn raw_records_equal_the_csv_writer() {
        let fields: [&[u8]; 9] = [
            b"C-001",
            b"",
            b"12,50",
            b"a;b",
            b"say \"hi\"",
            b"two\nlines",
            b"cr\r",
            b"\"",
            b"7",
        ];
        for excel_lt in [false, true] {
            let mut expected = Vec::new();
            let mut csv = CsvOut::new(&mut expected, excel_lt).unwrap();
            let mut raw = Vec::new();
            let mut records = RawRecords::new(&mut raw, excel_lt);
            for start in 0..fields.len() {
                let record: Vec<&[u8]> =
                    fields.iter().cycle().skip(start).take(5).copied().collect();
                csv.writer.write_record(&record).unwrap();
                records.record(&record).unwrap();
            }
            csv.finish().unwrap();
            records.finish().unwrap();
            // The BOM is CsvOut's, written before any record.
            let bom = if excel_lt { "\u{feff}".len() } else { 0 };
            assert_eq!(
                String::from_utf8_lossy(&raw),
                String::from_utf8_lossy(&expected[bom..])
            );
        }
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
