"""The Model pane driven as a learner drives it: layers, parameters, activations and predictions,
fresh weights and a run's checkpoints."""

import math

import torch
from textual.widgets import OptionList, Static, TabbedContent, Tabs

from conftest import REPO, wait_until
from fake_runs import write_fake_run
from l4tui.inspect.activations import any_hooks_left
from l4tui.inspect.subject import sample_ratings
from l4tui.modelfiles import load_model_file
from l4tui.presets import PRESETS
from l4tui.ui.app import L4App
from l4tui.ui.model_pane import ModelPane


def shown(app, selector) -> str:
    return str(app.query_one(selector, Static).render())


def rows(app, selector):
    table = app.query_one(selector)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def open_pane(pilot, app):
    await pilot.press("3")
    pane = app.query_one(ModelPane)
    assert await wait_until(pilot, lambda: pane.subject is not None and app.query_one("#act-table").row_count > 0)
    return pane


async def test_collab_prediction_is_the_dot_product_plus_biases_through_the_sigmoid(runs_dir):
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_pane(pilot, app)
        await pilot.press("right_square_bracket", "right_square_bracket")  # Layers, Parameters, Activations
        assert app.query_one("#model-tabs", TabbedContent).active == "tab-acts"
        box = app.query_one("#act-input")
        box.value = "13, 50"  # user 13 and movie 50 of the bundled sample
        box.focus()
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: "user 13 and" in shown(app, "#act-output"))
        model = pane.subject.model
        users, items = pane.subject.users, pane.subject.items
        u, i = users.index(13) + 1, items.index(50) + 1
        by_hand = (model.u_weight.weight[u] @ model.i_weight.weight[i] + model.u_bias.weight[u, 0]
                   + model.i_bias.weight[i, 0]).item()
        predicted = 1 / (1 + math.exp(-by_hand)) * 5.5
        output = shown(app, "#act-output")
        assert f"predicted rating {predicted:.3f}" in output
        assert f"= {by_hand:+.4f}" in output
        assert not any_hooks_left(model)
        # The layers' outputs: the four embeddings, then the model's own.
        names = [r[0] for r in rows(app, "#act-table")]
        assert names[0] == "(model)" and set(names[1:]) == {"u_weight", "i_weight", "u_bias", "i_bias"}
        # A user the model never saw: a message, not a crash.
        box.value = "99999, 50"
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: "cold-start" in shown(app, "#act-status"))
        box.value = ""
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: "separated by a comma" in shown(app, "#act-status"))
        assert app.is_running


async def test_parameters_follow_the_layer_and_gradients_are_zero_when_frozen(runs_dir):
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_pane(pilot, app)
        app.query_one("#model-tabs", TabbedContent).active = "tab-layers"
        table = app.query_one("#model-table")
        table.focus()
        await pilot.press("down")  # u_weight
        assert await wait_until(pilot, lambda: shown(app, "#params-head").startswith("u_weight (Embedding)"))
        [weight] = rows(app, "#params-table")
        stats = pane.subject.model.u_weight.weight
        assert weight[:2] == ["weight", "944×50"] and weight[2] == f"{stats.mean().item():.4g}"
        assert "histogram of its 47,200 numbers" in shown(app, "#params-hist")
        # Freeze the movie biases by hand: one backward pass gives them a gradient norm of 0.
        pane.subject.model.i_bias.weight.requires_grad_(False)
        app.query_one("#model-tabs", TabbedContent).active = "tab-params"
        await pilot.pause()
        app.query_one("#params-table").focus()
        await pilot.press("g")
        assert await wait_until(pilot, lambda: app.query_one("#grads-table").row_count == 4)
        norms = {r[0]: r for r in rows(app, "#grads-table")}
        assert norms["i_bias"][1] == "0" and norms["i_bias"][3] == "frozen"
        assert float(norms["u_weight"][1]) > 0 and norms["u_weight"][3] == "yes"
        assert pane.subject.model.u_weight.weight.grad is None  # the model is left as found
        # Folding: Enter on the model's row hides its children.
        app.query_one("#model-tabs", TabbedContent).active = "tab-layers"
        await pilot.pause()
        table.focus()
        await pilot.press("up", "enter")
        assert table.row_count == 1 and rows(app, "#model-table")[0][0].startswith("▸")


async def open_small_lm(pilot, app):
    """The Model pane on the language model (the first in the list) at the small preset: fast."""
    pane = await open_pane(pilot, app)
    await pilot.press("p")
    options = app.query_one("#model-list", OptionList)
    options.focus()
    options.highlighted = 0
    await pilot.press("enter")
    return pane


