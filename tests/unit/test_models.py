"""Keras builders: shapes, stacking, parameter counts, and the exported code really runs."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.models.networks import build_lstm, build_mlp, keras_code, lstm_params, mlp_params


@pytest.mark.parametrize("layers", [1, 3])
def test_lstm_stacks_layers_returning_sequences_except_the_last(layers: int) -> None:
    model = build_lstm(window=6, horizon=2, layers=layers, units=5)
    lstms = [layer for layer in model.layers if layer.name.startswith("lstm_")]
    assert [layer.return_sequences for layer in lstms] == [True] * (layers - 1) + [False]
    assert model.output_shape == (None, 2)
    assert model.count_params() == lstm_params(1, 5, layers=layers, horizon=2)


def test_mlp_flattens_the_window_and_matches_the_formula() -> None:
    model = build_mlp(window=6, horizon=2, layers=2, units=7)
    assert model.input_shape == (None, 6)
    assert model.count_params() == mlp_params(1, 6, 7, layers=2, horizon=2)


def test_same_seed_same_initial_weights_different_seed_different() -> None:
    a, b, c = (build_lstm(4, 1, units=3, seed=s) for s in (1, 1, 2))
    wa, wb, wc = (np.concatenate([w.ravel() for w in m.get_weights()]) for m in (a, b, c))
    np.testing.assert_array_equal(wa, wb)
    assert not np.allclose(wa, wc)


def test_exported_keras_code_runs_and_builds_the_same_architecture(tmp_path) -> None:
    config = ExperimentConfig(window=5, horizon=2, layers=2, units=6, dropout=0.1, epochs=2)
    script = tmp_path / "export.py"
    script.write_text(keras_code(config) + "\nprint('PARAMS', model.count_params())\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    params = int(out.stdout.split("PARAMS")[1].split()[0])
    assert params == lstm_params(1, 6, layers=2, horizon=2)
