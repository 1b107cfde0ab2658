"""The runs store: one folder per training run, read by the TUI and the CLI, written by the run.

    runs/<run-id>/
        run.json        config, command, pid, host, start time (written once, atomically)
        events.jsonl    append-only events: start, batch (throttled), epoch, end
        stdout.log      the run process's output
        stderr.log
        checkpoints/    last.pt after every epoch, best.pt on improvement, the weights of each
                        epoch as epoch-001.pt, epoch-002.pt ...; written atomically

A run's state comes from the folder and the process, so it stays true after a crash or a kill:
an `end` event says finished, failed or stopped; without one, the run is running while its
process lives and died once it is gone.
"""

import json
import os
import secrets
import signal
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from l4tui.train.events import EventReader
from l4tui.train.progress import better, key_metric

RUN_FILE = "run.json"


@dataclass(frozen=True)
class CheckpointFile:
    label: str  # "epoch 3", "best", "last"
    path: Path
    epoch: int | None  # 1-based over the whole run, for the epoch files


def list_checkpoints(run_dir: Path) -> list[CheckpointFile]:
    """A run's checkpoints in the order they were made: each epoch's weights, then best and last."""
    folder = Path(run_dir) / "checkpoints"
    found = []
    for path in sorted(folder.glob("epoch-*.pt")):
        number = path.stem.removeprefix("epoch-")
        if number.isdigit():
            found.append(CheckpointFile(f"epoch {int(number)}", path, int(number)))
    for name in ("best", "last"):
        if (folder / f"{name}.pt").exists():
            found.append(CheckpointFile(name, folder / f"{name}.pt", None))
    return found


