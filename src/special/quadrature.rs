//! Adaptive Gauss–Legendre quadrature, and expectations under a Beta density taken with it.

use std::sync::OnceLock;

/// E[h(p)] for p ~ Beta(a, b), by adaptive Gauss–Legendre quadrature of h against the
/// unnormalised density, divided by the same quadrature of the density: so no ln B(a, b) of
/// large arguments enters. The interval is cut at the mode, at multiples of the standard
/// deviation around it and at multiples of 1/(a+b) from either end, so a density concentrated in
/// a sliver (a + b = 10⁶) or against an end (a = 10⁻³, b = 10⁶) is found, and an endpoint where
/// the density is infinite (a < 1 or b < 1) is integrated in p^a (or (1−p)^b), where it is finite.
/// The pieces are refined together until the error estimate is within `rel_tol` of the whole
/// (`beta_expectations`). `None` if the quadrature does not reach `rel_tol` within its panel
/// budget.
pub fn beta_expectation(a: f64, b: f64, h: impl Fn(f64) -> f64, rel_tol: f64) -> Option<f64> {
    beta_expectations(a, b, |p| [h(p)], rel_tol).map(|[value]| value)
}

/// [`beta_expectation`] of several functions h₁ … h_N of p at once, on shared nodes: the Beta
/// density is evaluated once per node for all of them. The pieces between the cuts are refined
/// together, as one globally adaptive quadrature (QUADPACK's QAGP): the panel with the largest
/// error estimate anywhere is halved until every integrand's summed estimate is within `rel_tol`
/// of its own integral, as the first panels of every piece estimate it (so a piece far in a tail
/// costs its first panels and no more). An integrand below 1e-300 of the largest counts as 0, so
/// callers with fewer than N functions pad with zeros.
pub fn beta_expectations<const N: usize>(
    a: f64,
    b: f64,
    h: impl Fn(f64) -> [f64; N],
    rel_tol: f64,
) -> Option<[f64; N]> {
    if !(a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite()) {
        return None;
    }
    let centre = if a > 1.0 && b > 1.0 {
        (a - 1.0) / (a + b - 2.0)
    } else {
        a / (a + b)
    };
    let sd = (a * b / ((a + b) * (a + b) * (a + b + 1.0))).sqrt();
    let mut cuts = vec![0.0, centre, 1.0];
    for k in [1.0, 3.0, 10.0, 30.0, 100.0] {
        cuts.push(centre - k * sd);
        cuts.push(centre + k * sd);
    }
    // With a ≪ 1 (or b ≪ 1) the mass lies within ~1/(a+b) of an end, far beyond a few standard
    // deviations (sd ≈ √a/b): cut there too, so that no panel's nodes step over it.
    for k in [1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0] {
        cuts.push(k / (a + b));
        cuts.push(1.0 - k / (a + b));
    }
    cuts.retain(|c| (0.0..=1.0).contains(c));
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    let density = BetaDensity {
        a,
        b,
        centre,
        ln_at_centre: (a - 1.0) * centre.ln() + (b - 1.0) * (-centre).ln_1p(),
        slope_at_centre: (a - 1.0) / centre - (b - 1.0) / (1.0 - centre),
    };
    let (variables, ranges): (Vec<Variable>, Vec<(f64, f64)>) = cuts
        .windows(2)
        .filter(|w| w[1] > w[0])
        .map(|w| density.piece(w[0], w[1]))
        .unzip();
    let numerator = adapt(
        &|piece, u| density.at(variables[piece], u, &h),
        &ranges,
        rel_tol,
        Accuracy::EachRelative,
    )?;
    let [denominator] = adapt(
        &|piece, u| density.at(variables[piece], u, &|_| [1.0]),
        &ranges,
        rel_tol,
        Accuracy::EachRelative,
    )?;
    let values = numerator.map(|n| n / denominator);
    (values.iter().all(|v| v.is_finite()) && denominator > 0.0).then_some(values)
}

/// The Beta(a, b) density divided by its value at `centre`, for `beta_expectation`.
struct BetaDensity {
    a: f64,
    b: f64,
    centre: f64,
    /// ln of the unnormalised density at `centre`, (a−1) ln c + (b−1) ln(1−c).
    ln_at_centre: f64,
    /// Its derivative there, (a−1)/c − (b−1)/(1−c): 0 at the mode.
    slope_at_centre: f64,
}

