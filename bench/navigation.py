"""How fast the Code pane navigates, beside plain jedi and Universal Ctags.

    python bench/navigation.py [--rounds 2] [--skip-index] [--skip-scroll]

Prints:
- jump latency as the user sees it: from Ctrl-] being pressed in the app until the target file
  is on screen at the right line, for each case of CASES (names in models/ that lead into torch
  and the workspace; a case is a folder and its (file, name) targets):
  in a fresh process as soon as the file is shown (cold), in a fresh process after the file has
  been open 3 s, and again and again in one process (warm); p50 and p95 over names and rounds.
  Beside it, plain jedi (a fresh `jedi.Script(...).goto()` per jump, as an editor plugin does):
  first jump in a fresh process (with and without parso's disk cache) and later jumps.
- the symbol index of torch's package: cold (no cache) and warm (cache), beside `ctags -R`;
- opening torch's 30,000-line `_VariableFunctions.pyi` in the viewer, and the time to draw each
  screen while paging through it (frames per second at p95 and at worst).

At the end, a summary table per case: after 3 s, warm, plain jedi's later jumps, cold, plain
jedi's first, each as p50 / p95 in ms. bench/jump_breakdown.py shows where one jump's time goes.

Each fresh-process figure runs a child Python (`python -c`) that drives the real app with
Textual's Pilot (headless: everything but the terminal's own drawing).
"""

import sys
from pathlib import Path

# bench/ holds a tokenize.py that would shadow the standard library's: run from the repo root.
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402

# A user's project, made in a temporary folder: a sibling module, a package with a relative
# import, a src/ layout, the standard library and torch from their own code (issue 19).
PROJECT_FILES = {
    "pyproject.toml": "[project]\nname = 'shop'\n",
    "util.py": "TAX = 0.2\n\n\ndef add_tax(price):\n    return price * (1 + TAX)\n\n\nclass Cart:\n"
               "    def __init__(self):\n        self.items = []\n",
    "shop/__init__.py": "",
    "shop/prices.py": "def discount(price, share):\n    return price * (1 - share)\n",
    "shop/orders.py": "from .prices import discount\n\n\ndef checkout(total):\n    return discount(total, 0.1)\n",
    "src/shoplib/__init__.py": "def receipt(lines):\n    return ', '.join(lines)\n",
    "main.py": ("import json\n\nimport torch\nfrom shop.orders import checkout\nfrom shoplib import receipt\n"
                "from util import Cart, add_tax\n\ncart = Cart()\ntotal = add_tax(10)\nprint(checkout(total))\n"
                "print(receipt(['a']), json.dumps(total))\nlayer = torch.nn.Embedding(3, 2)\n"
                "from shopkit import Basket\nbasket = Basket()\n"),
}
# A package only the user's virtualenv has (l4tui's interpreter does not): names resolve there.
ENV_PACKAGE = {"shopkit/__init__.py": "from .basket import Basket\n",
               "shopkit/basket.py": "class Basket:\n    def __init__(self):\n        self.items = []\n"}


def write_files(folder: Path, files: dict) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def user_venv() -> dict:
    """A `python -m venv --without-pip` holding ENV_PACKAGE: the children's environment."""
    venv = Path(tempfile.mkdtemp(prefix="l4tui-bench-venv-")) / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    [site] = venv.glob("lib/python*/site-packages")
    write_files(site, ENV_PACKAGE)
    return {**os.environ, "VIRTUAL_ENV": str(venv)}


PROJECT = write_files(Path(tempfile.mkdtemp(prefix="l4tui-bench-project-")) / "shop", PROJECT_FILES)

# The jump cases: (what it is, the folder its files are in, [(file, text on the line, where the
# name starts in that text)], "venv" to run them in a user's virtualenv, else None).
CASES = [
    ("models/ into torch and the workspace", ROOT / "models", [
        ("collab.py", "nn.Embedding(n_users", 3),
        ("collab.py", "torch.sigmoid(x)", 6),
        ("collab.py", "sigmoid_range(res", 0),
        ("collab.py", "class EmbeddingDotBias(nn.Module", 26),
        ("tabular.py", "nn.BatchNorm1d(n_out)", 3),
        ("tabular.py", "torch.cat(parts", 6),
        ("awd_lstm.py", "F.dropout(raw", 2),
        ("awd_lstm.py", "nn.LSTM(", 3),
        ("awd_lstm.py", "F.embedding(words", 2),
    ], None),
    ("a user's project", PROJECT, [
        ("main.py", "add_tax(10)", 0),
        ("main.py", "Cart()", 0),
        ("main.py", "checkout(total))", 0),
        ("main.py", "receipt(['a'])", 0),
        ("main.py", "json.dumps(total)", 5),
        ("main.py", "torch.nn.Embedding(3", 9),
        ("shop/orders.py", "discount(total", 0),
    ], None),
    ("a user's virtualenv", PROJECT, [
        ("main.py", "Basket()", 0),
        ("main.py", "add_tax(10)", 0),
    ], "venv"),
]


