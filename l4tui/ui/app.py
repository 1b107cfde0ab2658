"""The l4tui app: three panes (Code, Data & training, Model) switched with 1 2 3 or F1 F2 F3.

Start-up imports textual, the Code pane and our own light modules only: the first frame shows the
Code pane. The Data & training and Model panes (numpy, plotext, their many widgets) are imported by
a thread once the first frame is drawn, then built, hidden (or at once, when 2 or 3 asks for one
first); torch, pandas and jedi are imported by workers after the first frame too (docs/startup.md).
"""

import asyncio
import gc
import importlib
import os
import sys
import threading
from concurrent.futures import CancelledError
from pathlib import Path

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, TabbedContent, TabPane

from l4tui import __version__
from l4tui.keymap import Keymap, config_path, drop_unknown_ids, read_keymap
from l4tui.paths import runs_dir as default_runs_dir
from l4tui.paths import workspace_root
from l4tui.ui.code_pane import CodePane
from l4tui.ui.key_names import is_key
from l4tui.ui.key_order import is_typing
from l4tui.ui.off_thread import lost_to_the_teardown
from l4tui.ui.priority import lower_this_thread, make_launcher

UI_SWITCH_INTERVAL_S = 0.001
# After the app has closed, the process gets this long to end by itself. A thread still busy
# (a user's model file that never finishes importing, jedi on a huge file) would otherwise keep
# it alive: asyncio and Python's exit wait for every worker thread.
EXIT_GRACE_S = 0.5
PANES = {"code": "#code-view", "data": "#runs-table", "model": "#model-list"}  # pane -> what gets focus
FOOTER_ROOMY_FROM = 80  # columns: narrower, the footer drops the spaces around its keys
PANE_TITLES = {"code": "Code", "data": "Data & training", "model": "Model"}
# The panes built the first time they are shown: pane -> (module, class). Their modules pull in
# numpy and plotext, and their widgets take a while to compose: neither is needed for the first frame.
LATER_PANES = {"data": ("l4tui.ui.data_pane", "DataPane"), "model": ("l4tui.ui.model_pane", "ModelPane")}


def pane_class(pane: str) -> type:
    module, name = LATER_PANES[pane]
    return getattr(importlib.import_module(module), name)


def import_later_panes(app: "L4App") -> None:
    """In a thread after the first frame: import the panes' modules, then have the UI thread build
    the panes, hidden, one at a time, so that the first 2 or 3 only shows what is there. A switch
    meanwhile waits for the import or build under way. The Code pane's long background work (jedi,
    the index) starts after this: alongside it, the builds took half a second more."""
    try:
        for pane in LATER_PANES:
            pane_class(pane)
        app.call_from_thread(app.build_later_panes)
    except (RuntimeError, CancelledError):  # the app closed meanwhile
        return
    except Exception:  # noqa: BLE001 - a pane that fails to import says so when shown (build_pane)
        pass
    try:
        app.call_from_thread(lambda: app.query_one(CodePane).start_background())
    except Exception:  # noqa: BLE001 - the app closed meanwhile
        pass


class Panes(TabbedContent):
    """The three panes. Focusing a widget in a hidden pane shows that pane (Textual's way, so a
    jump can land anywhere); but a focus that arrives after the user has already moved on (1 3
    typed in a burst) must not pull the old pane back, or two panes take turns for ever."""

    def _on_tab_pane_focused(self, event: TabPane.Focused) -> None:
        # Textual runs TabbedContent's own handler after this one unless prevent_default().
        focused = self.screen.focused
        if focused is None or event.tab_pane not in focused.ancestors_with_self:
            event.stop()  # stale: the focus has moved on since
            event.prevent_default()


