"""The collab recipe: EmbeddingDotBias on a ratings table, as lesson 4 trains it.

    learn = collab_learner(dls, n_factors=50, y_range=(0, 5.5))
    learn.fit_one_cycle(5, 5e-3, wd=0.1)
"""

from l4tui.data.ratings import IdMap, split_valid
from l4tui.train.config import RecipeConfig
from l4tui.train.options import recipe_config


@recipe_config("collab")
class CollabConfig(RecipeConfig):
    """Fields: the options collab takes, at collab's defaults (the OPTIONS table of
    l4tui/train/options.py: the lesson's values above), then collab's own settings below."""

    valid_pct: float = 0.2  # the share of ratings held out to validate

    def extra_problems(self) -> list[str]:
        return [] if 0 < self.valid_pct < 1 else ["valid_pct must be between 0 and 1"]


def load_checked_ratings(config: CollabConfig):
    """The ratings and their split (train_idx, valid_idx), once the data check has passed: the
    one check, made by start_run before the run exists and by the run itself."""
    from l4tui.data.checks import check_ratings, check_split
    from l4tui.data.ratings import open_ratings

    ratings = open_ratings(config.data)
    check_ratings(ratings, config.y_range)
    train_idx, valid_idx = split_valid(len(ratings.table), config.valid_pct, config.seed)
    check_split(ratings.source, ("rating", "ratings"), len(train_idx), len(valid_idx), config.bs,
                f"valid_pct {config.valid_pct:g} of them, rounded")
    return ratings, train_idx, valid_idx


def prepare_collab(config: CollabConfig, device: str, workspace=None, report=None):
    """Load the ratings, index users and items, build EmbeddingDotBias: a Task for the loop."""
    import math

    import numpy as np
    import torch
    import torch.nn.functional as F

    from l4tui.modelfiles import load_model_file
    from l4tui.train.batches import TensorBatches
    from l4tui.train.loop import Stage, Task

    ratings, train_idx, valid_idx = load_checked_ratings(config)
    # Ids are indexed from the training rows only, as fastai's Categorify is fitted; a user or
    # item seen only in the validation rows gets #na# (index 0), as it would in real use.
    maps = {"user": IdMap(ratings.table["user"].to_numpy()[train_idx]),
            "item": IdMap(ratings.table["item"].to_numpy()[train_idx])}
    users, _ = maps["user"].index(ratings.table["user"].to_numpy())
    items, _ = maps["item"].index(ratings.table["item"].to_numpy())
    x = torch.as_tensor(np.stack([users, items], axis=1), dtype=torch.long, device=device)
    y = torch.tensor(ratings.table["rating"].to_numpy(), dtype=torch.float32, device=device)  # a copy: pandas may hand out a read-only array
    x_train, y_train, x_valid, y_valid = x[train_idx], y[train_idx], x[valid_idx], y[valid_idx]

    # The baseline every model must beat: predict the training set's mean rating for everyone.
    baseline_rmse = (y_valid - y_train.mean()).pow(2).mean().sqrt().item()

    collab = load_model_file("collab", workspace)
    model = collab.EmbeddingDotBias(config.n_factors, len(maps["user"]), len(maps["item"]),
                                    y_range=config.y_range).to(device)

    def derive(results):
        results["valid_rmse"] = math.sqrt(results["valid_loss"])  # the loss is the MSE
        return results

    return Task(
        model=model, loss_func=F.mse_loss,
        train=TensorBatches((x_train,), y_train, config.bs, shuffle=True, seed=config.seed,
                            drop_last=True),
        valid=TensorBatches((x_valid,), y_valid, config.bs * 16, shuffle=False),
        stages=[Stage(config.epochs, config.lr)], derive=derive, wd=config.wd,
        start=dict(n_train=len(train_idx), n_valid=len(valid_idx), n_users=len(maps["user"]),
                   n_items=len(maps["item"]), baseline_rmse=baseline_rmse),
        # Row i + 1 of the embeddings belongs to users[i] (row 0 is #na#).
        extras={"users": maps["user"].ids.tolist(), "items": maps["item"].ids.tolist(),
                "baseline_rmse": baseline_rmse},
    )
