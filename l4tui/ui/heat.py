"""Heat maps drawn with terminal cells: one coloured cell per number.

Terminals over SSH draw colours well and pixels not at all, so a heat map is a grid of cells
whose background goes from dark to bright. The plain parts (a grid shrunk to fit, histograms of
block characters) are in l4tui.inspect.cell_plots; this module makes the rich Text.
"""

import numpy as np
from rich.color import Color
from rich.style import Style
from rich.text import Text

# Dark blue (low) through purple and orange to yellow (high): readable on dark and light themes,
# and still ordered for the colour-blind (a "magma"-like ramp).
RAMP = [(0, 0, 4), (40, 11, 84), (101, 21, 110), (159, 42, 99), (212, 72, 66), (245, 125, 21), (250, 193, 39),
        (252, 255, 164)]


def ramp_color(share: float) -> Color:
    """The colour of a value `share` of the way from the lowest (0) to the highest (1)."""
    share = min(max(float(share), 0.0), 1.0) * (len(RAMP) - 1)
    low = int(share)
    high = min(low + 1, len(RAMP) - 1)
    t = share - low
    r, g, b = (round(a + (c - a) * t) for a, c in zip(RAMP[low], RAMP[high]))
    return Color.from_rgb(r, g, b)


def heat_text(grid: np.ndarray, cell: str = "  ", symmetric: bool = False) -> Text:
    """A 2-D array as rows of coloured cells. `symmetric`: scale by the largest |value|, so 0 is
    the middle colour (for activations that go both ways); else from the minimum to the maximum."""
    grid = np.asarray(grid, dtype=float)
    if grid.ndim == 1:
        grid = grid[None, :]
    out = Text()
    finite = grid[np.isfinite(grid)]
    if grid.size == 0 or finite.size == 0:
        return out
    if symmetric:
        top = float(np.abs(finite).max()) or 1.0
        shares = (grid / top + 1) / 2
    else:
        low, high = float(finite.min()), float(finite.max())
        shares = (grid - low) / ((high - low) or 1.0)
    for r, row in enumerate(shares):
        for value in row:
            colour = ramp_color(value) if np.isfinite(value) else Color.parse("red")
            out.append(cell, Style(bgcolor=colour))
        if r < len(shares) - 1:
            out.append("\n")
    return out
