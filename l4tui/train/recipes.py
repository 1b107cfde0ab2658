"""The training recipes, by family: each has a config (a dataclass) and a `prepare` that turns
the config into a Task for the loop."""

from l4tui.train.collab import CollabConfig, prepare_collab
from l4tui.train.tabular import TabularConfig, prepare_tabular
from l4tui.train.text import ClassifierConfig, LMConfig, prepare_classifier, prepare_lm

RECIPES = {
    "collab": (CollabConfig, prepare_collab),
    "tabular": (TabularConfig, prepare_tabular),
    "lm": (LMConfig, prepare_lm),
    "classifier": (ClassifierConfig, prepare_classifier),
}


def check_data(family: str, config) -> None:
    """Read the run's data before the run starts, so a bad file is reported to whoever started
    it (the CLI, the app), not only in the run's log. Texts are only looked at, not tokenized."""
    from l4tui.data.ratings import load_ratings
    from l4tui.data.sources import resolve
    from l4tui.train.tabular import load_table
    from l4tui.train.text import _texts

    if family == "collab":
        load_ratings(resolve(config.data))
    elif family == "tabular":
        load_table(config)
    else:
        _texts(config)
