//! The RFM summary as a warehouse's own SQL (`clv sql`): one query that builds, from a table of
//! transactions, the table `clv summarize` writes — the rules of `conventions`, each cited where
//! the query applies it — or the compressed summary of rule 10, in the dialects of DuckDB, Spark
//! SQL and BigQuery. Tested against the Polars summary in DuckDB and Spark (python/tests); the
//! BigQuery query there too, read as GoogleSQL and written for DuckDB by sqlglot.

use chrono::NaiveDate;

use super::conventions::{
    AGE, CUSTOMERS, CUSTOMER_ID, DURATION_HOLDOUT, FIRST_PURCHASE, FREQUENCY, FREQUENCY_HOLDOUT, MONETARY_VALUE,
    MONETARY_VALUE_HOLDOUT, RECENCY, TIME_UNIT,
};
use super::transactions::NegativeAmounts;
use super::TimeUnit;
use crate::error::{ClvError, Result};

/// The SQL dialect a query is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Dialect {
    /// DuckDB (and MotherDuck)
    Duckdb,
    /// Spark SQL (Databricks, EMR, Synapse Spark)
    Spark,
    /// Google BigQuery (GoogleSQL)
    Bigquery,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Duckdb => "DuckDB",
            Dialect::Spark => "Spark SQL",
            Dialect::Bigquery => "BigQuery",
        }
    }

    /// An identifier, quoted.
    fn quote(self, name: &str) -> String {
        match self {
            Dialect::Duckdb => format!("\"{}\"", name.replace('"', "\"\"")),
            Dialect::Spark | Dialect::Bigquery => format!("`{}`", name.replace('`', "``")),
        }
    }

    fn double(self) -> &'static str {
        match self {
            Dialect::Bigquery => "FLOAT64",
            Dialect::Duckdb | Dialect::Spark => "DOUBLE",
        }
    }

    /// Whole days from `start` to `end` (two DATE expressions).
    fn days_between(self, start: &str, end: &str) -> String {
        match self {
            Dialect::Duckdb => format!("date_diff('day', {start}, {end})"),
            Dialect::Spark => format!("datediff({end}, {start})"),
            Dialect::Bigquery => format!("DATE_DIFF({end}, {start}, DAY)"),
        }
    }

    /// An expression that stops the query with `message`.
    fn fail(self, message: &str) -> String {
        let message = message.replace('\'', "''");
        match self {
            Dialect::Duckdb => format!("error('{message}')"),
            Dialect::Spark => format!("raise_error('{message}')"),
            Dialect::Bigquery => format!("ERROR('{message}')"),
        }
    }
}

/// What the query summarises, and how: the options of `clv summarize`.
#[derive(Debug, Clone)]
pub struct SqlOptions {
    pub dialect: Dialect,
    /// The transactions: a table name, or any expression a FROM clause takes (DuckDB:
    /// `read_parquet('log/*.parquet')`), written into the query as it is.
    pub table: String,
    pub customer_col: String,
    pub date_col: String,
    /// None: a log without amounts (no monetary columns).
    pub amount_col: Option<String>,
    pub negative_amounts: NegativeAmounts,
    pub time_unit: TimeUnit,
    pub observation_end: Option<NaiveDate>,
    pub calibration_end: Option<NaiveDate>,
    /// Some(decimals): the compressed summary, mean spends rounded to `decimals` decimals.
    pub compressed: Option<u32>,
}

