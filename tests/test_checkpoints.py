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


def test_a_run_resumed_twice_at_once_starts_one_process(runs_dir, monkeypatch):
    """`l4tui runs resume RUN` twice at once (or beside the app's `r`): the first starts the
    run's process; the second sees it starting and refuses, instead of training the run twice
    (its log still ends "stopped" until the new process writes its resume event)."""
    import subprocess
    import sys
    import threading
    import time

    from l4tui.runs.events import EventWriter
    from l4tui.train import launcher
    from made_runs import make_run

    run_dir, _ = make_run(runs_dir, "collab")
    writer = EventWriter(run_dir)
    writer.write("start", epochs=2)
    writer.write("end", state="stopped")
    writer.close()
    spawned = []

    def spawn(run_dir_, command):  # a process whose command line names the run, slow to start
        spawned.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", str(run_dir_)]))
        time.sleep(0.3)
        return spawned[-1]

    monkeypatch.setattr(launcher, "_spawn", spawn)
    outcomes = []

    def resume():
        try:
            launcher.resume_run(run_dir)
            outcomes.append("resumed")
        except ValueError as error:
            outcomes.append(str(error))

    try:
        threads = [threading.Thread(target=resume) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert len(spawned) == 1
        assert sorted(outcomes)[0] == "resumed" and "is starting again" in sorted(outcomes)[1], outcomes
    finally:
        for process in spawned:
            process.kill()
            process.wait()
    # Its process gone (it died before writing anything): resuming works again.
    launcher_outcome = []
    monkeypatch.setattr(launcher, "_spawn", lambda run_dir_, command: launcher_outcome.append(command) or spawned[0])
    launcher.resume_run(run_dir)
    assert len(launcher_outcome) == 1


def test_a_run_resumed_while_its_stopped_process_is_still_exiting_resumes(runs_dir, monkeypatch):
    """`runs stop`, then at once `runs resume` (or `r`): the process that wrote "stopped" may still be
    exiting; it is not a resume in progress (run.json is older than its end event), so it resumes."""
    import subprocess
    import sys
    import time

    from l4tui.runs.events import EventWriter
    from l4tui.runs.store import RUN_FILE, read_run_file, write_json_atomic
    from l4tui.train import launcher
    from made_runs import make_run

    run_dir, _ = make_run(runs_dir, "collab")
    exiting = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", str(run_dir)])
    try:
        write_json_atomic(run_dir / RUN_FILE, {**read_run_file(run_dir), "pid": exiting.pid})
        time.sleep(0.05)  # its events come after run.json, as a run's do
        writer = EventWriter(run_dir)
        writer.write("start", epochs=2)
        writer.write("end", state="stopped")
        writer.close()
        started = []
        monkeypatch.setattr(launcher, "_spawn", lambda run_dir_, command: started.append(command) or exiting)
        launcher.resume_run(run_dir)
        assert len(started) == 1
    finally:
        exiting.kill()
        exiting.wait()
