//! `patients.csv` and `events.csv`: per-patient and per-event rows, streamed
//! in patient order as chunks finish.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use crate::engine::cohort::{PatientRows, RowSink};
use crate::engine::patient::EventKind;
use crate::error::{Error, Result};
use crate::model::condition_names;

/// Header of `patients.csv`.
pub const PATIENT_HEADER: &str = "arm,replicate,patient,sex,genotype,onset_age_years,frailty,initial_lesions,flares,flare_days,observed_days,new_lesions,fractures,diagnosed,diagnosis_day,lesions_seen_at_diagnosis,silent_seen_at_diagnosis,jansson_score,bristol_criterion1,first_remission_day,first_relapse_day,resolved_day,lost_day,conditions_at_onset,conditions_ever";

/// Header of `events.csv`.
pub const EVENT_HEADER: &str = "arm,replicate,patient,time_days,event,lesion,site,side,symptomatic,stage,drug,step,value,detail";

/// Writes the per-patient files that are switched on.
pub struct CsvRows {
    arms: Vec<String>,
    drugs: Vec<String>,
    patients: Option<(csv::Writer<BufWriter<File>>, String)>,
    events: Option<(csv::Writer<BufWriter<File>>, String)>,
}

impl std::fmt::Debug for CsvRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvRows").finish_non_exhaustive()
    }
}

fn open(dir: &Path, name: &str, header: &str) -> Result<(csv::Writer<BufWriter<File>>, String)> {
    let path = dir.join(name);
    let file = File::create(&path).map_err(|e| Error::output(&path, e))?;
    let mut w = csv::Writer::from_writer(BufWriter::new(file));
    w.write_record(header.split(','))
        .map_err(|e| Error::output(&path, e.into()))?;
    Ok((w, path.display().to_string()))
}

