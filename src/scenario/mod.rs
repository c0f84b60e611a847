//! Scenario files: the TOML schema, its defaults (each with its source), and
//! validation. A scenario is read with `deny_unknown_fields` everywhere, and
//! range checks live in the types ([`dist::Param`]), so every error carries
//! the file, line and column; every rule beyond single fields is in
//! [`validate`], which [`parse`] runs. An empty file is a valid scenario.

pub mod differential;
pub mod dist;
pub mod economics;
pub mod limits;
pub mod names;
pub mod params;
pub mod treatment;
pub mod trial;
pub mod validate;

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Deserializer};

pub use dist::{Dist, Param};
pub use params::{NaturalHistory, NaturalHistoryOverrides, NaturalHistoryValues, ParamRow};

use crate::error::{Error, Result};
use dist::{PeriodMonths, Prob};

/// The built-in reference scenario (the text of `scenarios/reference.toml`).
pub const REFERENCE_TOML: &str = include_str!("../../scenarios/reference.toml");

/// A whole scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name, used for the output directory `output/<name>/`. Default: the file name.
    #[serde(default, deserialize_with = "scenario_name")]
    pub name: Option<String>,
    /// Seed of every random stream (0 to 2^63 - 1).
    #[serde(default = "default_seed", deserialize_with = "seed")]
    pub seed: u64,
    /// Virtual patients per replicate (>= 1).
    #[serde(default = "default_patients", deserialize_with = "cohort_size")]
    pub patients: u64,
    /// Simulated years from disease onset (0 < h <= 100).
    #[serde(default = "default_horizon", deserialize_with = "horizon")]
    pub horizon_years: f64,
    /// Replicates; each draws its own values of distribution-valued parameters.
    #[serde(default = "default_replicates", deserialize_with = "replicates")]
    pub replicates: u32,
    /// Who the patients are at onset.
    #[serde(default)]
    pub cohort: Cohort,
    /// The disease course.
    #[serde(default)]
    pub natural_history: NaturalHistory,
    /// Imaging at diagnosis and follow-up.
    #[serde(default)]
    pub imaging: Imaging,
    /// What is written.
    #[serde(default)]
    pub output: OutputOptions,
    /// `[drugs.NAME]`: overrides of the drug catalogue and new drugs.
    #[serde(default)]
    pub drugs: treatment::DrugTable,
    /// `[[arm]]`: treatment strategies compared on the same patients.
    #[serde(default)]
    pub arm: Vec<treatment::ArmSpec>,
    /// The arm every other arm is paired against in `differences.csv`
    /// (default: the first arm); `run --reference-arm` overrides it.
    /// Checked against the arm names by [`validate::reference_arm`].
    #[serde(default)]
    pub reference_arm: Option<toml::Spanned<String>>,
    /// `[sweep]`: one or two parameters by dotted path, each with a list or
    /// range of values, and the `metric` the sweep plot shows; checked and
    /// expanded into grid points by [`crate::study::sweep`].
    #[serde(default)]
    pub sweep: Option<toml::Spanned<SweepTable>>,
    /// `[differential]`: the case mix, criteria and mimic populations that
    /// `crmo-sim criteria` validates the diagnostic criteria against.
    #[serde(default)]
    pub differential: differential::Differential,
    /// `[economics]`: costs, utilities and discounting; without it no
    /// economic outcome is computed or written.
    #[serde(default)]
    pub economics: Option<economics::Economics>,
    /// `[trial]`: the design of `crmo-sim trial` (ignored by the other commands).
    #[serde(default)]
    pub trial: Option<trial::TrialTable>,
}

/// `[sweep]` as written: key (with its place in the file) → value.
pub type SweepTable = std::collections::BTreeMap<toml::Spanned<String>, toml::Spanned<toml::Value>>;

fn default_seed() -> u64 {
    1
}
fn default_patients() -> u64 {
    10_000
}
fn default_horizon() -> f64 {
    10.0
}
fn default_replicates() -> u32 {
    1
}

/// Whether a name can name an output directory, an arm or a drug (no commas, no paths).
pub fn is_valid_name(s: &str) -> bool {
    limits::name_problem(s).is_none()
}

fn scenario_name<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    let s = String::deserialize(d)?;
    match limits::name_problem(&s) {
        None => Ok(Some(s)),
        Some(why) => Err(serde::de::Error::custom(format!(
            "name {} is not allowed (it names the output directory): {why}",
            limits::shown(&s)
        ))),
    }
}

