"""Activation statistics while training (fastai's ActivationStats with_hist): the recorder, the
loop's wiring, the reader and its flags."""

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from conftest import l4tui
from l4tui.inspect.activation_history import bin_edges, dead_or_exploding, read_activation_history
from l4tui.runs.events import EventWriter
from l4tui.train import activation_stats
from l4tui.train.activation_stats import BIN_SPEC, N_EDGES, ActivationStats, watched_layers

MIDDLE = N_EDGES  # the bin of |x| <= 1e-3


def no_hooks(model) -> bool:
    return all(not m._forward_hooks for m in model.modules())


class Wrapper(nn.Module):
    """Looks an embedding's rows up itself, as the AWD-LSTM's EmbeddingDropout does."""

    def __init__(self, emb):
        super().__init__()
        self.emb = emb

    def forward(self, words):
        return F.embedding(words, self.emb.weight * 2)


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Embedding(10, 4)
        self.encoder_dp = Wrapper(self.encoder)
        self.lstm = nn.LSTM(4, 3, batch_first=True)
        self.drop = nn.Dropout(0.5)
        self.act = nn.Tanh()

    def forward(self, words):
        output, _ = self.lstm(self.encoder_dp(words))
        return self.act(self.drop(output))


def test_the_layers_watched():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Dropout(0.1), nn.BatchNorm1d(4), nn.Linear(4, 1))
    assert [(name, kind) for name, _, kind in watched_layers(model)] == [
        ("0", "Linear"), ("1", "ReLU"), ("3", "BatchNorm1d"), ("4", "Linear")]
    tiny = Tiny()
    layers = watched_layers(tiny)
    assert [(name, kind) for name, _, kind in layers] == [("encoder", "Embedding"), ("lstm", "LSTM"), ("act", "Tanh")]
    assert layers[0][1] is tiny.encoder_dp  # the embedding is never called itself: its wrapper is hooked
    recorder = ActivationStats(tiny, 1)
    recorder.start_batch(0)
    tiny(torch.tensor([[1, 2, 3], [4, 5, 6]]))
    records = {r["name"]: r for r in recorder.collect()}
    assert records["encoder"]["n"] == 2 * 3 * 4 and records["lstm"]["n"] == 2 * 3 * 3  # the LSTM's output, not (h, c)
    assert records["act"]["n"] == 2 * 3 * 3


