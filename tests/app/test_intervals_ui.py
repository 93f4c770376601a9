"""Prediction intervals on the Train page: the form's levels, the chart's bands and their
toggle, the explanation, the scores in the metrics and backtest tables (issue #16)."""

from __future__ import annotations

import math

import numpy as np

from lstm_lab.experiments import plots
from lstm_lab.experiments.intervals import INTERVAL_HELP
from tests.app.conftest import make_app, texts, train_page, wait_for_training

# baselines only: a run takes well under a second; airline, one season ahead
FAST = {"models": "naive,seasonal_naive,holt_winters", "horizon": "12", "test_size": "12"}
EXPLANATION = ("Shaded: where each model's forecast errors from the end of the training part say "
               "the value will be, 80% and 95% of the time")


def _trained(params: dict[str, str]):
    at = train_page(params)
    at.button(key="FormSubmitter:train_form-Train").click().run()
    at = wait_for_training(at)
    assert not at.exception and not at.error
    return at, list(at.session_state["lab.runs"].values())[-1]


def _levels(at):
    return next(m for m in at.multiselect if m.label == "Prediction intervals")


def _chart(at, key: str = "forecast_chart") -> dict:
    """The figure a plotly_chart element sends to the browser, its typed arrays (``bdata``)
    decoded to numpy arrays."""
    import base64
    import json

    def decode(value):
        if isinstance(value, dict) and "bdata" in value:
            return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        if isinstance(value, dict):
            return {k: decode(v) for k, v in value.items()}
        if isinstance(value, list):
            return [decode(v) for v in value]
        return value

    (chart,) = [c for c in at.get("plotly_chart") if c.proto.id and key in c.proto.id]
    return decode(json.loads(chart.proto.spec))


def test_the_form_offers_levels_and_submits_them() -> None:
    at = train_page({"models": "naive"})
    levels = _levels(at)
    assert levels.value == [0.8, 0.95]
    assert levels.options == ["80%", "90%", "95%", "99%"]
    assert "calibrated on its own forecast errors" in levels.help
    levels.set_value([0.95, 0.9])
    at.button(key="FormSubmitter:train_form-Train").click().run()
    assert at.session_state["lab.config"].intervals == (0.9, 0.95)
    # what sync_to_url writes to the address bar and Copy link shares
    assert at.session_state["lab.config"].to_query_params()["intervals"] == "0.9,0.95"


def test_the_link_carries_the_levels_and_none() -> None:
    at = train_page({"intervals": "0.85"})
    assert _levels(at).value == [0.85]                  # a level between the usual ones is kept
    assert "85%" in _levels(at).options
    at = train_page({"intervals": "none"})
    assert _levels(at).value == [] and at.session_state["lab.config"].intervals == ()
    bad = make_app({"intervals": "1.5"})
    bad.run()
    assert bad.session_state["lab.config"].intervals == (0.8, 0.95)   # ignored, with a note
    assert texts(bad.warning) == ["Ignored `intervals=1.5` from the link: Each interval level "
                                  "must be between 0.5 and 0.99: the share of future values the "
                                  "band should hold."]


def test_the_chart_shades_the_best_model_and_seasonal_naive_and_the_toggle_hides_them() -> None:
    at, result = _trained(FAST)
    best = result.best_model("rmse")
    bands = next(m for m in at.multiselect if m.label == "Bands for")
    assert bands.value == list(dict.fromkeys([best, "seasonal_naive"]))
    fig = _chart(at)
    filled = {t["name"]: t for t in fig["data"] if t.get("fill") == "tonexty"}
    label = result.label("seasonal_naive")
    assert {f"{label} 80% band", f"{label} 95% band"} <= set(filled)
    assert all(result.label(best) in n or label in n for n in filled)
    high = filled[f"{label} 80% band"]["y"]
    expected = result.intervals["seasonal_naive"]["80"]["high"][-12:]
    np.testing.assert_allclose(np.asarray(high[-12:], dtype=float), expected)
    assert "80% of past errors at this step fell inside" in filled[f"{label} 80% band"][
        "hovertemplate"]
    assert any(c.startswith(EXPLANATION) for c in texts(at.caption))
    bands.set_value([]).run()
    assert not [t for t in _chart(at)["data"] if t.get("fill") == "tonexty"]
    assert not any(c.startswith(EXPLANATION) for c in texts(at.caption))
    bands.set_value(["naive"]).run()
    names = [t["name"] for t in _chart(at)["data"] if t.get("fill") == "tonexty"]
    assert names == ["Naive (last value) 95% band", "Naive (last value) 80% band"]


def test_the_metrics_table_scores_each_level_with_help() -> None:
    at, result = _trained(FAST)
    table = at.dataframe[0].value
    scores = ["80% coverage", "80% width", "80% Winkler", "95% coverage", "95% width",
              "95% Winkler"]
    assert list(table.columns)[-6:] == scores
    row = table.loc[[i for i in table.index if i.startswith("Holt-Winters")][0]]
    metrics = result.metrics["holt_winters"]
    assert row["80% coverage"] == metrics["coverage_80"]
    assert 0 <= row["95% coverage"] <= 100 and row["95% width"] > row["80% width"] > 0
    assert math.isclose(row["95% Winkler"], metrics["winkler_95"])
    config = at.dataframe[0].proto.columns
    assert INTERVAL_HELP["winkler"] in config and "80% band:" in config
    assert any(c.startswith("Prediction intervals (80% and 95%): **coverage**")
               for c in texts(at.caption))


