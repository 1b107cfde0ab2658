"""Every key the footer offers does something, and at 80x24 the footer shows them whole.

For each pane, with the focus where a user has it, the test reads the keys off the footer that is
on screen (its FooterKey widgets), presses each one, and waits for something the user could see to
change: the screen, the focus, the pane or tab, a message, the model, a table. A key that changes
nothing fails, as does a key the footer dims (it shows only keys that work now) or cuts.
"""

import pytest
from textual.widgets import DataTable, Static, TabbedContent
from textual.widgets._footer import FooterKey

from conftest import REPO, wait_until
from l4tui.ui.app import L4App
from l4tui.ui.code_pane import CodePane
from l4tui.ui.key_order import is_typing
from l4tui.ui.model_pane import ModelPane
from l4tui.ui.spreadsheet_screen import SpreadsheetScreen
from l4tui.ui.tabular_screen import TabularScreen
from l4tui.ui.text_screen import TextScreen

pytestmark = pytest.mark.slow

# Keys the loop does not press, with the reason; each is checked on its own below.
PRESSED_APART = {"q": "quits the app: pressed last"}


def text_of(app, selector) -> str:
    found = app.screen_stack[0].query(selector)
    return str(found.first(Static).render()) if found else ""


def state(app) -> dict:
    """What a user could see change after a key."""
    base = app.screen_stack[0]
    top = app.screen
    shown = ()
    if top is not base:  # a screen over the panes: what its widgets say, where its tables are
        shown = tuple(str(w.render()) for w in top.query(Static) if not isinstance(w, FooterKey)) + \
            tuple((t.row_count, t.cursor_coordinate) for t in top.query(DataTable))
    seen = {"screens": len(app.screen_stack), "screen": type(app.screen).__name__, "focus": repr(app.screen.focused),
            "messages": len(app._notifications), "pane": base.query_one("#panes", TabbedContent).active,
            "shown": shown}
    for pane in base.query(ModelPane):
        seen |= {"tab": pane.query_one("#model-tabs", TabbedContent).active, "preset": pane.sizes.preset,
                 "model": id(pane.subject), "layers": pane.query_one("#model-table").row_count,
                 "gradients": (pane.query_one("#grads-table").row_count, text_of(app, "#grads-head")),
                 "title": text_of(app, "#model-title")}
    for pane in base.query(CodePane):
        location = pane.current_location()
        seen |= {"place": location and (location.path, location.line), "status": text_of(app, "#code-status"),
                 "tags": pane.tags.depth}
    return seen


# What a key must change, by its action; any other key must change something.
MUST_CHANGE = {"next_tab(1)": "tab", "next_tab(-1)": "tab", "help": "screen", "toggle_preset": "preset",
               "reload": "model", "gradients": "gradients", "find_file": "screen", "find_symbol": "screen"}


def changed(before: dict, after: dict, action: str) -> bool:
    what = MUST_CHANGE.get(action)
    return after != before if what is None else after.get(what) != before.get(what)


def footer_keys(app) -> list[FooterKey]:
    """The footer of the screen on top: the panes', or a pushed screen's own (modal ones have none)."""
    for screen in reversed(app.screen_stack):
        keys = list(screen.query(FooterKey))
        if keys:
            return keys
    return []


async def back_to(pilot, app, depth: int = 1) -> None:
    while len(app.screen_stack) > depth:
        app.pop_screen()
        await pilot.pause()


