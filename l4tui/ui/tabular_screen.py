"""`a` in the Data & training pane: a table's columns, and its rows before and after the procs.

Which columns are categorical and which continuous (`k` switches the one under the cursor), how
many categories each has, how much is missing, the embedding size the model will give it; then
the first rows as they are and as the model receives them, after FillMissing, Categorify and
Normalize. The numbers come from `l4tui.inspect.tabular_steps`.
"""


from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from l4tui.ui.tables import DataTable
from l4tui.ui.off_thread import in_thread

ROWS = 8


class TabularScreen(Screen):
    DEFAULT_CSS = """
    TabularScreen #tab-box { height: 1fr; padding: 0 1; }
    TabularScreen #tab-title { text-style: bold; height: auto; }
    TabularScreen #tab-columns { height: 14; }
    TabularScreen #tab-before { height: 10; }
    TabularScreen #tab-after { height: 10; }
    TabularScreen .tab-caption { margin-top: 1; color: $text-muted; }
    """

    AUTO_FOCUS = "#tab-columns"
    BINDINGS = [
        Binding("k", "switch_kind", "Cat/cont", id="tab.kind",
                tooltip="Treat the column under the cursor as categorical or continuous"),
        Binding("escape,q", "app.pop_screen", "Back", id="tab.back"),
    ]

    def __init__(self, data: str | None = None, y_name: str | None = None, cat_names=None, cont_names=None) -> None:
        """`data` and the columns as a tabular run's config names them (None: the bundled sample)."""
        super().__init__()
        self.data = data
        self.columns = (y_name, cat_names, cont_names)
        self.dataset = None
        self.processor = None
        self.cat_names: list[str] = []
        self.cont_names: list[str] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="tab-box"):  # at 80x24 the rows are below the fold: Tab reaches them
            yield Static("reading the table ...", id="tab-title", markup=False)
            yield DataTable(id="tab-columns", cursor_type="row")
            yield Static("Rows as they are (those with a missing value first):", classes="tab-caption",
                         markup=False)
            yield DataTable(id="tab-before", cursor_type="none")
            yield Static("... and as the model receives them (FillMissing, Categorify, Normalize):",
                         classes="tab-caption", markup=False)
            yield DataTable(id="tab-after", cursor_type="none")
        yield Footer(show_command_palette=False)  # Ctrl-K still opens it; the room goes to the keys

    def on_mount(self) -> None:
        self.query_one("#tab-columns", DataTable).add_columns(
            "column", "kind", "categories", "missing", "embedding", "what the procs do")
        self.load()

    @work(exclusive=True, group="tab-load")
    async def load(self) -> None:
        from l4tui.data.tables import open_table

        try:
            self.dataset = await in_thread(open_table, self.data or None, *self.columns)
        except (ValueError, OSError) as error:
            self.query_one("#tab-title", Static).update(f"Can't read the table: {error}")
            return
        self.cat_names, self.cont_names = list(self.dataset.cat_names), list(self.dataset.cont_names)
        self.refit()

    @work(exclusive=True, group="tab-fit")
    async def refit(self) -> None:
        from l4tui.inspect.tabular_steps import column_report, fit_processor, rows_before_after

        dataset = self.dataset
        try:
            self.processor = await in_thread(fit_processor, dataset.frame, self.cat_names,
                                                     self.cont_names, dataset.y_name)
            report = column_report(dataset.frame, self.processor)
            before, after = rows_before_after(dataset.frame, self.processor, ROWS)
        except (ValueError, KeyError) as error:
            self.notify(f"Can't process the table that way: {error}", severity="error")
            return
        self.query_one("#tab-title", Static).update(
            f"{dataset.source.name}: {len(dataset.frame):,} rows · {len(self.cat_names)} categorical, "
            f"{len(self.cont_names)} continuous columns · label {dataset.y_name} · k switches a column's kind")
        columns = self.query_one("#tab-columns", DataTable)
        cursor = columns.cursor_row
        columns.clear()
        for info in report:
            emb = f"({info.cardinality}, {info.emb_size})" if info.emb_size else ""
            columns.add_row(info.name, info.kind, "" if info.cardinality is None else str(info.cardinality),
                            f"{info.missing:.1%}", emb, info.note, key=info.name)
        columns.move_cursor(row=min(cursor, len(report) - 1))
        self._fill(self.query_one("#tab-before", DataTable), before)
        self._fill(self.query_one("#tab-after", DataTable), after)

    @staticmethod
    def _fill(table: DataTable, rows: list[dict]) -> None:
        table.clear(columns=True)
        if not rows:
            return
        table.add_columns(*rows[0].keys())
        for row in rows:
            table.add_row(*row.values())

    def action_switch_kind(self) -> None:
        if self.processor is None:
            return
        table = self.query_one("#tab-columns", DataTable)
        name = str(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)
        if name in self.cat_names:
            self.cat_names.remove(name)
            self.cont_names.append(name)
        elif name in self.cont_names:
            self.cont_names.remove(name)
            self.cat_names.append(name)
        else:
            self.notify(f"{name} is not an input column", severity="warning")
            return
        self.refit()
