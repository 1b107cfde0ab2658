"""The app driven as a user drives it, with Textual's Pilot."""

import pytest
from textual.widgets import DataTable, Input, ProgressBar, Static, TabbedContent

from conftest import REPO, kill_run, wait_for, wait_until
from l4tui.runs.store import list_runs, read_run
from l4tui.ui.app import L4App
from l4tui.ui.code_view import CodeView
from l4tui.ui.data_pane import DataPane
from l4tui.ui.launch_screen import LaunchScreen
from l4tui.ui.model_pane import ModelPane
from l4tui.ui.run_monitor import RunMonitor

COLLAB = REPO / "models" / "collab.py"


def status(app) -> str:
    return str(app.query_one("#code-status", Static).render())


def make_app(runs_dir):
    return L4App(runs_dir=runs_dir, workspace=REPO)


async def test_panes_switch_with_digits_and_function_keys(runs_dir):
    app = make_app(runs_dir)
    async with app.run_test(size=(100, 30)) as pilot:
        panes = app.query_one(TabbedContent)
        assert panes.active == "code"
        for key, pane in [("2", "data"), ("3", "model"), ("1", "code"), ("f2", "data"), ("f3", "model"),
                          ("f1", "code")]:
            await pilot.press(key)
            await pilot.pause()
            assert panes.active == pane, key


