import json
import subprocess
import sys
import time

import pytest

from l4tui.runs.events import EventReader, EventWriter
from l4tui.runs.store import find_run, list_runs, process_alive, read_run, write_run_file


def make_run(runs_dir, name, pid=0, events=(), started=None):
    run_dir = runs_dir / name
    run_dir.mkdir(parents=True)
    write_run_file(run_dir, "collab", {"epochs": 2}, ["python"], pid=pid)
    if started is not None:
        meta = json.loads((run_dir / "run.json").read_text())
        meta["started"] = started
        (run_dir / "run.json").write_text(json.dumps(meta))
    writer = EventWriter(run_dir)
    for kind, fields in events:
        writer.write(kind, **fields)
    writer.close()
    return run_dir


def dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_reader_keeps_a_torn_line_for_later(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"type": "a"}\n{"type": "b", "va')
    reader = EventReader(tmp_path)
    assert [e["type"] for e in reader.read_new()] == ["a"]
    with open(path, "a") as f:
        f.write('lue": 1}\n{"type": "c"}\n')
    assert reader.read_new() == [{"type": "b", "value": 1}, {"type": "c"}]
    assert reader.read_new() == []


def test_reader_skips_garbage_lines_and_counts_them(tmp_path):
    (tmp_path / "events.jsonl").write_bytes(b'{"type": "a"}\nnot json\n\xff\xfe\n[1, 2]\n{"type": "b"}\n')
    reader = EventReader(tmp_path)
    assert [e["type"] for e in reader.read_new()] == ["a", "b"]
    assert reader.skipped_lines == 2


def test_states_come_from_end_events_and_the_process(tmp_path):
    finished = make_run(tmp_path, "r1", pid=dead_pid(), events=[
        ("epoch", {"epoch": 0, "valid_rmse": 0.9}),
        ("end", {"state": "finished", "metrics": {"valid_rmse": 0.8}})])
    failed = make_run(tmp_path, "r2", pid=dead_pid(), events=[("end", {"state": "failed", "error": "boom"})])
    died = make_run(tmp_path, "r3", pid=dead_pid(), events=[("epoch", {"epoch": 0, "valid_rmse": 1.0})])
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "r4"])
    try:
        running = make_run(tmp_path, "r4", pid=sleeper.pid)
        assert read_run(running).state == "running"
    finally:
        sleeper.kill()
        sleeper.wait()
    assert read_run(finished).state == "finished"
    assert read_run(finished).metrics == {"valid_rmse": 0.8}
    assert (read_run(failed).state, read_run(failed).error) == ("failed", "boom")
    assert read_run(died).state == "died"
    assert read_run(died).epoch == 0


def test_reused_pid_is_not_mistaken_for_the_run(tmp_path):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert process_alive(other.pid)
        assert not process_alive(other.pid, run_id="20990101-000000-collab-abcd")
    finally:
        other.kill()
        other.wait()


def test_run_with_torn_last_line_still_lists(tmp_path):
    run_dir = make_run(tmp_path, "torn", pid=dead_pid(), events=[("epoch", {"epoch": 0, "valid_rmse": 1.1})])
    with open(run_dir / "events.jsonl", "a") as f:
        f.write('{"type": "epoch", "epo')
    info = read_run(run_dir)
    assert info.state == "died" and info.metrics["valid_rmse"] == 1.1


def test_broken_run_folders_are_listed_as_invalid(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "garbage").mkdir()
    (tmp_path / "garbage" / "run.json").write_text("{not json")
    states = {info.id: (info.state, info.error) for info in list_runs(tmp_path)}
    assert states["empty"] == ("invalid", "no run.json")
    assert states["garbage"][0] == "invalid" and "unreadable" in states["garbage"][1]


def test_list_is_newest_first_and_find_takes_prefixes(tmp_path):
    make_run(tmp_path, "20260101-000000-collab-aaaa", pid=dead_pid(), started=time.time() - 100)
    make_run(tmp_path, "20260102-000000-collab-bbbb", pid=dead_pid(), started=time.time())
    assert [info.id for info in list_runs(tmp_path)][0] == "20260102-000000-collab-bbbb"
    assert find_run(tmp_path, "20260101").name == "20260101-000000-collab-aaaa"
    assert find_run(tmp_path, "2026") is None  # ambiguous
    assert find_run(tmp_path / "nowhere", "x") is None


def test_export_writes_epochs_and_batches_as_csv(tmp_path):
    import csv

    from l4tui.runs.export import export_csv

    run_dir = make_run(tmp_path, "r", pid=dead_pid(), events=[
        ("batch", {"epoch": 0, "iter": 1, "loss": 2.0, "lr": 1e-3}),
        ("epoch", {"epoch": 0, "train_loss": 1.5, "valid_loss": 1.2}),
        ("epoch", {"epoch": 1, "train_loss": 1.1, "valid_loss": 1.0, "accuracy": 0.7}),
    ])
    epochs_csv, batches_csv = export_csv(run_dir)
    rows = list(csv.DictReader(open(epochs_csv)))
    assert [r["valid_loss"] for r in rows] == ["1.2", "1.0"] and rows[1]["accuracy"] == "0.7"
    assert list(csv.DictReader(open(batches_csv)))[0]["loss"] == "2.0"


