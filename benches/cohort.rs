//! Criterion benchmarks of the engine: a 20,000-patient cohort of
//! `scenarios/two-state.toml` (the two-state workload the numpy peer script
//! simulates), of `scenarios/natural-history.toml` and of
//! `scenarios/reference.toml` (the full model with the treatment ladder),
//! at 1 thread and at all threads, reported in patient-years per second
//! (`elem/s` = simulated patient-years per second), and the time of one patient.
//!
//! Run: `cargo bench --bench cohort -- --warm-up-time 1 --measurement-time 5`
//! (one group: append its name, e.g. `two_state`).
//! Targets (docs/performance.md): two-state at least 1.5 times the numpy
//! peer per core (`scripts/bench-peers.sh`), reference at least 5 M
//! patient-years per second per core, and a 2-thread speed-up of at least
//! 1.85x on both. The two-state cohort has no lesion layer, so it runs the
//! loop compiled without one.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use crmo_sim::engine::cohort::NoRows;
use crmo_sim::engine::patient::{simulate_patient, Discard, Scratch};
use crmo_sim::results::CohortResult;
use crmo_sim::scenario::{load_file, LoadedScenario};
use crmo_sim::study::Study;

/// Patients in the benchmark cohort.
const PATIENTS: u64 = 20_000;

fn scenario_file(name: &str) -> LoadedScenario {
    let path = format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut loaded = load_file(path.as_ref()).expect("shipped scenarios are valid");
    loaded.scenario.patients = PATIENTS;
    loaded
}

fn scenario() -> LoadedScenario {
    scenario_file("natural-history.toml")
}

fn run(study: &Study) -> CohortResult {
    study.run(&mut NoRows, &|_| {}).expect("cohort runs")
}

fn cohort(c: &mut Criterion) {
    bench_cohort(c, "two-state.toml", "two_state_patient_years");
    bench_cohort(c, "natural-history.toml", "natural_history_patient_years");
    bench_cohort(c, "reference.toml", "reference_treated_patient_years");
}

fn bench_cohort(c: &mut Criterion, file: &str, group_name: &str) {
    let study = Study::resolve(scenario_file(file)).expect("study resolves");
    // The work per iteration, in patient-years (the same in every run).
    let patient_years = run(&study).patient_years;
    println!("{file}: {PATIENTS} patients, {patient_years:.0} patient-years per run");
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(patient_years.round() as u64));
    group.sample_size(10);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("one-thread pool");
    group.bench_function("threads_1", |b| {
        b.iter(|| one.install(|| black_box(run(black_box(&study)))))
    });
    let all = rayon::current_num_threads();
    group.bench_function(format!("threads_{all}"), |b| {
        b.iter(|| black_box(run(black_box(&study))))
    });
    group.finish();
}

fn one_patient(c: &mut Criterion) {
    let study = Study::resolve(scenario()).expect("study resolves");
    let model = study.replicate_model(0);
    let mut scratch = Scratch::default();
    let mut group = c.benchmark_group("natural_history_one_patient");
    group.throughput(Throughput::Elements(1));
    // Cycle over 1000 patients so the time is an average over courses.
    let mut patient = 0u64;
    group.bench_function("simulate_patient", |b| {
        b.iter(|| {
            patient = (patient + 1) % 1000;
            black_box(simulate_patient(
                &model,
                black_box(patient),
                None,
                &mut scratch,
                &mut Discard,
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, cohort, one_patient);
criterion_main!(benches);
