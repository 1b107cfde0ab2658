"""The Code pane driven as a user drives it: jumps, the tag stack and jump list, folds, search,
the command line, choosers, finders, K, the editor hand-off, and files that can't be shown."""

import contextlib
import importlib.util
import sys
from pathlib import Path

import pytest
from textual.widgets import Static

from conftest import REPO, wait_until
from l4tui.code.location import Location
from l4tui.ui.app import L4App
from l4tui.ui.code_pane import CodePane
from l4tui.ui.code_view import CodeView
from l4tui.ui.doc_screen import DocScreen
from l4tui.ui.off_thread import gone
from l4tui.ui.picker import PickerScreen

COLLAB = REPO / "models" / "collab.py"
TORCH = Path(importlib.util.find_spec("torch").submodule_search_locations[0])
STUB = TORCH / "_C" / "_VariableFunctions.pyi"


def status(app) -> str:
    return str(app.query_one("#code-status", Static).render())


def crumbs(app) -> str:
    return str(app.query_one("#code-crumbs", Static).render())


def line_of(view: CodeView, needle: str) -> int:
    return next(i for i, text in enumerate(view.lines) if needle in text)


async def opened(pilot, app, path=COLLAB) -> CodeView:
    view = app.query_one(CodeView)
    assert await wait_until(pilot, lambda: view.path == path)
    return view


async def put_cursor(pilot, view, needle: str, offset: int = 0) -> tuple[int, int]:
    line = line_of(view, needle)
    col = view.lines[line].index(needle) + offset
    view.move_to(line, col)
    await pilot.pause()
    return line, col


async def test_ctrl_bracket_lands_on_definitions_in_torch_and_the_workspace(runs_dir):
    cases = [  # (text on the line, offset of the name, file it lands in, text the target line starts with)
        ("nn.Embedding(n_users", 4, TORCH / "nn" / "modules" / "sparse.py", "class Embedding("),
        ("class EmbeddingDotBias(nn.Module", 26, TORCH / "nn" / "modules" / "module.py", "class Module"),
        ("return sigmoid_range", 7, COLLAB, "def sigmoid_range"),
        ("from .tabular import TabularModel", 21, REPO / "models" / "tabular.py", "class TabularModel"),
        ("torch.sigmoid(x)", 6, STUB, "def sigmoid("),
    ]
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await opened(pilot, app)
        for needle, offset, target, starts in cases:
            origin = await put_cursor(pilot, view, needle, offset)
            await pilot.press("ctrl+right_square_bracket")
            assert await wait_until(pilot, lambda: view.path == target), needle
            assert view.lines[view.cursor_line].startswith(starts), needle
            if target == STUB:
                assert "[stub]" in status(app)
            await pilot.press("ctrl+t")
            assert await wait_until(pilot, lambda: view.path == COLLAB
                                    and (view.cursor_line, view.cursor_col) == origin), needle


async def test_tag_stack_and_jump_list_behave_as_vims(runs_dir):
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await opened(pilot, app)
        pane = app.query_one(CodePane)
        # collab -> Embedding (torch) -> Module: two tags deep.
        start = await put_cursor(pilot, view, "nn.Embedding(n_users", 4)
        await pilot.press("ctrl+right_square_bracket")
        assert await wait_until(pilot, lambda: view.path.name == "sparse.py")
        sparse_line = view.cursor_line
        await put_cursor(pilot, view, "class Embedding(Module", 16)
        await pilot.press("g", "d")
        assert await wait_until(pilot, lambda: view.path.name == "module.py")
        assert pane.tags.depth == 2 and "tags:2" in status(app)
        # :tags lists both, the newest marked current.
        await pilot.press("colon", *"tags", "enter")
        assert await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        assert [item.label.split()[-1] for item in app.screen.items] == ["Embedding", "Module"]
        assert app.screen.items[1].label.startswith(">")
        await pilot.press("escape")
        # Ctrl-T once, then a new jump from the middle of the stack drops the newer entry.
        await pilot.press("ctrl+t")
        assert await wait_until(pilot, lambda: view.path.name == "sparse.py")
        await put_cursor(pilot, view, "from torch.nn import functional as F", 28)
        await pilot.press("ctrl+right_square_bracket")
        assert await wait_until(pilot, lambda: view.path.name in ("functional.py", "functional.pyi"))
        assert [entry.name for entry in pane.tags.entries()] == ["Embedding", "functional"]
        # Ctrl-O walks back through every jump (not only tags); Tab (Ctrl-I) comes forward again.
        await pilot.press("ctrl+o")
        assert await wait_until(pilot, lambda: view.path.name == "sparse.py")
        await pilot.press("ctrl+o")
        assert await wait_until(pilot, lambda: view.path.name == "module.py")
        await pilot.press("ctrl+o")
        assert await wait_until(pilot, lambda: view.path.name == "sparse.py" and view.cursor_line == sparse_line)
        await pilot.press("ctrl+o")
        assert await wait_until(pilot, lambda: view.path == COLLAB
                                and (view.cursor_line, view.cursor_col) == start)
        await pilot.press("tab")
        assert await wait_until(pilot, lambda: view.path.name == "sparse.py" and view.cursor_line == sparse_line)


