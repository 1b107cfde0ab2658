"""The model the Model pane looks at: a lesson model with its weights, and what it needs to read an input.

    subject = fresh_subject(entry, sizes)            # freshly initialised, at the lesson's sizes
    subject = checkpoint_subject(path)               # a run's weights at one epoch
    subject = pretrained_subject("wt103-fwd")        # the zoo's language model, not fine-tuned
    inputs = encode_input(subject, "I loved this movie")          # lm, classifier
    inputs = encode_input(subject, {"age": "39", "workclass": " State-gov", ...})   # tabular
    inputs = encode_input(subject, "196, Star Wars (1977)")       # collab: a user and a movie

A fresh model reads inputs through the bundled samples (their vocab, their users and movies, the
adult sample's processing): the lesson's sizes are at least as big as theirs, so every id fits.
A run's checkpoint brings its own vocab, id lists or processing, saved with its weights.

Inputs that cannot be used raise InputError, whose message says what to type instead.
"""

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from l4tui.inspect.catalog import ModelEntry, Sizes, build_model

FAMILY_ENTRIES = {"lm": "lm", "classifier": "classifier", "tabular": "tabular", "collab": "collab"}
TEXT_MODELS = {"lm", "classifier"}
COLLAB_MODELS = {"collab", "collab-nn"}
MAX_WORDS = 2000  # a longer input is cut: the activations of a whole book help nobody


class InputError(ValueError):
    """An input the model cannot take; the message says why and what would do."""


@dataclass
class Subject:
    name: str  # the catalog entry: lm, classifier, tabular, collab, collab-nn or a user's model
    model: object  # torch.nn.Module, in eval mode
    example: tuple  # a batch of the right kind, for shapes and gradients
    weights: str  # "fresh" or "RUN · epoch 3"
    vocab: object = None  # l4tui.data.vocab.Vocab (text models)
    classes: list[str] = field(default_factory=list)  # what the classifier / tabular model predicts
    processor: object = None  # TabularProcessor (tabular)
    users: list = field(default_factory=list)  # raw ids; row i + 1 of the user embedding is users[i]
    items: list = field(default_factory=list)
    titles: dict = field(default_factory=dict)  # item id -> title
    y_range: tuple[float, float] | None = None
    ratings: object = None  # the ratings table (collab), for mean ratings beside the biases
    config: dict = field(default_factory=dict)  # the run's config, for a checkpoint


# ---- the bundled samples, read once -------------------------------------------------------

@lru_cache(maxsize=1)
def sample_vocab():
    from l4tui.data.texts import open_texts
    from l4tui.data.tokenizer import tokenize
    from l4tui.data.vocab import Vocab

    texts = open_texts().texts  # the bundled IMDB sample
    return Vocab.build([tokenize(text) for text in texts])


@lru_cache(maxsize=1)
def sample_processor():
    from l4tui.data.tables import open_table
    from l4tui.data.tabular_procs import TabularProcessor

    table = open_table()  # the bundled adult sample, with the lesson's columns
    return TabularProcessor(table.cat_names, table.cont_names, table.y_name).fit([table.frame])


@lru_cache(maxsize=4)
def sample_ratings(data: str | None = None):
    from l4tui.data.ratings import open_ratings

    return open_ratings(data or None)


def _id_lists(ratings):
    import numpy as np

    return np.unique(ratings.table["user"]).tolist(), np.unique(ratings.table["item"]).tolist()


# ---- building ------------------------------------------------------------------------------

