"""Time from process start to the app's first paint, and what was imported by then.

    python bench/startup.py [--runs 5]

Each launch runs the real app in a pseudo-terminal (80x24) in a fresh Python process. The app
is a subclass of L4App that, on Textual's Ready event (sent once the first frame is on the
screen), notes the time and which heavy modules are loaded, then exits. Prints the median.
"""

import argparse
import json
import os
import pty
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import json, sys, time
from l4tui.ui.app import L4App

class FirstPaint(L4App):
    def on_ready(self):
        with open(sys.argv[1], "w") as f:
            json.dump({"painted": time.time(),
                       "torch": "torch" in sys.modules, "jedi": "jedi" in sys.modules,
                       "pandas": "pandas" in sys.modules}, f)
        self.exit()

FirstPaint().run()
"""


def launch_once(runs_dir: str) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out_path = f.name
    parent, child = pty.openpty()
    env = {**os.environ, "TERM": os.environ.get("TERM", "xterm-256color"), "COLUMNS": "80",
           "LINES": "24", "L4TUI_RUNS": runs_dir}
    started = time.time()
    process = subprocess.Popen([sys.executable, "-c", CHILD, out_path], stdin=child, stdout=child,
                               stderr=child, env=env, close_fds=True)
    os.close(child)
    screen = b""
    try:
        while process.poll() is None:  # drain the terminal so the app never blocks on output
            try:
                screen = (screen + os.read(parent, 65536))[-4000:]
            except OSError:
                break
        process.wait(timeout=60)
    finally:
        os.close(parent)
    with open(out_path) as f:
        text = f.read()
    os.unlink(out_path)
    if not text:
        sys.exit(f"the app exited without painting; its last output:\n{screen.decode(errors='replace')}")
    result = json.loads(text)
    result["seconds"] = result["painted"] - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as runs_dir:
        results = [launch_once(runs_dir) for _ in range(args.runs)]
    times = [r["seconds"] for r in results]
    print(f"launches: {len(times)}")
    print(f"first paint, median: {statistics.median(times) * 1000:.0f} ms "
          f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})")
    for module in ("torch", "jedi", "pandas"):
        count = sum(r[module] for r in results)
        print(f"{module} imported before first paint: {'yes' if count else 'no'} ({count}/{len(results)})")


if __name__ == "__main__":
    main()
