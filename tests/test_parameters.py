"""Parameters up close: their numbers, tied weights, layer groups, and one batch's gradient norms."""

import math

import pytest
import torch
from torch import nn

from l4tui.inspect.catalog import PRESETS, Sizes, build_model, find_model
from l4tui.inspect.parameters import (default_loss, default_target, gradient_norms, layer_groups_of,
                                      module_parameters, tensor_stats, tied_parameters)

SMALL = Sizes(preset="small", vocab_size=200)  # a small vocab keeps the LM's decoder quick
N_LAYERS = PRESETS["small"]["n_layers"]


def built(name):
    torch.manual_seed(0)
    return build_model(find_model(name), SMALL)


# ---- tensor_stats ---------------------------------------------------------------------------------

def test_stats_of_a_hand_made_tensor():
    stats = tensor_stats(torch.tensor([-1.0, 0.0, 0.0, 1.0, 5.0]), bins=6)
    assert stats.shape == (5,) and stats.numel == 5
    assert stats.mean == pytest.approx(1.0)
    # deviations -2, -1, -1, 0, 4: squares sum to 22; the population std divides by n = 5
    assert stats.std == pytest.approx(math.sqrt(22 / 5))
    assert stats.std != pytest.approx(math.sqrt(22 / 4))  # not torch's unbiased default
    assert (stats.min, stats.max) == (-1.0, 5.0)
    assert stats.near_zero_share == pytest.approx(2 / 5)  # the two zeros
    assert stats.edges == pytest.approx([-1, 0, 1, 2, 3, 4, 5])
    assert stats.counts == [1, 2, 1, 0, 0, 1]  # the maximum falls in the last bin
    assert sum(stats.counts) == stats.numel
    assert stats.nonfinite == 0


def test_stats_of_int_one_number_empty_and_nan_tensors():
    ints = tensor_stats(torch.tensor([[1, 2], [3, 4]]))
    assert ints.shape == (2, 2) and ints.mean == pytest.approx(2.5)
    assert ints.std == pytest.approx(math.sqrt(1.25)) and sum(ints.counts) == 4

    one = tensor_stats(torch.tensor([3.0]), bins=4)
    assert one.std == 0.0 and one.mean == 3.0 and sum(one.counts) == 1
    assert one.edges[0] < 3.0 < one.edges[-1]

    empty = tensor_stats(torch.zeros(0, 3), bins=5)
    assert empty.shape == (0, 3) and empty.numel == 0
    assert empty.mean is None and empty.std is None and empty.min is None and empty.max is None
    assert empty.near_zero_share == 0.0 and empty.counts == [0] * 5 and empty.edges == []

    diverged = tensor_stats(torch.tensor([1.0, float("nan"), float("inf"), 3.0]))
    assert diverged.nonfinite == 2 and diverged.mean == pytest.approx(2.0) and sum(diverged.counts) == 2
    # Huge but finite numbers whose float32 sum overflows: none is taken for an inf.
    huge = tensor_stats(torch.tensor([3e38, 3e38, -1.0]))
    assert huge.nonfinite == 0 and huge.max == pytest.approx(3e38) and sum(huge.counts) == 3


def test_near_zero_threshold_is_a_parameter():
    x = torch.tensor([0.0005, 0.005, 0.05, 0.5])
    assert tensor_stats(x).near_zero_share == 0.25
    assert tensor_stats(x, near_zero=0.1).near_zero_share == 0.75


# ---- tied parameters, own parameters, layer groups ----------------------------------------------

def test_the_language_models_decoder_is_tied_to_its_embedding():
    groups = tied_parameters(built("lm").model)
    # EmbeddingDropout holds the embedding as a submodule too: a third name for the same tensor
    assert groups == [["0.encoder.weight", "0.encoder_dp.emb.weight", "1.decoder.weight"]]


def test_nothing_is_tied_in_the_tabular_and_collab_models():
    for name in ("tabular", "collab", "collab-nn"):
        assert tied_parameters(built(name).model) == []


