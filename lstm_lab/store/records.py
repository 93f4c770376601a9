"""What a run is, as plain JSON values: the record of an ExperimentResult and the saved state of
its trained networks (what ``predict`` needs besides the ``.keras`` file)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from lstm_lab.errors import DataError
from lstm_lab.experiments.training import MODEL_LABELS


def _dumps(obj: Any) -> str:
    """Strict JSON; key order kept (the order of models and metrics is the order shown)."""
    return json.dumps(_plain(obj), allow_nan=False)


def _plain(obj: Any) -> Any:
    """JSON-safe: numpy scalars to Python, tuples to lists, NaN / inf to None."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _fitted_name(key: Any) -> bool:
    """A fitted attribute a stored state may set: ``name_``, never a dunder or a private one."""
    return (isinstance(key, str) and key.endswith("_") and key.isidentifier()
            and not key.startswith("_") and key not in _RESTORED_SEPARATELY)


_RESTORED_SEPARATELY = ("model_", "transform_", "scaler_")


def _network_state(forecaster: Any) -> dict[str, Any]:
    """What predict() needs besides the Keras model, as plain JSON values."""
    import inspect

    params = {k: getattr(forecaster, k)
              for k in inspect.signature(type(forecaster).__init__).parameters
              if k != "self" and hasattr(forecaster, k)}
    fitted = {}
    for key, value in vars(forecaster).items():
        if key.endswith("_") and key not in _RESTORED_SEPARATELY:
            try:
                fitted[key] = json.loads(_dumps(value))
            except (TypeError, ValueError):
                continue  # not a plain value: not needed to predict
    return {"params": _plain(params), "fitted": fitted,
            "transform": {"kind": forecaster.transform_.kind,
                          "season": int(forecaster.transform_.season),
                          "trend": [float(v) for v in forecaster.transform_.trend]},
            "scaler": {"mean": forecaster.scaler_.mean, "scale": forecaster.scaler_.scale}}


def _restore_network(model: str, state: Mapping[str, Any], network) -> Any:
    import inspect

    from lstm_lab.data.windows import Scaler, TargetTransform
    from lstm_lab.models.forecasters import LSTMForecaster, MLPForecaster

    classes = {"lstm": LSTMForecaster, "mlp": MLPForecaster}
    if model not in classes:
        raise DataError(f"Unknown network {model!r}; stored networks are "
                        f"{', '.join(classes)}.")
    cls = classes[model]
    try:
        allowed = set(inspect.signature(cls.__init__).parameters) - {"self"}
        forecaster = cls(**{k: v for k, v in state["params"].items() if k in allowed})
        for key, value in state.get("fitted", {}).items():
            if _fitted_name(key):
                setattr(forecaster, key, value)
        forecaster.transform_ = TargetTransform(
            str(state["transform"]["kind"]), int(state["transform"]["season"]),
            tuple(float(v) for v in state["transform"].get("trend", (0.0, 0.0))))
        scaler = Scaler()
        # The Scaler wraps a StandardScaler; its two fitted statistics are all transform() needs.
        scaler._scaler.mean_ = np.array([float(state["scaler"]["mean"])])
        scaler._scaler.scale_ = np.array([float(state["scaler"]["scale"])])
        scaler._scaler.n_features_in_ = 1
        forecaster.scaler_ = scaler
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise DataError(f"The stored {MODEL_LABELS[model]} state is incomplete ({err}).") \
            from None
    forecaster.model_ = network
    return forecaster
