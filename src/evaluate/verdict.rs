//! One recommendation from a holdout evaluation, with its reason. The rules, in order:
//! 1. A model whose own goodness-of-fit test (the chi-square of the calibration frequencies)
//!    rejects its fit at 5% is not recommended while another is not rejected; that it was
//!    passed over is said, with its p-value.
//! 2. Among the rest, the lowest per-customer holdout error (MAE) wins when it is clearly lower:
//!    the paired difference of absolute errors, customer by customer, is at least 1.96 standard
//!    errors from zero against every other model.
//! 3. Models it is not clearly better than are tied; among them the lowest BIC wins when it is
//!    lower than each other's by at least 2 (Kass & Raftery 1995: a smaller gap is "not worth
//!    more than a bare mention").
//! 4. Otherwise the models are indistinguishable on these data, which is said, and the simplest
//!    (fewest parameters, then the registry's order) is recommended.

use serde::Serialize;

use crate::registry::{PurchaseModelKind, PURCHASE_MODELS};

/// A goodness-of-fit p-value below this rejects the model's fit.
const REJECTED_BELOW: f64 = 0.05;
/// |z| of the paired holdout-error difference from which one model is clearly better (5%, two-sided).
const CLEARLY_BETTER_Z: f64 = 1.959963984540054;
/// BIC gap from which one model is preferred to another.
const BIC_GAP: f64 = 2.0;

/// What the verdict needs of each evaluated model.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub model: PurchaseModelKind,
    pub mean_absolute_error: f64,
    pub bic: f64,
    /// The chi-square test's p-value (NaN when undefined: not used then).
    pub p_value: f64,
    pub parameters: usize,
    /// Per customer: actual − predicted holdout transactions.
    pub errors: Vec<f64>,
}

/// The recommendation.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub recommended: PurchaseModelKind,
    pub reason: String,
    /// Models the data do not tell from the recommended one (holdout error and BIC).
    pub indistinguishable_from: Vec<PurchaseModelKind>,
    /// What the recommendation passed over, and why.
    pub notes: Vec<String>,
}

/// z of the mean paired difference |e_a| − |e_b| over customers (negative: `a` errs less).
fn paired_z(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    if n < 2 {
        return 0.0;
    }
    let d: Vec<f64> = (0..n).map(|i| a[i].abs() - b[i].abs()).collect();
    let mean = d.iter().sum::<f64>() / n as f64;
    let variance = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    match variance > 0.0 {
        true => mean / (variance / n as f64).sqrt(),
        false if mean == 0.0 => 0.0,
        false => mean.signum() * f64::INFINITY,
    }
}

fn registry_position(model: PurchaseModelKind) -> usize {
    PURCHASE_MODELS.iter().position(|m| *m == model).unwrap_or(usize::MAX)
}

