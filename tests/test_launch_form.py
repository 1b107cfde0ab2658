"""The launch form's model (l4tui.train.launch_form): fields, messages, the equivalent command,
and what the data and encoder fields offer. No training here."""

import json
import shlex
import subprocess
import sys

import numpy as np
import pytest

from l4tui.cli import build_parser
from l4tui.runs.events import EventWriter
from l4tui.train.launch_form import (RECIPES_SHOWN, command_line, count_training_items, datasets_for,
                                     encoder_runs, fields_for, parse_field, validate_form)
from l4tui.runs.store import write_run_file
from l4tui.train.recipes import RECIPES, check_data

from conftest import REPO

FAMILIES = [family for family, _ in RECIPES_SHOWN]
DATASETS = REPO / "datasets"


def spec(family, name):
    return next(s for s in fields_for(family) if s.name == name)


# --- Fields and defaults --------------------------------------------------------------------

def test_recipes_shown_in_order():
    assert FAMILIES == ["collab", "tabular", "lm", "classifier"]


def test_fields_in_order_with_the_recipes_defaults():
    names = {family: [s.name for s in fields_for(family)] for family in FAMILIES}
    last = ["activation_stats_every", "threads", "device"]
    assert names["collab"] == ["data", "epochs", "lr", "wd", "bs", "n_factors", *last]
    assert names["tabular"] == ["data", "epochs", "lr", "wd", "bs", "layers", "split", *last]
    assert names["lm"] == ["data", "preset", "pretrained", "epochs", "lr", "wd", "bs", "drop_mult", *last]
    assert names["classifier"] == ["data", "preset", "encoder", "epochs", "lr", "wd", "bs", "drop_mult", *last]
    assert spec("collab", "activation_stats_every").default == "0"  # off unless asked for
    assert spec("collab", "lr").default == "0.005"
    assert spec("tabular", "layers").default == "200,100"
    assert spec("tabular", "layers").kind == "int_list"
    assert spec("collab", "data").default == "bundled-ml"
    assert spec("classifier", "encoder").default == ""
    assert [v for v, _ in spec("lm", "preset").choices] == ["small", "lesson"]
    assert [v for v, _ in spec("collab", "device").choices] == ["auto", "cpu", "cuda"]
    for family in FAMILIES:  # every field is a field of the recipe's config
        config_fields = set(RECIPES[family][0].__dataclass_fields__)
        assert {s.name for s in fields_for(family)} <= config_fields


@pytest.mark.parametrize("family", FAMILIES)
def test_defaults_validate(family):
    config, errors = validate_form(family, {})
    assert errors == {}
    assert set(config) == {s.name for s in fields_for(family)}
    RECIPES[family][0].from_dict(config).validate()
    check_data(family, RECIPES[family][0].from_dict(config))  # what start_run checks before starting
    # The same with every default typed in.
    assert validate_form(family, {s.name: s.default for s in fields_for(family)}) == (config, {})


