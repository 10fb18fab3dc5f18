//! Reports: the text the command line prints, and the value report's and the evaluation's files,
//! one file per report: the data and fit (`fit.rs`), the forecasts' value (`value.rs`) and the
//! holdout evaluation (`evaluation.rs`, and BG/BB's in `discrete_evaluation.rs`), and the subscriptions' retention (`retention.rs`).

mod discrete_evaluation;
mod evaluation;
mod fit;
mod retention;
mod value;

pub use discrete_evaluation::{discrete_evaluation_report, write_discrete_evaluation};
pub use evaluation::{evaluation_report, write_evaluation};
pub use fit::{bg_bb_report, fit_report, summary_report};
pub use retention::{retention_report_text, write_retention_report, BaseValue, CohortReport};
pub use value::{spend_tail_note, top_customers, value_report_text, write_value_report};
