from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Location:
    """A place in a file: `line` counts from 1 (as editors and jedi do), `column` from 0."""

    path: Path
    line: int
    column: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column + 1}"


def parse_place(text: str, need_column: bool = False) -> Location:
    """`path`, `path:LINE` or `path:LINE:COL` (both from 1, as editors and grep print them).

    The Location's column counts from 0. A path that itself contains `:` still works when the
    suffixes are numbers. Raises ValueError with a message a user can act on.
    """
    path, numbers = text, []
    while len(numbers) < 2:
        head, sep, tail = path.rpartition(":")
        if not sep or not tail.isdigit() or not head:
            break
        numbers.insert(0, int(tail))
        path = head
    if need_column and len(numbers) < 2:
        raise ValueError(f"expected PATH:LINE:COLUMN, got {text!r}")
    line = numbers[0] if numbers else 1
    column = numbers[1] if len(numbers) > 1 else 1
    if line < 1 or column < 1:
        raise ValueError(f"lines and columns count from 1, got {text!r}")
    return Location(Path(path), line, column - 1)
