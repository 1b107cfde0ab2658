"""The models l4tui knows how to build: the lesson's five, and the user's own in models/.

Each entry builds a model from the workspace's model files with the sizes asked for, and makes
a small example batch to run through it (for output shapes, activations, ...).

A user's model is any top-level class in a models/*.py file of theirs that defines
`example_input(self)`, returning what `forward` takes (a tensor or a tuple of them), and that
can be built without arguments. It is found by reading the source; its file is imported only
when the model is built, and tried in a child process first (l4tui/model_trial.py).

The lesson's five come from the workspace's own models/awd_lstm.py, tabular.py and collab.py
when it has them (the user's, on purpose), else from l4tui's bundled files.
"""

import ast
from dataclasses import dataclass, field, replace
from pathlib import Path

from l4tui.modelfiles import ModelFileError, load_model_file, model_file_path, model_files, parse_model_file
from l4tui.presets import PRESETS, awd_lstm_sizes  # one table: the recipes' "small" is this "small"

LESSON_FILES = {"awd_lstm", "tabular", "collab"}


@dataclass(frozen=True)
class Sizes:
    """Everything that decides a model's size. The defaults are the lesson's datasets."""

    preset: str = "lesson"  # lesson: fastai's sizes; small: trains in seconds on a CPU
    vocab_size: int = 60_000  # ULMFiT's vocab cap
    n_classes: int = 2  # IMDB: negative, positive
    n_users: int = 944  # MovieLens 100k, #na# included
    n_items: int = 1_683
    n_factors: int | None = None  # None: the preset's
    cardinalities: tuple[int, ...] = (10, 17, 8, 16, 7, 6, 3)  # adult's categorical columns, #na# included
    n_cont: int = 3  # age, fnlwgt, education-num
    n_out: int = 2  # <50k, >=50k
    layers: tuple[int, ...] | None = None  # None: the preset's for the model

    def validate(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; known: {', '.join(PRESETS)}")
        for name in ("vocab_size", "n_classes", "n_users", "n_items", "n_out"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name.replace('_', '-')} must be at least 1")
        if self.n_cont < 0:
            raise ValueError("n-cont must not be negative")
        if self.n_factors is not None and self.n_factors < 1:
            raise ValueError("n-factors must be at least 1")
        if any(n < 1 for n in self.cardinalities):
            raise ValueError("every cardinality must be at least 1 (#na# counts)")
        if self.layers is not None and any(n < 1 for n in self.layers):
            raise ValueError("layer sizes must be at least 1")


@dataclass(frozen=True)
class ModelEntry:
    name: str  # what `l4tui summary NAME` takes
    file: str  # models/<file>.py
    title: str
    user: bool = False  # a user's own model, found in models/
    class_name: str = ""


LESSON_MODELS = [
    ModelEntry("lm", "awd_lstm", "AWD-LSTM language model (ULMFiT)"),
    ModelEntry("classifier", "awd_lstm", "AWD-LSTM text classifier (ULMFiT)"),
    ModelEntry("tabular", "tabular", "TabularModel (adult census)"),
    ModelEntry("collab", "collab", "EmbeddingDotBias (MovieLens)"),
    ModelEntry("collab-nn", "collab", "EmbeddingNN (MovieLens)"),
]


def user_models(workspace: Path | None = None) -> list[ModelEntry]:
    """Classes with `example_input` in the workspace's models/*.py, read from source only."""
    entries = []
    for path in model_files(workspace):
        if path.stem in LESSON_FILES:
            continue
        try:
            tree = parse_model_file(path)
        except ModelFileError as error:
            # A broken file is still listed: choosing it says what is wrong with it.
            entries.append(ModelEntry(f"{path.stem}.?", path.stem, str(error), user=True))
            continue
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(item, ast.FunctionDef) and item.name == "example_input" for item in node.body):
                entries.append(ModelEntry(f"{path.stem}.{node.name}", path.stem, f"{node.name} ({path.name})",
                                          user=True, class_name=node.name))
    return entries


