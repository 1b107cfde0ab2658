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


def write_uci_folder(tmp_path, rows: int = 60):
    """The bundled sample in UCI's layout: adult.data, no header, `?` for a missing value."""
    folder = tmp_path / "uci"
    folder.mkdir()
    lines = (REPO / "datasets" / "adult-sample" / "adult.csv").read_text().splitlines()[1:rows + 1]
    (folder / "adult.data").write_text("".join(",".join(c if c.strip() else "?" for c in line.split(",")) + "\n"
                                               for line in lines))
    return folder


def write_house_csv(tmp_path):
    """A user's own table: its label is `sold`, not adult's salary."""
    path = tmp_path / "houses.csv"
    rows = [f"{2 + i % 4},{50 + 7 * i},{['north', 'south', 'east'][i % 3]},{'yes' if i % 2 else 'no'}"
            for i in range(40)]
    path.write_text("rooms,area,district,sold\n" + "\n".join(rows) + "\n")
    return path


async def open_tabular(runs_dir, screen):
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.push_screen(screen)
        assert await wait_until(pilot, lambda: screen.processor is not None
                                or "Can't" in str(screen.query_one("#tab-title").render()))
        return str(screen.query_one("#tab-title").render()), screen


async def test_the_screen_opens_adult_in_uci_layout_and_a_users_csv_with_its_label(runs_dir, tmp_path):
    title, screen = await open_tabular(runs_dir, TabularScreen(str(write_uci_folder(tmp_path))))
    assert title.startswith("adult.data: 60 rows") and "label salary" in title
    assert screen.cat_names[:2] == ["workclass", "education"]

    title, screen = await open_tabular(runs_dir, TabularScreen(str(write_house_csv(tmp_path)), "sold"))
    assert title.startswith("houses.csv: 40 rows · 1 categorical, 2 continuous") and "label sold" in title
    assert screen.cat_names == ["district"] and screen.cont_names == ["rooms", "area"]


async def test_a_bad_table_gets_a_clear_message(runs_dir, tmp_path):
    title, _ = await open_tabular(runs_dir, TabularScreen(str(write_house_csv(tmp_path))))  # no label named
    assert "Can't read the table" in title and "is a CSV l4tui does not recognise" in title
    assert "--y COLUMN" in title
    binary = tmp_path / "adult.csv"
    binary.write_bytes(b"\0\1\2" * 100)
    title, _ = await open_tabular(runs_dir, TabularScreen(str(binary)))
    assert "Can't read the table" in title and "binary" in title
    title, _ = await open_tabular(runs_dir, TabularScreen("no-such-dataset"))
    assert "Can't read the table" in title and "no dataset of that name" in title


async def test_a_tabular_runs_own_csv_opens_with_the_runs_columns(runs_dir, tmp_path):
    from fake_runs import write_fake_run
    from l4tui.runs.store import write_run_file

    run_dir = write_fake_run(runs_dir, "20260101-000000-tabular-aaaa", family="tabular", metric="accuracy")
    data = str(write_house_csv(tmp_path))
    write_run_file(run_dir, "tabular", {"epochs": 3, "data": data, "y_name": "sold", "cat_names": ["district", "rooms"],
                                        "cont_names": ["area"]}, ["python"], pid=0)
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        assert await wait_until(pilot, lambda: app.query_one("#runs-table").row_count == 1)
        await pilot.press("a")
        assert await wait_until(pilot, lambda: isinstance(app.screen, TabularScreen) and app.screen.processor)
        assert app.screen.dataset.source.name == "houses.csv" and app.screen.dataset.y_name == "sold"
        assert app.screen.cat_names == ["district", "rooms"] and app.screen.cont_names == ["area"]
