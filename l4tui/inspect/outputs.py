"""What a model's output means, in the lesson's words, for the input the user typed.

    lines = explain_output(subject, inputs, output, typed)

- language model: the next-word top-k ("my favourite actor is Tom ___");
- classifier and tabular model: the probability of each class (softmax of the last layer);
- EmbeddingDotBias: the dot product, the two biases and the sigmoid scaled to y_range, as
  separate numbers, and the user's real rating when the data has one.
"""

from l4tui.inspect.subject import Subject, collab_rows, describe_pair, input_kind

TOP_K = 8


def class_probabilities(logits, classes: list[str]) -> list[tuple[str, float]]:
    """(class, probability) for the first example, likeliest first."""
    import torch

    probabilities = torch.softmax(logits[0].float(), dim=-1).tolist()
    names = classes if len(classes) == len(probabilities) else [f"class {i}" for i in range(len(probabilities))]
    return sorted(zip(names, probabilities), key=lambda pair: -pair[1])


def explain_output(subject: Subject, inputs: tuple, output, typed) -> list[str]:
    from l4tui.inspect.parameters import first_tensor

    logits = first_tensor(output)
    kind = input_kind(subject)
    if subject.name == "lm":
        from l4tui.inspect.generate import next_word_candidates

        candidates = next_word_candidates(subject.model, subject.vocab, str(typed), k=TOP_K)
        lines = [f"the next word after “{str(typed).strip()}”, the model's top {TOP_K}:"]
        lines += [f"  {token:<14} {percent(p)}" for token, p in candidates]
        return lines
    if subject.name in ("classifier", "tabular"):
        ranked = class_probabilities(logits, subject.classes)
        what = "the review is" if subject.name == "classifier" else f"{subject.processor.y_name or 'the label'} is"
        lines = [f"prediction: {what} {ranked[0][0]} ({ranked[0][1]:.1%}); softmax of the last layer's outputs:"]
        lines += [f"  {name:<14} {percent(p)}" for name, p in ranked]
        return lines
    if subject.name == "collab":
        from l4tui.inspect.collab_interpret import explain_prediction

        user_row, item_row = collab_rows(subject, typed)
        terms = explain_prediction(subject.model, user_row, item_row)
        low, high = terms["low"], terms["high"]
        lines = [f"{describe_pair(subject, user_row, item_row)}:",
                 f"  dot product of the factors   {terms['dot']:+.4f}",
                 f"  + user bias                  {terms['user_bias']:+.4f}",
                 f"  + movie bias                 {terms['item_bias']:+.4f}",
                 f"  = {terms['raw']:+.4f}"]
        if terms["sigmoid"] is not None:
            lines += [f"  sigmoid({terms['raw']:+.4f}) = {terms['sigmoid']:.4f}",
                      f"  × ({high:g} - {low:g}) + {low:g} = predicted rating {terms['prediction']:.3f}"]
        actual = real_rating(subject, user_row, item_row)
        if actual is not None:
            lines.append(f"  the user's real rating: {actual:g}")
        return lines
    if kind == "pair":  # EmbeddingNN: no dot product to split up
        value = float(logits.flatten()[0])
        user_row, item_row = collab_rows(subject, typed)
        return [f"{describe_pair(subject, user_row, item_row)}: predicted rating {value:.3f}",
                "  (EmbeddingNN: the two embeddings go through layers; no dot product to split up)"]
    if logits is None:  # a user's model returning something with no tensor in it
        return [f"output: a {type(output).__name__} with no tensor in it"]
    return [f"output: shape {list(logits.shape)}, first values {', '.join(f'{v:.4g}' for v in logits.flatten()[:6].tolist())}"]


def real_rating(subject: Subject, user_row: int, item_row: int) -> float | None:
    table = subject.ratings
    if table is None:
        return None
    user, item = subject.users[user_row - 1], subject.items[item_row - 1]
    rows = table[(table["user"] == user) & (table["item"] == item)]
    return float(rows["rating"].mean()) if len(rows) else None


def percent(p: float) -> str:
    """A probability as a percentage with enough digits to tell small ones apart (a fresh language
    model gives each of 60,000 words about 0.002%)."""
    return f"{p:7.1%}" if p >= 0.001 else f"{p * 100:6.4f}%"
