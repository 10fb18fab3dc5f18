//! clv: probabilistic customer-lifetime value.
//!
//! Data flows one way: a transaction log ([`data::transactions`]) becomes an RFM table
//! ([`data::rfm`]), on which a purchase model listed in the [`registry`] (BG/NBD, Pareto/NBD, ...)
//! and the Gamma-Gamma spend model ([`models`]) are fitted by maximum likelihood ([`mle`],
//! [`boundary`], [`fitting`]) and stored ([`model_file`]), and the fitted models give per-customer
//! forecasts ([`forecast`]) as named columns, from which
//! [`decisions`] and [`report`] read.

pub mod boundary;
#[cfg(feature = "cli")]
pub mod cli;
pub mod data;
pub mod decisions;
pub mod error;
pub mod evaluate;
#[cfg(feature = "figures")]
pub mod figures;
pub mod fitting;
pub mod forecast;
pub mod mle;
pub mod model_file;
pub mod models;
pub mod registry;
pub mod report;
pub mod scoring;
pub mod simulate;
pub mod special;
#[cfg(test)]
mod test_support;
pub mod warnings;

pub use data::rfm::{summarize, RfmTable, Summary, SummaryOptions};
pub use data::transactions::{LogSpec, Transactions};
pub use data::TimeUnit;
pub use error::{ClvError, Result};
pub use fitting::{fit_models, fit_models_with};
pub use forecast::{forecast, ForecastOptions, Forecasts};
pub use model_file::FittedModels;
pub use models::bg_nbd::BgNbdParams;
pub use models::gamma_gamma::GammaGammaParams;
