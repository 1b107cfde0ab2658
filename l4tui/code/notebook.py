"""Jupyter notebooks (.ipynb) as one Python text: read as JSON, never executed.

The Code pane, jedi, highlighting, folds and search all work on text, so a notebook is shown
as its cells joined into one Python source, the *joined view*:

    # ── cell 1 · In [1] ──          a code cell: a separator comment with its number (the
    import math                      cell's place in the notebook, and Jupyter's In [n]), then
    %matplotlib inline -> #%matplotlib inline   its source; IPython magics, shell lines
                                     (`!pip`) and `name?` become comments, so jedi and pygments
                                     see valid Python
    # # Heading                      a markdown (or raw) cell: each line as a comment, folded
    # some prose                     (closed) when it has two lines or more
    <blank line between cells>

Outputs are skipped, so a notebook with 10 MB of outputs is as quick to show as its code.
Every line of the joined view maps back to (cell, line in the cell, column) and on to the
notebook file's own line, for `e` ($EDITOR opens the .ipynb at that cell's line).
`l4tui goto nb.ipynb:LINE:COL` and `l4tui nb.ipynb:LINE` count lines in the joined view.
"""

import json
import re
from dataclasses import dataclass, field
from json.decoder import JSONDecoder, scanstring
from pathlib import Path

from l4tui.code.folds import Fold, _Scanner, find_folds

SUFFIX = ".ipynb"
PROSE = object()  # the token type of markdown lines: the viewer dims them (not a pygments type)
# Cell magics whose body is Python (IPython runs it): only their first line becomes a comment.
# Any other (%%bash, %%writefile, %%html ...) holds another language: the whole cell does.
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug", "python", "python3", "pypy", "cython_inline"}
# A line IPython rewrites: a magic, a shell escape, `?name` help, or an assignment from either.
_MAGIC = re.compile(r"\s*(?:%|!|\?)|\s*[\w.]+\s*\?\??\s*$|\s*[\w.,\s()\[\]]+=\s*[%!]\w")


class NotebookError(ValueError):
    """The file can't be read as a notebook; the message says why, in a few words."""


def is_notebook(path: Path) -> bool:
    return Path(path).suffix.lower() == SUFFIX


@dataclass(frozen=True)
class Cell:
    number: int  # its place in the notebook, from 1 (as Jupyter's "go to cell" counts)
    kind: str  # "code", "markdown" or "raw"
    execution_count: int | None  # Jupyter's In [n]; None when never run
    lines: list[str]  # the cell's own source lines


@dataclass(frozen=True)
class CellPlace:
    """Where a line of the joined view comes from. `line` counts from 1 within the cell, 0 for
    the separator (or blank) line the joined view adds; `column` from 0 in the cell's line."""

    cell: int  # from 1; 0 for a blank line between cells
    line: int
    column: int


@dataclass
class JoinedNotebook:
    cells: list[Cell]
    lines: list[str]
    folds: list[Fold]
    closed: set[int]  # start lines of the folds closed at first (the markdown cells)
    origins: list[tuple[int, int, int]] = field(repr=False)  # per line: (cell, line in cell, columns added)
    starts: dict[int, int] = field(repr=False)  # cell number -> index of its first joined line

    @property
    def source(self) -> str:
        return "\n".join(self.lines) + "\n"

    def prose_lines(self) -> list[int]:
        """The lines (from 0) that hold markdown or raw cells' text."""
        kinds = {cell.number: cell.kind for cell in self.cells}
        return [i for i, (cell, line, _) in enumerate(self.origins) if line and kinds[cell] != "code"]

    def to_cell(self, line: int, column: int = 0) -> CellPlace:
        """The joined view's (line from 1, column from 0) in its cell."""
        if not self.origins:
            return CellPlace(0, 0, 0)
        cell, cell_line, shift = self.origins[max(0, min(line - 1, len(self.origins) - 1))]
        return CellPlace(cell, cell_line, max(0, column - shift))

    def to_joined(self, cell: int, line: int = 1, column: int = 0) -> tuple[int, int]:
        """(line from 1, column from 0) in the joined view of a cell's (line from 1, column)."""
        if cell not in self.starts:
            raise ValueError(f"the notebook has no cell {cell}")
        start = self.starts[cell]
        index = start + max(0, line - 1) + (self.origins[start][1] == 0)  # a code cell's separator first
        if index >= len(self.origins) or self.origins[index][0] != cell or self.origins[index][1] < 1:
            index = start  # past the cell's end, or an empty cell: its first line
        return index + 1, column + self.origins[index][2]


# ---- reading ------------------------------------------------------------------------------

