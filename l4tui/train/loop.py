"""The training loop: fastai's fit_one_cycle, in stages, with discriminative learning rates.

A recipe prepares a `Task` (model, batches, loss, metrics) and a list of `Stage`s; `fit` runs
them. One stage is one `fit_one_cycle` call of the lesson: which layer groups train
(`freeze_to`), for how many epochs, with which learning rate — a number, or `(lo, hi)` spread
geometrically over the layer groups as fastai's `slice(lo, hi)` (so `(lr / 2.6**4, lr)` gives
2.6x between neighbouring groups of the AWD-LSTM's five).

Inside a stage: AdamW with decoupled weight decay, fastai's one-cycle schedule (lr warms up then
anneals; momentum moves the other way), optional gradient clipping, optional AR/TAR for the
AWD-LSTM. Events go to the run's log: throttled batch events, an event per epoch, and with
`Task.activation_stats` an "activations" event every N training batches (activation_stats.py).
"""

import contextlib
import math
import time
from dataclasses import dataclass, field

import torch

from l4tui.train.schedule import one_cycle

BATCH_EVENT_EVERY_S = 0.25  # batch events are throttled; epoch events are always written


class StopTraining(Exception):
    """Raised inside the loop when the run was asked to stop (SIGTERM)."""


class TrainingError(Exception):
    """Training cannot go on (a NaN loss, say); the message says what happened and what to try."""


@dataclass
class Stage:
    epochs: int
    lr: float | tuple[float, float]
    freeze_to: int | None = None  # None: leave the model's trainable groups as they are
    name: str = ""


@dataclass
class Task:
    """Everything a recipe prepares for the loop."""

    model: object
    loss_func: object  # (preds, target) -> loss
    train: object  # a batch source (l4tui.train.batches): n_batches(epoch), epoch_batches(epoch)
    valid: object
    stages: list[Stage]
    metrics: dict = field(default_factory=dict)  # name -> (preds, target) -> per-batch mean
    derive: object = None  # results -> results with derived figures (rmse from mse, perplexity ...)
    groups: list | None = None  # layer groups (lists of modules); None: the whole model is one
    moms: tuple[float, float, float] = (0.95, 0.85, 0.95)
    div: float = 25.0  # the one cycle starts at lr/div ...
    pct_start: float = 0.25  # ... and peaks after this share of a stage's steps
    wd: float = 0.01
    clip: float | None = None
    regularizer: object = None  # an RNNRegularizer for the AWD-LSTM, or None
    start: dict = field(default_factory=dict)  # figures for the start event (sizes, baselines)
    extras: dict = field(default_factory=dict)  # saved with checkpoints (vocab, id maps ...)
    best_metric: str = "valid_loss"  # lower is better unless listed in HIGHER_IS_BETTER
    fp16: bool = False  # mixed precision (float16 autocast + gradient scaling); CUDA only
    cpu_bf16: bool = False  # bfloat16 autocast of the matrix work on the CPU (see `precision`); CPU only
    wrap: object = None  # DistributedDataParallel for runs over several processes (see worker.py)
    device_stats: object = dict  # () -> figures for each batch event (GPU memory on CUDA; see device.py)
    activation_stats: object = None  # an ActivationStats (activation_stats.py): "activations" events; None: off


HIGHER_IS_BETTER = {"accuracy", "valid_accuracy"}


def lrs_for_groups(lr, n_groups: int) -> list[float]:
    """A learning rate per layer group: one number for all, or (lo, hi) spread geometrically."""
    if isinstance(lr, (tuple, list)):
        lo, hi = lr
        if n_groups == 1:
            return [hi]
        step = (hi / lo) ** (1 / (n_groups - 1))
        return [lo * step ** i for i in range(n_groups)]
    return [float(lr)] * n_groups


def param_groups(model, groups) -> list[list]:
    """The parameters of each layer group, each tensor once (the LM's tied weight included)."""
    if not groups:
        return [list(model.parameters())]
    seen, result = set(), []
    for group in groups:
        params = []
        for module in group:
            for param in module.parameters():
                if id(param) not in seen:
                    seen.add(id(param))
                    params.append(param)
        result.append(params)
    return result


