"""Each training option is declared once (l4tui/train/options.py), and the CLI, the launch form,
the recipes' configs and the docs' table all come from that declaration."""

import argparse
import ast
import re

import pytest

from l4tui.cli import build_parser
from l4tui.train import options
from l4tui.train.launch_form import command_line, fields_for, parse_field, validate_form
from l4tui.train.options import OPTIONS, RECIPES, options_for
from l4tui.train.recipes import RECIPES as CONFIGS

from conftest import REPO

PACKAGE = REPO / "l4tui"
NOT_OPTIONS = {"help", "family", "gpus", "lr_find", "detach"}  # how to run, not what to train


def train_parser() -> argparse.ArgumentParser:
    subparsers = next(action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction))
    return subparsers.choices["train"]


def test_every_option_is_in_train_help_and_nothing_else_is():
    parser = train_parser()
    help_text = parser.format_help()
    by_dest = {action.dest: action for action in parser._actions}
    for option in OPTIONS:
        assert option.cli_flag in help_text
        expected = [option.cli_flag] + (["--no-" + option.cli_flag[2:]] if option.kind == "flag" else [])
        assert by_dest[option.name].option_strings == expected
    # A train option written by hand in cli.py would show up here.
    assert set(by_dest) - {option.name for option in OPTIONS} == NOT_OPTIONS


def test_each_recipe_takes_its_options_and_refuses_the_others():
    for recipe in RECIPES:
        for option in OPTIONS:
            value = {"flag": "", "int": " 3", "float": " 0.5", "int_list": " 4,2", "float_list": "=0,1"}.get(
                option.kind, " " + (option.choices[0][0] if option.choices else "x"))
            argv = f"train {recipe} {option.cli_flag}{value}".split()
            args = build_parser().parse_args(argv)
            if recipe in option.defaults:
                assert option.name in options.config_from_args(recipe, args)
            else:
                with pytest.raises(ValueError, match=f"{option.cli_flag} does not apply to {recipe}"):
                    options.config_from_args(recipe, args)


def test_the_launch_form_shows_labelled_options_of_the_recipes_that_take_them_only():
    for recipe in RECIPES:
        shown = [spec.name for spec in fields_for(recipe)]
        expected = [option.name for option in OPTIONS if option.label and recipe in option.defaults]
        assert shown == expected
        for spec in fields_for(recipe):
            option = options.BY_NAME[spec.name]
            assert spec.label == option.label and spec.help == option.help_for(recipe)
            assert spec.default == command_line_text(option.defaults[recipe])
    assert {option.name for option in OPTIONS if not option.label} >= {"div", "moms", "fp16"}


def command_line_text(value) -> str:
    from l4tui.train.launch_form import as_text

    return as_text(value)


def test_the_configs_fields_are_the_recipes_options_at_their_defaults():
    for recipe in RECIPES:
        config_class = CONFIGS[recipe][0]
        config = config_class()
        field_names = set(config_class.__dataclass_fields__)
        for option in OPTIONS:
            if recipe in option.defaults:
                assert getattr(config, option.name) == option.defaults[recipe]
            else:
                assert option.name not in field_names, f"{recipe}'s config has {option.name}"
        config.validate()  # the defaults keep their own bounds


def test_a_config_class_cannot_declare_an_option_again():
    from l4tui.train.config import RecipeConfig

    with pytest.raises(TypeError, match="declares the options lr: declare them in OPTIONS"):
        @options.recipe_config("collab")
        class Again(RecipeConfig):
            lr: float = 1e-3


def test_the_text_recipes_share_one_base():
    from l4tui.train.text import ClassifierConfig, LMConfig, TextConfig

    assert issubclass(LMConfig, TextConfig) and issubclass(ClassifierConfig, TextConfig)
    assert "extra_problems" not in vars(LMConfig) and "extra_problems" not in vars(ClassifierConfig)


@pytest.mark.parametrize("recipe, name, text", [
    ("collab", "epochs", "0"), ("collab", "lr", "0"), ("collab", "wd", "-1"), ("tabular", "bs", "1"),
    ("classifier", "bs", "1"), ("collab", "n_factors", "0"), ("tabular", "layers", "8,0"),
    ("lm", "drop_mult", "4"), ("classifier", "drop_mult", "2"), ("lm", "activation_stats_every", "-1"),
])
def test_a_bound_says_the_same_in_the_form_and_the_config(recipe, name, text):
    spec = next(s for s in fields_for(recipe) if s.name == name)
    value, message = parse_field(spec, text)
    assert value is None and message
    assert validate_form(recipe, {name: text})[1] == {name: message}
    good = parse_field(spec, spec.default)[0]
    config = CONFIGS[recipe][0].from_dict({name: good})
    setattr(config, name, parse_value(spec.kind, text))
    with pytest.raises(ValueError, match=re.escape(f"{name} {message}")):
        config.validate()


