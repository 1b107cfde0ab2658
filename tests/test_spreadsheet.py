"""The lesson's spreadsheet: the crosstab, its predictions and loss, gradient descent against torch."""

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import REPO
from l4tui.inspect.spreadsheet import Spreadsheet, crosstab, from_checkpoint
from l4tui.modelfiles import load_model_file


def table(rows):
    return pd.DataFrame(rows, columns=["user", "item", "rating"])


def test_crosstab_takes_the_most_active_users_and_most_rated_items():
    ratings = table([(1, 10, 4), (1, 11, 3), (1, 12, 5), (2, 10, 2), (2, 11, 1), (3, 10, 5), (3, 10, 3),
                     (4, 13, 1)])
    sheet = crosstab(ratings, {10: "Ten"}, n_users=2, n_items=2)
    # user 1 has 3 ratings; users 2 and 3 have 2 each: the tie goes to the smaller id
    assert sheet.users == [1, 2] and sheet.items == [10, 11] and sheet.titles == ["Ten", "11"]
    assert sheet.ratings.tolist() == [[4, 3], [2, 1]]
    three = crosstab(ratings, n_users=3, n_items=2)
    assert three.ratings[2, 0] == 4 and np.isnan(three.ratings[2, 1])  # user 3 rated item 10 twice: mean
    one = crosstab(table([(7, 1, 5)]))  # a dataset of one user
    assert one.ratings.shape == (1, 1)
    with pytest.raises(ValueError, match="no ratings"):
        crosstab(table([]))


def test_loss_is_the_sum_of_squared_errors_over_the_rated_cells():
    sheet = crosstab(table([(1, 1, 4), (1, 2, 2), (2, 1, 5)]))
    sheet_ = Spreadsheet(sheet, np.array([[1.0, 1.0], [2.0, 0.0]]), np.array([[1.0, 0.5], [0.0, 1.0]]),
                         np.zeros(2), np.zeros(2))
    # predictions: user 1 -> (1.5, 1.0), user 2 -> (2.0, 0.0); user 2 never rated item 2
    assert sheet_.predictions().tolist() == [[1.5, 1.0], [2.0, 0.0]]
    assert sheet_.sse() == pytest.approx((4 - 1.5) ** 2 + (2 - 1.0) ** 2 + (5 - 2.0) ** 2)
    assert sheet_.loss() == pytest.approx(sheet_.sse() / 3)


@pytest.mark.parametrize("options", [{}, {"use_bias": True}, {"use_bias": True, "y_range": (0.0, 5.5)}])
def test_gradient_descent_matches_plain_torch(options):
    from l4tui.data.ratings import load_ratings

    ratings = load_ratings(REPO / "datasets" / "ml-sample")
    sheet = crosstab(ratings.table, ratings.titles)
    ours = Spreadsheet.random(sheet, seed=3, lr=0.3, **options)
    params = [torch.tensor(value, requires_grad=True) for value in
              (ours.user_factors, ours.item_factors, ours.user_bias, ours.item_bias)]
    target = torch.tensor(np.nan_to_num(sheet.ratings))
    known = torch.tensor(sheet.known)
    for _ in range(25):
        users, items, user_bias, item_bias = params
        activations = users @ items.T
        if options.get("use_bias"):
            activations = activations + user_bias[:, None] + item_bias[None, :]
        if options.get("y_range"):
            low, high = options["y_range"]
            activations = torch.sigmoid(activations) * (high - low) + low
        loss = ((activations - target)[known] ** 2).mean()
        loss.backward()
        with torch.no_grad():
            for param in params:
                if param.grad is not None:  # the biases, when the sheet has none, get no gradient
                    param -= 0.3 * param.grad
                    param.grad = None
    with torch.no_grad():
        users, items, user_bias, item_bias = params
        activations = users @ items.T
        if options.get("use_bias"):
            activations = activations + user_bias[:, None] + item_bias[None, :]
        if options.get("y_range"):
            activations = torch.sigmoid(activations) * 5.5
        expected = ((activations - target)[known] ** 2).mean().item()
    start = ours.loss()
    assert ours.step(25) == pytest.approx(expected, rel=1e-9)
    assert ours.loss() < start and len(ours.history) == 25 and ours.steps == 25
    assert np.allclose(ours.user_factors, params[0].detach().numpy())


def test_a_trained_model_fills_the_sheet_with_its_own_predictions():
    collab = load_model_file("collab", REPO)
    torch.manual_seed(0)
    model = collab.EmbeddingDotBias(4, n_users=4, n_items=4, y_range=(0.0, 5.5))
    ratings = table([(10, 100, 4), (10, 200, 3), (20, 100, 5), (30, 300, 1)])
    sheet = crosstab(ratings)
    checkpoint = {"model": model.state_dict(), "users": [10, 20, 30], "items": [100, 200, 300],
                  "config": {"y_range": [0.0, 5.5]}}
    filled = from_checkpoint(checkpoint, sheet, "run-1")
    assert filled.use_bias and filled.y_range == (0.0, 5.5) and filled.source == "run-1"
    # The model's own forward pass on each (user, item): user 10 is row 1 of the embeddings ...
    rows = {10: 1, 20: 2, 30: 3}
    cols = {100: 1, 200: 2, 300: 3}
    x = torch.tensor([[rows[u], cols[i]] for u in sheet.users for i in sheet.items])
    with torch.no_grad():
        expected = model(x).numpy().reshape(len(sheet.users), len(sheet.items))
    assert np.allclose(filled.predictions(), expected, atol=1e-6)
    with pytest.raises(ValueError, match="not an EmbeddingDotBias"):
        from_checkpoint({"model": {}, "users": [1], "items": [1]}, sheet)
    with pytest.raises(ValueError, match="collab run"):
        from_checkpoint({"model": model.state_dict()}, sheet)


def test_the_sheet_is_read_by_name_and_filled_from_a_runs_checkpoint(tmp_path, small_ratings):
    from l4tui.inspect.spreadsheet import load_crosstab, load_trained_sheet
    from l4tui.runs.checkpoints import BEST, FOLDER

    sheet, source = load_crosstab(str(small_ratings))
    assert source.name == "u.data" and len(sheet.users) == len(sheet.items) == 15
    bundled, bundled_source = load_crosstab()
    assert bundled_source.parent.name == "ml-sample"
    run_dir = tmp_path / "run-7"
    with pytest.raises(ValueError, match="no checkpoint yet"):
        load_trained_sheet(run_dir, sheet)
    collab = load_model_file("collab", REPO)
    model = collab.EmbeddingDotBias(4, n_users=len(sheet.users) + 1, n_items=len(sheet.items) + 1, y_range=(0.0, 5.5))
    (run_dir / FOLDER).mkdir(parents=True)
    torch.save({"model": model.state_dict(), "users": list(sheet.users), "items": list(sheet.items),
                "config": {"y_range": [0.0, 5.5]}}, run_dir / FOLDER / BEST)
    filled = load_trained_sheet(run_dir, sheet)
    assert filled.source == "run-7" and filled.predictions().shape == (15, 15)
