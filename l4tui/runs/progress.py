"""Progress and ETA of a run from its events, shared by the CLI's follower and the TUI."""

import time
from dataclasses import dataclass, field

from l4tui.runs.events import resume_point


@dataclass
class Progress:
    """Folds a run's events into what a progress display needs."""

    started_at: float | None = None
    iteration: int = 0
    total_iters: int = 0
    epoch: int = 0
    epochs: int = 0
    last_t: float | None = None
    train_points: list[tuple[int, float]] = field(default_factory=list)  # (iter, smoothed loss)
    raw_points: list[tuple[int, float]] = field(default_factory=list)  # (iter, mean raw loss since the last event)
    schedule_points: list[tuple[int, float, float | None]] = field(default_factory=list)  # (iter, lr, mom)
    items_per_s: float | None = None  # the latest pace
    device_stats: dict = field(default_factory=dict)  # the latest GPU memory / utilisation figures
    mode: str = "train"  # "lr_find" runs log (lr, loss) batches and end with a suggestion
    epoch_rows: list[dict] = field(default_factory=list)
    end: dict | None = None
    baseline_rmse: float | None = None
    pretrained: str | None = None  # a language model's transfer, in one line (pretrained_line)
    threads: str | None = None  # the CPU threads the run chose, and why (threads_line)
    first_batch: tuple[int, float] | None = None  # (iter, t) of the first batch event seen
    reached: int = 0  # the furthest step the run got to, before any resume rewound it
    resumed_at: int | None = None  # the step the latest resume went on from
    preparing: dict | None = None  # the latest `prepare` event before the start (tokenizing ...)
    # Where each epoch's points begin in the lists above, so a resume can rewind them (events.py).
    _epoch_starts: dict[int, tuple[int, int, int]] = field(default_factory=dict, repr=False)

    def update(self, events: list[dict]) -> None:
        for event in events:
            kind, t = event.get("type"), event.get("t")
            if kind == "prepare":
                self.preparing = event
            elif kind == "start":
                self.started_at = t
                self.preparing = None
                self.epochs = event.get("epochs", self.epochs)
                self.baseline_rmse = event.get("baseline_rmse")
                self.pretrained = pretrained_line(event)
                self.threads = threads_line(event)
                self.mode = event.get("mode", self.mode)
            elif kind == "batch":
                epoch = event.get("epoch")
                if epoch is not None and epoch not in self._epoch_starts:
                    self._epoch_starts[epoch] = (len(self.train_points), len(self.raw_points),
                                                 len(self.schedule_points))
                self.iteration = event.get("iter", self.iteration)
                self.reached = max(self.reached, self.iteration)
                self.total_iters = event.get("total_iters", self.total_iters)
                self.epoch = event.get("epoch", self.epoch)
                if self.first_batch is None and t is not None:
                    self.first_batch = (self.iteration, t)
                loss = event.get("loss")
                if isinstance(loss, (int, float)):
                    self.train_points.append((self.iteration, float(loss)))
                    raw = event.get("raw", loss)  # runs logged before raw losses were: the smoothed one
                    self.raw_points.append((self.iteration, float(raw)))
                if isinstance(event.get("lr"), (int, float)):
                    self.schedule_points.append((self.iteration, float(event["lr"]), event.get("mom")))
                if "items_per_s" in event:
                    self.items_per_s = event["items_per_s"]
                if "gpu_mem_mib" in event:
                    self.device_stats = {k: v for k, v in event.items() if k.startswith("gpu_")}
            elif kind == "epoch":
                self.iteration = event.get("iter", self.iteration)
                self.reached = max(self.reached, self.iteration)
                self.total_iters = event.get("total_iters", self.total_iters)
                self.epochs = event.get("epochs", self.epochs)
                self.epoch_rows.append(event)
                self.items_per_s = event.get("items_per_s", self.items_per_s)
            elif kind == "end":
                self.end = event
            elif kind == "resume":  # started again: the earlier end no longer holds
                self.end, self.first_batch = None, None
                self.threads = threads_line(event) or self.threads
                point = resume_point(event)
                if point is not None:
                    self._rewind(point)
            if t is not None:
                self.last_t = t

    def _rewind(self, from_epoch: int) -> None:
        """Drop what the epochs from `from_epoch` on logged before the resume: they train again."""
        self.epoch_rows = [row for row in self.epoch_rows if row.get("epoch", -1) < from_epoch]
        later = [epoch for epoch in self._epoch_starts if epoch >= from_epoch]
        if later:
            train, raw, schedule = self._epoch_starts[min(later)]
            del self.train_points[train:], self.raw_points[raw:], self.schedule_points[schedule:]
            for epoch in later:
                del self._epoch_starts[epoch]
        self.epoch = from_epoch
        kept = [points[-1][0] for points in (self.train_points, self.schedule_points) if points]
        if self.epoch_rows:
            kept.append(self.epoch_rows[-1].get("iter", 0))
        self.iteration = max(kept, default=0)
        self.resumed_at = self.iteration

    def redoing(self) -> tuple[int, int] | None:
        """(the step a resume went on from, the steps it trains again) while the run is short of
        where it got before the resume: the checkpoint is at an epoch's end, so the steps of the
        epoch under way when it stopped are trained again. None otherwise."""
        if self.resumed_at is None or self.iteration >= self.reached or self.end:
            return None
        return self.resumed_at, self.reached - self.resumed_at

    def best(self) -> tuple[str, float] | tuple[None, None]:
        """The key metric's best epoch so far (the lowest RMSE, the highest accuracy ...)."""
        best_name, best_value = None, None
        for row in self.epoch_rows:
            name, value = key_metric(row)
            if name is not None and (best_name != name or better(name, value, best_value)):
                best_name, best_value = name, value
        return best_name, best_value

    def lr_find_points(self) -> list[tuple[float, float]]:
        """(lr, smoothed loss) of an lr_find run: its curve."""
        return [(lr, loss) for (_, lr, _), (_, loss) in zip(self.schedule_points, self.train_points)]

    @property
    def suggested_lr(self) -> float | None:
        return ((self.end or {}).get("metrics") or {}).get("suggested_lr")

    @property
    def fraction(self) -> float:
        if self.end and self.end.get("state") == "finished":
            return 1.0
        return self.iteration / self.total_iters if self.total_iters else 0.0

    def eta_seconds(self) -> float | None:
        """Seconds left at the pace since the first batch seen; None until there is a pace.

        The pace starts at the first batch, not at the run's start, so start-up costs (loading
        data, the first slow iteration) don't inflate the estimate.
        """
        if self.first_batch is None or self.last_t is None or not 0 < self.fraction < 1:
            return None
        first_iter, first_t = self.first_batch
        done, elapsed = self.iteration - first_iter, self.last_t - first_t
        if done <= 0 or elapsed <= 0:
            return None
        return (self.total_iters - self.iteration) * elapsed / done


