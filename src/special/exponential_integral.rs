//! The generalized exponential integral E_n(z) = ∫₁^∞ e^(−zt) t^(−n) dt (A&S 5.1.4), scaled as
//! e^z E_n(z) = ∫₀^∞ e^(−zy) (1+y)^(−n) dy: the average over a Gamma purchase rate that the BG
//! family's DERT needs, for real n > 1 and z > 0.

/// e^z E_n(z) at one order n > 1 for any z > 0: by the continued fraction of A&S 5.1.22 for
/// z ≥ 1, by the power series of A&S 5.1.12 (written for real n) below. The series' two
/// terms that are singular when n is an integer, z^(n−1) Γ(1−n) and the k₀-th term of the sum
/// (k₀ the integer nearest n − 1), are summed as one (`pair`): apart, each is about 1/(n−1−k₀)
/// and they cancel, so an n within 1e-8 of an integer would keep half its digits.
#[derive(Debug, Clone, Copy)]
pub struct ScaledExponentialIntegral {
    n: f64,
    /// The integer nearest n − 1, and d = n − 1 − k₀ ∈ [−½, ½].
    k0: f64,
    d: f64,
    /// Whether the pair is summed: past `PAIR_FROM_TERMS` it is below 1e-25 of the rest.
    with_pair: bool,
    /// C in the pair's exponent L = d (ln z + C) (`pair`).
    pair_constant: f64,
    /// 1/k₀!, as a product (statrs' ln Γ(3) is 3e-15 off ln 2).
    inverse_k0_factorial: f64,
}

impl ScaledExponentialIntegral {
    /// `None` unless n > 1 and finite.
    pub fn new(n: f64) -> Option<Self> {
        if !(n > 1.0 && n.is_finite()) {
            return None;
        }
        let k0 = (n - 1.0).round();
        let d = n - 1.0 - k0;
        // Past PAIR_FROM_TERMS the pair is left out: its constant would cost k₀ logarithms.
        let with_pair = k0 <= PAIR_FROM_TERMS;
        let k0_small = k0.min(PAIR_FROM_TERMS) as u32;
        // Σ_{j≤k₀} ln(1 + d/j) / d, the harmonic number H_k₀ at d = 0.
        let rising: f64 = (1..=k0_small)
            .map(|j| {
                let j = j as f64;
                if d == 0.0 {
                    1.0 / j
                } else {
                    (d / j).ln_1p() / d
                }
            })
            .sum();
        Some(Self {
            n,
            k0,
            d,
            with_pair,
            pair_constant: ln_gamma_one_minus_over(d) - rising,
            inverse_k0_factorial: (1..=k0_small).map(|j| 1.0 / j as f64).product(),
        })
    }

    /// e^z E_n(z) for z > 0 (0 at z = ∞); NaN if the continued fraction does not converge.
    pub fn at(&self, z: f64) -> f64 {
        if z >= 1.0 {
            self.continued_fraction(z)
        } else if z > 0.0 {
            z.exp() * (self.pair(z) + self.series_without_pair(z))
        } else {
            f64::NAN
        }
    }

    /// A&S 5.1.22 by the modified Lentz method (Numerical Recipes' `expint`, which holds for
    /// real n): e^z E_n(z) = 1/(z+n −) 1·n/(z+n+2 −) 2(n+1)/(z+n+4 −) ….
    fn continued_fraction(&self, z: f64) -> f64 {
        if z.is_infinite() {
            return 0.0;
        }
        let n = self.n;
        let mut b = z + n;
        let mut c = 1.0 / f64::MIN_POSITIVE;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..CONTINUED_FRACTION_TERMS {
            let i = i as f64;
            let an = -i * (n - 1.0 + i);
            b += 2.0;
            d = 1.0 / (an * d + b);
            c = b + an / c;
            let step = c * d;
            h *= step;
            if (step - 1.0).abs() <= f64::EPSILON {
                return h;
            }
        }
        f64::NAN
    }

    /// Σ_{k≥0, k≠k₀} (−z)^k / (k! (n−1−k)) for 0 < z < 1: every |n−1−k| here is at least ½, so
    /// the terms fall with z^k/k!.
    fn series_without_pair(&self, z: f64) -> f64 {
        let n1 = self.n - 1.0;
        let (mut power, mut sum) = (1.0, 0.0); // (−z)^k / k!
        for k in 0..SERIES_TERMS {
            if k as f64 != self.k0 {
                sum += power / (n1 - k as f64);
            }
            if 2.0 * power.abs() <= 0.5 * f64::EPSILON * sum.abs() {
                break;
            }
            power *= -z / (k as f64 + 1.0);
        }
        sum
    }

    /// z^(n−1) Γ(1−n) + (−z)^k₀ / (k₀! d), with d = n−1−k₀: by Γ's reflection formula and
    /// Γ(1+k₀+d) = Γ(1+d) Π_{j≤k₀} (j+d) and Γ(1+d) Γ(1−d) = πd / sin πd, it is
    /// (−1)^k₀ z^k₀/k₀! · (1 − e^L)/d, L = d (ln z + C), C = ln Γ(1−d)/d − Σ_{j≤k₀} ln(1+d/j)/d,
    /// which at d = 0 is the textbook limit −(−z)^k₀/k₀! (ln z − ψ(k₀+1)).
    fn pair(&self, z: f64) -> f64 {
        if !self.with_pair {
            return 0.0;
        }
        let ln_z = z.ln();
        let exponent = ln_z + self.pair_constant;
        let bracket = if self.d == 0.0 {
            -exponent
        } else {
            -(self.d * exponent).exp_m1() / self.d
        };
        let sign = if self.k0 % 2.0 == 0.0 { 1.0 } else { -1.0 };
        sign * z.powi(self.k0 as i32) * self.inverse_k0_factorial * bracket
    }
}

