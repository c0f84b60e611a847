//! Weekly state occupancy, pain and drug use over time since onset
//! (`timeseries.csv`), accumulated in integers as difference arrays.

use serde::{Deserialize, Serialize};

use super::super::patient::{Segment, Segments, State, N_STATES};
use super::super::units::ROUNDING_SHIFT;
use super::round_nonnegative;

/// 2^51 grid steps: below it, [`GridIndex::index_nonnegative`] holds.
const FAR_STEPS: f64 = 2_251_799_813_685_248.0;

/// Grid indices of times on a grid of points `step` apart, the last one at
/// index `cap`: `((t / step).ceil().max(0.0) as usize).min(cap)`, without a
/// branch or a float-to-integer conversion.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GridIndex {
    step: f64,
    /// The last index.
    pub(crate) cap: usize,
    /// `cap` as a float.
    last: f64,
}

impl GridIndex {
    /// A grid of `cap + 1` points `step` apart (`cap` below 2^32: a grid
    /// that long would not fit in memory).
    pub(crate) fn new(step: f64, cap: usize) -> Self {
        assert!(cap <= u32::MAX as usize, "a grid of {cap} points");
        GridIndex {
            step,
            cap,
            last: cap as f64,
        }
    }

    /// The index of the first grid point at or after `t` (at most `cap`).
    #[inline(always)]
    pub(crate) fn index(&self, t: f64) -> usize {
        let q = t / self.step;
        // Into [0, cap] with two comparisons that compile to `max` and
        // `min` instructions: NaN and negatives give 0, as in the float formula.
        let q = if q > 0.0 { q } else { 0.0 };
        let q = if q < self.last { q } else { self.last };
        self.ceil_within(q)
    }

    /// [`index`](Self::index) of a time `t` with `0 <= t / step < 2^51`
    /// (a time of any course: its days since onset are never negative,
    /// and a horizon is far below 2^51 steps), which may lie past the last
    /// point: there is nothing to clamp as a float.
    #[inline(always)]
    pub(crate) fn index_nonnegative(&self, t: f64) -> usize {
        let q = t / self.step;
        debug_assert!((0.0..FAR_STEPS).contains(&q), "a time of {t} days");
        self.ceil_within(q)
    }

    /// `ceil(q)`, at most `cap`, for 0 <= q < 2^51.
    #[inline(always)]
    fn ceil_within(&self, q: f64) -> usize {
        // q + 2^52 is q rounded to a whole number r, which the low bits of
        // the sum hold; then ceil(q) = r + (r < q). No float-to-integer
        // conversion is needed.
        let shifted = q + ROUNDING_SHIFT;
        let r = shifted.to_bits() - ROUNDING_SHIFT.to_bits();
        let i = r as usize + usize::from(shifted - ROUNDING_SHIFT < q);
        // Already at most `cap` when q is; said for the compiler, which then
        // drops the bounds checks of arrays sliced to `cap + 1`, and for
        // the times past the last point that `index_nonnegative` takes.
        i.min(self.cap)
    }

    /// The indexes `(a, b)` of the grid points in `[start, end)`, for
    /// contiguous segments: `last` holds the previous segment's end and its
    /// index, which is reused when this segment starts there. Both times
    /// are those of a course, as [`index_nonnegative`](Self::index_nonnegative) takes.
    #[inline(always)]
    pub(crate) fn span_after(
        &self,
        last: &mut (f64, usize),
        start: f64,
        end: f64,
    ) -> (usize, usize) {
        let a = if start == last.0 {
            last.1
        } else {
            self.index_nonnegative(start)
        };
        let b = self.index_nonnegative(end);
        *last = (end, b);
        (a, b)
    }
}

/// Weekly state occupancy and pain, as difference arrays over a time grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occupancy {
    /// Grid step, days.
    pub step_days: u32,
    /// Per state, the difference array of counts.
    pub states: [Vec<i64>; N_STATES],
    /// Difference array of summed pain (fixed point, VAS x 1000).
    pub pain: Vec<i64>,
    /// Difference array of summed squared pain (fixed point squared).
    pub pain_sq: Vec<i128>,
    /// Per drug, the difference array of patients on it.
    pub drugs: Vec<Vec<i64>>,
}