def test_the_module_imports_no_ui_torch_or_pandas():
    code = ("import sys, l4tui.train.launch_form; "
            "print([m for m in ('textual', 'torch', 'pandas') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.stdout.strip() == "[]", result.stderr


# --- Messages ---------------------------------------------------------------------------------

@pytest.mark.parametrize("family, name, text, message", [
    ("collab", "lr", "-0.01", "must be positive"),
    ("collab", "lr", "0", "must be positive"),
    ("collab", "lr", "abc", "not a number"),
    ("collab", "lr", "nan", "not a number"),
    ("collab", "epochs", "0", "must be at least 1"),
    ("collab", "epochs", "1.5", "must be a whole number"),
    ("collab", "epochs", "three", "not a number"),
    ("collab", "bs", "0", "must be at least 1"),
    ("collab", "n_factors", "0", "must be at least 1"),
    ("collab", "wd", "-0.1", "must not be negative"),
    ("collab", "wd", "", "required"),
    ("lm", "drop_mult", "-0.5", "must not be negative"),
    ("tabular", "layers", "200;100", "sizes separated by commas, e.g. 200,100"),
    ("tabular", "layers", "200,abc", "sizes separated by commas, e.g. 200,100"),
    ("tabular", "layers", "200,0", "must all be at least 1"),
    ("collab", "device", "tpu", "not one of the choices"),
    ("lm", "preset", "huge", "not one of the choices"),
    ("collab", "data", "no-such-dataset", "no such dataset, file or folder"),
])
def test_each_bad_value_has_its_message(family, name, text, message):
    assert parse_field(spec(family, name), text) == (None, message)
    config, errors = validate_form(family, {name: text})
    assert errors == {name: message}
    assert name not in config
    assert len(message) <= 40


def test_good_values_parse():
    assert parse_field(spec("collab", "lr"), " 3e-3 ") == (0.003, None)
    assert parse_field(spec("collab", "epochs"), "7") == (7, None)
    assert parse_field(spec("tabular", "layers"), "400, 200,") == ((400, 200), None)
    assert parse_field(spec("collab", "device"), "cuda:1") == ("cuda:1", None)
    assert parse_field(spec("classifier", "encoder"), "") == ("", None)  # no encoder: random weights


def test_data_of_the_wrong_kind():
    assert validate_form("tabular", {"data": "bundled-ml"})[1] == {"data": "not a table (a CSV)"}
    assert validate_form("collab", {"data": "bundled-imdb"})[1] == {"data": "not ratings (u.data or ratings.csv)"}


def test_a_data_path_becomes_absolute(tmp_path, monkeypatch):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "u.data").write_bytes((DATASETS / "ml-sample" / "u.data").read_bytes())
    monkeypatch.chdir(tmp_path)
    config, errors = validate_form("collab", {"data": "mine"})
    assert errors == {}
    assert config["data"] == str(tmp_path / "mine")


def test_drop_mult_that_makes_a_dropout_reach_1():
    assert validate_form("lm", {"drop_mult": "4"})[1] == {"drop_mult": "must be below 4 (a dropout reaches 1)"}
    assert validate_form("lm", {"drop_mult": "3.9"})[1] == {}
    assert validate_form("classifier", {"drop_mult": "2"})[1] == {"drop_mult": "must be below 2 (a dropout reaches 1)"}


# --- The batch size against the data --------------------------------------------------------

def collab_train_rows():
    """From the bundled file itself, as prepare_collab splits it."""
    from l4tui.data.ratings import load_ratings, split_valid

    ratings = load_ratings(DATASETS / "ml-sample")
    return len(split_valid(len(ratings.table), 0.2, 42)[0])


def tabular_train_rows():
    """From the bundled file itself, as prepare_tabular splits it."""
    from l4tui.train.tabular import TabularConfig, load_table

    frame = load_table(TabularConfig()).frame
    return int((~(np.random.default_rng(42).random(len(frame)) < 0.2)).sum())


@pytest.mark.parametrize("family, expected", [("collab", collab_train_rows), ("tabular", tabular_train_rows)])
def test_bs_bigger_than_the_bundled_training_items(family, expected):
    n = expected()
    assert count_training_items(family, spec(family, "data").default) == n
    config, errors = validate_form(family, {"bs": str(n + 1)}, data_items=n)
    assert errors == {"bs": f"larger than the data ({n:,} training items)"}
    assert validate_form(family, {"bs": str(n)}, data_items=n)[1] == {}


def test_a_batch_size_leaving_one_row_over_is_fine_the_recipe_drops_it():
    # n - 1 rows per batch leaves a last batch of one row, which would break BatchNorm; the
    # training batches drop a short last batch, as fastai's do, so the form need not refuse it.
    from l4tui.train.batches import TensorBatches
    import torch

    n = tabular_train_rows()
    assert validate_form("tabular", {"bs": str(n - 1)}, data_items=n)[1] == {}
    batches = TensorBatches((torch.zeros(n, 2),), torch.zeros(n), n - 1, shuffle=True, drop_last=True)
    assert batches.n_batches() == 1 and [len(y) for _, y in batches.epoch_batches(0)] == [n - 1]
    small = TensorBatches((torch.zeros(3, 2),), torch.zeros(3), 8, shuffle=True, drop_last=True)
    assert [len(y) for _, y in small.epoch_batches(0)] == [3]  # fewer rows than bs: kept


