"""The Data & training pane: the ratings sample, the runs, and the watched run's live chart.

The pane only reads the runs folder; runs are started through the same launcher as the CLI
and train in their own processes.
"""

import asyncio
import time
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, ProgressBar, Static
from textual_plotext import PlotextPlot

from l4tui.paths import default_ratings_dir
from l4tui.train.events import EventReader
from l4tui.train.progress import Progress, format_seconds, key_metric
from l4tui.train.runs import list_runs, live_state, read_run_file, stop_run

POLL_S = 0.5  # how often the watched run's log is read
RUNS_POLL_S = 2.0  # how often the runs folder is listed


def histogram_text(histogram: dict[float, int], width: int = 20) -> str:
    top = max(histogram.values(), default=1)
    return "\n".join(f" {rating:g} {'█' * max(1, round(width * count / top)):<{width}} {count:,}"
                     for rating, count in histogram.items())


class LossChart(PlotextPlot):
    """Train loss (smoothed, per batch) and valid loss (per epoch) against epochs."""

    def show_progress(self, progress: Progress) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("loss")
        plt.xlabel("epoch")
        epochs = progress.epochs or 1
        iters_per_epoch = (progress.total_iters / epochs) if progress.total_iters else 1
        if progress.train_points:
            plt.plot([i / iters_per_epoch for i, _ in progress.train_points],
                     [loss for _, loss in progress.train_points], label="train", marker="braille")
        if progress.epoch_rows:
            plt.plot([row["epoch"] + 1 for row in progress.epoch_rows],
                     [row["valid_loss"] for row in progress.epoch_rows], label="valid", marker="dot")
        if progress.baseline_rmse:  # what predicting the mean rating scores: the bar to beat
            baseline = progress.baseline_rmse ** 2
            plt.plot([0, epochs], [baseline, baseline], label="mean", color="gray", marker="braille")
        plt.xlim(0, epochs)
        self.refresh()


