"""How often each token occurs in a whole corpus, counted in worker processes with progress.

    counts = count_corpus(texts, progress=lambda done, total: ..., stop=threading.Event())

The vocab figures (size, coverage, unknown rate) only need these counts, so a corpus is
tokenized once and `min_freq` / `max_vocab` can then change in milliseconds. Tokenizing 50 MB
of reviews takes a CPU tens of seconds; done in a thread of the app it would hold the GIL and
the screen would stutter, so big corpora are tokenized in other processes, a chunk at a time.

The counting goes through the runs' corpus cache (data/corpus.py): a big corpus is tokenized
once for the text screen and the runs alike. The screen opened again, or after a run on the same
texts, reads the tokens back in about a second instead of tokenizing them again; a run started
after the screen reads what the screen tokenized.
"""

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from l4tui.data.corpus import chunks_of, tokenized_corpus

__all__ = ["Stopped", "chunks_of", "count_corpus"]


class Stopped(Exception):
    """The count was stopped before the end (the user left the screen)."""


def count_corpus(texts: list[str], progress: Callable[[int, int], None] | None = None,
                 stop=None, n_workers: int | None = None, cache: Path | bool = True) -> Counter:
    """The token counts of all `texts`, in the order tokens are first seen (as Vocab.from_counts
    needs for fastai's ties). `progress(characters_done, characters_in_all)` is called after each
    chunk (once, when the corpus cache holds them); `stop` (a threading.Event) ends the count early
    with Stopped. A corpus under tokenizer.PARALLEL_MIN_CHARS characters is counted in this
    process and not cached. cache: as data.corpus.tokenized_corpus's."""

    def each_chunk(done: int, total: int, _tokens: int) -> None:
        if progress is not None:
            progress(done, total)
        if stop is not None and stop.is_set():
            raise Stopped()  # ends the tokenizing: its workers stop, nothing half-made is kept

    return tokenized_corpus(texts, each_chunk, n_workers, cache).token_counts()
