"""A run's append-only JSON-lines event log: one writer (the run), any number of readers.

Readers tail the file while it is written, so the last line may be torn (half written): the
reader keeps the partial line and finishes it on the next read. That is normal, not an error.
A run killed mid-line leaves its fragment for good: the next writer (a resume) starts on a
fresh line, and readers skip the fragment.

The file is untrusted input (l4tui/runs/fields.py): every event is checked, and the first
that is not sound is the reader's `problem`, which makes its run `invalid`.

A resume rewinds the history to its checkpoint: the `resume` event says from which epoch the
run trains again (`from_epoch`), and the events of that epoch and later written before it (a
killed epoch's batches, or the epochs after an earlier checkpoint a resume was asked to start
from) are dropped by every reader, so the history reads as one run.
"""

import gc
import json
import os
import time
from contextlib import contextmanager
from pathlib import Path

from l4tui.runs.fields import check_event, first_problem
from l4tui.runs.untrusted import read_regular, reason
from l4tui.textcut import clip

EVENTS_FILE = "events.jsonl"


def _compact(value):
    """Floats to 7 significant digits (plenty for a chart or a table; timestamps keep theirs)."""
    if isinstance(value, float):
        return float(f"{value:.7g}")
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items()}
    return value


def encode_event(event: dict) -> str:
    """One event as one line of compact JSON: short floats and no spaces keep long logs small and
    quick to read back (a 100,000-step run's log is read whole when the app opens it)."""
    return json.dumps({k: v if k == "t" else _compact(v) for k, v in event.items()}, separators=(",", ":"))


class EventWriter:
    """Appends one JSON object per line and flushes it, so readers see each event at once."""

    def __init__(self, run_dir: Path):
        path = Path(run_dir) / EVENTS_FILE
        self._file = open(path, "a", encoding="utf-8")
        if self._file.tell() > 0:  # appending: after a torn last line (a killed run), start a new one
            with open(path, "rb") as f:
                f.seek(-1, os.SEEK_END)
                torn = f.read(1) != b"\n"
            if torn:
                self._file.write("\n")

    def write(self, type_: str, **fields) -> None:
        event = {"t": time.time(), "type": type_, **fields}
        self._file.write(encode_event(event) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()


@contextmanager
def gc_paused():
    """No garbage collection inside: reading a long log makes a few hundred thousand objects,
    and each collection they trigger walks every object of the process (the app's are many:
    jedi's caches), which made opening a 100,000-step run twice as slow. Nothing made here is
    cyclic garbage, so the collection just waits."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class EventReader:
    """Reads new events since the last call, tolerating a torn last line. Only sound events are
    returned; the first unsound one is kept as `problem` (one line, naming the line)."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / EVENTS_FILE
        self._offset = 0
        self._partial = b""
        self._lines = 0  # complete lines read so far
        self._problem: str | None = None
        self.skipped_lines = 0  # complete lines that were not JSON (a killed run's fragment): skipped
        self.events_read = 0

    @property
    def problem(self) -> str | None:
        """Why this log is not a run's events: an unreadable file, an unsound event, or lines of
        which none is JSON. None while it is sound (a log no line of which is complete yet is)."""
        if self._problem is None and self.skipped_lines and not self.events_read:
            return f"{EVENTS_FILE}: none of its {self.skipped_lines} lines is a JSON event"
        return self._problem

    def has_new(self) -> bool:
        """Has the log grown since the last read? One stat, no read: a cheap look, often."""
        try:
            return os.stat(self.path).st_size != self._offset
        except OSError:
            return False

    def read_new(self) -> list[dict]:
        try:
            chunk = read_regular(self.path, self._offset)
        except FileNotFoundError:
            return []
        except OSError as error:
            self._problem = clip(f"{EVENTS_FILE} unreadable: {reason(error)}")
            return []
        self._offset += len(chunk)
        data = self._partial + chunk
        end = data.rfind(b"\n") + 1  # complete lines end at the last newline; the rest is torn
        data, self._partial = data[:end], data[end:]
        if not data.strip():
            self._lines += data.count(b"\n")
            return []
        first_line, numbers = self._lines + 1, None  # numbers: each event's line, when not consecutive
        with gc_paused():
            try:  # one C call for the whole chunk: a long log parses about 1.6x faster than line by line
                events = json.loads(b"[" + data.rstrip(b"\n").replace(b"\n", b",") + b"]")
            except (ValueError, RecursionError):  # some line is not JSON (or blank): parse them one by one
                events, numbers = [], []
                for number, line in enumerate(data.split(b"\n")[:-1], first_line):
                    if not line.strip():
                        continue
                    try:
                        events.append(json.loads(line))
                        numbers.append(number)
                    except (ValueError, RecursionError):
                        self.skipped_lines += 1
            self._lines += data.count(b"\n")
            found = first_problem(events)
            if found:  # unsound events are left out; the first is the log's problem
                index, problem = found
                if self._problem is None:
                    line = numbers[index] if numbers is not None else first_line + index
                    self._problem = clip(f"{EVENTS_FILE} line {line}: {problem}")
                events = [event for event in events if check_event(event) is None]
        self.events_read += len(events)
        return events


def resume_point(event: dict) -> int | None:
    """The first epoch (0-based, over the whole run) a `resume` event trains again; None when it
    does not say (a log written before resume events said it, after a multi-stage run)."""
    if "from_epoch" in event:
        return event["from_epoch"]
    if event.get("stage") == 0 and isinstance(event.get("epoch"), int):
        return event["epoch"] + 1  # the first stage's epochs are the run's
    return None


REWOUND_TYPES = ("batch", "epoch", "activations")  # the events a rewind undoes (each has its epoch)


def rewound(event: dict, from_epoch: int) -> bool:
    """Is `event`, written before a resume that trains again from `from_epoch`, undone by it?"""
    return event.get("type") in REWOUND_TYPES and event.get("epoch", -1) >= from_epoch


def one_history(events: list[dict]) -> list[dict]:
    """The events as one continuous history: what each resume rewound is left out."""
    kept = []
    for event in events:
        if event.get("type") == "resume" and (point := resume_point(event)) is not None:
            kept = [e for e in kept if not rewound(e, point)]
        kept.append(event)
    return kept