async def test_language_model_activations_over_time_and_bad_input(runs_dir):
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_small_lm(pilot, app)
        assert await wait_until(pilot, lambda: pane.subject is not None and pane.subject.name == "lm"
                                and "next word" in shown(app, "#act-output"))
        table = rows(app, "#act-table")
        lstm = next(r for r in table if r[0] == "0.rnns.0.module")
        typed = app.query_one("#act-input").value  # the first input: a prompt of words of its vocab
        n_tokens = len(pane.subject.vocab.numericalize(__import__("l4tui.data.tokenizer", fromlist=["x"]).tokenize(
            typed)))
        assert lstm[1] == f"1×{n_tokens}×{PRESETS['small']['n_hid']}"  # the small preset's hidden size, one step per token
        decoder = next(r for r in table if r[0] == "1.decoder")
        assert decoder[1] == f"1×{n_tokens}×60000"
        assert not any_hooks_left(pane.subject.model)
        # The heat map of an LSTM: its hidden units over the time steps.
        app.query_one("#model-tabs", TabbedContent).active = "tab-acts"
        grid = app.query_one("#act-table")
        grid.focus()
        grid.move_cursor(row=[r[0] for r in table].index("0.rnns.0.module"))
        await pilot.pause()
        assert "hidden units (rows) over" in shown(app, "#act-heatmap")
        box = app.query_one("#act-input")
        box.value = "   "
        box.focus()
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: "type a sentence" in shown(app, "#act-status"))
        # The Generate tab belongs to the language model.
        tabs = app.query_one("#model-tabs", TabbedContent)
        assert tabs.get_tab("tab-generate").display and not tabs.get_tab("tab-interpret").display
        # Its boxes: a wrong one is named, in the words the boxes show.
        tabs.active = "tab-generate"
        await pilot.pause()
        for box, value, says in (("#gen-temperature", "Z", "temperature must be a number, not 'Z'"),
                                 ("#gen-words", "2.5", "words must be a whole number, not '2.5'"),
                                 ("#gen-top-k", "0", "top-k must be at least 1 (or empty: every token)")):
            app.query_one("#gen-prompt").value = "the movie"
            app.query_one(box).value = value
            app.query_one(box).focus()
            await pilot.press("enter")
            assert await wait_until(pilot, lambda: f"can't generate: {says}" in shown(app, "#gen-text")), box
            app.query_one(box).value = {"#gen-temperature": "0.75", "#gen-words": "20", "#gen-top-k": ""}[box]


async def test_tabular_row_form_and_a_runs_checkpoints(runs_dir):
    # A collab run with two epochs of weights, written as the training worker writes them.
    collab = load_model_file("collab")
    ratings = sample_ratings()
    users = sorted(set(ratings.table["user"].tolist()))
    items = sorted(set(ratings.table["item"].tolist()))
    run_dir = write_fake_run(runs_dir, "20260101-000000-collab-ab12", epochs=2)
    (run_dir / "checkpoints").mkdir()
    for epoch in (1, 2):
        torch.manual_seed(epoch)
        model = collab.EmbeddingDotBias(8, len(users) + 1, len(items) + 1, y_range=(0.0, 5.5))
        torch.save({"model": model.state_dict(), "family": "collab", "stage": 0, "epoch": epoch - 1,
                    "config": {"y_range": [0.0, 5.5], "n_factors": 8}, "users": users, "items": items},
                   run_dir / "checkpoints" / f"epoch-00{epoch}.pt")
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_pane(pilot, app)
        weights = app.query_one("#weights-list", OptionList)
        labels = [str(option.prompt) for option in weights.options]
        assert labels[0] == "fresh (lesson)" and labels[1:] == ["ab12 epoch 1", "ab12 epoch 2"]
        weights.focus()
        weights.highlighted = 2
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: pane.subject.weights == "20260101-000000-collab-ab12 · epoch 2")
        assert torch.equal(pane.subject.model.u_weight.weight, model.u_weight.weight)
        assert "epoch 2" in shown(app, "#model-title")
        assert await wait_until(pilot, lambda: "Lowest biases" in shown(app, "#interp-biases"))
        assert await wait_until(pilot, lambda: "Most similar to" in shown(app, "#interp-similar"))
        # The tabular model: a row typed in a form; a word in a continuous column is refused.
        options = app.query_one("#model-list", OptionList)
        options.focus()
        options.highlighted = 2
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: pane.subject.name == "tabular"
                                and "prediction:" in shown(app, "#act-output"))
        assert "salary is" in shown(app, "#act-output")
        age = next(i for i, name in enumerate(app.query_one("ActivationsTab").form_names) if name == "age")
        field = app.query_one(f"#act-field-{age}")
        field.value = "forty"
        field.focus()
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: "age is a continuous column: 'forty' is not a number"
                                in shown(app, "#act-status"))


