//! Random streams. Every draw comes from a stream named by (scenario seed,
//! replicate, patient, purpose), so a patient's course does not depend on
//! thread count, chunking, shards or the other patients, and all arms see the
//! same virtual patients (common random numbers).
//!
//! The generators are explicit and portable, their output fixed by the
//! algorithm (`StdRng`/`SmallRng` may change between releases): ChaCha8
//! (`rand_chacha`) derives each replicate's 256-bit key from the seed, and
//! each patient stream is a PCG-XSL-RR 128/64 multiplicative generator
//! (O'Neill 2014's `pcg64_fast`; `rand_pcg::Pcg64Mcg`) whose 128-bit state
//! is hashed from that key and the stream's name (patient, purpose). A
//! patient needs several streams: this generator starts by storing its
//! state, where a ChaCha stream costs a 256-byte block refill and an
//! incremented PCG two 128-bit steps, and a draw is one 128-bit
//! multiplication by a constant with no increment (fewest instructions per
//! run of the PCG and xoshiro256++ variants measured).
//!
//! Why the seeding is sound: the state's high word is SplitMix64's
//! finaliser of the name mixed with the key, a bijection of the name, so
//! within a replicate two different names always give two different states,
//! and the key's words all enter the state, so replicates differ. The low
//! word is a multiplicative hash of the high word (one multiplication, not
//! a second finaliser): the low word of this generator's state evolves by
//! itself, so streams must not share it, and a hash keeps them apart. The
//! generator visits the odd 128-bit states on two cycles of 2^126 each, and
//! hashed states land on them as if at random: the chance that two of n
//! streams (10^8 patients) of 10^4 draws each.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_pcg::Pcg64Mcg;

/// The random-number crates and their versions, as built (read from
/// `Cargo.lock` by the build script): the values of every draw depend on
/// them, so `manifest.json` records them.
pub const RNG_CRATES: &str = concat!(
    "rand ",
    env!("CRMO_SIM_RAND_VERSION"),
    ", rand_chacha ",
    env!("CRMO_SIM_RAND_CHACHA_VERSION"),
    " (ChaCha8 replicate keys), rand_pcg ",
    env!("CRMO_SIM_RAND_PCG_VERSION"),
    " (Pcg64Mcg patient streams), rand_distr ",
    env!("CRMO_SIM_RAND_DISTR_VERSION"),
);

/// The generator of one patient stream.
pub type Stream = Pcg64Mcg;

/// What a stream is used for. Discriminants are part of the output format:
/// never renumber, only append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// Patient characteristics at onset (sex, age, genotype, frailty,
    /// conditions) and the course clocks drawn once (resolution, diagnostic
    /// delay, loss to follow-up, blood count, diagnosis route, later
    /// conditions).
    Baseline = 0,
    /// The Exp(1) draws that time flare onsets by cumulative-hazard inversion.
    FlareTiming = 1,
    /// Flare durations and features (pain, fever, CRP, fractures).
    FlareFeatures = 2,
    /// Lesions: counts, sites, sides, silent flags, stage durations, reactivations.
    Lesions = 3,
    /// Imaging detection of silent lesions.
    Imaging = 4,
    /// Latent drug responsiveness (a patient trait shared by all arms).
    Responsiveness = 5,
    /// Treatment events (adverse events).
    Treatment = 6,
    /// Formerly the diagnosis route's stream; the route is now drawn from
    /// the baseline stream. The discriminant stays reserved.
    DiagnosisRoute = 7,
    /// A simulated child with bacterial osteomyelitis (`crmo-sim criteria`;
    /// the patient index is the mimic's own, not a CRMO patient's).
    BacterialOsteomyelitis = 8,
    /// A simulated child with a malignant bone tumour (`crmo-sim criteria`).
    MalignantTumour = 9,
    /// A simulated child with a benign bone tumour (`crmo-sim criteria`).
    BenignTumour = 10,
    /// Virtual trials: the key of one arm of one simulated trial, whose
    /// patients then have streams of their own ([`ReplicateKey::trial_arm`]).
    Trial = 11,
}

/// Streams per patient reserved by the layout (`patient << 4 | purpose`).
const PURPOSE_BITS: u32 = 4;

/// The stream index reserved for per-replicate parameter draws.
const PARAMETER_STREAM: u64 = u64::MAX;

/// Names the economic parameter streams (ASCII "economic").
const ECONOMICS_STREAM: u64 = 0x6563_6f6e_6f6d_6963;

/// A generator for a purpose the model leaves inert: it is never drawn
/// from, and costs no derivation from the key.
#[inline]
pub(crate) fn unused_stream() -> Stream {
    Pcg64Mcg::new(0)
}

/// Key material of one (seed, replicate): patient streams are derived from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicateKey([u64; 4]);

