"""SVG snapshots of every screen at 80x24 and 160x48 (pytest-textual-snapshot), to be looked at.

Each test drives the app to one screen, as a user would, and compares Textual's own SVG of it
with tests/__snapshots__/test_snapshots/test_screen[NAME-SIZE].svg. A change to what a screen
shows fails here until the pictures are made again and looked at:

    .venv/bin/python -m pytest -p no:cacheprovider tests/test_snapshots.py --snapshot-update

then review them (`git diff --stat tests/__snapshots__`, and open the changed SVGs in a browser;
on a failure the plugin also writes snapshot_report.html with the old and new picture side by
side). Only the terminal size and textual's own rendering (pinned in pyproject.toml) change them,
not the machine: the runs folder is made here with fixed times, the wall clock the run readers see
is frozen, the running run's process is a sleeping child of this test, fresh models are seeded,
the cursor does not blink, and each picture is taken once the work it waits on has finished.
`-k 80x24` or `-k monitor` picks some. docs/development.md says more.
"""

import calendar
import json
import subprocess
import sys
import time as real_time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO, kill_run
from fake_runs import write_fake_run

pytestmark = pytest.mark.slow  # about 110 s for all 42 on a shared 2-core machine

SIZES = {"80x24": (80, 24), "160x48": (160, 48)}
NOW = float(calendar.timegm((2026, 12, 6, 10, 0, 0)))  # the frozen "now": 10:00 UTC on 6 December 2026
FINISHED = "20261206-081500-collab-a1b2"  # a collab run with a checkpoint and 3 epochs of events
RUNNING = "20261206-093000-collab-c3d4"  # a collab run part of the way through, its process alive
LM = "20261206-070000-lm-e5f6"  # a language model run, finished
FAILED = "20261205-183000-tabular-g7h8"  # yesterday's tabular run, which failed


class FrozenClock:
    """The `time` module as the run readers see it: the wall clock stands at NOW (in UTC)."""

    def __getattr__(self, name):
        return getattr(real_time, name)

    @staticmethod
    def time() -> float:
        return NOW

    @staticmethod
    def localtime(seconds: float | None = None):
        return real_time.gmtime(NOW if seconds is None else seconds)


def settle_run_file(run_dir: Path, started: float, **fields) -> None:
    """run.json as the run would have written it at `started` on a machine called 'snapshots'."""
    path = run_dir / "run.json"
    meta = json.loads(path.read_text())
    meta.update(started=started, host="snapshots", **fields)
    path.write_text(json.dumps(meta))


