//! `aidcost explain`: the auditor's receipt for one client or household. Every figure is
//! printed with the quantities, prices and rounding that produced it, and the exact table,
//! version, content hash and row it came from, so a reader with a calculator and the table
//! can redo it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;

use aidcost::{
    value, ClientId, Delivery, LineView, Money, PriceRule, Quantity, RejectReason, Rejection,
    TierPart, Unit, ValuationOptions,
};

use crate::commands::Loaded;
use crate::failure::{CmdResult, Failure, Outcome};
use crate::input::InputArgs;
use crate::output::{exact2, money2, money_exact, price, qty, Align, TextTable};

/// Arguments of `aidcost explain`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The client; with a register, a parent's receipt covers the whole household.
    #[arg(long, value_name = "ID")]
    client: String,
    #[command(flatten)]
    input: InputArgs,
}

/// Runs `aidcost explain`.
pub(crate) fn run(args: &Args) -> CmdResult {
    let client: ClientId = args
        .client
        .parse()
        .map_err(|e: aidcost::Error| Failure::msg(format!("--client: {e}")))?;
    let loaded = Loaded::read(&args.input)?;
    let members = household(&loaded, &client);
    // Only the household's rows are valued: tiers and caps count per client, so their lines
    // are the same as in a valuation of the whole file, without keeping every other line.
    let (mine, rows): (Vec<Delivery>, Vec<u64>) = loaded
        .deliveries
        .rows
        .iter()
        .zip(1u64..)
        .filter(|(d, _)| members.contains(d.client()))
        .map(|(d, row)| (d.clone(), row))
        .unzip();
    let valuation = value(&mine, loaded.context(), ValuationOptions::default())?;
    let in_data = !mine.is_empty();
    let registered = loaded
        .clients
        .as_ref()
        .is_some_and(|r| r.get(client.as_str()).is_some());
    if !in_data && !registered {
        return Err(Failure::msg(format!(
            "no client `{client}` in {} or the register",
            loaded.deliveries.path.display()
        )));
    }
    let text = render(&loaded, &valuation, &rows, &client, &members);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(Outcome::Clean)
}

/// The client and, when it heads a household in the register, every member.
fn household(loaded: &Loaded, client: &ClientId) -> BTreeSet<ClientId> {
    let mut members = BTreeSet::from([client.clone()]);
    if let Some(reg) = &loaded.clients {
        for c in reg.iter() {
            if reg.household(c.id().as_str()) == Some(client) {
                members.insert(c.id().clone());
            }
        }
    }
    members
}

enum Entry<'v> {
    Valued(LineView<'v>),
    Rejected(&'v Rejection, &'v Delivery),
}

impl Entry<'_> {
    fn sort_key(&self) -> (aidcost::Date, &ClientId, u64) {
        match self {
            Entry::Valued(v) => (v.delivery.date(), v.delivery.client(), v.line.row()),
            Entry::Rejected(r, d) => (d.date(), d.client(), r.row()),
        }
    }
}

#[derive(Default)]
struct Sub {
    lines: u64,
    quantity: Quantity,
    amount: Money,
}

impl Sub {
    fn add(&mut self, q: Quantity, m: Money) {
        self.lines += 1;
        self.quantity = self.quantity.checked_add(q).unwrap_or(self.quantity);
        self.amount = self.amount.checked_add(m).unwrap_or(self.amount);
    }
}

