//! Course charts of one virtual patient: the [`CourseTrace`] (what is drawn,
//! derived only from the patient's event log) and its rendering.
//!
//! The chart stacks three panels on a shared x axis of years since onset
//! (age on the top axis): (a) activity — pain (VAS) as a line, flares shaded,
//! fever marked; (b) lesions — one row per bone and side, a bar over each
//! lesion's active period (filled: symptomatic, hollow: silent), fractures
//! marked; (c) treatment — a Gantt strip with one row per drug, escalations,
//! tapering, adverse events and drug-effect onsets marked. Diagnosis is a
//! dashed vertical line across all panels. The title gives sex, onset age,
//! genotype and associated conditions.

use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use crate::engine::model_values::{DAYS_PER_MONTH, DAYS_PER_YEAR};
use crate::engine::patient::{simulate_patient, EventKind, EventLog, Outcome, Scratch, StopReason};
use crate::engine::treatment::TreatmentState;
use crate::error::{Error, Result};
use crate::model::{condition_names, Condition, Genotype, Site, Stage};
use crate::study::Study;

use super::palette as pal;
use super::{
    anchored, bold, draw_legend, draw_title, fmt_tick, legend_height, text, DrawResult, Figure,
    Swatch,
};

/// One flare: `[start_day, end_day)` with its features.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlareSpan {
    /// Start, days since onset.
    pub start_day: f64,
    /// End, days since onset (the end of observation if still active then).
    pub end_day: f64,
    /// Pain, VAS 0-10.
    pub pain: f64,
    /// Fever during the flare.
    pub fever: bool,
    /// CRP, mg/l.
    pub crp_mg_l: f64,
    /// Still active at the end of observation (no `FlareEnd` event).
    pub open: bool,
}

/// One lesion and the periods in which it is active on imaging.
#[derive(Debug, Clone, PartialEq)]
pub struct LesionTrace {
    /// Lesion number within the patient.
    pub lesion: u32,
    /// Site.
    pub site: Site,
    /// 0 unpaired, 1 left, 2 right.
    pub side: u8,
    /// Symptomatic (painful) rather than silent.
    pub symptomatic: bool,
    /// Active periods `(start_day, end_day)`: from appearance (or
    /// reactivation after healing) until healed, or the end of observation.
    pub active: Vec<(f64, f64)>,
    /// First seen on imaging or clinically, days since onset.
    pub seen_day: Option<f64>,
}

/// A vertebral fracture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FractureMark {
    /// Day since onset.
    pub day: f64,
    /// The lesion it happened in.
    pub lesion: u32,
}

/// One stretch on one drug, `[start_day, end_day)`.
#[derive(Debug, Clone, PartialEq)]
pub struct DrugSpan {
    /// Drug index in the scenario's drug list.
    pub drug: u16,
    /// Drug name.
    pub name: String,
    /// Ladder step (0-based).
    pub step: u16,
    /// Start, days since onset.
    pub start_day: f64,
    /// End, days since onset (the end of observation if never stopped).
    pub end_day: f64,
    /// Why it stopped (None: still on it at the end of observation).
    pub stop: Option<StopReason>,
}

/// When a drug starts to act, and whether the patient responds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrugEffectMark {
    /// Day since onset.
    pub day: f64,
    /// Drug index.
    pub drug: u16,
    /// Responder.
    pub responder: bool,
}

/// One course (infusion cycle) of a drug given in courses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrugCourseMark {
    /// Day since onset.
    pub day: f64,
    /// Drug index.
    pub drug: u16,
    /// Days the course lasts.
    pub days: f64,
}

/// Everything a course chart draws, derived from one patient's events.
#[derive(Debug, Clone, PartialEq)]
pub struct CourseTrace {
    /// Scenario name.
    pub scenario: String,
    /// Arm name.
    pub arm: String,
    /// Whether the arm treats at all (has a strategy).
    pub treated_arm: bool,
    /// Patient index (replicate 0).
    pub patient: u64,
    /// Girl.
    pub female: bool,
    /// Age at onset, years.
    pub onset_age_years: f64,
    /// Genotype.
    pub genotype: Genotype,
    /// Associated conditions present at onset (bit set).
    pub conditions_at_onset: u8,
    /// Associated conditions ever present (bit set).
    pub conditions_ever: u8,
    /// Simulated horizon, days.
    pub horizon_days: f64,
    /// End of observation (loss to follow-up or the horizon), days.
    pub end_day: f64,
    /// Flares, in time order.
    pub flares: Vec<FlareSpan>,
    /// Lesions, by lesion number.
    pub lesions: Vec<LesionTrace>,
    /// Vertebral fractures.
    pub fractures: Vec<FractureMark>,
    /// Drug stretches, in order of start.
    pub drug_spans: Vec<DrugSpan>,
    /// Drug effect onsets.
    pub drug_effects: Vec<DrugEffectMark>,
    /// Courses of drugs given in courses (the span shows the effect window).
    pub drug_courses: Vec<DrugCourseMark>,
    /// Diagnosis day, if diagnosed.
    pub diagnosis_day: Option<f64>,
    /// Day the patient is resolved (burnt out and out of flare), if within observation.
    pub resolution_day: Option<f64>,
    /// Day lost to follow-up, if lost.
    pub lost_day: Option<f64>,
    /// Associated conditions that started after onset.
    pub condition_onsets: Vec<(f64, Condition)>,
}

