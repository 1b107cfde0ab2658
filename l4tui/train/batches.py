"""Batch sources for the loop: each gives `n_batches(epoch)` and `epoch_batches(epoch)`, which
yields `(inputs tuple, target)` already on the device.

Tabular and collab data are small tensors: batches are cut straight from tensors that live on
the device (no DataLoader, no collation), which is what makes these loops fast. Text batches come
from l4tui.data.text_batches (numpy) and are moved to the device one batch at a time.
"""

import math

import torch


class TensorBatches:
    """Batches cut from tensors: the rows of `inputs` (a tuple of tensors) and `target`.

    `drop_last` leaves out the short last batch when there is a full one, as fastai's training
    DataLoader does: a last batch of one row would break BatchNorm (the tabular model's).
    """

    def __init__(self, inputs: tuple, target, bs: int, shuffle: bool, seed: int = 0, drop_last: bool = False):
        self.inputs, self.target, self.bs, self.shuffle, self.seed = inputs, target, bs, shuffle, seed
        self.n = len(target)
        self.drop_last = drop_last and self.n >= bs

    def n_batches(self, epoch: int = 0) -> int:
        return self.n // self.bs if self.drop_last else math.ceil(self.n / self.bs)

    def epoch_batches(self, epoch: int):
        inputs, target = self.inputs, self.target
        if self.shuffle:  # seeded per epoch: the same run gives the same batches, on CPU and GPU
            generator = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
            order = torch.randperm(self.n, generator=generator).to(target.device)
            # The epoch's rows put in this order once, then each batch is a slice of them: the same
            # batches as gathering each batch's rows, with one gather per tensor an epoch instead of
            # one per batch (three small gathers a batch saved for the tabular model).
            inputs, target = tuple(x[order] for x in inputs), target[order]
        for start in range(0, self.n_batches() * self.bs, self.bs):
            yield tuple(x[start:start + self.bs] for x in inputs), target[start:start + self.bs]


class NumpyBatches:
    """Adapts l4tui.data.text_batches' LMBatches / ClassifierBatches to the loop, on a device."""

    def __init__(self, source, device):
        self.source, self.device = source, device

    def n_batches(self, epoch: int = 0) -> int:
        return self.source.n_batches(epoch)

    def epoch_batches(self, epoch: int):
        for x, y in self.source.epoch_batches(epoch):
            yield (torch.as_tensor(x, device=self.device),), torch.as_tensor(y, device=self.device)


class ShardedBatches:
    """One process's share of a batch source when a run trains over several (torchrun).

    Every process draws the same batches (same seed) and keeps every `world`-th one, starting at
    its `rank`. All get the same number of batches, or DistributedDataParallel would wait forever.
    """

    def __init__(self, source, rank: int, world: int):
        self.source, self.rank, self.world = source, rank, world

    def n_batches(self, epoch: int = 0) -> int:
        return self.source.n_batches(epoch) // self.world

    def epoch_batches(self, epoch: int):
        wanted = self.n_batches(epoch)
        mine = (b for i, b in enumerate(self.source.epoch_batches(epoch)) if i % self.world == self.rank)
        for count, batch in enumerate(mine):
            if count >= wanted:
                return
            yield batch
