"""The spreadsheet screen driven as a user drives it: step, run, options, views, a trained run."""

import numpy as np
import torch
from textual.widgets import Static

from conftest import REPO, wait_until
from fake_runs import write_fake_run
from l4tui.data.ratings import IdMap, load_ratings
from l4tui.modelfiles import load_model_file
from l4tui.ui.app import L4App
from l4tui.ui.spreadsheet_screen import SpreadsheetScreen

SAMPLE = REPO / "datasets" / "ml-sample"


def text(screen, selector) -> str:
    return str(screen.query_one(selector, Static).render())


async def open_sheet(pilot, app):
    await pilot.press("2")
    await pilot.pause()
    await pilot.press("x")
    assert await wait_until(pilot, lambda: isinstance(app.screen, SpreadsheetScreen)
                            and app.screen.state is not None)
    return app.screen


async def test_gradient_descent_step_by_step_and_running(runs_dir):
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        sheet = await open_sheet(pilot, app)
        assert sheet.sheet.ratings.shape == (15, 15)
        start = sheet.state.loss()
        assert f"loss (MSE) {start:.4f}" in text(sheet, "#sheet-loss")
        await pilot.press("space")
        assert sheet.state.steps == 1 and sheet.state.loss() < start
        assert "step 1 " in text(sheet, "#sheet-loss")
        # The table shows what the sheet computes: a rated cell's prediction.
        table = sheet.query_one("#sheet-table")
        i, j = map(int, np.argwhere(sheet.sheet.known)[0])
        assert str(table.get_cell(f"u{i}", f"m{j}")).strip() == f"{sheet.state.predictions()[i, j]:.2f}"
        await pilot.press("b", "y")
        assert "sigmoid(dot(user, movie) + user bias + movie bias) scaled to (0.0, 5.5)" in text(sheet, "#sheet-title")
        # The cursor's cell in words: user, movie title, rating, and the prediction's formula.
        described = text(sheet, "#sheet-cell")
        assert described.startswith(f"user {sheet.sheet.users[0]} · movie {sheet.sheet.items[0]}: "
                                    f"{sheet.sheet.titles[0]}")
        assert f"prediction {sheet.state.predictions()[0, 0]:.3f} = sigmoid(dot " in described
        await pilot.press("r")
        assert await wait_until(pilot, lambda: sheet.state.steps > 100)
        await pilot.press("r")
        steps = sheet.state.steps
        await pilot.pause(0.3)
        assert sheet.state.steps == steps and sheet.state.rmse() < 1.0
        await pilot.press("v")
        assert sheet.view == "ratings"
        assert str(table.get_cell(f"u{i}", f"m{j}")).strip() == f"{sheet.sheet.ratings[i, j]:.2f}"
        await pilot.press("t")  # no run selected: it says what to do
        assert await wait_until(pilot, lambda: any("collab run" in n.message for n in app._notifications))
        await pilot.press("escape")
        assert not isinstance(app.screen, SpreadsheetScreen)


async def test_a_trained_run_fills_the_sheet(runs_dir):
    # A finished collab run whose checkpoint holds a model we made: the sheet must show its predictions.
    run_dir = write_fake_run(runs_dir, "20260101-000000-collab")
    table = load_ratings(SAMPLE).table
    users, items = IdMap(table["user"]), IdMap(table["item"])
    collab = load_model_file("collab", REPO)
    torch.manual_seed(0)
    model = collab.EmbeddingDotBias(50, len(users), len(items), y_range=(0.0, 5.5))
    (run_dir / "checkpoints").mkdir()
    torch.save({"model": model.state_dict(), "users": users.ids.tolist(), "items": items.ids.tolist(),
                "config": {"y_range": [0.0, 5.5], "data": str(SAMPLE)}}, run_dir / "checkpoints" / "last.pt")
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        assert await wait_until(pilot, lambda: app.query_one("#runs-table").row_count == 1)
        sheet = await open_sheet(pilot, app)
        assert sheet.run_dir == run_dir
        await pilot.press("t")
        assert await wait_until(pilot, lambda: sheet.state.source == run_dir.name)
        assert "5 of its 50 factors shown" in text(sheet, "#sheet-title")
        u, i = sheet.sheet.users[0], sheet.sheet.items[0]
        x = torch.tensor([[users.index([u])[0][0], items.index([i])[0][0]]])
        with torch.no_grad():
            expected = model(x).item()
        assert abs(sheet.state.predictions()[0, 0] - expected) < 1e-5


async def test_at_80x24_the_cell_explanation_and_the_loss_are_whole(runs_dir):
    from rich.text import Text

    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(80, 24)) as pilot:
        sheet = await open_sheet(pilot, app)
        await pilot.press("b", "y")  # biases and the sigmoid on: the longest sum
        await pilot.pause()
        explained = text(sheet, "#sheet-cell")
        assert "rated" in explained and " = sigmoid(dot " in explained and explained.rstrip().endswith("+ 0")
        for selector in ("#sheet-title", "#sheet-cell", "#sheet-loss"):
            widget = sheet.query_one(selector, Static)
            lines = Text(text(sheet, selector)).wrap(app.console, widget.content_region.width)
            assert len(lines) <= widget.content_region.height, f"{selector} is cut: {text(sheet, selector)!r}"
            assert widget.region.bottom <= sheet.query_one("#sheet-history").region.y
