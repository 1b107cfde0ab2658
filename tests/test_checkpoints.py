"""Which checkpoint of a run each reader uses: one owner (l4tui/runs/checkpoints.py) for all."""

import pytest

from l4tui.runs.checkpoints import BEST, FOLDER, LAST, list_checkpoints, trained_weights


def make(run_dir, *names):
    (run_dir / FOLDER).mkdir(parents=True, exist_ok=True)
    for name in names:
        (run_dir / FOLDER / name).write_bytes(b"")


def test_the_trained_weights_are_best_else_last(tmp_path):
    run_dir = tmp_path / "run"
    with pytest.raises(ValueError, match="no checkpoint yet"):
        trained_weights(run_dir)
    make(run_dir, LAST)
    assert trained_weights(run_dir).name == LAST
    make(run_dir, BEST)
    assert trained_weights(run_dir).name == BEST


def test_checkpoints_are_listed_in_the_order_they_were_made(tmp_path):
    run_dir = tmp_path / "run"
    make(run_dir, "epoch-010.pt", "epoch-002.pt", "epoch-001.pt", LAST, BEST, "epoch-x.pt", "notes.txt")
    (run_dir / FOLDER / "epoch-003.pt").mkdir()  # a folder by that name is not a checkpoint
    listed = list_checkpoints(run_dir)
    assert [c.label for c in listed] == ["epoch 1", "epoch 2", "epoch 10", "best", "last"]
    assert [c.epoch for c in listed] == [1, 2, 10, None, None]


def test_the_run_folder_of_a_checkpoint_path():
    from l4tui.runs.checkpoints import run_dir_of_checkpoint

    assert run_dir_of_checkpoint("runs/20260101-x/checkpoints/best.pt").as_posix() == "runs/20260101-x"
    assert run_dir_of_checkpoint("/abs/run/checkpoints/epoch-003.pt").as_posix() == "/abs/run"
    assert run_dir_of_checkpoint("small") is None  # a preset's fresh weights
    assert run_dir_of_checkpoint("") is None


def test_the_embeddings_screen_shows_best_else_last_and_compares_with_the_first_epoch():
    from l4tui.runs.checkpoints import default_choice

    assert default_choice(["epoch 1", "epoch 2", "best", "last"]) == (2, 0)
    assert default_choice(["epoch 1", "epoch 2", "last"]) == (2, 0)
    assert default_choice(["epoch 1", "epoch 2"]) == (1, 0)
    assert default_choice(["epoch 1", "best"]) == (1, None)  # one epoch: nothing to compare with
    assert default_choice(["last"]) == (0, None)
