"""The lesson's models: fastai's architecture and parameter counts, shapes, and that they learn."""

import pytest
import torch
import torch.nn.functional as F

from l4tui.inspect.catalog import LESSON_MODELS, Sizes, build_model, find_model
from l4tui.inspect.summary import summarize
from l4tui.modelfiles import load_model_file

awd = load_model_file("awd_lstm")
tabular = load_model_file("tabular")
collab = load_model_file("collab")


def n_params(model):
    return sum(p.numel() for p in model.parameters())  # a tied tensor is counted once


def lstm_params(n_in, n_out):
    # weight_ih (4*n_out, n_in) + weight_hh (4*n_out, n_out) + bias_ih and bias_hh (4*n_out each)
    return 4 * n_out * n_in + 4 * n_out * n_out + 2 * 4 * n_out


# ---- parameter counts at the lesson's sizes, against fastai 2.8 ---------------------------------

def test_language_model_count_matches_fastai():
    vocab = 60_000
    embedding = vocab * 400  # 24,000,000, shared with the decoder (tied), so counted once
    lstms = lstm_params(400, 1152) + lstm_params(1152, 1152) + lstm_params(1152, 400)  # 20,273,280
    decoder_bias = vocab
    assert embedding + lstms + decoder_bias == 44_333_280  # fastai 2.8's figure
    assert n_params(awd.get_language_model(vocab)) == 44_333_280


def test_classifier_count():
    encoder = 60_000 * 400 + lstm_params(400, 1152) + lstm_params(1152, 1152) + lstm_params(1152, 400)
    # head: BatchNorm(1200) weight+bias, Linear(1200, 50) without bias, BatchNorm(50), Linear(50, 2) without bias
    head = 2 * 1200 + 1200 * 50 + 2 * 50 + 50 * 2
    assert n_params(awd.get_text_classifier(60_000, 2)) == encoder + head == 44_335_880


def test_collab_counts():
    # EmbeddingDotBias: user and item factors, plus a bias each
    assert n_params(collab.EmbeddingDotBias(50, 944, 1683)) == 944 * 50 + 1683 * 50 + 944 + 1683 == 133_977
    # EmbeddingNN, as the lesson prints it: Embedding(944, 74), Embedding(1665, 102), layers [100, 50]
    model = collab.EmbeddingNN(944, 1665, layers=(100, 50))
    assert [tuple(e.weight.shape) for e in model.embeds] == [(944, 74), (1665, 102)]
    expected = 944 * 74 + 1665 * 102 + (176 * 100 + 2 * 100) + (100 * 50 + 2 * 50) + (50 + 1)
    assert n_params(model) == expected


def test_tabular_count_for_the_adult_data():
    emb_szs = tabular.get_emb_szs(tabular.ADULT_CARDINALITIES)
    # fastai's rule: min(600, round(1.6 * n ** 0.56)); as the lesson's learner prints them
    assert emb_szs == [(10, 6), (17, 8), (8, 5), (16, 8), (7, 5), (6, 4), (3, 3)]
    model = tabular.TabularModel(emb_szs, n_cont=3, out_sz=2, layers=[200, 100])
    embeddings = 10 * 6 + 17 * 8 + 8 * 5 + 16 * 8 + 7 * 5 + 6 * 4 + 3 * 3  # 432
    bn_cont = 2 * 3
    blocks = (42 * 200 + 2 * 200) + (200 * 100 + 2 * 100)  # Linear without bias, then BatchNorm
    output = 100 * 2 + 2
    assert n_params(model) == embeddings + bn_cont + blocks + output == 29_640


def test_emb_sz_rule_caps_at_600():
    assert tabular.emb_sz_rule(10_000_000) == 600


# ---- the AWD-LSTM's parts -----------------------------------------------------------------------

def small_lm(vocab=50, drop_mult=1.0):
    return awd.get_language_model(vocab, emb_sz=32, n_hid=48, n_layers=3, drop_mult=drop_mult)


def small_classifier(vocab=50, drop_mult=1.0, bptt=8, max_len=16):
    return awd.get_text_classifier(vocab, 3, bptt=bptt, max_len=max_len, emb_sz=16, n_hid=24,
                                   drop_mult=drop_mult)


def test_dropouts_are_fastais_scaled_by_drop_mult():
    lm = awd.get_language_model(100, 8, 8, drop_mult=0.5)
    encoder = lm[0]
    assert encoder.encoder_dp.embed_p == pytest.approx(0.01)
    assert encoder.input_dp.p == pytest.approx(0.125)
    assert encoder.hidden_dps[0].p == pytest.approx(0.075)
    assert encoder.rnns[0].weight_p == pytest.approx(0.1)
    assert lm[1].output_dp.p == pytest.approx(0.05)
    clas = awd.get_text_classifier(100, 2, emb_sz=8, n_hid=8)
    encoder = clas[0].module
    assert (encoder.encoder_dp.embed_p, encoder.input_dp.p, encoder.hidden_dps[0].p, encoder.rnns[0].weight_p) == \
        pytest.approx((0.05, 0.4, 0.3, 0.5))
    assert clas[1].layers[0][1].p == pytest.approx(0.4)  # output_p, the head's first dropout


