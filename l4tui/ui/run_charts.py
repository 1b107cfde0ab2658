"""The monitor's charts, drawn with plotext in the terminal: loss, metric, schedule, lr_find, compare.

Each chart takes a `Progress` (what a run's events say so far) and the viewer's `ChartOptions`;
points are bucketed down to about the chart's width first, so a long run draws as fast as a
short one.
"""

import math
from dataclasses import dataclass

from textual_plotext import PlotextPlot

from l4tui.runs.progress import Progress, key_metric
from l4tui.runs.series import all_positive, downsample, ema, gaps_of, last_steps, log10_all, log_ticks

SMOOTHINGS = (0.0, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)  # EMA betas per step ([ and ]); 0.98 is fastai's
WINDOWS = (None, 2000, 500, 100)  # zoom: all steps, then the last N
RAW_COLOR = (90, 90, 110)  # the raw losses, faint behind the smoothed line
COMPARE_COLORS = ("cyan", "orange", "green", "magenta", "yellow", "red", "blue", "white")


@dataclass
class ChartOptions:
    log_y: bool = False
    window: int | None = None  # show only the last N iterations
    smoothing: float = 0.98  # EMA beta per step over the logged raw losses, as fastai's smooth_loss

    def describe(self) -> list[str]:
        """What the viewer changed, most important first (a narrow chart's title keeps the first)."""
        parts = []
        if self.log_y:
            parts.append("log y")
        if self.window:
            parts.append(f"last {self.window}")
        parts.append(f"smooth {self.smoothing:g}")
        return parts


class RunChart(PlotextPlot):
    """A chart that redraws from a Progress; subclasses say what to draw."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.progress = Progress()
        self.options = ChartOptions()
        self._drawn: tuple | None = None  # what the current drawing was made from

    @staticmethod
    def data_key(progress: Progress) -> tuple:
        """What this chart's drawing depends on: it is redrawn only when this changes."""
        return (len(progress.raw_points), len(progress.epoch_rows), progress.end is not None)

    def show(self, progress: Progress, options: ChartOptions) -> None:
        """Draw from `progress`, unless nothing this chart shows has changed since the last time."""
        drawn = (self.data_key(progress), options.log_y, options.window, options.smoothing, self.size)
        if progress is self.progress and drawn == self._drawn:
            return
        self.progress, self.options, self._drawn = progress, options, drawn
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        self.draw(plt)
        self.refresh()

    @property
    def max_points(self) -> int:
        return max(40, self.size.width * 2)  # braille markers: two points per cell

    def draw(self, plt) -> None:  # pragma: no cover - each chart draws its own
        raise NotImplementedError

    def _x_epochs(self, iterations: list[float]) -> list[float]:
        progress = self.progress
        per_epoch = progress.total_iters / (progress.epochs or 1) if progress.total_iters else 1
        return [i / per_epoch for i in iterations]

    def _x_end(self) -> float:
        """The x axis ends at the next whole epoch after the run's progress (all of it once ended):
        a long run's first epochs are not squeezed into the left edge."""
        progress = self.progress
        epochs = progress.epochs or 1
        if progress.end:
            return epochs
        per_epoch = progress.total_iters / epochs if progress.total_iters else 0
        done = progress.iteration / per_epoch if per_epoch else 0
        latest = max([done, *(row.get("epoch", 0) + 1 for row in progress.epoch_rows)])
        return min(epochs, max(1, math.floor(latest) + 1))

    def log_y_wanted(self, values: list[float]) -> bool:
        """Log y when the viewer asked for it and every value can have a log."""
        return self.options.log_y and bool(values) and all_positive(values)

    def plot(self, plt, xs, ys, log_y: bool, **kwargs) -> None:
        plt.plot(xs, log10_all(ys) if log_y else ys, **kwargs)

    @staticmethod
    def label_log_y(plt, values: list[float]) -> None:
        ticks, labels = log_ticks(math.log10(min(values)), math.log10(max(values)))
        plt.yticks(ticks, labels)


class LossChart(RunChart):
    """Train loss (smoothed, with the raw values faint behind) and valid loss per epoch."""

    def draw(self, plt) -> None:
        progress, options = self.progress, self.options
        title = "loss"
        for part in options.describe():  # as much as the width allows: plotext drops a title too long
            if len(title) + len(part) + 3 <= self.size.width - 8:
                title += f" · {part}"
        plt.title(title)
        plt.xlabel("epoch")
        raw = last_steps(progress.raw_points, options.window)
        series = []  # (xs, ys, plot options), drawn once we know whether y can be logged
        if raw:
            # Bucket first (a long run has far more points than cells), then smooth the buckets:
            # the gaps make the EMA over bucket means follow the per-step one.
            iterations, raw_values = downsample([i for i, _ in raw], [v for _, v in raw], self.max_points)
            smooth = ema(raw_values, options.smoothing, gaps_of(iterations))
            xs = self._x_epochs(iterations)
            if options.smoothing > 0:
                series.append((xs, raw_values, {"color": RAW_COLOR}))
            series.append((xs, smooth, {"label": "train", "color": "cyan"}))
        first_x = self._x_epochs([raw[0][0]])[0] if raw and options.window else 0
        valid = [(row["epoch"] + 1, row["valid_loss"]) for row in progress.epoch_rows
                 if "valid_loss" in row and row["epoch"] + 1 >= first_x]
        if valid:
            series.append(([x for x, _ in valid], [y for _, y in valid],
                           {"label": "valid", "color": "orange", "marker": "dot"}))
        if progress.baseline_rmse and not options.window:  # predicting the mean rating: the bar to beat
            baseline = progress.baseline_rmse ** 2
            series.append(([0, self._x_end()], [baseline, baseline], {"label": "mean", "color": "gray"}))
        values = [y for _, ys, _ in series for y in ys]
        log_y = self.log_y_wanted(values)
        for xs, ys, style in series:
            self.plot(plt, xs, ys, log_y, **{"marker": "braille", **style})
        if log_y:
            self.label_log_y(plt, values)
        if not options.window:
            plt.xlim(0, self._x_end())


