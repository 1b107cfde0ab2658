"""Each layer's output for an example batch: shapes, numbers, heatmaps, and no hook left behind."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from l4tui.inspect.activations import any_hooks_left, capture_activations, heatmap
from l4tui.inspect.catalog import PRESETS, Sizes, build_model, find_model
from l4tui.modelfiles import load_model_file

SMALL = Sizes(preset="small", vocab_size=200)  # a small vocab keeps the LM's decoder quick
PRESET = PRESETS["small"]
tabular = load_model_file("tabular")


def built(name):
    torch.manual_seed(0)
    return build_model(find_model(name), SMALL)


def shapes(capture):
    """Qualified name -> output shapes, one per call."""
    found = {}
    for activation in capture.activations:
        found.setdefault(activation.name, []).append(activation.output_shape)
    return found


def lstm_sizes():
    """Each LSTM's output size: emb_sz -> n_hid -> ... -> n_hid -> emb_sz."""
    n = PRESET["n_layers"]
    return [PRESET["emb_sz"] if layer == n - 1 else PRESET["n_hid"] for layer in range(n)]


# ---- the five lesson models ------------------------------------------------------------------

def test_language_model_activations():
    b = built("lm")
    bs, seq = b.example[0].shape
    capture = capture_activations(b.model, b.example)
    found = shapes(capture)
    assert found["0.encoder_dp"] == [(bs, seq, PRESET["emb_sz"])]
    for layer, n_out in enumerate(lstm_sizes()):
        assert found[f"0.rnns.{layer}"] == found[f"0.rnns.{layer}.module"] == [(bs, seq, n_out)]
    assert found["1.decoder"] == found[""] == [(bs, seq, SMALL.vocab_size)]
    assert "0.encoder" not in found  # EmbeddingDropout uses its weight without calling it
    assert capture.activations[0].name == ""  # call order: the model starts first
    assert tuple(capture.output.shape) == (bs, seq, SMALL.vocab_size)
    lstm = next(a for a in capture.activations if a.name == "0.rnns.0")
    assert lstm.type_name == "WeightDropout" and lstm.stats.numel == bs * seq * lstm_sizes()[0]
    assert lstm.heatmap.shape == (min(32, lstm_sizes()[0]), min(64, seq))  # units over time


def test_classifier_activations_one_per_bptt_chunk():
    b = built("classifier")
    bs, seq = b.example[0].shape
    bptt = b.model[0].bptt
    chunks = [min(bptt, seq - start) for start in range(0, seq, bptt)]  # 100 tokens: 72 + 28
    found = shapes(capture_activations(b.model, b.example))
    for layer, n_out in enumerate(lstm_sizes()):
        assert found[f"0.module.rnns.{layer}"] == [(bs, n, n_out) for n in chunks]
    assert found["0"] == [(bs, seq, PRESET["emb_sz"])]  # all chunks kept: the review is short
    assert found["1.layers.0.0"] == [(bs, 3 * PRESET["emb_sz"])]  # last, max and mean pooled
    assert found["1"] == found[""] == [(bs, SMALL.n_classes)]


def test_tabular_activations():
    b = built("tabular")
    bs = b.example[0].shape[0]
    found = shapes(capture_activations(b.model, b.example))
    emb_szs = tabular.get_emb_szs(list(SMALL.cardinalities))
    for i, (_, size) in enumerate(emb_szs):
        assert found[f"embeds.{i}"] == [(bs, size)]
    assert found["emb_drop"] == [(bs, sum(size for _, size in emb_szs))]
    assert found["bn_cont"] == [(bs, SMALL.n_cont)]
    for i, n_out in enumerate([*PRESET["tabular_layers"], SMALL.n_out]):
        assert found[f"layers.{i}"] == [(bs, n_out)]
    assert found[""] == [(bs, SMALL.n_out)]


def test_collab_activations():
    b = built("collab")
    bs = b.example[0].shape[0]
    found = shapes(capture_activations(b.model, b.example))
    assert found["u_weight"] == found["i_weight"] == [(bs, PRESET["n_factors"])]
    assert found["u_bias"] == found["i_bias"] == [(bs, 1)]
    assert found[""] == [(bs,)]  # one rating per (user, item)


def test_collab_nn_activations():
    b = built("collab-nn")
    bs = b.example[0].shape[0]
    found = shapes(capture_activations(b.model, b.example))
    (_, user_size), (_, item_size) = tabular.get_emb_szs([SMALL.n_users, SMALL.n_items])
    assert found["embeds.0"] == [(bs, user_size)] and found["embeds.1"] == [(bs, item_size)]
    for i, n_out in enumerate([*PRESET["collab_nn_layers"], 1]):
        assert found[f"layers.{i}"] == [(bs, n_out)]
    assert found[""] == [(bs, 1)]
    final = next(a for a in capture_activations(b.model, b.example).activations if a.name == "")
    assert 0.0 <= final.stats.min and final.stats.max <= 5.5  # y_range


