"""A model's parameters up close: their numbers (mean, spread, histogram), which ones are tied,
which layer group each layer is in, and how big one batch's gradients are, layer by layer.

The lesson trains the AWD-LSTM with gradual unfreezing (`freeze_to`) and discriminative learning
rates (one per layer group); these functions make both visible: a frozen layer's gradient is
exactly 0, and every layer is shown with its group. Plain functions: the Model pane draws them.
torch is imported inside the functions, so importing this module stays cheap.
"""

import math
from dataclasses import dataclass, field

LM_NAMES = {"lm"}
CLASSIFICATION_NAMES = {"classifier", "tabular"}
RATING_NAMES = {"collab", "collab-nn"}
MAX_RATING = 5.0  # MovieLens ratings run from 1 to 5; targets are drawn from 0..5


# ---- the numbers in a tensor --------------------------------------------------------------------

@dataclass
class TensorStats:
    """What a tensor's numbers look like, for a weight or an activation.

    `std` is the population standard deviation (correction 0, numpy's default, *not* torch's
    unbiased default): it describes the numbers that are there rather than estimating a larger
    population, and it is 0.0, not NaN, for a single number.
    mean, std, min, max and the histogram are over the finite numbers; `nonfinite` counts the
    NaNs and infinities (a diverged model has some). They are None when there is no finite number.
    `near_zero_share` is over all `numel` numbers. `edges` has len(counts) + 1 numbers, and is
    empty when there is no finite number to bin.
    """

    shape: tuple[int, ...]
    numel: int
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    near_zero_share: float  # share of the numbers with |x| < near_zero
    counts: list[int]  # the histogram, `bins` bins from min to max (max falls in the last one)
    edges: list[float]
    nonfinite: int = 0


def stat_text(value: float | None) -> str:
    """A statistic as the Parameters tab shows it: 4 significant figures, `-` when there is none."""
    if value is None:
        return "-"
    return f"{value:.4g}"


def _as_float(tensor):
    """Detached, flat, on the CPU, and floating point: int ids and bool masks are numbers too."""
    import torch

    flat = tensor.detach().reshape(-1).cpu()
    if flat.dtype == torch.float64:
        return flat
    # int64 ids beyond 2**24 would lose digits in float32
    return flat.double() if not flat.is_floating_point() else flat.float()


def tensor_stats(tensor, bins: int = 20, near_zero: float = 1e-3) -> TensorStats:
    """Summary numbers and a histogram of `tensor`; see TensorStats for the choices made."""
    import torch

    flat = _as_float(tensor)
    shape, numel = tuple(tensor.shape), flat.numel()
    # count_nonzero, and the finite numbers picked out only when there is a NaN or an inf (the
    # sum says so: it is one whenever a number is): the lesson LM's 24M-number embedding takes
    # 0.16 s instead of 0.35 (bench/parameter_stats.py; a bool sum and a masked copy were most of it).
    near = int(torch.count_nonzero(flat.abs() < near_zero)) / numel if numel else 0.0
    finite = flat if bool(torch.isfinite(flat.sum())) else flat[torch.isfinite(flat)]
    nonfinite = numel - finite.numel()
    if finite.numel() == 0:
        return TensorStats(shape, numel, None, None, None, None, near, [0] * bins, [], nonfinite)
    low, high = float(finite.min()), float(finite.max())
    mean, std = float(finite.mean()), float(finite.std(correction=0))
    return TensorStats(shape, numel, mean, std, low, high, near, *_histogram(finite, bins, low, high),
                       nonfinite)


def _histogram(finite, bins, low, high):
    """Counts and edges of `bins` equal bins; one number alone sits in the middle of a unit range."""
    import torch

    if low == high:
        low, high = low - 0.5, high + 0.5
    counts = torch.histc(finite, bins=bins, min=low, max=high)
    edges = torch.linspace(low, high, bins + 1, dtype=torch.float64)
    return [int(c) for c in counts.tolist()], edges.tolist()


def first_tensor(output):
    """The first tensor in a module's output, depth first (as summary.shape_text finds it): the
    output itself, the logits of a (logits, ...) tuple, the outputs of an LSTM's (outputs, state),
    the first value of a dict (a user's model may return {"logits": ..., "hidden": ...})."""
    if hasattr(output, "shape"):
        return output
    if isinstance(output, dict):
        output = list(output.values())
    if isinstance(output, (tuple, list)):
        for item in output:
            found = first_tensor(item)
            if found is not None:
                return found
    return None


