//! `aidcost compare`: the four KPIs, cost per outcome, the base-year comparison and the
//! provider league tables, as a table, CSV or JSON, with an optional SVG chart.

use std::io::Write;
use std::path::PathBuf;

use aidcost::compare::{
    compare, CompareContext, CompareOptions, Comparison, Deflators, Kpi, League, MixBy, Ratio,
};
use aidcost::Money;

use crate::commands::Loaded;
use crate::failure::{CmdResult, Failure, Outcome};
use crate::input::InputArgs;
use crate::output::{money2, write_json, Align, Cell, CsvOut, Format, TextTable};

/// Arguments of `aidcost compare`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    input: InputArgs,
    /// The base year.
    #[arg(long, default_value_t = 2019)]
    base_year: u16,
    /// The year compared with the base (default: the latest year with valued deliveries).
    #[arg(long)]
    year: Option<u16>,
    /// Deflator table (TOML) for figures in base-year prices.
    #[arg(long, value_name = "FILE")]
    deflators: Option<PathBuf>,
    /// Common reference table for the provider comparison: ID or ID@VERSION (default: the
    /// national table of the compared year).
    #[arg(long, value_name = "ID")]
    reference_table: Option<String>,
    /// Client segments of the price-volume-mix split: outcome, target-group or provider.
    #[arg(long, default_value = "outcome")]
    mix_by: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// CSV output for Lithuanian Excel: semicolons, decimal commas, UTF-8 BOM, CRLF.
    #[arg(long)]
    excel_lt: bool,
    /// Also draw cost per outcome by provider and the KPI rates as an SVG chart.
    #[arg(long, value_name = "FILE.svg")]
    chart: Option<PathBuf>,
    /// Prevention activities (CSV): reported apart, never in cost per client.
    #[arg(long, value_name = "FILE")]
    activities: Option<PathBuf>,
}

/// The JSON document: the comparison, plus prevention per year when activities were given.
#[derive(serde::Serialize)]
struct Document<'a> {
    #[serde(flatten)]
    comparison: &'a Comparison,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    prevention: Vec<super::prevention::PreventionJson>,
}

/// Runs `aidcost compare`.
pub(crate) fn run(args: &Args) -> CmdResult {
    if args.input.clients.is_none() {
        return Err(Failure::msg(
            "compare needs --clients FILE: the KPIs count people from the client register",
        ));
    }
    let mix_by: MixBy = args.mix_by.parse()?;
    let loaded = Loaded::read(&args.input)?;
    let valuation = loaded.value()?;
    let mut options = CompareOptions::default()
        .with_base_year(args.base_year)
        .with_mix_by(mix_by);
    if let Some(y) = args.year {
        options = options.with_year(y);
    }
    if let Some(r) = &args.reference_table {
        options = options.with_reference_table(r.clone());
    }
    if let Some(path) = &args.deflators {
        options = options.with_deflators(Deflators::load(path)?);
    }
    let register = loaded
        .clients
        .as_ref()
        .ok_or_else(|| Failure::msg("no register"))?;
    let comparison = compare(
        &valuation,
        CompareContext {
            catalog: &loaded.catalog,
            book: &loaded.book,
            clients: register,
        },
        &options,
    )?;
    if let Some(path) = &args.chart {
        let svg = super::chart::svg(&comparison)?;
        std::fs::write(path, svg)
            .map_err(|e| Failure::msg(format!("{}: cannot write: {e}", path.display())))?;
    }
    let prevention = match &args.activities {
        Some(path) => {
            let activities = super::prevention::read(path, args.input.csv_options())?;
            let years = [Some(comparison.base_year), Some(comparison.year)];
            super::prevention::reports(&activities, &loaded.catalog, &loaded.book, &years)?.0
        }
        None => Vec::new(),
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Json => write_json(
            &mut out,
            &Document {
                comparison: &comparison,
                prevention: prevention.iter().map(Into::into).collect(),
            },
        )?,
        Format::Csv => write_csv(&mut out, &comparison, args.excel_lt)?,
        Format::Table => {
            out.write_all(render(&comparison).as_bytes())?;
            for r in &prevention {
                write!(out, "\n{}", super::prevention::render(r))?;
            }
        }
    }
    out.flush()?;
    Ok(Outcome::Clean)
}

fn pct(k: &Kpi) -> String {
    match k.rate.round_to(1) {
        Some(v) => format!("{v:.1}% ({}/{})", k.numerator, k.denominator),
        None => format!("not defined ({}/{})", k.numerator, k.denominator),
    }
}

