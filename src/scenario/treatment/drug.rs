//! The fields of one drug, declared once: each with its type (which sets the
//! range a scenario may give it), what it means, and its value in a drug
//! without effect. From this one list come the `[drugs.NAME]` table, the
//! values of one replicate and how they are drawn, the neutral drug, and the
//! fields by name that `check` prints and `calibrate --fit` searches.

use rand::Rng;
use serde::Deserialize;

use super::super::dist::{
    CourseDays, CourseWeeks, Courses, Factor, Kind, NonNegative, Param, PerYear, Prob, Ratio,
    WeeksOrZero,
};

/// One field of a drug, as declared.
#[derive(Debug, Clone, Copy)]
pub struct DrugField {
    /// Name in `[drugs.NAME]`.
    pub name: &'static str,
    /// What it means, with its unit.
    pub doc: &'static str,
    /// Its value in a drug without effect (the base of drugs that are not
    /// in the catalogue).
    pub neutral: f64,
}

/// A field's value for one replicate: the scenario's, else the base's (the
/// catalogue entry or the neutral drug), drawn once when it is a
/// distribution and then handed to `record`.
fn resolve<K: Kind, R: Rng + ?Sized>(
    field: &'static str,
    written: Option<&Param<K>>,
    base: Option<&Param<K>>,
    rng: &mut R,
    record: &mut dyn FnMut(&'static str, f64, String),
) -> f64 {
    let Some(p) = written.or(base) else {
        return 0.0;
    };
    let v = p.draw(rng);
    if p.is_random() {
        record(field, v, p.to_string());
    }
    v
}

macro_rules! drug_fields {
    (
        $( $(#[doc = $doc:literal])+ $name:ident : $kind:ty = $neutral:expr; )*
        costs { $( $(#[doc = $cost_doc:literal])+ $cost:ident : $cost_kind:ty; )* }
    ) => {
        /// `[drugs.NAME]`: fields of one drug; any left out keep the built-in value
        /// (catalogue drugs) or the neutral value (new drugs).
        #[derive(Debug, Clone, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct DrugSpec {
            $( $(#[doc = $doc])+ pub $name: Option<Param<$kind>>, )*
            $( $(#[doc = $cost_doc])+ pub $cost: Option<Param<$cost_kind>>, )*
        }

        /// The values of one drug for one replicate.
        #[derive(Debug, Clone, PartialEq)]
        pub struct DrugValues {
            $( $(#[doc = $doc])+ pub $name: f64, )*
        }

        /// Every field of [`DrugValues`], in declaration order (the order
        /// of drawing, of `check` and of `calibrate --fit`). Costs are
        /// drawn and listed with `[economics]`.
        pub const DRUG_FIELDS: &[DrugField] = &[ $( DrugField {
            name: stringify!($name),
            doc: concat!($($doc),+),
            neutral: $neutral,
        }, )* ];

        impl DrugSpec {
            /// As [`DrugSpec::draw`]; `record` receives `(field, value)` of every
            /// value drawn from a distribution (for `parameters.csv`).
            pub fn draw_recorded<R: Rng + ?Sized>(
                &self,
                base: &DrugSpec,
                rng: &mut R,
                record: &mut dyn FnMut(&'static str, f64, String),
            ) -> DrugValues {
                DrugValues { $( $name: resolve(
                    stringify!($name),
                    self.$name.as_ref(),
                    base.$name.as_ref(),
                    rng,
                    record,
                ), )* }
            }

            /// A drug without effect, the base of drugs not in the catalogue.
            pub fn neutral() -> Self {
                DrugSpec {
                    $( $name: Some(Param::fixed($neutral)), )*
                    $( $cost: None, )*
                }
            }
        }

        impl DrugValues {
            /// Every value with its field name, in the order of [`DRUG_FIELDS`].
            pub fn by_name(&self) -> [(&'static str, f64); DRUG_FIELD_COUNT] {
                [ $( (stringify!($name), self.$name), )* ]
            }
        }
    };
}

/// How many fields [`DRUG_FIELDS`] declares.
pub const DRUG_FIELD_COUNT: usize = DRUG_FIELDS.len();

drug_fields! {
    /// Probability of response, sporadic CRMO.
    p_response: Prob = 0.0;
    /// Probability of response, Majeed syndrome.
    p_response_majeed: Prob = 0.0;
    /// Weeks from start until the drug acts.
    onset_lag_weeks: WeeksOrZero = 0.0;
    /// Maintenance: multiplier of the relapse hazard while the drug acts, for responders.
    flare_hazard_ratio: Ratio = 1.0;
    /// Induction: multiplier of the symptomatic flare's duration for responders (applied to the remaining part of a running flare too); it does not bring the next flare forward.
    flare_duration_factor: Factor = 1.0;
    /// Multiplier of the new-lesion rate for responders.
    lesion_factor: Ratio = 1.0;
    /// Multiplier of lesion stage durations for responders (< 1 heals faster).
    heal_time_factor: Factor = 1.0;
    /// Share of the (log) effect that non-responders get: 0 none, 1 full.
    partial_effect: Prob = 0.0;
    /// Hazard of stopping for an adverse event, per year on the drug.
    adverse_event_per_year: PerYear = 0.0;
    /// Days per course for drugs given in courses (0: given continuously).
    course_days: CourseDays = 0.0;
    /// Weeks from one course to the next.
    course_every_weeks: CourseWeeks = 12.0;
    /// Courses before the drug is stopped (0: no limit).
    max_courses: Courses = 0.0;
    /// Weeks after which the drug is stopped whatever happens (0: no limit), e.g. a short steroid course.
    max_weeks: WeeksOrZero = 0.0;
    /// Lasting effect of a disease-modifying drug: multiplier of the relapse hazard after a responder stops it (1: none).
    lasting_hazard_ratio: Ratio = 1.0;
    /// Weeks the lasting effect holds after stopping (0: none).
    lasting_weeks: WeeksOrZero = 0.0;
    /// Most courses within any 365.25 days (0: no limit), e.g. a yearly dose limit of a bisphosphonate.
    max_courses_per_year: Courses = 0.0;
    costs {
        /// Cost per day on the drug, from start to stop (used with `[economics]`).
        cost_per_day: NonNegative;
        /// Cost per course of a drug given in courses (used with `[economics]`).
        cost_per_course: NonNegative;
    }
}

impl DrugSpec {
    /// This drug's values for one replicate: each field from the scenario,
    /// else from `base` (the catalogue entry or the neutral drug).
    pub fn draw<R: Rng + ?Sized>(&self, base: &DrugSpec, rng: &mut R) -> DrugValues {
        self.draw_recorded(base, rng, &mut |_, _, _| {})
    }
}

impl DrugField {
    /// What the field means, without the doc comment's leading space.
    pub fn meaning(&self) -> &'static str {
        self.doc.trim()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_neutral_drug_holds_every_declared_neutral_value() {
        use rand::SeedableRng;
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(1);
        let v = DrugSpec::neutral().draw(&DrugSpec::default(), &mut rng);
        for ((name, value), field) in v.by_name().into_iter().zip(DRUG_FIELDS) {
            assert_eq!(name, field.name);
            assert_eq!(value, field.neutral, "{name}");
        }
        assert_eq!(v.flare_hazard_ratio, 1.0);
        assert_eq!(v.course_every_weeks, 12.0);
    }
}