fn seed<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<u64, D::Error> {
    let n = i64::deserialize(d)?;
    u64::try_from(n).map_err(|_| {
        serde::de::Error::custom(format!(
            "seed = {n} is not allowed: expected a whole number from 0 to {}",
            limits::MAX_SEED
        ))
    })
}

fn cohort_size<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<u64, D::Error> {
    let n = i64::deserialize(d)?;
    match u64::try_from(n) {
        Ok(n) if (1..=limits::MAX_PATIENTS).contains(&n) => Ok(n),
        _ => Err(serde::de::Error::custom(format!(
            "patients = {n} is not allowed: expected a whole number from 1 to {}",
            limits::MAX_PATIENTS
        ))),
    }
}

fn horizon<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    let h = NumberLike::deserialize(d)?.0;
    if h > 0.0 && h <= 100.0 {
        Ok(h)
    } else {
        Err(serde::de::Error::custom(format!(
            "horizon_years = {} is not allowed: expected a number of years above 0 and at most 100",
            dist::num(h)
        )))
    }
}

fn replicates<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<u32, D::Error> {
    let n = i64::deserialize(d)?;
    match u32::try_from(n) {
        Ok(n) if (1..=limits::MAX_REPLICATES).contains(&n) => Ok(n),
        _ => Err(serde::de::Error::custom(format!(
            "replicates = {n} is not allowed: expected a whole number from 1 to {}",
            limits::MAX_REPLICATES
        ))),
    }
}

/// Accepts `10` as well as `10.0` where a float is meant.
pub(crate) struct NumberLike(pub(crate) f64);

impl<'de> Deserialize<'de> for NumberLike {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = f64;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<f64, E> {
                Ok(v + 0.0) // -0.0 is 0
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<f64, E> {
                Ok(v as f64)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<f64, E> {
                Ok(v as f64)
            }
        }
        d.deserialize_any(V).map(NumberLike)
    }
}

/// `[cohort]`: the patients at disease onset.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Cohort {
    /// Share of girls. [Borzutzky2012] 0.67, [NPRD2021] 0.63, [Wipff2013] 0.70.
    pub female_frac: Param<Prob>,
    /// Age at onset of sporadic CRMO, years, drawn per patient.
    /// [Borzutzky2012] median 9.6; [Jansson2007] median 10, IQR 7.5-12.
    #[serde(deserialize_with = "dist::checked_dist")]
    pub onset_age_years: Dist,
    /// Share of patients with Majeed syndrome (LPIN2). [Majeed]: < 1 in 1,000,000.
    pub majeed_frac: Param<Prob>,
    /// Age at onset of Majeed syndrome, years, drawn per patient. [Majeed]: first two years.
    #[serde(deserialize_with = "dist::checked_dist")]
    pub majeed_onset_age_years: Dist,
}

impl Default for Cohort {
    fn default() -> Self {
        Self {
            female_frac: Param::fixed(0.65),
            onset_age_years: Dist::Normal {
                mean: 10.0,
                sd: 3.3,
                min: Some(2.0),
                max: Some(18.0),
            },
            majeed_frac: Param::fixed(0.0),
            majeed_onset_age_years: Dist::Uniform {
                min: 0.25,
                max: 2.0,
            },
        }
    }
}

/// Imaging modalities, each with its own sensitivity for active lesions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    /// Whole-body MRI.
    Wbmri,
    /// Bone scintigraphy.
    Scintigraphy,
    /// Plain radiographs.
    Radiograph,
}

/// `[imaging]`: how lesions are seen.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Imaging {
    /// Modality at diagnosis.
    pub at_diagnosis: Modality,
    /// Modality at follow-up.
    pub follow_up: Modality,
    /// Months between follow-up imaging after diagnosis.
    pub follow_up_every_months: Param<PeriodMonths>,
    /// Sensitivity of whole-body MRI for an active lesion (assumption; [Roderick2016]).
    pub sensitivity_wbmri: Param<Prob>,
    /// Sensitivity of bone scintigraphy (assumption).
    pub sensitivity_scintigraphy: Param<Prob>,
    /// Sensitivity of radiographs (assumption).
    pub sensitivity_radiograph: Param<Prob>,
}

