"""Plotly figure builders. They return ``go.Figure``; the UI only shows them.

Long series are downsampled for the browser (every k-th point) and the chart says so.

Plotly renders a subset of HTML (``<a href>``, ``<b>``, ``<span style>``, ``<br>``) in titles,
axis titles, legend names, hover labels and annotations. Text from users (a CSV's column header,
an imported run's series name, a run's label) goes through ``safe_text`` before it reaches a
figure, here and in ``sweep``'s figures: it shows as typed and never becomes a link or styling.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lstm_lab.data.series import Series
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.intervals import (
    INTERVAL_HELP,
    INTERVAL_METRICS,
    interval_metric_name,
    level_key,
)
from lstm_lab.experiments.metrics import fmt_number, fmt_percent
from lstm_lab.experiments.training import ExperimentResult
from lstm_lab.models.registry import MODEL_COLOURS, REGISTRY, by_kind, model_label

MAX_PLOT_POINTS = 5000
# each model's colour and line style come from its registry spec; the rest are the charts' own
COLORS = {"actual": "#1f2937", **MODEL_COLOURS, "train": "#1f77b4", "val": "#ff7f0e"}
DASH = {s.key: s.dash for s in REGISTRY if s.dash != "solid"}
TEST_FILL = "rgba(255, 193, 7, 0.12)"
BAND_ALPHA = 0.22     # a light fill of a model's colour (band_fill's default)
# prediction intervals, narrowest level first: a wider level is lighter (as Prophet and Darts
# draw them); where the bands overlap, the narrower one reads darker
INTERVAL_ALPHAS = (0.26, 0.14, 0.08)
# an ensemble's members' spread is hatched with dotted edges, never a plain fill: it is not an
# interval and must not read as one
SPREAD_PATTERN = dict(shape="/", size=7, solidity=0.25)
INTERVAL_WORDS = {"coverage": "coverage", "width": "width", "winkler": "Winkler"}


def safe_text(text: object) -> str:
    """``text`` as Plotly shows it literally: ``<``, ``>`` and ``&`` escaped, so a series named
    ``<a href="https://x">y</a>`` is drawn as those characters, not as a link."""
    return html.escape(str(text), quote=False)


def _layout(fig: go.Figure, title: str, y_title: str = "", height: int = 380,
            legend_below: bool = False) -> go.Figure:
    """Shared look; small charts put the legend below so it never covers the title. ``title`` and
    ``y_title`` are escaped here (``safe_text``): pass them as plain text."""
    legend = (dict(orientation="h", y=-0.22, yanchor="top", x=0, xanchor="left") if legend_below
              else dict(orientation="h", y=1.0, yanchor="bottom", x=0, xanchor="left"))
    short = axis_title(y_title, height)
    fig.update_layout(title=dict(text=safe_text(title), x=0.01, xanchor="left", y=0.98,
                                 yanchor="top", yref="container"), height=height,
                      margin=dict(l=10, r=10, t=50 if legend_below else 80, b=10),
                      template="plotly_white",
                      legend=legend, hovermode="x unified", yaxis_title=safe_text(short))
    if short != y_title:     # the full name where the axis shows a cut one: in the hover
        for trace in fig.data:
            if trace.name in ("actual", safe_text(y_title)) and trace.hovertemplate is None:
                trace.hovertemplate = f"{safe_text(y_title)}: %{{y:,.4~g}}<extra></extra>"
    return fig


def axis_title(text: str, height: int = 380) -> str:
    """A y-axis title short enough to stay beside the plot at this chart height (a long column
    name would run up into the chart's title): cut with "…" (the hover names it in full)."""
    text = str(text)
    limit = max(12, (height - 150) // 8)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _step(n: int) -> int:
    return max(1, int(np.ceil(n / MAX_PLOT_POINTS)))


def _every(step: int) -> str:
    """ "showing every 3rd point": the downsampling, in words."""
    suffix = "th" if 10 <= step % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(step % 10, "th")
    return f" (showing every {step}{suffix} point)"


def _shade_test(fig: go.Figure, start, end, label: str = "test") -> None:
    fig.add_vrect(x0=start, x1=end, fillcolor=TEST_FILL, line_width=0, layer="below",
                  annotation_text=label, annotation_position="top left")


def series_figure(series: Series, n_test: int | None = None) -> go.Figure:
    """The series, with the held-out test part shaded when ``n_test`` is given."""
    step = _step(len(series))
    x, y = series.index[::step], series.values[::step]
    fig = go.Figure(go.Scatter(x=x, y=y, mode="lines", name=safe_text(series.name),
                               line=dict(color=COLORS["actual"], width=1.6)))
    title = f"{series.name} — {len(series):,} points"
    if n_test:
        start = series.index[len(series) - n_test]
        _shade_test(fig, start, series.index[-1], f"test ({n_test} points)")
    if step > 1:
        title += _every(step)
    fig.update_xaxes(rangeslider_visible=len(series) > 200)
    return _layout(fig, title, series.name)


def window_figure(series: Series, window: int, horizon: int, origin: int | None = None) -> go.Figure:
    """One sliding window: which past points (inputs) map to which future point(s) (targets)."""
    n = len(series)
    origin = min(n - horizon, max(window, n // 2)) if origin is None else origin
    lo, hi = max(0, origin - window - max(3, window // 2)), min(n, origin + horizon + 3)
    idx = np.arange(lo, hi)
    fig = go.Figure(go.Scatter(x=series.index[idx], y=series.values[idx], mode="lines+markers",
                               name="series", line=dict(color="#c0c4cc"),
                               marker=dict(size=5, color="#c0c4cc")))
    inputs = np.arange(origin - window, origin)
    targets = np.arange(origin, origin + horizon)
    fig.add_trace(go.Scatter(x=series.index[inputs], y=series.values[inputs], mode="markers",
                             name=f"inputs (window = {window})",
                             marker=dict(size=9, color=COLORS["mlp"])))
    fig.add_trace(go.Scatter(x=series.index[targets], y=series.values[targets], mode="markers",
                             name=f"target{'s' if horizon > 1 else ''} (horizon = {horizon})",
                             marker=dict(size=11, color=COLORS["lstm"], symbol="star")))
    fig.add_vrect(x0=series.index[inputs[0]], x1=series.index[inputs[-1]],
                  fillcolor="rgba(31,119,180,0.08)", line_width=0, layer="below")
    return _layout(fig, "One training example: the window's inputs predict the target(s)",
                   series.name, height=320, legend_below=True)


def loss_figure(histories: dict[str, dict[str, list[float]]], title: str = "Training loss",
                config: ExperimentConfig | None = None) -> go.Figure:
    """Train (solid) and validation (dotted) loss per network, log scale, per epoch; with the
    run's ``config``, each network is named as the result names it ("GRU ×2")."""
    fig = go.Figure()
    for model, hist in histories.items():
        color = COLORS.get(model)
        label = model_label(model, config)
        epochs = np.arange(1, len(hist.get("loss", [])) + 1)
        fig.add_trace(go.Scatter(x=epochs, y=hist.get("loss", []), mode="lines",
                                 name=safe_text(f"{label} train"),
                                 line=dict(color=color)))
        if hist.get("val_loss"):
            fig.add_trace(go.Scatter(x=np.arange(1, len(hist["val_loss"]) + 1), y=hist["val_loss"],
                                     mode="lines", name=safe_text(f"{label} validation"),
                                     line=dict(color=color, dash="dot")))
    fig.update_yaxes(type="log", dtick=1, exponentformat="power")
    fig.update_xaxes(title="epoch")
    return _layout(fig, title, "MSE (scaled)", height=340, legend_below=True)


def forecast_figure(result: ExperimentResult, models: list[str] | None = None,
                    zoom_test: bool = False, bands: list[str] | None = None) -> go.Figure:
    """Actual vs every model over time; the test region shaded; hover shows all values at a time.

    ``models``: the forecasts to draw (None: all; []: the actual series alone). ``zoom_test``:
    show the test part and as many points before it (axes fitted to that stretch). ``bands``:
    the models whose prediction intervals (and an ensemble's members' spread) are drawn around
    their line (None: ``default_bands``, the best model's and seasonal naive's).
    """
    preds = result.predictions
    models = [m for m in (result.models if models is None else models) if m in preds]
    if bands is None:
        bands = default_bands(result.models, result.best_model("rmse") if result.metrics else None)
    test_rows = np.flatnonzero((preds["split"] == "test").to_numpy())
    rows = np.arange(len(preds))      # the rows drawn, for the band arrays aligned with preds
    if zoom_test:
        start = max(0, test_rows[0] - max(len(test_rows), 12))
        preds, rows = preds.iloc[start:], rows[start:]
    step = _step(len(preds))
    view, rows = preds.iloc[::step], rows[::step]
    fig = go.Figure(go.Scatter(x=view["time"], y=view["actual"], name="actual", mode="lines",
                               line=dict(color=COLORS["actual"], width=2.2)))
    spreads = False
    for model in models:
        label = safe_text(result.label(model))
        if model in bands:
            _add_intervals(fig, view["time"], result.intervals.get(model, {}), model, label, rows)
            spread = result.spread.get(model)
            if spread is not None:
                _add_band(fig, view["time"], np.asarray(spread["low"], dtype="float64")[rows],
                          np.asarray(spread["high"], dtype="float64")[rows], model, label)
                spreads = True
        fig.add_trace(go.Scatter(
            x=view["time"], y=view[model], name=label, mode="lines", legendgroup=model,
            line=dict(color=COLORS.get(model), width=1.6, dash=DASH.get(model, "solid")),
            opacity=0.85 if model in by_kind("network") else 0.7))
    test = preds[preds["split"] == "test"]
    _shade_test(fig, test["time"].iloc[0], test["time"].iloc[-1], "test (held out)")
    fig.update_xaxes(rangeslider_visible=not zoom_test)
    title = f"Forecasts vs actual — horizon {result.config.horizon}"
    if zoom_test:
        title += f" (test part and the {len(preds) - len(test)} points before it)"
    if step > 1:
        title += _every(step)
    fig = _layout(fig, title, result.series_name, height=460)
    if spreads:
        # each spread's legend entry sits under its line's (legend groups): a taller legend, so
        # more room above the plot keeps it clear of the title
        fig.update_layout(margin_t=110)
    return fig


def default_bands(models: list[str], best: str | None = None) -> list[str]:
    """The models whose bands a chart shows before the user picks: the best model's (without
    one, the first network's or else the first model's) and seasonal naive's, the reference.
    Two models at most, so the chart is not a wall of overlapping bands."""
    if best is None or best not in models:
        best = next((m for m in by_kind("network") if m in models), models[0] if models else None)
    return [m for m in dict.fromkeys([best, "seasonal_naive"]) if m in models]


def interval_alpha(level: str, levels: list[str]) -> float:
    """The fill opacity of the band at ``level`` among ``levels`` (level keys such as "80"): the
    narrowest darkest, each wider one lighter."""
    rank = sorted(levels, key=float).index(level)
    return INTERVAL_ALPHAS[min(rank, len(INTERVAL_ALPHAS) - 1)]


def band_hover(level: str) -> str:
    """A band's hover: its range, and what the level means (level key such as "80")."""
    return f"%{{customdata:.4~g}} – %{{y:.4~g}}: {level}% of past errors at this step fell inside"


def band_name(label: str, level: str) -> str:
    """The legend name of a model's band: "Holt-Winters 80% band"."""
    return f"{label} {level}% band"


def has_band(bands: dict[str, dict[str, np.ndarray]]) -> bool:
    """Whether any level of a model's bands has a finite point (False for no band at all)."""
    return any(np.isfinite(np.asarray(d["high"], dtype="float64")).any() for d in bands.values())


def _add_intervals(fig: go.Figure, x, bands: dict[str, dict[str, np.ndarray]], model: str,
                   label: str, rows: np.ndarray | slice = slice(None)) -> bool:
    """A model's conformal bands, widest first (behind), each as a pair of traces: the lower
    edge invisible, the upper edge filled down to it (``tonexty``) in the model's colour, a
    wider level lighter. ``rows``: which entries of the band arrays go with ``x``. NaN (no band
    at that point) leaves a gap. No legend entries (a legend of every model's every level is a
    wall of text; the chart's caption says what the shading is, the hover names each band),
    but in the line's legend group: hiding the line hides its bands. Returns whether anything
    was drawn."""
    colour = COLORS.get(model, "#555555")
    drawn = {lv: {k: np.asarray(d[k], dtype="float64")[rows] for k in ("low", "high")}
             for lv, d in bands.items()}
    levels = [lv for lv in drawn if has_band({lv: drawn[lv]})]
    for level in sorted(levels, key=float, reverse=True):
        low, high = drawn[level]["low"], drawn[level]["high"]
        fig.add_trace(go.Scatter(x=x, y=low, mode="lines", line=dict(width=0, color=colour),
                                 legendgroup=model, showlegend=False, hoverinfo="skip",
                                 name=f"{band_name(label, level)} lower edge"))
        fig.add_trace(go.Scatter(
            x=x, y=high, mode="lines", line=dict(width=0, color=colour), fill="tonexty",
            fillcolor=band_fill(colour, interval_alpha(level, levels)), legendgroup=model,
            showlegend=False, name=band_name(label, level), customdata=low,
            hovertemplate=band_hover(level)))
    return bool(levels)


def band_fill(colour: str, alpha: float = BAND_ALPHA) -> str:
    """A ``#rrggbb`` colour as a light ``rgba(...)`` fill."""
    r, g, b = (int(colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r}, {g}, {b}, {alpha})"


def _add_band(fig: go.Figure, x, low: np.ndarray, high: np.ndarray, model: str,
              label: str) -> None:
    """An ensemble's members' spread as a hatched band with dotted edges in its colour (never a
    plain fill like an interval's), drawn before (behind) its line and in the line's legend
    group: the lowest member's forecast as the lower edge, the highest hatched down to it. NaN
    where the ensemble made no forecast (no band there). Hover shows the spread once, on the
    upper edge."""
    colour = COLORS.get(model, "#555555")
    edge = dict(width=1, color=band_fill(colour, 0.6), dash="dot")
    fig.add_trace(go.Scatter(x=x, y=low, mode="lines", line=edge,
                             legendgroup=model, showlegend=False, hoverinfo="skip",
                             name=f"{label} lowest member"))
    fig.add_trace(go.Scatter(x=x, y=high, mode="lines", line=edge,
                             fill="tonexty", fillcolor="rgba(0, 0, 0, 0)",
                             fillpattern=dict(**SPREAD_PATTERN, fgcolor=colour),
                             legendgroup=model, name=f"{label} members' spread", customdata=low,
                             hovertemplate="%{customdata:.4g} – %{y:.4g}: lowest to highest "
                                           "member (not an interval)"))


def residual_figure(result: ExperimentResult, models: list[str] | None = None) -> go.Figure:
    """Test-part errors (actual − predicted) of the networks over time (all models if no network)."""
    test = result.predictions[result.predictions["split"] == "test"]
    default = [m for m in by_kind("network") if m in test] or result.models
    fig = go.Figure()
    for model in [m for m in (models or default) if m in test]:
        fig.add_trace(go.Scatter(x=test["time"], y=test["actual"] - test[model], mode="lines+markers",
                                 name=safe_text(result.label(model)),
                                 line=dict(color=COLORS.get(model), width=1.4),
                                 marker=dict(size=5)))
    fig.add_hline(y=0, line_color="#555", line_width=1)
    return _layout(fig, "Test residuals (actual − predicted)", result.series_name, height=340,
                   legend_below=True)


def metrics_table(result: ExperimentResult) -> pd.DataFrame:
    """One row per model: RMSE, MAE, MAPE, MASE and skill (% less RMSE) against the naive and
    seasonal-naive forecasts, then each interval level's coverage, width and Winkler score
    ("80% coverage", ``interval_columns``; NaN for a model without that band); the best
    (lowest RMSE) marked."""
    best = result.best_model("rmse")
    naive_rmse = result.metrics.get("naive", {}).get("rmse")
    seasonal_rmse = result.metrics.get("seasonal_naive", {}).get("rmse")
    scored = interval_columns(result.config.intervals)
    rows = []
    for model, m in result.metrics.items():
        rows.append({"model": result.label(model) + (" ★" if model == best else ""),
                     "RMSE": m["rmse"], "MAE": m["mae"], "MAPE %": m["mape"], "MASE": m["mase"],
                     "skill vs naive %": _skill(m["rmse"], naive_rmse),
                     "skill vs seasonal naive %": _skill(m["rmse"], seasonal_rmse),
                     **{column: m.get(name, np.nan) for column, name in scored.items()}})
    return pd.DataFrame(rows).set_index("model")


def interval_column(metric: str, level: float) -> str:
    """A table's column for an interval score: "80% coverage", "95% Winkler"."""
    return f"{level_key(level)}% {INTERVAL_WORDS[metric]}"


def interval_columns(levels: tuple[float, ...]) -> dict[str, str]:
    """Table column -> metric name for every level's interval scores, level by level:
    {"80% coverage": "coverage_80", "80% width": "width_80", ...}."""
    return {interval_column(metric, v): interval_metric_name(metric, v)
            for v in levels for metric in INTERVAL_METRICS}


def interval_column_help(levels: tuple[float, ...], suffix: str = "") -> dict[str, str]:
    """Each interval column's help text (``intervals.INTERVAL_HELP``), for the column names
    ``interval_columns`` gives plus ``suffix`` (" mean" in the backtest summary)."""
    return {interval_column(metric, v) + suffix: f"{level_key(v)}% band: {INTERVAL_HELP[metric]}"
            for v in levels for metric in INTERVAL_METRICS}


def _skill(rmse_value: float, reference: float | None) -> float:
    return (1 - rmse_value / reference) * 100 if reference else np.nan


def reference_baseline(result: ExperimentResult) -> str | None:
    """The simple baseline a run is judged against: seasonal naive when the horizon covers a
    season (a network must beat repeating last season), else whichever of naive and seasonal
    naive erred less; None when the run has neither."""
    simple = {m: result.metrics[m]["rmse"] for m in ("naive", "seasonal_naive")
              if m in result.metrics and np.isfinite(result.metrics[m].get("rmse", np.nan))}
    if not simple:
        return None
    if "seasonal_naive" in simple and result.season > 1 and result.config.horizon >= result.season:
        return "seasonal_naive"
    return min(simple, key=simple.get)


def baseline_words(result: ExperimentResult, model: str) -> str:
    """A baseline named inside a sentence: "seasonal naive", "naive"."""
    return {"naive": "naive", "seasonal_naive": "seasonal naive"}.get(model, result.label(model))


def reference_sentence(result: ExperimentResult) -> str:
    """Which baseline the summary compares against, and why (one sentence; "" without one)."""
    ref = reference_baseline(result)
    if ref is None:
        return ""
    if ref == "seasonal_naive":
        what = f"repeating the value one season ({result.season} steps) earlier"
        why = ("the horizon covers a whole season" if result.config.horizon >= result.season
               else "it erred less than repeating the last value")
    else:
        what = "repeating the last value"
        why = ("the series has no season" if result.season <= 1 or "seasonal_naive"
               not in result.metrics else "it erred less than seasonal naive")
    return (f"Against **{baseline_words(result, ref)}** ({what}), the strongest simple "
            f"baseline here: {why}.")


def skill_sentences(result: ExperimentResult) -> list[str]:
    """Plain-language comparison of every other model with the strongest simple baseline for
    the task (``reference_baseline``), networks first; a network that loses is told so."""
    ref = reference_baseline(result)
    if ref is None:
        return []
    base = result.metrics[ref]["rmse"]
    words = baseline_words(result, ref)
    out = []
    for model in [m for m in by_kind("network") + by_kind("classical") + by_kind("baseline")
                  if m != ref and m in result.metrics]:
        score = result.metrics[model]["rmse"]
        if not np.isfinite(score) or not base:
            continue
        change = (score / base - 1) * 100
        label = result.label(model)
        numbers = f"(RMSE {fmt_number(score)} vs {fmt_number(base)})"
        if change <= -2:
            out.append(f"**{label}** errs {fmt_percent(-change)} less than {words} {numbers}.")
        elif change >= 2:
            cost = (" — the network has not earned its cost here"
                    if model in by_kind("network") else "")
            out.append(f"**{label}** is {fmt_percent(change)} *worse* than {words} "
                       f"{numbers}{cost}.")
        else:
            out.append(f"**{label}** is about as good as {words} {numbers}.")
    return out


def backtest_best(backtest) -> str | None:
    """The model with the lowest mean RMSE over the folds (None when none has one)."""
    rmse = backtest.summary()["rmse mean"].dropna()
    return str(rmse.idxmin()) if len(rmse) else None


def backtest_figure(backtest, models: list[str] | None = None,
                    bands: list[str] | None = None) -> go.Figure:
    """Every fold's forecasts over the actual series; fold test blocks shaded in turn; around
    the forecasts of the models in ``bands`` (None: ``default_bands`` with the lowest mean
    RMSE), each fold's prediction intervals, calibrated on that fold's training part."""
    preds = backtest.predictions
    models = [m for m in (models or backtest.models) if m in preds]
    if bands is None:
        bands = default_bands(backtest.models, backtest_best(backtest))
    fig = go.Figure(go.Scatter(x=preds["time"], y=preds["actual"], name="actual", mode="lines",
                               line=dict(color=COLORS["actual"], width=2.2)))
    for i, fold in enumerate(backtest.folds):
        rows = np.flatnonzero((preds["fold"] == fold["fold"]).to_numpy())
        block = preds.iloc[rows]
        fig.add_vrect(x0=block["time"].iloc[0], x1=block["time"].iloc[-1], line_width=0,
                      layer="below", fillcolor=TEST_FILL if i % 2 == 0 else "rgba(0,0,0,0.04)",
                      annotation_text=f"fold {fold['fold']}", annotation_position="top left")
        for model in models:
            label = safe_text(backtest.label(model))
            if model in bands:
                _add_intervals(fig, block["time"], backtest.intervals.get(model, {}), model,
                               label, rows)
            fig.add_trace(go.Scatter(
                x=block["time"], y=block[model], mode="lines", legendgroup=model,
                name=label, showlegend=i == 0,
                line=dict(color=COLORS.get(model), dash=DASH.get(model, "solid"), width=1.6)))
    mode = "refitted on every fold" if backtest.refit else "fitted once, on fold 1"
    return _layout(fig, f"Backtest: {len(backtest.folds)} folds, models {mode}",
                   backtest.series_name, height=420)


def future_figure(future, history_points: int | None = None,
                  bands: list[str] | None = None) -> go.Figure:
    """The latest history (4x the forecast length, at least 48 points) and each model's forecast
    past the end of the data; around the forecasts of the models in ``bands`` (None:
    ``default_bands``), their prediction intervals (the first horizon only) fanning out from the
    last actual value, and an ensemble's members' spread."""
    hist = future.history.iloc[-(history_points or max(48, 4 * future.steps)):]
    fig = go.Figure(go.Scatter(x=hist["time"], y=hist["actual"], name="actual", mode="lines",
                               line=dict(color=COLORS["actual"], width=2.2)))
    last_time, last_value = hist["time"].iloc[-1], hist["actual"].iloc[-1]
    models = [c for c in future.forecasts.columns if c != "time"]
    if bands is None:
        bands = default_bands(models)
    x = [last_time, *future.forecasts["time"]]
    spreads = False
    for model in models:
        label = safe_text(future.label(model))
        if model in bands:
            start = {lv: {k: np.concatenate([[last_value], np.asarray(v, dtype="float64")])
                          for k, v in d.items()}
                     for lv, d in future.intervals.get(model, {}).items()}
            _add_intervals(fig, x, start, model, label)
            spread = future.spread.get(model)
            if spread is not None:
                _add_band(fig, future.forecasts["time"], np.asarray(spread["low"], dtype="float64"),
                          np.asarray(spread["high"], dtype="float64"), model, label)
                spreads = True
        fig.add_trace(go.Scatter(
            x=x, y=[last_value, *future.forecasts[model]],
            mode="lines+markers", name=label, legendgroup=model,
            marker=dict(size=4),
            line=dict(color=COLORS.get(model), dash=DASH.get(model, "solid"), width=1.8)))
    fig.add_vline(x=last_time, line_dash="dot", line_color="#555")
    fig.add_vrect(x0=last_time, x1=future.forecasts["time"].iloc[-1], fillcolor=TEST_FILL,
                  line_width=0, layer="below", annotation_text="forecast",
                  annotation_position="top left")
    fig = _layout(fig, f"Forecast of the next {future.steps} points (fitted on all the data)",
                  "", height=420)
    if spreads:
        fig.update_layout(margin_t=110)
    return fig
