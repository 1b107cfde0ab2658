"""Run folders are untrusted input (issue 17, items 3, 4, 5 and the runs folder of item 10).

A bad run folder is listed as `invalid` with its reason and leaves the others alone; a damaged
checkpoint is named before a resume starts; the event log stays one history after a torn line
and after a kill.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, kill_run, l4tui, wait_for, wait_until
from fake_runs import write_fake_run
from l4tui.cli import main
from l4tui.runs.events import EventReader, EventWriter
from l4tui.runs.store import RunsIndex, list_runs, read_run

GOOD = "20260101-000000-collab-good"
BAD = "20260102-000000-collab-bad0"


def edit_run_json(run_dir, **fields):
    meta = json.loads((run_dir / "run.json").read_text())
    meta.update(fields)
    (run_dir / "run.json").write_text(json.dumps(meta))


def append_line(run_dir, text):
    with open(run_dir / "events.jsonl", "a") as f:
        f.write(text + "\n")


def spoil_end_metrics(run_dir):
    append_line(run_dir, json.dumps({"t": time.time(), "type": "end", "state": "finished", "metrics": "x"}))


def spoil_end_time(run_dir):
    append_line(run_dir, json.dumps({"t": "x", "type": "end", "state": "finished"}))


def spoil_epoch_figure(run_dir):
    append_line(run_dir, json.dumps({"t": time.time(), "type": "epoch", "epoch": 3, "valid_loss": "low"}))


def spoil_huge_int(run_dir):  # a float() of it overflows
    append_line(run_dir, '{"t": 1.0, "type": "batch", "iter": 5, "loss": 1' + "0" * 400 + "}")


def spoil_deep_nesting(run_dir):  # the json module's recursion limit
    append_line(run_dir, '{"t": 1.0, "type": "start", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")


def spoil_not_an_object_line(run_dir):
    append_line(run_dir, "[1, 2, 3]")


def spoil_activations(run_dir):  # the Model pane's Training tab reads these
    append_line(run_dir, json.dumps({"t": 1.0, "type": "activations", "epoch": 0, "batch": 1, "iter": 1,
                                     "bins": {"kind": "signed-log", "n": 9, "smallest": "x", "per_decade": 2},
                                     "layers": []}))


def spoil_pid(run_dir):
    edit_run_json(run_dir, pid="abc")


def spoil_huge_pid(run_dir):  # os.kill overflows
    edit_run_json(run_dir, pid=10 ** 30)


def spoil_started(run_dir):  # time.localtime overflows
    edit_run_json(run_dir, started=1e300)


def spoil_config(run_dir):
    edit_run_json(run_dir, config=["epochs", 3])


def spoil_config_data(run_dir):
    edit_run_json(run_dir, config={"epochs": 3, "data": 5})


def run_json_not_an_object(run_dir):
    (run_dir / "run.json").write_text("[1, 2]")


def run_json_binary(run_dir):
    (run_dir / "run.json").write_bytes(os.urandom(300) + b"\x00\xff")


def run_json_empty(run_dir):
    (run_dir / "run.json").write_text("")


def run_json_a_folder(run_dir):
    (run_dir / "run.json").unlink()
    (run_dir / "run.json").mkdir()


def run_json_a_fifo(run_dir):  # reading it would wait for a writer forever
    (run_dir / "run.json").unlink()
    os.mkfifo(run_dir / "run.json")


def events_a_folder(run_dir):
    (run_dir / "events.jsonl").unlink()
    (run_dir / "events.jsonl").mkdir()


def events_a_fifo(run_dir):
    (run_dir / "events.jsonl").unlink()
    os.mkfifo(run_dir / "events.jsonl")


def run_json_dev_zero(run_dir):  # a read that never ends
    (run_dir / "run.json").unlink()
    (run_dir / "run.json").symlink_to("/dev/zero")


def events_dev_zero(run_dir):
    (run_dir / "events.jsonl").unlink()
    (run_dir / "events.jsonl").symlink_to("/dev/zero")


def run_json_huge(run_dir):
    meta = json.loads((run_dir / "run.json").read_text())
    meta["host"] = "x" * 2_000_000
    (run_dir / "run.json").write_text(json.dumps(meta))


def events_all_garbage(run_dir):
    (run_dir / "events.jsonl").write_bytes(b"\x00\xff garbage\n" * 50)


SPOILERS = [spoil_end_metrics, spoil_end_time, spoil_epoch_figure, spoil_huge_int, spoil_activations,
            spoil_not_an_object_line, spoil_pid, spoil_huge_pid, spoil_started, spoil_config, spoil_config_data,
            run_json_not_an_object, run_json_binary, run_json_empty, run_json_a_folder, run_json_a_fifo,
            events_a_folder, events_a_fifo, events_all_garbage, run_json_dev_zero, events_dev_zero, run_json_huge]


def good_and_bad(runs_dir, spoil):
    write_fake_run(runs_dir, GOOD, steps=30)
    bad = write_fake_run(runs_dir, BAD, steps=30)
    spoil(bad)
    return bad


# ---- item 3: one bad run folder ------------------------------------------------------------

@pytest.mark.parametrize("spoil", SPOILERS, ids=lambda f: f.__name__)
def test_a_bad_run_is_listed_invalid_with_its_reason_and_the_rest_are_unaffected(tmp_path, spoil):
    good_and_bad(tmp_path, spoil)
    runs = {info.id: info for info in list_runs(tmp_path)}
    assert runs[GOOD].state == "finished" and runs[GOOD].best[0] == "valid_rmse"
    assert runs[BAD].state == "invalid"
    reason = runs[BAD].error
    assert reason and "\n" not in reason and len(reason) <= 200
    assert "run.json" in reason or "events.jsonl" in reason  # it names the file
    index = {info.id: info for info in RunsIndex(tmp_path).refresh()}
    assert index[GOOD].state == "finished" and (index[BAD].state, index[BAD].error) == ("invalid", reason)


def test_a_line_too_deep_for_json_is_skipped_like_a_torn_one(tmp_path):
    good_and_bad(tmp_path, spoil_deep_nesting)
    reader = EventReader(tmp_path / BAD)
    assert len(reader.read_new()) == 35 and reader.skipped_lines == 1 and reader.problem is None
    assert read_run(tmp_path / BAD).state == "finished"


def test_the_reason_names_the_field(tmp_path):
    good_and_bad(tmp_path, spoil_end_metrics)
    assert "metrics" in read_run(tmp_path / BAD).error and "line 36" in read_run(tmp_path / BAD).error
    shutil.rmtree(tmp_path / BAD)
    good_and_bad(tmp_path / "b", spoil_pid)
    assert read_run(tmp_path / "b" / BAD).error == "run.json: pid is 'abc', not a whole number"


def test_the_index_keeps_a_run_invalid_once_its_log_goes_bad_and_sees_a_fixed_run_json(tmp_path):
    write_fake_run(tmp_path, GOOD, steps=30)
    index = RunsIndex(tmp_path)
    assert index.refresh()[0].state == "finished"
    spoil_end_time(tmp_path / GOOD)
    assert index.refresh()[0].state == "invalid"
    assert index.refresh()[0].state == "invalid"
    bad = write_fake_run(tmp_path, BAD, steps=30)
    meta = (bad / "run.json").read_text()
    spoil_pid(bad)
    assert {r.id: r.state for r in index.refresh()}[BAD] == "invalid"
    (bad / "run.json").write_text(meta)  # written again, right this time
    assert {r.id: r.state for r in index.refresh()}[BAD] == "finished"


def test_the_cli_lists_bad_runs_in_one_line_each_and_refuses_them_in_one_line(runs_dir):
    good_and_bad(runs_dir, spoil_end_metrics)
    write_fake_run(runs_dir, "20260103-000000-collab-pid0", steps=30)
    spoil_pid(runs_dir / "20260103-000000-collab-pid0")
    result = l4tui("runs")
    assert result.returncode == 0 and not result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 4  # the header and one line a run
    assert any(GOOD in line and "finished" in line for line in lines)
    assert any(BAD in line and "invalid" in line and "metrics" in line for line in lines)
    for action in ("show", "tail", "follow", "resume", "export"):
        result = l4tui("runs", action, BAD, timeout=30)
        assert result.returncode != 0, action
        error = result.stderr.strip()
        assert "\n" not in error and "Traceback" not in error and "invalid" in error, (action, error)
    assert l4tui("runs", "show", GOOD).returncode == 0


def test_runs_show_of_a_bad_run_says_why(runs_dir, capsys):
    good_and_bad(runs_dir, run_json_binary)
    assert main(["runs", "show", BAD]) == 1
    captured = capsys.readouterr()
    assert "invalid" in captured.err and "run.json" in captured.err and "\n" not in captured.err.strip()


async def test_the_app_starts_with_bad_runs_and_lists_them(runs_dir):
    from textual.widgets import DataTable

    from l4tui.ui.app import L4App

    write_fake_run(runs_dir, GOOD, steps=30)
    for n, spoil in enumerate([spoil_end_metrics, spoil_end_time, spoil_pid, run_json_not_an_object,
                               run_json_a_fifo, events_a_fifo, spoil_huge_int]):
        bad = write_fake_run(runs_dir, f"20260102-00000{n}-collab-bad{n}", steps=30)
        spoil(bad)
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        table = app.query_one("#runs-table", DataTable)
        assert await wait_until(pilot, lambda: table.row_count == 8, timeout=20)
        states = [str(table.get_row_at(i)[1]) for i in range(8)]
        assert states.count("invalid") == 7 and states.count("finished") == 1
        for row in range(8):  # watching each one: the monitor says why, the app lives on
            table.move_cursor(row=row)
            await pilot.press("enter")
            await pilot.pause(0.3)
        header = str(app.query_one("#run-header").render())
        assert header.startswith(("invalid", "finished"))
        table.move_cursor(row=states.index("invalid"))
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: "invalid" in str(app.query_one("#run-metrics").render()))
    assert app.return_code in (0, None)


# ---- item 4: checkpoints --------------------------------------------------------------------

def stopped_run(runs_dir, small_ratings, epochs=3):
    """A real collab run of `epochs` epochs, its last event taken off as if it was killed."""
    result = l4tui("train", "collab", "--data", str(small_ratings), "--epochs", str(epochs), "--bs", "512")
    assert result.returncode == 0, result.stderr
    [run] = list_runs(runs_dir)
    lines = (run.run_dir / "events.jsonl").read_text().splitlines()
    (run.run_dir / "events.jsonl").write_text("\n".join(lines[:-1]) + "\n")  # no end event: it died
    return run.run_dir


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def as_text(path):
    path.write_text("this is not a checkpoint\n")


def empty(path):
    path.write_bytes(b"")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One real 3-epoch run, copied by each test that damages it."""
    home = tmp_path_factory.mktemp("trained")
    small = home / "small"
    small.mkdir()
    lines = (REPO / "datasets" / "ml-sample" / "u.data").read_text().splitlines(keepends=True)[:3000]
    (small / "u.data").write_text("".join(lines))
    (small / "u.item").write_bytes((REPO / "datasets" / "ml-sample" / "u.item").read_bytes())
    runs = home / "runs"
    result = subprocess.run([sys.executable, "-m", "l4tui", "--runs", str(runs), "train", "collab", "--data",
                             str(small), "--epochs", "3", "--bs", "512"], capture_output=True, text=True,
                            timeout=300, cwd=home)
    assert result.returncode == 0, result.stderr
    [run_dir] = list(runs.iterdir())
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["type"] == "end"
    (run_dir / "events.jsonl").write_text("\n".join(lines[:-1]) + "\n")  # as if killed before its end
    assert wait_for(lambda: read_run(run_dir).state == "died", timeout=30)  # its process has exited
    return run_dir


