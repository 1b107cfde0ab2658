"""What every recipe's config shares: reading it from run.json, writing it back, checking it.

A recipe's config class is made by `options.recipe_config(recipe)`: its fields are the options
that recipe takes (l4tui/train/options.py, with the recipe's defaults), then its own settings.
"""

from dataclasses import asdict, dataclass, fields

from l4tui.train import options


@dataclass
class RecipeConfig:
    """The base of each recipe's config dataclass.

    The options every recipe takes shape fastai's one-cycle schedule: the lr starts at lr/div,
    peaks after `pct_start` of the steps, and momentum runs `moms` (high, low, high); moms=None
    keeps the recipe's own (the AWD-LSTM's are lower, as in fastai's text learners).
    `activation_stats_every` = N > 0 records activation statistics (mean, std, share near zero,
    histogram per layer: fastai's ActivationStats with_hist) every N training batches, as
    "activations" events; 0, the default, records none (l4tui/train/activation_stats.py). 50
    costs 1-3% of an epoch on a CPU; 25, 3-5% (bench/train.py --activation-stats 25,50).
    """

    recipe = ""  # set by options.recipe_config

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict):
        names = {f.name for f in fields(cls)}
        known = {k: v for k, v in data.items() if k in names and v is not None}
        for name, value in known.items():
            if isinstance(value, list):
                known[name] = tuple(value)  # JSON has no tuples
        return cls(**known)

    def validate(self) -> None:
        problems = options.problems(self.recipe, self) + self.extra_problems()
        if problems:
            raise ValueError("; ".join(problems))

    def extra_problems(self) -> list[str]:
        """The problems of the recipe's own settings (its options' are the declaration's)."""
        return []