def write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def new_run_dir(runs_dir: Path, family: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = Path(runs_dir) / f"{stamp}-{family}-{secrets.token_hex(2)}"
    run_dir.mkdir(parents=True)
    return run_dir


def write_run_file(run_dir: Path, family: str, config: dict, command: list[str], pid: int,
                   mode: str = "train", processes: int = 1) -> None:
    write_json_atomic(Path(run_dir) / RUN_FILE, {
        "id": Path(run_dir).name,
        "family": family,
        "mode": mode,
        "processes": processes,
        "config": config,
        "command": command,
        "pid": pid,
        "host": socket.gethostname(),
        "started": time.time(),
    })


def process_alive(pid: int, run_id: str | None = None) -> bool:
    """Is `pid` alive, not a zombie, and (where /proc tells) still the process of this run?"""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, owned by someone else
    proc = Path(f"/proc/{pid}")
    if proc.is_dir():
        try:
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            if state in ("Z", "X"):
                return False
            if run_id and run_id not in (proc / "cmdline").read_bytes().decode(errors="replace"):
                return False  # the pid was reused by another process
        except (OSError, IndexError):
            pass
    return True


@dataclass
class RunInfo:
    """What the folder and the process say about a run."""

    run_dir: Path
    id: str
    family: str = "?"
    config: dict = field(default_factory=dict)
    pid: int = 0
    started: float = 0.0
    state: str = "unknown"  # starting, running, finished, failed, stopped, died, invalid
    error: str | None = None
    metrics: dict = field(default_factory=dict)  # final metrics, or the latest epoch's
    ended: float | None = None
    epoch: int | None = None  # the last finished epoch, 0-based
    epochs: int | None = None
    mode: str = "train"  # or "lr_find"
    best: tuple[str, float] | None = None  # the key metric's best epoch value so far
    last_t: float | None = None  # when the run last wrote an event

    @property
    def duration(self) -> float:
        """Seconds from start to end; a running run's so far; a died run's to its last event."""
        if not self.started:
            return 0.0
        if self.ended is not None:
            end = self.ended
        elif self.state == "died":
            end = self.last_t or self.started
        else:
            end = time.time()
        return max(0.0, end - self.started)


def read_run_file(run_dir: Path) -> dict:
    """run.json as a dict; raises ValueError when it is missing or unreadable."""
    try:
        meta = json.loads((Path(run_dir) / RUN_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"no {RUN_FILE}") from None
    except (OSError, ValueError) as error:
        raise ValueError(f"unreadable {RUN_FILE}: {error}") from None
    if not isinstance(meta, dict):
        raise ValueError(f"unreadable {RUN_FILE}: not a JSON object")
    return meta


def live_state(pid: int, run_id: str, started: float) -> str:
    """The state of a run that has written no end event: it depends on its process."""
    if pid == 0 and time.time() - started < 60:
        return "starting"  # the launcher has not written the pid yet
    return "running" if process_alive(pid, run_id) else "died"


def read_run_meta(run_dir: Path) -> RunInfo:
    """What run.json says (state "unknown" until the events are read; "invalid" without run.json)."""
    run_dir = Path(run_dir)
    info = RunInfo(run_dir=run_dir, id=run_dir.name)
    try:
        meta = read_run_file(run_dir)
    except ValueError as error:
        info.state, info.error = "invalid", str(error)
        return info
    info.family = str(meta.get("family", "?"))
    info.config = meta.get("config") or {}
    info.pid = int(meta.get("pid") or 0)
    info.started = float(meta.get("started") or 0.0)
    info.epochs = info.config.get("epochs")
    info.mode = str(meta.get("mode") or "train")
    return info


def read_run(run_dir: Path) -> RunInfo:
    info = read_run_meta(run_dir)
    if info.state == "invalid":
        return info
    apply_events(info, EventReader(run_dir).read_new())
    if info.ended is None:
        info.state = live_state(info.pid, info.id, info.started)
    return info


def apply_events(info: RunInfo, events: list[dict]) -> None:
    """Fold events into a RunInfo: the latest epoch's metrics, and the end state if there is one."""
    for event in events:
        kind = event.get("type")
        if isinstance(event.get("t"), (int, float)):
            info.last_t = event["t"]
        if kind == "start":
            info.epochs = event.get("epochs", info.epochs)  # all stages' epochs (the classifier has four)
        elif kind == "epoch":
            info.epoch = event.get("epoch")
            info.epochs = event.get("epochs", info.epochs)
            info.metrics = {k: v for k, v in event.items() if k not in ("t", "type")}
            name, value = key_metric(info.metrics)
            if name is not None and (info.best is None or info.best[0] != name
                                     or better(name, value, info.best[1])):
                info.best = (name, value)
        elif kind == "end":
            info.state = str(event.get("state", "finished"))
            info.error = event.get("error")
            info.metrics = event.get("metrics") or info.metrics
            info.ended = event.get("t", 0.0)
            name, value = key_metric(info.metrics)
            if name == "suggested_lr":  # an lr_find run: its one figure is the suggestion
                info.best = (name, value)
        elif kind == "resume":  # the run was started again after its end: it has no end now
            info.state, info.error, info.ended = "unknown", None, None


def list_runs(runs_dir: Path) -> list[RunInfo]:
    """Every run folder under `runs_dir`, newest first."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    runs = [read_run(d) for d in runs_dir.iterdir() if d.is_dir() and not d.name.startswith(".")]
    return sorted(runs, key=lambda r: (r.started, r.id), reverse=True)


class RunsIndex:
    """The runs folder, kept up to date cheaply: each run's run.json is read once and its events
    file is tailed (only new bytes are read), so refreshing every second or two costs little even
    with long runs. Runs started elsewhere (the CLI, another l4tui) appear on the next refresh."""

    def __init__(self, runs_dir: Path):
        self.runs_dir = Path(runs_dir)
        self._runs: dict[str, RunInfo] = {}
        self._readers: dict[str, EventReader] = {}

    def refresh(self) -> list[RunInfo]:
        """Every run, newest first, with the events written since the last call folded in."""
        names = set()
        if self.runs_dir.is_dir():
            names = {d.name for d in self.runs_dir.iterdir() if d.is_dir() and not d.name.startswith(".")}
        for gone in set(self._runs) - names:  # deleted
            del self._runs[gone]
            self._readers.pop(gone, None)
        for name in names:
            info = self._runs.get(name)
            if info is None or info.state == "invalid":  # new, or run.json unreadable when last looked
                self._readers[name] = EventReader(self.runs_dir / name)
                info = self._runs[name] = read_run_meta(self.runs_dir / name)
                if info.state == "invalid":
                    continue
            elif info.pid == 0 and info.ended is None:  # the launcher writes the pid just after starting
                info.pid = self._current_pid(info)
            apply_events(info, self._readers[name].read_new())
            if info.ended is None:  # no end event in effect: the process says
                if info.pid and not process_alive(info.pid, info.id):
                    info.pid = self._current_pid(info)  # resumed runs have a new process
                info.state = live_state(info.pid, info.id, info.started)
        return sorted(self._runs.values(), key=lambda r: (r.started, r.id), reverse=True)

    def _current_pid(self, info: RunInfo) -> int:
        try:
            return int(read_run_file(info.run_dir).get("pid") or 0)
        except ValueError:
            return info.pid


def find_run(runs_dir: Path, run_id: str) -> Path | None:
    """A run by id, or by a unique prefix of its id."""
    runs_dir = Path(runs_dir)
    if (runs_dir / run_id / RUN_FILE).exists():
        return runs_dir / run_id
    matches = [d for d in runs_dir.glob(f"{run_id}*") if (d / RUN_FILE).exists()] if runs_dir.is_dir() else []
    return matches[0] if len(matches) == 1 else None


def stop_run(run_dir: Path) -> bool:
    """Ask a running run to stop (SIGTERM); it writes its own `stopped` end event."""
    info = read_run(run_dir)
    if info.state != "running":
        return False
    os.kill(info.pid, signal.SIGTERM)
    return True
