//! Charts: single-patient course charts ([`course`]), galleries of courses
//! ([`gallery`]) and cohort plots ([`cohort`]), drawn with plotters to PNG and
//! SVG.
//!
//! This file owns what every chart shares: the bundled font (DejaVu Sans,
//! compiled into the binary and registered once, so nothing depends on
//! fontconfig or system fonts), the colour-blind-safe Okabe–Ito palette, the
//! choice of PNG or SVG by file extension, and small drawing helpers (text,
//! legends). Every figure is a function of an accumulator or a trace only:
//! plotting never re-runs a simulation it was not asked for.

pub mod cohort;
pub mod course;
pub mod criteria_report;
pub mod differences;
pub mod economics;
pub mod gallery;
pub mod power;
pub mod readme;
pub mod report;
pub mod roc;
pub mod story;
pub mod sweep;
mod text_free;

use std::error::Error as StdError;
use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

use crate::error::{Error, Result};

pub use cohort::cohort_plots;
pub use course::{course_trace, render_course, CourseSim, CourseTrace};
pub use gallery::{course_shape, gallery, pick_courses, CourseShape};
pub use readme::render_readme_images;

/// Font family every chart uses: DejaVu Sans, bundled for PNGs. SVG text
/// names this list, so a viewer uses DejaVu Sans or, failing that, Bitstream
/// Vera Sans (the same glyph metrics), Verdana (a close match) or its
/// sans-serif; layout was measured with DejaVu Sans.
pub const FONT: &str = "DejaVu Sans, Bitstream Vera Sans, Verdana, sans-serif";
/// Family name under which DejaVu Sans Bold is also registered on its own.
pub const FONT_BOLD: &str = "sans-bold";

static FONT_DATA: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static FONT_BOLD_DATA: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");
static FONTS: Once = Once::new();

/// Registers the bundled fonts with plotters (once per process; later calls
/// do nothing). Every rendering function calls it, so callers need not.
///
/// DejaVu Sans is registered as `sans-serif` (normal), DejaVu Sans Bold as
/// `sans-serif` (bold style) and again as its own family [`FONT_BOLD`].
pub fn init_fonts() {
    FONTS.call_once(|| {
        let ok = plotters::style::register_font(FONT, FontStyle::Normal, FONT_DATA).is_ok()
            && plotters::style::register_font(FONT, FontStyle::Bold, FONT_BOLD_DATA).is_ok()
            && plotters::style::register_font(FONT_BOLD, FontStyle::Normal, FONT_BOLD_DATA).is_ok();
        // The fonts are compiled in; a unit test checks that they parse.
        assert!(ok, "the bundled DejaVu fonts must be valid TrueType files");
    });
}

/// The Okabe–Ito colour-blind-safe palette (Okabe & Ito 2008), used by every chart.
pub mod palette {
    use plotters::style::RGBColor;

    /// Black.
    pub const BLACK: RGBColor = RGBColor(0x00, 0x00, 0x00);
    /// Orange.
    pub const ORANGE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
    /// Sky blue.
    pub const SKY_BLUE: RGBColor = RGBColor(0x56, 0xB4, 0xE9);
    /// Bluish green.
    pub const BLUISH_GREEN: RGBColor = RGBColor(0x00, 0x9E, 0x73);
    /// Yellow.
    pub const YELLOW: RGBColor = RGBColor(0xF0, 0xE4, 0x42);
    /// Blue.
    pub const BLUE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
    /// Vermillion.
    pub const VERMILLION: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
    /// Reddish purple.
    pub const REDDISH_PURPLE: RGBColor = RGBColor(0xCC, 0x79, 0xA7);
    /// Neutral grey (for "not observed"; not a data colour).
    pub const GREY: RGBColor = RGBColor(0x99, 0x99, 0x99);
    /// Light grey for grid lines.
    pub const GRID: RGBColor = RGBColor(0xDD, 0xDD, 0xDD);

    /// Colours of series that have no fixed meaning (arms, drugs), in order.
    pub const SERIES: [RGBColor; 7] = [
        BLUE,
        ORANGE,
        BLUISH_GREEN,
        REDDISH_PURPLE,
        SKY_BLUE,
        VERMILLION,
        BLACK,
    ];

    /// The `i`-th series colour (cycling).
    pub fn series(i: usize) -> RGBColor {
        SERIES[i % SERIES.len()]
    }

