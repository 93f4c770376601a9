"""ExperimentConfig: every setting needed to reproduce a run, in one frozen, JSON-able dataclass.

The same object flows through the CLI, the dashboard, URL query parameters and saved runs. Each
numeric field carries its allowed range and a help text in its metadata, so validation, URL
clamping, CLI help and UI tooltips all come from this one place.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from typing import Any

from lstm_lab.data.gallery import GALLERY
from lstm_lab.errors import ConfigError
from lstm_lab.limits import env_var, get_limits
from lstm_lab.models.registry import ARCHITECTURE_CHOICES, MODELS, NEURAL_MODELS

# the airline passengers (the default), the gallery's real series, a generated sine, a CSV
DATASETS = ("air_passengers", *GALLERY, "damped_sine", "csv")
STRATEGIES = ("direct", "recursive")
TUNING = ("auto", "off")
TRANSFORMS = ("auto", "none", "log", "diff", "log_diff", "seasonal_diff", "log_seasonal_diff",
              "detrend", "log_detrend", "es", "log_es")
COMBINE = ("median", "mean")
INTERVAL_RANGE = (0.5, 0.99)   # prediction-interval levels a run may ask for
MAX_INTERVAL_LEVELS = 3
# Settings a sweep may vary, in the order the CLI and the Sweep page list them; the data settings
# always stay the base config's. Here, not in sweep.py: the command line's parser reads it.
SWEEP_FIELDS = ("window", "horizon", "architecture", "layers", "units", "members", "dropout",
                "mlp_layers",
                "mlp_units", "epochs", "batch_size", "learning_rate", "patience",
                "validation_fraction", "seed", "transform", "strategy")


def _num(default, lo, hi, help_text):
    return field(default=default, metadata={"min": lo, "max": hi, "help": help_text})


def _choice(default, choices, help_text):
    return field(default=default, metadata={"choices": choices, "help": help_text})


MAX_TEXT = 255   # characters of a free-text field (file name, column names)


def _text(help_text):
    return field(default="", metadata={"max_length": MAX_TEXT, "help": help_text})


@dataclass(frozen=True)
class ExperimentConfig:
    """One experiment. Frozen (hashable); validated on construction.

    ``test_size`` is a count of points when >= 1 and a fraction of the series when below 1.
    ``season`` 0 means "detect it" (``Series.season``: 12 for monthly data; for a series without
    dates, the period its values clearly repeat with; 1 when there is none).
    """

    # --- data -------------------------------------------------------------------------------
    dataset: str = _choice("air_passengers", DATASETS,
                           "Which series: the airline passengers, a real series of the gallery (see the "
                           "Data page), a generated damped sine, or a CSV.")
    csv_path: str = _text("CSV file (CLI) or uploaded file name.")
    column: str = _text("CSV value column; empty picks the only numeric one.")
    date_column: str = _text("CSV date column; empty detects it; '(row number)' uses the row "
                             "number as time.")
    inputs: tuple[str, ...] = field(default=(), metadata={
        "max_length": MAX_TEXT, "limit": "max_inputs",
        "help": "Other numeric columns the networks read beside the target, e.g. price,promo: "
                "at every step of the window, each input's past value (never a future one, so "
                "forecasting needs no future inputs). The baselines stay univariate. Needs the "
                "direct strategy; at most LSTM_LAB_MAX_INPUTS columns (8 unless the server "
                "sets another number)."})
    sine_length: int = _num(400, 40, 100_000, "Number of points of the generated sine.")
    sine_period: float = _num(40.0, 2.0, 10_000.0, "Points per full oscillation.")
    sine_decay: float = _num(0.003, 0.0, 1.0, "Exponential decay rate per point (0 = no damping).")
    sine_amplitude: float = _num(1.0, 0.001, 1e6, "Starting amplitude.")
    sine_phase: float = _num(0.0, -360.0, 360.0, "Phase shift in degrees.")
    sine_noise: float = _num(0.05, 0.0, 1e6, "Standard deviation of added Gaussian noise.")
    # --- framing ----------------------------------------------------------------------------
    window: int = _num(12, 1, 512, "How many past points the networks see to make a prediction.")
    horizon: int = _num(1, 1, 365, "How many future points each prediction covers (1 = one step ahead).")
    strategy: str = _choice("direct", STRATEGIES,
                            "Multi-step forecasts: direct (the network outputs all horizon steps "
                            "at once) or recursive (it predicts one step and is fed its own "
                            "predictions).")
    test_size: float = _num(24.0, 0.01, 1_000_000.0,
                            "Held-out tail the models are scored on: a number of points (e.g. "
                            "24) or a share of the series below 1 (e.g. 0.2 for the last 20%).")
    transform: str = _choice("auto", TRANSFORMS,
                             "Target transform before scaling; undone before metrics. auto: for a "
                             "direct forecast of a seasonal series with 3 seasons of training "
                             "data, the ES hybrid (log_es / es: "
                             "exponential smoothing carries level, trend and season, the network "
                             "learns the rest); otherwise log for positive data, then a seasonal "
                             "difference when the changes repeat each season, else a first "
                             "difference.")
    season: int = _num(0, 0, 1000, "Season length in points, for seasonal naive, MASE, "
                                    "Holt-Winters, SARIMA and seasonal differences. 0 detects it: "
                                    "from the dates (12 for monthly data, 7 for daily), or, "
                                    "without dates, from a clearly repeating pattern in the "
                                    "values. Set it to override, e.g. 365 for daily data with a "
                                    "yearly cycle; the training part must hold it twice.")
    tuning: str = _choice("off", TUNING,
                          "auto: when a direct forecast's horizon covers a whole season, each "
                          "network is also "
                          "trained with a window of two seasons and twice the units, once on "
                          "seasonal and once on first differences, and the variant whose "
                          "forecasts of the validation windows err least is kept (up to 3x the "
                          "training time); off: train only the settings as given.")
    # --- networks ---------------------------------------------------------------------------
    architecture: str = _choice(
        "lstm", ARCHITECTURE_CHOICES,
        "Recurrent network: lstm (vanilla, or stacked with layers > 1), gru, bilstm "
        "(bidirectional), cnn_lstm (1-D convolution over equal sub-windows, then LSTM; the window "
        "must split into them: 4, 6, 8, 9, 10, 12, ...), encoder_decoder (encoder LSTM, "
        "RepeatVector, decoder LSTM: a multi-step output sequence).")
    layers: int = _num(1, 1, 8, "Stacked recurrent layers (1 = vanilla LSTM; for encoder_decoder: "
                                "encoder depth).")
    units: int = _num(32, 1, 1024, "Units (memory cells) in each LSTM layer.")
    dropout: float = _num(0.0, 0.0, 0.9, "Dropout after each LSTM / MLP layer, while training only.")
    members: int = _num(3, 1, 20, "Ensemble size: each network is trained this many times from "
                                  "different seeds, side by side in one model, and forecasts "
                                  "with their combined forecast; the spread of the members "
                                  "shows how sure it is (1 = a single network).")
    combine: str = _choice("mean", COMBINE, "How an ensemble's members' forecasts are "
                                              "combined: their median or their mean.")
    es_weight: float = _num(0.5, 0.0, 1.0, "ES hybrid only: the weight of the exponential "
                                           "smoothing's own forecast in a network's forecast, "
                                           "(1 - w) x network + w x smoothing. 0.5 averages the "
                                           "two, which was steadier than either alone on the "
                                           "real series of docs/quality.md; 0 shows the network "
                                           "alone, 1 the smoothing alone.")
    mlp_layers: int = _num(1, 1, 8, "Hidden Dense ReLU layers of the MLP baseline.")
    mlp_units: int = _num(32, 1, 4096, "Units in each hidden layer of the MLP baseline.")
    # --- training ---------------------------------------------------------------------------
    epochs: int = _num(200, 1, 5000, "Maximum passes over the training windows.")
    batch_size: int = _num(16, 1, 4096, "Windows per gradient step.")
    learning_rate: float = _num(0.003, 1e-6, 1.0, "Adam's step size.")
    patience: int = _num(30, 0, 5000, "Stop after this many epochs without validation improvement "
                                      "and keep the best weights (0 = never stop early).")
    validation_fraction: float = _num(0.1, 0.0, 0.5, "Share of the latest training windows held "
                                                     "out to watch for over-fitting.")
    seed: int = _num(0, 0, 2**31 - 1, "Random seed: same config and seed, same result.")
    models: tuple[str, ...] = field(default=MODELS, metadata={
        "choices": MODELS, "help": "Which models to fit and compare."})
    intervals: tuple[float, ...] = field(default=(0.8, 0.95), metadata={
        "min": INTERVAL_RANGE[0], "max": INTERVAL_RANGE[1], "max_levels": MAX_INTERVAL_LEVELS,
        "help": "Prediction-interval levels, e.g. 0.8,0.95 (none: no intervals). Each model's "
                "band is calibrated on its own forecast errors from rolling origins at the end "
                "of the training part (conformal): an 80% band holds 80% of those errors at "
                "each horizon step."})

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, _validated(f, getattr(self, f.name)))
        if self.dataset == "csv" and not self.csv_path:
            raise ConfigError("dataset=csv needs a file: pass `csv_path` (CLI: --dataset PATH.csv).")

    # --- derived values ----------------------------------------------------------------------
    def test_count(self, n_points: int) -> int:
        """Number of held-out points for a series of ``n_points``."""
        if self.test_size >= 1:
            return int(self.test_size)
        return max(1, round(self.test_size * n_points))

    @property
    def neural_models(self) -> tuple[str, ...]:
        return tuple(m for m in self.models if m in NEURAL_MODELS)

    def replace(self, **changes: Any) -> ExperimentConfig:
        return replace(self, **changes)

    # --- wire formats -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["models"] = list(self.models)
        data["intervals"] = list(self.intervals)
        data["inputs"] = list(self.inputs)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExperimentConfig:
        if not isinstance(data, Mapping):
            raise ConfigError(f"A config must be a JSON object. Received: {type(data).__name__}")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(f"Unknown config key(s): {', '.join(unknown)}. "
                              f"Valid keys: {', '.join(known)}")
        return cls(**{k: _coerce(k, v, known[k].type) for k, v in data.items()})

    @classmethod
    def from_json(cls, text: str) -> ExperimentConfig:
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, TypeError) as err:
            raise ConfigError(f"The config is not valid JSON: {err}") from None
        return cls.from_dict(data)

    def to_query_params(self) -> dict[str, str]:
        """Only the settings that differ from the defaults, so shared links stay short."""
        default = ExperimentConfig()
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value != getattr(default, f.name):
                out[f.name] = (",".join(value) if f.name in ("models", "inputs") else
                               format_levels(value) if f.name == "intervals" else _fmt(value))
        return out

    @classmethod
    def from_query_params(cls, params: Mapping[str, str]) -> tuple[ExperimentConfig, list[str]]:
        """Build a config from URL parameters, repairing what it can.

        Returns the config and a list of human-readable notes: out-of-range numbers are clamped,
        unreadable values and unknown keys are ignored (default kept). Never raises for bad input.
        A link is anyone's text, so a note shows a value only through ``shown_value`` (short,
        inside a code span, no backticks or control characters) and never the rest of an error
        message that repeats it.
        """
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        notes: list[str] = []
        for key, raw in params.items():
            if key not in known:
                continue  # other apps' or Streamlit's own parameters
            f = known[key]
            echo = shown_value(key, raw)
            try:
                value = _coerce(key, raw, f.type)
            except ConfigError as err:
                notes.append(f"Ignored {echo} from the link: {_reason(err)}")
                continue
            if "min" in f.metadata and f.name != "intervals":
                lo, hi = f.metadata["min"], f.metadata["max"]
                clamped = min(max(value, lo), hi)
                if clamped != value:
                    notes.append(f"{echo} from the link is out of range [{lo}, {hi}]; "
                                 f"using {_fmt(clamped)}.")
                    value = type(value)(clamped)
            try:
                values[key] = _validated(f, value)
            except ConfigError as err:
                notes.append(f"Ignored {echo} from the link: {_reason(err)}")
        try:
            return cls(**values), notes
        except ConfigError as err:  # the one cross-field rule: dataset=csv needs csv_path
            notes.append(f"Ignored {shown_value('dataset', values.pop('dataset'))} from the "
                         f"link: {err}")
            return cls(**values), notes


SHOWN_CHARS = 40   # characters of a link's value repeated in a note


def shown_value(key: str, raw: Any) -> str:
    """``key=value`` as a markdown code span that is safe to show whatever the value holds.

    The value is cut to ``SHOWN_CHARS`` characters (saying how long it was), and backticks and
    control characters become spaces, so it cannot close the code span or break the line:
    ``shown_value("window", "x" * 500)`` gives the code span ``window=xxx…`` (40 x's), then
    "(500 characters)".
    """
    text = raw if isinstance(raw, str) else str(raw)
    cut = text[:SHOWN_CHARS]
    cut = "".join(" " if c == "`" or not c.isprintable() else c for c in cut)
    if len(text) > SHOWN_CHARS:
        return f"`{key}={cut}…` ({len(text):,} characters)"
    return f"`{key}={cut}`"


def _reason(err: ConfigError) -> str:
    """An error message without its ``Received: ...`` part (which repeats the raw value)."""
    return str(err).split(" Received:")[0]


def _validated(f, value: Any) -> Any:
    """One field's value checked against its type, choices and range (normalised: floats stay
    floats, models a tuple), independent of the other fields."""
    meta = f.metadata
    if f.name == "intervals":
        return _levels(value, meta)
    if f.name == "inputs":
        return _input_names(value, meta)
    if f.name == "models":
        if isinstance(value, str):
            value = tuple(m.strip() for m in value.split(",") if m.strip())
        value = tuple(value)
        unknown = [m for m in value if m not in MODELS]
        if unknown or not value:
            raise ConfigError(f"`models` must be a non-empty subset of {', '.join(MODELS)}. "
                              f"Received: models={','.join(value) or '(empty)'}")
        if len(set(value)) != len(value):
            raise ConfigError(f"`models` lists a model twice. Received: {','.join(value)}")
        return value
    _check_type(f.name, value, f.type)
    if "max_length" in meta:
        _check_text(f.name, value, meta["max_length"])
    if f.type == "float" and isinstance(value, int):
        value = float(value)   # 6 and 6.0 must serialise alike (to_json is a cache key)
    if "choices" in meta and value not in meta["choices"]:
        raise ConfigError(f"`{f.name}` must be one of {', '.join(meta['choices'])}. "
                          f"Received: {f.name}={value!r}")
    if "min" in meta and not meta["min"] <= value <= meta["max"]:
        raise ConfigError(f"`{f.name}` must be between {meta['min']} and {meta['max']}. "
                          f"Received: {f.name}={value}")
    if f.name == "test_size" and value >= 1 and value != int(value):
        raise ConfigError("`test_size` must be a whole number of points (>= 1) or a fraction "
                          f"below 1. Received: test_size={value}")
    return value


def field_help(name: str) -> str:
    """The help text of a config field, used for CLI help and UI tooltips."""
    return next(f.metadata.get("help", "") for f in fields(ExperimentConfig) if f.name == name)


def field_range(name: str) -> tuple[float, float]:
    f = next(f for f in fields(ExperimentConfig) if f.name == name)
    return f.metadata["min"], f.metadata["max"]


def field_default(name: str) -> Any:
    f = next(f for f in fields(ExperimentConfig) if f.name == name)
    return f.default if f.default is not MISSING else None


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_type(name: str, value: Any, type_name: str) -> None:
    ok = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool)
        and math.isfinite(value),
        "str": isinstance(value, str),
    }.get(type_name, True)
    if not ok:
        raise ConfigError(f"`{name}` must be {'a whole number' if type_name == 'int' else 'a finite number' if type_name == 'float' else 'text'}. "
                          f"Received: {name}={value!r}")


def _check_text(name: str, value: str, max_length: int) -> None:
    """Free text (a file or column name): bounded, one line, printable."""
    if len(value) > max_length:
        raise ConfigError(f"`{name}` must be at most {max_length} characters; shorten it. "
                          f"Received: {len(value):,} characters")
    if any(not c.isprintable() for c in value):
        raise ConfigError(f"`{name}` must be one line of printable text (no tabs, line breaks or "
                          f"control characters). Received: {name}={value[:SHOWN_CHARS]!r}")


def _input_names(value: Any, meta: Mapping[str, Any]) -> tuple[str, ...]:
    """Input column names: text, each once, no commas (a link and the CLI separate them by
    commas), at most the server's ``max_inputs``."""
    if isinstance(value, str):
        value = parse_names(value)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"`inputs` must be a list of column names such as price,promo. "
                          f"Received: {value!r}")
    names = tuple(v.strip() for v in value)
    if any(not n for n in names):
        raise ConfigError("`inputs` holds an empty column name. Received: "
                          f"inputs={','.join(names)[:SHOWN_CHARS]!r}")
    for name in names:
        _check_text("inputs", name, meta["max_length"])
    if len({n.lower() for n in names}) != len(names):
        raise ConfigError("`inputs` names a column twice: name each input once. Received: "
                          f"inputs={','.join(names)[:SHOWN_CHARS]!r}")
    limit = getattr(get_limits(), meta["limit"])
    if len(names) > limit:
        raise ConfigError(f"`inputs` may name at most {limit} columns on this server "
                          f"({env_var(meta['limit'])}); pick fewer. Received: {len(names)} "
                          "columns")
    return names


