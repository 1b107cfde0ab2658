"""What every recipe's config shares: reading it from run.json, writing it back, checking it."""

from dataclasses import asdict, dataclass, fields

# The lesson's tabular model and text classifier normalise each batch (BatchNorm), which a batch
# of one can't be: torch stops the run on its first such batch.
BATCHNORM_BS = "bs must be at least 2 (the model's BatchNorm layers need two items a batch)"


@dataclass
class RecipeConfig:
    """The base of each recipe's config dataclass (which adds epochs, lr, wd, bs at least).

    Its own fields shape fastai's one-cycle schedule, the same for every recipe: the lr starts at
    lr/div, peaks after `pct_start` of the steps, and momentum runs `moms` (high, low, high);
    moms=None keeps the recipe's own (the AWD-LSTM's are lower, as in fastai's text learners).
    `activation_stats_every` = N > 0 records activation statistics (mean, std, share near zero,
    histogram per layer: fastai's ActivationStats with_hist) every N training batches, as
    "activations" events; 0, the default, records none (l4tui/train/activation_stats.py). 50
    costs 1-3% of an epoch on a CPU; 25, 3-5% (bench/train.py --activation-stats 25,50).
    """

    div: float = 25.0
    pct_start: float = 0.25
    moms: tuple[float, float, float] | None = None
    activation_stats_every: int = 0

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
        problems = []
        if self.epochs < 1:
            problems.append("epochs must be at least 1")
        if not self.lr > 0:
            problems.append("lr must be positive")
        if self.wd < 0:
            problems.append("wd must not be negative")
        if self.bs < 1:
            problems.append("bs must be at least 1")
        if not self.div >= 1:
            problems.append("div must be at least 1 (the lr starts at lr/div)")
        if not 0 < self.pct_start < 1:
            problems.append("pct_start must be between 0 and 1")
        if self.moms is not None and (len(self.moms) != 3 or not all(0 <= m < 1 for m in self.moms)):
            problems.append("moms must be three numbers from 0 to below 1, e.g. 0.95,0.85,0.95")
        every = self.activation_stats_every
        if isinstance(every, bool) or not isinstance(every, int) or every < 0:
            problems.append("activation_stats_every must be a whole number: 0 (off) or N (every N batches)")
        problems += self.extra_problems()
        if problems:
            raise ValueError("; ".join(problems))

    def extra_problems(self) -> list[str]:
        return []
