"""The launch form's model: the fields of each recipe's form, what their text means, what is
wrong with it, and the `l4tui train` command that starts the same run. No UI here: the app's
form (l4tui/ui/) shows these fields and starts the run with `start_run(family, config, runs_dir)`.

    fields_for("collab")              the fields, starting from the recipe's defaults (the lesson's)
    parse_field(spec, "3e-3")         (0.003, None), or (None, "not a number") as the user types
    validate_form("collab", texts)    (config for start_run, errors by field name)
    command_line("collab", config)    "l4tui train collab --lr 0.003"
    datasets_for / count_training_items / encoder_runs: what the data and encoder fields offer

torch and pandas are imported only inside the functions that need them. Note that the recipes'
config classes bring pandas with them (l4tui.train.collab imports l4tui.data.ratings), so they
too are imported inside functions.
"""

import csv
import os
import re
import shlex
import sys
from dataclasses import dataclass, fields
from pathlib import Path

from l4tui.runs.checkpoints import FOLDER, LAST
from l4tui.train.text import PRESETS

RECIPES_SHOWN: list[tuple[str, str]] = [
    ("collab", "Collab filtering (EmbeddingDotBias)"),
    ("tabular", "Tabular model"),
    ("lm", "LM fine-tuning (AWD-LSTM)"),
    ("classifier", "ULMFiT classifier"),
]

# Each family's bundled dataset (works offline), and the data layer's name for its kind of data.
BUNDLED_DATA = {"collab": "bundled-ml", "tabular": "bundled-adult", "lm": "bundled-imdb",
                "classifier": "bundled-imdb"}
DATA_KIND = {"collab": "collab", "tabular": "tabular", "lm": "text", "classifier": "text"}
BUNDLED_LABELS = {"bundled-ml": "MovieLens sample", "bundled-adult": "adult census sample",
                  "bundled-imdb": "IMDB reviews sample"}

DEVICES = [("auto", "auto (CUDA if there is one)"), ("cpu", "CPU"), ("cuda", "CUDA (the first GPU)")]
PRESET_CHOICES = [(name, f"{name}: emb {sizes['emb_sz']}, hidden {sizes['n_hid']}, {sizes['n_layers']} LSTMs")
                  for name, sizes in PRESETS.items()]


@dataclass
class FieldSpec:
    name: str  # the recipe's Config field name, so a checked form is the config itself
    label: str
    kind: str  # "int", "float", "int_list", "choice" or "text"
    default: str  # the text the input starts with: the recipe's default
    help: str
    choices: list[tuple[str, str]] | None = None  # (value, label); None: the UI fills them in


# name -> (label, kind, help), for every field a form can have.
FIELDS = {
    "data": ("Data", "choice", "the dataset to train on (`l4tui data list`)"),
    "preset": ("Model size", "choice", "the AWD-LSTM's sizes: small trains fast on a CPU, lesson is fastai's"),
    "encoder": ("Encoder", "choice", "the fine-tuned language model run to start from (none: random weights)"),
    "epochs": ("Epochs", "int", "passes over the training data"),
    "lr": ("Learning rate", "float", "the peak learning rate of the one cycle"),
    "wd": ("Weight decay", "float", "how strongly the weights are pulled towards zero"),
    "bs": ("Batch size", "int", "items per batch"),
    "drop_mult": ("Dropout multiplier", "float", "scales all five AWD-LSTM dropouts"),
    "n_factors": ("Factors", "int", "latent factors per user and per item"),
    "layers": ("Layers", "int_list", "hidden layer sizes, separated by commas"),
    "activation_stats_every": ("Activation stats", "int",
                               "every N batches, record each layer's activations for the Model pane's Training "
                               "tab (0: off; 50 costs under 5%)"),
    "device": ("Device", "choice", "where to train: auto takes CUDA when there is one"),
}
# The fields each recipe's form shows, in order.
FAMILY_FIELDS = {
    "collab": ["data", "epochs", "lr", "wd", "bs", "n_factors", "activation_stats_every", "device"],
    "tabular": ["data", "epochs", "lr", "wd", "bs", "layers", "activation_stats_every", "device"],
    "lm": ["data", "preset", "epochs", "lr", "wd", "bs", "drop_mult", "activation_stats_every", "device"],
    "classifier": ["data", "preset", "encoder", "epochs", "lr", "wd", "bs", "drop_mult", "activation_stats_every", "device"],
}
# Where a recipe gives a field a meaning of its own.
FAMILY_HELP = {
    ("classifier", "epochs"): "epochs of the last, unfrozen stage (the three before it take one each)",
    ("classifier", "lr"): "the first stage's; gradual unfreezing then uses lr/2, lr/4, lr/20",
    ("lm", "bs"): "rows the stream of tokens is cut into",
}
OPTIONAL = {"encoder"}  # may be left empty: the classifier then starts from random weights

