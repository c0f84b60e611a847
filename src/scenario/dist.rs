//! Parameter values: a fixed number or a named probability distribution.
//!
//! [`Dist`] is a distribution written in a scenario as an inline table, e.g.
//! `{ dist = "lognormal", median = 3, sdlog = 0.8 }`, with optional truncation
//! bounds `min`/`max`. [`Param<K>`] is a scenario field that is either a plain
//! number or such a table; the marker `K` states which values are allowed
//! (probability, positive, ...) and is checked while deserializing, so a bad
//! value is reported at its own line and column. [`normal`] and [`gamma`]
//! sample the normal, log-normal and gamma as `rand_distr` does, bit for
//! bit, with less work per draw; the engine draws through them too.

use std::fmt;
use std::marker::PhantomData;

use rand::Rng;
use rand_distr::{Beta, Distribution};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

pub mod gamma;
pub mod normal;

/// A named distribution with optional truncation bounds.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum Dist {
    /// Normal with `mean` and standard deviation `sd`.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation (> 0).
        sd: f64,
        /// Lower truncation bound.
        min: Option<f64>,
        /// Upper truncation bound.
        max: Option<f64>,
    },
    /// Log-normal given by its `median` and the standard deviation of the log, `sdlog`.
    Lognormal {
        /// Median (> 0).
        median: f64,
        /// Standard deviation of ln(x) (> 0).
        sdlog: f64,
        /// Lower truncation bound.
        min: Option<f64>,
        /// Upper truncation bound.
        max: Option<f64>,
    },
    /// Gamma given by `mean` and `shape` (scale = mean / shape).
    Gamma {
        /// Mean (> 0).
        mean: f64,
        /// Shape (> 0).
        shape: f64,
        /// Lower truncation bound.
        min: Option<f64>,
        /// Upper truncation bound.
        max: Option<f64>,
    },
    /// Beta on [0, 1] with shape parameters `alpha` and `beta`.
    Beta {
        /// First shape parameter (> 0).
        alpha: f64,
        /// Second shape parameter (> 0).
        beta: f64,
        /// Lower truncation bound.
        min: Option<f64>,
        /// Upper truncation bound.
        max: Option<f64>,
    },
    /// Uniform on [`min`, `max`].
    Uniform {
        /// Lower end.
        min: f64,
        /// Upper end.
        max: f64,
    },
}