def fresh_subject(entry: ModelEntry, sizes: Sizes = Sizes(), workspace: Path | None = None) -> Subject:
    built = build_model(entry, sizes, workspace)
    built.model.eval()
    subject = Subject(entry.name, built.model, built.example, "fresh")
    if entry.name in TEXT_MODELS:
        from l4tui.data.vocab import FAKE, Vocab

        # The sample's words, padded with xxfake (fastai's filler, never an input or a prediction)
        # up to the rows of the lesson's embedding: ids and the decoder's outputs line up.
        words = sample_vocab().itos
        subject.vocab = Vocab(words + [FAKE] * max(0, sizes.vocab_size - len(words)))
        subject.classes = ["neg", "pos"] if entry.name == "classifier" else []
    elif entry.name == "tabular":
        subject.processor = sample_processor()
        subject.classes = list(subject.processor.y_classes)
    elif entry.name in COLLAB_MODELS:
        ratings = sample_ratings()
        subject.users, subject.items = _id_lists(ratings)
        subject.titles, subject.ratings, subject.y_range = ratings.titles, ratings.table, (0.0, 5.5)
    return subject


def checkpoint_subject(path: Path, workspace: Path | None = None) -> Subject:
    """The model of a run's checkpoint file, built as its recipe built it, with those weights."""
    import torch

    from l4tui.modelfiles import load_model_file
    from l4tui.runs.checkpoints import load_checkpoint

    checkpoint = load_checkpoint(Path(path))
    family, config, state = checkpoint.get("family"), checkpoint.get("config") or {}, checkpoint.get("model")
    if family not in FAMILY_ENTRIES or not state:
        raise ValueError(f"{Path(path).name} is not a checkpoint of a lesson model (family {family!r})")
    subject = Subject(family, None, (), weights_label(Path(path)), config=config)
    bs = 2
    if family in TEXT_MODELS:
        from l4tui.data.vocab import Vocab
        from l4tui.presets import awd_lstm_sizes

        awd = load_model_file("awd_lstm", workspace)
        subject.vocab = Vocab(checkpoint["vocab"])
        preset = awd_lstm_sizes(config.get("preset", "small"))
        if family == "lm":
            model = awd.get_language_model(len(subject.vocab), drop_mult=config.get("drop_mult", 1.0), **preset)
            example = (torch.randint(2, len(subject.vocab), (bs, 72)),)
        else:
            subject.classes = list(checkpoint.get("classes") or [])
            model = awd.get_text_classifier(len(subject.vocab), len(subject.classes), bptt=config.get("bptt", 72),
                                            drop_mult=config.get("drop_mult", 1.0), **preset)
            example = (torch.randint(2, len(subject.vocab), (bs, 100)),)
    elif family == "tabular":
        from l4tui.data.tabular_procs import TabularProcessor

        tabular = load_model_file("tabular", workspace)
        subject.processor = TabularProcessor(**checkpoint["processor"])
        subject.classes = list(subject.processor.y_classes)
        cards = subject.processor.cardinalities
        model = tabular.TabularModel(tabular.get_emb_szs(cards), len(subject.processor.cont_names),
                                     len(subject.classes), layers=list(config.get("layers", (200, 100))))
        example = (torch.stack([torch.randint(0, n, (bs,)) for n in cards], 1) if cards
                   else torch.zeros(bs, 0, dtype=torch.long),
                   torch.randn(bs, len(subject.processor.cont_names)))
    else:  # collab
        collab = load_model_file("collab", workspace)
        n_users, n_factors = state["u_weight.weight"].shape
        n_items = state["i_weight.weight"].shape[0]
        subject.y_range = tuple(config.get("y_range", (0.0, 5.5)))
        model = collab.EmbeddingDotBias(n_factors, n_users, n_items, y_range=subject.y_range)
        subject.users, subject.items = list(checkpoint.get("users") or []), list(checkpoint.get("items") or [])
        try:
            ratings = sample_ratings(config.get("data"))
            subject.titles, subject.ratings = ratings.titles, ratings.table
        except Exception:  # the data moved: ids instead of titles, no mean ratings
            pass
        example = (torch.stack([torch.randint(0, n_users, (bs,)), torch.randint(0, n_items, (bs,))], 1),)
    model.load_state_dict(state)
    model.eval()
    subject.model, subject.example = model, example
    return subject


PRETRAINED_PREFIX = "pretrained:"  # the Model pane's id of a zoo model's weights: "pretrained:wt103-fwd"