def make_optimizer(task: Task):
    """AdamW over the layer groups, fastai's defaults: betas=(mom, 0.99), eps=1e-5, decoupled wd.

    On the CPU and CUDA it is torch's fused AdamW: the same update, one pass over each weight
    instead of one per operation of the formula (on the CPU the lesson language model's optimizer
    step takes about a quarter of the time: docs/training.md, "Speed of the language model")."""
    groups = param_groups(task.model, task.groups)
    params = [param for params in groups for param in params]
    fused = bool(params) and all(param.device.type in ("cpu", "cuda") and param.is_floating_point()
                                 for param in params)
    return torch.optim.AdamW([{"params": params} for params in groups], lr=1e-3, betas=(task.moms[0], 0.99),
                             eps=1e-5, weight_decay=task.wd, fused=fused or None)


def precision(task: Task, device_type: str) -> tuple[str, object] | None:
    """The autocast the task trains under on `device_type` ("cuda", "cpu"), as (device_type, dtype),
    or None for plain float32.

    CUDA with `fp16`: float16 autocast, with a gradient scaler (small float16 gradients would round
    to zero). The CPU with `cpu_bf16`: bfloat16 autocast (no scaler: bfloat16 has float32's range).
    On CPUs with AMX or AVX512-BF16 the LSTMs and matrix products then run about twice as fast, but
    the numbers differ a little from float32's, so it is the user's choice, off by default.
    """
    if device_type == "cuda" and task.fp16:
        return ("cuda", torch.float16)
    if device_type == "cpu" and task.cpu_bf16:
        return ("cpu", torch.bfloat16)
    return None


def _autocast(chosen):
    """A context that runs the forward pass (and loss) under `chosen` (from `precision`)."""
    if chosen is None:
        return contextlib.nullcontext()
    return torch.autocast(chosen[0], dtype=chosen[1])


def fit(task: Task, events, should_stop=lambda: False, on_epoch_end=None, resume=None) -> dict:
    """Run the task's stages. `resume` = {"stage", "epoch", "optimizer"} continues where a
    checkpoint left off. `on_epoch_end(stage_index, epoch_in_stage, results, optimizer)` is
    called after each epoch (checkpoints). Returns the last epoch's results."""
    results, global_epoch = {}, 0
    optimizer = make_optimizer(task)
    total_epochs = sum(stage.epochs for stage in task.stages)
    for stage_index, stage in enumerate(task.stages):
        first_epoch = 0
        if resume is not None:
            if stage_index < resume["stage"] or (stage_index == resume["stage"]
                                                 and resume["epoch"] + 1 >= stage.epochs):
                global_epoch += stage.epochs
                continue
            if stage_index == resume["stage"]:
                first_epoch = resume["epoch"] + 1
                global_epoch += first_epoch
        if stage.freeze_to is not None:
            task.model.freeze_to(stage.freeze_to)
        if resume is not None and stage_index == resume["stage"] and resume.get("optimizer"):
            optimizer.load_state_dict(resume["optimizer"])
        elif first_epoch == 0:
            optimizer = make_optimizer(task)  # each fit_one_cycle starts with a fresh optimizer, as fastai's
        results = _fit_stage(task, stage, stage_index, optimizer, events, should_stop, on_epoch_end,
                             first_epoch, global_epoch, total_epochs)
        global_epoch += stage.epochs - first_epoch
        resume = None
    return results


