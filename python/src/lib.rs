//! `clv._clv`: the clv library for Python. Tables cross as Arrow streams ([`arrow`]), the GIL is
//! released while clv summarises, fits and forecasts, and every error of the library arrives as
//! `clv.ClvError` with the command line's one-line message. The Python package (`python/clv`)
//! wraps these functions with docstrings, pandas input and the `lifetimes` layer.

mod arrow;
mod evaluate;
mod formulas;
mod models;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use clv::data::compressed::CompressedSummary;
use clv::data::rfm_table::read_summary_table;
use clv::data::transactions::NegativeAmounts;
use clv::simulate::{simulate as simulate_log, PurchaseProcess, SimulationOptions};
use clv::{summarize as summarize_log, LogSpec, RfmTable, SummaryOptions, TimeUnit, Transactions};
use polars::prelude::DataFrame;
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;

use arrow::{frame_from, ArrowTable};
use formulas::{DiscreteModel, SpendModel};
use models::{ForecastSettings, Models};

create_exception!(
    _clv,
    ClvError,
    PyException,
    "An error of clv: bad input (naming the file or table, column and row), a model that cannot be \
     fitted, or a setting that cannot be meant. The message is the command line's."
);

/// The library's error as the package's exception.
pub(crate) fn clv_error(e: clv::ClvError) -> PyErr {
    ClvError::new_err(e.to_string())
}

/// What a DataFrame handed in is called in messages, in place of a file name.
pub(crate) const FRAME_NAME: &str = "the DataFrame";

/// A table given as a path (read by clv, CSV or Parquet) or as an Arrow-exportable table.
pub(crate) enum TableInput {
    Path(PathBuf),
    Frame(DataFrame),
}

impl TableInput {
    pub(crate) fn from_py(table: &Bound<'_, PyAny>) -> PyResult<Self> {
        match table.extract::<PathBuf>() {
            Ok(path) => Ok(Self::Path(path)),
            Err(_) => Ok(Self::Frame(frame_from(table)?)),
        }
    }
}

pub(crate) fn parse_time_unit(unit: &str) -> PyResult<TimeUnit> {
    TimeUnit::parse(unit)
        .ok_or_else(|| PyValueError::new_err(format!("time_unit must be 'days', 'weeks' or 'months', not '{unit}'")))
}

pub(crate) fn parse_date(what: &str, date: Option<&str>) -> PyResult<Option<NaiveDate>> {
    date.map(|d| {
        NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| PyValueError::new_err(format!("{what} must be a date as YYYY-MM-DD, not '{d}'")))
    })
    .transpose()
}

/// `read` applied to a summary table from a path (read once, its numeric columns parsed as
/// `clv fit` reads them) or a frame: the table, the name it has in messages, and its column names.
pub(crate) fn with_table<T>(
    input: &TableInput,
    read: impl FnOnce(&DataFrame, &Path, &[String]) -> clv::Result<T>,
) -> clv::Result<T> {
    match input {
        TableInput::Path(path) => {
            let (frame, available) = read_summary_table(path)?;
            read(&frame, path, &available)
        }
        TableInput::Frame(frame) => {
            let available: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
            read(frame, Path::new(FRAME_NAME), &available)
        }
    }
}

/// Reads an RFM table from a path or a frame, as `clv fit` and `clv predict` read theirs.
pub(crate) fn rfm_table(input: &TableInput, time_unit: Option<TimeUnit>) -> clv::Result<RfmTable> {
    with_table(input, |frame, source, available| {
        RfmTable::from_frame(frame, source, available, time_unit)
    })
}

/// Which columns of a log hold what (`negative_amounts`: "error", "drop" or "net").
pub(crate) fn log_spec(
    customer: String,
    date: String,
    amount: Option<String>,
    date_format: Option<String>,
    negative_amounts: &str,
) -> PyResult<LogSpec> {
    let negative_amounts = match negative_amounts {
        "error" => NegativeAmounts::Error,
        "drop" => NegativeAmounts::Drop,
        "net" => NegativeAmounts::Net,
        other => {
            return Err(PyValueError::new_err(format!(
                "negative_amounts must be 'error', 'drop' or 'net', not '{other}'"
            )))
        }
    };
    Ok(LogSpec {
        customer_col: customer,
        date_col: date,
        amount_required: false,
        amount_col: amount,
        date_format,
        negative_amounts,
        ..LogSpec::default()
    })
}

