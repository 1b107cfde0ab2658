"""A run's append-only JSON-lines event log: one writer (the run), any number of readers.

Readers tail the file while it is written, so the last line may be torn (half written): the
reader keeps the partial line and finishes it on the next read. That is normal, not an error.
"""

import json
import os
import time
from pathlib import Path

EVENTS_FILE = "events.jsonl"


class EventWriter:
    """Appends one JSON object per line and flushes it, so readers see each event at once."""

    def __init__(self, run_dir: Path):
        self._file = open(Path(run_dir) / EVENTS_FILE, "a", encoding="utf-8")

    def write(self, type_: str, **fields) -> None:
        event = {"t": time.time(), "type": type_, **fields}
        self._file.write(json.dumps(event) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()


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
        lines = data.split(b"\n")
        self._partial = lines.pop()  # b"" when the chunk ended on a newline, else a torn line
        events = []
        for line in lines:
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except ValueError:
                self.skipped_lines += 1
                continue
            if isinstance(event, dict):
                events.append(event)
        return events
