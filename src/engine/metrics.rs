//! The per-patient metrics summarised in `summary.csv`: each turns one
//! patient's [`Outcome`] into an observation, estimated as `sum(y) / sum(x)`
//! over the patients it applies to (a mean when x = 1, a share when y is
//! 0/1, a rate or share-of-lesions when x varies).
//!
//! The list is code, walked by a [`Visit`]or in output order ([`visit`]):
//! once per study to describe it ([`metrics_for`], `metrics.csv`), and once
//! per patient and arm to tally it, where every observation is plain inlined
//! code instead of one indirect call per metric.

use super::patient::{anniversary_index, Outcome, N_CHECKPOINTS};

mod course;
mod natural_history;
#[cfg(test)]
mod tests;

/// A part of the model a scenario can leave inert. A metric that rests on
/// an inert part is not computed: `summary.csv` and `differences.csv`
/// leave its values empty and `metrics.csv` says why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Lesions: none at onset and none later.
    Lesions,
    /// Fever: never in a flare.
    Fever,
    /// Vertebral fractures: never (no risk per flare, or no lesions).
    Fractures,
    /// Associated conditions: none at onset and none later.
    Conditions,
    /// Burnout: the active phase never ends.
    Resolution,
    /// Loss to follow-up: never.
    LossToFollowUp,
    /// Diagnosis: never (nor anything after it: checkpoints, treatment).
    Diagnosis,
}

impl Part {
    const ALL: [Part; 7] = [
        Part::Lesions,
        Part::Fever,
        Part::Fractures,
        Part::Conditions,
        Part::Resolution,
        Part::LossToFollowUp,
        Part::Diagnosis,
    ];

    fn bit(self) -> u8 {
        1 << self as u8
    }

    /// Why a metric resting on this part is not computed (for `metrics.csv`).
    pub fn reason(self) -> &'static str {
        match self {
            Part::Lesions => "not computed: the scenario has no lesions (p_lesion_at_onset, initial_extra_lesions_mean and new_lesions_per_flare are 0)",
            Part::Fever => "not computed: the scenario has no fever (p_fever is 0)",
            Part::Fractures => "not computed: the scenario has no vertebral fractures (p_vertebral_fracture_per_flare is 0, or no lesions)",
            Part::Conditions => "not computed: the scenario has no associated conditions (every p_*_at_onset and *_per_year is 0)",
            Part::Resolution => "not computed: the active phase never ends in the scenario (resolution_median_years is inf)",
            Part::LossToFollowUp => "not computed: the scenario has no loss to follow-up (loss_to_follow_up_per_year is 0)",
            Part::Diagnosis => "not computed: the scenario diagnoses no one (symptomatic_months_to_diagnosis_median is inf and p_early_diagnosis is 0)",
        }
    }
}

/// The parts of the model a scenario leaves inert, as a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Inert(u8);

impl Inert {
    /// No part inert.
    pub const NONE: Inert = Inert(0);

    /// The set with `part` added.
    pub fn with(self, part: Part) -> Self {
        Inert(self.0 | part.bit())
    }

    /// Whether `part` is inert.
    #[inline(always)]
    pub fn has(self, part: Part) -> bool {
        self.0 & part.bit() != 0
    }

    /// The inert parts.
    pub fn parts(self) -> impl Iterator<Item = Part> {
        Part::ALL.into_iter().filter(move |p| self.has(*p))
    }
}

/// How a metric is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Estimator {
    /// Mean of y over patients (x = 1): paired differences apply.
    Mean,
    /// Ratio of sums, e.g. events per patient-year.
    Ratio,
}

