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
