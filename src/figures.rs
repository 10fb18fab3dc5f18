//! Figures, drawn with plotters as PNG and SVG. Each is written atomically (temporary file, rename).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::data::io::with_temp_path;
use crate::error::{ClvError, Result};

/// Draws the value concentration (Pareto) curve: share of total CLV held by the top k% of
/// customers, with the line of equal shares and the top 1/10/20% marked, to `png` and `svg`.
pub fn value_concentration(concentration: &[(f64, f64)], png: &Path, svg: &Path) -> Result<()> {
    for path in [png, svg] {
        with_temp_path(path, |tmp| {
            let drawn = if path == png {
                draw_concentration(BitMapBackend::new(tmp, (900, 650)).into_drawing_area(), concentration)
            } else {
                draw_concentration(SVGBackend::new(tmp, (900, 650)).into_drawing_area(), concentration)
            };
            drawn.map_err(|message| ClvError::BadFile {
                path: path.to_path_buf(),
                message: format!("drawing the figure: {message}"),
            })
        })?;
    }
    Ok(())
}

fn draw_concentration<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    concentration: &[(f64, f64)],
) -> std::result::Result<(), String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(e)?;
    let points: Vec<(f64, f64)> = std::iter::once((0.0, 0.0))
        .chain(concentration.iter().copied())
        .collect();
    let y_min = points.iter().map(|p| p.1).fold(0.0f64, f64::min);
    let y_max = points.iter().map(|p| p.1).fold(100.0f64, f64::max);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Value concentration: share of forecast CLV by top customers",
            ("sans-serif", 24),
        )
        .margin(20)
        .x_label_area_size(55)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..100.0, y_min..y_max)
        .map_err(e)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .x_desc("Customers, ranked by CLV, most valuable first (% of customers)")
        .y_desc("Share of total CLV (%)")
        .axis_desc_style(("sans-serif", 18))
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(e)?;
    let blue = RGBColor(31, 119, 180);
    chart
        .draw_series(AreaSeries::new(points.iter().copied(), 0.0, blue.mix(0.15)).border_style(blue.stroke_width(3)))
        .map_err(e)?
        .label("cumulative share of CLV")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 25, y)], blue.stroke_width(3)));
    chart
        .draw_series(LineSeries::new(
            [(0.0, 0.0), (100.0, 100.0)],
            BLACK.mix(0.5).stroke_width(1),
        ))
        .map_err(e)?
        .label("equal shares (every customer worth the same)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 25, y)], BLACK.mix(0.5)));
    let red = RGBColor(214, 39, 40);
    for &(k, share) in concentration.iter().filter(|(k, _)| [1.0, 10.0, 20.0].contains(k)) {
        chart
            .draw_series(std::iter::once(Circle::new((k, share), 5, red.filled())))
            .map_err(e)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!("top {k:.0}%: {share:.1}%"),
                (k + 1.5, share - 4.0),
                ("sans-serif", 16).into_font().color(&red),
            )))
            .map_err(e)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font(("sans-serif", 16))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(e)?;
    root.present().map_err(e)
}
