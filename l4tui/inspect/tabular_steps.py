"""The lesson's tabular steps, for the inspector: which columns are which, and what the procs do.

    columns = column_report(frame, processor)   # kind, cardinality, missing share, embedding size
    before, after = rows_before_after(frame, processor, n=8)   # FillMissing, Categorify, Normalize

The processor is `l4tui.data.tabular_procs.TabularProcessor`, the one training uses.
"""

from dataclasses import dataclass

import numpy as np


def emb_sz_rule(n_cat: int) -> int:
    """fastai's rule of thumb for an embedding's size (as models/tabular.py has it)."""
    return min(600, round(1.6 * n_cat ** 0.56))


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    kind: str  # "categorical", "continuous", "missing indicator" or "label"
    cardinality: int | None  # categories the model knows, #na# included (categorical only)
    missing: float  # share of the rows without a value
    emb_size: int | None  # the embedding's width for a categorical column
    note: str  # what the procs do to it


def fit_processor(frame, cat_names, cont_names, y_name):
    from l4tui.data.tabular_procs import TabularProcessor

    return TabularProcessor(list(cat_names), list(cont_names), y_name).fit([frame])


def column_report(frame, processor) -> list[ColumnInfo]:
    report = []
    for name in processor.cat_names:
        n = len(processor.categories[name])
        report.append(ColumnInfo(name, "categorical", n, float(frame[name].isna().mean()), emb_sz_rule(n),
                                 f"Categorify: {n - 1} categories -> 1..{n - 1}, missing or unseen -> 0 (#na#)"))
    for name in processor.cont_names:
        missing = float(frame[name].isna().mean())
        fill = f"FillMissing: median {processor.fill_values[name]:g}; " if name in processor.na_names else ""
        report.append(ColumnInfo(name, "continuous", None, missing, None,
                                 f"{fill}Normalize: (x - {processor.means[name]:.4g}) / {processor.stds[name]:.4g}"))
    for name in processor.na_names:
        report.append(ColumnInfo(f"{name}_na", "missing indicator", 3, 0.0, emb_sz_rule(3),
                                 f"added by FillMissing: was {name} missing? (a category of its own)"))
    if processor.y_name:
        report.append(ColumnInfo(processor.y_name, "label", len(processor.y_classes) or None,
                                 float(frame[processor.y_name].isna().mean()), None,
                                 f"what the model predicts: {', '.join(processor.y_classes[:4])}"))
    return report


def rows_before_after(frame, processor, n: int = 8):
    """`n` rows as they are, and as the model receives them: a list of dicts each (column ->
    text), so both can be shown side by side. Rows with a missing value come first (up to half),
    so FillMissing has something to show; then the first rows, in the table's order."""
    inputs = [*processor.cat_names, *processor.cont_names]
    with_missing = frame.index[frame[inputs].isna().any(axis=1)][: n // 2]
    chosen = list(dict.fromkeys([*with_missing, *frame.index[:n]]))[:n]
    rows = frame.loc[sorted(chosen)]
    x_cat, x_cont, _ = processor.transform(rows)
    before, after = [], []
    for i in range(len(rows)):
        raw = rows.iloc[i]
        before.append({name: _text(raw[name]) for name in [*processor.cat_names, *processor.cont_names]})
        done = {}
        for j, name in enumerate(processor.all_cat_names):
            index = int(x_cat[i, j])
            done[name] = f"{index} ({processor.categories[name][index]})"
        for j, name in enumerate(processor.cont_names):
            done[name] = f"{x_cont[i, j]:.3f}"
        after.append(done)
    return before, after


def _text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "(missing)"
    return str(value)
