"""A definition index of Python sources: classes, functions, methods and top-level names.

The code pane wants to jump to a definition anywhere in the model sources and in what they
import, torch included, and `l4tui tags` writes the same index as a ctags file. `ast` would be
exact but parses torch's 2,300 files in 7 s; a line scanner with an indentation stack reads
them in about a second (0.8 s in two worker processes) and, on torch, finds exactly the classes,
functions, methods and simple assignments that `ast` finds. Its known blind spots (a bracket
continuation line indented less than its function, a triple quote inside a short string in a
bracketed expression) cost a missed or misplaced name, never an error.

Results are cached per file on disk, keyed on the file's path, mtime and size, so opening the
app again reads the cache and rescans only what changed.
"""

import hashlib
import keyword
import marshal
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from l4tui.code.fuzzy import fuzzy_rank
from l4tui.code.source import os_error_reason

KINDS = ("class", "function", "method", "variable", "member")
# What a match in the user's own files is worth over one in the environment's: about what a
# match at the very start of a name earns, so "util" finds the project's util.py and core_util
# before torch/utils/* and torch's utils(); an environment's name still wins where the project's
# barely matches (a few scattered letters against a whole word).
OWN_BONUS = 15.0
# What a private or test definition loses against the environment's public ones: a path with a
# part that starts with `_` (torch/testing/_internal, torch/_dynamo) or is a test folder, or a
# name that starts with `_`. They still come up when nothing public matches as well.
PRIVATE_PENALTY = 15.0
TEST_FOLDERS = {"testing", "tests", "test"}
ENVIRONMENT_FOLDERS = ("site-packages", "dist-packages")


def is_private_path(path: Path | str) -> bool:
    """A module its package keeps to itself or for its tests: torch/testing/_internal/..., torch/_dynamo/...
    Only the parts under site-packages count (the environment's own folder may be `_venv`)."""
    parts = Path(path).parts
    for folder in ENVIRONMENT_FOLDERS:
        if folder in parts:
            parts = parts[len(parts) - parts[::-1].index(folder):]
            break
    return any((part.startswith("_") and not part.startswith("__")) or part in TEST_FOLDERS for part in parts)


def is_test_path(path: Path | str) -> bool:
    """A test module: under a tests folder, or named test_*.py / *_test.py (pytest's names)."""
    path = Path(path)
    return any(part in TEST_FOLDERS for part in path.parts[:-1]) or path.name.startswith("test_") \
        or path.stem.endswith("_test")


