//! What the clinic sees of the simulated patient: diagnosis with its
//! criteria, follow-up imaging, checkpoints after diagnosis (state, lesions,
//! activity score, the PedCNO core set) and the response to each drug that
//! calibration targets C10 and C11 count.

use rand::Rng;

use crate::model::criteria::{self, Findings};
use crate::model::{Site, Stage};

use super::super::outcome::activity_score;

use super::super::treatment::TreatmentTrigger;
use super::{
    CoreSet, Diagnosis, EventKind, Observer, Sim, State, CHECKPOINT_DAYS, NEVER, N_CHECKPOINTS,
};

/// C10: a flare running when a drug starts has ended 12 weeks later.
const FLARE_ENDED_WITHIN_DAYS: f64 = 84.0;
/// C11: not in a flare 6 months after starting a drug.
const NOT_IN_FLARE_AFTER_DAYS: f64 = 182.625;
/// C14: the first whole-body MRI at least 12 months after the first course
/// [Pamidronate2019] (less a second, so the yearly visit 12 months after a
/// drug started at diagnosis counts whatever the rounding).
const MRI_CHECK_AFTER_DAYS: f64 = 365.25 - 1e-5;

/// CHAQ (0-3) per point of pain (VAS): function limited in proportion to
/// pain, 1.5 at the worst pain (assumption: no published CHAQ-pain relation
/// for CNO).
const CHAQ_PER_PAIN_POINT: f64 = 0.15;

/// Day of the `n`-th visit of a schedule every `every` days from `from`:
/// one product and one sum, as the checkpoint days are computed.
fn nth_visit_day(from: f64, n: u32, every: f64) -> f64 {
    from + f64::from(n) * every
}

impl<O: Observer, const L: bool> Sim<'_, '_, O, L> {
    pub(super) fn diagnose(&mut self) {
        // Time in this flare counts as after diagnosis from now on.
        self.dx_flare_counted_to = self.day;
        let sens = self.m.sensitivity_at_diagnosis;
        let mut f = Findings {
            normal_blood_count: !self.abnormal_blood_count,
            normal_temperature: !self.flare.fever,
            crp_mg_l_x10: self.flare.crp_x10,
            ..Findings::default()
        };
        let mut silent_seen = 0;
        let mut sides = [0u8; 11];
        let mut only_site = None;
        // Active lesions in lesion order (one imaging draw per silent unseen one).
        for k in 0..self.scratch.book.active.len() {
            let i = self.scratch.book.active.lesion(k);
            let l = self.scratch.lesions[i];
            let seen = l.symptomatic || l.seen || self.rng.imaging.random::<f64>() < sens;
            if !seen {
                continue;
            }
            if !l.seen {
                self.mark_seen(i);
            }
            f.lesions_seen += 1;
            silent_seen += u32::from(!l.symptomatic);
            f.marginal_sclerosis |= l.stage >= Stage::Mixed;
            f.vertebral_clavicular_sternal |=
                matches!(l.site, Site::Spine | Site::Clavicle | Site::SternumRibs);
            sides[l.site as usize] |= 1 << l.side;
            only_site = Some(l.site);
        }
        f.symmetric_lesions = sides.iter().any(|s| s & 0b110 == 0b110);
        f.solitary_clavicle = f.lesions_seen == 1 && only_site == Some(Site::Clavicle);
        let jansson = criteria::jansson_score(&f);
        let bristol_1 = criteria::bristol_criterion_1(&f, self.g.values.crp_cutoff_mg_l);
        self.out.diagnosis = Some(Diagnosis {
            day: self.day,
            findings: f,
            silent_seen,
            jansson,
            bristol_1,
        });
        self.obs.event(
            self.day,
            EventKind::Diagnosis {
                jansson,
                bristol_1,
                lesions_seen: f.lesions_seen,
            },
        );
        self.out.core_set[0] = Some(self.core_set());
        self.next_checkpoint_day = self.checkpoint_day();
        self.ltfu_day = self.day + self.ltfu_after_dx_days;
        self.imaging_visits = 0;
        self.next_imaging_day = self.follow_up_imaging_day();
        self.refresh_rare();
        self.notify_treatment(TreatmentTrigger::Diagnosis);
    }

    pub(super) fn follow_up_imaging(&mut self) {
        self.obs.event(self.day, EventKind::Imaging);
        let sens = self.m.sensitivity_follow_up;
        // Active lesions in lesion order (one imaging draw per unseen one).
        for k in 0..self.scratch.book.active.len() {
            let i = self.scratch.book.active.lesion(k);
            if !self.scratch.lesions[i].seen && self.rng.imaging.random::<f64>() < sens {
                self.mark_seen(i);
            }
        }
        self.check_mri_resolution();
        self.next_imaging_day = self.follow_up_imaging_day();
        self.refresh_rare();
    }

    /// C14: for each drug whose first start was 12 months or more before
    /// this imaging and not yet checked, whether this first such imaging
    /// finds every lesion resolved (none inflamed).
    fn check_mri_resolution(&mut self) {
        let Some(t) = self.treatment.as_deref() else {
            return;
        };
        let clear = if self.scratch.book.inflamed == 0 {
            2
        } else {
            1
        };
        // Only drugs started so far have a first start day.
        let mut started = t.started_drugs();
        while started != 0 {
            let d = started.trailing_zeros() as usize;
            started &= started - 1;
            let seen = &mut self.mri_clear_12_months[d];
            if *seen == 0 && self.day - t.first_start_day(d) >= MRI_CHECK_AFTER_DAYS {
                *seen = clear;
            }
        }
    }