def place(folder: Path, file: str, needle: str, offset: int) -> tuple[Path, int, int]:
    """(path, line from 1, column from 1) of the name in `needle`."""
    path = folder / file
    for number, text in enumerate(path.read_text().splitlines(), 1):
        if needle in text:
            return path, number, text.index(needle) + offset + 1
    raise SystemExit(f"{needle!r} is no longer in {path}: update CASES")


APP_CHILD = r'''
import asyncio, json, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from textual import events
from l4tui.code.location import Location
from l4tui.paths import workspace_root
from l4tui.ui.app import L4App

path, line, column, wait_s, repeats = Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])

async def until(pilot, predicate, timeout=120):
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise SystemExit("timed out")
        await asyncio.sleep(0.001)

def press(app, key):
    """A key as the terminal driver delivers it (Pilot.press adds waits of its own)."""
    app.post_message(events.Key(key, None))

def draw(view):
    """Draw every row of the viewer, as the next frame will."""
    for y in range(view.size.height):
        view.render_line(y)

async def main():
    app = L4App(open_at=Location(path, line, column - 1), workspace=workspace_root(path))  # as `l4tui FILE`
    times = []
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one("#code-view")
        await until(pilot, lambda: view.path == path and view.cursor_line == line - 1)
        await asyncio.sleep(wait_s)
        for _ in range(repeats):
            started = time.perf_counter()
            press(app, "ctrl+right_square_bracket")
            await until(pilot, lambda: view.path != path or view.cursor_line != line - 1 or app.screen is not app.screen_stack[0])
            draw(view)
            times.append(time.perf_counter() - started)
            if app.screen is not app.screen_stack[0]:  # a chooser: take its first entry
                await pilot.press("enter")
            await until(pilot, lambda: view.path != path or view.cursor_line != line - 1)
            await pilot.pause(0.05)
            press(app, "ctrl+t")
            await until(pilot, lambda: view.path == path and view.cursor_line == line - 1)
            await pilot.pause(0.05)
    print(json.dumps(times))

asyncio.run(main())
'''

JEDI_CHILD = r'''
import json, sys, time
from pathlib import Path
path, line, column, repeats = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
started = time.perf_counter()
import os
import jedi
source = path.read_text()
times = []
environment = None
for repeat in range(repeats):
    started = time.perf_counter()
    if repeat == 0 and os.environ.get("VIRTUAL_ENV"):
        # As an editor plugin does on its first request: find the user's environment (timed,
        # as l4tui's first jump pays for it too).
        environment = jedi.create_environment(os.environ["VIRTUAL_ENV"])
    jedi.Script(source, path=str(path), environment=environment).goto(
        line, column - 1, follow_imports=True, follow_builtin_imports=True)
    times.append(time.perf_counter() - started)
print(json.dumps(times))
'''


