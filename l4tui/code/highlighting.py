"""Highlighting a Python file lazily, a block at a time, as its lines are drawn.

Highlighting all of torch's 30,000-line `_VariableFunctions.pyi` with pygments takes 1.5-3 s of
pure Python. Done in a background thread it still held the GIL against the event loop and the
jedi thread: jumps made while it ran took 50-120 ms instead of 10 ms. Only the lines on screen
need colours, so they are lexed when first drawn, in blocks that start where pygments' Python
lexer is known to be in its initial state: the header line of a class or def (the folds, whose
scanner skips strings and brackets), so a block lexes exactly as it would inside the whole file.
"""

from bisect import bisect_right
from collections.abc import Sequence

from l4tui.code.source import token_lines

# A stretch without any class or def longer than this is lexed in pieces of this size: a
# triple-quoted string across a cut is then coloured as code past it (cosmetic), instead of
# one screen costing the whole stretch (~0.05 ms a line).
MAX_BLOCK_LINES = 1_000
PYTHON_SUFFIXES = (".py", ".pyi")


def lexes_in_blocks(filename: str) -> bool:
    """Whether a file's highlighting can start at any class/def line (Python's can)."""
    return filename.endswith(PYTHON_SUFFIXES)


class LazyTokens(Sequence):
    """The pygments tokens of each line (as `token_lines` gives them), lexed on first use.

    Not thread-safe: the viewer reads it on the event loop only."""

    def __init__(self, lines: list[str], filename: str, block_starts: list[int]):
        self._lines = lines
        self._filename = filename
        self._starts = sorted({0, *(start for start in block_starts if 0 <= start < len(lines))})
        self._tokens: list[list | None] = [None] * len(lines)

    def __len__(self) -> int:
        return len(self._lines)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        tokens = self._tokens[index]
        if tokens is None:
            self._lex_block(index if index >= 0 else len(self) + index)
            tokens = self._tokens[index]
        return tokens

    def prepare(self, line: int, before: int = 50, after: int = 100) -> None:
        """Lex the lines around `line` now (in a worker thread, before the file is shown), so the
        first frame draws without lexing, and pygments is imported and its lexer's rules
        compiled (~100-200 ms, once a process) off the event loop. Racing the viewer is harmless:
        both would store the same tokens."""
        for index in range(max(0, line - before), min(len(self), line + after)):
            self[index]

    def _lex_block(self, index: int) -> None:
        at = bisect_right(self._starts, index) - 1
        start = self._starts[at]
        end = self._starts[at + 1] if at + 1 < len(self._starts) else len(self._lines)
        if end - start > MAX_BLOCK_LINES:
            start += (index - start) // MAX_BLOCK_LINES * MAX_BLOCK_LINES
            end = min(end, start + MAX_BLOCK_LINES)
        lexed = token_lines("\n".join(self._lines[start:end]) + "\n", self._filename)
        for offset in range(end - start):
            line = start + offset
            self._tokens[line] = lexed[offset] if offset < len(lexed) else [(None, self._lines[line])]
