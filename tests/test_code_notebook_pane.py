"""A notebook in the Code pane, driven as a user drives it: opened folded, Ctrl-] to a name of an
earlier cell and into a sibling module, gr, K, `e` at the cell's line, and a malformed notebook."""

import contextlib
import sys

from textual.widgets import Static

from conftest import wait_until
from l4tui.code.location import Location
from l4tui.ui.app import L4App
from l4tui.ui.code_pane import CodePane
from l4tui.ui.code_view import CodeView
from l4tui.ui.doc_screen import DocScreen
from l4tui.ui.picker import PickerScreen
from test_code_notebook import JOINED, LESSON

UTIL = "def add_tax(price, rate=0.2):\n    \"\"\"The price with tax.\"\"\"\n    return price * (1 + rate)\n"


def project(tmp_path):
    (tmp_path / "util.py").write_text(UTIL)
    path = tmp_path / "lesson.ipynb"
    path.write_text(LESSON)
    return path


def status(app) -> str:
    return str(app.query_one("#code-status", Static).render())


async def test_a_notebook_opens_folded_and_jumps_work_across_cells_and_modules(runs_dir, tmp_path):
    path = project(tmp_path)
    app = L4App(runs_dir=runs_dir, workspace=tmp_path, open_at=Location(path, 13, 4))  # `x = area(2)`
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(CodeView)
        assert await wait_until(pilot, lambda: view.path == path)
        assert view.lines == JOINED
        assert view.folds.fold_at(0) is not None  # the markdown cell is folded away
        assert view._rows[:2] == [0, 3]
        crumbs = app.query_one("#code-crumbs", Static)
        assert await wait_until(pilot, lambda: "lesson.ipynb › cell 3" in str(crumbs.render()))

        await pilot.press("ctrl+right_square_bracket")  # `area`, defined in the cell before
        assert await wait_until(pilot, lambda: view.cursor_line == 7)
        assert view.path == path and view.cursor_col == 4
        await pilot.press("ctrl+t")
        assert await wait_until(pilot, lambda: view.cursor_line == 12)

        view.move_to(16, 9)  # `total = add_tax(x)`: imported from util.py beside the notebook
        await pilot.press("ctrl+right_square_bracket")
        assert await wait_until(pilot, lambda: view.path == tmp_path / "util.py")
        assert view.cursor_line == 0
        await pilot.press("ctrl+t")
        assert await wait_until(pilot, lambda: view.path == path and view.cursor_line == 16)

        await pilot.press("K")  # the docstring of add_tax, through the notebook
        assert await wait_until(pilot, lambda: isinstance(app.screen, DocScreen))
        await pilot.press("escape")

        view.move_to(7, 4)  # `def area`: its references, all in the notebook's joined lines
        await pilot.press("g", "r")
        assert await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        assert [item.location.line for item in app.screen.items] == [8, 13]
        await pilot.press("down", "enter")
        assert await wait_until(pilot, lambda: view.cursor_line == 12)

        await pilot.press("colon", "2", "enter")  # a jump into the markdown opens its fold, as in vim
        assert await wait_until(pilot, lambda: view.cursor_line == 1 and view.folds.fold_at(0) is None)
        await pilot.press("slash", *"Collab", "enter")
        assert view.cursor_line == 2


async def test_e_opens_the_notebook_file_at_the_cells_line(runs_dir, tmp_path, monkeypatch):
    path = project(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    editor = bin_dir / "vim"  # named vim, so it is given the line
    editor.write_text(f"#!{sys.executable}\nimport sys, pathlib\n"
                      f"pathlib.Path({str(tmp_path / 'args')!r}).write_text(repr(sys.argv[1:]))\n")
    editor.chmod(0o755)
    monkeypatch.setenv("VISUAL", str(editor))
    app = L4App(runs_dir=runs_dir, workspace=tmp_path, open_at=Location(path, 8, 4))  # `def area`
    async with app.run_test(size=(80, 24)) as pilot:
        monkeypatch.setattr(app, "suspend", contextlib.nullcontext)
        view = app.query_one(CodeView)
        assert await wait_until(pilot, lambda: view.path == path)
        await pilot.press("e")
        assert await wait_until(pilot, lambda: (tmp_path / "args").exists(), timeout=5)
        file_lines = LESSON.split("\n")
        line = next(i for i, text in enumerate(file_lines, 1) if '"def area(r):\\n"' in text)
        column = file_lines[line - 1].index("def area") + 1 + 4
        assert (tmp_path / "args").read_text() == repr([f"+call cursor({line}, {column})", str(path)])


async def test_a_malformed_notebook_says_why_in_the_status_line(runs_dir, tmp_path):
    path = project(tmp_path)
    bad = tmp_path / "bad.ipynb"
    bad.write_text('{"cells": [{"cell_type": "code"}]}')
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [')
    app = L4App(runs_dir=runs_dir, workspace=tmp_path, open_at=Location(path, 1, 0))
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(CodeView)
        pane = app.query_one(CodePane)
        assert await wait_until(pilot, lambda: view.path == path)
        for wrong, message in ((bad, 'bad.ipynb: cell 1 (code) has no "source"'),
                               (broken, "broken.ipynb: not JSON (line 1")):
            pane.open_location(Location(wrong, 1, 0))
            assert await wait_until(pilot, lambda: message in status(app)), status(app)
            assert view.path == path  # the notebook shown before stays


async def test_the_symbol_finder_finds_a_notebooks_definitions_and_opens_them_in_it(runs_dir, tmp_path):
    path = project(tmp_path)
    app = L4App(runs_dir=runs_dir, workspace=tmp_path, open_at=Location(tmp_path / "util.py", 1, 0))
    async with app.run_test(size=(100, 30)) as pilot:
        pane, view = app.query_one(CodePane), app.query_one(CodeView)
        assert await wait_until(pilot, lambda: pane.index is not None and pane.index.done(), timeout=120)
        await pilot.press("s", *"area")
        assert await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen) and app.screen.items
                                and app.screen.items[0].label.split("(")[0] == "area")
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: view.path == path and view.cursor_line == 7)
        assert view.lines[7] == "def area(r):"
