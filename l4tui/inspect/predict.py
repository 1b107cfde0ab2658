"""`l4tui predict`: what a trained run says about one input, as fastai's `learn.predict` does.

    subject = load_predictor("20261206-0700-classifier-ab12", runs_dir)   # its best.pt, else last.pt
    predict(subject, "A dull film with one great scene")       # classifier: the label, each probability
    predict(subject, "age=49,workclass=Private,education=Masters")   # tabular: a row, column=value
    predict(subject, "196,Star Wars (1977)")                   # collab: a user and a movie (id or title)
    predict(subject, "I liked this movie because", n_words=20) # language model: the text continued
    values = read_inputs_csv(path, subject); rows = csv_lines(subject, values, predictions)

The model is rebuilt from the checkpoint as the Model pane builds it (subject.checkpoint_subject),
and each kind of input is read as the pane reads it (subject.encode_input, collab_interpret's
find_movie and rows_for, generate.generate). What the model cannot take raises InputError (a
ValueError), one line that says what to type instead.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from l4tui.inspect.subject import InputError, Subject

FAMILIES = ("classifier", "tabular", "collab", "lm")
MAX_CSV_BYTES = 200_000_000


def resolve_weights(name: str, runs_dir) -> Path:
    """The checkpoint `name` means: a .pt file, or a run id (or a unique prefix of one), whose
    best.pt is used, else its last.pt (runs/checkpoints.trained_weights). ValueError, one line."""
    from l4tui.runs.checkpoints import find_checkpoint, sniff_checkpoint, trained_weights
    from l4tui.runs.store import find_run

    path = Path(name).expanduser()
    if path.is_file() or path.is_absolute() or "/" in name or path.suffix == ".pt":
        return find_checkpoint(name, runs_dir)[0]
    run_dir = find_run(Path(runs_dir), name) if Path(runs_dir).is_dir() else None
    if run_dir is None:
        raise ValueError(f"no run {one_line(name, 60)!r} in {runs_dir}, and no checkpoint file of that name "
                         "(`l4tui runs` lists the runs)")
    weights = trained_weights(run_dir)
    sniff_checkpoint(weights)
    return weights


def load_predictor(name: str, runs_dir, workspace=None) -> Subject:
    """The run's model with its weights, ready to predict. ValueError, one line, when the run or
    file is unknown, damaged, or holds no lesson model."""
    from l4tui.inspect.subject import checkpoint_subject

    return checkpoint_subject(resolve_weights(name, runs_dir), workspace)


@dataclass
class Prediction:
    input: str  # what was typed, as one line
    label: str = ""  # classifier, tabular: the predicted class
    probabilities: dict = field(default_factory=dict)  # class -> probability, in the classes' order
    rating: float | None = None  # collab
    actual: float | None = None  # collab: the user's own rating of the movie, when the data has one
    text: str = ""  # language model: the prompt continued; collab: "user 196 and Star Wars (1977)"
    continuation: str = ""  # language model: the generated words alone
    notes: list[str] = field(default_factory=list)  # unknown categories (#na#), words read as xxunk ...

    def lines(self) -> list[str]:
        """What `l4tui predict` prints for it."""
        if self.probabilities:
            ranked = sorted(self.probabilities.items(), key=lambda pair: -pair[1])
            return [f"{self.label} ({self.probabilities[self.label]:.1%})"] + \
                [f"  {name:<12} {p:.4f}" for name, p in ranked]
        if self.rating is not None:
            actual = f" (their rating in the data: {self.actual:g})" if self.actual is not None else ""
            return [f"{self.rating:.3f}  predicted rating of {self.text}{actual}"]
        return [self.text]


# ---- one input --------------------------------------------------------------------------------

def predict(subject: Subject, value, n_words: int = 20, temperature: float = 0.75, seed: int | None = None
            ) -> Prediction:
    """The model's answer for one input (a str, or for tabular a dict of column values too)."""
    family = subject.name
    if family == "lm":
        return _continue(subject, str(value), n_words, temperature, seed)
    if family == "classifier":
        return _classify_text(subject, str(value))
    if family == "tabular":
        row = value if isinstance(value, dict) else parse_row(str(value), subject)
        return _classify_row(subject, row)
    if family == "collab":
        return _rate(subject, str(value))
    raise InputError(f"predict takes a classifier, tabular, collab or language model run, not {family}")


def _softmax_prediction(subject: Subject, typed: str, logits) -> Prediction:
    import torch

    probabilities = torch.softmax(logits[0].float(), -1).tolist()
    label = subject.classes[int(torch.as_tensor(probabilities).argmax())]
    return Prediction(typed, label, dict(zip(subject.classes, probabilities)))


