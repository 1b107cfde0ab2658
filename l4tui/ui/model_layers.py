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
from textual.widgets import Static

from l4tui.inspect.cell_plots import bar_rows
from l4tui.inspect.parameters import stat_text
from l4tui.inspect.summary import (MIN_TEXT_WIDTH, compact_count, fit_columns, layer_label, parents_of,
                                   qualified_names, share_text, trainable_text)
from l4tui.ui.messages import LayerSelected, OpenCode
from l4tui.ui.model_runner import ModelBusy, ModelRunner
from l4tui.ui.tables import DataTable
from l4tui.ui.off_thread import in_thread

# The Layers table's columns, most important first: at 80 columns the figures stay whole, the layer's
# name and type are cut with … to make room, then Group leaves the table, then the counts go compact
# (134k), then Share leaves (the line under the table gives them all for the highlighted layer).
LAYER_COLUMNS = (("Layer (type)", "layer"), ("Output", "shape"), ("Params", "params"),
                 ("Trains", "trains"), ("Share", "share"), ("Group", "group"))
LAYOUTS = ((False, 6), (False, 5), (True, 5), (True, 4))  # (compact counts, how many columns)
SCROLLBAR = 2  # the table's vertical scrollbar, kept free whether or not it shows
# The Parameters table's columns, most important first. Narrower than all of them, the table leaves
# out (from the end) tied to, trains, |x|<1e-3, then min and max: the histogram's line names the
# ties, whether it trains and the near-zero share of the highlighted tensor, and its axis the min and max.
PARAM_COLUMNS = ("tensor", "shape", "mean", "std", "min", "max", "|x|<1e-3", "trains", "tied to")
PARAM_LAYOUTS = (9, 8, 7, 6, 4)  # how many columns
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
        self.has_children: set[int] = set()
        self.folded: set[int] = set()
        self.groups: dict[str, int] = {}
        self.layout_now: tuple = ()  # the table's column keys and the layer column's width (fill())
        self._filled_width: int | None = None
        self.totals = ""

    def compose(self) -> ComposeResult:
        yield DataTable(id="model-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="model-totals", markup=False)

    def show_error(self, message: str) -> None:
        self.summary = None
        self.query_one("#model-table", DataTable).clear()
        self.query_one("#model-totals", Static).update(message)

    def show(self, subject, summary) -> None:
        from l4tui.inspect.parameters import layer_groups_of

        self.summary = summary
        self.names = qualified_names(summary.rows)
        self.parents = parents_of(summary.rows)
        self.has_children = {p for p in self.parents if p is not None}
        self.folded = set()
        self.groups = layer_groups_of(subject.model)
        self.model = subject.model  # for gd: the class of a layer
        groups = f" · {max(self.groups.values()) + 1} layer groups (freeze_to counts them)" if self.groups else ""
        self.totals = f"total parameters: {summary.total_params:,} · trainable: {summary.trainable_params:,}{groups}"
        self.fill()
        self.show_detail()

    def hidden(self, index: int) -> bool:
        parent = self.parents[index]
        while parent is not None:
            if parent in self.folded:
                return True
            parent = self.parents[parent]
        return False

    def cells(self, index: int, compact: bool) -> list[str]:
        row = self.summary.rows[index]
        mark = ("▸ " if index in self.folded else "▾ ") if index in self.has_children else "  "
        group = self.groups.get(self.names[index])
        return ["  " * row.depth + mark + layer_label(row), row.output_shape,
                compact_count(row.params) if compact else f"{row.params:,}", trainable_text(row),
                share_text(row, self.summary), "" if group is None else str(group)]

    def fill(self) -> None:
        """The visible rows, laid out for the table's width: figures whole, the layer cut with …"""
        table = self.query_one("#model-table", DataTable)
        cursor = table.cursor_row
        shown = [index for index in range(len(self.summary.rows)) if not self.hidden(index)]
        available = self.size.width - SCROLLBAR
        self._filled_width = self.size.width
        for compact, count in LAYOUTS:
            rows = [self.cells(index, compact)[:count] for index in shown]
            widths = [max([len(label)] + [len(cells[i]) for cells in rows])
                      for i, (label, _) in enumerate(LAYER_COLUMNS[:count])]
            if self.size.width == 0:  # not laid out yet: on_resize fills it again
                text_width = widths[0]
                break
            text_width = fit_columns(widths, available)
            if text_width is not None:
                break
        else:
            text_width = MIN_TEXT_WIDTH  # a very narrow pane: the table scrolls sideways
        keys = tuple(key for _, key in LAYER_COLUMNS[:count])
        if (keys, text_width, widths[1:]) != self.layout_now:
            table.clear(columns=True)
            for (label, key), width in zip(LAYER_COLUMNS[:count], [text_width, *widths[1:]]):
                table.add_column(label, key=key, width=width)
            self.layout_now = (keys, text_width, widths[1:])
        else:
            table.clear()
        for index, cells in zip(shown, rows):
            label = cells[0]
            cells[0] = label if len(label) <= text_width else label[:text_width - 1] + "…"
            table.add_row(*cells, key=str(index))
        table.move_cursor(row=min(cursor, table.row_count - 1))

    def on_resize(self, event) -> None:
        # Only a new width changes the layout (a title that wraps changes the height alone).
        if self.summary is not None and event.size.width != self._filled_width:
            self.fill()

    def show_detail(self) -> None:
        """Under the table: the highlighted layer in full (its name and type uncut, its count, its
        share and group, which a narrow table leaves out), then the model's totals."""
        table = self.query_one("#model-table", DataTable)
        lines = [self.totals]
        if self.summary is not None and table.row_count:
            index = int(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)
            row = self.summary.rows[index]
            group = self.groups.get(self.names[index])
            parts = [layer_label(row), f"{row.params:,} parameters"]
            if row.params:
                parts.append(f"{share_text(row, self.summary)} of the model")
            if group is not None:
                parts.append(f"layer group {group}")
            lines.insert(0, " · ".join(parts))
        self.query_one("#model-totals", Static).update("\n".join(lines))

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

        from l4tui.inspect.source_link import definition_of

        table = self.query_one("#model-table", DataTable)
        if self.summary is None or table.row_count == 0:
            return
        name = self.names[int(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)]
        try:
            place = await in_thread(definition_of, self.model, name)
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
            self.show_detail()


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
        self.layout_now: tuple = ()  # the params table's columns and widths (fill())
        self._filled_width: int | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="params-head", markup=False)
        yield DataTable(id="params-table", cursor_type="row")
        yield Static("", id="params-hist")
        yield Static("g: the gradient norm of every layer after one backward pass on the example batch",
                     id="grads-head", markup=False)
        yield DataTable(id="grads-table", cursor_type="row")

    def on_mount(self) -> None:
        if not self.query("#params-table") or not self.query("#grads-table"):  # the app closed meanwhile
            return
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
        head = self.query_one("#params-head", Static)
        try:
            self.infos = await self.runner.run(module_parameters, subject.model, name, HISTOGRAM_BINS)
            own = bool(self.infos)
            if not own:  # a container (the model itself, first): its children's tensors, not an empty table
                self.infos = await self.runner.run(module_parameters, subject.model, name, HISTOGRAM_BINS, True)
        except ModelBusy as error:  # another pass holds the model (a build that hangs): say so, keep going
            head.update(str(error))
            return
        module = dict(subject.model.named_modules(remove_duplicate=False))[name]
        count = sum(info.stats.numel for info in self.infos)
        tensors = f"{len(self.infos)} tensor{'' if len(self.infos) == 1 else 's'}"
        whose = "of its own" if own else "in its children (it holds none itself; ↑↓ in Layers picks one)"
        head.update(
            f"{name or 'the model'} ({type(module).__name__}): {tensors} {whose}, {count:,} numbers"
            if self.infos else f"{name or 'the model'} ({type(module).__name__}) has no parameters")
        self.fill()
        names = [info.name for info in self.infos]
        row = 0
        if self.wanted and self.wanted[0] == name and self.wanted[1] in names:  # the tensor K showed (m)
            row, self.wanted = names.index(self.wanted[1]), None
        if row:
            self.query_one("#params-table", DataTable).move_cursor(row=row)
        self.show_histogram(row)

    def fill(self) -> None:
        """The tensors, laid out for the tab's width: the figures whole, the name cut with …"""
        table = self.query_one("#params-table", DataTable)
        cursor = table.cursor_row
        rows = []
        for info in self.infos:
            s = info.stats
            rows.append([info.name, "×".join(map(str, s.shape)), stat_text(s.mean), stat_text(s.std),
                         stat_text(s.min), stat_text(s.max), f"{s.near_zero_share:.1%}",
                         "yes" if info.requires_grad else "frozen", ", ".join(info.tied_to)])
        self._filled_width = self.size.width
        for count in PARAM_LAYOUTS:
            widths = [max([len(label)] + [len(row[i]) for row in rows]) for i, label in enumerate(PARAM_COLUMNS[:count])]
            if self.size.width == 0:  # not laid out yet (a hidden tab): on_resize fills it again
                text_width = widths[0]
                break
            text_width = fit_columns(widths, self.size.width - SCROLLBAR)
            if text_width is not None:
                break
        else:
            text_width = MIN_TEXT_WIDTH
        layout = (count, text_width, tuple(widths[1:]))
        if layout != self.layout_now:
            table.clear(columns=True)
            for label, width in zip(PARAM_COLUMNS[:count], [text_width, *widths[1:]]):
                table.add_column(label, width=width)
            self.layout_now = layout
        else:
            table.clear()
        for row in rows:
            name = row[0] if len(row[0]) <= text_width else row[0][:text_width - 1] + "…"
            table.add_row(name, *row[1:count])
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))

    def on_resize(self, event) -> None:
        if self.infos and event.size.width != self._filled_width:
            self.fill()

    def show_histogram(self, index: int) -> None:
        hist = self.query_one("#params-hist", Static)
        if not self.infos:
            hist.update("")
            return
        info = self.infos[min(index, len(self.infos) - 1)]
        s = info.stats
        width = max(10, (self.size.width or 60) - 4)
        # What a narrow table leaves out, for this tensor (PARAM_COLUMNS); min and max are the axis's ends.
        about = [f"{s.near_zero_share:.1%} |x|<1e-3", "trains" if info.requires_grad else "frozen"]
        if info.tied_to:
            about.append("tied to " + ", ".join(info.tied_to))
        text = Text(f"{info.name}: histogram of its {s.numel:,} numbers · {' · '.join(about)}\n", style="bold")
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