def test_export_writes_tensorboard_event_files_tensorboard_reads(tmp_path):
    pytest.importorskip("tensorboard")  # an optional extra for users; the test extra installs it
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from l4tui.runs.export import export_tensorboard

    run_dir = make_run(tmp_path, "r", pid=dead_pid(), events=[
        ("batch", {"epoch": 0, "iter": 1, "loss": 2.0, "lr": 1e-3, "mom": 0.9}),
        ("batch", {"epoch": 0, "iter": 2, "loss": 1.5, "lr": 2e-3, "mom": 0.85}),
        ("epoch", {"epoch": 0, "epochs": 2, "train_loss": 1.5, "valid_loss": 1.25}),
        ("epoch", {"epoch": 1, "epochs": 2, "train_loss": 1.0, "valid_loss": 0.75, "accuracy": 0.5}),
    ])
    accumulator = EventAccumulator(str(export_tensorboard(run_dir)))
    accumulator.Reload()
    scalars = {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]}
    assert scalars["train/smooth_loss"] == [(1, 2.0), (2, 1.5)]
    assert [step for step, _ in scalars["train/lr"]] == [1, 2]
    assert scalars["train/mom"] == [(1, pytest.approx(0.9)), (2, pytest.approx(0.85))]
    assert scalars["epoch/valid_loss"] == [(1, 1.25), (2, 0.75)]
    assert scalars["epoch/accuracy"] == [(2, 0.5)]


def test_two_readers_tailing_one_run_see_every_event_once(tmp_path):
    writer = EventWriter(tmp_path)
    readers = [EventReader(tmp_path), EventReader(tmp_path)]
    seen = [[], []]
    for i in range(50):
        writer.write("batch", iter=i)
        if i % 7 == 0:
            for reader, events in zip(readers, seen):
                events.extend(e["iter"] for e in reader.read_new())
    writer.close()
    for reader, events in zip(readers, seen):
        events.extend(e["iter"] for e in reader.read_new())
    assert seen[0] == seen[1] == list(range(50))


def test_runs_index_folds_in_only_new_events(tmp_path):
    from l4tui.runs.store import RunsIndex

    index = RunsIndex(tmp_path)
    assert index.refresh() == []
    sleeper = subprocess.Popen([sys.executable, "-c", "import time, sys; time.sleep(60)", "live-run"])
    try:
        live = make_run(tmp_path, "live-run", pid=sleeper.pid, started=2.0, events=[
            ("start", {"epochs": 3}), ("epoch", {"epoch": 0, "valid_loss": 1.0, "valid_rmse": 1.0})])
        make_run(tmp_path, "old-run", pid=dead_pid(), started=1.0)
        runs = index.refresh()
        assert [r.id for r in runs] == ["live-run", "old-run"]
        assert [r.state for r in runs] == ["running", "died"]
        assert runs[0].best == ("valid_rmse", 1.0) and runs[0].epochs == 3
        reader = index._readers["live-run"]
        offset = reader._offset
        writer = EventWriter(live)
        writer.write("epoch", epoch=1, valid_loss=0.5, valid_rmse=0.7)
        writer.write("epoch", epoch=2, valid_loss=0.6, valid_rmse=0.8)  # worse: the best stays 0.7
        writer.close()
        runs = index.refresh()
        assert reader._offset > offset and runs[0].epoch == 2 and runs[0].best == ("valid_rmse", 0.7)
        writer = EventWriter(live)
        writer.write("end", state="finished", metrics={"valid_rmse": 0.8})
        writer.close()
        assert index.refresh()[0].state == "finished"
        import shutil

        shutil.rmtree(live)
        assert [r.id for r in index.refresh()] == ["old-run"]
    finally:
        sleeper.kill()
        sleeper.wait()


def test_runs_index_sees_a_resumed_run_and_its_new_process(tmp_path):
    from l4tui.runs.store import RunsIndex

    run_dir = make_run(tmp_path, "r-run", pid=dead_pid(), events=[("end", {"state": "stopped"})])
    index = RunsIndex(tmp_path)
    assert index.refresh()[0].state == "stopped"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "r-run"])
    try:
        meta = json.loads((run_dir / "run.json").read_text())
        meta["pid"] = sleeper.pid
        (run_dir / "run.json").write_text(json.dumps(meta))
        writer = EventWriter(run_dir)
        writer.write("resume", stage=0, epoch=0)
        writer.close()
        assert index.refresh()[0].state == "running"
    finally:
        sleeper.kill()
        sleeper.wait()
    assert index.refresh()[0].state == "died"


