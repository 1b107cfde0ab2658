"""Remake the screenshots in docs/images/: the app drives itself and saves SVGs (Textual's own).

    python docs/screenshots.py            # all of them
    python docs/screenshots.py trust      # some groups: code notebook project sheet text
                                          # embeddings tabular runs model_pane results trust keys env code_model
                                          # tour serve

It trains real runs in a temporary runs folder (two collab runs, an lr_find, one run left
going), so the Data & training pictures show real curves. Takes about a minute.
"""

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(REPO))
# The pictures show the default keys, whatever keymap the person remaking them has.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="l4tui-docs-config-")

from textual.widgets import DataTable, Input  # noqa: E402

from l4tui.train.launcher import start_run  # noqa: E402
from l4tui.runs.store import read_run, stop_run  # noqa: E402
from l4tui.ui.app import L4App  # noqa: E402
from l4tui.ui.code_view import CodeView  # noqa: E402
from l4tui.ui.data_pane import DataPane  # noqa: E402
from l4tui.ui.launch_screen import LaunchScreen  # noqa: E402
from l4tui.ui.run_monitor import RunMonitor  # noqa: E402


def train_runs(runs: Path) -> dict[str, Path]:
    """Runs to look at, trained before the app opens: as if started from the shell earlier."""
    made = {"lr_find": start_run("collab", {}, runs, mode="lr_find")}
    made["slow"] = start_run("collab", {"lr": 2e-3, "epochs": 6}, runs)
    made["fast"] = start_run("collab", {"lr": 1e-2, "epochs": 6}, runs)
    deadline = time.monotonic() + 300
    while any(read_run(run).state in ("starting", "running") for run in made.values()):
        if time.monotonic() > deadline:
            raise TimeoutError("the runs did not finish")
        time.sleep(0.5)
    return made


async def shoot_runs(images: Path, size=(120, 36)) -> None:
    """The Data & training pane: the monitor, compare, lr_find, the launch form, and 80x24."""
    with tempfile.TemporaryDirectory() as name:
        runs = Path(name)
        made = train_runs(runs)
        app = L4App(runs_dir=runs, workspace=REPO)
        async with app.run_test(size=size) as pilot:
            await pilot.press("2")
            pane, monitor = app.query_one(DataPane), app.query_one(RunMonitor)
            table = app.query_one("#runs-table", DataTable)
            await until(pilot, lambda: table.row_count == 3 and pane.watched is not None)
            pane.watch_run(made["fast"])
            table.move_cursor(row=0)
            await until(pilot, lambda: not monitor._loading and monitor.progress.end)
            await pilot.pause(1.5)
            app.save_screenshot("runs-monitor.svg", str(images))

            await pilot.press("space", "down", "space", "c")  # mark the two collab runs, compare
            await until(pilot, lambda: len(monitor.comparing) == 2)
            await pilot.press("m")  # valid_loss -> valid_rmse
            await pilot.pause(0.5)
            app.save_screenshot("runs-compare.svg", str(images))
            await pilot.press("escape")

            pane.watch_run(made["lr_find"])
            await until(pilot, lambda: not monitor._loading and monitor.progress.end)
            await pilot.pause(0.5)
            app.save_screenshot("runs-lr-find.svg", str(images))

            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, LaunchScreen) and app.screen.data_items)
            form = app.screen
            form.query_one("#field-lr", Input).value = "-3e-3"
            form.query_one("#field-bs", Input).value = "100000"
            await pilot.pause(0.5)
            app.save_screenshot("runs-form-errors.svg", str(images))
            form.query_one("#field-lr", Input).value = "1e-2"
            form.query_one("#field-bs", Input).value = "128"
            form.query_one("#field-epochs", Input).value = "300"  # long enough to watch it live
            await pilot.pause(0.5)
            app.save_screenshot("runs-form.svg", str(images))
            await pilot.press("ctrl+s")  # a long run, to watch live
            await until(pilot, lambda: not isinstance(app.screen, LaunchScreen) and pane.watched is not None)
            live = pane.watched
        try:
            small = L4App(runs_dir=runs, workspace=REPO)
            async with small.run_test(size=(80, 24)) as pilot:
                await pilot.press("2")
                monitor = small.query_one(RunMonitor)
                await until(pilot, lambda: small.query_one(DataPane).watched == live
                            and len(monitor.progress.epoch_rows) >= 2)
                await pilot.pause(1.0)
                monitor._redraw()  # the charts follow every few seconds; the picture wants them current
                await pilot.pause(0.3)
                small.save_screenshot("runs-live-80x24.svg", str(images))
        finally:
            stop_run(live)