@pytest.fixture
def died_run(trained, runs_dir):
    runs_dir.mkdir()
    run_dir = runs_dir / trained.name
    shutil.copytree(trained, run_dir)
    return run_dir


@pytest.mark.slow  # trains a real run (once, for the module)
@pytest.mark.parametrize("damage", [truncate, as_text, empty], ids=lambda f: f.__name__)
def test_a_damaged_last_checkpoint_is_named_before_resuming_and_a_good_one_offered(died_run, damage):
    damage(died_run / "checkpoints" / "last.pt")
    assert read_run(died_run).state == "died"
    before = (died_run / "events.jsonl").read_bytes()
    result = l4tui("runs", "resume", died_run.name)
    assert result.returncode != 0
    error = result.stderr.strip()
    assert "\n" not in error and "Traceback" not in error
    assert "checkpoints/last.pt" in error and "weights_only" not in error
    assert "--from epoch-003.pt" in error or "--from best.pt" in error
    assert (died_run / "events.jsonl").read_bytes() == before  # nothing was started
    assert read_run(died_run).state == "died"


@pytest.mark.slow  # trains a real run (once, for the module)
def test_every_checkpoint_damaged_says_there_is_none_to_resume_from(died_run):
    for path in (died_run / "checkpoints").glob("*.pt"):
        as_text(path)
    result = l4tui("runs", "resume", died_run.name)
    assert result.returncode != 0 and "\n" not in result.stderr.strip()
    assert "no sound checkpoint" in result.stderr and "weights_only" not in result.stderr