async def test_folds_search_and_the_command_line(runs_dir):
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await opened(pilot, app)
        rows = len(view._rows)
        cls = line_of(view, "class EmbeddingDotBias")
        await pilot.press("colon", *str(cls + 3), "enter")
        assert view.cursor_line == cls + 2
        assert crumbs(app) == "collab.py › class EmbeddingDotBias"
        await pilot.press("z", "c")
        fold = view.folds.fold_at(cls)
        assert fold is not None and view.cursor_line == cls
        assert len(view._rows) == rows - (fold.end - fold.start)
        await pilot.press("j")
        assert view.cursor_line == fold.end + 1  # a closed fold is one step
        await pilot.press("z", "R")
        assert len(view._rows) == rows
        await pilot.press("z", "M")
        assert all(view.folds.fold_at(f.start) for f in view.folds.folds if f.depth == 0)
        # A search that lands in a closed fold opens it, as vim does.
        await pilot.press("g", "g", "slash", *"def forward", "enter")
        first = view.cursor_line
        assert "def forward" in view.lines[first] and not view.folds.is_hidden(first)
        row = view.render_line(view.folds.display_row(first) - view.scroll_offset.y)
        lit = "".join(seg.text for seg in row if seg.style and seg.style.bgcolor
                      and seg.style.bgcolor.name == "yellow4")
        assert lit == "def forward"  # the match is highlighted (the cursor cell included)
        await pilot.press("n")
        second = view.cursor_line
        assert second > first and "def forward" in view.lines[second]
        await pilot.press("N")
        assert view.cursor_line == first
        await pilot.press("slash", *"no such text anywhere", "enter")
        assert "E486" in status(app) and view.cursor_line == first
        # % goes to the matching bracket; Ctrl-O comes back from it.
        line = line_of(view, "def sigmoid_range(")
        view.move_to(line, view.lines[line].index("("))
        await pilot.press("percent_sign")
        assert (view.cursor_line, view.lines[view.cursor_line][view.cursor_col]) == (line, ")")
        await pilot.press("colon", *"nonsense", "enter")
        assert "E492" in status(app)
        await pilot.press("g", "g", "z", "c")  # the module docstring is in no fold
        assert status(app) == "E490: No fold found"


async def test_several_definitions_open_a_chooser(runs_dir, tmp_path):
    (tmp_path / "models").mkdir()
    source = tmp_path / "models" / "two.py"
    source.write_text("import random\n\nif random.random() > 0.5:\n    def pick():\n        return 1\nelse:\n"
                      "    def pick():\n        return 2\n\nprint(pick())\n")
    app = L4App(runs_dir=runs_dir, workspace=tmp_path, open_at=Location(source, 10, 7))
    async with app.run_test(size=(80, 24)) as pilot:
        view = await opened(pilot, app, source)
        await pilot.press("ctrl+right_square_bracket")
        assert await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        assert [item.location.line for item in app.screen.items] == [4, 7]
        await pilot.press("down", "enter")
        assert await wait_until(pilot, lambda: view.cursor_line == 6)
        await pilot.press("ctrl+t")
        assert await wait_until(pilot, lambda: view.cursor_line == 9)