def parse_names(text: str) -> tuple[str, ...]:
    """``"price, promo"`` -> ("price", "promo"); ``""`` or ``"none"`` -> ()."""
    text = text.strip()
    if text.lower() in ("", "none"):
        return ()
    return tuple(part.strip() for part in text.split(","))


def format_levels(levels: tuple[float, ...]) -> str:
    """Interval levels as the CLI and links write them: ``0.8,0.95``, or ``none``."""
    return ",".join(_fmt(v) for v in levels) if levels else "none"


def parse_levels(text: str) -> tuple[float, ...]:
    """``"0.8, 0.95"`` -> (0.8, 0.95); ``"none"`` or ``""`` -> (). Unchecked: see ``_levels``."""
    text = text.strip()
    if text.lower() in ("none", ""):
        return ()
    out = []
    for part in text.split(","):
        try:
            out.append(float(part.strip()))
        except ValueError:
            # the value only after "Received:", which a link's note leaves out (``_reason``)
            raise ConfigError("`intervals` must be levels such as 0.8,0.95 (or none), and "
                              f"one of them is not a number. Received: "
                              f"intervals={text[:SHOWN_CHARS]!r}") from None
    return tuple(out)


def _levels(value: Any, meta: Mapping[str, Any]) -> tuple[float, ...]:
    """Interval levels checked: numbers strictly inside the allowed range, at most
    ``max_levels`` of them, each once; returned sorted."""
    if isinstance(value, str):
        value = parse_levels(value)
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"`intervals` must be a list of levels such as [0.8, 0.95]. "
                          f"Received: {value!r}")
    lo, hi = meta["min"], meta["max"]
    levels = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ConfigError(f"`intervals` must hold numbers such as 0.8 and 0.95. "
                              f"Received: {v!r}")
        if not lo <= v <= hi:
            hint = (f" (for {v:g}%, write {v / 100:g})" if 1 < v < 100
                    and lo <= v / 100 <= hi else "")
            raise ConfigError(f"Each interval level must be between {lo} and {hi}: the share "
                              f"of future values the band should hold{hint}. "
                              f"Received: intervals={_fmt(float(v))}")
        levels.append(float(v))
    if len(set(levels)) != len(levels):
        raise ConfigError(f"`intervals` lists a level twice. Received: "
                          f"{','.join(_fmt(v) for v in levels)}")
    if len(levels) > meta["max_levels"]:
        raise ConfigError(f"At most {meta['max_levels']} interval levels keep a chart readable. "
                          f"Received: {len(levels)} levels")
    return tuple(sorted(levels))


