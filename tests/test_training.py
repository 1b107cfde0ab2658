"""End to end: real runs of the collab model, started the way a user starts them."""

import json
import signal
import subprocess
import sys
import time

import pytest
import torch

from conftest import kill_run, l4tui, wait_for
from l4tui.train.runs import list_runs, read_run

pytestmark = pytest.mark.slow


def test_collab_run_beats_the_mean_baseline(runs_dir):
    result = l4tui("train", "collab", "--epochs", "3", timeout=300)
    assert result.returncode == 0, result.stderr
    last = dict(pair.split("=") for pair in result.stdout.strip().splitlines()[-1].split())
    assert float(last["valid_rmse"]) < float(last["baseline_rmse"]) - 0.2
    [run] = list_runs(runs_dir)
    assert run.state == "finished" and run.epoch == 2
    events = [json.loads(line) for line in (run.run_dir / "events.jsonl").read_text().splitlines()]
    assert [e["type"] for e in events][0] == "start" and events[-1]["type"] == "end"
    assert sum(e["type"] == "epoch" for e in events) == 3
    checkpoint = torch.load(run.run_dir / "checkpoints" / "final.pt", weights_only=True)
    assert checkpoint["model"]["u_weight.weight"].shape == (601, 50)  # 600 users and #na#
    assert len(checkpoint["users"]) == 600
    listing = l4tui("runs").stdout
    assert run.id in listing and "finished" in listing


def test_detached_run_goes_on_and_can_be_stopped(runs_dir, small_ratings):
    result = l4tui("train", "collab", "--data", str(small_ratings), "--epochs", "200", "--detach")
    assert result.returncode == 0 and "started run" in result.stdout
    [run] = list_runs(runs_dir)
    try:
        assert wait_for(lambda: read_run(run.run_dir).epoch is not None)
        assert read_run(run.run_dir).state == "running"
        stopped = l4tui("runs", "stop", run.id[:20])
        assert stopped.returncode == 0
        assert wait_for(lambda: read_run(run.run_dir).state == "stopped", timeout=30)
    finally:
        kill_run(run.run_dir)


def test_ctrl_c_stops_following_not_the_run(runs_dir, small_ratings):
    follower = subprocess.Popen(
        [sys.executable, "-m", "l4tui", "train", "collab", "--data", str(small_ratings), "--epochs", "200"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run_dir = None
    try:
        assert wait_for(lambda: list_runs(runs_dir) and list_runs(runs_dir)[0].epoch is not None)
        run_dir = list_runs(runs_dir)[0].run_dir
        follower.send_signal(signal.SIGINT)
        out, _ = follower.communicate(timeout=30)
        assert follower.returncode == 130
        assert "The run goes on" in out
        time.sleep(0.5)
        assert read_run(run_dir).state == "running"
    finally:
        follower.kill()
        if run_dir:
            kill_run(run_dir)


def test_a_killed_run_reads_as_died(runs_dir, small_ratings):
    l4tui("train", "collab", "--data", str(small_ratings), "--epochs", "200", "--detach")
    [run] = list_runs(runs_dir)
    assert wait_for(lambda: read_run(run.run_dir).state == "running")
    kill_run(run.run_dir)
    assert wait_for(lambda: read_run(run.run_dir).state == "died", timeout=10)


def test_a_failing_run_reports_its_error(runs_dir, tmp_path):
    # Valid when launched, then the file goes bad before the run reads it: the run must say why it failed.
    data = tmp_path / "u.data"
    data.write_text("1\t1\t5\t0\n")
    from l4tui.train.launcher import start_run

    data.write_text("garbage")
    run_dir = start_run("collab", {"data": str(data), "epochs": 1}, runs_dir)
    assert wait_for(lambda: read_run(run_dir).state in ("failed", "died"), timeout=60)
    info = read_run(run_dir)
    assert info.state == "failed" and "RatingsError" in info.error
    assert "Traceback" in (run_dir / "stderr.log").read_text()