/// `rows[i]` is the file's row number of the valuation's row `i + 1`.
fn render(
    loaded: &Loaded,
    valuation: &aidcost::Valuation<'_>,
    rows: &[u64],
    client: &ClientId,
    members: &BTreeSet<ClientId>,
) -> String {
    let catalog = &loaded.catalog;
    let file_row = |row: u64| -> u64 {
        usize::try_from(row)
            .ok()
            .and_then(|r| r.checked_sub(1))
            .and_then(|i| rows.get(i).copied())
            .unwrap_or(row)
    };
    let mut partials: BTreeMap<u64, Vec<&Rejection>> = BTreeMap::new();
    let mut entries: Vec<Entry<'_>> = Vec::new();
    for r in valuation.rejections() {
        let Some(d) = valuation.delivery(r.row()) else {
            continue;
        };
        if !members.contains(d.client()) {
            continue;
        }
        if r.is_partial() {
            partials.entry(r.row()).or_default().push(r);
        } else {
            entries.push(Entry::Rejected(r, d));
        }
    }
    entries.extend(
        valuation
            .views(&loaded.book)
            .filter(|v| members.contains(v.delivery.client()))
            .map(Entry::Valued),
    );
    entries.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));

    let mut s = String::new();
    let _ = writeln!(s, "Receipt for client {client}");
    if members.len() > 1 {
        let list: Vec<String> = members.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            s,
            "Household of {client}: {} members ({})",
            members.len(),
            list.join(", ")
        );
    }
    let _ = writeln!(
        s,
        "Deliveries: {}; price tables: {}",
        loaded.deliveries.path.display(),
        loaded.book.tables().len()
    );
    let _ = writeln!(
        s,
        "Each line: billed quantity × unit price (per tier where tiered), rounded once as its table declares; totals are sums of rounded lines."
    );

    let mut by_element: BTreeMap<(String, String), Sub> = BTreeMap::new();
    let mut by_year: BTreeMap<u16, Sub> = BTreeMap::new();
    let mut by_client: BTreeMap<ClientId, Sub> = BTreeMap::new();
    let mut total = Money::ZERO;
    let mut valued = 0u64;
    let mut rejected = 0u64;

    for e in &entries {
        s.push('\n');
        match e {
            Entry::Valued(v) => {
                let d = v.delivery;
                let line = v.line;
                let el = catalog.element(line.element());
                let unit = el.map_or(Unit::Eur, |e| e.unit());
                let _ = writeln!(
                    s,
                    "{}  {}  {}  {}",
                    d.date(),
                    d.client(),
                    d.element(),
                    el.map_or("", |e| e.name_en())
                );
                let _ = writeln!(
                    s,
                    "    {} (row {}), provider {}",
                    loaded.deliveries.locate(file_row(line.row())),
                    file_row(line.row()),
                    d.provider()
                );
                // Quantity, the increment step, the cap.
                let mut q = format!("    quantity {} {unit}", qty(d.quantity()));
                let stepped = match v.price_row.min_increment() {
                    Some(inc) => d
                        .quantity()
                        .checked_round_up_to(inc)
                        .unwrap_or(d.quantity()),
                    None => d.quantity(),
                };
                if let Some(inc) = v.price_row.min_increment() {
                    if stepped != d.quantity() {
                        let _ = write!(
                            q,
                            ", {} → {} (min increment {})",
                            qty(d.quantity()),
                            qty(stepped),
                            qty(inc)
                        );
                    } else {
                        let _ = write!(q, " (a multiple of the min increment {})", qty(inc));
                    }
                }
                let _ = write!(q, "; billed {} {unit}", qty(line.billed_quantity()));
                s.push_str(&q);
                s.push('\n');
                for r in partials.get(&line.row()).into_iter().flatten() {
                    let _ = writeln!(
                        s,
                        "    partly rejected ({}): {}",
                        r.reason().code(),
                        r.reason()
                    );
                    if let RejectReason::OverCap { cap, .. } = r.reason() {
                        let _ = writeln!(
                            s,
                            "    cap {} {unit} per client per year; billed only the {} within it",
                            qty(*cap),
                            qty(line.billed_quantity())
                        );
                    }
                }
                match (line.tiers(), line.unit_price()) {
                    (Some(parts), _) => {
                        let tiers = match v.price_row.rule() {
                            PriceRule::Tiered(t) => t.as_slice(),
                            _ => &[],
                        };
                        for p in parts {
                            let _ = writeln!(s, "    {}", tier_line(p, unit, tiers));
                        }
                        if parts.len() > 1 {
                            let sum: Vec<String> =
                                parts.iter().map(|p| money_exact(p.amount)).collect();
                            let _ = writeln!(
                                s,
                                "    {} = {}",
                                sum.join(" + "),
                                money_exact(line.unrounded())
                            );
                        }
                    }
                    (None, Some(p)) => {
                        let pass = matches!(v.price_row.rule(), PriceRule::PassThrough);
                        let _ = writeln!(
                            s,
                            "    {} × {} = {}{}",
                            qty(line.billed_quantity()),
                            price(p),
                            money_exact(line.unrounded()),
                            if pass {
                                " (pass-through: the quantity is the actual cost in euro)"
                            } else {
                                ""
                            }
                        );
                    }
                    (None, None) => {}
                }
                let rounding = v.table.rounding();
                let _ = writeln!(
                    s,
                    "    unrounded {} → rounded {} to {} decimals: {}",
                    money_exact(line.unrounded()),
                    rounding.mode(),
                    rounding.decimals(),
                    money_exact(line.amount())
                );
                let _ = writeln!(
                    s,
                    "    price: table {} version {} sha256 {} row {} ({}:{})",
                    v.table.id(),
                    v.table.version(),
                    v.table.sha256(),
                    v.price_row.number(),
                    v.table.origin().display(),
                    v.price_row.line()
                );
                let (bq, amt) = (line.billed_quantity(), line.amount());
                by_element
                    .entry((d.element().to_string(), unit.to_string()))
                    .or_default()
                    .add(bq, amt);
                by_year.entry(d.date().year()).or_default().add(bq, amt);
                by_client
                    .entry(d.client().clone())
                    .or_default()
                    .add(bq, amt);
                total = total.checked_add(amt).unwrap_or(total);
                valued += 1;
            }
            Entry::Rejected(r, d) => {
                let _ = writeln!(s, "{}  {}  {}", d.date(), d.client(), d.element());
                let _ = writeln!(
                    s,
                    "    {} (row {}), provider {}",
                    loaded.deliveries.locate(file_row(r.row())),
                    file_row(r.row()),
                    d.provider()
                );
                let _ = writeln!(
                    s,
                    "    quantity {}: NOT VALUED ({}): {}",
                    qty(d.quantity()),
                    r.reason().code(),
                    r.reason()
                );
                rejected += 1;
            }
        }
    }

    s.push_str("\nSubtotals by element\n");
    let mut t = TextTable::new(&[
        ("element", Align::Left),
        ("lines", Align::Right),
        ("billed", Align::Right),
        ("unit", Align::Left),
        ("amount", Align::Right),
    ]);
    for ((code, unit), sub) in &by_element {
        t.row(vec![
            code.clone(),
            sub.lines.to_string(),
            qty(sub.quantity),
            unit.clone(),
            money2(sub.amount),
        ]);
    }
    s.push_str(&t.render());

    s.push_str("\nSubtotals by year\n");
    let mut t = TextTable::new(&[
        ("year", Align::Left),
        ("lines", Align::Right),
        ("amount", Align::Right),
    ]);
    for (year, sub) in &by_year {
        t.row(vec![
            year.to_string(),
            sub.lines.to_string(),
            money2(sub.amount),
        ]);
    }
    s.push_str(&t.render());

    if members.len() > 1 {
        s.push_str("\nSubtotals by household member\n");
        let mut t = TextTable::new(&[
            ("client", Align::Left),
            ("lines", Align::Right),
            ("amount", Align::Right),
        ]);
        for (c, sub) in &by_client {
            t.row(vec![
                c.to_string(),
                sub.lines.to_string(),
                money2(sub.amount),
            ]);
        }
        s.push_str(&t.render());
    }

    let _ = writeln!(
        s,
        "\nTotal EUR {} ({valued} lines valued{})",
        money_exact(total),
        match rejected {
            0 => String::new(),
            n => format!(", {n} not valued"),
        }
    );
    s
}

