"""Lesson 4's "interpreting embeddings and biases" on an EmbeddingDotBias (the collab model).

    arrays = collab_arrays(checkpoint)          # u_weight, i_weight, u_bias, i_bias as numpy
    lowest, highest = movie_biases(arrays["i_bias"], checkpoint["items"], ratings.titles, ratings.table)
    factor_components(arrays["i_weight"], items, titles, ratings.table)   # movie_w.pca(3)
    similar_movies(arrays["i_weight"], items, titles, "Silence of the Lambs, The (1991)")
    user_row, item_row = rows_for(196, 242, checkpoint["users"], checkpoint["items"])
    explain_prediction(checkpoint, user_row, item_row)   # dot, biases, sigmoid, prediction

Everything works from a run's checkpoint (its state dict and the `users` and `items` id lists the
collab run saves with it), without building the model; a model, a state dict, a tensor or an
nn.Embedding is accepted wherever an array is. Row i + 1 of the embeddings belongs to users[i]
(or items[i]); row 0 is #na#, the stand-in for every user or movie the model never saw.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from l4tui.textcut import cut_title

NA_ROW = 0  # #na#: users and movies the model never saw

_KEYS = {"u_weight": "u_weight.weight", "i_weight": "i_weight.weight",
         "u_bias": "u_bias.weight", "i_bias": "i_bias.weight"}


# --- from whatever we are given, the arrays ----------------------------------------------------

def _state_dict(source) -> dict:
    """A state dict from a model, a state dict, or a run's checkpoint ({"model": state dict, ...})."""
    if hasattr(source, "state_dict") and callable(source.state_dict):
        return source.state_dict()
    if isinstance(source, dict):
        if "i_weight.weight" not in source and isinstance(source.get("model"), dict):
            return source["model"]
        return source
    raise TypeError(f"expected a model, a state dict or a checkpoint, not {type(source).__name__}")


def _array(values) -> np.ndarray:
    """A float numpy array from an array, a tensor, a Parameter or an nn.Embedding."""
    if hasattr(values, "weight") and not hasattr(values, "ndim"):  # an nn.Embedding
        values = values.weight
    if hasattr(values, "detach"):
        values = values.detach().cpu().float().numpy()
    return np.asarray(values, dtype=float)


def collab_arrays(source) -> dict[str, np.ndarray]:
    """u_weight (n_users+1, n_factors), i_weight (n_items+1, n_factors), u_bias (n_users+1,) and
    i_bias (n_items+1,) as numpy arrays, from an EmbeddingDotBias, its state dict or a checkpoint."""
    state = _state_dict(source)
    missing = [key for key in _KEYS.values() if key not in state]
    if missing:
        raise ValueError(f"not an EmbeddingDotBias: no {missing[0]} in its weights "
                         "(EmbeddingNN, the neural net version, has no dot product or biases to show)")
    arrays = {name: _array(state[key]) for name, key in _KEYS.items()}
    arrays["u_bias"] = arrays["u_bias"].reshape(-1)
    arrays["i_bias"] = arrays["i_bias"].reshape(-1)
    return arrays


def _biases(values) -> np.ndarray:
    return _array(values).reshape(-1)


def _factors(values) -> np.ndarray:
    factors = _array(values)
    if factors.ndim != 2:
        raise ValueError(f"expected a (movies, factors) matrix, got shape {factors.shape}")
    return factors


def _check_rows(n_rows: int, ids: list, what: str) -> None:
    if n_rows != len(ids) + 1:
        raise ValueError(f"the embedding has {n_rows} rows but the run lists {len(ids)} {what}: "
                         f"expected {len(ids) + 1} (one per {what[:-1]}, and row 0 for #na#); "
                         "are the weights and the id list from the same run?")


def _title(titles: dict | None, item) -> str:
    titles = titles or {}
    try:
        return titles.get(int(item)) or f"item {item}"
    except (TypeError, ValueError):
        return titles.get(item) or f"item {item}"


def _table(ratings_table):
    """The ratings DataFrame from a DataFrame or a Ratings (load_ratings's result); None stays None."""
    return getattr(ratings_table, "table", ratings_table)


