"""The live monitor of one run: header, progress, charts, and the figures (or the error) below.

It tails the run's events file (only new bytes are read each poll) and redraws the visible
charts only when something new arrived, and not while paused. A run's whole log is read once,
in a thread, when it is first watched: a run with 100,000 logged steps opens in well under a second.
"""

import os
import time
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import ProgressBar, Static

from l4tui.runs.events import EventReader, gc_paused
from l4tui.runs.progress import (SEPARATOR, Progress, common_metrics, fit_parts, key_metric, key_parts,
                                 preparing_text, progress_parts, wrap_parts)
from l4tui.runs.store import read_run_file, run_state
from l4tui.runs.untrusted import tail_lines
from l4tui.ui.run_charts import (SMOOTHINGS, WINDOWS, ChartOptions, CompareChart, LossChart, LrFindChart,
                                 MetricChart, RunChart, ScheduleChart)
from l4tui.ui.off_thread import in_thread

POLL_S = 1.0  # how often the watched run's log is read (and the progress line updated)
CHART_REDRAW_S = 2.0  # the charts are redrawn at most this often: drawing them is the app's main cost
MAX_CHART_REDRAW_S = 10.0  # ... and at least this often while new events come in
CPU_BUDGET = 0.01  # the share of the machine's CPU the app may use while it watches a run
CHARTS = ("loss", "metric", "schedule")  # what `v` cycles through when only one chart fits
ROOMY_HEIGHT = 30  # from this many rows the monitor shows the loss chart and the other two below it
LOG_TAIL_LINES = 8
BAR_MIN = 6  # the progress bar's narrowest: the line beside it takes the rest