def parse_value(kind: str, text: str):
    return tuple(int(part) for part in text.split(",")) if kind == "int_list" else (
        int(text) if kind == "int" else float(text))


@pytest.mark.parametrize("recipe, config", [
    # run.json configs as runs written before the options were declared in one place.
    ("collab", {"data": "/home/me/l4tui/datasets/ml-sample", "epochs": 5, "lr": 0.005, "wd": 0.1, "bs": 64,
                "n_factors": 50, "y_range": [0.0, 5.5], "valid_pct": 0.2, "seed": 42, "device": "auto",
                "fp16": False, "div": 25.0, "pct_start": 0.25, "moms": None, "activation_stats_every": 0}),
    ("tabular", {"data": "bundled-adult", "y_name": "salary", "cat_names": None, "cont_names": None,
                 "layers": [200, 100], "epochs": 3, "lr": 0.01, "wd": 0.01, "bs": 64, "valid_pct": 0.2}),
    ("lm", {"data": "bundled-imdb", "preset": "small", "epochs": 1, "lr": 0.02, "wd": 0.01, "bs": 32,
            "bptt": 72, "drop_mult": 0.3, "max_vocab": 60000, "min_freq": 3, "pretrained": "", "alpha": 2.0,
            "beta": 1.0, "seed": 42, "device": "cpu", "fp16": False}),
    ("classifier", {"data": "bundled-imdb", "encoder": "20250101-lm-abc", "preset": "small", "epochs": 2,
                    "lr": 0.02, "moms": [0.8, 0.7, 0.8], "unknown_later_field": 1}),
])
def test_old_run_configs_still_read(recipe, config):
    read = CONFIGS[recipe][0].from_dict(config)
    read.validate()
    for name, value in config.items():
        if hasattr(read, name) and value is not None:
            assert getattr(read, name) == (tuple(value) if isinstance(value, list) else value)


def test_the_docs_table_is_current_and_lists_every_option():
    text = (REPO / "docs" / "training.md").read_text(encoding="utf-8")
    assert options.docs_with_table(text) == text, (
        "docs/training.md's option table is stale: python -m l4tui.train.options --update docs/training.md")
    table = text[text.index(options.DOCS_BEGIN):text.index(options.DOCS_END)]
    for option in OPTIONS:
        assert f"| `{option.cli_flag}" in table


def test_the_command_line_names_each_option_by_its_flag():
    for recipe in RECIPES:
        for option in options_for(recipe):
            if option.kind == "flag":  # the value that is not the recipe's default is written
                on = not option.defaults[recipe]
                config = {option.name: on}
                expected = option.cli_flag if on else "--no-" + option.cli_flag[2:]
            elif option.name in ("data", "preset", "device", "encoder", "pretrained", "y_name"):
                continue  # their values are checked against the data and the runs (test_launch_form)
            else:
                config = {option.name: (7,) if option.kind.endswith("list") else 7}
                expected = f"{option.cli_flag} 7"
            assert expected in command_line(recipe, config), (recipe, option.name)


# --- No second declaration --------------------------------------------------------------------

def python_files():
    return sorted(path for path in PACKAGE.rglob("*.py") if path != PACKAGE / "train" / "options.py")


# run.json's reader checks the types of the config fields it shows (a reader of old and odd runs,
# not a declaration of what a run takes): its own concern, kept apart on purpose.
READERS = {PACKAGE / "runs" / "fields.py"}


def test_no_other_module_declares_options():
    names = {option.name for option in OPTIONS}
    flags = {option.cli_flag for option in OPTIONS}
    for path in python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Dict, ast.List, ast.Tuple, ast.Set)) and path not in READERS:
                items = node.keys if isinstance(node, ast.Dict) else node.elts
                named = {item.value for item in items if isinstance(item, ast.Constant)} & names
                assert len(named) < 3, f"{path.relative_to(REPO)}:{node.lineno} lists options {sorted(named)}"
            if (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "train"):
                args = {arg.value for arg in node.args if isinstance(arg, ast.Constant)}
                assert not args & flags, f"{path.relative_to(REPO)}:{node.lineno} adds a train option by hand"


def test_no_core_module_imports_the_cli_or_the_ui():
    for path in python_files():
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("ui/") or relative in ("cli.py", "__main__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for module in modules:
                assert not re.match(r"l4tui\.(cli|ui)\b", module), f"{relative}:{node.lineno} imports {module}"


def test_one_preset_table():
    from l4tui.inspect import catalog
    from l4tui import presets

    assert catalog.PRESETS is presets.PRESETS
    assert [choice for choice, _ in options.BY_NAME["preset"].choices] == list(presets.PRESETS)
    for path in python_files():
        if path.name != "presets.py":
            assert "n_hid=" not in re.sub(r"\bn_hid=n_hid\b", "", path.read_text(encoding="utf-8")), path
