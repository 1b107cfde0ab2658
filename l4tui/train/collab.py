"""The collab recipe: EmbeddingDotBias on a ratings table, as lesson 4 trains it.

    learn = collab_learner(dls, n_factors=50, y_range=(0, 5.5))
    learn.fit_one_cycle(5, 5e-3, wd=0.1)
"""

from dataclasses import asdict, dataclass, field

from l4tui.data.ratings import IdMap, load_ratings, split_valid
from l4tui.paths import default_ratings_dir


@dataclass
class CollabConfig:
    data: str = field(default_factory=lambda: str(default_ratings_dir()))
    epochs: int = 5
    lr: float = 5e-3
    wd: float = 0.1
    bs: int = 64
    n_factors: int = 50
    y_range: tuple[float, float] = (0.0, 5.5)
    valid_pct: float = 0.2
    seed: int = 42
    device: str = "auto"

    def validate(self) -> None:
        problems = []
        if self.epochs < 1:
            problems.append("epochs must be at least 1")
        if not self.lr > 0:
            problems.append("lr must be positive")
        if self.wd < 0:
            problems.append("wd must not be negative")
        if self.bs < 1:
            problems.append("bs must be at least 1")
        if self.n_factors < 1:
            problems.append("n_factors must be at least 1")
        if not 0 < self.valid_pct < 1:
            problems.append("valid_pct must be between 0 and 1")
        if problems:
            raise ValueError("; ".join(problems))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "CollabConfig":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "y_range" in known and known["y_range"] is not None:
            known["y_range"] = tuple(known["y_range"])
        return cls(**known)


def train_collab(config: CollabConfig, events, should_stop=lambda: False, workspace=None):
    """Load the ratings, build EmbeddingDotBias, fit one cycle. Returns (model, metrics, extras)."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from l4tui.modelfiles import load_model_file
    from l4tui.train.device import pick_device
    from l4tui.train.loop import fit_one_cycle

    torch.manual_seed(config.seed)
    device = pick_device(config.device)
    ratings = load_ratings(config.data)
    train_idx, valid_idx = split_valid(len(ratings.table), config.valid_pct, config.seed)
    # Ids are indexed from the training rows only, as fastai's Categorify is fitted; a user or
    # item seen only in the validation rows gets #na# (index 0), as it would in real use.
    maps = {"user": IdMap(ratings.table["user"].to_numpy()[train_idx]),
            "item": IdMap(ratings.table["item"].to_numpy()[train_idx])}
    users, _ = maps["user"].index(ratings.table["user"].to_numpy())
    items, _ = maps["item"].index(ratings.table["item"].to_numpy())
    x = torch.as_tensor(np.stack([users, items], axis=1), dtype=torch.long, device=device)
    y = torch.as_tensor(ratings.table["rating"].to_numpy(), dtype=torch.float32, device=device)
    x_train, y_train, x_valid, y_valid = x[train_idx], y[train_idx], x[valid_idx], y[valid_idx]

    # The baseline every model must beat: predict the training set's mean rating for everyone.
    baseline_rmse = (y_valid - y_train.mean()).pow(2).mean().sqrt().item()

    collab = load_model_file("collab", workspace)
    model = collab.EmbeddingDotBias(config.n_factors, len(maps["user"]), len(maps["item"]),
                                    y_range=config.y_range).to(device)
    events.write("start", device=device, n_train=len(train_idx), n_valid=len(valid_idx),
                 n_users=len(maps["user"]), n_items=len(maps["item"]),
                 baseline_rmse=baseline_rmse, epochs=config.epochs)
    metrics = fit_one_cycle(
        model, F.mse_loss, x_train, y_train, x_valid, y_valid,
        epochs=config.epochs, lr_max=config.lr, wd=config.wd, bs=config.bs, events=events,
        should_stop=should_stop,
        metrics={"valid_rmse": lambda p, t: (p - t).pow(2).mean().sqrt()},
    )
    metrics["baseline_rmse"] = baseline_rmse
    # Row i + 1 of the embeddings belongs to users[i] (row 0 is #na#).
    extras = {"users": maps["user"].ids.tolist(), "items": maps["item"].ids.tolist()}
    return model, metrics, extras
