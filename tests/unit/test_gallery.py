"""The gallery of real series: every entry ships, loads through the CSV reader with its stated
frequency and columns, holds two seasons, has a story and its provenance; the config, the CLI
and links take every gallery name, and an unknown name is refused in one sentence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lstm_lab.cli.main import main
from lstm_lab.data.csv_reader import load_csv
from lstm_lab.data.gallery import FREQ_NAMES, GALLERY, load_entry, raw_bytes
from lstm_lab.errors import ConfigError
from lstm_lab.experiments.config import DATASETS, ExperimentConfig
from lstm_lab.experiments.sources import load_series

ROOT = Path(__file__).resolve().parents[2]
TEST_DATA = ROOT / "tests" / "data"
GALLERY_DIR = ROOT / "lstm_lab" / "data" / "gallery"
NAIVE = ["--models", "naive,seasonal_naive"]


@pytest.mark.parametrize("key", list(GALLERY))
def test_every_entry_loads_with_its_frequency_columns_two_seasons_and_a_story(key) -> None:
    e = GALLERY[key]
    load = load_entry(key)
    series = load.series
    assert series.freq == e.freq and e.freq in FREQ_NAMES
    assert series.name == e.target and series.source == key
    assert len(series) >= 2 * series.season and len(series) >= 60
    assert load.numeric_columns == [e.target, *e.others]   # the registry lists every column
    assert load.date_column == e.date_column
    assert e.title and e.story.endswith(".") and len(e.story) > 40 and e.source
    # the same file as an upload with the same options gives the same series
    upload = load_csv(TEST_DATA / e.file, column=e.target, date_column=e.date_column,
                      **e.options).series
    assert (upload.values == series.values).all() and upload.index.equals(series.index)


@pytest.mark.parametrize("key", list(GALLERY))
def test_every_file_is_a_byte_copy_of_tests_data_with_its_provenance_line(key) -> None:
    e = GALLERY[key]
    assert raw_bytes(key) == (TEST_DATA / e.file).read_bytes()
    ours = (GALLERY_DIR / "PROVENANCE.md").read_text(encoding="utf-8")
    theirs = (TEST_DATA / "PROVENANCE.md").read_text(encoding="utf-8")
    (line,) = [row for row in theirs.splitlines() if row.startswith(f"| `{e.file}` |")]
    assert line in ours.splitlines()


def test_the_gallery_covers_every_frequency_and_two_multivariate_series() -> None:
    assert len(GALLERY) >= 8
    assert {FREQ_NAMES[e.freq] for e in GALLERY.values()} >= {
        "daily", "weekly", "monthly", "quarterly", "yearly"}
    multivariate = {k for k, e in GALLERY.items() if e.multivariate}
    assert {"us_change", "us_macro"} <= multivariate
    shipped = {p.name for p in GALLERY_DIR.glob("*.csv")}
    assert shipped == {e.file for e in GALLERY.values()}   # nothing shipped unlisted


def test_the_config_takes_every_gallery_name_and_the_airline_stays_the_default() -> None:
    assert ExperimentConfig().dataset == "air_passengers"
    assert set(GALLERY) <= set(DATASETS)
    for key in GALLERY:
        assert load_series(ExperimentConfig(dataset=key)).values.tolist() == \
            load_entry(key).series.values.tolist()
    assert ExperimentConfig.from_dict({"dataset": "nile"}).dataset == "nile"


def test_a_link_opens_a_gallery_series_and_an_unknown_name_lists_the_choices() -> None:
    cfg, notes = ExperimentConfig.from_query_params({"dataset": "champagne"})
    assert cfg.dataset == "champagne" and notes == []
    cfg, (note,) = ExperimentConfig.from_query_params({"dataset": "champain"})
    assert cfg.dataset == "air_passengers"
    assert note.startswith("Ignored `dataset=champain` from the link: `dataset` must be one of "
                           "air_passengers, births,")
    assert "us_change" in note and note.count(".") <= 1
    with pytest.raises(ConfigError, match="must be one of air_passengers, births"):
        ExperimentConfig(dataset="champain")


def test_the_cli_refuses_an_unknown_name_in_one_sentence_listing_the_choices(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", "--dataset", "car_sale", *NAIVE])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: There is no dataset named 'car_sale': choose one of "
                          "air_passengers, births, ")
    assert "car_sales" in err and "damped_sine" in err and "a CSV file's path" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(("key", "n_points", "test_size"),
                         [("births", 365, "28"), ("us_change", 187, "8")])
def test_the_cli_runs_a_daily_and_a_quarterly_gallery_series(capsys, key, n_points,
                                                            test_size) -> None:
    code = main(["run", "--dataset", key, "--test-size", test_size, "--json", *NAIVE])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["config"]["dataset"] == key
    assert (result["n_points"], result["n_train"]) == (n_points, n_points - int(test_size))
    assert set(result["metrics"]) == {"naive", "seasonal_naive"}
    assert all(v["rmse"] > 0 for v in result["metrics"].values())


def test_the_cli_help_lists_the_gallery_names(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "real series of the Data page's gallery: births | melbourne_min_temp" in out
    assert all(key in out for key in GALLERY)
