"""The Results tab's numbers without the UI (l4tui/inspect/interpret.py): the confusion matrix and
top losses on a run's validation items as its recipe split them, gradient × embedding, and the
worst-predicted ratings of a collab run."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from made_runs import make_run
from l4tui.inspect.interpret import (class_results, classify_rows, classify_texts, confusion_matrix,
                                     most_confused, top_losses, word_attributions, worst_ratings)
from l4tui.inspect.predict import load_predictor
from l4tui.train.validation import validation_items


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("interpret") / "runs"
    tasks = {family: make_run(folder, family, name=f"20261206-000000-{family}-test", steps=8)[1]
             for family in ("classifier", "tabular", "collab")}
    return folder, tasks


def recipe_valid(task):
    """Logits and targets over the recipe's own validation batches."""
    outputs, targets = [], []
    with torch.no_grad():
        for inputs, target in task.valid.epoch_batches(0):
            output = task.model(*inputs)
            outputs.append(output[0] if isinstance(output, tuple) else output)
            targets.append(target)
    return torch.cat(outputs), torch.cat(targets)


def test_the_matrix_is_counts_of_actual_by_predicted():
    matrix = confusion_matrix([0, 0, 1, 1, 1, 2], [0, 1, 1, 1, 2, 2], 3)
    assert matrix.tolist() == [[1, 1, 0], [0, 2, 1], [0, 0, 1]]
    results = class_results(np.log([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]), [0, 0, 1], ["a", "b"])
    assert results.losses == pytest.approx([-np.log(0.9), -np.log(0.2), -np.log(0.4)])
    assert [t.index for t in top_losses(results)] == [1, 2, 0]
    assert most_confused(results) == [("a", "b", 1), ("b", "a", 1)]


@pytest.mark.parametrize("family", ["classifier", "tabular"])
def test_on_the_runs_validation_items_the_matrix_gives_the_recipes_accuracy_and_loss(runs, family):
    folder, tasks = runs
    subject = load_predictor(f"20261206-000000-{family}-test", folder)
    items = validation_items(family, subject.config)
    if family == "classifier":
        logits, targets = classify_texts(subject, items.texts), items.targets
    else:
        logits, targets = classify_rows(subject, items.frame)
    results = class_results(logits, targets, subject.classes)
    task = tasks[family]
    recipe_logits, recipe_targets = recipe_valid(task)
    assert items.n == task.start["n_valid"] == results.matrix.sum()
    recipe_accuracy = (recipe_logits.argmax(1) == recipe_targets).float().mean().item()
    assert results.matrix.trace() / results.matrix.sum() == pytest.approx(recipe_accuracy)
    assert results.accuracy == pytest.approx(recipe_accuracy)
    assert results.losses.mean() == pytest.approx(F.cross_entropy(recipe_logits, recipe_targets).item(), abs=1e-4)
    worst = top_losses(results, 10)
    assert [t.loss for t in worst] == sorted((t.loss for t in worst), reverse=True)
    assert worst[0].loss == pytest.approx(results.losses.max())
    for t in worst:
        assert t.loss == pytest.approx(-np.log(t.probability), abs=1e-6)
        assert (t.actual == t.predicted) == (t.probability == t.predicted_probability)


class Bag(nn.Module):
    """The mean of the words' embeddings, then a Linear layer: linear in the embeddings."""

    def __init__(self, n_words):
        super().__init__()
        self.emb = nn.Embedding(n_words, 2)
        self.lin = nn.Linear(2, 2)

    def forward(self, ids):
        return self.lin(self.emb(ids).mean(1))


def test_gradient_times_embedding_on_a_model_where_the_answer_is_known():
    from l4tui.data.vocab import Vocab
    from l4tui.data.tokenizer import SPECIAL_TOKENS

    vocab = Vocab(SPECIAL_TOKENS + ["great", "awful", "film", "a"])
    model = Bag(len(vocab))
    with torch.no_grad():
        model.emb.weight.zero_()
        model.emb.weight[vocab.stoi["great"]] = torch.tensor([3.0, 1.0])
        model.emb.weight[vocab.stoi["awful"]] = torch.tensor([-2.0, 5.0])
        model.lin.weight.copy_(torch.tensor([[0.0, 0.0], [1.0, 0.0]]))  # the pos logit reads dim 0
        model.lin.bias.copy_(torch.tensor([-0.1, 0.3]))
    subject = SimpleNamespace(model=model, vocab=vocab, classes=["neg", "pos"])
    pushes = word_attributions(subject, "a great film a awful film")
    n = len(pushes.tokens)  # xxbos a great film a awful film
    scores = dict(zip(pushes.tokens, pushes.scores))
    assert scores["great"] == pytest.approx(3.0 / n)  # towards pos: its dim 0 over the mean's n
    assert scores["awful"] == pytest.approx(-2.0 / n)  # towards neg; its dim 1 is read by nobody
    assert scores["film"] == 0.0 and scores["a"] == 0.0
    with torch.no_grad():
        logits = model(torch.tensor([vocab.numericalize(pushes.tokens)]))[0]
    # linear in the embeddings: the scores add up to the logit difference less the bias's
    assert pushes.total == pytest.approx(float(logits[1] - logits[0]) - (0.3 - -0.1))
    assert pushes.towards == ("neg", "pos") and pushes.predicted == "pos"
    assert pushes.strongest(1) == [("great", pytest.approx(3.0 / n))]


def test_gradient_times_embedding_on_the_awd_lstm_classifier_reads_every_token(runs):
    folder, _ = runs
    subject = load_predictor("20261206-000000-classifier-test", folder)
    long_review = " ".join(["a fine film ."] * 60)  # 240 words: the classifier reads it bptt at a time
    pushes = word_attributions(subject, long_review)
    assert len(pushes.scores) == len(pushes.tokens) > subject.config["bptt"] * 2
    assert all(np.isfinite(pushes.scores)) and any(s != 0 for s in pushes.scores)
    assert sum(pushes.probabilities) == pytest.approx(1.0)


def test_the_worst_ratings_come_first_and_their_rmse_is_the_runs(runs):
    folder, tasks = runs
    subject = load_predictor("20261206-000000-collab-test", folder)
    items = validation_items("collab", subject.config)
    worst, rmse = worst_ratings(subject, items.users, items.items, items.ratings, n=15)
    errors = [abs(w.error) for w in worst]
    assert errors == sorted(errors, reverse=True) and len(worst) == 15
    predictions, targets = recipe_valid(tasks["collab"])
    assert rmse == pytest.approx(F.mse_loss(predictions, targets).sqrt().item(), abs=1e-5)
    assert errors[0] == pytest.approx((predictions - targets).abs().max().item(), abs=1e-5)
    assert worst[0].title == subject.titles[worst[0].item]


def test_reviews_read_in_padded_batches_get_the_logits_they_get_alone(runs):
    folder, _ = runs
    subject = load_predictor("20261206-000000-classifier-test", folder)
    texts = validation_items("classifier", subject.config).texts[:6]
    assert len({len(t) for t in texts}) > 1  # different lengths: the shorter ones are padded
    together = classify_texts(subject, texts, bs=6)
    alone = classify_texts(subject, texts, bs=1)
    assert np.allclose(together, alone, atol=1e-4)
