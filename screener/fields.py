"""The field dictionary: every column a screen or an exposure table can hold.

Each :class:`Field` says what a column means, its unit, its dtype and which component
produces it. ``semiscreen fields`` prints :func:`field_table`; screen filters call
:func:`validate_field` so that a typo gets a clear error with the closest valid names.

Units used: ``fraction`` (0.05 = 5 %), ``annualised fraction``, ``local currency`` (the
security's trading currency, see ``currency``), ``count``, ``date``, ``ratio`` (unitless
regression slope), ``z-score`` (standard deviations within a theme), ``t-statistic``,
``standardised CAR`` (a CAR divided by its standard deviation), ``idf units`` (sums of
inverse-document-frequency weights), ``log score`` (``ln(1 + idf units)``), ``text``
(identifiers and lists) and ``boolean``.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from screener.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Field", "FIELDS", "COMPONENTS", "validate_field", "get_field", "field_names", "field_table"]

#: Component -> where it is computed.
COMPONENTS: dict[str, str] = {
    "universe": "screener.universe (seeds/universe.csv)",
    "metrics": "screener.metrics.screening_metrics",
    "text": "screener.exposure.text_relevance",
    "event": "screener.exposure.event_response",
    "return": "screener.exposure.return_exposure",
    "composite": "screener.exposure.composite_exposure",
}


@dataclass(frozen=True)
class Field:
    """One column of a screen or exposure table.

    Attributes
    ----------
    name : str
        Column name.
    meaning : str
        What the value is, in one sentence (with its window or formula in short).
    unit : str
        Unit of the value (see the module docstring).
    dtype : str
        pandas dtype family: ``float64``, ``int64``, ``Int64`` (nullable), ``bool``, ``str``,
        ``datetime64``.
    component : str
        The producer, a key of :data:`COMPONENTS`.
    n_field : str or None
        The column holding the number of observations behind the value, if any.
    """

    name: str
    meaning: str
    unit: str
    dtype: str
    component: str
    n_field: str | None = None


def _f(name: str, meaning: str, unit: str, dtype: str, component: str, n_field: str | None = None) -> Field:
    return Field(name, meaning, unit, dtype, component, n_field)


_FIELDS: tuple[Field, ...] = (
    # keys and universe columns
    _f("symbol", "Yahoo symbol of the security", "text", "str", "universe"),
    _f("theme_id", "theme identifier (themes.csv)", "text", "str", "universe"),
    _f("name", "security name in English", "text", "str", "universe"),
    _f("name_zh", "security name in Chinese", "text", "str", "universe"),
    _f("asset_type", "equity, etf or index", "text", "str", "universe"),
    _f("exchange", "ISO 10383 MIC of the listing", "text", "str", "universe"),
    _f("country", "ISO 3166 alpha-2 country of the listing", "text", "str", "universe"),
    _f("segment", "industry segment (controlled vocabulary)", "text", "str", "universe"),
    _f("benchmark", "local market index used for beta", "text", "str", "universe"),
    _f("sector_benchmark", "sector benchmark (e.g. SOXX)", "text", "str", "universe"),
    # metrics
    _f("ret_1m", "return from the last price on/before anchor - 1 calendar month to the anchor "
       "(the last price on/before as_of)", "fraction", "float64", "metrics"),
    _f("ret_1m_from", "date of the base price of ret_1m", "date", "datetime64", "metrics"),
    _f("ret_3m", "return over 3 calendar months to the anchor, as ret_1m", "fraction", "float64", "metrics"),
    _f("ret_3m_from", "date of the base price of ret_3m", "date", "datetime64", "metrics"),
    _f("ret_6m", "return over 6 calendar months to the anchor, as ret_1m", "fraction", "float64", "metrics"),
    _f("ret_6m_from", "date of the base price of ret_6m", "date", "datetime64", "metrics"),
    _f("ret_ytd", "return from the last price on/before 31 Dec of the prior year to the anchor", "fraction",
       "float64", "metrics"),
    _f("ret_ytd_from", "date of the base price of ret_ytd", "date", "datetime64", "metrics"),
    _f("vol_60d", "sample sd (ddof=1) of daily simple returns over the last 60 sessions x sqrt(252)",
       "annualised fraction", "float64", "metrics", "vol_60d_n"),
    _f("vol_60d_n", "daily returns behind vol_60d", "count", "int64", "metrics"),
    _f("beta", "OLS slope of daily return on the benchmark's daily return, last 252 sessions", "ratio",
       "float64", "metrics", "beta_n"),
    _f("beta_n", "return pairs behind beta", "count", "int64", "metrics"),
    _f("beta_benchmark", "benchmark column beta is measured against", "text", "str", "metrics"),
    _f("max_drawdown_1y", "min over t of P_t / running max - 1, prices in (anchor - 1 year, anchor]", "fraction",
       "float64", "metrics", "max_drawdown_1y_n"),
    _f("max_drawdown_1y_n", "prices behind max_drawdown_1y", "count", "int64", "metrics"),
    _f("adv_60d", "mean daily close x volume over the last 60 sessions (days with volume > 0)", "local currency",
       "float64", "metrics", "adv_60d_n"),
    _f("adv_60d_n", "days behind adv_60d", "count", "int64", "metrics"),
    _f("currency", "ISO 4217 currency of prices and adv_60d", "text", "str", "metrics"),
    _f("coverage_1y", "share of expected sessions in (as_of - 1 year, as_of] with a price", "fraction", "float64",
       "metrics", "coverage_1y_expected"),
    _f("coverage_1y_expected", "expected sessions in the coverage window", "count", "int64", "metrics"),
    _f("coverage_1y_observed", "expected sessions with a price", "count", "int64", "metrics"),
    _f("first_price_date", "first date with a price", "date", "datetime64", "metrics"),
    _f("last_price_date", "last date with a price on/before as_of (the anchor)", "date", "datetime64", "metrics"),
    # text relevance
    _f("text_n_mentions", "text units (sentences/paragraphs) mentioning the security", "count", "int64", "text"),
    _f("text_n_comentions", "units mentioning the security and a theme keyword", "count", "int64", "text"),
    _f("text_idf_sum", "sum over units mentioning the security of the idf weights of the theme keywords present",
       "idf units", "float64", "text", "text_n_mentions"),
    _f("text_relevance", "ln(1 + text_idf_sum)", "log score", "float64", "text", "text_n_mentions"),
    _f("text_share", "text_n_comentions / text_n_mentions", "fraction", "float64", "text", "text_n_mentions"),
    _f("text_n_documents", "documents with at least one co-mention", "count", "int64", "text"),
    _f("text_documents", "those documents, ';'-separated", "text", "str", "text"),
    # event response
    _f("event_n", "event-firm pairs with a known sign and a SCAR behind the mean", "count", "int64", "event"),
    _f("event_n_unsigned", "pairs with expected sign 0/unknown (excluded by default)", "count", "int64", "event"),
    _f("event_n_missing", "pairs whose SCAR is missing", "count", "int64", "event"),
    _f("event_mean_scar", "mean of expected_sign x SCAR over the theme's events", "standardised CAR", "float64",
       "event", "event_n"),
    _f("event_sd", "sample sd (ddof=1) of the sign-adjusted SCARs", "standardised CAR", "float64", "event",
       "event_n"),
    _f("event_t", "mean / (sd / sqrt(n)); NaN for n < 2", "t-statistic", "float64", "event", "event_n"),
    _f("event_z", "sum of sign-adjusted SCARs / sqrt(n)", "z-score", "float64", "event", "event_n"),
    _f("event_ids", "events behind the mean, ';'-separated", "text", "str", "event"),
    # return exposure
    _f("return_beta", "OLS loading on the leave-one-out equal-weighted theme factor, controlling for the benchmark",
       "ratio", "float64", "return", "return_n"),
    _f("return_se", "classical standard error of return_beta", "ratio", "float64", "return", "return_n"),
    _f("return_t", "return_beta / return_se", "t-statistic", "float64", "return", "return_n"),
    _f("return_beta_market", "loading on the market benchmark in the same regression", "ratio", "float64",
       "return", "return_n"),
    _f("return_t_market", "t-statistic of return_beta_market", "t-statistic", "float64", "return", "return_n"),
    _f("return_beta_lag", "loading on the previous-day theme factor (factor_lag=True only)", "ratio", "float64",
       "return", "return_n"),
    _f("return_t_lag", "t-statistic of return_beta_lag", "t-statistic", "float64", "return", "return_n"),
    _f("return_beta_total", "return_beta + return_beta_lag (factor_lag=True only)", "ratio", "float64", "return",
       "return_n"),
    _f("return_t_total", "t-statistic of return_beta_total", "t-statistic", "float64", "return", "return_n"),
    _f("return_r2", "R-squared of the regression", "fraction", "float64", "return", "return_n"),
    _f("return_n", "days in the regression (security, factor and benchmark all present)", "count", "int64",
       "return"),
    _f("return_n_constituents", "core securities in the factor (the security itself excluded)", "count", "int64",
       "return"),
    _f("return_is_core", "whether the security is a core symbol of the theme", "boolean", "bool", "return"),
    _f("return_benchmark", "benchmark column controlled for", "text", "str", "return"),
    # composite
    _f("z_text", "text_relevance standardised within the theme", "z-score", "float64", "composite",
       "text_n_mentions"),
    _f("z_event", "event_mean_scar standardised within the theme", "z-score", "float64", "composite", "event_n"),
    _f("z_return", "return_beta standardised within the theme", "z-score", "float64", "composite", "return_n"),
    _f("composite", "weighted mean of the available z-scores (weights renormalised over them)", "z-score",
       "float64", "composite", "composite_n_components"),
    _f("composite_n_components", "components with a z-score for this row", "count", "int64", "composite"),
    _f("composite_weight", "share of the total weight carried by the available components", "fraction", "float64",
       "composite"),
    _f("composite_rank", "rank of composite within the theme (1 = most exposed)", "count", "Int64", "composite"),
)

#: Name -> :class:`Field`, in display order.
FIELDS: dict[str, Field] = {f.name: f for f in _FIELDS}


def field_names(component: str | None = None) -> list[str]:
    """Names of all fields, or of one component's fields."""
    if component is not None and component not in COMPONENTS:
        raise InputError(f"unknown component {component!r}; valid: {', '.join(COMPONENTS)}")
    return [n for n, f in FIELDS.items() if component is None or f.component == component]


def validate_field(name: str) -> Field:
    """Return the :class:`Field` called ``name``.

    Raises
    ------
    InputError
        If there is no such field; the message suggests the closest names (difflib) and lists
        every valid name.
    """
    if isinstance(name, str) and name in FIELDS:
        return FIELDS[name]
    key = str(name)
    lowered = {n.lower(): n for n in FIELDS}
    if key.strip().lower() in lowered:
        close = [lowered[key.strip().lower()]]
    else:
        close = difflib.get_close_matches(key, list(FIELDS), n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
    raise InputError(f"unknown field {key!r}.{hint} Valid fields: {', '.join(FIELDS)}")


get_field = validate_field


def field_table(component: str | None = None) -> "pd.DataFrame":
    """The dictionary as a DataFrame: ``name, meaning, unit, dtype, component, n_field``."""
    import pandas as pd

    names = field_names(component)
    return pd.DataFrame([asdict(FIELDS[n]) for n in names], columns=["name", "meaning", "unit", "dtype", "component",
                                                                      "n_field"])