def _rating_stats(ratings_table) -> tuple[dict, dict]:
    """{item: mean rating}, {item: number of ratings} over the whole table."""
    table = _table(ratings_table)
    if table is None or len(table) == 0:
        return {}, {}
    grouped = table.groupby("item")["rating"]
    means, counts = grouped.mean(), grouped.size()
    return ({int(k): float(v) for k, v in means.items()}, {int(k): int(v) for k, v in counts.items()})


# --- biases --------------------------------------------------------------------------------------

class MovieBias(NamedTuple):
    title: str
    bias: float
    mean_rating: float  # NaN when the table has no rating of it
    n_ratings: int


def movie_biases(i_bias, items: list, titles: dict | None, ratings_table, n: int = 15
                 ) -> tuple[list[MovieBias], list[MovieBias]]:
    """The `n` movies with the lowest bias (lowest first) and the `n` with the highest (highest
    first), each with its mean rating and number of ratings in `ratings_table`.

    A movie's bias is the part of every prediction for it that does not depend on who watches it.
    The dot product already accounts for taste: a user who likes that kind of movie (action,
    old, ...) gets a high dot product with it. So the movies with the lowest bias are the ones
    people dislike *even when they'd like that kind of movie*: not just movies with a low mean
    rating, but movies that disappoint their own audience. The highest biases are the reverse:
    movies people like even when it is not their kind of movie. The mean rating alone cannot tell
    these apart from movies that are liked or disliked only because of who watches them.

    i_bias: (n_items + 1,) or (n_items + 1, 1), row 0 #na# (skipped); an array, a tensor or the
    nn.Embedding. items: the run's item ids (row i + 1 is items[i]). titles: {item id: title}.
    ratings_table: the ratings (columns item, rating), a DataFrame or load_ratings's Ratings;
    None for no mean ratings (NaN, 0). Ties keep the row order.
    """
    biases = _biases(i_bias)
    _check_rows(len(biases), items, "movies")
    means, counts = _rating_stats(ratings_table)
    rows = []
    for row in range(1, len(biases)):
        item = items[row - 1]
        key = _as_key(item)
        rows.append(MovieBias(_title(titles, item), float(biases[row]), means.get(key, math.nan),
                              counts.get(key, 0)))
    order = np.argsort(biases[1:], kind="stable")
    lowest = [rows[i] for i in order[:n]]
    highest = [rows[i] for i in np.argsort(-biases[1:], kind="stable")[:n]]
    return lowest, highest


def movie_bias_line(bias: MovieBias) -> str:
    """One movie of the bias lists: its bias, title, mean rating and how many rated it."""
    return f"  {bias.bias:+.3f} {cut_title(bias.title, 32):<32} mean {bias.mean_rating:.2f} ({bias.n_ratings})"


# --- the factors: PCA ----------------------------------------------------------------------------

@dataclass
class Component:
    """One principal component of the movies' factors."""

    number: int  # 1 for the first component
    variance_share: float  # share of the top movies' factor variance along this component
    highest: list[tuple[str, float]]  # (title, score), highest score first
    lowest: list[tuple[str, float]]  # (title, score), lowest score first


def most_rated(ratings_table, items: list, n: int) -> list[int]:
    """Rows (into the embedding) of the `n` movies with the most ratings, most first; ties go to
    the smaller id. Only movies the run has a row for count."""
    _, counts = _rating_stats(ratings_table)
    row_of = {_as_key(item): row for row, item in enumerate(items, start=1)}
    ranked = sorted((item for item in counts if item in row_of), key=lambda item: (-counts[item], item))
    return [row_of[item] for item in ranked[:n]]