/// ln(1+x) − x, without the cancellation of subtracting x from ln(1+x) ≈ x for small x: with
/// y = x/(2+x), ln(1+x) = 2 artanh y = 2(y + y³/3 + y⁵/5 + …) and 2y − x = −x²/(2+x), so
/// ln(1+x) − x = −x²/(2+x) + 2(y³/3 + y⁵/5 + …), whose terms fall by y² ≤ 1/9 for |x| ≤ 1/2.
fn ln_1p_minus_x(x: f64) -> f64 {
    if x.is_nan() || x.abs() > 0.5 {
        return x.ln_1p() - x;
    }
    let y = x / (2.0 + x);
    let y2 = y * y;
    let (mut power, mut odd, mut sum) = (y * y2, 3.0, 0.0);
    loop {
        let term = power / odd;
        sum += term;
        if term.abs() <= 1e-17 * sum.abs() {
            break;
        }
        power *= y2;
        odd += 2.0;
    }
    -x * x / (2.0 + x) + 2.0 * sum
}

/// The variable a piece of `beta_expectation` is integrated in, chosen to keep the integrand
/// finite.
#[derive(Debug, Clone, Copy)]
enum Variable {
    /// v with p = v^(1/a), where the density is infinite at p = 0 (a < 1): p^(a−1) dp = dv / a.
    PowerFromZero,
    /// w with 1 − p = w^(1/b), where it is infinite at p = 1 (b < 1): (1−p)^(b−1) dp = dw / b.
    PowerFromOne,
    /// d = p − centre: the log-density relative to the centre has no cancellation of large
    /// terms there (at a + b = 10⁶ the plain one would carry 1e-11 of noise).
    FromCentre,
}

impl BetaDensity {
    /// The piece [lo, hi] of p: its variable and its range in that variable.
    fn piece(&self, lo: f64, hi: f64) -> (Variable, (f64, f64)) {
        if lo == 0.0 && self.a < 1.0 {
            (Variable::PowerFromZero, (0.0, hi.powf(self.a)))
        } else if hi == 1.0 && self.b < 1.0 {
            (Variable::PowerFromOne, (0.0, (1.0 - lo).powf(self.b)))
        } else {
            (Variable::FromCentre, (lo - self.centre, hi - self.centre))
        }
    }

    /// f(p) · density(p) · dp/du at u in `variable`.
    fn at<const N: usize>(&self, variable: Variable, u: f64, f: &impl Fn(f64) -> [f64; N]) -> [f64; N] {
        let Self {
            a,
            b,
            centre,
            ln_at_centre: shift,
            ..
        } = *self;
        match variable {
            Variable::PowerFromZero => {
                let p = u.powf(1.0 / a);
                let density = ((b - 1.0) * (-p).ln_1p() - shift).exp();
                f(p).map(|value| value * density / a)
            }
            Variable::PowerFromOne => {
                let q = u.powf(1.0 / b);
                let density = ((a - 1.0) * (-q).ln_1p() - shift).exp();
                f(1.0 - q).map(|value| value * density / b)
            }
            Variable::FromCentre => {
                // The terms linear in u cancel exactly at the mode and are summed apart; what
                // is left has no cancellation even at a + b = 10¹⁴.
                let density = ((a - 1.0) * ln_1p_minus_x(u / centre)
                    + (b - 1.0) * ln_1p_minus_x(-u / (1.0 - centre))
                    + self.slope_at_centre * u)
                    .exp();
                f(centre + u).map(|value| value * density)
            }
        }
    }
}

/// Gauss–Legendre points per panel of `integrate`.
const GAUSS_POINTS: usize = 20;