def test_a_died_runs_duration_ends_at_its_last_event(tmp_path):
    run_dir = make_run(tmp_path, "d-run", pid=dead_pid(), started=time.time() - 100,
                       events=[("start", {"epochs": 2})])
    info = read_run(run_dir)
    assert info.state == "died" and 99 <= info.duration <= 102  # not still counting
    time.sleep(1.1)
    assert abs(read_run(run_dir).duration - info.duration) < 0.01


def write_events(run_dir, events):
    """Events with the timestamps given (EventWriter stamps the time of writing)."""
    with open(run_dir / "events.jsonl", "a") as f:
        for event in events:
            f.write(json.dumps(event) + "\n")


def test_time_counts_the_active_spans_only_not_the_time_stopped(tmp_path):
    t0 = time.time() - 1000
    run_dir = make_run(tmp_path, "s-run", pid=dead_pid(), started=t0)
    write_events(run_dir, [{"t": t0 + 1, "type": "start", "epochs": 3},
                           {"t": t0 + 100, "type": "end", "state": "stopped"},  # 100 s trained
                           {"t": t0 + 900, "type": "resume", "stage": 0, "epoch": 0, "from_epoch": 1},  # 800 s stopped
                           {"t": t0 + 950, "type": "end", "state": "finished"}])  # 50 s more
    info = read_run(run_dir)
    assert info.state == "finished" and info.duration == pytest.approx(150, abs=0.01)


def test_a_died_span_before_a_resume_counts_to_its_last_event(tmp_path):
    t0 = time.time() - 1000
    run_dir = make_run(tmp_path, "k-run", pid=dead_pid(), started=t0)
    write_events(run_dir, [{"t": t0 + 1, "type": "start", "epochs": 3},
                           {"t": t0 + 60, "type": "epoch", "epoch": 0, "valid_loss": 1.0},  # killed after this
                           {"t": t0 + 500, "type": "resume", "stage": 0, "epoch": 0, "from_epoch": 1},
                           {"t": t0 + 520, "type": "end", "state": "stopped"}])
    assert read_run(run_dir).duration == pytest.approx(80, abs=0.01)


def test_best_and_last_are_both_kept_and_the_lm_sums_up_as_perplexity(tmp_path):
    from l4tui.runs.progress import best_and_last, last_text

    run_dir = make_run(tmp_path, "b-run", pid=dead_pid(), events=[
        ("epoch", {"epoch": 0, "valid_loss": 0.9, "valid_rmse": 0.9419}),
        ("epoch", {"epoch": 1, "valid_loss": 1.0, "valid_rmse": 0.9612}),
        ("end", {"state": "stopped"})])
    info = read_run(run_dir)
    assert info.best == ("valid_rmse", 0.9419) and info.last == ("valid_rmse", 0.9612)
    assert last_text(info.best, info.last) == "0.961"
    assert best_and_last(info.best, info.last) == "best rmse 0.942, last 0.961"
    assert best_and_last(info.best, info.best) == "rmse 0.942"  # the same: said once
    lm = make_run(tmp_path, "lm-run", pid=dead_pid(), events=[
        ("epoch", {"epoch": 0, "valid_loss": 3.0, "accuracy": 0.3, "perplexity": 20.1}),
        ("end", {"state": "finished", "metrics": {"accuracy": 0.3, "perplexity": 20.1}})])
    assert read_run(lm).best == ("perplexity", 20.1) and read_run(lm).last == ("perplexity", 20.1)


def test_the_index_glance_sees_a_new_run_new_events_and_a_process_gone(tmp_path):
    from l4tui.runs.store import RunsIndex

    index = RunsIndex(tmp_path)
    index.refresh()
    assert not index.changed()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "g-run"])
    try:
        run_dir = make_run(tmp_path, "g-run", pid=sleeper.pid, events=[("start", {"epochs": 2})])
        assert index.changed()  # a new folder
        assert index.refresh()[0].state == "running" and not index.changed()
        writer = EventWriter(run_dir)
        writer.write("batch", epoch=0, iter=1, total_iters=10, loss=1.0)
        writer.close()
        assert index.changed()  # its log grew
        index.refresh()
        assert not index.changed()
    finally:
        sleeper.kill()
        sleeper.wait()
    assert index.changed()  # its process is gone
    assert index.refresh()[0].state == "died" and not index.changed()


def test_the_list_the_monitor_and_the_cli_share_one_state_rule():
    from l4tui.runs.store import run_state

    assert run_state("events.jsonl line 3: bad", "finished", 0, "x", 0.0) == "invalid"
    assert run_state(None, "stopped", 0, "x", 0.0) == "stopped"
    assert run_state(None, None, 0, "x", time.time()) == "starting"
    assert run_state(None, None, dead_pid(), "x", 1.0) == "died"
