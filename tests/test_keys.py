"""Keys as data: every binding has an id, the user's keymap remaps them, `?` shows the live keys."""

from textual.binding import Binding

from conftest import REPO, wait_until
from l4tui.ui.app import L4App
from l4tui.ui.bindings import declared_bindings
from l4tui.ui.code_view import CodeView
from l4tui.ui.help_screen import HelpScreen
from l4tui.ui.key_names import is_key, key_text
from l4tui.ui.spreadsheet_screen import SpreadsheetScreen
from l4tui.ui.tabular_screen import TabularScreen
from l4tui.ui.text_screen import TextScreen


def test_every_binding_has_a_unique_id_and_keys_textual_can_send():
    found = declared_bindings()
    assert len(found) > 80  # every screen's module was walked, the lazily imported ones included
    classes = {cls.__name__ for cls, _ in found}
    assert {"L4App", "ConfirmScreen", "LaunchScreen", "TextScreen", "EmbeddingsScreen", "CodeView"} <= classes
    seen = {}
    for cls, binding in found:
        assert isinstance(binding, Binding), f"{cls.__name__}: {binding!r} is not a Binding"
        assert binding.id and "." in binding.id, f"{cls.__name__}: {binding.key!r} has no scope.name id"
        assert binding.id not in seen, f"{binding.id} is used by {seen[binding.id]} and {cls.__name__}"
        seen[binding.id] = cls.__name__
        for key in binding.key.split(","):
            assert is_key(key), f"{binding.id}: {key!r} is a key Textual never sends"


def test_keys_are_spelled_for_people():
    assert key_text("ctrl+x") == "Ctrl-X"
    assert key_text("ctrl+right_square_bracket,f1") == "Ctrl-] / F1"
    assert key_text("left_square_bracket") == "["
    assert key_text("plus,equals_sign") == "+ / ="
    assert key_text("question_mark,escape,pagedown,shift+tab") == "? / Esc / PgDn / Shift-Tab"


def make_app(runs_dir, keymap: str | None = None):
    config = runs_dir.parent / "config.toml"
    if keymap is not None:
        config.write_text(keymap)
    return L4App(runs_dir=runs_dir, workspace=REPO, config=config)


async def help_text(pilot, app) -> str:
    await pilot.press("question_mark")
    assert await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
    await pilot.pause()
    return app.screen.text()


async def test_help_shows_the_live_keys_of_each_pane(runs_dir):
    app = make_app(runs_dir)
    async with app.run_test(size=(100, 40)) as pilot:
        text = await help_text(pilot, app)
        lines = text.splitlines()
        assert lines[0] == "This pane (Code)" and "Everywhere" in lines
        assert "Ctrl-]  Go to the definition of the name under the cursor (also gd)  code.goto_definition" in lines
        for expected in ("g g  First line", "z c  Close the fold", "1 / F1  Show the Code pane  app.pane_code",
                         "q  Quit (runs keep training)  app.quit", "G  Last line  code.last_line"):
            assert any(line.startswith(expected) for line in lines), expected
        assert "Watch the run" not in text  # the Data pane's keys are not keys here
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))

        await pilot.press("2")
        await pilot.pause()
        lines = (await help_text(pilot, app)).splitlines()
        assert lines[0] == "This pane (Data & training)"
        # `[` shows as itself: the old list spelled it in markup that reached the screen.
        assert "[  Less smoothing  data.smooth_less" in lines and not any("[/]" in line for line in lines)
        assert "Enter  Watch the run under the cursor" in lines and "g g  First line" not in lines
        await pilot.press("q")  # closes the help, does not quit
        assert await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        assert app.is_running


async def test_help_on_a_pushed_screen_shows_that_screens_keys(runs_dir):
    app = make_app(runs_dir)
    async with app.run_test(size=(100, 40)) as pilot:
        for key, screen_class, expected in [
                ("t", TextScreen, "+ / =  Double max_vocab (= too: no Shift needed)  text.max_vocab_up"),
                ("a", TabularScreen, "k  Treat the column under the cursor as categorical or continuous  tab.kind"),
                ("x", SpreadsheetScreen, "Space  One step of gradient descent  sheet.step")]:
            await pilot.press("2")
            await pilot.press(key)
            assert await wait_until(pilot, lambda: isinstance(app.screen, screen_class))
            lines = (await help_text(pilot, app)).splitlines()
            assert lines[0] == "This screen" and expected in lines, key
            assert "q  Quit (runs keep training)  app.quit" not in lines  # q goes back on these screens
            await pilot.press("escape")
            assert await wait_until(pilot, lambda: isinstance(app.screen, screen_class))
            app.pop_screen()
            await pilot.pause()


