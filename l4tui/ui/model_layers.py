"""The Model pane's Layers and Parameters tabs.

Layers: the summary table, in the spirit of torchinfo, folded and unfolded with Enter.
Parameters: the layer under the Layers tab's cursor, tensor by tensor, with a histogram of the
highlighted one; and `g`: the gradient norm of every layer after one backward pass.
"""

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from l4tui.inspect.cell_plots import bar_rows
from l4tui.inspect.parameters import stat_text
from l4tui.inspect.summary import layer_label, parents_of, qualified_names, share_text, trainable_text
from l4tui.ui.messages import LayerSelected, OpenCode
from l4tui.ui.model_runner import ModelRunner

HISTOGRAM_BINS = 60  # squeezed to the width of the pane when it is narrower
HISTOGRAM_LINES = 4
GD_TIMEOUT_S = 0.8  # `g` in the Layers tab waits this long for the `d` of gd


class LayersTab(Vertical):
    DEFAULT_CSS = """
    LayersTab { height: 1fr; }
    LayersTab #model-table { height: 1fr; }
    LayersTab #model-totals { height: auto; padding: 0 1; background: $panel; }
    """

    BINDINGS = [Binding("enter", "fold", "Fold", id="layers.fold", tooltip="Fold or unfold the layer's children")]
    HELP_KEYS = [("g d", "The layer's class, in the Code pane (its definition)")]

    def __init__(self) -> None:
        super().__init__()
        self.summary = None
        self.names: list[str] = []
        self.parents: list[int | None] = []
        self.folded: set[int] = set()
        self.groups: dict[str, int] = {}

    def compose(self) -> ComposeResult:
        yield DataTable(id="model-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="model-totals", markup=False)

    def on_mount(self) -> None:
        table = self.query_one("#model-table", DataTable)
        for label, key in (("Layer (type)", "layer"), ("Output shape", "shape"), ("Params", "params"),
                           ("Trains", "trains"), ("Share", "share"), ("Group", "group")):
            table.add_column(label, key=key)

    def show_error(self, message: str) -> None:
        self.summary = None
        self.query_one("#model-table", DataTable).clear()
        self.query_one("#model-totals", Static).update(message)

    def show(self, subject, summary) -> None:
        from l4tui.inspect.parameters import layer_groups_of

        self.summary = summary
        self.names = qualified_names(summary.rows)
        self.parents = parents_of(summary.rows)
        self.folded = set()
        self.groups = layer_groups_of(subject.model)
        self.model = subject.model  # for gd: the class of a layer
        self.fill()
        groups = f" · {max(self.groups.values()) + 1} layer groups (freeze_to counts them)" if self.groups else ""
        self.query_one("#model-totals", Static).update(
            f"total parameters: {summary.total_params:,} · trainable: {summary.trainable_params:,}{groups}")

    def hidden(self, index: int) -> bool:
        parent = self.parents[index]
        while parent is not None:
            if parent in self.folded:
                return True
            parent = self.parents[parent]
        return False

    def fill(self) -> None:
        table = self.query_one("#model-table", DataTable)
        cursor = table.cursor_row
        table.clear()
        has_children = {p for p in self.parents if p is not None}
        for index, row in enumerate(self.summary.rows):
            if self.hidden(index):
                continue
            mark = ("▸ " if index in self.folded else "▾ ") if index in has_children else "  "
            group = self.groups.get(self.names[index])
            table.add_row("  " * row.depth + mark + layer_label(row), row.output_shape, f"{row.params:,}",
                          trainable_text(row), share_text(row, self.summary),
                          "" if group is None else str(group), key=str(index))
        table.move_cursor(row=min(cursor, table.row_count - 1))

    def action_fold(self) -> None:
        table = self.query_one("#model-table", DataTable)
        if self.summary is None or table.row_count == 0:
            return
        index = int(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)
        if index not in set(self.parents):
            return
        self.folded ^= {index}
        self.fill()

    # ---- ui/tensor_link.py: a layer asked for, and gd -------------------------------------------

    def select(self, name: str) -> None:
        """Put the cursor on the layer `name`, unfolding what hides it."""
        if self.summary is None or name not in self.names:
            return
        index = self.names.index(name)
        parent = self.parents[index]
        while parent is not None:
            self.folded.discard(parent)
            parent = self.parents[parent]
        self.fill()
        table = self.query_one("#model-table", DataTable)
        table.move_cursor(row=table.get_row_index(str(index)))

    async def on_key(self, event) -> None:
        """gd: the layer's class, in the Code pane. `g` alone is the pane's gradients (after
        GD_TIMEOUT_S, as vim's timeoutlen), and a `g` followed by another key runs, then that key."""
        pending, self._g_pending = getattr(self, "_g_pending", None), None
        if pending is not None:
            pending.stop()
            event.stop()
            event.prevent_default()
            if event.key == "d":
                self.goto_definition()
            else:
                from l4tui.ui.key_order import forward_key, run_binding

                await run_binding(self.app, "g")
                forward_key(self.app, event.key, event.character)
        elif event.key == "g" and self.summary is not None:
            event.stop()
            event.prevent_default()
            self._g_pending = self.set_timer(GD_TIMEOUT_S, self._g_alone)

    async def _g_alone(self) -> None:
        if getattr(self, "_g_pending", None) is not None:
            self._g_pending = None
            from l4tui.ui.key_order import run_binding

            await run_binding(self.app, "g")

    @work(exclusive=True, group="layer-definition")
    async def goto_definition(self) -> None:
        import asyncio

        from l4tui.inspect.source_link import definition_of

        table = self.query_one("#model-table", DataTable)
        if self.summary is None or table.row_count == 0:
            return
        name = self.names[int(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)]
        try:
            place = await asyncio.to_thread(definition_of, self.model, name)
        except ValueError as error:
            self.query_one("#model-totals", Static).update(f"gd: {error}")
            return
        self.post_message(OpenCode(place.path, place.line))

    @on(DataTable.RowSelected, "#model-table")
    def _selected(self) -> None:  # Enter in the table (the table takes Enter before our binding)
        self.action_fold()

    @on(DataTable.RowHighlighted, "#model-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.summary is not None and event.row_key is not None and event.row_key.value is not None:
            self.post_message(LayerSelected(self.names[int(event.row_key.value)]))


class ParametersTab(Vertical):
    """The selected layer's tensors; `g` (a key of the whole pane) adds the gradient norms."""

    DEFAULT_CSS = """
    ParametersTab { height: 1fr; }
    ParametersTab #params-head { height: auto; padding: 0 1; text-style: bold; }
    ParametersTab #grads-head { height: auto; padding: 0 1; text-style: bold; }
    ParametersTab #params-table { height: auto; max-height: 8; }
    ParametersTab #params-hist { height: auto; padding: 0 1; }
    ParametersTab #grads-table { height: 1fr; }
    """

    def __init__(self, runner: ModelRunner) -> None:
        super().__init__()
        self.runner = runner  # the pane's: one pass on the model at a time
        self.subject = None
        self.infos = []
        self.module_name = ""
        self.wanted = None  # (layer, tensor): the row to put the cursor on once loaded (the Code pane's K, then m)

    def compose(self) -> ComposeResult:
        yield Static("", id="params-head", markup=False)
        yield DataTable(id="params-table", cursor_type="row")
        yield Static("", id="params-hist")
        yield Static("g: the gradient norm of every layer after one backward pass on the example batch",
                     id="grads-head", markup=False)
        yield DataTable(id="grads-table", cursor_type="row")

    def on_mount(self) -> None:
        self.query_one("#params-table", DataTable).add_columns(
            "tensor", "shape", "mean", "std", "min", "max", "|x|<1e-3", "trains", "tied to")
        self.query_one("#grads-table", DataTable).add_columns("layer", "gradient norm", "", "trains")

    def show(self, subject, module_name: str) -> None:
        if subject is not self.subject:
            self.query_one("#grads-table", DataTable).clear()
        self.subject, self.module_name = subject, module_name
        self.load()

    @work(exclusive=True, group="params")
    async def load(self) -> None:
        from l4tui.inspect.parameters import module_parameters

        subject, name = self.subject, self.module_name
        self.infos = await self.runner.run(module_parameters, subject.model, name, HISTOGRAM_BINS)
        module = dict(subject.model.named_modules(remove_duplicate=False))[name]
        count = sum(info.stats.numel for info in self.infos)
        self.query_one("#params-head", Static).update(
            f"{name or 'the model'} ({type(module).__name__}): {len(self.infos)} tensor{'' if len(self.infos) == 1 else 's'} "
            f"of its own, {count:,} numbers"
            + ("" if self.infos else " — its children hold the parameters: pick one in Layers"))
        table = self.query_one("#params-table", DataTable)
        table.clear()
        for info in self.infos:
            s = info.stats
            table.add_row(info.name, "×".join(map(str, s.shape)), stat_text(s.mean), stat_text(s.std),
                          stat_text(s.min), stat_text(s.max), f"{s.near_zero_share:.1%}",
                          "yes" if info.requires_grad else "frozen", ", ".join(info.tied_to))
        names = [info.name for info in self.infos]
        row = 0
        if self.wanted and self.wanted[0] == name and self.wanted[1] in names:
            row, self.wanted = names.index(self.wanted[1]), None
        if row:
            table.move_cursor(row=row)
        self.show_histogram(row)

    def show_histogram(self, index: int) -> None:
        hist = self.query_one("#params-hist", Static)
        if not self.infos:
            hist.update("")
            return
        info = self.infos[min(index, len(self.infos) - 1)]
        s = info.stats
        width = max(10, (self.size.width or 60) - 4)
        text = Text(f"{info.name}: histogram of its {s.numel:,} numbers\n", style="bold")
        text.append("\n".join(bar_rows(s.counts, width, HISTOGRAM_LINES)) + "\n", style="cyan")
        if s.edges:
            low, high = stat_text(s.edges[0]), stat_text(s.edges[-1])
            text.append(low + " " * max(1, min(width, len(s.counts)) - len(low) - len(high)) + high, style="dim")
        hist.update(text)

    @on(DataTable.RowHighlighted, "#params-table")
    def _tensor(self, event: DataTable.RowHighlighted) -> None:
        self.show_histogram(event.cursor_row)

    @work(exclusive=True, group="grads")
    async def action_gradients(self) -> None:
        from l4tui.inspect.parameters import default_loss, default_target, gradient_norms

        subject = self.subject
        if subject is None:
            return
        head = self.query_one("#grads-head", Static)
        head.update("a forward and a backward pass on the example batch ...")

        def run():
            target = default_target(subject.name, subject.model, subject.example)
            return gradient_norms(subject.model, subject.example, target, default_loss(subject.name))

        try:
            gradients = await self.runner.run(run)
        except Exception as error:  # a user's model may not take its own example backwards
            head.update(f"no gradients: {type(error).__name__}: {error}")
            return
        head.update(f"gradient norms after one backward pass (loss {gradients.loss:.4f}); a frozen layer's is 0")
        table = self.query_one("#grads-table", DataTable)
        table.clear()
        top = max((m.norm for m in gradients.modules), default=0.0) or 1.0
        for module in gradients.modules:
            table.add_row(module.module or "(model)", f"{module.norm:.4g}", "█" * round(12 * module.norm / top),
                          "frozen" if module.frozen else "yes")
