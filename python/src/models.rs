//! Fitted models for Python: fit, read and write the command line's model file, forecast a
//! table as `clv predict` does, and evaluate each model's formulas customer by customer (what
//! the `lifetimes` layer calls).

use std::path::PathBuf;

use clv::data::compressed::{is_compressed, CompressedSummary};
use clv::data::io::write_text;
use clv::decisions::{decide, value_report, DecisionOptions};
use clv::fitting::{fit_compressed, fit_models_using};
use clv::forecast::intervals::{add_parameter_intervals_by_group, DrawnModels, IntervalOptions};
use clv::forecast::new_customer::new_customer_value;
use clv::forecast::{monthly_rate, ClvMethod, CLV};
use clv::mle::FitOptions;
use clv::model_file::ModelFit;
use clv::registry::{PurchaseModelKind, PURCHASE_MODELS};
use clv::report::{fit_report, value_report_text, write_value_report};
use clv::{forecast, FittedModels, ForecastOptions, RfmTable, TimeUnit};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::arrow::ArrowTable;
use crate::{clv_error, parse_time_unit, rfm_table, with_table, TableInput};

/// A purchase model and (when fitted) Gamma-Gamma, as a clv model file holds them.
#[pyclass(frozen, module = "clv._clv")]
pub struct Models {
    models: FittedModels,
}

/// The forecast settings of `predict` and `value_report`, checked as the command line checks
/// its flags.
#[pyclass(frozen, from_py_object, module = "clv._clv")]
#[derive(Clone, Copy)]
pub struct ForecastSettings {
    horizon: Option<f64>,
    clv_months: u32,
    monthly_discount_rate: f64,
    margin: f64,
    cost_per_order: f64,
    clv_method: ClvMethod,
}

#[pymethods]
impl ForecastSettings {
    #[new]
    fn new(
        horizon: Option<f64>,
        clv_months: u32,
        monthly_discount_rate: f64,
        annual_discount_rate: Option<f64>,
        margin: f64,
        cost_per_order: f64,
        clv_method: &str,
    ) -> PyResult<Self> {
        let clv_method = match clv_method {
            "monthly" => ClvMethod::Monthly,
            "dert" => ClvMethod::Dert,
            other => {
                return Err(PyValueError::new_err(format!(
                    "clv_method must be 'monthly' or 'dert', not '{other}'"
                )))
            }
        };
        let monthly_discount_rate = match annual_discount_rate {
            Some(annual) if !(annual.is_finite() && annual >= 0.0) => {
                return Err(crate::ClvError::new_err(format!(
                    "the annual discount rate must be ≥ 0 (e.g. 0.10 for 10%), not {annual}"
                )))
            }
            Some(annual) => monthly_rate(annual),
            None => monthly_discount_rate,
        };
        Ok(Self {
            horizon,
            clv_months,
            monthly_discount_rate,
            margin,
            cost_per_order,
            clv_method,
        })
    }
}

impl ForecastSettings {
    /// The options for a table in `unit` (the horizon defaults to the CLV months).
    fn options(self, unit: TimeUnit) -> clv::Result<ForecastOptions> {
        let options = ForecastOptions {
            horizon: self.horizon.unwrap_or(self.clv_months as f64 * unit.per_month()),
            clv_months: self.clv_months,
            monthly_discount_rate: self.monthly_discount_rate,
            margin: self.margin,
            cost_per_order: self.cost_per_order,
            clv_method: self.clv_method,
        };
        options.validate()?;
        Ok(options)
    }
}

/// Fits a purchase model (and Gamma-Gamma for spend) to an RFM table, as `clv fit` does.
#[pyfunction]
#[pyo3(signature = (rfm, model, spend, penalizer, time_unit))]
pub fn fit(
    py: Python<'_>,
    rfm: &Bound<'_, PyAny>,
    model: &str,
    spend: bool,
    penalizer: f64,
    time_unit: Option<&str>,
) -> PyResult<Models> {
    let kind = PurchaseModelKind::named(model).ok_or_else(|| {
        let names: Vec<&str> = PURCHASE_MODELS.iter().map(|k| k.cli_name()).collect();
        PyValueError::new_err(format!("model must be one of {}, not '{model}'", names.join(", ")))
    })?;
    let time_unit = time_unit.map(parse_time_unit).transpose()?;
    let options = FitOptions::default().with_penalizer(penalizer).map_err(clv_error)?;
    let input = TableInput::from_py(rfm)?;
    let models = py
        .detach(|| {
            // One read of the table, then a compressed summary or a per-customer one.
            with_table(&input, |frame, source, available| {
                if is_compressed(available) {
                    let mut summary = CompressedSummary::from_frame(frame, source, available, time_unit)?;
                    if !spend {
                        summary.spend = None;
                    }
                    return fit_compressed(&summary, kind, &options);
                }
                let mut rfm = RfmTable::from_frame(frame, source, available, time_unit)?;
                if !spend {
                    rfm.monetary_value = None;
                }
                fit_models_using(&rfm, kind, &options)
            })
        })
        .map_err(clv_error)?;
    Ok(Models { models })
}

