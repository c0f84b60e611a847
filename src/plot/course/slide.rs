//! The short words of a course chart in the slide layout, where every text
//! is large: a one-line title, a subtitle only for associated conditions,
//! short legend labels, drug names without underscores and a short
//! diagnosis label.

use super::CourseTrace;
use crate::model::Genotype;

impl CourseTrace {
    /// The title in the slide layout: patient, sex, onset age, genotype.
    pub fn slide_title(&self) -> String {
        format!(
            "Patient {}: {}, onset age {:.1}, {}",
            self.patient,
            self.sex(),
            self.onset_age_years,
            match self.genotype {
                Genotype::Sporadic => "sporadic CRMO",
                Genotype::Majeed => "Majeed syndrome",
            }
        )
    }

    /// The subtitle in the slide layout: the associated conditions, or
    /// nothing when there are none.
    pub fn slide_subtitle(&self) -> String {
        if self.conditions_at_onset == 0 && self.condition_onsets.is_empty() {
            String::new()
        } else {
            self.conditions_text()
        }
    }
}

/// The legend label of the slide layout for a paper legend label.
pub(crate) fn short_legend_label(label: &str) -> String {
    let short = match label {
        "pain (VAS: visual analogue scale, 0-10)" => "pain",
        "disease activity score (0-10)" => "activity",
        "CRP: C-reactive protein (mg/l, right axis)" => "CRP",
        "imaging (+n: lesions found)" => "imaging, +n found",
        "lytic lesion" => "lytic",
        "mixed lytic/sclerotic" => "mixed",
        "silent lesion (pale)" => "silent",
        "vertebral fracture" => "fracture",
        "lost to follow-up" => "lost",
        "drug acts (responder)" => "responds",
        "drug acts (non-responder)" => "no response",
        "effect window of a course (pale)" => "course effect",
        other => other,
    };
    short.to_string()
}

/// A drug name as a row label in the slide layout (words, not identifiers).
pub(crate) fn short_drug_name(name: &str) -> String {
    name.replace('_', " ")
}

/// The diagnosis label in the slide layout.
pub(crate) fn diagnosis_label(jansson: u32, bristol_1: bool) -> String {
    if bristol_1 {
        format!("diagnosis (Jansson {jansson}, Bristol 1)")
    } else {
        format!("diagnosis (Jansson {jansson})")
    }
}