/// A number as messages and listings print it: plain for everyday
/// magnitudes, scientific otherwise (`1e-320`, not 320 digits).
pub fn num(x: f64) -> String {
    let x = x + 0.0; // -0.0 prints as 0
    if x == 0.0 || !x.is_finite() || (1e-4..1e15).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// How many rejected draws a truncated distribution tolerates before the draw
/// is clamped into the bounds (only reachable when the bounds hold almost no mass).
const MAX_REJECTIONS: u32 = 10_000;

/// Smallest gamma or beta shape a distribution table may use.
pub const SHAPE_MIN: f64 = 0.01;
/// Largest gamma or beta shape a distribution table may use.
pub const SHAPE_MAX: f64 = 1e6;
/// Largest log-scale spread of a log-normal distribution table.
pub const SDLOG_MAX: f64 = 10.0;

impl Dist {
    /// Checks the distribution's own parameters; returns a message saying what is allowed.
    pub fn validate(&self) -> Result<(), String> {
        let positive = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!(
                    "`{name}` must be a finite number > 0, found {}",
                    num(v)
                ))
            }
        };
        let finite = |name: &str, v: f64| {
            if v.is_finite() {
                Ok(())
            } else {
                Err(format!(
                    "`{name}` must be a finite number, found {}",
                    num(v)
                ))
            }
        };
        // Samplers of extreme shapes underflow or take unbounded time.
        let shape = |name: &str, v: f64| {
            if (SHAPE_MIN..=SHAPE_MAX).contains(&v) {
                Ok(())
            } else {
                Err(format!(
                    "`{name}` = {} is not allowed: expected a shape from {} to {}",
                    num(v),
                    num(SHAPE_MIN),
                    num(SHAPE_MAX)
                ))
            }
        };
        let spread = |name: &str, v: f64| {
            if v > 0.0 && v <= SDLOG_MAX {
                Ok(())
            } else {
                Err(format!(
                    "`{name}` = {} is not allowed: expected a number above 0 and at most {}",
                    num(v),
                    num(SDLOG_MAX)
                ))
            }
        };
        match *self {
            Dist::Normal { mean, sd, .. } => {
                finite("mean", mean)?;
                positive("sd", sd)?;
            }
            Dist::Lognormal { median, sdlog, .. } => {
                positive("median", median)?;
                spread("sdlog", sdlog)?;
            }
            Dist::Gamma { mean, shape: k, .. } => {
                positive("mean", mean)?;
                shape("shape", k)?;
            }
            Dist::Beta { alpha, beta, .. } => {
                shape("alpha", alpha)?;
                shape("beta", beta)?;
            }
            Dist::Uniform { min, max } => {
                finite("min", min)?;
                finite("max", max)?;
            }
        }
        let (lo, hi) = self.bounds();
        if lo.is_nan() || hi.is_nan() {
            return Err("truncation bounds must be numbers".into());
        }
        if lo >= hi {
            return Err(format!(
                "bounds are inverted or empty: min = {} must be below max = {}",
                num(lo),
                num(hi)
            ));
        }
        let (natural_lo, natural_hi) = self.natural_support();
        if lo >= natural_hi || hi <= natural_lo {
            return Err(format!(
                "bounds [{}, {}] lie outside the distribution's support [{}, {}]",
                num(lo),
                num(hi),
                num(natural_lo),
                num(natural_hi)
            ));
        }
        Ok(())
    }

    fn natural_support(&self) -> (f64, f64) {
        match *self {
            Dist::Normal { .. } => (f64::NEG_INFINITY, f64::INFINITY),
            Dist::Lognormal { .. } | Dist::Gamma { .. } => (0.0, f64::INFINITY),
            Dist::Beta { .. } => (0.0, 1.0),
            Dist::Uniform { min, max } => (min, max),
        }
    }

    fn bounds(&self) -> (f64, f64) {
        let (min, max) = match *self {
            Dist::Normal { min, max, .. }
            | Dist::Lognormal { min, max, .. }
            | Dist::Gamma { min, max, .. }
            | Dist::Beta { min, max, .. } => (min, max),
            Dist::Uniform { min, max } => (Some(min), Some(max)),
        };
        (
            min.unwrap_or(f64::NEG_INFINITY),
            max.unwrap_or(f64::INFINITY),
        )
    }

    /// The smallest and largest value a draw can take.
    pub fn support(&self) -> (f64, f64) {
        let (a, b) = self.natural_support();
        let (lo, hi) = self.bounds();
        (a.max(lo), b.min(hi))
    }

    /// The mean of the untruncated distribution (used for printing).
    pub fn untruncated_mean(&self) -> f64 {
        match *self {
            Dist::Normal { mean, .. } | Dist::Gamma { mean, .. } => mean,
            Dist::Lognormal { median, sdlog, .. } => median * (0.5 * sdlog * sdlog).exp(),
            Dist::Beta { alpha, beta, .. } => alpha / (alpha + beta),
            Dist::Uniform { min, max } => 0.5 * (min + max),
        }
    }

    /// Draws one value, honouring the truncation bounds by rejection.
    ///
    /// The distribution must have passed [`Dist::validate`].
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let (lo, hi) = self.support();
        self.sample_in(rng, lo, hi) + 0.0
    }

    /// Draws one value within the truncation bounds and within `[min, max]`
    /// (a parameter's limits), by rejection like [`Dist::sample`].
    pub fn sample_within<R: Rng + ?Sized>(&self, rng: &mut R, min: f64, max: f64) -> f64 {
        let (lo, hi) = self.support();
        self.sample_in(rng, lo.max(min), hi.min(max))
    }

    /// Draws one value in `[lo, hi]` by rejection: the kind is matched
    /// once per value, not once per attempt, and the normal, log-normal
    /// and gamma draw through the samplers of [`normal`] and [`gamma`]
    /// (the values `rand_distr` draws, with less work per draw: an onset
    /// age is drawn for every patient).
    #[inline]
    fn sample_in<R: Rng + ?Sized>(&self, rng: &mut R, lo: f64, hi: f64) -> f64 {
        // Parameters were validated, so construction cannot fail; fall back to
        // the mean rather than panic if it ever did.
        match *self {
            Dist::Normal { mean, sd, .. } if sd.is_finite() => {
                let d = normal::Normal { mean, sd };
                by_rejection(lo, hi, || d.sample(rng))
            }
            Dist::Normal { mean, .. } => by_rejection(lo, hi, || mean),
            Dist::Lognormal { median, sdlog, .. } if sdlog.is_finite() => {
                let d = normal::LogNormal::with_median(median, sdlog);
                by_rejection(lo, hi, || d.sample(rng))
            }
            Dist::Lognormal { median, .. } => by_rejection(lo, hi, || median),
            Dist::Gamma { mean, shape, .. } => match gamma::Gamma::new(shape, mean / shape) {
                Some(d) => by_rejection(lo, hi, || d.sample(rng)),
                None => by_rejection(lo, hi, || mean),
            },
            Dist::Beta { alpha, beta, .. } => match Beta::new(alpha, beta) {
                Ok(d) => by_rejection(lo, hi, || d.sample(rng)),
                Err(_) => by_rejection(lo, hi, || alpha / (alpha + beta)),
            },
            Dist::Uniform { min, max } => {
                by_rejection(lo, hi, || min + (max - min) * rng.random::<f64>())
            }
        }
    }
}