def _forward(subject: Subject, inputs: tuple):
    import torch

    model = subject.model
    with torch.no_grad():
        if hasattr(model, "reset"):
            model.reset()
        output = model(*inputs)
    return output[0] if isinstance(output, (tuple, list)) else output


def _classify_text(subject: Subject, text: str) -> Prediction:
    from l4tui.data.tokenizer import UNK, tokenize
    from l4tui.inspect.subject import encode_input

    inputs = encode_input(subject, text)
    prediction = _softmax_prediction(subject, one_line(text), _forward(subject, inputs))
    unknown = sorted({t for t, i in zip(tokenize(text), inputs[0][0].tolist()) if i == 0 and t != UNK})
    if unknown:
        shown = ", ".join(unknown[:8]) + (" ..." if len(unknown) > 8 else "")
        prediction.notes.append(f"{len(unknown)} word(s) not in the run's vocab, read as xxunk: {shown}")
    return prediction


def parse_row(text: str, subject: Subject) -> dict:
    """`age=49,workclass=Private,...` as a dict of column -> value. A column the run's table lacks
    raises InputError naming the columns it has; columns left out are filled as the recipe's procs
    fill them (a category: #na#; a number: its training median)."""
    text = text.strip()
    if not text:
        raise InputError("type a row as column=value pairs, separated by commas: age=49,workclass=Private")
    # A comma ends a value only where the next column=... starts: values may hold commas.
    parts = re.split(r",\s*(?=[^,=]+=)", text)
    row = {}
    for part in parts:
        if "=" not in part:
            raise InputError(f"{part.strip()!r} is not column=value: type the row as age=49,workclass=Private")
        name, _, value = part.partition("=")
        row[name.strip()] = value.strip()
    check_columns(subject, row)
    return row


def row_columns(subject: Subject) -> list[str]:
    processor = subject.processor
    return list(processor.cat_names) + list(processor.cont_names)


def check_columns(subject: Subject, row: dict) -> None:
    known = row_columns(subject)
    label = subject.processor.y_name
    wrong = [name for name in row if name not in known and name != label]
    if wrong:
        raise InputError(f"no column {one_line(wrong[0], 40)!r} in this run's table; its columns are "
                         f"{', '.join(known)}")


def _classify_row(subject: Subject, row: dict) -> Prediction:
    from l4tui.inspect.subject import encode_input, unknown_categories

    check_columns(subject, row)
    inputs = encode_input(subject, row)
    typed = ",".join(f"{name}={value}" for name, value in row.items())
    prediction = _softmax_prediction(subject, typed, _forward(subject, inputs))
    for name in unknown_categories(subject, row):
        prediction.notes.append(f"{name}={row[name]!s} was never seen in training: it is read as #na#, "
                                "as fastai's Categorify does")
    missing = [name for name in row_columns(subject) if not str(row.get(name, "")).strip()]
    if missing:
        prediction.notes.append(f"not given, filled as in training (#na# or the median): {', '.join(missing)}")
    return prediction


def _rate(subject: Subject, text: str) -> Prediction:
    from l4tui.inspect.collab_interpret import explain_prediction, find_movie, rows_for

    if "," not in text:
        raise InputError("type a user id and a movie (id or title), separated by a comma: 196,Star Wars (1977)")
    user_text, movie_text = (part.strip() for part in text.split(",", 1))
    try:
        user = int(user_text)
    except ValueError:
        raise InputError(f"the user is an id of the ratings (a number), not {user_text!r}") from None
    if movie_text.isdigit() and int(movie_text) in subject.items:
        item = int(movie_text)
    else:
        try:
            item = subject.items[find_movie(movie_text, subject.items, subject.titles) - 1]
        except ValueError as error:
            raise InputError(str(error)) from None
    try:
        user_row, item_row = rows_for(user, item, subject.users, subject.items)
    except ValueError as error:
        raise InputError(str(error)) from None
    terms = explain_prediction(subject.model, user_row, item_row, y_range=subject.y_range)
    title = (subject.titles or {}).get(item, f"movie {item}")
    return Prediction(f"{user},{item}", rating=terms["prediction"], actual=_actual(subject, user, item),
                      text=f"user {user} and {title}")


def _actual(subject: Subject, user, item) -> float | None:
    table = subject.ratings
    if table is None:
        return None
    try:
        found = table[(table["user"] == user) & (table["item"] == item)]["rating"]
    except (KeyError, TypeError):
        return None
    return float(found.iloc[0]) if len(found) else None


