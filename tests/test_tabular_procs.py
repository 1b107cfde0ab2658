import numpy as np
import pandas as pd
import pytest

from l4tui.data.tabular_procs import NA, TabularProcessor, process_csv


def frame(rows):
    return pd.DataFrame(rows, columns=["color", "size", "weight", "label"])


TRAIN = frame([["red", 1.0, 10.0, "a"], ["blue", 2.0, np.nan, "b"], ["red", 3.0, 30.0, "a"],
               [np.nan, 4.0, 20.0, "b"]])


def fitted():
    return TabularProcessor(["color"], ["size", "weight"], "label").fit([TRAIN])


def test_categorify_puts_na_first_and_sorts():
    processor = fitted()
    assert processor.categories["color"] == [NA, "blue", "red"]
    x_cat, _, y = processor.transform(TRAIN)
    assert x_cat[:, 0].tolist() == [2, 1, 2, 0]  # missing -> #na#
    assert y.tolist() == [0, 1, 0, 1]


def test_unseen_categories_map_to_na():
    x_cat, _, _ = fitted().transform(frame([["green", 1.0, 1.0, "a"]]))
    assert x_cat[0, 0] == 0


def test_fill_missing_adds_an_na_column_and_uses_the_training_median():
    processor = fitted()
    assert processor.na_names == ["weight"]  # size had nothing missing
    assert processor.all_cat_names == ["color", "weight_na"]
    assert processor.cardinalities == [3, 3]
    assert processor.fill_values["weight"] == 20.0
    x_cat, x_cont, _ = processor.transform(TRAIN)
    assert x_cat[:, 1].tolist() == [1, 2, 1, 1]  # True (2) where weight was missing
    filled = np.array([10.0, 20.0, 30.0, 20.0])
    assert np.allclose(x_cont[:, 1], (filled - filled.mean()) / filled.std(), atol=1e-5)


def test_normalize_uses_training_statistics_only():
    processor = fitted()
    _, x_cont, _ = processor.transform(frame([["red", 100.0, 10.0, "a"]]))
    sizes = np.array([1.0, 2.0, 3.0, 4.0])
    assert x_cont[0, 0] == pytest.approx((100 - sizes.mean()) / sizes.std(), rel=1e-5)


def test_fitting_in_chunks_equals_fitting_at_once():
    whole = fitted()
    chunked = TabularProcessor(["color"], ["size", "weight"], "label").fit([TRAIN.iloc[:1], TRAIN.iloc[1:3],
                                                                             TRAIN.iloc[3:]])
    assert chunked.categories == whole.categories and chunked.fill_values == whole.fill_values
    assert chunked.means == pytest.approx(whole.means) and chunked.stds == pytest.approx(whole.stds)


def test_unknown_label_is_a_clear_error():
    with pytest.raises(ValueError, match="label 'c' of column 'label' was not in the training rows"):
        fitted().transform(frame([["red", 1.0, 1.0, "c"]]))


def test_save_and_load(tmp_path):
    processor = fitted()
    processor.save(tmp_path / "p.json")
    again = TabularProcessor.load(tmp_path / "p.json")
    assert np.array_equal(again.transform(TRAIN)[1], processor.transform(TRAIN)[1])
    (tmp_path / "bad.json").write_text("[1, 2")
    with pytest.raises(ValueError, match="not a saved tabular processor"):
        TabularProcessor.load(tmp_path / "bad.json")


def test_process_csv_streams_in_chunks_and_matches_in_memory(tmp_path):
    rng = np.random.default_rng(0)
    n = 5000
    data = pd.DataFrame({
        "color": rng.choice(["red", "blue", "green", ""], n),
        "size": rng.normal(size=n).round(3),
        "weight": np.where(rng.random(n) < 0.1, np.nan, rng.normal(50, 10, n).round(2)),
        "label": rng.choice(["a", "b"], n),
    })
    path = tmp_path / "big.csv"
    data.to_csv(path, index=False)
    summary = process_csv(path, tmp_path / "out", ["color"], ["size", "weight"], "label", chunksize=700)
    n_train, n_valid = summary["rows"]["train"], summary["rows"]["valid"]
    assert n_train + n_valid == n and 800 < n_valid < 1200
    x_cont = np.load(tmp_path / "out" / "train_x_cont.npy", mmap_mode="r")
    assert x_cont.shape == (n_train, 2)
    # the same rows processed in memory give the same arrays
    processor = TabularProcessor.load(tmp_path / "out" / "processor.json")
    rng = np.random.default_rng(42)
    valid = np.concatenate([rng.random(len(chunk)) < 0.2 for chunk in np.array_split(np.arange(n), range(700, n, 700))])
    reread = pd.read_csv(path)
    x_cat, x_cont_memory, y = processor.transform(reread[~valid])
    assert np.array_equal(np.load(tmp_path / "out" / "train_x_cat.npy"), x_cat)
    assert np.allclose(x_cont, x_cont_memory)
    assert np.array_equal(np.load(tmp_path / "out" / "train_y.npy"), y)
    assert abs(float(x_cont[:, 0].mean())) < 0.05  # normalized on these very rows
