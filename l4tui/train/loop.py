"""The training loop: fit_one_cycle over in-memory tensors, reporting events as it goes.

Batches are cut straight from tensors already on the device (no DataLoader): for the small
tabular and collab inputs of the lesson, that is several times faster than collating rows.
"""

import math
import time

import torch

from l4tui.train.schedule import one_cycle

BATCH_EVENT_EVERY_S = 0.25  # batch events are throttled; epoch events are always written


class StopTraining(Exception):
    """Raised inside the loop when the run was asked to stop (SIGTERM)."""


def fit_one_cycle(model, loss_func, x_train, y_train, x_valid, y_valid, *, epochs, lr_max, wd, bs,
                  events, should_stop=lambda: False, metrics=None):
    """Train `model` with AdamW and a one-cycle schedule; returns the last epoch's metrics.

    `events.write(type, **fields)` receives batch and epoch events; `metrics` maps a name to
    a function of (predictions, targets) computed on the validation set each epoch.
    """
    metrics = metrics or {}
    # fastai's Adam defaults: betas=(mom, 0.99), eps=1e-5, weight decay decoupled (AdamW).
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr_max, betas=(0.95, 0.99), eps=1e-5,
                                  weight_decay=wd)
    n_train = len(x_train)
    iters_per_epoch = math.ceil(n_train / bs)
    total_iters = epochs * iters_per_epoch
    iteration, last_event, smooth_loss = 0, 0.0, None
    results = {}
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(n_train, device=x_train.device)
        epoch_loss, epoch_start = 0.0, time.time()
        for start in range(0, n_train, bs):
            if should_stop():
                raise StopTraining()
            lr, mom = one_cycle(iteration / total_iters, lr_max)
            for group in optimizer.param_groups:
                group["lr"], group["betas"] = lr, (mom, 0.99)
            batch = order[start:start + bs]
            loss = loss_func(model(x_train[batch]), y_train[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            iteration += 1
            loss_value = loss.item()
            epoch_loss += loss_value * len(batch)
            # fastai's smoothed loss: an exponential moving average with debiasing.
            smooth_loss = loss_value if smooth_loss is None else 0.98 * smooth_loss + 0.02 * loss_value
            now = time.time()
            if now - last_event >= BATCH_EVENT_EVERY_S or iteration == total_iters:
                events.write("batch", epoch=epoch, iter=iteration, total_iters=total_iters,
                             loss=smooth_loss, lr=lr)
                last_event = now
        results = {"train_loss": epoch_loss / n_train,
                   **evaluate(model, loss_func, x_valid, y_valid, bs * 16, metrics)}
        results["items_per_s"] = n_train / max(time.time() - epoch_start, 1e-9)
        events.write("epoch", epoch=epoch, epochs=epochs, iter=iteration, total_iters=total_iters,
                     **results)
    return results


@torch.no_grad()
def evaluate(model, loss_func, x_valid, y_valid, bs, metrics):
    model.eval()
    preds = torch.cat([model(x_valid[i:i + bs]) for i in range(0, len(x_valid), bs)])
    results = {"valid_loss": loss_func(preds, y_valid).item()}
    for name, metric in metrics.items():
        results[name] = float(metric(preds, y_valid))
    return results
