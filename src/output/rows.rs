//! `patients.csv` and `events.csv`: per-patient and per-event rows, typed
//! (one type per column, one value per cell), serialised with the `csv`
//! crate and streamed in patient order as chunks finish.
//!
//! Every column and event is documented in `docs/outputs.md`; a test checks
//! that the document names each of them.

use std::io::Write;
use std::path::Path;

use serde::{Serialize, Serializer};

use crate::engine::cohort::{PatientRows, RowSink};
use crate::engine::patient::{EventKind, Outcome};
use crate::error::{Error, Result};
use crate::model::Condition;
use crate::scenario::Compression;

use super::rowfile::RowFile;
use super::tables::csv_error;

/// A number as written to CSV: up to 6 decimals, no trailing zeros; an
/// empty cell when not finite.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Num(pub f64);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if self.0.is_finite() {
            s.serialize_str(&fmt_num(self.0))
        } else {
            s.serialize_none()
        }
    }
}

/// Formats a number for CSV: up to 6 decimals, no trailing zeros; empty for NaN.
pub fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return String::new();
    }
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// Bytes of one `events.csv` patient (all its events) and of one
/// `patients.csv` row, measured on the reference scenario (10 years, one
/// treated arm): about 65 events of about 90 bytes, and 300 bytes.
pub const EVENT_BYTES_PER_PATIENT: u64 = 6_000;
/// See [`EVENT_BYTES_PER_PATIENT`].
pub const PATIENT_ROW_BYTES: u64 = 300;
/// Per-patient files larger than this get a warning before the run.
pub const LARGE_FILE_BYTES: u64 = 100_000_000;
/// How many times smaller gzip makes `events.csv` and `patients.csv`:
/// 8.2 and 3.3 measured on 3,000 reference patients (13.2 MB to 1.6 MB,
/// 0.56 MB to 0.17 MB); rounded down so the estimate errs large.
pub const GZIP_RATIO_EVENTS: f64 = 8.0;
/// See [`GZIP_RATIO_EVENTS`].
pub const GZIP_RATIO_PATIENTS: f64 = 3.0;

/// Warnings about per-patient files that will be large: for `patients.csv`
/// and `events.csv` (when asked for), the estimated size of the file as
/// written (compressed under `compression = "gzip"`) if it is over
/// [`LARGE_FILE_BYTES`], with the other form's size. `rows` is patients ×
/// replicates × arms; event volume grows with the horizon
/// (`horizon_years` relative to 10 years).
pub fn size_warnings(
    rows: u64,
    horizon_years: f64,
    (patients, events): (bool, bool),
    compression: Compression,
) -> Vec<String> {
    let scale = (horizon_years / 10.0).max(0.1);
    let mb = |bytes: f64| format!("{:.0} MB", bytes / 1e6);
    let mut v = Vec::new();
    let mut check = |on: bool, name: &str, plain: f64, ratio: f64| {
        let gz = plain / ratio;
        let warning = match compression {
            Compression::None if on && plain > LARGE_FILE_BYTES as f64 => format!(
                "{name} will be about {} ({rows} patient rows); set compression = \"gzip\" in [output] to write it as {name}.gz (about {}), switch it off in [output], or run fewer --patients if that is too much",
                mb(plain),
                mb(gz)
            ),
            Compression::Gzip if on && gz > LARGE_FILE_BYTES as f64 => format!(
                "{name}.gz will be about {} compressed ({} uncompressed, {rows} patient rows); switch it off in [output] or run fewer --patients if that is too much",
                mb(gz),
                mb(plain)
            ),
            _ => return,
        };
        v.push(warning);
    };
    check(
        patients,
        "patients.csv",
        rows as f64 * PATIENT_ROW_BYTES as f64,
        GZIP_RATIO_PATIENTS,
    );
    check(
        events,
        "events.csv",
        rows as f64 * EVENT_BYTES_PER_PATIENT as f64 * scale,
        GZIP_RATIO_EVENTS,
    );
    v
}

