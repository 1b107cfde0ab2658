"""From `self.X` in a model's source to its tensors in the built model (inspect/source_link.py),
on the lesson's five models and on a model of the user's own, found from the model itself."""

import importlib.util
import re
import sys
import textwrap

import pytest

from l4tui.inspect.catalog import Sizes, build_model, lesson_entry, source_file
from l4tui.inspect.source_link import (SourceAttribute, attribute_at, definition_of, link_attribute, row_labels,
                                       tensor_summary)

torch = pytest.importorskip("torch")


def at(source: str, written: str, nth: int = 0, on: str | None = None):
    """(line, col) of the first name `on` (default: the last `.name`) in the nth occurrence of `written`."""
    start = -1
    for _ in range(nth + 1):
        start = source.index(written, start + 1)
    offset = start + (written.index(on) if on else re.match(r"self(?:\.\w+|\[\w+\])*\.", written).end())
    line = source.count("\n", 0, offset) + 1
    return line, offset - (source.rfind("\n", 0, offset) + 1)


def linked(name: str, written: str, nth: int = 0, on: str | None = None):
    entry = lesson_entry(name)
    built = build_model(entry, Sizes(preset="small"))
    path = source_file(entry)
    source = path.read_text()
    attribute = attribute_at(source, *at(source, written, nth, on))
    assert attribute is not None, written
    return attribute, link_attribute(built.model, attribute, path), built.model


def names(link) -> list[str]:
    return [t.name for t in link.tensors]


def test_collab_u_weight_is_the_user_embedding_matrix():
    attribute, link, model = linked("collab", "self.u_weight = ")
    assert (attribute.class_name, attribute.steps, attribute.text) == ("EmbeddingDotBias", ("u_weight",), "self.u_weight")
    assert link.instances == [""]
    assert names(link) == ["u_weight.weight"]
    assert link.tensors[0].tensor is model.u_weight.weight
    assert link.tensors[0].tied_to == [] and link.tensors[0].kind == "parameter"
    assert (link.tensors[0].module_name, link.tensors[0].local_name) == ("u_weight", "weight")
    # the same attribute read in forward, and one that is no tensor
    _, used, _ = linked("collab", "self.i_bias(items)")
    assert names(used) == ["i_bias.weight"]
    # `embedding.weight` in `for embedding in (self.u_weight, self.i_weight, ...)`: each of them
    loop, each, _ = linked("collab", "(embedding.weight", on="weight")
    assert loop.text == "embedding.weight" and loop.alternatives[0] == ("u_weight",)
    assert names(each) == ["u_weight.weight", "i_weight.weight", "u_bias.weight", "i_bias.weight"]
    _, plain, _ = linked("collab", "self.y_range = ")
    assert plain.tensors == [] and "plain attribute" in plain.note and "(0.0, 5.5)" in plain.note


def test_lm_decoder_weight_is_tied_to_the_encoder():
    attribute, link, model = linked("lm", "self.decoder.weight = tie_encoder.weight", on="weight")
    assert (attribute.class_name, attribute.steps) == ("LinearDecoder", ("decoder", "weight"))
    assert names(link) == ["1.decoder.weight"]
    assert link.tensors[0].tensor is model[0].encoder.weight
    assert set(link.tensors[0].tied_to) == {"0.encoder.weight", "0.encoder_dp.emb.weight"}
    # from the other side: the embedding, in AWD_LSTM
    _, encoder, _ = linked("lm", "self.encoder = nn.Embedding")
    assert names(encoder) == ["0.encoder.weight"]
    assert "1.decoder.weight" in encoder.tensors[0].tied_to
    # `self.decoder` alone: the whole layer, its bias too
    _, layer, _ = linked("lm", "self.decoder = nn.Linear")
    assert names(layer) == ["1.decoder.weight", "1.decoder.bias"]


