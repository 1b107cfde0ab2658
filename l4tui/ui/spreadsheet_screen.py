"""`x` in the Data & training pane: the lesson's collab spreadsheet, live.

15 users down the side with their factors, 15 movies across the top with theirs above them, and
in each cell the prediction (the dot product, plus biases and the sigmoid when they are on), the
rating, or the squared error; the loss under it. Space takes one step of gradient descent, `r`
runs them until stopped, as the lesson does with Excel's Solver. The numbers come from
`l4tui.inspect.spreadsheet`; this screen only shows them.
"""

from pathlib import Path

import numpy as np
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Sparkline, Static

from l4tui.inspect.spreadsheet import cell_text, load_crosstab, load_trained_sheet
from l4tui.ui.tables import DataTable
from l4tui.ui.off_thread import in_thread

SHOWN_FACTORS = 5  # a trained model has 50: the sheet shows the first few (the loss uses them all)
STEPS_PER_TICK = 5
TICK_S = 0.05  # 100 steps a second while running
VIEWS = ("predictions", "ratings", "errors")


class SpreadsheetScreen(Screen):
    DEFAULT_CSS = """
    SpreadsheetScreen #sheet-box { height: 1fr; padding: 0 1; }
    SpreadsheetScreen #sheet-title { height: auto; text-style: bold; }
    SpreadsheetScreen #sheet-table { height: 1fr; }
    SpreadsheetScreen #sheet-cell { height: auto; min-height: 2; }
    SpreadsheetScreen #sheet-loss { height: auto; }
    SpreadsheetScreen #sheet-history { height: 2; }
    """

    BINDINGS = [
        Binding("space", "step", "Step", id="sheet.step", tooltip="One step of gradient descent"),
        Binding("r", "run", "Run", id="sheet.run", tooltip="Run gradient descent until stopped"),
        Binding("v", "cycle_view", "View", id="sheet.view", tooltip="Predictions, ratings or squared errors"),
        Binding("b", "toggle_bias", "Biases", id="sheet.bias", tooltip="Add a bias per user and per movie"),
        Binding("y", "toggle_y_range", "y_range", id="sheet.y_range",
                tooltip="Squeeze predictions into (0, 5.5) with a sigmoid"),
        # In ? only: at 80 columns the footer has room for the keys above and t, Esc, ?.
        Binding("n", "new", "New", show=False, id="sheet.new", tooltip="Start again from new random factors"),
        Binding("t", "trained", "Trained", id="sheet.trained",
                tooltip="Fill the sheet from the selected collab run's trained model"),
        Binding("plus,equals_sign", "lr(2)", "lr×2", show=False, id="sheet.lr_up",
                tooltip="Double the learning rate (= too: no Shift needed)"),
        Binding("minus", "lr(0.5)", "lr÷2", show=False, id="sheet.lr_down", tooltip="Halve the learning rate"),
        Binding("escape,q", "app.pop_screen", "Back", id="sheet.back"),
    ]

    def __init__(self, data: str | None = None, run_dir: Path | None = None) -> None:
        super().__init__()
        self.data = data
        self.run_dir = run_dir
        self.sheet = None  # the Crosstab
        self.state = None  # the Spreadsheet
        self.view = "predictions"
        self.seed = 0
        self.running = None  # the timer while gradient descent runs

    def compose(self) -> ComposeResult:
        with Vertical(id="sheet-box"):
            yield Static("loading the ratings ...", id="sheet-title", markup=False)
            yield DataTable(id="sheet-table", cursor_type="cell", zebra_stripes=False, cell_padding=0)
            yield Static("", id="sheet-cell", markup=False)
            yield Static("", id="sheet-loss", markup=False)
            yield Sparkline([], id="sheet-history")
        yield Footer(show_command_palette=False)  # Ctrl-K still opens it; at 80 columns the room goes to the keys

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="sheet-load")
    async def load(self) -> None:
        try:
            self.sheet, source = await in_thread(load_crosstab, self.data or None)
        except (ValueError, OSError) as error:
            self.query_one("#sheet-title", Static).update(f"Can't make the sheet: {error}")
            return
        from l4tui.inspect.spreadsheet import Spreadsheet

        self.source = source
        self.state = Spreadsheet.random(self.sheet, seed=self.seed)
        self._build_table()
        self.refresh_sheet()

    # ---- drawing ------------------------------------------------------------------------------

    def _build_table(self) -> None:
        table = self.query_one(DataTable)
        table.clear(columns=True)
        n_factors = min(SHOWN_FACTORS, self.state.user_factors.shape[1])
        table.add_column("user", key="user", width=5)
        for f in range(n_factors):
            table.add_column(f"f{f + 1}", key=f"f{f}", width=5)
        table.add_column("bias", key="bias", width=5)
        for j, item in enumerate(self.sheet.items):
            table.add_column(str(item)[:5], key=f"m{j}", width=5)
        # The movies' factors stand above their columns, as in the lesson's sheet.
        for f in range(n_factors):
            table.add_row(*([f"f{f + 1}"] + [""] * (n_factors + 1) + [""] * len(self.sheet.items)), key=f"F{f}")
        table.add_row(*(["bias"] + [""] * (n_factors + 1) + [""] * len(self.sheet.items)), key="B")
        for i, user in enumerate(self.sheet.users):
            table.add_row(*([str(user)] + [""] * (n_factors + 1 + len(self.sheet.items))), key=f"u{i}")
        # Start on the first user's first movie: the cell line explains it at once.
        table.move_cursor(row=n_factors + 1, column=n_factors + 2)

    def refresh_sheet(self) -> None:
        state, sheet = self.state, self.sheet
        if state is None:
            return
        table = self.query_one(DataTable)
        n_factors = min(SHOWN_FACTORS, state.user_factors.shape[1])
        values = {"predictions": state.predictions(), "ratings": sheet.ratings,
                  "errors": state.squared_errors()}[self.view]
        predictions = state.predictions()
        for f in range(n_factors):
            for j in range(len(sheet.items)):
                table.update_cell(f"F{f}", f"m{j}", Text(cell_text(state.item_factors[j, f]), style="cyan"))
        for j in range(len(sheet.items)):
            table.update_cell("B", f"m{j}", Text(cell_text(state.item_bias[j]) if state.use_bias else "",
                                                 style="magenta"))
        for i in range(len(sheet.users)):
            for f in range(n_factors):
                table.update_cell(f"u{i}", f"f{f}", Text(cell_text(state.user_factors[i, f]), style="cyan"))
            table.update_cell(f"u{i}", "bias", Text(cell_text(state.user_bias[i]) if state.use_bias else "",
                                                    style="magenta"))
            for j in range(len(sheet.items)):
                rated = not np.isnan(sheet.ratings[i, j])
                if self.view == "errors":
                    style = "red" if rated and values[i, j] > 1 else ("green" if rated else "dim")
                elif self.view == "predictions":
                    error = abs(predictions[i, j] - sheet.ratings[i, j]) if rated else 0
                    style = "bold" if not rated else ("green" if error < 0.5 else "yellow" if error < 1 else "red")
                    style = style if rated else "dim"
                else:
                    style = "bold"
                table.update_cell(f"u{i}", f"m{j}", Text(cell_text(values[i, j]), style=style))
        self._show_figures()
        table = self.query_one(DataTable)
        self._describe_cell(table.cursor_coordinate.row, table.cursor_coordinate.column)

    def _show_figures(self) -> None:
        state, sheet = self.state, self.sheet
        n_users, n_items = sheet.ratings.shape
        formula = "dot(user, movie)"
        if state.use_bias:
            formula += " + user bias + movie bias"
        if state.y_range is not None:
            formula = f"sigmoid({formula}) scaled to {state.y_range}"
        origin = f"trained: {state.source}" if state.source != "random" else f"random factors (seed {self.seed})"
        total = state.user_factors.shape[1]
        if total > SHOWN_FACTORS:
            origin += f", {SHOWN_FACTORS} of its {total} factors shown"
        self.query_one("#sheet-title", Static).update(
            f"The lesson's spreadsheet: {n_users} most active users x {n_items} most rated movies of "
            f"{Path(str(self.source)).name}, {int(sheet.known.sum())} ratings · {origin} · view: {self.view} (v)\n"
            f"prediction = {formula}")
        running = "  running (r stops)" if self.running else ""
        self.query_one("#sheet-loss", Static).update(
            f"step {state.steps}  lr {state.lr:g}  loss (MSE) {state.loss():.4f}  RMSE {state.rmse():.4f}  "
            f"SUMXMY2 {state.sse():.2f}{running}")
        self.query_one(Sparkline).data = state.history[-400:] + [state.loss()]

    def on_data_table_cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        self._describe_cell(event.coordinate.row, event.coordinate.column)

    def _describe_cell(self, row: int, column: int) -> None:
        """The cell under the cursor in words: who, which movie, and the numbers behind it."""
        state, sheet = self.state, self.sheet
        if state is None:
            return
        n_factors = min(SHOWN_FACTORS, state.user_factors.shape[1])
        i = row - (n_factors + 1)  # user rows come after the movie factor rows and the bias row
        j = column - (n_factors + 2)  # movie columns come after user, the factors and bias
        line = ""
        if j >= 0:
            line = f"movie {sheet.items[j]}: {sheet.titles[j]}"
            if i >= 0:
                # Two lines, so that the sum is whole at 80 columns: who and what, then the numbers.
                rating = sheet.ratings[i, j]
                rated = f"rated {rating:g}" if not np.isnan(rating) else "not rated (the sheet predicts it)"
                line = (f"user {sheet.users[i]} · {line} · {rated}\n"
                        f"prediction {state.predictions()[i, j]:.3f} = {self._formula_numbers(i, j)}")
        elif i >= 0:
            line = f"user {sheet.users[i]}: {int(sheet.known[i].sum())} of these movies rated"
        self.query_one("#sheet-cell", Static).update(line)

    def _formula_numbers(self, i: int, j: int) -> str:
        state = self.state
        text = f"dot {state.dot()[i, j]:.3f}"
        if state.use_bias:
            text += f" + {state.user_bias[i]:.3f} + {state.item_bias[j]:.3f}"
        if state.y_range is not None:
            text = f"sigmoid({text}) x {state.y_range[1] - state.y_range[0]:g} + {state.y_range[0]:g}"
        return text

    # ---- actions ------------------------------------------------------------------------------

    def action_step(self) -> None:
        if self.state is not None:
            self.state.step()
            self.refresh_sheet()

    def action_run(self) -> None:
        if self.state is None:
            return
        if self.running:
            self.running.stop()
            self.running = None
            self._show_figures()
            return
        self.running = self.set_interval(TICK_S, self._tick)

    def _tick(self) -> None:
        loss = self.state.step(STEPS_PER_TICK)
        if not np.isfinite(loss):  # too big a learning rate: say so rather than show NaNs forever
            self.running.stop()
            self.running = None
            self.notify("The loss blew up: lower the learning rate (-) and start again (n)", severity="error")
        self.refresh_sheet()

    def action_cycle_view(self) -> None:
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        self.refresh_sheet()

    def action_toggle_bias(self) -> None:
        if self.state is not None:
            self.state.use_bias = not self.state.use_bias
            self.refresh_sheet()

    def action_toggle_y_range(self) -> None:
        if self.state is not None:
            self.state.y_range = None if self.state.y_range else (0.0, 5.5)
            self.refresh_sheet()

    def action_lr(self, factor: float) -> None:
        if self.state is not None:
            self.state.lr *= factor
            self._show_figures()

    def action_new(self) -> None:
        if self.sheet is None:
            return
        from l4tui.inspect.spreadsheet import Spreadsheet

        old = self.state
        self.seed += 1
        self.state = Spreadsheet.random(self.sheet, seed=self.seed, use_bias=old.use_bias, y_range=old.y_range,
                                        lr=old.lr)
        self._build_table()
        self.refresh_sheet()

    @work(exclusive=True, group="sheet-load")
    async def action_trained(self) -> None:
        if self.sheet is None:
            return
        if self.run_dir is None:
            self.notify("Select a collab run in the runs list first, then press x", severity="warning")
            return
        try:
            state = await in_thread(load_trained_sheet, self.run_dir, self.sheet)
        except Exception as error:  # a bad or missing checkpoint: say why, keep the sheet
            self.notify(f"Can't fill the sheet from {self.run_dir.name}: {error}", severity="error")
            return
        if self.running:
            self.action_run()
        self.state = state
        self._build_table()
        self.refresh_sheet()
