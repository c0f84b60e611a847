//! What `check` prints: the resolved parameters of a study, the drugs with
//! the values replicate 0 uses, the arms, and every value replicate 0 drew
//! from a distribution.

use crate::scenario::names::variant_name;
use crate::study::Study;

/// The resolved parameters of a scenario, as printed by `check`.
pub fn scenario_listing(study: &Study) -> String {
    scenario_listing_of(study, 0)
}

/// [`scenario_listing`] with the drug values and draws of `replicate`.
pub fn scenario_listing_of(study: &Study, replicate: u32) -> String {
    let l = study.loaded();
    let s = &l.scenario;
    let mut t = String::new();
    t += &format!("scenario {} ({}): valid\n", l.name(), l.origin);
    t += &format!(
        "seed {}, {} patients, {} replicate(s), horizon {} years\n\n",
        s.seed, s.patients, s.replicates, s.horizon_years
    );
    t += "[cohort]\n";
    t += &format!("  female_frac = {}\n", s.cohort.female_frac);
    t += &format!("  onset_age_years = {}\n", s.cohort.onset_age_years);
    t += &format!("  majeed_frac = {}\n", s.cohort.majeed_frac);
    t += &format!(
        "  majeed_onset_age_years = {}\n",
        s.cohort.majeed_onset_age_years
    );
    t += "\n[natural_history]   (value; Majeed value where it differs; source)\n";
    for row in s.natural_history.listing() {
        let majeed = row
            .majeed
            .map_or(String::new(), |m| format!("  [majeed: {m}]"));
        t += &format!(
            "  {} = {}{}\n      {} -- {}\n",
            row.name, row.value, majeed, row.doc, row.source
        );
    }
    let w = &s.natural_history.site_weights;
    t += "\n[natural_history.site_weights]\n";
    for (site, weight) in crate::model::Site::ALL.iter().zip(w.as_array()) {
        t += &format!("  {} = {}\n", site.as_str(), weight);
    }
    let im = &s.imaging;
    t += "\n[imaging]\n";
    t += &format!(
        "  at_diagnosis = {}, follow_up = {} every {} months\n  sensitivity: wbmri {}, scintigraphy {}, radiograph {}\n",
        variant_name(im.at_diagnosis),
        variant_name(im.follow_up),
        im.follow_up_every_months,
        im.sensitivity_wbmri,
        im.sensitivity_scintigraphy,
        im.sensitivity_radiograph
    );
    t += &format!(
        "\n[output]\n  patients = {}, events = {}, compression = {}, timeseries_step_weeks = {}\n",
        s.output.patients,
        s.output.events,
        s.output.compression.as_str(),
        s.output.timeseries_step_weeks
    );
    t += &differential_listing(study);
    t += &drug_listing(study, replicate);
    t += &economics_listing(study, replicate);
    t += &drawn_listing(study, replicate);
    t += &sweep_listing(study);
    t
}

/// `[differential]` as printed by `check`: the case mix, the criteria and
/// each mimic population's feature parameters with their sources.
fn differential_listing(study: &Study) -> String {
    use crate::scenario::differential::{
        Mimic, MimicOverrides, MimicParams, KNOWN_CRITERIA, SET_IN_SCENARIO,
    };
    let d = &study.scenario().differential;
    let m = &d.case_mix;
    let mut t = format!(
        "\n[differential]   (crmo-sim criteria; case mix: CRMO prevalence {:.4})\n  case_mix: crmo {}, bacterial_osteomyelitis {}, malignant_tumour {}, benign_tumour {}\n  criteria: {}\n",
        m.prevalence(),
        m.crmo.0,
        m.bacterial_osteomyelitis.0,
        m.malignant_tumour.0,
        m.benign_tumour.0,
        d.criteria_names()
            .iter()
            .map(|n| {
                let source = KNOWN_CRITERIA.iter().find(|c| c.0 == *n).map_or("", |c| c.2);
                format!("{n} [{source}]")
            })
            .collect::<Vec<_>>()
            .join(", ")
    );
    let names: Vec<&str> = Mimic::ALL.iter().map(|m| m.as_str()).collect();
    t += &format!(
        "\n[differential.<mimic>]   ({}; * set in this scenario; source)\n",
        names.join(" / ")
    );
    let none = MimicOverrides::default();
    let defaults = MimicParams::builtin(Mimic::ALL[0]).listing(&none);
    let lists: Vec<_> = Mimic::ALL
        .iter()
        .map(|m| d.params(*m).listing(d.overrides(*m)))
        .collect();
    for (i, (name, _, doc, source)) in defaults.iter().enumerate() {
        let values: Vec<String> = lists
            .iter()
            .map(|l| {
                let set = l[i].3 == SET_IN_SCENARIO;
                format!("{}{}", l[i].1, if set { "*" } else { "" })
            })
            .collect();
        t += &format!(
            "  {name}: {}\n      {doc} -- {source}\n",
            values.join(" / ")
        );
    }
    t
}

