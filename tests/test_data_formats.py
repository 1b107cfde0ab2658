"""The lesson's data formats, read exactly; bad files get a message naming the file, place and fix."""

import importlib.util

import numpy as np
import pytest

from conftest import REPO, l4tui
from l4tui.data.errors import DataError
from l4tui.data.describe import describe
from l4tui.data.sources import detect_format, resolve
from l4tui.data.tables import load_adult_csv, load_adult_uci, load_table_csv
from l4tui.data.texts import UNLABELLED, load_imdb_folder, load_texts_csv

DATASETS = REPO / "datasets"

ADULT_CSV = (
    "age,workclass,fnlwgt,education,education-num,marital-status,occupation,relationship,race,sex,"
    "capital-gain,capital-loss,hours-per-week,native-country,salary\n"
    "49, Private,101320, Assoc-acdm,12.0, Married-civ-spouse,, Wife, White, Female,0,1902,40, United-States,>=50k\n"
    "44, Private,236746, Masters,14.0, Divorced, Exec-managerial, Not-in-family, White, Male,10520,0,45,"
    " United-States,>=50k\n"
    "38,,96185, HS-grad,, Divorced,, Unmarried, Black, Female,0,0,32, United-States,<50k\n"
)
ADULT_DATA = (
    "39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, Male, 2174, 0, 40,"
    " United-States, <=50K\n"
    "54, ?, 180211, Some-college, 10, Married-civ-spouse, ?, Husband, Asian-Pac-Islander, Male, 0, 0, 60, South,"
    " >50K\n\n"
)
ADULT_TEST = "|1x3 Cross validator\n" + ADULT_DATA.replace("<=50K", "<=50K.").replace(">50K", ">50K.")


def make_imdb_tree(root):
    for split, label, name, text in [("train", "pos", "0_9.txt", "A great film."),
                                     ("train", "neg", "1_2.txt", "Awful.<br /><br />Really."),
                                     ("train", "unsup", "2_0.txt", "No label here."),
                                     ("test", "pos", "3_10.txt", "Loved it."),
                                     ("test", "neg", "4_1.txt", "Hated it.")]:
        folder = root / "aclImdb" / split / label
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return root / "aclImdb"


# ---- texts -------------------------------------------------------------------------------------

def test_imdb_folder_tree(tmp_path):
    data = load_imdb_folder(make_imdb_tree(tmp_path))
    assert sorted(zip(data.labels, data.is_valid)) == [
        ("", False), ("neg", False), ("neg", True), ("pos", False), ("pos", True)]
    assert "Awful.<br /><br />Really." in data.texts
    assert load_imdb_folder(tmp_path).format == data.format  # the folder above aclImdb works too
    assert UNLABELLED not in load_imdb_folder(tmp_path, include_unsup=False).labels


def test_imdb_folder_without_the_tree(tmp_path):
    (tmp_path / "train").mkdir()
    with pytest.raises(DataError, match="no train/ and test/ folders"):
        load_imdb_folder(tmp_path)


def test_texts_csv_of_the_bundled_sample():
    data = load_texts_csv(DATASETS / "imdb-sample" / "texts.csv")
    assert len(data) == 1000 and sum(data.is_valid) == 200
    assert set(data.labels) == {"negative", "positive"}


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"label;text;is_valid\nnegative;bad;False\n", "no column 'text'"),
    (b"label,text,is_valid\n", "has a header but no rows"),
    (b"label,text\npositive,caf\xe9\n", "is not UTF-8"),
    (b"\x00\x01", "binary"),
])
def test_bad_texts_csv(tmp_path, content, message):
    path = tmp_path / "texts.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message) as error:
        load_texts_csv(path)
    assert str(path) in str(error.value)


# ---- tables ------------------------------------------------------------------------------------

def test_fastai_adult_csv(tmp_path):
    path = tmp_path / "adult.csv"
    path.write_text(ADULT_CSV)
    data = load_adult_csv(path)
    frame = data.frame
    assert frame["workclass"].tolist()[:2] == ["Private", "Private"]  # leading spaces gone
    assert frame["occupation"].isna().tolist() == [True, False, True]  # empty cells are missing
    assert np.isnan(frame["education-num"][2])
    assert data.y_name == "salary" and frame["salary"].tolist() == [">=50k", ">=50k", "<50k"]


