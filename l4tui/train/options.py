"""Every option of a training run, declared once: its name, its kind, its default in each
recipe that takes it (the lesson's values), the bounds it must keep, its help, its CLI flag and
its launch-form label. Read OPTIONS below as the table of the lesson's defaults.

Everything else is derived from it:
  - the `l4tui train` options: `add_train_options` (l4tui/cli.py);
  - the recipes' config fields and defaults: `recipe_config` (collab.py, tabular.py, text.py),
    and the check of their bounds: `problems` (RecipeConfig.validate);
  - the launch form's fields, checks and equivalent command (l4tui/train/launch_form.py);
  - the option table of docs/training.md: `python -m l4tui.train.options --markdown`.

Adding an option is one entry here plus its use (`config.<name>`) in the recipe's `prepare`.
A recipe's own settings that are not options (valid_pct, max_vocab, alpha ...) stay fields of
its config class, in its module.

No torch or pandas here: the app imports this module at start-up (through the CLI).
"""

import argparse
import sys
from dataclasses import dataclass, field
from typing import Callable

from l4tui.data.tables import ADULT_Y_NAME
from l4tui.presets import PRESETS, describe

RECIPES = ("collab", "tabular", "lm", "classifier")
TEXT = ("lm", "classifier")


@dataclass(frozen=True)
class Bound:
    """A bound a value must keep. `message` is what the launch form shows beside the field; the
    config's check and the CLI say "<name> <message>"."""

    test: Callable[[object], bool]
    message: str


def at_least(n, why: str = "") -> Bound:
    return Bound(lambda value: value >= n, f"must be at least {n}{why}")


POSITIVE = Bound(lambda value: value > 0, "must be positive")
NOT_NEGATIVE = Bound(lambda value: value >= 0, "must not be negative")
# The lesson's tabular model and text classifier normalise each batch (BatchNorm), which a batch
# of one can't be: torch stops the run on its first such batch.
BATCHNORM = at_least(2, " (the model's BatchNorm layers need two items a batch)")
# The largest of fastai's AWD-LSTM dropouts before drop_mult (LM_DROPOUTS' input_p and
# CLAS_DROPOUTS' weight_p in models/awd_lstm.py): drop_mult times it must stay below 1.
LARGEST_DROPOUT = {"lm": 0.25, "classifier": 0.5}


def below_a_full_dropout(recipe: str) -> Bound:
    largest = LARGEST_DROPOUT[recipe]
    return Bound(lambda value: value * largest < 1, f"must be below {1 / largest:g} (a dropout reaches 1)")


SPLITS = (("random", "random (each row by chance)"), ("fastai", "fastai's RandomSplitter"))
DEVICES = (("auto", "auto (CUDA if there is one)"), ("cpu", "CPU"), ("cuda", "CUDA (the first GPU)"))

# What each kind of option is: its config field's type, and what argparse turns its text into.
KINDS = ("int", "float", "int_list", "float_list", "text", "flag")


def int_list(text: str) -> tuple[int, ...]:
    """`10,17,8` -> (10, 17, 8), for argparse."""
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got {text!r}") from None


def float_list(text: str) -> tuple[float, ...]:
    """`0.95,0.85,0.95` -> (0.95, 0.85, 0.95), for argparse."""
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got {text!r}") from None


ANNOTATIONS = {"int": int, "float": float, "int_list": tuple[int, ...], "float_list": tuple[float, ...],
               "text": str, "flag": bool}
ARGPARSE_TYPES = {"int": int, "float": float, "int_list": int_list, "float_list": float_list, "text": str}