async def shoot_pretrained(images: Path, size=(120, 36)) -> None:
    """The launch form of a language model with its Pretrained field on wt103 (a small stand-in of
    fastai's archive, tests/zoo_standin.py, put in a temporary data folder as if downloaded)."""
    from textual.widgets import Select

    sys.path.insert(0, str(REPO / "tests"))
    from zoo_standin import write_standin

    from l4tui.data.download import get_dataset

    before = os.environ.get("L4TUI_DATA")
    with tempfile.TemporaryDirectory() as name:
        os.environ["L4TUI_DATA"] = str(Path(name) / "data")
        try:
            write_standin(Path(name) / "data")
            get_dataset("wt103")
            runs = Path(name) / "runs"
            runs.mkdir()
            app = L4App(runs_dir=runs, workspace=REPO)
            async with app.run_test(size=size) as pilot:
                await pilot.press("2", "n")
                await until(pilot, lambda: isinstance(app.screen, LaunchScreen))
                form = app.screen
                form.query_one("#field-family", Select).value = "lm"
                await until(pilot, lambda: bool(form.query("#field-pretrained")) and form.data_items)
                form.query_one("#field-pretrained", Select).value = "wt103"
                form.query_one("#field-preset", Select).value = "lesson"  # wt103's sizes
                await pilot.pause(0.5)
                app.save_screenshot("runs-form-pretrained.svg", str(images))
        finally:
            if before is None:
                os.environ.pop("L4TUI_DATA", None)
            else:
                os.environ["L4TUI_DATA"] = before


async def until(pilot, predicate, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        await pilot.pause(0.2)


async def shoot_code(images: Path, size=(100, 30)) -> None:
    """The Code pane as an editor: folds and breadcrumb, references, K, the symbol finder, 80x24."""
    from l4tui.ui.code_pane import CodePane
    from l4tui.ui.picker import PickerScreen

    with tempfile.TemporaryDirectory() as runs:
        app = L4App(runs_dir=Path(runs), workspace=REPO)
        async with app.run_test(size=size) as pilot:
            view = app.query_one(CodeView)
            pane = app.query_one(CodePane)
            await until(pilot, lambda: view.path is not None)
            forward = next(i for i, text in enumerate(view.lines) if "def forward(self, x)" in text)
            await pilot.press("z", "M", "colon", *str(forward + 3), "enter", "slash", *"u_weight", "enter")
            await pilot.pause(0.3)
            app.save_screenshot("code-folds.svg", str(images))
            await pilot.press("z", "R", "colon", *"noh", "enter")

            define = next(i for i, text in enumerate(view.lines) if "def sigmoid_range" in text)
            view.move_to(define, 5)
            await pilot.press("g", "r")
            await until(pilot, lambda: isinstance(app.screen, PickerScreen))
            await pilot.pause(0.3)
            app.save_screenshot("code-refs.svg", str(images))
            await pilot.press("escape")

            line = next(i for i, text in enumerate(view.lines) if "nn.Embedding(n_users" in text)
            view.move_to(line, view.lines[line].index("Embedding"))
            await pilot.press("K")
            await until(pilot, lambda: app.screen.query("#doc-text"))
            await pilot.pause(0.3)
            app.save_screenshot("code-doc.svg", str(images))
            await pilot.press("escape")

            await until(pilot, lambda: pane.index.done())
            await pilot.press("s", *"embdot")
            await until(pilot, lambda: isinstance(app.screen, PickerScreen) and app.screen.items)
            await pilot.pause(0.5)
            app.save_screenshot("code-symbols.svg", str(images))
            await pilot.press("escape")

    with tempfile.TemporaryDirectory() as runs:  # 80x24: the smallest terminal it is made for
        app = L4App(runs_dir=Path(runs), workspace=REPO)
        async with app.run_test(size=(80, 24)) as pilot:
            view = app.query_one(CodeView)
            await until(pilot, lambda: view.path is not None)
            line = next(i for i, text in enumerate(view.lines) if "nn.Embedding(n_users" in text)
            view.move_to(line, view.lines[line].index("Embedding"))
            await pilot.press("ctrl+right_square_bracket")
            await until(pilot, lambda: view.path.name == "sparse.py")
            await pilot.press("colon", *"tags", "enter")
            await until(pilot, lambda: isinstance(app.screen, PickerScreen))
            await pilot.pause(0.3)
            app.save_screenshot("code-tags-80x24.svg", str(images))


LESSON_NOTEBOOK = [  # (cell type, source): a lesson-4 notebook, as a user's own would look
    ("markdown", "# Lesson 4: collaborative filtering\n\nA dot product of user and movie factors, "
                 "plus biases,\nsquashed into the ratings' range."),
    ("code", "!pip install -Uqq torch\n%matplotlib inline\nimport torch\nfrom torch import nn"),
    ("markdown", "## The model\n\nOne embedding per user and per movie."),
    ("code", "def sigmoid_range(x, low, high):\n    return torch.sigmoid(x) * (high - low) + low\n\n"
             "class DotProductBias(nn.Module):\n    def __init__(self, n_users, n_movies, n_factors, "
             "y_range=(0, 5.5)):\n        super().__init__()\n        self.user_factors = nn.Embedding(n_users, "
             "n_factors)\n        self.movie_factors = nn.Embedding(n_movies, n_factors)\n"
             "        self.y_range = y_range\n\n    def forward(self, x):\n        users = self.user_factors(x[:, 0])\n"
             "        movies = self.movie_factors(x[:, 1])\n"
             "        return sigmoid_range((users * movies).sum(dim=1), *self.y_range)"),
    ("code", "model = DotProductBias(944, 1665, 50)\nmodel(torch.tensor([[1, 2]]))"),
]


async def shoot_notebook(images: Path, size=(100, 30)) -> None:
    """A notebook in the Code pane: its cells joined as Python, markdown folded, after Ctrl-]."""
    import json

    from l4tui.code.location import Location

    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryDirectory() as runs:
        notebook = Path(folder) / "lesson4.ipynb"
        notebook.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
            {"cell_type": kind, "metadata": {}, "source": source.splitlines(keepends=True),
             **({"execution_count": number, "outputs": []} if kind == "code" else {})}
            for number, (kind, source) in enumerate(LESSON_NOTEBOOK, 1)]}, indent=1))
        app = L4App(runs_dir=Path(runs), workspace=Path(folder), open_at=Location(notebook, 1, 0))
        async with app.run_test(size=size) as pilot:
            view = app.query_one(CodeView)
            await until(pilot, lambda: view.path is not None and view.document.highlighted)
            line = next(i for i, text in enumerate(view.lines) if text.startswith("model = DotProductBias"))
            view.move_to(line, 8)
            await pilot.press("ctrl+right_square_bracket")
            await until(pilot, lambda: view.cursor_line != line)
            await pilot.pause(0.3)
            app.save_screenshot("code-notebook.svg", str(images))


