"""The guided tour (F6, `l4tui tour`): lesson 4 a step at a time, across the three panes.

Each step opens its place first (a line of a lesson model in the Code pane, a lesson screen or a
tiny run in the Data & training pane, a model and a tab in the Model pane), then shows its card
over it: the step's text, and the keys that do it without the tour. The steps are data
(`l4tui/tour/steps.toml`, read by `l4tui.tour.steps`); where the user stopped is kept there too.
"""

import asyncio
import re
import time
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from l4tui.modelfiles import is_bundled
from l4tui.tour.steps import TINY_RUN, Step, load_steps, read_position, save_position
from l4tui.ui.key_names import one_key_text
from l4tui.ui.off_thread import in_thread, sleep_here

TAB_IDS = {"layers": "tab-layers", "params": "tab-params", "acts": "tab-acts", "results": "tab-results",
           "training": "tab-training", "interpret": "tab-interpret", "generate": "tab-generate"}
SCREEN_ACTIONS = {"text": "text_steps", "tabular": "tabular_steps", "spreadsheet": "spreadsheet",
                  "embeddings": "embeddings"}  # the Data pane's action for each lesson screen
MODEL_WAIT_S = 600.0  # the lesson-size LM takes a while to build on a slow machine
KEY_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.]+)\}")


def binding_keys() -> dict[str, str]:
    """Binding id -> its declared keys (imports every screen: after the first frame only)."""
    from textual.binding import Binding as TextualBinding

    from l4tui.ui.bindings import declared_bindings

    return {binding.id: binding.key for _, binding in declared_bindings()
            if isinstance(binding, TextualBinding) and binding.id}


def unknown_key(steps: list[Step], known: set[str], where: str) -> str | None:
    """One line naming the first `{binding.id}` of a step's `try` that is no binding, or None."""
    for number, step in enumerate(steps, 1):
        for name in KEY_PLACEHOLDER.findall(step.try_keys):
            if name not in known:
                return (f"{where}: step {number} ({step.id}): try names {{{name}}}, which is no key's id "
                        "(? shows each key's id after it, dimmed)")
    return None