    /// Stage colours of an active lesion on imaging: lytic (new, darkest),
    /// mixed lytic/sclerotic, sclerotic (lightest). All blues, so lesions
    /// never share a colour with a drug.
    pub const LYTIC: RGBColor = BLUE;
    /// Mixed lytic/sclerotic.
    pub const MIXED: RGBColor = RGBColor(0x4F, 0x9B, 0xD0);
    /// Sclerotic.
    pub const SCLEROTIC: RGBColor = RGBColor(0xA6, 0xCE, 0xEC);

    /// Fixed colours of the catalogue drugs (Paul Tol's muted palette,
    /// colour-blind safe, no blue that could be read as a lesion): a drug
    /// keeps its colour in every chart and every arm.
    pub const DRUGS: [(&str, RGBColor); 8] = [
        ("nsaid", RGBColor(0xDD, 0xAA, 0x33)),
        ("glucocorticoid", RGBColor(0xCC, 0x66, 0x77)),
        ("methotrexate", RGBColor(0x44, 0xAA, 0x99)),
        ("sulfasalazine", RGBColor(0x99, 0x99, 0x33)),
        ("pamidronate", RGBColor(0xAA, 0x44, 0x99)),
        ("zoledronate", RGBColor(0x88, 0x22, 0x55)),
        ("tnf_inhibitor", RGBColor(0x11, 0x77, 0x33)),
        ("il1_blocker", RGBColor(0x66, 0x33, 0x00)),
    ];

    /// Colours for drugs a scenario defines itself, chosen by name.
    const OTHER_DRUGS: [RGBColor; 5] = [
        RGBColor(0x77, 0x77, 0x77),
        RGBColor(0xEE, 0x77, 0x33),
        RGBColor(0x00, 0x99, 0x88),
        RGBColor(0xEE, 0x33, 0x77),
        RGBColor(0xBB, 0xBB, 0xBB),
    ];

    /// The colour of drug `name`: fixed for catalogue drugs, otherwise a
    /// colour picked by a hash of the name (the same in every chart).
    pub fn drug(name: &str) -> RGBColor {
        if let Some((_, c)) = DRUGS.iter().find(|(n, _)| *n == name) {
            return *c;
        }
        let h = name
            .bytes()
            .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
        OTHER_DRUGS[h as usize % OTHER_DRUGS.len()]
    }

    /// Colour of the activity state active (flare).
    pub const ACTIVE: RGBColor = VERMILLION;
    /// Colour of remission.
    pub const REMISSION: RGBColor = SKY_BLUE;
    /// Colour of resolved disease.
    pub const RESOLVED: RGBColor = BLUISH_GREEN;
    /// Colour of lost to follow-up.
    pub const LOST: RGBColor = GREY;
}

/// How charts are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Style {
    /// For documents and screens: 1600x900, text about 2% of the height.
    #[default]
    Paper,
    /// For a lecture hall: 1920x1080, thicker lines and larger marks; on the
    /// cohort plots and course charts the capitals and digits of every text
    /// are at least 2.5% of the image height (course charts drop the age
    /// axis and the score panel and shorten their words to fit); on the
    /// gallery (one row of at most 3 courses) every text has a font size
    /// of at least 2.5% of the image height
    Slide,
}

/// The smallest text on any chart, as a share of the base text size.
pub(crate) const SMALLEST_TEXT: f64 = 0.85;

/// Height of a capital letter or digit of the bundled font (DejaVu Sans:
/// 0.729 em) as a share of plotters' font size (ascent plus descent,
/// 1.164 em), rounded down so that slide text errs on the large side.
pub(crate) const CAP_SHARE: f64 = 0.62;

impl Style {
    /// Default image size of a single chart, pixels.
    pub fn size(self) -> (u32, u32) {
        match self {
            Style::Paper => (1600, 900),
            Style::Slide => (1920, 1080),
        }
    }

    /// Base text size of course charts, pixels, for an image of this size
    /// (paper: 18 px at 1600x900; slide: large enough that the font size of
    /// the smallest text, at [`SMALLEST_TEXT`] of it, is 2.5% of the
    /// height; its capitals are about 1.6%).
    pub fn base_px(self, width: u32, height: u32) -> f64 {
        let s = (f64::from(width) / 1600.0).min(f64::from(height) / 900.0);
        let paper = (18.0 * s).clamp(9.0, 60.0);
        match self {
            Style::Paper => paper,
            Style::Slide => paper.max(0.025 * f64::from(height) / SMALLEST_TEXT),
        }
    }

