"""The tabular inspector's steps: column kinds, cardinalities, embedding sizes, rows before and after."""

import numpy as np
import pandas as pd

from conftest import REPO
from l4tui.data.tables import load_adult_csv
from l4tui.inspect.tabular_steps import column_report, emb_sz_rule, fit_processor, rows_before_after


def frame():
    return pd.DataFrame({"job": ["a", "b", None, "a", "c"], "age": [20.0, None, 40.0, 30.0, 50.0],
                         "empty": [np.nan] * 5, "y": ["no", "yes", "no", "yes", "no"]})


def test_columns_get_their_kind_size_and_what_the_procs_do():
    data = frame()
    processor = fit_processor(data, ["job"], ["age"], "y")
    report = {info.name: info for info in column_report(data, processor)}
    assert report["job"].kind == "categorical" and report["job"].cardinality == 4  # #na#, a, b, c
    assert report["job"].missing == 0.2 and report["job"].emb_size == emb_sz_rule(4) == 3
    assert report["age"].kind == "continuous" and "median 35" in report["age"].note
    assert report["age_na"].kind == "missing indicator"
    assert report["y"].kind == "label" and report["y"].cardinality == 2


def test_rows_before_and_after_fill_categorify_and_normalize():
    data = frame()
    processor = fit_processor(data, ["job"], ["age"], "y")
    before, after = rows_before_after(data, processor, n=4)
    assert [row["age"] for row in before][:2] == ["20.0", "(missing)"]  # the missing rows come first
    assert after[1]["age_na"] == "2 (True)" and after[0]["age_na"] == "1 (False)"
    assert after[1]["age"] == f"{(35.0 - processor.means['age']) / processor.stds['age']:.3f}"  # filled, normalized
    assert after[2]["job"] == "0 (#na#)" and after[0]["job"] == "1 (a)"


def test_a_column_with_only_missing_values_and_switching_kinds():
    data = frame()
    as_category = fit_processor(data, ["job", "empty"], ["age"], "y")
    [empty] = [info for info in column_report(data, as_category) if info.name == "empty"]
    assert empty.cardinality == 1 and empty.missing == 1.0  # only #na#
    as_number = fit_processor(data, ["job"], ["age", "empty"], "y")
    before, after = rows_before_after(data, as_number)
    assert all(row["empty"] == "(missing)" for row in before)
    assert all(np.isfinite(float(row["empty"])) for row in after)  # filled, never NaN


def test_the_bundled_adult_sample():
    dataset = load_adult_csv(REPO / "datasets" / "adult-sample" / "adult.csv")
    processor = fit_processor(dataset.frame, dataset.cat_names, dataset.cont_names, dataset.y_name)
    report = column_report(dataset.frame, processor)
    assert [info.name for info in report if info.kind == "categorical"] == dataset.cat_names
    before, after = rows_before_after(dataset.frame, processor)
    assert len(before) == len(after) == 8 and any("(missing)" in row.values() for row in before)