def test_figures_of_a_known_input_worked_by_hand():
    # Linear: x @ I - 2.5 -> [-1.5, -0.5, 0.5, 1.5]: mean 0, std sqrt((2.25 + 0.25 + 0.25 + 2.25) / 4) = 1.1180
    # ReLU (in place: it overwrites the Linear's output after its hook ran): [0, 0, 0.5, 1.5]:
    #   mean 0.5, deviations [-0.5, -0.5, 0, 1]: std sqrt(1.5 / 4) = 0.6124; near zero: 2 of 4
    # Bins: middle +- ceil(4 * log10(|x| / 1e-3)): 0.5 -> ceil(10.80) = 11, 1.5 -> ceil(12.70) = 13
    linear = nn.Linear(2, 2)
    with torch.no_grad():
        linear.weight.copy_(torch.eye(2))
        linear.bias.fill_(-2.5)
    model = nn.Sequential(linear, nn.ReLU(inplace=True))
    recorder = ActivationStats(model, 1)
    assert recorder.start_batch(0)
    model(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    lin, relu = recorder.collect()
    assert (lin["name"], lin["n"], lin["mean"], lin["std"], lin["near_zero"]) == ("0", 4, 0.0, 1.118, 0.0)
    assert (relu["name"], relu["n"], relu["mean"], relu["std"], relu["near_zero"]) == ("1", 4, 0.5, 0.6124, 0.5)
    assert {i: c for i, c in enumerate(lin["hist"]) if c} == {MIDDLE - 13: 1, MIDDLE - 11: 1, MIDDLE + 11: 1,
                                                             MIDDLE + 13: 1}
    assert {i: c for i, c in enumerate(relu["hist"]) if c} == {MIDDLE: 2, MIDDLE + 11: 1, MIDDLE + 13: 1}
    edges = bin_edges(BIN_SPEC)  # the reader's edges agree: bin i holds edges[i] < x <= edges[i + 1]
    assert edges[MIDDLE + 11] < 0.5 <= edges[MIDDLE + 12] and edges[MIDDLE + 13] < 1.5 <= edges[MIDDLE + 14]
    assert edges[MIDDLE] == -1e-3 and edges[MIDDLE + 1] == 1e-3 and len(edges) == BIN_SPEC["n"] + 1


class Twice(nn.Module):
    """One Linear called twice a batch, as the classifier's encoder runs over bptt chunks."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 300)

    def forward(self, a, b):
        return self.linear(a), self.linear(b)


@pytest.mark.parametrize("small", [1 << 15, 0])  # small CPU outputs done together in collect(), or each at once
def test_histograms_count_every_element_and_calls_merge(monkeypatch, small):
    monkeypatch.setattr(activation_stats, "SMALL", small)
    torch.manual_seed(0)
    model = Twice()
    a, b = torch.randn(40, 8) * 3 + 1, torch.randn(7, 8)
    recorder = ActivationStats(model, 1)
    recorder.start_batch(0)
    with torch.no_grad():
        outputs = torch.cat([o.reshape(-1) for o in model(a, b)]).double().numpy()
    [record] = recorder.collect()
    assert record["n"] == outputs.size == 47 * 300 and sum(record["hist"]) == outputs.size
    assert record["mean"] == pytest.approx(outputs.mean(), rel=1e-3)
    assert record["std"] == pytest.approx(outputs.std(), rel=1e-3)
    edges = bin_edges(BIN_SPEC)  # every bin's count, against numpy's histogram of |x| over the reader's edges
    side = np.histogram(np.abs(outputs), bins=[0, *edges[MIDDLE + 1:-1], np.inf])[0]
    negative = np.histogram(np.abs(outputs[outputs < 0]), bins=[0, *edges[MIDDLE + 1:-1], np.inf])[0]
    assert record["hist"][MIDDLE] == side[0]
    assert [a + b for a, b in zip(record["hist"][MIDDLE + 1:], record["hist"][MIDDLE - 1::-1])] == side[1:].tolist()
    assert record["hist"][MIDDLE - 1::-1] == negative[1:].tolist()


@pytest.mark.parametrize("small", [1 << 15, 0])
def test_zeros_denormals_infinities_and_nan(monkeypatch, small):
    monkeypatch.setattr(activation_stats, "SMALL", small)
    model = nn.Sequential(nn.ReLU())
    recorder = ActivationStats(model, 1)
    recorder.start_batch(0)
    model(torch.tensor([0.0, 1e-40, -5.0, 1e6, float("inf"), float("nan")]))
    [record] = recorder.collect()
    # 0, 1e-40 and ReLU(-5) in the middle bin; 1e6, inf and NaN in the top one
    assert {i: c for i, c in enumerate(record["hist"]) if c} == {MIDDLE: 3, BIN_SPEC["n"] - 1: 3}
    assert record["near_zero"] == 0.5 and math.isnan(record["mean"]) and math.isnan(record["std"])


def test_records_only_every_n_batches_and_hooks_only_then():
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    recorder = ActivationStats(model, 3)
    recorded = []
    for step in range(10):
        recording = recorder.start_batch(step)
        assert no_hooks(model) != recording  # idle batches run without any hook at all
        model(torch.randn(5, 3))
        if recording:
            recorded.append(step)
            assert len(recorder.collect()) == 2
            assert no_hooks(model)
    assert recorded == [0, 3, 6, 9]
    assert recorder.collect() == []  # nothing pending outside a recording batch


def test_remove_leaves_no_hooks_even_mid_batch():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Sequential(nn.Linear(4, 1), nn.Sigmoid()))
    recorder = ActivationStats(model, 1)
    recorder.start_batch(0)
    assert not no_hooks(model)
    model(torch.randn(2, 3))  # a batch that never reaches collect(): the run failed, say
    recorder.remove()
    assert no_hooks(model)
    assert recorder.collect() == []


def tiny_task(every):
    from l4tui.train.batches import TensorBatches
    from l4tui.train.loop import Stage, Task

    torch.manual_seed(0)
    x = torch.randn(256, 4)
    y = (x @ torch.tensor([1.0, -2.0, 0.5, 3.0]) > 0).long()
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 2))
    task = Task(model=model, loss_func=F.cross_entropy, train=TensorBatches((x,), y, 32, shuffle=True, seed=0),
                valid=TensorBatches((x,), y, 128, shuffle=False), stages=[Stage(3, 0.1)])
    if every:
        task.activation_stats = ActivationStats(model, every)
    return task


def test_fit_writes_activations_events_the_reader_turns_into_arrays(tmp_path):
    from l4tui.train.loop import fit

    task = tiny_task(every=5)
    events = EventWriter(tmp_path)
    try:
        fit(task, events)
    finally:
        task.activation_stats.remove()
        events.close()
    assert no_hooks(task.model)
    history = read_activation_history(tmp_path)
    assert history.names == ["0", "1", "3"]  # Linear, ReLU, Linear: the dropout is not watched
    assert history.steps.tolist() == [1, 6, 11, 16, 21]  # 3 epochs x 8 batches: batches 0, 5, 10 ... recorded
    assert history.epochs.tolist() == [0, 0, 1, 1, 2]
    for layer in history.layers.values():
        assert layer.hist.shape == (BIN_SPEC["n"], 5) and layer.mean.shape == layer.std.shape == (5,)
        assert (layer.hist.sum(axis=0) == 32 * (16 if layer.name != "3" else 2)).all()  # training batches only
    assert history.colorful("1").shape == (BIN_SPEC["n"], 5)
    assert (history.layers["1"].hist[:MIDDLE] == 0).all()  # a ReLU has nothing below zero
    line = (tmp_path / "events.jsonl").read_text().splitlines()[1]
    assert len(line) < 2000  # 3 layers, floats of 4 digits


def test_fit_records_nothing_by_default(tmp_path):
    from l4tui.train.loop import fit

    task = tiny_task(every=0)
    assert task.activation_stats is None
    events = EventWriter(tmp_path)
    fit(task, events)
    events.close()
    assert '"activations"' not in (tmp_path / "events.jsonl").read_text()
    assert read_activation_history(tmp_path).names == []


def write_events(run_dir, events, torn=""):
    with open(run_dir / "events.jsonl", "w") as f:
        for event in events:
            f.write(json.dumps(event) + "\n")
        f.write(torn)


def record(step, layers, epoch=0):
    return {"t": 0, "type": "activations", "epoch": epoch, "batch": step - 1, "iter": step, "bins": BIN_SPEC,
            "layers": [{"name": name, "kind": "Linear", "n": 10, "mean": mean, "std": std, "near_zero": near,
                        "hist": [0] * MIDDLE + [10] + [0] * N_EDGES} for name, mean, std, near in layers]}


def test_reader_takes_resumed_steps_and_leaves_a_torn_line(tmp_path):
    write_events(tmp_path, [
        {"t": 0, "type": "start"}, record(1, [("a", 0.1, 1.0, 0.0)]), record(11, [("a", 0.2, 1.5, 0.0)]),
        record(21, [("a", 0.3, 2.0, 0.0)]),
        {"t": 0, "type": "resume"}, record(11, [("a", 9.0, 9.0, 0.0), ("b", 1.0, 1.0, 0.5)], epoch=1),
    ], torn='{"t": 0, "type": "activations", "iter": 21, "lay')
    history = read_activation_history(tmp_path)
    assert history.steps.tolist() == [1, 11]  # the resumed run trained step 11 again: its record wins
    assert history.layers["a"].mean.tolist() == [0.1, 9.0]
    b = history.layers["b"]
    assert math.isnan(b.mean[0]) and b.near_zero[1] == 0.5 and np.isnan(b.hist[:, 0]).all()
    assert b.hist[:, 1].sum() == 10


def test_dead_or_exploding_flags(tmp_path):
    write_events(tmp_path, [record(step, [
        ("dead", 0.0, 0.001, 0.2 if step == 1 else 0.95),
        ("fine", 0.1, 1.0, 0.3),
        ("recovered", 0.0, 1.0, 0.95 if step == 1 else 0.3),
        ("exploding", 1.0, 0.5 if step == 1 else 40.0, 0.0),
        ("nan", float("nan"), float("nan"), 0.0),
    ]) for step in (1, 11, 21, 31)])
    flags = dict(dead_or_exploding(read_activation_history(tmp_path)))
    assert set(flags) == {"dead", "exploding", "nan"}
    assert flags["dead"].startswith("dead: 95%") and "last 3 records" in flags["dead"]
    assert flags["exploding"] == "exploding: std 40 at the last record (from 0.5)"
    assert flags["nan"].startswith("exploding: std nan")


def test_config_option_is_checked_and_reaches_the_command_line():
    from l4tui.cli import build_parser
    from l4tui.train.collab import CollabConfig
    from l4tui.train.launch_form import command_line

    assert CollabConfig().activation_stats_every == 0
    assert CollabConfig.from_dict({"activation_stats_every": 25}).activation_stats_every == 25
    with pytest.raises(ValueError, match=r"activation_stats_every must not be negative \(0 is off\)"):
        CollabConfig.from_dict({"activation_stats_every": -1}).validate()  # the form's own words
    with pytest.raises(ValueError, match="activation_stats_every must be a whole number"):
        CollabConfig.from_dict({"activation_stats_every": 2.5}).validate()  # run.json may hold anything
    command = command_line("collab", {"activation_stats_every": 25})
    assert command == "l4tui train collab --activation-stats-every 25"
    assert build_parser().parse_args(command.split()[1:]).activation_stats_every == 25


@pytest.mark.slow
def test_a_real_run_records_and_the_default_one_does_not(runs_dir, small_ratings):
    from l4tui.runs.store import list_runs

    result = l4tui("train", "collab", "--data", str(small_ratings), "--epochs", "2", "--activation-stats-every", "5")
    assert result.returncode == 0, result.stderr
    [run] = list_runs(runs_dir)
    assert run.state == "finished"
    events = [json.loads(line) for line in (run.run_dir / "events.jsonl").read_text().splitlines()]
    total = next(e for e in events if e["type"] == "epoch")["total_iters"]
    history = read_activation_history(run.run_dir)
    assert history.names == ["u_weight", "i_weight", "u_bias", "i_bias"]
    assert history.steps.tolist() == list(range(1, total + 1, 5))
    for layer in history.layers.values():
        assert layer.hist.shape == (BIN_SPEC["n"], len(history.steps))
        assert layer.std[-1] > layer.std[0]  # the embeddings grow from their std 0.01 start
    assert l4tui("train", "collab", "--activation-stats-every", "-1").returncode == 2

    result = l4tui("train", "collab", "--data", str(small_ratings), "--epochs", "1")
    assert result.returncode == 0, result.stderr
    default = next(r for r in list_runs(runs_dir) if r.run_dir != run.run_dir)
    assert '"activations"' not in (default.run_dir / "events.jsonl").read_text()
