//! The parameters `calibrate --fit` can search in a scenario, and the
//! value each has where the scenario file does not write it (the start of
//! the search).

use crate::study::Study;

/// Every parameter `--fit` can search in this scenario, with the value it
/// has when the file does not write it (Err: drawn from a distribution).
fn parameter_defaults(study: &Study) -> Vec<(String, std::result::Result<f64, String>)> {
    let s = study.scenario();
    let fixed = |shown: String| {
        shown.parse::<f64>().map_err(|_| {
            format!("its default is drawn from a distribution ({shown}); the fit searches one fixed value: write a number in the scenario file first")
        })
    };
    let mut out = Vec::new();
    for row in s.natural_history.listing() {
        out.push((
            format!("natural_history.{}", row.name),
            fixed(row.value.clone()),
        ));
        let majeed = row.majeed.unwrap_or(row.value);
        out.push((
            format!("natural_history.majeed.{}", row.name),
            fixed(majeed),
        ));
    }
    for (site, w) in crate::model::Site::ALL
        .iter()
        .zip(s.natural_history.site_weights.as_array())
    {
        out.push((
            format!("natural_history.site_weights.{}", site.as_str()),
            Ok(w),
        ));
    }
    out.push((
        "cohort.female_frac".into(),
        fixed(s.cohort.female_frac.to_string()),
    ));
    out.push((
        "cohort.majeed_frac".into(),
        fixed(s.cohort.majeed_frac.to_string()),
    ));
    let im = &s.imaging;
    for (name, p) in [
        ("sensitivity_wbmri", &im.sensitivity_wbmri),
        ("sensitivity_scintigraphy", &im.sensitivity_scintigraphy),
        ("sensitivity_radiograph", &im.sensitivity_radiograph),
    ] {
        out.push((format!("imaging.{name}"), fixed(p.to_string())));
    }
    out.push((
        "imaging.follow_up_every_months".into(),
        fixed(im.follow_up_every_months.to_string()),
    ));
    for d in &study.replicate_model(0).drugs {
        for (field, v) in d.values.by_name() {
            out.push((format!("drugs.{}.{field}", d.name), Ok(v)));
        }
    }
    for a in &s.arm {
        let name = a.name.get_ref();
        for (field, v) in [
            ("assess_every_weeks", a.assess_every_weeks),
            ("min_weeks_on_step", a.min_weeks_on_step),
            ("remission_weeks", a.remission_weeks),
            ("stop_after_remission_weeks", a.stop_after_remission_weeks),
            (
                "stop_after_remission_weeks_majeed",
                a.stop_after_remission_weeks_majeed,
            ),
            ("flare_visit_weeks", a.flare_visit_weeks),
        ] {
            out.push((format!("arm.{name}.{field}"), Ok(v)));
        }
    }
    out
}

/// The value a field has when the scenario does not write it, or why the
/// fit cannot search it (an unknown name: the names it can search, those
/// beside it first).
pub(super) fn default_value(study: &Study, path: &str) -> std::result::Result<f64, String> {
    let known = parameter_defaults(study);
    if let Some((_, v)) = known.iter().find(|(p, _)| p == path) {
        return v.clone();
    }
    let section_of = |p: &str| {
        p.rsplit_once('.')
            .map_or(String::new(), |(s, _)| s.to_string())
    };
    let section = section_of(path);
    let beside: Vec<&str> = known
        .iter()
        .filter(|(p, _)| section_of(p) == section)
        .map(|(p, _)| &p[section.len() + 1..])
        .collect();
    let listed = if beside.is_empty() {
        let mut sections: Vec<String> = Vec::new();
        for (p, _) in &known {
            let s = format!("{}.NAME", section_of(p));
            if !sections.contains(&s) {
                sections.push(s);
            }
        }
        format!("the fit searches fields of {}", sections.join(", "))
    } else {
        format!(
            "the fields of `{section}` it can search are {}",
            beside.join(", ")
        )
    };
    Err(format!(
        "not a parameter the fit can search in this scenario; {listed}"
    ))
}
