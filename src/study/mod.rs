//! A study: a scenario resolved once into everything a run needs — the
//! validation layer's rules on resolve ([`crate::scenario::validate`]),
//! the arms, one drug table keyed by name, the metrics and the
//! accumulator shape. `run`, `check`, `calibrate`, `course`, `gallery`,
//! `merge`, the benches and the tests all go through [`Study`], so a
//! scenario `check` accepts is a scenario `run` accepts.
//!
//! Data flows one way: scenario → study → engine → results → outputs.

pub mod psa;
pub mod shard;
pub mod sweep;

use std::ops::Range;

use crate::engine::cohort::{
    choose_arm, metric_layout, run_units, Accumulators, Arm, CohortSpec, RowSink, Shape,
};
use crate::engine::drugs::DrugTable;
use crate::engine::metrics::{metrics_of, Metric};
use crate::engine::model_values::ReplicateModel;
use crate::engine::treatment::TreatmentPlan;
use crate::error::Result;
use crate::results::CohortResult;
use crate::scenario::{validate, LoadedScenario, Scenario};

/// A scenario resolved for simulation.
#[derive(Debug, Clone)]
pub struct Study {
    loaded: LoadedScenario,
    drugs: DrugTable,
    arms: Vec<Arm>,
    metrics: Vec<Metric>,
    shape: Shape,
    sweep: Option<sweep::Sweep>,
    /// Index of the arm `differences.csv` pairs the others against.
    reference: usize,
}

impl Study {
    /// Resolves a loaded scenario: runs the validation layer's rules on
    /// resolve ([`crate::scenario::validate::resolve`]: drug slots, the
    /// reference arm), builds the arms against the drug
    /// table, the metrics and the accumulator shape. Errors name the file,
    /// line and column.
    pub fn resolve(loaded: LoadedScenario) -> Result<Self> {
        let checked = validate::resolve(&loaded)?;
        let drugs = DrugTable::of_scenario(&loaded.scenario);
        let arms = resolve_arms(&loaded, &drugs)?;
        let s = &loaded.scenario;
        let metrics = metrics_of(&metric_layout(s, &drugs, &arms));
        let shape = Shape::of(s, drugs.len(), arms.len(), metrics.len());
        let sweep = sweep::resolve(&loaded, checked.sweep.as_ref())?;
        Ok(Study {
            loaded,
            drugs,
            arms,
            metrics,
            shape,
            sweep,
            reference: checked.reference,
        })
    }

    /// Loads a scenario file (or the built-in reference) and resolves it.
    pub fn load(path: Option<&std::path::Path>) -> Result<Self> {
        Study::resolve(match path {
            Some(p) => crate::scenario::load_file(p)?,
            None => crate::scenario::reference(),
        })
    }

    /// The scenario as loaded.
    pub fn loaded(&self) -> &LoadedScenario {
        &self.loaded
    }

    /// The scenario.
    pub fn scenario(&self) -> &Scenario {
        &self.loaded.scenario
    }

    /// The scenario's name (names the output directory).
    pub fn name(&self) -> String {
        self.loaded.name()
    }

    /// The drug table.
    pub fn drugs(&self) -> &DrugTable {
        &self.drugs
    }

    /// The drug names, in table order (the drug numbers of events and intervals).
    pub fn drug_names(&self) -> Vec<String> {
        self.drugs.names()
    }

    /// The arms.
    pub fn arms(&self) -> &[Arm] {
        &self.arms
    }

    /// The arm names.
    pub fn arm_names(&self) -> Vec<String> {
        self.arms.iter().map(|a| a.name.clone()).collect()
    }

    /// The arm called `name` (None: the first), or a usage error listing the arms.
    pub fn arm(&self, name: Option<&str>) -> Result<&Arm> {
        choose_arm(&self.name(), &self.arms, name)
    }

    /// Index of the reference arm: the arm `differences.csv` pairs every
    /// other arm against (the scenario's `reference_arm`, else the first).
    pub fn reference(&self) -> usize {
        self.reference
    }

    /// The reference arm the scenario or `--reference-arm` chose (None: the
    /// first arm, by default).
    pub fn chosen_reference_arm(&self) -> Option<String> {
        let chosen = self.loaded.scenario.reference_arm.as_ref()?;
        Some(chosen.get_ref().clone())
    }

    /// The metrics of `summary.csv`, in order.
    pub fn metrics(&self) -> &[Metric] {
        &self.metrics
    }