fn opt(x: Option<f64>) -> String {
    x.map_or(String::new(), fmt_num)
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

impl CsvRows {
    /// Opens the files in `dir` that `patients`/`events` ask for.
    pub fn new(
        dir: &Path,
        arms: Vec<String>,
        drugs: Vec<String>,
        patients: bool,
        events: bool,
    ) -> Result<Self> {
        Ok(Self {
            arms,
            drugs,
            patients: if patients {
                Some(open(dir, "patients.csv", PATIENT_HEADER)?)
            } else {
                None
            },
            events: if events {
                Some(open(dir, "events.csv", EVENT_HEADER)?)
            } else {
                None
            },
        })
    }

    /// Flushes both files.
    pub fn finish(mut self) -> Result<()> {
        for (w, path) in [self.patients.take(), self.events.take()]
            .into_iter()
            .flatten()
        {
            let mut w = w;
            w.flush().map_err(|e| Error::output(&path, e))?;
        }
        Ok(())
    }
}

/// The columns of one event after `time_days`: event, lesion, site, side,
/// symptomatic, stage, drug, step, value, detail.
pub fn event_fields(kind: &EventKind, drugs: &[String]) -> [String; 10] {
    let mut f: [String; 10] = Default::default();
    let name = |d: u16| {
        drugs
            .get(usize::from(d))
            .cloned()
            .unwrap_or_else(|| d.to_string())
    };
    let side = |s: u8| ["", "left", "right"][usize::from(s.min(2))].to_string();
    match *kind {
        EventKind::Onset => f[0] = "onset".into(),
        EventKind::FlareStart {
            pain,
            fever,
            crp_mg_l,
        } => {
            f[0] = "flare_start".into();
            f[8] = fmt_num(pain);
            f[9] = format!("fever={fever};crp_mg_l={}", fmt_num(crp_mg_l));
        }
        EventKind::FlareEnd => f[0] = "flare_end".into(),
        EventKind::LesionNew {
            lesion,
            site,
            side: s,
            symptomatic,
        } => {
            f[0] = "lesion_new".into();
            f[1] = lesion.to_string();
            f[2] = site.as_str().into();
            f[3] = side(s);
            f[4] = symptomatic.to_string();
            f[5] = "lytic".into();
        }
        EventKind::LesionReactivated { lesion } => {
            f[0] = "lesion_reactivated".into();
            f[1] = lesion.to_string();
            f[5] = "lytic".into();
        }
        EventKind::LesionStage { lesion, stage } => {
            f[0] = "lesion_stage".into();
            f[1] = lesion.to_string();
            f[5] = stage.as_str().into();
        }
        EventKind::LesionSeen { lesion } => {
            f[0] = "lesion_seen".into();
            f[1] = lesion.to_string();
        }
        EventKind::Fracture { lesion } => {
            f[0] = "vertebral_fracture".into();
            f[1] = lesion.to_string();
        }
        EventKind::Diagnosis {
            jansson,
            bristol_1,
            lesions_seen,
        } => {
            f[0] = "diagnosis".into();
            f[8] = jansson.to_string();
            f[9] = format!("bristol_criterion1={bristol_1};lesions_seen={lesions_seen}");
        }
        EventKind::Imaging => f[0] = "imaging".into(),
        EventKind::ConditionOnset { condition } => {
            f[0] = "condition_onset".into();
            f[9] = condition.as_str().into();
        }
        EventKind::Resolution => f[0] = "resolution".into(),
        EventKind::LostToFollowUp => f[0] = "lost_to_follow_up".into(),
        EventKind::DrugStart { drug, step } => {
            f[0] = "drug_start".into();
            f[6] = name(drug);
            f[7] = (step + 1).to_string();
        }
        EventKind::DrugEffect { drug, responder } => {
            f[0] = "drug_effect".into();
            f[6] = name(drug);
            f[9] = if responder {
                "responder"
            } else {
                "non_responder"
            }
            .into();
        }
        EventKind::DrugCourse { drug, days } => {
            f[0] = "drug_course".into();
            f[6] = name(drug);
            f[8] = fmt_num(days);
        }
        EventKind::DrugStop { drug, reason } => {
            f[0] = "drug_stop".into();
            f[6] = name(drug);
            f[9] = reason.as_str().into();
        }
        EventKind::End => f[0] = "end".into(),
    }
    f
}

impl RowSink for CsvRows {
    fn wants_rows(&self) -> bool {
        self.patients.is_some() || self.events.is_some()
    }

    fn write_chunk(&mut self, replicate: u32, rows: &[PatientRows]) -> Result<()> {
        let rep = replicate.to_string();
        if let Some((w, path)) = self.patients.as_mut() {
            for r in rows {
                let o = &r.outcome;
                let dx = o.diagnosis.as_ref();
                let rec = [
                    self.arms[r.arm].clone(),
                    rep.clone(),
                    o.patient.to_string(),
                    if o.female { "female" } else { "male" }.to_string(),
                    o.genotype.map_or("", |g| g.as_str()).to_string(),
                    fmt_num(o.onset_age_years),
                    fmt_num(o.frailty),
                    o.initial_lesions.to_string(),
                    o.flares.to_string(),
                    fmt_num(o.flare_days),
                    fmt_num(o.observed_days),
                    o.new_lesions.to_string(),
                    o.fractures.to_string(),
                    dx.is_some().to_string(),
                    opt(dx.map(|d| d.day)),
                    dx.map_or(String::new(), |d| d.findings.lesions_seen.to_string()),
                    dx.map_or(String::new(), |d| d.silent_seen.to_string()),
                    dx.map_or(String::new(), |d| d.jansson.to_string()),
                    dx.map_or(String::new(), |d| d.bristol_1.to_string()),
                    opt(o.first_remission_day),
                    opt(o.first_relapse_day),
                    opt(o.resolved_day),
                    opt(o.lost_day),
                    condition_names(o.conditions_at_onset),
                    condition_names(o.conditions_ever),
                ];
                w.write_record(&rec)
                    .map_err(|e| Error::output(path.as_str(), e.into()))?;
            }
        }
        if let Some((w, path)) = self.events.as_mut() {
            for r in rows {
                let arm = &self.arms[r.arm];
                let patient = r.outcome.patient.to_string();
                for (day, kind) in &r.events.0 {
                    let f = event_fields(kind, &self.drugs);
                    let mut rec = vec![arm.clone(), rep.clone(), patient.clone(), fmt_num(*day)];
                    rec.extend(f);
                    w.write_record(&rec)
                        .map_err(|e| Error::output(path.as_str(), e.into()))?;
                }
            }
        }
        Ok(())
    }
}
