"""The launch form's model: the fields of each recipe's form, what their text means, what is
wrong with it, and the `l4tui train` command that starts the same run. No UI here: the app's
form (l4tui/ui/) shows these fields and starts the run with `start_run(family, config, runs_dir)`.
The fields, their labels, help, defaults and bounds are the options' (l4tui/train/options.py).

    fields_for("collab")              the fields, starting from the recipe's defaults (the lesson's)
    parse_field(spec, "3e-3")         (0.003, None), or (None, "not a number") as the user types
    validate_form("collab", texts)    (config for start_run, errors by field name)
    command_line("collab", config)    "l4tui train collab --lr 0.003"
    datasets_for / count_training_items / encoder_runs: what the data and encoder fields offer

torch and pandas are imported only inside the functions that need them. Note that the recipes'
config classes bring pandas with them (l4tui.train.collab imports l4tui.data.ratings), so they
too are imported inside functions.
"""

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from l4tui.runs.checkpoints import FOLDER, LAST
from l4tui.train.options import OPTIONS, Option, batch_size_problem, form_options

RECIPES_SHOWN: list[tuple[str, str]] = [
    ("collab", "Collab filtering (EmbeddingDotBias)"),
    ("tabular", "Tabular model"),
    ("lm", "LM fine-tuning (AWD-LSTM)"),
    ("classifier", "ULMFiT classifier"),
]

# The data layer's name for each family's kind of data, and the bundled datasets' descriptions.
DATA_KIND = {"collab": "collab", "tabular": "tabular", "lm": "text", "classifier": "text"}
BUNDLED_LABELS = {"bundled-ml": "MovieLens sample", "bundled-adult": "adult census sample",
                  "bundled-imdb": "IMDB reviews sample"}


@dataclass
class FieldSpec:
    name: str  # the option's name: the recipe's Config field, so a checked form is the config itself
    label: str
    kind: str  # "int", "float", "int_list", "float_list", "choice" or "text"
    default: str  # the text the input starts with: the recipe's default
    help: str
    choices: list[tuple[str, str]] | None = None  # (value, label); None: the UI fills them in
    bounds: tuple = ()  # the option's bounds in this recipe (options.Bound)
    optional: bool = False  # may be left empty (the classifier's encoder: random weights)
    also: str = ""  # a pattern of values taken beside the choices


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
    if family not in DATA_KIND:
        raise ValueError(f"unknown family {family!r}; known: {', '.join(DATA_KIND)}")
    return [_field(option, family) for option in form_options(family)]


def _field(option: Option, family: str) -> FieldSpec:
    return FieldSpec(option.name, option.label, "choice" if option.form_choice else option.kind,
                     as_text(option.defaults[family]), option.help_for(family),
                     list(option.choices) if option.choices else None, option.bounds_for(family),
                     option.optional, option.also)


def parse_field(spec: FieldSpec, text: str, data_items: int | None = None) -> tuple[object, str | None]:
    """The field's value and None, or None and what is wrong, in a few words.

    `data_items`: how many training items the chosen data gives (count_training_items); then a
    batch size larger than that is refused.
    """
    text = text.strip()
    if not text:
        return ("", None) if spec.optional else (None, "required")
    if spec.kind == "int":
        value, error = _parse_int(text)
    elif spec.kind == "float":
        value, error = _parse_float(text)
    elif spec.kind in ("int_list", "float_list"):
        value, error = _parse_list(text, spec.kind)
    elif spec.kind == "choice":
        value, error = text, _choice_problem(spec, text)
    else:
        value, error = text, None
    if error:
        return None, error
    broken = next((bound for bound in spec.bounds if not bound.test(value)), None)
    if broken:
        return None, broken.message
    if spec.name == "bs" and (problem := batch_size_problem(value, data_items)):
        return None, problem
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


def _parse_list(text: str, kind: str):
    """`200,100` -> (200, 100); empty parts are skipped, as the CLI's --layers does."""
    number = int if kind == "int_list" else float
    hint = "sizes separated by commas, e.g. 200,100" if kind == "int_list" else "numbers separated by commas"
    try:
        values = tuple(number(part) for part in text.split(",") if part.strip())
    except ValueError:
        return None, hint
    return (values, None) if values else (None, hint)


