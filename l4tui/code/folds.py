"""Folds on Python's `class` and `def` blocks, and vim's commands on them (zc zo za zM zR).

What a fold is (a choice; vim's own foldmethod=indent folds only the indented body):
  - it starts on the `class` / `def` / `async def` line, which stays visible as the fold's summary
    line; decorators above it are not in the fold;
  - it ends on the last line of the body's last statement, as `ast`'s `end_lineno` does: blank
    lines and comments after it are outside, even when indented;
  - a one-line def (`def f(): ...`) has no fold; nor has a header whose body is missing.

The blocks come from indentation, not from `ast`, so a file with a syntax error still folds. A
small line scanner follows what Python's tokenizer would: brackets (a multi-line signature),
strings (a triple-quoted string's lines, however little indented, are inside it), comments
(a comment at column 0 does not end a block), backslash continuations. To survive an unclosed
bracket, a line at column 0 starting with `def`, `class`, `async def` or `@` starts afresh.
"""

import re
from bisect import bisect_right
from dataclasses import dataclass
from itertools import chain

_HEADER = re.compile(r"(async[ \t]+def|def|class)[ \t]+(\w+)")
_RESYNC = re.compile(r"(?:async[ \t]+def|def|class)[ \t]|@")
_SPECIAL = re.compile(r"[\"'#\\()\[\]{}]")
# The rest of a string up to and including its closing quote (unrolled loops: linear time).
_STRING_END = {
    '"': re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"'),
    "'": re.compile(r"[^'\\]*(?:\\.[^'\\]*)*'"),
    '"""': re.compile(r'[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""'),
    "'''": re.compile(r"[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''"),
}
_OPEN, _CLOSE = "([{", ")]}"


@dataclass(frozen=True)
class Fold:
    """A class/def block: lines `start` (the header) to `end`, both from 0 and inclusive.
    `kind` is "class", "def" or "async def"; `depth` 0 for a top-level block, +1 per enclosing
    fold (vim's fold level is depth + 1)."""

    start: int
    end: int
    kind: str
    name: str
    depth: int

    @property
    def label(self) -> str:
        """"class EmbeddingDotBias", "def forward": how a breadcrumb names it."""
        return f"{self.kind} {self.name}"

    def __contains__(self, line: int) -> bool:
        return self.start <= line <= self.end


class _Scanner:
    """Carries Python's lexical state from line to line: open brackets, an unfinished string,
    a backslash continuation. `scan` returns the last significant character of the line's code
    ("" if none, a quote for a string), which tells a block header (ending in ":") apart."""

    __slots__ = ("depth", "string", "continued")

    def __init__(self) -> None:
        self.depth = 0
        self.string = None  # the quote of an unfinished string, e.g. '"""'
        self.continued = False

    @property
    def clean(self) -> bool:
        """At the end of a logical line: the next line starts a new statement."""
        return self.depth == 0 and self.string is None and not self.continued

    def resync(self) -> None:
        self.depth, self.string, self.continued = 0, None, False

    def scan(self, line: str) -> str:
        last = ""
        pos = 0
        self.continued = False
        if self.string is not None:
            quote = self.string
            m = _STRING_END[quote].match(line)
            if m is None:
                if len(quote) == 1 and not line.endswith("\\"):
                    self.string = None  # an unterminated 'string' ends with its line
                return quote
            self.string = None
            pos, last = m.end(), quote
        search = _SPECIAL.search
        while True:
            m = search(line, pos)
            if m is None:
                code = line[pos:].rstrip()
                return code[-1] if code else last
            i = m.start()
            code = line[pos:i].rstrip()
            if code:
                last = code[-1]
            ch = line[i]
            if ch == "#":
                return last
            if ch in _OPEN:
                self.depth += 1
                last, pos = ch, i + 1
            elif ch in _CLOSE:
                self.depth = max(0, self.depth - 1)
                last, pos = ch, i + 1
            elif ch == "\\":
                if not line[i + 1:].strip():
                    self.continued = True
                    return last
                pos = i + 1
            else:  # a quote
                quote = ch * 3 if line.startswith(ch * 3, i) else ch
                end = _STRING_END[quote].match(line, i + len(quote))
                if end is None:
                    if len(quote) == 3 or line.endswith("\\"):
                        self.string = quote
                    return quote
                last, pos = quote, end.end()


