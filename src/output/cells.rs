//! How a value is written into a CSV cell ([`Num`]: up to 6 decimals, no
//! trailing zeros, empty when not finite) and CSV text made from typed rows
//! with the `csv` crate, shared by every table and row file.

use serde::{Serialize, Serializer};

use crate::error::{Error, Result};

/// A number as written to CSV: up to 6 decimals, no trailing zeros; an
/// empty cell when not finite.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Num(pub f64);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if self.0.is_finite() {
            s.serialize_str(&fmt_num(self.0))
        } else {
            s.serialize_none()
        }
    }
}

/// Formats a number for CSV: up to 6 decimals, no trailing zeros; empty for NaN.
pub fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return String::new();
    }
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// Serialises `rows` (with a header from the first row's field names) to CSV text.
pub fn to_csv<T: Serialize>(name: &str, rows: impl IntoIterator<Item = T>) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(|e| csv_error(name, e))?;
    }
    finish(name, w)
}

/// Like [`to_csv`] with an explicit header (for rows whose columns depend on the scenario).
pub fn to_csv_with_header<T: Serialize>(
    name: &str,
    header: &[String],
    rows: impl IntoIterator<Item = T>,
) -> Result<String> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    w.write_record(header).map_err(|e| csv_error(name, e))?;
    for r in rows {
        w.serialize(r).map_err(|e| csv_error(name, e))?;
    }
    finish(name, w)
}

fn finish(name: &str, w: csv::Writer<Vec<u8>>) -> Result<String> {
    let bytes = w
        .into_inner()
        .map_err(|e| Error::output(name, std::io::Error::other(e.to_string())))?;
    String::from_utf8(bytes).map_err(|e| Error::output(name, std::io::Error::other(e)))
}

/// Turns a `csv` error on file `name` into an output error.
pub(crate) fn csv_error(name: &str, e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::output(name, io),
        other => Error::output(name, std::io::Error::other(format!("{other:?}"))),
    }
}

/// Characters that make a spreadsheet read a cell as a formula when they
/// start it (OWASP, "CSV Injection").
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell of free text from the user (a `--targets` id or description) as
/// written to a CSV file: text that a spreadsheet would run as a formula
/// (`=HYPERLINK(...)`, `+1`, `@SUM(...)`, ...) gets a leading `'`, the OWASP
/// convention, so it opens as text. Other text is written as it is. Names
/// (scenario, arm, drug) need no such care: they cannot start with any of
/// these characters ([`crate::scenario::limits::name_problem`]).
pub fn text_cell(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(FORMULA_STARTS) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_commas_and_quotes_are_quoted() {
        #[derive(Serialize)]
        struct R<'a> {
            arm: &'a str,
            x: Num,
        }
        let s = to_csv(
            "t.csv",
            [R {
                arm: "a,\"b\"",
                x: Num(0.5),
            }],
        )
        .unwrap();
        assert_eq!(s, "arm,x\n\"a,\"\"b\"\"\",0.5\n");
        let mut r = csv::Reader::from_reader(s.as_bytes());
        let rec = r.records().next().unwrap().unwrap();
        assert_eq!(&rec[0], "a,\"b\"");
    }

    #[test]
    fn formula_like_text_opens_as_text() {
        for (given, written) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("C1 delay", "C1 delay"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(text_cell(given), written, "{given:?}");
        }
    }

    #[test]
    fn not_a_number_is_an_empty_cell() {
        #[derive(Serialize)]
        struct R {
            x: Num,
            y: Num,
        }
        let s = to_csv(
            "t.csv",
            [R {
                x: Num(f64::NAN),
                y: Num(1.0 / 3.0),
            }],
        )
        .unwrap();
        assert_eq!(s, "x,y\n,0.333333\n");
    }
}
