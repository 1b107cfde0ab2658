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


def test_started_text_is_the_time_today_and_the_date_before():
    import time

    from l4tui.runs.progress import started_text

    noon = time.mktime((2026, 3, 4, 12, 0, 0, 0, 0, -1))
    assert started_text(noon - 3600, "x", now=noon) == "11:00"
    assert started_text(noon - 2 * 86400, "x", now=noon) == "03-02 12:00"
    assert started_text(None, "20260304-120000-collab-ab12", now=noon) == "20260304-120000"
    assert started_text(0.0, "short", now=noon) == "short"


def test_best_text_shortens_known_metric_names():
    from l4tui.runs.progress import best_text

    assert best_text(None) == ""
    assert best_text(("valid_rmse", 0.91234)) == "rmse 0.912"
    assert best_text(("accuracy", 0.5)) == "acc 0.5"
    assert best_text(("my_metric", 12345.0)) == "my_metric 1.23e+04"


def test_format_count_keeps_rates_short():
    from l4tui.runs.progress import format_count

    assert [format_count(v) for v in (0, 999.4, 1000, 12_345, 999_999, 4_100_000, 3e12)] == \
        ["0", "999", "1.0k", "12.3k", "1000.0k", "4.1M", "3000000.0M"]


def test_common_metrics_are_the_figures_every_run_has_in_the_usual_order():
    from l4tui.runs.progress import common_metrics

    def progress(*rows):
        p = Progress()
        p.epoch_rows = list(rows)
        return p

    a = progress({"epoch": 0, "t": 1.0, "train_loss": 1.0, "valid_loss": 2.0, "accuracy": 0.5, "zeta": 1},
                 {"epoch": 1, "stage": "x", "note": "text"})
    b = progress({"epoch": 0, "valid_loss": 1.5, "accuracy": 0.7, "train_loss": 1.1, "zeta": 2, "alpha": 3})
    assert common_metrics([a, b]) == ["valid_loss", "accuracy", "train_loss", "zeta"]
    assert common_metrics([a]) == ["valid_loss", "accuracy", "train_loss", "zeta"]
    assert common_metrics([]) == []
    assert common_metrics([a, progress()]) == []  # a run with no epoch yet: nothing in common


def test_the_progress_line_keeps_epoch_step_and_eta_whole_and_moves_the_rest_below():
    from l4tui.runs.progress import Progress, fit_parts, progress_parts

    progress = Progress()
    progress.update([{"t": 0.0, "type": "start", "epochs": 5, "threads": 1, "threads_why": "auto: small model"},
                     {"t": 1.0, "type": "batch", "epoch": 0, "iter": 10, "total_iters": 10280, "items_per_s": 6543.0},
                     {"t": 2.0, "type": "batch", "epoch": 0, "iter": 757, "total_iters": 10280, "items_per_s": 6543.0}])
    parts = progress_parts(progress, "running")
    line, more = fit_parts(parts, 31, 38)  # the monitor at 80x24: 38 wide, the bar's 6 and a space
    assert line.startswith("ep 1/5 · 757/10280 · ETA ") and len(line) <= 31
    assert more.startswith("6.5k items/s · 1 thread")  # what did not fit, on the line below
    wide, below = fit_parts(parts, 120)
    assert wide.endswith("1 thread (auto: small model)") and below == ""
    narrow, below = fit_parts(parts, 40, 12)
    assert narrow.endswith(" · 6.5k/s") and below == "1 thread"  # the narrower formats where the full don't fit
    assert fit_parts([("ep 1/5", "ep 1/5"), ("a long note", "a note")], 8, 5) == ("ep 1/5", "a no…")
    # After a resume the ETA is not known yet: its narrower format keeps it on the line ...
    parts = [("ep 288/400", "ep 288/400"), ("147518/205600", "148k/206k"), ("ETA --:--", "ETA ?")]
    assert fit_parts(parts, 37, 38, keep=3) == ("ep 288/400 · 147518/205600 · ETA ?", "")
    # ... and where that is not enough, the key parts all take theirs.
    assert fit_parts(parts, 32, 38, keep=3) == ("ep 288/400 · 148k/206k · ETA ?", "")