# The bound each number must keep, and what to say when it does not.
RULES = {
    "epochs": (lambda v: v >= 1, "must be at least 1"),
    "bs": (lambda v: v >= 1, "must be at least 1"),
    "n_factors": (lambda v: v >= 1, "must be at least 1"),
    "lr": (lambda v: v > 0, "must be positive"),
    "wd": (lambda v: v >= 0, "must not be negative"),
    "drop_mult": (lambda v: v >= 0, "must not be negative"),
    "activation_stats_every": (lambda v: v >= 0, "must not be negative (0 is off)"),
}
SIZES_HINT = "sizes separated by commas, e.g. 200,100"

# The largest of fastai's AWD-LSTM dropouts before drop_mult (LM_DROPOUTS' input_p and
# CLAS_DROPOUTS' weight_p in models/awd_lstm.py): drop_mult times it must stay below 1.
LARGEST_DROPOUT = {"lm": 0.25, "classifier": 0.5}
def _config_class(family: str):
    from l4tui.train.recipes import RECIPES  # brings pandas (see the module's docstring)

    if family not in RECIPES:
        raise ValueError(f"unknown family {family!r}; known: {', '.join(RECIPES)}")
    return RECIPES[family][0]


def as_text(value) -> str:
    """A config value as a form (and the CLI) writes it: 5e-3 -> "0.005", (200, 100) -> "200,100"."""
    if isinstance(value, (tuple, list)):
        return ",".join(as_text(v) for v in value)
    if isinstance(value, float):
        return repr(value)  # Python's shortest exact form
    return str(value)


# --- The fields ---------------------------------------------------------------------------

def fields_for(family: str) -> list[FieldSpec]:
    """The fields of `family`'s form, each starting at the recipe's default."""
    defaults = _config_class(family)()
    specs = []
    for name in FAMILY_FIELDS[family]:
        label, kind, help_text = FIELDS[name]
        if name == "data":
            default = BUNDLED_DATA[family]  # the same data as collab's default path, by name
        else:
            default = as_text(getattr(defaults, name))
        choices = {"preset": PRESET_CHOICES, "device": DEVICES}.get(name)
        specs.append(FieldSpec(name, label, kind, default, FAMILY_HELP.get((family, name), help_text),
                               list(choices) if choices else None))
    return specs


def parse_field(spec: FieldSpec, text: str, data_items: int | None = None) -> tuple[object, str | None]:
    """The field's value and None, or None and what is wrong, in a few words.

    `data_items`: how many training items the chosen data gives (count_training_items); then a
    batch size larger than that is refused.
    """
    text = text.strip()
    if not text:
        return ("", None) if spec.name in OPTIONAL else (None, "required")
    if spec.kind == "int":
        value, error = _parse_int(text)
    elif spec.kind == "float":
        value, error = _parse_float(text)
    elif spec.kind == "int_list":
        value, error = _parse_sizes(text)
    elif spec.kind == "choice":
        value, error = text, _choice_problem(spec, text)
    else:
        value, error = text, None
    if error:
        return None, error
    rule = RULES.get(spec.name)
    if rule and not rule[0](value):
        return None, rule[1]
    if spec.name == "bs" and data_items is not None and value > data_items:
        return None, f"larger than the data ({data_items:,} training items)"
    return value, None


def _parse_int(text: str):
    try:
        return int(text), None
    except ValueError:
        return None, "must be a whole number" if _parse_float(text)[1] is None else "not a number"


def _parse_float(text: str):
    try:
        value = float(text)
    except ValueError:
        return None, "not a number"
    if value != value or value in (float("inf"), float("-inf")):  # nan, inf
        return None, "not a number"
    return value, None


def _parse_sizes(text: str):
    """`200,100` -> (200, 100); empty parts are skipped, as the CLI's --layers does."""
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        return None, SIZES_HINT
    if not sizes:
        return None, SIZES_HINT
    if any(size < 1 for size in sizes):
        return None, "each size must be at least 1"
    return sizes, None