def find_folds(lines: list[str]) -> list[Fold]:
    """The class/def folds of a Python source (its lines), sorted by start."""
    folds: list[Fold] = []
    stack: list[tuple[int, int, int, str, str, int]] = []  # indent, start, header end, kind, name, depth
    scanner = _Scanner()
    last_end = -1  # the last line of the latest complete statement
    last_code = -1  # the last line with code on it, complete or not
    header = None  # (indent, start, kind, name) while a def/class statement is being read

    def close_blocks(indent: int) -> None:
        while stack and stack[-1][0] >= indent:
            _, start, header_end, kind, name, depth = stack.pop()
            if last_end > header_end:
                folds.append(Fold(start, last_end, kind, name, depth))

    for number, line in enumerate(lines):
        if scanner.clean or (scanner.string is None and _RESYNC.match(line)):
            stripped = line.lstrip()
            if not stripped or stripped[0] == "#":
                continue  # blank lines and comments neither open nor close a block
            if not scanner.clean:  # an unclosed bracket given up on: its statement ends here
                last_end = last_code
                scanner.resync()
            indent = len(line) - len(stripped)
            close_blocks(indent)
            m = _HEADER.match(stripped)
            header = (indent, number, " ".join(m.group(1).split()), m.group(2)) if m else None
        last = scanner.scan(line)
        if line.strip():
            last_code = number
        if scanner.clean:
            last_end = number
            if header is not None and last == ":":
                indent, start, kind, name = header
                stack.append((indent, start, number, kind, name, len(stack)))
            header = None
    if not scanner.clean:  # an unfinished string or bracket runs to the end of the file
        last_end = last_code
    close_blocks(-1)
    folds.sort(key=lambda fold: fold.start)
    return folds


