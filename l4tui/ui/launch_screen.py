"""The launch form: pick a recipe and its data, set the options, start a run (or lr_find first).

Fields are checked as they are typed, the reason shown beside the field; Start stays disabled
until the form is valid. The equivalent `l4tui train ...` command is shown below, to copy.
What the form knows about recipes and their options lives in l4tui.train.launch_form (no UI).
"""

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from l4tui.runs.events import EventReader
from l4tui.runs.progress import Progress
from l4tui.train import launch_form
from l4tui.ui.priority import in_launcher
from l4tui.ui.key_order import InOrderInput
from l4tui.ui.off_thread import gone, in_thread, sleep_here

LR_FIND_POLL_S = 0.3


class FieldRow(Horizontal):
    """label | input or choice | the reason it is wrong (empty when it is fine)."""

    def __init__(self, spec: launch_form.FieldSpec, value: str, choices: list[tuple[str, str]] | None) -> None:
        super().__init__(classes="field-row")
        self.spec, self.value, self.choices = spec, value, choices

    def compose(self) -> ComposeResult:
        yield Label(self.spec.label, classes="field-label")
        if self.choices is not None:
            values = [value for value, _ in self.choices]
            value = self.value if self.value in values else (values[0] if values else Select.BLANK)
            yield Select([(label, value) for value, label in self.choices], value=value, allow_blank=not values,
                         id=f"field-{self.spec.name}", classes="field-input", compact=True)
        else:
            yield InOrderInput(self.value, id=f"field-{self.spec.name}", classes="field-input", compact=True,
                        tooltip=self.spec.help)
        yield Static("", id=f"error-{self.spec.name}", classes="field-error", markup=False)

    def text(self) -> str:
        widget = self.query_one(".field-input")
        if isinstance(widget, Select):
            return "" if widget.value is Select.BLANK else str(widget.value)
        return widget.value