def test_module_parameters_show_ties_and_frozen_ones():
    lm = built("lm").model
    decoder = {info.name: info for info in module_parameters(lm, "1.decoder")}
    assert set(decoder) == {"weight", "bias"}
    assert decoder["weight"].qualified == "1.decoder.weight"
    assert decoder["weight"].tied_to == ["0.encoder.weight", "0.encoder_dp.emb.weight"]
    assert decoder["weight"].stats.shape == (SMALL.vocab_size, PRESETS["small"]["emb_sz"])
    assert decoder["bias"].tied_to == [] and decoder["bias"].stats.max == 0.0  # the bias starts at 0

    lm.freeze_to(-1)  # the LSTMs freeze
    infos = module_parameters(lm, "0.rnns.0")
    assert [i.name for i in infos] == ["weight_hh_l0_raw"]  # WeightDropout's own; the LSTM has the rest
    assert not infos[0].requires_grad
    assert module_parameters(lm, "") == []  # the LanguageModel holds none itself
    with pytest.raises(KeyError):
        module_parameters(lm, "no.such.layer")


def test_module_parameters_numbers_of_a_hand_made_layer():
    layer = nn.Linear(2, 1)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 3.0]]))
        layer.bias.fill_(0.0)
    weight, bias = module_parameters(layer)
    assert weight.stats.mean == 2.0 and weight.stats.std == 1.0 and weight.requires_grad
    assert bias.stats.near_zero_share == 1.0


def test_layer_groups_of_the_language_model_match_freeze_to():
    lm = built("lm").model
    groups = layer_groups_of(lm)
    last = N_LAYERS  # one group per LSTM, then the embedding with the decoder
    for layer in range(N_LAYERS):
        assert groups[f"0.rnns.{layer}"] == groups[f"0.rnns.{layer}.module"] == layer
    assert groups["0.encoder"] == groups["0.encoder_dp.emb"] == groups["1.decoder"] == last
    assert "" not in groups and "0" not in groups  # containers span groups

    lm.freeze_to(-1)  # only the last group trains
    for name, param in lm.named_parameters(remove_duplicate=False):
        assert param.requires_grad == (groups[name.rpartition(".")[0]] == last), name


def test_layer_groups_of_the_classifier_end_with_the_head():
    groups = layer_groups_of(built("classifier").model)
    assert groups["0.module.encoder"] == 0
    assert groups["0.module.rnns.0"] == 1
    assert groups["1"] == groups["1.layers.1.2"] == N_LAYERS + 1


def test_models_without_layer_groups_have_none():
    assert layer_groups_of(built("tabular").model) == {}
    assert layer_groups_of(nn.Linear(2, 2)) == {}


# ---- gradient norms -------------------------------------------------------------------------------

def by_name(items, key):
    return {getattr(item, key): item for item in items}


def test_gradient_norm_of_a_hand_made_layer():
    layer = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 1.0]]))
    x, target = torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0]])
    grads = gradient_norms(layer, (x,), target, nn.functional.mse_loss)
    # loss = (w.x - t)^2 = 9; its gradient 2 (w.x - t) x = 6 * [1, 2], of norm 6 * sqrt(5)
    assert grads.loss == pytest.approx(9.0)
    assert grads.params[0].name == "weight" and grads.params[0].module == ""
    assert grads.params[0].norm == pytest.approx(6 * math.sqrt(5))
    assert grads.modules[0].norm == pytest.approx(6 * math.sqrt(5))
    assert layer.weight.grad is None


