"""Input columns in the dashboard (#19): the Data page offers a multivariate series' other
columns as inputs and says what the networks read; a refusal from the reader is shown in its
sentence; the Train page shows what each network reads per step and both networks' weights; the
With vs without inputs view is offered only with inputs, and draws both runs side by side."""

from __future__ import annotations

import re

from lstm_lab.experiments.metrics import fmt_percent
from lstm_lab.ui import data_page, views
from lstm_lab.ui.text import plain
from tests.app.conftest import make_app, open_data_page, texts, wait_for_training

# one seed, one layer, small networks: the weight counts below are worked out by hand
SMALL = {"epochs": "2", "units": "8", "mlp_units": "8", "layers": "1", "mlp_layers": "1",
         "members": "1", "patience": "0", "window": "12", "horizon": "1",
         "intervals": "none", "tuning": "off"}


def _inputs_picker(at):
    (picker,) = [m for m in at.multiselect if m.label == "Input columns"]
    return picker


def test_the_data_page_offers_us_changes_other_columns_and_picking_two_sets_the_inputs() -> None:
    at = open_data_page({"dataset": "us_change"})
    picker = _inputs_picker(at)
    assert picker.options == ["Income", "Production", "Savings", "Unemployment"]
    assert picker.value == [] and at.session_state["lab.config"].inputs == ()
    assert data_page.INPUTS_CAPTION in texts(at.caption)
    assert "never future ones" in data_page.INPUTS_CAPTION
    assert "the baselines read the target only" in data_page.INPUTS_CAPTION
    picker.set_value(["Income", "Production"]).run()
    assert not at.exception and not at.error
    assert at.session_state["lab.config"].inputs == ("Income", "Production")
    rows = at.dataframe[1].value            # the parsed rows now carry the inputs
    assert list(rows.columns[3:6]) == ["Consumption", "Income", "Production"]
    assert round(rows["Income"].iloc[0], 6) == 0.972261        # 1970 Q1 of uschange
    assert round(rows["Production"].iloc[0], 6) == -2.4527
    # a univariate series has no inputs to offer, and the config forgets them
    at.selectbox[0].set_value("nile").run()
    assert not at.exception and not at.error
    assert not [m for m in at.multiselect if m.label == "Input columns"]
    assert at.session_state["lab.config"].inputs == ()
    # another multivariate series offers its own columns: none of the old picks is kept
    at.selectbox[0].set_value("us_macro").run()
    assert not at.exception
    assert "realcons" in _inputs_picker(at).options and _inputs_picker(at).value == []


