"""Property tests over run folders (issue 17): random and corrupted run.json and events.jsonl,
beside a good run. No reader raises, the good run is always listed as it is, and every other run
is listed with a known state (an `invalid` one with a one-line reason)."""

import contextlib
import io
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fake_runs import write_fake_run
from l4tui.runs.events import EventReader, encode_event, one_history
from l4tui.runs.progress import Progress
from l4tui.runs.store import RunsIndex, list_runs, write_run_file

GOOD = "20200101-000000-collab-good"
STATES = {"starting", "running", "finished", "failed", "stopped", "died", "invalid"}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=-10 ** 400, max_value=10 ** 400)
    | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12)

RUN_KEYS = ["id", "family", "mode", "processes", "config", "command", "pid", "host", "started"]
EVENT_KEYS = ["t", "type", "epoch", "epochs", "iter", "total_iters", "loss", "raw", "lr", "mom", "items_per_s",
              "state", "error", "metrics", "stage", "from_epoch", "valid_rmse", "valid_loss", "gpu_mem_mib",
              "baseline_rmse", "stages"]
EVENT_TYPES = ["start", "batch", "epoch", "end", "resume", "activations", "other"]


def sound_event(i: int, kind: str) -> dict:
    return {"start": {"t": 1.0, "type": "start", "epochs": 3},
            "batch": {"t": 1.0 + i, "type": "batch", "epoch": i // 10, "iter": i, "total_iters": 30,
                      "loss": 1.0, "raw": 1.0, "lr": 0.01, "mom": 0.9},
            "epoch": {"t": 1.0 + i, "type": "epoch", "epoch": i // 10, "epochs": 3, "iter": i, "valid_rmse": 0.9},
            "end": {"t": 2.0 + i, "type": "end", "state": "finished", "metrics": {"valid_rmse": 0.8}},
            "resume": {"t": 1.0 + i, "type": "resume", "stage": 0, "epoch": 0, "from_epoch": 1},
            "activations": {"t": 1.0 + i, "type": "activations", "epoch": 0, "batch": 1, "iter": i},
            "other": {"t": 1.0, "type": "something new"}}[kind]


@st.composite
def event_lines(draw) -> bytes:
    """An events.jsonl: sound events, spoiled ones, garbage and a torn last line, mixed."""
    lines = []
    for i in range(draw(st.integers(0, 12))):
        how = draw(st.sampled_from(["sound", "sound", "field", "value", "bytes", "torn"]))
        event = sound_event(i, draw(st.sampled_from(EVENT_TYPES)))
        if how == "field":
            event[draw(st.sampled_from(EVENT_KEYS))] = draw(json_values)
        if how == "value":
            lines.append(json.dumps(draw(json_values)).encode())
        elif how == "bytes":
            lines.append(draw(st.binary(max_size=40)).replace(b"\n", b""))
        elif how == "torn":
            line = encode_event(event).encode()
            lines.append(line[: draw(st.integers(0, len(line)))])
        else:
            lines.append(json.dumps(event).encode())
    data = b"\n".join(lines)
    return data + (b"\n" if draw(st.booleans()) else b"")


@st.composite
def run_files(draw) -> bytes | None:
    how = draw(st.sampled_from(["sound", "field", "value", "bytes", "missing"]))
    meta = {"id": "x", "family": "collab", "mode": "train", "processes": 1, "config": {"epochs": 3},
            "command": ["python"], "pid": 0, "host": "h", "started": 1.0}
    if how == "missing":
        return None
    if how == "bytes":
        return draw(st.binary(max_size=60))
    if how == "value":
        return json.dumps(draw(json_values)).encode()
    if how == "field":
        meta[draw(st.sampled_from(RUN_KEYS + ["config"]))] = draw(json_values)
        if draw(st.booleans()):
            meta["config"] = {draw(st.sampled_from(["epochs", "data", "encoder", "preset"])): draw(json_values)}
    return json.dumps(meta).encode()


run_folders = st.lists(st.tuples(run_files(), event_lines()), min_size=1, max_size=4)


def write_runs(runs_dir: Path, folders) -> None:
    write_fake_run(runs_dir, GOOD, steps=30)
    for n, (run_file, events) in enumerate(folders):
        run_dir = runs_dir / f"2030010{n}-000000-collab-bad{n}"
        run_dir.mkdir(parents=True)
        if run_file is not None:
            (run_dir / "run.json").write_bytes(run_file)
        (run_dir / "events.jsonl").write_bytes(events)


def check_listing(runs, count: int) -> None:
    assert len(runs) == count + 1
    good = next(run for run in runs if run.id == GOOD)
    assert good.state == "finished" and good.best[0] == "valid_rmse" and good.epoch == 2
    for run in runs:
        assert run.state in STATES
        if run.state == "invalid":
            assert run.error and "\n" not in run.error and len(run.error) <= 200
        if run.error is not None:
            assert "\n" not in run.error


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(folders=run_folders, more=event_lines())
def test_list_runs_and_the_index_never_raise_and_list_the_good_run(folders, more):
    with tempfile.TemporaryDirectory() as home:
        runs_dir = Path(home) / "runs"
        write_runs(runs_dir, folders)
        check_listing(list_runs(runs_dir), len(folders))
        index = RunsIndex(runs_dir)
        check_listing(index.refresh(), len(folders))
        for run_dir in runs_dir.glob("*-bad*"):  # more is written; the index tails it
            with open(run_dir / "events.jsonl", "ab") as f:
                f.write(more)
        check_listing(index.refresh(), len(folders))
        check_listing(list_runs(runs_dir), len(folders))


@settings(max_examples=100, deadline=None)
@given(events=event_lines(), pieces=st.integers(1, 5))
def test_the_readers_of_a_log_never_raise_and_read_one_history(events, pieces):
    with tempfile.TemporaryDirectory() as home:
        run_dir = Path(home)
        write_run_file(run_dir, "collab", {"epochs": 3}, ["python"], pid=0)
        path = run_dir / "events.jsonl"
        reader, progress, read = EventReader(run_dir), Progress(), []
        step = max(1, len(events) // pieces)
        for start in range(0, len(events) + 1, step):  # written and read in pieces, as a run is tailed
            with open(path, "ab") as f:
                f.write(events[start:start + step])
            new = reader.read_new()
            read += new
            progress.update(new)
        assert reader.problem is None or ("\n" not in reader.problem and len(reader.problem) <= 200)
        progress.fraction, progress.eta_seconds(), progress.best(), progress.lr_find_points()
        history = one_history(read)
        assert len(history) <= len(read)
        whole = Progress()
        whole.update(read)
        assert whole.epoch_rows == progress.epoch_rows and whole.train_points == progress.train_points


@settings(max_examples=40, deadline=None)
@given(folders=run_folders)
def test_the_runs_command_never_raises(folders):
    from l4tui.cli import main

    with tempfile.TemporaryDirectory() as home:
        runs_dir = Path(home) / "runs"
        write_runs(runs_dir, folders)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            assert main(["--runs", str(runs_dir), "runs"]) == 0
            lines = out.getvalue().splitlines()
            assert len(lines) == len(folders) + 2 and any(GOOD in line for line in lines)
            for n in range(len(folders)):
                code = main(["--runs", str(runs_dir), "runs", "show", f"2030010{n}"])
                assert code in (0, 1, 2)
        assert "Traceback" not in err.getvalue()


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(folders=run_folders)
def test_the_app_starts_with_any_runs_folder_and_lists_the_good_run(folders):
    import asyncio

    from textual.widgets import DataTable

    from conftest import REPO, wait_until
    from l4tui.ui.app import L4App

    async def start(runs_dir: Path) -> None:
        app = L4App(runs_dir=runs_dir, workspace=REPO)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("2")
            table = app.query_one("#runs-table", DataTable)
            assert await wait_until(pilot, lambda: table.row_count == len(folders) + 1, timeout=20)
            for row in range(table.row_count):  # watching each run: the monitor copes too
                table.move_cursor(row=row)
                await pilot.press("enter")
                await pilot.pause(0.1)
            rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
            assert ["finished", "collab"] in [row[1:3] for row in rows]
        assert app.return_code in (0, None)

    with tempfile.TemporaryDirectory() as home:
        runs_dir = Path(home) / "runs"
        write_runs(runs_dir, folders)
        asyncio.run(start(runs_dir))


@settings(max_examples=400, deadline=None)
@given(fields=st.dictionaries(st.sampled_from(sorted(EVENT_KEYS)), json_values | st.floats() | st.integers(),
                              max_size=8),
       base=st.integers(0, 50))
def test_the_quick_check_of_batch_events_never_passes_what_the_full_check_refuses(fields, base):
    from l4tui.runs.fields import _plain_batch, check_event

    event = {**sound_event(base, "batch"), **fields, "type": "batch"}
    if _plain_batch(event):
        assert check_event(event) is None
