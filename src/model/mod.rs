//! The disease model's vocabulary: lesion sites and imaging stages, associated
//! conditions, genotypes, and the clinical criteria computed at diagnosis.
//! The simulation itself lives in [`crate::engine`]; this module holds what a
//! simulated patient *is*, not how it moves.

pub mod criteria;
pub mod mimics;

/// Genetic form of the disease.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Genotype {
    /// Sporadic CRMO.
    Sporadic,
    /// Majeed syndrome (autosomal recessive LPIN2).
    Majeed,
}

impl Genotype {
    /// Lower-case name used in CSV files.
    pub fn as_str(self) -> &'static str {
        match self {
            Genotype::Sporadic => "sporadic",
            Genotype::Majeed => "majeed",
        }
    }
}

/// Where a lesion sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Site {
    /// Tibia.
    Tibia,
    /// Femur.
    Femur,
    /// Pelvis.
    Pelvis,
    /// Vertebral column.
    Spine,
    /// Clavicle.
    Clavicle,
    /// Fibula.
    Fibula,
    /// Foot.
    Foot,
    /// Humerus, forearm, hand.
    UpperLimb,
    /// Mandible.
    Mandible,
    /// Sternum and ribs.
    SternumRibs,
    /// Anywhere else.
    Other,
}

impl Site {
    /// All sites, in the order of [`crate::scenario::SiteWeights::as_array`].
    pub const ALL: [Site; 11] = [
        Site::Tibia,
        Site::Femur,
        Site::Pelvis,
        Site::Spine,
        Site::Clavicle,
        Site::Fibula,
        Site::Foot,
        Site::UpperLimb,
        Site::Mandible,
        Site::SternumRibs,
        Site::Other,
    ];

    /// Name used in CSV files and charts.
    pub fn as_str(self) -> &'static str {
        match self {
            Site::Tibia => "tibia",
            Site::Femur => "femur",
            Site::Pelvis => "pelvis",
            Site::Spine => "spine",
            Site::Clavicle => "clavicle",
            Site::Fibula => "fibula",
            Site::Foot => "foot",
            Site::UpperLimb => "upper_limb",
            Site::Mandible => "mandible",
            Site::SternumRibs => "sternum_ribs",
            Site::Other => "other",
        }
    }

    /// Whether the site has a left and a right (so lesions can be symmetric).
    pub fn is_paired(self) -> bool {
        !matches!(
            self,
            Site::Spine | Site::Mandible | Site::SternumRibs | Site::Other
        )
    }
}

/// Imaging stage of a lesion; lesions move forward through these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// Newly active, lytic.
    Lytic = 0,
    /// Mixed lytic and sclerotic.
    Mixed = 1,
    /// Sclerotic (marginal sclerosis).
    Sclerotic = 2,
    /// Healed: no longer visible as active.
    Healed = 3,
}

impl Stage {
    /// Name used in CSV files.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Lytic => "lytic",
            Stage::Mixed => "mixed",
            Stage::Sclerotic => "sclerotic",
            Stage::Healed => "healed",
        }
    }

    /// The stage after this one.
    pub fn next(self) -> Stage {
        match self {
            Stage::Lytic => Stage::Mixed,
            Stage::Mixed => Stage::Sclerotic,
            Stage::Sclerotic | Stage::Healed => Stage::Healed,
        }
    }
}

/// Inflammatory conditions associated with CRMO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Condition {
    /// Palmoplantar pustulosis.
    Ppp = 0,
    /// Psoriasis.
    Psoriasis = 1,
    /// Severe acne.
    Acne = 2,
    /// Inflammatory bowel disease.
    Ibd = 3,
    /// Arthritis.
    Arthritis = 4,
}

impl Condition {
    /// All conditions, in bit order.
    pub const ALL: [Condition; 5] = [
        Condition::Ppp,
        Condition::Psoriasis,
        Condition::Acne,
        Condition::Ibd,
        Condition::Arthritis,
    ];

    /// Name used in CSV files and charts.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Ppp => "ppp",
            Condition::Psoriasis => "psoriasis",
            Condition::Acne => "acne",
            Condition::Ibd => "ibd",
            Condition::Arthritis => "arthritis",
        }
    }

    /// The condition in words, for charts (no abbreviation to explain).
    pub fn words(self) -> &'static str {
        match self {
            Condition::Ppp => "palmoplantar pustulosis",
            Condition::Psoriasis => "psoriasis",
            Condition::Acne => "acne",
            Condition::Ibd => "inflammatory bowel disease",
            Condition::Arthritis => "arthritis",
        }
    }

    /// This condition's bit in a condition set.
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// Names of the conditions present in a bit set, joined by `+` (empty: `none`).
pub fn condition_names(set: u8) -> String {
    let names: Vec<&str> = Condition::ALL
        .iter()
        .filter(|c| set & c.bit() != 0)
        .map(|c| c.as_str())
        .collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join("+")
    }
}

#[cfg(test)]
mod tests {
    use super::Site;
    use crate::scenario::SiteWeights;

    #[test]
    fn the_scenarios_site_weight_names_follow_the_sites() {
        let sites = Site::ALL.map(|site| site.as_str());
        assert_eq!(sites, SiteWeights::NAMES);
    }
}
