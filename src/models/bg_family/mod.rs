//! The BG family: BG/NBD (Fader, Hardie & Lee 2005) and MBG/NBD (Batislam, Denizel & Filiztekin
//! 2007) are one model with δ extra dropout chances (`Dropout`): every likelihood and forecast
//! is written here once, with δ, and `bg_nbd` and `mbg_nbd` are thin wrappers that fix it.
//! Equation numbers are the BG/NBD paper's.

mod total;

pub(crate) use total::{family_gradient_and_hessian, family_penalty_centres, family_start_points, family_total};

use super::bg_nbd::BgNbdParams;
use super::{weigh, PAliveRatio};
use crate::special::{
    beta_expectation, beta_expectation_sinh, beta_expectations, beta_reg, digamma, euler_complement,
    euler_complement_many, ln_beta, ln_gamma, log_add_exp, logistic, ScaledExponentialIntegral,
    WeightedEulerComplement, EULER_SIDE_BY_SIDE,
};

/// When a BG-type customer may drop out: BG/NBD after each repeat purchase; MBG/NBD also right
/// after the first purchase. With δ = 1 for the latter, every MBG/NBD expression is the BG/NBD one
/// with x + δ dropout opportunities in place of x (see `super::mbg_nbd`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dropout {
    AfterRepeatPurchases,
    AlsoAtFirstPurchase,
}

impl Dropout {
    pub(crate) fn shift(self) -> f64 {
        match self {
            Dropout::AfterRepeatPurchases => 0.0,
            Dropout::AlsoAtFirstPurchase => 1.0,
        }
    }
}

/// ln L = A1 + A2 + ln(e^A3 + δ_{x+δ>0} e^A4), the terms named as in the BG/NBD paper's appendix
/// (eq. 6) and, with δ = 1, the MBG/NBD likelihood as BTYDplus and lifetimes evaluate it:
/// A1 = ln Γ(r+x) − ln Γ(r) + r ln α, A2 = ln B(a, b+x+δ) − ln B(a, b),
/// A3 = −(r+x) ln(α+T), A4 = ln a − ln(b+x+δ−1) − (r+x) ln(α+t_x); and the gradient.
pub(crate) fn family_log_likelihood(p: &BgNbdParams, dropout: Dropout, x: f64, t_x: f64, t: f64) -> (f64, [f64; 4]) {
    let BgNbdParams { r, alpha, a, b } = *p;
    let chances = x + dropout.shift();
    let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
    let a2 = ln_gamma(a + b) + ln_gamma(b + chances) - ln_gamma(b) - ln_gamma(a + b + chances);
    let ln_at = (alpha + t).ln();
    let a3 = -(r + x) * ln_at;
    let can_have_dropped = chances > 0.0;
    let (ll, w, ln_atx) = if can_have_dropped {
        let ln_atx = (alpha + t_x).ln();
        let a4 = a.ln() - (b + chances - 1.0).ln() - (r + x) * ln_atx;
        // w = share of the likelihood from "dropped out after the last purchase"
        (a1 + a2 + log_add_exp(a3, a4), logistic(a4 - a3), ln_atx)
    } else {
        (a1 + a2 + a3, 0.0, 0.0)
    };
    let d_r = digamma(r + x) - digamma(r) + alpha.ln() - (1.0 - w) * ln_at - w * ln_atx;
    let d_alpha = r / alpha
        - (1.0 - w) * (r + x) / (alpha + t)
        - if can_have_dropped {
            w * (r + x) / (alpha + t_x)
        } else {
            0.0
        };
    let d_ab = digamma(a + b) - digamma(a + b + chances);
    let d_a = d_ab + if can_have_dropped { w / a } else { 0.0 };
    let d_b = d_ab + digamma(b + chances) - digamma(b) - if can_have_dropped { w / (b + chances - 1.0) } else { 0.0 };
    (ll, [d_r, d_alpha, d_a, d_b])
}

