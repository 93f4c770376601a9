"""The Train page's Backtest and Forecast-ahead views run through the queue and render."""

from __future__ import annotations

from tests.app.conftest import QUICK, make_app, texts, wait_for_training


def _view(view: str, params: dict[str, str]):
    at = make_app(params)
    at.run()
    at.switch_page("pages/train.py").run()
    at.segmented_control(key="train.view").set_value(view).run()
    assert not at.exception
    return at


def test_backtest_view_runs_every_fold_and_summarises() -> None:
    at = _view("Backtest", {**QUICK, "test_size": "12", "horizon": "12",
                            "models": "lstm,seasonal_naive"})
    assert any("Press **Run backtest**" in i for i in texts(at.info))
    (run,) = [b for b in at.button if b.label == "Run backtest"]
    run.click().run()
    wait_for_training(at)
    assert not at.exception and not at.error
    summary, per_fold = at.dataframe[0].value, at.dataframe[1].value
    assert list(summary.index) == ["Seasonal naive", "LSTM"]
    assert len(per_fold) == 3 and per_fold.index[0].startswith("fold 1 (1958-01-01")
    # seasonal naive's fold RMSEs are textbook values (12-step, Dec 1957/58/59 seasons)
    assert [round(v, 3) for v in per_fold["Seasonal naive"]] == [17.012, 49.254, 50.708]
    # a 12-step forecast of monthly data is tuned: each fold says which variant it kept
    kept = at.table[0].value
    assert list(kept.index) == ["fold 1", "fold 2", "fold 3"] and list(kept.columns) == ["LSTM"]
    assert all(v.startswith(("as set: ", "seasonal difference", "first difference"))
               for v in kept["LSTM"])


def test_forecast_ahead_view_forecasts_past_the_end() -> None:
    at = _view("Forecast ahead", {**QUICK, "models": "mlp,naive", "horizon": "6"})
    (steps,) = [n for n in at.number_input if n.label == "Steps ahead"]
    steps.set_value(18).run()
    (go,) = [b for b in at.button if b.label == "Forecast"]
    go.click().run()
    wait_for_training(at)
    assert not at.exception and not at.error
    assert [b.label for b in at.get("download_button")] == ["Forecast CSV"]
    assert any("no truth to score" in c for c in texts(at.caption))
