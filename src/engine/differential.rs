//! The virtual differential diagnosis run by `crmo-sim criteria`: the CRMO
//! cohort simulated to diagnosis (exactly as `run` simulates it, first arm,
//! so its findings are the ones `summary.csv` counts) beside the mimic
//! populations of `[differential]`, each tallied by what the criteria read.
//!
//! The work is a sequence of units — per replicate, the CRMO cohort's
//! chunks of [`CHUNK_PATIENTS`], then each mimic population's chunks — and
//! any range of them runs on its own into a [`DifferentialTally`] of integer
//! counts, so a run's tally does not depend on the thread count and the
//! tallies of disjoint ranges (shards) add up to the whole run's. Mimics
//! draw from their own streams ([`Purpose::BacterialOsteomyelitis`] and the
//! next two), so the CRMO patients' random numbers are those of `run`.

use std::ops::Range;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::criteria::{bristol_criterion_1, jansson_score, Findings};
use crate::model::mimics::draw_mimic;
use crate::model::Genotype;
use crate::scenario::differential::{Mimic, MimicValues};

use super::cohort::{CohortSpec, CHUNK_PATIENTS};
use super::model_values::{ReplicateModel, DAYS_PER_YEAR};
use super::patient::{simulate_patient, Discard, Scratch};
use super::rng::Purpose;

/// Bins of the Jansson score histogram (scores 0 to 63).
pub const SCORE_BINS: usize = 64;
/// The Jansson items, in [`crate::model::criteria::JANSSON_POINTS`] order.
pub const ITEMS: usize = 7;
/// Populations of a tally: CRMO, then the mimics in [`Mimic::ALL`] order.
pub const POPULATIONS: usize = 1 + Mimic::ALL.len();

/// What one population accumulates: integers only, so tallies merge exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PopulationTally {
    /// Children with findings (CRMO: diagnosed within the horizon).
    pub count: u64,
    /// Children by Jansson score (index = score).
    pub jansson: Vec<u64>,
    /// Children meeting Bristol criterion 1.
    pub bristol_1: u64,
    /// Children with each Jansson item present.
    pub items: Vec<u64>,
    /// Sum of the ages at presentation (CRMO: at diagnosis), days.
    pub age_days: u64,
    /// CRMO patients never diagnosed within the horizon (0 for mimics).
    pub undiagnosed: u64,
}

impl Default for PopulationTally {
    fn default() -> Self {
        PopulationTally {
            count: 0,
            jansson: vec![0; SCORE_BINS],
            bristol_1: 0,
            items: vec![0; ITEMS],
            age_days: 0,
            undiagnosed: 0,
        }
    }
}

impl PopulationTally {
    /// Adds one child.
    pub fn add(&mut self, f: &Findings, jansson: u32, bristol_1: bool, age_years: f64) {
        self.count += 1;
        self.jansson[(jansson as usize).min(SCORE_BINS - 1)] += 1;
        self.bristol_1 += u64::from(bristol_1);
        for (n, hit) in self.items.iter_mut().zip(jansson_items(f)) {
            *n += u64::from(hit);
        }
        self.age_days += (age_years.max(0.0) * DAYS_PER_YEAR).round() as u64;
    }

    /// Adds everything of `other`.
    pub fn merge(&mut self, other: &PopulationTally) {
        self.count += other.count;
        for (a, b) in self.jansson.iter_mut().zip(&other.jansson) {
            *a += b;
        }
        self.bristol_1 += other.bristol_1;
        for (a, b) in self.items.iter_mut().zip(&other.items) {
            *a += b;
        }
        self.age_days += other.age_days;
        self.undiagnosed += other.undiagnosed;
    }
}

/// The Jansson items of `f`, in [`crate::model::criteria::JANSSON_POINTS`] order.
pub fn jansson_items(f: &Findings) -> [bool; ITEMS] {
    [
        f.normal_blood_count,
        f.symmetric_lesions,
        f.marginal_sclerosis,
        f.normal_temperature,
        f.vertebral_clavicular_sternal,
        f.lesions_seen > 1,
        f.crp_mg_l_x10 >= 100,
    ]
}

/// Everything a slice of the differential accumulates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DifferentialTally {
    /// CRMO, then the mimics in [`Mimic::ALL`] order.
    pub populations: Vec<PopulationTally>,
}

impl Default for DifferentialTally {
    fn default() -> Self {
        DifferentialTally {
            populations: vec![PopulationTally::default(); POPULATIONS],
        }
    }
}

impl DifferentialTally {
    /// Adds everything of `other`.
    pub fn merge(&mut self, other: &DifferentialTally) {
        for (a, b) in self.populations.iter_mut().zip(&other.populations) {
            a.merge(b);
        }
    }

    /// The CRMO patients.
    pub fn crmo(&self) -> &PopulationTally {
        &self.populations[0]
    }

    /// Every mimic pooled.
    pub fn controls(&self) -> PopulationTally {
        let mut all = PopulationTally::default();
        for p in &self.populations[1..] {
            all.merge(p);
        }
        all
    }
}

/// What a differential run needs: the cohort and the number of each mimic
/// per replicate (in [`Mimic::ALL`] order).
#[derive(Debug, Clone, Copy)]
pub struct DifferentialSpec<'a> {
    /// The CRMO cohort (its first arm is simulated).
    pub cohort: CohortSpec<'a>,
    /// Mimics per replicate, per population.
    pub mimics: [u64; 3],
}

/// One unit of work: a chunk of one population of one replicate.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Unit {
    replicate: u32,
    /// 0: CRMO; 1..: the mimics.
    population: usize,
    children: Range<u64>,
}