/// 1 / (1 + δ_{x+δ>0} · a/(b+x+δ−1) · ((α+T)/(α+t_x))^(r+x)).
pub(crate) fn family_p_alive(p: &BgNbdParams, dropout: Dropout, x: f64, t_x: f64, t: f64) -> f64 {
    let mut p_alive = [0.0];
    family_p_alive_of_histories(p, dropout, &[[x, t_x, t]], &mut p_alive);
    p_alive[0]
}

/// [`family_p_alive`] at each of `histories` ([x, t_x, T]), into `p_alive`: ln a once, and
/// ln(b+x+δ−1) and ln(α+T) again only where x or T changes from the history before (histories
/// sorted by x, then T, share most of them).
pub(crate) fn family_p_alive_of_histories(
    p: &BgNbdParams,
    dropout: Dropout,
    histories: &[[f64; 3]],
    p_alive: &mut [f64],
) {
    let BgNbdParams { r, alpha, a, b } = *p;
    let ln_a = a.ln();
    let (mut last_x, mut ln_b_x) = (f64::NAN, f64::NAN);
    let (mut last_t, mut ln_alpha_t) = (f64::NAN, f64::NAN);
    for (p_alive, &[x, t_x, t]) in p_alive.iter_mut().zip(histories) {
        let chances = x + dropout.shift();
        if chances == 0.0 {
            *p_alive = 1.0;
            continue;
        }
        if x.to_bits() != last_x.to_bits() {
            (last_x, ln_b_x) = (x, (b + chances - 1.0).ln());
        }
        // ln((α+T)/(α+t_x)); for α ≫ T − t_x as ln(1 + (T−t_x)/(α+t_x)), where the difference of
        // two close logarithms would lose digits that (r+x) (large with α) then multiplies.
        let gap = if t - t_x < 1e-3 * (alpha + t_x) {
            ((t - t_x) / (alpha + t_x)).ln_1p()
        } else {
            if t.to_bits() != last_t.to_bits() {
                (last_t, ln_alpha_t) = (t, (alpha + t).ln());
            }
            ln_alpha_t - (alpha + t_x).ln()
        };
        *p_alive = logistic(-(ln_a - ln_b_x + (r + x) * gap));
    }
}

/// [`family_p_alive`] as a ratio of powers of the times (`PurchaseModel::p_alive_ratio`): with
/// (α+T)/(α+t_x) = (1+T/α)/(1+t_x/α), k = a/(b+x+δ−1) and e = r+x; k = 0 where she cannot have
/// dropped out (x + δ = 0).
pub(crate) fn family_p_alive_ratio(p: &BgNbdParams, dropout: Dropout, x: f64) -> PAliveRatio {
    let BgNbdParams { r, alpha, a, b } = *p;
    let chances = x + dropout.shift();
    let k = match chances > 0.0 {
        true => a / (b + chances - 1.0),
        false => 0.0,
    };
    PAliveRatio { k, e: r + x, alpha }
}

/// An alive customer's future is the same in both models, but her dropout probability has the
/// posterior Beta(a, b+x+δ): eq. (10) with b + δ in place of b is this times P(alive).
/// It depends on x and T, not on t_x, so forecasts compute it once per distinct (x, T).
pub(crate) fn family_expected_purchases_if_alive(
    p: &BgNbdParams,
    dropout: Dropout,
    horizon: f64,
    x: f64,
    t: f64,
) -> Option<f64> {
    let mut expected = [None];
    family_expected_purchases_if_alive_at(p, dropout, &[horizon], x, t, &mut expected);
    expected[0]
}