def _choice_problem(spec: FieldSpec, text: str) -> str | None:
    if spec.name == "data":  # a name or a path: whatever the data layer can find
        return _data_problem(text)
    if spec.also and re.fullmatch(spec.also, text):
        return None  # e.g. another GPU than the first, though the form does not offer it
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
    if family == "classifier" and runs_dir is not None and config.get("encoder"):
        problems.update(_encoder_problems(runs_dir, config["encoder"], config.get("preset")))
    if family == "lm" and runs_dir is not None and config.get("pretrained"):
        problems.update(_pretrained_problems(runs_dir, config["pretrained"], config.get("preset")))
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


def _pretrained_problems(runs_dir, pretrained: str, preset: str | None) -> dict[str, str]:
    """The form's look at the LM's pretrained model: a zoo model must be downloaded, and the
    preset must be the pretrained model's sizes (a zoo model's are the lesson's, a run's are in
    its run.json). Files are only checked when the run starts (they must be read for their sizes)."""
    from l4tui.data.zoo import ZOO_PRESET, is_zoo_name, zoo_folder
    from l4tui.runs.store import find_run, read_run_file

    if is_zoo_name(pretrained):
        if not zoo_folder(pretrained).is_dir():
            return {"pretrained": f"not downloaded: l4tui data get {pretrained}"}
        its_preset = ZOO_PRESET
    elif (run_dir := find_run(Path(runs_dir), pretrained)) is not None:
        try:
            its_preset = (read_run_file(run_dir).get("config") or {}).get("preset", "small")
        except ValueError:
            return {"pretrained": "its run.json is unreadable"}
    else:
        return {}
    if preset and its_preset != preset:
        return {"preset": f"must match the pretrained model's ({its_preset})"}
    return {}


# --- The equivalent command -----------------------------------------------------------------

def command_line(family: str, config: dict, mode: str = "train") -> str:
    """The `l4tui train` command that starts the same run: only options that differ from the
    recipe's defaults, the form's fields first, then any other option the config sets."""
    shown = form_options(family)
    words = ["l4tui", "train", family]
    for option in shown + [option for option in OPTIONS if option not in shown]:
        value = config.get(option.name)
        if family not in option.defaults or value is None or _is_default(option, family, value):
            continue
        if option.kind == "flag":  # --fp16, or --no-fp16 where the recipe's default is on
            words += [option.cli_flag if value else "--no-" + option.cli_flag[2:]]
            continue
        text = as_text(value)
        # argparse takes "-3,5.5" after a space for an option of its own: join such a value with "=".
        words += ([f"{option.cli_flag}={shlex.quote(text)}"] if text.startswith("-")
                  else [option.cli_flag, shlex.quote(text)])
    if mode == "lr_find":
        words.append("--lr-find")
    return " ".join(words)


def _is_default(option: Option, family: str, value) -> bool:
    default = option.defaults[family]
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


def count_training_items(family: str, data: str, settings: dict | None = None) -> int | None:
    """How many training items `data` gives the recipe, for the batch size check, as the
    recipe's own loader splits it (recipes.training_items) at the recipe's defaults (or with
    `settings`, a run's other options: the LM's rows depend on bptt); None when the data can't
    be read or fails the recipe's check (Start then says why).

    It reads the whole dataset (tokenizing none of it): the form calls it in a thread."""
    from l4tui.train.recipes import training_items

    try:
        return training_items(family, _config_class(family).from_dict({**(settings or {}), "data": data, "bs": 1}))
    except Exception:  # noqa: BLE001 - a hint only: Start reports the data's problem through the same check
        return None


def pretrained_choices(runs_dir) -> list[tuple[str, str]]:
    """(value, label) of what a language model can start from: the zoo's downloaded models (wt103
    first, as the lesson starts from it), the finished LM runs, and none."""
    from l4tui.data.registry import ALIASES
    from l4tui.data.zoo import downloaded_zoo

    short = {target: alias for alias, target in ALIASES.items()}
    choices = [(short.get(name, name), f"{short.get(name, name)}: Wikipedia, "
                                       f"{'backwards' if name.endswith('bwd') else 'forwards'} (downloaded)")
               for name in downloaded_zoo()]
    choices += encoder_runs(runs_dir)
    return choices + [("", "none: random weights")]


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
