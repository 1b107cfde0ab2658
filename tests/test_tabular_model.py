"""models/tabular.py's TabularModel looks its embeddings up with one matrix product when the
columns have few categories in all (embed_all): the same outputs and gradients as the lesson's
lookup per column, which it keeps for many categories; the same weights and state_dict keys."""

import pytest
import torch
import torch.nn.functional as F

from l4tui.modelfiles import load_model_file

tabular = load_model_file("tabular")


def lesson_forward(model, x_cat, x_cont):
    """TabularModel's forward as written before the speed trick: a lookup per column, then cat."""
    embedded = torch.cat([embed(x_cat[:, i]) for i, embed in enumerate(model.embeds)], 1)
    parts = [model.emb_drop(embedded), model.bn_cont(x_cont)]
    return model.layers(torch.cat(parts, 1))


def batch(cardinalities, n=64, seed=1):
    generator = torch.Generator().manual_seed(seed)
    x_cat = torch.stack([torch.randint(0, c, (n,), generator=generator) for c in cardinalities], 1)
    return x_cat, torch.randn(n, 3, generator=generator)


@pytest.mark.parametrize("cardinalities", [tabular.ADULT_CARDINALITIES, [700, 5, 3]])
def test_outputs_and_gradients_match_the_lookup_per_column(cardinalities):
    torch.manual_seed(0)
    model = tabular.TabularModel(tabular.get_emb_szs(cardinalities), 3, 2, layers=[200, 100])
    assert (model.n_categories <= tabular.MATMUL_LOOKUP_MAX) == (cardinalities is tabular.ADULT_CARDINALITIES)
    x_cat, x_cont = batch(cardinalities)
    target = torch.arange(64) % 2
    for mode in ("train", "eval"):
        getattr(model, mode)()
        grads = []
        for forward in (model, lambda c, n: lesson_forward(model, c, n)):
            state = {k: v.clone() for k, v in model.state_dict().items()}  # BatchNorm's running stats move
            model.zero_grad()
            out = forward(x_cat, x_cont)
            F.cross_entropy(out, target).backward()
            grads.append((out.detach(), [p.grad.clone() for p in model.parameters()]))
            model.load_state_dict(state)
        (ours, ours_grads), (lesson, lesson_grads) = grads
        torch.testing.assert_close(ours, lesson, rtol=0, atol=1e-6)
        for a, b in zip(ours_grads, lesson_grads):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)


def test_the_state_dict_keeps_its_keys():
    model = tabular.TabularModel(tabular.get_emb_szs(tabular.ADULT_CARDINALITIES), 3, 2)
    keys = set(model.state_dict())
    assert "cat_offsets" not in keys and "embeds.0.weight" in keys
    assert model.cat_offsets.tolist() == [0, 10, 27, 35, 51, 58, 64]


def test_hooks_on_the_embeddings_still_see_each_column():
    """The Model pane's activations hook each Embedding: while hooked, it is called."""
    model = tabular.TabularModel(tabular.get_emb_szs(tabular.ADULT_CARDINALITIES), 3, 2)
    x_cat, x_cont = batch(tabular.ADULT_CARDINALITIES)
    seen = []
    handle = model.embeds[2].register_forward_hook(lambda module, args, out: seen.append(out.shape))
    with_hook = model(x_cat, x_cont)
    handle.remove()
    assert seen == [(64, model.embeds[2].embedding_dim)]
    torch.testing.assert_close(model(x_cat, x_cont), with_hook, rtol=0, atol=1e-6)
