"""What each layer outputs for one example batch: its shape, its numbers and a small heatmap.

Lesson 4 looks inside the AWD-LSTM and the tabular model; here the Model pane can show, layer
by layer, what the activations look like (are they all near zero? exploding?) for a real batch.
Hooks are how torch lets us watch a forward pass; every one put on is taken off again, whatever
happens, because a forgotten hook would run on every later forward pass (training included).
"""

from dataclasses import dataclass

import numpy as np

from l4tui.inspect.parameters import TensorStats, first_tensor, tensor_stats

HOOK_DICTS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")


@dataclass
class Activation:
    name: str  # qualified module name, "" for the model itself
    type_name: str
    call: int  # 0 for the module's first call in the pass, 1 for its second, ...
    output_shape: tuple[int, ...] | None  # None when the output holds no tensor
    stats: TensorStats | None
    heatmap: np.ndarray | None  # see heatmap()


@dataclass
class Capture:
    activations: list[Activation]  # in call order: a module comes before the modules it calls
    output: object  # what the model returned


def capture_activations(model, inputs: tuple, modules=None) -> Capture:
    """Run `inputs` through `model` once (eval mode, no gradients) and describe every module's
    output, or only those of the qualified names in `modules`.

    A module called several times in the pass (the classifier's LSTMs run once per bptt chunk)
    gives one Activation per call. Modules that never ran (the LM's `encoder`: EmbeddingDropout
    uses its weight without calling it) give none. The model is left as found: hooks removed,
    train/eval mode restored, hidden state reset.
    """
    import torch

    targets = _modules_to_watch(model, modules)
    activations: list[Activation] = []
    calls: dict[str, int] = {}  # how many times each module has been called so far
    open_calls: list[int] = []  # indices into activations of the calls not finished yet
    handles = []
    was_training = model.training
    try:
        for name, module in targets:
            handles.append(module.register_forward_pre_hook(_on_call(name, activations, calls, open_calls)))
            handles.append(module.register_forward_hook(_on_output(activations, open_calls)))
        _reset(model)
        model.eval()
        with torch.no_grad():
            output = model(*inputs)
    finally:
        for handle in handles:  # always, even when forward raised
            handle.remove()
        model.train(was_training)
        _reset(model)
    return Capture(activations, output)


def _modules_to_watch(model, names):
    """(name, module) pairs, each module once; unknown names are refused before any hook is on."""
    named = list(model.named_modules())
    if names is None:
        return named
    by_name = dict(model.named_modules(remove_duplicate=False))
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise KeyError(f"no module {', '.join(map(repr, unknown))} in the model")
    seen, chosen = set(), []
    for name in names:
        if id(by_name[name]) not in seen:
            seen.add(id(by_name[name]))
            chosen.append((name, by_name[name]))
    return chosen


def _on_call(name, activations, calls, open_calls):
    """A pre-hook: note the call when it starts, so callers come before what they call."""
    def hook(module, args):
        call = sum(1 for a in activations if a.name == name)
        open_calls.append(len(activations))
        activations.append(Activation(name, type(module).__name__, call, None, None, None))
    return hook


def _on_output(activations, open_calls):
    """A forward hook: describe the output right away, before an in-place ReLU changes it."""
    def hook(module, args, output):
        record = activations[open_calls.pop()]
        tensor = first_tensor(output)
        if tensor is not None:
            record.output_shape = tuple(tensor.shape)
            record.stats = tensor_stats(tensor)
            record.heatmap = heatmap(tensor)
    return hook


def _reset(model):
    if callable(getattr(model, "reset", None)):
        model.reset()


def any_hooks_left(model) -> bool:
    """True if any module of `model` still has a forward, forward-pre, backward or backward-pre
    hook (full backward hooks live in `_backward_hooks` too)."""
    return any(getattr(module, attr, None) for module in model.modules() for attr in HOOK_DICTS)


# ---- heatmaps -----------------------------------------------------------------------------------

def heatmap(tensor, max_rows: int = 32, max_cols: int = 64) -> np.ndarray:
    """A small 2-D float array summarising an activation, to draw as a heatmap.

    Orientation, row by column:
      (batch, time, hidden), an LSTM's output: the first example's hidden units (rows) over its
          time steps (columns), so a unit's life through the sequence reads left to right;
      (batch, channels, ...) with 4 or more dimensions: the first example's channels (rows) over
          all its other positions, flattened (columns);
      (batch, features): one row per example of the batch, the features as columns;
      (n,): one row; a single number: a 1x1 array.
    When there are more than `max_rows` rows or `max_cols` columns, neighbouring ones are
    averaged in blocks of (nearly) equal size. An empty tensor gives a (0, 0) array.
    """
    values = tensor.detach().cpu().double().numpy()
    if values.size == 0:
        return np.zeros((0, 0))
    grid = _as_grid(values)
    return _shrink(_shrink(grid, max_rows, axis=0), max_cols, axis=1)


def _as_grid(values: np.ndarray) -> np.ndarray:
    if values.ndim == 0:
        return values.reshape(1, 1)
    if values.ndim == 1:
        return values[None, :]
    if values.ndim == 2:
        return values
    if values.ndim == 3:
        return values[0].T  # (time, hidden) -> (hidden, time)
    return values[0].reshape(values.shape[1], -1)


def _shrink(grid: np.ndarray, limit: int, axis: int) -> np.ndarray:
    """Average blocks of neighbouring rows (axis 0) or columns (axis 1) down to `limit`."""
    size = grid.shape[axis]
    if size <= limit:
        return grid
    starts = np.arange(limit) * size // limit
    counts = np.diff(np.append(starts, size))
    sums = np.add.reduceat(grid, starts, axis=axis)
    return sums / (counts[:, None] if axis == 0 else counts[None, :])
