"""The Model pane: the models of the workspace, and the chosen one's layer table.

The table is the one `l4tui summary` prints: each module's type, output shape from a real
forward pass on an example batch, parameter count and whether it trains. Building a model
imports its file (and torch) in a worker, only when the user picks it.
"""

import asyncio

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from l4tui.inspect.catalog import ModelEntry, Sizes, all_models, build_model
from l4tui.inspect.summary import layer_label, summarize, trainable_text

DEFAULT_MODEL = "collab"


class ModelPane(Vertical):
    BINDINGS = [
        Binding("r", "reload", "Rebuild", id="model.rebuild",
                tooltip="Build the chosen model again (after editing its file in models/)"),
        Binding("p", "toggle_preset", "Preset", id="model.preset",
                tooltip="Switch between the lesson's sizes and the small preset"),
    ]

    def __init__(self, workspace, **kwargs) -> None:
        super().__init__(**kwargs)
        self.workspace = workspace
        self.loaded = False
        self.entries: list[ModelEntry] = []
        self.current: ModelEntry | None = None
        self.sizes = Sizes()
        self.summary = None

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield OptionList(id="model-list")
            with Vertical(id="model-main"):
                yield Static("", id="model-title", markup=False)
                yield DataTable(id="model-table", cursor_type="row", zebra_stripes=True)
                yield Static("", id="model-totals", markup=False)

    def on_mount(self) -> None:
        table = self.query_one("#model-table", DataTable)
        table.add_column("Layer (type)", key="layer")
        table.add_column("Output shape", key="shape")
        table.add_column("Params", key="params")
        table.add_column("Trains", key="trains")

    def ensure_loaded(self) -> None:
        """Called when the pane is shown: list the models (again: files may have been added)."""
        self.refresh_list()
        if not self.loaded:
            self.loaded = True
            names = [e.name for e in self.entries]
            self.query_one("#model-list", OptionList).highlighted = names.index(DEFAULT_MODEL)
            self.build(self.entries[names.index(DEFAULT_MODEL)])

    def refresh_list(self) -> None:
        entries = all_models(self.workspace)
        if [e.name for e in entries] == [e.name for e in self.entries]:
            return
        self.entries = entries
        options = self.query_one("#model-list", OptionList)
        options.clear_options()
        options.add_options([Option(entry.name, id=entry.name) for entry in entries])
        if self.current is not None and self.current.name in [e.name for e in entries]:
            options.highlighted = [e.name for e in entries].index(self.current.name)

    @on(OptionList.OptionSelected, "#model-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.build(next(e for e in self.entries if e.name == event.option.id))

    def action_reload(self) -> None:
        if self.current is not None:
            self.build(self.current)

    def action_toggle_preset(self) -> None:
        self.sizes = Sizes(preset="small" if self.sizes.preset == "lesson" else "lesson")
        self.action_reload()

    @work(exclusive=True, group="build-model")
    async def build(self, entry: ModelEntry) -> None:
        self.current = entry
        title = self.query_one("#model-title", Static)
        totals = self.query_one("#model-totals", Static)
        title.update(f"{entry.title} · {self.sizes.preset} sizes · building ...")
        try:
            self.summary = await asyncio.to_thread(self._summarize, entry, self.sizes)
        except Exception as error:  # the user's model file may be broken: say why, keep going
            self.summary = None
            self.query_one("#model-table", DataTable).clear()
            title.update(f"{entry.title}: could not build it")
            totals.update(f"{type(error).__name__}: {error}")
            return
        title.update(f"{entry.title} · {self.sizes.preset} sizes · example batch {self._example_text()}")
        self._fill_table()
        totals.update(f"total parameters: {self.summary.total_params:,} · "
                      f"trainable: {self.summary.trainable_params:,}")

    def _summarize(self, entry: ModelEntry, sizes: Sizes):
        built = build_model(entry, sizes, self.workspace)
        self._example = built.example
        return summarize(built.model, built.example)

    def _example_text(self) -> str:
        return ", ".join(str(list(x.shape)) for x in self._example if hasattr(x, "shape"))

    def _fill_table(self) -> None:
        table = self.query_one("#model-table", DataTable)
        table.clear()
        for row in self.summary.rows:
            table.add_row("  " * row.depth + layer_label(row), row.output_shape, f"{row.params:,}",
                          trainable_text(row))