@dataclass(frozen=True)
class Option:
    name: str  # the recipes' config field, and (with dashes) the CLI flag
    kind: str  # one of KINDS
    defaults: dict  # recipe -> its default; the recipes that take the option
    help: str
    label: str = ""  # the launch form's label; empty: the form does not show the option
    recipe_help: dict = field(default_factory=dict)  # recipe -> the option's meaning there
    bounds: tuple = ()  # Bounds every recipe's value keeps
    recipe_bounds: dict = field(default_factory=dict)  # recipe -> Bounds of that recipe alone
    choices: tuple | None = None  # (value, label) offered; None: the form asks the data layer
    strict: bool = False  # the value must be one of `choices`, on the CLI and in run.json too
    also: str = ""  # a pattern of values the form takes beside its choices (device's cuda:1)
    form_choice: bool = False  # the form shows a choice list rather than a text input
    optional: bool = False  # the form may leave it empty
    flag: str = ""  # the CLI flag when it is not --name-with-dashes
    metavar: str | None = None

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    @property
    def recipes(self) -> tuple[str, ...]:
        return tuple(recipe for recipe in RECIPES if recipe in self.defaults)

    def help_for(self, recipe: str) -> str:
        return self.recipe_help.get(recipe, self.help)

    def bounds_for(self, recipe: str) -> tuple:
        return self.bounds + tuple(self.recipe_bounds.get(recipe, ()))


def every_recipe(value) -> dict:
    return {recipe: value for recipe in RECIPES}


