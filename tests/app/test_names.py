"""A GRU run is called GRU everywhere the Train page names it, and the page writes its numbers
and its summary for people: every card names its metric, no Python literal or raw key, the
headline compares with the strongest simple baseline and says plainly when the network loses."""

from __future__ import annotations

import json
import re

from lstm_lab.experiments import plots
from lstm_lab.experiments.metrics import fmt_number
from tests.app.conftest import make_app, texts, wait_for_training
from tests.conftest import requires_tf

# A tiny 2-layer GRU, one network (no ensemble), a plainly named transform, 12 months ahead:
# seasonal naive is the baseline that matters.
GRU = {"architecture": "gru", "layers": "2", "units": "4", "epochs": "2", "patience": "0",
       "models": "lstm,naive,seasonal_naive", "tuning": "off", "members": "1",
       "test_size": "12", "horizon": "12", "transform": "log_seasonal_diff"}
RAW = re.compile(r"\b(seasonal_naive|holt_winters|sine_period|lstm_\d|log_es|log_seasonal_diff|"
                 r"None|True|False|nan)\b|\d\.\d+e[+-]\d+")


def _page_text(at) -> list[str]:
    """Everything the main area says in words (markdown, captions, labels, cards, buttons)."""
    cards = [f"{m.label} {m.value} {m.proto.delta}" for m in at.metric]
    return [*texts(at.markdown), *texts(at.caption), *texts(at.info), *texts(at.warning),
            *cards, *[b.label for b in at.get("download_button")], *[e.label for e in at.expander]]


def _figures(at) -> dict[str, list[str]]:
    """Each chart's title -> its traces' names."""
    out = {}
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        out[spec["layout"]["title"]["text"]] = [d.get("name") for d in spec["data"]]
    return out


def test_the_form_names_the_recurrent_network_and_every_model_whole() -> None:
    at = make_app(GRU)
    at.switch_page("pages/train.py").run()
    assert not at.exception
    # the sidebar of a session's first run: "2×4 GRU"
    assert any("2×4 GRU" in t for t in texts(at.sidebar.markdown))
    labels = [s.label for s in at.slider]
    assert "Recurrent layers" in labels and not [t for t in labels if "LSTM" in t]
    # Models: pills (every name shows whole in the narrow column), named by the registry
    (models,) = [b for b in at.get("button_group") if b.label == "Models"]
    names = [o.content for o in models.proto.options]
    assert names == ["GRU ×2", "MLP", "Naive (last value)", "Seasonal naive", "Holt-Winters",
                     "SARIMA"]
    assert models.value == ["lstm", "naive", "seasonal_naive"]
    # transforms by name, a short tooltip; the detail sits in an expander
    (transform,) = [s for s in at.selectbox if s.label == "Transform"]
    assert transform.value == "log_seasonal_diff"
    assert "Seasonal difference of logs" in [transform.format_func(o) for o in transform.options]
    assert len(transform.help) < 200 and "_" not in transform.help
    (tuning,) = [r for r in at.radio if r.label == "Tuning"]
    assert len(tuning.help) < 220
    assert "About the transforms and tuning" in [e.label for e in at.expander]


