//! `clv evaluate` for Python: fit the purchase models on a calibration period, check them on the
//! holdout, and write the evaluation (its JSON, table and the papers' figures) to a folder.

use std::path::PathBuf;

use clv::data::rfm::{summarize, SummaryOptions};
use clv::evaluate::evaluate as evaluate_models;
use clv::mle::FitOptions;
use clv::registry::{PurchaseModelKind, PURCHASE_MODELS};
use clv::report::{evaluation_report, write_evaluation};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::arrow::ArrowTable;
use crate::{clv_error, load_log, log_spec, parse_date, parse_time_unit, TableInput};

/// Evaluates the purchase models `models` (keys, or "all") on the log's holdout after
/// `calibration_end`, as `clv evaluate` does; writes the evaluation to `report_dir`. Returns the
/// printed report, the per-customer holdout table and the files written.
#[pyfunction]
#[pyo3(signature = (log, calibration_end, models, report_dir, customer, date, amount, time_unit, observation_end, date_format, penalizer))]
#[allow(clippy::too_many_arguments)]
pub fn evaluate(
    py: Python<'_>,
    log: &Bound<'_, PyAny>,
    calibration_end: &str,
    models: Vec<String>,
    report_dir: PathBuf,
    customer: String,
    date: String,
    amount: Option<String>,
    time_unit: &str,
    observation_end: Option<&str>,
    date_format: Option<String>,
    penalizer: f64,
) -> PyResult<(String, ArrowTable, Vec<PathBuf>)> {
    let mut kinds: Vec<PurchaseModelKind> = Vec::new();
    for name in &models {
        let add: Vec<PurchaseModelKind> = match name.as_str() {
            "all" => PURCHASE_MODELS.to_vec(),
            key => vec![PurchaseModelKind::named(key).ok_or_else(|| {
                let names: Vec<&str> = PURCHASE_MODELS.iter().map(|k| k.cli_name()).collect();
                PyValueError::new_err(format!(
                    "models must be 'all' or among {}, not '{key}'",
                    names.join(", ")
                ))
            })?],
        };
        for k in add {
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
    }
    let spec = log_spec(customer, date, amount, date_format, "error")?;
    let options = SummaryOptions {
        time_unit: parse_time_unit(time_unit)?,
        calibration_end: parse_date("calibration_end", Some(calibration_end))?,
        observation_end: parse_date("observation_end", observation_end)?,
    };
    let fit_options = FitOptions::default().with_penalizer(penalizer).map_err(clv_error)?;
    let input = TableInput::from_py(log)?;
    let (report, holdout, written) = py
        .detach(|| {
            let log = load_log(&input, &spec)?;
            let summary = summarize(&log, &options)?;
            let evaluation = evaluate_models(&log, &summary, &kinds, &fit_options, None)?;
            let written = write_evaluation(&report_dir, &evaluation)?;
            Ok::<_, clv::ClvError>((evaluation_report(&evaluation), evaluation.holdout_frame()?, written))
        })
        .map_err(clv_error)?;
    Ok((report, ArrowTable::new(holdout), written))
}
