"""The shared lookup of names: movies, users, tokens and categories, as the screens use it."""

import pytest

from l4tui.data.ratings import open_ratings
from l4tui.inspect.lookup import NameList, find_name, split_prefix


@pytest.fixture(scope="module")
def lists():
    ratings = open_ratings(None)  # the bundled sample: 'The Wild Mountain (1975)', six other mountains
    items = sorted(ratings.titles)
    movies = NameList("movie", ["#na#"] + [ratings.titles[i] for i in items], ["", *map(str, items)],
                      skip=frozenset({0}))
    users = NameList("user", ["#na#"] + [f"user {u}" for u in (1, 7, 42, 196)], ["", "1", "7", "42", "196"],
                     skip=frozenset({0}))
    return [movies, users]


def test_an_exact_title_or_id_goes_straight_through(lists):
    movies = lists[0]
    found = find_name("The Wild Mountain (1975)", lists, "movie")
    assert found.match.label == "The Wild Mountain (1975)" and found.match.id == "160"
    assert movies.labels[found.match.row] == "The Wild Mountain (1975)"
    assert find_name("160", lists, "movie").match.label == "The Wild Mountain (1975)"
    assert find_name("42", lists, "user").match.label == "user 42"


def test_case_and_spaces_do_not_matter(lists):
    assert find_name("  the WILD mountain (1975) ", lists, "movie").match.id == "160"
    assert find_name("USER 42", lists, "movie").match.id == "42"


def test_part_of_a_title_that_fits_one_movie_is_that_movie(lists):
    # every word typed is in one title only; the words in another order too
    assert find_name("wild mountain (1975", lists, "movie").match.id == "160"
    assert find_name("mountain 1975 wild", lists, "movie").match.id == "160"
    # ... and two titles hold "the wild mountain": both are offered, first
    found = find_name("the wild mountain", lists, "movie")
    assert found.ambiguous and [m.label for m in found.choices[:2]] == [
        "The Wild Mountain (1975)", "The Wild Mountain II (1994)"]


def test_an_ambiguous_name_gives_the_choices_and_picks_none(lists):
    found = find_name("mountain", lists, "movie")
    assert found.match is None and found.ambiguous
    labels = [m.label for m in found.choices]
    assert "The Wild Mountain (1975)" in labels and "The Last Mountain (1952)" in labels
    assert all("mountain" in label.lower() for label in labels[:7])  # whole words first, then fuzzy ones
    assert len(labels) == len(set(labels))


def test_fuzzy_finds_what_is_not_spelled_out(lists):
    found = find_name("wldmntn", lists, "movie")  # the file finder's matcher: characters in order
    assert found.match is not None or "The Wild Mountain (1975)" in [m.label for m in found.choices]
    assert find_name("xqzzy", lists, "movie").message.startswith("no movie matches 'xqzzy'")


def test_a_kind_named_before_the_name_works_in_any_mode(lists):
    for typed in ("user 42", "u42", "u 42", "User: 42", "users 42"):
        found = find_name(typed, lists, "movie")
        assert (found.match.kind, found.match.id) == ("user", "42"), typed
    for typed in ("movie 160", "m160", "item 160", "movie wild mountain (1975)"):
        found = find_name(typed, lists, "user")
        assert (found.match.kind, found.match.id) == ("movie", "160"), typed
    assert "no user 43" in find_name("user 43", lists, "movie").message
    assert "there are no tokens here" in find_name("token the", lists, "movie").message
    # "mountain" is a name, not "m" + "ountain"
    assert split_prefix("mountain") == (None, "mountain") and split_prefix("m50") == ("movie", "50")


def test_tokens_and_categories():
    tokens = NameList("token", ["xxunk", "xxpad", "the", "movie", "movies", "The", "\n"])
    assert find_name("the", [tokens]).match.row == 2
    assert find_name("The", [tokens]).match.row == 5  # exact case first
    assert find_name("MOVIE", [tokens]).match.row == 3
    assert [m.row for m in find_name("mov", [tokens]).choices][:2] == [3, 4]
    workclass = NameList("category", ["#na#", " Private", " State-gov", " Self-emp-inc", " Self-emp-not-inc"])
    assert find_name("private", [workclass]).match.row == 1  # the leading space of the adult data
    assert [m.row for m in find_name("self", [workclass]).choices] == [3, 4]


def test_the_choices_say_how_many_matched(lists):
    found = find_name("mountain", lists, "movie", limit=3)
    assert len(found.choices) == 3 and found.total > 3
    assert found.choices_title() == f"{found.total} movies match 'mountain' (the best 3)"