async def test_the_pretrained_language_model_is_listed_before_any_fine_tuning(runs_dir, tmp_path, monkeypatch):
    from zoo_standin import write_standin

    from l4tui.data.download import get_dataset

    monkeypatch.setenv("L4TUI_DATA", str(tmp_path / "data"))
    write_standin(tmp_path / "data")
    get_dataset("wt103")  # as `l4tui data get wt103` leaves it
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_small_lm(pilot, app)
        assert await wait_until(pilot, lambda: pane.subject is not None and pane.subject.name == "lm")
        weights = app.query_one("#weights-list", OptionList)
        labels = [str(option.prompt) for option in weights.options]
        assert labels == ["fresh (small)", "wt103-fwd (pretrained)"]
        weights.focus()
        weights.highlighted = 1
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: "pretrained, not fine-tuned" in pane.subject.weights)
        assert pane.subject.vocab.itos[:2] == ["xxunk", "xxpad"] and len(pane.subject.vocab.itos) == 131
        tabs = app.query_one("#model-tabs", TabbedContent)
        assert tabs.get_tab("tab-generate").display  # Generate compares it with fine-tuned runs


async def test_at_80x24_the_layers_figures_are_whole_and_the_model_row_shows_tensors(runs_dir):
    """At 80x24 the Params column was cut to `133,9`, `47,20`: numbers are never cut; the text is."""
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(pilot, app)
        table = app.query_one("#model-table")
        await pilot.pause(0.2)
        region = table.scrollable_content_region
        total_width = sum(column.get_render_width(table) for column in table.columns.values())
        assert total_width <= region.width, "every column fits: none is cut at the right edge"
        counts = [row[2] for row in rows(app, "#model-table")]
        assert counts == ["133,977", "47,200", "84,150", "944", "1,683"]
        assert any(row[0].endswith("…") for row in rows(app, "#model-table"))  # the text is what gives way
        # The Parameters tab opens on the model's own tensors, not "0 tensors of its own".
        await pilot.press("right_square_bracket")
        assert await wait_until(pilot, lambda: "4 tensors in its children" in shown(app, "#params-head"))
        params = app.query_one("#params-table")
        assert params.row_count == 4
        assert await wait_until(pilot, lambda: sum(c.get_render_width(params) for c in params.columns.values())
                                <= params.scrollable_content_region.width)  # the figures whole here too
        assert [str(label) for label in (c.label for c in params.columns.values())][:4] == ["tensor", "shape", "mean", "std"]
        # What the narrow table leaves out, the histogram's line gives for the highlighted tensor.
        assert "histogram of its 47,200 numbers · " in shown(app, "#params-hist") and "trains" in shown(app, "#params-hist")


async def test_tab_keys_work_after_typing_into_the_activations_box_and_tabbing_out(runs_dir):
    """Typed into the box, Enter, Tab out: ] and [ went on being offered but did nothing (the focus
    moved to a widget of the hidden tab, which showed that tab again)."""
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pane(pilot, app)
        tabs = app.query_one("#model-tabs", TabbedContent)
        tabs.active = "tab-acts"
        app.query_one("#act-input").focus()
        await pilot.pause()
        footer = {binding.key for _, binding, _, _ in app.screen.active_bindings.values() if binding.show}
        assert "right_square_bracket" not in footer and "q" not in footer  # they type, here
        await pilot.press("end", "1", "enter")
        assert await wait_until(pilot, lambda: "user 1" in shown(app, "#act-output") or "can't" in shown(app, "#act-status"))
        await pilot.press("tab")
        await pilot.pause()
        assert app.focused.id == "act-table"
        await pilot.press("right_square_bracket")
        assert await wait_until(pilot, lambda: tabs.active == "tab-interpret")
        await pilot.pause(0.2)
        # Biases & factors has no table: the focus is on the tab bar, where [ and ] go on working.
        assert tabs.active == "tab-interpret" and app.focused is tabs.query_one(Tabs)
        await pilot.press("left_square_bracket")
        assert await wait_until(pilot, lambda: tabs.active == "tab-acts")
        assert app.focused is tabs.query_one(Tabs)  # it stays there, not in the box where ] would type
        app.query_one("#act-table").focus()
        await pilot.press("left_square_bracket")
        assert await wait_until(pilot, lambda: tabs.active == "tab-params")
        assert app.focused.id == "params-table"  # from a tab's table, to the other tab's table
        await pilot.press("right_square_bracket")
        assert await wait_until(pilot, lambda: tabs.active == "tab-acts")
        assert app.focused.id == "act-table"
        await pilot.press("question_mark")
        assert await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: app.focused is not None and app.focused.id == "act-table")
        await pilot.press("1")
        assert await wait_until(pilot, lambda: app.query_one("#panes", TabbedContent).active == "code")