def preparing_text(progress: Progress) -> str:
    """What the run does before its first batch, in a line ("tokenizing 45% · 11.2M tokens"),
    from its `prepare` events; "" when it is not preparing."""
    event = progress.preparing
    if not event or progress.end:
        return ""
    done, total = event.get("done", 0), event.get("total", 0)
    share = f" {done / total:.0%}" if total else ""
    what = {"tokenize": "tokenizing"}.get(event.get("step"), str(event.get("step", "preparing")))
    tokens = event.get("tokens")
    return f"{what}{share}" + (f" · {format_count(tokens)} tokens" if tokens else "")


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_metrics(metrics: dict) -> str:
    """`key=value` pairs, the way the CLI's last line prints them."""
    parts = []
    for key, value in metrics.items():
        if isinstance(value, float):
            parts.append(f"{key}={value:.4g}")
        elif isinstance(value, (int, str)):
            parts.append(f"{key}={value}")
    return " ".join(parts)


# The first of these a run logs is its key figure. The language model logs both perplexity and
# (next-token) accuracy: its key figure is perplexity, as docs/runs.md says and the lesson reports.
KEY_METRICS = ("suggested_lr", "valid_rmse", "perplexity", "accuracy", "valid_loss")


def key_metric(metrics: dict) -> tuple[str, float] | tuple[None, None]:
    """The figure that sums a run up: RMSE for collab, accuracy for tabular and the classifier,
    perplexity for the language model, the lr_find suggestion."""
    for name in KEY_METRICS:
        value = metrics.get(name)
        if isinstance(value, (int, float)):
            return name, float(value)
    return None, None


HIGHER_IS_BETTER = {"accuracy", "valid_accuracy", "lm_accuracy"}


def better(name: str, value: float, than: float) -> bool:
    """Is `value` of the metric `name` better than `than`? Accuracy goes up; losses, RMSE, perplexity down."""
    return value > than if name in HIGHER_IS_BETTER else value < than


# ---- a run in a line: the runs table's and the monitor's short texts -----------------------

METRIC_SHORT = {"valid_rmse": "rmse", "accuracy": "acc", "perplexity": "ppl", "suggested_lr": "lr",
                "valid_loss": "loss"}


def started_text(started: float | None, run_id: str, now: float | None = None) -> str:
    """When a run started: the time for today's runs, the date too for older ones; without a
    start time, the run id's date part (ids begin with YYYYMMDD-HHMMSS)."""
    if not started:
        return run_id[:15]
    day = time.strftime("%Y%m%d", time.localtime(now))
    today = day == time.strftime("%Y%m%d", time.localtime(started))
    return time.strftime("%H:%M" if today else "%m-%d %H:%M", time.localtime(started))


