"""The Train page sets an ensemble and the ES hybrid, and its results show them."""

from __future__ import annotations

from lstm_lab.experiments.config import field_range
from lstm_lab.experiments.metrics import fmt_number
from tests.app.conftest import QUICK, make_app, texts, train_page, wait_for_training
from tests.conftest import requires_tf


def test_the_form_sets_ensemble_size_combination_and_the_es_hybrid() -> None:
    at = train_page()
    size = next(n for n in at.number_input if n.label == "Ensemble size")
    assert (size.min, size.max, size.value) == (*field_range("members"), 3)
    combine = next(r for r in at.radio if r.label == "Combine members by")
    assert list(combine.options) == ["median", "mean"] and combine.value == "mean"
    transform = next(s for s in at.selectbox if s.label == "Transform")
    # offered by name; the short tooltip leaves each one's detail to the About expander
    assert {"ES hybrid", "ES hybrid of logs"} <= set(transform.options)
    assert any("- **ES hybrid**: the ES hybrid" in t and "- **ES hybrid of logs**:" in t
               for t in texts(at.markdown))
    assert any(s.label == "Recurrent layers" for s in at.slider)
    weight = next(s for s in at.slider if s.label.startswith("ES weight"))
    assert (weight.min, weight.max, weight.value) == (*field_range("es_weight"), 0.5)
    size.set_value(5)
    combine.set_value("median")
    transform.set_value("log_es")
    weight.set_value(0.0)
    at.button(key="FormSubmitter:train_form-Train").click().run()
    cfg = at.session_state["lab.config"]
    assert (cfg.members, cfg.combine, cfg.transform, cfg.es_weight) == \
        (5, "median", "log_es", 0.0)


def test_a_link_sets_the_es_weight() -> None:
    at = train_page({"es_weight": "0.2"})
    weight = next(s for s in at.slider if s.label.startswith("ES weight"))
    assert weight.value == 0.2
    assert at.session_state["lab.config"].es_weight == 0.2
    summaries = []
    for params in ({"es_weight": "0.2"}, {}, {"es_weight": "0.2", "transform": "log_diff"}):
        app = make_app(params)
        app.switch_page("pages/train.py").run()
        summaries.append(" ".join(texts(app.sidebar.markdown)))
    assert "seed 0 · ES weight 0.2 · 80/95% bands" in summaries[0]
    assert "ES weight" not in summaries[1] and "ES weight" not in summaries[2]


@requires_tf
def test_an_ensemble_run_shows_its_band_note_and_validation_lines() -> None:
    at = train_page({**QUICK, "members": "2", "models": "lstm,naive",
                      "validation_fraction": "0.2"})
    at.button(key="FormSubmitter:train_form-Train").click().run()
    at = wait_for_training(at)
    assert not at.exception and not at.error
    result = list(at.session_state["lab.runs"].values())[-1]
    assert "lstm" in result.spread and result.validation.get("lstm")
    # auto picks the ES hybrid for a seasonal series' direct forecast (one step too), so the
    # network is named as the run names it: "ES-LSTM (2 seeds)"
    name = result.label("lstm")
    assert name.endswith("LSTM (2 seeds)")
    bands = next(m for m in at.multiselect if m.label == "Bands for")
    bands.set_value(["lstm"]).run()
    captions = texts(at.caption)
    assert any(c.startswith("Hatched: from the lowest to the highest of the members' "
                            f"forecasts ({name}); the line is their mean.")
               and c.endswith("It is not a prediction interval.") for c in captions)
    bands.set_value(["naive"]).run()
    assert not any(c.startswith("Hatched:") for c in texts(at.caption))
    check = result.validation["lstm"]
    line = (f"{name} validation: RMSE {fmt_number(check['rmse'])} vs seasonal naive "
            f"{fmt_number(check['seasonal_naive_rmse'])} over {check['origins']} origins")
    assert line in captions


def test_the_sidebar_summary_names_the_ensemble_size() -> None:
    at = make_app()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert "1×32 LSTM · 3 seeds · 200 epochs" in " ".join(texts(at.sidebar.markdown))
    single = make_app({"members": "1"})
    single.switch_page("pages/train.py").run()
    summary = " ".join(texts(single.sidebar.markdown))
    assert "1×32 LSTM · 200 epochs" in summary and "seeds" not in summary
