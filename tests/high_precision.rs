//! BG/NBD likelihood, P(alive), conditional expectations and the hypergeometric bracket against
//! 40-digit mpmath values (tests/data/generate_high_precision.py), including extreme but legal
//! data: x up to 10,000, T up to 100,000 days, t_x = T, z up to 0.999; and the same for
//! Pareto/NBD and its 2F1, with z up to 1 − 1e−6 and α/β from 1e−6 to 1e6; and standard errors
//! against Hessians taken in 40-digit arithmetic (tests/data/generate_near_limit_se.py).

mod common;

use std::path::Path;

use clv::data::rfm::RfmTable;
use clv::fitting::fit_purchase_model;
use clv::mle::FitOptions;
use clv::models::bg_nbd::BgNbdParams;
use clv::models::mbg_nbd::MbgNbdParams;
use clv::models::pareto_nbd::ParetoNbdParams;
use clv::models::PurchaseModel;
use clv::registry::{BG_NBD, PARETO_NBD};
use clv::special::{euler_complement, ln_hyp2f1_c_is_a_plus_1};
use clv::{fit_models, TimeUnit};

fn table(name: &str) -> Vec<Vec<f64>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.parse::<f64>().unwrap()).collect())
        .collect()
}

/// Relative error, with an absolute floor of `floor` for values near 0.
fn rel_err(ours: f64, reference: f64, floor: f64) -> f64 {
    (ours - reference).abs() / reference.abs().max(floor)
}

#[test]
fn bg_nbd_matches_40_digit_values_in_extreme_regions() {
    let rows = table("bg_nbd_high_precision.csv");
    assert_eq!(rows.len(), 30);
    for row in rows {
        let [r, alpha, a, b, x, t_x, t, horizon, ll, p_alive, expected] = row[..] else {
            panic!("{row:?}")
        };
        let p = BgNbdParams { r, alpha, a, b };
        let what = format!("(r, α, a, b) = ({r}, {alpha}, {a}, {b}), x = {x}, t_x = {t_x}, T = {t}");
        // ln Γ differences of arguments up to 10⁴ lose ~1e-16 × 10⁵ in absolute terms.
        let e = rel_err(p.log_likelihood(x, t_x, t), ll, 1.0);
        assert!(e < 1e-11, "log-likelihood {what}: relative error {e:e}");
        let e = rel_err(p.p_alive(x, t_x, t), p_alive, 1e-300);
        assert!(e < 1e-12, "P(alive) {what}: relative error {e:e}");
        let ours = p.conditional_expected_purchases(horizon, x, t_x, t).unwrap();
        let e = rel_err(ours, expected, 1e-300);
        assert!(
            e < 1e-11,
            "E[Y({horizon})] {what}: {ours} vs {expected}, relative error {e:e}"
        );
    }
}

#[test]
fn hypergeometric_bracket_matches_40_digit_values_up_to_z_0_999() {
    let rows = table("euler_complement_high_precision.csv");
    assert_eq!(rows.len(), 36);
    for row in rows {
        let [big_a, eps, c, z, value] = row[..] else {
            panic!("{row:?}")
        };
        let ours = euler_complement(big_a, eps, c, z).unwrap();
        let e = rel_err(ours, value, 1e-300);
        assert!(
            e < 1e-12,
            "A = {big_a}, ε = {eps}, c = {c}, z = {z}: {ours} vs {value}, relative error {e:e}"
        );
    }
}

#[test]
fn pareto_nbd_hypergeometric_function_matches_40_digit_values_up_to_z_one_minus_1e_6() {
    let rows = table("hyp2f1_high_precision.csv");
    assert_eq!(rows.len(), 64);
    for row in rows {
        let [a, b, z, value] = row[..] else { panic!("{row:?}") };
        let ours = ln_hyp2f1_c_is_a_plus_1(a, b, z).unwrap();
        // Absolute error of the logarithm = relative error of 2F1.
        let e = (ours - value).abs();
        assert!(
            e < 1e-12 * value.abs().max(1.0),
            "ln 2F1({a}, {b}; a+1; {z}): {ours} vs {value}, error {e:e}"
        );
    }
}

