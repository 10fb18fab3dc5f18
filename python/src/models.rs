//! Fitted models for Python: fit, read and write the command line's model file, forecast a
//! table as `clv predict` does, and evaluate each model's formulas customer by customer (what
//! the `lifetimes` layer calls).

use std::collections::HashMap;
use std::path::PathBuf;

use clv::data::io::write_text;
use clv::decisions::{decide, value_report, DecisionOptions};
use clv::fitting::{fit_models_using, fit_spend_to};
use clv::forecast::new_customer::new_customer_value;
use clv::forecast::{monthly_rate, ClvMethod, CLV};
use clv::mle::FitOptions;
use clv::model_file::{GammaGammaFit, ModelFit};
use clv::models::gamma_gamma::SpendParams;
use clv::registry::{PurchaseModelKind, PURCHASE_MODELS};
use clv::report::{fit_report, value_report_text, write_value_report};
use clv::{forecast, FittedModels, ForecastOptions, TimeUnit};
use polars::prelude::{Column, DataFrame, DataType, PlSmallStr};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rayon::prelude::*;

use crate::arrow::{frame_from, ArrowTable};
use crate::{clv_error, parse_time_unit, rfm_table, TableInput};

/// A purchase model and (when fitted) Gamma-Gamma, as a clv model file holds them.
#[pyclass(frozen, module = "clv._clv")]
pub struct Models {
    models: FittedModels,
}

/// The forecast settings of `predict` and `value_report`, checked as the command line checks
/// its flags.
#[derive(Clone, Copy)]
struct ForecastSettings {
    horizon: Option<f64>,
    clv_months: u32,
    monthly_discount_rate: f64,
    margin: f64,
    cost_per_order: f64,
    clv_method: ClvMethod,
}

impl ForecastSettings {
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
            let mut rfm = rfm_table(&input, time_unit)?;
            if !spend {
                rfm.monetary_value = None;
            }
            fit_models_using(&rfm, kind, &options)
        })
        .map_err(clv_error)?;
    Ok(Models { models })
}

/// A fit as a dictionary: parameters, standard errors and covariance in the fit's order, the
/// log-likelihood on the papers' scale, AIC, BIC, warnings and the limiting model, if any.
fn fit_dict<'py>(py: Python<'py>, fit: &ModelFit<Vec<f64>>) -> PyResult<Bound<'py, PyDict>> {
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

/// The columns of a table handed in for per-customer formulas, as numbers (missing: NaN).
fn number_columns(table: &Bound<'_, PyAny>, names: &[&str]) -> PyResult<Vec<Vec<f64>>> {
    let frame = frame_from(table)?;
    names
        .iter()
        .map(|&name| {
            let column = frame
                .column(name)
                .and_then(|c| c.cast(&DataType::Float64))
                .map_err(|e| PyValueError::new_err(format!("column '{name}': {e}")))?;
            let values = column
                .f64()
                .map_err(|e| PyValueError::new_err(format!("column '{name}': {e}")))?
                .iter()
                .map(|v| v.unwrap_or(f64::NAN))
                .collect();
            Ok(values)
        })
        .collect()
}

