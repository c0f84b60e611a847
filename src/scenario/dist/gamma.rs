//! The gamma distribution as `rand_distr::Gamma` samples it (Marsaglia and
//! Tsang 2000, with the shape-boost for shapes below 1), its normal draws
//! taken through [`super::normal::std_normal`]: the same numbers from the same
//! generator states, bit for bit, for shapes of 1 or more
//! (`tests::draws_what_rand_distr_draws`), with the normal's common case
//! inlined instead of a call per attempt. Below shape 1 the boost's
//! `U^(1/shape)` is drawn as `exp(-E / shape)`, E exponential: the same
//! distribution without a pow (`tests::small_shapes_draw_the_boost_by_exp`).
//! Frailty (a shape below 1 in the calibrated model) and the negative
//! binomial of the lesions at onset draw one of these per patient.

use rand::Rng;
use rand_distr::{Distribution, Exp1, Open01};

use super::normal::std_normal;

/// A gamma distribution with a shape and a scale; the construction
/// `rand_distr::Gamma::new(shape, scale)` would make, drawn the same way.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Gamma {
    /// Shape below 1: a draw of shape + 1 times `u^(1/shape)`.
    Small {
        /// 1 / shape.
        inv_shape: f64,
        /// The gamma of shape + 1 and the same scale.
        boosted: LargeShape,
    },
    /// Shape 1: an exponential, Exp(1) times `1 / (1 / scale)` (the
    /// exponential's mean as `rand_distr` computes it from its rate).
    One {
        /// The mean.
        lambda_inverse: f64,
    },
    /// Shape above 1: Marsaglia and Tsang's squeeze.
    Large(LargeShape),
}

/// Marsaglia and Tsang's sampler for a shape of 1 or more.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LargeShape {
    scale: f64,
    c: f64,
    d: f64,
}

impl LargeShape {
    fn new(shape: f64, scale: f64) -> Self {
        let d = shape - 1.0 / 3.0;
        LargeShape {
            scale,
            c: 1.0 / (9.0 * d).sqrt(),
            d,
        }
    }

    #[inline]
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        loop {
            let x = std_normal(rng);
            let v_cbrt = 1.0 + self.c * x;
            if v_cbrt <= 0.0 {
                continue;
            }
            let v = v_cbrt * v_cbrt * v_cbrt;
            let u: f64 = rng.sample(Open01);
            let x_sqr = x * x;
            if u < 1.0 - 0.0331 * x_sqr * x_sqr
                || u.ln() < 0.5 * x_sqr + self.d * (1.0 - v + v.ln())
            {
                return self.d * v * self.scale;
            }
        }
    }
}

impl Gamma {
    /// The gamma with this shape and scale; `None` where `rand_distr`
    /// refuses them (a shape or scale that is not above 0).
    pub fn new(shape: f64, scale: f64) -> Option<Self> {
        // A NaN shape or scale is refused too.
        let above_zero = |x: f64| x.partial_cmp(&0.0) == Some(std::cmp::Ordering::Greater);
        if !above_zero(shape) || !above_zero(scale) {
            return None;
        }
        Some(if shape == 1.0 {
            Gamma::One {
                lambda_inverse: 1.0 / (1.0 / scale),
            }
        } else if shape < 1.0 {
            Gamma::Small {
                inv_shape: 1.0 / shape,
                boosted: LargeShape::new(shape + 1.0, scale),
            }
        } else {
            Gamma::Large(LargeShape::new(shape, scale))
        })
    }
}

impl Distribution<f64> for Gamma {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Gamma::Small { inv_shape, boosted } => {
                // U^(1/shape) as exp(-E / shape) with E = -ln U ~ Exp(1):
                // the same distribution, an exponential's ziggurat draw and
                // one exp instead of a uniform and a pow.
                let e: f64 = rng.sample(Exp1);
                boosted.sample(rng) * (-e * inv_shape).exp()
            }
            Gamma::One { lambda_inverse } => {
                let e: f64 = rng.sample(Exp1);
                e * lambda_inverse
            }
            Gamma::Large(g) => g.sample(rng),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Shapes below, at and above 1, small and large scales: every draw is
    /// `rand_distr`'s, bit for bit, and the generators end in step.
    #[test]
    fn draws_what_rand_distr_draws() {
        for (k, &(shape, scale)) in [(1.0, 2.5), (1.6, 1.875), (2.5, 84.0), (37.0, 0.01)]
            .iter()
            .enumerate()
        {
            let ours = Gamma::new(shape, scale).unwrap();
            let theirs = rand_distr::Gamma::new(shape, scale).unwrap();
            let mut a = rand_pcg::Pcg64Mcg::seed_from_u64(k as u64);
            let mut b = a.clone();
            for _ in 0..100_000 {
                let x = ours.sample(&mut a);
                let y = theirs.sample(&mut b);
                assert_eq!(x.to_bits(), y.to_bits(), "shape {shape} scale {scale}");
            }
            assert_eq!(a, b, "shape {shape} scale {scale}");
        }
    }

    /// Below shape 1 a draw is `rand_distr`'s gamma of shape + 1 times
    /// `exp(-E / shape)`, E its exponential drawn first, bit for bit, and
    /// the generators end in step; the draws' mean and variance are the
    /// gamma's (shape × scale, shape × scale²) within sampling error.
    #[test]
    fn small_shapes_draw_the_boost_by_exp() {
        for (k, &(shape, scale)) in [(0.667, 1.5), (0.05, 3.0), (0.5, 1.0)].iter().enumerate() {
            let ours = Gamma::new(shape, scale).unwrap();
            let boosted = rand_distr::Gamma::new(shape + 1.0, scale).unwrap();
            let mut a = rand_pcg::Pcg64Mcg::seed_from_u64(k as u64);
            let mut b = a.clone();
            let n = 200_000;
            let (mut sum, mut sum_sq) = (0.0, 0.0);
            for _ in 0..n {
                let x = ours.sample(&mut a);
                let e: f64 = b.sample(Exp1);
                let y = boosted.sample(&mut b) * (-e * (1.0 / shape)).exp();
                assert_eq!(x.to_bits(), y.to_bits(), "shape {shape} scale {scale}");
                sum += x;
                sum_sq += x * x;
            }
            assert_eq!(a, b, "shape {shape} scale {scale}");
            let mean = sum / f64::from(n);
            let var = sum_sq / f64::from(n) - mean * mean;
            let (m, v) = (shape * scale, shape * scale * scale);
            // Standard error of the mean sqrt(v / n); of the variance about
            // v * sqrt((2 + 6 / shape) / n) (a gamma's excess kurtosis).
            let se_m = (v / f64::from(n)).sqrt();
            let se_v = v * ((2.0 + 6.0 / shape) / f64::from(n)).sqrt();
            assert!(
                (mean - m).abs() < 5.0 * se_m,
                "shape {shape}: mean {mean} vs {m}"
            );
            assert!(
                (var - v).abs() < 5.0 * se_v,
                "shape {shape}: variance {var} vs {v}"
            );
        }
    }

    /// The parameters `rand_distr` refuses are refused.
    #[test]
    fn refuses_what_rand_distr_refuses() {
        for (shape, scale) in [
            (0.0, 1.0),
            (-1.0, 1.0),
            (1.0, 0.0),
            (f64::NAN, 1.0),
            (2.0, f64::NAN),
        ] {
            assert!(Gamma::new(shape, scale).is_none());
            assert!(rand_distr::Gamma::new(shape, scale).is_err());
        }
    }
}
