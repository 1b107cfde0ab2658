"""Embeddings: tables from checkpoints, nearest neighbours, a 2-D map, change between checkpoints."""

import numpy as np
import pytest
import torch

from l4tui.inspect.embeddings import embedding_tables, neighbour_change, neighbours, pca_2d


def test_neighbours_of_rows_set_by_hand_come_in_cosine_order():
    weights = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [-1.0, 0.0], [0.7, 0.7], [2.0, 0.1]])
    # row 0 points along x: row 5 (almost x, longer: length doesn't matter), then 1, then 4, 2, 3
    assert [row for row, _ in neighbours(weights, 0, k=5)] == [5, 1, 4, 2, 3]
    similarity = dict(neighbours(weights, 0, k=5))
    assert similarity[3] == pytest.approx(-1.0) and similarity[4] == pytest.approx(np.sqrt(0.5))
    assert [row for row, _ in neighbours(weights, 0, k=2, skip={5})] == [1, 4]
    with pytest.raises(ValueError, match="outside"):
        neighbours(weights, 9)


def test_pca_puts_the_main_direction_on_the_first_axis():
    rng = np.random.default_rng(0)
    line = np.outer(np.linspace(-5, 5, 20), [1.0, 2.0, 0.0]) + rng.normal(0, 0.01, (20, 3))
    projected = pca_2d(line, list(range(20)))
    assert projected.shape == (20, 2)
    assert np.ptp(projected[:, 0]) > 50 * np.ptp(projected[:, 1])  # the spread is along axis 1
    assert pca_2d(line, [3]).shape == (1, 2)


def test_neighbour_change_between_two_checkpoints():
    old = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    new = np.array([[1.0, 0.0], [0.0, 1.0], [0.1, 0.9], [0.9, 0.1]])  # rows 1 and 3 swapped places
    change = neighbour_change(old, new, 0, k=1)
    assert change == {"before": [1], "after": [3], "joined": [3], "left": [1], "kept": []}


def test_tables_are_found_and_labelled_for_each_family():
    lm = {"model": {"0.encoder.weight": torch.zeros(3, 4), "0.rnns.0.weight_hh_l0_raw": torch.zeros(4, 4),
                    "1.decoder.weight": torch.zeros(3, 4)}, "vocab": ["xxunk", "xxpad", "the"]}
    [tokens] = embedding_tables(lm)
    assert tokens.name == "tokens" and tokens.row_of("the") == 2 and tokens.row_of("THE") == 2
    collab = {"model": {"u_weight.weight": torch.zeros(3, 2), "i_weight.weight": torch.zeros(3, 2),
                        "u_bias.weight": torch.zeros(3, 1)}, "users": [7, 9], "items": [50, 60]}
    movies, users = embedding_tables(collab, titles={50: "Star Wars (1977)"})  # movies first
    assert users.labels == ["#na#", "user 7", "user 9"]
    assert movies.labels == ["#na#", "Star Wars (1977)", "item 60"]
    tabular = {"model": {"embeds.0.weight": torch.zeros(3, 2), "embeds.1.weight": torch.zeros(3, 2)},
               "processor": {"cat_names": ["workclass"], "na_names": ["age"],
                             "categories": {"workclass": ["#na#", "Private", "State-gov"]}}}
    workclass, age_na = embedding_tables(tabular)
    assert workclass.name == "column workclass" and workclass.labels[1] == "Private"
    assert age_na.name == "column age_na" and age_na.labels == ["0", "1", "2"]


def test_a_checkpoint_file_gives_its_tables_and_its_ratings_titles(tmp_path, small_ratings):
    from l4tui.inspect.embeddings import checkpoint_titles, load_embedding_tables

    collab = {"model": {"u_weight.weight": torch.zeros(3, 2), "i_weight.weight": torch.zeros(3, 2)},
              "users": [1, 2], "items": [1, 2], "config": {"data": str(small_ratings)}}
    path = tmp_path / "best.pt"
    torch.save(collab, path)
    tables, titles = load_embedding_tables(path)
    from l4tui.data.ratings import load_ratings

    assert titles == load_ratings(small_ratings).titles and tables[0].labels[1] == titles[1]
    _, again = load_embedding_tables(path, {1: "mine"}, titles_known=True)  # titles read once per run
    assert again == {1: "mine"}
    gone = dict(collab, config={"data": str(tmp_path / "moved")})
    assert checkpoint_titles(gone) is None  # the ratings moved: ids instead of titles
    assert checkpoint_titles({"model": {}}) is None  # not a collab checkpoint
    torch.save({"model": {"linear.weight": torch.zeros(2, 2)}}, path)
    with pytest.raises(ValueError, match="no embeddings found in best.pt"):
        load_embedding_tables(path)


def test_map_labels_never_overlap_and_every_point_still_shows():
    from l4tui.inspect.embeddings import map_cells, place_labels
    from l4tui.textcut import cut_title

    rng = np.random.default_rng(1)
    points = rng.normal(size=(30, 2))
    points[1] = points[0] + [1e-3, 0]  # two points on one cell: the second's label moves or goes
    labels = [f"Movie number {i} of the sample ({1950 + i})" for i in range(30)]
    width, height = 40, 12
    cells = map_cells(points, width, height)
    assert all(0 <= c < width and 0 <= r < height for c, r in cells)
    placed = place_labels(cells, labels, width, height)
    used: dict[tuple[int, int], int] = {}
    for i, ((col, row), (start, text)) in enumerate(zip(cells, placed)):
        if not text:
            continue
        assert start >= 0 and start + len(text) <= width
        assert text in (cut_title(labels[i], n) for n in (24, 16, 10, 7))  # cut as titles are: the year kept if it fits
        for c in range(start, start + len(text)):
            assert (c, row) not in used, f"label {i} overwrites label {used[(c, row)]}"
            assert (c, row) not in cells, f"label {i} hides a point"
            used[(c, row)] = i
        # a label's neighbours on its row keep a column of space from it
        assert (start - 1, row) not in used and (start + len(text), row) not in used
    assert sum(1 for _, text in placed if text) >= 10  # most points keep a label
    assert placed[0][1] and placed[0][0] in (cells[0][0] + 1, cells[0][0] - len(placed[0][1]))