def child(code: str, *args, env=None) -> list[float]:
    result = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True,
                            cwd=ROOT, env=env, timeout=600)
    if result.returncode:
        raise SystemExit(f"child failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def percentiles(values: list[float]) -> str:
    values = sorted(values)
    p50 = statistics.median(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return f"p50 {p50 * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   (n={len(values)})"


ROWS = ["plain jedi, fresh process, no parso disk cache", "plain jedi, fresh process", "plain jedi, later jumps",
        "l4tui, fresh process, at once (cold)", "l4tui, file open 3 s", "l4tui, warm"]


def bench_jumps(rounds: int, cases: list) -> None:
    fresh_cache = tempfile.mkdtemp(prefix="l4tui-parso-")
    totals = {row: [] for row in ROWS}
    summaries = []
    for title, folder, targets, environment in cases:
        print(f"Jump to definition (Ctrl-]), {title}")
        env = user_venv() if environment == "venv" else dict(os.environ)
        rows = {row: [] for row in ROWS}
        for round_number in range(rounds):
            for target in targets:
                path, line, column = place(folder, *target)
                for cache_dir in os.listdir(fresh_cache):  # parso writes its disk cache here: empty it
                    subprocess.run(["rm", "-rf", os.path.join(fresh_cache, cache_dir)])
                rows[ROWS[0]] += child(JEDI_CHILD, path, line, column, 1, env={**env, "XDG_CACHE_HOME": fresh_cache})
                plain = child(JEDI_CHILD, path, line, column, 6, env=env)
                rows[ROWS[1]].append(plain[0])
                rows[ROWS[2]] += plain[1:]
                cold = child(APP_CHILD, ROOT, path, line, column, 0, 1, env=env)
                rows[ROWS[3]] += cold
                after = child(APP_CHILD, ROOT, path, line, column, 3, 6, env=env)
                rows[ROWS[4]].append(after[0])
                rows[ROWS[5]] += after[1:]
                print(f"  round {round_number + 1} {path.name:<12} {target[1]:<34} cold {cold[0] * 1000:7.1f} ms   "
                      f"after 3 s {after[0] * 1000:6.1f} ms   warm {statistics.median(after[1:]) * 1000:5.1f} ms   "
                      f"(plain jedi first {plain[0] * 1000:6.1f} ms, later {statistics.median(plain[1:]) * 1000:6.1f} ms)",
                      flush=True)
        print()
        for name, values in rows.items():
            print(f"  {name:<48} {percentiles(values)}")
            totals[name] += values
        print()
        summaries.append((title, rows))
    if len(cases) > 1:
        print("All cases together")
        for name, values in totals.items():
            print(f"  {name:<48} {percentiles(values)}")
        print()
    print("Summary (ms, p50 / p95)        after 3 s      warm     plain jedi later   l4tui cold   plain jedi first")
    for title, rows in summaries + ([("all", totals)] if len(cases) > 1 else []):
        cells = [rows[ROWS[4]], rows[ROWS[5]], rows[ROWS[2]], rows[ROWS[3]], rows[ROWS[1]]]
        print(f"  {title[:28]:<28} " + "  ".join(f"{short(values):>14}" for values in cells))
    print()


def short(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return f"{statistics.median(values) * 1000:.0f} / {p95 * 1000:.0f}"


def bench_open_and_scroll() -> None:
    code = r'''
import asyncio, json, statistics, sys, time, importlib.util
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from textual import events
from l4tui.code.location import Location
from l4tui.ui.app import L4App

stub = Path(importlib.util.find_spec("torch").submodule_search_locations[0]) / "_C" / "_VariableFunctions.pyi"

async def main():
    app = L4App(open_at=Location(Path(sys.argv[1]) / "models" / "collab.py", 1, 0))
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one("#code-pane")
        view = app.query_one("#code-view")
        while view.path is None:
            await asyncio.sleep(0.01)
        started = time.perf_counter()
        pane.open_location(Location(stub, 1, 0))
        while view.path != stub:
            await asyncio.sleep(0.001)
        opened = time.perf_counter() - started
        await asyncio.sleep(3)  # its highlighting arrives
        height = view.size.height
        frames = []
        for key in ["pagedown"] * 150 + ["ctrl+d"] * 100 + ["G"] + ["pageup"] * 100 + ["j"] * 100:
            before = (view.cursor_line, view.scroll_offset.y)
            started = time.perf_counter()
            app.post_message(events.Key(key, None))
            while (view.cursor_line, view.scroll_offset.y) == before and not (key == "G" and view.cursor_line == len(view.lines) - 1):
                await asyncio.sleep(0)
            for y in range(height):  # draw the whole screen, as the next frame will
                view.render_line(y)
            frames.append(time.perf_counter() - started)
        lines = len(view.lines)
        highlighted = bool(view._tokens)
    keys = ["pagedown"] * 150 + ["ctrl+d"] * 100 + ["G"] + ["pageup"] * 100 + ["j"] * 100
    slowest = sorted(zip(frames, range(len(frames)), keys), reverse=True)[:5]
    print(json.dumps({"open_s": opened, "frames": frames, "lines": lines, "highlighted": highlighted,
                      "slowest": slowest}))

asyncio.run(main())
'''
    result = child(code, ROOT)
    frames = sorted(result["frames"])
    p95 = frames[round(0.95 * (len(frames) - 1))]
    print(f"Opening torch/_C/_VariableFunctions.pyi ({result['lines']:,} lines): {result['open_s'] * 1000:.0f} ms "
          f"until it is shown (read, folds, first screen; highlighting follows in the background: "
          f"{'done' if result['highlighted'] else 'NOT done'} 3 s later)")
    print(f"Paging through it ({len(frames)} keys: PgDn, Ctrl-D, G, PgUp, j; each followed by drawing the whole "
          f"120x40 screen): median {statistics.median(frames) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
          f"worst {frames[-1] * 1000:.1f} ms -> {1 / p95:.0f} frames/s at p95, {1 / frames[-1]:.0f} at worst")
    print("  slowest steps (ms, step, key): " + ", ".join(f"{t * 1000:.0f} #{i} {k}" for t, i, k in result["slowest"]))
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-jumps", action="store_true")
    parser.add_argument("--skip-index", action="store_true")
    parser.add_argument("--skip-scroll", action="store_true")
    parser.add_argument("--case", default="", help="only the jump cases whose title starts with this")
    args = parser.parse_args()
    if not args.skip_scroll:
        bench_open_and_scroll()
    if not args.skip_index:
        subprocess.run([sys.executable, str(HERE / "index_torch.py")], check=True)
        print()
    if not args.skip_jumps:
        bench_jumps(args.rounds, [case for case in CASES if case[0].startswith(args.case)])


if __name__ == "__main__":
    main()