impl CourseTrace {
    /// Builds the trace from a patient's outcome and events (as produced by
    /// [`simulate_patient`] with an [`EventLog`]); `drugs` names the drug
    /// indices of the events.
    pub fn from_events(
        outcome: &Outcome,
        events: &[(f64, EventKind)],
        drugs: &[String],
        scenario: &str,
        arm: &str,
        horizon_days: f64,
    ) -> CourseTrace {
        let last_day = events.last().map_or(0.0, |e| e.0);
        let end_day = if outcome.observed_days > 0.0 {
            outcome.observed_days
        } else {
            last_day
        };
        let mut t = CourseTrace {
            scenario: scenario.to_string(),
            arm: arm.to_string(),
            treated_arm: false,
            patient: outcome.patient,
            female: outcome.female,
            onset_age_years: outcome.onset_age_years,
            genotype: outcome.genotype.unwrap_or(Genotype::Sporadic),
            conditions_at_onset: outcome.conditions_at_onset,
            conditions_ever: outcome.conditions_ever,
            horizon_days,
            end_day,
            flares: Vec::new(),
            lesions: Vec::new(),
            fractures: Vec::new(),
            drug_spans: Vec::new(),
            drug_effects: Vec::new(),
            drug_courses: Vec::new(),
            diagnosis_day: None,
            resolution_day: None,
            lost_day: None,
            condition_onsets: Vec::new(),
        };
        // Per lesion: whether it is healed (so a reactivation opens a new period).
        let mut healed: Vec<bool> = Vec::new();
        let mut burnout_in_flare = false;
        let name = |d: u16| {
            drugs
                .get(usize::from(d))
                .cloned()
                .unwrap_or_else(|| format!("drug {d}"))
        };
        for &(day, kind) in events {
            match kind {
                EventKind::FlareStart {
                    pain,
                    fever,
                    crp_mg_l,
                } => t.flares.push(FlareSpan {
                    start_day: day,
                    end_day: end_day.max(day),
                    pain,
                    fever,
                    crp_mg_l,
                    open: true,
                }),
                EventKind::FlareEnd => {
                    if let Some(f) = t.flares.last_mut().filter(|f| f.open) {
                        f.end_day = day;
                        f.open = false;
                    }
                    if burnout_in_flare {
                        t.resolution_day = Some(day);
                        burnout_in_flare = false;
                    }
                }
                EventKind::LesionNew {
                    lesion,
                    site,
                    side,
                    symptomatic,
                } => {
                    let i = lesion as usize;
                    if t.lesions.len() <= i {
                        t.lesions.resize_with(i + 1, || LesionTrace {
                            lesion: 0,
                            site: Site::Other,
                            side: 0,
                            symptomatic: false,
                            active: Vec::new(),
                            seen_day: None,
                        });
                        healed.resize(i + 1, true);
                    }
                    t.lesions[i] = LesionTrace {
                        lesion,
                        site,
                        side,
                        symptomatic,
                        active: vec![(day, f64::NAN)],
                        seen_day: None,
                    };
                    healed[i] = false;
                }
                EventKind::LesionReactivated { lesion } => {
                    let i = lesion as usize;
                    if i < t.lesions.len() && healed[i] {
                        t.lesions[i].active.push((day, f64::NAN));
                        healed[i] = false;
                    }
                }
                EventKind::LesionStage { lesion, stage } => {
                    let i = lesion as usize;
                    if stage == Stage::Healed && i < t.lesions.len() && !healed[i] {
                        if let Some(p) = t.lesions[i].active.last_mut() {
                            p.1 = day;
                        }
                        healed[i] = true;
                    }
                }
                EventKind::LesionSeen { lesion } => {
                    if let Some(l) = t.lesions.get_mut(lesion as usize) {
                        l.seen_day.get_or_insert(day);
                    }
                }
                EventKind::Fracture { lesion } => t.fractures.push(FractureMark { day, lesion }),
                EventKind::Diagnosis { .. } => {
                    t.diagnosis_day.get_or_insert(day);
                }
                EventKind::ConditionOnset { condition } => {
                    t.condition_onsets.push((day, condition));
                }
                // Resolved means burnt out and out of flare: a flare
                // running at burnout delays it to that flare's end.
                EventKind::Resolution => {
                    if t.flares.last().is_some_and(|f| f.open) {
                        burnout_in_flare = true;
                    } else {
                        t.resolution_day = Some(day);
                    }
                }
                EventKind::LostToFollowUp => t.lost_day = Some(day),
                EventKind::DrugStart { drug, step } => t.drug_spans.push(DrugSpan {
                    drug,
                    name: name(drug),
                    step,
                    start_day: day,
                    end_day: f64::NAN,
                    stop: None,
                }),
                EventKind::DrugEffect { drug, responder } => {
                    t.drug_effects.push(DrugEffectMark {
                        day,
                        drug,
                        responder,
                    });
                }
                EventKind::DrugCourse { drug, days } => {
                    t.drug_courses.push(DrugCourseMark { day, drug, days });
                }
                EventKind::DrugStop { drug, reason } => {
                    if let Some(s) = t
                        .drug_spans
                        .iter_mut()
                        .rev()
                        .find(|s| s.drug == drug && s.end_day.is_nan())
                    {
                        s.end_day = day;
                        s.stop = Some(reason);
                    }
                }
                EventKind::Onset | EventKind::Imaging | EventKind::End => {}
            }
        }
        for l in &mut t.lesions {
            for p in &mut l.active {
                if p.1.is_nan() {
                    p.1 = end_day.max(p.0);
                }
            }
        }
        for s in &mut t.drug_spans {
            if s.end_day.is_nan() {
                s.end_day = end_day.max(s.start_day);
            }
        }
        t
    }