# The options in the order `l4tui train --help` lists them; a recipe's launch form shows those
# with a label in this order too.
OPTIONS = [
    Option("data", "text",
           {"collab": "bundled-ml", "tabular": "bundled-adult", "lm": "bundled-imdb", "classifier": "bundled-imdb"},
           "the dataset to train on: a name (`l4tui data list`) or a file or folder",
           label="Data", form_choice=True),
    Option("preset", "text", {"lm": "small", "classifier": "small"},
           "the AWD-LSTM's sizes: small trains fast on a CPU, lesson is fastai's",
           label="Model size", choices=tuple((name, describe(name)) for name in PRESETS), strict=True,
           form_choice=True),
    Option("encoder", "text", {"classifier": ""},
           "the fine-tuned language model run (or .pt file) to take the encoder and vocab from; "
           "its sizes set the preset (none: random weights)",
           label="Encoder", form_choice=True, optional=True),
    Option("pretrained", "text", {"lm": ""},
           "start from a pretrained language model: wt103 (fastai's Wikipedia model, `l4tui data get "
           "wt103`), a fastai .pth (its .pkl vocab beside it, or PTH,PKL), or an LM run (or .pt); "
           "its sizes set the preset, its rows are matched to the texts' vocab; one frozen epoch, "
           "then unfrozen at lr/10 (none: random weights)",
           label="Pretrained", form_choice=True, optional=True),
    Option("epochs", "int", {"collab": 5, "tabular": 3, "lm": 4, "classifier": 2},
           "passes over the training data",
           label="Epochs", bounds=(at_least(1),),
           recipe_help={"classifier": "epochs of the last, unfrozen stage (the three before it take one each)"}),
    Option("lr", "float", {"collab": 5e-3, "tabular": 1e-2, "lm": 2e-2, "classifier": 2e-2},
           "the peak learning rate of the one cycle",
           label="Learning rate", bounds=(POSITIVE,),
           recipe_help={"classifier": "the first stage's; gradual unfreezing then uses lr/2, lr/4, lr/20"}),
    Option("wd", "float", {"collab": 0.1, "tabular": 0.01, "lm": 0.01, "classifier": 0.01},
           "weight decay: how strongly the weights are pulled towards zero",
           label="Weight decay", bounds=(NOT_NEGATIVE,)),
    Option("bs", "int", {"collab": 64, "tabular": 64, "lm": 32, "classifier": 32},
           "batch size: items per batch",
           label="Batch size", bounds=(at_least(1),),
           recipe_bounds={"tabular": (BATCHNORM,), "classifier": (BATCHNORM,)},
           recipe_help={"lm": "rows the stream of tokens is cut into"}),
    Option("n_factors", "int", {"collab": 50},
           "latent factors per user and per item",
           label="Factors", bounds=(at_least(1),)),
    Option("y_range", "float_list", {"collab": (0.0, 5.5)},
           "the range the model predicts; every rating must lie in it "
           "(write --y-range=-5,5 when LOW is negative)",
           metavar="LOW,HIGH",
           bounds=(Bound(lambda r: len(r) == 2 and r[0] < r[1],
                         "must be two numbers LOW,HIGH with LOW below HIGH, e.g. 0,5.5"),)),
    Option("layers", "int_list", {"tabular": (200, 100)},
           "hidden layer sizes, separated by commas",
           label="Layers", metavar="N,N,...", bounds=(Bound(lambda sizes: all(n >= 1 for n in sizes),
                                                             "must all be at least 1"),)),
    Option("y_name", "text", {"tabular": ADULT_Y_NAME},
           "the label column of your CSV", flag="--y", metavar="COLUMN"),
    # "fastai" picks the validation rows as fastai's RandomSplitter(valid_pct=0.2, seed) does, so a
    # run and the lesson's notebook validate on the same rows (l4tui/train/tabular.py: valid_rows).
    Option("split", "text", {"tabular": "random"},
           "which rows validate: random (each row by chance valid_pct, seeded) or fastai "
           "(fastai's RandomSplitter(valid_pct, seed): the lesson's rows for the same seed)",
           label="Split", choices=SPLITS, strict=True, form_choice=True),
    Option("drop_mult", "float", {"lm": 0.3, "classifier": 0.5},
           "scales all five AWD-LSTM dropouts",
           label="Dropout multiplier", bounds=(NOT_NEGATIVE,),
           recipe_bounds={recipe: (below_a_full_dropout(recipe),) for recipe in TEXT}),
    Option("bptt", "int", {"lm": 72, "classifier": 72},
           "tokens per window (backpropagation through time)", bounds=(at_least(1),)),
    Option("div", "float", every_recipe(25.0),
           "one cycle: start at lr/div", bounds=(at_least(1, " (the lr starts at lr/div)"),)),
    Option("pct_start", "float", every_recipe(0.25),
           "one cycle: share of the steps spent warming up",
           bounds=(Bound(lambda share: 0 < share < 1, "must be between 0 and 1"),)),
    Option("moms", "float_list", every_recipe(None),
           "one cycle: momentum at start, peak lr, end (none: the recipe's, 0.95,0.85,0.95; "
           "text 0.8,0.7,0.8)",
           metavar="HI,LO,HI",
           bounds=(Bound(lambda moms: len(moms) == 3 and all(0 <= m < 1 for m in moms),
                         "must be three numbers from 0 to below 1, e.g. 0.95,0.85,0.95"),)),
    Option("seed", "int", every_recipe(42),
           "random seed (the same seed gives the same run on CPU)"),
    Option("activation_stats_every", "int", every_recipe(0),
           "every N batches, record each layer's activations for the Model pane's Training tab "
           "(fastai's ActivationStats; 0: off; 50 costs under 5%)",
           label="Activation stats", metavar="N", bounds=(Bound(lambda n: n >= 0, "must not be negative (0 is off)"),)),
    Option("threads", "int", every_recipe(0),
           "torch's CPU threads for the run (0: auto, chosen per run from the model's size, the cores "
           "and the runs already running on the machine: docs/training.md)",
           label="Threads (0: auto)", metavar="N", bounds=(Bound(lambda n: 0 <= n <= 1024, "must be from 0 (auto) to 1024"),)),
    Option("device", "text", every_recipe("auto"),
           "where to train: auto takes CUDA when there is one; cpu, cuda, cuda:1 ...",
           label="Device", choices=DEVICES, also=r"cuda:\d+", form_choice=True),
    # The lesson trains the text models with .to_fp16(): on CUDA they do here too, unless --no-fp16.
    Option("fp16", "flag", {"collab": False, "tabular": False, "lm": True, "classifier": True},
           "mixed precision (float16) on CUDA, as the lesson's .to_fp16(); ignored on the CPU; "
           "--no-fp16 turns it off"),
    Option("cpu_bf16", "flag", {"lm": False, "classifier": False},
           "bfloat16 autocast on the CPU: about twice as fast on CPUs with AMX or AVX512-BF16, but "
           "the losses differ a little from float32's; ignored on CUDA"),
]
BY_NAME = {option.name: option for option in OPTIONS}


