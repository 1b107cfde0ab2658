"""Looking never runs code; a model file is tried in a child process before the app imports it.

The workspace here is hostile: its models/ has files that write a marker when imported, raise
SystemExit, call os._exit, loop forever, eat memory, or are 20 MB, and its own collab.py.
"""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual.widgets import OptionList, Static

import l4tui.model_trial as model_trial
from conftest import REPO, wait_until
from l4tui.inspect.catalog import Sizes, all_models, build_model, find_model, source_file
from l4tui.modelfiles import ModelFileError, is_bundled, model_file_path
from l4tui.ui.app import L4App, run_app
from l4tui.ui.model_pane import ModelPane

HUGE_LINES = 3_500_000  # 21 MB of `x = 1`
TORCH_MODEL = """
import torch
class {}(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(3, 1)
    def forward(self, x):
        return self.linear(x)
    def example_input(self):
        return torch.zeros(2, 3)
"""


def hostile_models(workspace: Path) -> Path:
    """A models/ folder of files that misbehave when imported; each marks that it ran."""
    models = workspace / "models"
    models.mkdir(parents=True)
    marker = workspace / "MARKERS"
    marker.mkdir()

    def model_file(name, body, model=f"class {{}}:\n    def example_input(self):\n        return None\n"):
        (models / f"{name}.py").write_text(
            f"from pathlib import Path\nPath({str(marker / name)!r}).write_text('imported')\n{body}\n"
            + model.format(name.title()))

    model_file("marker", "", model=TORCH_MODEL)
    # Import and build fine; their forward pass ends the process (sys.exit, os._exit).
    model_file("fwdexit", "", model=TORCH_MODEL.replace("return self.linear(x)", "import sys; sys.exit(4)"))
    model_file("fwdosexit", "", model=TORCH_MODEL.replace("return self.linear(x)", "import os; os._exit(3)"))
    model_file("exits", "raise SystemExit(3)")
    model_file("osexit", "import os\nos._exit(0)")
    model_file("loops", "while True:\n    pass")
    model_file("hog", "import time\nhog = bytearray(1024**3)\ntime.sleep(3)")
    # Passes the trial, then hangs in the app: for SNEAKY_S seconds (a test can't leave a thread
    # spinning in its own process), else a busy loop that only the app's exit can end.
    model_file("sneaky", "import os, sys, time\nif 'textual' in sys.modules:\n"
                         "    if os.environ.get('SNEAKY_S'):\n        time.sleep(float(os.environ['SNEAKY_S']))\n"
                         "    else:\n        while True:\n            pass", model=TORCH_MODEL)
    (models / "collab.py").write_text(  # the workspace's own lesson file: it wins over the bundled one
        f"from pathlib import Path\nPath({str(marker / 'collab')!r}).write_text('imported')\n"
        "raise RuntimeError('this workspace keeps its own collab.py')\n")
    (models / "huge.py").write_text("class Huge:\n    def example_input(self): return None\n" + "x = 1\n" * HUGE_LINES)
    return marker


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    workspace = tmp_path / "project"
    markers = hostile_models(workspace)
    monkeypatch.setattr(model_trial, "TRIAL_TIMEOUT_S", 4.0)
    monkeypatch.setattr(model_trial, "TRIAL_MAX_RSS_BYTES", 700 * 1024**2)
    return workspace, markers


def ran(markers: Path) -> list[str]:
    return sorted(p.name for p in markers.iterdir())


# ---- which file a name means ------------------------------------------------------------------

def test_the_workspace_file_wins_and_lesson_files_fall_back_to_the_bundled_ones(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "net.py").write_text("class Net:\n    def example_input(self): return None\n")
    # A models/ folder without the lesson files still builds the lesson's models, from l4tui's own files.
    assert is_bundled(model_file_path("awd_lstm", tmp_path))
    built = build_model(find_model("collab", tmp_path), Sizes(preset="small"), tmp_path)
    assert type(built.model).__name__ == "EmbeddingDotBias"
    # The workspace's own collab.py is the one a build imports (theirs, on purpose).
    (tmp_path / "models" / "collab.py").write_text("x = 1\n")
    assert source_file(find_model("collab", tmp_path), tmp_path) == (tmp_path / "models" / "collab.py").resolve()


def test_discovery_reads_no_huge_file_and_imports_nothing(hostile):
    workspace, markers = hostile
    entries = {entry.name: entry for entry in all_models(workspace)}
    assert "more than the 1 MB" in entries["huge.?"].title
    assert {"marker.Marker", "exits.Exits", "loops.Loops", "sneaky.Sneaky"} <= set(entries)
    assert ran(markers) == []


# ---- building on purpose: each bad file costs a child process, never the app -----------------