/// The first of `draw`'s values in `[lo, hi]`; after [`MAX_REJECTIONS`]
/// misses, one more value clamped into the bounds.
#[inline(always)]
fn by_rejection(lo: f64, hi: f64, mut draw: impl FnMut() -> f64) -> f64 {
    for _ in 0..MAX_REJECTIONS {
        let x = draw();
        if x >= lo && x <= hi {
            return x;
        }
    }
    draw().clamp(lo, hi)
}

impl fmt::Display for Dist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bounds = |f: &mut fmt::Formatter<'_>, min: Option<f64>, max: Option<f64>| {
            if min.is_some() || max.is_some() {
                write!(
                    f,
                    " truncated to [{}, {}]",
                    min.map_or("-inf".to_string(), num),
                    max.map_or("inf".to_string(), num)
                )
            } else {
                Ok(())
            }
        };
        match *self {
            Dist::Normal { mean, sd, min, max } => {
                write!(f, "normal(mean {}, sd {})", num(mean), num(sd))?;
                bounds(f, min, max)
            }
            Dist::Lognormal {
                median,
                sdlog,
                min,
                max,
            } => {
                write!(f, "lognormal(median {}, sdlog {})", num(median), num(sdlog))?;
                bounds(f, min, max)
            }
            Dist::Gamma {
                mean,
                shape,
                min,
                max,
            } => {
                write!(f, "gamma(mean {}, shape {})", num(mean), num(shape))?;
                bounds(f, min, max)
            }
            Dist::Beta {
                alpha,
                beta,
                min,
                max,
            } => {
                write!(f, "beta({}, {})", num(alpha), num(beta))?;
                bounds(f, min, max)
            }
            Dist::Uniform { min, max } => write!(f, "uniform({}, {})", num(min), num(max)),
        }
    }
}

