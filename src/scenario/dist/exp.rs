//! `exp` in plain floating-point arithmetic, for the samplers' hot paths
//! (log-normal draws, the gamma's shape boost): a table of 2^(j/64) and a
//! degree-6 polynomial on the remainder, inlined where it is called instead
//! of a call into the platform's libm. It uses only IEEE additions and
//! multiplications, so it gives the same bits on every machine. The table's
//! rounding error is added back, so the result is within about 0.5 ulp of
//! the exact value: within 1 ulp of `f64::exp` and equal to it on nearly
//! every input (`tests::within_one_ulp_of_libm`).

/// Table entries per doubling.
const N: i64 = 64;

/// 2^(j/64) for j in 0..64, correctly rounded (computed to 60 digits).
const TWO_TO_J_OVER_N: [u64; 64] = [
    0x3ff0000000000000,
    0x3ff02c9a3e778061,
    0x3ff059b0d3158574,
    0x3ff0874518759bc8,
    0x3ff0b5586cf9890f,
    0x3ff0e3ec32d3d1a2,
    0x3ff11301d0125b51,
    0x3ff1429aaea92de0,
    0x3ff172b83c7d517b,
    0x3ff1a35beb6fcb75,
    0x3ff1d4873168b9aa,
    0x3ff2063b88628cd6,
    0x3ff2387a6e756238,
    0x3ff26b4565e27cdd,
    0x3ff29e9df51fdee1,
    0x3ff2d285a6e4030b,
    0x3ff306fe0a31b715,
    0x3ff33c08b26416ff,
    0x3ff371a7373aa9cb,
    0x3ff3a7db34e59ff7,
    0x3ff3dea64c123422,
    0x3ff4160a21f72e2a,
    0x3ff44e086061892d,
    0x3ff486a2b5c13cd0,
    0x3ff4bfdad5362a27,
    0x3ff4f9b2769d2ca7,
    0x3ff5342b569d4f82,
    0x3ff56f4736b527da,
    0x3ff5ab07dd485429,
    0x3ff5e76f15ad2148,
    0x3ff6247eb03a5585,
    0x3ff6623882552225,
    0x3ff6a09e667f3bcd,
    0x3ff6dfb23c651a2f,
    0x3ff71f75e8ec5f74,
    0x3ff75feb564267c9,
    0x3ff7a11473eb0187,
    0x3ff7e2f336cf4e62,
    0x3ff82589994cce13,
    0x3ff868d99b4492ed,
    0x3ff8ace5422aa0db,
    0x3ff8f1ae99157736,
    0x3ff93737b0cdc5e5,
    0x3ff97d829fde4e50,
    0x3ff9c49182a3f090,
    0x3ffa0c667b5de565,
    0x3ffa5503b23e255d,
    0x3ffa9e6b5579fdbf,
    0x3ffae89f995ad3ad,
    0x3ffb33a2b84f15fb,
    0x3ffb7f76f2fb5e47,
    0x3ffbcc1e904bc1d2,
    0x3ffc199bdd85529c,
    0x3ffc67f12e57d14b,
    0x3ffcb720dcef9069,
    0x3ffd072d4a07897c,
    0x3ffd5818dcfba487,
    0x3ffda9e603db3285,
    0x3ffdfc97337b9b5f,
    0x3ffe502ee78b3ff6,
    0x3ffea4afa2a490da,
    0x3ffefa1bee615a27,
    0x3fff50765b6e4540,
    0x3fffa7c1819e90d8,
];

/// 2^(j/64) less its entry in [`TWO_TO_J_OVER_N`], rounded: the table's
/// rounding error, added back.
const TAILS: [u64; 64] = [
    0x0000000000000000,
    0xbc719083535b085d,
    0x3c8d73e2a475b465,
    0x3c6186be4bb284ff,
    0x3c98a62e4adc610b,
    0x3c403a1727c57b53,
    0xbc96c51039449b3a,
    0xbc932fbf9af1369e,
    0xbc819041b9d78a76,
    0x3c8e5b4c7b4968e4,
    0x3c9e016e00a2643c,
    0x3c8dc775814a8495,
    0x3c99b07eb6c70573,
    0x3c82bd339940e9d9,
    0x3c8612e8afad1255,
    0x3c90024754db41d5,
    0x3c86f46ad23182e4,
    0x3c932721843659a6,
    0xbc963aeabf42eae2,
    0xbc75e436d661f5e3,
    0x3c8ada0911f09ebc,
    0xbc5ef3691c309278,
    0x3c489b7a04ef80d0,
    0x3c73c1a3b69062f0,
    0x3c7d4397afec42e2,
    0xbc94b309d25957e3,
    0xbc807abe1db13cad,
    0x3c99bb2c011d93ad,
    0x3c96324c054647ad,
    0x3c9ba6f93080e65e,
    0xbc9383c17e40b497,
    0xbc9bb60987591c34,
    0xbc9bdd3413b26456,
    0xbc6bbe3a683c88ab,
    0xbc816e4786887a99,
    0xbc90245957316dd3,
    0xbc841577ee04992f,
    0x3c705d02ba15797e,
    0xbc9d4c1dd41532d8,
    0xbc9fc6f89bd4f6ba,
    0x3c96e9f156864b27,
    0x3c85cc13a2e3976c,
    0xbc675fc781b57ebc,
    0xbc9d185b7c1b85d1,
    0x3c7c7c46b071f2be,
    0xbc9359495d1cd533,
    0xbc9d2f6edb8d41e1,
    0x3c90fac90ef7fd31,
    0x3c97a1cd345dcc81,
    0xbc62805e3084d708,
    0xbc75584f7e54ac3b,
    0x3c823dd07a2d9e84,
    0x3c811065895048dd,
    0x3c92884dff483cad,
    0x3c7503cbd1e949db,
    0xbc9cbc3743797a9c,
    0x3c82ed02d75b3707,
    0x3c9c2300696db532,
    0xbc91a5cd4f184b5c,
    0x3c839e8980a9cc8f,
    0xbc9e9c23179c2893,
    0x3c9dc7f486a4b6b0,
    0x3c99d3e12dd8a18b,
    0x3c874853f3a5931e,
];