@pytest.mark.parametrize("name, message", [
    ("exits.Exits", "raised SystemExit(3) at import"),
    ("osexit.Osexit", "ended the process at import"),
    ("loops.Loops", "still importing after 4 s"),
    ("hog.Hog", "used more than 700 MB of memory"),
    ("huge.?", "more than the 1 MB a model file may be"),
    ("collab", "RuntimeError: this workspace keeps its own collab.py"),
    ("fwdexit.Fwdexit", "its forward pass called sys.exit(4)"),
    ("fwdosexit.Fwdosexit", "ended the process"),
])
def test_a_bad_model_file_is_caught_in_the_child(hostile, name, message):
    workspace, markers = hostile
    entry = find_model(name, workspace)
    with pytest.raises(ValueError, match=re.escape(message)):
        build_model(entry, Sizes(preset="small"), workspace)
    imported = sys.modules.get(f"l4tui_models.{entry.file}")  # this process never imported the file
    assert imported is None or workspace not in Path(imported.__file__).parents


def test_a_good_user_model_is_tried_once_then_imported(hostile, monkeypatch):
    workspace, markers = hostile
    children = []
    real_run_child = model_trial.run_child
    monkeypatch.setattr(model_trial, "run_child", lambda *a: children.append(a) or real_run_child(*a))
    entry = find_model("marker.Marker", workspace)
    build_model(entry, Sizes(), workspace)
    build_model(entry, Sizes(), workspace)
    assert len(children) == 1  # the file did not change: no second trial
    os.utime(workspace / "models" / "marker.py", ns=(0, 0))
    build_model(entry, Sizes(), workspace)
    assert len(children) == 2  # edited (its mtime moved): tried again


def test_a_systemexit_in_process_is_a_model_error_not_an_exit(tmp_path):
    from l4tui.modelfiles import import_model_file

    (tmp_path / "bye.py").write_text("raise SystemExit(3)\n")
    with pytest.raises(ModelFileError, match="SystemExit: 3"):
        import_model_file("bye", [tmp_path])


# ---- the app ----------------------------------------------------------------------------------

