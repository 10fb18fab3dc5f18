//! Figures, drawn with plotters as PNG and SVG. Each is written atomically (temporary file, rename).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::data::io::with_temp_path;
use crate::error::{ClvError, Result};

/// Draws `$body` (with `$area` a drawing area of the given size) once to a PNG and once to an SVG
/// file, each written atomically; a drawing error names the file. A macro, because the two
/// backends are different types.
macro_rules! png_and_svg {
    ($png:expr, $svg:expr, $size:expr, |$area:ident| $body:expr) => {{
        for path in [$png, $svg] {
            with_temp_path(path, |tmp| {
                let drawn = register_font().and_then(|()| {
                    if path == $png {
                        let $area = BitMapBackend::new(tmp, $size).into_drawing_area();
                        $body
                    } else {
                        let $area = SVGBackend::new(tmp, $size).into_drawing_area();
                        $body
                    }
                });
                drawn.map_err(|message| ClvError::BadFile {
                    path: path.to_path_buf(),
                    message: format!("drawing the figure: {message}"),
                })
            })?;
        }
        Ok(())
    }};
}

/// The figures' one typeface, "sans-serif": DejaVu Sans, cut to Latin, Greek, punctuation and
/// mathematical signs (`fonts/LICENSE.txt`), inside the binary. Figures then draw their text the
/// same on every machine, and `clv` starts without the system's font libraries (fontconfig,
/// freetype and the five they load: 0.4 ms of every start, and a machine without them could not
/// start it at all).
const FIGURE_FONT: &[u8] = include_bytes!("fonts/DejaVuSans-subset.ttf");

/// Makes `FIGURE_FONT` plotters' "sans-serif", once.
fn register_font() -> std::result::Result<(), String> {
    static REGISTERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let registered = *REGISTERED
        .get_or_init(|| plotters::style::register_font("sans-serif", FontStyle::Normal, FIGURE_FONT).is_ok());
    match registered {
        true => Ok(()),
        false => Err("the figures' font does not load".into()),
    }
}

/// Draws the value concentration (Pareto) curve: share of total CLV held by the top k% of
/// customers, with the line of equal shares and the top 1/10/20% marked, to `png` and `svg`;
/// `settings` (the CLV's months, discount and margin, "; "-separated) is printed below it.
pub fn value_concentration(concentration: &[(f64, f64)], settings: &str, png: &Path, svg: &Path) -> Result<()> {
    png_and_svg!(png, svg, (900, 690), |area| draw_concentration(
        area,
        concentration,
        settings
    ))
}

fn draw_concentration<DB: DrawingBackend>(
    whole: DrawingArea<DB, Shift>,
    concentration: &[(f64, f64)],
    settings: &str,
) -> std::result::Result<(), String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    whole.fill(&WHITE).map_err(e)?;
    let (root, footer) = whole.split_vertically(640);
    for (i, line) in settings.split("; ").enumerate() {
        footer
            .draw(&Text::new(
                line.to_string(),
                (20, 4 + 20 * i as i32),
                ("sans-serif", 14).into_font().color(&BLACK.mix(0.7)),
            ))
            .map_err(e)?;
    }
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
    whole.present().map_err(e)
}

/// Colours of the series: actual data first (black), then one per model (four purchase models
/// in `clv evaluate`, so none repeats the actual data's black).
const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 0, 0),
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
];

/// One labelled series of a figure: (x, y) points.
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// A shaded interval: the index in `Figure::series` of the series whose colour it takes, and its
/// (x, lo, hi) points.
pub type Band = (usize, Vec<(f64, f64, f64)>);

/// What a figure shows and how its axes read.
pub struct Figure<'a> {
    pub title: &'a str,
    pub x_desc: &'a str,
    pub y_desc: &'a str,
    /// Names of integer x positions 0, 1, …, for a categorical axis (bars).
    pub categories: Option<&'a [String]>,
    /// A vertical dashed line at this x, with its label.
    pub marker: Option<(f64, &'a str)>,
    /// Legend in the upper left corner (else upper right), wherever the data leave room.
    pub legend_left: bool,
    /// Shaded intervals, drawn under the lines.
    pub bands: Vec<Band>,
    pub series: Vec<Series>,
}

