"""Numbers fitted to terminal cells: a grid averaged down to the cells there are, and a histogram
as rows of block characters.

Terminals over SSH draw block characters well and pixels not at all, so a histogram is a row of
block characters of eight heights a line. The heat map's colours are the UI's (ui/heat.py).
"""

import numpy as np

BLOCKS = " ▁▂▃▄▅▆▇█"


def bar_rows(counts, width: int | None = None, height: int = 4) -> list[str]:
    """A histogram `height` lines tall, top line first: each column is a bar of block characters
    with 8 steps a line, so a peaked histogram still shows its shoulders."""
    counts = np.asarray(counts, dtype=float)
    if width is not None and len(counts) > width > 0:
        edges = np.linspace(0, len(counts), width + 1).astype(int)
        counts = np.array([counts[a:b].sum() for a, b in zip(edges[:-1], edges[1:])])
    top = counts.max() if counts.size else 0
    eighths = np.ceil(counts / top * 8 * height).astype(int) if top else np.zeros(len(counts), int)
    rows = []
    for line in range(height - 1, -1, -1):  # the top line first
        filled = np.clip(eighths - 8 * line, 0, 8)
        rows.append("".join(BLOCKS[n] for n in filled))
    return rows


def shrink(grid: np.ndarray, max_rows: int, max_cols: int) -> np.ndarray:
    """Average blocks of neighbouring cells so the grid fits max_rows x max_cols. A 1-D array is
    one row (as heat_text draws it)."""
    grid = np.atleast_2d(np.asarray(grid, dtype=float))
    for axis, limit in ((0, max_rows), (1, max_cols)):
        size = grid.shape[axis]
        if size > limit > 0:
            edges = np.linspace(0, size, limit + 1).astype(int)
            parts = [np.take(grid, range(a, b), axis=axis).mean(axis=axis, keepdims=True)
                     for a, b in zip(edges[:-1], edges[1:])]
            grid = np.concatenate(parts, axis=axis)
    return grid