def factor_components(i_weight, items: list, titles: dict | None, ratings_table, n_top_movies: int = 1000,
                      n_components: int = 3, n: int = 10) -> list[Component]:
    """PCA of the factors of the most-rated movies, as the lesson does it:

        top_movies = ratings.groupby('title')['rating'].count().sort_values(ascending=False)[:1000]
        movie_pca = movie_w[top_idxs].pca(3)        # fastai: centre, SVD, project

    For each component: its share of the variance of those movies' factors, and the `n` movies
    at each end. Each latent factor is a mixture of everything the model found useful; the first
    components are the directions along which the movies differ most, and looking at the titles
    at their two ends is how the lesson puts names on them ("classic vs. popular", "dialogue vs.
    CGI"...). The sign of a component is arbitrary (SVD can flip it): here the movie farthest
    from the centre scores positive, so the same weights always give the same ends.

    Only the most rated movies are used because a movie with few ratings has barely moved from
    its random start. Fewer components come back when there are fewer factors or movies.
    """
    weights = _factors(i_weight)
    _check_rows(len(weights), items, "movies")
    rows = most_rated(ratings_table, items, n_top_movies)
    if len(rows) < 2:
        raise ValueError("a PCA needs at least two rated movies that the run has factors for")
    points = weights[rows] - weights[rows].mean(axis=0)
    _, singular, directions = np.linalg.svd(points, full_matrices=False)
    total = float((singular ** 2).sum())
    components = []
    for k in range(min(n_components, len(singular))):
        scores = points @ directions[k]
        if scores[np.argmax(np.abs(scores))] < 0:
            scores = -scores
        share = float(singular[k] ** 2 / total) if total > 0 else 0.0
        labelled = [(_title(titles, items[row - 1]), float(score)) for row, score in zip(rows, scores)]
        high_first = np.argsort(-scores, kind="stable")
        low_first = np.argsort(scores, kind="stable")
        components.append(Component(k + 1, share, [labelled[i] for i in high_first[:n]],
                                    [labelled[i] for i in low_first[:n]]))
    return components


# --- similar movies ------------------------------------------------------------------------------

def find_movie(title_or_id, items: list, titles: dict | None) -> int:
    """The embedding row of a movie given by id (an int) or title, found by `l4tui.inspect.lookup`
    (exact, any case, the one title holding every word typed, fuzzy). Several fit or none does:
    ValueError naming the choices or the closest titles."""
    titles = titles or {}
    row_of = {_as_key(item): row for row, item in enumerate(items, start=1)}
    if isinstance(title_or_id, (int, np.integer)) and not isinstance(title_or_id, bool):
        if int(title_or_id) in row_of:
            return row_of[int(title_or_id)]
        raise ValueError(f"movie {title_or_id} is not in this run's {len(items):,} movies "
                         "(it had no rating in the training rows)")
    query = str(title_or_id).strip()
    if not query:
        raise ValueError("which movie? give a title or a movie id")
    known = {_title(titles, item): row for item, row in row_of.items()}
    # The same lookup as the embeddings screen and the Activations tab: exact, any case, a unique
    # part, `movie 50`, then the file finder's fuzzy matcher. Several fit: the choices, in order.
    from l4tui.inspect.lookup import NameList, find_name

    labels = ["#na#"] + [_title(titles, item) for item in items]
    found = find_name(query, [NameList("movie", labels, [""] + [str(_as_key(i)) for i in items], frozenset({0}))])
    if found.match is not None:
        return found.match.row
    if found.ambiguous:
        shown = "; ".join(m.label for m in found.choices[:5]) + ("; ..." if len(found.choices) > 5 else "")
        raise ValueError(f"{len(found.choices)} movies match {query!r}: {shown}. Give the full title")
    lowered = query.lower()
    close = difflib.get_close_matches(query, list(known), n=3, cutoff=0.5)
    if not close:  # titles are long: compare with the start of each, as long as the query
        starts = {title[:len(query)].lower(): title for title in known}
        close = [starts[s] for s in difflib.get_close_matches(lowered, list(starts), n=3, cutoff=0.6)]
    hint = f"; did you mean {' or '.join(repr(t) for t in close)}?" if close else ""
    raise ValueError(f"no movie {query!r} among this run's {len(items):,} movies{hint}")


def similar_movies(i_weight, items: list, titles: dict | None, title_or_id, n: int = 10
                   ) -> list[tuple[str, float]]:
    """The `n` movies whose factors point the most the same way as this movie's, by cosine
    similarity, best first (not the movie itself, nor #na#): the lesson's "movies most similar
    to Silence of the Lambs". The cosine ignores a vector's length, so a movie is similar to
    another because people like and dislike them for the same reasons, however strongly.

    title_or_id: a movie id (int) or a title (exact, any case, or a unique part of it).
    """
    from l4tui.inspect.embeddings import neighbours

    weights = _factors(i_weight)
    _check_rows(len(weights), items, "movies")
    row = find_movie(title_or_id, items, titles)
    return [(_title(titles, items[other - 1]), similarity)
            for other, similarity in neighbours(weights, row, k=n, skip={NA_ROW})]


