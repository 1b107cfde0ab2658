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
