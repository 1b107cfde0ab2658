"""Data is checked before a run starts (issue 17, items 8-10): one check, shared by the CLI, the
launch form (both through start_run) and the run's own process (the recipes' prepare), that
names the file, the column and the line, says what to do, and quotes at most ~200 characters.
No run folder is made for data that fails."""

import zipfile

import pytest

from conftest import REPO
from l4tui.cli import main
from l4tui.data.errors import DataError
from l4tui.data.describe import describe
from l4tui.train.recipes import RECIPES, check_data

DATASETS = REPO / "datasets"
ADULT_LINES = (DATASETS / "adult-sample" / "adult.csv").read_text().splitlines()
ADULT_HEADER, ADULT_ROWS = ADULT_LINES[0], ADULT_LINES[1:]
U_DATA = (DATASETS / "ml-sample" / "u.data").read_text().splitlines()
TEXTS_LINES = (DATASETS / "imdb-sample" / "texts.csv").read_text().splitlines()
LONGEST_MESSAGE = 600  # path + problem + fix, with quoted input cut to ~200


def config(family, data, **options):
    return RECIPES[family][0].from_dict({"data": str(data), **options})


def refused(family, data, **options) -> str:
    """The check's message for `data`, which must be one line of reasonable length."""
    with pytest.raises(ValueError) as caught:
        check_data(family, config(family, data, **options))
    message = str(caught.value)
    assert "\n" not in message and len(message) < LONGEST_MESSAGE, message
    return message


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def ratings_csv(tmp_path, rating_at_line_9=None, rows=2000):
    """A newer-MovieLens ratings.csv; line 9 (the 8th rating) may be replaced."""
    lines = ["userId,movieId,rating,timestamp"]
    for i, line in enumerate(U_DATA[:rows]):
        user, item, rating, stamp = line.split("\t")
        lines.append(f"{user},{item},{rating_at_line_9 if i == 7 and rating_at_line_9 else rating},{stamp}")
    return write(tmp_path / "ratings.csv", "\n".join(lines) + "\n")


# ---- the reproductions ------------------------------------------------------------------

def test_a_csv_with_only_its_label_column(tmp_path):
    data = write(tmp_path / "labels.csv", "salary\n" + "\n".join(r.rsplit(",", 1)[1] for r in ADULT_ROWS[:300]))
    message = refused("tabular", data)
    assert str(data) in message and "'salary'" in message and "input column" in message


def test_a_one_row_table(tmp_path):
    data = write(tmp_path / "one.csv", f"{ADULT_HEADER}\n{ADULT_ROWS[0]}\n")
    message = refused("tabular", data)
    assert str(data) in message and "1 row" in message and "add rows" in message


def test_one_rating(tmp_path):
    data = write(tmp_path / "ratings.csv", "userId,movieId,rating,timestamp\n1,2,3.5,0\n")
    message = refused("collab", data)
    assert str(data) in message and "1 rating" in message and "add" in message


def test_too_few_training_rows_for_a_batch_says_which_bs(tmp_path):
    data = ratings_csv(tmp_path, rows=40)  # 32 training ratings, fewer than a batch of 64
    message = refused("collab", data)
    assert "32 training ratings" in message and "--bs" in message
    check_data("collab", config("collab", data, bs=32))  # a batch they fill is fine


@pytest.mark.parametrize("bad, shown", [("1e30", "1e+30"), ("inf", "inf"), ("-inf", "-inf"), ("nan", "nan"),
                                        ("1e39", "1e+39")])
def test_ratings_that_are_not_finite_or_are_huge(tmp_path, bad, shown):
    data = ratings_csv(tmp_path, bad)
    message = refused("collab", data)
    assert f"{data}:9:" in message and "rating" in message and shown in message, message
    assert "learning rate" not in message and "lr" not in message


def test_negative_ratings_are_refused_with_the_lessons_y_range(tmp_path):
    data = ratings_csv(tmp_path, "-3")
    message = refused("collab", data)
    assert f"{data}:9:" in message and "-3" in message and "y_range" in message and "--y-range" in message


def test_negative_ratings_are_accepted_when_y_range_covers_them(tmp_path):
    data = ratings_csv(tmp_path, "-3")
    check_data("collab", config("collab", data, y_range=(-3.5, 5.5)))


