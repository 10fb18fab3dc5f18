//! `--interval`, `--draws`, `--interval-seed`: the options of intervals from parameter
//! uncertainty, and how their totals are printed.

use clap::Args;

use crate::data::rfm::RfmTable;
use crate::error::Result;
use crate::forecast::interval_column_names;
use crate::forecast::intervals::{AggregateIntervals, DrawnModels, IntervalMethod, IntervalOptions, TotalInterval};
use crate::model_file::FittedModels;
use crate::warnings::FitWarning;

/// Intervals from parameter uncertainty.
#[derive(Debug, Args)]
pub struct IntervalArgs {
    /// Add an interval of this probability to every forecast and to the totals (0.9: columns
    /// p_alive_q05 and p_alive_q95, …, clv_q05 and clv_q95), from the fitted parameters'
    /// uncertainty: where the forecast for the average customer with this history lies, given
    /// how well the data pin the parameters down. It is not the range of one customer's own
    /// future purchases, which vary far more (BG/NBD, Pareto/NBD, MBG/NBD, NBD, BG/BB; and for
    /// sBG in `clv retention` the projection, the value of the base and each subscriber's
    /// forecasts)
    #[arg(long, value_name = "LEVEL")]
    pub interval: Option<f64>,
    /// Parameter vectors drawn for --interval, from each fit's normal approximation in its log
    /// scale with the full covariance (purchase and spend models independently). Fast, and right
    /// when the likelihood is close to normal around its maximum: many customers, parameters
    /// away from their limits
    #[arg(long, default_value_t = 200, requires = "interval")]
    pub draws: usize,
    /// Instead of --draws: refit the models to N resamples of the customers (drawn with
    /// replacement; for sBG, of each cohort's subscribers) and evaluate every forecast at each refit. It answers the same question
    /// without trusting the normal approximation: for few customers, skewed or near-limit
    /// parameters (a refit may land on a limiting model), at the cost of N fits
    #[arg(long, value_name = "N", requires = "interval", conflicts_with = "draws")]
    pub bootstrap: Option<usize>,
    /// Seed of those draws: the same seed gives the same intervals
    #[arg(long, default_value_t = 1, requires = "interval")]
    pub interval_seed: u64,
}

impl IntervalArgs {
    /// The interval asked for, checked.
    pub fn options(&self) -> Result<Option<IntervalOptions>> {
        let Some(level) = self.interval else {
            return Ok(None);
        };
        let options = IntervalOptions {
            level,
            draws: self.bootstrap.unwrap_or(self.draws),
            seed: self.interval_seed,
        };
        options.validate()?;
        Ok(Some(options))
    }

    /// Where the models the forecasts are evaluated at come from.
    pub fn method(&self) -> IntervalMethod {
        match self.bootstrap {
            Some(_) => IntervalMethod::Bootstrap,
            None => IntervalMethod::NormalApproximation,
        }
    }

    /// What the progress line says while the draws are made and forecast.
    pub fn progress_label(&self, interval: &IntervalOptions) -> String {
        match self.bootstrap {
            Some(n) => format!("refitting to {n} resamples of the customers and forecasting at each"),
            None => format!("forecasting at {} parameter draws", interval.draws),
        }
    }

    /// The models each forecast is evaluated at: drawn from the normal approximation of
    /// `models`, or (--bootstrap) refitted with `fit` to resamples of `rfm`.
    pub fn drawn_models(
        &self,
        models: &FittedModels,
        rfm: &RfmTable,
        fit: &(dyn Fn(&RfmTable) -> Result<FittedModels> + Sync),
        interval: &IntervalOptions,
        with_spend: bool,
    ) -> Result<DrawnModels> {
        match self.bootstrap {
            Some(_) => DrawnModels::bootstrap(rfm, fit, interval, with_spend),
            None => {
                note_unidentified(models.purchase.kind().label(), &models.purchase.erased().warnings);
                if let (Some(gg), true) = (&models.gamma_gamma, with_spend) {
                    note_unidentified("Gamma-Gamma", &gg.fit.warnings);
                }
                DrawnModels::normal(models, interval, with_spend)
            }
        }
    }
}

/// Notes, before drawing from the normal approximation of the fit `label`, the parameters its
/// `warnings` say the data do not identify: around them the approximation is poor, and its
/// intervals can be far too wide.
pub(crate) fn note_unidentified(label: &str, warnings: &[FitWarning]) {
    let mut names: Vec<&str> = Vec::new();
    for w in warnings {
        if let FitWarning::NotIdentified { parameter, .. } | FitWarning::AtTheEdge { parameter, .. } = w {
            if !names.contains(&parameter.as_str()) {
                names.push(parameter);
            }
        }
    }
    if !names.is_empty() {
        eprintln!(
            "note: {label}: the data do not identify {} (see the fit's warnings); the normal approximation of the \
             parameters' uncertainty is poor there and its intervals can be far too wide: --bootstrap N refits \
             resamples of the customers instead",
            names.join(", ")
        );
    }
}

/// Prints the totals' intervals.
pub(crate) fn echo_total_intervals(totals: &AggregateIntervals) {
    let show = shown_total;
    let source = totals.method.describe(totals.draws);
    let mut line = format!(
        "Totals with their {}% interval from parameter uncertainty ({source}): expected purchases {}",
        100.0 * totals.level,
        show(&totals.expected_purchases, 1)
    );
    if let Some(clv) = &totals.clv {
        line.push_str(&format!(", CLV {}", show(clv, 2)));
    }
    say!("{line}");
    match totals.predictive_intervals {
        true => {
            let (lo, hi) = interval_column_names(totals.level, crate::forecast::intervals::PURCHASES);
            say!(
                "Each customer's own purchases over the horizon: {lo} to {hi}, their {}% predictive interval (her \
                 future is random even with known parameters)",
                100.0 * totals.level
            );
        }
        false => eprintln!("note: a limiting model has no predictive distribution here: no purchases_q columns"),
    }
    note_left_out(totals, "forecasts did not converge");
}

/// Notes the bootstrap refits that failed and the forecasts (`what`) that could not be evaluated
/// at a drawn model, each left out of the intervals.
pub(crate) fn note_left_out(totals: &AggregateIntervals, what: &str) {
    if totals.failed_refits > 0 {
        eprintln!(
            "note: {} bootstrap refits failed and were left out of the intervals",
            totals.failed_refits
        );
    }
    if totals.failed_evaluations > 0 {
        eprintln!(
            "note: {} {what} at a drawn parameter vector and were left out of their quantiles",
            totals.failed_evaluations
        );
    }
}

/// A total and its interval as the terminal shows them: `estimate [lo, hi]` to `decimals`.
pub(crate) fn shown_total(t: &TotalInterval, decimals: usize) -> String {
    format!("{:.decimals$} [{:.decimals$}, {:.decimals$}]", t.estimate, t.lo, t.hi)
}