/// One metric of `summary.csv`.
#[derive(Clone)]
pub struct Metric {
    /// Name in the `metric` column (units in the name).
    pub name: String,
    /// What it means.
    pub description: String,
    /// How it is estimated.
    pub estimator: Estimator,
    /// Unit of the value (`fraction`, `days`, `flares per patient-year`, ...).
    pub unit: &'static str,
    /// Whom (or what) the value is averaged over: its denominator.
    pub population: &'static str,
    /// Whether `differences.csv` reports a paired difference between arms
    /// (false where the same metric means different things in different
    /// arms, e.g. ladder positions that hold different drugs).
    pub paired: bool,
    /// The inert part of the model this metric rests on, when the scenario
    /// leaves it inert: the metric is then not computed.
    pub inert: Option<Part>,
}

impl std::fmt::Debug for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl Metric {
    /// The per-patient quantity whose paired difference `differences.csv`
    /// reports, or None when the metric has no meaningful paired difference.
    pub fn paired_quantity(&self) -> Option<&'static str> {
        match (self.paired, self.estimator) {
            (false, _) => None,
            (true, Estimator::Mean) => Some("patient value"),
            (true, Estimator::Ratio) => Some("patient rate"),
        }
    }
}

/// One patient's value of a mean metric. Whole values are kept whole so
/// that the tally adds them without rounding (they are exact on the
/// fixed-point grid); [`Value::as_f64`] is the value itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Value {
    /// A yes/no value: 1 or 0 (a share).
    Flag(bool),
    /// A count.
    Count(u32),
    /// Any other value.
    Real(f64),
}

impl Value {
    /// The value as a number.
    #[inline(always)]
    pub(super) fn as_f64(self) -> f64 {
        match self {
            Value::Flag(b) => f64::from(u8::from(b)),
            Value::Count(k) => f64::from(k),
            Value::Real(y) => y,
        }
    }

    /// The value on the fixed-point grid of the accumulators: whole values
    /// are put there without a float conversion (the same integer).
    #[inline(always)]
    pub(super) fn fixed(self) -> i64 {
        match self {
            Value::Flag(b) => super::accum::fixed_whole(u32::from(b)),
            Value::Count(k) => super::accum::fixed_whole(k),
            Value::Real(y) => super::accum::fixed(y),
        }
    }
}

/// What `metrics.csv` says of a metric besides its estimator and pairing.
pub(super) struct About {
    name: String,
    description: String,
    unit: &'static str,
    population: &'static str,
}

/// Walks the metric list in output order (see [`visit`]).
pub(super) trait Visit {
    /// The next metric (or group of [`Visit::means`]) rests on `part`, which
    /// the scenario leaves inert: it is not computed.
    fn inert(&mut self, _part: Part) {}

    /// A mean of `value` over the patients for whom it is Some; `paired`:
    /// whether paired differences between arms mean something.
    fn mean(
        &mut self,
        paired: bool,
        about: impl FnOnce() -> About,
        value: impl FnOnce(&Outcome) -> Option<Value>,
    );

    /// `N` means in a row whose values are observed together (e.g. one
    /// response at several levels); `about(k)` describes the k-th.
    fn means<const N: usize>(
        &mut self,
        paired: bool,
        about: impl Fn(usize) -> About,
        values: impl FnOnce(&Outcome) -> [Option<Value>; N],
    );

    /// A ratio of the sums of `(y, x)` over the patients for whom it is Some
    /// (paired differences compare the patients' own rates `y / x`).
    fn ratio(
        &mut self,
        about: impl FnOnce() -> About,
        observation: impl FnOnce(&Outcome) -> Option<(Value, Value)>,
    );

    /// The mean of `what` at anniversary `year` of diagnosis over the
    /// patients observed then (paired): a [`Visit::mean`], which a visitor
    /// may instead take up with the other metrics of the same checkpoint.
    #[inline(always)]
    fn yearly(&mut self, what: Yearly, year: usize, about: impl FnOnce() -> About) {
        let i = anniversary_index(year);
        self.mean(PAIRED, about, |o| what.value(o, i));
    }
}

/// What a metric observes at each anniversary of diagnosis: every such
/// metric is observed for the patients still observed at the checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Yearly {
    /// Not in a flare.
    Remission,
    /// Active symptomatic lesions.
    SymptomaticLesions,
    /// Active lesions that imaging has seen.
    SeenLesions,
    /// The disease activity score.
    Activity,
    /// A disease activity score of 4 or more.
    HighActivity,
}