def lesson_entry(name: str) -> ModelEntry:
    """A lesson model by name (lm, classifier, tabular, collab, collab-nn), without reading any file."""
    return next(entry for entry in LESSON_MODELS if entry.name == name)


def source_file(entry: ModelEntry, workspace: Path | None = None) -> Path:
    """The file building `entry` imports (FileNotFoundError when there is none)."""
    return model_file_path(entry.file, workspace)


def all_models(workspace: Path | None = None) -> list[ModelEntry]:
    return LESSON_MODELS + user_models(workspace)


def find_model(name: str, workspace: Path | None = None) -> ModelEntry:
    for entry in all_models(workspace):
        if name in (entry.name, entry.class_name):
            return entry
    known = ", ".join(entry.name for entry in all_models(workspace))
    raise ValueError(f"unknown model {name!r}; known: {known}")


@dataclass
class BuiltModel:
    entry: ModelEntry
    model: object  # torch.nn.Module
    example: tuple  # the arguments of one forward call
    sizes: Sizes = field(default_factory=Sizes)


def build_model(entry: ModelEntry, sizes: Sizes = Sizes(), workspace: Path | None = None,
                batch_size: int = 2) -> BuiltModel:
    """Import the model's file, build it with `sizes`, and make an example batch for it."""
    import torch

    sizes.validate()
    if entry.user and not entry.class_name:
        raise ValueError(entry.title)  # the file could not even be parsed; the title says why
    preset = PRESETS[sizes.preset]
    module = load_model_file(entry.file, workspace, class_name=entry.class_name)
    n_factors = sizes.n_factors or preset["n_factors"]
    bs = batch_size
    if entry.user:
        model = getattr(module, entry.class_name)()
        example = model.example_input()
        example = example if isinstance(example, tuple) else (example,)
    elif entry.name == "lm":
        model = module.get_language_model(sizes.vocab_size, **awd_lstm_sizes(sizes.preset))
        example = (torch.randint(2, sizes.vocab_size, (bs, 72)),)  # bptt=72 tokens
    elif entry.name == "classifier":
        model = module.get_text_classifier(sizes.vocab_size, sizes.n_classes, **awd_lstm_sizes(sizes.preset),
                                           lin_ftrs=sizes.layers or (50,))
        example = (torch.randint(2, sizes.vocab_size, (bs, 100)),)  # a 100-token review
    elif entry.name == "tabular":
        emb_szs = module.get_emb_szs(list(sizes.cardinalities))
        model = module.TabularModel(emb_szs, sizes.n_cont, sizes.n_out, layers=sizes.layers or preset["tabular_layers"])
        x_cat = torch.stack([torch.randint(0, n, (bs,)) for n in sizes.cardinalities], 1) \
            if sizes.cardinalities else torch.zeros(bs, 0, dtype=torch.long)
        example = (x_cat, torch.randn(bs, sizes.n_cont))
    elif entry.name == "collab":
        model = module.EmbeddingDotBias(n_factors, sizes.n_users, sizes.n_items, y_range=(0.0, 5.5))
        example = (torch.stack([torch.randint(0, sizes.n_users, (bs,)), torch.randint(0, sizes.n_items, (bs,))], 1),)
    elif entry.name == "collab-nn":
        model = module.EmbeddingNN(sizes.n_users, sizes.n_items, layers=sizes.layers or preset["collab_nn_layers"],
                                   y_range=(0.0, 5.5))
        example = (torch.stack([torch.randint(0, sizes.n_users, (bs,)), torch.randint(0, sizes.n_items, (bs,))], 1),)
    else:
        raise ValueError(f"don't know how to build {entry.name}")
    return BuiltModel(entry, model, example, sizes)


def with_sizes(sizes: Sizes, **changes) -> Sizes:
    """A copy of `sizes` with the given fields changed (None means: leave it)."""
    return replace(sizes, **{k: v for k, v in changes.items() if v is not None})
