//! The search space of `calibrate --fit`: the named scenario parameters
//! (dotted paths resolved exactly as `[sweep]` resolves them), their start
//! values (the scenario's, else the default) and bounds (given as
//! `NAME=LO..HI`, else the parameter's allowed range), and the map between
//! parameter values and the unit cube the optimiser searches.
//!
//! The allowed range is asked of the scenario checks themselves: a value is
//! allowed when the scenario with it set passes every check `crmo-sim check`
//! makes, and the ends of the range are found by bisection, so the bounds
//! follow the scenario's validation wherever it is defined.

use toml::Value;

use crate::error::{Error, Result};
use crate::scenario::dist::num;
use crate::scenario::{parse, LoadedScenario};
use crate::study::sweep::{get_path, reason, set_path_real};
use crate::study::Study;

use super::defaults::default_value;

/// Most parameters one fit searches.
pub const MAX_FIT_PARAMETERS: usize = 10;

/// Fields that take whole numbers or are not model parameters.
const NOT_FITTED: [&str; 4] = ["patients", "seed", "replicates", "horizon_years"];

/// One `--fit` argument: a dotted path and optional bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct FitRequest {
    /// Dotted path of the scenario field, as in `[sweep]`.
    pub path: String,
    /// `LO..HI` when given.
    pub bounds: Option<(f64, f64)>,
}

/// Parses `--fit` arguments: `NAME` or `NAME=LO..HI`.
pub fn parse_requests(args: &[String]) -> Result<Vec<FitRequest>> {
    let mut out: Vec<FitRequest> = Vec::new();
    for a in args {
        let r = parse_request(a)?;
        if out.iter().any(|o| o.path == r.path) {
            return Err(Error::Usage(format!(
                "--fit names `{}` twice: name each parameter once",
                r.path
            )));
        }
        out.push(r);
    }
    if out.len() > MAX_FIT_PARAMETERS {
        return Err(Error::Usage(format!(
            "--fit names {} parameters; at most {MAX_FIT_PARAMETERS} are searched at once",
            out.len()
        )));
    }
    Ok(out)
}

fn parse_request(a: &str) -> Result<FitRequest> {
    let usage = |why: String| {
        Error::Usage(format!(
            "--fit {}: {why}; expected NAME or NAME=LO..HI, e.g. --fit natural_history.flare_rate_per_year=1..6",
            crate::scenario::limits::shown(a)
        ))
    };
    let (path, bounds) = match a.split_once('=') {
        None => (a.trim(), None),
        Some((p, b)) => (p.trim(), Some(b.trim())),
    };
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(usage(
            "the name is not a dotted path of a scenario field".into(),
        ));
    }
    if path
        .chars()
        .any(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(usage(
            "a dotted path has letters, digits, '_', '-' and '.' only".into(),
        ));
    }
    let bounds = match bounds {
        None => None,
        Some(b) => {
            let (lo, hi) = b
                .split_once("..")
                .ok_or_else(|| usage(format!("bounds `{b}` are not LO..HI")))?;
            let number = |s: &str| s.trim().parse::<f64>().ok().filter(|x| x.is_finite());
            let (Some(lo), Some(hi)) = (number(lo), number(hi)) else {
                return Err(usage(format!("bounds `{b}` are not two finite numbers")));
            };
            if lo >= hi {
                return Err(usage(format!(
                    "LO = {} must be below HI = {}",
                    num(lo),
                    num(hi)
                )));
            }
            Some((lo, hi))
        }
    };
    Ok(FitRequest {
        path: path.to_string(),
        bounds,
    })
}

/// How a parameter's bounds map onto the optimiser's unit interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Linear: LO -> 0, HI -> 1.
    Linear,
    /// Logarithmic (LO > 0 and HI/LO >= 1000): ln LO -> 0, ln HI -> 1.
    Log,
}

