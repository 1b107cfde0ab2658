import filecmp
import importlib.util

import pytest

from conftest import SAMPLE
from l4tui.data.ratings import RatingsError, index_users_items, load_ratings, split_valid, summarize


def test_bundled_sample_summary():
    ratings = load_ratings(SAMPLE)
    summary = summarize(ratings)
    assert summary.rows == len((SAMPLE / "u.data").read_text().splitlines())
    assert (summary.users, summary.items) == (600, 900)
    assert sum(summary.histogram.values()) == summary.rows
    assert set(summary.histogram) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert 1 <= summary.mean_rating <= 5
    assert ratings.titles[1].endswith(")")  # "Title (year)"
    assert any("é" in title or "ê" in title for title in ratings.titles.values())  # read as latin-1


def test_generator_remakes_the_shipped_sample(tmp_path):
    spec = importlib.util.spec_from_file_location("make_ml_sample", SAMPLE.parent / "make_ml_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    for name in ("u.data", "u.item"):
        assert filecmp.cmp(tmp_path / name, SAMPLE / name, shallow=False), name


def test_ids_map_to_contiguous_indices():
    ratings = load_ratings(SAMPLE)
    x, classes = index_users_items(ratings.table)
    assert x[:, 0].max() == len(classes["user"]) - 1
    assert x[:, 1].max() == len(classes["item"]) - 1
    assert classes["user"][x[0, 0]] == ratings.table["user"].iloc[0]


def test_split_is_fixed_and_disjoint():
    train, valid = split_valid(100, 0.2, seed=1)
    assert len(valid) == 20 and len(train) == 80
    assert not set(train) & set(valid)
    assert list(split_valid(100, 0.2, seed=1)[1]) == list(valid)


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"\x00\x01\x02binary\x00", "binary"),
    (b"1,2,3,4\n5,6,7,8\n", "expected 4 tab-separated columns"),
    (b"1\t2\t3\t4\n1\tx\t3\t4\n", "item is not a number"),
    (b"1\t2\t3\t4\n1\t2\t3\n1\t2\t3\t4\t5\t6\n", "not tab-separated ratings"),
])
def test_malformed_files_give_clear_errors(tmp_path, content, message):
    path = tmp_path / "u.data"
    path.write_bytes(content)
    with pytest.raises(RatingsError, match=message):
        load_ratings(path)


def test_missing_file_and_empty_folder(tmp_path):
    with pytest.raises(RatingsError, match="No ratings file"):
        load_ratings(tmp_path / "nope.data")
    with pytest.raises(RatingsError, match="No ratings file"):
        load_ratings(tmp_path)  # a folder without u.data


def test_missing_titles_are_not_an_error(tmp_path):
    (tmp_path / "u.data").write_text("1\t1\t5\t881250949\n2\t1\t3\t881250950\n")
    ratings = load_ratings(tmp_path)
    assert ratings.titles == {} and ratings.n_users == 2
