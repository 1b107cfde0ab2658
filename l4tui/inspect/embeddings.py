"""What training did to the embeddings: nearest neighbours, a 2-D map, change between checkpoints.

    tables = embedding_tables(checkpoint)               # every embedding matrix, with its labels
    neighbours(table.weights, row, k=10)                # [(row, cosine similarity)], best first
    pca_2d(table.weights, rows)                         # (len(rows), 2): the first two components
    neighbour_change(old.weights, new.weights, row)     # who joined and who left the top k
    place_labels(cells, labels, width, height)          # labels on a character map that never overlap

An embedding is a matrix with a row per token, user, movie or category. Rows that end up close
(by the cosine of their angle) are things the model learned to treat alike: that is the
lesson's "the embeddings learned that these movies are similar".
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from l4tui.textcut import cut_title


@dataclass
class EmbeddingTable:
    name: str  # "tokens", "users", "movies", "column workclass" ...
    key: str  # the state dict key of the matrix
    weights: np.ndarray  # (rows, factors)
    labels: list[str]  # one per row
    ids: list[str] | None = None  # per row, the user's or movie's id as the data has it ("" for #na#)

    @property
    def kind(self) -> str:
        """What a row is, in the singular: movie, user, token or category."""
        return {"tokens": "token", "users": "user", "movies": "movie"}.get(self.name, "category")

    def names(self):
        """The rows as `l4tui.inspect.lookup` searches them; #na# and xxpad are never meant."""
        from l4tui.inspect.lookup import NameList

        skip = frozenset(i for i, label in enumerate(self.labels[:2]) if label in ("#na#", "xxpad"))
        return NameList(self.kind, self.labels, self.ids, skip)

    def row_of(self, label: str) -> int | None:
        """The row of a label: exact first, then ignoring case."""
        try:
            return self.labels.index(label)
        except ValueError:
            lowered = label.lower()
            return next((i for i, text in enumerate(self.labels) if text.lower() == lowered), None)


def _numpy(tensor) -> np.ndarray:
    return tensor.detach().cpu().float().numpy() if hasattr(tensor, "detach") else np.asarray(tensor, float)


def embedding_tables(checkpoint: dict, titles: dict | None = None) -> list[EmbeddingTable]:
    """The embedding matrices of a run's checkpoint, labelled from what the run saved with it:
    the vocab (lm, classifier), the user and item ids (collab, with `titles` for the movies), the
    categories of each column (tabular). Row 0 of collab and tabular embeddings is #na#."""
    model = checkpoint.get("model") or {}
    tables = []
    vocab = checkpoint.get("vocab")
    for key, value in model.items():
        if getattr(value, "ndim", 0) != 2 or not key.endswith("weight"):
            continue
        weights = _numpy(value)
        if vocab and key.endswith("encoder.weight") and len(vocab) == len(weights):
            tables.append(EmbeddingTable("tokens", key, weights, list(vocab)))
        elif key == "u_weight.weight" and checkpoint.get("users"):
            users = [str(u) for u in checkpoint["users"]]
            tables.append(EmbeddingTable("users", key, weights, ["#na#"] + [f"user {u}" for u in users], [""] + users))
        elif key == "i_weight.weight" and checkpoint.get("items"):
            titles = titles or {}
            labels = ["#na#"] + [titles.get(int(item), f"item {item}") for item in checkpoint["items"]]
            tables.append(EmbeddingTable("movies", key, weights, labels, [""] + [str(i) for i in checkpoint["items"]]))
        elif key.startswith("embeds.") and checkpoint.get("processor"):
            index = int(key.split(".")[1])
            processor = checkpoint["processor"]
            # fastai adds a `_na` column per continuous column that had missing values, after the others
            columns = list(processor.get("cat_names") or []) + [f"{name}_na" for name in processor.get("na_names") or []]
            classes = processor.get("categories") or {}
            column = columns[index] if index < len(columns) else f"column {index}"
            labels = list(classes.get(column) or [])
            if len(labels) != len(weights):
                labels = [str(i) for i in range(len(weights))]
            tables.append(EmbeddingTable(f"column {column}", key, weights, labels))
    # The ones a learner looks at first: words and movies before users.
    order = {"tokens": 0, "movies": 1, "users": 3}
    return sorted(tables, key=lambda table: order.get(table.name, 2))


def cosine_similarities(weights: np.ndarray, row: int) -> np.ndarray:
    norms = np.linalg.norm(weights, axis=1)
    norms[norms == 0] = 1.0  # an all-zero row (padding) is similar to nothing
    return (weights @ weights[row]) / (norms * norms[row])


