//! State occupancy and mean activity score on a monthly grid of time since
//! diagnosis (`timeseries_from_diagnosis.csv`), accumulated in integers as
//! difference arrays so that chunks, threads and shards merge exactly.

use serde::{Deserialize, Serialize};

use super::accum::{round_nonnegative, GridIndex};
use super::outcome::{Segment, State, N_STATES};
use super::units::DAYS_PER_MONTH;

/// Fixed-point scale of activity-score sums.
pub const ACTIVITY_SCALE: f64 = 1000.0;

/// Monthly occupancy after diagnosis, one grid point per month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FromDiagnosis {
    /// Per state, the difference array of diagnosed patients in it.
    pub states: [Vec<i64>; N_STATES],
    /// Difference array of summed activity scores (fixed point).
    pub activity: Vec<i64>,
}

impl FromDiagnosis {
    /// An empty grid of `months + 1` points (month 0 to `months`).
    pub fn new(months: usize) -> Self {
        let z = || vec![0i64; months + 2];
        Self {
            states: [z(), z(), z(), z()],
            activity: z(),
        }
    }

    /// Number of grid points.
    pub fn points(&self) -> usize {
        self.activity.len() - 1
    }

    /// Adds a diagnosed patient's segments (days since onset, contiguous
    /// from day 0), shifted to time since diagnosis (a chunk of patients adds them to
    /// [`FromDiagnosisCells`] instead, which is cheaper per segment).
    pub fn add(&mut self, segments: &[Segment], dx_day: f64) {
        let mut cells = FromDiagnosisCells::new(self);
        cells.add(segments, dx_day);
        cells.add_to(self);
    }

    /// Adds everything of `other`.
    pub fn merge(&mut self, o: &FromDiagnosis) {
        for (a, b) in self.states.iter_mut().zip(&o.states) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        for (x, y) in self.activity.iter_mut().zip(&o.activity) {
            *x += y;
        }
    }
}

/// One grid point of [`FromDiagnosisCells`].
#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    states: [i64; N_STATES],
    activity: i64,
}

/// The sums of a [`FromDiagnosis`] while segments are added, kept per grid
/// point side by side: a segment touches two cells (one bounds check each)
/// instead of entries of five arrays. [`add_to`] then adds the same
/// integers as adding the segments to the [`FromDiagnosis`].
///
/// [`add_to`]: FromDiagnosisCells::add_to
#[derive(Debug, Clone)]
pub(crate) struct FromDiagnosisCells {
    grid: GridIndex,
    cells: Vec<Cell>,
}

impl FromDiagnosisCells {
    /// Empty cells on the grid of `grid`.
    pub(crate) fn new(grid: &FromDiagnosis) -> Self {
        let cap = grid.points();
        FromDiagnosisCells {
            grid: GridIndex::new(DAYS_PER_MONTH, cap),
            cells: vec![Cell::default(); cap + 1],
        }
    }

    /// Adds a diagnosed patient's segments (days since onset, contiguous
    /// from day 0), shifted to time since diagnosis.
    pub(crate) fn add(&mut self, segments: &[Segment], dx_day: f64) {
        let mut walk = self.walk(dx_day);
        for s in segments {
            walk.add(s);
        }
    }

    /// A walk over the segments of a patient diagnosed on `dx_day`, which
    /// takes them one by one (so that another grid's walk can hand them
    /// on), contiguous from day 0.
    #[inline(always)]
    pub(crate) fn walk(&mut self, dx_day: f64) -> DiagnosedWalk<'_> {
        let grid = self.grid;
        DiagnosedWalk {
            grid,
            // Every index is at most `cap`: slicing once here spares the
            // bounds checks of each access.
            cells: &mut self.cells[..=grid.cap],
            dx_day,
            last: 0,
        }
    }

    /// Adds the sums to `into` (whose grid these cells have).
    pub(crate) fn add_to(&self, into: &mut FromDiagnosis) {
        for (i, cell) in self.cells.iter().enumerate() {
            for (row, v) in into.states.iter_mut().zip(cell.states) {
                row[i] += v;
            }
            into.activity[i] += cell.activity;
        }
    }
}

/// One diagnosed patient's segments going to [`FromDiagnosisCells`], in
/// the order of the course ([`FromDiagnosisCells::walk`]).
pub(crate) struct DiagnosedWalk<'a> {
    grid: GridIndex,
    cells: &'a mut [Cell],
    dx_day: f64,
    /// The index of the previous segment's end after the diagnosis (at
    /// first 0, the diagnosis's).
    last: usize,
}

impl DiagnosedWalk<'_> {
    /// Adds the part of segment `s` (days since onset) after the diagnosis.
    /// The segments being contiguous, the first one to end after the
    /// diagnosis starts at or before it, at index 0, and each later one
    /// where the one before ended: only the end's index is found.
    #[inline(always)]
    pub(crate) fn add(&mut self, s: &Segment) {
        let (grid, dx_day) = (self.grid, self.dx_day);
        if s.end_day <= dx_day {
            return;
        }
        debug_assert!(
            self.last > 0 || s.start_day <= dx_day,
            "contiguous segments"
        );
        // At least 0, as `index_nonnegative` takes it.
        let b = grid.index_nonnegative(s.end_day - dx_day);
        let a = std::mem::replace(&mut self.last, b);
        debug_assert!(a <= b, "segments run forwards");
        // An empty span adds and takes back the same numbers: no test
        // for it. The activity score is 0 outside flares, about half the
        // segments: only a flare's is rounded and added.
        debug_assert!(s.state == State::Active || s.activity == 0.0);
        let state = s.state as usize;
        let cells = &mut *self.cells;
        cells[a].states[state] += 1;
        cells[b].states[state] -= 1;
        if s.state == State::Active {
            let v = round_nonnegative(s.activity * ACTIVITY_SCALE);
            cells[a].activity += v;
            cells[b].activity -= v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_shifted_to_diagnosis() {
        let mut f = FromDiagnosis::new(3);
        let seg = |a: f64, b: f64, state, activity| Segment {
            start_day: a,
            end_day: b,
            state,
            pain: 0.0,
            activity,
        };
        // Diagnosis on day 100, in a flare until day 100 + 1.5 months.
        let dx = 100.0;
        f.add(
            &[
                seg(0.0, dx + 1.5 * DAYS_PER_MONTH, State::Active, 5.0),
                seg(
                    dx + 1.5 * DAYS_PER_MONTH,
                    dx + 10.0 * DAYS_PER_MONTH,
                    State::Remission,
                    0.0,
                ),
            ],
            dx,
        );
        let values = |d: &[i64]| {
            let mut acc = 0;
            d[..d.len() - 1]
                .iter()
                .map(|x| {
                    acc += x;
                    acc
                })
                .collect::<Vec<_>>()
        };
        // Months 0 and 1 in flare, 2 and 3 in remission.
        assert_eq!(values(&f.states[0]), vec![1, 1, 0, 0]);
        assert_eq!(values(&f.states[1]), vec![0, 0, 1, 1]);
        assert_eq!(values(&f.activity), vec![5000, 5000, 0, 0]);
    }
}
