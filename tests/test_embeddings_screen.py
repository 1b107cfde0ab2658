"""The embeddings screen on a run whose checkpoint holds embeddings we set by hand."""

import torch

from conftest import REPO, wait_until
from fake_runs import write_fake_run
from l4tui.ui.app import L4App
from l4tui.ui.embeddings_screen import EmbeddingsScreen


async def test_neighbours_and_map_of_a_runs_embeddings(runs_dir):
    run_dir = write_fake_run(runs_dir, "20260101-000000-collab")
    (run_dir / "checkpoints").mkdir()
    items = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.9, 0.2], [0.1, 1.0], [-1.0, 0.1]])
    torch.save({"model": {"u_weight.weight": torch.randn(3, 2), "i_weight.weight": items},
                "users": [1, 2], "items": [10, 20, 30, 40], "config": {"data": "/nowhere"}},
               run_dir / "checkpoints" / "best.pt")
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2")
        assert await wait_until(pilot, lambda: app.query_one("#runs-table").row_count == 1)
        await pilot.press("e")
        assert await wait_until(pilot, lambda: isinstance(app.screen, EmbeddingsScreen) and app.screen.tables)
        screen = app.screen
        assert screen.table.name == "movies"  # the data is gone: ids instead of titles
        grid = screen.query_one("#emb-neighbours")
        screen.query_one("#emb-query").value = ""
        await pilot.press(*"item 10", "enter")
        assert await wait_until(pilot, lambda: grid.row_count > 0)
        # item 10 is row 1, (1, 0): row 2 (0.9, 0.2) is nearest, then row 3 (0.1, 1), then #na# (0, 0: cosine 0)
        assert [str(grid.get_row_at(i)[1]) for i in range(3)] == ["item 20", "item 30", "#na#"]
        screen.query_one("#emb-query").value = ""
        await pilot.press(*"nobody", "enter")
        assert await wait_until(pilot, lambda: any("no movie matches 'nobody'" in n.message for n in app._notifications))
        await pilot.press("ctrl+n")
        assert screen.table.name == "users"
        await pilot.press("escape")
        assert not isinstance(app.screen, EmbeddingsScreen)


async def test_neighbours_that_training_brought_in_and_pushed_out(runs_dir):
    run_dir = write_fake_run(runs_dir, "20260101-000000-collab")
    (run_dir / "checkpoints").mkdir()

    def save(name, items):
        torch.save({"model": {"i_weight.weight": torch.tensor(items)}, "items": [10, 20, 30, 40],
                    "config": {"data": "/nowhere"}}, run_dir / "checkpoints" / f"{name}.pt")

    # At epoch 1 item 10's nearest is item 20, then 30; by epoch 2 item 40 has moved next to it.
    save("epoch-001", [[0.0, 0.0], [1.0, 0.0], [0.9, 0.2], [0.5, 0.8], [-1.0, 0.0]])
    save("epoch-002", [[0.0, 0.0], [1.0, 0.0], [0.9, 0.2], [0.5, 0.8], [1.0, 0.05]])
    save("epoch-003", [[0.0, 0.0], [1.0, 0.0], [0.2, 0.9], [0.5, 0.8], [1.0, 0.05]])
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = EmbeddingsScreen(run_dir)
        await app.push_screen(screen)
        grid = screen.query_one("#emb-neighbours")
        assert await wait_until(pilot, lambda: screen.tables and grid.row_count > 0)
        # Shown: the latest epoch, compared with the first.
        assert screen.checkpoints[screen.shown].label == "epoch 3" and screen.base == 0
        assert screen.query_one("#emb-query").value == "item 10"
        rows = [[str(cell) for cell in grid.get_row_at(i)] for i in range(grid.row_count)]
        assert [(r[1], r[3]) for r in rows[:3]] == [("item 40", "#4"), ("item 30", "#2"), ("item 20", "#1")]
        assert "since epoch 1" in str(screen.query_one("#emb-change").render())
        # Up to epoch 2 in the list, c there: epoch 3 is compared with epoch 2 from then on.
        screen.query_one("#emb-checkpoints").focus()
        await pilot.press("up")
        assert await wait_until(pilot, lambda: screen.shown == 1)
        await pilot.press("c", "down")
        assert await wait_until(pilot, lambda: screen.shown == 2 and screen.base == 1)
        assert await wait_until(pilot, lambda: "since epoch 2" in str(screen.query_one("#emb-change").render()))
        rows = [[str(cell) for cell in grid.get_row_at(i)] for i in range(grid.row_count)]
        assert [(r[1], r[3]) for r in rows[:3]] == [("item 40", "#1"), ("item 30", "#3"), ("item 20", "#2")]