/// Nodes and weights of the `GAUSS_POINTS`-point Gauss–Legendre rule on [−1, 1], found once by
/// Newton's method on the Legendre polynomial (three-term recurrence), to machine precision.
fn gauss_legendre() -> &'static [(f64, f64)] {
    static RULE: OnceLock<Vec<(f64, f64)>> = OnceLock::new();
    RULE.get_or_init(|| {
        let n = GAUSS_POINTS;
        (1..=n)
            .map(|i| {
                let mut x = (std::f64::consts::PI * (i as f64 - 0.25) / (n as f64 + 0.5)).cos();
                let mut derivative = 1.0;
                for _ in 0..100 {
                    let (mut p0, mut p1) = (1.0, x);
                    for k in 2..=n {
                        let k = k as f64;
                        (p0, p1) = (p1, ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k);
                    }
                    derivative = n as f64 * (x * p1 - p0) / (x * x - 1.0);
                    let step = p1 / derivative;
                    x -= step;
                    if step.abs() < 1e-16 {
                        break;
                    }
                }
                (x, 2.0 / ((1.0 - x * x) * derivative * derivative))
            })
            .collect()
    })
}

/// One Gauss–Legendre panel of a vector of integrands.
fn gauss_panel<const N: usize>(f: &impl Fn(f64) -> [f64; N], lo: f64, hi: f64) -> [f64; N] {
    let (mid, half) = (0.5 * (lo + hi), 0.5 * (hi - lo));
    let mut sum = [0.0; N];
    for &(x, w) in gauss_legendre() {
        let values = f(mid + half * x);
        for (s, v) in sum.iter_mut().zip(values) {
            *s += w * v;
        }
    }
    sum.map(|s| half * s)
}

/// A panel of `integrate`: its halves' values, their sum and the error estimate against the
/// coarse value (`weighted_error`).
struct Panel<const N: usize> {
    /// Which of the ranges `adapt` integrates over the panel lies in.
    range: usize,
    lo: f64,
    hi: f64,
    left: [f64; N],
    right: [f64; N],
    value: [f64; N],
    error: f64,
}

impl<const N: usize> PartialEq for Panel<N> {
    fn eq(&self, other: &Self) -> bool {
        self.error.total_cmp(&other.error).is_eq()
    }
}
impl<const N: usize> Eq for Panel<N> {}
impl<const N: usize> PartialOrd for Panel<N> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<const N: usize> Ord for Panel<N> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.error.total_cmp(&other.error)
    }
}

/// A panel's value from its two halves, and the error estimate against `coarse` (`weighted_error`).
fn refine<const N: usize>(
    f: &impl Fn(usize, f64) -> [f64; N],
    (range, lo, hi): (usize, f64, f64),
    coarse: [f64; N],
    weights: &[f64; N],
) -> Panel<N> {
    let mid = 0.5 * (lo + hi);
    let f = |u| f(range, u);
    let (left, right) = (gauss_panel(&f, lo, mid), gauss_panel(&f, mid, hi));
    let value = std::array::from_fn(|i| left[i] + right[i]);
    Panel {
        range,
        lo,
        hi,
        left,
        right,
        value,
        error: weighted_error(&value, &coarse, weights),
    }
}

/// The largest of |value − coarse| · weight over the integrands of positive weight.
fn weighted_error<const N: usize>(value: &[f64; N], coarse: &[f64; N], weights: &[f64; N]) -> f64 {
    let mut error = 0.0;
    for ((v, c), &w) in value.iter().zip(coarse).zip(weights) {
        if w > 0.0 {
            error = f64::max(error, (v - c).abs() * w);
        }
    }
    error
}

/// Most panels `integrate` splits the interval (or `adapt` its ranges) into before giving up.
const MAX_PANELS: usize = 2000;

/// ∫_lo^hi f by globally adaptive Gauss–Legendre quadrature (as QUADPACK's QAG): the panel with
/// the largest error estimate is halved until the summed estimates are within `rel_tol` of the
/// integral. `None` if the integrand is not finite or `MAX_PANELS` do not reach the tolerance.
pub fn integrate(f: impl Fn(f64) -> f64, lo: f64, hi: f64, rel_tol: f64) -> Option<f64> {
    integrate_to(f, lo, hi, rel_tol, 0.0)
}

/// As `integrate`, also done when the error estimate is below `abs_tol`: for one piece of a larger
/// integral, whose accuracy is measured against the whole.
pub fn integrate_to(f: impl Fn(f64) -> f64, lo: f64, hi: f64, rel_tol: f64, abs_tol: f64) -> Option<f64> {
    integrate_with(|u| [f(u)], lo, hi, rel_tol, abs_tol).map(|[v]| v)
}

