"""The training recipes a run can follow, by family name."""

from l4tui.train.collab import CollabConfig, train_collab

RECIPES = {
    "collab": (CollabConfig, train_collab),
}
