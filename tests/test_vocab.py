"""The vocab: fastai's make_vocab, numericalize/textify, coverage, and its JSON file."""

import json
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from l4tui.data.errors import DataError
from l4tui.data.tokenizer import SPECIAL_TOKENS, UNK, tokenize
from l4tui.data.vocab import Vocab


def fastai_make_vocab(count, min_freq=3, max_vocab=60000, special_toks=SPECIAL_TOKENS):
    """fastai 2.8's make_vocab (fastai/text/data.py), as it is, to compare with."""
    vocab = [o for o, c in count.most_common(max_vocab) if c >= min_freq]
    for o in reversed(special_toks):
        if o in vocab:
            vocab.remove(o)
        vocab.insert(0, o)
    vocab = vocab[:max_vocab]
    return vocab + ["xxfake" for i in range(0, 8 - len(vocab) % 8)]


def corpus(*texts):
    return [text.split() for text in texts]


WORDS = st.sampled_from("the a movie film good bad great plot xxunk xxbos xxmaj . , ! it 's".split()) | st.text(
    min_size=1, max_size=4).filter(lambda s: not any(c.isspace() for c in s))
TOKEN_LISTS = st.lists(st.lists(WORDS, max_size=30), max_size=20)


@settings(max_examples=150, deadline=None)
@given(TOKEN_LISTS, st.integers(9, 40), st.integers(1, 4))
def test_build_is_fastais_make_vocab(token_lists, max_vocab, min_freq):
    counts = Counter()
    for tokens in token_lists:
        counts.update(tokens)
    vocab = Vocab.build(token_lists, max_vocab=max_vocab, min_freq=min_freq)
    assert vocab.itos == fastai_make_vocab(counts, min_freq=min_freq, max_vocab=max_vocab)
    assert len(vocab) % 8 == 0
    assert vocab.itos[:len(SPECIAL_TOKENS)] == SPECIAL_TOKENS


def test_min_freq_keeps_words_seen_often_enough():
    vocab = Vocab.build(corpus("good good good bad bad movie", "good bad movie plot"), min_freq=3)
    assert vocab.itos[9:11] == ["good", "bad"]  # 4 and 3 times; movie (2) and plot (1) are out
    assert "movie" not in vocab and "plot" not in vocab
    assert "movie" in Vocab.build(corpus("good good good bad bad movie", "good bad movie plot"), min_freq=2)


def test_most_frequent_first_ties_in_the_order_first_seen():
    vocab = Vocab.build(corpus("b a c a b c d d d"), min_freq=1)
    assert vocab.itos[9:13] == ["d", "b", "a", "c"]


def test_max_vocab_cuts_the_least_frequent_and_counts_the_special_tokens():
    texts = corpus(" ".join(f"w{i} " * (50 - i) for i in range(30)))
    vocab = Vocab.build(texts, max_vocab=20, min_freq=1)
    words = [token for token in vocab.itos if token not in SPECIAL_TOKENS and token != "xxfake"]
    assert words == [f"w{i}" for i in range(11)]  # 20 - 9 special tokens
    assert len(vocab) == 24  # 20, padded to a multiple of 8


def test_padded_to_a_multiple_of_8_with_xxfake_as_fastai_does():
    vocab = Vocab.build(corpus("a b c d e f g"), min_freq=1)  # 9 + 7 = 16, already a multiple of 8
    assert len(vocab) == 24 and vocab.itos[16:] == ["xxfake"] * 8  # fastai adds 8 then
    vocab = Vocab.build(corpus("a"), min_freq=1)
    assert len(vocab) == 16 and vocab.itos[10:] == ["xxfake"] * 6


def test_the_special_tokens_come_first_even_when_unseen():
    vocab = Vocab.build([], min_freq=1)
    assert vocab.itos[:9] == SPECIAL_TOKENS and vocab.stoi[UNK] == 0


@settings(max_examples=150, deadline=None)
@given(TOKEN_LISTS, st.lists(WORDS, max_size=30))
def test_numericalize_and_textify_round_trip(token_lists, tokens):
    vocab = Vocab.build(token_lists, min_freq=1)
    ids = vocab.numericalize(tokens)
    assert all(isinstance(i, int) and 0 <= i < len(vocab) for i in ids)
    back = vocab.textify(ids)
    for token, i, again in zip(tokens, ids, back):
        if token in vocab:
            assert again == token and vocab.itos[i] == token
        else:
            assert i == 0 and again == UNK