@pytest.mark.slow  # trains a real run (once, for the module)
def test_resume_from_an_earlier_checkpoint_rewinds_the_history(died_run):
    as_text(died_run / "checkpoints" / "last.pt")
    try:
        result = l4tui("runs", "resume", died_run.name, "--from", "epoch-001.pt")
        assert result.returncode == 0, result.stderr
        assert "epoch-001.pt" in result.stdout
        assert wait_for(lambda: read_run(died_run).state == "finished", timeout=120)
    finally:
        kill_run(died_run)
    events = EventReader(died_run).read_new()
    resume = next(e for e in events if e["type"] == "resume")
    assert resume["from_epoch"] == 1 and resume["checkpoint"] == "epoch-001.pt"
    from l4tui.runs.progress import Progress

    progress = Progress()
    progress.update(events)
    assert [row["epoch"] for row in progress.epoch_rows] == [0, 1, 2]  # not 0, 1, 2, 1, 2
    iters = [i for i, _ in progress.train_points]
    assert iters == sorted(iters)  # one continuous history
    info = read_run(died_run)
    assert info.epoch == 2 and info.state == "finished"


@pytest.mark.slow  # trains a real run (once, for the module)
async def test_r_in_the_app_offers_a_sound_checkpoint_when_last_pt_is_damaged(died_run):
    from l4tui.ui.app import L4App
    from l4tui.ui.confirm import ConfirmScreen

    truncate(died_run / "checkpoints" / "last.pt")
    app = L4App(runs_dir=died_run.parent, workspace=REPO)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("2")
            monitor = app.query_one("#run-view")
            assert await wait_until(pilot, lambda: monitor.run_dir == died_run, timeout=20)
            await pilot.press("r")
            assert await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), timeout=30)
            question = str(app.screen.query_one("#confirm-question").render())
            assert "last.pt cannot be loaded" in question and "weights_only" not in question
            # The newest sound one: epoch-003.pt, or best.pt when it is as new (it has the optimizer's state).
            offer = question.split("Resume from ")[1].removesuffix(" instead?")
            assert offer in ("epoch-003.pt", "best.pt")
            await pilot.press("y")
            assert await wait_until(pilot, lambda: any(e["type"] == "resume"
                                                       for e in EventReader(died_run).read_new()), timeout=60)
    finally:
        kill_run(died_run)
    resume = next(e for e in EventReader(died_run).read_new() if e["type"] == "resume")
    assert resume["checkpoint"] == offer and (offer == "best.pt" or resume["from_epoch"] == 3)