impl Yearly {
    /// Every kind, in the order of [`Yearly::slot`].
    pub(super) const ALL: [Yearly; 5] = [
        Yearly::Remission,
        Yearly::SymptomaticLesions,
        Yearly::SeenLesions,
        Yearly::Activity,
        Yearly::HighActivity,
    ];

    /// The position of this kind in [`Yearly::ALL`].
    pub(super) fn slot(self) -> usize {
        self as usize
    }

    /// The observation at checkpoint `i` (None: not observed then).
    #[inline(always)]
    pub(super) fn value(self, o: &Outcome, i: usize) -> Option<Value> {
        let c = &o.checkpoints;
        match self {
            Yearly::Remission => remission_at(o, i),
            Yearly::SymptomaticLesions => {
                at_checkpoint(o, i, Value::Count(c.symptomatic_lesions[i].into()))
            }
            Yearly::SeenLesions => at_checkpoint(o, i, Value::Count(c.seen_lesions[i].into())),
            Yearly::Activity => at_checkpoint(o, i, Value::Real(f64::from(c.activity[i]))),
            Yearly::HighActivity => at_checkpoint(o, i, Value::Flag(c.activity[i] >= 4.0)),
        }
    }
}

/// Paired differences between arms mean something.
pub(super) const PAIRED: bool = true;
/// Paired differences are not reported.
const UNPAIRED: bool = false;

const FRACTION: &str = "fraction";
const ALL: &str = "all patients";
const DIAGNOSED: &str = "diagnosed patients";
const AT_CHECKPOINT: &str = "diagnosed patients still observed at the time point";

fn about(
    name: impl Into<String>,
    description: impl Into<String>,
    unit: &'static str,
    population: &'static str,
) -> About {
    About {
        name: name.into(),
        description: description.into(),
        unit,
        population,
    }
}

fn flag(b: bool) -> Option<Value> {
    Some(Value::Flag(b))
}

fn count(k: u32) -> Option<Value> {
    Some(Value::Count(k))
}

fn real(y: f64) -> Option<Value> {
    Some(Value::Real(y))
}

/// `value` for diagnosed patients.
fn diagnosed(o: &Outcome, value: Value) -> Option<Value> {
    o.diagnosis.map(|_| value)
}

/// What decides a scenario's metric list besides the fixed part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricLayout {
    /// Anniversaries after diagnosis with checkpoint metrics.
    years: usize,
    /// Names of the drugs in the drug table.
    drugs: Vec<String>,
    /// Most steps of any arm's ladder (0: no treated arm).
    max_steps: usize,
    /// Costs and QALYs (with `[economics]`).
    economics: bool,
    /// The parts of the model the scenario leaves inert.
    inert: Inert,
}

impl MetricLayout {
    /// The layout of a scenario of `horizon_years` with `drugs` and ladders
    /// of at most `max_steps` steps.
    pub fn new(horizon_years: f64, drugs: &[String], max_steps: usize) -> Self {
        let years = (horizon_years.ceil() as usize)
            .saturating_sub(1)
            .min(N_CHECKPOINTS - 1);
        MetricLayout {
            years,
            drugs: drugs.to_vec(),
            max_steps,
            economics: false,
            inert: Inert::NONE,
        }
    }

    /// The layout in which the metrics resting on `inert` parts are not computed.
    pub fn with_inert(mut self, inert: Inert) -> Self {
        self.inert = inert;
        self
    }

    /// Tells `v` that the next metric rests on `part`, if it is inert.
    #[inline(always)]
    pub(super) fn rests_on<V: Visit>(&self, v: &mut V, part: Part) {
        if self.inert.has(part) {
            v.inert(part);
        }
    }

    /// The layout with (or without) the economic metrics.
    pub fn with_economics(mut self, economics: bool) -> Self {
        self.economics = economics;
        self
    }
}

