//! `calibrate --fit`: a Nelder–Mead search (the `argmin` crate) of the
//! named parameters for the smallest standardised distance to the targets,
//!
//! distance = sum over targets of ((simulated - published) / tolerance)^2.
//!
//! Every evaluation simulates the same virtual patients (same seed, same
//! cohort size: common random numbers), so the distance changes with the
//! parameters, not with sampling noise. The optimiser works in the unit
//! cube of [`super::space`]; a point outside it is evaluated at its nearest
//! point inside plus a penalty, so the search comes back.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use argmin::core::observers::{Observe, ObserverMode};
use argmin::core::{CostFunction, Executor, IterState, State, KV};
use argmin::solver::neldermead::NelderMead;

use crate::engine::cohort::NoRows;
use crate::error::{Error, Result};

use super::space::FitSpace;
use super::targets::{standardised_square, Targets};
use super::CalibrationRow;

/// Default most iterations of a fit.
pub const DEFAULT_MAX_ITERS: u64 = 60;
/// Side of the first simplex in the unit cube (a tenth of each range).
const SIMPLEX_STEP: f64 = 0.1;
/// Weight of the squared distance outside the unit cube.
const OUTSIDE_PENALTY: f64 = 1.0e4;
/// The search stops when the distances at the simplex's corners differ by
/// less than this (standard deviation).
const SD_TOLERANCE: f64 = 1.0e-4;

/// One line of the trace and of `fit.csv`: the best point after an iteration
/// (iteration 0: the start).
#[derive(Debug, Clone, PartialEq)]
pub struct FitRow {
    /// Iteration (0: the start values).
    pub iteration: u64,
    /// Parameter values, in the order of the space.
    pub values: Vec<f64>,
    /// Distance at those values.
    pub distance: f64,
}

/// What a fit found.
#[derive(Debug, Clone)]
pub struct FitOutcome {
    /// The trace, iteration 0 first; the distance never increases.
    pub rows: Vec<FitRow>,
    /// The targets left out of the distance because they do not apply at
    /// the start (id and why).
    pub left_out: Vec<(String, String)>,
    /// Simulations run.
    pub evaluations: u64,
}

impl FitOutcome {
    /// The best values found.
    pub fn best(&self) -> &FitRow {
        self.rows.last().expect("a fit has its start row")
    }
}

/// Which targets count: those that apply at the start point.
fn included(rows: &[CalibrationRow]) -> Vec<bool> {
    rows.iter().map(|r| r.not_applicable.is_none()).collect()
}

/// The distance over the included targets; a target that has no simulated
/// value at this point makes it infinite.
fn distance_over(rows: &[CalibrationRow], included: &[bool]) -> f64 {
    rows.iter()
        .zip(included)
        .filter(|(_, &inc)| inc)
        .map(|(r, _)| standardised_square(r))
        .sum()
}

/// The fit's objective: parameter values -> simulated cohort -> distance.
struct Objective<'a> {
    space: &'a FitSpace,
    targets: &'a Targets,
    included: Vec<bool>,
    /// The first simulation error: the search stops at the next iteration.
    error: Rc<RefCell<Option<Error>>>,
    evaluations: Rc<Cell<u64>>,
}

impl Objective<'_> {
    /// The distance at `values`. A point the scenario checks refuse (a
    /// combination of values no scenario may have) is infinitely far.
    fn distance(&self, values: &[f64]) -> f64 {
        if self.error.borrow().is_some() {
            return f64::INFINITY;
        }
        let Ok(study) = self.space.study_at(values) else {
            return f64::INFINITY;
        };
        self.evaluations.set(self.evaluations.get() + 1);
        match study.run(&mut NoRows, &|_| {}) {
            Ok(res) => distance_over(&self.targets.rows(&res, study.scenario()), &self.included),
            Err(e) => {
                *self.error.borrow_mut() = Some(e);
                f64::INFINITY
            }
        }
    }

    fn values(&self, unit: &[f64]) -> Vec<f64> {
        self.space
            .parameters
            .iter()
            .zip(unit)
            .map(|(p, &u)| p.from_unit(u))
            .collect()
    }
}

impl CostFunction for Objective<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, unit: &Vec<f64>) -> std::result::Result<f64, argmin::core::Error> {
        let outside: f64 = unit.iter().map(|&u| (u - u.clamp(0.0, 1.0)).powi(2)).sum();
        Ok(self.distance(&self.values(unit)) + OUTSIDE_PENALTY * outside)
    }
}

/// What the caller of [`fit`] is told of each iteration's best point (the
/// command line prints it as a trace).
pub type OnRow = Box<dyn FnMut(&FitRow) + Send>;