class Tour:
    """The tour under way in an app: its steps, the step shown, and what each one opens."""

    def __init__(self, app, steps: list[Step], path: Path | None = None) -> None:
        self.app = app
        self.steps = steps
        self.path = path  # None: the shipped steps
        self.index = read_position(steps, path)
        self.note = ""  # what the step's opening said (a run started, a tab that needs a checkpoint)
        self.model_ready = asyncio.Event()  # set once a model step's model is built and its tab shown
        self._keys: dict[str, str] | None = None

    @property
    def step(self) -> Step:
        return self.steps[self.index]

    def go(self, index: int) -> None:
        """Show step `index` (clamped): its place, then its card. One at a time: a key pressed
        meanwhile replaces the step being opened."""
        self.app.run_worker(self.show(index), group="tour", exclusive=True)

    async def show(self, index: int) -> None:
        app = self.app
        self.index = max(0, min(index, len(self.steps) - 1))
        problem = save_position(self.steps, self.index, self.path)
        while len(app.screen_stack) > 1:  # the last card and what its step opened
            await app.pop_screen()
        self.note = problem or ""
        self.model_ready.clear()
        await self.open(self.step)
        await app.push_screen(TourCard(self))

    # ---- opening a step's place ----------------------------------------------------------

    async def open(self, step: Step) -> None:
        app = self.app
        await app.action_show_pane(step.pane)
        if step.pane == "code":
            from l4tui.code.location import Location
            from l4tui.ui.code_pane import CodePane

            app.query_one(CodePane).open_location(Location(step.path, step.line, 0))
        elif step.pane == "data":
            pane = app.query_one("#data-pane")
            if step.run:
                await self.open_run(pane, step.run)
            if step.screen:
                getattr(pane, f"action_{SCREEN_ACTIONS[step.screen]}")()
        else:
            app.run_worker(self.open_model(step), group="tour-model", exclusive=True)

    async def open_run(self, pane, family: str) -> None:
        """Watch the newest run of `family`; with none in the runs folder, start a tiny one."""
        from l4tui.runs.store import list_runs

        runs = await in_thread(list_runs, self.app.runs_dir)
        mine = [run for run in runs if run.family == family and run.mode == "train"]
        if mine:
            pane.watch_run(mine[0].run_dir)
            await self.put_cursor_on(pane, mine[0].id)  # the screens of pane 2 read the run under the cursor
            self.note = f"Watching {mine[0].id} ({mine[0].state}), the newest {family} run."
            return
        pane.start_training(family, dict(TINY_RUN))
        epochs = TINY_RUN["epochs"]
        # The pane says it in a notification when the run cannot start (a read-only runs folder ...).
        self.note = (f"Starting a tiny {family} run ({epochs} epoch{'s' * (epochs != 1)}) in a process of its own: "
                     "it shows in the runs list.")

    async def put_cursor_on(self, pane, run_id: str, wait_s: float = 10.0) -> None:
        """The runs list's cursor on `run_id`, once the list shows it (it is read in a worker)."""
        from l4tui.ui.tables import DataTable

        deadline = time.monotonic() + wait_s
        while run_id not in pane._row_keys:
            if time.monotonic() > deadline:
                return
            await sleep_here(0.05)
        pane.query_one("#runs-table", DataTable).move_cursor(row=pane._row_keys.index(run_id), animate=False)

    async def open_model(self, step: Step) -> None:
        """Choose the step's model in the Model pane (built in the pane's worker), then its tab;
        `model_ready` says when that is done (or given up)."""
        try:
            await self._open_model(step)
        finally:
            self.model_ready.set()

    async def _open_model(self, step: Step) -> None:
        from textual.widgets import OptionList, TabbedContent

        from l4tui.ui.model_pane import ModelPane

        pane = self.app.query_one(ModelPane)
        deadline = time.monotonic() + MODEL_WAIT_S
        while not (pane.loaded and pane.entries):
            if time.monotonic() > deadline:
                return
            await sleep_here(0.05)
        names = [entry.name for entry in pane.entries]
        if step.model not in names:
            return
        entry = pane.entries[names.index(step.model)]
        path = pane.source_of(entry)
        if path is None or not is_bundled(path):  # the workspace's own file: built only on the user's Enter
            where = path.name if path is not None else f"{entry.file}.py"
            self.note = (f"{step.model} comes from your models/{where} here, not the lesson's: the tour does not run "
                         "your code. Enter on it in the model list builds it.")
            self.show_note()
            return
        if pane.current is None or pane.current.name != step.model:
            pane.query_one("#model-list", OptionList).highlighted = names.index(step.model)
            pane.choose(pane.entries[names.index(step.model)])
        while pane.subject is None or pane.subject.name != step.model:
            if time.monotonic() > deadline or (pane.current is not None and pane.current.name != step.model):
                return  # the user chose another model meanwhile
            await sleep_here(0.05)
        if step.layer:
            self.select_layer(pane, step.layer)
        tabs = pane.query_one("#model-tabs", TabbedContent)
        tab_id = TAB_IDS[step.tab]
        if tabs.get_tab(tab_id).display:
            tabs.active = tab_id
        else:
            self.note = f"The {self.tab_title(step.tab)} tab needs a trained run's checkpoint: train one, then pick it under weights."
            self.show_note()

    def select_layer(self, pane, layer: str) -> None:
        """The Layers tab's cursor on `layer` (the Parameters tab follows it), or a note saying it is not there."""
        from l4tui.ui.tables import DataTable

        from l4tui.ui.model_layers import LayersTab

        names = getattr(pane.query_one(LayersTab), "names", [])
        table = pane.query_one("#model-table", DataTable)
        try:
            table.move_cursor(row=table.get_row_index(str(names.index(layer))), animate=False)
        except (ValueError, LookupError):
            self.note = f"No layer {layer!r} in this model: the step's layer names none of its modules."
            self.show_note()

    def show_note(self) -> None:
        """The card shows the note written since it came up."""
        if isinstance(self.app.screen, TourCard):
            self.app.screen.show_note()

    def tab_title(self, tab: str) -> str:
        """A Model pane tab's title, as its tab shows it."""
        try:
            from textual.widgets import TabbedContent

            return str(self.app.query_one("#model-tabs", TabbedContent).get_tab(TAB_IDS[tab]).label)
        except Exception:  # noqa: BLE001 - the pane not built yet: its id will do
            return tab

    def where(self, step: Step) -> str:
        if step.pane == "model":
            return f"Model: {step.model}, {self.tab_title(step.tab)} tab" + (f", {step.layer}" if step.layer else "")
        return step.where()

    # ---- the keys the card names ------------------------------------------------------------

    def key(self, binding_id: str) -> str:
        """The key of a binding, as the user's keymap has it (its first key, when it has several)."""
        if self._keys is None:
            self._keys = binding_keys()
        keys = self.app.keymap.keys.get(binding_id) or self._keys.get(binding_id)
        return one_key_text(keys.split(",")[0].strip()) if keys else f"{{{binding_id}}}"

    def fill_keys(self, text: str) -> str:
        return KEY_PLACEHOLDER.sub(lambda match: self.key(match.group(1)), text)


