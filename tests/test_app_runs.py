"""The Data & training pane with runs already in the folder: the list, the monitor, compare, delete.

Runs here are written by tests/fake_runs.py, as a run writes them, so these tests need no training;
tests/test_app.py starts real runs from the app.
"""

from pathlib import Path

import pytest

from textual.widgets import Button, DataTable, Input, Select, Static

from conftest import REPO, wait_until
from fake_runs import write_fake_run
from l4tui.ui.app import L4App
from l4tui.ui.confirm import ConfirmScreen
from l4tui.ui.data_pane import DataPane
from l4tui.ui.launch_screen import LaunchScreen
from l4tui.ui.run_monitor import RunMonitor


def text(app, selector) -> str:
    return str(app.query_one(selector).render())


def cells(app) -> list[list[str]]:
    table = app.query_one("#runs-table", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_runs_list_shows_state_family_and_best_and_follows_the_folder(runs_dir):
    write_fake_run(runs_dir, "20260101-000000-collab-aaaa", steps=60)
    write_fake_run(runs_dir, "20260101-000001-tabular-bbbb", family="tabular", metric="accuracy", state="failed",
                   error="TrainingError: the loss became nan")
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        assert await wait_until(pilot, lambda: app.query_one("#runs-table", DataTable).row_count == 2)
        rows = cells(app)
        assert [row[1:3] for row in rows] == [["failed", "tabular"], ["finished", "collab"]]
        assert rows[1][3].startswith("rmse ")
        # A run started elsewhere (the CLI, another l4tui) shows up by itself.
        write_fake_run(runs_dir, "20260101-000002-lm-cccc", family="lm", metric="perplexity")
        assert await wait_until(pilot, lambda: app.query_one("#runs-table", DataTable).row_count == 3, timeout=5)


async def test_a_failed_run_shows_its_error_and_the_end_of_its_log(runs_dir):
    write_fake_run(runs_dir, "20260101-000000-collab-aaaa", state="failed",
                   error="TrainingError: the loss became nan at epoch 1, batch 3",
                   stderr="Traceback (most recent call last):\n  File x\nTrainingError: the loss became nan\n")
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        monitor = app.query_one(RunMonitor)
        assert await wait_until(pilot, lambda: "failed:" in text(app, "#run-metrics"))
        shown = text(app, "#run-metrics")
        assert "loss became nan at epoch 1" in shown and "Traceback" in shown
        assert text(app, "#run-header").startswith("failed")
        assert monitor.progress.end["state"] == "failed"


async def test_a_run_with_100000_steps_opens_whole(runs_dir):
    # How long it takes is a figure of bench/monitor.py (opening a run with 100,000 logged steps),
    # not an assertion here: a timed test fails on a busy CI machine for reasons not the app's.
    write_fake_run(runs_dir, "20260101-000000-collab-aaaa", steps=100_000, epochs=10)
    write_fake_run(runs_dir, "20260101-000001-collab-bbbb", steps=10)
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        pane = app.query_one(DataPane)
        assert await wait_until(pilot, lambda: app.query_one("#runs-table", DataTable).row_count == 2)
        monitor = app.query_one(RunMonitor)
        assert await wait_until(pilot, lambda: monitor.run_dir is not None)
        await pilot.press("up")
        await pilot.press("enter")  # the small, newer run
        assert await wait_until(pilot, lambda: not monitor._loading and monitor.progress.end)
        await pilot.press("down")  # the big one is older: second in the list
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: not monitor._loading
                                and len(monitor.progress.raw_points) == 100_000, timeout=30)
        await pilot.pause()
        assert pane.watched.name == "20260101-000000-collab-aaaa"
        assert "ep 10/10" in text(app, "#run-eta")


async def test_chart_keys_cycle_charts_log_zoom_smoothing_and_pause(runs_dir):
    write_fake_run(runs_dir, "20260101-000000-collab-aaaa", steps=3000)
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        monitor = app.query_one(RunMonitor)
        assert await wait_until(pilot, lambda: monitor.progress.end is not None)
        # 80x24: one chart at a time, v cycles them
        shown = lambda: [c.id for c in monitor.query("#charts PlotextPlot") if c.display]  # noqa: E731
        assert shown() == ["loss-chart"]
        await pilot.press("v")
        assert shown() == ["metric-chart"] and "valid_rmse" in text(app, "#metric-chart")
        await pilot.press("v")
        assert shown() == ["schedule-chart"] and "momentum" in text(app, "#schedule-chart")
        await pilot.press("v", "l", "z", "right_square_bracket")
        options = monitor.options
        assert options.log_y and options.window == 2000 and options.smoothing == 0.99
        assert "last 2000" in text(app, "#loss-chart") and "log y" in text(app, "#loss-chart")
        await pilot.press("p")
        assert monitor.paused and "[paused]" in text(app, "#run-header")
    async with L4App(runs_dir=runs_dir, workspace=REPO).run_test(size=(200, 60)) as pilot:
        await pilot.press("2")
        monitor = pilot.app.query_one(RunMonitor)
        assert await wait_until(pilot, lambda: monitor.progress.end is not None)
        await pilot.pause(0.2)
        assert [c.id for c in monitor.query("#charts PlotextPlot") if c.display] == \
            ["loss-chart", "metric-chart", "schedule-chart"]  # room for all three