def test_a_frozen_lstm_has_exactly_zero_gradient_in_the_language_model():
    b = built("lm")
    lm = b.model
    lm.freeze_to(-1)  # train the embedding and decoder only, as the first fine-tuning step
    lm.eval()
    grads = gradient_norms(lm, b.example, default_target("lm", lm, b.example), default_loss("lm"))
    params = by_name(grads.params, "name")
    for layer in range(N_LAYERS):
        assert params[f"0.rnns.{layer}.weight_hh_l0_raw"].norm == 0.0
        assert params[f"0.rnns.{layer}.module.weight_ih_l0"].norm == 0.0
        assert by_name(grads.modules, "module")[f"0.rnns.{layer}.module"].frozen
    assert params["1.decoder.weight"].norm > 0 and params["1.decoder.bias"].norm > 0
    assert params["0.encoder.weight"].norm == params["1.decoder.weight"].norm  # one tensor, one grad
    assert grads.loss == pytest.approx(math.log(SMALL.vocab_size), rel=0.1)  # close to a random guess
    assert not lm.training  # left in eval mode, as found
    assert all(p.grad is None for p in lm.parameters())
    assert all(float(h.abs().sum()) == 0 for h, _ in lm[0].hidden)  # hidden state reset


def test_a_frozen_tabular_layer_has_exactly_zero_gradient():
    b = built("tabular")
    model = b.model
    model.layers[0][0].weight.requires_grad_(False)
    running_mean = model.layers[0][2].running_mean.clone()
    assert model.training
    grads = gradient_norms(model, b.example, default_target("tabular", model, b.example),
                           default_loss("tabular"))
    modules = by_name(grads.modules, "module")
    assert modules["layers.0.0"].norm == 0.0 and modules["layers.0.0"].frozen
    assert modules["layers.1.0"].norm > 0 and modules["embeds.0"].norm > 0
    assert model.training
    assert all(p.grad is None for p in model.parameters())
    assert torch.equal(model.layers[0][2].running_mean, running_mean)  # BatchNorm's stats put back


def test_gradients_already_there_are_kept():
    layer = nn.Linear(2, 1)
    layer.weight.grad = torch.ones_like(layer.weight)
    gradient_norms(layer, (torch.ones(3, 2),), torch.zeros(3, 1), nn.functional.mse_loss)
    assert torch.equal(layer.weight.grad, torch.ones(1, 2)) and layer.bias.grad is None


def test_everything_frozen_gives_zero_norms_not_an_error():
    layer = nn.Linear(2, 1).requires_grad_(False)
    grads = gradient_norms(layer, (torch.ones(3, 2),), torch.zeros(3, 1), nn.functional.mse_loss)
    assert [g.norm for g in grads.params] == [0.0, 0.0]


@pytest.mark.parametrize("name", ["lm", "classifier", "tabular", "collab", "collab-nn"])
def test_default_targets_fit_each_lesson_model(name):
    b = built(name)
    target = default_target(name, b.model, b.example)
    bs = b.example[0].shape[0]
    if name == "lm":
        assert target.shape == b.example[0].shape and int(target.max()) < SMALL.vocab_size
    elif name in ("classifier", "tabular"):
        assert target.shape == (bs,) and target.dtype == torch.long
    else:
        assert target.shape == ((bs,) if name == "collab" else (bs, 1))
        assert 0 <= float(target.min()) and float(target.max()) <= 5
    grads = gradient_norms(b.model, b.example, target, default_loss(name))
    assert math.isfinite(grads.loss) and any(g.norm > 0 for g in grads.params)


def test_counts_in_a_narrow_table_and_the_room_left_for_the_text():
    from l4tui.inspect.summary import MIN_TEXT_WIDTH, compact_count, fit_columns

    assert [compact_count(n) for n in (944, 1683, 47200, 133977, 999_499, 24_276_003, 3_000_000_000)] == \
        ["944", "1.7k", "47k", "134k", "999k", "24M", "3.0B"]
    assert fit_columns([30, 7, 5], 60) == 30  # all fits: the text keeps its width
    assert fit_columns([30, 7, 5], 40) == 40 - 12 - 6  # the text gives way, the figures do not
    assert fit_columns([30, 7, 5], 20) is None and MIN_TEXT_WIDTH > 20 - 18
