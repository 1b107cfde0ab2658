import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "datasets" / "ml-sample"


@pytest.fixture(autouse=True)
def no_active_environment(monkeypatch):
    """The Code pane resolves names in the active virtualenv or conda environment: tests start
    with none active (as in l4tui's own), whatever shell runs them; a test sets one itself."""
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.delenv("CONDA_PREFIX", raising=False)


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    """A private runs folder; the working directory moves there so nothing lands in the repo."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("L4TUI_RUNS", str(tmp_path / "runs"))
    yield tmp_path / "runs"
    # Whatever a test started and left running (a failed assertion before its own cleanup),
    # stop it: a forgotten run would slow every test after it.
    for run_dir in (tmp_path / "runs").glob("*/"):
        kill_run(run_dir)


def l4tui(*args, cwd=None, timeout=120, **kwargs):
    """Run the l4tui command as a user would, in a fresh process."""
    return subprocess.run([sys.executable, "-m", "l4tui", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, **kwargs)


def wait_for(predicate, timeout=60.0, interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


async def wait_until(pilot, predicate, timeout=60.0):
    """Let the app run until `predicate()` holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await pilot.pause(0.05)
    return False


@pytest.fixture
def small_ratings(tmp_path):
    """A tiny ratings folder in MovieLens's layout (the first 3,000 ratings of the sample)."""
    folder = tmp_path / "small"
    folder.mkdir()
    lines = (SAMPLE / "u.data").read_text().splitlines(keepends=True)[:3000]
    (folder / "u.data").write_text("".join(lines))
    (folder / "u.item").write_bytes((SAMPLE / "u.item").read_bytes())
    return folder


def kill_run(run_dir: Path) -> None:
    """Stop a test's run process if it is still going (tests must not leave processes behind)."""
    import signal

    from l4tui.runs.store import process_alive, read_run_file

    try:  # read as the app reads it: a test's run.json may be a FIFO, garbage, or a wrong pid
        pid = read_run_file(run_dir).get("pid")
        if process_alive(pid, run_dir.name):  # still this run's process, not a reused pid
            os.kill(pid, signal.SIGKILL)
    except (OSError, ValueError):
        pass


@pytest.fixture(autouse=True, scope="session")
def private_config_home(tmp_path_factory):
    """No test reads the user's own ~/.config/l4tui/config.toml (a keymap there would change
    the keys every test types): the app, and every l4tui process a test starts, look here."""
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config"))
