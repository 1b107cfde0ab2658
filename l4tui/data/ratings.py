"""Ratings in MovieLens 100k's layout: `u.data` (user, item, rating, timestamp; tab-separated)
and, optionally, `u.item` (`|`-separated, latin-1; id and title first).

Every way a file can be wrong becomes a `RatingsError` with a message a person can act on.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

RATING_COLUMNS = ["user", "item", "rating", "timestamp"]


class RatingsError(ValueError):
    """The ratings file is missing or not in the expected layout."""


@dataclass
class Ratings:
    """A ratings table (columns user, item, rating, timestamp) and the titles of its items."""

    source: Path
    table: pd.DataFrame
    titles: dict[int, str]

    @property
    def n_users(self) -> int:
        return int(self.table["user"].nunique())

    @property
    def n_items(self) -> int:
        return int(self.table["item"].nunique())


@dataclass
class RatingsSummary:
    source: str
    rows: int
    users: int
    items: int
    mean_rating: float
    histogram: dict[float, int]  # rating -> how many times it was given
    density: float  # share of the user x item matrix that has a rating


def _ratings_file(path: Path) -> Path:
    path = Path(path)
    if path.is_dir():
        path = path / "u.data"
    if not path.exists():
        raise RatingsError(f"No ratings file at {path}")
    if not path.is_file():
        raise RatingsError(f"{path} is not a file")
    return path


def load_ratings(path) -> Ratings:
    """Load `u.data` (or a folder holding it, with `u.item` beside it for titles)."""
    data_file = _ratings_file(path)
    with open(data_file, "rb") as f:
        head = f.read(4096)
    if not head.strip():
        raise RatingsError(f"{data_file} is empty")
    if b"\0" in head:
        raise RatingsError(f"{data_file} is a binary file, not tab-separated ratings")
    try:
        table = pd.read_csv(data_file, sep="\t", header=None, encoding="latin-1",
                            dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as error:
        first_line = str(error).splitlines()[0]
        raise RatingsError(f"{data_file} is not tab-separated ratings: {first_line}") from None
    if table.shape[1] != 4:
        raise RatingsError(f"{data_file}: expected 4 tab-separated columns (user, item, rating, "
                           f"timestamp), found {table.shape[1]} in line 1")
    table.columns = RATING_COLUMNS
    for column in RATING_COLUMNS:
        numbers = pd.to_numeric(table[column], errors="coerce")
        bad = numbers.isna()
        if bad.any():
            line = int(np.argmax(bad.to_numpy())) + 1
            raise RatingsError(f"{data_file}:{line}: {column} is not a number: "
                               f"{table[column].iloc[line - 1]!r}")
        table[column] = numbers.astype("float32" if column == "rating" else "int64")
    titles = _load_titles(data_file.with_name("u.item"))
    return Ratings(source=data_file, table=table, titles=titles)


def _load_titles(item_file: Path) -> dict[int, str]:
    """Item titles from `u.item`; a missing or unreadable file just means no titles."""
    titles = {}
    try:
        with open(item_file, encoding="latin-1") as f:
            for line in f:
                fields = line.rstrip("\n").split("|")
                if len(fields) >= 2 and fields[0].isdigit():
                    titles[int(fields[0])] = fields[1]
    except OSError:
        return {}
    return titles


def summarize(ratings: Ratings) -> RatingsSummary:
    table = ratings.table
    counts = table["rating"].value_counts().sort_index()
    users, items = ratings.n_users, ratings.n_items
    return RatingsSummary(
        source=str(ratings.source),
        rows=len(table),
        users=users,
        items=items,
        mean_rating=float(table["rating"].mean()),
        histogram={float(k): int(v) for k, v in counts.items()},
        density=len(table) / max(1, users * items),
    )


def split_valid(n_rows: int, valid_pct: float = 0.2, seed: int = 42):
    """fastai's default random split: `valid_pct` of the rows, shuffled with a fixed seed."""
    order = np.random.default_rng(seed).permutation(n_rows)
    n_valid = int(round(n_rows * valid_pct))
    return order[n_valid:], order[:n_valid]


def index_users_items(table: pd.DataFrame):
    """Map raw user and item ids to 0..n-1, as fastai's Categorify does. Returns (x, classes)."""
    users = np.sort(table["user"].unique())
    items = np.sort(table["item"].unique())
    x = np.stack([np.searchsorted(users, table["user"].to_numpy()),
                  np.searchsorted(items, table["item"].to_numpy())], axis=1)
    return x, {"user": users, "item": items}