/// One searched parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct FitParameter {
    /// Dotted path.
    pub path: String,
    /// Lower bound of the search (0 for a range open at 0).
    pub lo: f64,
    /// Upper bound of the search.
    pub hi: f64,
    /// Smallest value tried: `lo`, or the smallest allowed value found
    /// above 0 when the allowed range is open at 0.
    pub floor: f64,
    /// The scenario's value (or default), moved into the bounds.
    pub start: f64,
    /// The map onto the unit interval.
    pub scale: Scale,
}

impl FitParameter {
    /// The position of `x` in the unit interval.
    pub fn to_unit(&self, x: f64) -> f64 {
        match self.scale {
            Scale::Linear => (x - self.lo) / (self.hi - self.lo),
            Scale::Log => (x.ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln()),
        }
    }

    /// The value at unit position `u`, clamped into the bounds.
    pub fn from_unit(&self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        let x = match self.scale {
            Scale::Linear => self.lo + u * (self.hi - self.lo),
            Scale::Log => (self.lo.ln() + u * (self.hi.ln() - self.lo.ln())).exp(),
        };
        x.clamp(self.floor, self.hi)
    }

    /// The bounds as messages show them.
    pub fn shown_bounds(&self) -> String {
        let open = self.floor > self.lo;
        format!(
            "{}{}, {}]{}",
            if open { "(" } else { "[" },
            num(self.lo),
            num(self.hi),
            if self.scale == Scale::Log {
                ", searched on a log scale"
            } else {
                ""
            }
        )
    }
}

/// The parameters of a fit and the scenario they are set in.
#[derive(Debug, Clone)]
pub struct FitSpace {
    document: toml::Table,
    origin: String,
    patients: Option<u64>,
    seed: Option<u64>,
    /// The searched parameters, in the order given.
    pub parameters: Vec<FitParameter>,
}

impl FitSpace {
    /// Resolves the requests against a loaded scenario (`patients` and
    /// `seed` are the command line's overrides, applied at every point).
    /// A bad name, bound or start value is refused (exit code 2).
    pub fn new(
        loaded: &LoadedScenario,
        requests: &[FitRequest],
        patients: Option<u64>,
        seed: Option<u64>,
    ) -> Result<Self> {
        let document: toml::Table = toml::from_str(&loaded.text).map_err(|e| Error::Scenario {
            path: loaded.origin.clone(),
            message: e.to_string(),
        })?;
        let mut space = FitSpace {
            document,
            origin: loaded.origin.clone(),
            patients,
            seed,
            parameters: Vec::new(),
        };
        let study = Study::resolve(loaded.clone())?;
        for r in requests {
            let p = space.resolve_parameter(&study, r)?;
            space.parameters.push(p);
        }
        Ok(space)
    }

    /// The start values.
    pub fn start(&self) -> Vec<f64> {
        self.parameters.iter().map(|p| p.start).collect()
    }

    /// The scenario document with `values` set.
    pub fn document_at(&self, values: &[f64]) -> std::result::Result<toml::Table, String> {
        let mut doc = self.document.clone();
        for (p, &v) in self.parameters.iter().zip(values) {
            set_path_real(&mut doc, &p.path, v)?;
        }
        Ok(doc)
    }

    /// The study with `values` set (and the command line's overrides), or
    /// why the scenario checks refuse it.
    pub fn study_at(&self, values: &[f64]) -> std::result::Result<Study, String> {
        let doc = self.document_at(values)?;
        self.study_of(&doc)
    }

    fn study_of(&self, doc: &toml::Table) -> std::result::Result<Study, String> {
        let text = toml::to_string(doc).map_err(|e| e.to_string())?;
        let mut loaded = parse(&text, &self.origin).map_err(|e| reason(&e))?;
        if let Some(n) = self.patients {
            loaded.scenario.patients = n;
        }
        if let Some(s) = self.seed {
            loaded.scenario.seed = s;
        }
        Study::resolve(loaded).map_err(|e| reason(&e))
    }

    /// Why the scenario refuses `v` at `path` (all else at its start), if it does.
    fn refusal(&self, path: &str, v: f64) -> Option<String> {
        let mut doc = self.document.clone();
        if let Err(m) = set_path_real(&mut doc, path, v) {
            return Some(m);
        }
        self.study_of(&doc).err()
    }

