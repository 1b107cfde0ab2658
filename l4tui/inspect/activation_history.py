"""A run's recorded activation statistics as arrays: fastai's "colorful dimension".

A run started with `activation_stats_every = N` writes an "activations" event every N training
batches (l4tui/train/activation_stats.py says what each figure means and how the histogram's bins
lie). `read_activation_history(run_dir)` turns them into, per layer, mean / std / near-zero
series over the recorded steps and a histogram array hist[bins, steps]: drawn with
log(1 + count) as the colour (`colorful(layer)`), bins going up and steps going right, it is
fastai's heat map of how each layer's activations spread, collapse or blow up as training goes.

`dead_or_exploding(history)` names the layers to look at:
    dead        the share of outputs near zero (|x| <= 1e-3) stayed at or above DEAD_SHARE = 0.9
                over the last DEAD_RECORDS = 3 records (all of them when fewer): a ReLU whose
                inputs went negative for good, a layer that collapsed to zero.
    exploding   the last std is above EXPLODING_STD = 10, or not a number at all (inf, NaN):
                our layers work on a scale of about 1 (BatchNorm'd, tanh-bounded LSTM outputs,
                embeddings of std 0.01 to 1), so ten times that is growth without bound (the
                histogram's outer bins fill up: its last edges are at |x| = 56).
"""

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from l4tui.runs.events import EventReader

DEAD_SHARE = 0.9
DEAD_RECORDS = 3
EXPLODING_STD = 10.0


@dataclass
class LayerHistory:
    """One layer's figures over the recorded steps; NaN (and a NaN column of hist) where a record
    lacks the layer."""

    name: str
    kind: str  # the module's class: Linear, LSTM, ReLU ...
    mean: np.ndarray  # (steps,)
    std: np.ndarray  # (steps,)
    near_zero: np.ndarray  # (steps,) share of outputs in the middle bin (|x| <= 1e-3)
    hist: np.ndarray  # (bins, steps) counts, the lowest bin first


@dataclass
class ActivationHistory:
    steps: np.ndarray  # (steps,) the training batches done at each record: the batch events' `iter`
    epochs: np.ndarray  # (steps,) the epoch of each record
    bins: dict = field(default_factory=dict)  # the bins' description, as recorded (see bin_edges)
    layers: dict[str, LayerHistory] = field(default_factory=dict)  # by name, in the model's order

    @property
    def names(self) -> list[str]:
        return list(self.layers)

    @property
    def bin_edges(self) -> np.ndarray:
        return bin_edges(self.bins)

    def colorful(self, name: str) -> np.ndarray:
        """log(1 + count), (bins, steps): what fastai's colorful-dimension plot shows."""
        return np.log1p(self.layers[name].hist)


def bin_edges(spec: dict) -> np.ndarray:
    """The n + 1 edges, in units of x, of the bins of a recorded histogram spec ("signed-log":
    -inf, then -smallest * 10**(k / per_decade) for k from (n - 3) / 2 down to 0, the same
    upwards, then +inf). Bins are symmetric in |x|: the middle one holds |x| <= smallest, the
    k-th outwards smallest * 10**((k-1) / per_decade) < |x| <= smallest * 10**(k / per_decade),
    the outermost ones everything beyond (infinities, and NaN in the top one)."""
    if not spec or spec.get("kind") != "signed-log":
        return np.zeros(0)
    side = spec["smallest"] * 10.0 ** (np.arange((int(spec["n"]) - 1) // 2) / spec["per_decade"])
    return np.concatenate([[-np.inf], -side[::-1], side, [np.inf]])


def read_activation_history(run_dir) -> ActivationHistory:
    """The run's "activations" events as arrays. A torn last line (the run is writing it) is left
    for later, as every reader of the log does. When the run was resumed, the records of the
    steps it trained again replace the ones from before its stop."""
    events = EventReader(Path(run_dir)).read_new()
    records = []
    for event in events:
        if event.get("type") != "activations" or not isinstance(event.get("layers"), list):
            continue
        step = event.get("iter")
        if not isinstance(step, int):
            continue
        while records and records[-1]["iter"] >= step:  # resumed from an earlier checkpoint
            records.pop()
        records.append(event)
    n_steps = len(records)
    bins = next((r["bins"] for r in reversed(records) if isinstance(r.get("bins"), dict)), {})
    n_bins = int(bins.get("n") or max((len(layer.get("hist") or []) for r in records for layer in r["layers"]),
                                      default=0))
    history = ActivationHistory(steps=np.array([r["iter"] for r in records], dtype=np.int64),
                                epochs=np.array([r.get("epoch", 0) for r in records], dtype=np.int64), bins=bins)
    for column, record in enumerate(records):
        for layer in record["layers"]:
            name = layer.get("name")
            if not isinstance(name, str):
                continue
            if name not in history.layers:
                history.layers[name] = LayerHistory(
                    name, layer.get("kind", ""), *(np.full(n_steps, np.nan) for _ in range(3)),
                    np.full((n_bins, n_steps), np.nan))
            entry = history.layers[name]
            entry.mean[column], entry.std[column], entry.near_zero[column] = (
                _number(layer.get("mean")), _number(layer.get("std")), _number(layer.get("near_zero")))
            hist = layer.get("hist")
            if isinstance(hist, list) and len(hist) == n_bins:
                try:
                    entry.hist[:, column] = hist
                except (TypeError, ValueError):  # not numbers: the column stays NaN
                    pass
    return history


def _number(value) -> float:
    return float(value) if isinstance(value, (int, float)) else math.nan


def dead_or_exploding(history: ActivationHistory) -> list[tuple[str, str]]:
    """(layer, what) for each layer that looks dead or exploding (see the module's docstring for
    the thresholds); what is a short sentence with the figures."""
    found = []
    for name, layer in history.layers.items():
        present = ~np.isnan(layer.near_zero)  # the records that hold this layer (its std may be NaN there)
        if not present.any():
            continue
        near = layer.near_zero[present][-DEAD_RECORDS:]
        if np.all(near >= DEAD_SHARE):
            found.append((name, f"dead: {100 * near.min():.0f}% or more of its outputs near zero "
                                f"over the last {len(near)} records"))
        stds = layer.std[present]
        if not np.isfinite(stds[-1]) or stds[-1] > EXPLODING_STD:
            found.append((name, f"exploding: std {stds[-1]:.4g} at the last record (from {stds[0]:.4g})"))
    return found
