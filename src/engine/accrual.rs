//! Costs and QALYs of one patient, accrued in continuous time from onset
//! while the patient is observed (onset to loss to follow-up or the
//! horizon), as an [`Observer`] of the course's events.
//!
//! Discounting is continuous with weight `w(t) = (1 + d)^(-t)`, t in years
//! since onset, so every stretch has a closed form: a cost or QALY loss at
//! time t counts `c · w(t)`, a utility `u` held from a to b counts
//! `u · ∫ₐᵇ w(t) dt = u · (w(a) − w(b)) / ln(1 + d)` (`u · (b − a)` when d = 0).
//!
//! What is costed, and when:
//! - a flare: `costs.flare` at its start, and a clinic visit when it starts
//!   after diagnosis;
//! - diagnosis: `costs.diagnosis` (the work-up) plus one imaging study of
//!   the modality `imaging.at_diagnosis`;
//! - each scheduled follow-up: one imaging study of `imaging.follow_up`
//!   and a clinic visit;
//! - each drug: `cost_per_day` over every day from its start to its stop,
//!   and `cost_per_course` at each course of a drug given in courses;
//! - an adverse event that stops a drug: `costs.adverse_event`.
//!
//! Utilities: `flare` (less `flare_pain_decrement_per_vas` × the flare's
//! pain), `remission` between flares of the active phase, `resolved` once
//! the disease has burnt out; `adverse_event_qaly_loss` QALYs at each
//! adverse event and `infusion_day_disutility` over each course's days.
//!
//! Lesion stage changes carry nothing, so the accrual does not ask the
//! engine to put them in order ([`Observer::RECORDS`] is false).

use crate::scenario::economics::{CostValues, UtilityValues};

use super::events::{EventKind, Observer, StopReason};
use super::units::DAYS_PER_YEAR;
use crate::scenario::limits::MAX_USED_DRUGS as MAX_DRUGS;

/// Cost categories, in the order of [`Accrued::costs`] and of the
/// `costs_<category>_per_patient` metrics.
pub const COST_CATEGORIES: [&str; 6] = [
    "drugs",
    "visits",
    "imaging",
    "flares",
    "adverse_events",
    "diagnosis",
];

const DRUGS: usize = 0;
const VISITS: usize = 1;
const IMAGING: usize = 2;
const FLARES: usize = 3;
const ADVERSE_EVENTS: usize = 4;
const DIAGNOSIS: usize = 5;

/// One replicate's economic values, ready for accrual.
#[derive(Debug, Clone, PartialEq)]
pub struct EconomicsModel {
    /// Annual discount rate of costs.
    pub discount_costs: f64,
    /// Annual discount rate of QALYs.
    pub discount_effects: f64,
    /// Unit costs.
    pub costs: CostValues,
    /// Utilities and decrements.
    pub utilities: UtilityValues,
    /// Cost of the imaging at diagnosis (by its modality).
    pub imaging_at_diagnosis: f64,
    /// Cost of a follow-up imaging study (by its modality).
    pub imaging_follow_up: f64,
    /// Per drug of the drug table: cost per day on it.
    pub drug_cost_per_day: Vec<f64>,
    /// Per drug of the drug table: cost per course.
    pub drug_cost_per_course: Vec<f64>,
}

/// What one patient accrued.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Accrued {
    /// Discounted costs by category ([`COST_CATEGORIES`]).
    pub costs: [f64; 6],
    /// Undiscounted costs, all categories.
    pub costs_undiscounted: f64,
    /// Discounted QALYs.
    pub qalys: f64,
    /// Undiscounted QALYs.
    pub qalys_undiscounted: f64,
}

impl Accrued {
    /// Discounted costs, all categories.
    pub fn total_costs(&self) -> f64 {
        self.costs.iter().sum()
    }
}

/// Continuous discounting at an annual rate: `w(t) = exp(-r t)`, `r = ln(1 + d)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Discount {
    r: f64,
}

impl Discount {
    /// Discounting at annual rate `d`.
    pub fn new(d: f64) -> Self {
        Discount { r: d.ln_1p() }
    }

    /// The weight of a value at `day` since onset.
    #[inline]
    pub fn weight(&self, day: f64) -> f64 {
        (-self.r * day / DAYS_PER_YEAR).exp()
    }

    /// `∫ w(t) dt` over days `a` to `b`, in years.
    #[inline]
    pub fn years(&self, a: f64, b: f64) -> f64 {
        let (ta, tb) = (a / DAYS_PER_YEAR, b / DAYS_PER_YEAR);
        if self.r == 0.0 {
            tb - ta
        } else {
            (-self.r * ta).exp() * -(-self.r * (tb - ta)).exp_m1() / self.r
        }
    }
}

/// Accrues one patient's costs and QALYs from the events of the course.
#[derive(Debug, Clone)]
pub struct Accrual<'a> {
    m: &'a EconomicsModel,
    costs: Discount,
    effects: Discount,
    /// Start of the stretch held at `utility`.
    since: f64,
    utility: f64,
    diagnosed: bool,
    /// Per drug: start day while the drug is given (NaN: not given).
    on_drug: [f64; MAX_DRUGS],
    ended: bool,
    out: Accrued,
}

impl<'a> Accrual<'a> {
    /// A patient at onset (the course starts with a flare event).
    pub fn new(m: &'a EconomicsModel) -> Self {
        Accrual {
            m,
            costs: Discount::new(m.discount_costs),
            effects: Discount::new(m.discount_effects),
            since: 0.0,
            utility: 0.0,
            diagnosed: false,
            on_drug: [f64::NAN; MAX_DRUGS],
            ended: false,
            out: Accrued::default(),
        }
    }

