"""Lesson 4's spreadsheet: collaborative filtering by gradient descent, cell by cell.

The lesson opens the MovieLens ratings in Excel: the 15 most active users down the side, the 15
most rated movies across the top. Beside the table, a random vector of factors for each user and
each movie; in each cell, the dot product of the two vectors, the prediction; under it the loss,
the sum of squared errors over the cells that have a rating (Excel's SUMXMY2). Solver then
changes the factors to bring the loss down. `Spreadsheet` is that sheet, with plain gradient
descent instead of Solver, and the two additions the lesson makes next as options: a bias per
user and per movie, and the sigmoid squeezed into `y_range`.

Everything here is numpy, so a step is instant; tests check each step against torch's autograd.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

N_USERS = 15
N_ITEMS = 15
N_FACTORS = 5  # the lesson's sheet uses 5
LR = 0.3


@dataclass
class Crosstab:
    """Ratings of the most active users (rows) for the most rated items (columns); NaN: no rating."""

    users: list[int]  # raw user ids, most ratings first
    items: list[int]  # raw item ids, most ratings first
    titles: list[str]  # the items' titles (the id as text when there is none)
    ratings: np.ndarray  # (len(users), len(items)) float, NaN where the user did not rate the item

    @property
    def known(self) -> np.ndarray:
        return ~np.isnan(self.ratings)


def crosstab(table, titles: dict | None = None, n_users: int = N_USERS, n_items: int = N_ITEMS) -> Crosstab:
    """The lesson's crosstab from a ratings table (columns user, item, rating).

    Most active users and most rated items first; ties go to the smaller id, so the sheet is the
    same every time. A table with fewer users or items gives a smaller sheet.
    """
    if len(table) == 0:
        raise ValueError("there are no ratings to make a sheet from")
    titles = titles or {}

    def most_frequent(column: str, n: int) -> list[int]:
        counts = table[column].value_counts()
        ordered = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
        return [int(key) for key, _ in ordered[:n]]

    users, items = most_frequent("user", n_users), most_frequent("item", n_items)
    inside = table[table["user"].isin(users) & table["item"].isin(items)]
    # A user who rated a movie twice (ratings.csv allows it) counts with the mean.
    means = inside.groupby(["user", "item"])["rating"].mean()
    ratings = np.full((len(users), len(items)), np.nan)
    row = {user: i for i, user in enumerate(users)}
    col = {item: j for j, item in enumerate(items)}
    for (user, item), value in means.items():
        ratings[row[int(user)], col[int(item)]] = value
    return Crosstab(users, items, [titles.get(item, str(item)) for item in items], ratings)


def sigmoid_range(x, low: float, high: float):
    return 1 / (1 + np.exp(-x)) * (high - low) + low


@dataclass
class Spreadsheet:
    """Factors for each user and item, and what they predict. Change them with `step()`."""

    sheet: Crosstab
    user_factors: np.ndarray  # (n_users, n_factors)
    item_factors: np.ndarray  # (n_items, n_factors)
    user_bias: np.ndarray  # (n_users,)
    item_bias: np.ndarray  # (n_items,)
    use_bias: bool = False
    y_range: tuple[float, float] | None = None
    lr: float = LR
    steps: int = 0
    source: str = "random"  # "random", or the run the factors were taken from
    history: list[float] = field(default_factory=list)  # the loss before each step

    @classmethod
    def random(cls, sheet: Crosstab, n_factors: int = N_FACTORS, seed: int = 0, **options) -> "Spreadsheet":
        """Factors drawn uniformly from [0, 1), as the lesson's RAND(); biases start at 0."""
        rng = np.random.default_rng(seed)
        n_users, n_items = sheet.ratings.shape
        return cls(sheet, rng.random((n_users, n_factors)), rng.random((n_items, n_factors)),
                   np.zeros(n_users), np.zeros(n_items), **options)

    # ---- what the sheet shows -------------------------------------------------------------------

    def dot(self) -> np.ndarray:
        """Each cell's dot product of its user's and its item's factors (SUMPRODUCT in the sheet)."""
        return self.user_factors @ self.item_factors.T

    def predictions(self) -> np.ndarray:
        activations = self.dot()
        if self.use_bias:
            activations = activations + self.user_bias[:, None] + self.item_bias[None, :]
        if self.y_range is not None:
            activations = sigmoid_range(activations, *self.y_range)
        return activations

    def squared_errors(self) -> np.ndarray:
        """(prediction - rating)² in the cells with a rating, NaN elsewhere."""
        return (self.predictions() - self.sheet.ratings) ** 2

    def sse(self) -> float:
        """SUMXMY2(ratings, predictions): the sum of squared errors over the rated cells."""
        return float(np.nansum(self.squared_errors()))

    def loss(self) -> float:
        """The mean squared error over the rated cells: what gradient descent brings down."""
        known = self.sheet.known.sum()
        return self.sse() / known if known else 0.0

    def rmse(self) -> float:
        return float(np.sqrt(self.loss()))

    # ---- gradient descent ---------------------------------------------------------------------

    def gradients(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """d loss / d (user_factors, item_factors, user_bias, item_bias), worked out by hand:
        the chain rule through the mean, the square, the sigmoid (if any) and the dot product."""
        known = self.sheet.known
        count = max(1, int(known.sum()))
        activations = self.dot()
        if self.use_bias:
            activations = activations + self.user_bias[:, None] + self.item_bias[None, :]
        prediction = activations
        d_activation = np.ones_like(activations)
        if self.y_range is not None:
            low, high = self.y_range
            s = 1 / (1 + np.exp(-activations))
            prediction = s * (high - low) + low
            d_activation = s * (1 - s) * (high - low)
        error = np.where(known, prediction - np.nan_to_num(self.sheet.ratings), 0.0)
        d = 2 * error / count * d_activation  # d loss / d activation, per cell
        d_user = d @ self.item_factors
        d_item = d.T @ self.user_factors
        if self.use_bias:
            return d_user, d_item, d.sum(axis=1), d.sum(axis=0)
        return d_user, d_item, np.zeros_like(self.user_bias), np.zeros_like(self.item_bias)

    def step(self, n: int = 1) -> float:
        """`n` steps of plain gradient descent (parameter -= lr * gradient); returns the loss after."""
        for _ in range(n):
            self.history.append(self.loss())
            d_user, d_item, d_user_bias, d_item_bias = self.gradients()
            self.user_factors = self.user_factors - self.lr * d_user
            self.item_factors = self.item_factors - self.lr * d_item
            if self.use_bias:
                self.user_bias = self.user_bias - self.lr * d_user_bias
                self.item_bias = self.item_bias - self.lr * d_item_bias
            self.steps += 1
        return self.loss()


def from_checkpoint(checkpoint: dict, sheet: Crosstab, run_name: str = "a run") -> Spreadsheet:
    """The sheet filled from a trained EmbeddingDotBias (a collab run's checkpoint), for the
    sheet made from the run's own data. Rows of the embeddings are found through the run's id
    lists (row i + 1 belongs to users[i]; row 0 is #na#, what an id the run never saw gets)."""
    model = checkpoint["model"]
    run_users = {int(user): i + 1 for i, user in enumerate(checkpoint.get("users", []))}
    run_items = {int(item): i + 1 for i, item in enumerate(checkpoint.get("items", []))}
    if not run_users or not run_items:
        raise ValueError(f"{run_name} has no user and item lists: is it a collab run?")
    try:
        u_weight, i_weight = _numpy(model["u_weight.weight"]), _numpy(model["i_weight.weight"])
        u_bias, i_bias = _numpy(model["u_bias.weight"])[:, 0], _numpy(model["i_bias.weight"])[:, 0]
    except KeyError as missing:
        raise ValueError(f"{run_name}'s model has no {missing}: it is not an EmbeddingDotBias") from None
    user_rows = [run_users.get(user, 0) for user in sheet.users]
    item_rows = [run_items.get(item, 0) for item in sheet.items]
    y_range = (checkpoint.get("config") or {}).get("y_range")
    return Spreadsheet(sheet, u_weight[user_rows], i_weight[item_rows], u_bias[user_rows], i_bias[item_rows],
                       use_bias=True, y_range=tuple(y_range) if y_range else None, source=run_name)


def load_crosstab(data: str | None = None) -> tuple[Crosstab, Path]:
    """The crosstab of a ratings dataset (a name or a path; None: the bundled sample) and where
    it was read from."""
    from l4tui.data.ratings import open_ratings

    ratings = open_ratings(data)
    return crosstab(ratings.table, ratings.titles), ratings.source


def load_trained_sheet(run_dir: Path, sheet: Crosstab) -> Spreadsheet:
    """The sheet filled with what a collab run learned (its best checkpoint, else its last)."""
    from l4tui.runs.checkpoints import load_checkpoint, trained_weights

    return from_checkpoint(load_checkpoint(trained_weights(run_dir)), sheet, Path(run_dir).name)


def cell_text(value: float, width: int = 5) -> str:
    """A number in a sheet cell: at most width - 1 characters, right-aligned, so a space always
    parts two cells; blank for NaN (no rating)."""
    if np.isnan(value):
        return ""
    if abs(value) >= 10:
        text = f"{value:.0f}"
    elif value < 0:  # the sign takes a place: -.34 keeps two decimals (as Excel may), -1.3 one
        text = f"{value:.2f}".replace("-0.", "-.", 1)  # not -0.0 for -0.03, which read as zero
        if len(text) > width - 1:
            text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return text.rjust(width)


def _numpy(tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy().astype(np.float64) if hasattr(tensor, "detach") else np.asarray(tensor)