def _choice_problem(spec: FieldSpec, text: str) -> str | None:
    if spec.name == "data":  # a name or a path: whatever the data layer can find
        return _data_problem(text)
    if spec.name == "device" and re.fullmatch(r"cuda:\d+", text):
        return None  # another GPU than the first, though the form does not offer it
    if spec.choices is not None and text not in [value for value, _ in spec.choices]:
        return "not one of the choices"
    return None


def _data_problem(name: str) -> str | None:
    from l4tui.data.errors import DataError
    from l4tui.data.registry import DATASETS
    from l4tui.data.sources import resolve

    try:
        resolve(name)
    except DataError:
        return "not downloaded yet" if name in DATASETS else "no such dataset, file or folder"
    return None


# --- The whole form -------------------------------------------------------------------------

def validate_form(family: str, texts: dict[str, str], data_items: int | None = None, *,
                  runs_dir=None) -> tuple[dict, dict[str, str]]:
    """(config for start_run, errors by field name). The config holds every field that is fine;
    it is complete, and checked by the recipe's own Config.validate, when there are no errors.

    A field missing from `texts` takes its default. A problem only the recipe's own check finds
    (Config.validate) goes under "form". With `runs_dir`, the classifier's encoder is looked up
    there: its preset must be the form's, or its weights would not fit the classifier.
    """
    config, errors = {}, {}
    for spec in fields_for(family):
        value, error = parse_field(spec, texts.get(spec.name, spec.default), data_items)
        if error:
            errors[spec.name] = error
        else:
            config[spec.name] = value
    for name, problem in _recipe_problems(family, config, data_items, runs_dir).items():
        errors.setdefault(name, problem)
        config.pop(name, None)
    if isinstance(config.get("data"), str):
        config["data"] = _absolute_if_path(config["data"])
    if not errors:
        try:
            _config_class(family).from_dict(config).validate()
        except ValueError as error:
            errors["form"] = str(error)
    return config, errors


def _recipe_problems(family: str, config: dict, data_items: int | None, runs_dir) -> dict[str, str]:
    """Problems of values fine on their own that this recipe would still fail on, by field."""
    problems = {}
    if config.get("data"):
        kind_problem = _data_kind_problem(family, config["data"])
        if kind_problem:
            problems["data"] = kind_problem
    largest = LARGEST_DROPOUT.get(family)
    if largest and config.get("drop_mult") is not None and config["drop_mult"] * largest >= 1:
        problems["drop_mult"] = f"must be below {1 / largest:g} (a dropout reaches 1)"
    if family == "classifier" and runs_dir is not None and config.get("encoder"):
        problems.update(_encoder_problems(runs_dir, config["encoder"], config.get("preset")))
    return problems


# The formats (sources.detect_format) each recipe reads, and what to say about the others.
FORMATS = {
    "collab": (("movielens-100k", "movielens-csv"), "not ratings (u.data or ratings.csv)"),
    "tabular": (("adult-csv", "adult-uci", "csv"), "not a table (a CSV)"),
    "lm": (("imdb-folder", "texts-csv"), "not texts (texts.csv or aclImdb)"),
    "classifier": (("imdb-folder", "texts-csv"), "not texts (texts.csv or aclImdb)"),
}


def _data_kind_problem(family: str, data: str) -> str | None:
    """Is the data of the kind the recipe reads? Only its header or marker files are looked at."""
    from l4tui.data.errors import DataError
    from l4tui.data.sources import detect_format, resolve

    try:
        kind = detect_format(resolve(data))
    except DataError:
        return "not a dataset l4tui knows"
    formats, problem = FORMATS[family]
    return None if kind in formats else problem


def _absolute_if_path(data: str) -> str:
    """A path as an absolute one, so the run (and a resume) finds it from any folder, as the CLI
    does; dataset names stay names."""
    from l4tui.data.registry import DATASETS
    from l4tui.data.sources import BUNDLED

    if data in BUNDLED or data in DATASETS:
        return data
    return str(Path(data).expanduser().resolve())


def _encoder_problems(runs_dir, encoder: str, preset: str | None) -> dict[str, str]:
    from l4tui.runs.store import find_run, read_run_file

    run_dir = find_run(Path(runs_dir), encoder)
    if run_dir is None:
        return {"encoder": "no such run"}
    try:
        its_preset = (read_run_file(run_dir).get("config") or {}).get("preset", "small")
    except ValueError:
        return {"encoder": "its run.json is unreadable"}
    if preset and its_preset != preset:
        return {"preset": f"must match the encoder's ({its_preset})"}
    return {}


# --- The equivalent command -----------------------------------------------------------------

