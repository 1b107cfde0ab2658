"""Counting a corpus's tokens for the vocab figures: in worker processes, with progress, stoppable,
through the runs' corpus cache."""

import threading

import pytest

from l4tui.data.tokenizer import tokenize
from l4tui.data.vocab import Vocab, count_tokens
from l4tui.inspect.corpus_counts import Stopped, chunks_of, count_corpus
from l4tui.inspect.text_steps import vocab_figures, vocab_figures_of_counts

SENTENCES = ["The movie was GREAT!!! I loved it.", "A dull film; the plot was thin.",
             "Tom Hanks is my favourite actor.", "Sooo bad, don't watch it <br /> ever."]


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Big corpora go to the corpus cache: a private one, never the user's."""
    monkeypatch.setenv("L4TUI_DATA", str(tmp_path / "cache"))
    return tmp_path / "cache" / "corpora"


def corpus(n_texts: int) -> list[str]:
    # Texts of differing lengths and words, so that counts and first-seen order both matter.
    return [" ".join(SENTENCES[(i + j) % 4] for j in range(1 + i % 5)) + f" word{i % 977}" for i in range(n_texts)]


def test_counts_in_workers_equal_counts_in_one_process_in_first_seen_order():
    texts = corpus(30_000)  # about 3 million characters: over the size counted in workers
    assert sum(map(len, texts)) > 2_000_000
    by_hand = count_tokens(tokenize(text) for text in texts)
    seen = []
    counts = count_corpus(texts, progress=lambda done, total: seen.append((done, total)), n_workers=2)
    assert counts == by_hand
    assert list(counts) == list(by_hand)  # same order: fastai's ties come out the same
    assert Vocab.from_counts(counts, max_vocab=100, min_freq=1).itos == \
        Vocab.build((tokenize(t) for t in texts), max_vocab=100, min_freq=1).itos
    # Progress: a step per chunk, growing, ending at the whole corpus.
    total = sum(map(len, texts))
    assert len(seen) == len(chunks_of(texts)) >= 5
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert seen[-1] == (total, total)


def test_a_stopped_count_ends_early():
    stop = threading.Event()
    seen = []

    def progress(done, total):
        seen.append(done)
        stop.set()  # the user leaves the screen after the first chunk

    with pytest.raises(Stopped):
        count_corpus(corpus(30_000), progress=progress, stop=stop, n_workers=2)
    assert len(seen) == 1


def test_vocab_figures_of_counts_equal_those_of_the_token_lists():
    token_lists = [tokenize(text) for text in corpus(500)]
    for min_freq in (1, 3, 50):
        by_lists = vocab_figures(token_lists, max_vocab=60, min_freq=min_freq)
        by_counts = vocab_figures_of_counts(count_tokens(token_lists), max_vocab=60, min_freq=min_freq)
        assert by_lists["vocab"].itos == by_counts["vocab"].itos
        assert by_lists["unknown_rate"] == by_counts["unknown_rate"]


def test_chunks_keep_every_text_once_in_order():
    texts = ["a" * 300_000, "b", "c" * 900_000, "d" * 10]
    chunks = chunks_of(texts)
    assert [t for chunk in chunks for t in chunk] == texts
    assert chunks[0] == ["a" * 300_000, "b", "c" * 900_000]
    assert count_corpus([]) == {}


def test_a_big_corpus_is_tokenized_once_for_the_screen_and_the_runs(private_cache):
    """The screen's count keeps the corpus in the runs' cache: counted again (the screen opened
    again) it is read back, in one progress step, and a run's tokenized_corpus finds it there."""
    from l4tui.data.corpus import tokenized_corpus

    texts = corpus(30_000)
    first = count_corpus(texts, n_workers=2)
    assert len(list(private_cache.iterdir())) == 1
    seen = []
    again = count_corpus(texts, progress=lambda done, total: seen.append((done, total)), n_workers=2)
    total = sum(map(len, texts))
    assert again == first and list(again) == list(first) and seen == [(total, total)]
    assert tokenized_corpus(texts, n_workers=2).cache_hit


def test_a_stopped_count_leaves_nothing_half_made_in_the_cache(private_cache):
    stop = threading.Event()
    stop.set()
    with pytest.raises(Stopped):
        count_corpus(corpus(30_000), stop=stop, n_workers=2)
    assert not private_cache.exists() or list(private_cache.iterdir()) == []
    assert count_corpus(corpus(30_000), n_workers=2)  # and the next count makes it whole


def test_a_small_corpus_is_counted_in_memory_and_not_cached(private_cache):
    assert count_corpus(corpus(50)) == count_tokens(tokenize(text) for text in corpus(50))
    assert not private_cache.exists()
