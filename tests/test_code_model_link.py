"""The Code pane and the Model pane linked (ui/tensor_link.py): K on `self.u_weight` shows its
tensor in fresh weights and in a run's checkpoint, `m` goes to it in the Parameters tab, and `gd`
on a layer in the Layers tab opens its class in the Code pane."""

import torch
from textual.widgets import DataTable, Static, TabbedContent

from conftest import REPO, wait_until
from made_runs import make_run
from l4tui.inspect.subject import sample_ratings
from l4tui.ui.app import L4App
from l4tui.ui.code_view import CodeView
from l4tui.ui.tensor_link import TensorDocScreen


def shown(app, selector) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def k_on(pilot, app, written: str, name: str) -> None:
    """The cursor on `name` in the line of collab.py that has `written`, then K."""
    view = app.query_one(CodeView)
    assert await wait_until(pilot, lambda: view.path is not None and view.path.name == "collab.py")
    line = next(i for i, text in enumerate(view.lines) if written in text)
    view.move_to(line, view.lines[line].index(name) + 1)
    await pilot.press("K")
    assert await wait_until(pilot, lambda: isinstance(app.screen, TensorDocScreen))
    assert await wait_until(pilot, lambda: "largest norm" in shown(app, "#tensor-text")
                            or "could not" in shown(app, "#tensor-text"), timeout=120)


async def test_k_on_u_weight_fresh_then_m_shows_it_in_the_parameters_tab(runs_dir):
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 48)) as pilot:
        await pilot.press("3")  # the Model pane builds collab, fresh: K looks in that very model
        pane = app.query_one("#model-pane")
        assert await wait_until(pilot, lambda: pane.subject is not None, timeout=120)
        await pilot.press("1")
        await k_on(pilot, app, "self.u_weight = nn.Embedding", "u_weight")
        text = shown(app, "#tensor-text")
        weight = pane.subject.model.u_weight.weight
        assert "self.u_weight in collab · fresh" in text and "what the Model pane shows" in text
        assert "u_weight.weight" in text and f"{weight.shape[0]}×{weight.shape[1]} · float32 · trains" in text
        assert f"mean {weight.mean().item():.4g}" in text and f"max {weight.max().item():.4g}" in text
        assert "largest norm (users): " in text and "user " in text
        assert "Embedding" in shown(app, "#doc-text")  # jedi's signature and docstring stay above
        await pilot.press("escape")
        # a method is no tensor: K shows its docstring alone (and builds no language model)
        from l4tui.code.location import Location
        from l4tui.modelfiles import bundled_models_dir
        from l4tui.ui.code_pane import CodePane

        view = app.query_one(CodeView)
        app.query_one(CodePane).open_location(Location(bundled_models_dir() / "awd_lstm.py", 1, 0))
        assert await wait_until(pilot, lambda: view.path.name == "awd_lstm.py"
                                and any("self._change_batch_size(bs)" in text for text in view.lines))
        line = next(i for i, text in enumerate(view.lines) if "self._change_batch_size(bs)" in text)
        view.move_to(line, view.lines[line].index("_change_batch_size") + 1)
        await pilot.press("K")
        assert await wait_until(pilot, lambda: app.screen.query("#doc-text"))
        assert not isinstance(app.screen, TensorDocScreen)
        await pilot.press("escape")
        await pilot.press("ctrl+o")  # back to collab.py
        await k_on(pilot, app, "self.u_weight = nn.Embedding", "u_weight")

        await pilot.press("m")
        assert await wait_until(pilot, lambda: app.query_one("#model-tabs", TabbedContent).active == "tab-params"
                                and str(app.query_one("#params-head", Static).render()).startswith("u_weight (Embedding)"))
        table = app.query_one("#params-table", DataTable)
        assert str(table.get_row_at(table.cursor_row)[0]) == "weight"
        assert pane.subject.model.u_weight.weight is weight  # not rebuilt: the same model