/// SplitMix64's finaliser (Steele, Lea & Flood 2014): a bijective 64-bit mixer.
#[inline]
fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl ReplicateKey {
    /// The key for `replicate` of a scenario with `seed`.
    pub fn new(seed: u64, replicate: u32) -> Self {
        let mut root = ChaCha8Rng::seed_from_u64(seed);
        root.set_stream(u64::from(replicate));
        ReplicateKey([
            root.next_u64(),
            root.next_u64(),
            root.next_u64(),
            root.next_u64(),
        ])
    }

    /// The stream named `id`: its state hashed from the key and `id`.
    #[inline(always)]
    fn named(&self, id: u64) -> Stream {
        Pcg64Mcg::new(self.state(id))
    }

    /// The state of the stream named `id`, before the generator sets its
    /// lowest bit. `high` is a bijection of `id` (a mixer, then a fixed
    /// xor), so different names give different states; `low` is a
    /// multiplicative hash of `high`, so both words look random and no two
    /// streams share a low word by construction (the low word of this
    /// generator's state evolves by itself).
    #[inline(always)]
    fn state(&self, id: u64) -> u128 {
        let [k0, k1, k2, k3] = self.0;
        let high = mix64(k0 ^ id) ^ k2;
        let low = (high ^ k1).wrapping_mul(0xD1B5_4A32_D192_ED03) ^ k3;
        (u128::from(high) << 64) | u128::from(low)
    }

    /// The stream of one patient and purpose.
    #[inline(always)]
    pub fn stream(&self, patient: u64, purpose: Purpose) -> Stream {
        self.named((patient << PURPOSE_BITS) | purpose as u64)
    }

    /// The stream for drawing this replicate's parameter values.
    pub fn parameters(&self) -> Stream {
        self.named(PARAMETER_STREAM)
    }

    /// The stream for drawing one drug's parameter values, named by the
    /// drug's name key, so a drug's values do not depend on the other drugs.
    pub fn drug_parameters(&self, drug_key: u64) -> Stream {
        self.named(mix64(PARAMETER_STREAM ^ drug_key))
    }

    /// The stream for drawing economic values: `[economics]` itself with
    /// `tag` 0, one drug's costs with its name key. Apart from every model
    /// parameter's stream, so adding `[economics]` changes no other draw.
    pub fn economics_parameters(&self, tag: u64) -> Stream {
        self.named(mix64(mix64(PARAMETER_STREAM ^ ECONOMICS_STREAM) ^ tag))
    }

    /// The key of one arm of one simulated trial (`crmo-sim trial`), named by
    /// (sample size per arm, trial, arm): the arm's patients are numbered
    /// from 0 under it, so no patient is shared between arms, trials or
    /// sample sizes, and none with a `run` of the scenario (the name's
    /// purpose bits are [`Purpose::Trial`], which no patient stream uses).
    pub fn trial_arm(&self, per_arm: u64, trial: u64, arm: u64) -> ReplicateKey {
        let name = mix64(mix64(mix64(per_arm) ^ trial) ^ arm);
        let mut s = self.named((name << PURPOSE_BITS) | Purpose::Trial as u64);
        ReplicateKey([s.next_u64(), s.next_u64(), s.next_u64(), s.next_u64()])
    }

    /// A patient's latent responsiveness stream for one drug, named by the
    /// drug's name key (not its position in the scenario).
    pub fn trait_stream(&self, patient: u64, drug_key: u64) -> Stream {
        let base = (patient << PURPOSE_BITS) | Purpose::Responsiveness as u64;
        self.named(mix64(base) ^ drug_key)
    }
}

/// Names the per-replicate parameter streams of the mimic populations
/// (`[differential]`), apart from every drug's.
const MIMIC_PARAMETERS: u64 = 0x6d69_6d69_6373_0000;

impl ReplicateKey {
    /// The stream for drawing one mimic population's parameter values
    /// (`population` is its position in the differential), so they touch
    /// no stream of the CRMO cohort.
    pub fn mimic_parameters(&self, population: u64) -> Stream {
        self.named(mix64(
            mix64(PARAMETER_STREAM ^ MIMIC_PARAMETERS) ^ population,
        ))
    }
}

