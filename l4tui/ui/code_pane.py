"""The Code pane: the workspace's models/ tree, the viewer, and jumps with a tag stack."""

import asyncio
import sys
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DirectoryTree, Static

from l4tui.code.location import Location
from l4tui.code.navigator import Navigator
from l4tui.code.source import SourceError, read_source, token_lines
from l4tui.code.tagstack import TagStack
from l4tui.ui.code_view import CodeView


class ModelsTree(DirectoryTree):
    """The models/ folder, without caches and hidden files."""

    def filter_paths(self, paths):
        return [p for p in paths if not p.name.startswith((".", "__pycache__"))]


def display_path(path: Path, workspace: Path) -> str:
    """A short path: relative to the workspace, else to the sys.path entry it lives under."""
    path = Path(path)
    roots = sorted({Path(workspace), *(Path(p) for p in sys.path if p)}, key=lambda p: -len(str(p)))
    for root in roots:
        try:
            return str(path.relative_to(root))
        except ValueError:
            continue
    return str(path)


class CodePane(Vertical):
    BINDINGS = [
        Binding("ctrl+right_square_bracket", "goto_definition", "Definition", id="code.goto_definition",
                tooltip="Go to the definition of the name under the cursor"),
        Binding("ctrl+t", "pop_tag", "Back", id="code.pop_tag",
                tooltip="Jump back to where the last Ctrl-] came from"),
        Binding("o", "focus_tree", "Files", id="code.files", tooltip="Move to the file tree"),
    ]

    def __init__(self, workspace: Path, **kwargs) -> None:
        super().__init__(**kwargs)
        self.workspace = Path(workspace)
        self.models_dir = self.workspace / "models"
        self.navigator = Navigator(self.workspace)
        self.tags = TagStack()

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield ModelsTree(self.models_dir, id="models-tree")
            with Vertical(id="editor"):
                yield CodeView(id="code-view")
                yield Static("", id="code-status", markup=False)

    def start(self) -> None:
        """Called once the first frame is on screen: open a file, warm jedi up."""
        first = self.models_dir / "collab.py"
        if not first.exists():
            first = next(iter(sorted(self.models_dir.glob("*.py"))), None)
        if first is not None:
            self.open_location(Location(first, 1, 0))
        self.warmed = self.navigator.warm()  # parse torch in the background, before the first jump into it

    def on_unmount(self) -> None:
        self.navigator.close()

    @property
    def view(self) -> CodeView:
        return self.query_one(CodeView)

    def current_location(self) -> Location | None:
        view = self.view
        if view.path is None:
            return None
        return Location(view.path, view.cursor_line + 1, view.cursor_col)

    # ---- opening files ----------------------------------------------------------------------

    @work(exclusive=True, group="open-file")
    async def open_location(self, location: Location) -> None:
        """Show the file at `location`; reading and highlighting happen off the event loop."""
        view = self.view
        if view.path == location.path:
            view.move_to(location.line - 1, location.column, center=True)
            return
        self.set_status(f"opening {display_path(location.path, self.workspace)} ...")
        try:
            source, tokens = await asyncio.to_thread(self._read, location.path)
        except SourceError as error:
            self.app.notify(str(error), title="Can't open", severity="error")
            self._show_status()
            return
        view.load(location.path, source, tokens, location.line - 1, location.column)
        focused = self.app.focused
        # Focus the viewer, unless the user has moved to another pane meanwhile: focusing a
        # widget in a hidden pane would switch back to it.
        if focused is None or self in focused.ancestors_with_self:
            view.focus()

    @staticmethod
    def _read(path: Path):
        source = read_source(path)
        return source, token_lines(source, path.name)

    @on(DirectoryTree.FileSelected)
    def _file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.open_location(Location(Path(event.path), 1, 0))

    # ---- jumping ------------------------------------------------------------------------

    @on(CodeView.GotoDefinition)
    def _gd(self) -> None:
        self.action_goto_definition()

    def action_goto_definition(self) -> None:
        self.goto_definition()

    @work(exclusive=True, group="goto")
    async def goto_definition(self) -> None:
        view = self.view
        origin = self.current_location()
        word = view.word_at_cursor()
        if origin is None or not word:
            self.app.notify("Put the cursor on a name first", severity="warning")
            return
        self.set_status(f"looking up {word} ...")
        try:
            definitions = await asyncio.wrap_future(
                self.navigator.goto(view.source, origin.path, origin.line, origin.column))
        except Exception as error:  # jedi can fail on odd code; say so, keep going
            self.app.notify(f"Lookup of {word} failed: {error}", severity="error")
            definitions = []
        self._show_status()
        if not definitions:
            self.app.notify(f"No definition found for {word}", severity="warning")
            return
        target = definitions[0]
        if target.location is None:
            self.app.notify(f"{word} ({target.module_name}) has no Python source: it is compiled",
                            severity="warning")
            return
        if len(definitions) > 1:
            self.app.notify(f"{word}: 1 of {len(definitions)} definitions")
        if target.is_stub:
            self.app.notify(f"{word} is defined in a type stub (.pyi); the real code is compiled")
        self.tags.push(word, origin, target.location)
        self.open_location(target.location)

    def action_pop_tag(self) -> None:
        entry = self.tags.pop()
        if entry is None:
            self.app.notify("At the bottom of the tag stack", severity="warning")
            return
        self.open_location(entry.origin)

    def action_focus_tree(self) -> None:
        self.query_one(ModelsTree).focus()

    # ---- status line --------------------------------------------------------------------

    @on(CodeView.CursorMoved)
    def _cursor_moved(self) -> None:
        self._show_status()

    def _show_status(self) -> None:
        view = self.view
        if view.path is None:
            self.set_status("no file open")
            return
        stub = "  [stub]" if view.path.suffix == ".pyi" else ""
        tags = f"  tags:{self.tags.depth}" if self.tags.depth else ""
        self.set_status(f"{display_path(view.path, self.workspace)}:{view.cursor_line + 1}:"
                        f"{view.cursor_col + 1}{stub}{tags}")

    def set_status(self, text: str) -> None:
        self.query_one("#code-status", Static).update(text)