/// Records the best point after every iteration and passes it on; stops
/// the search when a simulation failed.
struct Trace {
    space: FitSpace,
    rows: Rc<RefCell<Vec<FitRow>>>,
    error: Rc<RefCell<Option<Error>>>,
    on_row: OnRow,
}

impl Observe<IterState<Vec<f64>, (), (), (), (), f64>> for Trace {
    fn observe_iter(
        &mut self,
        state: &IterState<Vec<f64>, (), (), (), (), f64>,
        _kv: &KV,
    ) -> std::result::Result<(), argmin::core::Error> {
        if self.error.borrow().is_some() {
            return Err(argmin::core::Error::msg("a simulation failed"));
        }
        let Some(unit) = state.get_best_param() else {
            return Ok(());
        };
        let row = FitRow {
            iteration: state.get_iter() + 1,
            values: self
                .space
                .parameters
                .iter()
                .zip(unit)
                .map(|(p, &u)| p.from_unit(u))
                .collect(),
            distance: state.get_best_cost(),
        };
        (self.on_row)(&row);
        self.rows.borrow_mut().push(row);
        Ok(())
    }
}

/// The header of the printed trace.
pub fn trace_header(space: &FitSpace) -> String {
    let names: Vec<&str> = space.parameters.iter().map(|p| p.path.as_str()).collect();
    format!("iteration  {}  distance", names.join("  "))
}

/// One printed trace line: iteration, parameter values, distance.
pub fn trace_line(row: &FitRow) -> String {
    let values: Vec<String> = row.values.iter().map(|v| format!("{v:.6}")).collect();
    format!(
        "{:>9}  {}  {:.4}",
        row.iteration,
        values.join("  "),
        row.distance
    )
}

/// The first simplex: the start and, per parameter, the start moved a tenth
/// of its range (inwards at the upper end).
fn first_simplex(start: &[f64]) -> Vec<Vec<f64>> {
    let mut simplex = vec![start.to_vec()];
    for i in 0..start.len() {
        let mut v = start.to_vec();
        v[i] += if v[i] + SIMPLEX_STEP <= 1.0 {
            SIMPLEX_STEP
        } else {
            -SIMPLEX_STEP
        };
        simplex.push(v);
    }
    simplex
}

/// Searches the space for the smallest distance to the targets, at most
/// `max_iters` Nelder–Mead iterations, passing each iteration's best point
/// to `on_row` (the start first, as iteration 0). Runs on rayon's current
/// pool; prints nothing. Errors: the start is not a valid scenario, no
/// target applies at the start, or a simulation failed.
pub fn fit(
    space: &FitSpace,
    targets: &Targets,
    max_iters: u64,
    mut on_row: OnRow,
) -> Result<FitOutcome> {
    let start = space.start();
    let start_study = space
        .study_at(&start)
        .map_err(|m| Error::Usage(format!("the start values are not a valid scenario: {m}")))?;
    let res = start_study.run(&mut NoRows, &|_| {})?;
    let rows = targets.rows(&res, start_study.scenario());
    let included = included(&rows);
    if !included.contains(&true) {
        return Err(Error::Usage(
            "no target applies to this scenario at the start values (see `crmo-sim calibrate`): there is nothing to fit".into(),
        ));
    }
    let left_out = rows
        .iter()
        .filter_map(|r| {
            r.not_applicable
                .as_ref()
                .map(|why| (r.target.id.to_string(), why.clone()))
        })
        .collect();
    let first = FitRow {
        iteration: 0,
        values: start.clone(),
        distance: distance_over(&rows, &included),
    };
    on_row(&first);
    let rows = Rc::new(RefCell::new(vec![first]));
    let error = Rc::new(RefCell::new(None));
    let evaluations = Rc::new(Cell::new(1));
    let objective = Objective {
        space,
        targets,
        included,
        error: Rc::clone(&error),
        evaluations: Rc::clone(&evaluations),
    };
    let unit_start: Vec<f64> = space
        .parameters
        .iter()
        .zip(&start)
        .map(|(p, &x)| p.to_unit(x))
        .collect();
    let solver = NelderMead::new(first_simplex(&unit_start))
        .with_sd_tolerance(SD_TOLERANCE)
        .map_err(|e| Error::Usage(format!("cannot set up the search: {e}")))?;
    let trace = Trace {
        space: space.clone(),
        rows: Rc::clone(&rows),
        error: Rc::clone(&error),
        on_row,
    };
    let searched = Executor::new(objective, solver)
        .configure(|state| state.max_iters(max_iters))
        .add_observer(trace, ObserverMode::Always)
        .run();
    if let Some(e) = error.borrow_mut().take() {
        return Err(e);
    }
    searched.map_err(|e| Error::Usage(format!("the search failed: {e}")))?;
    let rows = rows.borrow().clone();
    Ok(FitOutcome {
        rows,
        left_out,
        evaluations: evaluations.get(),
    })
}