/// Largest patient index the stream layout supports.
pub const MAX_PATIENTS: u64 = (1 << (64 - PURPOSE_BITS)) - 1;

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    /// The versions the manifest records are the exact pins of Cargo.toml
    /// (the build script reads them from Cargo.lock).
    #[test]
    fn rng_crate_versions_are_the_pinned_ones() {
        let cargo_toml = include_str!("../../Cargo.toml");
        for name in ["rand", "rand_chacha", "rand_pcg", "rand_distr"] {
            let line = cargo_toml
                .lines()
                .find(|l| l.starts_with(&format!("{name} = ")))
                .unwrap_or_else(|| panic!("Cargo.toml has no {name} dependency"));
            let pinned = line
                .split("\"=")
                .nth(1)
                .and_then(|v| v.split('"').next())
                .unwrap_or_else(|| panic!("{name} is not pinned exactly: {line}"));
            assert!(
                RNG_CRATES.contains(&format!("{name} {pinned}")),
                "{RNG_CRATES:?} does not name {name} {pinned}"
            );
        }
    }

    #[test]
    fn streams_are_pinned() {
        // Golden values: a change here changes every simulated result.
        let key = ReplicateKey::new(1, 0);
        let a = key.stream(0, Purpose::Baseline).next_u64();
        let b = key.stream(0, Purpose::FlareTiming).next_u64();
        let c = ReplicateKey::new(1, 1)
            .stream(0, Purpose::Baseline)
            .next_u64();
        assert_eq!(
            (a, b, c),
            (GOLDEN[0], GOLDEN[1], GOLDEN[2]),
            "first draws of the pinned streams changed: {a:#x} {b:#x} {c:#x}"
        );
    }

    const GOLDEN: [u64; 3] = [
        0x19bf_6815_b9eb_a0d4,
        0xbb44_d58a_464c_6dd4,
        0x8d54_eece_f01d_91d8,
    ];

    /// The mimics' streams are pinned too, and none of them is a CRMO
    /// patient's stream (the purposes are distinct, so the names are).
    #[test]
    fn mimic_streams_are_pinned_and_apart_from_patients() {
        let key = ReplicateKey::new(1, 0);
        let a = key.stream(0, Purpose::BacterialOsteomyelitis).next_u64();
        let b = key.mimic_parameters(0).next_u64();
        assert_eq!(
            (a, b),
            (GOLDEN_MIMIC[0], GOLDEN_MIMIC[1]),
            "first draws of the mimic streams changed: {a:#x} {b:#x}"
        );
        let crmo = [
            Purpose::Baseline,
            Purpose::FlareTiming,
            Purpose::FlareFeatures,
            Purpose::Lesions,
            Purpose::Imaging,
            Purpose::Treatment,
            Purpose::DiagnosisRoute,
        ];
        let mimics = [
            Purpose::BacterialOsteomyelitis,
            Purpose::MalignantTumour,
            Purpose::BenignTumour,
        ];
        for p in 0..20 {
            for m in mimics {
                let x = key.stream(p, m).next_u64();
                for q in 0..20 {
                    for c in crmo {
                        assert_ne!(x, key.stream(q, c).next_u64(), "{p} {m:?} = {q} {c:?}");
                    }
                }
            }
        }
    }

    const GOLDEN_MIMIC: [u64; 2] = [0xe23e_2975_9934_d4d0, 0xd9ea_5e4b_1c53_3088];

    #[test]
    fn trial_keys_are_pinned_and_distinct() {
        let key = ReplicateKey::new(1, 0);
        let first = |k: ReplicateKey| k.stream(0, Purpose::Baseline).next_u64();
        let keys = [
            key.trial_arm(20, 0, 0),
            key.trial_arm(20, 0, 1),
            key.trial_arm(20, 1, 0),
            key.trial_arm(40, 0, 0),
        ];
        let draws: Vec<u64> = keys.iter().map(|k| first(*k)).collect();
        let mut unique = draws.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), draws.len());
        assert!(!draws.contains(&first(key)));
        assert_eq!(
            draws[0], TRIAL_GOLDEN,
            "first trial draw changed: {:#x}",
            draws[0]
        );
    }

    const TRIAL_GOLDEN: u64 = 0x97e1_cfbf_9b6d_240e;

    #[test]
    fn streams_differ_by_patient_and_purpose() {
        let key = ReplicateKey::new(42, 0);
        let x: Vec<u64> = (0..50)
            .flat_map(|p| {
                [Purpose::Baseline, Purpose::Lesions].map(|q| key.stream(p, q).random::<u64>())
            })
            .collect();
        let mut y = x.clone();
        y.sort_unstable();
        y.dedup();
        assert_eq!(x.len(), y.len());
    }

    /// Distinct names give distinct states (with the lowest bit the
    /// generator sets) and distinct low words (every purpose of a patient,
    /// both parities of the key's low word), and every purpose of a patient
    /// starts its stream at a different output.
    #[test]
    fn distinct_names_give_distinct_states() {
        for k1_low_bit in [0, 1] {
            let mut key = ReplicateKey::new(7, 3);
            key.0[1] = (key.0[1] & !1) | k1_low_bit;
            let names = (0..64u64)
                .flat_map(|p| (0..1 << PURPOSE_BITS).map(move |q| (p << PURPOSE_BITS) | q))
                .chain([
                    PARAMETER_STREAM,
                    PARAMETER_STREAM - 1,
                    1 << 63,
                    (1 << 63) | 1,
                ]);
            let mut states: Vec<u128> = names.clone().map(|id| key.state(id) | 1).collect();
            let mut lows: Vec<u64> = names.clone().map(|id| key.state(id) as u64 | 1).collect();
            let mut firsts: Vec<u64> = names.map(|id| key.named(id).next_u64()).collect();
            let n = states.len();
            states.sort_unstable();
            states.dedup();
            lows.sort_unstable();
            lows.dedup();
            firsts.sort_unstable();
            firsts.dedup();
            assert_eq!((states.len(), lows.len(), firsts.len()), (n, n, n));
        }
    }
}