# ---- the model is left as found ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["lm", "classifier", "tabular", "collab", "collab-nn"])
def test_no_hook_is_left_and_the_mode_is_restored(name):
    b = built(name)
    b.model.train()
    capture_activations(b.model, b.example)
    assert not any_hooks_left(b.model) and b.model.training


def test_no_hook_is_left_when_forward_raises():
    b = built("lm")
    b.model.eval()
    with pytest.raises(RuntimeError):
        capture_activations(b.model, (torch.randn(2, 5),))  # floats are not token ids
    assert not any_hooks_left(b.model) and not b.model.training

    t = built("tabular")
    with pytest.raises((RuntimeError, IndexError)):
        capture_activations(t.model, (t.example[0][:, :2], t.example[1]))  # too few columns
    assert not any_hooks_left(t.model) and t.model.training


def test_the_language_models_hidden_state_is_reset():
    b = built("lm")
    capture_activations(b.model, b.example)
    assert all(float(h.abs().sum()) == 0 and float(c.abs().sum()) == 0 for h, c in b.model[0].hidden)


def test_any_hooks_left_sees_every_kind_of_hook():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    assert not any_hooks_left(model)
    for register in ("register_forward_hook", "register_forward_pre_hook",
                     "register_full_backward_hook", "register_full_backward_pre_hook"):
        handle = getattr(model[1], register)(lambda *args: None)
        assert any_hooks_left(model), register
        handle.remove()
        assert not any_hooks_left(model)


# ---- hand-made models: exact numbers ----------------------------------------------------------

def test_only_the_named_modules_are_watched_and_the_numbers_are_right():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]))
        model[0].bias.zero_()
    x = torch.tensor([[1.0, 2.0]])
    capture = capture_activations(model, (x,), modules=["1"])
    assert [a.name for a in capture.activations] == ["1"]
    relu = capture.activations[0]
    assert relu.type_name == "ReLU" and relu.output_shape == (1, 3)
    assert relu.stats.mean == pytest.approx(1.0) and relu.stats.std == pytest.approx(math.sqrt(2 / 3))
    np.testing.assert_allclose(relu.heatmap, [[1.0, 2.0, 0.0]])
    assert torch.equal(capture.output, torch.tensor([[1.0, 2.0, 0.0]]))
    with pytest.raises(KeyError):
        capture_activations(model, (x,), modules=["2"])
    assert not any_hooks_left(model)


def test_stats_are_taken_before_an_in_place_relu_changes_the_output():
    model = nn.Sequential(nn.Linear(1, 2, bias=False), nn.ReLU(inplace=True))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0], [-1.0]]))
    linear = capture_activations(model, (torch.ones(1, 1),)).activations[1]
    assert linear.name == "0" and linear.stats.min == -1.0


# ---- heatmaps ---------------------------------------------------------------------------------

def test_heatmap_of_an_lstm_output_is_units_over_time_for_the_first_example():
    x = torch.arange(2 * 3 * 4, dtype=torch.float32).reshape(2, 3, 4)  # (batch, time, hidden)
    grid = heatmap(x)
    assert grid.shape == (4, 3)
    for unit in range(4):
        for step in range(3):
            assert grid[unit, step] == x[0, step, unit]


def test_heatmap_of_features_is_one_row_per_example():
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(heatmap(x), x.numpy())
    np.testing.assert_array_equal(heatmap(torch.tensor([1.0, 2.0])), [[1.0, 2.0]])
    np.testing.assert_array_equal(heatmap(torch.tensor(7.0)), [[7.0]])
    assert heatmap(torch.zeros(0, 4)).shape == (0, 0)
    assert heatmap(torch.zeros(2, 3, 4, 5)).shape == (3, 20)  # channels over positions


def test_heatmap_averages_blocks_when_too_big():
    np.testing.assert_allclose(heatmap(torch.arange(8.0), max_cols=4), [[0.5, 2.5, 4.5, 6.5]])
    np.testing.assert_allclose(heatmap(torch.arange(5.0), max_cols=2), [[0.5, 3.0]])  # 2 + 3
    rows = torch.arange(6.0)[:, None].repeat(1, 2)  # 6 examples, 2 features
    np.testing.assert_allclose(heatmap(rows, max_rows=3), [[0.5, 0.5], [2.5, 2.5], [4.5, 4.5]])
    big = torch.randn(1, 512, 320)  # 320 units over 512 steps: blocks of 10 by 8
    grid = heatmap(big)
    assert grid.shape == (32, 64)
    assert grid.mean() == pytest.approx(float(big.mean()), abs=1e-5)  # equal blocks keep the mean


def test_any_hooks_left_sees_the_captures_own_hooks_while_it_runs():
    seen = []

    class Spy(nn.Module):
        def forward(self, x):
            seen.append(any_hooks_left(model))
            return x

    model = nn.Sequential(Spy())
    capture_activations(model, (torch.ones(1),))
    assert seen == [True] and not any_hooks_left(model)