/// Reads and checks a log given as a path or a table.
pub(crate) fn load_log(input: &TableInput, spec: &LogSpec) -> clv::Result<Transactions> {
    match input {
        TableInput::Path(path) => Transactions::load(path, spec),
        TableInput::Frame(frame) => Transactions::from_frame(frame, Path::new(FRAME_NAME), spec),
    }
}

/// The RFM summary of a transaction log (path or table), as `clv summarize` writes it.
#[pyfunction]
#[pyo3(signature = (log, customer, date, amount, time_unit, calibration_end, observation_end, date_format, negative_amounts, compressed_decimals=None))]
#[allow(clippy::too_many_arguments)]
fn summarize(
    py: Python<'_>,
    log: &Bound<'_, PyAny>,
    customer: String,
    date: String,
    amount: Option<String>,
    time_unit: &str,
    calibration_end: Option<&str>,
    observation_end: Option<&str>,
    date_format: Option<String>,
    negative_amounts: &str,
    compressed_decimals: Option<u32>,
) -> PyResult<ArrowTable> {
    let spec = log_spec(customer, date, amount, date_format, negative_amounts)?;
    let options = SummaryOptions {
        time_unit: parse_time_unit(time_unit)?,
        calibration_end: parse_date("calibration_end", calibration_end)?,
        observation_end: parse_date("observation_end", observation_end)?,
    };
    let input = TableInput::from_py(log)?;
    let frame = py.detach(|| {
        let summary = summarize_log(&load_log(&input, &spec)?, &options)?;
        match compressed_decimals {
            Some(decimals) => CompressedSummary::of_summary(&summary, Some(decimals))?.to_frame(),
            None => Ok(summary.frame),
        }
    });
    Ok(ArrowTable::new(frame.map_err(clv_error)?))
}

/// A simulated transaction log (customer_id, date, amount) from BG/NBD and Gamma-Gamma, as
/// `clv simulate` writes it.
#[pyfunction]
#[pyo3(signature = (customers, seed, r, alpha, a, b, p, q, gamma, time_unit, days, acquisition_days, start))]
#[allow(clippy::too_many_arguments)]
fn simulate(
    py: Python<'_>,
    customers: usize,
    seed: u64,
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
    p: f64,
    q: f64,
    gamma: f64,
    time_unit: &str,
    days: u32,
    acquisition_days: u32,
    start: &str,
) -> PyResult<ArrowTable> {
    let options = SimulationOptions {
        customers,
        seed,
        purchases: PurchaseProcess::BgNbd(clv::BgNbdParams { r, alpha, a, b }),
        spend: clv::GammaGammaParams { p, q, v: gamma },
        time_unit: parse_time_unit(time_unit)?,
        days,
        acquisition_days,
        start: parse_date("start", Some(start))?.unwrap_or_default(),
    };
    let log = py.detach(|| simulate_log(&options)).map_err(clv_error)?;
    Ok(ArrowTable::new(log))
}

#[pymodule]
fn _clv(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("ClvError", m.py().get_type::<ClvError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<ArrowTable>()?;
    m.add_class::<Models>()?;
    m.add_class::<ForecastSettings>()?;
    m.add_class::<SpendModel>()?;
    m.add_class::<DiscreteModel>()?;
    m.add_function(wrap_pyfunction!(summarize, m)?)?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_function(wrap_pyfunction!(models::fit, m)?)?;
    m.add_function(wrap_pyfunction!(formulas::fit_spend, m)?)?;
    m.add_function(wrap_pyfunction!(formulas::fit_bg_bb, m)?)?;
    m.add_function(wrap_pyfunction!(formulas::per_customer, m)?)?;
    m.add_function(wrap_pyfunction!(formulas::discounted_conditional_purchases, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate::evaluate, m)?)?;
    Ok(())
}
