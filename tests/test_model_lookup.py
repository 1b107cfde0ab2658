"""The Activations tab finds users and movies with the embeddings screen's lookup: an ambiguous
movie is offered as choices, never settled silently."""

import pytest
from textual.widgets import Static, TabbedContent

from conftest import REPO, wait_until
from l4tui.inspect.catalog import Sizes, find_model
from l4tui.inspect.subject import AmbiguousInput, InputError, collab_rows, fresh_subject, pair_text
from l4tui.ui.app import L4App
from l4tui.ui.model_pane import ModelPane
from l4tui.ui.picker import PickerScreen


@pytest.fixture(scope="module")
def collab():
    return fresh_subject(find_model("collab"), Sizes(preset="small"))


def test_a_pair_is_read_with_the_shared_lookup(collab):
    user, wild = collab.users.index(13) + 1, collab.items.index(160) + 1  # 160: The Wild Mountain (1975)
    for typed in ("13, The Wild Mountain (1975)", "13, the wild mountain (1975)", "u13, m160", "user 13, 160",
                  "13, wild mountain 1975"):
        assert collab_rows(collab, typed) == (user, wild), typed
    with pytest.raises(AmbiguousInput) as ambiguous:
        collab_rows(collab, "13, mountain")
    error = ambiguous.value
    assert error.part == 1 and error.parts == ("13", "mountain")
    assert len(error.found.choices) >= 7 and "The Wild Mountain (1975)" in [m.label for m in error.found.choices]
    chosen = next(m for m in error.found.choices if m.id == "160")
    assert pair_text(collab, error.parts, error.part, chosen) == "13, The Wild Mountain (1975)"
    with pytest.raises(InputError, match="is a movie: type the user first"):
        collab_rows(collab, "movie 160, 13")


async def test_an_ambiguous_movie_in_the_activations_tab_offers_the_choices(runs_dir):
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        pane = app.query_one(ModelPane)
        assert await wait_until(pilot, lambda: pane.subject is not None and app.query_one("#act-table").row_count > 0)
        assert pane.subject.name == "collab"
        app.query_one("#model-tabs", TabbedContent).active = "tab-acts"
        box = app.query_one("#act-input")
        box.value = "13, mountain"
        box.focus()
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        labels = [item.label for item in app.screen.items]
        assert all("Mountain" in label for label in labels[:7])
        assert "pick one" in str(app.query_one("#act-status", Static).render())
        await pilot.press("down", "enter")
        assert await wait_until(pilot, lambda: not isinstance(app.screen, PickerScreen))
        assert box.value == f"13, {labels[1]}"
        assert await wait_until(pilot, lambda: f"user 13 and {labels[1]}" in str(
            app.query_one("#act-output", Static).render()))


async def test_a_burst_of_keys_in_the_activations_box_is_taken_in_order(runs_dir):
    """Over SSH a paste or a fast typist's keys arrive in one read: Ctrl-U (clear), the text,
    Enter. A plain Input ran Ctrl-U's binding after the text it had already inserted, and
    Enter then submitted an empty box (\"can't use this input\")."""
    from textual import events

    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        pane = app.query_one(ModelPane)
        assert await wait_until(pilot, lambda: pane.subject is not None and app.query_one("#act-table").row_count > 0)
        app.query_one("#model-tabs", TabbedContent).active = "tab-acts"
        app.query_one("#act-input").focus()
        await pilot.pause()
        names = {",": "comma", " ": "space"}
        burst = [("ctrl+u", None)] + [(names.get(c, c), c) for c in "13, mountain"] + [("enter", "\r")]
        for key, character in burst:  # all queued before the first is handled, as one read
            app.post_message(events.Key(key, character))
        assert await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        assert app.query_one("#act-input").value == "13, mountain"


def test_every_text_box_of_the_app_takes_keys_in_order():
    """Each text box is an InOrderInput (key_order.py), so a burst is never reordered."""
    import re
    from pathlib import Path

    plain = [f"{path.name}:{number}" for path in sorted((REPO / "l4tui" / "ui").glob("*.py"))
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if re.search(r"(?<![A-Za-z])Input\(", line) and "class " not in line]
    assert plain == []