def test_lstm_sizes_and_padding_index():
    lm = awd.get_language_model(100)
    sizes = [(rnn.module.input_size, rnn.module.hidden_size) for rnn in lm[0].rnns]
    assert sizes == [(400, 1152), (1152, 1152), (1152, 400)]
    assert lm[0].encoder.padding_idx == awd.PAD_IDX == 1


def test_decoder_is_tied_to_the_embedding():
    lm = small_lm()
    assert lm[1].decoder.weight is lm[0].encoder.weight
    assert lm[1].decoder.weight.data_ptr() == lm[0].encoder.weight.data_ptr()


def test_language_model_shapes_and_state():
    lm = small_lm()
    out = lm(torch.randint(0, 50, (4, 7)))
    assert out.shape == (4, 7, 50)
    hidden = lm[0].hidden
    assert [h.shape for h, _ in hidden] == [(1, 4, 48), (1, 4, 48), (1, 4, 32)]
    assert any(h.abs().sum() > 0 for h, _ in hidden)
    assert not any(h.requires_grad for h, _ in hidden)  # detached between batches
    lm.reset()
    assert all(h.shape[1] == 1 and h.abs().sum() == 0 for h, _ in lm[0].hidden)


def test_hidden_state_carries_over_from_batch_to_batch():
    lm = small_lm().eval()
    tokens = torch.randint(2, 50, (2, 6))
    first = lm(tokens)
    second = lm(tokens)  # continues from the first batch's state
    lm.reset()
    fresh = lm(tokens)
    assert torch.allclose(first, fresh)
    assert not torch.allclose(first, second)


def test_eval_mode_is_deterministic():
    for model, x in [(small_lm(), torch.randint(0, 50, (2, 9))), (small_classifier(), torch.randint(2, 50, (2, 20)))]:
        model.eval()
        model.reset()
        a = model(x)
        model.reset()
        assert torch.equal(a, model(x))
    tab = tabular.TabularModel([(5, 3)], 2, 2).eval()
    x_cat, x_cont = torch.randint(0, 5, (4, 1)), torch.randn(4, 2)
    assert torch.equal(tab(x_cat, x_cont), tab(x_cat, x_cont))


def test_training_mode_drops_out():
    lm = small_lm()
    x = torch.randint(2, 50, (2, 9))
    lm.reset()
    a = lm(x)
    lm.reset()
    assert not torch.equal(a, lm(x))


def test_embedding_dropout_drops_whole_words():
    emb = torch.nn.Embedding(10, 4)
    dropout = awd.EmbeddingDropout(emb, embed_p=0.5)
    torch.manual_seed(0)
    out = dropout(torch.tensor([[3, 3, 3, 5, 5, 5]]))[0]
    rows = [bool(out[i].abs().sum() == 0) for i in range(6)]
    assert rows[:3] == [rows[0]] * 3 and rows[3:] == [rows[3]] * 3  # a word is dropped everywhere or nowhere


def test_rnn_dropout_uses_one_mask_for_all_time_steps():
    out = awd.RNNDropout(0.5)(torch.ones(3, 5, 8))
    assert torch.equal(out, out[:, :1].expand_as(out))


def test_padding_does_not_change_the_pooled_features():
    model = small_classifier(bptt=8, max_len=16).eval()
    encoder = model[0]
    docs = [torch.randint(2, 50, (n,)) for n in (5, 13, 30)]  # shorter than, across, and beyond max_len
    batch = torch.full((3, 30), awd.PAD_IDX)
    for i, doc in enumerate(docs):
        batch[i, :len(doc)] = doc
    with torch.no_grad():
        pooled = awd.masked_concat_pool(*encoder(batch))
        for i, doc in enumerate(docs):
            alone = awd.masked_concat_pool(*encoder(doc[None]))
            assert torch.allclose(pooled[i], alone[0], atol=1e-5), f"document {i}"
        assert model(batch).shape == (3, 3)


def test_concat_pool_is_last_max_mean_of_the_real_tokens():
    output = torch.tensor([[[1.0], [3.0], [2.0], [9.0]]])
    mask = torch.tensor([[False, False, False, True]])  # the last position is padding
    assert awd.masked_concat_pool(output, mask).tolist() == [[2.0, 3.0, 2.0]]