#[test]
fn pareto_nbd_matches_40_digit_values_in_extreme_regions() {
    let rows = table("pareto_nbd_high_precision.csv");
    assert_eq!(rows.len(), 40);
    for row in rows {
        let [r, alpha, s, beta, x, t_x, t, horizon, ll, p_alive, expected] = row[..] else {
            panic!("{row:?}")
        };
        let p = ParetoNbdParams { r, alpha, s, beta };
        let what = format!("(r, α, s, β) = ({r}, {alpha}, {s}, {beta}), x = {x}, t_x = {t_x}, T = {t}");
        let e = rel_err(p.log_likelihood(x, t_x, t), ll, 1.0);
        assert!(e < 1e-11, "log-likelihood {what}: relative error {e:e}");
        let e = rel_err(p.p_alive(x, t_x, t).unwrap(), p_alive, 1e-300);
        assert!(e < 1e-10, "P(alive) {what}: relative error {e:e}");
        let ours = p.conditional_expected_purchases(horizon, x, t_x, t).unwrap();
        let e = rel_err(ours, expected, 1e-300);
        assert!(
            e < 1e-10,
            "E[Y({horizon})] {what}: {ours} vs {expected}, relative error {e:e}"
        );
    }
}

#[test]
fn bg_nbd_forecasts_hold_their_accuracy_over_a_grid_of_extreme_parameters() {
    // tests/data/generate_extreme_grid.py: r, α, a, b each in {1e-3, order 1, 1e6}, x up to 10,000,
    // horizons up to 3,650 days, 60-digit mpmath values of eq. (10) and P(alive). Where r ≫ a + b
    // the Euler-transformed series alternates; where t ≫ α it needs millions of terms: both must
    // either hold the accuracy (by the quadrature over the beta dropout) or say they cannot.
    let rows = table("bg_nbd_extreme_grid.csv");
    assert_eq!(
        rows.len(),
        407,
        "the generator leaves out 79 points mpmath cannot sum in 10 s"
    );
    assert_bg_family_grid_at_once(&rows, |[r, alpha, a, b]| BgNbdParams { r, alpha, a, b });
    assert_bg_family_grid(rows, |[r, alpha, a, b], horizon, x, t_x, t| {
        let p = BgNbdParams { r, alpha, a, b };
        (
            p.p_alive(x, t_x, t),
            p.conditional_expected_purchases(horizon, x, t_x, t),
        )
    });
}

/// The grid's rows (r, α, a, b, x, t_x, T, horizon, P(alive), E[Y]) again, each customer's
/// horizons (52 and 3,650 days) asked of `expected_purchases_if_alive_at` at once, as a forecast
/// asks: where the series gives up, both are integrated on shared panels. Within 1e-9 of mpmath.
fn assert_bg_family_grid_at_once<M: PurchaseModel>(rows: &[Vec<f64>], model: impl Fn([f64; 4]) -> M) {
    for customer in rows.chunk_by(|one, other| one[..7] == other[..7]) {
        let [r, alpha, a, b, x, t_x, t] = customer[0][..7] else {
            panic!("{customer:?}")
        };
        let m = model([r, alpha, a, b]);
        let horizons: Vec<f64> = customer.iter().map(|row| row[7]).collect();
        let mut at = vec![None; horizons.len()];
        m.expected_purchases_if_alive_at(&horizons, x, t, &mut at);
        let p_alive = m.p_alive(x, t_x, t).unwrap();
        for (row, ours) in customer.iter().zip(at) {
            let what = format!(
                "(r, α, a, b) = ({r}, {alpha}, {a}, {b}), x = {x}, T = {t}, t = {}",
                row[7]
            );
            let ours = ours.unwrap_or_else(|| panic!("E[Y] {what}: no value")) * p_alive;
            let e = rel_err(ours, row[9], 1e-290);
            assert!(
                e < 1e-9,
                "E[Y] at once {what}: {ours} vs {}, relative error {e:e}",
                row[9]
            );
        }
    }
}