def test_metrics_tables_show_three_significant_digits_and_coverage_with_one() -> None:
    import pandas as pd

    from lstm_lab.ui.widgets import styled

    table = pd.DataFrame({"RMSE": [12.34567, 1793.4], "80% coverage": [83.33333, 50.0],
                          "95% width": [float("nan"), 1.8e3], "model": ["Holt-Winters", "x"]})
    html = styled(table).to_html()
    assert ">12.3<" in html and ">83.3<" in html and ">—<" in html and ">Holt-Winters<" in html
    assert ">1,793<" in html and ">1,800<" in html and "e+" not in html     # never 1.8e+03


def test_without_intervals_the_page_has_no_bands_nor_scores() -> None:
    at, result = _trained({**FAST, "intervals": "none"})
    assert result.intervals == {}
    assert list(at.dataframe[0].value.columns)[-1] == "skill vs seasonal naive %"
    assert not [m for m in at.multiselect if m.label == "Bands for"]
    assert not [t for t in _chart(at)["data"] if t.get("fill") == "tonexty"]


def test_a_model_without_a_band_gets_its_calibration_note_under_the_chart() -> None:
    # 48 monthly points, 12 to test: seasonal naive's 36 training points leave too few
    # calibration errors for a 99% band at 12 steps ahead
    at, result = _trained({**FAST, "dataset": "damped_sine", "sine_length": "48",
                           "intervals": "0.99", "models": "naive,seasonal_naive"})
    label = result.label("naive")
    notes = [n for n in result.notes if n.startswith(f"{label}: no ")]
    assert notes, result.notes
    assert not plots.has_band(result.intervals.get("naive", {}))
    bands = next(m for m in at.multiselect if m.label == "Bands for")
    bands.set_value(["naive"]).run()
    shown = [c.replace("\\", "") for c in texts(at.caption)]
    assert notes[0] in shown


def test_the_backtest_draws_each_folds_bands_and_scores_them_per_fold() -> None:
    at = train_page(FAST)
    at.segmented_control(key="train.view").set_value("Backtest").run()
    (run,) = [b for b in at.button if b.label == "Run backtest"]
    run.click().run()
    at = wait_for_training(at)
    assert not at.exception and not at.error
    backtest = list(at.session_state["lab.runs"].values())[-1]
    summary, per_fold, intervals = (d.value for d in at.dataframe[:3])
    assert "80% coverage mean" in summary.columns and "95% Winkler mean" in summary.columns
    assert list(intervals.columns[:3]) == ["fold", "model", "80% coverage"]
    assert len(intervals) == 3 * 3                          # 3 folds x 3 models
    first = intervals[(intervals["fold"] == "fold 1") & (intervals["model"] == "Seasonal naive")]
    assert first["80% width"].item() == backtest.folds[0]["metrics"]["seasonal_naive"]["width_80"]
    fig = _chart(at, "backtest_chart")
    filled = [t for t in fig["data"] if t.get("fill") == "tonexty"]
    # 2 models shaded (the best and seasonal naive) x 2 levels x 3 folds
    assert len(filled) == 12
    assert {t["name"] for t in filled} == {f"{backtest.label(m)} {lv}% band" for lv in ("80", "95")
                                           for m in plots.default_bands(
                                               backtest.models, plots.backtest_best(backtest))}
    assert any(c.startswith(EXPLANATION) for c in texts(at.caption))


def test_forecast_ahead_fans_the_bands_out_from_the_last_value() -> None:
    at = train_page(FAST)
    at.segmented_control(key="train.view").set_value("Forecast ahead").run()
    (steps,) = [n for n in at.number_input if n.label == "Steps ahead"]
    steps.set_value(18).run()
    (go,) = [b for b in at.button if b.label == "Forecast"]
    go.click().run()
    at = wait_for_training(at)
    assert not at.exception and not at.error
    future = list(at.session_state["lab.runs"].values())[-1]
    bands = next(m for m in at.multiselect if m.label == "Bands for")
    bands.set_value(["holt_winters"]).run()
    fig = _chart(at, "future_chart")
    (high,) = [t for t in fig["data"] if t["name"] == "Holt-Winters 95% band"]
    y = np.asarray(high["y"], dtype=float)
    assert y[0] == future.history["actual"].iloc[-1]       # starts at the last actual value
    np.testing.assert_allclose(y[1:13], future.intervals["holt_winters"]["95"]["high"][:12])
    assert np.isnan(y[13:]).all()                          # no band past one horizon
    assert any(c.startswith(EXPLANATION) for c in texts(at.caption))


def test_the_sidebar_summary_names_the_interval_levels() -> None:
    at = make_app()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert "seed 0 · 80/95% bands" in " ".join(texts(at.sidebar.markdown))
    plain = make_app({"intervals": "none"})
    plain.switch_page("pages/train.py").run()
    assert "seed 0 · no bands" in " ".join(texts(plain.sidebar.markdown))