def test_freeze_to_trains_exactly_the_last_groups():
    model = small_classifier()
    groups = model.layer_groups()
    assert len(groups) == 5  # embedding, three LSTMs, head

    def trainable():
        return [all(p.requires_grad for m in g for p in m.parameters()) for g in groups]

    model.freeze_to(-1)
    assert trainable() == [False, False, False, False, True]
    model.freeze_to(-2)
    assert trainable() == [False, False, False, True, True]
    model.freeze_to(-3)
    assert trainable() == [False, False, True, True, True]
    model.freeze_to(0)
    assert trainable() == [True] * 5
    lm = small_lm()
    lm.freeze_to(-1)  # the LM's last group is the embedding with the tied decoder
    assert lm[0].encoder.weight.requires_grad and not lm[0].rnns[0].weight_hh_l0_raw.requires_grad


# ---- tabular and collab -------------------------------------------------------------------------

def test_tabular_takes_unseen_categories_and_missing_continuous_columns():
    model = tabular.TabularModel(tabular.get_emb_szs([4, 6]), n_cont=2, out_sz=2, layers=[8, 4], ps=0.1,
                                 embed_p=0.1).eval()
    x_cat = torch.tensor([[0, 0], [3, 5]])  # index 0 is #na#: unseen or missing
    assert model(x_cat, torch.randn(2, 2)).shape == (2, 2)
    only_cat = tabular.TabularModel([(4, 3)], n_cont=0, out_sz=1, layers=[8])
    assert only_cat(torch.tensor([[1], [2]])).shape == (2, 1)


def test_y_range_bounds_tabular_and_collab_outputs():
    model = tabular.TabularModel([(4, 3)], n_cont=1, out_sz=1, layers=[8], y_range=(1.0, 2.0))
    out = model(torch.tensor([[1], [2], [3]]), torch.randn(3, 1) * 100)
    assert torch.all((out > 1.0) & (out < 2.0))
    nn_model = collab.EmbeddingNN(10, 20, layers=(8,), y_range=(0.0, 5.5))
    out = nn_model(torch.tensor([[0, 1], [9, 19]]))
    assert out.shape == (2, 1) and torch.all((out > 0) & (out < 5.5))


# ---- every model learns, and every parameter gets a gradient -------------------------------------

def lesson_models_small():
    """(name, model, inputs, targets, loss) for each model at small sizes, dropout off."""
    torch.manual_seed(0)
    tokens = torch.randint(2, 50, (4, 12))
    docs = torch.randint(2, 50, (8, 20))
    x_cat, x_cont = torch.randint(0, 5, (16, 2)), torch.randn(16, 3)
    users_items = torch.randint(0, 10, (16, 2))
    ratings = torch.randint(1, 6, (16,)).float()
    return [
        ("lm", small_lm(drop_mult=0.0), (tokens[:, :-1],), tokens[:, 1:],
         lambda out, y: F.cross_entropy(out.reshape(-1, out.size(-1)), y.reshape(-1))),
        ("classifier", small_classifier(drop_mult=0.0), (docs,), torch.randint(0, 3, (8,)), F.cross_entropy),
        ("tabular", tabular.TabularModel([(5, 4), (5, 4)], 3, 2, layers=[32, 16]), (x_cat, x_cont),
         torch.randint(0, 2, (16,)), F.cross_entropy),
        ("collab", collab.EmbeddingDotBias(8, 10, 10, y_range=(0.0, 5.5)), (users_items,), ratings, F.mse_loss),
        ("collab-nn", collab.EmbeddingNN(10, 10, layers=(32, 16), y_range=(0.0, 5.5)), (users_items,),
         ratings[:, None], F.mse_loss),
    ]


@pytest.mark.parametrize("index", range(5), ids=[m.name for m in LESSON_MODELS])
def test_every_trainable_parameter_gets_a_gradient(index):
    name, model, inputs, targets, loss_func = lesson_models_small()[index]
    loss_func(model(*inputs), targets).backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"{name}: no gradient for {missing}"


@pytest.mark.parametrize("index", range(5), ids=[m.name for m in LESSON_MODELS])
def test_each_model_overfits_a_small_batch(index):
    name, model, inputs, targets, loss_func = lesson_models_small()[index]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(1000):  # until the loss is a tenth of where it started
        if hasattr(model, "reset"):
            model.reset()
        loss = loss_func(model(*inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if losses[-1] < losses[0] / 10:
            break
    assert losses[-1] < losses[0] / 10, f"{name}: {losses[0]:.3f} -> {losses[-1]:.3f} in {len(losses)} steps"


# ---- the catalog builds each model with an example batch ----------------------------------------

@pytest.mark.parametrize("entry", LESSON_MODELS, ids=lambda e: e.name)
def test_catalog_builds_small_models_whose_example_runs(entry):
    built = build_model(entry, Sizes(preset="small", vocab_size=100))
    summary = summarize(built.model, built.example)
    assert summary.rows[0].output_shape != "-"
    assert summary.total_params == n_params(built.model)


def test_summary_leaves_no_hook_behind():
    built = build_model(find_model("collab"), Sizes(preset="small"))
    summarize(built.model, built.example)
    assert all(not m._forward_hooks for m in built.model.modules())