    /// Sex as a word for titles.
    pub fn sex(&self) -> &'static str {
        if self.female {
            "girl"
        } else {
            "boy"
        }
    }

    /// Lesions that were never symptomatic.
    pub fn silent_lesions(&self) -> usize {
        self.lesions.iter().filter(|l| !l.symptomatic).count()
    }

    /// The associated conditions as text: those at onset, then later ones with their year.
    pub fn conditions_text(&self) -> String {
        let mut parts = Vec::new();
        if self.conditions_at_onset != 0 {
            parts.push(format!(
                "{} at onset",
                condition_names(self.conditions_at_onset).replace('+', ", ")
            ));
        }
        for (day, c) in &self.condition_onsets {
            parts.push(format!(
                "{} from year {:.1}",
                c.as_str(),
                day / DAYS_PER_YEAR
            ));
        }
        if parts.is_empty() {
            "no associated conditions".to_string()
        } else {
            format!("with {}", parts.join(", "))
        }
    }

    /// The standard title line: patient, sex, onset age, genotype, conditions.
    pub fn title(&self) -> String {
        format!(
            "Patient {}: {}, onset at age {:.1}, {}, {}",
            self.patient,
            self.sex(),
            self.onset_age_years,
            genotype_label(self.genotype),
            self.conditions_text()
        )
    }

    /// A one-line summary of the course (flares, lesions, diagnosis, end).
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} flare{}, {} lesion{} ({} silent)",
            self.flares.len(),
            if self.flares.len() == 1 { "" } else { "s" },
            self.lesions.len(),
            if self.lesions.len() == 1 { "" } else { "s" },
            self.silent_lesions()
        );
        match self.diagnosis_day {
            Some(d) => s += &format!(", diagnosed after {:.0} months", d / DAYS_PER_MONTH),
            None => s += ", never diagnosed",
        }
        if let Some(d) = self.resolution_day {
            s += &format!(", resolved in year {:.1}", d / DAYS_PER_YEAR);
        }
        if let Some(d) = self.lost_day {
            s += &format!(", lost to follow-up in year {:.1}", d / DAYS_PER_YEAR);
        }
        s
    }
}

fn genotype_label(g: Genotype) -> &'static str {
    match g {
        Genotype::Sporadic => "sporadic CRMO",
        Genotype::Majeed => "Majeed syndrome (LPIN2)",
    }
}

/// Simulates patient `patient` of replicate 0 under arm `arm` (the first arm
/// when None) and returns its course trace.
///
/// Single-threaded: one patient takes microseconds. The patient is the same
/// virtual patient as in `crmo-sim run` (same streams), so the trace matches
/// that patient's rows in `events.csv`.
pub fn course_trace(study: &Study, arm: Option<&str>, patient: u64) -> Result<CourseTrace> {
    let s = study.scenario();
    if patient >= s.patients {
        return Err(Error::Usage(format!(
            "patient {patient} does not exist: scenario {} has patients 0 to {}",
            study.name(),
            s.patients - 1
        )));
    }
    let chosen = study.arm(arm)?;
    let drugs = study.drug_names();
    let model = study.replicate_model(0);
    let mut state = chosen
        .plan
        .as_ref()
        .map(|plan| TreatmentState::new(plan, &model, patient));
    let mut log = EventLog::default();
    let outcome = simulate_patient(
        &model,
        patient,
        state.as_mut(),
        &mut Scratch::default(),
        &mut log,
    );
    if let Some(limit) = outcome.limit {
        return Err(Error::PatientLimit(format!(
            "{}: patient {patient} (arm `{}`) has {}",
            study.loaded().origin,
            chosen.name,
            limit.describe()
        )));
    }
    let mut t = CourseTrace::from_events(
        &outcome,
        &log.0,
        &drugs,
        &study.name(),
        &chosen.name,
        model.horizon_days,
    );
    t.treated_arm = chosen.plan.is_some();
    Ok(t)
}

/// Renders a course chart to `path` (PNG or SVG by extension; anything else
/// is a usage error), `width` x `height` pixels. 1600x900 suits a slide.
///
/// Single-threaded.
pub fn render_course(trace: &CourseTrace, path: &Path, width: u32, height: u32) -> Result<()> {
    struct Chart<'a>(&'a CourseTrace, u32, u32);
    impl Figure for Chart<'_> {
        fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
        where
            DB::ErrorType: 'static,
        {
            let px = base_px(self.1, self.2);
            let opts = CourseOptions {
                px,
                title: Some((
                    self.0.title(),
                    format!(
                        "{} · scenario {}, arm {}",
                        self.0.summary(),
                        self.0.scenario,
                        self.0.arm
                    ),
                )),
                legend: true,
            };
            draw_course(root, self.0, &opts)
        }
    }
    super::render(&Chart(trace, width, height), path, width, height)
}

