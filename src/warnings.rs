//! What a fit warns of, as data: the optimiser's and the spend model's warnings are values a
//! program can match on, rendered to the analyst's words (`Display`) only where they are printed
//! or stored. A model file stores the words; a warning read back from one is its text.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What the data do not pin down; the forecasts may still be usable.
const HINT: &str = "the forecasts may still be usable; more customers or a longer calibration period would pin it down";

/// A warning attached to a fit.
#[derive(Debug, Clone, PartialEq)]
pub enum FitWarning {
    /// The search ended with a parameter at the edge of the parameter space (below 1e-10 or above 2e10).
    AtTheEdge { parameter: String, value: f64 },
    /// A parameter's standard error is more than `relative_error` times its estimate.
    NotIdentified {
        parameter: String,
        value: f64,
        relative_error: f64,
    },
    /// The observed information is not positive definite: no standard errors.
    NoStandardErrors,
    /// Gamma-Gamma's q ≤ 1: the population mean spend is infinite.
    InfiniteMeanSpend { q: f64 },
    /// Gamma-Gamma's q < 2: spend per customer has infinite variance across customers.
    InfiniteSpendVariance { q: f64, mean_spend: f64 },
    /// The limiting model is reported although the likelihood rises a little inside the limit,
    /// toward a maximum the optimiser could not settle on or one whose `parameter` the data do not
    /// identify: by `gain` at `parameter` = `value`,
    /// too little for the data to tell the two apart (2·gain below the χ²₁ 95% point, 3.84).
    LimitAlmostMaximum { parameter: String, value: f64, gain: f64 },
    /// A warning read back from a model file, as its text.
    Stored(String),
}

impl fmt::Display for FitWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AtTheEdge { parameter, value } => write!(
                f,
                "{parameter} = {value:.3e} is at the edge of the parameter space: the data do not identify it ({HINT})"
            ),
            Self::NotIdentified {
                parameter,
                value,
                relative_error,
            } => write!(
                f,
                "{parameter} = {value:.4e} is not identified by the data: its standard error is {relative_error:.0} times the estimate ({HINT})"
            ),
            Self::NoStandardErrors => write!(
                f,
                "the observed information is not positive definite, so some parameters are not identified and there are no standard errors ({HINT})"
            ),
            Self::InfiniteMeanSpend { q } => write!(
                f,
                "q = {q:.4} ≤ 1: the population mean spend p·v/(q−1) is infinite, so customers without repeat purchases \
                 get no spend or CLV forecast (left empty); customers with x repeat purchases get E[M | x, z̄] = \
                 p(v + x·z̄)/(p·x + q − 1) wherever p·x + q > 1"
            ),
            Self::InfiniteSpendVariance { q, mean_spend } => write!(
                f,
                "q = {q:.4} < 2: spend per customer has infinite variance across customers, and customers without \
                 repeat purchases are forecast the population mean p·v/(q−1) = {mean_spend:.2}, which a q nearer 1 would inflate \
                 without bound"
            ),
            Self::LimitAlmostMaximum { parameter, value, gain } => write!(
                f,
                "the likelihood is {} higher inside this limit, at {parameter} = {value:.0}, too little for \
                 the data to tell the two apart (a likelihood-ratio test would need 1.92), and their forecasts \
                 differ by less than the estimates' own uncertainty",
                // A gain far below the last of four decimals in two digits rather than as 0.0000.
                if *gain >= 1e-3 { format!("{gain:.4}") } else { format!("{gain:.1e}") }
            ),
            Self::Stored(text) => f.write_str(text),
        }
    }
}

impl Serialize for FitWarning {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FitWarning {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::Stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warning_is_stored_as_its_words_and_read_back_as_them() {
        let warning = FitWarning::NotIdentified {
            parameter: "b".into(),
            value: 2.5e7,
            relative_error: 12.4,
        };
        let json = serde_json::to_string(&warning).unwrap();
        assert_eq!(
            json,
            "\"b = 2.5000e7 is not identified by the data: its standard error is 12 times the estimate (the \
             forecasts may still be usable; more customers or a longer calibration period would pin it down)\""
        );
        let read: FitWarning = serde_json::from_str(&json).unwrap();
        assert_eq!(read.to_string(), warning.to_string());
    }
}
