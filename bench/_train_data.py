"""Data for bench/train.py: a MovieLens-100k-sized ratings file and an adult-sized census CSV.

Both are generated deterministically (fixed seeds) into a folder the caller gives, so the
timings are measured on data of the same sizes as the fastai anchors:

  * `u.data` in MovieLens 100k's layout (user, item, rating, timestamp, tab-separated):
    100,000 ratings by 943 users of 1,682 items by default, every user with at least 20, from a
    latent-factor model (the idea of datasets/make_ml_sample.py), so EmbeddingDotBias can learn;
  * `adult.csv` in fastai's ADULT_SAMPLE layout: 32,561 rows by default (adult's size), drawn
    by datasets/make_adult_sample.py's row generator (imported by path).
"""

import csv
import importlib.util
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

ML100K = dict(n_ratings=100_000, n_users=943, n_items=1_682)
ADULT_ROWS = 32_561
MIN_PER_USER = 20  # as in MovieLens 100k


def make_ratings(path: Path, n_ratings: int = 100_000, n_users: int = 943, n_items: int = 1_682,
                 n_tastes: int = 4, seed: int = 42) -> Path:
    """Write `path` (u.data layout): exactly `n_ratings` ratings; returns the path."""
    rng = np.random.default_rng(seed)
    user_tastes = rng.normal(0, 0.7, (n_users, n_tastes))
    item_tastes = rng.normal(0, 0.7, (n_items, n_tastes))
    user_bias = rng.normal(0, 0.4, n_users)
    item_bias = rng.normal(0, 0.5, n_items)
    popularity = rng.zipf(1.6, n_items).clip(1, 60).astype(float)
    popularity /= popularity.sum()

    # Ratings per user: MIN_PER_USER each, the rest spread with a long tail (as in MovieLens),
    # never more than there are items; the total comes out exactly n_ratings.
    floor = min(MIN_PER_USER, n_ratings // n_users)
    weights = rng.exponential(1.0, n_users)
    counts = floor + np.floor(weights / weights.sum() * (n_ratings - floor * n_users)).astype(int)
    counts = counts.clip(max=n_items)
    i = 0
    while counts.sum() < n_ratings:  # hand out what rounding left over, one rating at a time
        if counts[i % n_users] < n_items:
            counts[i % n_users] += 1
        i += 1

    users, items, ratings = [], [], []
    for user, n_rated in enumerate(counts):
        rated = rng.choice(n_items, size=int(n_rated), replace=False, p=popularity)
        score = 3.4 + user_bias[user] + item_bias[rated] + item_tastes[rated] @ user_tastes[user]
        score += rng.normal(0, 0.5, len(rated))
        users.append(np.full(len(rated), user + 1))  # MovieLens ids start at 1
        items.append(rated + 1)
        ratings.append(np.clip(np.rint(score), 1, 5).astype(int))
    users, items, ratings = np.concatenate(users), np.concatenate(items), np.concatenate(ratings)
    stamps = 874_724_710 + rng.integers(0, 18_000_000, len(users))
    order = np.argsort(stamps, kind="stable")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.writelines(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in
                     zip(users[order], items[order], ratings[order], stamps[order]))
    return path


def _adult_module():
    path = ROOT / "datasets" / "make_adult_sample.py"
    spec = importlib.util.spec_from_file_location("_l4tui_make_adult_sample", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_adult(path: Path, n_rows: int = ADULT_ROWS, seed: int = 7) -> Path:
    """Write `path`: an adult-like CSV of `n_rows` rows (make_adult_sample's columns and rows)."""
    adult = _adult_module()
    rng = np.random.default_rng(seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=adult.COLUMNS, lineterminator="\n")
        writer.writeheader()
        for _ in range(n_rows):
            writer.writerow(adult.make_row(rng))
    return path


def make_texts_subset(source: Path, path: Path, n_rows: int) -> Path:
    """`n_rows` reviews of a texts.csv (label,text,is_valid), a fifth of them validation ones, for --quick runs."""
    import pandas as pd

    table = pd.read_csv(source)
    n_valid = n_rows // 5  # keep the validation flag's share, so the split stays the sample's own
    subset = pd.concat([table[~table["is_valid"]].head(n_rows - n_valid), table[table["is_valid"]].head(n_valid)])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    subset.to_csv(path, index=False)
    return path