/// [`family_expected_purchases_if_alive`] at each of `horizons`, into `out`: (a+b+x−1) · G, with
/// G the Euler-transformed bracket of `special::euler_complement`, whose series at every horizon
/// share their coefficients (`euler_complement_many`); where a series does not serve (it would
/// alternate, or need too many terms), the expectation is integrated instead, for all such
/// horizons at once.
pub(crate) fn family_expected_purchases_if_alive_at(
    p: &BgNbdParams,
    dropout: Dropout,
    horizons: &[f64],
    x: f64,
    t: f64,
    out: &mut [Option<f64>],
) {
    let BgNbdParams { r, alpha, a, b } = *p;
    let b = b + dropout.shift();
    for (horizons, out) in horizons
        .chunks(EULER_SIDE_BY_SIDE)
        .zip(out.chunks_mut(EULER_SIDE_BY_SIDE))
    {
        let mut zs = [0.0; EULER_SIDE_BY_SIDE];
        for (z, &h) in zs.iter_mut().zip(horizons) {
            *z = h / (alpha + t + h);
        }
        euler_complement_many(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, &zs[..horizons.len()], out);
        let mut refused = [0.0; EULER_SIDE_BY_SIDE];
        let mut n_refused = 0;
        for (out, &horizon) in out.iter_mut().zip(horizons) {
            *out = match (horizon <= 0.0, *out) {
                (true, _) => Some(0.0),
                (false, Some(g)) => Some((a + b + x - 1.0) * g),
                (false, None) => {
                    refused[n_refused] = horizon;
                    n_refused += 1;
                    None
                }
            };
        }
        if n_refused > 0 {
            let integrated = gamma_rate_beta_dropout_expectations(r + x, alpha + t, a, b + x, &refused[..n_refused]);
            let mut integrated = integrated.into_iter();
            for (out, &horizon) in out.iter_mut().zip(horizons) {
                if out.is_none() && horizon > 0.0 {
                    *out = integrated.next().flatten();
                }
            }
        }
    }
}

/// `PurchaseModel::weighted_expected_purchases_if_alive` for the family: E[Y(h) | x, T, alive] =
/// c · G(z), c = a+b+x−1, z = h/(α+T+h) (eq. 10 over P(alive)), so the weighted sum over the
/// horizons is c times `WeightedEulerComplement` at c, whose moments every x of this T shares.
/// An x whose weighted series declines is evaluated horizon by horizon (the quadrature included).
pub(crate) fn family_weighted_expected_purchases_if_alive(
    p: &BgNbdParams,
    dropout: Dropout,
    horizons: &[f64],
    weight_sets: &[&[f64]],
    t: f64,
    xs: &[f64],
    out: &mut [Option<f64>],
) {
    let sets = weight_sets.len();
    if sets == 0 {
        return;
    }
    let BgNbdParams { r, alpha, a, b } = *p;
    let b = b + dropout.shift();
    let zs: Vec<f64> = horizons.iter().map(|h| h / (alpha + t + h)).collect();
    let mut weighted = WeightedEulerComplement::new(a + b - 1.0 - r, a - 1.0, &zs, weight_sets);
    let mut one_by_one = Vec::new();
    for (i, (&x, out)) in xs.iter().zip(out.chunks_mut(sets)).enumerate() {
        let c = a + b + x - 1.0;
        if let Some(weighted) = &mut weighted {
            weighted.at(c, out);
        }
        match out.iter().all(Option::is_some) {
            true => out.iter_mut().flatten().for_each(|g| *g *= c),
            false => one_by_one.push(i),
        }
    }
    let mut each = vec![None; horizons.len()];
    for i in one_by_one {
        family_expected_purchases_if_alive_at(p, dropout, horizons, xs[i], t, &mut each);
        weigh(&each, weight_sets, &mut out[i * sets..(i + 1) * sets]);
    }
}

