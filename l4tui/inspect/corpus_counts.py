"""How often each token occurs in a whole corpus, counted in worker processes with progress.

    counts = count_corpus(texts, progress=lambda done, total: ..., stop=threading.Event())

The vocab figures (size, coverage, unknown rate) only need these counts, so a corpus is
tokenized once and `min_freq` / `max_vocab` can then change in milliseconds. Tokenizing 50 MB
of reviews takes a CPU tens of seconds; done in a thread of the app it would hold the GIL and
the screen would stutter, so big corpora are counted in other processes, a chunk at a time.
"""

from collections import Counter
from collections.abc import Callable

from l4tui.data import tokenizer
from l4tui.data.corpus import chunks_of  # the same cut into work for the pool as the run's corpus


class Stopped(Exception):
    """The count was stopped before the end (the user left the screen)."""


def _count_chunk(texts: list[str]) -> Counter:
    """Worker: the token counts of some texts, in first-seen order."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(tokenizer.tokenize(text))
    return counts


def count_corpus(texts: list[str], progress: Callable[[int, int], None] | None = None,
                 stop=None, n_workers: int | None = None) -> Counter:
    """The token counts of all `texts`, in the order tokens are first seen (as Vocab.from_counts
    needs for fastai's ties). `progress(characters_done, characters_in_all)` is called after each
    chunk; `stop` (a threading.Event) ends the count early with Stopped. A corpus under
    tokenizer.PARALLEL_MIN_CHARS characters is counted in this process."""
    import os

    total = sum(map(len, texts))
    chunks = chunks_of(texts)
    if n_workers is None:
        n_workers = os.cpu_count() or 1
    n_workers = min(n_workers, len(chunks))
    counts: Counter[str] = Counter()
    done = 0

    def add(chunk_counts: Counter, chunk: list[str]) -> None:
        nonlocal done
        # Merging chunk after chunk, in order, keeps the corpus's first-seen order.
        counts.update(chunk_counts)
        done += sum(map(len, chunk))
        if progress is not None:
            progress(done, total)
        if stop is not None and stop.is_set():
            raise Stopped()

    if n_workers <= 1 or total < tokenizer.PARALLEL_MIN_CHARS or tokenizer._in_a_daemon():
        for chunk in chunks:
            add(_count_chunk(chunk), chunk)
        return counts
    pool = tokenizer.worker_pool(n_workers)  # workers that die of SIGTERM (see worker_pool)
    try:
        for chunk, chunk_counts in zip(chunks, pool.imap(_count_chunk, chunks)):
            add(chunk_counts, chunk)
        pool.close()
    finally:
        pool.terminate()  # at once when stopped: the workers' remaining chunks are not wanted
        pool.join()
    return counts
