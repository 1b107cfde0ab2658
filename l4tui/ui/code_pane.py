"""The Code pane: the project's file tree (and the lesson's), the viewer, and an editor's navigation.

The viewer (code_view.py) does what stays inside one file. This pane does the rest, the way
vim with ctags does it: Ctrl-] and gd (jedi, then a tags file, then our index), the tag
stack (Ctrl-T, :tags), the jump list (Ctrl-O, Ctrl-I, :jumps), references (gr), K, the file
and symbol finders, the command line (/ ? :), and handing the file to $EDITOR (e).
"""

import asyncio
import shutil
import subprocess
from concurrent.futures import Future
from pathlib import Path

from textual import events, on, work
from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DirectoryTree, Static
from textual.widgets._directory_tree import DirEntry

from l4tui.code.documents import Documents
from l4tui.code.editor import editor_command, editor_from_environment
from l4tui.code.environment import candidate, in_own_packages
from l4tui.code.fuzzy import fuzzy_rank
from l4tui.code.jumplist import JumpList
from l4tui.code.location import Location
from l4tui.code.navigator import (LOOKUP_TIMEOUT_S, Definition, Navigator, SerialThread, in_background,
                                  keep_out_of_gc)
from l4tui.code.notebook import is_notebook, notebook_file_place
from l4tui.code.source import SourceError
from l4tui.code.tagstack import TagStack
from l4tui.code.workspace import ProjectFilter, display_path, lesson_file, list_workspace, short_names
from l4tui.modelfiles import bundled_models_dir
from l4tui.textcut import clip
from l4tui.ui.code_view import CodeView
from l4tui.ui.key_order import InOrderInput, forward_key, has_focus_now, run_binding
from l4tui.ui.messages import CodeRequest, CursorMoved, Jumped, Said
from l4tui.ui.picker import PickerScreen, PickItem
from l4tui.ui.off_thread import gone, in_thread, off_loop

DISK_CHECK_S = 2.0  # how often the open file's mtime is looked at
PROGRESS_S = 0.5  # how often the status line shows how far the background listing/indexing got
WARM_AFTER_S = 0.5  # a file's names are looked up once the user has stayed on it this long
PREFETCH_FILES = 12  # of the files the open file's names lead to, how many are made ready to show
EDIT_SETTLE_S = 0.1  # `e` waits this long for keys right behind it (a paste) before leaving the app
FAILED = object()  # what _ask_jedi answers when jedi failed or gave up (None can be an answer)


LESSON_LABEL = "lesson"  # the tree's root for l4tui's bundled models, beside the project's files


class ProjectTree(DirectoryTree):
    """The project's files as the finder lists them (no .gitignore'd files, environments,
    caches or hidden folders), with the bundled lesson models as a "lesson" folder on top when
    they are not part of the project already. A `models/` folder is opened to start with.

    Keys act in the order typed (key_order.py): Enter on a file opens it at once, so `G` typed
    right behind Enter goes to the end of that file, not to the tree."""

    def __init__(self, path: Path, lesson: Path | None = None, **kwargs) -> None:
        self.lesson = lesson
        self._filters: dict[Path, ProjectFilter] = {}
        super().__init__(path, **kwargs)

    def _filter_for(self, path: Path) -> ProjectFilter | None:
        """The project's filter, or the lesson's for a path under the lesson folder."""
        for root in (self.lesson, Path(self.path)):
            if root is not None and (root == path or root in path.parents):
                if root not in self._filters:
                    self._filters[root] = ProjectFilter(root)
                return self._filters[root]
        return None

    def filter_paths(self, paths):
        # Runs on the tree's loader thread: the .gitignore files are read there, not on the UI's.
        kept = []
        for path in paths:
            rules = self._filter_for(path)
            try:
                is_folder = self._safe_is_dir(path)
                if is_folder and path.is_symlink():
                    keep = False  # a linked folder, as the listing: never followed, so no loops
                else:
                    keep = rules.keep(path, is_folder) if rules else not path.name.startswith(".")
            except OSError:
                keep = False
            if keep:
                kept.append(path)
        return kept

    def _add_to_load_queue(self, node):
        """Textual's, except that waiting for the folder to load ends when the app closes: its
        loader is cancelled then, and a wait for it (a folder expanded as the app quits, the
        `models/` one at start-up, say) would keep the app from ever closing."""
        super()._add_to_load_queue(node)
        return AwaitComplete(self._loaded_or_closing())

    async def _loaded_or_closing(self) -> None:
        joined = asyncio.ensure_future(self._load_queue.join())
        while not joined.done():
            if not self.app.is_running or not self.is_attached:
                joined.cancel()
                return
            await asyncio.wait([joined], timeout=0.1)

    def _populate_node(self, node, content) -> None:
        super()._populate_node(node, content)
        if node is not self.root:
            return
        for child in node.children:
            if child.data is not None and child.data.path.name == "models" and child.allow_expand:
                child.expand()  # the lesson's layout: the models are what a user opens first
        if self.lesson is not None and self.lesson.is_dir():
            node.add(LESSON_LABEL, data=DirEntry(self.lesson), allow_expand=True, before=0)

    async def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        if not has_focus_now(self):  # Enter opened a file and the viewer took the focus
            forward_key(self.app, event.key, event.character)
            return
        node = self.cursor_node
        path = getattr(node.data, "path", None) if node is not None else None
        if event.key == "enter" and path is not None and not Path(path).is_dir():
            self.query_ancestor(CodePane).open_location(Location(Path(path), 1, 0))
            return
        await run_binding(self.app, event.key)


