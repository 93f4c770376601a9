"""A trained network of a stored run (restored from the database on first use), or one shipped
back from a worker as plain data (``ShippedNetwork``)."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from lstm_lab.errors import DataError, LabError
from lstm_lab.experiments.config import NEURAL_MODELS
from lstm_lab.experiments.training import MODEL_LABELS
from lstm_lab.models.registry import get_spec

# The forecaster's methods a stored network answers for (the Forecaster protocol's reading side;
# it is never fitted again). Its own attributes, parameters and fitted ``name_`` values, are
# forwarded too.
FORWARDED_METHODS = frozenset({"predict", "predict_members", "predict_chunk", "output_steps",
                               "get_state", "get_params", "model_inputs", "with_inputs",
                               "n_features"})
_OWN = frozenset({"store", "run_id", "name", "owner"})


class NetworkSource(Protocol):
    """What a stored network asks of the store that made it (``RunStore`` answers)."""

    def keras_bytes(self, run_id: int, model: str, owner: str | None) -> bytes: ...

    def network_file(self, run_id: int, model: str, owner: str | None
                     ) -> tuple[dict[str, Any], bytes]: ...

    def restore_forecaster(self, run_id: int, model: str, owner: str | None) -> Any: ...

    def check_readable(self, run_id: int, owner: str | None) -> None: ...


class StoredNetwork:
    """Behaves like the fitted forecaster it stands for: ``model_``, ``predict``, ``scaler_``...
    are looked up on the restored LSTMForecaster / MLPForecaster.

    Every use checks that ``owner`` (the reader) may still see the run, even after the network
    was restored: once its owner stops sharing it (or deletes it), a classmate's copy cannot be
    read any more. If the network cannot be read, attribute lookups fail with AttributeError
    (naming why), so ``hasattr(network, "model_")`` is simply False, and ``keras_bytes`` /
    ``restore`` raise RunNotFoundError.
    """

    def __init__(self, store: NetworkSource, run_id: int, name: str, owner: str | None = None) -> None:
        self.store, self.run_id, self.name, self.owner = store, run_id, name, owner
        self._forecaster = None

    def __repr__(self) -> str:
        return f"StoredNetwork(run_id={self.run_id}, name={self.name!r})"

    @property
    def loaded(self) -> bool:
        return self._forecaster is not None

    def keras_bytes(self) -> bytes:
        return self.store.keras_bytes(self.run_id, self.name, self.owner)

    def readable(self) -> bool:
        """The reader may still open this network (its run is theirs, or still shared), asked
        of the store without restoring it."""
        try:
            self.store.check_readable(self.run_id, self.owner)
        except LabError:
            return False
        return True

    def saved(self) -> tuple[dict[str, Any], bytes]:
        """The stored state and ``.keras`` bytes, as written: a reloaded run saved again copies
        them."""
        return self.store.network_file(self.run_id, self.name, self.owner)

    def restore(self):
        if self._forecaster is None:
            self._forecaster = self.store.restore_forecaster(self.run_id, self.name, self.owner)
        else:
            self.store.check_readable(self.run_id, self.owner)
        return self._forecaster

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_") or attr in _OWN:
            raise AttributeError(attr)
        try:
            forecaster = self.restore()
        except LabError as err:
            raise AttributeError(f"{attr} (the stored network could not be restored: {err})") \
                from err
        if attr not in FORWARDED_METHODS and attr not in vars(forecaster):
            raise AttributeError(f"A stored network has no {attr!r}: it forwards "
                                 f"{', '.join(sorted(FORWARDED_METHODS))} and the forecaster's "
                                 "parameters and fitted values.")
        return getattr(forecaster, attr)


class ShippedNetwork:
    """A trained network that came back from a worker as plain data: its saved state (JSON
    values) and its ``.keras`` bytes, held in memory.

    ``keras_bytes()`` and ``saved()`` answer without importing Keras (a web process can offer the
    download or save the run to the store as it is); the real forecaster is restored (Keras is
    imported, the file loaded in safe mode) only when something needs it: ``model_``,
    ``predict``, its fitted values... as ``StoredNetwork`` forwards them.
    """

    def __init__(self, name: str, state: dict[str, Any], blob: bytes) -> None:
        self.name, self.state, self.blob = name, state, bytes(blob)
        self._forecaster = None

    def __repr__(self) -> str:
        return f"ShippedNetwork(name={self.name!r}, {len(self.blob):,} bytes)"

    @property
    def loaded(self) -> bool:
        return self._forecaster is not None

    def keras_bytes(self) -> bytes:
        return self.blob

    def readable(self) -> bool:
        return True

    def saved(self) -> tuple[dict[str, Any], bytes]:
        """The state and ``.keras`` bytes, as the worker saved them."""
        return self.state, self.blob

    def restore(self):
        if self._forecaster is None:
            self._forecaster = restore_network(self.name, self.state, load_keras(self.blob))
        return self._forecaster

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_") or attr in _SHIPPED_OWN:
            raise AttributeError(attr)
        try:
            forecaster = self.restore()
        except LabError as err:
            raise AttributeError(f"{attr} (the network could not be restored: {err})") from err
        if attr not in FORWARDED_METHODS and attr not in vars(forecaster):
            raise AttributeError(f"A shipped network has no {attr!r}: it forwards "
                                 f"{', '.join(sorted(FORWARDED_METHODS))} and the forecaster's "
                                 "parameters and fitted values.")
        return getattr(forecaster, attr)


_SHIPPED_OWN = frozenset({"name", "state", "blob"})


# --- restoring a network from its saved state and .keras file ----------------------------------

def load_keras(blob: bytes):
    """A Keras model from ``.keras`` bytes, via a temporary file, in safe mode (no code runs)."""
    if not blob.startswith(b"PK"):
        raise DataError("The stored network is not a .keras file (a zip archive).")
    # Deferred on purpose: TensorFlow takes seconds to import, and listing, exporting or
    # importing runs (the History page, the command line) never needs it.
    import keras

    with tempfile.TemporaryDirectory(prefix="lstm_lab_") as tmp:
        path = Path(tmp) / "model.keras"
        path.write_bytes(blob)
        try:
            return keras.saving.load_model(path, safe_mode=True)
        except Exception as err:  # noqa: BLE001 - Keras raises many types for a bad file
            raise DataError(f"The stored network could not be loaded ({type(err).__name__}: "
                            f"{err}).") from None


def restore_network(model: str, state: Mapping[str, Any], network) -> Any:
    """The fitted network ``state`` describes, predicting with ``network``: restored by the class
    its registry spec names (``from_state``)."""
    if model not in NEURAL_MODELS:
        raise DataError(f"Unknown network {model!r}; stored networks are "
                        f"{', '.join(NEURAL_MODELS)}.")
    try:
        return get_spec(model).state_class.from_state(state, network)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise DataError(f"The stored {MODEL_LABELS[model]} state is incomplete ({err}).") \
            from None