/// [`gamma_rate_beta_dropout_expectation`] at each of up to `EULER_SIDE_BY_SIDE` horizons: one
/// quadrature over p for all of them (the Beta density is evaluated once per node, not once per
/// horizon); `None` for all if it does not reach its tolerance (the horizons share the density
/// that makes a quadrature fail: one at a time would fail as often, thirteen times slower).
fn gamma_rate_beta_dropout_expectations(
    shape: f64,
    rate: f64,
    a: f64,
    b: f64,
    horizons: &[f64],
) -> [Option<f64>; EULER_SIDE_BY_SIDE] {
    let mut each = [None; EULER_SIDE_BY_SIDE];
    if let [horizon] = horizons {
        each[0] = gamma_rate_beta_dropout_expectation(shape, rate, a, b, *horizon);
        return each;
    }
    let mut units = [0.0; EULER_SIDE_BY_SIDE];
    for (u, &horizon) in units.iter_mut().zip(horizons) {
        *u = horizon / rate;
    }
    let units = &units[..horizons.len()];
    let together = beta_expectations(
        a,
        b,
        |p| {
            let mut purchases = [0.0; EULER_SIDE_BY_SIDE];
            for (purchases, &u) in purchases.iter_mut().zip(units) {
                *purchases = purchases_until_dropout(shape, p * u) * u;
            }
            purchases
        },
        QUADRATURE_TOLERANCE,
    );
    if let Some(values) = together {
        for (each, value) in each.iter_mut().zip(&values[..horizons.len()]) {
            *each = Some(*value);
        }
    }
    each
}

/// E[(1 − e^(−λpt))/p] for λ ~ Gamma(shape, rate) and p ~ Beta(a, b): the purchases in (0, t] of
/// a customer who buys at rate λ and drops out with probability p after each purchase (she buys
/// at rate λ until the first of her purchases that is her last, an exponential time of rate λp).
/// Averaged over λ in closed form, E_λ[e^(−λpt)] = (1 + pt/rate)^(−shape), and over p by
/// quadrature: every term is positive, so this holds its accuracy where the Euler-transformed
/// series of eq. (10) alternates (shape ≫ a + b) or needs too many terms (t ≫ rate).
pub(crate) fn gamma_rate_beta_dropout_expectation(shape: f64, rate: f64, a: f64, b: f64, horizon: f64) -> Option<f64> {
    let u = horizon / rate;
    beta_expectation(
        a,
        b,
        |p| purchases_until_dropout(shape, p * u) * u,
        QUADRATURE_TOLERANCE,
    )
}

/// [1 − (1 + w)^(−shape)] / w, w = p·t/rate: the purchases until dropout of
/// `gamma_rate_beta_dropout_expectation` per unit of t/rate. For (shape + 1)·w below 1e-8 the
/// first two terms of the binomial series, shape · (1 − (shape+1) w/2): there the direct form
/// would divide subnormal numbers (p = v^(1/a) underflows for small a).
pub(crate) fn purchases_until_dropout(shape: f64, w: f64) -> f64 {
    if (shape + 1.0) * w < 1e-8 {
        return shape * (1.0 - 0.5 * (shape + 1.0) * w);
    }
    let ln_survive = -shape * w.ln_1p();
    // 1 − e^y cancels only for y near 0; below −1 the plain exp (a third of expm1's cost, and
    // the hot loop of the quadrature) loses nothing: 1 − e^y ≥ 0.63.
    if ln_survive < -1.0 {
        (1.0 - ln_survive.exp()) / w
    } else {
        -ln_survive.exp_m1() / w
    }
}