async def test_plus_doubles_on_the_spreadsheet_and_the_text_screen(runs_dir):
    app = make_app(runs_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2", "x")
        assert await wait_until(pilot, lambda: isinstance(app.screen, SpreadsheetScreen)
                                and app.screen.state is not None)
        lr = app.screen.state.lr
        await pilot.press("plus")
        assert app.screen.state.lr == 2 * lr
        await pilot.press("minus")
        assert app.screen.state.lr == lr
        app.pop_screen()
        await pilot.press("t")
        assert await wait_until(pilot, lambda: isinstance(app.screen, TextScreen) and app.screen.figures)
        max_vocab = app.screen.max_vocab
        await pilot.press("minus", "plus")
        assert app.screen.max_vocab == max_vocab


async def test_a_keymap_moves_quit_from_q_to_ctrl_x(runs_dir):
    app = make_app(runs_dir, '[keymap]\n"app.quit" = "ctrl+x"\n')
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("q")
        await pilot.pause(0.2)
        assert app.is_running
        lines = (await help_text(pilot, app)).splitlines()
        assert "Ctrl-X  Quit (runs keep training)  app.quit" in lines
        assert not any(line.startswith("q  ") for line in lines)
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await pilot.press("ctrl+x")
        assert await wait_until(pilot, lambda: not app.is_running)
    assert app.return_code == 0


async def test_bad_keymap_entries_are_told_and_ignored(runs_dir):
    app = make_app(runs_dir, '[keymap]\n"app.qiut" = "ctrl+x"\n"app.help" = "ctrl+xx"\n'
                             '"app.pane_code" = 1\n"code.find_file" = "ctrl+g"\n')
    async with app.run_test(size=(100, 40)) as pilot:
        assert await wait_until(pilot, lambda: app._notifications)
        message = next(iter(app._notifications)).message
        assert message.count("\n") == 2
        assert "'app.qiut'" in message and "'ctrl+xx' is not a key name" in message and "app.pane_code = 1" in message
        assert app.keymap.keys == {"code.find_file": "ctrl+g"}
        lines = (await help_text(pilot, app)).splitlines()
        assert "Ctrl-G  Find a file of the workspace or of the packages it imports (fuzzy)  code.find_file" in lines
        assert "?  Show every key  app.help" in lines  # the bad entry left the key as it was


async def test_a_broken_config_file_still_starts_the_app(runs_dir):
    app = make_app(runs_dir, "[keymap\n")
    async with app.run_test(size=(100, 40)) as pilot:
        assert await wait_until(pilot, lambda: app._notifications)
        assert "is not valid TOML" in next(iter(app._notifications)).message
        await pilot.press("2")
        await pilot.pause()
        assert app.query_one("#panes").active == "data"


async def test_help_on_the_embeddings_screen_once_out_of_its_text_box(runs_dir):
    import torch

    from fake_runs import write_fake_run
    from l4tui.ui.embeddings_screen import EmbeddingsScreen

    run_dir = write_fake_run(runs_dir, "20260101-000000-collab")
    (run_dir / "checkpoints").mkdir()
    torch.save({"model": {"u_weight.weight": torch.randn(3, 2), "i_weight.weight": torch.randn(5, 2)},
                "users": [1, 2], "items": [10, 20, 30, 40], "config": {"data": "/nowhere"}},
               run_dir / "checkpoints" / "best.pt")
    app = make_app(runs_dir)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("2")
        assert await wait_until(pilot, lambda: app.query_one("#runs-table").row_count == 1)
        await pilot.press("e")
        assert await wait_until(pilot, lambda: isinstance(app.screen, EmbeddingsScreen) and app.screen.tables)
        app.screen.query_one("#emb-neighbours").focus()  # in the query box, ? is text
        lines = (await help_text(pilot, app)).splitlines()
        assert lines[0] == "This screen"
        assert "Ctrl-N  Tokens, users, movies, a column's categories ...  emb.next" in lines
        assert "Esc  Back  emb.back" in lines


async def test_a_remapped_quit_key_does_not_wait_behind_held_keys(runs_dir):
    # While the Code view holds keys (a slow look-up), quitting still goes first: with the key
    # the user's keymap gave it, and q no longer counts as one.
    app = make_app(runs_dir, '[keymap]\n"app.quit" = "ctrl+x"\n')
    async with app.run_test(size=(100, 40)) as pilot:
        view = app.query_one(CodeView)
        assert await wait_until(pilot, lambda: view.path is not None)
        view.hold_keys()  # never released: the look-up hangs
        await pilot.press("q")
        await pilot.pause(0.2)
        assert app.is_running and ("q", "q") in view._held
        await pilot.press("ctrl+x")
        assert await wait_until(pilot, lambda: not app.is_running, timeout=10)