/// Fixed-point scale of pain sums.
pub const PAIN_SCALE: f64 = 1000.0;

impl Occupancy {
    /// An empty grid of `points` points, `step_days` apart, with `drugs` drug rows.
    pub fn new(points: usize, step_days: u32, drugs: usize) -> Self {
        let z = || vec![0i64; points + 1];
        Self {
            step_days,
            states: [z(), z(), z(), z()],
            pain: z(),
            pain_sq: vec![0i128; points + 1],
            drugs: (0..drugs).map(|_| z()).collect(),
        }
    }

    /// Number of grid points.
    pub fn points(&self) -> usize {
        self.pain.len() - 1
    }

    /// Adds one patient's state segments, contiguous from day 0 (a chunk of patients adds them to
    /// [`OccupancyCells`] instead, which is cheaper per segment).
    pub fn add_segments(&mut self, segments: &[Segment]) {
        let mut cells = OccupancyCells::new(self);
        cells.add_segments(segments);
        cells.add_to(self);
    }

    /// Adds one patient's drug intervals.
    pub fn add_drugs(&mut self, intervals: &[(u16, f64, f64)]) {
        let grid = GridIndex::new(f64::from(self.step_days), self.points());
        self.add_drugs_on(grid, intervals);
    }

    /// Adds one patient's drug intervals on `grid`, this occupancy's grid.
    #[inline(always)]
    fn add_drugs_on(&mut self, grid: GridIndex, intervals: &[(u16, f64, f64)]) {
        // The grid indexes `[a, b)` whose times lie in `[start, end)`.
        for &(d, start, end) in intervals {
            let (a, b) = (grid.index(start), grid.index(end));
            if a < b {
                if let Some(row) = self.drugs.get_mut(usize::from(d)) {
                    row[a] += 1;
                    row[b] -= 1;
                }
            }
        }
    }

    /// Adds everything of `other`.
    pub fn merge(&mut self, o: &Occupancy) {
        for (a, b) in self.states.iter_mut().zip(&o.states) {
            add_vec(a, b);
        }
        add_vec(&mut self.pain, &o.pain);
        for (a, b) in self.pain_sq.iter_mut().zip(&o.pain_sq) {
            *a += b;
        }
        for (a, b) in self.drugs.iter_mut().zip(&o.drugs) {
            add_vec(a, b);
        }
    }

    /// Prefix sums of a difference array: the values at each grid point.
    pub fn values<T: Copy + Default + std::ops::AddAssign>(diff: &[T]) -> Vec<T> {
        let mut acc = T::default();
        diff[..diff.len() - 1]
            .iter()
            .map(|d| {
                acc += *d;
                acc
            })
            .collect()
    }
}

fn add_vec(a: &mut [i64], b: &[i64]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

/// What one grid point of [`OccupancyCells`] keeps of the segments added.
pub(crate) trait GridCell: Copy + Default {
    /// Adds segment `s`, which covers the grid points `[a, b)`.
    fn add(cells: &mut [Self], a: usize, b: usize, s: &Segment);
}

/// Adds segment `s` to `cells`, `last` holding the previous segment's end
/// and its index.
#[inline(always)]
fn add_segment<C: GridCell>(
    grid: GridIndex,
    cells: &mut [C],
    last: &mut (f64, usize),
    s: &Segment,
) {
    let (a, b) = grid.span_after(last, s.start_day, s.end_day);
    debug_assert!(a <= b, "segments run forwards");
    C::add(cells, a, b, s);
}

/// One grid point: state counts and pain sums.
#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    states: [i64; N_STATES],
    pain: i64,
    pain_sq: i128,
}