/// Every metric of a scenario: natural history, outcomes after diagnosis at
/// 6/12/24 months and at each anniversary within `horizon_years`, and, when
/// `drugs`/`max_steps` are not empty, treatment outcomes.
pub fn metrics_for(horizon_years: f64, drugs: &[String], max_steps: usize) -> Vec<Metric> {
    metrics_of(&MetricLayout::new(horizon_years, drugs, max_steps))
}

/// Every metric of `layout`, in output order.
pub fn metrics_of(layout: &MetricLayout) -> Vec<Metric> {
    let mut list = Describe(Vec::new(), None);
    visit(&mut list, layout);
    list.0
}

/// The metric list as [`Metric`]s.
struct Describe(Vec<Metric>, Option<Part>);

impl Describe {
    fn push(&mut self, about: About, estimator: Estimator, paired: bool, inert: Option<Part>) {
        self.0.push(Metric {
            name: about.name,
            description: about.description,
            estimator,
            unit: about.unit,
            population: about.population,
            paired,
            inert,
        });
    }
}

impl Visit for Describe {
    fn inert(&mut self, part: Part) {
        self.1 = Some(part);
    }

    fn mean(
        &mut self,
        paired: bool,
        about: impl FnOnce() -> About,
        _: impl FnOnce(&Outcome) -> Option<Value>,
    ) {
        let inert = self.1.take();
        self.push(about(), Estimator::Mean, paired, inert);
    }

    fn means<const N: usize>(
        &mut self,
        paired: bool,
        about: impl Fn(usize) -> About,
        _: impl FnOnce(&Outcome) -> [Option<Value>; N],
    ) {
        let inert = self.1.take();
        for k in 0..N {
            self.push(about(k), Estimator::Mean, paired, inert);
        }
    }

    fn ratio(
        &mut self,
        about: impl FnOnce() -> About,
        _: impl FnOnce(&Outcome) -> Option<(Value, Value)>,
    ) {
        let inert = self.1.take();
        self.push(about(), Estimator::Ratio, PAIRED, inert);
    }
}

/// How many metrics every list has, whatever the layout (the natural-history
/// and course metrics and the first two after diagnosis come before
/// anything the layout repeats): their indexes are known when tallying.
pub(super) const LEADING: usize = 39;

/// Walks every metric of `layout` in output order.
#[inline(always)]
pub(super) fn visit<V: Visit>(v: &mut V, layout: &MetricLayout) {
    natural_history::natural_history(v, layout);
    course::course(v, layout);
    // Everything from here on but the economics is observed after diagnosis.
    let mut after_dx = RestsOn {
        v: &mut *v,
        layout,
        part: Part::Diagnosis,
    };
    after_diagnosis(&mut after_dx, layout);
    course::activity(&mut after_dx, layout.years);
    if layout.max_steps > 0 {
        // Treatment starts at diagnosis.
        treatment(&mut after_dx, &layout.drugs, layout.max_steps);
        course::course_treatment(&mut after_dx, &layout.drugs);
    }
    if layout.economics {
        economics(v);
    }
}

/// A visitor through which every metric rests on `part` (besides any
/// part the metric rests on itself).
struct RestsOn<'a, V> {
    v: &'a mut V,
    layout: &'a MetricLayout,
    part: Part,
}

impl<V: Visit> Visit for RestsOn<'_, V> {
    #[inline(always)]
    fn inert(&mut self, part: Part) {
        self.v.inert(part);
    }

    #[inline(always)]
    fn mean(
        &mut self,
        paired: bool,
        about: impl FnOnce() -> About,
        value: impl FnOnce(&Outcome) -> Option<Value>,
    ) {
        self.layout.rests_on(self.v, self.part);
        self.v.mean(paired, about, value);
    }

    #[inline(always)]
    fn means<const N: usize>(
        &mut self,
        paired: bool,
        about: impl Fn(usize) -> About,
        values: impl FnOnce(&Outcome) -> [Option<Value>; N],
    ) {
        self.layout.rests_on(self.v, self.part);
        self.v.means(paired, about, values);
    }

    #[inline(always)]
    fn ratio(
        &mut self,
        about: impl FnOnce() -> About,
        observation: impl FnOnce(&Outcome) -> Option<(Value, Value)>,
    ) {
        self.layout.rests_on(self.v, self.part);
        self.v.ratio(about, observation);
    }

    #[inline(always)]
    fn yearly(&mut self, what: Yearly, year: usize, about: impl FnOnce() -> About) {
        self.layout.rests_on(self.v, self.part);
        self.v.yearly(what, year, about);
    }
}

