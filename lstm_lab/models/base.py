"""The contract every forecaster keeps, and the plain-data state it saves itself as.

A forecaster follows scikit-learn's rules: ``__init__`` stores its arguments unchanged under the
same names (and nothing else), ``fit`` learns and returns ``self``, learned attributes end in
``_``, and ``predict(values, origins)`` forecasts ``horizon`` steps after each origin from
``values[:origin]`` only. Like Keras' ``get_config`` / ``from_config``, ``get_state`` gives what
``predict`` needs as plain JSON values (never weights: a network's weights travel in its
``.keras`` file) and ``from_state`` rebuilds a fitted forecaster from it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np

from lstm_lab.errors import NotFittedError


@dataclass(frozen=True)
class EpochInfo:
    """What the per-epoch hook receives: enough to draw a progress bar and a live loss chart."""

    model: str
    epoch: int          # 1-based
    epochs: int         # the maximum
    loss: float
    val_loss: float | None
    variant: str = ""       # with tuning: which variant of the network is training
    variant_index: int = 0
    variants: int = 1


EpochHook = Callable[[EpochInfo], None]
StopFlag = Callable[[], bool]
# An experiments.config.ExperimentConfig. The config lives a floor above the models and reads the
# registry, so the models never import it, not even for type hints: they read its fields.
RunConfig = Any


@runtime_checkable
class Forecaster(Protocol):
    """What the lab asks of a model. ``first_origin_`` exists once fitted, so ``isinstance``
    answers for fitted forecasters."""

    name: str
    horizon: int
    first_origin_: int      # the earliest origin it can forecast from

    def fit(self, values: np.ndarray, on_epoch: EpochHook | None = None,
            should_stop: StopFlag | None = None) -> Forecaster: ...

    def predict(self, values: np.ndarray, origins: np.ndarray) -> np.ndarray: ...

    def get_state(self) -> dict[str, Any]: ...

    @classmethod
    def from_state(cls, state: Mapping[str, Any], network: Any = None) -> Forecaster: ...


def check_fitted(estimator: object, attribute: str) -> None:
    if not hasattr(estimator, attribute):
        raise NotFittedError(f"{type(estimator).__name__} is not fitted: call fit() before predict().")


# --- plain-data state ----------------------------------------------------------------------------
def to_plain(obj: Any) -> Any:
    """JSON-safe: numpy scalars and arrays to Python, tuples to lists, NaN / inf to None."""
    if isinstance(obj, Mapping):
        return {str(k): to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def init_params(estimator: object) -> dict[str, Any]:
    """The constructor's arguments: what ``__init__`` stored (no ``_`` at either end)."""
    return {k: v for k, v in vars(estimator).items()
            if not k.startswith("_") and not k.endswith("_")}


def settable(key: Any, restored_separately: tuple[str, ...] = ()) -> bool:
    """A fitted attribute a saved state may set: ``name_``, never a dunder or a private one."""
    return (isinstance(key, str) and key.endswith("_") and key.isidentifier()
            and not key.startswith("_") and key not in restored_separately)


def plain_state(estimator: object, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """``{"params": ..., "fitted": ...}``: the constructor's arguments and every fitted
    attribute that is plain data (others, and those in ``skip``, are left out)."""
    fitted = {}
    for key, value in vars(estimator).items():
        if key.endswith("_") and key not in skip:
            try:
                fitted[key] = json.loads(json.dumps(to_plain(value), allow_nan=False))
            except (TypeError, ValueError):
                continue  # not plain data: not needed to predict
    return {"params": to_plain(init_params(estimator)), "fitted": fitted}


T = TypeVar("T")


def restore_plain(cls: type[T], state: Mapping[str, Any], skip: tuple[str, ...] = ()) -> T:
    """An instance of ``cls`` from ``plain_state``: unknown parameters are ignored (older saved
    runs), lists become tuples again, and only ``settable`` fitted attributes are set."""
    allowed = init_params(cls())
    params = {k: tuple(v) if isinstance(v, list) else v
              for k, v in state["params"].items() if k in allowed}
    estimator = cls(**params)
    for key, value in state.get("fitted", {}).items():
        if settable(key, skip):
            setattr(estimator, key, value)
    return estimator
