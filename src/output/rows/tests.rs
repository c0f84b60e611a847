//! Unit tests of `output::rows`.

use super::*;

#[test]
fn large_per_patient_files_are_announced() {
    // 100,000 reference patients wrote a 593 MB events.csv.
    let plain = Compression::None;
    let w = size_warnings(100_000, 10.0, (true, true), plain);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].starts_with("events.csv will be about 600 MB"), "{w:?}");
    // The warning offers compressed output and says how large it would be.
    assert!(
        w[0].contains("compression = \"gzip\"") && w[0].contains("events.csv.gz (about 75 MB)"),
        "{w:?}"
    );
    assert!(size_warnings(10_000, 10.0, (true, true), plain).is_empty());
    assert!(size_warnings(1_000_000, 10.0, (false, false), plain).is_empty());
    assert_eq!(
        size_warnings(1_000_000, 10.0, (true, false), plain).len(),
        1
    );
}

#[test]
fn compressed_files_are_announced_by_their_compressed_size() {
    let gz = Compression::Gzip;
    // 600 MB of events compress to about 75 MB: below the threshold.
    assert!(size_warnings(100_000, 10.0, (true, true), gz).is_empty());
    let w = size_warnings(2_000_000, 10.0, (true, true), gz);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].starts_with("patients.csv.gz will be about 200 MB compressed (600 MB uncompressed"),
        "{w:?}"
    );
    assert!(
        w[1].starts_with("events.csv.gz will be about 1500 MB compressed (12000 MB uncompressed"),
        "{w:?}"
    );
}

#[test]
fn flare_features_get_their_own_typed_columns() {
    let drugs = vec!["nsaid".to_string()];
    let r = event_record(
        3.5,
        &EventKind::FlareStart {
            pain: 6.25,
            fever: true,
            crp_mg_l: 12.0,
        },
        &drugs,
    );
    assert_eq!(r.event, "flare_start");
    assert_eq!(
        (r.pain_vas, r.fever, r.crp_mg_l),
        (Some(Num(6.25)), Some(true), Some(Num(12.0)))
    );
    assert!(r.reason.is_none() && r.days.is_none());
    let h = events_header();
    for c in ["fever", "crp_mg_l", "pain_vas", "jansson_score", "days"] {
        assert!(h.iter().any(|x| x == c), "{c} in {h:?}");
    }
    assert!(!h.iter().any(|x| x == "detail" || x == "value"));
}

/// A writer whose every write fails, like a full disk.
struct Full;

impl Write for Full {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            "disk full",
        ))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Err(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            "disk full",
        ))
    }
}

impl FinishWrite for Full {
    fn finish_file(mut self: Box<Self>) -> std::io::Result<()> {
        self.flush()
    }
}

#[test]
fn a_failed_final_write_is_reported_with_the_file_name() {
    // The header fits the csv buffer, so only the final flush reaches the disk.
    let sink = Sink::new(Box::new(Full), "out/events.csv", &events_header()).unwrap();
    let e = sink.finish().unwrap_err().to_string();
    assert!(
        e.contains("out/events.csv") && e.contains("disk full"),
        "{e}"
    );
}

#[test]
fn a_flare_running_at_burnout_delays_resolution_to_its_end() {
    let o = Outcome {
        resolved_day: Some(100.0),
        ..Outcome::default()
    };
    let ev = vec![
        (
            0.0,
            EventKind::FlareStart {
                pain: 5.0,
                fever: false,
                crp_mg_l: 3.0,
            },
        ),
        (100.0, EventKind::Resolution),
        (130.0, EventKind::FlareEnd),
    ];
    assert_eq!(resolved_day(&o, &ev), Some(130.0));
    let quiet = vec![
        (0.0, ev[0].1),
        (40.0, EventKind::FlareEnd),
        (100.0, EventKind::Resolution),
    ];
    assert_eq!(resolved_day(&o, &quiet), Some(100.0));
    let still = Outcome {
        active_at_end: true,
        ..o
    };
    assert_eq!(resolved_day(&still, &ev[..2]), None);
}