class L4App(App):
    TITLE = "l4tui"
    SUB_TITLE = f"fast.ai lesson 4 · v{__version__}"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute, so subclasses elsewhere find it too
    # Ctrl-P finds a file in the Code pane, as in VS Code and ctrlp.vim; the command palette
    # (themes, screenshots) moves to Ctrl-K, where Slack, GitHub and Linear keep theirs.
    COMMAND_PALETTE_BINDING = "ctrl+k"
    # The footer shows a pane's own keys first, then these: ? and q. 1 2 3 are left out of it, as
    # the tab bar above shows them ("1 Code  2 Data & training  3 Model"); ? lists them.
    BINDINGS = [
        Binding("1,f1", "show_pane('code')", "Code", show=False, id="app.pane_code", tooltip="Show the Code pane"),
        Binding("2,f2", "show_pane('data')", "Data", show=False, id="app.pane_data",
                tooltip="Show the Data & training pane"),
        Binding("3,f3", "show_pane('model')", "Model", show=False, id="app.pane_model",
                tooltip="Show the Model pane"),
        # Not in the footer (no room at 80 columns): offered once instead (offer_tour), and in ? and the README.
        Binding("f6", "tour", "Tour", show=False, id="app.tour",
                tooltip="The lesson as a guided tour, step by step across the panes (again: back where you left it)"),
        Binding("question_mark", "help", "Help", id="app.help", tooltip="Show every key"),
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Quit (runs keep training)"),
        # Ctrl-C quits too, as users reflexively expect over SSH (Textual's default only says how
        # to quit); where a text box is focused, it copies the selection first. An action of its
        # own: q's is off while a text field is typed into, Ctrl-C's never.
        Binding("ctrl+c", "quit_anyway", "Quit", show=False, id="app.quit_ctrl_c",
                tooltip="Quit (runs keep training)"),
    ]
    # Bound to keys that type a character: off (and out of the footer) while a text field has the focus.
    TYPED_ACTIONS = {"show_pane", "help", "quit"}

    def __init__(self, runs_dir: Path | None = None, workspace: Path | None = None,
                 open_at=None, config: Path | None = None, python: str | None = None,
                 tour: dict | None = None) -> None:
        super().__init__()
        # The user's keys (config.toml's [keymap]) apply from the first key typed. Its ids are
        # checked once the first frame is drawn: that needs every screen's module imported.
        self.keymap: Keymap = read_keymap(config or config_path(), is_key)
        self.set_keymap(self.keymap.keys)
        self.open_at = open_at  # a Location to open first (`l4tui PATH:LINE`)
        self.runs_dir = Path(runs_dir or default_runs_dir())
        self.workspace = Path(workspace or workspace_root())
        self.python = python  # `--python PATH`: the environment names resolve in (code/environment.py)
        self.was_ready = False  # the first frame was drawn: a stopped app after that is closing
        # Runs are started from this thread, made before the app lowers its own priority (on
        # mount): they train at the normal priority while the UI gives way to them (priority.py).
        self.launcher = make_launcher()
        self._pane_builds: dict[str, asyncio.Future] = {}  # pane -> its build (build_pane)
        # `l4tui tour`: {"steps": a steps file or None, "restart": bool}, opened after the first frame.
        self.tour_request = tour
        self.tour = None  # the tour under way (tour_screen.Tour), once opened

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        return not (action in self.TYPED_ACTIONS and is_typing(self.screen))

    async def action_quit_anyway(self) -> None:
        await self.action_quit()

    def on_mount(self) -> None:
        if not self.is_headless:  # tests drive the app in their own main thread: leave it be
            lower_this_thread()
        # Background threads (jedi, highlighting, the index) hand the GIL back to the UI thread
        # after 1 ms instead of Python's 5: a key press waits less behind their work.
        sys.setswitchinterval(UI_SWITCH_INTERVAL_S)

    def on_unmount(self) -> None:
        self.launcher.shutdown(wait=False)
        if not self.is_headless:  # never in tests: they share the process with the test runner
            threading.Thread(target=self._end_process_if_stuck, daemon=True, name="l4tui-exit").start()

    def _end_process_if_stuck(self) -> None:
        """`q` always ends the process: if a worker thread still holds it after the grace, end it."""
        threading.Event().wait(EXIT_GRACE_S)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(self.return_code or 0)

    def compose(self) -> ComposeResult:
        with Panes(initial="code", id="panes"):
            with TabPane(f"1 {PANE_TITLES['code']}", id="code"):
                yield CodePane(self.workspace, open_at=self.open_at, python=self.python, id="code-pane")
            # Empty until first shown (build_pane).
            yield TabPane(f"2 {PANE_TITLES['data']}", id="data")
            yield TabPane(f"3 {PANE_TITLES['model']}", id="model")
        # Ctrl-K still opens the palette; the room goes to our keys. Without 1 2 3 a pane's main keys
        # and ? q fit whole in 80 columns (docs/layout.md); narrower, the footer goes compact.
        yield Footer(show_command_palette=False)

    def on_resize(self, event) -> None:
        for footer in self.query(Footer):
            footer.compact = event.size.width < FOOTER_ROOMY_FROM

    def _handle_exception(self, error: Exception) -> None:
        """Textual's hook for an error no handler caught (private, pinned with Textual): each one
        still fails the app, except a widget's look-up of a child that the closing app has already
        removed. Quitting (`q` while the panes are still being built, a worker still running)
        tears the panes down children first, so a mount handler or a worker of a parent can run
        with its children gone; the user asked to quit, and a traceback and exit status 1 would
        say that something broke."""
        if self.was_ready and not self.is_running and lost_to_the_teardown(error):
            self.log.warning("left alone while closing:", repr(error))
            return
        super()._handle_exception(error)

    def on_ready(self) -> None:
        self.was_ready = True
        if not gc.isenabled() and not self.is_headless:  # held off for the first frame (cli.launch_app)
            gc.freeze()  # what start-up made lives as long as the app: later collections need not walk it
            gc.enable()
        # Slow work (files, pandas, jedi) starts only after the first frame is drawn.
        self.query_one(CodePane).start(background=False)  # its jedi and index: import_later_panes
        threading.Thread(target=import_later_panes, args=(self,), daemon=True, name="l4tui-import-panes").start()
        self.check_keymap()
        if self.tour_request is not None:
            self.call_later(self.open_tour, self.tour_request.get("steps"), self.tour_request.get("restart", False))
        elif not self.is_headless:  # tests and screenshots: no state written, no toast
            self.offer_tour()

    def offer_tour(self) -> None:
        """The first time the app opens for this user, say that F6 walks the lesson (it is not in
        the footer, which has no room for it at 80 columns)."""
        from l4tui.tour.steps import first_visit

        if first_visit():
            self.notify("New to lesson 4? F6 walks it step by step across the three panes (also: l4tui tour).",
                        title="The guided tour", timeout=12)

    async def build_later_panes(self) -> None:
        for pane in LATER_PANES:
            if not self.is_running:
                return
            await self.build_pane(pane)
            await asyncio.sleep(0)  # keys typed meanwhile go first

    async def build_pane(self, pane: str):
        """The pane's widget, built (imported, mounted and started) the first time it is asked for."""
        if pane not in LATER_PANES:
            return self.query_one(f"#{pane}-pane")
        if pane not in self._pane_builds:  # one build, however many keys and clicks ask for it meanwhile
            self._pane_builds[pane] = asyncio.ensure_future(self._build(pane))
        return await asyncio.shield(self._pane_builds[pane])

    async def _build(self, pane: str):
        cls = pane_class(pane)
        if pane == "data":
            widget = cls(self.runs_dir, id="data-pane")
        else:
            widget = cls(self.workspace, self.runs_dir, id="model-pane")
        await self.query_one(f"#panes #{pane}", TabPane).mount(widget)
        if pane == "data":
            widget.start()
        return widget

    def check_keymap(self) -> None:
        """Drop the keymap's entries that name no binding, and say what was wrong with it."""
        if self.keymap.keys:
            from l4tui.ui.bindings import binding_ids  # imports every screen: not before the first frame

            self.keymap = drop_unknown_ids(self.keymap, binding_ids())
            self.set_keymap(self.keymap.keys)
        if self.keymap.problems:
            self.notify("\n".join(self.keymap.problems), title="config.toml", severity="warning", timeout=20,
                        markup=False)

    async def action_show_pane(self, pane: str) -> None:
        await self.build_pane(pane)
        self.query_one("#panes", TabbedContent).active = pane
        # Focus now, not when TabActivated arrives: the keys typed right behind 1 2 3 (replayed
        # by the Code pane after a file opened, say) must go to the pane they were typed for.
        self.focus_pane(pane)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.tabbed_content.id != "panes":
            return  # the Model pane's own tabs
        pane = event.pane.id
        if event.tabbed_content.active != pane:
            return  # stale: another pane was shown since
        if pane in LATER_PANES and not event.pane.children:  # a tab clicked with the mouse: not built yet
            self.call_later(self._build_and_show, pane)
            return
        self._pane_shown(pane)

    async def _build_and_show(self, pane: str) -> None:
        await self.build_pane(pane)
        if self.query_one("#panes", TabbedContent).active == pane:
            self._pane_shown(pane)

    def _pane_shown(self, pane: str) -> None:
        if pane == "model":
            self.query_one("#model-pane").ensure_loaded()
        self.focus_pane(pane)

    def focus_pane(self, pane: str) -> None:
        """Focus the pane's main widget on the panes' own screen: a screen pushed over them meanwhile
        (the tour's card) keeps its focus and its keys."""
        widget = self.query_one(PANES[pane])
        widget.screen.set_focus(widget)

    def action_tour(self) -> None:
        steps = self.tour_request.get("steps") if self.tour_request else None
        self.open_tour(steps)

    def open_tour(self, steps: Path | None = None, restart: bool = False) -> None:
        from l4tui.ui.tour_screen import open_tour  # not before the first frame

        self.clear_notifications()  # the offer of the tour, taken: it would lie over the card
        open_tour(self, steps, restart)

    async def on_open_code(self, event) -> None:
        """ui/messages.py's OpenCode (gd on a layer in the Model pane): the place, in the Code pane."""
        from l4tui.code.location import Location

        await self.action_show_pane("code")
        self.query_one(CodePane).open_location(Location(Path(event.path), event.line, 0))

    def action_help(self) -> None:
        """The keys that work here and now (help_screen.py reads them from the live bindings)."""
        from l4tui.ui.help_screen import THIS_SCREEN, HelpScreen, help_sections  # not before the first frame

        here = THIS_SCREEN
        if self.screen is self.screen_stack[0]:  # the panes, not a screen pushed over them
            here = f"This pane ({PANE_TITLES[self.query_one('#panes', TabbedContent).active]})"
        self.push_screen(HelpScreen(help_sections(self.screen, here)))


def run_app(app: L4App) -> int:
    """Run the app in this terminal; its exit status: non-zero when it crashed, 130 on Ctrl-C."""
    try:
        app.run()
    except KeyboardInterrupt:  # a SIGINT that reached us outside the app's raw mode
        return 130
    return app.return_code or 0