/// DERT of a customer alive at T (Fader, Hardie & Lee 2005, "RFM and CLV", eq. 2, for the BG
/// family): with purchase rate λ and dropout probability p she makes her k-th future purchase,
/// at a Gamma(k, λ) time worth (λ/(λ+δ))^k today, if she survived the k−1 chances before it,
/// so her discounted purchases are Σ_k (1−p)^(k−1) (λ/(λ+δ))^k = λ/(δ+λp). Over the posterior
/// λ ~ Gamma(s, β), s = r+x, β = α+T, in closed form: E_λ[λ/(δ+λp)] = (s/p) e^z E_(s+1)(z) with
/// z = δβ/p (E the exponential integral: ∫₀^∞ e^(−δv) E[λ e^(−λpv)] dv, and
/// E[λ e^(−λu)] = (s/β)(1+u/β)^(−s−1)); and over p ~ Beta(a, b+x+δ) by the trapezoidal rule in a
/// doubly-exponential variable (`beta_expectation_sinh`: the integrand is analytic in p), or
/// where that declines by `beta_expectation`.
/// The integral over the horizon this replaces needed eq. (10) at horizons of thousands of
/// α+T, where its series needs ~40(α+T+t)/(α+T) terms or gives way to a quadrature of its own.
pub(crate) fn family_dert_if_alive(p: &BgNbdParams, dropout: Dropout, delta: f64, x: f64, t: f64) -> Option<f64> {
    let BgNbdParams { r, alpha, a, b } = *p;
    let shape = r + x;
    let kappa = delta * (alpha + t);
    if !(kappa > 0.0 && kappa.is_finite()) {
        return None;
    }
    let exponential_integral = ScaledExponentialIntegral::new(shape + 1.0)?;
    // e^z E(z)/p → 1/(κ + (s+1)p) as p → 0: 1/κ where z = κ/p overflows.
    let per_rate = |p: f64| {
        let z = kappa / p;
        match z.is_finite() {
            true => exponential_integral.at(z) / p,
            false => 1.0 / kappa,
        }
    };
    let b = b + x + dropout.shift();
    let expectation = beta_expectation_sinh(a, b, per_rate, QUADRATURE_TOLERANCE)
        .or_else(|| beta_expectation(a, b, per_rate, QUADRATURE_TOLERANCE))?;
    Some(shape * expectation)
}

/// Relative accuracy asked of the quadratures that stand in for the hypergeometric series.
pub(crate) const QUADRATURE_TOLERANCE: f64 = 1e-12;

/// Eq. (10) (with b + δ in place of b): the alive customer's expectation times P(alive).
pub(crate) fn family_conditional_expected_purchases(
    p: &BgNbdParams,
    dropout: Dropout,
    horizon: f64,
    x: f64,
    t_x: f64,
    t: f64,
) -> Option<f64> {
    Some(family_expected_purchases_if_alive(p, dropout, horizon, x, t)? * family_p_alive(p, dropout, x, t_x, t))
}

/// Eq. (9); with δ = 1 the customer first survives the drop-out chance at her first purchase
/// (probability b/(a+b)) and then behaves as a BG/NBD customer with b + 1:
/// b/(a−1) · [1 − (α/(α+t))^r 2F1(r, b+1; a+b; t/(α+t))].
pub(crate) fn family_expected_purchases(p: &BgNbdParams, dropout: Dropout, horizon: f64) -> Option<f64> {
    if horizon <= 0.0 {
        return Some(0.0);
    }
    let BgNbdParams { r, alpha, a, b } = *p;
    let shifted = b + dropout.shift();
    let z = horizon / (alpha + horizon);
    let survive_first = if dropout == Dropout::AlsoAtFirstPurchase {
        b / (a + b)
    } else {
        1.0
    };
    match euler_complement(a + shifted - 1.0 - r, a - 1.0, a + shifted - 1.0, z) {
        Some(g) => Some(survive_first * (a + shifted - 1.0) * g),
        None => Some(survive_first * gamma_rate_beta_dropout_expectation(r, alpha, a, shifted, horizon)?),
    }
}

/// Eq. (8), and with δ = 1 its MBG/NBD form: B(a, b+n+δ)/B(a, b) · NB(n) +
/// δ_{n+δ>0} B(a+1, b+n+δ−1)/B(a, b) · I_z(n, r), where I_z(0, r) = 1.
pub(crate) fn family_probability_of_purchases(p: &BgNbdParams, dropout: Dropout, horizon: f64, n: u64) -> f64 {
    let BgNbdParams { r, alpha, a, b } = *p;
    let nf = n as f64;
    let chances = nf + dropout.shift();
    let ln_p = (alpha / (alpha + horizon)).ln();
    let ln_q = (horizon / (alpha + horizon)).ln();
    let first = (ln_beta(a, b + chances) - ln_beta(a, b) + ln_gamma(r + nf) - ln_gamma(r) - ln_gamma(nf + 1.0)
        + r * ln_p
        + if n > 0 { nf * ln_q } else { 0.0 })
    .exp();
    if chances == 0.0 {
        return first;
    }
    let tail = if n == 0 {
        1.0
    } else {
        beta_reg(nf, r, horizon / (alpha + horizon))
    };
    first + (ln_beta(a + 1.0, b + chances - 1.0) - ln_beta(a, b)).exp() * tail
}