def _continue(subject: Subject, text: str, n_words: int, temperature: float, seed: int | None) -> Prediction:
    from l4tui.inspect.generate import generate

    if not text.strip():
        raise InputError("type the start of a text: the language model continues it")
    if not 1 <= n_words <= 2000:
        raise InputError("--words takes 1 to 2000")
    result = generate(subject.model, subject.vocab, text, n_words=n_words, temperature=temperature, seed=seed)
    prediction = Prediction(one_line(text), text=result.text, continuation=result.continuation)
    if result.unknown_words:
        prediction.notes.append(f"not in the vocab, read as xxunk: {', '.join(result.unknown_words[:8])}")
    return prediction


def one_line(text: str, width: int = 0) -> str:
    line = " ".join(str(text).split())
    return line if not width or len(line) <= width else line[:width - 1] + "…"


# ---- many inputs: a CSV in, a CSV out -----------------------------------------------------------------

def read_inputs_csv(path, subject: Subject, notes: list | None = None) -> list:
    """The inputs of a CSV with a header line: a `text` column (classifier, language model; a CSV
    of one column is that column), the training table's columns (tabular: each row a dict; the
    label column may be there and is ignored; a column the model does not read is left out, with a
    line in `notes`), or `user` and `item` (or `movie`, `title`: collab). ValueError, one line, for
    a missing column."""
    from l4tui.data.errors import sniff_text_file

    path = Path(path)
    sniff_text_file(path, "a CSV with a header line")
    if path.stat().st_size > MAX_CSV_BYTES:
        raise ValueError(f"{path}: over {MAX_CSV_BYTES // 1_000_000} MB: predict takes smaller batches")
    try:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            header = [name.strip() for name in (reader.fieldnames or [])]
            rows = [{(k or "").strip(): (v or "") for k, v in row.items()} for row in reader]
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: is not UTF-8 (byte {error.start}): convert it to UTF-8") from None
    except csv.Error as error:
        raise ValueError(f"{path}: not a readable CSV ({error})") from None
    if not header:
        raise ValueError(f"{path}: is empty: give a CSV with a header line")
    family = subject.name
    if family in ("classifier", "lm"):
        column = "text" if "text" in header else (header[0] if len(header) == 1 else None)
        if column is None:
            raise ValueError(f"{path}: no `text` column (its columns: {', '.join(header[:8])})")
        return [row[column] for row in rows]
    if family == "tabular":
        known = row_columns(subject)
        if not set(header) & set(known):
            raise ValueError(f"{path}: none of this run's columns ({', '.join(known)}); its columns: "
                             f"{', '.join(header[:8])}")
        unused = [name for name in header if name not in known and name != subject.processor.y_name]
        if unused and notes is not None:  # the data file's other columns: the model never read them
            notes.append(f"columns the model does not read, left out: {', '.join(unused)}")
        return [{name: value for name, value in row.items() if name in known} for row in rows]
    if family == "collab":
        movie = next((name for name in ("item", "movie", "title") if name in header), None)
        if "user" not in header or movie is None:
            raise ValueError(f"{path}: needs a `user` column and an `item` (or `movie`, `title`) column "
                             f"(its columns: {', '.join(header[:8])})")
        return [f"{row['user']},{row[movie]}" for row in rows]
    raise ValueError(f"predict takes a classifier, tabular, collab or language model run, not {family}")


def csv_header(subject: Subject, values: list) -> list[str]:
    family = subject.name
    if family == "tabular":
        inputs = row_columns(subject)
        return inputs + ["prediction"] + [f"p_{name}" for name in subject.classes] + ["error"]
    if family == "classifier":
        return ["text", "prediction"] + [f"p_{name}" for name in subject.classes] + ["error"]
    if family == "collab":
        return ["user", "item", "title", "prediction", "error"]
    return ["text", "continuation", "error"]


def csv_row(subject: Subject, value, prediction: Prediction | None, error: str = "") -> list:
    """One CSV line for an input: its columns, the prediction (probabilities as columns), and
    the error when it could not be predicted (the other lines go on)."""
    family = subject.name
    probs = ([f"{prediction.probabilities[name]:.6f}" for name in subject.classes] if prediction
             else [""] * len(subject.classes))
    label = prediction.label if prediction else ""
    if family == "tabular":
        return [value.get(name, "") for name in row_columns(subject)] + [label] + probs + [error]
    if family == "classifier":
        return [value, label] + probs + [error]
    if family == "collab":
        user, _, item = str(value).partition(",")
        title = prediction.text.partition(" and ")[2] if prediction else ""
        rating = f"{prediction.rating:.4f}" if prediction else ""
        return [user.strip(), item.strip(), title, rating, error]
    return [value, prediction.continuation if prediction else "", error]