def best_text(best: tuple[str, float] | None) -> str:
    """A run's best key figure, short: `rmse 0.912`."""
    if best is None:
        return ""
    name, value = best
    return f"{METRIC_SHORT.get(name, name)} {value:.3g}"


def last_text(best: tuple[str, float] | None, last: tuple[str, float] | None) -> str:
    """A run's latest key figure where it differs from its best (as shown: 3 digits), else "":
    the runs list's `last` column, beside `best`."""
    if last is None or best_text(last) == best_text(best):
        return ""
    name, value = last
    return f"{value:.3g}" if best is not None and best[0] == name else best_text(last)


def best_and_last(best: tuple[str, float] | None, last: tuple[str, float] | None) -> str:
    """Both in words, for `l4tui runs`: `rmse 0.912` when they agree, `best rmse 0.912, last 0.951`
    when they differ; the same rule, and the same digits, as the runs list's two columns."""
    later = last_text(best, last)
    if not later:
        return best_text(best or last)
    return f"best {best_text(best)}, last {later}" if best else f"last {later}"


def format_count(value: float) -> str:
    """A rate or count in at most five characters or so: 950, 12.3k, 4.1M."""
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{value / size:.1f}{unit}"
    return f"{value:.0f}"


def short_count(value: int) -> str:
    """A count in three significant digits where it is long: 757, 9999, 12.3k, 206k, 1.03M."""
    if value < 10_000:
        return str(value)
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if value >= size:
            scaled = value / size
            return f"{scaled:.3g}{unit}" if scaled < 99.95 else f"{scaled:.0f}{unit}"
    return str(value)


def key_parts(parts: list, state: str) -> int:
    """How many of progress_parts' first parts must show whole beside the bar: epoch, step,
    and the ETA while running."""
    return min(3 if state == "running" else 2, len(parts))


NOT_METRICS = ("t", "epoch", "epochs", "iter", "total_iters", "stage")
METRIC_ORDER = ("valid_loss", "valid_rmse", "accuracy", "perplexity", "train_loss")


def common_metrics(progresses: list[Progress]) -> list[str]:
    """Epoch figures every compared run has (valid_loss first), for the compare chart's choice."""
    names = None
    for progress in progresses:
        have = {k for row in progress.epoch_rows for k, v in row.items()
                if isinstance(v, (int, float)) and k not in NOT_METRICS}
        names = have if names is None else names & have
    return sorted(names or [], key=lambda n: (METRIC_ORDER.index(n) if n in METRIC_ORDER else len(METRIC_ORDER), n))


def threads_line(start: dict) -> str | None:
    """The CPU threads a start (or resume) event says the run chose, and why: "1 thread (auto:
    small model)". None for runs logged before threads were chosen per run."""
    threads = start.get("threads")
    if not isinstance(threads, int):
        return None
    why = start.get("threads_why")
    return f"{threads} thread{'s' * (threads != 1)}" + (f" ({why})" if why else "")


def pretrained_line(start: dict) -> str | None:
    """A start event's transfer figures in one line, for the run monitor and `l4tui runs show`:
    "pretrained wt103: 4,210 of 5,012 words found (its vocab 60,000) · 97.8% of training tokens".
    None for a run that started from random weights."""
    found, size = start.get("pretrained_vocab_found"), start.get("pretrained_vocab_size")
    if not isinstance(found, int) or not isinstance(size, int):
        return None
    vocab = start.get("vocab_size")
    line = f"pretrained {start.get('pretrained') or '?'}: {found:,}"
    line += f" of {vocab:,} words found" if isinstance(vocab, int) else " words found"
    line += f" (its vocab {size:,})"
    share = start.get("pretrained_token_share")
    if isinstance(share, (int, float)):
        line += f" · {share:.1%} of training tokens"
    return line


# ---- the runs list's columns ----------------------------------------------------------------

# The runs list's columns in the order of importance: at a narrow width the last ones are left
# out (the watched run's monitor shows them: its header has the time, its id the start).
RUN_COLUMNS = (("mark", " "), ("state", "state"), ("family", "family"), ("best", "best"),
               ("last", "last"), ("time", "time"), ("started", "started"))
CELL_PADDING = 2  # a DataTable cell's padding, both sides together


def run_cells(info, marked: bool = False, mark: str = "●") -> dict[str, str]:
    """One run's cells in the runs list (a RunInfo of l4tui.runs.store), by column key."""
    return {"mark": mark if marked else "", "state": info.state,
            "family": "lr_find" if info.mode == "lr_find" else info.family,
            "best": best_text(info.best), "last": last_text(info.best, info.last),
            "time": format_seconds(info.duration), "started": started_text(info.started, info.id)}