def test_lm_rnns_built_in_a_loop_give_every_layer():
    _, link, model = linked("lm", "self.rnns = nn.ModuleList")
    n_layers = len(model[0].rnns)
    assert {t.name.split(".")[2] for t in link.tensors} == {str(i) for i in range(n_layers)}
    assert "0.rnns.0.weight_hh_l0_raw" in names(link)
    # WeightDropout's raw weight, made with register_parameter in a loop over layer names
    attribute, raw, _ = linked("lm", "self.module", nth=0)
    assert attribute.class_name == "WeightDropout"
    assert [t.name for t in raw.tensors][:2] == ["0.rnns.0.module.weight_ih_l0", "0.rnns.0.module.bias_ih_l0"]
    assert raw.instances == [f"0.rnns.{i}" for i in range(n_layers)]  # one instance per layer


def test_an_index_into_a_module_list():
    source = textwrap.dedent("""
        from torch import nn

        class Stack(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnns = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])

            def forward(self, x):
                for i in range(3):
                    x = self.rnns[i](x)
                return self.rnns[1](x)
        """)
    attribute = attribute_at(source, *at(source, "self.rnns[i]", on="rnns"))
    assert attribute.steps == ("rnns",)
    # the cursor on a name *after* the index: every element, or the one a constant names
    source2 = source.replace("x = self.rnns[i](x)", "x = self.rnns[i].weight @ x").replace(
        "return self.rnns[1](x)", "return self.rnns[1].bias")
    every = attribute_at(source2, *at(source2, "self.rnns[i].weight"))
    assert every.steps == ("rnns", None, "weight") and every.text == "self.rnns[i].weight"
    one = attribute_at(source2, *at(source2, "self.rnns[1].bias"))
    assert one.steps == ("rnns", 1, "bias")


def test_classifier_through_the_sentence_encoder():
    _, encoder, _ = linked("classifier", "self.encoder = nn.Embedding")
    assert names(encoder) == ["0.module.encoder.weight"]
    assert encoder.tensors[0].tied_to == ["0.module.encoder_dp.emb.weight"]  # no decoder to tie to
    _, head, _ = linked("classifier", "self.layers = nn.Sequential(*blocks)", nth=0)
    assert head.instances == ["1"] and all(n.startswith("1.layers.") for n in names(head))


def test_tabular_embeddings_and_buffers():
    _, embeds, model = linked("tabular", "self.embeds = ")
    assert names(embeds) == [f"embeds.{i}.weight" for i in range(len(model.embeds))]
    _, bn, _ = linked("tabular", "self.bn_cont = ")
    kinds = {t.local_name: t.kind for t in bn.tensors}
    assert kinds["weight"] == "parameter" and kinds["running_mean"] == "buffer"


def test_collab_nn_runs_the_tabular_models_init():
    """EmbeddingNN is a TabularModel: `self.embeds` in tabular.py is its embeddings too."""
    entry = lesson_entry("collab-nn")
    built = build_model(entry, Sizes(preset="small"))
    tabular = source_file(lesson_entry("tabular"))
    source = tabular.read_text()
    attribute = attribute_at(source, *at(source, "self.embeds = "))
    link = link_attribute(built.model, attribute, tabular)
    assert link.instances == [""]
    assert names(link) == ["embeds.0.weight", "embeds.1.weight"]
    # a class the model does not have, and a file it was not built from
    collab_source = source_file(entry).read_text()
    dot = attribute_at(collab_source, *at(collab_source, "self.u_weight = "))
    assert link_attribute(built.model, dot, source_file(entry)).note == "the model has no EmbeddingDotBias from collab.py"


USER_MODEL = '''
import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, size):
        super().__init__()
        self.lin = nn.Linear(size, size)
        self.register_buffer("scale", torch.ones(size))

    def forward(self, x):
        return self.lin(x) * self.scale


class Mine(nn.Module):
    def __init__(self, vocab=10, size=4, n=3):
        super().__init__()
        self.emb = nn.Embedding(vocab, size)
        self.blocks = nn.ModuleList()
        for _ in range(n):
            self.blocks.append(Block(size))
        self.out = nn.Linear(size, vocab)
        self.out.weight = self.emb.weight
        self.label = "mine"

    def forward(self, x):
        h = self.emb(x)
        for i in range(len(self.blocks)):
            h = self.blocks[i](h)
        return self.out(h)

    def example_input(self):
        return torch.zeros(2, 5, dtype=torch.long)
'''


