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

A run folder is untrusted input: a run whose run.json or events are not sound (fields.py)
is listed as `invalid` with the reason, one line, and the other runs are unaffected.
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

from l4tui.runs.events import EventReader, resume_point
from l4tui.runs.fields import check_run_file
from l4tui.runs.progress import better, key_metric
from l4tui.runs.untrusted import read_regular, reason
from l4tui.textcut import clip

RUN_FILE = "run.json"
MAX_RUN_FILE_BYTES = 1 << 20  # a run's description is a few hundred bytes; a huge one is not one
CHOOSE_ANOTHER = "choose another with --runs DIR or $L4TUI_RUNS"


def write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def runs_dir_problem(runs_dir: Path, writing: bool = False) -> str | None:
    """Why the runs folder cannot be read (or, `writing`, have a run made in it), as one line;
    None when it can. A folder that does not exist yet is fine while it could be made."""
    runs_dir = Path(runs_dir)
    if runs_dir.is_dir():
        if not os.access(runs_dir, os.R_OK | os.X_OK):
            return f"cannot read the runs folder {runs_dir}: permission denied; {CHOOSE_ANOTHER}"
        if writing and not os.access(runs_dir, os.W_OK | os.X_OK):
            return f"the runs folder {runs_dir} is not writable; {CHOOSE_ANOTHER}"
        return None
    if runs_dir.exists() or runs_dir.is_symlink():
        return f"the runs folder {runs_dir} is not a folder; {CHOOSE_ANOTHER}"
    parent = runs_dir.parent  # the nearest folder above that exists: the runs folder is made in it
    while not parent.exists() and parent != parent.parent:
        if parent.is_symlink():
            return f"the runs folder {runs_dir} cannot be made: {parent} is a link to nowhere (or a loop); " \
                   f"{CHOOSE_ANOTHER}"
        parent = parent.parent
    if not parent.is_dir():
        return f"the runs folder {runs_dir} cannot be made: {parent} is not a folder; {CHOOSE_ANOTHER}"
    if writing and not os.access(parent, os.W_OK | os.X_OK):
        return f"the runs folder {runs_dir} cannot be made: {parent} is not writable; {CHOOSE_ANOTHER}"
    return None


def new_run_dir(runs_dir: Path, family: str) -> Path:
    problem = runs_dir_problem(runs_dir, writing=True)
    if problem:
        raise ValueError(problem)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = Path(runs_dir) / f"{stamp}-{family}-{secrets.token_hex(2)}"
    try:
        run_dir.mkdir(parents=True)
    except OSError as error:  # a read-only file system, a full disk ...
        raise ValueError(f"cannot make a run folder in {runs_dir}: {reason(error)}; {CHOOSE_ANOTHER}") from None
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
    if isinstance(pid, bool) or not isinstance(pid, int) or not 0 < pid < 2 ** 31:
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
    epoch_figures: list[dict] = field(default_factory=list, repr=False)  # each epoch event, for rewinds
    run_file_ok: bool = True  # False: invalid because of run.json (which may be written again)
    active_s: float = 0.0  # seconds of the active spans that ended (start or resume to end)
    span_from: float | None = None  # when the active span under way began (None: none is)

    @property
    def last(self) -> tuple[str, float] | None:
        """The key metric's latest value (the last epoch's, or the end's), when it has one."""
        name, value = key_metric(self.metrics)
        return None if name is None else (name, value)

    @property
    def duration(self) -> float:
        """Seconds spent training: the sum of the run's active spans, each from its start (or a
        resume) to its end; the span under way counts to now while running, to the last event
        once died. Time spent stopped, between an end and a resume, is not counted."""
        if not self.started:
            return 0.0
        total = self.active_s
        begun = self.span_from if self.span_from is not None else (None if self.ended is not None else self.started)
        if begun is not None:
            if self.state == "died" or self.state == "invalid":
                end = self.last_t or begun
            else:
                end = time.time()
            total += max(0.0, end - begun)
        return total


