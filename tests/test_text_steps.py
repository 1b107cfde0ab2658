"""The text inspector's steps: tokens and ids, rules fired, vocab figures, an LM batch."""

import numpy as np
import pytest

from l4tui.data.tokenizer import tokenize
from l4tui.data.vocab import Vocab
from l4tui.inspect.text_steps import lm_batch, rules_fired, token_cells, vocab_figures


def test_a_known_text_gives_the_expected_tokens_and_ids():
    vocab = Vocab.build([tokenize("the movie was good . the movie")] * 3, min_freq=3)
    text = "The movie was AWFUL!!!"
    cells = token_cells(tokenize(text), vocab)
    assert [c.token for c in cells] == ["xxbos", "xxmaj", "the", "movie", "was", "xxup", "awful", "xxrep", "3", "!"]
    by_token = {c.token: c for c in cells}
    assert by_token["the"].id == vocab.stoi["the"] and by_token["the"].kind == "word"
    assert by_token["awful"].id == 0 and by_token["awful"].kind == "unknown"  # not in the vocab: xxunk
    assert by_token["xxmaj"].kind == "special" and "capital" in by_token["xxmaj"].meaning
    assert rules_fired(text) == ["replace_rep", "replace_all_caps", "replace_maj", "lowercase"]
    assert rules_fired("sooo") == ["replace_rep", "lowercase"]
    assert rules_fired("a<br />b") == ["fix_html", "lowercase"]
    assert token_cells(tokenize(""), vocab)[0].token == "xxbos"  # an empty text is just its start


def test_min_freq_changes_the_unknown_rate_as_worked_by_hand():
    texts = [["xxbos", "a", "a", "a", "b", "b", "c"], ["xxbos", "a", "b", "d"]]
    # counts: a 4, b 3, c 1, d 1, xxbos 2 (special: always in the vocab); 11 tokens
    three = vocab_figures(texts, min_freq=3)
    assert three["unknown"] == 2 and three["unknown_rate"] == pytest.approx(2 / 11)
    two = vocab_figures(texts, min_freq=1)
    assert two["unknown"] == 0
    capped = vocab_figures(texts, max_vocab=10, min_freq=1)  # 9 special tokens + "a": b, c, d unknown
    assert capped["unknown"] == 5 and dict(capped["top_unknown"]) == {"b": 3, "c": 1, "d": 1}


def test_a_long_text_of_100000_words():
    words = ("the film was good and the acting was fine " * 11_112).split()[:100_000]
    tokens = tokenize(" ".join(words))
    figures = vocab_figures([tokens])
    assert figures["tokens"] == 100_001 and figures["unknown"] == 0


def test_the_lm_batch_targets_are_the_next_tokens():
    docs = [list(range(1, 11)), list(range(11, 22))]  # one stream 1..21
    x, y = lm_batch(docs, bs=2, bptt=3)
    assert x.tolist() == [[1, 2, 3], [11, 12, 13]] and y.tolist() == [[2, 3, 4], [12, 13, 14]]
    x2, y2 = lm_batch(docs, bs=2, bptt=3, index=1)
    assert x2.tolist() == [[4, 5, 6], [14, 15, 16]]
    assert np.array_equal(x2[:, 1:], y2[:, :-1])
    with pytest.raises(ValueError, match="too few"):
        lm_batch([[1, 2]], bs=4)
    with pytest.raises(ValueError, match="past the end"):
        lm_batch(docs, bs=2, bptt=3, index=10)
