"""The app runs at a lower priority than the runs it starts (l4tui/ui/priority.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO, kill_run, wait_for

CHILD = r"""
import json, os, sys, threading
from pathlib import Path
from l4tui.train.launcher import start_run
from l4tui.ui.app import L4App
from l4tui.ui.priority import lower_this_thread

runs = Path(sys.argv[1])
app = L4App(runs_dir=runs)          # makes the launcher thread, at the normal priority
before = os.getpriority(os.PRIO_PROCESS, 0)
after = lower_this_thread()          # what the app does on mount (main thread)
run = app.launcher.submit(start_run, "collab", {"epochs": 50}, runs).result()
print(json.dumps({"before": before, "after": after, "run": str(run)}))
"""


def nice_of(pid: int) -> int:
    return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[16])


def test_the_ui_gives_way_but_runs_it_starts_keep_the_normal_priority(runs_dir):
    out = subprocess.run([sys.executable, "-c", CHILD, str(runs_dir)], capture_output=True, text=True,
                         cwd=REPO, timeout=120, env={**os.environ, "L4TUI_UI_NICE": "10"})
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.splitlines()[-1])
    run_dir = Path(result["run"])
    try:
        assert result["after"] == min(19, result["before"] + 10)
        assert wait_for(lambda: json.loads((run_dir / "run.json").read_text()).get("pid"), timeout=10)
        pid = json.loads((run_dir / "run.json").read_text())["pid"]
        assert nice_of(pid) == result["before"]  # the run trains at the priority l4tui was started with
    finally:
        kill_run(run_dir)
