"""Type stubs of clv's extension module (python/src). Use the package's functions (clv.summarize,
clv.fit, ...) rather than these: they add the defaults, pandas input and return DataFrames."""

from typing import Any, Protocol

__version__: str

class ClvError(Exception):
    """An error of clv, with the command line's one-line message."""

class _ArrowStream(Protocol):
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...

class ArrowTable:
    """A table on its way to Python: polars.DataFrame(table) takes it (Arrow C stream)."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...
    def __len__(self) -> int: ...

class ForecastSettings:
    """Forecast settings, checked as the command line checks its flags."""

    def __init__(
        self,
        horizon: float | None,
        clv_months: int,
        monthly_discount_rate: float,
        annual_discount_rate: float | None,
        margin: float,
        cost_per_order: float,
        clv_method: str,
    ) -> None: ...

class Models:
    """A fitted purchase model and, when fitted, Gamma-Gamma (a clv model file's contents)."""

    model: str
    label: str
    time_unit: str
    purchase: dict[str, Any]
    spend: dict[str, Any] | None
    spend_skipped: str | None
    @staticmethod
    def read(path: str) -> Models: ...
    @staticmethod
    def from_json(text: str) -> Models: ...
    def to_json(self) -> str: ...
    def save(self, path: str) -> None: ...
    def report(self) -> str: ...
    def predict(
        self,
        rfm: str | _ArrowStream,
        settings: ForecastSettings,
        time_unit: str | None,
        interval: float | None,
        draws: int,
        bootstrap: int | None,
        interval_seed: int,
    ) -> ArrowTable: ...
    def value_report(
        self, rfm: str | _ArrowStream, report_dir: str, settings: ForecastSettings, time_unit: str | None, cac: float | None, at_risk: int
    ) -> tuple[str, list[str]]: ...

class SpendModel:
    """Gamma-Gamma alone."""

    fit: dict[str, Any]
    @staticmethod
    def from_json(text: str) -> SpendModel: ...
    def to_json(self) -> str: ...
    def expected_average_spend(self, table: _ArrowStream) -> ArrowTable: ...

def summarize(
    log: str | _ArrowStream,
    customer: str,
    date: str,
    amount: str | None,
    time_unit: str,
    calibration_end: str | None,
    observation_end: str | None,
    date_format: str | None,
    negative_amounts: str,
    compressed_decimals: int | None = None,
) -> ArrowTable: ...
def fit(rfm: str | _ArrowStream, model: str, spend: bool, penalizer: float, time_unit: str | None) -> Models: ...
def evaluate(
    log: str | _ArrowStream,
    calibration_end: str,
    models: list[str],
    report_dir: str,
    customer: str,
    date: str,
    amount: str | None,
    time_unit: str,
    observation_end: str | None,
    date_format: str | None,
    penalizer: float,
) -> tuple[str, ArrowTable, list[str]]: ...
def per_customer(models: Models, formula: str, table: _ArrowStream) -> ArrowTable: ...
def discounted_conditional_purchases(
    models: Models, months: int, units_per_month: float, monthly_discount_rate: float, table: _ArrowStream
) -> ArrowTable: ...
def fit_spend(table: _ArrowStream, penalizer: float, counted: bool = False) -> SpendModel: ...
def simulate(
    customers: int,
    seed: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    p: float,
    q: float,
    gamma: float,
    time_unit: str,
    days: int,
    acquisition_days: int,
    start: str,
) -> ArrowTable: ...