impl Default for Imaging {
    fn default() -> Self {
        Self {
            at_diagnosis: Modality::Wbmri,
            follow_up: Modality::Wbmri,
            follow_up_every_months: Param::fixed(12.0),
            sensitivity_wbmri: Param::fixed(0.95),
            sensitivity_scintigraphy: Param::fixed(0.80),
            sensitivity_radiograph: Param::fixed(0.60),
        }
    }
}

/// `[natural_history.site_weights]`: relative frequency of lesion sites.
/// Assumption shaped by [NPRD2021], [dAngelo2021], [Walsh2015], [Bhat2018].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SiteWeights {
    /// Tibia.
    pub tibia: f64,
    /// Femur.
    pub femur: f64,
    /// Pelvis.
    pub pelvis: f64,
    /// Vertebral column.
    pub spine: f64,
    /// Clavicle.
    pub clavicle: f64,
    /// Fibula.
    pub fibula: f64,
    /// Foot.
    pub foot: f64,
    /// Humerus, forearm, hand.
    pub upper_limb: f64,
    /// Mandible.
    pub mandible: f64,
    /// Sternum and ribs.
    pub sternum_ribs: f64,
    /// Anywhere else.
    pub other: f64,
}

impl Default for SiteWeights {
    fn default() -> Self {
        Self {
            tibia: 0.22,
            femur: 0.20,
            pelvis: 0.13,
            spine: 0.10,
            clavicle: 0.08,
            fibula: 0.07,
            foot: 0.07,
            upper_limb: 0.06,
            mandible: 0.02,
            sternum_ribs: 0.03,
            other: 0.02,
        }
    }
}

impl SiteWeights {
    /// The scenario's names of the weights, in [`Self::as_array`] order (the
    /// order of `model::Site::ALL`, checked by a test there).
    pub const NAMES: [&'static str; 11] = [
        "tibia",
        "femur",
        "pelvis",
        "spine",
        "clavicle",
        "fibula",
        "foot",
        "upper_limb",
        "mandible",
        "sternum_ribs",
        "other",
    ];

    /// The weights in `model::Site::ALL` order.
    pub fn as_array(&self) -> [f64; 11] {
        [
            self.tibia,
            self.femur,
            self.pelvis,
            self.spine,
            self.clavicle,
            self.fibula,
            self.foot,
            self.upper_limb,
            self.mandible,
            self.sternum_ribs,
            self.other,
        ]
    }
}

/// `[output]`: optional outputs and the time grid.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputOptions {
    /// Write `patients.csv` (one row per patient).
    pub patients: bool,
    /// Write `events.csv` (one row per event).
    pub events: bool,
    /// Step of the `timeseries.csv` grid, weeks (whole number >= 1).
    #[serde(deserialize_with = "grid_step")]
    pub timeseries_step_weeks: u32,
    /// How `patients.csv` and `events.csv` are written: plain or gzip.
    #[serde(deserialize_with = "compression")]
    pub compression: Compression,
}

/// `[output] compression`: plain CSV (`"none"`) or gzip (`"gzip"`, files
/// named `patients.csv.gz` and `events.csv.gz`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// Plain `.csv` files.
    #[default]
    None,
    /// `.csv.gz` files: one gzip stream each, byte-identical for a given
    /// scenario and seed.
    Gzip,
}

impl Compression {
    /// The file name of the per-patient file `base` (`patients.csv`,
    /// `events.csv`) under this compression.
    pub fn file_name(self, base: &str) -> String {
        match self {
            Compression::None => base.to_string(),
            Compression::Gzip => format!("{base}.gz"),
        }
    }

    /// The value as written in a scenario.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
        }
    }
}

fn grid_step<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<u32, D::Error> {
    let n = i64::deserialize(d)?;
    if (1..=520).contains(&n) {
        Ok(n as u32)
    } else {
        Err(serde::de::Error::custom(format!(
            "timeseries_step_weeks = {n} is not allowed: expected a whole number of weeks from 1 to 520"
        )))
    }
}

fn compression<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Compression, D::Error> {
    let v = toml::Value::deserialize(d)?;
    match v.as_str() {
        Some("none") => Ok(Compression::None),
        Some("gzip") => Ok(Compression::Gzip),
        _ => Err(serde::de::Error::custom(format!(
            "compression = {v} is not allowed: expected \"none\" (plain patients.csv, events.csv) or \"gzip\" (patients.csv.gz, events.csv.gz)"
        ))),
    }
}

