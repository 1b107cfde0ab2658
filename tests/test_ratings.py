import filecmp
import importlib.util

import pytest

from conftest import SAMPLE
from l4tui.data.ratings import IdMap, RatingsError, index_users_items, load_ratings, split_valid, summarize


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


def test_ids_map_to_indices_after_na():
    ratings = load_ratings(SAMPLE)
    x, maps = index_users_items(ratings.table)
    assert len(maps["user"]) == 601 and len(maps["item"]) == 901  # #na# included, as fastai counts
    assert x.min() == 1 and x[:, 0].max() == 600
    assert maps["user"].ids[x[0, 0] - 1] == ratings.table["user"].iloc[0]


def test_unknown_ids_get_na_cold_start():
    users = IdMap([10, 20, 30])
    index, unknown = users.index([20, 99, 10, 5])
    assert index.tolist() == [2, 0, 1, 0] and unknown == 2


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


def test_newer_movielens_csv_layout(tmp_path):
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n"
                                          "1,1029,3.0,1260759179\n7,31,4.5,1260759182\n")
    (tmp_path / "movies.csv").write_text('movieId,title,genres\n31,Dangerous Minds (1995),Drama\n'
                                         '1029,"Dumbo (1941)",Animation|Children\n')
    ratings = load_ratings(tmp_path)
    assert ratings.format == "MovieLens ratings.csv"
    assert (ratings.n_users, ratings.n_items, len(ratings.table)) == (2, 2, 3)
    assert ratings.titles[1029] == "Dumbo (1941)"
    assert ratings.table["rating"].tolist() == [2.5, 3.0, 4.5]


def test_bad_csv_ratings_name_the_column_and_line(tmp_path):
    (tmp_path / "ratings.csv").write_text("user,movie,stars\n1,2,3\n")
    with pytest.raises(RatingsError, match="has no column 'userId'"):
        load_ratings(tmp_path)
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating\n1,2,3\n1,2,five\n")
    with pytest.raises(RatingsError, match=r"ratings.csv:3: rating is not a number: 'five'"):
        load_ratings(tmp_path)


def test_missing_titles_are_not_an_error(tmp_path):
    (tmp_path / "u.data").write_text("1\t1\t5\t881250949\n2\t1\t3\t881250950\n")
    ratings = load_ratings(tmp_path)
    assert ratings.titles == {} and ratings.n_users == 2