/// The values a parameter may take; checked while the scenario is read.
///
/// Every kind is a closed range `[MIN, MAX]` (plus `inf` for "never" where
/// allowed). For most kinds the range is a model limit (docs/scenarios.md, "Limits"),
/// not the quantity's natural domain: a distribution table may then reach
/// past it, as long as it stays in the natural domain (>= 0), and its draws
/// are kept inside the range by redrawing, exactly like `min`/`max`.
pub trait Kind {
    /// Words for the allowed range, used in error messages.
    const ALLOWED: &'static str;
    /// Smallest allowed value.
    const MIN: f64;
    /// Largest allowed finite value.
    const MAX: f64;
    /// Whether the range is a model limit that distribution draws are kept
    /// in (true), or the natural domain a distribution must respect (false).
    const LIMIT: bool;
    /// Whether `x` is allowed as a fixed value.
    fn allows(x: f64) -> bool;
}

/// Declares a marker type for a range `[min, max]`; `open_min` makes the
/// lower end exclusive, `inf` also allows infinity (for "never"), and
/// `domain` marks a range that is the quantity's natural domain.
macro_rules! range_kind {
    ($(#[$doc:meta])* $name:ident: $min:literal ..= $max:literal $(, open_min = $open:literal)? $(, inf = $inf:literal)? $(, domain = $domain:literal)?; $allowed:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct $name;
        impl Kind for $name {
            const ALLOWED: &'static str = $allowed;
            const MIN: f64 = $min;
            const MAX: f64 = $max;
            const LIMIT: bool = !(false $(|| $domain)?);
            fn allows(x: f64) -> bool {
                let open_min = false $(|| $open)?;
                let inf = false $(|| $inf)?;
                let above_min = if open_min { x > $min } else { x >= $min };
                (above_min && x <= $max) || (inf && x == f64::INFINITY)
            }
        }
    };
}

range_kind!(
    /// A probability in [0, 1].
    Prob: 0.0 ..= 1.0, domain = true; "a probability between 0 and 1"
);
range_kind!(
    /// A pain score on the 0–10 visual analogue scale.
    Vas: 0.0 ..= 10.0, domain = true; "a pain score between 0 and 10"
);
range_kind!(
    /// A standard deviation of pain, VAS points.
    VasSd: 0.0 ..= 10.0; "a standard deviation of 0 to 10 VAS points"
);
range_kind!(
    /// The flare rate: above 0 and at most weekly.
    FlareRate: 0.0 ..= 52.0, open_min = true; "a rate above 0 and at most 52 per year (weekly)"
);
range_kind!(
    /// A hazard per year of a one-off event, 0 to weekly.
    PerYear: 0.0 ..= 52.0; "a rate from 0 to 52 per year (weekly)"
);
range_kind!(
    /// A mean duration in weeks, from ten minutes to a century.
    Weeks: 0.001 ..= 5200.0; "a number of weeks from 0.001 to 5200"
);
range_kind!(
    /// A mean duration in months, from three days to a century.
    Months: 0.1 ..= 1200.0; "a number of months from 0.1 to 1200"
);
range_kind!(
    /// A time in months that may be `inf` (never).
    MonthsOrNever: 0.1 ..= 1200.0, inf = true; "a number of months from 0.1 to 1200, or inf for never"
);
range_kind!(
    /// How often something is repeated, in months: at most weekly.
    PeriodMonths: 0.25 ..= 1200.0; "a number of months from 0.25 (weekly) to 1200"
);
range_kind!(
    /// A time in years that may be `inf` (never).
    YearsOrNever: 0.01 ..= 1000.0, inf = true; "a number of years from 0.01 to 1000, or inf for never"
);
range_kind!(
    /// A gamma shape (or negative-binomial dispersion).
    Shape: 0.01 ..= 1000.0; "a shape from 0.01 to 1000"
);
range_kind!(
    /// A variance of the mean-1 frailty.
    Variance: 0.0 ..= 10.0; "a variance from 0 (none) to 10"
);
range_kind!(
    /// The log-scale spread of a log-normal.
    SdLog: 0.0 ..= 5.0; "a log-scale spread from 0 to 5"
);
range_kind!(
    /// Mean extra lesions at onset.
    InitialLesions: 0.0 ..= 50.0; "a mean number of lesions from 0 to 50"
);
range_kind!(
    /// Mean new lesions per flare.
    LesionsPerFlare: 0.0 ..= 10.0; "a mean number of lesions from 0 to 10"
);
range_kind!(
    /// A CRP level in mg/l.
    MgPerL: 0.1 ..= 10000.0; "a CRP level from 0.1 to 10000 mg/l"
);
range_kind!(
    /// A treatment multiplier that may switch a process off (0).
    Ratio: 0.0 ..= 100.0; "a multiplier from 0 to 100"
);
range_kind!(
    /// A treatment multiplier of a duration.
    Factor: 0.01 ..= 100.0; "a multiplier from 0.01 to 100"
);
range_kind!(
    /// A number of weeks that may be 0 (a lag, or "no limit").
    WeeksOrZero: 0.0 ..= 5200.0; "a number of weeks from 0 to 5200"
);
range_kind!(
    /// Days per course of a drug given in courses (0: continuous).
    CourseDays: 0.0 ..= 365.0; "a number of days from 0 (given continuously) to 365"
);
range_kind!(
    /// Weeks between courses: at most weekly.
    CourseWeeks: 1.0 ..= 520.0; "a number of weeks from 1 to 520"
);
range_kind!(
    /// A finite number > 0 (a natural domain, for fields without a model limit).
    Positive: 0.0 ..= 1.7976931348623157e308, open_min = true, domain = true; "a finite number greater than 0"
);
range_kind!(
    /// A finite number >= 0 (a natural domain, for fields without a model limit).
    NonNegative: 0.0 ..= 1.7976931348623157e308, domain = true; "a finite number of 0 or more"
);
range_kind!(
    /// Courses before a drug is stopped (0: no limit).
    Courses: 0.0 ..= 5200.0; "a number of courses from 0 (no limit) to 5200"
);

range_kind!(
    /// An annual discount rate, 0 to 20%.
    DiscountRate: 0.0 ..= 0.2, domain = true; "an annual discount rate from 0 to 0.2"
);
range_kind!(
    /// A health-state utility: at most 1 (full health); below 0 is worse than death.
    Utility: -1.0 ..= 1.0, domain = true; "a utility from -1 to 1 (1 = full health)"
);
range_kind!(
    /// A loss of utility or of QALYs, 0 to 1.
    UtilityLoss: 0.0 ..= 1.0, domain = true; "a loss of utility (or QALYs) from 0 to 1"
);
range_kind!(
    /// A loss of utility per pain point (VAS 0-10).
    UtilityPerVas: 0.0 ..= 0.1, domain = true; "a utility loss per VAS point from 0 to 0.1"
);

/// A scenario parameter: a fixed number, or a distribution drawn once per
/// replicate (probabilistic sensitivity analysis).
#[derive(Debug, Clone, PartialEq)]
pub enum Param<K> {
    /// A fixed value.
    Fixed(f64, PhantomData<K>),
    /// A distribution; each replicate draws one value.
    Random(Dist),
}

impl<K: Kind> Param<K> {
    /// A fixed value (used for built-in defaults, which are always allowed).
    pub const fn fixed(x: f64) -> Self {
        Param::Fixed(x, PhantomData)
    }

    /// The value for one replicate: the fixed number, or a draw.
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        // `+ 0.0` turns a -0.0 into 0.0, so a zero multiplier never
        // produces a negative infinity.
        match self {
            Param::Fixed(x, _) => *x + 0.0,
            Param::Random(d) if K::LIMIT => d.sample_within(rng, K::MIN, K::MAX) + 0.0,
            Param::Random(d) => d.sample(rng) + 0.0,
        }
    }

    /// Whether each replicate draws its own value.
    pub fn is_random(&self) -> bool {
        matches!(self, Param::Random(_))
    }

    /// The fixed value, or the mean of the distribution.
    pub fn central(&self) -> f64 {
        match self {
            Param::Fixed(x, _) => *x,
            Param::Random(d) => d.untruncated_mean(),
        }
    }

    /// Checks that every value this parameter can take is allowed by `K`.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Param::Fixed(x, _) if K::allows(*x) => Ok(()),
            Param::Fixed(x, _) => Err(format!(
                "{} is not allowed here: expected {}",
                num(*x),
                K::ALLOWED
            )),
            Param::Random(d) => {
                d.validate()?;
                let (lo, hi) = d.support();
                if K::LIMIT && lo >= 0.0 && lo <= K::MAX && hi >= K::MIN {
                    Ok(())
                } else if K::LIMIT && lo >= 0.0 {
                    Err(format!(
                        "{d} takes values in [{}, {}], outside the allowed range: this parameter must be {}",
                        num(lo),
                        num(hi),
                        K::ALLOWED
                    ))
                } else if !K::LIMIT && lo_hi_allowed::<K>(lo, hi) {
                    Ok(())
                } else {
                    Err(format!(
                        "{d} can take values in [{}, {}], but this parameter must be {}; add `min`/`max` bounds",
                        num(lo),
                        num(hi),
                        K::ALLOWED
                    ))
                }
            }
        }
    }
}