/// Every value of the `event` column of `events.csv`, in the order of `docs/outputs.md`.
pub const EVENT_NAMES: [&str; 18] = [
    "onset",
    "flare_start",
    "flare_end",
    "lesion_new",
    "lesion_reactivated",
    "lesion_stage",
    "lesion_seen",
    "vertebral_fracture",
    "imaging",
    "diagnosis",
    "condition_onset",
    "burnout",
    "lost_to_follow_up",
    "drug_start",
    "drug_effect",
    "drug_course",
    "drug_stop",
    "end",
];

/// One row of `events.csv`. Columns that do not apply to an event are empty.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EventRecord<'a> {
    /// Arm.
    pub arm: &'a str,
    /// Replicate.
    pub replicate: u32,
    /// Patient index.
    pub patient: u64,
    /// Days since onset.
    pub time_days: Num,
    /// Event name (see [`EVENT_NAMES`]).
    pub event: &'static str,
    /// Lesion number within the patient.
    pub lesion: Option<u32>,
    /// Bone.
    pub site: Option<&'static str>,
    /// `left`, `right` or `unpaired` (spine, sternum, mandible).
    pub side: Option<&'static str>,
    /// A new lesion is symptomatic (painful) rather than silent.
    pub symptomatic: Option<bool>,
    /// Imaging stage the lesion enters.
    pub stage: Option<&'static str>,
    /// Drug name.
    pub drug: Option<&'a str>,
    /// Ladder step (1-based).
    pub step: Option<u16>,
    /// Pain of a flare, VAS 0-10.
    pub pain_vas: Option<Num>,
    /// The flare comes with fever.
    pub fever: Option<bool>,
    /// CRP during the flare, mg/l.
    pub crp_mg_l: Option<Num>,
    /// Jansson score at diagnosis.
    pub jansson_score: Option<u32>,
    /// Bristol criterion 1 met at diagnosis.
    pub bristol_criterion1: Option<bool>,
    /// Lesions seen at diagnosis.
    pub lesions_seen: Option<u32>,
    /// Associated condition that starts.
    pub condition: Option<&'static str>,
    /// The patient responds to the drug.
    pub responder: Option<bool>,
    /// Why a drug stopped.
    pub reason: Option<&'static str>,
    /// Length of a drug course, days.
    pub days: Option<Num>,
}

/// The `events.csv` row of one event (arm, replicate and patient left to the caller).
pub fn event_record<'a>(day: f64, kind: &EventKind, drugs: &'a [String]) -> EventRecord<'a> {
    let name = |d: u16| drugs.get(usize::from(d)).map(String::as_str);
    let mut r = EventRecord {
        time_days: Num(day),
        ..EventRecord::default()
    };
    r.event = match *kind {
        EventKind::Onset => "onset",
        EventKind::FlareStart {
            pain,
            fever,
            crp_mg_l,
        } => {
            r.pain_vas = Some(Num(pain));
            r.fever = Some(fever);
            r.crp_mg_l = Some(Num(crp_mg_l));
            "flare_start"
        }
        EventKind::FlareEnd => "flare_end",
        EventKind::LesionNew {
            lesion,
            site,
            side,
            symptomatic,
        } => {
            r.lesion = Some(lesion);
            r.site = Some(site.as_str());
            r.side = Some(["unpaired", "left", "right"][usize::from(side.min(2))]);
            r.symptomatic = Some(symptomatic);
            r.stage = Some("lytic");
            "lesion_new"
        }
        EventKind::LesionReactivated { lesion } => {
            r.lesion = Some(lesion);
            r.stage = Some("lytic");
            "lesion_reactivated"
        }
        EventKind::LesionStage { lesion, stage } => {
            r.lesion = Some(lesion);
            r.stage = Some(stage.as_str());
            "lesion_stage"
        }
        EventKind::LesionSeen { lesion } => {
            r.lesion = Some(lesion);
            "lesion_seen"
        }
        EventKind::Fracture { lesion } => {
            r.lesion = Some(lesion);
            "vertebral_fracture"
        }
        EventKind::Diagnosis {
            jansson,
            bristol_1,
            lesions_seen,
        } => {
            r.jansson_score = Some(jansson);
            r.bristol_criterion1 = Some(bristol_1);
            r.lesions_seen = Some(lesions_seen);
            "diagnosis"
        }
        EventKind::Imaging => "imaging",
        EventKind::ConditionOnset { condition } => {
            r.condition = Some(condition.as_str());
            "condition_onset"
        }
        EventKind::Resolution => "burnout",
        EventKind::LostToFollowUp => "lost_to_follow_up",
        EventKind::DrugStart { drug, step } => {
            r.drug = name(drug);
            r.step = Some(step + 1);
            "drug_start"
        }
        EventKind::DrugEffect { drug, responder } => {
            r.drug = name(drug);
            r.responder = Some(responder);
            "drug_effect"
        }
        EventKind::DrugCourse { drug, days } => {
            r.drug = name(drug);
            r.days = Some(Num(days));
            "drug_course"
        }
        EventKind::DrugStop { drug, reason } => {
            r.drug = name(drug);
            r.reason = Some(reason.as_str());
            "drug_stop"
        }
        EventKind::End => "end",
    };
    r
}

