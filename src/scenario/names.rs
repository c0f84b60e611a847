//! Field names of a scenario file: "did you mean" for a misspelt one, and the
//! list of every table's fields that `crmo-sim check --help` prints.
//!
//! The names are not kept in a second list that could drift from the schema:
//! serde's own "unknown field" message names every field a table accepts, so
//! the list is read from that message, for a misspelling in a user's file as
//! for a probe key in [`field_list`].

/// A key no table has, to make each table name its fields.
const PROBE: &str = "crmo_sim_probe_key";

/// The tables of a scenario file, as a header that opens one (empty: the top
/// level), with a placeholder name where the file chooses one.
const TABLES: [&str; 9] = [
    "",
    "[cohort]",
    "[natural_history]",
    "[natural_history.majeed]",
    "[natural_history.site_weights]",
    "[imaging]",
    "[output]",
    "[drugs.NAME]",
    "[[arm]]",
];

/// Least Jaro similarity for a suggestion (clap's threshold for misspelt
/// flags, so both kinds of typo are treated alike).
const SIMILAR: f64 = 0.7;

/// serde's message for an unknown field or variant, split into the name
/// written and the names expected (empty when the table has none).
fn split_unknown(message: &str) -> Option<(&str, Vec<&str>)> {
    let first = message.lines().next()?;
    let rest = first
        .strip_prefix("unknown field `")
        .or_else(|| first.strip_prefix("unknown variant `"))?;
    let (written, tail) = rest.split_once('`')?;
    // The expected names are the backquoted words after the written one.
    let expected = tail.split('`').skip(1).step_by(2).collect();
    Some((written, expected))
}

/// The expected name most like `written`, if any is like it enough.
pub fn closest<'a>(written: &str, expected: &[&'a str]) -> Option<&'a str> {
    expected
        .iter()
        .map(|name| (strsim::jaro(written, name), *name))
        .filter(|(score, _)| *score > SIMILAR)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name)
}

/// Most expected names listed beside a suggestion (the top level's 15 fit
/// in two lines, and a misplaced table name is often "like" a top-level
/// field it has nothing to do with); a longer list is left to `check --help`.
const LISTED_WITH_SUGGESTION: usize = 16;

/// A clearer message for serde's "unknown field `x`, expected one of …"
/// (which lists every field on one line, too long to show whole): the
/// closest valid name, the valid names a few to a line when there is no
/// close one or only a few, and where every table's fields are listed.
/// None for any other message.
pub fn unknown_name_message(message: &str) -> Option<String> {
    let (written, expected) = split_unknown(message)?;
    let kind = if message.starts_with("unknown field") {
        "field"
    } else {
        "variant"
    };
    let mut text = format!("unknown {kind} {}", quoted(written));
    let suggestion = closest(written, &expected);
    if let Some(name) = suggestion {
        text += &format!(": did you mean `{name}`?");
    }
    if expected.is_empty() {
        text += ": none is allowed here";
    } else if suggestion.is_none() || expected.len() <= LISTED_WITH_SUGGESTION {
        text += &format!("\nexpected one of:\n{}", wrapped(&expected));
    }
    if kind == "field" {
        text += "\n(the fields of every table: crmo-sim check --help)";
    }
    Some(text)
}

/// A written name in backquotes as serde shows it, or quoted with escapes
/// (and cut) when it holds control characters or is long.
fn quoted(written: &str) -> String {
    if written.chars().any(char::is_control) || written.len() > 40 {
        super::limits::shown(written)
    } else {
        format!("`{written}`")
    }
}

/// Backquoted names, comma-separated, on lines of at most about 80
/// characters each, indented.
fn wrapped(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    wrapped_list(&quoted, "  ", 79)
}

/// A unit enum variant as a scenario file spells it (`NotInRemission` ->
/// `not_in_remission`: serde's `rename_all = "snake_case"`), for listings
/// of a resolved scenario (`check`, the Python package's `check()`).
pub fn variant_name(v: impl std::fmt::Debug) -> String {
    let mut out = String::new();
    for (i, c) in format!("{v:?}").chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `items` comma-separated on lines that start with `indent` and end before
/// about `width` characters (a line longer than that holds one item).
pub fn wrapped_list(items: &[String], indent: &str, width: usize) -> String {
    let mut lines = Vec::new();
    let mut line = indent.to_string();
    for (i, item) in items.iter().enumerate() {
        let item = format!("{item}{}", if i + 1 < items.len() { "," } else { "" });
        if line.len() > indent.len() && line.len() + 1 + item.len() > width {
            lines.push(std::mem::replace(&mut line, format!("{indent}{item}")));
        } else {
            if line.len() > indent.len() {
                line.push(' ');
            }
            line.push_str(&item);
        }
    }
    lines.push(line);
    lines.join("\n")
}

/// The fields of `table` (a header from [`TABLES`]), as the schema's own
/// error for an unknown key names them.
fn fields_of(table: &str) -> Vec<String> {
    let header = table.replace("NAME", "probe");
    let text = format!("{header}\n{PROBE} = 0\n");
    let Err(e) = toml::from_str::<super::Scenario>(&text) else {
        return Vec::new();
    };
    split_unknown(e.message())
        .map(|(_, names)| names.into_iter().map(String::from).collect())
        .unwrap_or_default()
}

/// Every table of a scenario file with its fields, for `check --help`.
pub fn field_list() -> String {
    let mut text = String::from("Fields of a scenario file, by table:\n");
    for table in TABLES {
        let fields = fields_of(table);
        let names: Vec<&str> = fields.iter().map(String::as_str).collect();
        let title = if table.is_empty() {
            "(top level)"
        } else {
            table
        };
        text += &format!("{title}\n{}\n", wrapped(&names));
    }
    text.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_field_gets_the_closest_name() {
        let m = "unknown field `flare_rate_per_yer`, expected one of `flare_rate_per_year`, `frailty_variance`";
        let text = unknown_name_message(m).unwrap();
        assert!(
            text.contains("did you mean `flare_rate_per_year`?"),
            "{text}"
        );
    }

    #[test]
    fn a_name_like_none_gets_every_name() {
        let m = "unknown field `zzz`, expected `seed` or `patients`";
        let text = unknown_name_message(m).unwrap();
        assert!(text.contains("`seed`, `patients`"), "{text}");
        assert!(unknown_name_message("invalid type: string").is_none());
    }

    #[test]
    fn every_table_names_its_fields() {
        for table in TABLES {
            assert!(!fields_of(table).is_empty(), "{table} named no field");
        }
        let list = field_list();
        assert!(list.contains("`flare_rate_per_year`"), "{list}");
        assert!(list.contains("`ladder`"), "{list}");
    }
}
