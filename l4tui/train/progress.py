"""Progress and ETA of a run from its events, shared by the CLI's follower and the TUI."""

from dataclasses import dataclass, field


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
    epoch_rows: list[dict] = field(default_factory=list)
    end: dict | None = None
    baseline_rmse: float | None = None
    first_batch: tuple[int, float] | None = None  # (iter, t) of the first batch event seen

    def update(self, events: list[dict]) -> None:
        for event in events:
            kind, t = event.get("type"), event.get("t")
            if kind == "start":
                self.started_at = t
                self.epochs = event.get("epochs", self.epochs)
                self.baseline_rmse = event.get("baseline_rmse")
            elif kind == "batch":
                self.iteration = event.get("iter", self.iteration)
                self.total_iters = event.get("total_iters", self.total_iters)
                self.epoch = event.get("epoch", self.epoch)
                if self.first_batch is None and t is not None:
                    self.first_batch = (self.iteration, t)
                if isinstance(event.get("loss"), (int, float)):
                    self.train_points.append((self.iteration, float(event["loss"])))
            elif kind == "epoch":
                self.iteration = event.get("iter", self.iteration)
                self.total_iters = event.get("total_iters", self.total_iters)
                self.epochs = event.get("epochs", self.epochs)
                self.epoch_rows.append(event)
            elif kind == "end":
                self.end = event
            elif kind == "resume":  # started again: the earlier end no longer holds
                self.end, self.first_batch = None, None
            if t is not None:
                self.last_t = t

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


KEY_METRICS = ("suggested_lr", "valid_rmse", "accuracy", "perplexity", "valid_loss")


def key_metric(metrics: dict) -> tuple[str, float] | tuple[None, None]:
    """The figure that sums a run up: RMSE for collab, accuracy, perplexity, the lr_find suggestion."""
    for name in KEY_METRICS:
        value = metrics.get(name)
        if isinstance(value, (int, float)):
            return name, float(value)
    return None, None