class TourCard(Screen):
    """One step's card, at the bottom, over the place the step opened. A screen of its own, with
    no background: what the step opened shows above it. Not a modal one, so that the app's keys
    (`?`, `1` `2` `3`, `Ctrl-C`) work with the card up."""

    DEFAULT_CSS = """
    TourCard { align: center bottom; background: $background 0%; }
    TourCard #tour-card { width: 100%; max-width: 100; height: auto; max-height: 16;
                          border: round $accent; background: $surface; padding: 0 1; }
    TourCard #tour-title { text-style: bold; color: $accent; }
    TourCard #tour-try { color: $text-success; }
    TourCard #tour-note { color: $text-warning; display: none; }
    TourCard #tour-note.shown { display: block; }
    """
    BINDINGS = [
        Binding("right,n,enter", "next", "Next", id="tour.next", tooltip="The next step of the tour"),
        Binding("left,b", "back", "Back", id="tour.back", tooltip="The step before"),
        Binding("escape,q", "leave", "Leave", id="tour.leave",
                tooltip="Close the card and try it yourself; the tour key comes back to this step"),
        Binding("r", "restart", "Start over", id="tour.restart", tooltip="Go back to the tour's first step"),
    ]

    def __init__(self, tour: Tour) -> None:
        super().__init__()
        self.tour = tour
        self.index = tour.index  # its own step: a key typed while the next card replaces it counts from here

    def compose(self) -> ComposeResult:
        tour, step = self.tour, self.tour.step
        with Vertical(id="tour-card"):
            yield Static(f"Tour {tour.index + 1}/{len(tour.steps)} · {step.title} · {tour.where(step)}",
                         id="tour-title", markup=False)
            yield Static(step.text, id="tour-text", markup=False)
            if step.try_keys:
                yield Static("Try it: " + tour.fill_keys(step.try_keys), id="tour-try", markup=False)
            yield Static("", id="tour-note", markup=False)
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.show_note()

    def show_note(self) -> None:
        note = self.tour.note
        if self.index == len(self.tour.steps) - 1:
            note = (note + " " if note else "") + "This is the last step: r starts over."
        widget = self.query_one("#tour-note", Static)
        widget.update(note)
        widget.set_class(bool(note), "shown")

    def action_next(self) -> None:
        if self.index < len(self.tour.steps) - 1:
            self.tour.go(self.index + 1)

    def action_back(self) -> None:
        if self.index > 0:
            self.tour.go(self.index - 1)

    def action_restart(self) -> None:
        self.tour.go(0)

    def action_leave(self) -> None:
        if self.app.screen is self:
            self.app.pop_screen()
        self.app.notify(f"Left the tour at step {self.tour.index + 1}: {self.tour.key('app.tour')} comes back here",
                        timeout=4)


def open_tour(app, steps_path: Path | None = None, restart: bool = False) -> None:
    """Start the tour, or come back to it at the step it was left at (F6)."""
    from l4tui.tour.steps import StepsError

    tour: Tour | None = getattr(app, "tour", None)
    if isinstance(app.screen, TourCard):
        return
    if tour is None or tour.path != steps_path:
        try:
            steps = load_steps(steps_path)
        except StepsError as error:
            app.notify(str(error), title="Tour", severity="error", markup=False, timeout=15)
            return
        problem = unknown_key(steps, set(binding_keys()), str(steps_path or "the shipped steps"))
        if problem:
            app.notify(problem, title="Tour", severity="error", markup=False, timeout=15)
            return
        tour = app.tour = Tour(app, steps, steps_path)
    tour.go(0 if restart else tour.index)