def command_line(family: str, config: dict, mode: str = "train") -> str:
    """The `l4tui train` command that starts the same run: only options that differ from the
    recipe's defaults, the form's fields first, then any other CLI option the config sets."""
    from l4tui.cli import TRAIN_OPTIONS

    config_class = _config_class(family)
    defaults, accepted = config_class(), {f.name for f in fields(config_class)}
    names = [spec.name for spec in fields_for(family)]
    names += [name for name in TRAIN_OPTIONS if name not in names and name in accepted]
    words = ["l4tui", "train", family]
    for name in names:
        value = config.get(name)
        if value is None or _is_default(family, name, value, defaults):
            continue
        if name == "fp16":  # a flag: --fp16 or nothing
            words.append("--fp16")
            continue
        option = "--y" if name == "y_name" else "--" + name.replace("_", "-")
        text = as_text(value)
        # argparse takes "-3,5.5" after a space for an option of its own: join such a value with "=".
        words += [f"{option}={shlex.quote(text)}"] if text.startswith("-") else [option, shlex.quote(text)]
    if mode == "lr_find":
        words.append("--lr-find")
    return " ".join(words)


def _is_default(family: str, name: str, value, defaults) -> bool:
    default = getattr(defaults, name, None)
    if name == "data":  # collab's default is the bundled sample's path; the form names it
        return str(value) in (BUNDLED_DATA[family], str(default))
    if isinstance(value, (list, tuple)) and isinstance(default, (list, tuple)):
        return tuple(value) == tuple(default)  # run.json stores tuples as lists
    return value == default


# --- What the data and encoder fields offer ----------------------------------------------

def datasets_for(family: str) -> list[tuple[str, str]]:
    """(value, label) of the datasets that fit the recipe: the bundled one, then the downloaded
    ones of its kind. Only folders are looked at; nothing is read or downloaded."""
    from l4tui.data.errors import DataError
    from l4tui.data.registry import DATASETS, cache_dir
    from l4tui.data.sources import BUNDLED, FAMILIES, detect_format

    kind = DATA_KIND[family]
    choices = [(name, f"{name}: {BUNDLED_LABELS.get(name, name)} (bundled)")
               for name, (its_kind, _) in BUNDLED.items() if its_kind == kind]
    for name, entry in DATASETS.items():
        folder = cache_dir() / entry.folder
        if FAMILIES.get(name) != kind or not folder.is_dir():
            continue
        try:
            detect_format(folder)  # only marker files' existence: skips a half-unpacked folder
        except DataError:
            continue
        short = re.split(r": | — ", entry.description)[0]  # "Adult census income (adult.csv)"
        choices.append((name, f"{name}: {short} (downloaded)"))
    return choices


def count_training_items(family: str, data: str, valid_pct: float = 0.2, *, seed: int = 42,
                         bptt: int = 72) -> int | None:
    """How many training items `data` gives the recipe, for the batch size check; None when it
    can't be told cheaply or the data can't be read (the form then skips the check).

    collab: ratings rows less the validation share (ratings.split_valid's rounding);
    tabular: table rows less the rows the recipe's seeded draw puts in validation;
    classifier: labelled training texts (is_valid, else a seeded 20%, as prepare_classifier);
    lm: rows of `bptt` tokens the training stream fills, from a word count (see _lm_rows).
    `valid_pct` is collab's and tabular's; the text recipes hold out fixed shares of their own.
    """
    try:
        return _count_training_items(family, data, valid_pct, seed, bptt)
    except (OSError, ValueError, csv.Error):  # DataError is a ValueError
        return None


def _count_training_items(family, data, valid_pct, seed, bptt):
    from l4tui.data.sources import detect_format, resolve

    path = resolve(data)
    kind = detect_format(path)
    if family == "collab":
        if kind not in ("movielens-100k", "movielens-csv"):
            return None
        header = 0 if kind == "movielens-100k" else 1
        rows = _count_lines(_inside(path, "u.data" if header == 0 else "ratings.csv")) - header
        return rows - int(round(rows * valid_pct))  # split_valid's n_valid
    if family == "tabular":
        if kind == "adult-uci":  # no header; adult.test's first line is "|1x3 Cross validator"
            rows = _count_lines(_inside(path, "adult.data"), skip_prefix=b"|")
        elif kind in ("adult-csv", "csv"):
            rows = _count_lines(_inside(path, "adult.csv")) - 1  # less the header
        else:
            return None
        return _seeded_train_count(rows, valid_pct, seed)  # prepare_tabular's split
    if kind == "imdb-folder":
        return None if family == "lm" else _imdb_folder_train_texts(path, seed)
    if kind == "texts-csv":
        return _texts_csv_items(family, _inside(path, "texts.csv"), seed, bptt)
    return None