PROJECT_FILES = {  # a user's small project, as issue 19 tried it
    "pyproject.toml": "[project]\nname = 'shop'\n",
    ".gitignore": "build/\n*.log\n",
    "main.py": "import torch\nfrom util import add_tax, Cart\n\ncart = Cart()\ncart.items.append(10)\nprint(add_tax(10), cart.total())\n",
    "util.py": "TAX = 0.2\n\n\ndef add_tax(price):\n    return price * (1 + TAX)\n\n\nclass Cart:\n"
               "    def __init__(self):\n        self.items = []\n\n    def total(self):\n"
               "        return sum(add_tax(p) for p in self.items)\n",
    "shop/__init__.py": "",
    "shop/orders.py": "from util import Cart\n\n\ndef checkout(cart: Cart):\n    return cart.total()\n",
    "build/generated.py": "x = 1\n",
    "shop.log": "ignored\n",
}


async def shoot_project(images: Path) -> None:
    """The Code pane on a user's own project at 80x24: its tree (lesson beside it), and Ctrl-P
    finding the project's util.py before torch's utils."""
    from l4tui.paths import workspace_root
    from l4tui.code.location import Location
    from l4tui.ui.code_pane import CodePane
    from l4tui.ui.picker import PickerScreen

    with tempfile.TemporaryDirectory() as temp:
        project = Path(temp) / "shop"
        for name, text in PROJECT_FILES.items():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            (project / name).write_text(text)
        app = L4App(runs_dir=Path(temp) / "runs", workspace=workspace_root(project / "main.py"),
                    open_at=Location(project / "main.py", 2, 17))
        async with app.run_test(size=(80, 24)) as pilot:
            view = app.query_one(CodeView)
            pane = app.query_one(CodePane)
            await until(pilot, lambda: view.path is not None and pane.listing_done)
            await until(pilot, lambda: pane.index is not None and pane.index.done())
            tree = app.query_one("#models-tree")
            shop = next(node for node in tree.root.children if str(node.label) == "shop")
            shop.expand()
            await until(pilot, lambda: shop.children)
            await pilot.pause(0.5)
            app.save_screenshot("code-project.svg", str(images))
            await pilot.press("ctrl+p", *"util")
            await until(pilot, lambda: isinstance(app.screen, PickerScreen) and app.screen.items)
            await pilot.pause(0.5)
            app.save_screenshot("code-project-files.svg", str(images))


async def open_data_screen(pilot, app, key: str, ready) -> None:
    """Press `key` in the Data & training pane and wait until its screen says it is `ready()`."""
    await pilot.press("2")
    await pilot.pause(0.5)
    await pilot.press(key)
    await until(pilot, ready)


async def shoot_sheet(images: Path, size=(120, 32)) -> None:
    """The lesson's spreadsheet: random factors, then after gradient descent with biases and y_range."""
    from l4tui.ui.spreadsheet_screen import SpreadsheetScreen

    with tempfile.TemporaryDirectory() as runs:
        app = L4App(runs_dir=Path(runs), workspace=REPO)
        async with app.run_test(size=size) as pilot:
            await open_data_screen(pilot, app, "x", lambda: isinstance(app.screen, SpreadsheetScreen)
                                   and app.screen.state is not None)
            await pilot.pause(0.3)
            app.save_screenshot("spreadsheet-random.svg", str(images))
            await pilot.press("b", "y")
            for _ in range(6):  # 300 steps, in the lesson's spirit: press space and watch the loss fall
                app.screen.state.step(50)
                app.screen.refresh_sheet()
                await pilot.pause(0.05)
            await pilot.pause(0.3)
            app.save_screenshot("spreadsheet-trained.svg", str(images))