def test_the_bundled_data_passes(tmp_path):
    for family in RECIPES:
        check_data(family, RECIPES[family][0]())


def test_an_adult_csv_whose_age_is_text(tmp_path):
    rows = [("forty" + row[row.index(","):]) if i == 5 else row for i, row in enumerate(ADULT_ROWS[:300])]
    data = write(tmp_path / "adult.csv", "\n".join([ADULT_HEADER, *rows]) + "\n")
    message = refused("tabular", data)
    assert f"{data}:7:" in message and "'age'" in message and "'forty'" in message
    # `l4tui data show` describes it instead of failing on the text (pandas 3: string dtype).
    lines = describe(str(data))
    assert any(line.split()[:2] == ["age", "continuous"] and "forty" in line for line in lines), lines


def test_a_continuous_column_with_inf(tmp_path):
    rows = [row.replace(",12,", ",inf,", 1) if i == 3 else row for i, row in enumerate(ADULT_ROWS[:300])]
    rows = [("inf" + row[row.index(","):]) if i == 3 else row for i, row in enumerate(rows)]
    data = write(tmp_path / "adult.csv", "\n".join([ADULT_HEADER, *rows]) + "\n")
    message = refused("tabular", data)
    assert f"{data}:5:" in message and "'age'" in message and "finite" in message


def test_missing_labels_and_a_single_label(tmp_path):
    rows = [row.rsplit(",", 1)[0] + "," if i == 9 else row for i, row in enumerate(ADULT_ROWS[:300])]
    data = write(tmp_path / "adult.csv", "\n".join([ADULT_HEADER, *rows]) + "\n")
    message = refused("tabular", data)
    assert f"{data}:11:" in message and "'salary'" in message and "empty" in message
    same = [row.rsplit(",", 1)[0] + ",<50k" for row in ADULT_ROWS[:300]]
    write(data, "\n".join([ADULT_HEADER, *same]) + "\n")
    assert "one value" in refused("tabular", data)


def test_a_texts_csv_with_a_broken_quote(tmp_path):
    body = "\n".join(line.replace('"', "") for line in TEXTS_LINES[1:100])  # no quotes left below line 2
    data = write(tmp_path / "texts.csv", f'{TEXTS_LINES[0]}\nnegative,"Unclosed quote here,False\n{body}\n')
    message = refused("lm", data)
    assert f"{data}:2:" in message and "quote" in message


def test_a_quote_closed_in_the_middle_of_a_text(tmp_path):
    data = write(tmp_path / "texts.csv", TEXTS_LINES[0] + '\npositive,"Great" film,False\n'
                 + "\n".join(TEXTS_LINES[1:200]) + "\n")
    message = refused("lm", data)
    assert f"{data}:2:" in message and "quote" in message


def test_texts_that_are_all_empty(tmp_path):
    data = write(tmp_path / "texts.csv", "label,text,is_valid\n" + "positive,,False\nnegative,  ,True\n" * 60)
    for family in ("lm", "classifier"):
        message = refused(family, data)
        assert str(data) in message and "'text'" in message and "empty" in message


def test_too_few_texts_for_the_language_models_split(tmp_path):
    data = write(tmp_path / "texts.csv", "label,text,is_valid\n" + "positive,A fine film.,False\n" * 3)
    message = refused("lm", data)
    assert str(data) in message and "valid" in message


def test_the_classifier_needs_two_labels_and_both_splits(tmp_path):
    data = write(tmp_path / "texts.csv", "label,text,is_valid\n" + "positive,A fine film.,False\n" * 50)
    assert "two labels" in refused("classifier", data)
    data = write(tmp_path / "texts.csv", "label,text,is_valid\n" + "positive,Fine.,True\nnegative,Bad.,True\n" * 9)
    assert "training" in refused("classifier", data)


# ---- hostile files, every family -----------------------------------------------------------------

HOSTILE = {
    "empty": b"",
    "binary": bytes(range(256)) * 8,
    "latin-1": "userId,movieId,rating,timestamp,text,label,salary\n1,2,3,4,caf\xe9,x,y\n".encode("latin-1"),
    "header only": b"userId,movieId,rating,timestamp,text,label,salary\n",
    "semicolons": ADULT_HEADER.replace(",", ";").encode() + b"\n" + ADULT_ROWS[0].replace(",", ";").encode() + b"\n",
}