class LaunchScreen(ModalScreen):
    """Dismissed with (run_dir, remembered form) once a run starts, or None when cancelled."""

    DEFAULT_CSS = """
    LaunchScreen { align: center middle; }
    LaunchScreen #launch-box { width: 90; max-width: 100%; height: 90%;
                               max-height: 34; border: round $accent; background: $surface; padding: 0 1; }
    LaunchScreen #launch-title { text-style: bold; height: 1; }
    LaunchScreen #launch-fields { height: 1fr; }
    LaunchScreen #launch-data-info { height: auto; color: $text-muted; }
    LaunchScreen #launch-command { height: auto; color: $text; }
    LaunchScreen #launch-model-file { height: auto; color: $text-muted; }
    LaunchScreen #launch-status { height: auto; color: $text-muted; }
    LaunchScreen #launch-buttons { height: 1; margin-top: 1; }
    LaunchScreen #launch-buttons Button { min-width: 12; height: 1; border: none; margin-right: 1; }
    LaunchScreen .field-row { height: auto; min-height: 1; }
    LaunchScreen .field-label { width: 19; }
    LaunchScreen .field-input { width: 2fr; max-width: 40; }
    LaunchScreen .field-error { width: 1fr; height: auto; padding-left: 1; color: $error; }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="launch.cancel"),
        Binding("ctrl+s", "start", "Start", priority=True, id="launch.start", tooltip="Start the run (Enter in a field too)"),
        Binding("ctrl+l", "lr_find", "Find lr", priority=True, id="launch.lr_find",
                tooltip="Run lr_find and fill in its suggestion"),
    ]

    def __init__(self, runs_dir: Path, remembered: dict | None = None) -> None:
        super().__init__()
        self.runs_dir = Path(runs_dir)
        self.remembered = remembered or {}  # {"family": ..., "texts": {field: text}} from the last start
        self.family = self.remembered.get("family", "collab")
        self.data_items: int | None = None
        self.valid = False
        self.config: dict = {}
        self._finding = False

    def compose(self) -> ComposeResult:
        with Vertical(id="launch-box"):
            yield Static("New training run", id="launch-title")
            with VerticalScroll(id="launch-fields"):
                with Horizontal(classes="field-row"):
                    yield Label("recipe", classes="field-label")
                    yield Select([(label, family) for family, label in launch_form.RECIPES_SHOWN],
                                 value=self.family, allow_blank=False, id="field-family", classes="field-input",
                                 compact=True)
                    yield Static("", classes="field-error")
            yield Static("", id="launch-data-info", markup=False)
            yield Static("", id="launch-command", markup=False)
            yield Static("", id="launch-model-file", markup=False)
            yield Static("", id="launch-status", markup=False)
            with Horizontal(id="launch-buttons"):
                yield Button("Start ^S", id="launch-start", variant="primary", disabled=True)
                yield Button("Find lr ^L", id="launch-lr-find")
                yield Button("Cancel Esc", id="launch-cancel")

    async def on_mount(self) -> None:
        await self._build_fields()
        self.query_one("#field-family", Select).focus()  # Tab goes on through the fields

    # ---- the fields ---------------------------------------------------------------------

    async def _build_fields(self) -> None:
        container = self.query_one("#launch-fields")
        await container.query(FieldRow).remove()
        texts = self.remembered.get("texts", {}) if self.remembered.get("family") == self.family else {}
        rows = []
        for spec in launch_form.fields_for(self.family):
            choices = spec.choices
            if spec.name == "data":
                choices = launch_form.datasets_for(self.family)
            elif spec.name == "encoder":  # the newest fine-tuned LM first, as the lesson goes on from it
                choices = launch_form.encoder_runs(self.runs_dir) + [("", "none: random weights, own vocab")]
            elif spec.name == "pretrained":  # wt103 when downloaded, the LM runs, none
                choices = launch_form.pretrained_choices(self.runs_dir)
            value = texts.get(spec.name, spec.default)
            if spec.name == "encoder" and spec.name not in texts:
                value = choices[0][0]  # the newest fine-tuned LM (or none, when there is none)
            rows.append(FieldRow(spec, value, choices))
        await container.mount_all(rows)
        self.count_data()
        self.validate()

    def texts(self) -> dict[str, str]:
        return {row.spec.name: row.text() for row in self.query(FieldRow)}

    @on(Select.Changed, "#field-family")
    async def _family_changed(self, event: Select.Changed) -> None:
        if event.value != self.family and event.value is not Select.BLANK:
            self.family = str(event.value)
            self.data_items = None
            await self._build_fields()

    @on(Input.Changed)
    def _typed(self) -> None:
        self.validate()

    @on(Select.Changed)
    def _chosen(self, event: Select.Changed) -> None:
        if event.select.id == "field-data":
            self.data_items = None
            self.count_data()
        if event.select.id != "field-family":
            self.validate()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_start()

    @work(exclusive=True, group="count-data")
    async def count_data(self) -> None:
        """How many training items the chosen data gives, for the batch-size check (read in a thread)."""
        texts = self.texts()
        data = texts.get("data")
        if not data:
            return
        info = self.query_one("#launch-data-info", Static)
        info.update(f"data: counting {data} ...")
        count = await in_thread(launch_form.count_training_items, self.family, data)
        if self.texts().get("data") != data:
            return  # the choice changed meanwhile
        self.data_items = count
        info.update(f"data: {data} · {count:,} training items" if count is not None else f"data: {data}")
        self.validate()

    def validate(self) -> bool:
        texts = self.texts()
        config, errors = launch_form.validate_form(self.family, texts, self.data_items, runs_dir=self.runs_dir)
        for row in self.query(FieldRow):
            self.query_one(f"#error-{row.spec.name}", Static).update(errors.get(row.spec.name, ""))
            row.set_class(row.spec.name in errors, "invalid")
        self.valid, self.config = not errors, config
        self.query_one("#launch-start", Button).disabled = not self.valid or self._finding
        command = launch_form.command_line(self.family, config) if self.valid else "(fix the fields marked)"
        self.query_one("#launch-command", Static).update(f"$ {command}")
        self.query_one("#launch-model-file", Static).update(self.model_file_line())
        if not self._finding:
            self.query_one("#launch-status", Static).update(errors.get("form", ""))
        return self.valid

    def model_file_line(self) -> str:
        """Which model file the run will import: the workspace's own, or l4tui's bundled one."""
        from l4tui.inspect.catalog import lesson_entry, source_file
        from l4tui.modelfiles import describe_file, is_bundled

        try:
            path = source_file(lesson_entry(self.family), getattr(self.app, "workspace", None))
        except (FileNotFoundError, StopIteration):
            return "the model file is missing"
        whose = "" if is_bundled(path) else " (the workspace's own; tried in a separate process first)"
        return f"the run imports {describe_file(path)}{whose}"

    # ---- the buttons --------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        {"launch-start": self.action_start, "launch-lr-find": self.action_lr_find,
         "launch-cancel": self.action_cancel}[event.button.id]()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="launch")
    async def action_start(self) -> None:
        from l4tui.train.launcher import start_run

        if not self.validate() or self._finding:
            self.notify("Fix the fields marked first", severity="warning")
            return
        try:
            run_dir = await in_launcher(self.app.launcher, start_run, self.family, self.config, self.runs_dir)
        except (ValueError, OSError) as error:
            self.query_one("#launch-status", Static).update(f"could not start: {error}")
            return
        self.dismiss((run_dir, {"family": self.family, "texts": self.texts()}))

    @work(exclusive=True, group="lr-find")
    async def action_lr_find(self) -> None:
        """Run fastai's range test with the form's settings, then fill in the suggested lr."""
        from l4tui.train.launcher import start_run

        self.validate()
        # The lr field may be empty or wrong: finding it is the point. The rest must be right.
        config, problems = launch_form.validate_form(self.family, {**self.texts(), "lr": "0.01"}, self.data_items,
                                                     runs_dir=self.runs_dir)
        if problems:
            self.notify("Fix the fields marked first (lr_find needs the rest of the form)", severity="warning")
            return
        status = self.query_one("#launch-status", Static)
        try:
            run_dir = await in_launcher(self.app.launcher, start_run, self.family, config, self.runs_dir,
                                        "lr_find")
        except (ValueError, OSError) as error:
            status.update(f"lr_find could not start: {error}")
            return
        self._finding = True
        self.query_one("#launch-start", Button).disabled = True
        reader, progress = EventReader(run_dir), Progress()
        died = False
        try:
            while progress.end is None and not died:
                progress.update(await in_thread(reader.read_new))
                status.update(f"lr_find {run_dir.name}: step {progress.iteration}/{progress.total_iters or '?'}")
                if progress.end is None:
                    from l4tui.runs.store import read_run

                    died = (await in_thread(read_run, run_dir)).state == "died"
                    if not died:
                        await sleep_here(LR_FIND_POLL_S)
        finally:
            self._finding = False
            if not gone(self):  # Esc, or the app quit, during lr_find: the fields are going
                self.validate()  # (it rewrites the status line: the outcome is said after it)
        if died:
            status.update("lr_find died: see its run in the list")
            return
        suggested = progress.suggested_lr
        if progress.end.get("state") != "finished" or not suggested:
            status.update(f"lr_find ended {progress.end.get('state')}: {progress.end.get('error', 'no suggestion')}")
            return
        self.query_one("#field-lr", Input).value = f"{suggested:.2g}"
        status.update(f"lr_find suggests {suggested:.2g} (filled in; its curve is run {run_dir.name})")