    /// Base text size of the cohort plots (and, times [`SMALLEST_TEXT`], the
    /// smallest text of course charts on slides), pixels: as [`Style::base_px`] on
    /// paper; on slides large enough that the capitals and digits of the
    /// smallest text, at [`SMALLEST_TEXT`] of it, are 2.5% of the height
    /// (measured on the image).
    pub fn cap_px(self, width: u32, height: u32) -> f64 {
        match self {
            Style::Paper => self.base_px(width, height),
            Style::Slide => self
                .base_px(width, height)
                .max(0.025 * f64::from(height) / (SMALLEST_TEXT * CAP_SHARE)),
        }
    }

    /// Number of tick labels plotters may put on an axis `len` pixels long
    /// with text of base size `px`: its default of 11 on paper, fewer on
    /// slides so large labels keep apart.
    pub(crate) fn ticks(self, len: u32, px: f64, per_label: f64) -> usize {
        match self {
            Style::Paper => 11,
            Style::Slide => ((f64::from(len) / (px * per_label)) as usize).clamp(3, 11),
        }
    }

    /// A line width, pixels: `paper` on paper, twice as thick on slides.
    pub fn line(self, paper: u32) -> u32 {
        match self {
            Style::Paper => paper,
            Style::Slide => paper * 2,
        }
    }

    /// Name as on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Style::Paper => "paper",
            Style::Slide => "slide",
        }
    }
}

/// Image formats a chart can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Portable Network Graphics (bitmap).
    Png,
    /// Scalable Vector Graphics (printable).
    Svg,
}

impl Format {
    /// The format named by a path's extension (`.png` or `.svg`, any case).
    pub fn of(path: &Path) -> Result<Format> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("png") => Ok(Format::Png),
            Some("svg") => Ok(Format::Svg),
            _ => Err(Error::Usage(format!(
                "cannot tell the image format of {}: the file name must end in .png or .svg",
                path.display()
            ))),
        }
    }
}

/// Result of drawing code: plotters' errors are boxed and turned into
/// [`Error::Plot`] with the file name by [`render`].
pub(crate) type DrawResult<T = ()> = std::result::Result<T, Box<dyn StdError>>;

/// A plotters chart on two `f64` axes, as every chart here draws.
pub(crate) type Chart2d<'a, DB> = plotters::chart::ChartContext<
    'a,
    DB,
    plotters::coord::cartesian::Cartesian2d<
        plotters::coord::types::RangedCoordf64,
        plotters::coord::types::RangedCoordf64,
    >,
>;

