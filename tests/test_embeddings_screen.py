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
        await pilot.press(*" nobody", "enter")
        assert await wait_until(pilot, lambda: any("not among the movies" in n.message for n in app._notifications))
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
