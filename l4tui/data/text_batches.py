"""Batches of token ids for ULMFiT: the language model's stream and the classifier's padded batches.

Input: documents already numericalized, a list of 1-D integer arrays (id 1 is xxpad, 2 is xxbos).
Output: numpy int64 arrays; the training loop turns them into tensors (`torch.as_tensor(x)`).

Language model (`LMBatches`, fastai's `LMDataLoader`)
    Each epoch the documents are shuffled, concatenated into one stream and the stream is cut into
    `bs` rows of equal length (the few tokens that do not fill a row are dropped). Batches are
    windows along the rows, x = rows[:, i:i+seq_len] and y = the same window one token further:

        stream   a b c d e f g h i j k l m n o p q      bs=2, row_len=8 (q: the last row's last y)
        rows     a b c d e f g h | i j k l m n o p
        batch 0  x = [a b c d]  y = [b c d e]           (seq_len=4)
                     [i j k l]      [j k l m]
        batch 1  x = [e f g h]  y = [f g h i]
                     [m n o p]      [n o p q]

    Row r of batch k+1 continues row r of batch k, which is what lets the AWD-LSTM carry its hidden
    state from one batch to the next. Every token of the stream is an x exactly once per epoch.

    Memory: the stream is never built. The documents are kept as one flat id array (a corpus's
    memmap as it is, l4tui.data.corpus.Docs; a list of arrays is joined once, in its own dtype)
    and each batch reads its window's tokens from where they are: one binary search per token
    for its document, then one fancy index. An epoch costs the order of the documents and a
    batch its own window, whatever the size of the corpus.

    Sequence-length jitter ("variable-length backprop through time", fastai v0.7's
    `LanguageModelLoader`, from AWD-LSTM's paper): in training, each batch's length is drawn
    anew, so the batch boundaries fall at different places every epoch and the model does not
    always see the same tokens at the start of a window. With probability 0.95 the mean is
    `seq_len`, else `seq_len / 2`; the length is int(normal(mean, 5)), at least 5 (or `seq_len`
    when that is smaller), and never more than the tokens left in the rows. fastai v0.7 also
    made the very first batch seq_len + 25 long; we don't. Validation (`jitter=False`): fixed
    windows of `seq_len`, the last one shorter when the rows do not divide evenly.

Classifier (`ClassifierBatches`, fastai's `SortedDL`)
    Documents of similar length go together so that little of each batch is padding. Training
    ("sort-ish"): shuffle, cut into chunks of 50 * bs, sort each chunk by length, cut into
    batches and shuffle the batches; the batch holding the longest document comes first so that
    running out of memory shows up at once, and the one short batch (if any) comes last.
    Validation: sorted by length, longest first. Each batch is padded at the END with xxpad,
    which is what the classifier's SentenceEncoder expects.

Both classes count epochs: iterating uses `epoch` and then moves it on by one, so each pass
reshuffles differently yet reproducibly for a given `seed`; `set_epoch(n)` picks the next pass's
epoch (to resume a run), and `len()` is the number of batches of that next pass.
"""

import numpy as np

from l4tui.data.corpus import Docs

PAD_IDX, BOS_IDX = 1, 2  # xxpad, xxbos (fastai's vocab; the same as models/awd_lstm.py)
MIN_JITTER_LEN = 5  # fastai's floor for a jittered sequence length
JITTER_STD = 5
SORT_CHUNK = 50  # SortedDL sorts chunks of 50 * bs documents


def as_docs(docs) -> list[np.ndarray]:
    """The documents as a list of 1-D integer arrays (no copy when they already are)."""
    arrays = []
    for index, doc in enumerate(docs):
        array = np.asarray(doc)
        if array.ndim != 1:
            raise ValueError(f"document {index} has shape {array.shape}: expected a 1-D array of token ids")
        if array.size == 0:
            array = array.astype(np.int64)  # np.asarray([]) is float64
        elif array.dtype.kind not in "iu":
            raise ValueError(f"document {index} holds {array.dtype} values: expected integer token ids")
        arrays.append(array)
    if not arrays:
        raise ValueError("no documents")
    return arrays


def pad_docs(docs, pad_idx=PAD_IDX, max_tokens=None) -> np.ndarray:
    """Documents -> (len(docs), longest) int64, each padded at the end with `pad_idx`.

    A document longer than `max_tokens` keeps its first `max_tokens` tokens.
    """
    docs = [doc[:max_tokens] for doc in as_docs(docs)]
    x = np.full((len(docs), max(len(doc) for doc in docs)), pad_idx, dtype=np.int64)
    for row, doc in enumerate(docs):
        x[row, :len(doc)] = doc
    return x


def _rng(seed: int, epoch: int, purpose: int) -> np.random.Generator:
    # One independent generator per (seed, epoch, purpose): len() and iteration draw the same
    # numbers, and the shuffle and the jitter do not disturb each other.
    return np.random.default_rng([seed, epoch, purpose])