async def shoot_text(images: Path, size=(120, 48)) -> None:
    """Text to numbers: a review's tokens and ids, the rules, the vocab, an LM batch."""
    from l4tui.ui.text_screen import TextScreen

    with tempfile.TemporaryDirectory() as runs:
        app = L4App(runs_dir=Path(runs), workspace=REPO)
        async with app.run_test(size=size) as pilot:
            await open_data_screen(pilot, app, "t", lambda: isinstance(app.screen, TextScreen) and app.screen.figures)
            await pilot.press("e", *"I didn't like it.<br />The ENDING was sooo bad, a real zzyzx!", "enter")
            await pilot.pause(0.5)
            app.save_screenshot("text-steps.svg", str(images))


async def shoot_embeddings(images: Path, size=(120, 36)) -> None:
    """A trained collab run's movie embeddings: neighbours and the PCA map."""
    import subprocess
    import sys

    from l4tui.ui.embeddings_screen import EmbeddingsScreen

    async def open_embeddings(pilot, app) -> None:
        """Pane 2, the run's row listed, then `e` on it, its tables shown."""
        await pilot.press("2")
        await until(pilot, lambda: app.query_one("#runs-table").row_count == 1)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EmbeddingsScreen) and app.screen.tables)
        await pilot.pause(0.5)

    with tempfile.TemporaryDirectory() as runs:
        subprocess.run([sys.executable, "-m", "l4tui", "--runs", runs, "train", "collab", "--epochs", "4"],
                       check=True, capture_output=True, cwd=runs)
        app = L4App(runs_dir=Path(runs), workspace=REPO)
        async with app.run_test(size=size) as pilot:
            await open_embeddings(pilot, app)
            app.save_screenshot("embeddings.svg", str(images))
        # At 80x24: the neighbours with their years and cosines, then the choices for "mountain".
        app = L4App(runs_dir=Path(runs), workspace=REPO)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_embeddings(pilot, app)
            app.save_screenshot("embeddings-80x24.svg", str(images))
            app.screen.query_one("#emb-query").value = "mountain"
            await pilot.press("enter")
            await until(pilot, lambda: not isinstance(app.screen, EmbeddingsScreen))
            await pilot.pause(0.3)
            app.save_screenshot("embeddings-choices.svg", str(images))


async def shoot_tabular(images: Path, size=(120, 42)) -> None:
    """The adult sample's columns, and rows before and after the procs."""
    from l4tui.ui.tabular_screen import TabularScreen

    with tempfile.TemporaryDirectory() as runs:
        app = L4App(runs_dir=Path(runs), workspace=REPO)
        async with app.run_test(size=size) as pilot:
            await open_data_screen(pilot, app, "a", lambda: isinstance(app.screen, TabularScreen)
                                   and app.screen.processor)
            await pilot.pause(0.5)
            app.save_screenshot("tabular-steps.svg", str(images))


