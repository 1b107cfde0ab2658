from l4tui.runs.progress import Progress, format_metrics, format_seconds


def test_eta_goes_by_the_pace_of_batches_not_the_start_up():
    progress = Progress()
    progress.update([
        {"type": "start", "t": 0.0, "epochs": 2},
        {"type": "batch", "t": 10.0, "iter": 1, "total_iters": 201, "epoch": 0, "loss": 2.0},
    ])
    assert progress.eta_seconds() is None  # one point is no pace
    progress.update([{"type": "batch", "t": 20.0, "iter": 101, "total_iters": 201, "epoch": 0, "loss": 1.0}])
    assert progress.eta_seconds() == 10.0  # 100 iterations in 10 s, 100 to go
    assert progress.fraction == 101 / 201
    progress.update([{"type": "end", "t": 30.0, "state": "finished"}])
    assert progress.fraction == 1.0 and progress.eta_seconds() is None


def test_formatting():
    assert format_seconds(None) == "--:--"
    assert format_seconds(65) == "1:05" and format_seconds(3725) == "1:02:05"
    assert format_metrics({"valid_rmse": 0.93123, "epochs": 5, "skip": None}) == "valid_rmse=0.9312 epochs=5"