/// A fit as a dictionary: parameters, standard errors and covariance in the fit's order, the
/// log-likelihood on the papers' scale, AIC, BIC, warnings and the limiting model, if any.
pub(crate) fn fit_dict<'py>(py: Python<'py>, fit: &ModelFit<Vec<f64>>) -> PyResult<Bound<'py, PyDict>> {
    let named = |values: &[f64]| -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (name, v) in fit.parameter_order.iter().zip(values) {
            d.set_item(name, v)?;
        }
        Ok(d)
    };
    let d = PyDict::new(py);
    d.set_item("params", named(&fit.params)?)?;
    d.set_item(
        "standard_errors",
        fit.standard_errors.as_deref().map(named).transpose()?,
    )?;
    d.set_item("covariance", fit.covariance.clone())?;
    d.set_item("parameter_order", fit.parameter_order.clone())?;
    d.set_item("log_likelihood", fit.log_likelihood)?;
    d.set_item("aic", fit.aic)?;
    d.set_item("bic", fit.bic)?;
    d.set_item("n_customers", fit.n_customers)?;
    d.set_item("penalizer", fit.penalizer)?;
    d.set_item("iterations", fit.iterations)?;
    let warnings: Vec<String> = fit.warnings.iter().map(|w| w.to_string()).collect();
    d.set_item("warnings", warnings)?;
    d.set_item("limit", fit.limit.clone())?;
    Ok(d)
}

impl Models {
    /// The fitted models, for the per-customer formulas (`formulas.rs`).
    pub(crate) fn fitted(&self) -> &FittedModels {
        &self.models
    }
}

#[pymethods]
impl Models {
    /// Reads a model file written by `clv fit` (or `Models.save`).
    #[staticmethod]
    fn read(path: PathBuf) -> PyResult<Self> {
        let models = FittedModels::read(&path).map_err(clv_error)?;
        Ok(Self { models })
    }