async def test_compare_two_finished_runs_overlaid_with_a_legend(runs_dir):
    write_fake_run(runs_dir, "20260101-000000-collab-aaaa", scale=1.0)
    write_fake_run(runs_dir, "20260101-000001-collab-bbbb", scale=0.5)
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        assert await wait_until(pilot, lambda: app.query_one("#runs-table", DataTable).row_count == 2)
        await pilot.press("c")  # nothing marked yet: a hint, no compare
        monitor = app.query_one(RunMonitor)
        assert not monitor.comparing
        await pilot.press("space", "down", "space")
        assert app.query_one(DataPane).marked == ["20260101-000001-collab-bbbb", "20260101-000000-collab-aaaa"]
        await pilot.press("c")
        assert await wait_until(pilot, lambda: len(monitor.comparing) == 2)
        chart = text(app, "#compare-chart")
        assert "20260101-000000-collab-aaaa" in chart and "20260101-000001-collab-bbbb" in chart  # the legend
        assert "compare: valid_loss" in chart
        await pilot.press("m")
        assert monitor.compare_metric != "valid_loss"
        assert monitor.compare_metric in text(app, "#compare-chart")
        await pilot.press("escape")
        assert not monitor.comparing and app.query_one("#loss-chart").display


async def test_delete_asks_first_and_refuses_a_running_run(runs_dir):
    write_fake_run(runs_dir, "20260101-000000-collab-aaaa")
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        assert await wait_until(pilot, lambda: app.query_one("#runs-table", DataTable).row_count == 1)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # no: nothing happens
        assert (runs_dir / "20260101-000000-collab-aaaa").is_dir()
        await pilot.press("d")
        await pilot.press("y")
        assert await wait_until(pilot, lambda: app.query_one("#runs-table", DataTable).row_count == 0)
        assert not (runs_dir / "20260101-000000-collab-aaaa").exists()
        assert app.query_one(RunMonitor).run_dir is None


async def open_form(pilot):
    await pilot.press("2", "n")
    assert await wait_until(pilot, lambda: isinstance(pilot.app.screen, LaunchScreen)
                            and pilot.app.screen.query("#field-epochs"))
    form = pilot.app.screen
    assert await wait_until(pilot, lambda: form.data_items)
    return form


def error(form, name) -> str:
    return str(form.query_one(f"#error-{name}", Static).render())


async def test_the_form_checks_fields_as_they_are_typed(runs_dir):
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(pilot)
        start = form.query_one("#launch-start", Button)
        assert not start.disabled and str(form.query_one("#launch-command").render()) == "$ l4tui train collab"
        for field, value, message in [("lr", "-0.1", "must be positive"), ("epochs", "0", "must be at least 1"),
                                      ("wd", "lots", "not a number"), ("epochs", "1.5", "must be a whole number"),
                                      ("bs", "100000", "larger than the data (32,910 training items)")]:
            form.query_one(f"#field-{field}", Input).value = value
            await pilot.pause()
            assert error(form, field) == message, field
            assert start.disabled
        await pilot.press("ctrl+s")  # refused: nothing starts
        await pilot.pause()
        assert isinstance(app.screen, LaunchScreen) and not runs_dir.exists()
        for field, value in [("lr", "0.01"), ("epochs", "3"), ("wd", "0.1"), ("bs", "128")]:
            form.query_one(f"#field-{field}", Input).value = value
        await pilot.pause()
        assert not start.disabled and all(error(form, f) == "" for f in ("lr", "epochs", "wd", "bs"))
        assert str(form.query_one("#launch-command").render()) == "$ l4tui train collab --epochs 3 --lr 0.01 --bs 128"
        await pilot.press("escape")
        assert not isinstance(app.screen, LaunchScreen)


async def test_the_form_changes_fields_with_the_recipe(runs_dir):
    from fake_runs import write_fake_run

    lm = write_fake_run(runs_dir, "20260101-000000-lm-aaaa", family="lm", metric="perplexity")
    (lm / "checkpoints").mkdir()
    (lm / "checkpoints" / "last.pt").write_bytes(b"")
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_form(pilot)
        assert form.query("#field-n_factors") and not form.query("#field-layers")
        form.query_one("#field-family", Select).value = "classifier"
        assert await wait_until(pilot, lambda: form.query("#field-encoder") and not form.query("#field-n_factors"))
        assert await wait_until(pilot, lambda: form.query_one("#field-encoder", Select).value ==
                                "20260101-000000-lm-aaaa")  # the newest LM run
        assert form.query("#field-drop_mult") and form.query("#field-preset")
        assert await wait_until(pilot, lambda: "--encoder 20260101-000000-lm-aaaa" in
                                str(form.query_one("#launch-command").render()))
        form.query_one("#field-family", Select).value = "tabular"
        assert await wait_until(pilot, lambda: form.query("#field-layers"))
        form.query_one("#field-layers", Input).value = "200,x"
        await pilot.pause()
        assert error(form, "layers") == "sizes separated by commas, e.g. 200,100"


