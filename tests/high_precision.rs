//! BG/NBD likelihood, P(alive), conditional expectations and the hypergeometric bracket against
//! 40-digit mpmath values (tests/data/generate_high_precision.py), including extreme but legal
//! data: x up to 10,000, T up to 100,000 days, t_x = T, z up to 0.999; and the same for
//! Pareto/NBD and its 2F1, with z up to 1 − 1e−6 and α/β from 1e−6 to 1e6.

use std::path::Path;

use clv::models::bg_nbd::BgNbdParams;
use clv::models::mbg_nbd::MbgNbdParams;
use clv::models::pareto_nbd::ParetoNbdParams;
use clv::special::{euler_complement, ln_hyp2f1_c_is_a_plus_1};

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
    assert_bg_family_grid(rows, |[r, alpha, a, b], horizon, x, t_x, t| {
        let p = BgNbdParams { r, alpha, a, b };
        (
            p.p_alive(x, t_x, t),
            p.conditional_expected_purchases(horizon, x, t_x, t),
        )
    });
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
    assert_bg_family_grid(rows, |[r, alpha, a, b], horizon, x, t_x, t| {
        let p = MbgNbdParams { r, alpha, a, b };
        (
            p.p_alive(x, t_x, t),
            p.conditional_expected_purchases(horizon, x, t_x, t),
        )
    });
}