fn eur(r: Ratio) -> String {
    r.display_dp(2)
}

fn kept(b: bool) -> &'static str {
    if b {
        "kept"
    } else {
        "NOT kept"
    }
}

/// The short 2024-versus-base summary (also printed at the end of the demo).
pub(crate) fn summary(c: &Comparison) -> String {
    let mut s = String::new();
    let sc = &c.scope;
    s.push_str(&format!(
        "scope {}: assisted {} against {} in {} ({}); volume at {} prices ×{} ({})\n",
        kept(sc.kept),
        sc.assisted,
        sc.assisted_base,
        sc.base_year,
        kept(sc.assisted_kept),
        sc.base_year,
        sc.quantity_index_laspeyres
            .round_to(4)
            .map_or_else(|| "not defined".to_owned(), |v| v.to_string()),
        kept(sc.volume_kept),
    ));
    for year in [c.base_year, c.year] {
        let Some(k) = c
            .kpis
            .iter()
            .find(|k| k.year == year && k.scope == "overall")
        else {
            continue;
        };
        s.push_str(&format!(
            "{year}: K1 coverage {}, K2 fully served {}, K3 law enforcement {}, K4 integration {}\n",
            pct(&k.k1_coverage),
            pct(&k.k2_fully_served),
            pct(&k.k3_law_enforcement),
            pct(&k.k4_integration)
        ));
        if let Some(cost) = c
            .cost_per_outcome
            .iter()
            .find(|x| x.year == year && x.scope == "overall")
        {
            let real = cost.real.as_ref().map_or(String::new(), |r| {
                format!(", in {} prices EUR {}", c.base_year, eur(r.per_assisted))
            });
            s.push_str(&format!(
                "      cost per assisted person EUR {} (average: total {} ÷ {} persons){real}\n",
                eur(cost.per_assisted),
                money2(cost.total_cost),
                k.assisted,
            ));
        }
        if year == c.year {
            break;
        }
    }
    s
}

fn render(c: &Comparison) -> String {
    let mut s = format!(
        "aidcost compare: {} against base year {}\n\n",
        c.year, c.base_year
    );
    s.push_str(&summary(c));

    s.push_str(
        "\nKPIs (numerator/denominator; assisted without a needs assessment are outside K2)\n",
    );
    let mut t = TextTable::new(&[
        ("year", Align::Left),
        ("scope", Align::Left),
        ("applied", Align::Right),
        ("assisted", Align::Right),
        ("no assessment", Align::Right),
        ("K1 coverage", Align::Right),
        ("K2 fully served", Align::Right),
        ("K3 law enforcement", Align::Right),
        ("K4 integration", Align::Right),
    ]);
    for k in &c.kpis {
        t.row(vec![
            k.year.to_string(),
            k.scope.clone(),
            k.applicants.to_string(),
            k.assisted.to_string(),
            k.without_assessment.to_string(),
            pct(&k.k1_coverage),
            pct(&k.k2_fully_served),
            pct(&k.k3_law_enforcement),
            pct(&k.k4_integration),
        ]);
    }
    s.push_str(&t.render());

    s.push_str("\nCost per outcome, EUR (averages: total cost ÷ persons)\n");
    let mut t = TextTable::new(&[
        ("year", Align::Left),
        ("scope", Align::Left),
        ("total cost", Align::Right),
        ("per assisted", Align::Right),
        ("per fully served", Align::Right),
        ("per cooperating", Align::Right),
        ("per integrated", Align::Right),
        ("per staff hour", Align::Right),
        ("per assisted, real", Align::Right),
    ]);
    for x in &c.cost_per_outcome {
        t.row(vec![
            x.year.to_string(),
            x.scope.clone(),
            money2(x.total_cost),
            eur(x.per_assisted),
            eur(x.per_fully_served),
            eur(x.per_cooperating),
            eur(x.per_integrated),
            eur(x.per_staff_hour),
            x.real
                .as_ref()
                .map_or("-".to_owned(), |r| eur(r.per_assisted)),
        ]);
    }
    s.push_str(&t.render());

    let i = &c.indices;
    s.push_str(&format!(
        "\nIndices over elements, {} on {}\n  price:    Laspeyres {}  Paasche {}  Fisher {}\n  quantity: Laspeyres {}  Paasche {}  Fisher {}\n  value ratio {} (= Fisher price × Fisher quantity)\n",
        c.year,
        c.base_year,
        i.laspeyres_price,
        i.paasche_price,
        i.fisher_price,
        i.laspeyres_quantity,
        i.paasche_quantity,
        i.fisher_quantity,
        i.value_ratio
    ));
    let d = &c.decomposition;
    s.push_str(&format!(
        "\nCost change EUR {} = price effect {} + quantity effect {}\n",
        money2(d.change),
        money2(d.price_effect),
        money2(d.quantity_effect)
    ));
    let m = &c.mix;
    s.push_str(&format!(
        "\nPrice-volume-mix by {}: change EUR {} = volume {} + mix {} + rate {}{}\n",
        m.by,
        money2(m.total),
        money2(m.volume),
        money2(m.mix),
        money2(m.rate),
        m.rate_real.map_or(String::new(), |r| format!(
            " (rate in {} prices {})",
            c.base_year,
            money2(r)
        ))
    ));
    let mut t = TextTable::new(&[
        ("segment", Align::Left),
        ("persons base", Align::Right),
        ("cost base", Align::Right),
        ("persons", Align::Right),
        ("cost", Align::Right),
    ]);
    for seg in &m.segments {
        t.row(vec![
            seg.segment.clone(),
            seg.base_clients.to_string(),
            money2(seg.base_cost),
            seg.clients.to_string(),
            money2(seg.cost),
        ]);
    }
    s.push_str(&t.render());

    for league in &c.providers {
        s.push_str(&render_league(league));
    }
    if !c.warnings.is_empty() {
        s.push_str("\nWarnings\n");
        for w in &c.warnings {
            s.push_str(&format!("  {w}\n"));
        }
    }
    s
}