class _Epochs:
    """The epoch counter shared by both kinds of batches."""

    def __init__(self, seed):
        # Without a seed we still fix one, so that len() and the pass it describes agree.
        self.seed = int(np.random.SeedSequence().entropy if seed is None else seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """The epoch of the next pass (each epoch has its own shuffle and jitter)."""
        if epoch < 0:
            raise ValueError(f"epoch must be >= 0, not {epoch}")
        self.epoch = int(epoch)

    def __iter__(self):
        epoch, self.epoch = self.epoch, self.epoch + 1
        return self.epoch_batches(epoch)

    def __len__(self):
        return self.n_batches(self.epoch)


class LMBatches(_Epochs):
    """The language model's batches: (x, y), both (bs, seq_len) int64, y = x one token on.

    `jitter` defaults to `shuffle`: training gets random lengths, validation
    (`shuffle=False`) fixed windows. `bptt` is another name for `seq_len`.
    """

    def __init__(self, docs, bs=64, seq_len=72, shuffle=True, seed=None, jitter=None):
        super().__init__(seed)
        if bs < 1 or seq_len < 1:
            raise ValueError(f"bs and seq_len must be >= 1 (bs={bs}, seq_len={seq_len})")
        self.bs, self.seq_len, self.shuffle = bs, seq_len, shuffle
        self.jitter = shuffle if jitter is None else jitter
        # The documents as one flat id array, each document a (start, length) in it: a corpus's
        # memmap as it is (l4tui.data.corpus.Docs), or a list of arrays joined once here.
        if isinstance(docs, Docs):
            if len(docs) == 0:
                raise ValueError("no documents")
            if docs.ids.dtype.kind not in "iu":
                raise ValueError(f"the documents hold {docs.ids.dtype} values: expected integer token ids")
            self.flat, self.starts, self.lengths = docs.ids, docs.offsets[docs.indices], docs.lengths()
        else:
            arrays = as_docs(docs)
            dtype = np.result_type(*{doc.dtype for doc in arrays})
            dtype = dtype if dtype.kind in "iu" else np.dtype(np.int64)  # mixed int64/uint64
            self.lengths = np.array([len(doc) for doc in arrays], dtype=np.int64)
            self.starts = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)
            self.flat = np.concatenate(arrays, dtype=dtype)
        self.dtype = self.flat.dtype
        self.n_tokens = int(self.lengths.sum())
        # The last y of the last row is one token past the rows' x, hence the -1 (as in fastai).
        self.row_len = (self.n_tokens - 1) // bs
        if self.row_len < 1:
            raise ValueError(f"{self.n_tokens} tokens are too few for a batch of {bs} rows")
        self._lengths_cache = (None, None)

    @property
    def bptt(self):
        return self.seq_len

    def order(self, epoch: int) -> np.ndarray:
        """The order of the documents in the stream of `epoch`."""
        if not self.shuffle:
            return np.arange(len(self.lengths))
        return _rng(self.seed, epoch, 0).permutation(len(self.lengths))

    def stream(self, epoch: int) -> np.ndarray:
        """All the tokens of `epoch`, one document after another (one array the size of the
        corpus: for tests and small corpora; the batches never build it)."""
        return np.concatenate([self.flat[self.starts[i]:self.starts[i] + self.lengths[i]]
                               for i in self.order(epoch)], dtype=self.dtype)

    def _where(self, epoch: int):
        """Where each document of `epoch`'s stream begins in the stream and in `flat`."""
        order = self.order(epoch)
        lengths = self.lengths[order]
        begins = np.zeros(len(order) + 1, dtype=np.int64)
        np.cumsum(lengths, out=begins[1:])
        return begins, self.starts[order]

    def take(self, begins: np.ndarray, sources: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """The tokens at `positions` of the stream (any shape), as int64, read from `flat`:
        each position's document by binary search, then one fancy index."""
        doc = np.searchsorted(begins, positions, side="right") - 1
        return self.flat[sources[doc] + (positions - begins[doc])].astype(np.int64)

    def window_lengths(self, epoch: int) -> list[int]:
        """The sequence length of each batch of `epoch`; they add up to `row_len`."""
        if not self.jitter:
            n_full, last = divmod(self.row_len, self.seq_len)
            return [self.seq_len] * n_full + ([last] if last else [])
        cached_epoch, lengths = self._lengths_cache
        if cached_epoch == epoch:
            return lengths
        rng, floor = _rng(self.seed, epoch, 1), min(MIN_JITTER_LEN, self.seq_len)
        lengths, left = [], self.row_len
        while left > 0:
            mean = self.seq_len if rng.random() < 0.95 else self.seq_len / 2
            length = min(max(floor, int(rng.normal(mean, JITTER_STD))), left)
            lengths.append(length)
            left -= length
        self._lengths_cache = (epoch, lengths)
        return lengths

    def n_batches(self, epoch: int) -> int:
        return len(self.window_lengths(epoch))

    def epoch_batches(self, epoch: int):
        """The batches of `epoch` (does not touch the epoch counter)."""
        # The stream is never built: each window's tokens are read from the documents where they
        # are (a memmap's pages, for a big corpus), so memory stays one batch whatever the corpus.
        begins, sources = self._where(epoch)
        row_starts = np.arange(self.bs, dtype=np.int64)[:, None] * self.row_len
        start = 0
        for length in self.window_lengths(epoch):
            xy = self.take(begins, sources, row_starts + np.arange(start, start + length + 1))
            yield np.ascontiguousarray(xy[:, :-1]), np.ascontiguousarray(xy[:, 1:])
            start += length


class ClassifierBatches(_Epochs):
    """The classifier's batches: x (n, longest) int64 padded at the end with `pad_idx`, y (n,) int64.

    n is `bs`, except in the last batch. `max_tokens`: a longer document keeps its first
    `max_tokens` tokens (its xxbos and opening; the SentenceEncoder then pools the last
    `max_len` of what it is given). `drop_last` drops the one short batch, as fastai does in
    training (BatchNorm in the head cannot train on a batch of one); by default every document
    is in every epoch.
    """

    def __init__(self, docs, labels, bs=64, shuffle=True, seed=None, pad_idx=PAD_IDX,
                 max_tokens=None, drop_last=False):
        super().__init__(seed)
        if bs < 1:
            raise ValueError(f"bs must be >= 1, not {bs}")
        if max_tokens is not None and max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1, not {max_tokens}")
        self.docs = as_docs(docs)
        labels = np.asarray(labels)
        if labels.shape != (len(self.docs),):
            raise ValueError(f"{labels.size} labels for {len(self.docs)} documents")
        if labels.dtype.kind not in "iub":
            raise ValueError(f"labels are {labels.dtype}: expected integer class ids")
        self.labels = labels.astype(np.int64)
        self.bs, self.shuffle, self.pad_idx = bs, shuffle, pad_idx
        self.max_tokens, self.drop_last = max_tokens, drop_last
        self.lengths = np.array([len(doc) for doc in self.docs], dtype=np.int64)
        if max_tokens is not None:
            self.lengths = np.minimum(self.lengths, max_tokens)
        empty = np.flatnonzero(self.lengths == 0)
        if empty.size:
            # A row of nothing but padding has nothing to pool: the classifier would give NaN.
            raise ValueError(f"document {empty[0]} is empty ({empty.size} empty in all)")

    def batch_indices(self, epoch: int) -> list[np.ndarray]:
        """The indices of the documents of each batch of `epoch`."""
        n, bs = len(self.docs), self.bs
        if not self.shuffle:
            order = np.argsort(-self.lengths, kind="stable")  # longest first; ties in input order
            batches = [order[i:i + bs] for i in range(0, n, bs)]
        else:
            rng = _rng(self.seed, epoch, 0)
            order = rng.permutation(n)
            # The longest document goes to the front; sorting its chunk keeps it there.
            front = np.flatnonzero(order == np.argmax(self.lengths))[0]
            order[[0, front]] = order[[front, 0]]
            chunk = SORT_CHUNK * bs
            order = np.concatenate([
                part[np.argsort(-self.lengths[part], kind="stable")]
                for part in (order[i:i + chunk] for i in range(0, n, chunk))])
            batches = [order[i:i + bs] for i in range(0, n, bs)]
            first, middle = batches[0], batches[1:]
            last = [middle.pop()] if middle and len(middle[-1]) < bs else []
            batches = [first, *(middle[i] for i in rng.permutation(len(middle))), *last]
        if self.drop_last and len(batches[-1]) < bs:
            batches.pop()
        return batches

    def n_batches(self, epoch: int) -> int:
        n_full, rest = divmod(len(self.docs), self.bs)
        return n_full + (1 if rest and not self.drop_last else 0)

    def collate(self, indices) -> tuple[np.ndarray, np.ndarray]:
        """The (x, y) of the documents at `indices`, padded at the end to the longest of them."""
        x = np.full((len(indices), int(self.lengths[indices].max())), self.pad_idx, dtype=np.int64)
        for row, index in enumerate(indices):
            length = self.lengths[index]
            x[row, :length] = self.docs[index][:length]
        return x, self.labels[indices]

    def epoch_batches(self, epoch: int):
        """The batches of `epoch` (does not touch the epoch counter)."""
        for indices in self.batch_indices(epoch):
            yield self.collate(indices)

    def padding_share(self, epoch: int) -> float:
        """The share of xxpad in the batches of `epoch` (0: no padding), from the lengths alone."""
        batches = self.batch_indices(epoch)
        cells = sum(len(b) * int(self.lengths[b].max()) for b in batches)
        return 1 - sum(int(self.lengths[b].sum()) for b in batches) / cells

