"""Remake the screenshots in docs/images/: the app drives itself and saves SVGs (Textual's own).

    python docs/screenshots.py

It trains a real collab run in a temporary runs folder, so the Data & training picture shows
a real curve. Takes about half a minute.
"""

import asyncio
import sys
import tempfile
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(REPO))

from l4tui.train.runs import read_run  # noqa: E402
from l4tui.ui.app import L4App  # noqa: E402
from l4tui.ui.code_view import CodeView  # noqa: E402
from l4tui.ui.data_pane import DataPane  # noqa: E402


async def until(pilot, predicate, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        await pilot.pause(0.2)


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

            await pilot.press("2")
            pane = app.query_one(DataPane)
            await pilot.press("t")
            await until(pilot, lambda: pane.watched and read_run(pane.watched).state == "finished")
            await pilot.pause(1.5)
            app.save_screenshot("data.svg", str(images))

            await pilot.press("3")
            totals = app.query_one("#model-totals")
            await until(pilot, lambda: "total parameters" in str(totals.render()))
            await pilot.pause(0.3)
            app.save_screenshot("model.svg", str(images))
            await pilot.press("home", "down", "enter")  # the ULMFiT classifier
            await until(pilot, lambda: "44,335,880" in str(totals.render()))
            await pilot.pause(0.3)
            app.save_screenshot("model-classifier.svg", str(images))

            await pilot.press("question_mark")
            await pilot.pause(0.5)
            app.save_screenshot("help.svg", str(images))
    print(f"saved screenshots in {images}")


if __name__ == "__main__":
    asyncio.run(shoot())