fn render_league(l: &League) -> String {
    let mut s = format!(
        "\nProviders {} (reference prices: {}; rank by cost per assisted person, cheapest first)\n",
        l.year, l.reference_table
    );
    let mut t = TextTable::new(&[
        ("rank", Align::Right),
        ("provider", Align::Left),
        ("assisted", Align::Right),
        ("K2", Align::Right),
        ("K4", Align::Right),
        ("cost", Align::Right),
        ("per assisted", Align::Right),
        ("real", Align::Right),
        ("to median=100", Align::Right),
        ("ref. cost index", Align::Right),
        ("flag", Align::Left),
    ]);
    let mut rows: Vec<_> = l.rows.iter().collect();
    rows.sort_by_key(|r| (r.rank.unwrap_or(u32::MAX), r.provider.clone()));
    for r in rows {
        t.row(vec![
            r.rank.map_or("-".to_owned(), |x| x.to_string()),
            r.provider.clone(),
            r.assisted.to_string(),
            r.kpis.k2_fully_served.rate.display_dp(1),
            r.kpis.k4_integration.rate.display_dp(1),
            money2(r.cost.total_cost),
            eur(r.cost.per_assisted),
            r.cost
                .real
                .as_ref()
                .map_or("-".to_owned(), |x| eur(x.per_assisted)),
            r.index_to_median.display_dp(1),
            r.reference_index.display_dp(1),
            match r.outlier {
                Some(aidcost::compare::Outlier::High) => "high".to_owned(),
                Some(aidcost::compare::Outlier::Low) => "low".to_owned(),
                None => String::new(),
            },
        ]);
    }
    s.push_str(&t.render());
    if let Some(sp) = &l.spread {
        s.push_str(&format!(
            "cost per assisted person over providers: Q1 {}  median {}  Q3 {}  (Hyndman–Fan type 7); Tukey fences {} to {}\n",
            crate::output::dec2(sp.q1),
            crate::output::dec2(sp.median),
            crate::output::dec2(sp.q3),
            crate::output::dec2(sp.lower_fence),
            crate::output::dec2(sp.upper_fence),
        ));
    }
    if !l.flags_reliable {
        s.push_str("fewer than 8 providers: outlier flags are unreliable; read the ratio to the median instead\n");
    }
    s
}

