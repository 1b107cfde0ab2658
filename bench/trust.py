"""What trust costs, and how fast the app lets go: the model-file trial and quitting.

    python bench/trust.py [--rounds 3]

- The trial: building a model from a workspace file imports it first in a child process
  (l4tui/model_trial.py). Timed for a file that imports torch (every real model file) and for
  one that imports nothing, cold (a fresh fingerprint each round), median of the rounds.
- Quitting: the real app in tmux (120x40), `q` pressed 2 s after the first frame, on a plain
  workspace and on one whose model file hangs inside the app (it passes the trial, then loops
  forever in the build thread). Time from the key to the process's end, median of the rounds.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from l4tui import model_trial  # noqa: E402

TORCH_MODEL = """import torch
class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 1)
    def forward(self, x):
        return self.fc(x)
    def example_input(self):
        return torch.zeros(2, 3)
"""
PLAIN_MODEL = "class Net:\n    def example_input(self):\n        return None\n"
HANGS_IN_APP = "import sys\nif 'textual' in sys.modules:\n    while True:\n        pass\n" + TORCH_MODEL


def time_trial(body: str, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as name:
            (Path(name) / "net.py").write_text(body)
            started = time.perf_counter()
            model_trial.try_model_file("net", [Path(name)], "Net")
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def time_quit(workspace: Path, build_last: bool, rounds: int) -> float:
    times = []
    for n in range(rounds):
        socket = f"bench-trust-{os.getpid()}-{n}"
        tmux = ["tmux", "-L", socket]
        status = workspace / "status"
        status.unlink(missing_ok=True)
        command = f"{sys.executable} -m l4tui --runs {workspace / 'runs'}; echo $? > {status}"
        subprocess.run([*tmux, "new-session", "-d", "-x", "120", "-y", "40", "-s", "b", "-c", str(workspace),
                        command], check=True)
        try:
            def screen():
                return subprocess.run([*tmux, "capture-pane", "-p", "-t", "b"], capture_output=True,
                                      text=True).stdout

            wait(lambda: "1 Code" in screen(), 30)
            if build_last:  # the Model pane, the last model in the list (the one that hangs), Enter
                subprocess.run([*tmux, "send-keys", "-t", "b", "3"], check=True)
                wait(lambda: "hangs.Net" in screen(), 30)
                subprocess.run([*tmux, "send-keys", "-t", "b", "End", "Enter"], check=True)
                wait(lambda: "building from" in screen(), 30)
                time.sleep(4)  # the trial (~1.5 s), then the in-app import that never ends
            else:
                time.sleep(2)
            asked = time.monotonic()
            subprocess.run([*tmux, "send-keys", "-t", "b", "q"], check=True)
            wait(lambda: status.exists() and status.read_text().strip() != "", 30)
            times.append(time.monotonic() - asked)
        finally:
            subprocess.run([*tmux, "kill-server"], capture_output=True)
    return statistics.median(times)


def wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"trial of a model file that imports torch: {time_trial(TORCH_MODEL, args.rounds):.2f} s (median)")
    print(f"trial of a model file that imports nothing: {time_trial(PLAIN_MODEL, args.rounds):.2f} s (median)")
    if shutil.which("tmux") is None:
        print("no tmux: quit times not measured")
        return
    with tempfile.TemporaryDirectory() as name:
        plain = Path(name) / "plain"
        (plain / "models").mkdir(parents=True)
        print(f"q to exit, plain workspace: {time_quit(plain, False, args.rounds):.2f} s (median)")
        wedged = Path(name) / "wedged"
        (wedged / "models").mkdir(parents=True)
        (wedged / "models" / "hangs.py").write_text(HANGS_IN_APP)
        print(f"q to exit, a build hung in the app: {time_quit(wedged, True, args.rounds):.2f} s (median)")


if __name__ == "__main__":
    main()