async def check_footer(pilot, app, setup, where: str, width: int, depth: int = 1) -> list[str]:
    """Press each key of the footer that `setup` leads to (on the screen `depth` deep: 1, the
    panes); return the keys pressed."""
    await setup()
    keys = footer_keys(app)
    assert keys, f"{where}: an empty footer"
    for key in keys:
        assert not key.disabled, f"{where}: the footer offers {key.key} ({key.description}), which is off now"
        assert key.region.right <= width, f"{where}: {key.key} {key.description} is cut at {width} columns"
    pressed = []
    for key, action in [(k.key, k.action) for k in keys]:
        if key in PRESSED_APART:
            continue
        await setup()
        before = state(app)
        await pilot.press(key)
        assert await wait_until(pilot, lambda: changed(before, state(app), action), timeout=20), \
            f"{where}: the footer's key {key} did nothing"
        pressed.append(key)
        await back_to(pilot, app, depth)
        if is_typing(app.screen):  # a prompt (/) opened: close it
            await pilot.press("escape")
            await pilot.pause()
    return pressed


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_every_footer_key_does_something(runs_dir, size, monkeypatch):
    monkeypatch.setenv("EDITOR", "true")
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=size) as pilot:
        code = app.query_one(CodePane)
        assert await wait_until(pilot, lambda: code.current_location() is not None)
        assert await wait_until(pilot, lambda: code.index is not None and code.index.done(), timeout=120)

        async def code_view():
            await pilot.press("1")
            code.set_status("")
            code.view.focus()
            await pilot.pause()

        async def code_tree():
            await code_view()
            await pilot.press("o")
            await pilot.pause()

        pressed = await check_footer(pilot, app, code_view, "Code pane", size[0])
        assert {"ctrl+right_square_bracket", "slash", "ctrl+p", "s", "question_mark"} <= set(pressed)
        await check_footer(pilot, app, code_tree, "Code pane's tree", size[0])

        await pilot.press("3")
        pane = app.query_one(ModelPane)
        assert await wait_until(pilot, lambda: pane.subject is not None)
        tabs = pane.query_one("#model-tabs", TabbedContent)

        def model(tab: str, selector: str):
            async def setup():
                await pilot.press("3")
                assert await wait_until(pilot, lambda: pane.subject is not None)
                tabs.active = tab
                await pilot.pause()
                pane.query_one(selector).focus()
                await pilot.pause()
            return setup

        pressed = await check_footer(pilot, app, model("tab-layers", "#model-list"), "Model pane, list", size[0])
        assert {"r", "p", "right_square_bracket", "g", "question_mark"} <= set(pressed)
        await check_footer(pilot, app, model("tab-layers", "#model-table"), "Model pane, Layers", size[0])
        await check_footer(pilot, app, model("tab-acts", "#act-table"), "Model pane, Activations", size[0])

        # In the Activations box the keys type: the footer offers none of the keys that type a
        # character, only Esc, the way out of the box (to the tab's table).
        await model("tab-acts", "#act-input")()
        offered = {key.key for key in footer_keys(app)}
        assert not offered & {"r", "p", "g", "right_square_bracket", "question_mark", "q", "1"}, offered
        assert await check_footer(pilot, app, model("tab-acts", "#act-input"), "Activations box", size[0]) == \
            ["escape"]
        assert app.focused.id == "act-table"

        # The Data & training pane (no runs yet: Stop, Chart and Embeddings are not offered), and
        # its screens (the embeddings screen needs a run: tests/test_embeddings_screen.py).
        async def data_pane():
            await back_to(pilot, app)
            await pilot.press("2")
            await pilot.pause()
            app.query_one("#runs-table").focus()
            await pilot.pause()

        pressed = await check_footer(pilot, app, data_pane, "Data & training pane", size[0])
        assert {"n", "x", "t", "a", "question_mark"} <= set(pressed) and not {"s", "v", "e"} & set(pressed)
        await back_to(pilot, app)
        for key, screen, ready in (("t", TextScreen, lambda s: s.figures is not None),
                                   ("a", TabularScreen, lambda s: s.query_one("#tab-columns").row_count > 0),
                                   ("x", SpreadsheetScreen, lambda s: s.state is not None)):
            async def on_screen(key=key, screen=screen, ready=ready):
                if not isinstance(app.screen, screen):
                    await back_to(pilot, app)
                    await pilot.press("2")
                    await pilot.pause()
                    await pilot.press(key)
                    assert await wait_until(pilot, lambda: isinstance(app.screen, screen) and ready(app.screen))
                    await pilot.pause()
                app.screen.set_focus(app.screen.query_one(screen.AUTO_FOCUS or "DataTable"))
                await pilot.pause()
            pressed = await check_footer(pilot, app, on_screen, screen.__name__, size[0], depth=2)
            assert {"escape", "question_mark"} <= set(pressed)
            await back_to(pilot, app)

        await model("tab-layers", "#model-list")()
        await pilot.press("q")
        assert await wait_until(pilot, lambda: not app.is_running)


async def test_a_dead_footer_key_fails_the_check(runs_dir):
    """The check itself: a footer key whose action does nothing is caught."""
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        pane = app.query_one(ModelPane)
        assert await wait_until(pilot, lambda: pane.subject is not None)
        pane.action_next_tab = lambda step: None  # ] now does nothing, and the footer still offers it

        async def setup():
            pane.query_one("#model-list").focus()
            await pilot.pause()

        with pytest.raises(AssertionError, match="right_square_bracket did nothing"):
            await check_footer(pilot, app, setup, "Model pane", 80)


async def test_the_focus_comes_back_where_the_user_acts_next(runs_dir):
    """After a picker, K's documentation or the help closes, the focus is on what the user was
    using: the code (or the tree), the Model pane's table; and a choice lands in the code."""
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(80, 24)) as pilot:
        code = app.query_one(CodePane)
        assert await wait_until(pilot, lambda: code.current_location() is not None)
        assert await wait_until(pilot, lambda: code.index is not None and code.index.done(), timeout=120)

        async def opened_and_closed(keys, focus, expected_screen):
            focus.focus()
            await pilot.pause()
            await pilot.press(*keys)
            assert await wait_until(pilot, lambda: type(app.screen).__name__ == expected_screen), keys
            await pilot.press("escape")
            assert await wait_until(pilot, lambda: len(app.screen_stack) == 1)
            await pilot.pause()
            return app.focused

        for keys, screen in ((["s"], "PickerScreen"), (["ctrl+p"], "PickerScreen"), (["question_mark"], "HelpScreen")):
            assert await opened_and_closed(keys, code.view, screen) is code.view, keys
        tree = app.query_one("#models-tree")
        assert await opened_and_closed(["question_mark"], tree, "HelpScreen") is tree
        await pilot.press("s", *"EmbeddingDotBias", "enter")
        assert await wait_until(pilot, lambda: code.current_location().line == 29)
        assert app.focused is code.view
        code.view.move_to(28, 8)  # on EmbeddingDotBias (lines from 0)
        await pilot.press("K")
        assert await wait_until(pilot, lambda: type(app.screen).__name__ == "DocScreen", timeout=60)
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: len(app.screen_stack) == 1)
        assert app.focused is code.view
        await pilot.press("colon", *"jumps", "enter")
        assert await wait_until(pilot, lambda: type(app.screen).__name__ == "PickerScreen")
        await pilot.press("up", "enter")
        assert await wait_until(pilot, lambda: len(app.screen_stack) == 1)
        assert app.focused is code.view and code.current_location().line == 1

        await pilot.press("3")
        pane = app.query_one(ModelPane)
        assert await wait_until(pilot, lambda: pane.subject is not None)
        table = pane.query_one("#model-table")
        assert await opened_and_closed(["question_mark"], table, "HelpScreen") is table
