//! Each model's formulas customer by customer, for the `lifetimes` layer (`clv.lifetimes`):
//! P(alive), conditional and unconditional expected purchases and their distributions,
//! Gamma-Gamma's expected spend, and BG/BB's formulas for discrete opportunities; over Arrow
//! tables of histories, in parallel, and once per distinct history where a factor depends on part
//! of it only.

use clv::fitting::{fit_bg_bb as fit_bg_bb_to, fit_spend_to};
use clv::forecast::{discounted_value, Distinct};
use clv::mle::FitOptions;
use clv::model_file::{GammaGammaFit, ModelFit};
use clv::models::bg_bb::BgBb;
use clv::models::gamma_gamma::SpendParams;
use clv::models::histories::{DiscreteHistories, DiscreteRow};
use polars::prelude::{Column, DataFrame, DataType, PlSmallStr};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rayon::prelude::*;

use crate::arrow::{frame_from, ArrowTable};
use crate::clv_error;
use crate::models::{fit_dict, Models};

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

/// One of the purchase model's formulas for each row of `table` (NaN where it has no value):
/// `p_alive` (x, t_x, T), `conditional_expected_purchases` (t, x, t_x, T),
/// `probability_of_purchases_given` (t, n, x, t_x, T), `expected_purchases` (t) and
/// `probability_of_purchases` (t, n). Time is in the fit's unit.
#[pyfunction]
pub fn per_customer(py: Python<'_>, models: &Models, formula: &str, table: &Bound<'_, PyAny>) -> PyResult<ArrowTable> {
    let columns: &[&str] = match formula {
        "p_alive" => &["x", "t_x", "T"],
        "conditional_expected_purchases" => &["t", "x", "t_x", "T"],
        "probability_of_purchases_given" => &["t", "n", "x", "t_x", "T"],
        "expected_purchases" => &["t"],
        "probability_of_purchases" => &["t", "n"],
        other => return Err(PyValueError::new_err(format!("no formula '{other}'"))),
    };
    let c = number_columns(table, columns)?;
    let model = models.fitted().purchase.model();
    if formula == "conditional_expected_purchases" {
        // E[Y(t) | x, t_x, T] = P(alive | x, t_x, T) · E[Y(t) | x, T, alive]: the second factor
        // (the hypergeometric one) once per distinct (t, x, T), as the forecast engine does.
        let (t, x, t_x, age) = (&c[0], &c[1], &c[2], &c[3]);
        let values = py.detach(|| {
            let keys = Distinct::of((0..t.len()).map(|i| [t[i], x[i], age[i]]));
            let if_alive = keys.evaluate(|_, &[t, x, age]| model.expected_purchases_if_alive(t, x, age));
            (0..t.len())
                .into_par_iter()
                .map(
                    |i| match (model.p_alive(x[i], t_x[i], age[i]), if_alive[keys.index_of[i] as usize]) {
                        (Some(alive), Some(e)) => alive * e,
                        _ => f64::NAN,
                    },
                )
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

/// lifetimes' month-by-month CLV sum for each row (x, t_x, T) of `table`, per unit spend:
/// Σ_{m=1..months} (E[Y(m·u)] − E[Y((m−1)·u)]) / (1+d)^m with u = `units_per_month` and d the
/// monthly rate (the forecast engine's `discounted_value`); E[Y | x, T, alive]'s increments once
/// per distinct (x, T), times P(alive).
#[pyfunction]
pub fn discounted_conditional_purchases(
    py: Python<'_>,
    models: &Models,
    months: u32,
    units_per_month: f64,
    monthly_discount_rate: f64,
    table: &Bound<'_, PyAny>,
) -> PyResult<ArrowTable> {
    let c = number_columns(table, &["x", "t_x", "T"])?;
    let model = models.fitted().purchase.model();
    let (x, t_x, age) = (&c[0], &c[1], &c[2]);
    let values = py.detach(|| {
        let pairs = Distinct::of((0..x.len()).map(|i| [x[i], age[i]]));
        let discounted = pairs.evaluate(|_, &[x, age]| {
            let if_alive = |t| model.expected_purchases_if_alive(t, x, age);
            discounted_value(if_alive, 1.0, months, units_per_month, monthly_discount_rate)
        });
        (0..x.len())
            .into_par_iter()
            .map(|i| {
                match (
                    model.p_alive(x[i], t_x[i], age[i]),
                    discounted[pairs.index_of[i] as usize],
                ) {
                    (Some(alive), Some(d)) => alive * d,
                    _ => f64::NAN,
                }
            })
            .collect()
    });
    value_table(values)
}

/// Gamma-Gamma alone, fitted to (frequency, mean repeat spend): what `lifetimes`'
/// GammaGammaFitter is.
#[pyclass(frozen, module = "clv._clv")]
pub struct SpendModel {
    fit: GammaGammaFit,
}

/// Fits Gamma-Gamma to the rows (x, zbar[, customers]) of `table`, as `clv fit` fits it beside a
/// purchase model, each row one customer or `customers` of them: customers without repeat
/// purchases or with a mean spend ≤ 0 are left out.
#[pyfunction]
#[pyo3(signature = (table, penalizer, counted=false))]
pub fn fit_spend(py: Python<'_>, table: &Bound<'_, PyAny>, penalizer: f64, counted: bool) -> PyResult<SpendModel> {
    let options = FitOptions::default().with_penalizer(penalizer).map_err(clv_error)?;
    let names: &[&str] = if counted {
        &["x", "zbar", "customers"]
    } else {
        &["x", "zbar"]
    };
    let c = number_columns(table, names)?;
    let (fit, skipped) = py
        .detach(|| fit_spend_to(&c[0], Some(&c[1]), c.get(2).map(|v| v.as_slice()), &options))
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

    /// E[M | x, z̄] for each row (x, zbar) of `table` (see `spend_per_transaction`).
    fn expected_average_spend(&self, py: Python<'_>, table: &Bound<'_, PyAny>) -> PyResult<ArrowTable> {
        spend_per_transaction(py, self.fit.fit.params, table)
    }
}

/// Gamma-Gamma's expected spend per transaction, E[M | x, z̄] (Fader, Hardie & Lee 2005b, eq. 5),
/// for each row (x, zbar) of `table`; NaN where it does not exist (q ≤ 1 with x = 0).
fn spend_per_transaction(py: Python<'_>, spend: SpendParams, table: &Bound<'_, PyAny>) -> PyResult<ArrowTable> {
    let c = number_columns(table, &["x", "zbar"])?;
    let values = py.detach(|| {
        c[0].par_iter()
            .zip(&c[1])
            .map(|(&x, &zbar)| spend.conditional_expected_average_spend(x, zbar).unwrap_or(f64::NAN))
            .collect()
    });
    value_table(values)
}

/// BG/BB (Fader, Hardie & Shang 2010) fitted to discrete histories: what `lifetimes`'
/// BetaGeoBetaBinomFitter is.
#[pyclass(frozen, module = "clv._clv")]
pub struct DiscreteModel {
    fit: ModelFit<BgBb>,
}

/// A count of opportunities or transactions: a whole number ≥ 0.
fn whole(value: f64, what: &str, row: usize) -> PyResult<u32> {
    match value >= 0.0 && value.fract() == 0.0 && value <= f64::from(u32::MAX) {
        true => Ok(value as u32),
        false => Err(PyValueError::new_err(format!(
            "row {row}: {what} must be a whole number ≥ 0, not {value}"
        ))),
    }
}

/// Fits BG/BB to the rows (x, t_x, n, weight) of `table`, as `clv fit --model bg-bb` does.
#[pyfunction]
#[pyo3(signature = (table, penalizer))]
pub fn fit_bg_bb(py: Python<'_>, table: &Bound<'_, PyAny>, penalizer: f64) -> PyResult<DiscreteModel> {
    let options = FitOptions::default().with_penalizer(penalizer).map_err(clv_error)?;
    let c = number_columns(table, &["x", "t_x", "n", "weight"])?;
    let rows = (0..c[0].len())
        .map(|i| {
            Ok(DiscreteRow {
                x: whole(c[0][i], "frequency", i)?,
                t_x: whole(c[1][i], "recency", i)?,
                n: whole(c[2][i], "n_periods", i)?,
                weight: c[3][i],
            })
        })
        .collect::<PyResult<Vec<_>>>()?;
    let histories = DiscreteHistories::from_rows(rows)
        .map_err(|(row, message)| crate::ClvError::new_err(format!("row {row}: {message}")))?;
    let fit = py.detach(|| fit_bg_bb_to(&histories, &options)).map_err(clv_error)?;
    Ok(DiscreteModel { fit })
}

#[pymethods]
impl DiscreteModel {
    /// The fit (see `fit_dict`).
    #[getter]
    fn fit<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        fit_dict(py, &self.fit.map_params(|p| p.to_vec()))
    }

    /// The fit as JSON.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.fit).map_err(|e| crate::ClvError::new_err(e.to_string()))
    }

    /// A fit from `to_json`'s text.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        let fit = serde_json::from_str(text).map_err(|e| crate::ClvError::new_err(format!("not a BG/BB fit: {e}")))?;
        Ok(Self { fit })
    }

    /// One of BG/BB's formulas for each row of `table` (columns as named; opportunities and
    /// counts whole numbers): `expected_transactions` (m, x, t_x, n: eq. 13 over the next m
    /// opportunities), `p_alive_after` (m, x, t_x, n: eq. A10), `expected_transactions_new` (n:
    /// eq. 7) and `probability_of_transactions_new` (x, n: P(X(n) = x)).
    fn per_history(&self, py: Python<'_>, formula: &str, table: &Bound<'_, PyAny>) -> PyResult<ArrowTable> {
        let columns: &[&str] = match formula {
            "expected_transactions" | "p_alive_after" => &["m", "x", "t_x", "n"],
            "expected_transactions_new" => &["n"],
            "probability_of_transactions_new" => &["x", "n"],
            other => return Err(PyValueError::new_err(format!("no formula '{other}'"))),
        };
        let c = number_columns(table, columns)?;
        let counts = columns
            .iter()
            .zip(&c)
            .map(|(name, values)| {
                values
                    .iter()
                    .enumerate()
                    .map(|(row, &v)| whole(v, name, row))
                    .collect::<PyResult<Vec<u32>>>()
            })
            .collect::<PyResult<Vec<_>>>()?;
        let model = self.fit.params;
        let values = py.detach(|| {
            (0..counts[0].len())
                .into_par_iter()
                .map(|i| {
                    let v = |j: usize| counts[j][i];
                    match formula {
                        "expected_transactions" => model.expected_transactions(v(0), v(1), v(2), v(3)),
                        "p_alive_after" => model.p_alive_after(v(0), v(1), v(2), v(3)),
                        "expected_transactions_new" => model.expected_transactions_new(v(0)),
                        _ => model.probability_of_transactions_new(v(0), v(1)),
                    }
                })
                .collect()
        });
        value_table(values)
    }
}