/// Open ends of a support (e.g. a gamma's 0) are allowed when values just
/// inside them are.
fn lo_hi_allowed<K: Kind>(lo: f64, hi: f64) -> bool {
    let inner_lo = if lo.is_finite() {
        lo + 1e-12
    } else {
        -f64::MAX
    };
    let inner_hi = if hi.is_finite() { hi - 1e-12 } else { f64::MAX };
    K::allows(inner_lo) && K::allows(inner_hi) && (lo >= 0.0 || K::allows(lo))
}

impl<K: Kind> fmt::Display for Param<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Param::Fixed(x, _) => write!(f, "{}", num(*x)),
            Param::Random(d) => {
                write!(f, "{d}")?;
                let (lo, hi) = d.support();
                if K::LIMIT && (lo < K::MIN || hi > K::MAX) {
                    write!(f, ", draws kept in [{}, {}]", num(K::MIN), num(K::MAX))?;
                }
                Ok(())
            }
        }
    }
}

impl<'de, K: Kind> Deserialize<'de> for Param<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ParamVisitor<K>(PhantomData<K>);

        impl<'de, K: Kind> Visitor<'de> for ParamVisitor<K> {
            type Value = Param<K>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "{} or a distribution table such as {{ dist = \"normal\", mean = 1, sd = 0.2 }}",
                    K::ALLOWED
                )
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                // -0.0 is 0: a zero multiplier must not become a negative infinity.
                let p = Param::Fixed(v + 0.0, PhantomData);
                p.check().map_err(E::custom)?;
                Ok(p)
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                self.visit_f64(v as f64)
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                self.visit_f64(v as f64)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let dist = Dist::deserialize(de::value::MapAccessDeserializer::new(map))?;
                let p = Param::Random(dist);
                p.check().map_err(de::Error::custom)?;
                Ok(p)
            }
        }

        deserializer.deserialize_any(ParamVisitor(PhantomData))
    }
}

/// Deserializes a [`Dist`] and validates it, so bad bounds keep their location.
pub fn checked_dist<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Dist, D::Error> {
    let d = Dist::deserialize(deserializer)?;
    d.validate().map_err(de::Error::custom)?;
    Ok(d)
}

#[cfg(test)]
mod tests;