# ---- parameters, tied parameters and layer groups -------------------------------------------------

@dataclass
class ParamInfo:
    name: str  # its name in its module: "weight"
    qualified: str  # its name in the model: "1.decoder.weight"
    stats: TensorStats
    requires_grad: bool  # False: frozen, the optimizer leaves it alone
    tied_to: list[str] = field(default_factory=list)  # the other names of the very same tensor


def _named_modules(model) -> dict:
    """Every name of every module; a module reachable two ways (the LM's embedding is also
    `encoder_dp.emb`) is there under both, as the summary table lists it."""
    return dict(model.named_modules(remove_duplicate=False))


def _names_by_tensor(model) -> dict[int, list[str]]:
    """id(parameter) -> every qualified name it is reachable by."""
    names: dict[int, list[str]] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        names.setdefault(id(param), []).append(name)
    return names


def module_parameters(model, module_name: str = "", bins: int = 20, recurse: bool = False) -> list[ParamInfo]:
    """The parameters `model`'s module `module_name` holds itself (not its children's; with
    `recurse`, its children's too, named from the module down: `u_weight.weight`), each with its
    numbers, whether it trains, and its other names if it is tied. "" is the model itself."""
    modules = _named_modules(model)
    if module_name not in modules:
        raise KeyError(f"no module {module_name!r} in the model")
    names = _names_by_tensor(model)
    prefix = f"{module_name}." if module_name else ""
    infos = []
    for name, param in modules[module_name].named_parameters(recurse=recurse):
        qualified = prefix + name
        tied = [other for other in names.get(id(param), []) if other != qualified]
        infos.append(ParamInfo(name, qualified, tensor_stats(param, bins=bins), param.requires_grad, tied))
    return infos


def tied_parameters(model) -> list[list[str]]:
    """Groups of qualified names that are one and the same tensor, in the model's order.

    Weight tying in the language model shows up as one group of *three* names: torch reports
    the embedding's weight under `0.encoder.weight`, again under `0.encoder_dp.emb.weight`
    (EmbeddingDropout keeps the nn.Embedding as a submodule, `emb`), and under
    `1.decoder.weight` (the tied decoder). WeightDropout ties nothing: its `weight_hh_l0_raw`
    is the only Parameter for each LSTM's hidden-to-hidden weight, and the LSTM holds a plain
    tensor copy of it, made anew each forward pass, which torch does not list as a parameter.
    Tied means the same Parameter object (what torch's `remove_duplicate` goes by); two
    Parameters that happen to share storage are not looked for.
    """
    return [group for group in _names_by_tensor(model).values() if len(group) > 1]


def layer_groups_of(model) -> dict[str, int]:
    """Qualified module name -> its layer group, for models with `layer_groups()` (the AWD-LSTM
    language model and classifier); {} for the others.

    Layer groups are what `freeze_to(n)` freezes (the groups before n) and what discriminative
    learning rates give one rate each. A group's modules and everything inside them are listed;
    containers that span groups (the model itself, the encoder, `rnns`) and modules in no group
    (the input dropout) are not.
    """
    if not callable(getattr(model, "layer_groups", None)):
        return {}
    group_of_module = {}
    for index, group in enumerate(model.layer_groups()):
        for member in group:
            for sub in member.modules():
                group_of_module.setdefault(id(sub), index)
    return {name: group_of_module[id(module)] for name, module in _named_modules(model).items()
            if id(module) in group_of_module}


# ---- gradients of one batch -------------------------------------------------------------------------

@dataclass
class GradNorm:
    name: str  # qualified parameter name
    module: str  # qualified name of the module that holds it ("" for the model)
    norm: float  # L2 norm of its gradient; exactly 0.0 when frozen or when it got no gradient
    requires_grad: bool


@dataclass
class ModuleGradNorm:
    module: str
    norm: float  # L2 norm over all the module's own parameters' gradients together
    frozen: bool  # none of its own parameters trains


@dataclass
class Gradients:
    params: list[GradNorm]  # every name of every parameter, tied ones under each of their names
    modules: list[ModuleGradNorm]  # the modules that hold parameters themselves, in model order
    loss: float