/// The fixed columns of one row of `patients.csv`; the per-condition and
/// per-drug columns follow (see [`patients_header`]).
#[derive(Debug, Clone, Serialize)]
struct PatientRecord<'a> {
    arm: &'a str,
    replicate: u32,
    patient: u64,
    sex: &'static str,
    genotype: &'static str,
    onset_age_years: Num,
    frailty: Num,
    initial_lesions: u32,
    flares: u32,
    flare_days: Num,
    observed_days: Num,
    new_lesions: u32,
    fractures: u32,
    diagnosed: bool,
    diagnosis_day: Option<Num>,
    lesions_seen_at_diagnosis: Option<u32>,
    silent_seen_at_diagnosis: Option<u32>,
    jansson_score: Option<u32>,
    bristol_criterion1: Option<bool>,
    first_remission_day: Option<Num>,
    first_relapse_day: Option<Num>,
    burnout_day: Option<Num>,
    resolved_day: Option<Num>,
    lost_day: Option<Num>,
    course_class: Option<&'static str>,
    first_remission_after_diagnosis_day: Option<Num>,
    first_relapse_after_diagnosis_day: Option<Num>,
    flares_after_diagnosis: Option<u32>,
    steps_reached: u16,
    last_drug: Option<&'a str>,
}

/// The header of `patients.csv` for a scenario's drugs.
pub fn patients_header(drugs: &[String]) -> Vec<String> {
    let mut h: Vec<String> = [
        "arm",
        "replicate",
        "patient",
        "sex",
        "genotype",
        "onset_age_years",
        "frailty",
        "initial_lesions",
        "flares",
        "flare_days",
        "observed_days",
        "new_lesions",
        "fractures",
        "diagnosed",
        "diagnosis_day",
        "lesions_seen_at_diagnosis",
        "silent_seen_at_diagnosis",
        "jansson_score",
        "bristol_criterion1",
        "first_remission_day",
        "first_relapse_day",
        "burnout_day",
        "resolved_day",
        "lost_day",
        "course_class",
        "first_remission_after_diagnosis_day",
        "first_relapse_after_diagnosis_day",
        "flares_after_diagnosis",
        "steps_reached",
        "last_drug",
    ]
    .map(String::from)
    .to_vec();
    h.extend(
        Condition::ALL
            .iter()
            .map(|c| format!("{}_onset_day", c.as_str())),
    );
    for d in drugs {
        h.push(format!("days_on_{d}"));
        h.push(format!("responder_{d}"));
    }
    h
}

/// The day the patient counts as resolved: the disease has burnt out and
/// the flare running then (if any) has ended; None if not within observation.
pub fn resolved_day(outcome: &Outcome, events: &[(f64, EventKind)]) -> Option<f64> {
    let burnout = outcome.resolved_day?;
    if outcome.active_at_end {
        return None;
    }
    let flare_end_after = events
        .iter()
        .find(|(d, k)| *d >= burnout && matches!(k, EventKind::FlareEnd))
        .map(|e| e.0);
    let in_flare_at_burnout = events
        .iter()
        .rev()
        .filter(|(d, _)| *d <= burnout)
        .find_map(|(_, k)| match k {
            EventKind::FlareStart { .. } => Some(true),
            EventKind::FlareEnd => Some(false),
            _ => None,
        })
        .unwrap_or(false);
    Some(if in_flare_at_burnout {
        flare_end_after.unwrap_or(burnout)
    } else {
        burnout
    })
}

