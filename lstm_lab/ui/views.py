"""The Train page's views of one config: compare, backtest, forecast ahead, and with input
columns, the same run with and without them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lstm_lab.data.series import Series
from lstm_lab.errors import LabError
from lstm_lab.execution.tasks import TaskSpec
from lstm_lab.experiments import evaluation, export, plots, training
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.inputs_effect import InputsComparison
from lstm_lab.experiments.metrics import fmt_number, fmt_percent
from lstm_lab.experiments.split import season_of
from lstm_lab.models.registry import model_label
from lstm_lab.ui import live, state, widgets
from lstm_lab.ui.text import plain

VIEWS = ("Compare", "Backtest", "Forecast ahead")
INPUTS_VIEW = "With vs without inputs"   # offered only when the config reads input columns
INPUTS_KIND = "inputs_effect"            # its jobs' kind (run key, estimate)


def available(cfg: ExperimentConfig) -> tuple[str, ...]:
    """The views this config offers: the three, and with input columns the comparison with
    and without them."""
    return (*VIEWS, INPUTS_VIEW) if cfg.inputs else VIEWS


def render(view: str, cfg: ExperimentConfig, series: Series, running: bool) -> None:
    {"Compare": _compare, "Backtest": _backtest, "Forecast ahead": _future,
     INPUTS_VIEW: _inputs_effect}[view](cfg, series, running)


def inputs_lines(cfg: ExperimentConfig, series: Series) -> list[str]:
    """With input columns, what the networks read per step and their weight counts with and
    without the inputs (the Learn page's parallel-series lesson, on this run); else nothing."""
    if not cfg.inputs:
        return []
    k = len(cfg.inputs)
    names = plain(", ".join(cfg.inputs), None)
    nets = [m for m in ("lstm", "mlp") if m in cfg.models]
    if not nets:
        return [f"Inputs: **{names}** — only the networks read inputs, and none is among the "
                "models: add the LSTM or the MLP, or the inputs change nothing."]
    reads = []
    if "lstm" in nets:
        reads.append(f"the {model_label('lstm', cfg)} reads 1 + {k} values per step")
    if "mlp" in nets:
        reads.append(f"the MLP reads window × {1 + k} = {cfg.window * (1 + k):,} values")
    try:
        season = max(1, season_of(cfg, series))
        with_inputs = training.count_weights(cfg, season)
        without = training.count_weights(cfg.replace(inputs=()), season)
    except LabError:   # settings the form refuses on Train: no counts yet
        return [f"Inputs: **{names}** — {'; '.join(reads)}."]
    weights = "; ".join(f"{model_label(m, cfg)} {with_inputs[m]:,} ({without[m]:,} without "
                        "inputs)" for m in nets if m in with_inputs and m in without)
    return [f"Inputs: **{names}** — {'; '.join(reads)}.",
            f"Trainable weights: {weights}. The baselines read the target only."]


def _show_stored(key: str, running: bool, draw, hint: str) -> None:
    result = state.get_run(key)
    if result is not None:
        draw(result)
    elif state.failure(key):   # may quote a series name or a file's header cells: as typed
        st.error(plain(state.failure(key), None), icon=":material/error:")
    elif not running:
        st.info(hint, icon=":material/info:")


def _compare(cfg: ExperimentConfig, series: Series, running: bool) -> None:
    _show_stored(state.run_key(cfg, series.fingerprint()), running, widgets.render_results,
                 "Set the controls and press **Train**. The networks train on this server; a "
                 "progress bar and a live loss chart appear here.")


def _backtest(cfg: ExperimentConfig, series: Series, running: bool) -> None:
    st.markdown("One split can flatter a model by luck. A **rolling-origin backtest** moves the "
                "test block back in time: each fold trains on everything before its block and "
                f"forecasts its {cfg.test_count(len(series))} points; no fold sees its own future.")
    c1, c2, c3 = st.columns([1, 1, 1])
    folds = c1.number_input("Folds", 2, 10, 3, help="How many test blocks, newest last.")
    refit = c2.toggle("Refit every fold", True,
                      help="Off: fit once on fold 1's training part and only feed new data "
                           "after that (faster, shows how a model ages).")
    kind = f"backtest:{folds}:{int(refit)}"
    if c3.button("Run backtest", icon=":material/replay:", disabled=running):
        live.start_training(cfg, series, kind, label="Backtest",
                            task=TaskSpec("backtest", {"folds": int(folds), "refit": refit}))
        st.rerun()
    live.estimate_caption(c3, cfg, series, kind)
    _show_stored(state.run_key(cfg, series.fingerprint(), kind), running, _draw_backtest,
                 "Press **Run backtest**: the settings on the left are used for every fold.")


def _draw_backtest(backtest: evaluation.BacktestResult) -> None:
    if backtest.stopped_by_user:
        st.warning("Stopped early: only the folds finished so far are shown.")
    name = backtest.label                     # as the runs named it: "GRU ×2", never "LSTM"
    levels = backtest.config.intervals
    bands: list[str] = []
    if backtest.intervals:
        bands = widgets.bands_picker(backtest.models, plots.default_bands(
            backtest.models, plots.backtest_best(backtest)), name,
            key=f"backtest_bands.{len(backtest.folds)}.{','.join(backtest.models)}")
    st.plotly_chart(plots.backtest_figure(backtest, bands=bands), key="backtest_chart")
    if any(plots.has_band(backtest.intervals.get(m, {})) for m in bands):
        st.caption(widgets.band_caption(levels) + " Each fold's bands come from its own "
                   "training part.")
    summary = backtest.summary()
    scored = {f"{column} mean": f"{metric} mean"
              for column, metric in plots.interval_columns(levels).items()
              if f"{metric} mean" in summary.columns}
    table = summary[["rmse mean", "rmse std", "mae mean", "mase mean", "mase std",
                     *scored.values()]].rename(columns={**SUMMARY_COLUMNS,
                                                        **{v: k for k, v in scored.items()}})
    table.index = [name(m) for m in table.index]
    st.markdown("**Over all folds** (mean ± standard deviation; MASE below 1 beats seasonal "
                "naive's in-sample error)")
    st.dataframe(widgets.styled(table).highlight_min(subset=["RMSE mean", "MASE mean"],
                                                     color="#d1fadf"), width="stretch",
                 column_config=widgets.column_help(plots.interval_column_help(levels, " mean")))
    st.markdown("**RMSE per fold** (each fold trains on the data up to its origin and forecasts "
                "its test block)")
    st.dataframe(widgets.styled(fold_table(backtest)), width="stretch", hide_index=True)
    if scored:
        st.markdown("**Prediction intervals per fold** (coverage should be near its level)")
        st.dataframe(widgets.styled(interval_folds(backtest)), hide_index=True, width="stretch",
                     column_config=widgets.column_help(plots.interval_column_help(levels)))
    kept = {f"fold {f['fold']}": {name(m): v for m, v in f["tuning"].items()}
            for f in backtest.folds if f.get("tuning")}
    if kept:
        st.markdown("**What tuning kept in each fold** (each fold chooses on its own training "
                    "part's validation windows)")
        st.table(_frame(kept))


SUMMARY_COLUMNS = {"rmse mean": "RMSE mean", "rmse std": "RMSE std", "mae mean": "MAE mean",
                   "mase mean": "MASE mean", "mase std": "MASE std"}


def fold_table(backtest: evaluation.BacktestResult) -> pd.DataFrame:
    """One row per fold: its origin (the last point it trained on) and test block as dates when
    the series has them, then each model's RMSE, named as the run named it ("GRU ×2")."""
    rows = [{"fold": f"fold {f['fold']}", "origin": f.get("origin", "—"),
             "test from": f["start"], "test to": f["end"],
             **{backtest.label(m): v["rmse"] for m, v in f["metrics"].items()}}
            for f in backtest.folds]
    return pd.DataFrame(rows)


def interval_folds(backtest: evaluation.BacktestResult) -> pd.DataFrame:
    """One row per fold and model: each level's coverage, width and Winkler score."""
    columns = plots.interval_columns(backtest.config.intervals)
    rows = [{"fold": f"fold {f['fold']}", "model": backtest.label(m),
             **{c: v.get(metric, float("nan")) for c, metric in columns.items()}}
            for f in backtest.folds for m, v in f["metrics"].items()]
    return pd.DataFrame(rows)


def _future(cfg: ExperimentConfig, series: Series, running: bool) -> None:
    st.markdown("Fit every model on **all** the data and forecast past its last point. Beyond "
                "one horizon the forecasts are chained: each block is fed back as history.")
    c1, c2 = st.columns([1, 2])
    default = max(cfg.horizon, series.season if series.season > 1 else 12)
    steps = c1.number_input("Steps ahead", 1, 10 * max(cfg.horizon, 12), min(default, 120),
                            help="How many points past the end of the data to forecast.")
    kind = f"future:{steps}"
    if c2.button("Forecast", icon=":material/trending_up:", disabled=running):
        live.start_training(cfg, series, kind, label="Fitting on all the data",
                            task=TaskSpec("future", {"steps": int(steps)}))
        st.rerun()
    live.estimate_caption(c2, cfg, series, kind)
    compared = state.get_run(state.run_key(cfg, series.fingerprint()))
    best = compared.best_model("rmse") if compared is not None and compared.metrics else None
    _show_stored(state.run_key(cfg, series.fingerprint(), kind), running,
                 lambda future: _draw_future(future, best),
                 "Press **Forecast** to fit on all the data and look ahead.")


def _draw_future(future: evaluation.FutureForecast, best: str | None = None) -> None:
    """The forecast ahead; ``best``: the model the same settings' Compare run found best (its
    bands are shown first), if that run is in this session."""
    for note in future.notes:    # limits that applied, models stopped or left out
        st.warning(note, icon=":material/speed:")
    models = [c for c in future.forecasts.columns if c != "time"]
    bands: list[str] = []
    if future.intervals or future.spread:
        bands = widgets.bands_picker(models, plots.default_bands(models, best), future.label,
                                     key=f"future_bands.{','.join(models)}")
    st.plotly_chart(plots.future_figure(future, bands=bands), key="future_chart")
    widgets.chart_captions(bands, future.intervals, future.spread, future.config, future.label,
                           future.notes)
    st.caption("There is no truth to score these against yet: the backtest tells how far to "
               "trust them.")
    for model, info in future.tuning.items():
        score = info["scores"].get(info["chosen"], float("nan"))
        st.caption(f"Tuning: {future.label(model)} kept **{info['chosen']}** "
                   f"(validation RMSE {fmt_number(score)}).")
    network = f"_{future.config.architecture}" if "lstm" in models else ""
    others = len(models) - 1
    named = (f" ({future.label('lstm')}" + (f" and {others} more" if others else "") + ")"
             if "lstm" in models else "")
    st.download_button(f"Forecast CSV{named}", export.forecast_csv(future),
                       f"lstm_lab_forecast{network}.csv", "text/csv",
                       icon=":material/download:")


def _inputs_effect(cfg: ExperimentConfig, series: Series, running: bool) -> None:
    names = plain(", ".join(cfg.inputs), None)
    st.markdown(f"Did **{names}** help? The same settings train twice: with the inputs and "
                "without them (the networks only: the baselines read the target either way). "
                "Same split, same seeds, so the difference is what the inputs brought.")
    c1, c2 = st.columns([1, 1])
    if not cfg.neural_models:
        st.info("Only the networks read input columns: add the LSTM or the MLP to the models "
                "on the left to compare.", icon=":material/info:")
    if c1.button("Compare with and without inputs", icon=":material/compare_arrows:",
                 disabled=running or not cfg.neural_models):
        live.start_training(cfg, series, kind=INPUTS_KIND, label=INPUTS_VIEW,
                            task=TaskSpec(INPUTS_KIND))
        st.rerun()
    live.estimate_caption(c2, cfg, series, INPUTS_KIND)
    _show_stored(state.run_key(cfg, series.fingerprint(), INPUTS_KIND), running,
                 _draw_inputs_effect,
                 "Press **Compare with and without inputs**: the settings on the left are used "
                 "for both runs.")


def _draw_inputs_effect(comparison: InputsComparison) -> None:
    if comparison.stopped_by_user:
        st.warning("Stopped early: these are the weights learned so far.")
    for verdict in comparison.verdicts():     # names the inputs: header cells, as typed
        st.markdown(plain(verdict, None))
    table = comparison.table().set_index("Model")
    # as text: a grid shows a missing number as "None", and a baseline has no change or weights
    table["Change"] = table["Change"].map(_change_cell)
    for column in ("Weights with inputs", "Weights without"):
        table[column] = table[column].map(lambda n: "—" if pd.isna(n) else f"{int(n):,}")
    st.dataframe(widgets.styled(table), width="stretch",
                 column_config={name: st.column_config.Column(label, help=help_text,
                                                              alignment="right")
                                for name, (label, help_text) in INPUTS_TABLE_COLUMNS.items()})
    st.plotly_chart(comparison.figure(), key="inputs_effect_chart")
    st.caption("Solid: each network with the inputs; dotted: the same network without them. "
               "The baselines read the target only, so they score the same in both runs: the "
               "bar both versions must clear.")


def _change_cell(value: float) -> str:
    """A relative change as in the metrics table: "−25.0%", "+3.1%"."""
    return fmt_percent(100 * value, signed=True)


# the table's columns: a short label (the column stays narrow) and its help
INPUTS_TABLE_COLUMNS = {
    "RMSE with inputs": ("RMSE with", "Test RMSE of the run reading the input columns."),
    "RMSE without": ("RMSE without", "Test RMSE of the same network reading the target alone "
                                     "(same split, same seeds)."),
    "Change": ("Change", "Test RMSE with the inputs relative to without them: negative means "
                         "the inputs helped."),
    "MASE with inputs": ("MASE with", "Test MASE with the inputs (below 1 beats seasonal "
                                      "naive's in-sample error)."),
    "MASE without": ("MASE without", "Test MASE of the same network without the inputs."),
    "Weights with inputs": ("Weights with", "Trainable weights of the network reading the target "
                                            "and the inputs."),
    "Weights without": ("Weights without", "Trainable weights of the same network reading the "
                                           "target alone.")}


def _frame(rows: dict) -> pd.DataFrame:
    return pd.DataFrame(rows).T