async def shoot_model_pane(images: Path, size=(120, 40)) -> None:
    """The Model pane on a trained collab run that recorded activation statistics, and on the LM."""
    import subprocess
    import sys

    from textual.widgets import OptionList, TabbedContent

    from l4tui.ui.model_pane import ModelPane

    with tempfile.TemporaryDirectory() as runs:
        for family, options in (("collab", ["--epochs", "4", "--activation-stats-every", "10"]),
                                ("lm", ["--epochs", "2"])):
            subprocess.run([sys.executable, "-m", "l4tui", "--runs", runs, "train", family, *options],
                           check=True, capture_output=True, cwd=runs)
        app = L4App(runs_dir=Path(runs), workspace=REPO)
        async with app.run_test(size=size) as pilot:
            await pilot.press("3")
            pane = app.query_one(ModelPane)
            tabs = app.query_one("#model-tabs", TabbedContent)
            await until(pilot, lambda: pane.subject is not None)
            weights = app.query_one("#weights-list", OptionList)
            weights.focus()
            weights.highlighted = next(i for i, o in enumerate(weights.options) if str(o.prompt).endswith("epoch 4"))
            await pilot.press("enter")
            await until(pilot, lambda: "epoch 4" in pane.subject.weights)
            tabs.active = "tab-acts"
            box = app.query_one("#act-input")
            box.value = "13, 50"
            box.focus()
            await pilot.press("enter")
            await until(pilot, lambda: "predicted rating" in str(app.query_one("#act-output").render()))
            await pilot.pause(0.5)
            app.save_screenshot("model-activations.svg", str(images))
            tabs.active = "tab-training"
            await until(pilot, lambda: app.query_one("#train-table").row_count > 0)
            await pilot.pause(0.5)
            app.save_screenshot("model-training.svg", str(images))
            tabs.active = "tab-interpret"
            await until(pilot, lambda: "Most similar" in str(app.query_one("#interp-similar").render()))
            await pilot.pause(0.3)
            app.save_screenshot("model-interpret.svg", str(images))
            tabs.active = "tab-layers"
            table = app.query_one("#model-table")
            table.focus()
            await pilot.press("down", "down")
            tabs.active = "tab-params"
            await pilot.pause(0.3)
            app.query_one("#params-table").focus()
            await pilot.press("g")
            await until(pilot, lambda: app.query_one("#grads-table").row_count > 0)
            await pilot.pause(0.5)
            app.save_screenshot("model-params.svg", str(images))
            # The language model of the second run: an LSTM's activations, and generated text.
            models = app.query_one("#model-list", OptionList)
            models.focus()
            models.highlighted = 0
            await pilot.press("enter")
            await until(pilot, lambda: pane.subject.name == "lm")
            weights.focus()
            weights.highlighted = next(i for i, o in enumerate(weights.options) if str(o.prompt).endswith("epoch 2"))
            await pilot.press("enter")
            await until(pilot, lambda: "epoch 2" in pane.subject.weights and app.query_one("#act-table").row_count)
            tabs.active = "tab-acts"
            grid = app.query_one("#act-table")
            grid.focus()
            grid.move_cursor(row=next(i for i in range(grid.row_count) if str(grid.get_row_at(i)[0]) == "0.rnns.1.module"))
            await pilot.pause(0.5)
            app.save_screenshot("model-lm-activations.svg", str(images))
            tabs.active = "tab-generate"
            app.query_one("#gen-prompt").focus()
            await pilot.press("enter")
            await until(pilot, lambda: app.query_one("#gen-steps").row_count > 0)
            await pilot.pause(0.3)
            app.save_screenshot("model-generate.svg", str(images))
        app = L4App(runs_dir=Path(runs), workspace=REPO)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("3")
            pane = app.query_one(ModelPane)
            await until(pilot, lambda: pane.subject is not None and app.query_one("#act-table").row_count)
            await pilot.press("right_square_bracket", "right_square_bracket")
            await pilot.pause(0.5)
            app.save_screenshot("model-80x24.svg", str(images))


async def shoot_code_model(images: Path, size=(110, 44)) -> None:
    """The Code pane and the Model pane linked: K on self.i_weight in a trained run, m, gd; tied weights."""
    import subprocess
    import sys

    from textual.widgets import TabbedContent

    from l4tui.code.location import Location
    from l4tui.modelfiles import bundled_models_dir
    from l4tui.ui.code_pane import CodePane
    from l4tui.ui.model_pane import ModelPane
    from l4tui.ui.tensor_link import TensorDocScreen

    def tensor_shown(app) -> bool:
        return isinstance(app.screen, TensorDocScreen) and "largest norm" in str(
            app.screen.query_one("#tensor-text").render())

    async def k_on(pilot, app, written: str, name: str) -> None:
        view = app.query_one(CodeView)
        await until(pilot, lambda: view.path is not None and any(written in text for text in view.lines))
        line = next(i for i, text in enumerate(view.lines) if written in text)
        view.move_to(line, view.lines[line].index(name) + 1)
        await pilot.press("K")
        await until(pilot, lambda: tensor_shown(app))
        await pilot.pause(0.5)

    with tempfile.TemporaryDirectory() as runs:
        for family in ("lm", "collab"):
            subprocess.run([sys.executable, "-m", "l4tui", "--runs", runs, "train", family, "--epochs", "3"],
                           check=True, capture_output=True, cwd=runs)
        app = L4App(runs_dir=Path(runs), workspace=REPO)
        async with app.run_test(size=size) as pilot:
            await pilot.press("2")
            runs_table = app.query_one("#runs-table", DataTable)
            await until(pilot, lambda: runs_table.row_count == 2)
            runs_table.move_cursor(row=next(i for i in range(2) if "collab" in str(runs_table.get_row_at(i))))
            await pilot.press("1")
            await k_on(pilot, app, "self.i_weight = nn.Embedding", "i_weight")
            app.save_screenshot("code-and-model-k.svg", str(images))
            await pilot.press("m")
            pane = app.query_one(ModelPane)
            await until(pilot, lambda: app.query_one("#model-tabs", TabbedContent).active == "tab-params"
                        and str(app.query_one("#params-head").render()).startswith("i_weight"))
            await pilot.pause(0.5)
            app.save_screenshot("code-and-model-params.svg", str(images))
            app.query_one("#model-tabs", TabbedContent).active = "tab-layers"
            table = app.query_one("#model-table", DataTable)
            table.focus()
            table.move_cursor(row=0)
            await pilot.press("g", "d")
            view = app.query_one(CodeView)
            await until(pilot, lambda: app.query_one("#panes", TabbedContent).active == "code"
                        and view.lines[view.cursor_line].startswith("class EmbeddingDotBias"))
            await pilot.pause(0.5)
            app.save_screenshot("code-and-model-gd.svg", str(images))
            assert pane.subject is not None
            # The language model's tied weights: the decoder's weight is the encoder's.
            app.query_one(CodePane).open_location(Location(bundled_models_dir() / "awd_lstm.py", 1, 0))
            await k_on(pilot, app, "self.decoder.weight = tie_encoder.weight", "weight")
            await pilot.press("w")  # the fine-tuned language model's weights, not fresh ones
            await until(pilot, lambda: getattr(app.screen, "items", None))
            app.screen.dismiss(next(item for item in app.screen.items if item.label.startswith("lm ·")
                                    and item.label.endswith("best")))
            await until(pilot, lambda: tensor_shown(app) and "best" in str(app.screen.query_one("#tensor-text").render()))
            await pilot.pause(0.5)
            await pilot.pause(0.5)
            app.save_screenshot("code-and-model-tied.svg", str(images))