/// Costs and QALYs per patient ([`super::accrual`]), discounted and not,
/// and the discounted costs by category.
#[inline(always)]
fn economics<V: Visit>(v: &mut V) {
    const PER_PATIENT: &str = "all patients";
    v.mean(
        PAIRED,
        || {
            about(
                "costs_per_patient",
                "mean discounted costs per patient from onset while observed, all categories",
                "currency units",
                PER_PATIENT,
            )
        },
        |o| real(o.economics.total_costs()),
    );
    v.mean(
        PAIRED,
        || {
            about(
                "qalys_per_patient",
                "mean discounted quality-adjusted life years per patient from onset while observed",
                "QALYs",
                PER_PATIENT,
            )
        },
        |o| real(o.economics.qalys),
    );
    v.mean(
        PAIRED,
        || {
            about(
                "costs_undiscounted_per_patient",
                "mean undiscounted costs per patient from onset while observed",
                "currency units",
                PER_PATIENT,
            )
        },
        |o| real(o.economics.costs_undiscounted),
    );
    v.mean(
        PAIRED,
        || about("qalys_undiscounted_per_patient", "mean undiscounted quality-adjusted life years per patient from onset while observed", "QALYs", PER_PATIENT),
        |o| real(o.economics.qalys_undiscounted),
    );
    for (k, category) in super::accrual::COST_CATEGORIES.iter().enumerate() {
        v.mean(
            PAIRED,
            || {
                about(
                    format!("costs_{category}_per_patient"),
                    format!(
                        "mean discounted costs of {} per patient",
                        category.replace('_', " ")
                    ),
                    "currency units",
                    PER_PATIENT,
                )
            },
            |o| real(o.economics.costs[k]),
        );
    }
}

/// Name of the median diagnostic delay row (estimated from a histogram).
pub const MEDIAN_DELAY: &str = "diagnostic_delay_median_days";
/// Name of the median active period row (estimated from a histogram), months (C9).
pub const MEDIAN_ACTIVE_PERIOD: &str = "active_period_median_months";
/// Unit, population and definition of [`MEDIAN_ACTIVE_PERIOD`] (for `metrics.csv`).
pub const MEDIAN_ACTIVE_PERIOD_DEFINITION: (&str, &str, &str) = (
    "months",
    "all patients",
    "median active period: onset to the end of the last flare within observation (C9), from a histogram of whole days",
);
/// Unit, population and definition of [`MEDIAN_DELAY`] (for `metrics.csv`).
pub const MEDIAN_DELAY_DEFINITION: (&str, &str, &str) = (
    "days",
    "diagnosed patients",
    "median time from onset to diagnosis, from a histogram of whole days; its interval comes from the replicates (or from the histogram with one replicate)",
);

/// Whether the patient is out of a flare at checkpoint `i` (None: not observed then).
fn remission_at(o: &Outcome, i: usize) -> Option<Value> {
    match o.checkpoints.state[i] {
        0 => None,
        s => flag(s == 2),
    }
}

/// `value` if the patient is observed at checkpoint `i`.
fn at_checkpoint(o: &Outcome, i: usize, value: Value) -> Option<Value> {
    (o.checkpoints.state[i] != 0).then_some(value)
}

