"""The Data & training pane: the runs list on the left, the watched run's live monitor on the right.

The pane only reads the runs folder; runs are started, stopped and resumed through the same
launcher as the CLI and train in their own processes, so they outlive the app.
"""

import shutil
import threading
import time
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from l4tui.runs.progress import RUN_COLUMNS, column_width, columns_that_fit, run_cells
from l4tui.runs.store import RunInfo, RunsIndex, runs_dir_problem, stop_run
from l4tui.ui.confirm import ConfirmScreen
from l4tui.ui.priority import in_launcher
from l4tui.ui.run_monitor import RunMonitor
from l4tui.ui.tables import DataTable
from l4tui.ui.off_thread import in_thread

RUNS_POLL_S = 2.0  # how often the list's running times move on (each run's log is tailed, not re-read)
LOOK_S = 0.5  # how often the runs folder is glanced at (a few stats): new runs and new states show this fast
MARK = "●"


def row_time(row: dict[str, str]) -> str:
    return f"trained {row['time']}" if row.get("time") else ""
LEFT_SHARE = 0.45  # the runs list takes up to this share of the pane's width, and what its columns need
LEFT_MIN = 40  # ... and at least this many columns (half of an 80-column terminal)
LEFT_CHROME = 3  # its right border and the table's scrollbar