/// Rows (r, α, a, b, x, t_x, T, horizon, P(alive), E[Y]) against `model`'s P(alive) and E[Y]:
/// P(alive) within 1e-11, E[Y] within 1e-9 relative, with an absolute floor of 1e-290 (an
/// expectation of order 1e-300, where P(alive) underflows, is 0).
fn assert_bg_family_grid(rows: Vec<Vec<f64>>, model: impl Fn([f64; 4], f64, f64, f64, f64) -> (f64, Option<f64>)) {
    let mut worst = (0.0, String::new());
    for row in rows {
        let [r, alpha, a, b, x, t_x, t, horizon, p_alive, expected] = row[..] else {
            panic!("{row:?}")
        };
        let what = format!("(r, α, a, b) = ({r}, {alpha}, {a}, {b}), x = {x}, t_x = {t_x}, T = {t}, t = {horizon}");
        let (ours_p_alive, ours) = model([r, alpha, a, b], horizon, x, t_x, t);
        let e = rel_err(ours_p_alive, p_alive, 1e-300);
        assert!(e < 1e-11, "P(alive) {what}: relative error {e:e}");
        let ours = ours.unwrap_or_else(|| panic!("E[Y] {what}: no value"));
        let e = rel_err(ours, expected, 1e-290);
        if e > worst.0 {
            worst = (e, what.clone());
        }
        assert!(e < 1e-9, "E[Y] {what}: {ours} vs {expected}, relative error {e:e}");
    }
    eprintln!("largest relative error of E[Y]: {:e} at {}", worst.0, worst.1);
}

#[test]
fn pareto_nbd_matches_40_digit_values_over_an_extreme_grid() {
    // tests/data/generate_pareto_grid.py: r, α, s, β in {1e-3, order 1, 1e6}, x up to 10,000,
    // horizons up to 3,650, P(alive) from mpmath's quadrature of the note's integral at 40 digits.
    // clv takes the 2F1 where its series is short and the integral form (Gauss–Legendre, 1e-12)
    // where it is long or a shape is large; both must hold.
    let rows = table("pareto_nbd_extreme_grid.csv");
    assert_eq!(rows.len(), 486);
    let mut worst = (0.0f64, 0.0f64);
    for row in rows {
        let [r, alpha, s, beta, x, t_x, t, horizon, p_alive, expected] = row[..] else {
            panic!("{row:?}")
        };
        let p = ParetoNbdParams { r, alpha, s, beta };
        let what = format!("(r, α, s, β) = ({r}, {alpha}, {s}, {beta}), x = {x}, t_x = {t_x}, T = {t}");
        let ours = p.p_alive(x, t_x, t).unwrap();
        let e = rel_err(ours, p_alive, 1e-300);
        worst.0 = worst.0.max(e);
        assert!(e < 1e-10, "P(alive) {what}: {ours} vs {p_alive}, relative error {e:e}");
        let ours = p.conditional_expected_purchases(horizon, x, t_x, t).unwrap();
        let e = rel_err(ours, expected, 1e-300);
        worst.1 = worst.1.max(e);
        assert!(
            e < 1e-10,
            "E[Y({horizon})] {what}: {ours} vs {expected}, relative error {e:e}"
        );
    }
    eprintln!("worst relative errors: P(alive) {:e}, E[Y] {:e}", worst.0, worst.1);
}