def parse_notebook(text: str) -> JoinedNotebook:
    """The joined view of a notebook's JSON text. Raises NotebookError for what isn't one."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotebookError(f"not JSON (line {error.lineno}, column {error.colno}: {error.msg})") from None
    except RecursionError:
        raise NotebookError("not a notebook: its JSON is nested too deeply") from None
    return join_cells(read_cells(data))


def read_cells(data) -> list[Cell]:
    """The cells of a parsed notebook: nbformat 4 (`cells`) or 3 (`worksheets`)."""
    if not isinstance(data, dict):
        raise NotebookError(f"JSON, but not a notebook: the top level is {_json_kind(data)}, not an object")
    if "cells" in data:
        raw_cells = data["cells"]
    elif isinstance(data.get("worksheets"), list):  # nbformat 3: cells in worksheets
        raw_cells = []
        for sheet in data["worksheets"]:
            if not isinstance(sheet, dict) or not isinstance(sheet.get("cells", []), list):
                raise NotebookError("not a notebook: a worksheet is not an object with a list of cells")
            raw_cells.extend(sheet.get("cells", []))
    else:
        raise NotebookError('JSON, but not a notebook: it has no "cells"')
    if not isinstance(raw_cells, list):
        raise NotebookError(f'not a notebook: "cells" is {_json_kind(raw_cells)}, not a list')
    return [_cell(number, raw) for number, raw in enumerate(raw_cells, 1)]


def _cell(number: int, raw) -> Cell:
    if not isinstance(raw, dict):
        raise NotebookError(f"cell {number} is {_json_kind(raw)}, not an object")
    kind = raw.get("cell_type")
    if not isinstance(kind, str):
        raise NotebookError(f'cell {number} has no "cell_type"')
    key = "input" if kind == "code" and "source" not in raw and "input" in raw else "source"  # nbformat 3
    if key not in raw:
        raise NotebookError(f'cell {number} ({kind}) has no "source"')
    source = raw[key]
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        source = "".join(source)
    elif not isinstance(source, str):
        raise NotebookError(f'cell {number}: "source" is {_json_kind(source)}, not text or a list of text')
    count = raw.get("execution_count", raw.get("prompt_number"))
    if kind == "heading":  # nbformat 3's heading cells are markdown headings
        level = raw.get("level", 1)
        source = "#" * (level if isinstance(level, int) and 1 <= level <= 6 else 1) + " " + source
        kind = "markdown"
    elif kind != "code":
        kind = "markdown" if kind == "markdown" else "raw"
    lines = source.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return Cell(number, kind, count if isinstance(count, int) and not isinstance(count, bool) else None,
                [line[:-1] if line.endswith("\r") else line for line in lines])


def _json_kind(value) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true or false",
            int: "a number", float: "a number", type(None): "null"}.get(type(value), "something else")


# ---- joining ------------------------------------------------------------------------------

def separator(cell: Cell) -> str:
    run = f"In [{cell.execution_count}]" if cell.execution_count is not None else "In [ ]"
    return f"# ── cell {cell.number} · {run} ──"


def python_lines(lines: list[str]) -> list[tuple[str, int]]:
    """A code cell's lines as jedi can read them, each with the columns added before it (0 or 1).

    IPython's own syntax becomes a comment: `%magic`, `!shell`, `?name` and `name?`, and
    `x = !ls`, each only where a statement starts (not inside a bracket or a string: a line
    beginning `% (a, b)` there is Python's modulo). A cell magic comments its first line; when
    its body isn't Python (%%bash, %%writefile ...), the whole cell.
    """
    first = next((line.strip() for line in lines if line.strip()), "")
    if first.startswith("%%"):
        name = first[2:].split(maxsplit=1)[0] if len(first) > 2 else ""
        if name not in PYTHON_CELL_MAGICS:
            return [("#" + line, 1) for line in lines]
    out = []
    scanner = _Scanner()
    for line in lines:
        if scanner.clean and _MAGIC.match(line):
            out.append(("#" + line, 1))
            continue
        scanner.scan(line)
        out.append((line, 0))
    return out


def join_cells(cells: list[Cell]) -> JoinedNotebook:
    lines: list[str] = []
    origins: list[tuple[int, int, int]] = []
    starts: dict[int, int] = {}
    cell_folds: list[Fold] = []
    closed: set[int] = set()
    for cell in cells:
        if cell.kind != "code" and not cell.lines:
            continue  # an empty markdown cell: nothing to show
        if lines:
            lines.append("")
            origins.append((0, 0, 0))
        first = len(lines)
        starts[cell.number] = first
        if cell.kind == "code":
            lines.append(separator(cell))
            origins.append((cell.number, 0, 0))
            for number, (text, shift) in enumerate(python_lines(cell.lines), 1):
                lines.append(text)
                origins.append((cell.number, number, shift))
            if len(lines) - 1 > first:
                cell_folds.append(Fold(first, len(lines) - 1, "cell", str(cell.number), 0))
        else:
            for number, text in enumerate(cell.lines, 1):
                lines.append("# " + text if text else "#")
                origins.append((cell.number, number, 2 if text else 1))
            if len(cell.lines) >= 2:
                heading = next((t.strip().lstrip("#").strip() for t in cell.lines if t.strip()), "")
                cell_folds.append(Fold(first, len(lines) - 1, cell.kind, heading[:40] or str(cell.number), 0))
                closed.add(first)
    return JoinedNotebook(cells, lines, _nest(cell_folds, find_folds(lines)), closed, origins, starts)


def _nest(cell_folds: list[Fold], code_folds: list[Fold]) -> list[Fold]:
    """The class/def folds inside the cell folds: each kept within its cell (code that runs on
    past its cell's end, an unclosed string say, stops there) and one level deeper."""
    folds = list(cell_folds)
    ends = {fold.start: fold.end for fold in cell_folds}
    cell_of = sorted(ends)
    from bisect import bisect_right

    for fold in code_folds:
        i = bisect_right(cell_of, fold.start) - 1
        if i < 0 or fold.start == cell_of[i]:
            continue  # before any cell, or on a separator: can't happen for valid joins
        end = min(fold.end, ends[cell_of[i]])
        if end > fold.start:
            folds.append(Fold(fold.start, end, fold.kind, fold.name, fold.depth + 1))
    folds.sort(key=lambda fold: fold.start)
    return folds


# ---- back to the file, for $EDITOR --------------------------------------------------------

def file_place(text: str, line: int, column: int = 0) -> tuple[int, int]:
    """The notebook file's own (line, column), both from 1, of the joined view's (line from 1,
    column from 0): where an editor opening the .ipynb shows that cell's line. Line 1 when the
    file can't be followed (then the editor still opens the right file)."""
    try:
        joined = parse_notebook(text)
        place = joined.to_cell(line, column)
        if place.cell == 0:
            return 1, 1
        strings = _source_strings(text)[place.cell - 1]
    except (NotebookError, ValueError, IndexError, KeyError):
        return 1, 1
    if not strings:
        return 1, 1
    want = max(0, place.line - 1)  # the separator goes to the cell's first line
    seen = 0  # cell lines before the string chosen
    for index, (offset, value) in enumerate(strings):
        count = value.count("\n") + (0 if value.endswith("\n") else 1)
        if want < seen + count or index == len(strings) - 1:
            break
        seen += count
    file_line = text.count("\n", 0, offset) + 1
    file_column = offset - (text.rfind("\n", 0, offset) + 1) + 1  # the opening quote, from 1
    if not place.line:
        return file_line, file_column
    # The string's text before the place, as the file spells it (escaped: \n, \", \\).
    parts = value.split("\n")
    k = min(want - seen, len(parts) - 1)
    before = "".join(part + "\n" for part in parts[:k]) + parts[k][:place.column]
    return file_line, file_column + len(json.dumps(before, ensure_ascii=False)) - 1


def notebook_file_place(path: Path, line: int, column: int = 0) -> tuple[int, int]:
    """`file_place` of the notebook at `path` as it is on disk now; (1, 1) if it can't be read."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return 1, 1
    return file_place(text, line, column)


_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = JSONDecoder()


def _source_strings(text: str) -> list[list[tuple[int, str]]]:
    """For each cell, the (offset of the opening quote, value) of each string of its source.

    json gives no positions, so this walks the notebook's structure itself with json's own
    string scanner, and skips everything else (outputs) with its C decoder.
    """
    cells: list[list[tuple[int, str]]] = []

    def ws(i: int) -> int:
        return _WHITESPACE.match(text, i).end()

    def skip(i: int) -> int:
        return _DECODER.raw_decode(text, i)[1]

    def members(i: int, visit) -> int:  # text[i] == "{"; visit(key, i) -> end of the value
        if text[i] != "{":
            return skip(i)
        i = ws(i + 1)
        while text[i] != "}":
            key, i = scanstring(text, i + 1)
            i = ws(ws(i) + 1)  # past the colon
            i = ws(visit(key, i))
            if text[i] == ",":
                i = ws(i + 1)
        return i + 1

    def items(i: int, visit) -> int:  # text[i] == "["
        if text[i] != "[":
            return skip(i)
        i = ws(i + 1)
        while text[i] != "]":
            i = ws(visit(i))
            if text[i] == ",":
                i = ws(i + 1)
        return i + 1

    def source(i: int) -> int:
        strings = cells[-1]
        if text[i] == '"':
            value, end = scanstring(text, i + 1)
            strings.append((i, value))
            return end
        if text[i] == "[":
            def string(j: int) -> int:
                value, end = scanstring(text, j + 1)
                strings.append((j, value))
                return end
            return items(i, string)
        return skip(i)

    def cell(i: int) -> int:
        cells.append([])
        return members(i, lambda key, j: source(j) if key in ("source", "input") else skip(j))

    def cell_list(i: int) -> int:
        return items(i, cell)

    def sheet(i: int) -> int:
        return members(i, lambda key, j: cell_list(j) if key == "cells" else skip(j))

    def top(key: str, i: int) -> int:
        if key == "cells":
            return cell_list(i)
        if key == "worksheets":
            return items(i, sheet)
        return skip(i)

    members(ws(0), top)
    return cells