impl GridCell for Cell {
    #[inline(always)]
    fn add(cells: &mut [Self], a: usize, b: usize, s: &Segment) {
        let state = s.state as usize;
        cells[a].states[state] += 1;
        cells[b].states[state] -= 1;
        // Only a flare has pain: about half the segments, those out of a
        // flare, have none to round or add.
        debug_assert!(s.state == State::Active || s.pain == 0.0);
        if s.state == State::Active {
            let p = round_nonnegative(s.pain * PAIN_SCALE);
            let p2 = i128::from(p) * i128::from(p);
            let start = &mut cells[a];
            start.pain += p;
            start.pain_sq += p2;
            let end = &mut cells[b];
            end.pain -= p;
            end.pain_sq -= p2;
        }
    }
}

/// One grid point when every flare has the same pain: state counts only
/// (half a [`Cell`], so the grid stays in the nearest cache).
#[derive(Debug, Clone, Copy, Default)]
struct Counts([i64; N_STATES]);

impl GridCell for Counts {
    #[inline(always)]
    fn add(cells: &mut [Self], a: usize, b: usize, s: &Segment) {
        let state = s.state as usize;
        cells[a].0[state] += 1;
        cells[b].0[state] -= 1;
    }
}

/// One grid point of courses that are only flares and remissions: the
/// flares, the one count a segment changes (a remission segment changes
/// nothing: the remissions at a point are the courses covering it less
/// the flares, which [`Grid::Flares`] finds once, in
/// [`OccupancyCells::add_to`]). A quarter of a [`Counts`].
#[derive(Debug, Clone, Copy, Default)]
struct FlareCount(i64);

impl GridCell for FlareCount {
    #[inline(always)]
    fn add(cells: &mut [Self], a: usize, b: usize, s: &Segment) {
        match s.state {
            State::Active => {
                cells[a].0 += 1;
                cells[b].0 -= 1;
            }
            State::Remission => {}
            State::Resolved | State::Lost => {
                debug_assert!(false, "a course of flares and remissions only")
            }
        }
    }
}

/// The grid points of [`OccupancyCells`], with pain sums or counts only.
#[derive(Debug, Clone)]
enum Grid {
    Sums(Vec<Cell>),
    /// Every flare has this pain (fixed point).
    Counts(Vec<Counts>, i64),
    /// Courses of flares and remissions only, every flare of this pain
    /// (fixed point).
    Flares {
        flares: Vec<FlareCount>,
        /// Difference array of the courses covering each point: +1 where a
        /// course starts, -1 where it ends.
        courses: Vec<i64>,
        pain: i64,
    },
}

/// One patient's segments going into [`OccupancyCells`] as the course
/// closes them, without being stored: the same integers as
/// [`OccupancyCells::add_segments`] of the same segments. Generic over the
/// kind of cell, so which kind the grid holds is decided once per patient,
/// not at every segment.
pub(crate) struct PatientCells<'a, C> {
    grid: GridIndex,
    cells: &'a mut [C],
    /// The pain every flare has (fixed point), checked in debug builds
    /// when the cells count states only.
    fixed_pain: Option<i64>,
    /// The end of the last segment and its index (at first, the course's
    /// start, day 0).
    last: (f64, usize),
}

impl<C> PatientCells<'_, C> {
    /// Checks, in debug builds, that a segment has the pain every flare is
    /// said to have when the cells count states only.
    #[inline(always)]
    fn debug_assert_pain(&self, s: &Segment) {
        if cfg!(debug_assertions) {
            if let Some(pain) = self.fixed_pain {
                debug_assert_fixed_pain(s, pain);
            }
        }
    }
}

impl<C: GridCell> Segments for PatientCells<'_, C> {
    /// An empty segment covers no grid point: its start and end have the
    /// same index, where it adds and takes back the same numbers.
    const TAKES_EMPTY: bool = true;

    #[inline(always)]
    fn push(&mut self, s: Segment) {
        self.debug_assert_pain(&s);
        add_segment(self.grid, self.cells, &mut self.last, &s);
    }

    /// The segment starts where the last one ended, whose index is kept.
    #[inline(always)]
    fn push_next(&mut self, s: Segment) {
        debug_assert_eq!(s.start_day, self.last.0, "contiguous segments");
        self.debug_assert_pain(&s);
        // The course started at day 0 and its segments run forwards.
        let (a, b) = (self.last.1, self.grid.index_nonnegative(s.end_day));
        self.last = (s.end_day, b);
        C::add(self.cells, a, b, &s);
    }
}

