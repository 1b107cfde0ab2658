"""How long a 10 MB notebook (50 code cells, each with a 200 kB image output) takes to open.

    python bench/notebook_open.py

Prints the median and slowest of several reads: the cells joined, folded and highlighted
(Documents.get, what the Code pane runs off the event loop), then in the app: from asking
for the notebook to its lines being shown (Pilot, headless), and `e`'s look-up of the
cell's line in the file. Outputs are skipped, so the JSON parse is most of it.
"""

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from l4tui.code.documents import Documents  # noqa: E402
from l4tui.code.notebook import notebook_file_place  # noqa: E402

IMAGE = {"output_type": "display_data", "metadata": {},
         "data": {"image/png": "iVBORw0KGgo" * 20_000, "text/plain": ["<Figure size 640x480>"]}}


def make_notebook(path: Path) -> None:
    cells = [{"cell_type": "code", "execution_count": i, "metadata": {}, "outputs": [IMAGE],
              "source": ["import math\n", f"v{i} = math.sqrt({i})\n", f"print(v{i})"]} for i in range(1, 51)]
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}, indent=1))


def timed(fn, runs=5) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1e3)
    return out


async def in_the_app(path: Path, runs: int = 5) -> list[float]:
    from l4tui.code.location import Location
    from l4tui.ui.app import L4App
    from l4tui.ui.code_pane import CodePane
    from l4tui.ui.code_view import CodeView

    times = []
    with tempfile.TemporaryDirectory() as runs_dir:
        app = L4App(runs_dir=Path(runs_dir), workspace=path.parent)
        async with app.run_test(size=(120, 40)) as pilot:
            pane, view = app.query_one(CodePane), app.query_one(CodeView)
            other = path.parent / "other.py"
            other.write_text("x = 1\n")
            for _ in range(runs):
                pane.open_location(Location(other, 1, 0))
                while view.path != other:
                    await pilot.pause(0.01)
                pane.documents = Documents()  # not kept: each open reads the file again
                started = time.perf_counter()
                pane.open_location(Location(path, 100, 0))
                while view.path != path:
                    await asyncio.sleep(0.001)
                times.append((time.perf_counter() - started) * 1e3)
    return times


def report(label: str, times: list[float]) -> None:
    print(f"{label:<52} median {statistics.median(times):6.1f} ms   slowest {max(times):6.1f} ms")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.ipynb"
        make_notebook(path)
        print(f"{path.name}: {path.stat().st_size / 1e6:.1f} MB, 50 code cells with outputs")
        report("read, joined, folded, highlighted (Documents.get)", timed(lambda: Documents().get(path, highlight=True)))
        report("e: the cell's line in the .ipynb", timed(lambda: notebook_file_place(path, 100, 4)))
        report("in the app: asked for -> shown", asyncio.run(in_the_app(path)))


if __name__ == "__main__":
    main()
