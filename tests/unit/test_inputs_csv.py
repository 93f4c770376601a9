"""Input columns read from a CSV (issue #19): the reader reads them with the target's cleaning
options and refuses a wrong one in one sentence that names it; the config refuses malformed
input lists; the built-in series without other columns refuse inputs.

No TensorFlow here: every test reads files or builds configs.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from lstm_lab.data.csv_reader import load_csv
from lstm_lab.data.gallery import load_gallery_series, raw_bytes
from lstm_lab.errors import ConfigError, DataError
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.sources import load_series

N = 20
DATES = pd.date_range("2024-01-01", periods=N, freq="D").strftime("%Y-%m-%d")
PRICE = np.round(5 + np.sin(np.arange(N)), 3)
PROMO = (np.arange(N) % 3 == 0).astype(float)
SALES = 100.0 + 2 * np.arange(N)


def _csv(**changes) -> bytes:
    """date, sales, price, promo, const, text, sparse — ``changes`` replace whole columns."""
    frame = pd.DataFrame({"date": DATES, "sales": SALES, "price": PRICE, "promo": PROMO,
                          "const": 7.0, "text": [f"item{i}" for i in range(N)],
                          "sparse": [float(i) if i % 3 == 0 else np.nan for i in range(N)]})
    for column, values in changes.items():
        frame[column] = values
    return frame.to_csv(index=False).encode()


def _one_sentence(message: str) -> None:
    assert "\n" not in message and message.rstrip().endswith("."), message


# --- reading ------------------------------------------------------------------------------------

def test_inputs_are_read_beside_the_target_in_the_asked_order() -> None:
    load = load_csv(_csv(), column="sales", inputs=("promo", "Price"))   # case-insensitive
    series = load.series
    assert series.input_names == ("promo", "price")          # as the file spells them
    assert series.inputs.shape == (N, 2)
    np.testing.assert_array_equal(series.inputs[:, 0], PROMO)
    np.testing.assert_allclose(series.inputs[:, 1], PRICE)
    np.testing.assert_array_equal(series.values, SALES)
    assert list(series.to_frame().columns) == ["time", "sales", "promo", "price"]
    assert series.head(5).inputs.shape == (5, 2)
    assert series.target_only().inputs is None and series.target_only().input_names == ()
    # other inputs, other data: the fingerprint tells them apart
    plain = load_csv(_csv(), column="sales").series
    assert plain.inputs is None
    assert plain.fingerprint() != series.fingerprint() != \
        load_csv(_csv(), column="sales", inputs=("price",)).series.fingerprint()


# --- refusals by name ---------------------------------------------------------------------------

@pytest.mark.parametrize("inputs, fragments", [
    (("nope",), ["no column 'nope'", "price"]),
    (("sales",), ["'sales' is the value column", "Leave it out of the inputs"]),
    (("date",), ["'date' is the time column"]),
    (("price", "PRICE"), ["input column 'price' is named twice", "Name each input once"]),
    (("const",), ["input column 'const'", "same value (7)", "Leave it out of the inputs"]),
    (("text",), ["input column 'text' is not numeric", f"{N} of {N}"]),
    (("sparse",), ["input column 'sparse' is almost empty", f"only 7 of {N:,} rows"]),
])
def test_a_wrong_input_column_is_refused_by_name(inputs, fragments) -> None:
    with pytest.raises(DataError) as info:
        load_csv(_csv(), column="sales", inputs=inputs)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    _one_sentence(message.split(". ")[-1])


def test_too_many_inputs_name_the_limit_and_its_variable(monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_INPUTS", "2")
    with pytest.raises(DataError, match=r"3 input columns .* at most 2 .*LSTM_LAB_MAX_INPUTS"):
        load_csv(_csv(), column="sales", inputs=("price", "promo", "sparse"))
    assert load_csv(_csv(), column="sales", inputs=("price", "promo")).series.inputs.shape == \
        (N, 2)
    # the config obeys the same variable
    with pytest.raises(ConfigError, match="at most 2 columns.*LSTM_LAB_MAX_INPUTS"):
        ExperimentConfig(inputs=("a", "b", "c"))


# --- bad cells and repeated times follow the target's options -----------------------------------

def _price_with_holes() -> list:
    price = [f"{p:g}" for p in PRICE]
    price[4], price[9] = "", "n/a"
    return price


def test_bad_input_cells_are_interpolated_like_bad_values() -> None:
    load = load_csv(_csv(price=_price_with_holes()), column="sales", inputs=("price",),
                    bad_values="interpolate")
    got = load.series.inputs[:, 0]
    assert len(got) == N
    assert got[4] == pytest.approx((PRICE[3] + PRICE[5]) / 2)
    assert got[9] == pytest.approx((PRICE[8] + PRICE[10]) / 2)
    note = [w for w in load.warnings if "'price'" in w]
    assert len(note) == 1 and note[0].startswith("Filled 2 empty or unreadable value(s)")
    assert load.filled.sum() == 0          # the target itself was not repaired


def test_bad_input_cells_drop_their_rows_with_drop() -> None:
    load = load_csv(_csv(price=_price_with_holes()), column="sales", inputs=("price",),
                    bad_values="drop")
    series = load.series
    assert len(series) == N - 2
    np.testing.assert_array_equal(series.values, np.delete(SALES, [4, 9]))
    np.testing.assert_allclose(series.inputs[:, 0], np.delete(PRICE, [4, 9]))
    assert pd.Timestamp(DATES[4]) not in series.index


def test_bad_input_cells_are_refused_with_error() -> None:
    with pytest.raises(DataError) as info:
        load_csv(_csv(price=_price_with_holes()), column="sales", inputs=("price",),
                 bad_values="error")
    message = str(info.value)
    assert "column 'price' has 2 empty or unreadable cell(s)" in message
    assert "'n/a'" in message


def test_repeated_times_average_the_inputs_too() -> None:
    dates = list(DATES)
    dates[6] = dates[5]                     # line of 2024-01-06 twice
    load = load_csv(_csv(date=dates), column="sales", inputs=("price", "promo"),
                    duplicates="mean")
    series = load.series
    assert len(series) == N - 1
    assert series.values[5] == pytest.approx((SALES[5] + SALES[6]) / 2)
    assert series.inputs[5, 0] == pytest.approx((PRICE[5] + PRICE[6]) / 2)
    assert series.inputs[5, 1] == pytest.approx((PROMO[5] + PROMO[6]) / 2)
    np.testing.assert_allclose(series.inputs[6:, 0], PRICE[7:])


# --- the config -----------------------------------------------------------------------------------

@pytest.mark.parametrize("value, fragment", [
    ("a,a", "names a column twice"),
    (("a", "A"), "names a column twice"),
    ("a,,b", "holds an empty column name"),
    (",".join(f"c{i}" for i in range(9)), "at most 8 columns on this server "
                                          "(LSTM_LAB_MAX_INPUTS); pick fewer"),
    (3, "must be a list of column names"),
])
def test_the_config_refuses_malformed_inputs(value, fragment) -> None:
    with pytest.raises(ConfigError) as info:
        ExperimentConfig(inputs=value)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_inputs_survive_json_and_links() -> None:
    config = ExperimentConfig(inputs=("Income", "Production"), dataset="us_change")
    assert config.to_dict()["inputs"] == ["Income", "Production"]
    assert ExperimentConfig.from_json(config.to_json()) == config
    params = config.to_query_params()
    assert params["inputs"] == "Income,Production"
    again, notes = ExperimentConfig.from_query_params(params)
    assert (again, notes) == (config, [])
    assert ExperimentConfig(inputs="price, promo").inputs == ("price", "promo")
    assert ExperimentConfig(inputs="none").inputs == ()
    assert "inputs" not in ExperimentConfig().to_query_params()


def test_a_link_naming_an_input_twice_is_ignored_with_a_note() -> None:
    config, notes = ExperimentConfig.from_query_params({"inputs": "a,A", "window": "8"})
    assert config.inputs == () and config.window == 8
    assert len(notes) == 1
    assert notes[0].startswith("Ignored `inputs=a,A` from the link")
    assert "names a column twice" in notes[0]


# --- series without other columns ----------------------------------------------------------------

@pytest.mark.parametrize("dataset, words", [("air_passengers", "the airline passengers series"),
                                            ("damped_sine", "the generated sine")])
def test_series_without_other_columns_refuse_inputs(dataset, words) -> None:
    with pytest.raises(ConfigError) as info:
        load_series(ExperimentConfig(dataset=dataset, inputs=("x",)))
    message = str(info.value)
    assert f"{words} has none" in message and "(x)" in message
    assert "Clear the inputs" in message


def test_a_gallery_series_and_a_csv_path_read_their_inputs(tmp_path) -> None:
    series = load_series(ExperimentConfig(dataset="us_change", inputs=("Income", "Production")))
    assert series.name == "Consumption" and series.input_names == ("Income", "Production")
    assert series.inputs.shape == (len(series), 2)
    raw = pd.read_csv(io.BytesIO(raw_bytes("us_change")))
    np.testing.assert_allclose(series.inputs[:, 0], raw["Income"].to_numpy())
    np.testing.assert_allclose(series.values, raw["Consumption"].to_numpy())
    assert load_gallery_series("us_change").inputs is None
    path = tmp_path / "shop.csv"
    path.write_bytes(_csv())
    config = ExperimentConfig(dataset="csv", csv_path=str(path), column="sales",
                              inputs=("promo",))
    np.testing.assert_array_equal(load_series(config).inputs[:, 0], PROMO)
    # a reader passed in (the dashboard's uploaded bytes) is asked for the inputs too
    asked = []

    def reader(column, date_column, inputs):
        asked.append((column, date_column, inputs))
        return load_csv(_csv(), column=column, inputs=inputs).series

    assert load_series(config, reader).input_names == ("promo",)
    assert asked == [("sales", None, ("promo",))]
