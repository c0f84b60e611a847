//! `fitted.toml`: the scenario text with the fitted values set, written
//! with `toml_edit` so the file keeps its comments, order and layout. The
//! dotted paths are those of `[sweep]`; the result is checked against the
//! sweep's own path resolution ([`FitSpace::document_at`]) before it is
//! written, so `fitted.toml` is exactly the scenario the fit evaluated.

use toml_edit::{DocumentMut, Item, TableLike};

use crate::error::{Error, Result};

use super::space::FitSpace;

/// Significant digits of the values written to `fitted.toml`.
pub const FITTED_DIGITS: usize = 6;

/// `x` rounded to [`FITTED_DIGITS`] significant digits.
pub fn rounded(x: f64) -> f64 {
    format!("{x:.*e}", FITTED_DIGITS - 1).parse().unwrap_or(x)
}

/// The values as written: rounded, and kept inside each parameter's bounds.
pub fn written_values(space: &FitSpace, values: &[f64]) -> Vec<f64> {
    space
        .parameters
        .iter()
        .zip(values)
        .map(|(p, &v)| rounded(v).clamp(p.floor, p.hi))
        .collect()
}

/// The text of `fitted.toml`: `header` (comment lines) then `original` with
/// `values` set at the space's paths. `values` are written as given (see
/// [`written_values`]).
pub fn fitted_toml(
    original: &str,
    space: &FitSpace,
    values: &[f64],
    header: &str,
) -> Result<String> {
    let fail = |m: String| Error::output("fitted.toml", std::io::Error::other(m));
    let mut doc: DocumentMut = original
        .parse()
        .map_err(|e| fail(format!("the scenario text does not parse: {e}")))?;
    for (p, &v) in space.parameters.iter().zip(values) {
        set_value(&mut doc, &p.path, v).map_err(&fail)?;
    }
    let text = format!("{header}{doc}");
    let written: toml::Table = toml::from_str(&text).map_err(|e| fail(e.to_string()))?;
    let evaluated = space.document_at(values).map_err(&fail)?;
    if written != evaluated {
        return Err(fail(
            "the edited scenario differs from the one the fit evaluated".into(),
        ));
    }
    Ok(text)
}

/// Sets the field at a dotted path (`arm.NAME.field` finds the arm by name;
/// missing tables are created) to the float `v`, keeping the comment and
/// spacing around an existing value.
fn set_value(doc: &mut DocumentMut, path: &str, v: f64) -> std::result::Result<(), String> {
    let parts: Vec<&str> = path.split('.').collect();
    let (last, walk) = parts
        .split_last()
        .ok_or_else(|| format!("`{path}` is empty"))?;
    let mut table: &mut dyn TableLike = doc.as_table_mut();
    let mut i = 0;
    while i < walk.len() {
        if walk[i] == "arm" {
            let name = walk
                .get(i + 1)
                .ok_or_else(|| format!("`{path}`: name the arm"))?;
            let item = table
                .get_mut("arm")
                .ok_or_else(|| format!("`{path}`: no [[arm]]"))?;
            table = find_arm(item, name).ok_or_else(|| format!("`{path}`: no arm `{name}`"))?;
            i += 2;
            continue;
        }
        let entry = table.entry(walk[i]).or_insert_with(|| {
            let mut t = toml_edit::Table::new();
            t.set_implicit(true);
            Item::Table(t)
        });
        table = entry
            .as_table_like_mut()
            .ok_or_else(|| format!("`{path}`: `{}` is not a table", walk[i]))?;
        i += 1;
    }
    let mut value = toml_edit::Value::from(v);
    match table.get_mut(last).and_then(Item::as_value_mut) {
        Some(old) => {
            *value.decor_mut() = old.decor().clone();
            *old = value;
        }
        None => {
            table.insert(last, Item::Value(value));
        }
    }
    Ok(())
}

/// The arm table called `name` in `arm` (array of tables or inline array).
fn find_arm<'a>(item: &'a mut Item, name: &str) -> Option<&'a mut dyn TableLike> {
    let named = |t: &dyn TableLike| t.get("name").and_then(Item::as_str) == Some(name);
    match item {
        Item::ArrayOfTables(a) => a
            .iter_mut()
            .find(|t| named(*t))
            .map(|t| t as &mut dyn TableLike),
        Item::Value(toml_edit::Value::Array(a)) => a
            .iter_mut()
            .filter_map(toml_edit::Value::as_inline_table_mut)
            .find(|t| t.get("name").and_then(toml_edit::Value::as_str) == Some(name))
            .map(|t| t as &mut dyn TableLike),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibrate::space::{parse_requests, FitSpace};

    #[test]
    fn values_are_set_and_comments_kept() {
        let text = "# my scenario\nseed = 3\n\n[natural_history]\nflare_rate_per_year = 2 # hand-set\n\n[[arm]]\nname = \"a\"\nladder = [\"nsaid\"]\nmin_weeks_on_step = 26   # six months\n";
        let loaded = crate::scenario::parse(text, "t.toml").unwrap();
        let requests = parse_requests(&[
            "natural_history.flare_rate_per_year=1..6".into(),
            "arm.a.min_weeks_on_step=0..52".into(),
            "drugs.nsaid.p_response=0..1".into(),
        ])
        .unwrap();
        let space = FitSpace::new(&loaded, &requests, None, None).unwrap();
        let out = fitted_toml(text, &space, &[2.5, 20.25, 0.75], "# fitted\n").unwrap();
        assert!(out.starts_with("# fitted\n# my scenario\n"), "{out}");
        assert!(
            out.contains("flare_rate_per_year = 2.5 # hand-set"),
            "{out}"
        );
        assert!(
            out.contains("min_weeks_on_step = 20.25   # six months"),
            "{out}"
        );
        assert!(out.contains("[drugs.nsaid]\np_response = 0.75"), "{out}");
        assert!(!out.contains("[drugs]\n"), "{out}");
        assert!(crate::scenario::parse(&out, "fitted.toml").is_ok());
    }

    #[test]
    fn rounding_keeps_six_significant_digits() {
        assert_eq!(rounded(1.234567891), 1.23457);
        assert_eq!(rounded(0.000123456789), 0.000123457);
        assert_eq!(rounded(3.0), 3.0);
    }
}