#[test]
fn mbg_nbd_matches_40_digit_values_over_an_extreme_grid() {
    // tests/data/generate_mbg_grid.py: the BG/NBD grid's r, α, a, b in {1e-3, order 1, 1e6}, x up
    // to 10,000, horizons up to 3,650, with MBG/NBD's P(alive) (Batislam et al. 2007) and
    // E[Y | alive] from mpmath's quadrature over the Beta(a, b+x+1) dropout at 40 digits (the
    // generator checks that form against the paper's 2F1 where mpmath can sum it).
    let rows = table("mbg_nbd_extreme_grid.csv");
    assert_eq!(rows.len(), 486);
    assert_bg_family_grid_at_once(&rows, |[r, alpha, a, b]| MbgNbdParams { r, alpha, a, b });
    assert_bg_family_grid(rows, |[r, alpha, a, b], horizon, x, t_x, t| {
        let p = MbgNbdParams { r, alpha, a, b };
        (
            p.p_alive(x, t_x, t),
            p.conditional_expected_purchases(horizon, x, t_x, t),
        )
    });
}

#[test]
fn mbg_nbd_expectations_at_a_year_of_month_ends_hold_where_the_series_gives_up() {
    // A fit that pins a and b down poorly (a near-homogeneous log: a = 20 ± 70, b = 539 ± 1884)
    // draws b of 10⁵ and more for its intervals, where the Euler-transformed series would need
    // |a + b − 1 − r| terms and clv integrates over the Beta(a, b+x+1) dropout instead: for all
    // thirteen horizons of a 12-month CLV at once. (r, α, a, b) = (47.84, 196.74, 20, 2·10⁵),
    // x = 10, T = 70; mpmath at 40 digits, both as the quadrature of (1 − (1 + pt/(α+T))^−(r+x))/p
    // against the Beta(20, 200011) density (split at the mode ± k sd) and as eq. (10)'s form
    // (a+b+x)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x+1; a+b+x; t/(α+T+t))], which agree
    // to every digit shown:
    //   t = 4.348: 0.94277671843780367591; t = 52.18: 11.308222298227985939;
    //   t = 56.524: 12.249048404767661457.
    let p = MbgNbdParams {
        r: 47.84,
        alpha: 196.74,
        a: 20.0,
        b: 2e5,
    };
    let mut horizons: Vec<f64> = (1..=13).map(|month| month as f64 * 4.348).collect();
    horizons[11] = 52.18;
    let (b_shifted, x, t) = (p.b + 1.0, 10.0, 70.0);
    for &h in &horizons {
        let z = h / (p.alpha + t + h);
        let series = euler_complement(p.a + b_shifted - 1.0 - p.r, p.a - 1.0, p.a + b_shifted + x - 1.0, z);
        assert_eq!(series, None, "t = {h}: the series serves, the quadrature is not tested");
    }
    let mut together = vec![None; horizons.len()];
    PurchaseModel::expected_purchases_if_alive_at(&p, &horizons, x, t, &mut together);
    for (h, expected) in [
        (0, 0.942_776_718_437_803_7),
        (11, 11.308_222_298_227_986),
        (12, 12.249_048_404_767_661),
    ] {
        let ours = together[h].unwrap();
        assert!(
            rel_err(ours, expected, 1e-300) < 1e-11,
            "t = {}: {ours} vs {expected}",
            horizons[h]
        );
    }
    // Each horizon alone is integrated on its own panels: the same to the quadrature's accuracy.
    for (&h, ours) in horizons.iter().zip(&together) {
        let alone = p.expected_purchases_if_alive(h, x, t).unwrap();
        assert!(
            rel_err(ours.unwrap(), alone, 1e-300) < 1e-12,
            "t = {h}: {ours:?} vs {alone}"
        );
    }
}

