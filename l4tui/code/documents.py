"""Files ready to show: read, split into lines, folds found, highlighted; kept for jumping back.

A jump lands as fast as the file it lands in can be shown. Reading torch's 30,000-line stub
takes ~100 ms, and highlighting it whole took 1.5 s: Python files are highlighted a block at a
time as they are drawn (highlighting.py), documents are kept (up to a number of lines, not of
files) and can be prepared ahead: the Code pane prefetches the files the open file's names lead
to while the user reads.

Thread-safe: the pane reads documents in worker threads.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from l4tui.code.folds import Fold, find_folds
from l4tui.code.highlighting import LazyTokens, lexes_in_blocks
from l4tui.code.notebook import PROSE, is_notebook
from l4tui.code.source import read_notebook, read_source, token_lines

HIGHLIGHT_INLINE_LINES = 3_000  # bigger files are shown first as plain text, highlighted after
CACHE_LINES = 150_000  # lines kept across documents (torch's biggest stub is 31k)


def split_lines(source: str) -> list[str]:
    """The file's lines, split at newlines only, as jedi, ctags and vim count them
    (`str.splitlines` would also split at form feeds, which some files contain)."""
    lines = source.expandtabs(4).split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


@dataclass
class Document:
    path: Path
    stamp: tuple[int, int]  # (mtime_ns, size) when read: a different one means the file changed
    source: str
    lines: list[str]
    folds: list[Fold]
    width: int  # the longest line, for the horizontal scroll
    # pygments tokens per line; None until highlighted. For Python a LazyTokens, which lexes
    # the lines as they are drawn (highlighting.py), so "highlighting" it costs nothing.
    tokens: list | LazyTokens | None = field(default=None)
    closed: frozenset[int] = frozenset()  # start lines of the folds closed when it opens
    notebook: object = None  # a notebook's JoinedNotebook (notebook.py): cells, lines mapped back

    @property
    def highlighted(self) -> bool:
        return self.tokens is not None

    def __repr__(self) -> str:
        # Short: Textual's @work names a worker by repr() of its arguments, and the default
        # dataclass repr of a 30,000-line file (its text, lines, folds, tokens) took ~15 ms of
        # the event loop on every jump into torch's stub.
        return f"Document({str(self.path)!r}, {len(self.lines)} lines, highlighted={self.highlighted})"


def disk_stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


class Documents:
    """The documents read lately, newest last, up to CACHE_LINES lines in all."""

    def __init__(self, max_lines: int = CACHE_LINES) -> None:
        self.max_lines = max_lines
        self._documents: OrderedDict[Path, Document] = OrderedDict()
        self._lock = threading.Lock()
        self._highlighting = threading.Lock()  # two jumps into one big file highlight it once

    def get(self, path: Path, highlight: bool | None = None) -> Document:
        """The document of `path`, read again only when the file changed on disk.

        `highlight`: True highlights now whatever the size, False never, None only files up
        to HIGHLIGHT_INLINE_LINES (bigger ones: call `highlight(document)` from a worker).
        Raises SourceError for what can't be shown (missing, binary, not UTF-8, too big).
        """
        path = Path(path)
        stamp = disk_stamp(path)
        with self._lock:
            document = self._documents.get(path)
            if document is not None and document.stamp == stamp:
                self._documents.move_to_end(path)
            else:
                document = None
        if document is None:
            document = self._read(path, stamp)
            self._keep(document)
        if not document.highlighted and (highlight or (highlight is None and len(document.lines)
                                                       <= HIGHLIGHT_INLINE_LINES)):
            self.highlight(document)
        return document

    @staticmethod
    def _read(path: Path, stamp) -> Document:
        if is_notebook(path):  # its cells joined into one Python text, with its own folds
            notebook = read_notebook(path)
            lines = split_lines(notebook.source)
            return Document(path, stamp, notebook.source, lines, notebook.folds,
                            max((len(line) for line in lines), default=0),
                            closed=frozenset(notebook.closed), notebook=notebook)
        source = read_source(path)
        lines = split_lines(source)
        return Document(path, stamp, source, lines, find_folds(lines), max((len(line) for line in lines), default=0))

    def prepare(self, document: Document, around_line: int) -> Document:
        """Highlight a Python file's lines around `around_line` (from 0) now, whatever its size
        (it is highlighted a block at a time: cheap), from the worker that read it: the first
        frame then draws without lexing anything on the event loop."""
        if document.notebook is None and lexes_in_blocks(document.path.name):
            self.highlight(document).tokens.prepare(around_line)
        return document

    def highlight(self, document: Document) -> Document:
        with self._highlighting:
            if document.tokens is None:
                if document.notebook is not None:
                    # A notebook's joined view is Python, lexed whole (its outputs are not in it,
                    # so it is small); pygments picks its lexer by the name; prose lines dimmed.
                    tokens = token_lines(document.source, document.path.name + ".py")
                    for index in document.notebook.prose_lines():
                        if index < len(tokens):
                            tokens[index] = [(PROSE, document.lines[index])]
                    document.tokens = tokens
                elif lexes_in_blocks(document.path.name):
                    document.tokens = LazyTokens(document.lines, document.path.name,
                                                 [fold.start for fold in document.folds])
                else:
                    document.tokens = token_lines(document.source, document.path.name)
        return document

    def cached(self, path: Path) -> Document | None:
        """The kept document of `path` if it is still what the disk holds."""
        with self._lock:
            document = self._documents.get(Path(path))
        return document if document is not None and document.stamp == disk_stamp(Path(path)) else None

    def _keep(self, document: Document) -> None:
        with self._lock:
            self._documents[document.path] = document
            self._documents.move_to_end(document.path)
            total = sum(len(d.lines) for d in self._documents.values())
            while total > self.max_lines and len(self._documents) > 1:
                _, dropped = self._documents.popitem(last=False)
                total -= len(dropped.lines)

    def __contains__(self, path: Path) -> bool:
        with self._lock:
            return Path(path) in self._documents
