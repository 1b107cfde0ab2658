"""Ratings for collaborative filtering, in MovieLens's two layouts.

- MovieLens 100k: `u.data` (user, item, rating, timestamp; tab-separated, no header) and
  `u.item` (`|`-separated, latin-1; id and title first).
- The newer MovieLens CSVs (ml-latest, ml-25m, and fastai's ML_SAMPLE): `ratings.csv`
  (userId,movieId,rating,timestamp) and `movies.csv` (movieId,title,genres).

Users and items become indices as fastai's Categorify makes them: index 0 is `#na#`, kept for
users and items the model never saw (cold start), the others in sorted id order.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from l4tui.data.errors import DataError, header_text, sniff_text_file
from l4tui.textcut import clip

RATING_COLUMNS = ["user", "item", "rating", "timestamp"]
# Ratings stay float64 here, so the data check sees what the file says (1e39 is not float32's
# inf); the recipe makes its float32 tensor once the check has passed.
RATING_DTYPES = {"user": "int64", "item": "int64", "rating": "float64", "timestamp": "int64"}


class RatingsError(DataError):
    """The ratings file is missing or not in a layout we read."""


@dataclass
class Ratings:
    """A ratings table (columns user, item, rating, timestamp) and the titles of its items."""

    source: Path
    table: pd.DataFrame
    titles: dict[int, str]
    format: str = "MovieLens 100k u.data"
    header_lines: int = 0  # lines above the first rating, so messages can name a rating's line

    def line_of(self, row: int) -> int:
        """The file's line (from 1) of the rating at position `row`."""
        return row + 1 + self.header_lines

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
    format: str = ""


def load_ratings(path) -> Ratings:
    """u.data, ratings.csv, or a folder holding one of them."""
    path = Path(path)
    if path.is_dir():
        for name in ("u.data", "ratings.csv"):
            # Also a u.data that is there but is no file (a folder, a dangling link): say so.
            if (path / name).exists() or (path / name).is_symlink():
                path = path / name
                break
        else:
            raise RatingsError(path, "No ratings file in this folder",
                               "expected u.data (MovieLens 100k) or ratings.csv (newer MovieLens)")
    if not path.exists() and not path.is_symlink():
        raise RatingsError(path, "No ratings file there", "check the path")
    if path.suffix == ".csv":
        return _load_ratings_csv(path)
    return _load_u_data(path)


BUNDLED_RATINGS = "bundled-ml"  # what the spreadsheet shows when no run names a dataset


def open_ratings(data: str | None = None) -> Ratings:
    """The one loader of a ratings dataset, used by the recipe and the screens alike: a bundled or
    downloaded dataset's name or a path (None: the bundled MovieLens sample)."""
    from l4tui.data.sources import resolve

    return load_ratings(resolve(BUNDLED_RATINGS if data is None else data))


def _check_head(path: Path, what: str) -> None:
    try:
        sniff_text_file(path, what)
    except DataError as error:
        raise RatingsError(path, error.problem, error.fix) from None


def _numbers(table: pd.DataFrame, path: Path, columns: dict[str, str], header_lines: int) -> None:
    """Turn columns to numbers in place, naming the first line that isn't one."""
    for column, dtype in columns.items():
        numbers = pd.to_numeric(table[column], errors="coerce")
        bad = numbers.isna()
        if bad.any():
            row = int(np.argmax(bad.to_numpy()))
            raise RatingsError(path, f"{column} is not a number: {clip(repr(table[column].iloc[row]))}",
                               "every line needs numbers there", line=row + 1 + header_lines)
        table[column] = numbers.astype(dtype)