class CommandLine(InOrderInput):
    """vim's command line under the viewer: `/` and `?` search, `:` runs a command.

    Enter and Escape act at once (not through a message), so the keys typed right after them go
    to the viewer, after the search or command has run."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False, id="code.prompt_cancel")]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.mode = ":"

    def action_cancel(self) -> None:
        self.query_ancestor(CodePane).close_prompt()

    def enter_now(self) -> None:
        self.query_ancestor(CodePane).submit_prompt(self.mode, self.value)


class CodePane(Vertical):
    BINDINGS = [
        Binding("ctrl+right_square_bracket", "goto_definition", "Definition", id="code.goto_definition",
                tooltip="Go to the definition of the name under the cursor (also gd)"),
        Binding("ctrl+t", "pop_tag", "Back", id="code.pop_tag",
                tooltip="Jump back to where the last Ctrl-] came from (the tag stack)"),
        Binding("ctrl+o", "jump_back", "Older", show=False, id="code.jump_back",
                tooltip="Back through the jump list (every jump, not only tags)"),
        Binding("tab,ctrl+i", "jump_forward", "Newer", show=False, id="code.jump_forward",
                tooltip="Forward through the jump list (Ctrl-I is Tab in a terminal)"),
        Binding("slash", "prompt('/')", "Search", id="code.search", tooltip="Search forward (a regex; smartcase); n N: next, previous (? is help here)"),
        Binding("colon", "prompt(':')", "Command", show=False, id="code.command",
                tooltip=":NUMBER, :tags, :jumps, :Files, :Tags, :tag NAME, :noh, :e PATH, :lesson [NAME], "
                        ":python PATH, :help, :q"),
        Binding("ctrl+p", "find_file", "Files", id="code.find_file",
                tooltip="Find a file of the workspace or of the packages it imports (fuzzy)"),
        Binding("s", "find_symbol", "Symbols", id="code.find_symbol",
                tooltip="Find a class, function or variable by name (fuzzy), torch included"),
        Binding("K", "help", "Doc", show=False, id="code.help",
                tooltip="The signature and docstring of the name under the cursor"),
        Binding("e", "edit", "Edit", id="code.edit",
                tooltip="Open this file at this line in $VISUAL / $EDITOR; reloads it afterwards"),
        Binding("y", "yank", "Yank path:line", show=False, id="code.yank",
                tooltip="Copy path:line of the cursor to the clipboard (OSC 52)"),
        Binding("o", "focus_tree", "Tree", show=False, id="code.files", tooltip="Move to the file tree"),
    ]

    def __init__(self, workspace: Path, open_at: Location | None = None, python: str | None = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.workspace = Path(workspace)
        self.models_dir = self.workspace / "models"
        self.lesson_dir = bundled_models_dir()
        self.files_listed: list[Path] = []  # grows while the project is listed in the background
        self.listing_done = False
        self.background: str = ""  # what the background listing/indexing is doing, for the status line
        self.open_at = open_at
        self.navigator = Navigator(self.workspace, python)
        self._problems_shown = 0  # of navigator.problems, said in the status line
        self.tags = TagStack()
        self.jumps = JumpList()
        self.index: Future | None = None  # of a SymbolIndex, built in the background
        self.warmed: Future | None = None
        self.file_warmed: Future | None = None
        self._warm_timer = None
        self.documents = Documents()  # files read, highlighted and folded, kept for jumping back
        self.prefetcher = SerialThread("prefetch")
        self._prefetched = 0
        self._crumbs = ""
        self._tags_file: list | None = None  # [TagsFile or None], looked for once
        self._key_holds: dict[str, object] = {}  # worker group -> the viewer's hold on the keys
        self._key_tickets: dict[str, int] = {}  # worker group -> the latest worker's ticket
        self._progress_shown = False
        self._candidates: list | None = None  # Ctrl-P's, once the index is built
        self.skipped: list = []

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="code-side"):
                yield ProjectTree(self.workspace, lesson=self._lesson_root(), id="models-tree")
                yield Static("", id="code-progress", markup=False)
            with Vertical(id="editor"):
                yield Static("", id="code-crumbs", markup=False)
                yield CodeView(id="code-view")
                yield Static("", id="code-status", markup=False)
                with Horizontal(id="code-prompt-row"):
                    yield Static(":", id="code-prompt-mode", markup=False)
                    yield CommandLine(id="code-prompt", compact=True)

    def _lesson_root(self) -> Path | None:
        """The bundled models, unless the project holds them already (l4tui's own checkout)."""
        lesson = self.lesson_dir.resolve()
        workspace = self.workspace.resolve()
        return None if lesson == workspace or workspace in lesson.parents else lesson

    def first_file(self) -> Path | None:
        """What opens when no file was named: the project's models/collab.py (or its first
        model), else the lesson's collab.py, so the first screen is the lesson's code."""
        for folder in (self.models_dir, self.lesson_dir):
            default = folder / "collab.py"
            if default.is_file():
                return default
            try:
                found = next(iter(sorted(folder.glob("*.py"))), None)
            except OSError:
                found = None
            if found is not None:
                return found
        return None

    def start(self, background: bool = True) -> None:
        """Called once the first frame is on screen: open a file; then (here, or when the app calls
        `start_background`) warm jedi up, list and index."""
        first = self.open_at
        if first is None:
            default = self.first_file()
            first = Location(default, 1, 0) if default else None
        if first is not None:
            self.open_location(first, record=False)
        if background:
            self.start_background()

    def start_background(self) -> None:
        """The start-up work that keeps a CPU busy for seconds, in threads: jedi, the listing, the index."""
        if self.warmed is not None:
            return  # started already
        self.warmed = self.navigator.warm()  # parse torch in the background, before the first jump into it
        self.index = in_background(self._build_index, name="symbol-index")
        self.set_interval(DISK_CHECK_S, self._check_disk)
        self._progress_timer = self.set_interval(PROGRESS_S, self._show_progress)

    def _build_index(self):
        """List the project, then index it and the packages it imports; on the index's thread,
        saying how far it got in `self.background` (the status line shows it)."""
        # Here (a thread, after the first frame), as the finders' and the ex commands' modules are
        # imported where they are first used: none of them is needed for the first frame.
        from l4tui.code.index import build_index, project_roots

        skipped: list = []
        # Short: the line under the tree is 22 columns wide.
        self.background = "listing the project"

        def listed(count: int) -> None:
            self.background = f"listing: {count:,} files"

        files = list_workspace(self.workspace, progress=listed, skipped=skipped, into=self.files_listed)
        self.listing_done = True
        self.skipped = skipped
        sources = [p for p in files if p.suffix in (".py", ".pyi") or is_notebook(p)]
        self.background = "indexing"

        def indexed(done: int, total: int) -> None:
            self.background = f"indexing {done:,}/{total:,}"

        try:
            lesson = self._lesson_root()
            roots = [*project_roots(self.workspace, sources), *([lesson] if lesson is not None else [])]
            index = build_index(roots, progress=indexed,
                                listings={self.workspace: sources})
            index.prefer(self.workspace, lesson)  # the user's code and the lesson's models first
            self._candidates = self._make_file_candidates(index)
        finally:
            self.background = ""
        keep_out_of_gc()  # 82,000 symbols the collector need never walk again
        return index

    def _show_progress(self) -> None:
        """The background listing and indexing, on a line under the tree while they run (the
        status line stays vim's: file:line:column and messages)."""
        line = self.query_one("#code-progress", Static)
        busy = self.background
        if busy:
            line.update(busy, layout=False)
        if bool(busy) != self._progress_shown:
            line.display = bool(busy)
            self._progress_shown = bool(busy)
        if not busy and self.index is not None and self.index.done():
            self._progress_timer.stop()
            if getattr(self, "skipped", None):
                where, why = self.skipped[0]
                more = f" (and {len(self.skipped) - 1:,} more)" if len(self.skipped) > 1 else ""
                self.app.notify(clip(f"left out {self.short(Path(where))}: {why}{more}"), timeout=6)

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

    def short(self, path: Path) -> str:
        lesson = self._lesson_root()
        if lesson is not None and Path(path).parent == lesson:
            return f"{LESSON_LABEL}/{Path(path).name}"  # not the project's: say whose it is
        # The environment's own path once jedi knows it: the user's fastai shows as fastai/collab.py.
        return display_path(path, self.workspace, self.navigator.search_paths() or None)

    # ---- opening files ----------------------------------------------------------------------

    def open_location(self, location: Location, record: bool = True) -> None:
        """Go to `location`; with `record`, the place left goes on the jump list first."""
        here = self.current_location()
        if record and here is not None:
            self.jumps.record(here)
        self._open(location)

    def _open(self, location: Location) -> None:
        """Show the file at `location`. Keys typed while it is read wait, and act on it once it is
        shown (the viewer holds them): `G` typed right after Enter goes to the new file's end."""
        view = self.view
        if view.path == location.path:
            view.move_to(location.line - 1, location.column, center=True)
            return
        self._focus_viewer()  # so the keys typed meanwhile reach the viewer, which holds them
        self._open_file(location, self._hold_keys_for("open-file"))

    def _hold_keys_for(self, group: str) -> int:
        """Hold the keys typed from now on until the latest worker of `group` has finished (it
        calls `_keys_free`). An earlier worker of the group, replaced before it even started,
        never releases them early. Returns the worker's ticket."""
        if group not in self._key_holds:
            self._key_holds[group] = self.view.hold_keys()
        self._key_tickets[group] = ticket = self._key_tickets.get(group, 0) + 1
        return ticket

    def _keys_free(self, group: str, ticket: int | None) -> None:
        if ticket is not None and self._key_tickets.get(group) == ticket and group in self._key_holds:
            hold = self._key_holds.pop(group)
            if not gone(self):  # the app quit while the worker awaited: the viewer is going
                self.view.release_keys(hold)

    def _pane_active(self) -> bool:
        """The tab this pane sits in is the active one (display lags behind a switch just made:
        `1 3` typed in a burst while the first file opens must not end on the Code pane)."""
        from textual.widgets import TabbedContent, TabPane

        for node in self.ancestors:
            if isinstance(node, TabPane):
                tabbed = next((a for a in node.ancestors if isinstance(a, TabbedContent)), None)
                return tabbed is None or tabbed.active == node.id
        return True

    def _focus_viewer(self) -> None:
        """Focus the viewer now, unless the user has moved to another pane or screen: focusing a
        widget in a hidden pane would switch back to it. (Focus can be None for a moment while
        panes switch, so what counts is whether this pane is shown.)"""
        shown = all(getattr(node, "display", True) for node in self.ancestors_with_self) and self._pane_active()
        if shown and self.screen is self.app.screen and not self.prompt_is_open():
            self.screen.set_focus(self.view)

    @work(exclusive=True, group="open-file")
    async def _open_file(self, location: Location, ticket: int | None = None) -> None:
        """Read, show and highlight the file; reading and highlighting happen off the event loop."""
        view = self.view
        try:
            self.navigator.stop_warming()  # the last file's names: the user has moved on
            if not self.documents.cached(location.path):
                self.set_status(f"opening {self.short(location.path)} ...")
            try:
                document = await in_thread(self._read, location)
            except SourceError as error:
                self.app.notify(str(error), title="Can't open", severity="error")
                self.set_status(clip(str(error)), error=True)  # where the user is looking
                return
            view.load(document, location.line - 1, location.column)
            if not document.highlighted:
                self._highlight(document)
            self._warm_later(location)
            self._focus_viewer()
        finally:
            self._keys_free("open-file", ticket)

    def _read(self, location: Location):
        """The document at `location`, its lines there highlighted (in a worker thread)."""
        return self.documents.prepare(self.documents.get(location.path), location.line - 1)

    def _warm_later(self, location: Location) -> None:
        """Once the user stays on a file, look its names up and get the files they lead to
        ready to show, in the background. Not at once: jedi's thread holds the GIL for long
        stretches, so warming a file the user only passes through would slow the next jump down."""
        if self._warm_timer is not None:
            self._warm_timer.stop()

        def warm() -> None:
            view = self.view
            if view.path == location.path:
                self._prefetched = 0
                self.file_warmed = self.navigator.warm_file(view.source, location.path, view.cursor_line + 1,
                                                            on_target=self._prefetch)

        self._warm_timer = self.set_timer(WARM_AFTER_S, warm)

    def _prefetch(self, path: Path) -> None:
        """Get a file the open file leads to ready to show (read, folded, highlighted unless it is
        huge), on a thread of its own, as soon as warming finds it."""
        self._prefetched += 1
        if self._prefetched <= PREFETCH_FILES:
            self.prefetcher.submit(self._get_quietly, path)

    def _get_quietly(self, path: Path) -> None:
        try:
            self.documents.get(path)
        except SourceError:
            return
        # Nothing is lexed here: a Python file is highlighted a block at a time (highlighting.py),
        # and the lines a jump lands on are lexed when it is opened (Documents.prepare), where
        # the line is known. (Highlighting torch's 30k-line stub whole here took 1.5 s of the
        # GIL from the user's next jump: p95 after 3 s went from 53 ms to 405 ms.)

    @work(group="highlight")
    async def _highlight(self, document) -> None:
        await in_thread(self.documents.highlight, document)
        if self.view.document is document:
            self.view.set_tokens(document.tokens)

    @on(DirectoryTree.FileSelected)
    def _file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.open_location(Location(Path(event.path), 1, 0))

    # ---- the file changing on disk ------------------------------------------------------------

    def _check_disk(self) -> None:
        document = self.view.document
        if document is None or document.stamp is None:
            return
        try:
            stat = document.path.stat()
        except OSError:
            self.set_status(f"{self.short(document.path)} is gone from the disk (the text shown is the last read)")
            return
        if (stat.st_mtime_ns, stat.st_size) != document.stamp:
            self._reload(document.path)

    @work(exclusive=True, group="reload")
    async def _reload(self, path: Path) -> None:
        try:
            document = await in_thread(self.documents.get, path)
        except SourceError as error:
            self.view.document.stamp = None  # say it once
            self.app.notify(f"{path.name} changed on disk and can't be shown: {error}", severity="error")
            return
        if self.view.path != path:
            return
        self.view.reload(document)
        if not document.highlighted:
            self._highlight(document)
        self.app.notify(f"{path.name} changed on disk: reloaded")

    # ---- requests from the viewer ------------------------------------------------------------

    @on(CodeRequest)
    def _request(self, event: CodeRequest) -> None:
        getattr(self, f"action_{event.action}")()

    @on(Jumped)
    def _jumped(self, event: Jumped) -> None:
        if self.view.path is not None:
            self.jumps.record(Location(self.view.path, event.line + 1, event.col))

    @on(Said)
    def _said(self, event: Said) -> None:
        self.set_status(event.text, error=event.error)

    # ---- definitions and the tag stack --------------------------------------------------------

    def _name_at_cursor(self) -> tuple[Location | None, str]:
        """Where the cursor is and the name under it; ("", says so) when there is none."""
        origin = self.current_location()
        word = self.view.word_at_cursor() if origin else ""
        if not word:
            self.set_status("Put the cursor on a name first", error=True)
        return origin, word

    def _look_up(self, look_up, *args) -> None:
        """Run a look-up (`look_up(*args)`, a coroutine: Ctrl-], gr, K, :tag) in the one "goto"
        worker, a newer one replacing an older. The keys typed meanwhile wait for it (vim's
        typeahead): `Ctrl-] j` moves down in the definition, not in the file left."""
        self._look_up_worker(look_up, args, self._hold_keys_for("goto"))

    @work(exclusive=True, group="goto")
    async def _look_up_worker(self, look_up, args: tuple, ticket: int) -> None:
        try:
            await look_up(*args)
        finally:
            self._keys_free("goto", ticket)

    async def _ask_jedi_at_cursor(self, request, doing: str, status: str):
        """(origin, word, jedi's answer) for the name under the cursor, with `status` shown
        meanwhile; None when there is no name or jedi failed (either said in the status line)."""
        origin, word = self._name_at_cursor()
        if not word:
            return None
        self.set_status(f"{status} {word} ...")
        answer = await self._ask_jedi(request, word, doing, origin)
        if answer is FAILED:
            return None
        self._show_status()
        return origin, word, answer

    def action_goto_definition(self) -> None:
        self._look_up(self._goto_definition)

    async def _goto_definition(self) -> None:
        view = self.view
        origin, word = self._name_at_cursor()
        if not word:
            return
        qualifier = view.qualifier_at_cursor()
        self.set_status(f"looking up {word} ...")
        definitions: list[Definition] = []
        if origin.path.suffix in (".py", ".pyi") or is_notebook(origin.path):  # a notebook: its joined view
            definitions = await self._ask_jedi(self.navigator.goto, word, "look up", origin)
            if definitions is FAILED:
                return  # failed or too slow, and said so: guessing by name would offer other files' names
        items = self._definition_items(definitions)
        if not items:  # what vim would find: a tags file, else our own index of definitions
            items = await in_thread(self._items_by_name, word, qualifier)
        self._show_status()  # "looking up ..." is over, whatever comes next
        if not items:
            compiled = [d for d in definitions if d.location is None]
            if compiled:
                self.set_status(f"{word} ({compiled[0].module_name}) has no Python source: it is compiled",
                                error=True)
            else:
                self.set_status(f"E426: tag not found: {word}", error=True)
            return
        if len(items) == 1:
            self._jump_to_tag(word, origin, items[0])
            return

        def chosen(item: PickItem | None) -> None:
            if item is not None:
                self.view.focus()
                self._jump_to_tag(word, origin, item)
            else:
                self._show_status()

        self.app.push_screen(PickerScreen(f"{len(items)} definitions of {word} (:tselect) — Enter jumps",
                                          items), chosen)

    async def _ask_jedi(self, request, word: str, doing: str, origin: Location):
        """`request(source, path, line, column)` on the jedi thread, within LOOKUP_TIMEOUT_S.

        FAILED, with a message in the status line, when jedi fails or takes too long (the request
        goes on in the background; its answer is dropped)."""
        try:
            return await off_loop(asyncio.wait_for(
                asyncio.wrap_future(request(self.view.source, origin.path, origin.line, origin.column)),
                LOOKUP_TIMEOUT_S))
        except (asyncio.TimeoutError, TimeoutError):
            self.set_status(f"jedi took over {LOOKUP_TIMEOUT_S:.0f} s to {doing} {word}: gave up; try again "
                            f"in a moment, or :tag {word} to look it up by name", error=True)
        except Exception as error:  # jedi can fail on odd code
            self.set_status(clip(f"jedi could not {doing} {word}: {type(error).__name__}: {error}; "
                                 f":tag {word} looks it up by name"), error=True)
        return FAILED

    def _definition_items(self, definitions: list[Definition]) -> list[PickItem]:
        items = []
        # In file and line order, as a reader expects a list of places (jedi's order is its own).
        definitions = sorted(definitions, key=lambda d: (str(d.location.path), d.location.line)
                             if d.location else ("", 0))
        for definition in definitions:
            if definition.location is None:
                continue
            if definition.real_location is not None:
                items.append(PickItem(f"{definition.name}", definition.real_location,
                                      f"{self.short(definition.real_location.path)}:{definition.real_location.line}"))
            kind = "stub" if definition.is_stub else definition.description.split(" ")[0]
            items.append(PickItem(f"{definition.name}", definition.location,
                                  f"{kind}  {self.short(definition.location.path)}:{definition.location.line}"))
        return items

    def _items_by_name(self, name: str, qualifier: str = "") -> list[PickItem]:
        """Definitions of `name` in an existing tags file (vim's), else in our index.

        For an attribute (`nn.Embedding`: qualifier "nn"), only the definitions that could be
        that attribute: in a file or class whose path or scope names the qualifier's last part.
        `models/tabular.py`'s own `class Embedding` is not `nn.Embedding`."""
        symbols = self._tags_lookup(name)
        if not symbols and self.index is not None and self.index.done() and not self.index.exception():
            symbols = self.index.result().find(name)
            if not self.navigator.choice.is_own:
                # The index was built from l4tui's own packages. Names resolve in the user's
                # environment: its own torch (maybe another version, or none) is not their answer.
                symbols = [s for s in symbols if not in_own_packages(s.path)]
        if qualifier and qualifier.split(".")[-1] not in ("self", "cls"):
            last = qualifier.split(".")[-1]
            symbols = [s for s in symbols if last in Path(s.path).with_suffix("").parts
                       or last == getattr(s, "scope", "").split(".")[-1]]
        return [self._symbol_item(symbol) for symbol in symbols]

    def _tags_lookup(self, name: str) -> list:
        """The user's own tags file (vim's `tags=./tags;`), when the workspace has one."""
        if self._tags_file is None:
            from l4tui.code.tags import TagsFile, find_tags_file

            path = find_tags_file(self.workspace)
            try:
                self._tags_file = [TagsFile(path) if path else None]
            except (OSError, ValueError):
                self._tags_file = [None]
        tags = self._tags_file[0]
        return tags.find(name) if tags is not None else []

    def _symbol_item(self, symbol) -> PickItem:
        """The name, then where it is, then its signature: a long signature is what gets cut."""
        where = f"{self.short(symbol.path)}:{symbol.line}"
        label = symbol.qualified if getattr(symbol, "scope", "") else symbol.name
        signature = getattr(symbol, "signature", "")
        return PickItem(label, Location(Path(symbol.path), symbol.line, symbol.column),
                        f"{symbol.kind}  {where}  {signature}".rstrip())

    def _jump_to_tag(self, word: str, origin: Location, item: PickItem) -> None:
        self.tags.push(word, origin, item.location)
        if item.location.path.suffix == ".pyi":
            self.app.notify(f"{word} is defined in a type stub (.pyi): the code itself is compiled",
                            timeout=4)
        self.open_location(item.location)

    def action_pop_tag(self) -> None:
        entry = self.tags.pop()
        if entry is None:
            self.set_status("E555: at bottom of tag stack", error=True)
            return
        self.open_location(entry.origin)  # vim's Ctrl-T is a jump too: Ctrl-O comes back

    def show_tags(self) -> None:
        """:tags, as a list: the current entry marked with >, Enter goes to a tag's target."""
        entries = self.tags.entries()
        if not entries:
            self.set_status("the tag stack is empty")
            return
        items = [PickItem(f"{'>' if number == self.tags.depth else ' '}{number:>3}  {entry.name:<20}",
                          entry.target,
                          f"from {self.short(entry.origin.path)}:{entry.origin.line}")
                 for number, entry in enumerate(entries, 1)]
        self.app.push_screen(PickerScreen("  # TO tag               FROM line in file  (:tags)", items,
                                          highlighted=max(0, self.tags.depth - 1)), self._go_to_item)

    # ---- the jump list ------------------------------------------------------------------------

    def action_jump_back(self) -> None:
        here = self.current_location()
        target = self.jumps.back(here) if here else None
        if target is None:
            self.set_status("at the start of the jump list", error=True)
            return
        self._open(target)

    def action_jump_forward(self) -> None:
        target = self.jumps.forward()
        if target is None:
            self.set_status("at the end of the jump list", error=True)
            return
        self._open(target)

    def show_jumps(self) -> None:
        """vim's :jumps: oldest first, `>` at the current position (a line of its own, last,
        when not walking the list), which the list opens on."""
        listing = self.jumps.listing()
        if not any(entry for _, entry in listing):
            self.set_status("the jump list is empty")
            return
        items = [PickItem(text, entry, self.short(entry.path) if entry is not None else "")
                 for text, entry in listing]
        current = next(i for i, (text, _) in enumerate(listing) if text.startswith(">"))
        self.app.push_screen(PickerScreen(" jump line  col file/text  (:jumps)", items,
                                          highlighted=current), self._go_to_item)

    def _go_to_item(self, item: PickItem | None) -> None:
        if item is not None and item.location is not None:
            self.view.focus()  # the user reads the place next, whether the tree or the code had the focus
            self.open_location(item.location)

    # ---- references and help ------------------------------------------------------------------

    def action_references(self) -> None:
        self._look_up(self._find_references)

    async def _find_references(self) -> None:
        asked = await self._ask_jedi_at_cursor(self.navigator.references, "find the references of",
                                               "finding references of")
        if asked is None:
            return
        origin, word, references = asked
        if not references:
            self.set_status(f"no references of {word} found", error=True)
            return
        items = [PickItem(f"{self.short(r.location.path)}:{r.location.line}:{r.location.column + 1}",
                          r.location, ("def  " if r.is_definition else "") + r.text)
                 for r in references]
        here = next((i for i, r in enumerate(references) if r.location.path == origin.path
                     and r.location.line == origin.line), 0)
        self.app.push_screen(PickerScreen(f"{len(references)} references to {word} — Enter jumps", items,
                                          highlighted=here), self._go_to_item)

    def action_help(self) -> None:
        self._look_up(self._show_help)

    async def _show_help(self) -> None:
        asked = await self._ask_jedi_at_cursor(self.navigator.help, "describe", "looking up the help of")
        if asked is None:
            return
        origin, word, help = asked
        from l4tui.ui import tensor_link  # on the first K, not before the first frame

        # `self.u_weight` in a model file: the tensor it is in a model, under the docstring
        attribute = await tensor_link.attribute_under_cursor(self.view.path, self.view.lines, origin, self.workspace)
        attribute = attribute if tensor_link.worth_linking(attribute, help) else None
        if help is None and attribute is None:
            self.set_status(f"E149: Sorry, no help for {word}", error=True)
            return
        help = help or tensor_link.bare_help(attribute, origin.path)
        where = f"{self.short(help.location.path)}:{help.location.line}" if help.location else ""
        if attribute is not None:
            self.app.push_screen(tensor_link.TensorDocScreen(help, where, origin.path, attribute, self.workspace))
            return
        from l4tui.ui.doc_screen import DocScreen

        self.app.push_screen(DocScreen(help, where))

    # ---- finders ------------------------------------------------------------------------------

    def _index_or_none(self):
        if self.index is None or not self.index.done() or self.index.exception():
            return None
        return self.index.result()

    def _file_candidates(self) -> list[tuple[str, Path, bool]]:
        """What Ctrl-P searches, as (short path, path, the project's own): made on the index's
        thread once it is done (short paths of torch's files cost a moment), else now from what
        the listing has found so far."""
        if self._candidates is not None:
            return self._candidates
        workspace = list(self.files_listed)
        return list(zip(short_names(workspace, self.workspace), workspace, [True] * len(workspace)))

    def _make_file_candidates(self, index) -> list[tuple[str, Path, bool]]:
        workspace = self.files_listed
        candidates = list(zip(short_names(workspace, self.workspace), workspace, [True] * len(workspace)))
        listed = set(workspace)
        lesson = self._lesson_root()
        for path in index.files():
            if path in listed:
                continue
            if lesson is not None and path.parent == lesson:
                candidates.append((f"{LESSON_LABEL}/{path.name}", path, False))
            else:
                candidates.append((self.short(path), path, False))
        return candidates

    def action_find_file(self) -> None:
        from l4tui.code.index import OWN_BONUS

        index = self._index_or_none()
        candidates = self._file_candidates()

        def search(query: str) -> list[PickItem]:
            # The project's own files get a bonus over the environment's (torch's).
            ranked = (fuzzy_rank(query, candidates, key=lambda c: c[0], limit=200,
                                 bonus=lambda c: OWN_BONUS if c[2] else 0.0) if query else candidates[:200])
            return [PickItem(text, Location(path, 1, 0)) for text, path, _ in ranked]

        if not self.listing_done:
            note = f" (still listing the project: {len(candidates):,} files so far)"
        else:
            note = "" if index else " (packages still being indexed: the project only)"
        self.app.push_screen(PickerScreen(f"Find a file (:Files){note}", search=search,
                                          placeholder="type part of a path: collab, nn/sparse ..."),
                             self._go_to_item)

    def action_find_symbol(self) -> None:
        index = self._index_or_none()
        if index is None:
            state = "failed" if self.index is not None and self.index.done() else "is still being built"
            self.set_status(f"the symbol index {state}; try again in a moment", error=True)
            return
        here = self.view.path

        def search(query: str) -> list[PickItem]:
            if not query:  # this file's outline
                symbols = index.symbols_in(here) if here else []
            else:
                symbols = index.search(query, limit=200)
            return [self._symbol_item(symbol) for symbol in symbols]

        self.app.push_screen(PickerScreen(f"Find a symbol: {len(index):,} definitions in {len(index.files()):,} "
                                          f"files (:Tags)", search=search,
                                          placeholder="a class, function or variable: EmbeddingDotBias, relu ..."),
                             self._tag_item_chosen)

    def _tag_item_chosen(self, item: PickItem | None) -> None:
        origin = self.current_location()
        if item is not None and item.location is not None and origin is not None:
            self.view.focus()
            self._jump_to_tag(item.label.split("(")[0].split(".")[-1], origin, item)

    # ---- the command line ---------------------------------------------------------------------

    def action_prompt(self, mode: str) -> None:
        prompt = self.query_one(CommandLine)
        prompt.mode = mode
        prompt.value = ""
        prompt.placeholder = {"/": "a regex (smartcase); then n next, N previous",
                              ":": "a line number, tags, jumps, Files, Tags, tag NAME, noh, e PATH, lesson, "
                                   "python PATH, help, q"}[mode]
        self.query_one("#code-prompt-mode", Static).update(mode)
        self.query_one("#code-prompt-row").display = True
        # The focus moves now, not later (Widget.focus waits its turn): the keys typed right
        # after `/` are in the queue already, and they are the prompt's.
        self.screen.set_focus(prompt)

    def prompt_is_open(self) -> bool:
        return bool(self.query_one("#code-prompt-row").display)

    def close_prompt(self) -> None:
        self.query_one("#code-prompt-row").display = False
        self.screen.set_focus(self.view)

    def submit_prompt(self, mode: str, text: str) -> None:
        """Enter in the prompt: close it, then search or run the command, before the next key."""
        text = text.strip()
        self.close_prompt()
        if not text:
            return
        if mode in "/?":
            self.view.search_for(text, forward=mode == "/")
        else:
            self.run_command(text.lstrip(":"))

    def run_command(self, text: str) -> None:
        """An ex command: what vim users type after `:` (read by code.ex_commands)."""
        # The bundled root (the lesson's models/ is under it): `:e models/tabular.py` works anywhere.
        from l4tui.code.ex_commands import not_a_command, parse_ex_command

        command = parse_ex_command(text, self.workspace, Path.cwd(), self.lesson_dir.parent)
        action, argument = command.action, command.argument
        if action == "goto_line":
            self.view.action_goto_line(command.line)
        elif action == "tags":
            self.show_tags()
        elif action == "jumps":
            self.show_jumps()
        elif action == "find_file":
            self.action_find_file()
        elif action == "find_symbol":
            self.action_find_symbol()
        elif action == "tag":
            self._look_up(self._tag_by_name, argument)
        elif action == "no_highlight":
            self.view.clear_search_highlight()
        elif action == "edit":
            self.open_location(Location(Path(argument), 1, 0))
        elif action == "lesson":
            self.open_lesson(argument)
        elif action == "help":
            self.app.action_help()
        elif action == "python":
            self._look_up(self._set_python, argument)
        elif action == "quit":
            self.app.exit()
        else:
            self.set_status(not_a_command(argument), error=True)

    async def _set_python(self, path: str) -> None:
        """`:python PATH`: resolve names in that environment from now on; a bad one is refused
        with its reason and the current one kept. `:python` alone names the current one."""
        if not path:
            self.set_status(self.navigator.choice.describe(self.navigator.environment_label))
            return
        choice, problem = candidate(Path(path), ":python")
        if choice is None:
            self.set_status(f"{problem}; still {self.navigator.environment_label}", error=True)
            return
        self.set_status(f"starting {choice.label} ...")
        label = await off_loop(asyncio.wrap_future(self.navigator.set_environment(choice)))
        refused = self.navigator.choice.is_own and not choice.is_own  # jedi could not start it
        self._problems_shown = len(self.navigator.problems)
        self.set_status(f"{self.navigator.problems[-1]}; using {label}" if refused
                        else f"names now resolve in {label}", error=refused)

    def open_lesson(self, name: str = "") -> None:
        """`:lesson [NAME]`: the bundled lesson model NAME (default collab), and the tree's
        lesson folder opened, wherever the project is."""
        target = lesson_file(self.lesson_dir, name)
        if target is None:
            self.set_status(f"no lesson model {name!r}: the lesson has "
                            f"{', '.join(p.stem for p in sorted(self.lesson_dir.glob('*.py')))}", error=True)
            return
        tree = self.query_one(ProjectTree)
        for node in tree.root.children:
            if node.data is not None and node.data.path == tree.lesson:
                node.expand()
        self.open_location(Location(target, 1, 0))

    async def _tag_by_name(self, name: str) -> None:
        origin = self.current_location()
        items = await in_thread(self._items_by_name, name)
        if not items or origin is None:
            self.set_status(f"E426: tag not found: {name}", error=True)
        elif len(items) == 1:
            self._jump_to_tag(name, origin, items[0])
        else:
            self.app.push_screen(PickerScreen(f"{len(items)} definitions of {name} (:tselect)", items),
                                 lambda item: item and (self.view.focus(), self._jump_to_tag(name, origin, item)))

    # ---- the editor and the clipboard ---------------------------------------------------------

    def action_edit(self) -> None:
        """`e` leaves the app, so it acts only on its own: not while keys typed before it wait
        their turn, nor when more keys come right behind it (a paste into the viewer)."""
        if self.current_location() is None:
            return
        view = self.view
        if view.keys_pending() or self.prompt_is_open():
            self._edit_refused()
            return
        seen = view.keys_seen
        self.set_timer(EDIT_SETTLE_S, lambda: self._edit() if view.keys_seen == seen and not view.keys_pending()
                       else self._edit_refused())

    def _edit_refused(self) -> None:
        self.set_status("e ignored: other keys came with it (a paste?); press e on its own to open the editor",
                        error=True)

    def _edit(self) -> None:
        here = self.current_location()
        if here is None:
            return
        line, column = here.line, here.column + 1
        if is_notebook(here.path):  # the joined view's line -> that cell's line in the .ipynb
            line, column = notebook_file_place(here.path, here.line, here.column)
        command = editor_command(editor_from_environment(), here.path, line, column)
        # Found before the terminal is handed over: Textual's suspend() takes the terminal back
        # only when its block ends without an error, so an editor that fails to start inside it
        # left a blank screen that answered no key.
        failed = None if shutil.which(command[0]) else "not found"
        if failed is None:
            try:
                with self.app.suspend():
                    try:
                        subprocess.run(command)
                    except OSError as error:  # found, but it would not run (not executable ...)
                        failed = error.strerror or str(error)
            except Exception as error:  # no terminal to hand over (tests, some consoles)
                self.app.notify(f"Can't hand the terminal to {command[0]}: {error}", severity="error")
                return
        if failed is not None:
            self.app.notify(f"Can't start the editor {command[0]!r} ({failed}): set $VISUAL or $EDITOR",
                            severity="error")
            return
        self._check_disk()

    def action_yank(self) -> None:
        here = self.current_location()
        if here is None:
            return
        reference = f"{here.path}:{here.line}"
        self.app.copy_to_clipboard(reference)  # OSC 52: reaches the local clipboard over SSH
        self.set_status(f"copied {reference}")

    def action_focus_tree(self) -> None:
        self.query_one(ProjectTree).focus()

    # ---- status line and breadcrumb -----------------------------------------------------------

    @on(CursorMoved)
    def _cursor_moved(self) -> None:
        self._show_status()

    def _show_status(self) -> None:
        view = self.view
        if view.path is None:
            self.set_status("no file open")
            return
        problems = self.navigator.problems
        if len(problems) > self._problems_shown:  # an environment skipped: said once, then the usual line
            self._problems_shown = len(problems)
            self.set_status(f"{problems[-1]}; using {self.navigator.environment_label}", error=True)
            return
        stub = "  [stub]" if view.path.suffix == ".pyi" else ""
        tags = f"  tags:{self.tags.depth}" if self.tags.depth else ""
        env = f"  {self.navigator.environment_label}"  # where names resolve (code/environment.py)
        self.set_status(f"{self.short(view.path)}:{view.cursor_line + 1}:{view.cursor_col + 1}{stub}{tags}{env}")
        crumbs = [fold.label for fold in view.folds.containing(view.cursor_line)]
        text = " › ".join([view.path.name, *crumbs])
        line = self.query_one("#code-crumbs", Static)
        if text != self._crumbs:  # one row, fixed size: no new layout of the screen (it costs ~15 ms)
            self._crumbs = text
            line.update(text, layout=False)

    def set_status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#code-status", Static)
        status.set_class(error, "error")
        status.update(text, layout=False)