def test_the_picker_takes_at_most_the_servers_max_inputs(monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_INPUTS", "2")
    at = open_data_page({"dataset": "us_change"})
    assert _inputs_picker(at).proto.max_selections == 2
    monkeypatch.delenv("LSTM_LAB_MAX_INPUTS")
    at = open_data_page({"dataset": "us_change"})
    assert _inputs_picker(at).proto.max_selections == 8        # the default


def test_a_link_with_inputs_fills_the_picker_and_the_airline_series_clears_them() -> None:
    at = open_data_page({"dataset": "us_change", "inputs": "Savings"})
    assert _inputs_picker(at).value == ["Savings"]
    at.radio[0].set_value("air_passengers").run()
    assert not at.exception and not at.error     # no refusal: the inputs went with the series
    assert at.session_state["lab.config"].inputs == ()


def test_the_train_page_shows_what_each_network_reads_and_both_weight_counts() -> None:
    at = make_app({**SMALL, "dataset": "us_change", "inputs": "Income,Production",
                   "models": "lstm,mlp,naive"})
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    captions = texts(at.caption)
    assert ("Inputs: **Income, Production** — the LSTM reads 1 + 2 values per step; the MLP "
            "reads window × 3 = 36 values.") in captions
    # LSTM, 8 units, 3 values per step: 4 gates x (8 x (8 + 3) + 8) = 384, dense 8 + 1 = 9;
    # without inputs 4 x (8 x 9 + 8) + 9 = 329. MLP: 36 x 8 + 8 + 9 = 305; without 12 x 8 + 17
    assert ("Trainable weights: LSTM 393 (329 without inputs); MLP 305 (113 without inputs). "
            "The baselines read the target only.") in captions


def test_the_inputs_view_is_listed_only_with_inputs_and_shows_both_runs() -> None:
    at = make_app({**SMALL, "dataset": "us_change", "models": "lstm,mlp,naive"})
    at.run()
    at.switch_page("pages/train.py").run()
    assert at.segmented_control(key="train.view").options == list(views.VIEWS)
    assert not [c for c in texts(at.caption) if c.startswith("Inputs:")]

    at = make_app({**SMALL, "dataset": "us_change", "inputs": "Income",
                   "models": "lstm,mlp,naive"})
    at.run()
    at.switch_page("pages/train.py").run()
    view = at.segmented_control(key="train.view")
    assert view.options == [*views.VIEWS, "With vs without inputs"]
    view.set_value("With vs without inputs").run()
    assert not at.exception
    assert any(i.startswith("Press **Compare with and without inputs**") for i in texts(at.info))
    assert sum(c.startswith("Roughly ") for c in texts(at.caption)) == 2   # form and view
    (go,) = [b for b in at.button if b.label == "Compare with and without inputs"]
    go.click().run()
    wait_for_training(at)
    assert not at.exception and not at.error
    verdicts = [m for m in texts(at.markdown) if "test RMSE" in m]
    assert len(verdicts) == 2
    assert all(plain("with Income, ") in v and plain(" without — the inputs ") in v
               for v in verdicts)
    (frame,) = at.dataframe            # the results: the comparison's table alone
    table = frame.value
    assert table.index[-1] == "Naive (last value) (target only)"
    assert [m.endswith(("LSTM", "MLP")) for m in table.index[:2]] == [True, True]
    nets = table.iloc[:2]
    assert nets["Weights with inputs"].tolist() == ["361", "209"]   # 2 values per step
    assert nets["Weights without"].tolist() == ["329", "113"]
    expected = nets["RMSE with inputs"] / nets["RMSE without"] - 1   # signed, in percent
    assert nets["Change"].tolist() == [fmt_percent(100 * v, signed=True) for v in expected]
    assert all(re.fullmatch(r"([+−][\d.]+|0)%", c) for c in nets["Change"])
    base = table.iloc[2]
    assert base["RMSE with inputs"] == base["RMSE without"]
    assert (base["Change"], base["Weights with inputs"], base["Weights without"]) == ("—",) * 3
    assert len(at.get("plotly_chart")) == 1


def _upload(name: str, content: bytes):
    at = make_app()
    at.run()
    at.switch_page("pages/data.py").run()
    at.radio[0].set_value("csv").run()
    at.file_uploader[0].upload(name, content, "text/csv").run()
    assert not at.exception
    return at


SHOP = b"date,sales,flat,price\n" + b"".join(
    f"2020-01-{d:02d},{d * 2 + d % 3},5,{d % 7}\n".encode() for d in range(1, 29))


def test_an_uploads_constant_input_column_is_refused_in_the_readers_sentence() -> None:
    at = _upload("shop.csv", SHOP)
    assert not [m for m in at.multiselect if m.label == "Input columns"]   # no value column yet
    at.selectbox[0].set_value("sales").run()
    picker = _inputs_picker(at)
    assert picker.options == ["flat", "price"]
    picker.set_value(["flat"]).run()
    assert not at.exception
    assert texts(at.error) == [plain("shop.csv: input column 'flat' has the same value (5) on "
                                     "every row, so it tells the networks nothing. Leave it "
                                     "out of the inputs.", None)]
    _inputs_picker(at).set_value(["price"]).run()
    assert not at.exception and not at.error
    assert at.session_state["lab.config"].inputs == ("price",)
    assert list(at.dataframe[0].value.columns[3:5]) == ["sales", "price"]
    # the input chosen as the value column instead: it is no longer offered, nor kept
    at.selectbox[0].set_value("price").run()
    assert not at.exception and not at.error
    assert _inputs_picker(at).options == ["sales", "flat"]
    assert at.session_state["lab.config"].inputs == ()
