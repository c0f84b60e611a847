//! The drugs of one replicate in simulation units, and the multipliers of
//! the natural history (induction, maintenance, lesions) they put in force.

use rand::Rng;

use crate::model::Genotype;
use crate::scenario::treatment::{used_drugs, DrugValues};
use crate::scenario::Scenario;

use super::super::model_values::DAYS_PER_YEAR;
use super::NEVER;

/// Multipliers of the natural history in force at a moment (1 = no effect).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Effects {
    /// Multiplies the relapse hazard (maintenance on a drug, lasting effects after one).
    pub flare_hazard_ratio: f64,
    /// Multiplies the symptomatic flare duration (induction; rescales the rest of a running flare too).
    pub flare_duration_factor: f64,
    /// Multiplies the mean number of new lesions per flare.
    pub lesion_factor: f64,
    /// Multiplies lesion stage durations that start now (< 1 heals faster).
    pub heal_time_factor: f64,
}

impl Effects {
    /// No treatment effect.
    pub const NONE: Effects = Effects {
        flare_hazard_ratio: 1.0,
        flare_duration_factor: 1.0,
        lesion_factor: 1.0,
        heal_time_factor: 1.0,
    };

    pub(super) fn combine(&mut self, d: &DrugModel, weight: f64) {
        // Non-responders get `weight` of the log effect (0: none).
        let scale = |f: f64| if weight == 1.0 { f } else { f.powf(weight) };
        self.flare_hazard_ratio *= scale(d.values.flare_hazard_ratio);
        self.flare_duration_factor *= scale(d.values.flare_duration_factor);
        self.lesion_factor *= scale(d.values.lesion_factor);
        self.heal_time_factor *= scale(d.values.heal_time_factor);
    }
}

/// One drug of one replicate, in simulation units.
#[derive(Debug, Clone, PartialEq)]
pub struct DrugModel {
    /// Name.
    pub name: String,
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
}

impl DrugModel {
    /// Converts drawn values into simulation units.
    pub fn new(name: String, v: DrugValues) -> Self {
        DrugModel {
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
            values: v,
        }
    }

    /// Probability of response for a genotype.
    pub fn p_response(&self, g: Genotype) -> f64 {
        match g {
            Genotype::Sporadic => self.values.p_response,
            Genotype::Majeed => self.values.p_response_majeed,
        }
    }

    pub(super) fn is_course(&self) -> bool {
        self.course_days > 0.0
    }
}

/// Draws the drugs a scenario uses, for one replicate.
pub fn draw_drugs<R: Rng + ?Sized>(s: &Scenario, rng: &mut R) -> Vec<DrugModel> {
    used_drugs(&s.drugs, &s.arm)
        .into_iter()
        .map(|u| {
            let v = u.spec.draw(&u.base, rng);
            DrugModel::new(u.name, v)
        })
        .collect()
}
