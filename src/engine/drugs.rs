//! The drug table of a study: every drug its arms use, keyed by name, and
//! each drug's values for one replicate in simulation units.
//!
//! A drug is found by its name only, never by position: its parameter draws
//! and a patient's latent responsiveness to it come from streams named by a
//! hash of the drug's name, so listing the arms (and so the drugs) in another
//! order changes no drug's values and no patient's response.

use rand::Rng;

use crate::scenario::treatment::{used_drugs, DrugSpec, DrugValues};
use crate::scenario::Scenario;

use super::rng::ReplicateKey;
use super::units::DAYS_PER_YEAR;

const NEVER: f64 = f64::INFINITY;

/// A stable 64-bit key of a drug name (FNV-1a), naming its random streams.
/// Part of the output format: changing it changes every treated result.
pub fn name_key(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One drug of a study as the scenario sets it.
#[derive(Debug, Clone)]
pub struct DrugEntry {
    /// Name (as in `[drugs.NAME]` and the ladders).
    pub name: String,
    /// Fields set in the scenario.
    pub spec: DrugSpec,
    /// Catalogue entry, or the neutral drug for new drugs.
    pub base: DrugSpec,
}

/// The drugs a study's arms use, in order of first use (the order of the
/// drug columns of `timeseries.csv`); looked up by name.
#[derive(Debug, Clone, Default)]
pub struct DrugTable {
    entries: Vec<DrugEntry>,
}

impl DrugTable {
    /// The drugs the scenario's arms use.
    pub fn of_scenario(s: &Scenario) -> Self {
        DrugTable {
            entries: used_drugs(&s.drugs, &s.arm)
                .into_iter()
                .map(|u| DrugEntry {
                    name: u.name,
                    spec: u.spec,
                    base: u.base,
                })
                .collect(),
        }
    }

    /// Number of drugs.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no arm uses a drug.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The drugs, in table order.
    pub fn entries(&self) -> &[DrugEntry] {
        &self.entries
    }

    /// The names, in table order.
    pub fn names(&self) -> Vec<String> {
        self.entries.iter().map(|e| e.name.clone()).collect()
    }

    /// The table index of the drug called `name`.
    pub fn index(&self, name: &str) -> Option<u16> {
        self.entries
            .iter()
            .position(|e| e.name == name)
            .map(|i| i as u16)
    }

    /// Every drug's values for one replicate, each drawn from its own stream
    /// named by the drug's name; `record` receives each value drawn from a
    /// distribution as `(path, value, distribution)`.
    pub fn draw(
        &self,
        key: &ReplicateKey,
        record: &mut dyn FnMut(String, f64, String),
    ) -> Vec<DrugModel> {
        self.entries
            .iter()
            .map(|e| {
                let mut rng = key.drug_parameters(name_key(&e.name));
                let values = e.spec.draw_recorded(&e.base, &mut rng, &mut |field, v, d| {
                    record(format!("drugs.{}.{field}", e.name), v, d)
                });
                let mut m = DrugModel::new(e.name.clone(), values);
                m.switch_to = crate::scenario::treatment::class_switch(&e.name)
                    .and_then(|partner| self.index(partner));
                m
            })
            .collect()
    }
}

/// One drug of one replicate, in simulation units.
#[derive(Debug, Clone, PartialEq)]
pub struct DrugModel {
    /// Name.
    pub name: String,
    /// [`name_key`] of the name: names the patient's responsiveness stream.
    pub key: u64,
    /// Values as drawn.
    pub values: DrugValues,
    /// Onset lag, days.
    pub lag_days: f64,
    /// Adverse-event hazard per day.
    pub ae_per_day: f64,
    /// Days per course (0: continuous).
    pub course_days: f64,
    /// Days between courses.
    pub course_every_days: f64,
    /// Courses before stopping (u32::MAX: no limit).
    pub max_courses: u32,
    /// Days before stopping (inf: no limit).
    pub max_days: f64,
    /// Days the lasting effect holds after a responder stops (0: none).
    pub lasting_days: f64,
    /// Most courses within any 365.25 days (u32::MAX: no limit).
    pub max_courses_per_year: u32,
    /// The drug of the same class given instead after an adverse event
    /// (table index; None: no class switch in the table).
    pub switch_to: Option<u16>,
}

impl DrugModel {
    /// Converts drawn values into simulation units.
    pub fn new(name: String, v: DrugValues) -> Self {
        DrugModel {
            key: name_key(&name),
            name,
            lag_days: v.onset_lag_weeks * 7.0,
            ae_per_day: v.adverse_event_per_year / DAYS_PER_YEAR,
            course_days: v.course_days,
            course_every_days: v.course_every_weeks * 7.0,
            max_courses: if v.max_courses >= 1.0 {
                v.max_courses.round() as u32
            } else {
                u32::MAX
            },
            max_days: if v.max_weeks > 0.0 {
                v.max_weeks * 7.0
            } else {
                NEVER
            },
            lasting_days: if v.lasting_hazard_ratio != 1.0 {
                v.lasting_weeks * 7.0
            } else {
                0.0
            },
            max_courses_per_year: if v.max_courses_per_year >= 1.0 {
                v.max_courses_per_year.round() as u32
            } else {
                u32::MAX
            },
            switch_to: None,
            values: v,
        }
    }

    /// Probability of response for a genotype.
    pub fn p_response(&self, g: crate::model::Genotype) -> f64 {
        match g {
            crate::model::Genotype::Sporadic => self.values.p_response,
            crate::model::Genotype::Majeed => self.values.p_response_majeed,
        }
    }

    /// Whether the drug is given in courses rather than continuously.
    pub fn is_course(&self) -> bool {
        self.course_days > 0.0
    }

    /// A patient's latent responsiveness `u` to this drug (responder iff
    /// `u < p_response`): a fixed trait of the patient, the same in every arm
    /// and whatever the other drugs.
    pub fn responsiveness(&self, key: &ReplicateKey, patient: u64) -> f64 {
        key.trait_stream(patient, self.key).random()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_keys_are_fnv1a() {
        // Reference values of 64-bit FNV-1a.
        assert_eq!(name_key(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(name_key("a"), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(name_key("nsaid"), name_key("nsaie"));
    }
}