def _coerce(name: str, value: Any, type_name: str) -> Any:
    """Turn JSON / URL / CLI values into the field's type, refusing anything ambiguous."""
    if name == "intervals":
        if isinstance(value, str):
            return parse_levels(value)
        if isinstance(value, (list, tuple)):
            return tuple(value)
        raise ConfigError(f"`intervals` must be a list of levels such as [0.8, 0.95]. "
                          f"Received: {value!r}")
    if name == "inputs":
        if isinstance(value, str):
            return parse_names(value)
        if isinstance(value, (list, tuple)):
            return tuple(value)
        raise ConfigError(f"`inputs` must be a list of column names. Received: {value!r}")
    if name == "models":
        if isinstance(value, str):
            return tuple(m.strip() for m in value.split(",") if m.strip())
        if isinstance(value, (list, tuple)) and all(isinstance(m, str) for m in value):
            return tuple(value)
        raise ConfigError(f"`models` must be a list of names. Received: {value!r}")
    if type_name == "str":
        if not isinstance(value, str):
            raise ConfigError(f"`{name}` must be text. Received: {value!r}")
        return value
    if isinstance(value, bool):
        raise ConfigError(f"`{name}` must be a number. Received: {value!r}")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ConfigError(f"`{name}` must be a number. Received: {value!r}") from None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"`{name}` must be a finite number. Received: {value!r}")
    if type_name == "int":
        if value != int(value):
            raise ConfigError(f"`{name}` must be a whole number. Received: {value!r}")
        return int(value)
    return float(value)