/// Base text size for an image of this size (18 px at 1600x900).
pub(crate) fn base_px(width: u32, height: u32) -> f64 {
    let s = (f64::from(width) / 1600.0).min(f64::from(height) / 900.0);
    (18.0 * s).clamp(9.0, 60.0)
}

/// How a course chart is drawn.
pub(crate) struct CourseOptions {
    /// Base text size, pixels.
    pub px: f64,
    /// Title and subtitle (None: no title).
    pub title: Option<(String, String)>,
    /// Draw the legend below the chart.
    pub legend: bool,
}

/// A row of the lesion panel: one bone and side, with its lesions in lanes.
struct LesionRow {
    label: String,
    /// (index into trace.lesions, lane)
    lesions: Vec<(usize, usize)>,
    lanes: usize,
}

fn site_label(site: Site) -> &'static str {
    match site {
        Site::UpperLimb => "upper limb",
        Site::SternumRibs => "sternum/ribs",
        s => s.as_str(),
    }
}

/// Groups lesions into rows by (site, side), in site order, and gives
/// lesions whose periods overlap separate lanes within a row.
fn lesion_rows(t: &CourseTrace) -> Vec<LesionRow> {
    let mut keys: Vec<(Site, u8)> = t.lesions.iter().map(|l| (l.site, l.side)).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|(site, side)| {
            let mut members: Vec<usize> = (0..t.lesions.len())
                .filter(|&i| t.lesions[i].site == site && t.lesions[i].side == side)
                .collect();
            let span = |i: usize| {
                let a = &t.lesions[i].active;
                (
                    a.first().map_or(0.0, |p| p.0),
                    a.last().map_or(0.0, |p| p.1),
                )
            };
            members.sort_by(|&a, &b| span(a).0.total_cmp(&span(b).0));
            let mut lane_end: Vec<f64> = Vec::new();
            let mut lesions = Vec::new();
            for i in members {
                let (s, e) = span(i);
                let lane = match lane_end.iter().position(|&end| end <= s) {
                    Some(l) => l,
                    None => {
                        lane_end.push(f64::NEG_INFINITY);
                        lane_end.len() - 1
                    }
                };
                lane_end[lane] = e;
                lesions.push((i, lane));
            }
            let side_txt = match side {
                1 => " (L)",
                2 => " (R)",
                _ => "",
            };
            LesionRow {
                label: format!("{}{}", site_label(site), side_txt),
                lesions,
                lanes: lane_end.len().max(1),
            }
        })
        .collect()
}

/// Drugs the patient received, in order of first start.
fn drug_rows(t: &CourseTrace) -> Vec<(u16, String)> {
    let mut rows: Vec<(u16, String)> = Vec::new();
    for s in &t.drug_spans {
        if !rows.iter().any(|r| r.0 == s.drug) {
            rows.push((s.drug, s.name.clone()));
        }
    }
    rows
}

/// The legend entries of a course chart (treatment markers only when the
/// patient was treated; loss to follow-up only when lost).
pub(crate) fn course_legend(t: &CourseTrace) -> Vec<(Swatch, String)> {
    let mut v = vec![
        (Swatch::Line(pal::BLACK, 2), "pain (VAS 0-10)".to_string()),
        (Swatch::Box(pal::ACTIVE, 0.25), "flare".to_string()),
        (Swatch::Triangle(pal::ORANGE), "fever".to_string()),
        (
            Swatch::Box(pal::BLUE, 0.85),
            "symptomatic lesion (active)".to_string(),
        ),
        (
            Swatch::Hollow(pal::BLUE),
            "silent lesion (active)".to_string(),
        ),
        (
            Swatch::Cross(pal::VERMILLION),
            "vertebral fracture".to_string(),
        ),
        (Swatch::Dashed(pal::BLACK, 2), "diagnosis".to_string()),
        (
            Swatch::Dashed(pal::BLUISH_GREEN, 2),
            "disease resolved".to_string(),
        ),
    ];
    if t.lost_day.is_some() {
        v.push((Swatch::Box(pal::LOST, 0.3), "lost to follow-up".to_string()));
    }
    if !t.drug_spans.is_empty() {
        v.push((Swatch::Dot(pal::BLACK), "drug acts (responder)".to_string()));
        v.push((
            Swatch::Ring(pal::BLACK),
            "drug acts (non-responder)".to_string(),
        ));
        v.push((Swatch::Triangle(pal::BLACK), "escalation".to_string()));
        v.push((Swatch::DownTriangle(pal::BLACK), "taper".to_string()));
        v.push((
            Swatch::Diamond(pal::VERMILLION),
            "adverse event".to_string(),
        ));
    }
    v
}

