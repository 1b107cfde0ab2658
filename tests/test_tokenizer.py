"""The tokenizer: fastai 2.8's default tokens (checked against a reference made with spaCy), the
properties every output has, and the parallel path."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from l4tui.data import tokenizer
from l4tui.data.tokenizer import (BOS, SPECIAL_TOKENS, TK_MAJ, TK_REP, TK_UP, TK_WREP, detokenize, tokenize,
                                  tokenize_many)

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = json.loads((FIXTURES / "tokens_reference.json").read_text(encoding="utf-8"))["cases"]

# Strings with what a tokenizer trips on: control characters, every kind of whitespace,
# punctuation clusters, quotes, HTML leftovers, capitals, emoji, combining marks.
TRICKY = st.lists(st.sampled_from(list(
    "aAbBiIsSzZ09 .,;:!?'\"()[]{}-/\\#$%&*+=<>@^_`|~…’‘“”«»°²£€é\n\t\r\x0b\x0c\x00\x1f\x85\xa0\u2028\u3000"
    "İΣςß\u0301\u200d😀ツ中")) | st.sampled_from(
    ["<br />", "&amp;", "&quot;", "#39;", " @.@ ", "...", "xxbos", "don't", "I'M", "Mr.", ":)", "http://a.org/x",
     "word", "Word", "WORD", "aaaa", "word word word"]), max_size=40).map("".join)
ANY_TEXT = st.text(max_size=80) | TRICKY  # st.text: any code point but surrogates


def test_the_reference_tokens_of_fastai_and_spacy():
    """Every case of the reference: ordinary reviews and harder inputs (see the file's "about")."""
    mismatches = [case for case in REFERENCE if tokenize(case["text"]) != case["tokens"]]
    for kind in ("review", "edge"):
        cases = [case for case in REFERENCE if case["kind"] == kind]
        assert len(cases) >= 40, kind
    matched = len(REFERENCE) - len(mismatches)
    assert not mismatches, f"{matched}/{len(REFERENCE)} match; first differences:\n" + "\n".join(
        f"{case['text']!r}\n  want {case['tokens']}\n  got  {tokenize(case['text'])}" for case in mismatches[:5])


def test_the_english_exceptions_are_spacys():
    """The lowercase exceptions (don't -> do n't ...) equal spaCy's table, dumped in the fixture."""
    spacy_table = json.loads((FIXTURES / "tokens_spacy_exceptions.json").read_text(encoding="utf-8"))["exceptions"]
    ours = {string: list(tokens) for string, tokens in tokenizer._EXCEPTIONS.items()}
    assert ours == spacy_table


@pytest.mark.parametrize("text, tokens", [
    ("", [BOS]),
    ("  \n ", [BOS]),
    ("I didn't like it.", [BOS, "i", "did", "n't", "like", "it", "."]),
    ("It's great, I'm sure: can't miss!", [BOS, "xxmaj", "it", "'s", "great", ",", "xxmaj", "i", "'m", "sure", ":",
                                            "ca", "n't", "miss", "!"]),
    ("The END", [BOS, "xxmaj", "the", "xxup", "end"]),
    ("I saw it", [BOS, "i", "saw", "it"]),  # one-letter capitals get no marker
    ("sooooo good", [BOS, "s", "xxrep", "5", "o", "good"]),
    ("!!! wow", [BOS, "xxrep", "3", "!", "wow"]),  # fastai's replace_rep fires from 3
    ("very very very very bad", [BOS, "xxwrep", "4", "very", "bad"]),
    ("Wait...what", [BOS, "xxmaj", "wait", "…", "what"]),  # fix_html: "..." -> " …"
    ("a<br /><br />b", [BOS, "a", "\n\n", "b"]),  # newlines are tokens, as in fastai
    ("Fish &amp; chips", [BOS, "xxmaj", "fish", "&", "&", "chips"]),  # fix_html: "amp;" -> "&" first
    ("10/10 #1", [BOS, "10", "/", "10", "#", "1"]),
    ("3.5 stars, 10,000 fans", [BOS, "3.5", "stars", ",", "10", ",", "xxrep", "3", "0", "fans"]),  # sic
    ("a well-made e-mail", [BOS, "a", "well", "-", "made", "e", "-", "mail"]),
    ("see www.imdb.com or me@example.com", [BOS, "see", "xxrep", "3", "w", ".imdb.com", "or", "me@example.com"]),
    ("great:) e.g. U.S.", [BOS, "great", ":)", "e.g.", "xxup", "u.s", "."]),
    ("(The end)", [BOS, "(", "the", "end", ")"]),
])
def test_examples(text, tokens):
    assert tokenize(text) == tokens


def test_fastai_string_rules():
    assert tokenizer.replace_rep("aa") == "aa"
    assert tokenizer.replace_rep("aaaa") == f" {TK_REP} 4 a "
    assert tokenizer.replace_wrep("ah ah") == "ah ah"
    assert tokenizer.replace_wrep("ah ah ah") == f" {TK_WREP} 3 ah "
    assert tokenizer.replace_wrep("I'm so so so so happy") == f"I'm {TK_WREP} 4 so  happy"
    assert tokenizer.spec_add_spaces("#fastai/nlp") == " # fastai / nlp"
    assert tokenizer.rm_useless_spaces("a  b   c\n\nd") == "a b c\n\nd"
    assert tokenizer.fix_html("a<br />b &amp; c&#39;s #39; nbsp;") == "a\nb && c&'s '  "  # sic, as fastai


def test_rejects_what_is_not_text():
    with pytest.raises(TypeError):
        tokenize(None)
    with pytest.raises(TypeError):
        tokenize_many(["ok", 3])


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_tokens_are_well_formed(text):
    """Never raises; xxbos first; no token is empty or holds a space; the only tokens with
    whitespace are whitespace (newlines, tabs) with fastai's "▁" for spaces in them."""
    tokens = tokenize(text)
    assert tokens[0] == BOS
    for token in tokens:
        assert isinstance(token, str) and token
        assert " " not in token
        if any(c.isspace() for c in token):
            assert all(c.isspace() or c == "\u2581" for c in token), token
    assert " ".join(tokens).split(" ") == tokens  # what fastai relies on to save tokens joined


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_markers_are_followed_by_what_they_mark(text):
    tokens = tokenize(text)
    if "xx" in text.lower():  # the user typed a special token; markers may then be anywhere
        return
    assert BOS not in tokens[1:]
    for i, token in enumerate(tokens):
        following = tokens[i + 1:i + 3]
        if token in (TK_MAJ, TK_UP):
            assert following and following[0] == following[0].lower() and not following[0].isspace()
        if token in (TK_REP, TK_WREP):
            assert len(following) == 2 and following[0].isdecimal() and int(following[0]) >= 3
        if token == TK_REP:  # one character, lowercased ("İ" lowercases to two code points)
            assert len(following[1]) == 1 or following[1] == "i\u0307"


@settings(max_examples=100, deadline=None)
@given(st.lists(ANY_TEXT, max_size=5))
def test_tokenize_many_is_tokenize_on_each(texts):
    assert tokenize_many(texts) == [tokenize(text) for text in texts]


def test_tokenize_many_over_two_processes_keeps_the_order(monkeypatch):
    texts = [case["text"] for case in REFERENCE] * 3
    monkeypatch.setattr(tokenizer, "PARALLEL_MIN_CHARS", 0)  # parallel whatever the size
    assert tokenize_many(texts, n_workers=2, chunk_size=7) == [tokenize(text) for text in texts]


def test_tokenize_many_from_a_process_with_threads(monkeypatch):
    """The app has threads: its workers must not be forked from it (forkserver or spawn instead)."""
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        assert tokenizer._pool_context().get_start_method() != "fork"
        texts = [case["text"] for case in REFERENCE]
        monkeypatch.setattr(tokenizer, "PARALLEL_MIN_CHARS", 0)
        assert tokenize_many(texts, n_workers=2, chunk_size=40) == [tokenize(text) for text in texts]
    finally:
        stop.set()


def test_tokenize_many_keeps_small_inputs_in_this_process(monkeypatch):
    def no_processes():
        raise AssertionError("started worker processes for a small input")

    monkeypatch.setattr(tokenizer, "_pool_context", no_processes)
    texts = [case["text"] for case in REFERENCE]
    assert tokenize_many(texts, n_workers=2) == [tokenize(text) for text in texts]
    assert tokenize_many([]) == []


def test_a_full_cache_empties_and_goes_on(monkeypatch):
    monkeypatch.setattr(tokenizer, "_CACHE_MAX", 5)
    monkeypatch.setattr(tokenizer, "_CACHE", {})
    texts = [case["text"] for case in REFERENCE[:20]]
    assert [tokenize(text) for text in texts] == [case["tokens"] for case in REFERENCE[:20]]
    assert len(tokenizer._CACHE) <= 5


@pytest.mark.parametrize("text", [
    "I didn't like it. The ENDING was sooo bad!",
    "It's a 10/10, well-made film; can't wait for part 2 (next year)...",
    "She asked: \"why?\"\n\nNobody knew. A shame.",
    "Very very very very good :)",
    "Y'all gonna love it.......",
])
def test_detokenize_gives_the_text_back(text):
    assert detokenize(tokenize(text)) == text


def test_detokenize_reads_well():
    tokens = [BOS, "xxmaj", "i", "ca", "n't", "go", ",", "xxup", "do", "n't", "ask", "!"]
    assert detokenize(tokens) == "I can't go, DON'T ask!"
    assert detokenize([BOS, "i", "was", "s", "xxrep", "4", "o", "bored", "xxpad", "xxpad"]) == "I was soooo bored"
    assert detokenize(["xxrep", "999999999", "a"]) == "a" * 10_000  # capped, not a huge string


def test_detokenized_reviews_tokenize_the_same():
    """Not the original text byte for byte, but what gives the same tokens again, nearly always."""
    reviews = [case for case in REFERENCE if case["kind"] == "review"]
    same = [case for case in reviews if tokenize(detokenize(case["tokens"])) == case["tokens"]]
    assert len(same) >= 0.95 * len(reviews)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(SPECIAL_TOKENS + ["xxfake", "3", "a", ".", '"', "\n", "▁", "n't", "(", "-"])
                | st.text(max_size=5), max_size=20))
def test_detokenize_takes_any_tokens(tokens):
    assert isinstance(detokenize(tokens), str)
