"""`e` in the Data & training pane: what a run's embeddings learned.

Pick an embedding of the selected run's checkpoint (its tokens, users, movies or a column's
categories), type a label, and see its nearest neighbours by cosine similarity, and a 2-D map
(PCA) of the first rows with their labels. Runs keep the weights of every epoch: choose the
checkpoint shown in the list on the left, and one to compare it with (`c`), to see which
neighbours training brought in and which it pushed out. The numbers come from
`l4tui.inspect.embeddings`.
"""

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual_plotext import PlotextPlot

from l4tui.textcut import cut_title
from l4tui.ui.tables import DataTable
from l4tui.ui.key_order import InOrderInput
from l4tui.ui.off_thread import in_thread

MAP_ROWS = 30  # rows on the 2-D map: enough to see groups, few enough to read the labels
NEIGHBOURS = 15
SKIP_TOKENS = 9  # fastai's special tokens come first in a vocab; the map starts after them


class EmbeddingMap(PlotextPlot):
    """The 2-D map, its labels placed for the size it is drawn at, so none overwrites another."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.title_text, self.points, self.labels = "", None, []

    def show(self, title: str, points, labels: list[str]) -> None:
        self.title_text, self.points, self.labels = title, points, labels
        self.refresh()

    def render(self):
        from l4tui.inspect.embeddings import map_cells, place_labels

        plt = self.plt
        plt.clear_figure()
        plt.title(self.title_text)
        # No ticks (a PCA's axes have no unit): the canvas is the widget less its frame and title,
        # so the cell of each point and label is known, and labels never overwrite each other.
        plt.xticks([])
        plt.yticks([])
        points = self.points
        width, height = self.size.width - 2, self.size.height - 3
        if points is not None and width >= 2 and height >= 2:
            low, high = points.min(axis=0), points.max(axis=0)
            span = [float(h - l) if h > l else 1.0 for l, h in zip(low, high)]
            plt.xlim(float(low[0]), float(low[0]) + span[0])
            plt.ylim(float(low[1]), float(low[1]) + span[1])
            plt.scatter(points[:, 0].tolist(), points[:, 1].tolist(), marker="dot")
            cells = map_cells(points, width, height)
            for (start, text), (_, row) in zip(place_labels(cells, self.labels, width, height), cells):
                if text:
                    plt.text(text, x=float(low[0]) + start / (width - 1) * span[0],
                             y=float(low[1]) + span[1] - row / (height - 1) * span[1], alignment="left")
        return super().render()


class EmbeddingsScreen(Screen):
    DEFAULT_CSS = """
    EmbeddingsScreen #emb-box { height: 1fr; padding: 0 1; }
    EmbeddingsScreen #emb-title { text-style: bold; height: auto; }
    EmbeddingsScreen #emb-query { height: 1; border: none; padding: 0 1; margin: 1 0; }
    EmbeddingsScreen #emb-lower { height: 1fr; }
    EmbeddingsScreen #emb-change { height: auto; color: $text-muted; }
    EmbeddingsScreen #emb-checkpoints { width: 14; height: 1fr; }
    EmbeddingsScreen #emb-neighbours { width: 62; max-width: 55%; height: 1fr; }
    EmbeddingsScreen #emb-map { width: 1fr; height: 1fr; }
    """

    AUTO_FOCUS = "#emb-query"
    BINDINGS = [
        Binding("ctrl+n", "next_table", "Next embedding", id="emb.next",
                tooltip="Tokens, users, movies, a column's categories ..."),
        Binding("c", "compare", "Compare with", id="emb.compare",
                tooltip="In the checkpoint list: compare the other checkpoints with this one (◆)"),
        Binding("escape", "app.pop_screen", "Back", id="emb.back"),
    ]

    def __init__(self, run_dir: Path) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.checkpoints = []  # CheckpointFile, in the order they were made
        self.loaded: dict[Path, list] = {}  # a checkpoint's tables, once read
        self.titles: dict | None = None
        self.shown = 0  # index in self.checkpoints
        self.base: int | None = None  # the checkpoint compared with, if any
        self.tables = []
        self.current = 0
        self.row: int | None = None  # the row whose neighbours are shown
        self.map_rows: list[int] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="emb-box"):
            yield Static(f"loading the embeddings of {self.run_dir.name} ...", id="emb-title", markup=False)
            yield InOrderInput(placeholder="part of a title, a token, user 42, movie 50 ...; Enter finds its neighbours", id="emb-query")
            yield Static("", id="emb-change", markup=False)
            with Horizontal(id="emb-lower"):
                yield OptionList(id="emb-checkpoints")
                yield DataTable(id="emb-neighbours", cursor_type="row")
                yield EmbeddingMap(id="emb-map")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="emb-load")
    async def load(self) -> None:
        from l4tui.runs.checkpoints import default_choice, list_checkpoints

        self.checkpoints = list_checkpoints(self.run_dir)
        if not self.checkpoints:
            self.query_one("#emb-title", Static).update(
                f"No embeddings to show: run {self.run_dir.name} has no checkpoint yet")
            return
        labels = [c.label for c in self.checkpoints]
        self.shown, self.base = default_choice(labels)
        self.query_one("#emb-checkpoints", OptionList).add_options(
            [Option(label, id=str(i)) for i, label in enumerate(labels)])
        self.query_one("#emb-checkpoints", OptionList).highlighted = self.shown
        self.mark_base()
        await self.show_checkpoint(self.shown)

    async def tables_of(self, index: int) -> list:
        from l4tui.inspect.embeddings import load_embedding_tables

        path = self.checkpoints[index].path
        if path not in self.loaded:
            self.loaded[path], self.titles = await in_thread(
                load_embedding_tables, path, self.titles, bool(self.loaded))
        return self.loaded[path]

    async def show_checkpoint(self, index: int) -> None:
        try:
            tables = await self.tables_of(index)
            if self.base is not None and self.base != index:
                await self.tables_of(self.base)
        except Exception as error:  # a damaged checkpoint, not a model with embeddings
            self.query_one("#emb-title", Static).update(f"No embeddings to show: {error}")
            return
        first_time = not self.tables
        self.shown, self.tables = index, tables
        self.current = min(self.current, len(tables) - 1)
        if first_time:
            self.show_table()
        else:  # keep the row being looked at
            self.show_title()
            self.show_neighbours(self.row)

    def base_table(self):
        """The same embedding in the checkpoint compared with, or None."""
        if self.base is None or self.base == self.shown:
            return None
        tables = self.loaded.get(self.checkpoints[self.base].path) or []
        return next((t for t in tables if t.key == self.table.key and t.weights.shape == self.table.weights.shape), None)

    @property
    def table(self):
        return self.tables[self.current]

    def show_title(self) -> None:
        table = self.table
        rows, factors = table.weights.shape
        base = f" vs {self.checkpoints[self.base].label}" if self.base_table() is not None else ""
        self.query_one("#emb-title", Static).update(
            f"Embeddings of {self.run_dir.name} ({self.checkpoints[self.shown].label}{base}): {table.name}, "
            f"{rows:,} rows x {factors} factors · {self.current + 1} of {len(self.tables)} (Ctrl-N next)")

    def show_table(self, row: int | None = None) -> None:
        table = self.table
        rows = len(table.weights)
        self.show_title()
        first = SKIP_TOKENS if table.name == "tokens" and rows > SKIP_TOKENS + 2 else (1 if rows > 2 else 0)
        self.map_rows = list(range(first, min(rows, first + MAP_ROWS)))
        self.draw_map()
        if row is None:
            row = first if rows > first else 0
        self.query_one("#emb-query", Input).value = table.labels[row]
        self.show_neighbours(row)

    def title_width(self) -> int:
        """How much of a title the neighbours table has room for: what its other columns leave."""
        grid = self.query_one("#emb-neighbours", DataTable)
        # "15" and "cosine" and "before" with a column of padding either side, the scroll bar
        others = 4 + 8 + (8 if self.base_table() is not None else 0) + 2
        return max(8, (grid.size.width or 42) - others - 2)

    def show_neighbours(self, row: int | None) -> None:
        from l4tui.inspect.embeddings import neighbour_change, neighbours

        table = self.table
        grid = self.query_one("#emb-neighbours", DataTable)
        change = self.query_one("#emb-change", Static)
        self.row = row
        base = self.base_table()
        columns = ["#", "nearest", "cosine"] + (["before"] if base is not None else [])
        grid.clear(columns=[str(c.label) for c in grid.columns.values()] != columns)
        if not grid.columns:
            grid.add_columns(*columns)
        if row is None or not 0 <= row < len(table.labels):
            change.update("")
            return
        before_rank = {}
        width = self.title_width()
        if base is not None:
            moved = neighbour_change(base.weights, table.weights, row, NEIGHBOURS)
            before_rank = {other: rank for rank, other in enumerate(moved["before"], 1)}
            shown = 6 if self.size.width >= 120 else 2  # at 80 columns the line stays within two
            left = ", ".join(cut_title(table.labels[i], 24) for i in moved["left"][:shown])
            change.update(
                f"since {self.checkpoints[self.base].label}: {len(moved['kept'])} of the {NEIGHBOURS} nearest stayed, "
                f"{len(moved['joined'])} joined" + (f"; left: {left}" + (" ..." if len(moved["left"]) > shown else "")
                                                    if moved["left"] else ""))
        elif len(self.checkpoints) < 2:
            change.update("one checkpoint: nothing to compare with")
        elif self.base == self.shown:
            change.update(f"compared with {self.checkpoints[self.base].label}, the one shown: ↑↓ to another")
        else:
            change.update("Tab to the checkpoints, c on one to compare the others with it")
        for rank, (other, similarity) in enumerate(neighbours(table.weights, row, NEIGHBOURS), 1):
            cells = [str(rank), cut_title(table.labels[other], width), f"{similarity:.3f}"]
            if base is not None:
                cells.append(f"#{before_rank[other]}" if other in before_rank else "new")
            grid.add_row(*cells)

    def draw_map(self) -> None:
        from l4tui.inspect.embeddings import pca_2d

        table, rows = self.table, self.map_rows
        points = pca_2d(table.weights, rows) if len(rows) >= 2 else None
        self.query_one(EmbeddingMap).show(f"first {len(rows)} {table.name}, PCA", points,
                                          [table.labels[r] for r in rows])

    def on_resize(self) -> None:
        if self.tables:  # the titles' room in the table changed
            self.call_after_refresh(self.show_neighbours, self.row)

    @on(Input.Submitted, "#emb-query")
    def _query(self, event: Input.Submitted) -> None:
        from l4tui.inspect.lookup import find_name

        if not self.tables:
            return
        # The table shown is looked in first; `user 42`, `movie 50` ... reach the others.
        order = [self.current] + [i for i in range(len(self.tables)) if i != self.current]
        found = find_name(event.value, [self.tables[i].names() for i in order])
        if found.match is not None:
            self.go_to(found.match)
        elif found.ambiguous:
            self.offer_choices(found)
        else:
            self.notify(found.message, severity="warning")

    def offer_choices(self, found) -> None:
        from l4tui.ui.picker import PickItem, PickerScreen

        items = [PickItem(cut_title(m.label, 70), None, f"{m.kind} {m.id}" if m.id else m.kind)
                 for m in found.choices]

        def chosen(item) -> None:
            if item is not None:
                self.go_to(found.choices[items.index(item)])

        self.app.push_screen(PickerScreen(f"{found.choices_title()} · ↑↓ Enter: pick · Esc: none",
                                          items, preview=False), chosen)

    def go_to(self, match) -> None:
        """Show the neighbours of a row found by the lookup, in its own table."""
        if self.table.kind != match.kind:
            self.current = next(i for i, t in enumerate(self.tables) if t.kind == match.kind)
            self.show_table(match.row)
            return
        self.query_one("#emb-query", Input).value = match.label
        self.show_neighbours(match.row)

    @on(OptionList.OptionSelected, "#emb-checkpoints")
    @on(OptionList.OptionHighlighted, "#emb-checkpoints")
    def _checkpoint_chosen(self, event) -> None:
        index = int(event.option.id)
        if self.checkpoints and index != self.shown:
            self.switch_checkpoint(index)

    @work(exclusive=True, group="emb-switch")
    async def switch_checkpoint(self, index: int) -> None:
        await self.show_checkpoint(index)

    def action_compare(self) -> None:
        options = self.query_one("#emb-checkpoints", OptionList)
        if self.focused is not options or options.highlighted is None:
            self.notify("Tab to the checkpoint list, then c on the one to compare with")
            return
        self.base = options.highlighted
        self.mark_base()
        self.switch_checkpoint(self.shown)

    def mark_base(self) -> None:
        options = self.query_one("#emb-checkpoints", OptionList)
        for i, checkpoint in enumerate(self.checkpoints):
            options.replace_option_prompt_at_index(i, f"{checkpoint.label} ◆" if i == self.base else checkpoint.label)

    def check_action(self, action: str, parameters) -> bool | None:
        # `c` is a letter: in the text box it types, in the list it compares.
        if action == "compare" and isinstance(self.focused, Input):
            return False
        return True

    def action_next_table(self) -> None:
        if self.tables:
            self.current = (self.current + 1) % len(self.tables)
            self.show_table()