def test_uci_adult_data_and_test(tmp_path):
    (tmp_path / "adult.data").write_text(ADULT_DATA)
    (tmp_path / "adult.test").write_text(ADULT_TEST)
    train = load_adult_uci(tmp_path / "adult.data").frame
    test = load_adult_uci(tmp_path / "adult.test").frame
    assert len(train) == len(test) == 2
    assert train["workclass"].isna().tolist() == [False, True]  # "?" is missing
    assert train["salary"].tolist() == test["salary"].tolist() == ["<=50K", ">50K"]  # the trailing dot is gone
    assert detect_format(tmp_path / "adult.test") == "adult-uci"


def test_adult_files_in_the_wrong_shape(tmp_path):
    path = tmp_path / "adult.csv"
    path.write_text(ADULT_CSV.replace(",", "\t"))
    with pytest.raises(DataError, match="has no column 'workclass'.*adult.csv's header"):
        load_adult_csv(path)
    (tmp_path / "adult.data").write_text("1,2,3\n4,5,6\n")
    with pytest.raises(DataError, match="adult.data"):
        load_adult_uci(tmp_path / "adult.data")


def test_own_csv_names_the_label_and_guesses_kinds(tmp_path):
    path = tmp_path / "houses.csv"
    path.write_text("city,rooms,area,price\nParis,3,70.5,500\nLyon,2,,300\n")
    data = load_table_csv(path, "price")
    assert (data.cat_names, data.cont_names) == (["city"], ["rooms", "area"])
    with pytest.raises(DataError, match="has no column 'cost'"):
        load_table_csv(path, "cost")


# ---- finding and describing ---------------------------------------------------------------------

def test_formats_are_detected(tmp_path):
    assert detect_format(resolve("bundled-ml")) == "movielens-100k"
    assert detect_format(resolve("bundled-imdb")) == "texts-csv"
    assert detect_format(resolve("bundled-adult")) == "adult-csv"
    assert detect_format(make_imdb_tree(tmp_path)) == "imdb-folder"
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,2,3.5,0\n")
    assert detect_format(tmp_path / "r") == "movielens-csv"
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no dataset l4tui knows"):
        detect_format(tmp_path / "empty")


def test_describe_each_bundled_dataset():
    text = "\n".join(describe("bundled-imdb"))
    assert "texts    1,000 (800 train, 200 valid)" in text and "positive" in text
    table = "\n".join(describe("bundled-adult"))
    assert "rows     5,000" in table and "workclass        categorical  missing    243" in table
    ratings = "\n".join(describe("bundled-ml"))
    assert "users    600" in ratings and "titles   900" in ratings


def test_data_show_cli_on_own_csv_and_imdb_tree(tmp_path):
    path = tmp_path / "houses.csv"
    path.write_text("city,rooms,price\nParis,3,500\nLyon,2,300\n")
    result = l4tui("data", "show", str(path))
    assert result.returncode == 2 and "--y COLUMN" in result.stderr
    out = l4tui("data", "show", str(path), "--y", "price").stdout
    assert "city             categorical" in out and "price            label" in out
    out = l4tui("data", "show", str(make_imdb_tree(tmp_path))).stdout
    assert "IMDB folder tree" in out and "(unlabelled)" in out
    listing = l4tui("data", "list").stdout
    assert "bundled-imdb" in listing and "bundled-adult" in listing and "bundled-ml" in listing
    assert "ml-100k" in listing and "adult_sample" in listing and "not downloaded" in listing