    fn resolve_parameter(&self, study: &Study, r: &FitRequest) -> Result<FitParameter> {
        let path = &r.path;
        let refuse = |why: String| Error::Usage(format!("--fit {path}: {why}"));
        if NOT_FITTED.contains(&path.as_str())
            || path.starts_with("output.")
            || path.starts_with("sweep.")
        {
            return Err(refuse(
                "not a model parameter the fit can search (patients, seed, replicates, horizon_years, [output] and [sweep] are not); name a parameter such as natural_history.flare_rate_per_year, drugs.nsaid.p_response or arm.NAME.min_weeks_on_step".into(),
            ));
        }
        let written = get_path(&self.document, path).map_err(&refuse)?;
        let current = match written {
            Some(Value::Integer(i)) => i as f64,
            Some(Value::Float(f)) => f,
            Some(Value::Table(_)) => {
                return Err(refuse(
                    "the scenario draws it from a distribution; the fit searches one fixed value: write a number there first".into(),
                ))
            }
            Some(other) => {
                return Err(refuse(format!(
                    "it is {} in the scenario, not a number",
                    other.type_str()
                )))
            }
            None => default_value(study, path).map_err(&refuse)?,
        };
        if let Some(m) = self.refusal(path, current) {
            return Err(refuse(format!("not a parameter the fit can set: {m}")));
        }
        let (lo, hi, floor) = match r.bounds {
            Some((lo, hi)) => {
                for (end, v) in [("LO", lo), ("HI", hi)] {
                    if let Some(m) = self.refusal(path, v) {
                        return Err(refuse(format!(
                            "{end} = {} is outside the allowed range: {m}",
                            num(v)
                        )));
                    }
                }
                (lo, hi, lo)
            }
            None => self.allowed_range(path, current).map_err(&refuse)?,
        };
        let scale = if lo > 0.0 && hi / lo >= 1000.0 {
            Scale::Log
        } else {
            Scale::Linear
        };
        let mut p = FitParameter {
            path: path.clone(),
            lo,
            hi,
            floor,
            start: current,
            scale,
        };
        p.start = if current.is_finite() {
            current.clamp(floor, hi)
        } else {
            p.from_unit(0.5)
        };
        Ok(p)
    }

    /// The allowed range around `x` (an allowed value): `(lo, hi, floor)`,
    /// where `floor` is the smallest allowed value and `lo` is 0 when the
    /// range is open at 0. Fittable parameters are not negative.
    fn allowed_range(&self, path: &str, x: f64) -> std::result::Result<(f64, f64, f64), String> {
        let ok = |v: f64| self.refusal(path, v).is_none();
        let start = if x.is_finite() { x } else { 1.0 };
        if !ok(start) {
            return Err("give bounds: NAME=LO..HI".into());
        }
        // Upper end: double until refused, then bisect.
        let mut inside = start;
        let mut outside = start.abs().max(1.0) * 2.0;
        while ok(outside) {
            inside = outside;
            outside *= 2.0;
            if outside > 1e300 {
                return Err(
                    "the allowed range has no finite upper end: give bounds, NAME=LO..HI".into(),
                );
            }
        }
        let hi = edge(inside, outside, &ok);
        let (lo, floor) = if ok(0.0) {
            (0.0, 0.0)
        } else {
            let floor = edge(start, 0.0, &ok);
            // A range open at 0 (rates, durations "above 0") searches from 0.
            if floor < 1e-9 * hi {
                (0.0, floor)
            } else {
                (floor, floor)
            }
        };
        Ok((lo, hi, floor))
    }
}

