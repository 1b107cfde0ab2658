"""The small texts the Model pane and the screens show, made by plain functions in inspect/."""

import math

import numpy as np
import torch

from l4tui.inspect.collab_interpret import MovieBias, movie_bias_line
from l4tui.inspect.parameters import stat_text
from l4tui.inspect.spreadsheet import cell_text
from l4tui.inspect.summary import LayerRow, example_shapes_text, parents_of, qualified_names
from l4tui.inspect.text_steps import first_tokens


def rows(*depths_and_names):
    return [LayerRow(depth, name, "M", "", "-", 0, 0, []) for depth, name in depths_and_names]


def test_parents_of_follow_the_depths_as_qualified_names_do():
    layers = rows((0, ""), (1, "enc"), (2, "emb"), (2, "rnn"), (3, "cell"), (1, "head"), (2, "lin"))
    assert parents_of(layers) == [None, 0, 1, 1, 3, 0, 5]
    names = qualified_names(layers)
    for row, parent in enumerate(parents_of(layers)):  # a parent's name is its child's name less one part
        if parent is not None:
            assert names[row].rpartition(".")[0] == names[parent]
    assert parents_of([]) == []


def test_example_shapes_text_names_the_tensors_only():
    example = (torch.zeros(64, 70, dtype=torch.long), "not a tensor", np.zeros((64, 3)), torch.tensor(1.0))
    assert example_shapes_text(example) == "[64, 70], [64, 3], []"
    assert example_shapes_text(()) == ""


def test_stat_text_has_four_figures_and_a_dash_for_none():
    assert [stat_text(v) for v in (None, 0.0, 1 / 3, 123456.0, -2e-9, math.nan, math.inf)] == \
        ["-", "0", "0.3333", "1.235e+05", "-2e-09", "nan", "inf"]


def test_movie_bias_line_cuts_long_titles_to_one_column():
    line = movie_bias_line(MovieBias("A" * 50, -0.1234, 3.456, 12))
    assert line == "  -0.123 " + "A" * 31 + "… mean 3.46 (12)"
    # the year survives the cut, as everywhere titles are shown
    line = movie_bias_line(MovieBias("Dr. Strangelove or: How I Learned to Stop Worrying (1963)", 0.1, 4.0, 9))
    assert line == "  +0.100 Dr. Strangelove or: How… (1963)  mean 4.00 (9)"
    assert movie_bias_line(MovieBias("Up", 0.5, math.nan, 0)) == "  +0.500 Up" + " " * 30 + " mean nan (0)"


def test_cell_text_fits_width_less_one():
    assert [cell_text(v) for v in (0.1234, 4.999, -0.34, -0.03, -1.26, -12.6, 10.0, 1234.5)] == \
        [" 0.12", " 5.00", " -.34", " -.03", " -1.3", "  -13", "   10", " 1234"]
    assert cell_text(np.nan) == ""
    assert cell_text(0.5, width=8) == "    0.50"


def test_first_tokens_stop_near_the_character_budget():
    texts = ["one two three. " * 10, "four five", "six"]
    tokens = first_tokens(texts, chars=20)
    assert len(tokens) == 1 and tokens[0][:3] == ["xxbos", "one", "two"]  # the first text, cut at 20 characters
    assert len(first_tokens(texts, chars=10_000)) == 3
    assert first_tokens([], chars=10) == [] and first_tokens(["x"], chars=0) == []
    huge = [" ".join(["cat", "dog", "sun"][i % 3] for i in range(250_000))]  # one text that is the whole corpus
    assert len(first_tokens(huge, chars=1_000)[0]) == 1 + 250  # xxbos and the first 1,000 characters: 250 words