def test_classifier_counts_its_labelled_training_texts():
    from l4tui.data.texts import load_texts_csv

    data = load_texts_csv(DATASETS / "imdb-sample" / "texts.csv")
    expected = sum(1 for label, valid in zip(data.labels, data.is_valid) if label and not valid)
    assert count_training_items("classifier", "bundled-imdb") == expected


def test_lm_counts_rows_of_bptt_tokens_on_the_low_side():
    """The estimate (words + xxbos) is at most what the tokenizer's tokens would fill."""
    from l4tui.data.texts import load_texts_csv
    from l4tui.data.tokenizer import tokenize_many

    data = load_texts_csv(DATASETS / "imdb-sample" / "texts.csv")
    valid = np.random.default_rng(42).random(len(data)) < 0.1
    tokens = sum(len(t) for t, v in zip(tokenize_many(data.texts), valid) if not v)
    rows = count_training_items("lm", "bundled-imdb")
    assert 0.5 * (tokens - 1) // 72 < rows <= (tokens - 1) // 72


def test_counts_are_none_when_the_data_does_not_fit(tmp_path):
    assert count_training_items("collab", "bundled-adult") is None
    assert count_training_items("tabular", str(tmp_path / "missing.csv")) is None
    assert count_training_items("lm", "bundled-ml") is None


# --- The equivalent command ------------------------------------------------------------------

@pytest.mark.parametrize("family", FAMILIES)
def test_defaults_give_the_bare_command(family):
    assert command_line(family, validate_form(family, {})[0]) == f"l4tui train {family}"
    assert command_line(family, RECIPES[family][0]().to_dict()) == f"l4tui train {family}"


CHANGED = {
    "collab": {"epochs": "3", "lr": "0.01", "n_factors": "20", "device": "cpu"},
    "tabular": {"layers": "400,200,50", "bs": "128", "wd": "0.1", "data": str(DATASETS / "adult-sample" / "adult.csv")},
    "lm": {"preset": "lesson", "drop_mult": "0.1", "lr": "1e-3"},
    "classifier": {"encoder": "20250101-120000-lm-ab12", "epochs": "4", "device": "cuda:1"},
}


@pytest.mark.parametrize("family", FAMILIES)
def test_command_line_round_trips_through_the_cli_parser(family):
    config = {s.name: parse_field(s, CHANGED[family].get(s.name, s.default))[0] for s in fields_for(family)}
    command = command_line(family, config)
    args = build_parser().parse_args(shlex.split(command)[1:])
    assert args.command == "train" and args.family == family and not args.lr_find
    changed = set(CHANGED[family])
    for s in fields_for(family):
        given = getattr(args, s.name)
        assert given == (config[s.name] if s.name in changed else None), s.name


def test_command_line_quotes_paths_and_asks_for_lr_find(tmp_path):
    data = str(tmp_path / "my data" / "adult.csv")
    command = command_line("tabular", {"data": data, "lr": 0.003, "layers": [10, 5]}, mode="lr_find")
    assert command == f"l4tui train tabular --data {shlex.quote(data)} --lr 0.003 --layers 10,5 --lr-find"
    args = build_parser().parse_args(shlex.split(command)[1:])
    assert (args.data, args.lr, args.layers, args.lr_find) == (data, 0.003, (10, 5), True)