def test_a_failed_runs_multi_line_error_is_one_line_in_the_table(runs_dir):
    write_fake_run(runs_dir, GOOD, steps=30)
    write_fake_run(runs_dir, BAD, steps=30, state="failed",
                   error="UnpicklingError: Weights only load failed.\nline two\n" + "x" * 5000)
    result = l4tui("runs")
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 3
    assert max(len(line) for line in result.stdout.splitlines()) < 300


def test_checkpoints_load_with_weights_only(tmp_path):
    torch = pytest.importorskip("torch")

    from l4tui.runs.checkpoints import CheckpointError, load_checkpoint

    from fractions import Fraction  # anything but tensors and plain data is refused

    torch.save({"model": {}, "x": Fraction(1, 3)}, tmp_path / "last.pt")
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(tmp_path / "last.pt")
    assert "weights_only" not in str(caught.value) and "last.pt" in str(caught.value)


# ---- item 5: the event log --------------------------------------------------------------------

def test_the_writer_starts_on_a_fresh_line_after_a_torn_one(tmp_path):
    writer = EventWriter(tmp_path)
    writer.write("epoch", epoch=0)
    writer.close()
    with open(tmp_path / "events.jsonl", "a") as f:
        f.write('{"t": 1.0, "type": "batch", "ep')  # killed mid-line
    writer = EventWriter(tmp_path)
    writer.write("resume", stage=0, epoch=0, from_epoch=1)
    writer.close()
    reader = EventReader(tmp_path)
    assert [e["type"] for e in reader.read_new()] == ["epoch", "resume"]
    assert reader.skipped_lines == 1  # the fragment, on a line of its own