@pytest.mark.parametrize("family", list(RECIPES))
@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_files_get_one_line(tmp_path, family, name):
    data = tmp_path / ("ratings.csv" if family == "collab" else "data.csv")
    data.write_bytes(HOSTILE[name])
    assert str(data) in refused(family, data)


def test_a_wrong_delimiter_is_named(tmp_path):
    data = tmp_path / "adult.csv"
    data.write_bytes(HOSTILE["semicolons"])
    assert "';'" in refused("tabular", data)


def test_a_huge_one_line_file_gives_a_short_message(tmp_path):
    data = write(tmp_path / "huge.csv", "salary," + "x" * 50_000_000 + "\n")
    for family in RECIPES:
        refused(family, data, y_name="label")  # (its length is checked by `refused`)
    assert len(" ".join(describe_error(data))) < LONGEST_MESSAGE


def describe_error(data):
    with pytest.raises(ValueError) as caught:
        describe(str(data), y_name="label")
    return [str(caught.value)]


# ---- paths: unreadable files, --encoder, --pretrained ---------------------------------------------

def test_an_unreadable_file_inside_a_dataset_folder(tmp_path):
    folder = tmp_path / "ml"
    folder.mkdir()
    (folder / "u.data").symlink_to(tmp_path / "gone")  # a dangling link: there, but can't be read
    message = refused("collab", folder)
    assert "u.data" in message
    (folder / "u.data").unlink()
    (folder / "u.data").mkdir()  # a folder where the file should be
    assert "u.data" in refused("collab", folder)


def test_a_permission_error_is_one_line(tmp_path, monkeypatch):
    data = ratings_csv(tmp_path)
    real_open = open

    def no_read(path, *args, **kwargs):
        if str(path) == str(data):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", no_read)
    message = refused("collab", data)
    assert str(data) in message and "Permission denied" in message


def run_cli(capsys, *args):
    status = main(list(args))
    err = capsys.readouterr().err
    return status, err


@pytest.mark.parametrize("family, option", [("classifier", "--encoder"), ("lm", "--pretrained")])
def test_checkpoint_paths_that_are_missing_or_bad(tmp_path, capsys, monkeypatch, family, option):
    monkeypatch.chdir(tmp_path)
    runs = tmp_path / "runs"
    runs.mkdir()  # an existing runs folder: an absolute path once made its look-up raise NotImplementedError
    text = write(tmp_path / "notes.pt", "not a checkpoint\n")
    truncated = tmp_path / "cut.pt"
    with zipfile.ZipFile(tmp_path / "whole.pt", "w") as archive:
        archive.writestr("whole/data.pkl", b"\x80\x02}q\x00.")
    truncated.write_bytes((tmp_path / "whole.pt").read_bytes()[:20])
    for given in (str(tmp_path / "nowhere.pt"), "/abs/run-that-is-not", str(text), str(truncated), "no-such-run"):
        status, err = run_cli(capsys, "--runs", str(runs), "train", family, option, given, "--detach")
        assert status == 2 and err.count("\n") == 1 and "Traceback" not in err, err
        assert given in err or given.split("/")[-1] in err, err
        assert "weights_only" not in err
    assert not runs.exists() or not any(runs.iterdir())


def test_the_cli_refuses_bad_data_before_making_a_run_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runs = tmp_path / "runs"
    one_row = write(tmp_path / "one.csv", f"{ADULT_HEADER}\n{ADULT_ROWS[0]}\n")
    status, err = run_cli(capsys, "--runs", str(runs), "train", "tabular", "--data", str(one_row), "--detach")
    assert status == 2 and err.startswith("l4tui: error: ") and str(one_row) in err and err.count("\n") == 1
    status, err = run_cli(capsys, "--runs", str(runs), "train", "collab", "--data", str(ratings_csv(tmp_path, "inf")))
    assert status == 2 and "inf" in err
    assert not runs.exists() or not any(runs.iterdir())


def test_the_y_range_option_reaches_the_config(tmp_path, capsys, monkeypatch):
    from l4tui.cli import build_parser

    args = build_parser().parse_args(["train", "collab", "--y-range=-3.5,5.5"])
    assert args.y_range == (-3.5, 5.5)
    with pytest.raises(ValueError, match="y_range"):
        config("collab", "bundled-ml", y_range=(5, 1)).validate()


