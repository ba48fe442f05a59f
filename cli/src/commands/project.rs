//! `aidcost project`: a project's budget against the valued deliveries and prevention
//! activities dated within it.

use std::io::Write;
use std::path::PathBuf;

use aidcost::prevention::{load_activities, value_activities};
use aidcost::project::{Amount, Project, ProjectReport};
use aidcost::{value as value_deliveries, Catalog, Context, Currency, PriceBook, ValuationOptions};

use crate::failure::{CmdResult, Outcome};
use crate::input::{csv_options, load_deliveries, load_tables};
use crate::output::{money2, money_exact, write_json, Align, Cell, CsvOut, Format, TextTable};

/// Arguments of `aidcost project`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The project file (TOML; see docs/formats.md).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Deliveries of client assistance (CSV) to count against the budget.
    #[arg(long, value_name = "FILE")]
    deliveries: Option<PathBuf>,
    /// Prevention activities (CSV) to count against the budget.
    #[arg(long, value_name = "FILE")]
    activities: Option<PathBuf>,
    /// Folder of price tables; without it, the shipped catalog and tables.
    #[arg(long, value_name = "DIR")]
    tables: Option<PathBuf>,
    /// Leave out rows dated outside the project instead of refusing them.
    #[arg(long)]
    skip_outside: bool,
    /// Read decimal commas (`12,50`) in a comma-delimited file.
    #[arg(long)]
    decimal_comma: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// CSV output for Lithuanian Excel: semicolons, decimal commas, UTF-8 BOM, CRLF.
    #[arg(long)]
    excel_lt: bool,
}

pub(crate) fn run(args: &Args) -> CmdResult {
    let (catalog, book) = match &args.tables {
        Some(dir) => load_tables(dir)?,
        None => {
            let c = Catalog::shipped()?;
            let b = PriceBook::shipped(&c)?;
            (c, b)
        }
    };
    let project = Project::load(&args.file, &catalog)?;
    let options = csv_options(args.decimal_comma);
    let deliveries = match &args.deliveries {
        Some(path) => {
            let d = load_deliveries(path, options)?;
            if !args.skip_outside {
                project.check_dates(
                    path,
                    d.rows
                        .iter()
                        .enumerate()
                        .map(|(i, x)| (d.line_of(i as u64 + 1), x.date())),
                )?;
            }
            Some(d)
        }
        None => None,
    };
    let activities = match &args.activities {
        Some(path) => {
            let a = load_activities(path, options)?;
            if !args.skip_outside {
                project.check_activities(path, &a)?;
            }
            Some(a)
        }
        None => None,
    };
    let cx = Context {
        catalog: &catalog,
        book: &book,
        clients: None,
    };
    let dv = match &deliveries {
        Some(d) => Some(value_deliveries(&d.rows, cx, ValuationOptions::default())?),
        None => None,
    };
    let av = match &activities {
        Some(a) => Some(value_activities(a, &catalog, &book)?),
        None => None,
    };
    let report = ProjectReport::new(&project, &catalog, dv.as_ref(), av.as_ref())?;
    let rejected =
        dv.as_ref().map_or(0, |v| v.rows_rejected()) + av.as_ref().map_or(0, |v| v.rows_rejected());
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Table => write_table(&mut out, &project, &report, rejected)?,
        Format::Csv => write_csv(&mut out, &report, args.excel_lt)?,
        Format::Json => write_json(&mut out, &report)?,
    }
    Ok(Outcome::Clean)
}

fn shown(a: &Amount) -> String {
    match a.ltl {
        Some(l) => format!("{} ({l} LTL)", money2(a.eur)),
        None => money2(a.eur),
    }
}

fn flag(on: bool, text: &str) -> String {
    if on {
        text.to_owned()
    } else {
        String::new()
    }
}