/// A customer alive at T, after x repeat purchases: she buys at λ ~ Gamma(r+x, α+T) and has
/// survived x + δ dropout chances, p ~ Beta(a, b+x+δ), and from T on drops out only after
/// purchases: a new BG/NBD customer with these parameters, whose P(Y(t) = k | alive) is eq. (8).
pub(crate) fn alive_posterior(p: &BgNbdParams, dropout: Dropout, x: f64, t: f64) -> BgNbdParams {
    BgNbdParams {
        r: p.r + x,
        alpha: p.alpha + t,
        a: p.a,
        b: p.b + x + dropout.shift(),
    }
}

/// Eq. (8) for BG/NBD (δ = 0) at n = 0, 1, 2, … in turn, each term's factors from the one
/// before: NB(n) = Γ(r+n)/(Γ(r) n!) p^r q^n (p = α/(α+t), q = 1 − p) by its ratio (r+n)/(n+1) · q
/// (in logarithms while p^r and the terms after it underflow); B(a, b+n)/B(a, b) by
/// (b+n)/(a+b+n); B(a+1, b+n−1)/B(a, b) from a/(a+b) by (b+n−1)/(a+b+n); and the upper tail
/// I_q(n, r) = 1 − Σ_(j<n) NB(j) by subtracting each term (absolute error a few ulps of 1), where
/// eq. (8) term by term evaluates three ln Γ, two ln B and an incomplete beta function per n.
pub(crate) fn purchase_probabilities(p: &BgNbdParams, horizon: f64) -> impl Iterator<Item = f64> {
    let BgNbdParams { r, alpha, a, b } = *p;
    let q = horizon / (alpha + horizon);
    // Below this, NB(n) is carried by its logarithm (e^−600 ≈ 1e-261 is far from underflow).
    const LINEAR_FROM: f64 = -600.0;
    let mut ln_nb = r * (alpha / (alpha + horizon)).ln();
    let mut nb = if ln_nb > LINEAR_FROM { ln_nb.exp() } else { 0.0 };
    let mut linear = ln_nb > LINEAR_FROM;
    let (mut beta_first, mut beta_second, mut tail) = (1.0, a / (a + b), 1.0);
    (0u64..).map(move |n| {
        let nf = n as f64;
        let current = if linear { nb } else { ln_nb.exp() };
        let term = match n {
            0 => beta_first * current,
            _ => beta_first * current + beta_second * tail,
        };
        if n > 0 {
            beta_second *= (b + nf - 1.0) / (a + b + nf);
        }
        beta_first *= (b + nf) / (a + b + nf);
        tail = (tail - current).max(0.0);
        let ratio = (r + nf) / (nf + 1.0) * q;
        if linear {
            nb *= ratio;
        } else {
            ln_nb += ratio.ln();
            if ln_nb > LINEAR_FROM {
                (nb, linear) = (ln_nb.exp(), true);
            }
        }
        term
    })
}

pub(crate) fn family_probability_of_no_purchase(
    p: &BgNbdParams,
    dropout: Dropout,
    horizon: f64,
    x: f64,
    t_x: f64,
    t: f64,
) -> f64 {
    let BgNbdParams { r, alpha, .. } = *p;
    let p_alive = family_p_alive(p, dropout, x, t_x, t);
    let no_purchase_if_alive = ((r + x) * ((alpha + t) / (alpha + t + horizon.max(0.0))).ln()).exp();
    1.0 - p_alive + p_alive * no_purchase_if_alive
}