/// The last allowed value between `inside` (allowed) and `outside`
/// (refused), by bisection, rounded to 12 significant digits when that
/// stays allowed.
fn edge(mut inside: f64, mut outside: f64, ok: &dyn Fn(f64) -> bool) -> f64 {
    for _ in 0..200 {
        let mid = 0.5 * (inside + outside);
        if mid == inside || mid == outside {
            break;
        }
        if ok(mid) {
            inside = mid;
        } else {
            outside = mid;
        }
        if (inside - outside).abs() <= 1e-13 * inside.abs().max(outside.abs()) {
            break;
        }
    }
    let tidy: f64 = format!("{inside:.11e}").parse().unwrap_or(inside);
    if ok(tidy) {
        tidy
    } else {
        inside
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(text: &str, args: &[&str]) -> Result<FitSpace> {
        let loaded = parse(text, "t.toml")?;
        let requests = parse_requests(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())?;
        FitSpace::new(&loaded, &requests, None, None)
    }

    #[test]
    fn arguments_parse_with_and_without_bounds() {
        let r = parse_requests(&["a.b=1..2.5".into(), "c.d".into()]).unwrap();
        assert_eq!(r[0].bounds, Some((1.0, 2.5)));
        assert_eq!(r[1].bounds, None);
        for bad in ["a.b=2..1", "a.b=1..x", "a.b=1-2", "a..b", "", "a b"] {
            assert!(parse_requests(&[bad.into()]).is_err(), "{bad}");
        }
        assert!(parse_requests(&["a.b".into(), "a.b=1..2".into()]).is_err());
    }

    #[test]
    fn default_bounds_are_the_allowed_range() {
        let s = space(
            "",
            &[
                "natural_history.flare_rate_per_year",
                "natural_history.p_fever",
                "natural_history.flare_duration_mean_weeks",
            ],
        )
        .unwrap();
        let rate = &s.parameters[0];
        // FlareRate: above 0 and at most 52 per year.
        assert_eq!((rate.lo, rate.hi), (0.0, 52.0));
        assert!(rate.floor > 0.0 && rate.floor < 1e-9);
        assert_eq!(rate.start, 3.0);
        let p = &s.parameters[1];
        assert_eq!(
            (p.lo, p.hi, p.floor, p.scale),
            (0.0, 1.0, 0.0, Scale::Linear)
        );
        // Weeks: 0.001 to 5200, wide enough for a log scale.
        let w = &s.parameters[2];
        assert_eq!((w.lo, w.hi, w.scale), (0.001, 5200.0, Scale::Log));
        assert!((w.from_unit(w.to_unit(12.0)) - 12.0).abs() < 1e-9);
    }

    #[test]
    fn bad_names_and_bounds_are_refused() {
        let e = space("", &["natural_history.flare_rate"]).unwrap_err();
        assert!(e.is_input_error());
        assert!(e.to_string().contains("flare_rate_per_year"), "{e}");
        let e = space("", &["natural_history.p_fever=0.5..1.5"]).unwrap_err();
        assert!(e.to_string().contains("HI = 1.5 is outside"), "{e}");
        let e = space("", &["seed"]).unwrap_err();
        assert!(e.to_string().contains("not a model parameter"), "{e}");
        let e = space(
            "[natural_history]\np_fever = { dist = \"beta\", alpha = 2, beta = 5 }\n",
            &["natural_history.p_fever"],
        )
        .unwrap_err();
        assert!(e.to_string().contains("distribution"), "{e}");
    }

    #[test]
    fn arm_and_drug_fields_start_from_their_values() {
        let text = "[[arm]]\nname = \"a\"\nladder = [\"nsaid\"]\nmin_weeks_on_step = 26\n";
        let s = space(
            text,
            &["arm.a.min_weeks_on_step=0..52", "drugs.nsaid.p_response"],
        )
        .unwrap();
        assert_eq!(s.parameters[0].start, 26.0);
        let catalogue = crate::scenario::treatment::catalogue();
        let nsaid = catalogue.iter().find(|c| c.name == "nsaid").unwrap();
        assert_eq!(
            Some(s.parameters[1].start),
            nsaid.spec.p_response.as_ref().map(|p| p.central())
        );
        // A whole number written in the file takes real values in the fit.
        assert!(s.study_at(&[26.5, 0.5]).is_ok());
        let e = space(text, &["arm.b.min_weeks_on_step"]).unwrap_err();
        assert!(e.to_string().contains("no arm named `b`"), "{e}");
    }
}
