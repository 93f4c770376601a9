"""The History page: list, filter, compare, reopen, share, delete, and the owner key.

Most tests run ``pages/history.py`` on its own against a fresh database (``LSTM_LAB_DB``) filled
with naive-model runs; the last ones go through app.py's navigation and the Train page, and are
skipped until app.py lists the page and the Train page saves its runs (the wiring).
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.training import run_experiment
from lstm_lab.store import RunNotFoundError, get_store
from tests.app.conftest import make_app, texts, wait_for_training
from tests.conftest import FAST, make_tiny_series, requires_tf

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "history.py")
ME, OTHER = "1" * 32, "2" * 32
NAIVE = ("naive", "seasonal_naive")


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("LSTM_LAB_DB", str(tmp_path / "runs.sqlite3"))
    return get_store()


def _naive(seed: int = 0, **changes):
    settings = {"window": 4, "test_size": 6, "models": NAIVE, "seed": seed, **FAST, **changes}
    cfg = ExperimentConfig(**settings)
    return run_experiment(cfg, make_tiny_series())


@pytest.fixture
def runs(store) -> dict[str, int]:
    return {"mine0": store.save_run(_naive(0), ME),
            "mine1": store.save_run(_naive(1, window=6), ME),
            "shared": store.save_run(_naive(2), OTHER, shared=True),
            "private": store.save_run(_naive(3), OTHER)}


def page(owner: str = ME) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["lab.url_read"] = True   # as after app.py's first run
    at.session_state["lab.owner"] = owner
    return at.run()


def table(at: AppTest):
    return at.dataframe[0].value            # the runs table comes first


def test_an_empty_history_says_how_to_fill_it(store) -> None:
    at = page()
    assert not at.exception
    assert "No saved runs yet" in at.info[0].value
    assert [b.label for b in at.get("download_button")] == ["Export 0 runs as JSON",
                                                           "Export 0 runs as CSV"]


def test_a_session_sees_its_runs_and_the_shared_ones_only(runs) -> None:
    at = page()
    assert not at.exception
    frame = table(at)
    assert frame["id"].tolist() == [runs["shared"], runs["mine1"], runs["mine0"]]
    assert frame["mine"].tolist() == [False, True, True]
    assert frame["shared"].tolist() == [True, False, False]
    assert "RMSE Naive (last value)" in frame and "owner" not in frame
    at.toggle(key="history.shared").set_value(False).run()
    assert table(at)["id"].tolist() == [runs["mine1"], runs["mine0"]]


def test_filters_narrow_the_table(runs) -> None:
    at = page()
    data = at.multiselect(key="history.f.dataset")
    assert (data.label, data.options) == ("Data", ["Airline passengers"])   # not a raw key
    at.multiselect(key="history.f.window").set_value([6]).run()
    assert table(at)["id"].tolist() == [runs["mine1"]]
    assert "1 of 3 runs" in texts(at.caption)[0]


def test_comparing_two_runs_shows_differences_charts_and_actions(runs) -> None:
    at = page()
    at.multiselect(key="history.selected").set_value([runs["mine0"], runs["mine1"]]).run()
    assert not at.exception
    assert at.subheader[0].value == "Comparing 2 runs"
    diff = at.dataframe[1].value
    assert diff.index.tolist() == ["Window"]     # the seed changes no naive forecast
    assert diff.columns.tolist() == [f"#{runs['mine0']}", f"#{runs['mine1']}"]
    assert len(at.get("plotly_chart")) == 2          # forecasts and metrics (naive: no loss)
    assert "has no loss curve" in at.info[0].value
    labels = [b.label for b in at.button]
    assert {"Reopen in Train & compare", "Share with the class", "Delete for good"} <= set(labels)
    assert [b.label for b in at.get("download_button")][0] == "Export 2 runs as JSON"


def test_reopen_restores_the_config_and_the_results(runs) -> None:
    at = page()
    at.multiselect(key="history.selected").set_value([runs["mine1"]]).run()
    at.button(key="history.reopen").click().run()
    assert not at.exception
    cfg = at.session_state["lab.config"]
    assert (cfg.window, cfg.seed, cfg.models) == (6, 1, NAIVE)
    stored = at.session_state["lab.runs"]
    assert len(stored) == 1 and next(iter(stored)).startswith("compare|")
    assert any("settings are restored" in s.value for s in at.success)   # page run on its own


def test_share_then_unshare_own_runs(runs, store) -> None:
    at = page()
    at.multiselect(key="history.selected").set_value([runs["mine0"]]).run()
    at.button(key="history.share").click().run()
    assert store.get_summary(runs["mine0"]).shared
    assert runs["mine0"] in [s.id for s in store.list_runs(OTHER)]
    assert at.button(key="history.share").label == "Stop sharing"
    at.button(key="history.share").click().run()
    assert not store.get_summary(runs["mine0"]).shared


def test_runs_shared_by_others_cannot_be_changed_here(runs) -> None:
    at = page()
    at.multiselect(key="history.selected").set_value([runs["shared"]]).run()
    assert "only their owner can" in " ".join(texts(at.caption))
    assert "history.delete" not in [b.key for b in at.button]


def test_delete_removes_own_runs_for_good(runs, store) -> None:
    at = page()
    at.multiselect(key="history.selected").set_value([runs["mine0"], runs["shared"]]).run()
    at.button(key="history.delete").click().run()
    assert not at.exception
    assert "Deleted 1 run." in texts(at.info)
    assert [s.id for s in store.list_runs(ME)] == [runs["shared"], runs["mine1"]]
    assert at.multiselect(key="history.selected").value == [runs["shared"]]


def test_the_owner_key_finds_runs_again_in_a_new_session(runs, store) -> None:
    at = page(owner="3" * 32)                    # a new session with no runs of its own
    assert table(at)["id"].tolist() == [runs["shared"]]
    assert [c.value for c in at.code] == [store.owner_key("3" * 32)]   # the signed key
    for typed in ("not a key", ME, ME + "-" + "0" * 32, "0" * 32):     # forged or unsigned
        at.text_input(key="history.key_input").input(typed)           # a form: sent on submit
        at.button(key="FormSubmitter:history_key_form-Use this key").click().run()
        assert "not a history key issued by this server" in at.error[0].value
        assert at.session_state["lab.owner"] == "3" * 32
        assert table(at)["id"].tolist() == [runs["shared"]]
    at.text_input(key="history.key_input").input(store.owner_key(ME).upper())
    at.button(key="FormSubmitter:history_key_form-Use this key").click().run()
    assert not at.error
    assert at.session_state["lab.owner"] == ME
    assert table(at)["id"].tolist() == [runs["shared"], runs["mine1"], runs["mine0"]]


def test_a_new_session_is_issued_an_owner_and_its_signed_key(store) -> None:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["lab.url_read"] = True
    at.run()
    owner = at.session_state["lab.owner"]
    assert len(owner) == 32 and int(owner, 16) >= 0
    assert [c.value for c in at.code] == [store.owner_key(owner)]
    assert store.owner_from_key(at.code[0].value) == owner


def test_an_unusable_database_is_one_readable_error(tmp_path, monkeypatch) -> None:
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"not a database" * 50)
    monkeypatch.setenv("LSTM_LAB_DB", str(bad))
    at = page()
    assert not at.exception
    assert "not a readable LSTM Lab run database" in at.error[0].value
    assert str(tmp_path) not in at.error[0].value and "bad.sqlite3" not in at.error[0].value
    assert "run store" in at.error[0].value


@requires_tf
def test_two_lstm_runs_compare_with_two_loss_curves(store) -> None:
    cfg = ExperimentConfig(window=4, test_size=6, models=("lstm", "naive"), **FAST)
    ids = [store.save_run(run_experiment(cfg.replace(seed=s), make_tiny_series()), ME)
           for s in (0, 1)]
    at = page()
    at.multiselect(key="history.selected").set_value(ids).run()
    assert not at.exception
    assert at.selectbox(key="history.model").value == "lstm"
    charts = at.get("plotly_chart")
    assert len(charts) == 3
    losses = next(c for c in charts if "loss curves" in c.proto.spec)
    assert losses.proto.spec.count('"name":"#') == 2        # one train curve per run


# --- through app.py (needs the wiring) ---------------------------------------------------------

def test_a_run_trained_on_the_train_page_appears_in_history_and_reopens(store) -> None:
    at = make_app({"models": "naive,seasonal_naive", "window": "6"})
    at.run()
    at.switch_page("pages/train.py").run()
    at.button(key="FormSubmitter:train_form-Train").click().run()
    wait_for_training(at)
    owner = at.session_state["lab.owner"]
    [summary] = store.list_runs(owner)
    assert summary.config.window == 6
    at.switch_page("pages/history.py").run()
    assert not at.exception
    assert table(at)["id"].tolist() == [summary.id]
    at.session_state["lab.runs"] = {}            # forget the session's copy: reopen restores it
    at.multiselect(key="history.selected").set_value([summary.id]).run()
    at.button(key="history.reopen").click().run()
    assert not at.exception
    assert at.title[0].value == "Train & compare"
    assert at.session_state["lab.job"] is None   # shown from the store, not retrained
    assert [m.label.replace(" ★", "") for m in at.metric] == ["Naive (last value)",
                                                              "Seasonal naive"]


# --- shared-server safety (issue 13) -------------------------------------------------------------

def _import(at: AppTest, content: bytes) -> AppTest:
    at.file_uploader(key="history.import_file").upload("runs.json", content,
                                                       "application/json").run()
    return at.button(key="history.import").click().run()


def _unescaped(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def test_a_deeply_nested_import_is_one_readable_error_on_the_page(store) -> None:
    at = _import(page(), ("[" * 100_000 + "]" * 100_000).encode())
    assert not at.exception
    assert len(at.error) == 1
    assert "nests lists or objects more than 32 levels deep" in at.error[0].value
    assert store.list_runs(ME) == []


def test_hostile_imports_are_refused_with_plain_text_messages(runs, store) -> None:
    doc = json.loads(store.export_runs([runs["mine0"]], ME))
    doc["runs"][0]["created_at"] = 1e12
    at = _import(page(), json.dumps(doc).encode())
    assert not at.exception
    assert "created_at must be a date between 2000-01-01 and tomorrow" in \
        _unescaped(at.error[0].value)
    doc["runs"][0]["created_at"] = 1.7e9
    doc["runs"][0]["result"]["transform"] = "**bold** [link](http://evil.example)"
    at = _import(page(), json.dumps(doc).encode())
    assert not at.exception
    message = at.error[0].value
    assert "unknown transform" in message
    assert "**" not in message.replace("\\*", "") and "[link](http://" not in message
    assert "\\*\\*bold\\*\\* \\[link\\]\\(http\\:\\//evil" in message   # shown as typed
    assert "**bold** [link](http://evil" in _unescaped(message)
    assert len(store.list_runs(OTHER, include_shared=False)) == 2   # nothing was added


def test_imported_runs_get_new_sweep_ids_on_the_page(store) -> None:
    theirs = [store.save_run(_naive(s), OTHER, sweep="theirs1") for s in (0, 1)]
    text = store.export_runs(theirs, OTHER)
    at = _import(page(), text.encode())
    assert not at.exception
    assert "Imported 2 runs." in [s.value for s in at.success]
    mine = store.list_runs(ME, include_shared=False)
    assert len(mine) == 2 and len({s.sweep for s in mine}) == 1
    assert mine[0].sweep not in ("", "theirs1")
    assert sorted(s.id for s in store.list_runs(None, sweep="theirs1")) == theirs


def test_a_run_with_an_impossible_date_still_lists(runs, store) -> None:
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE runs SET created_at = 1e12 WHERE id = ?", (runs["mine0"],))
    at = page()
    assert not at.exception
    frame = table(at)
    assert frame.loc[frame["id"] == runs["mine0"], "when"].tolist() == ["unknown date"]


def test_a_hostile_series_name_is_plain_text_in_the_table_and_the_picker(store) -> None:
    values = make_tiny_series().values
    hostile = "**x** [a](http://evil.example) <b>y</b>"
    series = make_tiny_series(values, name=hostile)
    cfg = ExperimentConfig(window=4, test_size=6, models=NAIVE, **FAST)
    run_id = store.save_run(run_experiment(cfg, series), ME)
    at = page()
    assert not at.exception
    assert table(at)["series"].tolist() == [hostile]           # a dataframe cell: plain text
    picker = at.multiselect(key="history.selected")
    assert picker.options == [f"#{run_id} · {hostile} · window 4"]     # no network to name
    markdown = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert not any("http://evil" in m for m in markdown)


def test_a_shared_run_unshared_later_cannot_be_read_by_a_classmate(runs, store) -> None:
    store.set_shared(runs["mine0"], True, ME)
    at = page(OTHER)
    at.multiselect(key="history.selected").set_value([runs["mine0"]]).run()
    assert at.subheader[0].value == "Comparing 1 run"
    at.button(key="history.reopen").click().run()               # the classmate reopens it
    assert len(at.session_state["lab.runs"]) == 1             # its copy, in the session
    store.set_shared(runs["mine0"], False, ME)                  # then the owner stops sharing
    at.run()
    assert not at.exception
    assert runs["mine0"] not in table(at)["id"].tolist()
    assert not at.subheader                                     # nothing of it is compared
    with pytest.raises(RunNotFoundError, match="There is no run"):
        store.load_run(runs["mine0"], OTHER)


def test_the_page_shows_the_storage_used_and_the_cap(runs, store, monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_OWNER_STORAGE_MB", "3")
    at = page()
    used = store.used_bytes(ME)
    caption = next(c.value for c in at.caption if "history key may use" in c.value)
    assert f"Your saved runs take {used / 2**20:,.1f} MiB of the 3 MiB" in caption
    assert "LSTM_LAB_MAX_OWNER_STORAGE_MB" in caption


def test_an_import_over_the_quota_or_the_points_limit_is_refused_on_the_page(
        runs, store, monkeypatch) -> None:
    text = store.export_runs([runs["mine0"], runs["mine1"]], ME)
    monkeypatch.setenv("LSTM_LAB_MAX_IMPORT_POINTS", "10")
    at = _import(page(OTHER), text.encode())
    assert not at.exception
    assert "prediction points; one import takes at most 10" in _unescaped(at.error[0].value)
    monkeypatch.setenv("LSTM_LAB_MAX_IMPORT_POINTS", "200000")
    monkeypatch.setenv("LSTM_LAB_MAX_OWNER_STORAGE_MB", "1")
    at = _import(page(OTHER), (" " * 2**20).encode())
    assert not at.exception
    message = _unescaped(at.error[0].value)
    assert message.startswith("Importing this runs file (1.0 MiB) would take your saved runs to")
    assert "Delete old runs on the History page" in message
    assert len(store.list_runs(OTHER, include_shared=False)) == 2   # nothing was added


def test_comparing_runs_offers_and_shows_their_prediction_intervals(store) -> None:
    ids = {"default": store.save_run(_naive(0), ME),              # 80% and 95% bands
           "ninety": store.save_run(_naive(1, intervals=(0.9,)), ME),
           "none": store.save_run(_naive(2, intervals=()), ME)}
    results = {k: store.load_run(i, ME) for k, i in ids.items()}
    at = page()
    at.multiselect(key="history.selected").set_value(list(ids.values())).run()
    assert not at.exception
    assert at.dataframe[1].value.loc["Prediction intervals"].tolist() == ["80%, 95%", "90%",
                                                                           "none"]
    metric = at.selectbox(key="history.metric")
    assert metric.options == ["RMSE", "MAE", "MAPE", "MASE", "coverage 80%", "width 80%",
                              "Winkler 80%", "coverage 90%", "width 90%", "Winkler 90%",
                              "coverage 95%", "width 95%", "Winkler 95%"]
    metric.set_value("coverage_80").run()
    assert not at.exception
    chart = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                 if "coverage 80%" in c.proto.spec)
    assert "nearest 80% is best" in chart["layout"]["title"]["text"]
    bars = {trace["name"]: trace["y"] for trace in chart["data"]}
    assert bars[f"#{ids['default']}"] == pytest.approx(
        [results["default"].metrics[m]["coverage_80"] for m in NAIVE])
    assert all(v is None for v in bars[f"#{ids['ninety']}"])       # no 80% band in that run
    frame = next(d.value for d in at.dataframe if "coverage %" in d.value)
    assert frame.columns.tolist() == ["run", "model", "level", "coverage %", "width", "Winkler"]
    assert len(frame) == 2 * 2 + 2 * 1                # runs x models x their levels
    ninety = frame[frame["run"] == f"#{ids['ninety']}"]
    assert ninety["level"].tolist() == ["90%", "90%"]
    assert ninety["coverage %"].tolist() == pytest.approx(
        [results["ninety"].metrics[m]["coverage_90"] for m in NAIVE])
    assert f"No intervals in #{ids['none']}." in " ".join(texts(at.caption))


# --- reading runs honestly (#17) -----------------------------------------------------------------

def _on(series_name: str, scale: float = 1.0, **changes):
    values = make_tiny_series().values * scale
    cfg = ExperimentConfig(**{"window": 4, "test_size": 6, "models": NAIVE, **FAST, **changes})
    return run_experiment(cfg, make_tiny_series(values, name=series_name))


def test_runs_on_different_data_are_named_and_drawn_on_their_own_axes(store) -> None:
    ids = [store.save_run(_on("passengers"), ME), store.save_run(_on("car sales", 40.0), ME)]
    at = page()
    at.multiselect(key="history.selected").set_value(ids).run()
    assert not at.exception
    [warning] = [w.value for w in at.warning if "different data" in w.value]
    assert warning.startswith(f"These runs use different data: passengers (#{ids[0]}); "
                              f"car sales (#{ids[1]}).")
    assert "its own panel with its own axis" in warning
    chart = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                 if "forecasts of the test part" in c.proto.spec)
    assert chart["layout"]["yaxis"]["title"]["text"] == "passengers"
    assert chart["layout"]["yaxis2"]["title"]["text"] == "car sales"
    axes = {t["name"]: t.get("yaxis", "y") for t in chart["data"]}
    assert axes == {"actual": "y", "actual (car sales)": "y2", f"#{ids[0]}": "y",
                    f"#{ids[1]}": "y2"}
    assert at.dataframe[1].value.loc["Series"].tolist() == [
        f"passengers ({store.load_run(ids[0], ME).data_fingerprint[:8]})",
        f"car sales ({store.load_run(ids[1], ME).data_fingerprint[:8]})"]


def test_runs_on_the_same_data_share_one_panel_without_a_warning(runs) -> None:
    at = page()
    at.multiselect(key="history.selected").set_value([runs["mine0"], runs["mine1"]]).run()
    assert not [w for w in at.warning if "different data" in w.value]
    chart = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                 if "forecasts of the test part" in c.proto.spec)
    assert "yaxis2" not in chart["layout"]


def test_two_csv_runs_list_no_sine_or_network_settings_as_differences(store) -> None:
    csv = {"dataset": "csv", "column": "value"}
    ids = [store.save_run(_on("sales", csv_path="sales.csv", sine_period=40.0, **csv), ME),
           store.save_run(_on("sales", csv_path="sales.csv", sine_period=12.0, seed=4,
                              epochs=9, units=8, architecture="gru", **csv), ME)]
    at = page()
    at.multiselect(key="history.selected").set_value(ids).run()
    assert not at.exception
    assert not [d for d in at.dataframe if "Sine period" in d.value.index.tolist()]
    assert ("None: every setting and the data are the same — only the training (seed, "
            "library versions) can differ.") in texts(at.caption)


def test_the_runs_table_pins_the_run_number_and_formats_numbers(runs) -> None:
    """(That the tables fit the page is measured in the browser:
    tests/e2e/test_sweep_history_browser.py.)"""
    at = page()
    at.multiselect(key="history.selected").set_value([runs["mine0"], runs["mine1"]]).run()
    assert len(at.dataframe) == 3              # runs, differences, intervals
    config = json.loads(at.dataframe[0].proto.columns)
    assert config["RMSE Naive (last value)"]["type_config"]["format"] == "localized"
    assert config["id"]["pinned"] is True      # the run number stays in view when it scrolls


@requires_tf
def test_the_runs_table_names_each_runs_architecture(store) -> None:
    gru = ExperimentConfig(window=4, test_size=6, models=("lstm", "naive"), architecture="gru",
                           layers=2, members=1, **FAST)
    ids = [store.save_run(run_experiment(gru, make_tiny_series()), ME),
           store.save_run(_naive(0), ME)]
    at = page()
    assert not at.exception
    frame = table(at)
    assert frame["architecture"].tolist() == ["—", "GRU ×2"]      # newest first
    assert "RMSE GRU" in frame.columns and not [c for c in frame if "LSTM" in c]
    assert frame["dataset"].tolist() == ["Airline passengers"] * 2
    assert frame["best"].iloc[1] in ("GRU ×2", "Naive (last value)")
    rmse = frame["RMSE GRU"].iloc[1]
    assert rmse == float(f"{rmse:.3g}")                            # three significant digits
    picker = at.multiselect(key="history.selected")
    assert picker.options == [f"#{ids[1]} · tiny · window 4",
                              f"#{ids[0]} · tiny · window 4 · GRU 2×4 · 3 epochs · seed 0"]