def is_private_name(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@dataclass(frozen=True, slots=True)
class Symbol:
    """One definition. `line` counts from 1, `column` from 0 (where the name starts)."""

    name: str
    kind: str  # one of KINDS; "member" is a class-level assignment
    path: Path
    line: int
    column: int
    scope: str  # the enclosing classes and functions, dotted: "Outer.Inner", or "" at module level
    scope_kind: str  # "class", "function" or ""
    signature: str  # "(self, x: int = 1)" for a def, on one line; "" otherwise
    text: str  # the source line, for ctags patterns and previews

    @property
    def qualified(self) -> str:
        return f"{self.scope}.{self.name}" if self.scope else self.name


# ---------------------------------------------------------------------------------------------
# The scanner

# Both match the line with its indentation stripped.
_DEF = re.compile(r"(?:async[ \t]+)?(def|class)[ \t]+([^\W\d]\w*)")
# `NAME =`, `NAME: T = ...` and a bare `NAME: T`; not `==`, `+=`, `a.b =`, `a[0] =` or `a, b =`.
_ASSIGN = re.compile(r"([^\W\d]\w*)[ \t]*(?:=(?!=)|:(?!=)[ \t]*[^=#\s][^=#]*?[ \t]*(?:=(?!=)|#|$))")
_NOT_NAMES = frozenset(keyword.kwlist)
_DEF_STARTS = ("def", "class", "async")
# Short strings and comments, dropped before counting brackets so that "(" or "# 1)" don't count.
_STRINGS_AND_COMMENTS = re.compile(r"""#.*|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'""")
# What can hide a triple quote on a line: a comment, or a short string such as '"""'.
_QUOTES_AND_COMMENTS = re.compile(
    "|".join(["#", '"{3}', "'{3}", r'"(?:[^"\\\n]|\\.)*"', r"'(?:[^'\\\n]|\\.)*'"])
)
_COMMENT = re.compile(r"(?:^|(?<=\s))#.*")
_SPACES = re.compile(r"\s+")
# A parameter list with brackets nested up to three deep: `(x, y=(1, 2), z: dict[str, (int)])`.
_PARAMS = re.compile(r"\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)")
_MAX_HEADER_LINES = 300  # a def's header spread over more lines than this is given up on

# A scanned definition as the cache stores it: (name, kind, line, column, scope, scope_kind,
# signature, text). Plain tuples of str and int, so marshal can write them.
Row = tuple[str, str, int, int, str, str, str, str]


def scan_source(source: str | bytes, path: Path) -> list[Symbol]:
    """The definitions in one file's source, in the order they appear."""
    path = Path(path)
    return [Symbol(r[0], r[1], path, r[2], r[3], r[4], r[5], r[6], r[7]) for r in scan_rows(source)]


def _decode(source: str | bytes) -> str:
    if isinstance(source, bytes):
        # Non-UTF-8 files (a latin-1 comment, a stray byte) still have ASCII names worth finding.
        source = source.decode("utf-8-sig", "replace")
    elif source.startswith("\ufeff"):
        source = source[1:]
    if "\r" in source:
        source = source.replace("\r\n", "\n").replace("\r", "\n")
    return source


def _brackets(code: str) -> int:
    """How many brackets the line opens (negative: closes), strings and comments left out."""
    opened = code.count("(") + code.count("[") + code.count("{")
    closed = code.count(")") + code.count("]") + code.count("}")
    if opened != closed and ("#" in code or '"' in code or "'" in code):
        # Balanced lines are taken as they are: a string that holds an unbalanced bracket is
        # rare, and stripping strings from every line would cost a fifth of the scan.
        code = _STRINGS_AND_COMMENTS.sub("", code)
        opened = code.count("(") + code.count("[") + code.count("{")
        closed = code.count(")") + code.count("]") + code.count("}")
    return opened - closed


def _triple_quotes(line: str, quote: str | None) -> tuple[str | None, str]:
    """Follow triple-quoted strings across `line`.

    `quote` is the string's delimiter when the line starts inside one. Returns the delimiter
    still open at the end of the line (or None) and the line's code outside those strings.
    Only lines holding a triple quote come here, so this may be careful: a triple quote inside
    a short string ('\"\"\"') or a comment opens nothing.
    """
    code = []
    pos = 0
    while True:
        if quote is not None:
            end = line.find(quote, pos)
            if end < 0:
                return quote, "".join(code)
            pos = end + 3
            quote = None
        for token in _QUOTES_AND_COMMENTS.finditer(line, pos):
            text = token.group()
            if text == "#":
                code.append(line[pos:token.start()])
                return None, "".join(code)
            if len(text) == 3 and text[0] == text[1] == text[2]:
                code.append(line[pos:token.start()])
                quote = text
                pos = token.end()
                break
        else:
            code.append(line[pos:])
            return None, "".join(code)


def _signature(header: str) -> str:
    """The parameter list of a def header (the text after its name), on one line."""
    start = header.find("(")
    if start < 0:
        return ""
    match = _PARAMS.match(header, start)
    if match is not None:
        params = match.group()
    else:  # brackets nested deeper than the regex follows (a lambda default): count them
        depth = 0
        for end in range(start, len(header)):
            depth += {"(": 1, ")": -1}.get(header[end], 0)
            if depth == 0:
                break
        else:
            return ""
        params = header[start:end + 1]
    if "\n" in params or "  " in params or "\t" in params:
        params = _SPACES.sub(" ", params).replace("( ", "(").replace(" )", ")")
    return params


def scan_rows(source: str | bytes) -> list[Row]:
    """The scanner behind scan_source: rows without the path, as the cache stores them."""
    text = _decode(source)
    lines = text.split("\n")
    has_tabs = "\t" in text
    rows: list[Row] = []
    # The enclosing definitions: (indent, kind, qualified name), innermost last.
    stack: list[tuple[int, str, str]] = []
    quote = None  # the delimiter of the triple-quoted string we are inside, if any
    depth = 0  # open brackets of a module- or class-level statement that continues
    backslash = False  # the previous line ended with a backslash: this one continues it
    n = len(lines)
    i = 0
    while i < n:
        line = lines[i]
        i += 1
        if quote is not None:
            if quote not in line:
                continue
            quote, code = _triple_quotes(line, quote)
            if depth > 0:
                depth = max(0, depth + _brackets(code))
            continue
        stripped = line.lstrip()
        if not stripped or stripped[0] == "#":
            continue
        if '"""' in line or "'''" in line:
            quote, code = _triple_quotes(line, None)
        else:
            code = line
        match = _DEF.match(stripped) if stripped.startswith(_DEF_STARTS) else None
        if (depth > 0 or backslash) and match is None:
            # The rest of a statement that started on an earlier line (a def or class line
            # always starts a statement: seeing one mends a bracket count gone wrong).
            depth = max(0, depth + _brackets(code))
            backslash = code.endswith("\\")
            continue
        depth, backslash = 0, False

        indent = len(line) - len(stripped)
        if has_tabs and indent and "\t" in line[:indent]:
            indent = len(line[:indent].expandtabs(8))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        outer_kind = stack[-1][1] if stack else ""

        if match is not None:
            line_no = i
            keyword_, name = match.groups()
            header = stripped[match.end():]
            # A header over several lines: read on until its brackets close. (Most headers end
            # with their colon, and counting their brackets is then not needed.)
            open_brackets = 0 if header.endswith(":") else _brackets(header)
            if open_brackets > 0:
                parts = [_COMMENT.sub("", header)]
                last = min(n, i + _MAX_HEADER_LINES)
                while open_brackets > 0 and i < last:
                    parts.append(_COMMENT.sub("", lines[i]))
                    open_brackets += _brackets(lines[i])
                    i += 1
                header = "\n".join(parts)
            if keyword_ == "class":
                kind, signature = "class", ""
            else:
                kind = "method" if outer_kind == "class" else "function"
                signature = _signature(header)
            scope = stack[-1][2] if stack else ""
            rows.append((
                name, kind, line_no, len(line) - len(stripped) + match.start(2), scope, outer_kind,
                signature, line,
            ))
            stack.append((indent, "class" if kind == "class" else "function",
                          f"{scope}.{name}" if scope else name))
            continue

        if outer_kind != "function":
            # Module and class level: assignments are definitions, and brackets must be
            # followed so that a call's `name=value` arguments aren't taken for assignments.
            match = _ASSIGN.match(stripped)
            if match is not None and match.group(1) not in _NOT_NAMES:
                scope = stack[-1][2] if stack else ""
                rows.append((
                    match.group(1), "member" if stack else "variable", i,
                    len(line) - len(stripped), scope, "class" if stack else "", "", line,
                ))
            depth = max(0, _brackets(code))
        # Inside functions only a backslash is followed: a continuation line that starts left
        # of its function (a long message split with "\\") would otherwise end the function.
        backslash = code.endswith("\\")
    return rows


# ---------------------------------------------------------------------------------------------
# Finding the files

SKIP_DIRS = frozenset({"__pycache__", "node_modules", ".venv", "venv", "site-packages", ".git"})
SOURCE_SUFFIXES = (".py", ".pyi", ".ipynb")  # a notebook is indexed as its cell-joined view (notebook.py)


def iter_source_files(root: Path) -> Iterator[Path]:
    """The .py, .pyi and .ipynb files under `root` (or `root` itself when it is a file), sorted.

    Hidden folders, caches and installed environments under the root are skipped, but the root
    itself is always walked: indexing site-packages/torch must work.
    """
    for path_text in _walk(os.fspath(root)):
        yield Path(path_text)


Skipped = list  # of (path, why), filled by the walk and the scan when a caller wants to say so


def _walk(root: str, skipped: Skipped | None = None) -> Iterator[str]:
    if os.path.isfile(root):
        yield root
    else:
        yield from _walk_folder(root, skipped)


def _walk_folder(folder: str, skipped: Skipped | None = None) -> Iterator[str]:
    try:
        with os.scandir(folder) as entries:
            entries = sorted(entries, key=lambda e: e.name)
    except OSError as error:  # unreadable or gone: nothing to index there
        if skipped is not None:
            skipped.append((folder, f"can't read the folder: {os_error_reason(error)}"))
        return
    for entry in entries:
        name = entry.name
        try:
            if entry.is_dir(follow_symlinks=False):  # never a linked folder: no loops
                if not name.startswith(".") and name not in SKIP_DIRS:
                    yield from _walk_folder(entry.path, skipped)
            elif name.endswith(SOURCE_SUFFIXES):
                if entry.is_file():
                    yield entry.path
                elif skipped is not None:
                    os.stat(entry.path)  # says why: a loop, a broken link ...
                    skipped.append((entry.path, "not a regular file"))
            elif skipped is not None and entry.is_symlink() and not name.startswith(".") and entry.is_dir():
                skipped.append((entry.path, "a link to a folder: links are not followed"))
        except OSError as error:
            if skipped is not None:
                skipped.append((entry.path, "a broken link" if isinstance(error, FileNotFoundError)
                                else os_error_reason(error)))
            continue


# ---------------------------------------------------------------------------------------------
# The index

class SymbolIndex:
    """The definitions of a set of files, found by exact name or fuzzily.

    Rows are kept as the scanner made them and turned into Symbols only when asked for, so a
    warm start with 70,000 definitions costs a cache read, not 70,000 objects.
    """

    def __init__(self, files: dict[Path, list[Row]] | None = None):
        self._files: list[Path] = []
        self._rows: list[list[Row]] = []
        self._by_name: dict[str, list[tuple[int, int]]] = {}
        self._by_path: dict[Path, int] = {}
        self._own_files: set[int] = set()  # see prefer()
        self._own_names: set[str] = set()
        self._file_rank: list[int] = []  # each file's: 1 the user's or the lesson's, 0 public, -1 private
        self._name_bonus: dict[str, float] = {}  # a name's, where it is not 0
        for path, rows in (files or {}).items():
            self.add(path, rows)

    def add(self, path: Path, rows: list[Row]) -> None:
        """Add one file's definitions (a file already in the index is an error)."""
        if path in self._by_path:
            raise ValueError(f"{path} is already in the index")
        file_no = len(self._files)
        self._files.append(path)
        self._rows.append(rows)
        self._by_path[path] = file_no
        by_name = self._by_name
        for row_no, row in enumerate(rows):
            entry = by_name.get(row[0])
            if entry is None:
                by_name[row[0]] = [(file_no, row_no)]
            else:
                entry.append((file_no, row_no))

    def _symbol(self, file_no: int, row_no: int) -> Symbol:
        r = self._rows[file_no][row_no]
        return Symbol(r[0], r[1], self._files[file_no], r[2], r[3], r[4], r[5], r[6], r[7])

    def __len__(self) -> int:
        return sum(len(rows) for rows in self._rows)

    def __iter__(self) -> Iterator[Symbol]:
        for file_no, rows in enumerate(self._rows):
            for row_no in range(len(rows)):
                yield self._symbol(file_no, row_no)

    def files(self) -> list[Path]:
        return list(self._files)

    def names(self) -> list[str]:
        return list(self._by_name)

    def find(self, name: str) -> list[Symbol]:
        """Every definition called exactly `name`, in file order."""
        return [self._symbol(f, r) for f, r in self._by_name.get(name, ())]

    def symbols_in(self, path: Path) -> list[Symbol]:
        file_no = self._by_path.get(Path(path))
        if file_no is None:
            return []
        return [self._symbol(file_no, r) for r in range(len(self._rows[file_no]))]

    def prefer(self, *roots: Path | str | None) -> None:
        """Rank search() results: the definitions of files under `roots` (the user's project, the
        lesson's models) first, then the environment's public ones and the project's tests, then
        the environment's private and test ones (is_private_path, is_private_name)."""
        prefixes = tuple(os.path.join(os.fspath(root), "") for root in roots if root is not None)
        self._own_files = set()
        self._own_names = set()
        self._file_rank = []
        for file_no, path in enumerate(self._files):
            text = os.fspath(path)
            own = next((prefix for prefix in prefixes if text.startswith(prefix)), None)
            if own is not None and any(folder in Path(text[len(own):]).parts for folder in ENVIRONMENT_FOLDERS):
                own = None  # torch in the project's own .venv is the environment's
            if own is not None and not is_test_path(text[len(own):]):
                self._own_files.add(file_no)
                self._own_names.update(row[0] for row in self._rows[file_no])
                self._file_rank.append(1)
            elif own is not None:
                self._file_rank.append(0)  # the project's own tests: after its code, with torch's public names
            else:
                self._file_rank.append(-1 if is_private_path(path) else 0)
        bonus = {}
        ranks = self._file_rank
        for name, places in self._by_name.items():
            if name in self._own_names:
                bonus[name] = OWN_BONUS
            elif is_private_name(name) or all(ranks[f] < 0 for f, _ in places):
                bonus[name] = -PRIVATE_PENALTY
        self._name_bonus = bonus

    def _rank_of(self, file_no: int, name: str) -> int:
        if not self._file_rank:
            return 0
        rank = self._file_rank[file_no]
        return -1 if rank == 0 and is_private_name(name) else rank

    def search(self, query: str, limit: int = 50) -> list[Symbol]:
        """Definitions whose name fuzzily matches `query`, best first: the preferred files'
        (prefer()) before the environment's public ones, its private and test ones last unless
        they match much better. One name's definitions: the same order, then the shallower path
        first (torch/nn/modules/sparse.py's Embedding before torch/ao/nn/qat/...'s).

        A query with a dot ("Bias.fwd") is matched against qualified names ("EmbeddingDotBias.forward").
        """
        if not query:
            return []
        rank_of = self._rank_of
        if "." in query:
            qualified = [(f"{r[4]}.{r[0]}" if r[4] else r[0], f, n)
                         for f, rows in enumerate(self._rows) for n, r in enumerate(rows)]
            step = {1: OWN_BONUS, 0: 0.0, -1: -PRIVATE_PENALTY}
            best = fuzzy_rank(query, qualified, key=lambda item: item[0], limit=limit,
                              bonus=(lambda item: step[rank_of(item[1], self._rows[item[1]][item[2]][0])])
                              if self._file_rank else None)
            return [self._symbol(f, n) for _, f, n in best]
        found: list[Symbol] = []
        name_bonus = self._name_bonus
        names = fuzzy_rank(query, self._by_name, limit=limit,
                           bonus=(lambda name: name_bonus.get(name, 0.0)) if name_bonus else None)
        files = self._files
        for name in names:
            # A name defined both in the project and in torch: the project's definitions first.
            places = self._by_name[name]
            if self._file_rank:
                places = sorted(places, key=lambda fr: (-rank_of(fr[0], name), len(files[fr[0]].parts)))
            for f, r in places:
                found.append(self._symbol(f, r))
                if len(found) >= limit:
                    return found
        return found

    def stats(self) -> dict[str, int]:
        """How many definitions of each kind, and files."""
        counts = dict.fromkeys(KINDS, 0)
        for rows in self._rows:
            for row in rows:
                counts[row[1]] += 1
        counts["files"] = len(self._files)
        return counts


# ---------------------------------------------------------------------------------------------
# Building it, with a cache

CACHE_VERSION = 1  # bump when the scanner's output changes, so that old caches are rescanned
Progress = Callable[[int, int], None]


def default_cache_dir() -> Path:
    """$L4TUI_CACHE/index, else $XDG_CACHE_HOME/l4tui/index, else ~/.cache/l4tui/index."""
    if os.environ.get("L4TUI_CACHE"):
        return Path(os.environ["L4TUI_CACHE"]) / "index"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "l4tui" / "index"


def _cache_file(cache_dir: Path, root: str) -> Path:
    digest = hashlib.sha1(root.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return cache_dir / f"{Path(root).name or 'root'}-{digest}.marshal"


def _read_cache(path: Path) -> dict:
    """The cached files of one root: {path: (mtime_ns, size, rows)}; {} when missing or bad."""
    try:
        with open(path, "rb") as f:
            version, entries = marshal.loads(f.read())  # load(f) reads in small pieces: 8x slower
        if version != CACHE_VERSION or not isinstance(entries, dict):
            return {}
        return entries
    except Exception:  # a cache is an optimisation: a missing, truncated or foreign one is no cache
        return {}


def _write_cache(path: Path, entries: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                marshal.dump((CACHE_VERSION, entries), f)
            os.replace(temp, path)
        except BaseException:
            os.unlink(temp)
            raise
    except OSError:
        pass  # a read-only home or a full disk only costs the next start a rescan


# torch's biggest source is 1.4 MB (common_methods_invocations.py). A 20 MB .py is generated
# data, not code to jump into: scanning it took ~1.4 GB and many seconds of a core.
MAX_INDEX_BYTES = 8 * 1024 * 1024


def _scan_file(path: str) -> list[Row] | str:
    """The file's rows, or why it can't be indexed (a str: unreadable, binary, too big)."""
    try:
        size = os.stat(path).st_size
        if size > MAX_INDEX_BYTES:
            return f"{size / 1e6:.0f} MB, more than the {MAX_INDEX_BYTES // 2**20} MB the index reads"
        with open(path, "rb") as f:
            data = f.read()
    except OSError as error:
        return f"can't read it: {os_error_reason(error)}"
    if b"\0" in data[:8192]:
        return "a binary file (it has NUL bytes), not Python source"
    if path.endswith(".ipynb"):
        try:
            return scan_rows(_notebook_source(data))
        except ValueError as error:  # NotebookError: not JSON, no cells ...
            return str(error)
    return scan_rows(data)


def _notebook_source(data: bytes) -> str:
    """A notebook's cell-joined Python view: its definitions get the lines the Code pane shows."""
    from l4tui.code.notebook import parse_notebook

    return parse_notebook(_decode(data)).source


POOL_MIN_FILES = 400  # below this, starting workers (~50 ms) costs more than it saves
_WORKER = (
    "import marshal, sys; sys.path.insert(0, sys.argv[1]); "
    "from l4tui.code.index import _scan_file; "
    "paths = marshal.loads(sys.stdin.buffer.read()); "
    "sys.stdout.buffer.write(marshal.dumps([_scan_file(p) for p in paths]))"
)


def _scan_all(paths: list[str], processes: int | None, progress: Callable[[int], None]) -> list[list[Row]]:
    """Scan `paths`, in worker processes when there are many: on 2 cores torch's 2,300 files
    take about 0.8 s in two workers against 1.1 s here (bench/index_torch.py)."""
    if processes is None:
        processes = min(os.cpu_count() or 1, 8)
    if processes > 1 and len(paths) >= POOL_MIN_FILES and sys.executable:
        try:
            return _scan_in_workers(paths, processes, progress)
        except (OSError, ValueError, EOFError, TypeError, RuntimeError):
            pass  # no processes here, or a worker died: scan in this one
    results = []
    for n, path in enumerate(paths, 1):
        results.append(_scan_file(path))
        if n % 200 == 0:
            progress(200)
    progress(len(paths) % 200)
    return results


def _scan_in_workers(paths: list[str], processes: int, progress: Callable[[int], None]) -> list[list[Row]]:
    """Scan in `processes` fresh Python processes, paths in and rows out as marshal data.

    Plain subprocesses rather than multiprocessing: the caller may be a thread of the running
    app (so no fork), and spawn would re-import the caller's __main__, which breaks any script
    without a `__main__` guard. `-I -S` keeps the workers' start-up short and their import
    path clean; only l4tui's folder is added.
    """
    import subprocess

    package_parent = str(Path(__file__).resolve().parents[2])
    batches = [paths[i::processes] for i in range(processes)]  # interleaved: big files spread
    workers = [
        subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _WORKER, package_parent],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        for _ in batches
    ]
    results: list[list[Row]] = [[] for _ in paths]
    try:
        # Write every worker's input first, so that they all work while we wait on the first.
        for worker, batch in zip(workers, batches):
            worker.stdin.write(marshal.dumps(batch))
            worker.stdin.close()
        for i, (worker, batch) in enumerate(zip(workers, batches)):
            rows = marshal.loads(worker.stdout.read())
            if worker.wait() != 0 or len(rows) != len(batch):
                raise RuntimeError("an index worker failed")
            results[i::processes] = rows
            progress(len(batch))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
            worker.wait()
            worker.stdout.close()
    return results


def build_index(
    roots: Iterable[Path],
    cache_dir: Path | None | bool = None,
    processes: int | None = None,
    progress: Progress | None = None,
    skipped: Skipped | None = None,
    listings: dict[Path, list[Path]] | None = None,
) -> SymbolIndex:
    """Scan every source file under `roots` into a SymbolIndex.

    `cache_dir`: where the per-root caches live; None for default_cache_dir(), False for no
    cache. `processes`: how many worker processes may scan files not in the cache (None: one
    per CPU; 1: scan in this process). Workers are fresh `python -I -S` processes, started only
    for a few hundred files or more; nothing is forked, so this is safe to call from a thread
    of the app.
    `progress(done, total)` is called now and then with counts of files, from this thread.
    `skipped`: a list that gets (path, why) for each file or folder left out (unreadable, a
    link loop, binary), for a caller that reports them; nothing is said otherwise.
    `listings`: for a root, the files to index instead of walking it (a project listed with its
    .gitignore); such a root does not swallow the roots inside it (torch in its .venv).
    """
    listed = {os.path.realpath(os.fspath(root)): [os.fspath(p) for p in files]
              for root, files in (listings or {}).items()}
    if cache_dir is None:
        cache_dir = default_cache_dir()
    # Resolve every root, drop repeats and roots inside other roots.
    resolved: list[str] = []
    for root in roots:
        text = os.path.realpath(os.fspath(root))
        if text not in resolved:
            resolved.append(text)
    resolved = [r for r in resolved
                if not any(r != other and other not in listed and r.startswith(other.rstrip(os.sep) + os.sep)
                           for other in resolved)]

    # Each root's files with their stamps and, where the cache is fresh, their rows.
    plans = []
    to_scan: list[str] = []
    seen: set[str] = set()
    for root in resolved:
        cache_path = _cache_file(Path(cache_dir), root) if cache_dir is not False else None
        cached = _read_cache(cache_path) if cache_path is not None else {}
        entries = {}
        for path in (listed[root] if root in listed else _walk(root, skipped)):
            if path in seen:  # a file under two roots (a package inside a listed project)
                continue
            seen.add(path)
            try:
                st = os.stat(path)
                stamp = (st.st_mtime_ns, st.st_size)
            except OSError:
                stamp = (0, 0)
            entry = cached.get(path)
            if (isinstance(entry, tuple) and len(entry) == 3 and isinstance(entry[2], list)
                    and entry[0] == stamp[0] and entry[1] == stamp[1] and stamp[1] <= MAX_INDEX_BYTES):
                entries[path] = entry
            else:
                entries[path] = (stamp[0], stamp[1], None)
                to_scan.append(path)
        changed = len(cached) != len(entries) or any(e[2] is None for e in entries.values())
        plans.append((cache_path, entries, changed))

    total = sum(len(entries) for _, entries, _ in plans)
    done = total - len(to_scan)

    def advance(files: int) -> None:
        nonlocal done
        done += files
        if progress is not None and files:
            progress(done, total)

    scanned = dict(zip(to_scan, _scan_all(to_scan, processes, advance)))
    index = SymbolIndex()
    for cache_path, entries, changed in plans:
        for path, (mtime, size, rows) in entries.items():
            if rows is None:
                rows = scanned[path]
                if isinstance(rows, str):  # not indexed: said so, and tried again next time
                    if skipped is not None:
                        skipped.append((path, rows))
                    rows, mtime, size = [], 0, 0
                entries[path] = (mtime, size, rows)
            index.add(Path(path), rows)
        if cache_path is not None and changed:
            _write_cache(cache_path, entries)
    if progress is not None:
        progress(total, total)
    return index


# ---------------------------------------------------------------------------------------------
# What to index

_IMPORT = re.compile(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", re.MULTILINE)


def imported_packages(files: Iterable[Path]) -> list[str]:
    """The top-level names the files import (`import torch.nn` and `from torch import nn` give torch)."""
    names: list[str] = []
    for path in files:
        try:
            data = Path(path).read_bytes()
            text = _notebook_source(data) if str(path).endswith(".ipynb") else data.decode("utf-8", "replace")
        except (OSError, ValueError):
            continue
        for name in _IMPORT.findall(text):
            if name not in names:
                names.append(name)
    return names


def package_root(name: str) -> Path | None:
    """Where a top-level module's source lives, found without importing it; None for builtins,
    frozen and compiled modules, and names that don't resolve."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError, AttributeError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    origin = spec.origin
    if not origin or origin in ("built-in", "frozen") or not origin.endswith(".py"):
        return None
    return Path(origin)


MAX_IMPORT_SCAN = 500  # of a big project's files, how many are read to find the packages it imports


def project_roots(workspace: Path, sources: list[Path]) -> list[Path]:
    """What to index for a project listed as `sources`: the project, then the packages its
    files import. A workspace with a `models/` folder (the lesson's layout, l4tui's own
    checkout) finds them from models/ alone, as before; any other from its first
    MAX_IMPORT_SCAN files, so a 50,000-file project costs a bounded read."""
    workspace = Path(workspace)
    models = workspace / "models"
    if models.is_dir():
        readers = [p for p in sources if models in p.parents][:MAX_IMPORT_SCAN]
    else:
        readers = sources[:MAX_IMPORT_SCAN]
    # The project's own modules are indexed with it; a package inside the project folder that
    # the listing left out (torch in the project's .venv) is the environment's, and indexed.
    listed = {os.fspath(p) for p in sources} | {os.fspath(f) for p in sources for f in p.parents}
    return [workspace, *_package_roots(imported_packages(readers),
                                       lambda resolved: os.fspath(resolved) in listed)]


def _package_roots(names: list[str], is_own: Callable[[Path], bool]) -> list[Path]:
    roots: list[Path] = []
    for name in names:
        if name == "__future__":
            continue
        root = package_root(name)
        if root is None or not root.exists():
            continue
        if is_own(root.resolve()):
            continue  # the workspace's own modules, already indexed
        if root not in roots:
            roots.append(root)
    return roots


def default_roots(workspace: Path) -> list[Path]:
    """The workspace's models/ folder (or the workspace), plus the packages its files import."""
    workspace = Path(workspace)
    first = workspace / "models" if (workspace / "models").is_dir() else workspace
    inside = first.resolve()
    return [first, *_package_roots(imported_packages(iter_source_files(first)),
                                   lambda resolved: resolved == inside or inside in resolved.parents)]