/// Draws `figure` to `png` and `svg`: grouped bars when it has categories, lines otherwise.
pub fn draw_figure(figure: &Figure, png: &Path, svg: &Path) -> Result<()> {
    png_and_svg!(png, svg, (1000, 650), |area| draw(area, figure))
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, figure: &Figure) -> std::result::Result<(), String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(e)?;
    let all = || {
        figure
            .series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|p| p.1.is_finite())
    };
    let band_max = figure
        .bands
        .iter()
        .flat_map(|(_, b)| b.iter().map(|p| p.2))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let y_max = all().map(|p| p.1).fold(band_max, f64::max) * 1.08;
    let y_max = if y_max > 0.0 { y_max } else { 1.0 };
    let (x_min, x_max) = match figure.categories {
        Some(c) => (-0.5, c.len() as f64 - 0.5),
        None => (
            all().map(|p| p.0).fold(f64::INFINITY, f64::min).min(0.0),
            all().map(|p| p.0).fold(0.0f64, f64::max),
        ),
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(figure.title, ("sans-serif", 24))
        .margin(20)
        .x_label_area_size(55)
        .y_label_area_size(75)
        .build_cartesian_2d(x_min..x_max, 0.0..y_max)
        .map_err(e)?;
    let categories = figure.categories;
    let category_label = move |x: &f64| match categories {
        Some(c) if (x - x.round()).abs() < 1e-9 && *x >= 0.0 => c.get(x.round() as usize).cloned().unwrap_or_default(),
        Some(_) => String::new(),
        // Tick positions are sums of steps: 0.30000000000000004 is written 0.3.
        None => format!("{}", (x * 1e6).round() / 1e6),
    };
    let value_label = |y: &f64| {
        if y_max > 20.0 {
            format!("{y:.0}")
        } else {
            format!("{y:.1}")
        }
    };
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(WHITE)
        .x_desc(figure.x_desc)
        .y_desc(figure.y_desc)
        .axis_desc_style(("sans-serif", 18))
        .label_style(("sans-serif", 15))
        .x_label_formatter(&category_label)
        .y_label_formatter(&value_label);
    if let Some(c) = categories {
        mesh.x_labels(c.len() * 2 + 1);
    }
    mesh.draw().map_err(e)?;

    for (j, band) in &figure.bands {
        let color = PALETTE[j % PALETTE.len()];
        let finite: Vec<(f64, f64, f64)> = band
            .iter()
            .copied()
            .filter(|p| p.1.is_finite() && p.2.is_finite())
            .collect();
        let outline: Vec<(f64, f64)> = finite
            .iter()
            .map(|&(x, _, hi)| (x, hi))
            .chain(finite.iter().rev().map(|&(x, lo, _)| (x, lo)))
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(outline, color.mix(0.2).filled())))
            .map_err(e)?;
    }
    let n_series = figure.series.len().max(1) as f64;
    for (j, series) in figure.series.iter().enumerate() {
        let color = PALETTE[j % PALETTE.len()];
        let legend_color = color;
        if categories.is_some() {
            let width = 0.8 / n_series;
            let bars = series.points.iter().map(move |&(x, y)| {
                let left = x - 0.4 + j as f64 * width;
                Rectangle::new([(left, 0.0), (left + width * 0.95, y)], color.mix(0.85).filled())
            });
            chart
                .draw_series(bars)
                .map_err(e)?
                .label(series.label.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], legend_color.filled()));
        } else {
            let style = if j == 0 {
                color.stroke_width(3)
            } else {
                color.stroke_width(2)
            };
            chart
                .draw_series(LineSeries::new(
                    series.points.iter().copied().filter(|p| p.1.is_finite()),
                    style,
                ))
                .map_err(e)?
                .label(series.label.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 25, y)], legend_color.stroke_width(3)));
            if series.points.len() <= 20 {
                chart
                    .draw_series(
                        series
                            .points
                            .iter()
                            .filter(|p| p.1.is_finite())
                            .map(move |&p| Circle::new(p, 4, color.filled())),
                    )
                    .map_err(e)?;
            }
        }
    }
    if let Some((x, label)) = figure.marker {
        let grey = BLACK.mix(0.5);
        let dashes = (0..40).map(|k| {
            let (a, b) = (k as f64 / 40.0 * y_max, (k as f64 + 0.5) / 40.0 * y_max);
            PathElement::new(vec![(x, a), (x, b)], grey.stroke_width(1))
        });
        chart.draw_series(dashes).map_err(e)?;
        chart
            .draw_series(std::iter::once(Text::new(
                label.to_string(),
                (x + (x_max - x_min) * 0.01, y_max * 0.97),
                ("sans-serif", 15).into_font().color(&grey),
            )))
            .map_err(e)?;
    }
    chart
        .configure_series_labels()
        .position(if figure.legend_left {
            SeriesLabelPosition::UpperLeft
        } else {
            SeriesLabelPosition::UpperRight
        })
        .label_font(("sans-serif", 16))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(e)?;
    root.present().map_err(e)
}