def test_a_gru_run_is_named_gru_and_its_numbers_are_written_for_people() -> None:
    at = make_app(GRU)
    at.switch_page("pages/train.py").run()
    at.button(key="FormSubmitter:train_form-Train").click().run()
    wait_for_training(at)
    assert not at.exception and not at.error
    result = list(at.session_state["lab.runs"].values())[-1]
    assert result.label("lstm") == "GRU ×2"

    # metric cards: the model, "RMSE <number>", the change against seasonal naive
    cards = {m.label.replace(" ★", ""): m for m in at.metric}
    assert list(cards) == ["Naive (last value)", "Seasonal naive", "GRU ×2"]
    for key, card in zip(("naive", "seasonal_naive", "lstm"), cards.values()):
        assert card.value == f"RMSE {fmt_number(result.metrics[key]['rmse'])}"
    base = result.metrics["seasonal_naive"]["rmse"]
    gru = result.metrics["lstm"]["rmse"]
    assert cards["Seasonal naive"].proto.delta == ""          # the reference itself
    delta = cards["GRU ×2"].proto.delta
    assert delta.endswith(" vs seasonal naive") and "e+" not in delta
    assert delta.startswith("+" if gru > base else "\u2212")
    assert f"({'+' if gru > base else chr(0x2212)}" in delta and "%)" in delta

    # the summary: against seasonal naive (the horizon covers the season); a loss said plainly
    md = texts(at.markdown)
    assert ("Against **seasonal naive** (repeating the value one season (12 steps) earlier), "
            "the strongest simple baseline here: the horizon covers a whole season.") in md
    (gru_line,) = [t for t in md if t.startswith("- **GRU ×2**")]
    change = (gru / base - 1) * 100
    numbers = f"(RMSE {fmt_number(gru)} vs {fmt_number(base)})"
    if change >= 2:
        assert gru_line == (f"- **GRU ×2** is {change:.1f}% *worse* than seasonal naive "
                            f"{numbers} — the network has not earned its cost here.")
    elif change <= -2:
        assert gru_line == (f"- **GRU ×2** errs {-change:.1f}% less than seasonal naive "
                            f"{numbers}.")
    else:
        assert gru_line == f"- **GRU ×2** is about as good as seasonal naive {numbers}."
    assert not [t for t in md if "repeating the last value (RMSE" in t]

    # charts: forecast, residuals and the loss legend name the GRU
    figures = _figures(at)
    assert figures["Final loss curves"] == ["GRU ×2 train", "GRU ×2 validation"]
    assert "GRU ×2" in figures["Forecasts vs actual — horizon 12"]
    assert figures["Test residuals (actual − predicted)"] == ["GRU ×2"]
    # the metrics table, the download and its file name, the code expander
    table = at.dataframe[0].value
    assert [i.replace(" ★", "") for i in table.index] == list(cards)
    downloads = at.get("download_button")
    (keras_file,) = [b for b in downloads if b.label == "Trained GRU ×2 (.keras)"]
    assert "Show the Keras code for this GRU ×2" in [e.label for e in at.expander]
    # nothing on the page calls it an LSTM, leaks a raw key or a Python literal
    said = _page_text(at)
    assert not [t for t in said if "LSTM" in t and "Encoder" not in t]
    leaks = [t for t in said if RAW.search(t) and not t.startswith("**Transform.**")]
    assert not leaks, leaks
    # the numbers in the captions are formatted: no run of 5+ digits without separators
    assert not [t for t in texts(at.caption) if re.search(r"\d{5,}", t)]


def test_forecast_ahead_names_the_gru_on_its_download_and_file() -> None:
    at = make_app(GRU)
    at.switch_page("pages/train.py").run()
    at.segmented_control(key="train.view").set_value("Forecast ahead").run()
    (steps,) = [n for n in at.number_input if n.label == "Steps ahead"]
    steps.set_value(12).run()
    (go,) = [b for b in at.button if b.label == "Forecast"]
    go.click().run()
    wait_for_training(at)
    assert not at.exception and not at.error
    (download,) = at.get("download_button")
    assert download.label == "Forecast CSV (GRU ×2 and 2 more)"
    figure = next(iter(_figures(at).values()))
    assert "GRU ×2" in figure and "lstm" not in figure


@requires_tf
def test_the_backtest_fold_table_shows_dates_and_names() -> None:
    """Unit-level: the per-fold table's origin and test block are the series' dates."""
    from lstm_lab.experiments.config import ExperimentConfig
    from lstm_lab.experiments.evaluation import run_backtest
    from lstm_lab.ui.views import fold_table
    from tests.conftest import make_tiny_series

    config = ExperimentConfig(window=4, horizon=1, test_size=4, models=("naive", "seasonal_naive"))
    backtest = run_backtest(config, make_tiny_series(), folds=2)
    table = fold_table(backtest)
    assert list(table.columns) == ["fold", "origin", "test from", "test to", "Naive (last value)",
                                   "Seasonal naive"]
    assert table.iloc[0, :4].tolist() == ["fold 1", "2002-08-01", "2002-09-01", "2002-12-01"]
    assert table.iloc[1, :4].tolist() == ["fold 2", "2002-12-01", "2003-01-01", "2003-04-01"]
    assert plots.axis_title("x" * 100, 340) == "x" * 22 + "…"


def test_the_sidebar_lists_only_settings_that_act_on_the_run() -> None:
    """No network in the run: no layers, units, epochs or seed in the summary; a set season is."""
    at = make_app({"models": "naive,seasonal_naive", "season": "6"})
    at.switch_page("pages/train.py").run()
    assert not at.exception
    summary = " ".join(texts(at.sidebar.markdown))
    assert "window 12 · horizon 1 · season 6 · 80/95% bands" in summary
    assert "LSTM" not in summary and "epochs" not in summary and "seed" not in summary
    mlp = make_app({"models": "mlp,naive", "mlp_units": "16"})
    mlp.switch_page("pages/train.py").run()
    assert "MLP 1×16 · 200 epochs · seed 0" in " ".join(texts(mlp.sidebar.markdown))