def _sample_titles_run(runs_dir):
    """A collab run on the bundled sample: its movies have titles, seven of them mountains."""
    run_dir = write_fake_run(runs_dir, "20260101-000000-collab")
    (run_dir / "checkpoints").mkdir()
    torch.manual_seed(0)
    items = [1, 15, 47, 111, 132, 160, 6, 67]  # 160: The Wild Mountain (1975); 1, 15 ...: other mountains
    torch.save({"model": {"u_weight.weight": torch.randn(4, 3), "i_weight.weight": torch.randn(9, 3)},
                "users": [7, 42, 196], "items": items, "config": {"data": "bundled-ml"}},
               run_dir / "checkpoints" / "best.pt")
    return run_dir


async def open_sample_titles(pilot, app, runs_dir):
    """The embeddings screen on _sample_titles_run, its neighbours shown: (screen, neighbours table)."""
    screen = EmbeddingsScreen(_sample_titles_run(runs_dir))
    await app.push_screen(screen)
    grid = screen.query_one("#emb-neighbours")
    assert await wait_until(pilot, lambda: screen.tables and grid.row_count > 0)
    return screen, grid


async def test_an_ambiguous_name_offers_the_choices_and_user_42_works_in_movie_mode(runs_dir):
    from l4tui.ui.picker import PickerScreen

    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, grid = await open_sample_titles(pilot, app, runs_dir)
        query = screen.query_one("#emb-query")
        assert screen.table.name == "movies" and screen.focused is query
        query.value = ""
        await pilot.press(*"mountain", "enter")  # seven titles hold it: the choices, none picked
        assert await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        picker = app.screen
        labels = [item.label for item in picker.items]
        assert len(labels) >= 6 and all("Mountain" in label for label in labels[:6])
        await pilot.press("down", "enter")
        assert await wait_until(pilot, lambda: app.screen is screen)
        assert query.value == labels[1] and screen.row == screen.table.labels.index(labels[1])
        # Escape in the list picks nothing: the neighbours shown stay
        query.value = "mountain"
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: app.screen is screen)
        assert screen.row == screen.table.labels.index(labels[1])
        # an exact title goes straight through, whatever its case; a user from the movies
        query.value = "the wild mountain (1975)"
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: query.value == "The Wild Mountain (1975)")
        query.value = "user 42"
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: screen.table.name == "users" and query.value == "user 42")
        query.value = "m160"
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: screen.table.name == "movies" and screen.table.labels[screen.row]
                                == "The Wild Mountain (1975)")


async def test_at_80x24_the_neighbours_show_their_title_and_cosine(runs_dir):
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, grid = await open_sample_titles(pilot, app, runs_dir)
        await pilot.pause()
        labels = [str(column.label) for column in grid.columns.values()]
        assert labels[:3] == ["#", "nearest", "cosine"]
        used = sum(column.get_render_width(grid) for column in grid.columns.values())
        assert used <= grid.scrollable_content_region.width, "the cosine column is cut off"
        titles = [str(grid.get_row_at(i)[1]) for i in range(grid.row_count)]
        assert all(title.endswith(")") and title[-5:-1].isdigit() for title in titles if title != "#na#"), titles