def read_run_file(run_dir: Path) -> dict:
    """run.json as a dict whose fields are sound; raises ValueError (one line) when it is missing,
    unreadable, or a field is not what it must be."""
    try:
        data = read_regular(Path(run_dir) / RUN_FILE, limit=MAX_RUN_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ValueError(f"no {RUN_FILE}") from None
    except OSError as error:
        raise ValueError(clip(f"{RUN_FILE} unreadable: {reason(error)}")) from None
    if len(data) > MAX_RUN_FILE_BYTES:
        raise ValueError(f"{RUN_FILE} unreadable: larger than {MAX_RUN_FILE_BYTES >> 20} MB")
    try:
        meta = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise ValueError(clip(f"{RUN_FILE} unreadable: {error}")) from None
    problem = check_run_file(meta)
    if problem:
        raise ValueError(clip(f"{RUN_FILE}: {problem}"))
    return meta


def live_state(pid: int, run_id: str, started: float) -> str:
    """The state of a run that has written no end event: it depends on its process."""
    if pid == 0 and time.time() - started < 60:
        return "starting"  # the launcher has not written the pid yet
    return "running" if process_alive(pid, run_id) else "died"


def run_state(problem: str | None, end_state: str | None, pid: int, run_id: str, started: float) -> str:
    """A run's state, the one rule the runs list, the monitor's header and `l4tui runs` all
    follow: invalid when its run.json or log is not sound (`problem`), else its end event's
    state (`end_state`: the last end, None when a resume came after it or there is none),
    else what its process says."""
    if problem:
        return "invalid"
    if end_state is not None:
        return end_state
    return live_state(pid, run_id, started)


def read_run_meta(run_dir: Path) -> RunInfo:
    """What run.json says (state "unknown" until the events are read; "invalid" when run.json is
    missing or not sound)."""
    run_dir = Path(run_dir)
    info = RunInfo(run_dir=run_dir, id=run_dir.name)
    try:
        meta = read_run_file(run_dir)
    except ValueError as error:
        info.state, info.error, info.run_file_ok = "invalid", str(error), False
        return info
    info.family = str(meta.get("family", "?"))
    info.config = meta.get("config") or {}
    info.pid = meta.get("pid") or 0
    info.started = float(meta.get("started") or 0.0)
    info.epochs = info.config.get("epochs")
    info.mode = str(meta.get("mode") or "train")
    return info


def settle(info: RunInfo, reader: EventReader) -> None:
    """The run's state once its events are in: invalid when its log is not sound, else from
    its end event, else from its process."""
    if reader.problem:
        info.error = reader.problem
    info.state = run_state(reader.problem, info.state if info.ended is not None else None,
                           info.pid, info.id, info.started)


def read_run(run_dir: Path) -> RunInfo:
    info = read_run_meta(run_dir)
    if info.state == "invalid":
        return info
    reader = EventReader(run_dir)
    apply_events(info, reader.read_new())
    settle(info, reader)
    return info


def apply_events(info: RunInfo, events: list[dict]) -> None:
    """Fold (sound) events into a RunInfo: the latest epoch's metrics, and the end state if there is one."""
    for event in events:
        kind = event.get("type")
        before = info.last_t  # the run's last event before this one
        if "t" in event:
            info.last_t = event["t"]
        if kind == "start":
            info.epochs = event.get("epochs", info.epochs)  # all stages' epochs (the classifier has four)
        elif kind == "epoch":
            info.epoch_figures.append({k: v for k, v in event.items() if k not in ("t", "type")})
            _take_epoch(info, info.epoch_figures[-1])
        elif kind == "end":
            info.state = str(event.get("state", "finished"))
            info.error = clip(event["error"]) if event.get("error") else None  # the table's one line
            info.metrics = event.get("metrics") or info.metrics
            info.ended = event.get("t", 0.0)
            begun = info.span_from if info.span_from is not None else info.started
            info.active_s += max(0.0, info.ended - begun) if begun else 0.0
            info.span_from = None
            name, value = key_metric(info.metrics)
            if name == "suggested_lr":  # an lr_find run: its one figure is the suggestion
                info.best = (name, value)
        elif kind == "resume":  # the run was started again after its end: it has no end now
            if info.ended is None and before is not None:  # it had died: its span ended at its last event
                begun = info.span_from if info.span_from is not None else info.started
                info.active_s += max(0.0, before - begun) if begun else 0.0
            info.state, info.error, info.ended = "unknown", None, None
            info.span_from = event.get("t")  # a new active span: the time stopped is not counted
            point = resume_point(event)
            if point is not None:  # the epochs from there train again: what they logged is undone
                info.epoch_figures = [row for row in info.epoch_figures if row.get("epoch", -1) < point]
                info.epoch, info.metrics, info.best = None, {}, None
                for row in info.epoch_figures:
                    _take_epoch(info, row)


def _take_epoch(info: RunInfo, row: dict) -> None:
    info.epoch = row.get("epoch")
    info.epochs = row.get("epochs", info.epochs)
    info.metrics = row
    name, value = key_metric(row)
    if name is not None and (info.best is None or info.best[0] != name or better(name, value, info.best[1])):
        info.best = (name, value)


def run_folders(runs_dir: Path) -> list[Path]:
    """The run folders under `runs_dir` (none when it cannot be read: runs_dir_problem says why)."""
    try:
        return [d for d in Path(runs_dir).iterdir() if not d.name.startswith(".") and d.is_dir()]
    except OSError:
        return []


def list_runs(runs_dir: Path) -> list[RunInfo]:
    """Every run folder under `runs_dir`, newest first; an unsound one as `invalid`."""
    runs = [read_run(d) for d in run_folders(runs_dir)]
    return sorted(runs, key=lambda r: (r.started, r.id), reverse=True)


class RunsIndex:
    """The runs folder, kept up to date cheaply: each run's run.json is read once and its events
    file is tailed (only new bytes are read), so refreshing every second or two costs little even
    with long runs. Runs started elsewhere (the CLI, another l4tui) appear on the next refresh.
    `problem` says why the folder cannot be read, when it cannot."""

    def __init__(self, runs_dir: Path):
        self.runs_dir = Path(runs_dir)
        self._runs: dict[str, RunInfo] = {}
        self._readers: dict[str, EventReader] = {}
        self.problem: str | None = None
        self._folder_mtime: int | None = None  # the runs folder's, when last refreshed

    def changed(self) -> bool:
        """Would a refresh change anything? A cheap look, made every half second or so: one stat
        of the runs folder (a run made or deleted changes its mtime), one of each live run's
        events file, and whether each running run's process still lives. Nothing is read."""
        try:
            mtime = os.stat(self.runs_dir).st_mtime_ns
        except OSError:
            mtime = None
        if mtime != self._folder_mtime:
            return True
        for name, info in self._runs.items():
            if info.ended is not None or not info.run_file_ok:
                continue  # ended runs change only by a resume, which appends to their log
            reader = self._readers.get(name)
            if reader is not None and reader.has_new():
                return True
            if info.state != run_state(None, None, info.pid, info.id, info.started):
                return True  # its process ended (killed, crashed) or it is past starting
        for name, reader in self._readers.items():
            if self._runs[name].ended is not None and reader.has_new():
                return True  # resumed
        return False

    def refresh(self) -> list[RunInfo]:
        """Every run, newest first, with the events written since the last call folded in."""
        self.problem = runs_dir_problem(self.runs_dir)
        try:
            self._folder_mtime = os.stat(self.runs_dir).st_mtime_ns  # before listing: a run made meanwhile is seen next time
        except OSError:
            self._folder_mtime = None
        names = {d.name for d in run_folders(self.runs_dir)}
        for gone in set(self._runs) - names:  # deleted
            del self._runs[gone]
            self._readers.pop(gone, None)
        for name in names:
            info = self._runs.get(name)
            if info is None or not info.run_file_ok:  # new, or run.json not sound when last looked
                self._readers[name] = EventReader(self.runs_dir / name)
                info = self._runs[name] = read_run_meta(self.runs_dir / name)
                if info.state == "invalid":
                    continue
            elif info.pid == 0 and info.ended is None:  # the launcher writes the pid just after starting
                info.pid = self._current_pid(info)
            reader = self._readers[name]
            if reader.problem:  # an unsound log stays unsound: it is only appended to
                continue
            apply_events(info, reader.read_new())
            if info.ended is None and not reader.problem and info.pid and not process_alive(info.pid, info.id):
                info.pid = self._current_pid(info)  # resumed runs have a new process
            settle(info, reader)
        return sorted(self._runs.values(), key=lambda r: (r.started, r.id), reverse=True)

    def _current_pid(self, info: RunInfo) -> int:
        try:
            return read_run_file(info.run_dir).get("pid") or 0
        except ValueError:
            return info.pid


def find_run(runs_dir: Path, run_id: str) -> Path | None:
    """A run by id, or by a unique prefix of its id."""
    runs_dir = Path(runs_dir)
    if not run_id or "/" in run_id or run_id in (".", ".."):
        return None  # a run id names a folder inside the runs folder, nothing else
    if (runs_dir / run_id / RUN_FILE).exists():
        return runs_dir / run_id
    matches = [d for d in run_folders(runs_dir) if d.name.startswith(run_id) and (d / RUN_FILE).exists()]
    return matches[0] if len(matches) == 1 else None


def stop_run(run_dir: Path) -> bool:
    """Ask a running run to stop (SIGTERM); it writes its own `stopped` end event."""
    info = read_run(run_dir)
    if info.state != "running":
        return False
    os.kill(info.pid, signal.SIGTERM)
    return True