async def shoot_trust(images: Path, size=(120, 30)) -> None:
    """A workspace that brings its own model files: looking runs none of them; building is tried first."""
    from textual.widgets import OptionList

    from l4tui.ui.model_pane import ModelPane

    with tempfile.TemporaryDirectory() as name:
        workspace = Path(name) / "project"
        (workspace / "models").mkdir(parents=True)
        (workspace / "models" / "collab.py").write_text((REPO / "models" / "collab.py").read_text())
        (workspace / "models" / "setup_then_model.py").write_text(
            "import sys\nsys.exit('run me with python setup_then_model.py --train')\n\n"
            "class Net:\n    def example_input(self):\n        return None\n")
        runs = Path(name) / "runs"
        bad = runs / "20261206-093000-collab-dead"
        bad.mkdir(parents=True)
        (bad / "run.json").write_text('{"id": "20261206-093000-collab-dead", "family": "collab", "pid": "abc"}')
        app = L4App(runs_dir=runs, workspace=workspace)
        async with app.run_test(size=size) as pilot:
            await pilot.press("3")
            pane = app.query_one(ModelPane)
            await until(pilot, lambda: len(pane.entries) > 5)
            await pilot.pause(0.5)
            app.save_screenshot("trust-not-built.svg", str(images))
            options = app.query_one("#model-list", OptionList)
            options.highlighted = [e.name for e in pane.entries].index("setup_then_model.Net")
            await pilot.press("enter")
            await until(pilot, lambda: "could not build" in str(app.query_one("#model-title").render()))
            await pilot.pause(0.3)
            app.save_screenshot("trust-model-error.svg", str(images))
            await pilot.press("2")
            await until(pilot, lambda: app.query_one("#runs-table", DataTable).row_count > 0)
            await pilot.pause(0.5)
            app.save_screenshot("trust-invalid-run.svg", str(images))


async def shoot_env(images: Path, size=(100, 24)) -> None:
    """The user's own project and virtualenv: Ctrl-] from their lesson.py into the fastai of their
    environment (a small stand-in made here, in a venv l4tui makes), the status line naming it."""
    import subprocess

    from l4tui.code.location import Location

    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        env = root / "fastai-env"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
        site = next(env.glob("lib/python3*/site-packages"))
        (site / "fastai").mkdir()
        (site / "fastai" / "__init__.py").write_text("")
        (site / "fastai" / "collab.py").write_text(
            '"""Collaborative filtering (a stand-in for fastai\'s own)."""\nfrom torch import nn\n\n\n'
            "class EmbeddingDotBias(nn.Module):\n    def __init__(self, n_factors, n_users, n_items):\n"
            "        self.u_weight = nn.Embedding(n_users, n_factors)\n\n\n"
            "def collab_learner(dls, n_factors=50):\n    return EmbeddingDotBias(n_factors, 3, 4)\n")
        project = root / "movies"
        project.mkdir()
        (project / ".git").mkdir()
        lesson = project / "lesson.py"
        lesson.write_text("from fastai.collab import collab_learner\n\nlearn = collab_learner(dls, n_factors=50)\n")
        os.environ["VIRTUAL_ENV"] = str(env)
        try:
            app = L4App(runs_dir=root / "runs", workspace=project, open_at=Location(lesson, 3, 8))
            async with app.run_test(size=size) as pilot:
                view = app.query_one(CodeView)
                await until(pilot, lambda: view.path == lesson)
                await pilot.press("ctrl+right_square_bracket")
                await until(pilot, lambda: view.path is not None and view.path.name == "collab.py")
                await pilot.pause(0.5)
                app.save_screenshot("code-env.svg", str(images))
        finally:
            del os.environ["VIRTUAL_ENV"]


