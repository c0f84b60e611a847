//! The economics files of a run: `cea.csv` and `nmb.csv` always (with
//! `[economics]`), and with several replicates `ceac.csv`, `evpi.csv` and
//! `evppi.csv`. Rows are typed structs written with `csv::Writer::serialize`.

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};

use super::{cea, psa, EconomicInputs};

/// Writes typed rows to `dir/name` with their header.
fn write_rows<T: Serialize>(dir: &Path, name: &str, rows: &[T]) -> Result<()> {
    let path = dir.join(name);
    let mut w = csv::Writer::from_path(&path).map_err(|e| Error::output(&path, e.into()))?;
    for r in rows {
        w.serialize(r).map_err(|e| Error::output(&path, e.into()))?;
    }
    w.flush().map_err(|e| Error::output(&path, e))
}

/// Writes the economics files of `inputs` into `dir`; returns their names.
pub fn write_economics(inputs: &EconomicInputs, dir: &Path) -> Result<Vec<String>> {
    write_rows(dir, "cea.csv", &cea::cea_rows(inputs))?;
    write_rows(dir, "nmb.csv", &cea::nmb_rows(inputs))?;
    let mut names = vec!["cea.csv".to_string(), "nmb.csv".to_string()];
    if inputs.replicates() > 1 {
        write_rows(dir, "ceac.csv", &psa::ceac_rows(inputs))?;
        write_rows(dir, "evpi.csv", &psa::evpi_rows(inputs))?;
        let evppi = psa::evppi_rows(inputs);
        if evppi.is_empty() {
            let path = dir.join("evppi.csv");
            std::fs::write(&path, "wtp,parameter,evppi_per_patient\n")
                .map_err(|e| Error::output(&path, e))?;
        } else {
            write_rows(dir, "evppi.csv", &evppi)?;
        }
        names.extend(["ceac.csv", "evpi.csv", "evppi.csv"].map(String::from));
    }
    Ok(names)
}