def test_a_resume_says_which_steps_it_trains_again_instead_of_jumping_back():
    from l4tui.runs.progress import Progress, progress_parts

    progress = Progress()
    progress.update([{"t": 0.0, "type": "start", "epochs": 2},
                     {"t": 1.0, "type": "batch", "epoch": 0, "iter": 100, "total_iters": 200},
                     {"t": 1.5, "type": "epoch", "epoch": 0, "epochs": 2, "iter": 100, "total_iters": 200, "valid_loss": 1.0},
                     {"t": 2.0, "type": "batch", "epoch": 1, "iter": 170, "total_iters": 200},
                     {"t": 3.0, "type": "end", "state": "stopped"},
                     {"t": 9.0, "type": "resume", "stage": 0, "epoch": 0, "from_epoch": 1}])
    assert progress.iteration == 100 and progress.redoing() == (100, 70)
    assert "resumed at step 100: 70 steps again" in [full for full, _ in progress_parts(progress, "running")]
    progress.update([{"t": 10.0, "type": "batch", "epoch": 1, "iter": 171, "total_iters": 200}])
    assert progress.redoing() is None  # past where it got: nothing redone any more


def test_the_runs_list_columns_fit_whole_in_the_order_of_importance():
    from l4tui.runs.progress import column_width, columns_that_fit

    rows = [{"mark": "", "state": "finished", "family": "collab", "best": "rmse 0.942", "last": "0.961",
             "time": "0:32", "started": "12-05 14:33"}]
    everything = sum(column_width(key, rows) for key in rows[0])
    assert columns_that_fit(rows, everything) == list(rows[0])
    assert columns_that_fit(rows, 37) == ["mark", "state", "family", "best"]  # 80 columns: the figure shows
    assert columns_that_fit(rows, 10) == ["mark", "state"]


def test_the_figures_wrap_between_parts_never_inside_one():
    from l4tui.runs.progress import wrap_parts

    parts = ["train 0.1606", "valid 0.4493", "valid_rmse 0.6703", "(best 0.6593)", "mean baseline 1.1522"]
    assert wrap_parts(parts, 38) == ["train 0.1606  valid 0.4493", "valid_rmse 0.6703  (best 0.6593)",
                                     "mean baseline 1.1522"]
    assert wrap_parts(["a much too long part"], 8) == ["a much …"]


def test_the_monitor_counts_a_stopped_runs_epochs_as_the_runs_list_does():
    """Running, the epoch under way (ep 2/3 while the second trains); stopped in it, the epochs
    finished (ep 1/3), as `l4tui runs` and the runs list say 1/3."""
    from l4tui.runs.progress import Progress, progress_parts

    progress = Progress()
    progress.update([{"t": 0.0, "type": "start", "epochs": 3},
                     {"t": 1.0, "type": "batch", "epoch": 0, "iter": 100, "total_iters": 300},
                     {"t": 1.5, "type": "epoch", "epoch": 0, "epochs": 3, "iter": 100, "total_iters": 300, "valid_loss": 1.0},
                     {"t": 2.0, "type": "batch", "epoch": 1, "iter": 170, "total_iters": 300}])
    assert progress_parts(progress, "running")[0][0] == "ep 2/3"
    progress.update([{"t": 3.0, "type": "end", "state": "stopped"}])
    assert progress_parts(progress, "stopped")[0][0] == "ep 1/3"
    assert progress_parts(progress, "died")[0][0] == "ep 1/3"
    progress.update([{"t": 4.0, "type": "epoch", "epoch": 1, "epochs": 3, "iter": 200, "total_iters": 300},
                     {"t": 5.0, "type": "epoch", "epoch": 2, "epochs": 3, "iter": 300, "total_iters": 300},
                     {"t": 6.0, "type": "end", "state": "finished"}])
    assert progress_parts(progress, "finished")[0][0] == "ep 3/3"
    fresh = Progress()
    fresh.update([{"t": 0.0, "type": "start", "epochs": 3}])
    assert progress_parts(fresh, "starting")[0][0] == "ep 1/3" and progress_parts(fresh, "died")[0][0] == "ep 0/3"
    # A finished lr_find writes batches and no epoch event: its one epoch is done.
    finder = Progress()
    finder.update([{"t": 0.0, "type": "start", "epochs": 1, "mode": "lr_find"},
                   {"t": 1.0, "type": "batch", "epoch": 0, "iter": 100, "total_iters": 100},
                   {"t": 2.0, "type": "end", "state": "finished"}])
    assert progress_parts(finder, "finished")[0][0] == "ep 1/1"
