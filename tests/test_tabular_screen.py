"""The tabular screen driven as a user drives it: the columns, the rows, switching a column's kind."""

from conftest import REPO, wait_until
from l4tui.ui.app import L4App
from l4tui.ui.tabular_screen import TabularScreen


async def test_columns_rows_and_switching_a_kind(runs_dir):
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await pilot.pause()
        await pilot.press("a")
        assert await wait_until(pilot, lambda: isinstance(app.screen, TabularScreen) and app.screen.processor)
        screen = app.screen
        columns = screen.query_one("#tab-columns")
        assert str(columns.get_row("workclass")[1]) == "categorical"
        assert str(columns.get_row("workclass")[4]) == "(9, 5)"
        before, after = screen.query_one("#tab-before"), screen.query_one("#tab-after")
        for i in range(before.row_count):  # each workclass, Categorified: its index and category
            raw = str(before.get_row_at(i)[0])
            assert str(after.get_row_at(i)[0]).endswith("(#na#)" if raw == "(missing)" else f"({raw})")
        # age becomes categorical: each distinct age a category of its own, with an embedding.
        columns.move_cursor(row=columns.get_row_index("age"))
        await pilot.press("k")
        assert await wait_until(pilot, lambda: "age" in screen.processor.cat_names)
        assert await wait_until(pilot, lambda: str(columns.get_row("age")[1]) == "categorical")
        assert int(str(columns.get_row("age")[2])) == screen.dataset.frame["age"].nunique() + 1
        await pilot.press("escape")
        assert not isinstance(app.screen, TabularScreen)