@pytest.mark.slow
def test_a_resume_after_kill_9_reads_as_one_history(runs_dir):
    from l4tui.runs.progress import Progress

    assert l4tui("train", "collab", "--epochs", "6", "--bs", "64", "--detach").returncode == 0
    [run] = list_runs(runs_dir)

    def mid_epoch() -> bool:  # an epoch checkpointed, and batches of the next one logged
        events = EventReader(run.run_dir).read_new()
        done = max((e["epoch"] for e in events if e["type"] == "epoch"), default=-1)
        return done >= 0 and any(e["type"] == "batch" and e["epoch"] > done for e in events)

    try:
        assert wait_for(mid_epoch, timeout=120, interval=0.05)
        kill_run(run.run_dir)  # kill -9
        assert wait_for(lambda: read_run(run.run_dir).state == "died", timeout=10)
        result = l4tui("runs", "resume", run.id)
        assert result.returncode == 0, result.stderr
        assert wait_for(lambda: read_run(run.run_dir).state == "finished", timeout=180)
    finally:
        kill_run(run.run_dir)
    events = EventReader(run.run_dir).read_new()
    progress = Progress()
    progress.update(events)
    iters = [i for i, _ in progress.train_points]
    assert iters == sorted(iters) and len(set(iters)) == len(iters)  # no step back, nothing twice
    assert [row["epoch"] for row in progress.epoch_rows] == list(range(6))
    assert read_run(run.run_dir).epoch == 5


def killed_and_resumed_events():
    """Epochs 0 and 1 checkpointed, epoch 2 killed at iter 2731; resumed from the checkpoint of epoch 1."""
    events, t = [{"t": 0.0, "type": "start", "epochs": 4}], 0.0
    for i in range(1, 2732):
        t += 0.01
        events.append({"t": t, "type": "batch", "epoch": (i - 1) // 1000, "iter": i, "total_iters": 4000,
                       "loss": 1.0, "raw": 1.0, "lr": 0.01, "mom": 0.9})
        if i % 1000 == 0:
            events.append({"t": t, "type": "epoch", "epoch": i // 1000 - 1, "epochs": 4, "iter": i,
                           "total_iters": 4000, "valid_loss": 1.0 / i, "valid_rmse": 1.0 / i})
    # Killed after epoch 2's event was written, before its checkpoint: that epoch trains again.
    events.append({"t": t, "type": "epoch", "epoch": 2, "epochs": 4, "iter": 2731, "valid_rmse": 1e-9})
    events.append({"t": t + 1, "type": "resume", "stage": 0, "epoch": 1, "from_epoch": 2})
    for i in range(2001, 4001):
        t += 0.01
        events.append({"t": t, "type": "batch", "epoch": (i - 1) // 1000, "iter": i, "total_iters": 4000,
                       "loss": 0.5, "raw": 0.5, "lr": 0.01, "mom": 0.9})
        if i % 1000 == 0:
            events.append({"t": t, "type": "epoch", "epoch": i // 1000 - 1, "epochs": 4, "iter": i,
                           "total_iters": 4000, "valid_loss": 0.5, "valid_rmse": 0.5})
    return events


def test_readers_show_one_history_after_a_kill_and_a_resume(tmp_path):
    from l4tui.runs.events import encode_event
    from l4tui.runs.export import export_csv
    from l4tui.runs.progress import Progress

    events = killed_and_resumed_events()
    progress = Progress()
    progress.update(events)
    iters = [i for i, _ in progress.train_points]
    assert iters == sorted(iters) and iters[-1] == 4000
    assert len(iters) == len(set(iters))
    assert [i for i, *_ in progress.schedule_points] == iters
    assert [row["epoch"] for row in progress.epoch_rows] == [0, 1, 2, 3]
    # Fed in pieces, as the monitor tails the log.
    tailed = Progress()
    for start in range(0, len(events), 333):
        tailed.update(events[start:start + 333])
    assert tailed.train_points == progress.train_points and tailed.epoch_rows == progress.epoch_rows
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    from l4tui.runs.store import write_run_file

    write_run_file(run_dir, "collab", {"epochs": 4}, ["python"], pid=0)
    (run_dir / "events.jsonl").write_text("".join(encode_event(e) + "\n" for e in events))
    import csv

    epochs_csv, batches_csv = export_csv(run_dir)
    assert [int(r["epoch"]) for r in csv.DictReader(open(epochs_csv))] == [0, 1, 2, 3]
    batch_iters = [int(r["iter"]) for r in csv.DictReader(open(batches_csv))]
    assert batch_iters == sorted(batch_iters) and len(batch_iters) == 4000
    info = read_run(run_dir)
    assert info.epoch == 3 and info.best == ("valid_rmse", 0.0005)  # epoch 1's: the killed epoch's was undone