fn write_csv(out: impl Write, c: &Comparison, excel_lt: bool) -> Result<(), Failure> {
    let mut w = CsvOut::new(out, excel_lt)?;
    w.header(&["section", "year", "scope", "measure", "value"])?;
    let mut put = |section: &str, year: u16, scope: &str, measure: &str, value: Cell| {
        w.record(&[
            Cell::Text(section.to_owned()),
            Cell::Text(year.to_string()),
            Cell::Text(scope.to_owned()),
            Cell::Text(measure.to_owned()),
            value,
        ])
    };
    let ratio = |r: Ratio| match r.value() {
        Some(_) => Cell::Num(r.to_string()),
        None => Cell::Text("not defined".to_owned()),
    };
    let money = |m: Money| Cell::Num(m.to_string());
    for k in &c.kpis {
        for (name, kpi) in [
            ("k1_coverage", &k.k1_coverage),
            ("k2_fully_served", &k.k2_fully_served),
            ("k3_law_enforcement", &k.k3_law_enforcement),
            ("k4_integration", &k.k4_integration),
        ] {
            put(
                "kpi",
                k.year,
                &k.scope,
                &format!("{name}_numerator"),
                Cell::Num(kpi.numerator.to_string()),
            )?;
            put(
                "kpi",
                k.year,
                &k.scope,
                &format!("{name}_denominator"),
                Cell::Num(kpi.denominator.to_string()),
            )?;
            put(
                "kpi",
                k.year,
                &k.scope,
                &format!("{name}_rate"),
                ratio(kpi.rate),
            )?;
        }
    }
    for x in &c.cost_per_outcome {
        put(
            "cost_per_outcome",
            x.year,
            &x.scope,
            "total_cost",
            money(x.total_cost),
        )?;
        put(
            "cost_per_outcome",
            x.year,
            &x.scope,
            "per_assisted",
            ratio(x.per_assisted),
        )?;
        put(
            "cost_per_outcome",
            x.year,
            &x.scope,
            "per_fully_served",
            ratio(x.per_fully_served),
        )?;
        put(
            "cost_per_outcome",
            x.year,
            &x.scope,
            "per_cooperating",
            ratio(x.per_cooperating),
        )?;
        put(
            "cost_per_outcome",
            x.year,
            &x.scope,
            "per_integrated",
            ratio(x.per_integrated),
        )?;
        put(
            "cost_per_outcome",
            x.year,
            &x.scope,
            "per_staff_hour",
            ratio(x.per_staff_hour),
        )?;
        if let Some(r) = &x.real {
            put(
                "cost_per_outcome",
                x.year,
                &x.scope,
                "per_assisted_real",
                ratio(r.per_assisted),
            )?;
        }
    }
    let i = &c.indices;
    for (name, r) in [
        ("laspeyres_price", i.laspeyres_price),
        ("paasche_price", i.paasche_price),
        ("fisher_price", i.fisher_price),
        ("laspeyres_quantity", i.laspeyres_quantity),
        ("paasche_quantity", i.paasche_quantity),
        ("fisher_quantity", i.fisher_quantity),
        ("value_ratio", i.value_ratio),
    ] {
        put("indices", c.year, "overall", name, ratio(r))?;
    }
    put(
        "decomposition",
        c.year,
        "overall",
        "change",
        money(c.decomposition.change),
    )?;
    put(
        "decomposition",
        c.year,
        "overall",
        "price_effect",
        money(c.decomposition.price_effect),
    )?;
    put(
        "decomposition",
        c.year,
        "overall",
        "quantity_effect",
        money(c.decomposition.quantity_effect),
    )?;
    let mix_scope = format!("mix_by:{}", c.mix.by);
    put("mix", c.year, &mix_scope, "volume", money(c.mix.volume))?;
    put("mix", c.year, &mix_scope, "mix", money(c.mix.mix))?;
    put("mix", c.year, &mix_scope, "rate", money(c.mix.rate))?;
    put("mix", c.year, &mix_scope, "total", money(c.mix.total))?;
    for l in &c.providers {
        for r in &l.rows {
            let scope = format!("provider:{}", r.provider);
            put(
                "league",
                l.year,
                &scope,
                "rank",
                r.rank
                    .map_or(Cell::Text("-".into()), |x| Cell::Num(x.to_string())),
            )?;
            put(
                "league",
                l.year,
                &scope,
                "per_assisted",
                ratio(r.cost.per_assisted),
            )?;
            put(
                "league",
                l.year,
                &scope,
                "index_to_median",
                ratio(r.index_to_median),
            )?;
            put(
                "league",
                l.year,
                &scope,
                "reference_cost",
                money(r.reference_cost),
            )?;
            put(
                "league",
                l.year,
                &scope,
                "reference_index",
                ratio(r.reference_index),
            )?;
        }
    }
    w.finish()?;
    Ok(())
}