/// Remission and lesion counts at checkpoints after diagnosis.
#[inline(always)]
fn after_diagnosis<V: Visit>(v: &mut V, layout: &MetricLayout) {
    let years = layout.years;
    v.mean(
        PAIRED,
        || {
            about(
                "ever_relapsed_after_diagnosis_frac",
                "share with a flare starting after a remission that began after diagnosis",
                FRACTION,
                DIAGNOSED,
            )
        },
        |o| diagnosed(o, Value::Flag(o.first_relapse_after_dx_day.is_some())),
    );
    v.mean(
        PAIRED,
        || {
            about(
                "remission_6_months_frac",
                "share not in a flare 6 months after diagnosis",
                FRACTION,
                AT_CHECKPOINT,
            )
        },
        |o| remission_at(o, 0),
    );
    // Exclusive ranges: `..=` is slower to iterate, and this runs per patient.
    for y in 1..years + 1 {
        v.yearly(Yearly::Remission, y, || {
            let months = 12 * y;
            about(
                format!("remission_{months}_months_frac"),
                format!("share not in a flare {months} months after diagnosis"),
                FRACTION,
                AT_CHECKPOINT,
            )
        });
    }
    for y in 1..years + 1 {
        layout.rests_on(v, Part::Lesions);
        v.yearly(Yearly::SymptomaticLesions, y, || {
            about(
                format!("active_symptomatic_lesions_year_{y}_mean"),
                format!("mean active symptomatic lesions {y} year(s) after diagnosis"),
                "lesions",
                AT_CHECKPOINT,
            )
        });
        layout.rests_on(v, Part::Lesions);
        v.yearly(Yearly::SeenLesions, y, || {
            about(
                format!("active_seen_lesions_year_{y}_mean"),
                format!("mean active lesions that imaging has seen, {y} year(s) after diagnosis"),
                "lesions",
                AT_CHECKPOINT,
            )
        });
    }
}

/// The metrics of treated arms.
#[inline(always)]
fn treatment<V: Visit>(v: &mut V, drugs: &[String], max_steps: usize) {
    v.mean(
        PAIRED,
        || {
            about(
                "treated_days_mean",
                "mean days on a treatment step",
                "days",
                DIAGNOSED,
            )
        },
        |o| diagnosed(o, Value::Real(o.treatment.treated_days)),
    );
    for (d, name) in drugs.iter().enumerate() {
        v.mean(
            PAIRED,
            || {
                about(
                    format!("received_{name}_frac"),
                    format!("share given {name} at least once"),
                    FRACTION,
                    DIAGNOSED,
                )
            },
            |o| diagnosed(o, Value::Flag(o.treatment.drug_days[d] > 0.0)),
        );
        v.mean(
            PAIRED,
            || about(
                format!("days_on_{name}_mean"),
                format!("mean days exposed to {name} (a drug given in courses counts its infusion days only)"),
                "days",
                DIAGNOSED,
            ),
            |o| diagnosed(o, Value::Real(o.treatment.drug_days[d])),
        );
    }
    for k in 1..=max_steps {
        v.mean(
            UNPAIRED,
            || about(
                format!("reached_step_{k}_frac"),
                format!("share who reached ladder step {k} (steps are positions in each arm's own ladder, so differences.csv compares drugs through received_<drug>_frac instead)"),
                FRACTION,
                DIAGNOSED,
            ),
            |o| diagnosed(o, Value::Flag(usize::from(o.treatment.steps_reached) >= k)),
        );
    }
    v.mean(
        PAIRED,
        || {
            about(
                "adverse_events_per_patient",
                "mean drugs stopped for an adverse event",
                "drug stops",
                DIAGNOSED,
            )
        },
        |o| diagnosed(o, Value::Count(o.treatment.adverse_events)),
    );
    v.mean(
        PAIRED,
        || {
            about(
                "adverse_event_frac",
                "share with at least one drug stopped for an adverse event",
                FRACTION,
                DIAGNOSED,
            )
        },
        |o| diagnosed(o, Value::Flag(o.treatment.adverse_events > 0)),
    );
}
