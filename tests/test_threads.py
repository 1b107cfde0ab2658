"""Threads chosen per run (l4tui/train/threads.py): the rule, the registry of running runs, the
--threads option, and a real run process that applies the choice."""

import json
import os
import subprocess
import sys

import pytest

from conftest import kill_run, l4tui, wait_for
from l4tui.runs.progress import Progress, threads_line
from l4tui.train.options import problems
from l4tui.train.threads import SMALL_DENSE, Registry, choose_threads, dense_params

LARGE = 20 * SMALL_DENSE  # the lesson's AWD-LSTM is about this size in dense weights


# ---- the rule --------------------------------------------------------------------------------


def test_a_small_model_takes_one_thread_whatever_the_cores():
    assert choose_threads(50_000, 2, []) == (1, "auto: small model")
    assert choose_threads(50_000, 64, [3, 4]) == (1, "auto: small model")


def test_a_large_model_alone_takes_every_core():
    assert choose_threads(LARGE, 2, []) == (2, "auto: 2 cores")
    assert choose_threads(LARGE, 16, []) == (16, "auto: 16 cores")
    assert choose_threads(LARGE, 1, []) == (1, "auto: 1 core")


def test_runs_already_running_share_the_cores():
    assert choose_threads(LARGE, 2, [1]) == (1, "auto: 2 cores shared with 1 other run")
    assert choose_threads(LARGE, 16, [8]) == (8, "auto: 16 cores shared with 1 other run")
    assert choose_threads(LARGE, 16, [4, 4, 4])[0] == 4
    # Never more than the others leave free: one run took 14 of 16 cores.
    assert choose_threads(LARGE, 16, [14])[0] == 2
    # At least one thread, however crowded.
    assert choose_threads(LARGE, 2, [2, 2, 2]) == (1, "auto: 2 cores shared with 3 other runs")


def test_a_run_still_choosing_counts_for_its_share():
    assert choose_threads(LARGE, 8, [None])[0] == 4
    assert choose_threads(LARGE, 8, [None, 2])[0] == 2


def test_the_override_wins_and_says_so():
    assert choose_threads(50_000, 2, [1, 1], override=4) == (4, "--threads 4")
    assert choose_threads(LARGE, 2, [], override=0)[1] == "auto: 2 cores"  # 0 is auto


def test_a_gpu_run_takes_one_thread():
    assert choose_threads(LARGE, 16, [], device="cuda:0") == (1, "auto: GPU run (the CPU only feeds it)")