def pretrained_subject(name: str, workspace: Path | None = None) -> Subject:
    """The language model of the zoo (`l4tui data get wt103`) as it was downloaded, before any
    fine-tuning: its own vocab (Wikipedia's 60,000 words) and sizes. Beside a run's checkpoints,
    the Generate tab shows what fine-tuning on the reviews changed."""
    import torch

    from l4tui.data.vocab import Vocab
    from l4tui.data.zoo import read_zoo
    from l4tui.modelfiles import load_model_file

    pretrained = read_zoo(name)
    awd = load_model_file("awd_lstm", workspace)
    model = awd.get_language_model(len(pretrained.itos), drop_mult=1.0, **pretrained.sizes())
    model.load_state_dict(pretrained.weights)
    model.eval()
    vocab = Vocab(pretrained.itos)
    example = (torch.randint(2, len(vocab), (2, 72)),)
    return Subject("lm", model, example, f"{name} · pretrained, not fine-tuned", vocab=vocab,
                   config={"pretrained": name})


def weights_label(path: Path) -> str:
    """`RUN · epoch 3` for runs/RUN/checkpoints/epoch-003.pt; `RUN · best` for best.pt."""
    stem = path.stem
    which = f"epoch {int(stem[6:])}" if stem.startswith("epoch-") and stem[6:].isdigit() else stem
    return f"{path.parent.parent.name} · {which}"


# ---- inputs ----------------------------------------------------------------------------------

def input_kind(subject: Subject) -> str:
    """What the user types: "text", "row" (a table's columns), "pair" (a user and a movie), or
    "example" (a model of the user's own: its example_input is used)."""
    if subject.name in TEXT_MODELS:
        return "text"
    if subject.name == "tabular":
        return "row"
    if subject.name in COLLAB_MODELS:
        return "pair"
    return "example"


def example_input_text(subject: Subject) -> str | dict:
    """An input to start from, of the kind the model takes."""
    kind = input_kind(subject)
    if kind == "text":
        if subject.name == "lm" and subject.vocab is not None:
            from l4tui.inspect.generate import default_prompt

            return default_prompt(subject.vocab)  # every word in its vocab: no xxunk to start from
        return "I loved this movie, the acting was great"
    if kind == "row":
        names = subject.processor.cat_names + subject.processor.cont_names
        try:
            frame = sample_processor_rows()
            row = frame.iloc[0]
            return {name: str(row[name]).strip() for name in names if name in frame.columns}
        except Exception:
            return {name: "" for name in names}
    if kind == "pair":
        user, item = subject.users[0], subject.items[0]
        return f"{user}, {subject.titles.get(item, item)}"
    return ""


@lru_cache(maxsize=1)
def sample_processor_rows():
    from l4tui.data.tables import open_table

    return open_table(None).frame.head(5)  # the bundled adult sample, as the tabular recipe reads it


def encode_input(subject: Subject, value) -> tuple:
    """The model's forward arguments for what the user typed (see the module's docstring)."""
    import torch

    kind = input_kind(subject)
    if kind == "text":
        from l4tui.data.tokenizer import tokenize

        if not str(value).strip():
            raise InputError("type a sentence: the model reads words (an empty text has none)")
        tokens = tokenize(str(value))[:MAX_WORDS]
        return (torch.tensor([subject.vocab.numericalize(tokens)]),)
    if kind == "row":
        return _encode_row(subject, value)
    if kind == "pair":
        user_row, item_row = collab_rows(subject, value)
        return (torch.tensor([[user_row, item_row]]),)
    return subject.example