class MetricChart(RunChart):
    """The run's key metric per epoch (RMSE, accuracy, perplexity), with its best marked."""

    @staticmethod
    def data_key(progress: Progress) -> tuple:
        return (len(progress.epoch_rows), progress.end is not None)  # batches don't change it

    def draw(self, plt) -> None:
        progress = self.progress
        name, _ = key_metric(progress.epoch_rows[-1]) if progress.epoch_rows else (None, None)
        if name is None or name == "valid_loss":
            name = next((n for n in ("accuracy", "valid_rmse", "perplexity") if progress.epoch_rows
                         and n in progress.epoch_rows[-1]), "valid_loss")
        rows = [row for row in progress.epoch_rows if isinstance(row.get(name), (int, float))]
        best_name, best = progress.best()
        title = name if best is None or best_name != name else f"{name}  (best {best:.4g})"
        plt.title(title)
        plt.xlabel("epoch")
        if rows:
            xs, ys = [row["epoch"] + 1 for row in rows], [row[name] for row in rows]
            log_y = self.log_y_wanted(ys)
            self.plot(plt, xs, ys, log_y, marker="dot", color="green", label=name)
            if best_name == name:
                self.plot(plt, [xs[ys.index(best)]], [best], log_y, marker="●", color="yellow")
            if log_y:
                self.label_log_y(plt, ys)
        plt.xlim(0, self._x_end())


class ScheduleChart(RunChart):
    """The one cycle as it ran: the learning rate, and the momentum on the right axis."""

    def draw(self, plt) -> None:
        points = last_steps(self.progress.schedule_points, self.options.window)
        plt.title("lr (left) · momentum (right)")
        plt.xlabel("epoch")
        if not points:
            return
        iterations, lrs = downsample([i for i, _, _ in points], [lr for _, lr, _ in points], self.max_points)
        plt.plot(self._x_epochs(iterations), lrs, marker="braille", color="cyan", label="lr")
        moms = [(i, m) for i, _, m in points if isinstance(m, (int, float))]
        if moms:
            iterations, moms = downsample([i for i, _ in moms], [m for _, m in moms], self.max_points)
            plt.plot(self._x_epochs(iterations), moms, marker="braille", color="magenta", label="mom", yside="right")


class LrFindChart(RunChart):
    """lr_find's curve: smoothed loss against the learning rate on a log axis, the suggestion marked."""

    def draw(self, plt) -> None:
        points = [(lr, loss) for lr, loss in self.progress.lr_find_points() if lr > 0]
        suggested = self.progress.suggested_lr
        plt.title("lr_find" + (f"  (suggested lr {suggested:.2g})" if suggested else ""))
        plt.xlabel("learning rate (log)")
        if not points:
            return
        log_lrs, losses = log10_all([lr for lr, _ in points]), [loss for _, loss in points]
        log_y = self.log_y_wanted(losses)
        self.plot(plt, log_lrs, losses, log_y, marker="braille", color="cyan", label="loss")
        if suggested and suggested > 0:
            at = math.log10(suggested)
            plt.vline(at, color="yellow")
            nearest = min(range(len(log_lrs)), key=lambda i: abs(log_lrs[i] - at))
            self.plot(plt, [log_lrs[nearest]], [losses[nearest]], log_y, marker="●", color="yellow",
                      label="suggested")
        ticks, labels = log_ticks(min(log_lrs), max(log_lrs))
        plt.xticks(ticks, labels)
        if log_y:
            self.label_log_y(plt, losses)


class CompareChart(PlotextPlot):
    """Several runs overlaid on shared axes: one figure per epoch, a colour per run, a legend."""

    def show_runs(self, runs: list[tuple[str, Progress]], metric: str, log_y: bool = False) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(f"compare: {metric}")
        plt.xlabel("epoch")
        series = []
        for (label, progress), color in zip(runs, COMPARE_COLORS * 4):
            rows = [row for row in progress.epoch_rows if isinstance(row.get(metric), (int, float))]
            if rows:
                series.append(([row["epoch"] + 1 for row in rows], [row[metric] for row in rows], color, label))
        values = [y for _, ys, _, _ in series for y in ys]
        log_y = log_y and bool(values) and all_positive(values)
        for xs, ys, color, label in series:
            plt.plot(xs, log10_all(ys) if log_y else ys, marker="braille", color=color, label=label)
        if log_y:
            RunChart.label_log_y(plt, values)
        self.refresh()