/// The query that builds the summary `options` describe.
pub fn summary_sql(options: &SqlOptions) -> Result<String> {
    let d = options.dialect;
    let q = |name: &str| d.quote(name);
    let double = d.double();
    if let (Some(cal), Some(obs)) = (options.calibration_end, options.observation_end) {
        if cal >= obs {
            return Err(ClvError::InvalidArgument(format!(
                "the calibration end {cal} must be before the observation end {obs}"
            )));
        }
    }
    let amounts = options.amount_col.as_deref();
    let date = |day: NaiveDate| format!("DATE '{}'", day.format("%Y-%m-%d"));
    let unit_days = format!("CAST({} AS {double})", unit_literal(options.time_unit));
    let in_units = |start: &str, end: &str| format!("CAST({} AS {double}) / {unit_days}", d.days_between(start, end));
    let amount = match amounts {
        Some(column) => format!("CAST({} AS {double})", q(column)),
        None => format!("CAST(0 AS {double})"),
    };
    // Rule 2: returns refused, dropped or netted.
    let (amount, only_purchases) = match (amounts.is_some(), options.negative_amounts) {
        (true, NegativeAmounts::Error) => (
            format!(
                "CASE WHEN {amount} < 0 THEN {} ELSE {amount} END",
                d.fail("a negative amount (a return): choose what it is with --negative-amounts drop or net")
            ),
            String::new(),
        ),
        (true, NegativeAmounts::Drop) => (amount.clone(), format!("\n    AND {amount} >= 0")),
        _ => (amount, String::new()),
    };
    let net = amounts.is_some() && options.negative_amounts == NegativeAmounts::Net;
    // Rule 3: the observation end (default the last date), and the calibration period's end.
    let observation_end = options
        .observation_end
        .map(|day| format!("SELECT {} AS observation_end", date(day)))
        .unwrap_or_else(|| "SELECT MAX(day) AS observation_end FROM log_rows".to_string());
    let period_end = options
        .calibration_end
        .map(date)
        .unwrap_or_else(|| "observation_end".to_string());

    let mut sql = format!(
        "-- clv summarize, as {dialect} SQL: the RFM summary of {table}, by the numbered rules of clv's\n\
         -- data/conventions.rs (clv {version}).\n\
         WITH log_rows AS (\n  \
           SELECT {id} AS customer_id, CAST({date_col} AS DATE) AS day, {amount} AS amount\n  \
           FROM {table}\n  \
           WHERE {id} IS NOT NULL AND {date_col} IS NOT NULL{only_purchases}\n\
         ),\n\
         bounds AS (\n  \
           SELECT observation_end, {period_end} AS period_end\n  \
           FROM ({observation_end}) AS ends\n\
         ),\n\
         -- Rules 1 and 2: a transaction is a customer-day, its amounts summed{net_note}.\n\
         customer_days AS (\n  \
           SELECT r.customer_id, r.day, SUM(r.amount) AS amount,\n    \
             MIN(r.day) OVER (PARTITION BY r.customer_id) AS first_day,\n    \
             b.period_end, b.observation_end\n  \
           FROM log_rows AS r CROSS JOIN bounds AS b\n  \
           WHERE r.day <= b.observation_end\n  \
           GROUP BY r.customer_id, r.day, b.period_end, b.observation_end{having}\n\
         ),\n\
         -- Rules 4, 6, 7 and 8: customers whose first transaction is in the calibration period.\n\
         customers AS (\n  \
           SELECT customer_id, first_day, period_end, observation_end,\n    \
             MAX(CASE WHEN day <= period_end THEN day END) AS last_day,\n    \
             COUNT(CASE WHEN day > first_day AND day <= period_end THEN 1 END) AS frequency,\n    \
             SUM(CASE WHEN day > first_day AND day <= period_end THEN amount ELSE 0 END) AS repeat_total,\n    \
             COUNT(CASE WHEN day > period_end THEN 1 END) AS frequency_holdout,\n    \
             SUM(CASE WHEN day > period_end THEN amount ELSE 0 END) AS holdout_total\n  \
           FROM customer_days\n  \
           WHERE first_day <= period_end\n  \
           GROUP BY customer_id, first_day, period_end, observation_end\n\
         ),\n",
        dialect = d.name(),
        table = options.table,
        version = env!("CARGO_PKG_VERSION"),
        id = q(&options.customer_col),
        date_col = q(&options.date_col),
        net_note = if net {
            "; a day holding a return whose net is ≤ 0 is not one"
        } else {
            ""
        },
        having = if net {
            "\n  HAVING NOT (SUM(r.amount) <= 0 AND MIN(r.amount) < 0)"
        } else {
            ""
        },
    );
    // Rules 5 to 9: the columns, in clv summarize's order and names.
    let mean = |total: &str, count: &str| format!("CASE WHEN {count} > 0 THEN {total} / {count} ELSE 0 END");
    let mut columns = vec![
        format!("customer_id AS {}", q(CUSTOMER_ID.name)),
        format!("frequency AS {}", q(FREQUENCY.name)),
        format!("{} AS {}", in_units("first_day", "last_day"), q(RECENCY.name)),
        format!("{} AS {}", in_units("first_day", "period_end"), q(AGE.name)),
    ];
    if amounts.is_some() {
        columns.push(format!(
            "{} AS {}",
            mean("repeat_total", "frequency"),
            q(MONETARY_VALUE.name)
        ));
    }
    if options.calibration_end.is_some() && options.compressed.is_none() {
        columns.push(format!("frequency_holdout AS {}", q(FREQUENCY_HOLDOUT.name)));
        if amounts.is_some() {
            columns.push(format!(
                "{} AS {}",
                mean("holdout_total", "frequency_holdout"),
                q(MONETARY_VALUE_HOLDOUT.name)
            ));
        }
        columns.push(format!(
            "{} AS {}",
            in_units("period_end", "observation_end"),
            q(DURATION_HOLDOUT.name)
        ));
    }
    columns.push(format!("first_day AS {}", q(FIRST_PURCHASE.name)));
    columns.push(format!("'{}' AS {}", options.time_unit.name(), q(TIME_UNIT.name)));
    sql.push_str(&format!(
        "summary AS (\n  SELECT\n    {}\n  FROM customers\n)\n",
        columns.join(",\n    ")
    ));

    let (x, tx, t, m, n, unit) = (
        q(FREQUENCY.name),
        q(RECENCY.name),
        q(AGE.name),
        q(MONETARY_VALUE.name),
        q(CUSTOMERS.name),
        q(TIME_UNIT.name),
    );
    match options.compressed {
        None => sql.push_str("SELECT * FROM summary\n"),
        // Rule 10: the distinct histories, and the distinct (x, z̄) with z̄ rounded as
        // `compressed::round_to_decimals` rounds it, each with its customers.
        Some(decimals) if amounts.is_some() => {
            let scale = format!("CAST({} AS {double})", 10u64.pow(decimals));
            sql.push_str(&format!(
                "SELECT {x}, {tx}, {t}, {m}, COUNT(*) AS {n}, {unit}\n\
                 FROM (\n  \
                   SELECT {x}, {tx}, {t}, ROUND(ROUND({m} * {scale}, 6), 0) / {scale} AS {m}, {unit}\n  \
                   FROM summary\n\
                 ) AS keyed\n\
                 GROUP BY GROUPING SETS (({x}, {tx}, {t}, {unit}), ({x}, {m}, {unit}))\n"
            ));
        }
        Some(_) => sql.push_str(&format!(
            "SELECT {x}, {tx}, {t}, COUNT(*) AS {n}, {unit}\nFROM summary\nGROUP BY {x}, {tx}, {t}, {unit}\n"
        )),
    }
    Ok(sql)
}