class DataPane(Vertical):
    BINDINGS = [
        Binding("t", "train", "Train", id="data.train", tooltip="Start a collab training run"),
        Binding("s", "stop", "Stop run", id="data.stop", tooltip="Stop the watched run"),
    ]

    def __init__(self, runs_dir: Path, **kwargs) -> None:
        super().__init__(**kwargs)
        self.runs_dir = Path(runs_dir)
        self.watched: Path | None = None
        self._reader: EventReader | None = None
        self._watched_meta: dict = {}
        self.progress = Progress()
        self._row_keys: list[str] = []
        self.launch_config: dict = {}  # options for the next run; empty means the recipe's defaults

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="data-left"):
                yield Static("Loading the ratings sample ...", id="ratings-summary", markup=False)
                yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
            with Vertical(id="run-view"):
                yield Static("No run yet: press t to train the collab model.", id="run-header",
                             markup=False)
                with Horizontal(id="run-progress"):
                    yield ProgressBar(total=1.0, show_eta=False, id="run-bar")
                    yield Static("", id="run-eta", markup=False)
                yield LossChart(id="loss-chart")
                yield Static("", id="run-metrics", markup=False)

    def on_mount(self) -> None:
        table = self.query_one("#runs-table", DataTable)
        table.add_columns("started", "state", "epoch", "metric")

    def start(self) -> None:
        """Called once the first frame is on screen: read the dataset and the runs folder."""
        self.load_ratings_summary()
        self.refresh_runs(pick_watch=True)
        self.set_interval(POLL_S, self.poll_watched)
        self.set_interval(RUNS_POLL_S, self.refresh_runs)

    # ---- the dataset --------------------------------------------------------------------

    @work(exclusive=True, group="ratings")
    async def load_ratings_summary(self) -> None:
        # Imported here: pandas costs a few hundred ms, which the first paint must not wait for.
        from l4tui.data.ratings import RatingsError, load_ratings, summarize

        widget = self.query_one("#ratings-summary", Static)
        try:
            summary = await asyncio.to_thread(lambda: summarize(load_ratings(default_ratings_dir())))
        except RatingsError as error:
            widget.update(f"Ratings sample unreadable:\n{error}")
            return
        widget.update(
            f"Ratings sample (MovieLens layout)\n"
            f" {summary.rows:,} ratings\n"
            f" {summary.users:,} users · {summary.items:,} items\n"
            f" mean {summary.mean_rating:.2f} · {summary.density:.1%} rated\n"
            f"{histogram_text(summary.histogram)}"
        )

    # ---- the runs list ------------------------------------------------------------------

    @work(exclusive=True, group="runs")
    async def refresh_runs(self, pick_watch: bool = False) -> None:
        runs = await asyncio.to_thread(list_runs, self.runs_dir)
        table = self.query_one("#runs-table", DataTable)
        keys = [run.id for run in runs]
        if keys != self._row_keys:
            selected = self.watched.name if self.watched else None
            table.clear()
            for run in runs:
                table.add_row(*self._row(run), key=run.id)
            self._row_keys = keys
            if selected in keys:
                table.move_cursor(row=keys.index(selected), animate=False)
        else:
            for run in runs:
                for column, value in zip(table.columns, self._row(run)):
                    table.update_cell(run.id, column, value, update_width=True)
        if pick_watch and runs and self.watched is None:
            running = [run for run in runs if run.state == "running"]
            self.watch_run((running or runs)[0].run_dir)

    @staticmethod
    def _row(run) -> tuple[str, str, str, str]:
        started = run.id
        if run.started:  # the time for today's runs, the date for older ones
            today = time.strftime("%Y%m%d") == time.strftime("%Y%m%d", time.localtime(run.started))
            started = time.strftime("%H:%M:%S" if today else "%Y-%m-%d", time.localtime(run.started))
        epoch = "" if run.epoch is None else f"{run.epoch + 1}/{run.epochs or '?'}"
        name, value = key_metric(run.metrics)
        short = {"valid_rmse": "rmse", "accuracy": "acc", "perplexity": "ppl", "suggested_lr": "lr",
                 "valid_loss": "loss"}
        return (started, run.state, epoch, f"{short[name]} {value:.3g}" if name else "")

    @on(DataTable.RowSelected, "#runs-table")
    def _run_selected(self, event: DataTable.RowSelected) -> None:
        self.watch_run(self.runs_dir / str(event.row_key.value))

    # ---- watching one run ---------------------------------------------------------------

    def watch_run(self, run_dir: Path) -> None:
        self.watched = Path(run_dir)
        self._reader = EventReader(self.watched)
        self._watched_meta = {}
        self.progress = Progress()
        self.query_one(LossChart).show_progress(self.progress)  # clear the last run's curves
        self.poll_watched()

    def poll_watched(self) -> None:
        """Read what the watched run wrote since last time (a few bytes, cheap) and redraw."""
        if self._reader is None:
            return
        events = self._reader.read_new()
        if events:
            self.progress.update(events)
            self.query_one(LossChart).show_progress(self.progress)
        self._show_header()

    def _show_header(self) -> None:
        progress = self.progress
        state = progress.end.get("state") if progress.end else self._live_state()
        self.query_one("#run-header", Static).update(f"{state}  {self.watched.name}")  # state first: it must show
        self.query_one("#run-bar", ProgressBar).update(progress=progress.fraction)
        eta = progress.eta_seconds() if state == "running" else None
        # The last epoch seen: batch events are throttled, so a fast run's last one may be older.
        latest = max([progress.epoch, *(row.get("epoch", 0) for row in progress.epoch_rows)])
        epoch = f"epoch {min(latest + 1, progress.epochs or 1)}/{progress.epochs or '?'}"
        self.query_one("#run-eta", Static).update(
            f" {epoch}  ETA {format_seconds(eta)}" if state == "running" else f" {epoch}")
        self.query_one("#run-metrics", Static).update(self._metrics_text(state))

    def _live_state(self) -> str:
        if not self._watched_meta.get("pid"):  # read run.json until the launcher has written the pid
            try:
                self._watched_meta = read_run_file(self.watched)
            except ValueError as error:
                return f"invalid: {error}"
        meta = self._watched_meta
        return live_state(int(meta.get("pid") or 0), self.watched.name, float(meta.get("started") or 0))

    def _metrics_text(self, state: str) -> str:
        progress = self.progress
        if progress.end and progress.end.get("state") == "failed":
            return f"failed: {progress.end.get('error')}"
        if not progress.epoch_rows:
            return "waiting for the first epoch ..." if state in ("running", "starting") else ""
        last = progress.epoch_rows[-1]
        text = f"train_loss {last['train_loss']:.4f}  valid_loss {last['valid_loss']:.4f}"
        name, value = key_metric(last)
        if name and name != "valid_loss":
            values = [row[name] for row in progress.epoch_rows if name in row]
            best = max(values) if name == "accuracy" else min(values)
            text += f"  {name} {value:.4f} (best {best:.4f})"
        if progress.baseline_rmse:
            text += f"  mean baseline {progress.baseline_rmse:.4f}"
        return text

    # ---- actions ------------------------------------------------------------------------

    def action_train(self) -> None:
        self.start_training()

    @work(exclusive=True, group="launch")
    async def start_training(self) -> None:
        from l4tui.train.launcher import start_run

        try:
            run_dir = await asyncio.to_thread(start_run, "collab", self.launch_config, self.runs_dir)
        except (ValueError, OSError) as error:
            self.app.notify(str(error), title="Could not start the run", severity="error")
            return
        self.app.notify(f"Started {run_dir.name}")
        self.watch_run(run_dir)
        self.refresh_runs()

    def action_stop(self) -> None:
        if self.watched is None or not stop_run(self.watched):
            self.app.notify("The watched run is not running", severity="warning")
            return
        self.app.notify(f"Asked {self.watched.name} to stop")
