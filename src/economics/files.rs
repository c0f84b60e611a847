//! The economics files of a run: `cea.csv` and `nmb.csv` always (with
//! `[economics]`), and with several replicates `ceac.csv`, `evpi.csv` and
//! `evppi.csv`. Rows are typed structs serialised with `csv::Writer::serialize`; the
//! files are written by the run pipeline from these texts.

use serde::Serialize;

use crate::error::{Error, Result};

use super::{cea, psa, EconomicInputs};

/// Typed rows as CSV text with their header (none without rows, as
/// `csv::Writer::serialize` writes it).
fn csv_text<T: Serialize>(name: &str, rows: &[T]) -> Result<String> {
    let err = |e: csv::Error| Error::output(name, e.into());
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::output(name, e.into_error()))?;
    String::from_utf8(bytes).map_err(|e| Error::output(name, std::io::Error::other(e)))
}

/// The economics tables of `inputs` as (file name, CSV text), in the order
/// they are written.
pub fn economics_tables(inputs: &EconomicInputs) -> Result<Vec<(String, String)>> {
    let mut tables = vec![
        (
            "cea.csv".to_string(),
            csv_text("cea.csv", &cea::cea_rows(inputs))?,
        ),
        (
            "nmb.csv".to_string(),
            csv_text("nmb.csv", &cea::nmb_rows(inputs))?,
        ),
    ];
    if inputs.replicates() > 1 {
        tables.push((
            "ceac.csv".into(),
            csv_text("ceac.csv", &psa::ceac_rows(inputs))?,
        ));
        tables.push((
            "evpi.csv".into(),
            csv_text("evpi.csv", &psa::evpi_rows(inputs))?,
        ));
        let evppi = psa::evppi_rows(inputs);
        let text = if evppi.is_empty() {
            "wtp,parameter,evppi_per_patient\n".to_string()
        } else {
            csv_text("evppi.csv", &evppi)?
        };
        tables.push(("evppi.csv".into(), text));
    }
    Ok(tables)
}
