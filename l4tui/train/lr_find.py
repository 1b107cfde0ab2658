"""fastai's learning-rate finder (Leslie Smith's range test).

Train for up to `num_it` batches while the learning rate grows exponentially from `start_lr` to
`end_lr`; record the smoothed loss; stop early once it has clearly blown up (4x the best). Then
put the weights back as they were: the test must not change the model. The suggestion is fastai's
default, `valley`: the middle of the longest stretch where the loss keeps going down.
"""

import math

import torch

from l4tui.train.loop import StopTraining, make_optimizer


def lr_find(task, events, should_stop=lambda: False, start_lr=1e-7, end_lr=10.0, num_it=100) -> dict:
    model = task.model
    saved = {k: v.detach().clone() for k, v in model.state_dict().items()}
    optimizer = make_optimizer(task)
    lrs, losses = [], []
    smooth, best, iteration = 0.0, math.inf, 0
    try:
        while iteration < num_it:
            model.train()
            if hasattr(model, "reset"):
                model.reset()
            for inputs, target in task.train.epoch_batches(iteration):
                if should_stop():
                    raise StopTraining()
                lr = start_lr * (end_lr / start_lr) ** (iteration / max(1, num_it - 1))
                for group in optimizer.param_groups:
                    group["lr"] = lr
                loss = task.loss_func(model(*inputs), target)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                value = loss.item()
                iteration += 1
                # fastai's smoothing: an exponential moving average, debiased
                smooth = 0.98 * smooth + 0.02 * value
                smoothed = smooth / (1 - 0.98 ** iteration)
                if not math.isfinite(smoothed):
                    break
                lrs.append(lr)
                losses.append(smoothed)
                best = min(best, smoothed)
                events.write("batch", epoch=0, iter=iteration, total_iters=num_it, loss=smoothed, lr=lr)
                if smoothed > 4 * best or iteration >= num_it:
                    raise _Done()
    except _Done:
        pass
    finally:
        model.load_state_dict(saved)  # the range test leaves the model as it found it
    return {"suggested_lr": valley(lrs, losses), **suggestions(lrs, losses), "points": len(lrs)}


class _Done(Exception):
    pass


def valley(lrs, losses) -> float | None:
    """fastai's `valley`: the longest run of decreasing losses, and a point 2/3 of the way down it."""
    n = len(losses)
    if n < 2:
        return lrs[0] if lrs else None
    longest = [1] * n  # longest decreasing subsequence ending at i
    max_start = max_end = 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and longest[i] < longest[j] + 1:
                longest[i] = longest[j] + 1
        if longest[max_end] < longest[i]:
            max_end = i
            max_start = max_end - longest[max_end]
    sections = (max_end - max_start) / 3
    return lrs[max_start + int(sections) + int(sections / 2)]


def suggestions(lrs, losses) -> dict:
    """fastai's other two: `minimum` (a tenth of the lr at the lowest loss) and `steep` (the steepest descent)."""
    if len(lrs) < 2:
        return {}
    lowest = min(range(len(losses)), key=losses.__getitem__)
    slopes = [(losses[i + 1] - losses[i]) / (math.log(lrs[i + 1]) - math.log(lrs[i])) for i in range(len(lrs) - 1)]
    steepest = min(range(len(slopes)), key=slopes.__getitem__)
    return {"lr_minimum": lrs[lowest] / 10, "lr_steep": lrs[steepest]}


def restore_check(model, saved) -> bool:
    """True when the model's weights equal `saved` (used by tests)."""
    return all(torch.equal(model.state_dict()[k], v) for k, v in saved.items())