# --- one prediction, term by term ----------------------------------------------------------------

def rows_for(user_id, item_id, users: list, items: list) -> tuple[int, int]:
    """The embedding rows of a real user id and movie id (row i + 1 is users[i] / items[i]).

    An id the run never saw raises ValueError: the model has no factors for it."""

    def row(value, ids, what, plural):
        index = {}
        for position, known in enumerate(ids, start=1):
            index.setdefault(_as_key(known), position)
        found = index.get(_as_key(value))
        if found is not None:
            return found
        raise ValueError(
            f"{what} {value} is not in this run's {len(ids):,} {plural}; a new {what} is the cold-start "
            f"problem: the model learned no factors or bias for them (only row 0, #na#, which "
            f"stands for every unknown {what}, and learned next to nothing). Lesson 4's answers: "
            f"ask a new user a few questions or which {'movies they like' if what == 'user' else 'users it is like'}, "
            f"or use a model of metadata (genre, age, ...) until there are ratings to train on")

    return row(user_id, users, "user", "users"), row(item_id, items, "movie", "movies")


def _as_key(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


_FROM_SOURCE = object()


def _y_range_of(source):
    if hasattr(source, "y_range"):
        return source.y_range
    if isinstance(source, dict) and isinstance(source.get("config"), dict) and "y_range" in source["config"]:
        return source["config"]["y_range"]
    raise ValueError("pass y_range: these weights don't say what it was (the run's config has it; "
                     "the lesson's is (0, 5.5)); y_range=None for a model without one")


def explain_prediction(source, user_row: int, item_row: int, y_range=_FROM_SOURCE) -> dict:
    """One prediction of EmbeddingDotBias, term by term, computed as its forward computes it:

        dot        = sum(user factors * movie factors)     (products: each factor's part)
        raw        = dot + (user bias + item bias)
        sigmoid    = sigmoid(raw)
        prediction = sigmoid * (high - low) + low          (y_range = (low, high))

    Equal to the model's own forward (same dtype, same order of operations). With y_range None
    the model has no sigmoid: sigmoid is None and prediction is raw.

    source: the model, its state dict, or a run's checkpoint. y_range: by default the model's
    own, or the checkpoint's config's; a bare state dict needs it passed.
    Returns a dict: user_row, item_row, products (a list, one per factor), dot, user_bias,
    item_bias, raw, sigmoid, low, high, prediction (plain floats).
    """
    import torch

    if y_range is _FROM_SOURCE:
        y_range = _y_range_of(source)
    state = _state_dict(source)
    if any(key not in state for key in _KEYS.values()):
        collab_arrays(state)  # raises the helpful error

    def weight(key):
        value = state[_KEYS[key]]
        return value.detach().cpu() if hasattr(value, "detach") else torch.as_tensor(value)

    u_weight, i_weight, u_bias, i_bias = (weight(k) for k in ("u_weight", "i_weight", "u_bias", "i_bias"))
    for what, row, table in (("user", user_row, u_weight), ("movie", item_row, i_weight)):
        if not 0 <= int(row) < len(table):
            raise ValueError(f"{what} row {row} is outside the {len(table)} rows (0 to {len(table) - 1}); "
                             "rows_for() turns ids into rows")
    user_row, item_row = int(user_row), int(item_row)
    with torch.no_grad():
        products = u_weight[user_row] * i_weight[item_row]       # as forward: (n_factors,)
        dot = products.sum()
        bias = u_bias[user_row].reshape(()) + i_bias[item_row].reshape(())
        raw = dot + bias
        sigmoid = torch.sigmoid(raw) if y_range is not None else None
        if y_range is None:
            low = high = None
            prediction = raw
        else:
            low, high = y_range
            prediction = sigmoid * (high - low) + low
    return {
        "user_row": user_row, "item_row": item_row,
        "products": [float(p) for p in products],
        "dot": float(dot), "user_bias": float(u_bias[user_row].reshape(())),
        "item_bias": float(i_bias[item_row].reshape(())), "raw": float(raw),
        "sigmoid": None if sigmoid is None else float(sigmoid),
        "low": None if low is None else float(low), "high": None if high is None else float(high),
        "prediction": float(prediction),
    }