    /// The models from a model file's text.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        let models = FittedModels::from_json(text).map_err(crate::ClvError::new_err)?;
        Ok(Self { models })
    }

    /// The model file's text, as `clv fit` writes it.
    fn to_json(&self) -> PyResult<String> {
        self.models.to_json().map_err(clv_error)
    }

    /// Writes the model file (through a temporary file: never half a file).
    fn save(&self, path: PathBuf) -> PyResult<()> {
        write_text(&path, &self.models.to_json().map_err(clv_error)?).map_err(clv_error)
    }

    /// The purchase model's name, as `clv fit --model` takes it.
    #[getter]
    fn model(&self) -> &'static str {
        self.models.purchase.kind().cli_name()
    }

    /// The purchase model's name in the papers.
    #[getter]
    fn label(&self) -> &'static str {
        self.models.purchase.kind().label()
    }

    /// The unit of recency, T and the rate parameters.
    #[getter]
    fn time_unit(&self) -> String {
        format!("{:?}", self.models.time_unit).to_lowercase()
    }

    /// The purchase model's fit (see `fit_dict`).
    #[getter]
    fn purchase<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        fit_dict(py, &self.models.purchase.erased())
    }

    /// Gamma-Gamma's fit, or None when there is no spend model.
    #[getter]
    fn spend<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(g) = &self.models.gamma_gamma else {
            return Ok(None);
        };
        let d = fit_dict(py, &g.fit.map_params(|p| p.to_vec()))?;
        d.set_item("mean_spend", g.mean_spend)?;
        d.set_item("excluded_nonpositive_spend", g.excluded_nonpositive_spend)?;
        Ok(Some(d))
    }

    /// Why there is no spend model, when there is none.
    #[getter]
    fn spend_skipped(&self) -> Option<String> {
        self.models.gamma_gamma_skipped.clone()
    }

    /// The fit report `clv fit` prints.
    fn report(&self) -> String {
        fit_report(&self.models)
    }

    /// Per-customer forecasts of an RFM table, with the columns of `clv predict`; with
    /// `interval` (a level such as 0.9), their intervals from parameter uncertainty as
    /// `clv predict --interval` adds them: `draws` normal draws, or `bootstrap` refits to
    /// resampled customers, seeded by `interval_seed`.
    #[pyo3(signature = (rfm, settings, time_unit, interval, draws, bootstrap, interval_seed))]
    #[allow(clippy::too_many_arguments)]
    fn predict(
        &self,
        py: Python<'_>,
        rfm: &Bound<'_, PyAny>,
        settings: ForecastSettings,
        time_unit: Option<&str>,
        interval: Option<f64>,
        draws: usize,
        bootstrap: Option<usize>,
        interval_seed: u64,
    ) -> PyResult<ArrowTable> {
        let interval = interval
            .map(|level| {
                let options = IntervalOptions {
                    level,
                    draws: bootstrap.unwrap_or(draws),
                    seed: interval_seed,
                };
                options.validate().map(|()| options)
            })
            .transpose()
            .map_err(clv_error)?;
        let time_unit = time_unit.map(parse_time_unit).transpose()?;
        let input = TableInput::from_py(rfm)?;
        let models = &self.models;
        let frame = py
            .detach(|| {
                let rfm = rfm_table(&input, time_unit)?;
                let options = settings.options(rfm.time_unit)?;
                let mut forecasts = forecast(models, &rfm, &options)?;
                if let Some(interval) = &interval {
                    // A bootstrap refits as the stored fit was made: its model and penalizer.
                    let with_spend = forecasts.column(CLV).is_some();
                    let drawn = match bootstrap {
                        Some(_) => {
                            let kind = models.purchase.kind();
                            let fit_options =
                                FitOptions::default().with_penalizer(models.purchase.erased().penalizer)?;
                            let fit = |resample: &RfmTable| fit_models_using(resample, kind, &fit_options);
                            DrawnModels::bootstrap(&rfm, &fit, interval, with_spend)?
                        }
                        None => DrawnModels::normal(models, interval, with_spend)?,
                    };
                    add_parameter_intervals_by_group(models, &rfm, &options, interval, &drawn, &mut forecasts, &[])?;
                }
                let decisions = match forecasts.column(CLV).is_some() && forecasts.unvalued() == 0 {
                    true => Some(decide(&rfm, &forecasts, &DecisionOptions::default())?),
                    false => None,
                };
                let mut frame = forecasts.into_frame(rfm)?;
                if let Some(decisions) = decisions {
                    decisions.add_columns(&mut frame)?;
                }
                Ok::<_, clv::ClvError>(frame)
            })
            .map_err(clv_error)?;
        Ok(ArrowTable::new(frame))
    }

    /// The value report of an RFM table, as `clv report` prints and writes it to `report_dir`
    /// (tiers, statuses, concentration, at-risk customers, cohorts, acquisition with `cac`).
    /// Returns the printed report and the files written.
    #[pyo3(signature = (rfm, report_dir, settings, time_unit, cac, at_risk))]
    #[allow(clippy::too_many_arguments)]
    fn value_report(
        &self,
        py: Python<'_>,
        rfm: &Bound<'_, PyAny>,
        report_dir: PathBuf,
        settings: ForecastSettings,
        time_unit: Option<&str>,
        cac: Option<f64>,
        at_risk: usize,
    ) -> PyResult<(String, Vec<PathBuf>)> {
        let time_unit = time_unit.map(parse_time_unit).transpose()?;
        let input = TableInput::from_py(rfm)?;
        let models = &self.models;
        py.detach(|| {
            let rfm = rfm_table(&input, time_unit)?;
            let options = settings.options(rfm.time_unit)?;
            let forecasts = forecast(models, &rfm, &options)?;
            let decisions = decide(&rfm, &forecasts, &DecisionOptions::default())?;
            let new_customer = models
                .gamma_gamma
                .as_ref()
                .and_then(|g| g.mean_spend)
                .and_then(|mean_spend| {
                    new_customer_value(models.purchase.model(), mean_spend, &options, rfm.time_unit)
                });
            let report = value_report(&rfm, &forecasts, &decisions, cac)?.with_new_customer(new_customer);
            let text = value_report_text(&rfm, &forecasts, &decisions, &report, at_risk);
            let settings = options.describe(rfm.time_unit);
            let written = write_value_report(&report_dir, &rfm, &forecasts, &decisions, &report, &settings)?;
            Ok::<_, clv::ClvError>((text, written))
        })
        .map_err(clv_error)
    }

    fn __repr__(&self) -> String {
        let purchase = self.models.purchase.erased();
        let params: Vec<String> = purchase
            .parameter_order
            .iter()
            .zip(&purchase.params)
            .map(|(n, v)| format!("{n}={v:.4}"))
            .collect();
        let spend = match &self.models.gamma_gamma {
            Some(g) => {
                let g = g.fit.map_params(|p| p.to_vec());
                let params: Vec<String> = g
                    .parameter_order
                    .iter()
                    .zip(&g.params)
                    .map(|(n, v)| format!("{n}={v:.4}"))
                    .collect();
                format!(", Gamma-Gamma({})", params.join(", "))
            }
            None => String::new(),
        };
        format!(
            "<clv models: {}({}), log-likelihood {:.2}, {} customers, time in {}{spend}>",
            self.label(),
            params.join(", "),
            purchase.log_likelihood,
            purchase.n_customers,
            self.time_unit()
        )
    }
}
