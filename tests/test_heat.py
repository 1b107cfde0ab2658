"""Numbers drawn with terminal cells: histogram bars and heat maps."""

import numpy as np

from l4tui.inspect.cell_plots import BLOCKS, bar_rows, shrink
from l4tui.ui.heat import heat_text


def test_bar_rows_stack_eighths_from_the_bottom():
    top, bottom = bar_rows([0, 1, 2, 4], height=2)  # 4 is 16 eighths: two full cells
    assert bottom == " " + BLOCKS[4] + BLOCKS[8] + BLOCKS[8]
    assert top == "   " + BLOCKS[8]
    assert bar_rows([0, 0], height=3) == ["  "] * 3
    assert bar_rows([1, 1, 2, 2], width=2, height=1) == [BLOCKS[4] + BLOCKS[8]]  # neighbouring bins summed


def test_shrink_averages_blocks_and_heat_text_draws_a_cell_per_number():
    grid = np.arange(16, dtype=float).reshape(4, 4)
    small = shrink(grid, 2, 2)
    assert small.tolist() == [[2.5, 4.5], [10.5, 12.5]]
    text = heat_text(small, cell="  ")
    assert text.plain == "    \n    "  # two rows of two 2-character cells
    colours = {str(span.style.bgcolor) for span in text.spans}
    assert len(colours) == 4  # four different values, four colours


def test_bar_rows_and_shrink_at_the_edges():
    assert bar_rows([], height=2) == ["", ""]
    assert bar_rows([5], width=10, height=1) == [BLOCKS[8]]  # fewer bins than columns: drawn as they are
    assert bar_rows([1e300, 1], height=1) == [BLOCKS[8] + BLOCKS[1]]  # a tiny bar still shows
    assert len(bar_rows(np.ones(10_000), width=80, height=3)[0]) == 80
    grid = np.arange(6, dtype=float).reshape(2, 3)
    assert shrink(grid, 5, 5).tolist() == grid.tolist()  # already fits
    assert shrink(grid, 0, 0).tolist() == grid.tolist()  # no room given: left alone
    assert shrink(np.arange(4.0), 1, 2).tolist() == [[0.5, 2.5]]  # a 1-D row is one row
    assert np.isnan(shrink(np.array([[np.nan, 1.0]]), 1, 1)[0, 0])  # a NaN is not hidden by averaging