async def shoot_keys(images: Path, size=(80, 24)) -> None:
    """`?` at 80x24: the Code pane's keys; then a keymap that moves quit to Ctrl-X, with a bad entry
    (its message at start, and Ctrl-X in the help)."""
    from textual.containers import VerticalScroll

    with tempfile.TemporaryDirectory() as name:
        config = Path(name) / "config.toml"
        app = L4App(runs_dir=Path(name) / "runs", workspace=REPO, config=config)
        async with app.run_test(size=size) as pilot:
            view = app.query_one(CodeView)
            await until(pilot, lambda: view.path is not None)
            await pilot.press("question_mark")
            await pilot.pause(0.5)
            app.save_screenshot("keys-help.svg", str(images))

        config.write_text('[keymap]\n"app.quit" = "ctrl+x"\n"app.qiut" = "ctrl+q"\n')
        app = L4App(runs_dir=Path(name) / "runs", workspace=REPO, config=config)
        async with app.run_test(size=size, notifications=True) as pilot:
            view = app.query_one(CodeView)
            await until(pilot, lambda: view.path is not None and app._notifications)
            await pilot.pause(0.5)
            app.save_screenshot("keys-bad-entry.svg", str(images))
            await pilot.press("question_mark")
            await pilot.pause(0.3)
            app.screen.query_one("#help-box", VerticalScroll).scroll_end(animate=False)
            await pilot.pause(0.5)
            app.save_screenshot("keys-remapped.svg", str(images))


async def shoot_tour(images: Path, size=(80, 24)) -> None:
    """The guided tour at 80x24: a card over the text screen, over a line of a model, over the Model
    pane's tab, and over the tiny run it starts (trained for real in a temporary runs folder)."""
    from l4tui.tour.steps import load_steps
    from l4tui.ui.tour_screen import TourCard

    steps = [step.id for step in load_steps()]
    state_home = os.environ.get("XDG_STATE_HOME")
    with tempfile.TemporaryDirectory() as name:
        os.environ["XDG_STATE_HOME"] = name  # the person's own place in the tour stays as it was
        app = L4App(runs_dir=Path(name) / "runs", workspace=REPO, tour={"restart": True})
        async with app.run_test(size=size) as pilot:
            async def at(step_id: str) -> None:
                index = steps.index(step_id)
                if app.tour is not None and app.tour.index != index:
                    app.tour.go(index)
                await until(pilot, lambda: isinstance(app.screen, TourCard) and app.tour.index == index)
                if app.tour.step.pane == "model":
                    await until(pilot, lambda: app.tour.model_ready.is_set())

            await at("tokens")
            await pilot.pause(2.0)  # the text screen reads the sample under the card
            app.save_screenshot("tour-tokens.svg", str(images))
            await at("vocab")
            await until(pilot, lambda: app.query_one(CodeView).path is not None)
            await pilot.pause(1.0)
            app.save_screenshot("tour-vocab.svg", str(images))
            await at("biases")
            await pilot.pause(1.0)
            app.save_screenshot("tour-biases.svg", str(images))
            await at("training")
            monitor = app.query_one(RunMonitor)
            table = app.query_one("#runs-table", DataTable)
            await until(pilot, lambda: monitor.run_dir is not None and not monitor._loading and monitor.progress.end
                        and table.row_count == 1 and "finished" in str(table.get_row_at(0)))
            await pilot.pause(4.0)  # the charts are redrawn every second or two
            app.save_screenshot("tour-training.svg", str(images))
    if state_home is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = state_home


async def shoot(size=(120, 36)):
    images = DOCS / "images"
    images.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as runs:
        app = L4App(runs_dir=Path(runs), workspace=REPO)
        async with app.run_test(size=size) as pilot:
            view = app.query_one(CodeView)
            await until(pilot, lambda: view.path is not None)
            line = next(i for i, text in enumerate(view.lines) if "nn.Embedding(n_users" in text)
            view.move_to(line, view.lines[line].index("Embedding"))
            await pilot.pause(0.3)
            app.save_screenshot("code.svg", str(images))
            await pilot.press("ctrl+right_square_bracket")
            await until(pilot, lambda: view.path.name == "sparse.py")
            await pilot.pause(0.3)
            app.save_screenshot("code-jump.svg", str(images))

            await pilot.press("3")
            totals = app.query_one("#model-totals")
            await until(pilot, lambda: "total parameters" in str(totals.render()))
            await pilot.pause(0.3)
            app.save_screenshot("model.svg", str(images))
            await pilot.press("home", "down", "enter")  # the ULMFiT classifier
            await until(pilot, lambda: "44,335,880" in str(totals.render()))
            await pilot.pause(0.3)
            app.save_screenshot("model-classifier.svg", str(images))
    await shoot_keys(images)
    await shoot_code(images)
    await shoot_notebook(images)
    await shoot_project(images)
    await shoot_sheet(images)
    await shoot_text(images)
    await shoot_embeddings(images)
    await shoot_tabular(images)
    await shoot_runs(images)
    await shoot_model_pane(images)
    await shoot_results(images)
    await shoot_trust(images)
    await shoot_env(images)
    await shoot_code_model(images)
    await shoot_tour(images)
    await shoot_serve(images)
    print(f"saved screenshots in {images}")