def test_unknown_words_and_padding_are_xxunk():
    vocab = Vocab.build(corpus("good movie"), min_freq=1)
    assert vocab.numericalize(["good", "dreadful", "xxfake"]) == [vocab.stoi["good"], 0, 0]
    assert vocab.textify([0, 1, 2]) == ["xxunk", "xxpad", "xxbos"]


def test_textify_refuses_ids_outside_the_vocab():
    vocab = Vocab.build(corpus("good"), min_freq=1)
    with pytest.raises(ValueError, match="outside"):
        vocab.textify([len(vocab)])
    with pytest.raises(ValueError, match="outside"):
        vocab.textify([-1])  # not a silent wrap-around


def test_textify_takes_numpy_ids():
    np = pytest.importorskip("numpy")
    vocab = Vocab.build(corpus("good movie"), min_freq=1)
    assert vocab.textify(np.array(vocab.numericalize(["good", "movie"]))) == ["good", "movie"]


def test_coverage_figures():
    vocab = Vocab.build(corpus("the movie the movie the movie was"), min_freq=2)
    report = vocab.coverage(corpus("the movie was bad bad", "the end"))
    assert report["tokens"] == 7
    assert report["unknown"] == 4  # was, bad, bad, end
    assert report["unknown_rate"] == pytest.approx(4 / 7)
    assert report["covered"] == pytest.approx(3 / 7)
    assert report["distinct"] == 5
    assert report["distinct_in_vocab"] == 2
    assert report["vocab_size"] == len(vocab)
    assert report["top_unknown"][0] == ("bad", 2)
    assert vocab.coverage([])["unknown_rate"] == 0.0


def test_a_vocab_from_real_tokens():
    texts = ["I loved this movie!", "This movie was bad. I hated it!", "A movie I'd watch again."] * 3
    vocab = Vocab.build([tokenize(text) for text in texts])
    assert vocab.itos[9:11] == ["i", "movie"]  # 9 times each; "i" seen first
    assert vocab.coverage([tokenize("I loved it.")])["unknown"] == 0


def test_save_and_load(tmp_path):
    vocab = Vocab.build(corpus("good good good bad bad bad ünïcode ünïcode ünïcode"))
    path = tmp_path / "vocab.json"
    vocab.save(path)
    assert Vocab.load(path).itos == vocab.itos
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == "l4tui-vocab"
    assert [p.name for p in tmp_path.iterdir()] == ["vocab.json"]  # no temporary file left


def test_load_takes_a_bare_list_of_tokens(tmp_path):
    path = tmp_path / "itos.json"
    path.write_text(json.dumps(SPECIAL_TOKENS + ["movie"]), encoding="utf-8")
    assert Vocab.load(path).itos == SPECIAL_TOKENS + ["movie"]


@pytest.mark.parametrize("content, problem", [
    (b"", "not JSON"),
    (b"\x80\x81\x00binary", "not UTF-8"),
    (b"{not json", "not JSON"),
    (b'{"itos": ["xxunk"]}', "not a vocab"),
    (b'{"format": "something else", "itos": []}', "not a vocab"),
    (b'"just a string"', "not a list"),
    (b"[1, 2, 3]", "non-empty strings"),
    (json.dumps(SPECIAL_TOKENS + [None]).encode(), "non-empty strings"),
    (json.dumps(SPECIAL_TOKENS + [""]).encode(), "non-empty strings"),
    (b'["the", "movie"]', "special tokens"),
    (json.dumps(SPECIAL_TOKENS + ["a", "a"]).encode(), "twice"),
    (json.dumps({"format": "l4tui-vocab", "itos": {"a": 1}}).encode(), "not a list"),
])
def test_load_says_what_is_wrong_with_a_bad_file(tmp_path, content, problem):
    path = tmp_path / "vocab.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=problem) as error:
        Vocab.load(path)
    assert isinstance(error.value, DataError) and str(path) in str(error.value)


def test_load_a_missing_file_or_a_folder(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        Vocab.load(tmp_path / "missing.json")
    with pytest.raises(DataError, match="is a folder"):
        Vocab.load(tmp_path)


def test_a_vocab_must_start_with_the_special_tokens():
    with pytest.raises(ValueError, match="special tokens"):
        Vocab(["the", "movie"])
    with pytest.raises(ValueError):
        Vocab.build([], max_vocab=5)
