"""The real app in a pseudo-terminal, for benchmarks: started as a user starts it, its screen
drained as a terminal would, its CPU time read from /proc.

The child is a short Python program (given as text) that subclasses L4App; it writes a `ready`
file once its first frame is up and talks to the bench through files in `tmp` (see train.py
and monitor.py for the two children).
"""

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


class PtyApp:
    """`python -c child_code *args` in a pseudo-terminal of `size` columns x rows."""

    def __init__(self, child_code: str, args: list[str], runs_dir: Path, tmp: Path, size=(120, 40)):
        self.tmp = tmp
        self.parent, child = pty.openpty()
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        env = {**os.environ, "TERM": os.environ.get("TERM") or "xterm-256color", "COLUMNS": str(size[0]),
               "LINES": str(size[1]), "L4TUI_RUNS": str(runs_dir)}
        self.process = subprocess.Popen([sys.executable, "-c", child_code, *map(str, args)], stdin=child,
                                        stdout=child, stderr=child, env=env, close_fds=True, cwd=ROOT)
        os.close(child)
        self.screen = b""
        self.drained = 0
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:  # the terminal's part: read everything the app draws
        while True:
            try:
                chunk = os.read(self.parent, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.drained += len(chunk)
            self.screen = (self.screen + chunk)[-4000:]

    def last_screen(self) -> str:
        return self.screen.decode(errors="replace")[-1500:]

    def wait_for_file(self, name: str, timeout: float) -> None:
        started = time.time()
        while not (self.tmp / name).exists():
            if self.process.poll() is not None or time.time() - started > timeout:
                raise RuntimeError(f"the app did not write {name}: {self.last_screen()}")
            time.sleep(0.1)

    def type(self, keys: bytes) -> None:
        os.write(self.parent, keys)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    def settle(self, timeout: float) -> None:
        """Until the app uses under 10% of a CPU for 1 s (at most `timeout` s): start-up work
        (jedi parsing torch, pandas imports) is over."""
        quiet, last, deadline = 0, self.cpu_seconds(), time.time() + timeout
        while quiet < 2 and time.time() < deadline:
            time.sleep(0.5)
            now = self.cpu_seconds()
            quiet = quiet + 1 if now - last < 0.05 else 0
            last = now
        if quiet < 2:
            raise RuntimeError(f"the app kept a CPU busy for {timeout:.0f} s")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        try:
            os.close(self.parent)
        except OSError:
            pass