@pytest.fixture
def user_model(tmp_path):
    path = tmp_path / "models" / "mine.py"
    path.parent.mkdir()
    path.write_text(USER_MODEL)
    spec = importlib.util.spec_from_file_location("l4tui_test_mine", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield path, module.Mine()
    del sys.modules[spec.name]


def test_a_users_model_tied_weights_and_a_loop(user_model):
    path, model = user_model

    def link(written, nth=0, on=None):
        attribute = attribute_at(USER_MODEL, *at(USER_MODEL, written, nth, on))
        return link_attribute(model, attribute, path)

    tied = link("self.out.weight = self.emb.weight", on="weight")  # the first `weight`: out's
    assert names(tied) == ["out.weight"] and tied.tensors[0].tied_to == ["emb.weight"]
    assert link("self.out.weight = self.emb.weight", on="emb").tensors[0].tied_to == ["out.weight"]
    blocks = link("self.blocks[i](h)", on="blocks")
    assert names(blocks) == [f"blocks.{i}.{n}" for i in range(3) for n in ("scale", "lin.weight", "lin.bias")]
    # `self.lin` in Block: one per instance, each found from the model's modules
    lin = link("self.lin = ")
    assert lin.instances == ["blocks.0", "blocks.1", "blocks.2"]
    assert names(lin) == [f"blocks.{i}.lin.{n}" for i in range(3) for n in ("weight", "bias")]
    scale = link("self.scale", on="scale")
    assert {t.kind for t in scale.tensors} == {"buffer"} and len(scale.tensors) == 3
    assert "plain attribute" in link("self.label = ").note
    model.out.bias = None  # as nn.Linear(..., bias=False) leaves it
    no_bias = link_attribute(model, SourceAttribute("Mine", ("out", "bias"), 1), path)
    assert no_bias.tensors == [] and no_bias.note.startswith("out.bias: None (a parameter slot with no tensor")
    assert attribute_at(USER_MODEL, *at(USER_MODEL, "h = self.emb(x)", on="h")) is None  # a local name


def test_definition_of_a_layer(user_model):
    path, model = user_model
    place = definition_of(model, "blocks.1")
    assert (place.path, place.class_name) == (path.resolve(), "Block")
    assert USER_MODEL.splitlines()[place.line - 1].startswith("class Block")
    assert definition_of(model, "").class_name == "Mine"
    torch_place = definition_of(model, "emb")
    assert torch_place.path.name == "sparse.py" and torch_place.class_name == "Embedding"
    with pytest.raises(ValueError, match="no layer"):
        definition_of(model, "nope")


def test_summary_top_rows_labelled_with_movie_titles():
    from l4tui.inspect.subject import fresh_subject

    subject = fresh_subject(lesson_entry("collab"), Sizes(preset="small"))
    weight = subject.model.i_weight.weight
    with torch.no_grad():
        weight[3] = 10.0  # the biggest row by far
    labels, rows_of = row_labels(subject, "i_weight.weight", weight.shape[0])
    assert rows_of == "movies" and labels[0] == "#na#"
    summary = tensor_summary(weight, labels, rows_of)
    assert summary.shape == tuple(weight.shape) and summary.dtype == "float32"
    assert summary.top_rows[0][0] == 3
    assert summary.top_rows[0][1] == subject.titles.get(subject.items[2], f"item {subject.items[2]}")
    assert summary.stats.max == pytest.approx(10.0) and sum(summary.stats.counts) == weight.numel()


def test_tokens_label_the_encoder_rows():
    from l4tui.inspect.subject import fresh_subject

    subject = fresh_subject(lesson_entry("lm"), Sizes(preset="small", vocab_size=500))
    labels, rows_of = row_labels(subject, "0.encoder.weight", 500)
    assert rows_of == "tokens" and labels[:2] == subject.vocab.itos[:2]
    assert row_labels(subject, "1.decoder.bias", 500) == (None, "")