/// Something that can draw itself on any plotters backend.
pub(crate) trait Figure {
    /// Draws the whole figure on `root` (already filled white).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

/// Smallest and largest image side accepted, pixels.
pub const SIZE_LIMITS: (u32, u32) = (200, 20_000);

/// Renders `fig` to `path` as PNG or SVG (by extension) of `width` x `height` pixels.
///
/// Every chart is written here, so this is the one place where image files
/// are created.
pub(crate) fn render(fig: &impl Figure, path: &Path, width: u32, height: u32) -> Result<()> {
    render_with(fig, path, width, height, true)
}

/// [`render`], optionally without any text (a PNG that differs from the
/// full chart exactly where text is drawn: how the size of chart text is
/// measured, see `tests/charts.rs`).
pub(crate) fn render_with(
    fig: &impl Figure,
    path: &Path,
    width: u32,
    height: u32,
    with_text: bool,
) -> Result<()> {
    let format = Format::of(path)?;
    let (lo, hi) = SIZE_LIMITS;
    if !(lo..=hi).contains(&width) || !(lo..=hi).contains(&height) {
        return Err(Error::Usage(format!(
            "image size {width}x{height} is not allowed: width and height must be {lo} to {hi} pixels"
        )));
    }
    init_fonts();
    let plot_err = |e: Box<dyn StdError>| Error::Plot {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    // Drawn into a temporary file beside `path` and renamed over it only when
    // complete and flushed: an interrupted run never leaves a cut image where
    // a good one was. The temporary name keeps the extension, which the
    // bitmap encoder reads.
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let ext = path.extension().unwrap_or_default().to_string_lossy();
    let tmp =
        crate::output::staging::chart_temp_file(dir, &ext).map_err(|e| Error::output(path, e))?;
    let drawn = draw_to(fig, format, tmp.path(), width, height, with_text).map_err(plot_err);
    let saved = drawn.and_then(|()| {
        let file = std::fs::File::open(tmp.path()).map_err(|e| Error::output(path, e))?;
        file.sync_all().map_err(|e| Error::output(path, e))?;
        tmp.persist(path)
            .map_err(|e| Error::output(path, e.error))?;
        Ok(())
    });
    crate::output::staging::register_temp_file(None);
    saved
}

/// Draws `fig` into the file `to` in `format` (a PNG without its text
/// when `with_text` is false).
fn draw_to(
    fig: &impl Figure,
    format: Format,
    to: &Path,
    width: u32,
    height: u32,
    with_text: bool,
) -> DrawResult {
    match format {
        Format::Png if with_text => {
            let root = BitMapBackend::new(to, (width, height)).into_drawing_area();
            draw_root(fig, &root)
        }
        Format::Png => {
            let root =
                text_free::TextFree(BitMapBackend::new(to, (width, height))).into_drawing_area();
            draw_root(fig, &root)
        }
        Format::Svg => {
            let root = SVGBackend::new(to, (width, height)).into_drawing_area();
            draw_root(fig, &root)
        }
    }
}

fn draw_root<DB: DrawingBackend>(fig: &impl Figure, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    fig.draw(root)?;
    root.present()?;
    Ok(())
}

/// A text style of the bundled font, `px` pixels high.
pub(crate) fn text(px: f64) -> TextStyle<'static> {
    (FONT, px.max(6.0)).into_font().color(&palette::BLACK)
}

/// A tick label: the value with as few decimals as show it exactly (up
/// to 8), so labels of ticks at different positions differ and each
/// matches its position: 0.45 is "0.45", 0.2 is "0.2", 5 is "5".
///
/// Ticks are multiples of a round step (1, 2, 2.5 or 5 times a power of
/// ten), so a few decimals always suffice; floating-point noise below a
/// billionth of the value is ignored.
pub(crate) fn fmt_tick(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    if v.abs() < 1e-12 {
        return "0".to_string();
    }
    let tolerance = v.abs() * 1e-9;
    let decimals: usize = (0..=8)
        .find(|&d| {
            let scale = 10f64.powi(d as i32);
            ((v * scale).round() / scale - v).abs() <= tolerance
        })
        .unwrap_or(8);
    format!("{v:.decimals$}")
}

/// A tick label of a share, in percent: `0.25` is "25%", `0.025` is "2.5%".
pub(crate) fn fmt_percent(v: f64) -> String {
    format!("{}%", fmt_tick(v * 100.0))
}

/// A bold text style of the bundled font.
pub(crate) fn bold(px: f64) -> TextStyle<'static> {
    (FONT, px.max(6.0), FontStyle::Bold)
        .into_font()
        .color(&palette::BLACK)
}

/// Anchors a text style (horizontal, vertical).
pub(crate) fn anchored(style: TextStyle<'_>, h: HPos, v: VPos) -> TextStyle<'_> {
    style.pos(Pos::new(h, v))
}

/// What a legend entry shows before its label.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Swatch {
    /// A line of a colour and width.
    Line(RGBColor, u32),
    /// A dashed line.
    Dashed(RGBColor, u32),
    /// A filled box of a colour and opacity.
    Box(RGBColor, f64),
    /// A hollow box.
    Hollow(RGBColor),
    /// A filled circle.
    Dot(RGBColor),
    /// A hollow circle.
    Ring(RGBColor),
    /// An upward triangle.
    Triangle(RGBColor),
    /// A cross.
    Cross(RGBColor),
    /// A downward triangle.
    DownTriangle(RGBColor),
    /// A diamond.
    Diamond(RGBColor),
    /// A short vertical tick (a censoring mark).
    Tick(RGBColor),
    /// A filled square.
    Square(RGBColor),
    /// A right-pointing triangle.
    RightTriangle(RGBColor),
    /// Three boxes side by side (lesion stages, darkest first).
    Stages([RGBColor; 3]),
}

/// One laid-out legend row: its entries `(index, width)` and total width.
type LegendRow = (Vec<(usize, i32)>, i32);

/// Lays a legend out as entries flowing left to right, wrapping into rows
/// that fit `width`; returns per row its entries `(index, width)` and total width.
fn layout_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(Swatch, String)],
    px: f64,
) -> DrawResult<Vec<LegendRow>>
where
    DB::ErrorType: 'static,
{
    let (w, _) = area.dim_in_pixel();
    let style = text(px);
    let (sw, gap, sep) = legend_metrics(px);
    let mut rows: Vec<LegendRow> = vec![(Vec::new(), 0)];
    for (i, (_, label)) in entries.iter().enumerate() {
        let (tw, _) = area.estimate_text_size(label, &style)?;
        let item = sw + gap + tw as i32;
        let cur = rows.len() - 1;
        let needed = if rows[cur].0.is_empty() {
            item
        } else {
            rows[cur].1 + sep + item
        };
        if needed > w as i32 - 2 * sep && !rows[cur].0.is_empty() {
            rows.push((vec![(i, item)], item));
        } else {
            rows[cur].0.push((i, item));
            rows[cur].1 = needed;
        }
    }
    Ok(rows)
}