/// The drugs and arms, as printed by `check`: each drug with the values
/// `replicate` uses.
fn drug_listing(study: &Study, replicate: u32) -> String {
    use crate::scenario::treatment::{catalogue, ladder_steps};
    let s = study.scenario();
    let model = study.replicate_model(replicate);
    let cat = catalogue();
    let mut t = format!(
        "\n[drugs]   (values of replicate {replicate}, every field of [drugs.NAME]; source)\n"
    );
    for d in &model.drugs {
        let source = cat
            .iter()
            .find(|c| c.name == d.name)
            .map_or("defined in this scenario", |c| c.source);
        let fields: Vec<String> = d
            .values
            .by_name()
            .iter()
            .map(|(name, value)| format!("{name} {value}"))
            .collect();
        t += &format!(
            "  {}: {}\n{}\n      -- {source}\n",
            d.name,
            given_as(&d.values),
            crate::scenario::names::wrapped_list(&fields, "      ", 90)
        );
    }
    let unused: Vec<String> = cat
        .iter()
        .map(|c| c.name.to_string())
        .chain(s.drugs.keys().map(|k| k.get_ref().clone()))
        .filter(|n| study.drugs().index(n).is_none())
        .fold(Vec::new(), |mut v, n| {
            if !v.contains(&n) {
                v.push(n);
            }
            v
        });
    if !unused.is_empty() {
        t += &format!("  (known, not used by any arm: {})\n", unused.join(", "));
    }
    if s.arm.is_empty() {
        t += "\n(no [[arm]]: one arm, natural_history, without treatment)\n";
    }
    for a in &s.arm {
        let ladder: Vec<String> = ladder_steps(a).iter().map(|st| st.join("+")).collect();
        t += &format!(
            "\n[[arm]] {}: {}\n  assess every {} weeks; escalate when {} after >= {} weeks on a step; taper after {} weeks of remission; relapse after taper: {}; at the top: {}\n",
            a.name.get_ref(),
            if a.untreated { "untreated".to_string() } else { ladder.join(" -> ") },
            a.assess_every_weeks, variant_name(a.escalate_when), a.min_weeks_on_step, a.stop_after_remission_weeks, variant_name(a.on_relapse_after_stop), variant_name(a.at_top)
        );
    }
    t
}

/// `[economics]` as printed by `check`: the reporting frame, every rate,
/// cost and utility with its source, and each drug's costs.
fn economics_listing(study: &Study, replicate: u32) -> String {
    use crate::scenario::economics::catalogue_drug_cost;
    let Some(e) = &study.scenario().economics else {
        return String::new();
    };
    let mut t = format!(
        "\n[economics]   (currency {}, price year {}, perspective: {}; willingness to pay per QALY: {})\n",
        e.currency, e.price_year, e.perspective, e.wtp
    );
    for row in e.listing() {
        t += &format!(
            "  {} = {}\n      {} -- {}\n",
            row.path, row.value, row.doc, row.source
        );
    }
    let model = study.replicate_model(replicate);
    if let Some(m) = &model.economics {
        t += &format!("  drug costs (values of replicate {replicate}: per day, per course)\n");
        for (k, entry) in study.drugs().entries().iter().enumerate() {
            let (_, _, default_source) = catalogue_drug_cost(&entry.name);
            let given = entry.spec.cost_per_day.is_some() || entry.spec.cost_per_course.is_some();
            t += &format!(
                "  drugs.{}: {} per day, {} per course -- {}\n",
                entry.name,
                m.drug_cost_per_day[k],
                m.drug_cost_per_course[k],
                if given {
                    "set in this scenario"
                } else {
                    default_source
                }
            );
        }
    }
    t
}

/// The values `replicate` drew from distributions, as printed by `check`.
fn drawn_listing(study: &Study, replicate: u32) -> String {
    let drawn = study.replicate_model(replicate).drawn;
    if drawn.is_empty() {
        return "\n(no parameter is drawn from a distribution: every replicate uses the values above)\n".into();
    }
    let mut t = format!(
        "\n[replicate {replicate}]   (values drawn from distributions; each replicate draws its own, see parameters.csv)\n",
    );
    for d in drawn {
        t += &format!(
            "  {} = {}   (drawn from {})\n",
            d.parameter, d.value, d.distribution
        );
    }
    t
}

/// How a drug is given, in words: continuously (for at most some weeks) or
/// in courses (with their limits).
fn given_as(v: &crate::scenario::treatment::DrugValues) -> String {
    if v.course_days > 0.0 {
        let mut text = format!(
            "{} day(s) every {} weeks",
            v.course_days, v.course_every_weeks
        );
        if v.max_courses > 0.0 {
            text += &format!(", at most {} courses", v.max_courses);
        }
        if v.max_courses_per_year > 0.0 {
            text += &format!(", at most {} a year", v.max_courses_per_year);
        }
        text
    } else if v.max_weeks > 0.0 {
        format!("continuous, at most {} weeks", v.max_weeks)
    } else {
        "continuous".to_string()
    }
}

/// The sweep's grid, as printed by `check`.
fn sweep_listing(study: &Study) -> String {
    let Some(sweep) = study.sweep() else {
        return String::new();
    };
    let mut t = format!(
        "\n[sweep]   {} grid point(s), each a full study on the same patients; the plot shows {}\n",
        sweep.points.len(),
        sweep.metric
    );
    for p in &sweep.parameters {
        let values: Vec<String> = p.values.iter().map(|v| v.to_string()).collect();
        t += &format!("  {} = {}\n", p.path, values.join(", "));
    }
    t
}