@dataclass
class World:
    runs: Path
    workspace: Path
    sleeper: subprocess.Popen


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One runs folder for all the pictures (four runs, one of them running) and one workspace."""
    from made_runs import make_run

    root = tmp_path_factory.mktemp("snapshots")
    runs = root / "runs"
    runs.mkdir()
    # The workspace: a folder of a fixed name (the file tree's root shows it; a checkout's name
    # differs between machines) whose models/ links to the lesson's files, so that they are still
    # l4tui's own (a copy would be the user's, built only on Enter).
    workspace = root / "lesson4"
    (workspace / "models").mkdir(parents=True)
    for path in sorted((REPO / "models").glob("*.py")):
        (workspace / "models" / path.name).symlink_to(path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("l4tui.runs.store.time", FrozenClock())
        patch.setattr("l4tui.runs.progress.time", FrozenClock())
        run_dir, task = make_run(runs, "collab", name=FINISHED, steps=5, epochs=3)
        (run_dir / "run.json").unlink()  # written again below, with its events
        finished = write_fake_run_into(run_dir, epochs=3, steps=300, t0=NOW - 6300)
        record_activations(finished, task, t0=NOW - 6300)
        settle_run_file(finished, NOW - 6300)
        # The running run's process: a child that sleeps, its command line naming the run (as the
        # store checks), so the run is "running" for as long as the tests look at it.
        sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)", RUNNING])
        running = write_fake_run(runs, RUNNING, epochs=4, steps=400, written=230, state=None,
                                 pid=sleeper.pid, t0=NOW - 1800)
        settle_run_file(running, NOW - 1800)
        lm = write_fake_run(runs, LM, family="lm", metric="perplexity", epochs=2, steps=200, scale=2.0,
                            t0=NOW - 10800)
        settle_run_file(lm, NOW - 10800)
        failed = write_fake_run(runs, FAILED, family="tabular", metric="accuracy", epochs=2, steps=50,
                                state="failed", error="RuntimeError: the data has no column 'salary'",
                                t0=NOW - 55800)
        settle_run_file(failed, NOW - 55800)
        yield World(runs, workspace, sleeper)
    sleeper.kill()
    sleeper.wait()
    for run_dir in runs.glob("*/"):
        kill_run(run_dir)


def record_activations(run_dir: Path, task, t0: float, records: int = 6, every: int = 50) -> None:
    """The "activations" events of a run that recorded its layers every `every` steps (the
    Training tab's history): batches of the task trained on here, seeded, their figures put among
    the run's events before its end."""
    import torch

    from l4tui.runs.events import encode_event
    from l4tui.train.activation_stats import ActivationStats

    class Collected:
        def __init__(self):
            self.events = []

        def write(self, type_, **fields):
            self.events.append({"t": t0 + fields["iter"] * 0.01, "type": type_, **fields})

    torch.manual_seed(0)
    stats, collected = ActivationStats(task.model, 1), Collected()
    optimizer = torch.optim.Adam(task.model.parameters(), lr=1e-2)
    task.model.train()
    batches = iter(task.train.epoch_batches(0))
    try:
        for record in range(records):
            inputs, target = next(batches)
            stats.start_batch(0)
            output = task.model(*inputs)
            stats.write(collected, epoch=record * 3 // records, batch=record, iter=record * every + 1)
            loss = task.loss_func(output, target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        stats.remove()
    path = run_dir / "events.jsonl"
    lines = path.read_text().splitlines()
    lines[-1:-1] = [encode_event(event) for event in collected.events]
    path.write_text("\n".join(lines) + "\n")


def write_fake_run_into(run_dir: Path, **options) -> Path:
    """write_fake_run's events into a folder that already holds a checkpoint."""
    import shutil

    staging = write_fake_run(run_dir.parent / "staging", run_dir.name, **options)
    for path in staging.iterdir():
        shutil.move(str(path), str(run_dir / path.name))
    shutil.rmtree(staging.parent)
    return run_dir


@pytest.fixture
def steady(world, monkeypatch):
    """What the app reads of the wall clock and of torch's generator, made the same on every run."""
    from l4tui.ui.model_pane import ModelPane

    monkeypatch.setattr("l4tui.runs.store.time", FrozenClock())
    monkeypatch.setattr("l4tui.runs.progress.time", FrozenClock())
    build = ModelPane._build

    def seeded_build(self, *args, **kwargs):
        import torch

        torch.manual_seed(0)  # a fresh model's weights and its example input
        return build(self, *args, **kwargs)

    monkeypatch.setattr(ModelPane, "_build", seeded_build)
    from l4tui.inspect import generate

    sample = generate.generate

    def seeded_generate(*args, **kwargs):
        return sample(*args, **{**kwargs, "seed": 0})  # the Generate tab samples with a new seed each time

    monkeypatch.setattr(generate, "generate", seeded_generate)
    return world


# ---- getting to each screen --------------------------------------------------------------

async def until(pilot, predicate, timeout=30.0):
    deadline = real_time.monotonic() + timeout
    while not predicate():
        if real_time.monotonic() > deadline:
            raise TimeoutError("the app did not get to the screen in time")
        await pilot.pause(0.05)


async def code_ready(pilot):
    """The Code pane on models/collab.py with its index built (no progress in the picture)."""
    from l4tui.ui.code_pane import CodePane
    from l4tui.ui.code_view import CodeView

    app = pilot.app
    view = app.query_one(CodeView)
    pane = app.query_one(CodePane)
    await until(pilot, lambda: view.path is not None and view.document.highlighted)
    await until(pilot, lambda: pane.index is not None and pane.index.done())
    return view


def line_of(view, text: str) -> int:
    return next(i for i, line in enumerate(view.lines) if text in line)


async def code(pilot):
    view = await code_ready(pilot)
    line = line_of(view, "def forward(self, x)")
    view.move_to(line, 8)


async def help_screen(pilot):
    await code(pilot)
    await pilot.press("question_mark")
    await until(pilot, lambda: type(pilot.app.screen).__name__ == "HelpScreen")


async def file_finder(pilot):
    from l4tui.ui.picker import PickerScreen

    await code(pilot)
    await pilot.press("ctrl+p", *"awd")
    await until(pilot, lambda: isinstance(pilot.app.screen, PickerScreen) and pilot.app.screen.items)


async def symbol_finder(pilot):
    from l4tui.ui.picker import PickerScreen

    await code(pilot)
    await pilot.press("s", *"embdot")
    await until(pilot, lambda: isinstance(pilot.app.screen, PickerScreen) and pilot.app.screen.items)


async def doc(pilot):
    """K on the lesson's own sigmoid_range (a doc from models/, not from the installed torch)."""
    view = await code_ready(pilot)
    line = line_of(view, "return sigmoid_range(")
    view.move_to(line, view.lines[line].index("sigmoid_range"))
    await pilot.press("K")
    await until(pilot, lambda: pilot.app.screen.query("#doc-text"))


async def tag_jump(pilot):
    """Ctrl-] from forward's sigmoid_range to its definition, in the same file."""
    view = await code_ready(pilot)
    line = line_of(view, "return sigmoid_range(")
    view.move_to(line, view.lines[line].index("sigmoid_range"))
    await pilot.press("ctrl+right_square_bracket")
    await until(pilot, lambda: view.cursor_line != line)


async def tags(pilot):
    from l4tui.ui.picker import PickerScreen

    await tag_jump(pilot)
    await pilot.press("colon", *"tags", "enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, PickerScreen))


async def jumps(pilot):
    from l4tui.ui.picker import PickerScreen

    await tag_jump(pilot)
    await pilot.press("colon", *"jumps", "enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, PickerScreen))


async def runs_pane(pilot):
    """Pane 2 with the four runs, the monitor on the running one."""
    from l4tui.ui.data_pane import DataPane
    from l4tui.ui.run_monitor import RunMonitor

    app = pilot.app
    await pilot.press("2")
    pane, monitor = app.query_one(DataPane), app.query_one(RunMonitor)
    table = app.query_one("#runs-table")
    await until(pilot, lambda: table.row_count == 4 and pane.watched is not None)
    pane.watch_run(pane.watched.parent / RUNNING)
    await until(pilot, lambda: pane.watched.name == RUNNING and not monitor._loading
                and len(monitor.progress.epoch_rows) == 2)
    await select_run(pilot, RUNNING)
    monitor._redraw()
    await pilot.pause(0.2)
    # Textual's bar rounds its fraction to the half cells of the width it has when the fraction
    # is set: set before the layout settles, it can end half a cell off. Set it again now.
    bar = monitor.query_one("#run-bar")
    bar.update(progress=0)
    await pilot.pause()
    bar.update(progress=monitor.progress.fraction)


async def select_run(pilot, name: str):
    table = pilot.app.query_one("#runs-table")
    row = next(i for i in range(table.row_count) if table.coordinate_to_cell_key((i, 0)).row_key.value == name)
    table.move_cursor(row=row)
    await pilot.pause(0.1)


async def launch_form(pilot):
    from l4tui.ui.launch_screen import LaunchScreen

    await runs_pane(pilot)
    await pilot.press("n")
    await until(pilot, lambda: isinstance(pilot.app.screen, LaunchScreen) and pilot.app.screen.data_items)


async def confirm(pilot):
    from l4tui.ui.confirm import ConfirmScreen

    await runs_pane(pilot)
    await select_run(pilot, FINISHED)
    await pilot.press("d")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))


async def data_screen(pilot, key: str, screen_class, ready):
    await pilot.press("2")
    await until(pilot, lambda: pilot.app.query_one("#runs-table").row_count == 4)
    await pilot.press(key)
    await until(pilot, lambda: isinstance(pilot.app.screen, screen_class) and ready(pilot.app.screen))


async def spreadsheet(pilot):
    from l4tui.ui.spreadsheet_screen import SpreadsheetScreen

    await data_screen(pilot, "x", SpreadsheetScreen, lambda screen: screen.state is not None)


async def text_steps(pilot):
    from l4tui.ui.text_screen import TextScreen

    await data_screen(pilot, "t", TextScreen, lambda screen: screen.figures)


async def tabular_steps(pilot):
    from l4tui.ui.tabular_screen import TabularScreen

    await data_screen(pilot, "a", TabularScreen, lambda screen: screen.processor)


async def embeddings(pilot):
    from l4tui.ui.embeddings_screen import EmbeddingsScreen

    await pilot.press("2")
    await until(pilot, lambda: pilot.app.query_one("#runs-table").row_count == 4)
    await select_run(pilot, FINISHED)
    await pilot.press("e")
    await until(pilot, lambda: isinstance(pilot.app.screen, EmbeddingsScreen) and pilot.app.screen.tables)


async def model_tab(pilot, tab: str, model: str = "collab", weights: str | None = None, ready=lambda app: True):
    """The Model pane on `model` (fresh, or a run's `weights` label), showing `tab`."""
    from textual.widgets import OptionList, TabbedContent

    from l4tui.ui.model_pane import ModelPane

    app = pilot.app
    await pilot.press("3")
    pane = app.query_one(ModelPane)
    await until(pilot, lambda: pane.entries and pane.subject is not None and app.query_one("#act-table").row_count)
    if pane.subject.name != model:
        options = app.query_one("#model-list", OptionList)
        options.focus()
        options.highlighted = [e.name for e in pane.entries].index(model)
        await pilot.press("enter")
        await until(pilot, lambda: pane.subject is not None and pane.subject.name == model)
    if weights is not None:
        listed = app.query_one("#weights-list", OptionList)
        await until(pilot, lambda: any(str(o.prompt).endswith(weights) for o in listed.options))
        listed.focus()
        listed.highlighted = next(i for i, o in enumerate(listed.options) if str(o.prompt).endswith(weights))
        await pilot.press("enter")
        await until(pilot, lambda: pane.subject is not None and pane.subject.weights.endswith(weights))
    app.query_one("#model-tabs", TabbedContent).active = tab
    await until(pilot, lambda: ready(app))


async def layers(pilot):
    await model_tab(pilot, "tab-layers", ready=lambda app: app.query_one("#model-table").row_count)


async def parameters(pilot):
    """The parameters of the layer under the Layers tab's cursor (the user embeddings)."""
    await layers(pilot)
    pilot.app.query_one("#model-table").focus()
    await pilot.press("down", "right_square_bracket")  # as a user goes there: ] takes the focus along
    await until(pilot, lambda: pilot.app.query_one("#model-tabs").active == "tab-params")
    await until(pilot, lambda: pilot.app.query_one("#params-table").row_count)


async def activations(pilot):
    await model_tab(pilot, "tab-acts", ready=lambda app: app.query_one("#act-table").row_count)


def shown(app, selector) -> str:
    return str(app.query_one(selector).render())


async def results(pilot):
    await model_tab(pilot, "tab-results", weights="best",
                    ready=lambda app: "validation" in shown(app, "#res-head") and app.query_one("#res-table").row_count)


async def training(pilot):
    await model_tab(pilot, "tab-training", weights="best", ready=lambda app: app.query_one("#train-table").row_count)


async def biases(pilot):
    await model_tab(pilot, "tab-interpret", weights="best",
                    ready=lambda app: "Most similar" in shown(app, "#interp-similar"))


async def generate(pilot):
    await model_tab(pilot, "tab-generate", model="lm")
    pilot.app.query_one("#gen-prompt").focus()
    await pilot.press("enter")
    await until(pilot, lambda: pilot.app.query_one("#gen-steps").row_count > 0)


SCREENS = {
    "code": code, "help": help_screen, "files": file_finder, "symbols": symbol_finder, "doc": doc,
    "tags": tags, "jumps": jumps,
    "monitor": runs_pane, "launch": launch_form, "confirm": confirm,
    "spreadsheet": spreadsheet, "text": text_steps, "tabular": tabular_steps, "embeddings": embeddings,
    "layers": layers, "parameters": parameters, "activations": activations, "results": results,
    "training": training, "biases": biases, "generate": generate,
}


def still(screen_ready):
    """Take the picture once the screen is ready, with no cursor blinking and nothing still moving."""
    async def run_before(pilot):
        from textual.widgets import Input

        await screen_ready(pilot)
        await pilot.wait_for_scheduled_animations()
        for box in pilot.app.screen.query(Input):
            box.cursor_blink = False
        picture = await settled(pilot)
        for path in (REPO, steady_root(pilot.app)):  # a path of this machine would differ on another
            assert str(path) not in picture, f"{path} is in the picture"
    return run_before


async def settled(pilot, timeout: float = 20.0) -> str:
    """The screen once it stops changing: the same picture twice, 0.3 s apart (a table sizes its
    columns when it is next idle, a chart is drawn after its data: on a busy machine that can come
    after the screen says it is ready)."""
    deadline = real_time.monotonic() + timeout
    before = None
    while True:
        await pilot.pause(0.3)
        await pilot.pause()
        picture = pilot.app.export_screenshot()
        if picture == before or real_time.monotonic() > deadline:
            return picture
        before = picture


def steady_root(app) -> Path:
    return app.runs_dir.parent


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", SCREENS)
def test_screen(name, size, steady, snap_compare):
    from l4tui.ui.app import L4App

    app = L4App(runs_dir=steady.runs, workspace=steady.workspace)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=still(SCREENS[name]))