def neighbours(weights: np.ndarray, row: int, k: int = 10, skip: set[int] | None = None) -> list[tuple[int, float]]:
    """The `k` rows most similar to `row` by cosine similarity, best first (not `row` itself)."""
    if not 0 <= row < len(weights):
        raise ValueError(f"row {row} is outside the {len(weights)} rows")
    similarity = cosine_similarities(weights, row)
    order = [int(i) for i in np.argsort(-similarity, kind="stable") if i != row and i not in (skip or set())]
    return [(i, float(similarity[i])) for i in order[:k]]


def pca_2d(weights: np.ndarray, rows: list[int]) -> np.ndarray:
    """The chosen rows projected on the first two principal components of those rows."""
    points = weights[rows] - weights[rows].mean(axis=0)
    if len(rows) < 2:
        return np.zeros((len(rows), 2))
    _, _, components = np.linalg.svd(points, full_matrices=False)
    projected = points @ components[:2].T
    if projected.shape[1] < 2:  # a one-factor embedding: the second axis is flat
        projected = np.hstack([projected, np.zeros((len(rows), 1))])
    return projected


def neighbour_change(old: np.ndarray, new: np.ndarray, row: int, k: int = 10) -> dict:
    """How the neighbours of `row` changed between two checkpoints of the same run."""
    before = [i for i, _ in neighbours(old, row, k)]
    after = [i for i, _ in neighbours(new, row, k)]
    return {"before": before, "after": after, "joined": [i for i in after if i not in before],
            "left": [i for i in before if i not in after], "kept": [i for i in after if i in before]}


def map_cells(points: np.ndarray, width: int, height: int) -> list[tuple[int, int]]:
    """(column, row) of each point on a `width` x `height` character map spanning the points,
    row 0 at the top. The map's x and y limits are the points' own minimum and maximum."""
    cells = []
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    for x, y in points:
        cells.append((int(round((x - low[0]) / span[0] * (width - 1))),
                      int(round((high[1] - y) / span[1] * (height - 1)))))
    return cells


def place_labels(cells: list[tuple[int, int]], labels: list[str], width: int, height: int,
                 lengths: tuple[int, ...] = (24, 16, 10, 7)) -> list[tuple[int, str]]:
    """Where each point's label goes on a character map: (first column, text), or (-1, "") for a
    point whose label has no room. Labels are placed in the points' order (the first are the most
    frequent), right of their point or else left of it, cut shorter (`cut_title`: the year stays)
    when the full one collides. A label never covers another label, the column on either side of
    one, or any point: every point still shows."""
    points = {(col, row) for col, row in cells}
    taken: set[tuple[int, int]] = set()  # cells under a placed label, with a column either side
    placed = []
    for (col, row), label in zip(cells, labels):
        spot = (-1, "")
        for length in (max(lengths[0], 1),) + lengths[1:]:
            text = cut_title(label, length)
            for start in (col + 1, col - len(text)):
                span = range(start, start + len(text))
                if start < 0 or start + len(text) > width or not 0 <= row < height:
                    continue
                if any((c, row) in points or (c, row) in taken for c in span):
                    continue
                spot = (start, text)
                break
            if spot[1]:
                break
        if spot[1]:
            start, text = spot
            taken.update((c, row) for c in range(start - 1, start + len(text) + 1))
        placed.append(spot)
    return placed


# ---- a run's checkpoint, read for the Embeddings screen ------------------------------------

def checkpoint_titles(checkpoint: dict) -> dict | None:
    """Movie titles for a collab run's checkpoint, from the ratings it was trained on."""
    if not checkpoint.get("items"):
        return None
    try:
        from l4tui.data.ratings import load_ratings
        from l4tui.data.sources import resolve

        return load_ratings(resolve((checkpoint.get("config") or {}).get("data"))).titles
    except Exception:  # the data moved or is gone: ids instead of titles
        return None


def load_embedding_tables(path: Path, titles: dict | None = None, titles_known: bool = False):
    """The embedding tables of one checkpoint file, and the movie titles used for them."""
    from l4tui.runs.checkpoints import load_checkpoint

    checkpoint = load_checkpoint(path)
    if not titles_known:
        titles = checkpoint_titles(checkpoint)
    tables = embedding_tables(checkpoint, titles)
    if not tables:
        raise ValueError(f"no embeddings found in {path.name}")
    return tables, titles
