"""TensorBatches cuts an epoch's batches from the rows put in order once: the same batches, in the
same order, as gathering each batch's rows from the seeded permutation."""

import torch

from l4tui.train.batches import TensorBatches


def gathered_batch_by_batch(x_cat, x_cont, y, bs, seed, epoch, drop_last):
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
    n_batches = len(y) // bs if drop_last else -(-len(y) // bs)
    for start in range(0, n_batches * bs, bs):
        rows = order[start:start + bs]
        yield (x_cat[rows], x_cont[rows]), y[rows]


def test_shuffled_batches_are_the_seeded_rows_batch_by_batch():
    x_cat = torch.arange(2 * 203).reshape(203, 2)
    x_cont = torch.randn(203, 3)
    y = torch.arange(203) % 2
    for drop_last in (True, False):
        batches = TensorBatches((x_cat, x_cont), y, 64, shuffle=True, seed=42, drop_last=drop_last)
        for epoch in (0, 1):
            ours = list(batches.epoch_batches(epoch))
            expected = list(gathered_batch_by_batch(x_cat, x_cont, y, 64, 42, epoch, drop_last))
            assert len(ours) == len(expected) == batches.n_batches() == (3 if drop_last else 4)
            for ((a_cat, a_cont), a_y), ((b_cat, b_cont), b_y) in zip(ours, expected):
                assert torch.equal(a_cat, b_cat) and torch.equal(a_cont, b_cont) and torch.equal(a_y, b_y)
    first, second = (list(TensorBatches((x_cat,), y, 64, shuffle=True, seed=42).epoch_batches(e)) for e in (0, 1))
    assert not torch.equal(first[0][1], second[0][1])  # each epoch its own order


def test_unshuffled_batches_keep_the_rows_order():
    x = torch.arange(10).reshape(5, 2)
    y = torch.arange(5)
    batches = list(TensorBatches((x,), y, 2, shuffle=False).epoch_batches(0))
    assert [b[1].tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    assert torch.equal(torch.cat([b[0][0] for b in batches]), x)