def _fit_stage(task, stage, stage_index, optimizer, events, should_stop, on_epoch_end, first_epoch,
               global_epoch, total_epochs):
    model = task.model
    lr_maxes = lrs_for_groups(stage.lr, len(optimizer.param_groups))
    # Over several processes the forward pass goes through DistributedDataParallel, built anew for
    # each stage: it must see which parameters train after this stage's freeze_to.
    forward = task.wrap(model) if task.wrap else model
    # Mixed precision: float16 autocast with a gradient scaler on CUDA, bfloat16 autocast on the CPU
    # when asked for (cpu_bf16); else float32.
    chosen = precision(task, next(model.parameters()).device.type)
    scaler = torch.amp.GradScaler("cuda", enabled=chosen is not None and chosen[1] == torch.float16)
    # The schedule's length; the LM's jittered windows make each epoch's count vary a little.
    iters_per_epoch = max(1, task.train.n_batches(global_epoch))
    total_iters = stage.epochs * iters_per_epoch
    results = {}
    last_event, smooth_loss = 0.0, None
    raw_sum, raw_count = 0.0, 0  # the raw batch losses since the last batch event (their mean is logged)
    for epoch in range(first_epoch, stage.epochs):
        model.train()
        _reset(model)
        epoch_start, n_items, loss_total, batch = time.time(), 0, 0.0, 0
        items_at_event, last_event = 0, 0.0  # the pace is measured within an epoch (not over validation)
        for inputs, target in task.train.epoch_batches(global_epoch):
            if should_stop():
                raise StopTraining()
            iteration = epoch * iters_per_epoch + batch
            pct = min(iteration / total_iters, 1.0)
            for group, lr_max in zip(optimizer.param_groups, lr_maxes):
                lr, mom = one_cycle(pct, lr_max, div=task.div, pct_start=task.pct_start,
                                    moms=task.moms)
                group["lr"], group["betas"] = lr, (mom, 0.99)
            step = global_epoch * iters_per_epoch + batch  # training batches before this one, over the run
            recording = task.activation_stats is not None and task.activation_stats.start_batch(step)
            with _autocast(chosen):
                preds = forward(*inputs)
                loss = task.loss_func(preds, target)
                if task.regularizer is not None:
                    loss = loss + task.regularizer.penalty()
            value = loss.item()  # the one wait for the device per batch: the smoothed loss needs it anyway
            if recording:  # its figures were computed during the forward pass: fetching them waits no more
                task.activation_stats.write(events, epoch=global_epoch, batch=batch, iter=step + 1)
            if not math.isfinite(value):
                raise TrainingError(
                    f"the loss became {value} at epoch {global_epoch + 1}, batch {batch + 1}: the learning "
                    f"rate ({lr_maxes[-1]:.3g}) is probably too high: try a tenth of it")
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if task.clip:
                scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
                torch.nn.utils.clip_grad_norm_(model.parameters(), task.clip)
            scaler.step(optimizer)
            scaler.update()
            size = _batch_size(target)
            loss_total += value * size
            n_items += size
            batch += 1
            smooth_loss = value if smooth_loss is None else 0.98 * smooth_loss + 0.02 * value
            raw_sum, raw_count = raw_sum + value, raw_count + 1
            now = time.time()
            if now - last_event >= BATCH_EVENT_EVERY_S:
                pace = {}
                if last_event and n_items > items_at_event:
                    pace = {"items_per_s": (n_items - items_at_event) / (now - last_event)}
                events.write("batch", epoch=global_epoch, iter=global_epoch * iters_per_epoch + batch,
                             total_iters=total_epochs * iters_per_epoch, loss=smooth_loss,
                             raw=raw_sum / raw_count, lr=lr, mom=mom, **pace, **task.device_stats())
                last_event, raw_sum, raw_count, items_at_event = now, 0.0, 0, n_items
        train_seconds = time.time() - epoch_start
        results = {"train_loss": loss_total / max(1, n_items), **evaluate(task)}
        if task.derive:
            results = task.derive(results)
        results["items_per_s"] = n_items / max(train_seconds, 1e-9)
        results["epoch_seconds"] = time.time() - epoch_start
        events.write("epoch", epoch=global_epoch, epochs=total_epochs, stage=stage_index, stage_name=stage.name,
                     iter=(global_epoch + 1) * iters_per_epoch, total_iters=total_epochs * iters_per_epoch,
                     **results)
        if on_epoch_end:
            on_epoch_end(stage_index, epoch, results, optimizer)
        global_epoch += 1
    return results


def _batch_size(target) -> int:
    return target.numel() if target.dim() > 1 else len(target)


def _reset(model) -> None:
    """Recurrent models start each epoch (and validation) from a fresh hidden state."""
    if hasattr(model, "reset"):
        model.reset()


@torch.no_grad()
def evaluate(task: Task) -> dict:
    """Valid loss and metrics, each a mean over the validation items."""
    model = task.model
    model.eval()
    _reset(model)
    totals = {"valid_loss": 0.0, **{name: 0.0 for name in task.metrics}}
    count = 0
    chosen = precision(task, next(model.parameters()).device.type)  # validated as it trains
    for inputs, target in task.valid.epoch_batches(0):
        with _autocast(chosen):
            preds = model(*inputs)
        preds = preds.float()  # the loss and metrics in float32
        size = _batch_size(target)
        totals["valid_loss"] += task.loss_func(preds, target).item() * size
        for name, metric in task.metrics.items():
            totals[name] += float(metric(preds, target)) * size
        count += size
    _reset(model)
    return {name: total / max(1, count) for name, total in totals.items()}
