"""The check of a run's data, made before the run starts: what would otherwise fail mid-run with
torch's or numpy's words (an empty list to concatenate, a reduction over nothing) or train on
nonsense without a word (text read as missing numbers, ratings the model can never predict).

One check, three callers: each recipe loads its data through one function that calls these
(l4tui/train: collab.load_checked_ratings, tabular.load_checked_table,
text.load_checked_lm_texts and load_checked_classifier_texts); the recipe's `prepare` (in the
run's process) and recipes.check_data (in `start_run`, for the CLI and the launch form, before a
run folder exists) both use it. Every message names the file, the
column and the line where there is one, and what to do; quoted input is cut to ~200 characters.
"""

from l4tui.data.errors import DataError
from l4tui.textcut import clip


def _count(n: int, unit: tuple[str, str]) -> str:
    return f"{n:,} {unit[0] if n == 1 else unit[1]}"


def _leave(n: int) -> str:
    return "leaves" if n == 1 else "leave"


def check_split(path, unit: tuple[str, str], n_train: int, n_valid: int, bs: int, how: str,
                drop_last: bool = True, min_train: int = 1) -> None:
    """Enough items for both sides of the split and for one training batch.

    `unit`: what is counted, singular and plural ("rating", "ratings"); `how`: how the validation
    items are chosen, for the message. `drop_last`: training drops the short last batch (collab
    and tabular, as fastai), so fewer than `bs` items make no batch at all. `min_train`: the
    fewest training items a batch may hold (2 where the model has BatchNorm layers).
    """
    total = n_train + n_valid
    if total == 0:
        raise DataError(path, f"has no {unit[1]}, only a header", f"add {unit[1]}")
    if n_valid == 0:
        raise DataError(path, f"{_count(total, unit)} {_leave(total)} no {unit[1]} to validate on ({how})",
                        f"add {unit[1]}")
    if n_train == 0:
        raise DataError(path, f"{_count(total, unit)} {_leave(total)} no {unit[1]} to train on ({how})",
                        f"add {unit[1]} for training")
    if n_train < min_train:
        raise DataError(path, f"{_count(total, unit)} {_leave(total)} {n_train} to train on ({how}); "
                              f"the model's BatchNorm layers need batches of {min_train} or more",
                        f"add {unit[1]} for training")
    if drop_last and n_train < bs:
        raise DataError(path, f"{_count(n_train, ('training ' + unit[0], 'training ' + unit[1]))} "
                              f"are fewer than one batch (bs {bs})",
                        f"lower --bs to {n_train} or less, or add {unit[1]}")


def check_tokens(path, split: str, n_tokens: int, bs: int) -> None:
    """The language model cuts a split's stream of tokens into `bs` rows: each needs a token."""
    if n_tokens - 1 < bs:
        raise DataError(path, f"the {split} texts make {n_tokens:,} tokens, too few for a batch of {bs} rows",
                        f"lower --bs to {max(1, n_tokens - 1)} or less, or add texts")


def check_ratings(ratings, y_range) -> None:
    """Ratings are finite and inside y_range, which the model's sigmoid can't leave.

    Negative ratings (or any outside y_range) are refused rather than trained on: with the
    lesson's y_range (0, 5.5) the model could never predict them and would quietly learn a
    clipped copy of the data. A y_range that covers them (--y-range) makes them fine.
    """
    import numpy as np

    values = ratings.table["rating"].to_numpy(dtype=np.float64)
    if not len(values):
        return
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(ratings.source, f"rating {values[row]:g} is not a finite number",
                        "fix or remove that line", line=ratings.line_of(row))
    low, high = y_range
    outside = (values < low) | (values > high)
    if outside.any():
        row = int(np.argmax(outside))
        side = f"below y_range's bottom {low:g}" if values[row] < low else f"above y_range's top {high:g}"
        raise DataError(ratings.source,
                        f"rating {values[row]:g} is {side}: the model predicts {low:g} to {high:g} only",
                        f"fix that line, or, if such ratings are right, train with a y_range that covers "
                        f"{values.min():g} to {values.max():g}: --y-range=LOW,HIGH", line=ratings.line_of(row))


def check_table(table) -> None:
    """Input columns exist; continuous ones hold finite numbers (or nothing); every row has a label."""
    import numpy as np
    import pandas as pd

    frame, path, y = table.frame, table.source, table.y_name
    if not table.cat_names and not table.cont_names:
        raise DataError(path, f"has only the label column {y!r}: the model needs at least one input column",
                        "add columns of categories or numbers")
    for column in table.cont_names:
        values = frame[column]
        numbers = pd.to_numeric(values, errors="coerce")
        if not numbers.notna().any():
            raise DataError(path, f"column {column!r} has no numbers: every cell is empty or text",
                            "fill it in, or leave the column out of the continuous ones")
        if numbers.isna().any():  # missing values are fine (FillMissing); text read as missing is not
            blank = values.isna() | (values.astype(str).str.strip() == "")
            text = numbers.isna() & ~blank
            if text.any():
                row = int(np.argmax(text.to_numpy()))
                raise DataError(path, f"column {column!r} holds text where numbers belong: "
                                      f"{clip(repr(values.iloc[row]))}",
                                "fix the cell, or leave it empty for a missing value", line=table.line_of(row))
        infinite = np.isinf(numbers.to_numpy(dtype=np.float64))
        if infinite.any():
            row = int(np.argmax(infinite))
            raise DataError(path, f"column {column!r} is {numbers.iloc[row]:g}, not a finite number",
                            "fix the cell, or leave it empty for a missing value", line=table.line_of(row))
    labels = frame[y]
    missing = (labels.isna() | (labels.astype(str).str.strip() == "")).to_numpy()
    if missing.any():
        row = int(np.argmax(missing))
        raise DataError(path, f"column {y!r} (the label) is empty", "fill in the label, or remove the line",
                        line=table.line_of(row))


def check_label_split(table, valid) -> None:
    """Two labels or more, and every label of the validation rows among the training rows' (the
    model has one output per label it trained on): small tables can draw a rare label into
    validation only."""
    import numpy as np

    labels = table.frame[table.y_name].astype(str).str.strip().to_numpy()
    distinct = np.unique(labels)
    if len(distinct) == 1:
        raise DataError(table.source, f"column {table.y_name!r} (the label) has one value only, "
                                      f"{clip(repr(distinct[0]))}: a classifier needs two or more",
                        "is --y the right column?")
    # Against the training rows' distinct labels: np.isin against all of them (object strings)
    # took 9 s for adult's 32,561 rows, before every tabular run; against a handful, 0.02 s.
    unseen = valid & ~np.isin(labels, np.unique(labels[~valid]))
    if unseen.any():
        row = int(np.argmax(unseen))
        raise DataError(table.source, f"label {clip(repr(labels[row]))} of column {table.y_name!r} is only in "
                                      f"validation rows, never in training rows", "add rows with that label",
                        line=table.line_of(row))


def check_texts(data, text_col: str = "text") -> None:
    """Some text to learn from: a texts CSV whose texts are all blank trains on nothing but xxbos."""
    if data.texts and not any(text.strip() for text in data.texts):
        where = f"every text (column {text_col!r})" if data.source.is_file() else "every review file"
        raise DataError(data.source, f"{where} is empty", "fill in the texts")


def check_labels(path, classes: list[str]) -> None:
    if len(classes) < 2:
        found = ", ".join(repr(c) for c in classes) or "none"
        raise DataError(path, f"the classifier needs at least two labels, found {clip(found)}",
                        "label the texts (column 'label'), or train the language model (lm) on them")