class DataPane(Vertical):
    HELP_KEYS = [("Enter", "Watch the run under the cursor")]  # the runs table's Enter: _run_selected
    BINDINGS = [
        Binding("n", "new_run", "New", id="data.new_run",
                tooltip="Open the launch form (Tab: next field; Ctrl-S or Enter: start; Ctrl-L: find lr; Esc: cancel)"),
        Binding("s", "stop", "Stop", id="data.stop", tooltip="Stop the watched run (it checkpoints first)"),
        Binding("r", "resume", "Resume", id="data.resume", show=False, tooltip="Resume the watched run from its checkpoint"),
        Binding("space", "mark", "Mark", id="data.mark", show=False, tooltip="Mark the run under the cursor for comparing"),
        Binding("c", "compare", "Compare", id="data.compare", show=False, tooltip="Overlay the marked runs (or stop comparing)"),
        Binding("v", "cycle_chart", "Chart", id="data.chart", tooltip="Loss, metric or schedule chart"),
        Binding("l", "log_y", "Log y", id="data.log_y", show=False, tooltip="Log scale on the y axis"),
        Binding("z", "zoom", "Zoom", id="data.zoom", show=False, tooltip="All steps, or the last 2000/500/100"),
        Binding("left_square_bracket", "smoothing(-1)", "Less smoothing", id="data.smooth_less", show=False),
        Binding("right_square_bracket", "smoothing(1)", "More smoothing", id="data.smooth_more", show=False),
        Binding("p", "pause", "Pause", id="data.pause", show=False, tooltip="Freeze the charts (the run goes on)"),
        Binding("m", "compare_metric", "Metric", id="data.compare_metric", show=False,
                tooltip="The figure the compare chart shows"),
        Binding("d", "delete", "Delete", id="data.delete", show=False, tooltip="Delete the selected run"),
        Binding("o", "folder", "Folder", id="data.folder", show=False,
                tooltip="Show the run's folder and copy its path"),
        Binding("x", "spreadsheet", "Sheet", id="data.spreadsheet",
                tooltip="The lesson's collab spreadsheet: gradient descent cell by cell (the selected "
                        "collab run's data and trained model, else the bundled ratings)"),
        Binding("t", "text_steps", "Text", id="data.text_steps",
                tooltip="Text to tokens, ids, vocab and an LM batch (the selected text run's data, else "
                        "the bundled IMDB sample)"),
        Binding("a", "tabular_steps", "Table", id="data.tabular_steps",
                tooltip="A table's columns and its rows before and after the procs (the selected tabular run's "
                        "data, else the bundled adult sample)"),
        Binding("e", "embeddings", "Embeddings", id="data.embeddings",
                tooltip="Nearest neighbours and a 2-D map of the selected run's embeddings"),
        Binding("escape", "back", "Back", id="data.back", show=False, tooltip="Stop comparing"),
    ]

    def __init__(self, runs_dir: Path, **kwargs) -> None:
        super().__init__(**kwargs)
        self.runs_dir = Path(runs_dir)
        self.index = RunsIndex(self.runs_dir)
        self._index_lock = threading.Lock()  # one reader of the index at a time: a cancelled look's thread runs on
        self.runs: dict[str, RunInfo] = {}
        self.marked: list[str] = []
        self._row_keys: list[str] = []
        self._shown: dict[str, dict] = {}  # each row's cells as the table shows them
        self._columns: list[str] = []  # the columns shown, in the order of importance
        self._timed_at = 0.0  # when the running times were last updated in the list
        self._select: str | None = None  # a run to highlight and focus once the list shows it
        self._listed_at = 0.0  # when the runs folder was last looked at
        self._listing = False  # a look at the runs folder is under way (a first look at long logs takes a while)
        self.launch_config: dict = {}  # the last form's values, to start from next time

    DEFAULT_CSS = """
    DataPane #runs-problem { display: none; height: auto; padding: 0 1; color: $error; }
    DataPane #runs-problem.shown { display: block; }
    DataPane #data-left { width: 44; border-right: solid $panel; }
    DataPane #runs-title { height: 1; padding: 0 1; text-style: bold; }
    DataPane #runs-table { height: 1fr; }
    DataPane #run-view { width: 1fr; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        # Why the runs folder cannot be read or written (a file in its path, read-only ...), when so.
        yield Static("", id="runs-problem", markup=False)
        with Horizontal():
            with Vertical(id="data-left"):
                yield Static("Runs · n new · space mark · c compare", id="runs-title", markup=False)
                yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
            yield RunMonitor(id="run-view")

    def on_mount(self) -> None:
        self._show_columns([], {})

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """The footer offers only the keys that work now: Stop while the watched run runs, Chart
        once a run is watched, Embeddings with a run under the cursor (the others always work)."""
        return self._keys_that_work().get(action, True)

    def _keys_that_work(self) -> dict[str, bool]:
        if not self.is_attached or not self.query("#runs-table"):
            return {"stop": False, "cycle_chart": False, "embeddings": False}
        watched = self.runs.get(self.watched.name) if self.watched else None
        return {"stop": watched is not None and watched.state in ("running", "starting"),
                "cycle_chart": self.watched is not None, "embeddings": self._cursor_run() is not None}

    def _update_footer_keys(self) -> None:
        """The footer again, when what works has changed (it is composed anew each time)."""
        working = self._keys_that_work()
        if working != getattr(self, "_footer_keys", None):
            self._footer_keys = working
            self.refresh_bindings()

    @on(DataTable.RowHighlighted, "#runs-table")
    def _cursor_moved(self, event: DataTable.RowHighlighted) -> None:
        self._update_footer_keys()

    def on_resize(self) -> None:
        if self._columns_for(self._shown) != self._columns:
            self._show_columns([self.runs[key] for key in self._row_keys if key in self.runs], self._shown)

    def on_run_monitor_state_changed(self, event: RunMonitor.StateChanged) -> None:
        """The watched run's state changed in the monitor: the list reads the folder now, so the
        two say the same thing (both follow l4tui.runs.store.run_state)."""
        shown = self._shown.get(event.run_dir.name, {}).get("state")
        if shown is not None and shown != event.state and not self._listing:
            self.refresh_runs()

    def start(self) -> None:
        """Called once the first frame is on screen: read the runs folder, then keep watching it."""
        self.refresh_runs(pick_watch=True)
        self.set_interval(LOOK_S, self._refresh_runs_when_due)

    def _refresh_runs_when_due(self) -> None:
        """Every LOOK_S a glance at the runs folder (RunsIndex.changed: a few stats, nothing
        read): a new run, a run's new events or a process gone make the list read it at once,
        so it shows a new run and a run's new state within a second. Without a change the
        running times move on every RUNS_POLL_S, or as seldom as the monitor's charts when it
        stretches them to keep the app within its CPU budget (run_monitor.py)."""
        if self._listing or not self._index_lock.acquire(blocking=False):
            return  # the look under way would be cancelled by a new one, and never finish on a slow machine
        try:
            changed = self.index.changed()
        finally:
            self._index_lock.release()
        if changed or time.monotonic() - self._listed_at >= max(RUNS_POLL_S, self.monitor.redraw_s) - 0.1:
            self.refresh_runs()

    @property
    def monitor(self) -> RunMonitor:
        return self.query_one(RunMonitor)

    @property
    def watched(self) -> Path | None:
        return self.monitor.run_dir

    # ---- the runs list ------------------------------------------------------------------

    @work(exclusive=True, group="runs")
    async def refresh_runs(self, pick_watch: bool = False, select: str | None = None) -> None:
        """Read the runs folder into the list; `select`: highlight that run and give the list
        the focus (a run just launched: the user acts on it next). It holds until a look
        shows that run: a later look that cancels this one selects it then."""
        self._listed_at = time.monotonic()
        select = self._select = select or self._select

        def look() -> tuple[list[RunInfo], str | None]:
            with self._index_lock:
                runs = self.index.refresh()
                return runs, self.index.problem or runs_dir_problem(self.runs_dir, writing=True)

        self._listing = True
        try:
            runs, problem = await in_thread(look)
        finally:
            self._listing = False
        self._show_problem(problem)
        self.runs = {run.id: run for run in runs}
        self.marked = [run_id for run_id in self.marked if run_id in self.runs]
        table = self.query_one("#runs-table", DataTable)
        keys = [run.id for run in runs]
        timed = time.monotonic() - self._timed_at >= max(RUNS_POLL_S, self.monitor.redraw_s) - 0.1
        if timed:
            self._timed_at = time.monotonic()
        rows = {run.id: self._row(run) for run in runs}
        if not timed:  # the running times move on every RUNS_POLL_S only: each update costs a layout
            for run_id, row in rows.items():
                if run_id in self._shown and row["state"] == self._shown[run_id]["state"]:
                    row["time"] = self._shown[run_id]["time"]
        if keys != self._row_keys or self._columns_for(rows) != self._columns:
            self._show_columns(runs, rows)
        else:  # only the cells that changed: each update costs the table a new layout
            for run in runs:
                row, before = rows[run.id], self._shown.get(run.id, {})
                for column in self._columns:
                    if row[column] != before.get(column):
                        table.update_cell(run.id, column, row[column],
                                          update_width=len(row[column]) != len(before.get(column) or ""))
        self._shown = rows
        watched = self.runs.get(self.watched.name) if self.watched else None
        if watched is not None:
            self.monitor.show_time(row_time(rows[watched.id]))
        if watched is not None and watched.state != self.monitor.shown_state:
            self.monitor.poll()  # the list saw the watched run's new state first: the header follows now
        if select in keys:
            self._select = None
            table.move_cursor(row=keys.index(select), animate=False)
            self.focus_list()
        running = [run for run in runs if run.state in ("running", "starting")]
        if self.watched is None and runs and (pick_watch or running):  # a run started elsewhere, when none is watched
            self.watch_run((running or runs)[0].run_dir)
        self._update_footer_keys()

    def _show_problem(self, problem: str | None) -> None:
        line = self.query_one("#runs-problem", Static)
        if problem != getattr(self, "_problem", None):
            self._problem = problem
            line.update(problem or "")
            line.set_class(bool(problem), "shown")

    def _row(self, run: RunInfo) -> dict[str, str]:
        return run_cells(run, run.id in self.marked, MARK)

    def _columns_for(self, rows: dict[str, dict]) -> list[str]:
        """The columns that fit the list, whole, in the order of importance (progress.py):
        the list widens for them up to LEFT_SHARE of the pane; what does not fit then is left
        out of the list (the monitor shows it for the watched run)."""
        wanted = sum(column_width(key, list(rows.values())) for key, _ in RUN_COLUMNS) + LEFT_CHROME
        width = min(wanted, max(LEFT_MIN, int(self.size.width * LEFT_SHARE))) if self.size.width else 44
        left = self.query_one("#data-left")
        if left.styles.width is None or left.styles.width.value != width:
            left.styles.width = width
        return columns_that_fit(list(rows.values()), width - LEFT_CHROME)

    def _show_columns(self, runs: list[RunInfo], rows: dict[str, dict]) -> None:
        """The table made anew: the columns that fit (in the table's order), then the rows,
        the cursor kept on its run (else on the watched one)."""
        table = self.query_one("#runs-table", DataTable)
        cursor_key = self._row_keys[table.cursor_row] if 0 <= table.cursor_row < len(self._row_keys) else None
        columns = self._columns_for(rows)
        table.clear(columns=True)
        for key, title in RUN_COLUMNS:
            if key in columns:
                table.add_column(title, key=key, width=1 if key == "mark" else None)
        for run in runs:
            table.add_row(*(rows[run.id][key] for key, _ in RUN_COLUMNS if key in columns), key=run.id)
        self._columns = columns
        keys = [run.id for run in runs]
        self._row_keys = keys
        keep = cursor_key if cursor_key in keys else (self.watched.name if self.watched else None)
        if keep in keys:
            table.move_cursor(row=keys.index(keep), animate=False)

    def focus_list(self) -> None:
        """The keyboard focus on the runs list (after a form or a screen it opened closes)."""
        if self.is_attached and self.app.screen is self.screen:
            self.screen.set_focus(self.query_one("#runs-table", DataTable))

    def _back_to_list(self, _result=None) -> None:
        """A modal this pane opened closed: the list takes the focus once the pane's screen is back."""
        self.call_after_refresh(self.focus_list)

    def _cursor_run(self) -> RunInfo | None:
        table = self.query_one("#runs-table", DataTable)
        if 0 <= table.cursor_row < len(self._row_keys):
            return self.runs.get(self._row_keys[table.cursor_row])
        return None

    def selected_run(self) -> RunInfo | None:
        """The run under the runs list's cursor (the Code pane's K looks in its weights)."""
        return self._cursor_run()

    @on(DataTable.RowSelected, "#runs-table")
    def _run_selected(self, event: DataTable.RowSelected) -> None:
        self.watch_run(self.runs_dir / str(event.row_key.value))

    def watch_run(self, run_dir: Path) -> None:
        self.monitor.watch(run_dir)
        self.monitor.show_time(row_time(self._shown.get(Path(run_dir).name, {})))
        self._update_footer_keys()

    # ---- starting runs ------------------------------------------------------------------

    def action_spreadsheet(self) -> None:
        from l4tui.ui.spreadsheet_screen import SpreadsheetScreen

        run = self._cursor_run()
        if run is not None and run.family == "collab":
            self.app.push_screen(SpreadsheetScreen(run.config.get("data"), run.run_dir), self._back_to_list)
        else:
            self.app.push_screen(SpreadsheetScreen(), self._back_to_list)

    def action_text_steps(self) -> None:
        from l4tui.ui.text_screen import TextScreen

        run = self._cursor_run()
        text_run = run is not None and run.family in ("lm", "classifier") and run.config.get("data")
        self.app.push_screen(TextScreen(run.config["data"] if text_run else None), self._back_to_list)

    def action_tabular_steps(self) -> None:
        from l4tui.ui.tabular_screen import TabularScreen

        run = self._cursor_run()
        if run is not None and run.family == "tabular" and run.config.get("data"):
            config = run.config  # the run's data read as the run read it: a user's CSV needs its columns
            self.app.push_screen(TabularScreen(config["data"], config.get("y_name"), config.get("cat_names"),
                                               config.get("cont_names")), self._back_to_list)
        else:
            self.app.push_screen(TabularScreen(), self._back_to_list)

    def action_embeddings(self) -> None:
        from l4tui.ui.embeddings_screen import EmbeddingsScreen

        run = self._cursor_run()
        if run is None:
            self.app.notify("Select a run in the list first: its checkpoint has the embeddings", severity="warning")
            return
        self.app.push_screen(EmbeddingsScreen(run.run_dir), self._back_to_list)

    def action_new_run(self) -> None:
        from l4tui.ui.launch_screen import LaunchScreen

        self.app.push_screen(LaunchScreen(self.runs_dir, self.launch_config), self._launched)

    def _launched(self, result) -> None:
        if not result:
            self._back_to_list()
            return
        run_dir, config = result
        self.launch_config = config
        self.app.notify(f"Started {run_dir.name}")
        self.watch_run(run_dir)
        self.refresh_runs(select=run_dir.name)  # highlighted, watched and focused: r, s, space act on it

    @work(exclusive=True, group="launch")
    async def start_training(self, family: str = "collab", config: dict | None = None) -> None:
        """Start a run straight away (no form): used by scripts and tests."""
        from l4tui.train.launcher import start_run

        try:
            run_dir = await in_launcher(self.app.launcher, start_run, family, config or {}, self.runs_dir)
        except (ValueError, OSError) as error:
            self.app.notify(str(error), title="Could not start the run", severity="error")
            return
        self._launched((run_dir, config or {}))

    # ---- acting on runs -----------------------------------------------------------------

    def action_stop(self) -> None:
        if self.watched is None or not stop_run(self.watched):
            self.app.notify("The watched run is not running", severity="warning")
            return
        self.app.notify(f"Asked {self.watched.name} to stop: it checkpoints, then ends")

    @work(exclusive=True, group="launch")
    async def action_resume(self, checkpoint: str | None = None) -> None:
        """Resume the watched run from last.pt; when that is damaged, offer the sound earlier
        checkpoint the launcher names (l4tui/runs/checkpoints.py) and resume from it on a yes."""
        from l4tui.runs.checkpoints import CheckpointError
        from l4tui.train.launcher import resume_run

        if self.watched is None:
            return
        run_dir = self.watched
        try:
            await in_launcher(self.app.launcher, resume_run, run_dir, checkpoint)
        except CheckpointError as error:
            offer = error.offer  # `error` is gone once the except block ends
            if offer and checkpoint is None:
                question = f"{str(error).split('; resume from')[0]}. Resume from {offer} instead?"

                def answered(yes: bool | None) -> None:
                    self._back_to_list()
                    if yes and self.watched == run_dir:
                        self.action_resume(offer)

                self.app.push_screen(ConfirmScreen(question), answered)
            else:
                self.app.notify(str(error), title="Could not resume", severity="warning")
            return
        except (ValueError, OSError) as error:
            self.app.notify(str(error), title="Could not resume", severity="warning")
            return
        self.app.notify(f"Resumed {run_dir.name}" + (f" from {checkpoint}" if checkpoint else ""))
        self.refresh_runs()

    def action_mark(self) -> None:
        run = self._cursor_run()
        if run is None:
            return
        if run.id in self.marked:
            self.marked.remove(run.id)
        else:
            self.marked.append(run.id)
        self.query_one("#runs-table", DataTable).update_cell(run.id, "mark", MARK if run.id in self.marked else "")
        self._shown.setdefault(run.id, self._row(run))["mark"] = MARK if run.id in self.marked else ""

    def action_compare(self) -> None:
        if self.monitor.comparing:
            self.action_back()
            return
        if len(self.marked) < 2:
            self.app.notify("Mark two or more runs with space, then press c", severity="warning")
            return
        self.monitor.compare([self.runs_dir / run_id for run_id in self.marked])

    def action_back(self) -> None:
        if self.monitor.comparing:
            self.monitor.stop_comparing()

    def action_compare_metric(self) -> None:
        if self.monitor.comparing:
            self.monitor.cycle_compare_metric()

    def action_cycle_chart(self) -> None:
        self.monitor.cycle_chart()

    def action_log_y(self) -> None:
        self.app.notify(f"log y {'on' if self.monitor.toggle_log_y() else 'off'}", timeout=1.5)

    def action_zoom(self) -> None:
        window = self.monitor.cycle_window()
        self.app.notify(f"showing the last {window} steps" if window else "showing every step", timeout=1.5)

    def action_smoothing(self, step: int) -> None:
        self.app.notify(f"smoothing {self.monitor.change_smoothing(step):g}", timeout=1.5)

    def action_pause(self) -> None:
        self.app.notify("charts paused (the run goes on)" if self.monitor.toggle_pause() else "charts live",
                        timeout=1.5)

    def action_folder(self) -> None:
        run = self._cursor_run()
        if run is None:
            return
        path = str(run.run_dir.resolve())
        self.app.copy_to_clipboard(path)  # OSC 52: reaches the user's clipboard over SSH too
        self.app.notify(path, title="Run folder (copied)")

    def action_delete(self) -> None:
        run = self._cursor_run()
        if run is None:
            return
        if run.state in ("running", "starting"):
            self.app.notify("Stop the run before deleting it", severity="warning")
            return
        question = f"Delete run {run.id} ({run.state}) and its checkpoints?"

        def answered(yes: bool | None) -> None:
            self._back_to_list()
            if yes:
                shutil.rmtree(run.run_dir, ignore_errors=True)
                if self.watched == run.run_dir:
                    self.monitor.clear()
                self.app.notify(f"Deleted {run.id}")
                self.refresh_runs()

        self.app.push_screen(ConfirmScreen(question), answered)