async def test_browsing_every_pane_runs_nothing(hostile, runs_dir):
    workspace, markers = hostile
    app = L4App(runs_dir=runs_dir, workspace=workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        for key in "1233":
            await pilot.press(key)
            await pilot.pause(0.3)
        pane = app.query_one(ModelPane)
        assert await wait_until(pilot, lambda: len(pane.entries) > 5, timeout=20)
        title = str(app.query_one("#model-title", Static).render())
        assert "not built" in title and str(workspace / "models" / "collab.py") in title
        assert pane.subject is None
        await pilot.pause(1)
    assert ran(markers) == []


async def test_building_hostile_models_on_purpose_leaves_the_app_alive(hostile, runs_dir, monkeypatch):
    import l4tui.ui.model_runner as model_runner

    monkeypatch.setattr(model_runner, "BUSY_WAIT_S", 0.5)
    monkeypatch.setenv("SNEAKY_S", "4")
    workspace, markers = hostile
    app = L4App(runs_dir=runs_dir, workspace=workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        pane = app.query_one(ModelPane)
        assert await wait_until(pilot, lambda: len(pane.entries) > 5, timeout=20)
        names = [entry.name for entry in pane.entries]
        options = app.query_one("#model-list", OptionList)

        async def build(name, expect):
            options.focus()
            options.highlighted = names.index(name)
            await pilot.press("enter")
            return await wait_until(pilot, lambda: expect in str(app.query_one("#model-totals", Static).render())
                                    or expect in str(app.query_one("#model-title", Static).render()), timeout=30)

        assert await build("exits.Exits", "SystemExit(3)")
        assert await build("loops.Loops", "still importing after 4 s")
        assert await build("huge.?", "not read")
        assert await build("marker.Marker", "example batch")  # a good file builds
        assert await build("sneaky.Sneaky", "building from")  # passes the trial, then hangs in here
        await pilot.pause(0.5)
        assert await build("marker.Marker", "still busy with building sneaky.Sneaky")
        assert app.is_running
        await pilot.press("2", "1")  # the other panes still answer
        assert app.query_one("#panes").active == "code"
    assert ran(markers) == ["exits", "loops", "marker", "sneaky"]  # only those built on purpose


async def test_the_exit_status_says_the_app_crashed():
    class Crashes(L4App):
        def on_ready(self) -> None:
            raise RuntimeError("boom")

    app = Crashes(runs_dir=Path("/nonexistent/runs"), workspace=REPO)
    assert await app.run_async(headless=True, size=(80, 24)) is None
    assert app.return_code == 1


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
@pytest.mark.xfail(strict=False, reason="open defect: once in a full CI run the in-app import of the hanging file "
                   "raised _DeadlockError (import lock) instead of hanging; quitting itself was not at fault")
@pytest.mark.parametrize("quit_key", ["q", "C-c"])
def test_quit_is_prompt_even_while_a_model_file_hangs_the_app(hostile, tmp_path, quit_key):
    """The real app in tmux: build the model that hangs in-process, then q (or Ctrl-C) ends it in 2 s."""
    workspace, markers = hostile
    socket, session = f"l4tui-test-{os.getpid()}", "trust"
    status = tmp_path / "status"
    tmux = ["tmux", "-L", socket]
    command = f"{sys.executable} -m l4tui --runs {tmp_path / 'runs'}; echo $? > {status}"
    subprocess.run([*tmux, "new-session", "-d", "-x", "120", "-y", "40", "-s", session, "-c", str(workspace),
                    command], check=True)
    try:
        def screen():
            return subprocess.run([*tmux, "capture-pane", "-p", "-t", session], capture_output=True,
                                  text=True).stdout

        def keys(*sent):
            subprocess.run([*tmux, "send-keys", "-t", session, *sent], check=True)

        assert wait(lambda: "1 Code" in screen(), 30)
        keys("3")
        assert wait(lambda: "exits.Exits" in screen(), 30), screen()  # the list (scrolls at 80x24)
        # The list ends with sneaky.Sneaky (End: OptionList wraps on Down)
        keys("End", "Enter")
        assert wait(lambda: (markers / "sneaky").exists(), 60), screen()
        time.sleep(0.5)
        asked = time.monotonic()
        keys(quit_key)
        assert wait(lambda: status.exists() and status.read_text().strip() != "", 10), screen()
        assert time.monotonic() - asked < 2.5  # the 2 s the issue asks for, plus tmux's own polling
        assert status.read_text().strip() == "0"
        assert "Traceback" not in screen()
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


def wait(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_the_symbol_index_skips_a_huge_file_even_when_an_old_cache_has_it(tmp_path, monkeypatch):
    import l4tui.code.index as index

    models = tmp_path / "models"
    models.mkdir()
    (models / "big.py").write_text("x = 1\n" * 400_000)  # 2.4 MB of top-level names
    monkeypatch.setattr(index, "MAX_INDEX_BYTES", 100 * 1024**2)  # as before there was a limit
    index.build_index([models], cache_dir=tmp_path / "cache", processes=1)
    monkeypatch.setattr(index, "MAX_INDEX_BYTES", 1024**2)
    skipped = []
    found = index.build_index([models], cache_dir=tmp_path / "cache", processes=1, skipped=skipped)
    assert [(Path(path).name, why) for path, why in skipped] == \
        [("big.py", "2 MB, more than the 1 MB the index reads")]
    assert len(found) == 0


async def test_the_launch_form_names_the_model_file_the_run_imports(tmp_path, runs_dir):
    from l4tui.ui.launch_screen import LaunchScreen

    workspace = tmp_path / "project"
    (workspace / "models").mkdir(parents=True)
    (workspace / "models" / "collab.py").write_text((REPO / "models" / "collab.py").read_text())
    app = L4App(runs_dir=runs_dir, workspace=workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2", "n")
        assert await wait_until(pilot, lambda: isinstance(app.screen, LaunchScreen))
        line = app.screen.query_one("#launch-model-file", Static)
        assert await wait_until(pilot, lambda: "collab.py" in str(line.render()))
        assert str(line.render()) == (f"the run imports {(workspace / 'models' / 'collab.py').resolve()} "
                                      "(the workspace's own; tried in a separate process first)")


async def test_keys_typed_behind_a_pane_switch_go_to_that_pane(tmp_path, runs_dir):
    """1 3 End Enter typed while the Code pane holds keys (a file opening): End and Enter act in
    the Model pane they were typed for, not on the Code pane's empty viewer."""
    from l4tui.ui.code_view import CodeView

    workspace = tmp_path / "ws"
    (workspace / "models").mkdir(parents=True)  # nothing for the Code pane to open
    app = L4App(runs_dir=runs_dir, workspace=workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("3")
        pane = app.query_one(ModelPane)
        assert await wait_until(pilot, lambda: pane.subject is not None)
        await pilot.press("1")
        view = app.query_one(CodeView)
        assert await wait_until(pilot, lambda: app.focused is view)
        token = view.hold_keys()  # as while a file opens
        await pilot.press("3", "end", "j", "enter")
        view.release_keys(token)
        assert await wait_until(pilot, lambda: pane.current is not None and pane.current.name == "collab-nn")
        assert app.query_one("#panes").active == "model" and app.is_running


@pytest.mark.parametrize("own_models", [False, True])
async def test_panes_typed_in_a_burst_settle_on_the_last_one(runs_dir, tmp_path, own_models):
    shown = []
    workspace = REPO
    if own_models:  # an empty models/ folder: the Code pane has no file to open
        workspace = tmp_path / "ws"
        (workspace / "models").mkdir(parents=True)

    class Counting(L4App):
        def on_tabbed_content_tab_activated(self, event) -> None:
            shown.append(event.pane.id)
            super().on_tabbed_content_tab_activated(event)

    app = Counting(runs_dir=runs_dir, workspace=workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("3")
        assert await wait_until(pilot, lambda: app.query_one(ModelPane).subject is not None)
        shown.clear()
        await pilot.press("1", "3")
        await pilot.press("1", "3", "1", "3", "2")
        await pilot.pause(1.0)
        settled = len(shown)
        await pilot.pause(1.0)
        assert app.query_one("#panes").active == "data"
        assert len(shown) == settled <= 8, shown  # no two panes taking turns for ever
        assert app.focused is app.query_one("#runs-table")
