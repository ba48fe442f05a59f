//! Fast reading of a deliveries file: bytes, `memchr`, the file split at line boundaries
//! for the threads, each reading its share in chunks and rolling up while reading.
//!
//! The reader takes the dialects the general reader takes (comma or semicolon, a byte-order
//! mark, CRLF, decimal commas) and accepts only what the general reader accepts. Anything it
//! is not sure of (a quote, a malformed cell, a bare carriage return) makes it hand the file to
//! the general reader, whose messages name file, line, column and field.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::engine::{packed, Part, RowIn, Shared, Side, SIDE};
use super::plan::{to_scaled, Resolver, QS};
use super::{ranks, ByClient, ColumnarOptions, Columns, Interner, Key};
use crate::catalog::{Catalog, ElementIdx, Unit};
use crate::csvio::CsvOptions;
use crate::delivery::{load_deliveries, COLUMNS, REQUIRED};
use crate::error::{Error, Result};
use crate::money::Quantity;
use crate::rollup::{GroupBy, Rollup, RollupContext};
use crate::valuation::{value, Context, ValuationOptions};
use crate::Date;

/// Smaller files are read on one thread.
const MIN_PARALLEL_BYTES: u64 = if cfg!(test) { 1 } else { 1 << 20 };

/// Bytes read at a time by each thread: a chunk the caches' second level holds, so that the
/// lines are read while the copy just made of them is still there (8 MiB took 5–10% longer).
/// The tests read a few lines at a time, so that lines cross from one read to the next.
const CHUNK: usize = if cfg!(test) { 100 } else { 256 << 10 };

/// Lines scanned, and their clients' buckets asked for (see [`Interner::prefetch_client`]),
/// a batch ahead of the lines parsed. With hints rather than reads ahead, shorter batches
/// did better on the benchmark's file (interleaved runs of `aidcost value`, one thread, best
/// and median of 14: 8 lines 0.922 s and 1.056 s, 16 lines 0.945 s and 1.010 s, 32 lines
/// 1.011 s and 1.113 s; 64 lines slower still).
const BATCH: usize = 16;

/// The layout of a deliveries file, from its header.
#[derive(Debug, Clone, Copy)]
struct Dialect {
    delimiter: u8,
    decimal_comma: bool,
    fields: usize,
    date: usize,
    provider: usize,
    client: usize,
    element: usize,
    quantity: usize,
    unit: Option<usize>,
    staff_hours: Option<usize>,
}

/// Not for the fast reader: hand the file to the general one.
struct Bail;

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

const fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ')
}

