//! Charts: single-patient course charts, galleries and cohort plots, drawn
//! with plotters to PNG and SVG using a font compiled into the binary.