type Chart2d<'a, 'b, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Draws a whole course chart (title, panels, legend) into `area`.
pub(crate) fn draw_course<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    t: &CourseTrace,
    opt: &CourseOptions,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let px = opt.px;
    let mut body = area.clone();
    if let Some((title, sub)) = &opt.title {
        let h = draw_title(area, title, sub, px * 1.35)?;
        body = area.split_vertically(h).1;
    }
    if opt.legend {
        let entries = course_legend(t);
        let lh = legend_height(&body, &entries, px)? + (px * 0.6) as u32;
        let (_, bh) = body.dim_in_pixel();
        let (upper, lower) = body.split_vertically(bh.saturating_sub(lh));
        draw_legend(&lower, &entries, px)?;
        body = upper;
    }
    draw_panels(&body, t, px)
}

/// Geometry shared by the three panels so their x axes line up.
struct Frame {
    px: f64,
    left: u32,
    right: u32,
    years: f64,
}

impl Frame {
    fn builder<'a, 'b, DB: DrawingBackend>(
        &self,
        panel: &'a DrawingArea<DB, Shift>,
        top: u32,
        bottom: u32,
    ) -> ChartBuilder<'a, 'b, DB> {
        let mut b = ChartBuilder::on(panel);
        b.margin_right(self.right)
            .margin_top((self.px * 0.3) as u32)
            .set_label_area_size(LabelAreaPosition::Left, self.left)
            .set_label_area_size(LabelAreaPosition::Top, top)
            .set_label_area_size(LabelAreaPosition::Bottom, bottom);
        b
    }
}

fn year_ticks(years: f64) -> usize {
    if years <= 12.0 {
        years.ceil() as usize + 1
    } else {
        12
    }
}

fn draw_panels<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    t: &CourseTrace,
    px: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (_, h) = body.dim_in_pixel();
    let h = f64::from(h);
    let frame = Frame {
        px,
        left: (px * 9.0) as u32,
        right: (px * 1.5) as u32,
        years: t.horizon_days / DAYS_PER_YEAR,
    };
    let axis_h = px * 3.0;
    let rows = lesion_rows(t);
    let drugs = drug_rows(t);
    let treat_rows = drugs.len().max(1) as f64;
    // Plotting heights at least as tall as the rotated panel names.
    let name_h = |s: &str| -> DrawResult<f64> {
        Ok(f64::from(body.estimate_text_size(s, &bold(px))?.0) + px)
    };
    let treat_h = (treat_rows * px * 1.8).max(name_h("drugs")?) + axis_h + px * 0.6;
    let rest = (h - treat_h).max(px * 10.0);
    let lesion_h = (rows.len().max(1) as f64 * px * 1.9 + px)
        .max(name_h("lesions")? + px * 0.5)
        .min(rest * 0.62);
    let activity_h = rest - lesion_h;
    let (activity, lower) = body.split_vertically(activity_h as u32);
    let (lesions, treatment) = lower.split_vertically(lesion_h as u32);
    draw_activity(&activity, t, &frame, axis_h as u32)?;
    draw_lesions(&lesions, t, &frame, &rows)?;
    draw_treatment(&treatment, t, &frame, &drugs, axis_h as u32)?;
    Ok(())
}

/// Vertical grid at the year ticks, no y grid; no labels.
fn plain_mesh<DB: DrawingBackend>(chart: &mut Chart2d<'_, '_, DB>, f: &Frame) -> DrawResult
where
    DB::ErrorType: 'static,
{
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_labels(year_ticks(f.years))
        .max_light_lines(0)
        .bold_line_style(pal::GRID.stroke_width(1))
        .axis_style(pal::GREY.stroke_width(1))
        .y_labels(0)
        .x_label_formatter(&|_| String::new())
        .draw()?;
    Ok(())
}

/// Marks common to all panels: lost to follow-up shading, diagnosis and resolution lines.
fn draw_markers<DB: DrawingBackend>(
    chart: &mut Chart2d<'_, '_, DB>,
    t: &CourseTrace,
    f: &Frame,
    ymax: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if let Some(l) = t.lost_day {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(l / DAYS_PER_YEAR, 0.0), (f.years, ymax)],
            pal::LOST.mix(0.3).filled(),
        )))?;
    }
    let dash = (f.px * 0.5) as i32;
    for (day, colour) in [
        (t.diagnosis_day, pal::BLACK),
        (t.resolution_day, pal::BLUISH_GREEN),
    ] {
        if let Some(d) = day {
            let x = d / DAYS_PER_YEAR;
            chart.draw_series(DashedLineSeries::new(
                vec![(x, 0.0), (x, ymax)],
                dash,
                dash * 2 / 3,
                colour.stroke_width(2),
            ))?;
        }
    }
    Ok(())
}

