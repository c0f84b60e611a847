//! Helpers shared by the test crates: reading `calibration.csv`.
#![allow(dead_code)] // each test crate reads the fields it needs

use std::collections::HashMap;

/// One line of `calibration.csv`.
#[derive(Debug, Clone)]
pub struct Calibrated {
    pub published: f64,
    pub tolerance: f64,
    pub simulated: f64,
    pub mcse: f64,
    pub inside: bool,
}

/// The rows of a `calibration.csv` reader, by target id.
pub fn calibration_rows(reader: &mut csv::Reader<&[u8]>) -> HashMap<String, Calibrated> {
    reader
        .records()
        .map(|r| {
            let r = r.expect("calibration row");
            let num = |i: usize| r[i].parse::<f64>().expect("number");
            (
                r[0].to_string(),
                Calibrated {
                    published: num(2),
                    tolerance: num(3),
                    simulated: num(4),
                    mcse: num(5),
                    inside: &r[6] == "true",
                },
            )
        })
        .collect()
}
