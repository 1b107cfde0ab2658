"""The Model pane's Results tab driven as a learner drives it: a classifier run's confusion matrix,
top losses and the words that pushed a review; a collab run's worst-predicted ratings."""

from textual.widgets import DataTable, OptionList, Static, TabbedContent

from conftest import REPO, wait_until
from made_runs import make_run
from l4tui.inspect.interpret import class_results, classify_texts
from l4tui.inspect.predict import load_predictor
from l4tui.train.validation import validation_items
from l4tui.ui.app import L4App
from l4tui.ui.model_pane import ModelPane


def shown(app, selector) -> str:
    return str(app.query_one(selector, Static).render())


async def choose(pilot, app, model: str, weights_label: str):
    pane = app.query_one(ModelPane)
    options = app.query_one("#model-list", OptionList)
    assert await wait_until(pilot, lambda: pane.entries)
    options.focus()
    options.highlighted = [e.name for e in pane.entries].index(model)
    await pilot.press("enter")
    # The fresh model first: a build holds the model until it is done.
    assert await wait_until(pilot, lambda: pane.subject is not None and pane.subject.name == model)
    weights = app.query_one("#weights-list", OptionList)
    assert await wait_until(pilot, lambda: any(str(o.prompt) == weights_label for o in weights.options))
    weights.focus()
    weights.highlighted = [str(o.prompt) for o in weights.options].index(weights_label)
    await pilot.press("enter")
    assert await wait_until(pilot, lambda: pane.subject is not None and pane.subject.name == model
                            and pane.subject.weights != "fresh")
    tabs = app.query_one("#model-tabs", TabbedContent)
    assert tabs.get_tab("tab-results").display
    tabs.active = "tab-results"
    return pane


async def test_results_show_a_classifiers_matrix_and_a_collab_runs_worst_ratings(runs_dir):
    make_run(runs_dir, "classifier", name="20261206-000000-classifier-ab12", steps=5)
    make_run(runs_dir, "collab", name="20261206-000000-collab-cd34", steps=5)
    subject = load_predictor("20261206-000000-classifier-ab12", runs_dir)
    items = validation_items("classifier", subject.config)
    expected = class_results(classify_texts(subject, items.texts), items.targets, subject.classes)

    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await choose(pilot, app, "classifier", "ab12 best")
        assert await wait_until(pilot, lambda: "confusion matrix" in shown(app, "#res-matrix"), timeout=120)
        matrix = shown(app, "#res-matrix").splitlines()
        for a, name in enumerate(subject.classes):
            row = next(line for line in matrix if line.startswith(name))
            assert [int(n.replace(",", "")) for n in row.split()[1:]] == expected.matrix[a].tolist()
        assert f"accuracy {expected.accuracy:.1%}" in shown(app, "#res-head")
        table = app.query_one("#res-table", DataTable)
        losses = [float(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert losses == sorted(losses, reverse=True) and losses[0] == round(expected.losses.max(), 3)
        # w on the highlighted top loss: its words, coloured, with the legend
        table.focus()
        await pilot.press("w")
        assert await wait_until(pilot, lambda: "top loss 1: predicted" in shown(app, "#res-words"))
        assert "towards negative" in shown(app, "#res-words") and "strongest:" in shown(app, "#res-words")
        # a review of one's own
        await pilot.press("e")
        box = app.query_one("#res-review")
        assert app.focused is box
        box.value = "A wonderful film"
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: "your review: predicted" in shown(app, "#res-words"))
        assert "wonderful" in shown(app, "#res-words")

        await choose(pilot, app, "collab", "cd34 best")
        assert await wait_until(pilot, lambda: "validation ratings: RMSE" in shown(app, "#res-head"), timeout=120)
        table = app.query_one("#res-table", DataTable)
        assert await wait_until(pilot, lambda: table.row_count == 30)
        errors = [abs(float(table.get_row_at(i)[4])) for i in range(table.row_count)]
        assert errors == sorted(errors, reverse=True)
        assert not app.query_one("#res-review").display and not app.query_one("#res-matrix").display
