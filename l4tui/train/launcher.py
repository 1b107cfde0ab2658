"""Start a run as its own detached process. The CLI and the TUI both start runs through here."""

import os
import subprocess
import sys
from pathlib import Path

from l4tui.train.recipes import RECIPES
from l4tui.train.runs import new_run_dir, write_run_file


def start_run(family: str, config: dict, runs_dir: Path) -> Path:
    """Create the run folder, start the run process, return the folder. Raises ValueError on a bad config."""
    if family not in RECIPES:
        raise ValueError(f"unknown family {family!r}; known: {', '.join(RECIPES)}")
    config_class, _ = RECIPES[family]
    checked = config_class.from_dict(config)
    checked.validate()
    run_dir = new_run_dir(runs_dir, family)
    command = [sys.executable, "-m", "l4tui.train.worker", str(run_dir)]
    write_run_file(run_dir, family, checked.to_dict(), command, pid=0)
    with open(run_dir / "stdout.log", "ab") as out, open(run_dir / "stderr.log", "ab") as err:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
            start_new_session=True,  # not in our process group: Ctrl-C and hang-ups don't reach it
            close_fds=True, cwd=os.getcwd(),
        )
    write_run_file(run_dir, family, checked.to_dict(), command, pid=process.pid)
    return run_dir