/// Swatch width, swatch-to-label gap and entry separation for text size `px`.
fn legend_metrics(px: f64) -> (i32, i32, i32) {
    ((px * 1.3) as i32, (px * 0.4) as i32, (px * 1.1) as i32)
}

/// Height of a legend row, times the text size (the text is about 1.16).
const LEGEND_ROW: f64 = 1.35;

/// Rows a legend takes in `area` (see [`draw_legend`]).
pub(crate) fn legend_rows<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(Swatch, String)],
    px: f64,
) -> DrawResult<usize>
where
    DB::ErrorType: 'static,
{
    Ok(layout_legend(area, entries, px)?.len())
}

/// Height a legend needs in `area` (see [`draw_legend`]).
pub(crate) fn legend_height<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(Swatch, String)],
    px: f64,
) -> DrawResult<u32>
where
    DB::ErrorType: 'static,
{
    let rows = layout_legend(area, entries, px)?;
    Ok((rows.len() as f64 * px * LEGEND_ROW) as u32)
}

/// Draws a legend as entries flowing left to right, wrapping into rows,
/// centred in `area`. `px` is the text size.
pub(crate) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(Swatch, String)],
    px: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (w, _) = area.dim_in_pixel();
    let style = anchored(text(px), HPos::Left, VPos::Center);
    let (sw, gap, sep) = legend_metrics(px);
    let row_h = px * LEGEND_ROW;
    for (r, (row, width)) in layout_legend(area, entries, px)?.iter().enumerate() {
        let mut x = (w as i32 - width) / 2;
        let y = (row_h / 2.0 + r as f64 * row_h) as i32;
        for &(i, item) in row {
            let (swatch, label) = &entries[i];
            draw_swatch(area, *swatch, (x, y), sw, px)?;
            area.draw_text(label, &style, (x + sw + gap, y))?;
            x += item + sep;
        }
    }
    Ok(())
}

/// A downward triangle of "radius" `r` around (0, 0), in pixels (compose
/// with `EmptyElement::at`).
pub(crate) fn down_triangle(r: i32, style: ShapeStyle) -> Polygon<(i32, i32)> {
    Polygon::new(vec![(-r, -r * 3 / 4), (r, -r * 3 / 4), (0, r)], style)
}

/// A right-pointing triangle of "radius" `r` around (0, 0), in pixels.
pub(crate) fn right_triangle(r: i32, style: ShapeStyle) -> Polygon<(i32, i32)> {
    Polygon::new(vec![(-r * 3 / 4, -r), (-r * 3 / 4, r), (r, 0)], style)
}

/// A diamond of "radius" `r` around (0, 0), in pixels.
pub(crate) fn diamond(r: i32, style: ShapeStyle) -> Polygon<(i32, i32)> {
    Polygon::new(vec![(0, -r), (r, 0), (0, r), (-r, 0)], style)
}