/// The time unit's length in days as a SQL number literal (rule 5: a month is 365.25/12 days,
/// 30.4375 exactly in binary).
fn unit_literal(unit: TimeUnit) -> String {
    let days = unit.days();
    match days.fract() == 0.0 {
        true => format!("{days:.1}"),
        false => format!("{days}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(dialect: Dialect) -> SqlOptions {
        SqlOptions {
            dialect,
            table: "transactions".into(),
            customer_col: "customer_id".into(),
            date_col: "date".into(),
            amount_col: Some("amount".into()),
            negative_amounts: NegativeAmounts::Error,
            time_unit: TimeUnit::Weeks,
            observation_end: None,
            calibration_end: None,
            compressed: None,
        }
    }

    #[test]
    fn each_dialect_quotes_diffs_dates_and_fails_in_its_own_words() {
        let duck = summary_sql(&options(Dialect::Duckdb)).unwrap();
        assert!(duck.contains("date_diff('day', first_day, last_day)"));
        assert!(duck.contains("AS \"T\""));
        assert!(duck.contains("error('a negative amount"));
        let spark = summary_sql(&options(Dialect::Spark)).unwrap();
        assert!(spark.contains("datediff(last_day, first_day)"));
        assert!(spark.contains("AS `T`"));
        assert!(spark.contains("raise_error("));
        let bq = summary_sql(&options(Dialect::Bigquery)).unwrap();
        assert!(bq.contains("DATE_DIFF(last_day, first_day, DAY)"));
        assert!(bq.contains("CAST(7.0 AS FLOAT64)"));
        assert!(bq.contains("ERROR("));
    }

    #[test]
    fn months_are_365_25_over_12_days_and_a_calibration_end_adds_the_holdout() {
        let mut o = options(Dialect::Duckdb);
        o.time_unit = TimeUnit::Months;
        o.calibration_end = NaiveDate::from_ymd_opt(1997, 9, 30);
        let sql = summary_sql(&o).unwrap();
        assert_eq!(365.25 / 12.0, 30.4375);
        assert!(sql.contains("CAST(30.4375 AS DOUBLE)"));
        assert!(sql.contains("DATE '1997-09-30' AS period_end"));
        assert!(sql.contains("AS \"duration_holdout\""));
        o.observation_end = NaiveDate::from_ymd_opt(1997, 9, 1);
        assert!(summary_sql(&o).is_err());
    }

    #[test]
    fn quotes_in_names_cannot_end_the_identifier() {
        let mut o = options(Dialect::Spark);
        o.customer_col = "cust`id".into();
        assert!(summary_sql(&o).unwrap().contains("`cust``id`"));
    }
}