    /// The accumulator shape.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// What the cohort runner needs.
    pub fn cohort(&self) -> CohortSpec<'_> {
        CohortSpec {
            scenario: &self.loaded.scenario,
            drugs: &self.drugs,
            arms: &self.arms,
            metrics: &self.metrics,
            shape: self.shape,
            reference: self.reference,
        }
    }

    /// Replicate `r`'s model: its drawn parameter values, ready to simulate.
    pub fn replicate_model(&self, replicate: u32) -> ReplicateModel {
        ReplicateModel::new(&self.loaded.scenario, &self.drugs, replicate)
    }

    /// The sweep, if the scenario has `[sweep]`.
    pub fn sweep(&self) -> Option<&sweep::Sweep> {
        self.sweep.as_ref()
    }

    /// The studies the work is made of: the sweep's grid points, or this study alone.
    pub fn points(&self) -> Vec<&Study> {
        match &self.sweep {
            Some(s) => s.points.iter().map(|p| &p.study).collect(),
            None => vec![self],
        }
    }

    /// Work units of this study's own cohort (replicate × chunk of patients).
    pub fn units(&self) -> u64 {
        self.cohort().units()
    }

    /// Work units of everything [`Study::run_slice`] runs: every grid point's
    /// cohort in turn (this study's cohort without a sweep).
    pub fn work_units(&self) -> u64 {
        self.points().iter().map(|p| p.units()).sum()
    }

    /// Patients simulated (per arm) in work units `units`.
    pub fn work_patients(&self, units: &Range<u64>) -> u64 {
        let mut first = 0;
        let mut n = 0;
        for p in self.points() {
            let own = first..first + p.units();
            let (a, b) = (units.start.max(own.start), units.end.min(own.end));
            if a < b {
                n += p.cohort().patients_in(&(a - first..b - first));
            }
            first = own.end;
        }
        n
    }

    /// Runs work units `units` of [`Study::work_units`]: one set of
    /// accumulators per grid point (empty where the range has no work).
    /// Multi-threaded as [`Study::run_units`].
    pub fn run_slice(
        &self,
        units: Range<u64>,
        sink: &mut dyn RowSink,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Vec<Accumulators>> {
        self.run_slice_until(units, sink, progress, &|| false)
    }

    /// [`Study::run_slice`] that stops with [`crate::Error::Interrupted`]
    /// soon after `stop` says so (the chunks already started finish).
    pub fn run_slice_until(
        &self,
        units: Range<u64>,
        sink: &mut dyn RowSink,
        progress: &(dyn Fn(u64) + Sync),
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Result<Vec<Accumulators>> {
        let mut first = 0;
        let mut out = Vec::new();
        for p in self.points() {
            let own = first..first + p.units();
            let (a, b) = (units.start.max(own.start), units.end.min(own.end));
            out.push(if a < b {
                crate::engine::cohort::run_units_until(
                    &p.cohort(),
                    a - first..b - first,
                    sink,
                    progress,
                    stop,
                )?
            } else {
                p.shape().accumulators(p.scenario().replicates)
            });
            first = own.end;
        }
        Ok(out)
    }

    /// Runs work units `units` of this study's own cohort into accumulators
    /// (multi-threaded on rayon's current pool; the result does not depend
    /// on the thread count).
    pub fn run_units(
        &self,
        units: Range<u64>,
        sink: &mut dyn RowSink,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Accumulators> {
        run_units(&self.cohort(), units, sink, progress)
    }

    /// Runs this study's own cohort (multi-threaded, as [`Study::run_units`]).
    pub fn run(
        &self,
        sink: &mut dyn RowSink,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<CohortResult> {
        let acc = self.run_units(0..self.units(), sink, progress)?;
        Ok(self.result(acc))
    }

    /// The result of this study's cohort from its merged accumulators.
    pub fn result(&self, acc: Accumulators) -> CohortResult {
        CohortResult::new(&self.cohort(), acc)
    }

    /// The results of every point from the accumulators of [`Study::run_slice`].
    pub fn results(&self, accs: Vec<Accumulators>) -> Vec<CohortResult> {
        self.points()
            .into_iter()
            .zip(accs)
            .map(|(p, acc)| p.result(acc))
            .collect()
    }
}

pub use crate::scenario::arm_names_of;
pub use crate::scenario::validate::unknown_reference_arm;

/// The arms, each ladder resolved against the drug table by name. A
/// scenario without arms has one arm, `natural_history`, without treatment.
fn resolve_arms(l: &LoadedScenario, drugs: &DrugTable) -> Result<Vec<Arm>> {
    let s = &l.scenario;
    if s.arm.is_empty() {
        return Ok(arm_names_of(s)
            .into_iter()
            .map(|name| Arm { name, plan: None })
            .collect());
    }
    s.arm
        .iter()
        .map(|a| {
            let plan = if a.untreated {
                None
            } else {
                Some(
                    TreatmentPlan::from_spec(a, |d| drugs.index(d)).map_err(|unknown| {
                        validate::unknown_ladder_drug(l, a, &unknown, &drugs.names())
                    })?,
                )
            };
            Ok(Arm {
                name: a.name.get_ref().clone(),
                plan,
            })
        })
        .collect()
}
