"""A whole corpus tokenized once, its token ids in one memory-mapped int32 array on disk.

    corpus = tokenized_corpus(texts, progress=lambda done, total, tokens: ...)
    vocab = corpus.vocab(train_docs, max_vocab=60000, min_freq=3)    # fastai's make_vocab
    docs = corpus.numericalized(vocab)                               # views into a memmap
    docs[i]                                                          # text i's ids (int32)

Why: the full IMDB (100,000 reviews, about 25 million tokens) as Python lists of str takes
gigabytes (about 80 bytes a token with the ids as int64 arrays: the run's process peaked at
1.9 GB on a generated IMDB, bench/imdb_scale.py --list-path); as int32 it is 100 MB, on disk,
paged in by the OS as the batches read it (the same run peaks at 0.5 GB, most of it the texts).

Why this way: tokenizing is almost all of the time (35 s of 36 for the full IMDB on 2 cores),
so the tokenizer runs once: tokenizing twice (count, then numericalize) would double it. The
workers number their chunk's tokens themselves, which costs them about what joining tokens into
a string for the trip back did, and leaves this process a dict look-up per distinct token of a
chunk instead of splitting and keeping 25 million strings. No token files are written.

How it is made (`tokenize_corpus`), in one pass of the tokenizer:

1. the texts are cut into chunks of about CHUNK_CHARS characters; worker processes tokenize a
   chunk each (tokenizer.tokenize, fastai's rules) and send back the chunk's distinct tokens
   in the order first seen, each token as its number in that list (int32), and each text's
   token count. That is a few hundred KB a chunk instead of a list of strings;
2. this process takes the chunks in order and renumbers their tokens into the corpus's own
   numbering, first seen first (`itos`, one dict look-up per distinct token of a chunk and one
   numpy take for all its tokens), and appends them to `tokens.i32` on disk;
3. a vocab is then made from counts over any subset of the texts (the language model's
   training texts, the classifier's) with fastai's rules and ties: counts in the order tokens
   are first seen in that subset, exactly as Vocab.build over the token lists would;
4. numericalizing for a vocab is one lookup table (corpus number -> vocab id) applied a block
   at a time: `ids-<vocab>.i32`, next to the tokens.

Small corpora (under tokenizer.PARALLEL_MIN_CHARS characters) are tokenized in this process
and kept in memory, as quick as before. Bigger ones are kept in the cache folder
(`cache_dir()/corpora/<key>/`), the key a hash of the texts themselves and of the tokenizer's
source: the classifier run after a language model on the same data, or any later run, reads
them back in well under a second; another text, or a changed tokenizer, makes another key. The
newest MAX_CACHED corpora are kept, and any used in the last IN_USE_S seconds. The cached files are checked when read (sizes, offsets, ids
in range); a bad one is made again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from l4tui.data import tokenizer

CHUNK_CHARS = 500_000  # characters a worker tokenizes at a time: ~1 s of work, one progress step
BLOCK_TOKENS = 500_000  # tokens read at a time when counting or numericalizing (2 MB of int32)
MAX_CACHED = 4  # corpora kept in the cache folder, the most recently used ...
IN_USE_S = 600  # ... and any used in the last 10 minutes: a run that has just opened it writes its ids there
FORMAT = "l4tui-corpus"
VERSION = 1
TOKENS_FILE, OFFSETS_FILE, ITOS_FILE, META_FILE = "tokens.i32", "offsets.npy", "itos.json", "meta.json"

Progress = Callable[[int, int, int], None]  # (characters done, characters in all, tokens so far)


# --- the worker's part ------------------------------------------------------------------------

def _tokenize_chunk(texts: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Worker: (the chunk's distinct tokens in first-seen order, each token's number in that
    list, each text's token count)."""
    local: dict[str, int] = {}
    numbers: list[int] = []
    lengths = np.empty(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        tokens = tokenizer.tokenize(text)
        lengths[i] = len(tokens)
        numbers.extend([local.setdefault(token, len(local)) for token in tokens])
    return list(local), np.array(numbers, dtype=np.int32), lengths


def chunks_of(texts: Sequence[str], chunk_chars: int = CHUNK_CHARS) -> list[list[str]]:
    """Consecutive runs of texts of about `chunk_chars` characters (a longer text is a run alone)."""
    chunks, current, size = [], [], 0
    for text in texts:
        current.append(text)
        size += len(text)
        if size >= chunk_chars:
            chunks.append(current)
            current, size = [], 0
    if current:
        chunks.append(current)
    return chunks


# --- the corpus -------------------------------------------------------------------------------

class Docs(Sequence):
    """Documents as views into one id array (a memmap or an in-memory array): docs[i] is
    ids[offsets[i]:offsets[i+1]], no copy. `pick(indices)` gives the documents at those indices."""

    def __init__(self, ids: np.ndarray, offsets: np.ndarray, indices: np.ndarray | None = None):
        self.ids, self.offsets = ids, offsets
        self.indices = np.arange(len(offsets) - 1) if indices is None else np.asarray(indices, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Docs(self.ids, self.offsets, self.indices[i])
        j = self.indices[i]
        return self.ids[self.offsets[j]:self.offsets[j + 1]]

    def pick(self, indices) -> Docs:
        return Docs(self.ids, self.offsets, self.indices[np.asarray(indices, dtype=np.int64)])

    def lengths(self) -> np.ndarray:
        return (self.offsets[self.indices + 1] - self.offsets[self.indices]).astype(np.int64)

    def n_tokens(self) -> int:
        return int(self.lengths().sum())

    def bincount(self, minlength: int = 0) -> np.ndarray:
        """How often each id occurs in these documents (int64), a block at a time."""
        counts = np.zeros(minlength, dtype=np.int64)
        for block in self.blocks():
            found = np.bincount(block, minlength=minlength)
            if len(found) > len(counts):
                found[:len(counts)] += counts
                counts = found
            else:
                counts += found
        return counts

    def blocks(self, block_tokens: int = BLOCK_TOKENS):
        """The documents' ids in order, as arrays of about `block_tokens` tokens (whole documents)."""
        if len(self.indices) > 1 and (np.diff(self.indices) > 0).all():
            yield from self._ascending_blocks(block_tokens)
            return
        pieces, size = [], 0
        for j in self.indices:
            start, end = self.offsets[j], self.offsets[j + 1]
            pieces.append(self.ids[start:end])
            size += end - start
            if size >= block_tokens:
                yield np.concatenate(pieces)
                pieces, size = [], 0
        if pieces:
            yield np.concatenate(pieces)


    def _ascending_blocks(self, block_tokens: int):
        """blocks() for documents in the array's own order (a split of a corpus): a stretch of
        the array at a time, the tokens of the documents left out masked away, no loop."""
        offsets = self.offsets
        chosen = np.zeros(len(offsets) - 1, dtype=bool)
        chosen[self.indices] = True
        first, last = int(self.indices[0]), int(self.indices[-1]) + 1
        while first < last:
            end = int(np.searchsorted(offsets, offsets[first] + block_tokens, side="left"))
            end = min(max(end, first + 1), last)
            lengths = np.diff(offsets[first:end + 1])
            block = self.ids[offsets[first]:offsets[end]]
            yield block[np.repeat(chosen[first:end], lengths)]
            first = end


class TokenizedCorpus:
    """The tokens of every text, numbered in the order first seen (`itos[n]` is token n).

    tokens: int32 array (a read-only memmap for a cached corpus) of every text's token numbers,
    one text after another; offsets: int64, text i is tokens[offsets[i]:offsets[i+1]];
    folder: where its files are (None: kept in memory); cache_hit: read back from the cache."""

    def __init__(self, tokens: np.ndarray, offsets: np.ndarray, itos: list[str], folder: Path | None = None,
                 cache_hit: bool = False):
        self.tokens, self.offsets, self.itos = tokens, offsets, itos
        self.folder, self.cache_hit = folder, cache_hit

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_tokens(self) -> int:
        return int(self.offsets[-1])

    def docs(self, indices=None) -> Docs:
        """The texts' token numbers (not vocab ids): all of them, or those at `indices`."""
        return Docs(self.tokens, self.offsets, indices)

    def token_lists(self, indices=None) -> list[list[str]]:
        """The tokens as strings, as tokenizer.tokenize gives them (for small corpora and tests)."""
        itos = self.itos
        return [[itos[n] for n in doc.tolist()] for doc in self.docs(indices)]

    def counts(self, indices=None) -> tuple[np.ndarray, np.ndarray]:
        """(how often each token occurs in the texts at `indices` (all: None), where it is first
        seen in them: a position in those texts' tokens, one after another; n_tokens when never)."""
        counts = np.zeros(len(self.itos), dtype=np.int64)
        first = np.full(len(self.itos), np.iinfo(np.int64).max, dtype=np.int64)
        seen = np.zeros(len(self.itos), dtype=bool)
        base = 0
        for block in self.docs(indices).blocks():
            counts += np.bincount(block, minlength=len(self.itos))
            new = np.flatnonzero(~seen[block])  # positions of tokens not seen before this block
            if new.size:
                numbers, where = np.unique(block[new], return_index=True)
                first[numbers] = base + new[where]
                seen[numbers] = True
            base += len(block)
        return counts, first

    def token_counts(self, indices=None) -> Counter:
        """The token counts of the texts at `indices`, in the order tokens are first seen in them:
        what vocab.count_tokens gives on their token lists (and so fastai's ties)."""
        counts, first = self.counts(indices)
        seen = np.flatnonzero(counts)
        order = seen[np.argsort(first[seen], kind="stable")]
        itos = self.itos
        return Counter({itos[n]: int(counts[n]) for n in order.tolist()})

    def vocab(self, indices=None, max_vocab: int = 60000, min_freq: int = 3):
        """fastai's make_vocab over the texts at `indices` (all: None)."""
        from l4tui.data.vocab import Vocab

        return Vocab.from_counts(self.token_counts(indices), max_vocab=max_vocab, min_freq=min_freq)

    def lookup(self, vocab) -> np.ndarray:
        """corpus token number -> vocab id (0, xxunk, for a token the vocab lacks), int32."""
        return np.fromiter((vocab.stoi.get(token, 0) for token in self.itos), dtype=np.int32, count=len(self.itos))

    def numericalized(self, vocab) -> Docs:
        """Every text's vocab ids, as views into one int32 array: a memmap next to the tokens for
        a cached corpus (made once per vocab), else in memory."""
        table = self.lookup(vocab)
        if self.folder is None:
            return Docs(table[self.tokens], self.offsets)
        digest = hashlib.blake2b("\n".join(vocab.itos).encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
        path = self.folder / f"ids-{digest}.i32"
        ids = self._sound_ids(path, len(vocab))
        if ids is None:
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            try:
                with open(tmp, "wb") as f:
                    for start in range(0, self.n_tokens, BLOCK_TOKENS):
                        f.write(table[self.tokens[start:start + BLOCK_TOKENS]].tobytes())
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
            ids = _memmap(path, self.n_tokens)
        # The ids of a few vocabs are kept (another max_vocab or min_freq makes another file).
        kept = sorted(self.folder.glob("ids-*.i32"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[MAX_CACHED:]:
            old.unlink(missing_ok=True)
        return Docs(ids, self.offsets)

    def _sound_ids(self, path: Path, vocab_size: int) -> np.ndarray | None:
        """The ids file at `path` when it is whole and its ids are in the vocab's range."""
        try:
            if not (path.is_file() and path.stat().st_size == 4 * self.n_tokens):
                return None
            ids = _memmap(path, self.n_tokens)
            if self.n_tokens and not (0 <= int(ids.min()) and int(ids.max()) < vocab_size):
                return None
            os.utime(path)
            return ids
        except (OSError, ValueError):
            return None


def _memmap(path: Path, n: int) -> np.ndarray:
    if n == 0:
        return np.zeros(0, dtype=np.int32)
    return np.memmap(path, dtype=np.int32, mode="r", shape=(n,))


# --- making one -------------------------------------------------------------------------------

def _tokenized_chunks(chunks: list[list[str]], n_workers: int, parallel: bool):
    """Each chunk's _tokenize_chunk, in order: in worker processes, or here."""
    if not parallel:
        for chunk in chunks:
            yield _tokenize_chunk(chunk)
        return
    pool = tokenizer.worker_pool(n_workers)
    try:
        yield from pool.imap(_tokenize_chunk, chunks)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def tokenize_corpus(texts: Sequence[str], folder: Path | None = None, progress: Progress | None = None,
                    n_workers: int | None = None) -> TokenizedCorpus:
    """Tokenize every text once: into `folder` (its files written there, the tokens as a
    memmap), or in memory when `folder` is None. Worker processes are used for corpora of
    tokenizer.PARALLEL_MIN_CHARS characters or more. `progress(chars_done, chars_total,
    tokens_so_far)` is called after each chunk."""
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"texts must be str, not {type(text).__name__}")
    total = sum(map(len, texts))
    chunks = chunks_of(texts)
    if n_workers is None:
        n_workers = os.cpu_count() or 1
    n_workers = min(n_workers, len(chunks))
    parallel = n_workers > 1 and total >= tokenizer.PARALLEL_MIN_CHARS and not tokenizer._in_a_daemon()
    numbers: dict[str, int] = {}  # token -> its number in the corpus, first seen first
    lengths: list[np.ndarray] = []
    in_memory: list[np.ndarray] = []
    out = open(folder / TOKENS_FILE, "wb") if folder is not None else None
    done = n_tokens = 0
    results = _tokenized_chunks(chunks, n_workers, parallel)
    try:
        for chunk, (local_itos, local, chunk_lengths) in zip(chunks, results):
            renumber = np.fromiter((numbers.setdefault(token, len(numbers)) for token in local_itos),
                                   dtype=np.int32, count=len(local_itos))
            ids = renumber[local] if len(local) else local
            if out is not None:
                out.write(ids.tobytes())
            else:
                in_memory.append(ids)
            lengths.append(chunk_lengths)
            done += sum(map(len, chunk))
            n_tokens += len(ids)
            if progress is not None:
                progress(done, total, n_tokens)
    finally:
        results.close()  # a progress call that raised (a stopped run): the workers end now
        if out is not None:
            out.close()
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    if lengths:
        np.cumsum(np.concatenate(lengths), out=offsets[1:])
    itos = list(numbers)
    if folder is None:
        tokens = np.concatenate(in_memory) if in_memory else np.zeros(0, dtype=np.int32)
        return TokenizedCorpus(tokens, offsets, itos)
    np.save(folder / OFFSETS_FILE, offsets)
    (folder / ITOS_FILE).write_text(json.dumps(itos, ensure_ascii=False), encoding="utf-8", errors="surrogatepass")
    return TokenizedCorpus(_memmap(folder / TOKENS_FILE, n_tokens), offsets, itos, folder)


# --- the cache --------------------------------------------------------------------------------

def tokenizer_version() -> str:
    """A hash of the tokenizer's source: a changed tokenizer makes new cache keys."""
    return hashlib.blake2b(Path(tokenizer.__file__).read_bytes(), digest_size=8).hexdigest()


def corpus_key(texts: Sequence[str]) -> str:
    """The cache key of `texts`: a hash of every text (in order) and of the tokenizer."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{FORMAT} {VERSION} {tokenizer_version()} {len(texts)}\n".encode())
    for text in texts:
        data = text.encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def cache_folder() -> Path:
    from l4tui.data.registry import cache_dir

    return cache_dir() / "corpora"


def open_cached(folder: Path, n_texts: int) -> TokenizedCorpus | None:
    """The corpus in `folder`, or None when it is missing or not sound (then it is made again)."""
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT or meta.get("version") != VERSION or meta.get("texts") != n_texts:
            return None
        offsets = np.load(folder / OFFSETS_FILE, allow_pickle=False)
        n_tokens = int(meta["tokens"])
        if (offsets.dtype != np.int64 or offsets.shape != (n_texts + 1,) or offsets[0] != 0
                or offsets[-1] != n_tokens or (np.diff(offsets) < 0).any()
                or (folder / TOKENS_FILE).stat().st_size != 4 * n_tokens):
            return None
        itos = json.loads((folder / ITOS_FILE).read_text(encoding="utf-8", errors="surrogatepass"))
        if not isinstance(itos, list) or len(itos) != meta.get("distinct") or not all(type(t) is str for t in itos):
            return None
        tokens = _memmap(folder / TOKENS_FILE, n_tokens)
        if n_tokens and not (0 <= int(tokens.min()) and int(tokens.max()) < len(itos)):
            return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    os.utime(folder)  # most recently used: kept by prune_cache
    return TokenizedCorpus(tokens, offsets, itos, folder, cache_hit=True)


def prune_cache(root: Path, keep: int = MAX_CACHED, in_use_s: float = IN_USE_S) -> None:
    """Remove all but the `keep` most recently used corpora (and leftovers of killed builds).
    A corpus used in the last `in_use_s` seconds stays, however many there are: several runs (or
    the text screen) on other corpora must not take away the folder a run preparing right now is
    writing its ids into."""
    try:
        entries = [p for p in root.iterdir() if p.is_dir()]
    except OSError:
        return
    now = time.time()
    built = sorted((p for p in entries if not p.name.startswith(".")), key=lambda p: p.stat().st_mtime, reverse=True)
    idle = [p for p in built[keep:] if now - p.stat().st_mtime > in_use_s]
    stale = [p for p in entries if p.name.startswith(".") and now - p.stat().st_mtime > 24 * 3600]
    for path in idle + stale:
        shutil.rmtree(path, ignore_errors=True)


def tokenized_corpus(texts: Sequence[str], progress: Progress | None = None, n_workers: int | None = None,
                     cache: Path | None | bool = True) -> TokenizedCorpus:
    """The corpus of `texts`: read from the cache when it holds them, else tokenized (and kept
    there). cache: True for the cache folder (cache_dir()/corpora), a folder, or False for none.
    Corpora under tokenizer.PARALLEL_MIN_CHARS characters are never cached: tokenizing them
    takes less than a second."""
    if cache is False or sum(map(len, texts)) < tokenizer.PARALLEL_MIN_CHARS:
        return tokenize_corpus(texts, None, progress, n_workers)
    root = cache_folder() if cache is True else Path(cache)
    key = corpus_key(texts)
    folder = root / key
    found = open_cached(folder, len(texts))
    if found is not None:
        if progress is not None:
            total = sum(map(len, texts))
            progress(total, total, found.n_tokens)
        return found
    root.mkdir(parents=True, exist_ok=True)
    building = root / f".{key}.{os.getpid()}.tmp"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    try:
        corpus = tokenize_corpus(texts, building, progress, n_workers)
        meta = {"format": FORMAT, "version": VERSION, "texts": len(texts), "tokens": corpus.n_tokens,
                "distinct": len(corpus.itos), "tokenizer": tokenizer_version(), "made": time.time()}
        (building / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)  # a bad one found above
        try:
            os.replace(building, folder)
        except OSError:  # another run made the same corpus meanwhile: theirs is as good
            shutil.rmtree(building, ignore_errors=True)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    prune_cache(root)
    made = open_cached(folder, len(texts))
    if made is None:  # removed or spoilt at once by someone else: keep this one in memory
        return tokenize_corpus(texts, None, progress, n_workers)
    made.cache_hit = False
    return made
