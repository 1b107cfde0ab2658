"""Where the cursor is in the file's structure: the classes and defs around a line.

The viewer shows it as a breadcrumb ("class EmbeddingDotBias › def forward"). It uses the
folds (folds.py), so it agrees with what zc would fold: a def's own line is inside it, its
decorators and the blank lines after its last statement are not.
"""

from bisect import bisect_right

from l4tui.code.folds import Fold, find_folds


def enclosing(folds: list[Fold], line: int) -> list[Fold]:
    """The folds around `line` (from 0), outermost first. `folds` sorted by start, as
    find_folds returns them."""
    i = bisect_right([fold.start for fold in folds], line) - 1
    path: list[Fold] = []
    # Walk back from the last fold starting at or before `line`: an enclosing fold starts
    # earlier and, folds being nested, at a smaller depth than the last one taken. Nothing
    # before a top-level fold can enclose `line`, whether that fold does or not.
    while i >= 0:
        fold = folds[i]
        if line <= fold.end and (not path or fold.depth < path[-1].depth):
            path.append(fold)
        if fold.depth == 0:
            break
        i -= 1
    return path[::-1]


def breadcrumb(lines: list[str], line: int, folds: list[Fold] | None = None) -> list[str]:
    """["class EmbeddingDotBias", "def forward"] for a line in that method. Pass `folds` when
    you have them: finding them reads the whole file."""
    if folds is None:
        folds = find_folds(lines)
    return [fold.label for fold in enclosing(folds, line)]
