"""The History page: list, filter, compare, reopen, share, delete, and the owner key.

Most tests run ``pages/history.py`` on its own against a fresh database (``LSTM_LAB_DB``) filled
with naive-model runs; the last ones go through app.py's navigation and the Train page, and are
skipped until app.py lists the page and the Train page saves its runs (the wiring).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lstm_lab.config import ExperimentConfig
from lstm_lab.store import get_store
from lstm_lab.training import run_experiment
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
    assert [b.label for b in at.get("download_button")] == ["Export 0 run(s) as JSON",
                                                           "Export 0 run(s) as CSV"]


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
    at.multiselect(key="history.f.window").set_value([6]).run()
    assert table(at)["id"].tolist() == [runs["mine1"]]
    assert "1 of 3 runs" in texts(at.caption)[0]


def test_comparing_two_runs_shows_differences_charts_and_actions(runs) -> None:
    at = page()
    at.multiselect(key="history.selected").set_value([runs["mine0"], runs["mine1"]]).run()
    assert not at.exception
    assert at.subheader[0].value == "Comparing 2 runs"
    diff = at.dataframe[1].value
    assert diff.index.tolist() == ["window", "seed"]
    assert diff.columns.tolist() == [f"#{runs['mine0']}", f"#{runs['mine1']}"]
    assert len(at.get("plotly_chart")) == 2          # forecasts and metrics (naive: no loss)
    assert "has no loss curve" in at.info[0].value
    labels = [b.label for b in at.button]
    assert {"Reopen in Train & compare", "Share with the class", "Delete for good"} <= set(labels)
    assert [b.label for b in at.get("download_button")][0] == "Export 2 run(s) as JSON"


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
    assert "Deleted 1 run(s)." in texts(at.info)
    assert [s.id for s in store.list_runs(ME)] == [runs["shared"], runs["mine1"]]
    assert at.multiselect(key="history.selected").value == [runs["shared"]]


def test_the_owner_key_finds_runs_again_in_a_new_session(runs) -> None:
    at = page(owner="3" * 32)                    # a new session with no runs of its own
    assert table(at)["id"].tolist() == [runs["shared"]]
    assert "3" * 32 in [c.value for c in at.code]
    at.text_input(key="history.key_input").input("not a key")     # a form: sent on submit
    at.button(key="FormSubmitter:history_key_form-Use this key").click().run()
    assert "A history key is 32 letters" in at.error[0].value
    at.text_input(key="history.key_input").input(ME.upper())
    at.button(key="FormSubmitter:history_key_form-Use this key").click().run()
    assert at.session_state["lab.owner"] == ME
    assert table(at)["id"].tolist() == [runs["shared"], runs["mine1"], runs["mine0"]]


def test_an_unusable_database_is_one_readable_error(tmp_path, monkeypatch) -> None:
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"not a database" * 50)
    monkeypatch.setenv("LSTM_LAB_DB", str(bad))
    at = page()
    assert not at.exception
    assert "not a readable LSTM Lab run database" in at.error[0].value


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
