"""Where the time of one Ctrl-] goes, stage by stage, in the real app driven headless.

    python bench/jump_breakdown.py [--wait 3] [--repeats 6] [FILE NEEDLE OFFSET ...]

For each jump: the key pressed -> the pane's action -> the look-up submitted to the jedi thread
-> jedi starts it (the wait is the background step it queued behind) -> jedi's answer -> the
target file read (or found kept) -> the viewer loaded -> seen -> the screen drawn. Besides,
what ran in the background meanwhile (warming steps on the jedi thread, highlighting,
prefetching), since those hold the GIL the event loop needs.

Instrumented by wrapping the app's functions from here: nothing of it is in the product.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import functools  # noqa: E402
import statistics  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

PROFILE = False  # --profile: cProfile the event loop's thread from each key press to the drawn screen
EVENTS: list[tuple[float, str, str]] = []  # (time, thread, what)


def mark(what: str) -> None:
    EVENTS.append((time.perf_counter(), threading.current_thread().name, what))


def wrap(owner, name: str, label: str | None = None) -> None:
    original = getattr(owner, name)
    label = label or f"{owner.__name__}.{name}"
    if asyncio.iscoroutinefunction(original):
        @functools.wraps(original)
        async def timed(*args, **kwargs):
            mark(f"{label} >")
            try:
                return await original(*args, **kwargs)
            finally:
                mark(f"{label} <")
    else:
        @functools.wraps(original)
        def timed(*args, **kwargs):
            mark(f"{label} >")
            try:
                return original(*args, **kwargs)
            finally:
                mark(f"{label} <")
    setattr(owner, name, timed)


def instrument() -> None:
    from l4tui.code import documents, navigator, source
    from l4tui.ui import code_pane, code_view

    wrap(code_pane.CodePane, "action_goto_definition", "action")
    wrap(navigator.Navigator, "goto", "submit")
    wrap(navigator.Navigator, "_goto", "jedi goto")
    wrap(navigator.Navigator, "_warm_line", "warm module")
    wrap(navigator.Navigator, "warm_file", "warm file")
    wrap(code_pane.CodePane, "_jump_to_tag", "jump_to_tag")
    wrap(documents.Documents, "get", "documents.get")
    wrap(source, "token_lines", "token_lines")
    documents.token_lines = source.token_lines
    wrap(source, "read_source", "read_source")
    documents.read_source = source.read_source
    wrap(code_view.CodeView, "load", "view.load")
    wrap(code_pane.CodePane, "_show_status", "status")
    wrap(code_pane.CodePane, "_build_index", "index")
    wrap(navigator.Navigator, "_jedi_setup", "jedi setup")


async def run(path: Path, line: int, column: int, wait_s: float, repeats: int) -> list[list]:
    from textual import events

    from l4tui.code.location import Location
    from l4tui.ui.app import L4App

    async def until(predicate, timeout=120):
        deadline = time.perf_counter() + timeout
        while not predicate():
            if time.perf_counter() > deadline:
                raise SystemExit("timed out")
            await asyncio.sleep(0.001)

    app = L4App(open_at=Location(path, line, column - 1))
    jumps = []
    profiler = None
    if PROFILE:
        import cProfile
        profiler = cProfile.Profile()
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one("#code-view")
        await until(lambda: view.path == path and view.cursor_line == line - 1)
        await asyncio.sleep(wait_s)
        for _ in range(repeats):
            start = len(EVENTS)
            if profiler:
                profiler.enable()
            mark("press")
            app.post_message(events.Key("ctrl+right_square_bracket", None))
            await until(lambda: view.path != path or view.cursor_line != line - 1
                        or app.screen is not app.screen_stack[0])
            mark("seen")
            for y in range(view.size.height):
                view.render_line(y)
            mark("drawn")
            if profiler:
                profiler.disable()
            jumps.append(EVENTS[start:])
            if app.screen is not app.screen_stack[0]:
                await pilot.press("enter")
            await until(lambda: view.path != path or view.cursor_line != line - 1)
            await pilot.pause(0.05)
            app.post_message(events.Key("ctrl+t", None))
            await until(lambda: view.path == path and view.cursor_line == line - 1)
            await pilot.pause(0.05)
    if profiler:
        import pstats
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    return jumps


def report(jumps: list[list]) -> None:
    for number, events in enumerate(jumps):
        t0 = events[0][0]
        total = next(t for t, _, what in events if what == "drawn") - t0
        print(f"  jump {number + 1}: {total * 1000:6.1f} ms")
        for t, thread, what in events:
            print(f"    {(t - t0) * 1000:7.1f}  {thread[:18]:<18} {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wait", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("target", nargs="*", default=["collab.py", "torch.sigmoid(x)", "6"])
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    global PROFILE
    PROFILE = args.profile
    file, needle, offset = args.target[0], args.target[1], int(args.target[2])
    path = ROOT / "models" / file
    for number, text in enumerate(path.read_text().splitlines(), 1):
        if needle in text:
            line, column = number, text.index(needle) + offset + 1
            break
    else:
        raise SystemExit(f"{needle!r} not in {file}")
    instrument()
    jumps = asyncio.run(run(path, line, column, args.wait, args.repeats))
    print(f"{file}: {needle} (after {args.wait} s, then {args.repeats - 1} more)")
    first_press = jumps[0][0][0]
    print("  the start-up's background steps, from the first key press (ms): " + ", ".join(
        f"{what} {(t - first_press) * 1000:.0f}" for t, _, what in EVENTS if what.startswith(("warm", "index"))))
    report(jumps)
    totals = [next(t for t, _, w in e if w == "drawn") - e[0][0] for e in jumps]
    print(f"  median {statistics.median(totals) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