/// As `integrate_to` for a vector of integrands on the same panels, the panels chosen for the
/// first: an integral with its derivatives in parameters (differentiated under the integral),
/// at the cost of one set of nodes.
pub fn integrate_with<const N: usize>(
    f: impl Fn(f64) -> [f64; N],
    lo: f64,
    hi: f64,
    rel_tol: f64,
    abs_tol: f64,
) -> Option<[f64; N]> {
    let first_only = std::array::from_fn(|i| if i == 0 { 1.0 } else { 0.0 });
    adapt(
        &|_, u| f(u),
        &[(lo, hi)],
        rel_tol,
        Accuracy::Weighted {
            weights: first_only,
            abs_tol,
        },
    )
}

/// When `adapt` is done.
#[derive(Debug, Clone, Copy)]
enum Accuracy<const N: usize> {
    /// A panel's error is the largest of |its value − its coarse value| · weight over the
    /// integrands of positive weight; done when the summed errors are within `rel_tol` of the
    /// smallest weighted integral, or below `abs_tol` (in the units the weights give).
    Weighted { weights: [f64; N], abs_tol: f64 },
    /// Every integrand within `rel_tol` of its magnitude, Σ |value| over the first panels (one
    /// per range): weights (largest magnitude)/(its magnitude), and `abs_tol` `rel_tol` times
    /// the largest.
    EachRelative,
}

/// The sum of ∫ f(k, ·) over the `ranges` k by globally adaptive Gauss–Legendre quadrature (as
/// QUADPACK's QAG, or QAGP over several ranges): the panel with the largest error estimate in any
/// range is halved until the summed estimates meet `accuracy`. `None` if an integrand is not
/// finite or `MAX_PANELS` (at least four per range) do not reach the tolerance.
fn adapt<const N: usize>(
    f: &impl Fn(usize, f64) -> [f64; N],
    ranges: &[(f64, f64)],
    rel_tol: f64,
    accuracy: Accuracy<N>,
) -> Option<[f64; N]> {
    let first: Vec<([f64; N], Panel<N>)> = ranges
        .iter()
        .enumerate()
        .map(|(range, &(lo, hi))| {
            let coarse = gauss_panel(&|u| f(range, u), lo, hi);
            (coarse, refine(f, (range, lo, hi), coarse, &[0.0; N]))
        })
        .collect();
    let (weights, abs_tol) = match accuracy {
        Accuracy::Weighted { weights, abs_tol } => (weights, abs_tol),
        Accuracy::EachRelative => {
            let mut magnitude = [0.0; N];
            for (_, panel) in &first {
                for (m, v) in magnitude.iter_mut().zip(panel.value) {
                    *m += v.abs();
                }
            }
            let largest = (0..N).fold(0, |best, i| if magnitude[i] > magnitude[best] { i } else { best });
            let reference = magnitude[largest];
            let weights = std::array::from_fn(|i| match i == largest {
                true => 1.0,
                false => Some(reference / magnitude[i]).filter(|w| w.is_finite()).unwrap_or(0.0),
            });
            (weights, rel_tol * reference)
        }
    };
    let mut panels: std::collections::BinaryHeap<Panel<N>> = first
        .into_iter()
        .map(|(coarse, panel)| Panel {
            error: weighted_error(&panel.value, &coarse, &weights),
            ..panel
        })
        .collect();
    let exact_sums = |panels: &std::collections::BinaryHeap<Panel<N>>| {
        let mut total = [0.0; N];
        let mut error = 0.0;
        for p in panels {
            for (t, v) in total.iter_mut().zip(p.value) {
                *t += v;
            }
            error += p.error;
        }
        (total, error)
    };
    let done = |total: &[f64; N], error: f64| {
        let smallest = total
            .iter()
            .zip(&weights)
            .filter(|(_, &w)| w > 0.0)
            .fold(f64::INFINITY, |smallest, (t, w)| smallest.min(t.abs() * w));
        // Below 1e-300 relative precision runs out in the subnormal range: the value is 0.
        error <= rel_tol * smallest || error <= abs_tol || error <= 1e8 * f64::MIN_POSITIVE
    };
    // The sums are kept up to date as panels are halved, so a step costs the same with 2,000
    // panels as with 2; being running sums they drift by rounding, so they only say when to
    // sum afresh (within twice the tolerance, or every 256 steps), and a fresh sum decides.
    let (mut total, mut error) = exact_sums(&panels);
    let mut steps_since_exact = 0;
    loop {
        let drifted = !error.is_finite() || !total.iter().all(|t| t.is_finite()) || steps_since_exact >= 256;
        if steps_since_exact > 0 && (drifted || done(&total, 0.5 * error)) {
            (total, error) = exact_sums(&panels);
            steps_since_exact = 0;
        }
        if steps_since_exact == 0 {
            if !total.iter().all(|t| t.is_finite()) || !error.is_finite() {
                return None;
            }
            if done(&total, error) {
                return Some(total);
            }
        }
        if panels.len() >= MAX_PANELS.max(4 * ranges.len()) {
            return None;
        }
        let worst = panels.pop()?;
        let mid = 0.5 * (worst.lo + worst.hi);
        let halves = [
            refine(f, (worst.range, worst.lo, mid), worst.left, &weights),
            refine(f, (worst.range, mid, worst.hi), worst.right, &weights),
        ];
        error -= worst.error;
        for (t, v) in total.iter_mut().zip(worst.value) {
            *t -= v;
        }
        for half in halves {
            error += half.error;
            for (t, v) in total.iter_mut().zip(half.value) {
                *t += v;
            }
            panels.push(half);
        }
        steps_since_exact += 1;
    }
}