/// A patient's course, run with its segments going to a sink as they
/// close: what [`OccupancyCells::run_patient`] runs on the sink its grid
/// needs.
pub(crate) trait PatientCourse {
    /// What the course gives besides its segments.
    type Output;
    /// Runs the course, pushing each segment to `segments`.
    fn run<S: Segments>(self, segments: &mut S) -> Self::Output;
}

/// Checks that a segment has the pain every flare is said to have.
#[inline(always)]
fn debug_assert_fixed_pain(s: &Segment, pain: i64) {
    debug_assert_eq!(
        round_nonnegative(s.pain * PAIN_SCALE),
        if s.state == State::Active { pain } else { 0 },
        "the pain of every flare is the fixed one"
    );
}

/// The state counts and pain sums of an [`Occupancy`] while segments are
/// added, kept per grid point side by side: a segment touches two cells
/// (one bounds check each) instead of entries of six arrays. [`add_to`]
/// then adds the same integers as adding the segments to the [`Occupancy`].
/// When every flare has one pain, the cells keep counts only, and the
/// pain sums are that pain (and its square) times the flare counts, found
/// once in [`add_to`] rather than per segment.
///
/// [`add_to`]: OccupancyCells::add_to
#[derive(Debug, Clone)]
pub(crate) struct OccupancyCells {
    grid: GridIndex,
    cells: Grid,
}

impl OccupancyCells {
    /// Empty cells on the grid of `occ`.
    pub(crate) fn new(occ: &Occupancy) -> Self {
        let cap = occ.points();
        OccupancyCells {
            grid: GridIndex::new(f64::from(occ.step_days), cap),
            cells: Grid::Sums(vec![Cell::default(); cap + 1]),
        }
    }

    /// The cells for segments whose flares all have pain `pain` (VAS; None:
    /// any pain). Segments out of a flare have none.
    pub(crate) fn with_fixed_pain(mut self, pain: Option<f64>) -> Self {
        if let Some(p) = pain {
            let points = self.grid.cap + 1;
            self.cells = Grid::Counts(
                vec![Counts::default(); points],
                round_nonnegative(p * PAIN_SCALE),
            );
        }
        self
    }

    /// The cells for courses that are only flares and remissions, each
    /// running without a gap from its first segment to its last (the flare
    /// kernel's), when every flare has one pain (cells made by
    /// [`with_fixed_pain`](Self::with_fixed_pain) with a pain; others are
    /// returned as they are). They count flares only: what a remission
    /// segment would add, [`add_to`](Self::add_to) finds from the courses.
    pub(crate) fn with_two_states(mut self) -> Self {
        if let Grid::Counts(cells, pain) = &self.cells {
            let points = cells.len();
            self.cells = Grid::Flares {
                flares: vec![FlareCount::default(); points],
                courses: vec![0; points],
                pain: *pain,
            };
        }
        self
    }

    /// Adds one patient's drug intervals to `occ` (whose grid these cells
    /// have), on the grid the cells keep rather than one made per patient.
    pub(crate) fn add_drugs(&self, occ: &mut Occupancy, intervals: &[(u16, f64, f64)]) {
        debug_assert_eq!(occ.points(), self.grid.cap);
        occ.add_drugs_on(self.grid, intervals);
    }

    /// Adds one patient's state segments, contiguous from day 0.
    pub(crate) fn add_segments(&mut self, segments: &[Segment]) {
        self.add_segments_and(segments, |_| {});
    }