# ---- item 10: the runs folder -------------------------------------------------------------------

def unusable_runs_folders(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    return {"under a file": a_file / "runs", "a file": a_file, "/dev/null": "/dev/null/runs",
            "a link loop": loop, "under a link loop": loop / "runs"}


@pytest.mark.parametrize("how", ["--runs", "$L4TUI_RUNS", "./runs"])
def test_an_unusable_runs_folder_is_one_line_for_train_and_runs(tmp_path, how):
    for name, folder in unusable_runs_folders(tmp_path).items():
        env, args, cwd = {**os.environ}, [], tmp_path
        if how == "--runs":
            args = ["--runs", str(folder)]
        elif how == "$L4TUI_RUNS":
            env["L4TUI_RUNS"] = str(folder)
        elif name == "a file":  # ./runs, the default, is a file
            env.pop("L4TUI_RUNS", None)
            cwd = tmp_path / "work"
            cwd.mkdir()
            (cwd / "runs").write_text("x")
        else:
            continue  # ./runs can only be a file: the working folder is a folder
        for command in (["train", "collab", "--epochs", "1"], ["runs"], ["runs", "show", "x"]):
            result = l4tui(*args, *command, cwd=cwd, env=env, timeout=60)
            error = result.stderr.strip()
            assert result.returncode != 0, (name, command, result.stdout)
            assert "\n" not in error and "Traceback" not in error, (name, command, error)
            assert "runs" in error, (name, command, error)


def test_a_read_only_or_unreadable_runs_folder_is_one_line():
    if shutil.which("setpriv") is None or os.geteuid() != 0:
        pytest.skip("needs root and setpriv to act as an unprivileged user")
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="l4tui-ro-"))  # pytest's tmp_path is closed to other users
    try:
        home.chmod(0o755)
        as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m", "l4tui"]
        runs = home / "runs"
        runs.mkdir()
        runs.chmod(0o555)
        result = subprocess.run([*as_nobody, "--runs", str(runs), "train", "collab", "--epochs", "1"],
                                capture_output=True, text=True, timeout=60, cwd="/")
        error = result.stderr.strip()
        assert result.returncode != 0 and "\n" not in error and "not writable" in error, error
        result = subprocess.run([*as_nobody, "--runs", str(runs / "deeper"), "train", "collab"],
                                capture_output=True, text=True, timeout=60, cwd="/")
        assert result.returncode != 0 and "cannot be made" in result.stderr and "not writable" in result.stderr
        closed = home / "closed"
        closed.mkdir()
        write_fake_run(closed, GOOD, steps=10)
        closed.chmod(0o000)
        result = subprocess.run([*as_nobody, "--runs", str(closed), "runs"],
                                capture_output=True, text=True, timeout=60, cwd="/")
        error = result.stderr.strip()
        assert result.returncode != 0 and "\n" not in error and "cannot read" in error, error
    finally:
        for folder in (home / "closed", home / "runs"):
            if folder.exists():
                folder.chmod(0o755)
        shutil.rmtree(home)


async def test_the_app_starts_with_an_unusable_runs_folder_and_says_so(tmp_path):
    from l4tui.ui.app import L4App

    folder = unusable_runs_folders(tmp_path)["under a file"]
    app = L4App(runs_dir=folder, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        assert await wait_until(pilot, lambda: "a-file" in str(app.query_one("#runs-problem").render()), 10)
        shown = str(app.query_one("#runs-problem").render())
        assert "not a folder" in shown and str(folder) in shown
        await pilot.press("n")  # the launch form can still open; starting a run says why it cannot
        await pilot.pause(0.2)
