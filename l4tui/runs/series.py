"""Turning a run's logged points into what a chart in a terminal can draw.

A chart is at most a few hundred cells wide, so a run with 100,000 logged steps is drawn from a
few hundred points: each bucket of steps becomes its mean (the shape stays, the cost doesn't).
"""

import math


def ema(values: list[float], beta: float, gaps: list[int] | None = None) -> list[float]:
    """Exponential moving average with weight `beta` per step, debiased as fastai's smoothed loss
    (so the start isn't pulled towards 0).

    Logged points are throttled by time, not by steps: one point may stand for 1 batch, the next
    for 300. `gaps[i]` is how many steps point i covers; the older average then decays by
    beta**gap, so a smoothing of 0.98 means the same thing however often the run logged.
    """
    if beta <= 0:
        return list(values)
    out, average, weight = [], 0.0, 0.0
    for i, value in enumerate(values):
        decay = beta ** (gaps[i] if gaps else 1)
        average = decay * average + (1 - decay) * value
        weight = decay * weight + (1 - decay)  # 1 - beta**steps so far: the debiasing
        out.append(average / weight)
    return out


def gaps_of(iterations: list[int]) -> list[int]:
    """Steps between consecutive logged iterations (the first point covers its own iteration count)."""
    return [max(1, b - a) for a, b in zip([0, *iterations], iterations)]


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


def all_positive(values: list[float]) -> bool:
    """Can these values go on a log axis? (An empty list can, and draws nothing.)"""
    return all(v > 0 for v in values)


# Log axes are drawn by plotting log10 of the values on a linear axis with our own tick labels:
# plotext's own log scale transforms the data in place when it builds, and Textual builds again on
# every repaint, so its log scale would be applied twice.

def log_ticks(lo: float, hi: float, most: int = 6) -> tuple[list[float], list[str]]:
    """Tick positions (in log10 units) between lo and hi (log10 units too), labelled with the values."""
    ticks = []
    for exponent in range(math.floor(lo), math.ceil(hi) + 1):
        for mantissa in (1, 2, 5):
            position = exponent + math.log10(mantissa)
            if lo - 1e-9 <= position <= hi + 1e-9:
                ticks.append(position)
    if len(ticks) > most:  # many decades: every decade, thinned to fit
        decades = [t for t in ticks if abs(t - round(t)) < 1e-9]
        step = max(1, math.ceil(len(decades) / most))
        ticks = decades[::step]
    if len(ticks) < 2:  # a narrow range: the ends
        ticks = [lo, hi]
    return ticks, [f"{10 ** t:.3g}" for t in ticks]


def log10_all(values: list[float]) -> list[float]:
    """The values in log10 units, for a log axis drawn as a linear one (see above)."""
    return [math.log10(v) for v in values]