def _encode_row(subject: Subject, values: dict) -> tuple:
    import math

    import pandas as pd
    import torch

    processor = subject.processor
    for name in processor.cont_names:
        text = str(values.get(name, "")).strip()
        if not text:
            continue  # missing: FillMissing fills it with the median, as in training
        try:
            number = float(text)
        except ValueError:
            raise InputError(f"{name} is a continuous column: {text!r} is not a number") from None
        if not math.isfinite(number):
            raise InputError(f"{name} must be a finite number, not {text!r}")
    row = {name: (str(values.get(name, "")).strip() or None) for name in processor.cat_names}
    row.update({name: (float(values[name]) if str(values.get(name, "")).strip() else float("nan"))
                for name in processor.cont_names})
    y_name = processor.y_name
    processor_without_y = processor if not y_name else _without_y(processor)
    x_cat, x_cont, _ = processor_without_y.transform(pd.DataFrame([row]))
    return torch.as_tensor(x_cat), torch.as_tensor(x_cont)


def _without_y(processor):
    from dataclasses import replace

    return replace(processor, y_name="")


def unknown_categories(subject: Subject, values: dict) -> list[str]:
    """The columns whose typed value the training rows never had: they become #na#."""
    processor = subject.processor
    return [name for name in processor.cat_names
            if str(values.get(name, "")).strip() and str(values[name]).strip() not in processor.categories[name]]


class AmbiguousInput(InputError):
    """Part of the input names several users or movies: the user picks one of `found.choices`.
    `part` is 0 for the user, 1 for the movie; `parts` the two texts as typed."""

    def __init__(self, message: str, found, part: int, parts: tuple[str, str]):
        super().__init__(message)
        self.found, self.part, self.parts = found, part, parts


def collab_names(subject: Subject):
    """The users and the movies of a collab model, as `l4tui.inspect.lookup` searches them (row i + 1
    of an embedding is users[i] / items[i]; row 0 is #na#)."""
    from l4tui.inspect.lookup import NameList

    users = [str(u) for u in subject.users]
    items = [str(i) for i in subject.items]
    titles = [subject.titles.get(item) or f"movie {item}" for item in subject.items]
    return (NameList("user", ["#na#"] + [f"user {u}" for u in users], [""] + users, frozenset({0})),
            NameList("movie", ["#na#"] + titles, [""] + items, frozenset({0})))


def collab_rows(subject: Subject, value: str) -> tuple[int, int]:
    """Embedding rows of "USER, MOVIE": a user id, then a movie id or (part of) its title, found by
    the same lookup as the embeddings screen's. Several fit: AmbiguousInput, with the choices."""
    from l4tui.inspect.lookup import find_name

    text = str(value).strip()
    if "," not in text:
        raise InputError("type a user id and a movie, separated by a comma: 196, Star Wars (1977)")
    parts = tuple(part.strip() for part in text.split(",", 1))
    names = collab_names(subject)
    rows = []
    for part, (typed, kind) in enumerate(zip(parts, ("user", "movie"))):
        found = find_name(typed, names, kind)
        if found.ambiguous:
            raise AmbiguousInput(f"{found.choices_title()}: pick one", found, part, parts)
        if found.match is None:
            message = found.message
            if kind == "user" and typed.strip().isdigit():
                message += " (a new user has no embedding yet: the cold-start problem)"
            raise InputError(message)
        if found.match.kind != kind:
            raise InputError(f"{typed!r} is a {found.match.kind}: type the user first, then the movie "
                             "(196, Star Wars (1977))")
        rows.append(found.match.row)
    return rows[0], rows[1]


def pair_text(subject: Subject, parts: tuple[str, str], part: int, match) -> str:
    """The input with one part replaced by the choice picked: its title when no other movie has
    it, else `movie ID`, so that the next Enter goes straight through."""
    chosen = match.id if match.kind == "user" else match.label
    if match.kind == "movie" and list(subject.titles.values()).count(match.label) != 1:
        chosen = f"movie {match.id}"
    new = list(parts)
    new[part] = chosen
    return f"{new[0]}, {new[1]}"


def describe_pair(subject: Subject, user_row: int, item_row: int) -> str:
    user, item = subject.users[user_row - 1], subject.items[item_row - 1]
    return f"user {user} and {subject.titles.get(item, f'movie {item}')}"
