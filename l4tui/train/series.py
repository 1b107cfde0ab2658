"""Turning a run's logged points into what a chart in a terminal can draw.

A chart is at most a few hundred cells wide, so a run with 100,000 logged steps is drawn from a
few hundred points: each bucket of steps becomes its mean (the shape stays, the cost doesn't).
"""


def ema(values: list[float], beta: float) -> list[float]:
    """Exponential moving average, debiased as fastai's smoothed loss (so the start isn't pulled to 0)."""
    if beta <= 0:
        return list(values)
    out, average = [], 0.0
    for i, value in enumerate(values, start=1):
        average = beta * average + (1 - beta) * value
        out.append(average / (1 - beta ** i))
    return out


def downsample(xs: list[float], ys: list[float], max_points: int) -> tuple[list[float], list[float]]:
    """At most `max_points` points: consecutive buckets of equal size replaced by their means."""
    n = len(xs)
    if n <= max_points or max_points < 1:
        return list(xs), list(ys)
    size = n / max_points
    out_x, out_y = [], []
    for b in range(max_points):
        lo, hi = int(b * size), max(int((b + 1) * size), int(b * size) + 1)
        out_x.append(sum(xs[lo:hi]) / (hi - lo))
        out_y.append(sum(ys[lo:hi]) / (hi - lo))
    return out_x, out_y


def last_steps(points: list[tuple], steps: int | None) -> list[tuple]:
    """The points of the last `steps` iterations (all of them for None). Points start with the iteration."""
    if not steps or not points:
        return points
    first = points[-1][0] - steps
    # Points are in iteration order: find the first one inside the window by bisection.
    lo, hi = 0, len(points)
    while lo < hi:
        mid = (lo + hi) // 2
        if points[mid][0] < first:
            lo = mid + 1
        else:
            hi = mid
    return points[lo:]
