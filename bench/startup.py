"""Time from process start to the app's first paint, side by side with a bare Textual app, and
the time from pressing 2 or 3 to that pane's first paint.

    python bench/startup.py [--runs 7] [--switches 3] [--size 80x24]

First paint: each launch runs a program in a pseudo-terminal in a fresh Python process, the
launches of l4tui and of a bare Textual app (a TabbedContent of three TabPanes of Static text,
nothing else) taking turns, so that both see the same load on the machine. Each app notes the
time on Textual's Ready event (sent once the first frame has been written to the terminal) and
exits. Prints both medians, their ratio, and which heavy modules l4tui had imported by then.

First switch: the real app is started in a pseudo-terminal and left alone for --settle seconds
after its first frame (the start-up work goes on meanwhile: the panes' imports and builds, then
jedi and the index); then the bench types `2` and reads the terminal until the Data & training
pane's text is on it, then, 0.5 s later, `3` until the Model pane's is. The time is from writing the key to the pty to reading the pane's text back: what a user
would see, the key's trip through the terminal included.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pty_app import PtyApp  # noqa: E402

# Both children write {"painted": time, "modules": {...}} to argv[1] when their first frame is up.
NOTE_PAINT = r"""
import json, sys, time

def note_paint():
    with open(sys.argv[1], "w") as f:
        json.dump({"painted": time.time(),
                   "modules": {m: m in sys.modules for m in ("numpy", "plotext", "pygments", "jedi",
                                                             "torch", "pandas")}}, f)
"""

OURS = NOTE_PAINT + r"""
from l4tui.ui.app import L4App

class FirstPaint(L4App):
    def on_ready(self):
        note_paint()
        self.exit()

FirstPaint().run()
"""

BARE = NOTE_PAINT + r"""
from textual.app import App
from textual.widgets import Static, TabbedContent, TabPane

class Bare(App):
    def compose(self):
        with TabbedContent():
            for n in (1, 2, 3):
                with TabPane(f"{n} Pane", id=f"pane{n}"):
                    yield Static(f"Pane {n}: some text")

    def on_ready(self):
        note_paint()
        self.exit()

Bare().run()
"""

# The real app, untouched, with a note of its first frame.
SWITCH = r"""
import sys
from pathlib import Path
from l4tui.ui.app import L4App

class Noted(L4App):
    def on_ready(self):
        super().on_ready()
        (Path(sys.argv[1]) / "ready").write_text("")

Noted().run()
"""

class RecordingPtyApp(PtyApp):
    """Keeps everything the app draws (PtyApp keeps the tail only)."""

    def _drain(self) -> None:
        self.record = bytearray()
        while True:
            try:
                chunk = os.read(self.parent, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.record += chunk
            self.drained += len(chunk)
            self.screen = (self.screen + chunk)[-4000:]


# Text each pane shows once built (its titles), as it reaches the terminal.
PANE_TEXT = {"2": b"Runs \xc2\xb7 n new", "3": b"weights"}


def first_paint(code: str, runs_dir: Path, size: tuple[int, int]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "painted.json"
        started = time.time()
        app = PtyApp(code, [out], runs_dir, Path(tmp), size=size)
        try:
            app.process.wait(timeout=60)
        finally:
            app.close()
        if not out.exists():
            sys.exit(f"the app exited without painting; its last output:\n{app.last_screen()}")
        result = json.loads(out.read_text())
    result["seconds"] = result["painted"] - started
    return result


def first_switches(runs_dir: Path, size: tuple[int, int], settle: float) -> dict[str, float]:
    """Seconds from typing each pane's key to its text on the terminal, in one launch."""
    with tempfile.TemporaryDirectory() as tmp:
        app = RecordingPtyApp(SWITCH, [tmp], runs_dir, Path(tmp), size=size)
        try:
            app.wait_for_file("ready", timeout=60)
            time.sleep(settle)
            times = {}
            for key, text in PANE_TEXT.items():
                before = len(app.record)
                pressed = time.perf_counter()
                app.type(key.encode())
                while True:
                    # Only what was drawn since the key: the bytes read after `before`.
                    if app.record.find(text, before) >= 0:
                        break
                    if time.perf_counter() - pressed > 30:
                        raise RuntimeError(f"pane {key} did not show in 30 s: {app.last_screen()}")
                    time.sleep(0.001)
                times[key] = time.perf_counter() - pressed
                time.sleep(0.5)
            app.type(b"q")
            app.process.wait(timeout=10)
        finally:
            app.close()
    return times


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="launches of each app for the first paint")
    parser.add_argument("--switches", type=int, default=3, help="launches that time the first 2 and 3")
    parser.add_argument("--settle", default="0.5,1,3",
                        help="seconds between the first frame and pressing 2, each in launches of its own "
                             "(default 0.5,1,3: during the start-up work and after it)")
    parser.add_argument("--size", default="80x24", help="the terminal, COLUMNSxROWS")
    args = parser.parse_args()
    # An installed l4tui has its bytecode compiled; a checkout run with this set (as CI shells do)
    # would compile every changed module again at each launch, and time that instead.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    columns, rows = map(int, args.size.split("x"))
    size = (columns, rows)
    ours, bare = [], []
    with tempfile.TemporaryDirectory() as runs_dir:
        first_paint(OURS, Path(runs_dir), size)  # not timed: writes the bytecode of changed modules
        for _ in range(args.runs):  # interleaved: both see the same load
            bare.append(first_paint(BARE, Path(runs_dir), size))
            ours.append(first_paint(OURS, Path(runs_dir), size))
        settles = [float(s) for s in args.settle.split(",")]
        switches = {settle: [first_switches(Path(runs_dir), size, settle) for _ in range(args.switches)]
                    for settle in settles} if args.switches else {}
    ours_s, bare_s = [r["seconds"] for r in ours], [r["seconds"] for r in bare]
    print(f"terminal {args.size}, {args.runs} launches of each, interleaved")
    for name, times in (("bare Textual (3 tabs)", bare_s), ("l4tui", ours_s)):
        print(f"first paint, {name}: median {ms(statistics.median(times))} "
              f"(min {ms(min(times))}, max {ms(max(times))})")
    print(f"ratio l4tui / bare: {statistics.median(ours_s) / statistics.median(bare_s):.2f}x")
    for module in ours[0]["modules"]:
        count = sum(r["modules"][module] for r in ours)
        print(f"{module} imported before l4tui's first paint: {'yes' if count else 'no'} ({count}/{len(ours)})")
    for settle, launches in switches.items():
        print(f"first switch, {settle:g} s after the first frame (key to the pane's text on the terminal), "
              f"{len(launches)} launches:")
        for key, name in (("2", "Data & training"), ("3", "Model")):
            times = [s[key] for s in launches]
            print(f"  {key} {name}: median {ms(statistics.median(times))} (min {ms(min(times))}, max {ms(max(times))})")

if __name__ == "__main__":
    main()
