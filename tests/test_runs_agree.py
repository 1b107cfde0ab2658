"""Issue 22 (runs): the runs list and the monitor agree with their runs, keep the keyboard focus
where the user acts next, and fit 80x24. Runs are fake (tests/fake_runs.py): no training."""

import os
import signal
import subprocess
import sys
import time

from textual.widgets import DataTable

from conftest import REPO, wait_until
from fake_runs import write_fake_run
from l4tui.runs.events import EventWriter
from l4tui.ui.app import L4App
from l4tui.ui.confirm import ConfirmScreen
from l4tui.ui.data_pane import DataPane
from l4tui.ui.launch_screen import LaunchScreen
from l4tui.ui.run_monitor import RunMonitor


def table(app) -> DataTable:
    return app.query_one("#runs-table", DataTable)


def cursor_key(app) -> str:
    t = table(app)
    return str(t.coordinate_to_cell_key((t.cursor_row, 0)).row_key.value)


def fake_start_run(monkeypatch, runs_dir):
    """The launcher's start_run, replaced by one that writes a finished fake run at once."""
    started = []

    def start_run(family, config, runs, mode="train", processes=1):
        name = f"20990101-00000{len(started)}-collab-f{len(started):03d}"
        started.append(name)
        return write_fake_run(runs, name, steps=30)

    monkeypatch.setattr("l4tui.train.launcher.start_run", start_run)
    return started


async def test_after_a_launch_the_new_run_is_highlighted_watched_and_has_the_focus(runs_dir, monkeypatch):
    for i in range(3):
        write_fake_run(runs_dir, f"20260101-00000{i}-collab-aaa{i}", steps=30)
    started = fake_start_run(monkeypatch, runs_dir)
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        assert await wait_until(pilot, lambda: table(app).row_count == 3)
        await pilot.press("down", "down")  # the cursor away from the top, where the new run lands
        await pilot.press("n")
        assert await wait_until(pilot, lambda: isinstance(app.screen, LaunchScreen)
                                and app.screen.query("#field-epochs") and app.screen.valid)
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: not isinstance(app.screen, LaunchScreen))
        assert await wait_until(pilot, lambda: table(app).row_count == 4)
        assert await wait_until(pilot, lambda: app.focused is table(app))
        assert cursor_key(app) == started[0]
        assert app.query_one(RunMonitor).run_dir.name == started[0]
        # The keys act on the list at once: space marks the highlighted (new) run.
        await pilot.press("space")
        assert app.query_one(DataPane).marked == [started[0]]


