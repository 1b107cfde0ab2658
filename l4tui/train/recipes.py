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
    """Check the run's data before the run starts, so a bad file is reported to whoever started
    it (the CLI, the app) and no run folder is made for it. The run's own `prepare` loads its data
    through the same functions, so the check is one (l4tui/data/checks.py says what it covers).
    Texts are tokenized only when so few that a batch might not fill. A checkpoint named by a
    file (--encoder) is looked at here; one named by a run id is looked up by the
    CLI and the launch form, which know the runs folder."""
    from l4tui.train.collab import load_checked_ratings
    from l4tui.train.tabular import load_checked_table
    from l4tui.runs.checkpoints import find_checkpoint
    from l4tui.train.text import load_checked_classifier_texts, load_checked_lm_texts

    loaders = {"collab": load_checked_ratings, "tabular": load_checked_table,
               "lm": load_checked_lm_texts, "classifier": load_checked_classifier_texts}
    loaders[family](config)
    checkpoint = getattr(config, "encoder", "")  # a pretrained model: start_run's settle_preset read it
    if checkpoint and ("/" in checkpoint or checkpoint.endswith(".pt")):
        find_checkpoint(checkpoint, ".")


def training_items(family: str, config) -> int:
    """How many training items `config`'s data gives the recipe, as its own loader splits it
    (after the same data check): ratings, table rows, labelled texts, or for the language model
    rows of bptt tokens (text.lm_training_rows). The launch form checks the batch size with it."""
    if family == "collab":
        from l4tui.train.collab import load_checked_ratings

        return len(load_checked_ratings(config)[1])
    if family == "tabular":
        from l4tui.train.tabular import load_checked_table

        return int((~load_checked_table(config)[1]).sum())
    if family == "lm":
        from l4tui.train.text import lm_training_rows

        return lm_training_rows(config)
    from l4tui.train.text import load_checked_classifier_texts

    return int((~load_checked_classifier_texts(config)[-1]).sum())
