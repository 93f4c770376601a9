"""Forecast accuracy on the original scale: rmse, mae, mape (%) and mase."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import mean_absolute_error, mean_squared_error

METRICS = ("rmse", "mae", "mape", "mase")
METRIC_HELP = {
    "rmse": "root mean squared error, in the series' units; punishes big misses",
    "mae": "mean absolute error, in the series' units",
    "mape": "mean absolute percentage error (%); undefined when an actual value is 0",
    "mase": "MAE divided by the in-sample MAE of seasonal naive; below 1 beats it",
}


def rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.sqrt(mean_squared_error(actual, predicted)))


def mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(mean_absolute_error(actual, predicted))


def mape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """In percent. NaN when any actual value is 0 (sklearn would return a huge finite number)."""
    actual = np.asarray(actual, dtype="float64")
    if np.any(actual == 0):
        return float("nan")
    return float(np.mean(np.abs((actual - np.asarray(predicted)) / actual)) * 100)


def mase(actual: np.ndarray, predicted: np.ndarray, train: np.ndarray, season: int = 1) -> float:
    """Hyndman & Koehler's MASE: test MAE over the in-sample MAE of the seasonal naive forecast.

    Falls back to lag 1 when the training part is shorter than two seasons; NaN when the
    training part is constant (nothing to scale by).
    """
    train = np.asarray(train, dtype="float64")
    lag = season if len(train) > 2 * season else 1
    scale = np.mean(np.abs(train[lag:] - train[:-lag])) if len(train) > lag else np.nan
    if not np.isfinite(scale) or scale == 0:
        return float("nan")
    return mae(actual, predicted) / float(scale)


def evaluate(actual: np.ndarray, predicted: np.ndarray, train: np.ndarray,
             season: int = 1) -> dict[str, float]:
    """All metrics for one model's test predictions."""
    return {"rmse": rmse(actual, predicted), "mae": mae(actual, predicted),
            "mape": mape(actual, predicted), "mase": mase(actual, predicted, train, season)}


# --- numbers for people: thousands separators, sensible digits, a real minus sign ---------------
MINUS = "\u2212"     # "−": the typographic minus a person reads ("-" only where a widget parses it)
_BIG = ((1e12, "trillion"), (1e9, "billion"))
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def fmt_number(value: float | None, digits: int = 3, minus: str = MINUS) -> str:
    """``value`` as a person reads it: ``digits`` significant digits, but never fewer than its
    whole part (1,793 not 1.79e+03), thousands separators, "−" for negatives, billions and
    trillions in words; "—" for no value (None, NaN).

    >>> fmt_number(1793.4), fmt_number(52.123), fmt_number(0.012345), fmt_number(1e11)
    ('1,793', '52.1', '0.0123', '100 billion')
    """
    if value is None or not np.isfinite(value):
        return "—"
    value = float(value)
    sign = minus if value < 0 else ""
    size = abs(value)
    for scale, word in _BIG:
        if size >= scale and size < 1e15:
            shown = size / scale
            return f"{sign}{fmt_number(shown, digits, minus)} {word}"
    if size == 0:
        return "0"
    if size < 10 ** digits:
        size = float(f"{size:.{digits}g}")      # 9.99996 -> 10.0, not "10.00"
    if size >= 1e15 or size < 1e-4:
        exponent = int(np.floor(np.log10(size)))
        power = str(exponent).translate(_SUPERSCRIPT)
        return f"{sign}{size / 10 ** exponent:.{max(digits - 1, 0)}f} × 10{power}"
    decimals = max(0, digits - 1 - int(np.floor(np.log10(size))))
    text = f"{size:,.{decimals}f}"
    if float(text.replace(",", "")) == 0:
        return "0"
    return sign + text


def fmt_percent(value: float | None, signed: bool = False, minus: str = MINUS) -> str:
    """A percentage: one decimal below 100 ("31.9%"), whole above ("248%"); ``signed`` puts
    "+" before a positive one; "—" for none."""
    if value is None or not np.isfinite(value):
        return "—"
    size = abs(float(value))
    text = f"{size:,.1f}" if size < 100 else f"{size:,.0f}"
    if float(text.replace(",", "")) == 0:
        return "0%"
    sign = minus if value < 0 else ("+" if signed else "")
    return f"{sign}{text}%"


def fmt_delta(value: float, reference: float | None, minus: str = MINUS) -> str:
    """A difference from ``reference`` with its relative size: "−3,570 (−48.0%)", "+12.6
    (+31.9%)" (just the difference when there is no reference to divide by)."""
    diff = float(value) - float(reference) if reference is not None else float("nan")
    if not np.isfinite(diff):
        return "—"
    text = ("+" if diff > 0 else "") + fmt_number(diff, minus=minus)
    if reference:
        text += f" ({fmt_percent(diff / abs(reference) * 100, signed=True, minus=minus)})"
    return text