async def test_references_help_finders_and_yank(runs_dir):
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await opened(pilot, app)
        pane = app.query_one(CodePane)
        define = line_of(view, "def sigmoid_range")
        view.move_to(define, 5)
        await pilot.press("g", "r")
        assert await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        labels = [item.label for item in app.screen.items]
        assert f"models/collab.py:{define + 1}:5" in labels and len(labels) >= 2
        assert "def sigmoid_range" in app.screen.preview_text
        use = next(i for i, item in enumerate(app.screen.items) if item.location.line != define + 1)
        app.screen.query_one("#picker-list").highlighted = use
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: "sigmoid_range" in view.lines[view.cursor_line]
                                and view.cursor_line != define)

        await put_cursor(pilot, view, "nn.Embedding(n_users", 4)
        await pilot.press("K")
        assert await wait_until(pilot, lambda: isinstance(app.screen, DocScreen))
        text = str(app.screen.query_one("#doc-text", Static).render())
        assert "torch.nn.modules.sparse.Embedding" in text and "Embedding(num_embeddings" in text
        await pilot.press("escape")

        assert await wait_until(pilot, lambda: pane.index is not None and pane.index.done(), timeout=120)
        await pilot.press("ctrl+p")
        assert await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.press(*"nn/modules/sparse")
        assert await wait_until(pilot, lambda: app.screen.items
                                and app.screen.items[0].label == "torch/nn/modules/sparse.py")
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: view.path == TORCH / "nn" / "modules" / "sparse.py")

        await pilot.press("s", *"EmbeddingDotBias")
        assert await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen) and app.screen.items
                                and app.screen.items[0].label.split("(")[0] == "EmbeddingDotBias")
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: view.path == COLLAB
                                and view.lines[view.cursor_line].startswith("class EmbeddingDotBias"))

        await pilot.press("y")
        assert app.clipboard == f"{COLLAB}:{view.cursor_line + 1}"


async def test_files_that_cannot_be_shown_say_why_and_odd_files_work(runs_dir, tmp_path):
    (tmp_path / "models").mkdir()
    broken = tmp_path / "models" / "broken.py"
    broken.write_text("class Broken(:\n    def forward(self, x)\n        return x +\n\nprint(Broken)\n")
    binary = tmp_path / "models" / "weights.bin"
    binary.write_bytes(b"\x00\x01" * 100)
    big = tmp_path / "big.py"
    big.write_text("".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(10_000)))
    app = L4App(runs_dir=runs_dir, workspace=tmp_path, open_at=Location(broken, 5, 6))
    async with app.run_test(size=(80, 24)) as pilot:
        view = await opened(pilot, app, broken)
        pane = app.query_one(CodePane)
        # jedi finds nothing in this broken class; the index of definitions (vim's tags, in
        # effect) still does.
        assert await wait_until(pilot, lambda: pane.index is not None and pane.index.done(), timeout=120)
        await pilot.press("ctrl+right_square_bracket")
        assert await wait_until(pilot, lambda: view.cursor_line == 0)
        await pilot.press("j", "z", "c", "w", "percent_sign")  # nothing here crashes
        for path, message in ((binary, "binary"), (tmp_path / "gone.py", "does not exist")):
            pane.open_location(Location(path, 1, 0))
            assert await wait_until(pilot, lambda: any(message in n.message for n in app._notifications))
            assert view.path == broken
        pane.open_location(Location(big, 1, 0))
        assert await wait_until(pilot, lambda: view.path == big, timeout=30)
        assert len(view.lines) == 30_000
        await pilot.press("G")
        assert view.cursor_line == 29_999 and view.scroll_offset.y > 29_000
        await pilot.press("z", "M")
        assert len(view._rows) == 20_000  # each def folds its body away
        await pilot.press("colon", *"15000", "enter")
        assert view.cursor_line == 14_999 and not view.folds.is_hidden(14_999)


async def test_the_editor_gets_the_file_at_the_line_and_changes_are_reloaded(runs_dir, tmp_path, monkeypatch):
    (tmp_path / "models").mkdir()
    model = tmp_path / "models" / "m.py"
    model.write_text("x = 1\ny = 2\n")
    editor = tmp_path / "fake-editor"
    # Records its arguments and edits the file, as a user would before quitting the editor.
    editor.write_text(f"#!{sys.executable}\nimport sys, pathlib\n"
                      f"pathlib.Path({str(tmp_path / 'args')!r}).write_text(repr(sys.argv[1:]))\n"
                      "pathlib.Path(sys.argv[-1]).write_text('x = 1\\ny = 2\\nz = 3\\n')\n")
    editor.chmod(0o755)
    monkeypatch.setenv("VISUAL", str(editor))
    app = L4App(runs_dir=runs_dir, workspace=tmp_path, open_at=Location(model, 2, 0))
    async with app.run_test(size=(80, 24)) as pilot:
        monkeypatch.setattr(app, "suspend", contextlib.nullcontext)  # headless: no terminal to hand over
        view = await opened(pilot, app, model)
        await pilot.press("e")
        # e waits a moment for keys right behind it (a paste) before leaving the app.
        assert await wait_until(pilot, lambda: (tmp_path / "args").exists(), timeout=5)
        assert (tmp_path / "args").read_text() == repr([str(model)])  # an editor we don't know: the file
        assert await wait_until(pilot, lambda: len(view.lines) == 3, timeout=10)
        assert view.cursor_line == 1
        # A change made elsewhere (another terminal, git checkout) is noticed too.
        model.write_text("a = 0\n" * 5)
        assert await wait_until(pilot, lambda: view.lines == ["a = 0"] * 5, timeout=10)