def flat_cross_entropy(logits, target):
    """The language model's loss: every position of every sequence is one next-word prediction.
    (bs, seq_len, vocab), (bs, seq_len) -> a number."""
    import torch.nn.functional as F

    return F.cross_entropy(logits.flatten(0, 1), target.flatten())


def default_loss(entry_name: str):
    """The lesson's loss for each model: cross entropy for words and classes, MSE for ratings
    (and for a user's model, whose output has no known meaning)."""
    import torch.nn.functional as F

    if entry_name in LM_NAMES:
        return flat_cross_entropy
    if entry_name in CLASSIFICATION_NAMES:
        return F.cross_entropy
    return F.mse_loss


def _last_linear(model):
    import torch.nn as nn

    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return linears[-1]


def default_target(entry_name: str, model, example: tuple):
    """A made-up target for the example batch, of the kind the lesson trains each model on:
    lm: a next-word id per position; classifier and tabular: a class per example; collab and
    collab-nn: a rating in 0..5. A user's model gets zeros shaped like its output (found with one
    forward pass). Drawn from a fixed seed, so the same model gives the same target."""
    import torch

    generator = torch.Generator().manual_seed(0)
    first = example[0]
    bs = first.shape[0]
    if entry_name in LM_NAMES:
        vocab = _last_linear(model).out_features  # the decoder: one score per word of the vocab
        return torch.randint(0, vocab, tuple(first.shape[:2]), generator=generator)
    if entry_name in CLASSIFICATION_NAMES:
        n_classes = _last_linear(model).out_features
        return torch.randint(0, n_classes, (bs,), generator=generator)
    shape = _output_shape(model, example)
    if entry_name in RATING_NAMES:
        return torch.rand(shape, generator=generator) * MAX_RATING
    return torch.zeros(shape)


def _output_shape(model, example):
    """The shape of the model's output for `example` (eval mode, no gradients, state reset)."""
    import torch

    was_training = model.training
    _reset(model)
    try:
        model.eval()
        with torch.no_grad():
            return tuple(first_tensor(model(*example)).shape)
    finally:
        model.train(was_training)
        _reset(model)


def _reset(model):
    """Forget an RNN's hidden state (the AWD-LSTM carries it from batch to batch)."""
    if callable(getattr(model, "reset", None)):
        model.reset()


def gradient_norms(model, example: tuple, target, loss_func) -> Gradients:
    """One forward and backward pass of `example` in train mode; the size of each gradient.

    The model is left as it was found: train/eval mode, the parameters' .grad (None, usually),
    the buffers (BatchNorm's running statistics, which a train-mode pass would move) and, by
    reset(), a fresh hidden state. No optimizer step: the weights do not change.
    """
    import torch

    params = list(model.named_parameters(remove_duplicate=False))
    saved_grads = {id(p): p.grad for _, p in params}
    saved_buffers = [(b, b.detach().clone()) for b in model.buffers()]
    was_training = model.training
    try:
        for _, param in params:
            param.grad = None
        _reset(model)
        model.train()
        with torch.enable_grad():
            loss = loss_func(first_tensor(model(*example)), target)
            if loss.requires_grad:  # with every parameter frozen there is nothing to go back to
                loss.backward()
        norms = [GradNorm(name, name.rpartition(".")[0], _grad_norm(param), param.requires_grad)
                 for name, param in params]
        return Gradients(norms, _by_module(norms), float(loss.detach()))
    finally:
        model.train(was_training)
        _reset(model)
        for _, param in params:
            param.grad = saved_grads[id(param)]
        with torch.no_grad():
            for buffer, saved in saved_buffers:
                buffer.copy_(saved)


def _grad_norm(param) -> float:
    if not param.requires_grad or param.grad is None:
        return 0.0
    return float(param.grad.detach().double().norm(2))


def _by_module(norms: list[GradNorm]) -> list[ModuleGradNorm]:
    """Each module's own parameters' norms, combined: sqrt of the sum of their squares."""
    grouped: dict[str, list[GradNorm]] = {}
    for norm in norms:
        grouped.setdefault(norm.module, []).append(norm)
    return [ModuleGradNorm(module, math.sqrt(sum(n.norm ** 2 for n in group)),
                           not any(n.requires_grad for n in group))
            for module, group in grouped.items()]
