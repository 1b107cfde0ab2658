"""A worker whose thread comes back after its widget has gone stops there, quietly.

The race these reproduce failed CI once: the app quit while the Interpret tab's worker computed
in a thread; the app's teardown had removed the tab's children but not yet cancelled its worker,
and the worker's query_one raised NoMatches, which failed the app.
"""

import ast
import asyncio
import threading
import time
from pathlib import Path

import pytest
from textual import work
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.widgets import Static
from textual.worker import WorkerState

from l4tui.ui.off_thread import WidgetGone, gone, in_thread, off_loop

UI = Path(__file__).resolve().parent.parent / "l4tui" / "ui"


class SlowToGo(Static):
    """A child whose unmount takes a while (a big table, a plot): its parent waits for it before
    it unmounts, and only then are the parent's workers cancelled."""

    async def on_unmount(self) -> None:
        await asyncio.sleep(0.3)


class Card(Vertical):
    """Computes in a thread, then writes into its child, as the Model pane's tabs do."""

    def __init__(self, leave, fail: bool = False) -> None:
        super().__init__()
        self.leave, self.fail = leave, fail
        self.wrote = False

    def compose(self) -> ComposeResult:
        yield Static("", id="card-text")
        yield SlowToGo("")

    @work(group="card")
    async def compute(self) -> None:
        def in_the_thread():
            text = self.query_one("#card-text")
            if self.leave is None:
                return 42
            self.app.call_from_thread(self.leave, self)  # the user quits / closes, mid-computation
            for _ in range(250):  # the answer comes back in the window: the text gone, the card not yet
                if text.parent is None or not self.app.is_running:
                    break
                time.sleep(0.01)
            if self.fail:
                raise ValueError("the weights did not fit")
            return 42

        answer = await in_thread(in_the_thread)
        self.query_one("#card-text", Static).update(str(answer))
        self.wrote = True


class CardApp(App):
    def __init__(self, card: Card) -> None:
        super().__init__()
        self.card = card

    def compose(self) -> ComposeResult:
        yield self.card


async def run_card(leave, fail: bool = False) -> tuple[Card, CardApp]:
    card = Card(leave, fail)
    app = CardApp(card)
    async with app.run_test() as pilot:
        worker = card.compute()
        for _ in range(100):
            if worker.is_finished:
                break
            await pilot.pause(0.02)
        card.state = worker.state
    return card, app


def remove_card(card: Card) -> None:
    """Removal marks the card and its children at once; the children go first, then the card
    unmounts, and only that cancels its workers."""
    card.remove()  # not awaited: the removal goes on while the thread runs


@pytest.mark.parametrize("fail", [False, True], ids=["returned", "raised"])
async def test_a_widget_removed_while_its_thread_runs_stops_its_worker_without_failing_the_app(fail):
    card, app = await run_card(remove_card, fail)
    assert card.state == WorkerState.CANCELLED
    assert not card.wrote
    assert app._exception is None  # run_test would have raised it already; said for the reader


async def test_quitting_while_a_thread_runs_stops_the_worker_without_failing_the_app():
    card = Card(lambda card: card.app.exit())
    app = CardApp(card)
    async with app.run_test() as pilot:
        worker = card.compute()
        for _ in range(100):
            if worker.is_finished or not app.is_running:
                break
            await pilot.pause(0.02)
    assert not card.wrote  # the worker stopped at the await: nothing touched the widgets going away


async def test_a_widget_still_shown_gets_its_answer():
    card, _ = await run_card(None)
    assert card.state == WorkerState.SUCCESS and card.wrote


async def test_outside_a_worker_it_is_a_plain_thread_call():
    assert await in_thread(sum, [1, 2, 3]) == 6
    assert await off_loop(asyncio.sleep(0, "done")) == "done"
    assert issubclass(WidgetGone, asyncio.CancelledError)  # what makes Textual's worker stop quietly


async def test_gone_reads_a_marked_subtree_and_a_closing_app():
    card = Card(None)
    app = CardApp(card)
    async with app.run_test():
        child = card.query_one("#card-text")
        assert not gone(card) and not gone(child)
        card.remove()  # marks the card and its child at once, removes them later
        assert gone(card) and gone(child)


def test_the_ui_layer_runs_threads_only_through_off_loop():
    """Every thread the UI awaits, and every polling sleep, comes back through off_loop: a new
    `asyncio.to_thread`, `run_in_executor`, `wrap_future` or `asyncio.sleep` awaited bare would
    bring the race back (sleep_here is the polling loop's sleep)."""
    bare = []
    for path in sorted(UI.glob("*.py")):
        if path.name == "off_thread.py":
            continue
        tree = ast.parse(path.read_text())
        wrapped = {id(arg) for node in ast.walk(tree) if isinstance(node, ast.Call)
                   and ast.unparse(node.func) == "off_loop" for arg in node.args}
        inner = set()
        for node in ast.walk(tree):  # a thread call inside wait_for(...) inside off_loop(...)
            if isinstance(node, ast.Call) and id(node) in wrapped:
                inner |= {id(n) for n in ast.walk(node)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or id(node) in inner:
                continue
            name = ast.unparse(node.func)
            waits = name == "asyncio.sleep" and ast.unparse(node.args[0]) != "0"  # sleep(0) only yields
            if waits or name.split(".")[-1] in ("to_thread", "run_in_executor", "wrap_future"):
                bare.append(f"{path.name}:{node.lineno}")
    assert bare == []


def test_the_thread_in_the_tests_really_ran_in_another_thread():
    """(The race needs a real thread: in_thread is not run inline.)"""
    seen = []
    asyncio.run(in_thread(lambda: seen.append(threading.current_thread() is not threading.main_thread())))
    assert seen == [True]


class LooksForItsChild(Vertical):
    """A parent whose worker keeps looking up its child (as a pane's polling does), beside a child
    slow to unmount: while the app closes, the one child is gone and the parent still runs."""

    def compose(self) -> ComposeResult:
        yield Static("", id="watched-text")
        yield SlowToGo("")

    def on_mount(self) -> None:
        self.look()

    @work(group="look")
    async def look(self) -> None:
        while True:
            self.query_one("#watched-text", Static)
            await asyncio.sleep(0.005)


async def test_quitting_while_a_parent_still_looks_for_its_removed_child_is_a_clean_quit(runs_dir):
    """The app's own: L4App lets that one error pass while it closes (and only then)."""
    from conftest import REPO
    from l4tui.ui.app import L4App

    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test() as pilot:
        await app.screen.mount(LooksForItsChild())
        await pilot.pause(0.05)
        assert app.was_ready
    assert app.return_code in (0, None) and app._exception is None


async def test_a_missing_child_while_the_app_runs_still_fails_it(runs_dir):
    from textual.css.query import NoMatches

    from conftest import REPO
    from l4tui.ui.app import L4App

    app = L4App(runs_dir=runs_dir, workspace=REPO)
    with pytest.raises(NoMatches):
        async with app.run_test() as pilot:
            await pilot.pause(0.05)
            app.call_later(lambda: app.query_one("#no-such-widget"))
            await pilot.pause(0.2)