fn draw_activity<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    t: &CourseTrace,
    f: &Frame,
    top: u32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let px = f.px;
    let ymax = 12.0;
    let chart = f
        .builder(panel, top, 0)
        .build_cartesian_2d(0.0..f.years, 0.0..ymax)?;
    let age0 = t.onset_age_years;
    let mut chart = chart.set_secondary_coord(age0..age0 + f.years, 0.0..ymax);
    let tick_style = text(px * 0.9);
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_labels(year_ticks(f.years))
        .max_light_lines(0)
        .bold_line_style(pal::GRID.stroke_width(1))
        .axis_style(pal::GREY.stroke_width(1))
        .y_labels(6)
        .y_label_formatter(&|v| {
            if *v <= 10.0 {
                fmt_tick(*v)
            } else {
                String::new()
            }
        })
        .label_style(tick_style.clone())
        .draw()?;
    chart
        .configure_secondary_axes()
        .x_labels(year_ticks(f.years))
        .x_label_formatter(&|v| fmt_tick(*v))
        .y_labels(0)
        .label_style(tick_style)
        .axis_desc_style(text(px))
        .x_desc("age (years)")
        .draw()?;
    // Flares shaded, then the pain line and fever markers.
    chart.draw_series(t.flares.iter().map(|fl| {
        Rectangle::new(
            [
                (fl.start_day / DAYS_PER_YEAR, 0.0),
                (fl.end_day / DAYS_PER_YEAR, 10.0),
            ],
            pal::ACTIVE.mix(0.25).filled(),
        )
    }))?;
    draw_markers(&mut chart, t, f, ymax)?;
    let mut line = vec![(0.0, 0.0)];
    for fl in &t.flares {
        let (a, b) = (fl.start_day / DAYS_PER_YEAR, fl.end_day / DAYS_PER_YEAR);
        line.extend([(a, 0.0), (a, fl.pain), (b, fl.pain), (b, 0.0)]);
    }
    line.push((t.end_day / DAYS_PER_YEAR, 0.0));
    chart.draw_series(LineSeries::new(line, pal::BLACK.stroke_width(2)))?;
    let tri = (px * 0.45) as i32;
    chart.draw_series(t.flares.iter().filter(|fl| fl.fever).map(|fl| {
        TriangleMarker::new(
            (fl.start_day / DAYS_PER_YEAR, fl.pain + 0.8),
            tri,
            pal::ORANGE.filled(),
        )
    }))?;
    // Labels of the vertical lines, at the top of the panel.
    let label = text(px * 0.85);
    let mut labels: Vec<(f64, String, RGBColor)> = Vec::new();
    if let Some(d) = t.diagnosis_day {
        labels.push((d, "diagnosis".into(), pal::BLACK));
    }
    if let Some(d) = t.resolution_day {
        labels.push((d, "resolved".into(), pal::BLUISH_GREEN));
    }
    if let Some(d) = t.lost_day {
        labels.push((d, "lost to follow-up".into(), RGBColor(0x55, 0x55, 0x55)));
    }
    for (d, c) in &t.condition_onsets {
        labels.push((*d, format!("{} starts", c.as_str()), pal::REDDISH_PURPLE));
    }
    labels.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut last_right = i32::MIN;
    let mut row = 0;
    for (d, s, c) in labels {
        let (x, _) = chart.backend_coord(&(d / DAYS_PER_YEAR, ymax));
        let (_, y) = chart.backend_coord(&(0.0, 11.5));
        let (tw, _) = panel.estimate_text_size(&s, &label)?;
        // Labels go right of their line, or left of it near the right edge.
        let right_edge = chart.plotting_area().get_x_axis_pixel_range().end;
        let flip = x + 4 + tw as i32 > right_edge;
        let (left, h, anchor_x) = if flip {
            (x - 4 - tw as i32, HPos::Right, x - 4)
        } else {
            (x + 4, HPos::Left, x + 4)
        };
        row = if left <= last_right { row + 1 } else { 0 };
        let y = y + (row as f64 * px) as i32;
        let base = panel.get_base_pixel();
        panel.draw_text(
            &s,
            &anchored(label.color(&c), h, VPos::Center),
            (anchor_x - base.0, y - base.1),
        )?;
        last_right = last_right.max(left + tw as i32);
    }
    panel_name(panel, &chart, "pain (VAS)", px)?;
    Ok(())
}

/// Writes row labels right-aligned left of the plotting area.
fn row_labels<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    chart: &Chart2d<'_, '_, DB>,
    labels: &[(f64, String)],
    px: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let base = panel.get_base_pixel();
    let style = anchored(text(px * 0.85), HPos::Right, VPos::Center);
    for (y, s) in labels {
        let (x, yy) = chart.backend_coord(&(0.0, *y));
        panel.draw_text(s, &style, (x - base.0 - (px * 0.5) as i32, yy - base.1))?;
    }
    Ok(())
}

/// Writes a panel name, rotated, at the left edge of the panel, centred on
/// the plotting area; also frames the plotting area.
fn panel_name<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    chart: &Chart2d<'_, '_, DB>,
    name: &str,
    px: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (ys, xs) = (
        chart.plotting_area().get_y_axis_pixel_range(),
        chart.plotting_area().get_x_axis_pixel_range(),
    );
    let base = panel.get_base_pixel();
    panel.draw(&Rectangle::new(
        [
            (xs.start - base.0, ys.start - base.1),
            (xs.end - base.0, ys.end - base.1),
        ],
        pal::GREY.stroke_width(1),
    ))?;
    let style =
        bold(px)
            .transform(FontTransform::Rotate270)
            .pos(plotters::style::text_anchor::Pos::new(
                HPos::Center,
                VPos::Top,
            ));
    let mid = (ys.start + ys.end) / 2 - base.1;
    panel.draw_text(name, &style, ((px * 0.3) as i32, mid))?;
    Ok(())
}

