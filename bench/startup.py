"""Time from process start to the app's first frame on the terminal, side by side with a bare
Textual app, and the time from pressing 2 or 3 to that pane's first paint.

    python bench/startup.py [--runs 7] [--switches 3] [--size 80x24]

First paint: each launch starts a program in a pseudo-terminal in a fresh Python process, the
launches of l4tui and of a bare Textual app (a TabbedContent of three TabPanes of Static text,
nothing else) taking turns, so that both see the same load on the machine. l4tui is started as the
`l4tui` command starts it (`l4tui.cli.main`, the argument parsing included). The time is from
starting the process to reading the frame's text back from the terminal (l4tui's tab titles, the
bare app's text): what a user sees. The CPU time the process had used by then is read from /proc
too (steadier than the wall clock when other work shares the cores; in ticks of 10 ms, so only its
median over many launches means much). Prints both medians and their ratios; then, from one more
launch that notes Textual's Ready event, which heavy modules l4tui had imported by its first frame.

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
from _pty_app import PtyApp, cpu_seconds  # noqa: E402

# l4tui as the `l4tui` command runs it, in the repository (the bundled default).
OURS = r"""
import sys
from l4tui.cli import main
sys.exit(main([]))
"""
OURS_FRAME = b"1 Code"  # a tab title: in the first frame

BARE = r"""
from textual.app import App
from textual.widgets import Static, TabbedContent, TabPane

class Bare(App):
    def compose(self):
        with TabbedContent():
            for n in (1, 2, 3):
                with TabPane(f"{n} Pane", id=f"pane{n}"):
                    yield Static(f"Pane {n}: some text")

Bare().run()
"""
BARE_FRAME = b"Pane 1: some text"

# Which heavy modules l4tui has imported when its first frame is up: written to argv[1] on Ready.
MODULES_AT_PAINT = r"""
import json, sys
from l4tui.ui.app import L4App

class FirstPaint(L4App):
    def on_ready(self):
        with open(sys.argv[1], "w") as f:
            json.dump({m: m in sys.modules for m in ("numpy", "plotext", "pygments", "jedi", "torch", "pandas")}, f)
        self.exit()

FirstPaint().run()
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


def first_paint(code: str, frame: bytes, runs_dir: Path, size: tuple[int, int]) -> dict:
    """Seconds (wall, and CPU of the app's process) from starting `code` to `frame` on the terminal."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        app = PtyApp(code, [], runs_dir, Path(tmp), size=size)
        try:
            while frame not in app.screen:
                if app.process.poll() is not None or time.perf_counter() - started > 60:
                    sys.exit(f"the app exited or hung without painting; its last output:\n{app.last_screen()}")
                time.sleep(0.0005)
            seconds = time.perf_counter() - started
            cpu = cpu_seconds(app.process.pid)
        finally:
            app.close()
    return {"seconds": seconds, "cpu": cpu}


def modules_at_paint(runs_dir: Path, size: tuple[int, int]) -> dict[str, bool]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "modules.json"
        app = PtyApp(MODULES_AT_PAINT, [out], runs_dir, Path(tmp), size=size)
        try:
            app.process.wait(timeout=60)
        finally:
            app.close()
        return json.loads(out.read_text())


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
        first_paint(OURS, OURS_FRAME, Path(runs_dir), size)  # not timed: writes the bytecode of changed modules
        for _ in range(args.runs):  # interleaved: both see the same load
            bare.append(first_paint(BARE, BARE_FRAME, Path(runs_dir), size))
            ours.append(first_paint(OURS, OURS_FRAME, Path(runs_dir), size))
        modules = modules_at_paint(Path(runs_dir), size)
        settles = [float(s) for s in args.settle.split(",")]
        switches = {settle: [first_switches(Path(runs_dir), size, settle) for _ in range(args.switches)]
                    for settle in settles} if args.switches else {}
    print(f"terminal {args.size}, {args.runs} launches of each, interleaved")
    for measure, label in (("seconds", "first frame on the terminal"), ("cpu", "CPU used by then")):
        ours_m, bare_m = [r[measure] for r in ours], [r[measure] for r in bare]
        for name, times in (("bare Textual (3 tabs)", bare_m), ("l4tui", ours_m)):
            print(f"{label}, {name}: median {ms(statistics.median(times))} "
                  f"(min {ms(min(times))}, max {ms(max(times))})")
        print(f"{label}, ratio l4tui / bare: {statistics.median(ours_m) / statistics.median(bare_m):.2f}x")
    for module, imported in modules.items():
        print(f"{module} imported before l4tui's first paint: {'yes' if imported else 'no'}")
    for settle, launches in switches.items():
        print(f"first switch, {settle:g} s after the first frame (key to the pane's text on the terminal), "
              f"{len(launches)} launches:")
        for key, name in (("2", "Data & training"), ("3", "Model")):
            times = [s[key] for s in launches]
            print(f"  {key} {name}: median {ms(statistics.median(times))} (min {ms(min(times))}, max {ms(max(times))})")

if __name__ == "__main__":
    main()