    /// The next follow-up imaging: diagnosis day plus a whole number of
    /// intervals, computed like the checkpoint days, so that a visit and a
    /// checkpoint due the same day are the same day whatever the rounding
    /// (imaging comes first, and the checkpoint counts what it found).
    fn follow_up_imaging_day(&mut self) -> f64 {
        self.imaging_visits += 1;
        match &self.out.diagnosis {
            Some(d) => nth_visit_day(d.day, self.imaging_visits, self.m.follow_up_every_days),
            None => NEVER,
        }
    }

    /// Active lesion `i` is seen on imaging for the first time.
    fn mark_seen(&mut self, i: usize) {
        self.scratch.lesions[i].seen = true;
        self.scratch.book.seen();
        self.obs
            .event(self.day, EventKind::LesionSeen { lesion: i as u32 });
    }

    /// Day of the next checkpoint after diagnosis (never before diagnosis).
    fn checkpoint_day(&self) -> f64 {
        match (
            &self.out.diagnosis,
            CHECKPOINT_DAYS.get(self.next_checkpoint),
        ) {
            (Some(d), Some(offset)) => d.day + offset,
            _ => NEVER,
        }
    }

    // Inlined: the loop records a checkpoint at two places (as an event of
    // its own, and right after the imaging of its day); out of line, the
    // call's register saves cost about as much as the body.
    #[inline(always)]
    pub(super) fn record_checkpoint(&mut self) {
        let i = self.next_checkpoint;
        // Always true (after the last checkpoint the next one's day is
        // NEVER); checked once here, not at each of the four records below.
        assert!(i < N_CHECKPOINTS, "checkpoint {i} past the last");
        let activity = if self.in_flare {
            self.flare.activity
        } else {
            0.0
        };
        let book = &self.scratch.book;
        let c = &mut self.out.checkpoints;
        c.state[i] = if self.in_flare { 1 } else { 2 };
        c.activity[i] = activity as f32;
        c.symptomatic_lesions[i] = book.painful_active as u16;
        c.seen_lesions[i] = book.seen_active as u16;
        if i < 2 {
            // Checkpoints 0 and 1 are 6 and 12 months after diagnosis.
            self.out.core_set[i + 1] = Some(self.core_set());
        }
        self.next_checkpoint = (i + 1).min(N_CHECKPOINTS);
        self.next_checkpoint_day = self.checkpoint_day();
    }

    /// The PedCNO core set at a clinic visit now (see [`CoreSet`] for how
    /// each variable is derived): pain is the flare's, or between flares
    /// `residual_pain_vas` while a painful lesion is still inflamed on MRI.
    fn core_set(&self) -> CoreSet {
        let inflamed = self.inflamed_lesions();
        let pain = if self.in_flare {
            self.flare.pain
        } else if inflamed.painful > 0 {
            self.g.values.residual_pain_vas
        } else {
            0.0
        };
        let (fever, crp) = if self.in_flare {
            (self.flare.fever, f64::from(self.flare.crp_x10) / 10.0)
        } else {
            (false, 0.0)
        };
        CoreSet {
            physician_global: activity_score(pain, fever, crp, inflamed.seen),
            patient_global: pain,
            mri_lesions: f64::from(inflamed.seen),
            worst_lesion: f64::from(inflamed.worst),
            chaq: CHAQ_PER_PAIN_POINT * pain,
        }
    }

    /// For each drug the patient started: did a flare running at its first
    /// start end within 12 weeks (C10), and was the patient out of a flare 6
    /// months after it (C11)? Read from the closed state segments.
    pub(super) fn check_drug_responses(&mut self) {
        let end = self.out.observed_days;
        // The drugs started are those with a first start day.
        let mut started = self.treatment.as_deref().map_or(0, |t| t.started_drugs());
        while started != 0 {
            let d = started.trailing_zeros() as usize;
            started &= started - 1;
            let s = self.out.treatment.first_start_day[d];
            let flare_at = |t: f64| {
                self.scratch
                    .segments
                    .iter()
                    .find(|g| g.state == State::Active && g.start_day <= t && t < g.end_day)
            };
            self.out.treatment.flare_ended_12_weeks[d] = match flare_at(s) {
                None => 0,
                Some(g) if g.end_day < end && g.end_day <= s + FLARE_ENDED_WITHIN_DAYS => 2,
                Some(_) => 1,
            };
            let t = s + NOT_IN_FLARE_AFTER_DAYS;
            self.out.treatment.not_in_flare_6_months[d] = if t >= end {
                0
            } else if flare_at(t).is_some() {
                1
            } else {
                2
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::model_values::{DAYS_PER_MONTH, DAYS_PER_YEAR};
    use super::super::anniversary_index;
    use super::*;

    /// Yearly imaging and the yearly checkpoints fall on the same day to
    /// the bit, for any diagnosis day, so the tie order (imaging first)
    /// decides and not the rounding of a running sum.
    #[test]
    fn yearly_imaging_falls_on_the_checkpoint_days() {
        assert_eq!(12.0 * DAYS_PER_MONTH, DAYS_PER_YEAR);
        let mut summed_differs = 0;
        for k in 0..2000 {
            let dx = 17.0 + f64::from(k) * 1.618_033_988_7;
            let mut summed = dx;
            for year in 1..=10u32 {
                let visit = nth_visit_day(dx, year, 12.0 * DAYS_PER_MONTH);
                let checkpoint = dx + CHECKPOINT_DAYS[anniversary_index(year as usize)];
                assert_eq!(visit.to_bits(), checkpoint.to_bits(), "dx {dx} year {year}");
                summed += 12.0 * DAYS_PER_MONTH;
                summed_differs += usize::from(summed != checkpoint);
            }
        }
        // The running sum the schedule replaces does drift off them.
        assert!(summed_differs > 0);
    }
}