    /// Adds one patient's state segments, contiguous from day 0 (each
    /// starts where the one before ended), and hands each to `also` in the
    /// same walk (for another grid of the same segments).
    #[inline(always)]
    pub(crate) fn add_segments_and(&mut self, segments: &[Segment], also: impl FnMut(&Segment)) {
        let grid = self.grid;
        match &mut self.cells {
            Grid::Sums(cells) => add_all(grid, cells, segments, also),
            Grid::Counts(cells, pain) => {
                for s in segments {
                    debug_assert_fixed_pain(s, *pain);
                }
                add_all(grid, cells, segments, also);
            }
            Grid::Flares {
                flares,
                courses,
                pain,
            } => {
                for s in segments {
                    debug_assert_fixed_pain(s, *pain);
                }
                add_all(grid, flares, segments, also);
                if let (Some(first), Some(last)) = (segments.first(), segments.last()) {
                    courses[grid.index(first.start_day)] += 1;
                    courses[grid.index(last.end_day)] -= 1;
                }
            }
        }
    }

    /// Runs one patient's course, its segments added one by one as the
    /// course closes them (see [`PatientCells`]). Not inlined: the course's
    /// loop gets the registers to itself, with the sink in them, and what
    /// the caller inlines does not depend on it.
    #[inline(never)]
    pub(crate) fn run_patient<R: PatientCourse>(&mut self, course: R) -> R::Output {
        let grid = self.grid;
        // Every index is at most `cap`: slicing here spares the bounds
        // checks of each access.
        match &mut self.cells {
            Grid::Sums(cells) => course.run(&mut PatientCells {
                grid,
                cells: &mut cells[..=grid.cap],
                fixed_pain: None,
                last: (0.0, 0),
            }),
            Grid::Counts(cells, pain) => course.run(&mut PatientCells {
                grid,
                cells: &mut cells[..=grid.cap],
                fixed_pain: Some(*pain),
                last: (0.0, 0),
            }),
            Grid::Flares {
                flares,
                courses,
                pain,
            } => {
                let mut sink = PatientCells {
                    grid,
                    cells: &mut flares[..=grid.cap],
                    fixed_pain: Some(*pain),
                    last: (0.0, 0),
                };
                let output = course.run(&mut sink);
                // The course ran from day 0 to the end of its last segment.
                courses[0] += 1;
                courses[sink.last.1] -= 1;
                output
            }
        }
    }

    /// Adds the sums to `occ` (whose grid these cells have).
    pub(crate) fn add_to(&self, occ: &mut Occupancy) {
        match &self.cells {
            Grid::Sums(cells) => {
                for (i, cell) in cells.iter().enumerate() {
                    add_states(occ, i, cell.states);
                    occ.pain[i] += cell.pain;
                    occ.pain_sq[i] += cell.pain_sq;
                }
            }
            Grid::Counts(cells, p) => {
                for (i, cell) in cells.iter().enumerate() {
                    add_states(occ, i, cell.0);
                    // The sums the flare segments would have added one by
                    // one: the same integers.
                    let flares = cell.0[State::Active as usize];
                    occ.pain[i] += p * flares;
                    occ.pain_sq[i] += i128::from(*p) * i128::from(*p) * i128::from(flares);
                }
            }
            Grid::Flares {
                flares,
                courses,
                pain,
            } => {
                for (i, (cell, covered)) in flares.iter().zip(courses).enumerate() {
                    // The same integers as each segment's two counts: a
                    // course is in a flare or in remission at every point
                    // it covers.
                    let flares = cell.0;
                    let mut states = [0; N_STATES];
                    states[State::Active as usize] = flares;
                    states[State::Remission as usize] = covered - flares;
                    add_states(occ, i, states);
                    occ.pain[i] += pain * flares;
                    occ.pain_sq[i] += i128::from(*pain) * i128::from(*pain) * i128::from(flares);
                }
            }
        }
    }
}

/// Adds the state counts of grid point `i`.
fn add_states(occ: &mut Occupancy, i: usize, states: [i64; N_STATES]) {
    for (row, v) in occ.states.iter_mut().zip(states) {
        row[i] += v;
    }
}

