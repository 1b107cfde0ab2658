import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from l4tui.data.text_batches import (PAD_IDX, ClassifierBatches, LMBatches, as_docs,
                                     pad_docs)


def make_docs(n_docs, rng, low=3, high=60, vocab=1000):
    """Documents that start with xxbos, hold no xxpad, and whose tokens are all different
    (ids from 3 up, numbered along the corpus), so a token tells where it came from."""
    lengths = rng.integers(low, high, size=n_docs)
    docs, next_id = [], 3
    for length in lengths:
        doc = np.arange(next_id, next_id + length, dtype=np.int64)
        doc[0] = 2  # xxbos
        docs.append(doc)
        next_id += length
    return docs


def lm_invariants(lm, epoch):
    """The invariants of one epoch of LM batches; returns the batches' lengths."""
    stream = lm.stream(epoch)
    bs, row_len = lm.bs, lm.row_len
    batches = list(lm.epoch_batches(epoch))
    assert len(batches) == lm.n_batches(epoch)
    seen = []
    offset = 0
    for k, (x, y) in enumerate(batches):
        assert x.dtype == y.dtype == np.int64 and x.shape == y.shape
        assert x.shape[0] == bs and x.shape[1] >= 1
        length = x.shape[1]
        for r in range(bs):
            start = r * row_len + offset
            # x is a window of row r of the stream; y is the same window one token on.
            np.testing.assert_array_equal(x[r], stream[start:start + length])
            np.testing.assert_array_equal(y[r], stream[start + 1:start + length + 1])
        np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
        if k:  # row r continues: batch k's first x follows batch k-1's last x; it is its last y
            previous_y = batches[k - 1][1]
            np.testing.assert_array_equal(x[:, 0], previous_y[:, -1])
        seen.append(x)
        offset += length
    assert offset == row_len
    # Every token of the stream is an x exactly once, except the remainder after bs * row_len.
    xs = np.concatenate(seen, axis=1)  # (bs, row_len): the rows, in order
    np.testing.assert_array_equal(xs.reshape(-1), stream[:bs * row_len])
    assert len(stream) - bs * row_len <= bs  # the remainder is under one token per row (+1 for y)
    return [x.shape[1] for x, _ in batches]


# ---- language model ---------------------------------------------------------------------------

def test_lm_windows_shift_and_continue_rows():
    docs = make_docs(40, np.random.default_rng(0))
    lm = LMBatches(docs, bs=4, seq_len=7, shuffle=True, seed=1)
    for epoch in range(3):
        lm_invariants(lm, epoch)


def test_lm_stream_is_every_document_once_in_shuffled_order():
    docs = make_docs(30, np.random.default_rng(1))
    lm = LMBatches(docs, bs=3, seq_len=10, seed=5)
    order = lm.order(0)
    assert sorted(order) == list(range(30))
    np.testing.assert_array_equal(lm.stream(0), np.concatenate([docs[i] for i in order]))
    assert lm.stream(0).size == sum(map(len, docs))