def options_for(recipe: str) -> list[Option]:
    """The options `recipe` takes, in the table's order."""
    return [option for option in OPTIONS if recipe in option.defaults]


def form_options(recipe: str) -> list[Option]:
    """The options `recipe`'s launch form shows, in order."""
    return [option for option in options_for(recipe) if option.label]


# --- The recipes' configs -------------------------------------------------------------------

def recipe_config(recipe: str):
    """A class decorator: the recipe's config dataclass, its fields the options of `recipe`
    (with the recipe's defaults) followed by the class's own fields."""
    from dataclasses import dataclass as make_dataclass
    from inspect import get_annotations

    def build(cls):
        own = get_annotations(cls)
        twice = sorted(set(own) & {option.name for option in OPTIONS})
        if twice:  # one declaration: a recipe changes an option's default in OPTIONS, not here
            raise TypeError(f"{cls.__name__} declares the options {', '.join(twice)}: declare them in OPTIONS")
        annotations = {}
        for option in options_for(recipe):
            default = option.defaults[recipe]
            annotations[option.name] = ANNOTATIONS[option.kind] | None if default is None else ANNOTATIONS[option.kind]
            setattr(cls, option.name, default)  # immutable values (tuples, numbers, text): no factory needed
        cls.__annotations__ = {**annotations, **own}
        cls.recipe = recipe
        return make_dataclass(cls)

    return build


def problems(recipe: str, config) -> list[str]:
    """What is wrong with `config`'s option values, as "<name> <what>" phrases."""
    found = []
    for option in options_for(recipe):
        value = getattr(config, option.name)
        if value is None and option.defaults[recipe] is None:
            continue
        wrong_kind = _kind_problem(option, value)
        if wrong_kind:
            found.append(f"{option.name} {wrong_kind}")
            continue
        if option.strict and value not in [choice for choice, _ in option.choices]:
            found.append(f"{option.name} must be one of {', '.join(choice for choice, _ in option.choices)}")
            continue
        broken = next((bound for bound in option.bounds_for(recipe) if not bound.test(value)), None)
        if broken:
            found.append(f"{option.name} {broken.message}")
    return found


def batch_size_problem(bs, data_items: int | None) -> str | None:
    """The batch size checked against the data: a batch larger than the training items it is
    drawn from is refused (`data_items`: how many the recipe's loader gives, as
    recipes.training_items counts them; None: not known, nothing to check). The one check of
    it: the launch form shows it beside its field, `l4tui train` refuses the run with it."""
    if data_items is not None and _is_number(bs) and bs > data_items:
        return f"larger than the data ({data_items:,} training items)"
    return None


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _kind_problem(option: Option, value) -> str | None:
    """Why `value` is not of the option's kind (run.json can hold anything), or None."""
    if option.kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        return "must be a whole number"
    if option.kind == "float" and not _is_number(value):
        return "must be a number"
    if option.kind in ("int_list", "float_list") and not (
            isinstance(value, (tuple, list)) and all(_is_number(item) for item in value)):
        return "must be numbers separated by commas"
    if option.kind == "flag" and not isinstance(value, bool):
        return "must be true or false"
    if option.kind == "text" and not isinstance(value, str):
        return "must be text"
    return None


# --- The CLI --------------------------------------------------------------------------------

def add_train_options(parser: argparse.ArgumentParser) -> None:
    """`l4tui train`'s options, one per option. Each defaults to None (not given): the recipe's
    default then applies, and an option given to a recipe that does not take it is refused."""
    for option in OPTIONS:
        extra = {}
        if option.kind == "flag":  # --fp16, and --no-fp16 to turn off one that is on by default
            extra = dict(action=argparse.BooleanOptionalAction, default=None)
        else:
            extra = dict(type=ARGPARSE_TYPES[option.kind], metavar=option.metavar)
            if option.strict:
                extra["choices"] = [choice for choice, _ in option.choices]
        parser.add_argument(option.cli_flag, dest=option.name, help=cli_help(option).replace("%", "%%"), **extra)