/// ∫₀ᵈ f for a vector of integrands whose first is positive and non-increasing, as
/// `integrate_with`, when most of it may lie within `scale` of 0 (a density of lifetimes of
/// rate 10⁹ on a span of years, where every node of a panel over [0, d] falls where f is 0):
/// taken over [0, 100·scale], [100·scale, 10⁴·scale], … — the first node of a Gauss–Legendre
/// panel sits at 0.34% of its width, so each panel sees the mass it holds, and adapts — and
/// stopped when the rest, at most f(a)·(d − a) from the next start a on, is below `rel_tol` of
/// the total.
pub fn integrate_decreasing_with<const N: usize>(
    f: impl Fn(f64) -> [f64; N],
    d: f64,
    scale: f64,
    rel_tol: f64,
) -> Option<[f64; N]> {
    let mut total = [0.0; N];
    const GROWTH: f64 = 100.0;
    let (mut lo, mut hi) = (0.0, if scale > 0.0 { (GROWTH * scale).min(d) } else { d });
    loop {
        let piece = integrate_with(&f, lo, hi, rel_tol, rel_tol * total[0])?;
        for (t, p) in total.iter_mut().zip(piece) {
            *t += p;
        }
        if hi >= d || f(hi)[0] * (d - hi) <= rel_tol * total[0] {
            return Some(total);
        }
        (lo, hi) = (hi, (GROWTH * hi).min(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    #[test]
    fn a_decreasing_integrand_with_its_mass_next_to_0_is_found() {
        // ∫₀¹⁰ k e^(−ku) du = 1 − e^(−10k) = 1 for k = 10⁹ (a Gauss–Legendre panel over [0, 10]
        // puts its first node at 0.034, where the integrand is e^(−3.4e7) = 0), and the power
        // law ∫₀ᵈ (s/B)(1 + u/B)^−(s+1) du = 1 − (1 + d/B)^−s at s = 10⁶, B = 10⁻³, d = 10.
        let k = 1e9;
        let [exponential] = integrate_decreasing_with(|u| [k * (-k * u).exp()], 10.0, 1.0 / k, 1e-12).unwrap();
        assert_close(exponential, 1.0, 1e-12);
        let (s, b, d) = (1e6f64, 1e-3f64, 10.0f64);
        let [power] = integrate_decreasing_with(
            |u| [s / b * (-(s + 1.0) * (u / b).ln_1p()).exp()],
            d,
            b / (s + 1.0),
            1e-12,
        )
        .unwrap();
        assert_close(power, 1.0 - (-s * (d / b).ln_1p()).exp(), 1e-12);
        // An integrand spread over the whole range: one piece, as `integrate`.
        let [spread] = integrate_decreasing_with(|u| [(-0.1 * u).exp()], 10.0, 10.0, 1e-12).unwrap();
        assert_close(spread, (1.0 - (-1.0f64).exp()) / 0.1, 1e-13);
    }

    #[test]
    fn ln_1p_minus_x_keeps_its_digits_where_ln_1p_and_x_cancel() {
        // log1p(x) − x by mpmath at 30 digits, for x as written (the f64 nearest to x moves the
        // value by less than 1e-17), rounded to the nearest f64.
        for (x, expected) in [
            (1e-9, -4.999999996666666e-19),
            (-1e-9, -5.000000003333333e-19),
            (0.3, -0.03763573553250895),
            (-0.5, -0.19314718055994531),
            (0.5, -0.09453489189183562),
            (2.0, -0.9013877113318903),
        ] {
            assert_close(ln_1p_minus_x(x), expected, 4e-16);
        }
        assert_eq!(ln_1p_minus_x(0.0), 0.0);
    }

    #[test]
    fn many_beta_expectations_cost_one_quadrature_and_each_is_its_moment() {
        // E[p], E[p²], E[p³] and E[1−p] of Beta(a, b) at once, against the closed forms
        // a/(a+b), a(a+1)/((a+b)(a+b+1)), …, b/(a+b), padded with a zero function. On shared
        // nodes they take at most a quarter more evaluations than the costliest alone (a panel is
        // halved where any of them needs it), where one at a time would take four times as many.
        for (a, b) in [
            (0.8, 2.4),
            (1e-3, 0.8),
            (0.8, 1e-3),
            (1e-3, 1e6),
            (1.5e5, 8.5e5),
            (20.0, 2e5),
        ] {
            let calls = std::cell::Cell::new(0usize);
            let moments: [&dyn Fn(f64) -> f64; 4] = [&|p| p, &|p| p * p, &|p| p.powi(3), &|p| 1.0 - p];
            let mut costliest = 0;
            for moment in moments {
                calls.set(0);
                let counted = |p: f64| {
                    calls.set(calls.get() + 1);
                    moment(p)
                };
                beta_expectation(a, b, counted, 1e-12).unwrap();
                costliest = costliest.max(calls.get());
            }
            calls.set(0);
            let together = beta_expectations(
                a,
                b,
                |p| {
                    calls.set(calls.get() + 1);
                    [p, p * p, p.powi(3), 1.0 - p, 0.0]
                },
                1e-12,
            )
            .unwrap();
            assert!(
                4 * calls.get() <= 5 * costliest,
                "({a}, {b}): {} evaluations, {costliest} for the costliest alone",
                calls.get()
            );
            let s = a + b;
            assert_close(together[0], a / s, 1e-12);
            assert_close(together[1], a * (a + 1.0) / (s * (s + 1.0)), 1e-12);
            assert_close(
                together[2],
                a * (a + 1.0) * (a + 2.0) / (s * (s + 1.0) * (s + 2.0)),
                1e-12,
            );
            assert_close(together[3], b / s, 1e-12);
            assert_eq!(together[4], 0.0);
        }
    }

    #[test]
    fn beta_expectation_gives_the_beta_moments_however_lopsided_or_peaked() {
        // E[p^k] = a(a+1)…(a+k−1) / ((a+b)(a+b+1)…(a+b+k−1)) for k = 1, 2, 3, for Beta(a, b)
        // with ends where the density is infinite
        // (a or b = 1e-3), mass within 1/(a+b) of an end (a = 1e-3, b = 10⁶), and slivers
        // (a + b = 10⁶ to 4.4·10¹⁴, as an interval's draw of a poorly pinned a and b gives).
        for (a, b) in [
            (0.8, 2.4),
            (1e-3, 1e-3),
            (1e-3, 0.8),
            (0.8, 1e-3),
            (1e-3, 1e6),
            (1e6, 1e-3),
            (1.5e5, 8.5e5),
            (0.8, 1e6),
            (1e10, 1e10),
            (2.9e12, 4.4e14),
        ] {
            let mean = beta_expectation(a, b, |p| p, 1e-12).unwrap();
            assert_close(mean, a / (a + b), 1e-12);
            let second = beta_expectation(a, b, |p| p * p, 1e-12).unwrap();
            assert_close(second, a * (a + 1.0) / ((a + b) * (a + b + 1.0)), 1e-12);
            let cube = beta_expectation(a, b, |p| p.powi(3), 1e-12).unwrap();
            let expected = a * (a + 1.0) * (a + 2.0) / ((a + b) * (a + b + 1.0) * (a + b + 2.0));
            assert_close(cube, expected, 1e-12);
        }
    }
}