/// Per condition, the day it was first present (0 at onset), if ever.
fn condition_days(outcome: &Outcome, events: &[(f64, EventKind)]) -> Vec<Option<Num>> {
    Condition::ALL
        .iter()
        .map(|&c| {
            if outcome.conditions_at_onset & c.bit() != 0 {
                return Some(Num(0.0));
            }
            events.iter().find_map(|(d, k)| match k {
                EventKind::ConditionOnset { condition } if *condition == c => Some(Num(*d)),
                _ => None,
            })
        })
        .collect()
}

/// Per drug: days exposed (empty if never given) and responder status
/// (empty if the drug never reached its effect onset).
fn drug_cells(outcome: &Outcome, events: &[(f64, EventKind)], n: usize) -> Vec<Cell> {
    let mut cells = Vec::with_capacity(2 * n);
    for d in 0..n {
        let given = events.iter().any(
            |(_, k)| matches!(k, EventKind::DrugStart { drug, .. } if usize::from(*drug) == d),
        );
        let responder = events.iter().find_map(|(_, k)| match k {
            EventKind::DrugEffect { drug, responder } if usize::from(*drug) == d => {
                Some(*responder)
            }
            _ => None,
        });
        cells.push(Cell::Num(given.then(|| {
            Num(outcome.treatment.drug_days.get(d).copied().unwrap_or(0.0))
        })));
        cells.push(Cell::Bool(responder));
    }
    cells
}

/// A cell of the scenario-dependent columns of `patients.csv`.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(untagged)]
enum Cell {
    Num(Option<Num>),
    Bool(Option<bool>),
}

/// Where the per-patient files go: a [`RowFile`] (plain or gzip),
/// reporting the path on errors.
struct Sink {
    writer: csv::Writer<Box<dyn FinishWrite>>,
    name: String,
}

/// A writer that must be finished (a gzip trailer) and says if that failed.
trait FinishWrite: Write + Send {
    fn finish_file(self: Box<Self>) -> std::io::Result<()>;
}

impl FinishWrite for RowFile {
    fn finish_file(self: Box<Self>) -> std::io::Result<()> {
        self.finish()
    }
}

impl Sink {
    fn open(dir: &Path, name: &str, header: &[String], compression: Compression) -> Result<Sink> {
        let path = dir.join(compression.file_name(name));
        let file = RowFile::create(&path, compression)?;
        Sink::new(Box::new(file), &path.display().to_string(), header)
    }

    fn new(out: Box<dyn FinishWrite>, name: &str, header: &[String]) -> Result<Sink> {
        let mut writer = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(out);
        let name = name.to_string();
        writer
            .write_record(header)
            .map_err(|e| csv_error(&name, e))?;
        Ok(Sink { writer, name })
    }

    fn write<T: Serialize>(&mut self, row: T) -> Result<()> {
        self.writer
            .serialize(row)
            .map_err(|e| csv_error(&self.name, e))
    }

    /// Writes everything down to the file and ends it, reporting any failure.
    fn finish(self) -> Result<()> {
        let name = self.name;
        let inner = self
            .writer
            .into_inner()
            .map_err(|e| Error::output(&name, std::io::Error::other(e.to_string())))?;
        inner.finish_file().map_err(|e| Error::output(&name, e))
    }
}

/// Writes the per-patient files that are switched on.
pub struct CsvRows {
    arms: Vec<String>,
    drugs: Vec<String>,
    patients: Option<Sink>,
    events: Option<Sink>,
}

impl std::fmt::Debug for CsvRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvRows").finish_non_exhaustive()
    }
}

/// The header of `events.csv`.
pub fn events_header() -> Vec<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Serialising a default row writes the header from the field names.
    let _ = w.serialize(EventRecord::default());
    let text = w.into_inner().unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let first = text.lines().next().unwrap_or_default();
    first.split(',').map(String::from).collect()
}

