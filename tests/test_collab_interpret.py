"""Interpreting a collab model: biases, PCA of the factors, similar movies, one prediction term by term."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from l4tui.data.ratings import IdMap, load_ratings
from l4tui.inspect.collab_interpret import (collab_arrays, explain_prediction, factor_components, find_movie,
                                            movie_biases, rows_for, similar_movies)
from l4tui.modelfiles import load_model_file
from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def ratings():
    return load_ratings(SAMPLE)


def hand_set_model(i_weight, i_bias, n_users=3, y_range=(0.0, 5.5)):
    collab = load_model_file("collab")
    i_weight = torch.tensor(i_weight, dtype=torch.float32)
    model = collab.EmbeddingDotBias(i_weight.shape[1], n_users, len(i_weight), y_range=y_range)
    with torch.no_grad():
        model.i_weight.weight.copy_(i_weight)
        model.i_bias.weight.copy_(torch.tensor(i_bias, dtype=torch.float32)[:, None])
    return model


# Movies 1-5 of the sample; row 0 is #na#, set so that it would come first if it were not skipped.
ITEMS = [1, 2, 3, 4, 5]
BIASES = [-100.0, 0.3, -0.5, 0.9, 0.0, -0.2]
FACTORS = [[1.0, 0.0], [1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [-1.0, 0.0], [2.0, 0.1]]


def test_lowest_and_highest_biases_come_in_order_with_mean_ratings(ratings):
    model = hand_set_model(FACTORS, BIASES)
    lowest, highest = movie_biases(model.i_bias.weight, ITEMS, ratings.titles, ratings.table, n=2)
    assert [row.title for row in lowest] == [ratings.titles[2], ratings.titles[5]]
    assert [row.title for row in highest] == [ratings.titles[3], ratings.titles[1]]
    assert [row.bias for row in lowest] == pytest.approx([-0.5, -0.2])
    table = ratings.table
    for row, item in zip(lowest + highest, [2, 5, 3, 1]):
        rated = table[table["item"] == item]["rating"]
        assert row.n_ratings == len(rated) > 0
        assert row.mean_rating == pytest.approx(rated.mean())
    # Every movie when n is large; from a numpy array, a Ratings, or the checkpoint's arrays.
    lowest, highest = movie_biases(collab_arrays(model)["i_bias"], ITEMS, ratings.titles, ratings, n=99)
    assert len(lowest) == len(highest) == 5 and lowest == highest[::-1]


def test_a_movie_without_ratings_or_title_still_has_a_row():
    lowest, _ = movie_biases(np.array([0.0, 1.0, -1.0]), [77, 88], {77: "Seventy-seven"}, None)
    assert lowest[0].title == "item 88" and lowest[0].n_ratings == 0 and math.isnan(lowest[0].mean_rating)
    assert lowest[1].title == "Seventy-seven"


def test_an_id_list_that_does_not_fit_the_weights_is_named():
    with pytest.raises(ValueError, match="6 rows but the run lists 4 movies"):
        movie_biases(np.zeros(6), [1, 2, 3, 4], {}, None)


def test_similar_movies_by_cosine_skipping_itself_and_na(ratings):
    model = hand_set_model(FACTORS, BIASES)
    titles = ratings.titles
    similar = similar_movies(model.i_weight, ITEMS, titles, titles[1], n=4)
    # row 1 points along x: row 5 (longer, same way), then 2, then 3 (at right angles), then 4
    assert [title for title, _ in similar] == [titles[5], titles[2], titles[3], titles[4]]
    assert similar[-1][1] == pytest.approx(-1.0)
    assert similar_movies(model.i_weight, ITEMS, titles, 1, n=4) == similar  # by id
    assert similar_movies(model.i_weight, ITEMS, titles, titles[1].upper(), n=1)[0][0] == titles[5]


def test_an_unknown_movie_gets_close_titles_suggested(ratings):
    titles = ratings.titles
    weights = np.ones((len(ITEMS) + 1, 2))
    # A letter left out: the fuzzy matcher still finds it (the characters typed, in order).
    assert find_movie(titles[1].replace("Mountain", "Mountan"), ITEMS, titles) == 1
    misspelt = titles[1].replace("Mountain", "Mountian")  # two letters swapped: a suggestion
    with pytest.raises(ValueError, match="did you mean") as error:
        similar_movies(weights, ITEMS, titles, misspelt)
    assert titles[1] in str(error.value)
    with pytest.raises(ValueError, match="not in this run's 5 movies"):
        similar_movies(weights, ITEMS, titles, 999)
    with pytest.raises(ValueError, match="no movie 'zzzz'"):
        find_movie("zzzz", ITEMS, titles)


def test_part_of_a_title_finds_the_one_movie_containing_it():
    titles = {1: "Silence of the Lambs, The (1991)", 2: "Star Wars (1977)", 3: "Star Trek (1979)"}
    assert find_movie("silence of the lambs", [1, 2, 3], titles) == 1
    with pytest.raises(ValueError, match="2 movies match 'Star'"):
        find_movie("Star", [1, 2, 3], titles)


def test_pca_names_the_main_direction_with_the_movies_at_its_ends():
    rng = np.random.default_rng(0)
    items = [10, 20, 30, 40, 50, 60, 70]
    titles = {item: f"movie {item}" for item in items}
    position = {10: -3.0, 20: -1.0, 30: 0.0, 40: 1.0, 50: 2.5, 60: 0.5, 70: 50.0}
    weights = np.zeros((len(items) + 1, 4))
    for row, item in enumerate(items, start=1):
        weights[row] = position[item] * np.array([0.6, 0.8, 0.0, 0.0]) + rng.normal(0, 0.01, 4)
    # 70 has the fewest ratings and a wild factor: it must be left out of the top 6.
    counts = {10: 9, 20: 8, 30: 7, 40: 6, 50: 5, 60: 4, 70: 1}
    table = pd.DataFrame([(u, item, 3.0) for item, n in counts.items() for u in range(n)],
                         columns=["user", "item", "rating"])
    components = factor_components(weights, items, titles, table, n_top_movies=6, n_components=3, n=2)
    assert [c.number for c in components] == [1, 2, 3]
    first = components[0]
    assert first.variance_share > 0.99
    assert sum(c.variance_share for c in components) <= 1 + 1e-9
    assert [c.variance_share for c in components] == sorted((c.variance_share for c in components), reverse=True)
    ends = {first.highest[0][0], first.lowest[0][0]}
    assert ends == {"movie 10", "movie 50"}  # -3 and 2.5; 70 (at 50) is not a top movie
    # The movie farthest from the centre (10) scores positive: the same weights, the same ends.
    assert first.highest[0][0] == "movie 10"
    assert first.highest[0][1] > first.highest[1][1] and first.lowest[0][1] < first.lowest[1][1]


def test_pca_matches_fastais_pca_up_to_sign(ratings):
    """fastai: x = x - x.mean(0); U, S, V = torch.svd(x.t()); x @ U[:, :k]."""
    table = ratings.table
    items = IdMap(table["item"]).ids.tolist()
    weights = np.random.default_rng(1).normal(size=(len(items) + 1, 6))
    components = factor_components(weights, items, ratings.titles, ratings, n_top_movies=50, n=50)
    counts = table.groupby("item").size()
    top = sorted(counts.index, key=lambda item: (-counts[item], item))[:50]
    x = torch.tensor(weights[[items.index(item) + 1 for item in top]])
    x = x - x.mean(0)
    u, _, _ = torch.svd(x.t())
    fastai = (x @ u[:, :3]).numpy()
    for k, component in enumerate(components):
        ours = {title: score for title, score in component.highest}
        theirs = {ratings.titles[item]: score for item, score in zip(top, fastai[:, k])}
        assert ours.keys() == theirs.keys()
        first = ratings.titles[top[0]]
        sign = np.sign(ours[first] * theirs[first])
        for title in ours:
            assert ours[title] == pytest.approx(sign * theirs[title], abs=1e-9)


def test_explain_prediction_equals_the_models_forward_and_the_formula():
    collab = load_model_file("collab")
    torch.manual_seed(0)
    model = collab.EmbeddingDotBias(n_factors=50, n_users=30, n_items=40, y_range=(0.0, 5.5))
    with torch.no_grad():
        for embedding in (model.u_weight, model.i_weight, model.u_bias, model.i_bias):
            embedding.weight.normal_(0, 0.4)
    for user_row, item_row in [(0, 0), (1, 2), (29, 39), (7, 13)]:
        parts = explain_prediction(model, user_row, item_row)
        forward = model(torch.tensor([[user_row, item_row]])).item()
        assert abs(parts["prediction"] - forward) < 1e-6
        u = model.u_weight.weight[user_row].detach().double()
        i = model.i_weight.weight[item_row].detach().double()
        ub, ib = model.u_bias.weight[user_row, 0].item(), model.i_bias.weight[item_row, 0].item()
        dot = float((u * i).sum())
        raw = dot + ub + ib
        sigmoid = 1 / (1 + math.exp(-raw))
        assert parts["dot"] == pytest.approx(dot, abs=1e-6)
        assert sum(parts["products"]) == pytest.approx(dot, abs=1e-5) and len(parts["products"]) == 50
        assert (parts["user_bias"], parts["item_bias"]) == pytest.approx((ub, ib))
        assert parts["raw"] == pytest.approx(raw, abs=1e-6)
        assert parts["sigmoid"] == pytest.approx(sigmoid, abs=1e-6)
        assert parts["prediction"] == pytest.approx(sigmoid * 5.5 + 0.0, abs=1e-6)
        assert (parts["low"], parts["high"]) == (0.0, 5.5)


def test_explain_prediction_from_a_checkpoint_found_by_real_ids(ratings):
    collab = load_model_file("collab")
    users, items = IdMap(ratings.table["user"]), IdMap(ratings.table["item"])
    torch.manual_seed(1)
    model = collab.EmbeddingDotBias(8, len(users), len(items), y_range=(0.0, 5.5))
    checkpoint = {"model": model.state_dict(), "users": users.ids.tolist(), "items": items.ids.tolist(),
                  "config": {"y_range": [0.0, 5.5]}}
    user_id, item_id = int(ratings.table["user"].iloc[0]), int(ratings.table["item"].iloc[0])
    user_row, item_row = rows_for(user_id, item_id, checkpoint["users"], checkpoint["items"])
    assert (user_row, item_row) == (users.index([user_id])[0][0], items.index([item_id])[0][0])
    parts = explain_prediction(checkpoint, user_row, item_row)
    assert abs(parts["prediction"] - model(torch.tensor([[user_row, item_row]])).item()) < 1e-6
    # A bare state dict needs y_range; None is a model without one: no sigmoid.
    with pytest.raises(ValueError, match="pass y_range"):
        explain_prediction(model.state_dict(), user_row, item_row)
    assert explain_prediction(model.state_dict(), user_row, item_row, (0.0, 5.5)) == parts
    no_range = explain_prediction(model.state_dict(), user_row, item_row, None)
    assert no_range["sigmoid"] is None and no_range["prediction"] == no_range["raw"] == parts["raw"]
    with pytest.raises(ValueError, match="outside the"):
        explain_prediction(checkpoint, len(users), 0)


def test_unknown_ids_are_the_cold_start_problem():
    users, items = [5, 9, 12], [1, 2]
    assert rows_for(9, 2, users, items) == (2, 2)
    assert rows_for("12", np.int64(1), users, items) == (3, 1)
    with pytest.raises(ValueError, match="user 9999 is not in this run's 3 users; a new user is the cold-start"):
        rows_for(9999, 1, users, items)
    with pytest.raises(ValueError, match="movie 3 is not in this run's 2 movies"):
        rows_for(5, 3, users, items)


def test_a_model_without_dot_product_is_refused():
    collab = load_model_file("collab")
    with pytest.raises(ValueError, match="not an EmbeddingDotBias"):
        collab_arrays(collab.EmbeddingNN(4, 5))
    arrays = collab_arrays({"model": hand_set_model(FACTORS, BIASES).state_dict()})
    assert arrays["i_weight"].shape == (6, 2) and arrays["i_bias"].shape == (6,) and arrays["u_bias"].shape == (3,)