/// ln Γ(1−d)/d for |d| ≤ ½ (γ at d = 0), by A&S 6.1.33 in the form whose coefficients are
/// ζ(k) − 1 ≈ 2^(−k): ln Γ(1+x) = −ln(1+x) + x(1−γ) + Σ_{k≥2} (−1)^k (ζ(k)−1) x^k/k at x = −d,
/// divided by d; the terms fall by 4 at |d| = ½, so 30 reach 1e-19. (statrs' ln Γ is within
/// 3e-15 near 1, which a division by d = 0.05 would make 6e-14.)
fn ln_gamma_one_minus_over(d: f64) -> f64 {
    let mut sum = 0.0;
    for (k, zeta) in ZETA_MINUS_ONE_FROM_TWO.iter().enumerate().rev() {
        sum = sum * d + zeta / (k as f64 + 2.0);
    }
    let log_term = if d == 0.0 { 1.0 } else { -(-d).ln_1p() / d };
    log_term - (1.0 - EULER_GAMMA) + d * sum
}

/// Euler's constant γ.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// ζ(k) − 1 for k = 2, …, 31 (50-digit mpmath, rounded).
const ZETA_MINUS_ONE_FROM_TWO: [f64; 30] = [
    0.6449340668482264,
    0.2020569031595943,
    0.08232323371113819,
    0.03692775514336993,
    0.01734306198444914,
    0.008349277381922827,
    0.00407735619794434,
    0.0020083928260822143,
    0.0009945751278180853,
    0.0004941886041194645,
    0.0002460865533080483,
    0.00012271334757848915,
    6.124813505870483e-05,
    3.058823630702049e-05,
    1.528225940865187e-05,
    7.637197637899763e-06,
    3.81729326499984e-06,
    1.908212716553939e-06,
    9.539620338727962e-07,
    4.769329867878064e-07,
    2.38450502727733e-07,
    1.1921992596531106e-07,
    5.960818905125948e-08,
    2.980350351465228e-08,
    1.4901554828365043e-08,
    7.45071178983543e-09,
    3.725334024788457e-09,
    1.862659723513049e-09,
    9.313274324196682e-10,
    4.656629065033784e-10,
];

/// Past this k₀ the pair is left out of the series (it is below z^k₀/k₀! < 1e-25 of the rest).
const PAIR_FROM_TERMS: f64 = 30.0;

/// Terms the power series may take (z < 1: 25 reach the last bit).
const SERIES_TERMS: usize = 200;

/// Steps the continued fraction may take (z ≥ 1: fewer than 100 at z = 1).
const CONTINUED_FRACTION_TERMS: usize = 10_000;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    #[test]
    fn scaled_exponential_integral_matches_mpmath_on_both_sides_of_z_one_and_at_integer_orders() {
        // e^z E_n(z), 50-digit mpmath (exp(z) * expint(n, z)), rounded to doubles. Both sides of
        // the switch at z = 1; n within 1e-9 of an integer and at it (where the pair of
        // singular terms meets); n − 1 past `PAIR_FROM_TERMS`; z from 1e-300 to 1000.
        for (n, z, expected) in [
            (1.25, 0.3, 1.009960110323262),
            (1.25, 1.0, 0.5354648517668636),
            (1.25, 0.999, 0.5357957472679165),
            (1.25, 1e-6, 3.8450008638278756),
            (1.25, 40.0, 0.024259460942008725),
            (2.0, 0.5, 0.5385446837581348),
            (2.000000001, 0.5, 0.538544683514938),
            (1.999999999, 0.5, 0.5385446840013315),
            (3.0, 0.9, 0.3091794367889164),
            (3.5, 0.01, 0.39737819238065963),
            (1.0000001, 0.2, 1.4933486052416722),
            (1.0000001, 3.0, 0.2620837344729039),
            (1.5, 0.05, 1.373495639429557),
            (31.4, 0.7, 0.03213035279275891),
            (31.0, 0.7, 0.03254834273454555),
            (562.25, 0.8, 0.0017791966249626192),
            (562.25, 2.0, 0.0017753993515174519),
            (7.0, 1e-300, 0.16666666666666666),
            (1.2528, 1000.0, 0.0009987500131662757),
            (1000000.3, 0.5, 1.00000019999954e-06),
        ] {
            let integral = ScaledExponentialIntegral::new(n).unwrap();
            assert_close(integral.at(z), expected, 4e-15);
        }
    }

    #[test]
    fn scaled_exponential_integral_refuses_orders_it_does_not_cover() {
        assert!(ScaledExponentialIntegral::new(1.0).is_none());
        assert!(ScaledExponentialIntegral::new(0.5).is_none());
        assert!(ScaledExponentialIntegral::new(f64::NAN).is_none());
        assert!(ScaledExponentialIntegral::new(f64::INFINITY).is_none());
        let integral = ScaledExponentialIntegral::new(2.5).unwrap();
        assert_eq!(integral.at(f64::INFINITY), 0.0);
        assert!(integral.at(0.0).is_nan());
    }
}