@pytest.mark.parametrize("editor", ["missing", "bad interpreter"])
async def test_an_editor_that_cannot_start_says_so_and_the_app_comes_back(runs_dir, tmp_path, monkeypatch, editor):
    """No vi on the box, or an $EDITOR that does not run: one line saying so, and the terminal is
    the app's again (Textual's suspend() takes it back only when its block ends without an error:
    the app was left blank, answering no key)."""
    model = tmp_path / "m.py"
    model.write_text("x = 1\n")
    if editor == "missing":
        command = str(tmp_path / "no-such-editor")
    else:
        command = str(tmp_path / "broken-editor")
        Path(command).write_text("#!/no/such/interpreter\n")
        Path(command).chmod(0o755)
    monkeypatch.setenv("VISUAL", command)
    handed = []

    @contextlib.contextmanager
    def suspend():  # as Textual's: the terminal comes back only after a block that ended well
        handed.append("out")
        yield
        handed.append("back")

    notes = []
    app = L4App(runs_dir=runs_dir, workspace=tmp_path, open_at=Location(model, 1, 0))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        monkeypatch.setattr(app, "suspend", suspend)
        monkeypatch.setattr(app, "notify", lambda message, **kwargs: notes.append(message))
        await opened(pilot, app, model)
        await pilot.press("e")
        assert await wait_until(pilot, lambda: notes, timeout=5)
        assert notes[0].startswith(f"Can't start the editor {command!r}") and "$VISUAL or $EDITOR" in notes[0]
        assert handed in ([], ["out", "back"])  # never handed over, or handed back
        await pilot.press("j")
        assert app.is_running


def test_l4tui_path_line_opens_the_app_there(monkeypatch):
    from l4tui import cli

    seen = {}

    class FakeApp:
        return_code = 0

        def __init__(self, runs_dir=None, workspace=None, open_at=None, python=None):
            seen["open_at"] = open_at
            seen["workspace"] = workspace

        def run(self):
            seen["ran"] = True

    monkeypatch.setattr("l4tui.ui.app.L4App", FakeApp)
    assert cli.main([f"{COLLAB}:29"]) == 0
    assert seen == {"open_at": Location(COLLAB, 29, 0), "workspace": REPO, "ran": True}  # the file's project
    assert not cli.opens_a_file(["train"]) and not cli.opens_a_file([f"{COLLAB}.nope:3"])


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_pickers_fit_small_and_large_terminals(runs_dir, size):
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=size) as pilot:
        view = await opened(pilot, app)
        define = line_of(view, "def sigmoid_range")
        view.move_to(define, 5)
        await pilot.press("g", "r")
        assert await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.pause()
        box = app.screen.query_one("#picker-box").region
        assert box.width <= size[0] and box.height <= size[1]
        assert app.screen.query_one("#picker-list").region.height >= 3
        assert app.screen.query_one("#picker-preview").region.height >= 3


async def test_a_slow_first_file_does_not_pull_the_user_back_to_the_code_pane(runs_dir, monkeypatch):
    import time

    from l4tui.code.documents import Documents

    slow_get = Documents.get

    def get(self, path, highlight=None):
        time.sleep(1.0)  # a cold start on a slow disk
        return slow_get(self, path, highlight)

    monkeypatch.setattr(Documents, "get", get)
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2")  # before the first file is open
        view = app.query_one(CodeView)
        assert await wait_until(pilot, lambda: view.path == COLLAB)
        await pilot.pause(0.2)
        assert app.query_one("#panes").active == "data"


async def test_quitting_while_a_file_is_read_does_not_crash(runs_dir, monkeypatch):
    """`q` during start-up: the app's teardown removes the viewer while the pane's worker still
    awaits the file's reading thread. The worker must then leave the widgets alone."""
    import threading

    from l4tui.ui.code_view import CodeView

    release = threading.Event()
    reading = threading.Event()
    original = CodePane._read

    def slow_read(self, location):
        reading.set()
        release.wait(10)
        return original(self, location)

    monkeypatch.setattr(CodePane, "_read", slow_read)
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(CodePane)
        view = app.query_one(CodeView)
        assert await wait_until(pilot, reading.is_set)
        pane.remove()  # what the teardown does: marks the pane and all in it, removes the viewer first
        assert gone(pane)
        assert await wait_until(pilot, lambda: not view.is_attached)
        release.set()  # the file comes back to a pane without its viewer
        await pilot.pause(0.3)
        assert view.document is None  # the worker stopped at the await: nothing shown in a viewer gone
    assert app.return_code in (0, None)