impl DifferentialSpec<'_> {
    /// Chunks per replicate of each population.
    fn chunks(&self) -> [u64; POPULATIONS] {
        let crmo = self.cohort.chunks_per_replicate();
        let m = self.mimics.map(|n| n.div_ceil(CHUNK_PATIENTS));
        [crmo, m[0], m[1], m[2]]
    }

    /// Units of one replicate.
    fn units_per_replicate(&self) -> u64 {
        self.chunks().iter().sum()
    }

    /// Units of the whole run.
    pub fn units(&self) -> u64 {
        self.units_per_replicate() * u64::from(self.cohort.scenario.replicates)
    }

    /// Children (patients and mimics) in `units`.
    pub fn children_in(&self, units: &Range<u64>) -> u64 {
        units
            .clone()
            .map(|u| self.unit(u).children.count() as u64)
            .sum()
    }

    fn population_size(&self, population: usize) -> u64 {
        match population {
            0 => self.cohort.scenario.patients,
            m => self.mimics[m - 1],
        }
    }

    fn unit(&self, u: u64) -> Unit {
        let per = self.units_per_replicate();
        let replicate = (u / per) as u32;
        let mut chunk = u % per;
        let mut population = 0;
        for (p, n) in self.chunks().iter().enumerate() {
            if chunk < *n {
                population = p;
                break;
            }
            chunk -= n;
        }
        let start = chunk * CHUNK_PATIENTS;
        let end = (start + CHUNK_PATIENTS).min(self.population_size(population));
        Unit {
            replicate,
            population,
            children: start..end,
        }
    }

    /// Runs work units `units` (multi-threaded on rayon's current pool; the
    /// tally does not depend on the thread count). `progress` is called
    /// with the children of each finished unit.
    pub fn run(
        &self,
        units: Range<u64>,
        progress: &(dyn Fn(u64) + Sync),
    ) -> crate::Result<DifferentialTally> {
        let mut tally = DifferentialTally::default();
        let per = self.units_per_replicate();
        let mut first = units.start;
        while first < units.end {
            let r = (first / per) as u32;
            let last = units.end.min((u64::from(r) + 1) * per);
            let model = self.cohort.replicate_model(r);
            let values = self.mimic_values(&model);
            let parts: Vec<crate::Result<DifferentialTally>> = (first..last)
                .into_par_iter()
                .map(|u| {
                    let unit = self.unit(u);
                    let n = unit.children.end - unit.children.start;
                    let t = self.run_unit(&model, &values, unit);
                    progress(n);
                    t
                })
                .collect();
            for part in parts {
                tally.merge(&part?);
            }
            first = last;
        }
        Ok(tally)
    }

    /// One replicate's values of every mimic population, each drawn from
    /// its own parameter stream.
    pub fn mimic_values(&self, model: &ReplicateModel) -> [MimicValues; 3] {
        let d = &self.cohort.scenario.differential;
        Mimic::ALL.map(|m| d.params(m).draw(&mut model.key.mimic_parameters(m as u64)))
    }

    fn run_unit(
        &self,
        model: &ReplicateModel,
        values: &[MimicValues; 3],
        unit: Unit,
    ) -> crate::Result<DifferentialTally> {
        let mut tally = DifferentialTally::default();
        if unit.population == 0 {
            self.crmo_chunk(model, unit, &mut tally.populations[0])?;
        } else {
            let m = unit.population - 1;
            mimic_chunk(
                model,
                Mimic::ALL[m],
                &values[m],
                unit.children,
                &mut tally.populations[unit.population],
            );
        }
        Ok(tally)
    }

    /// CRMO patients of a chunk, simulated under the first arm as `run` does.
    fn crmo_chunk(
        &self,
        model: &ReplicateModel,
        unit: Unit,
        into: &mut PopulationTally,
    ) -> crate::Result<()> {
        let arm = &self.cohort.arms[0];
        let mut scratch = Scratch::default();
        let mut state = arm.treatment_state(model);
        for p in unit.children {
            if let Some(s) = state.as_mut() {
                s.reset(p);
            }
            let o = simulate_patient(model, p, state.as_mut(), &mut scratch, &mut Discard);
            if let Some(limit) = o.limit {
                return Err(crate::Error::PatientLimit(format!(
                    "patient {p} of replicate {} (arm `{}`) has {}",
                    unit.replicate,
                    arm.name,
                    limit.describe()
                )));
            }
            match o.diagnosis {
                Some(d) => into.add(
                    &d.findings,
                    d.jansson,
                    d.bristol_1,
                    o.onset_age_years + d.day / DAYS_PER_YEAR,
                ),
                None => into.undiagnosed += 1,
            }
        }
        Ok(())
    }
}

/// The purpose naming the streams of mimic `m`.
fn purpose(m: Mimic) -> Purpose {
    match m {
        Mimic::BacterialOsteomyelitis => Purpose::BacterialOsteomyelitis,
        Mimic::MalignantTumour => Purpose::MalignantTumour,
        Mimic::BenignTumour => Purpose::BenignTumour,
    }
}

/// Mimics `children` of population `m`, each from its own stream.
fn mimic_chunk(
    model: &ReplicateModel,
    m: Mimic,
    values: &MimicValues,
    children: Range<u64>,
    into: &mut PopulationTally,
) {
    let crp_cutoff = model.genotype(Genotype::Sporadic).values.crp_cutoff_mg_l;
    for i in children {
        let mut rng = model.key.stream(i, purpose(m));
        let c = draw_mimic(values, &mut rng);
        let f = c.findings;
        into.add(
            &f,
            jansson_score(&f),
            bristol_criterion_1(&f, crp_cutoff),
            c.age_years,
        );
    }
}