def test_command_line_keeps_other_options_of_a_run_config():
    config = {**RECIPES["lm"][0]().to_dict(), "bptt": 100, "seed": 1, "fp16": False, "cpu_bf16": True,
              "moms": [0.9, 0.8, 0.9]}
    command = command_line("lm", config)
    # fp16 is on by default for lm (on CUDA): turned off it is --no-fp16.
    assert command == "l4tui train lm --bptt 100 --moms 0.9,0.8,0.9 --seed 1 --no-fp16 --cpu-bf16"
    args = build_parser().parse_args(shlex.split(command)[1:])
    assert (args.bptt, args.moms, args.seed, args.fp16, args.cpu_bf16) == (100, (0.9, 0.8, 0.9), 1, False, True)


# --- Datasets and encoders --------------------------------------------------------------------

@pytest.mark.parametrize("family, bundled", [("collab", "bundled-ml"), ("tabular", "bundled-adult"),
                                             ("lm", "bundled-imdb"), ("classifier", "bundled-imdb")])
def test_datasets_for_lists_the_bundled_one_first(family, bundled, tmp_path, monkeypatch):
    monkeypatch.setenv("L4TUI_DATA", str(tmp_path))
    assert [value for value, _ in datasets_for(family)] == [bundled]


def test_datasets_for_adds_downloaded_ones_of_the_right_kind(tmp_path, monkeypatch):
    monkeypatch.setenv("L4TUI_DATA", str(tmp_path))
    (tmp_path / "ml-100k").mkdir()
    (tmp_path / "ml-100k" / "u.data").write_text("1\t1\t5\t0\n")
    (tmp_path / "adult_sample").mkdir()  # half unpacked: no adult.csv yet
    assert [value for value, _ in datasets_for("collab")] == ["bundled-ml", "ml-100k"]
    assert [value for value, _ in datasets_for("tabular")] == ["bundled-adult"]
    assert "downloaded" in dict(datasets_for("collab"))["ml-100k"]


def make_lm_run(runs_dir, name, started, state="finished", mode="train", family="lm", checkpoint=True,
                metrics=None, preset="small"):
    run_dir = runs_dir / name
    run_dir.mkdir(parents=True)
    write_run_file(run_dir, family, {"epochs": 1, "preset": preset}, ["python"], pid=0, mode=mode)
    meta = json.loads((run_dir / "run.json").read_text())
    meta["started"] = started  # the order list_runs sorts by
    (run_dir / "run.json").write_text(json.dumps(meta))
    writer = EventWriter(run_dir)
    writer.write("end", state=state, metrics=metrics or {})
    writer.close()
    if checkpoint:
        (run_dir / "checkpoints").mkdir()
        (run_dir / "checkpoints" / "last.pt").write_bytes(b"")
    return run_dir


def test_encoder_runs_lists_finished_lm_training_runs_newest_first(tmp_path):
    runs = tmp_path / "runs"
    make_lm_run(runs, "old-lm", 100, metrics={"perplexity": 45.67})
    make_lm_run(runs, "new-lm", 200, preset="lesson")
    make_lm_run(runs, "failed-lm", 300, state="failed")
    make_lm_run(runs, "lr-find-lm", 400, mode="lr_find")
    make_lm_run(runs, "collab-run", 500, family="collab")
    make_lm_run(runs, "no-checkpoint-lm", 600, checkpoint=False)
    assert encoder_runs(runs) == [("new-lm", "new-lm  (lesson)"), ("old-lm", "old-lm  perplexity 45.7  (small)")]
    assert encoder_runs(tmp_path / "no-runs-yet") == []


def test_the_encoders_preset_must_match(tmp_path):
    runs = tmp_path / "runs"
    make_lm_run(runs, "lesson-lm", 100, preset="lesson")
    assert validate_form("classifier", {"encoder": "lesson-lm"}, runs_dir=runs)[1] == \
        {"preset": "must match the encoder's (lesson)"}
    config, errors = validate_form("classifier", {"encoder": "lesson-lm", "preset": "lesson"}, runs_dir=runs)
    assert errors == {} and config["encoder"] == "lesson-lm"
    assert validate_form("classifier", {"encoder": "gone"}, runs_dir=runs)[1] == {"encoder": "no such run"}