class RunMonitor(Vertical):
    """Watches one run (or compares several) in the Data & training pane."""

    class StateChanged(Message):
        """The watched run's state, as the header shows it, changed (its pane's list follows)."""

        def __init__(self, run_dir: Path, state: str) -> None:
            super().__init__()
            self.run_dir, self.state = run_dir, state

    DEFAULT_CSS = """
    RunMonitor #run-header { height: 1; text-style: bold; text-wrap: nowrap; text-overflow: ellipsis; }
    RunMonitor #run-progress { height: 1; }
    RunMonitor #run-bar { width: 1fr; min-width: 6; }
    RunMonitor #run-bar Bar { width: 1fr; }
    RunMonitor #run-eta { width: auto; }
    RunMonitor #run-more { height: 1; display: none; color: $text-muted; text-wrap: nowrap; }
    RunMonitor #charts { height: 1fr; min-height: 6; }
    RunMonitor #charts > PlotextPlot { height: 1fr; }
    RunMonitor #chart-row { height: 1fr; }
    RunMonitor #chart-row > PlotextPlot { width: 1fr; height: 1fr; }
    RunMonitor #run-metrics { height: auto; max-height: 12; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.run_dir: Path | None = None
        self.progress = Progress()
        self.options = ChartOptions()
        self.chart = "loss"  # the one shown when only one fits
        self.paused = False
        self.comparing: list[Path] = []
        self.compare_metric = "valid_loss"
        self._compare_progress: list[tuple[str, Progress]] = []
        self._compare_metrics: list[str] = ["valid_loss"]  # the figures all compared runs have
        self._reader: EventReader | None = None
        self._meta: dict = {}
        self._meta_problem: str | None = None  # why run.json is not sound, when it is not
        self._dirty = False
        self._roomy = False
        self._loading = False
        self._drawn_at = 0.0
        self._texts: dict[str, str] = {}  # what each text line shows now
        self.shown_state = ""  # the watched run's state as the header shows it
        self.run_time = ""  # its training time, from the runs list (show_time)
        self.redraw_s = CHART_REDRAW_S  # stretched to keep the app within CPU_BUDGET
        self._cpu_samples: list[tuple[float, float]] = []  # (time, the app's CPU seconds) of recent polls

    def compose(self) -> ComposeResult:
        yield Static("No run yet: press n to start one.", id="run-header", markup=False)
        with Horizontal(id="run-progress"):
            yield ProgressBar(total=1.0, show_eta=False, show_percentage=False, id="run-bar")
            yield Static("", id="run-eta", markup=False)
        yield Static("", id="run-more", markup=False)
        with Vertical(id="charts"):
            yield LossChart(id="loss-chart")
            yield LrFindChart(id="lr-find-chart")
            yield CompareChart(id="compare-chart")
            with Horizontal(id="chart-row"):
                yield MetricChart(id="metric-chart")
                yield ScheduleChart(id="schedule-chart")
        yield Static("", id="run-metrics", markup=False)

    def on_mount(self) -> None:
        self.set_interval(POLL_S, self.poll)
        self._layout_charts()

    def on_resize(self) -> None:
        if self.run_dir is not None and not self.comparing and not self._loading:
            self._show_text()  # the progress lines fit the new width
        roomy = self.size.height >= ROOMY_HEIGHT
        if roomy != self._roomy:
            self._roomy = roomy
            self._layout_charts()
            self._redraw()

    # ---- which charts show --------------------------------------------------------------

    def _layout_charts(self) -> None:
        lr_find = self.progress.mode == "lr_find" or self._meta.get("mode") == "lr_find"
        shown = set()
        if self.comparing:
            shown = {"compare-chart"}
        elif lr_find:
            shown = {"lr-find-chart"}
        elif self._roomy:
            shown = {"loss-chart", "metric-chart", "schedule-chart"}
        else:
            shown = {f"{self.chart}-chart"}
        for chart_id in ("loss-chart", "lr-find-chart", "compare-chart", "metric-chart", "schedule-chart"):
            self.query_one(f"#{chart_id}").display = chart_id in shown
        self.query_one("#chart-row").display = bool(shown & {"metric-chart", "schedule-chart"})

    def _redraw(self) -> None:
        if self.comparing:
            self.query_one(CompareChart).show_runs(self._compare_progress, self.compare_metric, self.options.log_y)
            return
        for chart in self.query(RunChart):
            if chart.display:
                chart.show(self.progress, self.options)
        self._dirty = False
        self._drawn_at = time.monotonic()

    # ---- watching -----------------------------------------------------------------------

    def watch(self, run_dir: Path) -> None:
        """Watch this run from its first event."""
        self.comparing = []
        self.run_dir = Path(run_dir)
        self.shown_state, self.run_time = "", ""
        self._reader = EventReader(self.run_dir)
        self._meta = {}
        self.progress = Progress()
        self._read_meta()
        self._layout_charts()
        self._redraw()  # clear the last run's curves at once
        self._loading = True
        self._cpu_samples, self.redraw_s = [], CHART_REDRAW_S  # reading a history is not watching's cost
        self.load_history()

    def clear(self) -> None:
        """Watch nothing (the watched run was deleted)."""
        self.run_dir, self._reader, self._loading, self.comparing = None, None, False, []
        self.progress = Progress()
        self._layout_charts()
        self._redraw()
        self._set_text("#run-header", "No run watched: choose one, or press n to start one.")
        self.shown_state, self.run_time = "", ""
        self._set_text("#run-eta", "")
        self._set_text("#run-more", "")
        self.query_one("#run-more").display = False
        self._set_text("#run-metrics", "")

    @work(exclusive=True, group="monitor-load")
    async def load_history(self) -> None:
        reader, progress = self._reader, self.progress
        def read() -> None:  # a long log is parsed off the UI thread
            events = reader.read_new()
            with gc_paused():
                progress.update(events)

        await in_thread(read)
        if reader is not self._reader:
            return  # another run was chosen meanwhile
        self._loading = False
        self._cpu_samples = []  # the budget counts from here: drawing the history is not watching
        self._layout_charts()
        self._redraw()
        self._show_text()

    def poll(self) -> None:
        """Read what the watched run wrote since the last poll (a few bytes) and redraw if needed."""
        if self.comparing or self._reader is None or self._loading:
            return  # while the history loads, its thread owns the reader
        events = self._reader.read_new()
        if events:
            self.progress.update(events)
            self._dirty = True
        if any(e.get("type") == "start" for e in events):
            self._layout_charts()
        self._keep_to_budget()
        if self._dirty and not self.paused and time.monotonic() - self._drawn_at >= self.redraw_s:
            self._redraw()
        self._show_text()

    def _keep_to_budget(self) -> None:
        """Stretch the charts' redraw interval while the app uses more than CPU_BUDGET of the
        machine (over the last few seconds), shrink it back when it uses less than half of that.

        Every bit of CPU the app takes on a machine whose cores the run keeps busy is taken from
        the run: on a 2-core machine the budget is 2% of one core, and the charts slow down to
        fit it (the progress line still moves every second); on a 16-core GPU box it is 16%,
        and they are redrawn every CHART_REDRAW_S."""
        # The UI thread's own CPU (drawing, the event loop); background threads (jedi warming up,
        # a long log being read) are work the user asked for, not the cost of watching.
        now, cpu = time.monotonic(), time.thread_time()
        self._cpu_samples.append((now, cpu))
        while len(self._cpu_samples) > 2 and now - self._cpu_samples[0][0] > 6:
            self._cpu_samples.pop(0)
        then, cpu_then = self._cpu_samples[0]
        if now - then < 3:
            return
        used = (cpu - cpu_then) / (now - then)  # cores
        budget = CPU_BUDGET * (os.cpu_count() or 1)
        if used > budget:
            self.redraw_s = min(MAX_CHART_REDRAW_S, self.redraw_s * 1.5)
        elif used < budget / 2:
            self.redraw_s = max(CHART_REDRAW_S, self.redraw_s / 1.5)

    def _read_meta(self) -> None:
        try:
            self._meta, self._meta_problem = read_run_file(self.run_dir), None
        except ValueError as error:
            self._meta, self._meta_problem = {}, str(error)

    def _problem(self) -> str | None:
        """Why the watched run is invalid (its run.json or its log is not sound), when it is."""
        return self._meta_problem or (self._reader.problem if self._reader is not None else None)

    def state(self) -> str:
        """The watched run's state by the runs list's rule (l4tui.runs.store.run_state)."""
        if self.run_dir is None:
            return ""
        end_state = str(self.progress.end.get("state", "finished")) if self.progress.end else None
        if end_state is None and not self._problem() and (not self._meta.get("pid") or not self._alive()):
            self._read_meta()  # the launcher writes the pid just after starting; resume writes a new one
        meta = self._meta
        return run_state(self._problem() or (None if meta else "no run.json"), end_state,
                         int(meta.get("pid") or 0), self.run_dir.name, float(meta.get("started") or 0))

    def _alive(self) -> bool:
        from l4tui.runs.store import process_alive

        return process_alive(int(self._meta.get("pid") or 0), self.run_dir.name)

    # ---- the text around the charts -----------------------------------------------------

    def _show_text(self) -> None:
        if self.comparing:
            return
        progress, state = self.progress, self.state()
        family = self._meta.get("family", "")
        mode = " lr_find" if self._meta.get("mode") == "lr_find" else ""
        flags = "  [paused]" if self.paused else ""
        spent = f"  {self.run_time}" if self.run_time else ""
        self._set_text("#run-header", f"{state}  {family}{mode}{spent}  {self.run_dir.name}{flags}")
        bar = self.query_one("#run-bar", ProgressBar)
        if bar.progress != progress.fraction:
            bar.update(progress=progress.fraction)
        line, more = self._progress_lines(state)
        self._set_text("#run-eta", line)
        self._set_text("#run-more", more)
        self.query_one("#run-more").display = bool(more)
        self._set_text("#run-metrics", self._metrics_text(state))
        if state != self.shown_state:
            self.shown_state = state
            self.post_message(self.StateChanged(self.run_dir, state))

    def show_time(self, text: str) -> None:
        """The watched run's training time, as the runs list counts it (RunInfo.duration)."""
        if text != self.run_time:
            self.run_time = text
            if self.run_dir is not None and not self.comparing:
                self._show_text()

    def _set_text(self, selector: str, text: str) -> None:
        """Update a line only when it changed. The lines' sizes follow their text (width or height
        auto), but a new layout of the screen costs more than all the rest of a poll: it is asked
        for only when the text's length or line count changed, the only ways its size can."""
        old = self._texts.get(selector)
        if old != text:
            self._texts[selector] = text
            resized = old is None or len(old) != len(text) or old.count("\n") != text.count("\n")
            self.query_one(selector, Static).update(text, layout=resized)

    def _progress_lines(self, state: str) -> tuple[str, str]:
        """The progress line beside the bar, and the line below it for what does not fit there:
        epoch, step and ETA first, whole; the pace, a resume's redone steps, the threads after
        (progress.py: progress_parts, fit_parts)."""
        width = self.size.width or 80
        parts = progress_parts(self.progress, state)
        keep = key_parts(parts, state)
        line, more = fit_parts(parts, width - BAR_MIN - 1, width, keep)
        bar = bool(line) and line.count(SEPARATOR) + 1 >= keep
        if not bar:  # the epoch, step and ETA come before the bar: it makes way for them
            line, more = fit_parts(parts, width - 1, width, keep)
        self.query_one("#run-bar").display = bar
        return " " + line, more

    def _metrics_text(self, state: str) -> str:
        progress = self.progress
        end = progress.end or {}
        if state == "invalid":
            return f"invalid: {self._problem() or 'no run.json'}"
        if end.get("state") == "failed":
            lines = [f"failed: {end.get('error')}"]
            log = tail_lines(self.run_dir / "stderr.log", LOG_TAIL_LINES)
            return "\n".join(lines + ["── last lines of stderr.log ──", *log] if log else lines)
        if state == "died":
            log = tail_lines(self.run_dir / "stderr.log", LOG_TAIL_LINES)
            return "\n".join(["died: the process is gone without an end event (killed? out of memory?)", *log])
        if progress.mode == "lr_find" or self._meta.get("mode") == "lr_find":
            suggested = progress.suggested_lr
            return f"suggested lr {suggested:.3g}" if suggested else "sweeping the learning rate ..."
        if not progress.epoch_rows:
            if state in ("running", "starting") and (preparing := preparing_text(progress)):
                return preparing + " ..."  # tokenizing a big corpus, before the first batch
            return "waiting for the first epoch ..." if state in ("running", "starting") else ""
        last = progress.epoch_rows[-1]
        parts = [f"train {last.get('train_loss', float('nan')):.4f}", f"valid {last.get('valid_loss', float('nan')):.4f}"]
        name, value = key_metric(last)
        if name and name != "valid_loss":
            best_name, best = progress.best()
            parts.append(f"{name} {value:.4f}")
            if best_name == name and f"{best:.4f}" != f"{value:.4f}":
                parts.append(f"(best {best:.4f})")
        if name == "perplexity" and isinstance(last.get("accuracy"), (int, float)):
            parts.append(f"accuracy {last['accuracy']:.4f}")  # the LM: the lesson reports both
        if progress.baseline_rmse:
            parts.append(f"mean baseline {progress.baseline_rmse:.4f}")
        text = "\n".join(wrap_parts(parts, self.size.width or 80))  # a figure never split from its name
        if progress.pretrained:
            text += f"\n{progress.pretrained}"
        stats = progress.device_stats
        if stats.get("gpu_mem_mib"):
            text += f"\nGPU {stats['gpu_mem_mib'] / 1024:.1f}/{stats.get('gpu_mem_total_mib', 0) / 1024:.0f} GiB"
            if "gpu_util" in stats:
                text += f" · {stats['gpu_util']}% busy"
        return text

    # ---- the viewer's controls ----------------------------------------------------------

    def cycle_chart(self) -> str:
        self.chart = CHARTS[(CHARTS.index(self.chart) + 1) % len(CHARTS)]
        self._layout_charts()
        self._redraw()
        return self.chart

    def toggle_log_y(self) -> bool:
        self.options.log_y = not self.options.log_y
        self._redraw()
        return self.options.log_y

    def cycle_window(self) -> int | None:
        self.options.window = WINDOWS[(WINDOWS.index(self.options.window) + 1) % len(WINDOWS)]
        self._redraw()
        return self.options.window

    def change_smoothing(self, step: int) -> float:
        index = SMOOTHINGS.index(self.options.smoothing) if self.options.smoothing in SMOOTHINGS else 3
        self.options.smoothing = SMOOTHINGS[min(max(index + step, 0), len(SMOOTHINGS) - 1)]
        self._redraw()
        return self.options.smoothing

    def toggle_pause(self) -> bool:
        self.paused = not self.paused
        if not self.paused and self._dirty:
            self._redraw()
        if self.run_dir is not None and not self.comparing:
            self._show_text()
        return self.paused

    # ---- comparing ----------------------------------------------------------------------

    @work(exclusive=True, group="monitor-compare")
    async def compare(self, run_dirs: list[Path]) -> None:
        """Overlay the runs' epoch figures on shared axes."""
        def load() -> list[tuple[str, Progress]]:
            loaded = []
            for run_dir in run_dirs:
                progress = Progress()
                progress.update(EventReader(run_dir).read_new())
                loaded.append((run_dir.name, progress))
            return loaded

        self._compare_progress = await in_thread(load)
        self.comparing = list(run_dirs)
        metrics = common_metrics([p for _, p in self._compare_progress]) or ["valid_loss"]
        if self.compare_metric not in metrics:
            self.compare_metric = metrics[0]
        self._compare_metrics = metrics
        self._layout_charts()
        self._redraw()
        self._set_text("#run-header", f"comparing {len(run_dirs)} runs  (m: metric, esc: back)")
        self._set_text("#run-eta", "")
        self._set_text("#run-more", "")
        self.query_one("#run-more").display = False
        self.query_one("#run-bar", ProgressBar).update(progress=0)
        self._set_text("#run-metrics", self._compare_text())

    def _compare_text(self) -> str:
        lines = []
        for name, progress in self._compare_progress:
            row = progress.epoch_rows[-1] if progress.epoch_rows else {}
            value = row.get(self.compare_metric)
            lines.append(f"{name}: {self.compare_metric} {value:.4f}" if isinstance(value, (int, float))
                         else f"{name}: no {self.compare_metric}")
        return "\n".join(lines)

    def cycle_compare_metric(self) -> str:
        metrics = self._compare_metrics
        self.compare_metric = metrics[(metrics.index(self.compare_metric) + 1) % len(metrics)] \
            if self.compare_metric in metrics else metrics[0]
        self._redraw()
        self._set_text("#run-metrics", self._compare_text())
        return self.compare_metric

    def stop_comparing(self) -> None:
        self.comparing = []
        self._layout_charts()
        self._redraw()
        if self.run_dir is not None:
            self._show_text()