impl Default for OutputOptions {
    fn default() -> Self {
        Self {
            patients: false,
            events: false,
            timeseries_step_weeks: 1,
            compression: Compression::None,
        }
    }
}

/// A scenario together with where it came from.
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    /// The parsed scenario.
    pub scenario: Scenario,
    /// The exact text it was parsed from (hashed into the manifest).
    pub text: String,
    /// Where it was read from, for messages (`<built-in reference>` for the embedded one).
    pub origin: String,
}

impl LoadedScenario {
    /// The scenario's name: its `name` field, else the file stem.
    pub fn name(&self) -> String {
        self.scenario.name.clone().unwrap_or_else(|| {
            Path::new(&self.origin)
                .file_stem()
                .and_then(|s| s.to_str())
                .filter(|s| !s.is_empty())
                .unwrap_or("scenario")
                .to_string()
        })
    }
}

/// Reads and validates a scenario file. Anything but a regular file (a
/// directory, FIFO or device) is refused before it is opened, and at most
/// [`limits::MAX_SCENARIO_BYTES`] are read.
pub fn load_file(path: &Path) -> Result<LoadedScenario> {
    let origin = path.display().to_string();
    let read_error = |source| Error::Read {
        path: origin.clone(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_error)?;
    if !meta.is_file() {
        return Err(Error::NotAFile {
            path: origin,
            what: file_kind(&meta.file_type()),
        });
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            f.take(limits::MAX_SCENARIO_BYTES + 1)
                .read_to_end(&mut bytes)
        })
        .map_err(read_error)?;
    if bytes.len() as u64 > limits::MAX_SCENARIO_BYTES {
        return Err(Error::TooLarge {
            path: origin,
            limit: limits::MAX_SCENARIO_BYTES,
        });
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let before = &e.as_bytes()[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = offset
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1)
            + 1;
        Error::NotUtf8 {
            path: origin.clone(),
            line,
            column,
        }
    })?;
    parse(&text, &origin)
}

/// Words for a file type that is not a regular file.
fn file_kind(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Parses and validates scenario text; `origin` names it in messages.
pub fn parse(text: &str, origin: &str) -> Result<LoadedScenario> {
    let scenario: Scenario = toml::from_str(text).map_err(|e| {
        let mut message = limits::clip_lines(e.to_string().trim_end());
        // serde names every valid field on one line, which the clipping cuts:
        // the quoted line and its marker stay, the names become a suggestion.
        if let Some(better) = names::unknown_name_message(e.message()) {
            let full = e.to_string();
            let before = full.trim_end().strip_suffix(e.message().trim_end());
            message = limits::clip_lines(&format!("{}{better}", before.unwrap_or_default()));
        }
        if message.contains("number too large") {
            message += &format!(
                "\nwhole numbers go up to {} (a seed is a whole number from 0 to {})",
                i64::MAX,
                limits::MAX_SEED
            );
        }
        Error::Scenario {
            path: origin.to_string(),
            message,
        }
    })?;
    let loaded = LoadedScenario {
        scenario,
        text: text.to_string(),
        origin: origin.to_string(),
    };
    validate::validate(&loaded)?;
    Ok(loaded)
}

/// The built-in reference scenario.
pub fn reference() -> LoadedScenario {
    parse(REFERENCE_TOML, "scenarios/reference.toml")
        .expect("the embedded reference scenario is valid (checked by tests)")
}

/// The arm names a scenario resolves to (without `[[arm]]`, the one arm
/// `natural_history`), in scenario order.
pub fn arm_names_of(s: &Scenario) -> Vec<String> {
    if s.arm.is_empty() {
        return vec!["natural_history".into()];
    }
    s.arm.iter().map(|a| a.name.get_ref().clone()).collect()
}

/// The 1-based line and column of the first line that sets `key`, if any.
pub fn locate_key(text: &str, key: &str) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(i, line)| {
        let trimmed = line.trim_start();
        let starts = trimmed.starts_with(key)
            && trimmed[key.len()..]
                .trim_start()
                .starts_with(['=', ']', '.']);
        let header = trimmed.starts_with('[') && trimmed.contains(key);
        (starts || header).then(|| (i + 1, line.len() - trimmed.len() + 1))
    })
}

/// Converts a byte offset into a 1-based line and column.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |p| before.len() - p - 1)
        + 1;
    (line, column)
}