def test_embeddings_are_not_dense_weights_even_tied_to_a_decoder():
    import torch

    class Tied(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(1000, 40)
            self.lstm = torch.nn.Linear(40, 40)
            self.decoder = torch.nn.Linear(40, 1000)
            self.decoder.weight = self.emb.weight

    model = Tied()
    assert dense_params(model) == 40 * 40 + 40 + 1000  # the Linear, and the decoder's bias


# ---- the registry ------------------------------------------------------------------------------


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_the_registry_lists_live_runs_and_drops_dead_ones(tmp_path):
    registry = Registry(tmp_path / "reg")
    registry.enter(3)  # this test process, as if it were a run
    registry.enter(None, pid=os.getppid())  # a live process still choosing
    gone = dead_pid()
    registry.enter(2, pid=gone)
    me = os.getpid()
    assert registry.others(pid=me) == [None]
    assert not (tmp_path / "reg" / f"{gone}.json").exists()  # cleaned
    assert sorted(registry.others(pid=os.getppid()), key=str) == [3]
    registry.leave()
    assert registry.others(pid=os.getppid()) == []


def test_a_reused_pid_is_not_taken_for_the_run(tmp_path):
    folder = tmp_path / "reg"
    folder.mkdir()
    # Our parent is alive, but the file says it started at another time: another process had the pid.
    (folder / f"{os.getppid()}.json").write_text(json.dumps({"pid": os.getppid(), "threads": 2, "started": "1"}))
    if not os.path.exists(f"/proc/{os.getppid()}/stat"):
        pytest.skip("no /proc: start times unknown")
    assert Registry(folder).others() == []


def test_an_unwritable_registry_does_not_stop_a_run(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    registry = Registry(blocker / "reg")
    registry.enter(1)
    assert registry.others() == []
    registry.leave()


# ---- the option --------------------------------------------------------------------------------


@pytest.mark.parametrize("value, message", [(-1, "threads must be from 0 (auto) to 1024"),
                                            (5000, "threads must be from 0 (auto) to 1024"),
                                            (1.5, "threads must be a whole number")])
def test_the_option_is_bounded(value, message):
    from l4tui.train.recipes import RECIPES

    config = RECIPES["collab"][0].from_dict({"threads": value})
    assert problems("collab", config) == [message]


def test_the_cli_refuses_a_bad_thread_count_in_one_line(runs_dir):
    result = l4tui("train", "collab", "--threads", "-2")
    assert result.returncode != 0
    assert "threads must be from 0 (auto) to 1024" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_launch_form_starts_at_auto():
    from l4tui.train.launch_form import fields_for, parse_field

    [spec] = [s for s in fields_for("tabular") if s.name == "threads"]
    assert (spec.label, spec.default) == ("Threads (0: auto)", "0")
    assert parse_field(spec, "4") == (4, None)
    assert parse_field(spec, "-1")[1] == "must be from 0 (auto) to 1024"


def test_the_monitor_line_says_the_choice_and_why():
    assert threads_line({"threads": 1, "threads_why": "auto: small model"}) == "1 thread (auto: small model)"
    assert threads_line({"device": "cpu"}) is None  # runs from before
    progress = Progress()
    progress.update([{"type": "start", "t": 1.0, "epochs": 1, "threads": 4, "threads_why": "--threads 4"}])
    assert progress.threads == "4 threads (--threads 4)"


# ---- a real run process -------------------------------------------------------------------------


def start_event(run_dir):
    for line in (run_dir / "events.jsonl").read_text().splitlines():
        event = json.loads(line)
        if event["type"] == "start":
            return event
    return None


@pytest.mark.slow
def test_a_run_applies_its_choice_and_the_registry_holds_it_while_it_runs(runs_dir, small_ratings, tmp_path,
                                                                           monkeypatch):
    from l4tui.runs.store import list_runs, read_run

    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # a private registry, inherited by the run
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("L4TUI_THREAD_RULE", raising=False)
    registry = Registry(tmp_path / "l4tui" / "threads")
    # A long run with --threads 2: its start event reads torch's threads back; it is in the registry.
    result = l4tui("train", "collab", "--data", str(small_ratings), "--epochs", "200", "--threads", "2", "--detach")
    assert result.returncode == 0, result.stderr
    [run] = list_runs(runs_dir)
    try:
        assert wait_for(lambda: read_run(run.run_dir).epoch is not None, timeout=120)
        start = start_event(run.run_dir)
        assert (start["threads"], start["threads_why"]) == (2, "--threads 2")
        assert registry.others() == [2]
        shown = l4tui("runs", "show", run.id).stdout
        assert "threads     2 threads (--threads 2)" in shown
        # A second run started beside it: a small model, one thread, whatever the other takes.
        second = l4tui("train", "collab", "--data", str(small_ratings), "--epochs", "1")
        assert second.returncode == 0, second.stderr
        [other] = [r for r in list_runs(runs_dir) if r.id != run.id]
        assert (start_event(other.run_dir)["threads"], start_event(other.run_dir)["threads_why"]) == \
            (1, "auto: small model")
        assert l4tui("runs", "stop", run.id).returncode == 0
        assert wait_for(lambda: read_run(run.run_dir).state == "stopped", timeout=60)
        assert registry.others() == []  # each run left the registry as it ended
    finally:
        kill_run(run.run_dir)
