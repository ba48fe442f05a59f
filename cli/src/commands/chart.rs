//! The SVG chart of `aidcost compare --chart`: cost per assisted person by provider, base
//! year beside the compared year; and the four KPI rates with the base year's as a line.
//!
//! Plot coordinates are screen geometry, not money: this module converts the exact figures to
//! `f64` for drawing only (`to_f64_lossy`), which is why it allows float arithmetic.

#![allow(clippy::float_arithmetic)]

use aidcost::compare::{Comparison, Ratio};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rust_decimal::prelude::ToPrimitive;

use crate::failure::Failure;

fn to_f64_lossy(r: Ratio) -> f64 {
    r.value().and_then(|v| v.to_f64()).unwrap_or(0.0)
}

fn draw_err<E: std::fmt::Debug>(e: E) -> Failure {
    Failure::msg(format!("cannot draw the chart: {e:?}"))
}

/// The chart as SVG text.
pub(crate) fn svg(c: &Comparison) -> Result<String, Failure> {
    let base = c.providers.first();
    let current = c.providers.last();
    let providers: Vec<String> = current
        .map(|l| l.rows.iter().map(|r| r.provider.clone()).collect())
        .unwrap_or_default();
    let cost = |league: Option<&aidcost::compare::League>, p: &str| {
        league
            .and_then(|l| l.rows.iter().find(|r| r.provider == p))
            .map_or(0.0, |r| to_f64_lossy(r.cost.per_assisted))
    };
    let bars: Vec<(usize, f64, f64)> = providers
        .iter()
        .enumerate()
        .map(|(i, p)| (i, cost(base, p), cost(current, p)))
        .collect();
    let top = bars
        .iter()
        .flat_map(|(_, a, b)| [*a, *b])
        .fold(1.0_f64, f64::max)
        * 1.3;

    let kpi = |year: u16| {
        c.kpis
            .iter()
            .find(|k| k.year == year && k.scope == "overall")
            .map(|k| {
                [
                    to_f64_lossy(k.k1_coverage.rate),
                    to_f64_lossy(k.k2_fully_served.rate),
                    to_f64_lossy(k.k3_law_enforcement.rate),
                    to_f64_lossy(k.k4_integration.rate),
                ]
            })
            .unwrap_or([0.0; 4])
    };
    let (k0, k1) = (kpi(c.base_year), kpi(c.year));

    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (960, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let (left, right) = root.split_horizontally(560);

        let n = providers.len().max(1);
        let mut chart = ChartBuilder::on(&left)
            .caption(
                format!(
                    "Cost per assisted person by provider, EUR ({} and {})",
                    c.base_year, c.year
                ),
                ("sans-serif", 16),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..n as f64, 0.0..top)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .x_desc("provider (named above its bars)")
            .y_desc("EUR per person")
            .draw()
            .map_err(draw_err)?;
        let base_style = RGBColor(160, 174, 192).filled();
        let cur_style = RGBColor(31, 119, 180).filled();
        chart
            .draw_series(bars.iter().map(|(i, a, _)| {
                let x = *i as f64;
                Rectangle::new([(x + 0.12, 0.0), (x + 0.48, *a)], base_style)
            }))
            .map_err(draw_err)?
            .label(c.base_year.to_string())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], base_style));
        chart
            .draw_series(bars.iter().map(|(i, _, b)| {
                let x = *i as f64;
                Rectangle::new([(x + 0.52, 0.0), (x + 0.88, *b)], cur_style)
            }))
            .map_err(draw_err)?
            .label(c.year.to_string())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], cur_style));
        let label = TextStyle::from(("sans-serif", 12).into_font())
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        chart
            .draw_series(bars.iter().map(|(i, a, b)| {
                Text::new(
                    providers.get(*i).cloned().unwrap_or_default(),
                    (*i as f64 + 0.5, a.max(*b) + top * 0.01),
                    label.clone(),
                )
            }))
            .map_err(draw_err)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(draw_err)?;

        let names = ["K1", "K2", "K3", "K4"];
        let inside = label.color(&WHITE);
        let mut kchart = ChartBuilder::on(&right)
            .caption(
                format!("KPIs K1–K4, % : {} bars, {} line", c.year, c.base_year),
                ("sans-serif", 16),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(40)
            .build_cartesian_2d(0.0..4.0, 0.0..100.0)
            .map_err(draw_err)?;
        kchart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .draw()
            .map_err(draw_err)?;
        kchart
            .draw_series(k1.iter().enumerate().map(|(i, v)| {
                let x = i as f64;
                Rectangle::new([(x + 0.2, 0.0), (x + 0.8, *v)], cur_style)
            }))
            .map_err(draw_err)?;
        kchart
            .draw_series(names.iter().enumerate().map(|(i, name)| {
                Text::new((*name).to_owned(), (i as f64 + 0.5, 2.0), inside.clone())
            }))
            .map_err(draw_err)?;
        kchart
            .draw_series(LineSeries::new(
                k0.iter().enumerate().map(|(i, v)| (i as f64 + 0.5, *v)),
                RGBColor(214, 39, 40).stroke_width(2),
            ))
            .map_err(draw_err)?;
        kchart
            .draw_series(
                k0.iter().enumerate().map(|(i, v)| {
                    Circle::new((i as f64 + 0.5, *v), 4, RGBColor(214, 39, 40).filled())
                }),
            )
            .map_err(draw_err)?;
        root.present().map_err(draw_err)?;
    }
    Ok(out)
}