/// Draws one legend swatch `sw` pixels wide, centred vertically on `y`.
fn draw_swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    swatch: Swatch,
    (x, y): (i32, i32),
    sw: i32,
    px: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let h = (px * 0.45) as i32;
    let r = (px * 0.35) as i32;
    let mid = (x + sw / 2, y);
    match swatch {
        Swatch::Line(c, wd) => {
            area.draw(&PathElement::new(
                vec![(x, y), (x + sw, y)],
                c.stroke_width(wd),
            ))?;
        }
        Swatch::Dashed(c, wd) => {
            area.draw(&DashedPathElement::new(
                vec![(x, y), (x + sw, y)],
                (px * 0.35) as i32,
                (px * 0.25) as i32,
                c.stroke_width(wd),
            ))?;
        }
        Swatch::Box(c, alpha) => {
            area.draw(&Rectangle::new(
                [(x, y - h), (x + sw, y + h)],
                c.mix(alpha).filled(),
            ))?;
        }
        Swatch::Hollow(c) => {
            area.draw(&Rectangle::new(
                [(x, y - h), (x + sw, y + h)],
                c.stroke_width(2),
            ))?;
        }
        Swatch::Dot(c) => {
            area.draw(&Circle::new(mid, r, c.filled()))?;
        }
        Swatch::Ring(c) => {
            area.draw(&Circle::new(mid, r, c.stroke_width(2)))?;
        }
        Swatch::Triangle(c) => {
            area.draw(&TriangleMarker::new(mid, r + 2, c.filled()))?;
        }
        Swatch::Cross(c) => {
            area.draw(&Cross::new(mid, r, c.stroke_width(3)))?;
        }
        Swatch::DownTriangle(c) => {
            area.draw(&(EmptyElement::at(mid) + down_triangle(r + 2, c.filled())))?;
        }
        Swatch::Diamond(c) => {
            area.draw(&(EmptyElement::at(mid) + diamond(r + 3, c.filled())))?;
        }
        Swatch::Tick(c) => {
            area.draw(&PathElement::new(
                vec![(mid.0, y - h), (mid.0, y + h)],
                c.stroke_width(3),
            ))?;
        }
        Swatch::Square(c) => {
            area.draw(&Rectangle::new(
                [(mid.0 - r, y - r), (mid.0 + r, y + r)],
                c.filled(),
            ))?;
        }
        Swatch::RightTriangle(c) => {
            area.draw(&(EmptyElement::at(mid) + right_triangle(r + 2, c.filled())))?;
        }
        Swatch::Stages(cs) => {
            let third = sw / 3;
            for (i, c) in cs.iter().enumerate() {
                let x0 = x + i as i32 * third;
                area.draw(&Rectangle::new(
                    [(x0, y - h), (x0 + third, y + h)],
                    c.filled(),
                ))?;
            }
        }
    }
    Ok(())
}

/// Draws a title (bold, `px`) and a subtitle (grey, 0.7 `px`) centred at
/// the top of `area`, each wrapped onto more lines where it is wider than
/// the area (text is never shrunk, so slide text keeps its size); returns
/// the height used.
pub(crate) fn draw_title<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
    px: f64,
) -> DrawResult<u32>
where
    DB::ErrorType: 'static,
{
    let (w, _) = area.dim_in_pixel();
    let mut used = (px * 0.5) as i32;
    let title_style = bold(px);
    for line in wrap(area, title, &title_style)? {
        area.draw_text(
            &line,
            &anchored(title_style.clone(), HPos::Center, VPos::Top),
            (w as i32 / 2, used),
        )?;
        used += (px * 1.3) as i32;
    }
    if !subtitle.is_empty() {
        let sub = px * 0.7;
        let style = text(sub).color(&RGBColor(0x44, 0x44, 0x44));
        for line in wrap(area, subtitle, &style)? {
            area.draw_text(
                &line,
                &anchored(style.clone(), HPos::Center, VPos::Top),
                (w as i32 / 2, used),
            )?;
            used += (sub * 1.4) as i32;
        }
    }
    Ok(used as u32 + (px * 0.2) as u32)
}

/// Splits `s` into lines that fit 96% of the area's width in `style`,
/// breaking after ", ", " · " or ": " where possible, else at spaces.
pub(crate) fn wrap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &str,
    style: &TextStyle<'_>,
) -> DrawResult<Vec<String>>
where
    DB::ErrorType: 'static,
{
    let (w, _) = area.dim_in_pixel();
    let room = (f64::from(w) * 0.96) as u32;
    let fits = |t: &str| -> DrawResult<bool> { Ok(area.estimate_text_size(t, style)?.0 <= room) };
    let mut lines = Vec::new();
    let mut rest = s.trim().to_string();
    while !rest.is_empty() && !fits(&rest)? {
        // The longest head ending at a preferred break, else at a space.
        let mut cut = None;
        for seps in [&[", ", " · ", ": "][..], &[" "][..]] {
            for (i, _) in rest.char_indices().rev() {
                let Some(sep) = seps.iter().find(|sp| rest[i..].starts_with(**sp)) else {
                    continue;
                };
                let head = rest[..i + sep.len()].trim_end();
                if fits(head)? {
                    cut = Some(i + sep.len());
                    break;
                }
            }
            if cut.is_some() {
                break;
            }
        }
        let Some(c) = cut else { break };
        lines.push(
            rest[..c]
                .trim_end()
                .trim_end_matches('·')
                .trim_end()
                .to_string(),
        );
        rest = rest[c..].trim_start().to_string();
    }
    if !rest.is_empty() {
        lines.push(rest);
    }
    Ok(lines)
}

#[cfg(test)]
mod tests;