fn draw_lesions<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    t: &CourseTrace,
    f: &Frame,
    rows: &[LesionRow],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let px = f.px;
    let n = rows.len().max(1) as f64;
    let mut chart = f
        .builder(panel, 0, 0)
        .build_cartesian_2d(0.0..f.years, 0.0..n)?;
    plain_mesh(&mut chart, f)?;
    // Row bands for readability.
    chart.draw_series((0..rows.len()).filter(|r| r % 2 == 1).map(|r| {
        let y = n - r as f64;
        Rectangle::new(
            [(0.0, y - 1.0), (f.years, y)],
            RGBColor(0xF2, 0xF2, 0xF2).filled(),
        )
    }))?;
    draw_markers(&mut chart, t, f, n)?;
    let mut labels = Vec::new();
    let mut row_of = vec![0usize; t.lesions.len()];
    let mut lane_geom = vec![(0.0, 0.0); t.lesions.len()];
    for (r, row) in rows.iter().enumerate() {
        let top = n - r as f64 - 0.12;
        let lane_h = 0.76 / row.lanes as f64;
        labels.push((n - r as f64 - 0.5, row.label.clone()));
        for &(i, lane) in &row.lesions {
            row_of[i] = r;
            let y1 = top - lane as f64 * lane_h;
            lane_geom[i] = (y1 - lane_h * 0.88, y1);
        }
    }
    for (i, l) in t.lesions.iter().enumerate() {
        let (y0, y1) = lane_geom[i];
        for &(a, b) in &l.active {
            let (a, b) = (a / DAYS_PER_YEAR, b / DAYS_PER_YEAR);
            // At least a sliver wide, so short periods stay visible.
            let b = b.max(a + f.years / 400.0);
            if l.symptomatic {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(a, y0), (b, y1)],
                    pal::BLUE.mix(0.85).filled(),
                )))?;
            } else {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(a, y0), (b, y1)],
                    pal::BLUE.stroke_width(2),
                )))?;
            }
        }
    }
    let cross = (px * 0.45) as i32;
    chart.draw_series(t.fractures.iter().filter_map(|fr| {
        let i = fr.lesion as usize;
        let (y0, y1) = *lane_geom.get(i)?;
        Some(Cross::new(
            (fr.day / DAYS_PER_YEAR, (y0 + y1) / 2.0),
            cross,
            pal::VERMILLION.stroke_width(3),
        ))
    }))?;
    row_labels(panel, &chart, &labels, px)?;
    panel_name(panel, &chart, "lesions", px)?;
    Ok(())
}