/// One column of values, as a table for the way back.
fn value_table(values: Vec<f64>) -> PyResult<ArrowTable> {
    let column = Column::new(PlSmallStr::from_static("value"), values);
    let frame = DataFrame::new_infer_height(vec![column]).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(ArrowTable::new(frame))
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

    /// Per-customer forecasts of an RFM table, with the columns of `clv predict`.
    #[pyo3(signature = (rfm, horizon, clv_months, monthly_discount_rate, annual_discount_rate, margin, cost_per_order, clv_method, time_unit))]
    #[allow(clippy::too_many_arguments)]
    fn predict(
        &self,
        py: Python<'_>,
        rfm: &Bound<'_, PyAny>,
        horizon: Option<f64>,
        clv_months: u32,
        monthly_discount_rate: f64,
        annual_discount_rate: Option<f64>,
        margin: f64,
        cost_per_order: f64,
        clv_method: &str,
        time_unit: Option<&str>,
    ) -> PyResult<ArrowTable> {
        let settings = ForecastSettings::new(
            horizon,
            clv_months,
            monthly_discount_rate,
            annual_discount_rate,
            margin,
            cost_per_order,
            clv_method,
        )?;
        let time_unit = time_unit.map(parse_time_unit).transpose()?;
        let input = TableInput::from_py(rfm)?;
        let models = &self.models;
        let frame = py
            .detach(|| {
                let rfm = rfm_table(&input, time_unit)?;
                let options = settings.options(rfm.time_unit)?;
                let forecasts = forecast(models, &rfm, &options)?;
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
    #[pyo3(signature = (rfm, report_dir, horizon, clv_months, monthly_discount_rate, annual_discount_rate, margin, cost_per_order, clv_method, time_unit, cac, at_risk))]
    #[allow(clippy::too_many_arguments)]
    fn value_report(
        &self,
        py: Python<'_>,
        rfm: &Bound<'_, PyAny>,
        report_dir: PathBuf,
        horizon: Option<f64>,
        clv_months: u32,
        monthly_discount_rate: f64,
        annual_discount_rate: Option<f64>,
        margin: f64,
        cost_per_order: f64,
        clv_method: &str,
        time_unit: Option<&str>,
        cac: Option<f64>,
        at_risk: usize,
    ) -> PyResult<(String, Vec<PathBuf>)> {
        let settings = ForecastSettings::new(
            horizon,
            clv_months,
            monthly_discount_rate,
            annual_discount_rate,
            margin,
            cost_per_order,
            clv_method,
        )?;
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

    /// One of the purchase model's formulas for each row of `table` (NaN where it has no value):
    /// `p_alive` (x, t_x, T), `conditional_expected_purchases` (t, x, t_x, T),
    /// `probability_of_purchases_given` (t, n, x, t_x, T), `expected_purchases` (t) and
    /// `probability_of_purchases` (t, n). Time is in the fit's unit.
    fn per_customer(&self, py: Python<'_>, formula: &str, table: &Bound<'_, PyAny>) -> PyResult<ArrowTable> {
        let columns: &[&str] = match formula {
            "p_alive" => &["x", "t_x", "T"],
            "conditional_expected_purchases" => &["t", "x", "t_x", "T"],
            "probability_of_purchases_given" => &["t", "n", "x", "t_x", "T"],
            "expected_purchases" => &["t"],
            "probability_of_purchases" => &["t", "n"],
            other => return Err(PyValueError::new_err(format!("no formula '{other}'"))),
        };
        let c = number_columns(table, columns)?;
        let model = self.models.purchase.model();
        if formula == "conditional_expected_purchases" {
            // E[Y(t) | x, t_x, T] = P(alive | x, t_x, T) · E[Y(t) | x, T, alive]: the second factor
            // (the hypergeometric one) once per distinct (t, x, T), as the forecast engine does.
            let (t, x, t_x, age) = (&c[0], &c[1], &c[2], &c[3]);
            let values = py.detach(|| {
                let if_alive = once_per_distinct(&[t, x, age], |k| model.expected_purchases_if_alive(k[0], k[1], k[2]));
                (0..t.len())
                    .into_par_iter()
                    .map(|i| match (model.p_alive(x[i], t_x[i], age[i]), if_alive[i]) {
                        (Some(alive), Some(e)) => alive * e,
                        _ => f64::NAN,
                    })
                    .collect()
            });
            return value_table(values);
        }
        let count = |n: f64| (n >= 0.0 && n.fract() == 0.0).then_some(n as u64);
        let values = py.detach(|| {
            (0..c[0].len())
                .into_par_iter()
                .map(|i| {
                    let value = match formula {
                        "p_alive" => model.p_alive(c[0][i], c[1][i], c[2][i]),
                        "conditional_expected_purchases" => {
                            model.conditional_expected_purchases(c[0][i], c[1][i], c[2][i], c[3][i])
                        }
                        "probability_of_purchases_given" => count(c[1][i])
                            .and_then(|n| model.probability_of_purchases_given(c[0][i], n, c[2][i], c[3][i], c[4][i])),
                        "expected_purchases" => model.expected_purchases(c[0][i]),
                        _ => count(c[1][i]).and_then(|n| model.probability_of_purchases(c[0][i], n)),
                    };
                    value.unwrap_or(f64::NAN)
                })
                .collect()
        });
        value_table(values)
    }

    /// Σ_k weights[k] · E[Y in (times[k−1], times[k]] | x, t_x, T] for each row (x, t_x, T) of
    /// `table` (times[−1] = 0): lifetimes' month-by-month CLV sum in one pass, the increments of
    /// E[Y | x, T, alive] once per distinct (x, T), times P(alive).
    fn discounted_conditional_purchases(
        &self,
        py: Python<'_>,
        times: Vec<f64>,
        weights: Vec<f64>,
        table: &Bound<'_, PyAny>,
    ) -> PyResult<ArrowTable> {
        if times.len() != weights.len() {
            return Err(PyValueError::new_err("times and weights differ in length"));
        }
        let c = number_columns(table, &["x", "t_x", "T"])?;
        let model = self.models.purchase.model();
        let (x, t_x, age) = (&c[0], &c[1], &c[2]);
        let values = py.detach(|| {
            let discounted = once_per_distinct(&[x, age], |k| {
                let mut previous = 0.0;
                let mut sum = 0.0;
                for (&t, &w) in times.iter().zip(&weights) {
                    let e = model.expected_purchases_if_alive(t, k[0], k[1])?;
                    sum += w * (e - previous);
                    previous = e;
                }
                Some(sum)
            });
            (0..x.len())
                .into_par_iter()
                .map(|i| match (model.p_alive(x[i], t_x[i], age[i]), discounted[i]) {
                    (Some(alive), Some(d)) => alive * d,
                    _ => f64::NAN,
                })
                .collect()
        });
        value_table(values)
    }

    /// E[M | x, z̄] for each row (x, zbar) of `table` (see `expected_average_spend`).
    fn expected_average_spend(&self, py: Python<'_>, table: &Bound<'_, PyAny>) -> PyResult<ArrowTable> {
        let spend = self
            .models
            .spend_model()
            .ok_or_else(|| crate::ClvError::new_err("there is no spend model (Gamma-Gamma) in these models"))?;
        expected_average_spend(py, spend, table)
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

/// Gamma-Gamma alone, fitted to (frequency, mean repeat spend): what `lifetimes`'
/// GammaGammaFitter is.
#[pyclass(frozen, module = "clv._clv")]
pub struct SpendModel {
    fit: GammaGammaFit,
}

/// Fits Gamma-Gamma to the rows (x, zbar) of `table`, as `clv fit` fits it beside a purchase
/// model: customers without repeat purchases or with a mean spend ≤ 0 are left out.
#[pyfunction]
#[pyo3(signature = (table, penalizer))]
pub fn fit_spend(py: Python<'_>, table: &Bound<'_, PyAny>, penalizer: f64) -> PyResult<SpendModel> {
    let options = FitOptions::default().with_penalizer(penalizer).map_err(clv_error)?;
    let c = number_columns(table, &["x", "zbar"])?;
    let (fit, skipped) = py
        .detach(|| fit_spend_to(&c[0], Some(&c[1]), &options))
        .map_err(clv_error)?;
    match fit {
        Some(fit) => Ok(SpendModel { fit }),
        None => Err(crate::ClvError::new_err(format!(
            "Gamma-Gamma cannot be fitted: {}",
            skipped.unwrap_or_default()
        ))),
    }
}

#[pymethods]
impl SpendModel {
    /// The fit (see `fit_dict`), with the population mean spend.
    #[getter]
    fn fit<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = fit_dict(py, &self.fit.fit.map_params(|p| p.to_vec()))?;
        d.set_item("mean_spend", self.fit.mean_spend)?;
        d.set_item("excluded_nonpositive_spend", self.fit.excluded_nonpositive_spend)?;
        Ok(d)
    }

    /// The fit as JSON (the `gamma_gamma` entry of a model file).
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.fit).map_err(|e| crate::ClvError::new_err(e.to_string()))
    }

    /// A fit from `to_json`'s text.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        let fit =
            serde_json::from_str(text).map_err(|e| crate::ClvError::new_err(format!("not a Gamma-Gamma fit: {e}")))?;
        Ok(Self { fit })
    }

    /// E[M | x, z̄] for each row (x, zbar) of `table`, as `Models.expected_average_spend`.
    fn expected_average_spend(&self, py: Python<'_>, table: &Bound<'_, PyAny>) -> PyResult<ArrowTable> {
        expected_average_spend(py, self.fit.fit.params, table)
    }
}

/// Gamma-Gamma's expected spend per transaction, E[M | x, z̄] (Fader, Hardie & Lee 2005b, eq. 5),
/// for each row (x, zbar) of `table`; NaN where it does not exist (q ≤ 1 with x = 0).
fn expected_average_spend(py: Python<'_>, spend: SpendParams, table: &Bound<'_, PyAny>) -> PyResult<ArrowTable> {
    let c = number_columns(table, &["x", "zbar"])?;
    let values = py.detach(|| {
        c[0].par_iter()
            .zip(&c[1])
            .map(|(&x, &zbar)| spend.conditional_expected_average_spend(x, zbar).unwrap_or(f64::NAN))
            .collect()
    });
    value_table(values)
}

/// `value` of each row's key (the rows of `columns`), evaluated once per distinct key, in parallel.
fn once_per_distinct(columns: &[&Vec<f64>], value: impl Fn(&[f64]) -> Option<f64> + Sync) -> Vec<Option<f64>> {
    let rows = columns.first().map_or(0, |c| c.len());
    // Keys of up to three numbers (the formulas' (t, x, T)), by their bits.
    let key = |i: usize| {
        let mut k = [0u64; 3];
        for (part, c) in k.iter_mut().zip(columns) {
            *part = c[i].to_bits();
        }
        k
    };
    let mut index: HashMap<[u64; 3], usize> = HashMap::new();
    let mut distinct: Vec<usize> = Vec::new();
    let slot: Vec<usize> = (0..rows)
        .map(|i| {
            *index.entry(key(i)).or_insert_with(|| {
                distinct.push(i);
                distinct.len() - 1
            })
        })
        .collect();
    let values: Vec<Option<f64>> = distinct
        .par_iter()
        .map(|&i| {
            let k: Vec<f64> = columns.iter().map(|c| c[i]).collect();
            value(&k)
        })
        .collect();
    slot.into_iter().map(|s| values[s]).collect()
}
