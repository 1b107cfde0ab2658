"""A run's append-only JSON-lines event log: one writer (the run), any number of readers.

Readers tail the file while it is written, so the last line may be torn (half written): the
reader keeps the partial line and finishes it on the next read. That is normal, not an error.
"""

import gc
import json
import os
import time
from contextlib import contextmanager
from pathlib import Path

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
        self._file = open(Path(run_dir) / EVENTS_FILE, "a", encoding="utf-8")

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
    """Reads new events since the last call, tolerating a torn last line."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / EVENTS_FILE
        self._offset = 0
        self._partial = b""
        self.skipped_lines = 0  # complete lines that were not valid JSON (reported, never fatal)

    def read_new(self) -> list[dict]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                chunk = f.read()
        except FileNotFoundError:
            return []
        self._offset += len(chunk)
        data = self._partial + chunk
        end = data.rfind(b"\n") + 1  # complete lines end at the last newline; the rest is torn
        data, self._partial = data[:end], data[end:]
        if not data.strip():
            return []
        try:  # one C call for the whole chunk: a long log parses about 1.6x faster than line by line
            with gc_paused():
                parsed = json.loads(b"[" + data.rstrip(b"\n").replace(b"\n", b",") + b"]")
        except ValueError:  # some line is not JSON (or blank): parse them one by one, count the bad ones
            parsed = []
            for line in data.split(b"\n"):
                if not line.strip():
                    continue
                try:
                    parsed.append(json.loads(line))
                except ValueError:
                    self.skipped_lines += 1
        return [event for event in parsed if isinstance(event, dict)]