fn write_table(
    out: &mut impl Write,
    p: &Project,
    r: &ProjectReport,
    rejected: u64,
) -> Result<(), crate::failure::Failure> {
    writeln!(out, "project {}: {}", p.code(), p.title())?;
    if !p.title_en().is_empty() {
        writeln!(out, "  ({})", p.title_en())?;
    }
    writeln!(
        out,
        "executor {}{}; {} to {}; amounts in {}{}",
        p.executor(),
        if p.municipality().is_empty() {
            String::new()
        } else {
            format!(", {}", p.municipality())
        },
        p.start(),
        p.end(),
        p.currency(),
        if p.currency() == Currency::Ltl {
            ", shown in EUR at 3.45280 LTL per EUR (price rule), litas in brackets"
        } else {
            ""
        }
    )?;
    writeln!(out)?;
    let mut t = TextTable::new(&[
        ("budget line", Align::Left),
        ("planned EUR", Align::Right),
        ("actual EUR", Align::Right),
        ("remaining EUR", Align::Right),
        ("used", Align::Right),
        ("flag", Align::Left),
    ]);
    for l in &r.lines {
        t.row(vec![
            l.name.clone(),
            shown(&l.planned),
            money2(l.actual),
            money2(l.remaining),
            l.used.percent().display_dp(1).replace("not defined", "—") + "%",
            flag(l.overspent, "OVERSPENT"),
        ]);
    }
    t.row(vec![
        "(not in any budget line)".into(),
        String::new(),
        money2(r.unbudgeted),
        String::new(),
        String::new(),
        String::new(),
    ]);
    t.rule();
    t.row(vec![
        "total".into(),
        shown(&r.planned),
        money2(r.actual),
        String::new(),
        String::new(),
        flag(r.over_grant, "OVER GRANT"),
    ]);
    write!(out, "{}", t.render())?;
    writeln!(out)?;
    writeln!(
        out,
        "actual valued cost {} EUR: client assistance {}, prevention {} (reported apart){}",
        money2(r.actual),
        money2(r.assistance),
        money2(r.prevention),
        if rejected > 0 {
            format!("; {rejected} rows not valued (see aidcost value / check)")
        } else {
            String::new()
        }
    )?;
    if r.rows_outside > 0 {
        writeln!(
            out,
            "{} valued rows dated outside the project left out",
            r.rows_outside
        )?;
    }
    writeln!(
        out,
        "total value {}; funding granted {}; paid {}; remaining funds {}",
        shown(&r.total_value),
        shown(&r.granted),
        shown(&r.paid),
        shown(&r.remaining)
    )?;
    let absorption = match r.absorption.value().and_then(|v| {
        v.round_sf_with_strategy(7, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    }) {
        Some(v) => format!("{} (exact {})", v.normalize(), r.absorption),
        None => "not defined".to_owned(),
    };
    writeln!(out, "absorption (paid ÷ granted) {absorption}")?;
    writeln!(
        out,
        "shares: EU {} ({}%), national {} ({}%)",
        shown(&r.eu_share),
        r.eu_ratio.percent().display_dp(2),
        shown(&r.national_share),
        r.national_ratio.percent().display_dp(2)
    )?;
    if r.over_grant {
        writeln!(
            out,
            "flag: the actual valued cost is above the funding granted"
        )?;
    }
    if r.paid_over_grant {
        writeln!(out, "flag: more was paid than granted")?;
    }
    Ok(())
}

fn write_csv(
    out: &mut impl Write,
    r: &ProjectReport,
    excel_lt: bool,
) -> Result<(), crate::failure::Failure> {
    let mut w = CsvOut::new(out, excel_lt)?;
    w.header(&["section", "item", "measure", "value"])?;
    let mut put = |section: &str, item: &str, measure: &str, value: Cell| {
        w.record(&[
            Cell::Text(section.to_owned()),
            Cell::Text(item.to_owned()),
            Cell::Text(measure.to_owned()),
            value,
        ])
    };
    let num = |m: aidcost::Money| Cell::Num(money_exact(m));
    let ratio = |r: aidcost::compare::Ratio| match r.value() {
        Some(v) => Cell::Num(v.to_string()),
        None => Cell::Text("not defined".to_owned()),
    };
    for l in &r.lines {
        put("line", &l.name, "planned", num(l.planned.eur))?;
        put("line", &l.name, "actual", num(l.actual))?;
        put("line", &l.name, "remaining", num(l.remaining))?;
        put("line", &l.name, "used", ratio(l.used))?;
        put(
            "line",
            &l.name,
            "overspent",
            Cell::Text(l.overspent.to_string()),
        )?;
    }
    put("total", "", "unbudgeted", num(r.unbudgeted))?;
    put("total", "", "planned", num(r.planned.eur))?;
    put("total", "", "actual", num(r.actual))?;
    put("total", "", "assistance", num(r.assistance))?;
    put("total", "", "prevention", num(r.prevention))?;
    put("funds", "", "total_value", num(r.total_value.eur))?;
    put("funds", "", "granted", num(r.granted.eur))?;
    put("funds", "", "paid", num(r.paid.eur))?;
    put("funds", "", "remaining", num(r.remaining.eur))?;
    put("funds", "", "absorption", ratio(r.absorption))?;
    put("funds", "", "eu_share", num(r.eu_share.eur))?;
    put("funds", "", "national_share", num(r.national_share.eur))?;
    put(
        "funds",
        "",
        "over_grant",
        Cell::Text(r.over_grant.to_string()),
    )?;
    w.finish()?;
    Ok(())
}