#[test]
fn standard_errors_of_barely_identified_fits_match_a_40_digit_hessian() {
    // Two 300-customer tables where the fit lies far out along a direction the data barely pin
    // (tests/data/generate_near_limit_se.py, which computes the references from the estimates
    // printed there): BG/NBD with b ≈ 1170 ± 120,000, Gamma-Gamma with q ≈ 4,400 ± 53,000. The
    // inverse of a Hessian so near singular magnifies any error in it: taken by central
    // differences of the gradient, it put the standard errors of a and b 13.6% too high and those
    // of q and v 0.26% too high; the closed-form Hessians give them to 6e-7.
    let read = |name: &str| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
        RfmTable::read(&path, Some(TimeUnit::Weeks)).unwrap()
    };
    // To 1e-4: along the direction the data barely pin, the estimates move by a few 1e-5 with the
    // optimiser's last steps (and the standard errors with them); the errors above are 26 to 1,400
    // times that.
    let close = |what: &str, ours: f64, reference: f64| {
        let e = rel_err(ours, reference, 1e-300);
        assert!(e < 1e-4, "{what}: {ours} against {reference}, relative error {e:e}");
    };
    let bg = fit_models(&read("near_limit_bg_nbd_300.csv"))
        .unwrap()
        .bg_nbd()
        .unwrap();
    let (p, se) = (bg.params, bg.standard_errors.unwrap());
    // The estimates the references were computed at.
    for (ours, at) in [
        (p.r, 13.590750062484291),
        (p.alpha, 56.629858407773824),
        (p.a, 2.941980475107244),
        (p.b, 1169.6436435221988),
    ] {
        close("BG/NBD estimate", ours, at);
    }
    for (name, ours, reference) in [
        ("r", se.r, 2.097406677375014),
        ("alpha", se.alpha, 8.833542138189644),
        ("a", se.a, 301.2954971324626),
        ("b", se.b, 120434.01497676858),
    ] {
        close(&format!("BG/NBD SE({name})"), ours, reference);
    }
    let spend = fit_models(&read("near_limit_spend_300.csv"))
        .unwrap()
        .gamma_gamma
        .unwrap()
        .fit;
    let (p, se) = (
        spend.params.gamma_gamma().unwrap(),
        spend.standard_errors.unwrap().gamma_gamma().unwrap(),
    );
    for (ours, at) in [
        (p.p, 6.55821846675269),
        (p.q, 4365.496935094559),
        (p.v, 10021.56383671045),
    ] {
        close("Gamma-Gamma estimate", ours, at);
    }
    for (name, ours, reference) in [
        ("p", se.p, 0.8936920688488056),
        ("q", se.q, 52600.16249260875),
        ("v", se.v, 121448.69614955212),
    ] {
        close(&format!("Gamma-Gamma SE({name})"), ours, reference);
    }
}

