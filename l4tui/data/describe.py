"""What `l4tui data show` prints of a dataset: the format found, and the figures a user checks
first (rows, columns and their kinds, labels, users and items, missing values). Each kind is read
by its own loader, as the recipes read it, so what is shown is what a run would train on."""

from collections import Counter
from pathlib import Path

from l4tui.data.sources import detect_format, resolve
from l4tui.textcut import clip


def describe(name_or_path, y_name: str | None = None) -> list[str]:
    """What `l4tui data show` prints about a dataset."""
    path = resolve(name_or_path)
    kind = detect_format(path)
    if kind in ("movielens-100k", "movielens-csv"):
        return _describe_ratings(path)
    if kind in ("texts-csv", "imdb-folder"):
        return _describe_texts(path)
    return _describe_table(path, y_name)


def _bar(count: int, top: int, width: int = 40) -> str:
    return "#" * max(1, round(width * count / top)) if count else ""


def _describe_ratings(path: Path) -> list[str]:
    from l4tui.data.ratings import load_ratings, summarize

    ratings = load_ratings(path)
    summary = summarize(ratings)
    missing = int(ratings.table.isna().sum().sum())
    lines = [f"source   {summary.source}", f"format   {summary.format} (user, item, rating, timestamp)",
             "family   collab",
             f"rows     {summary.rows:,}", f"users    {summary.users:,}", f"items    {summary.items:,}",
             f"titles   {len(ratings.titles):,}",
             f"density  {summary.density:.1%} of the user x item matrix is rated",
             f"missing  {missing:,} values", f"mean     {summary.mean_rating:.3f}", "ratings"]
    top = max(summary.histogram.values())
    lines += [f"  {rating:>4g}  {_bar(count, top):<40} {count:,}" for rating, count in summary.histogram.items()]
    return lines


def _describe_texts(path: Path) -> list[str]:
    from l4tui.data.texts import open_texts

    data = open_texts(path)  # as the recipes read it
    words = [len(text.split()) for text in data.texts]
    labels = Counter(label or "(unlabelled)" for label in data.labels)
    n_valid = sum(data.is_valid)
    empty = sum(1 for text in data.texts if not text.strip())
    lines = [f"source   {data.source}", f"format   {data.format}", "family   text",
             f"texts    {len(data):,} ({len(data) - n_valid:,} train, {n_valid:,} valid)",
             f"words    {sum(words):,} in all; {sum(words) / max(1, len(words)):.0f} per text on average, "
             f"longest {max(words, default=0):,}",
             f"missing  {empty:,} empty texts", "labels"]
    top = max(labels.values(), default=1)
    lines += [f"  {clip(label, 40):<12} {_bar(count, top):<40} {count:,}" for label, count in sorted(labels.items())]
    return lines


def _describe_table(path: Path, y_name: str | None) -> list[str]:
    from l4tui.data.tables import open_table

    data = open_table(path, y_name)  # as the recipe reads it
    frame = data.frame
    lines = [f"source   {data.source}", f"format   {data.format}", "family   tabular",
             f"rows     {len(frame):,}", f"columns  {frame.shape[1]} (the lesson's choice: "
             f"{len(data.cat_names)} categorical, {len(data.cont_names)} continuous, label {data.y_name!r})"]
    for column in frame.columns:
        role = ("label" if column == data.y_name else "categorical" if column in data.cat_names
                else "continuous" if column in data.cont_names else "unused")
        values = frame[column]
        detail = (f"{values.nunique():,} categories" if role in ("categorical", "label")
                  else _numbers_detail(data, values) if role == "continuous"
                  else f"{values.nunique():,} distinct values")
        lines.append(f"  {clip(str(column), 16):<16} {role:<12} missing {int(values.isna().sum()):>6,}  {detail}")
    counts = frame[data.y_name].value_counts()
    lines.append("labels")
    lines += [f"  {clip(str(label), 40):<12} {_bar(count, counts.max()):<40} {count:,}"
              for label, count in counts.items()]
    return lines


def _numbers_detail(data, values) -> str:
    """A continuous column's mean and range; or, when it holds text (a string column under pandas
    3, object under pandas 2), the first cell that is not a number, which training refuses."""
    import numpy as np
    import pandas as pd

    numbers = pd.to_numeric(values, errors="coerce")
    text = (numbers.isna() & values.notna() & (values.astype(str).str.strip() != "")).to_numpy()
    if text.any():
        row = int(np.argmax(text))
        return f"text, not numbers: {clip(repr(values.iloc[row]), 40)} at line {data.line_of(row)}"
    return f"mean {numbers.mean():.4g}, range {numbers.min():.4g}..{numbers.max():.4g}"