def test_lm_shuffle_is_reproducible_and_changes_across_epochs():
    docs = make_docs(50, np.random.default_rng(2))
    a, b = LMBatches(docs, bs=4, seq_len=8, seed=7), LMBatches(docs, bs=4, seq_len=8, seed=7)
    first_a, first_b = list(a), list(b)  # epoch 0 of each
    assert len(first_a) == len(first_b)
    for (xa, ya), (xb, yb) in zip(first_a, first_b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    assert a.epoch == 1  # a pass moves the counter on
    second_a = list(a)
    assert not np.array_equal(first_a[0][0], second_a[0][0])  # epoch 1 is shuffled differently
    assert not np.array_equal(a.order(0), a.order(1))
    a.set_epoch(0)  # resuming at epoch 0 gives epoch 0 again
    np.testing.assert_array_equal(next(iter(a))[0], first_a[0][0])
    other = LMBatches(docs, bs=4, seq_len=8, seed=8)
    assert not np.array_equal(other.order(0), a.order(0))


def test_lm_without_shuffle_keeps_document_order_every_epoch():
    docs = make_docs(20, np.random.default_rng(3))
    lm = LMBatches(docs, bs=2, seq_len=5, shuffle=False)
    assert lm.jitter is False  # validation: fixed windows unless asked otherwise
    np.testing.assert_array_equal(lm.stream(0), np.concatenate(docs))
    np.testing.assert_array_equal(lm.stream(3), lm.stream(0))


def test_lm_len_matches_the_pass_it_describes_even_without_a_seed():
    docs = make_docs(200, np.random.default_rng(4))
    lm = LMBatches(docs, bs=8, seq_len=20)
    for _ in range(3):
        expected = len(lm)
        assert sum(1 for _ in lm) == expected


def test_lm_jitter_stays_in_bounds_and_averages_close_to_seq_len():
    docs = [np.arange(3, 200_003)]  # one long document: many windows
    seq_len = 72
    lm = LMBatches(docs, bs=4, seq_len=seq_len, seed=0, jitter=True)
    lengths = np.array(lm.window_lengths(0))
    assert lengths.sum() == lm.row_len
    assert lengths[:-1].min() >= 5  # only the last window may be shorter than the floor
    assert 1 <= lengths[-1] <= lengths.max()
    assert lengths.max() <= seq_len + 6 * 5  # normal(seq_len, 5): six sigmas
    assert 0.93 * seq_len < lengths.mean() < 1.01 * seq_len  # 0.95 * 72 + 0.05 * 36, minus int()
    halves = np.abs(lengths[:-1] - seq_len / 2) < 15
    assert 0.02 < halves.mean() < 0.09  # about 5 % of the windows are drawn around seq_len / 2
    assert lm.window_lengths(1) != lm.window_lengths(0)  # a new draw each epoch
    assert lm.window_lengths(1) == LMBatches(docs, bs=4, seq_len=seq_len, seed=0).window_lengths(1)


def test_lm_jitter_off_gives_fixed_windows():
    docs = make_docs(60, np.random.default_rng(5))
    lm = LMBatches(docs, bs=4, seq_len=9, seed=0, jitter=False)
    lengths = lm_invariants(lm, 0)
    assert set(lengths[:-1]) == {9}
    assert lengths[-1] == lm.row_len - 9 * (len(lengths) - 1)
    assert len(lm) == -(-lm.row_len // 9)


def test_lm_keeps_the_documents_dtype_in_the_stream():
    docs = [doc.astype(np.int32) for doc in make_docs(10, np.random.default_rng(6))]
    lm = LMBatches(docs, bs=2, seq_len=4, seed=0)
    assert lm.stream(0).dtype == np.int32  # half the memory of int64 for the corpus
    x, y = next(iter(lm))
    assert x.dtype == y.dtype == np.int64


def test_lm_rejects_bad_input_with_clear_messages():
    with pytest.raises(ValueError, match="too few"):
        LMBatches([np.arange(5)], bs=8)
    with pytest.raises(ValueError, match="no documents"):
        LMBatches([], bs=2)
    with pytest.raises(ValueError, match="document 1"):
        LMBatches([np.arange(10), np.zeros((2, 2), dtype=int)], bs=2)
    with pytest.raises(ValueError, match="integer"):
        LMBatches([np.arange(10) / 2], bs=2)
    lm = LMBatches([np.arange(10), [], np.arange(10)], bs=2, seq_len=3)  # an empty document is fine
    assert lm.n_tokens == 20


@settings(max_examples=40, deadline=None)
@given(lengths=st.lists(st.integers(0, 40), min_size=1, max_size=25),
       bs=st.integers(1, 6), seq_len=st.integers(1, 12), jitter=st.booleans(),
       shuffle=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_lm_invariants_property(lengths, bs, seq_len, jitter, shuffle, seed):
    rng = np.random.default_rng(seed)
    docs = [rng.integers(0, 50, size=n) for n in lengths]
    if sum(lengths) - 1 < bs:
        with pytest.raises(ValueError):
            LMBatches(docs, bs=bs, seq_len=seq_len, shuffle=shuffle, seed=seed, jitter=jitter)
        return
    lm = LMBatches(docs, bs=bs, seq_len=seq_len, shuffle=shuffle, seed=seed, jitter=jitter)
    for epoch in range(2):
        window_lengths = lm_invariants(lm, epoch)
        assert all(n <= lm.row_len for n in window_lengths)
        if not jitter:
            assert all(n == seq_len for n in window_lengths[:-1])
        else:  # at least min(5, seq_len) except the last; never more than the tokens left
            assert all(n >= min(5, seq_len) for n in window_lengths[:-1])
    np.testing.assert_array_equal(np.sort(lm.stream(0)), np.sort(np.concatenate(docs)))


def test_an_lm_batch_runs_through_the_awd_lstm():
    torch = pytest.importorskip("torch")
    from l4tui.modelfiles import load_model_file

    awd = load_model_file("awd_lstm")
    torch.manual_seed(0)
    model = awd.get_language_model(vocab_sz=50, emb_sz=16, n_hid=24)
    docs = [np.random.default_rng(i).integers(3, 50, size=30) for i in range(10)]
    lm = LMBatches(docs, bs=4, seq_len=10, seed=0)
    for x, y in lm:
        scores = model(torch.as_tensor(x))
        assert scores.shape == (*x.shape, 50)
        loss = torch.nn.functional.cross_entropy(scores.reshape(-1, 50), torch.as_tensor(y).reshape(-1))
        assert torch.isfinite(loss)
    assert model[0].bs == 4  # the hidden state kept its 4 rows from batch to batch


def test_a_classifier_batch_runs_through_the_text_classifier():
    torch = pytest.importorskip("torch")
    from l4tui.modelfiles import load_model_file

    awd = load_model_file("awd_lstm")
    torch.manual_seed(0)
    model = awd.get_text_classifier(vocab_sz=50, n_class=2, bptt=8, max_len=16, emb_sz=16,
                                    n_hid=24, n_layers=2).eval()
    rng = np.random.default_rng(0)
    docs = [rng.integers(3, 50, size=n) for n in rng.integers(2, 30, size=12)]
    batches = ClassifierBatches(docs, rng.integers(0, 2, size=12), bs=4, seed=0)
    for x, y in batches:
        with torch.no_grad():
            scores = model(torch.as_tensor(x))
        assert scores.shape == (len(y), 2) and torch.isfinite(scores).all()


# ---- classifier -------------------------------------------------------------------------------

def classifier_data(n_docs=1000, seed=0):
    rng = np.random.default_rng(seed)
    docs = make_docs(n_docs, rng, low=5, high=400)
    labels = rng.integers(0, 3, size=n_docs)
    return docs, labels


def check_epoch(batches, docs, labels, epoch):
    """Padding only at the end with pad_idx; every document once, with its own label."""
    seen = []
    for indices, (x, y) in zip(batches.batch_indices(epoch), batches.epoch_batches(epoch)):
        assert x.dtype == y.dtype == np.int64 and x.shape[0] == y.shape[0] == len(indices)
        lengths = batches.lengths[indices]
        assert x.shape[1] == lengths.max()  # padded to the longest document of the batch, no more
        for row, index in enumerate(indices):
            n = lengths[row]
            np.testing.assert_array_equal(x[row, :n], docs[index][:n])
            assert (x[row, n:] == batches.pad_idx).all()
            assert y[row] == labels[index]
        seen.extend(indices)
    assert sorted(seen) == list(range(len(docs)))
    return seen


def test_classifier_pads_at_the_end_and_keeps_every_document_with_its_label():
    docs, labels = classifier_data()
    train = ClassifierBatches(docs, labels, bs=32, seed=0)
    for epoch in range(2):
        check_epoch(train, docs, labels, epoch)
    valid = ClassifierBatches(docs, labels, bs=32, shuffle=False)
    check_epoch(valid, docs, labels, 0)
    assert len(train) == len(valid) == 32  # ceil(1000 / 32)
    assert sum(1 for _ in train) == len(train)
    sizes = [len(b) for b in train.batch_indices(0)]
    assert set(sizes[:-1]) == {32} and sizes[-1] == 1000 - 31 * 32  # the short batch comes last


def test_classifier_pads_with_pad_idx_and_nothing_else():
    docs = [np.array([2, 5, 6]), np.array([2, 7]), np.array([2, 8, 9, 10])]
    batches = ClassifierBatches(docs, [0, 1, 0], bs=3, shuffle=False, pad_idx=99)
    x, y = next(iter(batches))
    np.testing.assert_array_equal(x, [[2, 8, 9, 10], [2, 5, 6, 99], [2, 7, 99, 99]])
    np.testing.assert_array_equal(y, [0, 0, 1])
    assert ClassifierBatches(docs, [0, 1, 0], bs=3).pad_idx == PAD_IDX == 1


def test_classifier_sortish_batches_have_little_padding():
    docs, labels = classifier_data()
    sortish = ClassifierBatches(docs, labels, bs=16, seed=0)
    share = sortish.padding_share(0)
    # Random batches of the same size, for comparison.
    rng = np.random.default_rng(0)
    lengths = sortish.lengths
    order = rng.permutation(len(docs))
    random_batches = [order[i:i + 16] for i in range(0, len(docs), 16)]
    cells = sum(len(b) * lengths[b].max() for b in random_batches)
    random_share = 1 - lengths.sum() / cells
    assert random_share > 0.4
    assert share < 0.1 < random_share
    # padding_share agrees with the batches themselves.
    pads = sum((x == PAD_IDX).sum() for x, _ in sortish.epoch_batches(0))
    cells = sum(x.size for x, _ in sortish.epoch_batches(0))
    assert share == pytest.approx(pads / cells)


def test_classifier_puts_the_longest_batch_first_and_keeps_randomness():
    docs, labels = classifier_data()
    train = ClassifierBatches(docs, labels, bs=16, seed=3)
    longest = int(np.argmax(train.lengths))
    firsts = []
    for epoch in range(3):
        batches = train.batch_indices(epoch)
        assert longest in batches[0]
        x, _ = next(train.epoch_batches(epoch))
        assert x.shape[1] == train.lengths.max()
        firsts.append([list(b) for b in batches[1:4]])
        # Sort-ish, not sorted: the batches' longest lengths are not in order.
        maxima = [train.lengths[b].max() for b in batches[1:]]
        assert maxima != sorted(maxima, reverse=True)
    assert firsts[0] != firsts[1] != firsts[2]  # each epoch shuffles anew
    again = ClassifierBatches(docs, labels, bs=16, seed=3)
    assert [list(b) for b in again.batch_indices(1)] == [list(b) for b in train.batch_indices(1)]


def test_classifier_validation_is_sorted_longest_first_and_deterministic():
    docs, labels = classifier_data(300)
    valid = ClassifierBatches(docs, labels, bs=16, shuffle=False)
    order = np.concatenate(valid.batch_indices(0))
    assert list(valid.lengths[order]) == sorted(valid.lengths, reverse=True)
    for epoch in (1, 5):
        np.testing.assert_array_equal(np.concatenate(valid.batch_indices(epoch)), order)
    other = ClassifierBatches(docs, labels, bs=16, shuffle=False)
    for (x1, y1), (x2, y2) in zip(valid, other):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)


def test_classifier_truncates_to_the_first_max_tokens():
    docs, labels = classifier_data(100)
    batches = ClassifierBatches(docs, labels, bs=8, seed=0, max_tokens=50)
    check_epoch(batches, docs, labels, 0)
    for x, _ in batches:
        assert x.shape[1] <= 50
        assert (x[:, 0] == 2).all()  # the xxbos at the start is kept


def test_classifier_drop_last():
    docs, labels = classifier_data(100)
    batches = ClassifierBatches(docs, labels, bs=16, seed=0, drop_last=True)
    assert len(batches) == 6
    assert [len(b) for b in batches.batch_indices(0)] == [16] * 6
    assert sum(1 for _ in batches) == 6


def test_classifier_rejects_bad_input_with_clear_messages():
    docs, labels = classifier_data(10)
    with pytest.raises(ValueError, match="9 labels for 10"):
        ClassifierBatches(docs, labels[:9])
    with pytest.raises(ValueError, match="integer class ids"):
        ClassifierBatches(docs, labels / 2)
    with pytest.raises(ValueError, match="document 3 is empty"):
        ClassifierBatches(docs[:3] + [np.array([], dtype=np.int64)], labels[:4])


def test_pad_docs_and_as_docs():
    x = pad_docs([[2, 5], [2, 6, 7, 8]], max_tokens=3)
    np.testing.assert_array_equal(x, [[2, 5, 1], [2, 6, 7]])
    assert x.dtype == np.int64
    array = np.arange(4)
    assert as_docs([array])[0] is array  # no copy