def column_width(key: str, rows: list[dict[str, str]]) -> int:
    """The width a column takes: its widest cell or its title, and the cells' padding."""
    title = dict(RUN_COLUMNS)[key]
    return max([len(title), *(len(row.get(key, "")) for row in rows)]) + CELL_PADDING


def columns_that_fit(rows: list[dict[str, str]], width: int) -> list[str]:
    """The columns, in the order of importance, whose whole cells fit in `width` together
    (nothing in a column that shows is ever cut); the mark and the state always show."""
    shown, used = [], 0
    for key, _ in RUN_COLUMNS:
        need = column_width(key, rows)
        if key in ("mark", "state") or used + need <= width:
            shown.append(key)
            used += need
        else:
            break  # the order of importance holds: no less important column shows in its place
    return shown


# ---- the monitor's progress line ------------------------------------------------------------

def progress_parts(progress: Progress, state: str) -> list[tuple[str, str]]:
    """The progress line's parts in the order of importance, each as (full, narrow) text:
    epoch, step, ETA, pace, a resume's redone steps, the threads."""
    finished = 1 + max((row.get("epoch", 0) for row in progress.epoch_rows), default=-1)
    if state in ("running", "starting"):  # the epoch under way
        shown = min(max(progress.epoch + 1, finished), progress.epochs or 1)
    elif state == "finished":  # all of them (an lr_find writes no epoch events)
        shown = progress.epochs or finished
    else:  # stopped, died, failed: the epochs it finished, as `l4tui runs` counts them
        shown = finished
    epoch = f"ep {shown}/{progress.epochs or '?'}"
    parts = [(epoch, epoch)]
    if progress.total_iters:
        parts.append((f"{progress.iteration}/{progress.total_iters}",
                      f"{short_count(progress.iteration)}/{short_count(progress.total_iters)}"))
    if state == "running":
        seconds = progress.eta_seconds()
        parts.append((f"ETA {format_seconds(seconds)}", f"ETA {format_seconds(seconds) if seconds is not None else '?'}"))
        if progress.items_per_s:
            pace = format_count(progress.items_per_s)
            parts.append((f"{pace} items/s", f"{pace}/s"))
    redo = progress.redoing()
    if redo:
        at, steps = redo
        parts.append((f"resumed at step {at}: {steps} steps again", f"redo {steps} steps"))
    if progress.threads:
        parts.append((progress.threads, progress.threads.split(" (")[0]))
    return parts


SEPARATOR = " · "


def fit_parts(parts: list[tuple[str, str]], width: int, second_width: int | None = None,
              keep: int = 0) -> tuple[str, str]:
    """The parts on one line of `width`, in order, each full where it fits, else narrow; those
    that do not fit go on a second line (of `second_width`: each full where it fits, else
    narrow, and text cut with … at its end). When the first `keep` parts do not all fit so, they are tried narrow
    from the start. Numbers are never cut: a part is on a line whole, or not on it."""
    first, rest = _greedy(parts, width)
    if len(first) < keep:
        first, rest = _greedy([(narrow, narrow) for _, narrow in parts[:keep]] + parts[keep:], width)
    second_width = width if second_width is None else second_width
    second, used = [], 0
    for full, narrow in rest:
        gap = len(SEPARATOR) if second else 0
        second.append(full if used + gap + len(full) <= second_width else narrow)
        used += gap + len(second[-1])
    line = SEPARATOR.join(second)
    if len(line) > second_width:
        line = line[:max(0, second_width - 1)] + "…"
    return SEPARATOR.join(first), line


def wrap_parts(parts: list[str], width: int, gap: str = "  ") -> list[str]:
    """The parts on lines of `width`, `gap` between them, each part whole on one line (a
    figure stays beside its name); a part longer than a line is cut with … at its end."""
    lines: list[str] = []
    for part in parts:
        if len(part) > width:
            part = part[:max(0, width - 1)] + "…"
        if lines and len(lines[-1]) + len(gap) + len(part) <= width:
            lines[-1] += gap + part
        else:
            lines.append(part)
    return lines


def _greedy(parts: list[tuple[str, str]], width: int) -> tuple[list[str], list[tuple[str, str]]]:
    first, used = [], 0
    for index, (full, narrow) in enumerate(parts):
        gap = len(SEPARATOR) if first else 0
        text = full if used + gap + len(full) <= width else narrow
        if used + gap + len(text) > width:
            return first, parts[index:]
        first.append(text)
        used += gap + len(text)
    return first, []
