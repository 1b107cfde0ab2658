"""The loop's pieces, in process, on tiny tasks."""

import pytest
import torch
import torch.nn.functional as F

from l4tui.modelfiles import load_model_file
from l4tui.train.batches import TensorBatches
from l4tui.train.loop import Stage, Task, TrainingError, fit, lrs_for_groups, param_groups


class Events:
    def __init__(self):
        self.events = []

    def write(self, kind, **fields):
        self.events.append((kind, fields))


def test_slice_spreads_learning_rates_geometrically():
    lrs = lrs_for_groups((1e-3 / 2.6 ** 4, 1e-3), 5)
    assert lrs[-1] == pytest.approx(1e-3)
    assert all(b / a == pytest.approx(2.6) for a, b in zip(lrs, lrs[1:]))
    assert lrs_for_groups(0.01, 3) == [0.01] * 3


def test_tied_weights_belong_to_one_group_once():
    awd = load_model_file("awd_lstm")
    lm = awd.get_language_model(50, 8, 8)
    groups = param_groups(lm, lm.layer_groups())
    ids = [id(p) for group in groups for p in group]
    assert len(ids) == len(set(ids)) == len(list(lm.parameters()))


def tiny_task(seed=0, lr=0.1):
    torch.manual_seed(seed)
    x = torch.randn(256, 4)
    y = (x @ torch.tensor([1.0, -2.0, 0.5, 3.0]) > 0).long()
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    return Task(model=model, loss_func=F.cross_entropy, train=TensorBatches((x,), y, 32, shuffle=True, seed=seed),
                valid=TensorBatches((x,), y, 128, shuffle=False), stages=[Stage(3, lr)],
                metrics={"accuracy": lambda p, t: (p.argmax(1) == t).float().mean()})


def test_fit_learns_and_reports_every_epoch():
    events = Events()
    results = fit(tiny_task(), events)
    assert results["accuracy"] > 0.9
    assert [f["epoch"] for kind, f in events.events if kind == "epoch"] == [0, 1, 2]


def test_same_seed_same_result_on_cpu():
    a = fit(tiny_task(seed=3), Events())
    b = fit(tiny_task(seed=3), Events())
    assert a["valid_loss"] == b["valid_loss"] and a["train_loss"] == b["train_loss"]


def test_nan_loss_stops_with_a_message():
    task = tiny_task(lr=1e30)
    with pytest.raises(TrainingError, match="learning rate .* too high"):
        fit(task, Events())


def test_lr_find_restores_the_weights_and_suggests_a_rate():
    from l4tui.train.lr_find import lr_find, valley

    task = tiny_task()
    before = {k: v.clone() for k, v in task.model.state_dict().items()}
    events = Events()
    found = lr_find(task, events, num_it=60)
    assert all(torch.equal(task.model.state_dict()[k], v) for k, v in before.items())
    assert 1e-7 <= found["suggested_lr"] <= 10
    lrs = [f["lr"] for kind, f in events.events if kind == "batch"]
    assert lrs == sorted(lrs) and lrs[0] == pytest.approx(1e-7)
    # flat, then down from index 20 to 70, then blowing up: the valley is inside the descent
    lrs = [10 ** (-7 + i * 0.08) for i in range(100)]
    losses = [3.0] * 20 + [3.0 - 0.05 * i for i in range(50)] + [0.5 + 0.3 * i for i in range(30)]
    assert lrs[20] <= valley(lrs, losses) <= lrs[70]


def test_schedule_options_shape_the_lr_and_momentum():
    from l4tui.train import loop

    task = tiny_task(lr=0.1)
    task.div, task.pct_start, task.moms = 10.0, 0.5, (0.9, 0.8, 0.9)
    events = Events()
    old, loop.BATCH_EVENT_EVERY_S = loop.BATCH_EVENT_EVERY_S, 0.0  # every batch, to see the whole cycle
    try:
        fit(task, events)
    finally:
        loop.BATCH_EVENT_EVERY_S = old
    batches = [f for kind, f in events.events if kind == "batch"]
    lrs, moms = [f["lr"] for f in batches], [f["mom"] for f in batches]
    assert lrs[0] == pytest.approx(0.1 / 10)
    peak = lrs.index(max(lrs))
    assert max(lrs) == pytest.approx(0.1, rel=0.01) and abs(peak - len(lrs) / 2) <= 1
    assert moms[0] == pytest.approx(0.9) and moms[peak] == pytest.approx(0.8, abs=0.001)


def test_schedule_options_are_checked():
    from l4tui.train.collab import CollabConfig

    for bad, message in (({"div": 0.5}, "div must be at least 1"), ({"pct_start": 1.0}, "pct_start"),
                         ({"moms": (0.9, 1.2, 0.9)}, "moms must be")):
        with pytest.raises(ValueError, match=message):
            CollabConfig.from_dict(bad).validate()
    assert CollabConfig.from_dict({"moms": [0.9, 0.8, 0.9]}).moms == (0.9, 0.8, 0.9)
