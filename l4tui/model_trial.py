"""A model file is tried before it is trusted: imported first in a short-lived child process.

Importing a user's file runs its top-level code. In the app's own process, `raise SystemExit`
would end the app, `os._exit` or a crash in compiled code would kill it, an endless loop would
wedge every later build, and a runaway allocation would take the machine's memory. In a child
process each of these ends the child only, and comes back here as one clear line:

    try_model_file("net", [workspace / "models", bundled / "models"], class_name="Net")
    -> None (fine), or "it raised SystemExit(3) at import (...)"

modelfiles.load_model_file calls it and raises that line as a ModelFileError naming the file.

The child imports the file exactly as the app will (same package, same search folders), builds
`class_name`, calls its `example_input()` and runs one forward pass on it when a class is given,
then says "ok". It gets
TRIAL_TIMEOUT_S seconds and TRIAL_MAX_RSS_BYTES of memory; it also arms its own alarm, so it
ends even if this process dies first. A file that passed is not tried again until it (or a
sibling it may import) changes.
"""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from l4tui.textcut import clip

TRIAL_TIMEOUT_S = 30.0  # importing torch alone takes 1.5 s on a 2-core machine, more from a cold disk
TRIAL_MAX_RSS_BYTES = 3 * 1024**3  # torch itself is ~250 MB; a model file needs little more to import
POLL_S = 0.05

# Runs in the child: argv = [name, class_name, folder, folder, ...]; prints one JSON line last.
CHILD_CODE = r"""
import json, signal, sys
if hasattr(signal, "alarm"):
    signal.alarm(int(float(sys.argv[1])) + 2)  # ends the child even when the parent is gone
name, class_name, folders = sys.argv[2], sys.argv[3], [__import__("pathlib").Path(f) for f in sys.argv[4:]]
from l4tui.modelfiles import ModelFileError, import_model_file
try:
    module = import_model_file(name, folders)
    if class_name:
        model = getattr(module, class_name)()
        example = model.example_input()
        # One forward pass on it, as the Model pane makes next: a forward that calls sys.exit or
        # os._exit, or crashes in compiled code, must end this child, not the app.
        import torch
        if isinstance(model, torch.nn.Module):
            model.eval()
            with torch.no_grad():
                try:
                    model(*example) if isinstance(example, tuple) else model(example)
                except SystemExit as error:
                    raise RuntimeError(f"its forward pass called sys.exit({error.code!r})") from None
    said = {"ok": True}
except ModelFileError as error:  # what importing raised, SystemExit included
    cause = error.__cause__ or error
    if isinstance(cause, SystemExit):
        said = {"error": f"it raised SystemExit({cause.code!r}) at import (sys.exit ends the process)"}
    else:
        said = {"error": f"{type(cause).__name__}: {cause}"}
except BaseException as error:  # building the class or its example_input()
    said = {"error": f"{type(error).__name__}: {error}"}
sys.stdout.flush()
print("\n" + json.dumps(said), flush=True)
"""

_passed: dict[tuple, bool] = {}  # fingerprint of the folders' files -> tried and fine
_lock = threading.Lock()


def try_model_file(name: str, folders: list[Path], class_name: str = "",
                   timeout_s: float | None = None) -> str | None:
    """Import `<name>.py` (and build `class_name`) in a child process: None when it did, else
    what went wrong, in words."""
    key = (name, class_name, fingerprint(folders))
    with _lock:
        if _passed.get(key):
            return None
    timeout_s = TRIAL_TIMEOUT_S if timeout_s is None else timeout_s
    outcome = run_child(name, class_name, folders, timeout_s)
    if outcome is not None:
        return f"{outcome} (tried in a separate process; the app did not import it)"
    with _lock:
        _passed[key] = True
    return None


def fingerprint(folders: list[Path]) -> tuple:
    """What would make a new trial necessary: any .py file in the folders added, removed or changed."""
    seen = []
    for folder in folders:
        try:
            for path in sorted(Path(folder).glob("*.py")):
                stat = path.stat()
                seen.append((str(path), stat.st_mtime_ns, stat.st_size))
        except OSError:
            seen.append((str(folder), "unreadable"))
    return tuple(seen)


def run_child(name: str, class_name: str, folders: list[Path], timeout_s: float) -> str | None:
    """None when the child imported (and built) the model; else what went wrong, in words."""
    command = [sys.executable, "-c", CHILD_CODE, str(timeout_s), name, class_name, *map(str, folders)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(package_parent()),
                                                                    os.environ.get("PYTHONPATH")])))
    try:
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=env, start_new_session=True)
    except OSError as error:
        return f"could not start a Python process to try it ({error})"
    out: list[bytes] = []
    err: list[bytes] = []
    readers = [threading.Thread(target=_drain, args=(stream, into), daemon=True)
               for stream, into in ((child.stdout, out), (child.stderr, err))]
    for reader in readers:
        reader.start()
    problem = watch(child, timeout_s)
    for reader in readers:
        reader.join(timeout=1)
    if problem:
        return problem
    stdout = b"".join(out).decode("utf-8", "replace")
    stderr = b"".join(err).decode("utf-8", "replace")
    said = last_json_line(stdout)
    if child.returncode == 0 and said.get("ok"):
        return None
    if said.get("error"):
        return clip(said["error"])
    return what_ended_it(child.returncode, stderr)


def watch(child: subprocess.Popen, timeout_s: float) -> str | None:
    """Wait for the child, killing it when it runs too long or grows too big."""
    deadline = time.monotonic() + timeout_s
    while child.poll() is None:
        if time.monotonic() > deadline:
            _kill(child)
            return f"still importing after {timeout_s:.0f} s (an endless loop at import?)"
        rss = resident_bytes(child.pid)
        if rss > TRIAL_MAX_RSS_BYTES:
            _kill(child)
            return f"used more than {TRIAL_MAX_RSS_BYTES / 1024**2:,.0f} MB of memory at import"
        time.sleep(POLL_S)
    return None


def last_json_line(stdout: str) -> dict:
    try:
        said = json.loads(stdout.rstrip().rsplit("\n", 1)[-1])
    except ValueError:
        return {}
    return said if isinstance(said, dict) else {}


def what_ended_it(code: int, stderr: str) -> str:
    if code < 0:
        import signal

        try:
            signal_name = signal.Signals(-code).name
        except ValueError:
            signal_name = f"signal {-code}"
        return f"the process importing it crashed ({signal_name})"
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    if lines:  # a traceback: its last line is the error
        return clip(lines[-1])
    if code == 0:
        return "it ended the process at import (os._exit(0) or sys.exit())"
    return f"it ended the process at import with status {code} (SystemExit or os._exit)"


def resident_bytes(pid: int) -> int:
    """The child's resident memory (Linux /proc); 0 where it cannot be read."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def package_parent() -> Path:
    """The folder that holds the `l4tui` package, so the child imports this same l4tui."""
    return Path(__file__).resolve().parent.parent


def _drain(stream, into: list[bytes], keep: int = 64_000) -> None:
    """Read a pipe to its end, keeping only its last bytes (a file may print megabytes)."""
    held = 0
    for chunk in iter(lambda: stream.read1(65536), b""):
        into.append(chunk)
        held += len(chunk)
        while held > keep and len(into) > 1:
            held -= len(into.pop(0))


def _kill(child: subprocess.Popen) -> None:
    import signal

    try:
        os.killpg(child.pid, signal.SIGKILL)  # its own session: any process it started goes too
    except OSError:
        child.kill()
    child.wait()