async def shoot_results(images: Path) -> None:
    """The Model pane's Results tab: a classifier run's confusion matrix, top losses and the words
    that pushed a review; a collab run's worst ratings; the classifier's at 80x24."""
    import subprocess
    import sys

    from textual.widgets import OptionList, TabbedContent

    from l4tui.ui.model_pane import ModelPane

    async def choose(pilot, app, model: str):
        pane = app.query_one(ModelPane)
        await until(pilot, lambda: pane.entries and pane.subject is not None)
        options = app.query_one("#model-list", OptionList)
        options.focus()
        options.highlighted = [e.name for e in pane.entries].index(model)
        await pilot.press("enter")
        # The fresh model first: a build holds the model until it is done.
        await until(pilot, lambda: pane.subject is not None and pane.subject.name == model)
        weights = app.query_one("#weights-list", OptionList)
        await until(pilot, lambda: any(str(o.prompt).endswith("best") for o in weights.options))
        weights.focus()
        weights.highlighted = next(i for i, o in enumerate(weights.options) if str(o.prompt).endswith("best"))
        await pilot.press("enter")
        await until(pilot, lambda: pane.subject is not None and pane.subject.name == model
                    and pane.subject.weights.endswith("best"))
        app.query_one("#model-tabs", TabbedContent).active = "tab-results"
        await until(pilot, lambda: "validation" in str(app.query_one("#res-head").render())
                    and app.query_one("#res-table").row_count)

    with tempfile.TemporaryDirectory() as runs:
        from l4tui.runs.store import list_runs

        def train(family, *options):
            subprocess.run([sys.executable, "-m", "l4tui", "--runs", runs, "train", family, *options],
                           check=True, capture_output=True, cwd=runs)

        # ULMFiT as the lesson does it: the language model first, its encoder under the classifier.
        train("lm", "--epochs", "3")
        train("classifier", "--encoder", list_runs(Path(runs))[0].id, "--epochs", "2")
        train("collab", "--epochs", "4")
        app = L4App(runs_dir=Path(runs), workspace=REPO)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("3")
            await choose(pilot, app, "classifier")
            await pilot.pause(0.5)
            app.save_screenshot("results-classifier.svg", str(images))
            table = app.query_one("#res-table", DataTable)
            table.focus()
            table.move_cursor(row=0)
            await pilot.press("w")
            await until(pilot, lambda: "strongest:" in str(app.query_one("#res-words").render()))
            await pilot.pause(0.5)
            app.save_screenshot("results-words.svg", str(images))
            await choose(pilot, app, "collab")
            await pilot.pause(0.5)
            app.save_screenshot("results-collab.svg", str(images))
        app = L4App(runs_dir=Path(runs), workspace=REPO)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("3")
            await choose(pilot, app, "classifier")
            await pilot.pause(0.5)
            app.save_screenshot("results-80x24.svg", str(images))


async def shoot_serve(images: Path) -> None:
    """`l4tui serve`, opened in a headless Chromium (tests/browser.py drives it): the page as a
    browser shows it, saved as PNG (the page is drawn on a canvas: no SVG of it)."""
    import socket
    import subprocess

    sys.path.insert(0, str(REPO / "tests"))
    from browser import Browser, chromium_path

    if chromium_path() is None:
        print("serve-browser.png not remade: it needs Chromium (Debian: apt install chromium)")
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as runs:
        server = subprocess.Popen([sys.executable, "-m", "l4tui", "serve", "--port", str(port)], cwd=REPO,
                                  env={**os.environ, "L4TUI_RUNS": runs}, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            time.sleep(3)  # the server's start
            async with Browser(size=(1100, 700)) as browser:
                page = await browser.open(f"http://127.0.0.1:{port}/")
                await page.wait_for_text("collab.py", timeout=120)
                await asyncio.sleep(2)  # the fade-in of the page, the file's colours
                await page.screenshot(images / "serve-browser.png")
        finally:
            os.killpg(server.pid, 15)
            server.wait(timeout=15)


GROUPS = {"code": shoot_code, "notebook": shoot_notebook, "project": shoot_project, "sheet": shoot_sheet,
          "text": shoot_text, "embeddings": shoot_embeddings, "tabular": shoot_tabular, "runs": shoot_runs,
          "model_pane": shoot_model_pane, "results": shoot_results, "trust": shoot_trust, "keys": shoot_keys,
          "env": shoot_env, "pretrained": shoot_pretrained, "serve": shoot_serve, "code_model": shoot_code_model,
          "tour": shoot_tour}


async def shoot_some(names: list[str]) -> None:
    images = DOCS / "images"
    images.mkdir(exist_ok=True)
    for name in names:
        await GROUPS[name](images)


if __name__ == "__main__":
    asyncio.run(shoot_some(sys.argv[1:]) if sys.argv[1:] else shoot())
