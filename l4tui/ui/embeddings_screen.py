"""`e` in the Data & training pane: what a run's embeddings learned.

Pick an embedding of the selected run's checkpoint (its tokens, users, movies or a column's
categories), type a label, and see its nearest neighbours by cosine similarity, and a 2-D map
(PCA) of the first rows with their labels. The numbers come from `l4tui.inspect.embeddings`.
"""

import asyncio
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static
from textual_plotext import PlotextPlot

MAP_ROWS = 30  # rows on the 2-D map: enough to see groups, few enough to read the labels
NEIGHBOURS = 15
SKIP_TOKENS = 9  # fastai's special tokens come first in a vocab; the map starts after them


def load_tables(run_dir: Path):
    """The run's embedding tables, from best.pt (else last.pt), with movie titles for collab."""
    from l4tui.inspect.embeddings import embedding_tables
    from l4tui.train.worker import load_checkpoint

    folder = run_dir / "checkpoints"
    path = folder / "best.pt" if (folder / "best.pt").exists() else folder / "last.pt"
    if not path.exists():
        raise ValueError(f"run {run_dir.name} has no checkpoint yet")
    checkpoint = load_checkpoint(path)
    titles = None
    if checkpoint.get("items"):
        try:
            from l4tui.data.ratings import load_ratings
            from l4tui.data.sources import resolve

            titles = load_ratings(resolve((checkpoint.get("config") or {}).get("data"))).titles
        except Exception:  # the data moved or is gone: ids instead of titles
            titles = None
    tables = embedding_tables(checkpoint, titles)
    if not tables:
        raise ValueError(f"no embeddings found in {path.name}")
    return path.name, tables


class EmbeddingsScreen(Screen):
    AUTO_FOCUS = "#emb-query"
    BINDINGS = [
        Binding("ctrl+n", "next_table", "Next embedding", id="emb.next",
                tooltip="Tokens, users, movies, a column's categories ..."),
        Binding("escape", "app.pop_screen", "Back", id="emb.back"),
    ]

    def __init__(self, run_dir: Path) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.tables = []
        self.current = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="emb-box"):
            yield Static(f"loading the embeddings of {self.run_dir.name} ...", id="emb-title", markup=False)
            yield Input(placeholder="a token, movie, user or category; Enter finds its neighbours", id="emb-query")
            with Horizontal(id="emb-lower"):
                yield DataTable(id="emb-neighbours", cursor_type="row")
                yield PlotextPlot(id="emb-map")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#emb-neighbours", DataTable).add_columns("#", "nearest", "cosine")
        self.load()

    @work(exclusive=True, group="emb-load")
    async def load(self) -> None:
        try:
            self.checkpoint_name, self.tables = await asyncio.to_thread(load_tables, self.run_dir)
        except Exception as error:  # no checkpoint, a damaged one, not a model with embeddings
            self.query_one("#emb-title", Static).update(f"No embeddings to show: {error}")
            return
        self.show_table()

    @property
    def table(self):
        return self.tables[self.current]

    def show_table(self) -> None:
        table = self.table
        rows, factors = table.weights.shape
        self.query_one("#emb-title", Static).update(
            f"Embeddings of {self.run_dir.name} ({self.checkpoint_name}): {table.name}, {rows:,} rows x {factors} "
            f"factors · {self.current + 1} of {len(self.tables)} (Ctrl-N next)")
        first = SKIP_TOKENS if table.name == "tokens" and rows > SKIP_TOKENS + 2 else (1 if rows > 2 else 0)
        self.draw_map(list(range(first, min(rows, first + MAP_ROWS))))
        default = table.labels[first] if rows > first else table.labels[0]
        query = self.query_one("#emb-query", Input)
        query.value = default
        self.show_neighbours(default)

    def show_neighbours(self, label: str) -> None:
        from l4tui.inspect.embeddings import neighbours

        table = self.table
        grid = self.query_one("#emb-neighbours", DataTable)
        grid.clear()
        row = table.row_of(label.strip())
        if row is None:
            self.notify(f"{label!r} is not among the {table.name}", severity="warning")
            return
        for rank, (other, similarity) in enumerate(neighbours(table.weights, row, NEIGHBOURS), 1):
            grid.add_row(str(rank), table.labels[other].replace("\n", "\\n")[:40], f"{similarity:.3f}")

    def draw_map(self, rows: list[int]) -> None:
        from l4tui.inspect.embeddings import pca_2d

        table = self.table
        chart = self.query_one(PlotextPlot)
        plt = chart.plt
        plt.clear_figure()
        plt.title(f"the first {len(rows)} {table.name} on their 2 main directions (PCA)")
        if len(rows) >= 2:
            points = pca_2d(table.weights, rows)
            plt.scatter(points[:, 0].tolist(), points[:, 1].tolist(), marker="dot")
            for (x, y), row in zip(points, rows):
                plt.text(table.labels[row].replace("\n", "\\n")[:14], x=float(x), y=float(y))
        chart.refresh()

    @on(Input.Submitted, "#emb-query")
    def _query(self, event: Input.Submitted) -> None:
        if self.tables:
            self.show_neighbours(event.value)

    def action_next_table(self) -> None:
        if self.tables:
            self.current = (self.current + 1) % len(self.tables)
            self.show_table()