def test_data_show_on_bad_data_is_one_line(tmp_path, capsys):
    data = write(tmp_path / "labels.csv", "salary\n" + "\n".join(r.rsplit(",", 1)[1] for r in ADULT_ROWS[:30]))
    status, _ = run_cli(capsys, "data", "show", str(data), "--y", "salary")
    assert status == 0  # describing it is fine: it is a valid table, only not one to train on
    status, err = run_cli(capsys, "data", "show", str(tmp_path / "missing.csv"))
    assert status == 2 and err.count("\n") == 1


# ---- the run's own process uses the same check ---------------------------------------------------

def test_the_worker_refuses_with_the_same_message(tmp_path):
    from l4tui.train.collab import prepare_collab

    data = ratings_csv(tmp_path, "1e30")
    with pytest.raises(DataError) as in_worker:
        prepare_collab(config("collab", data), "cpu")
    assert str(in_worker.value) == refused("collab", data)


# ---- the launch form shows the same message and starts nothing ---------------------------------

async def test_the_launch_form_refuses_bad_data_with_the_checks_message(tmp_path, runs_dir, monkeypatch):
    from textual.widgets import Select, Static

    from conftest import wait_until
    from l4tui.ui.app import L4App
    from l4tui.ui.launch_screen import LaunchScreen

    monkeypatch.setenv("L4TUI_DATA", str(tmp_path / "cache"))
    folder = tmp_path / "cache" / "movie_lens_sample"  # where `l4tui data get ml_sample` unpacks
    folder.mkdir(parents=True)
    ratings_csv(folder, "inf")  # a downloaded dataset, damaged since
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(LaunchScreen(runs_dir, {}))  # what `n` in the Data & training pane opens
        assert await wait_until(pilot, lambda: isinstance(app.screen, LaunchScreen) and app.screen.query("#field-data"))
        form = app.screen
        form.query_one("#field-data", Select).value = "ml_sample"
        await pilot.pause()
        await pilot.press("ctrl+s")
        status = form.query_one("#launch-status", Static)
        assert await wait_until(pilot, lambda: "ratings.csv:9: rating inf" in str(status.render()))
        assert isinstance(app.screen, LaunchScreen) and not runs_dir.exists()


def test_a_continuous_column_without_numbers(tmp_path):
    rows = [row.split(",", 1)[1] for row in ADULT_ROWS[:300]]  # age left empty everywhere
    data = write(tmp_path / "adult.csv", "\n".join([ADULT_HEADER, *[f",{row}" for row in rows]]) + "\n")
    message = refused("tabular", data)
    assert "'age'" in message and "no numbers" in message


def test_the_equivalent_command_keeps_a_negative_y_range_one_argument():
    from l4tui.cli import build_parser
    from l4tui.train.launch_form import command_line

    command = command_line("collab", {"y_range": (-3.5, 5.5)})
    assert command == "l4tui train collab --y-range=-3.5,5.5"
    assert build_parser().parse_args(command.split()[1:]).y_range == (-3.5, 5.5)


def test_one_training_text_for_the_classifier(tmp_path):
    # Its head's BatchNorm can't train on a batch of one: torch stopped the run on the first batch.
    data = write(tmp_path / "texts.csv", "label,text,is_valid\npos,hello there,False\nneg,bye now,True\n")
    message = refused("classifier", data)
    assert "1 to train on" in message and "BatchNorm" in message
    with pytest.raises(ValueError, match="bs must be at least 2"):
        config("tabular", "bundled-adult", bs=1).validate()


def test_a_checkpoint_file_loads_in_the_run_and_a_bad_one_is_one_line(tmp_path):
    import torch

    from l4tui.runs.checkpoints import load_named_checkpoint as _load_checkpoint

    good = tmp_path / "lm.pt"
    torch.save({"model": {"0.weight": torch.zeros(2)}, "vocab": ["xxunk", "the"]}, good)
    assert _load_checkpoint(str(good))["vocab"] == ["xxunk", "the"]
    check_data("lm", config("lm", "bundled-imdb", pretrained=str(good)))  # a sound file passes the check
    bad = write(tmp_path / "bad.pt", "text\n")
    with pytest.raises(ValueError) as caught:
        _load_checkpoint(str(bad))
    assert "\n" not in str(caught.value) and "weights_only" not in str(caught.value)