fn plural_noun(unit: Unit) -> (&'static str, &'static str) {
    match unit {
        Unit::BedNight => ("night", "nights"),
        Unit::Day => ("day", "days"),
        Unit::Hour => ("hour", "hours"),
        Unit::Session => ("session", "sessions"),
        Unit::Month => ("month", "months"),
        Unit::Km => ("km", "km"),
        _ => ("unit", "units"),
    }
}

/// `nights 21–30 of the year: 10 × 30.00 = 300.00 (tier 1, up to 30)`.
fn tier_line(p: &TierPart, unit: Unit, tiers: &[aidcost::Tier]) -> String {
    let (one, many) = plural_noun(unit);
    let whole = |q: Quantity| q.get().fract().is_zero();
    let range = if whole(p.from) && whole(p.to) {
        let first = p.from.get() + rust_decimal::Decimal::ONE;
        if first == p.to.get() {
            format!("{one} {} of the year", exact_int(p.to.get()))
        } else {
            format!(
                "{many} {}–{} of the year",
                exact_int(first),
                exact_int(p.to.get())
            )
        }
    } else {
        format!(
            "{many} beyond {} up to {} of the year",
            qty(p.from),
            qty(p.to)
        )
    };
    let tier = tiers.get(p.tier as usize - 1).map_or_else(
        || format!("tier {}", p.tier),
        |t| match t.up_to() {
            Some(u) => format!("tier {}, up to {}", p.tier, qty(u)),
            None => format!("tier {}, beyond the previous tiers", p.tier),
        },
    );
    format!(
        "{range}: {} × {} = {} ({tier})",
        qty(p.quantity),
        price(p.unit_price),
        exact2(p.amount.get())
    )
}

fn exact_int(d: rust_decimal::Decimal) -> String {
    d.normalize().to_string()
}
