"""Cutting text to a width: the year of a movie survives the cut."""

from l4tui.textcut import clip, cut_title


def test_the_year_survives_the_cut():
    assert cut_title("Star Wars (1977)", 14) == "Star W… (1977)"
    assert cut_title("Star Wars (1977)", 16) == "Star Wars (1977)"
    assert cut_title("Wild Bunch, The (1969)", 12) == "Wild… (1969)"
    for width in range(1, 30):
        assert len(cut_title("Silence of the Lambs, The (1991)", width)) <= width
    # too narrow for the year and some of the title: the end is cut instead
    assert cut_title("Star Wars (1977)", 7) == "Star W…"
    assert cut_title("a long token with no parenthesis", 10) == "a long to…"


def test_titles_are_one_line():
    assert cut_title("two\nlines", 20) == "two\\nlines"
    assert cut_title("\n", 5) == "\\n" and cut_title(" ", 5) == "' '"
    assert clip("x" * 300).endswith("…")
