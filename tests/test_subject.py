"""The Model pane's subject without the UI: a model with its weights, inputs typed by a user, what
the output means; fresh and from a run's checkpoint."""

import pytest
import torch

from l4tui.data.tokenizer import tokenize
from l4tui.inspect.activations import any_hooks_left, capture_activations
from l4tui.inspect.catalog import Sizes, find_model
from l4tui.presets import PRESETS
from l4tui.inspect.outputs import class_probabilities, explain_output
from l4tui.inspect.subject import (InputError, checkpoint_subject, encode_input, example_input_text,
                                   fresh_subject, input_kind, sample_ratings)
from l4tui.modelfiles import load_model_file

SMALL = Sizes(preset="small")


@pytest.mark.parametrize("name, kind, output_shape", [
    ("lm", "text", None),  # (1, n_tokens, vocab): worked out below
    ("classifier", "text", (1, 2)),
    ("tabular", "row", (1, 2)),
    ("collab", "pair", (1,)),
    ("collab-nn", "pair", (1, 1)),
])
def test_each_models_own_kind_of_input_goes_through_it(name, kind, output_shape):
    subject = fresh_subject(find_model(name), SMALL)
    assert input_kind(subject) == kind
    typed = example_input_text(subject)
    inputs = encode_input(subject, typed)
    capture = capture_activations(subject.model, inputs)
    assert not any_hooks_left(subject.model)
    if name == "lm":
        n_tokens = len(tokenize(typed))
        output_shape = (1, n_tokens, SMALL.vocab_size)
        lstm = next(a for a in capture.activations if a.name == "0.rnns.0.module")
        assert lstm.output_shape == (1, n_tokens, PRESETS["small"]["n_hid"])  # the small preset's hidden size
    assert tuple(capture.output.shape) == output_shape
    lines = explain_output(subject, inputs, capture.output, typed)
    assert lines and all(isinstance(line, str) for line in lines)


def test_inputs_that_cannot_be_used_say_why():
    lm = fresh_subject(find_model("lm"), SMALL)
    with pytest.raises(InputError, match="type a sentence"):
        encode_input(lm, "  ")
    collab = fresh_subject(find_model("collab"), SMALL)
    with pytest.raises(InputError, match="cold-start"):
        encode_input(collab, "999999, 50")
    with pytest.raises(InputError, match="separated by a comma"):
        encode_input(collab, "13")
    with pytest.raises(InputError, match="no movie matches 'Zzyzx Returns'"):
        encode_input(collab, "13, Zzyzx Returns")
    tabular = fresh_subject(find_model("tabular"), SMALL)
    row = example_input_text(tabular)
    with pytest.raises(InputError, match="age is a continuous column: 'forty' is not a number"):
        encode_input(tabular, {**row, "age": "forty"})
    x_cat, x_cont = encode_input(tabular, {**row, "age": "", "workclass": "Astronaut"})
    assert x_cat[0, tabular.processor.cat_names.index("workclass")] == 0  # unseen: #na#
    assert torch.isfinite(x_cont).all()  # a missing number is filled, as in training


def test_a_checkpoint_brings_its_own_ids_and_the_prediction_is_worked_by_hand(tmp_path):
    collab = load_model_file("collab")
    ratings = sample_ratings()
    users = sorted(set(ratings.table["user"].tolist()))
    items = sorted(set(ratings.table["item"].tolist()))
    torch.manual_seed(0)
    model = collab.EmbeddingDotBias(4, len(users) + 1, len(items) + 1, y_range=(0.0, 5.5))
    path = tmp_path / "runs" / "20260101-000000-collab-ab12" / "checkpoints" / "epoch-003.pt"
    path.parent.mkdir(parents=True)
    torch.save({"model": model.state_dict(), "family": "collab", "config": {"y_range": [0.0, 5.5]},
                "users": users, "items": items}, path)
    subject = checkpoint_subject(path)
    assert subject.weights == "20260101-000000-collab-ab12 · epoch 3"
    user, item = users[5], items[7]
    inputs = encode_input(subject, f"{user}, {item}")
    assert inputs[0].tolist() == [[6, 8]]  # row i + 1 is the i-th id: row 0 is #na#
    with torch.no_grad():
        raw = float(model.u_weight.weight[6] @ model.i_weight.weight[8] + model.u_bias.weight[6, 0]
                    + model.i_bias.weight[8, 0])
    by_hand = torch.sigmoid(torch.tensor(raw)).item() * 5.5
    lines = explain_output(subject, inputs, subject.model(*inputs), f"{user}, {item}")
    assert any(line.endswith(f"predicted rating {by_hand:.3f}") for line in lines)
    assert f"= {raw:+.4f}" in "\n".join(lines)


def test_class_probabilities_are_a_softmax_in_order():
    ranked = class_probabilities(torch.tensor([[0.0, 2.0]]), ["<50k", ">=50k"])
    assert [name for name, _ in ranked] == [">=50k", "<50k"]
    assert ranked[0][1] == pytest.approx(1 / (1 + torch.exp(torch.tensor(-2.0)).item()))


def test_the_language_models_first_input_is_all_words_of_its_vocab():
    """The Activations tab starts from this text: an xxunk in it would show the model nothing."""
    subject = fresh_subject(find_model("lm"), SMALL)
    typed = example_input_text(subject)
    assert all(token in subject.vocab for token in tokenize(typed)), typed


def test_a_user_model_returning_a_dict_or_no_tensor_is_described_not_blamed(tmp_path):
    """A forward that returns {"logits": ..., "extra": [x, None]}: its pass worked, and the output
    line describes it (the app once said "the forward pass failed" for its own look-up)."""
    from l4tui.inspect.summary import shape_text

    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "dictout.py").write_text(
        "import torch\n"
        "class DictOut(torch.nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        self.l = torch.nn.Linear(3, 2)\n"
        "    def forward(self, x):\n        return {'logits': self.l(x), 'extra': [x, None]}\n"
        "    def example_input(self):\n        return torch.zeros(1, 3)\n")
    subject = fresh_subject(find_model("dictout.DictOut", tmp_path), SMALL, tmp_path)
    inputs = (torch.zeros(1, 3),)
    capture = capture_activations(subject.model, inputs)
    lines = explain_output(subject, inputs, capture.output, "")
    assert lines[0].startswith("output: shape [1, 2], first values")
    assert shape_text(capture.output) == "[1, 2]"
    assert explain_output(subject, inputs, {"nothing": None}, "") == ["output: a dict with no tensor in it"]