def _load_u_data(data_file: Path) -> Ratings:
    _check_head(data_file, "tab-separated ratings: user, item, rating, timestamp")
    try:
        table = pd.read_csv(data_file, sep="\t", header=None, encoding="latin-1", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as error:
        raise RatingsError(data_file, f"is not tab-separated ratings: {clip(str(error))}",
                           "each line: user<TAB>item<TAB>rating<TAB>timestamp") from None
    if table.shape[1] != 4:
        raise RatingsError(data_file, f"expected 4 tab-separated columns (user, item, rating, timestamp), "
                                      f"found {table.shape[1]}", "is the delimiter a tab?", line=1)
    table.columns = RATING_COLUMNS
    _numbers(table, data_file, RATING_DTYPES, 0)
    return Ratings(data_file, table, _load_u_item(data_file.with_name("u.item")), "MovieLens 100k u.data")


def _load_u_item(item_file: Path) -> dict[int, str]:
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


def _load_ratings_csv(path: Path) -> Ratings:
    _check_head(path, "ratings.csv with a header userId,movieId,rating[,timestamp]")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except UnicodeDecodeError as error:
        raise RatingsError(path, f"is not UTF-8 (byte {error.start})", "convert it to UTF-8") from None
    except (pd.errors.ParserError, ValueError) as error:
        raise RatingsError(path, f"is not a well-formed CSV: {clip(str(error))}",
                           "every line needs as many cells as the header") from None
    renames = {"userId": "user", "movieId": "item"}
    missing = [c for c in ("userId", "movieId", "rating") if c not in table.columns]
    if missing:
        raise RatingsError(path, f"has no column {missing[0]!r} ({header_text(table.columns)})",
                           "the newer MovieLens header is userId,movieId,rating,timestamp", line=1)
    table = table.rename(columns=renames)
    if "timestamp" not in table.columns:
        table["timestamp"] = "0"
    table = table[RATING_COLUMNS].copy()
    _numbers(table, path, RATING_DTYPES, 1)
    return Ratings(path, table, _load_movies_csv(path.with_name("movies.csv")), "MovieLens ratings.csv", 1)


def _load_movies_csv(path: Path) -> dict[int, str]:
    try:
        movies = pd.read_csv(path, usecols=["movieId", "title"])
    except (OSError, ValueError, pd.errors.ParserError):
        return {}
    return {int(k): str(v) for k, v in zip(movies["movieId"], movies["title"]) if str(k).isdigit()}


def summarize(ratings: Ratings) -> RatingsSummary:
    table = ratings.table
    counts = table["rating"].value_counts().sort_index()
    users, items = ratings.n_users, ratings.n_items
    return RatingsSummary(
        source=str(ratings.source), rows=len(table), users=users, items=items,
        mean_rating=float(table["rating"].mean()),
        histogram={float(k): int(v) for k, v in counts.items()},
        density=len(table) / max(1, users * items), format=ratings.format,
    )


def split_valid(n_rows: int, valid_pct: float = 0.2, seed: int = 42):
    """fastai's default random split: `valid_pct` of the rows, shuffled with a fixed seed."""
    order = np.random.default_rng(seed).permutation(n_rows)
    n_valid = int(round(n_rows * valid_pct))
    return order[n_valid:], order[:n_valid]


class IdMap:
    """Raw ids <-> model indices, as Categorify: index 0 is #na#, then the known ids in order."""

    def __init__(self, ids):
        self.ids = np.unique(np.asarray(ids))  # sorted

    def __len__(self) -> int:
        return len(self.ids) + 1  # with #na#

    def index(self, raw_ids) -> tuple[np.ndarray, int]:
        """Indices for raw ids, and how many were unknown (cold start: they get 0, #na#)."""
        raw_ids = np.asarray(raw_ids)
        position = np.searchsorted(self.ids, raw_ids).clip(max=len(self.ids) - 1)
        known = self.ids[position] == raw_ids
        return np.where(known, position + 1, 0), int((~known).sum())


def index_users_items(table: pd.DataFrame):
    """Map raw user and item ids to model indices. Returns (x (n, 2), {"user": IdMap, "item": IdMap})."""
    maps = {"user": IdMap(table["user"]), "item": IdMap(table["item"])}
    users, _ = maps["user"].index(table["user"].to_numpy())
    items, _ = maps["item"].index(table["item"].to_numpy())
    return np.stack([users, items], axis=1), maps
