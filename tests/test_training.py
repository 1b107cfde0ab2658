"""End to end: real runs of the collab model, started the way a user starts them."""

import json
import signal
import subprocess
import sys
import time

import pytest
import torch

from conftest import kill_run, l4tui, wait_for
from l4tui.runs.checkpoints import list_checkpoints
from l4tui.runs.store import list_runs, read_run

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
    checkpoint = torch.load(run.run_dir / "checkpoints" / "last.pt", weights_only=True)
    assert checkpoint["model"]["u_weight.weight"].shape == (601, 50)  # 600 users and #na#
    assert len(checkpoint["users"]) == 600
    # Each epoch's weights are kept, without the optimizer; the last of them is last.pt's.
    epochs = list_checkpoints(run.run_dir)
    assert [c.label for c in epochs] == ["epoch 1", "epoch 2", "epoch 3", "best", "last"]
    third = torch.load(epochs[2].path, weights_only=True)
    assert "optimizer" not in third and third["users"] == checkpoint["users"]
    assert torch.equal(third["model"]["u_weight.weight"], checkpoint["model"]["u_weight.weight"])
    first = torch.load(epochs[0].path, weights_only=True)
    assert not torch.equal(first["model"]["u_weight.weight"], third["model"]["u_weight.weight"])
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
        checkpoint = torch.load(run.run_dir / "checkpoints" / "last.pt", weights_only=True)
        assert checkpoint["epoch"] >= 0 and "optimizer" in checkpoint
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


def test_bad_data_is_refused_before_a_run_starts(runs_dir, tmp_path):
    from l4tui.data.ratings import RatingsError
    from l4tui.train.launcher import start_run

    data = tmp_path / "u.data"
    data.write_text("garbage")
    with pytest.raises(RatingsError, match="expected 4 tab-separated columns"):
        start_run("collab", {"data": str(data), "epochs": 1}, runs_dir)
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


def epochs_of(run_dir):
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    return [e["epoch"] for e in events if e["type"] == "epoch"], events


def test_resume_continues_with_one_history(runs_dir, small_ratings):
    l4tui("train", "collab", "--data", str(small_ratings), "--epochs", "60", "--detach")
    [run] = list_runs(runs_dir)
    try:
        assert wait_for(lambda: (read_run(run.run_dir).epoch or 0) >= 2)
        l4tui("runs", "stop", run.id)
        assert wait_for(lambda: read_run(run.run_dir).state == "stopped", timeout=30)
        stopped_at = read_run(run.run_dir).epoch
        result = l4tui("runs", "resume", run.id)
        assert result.returncode == 0, result.stderr
        assert wait_for(lambda: read_run(run.run_dir).state == "finished", timeout=120)
    finally:
        kill_run(run.run_dir)
    epochs, events = epochs_of(run.run_dir)
    assert epochs == list(range(60))  # every epoch once, in order, across the two processes
    kinds = [e["type"] for e in events]
    assert kinds.count("start") == 1 and kinds.count("resume") == 1 and kinds[-1] == "end"
    resume = next(e for e in events if e["type"] == "resume")
    assert resume["epoch"] <= stopped_at
    assert [c.epoch for c in list_checkpoints(run.run_dir)][:-2] == list(range(1, 61))  # each epoch's weights
    result = l4tui("runs", "resume", run.id)
    assert result.returncode == 2 and "finished" in result.stderr


def test_nan_loss_fails_the_run_with_advice(runs_dir):
    result = l4tui("train", "tabular", "--lr", "1e9", "--epochs", "1")
    assert result.returncode == 1
    assert "the loss became nan" in result.stdout and "try a tenth of it" in result.stdout
    [run] = list_runs(runs_dir)
    assert run.state == "failed" and "learning rate" in run.error
    assert "Traceback" in (run.run_dir / "stderr.log").read_text()
    shown = json.loads(l4tui("runs", "show", run.id, "--json").stdout)
    assert shown["state"] == "failed" and shown["family"] == "tabular" and shown["config"]["lr"] == 1e9
    tail = l4tui("runs", "tail", run.id).stdout.splitlines()
    assert tail[0].split()[1] == "start" and tail[-1].split()[1] == "end"


def final_metrics(result):
    assert result.returncode == 0, result.stdout + result.stderr
    return {k: float(v) for k, v in (pair.split("=") for pair in result.stdout.strip().splitlines()[-1].split())}


def test_tabular_recipe_beats_the_majority_class(runs_dir):
    metrics = final_metrics(l4tui("train", "tabular", timeout=300))
    assert metrics["accuracy"] > metrics["baseline_accuracy"] + 0.02


def test_ulmfit_language_model_then_classifier(runs_dir):
    metrics = final_metrics(l4tui("train", "lm", "--epochs", "3", timeout=300))
    assert metrics["perplexity"] < metrics["unigram_perplexity"] / 3  # far better than word frequencies
    [lm] = list_runs(runs_dir)
    checkpoint = torch.load(lm.run_dir / "checkpoints" / "last.pt", weights_only=True)
    assert checkpoint["vocab"][:2] == ["xxunk", "xxpad"]
    types = [json.loads(line)["type"] for line in (lm.run_dir / "events.jsonl").read_text().splitlines()]
    assert types[:2] == ["prepare", "start"]  # the tokenizing's progress, before the first batch
    metrics = final_metrics(l4tui("train", "classifier", "--encoder", lm.id, timeout=300))
    assert metrics["accuracy"] > metrics["baseline_accuracy"] + 0.05
    classifier = next(run for run in list_runs(runs_dir) if run.family == "classifier")
    events = epochs_of(classifier.run_dir)[1]
    stages = [e["stage_name"] for e in events if e["type"] == "epoch"]
    assert stages == ["head", "freeze_to(-2)", "freeze_to(-3)", "unfrozen", "unfrozen"]  # gradual unfreezing


def test_two_processes_through_torchrun_learn_like_one(runs_dir):
    # DistributedDataParallel over 2 CPU processes (gloo): each takes every other batch.
    single = final_metrics(l4tui("train", "collab", "--epochs", "3", timeout=300))
    result = l4tui("train", "collab", "--epochs", "3", "--gpus", "2", timeout=300)
    double = final_metrics(result)
    run = next(run for run in list_runs(runs_dir) if run.config and "--nproc_per_node=2" in
               " ".join(json.loads((run.run_dir / "run.json").read_text())["command"]))
    assert run.state == "finished"
    epochs, events = epochs_of(run.run_dir)
    assert epochs == [0, 1, 2]  # rank 0 alone writes the run folder
    assert events[0]["processes"] == 2
    assert double["valid_rmse"] < double["baseline_rmse"] - 0.3
    assert abs(double["valid_rmse"] - single["valid_rmse"]) < 0.1
    torch.load(run.run_dir / "checkpoints" / "last.pt", weights_only=True)
