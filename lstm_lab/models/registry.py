"""Every model of the lab, declared once: adding a model is one file plus one line here.

Each ``ModelSpec`` says what a model is called, how it is drawn, what kind it is, how a run
builds it from its config, how many training points it needs, what it can do, and which class
restores its saved state. Config choices, the work budget, results, the store, the plots, the
CLI and the pages all read this table; nothing else lists models.

The order of ``REGISTRY`` is the order the lab lists models in (choices, the CLI's help, the
default config); a run fits them cheapest first (``cost``), so a Stop pressed during training
mostly cuts the slowest network short.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from lstm_lab.errors import ConfigError
from lstm_lab.limits import Limits
from lstm_lab.models.architectures import ARCHITECTURE_NAMES, mlp_label, network_label
from lstm_lab.models.base import Forecaster, RunConfig
from lstm_lab.models.classical import HoltWintersForecaster, SarimaForecaster
from lstm_lab.models.naive import NaiveForecaster
from lstm_lab.models.neural import LSTMForecaster, MLPForecaster
from lstm_lab.models.seasonal_naive import SeasonalNaiveForecaster

Kind = Literal["baseline", "classical", "network"]
# (config, season, limits, positive) -> an unfitted forecaster; positive: all data above zero
Factory = Callable[[RunConfig, int, Limits, bool], Forecaster]
# (config, season, lag) -> training points needed before the first forecast origin
MinPoints = Callable[[RunConfig, int, int], int]


@dataclass(frozen=True)
class Capabilities:
    """What a model can do beyond a point forecast of one step."""

    multi_step: bool = True
    intervals: bool = False


@dataclass(frozen=True)
class ModelSpec:
    """One model, declared once.

    ``label`` names it; ``label_for(config)``, when set, names it from the config instead (the
    recurrent network is called by its architecture: "GRU ×2"). ``colour`` and ``dash`` draw its
    line. ``factory`` is ``state_class.for_run``; ``state_class.from_state`` restores a saved
    fit. ``cost`` orders fitting (cheapest first).
    """

    key: str
    label: str
    colour: str
    kind: Kind
    state_class: type
    min_points: MinPoints
    cost: int
    dash: str = "solid"
    label_for: Callable[[RunConfig], str] | None = None
    capabilities: Capabilities = field(default_factory=Capabilities)

    @property
    def factory(self) -> Factory:
        return self.state_class.for_run


def _one(config: RunConfig, season: int, lag: int) -> int:
    return 1


def _a_season(config: RunConfig, season: int, lag: int) -> int:
    return season


def _two_seasons(config: RunConfig, season: int, lag: int) -> int:
    return 2 * season if season > 1 else 2


def _a_window(config: RunConfig, season: int, lag: int) -> int:
    return lag + config.window


REGISTRY: tuple[ModelSpec, ...] = (
    ModelSpec("lstm", "LSTM", "#d62728", "network", LSTMForecaster, _a_window, 3,
              label_for=network_label),
    ModelSpec("mlp", "MLP", "#1f77b4", "network", MLPForecaster, _a_window, 2,
              label_for=mlp_label),
    ModelSpec("naive", "Naive (last value)", "#8c8c8c", "baseline", NaiveForecaster, _one, 0,
              dash="dot"),
    ModelSpec("seasonal_naive", "Seasonal naive", "#2ca02c", "baseline", SeasonalNaiveForecaster,
              _a_season, 0, dash="dash"),
    ModelSpec("holt_winters", "Holt-Winters", "#9467bd", "classical", HoltWintersForecaster,
              _two_seasons, 1, dash="dashdot"),
    ModelSpec("sarima", "SARIMA", "#e377c2", "classical", SarimaForecaster, _two_seasons, 1,
              dash="longdash"),
)

SPECS: dict[str, ModelSpec] = {spec.key: spec for spec in REGISTRY}
MODELS: tuple[str, ...] = tuple(SPECS)
NEURAL_MODELS: tuple[str, ...] = tuple(s.key for s in REGISTRY if s.kind == "network")
FIT_ORDER: tuple[str, ...] = tuple(s.key for s in sorted(REGISTRY, key=lambda s: s.cost))
MODEL_LABELS: dict[str, str] = {s.key: s.label for s in REGISTRY}
MODEL_COLOURS: dict[str, str] = {s.key: s.colour for s in REGISTRY}
ARCHITECTURE_CHOICES: tuple[str, ...] = ARCHITECTURE_NAMES


def get_spec(key: str) -> ModelSpec:
    """The spec of model ``key``; ConfigError listing the models otherwise."""
    try:
        return SPECS[key]
    except KeyError:
        raise ConfigError(f"Unknown model {key!r}. Models: {', '.join(SPECS)}.") from None


def model_label(key: str, config: RunConfig | None = None) -> str:
    """A model's display name; with a config, the recurrent network is named by its
    architecture and depth ("GRU ×2", not "LSTM"). Unknown keys are shown as they are."""
    spec = SPECS.get(key)
    if spec is None:
        return key
    if config is not None and spec.label_for is not None:
        return spec.label_for(config)
    return spec.label


def by_kind(*kinds: Kind) -> tuple[str, ...]:
    """The models of these kinds, in registry order."""
    return tuple(s.key for s in REGISTRY if s.kind in kinds)


def fitting_order(models: Any) -> list[str]:
    """``models`` (keys) in the order a run fits them."""
    return [key for key in FIT_ORDER if key in models]
