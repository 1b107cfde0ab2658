"""The tabular recipe: TabularModel on the adult census data, as lesson 4 trains it.

    procs = [FillMissing, Categorify, Normalize]
    dls = TabularDataLoaders.from_csv(path/'adult.csv', y_names='salary', cat_names=..., cont_names=..., procs=procs)
    learn = tabular_learner(dls, layers=[200, 100], metrics=accuracy)
    learn.fit_one_cycle(3, 1e-2)
"""

from l4tui.train.config import RecipeConfig
from l4tui.train.options import recipe_config


@recipe_config("tabular")
class TabularConfig(RecipeConfig):
    """Fields: the options tabular takes, at tabular's defaults (the OPTIONS table of
    l4tui/train/options.py: the lesson's values above), then tabular's own settings below."""

    cat_names: tuple[str, ...] | None = None  # None: the lesson's columns for adult, guessed otherwise
    cont_names: tuple[str, ...] | None = None
    valid_pct: float = 0.2  # each row validates with this chance

    def extra_problems(self) -> list[str]:
        return [] if 0 < self.valid_pct < 1 else ["valid_pct must be between 0 and 1"]


def load_table(config: TabularConfig):
    from l4tui.data.tables import open_table

    return open_table(config.data, config.y_name, config.cat_names, config.cont_names)


def valid_rows(n_rows: int, config: TabularConfig):
    """True for the rows that validate, seeded by config.seed. config.split "random": each row
    with probability valid_pct; "fastai": the rows fastai's RandomSplitter(valid_pct, seed) takes,
    the first int(valid_pct * n_rows) of torch.randperm(n_rows) after torch.manual_seed(seed)."""
    import numpy as np

    if config.split == "fastai":
        return fastai_valid_rows(n_rows, config.valid_pct, config.seed)
    return np.random.default_rng(config.seed).random(n_rows) < config.valid_pct


def fastai_valid_rows(n_rows: int, valid_pct: float, seed: int):
    """fastai's RandomSplitter's validation rows as a mask. A generator seeded as
    torch.manual_seed(seed) seeds the default one gives the same permutation, without changing
    the global random state the model's initial weights come from."""
    import numpy as np
    import torch

    order = torch.randperm(n_rows, generator=torch.Generator().manual_seed(seed)).numpy()
    valid = np.zeros(n_rows, dtype=bool)
    valid[order[:int(valid_pct * n_rows)]] = True
    return valid


def describe_split(config: TabularConfig) -> str:
    if config.split == "fastai":
        return f"fastai's RandomSplitter({config.valid_pct:g}, seed {config.seed})"
    return f"each row by chance {config.valid_pct:g}, seed {config.seed}"


def load_checked_table(config: TabularConfig):
    """The table and its validation rows, once the data check has passed: the one check, made by
    start_run before the run exists and by the run itself."""
    from l4tui.data.checks import check_label_split, check_split, check_table

    table = load_table(config)
    check_table(table)
    valid = valid_rows(len(table.frame), config)
    check_split(table.source, ("row", "rows"), int((~valid).sum()), int(valid.sum()), config.bs,
                describe_split(config))
    check_label_split(table, valid)
    return table, valid


def prepare_tabular(config: TabularConfig, device: str, workspace=None, report=None):
    import torch
    import torch.nn.functional as F

    from l4tui.data.tabular_procs import TabularProcessor
    from l4tui.modelfiles import load_model_file
    from l4tui.train.batches import TensorBatches
    from l4tui.train.loop import Stage, Task

    table, valid = load_checked_table(config)
    frame = table.frame
    # FillMissing, Categorify and Normalize learn from the training rows only.
    processor = TabularProcessor(table.cat_names, table.cont_names, table.y_name).fit([frame[~valid]])

    def tensors(rows):
        x_cat, x_cont, y = processor.transform(rows)
        return (torch.as_tensor(x_cat, device=device), torch.as_tensor(x_cont, device=device)), \
            torch.as_tensor(y, device=device)

    train_inputs, y_train = tensors(frame[~valid])
    valid_inputs, y_valid = tensors(frame[valid])
    majority = float(torch.bincount(y_valid).max().item() / len(y_valid))

    tabular = load_model_file("tabular", workspace)
    model = tabular.TabularModel(tabular.get_emb_szs(processor.cardinalities), len(table.cont_names),
                                 len(processor.y_classes), layers=list(config.layers)).to(device)
    return Task(
        model=model, loss_func=F.cross_entropy,
        train=TensorBatches(train_inputs, y_train, config.bs, shuffle=True, seed=config.seed,
                            drop_last=True),
        valid=TensorBatches(valid_inputs, y_valid, config.bs * 16, shuffle=False),
        stages=[Stage(config.epochs, config.lr)], wd=config.wd,
        metrics={"accuracy": lambda preds, target: (preds.argmax(1) == target).float().mean()},
        best_metric="accuracy",
        start=dict(n_train=int((~valid).sum()), n_valid=int(valid.sum()), classes=processor.y_classes,
                   cardinalities=processor.cardinalities, baseline_accuracy=majority),
        extras={"processor": _plain(processor), "baseline_accuracy": majority},
    )


def _plain(processor) -> dict:
    """The processor as plain lists and numbers, so checkpoints load with weights_only=True."""
    from dataclasses import asdict

    return asdict(processor)
