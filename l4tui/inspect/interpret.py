"""What a trained classifier got wrong, as fastai's ClassificationInterpretation shows it, and the
words that pushed one review's prediction; the worst-predicted ratings of a collab model.

    interp = ClassificationInterpretation.from_learner(learn)
    interp.plot_confusion_matrix()          ->  results.matrix (rows: actual, columns: predicted)
    interp.plot_top_losses(9)               ->  top_losses(results, 9)
    interp.most_confused(min_val=2)         ->  most_confused(results, 2)

    logits = classify_texts(subject, texts)                  # the text classifier, in batches
    logits, targets = classify_rows(subject, frame)          # the tabular model
    results = class_results(logits, targets, classes)        # probabilities, losses, the matrix
    pushes = word_attributions(subject, "a dull film with a great ending")
    worst = worst_ratings(subject, users, items, ratings, n=20)

The items are the run's validation items, split as its recipe split them (train/validation.py
gives them); the model is the run's checkpoint (subject.checkpoint_subject).

Gradient × embedding ("the words that pushed it"): for each token, the gradient of the score
with respect to that token's embedding vector, dotted with the vector itself. For a model that is
linear in its embeddings (an average of embeddings, then a Linear layer) these numbers add up to
the score minus the layer's bias exactly; for the AWD-LSTM they are a first-order estimate of how
much each word moved the score. The score is the difference of the two logits for two classes
(positive: towards the second class, negative: towards the first), and the predicted class's
logit otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


# ---- a classifier on its validation items --------------------------------------------------------

@dataclass
class ClassResults:
    classes: list[str]
    targets: np.ndarray  # (n,) the true class ids
    probs: np.ndarray  # (n, n_classes) softmax of the logits
    losses: np.ndarray  # (n,) cross-entropy: -log probs[target]

    @property
    def preds(self) -> np.ndarray:
        return self.probs.argmax(1)

    @property
    def accuracy(self) -> float:
        return float((self.preds == self.targets).mean()) if len(self.targets) else 0.0

    @property
    def matrix(self) -> np.ndarray:
        return confusion_matrix(self.targets, self.preds, len(self.classes))


def confusion_matrix(targets, preds, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) counts: row = the actual class, column = the predicted one, as
    fastai's plot_confusion_matrix. The diagonal are the right predictions."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(targets, dtype=np.int64), np.asarray(preds, dtype=np.int64)), 1)
    return matrix


def class_results(logits, targets, classes: list[str]) -> ClassResults:
    """Probabilities and per-item cross-entropy losses from the model's logits (n, n_classes)."""
    logits = np.asarray(logits, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.int64)
    shifted = logits - logits.max(1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    losses = -log_probs[np.arange(len(targets)), targets] if len(targets) else np.zeros(0)
    return ClassResults(list(classes), targets, np.exp(log_probs), losses)


@dataclass
class TopLoss:
    index: int  # the item's place among the validation items
    actual: str
    predicted: str
    loss: float
    probability: float  # the model's probability of the actual class (fastai shows the predicted
    #                     class's; we show both: `predicted_probability`)
    predicted_probability: float


def top_losses(results: ClassResults, k: int | None = None) -> list[TopLoss]:
    """The `k` items with the highest loss, highest first (ties: the earlier item first): the
    ones the model was most confidently wrong about, or least sure right about."""
    order = np.argsort(-results.losses, kind="stable")[:k]
    preds = results.preds
    return [TopLoss(int(i), results.classes[results.targets[i]], results.classes[preds[i]],
                    float(results.losses[i]), float(results.probs[i, results.targets[i]]),
                    float(results.probs[i, preds[i]])) for i in order]


def most_confused(results: ClassResults, min_val: int = 1) -> list[tuple[str, str, int]]:
    """(actual, predicted, count) of the matrix's off-diagonal cells with at least min_val items,
    the largest first (fastai's interp.most_confused)."""
    matrix = results.matrix
    cells = [(results.classes[a], results.classes[p], int(matrix[a, p]))
             for a in range(len(matrix)) for p in range(len(matrix)) if a != p and matrix[a, p] >= min_val]
    return sorted(cells, key=lambda cell: -cell[2])


def classify_texts(subject, texts: list[str], bs: int = 32, progress=None) -> np.ndarray:
    """The text classifier's logits (n, n_classes) for each text, tokenized and numericalized as
    the recipe did. Texts go in batches of similar lengths, padded at the end with xxpad, which
    the classifier's pooling ignores: each text's logits are the ones it gets alone.
    progress(done, total), when given, is called after each batch."""
    from l4tui.data.tokenizer import PAD, tokenize_many

    ids = [subject.vocab.numericalize(tokens) for tokens in tokenize_many(texts)]
    return _batched_logits(subject.model, ids, bs, subject.vocab.stoi.get(PAD, 1), progress)


def _batched_logits(model, ids: list[list[int]], bs: int, pad_id: int, progress=None) -> np.ndarray:
    import torch

    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out = [None] * len(ids)
    model.eval()
    with torch.no_grad():
        for start in range(0, len(order), bs):
            chunk = order[start:start + bs]
            width = max(1, max(len(ids[i]) for i in chunk))
            batch = torch.full((len(chunk), width), pad_id, dtype=torch.long)
            for row, i in enumerate(chunk):
                batch[row, :len(ids[i])] = torch.as_tensor(ids[i], dtype=torch.long)
            if hasattr(model, "reset"):
                model.reset()
            logits = _first(model(batch)).float()
            for row, i in enumerate(chunk):
                out[i] = logits[row].numpy()
            if progress is not None:
                progress(min(start + bs, len(order)), len(order))
    if not out:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack(out)


def classify_rows(subject, frame) -> tuple[np.ndarray, np.ndarray]:
    """The tabular model's logits (n, n_classes) for a DataFrame of rows with the training
    columns, and their targets as class ids (processed with the run's own procs)."""
    import torch

    x_cat, x_cont, y = subject.processor.transform(frame)
    model = subject.model
    model.eval()
    logits = []
    with torch.no_grad():
        for start in range(0, len(x_cat), 1024):
            logits.append(_first(model(torch.as_tensor(x_cat[start:start + 1024]),
                                       torch.as_tensor(x_cont[start:start + 1024]))).float().numpy())
    return (np.concatenate(logits) if logits else np.zeros((0, len(subject.classes)))), np.asarray(y)


def _first(output):
    return output[0] if isinstance(output, (tuple, list)) else output


# ---- the words that pushed a review --------------------------------------------------------------

@dataclass
class WordPushes:
    tokens: list[str]
    scores: list[float]  # one per token: > 0 pushed towards `towards[1]`, < 0 towards `towards[0]`
    towards: tuple[str, str]  # (the class a negative score pushes to, the one a positive score does)
    predicted: str
    probabilities: list[float]  # per class
    total: float  # the sum of the scores

    def strongest(self, n: int = 5) -> list[tuple[str, float]]:
        order = np.argsort(-np.abs(np.asarray(self.scores)), kind="stable")[:n]
        return [(self.tokens[i], self.scores[i]) for i in order]


def embedding_module(model):
    """The module whose output is the embedded tokens: the AWD-LSTM's EmbeddingDropout (it looks
    the rows up itself), else the model's first nn.Embedding."""
    import torch.nn as nn

    for module in model.modules():
        if type(module).__name__ == "EmbeddingDropout":
            return module
    for module in model.modules():
        if isinstance(module, nn.Embedding):
            return module
    raise ValueError("this model has no embedding layer: gradient × embedding needs one")


def token_attributions(model, ids, classes: list[str], target: int | None = None):
    """(per-token scores, towards, predicted class id, probabilities) for one sequence of ids
    (gradient × embedding, as the module's docstring says). The embedding may be called more
    than once a forward (the classifier reads a long review bptt tokens at a time): each call's
    output is kept and they are joined in order."""
    import torch

    embedded = []

    def keep(module, args, output):
        output.retain_grad()
        embedded.append(output)

    handle = embedding_module(model).register_forward_hook(keep)
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            if hasattr(model, "reset"):
                model.reset()
            logits = _first(model(torch.as_tensor([list(ids)], dtype=torch.long)))[0].float()
            predicted = int(logits.argmax())
            if len(logits) == 2:
                score, towards = logits[1] - logits[0], (classes[0], classes[1])
            else:
                chosen = predicted if target is None else target
                score, towards = logits[chosen], ("", classes[chosen])
            score.backward()
    finally:
        handle.remove()
        model.train(was_training)
        if hasattr(model, "reset"):
            model.reset()
    parts = [(e.grad * e).sum(-1)[0] if e.grad is not None else torch.zeros(e.shape[1]) for e in embedded]
    scores = torch.cat(parts).detach().tolist() if parts else []
    return scores[:len(ids)], towards, predicted, torch.softmax(logits.detach(), 0).tolist()


def word_attributions(subject, text: str, max_tokens: int = 2000) -> WordPushes:
    """The tokens of `text` as the classifier reads them, each with how much it pushed the
    prediction (gradient × embedding). InputError (subject's) for an empty text."""
    from l4tui.data.tokenizer import tokenize
    from l4tui.inspect.subject import InputError

    if not str(text).strip():
        raise InputError("type a review: the model reads words (an empty text has none)")
    tokens = tokenize(str(text))[:max_tokens]
    ids = subject.vocab.numericalize(tokens)
    scores, towards, predicted, probabilities = token_attributions(subject.model, ids, subject.classes)
    return WordPushes(tokens, scores, towards, subject.classes[predicted], probabilities, float(sum(scores)))


# ---- collab: the worst-predicted ratings ---------------------------------------------------------

@dataclass
class WorstRating:
    user: object
    item: object
    title: str
    rating: float
    prediction: float

    @property
    def error(self) -> float:
        return self.prediction - self.rating


def predict_ratings(subject, users, items) -> np.ndarray:
    """The collab model's predictions for raw user and movie ids (a pair the run never saw gets
    row 0, #na#, as the recipe indexes validation rows)."""
    import torch

    user_rows = _rows(users, subject.users)
    item_rows = _rows(items, subject.items)
    x = torch.as_tensor(np.stack([user_rows, item_rows], 1), dtype=torch.long)
    model = subject.model
    model.eval()
    with torch.no_grad():
        return np.concatenate([_first(model(x[s:s + 8192])).float().reshape(-1).numpy()
                               for s in range(0, len(x), 8192)]) if len(x) else np.zeros(0)


def _rows(raw, known: list) -> np.ndarray:
    index = {_key(value): row for row, value in enumerate(known, start=1)}
    return np.asarray([index.get(_key(value), 0) for value in raw], dtype=np.int64)


def _key(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def worst_ratings(subject, users, items, ratings, n: int = 20) -> tuple[list[WorstRating], float]:
    """The `n` ratings predicted worst (largest |prediction - rating|, worst first), and the RMSE
    over all of them (the run's valid_rmse, for its validation ratings)."""
    predictions = predict_ratings(subject, users, items)
    ratings = np.asarray(ratings, dtype=float)
    errors = np.abs(predictions - ratings)
    rmse = float(np.sqrt(np.mean((predictions - ratings) ** 2))) if len(ratings) else 0.0
    order = np.argsort(-errors, kind="stable")[:n]
    titles = subject.titles or {}
    worst = [WorstRating(_key(users[i]), _key(items[i]), titles.get(_key(items[i]), f"movie {items[i]}"),
                         float(ratings[i]), float(predictions[i])) for i in order]
    return worst, rmse