/// A field trimmed as the general reader trims it (`str::trim`).
#[inline]
fn trim(f: &[u8]) -> std::result::Result<&[u8], Bail> {
    let mut s = f;
    while let [first, rest @ ..] = s {
        if is_space(*first) {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = s {
        if is_space(*last) {
            s = rest;
        } else {
            break;
        }
    }
    let edge_ascii = s.first().map_or(true, u8::is_ascii) && s.last().map_or(true, u8::is_ascii);
    if !edge_ascii {
        let text = std::str::from_utf8(s).map_err(|_| Bail)?;
        if text.trim().len() != text.len() {
            return Err(Bail);
        }
    }
    Ok(s)
}

/// Reads the header: the dialect and where the body starts.
fn header(bytes: &[u8], options: CsvOptions) -> std::result::Result<(Dialect, usize), Bail> {
    let bom = if bytes.starts_with("\u{feff}".as_bytes()) {
        3
    } else {
        0
    };
    let rest = &bytes[bom..];
    let end = memchr::memchr(b'\n', rest).ok_or(Bail)?;
    let line = &rest[..end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.contains(&b'"') || line.contains(&b'\r') {
        return Err(Bail);
    }
    let semis = line.iter().filter(|&&b| b == b';').count();
    let commas = line.iter().filter(|&&b| b == b',').count();
    let detected = if semis > commas { b';' } else { b',' };
    let delimiter = options.delimiter.unwrap_or(detected);
    let decimal_comma = options.decimal_comma.unwrap_or(delimiter == b';');
    let mut columns: HashMap<String, usize> = HashMap::new();
    let mut fields = 0;
    for (i, h) in line.split(|&b| b == delimiter).enumerate() {
        let name = std::str::from_utf8(h)
            .map_err(|_| Bail)?
            .trim()
            .to_ascii_lowercase();
        if !COLUMNS.contains(&name.as_str()) || columns.insert(name, i).is_some() {
            return Err(Bail);
        }
        fields = i + 1;
    }
    if REQUIRED.iter().any(|r| !columns.contains_key(*r)) {
        return Err(Bail);
    }
    let col = |name: &str| columns.get(name).copied();
    let need = |name: &str| col(name).ok_or(Bail);
    let dialect = Dialect {
        delimiter,
        decimal_comma,
        fields,
        date: need("date")?,
        provider: need("provider")?,
        client: need("client")?,
        element: need("element")?,
        quantity: need("quantity")?,
        unit: col("unit"),
        staff_hours: col("staff_hours"),
    };
    Ok((dialect, bom + end + 1))
}

/// A positive quantity written plainly (`12`, `12.5`, `12,50` with decimal commas), with at
/// most four decimals: its value with [`QS`] decimals and the decimals written.
#[inline]
fn quick_quantity(s: &[u8], decimal_comma: bool) -> Option<(i64, u8)> {
    let mut int: i64 = 0;
    let mut digits = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        int = int * 10 + i64::from(s[i] - b'0');
        digits += 1;
        i += 1;
        if digits > 14 {
            return None;
        }
    }
    if digits == 0 {
        return None;
    }
    let mut frac: i64 = 0;
    let mut scale = 0u8;
    if i < s.len() {
        if !(s[i] == b'.' || (decimal_comma && s[i] == b',')) {
            return None;
        }
        i += 1;
        if i == s.len() {
            return None;
        }
        while i < s.len() {
            if !s[i].is_ascii_digit() || scale == 4 {
                return None;
            }
            frac = frac * 10 + i64::from(s[i] - b'0');
            scale += 1;
            i += 1;
        }
    }
    let v = int * 10_000 + frac * [10_000, 1_000, 100, 10, 1][usize::from(scale)];
    (v > 0).then_some((v, scale))
}

/// A decimal cell read as the general reader reads it.
fn general_decimal(s: &[u8], decimal_comma: bool) -> std::result::Result<Quantity, Bail> {
    let text = std::str::from_utf8(s).map_err(|_| Bail)?;
    if text.is_empty() {
        return Err(Bail);
    }
    let parsed = if decimal_comma && text.contains(',') {
        if text.contains('.') {
            return Err(Bail);
        }
        text.replace(',', ".").parse()
    } else {
        text.parse()
    };
    parsed.map_err(|_| Bail)
}

/// A date written `YYYY-MM-DD`, as the general reader takes it, packed (see [`packed`]).
///
/// The ten bytes are checked a word at a time: each, exclusive-or its expected byte (`0`
/// where a digit goes, `-` where a dash goes), must be at most 9 at a digit and 0 at a dash.
#[inline]
fn quick_date(s: &[u8]) -> std::result::Result<u32, Bail> {
    let Ok(&[y0, y1, y2, y3, h0, m0, m1, h1, d0, d1]) = <&[u8; 10]>::try_from(s) else {
        return Err(Bail);
    };
    const DIGITS: u64 = u64::from_le_bytes(*b"0000-00-");
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let head = u64::from_le_bytes([y0, y1, y2, y3, h0, m0, m1, h1]) ^ DIGITS;
    let tail = u64::from(u16::from_le_bytes([d0, d1])) ^ 0x3030;
    // A byte above 9 either has its high bit set or reaches it when 0x76 is added (a carry
    // into the next byte happens only from a byte that already fails).
    let over = |x: u64| (x | x.wrapping_add(0x7676_7676_7676_7676)) & HIGH;
    let dashes = head & 0xff00_00ff_0000_0000;
    if over(head) | over(tail) | dashes != 0 {
        return Err(Bail);
    }
    // Two digits a byte apart (the first the more significant) as one number, in the first
    // byte: 10 × the first, plus the second shifted down.
    let pairs = |x: u64| (x * 10 + (x >> 8)) & 0x00ff_00ff_00ff_00ff;
    let year = pairs(head & 0xffff_ffff);
    let year = ((year * 100 + (year >> 16)) & 0xffff) as u16;
    let month = (pairs(head >> 40) & 0xff) as u16;
    let day = (pairs(tail) & 0xff) as u16;
    let unusual = (year == 0) | (month.wrapping_sub(1) > 11) | (day.wrapping_sub(1) > 27);
    if unusual {
        // The days every month has pass here; the rest, and every refusal, through the
        // calendar itself.
        let date = Date::new(year, month as u8, day as u8).map_err(|_| Bail)?;
        return Ok(packed(date));
    }
    Ok((u32::from(year) << 9) | (u32::from(month) << 5) | u32::from(day))
}

/// One parsed row.
struct Parsed {
    client: u32,
    provider: u16,
    element: u16,
    date: u32,
    q: i64,
    scale: u8,
    side: Option<Side>,
}

/// Where parsed rows go, a batch at a time (see [`BATCH`]).
trait Sink {
    /// Prepares for the rows of a batch, which [`Sink::rows`] will take soon after.
    fn ahead(&mut self, _interner: &Interner, _rows: &[(u32, Parsed)]) {}
    /// Takes the rows (input row number, row) of a batch, leaving `rows` empty.
    fn rows(&mut self, interner: &Interner, rows: &mut Vec<(u32, Parsed)>);
}

/// Parses one line (without its line end) into `out` as row `row`; `Ok(false)` for a blank
/// line. The careful reader, for lines [`Lines`] does not call plain.
#[inline]
fn line(
    d: &Dialect,
    catalog: &Catalog,
    interner: &mut Interner,
    text: &[u8],
    (row, out): (u32, &mut Vec<(u32, Parsed)>),
) -> std::result::Result<bool, Bail> {
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    if text.is_empty() {
        return Ok(false);
    }
    let mut cells: [&[u8]; 8] = [&[]; 8];
    let mut n = 0;
    let mut start = 0;
    for (i, &b) in text.iter().enumerate() {
        if b == d.delimiter {
            if n >= d.fields {
                return Err(Bail);
            }
            cells[n] = &text[start..i];
            n += 1;
            start = i + 1;
        } else if b == b'\r' {
            return Err(Bail);
        }
    }
    if n >= d.fields {
        return Err(Bail);
    }
    cells[n] = &text[start..];
    n += 1;
    if n != d.fields {
        return Err(Bail);
    }
    for (i, cell) in cells[..n].iter_mut().enumerate() {
        // Every other cell (the note) must be text, as the general reader reads the file as text.
        if Some(i) != d.unit && !cell.is_ascii() {
            std::str::from_utf8(cell).map_err(|_| Bail)?;
        }
        *cell = trim(cell)?;
    }
    parse_cells(d, catalog, interner, &cells[..n], None, (row, out)).map(|()| true)
}

/// The bytes of `block` that are `delimiter` or that a plain line has only as its end or not
/// at all (any byte up to the space, any above 0x7f), a bit each, sixteen bytes compared at
/// a time. The delimiter must be printable ASCII.
#[inline(always)]
fn separators(block: &[u8; 64], delimiter: u8) -> u64 {
    use wide::{i8x16, CmpEq, CmpLt};
    let delimiter = i8x16::splat(delimiter as i8);
    // Compared as signed bytes, those above 0x7f are negative: below the bound too.
    let bound = i8x16::splat(b' ' as i8 + 1);
    block.chunks_exact(16).enumerate().fold(0, |m, (k, c)| {
        let v: i8x16 = bytemuck::cast(<[u8; 16]>::try_from(c).unwrap_or([0; 16]));
        let bits = (v.cmp_eq(delimiter) | v.cmp_lt(bound)).move_mask() as u16;
        m | u64::from(bits) << (16 * k)
    })
}

/// Bytes indexed at a time by [`Lines`].
const BLOCK: usize = 1024;

/// The lines of a chunk, read from an index of its separators: the positions of the bytes a
/// plain line has only as separators (the delimiter, the line feed, a carriage return just
/// before it) or not at all (any other byte up to the space, any byte above 0x7f), found
/// sixteen bytes at a time ([`separators`]), a block at a time, ahead of the lines read. A
/// line is plain when its first `fields - 1` separators are delimiters and the next ends it
/// (a line feed, or a carriage return and then a line feed): ASCII, with no space, tab or
/// other control byte, and with `fields` cells, which need no trimming. Lines that are not
/// plain go to [`line()`]. The delimiter must be printable ASCII other than a quote.
///
/// Finding the cells from the index, rather than word by word along each line, leaves the
/// processor no branch on how many separators a word holds or where a line ends.
struct Lines {
    /// Separator positions: `seps[next..len]` are every one in `pos..indexed`.
    seps: Vec<usize>,
    next: usize,
    len: usize,
    /// Where the next line starts.
    pos: usize,
    indexed: usize,
    /// The end of the lines (the chunk's last line feed, plus one; or the range's end).
    upto: usize,
    delimiter: u8,
    fields: usize,
}

impl Lines {
    fn new(d: &Dialect) -> Self {
        Self {
            seps: vec![0; BLOCK + 64],
            next: 0,
            len: 0,
            pos: 0,
            indexed: 0,
            upto: 0,
            delimiter: d.delimiter,
            fields: d.fields,
        }
    }

    /// Starts on the lines of `data[..upto]`.
    fn start(&mut self, upto: usize) {
        (self.next, self.len, self.pos, self.indexed, self.upto) = (0, 0, 0, 0, upto);
    }

    /// Indexes the next block. The range's last line, when no line feed ends it, gets one
    /// at `upto` (see [`Lines::byte`]).
    #[inline(never)]
    fn index(&mut self, data: &[u8]) {
        self.seps.copy_within(self.next..self.len, 0);
        self.len -= self.next;
        self.next = 0;
        let to = (self.indexed + BLOCK).min(self.upto);
        let mut p = self.indexed;
        while p < to {
            let (block, valid) = match data.get(p..p + 64) {
                Some(b) if p + 64 <= to => (<[u8; 64]>::try_from(b).unwrap_or([0; 64]), 64),
                _ => {
                    // The last bytes, padded with a byte that is no separator.
                    let tail = data.get(p..to).unwrap_or(&[]);
                    let mut block = [b'0'; 64];
                    block[..tail.len()].copy_from_slice(tail);
                    (block, tail.len())
                }
            };
            let mut m = separators(&block, self.delimiter);
            if valid < 64 {
                m &= (1u64 << valid) - 1;
            }
            let n = self.len;
            let count = m.count_ones() as usize;
            // Eight written whatever the count (most blocks hold no more), the rest in a
            // loop; `len` then counts only the real ones.
            for k in n..n + 8 {
                if let Some(at) = self.seps.get_mut(k) {
                    *at = p + m.trailing_zeros() as usize;
                }
                m &= m.wrapping_sub(1);
            }
            let mut k = n + 8;
            while m != 0 {
                if let Some(at) = self.seps.get_mut(k) {
                    *at = p + m.trailing_zeros() as usize;
                }
                k += 1;
                m &= m - 1;
            }
            self.len = n + count;
            p += 64;
        }
        self.indexed = to;
        if to == self.upto && data.get(to.wrapping_sub(1)) != Some(&b'\n') && to > self.pos {
            if let Some(at) = self.seps.get_mut(self.len) {
                *at = to;
                self.len += 1;
            }
        }
    }

    /// The byte at separator position `p`: a line feed at `upto`.
    #[inline(always)]
    fn byte(&self, data: &[u8], p: usize) -> u8 {
        if p < self.upto {
            data.get(p).copied().unwrap_or(b'\n')
        } else {
            b'\n'
        }
    }

    /// The next line: where it starts, where it stops (its line feed, or `upto`), and
    /// whether it is plain, when `cells` then holds its cells.
    #[inline(always)]
    fn next<'d>(
        &mut self,
        data: &'d [u8],
        cells: &mut [&'d [u8]; 8],
    ) -> Option<(usize, usize, bool)> {
        let a = self.pos;
        if a >= self.upto {
            return None;
        }
        let f = self.fields;
        while self.len - self.next <= f && self.indexed < self.upto {
            self.index(data);
        }
        let s = self.seps.get(self.next..self.len).unwrap_or(&[]);
        if let Some(&e) = s.get(f - 1) {
            let mut delimited = true;
            for &at in &s[..f - 1] {
                delimited &= self.byte(data, at) == self.delimiter;
            }
            let (stop, used) = match self.byte(data, e) {
                b'\n' => (e, f),
                b'\r' if s.get(f) == Some(&(e + 1)) && self.byte(data, e + 1) == b'\n' => {
                    (e + 1, f + 1)
                }
                _ => (usize::MAX, 0),
            };
            if delimited && used != 0 {
                let mut start = a;
                for (cell, &at) in cells.iter_mut().zip(&s[..f]) {
                    *cell = data.get(start..at).unwrap_or(&[]);
                    start = at + 1;
                }
                self.next += used;
                self.pos = stop + 1;
                return Some((a, stop.min(self.upto), true));
            }
        }
        // Not plain: the line ends at its line feed; the separators up to it are dropped.
        let stop = memchr::memchr(b'\n', data.get(a..self.upto).unwrap_or(&[]))
            .map_or(self.upto, |i| a + i);
        while self.next < self.len && self.seps.get(self.next).is_some_and(|&p| p <= stop) {
            self.next += 1;
        }
        if self.next == self.len {
            self.indexed = self.indexed.max(stop + 1).min(self.upto);
        }
        self.pos = stop + 1;
        Some((a, stop, false))
    }
}

/// Parses the cells of one line, trimmed, into `out` as row `row`. `client` is the client
/// cell's key, when the caller has made it.
///
/// The row is written where it is kept: returned, it would be read back in wide loads from
/// the narrow stores just made, and such a load waits for the stores to reach the cache.
#[inline]
fn parse_cells(
    d: &Dialect,
    catalog: &Catalog,
    interner: &mut Interner,
    cells: &[&[u8]],
    client: Option<&Key>,
    (row, out): (u32, &mut Vec<(u32, Parsed)>),
) -> std::result::Result<(), Bail> {
    let cell = |i: usize| cells.get(i).copied().unwrap_or_default();
    let date = quick_date(cell(d.date))?;
    let provider = interner.provider(cell(d.provider)).map_err(|_| Bail)?;
    let client = match client {
        Some(key) => interner.client_key(cell(d.client), key),
        None => interner.client(cell(d.client)),
    }
    .map_err(|_| Bail)?;
    let element = interner.element(cell(d.element)).map_err(|_| Bail)?;
    let qcell = cell(d.quantity);
    let (mut q, mut scale, mut side) = match quick_quantity(qcell, d.decimal_comma) {
        Some((q, s)) => (q, s, None),
        None => {
            let quantity = general_decimal(qcell, d.decimal_comma)?;
            match to_scaled(quantity.get(), QS).filter(|_| quantity.is_positive()) {
                Some(v) => (v, quantity.get().scale().min(28) as u8, None),
                None => (SIDE, 0, Some(Side::Wide(quantity))),
            }
        }
    };
    if let Some(u) = d.unit {
        let cell = cell(u);
        if !cell.is_empty() {
            let given: Unit = std::str::from_utf8(cell)
                .map_err(|_| Bail)?
                .parse()
                .map_err(|_| Bail)?;
            let expected = catalog
                .element(ElementIdx(u32::from(element)))
                .map(|e| e.unit());
            if expected.is_some_and(|e| e != given) {
                (q, scale, side) = (SIDE, 0, Some(Side::Unit(given)));
            }
        }
    }
    if let Some(h) = d.staff_hours {
        let cell = cell(h);
        if !cell.is_empty() {
            general_decimal(cell, d.decimal_comma)?;
        }
    }
    out.push((
        row,
        Parsed {
            client,
            provider,
            element,
            date,
            q,
            scale,
            side,
        },
    ));
    Ok(())
}

/// Reads bytes `lo..hi` of the file (whole lines) into the sink; the rows read.
fn read_range<S: Sink>(
    path: &Path,
    range: (u64, u64),
    d: &Dialect,
    catalog: &Catalog,
    interner: &mut Interner,
    sink: &mut S,
) -> Result<std::result::Result<u32, Bail>> {
    let (lo, hi) = range;
    let mut file = File::open(path).map_err(io(path))?;
    file.seek(SeekFrom::Start(lo)).map_err(io(path))?;
    let mut file = file.take(hi - lo);
    let mut buf = vec![0u8; CHUNK];
    let mut filled = 0;
    let mut rows: u32 = 0;
    // Lines are scanned a word at a time when the delimiter is printable ASCII other than a
    // quote (the scan takes any byte up to the space for one a plain line lacks).
    let plain_ok = d.fields <= 8 && d.delimiter.is_ascii_graphic() && d.delimiter != b'"';
    let mut index = Lines::new(d);
    loop {
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let got = file.read(&mut buf[filled..]).map_err(io(path))?;
        let end_of_range = got == 0;
        let have = filled + got;
        let data = &buf[..have];
        if memchr::memchr(b'"', &data[filled..]).is_some() {
            return Ok(Err(Bail));
        }
        let upto = if end_of_range {
            have
        } else {
            match memchr::memrchr(b'\n', data) {
                Some(i) => i + 1,
                None => {
                    filled = have;
                    continue;
                }
            }
        };
        let mut pos = 0;
        index.start(upto);
        // Two batches: while one is parsed, the next one's clients' buckets, asked for when
        // it was scanned, are on their way.
        let mut lines = [[(0usize, 0usize, false); BATCH]; 2];
        let mut cells: [[[&[u8]; 8]; BATCH]; 2] = [[[&[]; 8]; BATCH]; 2];
        let mut counts = [0usize; 2];
        // The clients' keys, made once for the hint and the lookup (plain lines only).
        let mut keys: [[Option<Key>; BATCH]; 2] = [[None; BATCH]; 2];
        // Software-pipelined: a batch's rows are added to their sums only after the next
        // batch has been scanned and its clients' buckets asked for, so that the sums (asked
        // for when the batch was parsed) have had time to arrive.
        let mut parsed_rows: Vec<(u32, Parsed)> = Vec::with_capacity(BATCH);
        let mut pending: Vec<(u32, Parsed)> = Vec::with_capacity(BATCH);
        let mut k = 0usize;
        loop {
            // Scan batch `k + 1` (from `pos`), then parse batch `k`.
            let next = (k + 1) & 1;
            let mut count = 0;
            while count < BATCH {
                let cells = &mut cells[next][count];
                let (a, stop, plain) = if plain_ok {
                    match index.next(data, cells) {
                        Some(line) => line,
                        None => break,
                    }
                } else if pos < upto {
                    let stop = memchr::memchr(b'\n', &data[pos..upto]).map_or(upto, |i| pos + i);
                    let line = (pos, stop, false);
                    pos = stop + 1;
                    line
                } else {
                    break;
                };
                let key = if plain {
                    Key::of(cells[d.client])
                } else {
                    data[a..stop]
                        .split(|&c| c == d.delimiter)
                        .nth(d.client)
                        .and_then(Key::of)
                };
                if let Some(key) = &key {
                    interner.prefetch_client(key);
                }
                keys[next][count] = if plain { key } else { None };
                lines[next][count] = (a, stop, plain);
                count += 1;
            }
            counts[next] = count;
            let now = k & 1;
            if counts[now] == 0 && count == 0 {
                break;
            }
            sink.rows(interner, &mut pending);
            let batch = lines[now][..counts[now]].iter().zip(&cells[now]);
            for ((&(a, b, plain), cells), key) in batch.zip(&keys[now]) {
                let out = (rows, &mut parsed_rows);
                let parsed = if plain {
                    let cells = &cells[..d.fields];
                    parse_cells(d, catalog, interner, cells, key.as_ref(), out).map(|()| true)
                } else {
                    line(d, catalog, interner, &data[a..b], out)
                };
                match parsed {
                    Ok(true) => {
                        rows = match rows.checked_add(1) {
                            Some(r) => r,
                            None => return Ok(Err(Bail)),
                        }
                    }
                    Ok(false) => {}
                    Err(b) => return Ok(Err(b)),
                }
            }
            counts[now] = 0;
            sink.ahead(interner, &parsed_rows);
            std::mem::swap(&mut pending, &mut parsed_rows);
            k += 1;
        }
        sink.rows(interner, &mut pending);
        if end_of_range {
            return Ok(Ok(rows));
        }
        buf.copy_within(upto..have, 0);
        filled = have - upto;
    }
}

/// The byte offsets splitting `lo..hi` into `parts` ranges of whole lines.
fn split(path: &Path, lo: u64, hi: u64, parts: usize) -> Result<Vec<(u64, u64)>> {
    let mut cuts = vec![lo];
    let mut file = File::open(path).map_err(io(path))?;
    for k in 1..parts {
        let guess = (lo + (hi - lo) * k as u64 / parts as u64).max(*cuts.last().unwrap_or(&lo));
        file.seek(SeekFrom::Start(guess)).map_err(io(path))?;
        let mut at = guess;
        let mut window = [0u8; 1 << 16];
        let cut = loop {
            let got = file.read(&mut window).map_err(io(path))?;
            if got == 0 {
                break hi;
            }
            if let Some(i) = memchr::memchr(b'\n', &window[..got]) {
                break (at + i as u64 + 1).min(hi);
            }
            at += got as u64;
        };
        cuts.push(cut);
    }
    cuts.push(hi);
    Ok(cuts.windows(2).map(|w| (w[0], w[1])).collect())
}

/// The head of the file: the dialect and where the body starts; `None` when the fast reader
/// is not for this file.
fn open(path: &Path, options: CsvOptions) -> Result<Option<(Dialect, u64, u64)>> {
    let mut file = File::open(path).map_err(io(path))?;
    let len = file.metadata().map_err(io(path))?.len();
    let mut head = Vec::new();
    (&mut file)
        .take(1 << 20)
        .read_to_end(&mut head)
        .map_err(io(path))?;
    Ok(header(&head, options)
        .ok()
        .map(|(d, body)| (d, body as u64, len)))
}

/// The rolling-up sink of one thread.
struct Rolling<'s, 'a> {
    shared: &'s Shared<'a>,
    resolver: Resolver,
    part: Part,
    known: Vec<bool>,
    /// Providers added to the resolver so far.
    providers: usize,
}

impl Sink for Rolling<'_, '_> {
    #[inline]
    fn ahead(&mut self, interner: &Interner, rows: &[(u32, Parsed)]) {
        self.sync(interner);
        self.part.prefetch(rows.iter().map(|(_, p)| p.client));
    }

    #[inline]
    fn rows(&mut self, interner: &Interner, rows: &mut Vec<(u32, Parsed)>) {
        self.sync(interner);
        let ids = &interner.ids;
        for (row, p) in rows.drain(..) {
            let hot = self.shared.hot(
                &self.resolver,
                &self.known,
                p.client,
                p.provider,
                p.element,
                p.date,
                p.q,
            );
            if let Some(a) = hot {
                self.part.add_one(&a);
                continue;
            }
            let r = RowIn {
                row,
                client: p.client,
                provider: p.provider,
                // The local provider number: made a rank once every thread is done.
                rank: p.provider,
                element: p.element,
                date: p.date,
                q: p.q,
                scale: p.scale,
                side: p.side.as_ref(),
            };
            if let Some(a) = self
                .shared
                .row(&mut self.part, &self.resolver, ids, &self.known, r)
            {
                self.part.add_one(&a);
            }
        }
    }
}

impl Rolling<'_, '_> {
    /// Catches up with the ids interned so far: providers in the resolver, room for the
    /// clients' sums, which clients the register knows.
    #[inline]
    fn sync(&mut self, interner: &Interner) {
        let ids = &interner.ids;
        while self.providers < ids.providers.len() {
            let next = &ids.providers[self.providers];
            self.resolver
                .add_provider(self.shared.cx.book, &self.shared.plans, next);
            self.providers += 1;
        }
        if self.part.acc.len() < ids.clients.len() {
            self.part
                .acc
                .resize(ids.clients.len().next_power_of_two(), Default::default());
        }
        if let Some(reg) = self.shared.cx.clients {
            while self.known.len() < ids.clients.len() {
                let c = &ids.clients[self.known.len()];
                self.known.push(reg.get(c.as_str()).is_some());
            }
        }
    }
}

/// Values a deliveries file and totals it by client while reading it, on
/// `options.threads` threads (the file is split at line boundaries), with memory bounded by
/// the number of clients plus the rows priced by tiers or caps. The result equals
/// [`load_deliveries`], [`crate::value`] and a [`Rollup`] by client.
///
/// A file the fast reader is not sure of (quoted fields, a malformed cell …) is read by the
/// general reader instead, so errors name file, line, column and field exactly as
/// [`load_deliveries`] does.
///
/// # Errors
///
/// [`Error::Io`] when unreadable; the general reader's [`Error::Invalid`] for a malformed
/// file; [`Error::Overflow`] when a total leaves the decimal range.
pub fn value_csv_by_client(
    path: impl AsRef<Path>,
    csv: CsvOptions,
    cx: Context<'_>,
    options: ColumnarOptions,
) -> Result<ByClient> {
    let path = path.as_ref();
    match fast_csv(path, csv, cx, options)? {
        Some(result) => Ok(result),
        None => general(path, csv, cx),
    }
}

/// The general path, for files the fast reader hands over.
fn general(path: &Path, csv: CsvOptions, cx: Context<'_>) -> Result<ByClient> {
    let deliveries = load_deliveries(path, csv)?;
    let v = value(&deliveries, cx, ValuationOptions::default())?;
    let mut rollup = Rollup::new(&[GroupBy::Client])?;
    rollup.extend(
        v.views(cx.book),
        RollupContext {
            catalog: cx.catalog,
            clients: cx.clients,
        },
    )?;
    Ok(ByClient::from_general(&v, &rollup))
}

/// The fast reader; `Ok(None)` hands the file to the general one.
pub(super) fn fast_csv(
    path: &Path,
    csv: CsvOptions,
    cx: Context<'_>,
    options: ColumnarOptions,
) -> Result<Option<ByClient>> {
    let Some((dialect, body, len)) = open(path, csv)? else {
        return Ok(None);
    };
    let threads = options.threads.clamp(1, 64);
    let threads = if len - body < MIN_PARALLEL_BYTES {
        1
    } else {
        threads
    };
    let ranges = split(path, body, len, threads)?;
    let shared = Shared::new(cx);
    let work = |range: (u64, u64)| -> Result<Option<(Interner, Rolling<'_, '_>, u32)>> {
        let mut interner = Interner::new(cx.catalog);
        let mut sink = Rolling {
            shared: &shared,
            resolver: shared.resolver(),
            part: Part::with_clients(0),
            known: Vec::new(),
            providers: 0,
        };
        Ok(
            read_range(path, range, &dialect, cx.catalog, &mut interner, &mut sink)?
                .ok()
                .map(|rows| (interner, sink, rows)),
        )
    };
    let outs = super::on_threads(ranges, work);
    let mut done = Vec::with_capacity(outs.len());
    for o in outs {
        match o? {
            Some(x) => done.push(x),
            None => return Ok(None),
        }
    }
    // One numbering of clients and providers for all threads; rows counted across threads.
    // The first thread's numbering is the one its ids would get, met first, in a numbering
    // begun afresh: it is kept as it is, and the others' ids are numbered into it.
    let mut done = done.into_iter();
    let Some((mut global, first, first_rows)) = done.next() else {
        return Ok(None);
    };
    let mut total = Part::with_clients(0);
    let mut parts = Vec::with_capacity(threads);
    // The interner numbers at most u32::MAX clients and u16::MAX + 1 providers.
    let cmap = (0..global.ids.clients.len()).map(|i| i as u32).collect();
    let pmap = (0..global.ids.providers.len()).map(|i| i as u16).collect();
    parts.push((first.part, cmap, pmap, 0));
    let mut offset: u32 = first_rows;
    for (interner, sink, rows) in done {
        let cmap: Vec<u32> = interner
            .ids
            .clients
            .iter()
            .map(|c| global.client(c.as_str().as_bytes()))
            .collect::<Result<_>>()?;
        let pmap: Vec<u16> = interner
            .ids
            .providers
            .iter()
            .map(|p| global.provider(p.as_str().as_bytes()))
            .collect::<Result<_>>()?;
        parts.push((sink.part, cmap, pmap, offset));
        offset = match offset.checked_add(rows) {
            Some(o) => o,
            None => return Ok(None),
        };
    }
    let rank = ranks(&global.ids.providers);
    total
        .acc
        .resize(global.ids.clients.len(), Default::default());
    for (mut part, cmap, pmap, offset) in parts {
        part.acc.truncate(cmap.len());
        for s in &mut part.stateful {
            s.row += offset;
            s.set_provider_rank(rank[usize::from(pmap[usize::from(s.provider())])]);
        }
        if offset > 0 {
            for r in &mut part.extra_rows {
                r.0 += offset;
            }
            part.wide = std::mem::take(&mut part.wide)
                .into_iter()
                .map(|(r, q)| (r + offset, q))
                .collect();
            for r in &mut part.rejections {
                *r = crate::valuation::Rejection::new(
                    r.row() + u64::from(offset),
                    r.reason().clone(),
                    r.is_partial(),
                );
            }
        }
        total.merge_mapped(part, &cmap);
    }
    shared
        .finish(&global.ids, total, u64::from(offset), threads)
        .map(Some)
}

/// The sink that keeps the rows as columns.
struct Keep {
    columns: Columns,
}

impl Sink for Keep {
    #[inline]
    fn rows(&mut self, _: &Interner, rows: &mut Vec<(u32, Parsed)>) {
        for (_, p) in rows.drain(..) {
            self.columns.push(
                p.client, p.provider, p.element, p.date, p.q, p.scale, p.side,
            );
        }
    }
}

impl Columns {
    /// Reads a deliveries file into columns with the fast reader (one thread), element ids
    /// numbered against `catalog`; `Ok(None)` when the file needs the general reader
    /// ([`load_deliveries`], then [`Columns::from_deliveries`]): quoted fields or a malformed
    /// cell.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when unreadable; [`Error::Overflow`] for too many distinct ids.
    pub fn read_csv(
        path: impl AsRef<Path>,
        csv: CsvOptions,
        catalog: &Catalog,
    ) -> Result<Option<Columns>> {
        let path = path.as_ref();
        let Some((dialect, body, len)) = open(path, csv)? else {
            return Ok(None);
        };
        let mut interner = Interner::new(catalog);
        let mut sink = Keep {
            columns: Columns::empty(&interner, catalog),
        };
        // About 45 bytes a line: reserve once rather than doubling to twice the need.
        sink.columns.reserve(((len - body) / 40) as usize);
        match read_range(
            path,
            (body, len),
            &dialect,
            catalog,
            &mut interner,
            &mut sink,
        )? {
            Ok(_) => {
                let mut columns = sink.columns;
                columns.ids = interner.ids;
                columns.shrink();
                Ok(Some(columns))
            }
            Err(Bail) => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columnar::plan::pack_date;

    #[test]
    fn quick_dates_equal_the_calendar_and_refuse_what_it_refuses() {
        // Every day of a common year, a leap year, a century that is not leap and one that
        // is, through the quick reading and through the calendar.
        for year in [1900u16, 2000, 2023, 2024] {
            for month in 1..=12u8 {
                for day in 1..=31u8 {
                    let text = format!("{year:04}-{month:02}-{day:02}");
                    let quick = quick_date(text.as_bytes()).ok();
                    let calendar = Date::new(year, month, day).ok().map(pack_date);
                    assert_eq!(quick, calendar, "{text}");
                }
            }
        }
        for bad in [
            "0000-01-01",
            "2024-00-10",
            "2024-13-01",
            "2024-01-00",
            "2024-02-30",
            "2023-02-29",
            "2024-1-01",
            "2024/01/01",
            "2024-01-0a",
            " 2024-01-01",
            "2024-01-011",
            "",
        ] {
            assert!(quick_date(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    /// Every byte value at every position of a date, and of one that is late in its month:
    /// the quick reading takes exactly what a reading character by character takes.
    #[test]
    fn quick_dates_refuse_any_byte_out_of_place() {
        fn by_hand(s: &[u8]) -> Option<u32> {
            let digit = |i: usize| s[i].is_ascii_digit().then(|| u16::from(s[i] - b'0'));
            if s.len() != 10 || s[4] != b'-' || s[7] != b'-' {
                return None;
            }
            let n = |at: &[usize]| at.iter().try_fold(0u16, |v, &i| Some(v * 10 + digit(i)?));
            let (year, month, day) = (n(&[0, 1, 2, 3])?, n(&[5, 6])?, n(&[8, 9])?);
            let month = u8::try_from(month).ok()?;
            let day = u8::try_from(day).ok()?;
            Date::new(year, month, day).ok().map(pack_date)
        }
        for base in ["2024-06-15", "1999-12-31", "2000-02-29"] {
            for at in 0..10 {
                for b in 0..=255u8 {
                    let mut text = base.as_bytes().to_vec();
                    text[at] = b;
                    assert_eq!(quick_date(&text).ok(), by_hand(&text), "{text:?}");
                }
            }
        }
    }

    /// The separator mask marks exactly the bytes it names, byte by byte: every byte value
    /// at every position of a block, among neighbours on both sides of the bounds.
    #[test]
    fn separators_mark_exactly_the_delimiter_and_the_bytes_a_plain_line_lacks() {
        for delimiter in [b',', b';', b'|', b'~'] {
            for fill in [b'0', b' ', b'!', b',', 0x7f, 0x80, 0xff, 0x00] {
                for at in 0..64 {
                    for b in 0..=255u8 {
                        let mut block = [fill; 64];
                        block[at] = b;
                        let want = block.iter().enumerate().fold(0u64, |m, (i, &x)| {
                            let sep = x == delimiter || x <= b' ' || x > 0x7f;
                            m | u64::from(sep) << i
                        });
                        assert_eq!(
                            separators(&block, delimiter),
                            want,
                            "{delimiter} {fill} {at} {b}"
                        );
                    }
                }
            }
        }
    }
}