#[test]
fn pareto_nbd_standard_errors_match_a_40_digit_hessian() {
    // Pareto/NBD's Hessian, and its dropout limit's, are taken by central differences of the
    // analytic gradient (they have no closed form here). At three fits
    // (tests/data/generate_near_limit_se.py), the estimates and standard errors against those of
    // a Hessian taken in 40-digit arithmetic from the likelihood itself (Fader & Hardie's note,
    // eq. 22, with mpmath's 2F1; the limit's with mpmath's incomplete gamma function), at the
    // estimates printed there.
    // CDNOW's calibration summary, well identified: the standard errors agree to 3e-9 when
    // written (the central differences' error, O(h²) with h = 1e-5 in ln p).
    check_estimates_and_standard_errors(
        PARETO_NBD,
        "CDNOW",
        &common::cdnow_calibration_rfm(),
        "pareto_nbd",
        &[
            ("r", 0.5532770468531606, 0.04762792597913266),
            ("alpha", 10.577683463302028, 0.8427225338164092),
            ("s", 0.6062399891278816, 0.18728134231169408),
            ("beta", 11.668735288857087, 6.211113590597451),
        ],
        1e-7,
    );
    // 1,000 simulated customers whose fit lies far out along a direction the data barely pin
    // (s ≈ 73 ± 1,600, beta ≈ 5,600 ± 126,000): they agree to 2.6e-6 when written. To 1e-4, as
    // the fits above: along that direction the estimates move by a few 1e-5 with the optimiser's
    // last steps, and the standard errors with them.
    check_estimates_and_standard_errors(
        PARETO_NBD,
        "near its limit",
        &simulated("near_limit_pareto_nbd_1000.csv"),
        "pareto_nbd",
        &[
            ("r", 1.8786482383979457, 0.1826757741514651),
            ("alpha", 20.208496941092257, 1.9028522717324658),
            ("s", 72.90089413145222, 1620.4553050014406),
            ("beta", 5646.721058357539, 126138.51429086039),
        ],
        1e-4,
    );
    // 1,000 more, drawn the same way, whose likelihood is highest at the limit s, beta → ∞ with
    // s/beta = mu (every lifetime exponential at one rate): the limit's estimates are the
    // 40-digit likelihood's maximum (its gradient there below 2e-15 per customer), and their
    // standard errors agree to 6e-8 when written.
    check_estimates_and_standard_errors(
        PARETO_NBD,
        "at its dropout limit",
        &simulated("pareto_nbd_dropout_limit_1000.csv"),
        "pareto_nbd_limit",
        &[
            ("r", 1.8614965639501795, 0.1629267343951581),
            ("alpha", 19.959865152725538, 1.753144546777968),
            ("mu", 0.011891697697863335, 0.0006854622814246736),
        ],
        1e-6,
    );
}

#[test]
fn bg_nbd_dropout_limit_standard_errors_match_a_40_digit_hessian() {
    // BG/NBD's likelihood is highest at its limit a, b → ∞ with a/(a+b) = p (one dropout
    // probability for everyone) on 1,000 customers simulated with a = 60, b = 180; the limit's
    // Hessian is taken by central differences. Against the 40-digit likelihood (eq. 6 with
    // (1−p)^x and p(1−p)^(x−1) for the Beta-function ratios) and its Hessian
    // (tests/data/generate_near_limit_se.py): its gradient at these estimates is below 2e-16 per
    // customer, and the standard errors agree to 8e-9 when written.
    check_estimates_and_standard_errors(
        BG_NBD,
        "at its dropout limit",
        &simulated("bg_nbd_dropout_limit_1000.csv"),
        "bg_nbd_limit",
        &[
            ("r", 0.7665336070796078, 0.04624577552801709),
            ("alpha", 7.69149421662199, 0.6684719471431999),
            ("p", 0.2426356640644633, 0.010036615857623492),
        ],
        1e-6,
    );
}

/// The simulated RFM table `name` of tests/data, in weeks.
fn simulated(name: &str) -> RfmTable {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    RfmTable::read(&path, Some(TimeUnit::Weeks)).unwrap()
}

/// `kind` fitted to `rfm` lands on the form `tag`, with each (name, estimate, standard error) of
/// `expected` to `tolerance`.
fn check_estimates_and_standard_errors(
    kind: clv::registry::PurchaseModelKind,
    what: &str,
    rfm: &RfmTable,
    tag: &str,
    expected: &[(&str, f64, f64)],
    tolerance: f64,
) {
    let fit = fit_purchase_model(rfm, kind, &FitOptions::default()).unwrap();
    assert_eq!(fit.tag(), tag, "{what}");
    let (params, se) = (&fit.fit.params, fit.fit.standard_errors.as_ref().unwrap());
    for &(name, at, reference) in expected {
        let ours = params.get(name).unwrap();
        let e = rel_err(ours, at, 1e-300);
        assert!(
            e < tolerance,
            "{what} {name}: {ours} against {at}, relative error {e:e}"
        );
        let ours = se.get(name).unwrap();
        let e = rel_err(ours, reference, 1e-300);
        assert!(
            e < tolerance,
            "{what} SE({name}): {ours} against {reference}, relative error {e:e}"
        );
    }
}