async def test_help_lists_the_keys_and_closes(runs_dir):
    app = make_app(runs_dir)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        text = app.screen.text()  # the Code pane's keys and the app's (test_keys.py: the rest)
        for expected in ("Ctrl-]", "Ctrl-T", "g d", "1 / F1", "Quit"):
            assert expected in text
        await pilot.press("escape")
        await pilot.pause()
        assert not app.screen.query("#help-box")
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_jump_to_torch_definition_and_back(runs_dir):
    app = make_app(runs_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(CodeView)
        assert await wait_until(pilot, lambda: view.path == COLLAB)
        line = next(i for i, text in enumerate(view.lines) if "nn.Embedding(n_users" in text)
        col = view.lines[line].index("Embedding")
        view.move_to(line, col + 2)
        await pilot.pause()
        assert status(app).startswith(f"models/collab.py:{line + 1}:{col + 3}  env: ")

        await pilot.press("ctrl+right_square_bracket")
        assert await wait_until(pilot, lambda: view.path and view.path.name == "sparse.py")
        assert view.lines[view.cursor_line].startswith("class Embedding(")
        assert status(app).startswith(f"torch/nn/modules/sparse.py:{view.cursor_line + 1}:7")

        await pilot.press("ctrl+t")
        assert await wait_until(pilot, lambda: view.path == COLLAB)
        assert (view.cursor_line, view.cursor_col) == (line, col + 2)

        # gd does the same; in-file jumps land on the definition too.
        use = next(i for i, text in enumerate(view.lines) if "return sigmoid_range" in text)
        view.move_to(use, view.lines[use].index("sigmoid_range"))
        await pilot.press("g", "d")
        assert await wait_until(pilot, lambda: view.lines[view.cursor_line].startswith("def sigmoid_range"))
        await pilot.press("ctrl+t")
        assert await wait_until(pilot, lambda: view.cursor_line == use)


async def test_cursor_moves_with_vim_keys_and_arrows(runs_dir):
    app = make_app(runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(CodeView)
        assert await wait_until(pilot, lambda: view.path == COLLAB)
        await pilot.press("j", "j", "down", "l", "right")
        assert (view.cursor_line, view.cursor_col) == (3, 2)
        await pilot.press("k", "up", "h")
        assert (view.cursor_line, view.cursor_col) == (1, 0)  # line 2 is empty: the column clamps
        await pilot.press("G")
        assert view.cursor_line == len(view.lines) - 1
        assert view.scroll_offset.y > 0  # the last line is on screen
        await pilot.press("g", "g")
        assert (view.cursor_line, view.scroll_offset.y) == (0, 0)


def table_rows(app):
    table = app.query_one("#model-table")
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_model_pane_shows_the_layer_table_and_switches_models(runs_dir):
    app = make_app(runs_dir)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("3")
        pane = app.query_one(ModelPane)
        totals = app.query_one("#model-totals", Static)
        assert await wait_until(pilot, lambda: "total parameters" in str(totals.render()))
        assert "133,977" in str(totals.render())
        rows = table_rows(app)
        # Indented under the model (▾ folds it with Enter); its share of the parameters; no layer groups.
        # 100 columns: the figures whole, the layer's text cut with …, and whole under the table.
        assert rows[0][0] == "▾ EmbeddingDotBias(y_range=(0.0, 5…"
        assert "EmbeddingDotBias(y_range=(0.0, 5.5)) · 133,977 parameters" in str(totals.render())
        assert rows[1][0].startswith("    u_weight: Embedding(944")
        assert rows[1][1:] == ["[2, 50]", "47,200", "yes", "35.2%", ""]
        assert [option.id for option in pane.query_one("#model-list").options] == \
            ["lm", "classifier", "tabular", "collab", "collab-nn"]
        await pilot.press("up", "enter")  # tabular
        assert await wait_until(pilot, lambda: "29,640" in str(totals.render()))
        assert table_rows(app)[0][:3] == ["▾ TabularModel", "[2, 2]", "29,640"]
        await pilot.press("p")  # the small preset
        assert await wait_until(pilot, lambda: "small sizes" in str(app.query_one("#model-title").render())
                                and "29,640" not in str(totals.render()))


async def test_a_model_file_dropped_into_models_shows_up_and_errors_are_shown(runs_dir, tmp_path):
    workspace = tmp_path / "ws"
    (workspace / "models").mkdir(parents=True)  # no lesson files of its own: l4tui's bundled ones build
    app = L4App(runs_dir=runs_dir, workspace=workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("3")
        totals = app.query_one("#model-totals", Static)
        assert await wait_until(pilot, lambda: "total parameters" in str(totals.render()))
        (workspace / "models" / "mine.py").write_text(
            "import torch\n\nclass Tiny(torch.nn.Module):\n"
            "    def __init__(self):\n        super().__init__()\n        self.fc = torch.nn.Linear(3, 2)\n\n"
            "    def forward(self, x):\n        return self.fc(x)\n\n"
            "    def example_input(self):\n        return torch.zeros(4, 3)\n")
        (workspace / "models" / "broken.py").write_text(
            "import torch\nraise RuntimeError('this file is broken')\n\n"
            "class Bad(torch.nn.Module):\n    def example_input(self):\n        return None\n")
        await pilot.press("1", "3")  # coming back to the pane lists the models again (read in a thread)
        model_list = app.query_one("#model-list")
        assert await wait_until(pilot, lambda: [o.id for o in model_list.options][-2:] == ["broken.Bad", "mine.Tiny"])
        await pilot.press("end", "enter")
        assert await wait_until(pilot, lambda: "total parameters: 8" in str(totals.render()))
        assert table_rows(app)[1] == ["    fc: Linear(3, 2)", "[4, 2]", "8", "yes", "100.0%", ""]
        await pilot.press("up", "enter")
        assert await wait_until(pilot, lambda: "this file is broken" in str(totals.render()))
        assert "could not build" in str(app.query_one("#model-title").render())
        assert app.is_running


@pytest.mark.slow
async def test_training_from_the_form_draws_live_survives_the_app_and_stops_and_resumes(runs_dir):
    app = make_app(runs_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2", "n")
        assert await wait_until(pilot, lambda: isinstance(app.screen, LaunchScreen) and app.screen.query("#field-epochs"))
        form = app.screen
        assert await wait_until(pilot, lambda: form.data_items)  # the bundled MovieLens sample is counted
        form.query_one("#field-epochs", Input).value = "200"
        await pilot.pause()
        assert str(form.query_one("#launch-command", Static).render()) == "$ l4tui train collab --epochs 200"
        await pilot.press("ctrl+s")
        pane = app.query_one(DataPane)
        monitor = app.query_one(RunMonitor)
        assert await wait_until(pilot, lambda: app.screen is not form and pane.watched is not None)
        assert await wait_until(pilot, lambda: len(monitor.progress.epoch_rows) >= 2)
        points = len(monitor.progress.raw_points)
        assert await wait_until(pilot, lambda: len(monitor.progress.raw_points) > points)  # still drawing
        assert app.query_one("#run-bar", ProgressBar).progress > 0
        eta = str(app.query_one("#run-eta", Static).render())
        assert "ETA" in eta and "/s" in eta
        # The charts follow within their redraw interval (longer while the app is over its CPU budget).
        chart = lambda: str(app.query_one("#loss-chart").render())  # noqa: E731
        assert await wait_until(pilot, lambda: "valid" in chart(), timeout=30)
        assert "train" in chart() and any("\u2800" < c <= "\u28ff" for c in chart())
        assert await wait_until(pilot, lambda: "rmse" in str(app.query_one("#runs-table", DataTable).get_row_at(0)))
        run_dir = pane.watched
    try:
        # The app is gone; the run is not.
        assert read_run(run_dir).state == "running"
        epoch = read_run(run_dir).epoch
        assert wait_for(lambda: read_run(run_dir).epoch > epoch, timeout=30)

        # A new app finds it, watches it, and the chart keeps moving.
        again = make_app(runs_dir)
        async with again.run_test(size=(80, 24)) as pilot:
            await pilot.press("2")
            pane, monitor = again.query_one(DataPane), again.query_one(RunMonitor)
            assert await wait_until(pilot, lambda: pane.watched == run_dir)
            assert await wait_until(pilot, lambda: monitor.progress.epoch_rows)
            seen = len(monitor.progress.epoch_rows)
            assert await wait_until(pilot, lambda: len(monitor.progress.epoch_rows) > seen)
            await pilot.press("s")  # stop it from the app
            assert await wait_until(pilot, lambda: read_run(run_dir).state == "stopped", timeout=30)
            assert await wait_until(pilot, lambda: str(again.query_one("#run-header").render()).startswith("stopped"))
            stopped_at = read_run(run_dir).epoch
            await pilot.press("r")  # and resume it: the same run goes on from its checkpoint
            assert await wait_until(pilot, lambda: read_run(run_dir).state == "running", timeout=30)
            assert await wait_until(pilot, lambda: (read_run(run_dir).epoch or 0) > stopped_at, timeout=60)
            assert await wait_until(pilot, lambda: str(again.query_one("#run-header").render()).startswith("running"))
            epochs = [row["epoch"] for row in monitor.progress.epoch_rows]
            assert epochs == sorted(set(epochs)) == list(range(len(epochs)))  # one continuous history
            await pilot.press("s")
            assert await wait_until(pilot, lambda: read_run(run_dir).state == "stopped", timeout=30)
    finally:
        kill_run(run_dir)
    assert [run.state for run in list_runs(runs_dir)] == ["stopped"]


async def test_the_later_panes_are_built_once_when_first_asked_for_by_key_or_click(runs_dir):
    class NoBackgroundBuild(L4App):  # as if 2 and 3 came before the build after the first frame
        async def build_later_panes(self) -> None:
            pass

    app = NoBackgroundBuild(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert not app.query(DataPane) and not app.query(ModelPane)  # only the Code pane before 2 or 3
        await pilot.click("#--content-tab-model")  # the mouse: the tab shows, then the pane is built
        assert await wait_until(pilot, lambda: app.query(ModelPane) and app.focused is app.query_one("#model-list"))
        pane = app.query_one(ModelPane)
        assert await wait_until(pilot, lambda: pane.subject is not None)  # its default model, as before
        await pilot.press("2", "1", "2")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "data"
        assert len(app.query(DataPane)) == 1 and len(app.query(ModelPane)) == 1
        assert app.focused is app.query_one("#runs-table")


async def test_the_later_panes_are_built_hidden_after_the_first_frame(runs_dir):
    app = make_app(runs_dir)
    async with app.run_test(size=(100, 30)) as pilot:
        assert await wait_until(pilot, lambda: app.query(DataPane) and app.query(ModelPane))
        assert app.query_one(TabbedContent).active == "code"  # nothing moved the user
        assert app.query_one(ModelPane).subject is None  # the model is built when first shown
        await pilot.press("3")
        assert await wait_until(pilot, lambda: app.query_one(ModelPane).subject is not None)