def cli_help(option: Option) -> str:
    """The option's help, as `l4tui train --help` shows it: who takes it, what it does, the
    recipes' own meanings and the defaults."""
    who = "" if option.recipes == RECIPES else ", ".join(option.recipes) + ": "
    meanings = "".join(f"; {recipe}: {text}" for recipe, text in option.recipe_help.items())
    return f"{who}{option.help}{meanings} (default: {defaults_text(option)})"


def defaults_text(option: Option) -> str:
    """`5e-3` for all, or `collab 5, tabular 3, ...` where the recipes differ."""
    shown = {recipe: show_default(option.defaults[recipe]) for recipe in option.recipes}
    if len(set(shown.values())) == 1:
        return next(iter(shown.values()))
    return ", ".join(f"{recipe} {text}" for recipe, text in shown.items())


def show_default(value) -> str:
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (tuple, list)):
        return ",".join(show_default(item) for item in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def config_from_args(recipe: str, args) -> dict:
    """The options given on the command line (not None), refusing those `recipe` does not take."""
    config = {}
    for option in OPTIONS:
        value = getattr(args, option.name, None)
        if value is None:
            continue
        if recipe not in option.defaults:
            raise ValueError(f"{option.cli_flag} does not apply to {recipe}")
        config[option.name] = value
    return config


# --- The docs -------------------------------------------------------------------------------

def markdown_table() -> str:
    """The option table of docs/training.md: one column of defaults per recipe (blank: the
    recipe does not take the option), the launch form's label, the bounds and the help."""
    lines = ["| option | " + " | ".join(RECIPES) + " | launch form | must | what it does |",
             "|---|" + "---|" * len(RECIPES) + "---|---|---|"]
    for option in OPTIONS:
        metavar = "" if option.kind == "flag" else " " + (option.metavar or option.name.upper())
        defaults = [f"`{show_default(option.defaults[recipe])}`" if recipe in option.defaults else ""
                    for recipe in RECIPES]
        cells = [f"`{option.cli_flag}{metavar}`", *defaults, option.label, "; ".join(_musts(option)),
                 option.help + "".join(f"; {recipe}: {text}" for recipe, text in option.recipe_help.items())]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


def _musts(option: Option) -> list[str]:
    """The option's bounds in words; a bound of some recipes only is named with them."""
    musts = ["one of " + ", ".join(choice for choice, _ in option.choices)] if option.strict else []
    musts += [bound.message for bound in option.bounds]
    recipes_of = {}  # message -> the recipes with that bound
    for recipe, bounds in option.recipe_bounds.items():
        for bound in bounds:
            recipes_of.setdefault(bound.message, []).append(recipe)
    musts += [f"{', '.join(recipes)}: {message}" for message, recipes in recipes_of.items()]
    return musts


DOCS_BEGIN = "<!-- options table: made by `python -m l4tui.train.options --markdown`; do not edit by hand -->"
DOCS_END = "<!-- end of options table -->"


def docs_with_table(text: str) -> str:
    """`text` (docs/training.md) with the table between its markers made anew."""
    begin, end = text.index(DOCS_BEGIN) + len(DOCS_BEGIN), text.index(DOCS_END)
    return text[:begin] + "\n" + markdown_table() + "\n" + text[end:]


def main(argv: list[str]) -> int:
    if argv == ["--markdown"]:
        print(markdown_table())
        return 0
    if len(argv) == 2 and argv[0] == "--update":
        from pathlib import Path

        path = Path(argv[1])
        path.write_text(docs_with_table(path.read_text(encoding="utf-8")), encoding="utf-8")
        return 0
    print("usage: python -m l4tui.train.options --markdown | --update docs/training.md", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
