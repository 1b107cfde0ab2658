"""Counting a corpus's tokens for the vocab figures: in worker processes, with progress, stoppable."""

import threading

import pytest

from l4tui.data.tokenizer import tokenize
from l4tui.data.vocab import Vocab, count_tokens
from l4tui.inspect.corpus_counts import Stopped, chunks_of, count_corpus
from l4tui.inspect.text_steps import vocab_figures, vocab_figures_of_counts

SENTENCES = ["The movie was GREAT!!! I loved it.", "A dull film; the plot was thin.",
             "Tom Hanks is my favourite actor.", "Sooo bad, don't watch it <br /> ever."]


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