impl CsvRows {
    /// Opens the files in `dir` that `patients`/`events` ask for, named
    /// and written as `compression` says.
    pub fn new(
        dir: &Path,
        arms: Vec<String>,
        drugs: Vec<String>,
        (patients, events): (bool, bool),
        compression: Compression,
    ) -> Result<Self> {
        let patients = if patients {
            Some(Sink::open(
                dir,
                "patients.csv",
                &patients_header(&drugs),
                compression,
            )?)
        } else {
            None
        };
        let events = if events {
            Some(Sink::open(
                dir,
                "events.csv",
                &events_header(),
                compression,
            )?)
        } else {
            None
        };
        Ok(Self {
            arms,
            drugs,
            patients,
            events,
        })
    }

    fn patient_row(&self, replicate: u32, r: &PatientRows) -> (PatientRecord<'_>, Vec<Cell>) {
        let o = &r.outcome;
        let ev = &r.events.0;
        let dx = o.diagnosis.as_ref();
        let num = |x: Option<f64>| x.map(Num);
        let fixed = PatientRecord {
            arm: &self.arms[r.arm],
            replicate,
            patient: o.patient,
            sex: if o.female { "female" } else { "male" },
            genotype: o.genotype.map_or("", |g| g.as_str()),
            onset_age_years: Num(o.onset_age_years),
            frailty: Num(o.frailty),
            initial_lesions: o.initial_lesions,
            flares: o.flares,
            flare_days: Num(o.flare_days),
            observed_days: Num(o.observed_days),
            new_lesions: o.new_lesions,
            fractures: o.fractures,
            diagnosed: dx.is_some(),
            diagnosis_day: num(dx.map(|d| d.day)),
            lesions_seen_at_diagnosis: dx.map(|d| d.findings.lesions_seen),
            silent_seen_at_diagnosis: dx.map(|d| d.silent_seen),
            jansson_score: dx.map(|d| d.jansson),
            bristol_criterion1: dx.map(|d| d.bristol_1),
            first_remission_day: num(o.first_remission_day),
            first_relapse_day: num(o.first_relapse_day),
            // Natural history: the end of the active phase, the same in every
            // arm (within observation; None after loss to follow-up or the horizon).
            burnout_day: num((o.burnout_day <= o.observed_days).then_some(o.burnout_day)),
            resolved_day: num(resolved_day(o, ev)),
            lost_day: num(o.lost_day),
            course_class: o.course_class().map(|c| c.as_str()),
            first_remission_after_diagnosis_day: num(o.first_remission_after_dx_day),
            first_relapse_after_diagnosis_day: num(o.first_relapse_after_dx_day),
            flares_after_diagnosis: dx.map(|_| o.flares_after_dx),
            steps_reached: o.treatment.steps_reached,
            last_drug: o
                .treatment
                .last_drug
                .and_then(|d| self.drugs.get(usize::from(d)))
                .map(String::as_str),
        };
        let mut cells: Vec<Cell> = condition_days(o, ev).into_iter().map(Cell::Num).collect();
        cells.extend(drug_cells(o, ev, self.drugs.len()));
        (fixed, cells)
    }
}

impl RowSink for CsvRows {
    fn wants_rows(&self) -> bool {
        self.patients.is_some() || self.events.is_some()
    }

    fn write_chunk(&mut self, replicate: u32, rows: &[PatientRows]) -> Result<()> {
        if let Some(mut sink) = self.patients.take() {
            for r in rows {
                sink.write(self.patient_row(replicate, r))?;
            }
            self.patients = Some(sink);
        }
        if let Some(sink) = self.events.as_mut() {
            for r in rows {
                for (day, kind) in &r.events.0 {
                    let mut rec = event_record(*day, kind, &self.drugs);
                    rec.arm = &self.arms[r.arm];
                    rec.replicate = replicate;
                    rec.patient = r.outcome.patient;
                    sink.write(rec)?;
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        for sink in [self.patients.take(), self.events.take()]
            .into_iter()
            .flatten()
        {
            sink.finish()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