    /// What the patient accrued (call after the course's last event).
    pub fn finish(&self) -> Accrued {
        self.out
    }

    fn cost(&mut self, category: usize, amount: f64, day: f64) {
        if amount != 0.0 {
            self.out.costs[category] += amount * self.costs.weight(day);
            self.out.costs_undiscounted += amount;
        }
    }

    fn qaly_loss(&mut self, loss: f64, day: f64) {
        if loss != 0.0 {
            self.out.qalys -= loss * self.effects.weight(day);
            self.out.qalys_undiscounted -= loss;
        }
    }

    /// Closes the stretch held at the current utility at `day`; the next one
    /// is held at `utility`.
    fn switch(&mut self, day: f64, utility: f64) {
        if day > self.since && self.utility != 0.0 {
            self.out.qalys += self.utility * self.effects.years(self.since, day);
            self.out.qalys_undiscounted += self.utility * (day - self.since) / DAYS_PER_YEAR;
        }
        self.since = day;
        self.utility = utility;
    }

    fn drug_stop(&mut self, drug: u16, day: f64) {
        let d = usize::from(drug);
        let start = std::mem::replace(&mut self.on_drug[d], f64::NAN);
        let per_day = self.m.drug_cost_per_day.get(d).copied().unwrap_or(0.0);
        if start.is_finite() && day > start && per_day != 0.0 {
            let years = self.costs.years(start, day);
            self.out.costs[DRUGS] += per_day * DAYS_PER_YEAR * years;
            self.out.costs_undiscounted += per_day * (day - start);
        }
    }

    fn end(&mut self, day: f64) {
        self.switch(day, 0.0);
        while let Some(d) = self.on_drug.iter().position(|s| s.is_finite()) {
            self.drug_stop(d as u16, day);
        }
        self.ended = true;
    }
}

impl Observer for Accrual<'_> {
    const RECORDS: bool = false;

    fn event(&mut self, day: f64, kind: EventKind) {
        if self.ended {
            return;
        }
        let (c, u) = (&self.m.costs, &self.m.utilities);
        match kind {
            EventKind::FlareStart { pain, .. } => {
                let utility = u.flare - u.flare_pain_decrement_per_vas * pain;
                self.switch(day, utility);
                self.cost(FLARES, c.flare, day);
                if self.diagnosed {
                    self.cost(VISITS, c.visit, day);
                }
            }
            EventKind::FlareEnd => self.switch(day, u.remission),
            EventKind::Resolution => self.switch(day, u.resolved),
            EventKind::Diagnosis { .. } => {
                self.diagnosed = true;
                self.cost(DIAGNOSIS, c.diagnosis, day);
                self.cost(IMAGING, self.m.imaging_at_diagnosis, day);
            }
            EventKind::Imaging => {
                self.cost(IMAGING, self.m.imaging_follow_up, day);
                self.cost(VISITS, c.visit, day);
            }
            EventKind::DrugStart { drug, .. } => {
                if let Some(slot) = self.on_drug.get_mut(usize::from(drug)) {
                    *slot = day;
                }
            }
            EventKind::DrugCourse { drug, days } => {
                let per_course = self
                    .m
                    .drug_cost_per_course
                    .get(usize::from(drug))
                    .copied()
                    .unwrap_or(0.0);
                self.cost(DRUGS, per_course, day);
                let loss = u.infusion_day_disutility;
                if loss != 0.0 && days > 0.0 {
                    self.out.qalys -= loss * self.effects.years(day, day + days);
                    self.out.qalys_undiscounted -= loss * days / DAYS_PER_YEAR;
                }
            }
            EventKind::DrugStop { drug, reason } => {
                self.drug_stop(drug, day);
                if reason == StopReason::AdverseEvent {
                    self.cost(ADVERSE_EVENTS, c.adverse_event, day);
                    self.qaly_loss(u.adverse_event_qaly_loss, day);
                }
            }
            EventKind::LostToFollowUp | EventKind::End => self.end(day),
            _ => {}
        }
    }
}

/// Both observers receive every event (the event log of `events.csv` and
/// the accrual).
#[derive(Debug)]
pub struct Both<'a, A, B>(pub &'a mut A, pub &'a mut B);

impl<A: Observer, B: Observer> Observer for Both<'_, A, B> {
    const RECORDS: bool = A::RECORDS || B::RECORDS;
    const TAKES_COURSES: bool = A::TAKES_COURSES || B::TAKES_COURSES;

    fn event(&mut self, day: f64, kind: EventKind) {
        self.0.event(day, kind);
        self.1.event(day, kind);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discounted_years_match_a_numerical_integral() {
        let d = Discount::new(0.035);
        let (a, b) = (100.0, 2000.0);
        let n = 200_000;
        let h = (b - a) / n as f64;
        let riemann: f64 = (0..n)
            .map(|i| d.weight(a + (i as f64 + 0.5) * h) * h / DAYS_PER_YEAR)
            .sum();
        assert!((d.years(a, b) - riemann).abs() < 1e-9, "{}", d.years(a, b));
        let none = Discount::new(0.0);
        assert_eq!(none.years(0.0, DAYS_PER_YEAR * 10.0), 10.0);
        assert!((d.weight(DAYS_PER_YEAR) - 1.0 / 1.035).abs() < 1e-15);
    }
}