class FoldState:
    """Which folds are closed, and what the viewer shows because of it.

    vim's commands, on the cursor line `line`:
      close(line)   zc  close the innermost open fold around `line`; inside a closed fold,
                        close the open fold around that one (one level up), as vim does
      open(line)    zo  open the outermost closed fold around `line` (one level down)
      toggle(line)  za  open if `line` is in a closed fold, else close
      close_all()   zM  close every fold, nested ones too (so zo then opens one level)
      open_all()    zR
      reveal(line)      open every closed fold around `line` (vim's 'foldopen' after a jump
                        or a search lands in a closed fold)
    They return None when no fold contains `line`: the UI says "E490: No fold found".

    The viewer draws display rows: visible_lines() lists the file line of each, a closed fold
    showing as its start line only. It is cached until the next change, as file_line() and
    display_row() use it on every frame.

    The cursor, as in vim: closing a fold does not change the cursor's line number; the cursor
    shows on the fold's summary row (display_row(line) maps a hidden line there), and zo puts it
    back where it was. j/k: move_lines(line, ±n), where a closed fold counts as one line.
    """

    def __init__(self, folds: list[Fold], line_count: int) -> None:
        self.folds = sorted(folds, key=lambda fold: fold.start)
        self.line_count = line_count
        self._starts = [fold.start for fold in self.folds]
        self._by_start = {fold.start: fold for fold in self.folds}
        self._parent: dict[int, Fold | None] = {}
        open_folds: list[Fold] = []
        for fold in self.folds:
            while open_folds and open_folds[-1].end < fold.start:
                open_folds.pop()
            self._parent[fold.start] = open_folds[-1] if open_folds else None
            open_folds.append(fold)
        self._closed: set[int] = set()
        self._visible: list[int] | None = None

    @classmethod
    def from_lines(cls, lines: list[str]) -> "FoldState":
        return cls(find_folds(lines), len(lines))

    @property
    def closed(self) -> frozenset[int]:
        """The start lines of the closed folds (change them with the methods)."""
        return frozenset(self._closed)

    def _changed(self) -> None:
        self._visible = None

    # ---- finding folds -------------------------------------------------------------------

    def containing(self, line: int) -> list[Fold]:
        """The folds around `line` (its header line included), outermost first."""
        i = bisect_right(self._starts, line) - 1
        fold = self.folds[i] if i >= 0 else None
        # The innermost fold around `line` is the last one starting before it or an ancestor.
        while fold is not None and line > fold.end:
            fold = self._parent[fold.start]
        path = []
        while fold is not None:
            path.append(fold)
            fold = self._parent[fold.start]
        return path[::-1]

    def closed_fold(self, line: int) -> Fold | None:
        """The outermost closed fold around `line`: the one whose summary line stands for it
        (vim's foldclosed()). None when `line` is not folded away."""
        return next((fold for fold in self.containing(line) if fold.start in self._closed), None)

    def is_folded(self, line: int) -> bool:
        """`line` is in a closed fold, its summary line included."""
        return self.closed_fold(line) is not None

    def fold_at(self, line: int) -> Fold | None:
        """The closed fold whose summary line is `line`, if that line is shown."""
        fold = self.closed_fold(line)
        return fold if fold is not None and fold.start == line else None

    # ---- vim's commands ------------------------------------------------------------------

    def close(self, line: int) -> Fold | None:
        """zc. Returns the outermost closed fold around `line` afterwards (the one whose summary
        row now shows the cursor), or None when no fold contains `line`."""
        path = self.containing(line)
        if not path:
            return None
        target = None
        for fold in path:
            if fold.start in self._closed:
                break
            target = fold
        if target is not None:
            self._closed.add(target.start)
            self._changed()
        return self.closed_fold(line)

    def open(self, line: int) -> Fold | None:
        """zo. Returns the fold opened, or the innermost fold around `line` when none was closed."""
        path = self.containing(line)
        for fold in path:
            if fold.start in self._closed:
                self._closed.discard(fold.start)
                self._changed()
                return fold
        return path[-1] if path else None

    def toggle(self, line: int) -> Fold | None:
        """za: zo when `line` is in a closed fold, else zc."""
        return self.open(line) if self.is_folded(line) else self.close(line)

    def close_all(self) -> None:
        """zM."""
        self._closed = set(self._starts)
        self._changed()

    def open_all(self) -> None:
        """zR."""
        self._closed.clear()
        self._changed()

    def reveal(self, line: int) -> list[Fold]:
        """Open the closed folds around `line` so it is shown (and not as a summary); returns
        the folds opened."""
        opened = [fold for fold in self.containing(line) if fold.start in self._closed]
        if opened:
            self._closed.difference_update(fold.start for fold in opened)
            self._changed()
        return opened

    def move_lines(self, line: int, delta: int) -> int:
        """j (delta > 0) / k (delta < 0) from `line`: vim's cursor_down()/cursor_up(). A closed
        fold counts as one line: down from inside one goes to the line after it, into one from
        below lands on its first line. At the first (last) row it does not move."""
        last = self.line_count - 1
        if delta > 0:
            fold = self.closed_fold(line)
            lnum = fold.end if fold is not None else line
            if lnum >= last:
                return line  # vim fails: already on the last row
            for _ in range(delta):
                fold = self.closed_fold(lnum)
                lnum = fold.end + 1 if fold is not None else lnum + 1
                if lnum >= last:
                    break
            return min(lnum, last)
        if delta < 0:
            if line <= 0:
                return line
            fold = self.closed_fold(line)
            lnum = fold.start if fold is not None else line
            for _ in range(-delta):
                lnum -= 1
                if lnum <= 0:
                    break
                fold = self.closed_fold(lnum)
                if fold is not None:
                    lnum = fold.start
            return max(lnum, 0)
        return line

    # ---- display rows --------------------------------------------------------------------

    def visible_lines(self) -> list[int]:
        """The file line of each display row, in order."""
        if self._visible is None:
            ranges = []
            shown_from = 0
            for fold in self.folds:
                if fold.start < shown_from or fold.start not in self._closed:
                    continue  # open, or inside a closed fold already hidden
                ranges.append(range(shown_from, fold.start + 1))
                shown_from = fold.end + 1
            ranges.append(range(shown_from, self.line_count))
            self._visible = list(chain.from_iterable(ranges))
        return self._visible

    def display_row(self, file_line: int) -> int:
        """The display row showing `file_line` (for a hidden line, its fold's summary row)."""
        return max(0, bisect_right(self.visible_lines(), file_line) - 1)

    def file_line(self, display_row: int) -> int:
        """The file line shown on `display_row` (clamped to the rows there are)."""
        visible = self.visible_lines()
        if not visible:
            return 0
        return visible[max(0, min(display_row, len(visible) - 1))]

    def is_hidden(self, line: int) -> bool:
        """`line` is inside a closed fold and not its summary line."""
        visible = self.visible_lines()
        row = bisect_right(visible, line) - 1
        return row < 0 or visible[row] != line


def summary(fold: Fold, lines: list[str], width: int | None = None) -> str:
    """vim's default fold text: `+--` and a dash per level, the line count, the header line:
    "+--- 12 lines: def forward(self, x):" (a method, level 2). With `width`, padded with "-"
    to it, as vim fills the rest of the row ('fillchars' fold:-)."""
    text = lines[fold.start].strip() if fold.start < len(lines) else ""
    count = fold.end - fold.start + 1
    line = f"+-{'-' * (fold.depth + 1)}{count:3d} lines: {text}"
    if width is not None:
        line = line.ljust(width, "-")
    return line