async def test_after_each_modal_of_the_pane_the_list_has_the_focus(runs_dir):
    for i in range(3):
        write_fake_run(runs_dir, f"20260101-00000{i}-collab-aaa{i}", steps=30)
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        assert await wait_until(pilot, lambda: table(app).row_count == 3)
        for key, close in (("n", "escape"), ("d", "n"), ("x", "escape"), ("t", "escape"), ("a", "escape"),
                           ("e", "escape")):
            await pilot.press(key)
            assert await wait_until(pilot, lambda: app.screen is not app.screen_stack[0]), key
            await pilot.pause(0.2)
            await pilot.press(close)
            assert await wait_until(pilot, lambda: app.screen is app.screen_stack[0]), key
            assert await wait_until(pilot, lambda: app.focused is table(app)), f"focus after {key} {close}: {app.focused}"
        # Deleting the highlighted run leaves the cursor on a neighbour, with the focus.
        await pilot.press("down", "d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        assert await wait_until(pilot, lambda: table(app).row_count == 2)
        assert await wait_until(pilot, lambda: app.focused is table(app))


def live_fake_run(runs_dir, name):
    """A run that is running: a process whose command line names the run, and its first batches."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", name])
    run_dir = write_fake_run(runs_dir, name, state=None, pid=sleeper.pid, epochs=5, steps=50)
    writer = EventWriter(run_dir)
    for i in range(3):  # a pace for the ETA: batches up to now
        writer.write("batch", epoch=0, iter=50 + i * 10, total_iters=10280, loss=1.0, items_per_s=6543.0)
        time.sleep(0.05)
    writer.close()
    return run_dir, sleeper


def row_state(app, name) -> str:
    return str(table(app).get_cell(name, "state"))


async def test_list_and_header_say_stopped_within_a_second_of_the_end(runs_dir):
    run_dir, sleeper = live_fake_run(runs_dir, "20260101-000000-collab-live")
    try:
        app = L4App(runs_dir=runs_dir, workspace=REPO)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("2")
            header = lambda: str(app.query_one("#run-header").render())
            assert await wait_until(pilot, lambda: table(app).row_count == 1 and header().startswith("running"))
            assert row_state(app, run_dir.name) == "running"
            eta = str(app.query_one("#run-eta").render())
            assert "ep " in eta and "70/10280" in eta and "ETA " in eta
            shown = app.query_one("#run-eta").region  # whole on screen at 80x24, not cut at its edge
            assert shown.width >= len(eta) and shown.right <= app.query_one(RunMonitor).content_region.right
            # As the run does on SIGTERM: its end event, then its process ends.
            writer = EventWriter(run_dir)
            writer.write("end", state="stopped")
            writer.close()
            t0 = time.monotonic()
            sleeper.kill()
            sleeper.wait()
            assert await wait_until(pilot, lambda: header().startswith("stopped")
                                    and row_state(app, run_dir.name) == "stopped", timeout=3)
            took = time.monotonic() - t0
            assert took < 1.5, took  # within a second (and the pilot's own pace)
            # A run started from the shell shows up fast, without the app being busy when idle.
            t0 = time.monotonic()
            write_fake_run(runs_dir, "20260101-000001-collab-news", steps=30)
            assert await wait_until(pilot, lambda: table(app).row_count == 2, timeout=4)
            assert time.monotonic() - t0 < 2
    finally:
        sleeper.kill()
        sleeper.wait()


async def test_the_runs_list_shows_best_and_last_and_the_started_column_whole_when_wide(runs_dir):
    run_dir = write_fake_run(runs_dir, "20260101-000000-collab-aaaa", steps=30, state="stopped")
    writer = EventWriter(run_dir)  # a worse last epoch than the best
    writer.write("epoch", epoch=3, epochs=4, iter=40, total_iters=40, train_loss=0.5, valid_loss=2.0,
                 valid_rmse=1.5)
    writer.close()
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("2")
        assert await wait_until(pilot, lambda: table(app).row_count == 1)
        t = table(app)
        assert [str(c.label) for c in t.columns.values()] == [" ", "state", "family", "best", "last", "time",
                                                            "started"]
        assert str(t.get_cell(run_dir.name, "last")) == "1.5"
        assert str(t.get_cell(run_dir.name, "best")).startswith("rmse ")
        # Every column whole: the table's columns fit inside the list.
        assert sum(c.get_render_width(t) for c in t.columns.values()) <= t.scrollable_content_region.width
        await pilot.resize_terminal(80, 24)
        assert await wait_until(pilot, lambda: [str(c.label) for c in t.columns.values()]
                                == [" ", "state", "family", "best"])
        assert sum(c.get_render_width(t) for c in t.columns.values()) <= t.scrollable_content_region.width


async def test_the_launch_form_at_80x24_shows_every_label_whole_and_needs_no_scrolling(runs_dir):
    from textual.widgets import Label

    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "n")
        assert await wait_until(pilot, lambda: isinstance(app.screen, LaunchScreen)
                                and app.screen.query("#field-device"))
        await pilot.pause(0.3)
        form = app.screen
        for label in form.query(".field-label").results(Label):
            assert label.region.height == 1 and label.region.width >= len(str(label.render())), str(label.render())
        fields = form.query_one("#launch-fields")
        assert fields.max_scroll_y == 0  # every field of collab's form on screen at once
