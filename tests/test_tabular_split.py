"""The tabular recipe's `split` option: "fastai" validates on the rows fastai's
RandomSplitter(valid_pct=0.2, seed=42) picks, so a run and the lesson's notebook compare on the
same rows; "random" (the default) stays as it was."""

import numpy as np
import torch

from l4tui.train.options import problems
from l4tui.train.tabular import TabularConfig, fastai_valid_rows, valid_rows


def fastai_random_splitter(n_rows, valid_pct, seed):
    """fastai 2.8's RandomSplitter, written out: seed torch's global generator, permute the rows,
    the first int(valid_pct * n) validate."""
    torch.manual_seed(seed)
    order = torch.randperm(n_rows).numpy()
    cut = int(valid_pct * n_rows)
    return sorted(order[:cut].tolist())


def test_a_small_case_worked_out_once():
    # torch.manual_seed(42); torch.randperm(10) starts 2, 6: the two validation rows of ten
    assert np.flatnonzero(fastai_valid_rows(10, 0.2, 42)).tolist() == [2, 6]


def test_fastai_split_takes_random_splitters_rows():
    for n_rows, pct, seed in [(10, 0.2, 42), (5_000, 0.2, 42), (32_561, 0.2, 42), (101, 0.3, 7)]:
        mask = fastai_valid_rows(n_rows, pct, seed)
        assert np.flatnonzero(mask).tolist() == fastai_random_splitter(n_rows, pct, seed)
        assert mask.sum() == int(pct * n_rows)


def test_the_split_option_picks_the_rows_and_leaves_torchs_global_state_alone():
    torch.manual_seed(0)
    before = torch.rand(3)
    torch.manual_seed(0)
    fastai = valid_rows(1_000, TabularConfig(split="fastai"))
    assert torch.equal(torch.rand(3), before)  # the model's initial weights don't depend on the split
    assert np.flatnonzero(fastai).tolist() == fastai_random_splitter(1_000, 0.2, 42)
    random = valid_rows(1_000, TabularConfig())
    assert TabularConfig().split == "random"
    assert random.tolist() == (np.random.default_rng(42).random(1_000) < 0.2).tolist()


def test_an_unknown_split_is_refused():
    assert problems("tabular", TabularConfig(split="sklearn")) == ["split must be one of random, fastai"]
