"""A trained run's validation items, split exactly as its recipe split them: what the Results tab
and `l4tui predict` interpret (the confusion matrix, the top losses, the worst ratings).

    items = validation_items("classifier", checkpoint["config"])
    items.texts, items.targets, items.classes          # classifier: the held-out reviews
    items.frame, items.targets, items.classes          # tabular: the held-out rows (raw columns)
    items.users, items.items, items.ratings            # collab: the held-out ratings (raw ids)

The split comes from the recipe's own loaders (load_checked_classifier_texts, load_checked_table,
load_checked_ratings), given the config the run saved with its checkpoint, so the items are the
ones its validation loss was measured on. The data is read again from where the run read it: a
file that moved or changed since is reported in one line (ValueError), and a split that no longer
matches the checkpoint's classes is refused.
"""

from dataclasses import dataclass, field

FAMILIES = ("classifier", "tabular", "collab")


@dataclass
class ValidationItems:
    family: str
    n: int
    classes: list = field(default_factory=list)  # classifier: the class names
    targets: object = None  # classifier: numpy class ids (tabular: the processor makes them)
    texts: list = field(default_factory=list)  # classifier
    frame: object = None  # tabular: the validation rows, as the table has them
    users: object = None  # collab: raw ids, one per rating
    items: object = None
    ratings: object = None  # collab: the ratings (numpy floats)
    how: str = ""  # how the recipe chose them, in a few words


def validation_items(family: str, config: dict) -> ValidationItems:
    """The validation items of a run of `family` with this config (run.json's, or the one its
    checkpoint saved). ValueError, one line, for another family or data that can't be read."""
    import numpy as np

    from l4tui.train.recipes import RECIPES

    if family not in FAMILIES:
        raise ValueError(f"a {family} run has no validation items to interpret here "
                         "(classifier, tabular and collab runs have)")
    settings = RECIPES[family][0].from_dict(dict(config or {}))
    if family == "classifier":
        from l4tui.train.text import load_checked_classifier_texts

        data, labelled, classes, labels, valid = load_checked_classifier_texts(settings)
        chosen = [i for i, keep in zip(labelled, valid) if keep]
        return ValidationItems(family, len(chosen), classes=classes, targets=np.asarray(labels[valid]),
                               texts=[data.texts[i] for i in chosen], how=_how_texts(data, valid))
    if family == "tabular":
        from l4tui.train.tabular import describe_split, load_checked_table

        table, valid = load_checked_table(settings)
        frame = table.frame[valid]  # the checkpoint's processor turns them into ids and targets
        return ValidationItems(family, len(frame), frame=frame,
                               how=describe_split(settings))
    from l4tui.train.collab import load_checked_ratings

    ratings, _, valid_idx = load_checked_ratings(settings)
    table = ratings.table
    return ValidationItems(family, len(valid_idx), users=table["user"].to_numpy()[valid_idx],
                           items=table["item"].to_numpy()[valid_idx],
                           ratings=table["rating"].to_numpy()[valid_idx].astype(float),
                           how=f"valid_pct {settings.valid_pct:g} of the ratings, seed {settings.seed}")


def _how_texts(data, valid) -> str:
    return "the texts marked is_valid" if any(data.is_valid) else "20% of the labelled texts by chance"