/// The recommendation among `candidates` (none with fewer than two).
pub fn verdict(candidates: &[Candidate]) -> Option<Verdict> {
    if candidates.len() < 2 {
        return None;
    }
    let rejected = |c: &Candidate| c.p_value.is_finite() && c.p_value < REJECTED_BELOW;
    let accepted: Vec<&Candidate> = candidates.iter().filter(|c| !rejected(c)).collect();
    let all_rejected = accepted.is_empty();
    let pool: Vec<&Candidate> = match all_rejected {
        true => candidates.iter().collect(),
        false => accepted,
    };
    let best = *pool
        .iter()
        .min_by(|a, b| a.mean_absolute_error.total_cmp(&b.mean_absolute_error))?;
    let others: Vec<(&Candidate, f64)> = pool
        .iter()
        .filter(|c| c.model != best.model)
        .map(|c| (*c, paired_z(&best.errors, &c.errors)))
        .collect();
    let tied: Vec<&Candidate> = std::iter::once(best)
        .chain(
            others
                .iter()
                .filter(|(_, z)| z.abs() < CLEARLY_BETTER_Z)
                .map(|(c, _)| *c),
        )
        .collect();
    let among = match (all_rejected, pool.len() < candidates.len()) {
        (false, true) => " among the models whose fit the chi-square test does not reject",
        _ => "",
    };
    let mut notes = Vec::new();
    let (recommended, reason, indistinguishable_from) = if tied.len() == 1 {
        let beaten = others
            .iter()
            .map(|(c, z)| {
                format!(
                    "{}'s {:.4} (paired z = {:.1})",
                    c.model.label(),
                    c.mean_absolute_error,
                    z
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let reason = format!(
            "the lowest holdout error per customer (MAE {:.4}){among}, clearly below {beaten}",
            best.mean_absolute_error
        );
        (best, reason, Vec::new())
    } else {
        let lowest_bic = *tied.iter().min_by(|a, b| a.bic.total_cmp(&b.bic))?;
        let clear_bic = tied
            .iter()
            .all(|c| c.model == lowest_bic.model || c.bic - lowest_bic.bic >= BIC_GAP);
        let names = |cs: &[&Candidate], except: PurchaseModelKind| {
            cs.iter()
                .filter(|c| c.model != except)
                .map(|c| c.model.label())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if clear_bic {
            let reason = format!(
                "its holdout error is indistinguishable from {}'s (paired |z| < 1.96){among}, and its BIC is lower by 2 or more",
                names(&tied, lowest_bic.model)
            );
            (lowest_bic, reason, Vec::new())
        } else {
            let simplest = *tied.iter().min_by_key(|c| (c.parameters, registry_position(c.model)))?;
            let reason = format!(
                "it and {} are indistinguishable on these data{among} (holdout errors within noise, paired |z| < 1.96; \
                 BIC within 2): the simplest, {} parameters",
                names(&tied, simplest.model),
                simplest.parameters
            );
            let same: Vec<PurchaseModelKind> = tied
                .iter()
                .filter(|c| c.model != simplest.model)
                .map(|c| c.model)
                .collect();
            (simplest, reason, same)
        }
    };
    // What the rule passed over.
    let lowest = |key: fn(&Candidate) -> f64| {
        candidates
            .iter()
            .min_by(|a, b| key(a).total_cmp(&key(b)))
            .map(|c| c.model)
    };
    let (lowest_mae, lowest_bic) = (lowest(|c| c.mean_absolute_error), lowest(|c| c.bic));
    if all_rejected {
        notes.push(
            "every model's chi-square test rejects its fit (p < 0.05): none describes the calibration frequencies \
             well, so the recommendation compares holdout errors only"
                .to_string(),
        );
    } else {
        for c in candidates.iter().filter(|c| rejected(c)) {
            let best_at = match (Some(c.model) == lowest_mae, Some(c.model) == lowest_bic) {
                (true, true) => " has the lowest holdout MAE and BIC,",
                (true, false) => " has the lowest holdout MAE,",
                (false, true) => " has the lowest BIC,",
                (false, false) => "",
            };
            notes.push(format!(
                "{}{best_at} but its chi-square test rejects its fit (p = {:.4}): not recommended",
                c.model.label(),
                c.p_value
            ));
        }
    }
    if let Some(lowest) = lowest_bic.and_then(|m| pool.iter().find(|c| c.model == m)) {
        let gap = recommended.bic - lowest.bic;
        if lowest.model != recommended.model && gap < BIC_GAP {
            notes.push(format!(
                "by BIC, {} and {} are indistinguishable ({:.2} vs {:.2}: a gap below 2)",
                recommended.model.label(),
                lowest.model.label(),
                recommended.bic,
                lowest.bic
            ));
        } else if lowest.model != recommended.model {
            notes.push(format!(
                "{} has a BIC lower by {gap:.1}, but forecasts the holdout less well",
                lowest.model.label()
            ));
        }
    }
    Some(Verdict {
        recommended: recommended.model,
        reason,
        indistinguishable_from,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{BG_NBD, MBG_NBD, NBD, PARETO_NBD};

    fn candidate(model: PurchaseModelKind, errors: Vec<f64>, bic: f64, p_value: f64, parameters: usize) -> Candidate {
        let mae = errors.iter().map(|e| e.abs()).sum::<f64>() / errors.len() as f64;
        Candidate {
            model,
            mean_absolute_error: mae,
            bic,
            p_value,
            parameters,
            errors,
        }
    }

    #[test]
    fn paired_z_by_hand() {
        // |a| − |b| = (−1, −1, −2, 0): mean −1, sample variance (0 + 0 + 1 + 1)/3 = 2/3,
        // z = −1 / √(2/3 / 4) = −1 / 0.408248… = −2.449490.
        let z = paired_z(&[1.0, -1.0, 0.0, 2.0], &[2.0, 2.0, 2.0, -2.0]);
        assert!((z + 6f64.sqrt()).abs() < 1e-12, "{z}");
        assert_eq!(paired_z(&[1.0, 2.0], &[1.0, -2.0]), 0.0);
    }

    #[test]
    fn a_clearly_lower_holdout_error_wins_but_not_from_a_rejected_model() {
        let n = 50;
        let errs = |level: f64| (0..n).map(|i| level + 0.1 * ((i % 5) as f64)).collect::<Vec<_>>();
        // Pareto/NBD errs least but its fit is rejected; MBG/NBD errs clearly less than BG/NBD.
        let cs = [
            candidate(BG_NBD, errs(0.8), 100.0, 0.2, 4),
            candidate(PARETO_NBD, errs(0.5), 120.0, 0.0074, 4),
            candidate(MBG_NBD, errs(0.6), 99.5, 0.4, 4),
        ];
        let v = verdict(&cs).unwrap();
        assert_eq!(v.recommended, MBG_NBD);
        assert!(
            v.reason.contains("does not reject") && v.reason.contains("clearly below BG/NBD"),
            "{}",
            v.reason
        );
        assert!(
            v.notes
                .iter()
                .any(|n| n.contains("Pareto/NBD has the lowest holdout MAE") && n.contains("p = 0.0074")),
            "{:?}",
            v.notes
        );
        // MBG/NBD also has the lowest BIC: no BIC note.
        assert_eq!(v.notes.len(), 1, "{:?}", v.notes);
    }

    #[test]
    fn models_the_data_cannot_tell_apart_are_said_to_be_and_the_simplest_is_recommended() {
        // The same errors, one customer swapped: no paired difference; BIC gap 0.6.
        let a: Vec<f64> = (0..40).map(|i| ((i * 7) % 11) as f64 / 10.0).collect();
        let mut b = a.clone();
        b.swap(0, 1);
        let cs = [
            candidate(MBG_NBD, a.clone(), 1000.0, 0.3, 4),
            candidate(NBD, b, 1000.6, 0.3, 2),
        ];
        let v = verdict(&cs).unwrap();
        assert_eq!(v.recommended, NBD);
        assert_eq!(v.indistinguishable_from, [MBG_NBD]);
        assert!(v.reason.contains("indistinguishable on these data"), "{}", v.reason);
        // A BIC gap of 3 decides between the tied.
        let cs = [
            candidate(MBG_NBD, a.clone(), 1000.0, 0.3, 4),
            candidate(NBD, a, 1003.0, 0.3, 2),
        ];
        let v = verdict(&cs).unwrap();
        assert_eq!(v.recommended, MBG_NBD);
        assert!(v.reason.contains("BIC is lower by 2 or more"), "{}", v.reason);
    }

    #[test]
    fn when_every_fit_is_rejected_it_is_said() {
        let errs = |level: f64| (0..30).map(|i| level + 0.05 * ((i % 3) as f64)).collect::<Vec<_>>();
        let cs = [
            candidate(BG_NBD, errs(0.9), 100.0, 0.001, 4),
            candidate(PARETO_NBD, errs(0.5), 101.0, 0.01, 4),
        ];
        let v = verdict(&cs).unwrap();
        assert_eq!(v.recommended, PARETO_NBD);
        assert!(
            v.notes[0].starts_with("every model's chi-square test rejects its fit"),
            "{:?}",
            v.notes
        );
        assert!(verdict(&cs[..1]).is_none());
    }
}
