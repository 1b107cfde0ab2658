"""What every recipe's config shares: reading it from run.json, writing it back, checking it."""

from dataclasses import asdict, fields


class RecipeConfig:
    """Mixed into each recipe's config dataclass (fields epochs, lr, wd, bs at least)."""

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
        problems += self.extra_problems()
        if problems:
            raise ValueError("; ".join(problems))

    def extra_problems(self) -> list[str]:
        return []