@pytest.mark.parametrize("script, files", [
    ("make_imdb_sample.py", ["imdb-sample/texts.csv"]),
    ("make_adult_sample.py", ["adult-sample/adult.csv"]),
])
def test_generators_remake_the_shipped_samples(tmp_path, script, files):
    spec = importlib.util.spec_from_file_location(script[:-3], DATASETS / script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    folder = files[0].split("/")[0]
    module.main(tmp_path / folder)
    for name in files:
        assert (tmp_path / name).read_bytes() == (DATASETS / name).read_bytes(), name


def test_downloaded_dataset_names_resolve_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("L4TUI_DATA", str(tmp_path))
    with pytest.raises(DataError, match="adult_sample is not downloaded yet.*l4tui data get adult_sample"):
        resolve("adult_sample")
    (tmp_path / "adult_sample").mkdir()
    (tmp_path / "adult_sample" / "adult.csv").write_text(ADULT_CSV)
    assert detect_format(resolve("adult_sample")) == "adult-csv"
    assert "rows     3" in "\n".join(describe("adult_sample"))


def test_fastai_imdb_layout_keeps_unsup_at_the_top(tmp_path):
    root = make_imdb_tree(tmp_path)
    (root / "train" / "unsup" / "2_0.txt").rename(tmp_path / "moved.txt")
    (root / "unsup").mkdir()
    (tmp_path / "moved.txt").rename(root / "unsup" / "9_0.txt")
    assert load_imdb_folder(root).labels.count(UNLABELLED) == 1


def test_data_get_says_plainly_when_offline(tmp_path):
    import os

    env = {**os.environ, "L4TUI_DATA": str(tmp_path), "https_proxy": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}
    result = l4tui("data", "get", "ml_sample", env=env, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "offline" in result.stderr and str(tmp_path) in result.stderr
    result = l4tui("data", "get", "nope", env=env)
    assert result.returncode == 1 and "Known datasets" in result.stderr


# ---- one loader per kind, for the recipes and the screens ----------------------------------------

def test_open_table_reads_every_tabular_layout(tmp_path):
    from l4tui.data.tables import ADULT_CAT_NAMES, open_table

    bundled = open_table()
    assert bundled.source == resolve("bundled-adult") and bundled.cat_names == ADULT_CAT_NAMES
    assert open_table("bundled-adult").frame.shape == bundled.frame.shape
    (tmp_path / "uci").mkdir()
    (tmp_path / "uci" / "adult.data").write_text(ADULT_DATA)
    assert open_table(str(tmp_path / "uci")).format.startswith("adult.data")  # a folder holding adult.data
    path = tmp_path / "houses.csv"
    path.write_text("city,rooms,area,price\nParis,3,70.5,500\nLyon,2,,300\n")
    own = open_table(str(path), "price", cont_names=["area"])
    assert (own.y_name, own.cont_names) == ("price", ["area"])
    assert open_table(str(path), "price", ["city", "rooms"]).cat_names == ["city", "rooms"]
    assert open_table(bundled.source, "salary", ["race"]).cat_names == ["race"]  # the run's own choice wins
    with pytest.raises(DataError, match="does not recognise.*--y COLUMN"):
        open_table(str(path))
    with pytest.raises(DataError, match="no such file or folder"):
        open_table(str(tmp_path / "missing.csv"), "price")


def test_open_texts_reads_a_texts_csv_or_an_imdb_tree(tmp_path):
    from l4tui.data.texts import open_texts

    assert open_texts().source == resolve("bundled-imdb")
    assert len(open_texts("bundled-imdb")) == len(load_texts_csv(resolve("bundled-imdb")))
    tree = open_texts(str(make_imdb_tree(tmp_path)))
    assert tree.format == load_imdb_folder(tmp_path).format and len(tree) == 5
    (tmp_path / "texts.csv").write_text("text,label\nhello,pos\n")  # a texts.csv beside the tree wins
    assert open_texts(str(tmp_path)).texts == ["hello"]
    with pytest.raises(DataError, match="no such file or folder"):
        open_texts(str(tmp_path / "missing"))


def test_open_ratings_reads_by_name_or_path(small_ratings):
    from l4tui.data.ratings import open_ratings

    assert open_ratings().source == open_ratings("bundled-ml").source
    assert len(open_ratings(str(small_ratings)).table) == 3000
    with pytest.raises(DataError):
        open_ratings(str(small_ratings / "nothing-here"))