fn draw_treatment<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    t: &CourseTrace,
    f: &Frame,
    drugs: &[(u16, String)],
    bottom: u32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let px = f.px;
    let n = drugs.len().max(1) as f64;
    let mut chart = f
        .builder(panel, 0, bottom)
        .build_cartesian_2d(0.0..f.years, 0.0..n)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_labels(year_ticks(f.years))
        .max_light_lines(0)
        .bold_line_style(pal::GRID.stroke_width(1))
        .axis_style(pal::GREY.stroke_width(1))
        .y_labels(0)
        .x_label_formatter(&|v| fmt_tick(*v))
        .label_style(text(px * 0.9))
        .axis_desc_style(text(px))
        .x_desc("years since onset")
        .draw()?;
    draw_markers(&mut chart, t, f, n)?;
    if drugs.is_empty() {
        let msg = if !t.treated_arm {
            "no treatment in this arm (natural history)"
        } else if t.diagnosis_day.is_none() {
            "no treatment: never diagnosed"
        } else {
            "no drug given"
        };
        let (x, y) = chart.backend_coord(&(f.years / 2.0, 0.5));
        let base = panel.get_base_pixel();
        panel.draw_text(
            msg,
            &anchored(
                text(px * 0.9).color(&RGBColor(0x55, 0x55, 0x55)),
                HPos::Center,
                VPos::Center,
            ),
            (x - base.0, y - base.1),
        )?;
    }
    let row = |d: u16| drugs.iter().position(|r| r.0 == d).unwrap_or(0);
    let centre = |d: u16| n - row(d) as f64 - 0.5;
    for s in &t.drug_spans {
        let y = centre(s.drug);
        let (a, b) = (s.start_day / DAYS_PER_YEAR, s.end_day / DAYS_PER_YEAR);
        let b = b.max(a + f.years / 400.0);
        // Drugs given in courses show their effect window pale and each course solid.
        let given_in_courses = t.drug_courses.iter().any(|c| c.drug == s.drug);
        let alpha = if given_in_courses { 0.3 } else { 0.85 };
        chart.draw_series(std::iter::once(Rectangle::new(
            [(a, y - 0.3), (b, y + 0.3)],
            pal::series(usize::from(s.drug)).mix(alpha).filled(),
        )))?;
    }
    for c in &t.drug_courses {
        let y = centre(c.drug);
        let a = c.day / DAYS_PER_YEAR;
        let b = (c.day + c.days) / DAYS_PER_YEAR;
        let b = b.max(a + f.years / 250.0);
        chart.draw_series(std::iter::once(Rectangle::new(
            [(a, y - 0.38), (b, y + 0.38)],
            pal::series(usize::from(c.drug)).filled(),
        )))?;
    }
    let r = (px * 0.35) as i32;
    for e in &t.drug_effects {
        let pos = (e.day / DAYS_PER_YEAR, centre(e.drug));
        if e.responder {
            chart.draw_series(std::iter::once(Circle::new(pos, r, pal::BLACK.filled())))?;
        } else {
            chart.draw_series(std::iter::once(
                EmptyElement::at(pos)
                    + Circle::new((0, 0), r, WHITE.filled())
                    + Circle::new((0, 0), r, pal::BLACK.stroke_width(2)),
            ))?;
        }
    }
    for s in &t.drug_spans {
        let pos = (s.end_day / DAYS_PER_YEAR, centre(s.drug) + 0.3);
        match s.stop {
            Some(StopReason::Escalation) => {
                chart.draw_series(std::iter::once(TriangleMarker::new(
                    pos,
                    r + 2,
                    pal::BLACK.filled(),
                )))?;
            }
            Some(StopReason::Taper) => {
                chart.draw_series(std::iter::once(
                    EmptyElement::at(pos) + super::down_triangle(r + 2, pal::BLACK.filled()),
                ))?;
            }
            Some(StopReason::AdverseEvent) => {
                chart.draw_series(std::iter::once(
                    EmptyElement::at(pos) + super::diamond(r + 3, pal::VERMILLION.filled()),
                ))?;
            }
            // A course ending or the ladder running out needs no mark: the bar ends.
            _ => {}
        }
    }
    let labels: Vec<(f64, String)> = drugs
        .iter()
        .map(|(d, name)| (centre(*d), name.clone()))
        .collect();
    row_labels(panel, &chart, &labels, px)?;
    panel_name(panel, &chart, "drugs", px)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome() -> Outcome {
        Outcome {
            patient: 3,
            genotype: Some(Genotype::Sporadic),
            female: true,
            onset_age_years: 9.5,
            observed_days: 1000.0,
            ..Outcome::default()
        }
    }

    #[test]
    fn trace_pairs_starts_and_stops() {
        use EventKind::*;
        let ev = vec![
            (0.0, Onset),
            (
                0.0,
                LesionNew {
                    lesion: 0,
                    site: Site::Tibia,
                    side: 1,
                    symptomatic: true,
                },
            ),
            (
                0.0,
                FlareStart {
                    pain: 6.0,
                    fever: true,
                    crp_mg_l: 20.0,
                },
            ),
            (50.0, FlareEnd),
            (100.0, DrugStart { drug: 1, step: 0 }),
            (
                114.0,
                DrugEffect {
                    drug: 1,
                    responder: false,
                },
            ),
            (
                200.0,
                DrugStop {
                    drug: 1,
                    reason: StopReason::Escalation,
                },
            ),
            (200.0, DrugStart { drug: 0, step: 1 }),
            (
                300.0,
                LesionStage {
                    lesion: 0,
                    stage: Stage::Mixed,
                },
            ),
            (
                400.0,
                LesionStage {
                    lesion: 0,
                    stage: Stage::Healed,
                },
            ),
            (500.0, LesionReactivated { lesion: 0 }),
            (
                600.0,
                FlareStart {
                    pain: 4.0,
                    fever: false,
                    crp_mg_l: 3.0,
                },
            ),
            (1000.0, End),
        ];
        let drugs = vec!["nsaid".to_string(), "methotrexate".to_string()];
        let t = CourseTrace::from_events(&outcome(), &ev, &drugs, "s", "a", 1000.0);
        assert_eq!(t.flares.len(), 2);
        assert_eq!((t.flares[0].start_day, t.flares[0].end_day), (0.0, 50.0));
        assert!(t.flares[1].open);
        assert_eq!(t.flares[1].end_day, 1000.0);
        assert_eq!(t.lesions[0].active, vec![(0.0, 400.0), (500.0, 1000.0)]);
        assert_eq!(t.drug_spans.len(), 2);
        assert_eq!(t.drug_spans[0].name, "methotrexate");
        assert_eq!(t.drug_spans[0].stop, Some(StopReason::Escalation));
        assert_eq!(
            (t.drug_spans[1].start_day, t.drug_spans[1].end_day),
            (200.0, 1000.0)
        );
        assert_eq!(t.drug_spans[1].stop, None);
        assert_eq!(drug_rows(&t).len(), 2);
    }

    #[test]
    fn overlapping_lesions_at_one_site_get_lanes() {
        let mk = |lesion, a: f64, b: f64| LesionTrace {
            lesion,
            site: Site::Femur,
            side: 2,
            symptomatic: true,
            active: vec![(a, b)],
            seen_day: None,
        };
        let mut t = CourseTrace::from_events(&outcome(), &[], &[], "s", "a", 1000.0);
        t.lesions = vec![mk(0, 0.0, 100.0), mk(1, 50.0, 150.0), mk(2, 120.0, 200.0)];
        let rows = lesion_rows(&t);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].lanes, 2);
        assert_eq!(rows[0].label, "femur (R)");
    }
}