/// Adds every segment of one patient to `cells`, handing each to `also`.
#[inline(always)]
fn add_all<C: GridCell>(
    grid: GridIndex,
    cells: &mut [C],
    segments: &[Segment],
    mut also: impl FnMut(&Segment),
) {
    // Every index is at most `cap`: slicing once here spares the bounds
    // checks of each access.
    let cells = &mut cells[..=grid.cap];
    // Each segment starts where the one before ended, at the index found
    // for that end: only the end's index is found. The first starts on
    // day 0, at index 0.
    let mut last = 0;
    let mut last_end = 0.0;
    // A segment between two grid points (a == b) adds and takes back the
    // same numbers: no test for it.
    for s in segments {
        debug_assert_eq!(s.start_day, last_end, "contiguous segments from day 0");
        let b = grid.index_nonnegative(s.end_day);
        debug_assert!(last <= b, "segments run forwards");
        C::add(cells, last, b, s);
        (last, last_end) = (b, s.end_day);
        also(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Courses of flares (all of pain `pain`) and remissions, ending lost
    /// or resolved, some shorter than a grid step, some on grid points.
    fn courses(pain: f64) -> Vec<Vec<Segment>> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64::seed_from_u64(5);
        (0..300)
            .map(|_| {
                let mut day = 0.0;
                let mut segments = Vec::new();
                for k in 0..rng.random_range(1..40) {
                    let length = match rng.random_range(0..4) {
                        0 => 7.0 * f64::from(rng.random_range(1..5)),
                        1 => rng.random::<f64>(),
                        _ => 200.0 * rng.random::<f64>(),
                    };
                    let state = if k % 2 == 0 {
                        State::Active
                    } else {
                        State::Remission
                    };
                    let flare = state == State::Active;
                    segments.push(Segment {
                        start_day: day,
                        end_day: (day + length).min(3650.0),
                        state,
                        pain: if flare { pain } else { 0.0 },
                        activity: if flare { 3.0 } else { 0.0 },
                    });
                    day = (day + length).min(3650.0);
                }
                let last = [State::Lost, State::Resolved][rng.random_range(0..2)];
                segments.push(Segment {
                    start_day: day,
                    end_day: 3650.0,
                    state: last,
                    pain: 0.0,
                    activity: 0.0,
                });
                segments
            })
            .collect()
    }

    /// A course that pushes stored segments.
    struct Replay(Vec<Segment>);

    impl PatientCourse for Replay {
        type Output = ();
        fn run<S: Segments>(self, segments: &mut S) {
            for s in self.0 {
                segments.push(s);
            }
        }
    }

    /// Cells told that every flare has one pain count flares and add the
    /// same integers as cells that add each segment's pain.
    #[test]
    fn a_fixed_pain_gives_the_sums_of_every_segments_pain() {
        for pain in [6.0, 1.0, 10.0, 7.3456] {
            let mut added = Occupancy::new(522, 7, 0);
            let mut counted = added.clone();
            let mut each = OccupancyCells::new(&added);
            let mut fixed = OccupancyCells::new(&counted).with_fixed_pain(Some(pain));
            for course in courses(pain) {
                each.add_segments(&course);
                fixed.add_segments(&course);
            }
            each.add_to(&mut added);
            fixed.add_to(&mut counted);
            assert_eq!(added, counted, "pain {pain}");
            // The same, each segment pushed as a course closes it.
            for fixed_pain in [None, Some(pain)] {
                let mut pushed = Occupancy::new(522, 7, 0);
                let mut cells = OccupancyCells::new(&pushed).with_fixed_pain(fixed_pain);
                for course in courses(pain) {
                    cells.run_patient(Replay(course));
                }
                cells.add_to(&mut pushed);
                assert_eq!(added, pushed, "pain {pain}, pushed");
            }
            assert!(added.pain.iter().any(|&p| p != 0));
        }
    }

    /// A course that pushes stored segments as contiguous ones.
    struct ReplayNext(Vec<Segment>);

    impl PatientCourse for ReplayNext {
        type Output = ();
        fn run<S: Segments>(self, segments: &mut S) {
            for s in self.0 {
                segments.push_next(s);
            }
        }
    }

    /// Cells of courses of flares and remissions only count flares, and
    /// give the same integers as cells that count every segment's state,
    /// whether the segments are pushed (contiguous or not) or added.
    #[test]
    fn two_state_cells_find_the_remissions_from_the_courses() {
        let two_state = |course: Vec<Segment>| -> Vec<Segment> {
            course
                .into_iter()
                .map(|s| match s.state {
                    State::Active | State::Remission => s,
                    _ => Segment {
                        state: State::Remission,
                        ..s
                    },
                })
                .collect()
        };
        for pain in [6.0, 7.3456] {
            let mut counted = Occupancy::new(522, 7, 0);
            let mut cells = OccupancyCells::new(&counted).with_fixed_pain(Some(pain));
            for course in courses(pain) {
                cells.add_segments(&two_state(course));
            }
            cells.add_to(&mut counted);
            for way in 0..3 {
                let mut derived = Occupancy::new(522, 7, 0);
                let mut cells = OccupancyCells::new(&derived)
                    .with_fixed_pain(Some(pain))
                    .with_two_states();
                assert!(matches!(cells.cells, Grid::Flares { .. }));
                for course in courses(pain) {
                    let course = two_state(course);
                    match way {
                        0 => cells.add_segments(&course),
                        1 => cells.run_patient(Replay(course)),
                        _ => cells.run_patient(ReplayNext(course)),
                    }
                }
                cells.add_to(&mut derived);
                assert_eq!(counted, derived, "pain {pain}, way {way}");
            }
            assert!(counted.states[State::Remission as usize]
                .iter()
                .any(|&n| n != 0));
        }
        // Without one pain, the cells add pain sums as before.
        let cells = OccupancyCells::new(&Occupancy::new(5, 7, 0)).with_two_states();
        assert!(matches!(cells.cells, Grid::Sums(_)));
    }

    /// What lets the flare kernel push empty segments without testing
    /// for them: with and without them, the same integers.
    #[test]
    fn an_empty_segment_pushed_changes_nothing() {
        const { assert!(<PatientCells<'_, Counts> as Segments>::TAKES_EMPTY) };
        for fixed_pain in [None, Some(6.0)] {
            let mut without = Occupancy::new(522, 7, 0);
            let mut with = without.clone();
            let mut plain = OccupancyCells::new(&without).with_fixed_pain(fixed_pain);
            let mut padded = OccupancyCells::new(&with).with_fixed_pain(fixed_pain);
            for course in courses(6.0) {
                let mut empties = Vec::new();
                for s in &course {
                    // Empty segments where the course starts, on and off
                    // grid points.
                    for state in [State::Active, State::Remission] {
                        let flare = state == State::Active;
                        empties.push(Segment {
                            start_day: s.start_day,
                            end_day: s.start_day,
                            state,
                            pain: if flare { 6.0 } else { 0.0 },
                            activity: 0.0,
                        });
                    }
                    empties.push(*s);
                }
                plain.run_patient(Replay(course));
                padded.run_patient(Replay(empties));
            }
            plain.add_to(&mut without);
            padded.add_to(&mut with);
            assert_eq!(without, with);
            assert!(without.states[0].iter().any(|&n| n != 0));
        }
    }

    #[test]
    fn occupancy_counts_grid_points_inside_segments() {
        let mut occ = Occupancy::new(5, 7, 0);
        occ.add_segments(&[Segment {
            start_day: 0.0,
            end_day: 14.5,
            state: crate::engine::patient::State::Active,
            pain: 5.0,
            activity: 4.0,
        }]);
        // Grid points 0, 7, 14 lie inside [0, 14.5).
        assert_eq!(Occupancy::values(&occ.states[0]), vec![1, 1, 1, 0, 0]);
        assert_eq!(Occupancy::values(&occ.pain), vec![5000, 5000, 5000, 0, 0]);
    }
}