async def test_a_cuda_run_shows_gpu_memory_and_utilisation(runs_dir):
    # The batch events of a run on CUDA carry the device figures (l4tui.train.device); no GPU is
    # needed to check that the monitor shows them.
    from l4tui.runs.events import EventWriter

    run_dir = write_fake_run(runs_dir, "20260101-000000-collab-aaaa", steps=30)
    writer = EventWriter(run_dir)
    writer.write("batch", epoch=2, iter=30, total_iters=30, loss=0.5, raw=0.5, lr=1e-3, mom=0.9,
                 gpu_mem_mib=3584.0, gpu_mem_total_mib=81920.0, gpu_util=87)
    writer.close()
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        assert await wait_until(pilot, lambda: "GPU" in text(app, "#run-metrics"))
        assert "GPU 3.5/80 GiB · 87% busy" in text(app, "#run-metrics")


async def test_d_and_enter_in_one_burst_do_not_delete_the_run(runs_dir):
    """Keys over SSH arrive in bursts: the delete dialog's focus is on No from the moment it is
    shown, so an Enter right behind the `d` answers no (it pressed Yes, the first button)."""
    from textual import events

    run = write_fake_run(runs_dir, "20260101-000000-collab-aaaa", steps=10)
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        assert await wait_until(pilot, lambda: app.query_one("#runs-table").row_count == 1)
        app.query_one("#runs-table").focus()
        await pilot.pause()
        for key, character in (("d", "d"), ("enter", "\r")):  # queued together, as one read
            app.post_message(events.Key(key, character))
        await pilot.pause(0.5)
        assert run.exists() and len(app.screen_stack) == 1


@pytest.fixture
def fake_lr_find(monkeypatch, runs_dir):
    """start_run for lr_find writes a run that is still finding, its process a sleeper whose command
    line names the run (as a live run's does); the test ends it, or kills its process."""
    import subprocess
    import sys

    started, processes = [], []

    def start_run(family, config, runs_dir_, mode="train", processes_=1):
        name = f"2026-01-01-{family}-lrfd"
        process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", name])
        processes.append(process)
        started.append(write_fake_run(runs_dir_, name, family=family, mode=mode, state=None, steps=10, written=4,
                                      pid=process.pid))
        return started[-1]

    monkeypatch.setattr("l4tui.train.launcher.start_run", start_run)
    yield started, processes
    for process in processes:
        process.kill()
        process.wait()


async def start_lr_find(pilot):
    """The form open, Ctrl-L pressed, the finder's run polled: the form."""
    form = await open_form(pilot)
    await pilot.press("ctrl+l")
    assert await wait_until(pilot, lambda: "step 4/10" in str(form.query_one("#launch-status").render()))
    assert form._finding
    return form


async def test_lr_find_from_the_form_fills_in_its_suggestion(runs_dir, fake_lr_find):
    from l4tui.runs.events import EventWriter

    started, _ = fake_lr_find
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await start_lr_find(pilot)
        assert form.query_one("#launch-start", Button).disabled  # no start while it finds
        writer = EventWriter(started[0])
        writer.write("end", state="finished", metrics={"suggested_lr": 0.0042})
        writer.close()
        assert await wait_until(pilot, lambda: form.query_one("#field-lr", Input).value == "0.0042")
        assert not form.query_one("#launch-start", Button).disabled


async def test_esc_while_lr_find_runs_closes_the_form_and_the_app_goes_on(runs_dir, fake_lr_find):
    """The form's lr_find worker polls the run; Esc removes the form's fields while it waits, and
    the worker must stop there (its `finally` re-checked the fields and failed the app)."""
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await start_lr_find(pilot)
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: not isinstance(app.screen, LaunchScreen))
        await pilot.pause(1.0)  # a few of the worker's polls
        assert app.is_running and app._exception is None


async def test_lr_find_whose_process_dies_says_so_in_the_form(runs_dir, fake_lr_find):
    _, processes = fake_lr_find
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await start_lr_find(pilot)
        processes[0].kill()
        processes[0].wait()
        assert await wait_until(pilot, lambda: "lr_find died" in str(form.query_one("#launch-status").render()))
        assert not form._finding and not form.query_one("#launch-start", Button).disabled