/// 64 / ln 2.
const INV_STEP: f64 = 92.332_482_616_893_66;
/// ln 2 / 64 split in two: the high part has 21 significant bits, so k
/// times it is exact for every k of the range.
const STEP_HI: f64 = 0.010_830_417_275_428_772;
/// ln 2 / 64 less `STEP_HI`.
const STEP_LO: f64 = 7.420_820_373_486_988e-9;
/// 1.5 × 2^52: adding it rounds a float below 2^51 to an integer held in
/// the low bits of the sum.
const SHIFT: f64 = 6_755_399_441_055_744.0;

/// e^x. NaN gives NaN, overflow infinity, underflow 0 (subnormal results
/// are rounded twice, still deterministically).
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    if x > -708.0 && x < 709.0 {
        scaled(x, 0)
    } else {
        exp_far(x)
    }
}

/// e^x for x at the ends of the range, through a result scaled into the
/// normal range and scaled back.
#[cold]
#[inline(never)]
fn exp_far(x: f64) -> f64 {
    if x.is_nan() {
        x
    } else if x >= 710.0 {
        f64::INFINITY
    } else if x <= -746.0 {
        0.0
    } else if x > 0.0 {
        scaled(x, -512) * f64::from_bits((1023 + 512) << 52)
    } else {
        scaled(x, 512) * f64::from_bits((1023 - 512) << 52)
    }
}

/// e^x × 2^bias, for x and bias whose result is a normal number.
#[inline(always)]
fn scaled(x: f64, bias: i64) -> f64 {
    // x = k ln2/64 + r with |r| <= ln2/128, k = 64e + j.
    let z = x * INV_STEP + SHIFT;
    let k = (z.to_bits() as i64).wrapping_sub(SHIFT.to_bits() as i64);
    let kf = z - SHIFT;
    let r = (x - kf * STEP_HI) - kf * STEP_LO;
    let j = (k & (N - 1)) as usize;
    let e = (k >> 6) + bias;
    let scale = f64::from_bits(((1023 + e) as u64) << 52);
    let t = f64::from_bits(TWO_TO_J_OVER_N[j]);
    let tail = f64::from_bits(TAILS[j]);
    // e^r - 1 by its Taylor series: the first omitted term is below
    // 2^-70 of the result for |r| <= ln2/128.
    let p = r + r
        * r
        * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0)))));
    (t + (tail + t * p)) * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in ulps between two finite non-negative floats.
    fn ulps(a: f64, b: f64) -> u64 {
        a.to_bits().abs_diff(b.to_bits())
    }

    /// Over the whole range (an even grid, a fine grid around 0 where the
    /// samplers mostly are, and the ends): within 1 ulp of libm's exp
    /// (itself within about 0.5 ulp of exact), and equal to it on most
    /// inputs.
    #[test]
    fn within_one_ulp_of_libm() {
        let grid = (0..2_000_000).map(|i| -745.0 + 1454.7 * f64::from(i) / 2_000_000.0);
        let near_zero = (0..2_000_000).map(|i| -20.0 + 40.0 * f64::from(i) / 2_000_000.0);
        let (mut n, mut equal) = (0u32, 0u32);
        for x in grid.chain(near_zero) {
            let (ours, libm) = (exp(x), x.exp());
            let d = ulps(ours, libm);
            assert!(d <= 1, "exp({x:e}) = {ours:e}, libm {libm:e}");
            n += 1;
            equal += u32::from(d == 0);
        }
        assert!(
            f64::from(equal) > 0.99 * f64::from(n),
            "{equal} of {n} equal"
        );
    }

    #[test]
    fn special_values() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(1.0), std::f64::consts::E);
        assert!(exp(f64::NAN).is_nan());
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp(710.0), f64::INFINITY);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp(-746.0), 0.0);
        assert!(ulps(exp(709.7), 709.7f64.exp()) <= 1);
        assert!(ulps(exp(-740.0), (-740.0f64).exp()) <= 1);
    }
}