def _inside(path: Path, name: str) -> Path:
    return path / name if path.is_dir() else path


def _count_lines(path: Path, skip_prefix: bytes | None = None) -> int:
    """Non-blank lines (pandas skips blank ones too), without parsing them."""
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip() and not (skip_prefix and line.startswith(skip_prefix)))


def _seeded_train_count(n: int, valid_pct: float, seed: int) -> int:
    """Rows left for training when each goes to validation with probability `valid_pct`,
    drawn as the recipes draw it: default_rng(seed).random(n) < valid_pct."""
    import numpy as np

    return int((np.random.default_rng(seed).random(n) >= valid_pct).sum())


def _imdb_folder_train_texts(root: Path, seed: int) -> int:
    """The classifier's training texts in an aclImdb tree: train/pos and train/neg (test/ is the
    validation set), counted by file name alone, as load_imdb_folder finds them."""
    if (root / "aclImdb").is_dir() and not (root / "train").is_dir():
        root = root / "aclImdb"

    def reviews(split: str, label: str) -> int:
        folder = root / split / label
        return sum(1 for entry in os.scandir(folder) if entry.name.endswith(".txt")) if folder.is_dir() else 0

    train = reviews("train", "pos") + reviews("train", "neg")
    valid = reviews("test", "pos") + reviews("test", "neg")
    return train if valid else _seeded_train_count(train, 0.2, seed)


def _texts_csv_items(family: str, path: Path, seed: int, bptt: int) -> int | None:
    from l4tui.data.texts import _truthy  # the loader's own reading of is_valid

    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # reviews can be long
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if "text" not in (reader.fieldnames or []):
            return None
        if family == "classifier":  # labelled texts only; is_valid ones are the validation set
            labelled = valid = 0
            for row in reader:
                if (row.get("label") or "").strip():
                    labelled += 1
                    valid += _truthy(row.get("is_valid"))
            return labelled - valid if valid else _seeded_train_count(labelled, 0.2, seed)
        return _lm_rows([len((row.get("text") or "").split()) for row in reader], seed, bptt)


def _lm_rows(words_per_text: list[int], seed: int, bptt: int) -> int:
    """The language model's "training items": rows of `bptt` tokens its training stream fills.

    LMBatches cuts the training texts' stream of tokens into `bs` rows of (tokens - 1) // bs
    tokens. It only fails when a row would be empty (bs >= tokens), but once bs exceeds
    (tokens - 1) // bptt each row is shorter than one bptt window: an epoch is then one short
    batch, and the validation stream (a tenth of the texts, with the same bs) is shorter still.
    So that figure is what "bs larger than the data" means here.

    Tokens are counted as whitespace words plus one xxbos per text, without tokenizing (which
    takes minutes on the full IMDB). The tokenizer only adds to the words (punctuation, xxmaj):
    on the bundled sample it makes 1.45 tokens a word, so this figure is on the low side.
    An IMDB folder tree is not counted at all (None): reading 100,000 files is not cheap, and
    its ~30M tokens fill hundreds of thousands of rows, more than any batch size.
    """
    import numpy as np

    valid = np.random.default_rng(seed).random(len(words_per_text)) < 0.1  # prepare_lm's split
    tokens = sum(words + 1 for words, is_valid in zip(words_per_text, valid) if not is_valid)
    return max(0, (tokens - 1) // bptt)


def encoder_runs(runs_dir) -> list[tuple[str, str]]:
    """(run id, label) of the finished LM fine-tuning runs a classifier can take its encoder
    from, newest first: training runs (not lr_find ones) that left a checkpoint."""
    from l4tui.runs.store import list_runs, read_run_file

    choices = []
    for run in list_runs(Path(runs_dir)):
        if run.family != "lm" or run.state != "finished":
            continue
        try:
            if read_run_file(run.run_dir).get("mode", "train") != "train":
                continue
        except ValueError:
            continue
        if not (run.run_dir / FOLDER / LAST).is_file():
            continue  # the classifier loads this file: without it the run would fail
        label = run.id
        perplexity = run.metrics.get("perplexity")
        if isinstance(perplexity, (int, float)):
            label += f"  perplexity {perplexity:.1f}"
        label += f"  ({run.config.get('preset', 'small')})"  # the classifier's preset must match
        choices.append((run.id, label))
    return choices