async def test_k_in_the_checkpoint_of_the_run_selected_in_pane_2(runs_dir):
    run_dir, _ = make_run(runs_dir, "collab", name="20261206-000000-collab-k1k1", steps=6)
    checkpoint = torch.load(run_dir / "checkpoints" / "best.pt", weights_only=True)
    saved = checkpoint["model"]
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 48)) as pilot:
        await pilot.press("2")
        assert await wait_until(pilot, lambda: app.query_one("#runs-table", DataTable).row_count == 1)
        await pilot.press("1")
        await k_on(pilot, app, "self.i_weight = nn.Embedding", "i_weight")
        text = shown(app, "#tensor-text")
        assert "collab · 20261206-000000-collab-k1k1 · best" in text and "the run selected in pane 2" in text
        weight = saved["i_weight.weight"]
        assert f"{weight.shape[0]}×{weight.shape[1]}" in text and f"mean {weight.mean().item():.4g}" in text
        # its rows with the largest norm, by their movie titles
        top = int(torch.linalg.vector_norm(weight, dim=1).argmax())
        items = checkpoint["items"]
        titles = sample_ratings(checkpoint["config"].get("data")).titles
        title = titles.get(items[top - 1], f"item {items[top - 1]}") if top else "#na#"
        assert "largest norm (movies): " + title in text

        # w: other weights; fresh ones
        await pilot.press("w")
        assert await wait_until(pilot, lambda: app.screen.__class__.__name__ == "PickerScreen" and app.screen.items)
        labels = [item.label for item in app.screen.items]
        assert labels[0].startswith("collab · fresh") and "collab · 20261206-000000-collab-k1k1 · best" in labels
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: isinstance(app.screen, TensorDocScreen)
                                and "collab · fresh" in shown(app, "#tensor-text")
                                and "largest norm" in shown(app, "#tensor-text"), timeout=120)


async def test_gd_on_a_layer_opens_its_class_in_the_code_pane(runs_dir):
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        pane = app.query_one("#model-pane")
        assert await wait_until(pilot, lambda: pane.subject is not None, timeout=120)
        table = app.query_one("#model-table", DataTable)
        assert await wait_until(pilot, lambda: table.row_count > 1)
        table.focus()
        await pilot.press("g", "d")  # on the model's own row: EmbeddingDotBias
        view = app.query_one(CodeView)
        assert await wait_until(pilot, lambda: app.query_one("#panes", TabbedContent).active == "code"
                                and view.path is not None and view.path.name == "collab.py"
                                and view.lines[view.cursor_line].startswith("class EmbeddingDotBias"))
        # back in the Model pane, a layer of torch's: nn.Embedding, in torch's source
        await pilot.press("3")
        table.focus()
        await pilot.press("down", "g", "d")
        assert await wait_until(pilot, lambda: view.path.name == "sparse.py"
                                and view.lines[view.cursor_line].startswith("class Embedding"))
        # `g` alone is still the gradients
        await pilot.press("3")
        table.focus()
        await pilot.press("g")
        assert await wait_until(pilot, lambda: app.query_one("#grads-table", DataTable).row_count == 4)


USER_MODEL = """
from pathlib import Path
import torch
Path(__file__).with_name("IMPORTED").write_text("yes")


class Mine(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(3, 2)

    def forward(self, x):
        return self.linear(x)

    def example_input(self):
        return torch.zeros(2, 3)
"""


async def test_k_in_a_users_model_never_runs_it_until_the_model_pane_built_it(runs_dir, tmp_path):
    from l4tui.code.location import Location
    from l4tui.ui.code_pane import CodePane

    workspace = tmp_path / "project"
    (workspace / "models").mkdir(parents=True)
    mine = workspace / "models" / "mine.py"
    mine.write_text(USER_MODEL)
    app = L4App(runs_dir=runs_dir, workspace=workspace)
    async with app.run_test(size=(120, 48)) as pilot:
        view = app.query_one(CodeView)
        app.query_one(CodePane).open_location(Location(mine, 1, 0))
        assert await wait_until(pilot, lambda: view.path is not None and view.path.name == "mine.py"
                                and any("self.linear = " in text for text in view.lines))

        async def k() -> str:
            line = next(i for i, text in enumerate(view.lines) if "self.linear = " in text)
            view.move_to(line, view.lines[line].index("linear") + 1)
            await pilot.press("K")
            assert await wait_until(pilot, lambda: isinstance(app.screen, TensorDocScreen)
                                    and "looking for" not in shown(app, "#tensor-text")
                                    and "building" not in shown(app, "#tensor-text"))
            return shown(app, "#tensor-text")

        text = await k()
        assert "K never runs it" in text and "3, Enter on mine.Mine" in text
        assert not (mine.parent / "IMPORTED").exists()
        await pilot.press("escape")
        await pilot.press("3")  # the user builds it: Enter in the Model pane
        pane = app.query_one("#model-pane")
        assert await wait_until(pilot, lambda: any(e.name == "mine.Mine" for e in pane.entries))
        pane.choose(next(e for e in pane.entries if e.name == "mine.Mine"))
        assert await wait_until(pilot, lambda: pane.subject is not None and pane.subject.name == "mine.Mine",
                                timeout=120)
        await pilot.press("1")
        text = await k()
        assert "self.linear in mine.Mine" in text and "what the Model pane shows" in text
        assert "linear.weight  parameter · 2×3 · float32 · trains" in text and "linear.bias" in text
