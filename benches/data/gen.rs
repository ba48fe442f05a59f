//! The benchmark data, deterministic: deliveries over 2024 (a splitmix64 stream picks day,
//! provider, client, element and a two-decimal quantity) and two national price tables for
//! every catalog element: flat prices, and a variant with tiers, minimum increments and caps.
//! Shared by `examples/gen_bench.rs` and `benches/scale.rs`; std only.

#![allow(dead_code)] // each user takes what it needs

use std::fmt::Write as _;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// The providers: `PRV-00` … `PRV-09`.
pub(crate) const PROVIDERS: usize = 10;

/// splitmix64.
pub(crate) struct Stream(u64);

impl Stream {
    pub(crate) fn new() -> Self {
        Self(0x9e37_79b9_7f4a_7c15)
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// One delivery: (month, day, provider, client, element index, quantity in cents).
pub(crate) fn row(r: u64, clients: usize, elements: usize) -> (u8, u8, usize, usize, usize, u64) {
    (
        (r % 12) as u8 + 1,
        ((r >> 8) % 28) as u8 + 1,
        ((r >> 16) % PROVIDERS as u64) as usize,
        ((r >> 24) % clients as u64) as usize,
        ((r >> 44) % elements as u64) as usize,
        (r >> 52) % 400 + 1,
    )
}

/// Writes `rows` deliveries of `clients` clients over `codes` as CSV.
pub(crate) fn write_deliveries(
    path: &Path,
    rows: usize,
    clients: usize,
    codes: &[String],
) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, fs::File::create(path)?);
    out.write_all(b"date,provider,client,element,quantity\n")?;
    let mut s = Stream::new();
    let mut line = String::with_capacity(64);
    for _ in 0..rows {
        let (m, d, p, c, e, q) = row(s.next(), clients, codes.len());
        line.clear();
        let _ = writeln!(
            line,
            "2024-{m:02}-{d:02},PRV-{p:02},C{c:06},{},{}.{:02}",
            codes[e],
            q / 100,
            q % 100
        );
        out.write_all(line.as_bytes())?;
    }
    out.flush()
}

/// The flat price of element `i` in cents (10.00 to 57.75).
pub(crate) fn price_cents(i: usize) -> u64 {
    1000 + (i as u64 * 7 % 40) * 100 + (i as u64 % 4) * 25
}

fn header(id: &str) -> String {
    format!(
        "schema = 1\nid = \"{id}\"\nversion = \"2024\"\nscope = \"national\"\n\
         valid_from = \"2024-01-01\"\nvalid_to = \"2024-12-31\"\n\
         source = \"synthetic benchmark table (benches/data/gen.rs)\"\n"
    )
}

/// The flat table: every element at [`price_cents`], euro elements pass-through.
/// `elements` are (code, is a euro element).
pub(crate) fn flat_table(elements: &[(String, bool)]) -> String {
    let mut t = header("bench-flat");
    for (i, (code, eur)) in elements.iter().enumerate() {
        let _ = write!(t, "\n[[price]]\nelement = \"{code}\"\n");
        if *eur {
            t.push_str("pass_through = true\n");
        } else {
            let p = price_cents(i);
            let _ = writeln!(t, "unit_price = \"{}.{:02}\"", p / 100, p % 100);
        }
    }
    t
}

/// The variant: by element, in turn, tiers (up to 2.5 units a client-year at the flat price,
/// then 80%), a minimum increment of 0.25, a cap of 4 per client-year, a flat price; euro
/// elements pass-through, every other one capped at 6.
pub(crate) fn tiered_table(elements: &[(String, bool)]) -> String {
    let mut t = header("bench-tiered");
    for (i, (code, eur)) in elements.iter().enumerate() {
        let _ = write!(t, "\n[[price]]\nelement = \"{code}\"\n");
        let p = price_cents(i);
        let flat = format!("unit_price = \"{}.{:02}\"\n", p / 100, p % 100);
        if *eur {
            t.push_str("pass_through = true\n");
            if i % 2 == 0 {
                t.push_str("cap_per_client_year = \"6\"\n");
            }
            continue;
        }
        match i % 4 {
            0 => {
                let low = p * 4 / 5;
                let _ = writeln!(
                    t,
                    "tiers = [\n  {{ up_to = \"2.5\", unit_price = \"{}.{:02}\" }},\n  {{ unit_price = \"{}.{:02}\" }},\n]",
                    p / 100,
                    p % 100,
                    low / 100,
                    low % 100
                );
            }
            1 => {
                t.push_str(&flat);
                t.push_str("min_increment = \"0.25\"\n");
            }
            2 => {
                t.push_str(&flat);
                t.push_str("cap_per_client_year = \"4\"\n");
            }
            _ => t.push_str(&flat),
        }
    }
    t
}

/// Writes the whole data set into `dir`: `deliveries.csv`, `tables-flat/bench-flat.toml`,
/// `tables-tiered/bench-tiered.toml` and `prices-flat.csv` (element,price for DuckDB).
pub(crate) fn write_all(
    dir: &Path,
    rows: usize,
    clients: usize,
    elements: &[(String, bool)],
) -> io::Result<()> {
    fs::create_dir_all(dir.join("tables-flat"))?;
    fs::create_dir_all(dir.join("tables-tiered"))?;
    fs::write(
        dir.join("tables-flat/bench-flat.toml"),
        flat_table(elements),
    )?;
    fs::write(
        dir.join("tables-tiered/bench-tiered.toml"),
        tiered_table(elements),
    )?;
    let mut prices = String::from("element,price\n");
    for (i, (code, eur)) in elements.iter().enumerate() {
        let p = if *eur { 100 } else { price_cents(i) };
        let _ = writeln!(prices, "{code},{}.{:02}", p / 100, p % 100);
    }
    fs::write(dir.join("prices-flat.csv"), prices)?;
    let codes: Vec<String> = elements.iter().map(|(c, _)| c.clone()).collect();
    let tmp = dir.join("deliveries.csv.part");
    write_deliveries(&tmp, rows, clients, &codes)?;
    fs::rename(tmp, dir.join("deliveries.csv"))
}
