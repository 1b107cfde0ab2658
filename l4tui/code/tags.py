"""ctags files, written so that vim and emacs read them, and read back for our own jumps.

The format is Exuberant/Universal Ctags' "format 2": `!_TAG_` header lines, then one line per
definition, `name<TAB>file<TAB>/^source line$/;"<TAB>kind<TAB>field:value...`, sorted by byte
value so that vim can binary-search it (`!_TAG_FILE_SORTED 1` promises that). Kinds use the
letters Universal Ctags uses for Python (`ctags --list-kinds=Python`): c class, f function,
m class member (a method), v variable (class attributes too, with their `class:` scope).
"""

import bisect
import errno
import os
import re
import secrets
import sys
from pathlib import Path
from typing import Iterable, Iterator, TextIO

from l4tui.code.index import Symbol, build_index
from l4tui.code.notebook import is_notebook
from l4tui.textcut import clip

PATTERN_LENGTH_LIMIT = 96  # as Universal Ctags: longer lines are cut and lose their `$`

KIND_LETTERS = {"class": "c", "function": "f", "method": "m", "variable": "v", "member": "v"}
# The letters and Universal Ctags' long names, back to our kinds ("v" is sorted out by scope).
_KINDS_READ = {
    "c": "class", "class": "class",
    "f": "function", "function": "function",
    "m": "method", "member": "method", "method": "method",
    "v": "variable", "variable": "variable",
}


def _headers() -> list[str]:
    from l4tui import __version__

    return [
        '!_TAG_FILE_ENCODING\tutf-8\t//',
        '!_TAG_FILE_FORMAT\t2\t/extended format; --format=1 will not append ;" to lines/',
        '!_TAG_FILE_SORTED\t1\t/0=unsorted, 1=sorted, 2=foldcase/',
        '!_TAG_KIND_DESCRIPTION!Python\tc,class\t/classes/',
        '!_TAG_KIND_DESCRIPTION!Python\tf,function\t/functions/',
        '!_TAG_KIND_DESCRIPTION!Python\tm,member\t/class members/',
        '!_TAG_KIND_DESCRIPTION!Python\tv,variable\t/variables/',
        '!_TAG_OUTPUT_FILESEP\tslash\t/slash or backslash/',
        f'!_TAG_PATTERN_LENGTH_LIMIT\t{PATTERN_LENGTH_LIMIT}\t/0 for no limit/',
        '!_TAG_PROGRAM_NAME\tl4tui\t//',
        f'!_TAG_PROGRAM_VERSION\t{__version__}\t//',
    ]


def tag_pattern(text: str) -> str:
    """The search command that finds `text` as a whole line: `/^...$/`, as ctags writes it.

    Only `\\` and `/` are escaped (vim searches tag patterns with 'nomagic'), and a `$` that
    ends the text, which would otherwise read as the end of the line.
    """
    whole = len(text) <= PATTERN_LENGTH_LIMIT
    if not whole:
        text = text[:PATTERN_LENGTH_LIMIT]
    body = text.replace("\\", "\\\\").replace("/", "\\/")
    if body.endswith("$"):
        body = body[:-1] + "\\$"
    return f"/^{body}{'$' if whole else ''}/"


def tag_line(symbol: Symbol, file_name: str) -> str:
    fields = [KIND_LETTERS.get(symbol.kind, "v"), f"line:{symbol.line}"]
    if symbol.scope:
        fields.append(f"{symbol.scope_kind or 'class'}:{symbol.scope}")
    if symbol.signature:
        fields.append("signature:" + re.sub(r"[\t\r\n]+", " ", symbol.signature))
    return f'{symbol.name}\t{file_name}\t{tag_pattern(symbol.text)};"\t' + "\t".join(fields)


def write_tags(symbols: Iterable[Symbol], out: Path | str | TextIO, base: Path | None = None) -> int:
    """Write a sorted tags file of `symbols`; returns how many tags it holds.

    File names are relative to `base` (the tags file's folder; the current folder when `out` is
    a stream) when the file is under it, absolute otherwise: vim and emacs read a relative name
    from the tags file's folder. A file written by path is replaced atomically, so an editor
    never reads half of one.
    """
    if base is None:
        base = Path(out).absolute().parent if isinstance(out, (str, os.PathLike)) else Path.cwd()
    base_text = os.path.realpath(base).rstrip(os.sep) + os.sep
    names: dict[Path, str | None] = {}
    lines = []
    for symbol in symbols:
        if symbol.path in names:
            file_name = names[symbol.path]
        else:
            real = os.path.realpath(symbol.path)
            file_name = real[len(base_text):] if real.startswith(base_text) else real
            if os.sep != "/":
                file_name = file_name.replace(os.sep, "/")
            if "\t" in file_name or "\n" in file_name:
                file_name = None  # no way to write such a name in a tags file
            elif is_notebook(symbol.path):
                file_name = None  # vim reads a notebook's JSON: the joined view's lines are not there
            names[symbol.path] = file_name
        if file_name is None or "\n" in symbol.text:
            continue
        lines.append(tag_line(symbol, file_name))
    # Python orders str by code point, which is UTF-8's byte order: what `LC_ALL=C sort` gives.
    lines.sort()
    text = "\n".join(_headers() + lines) + "\n"
    if isinstance(out, (str, os.PathLike)):
        _write_atomically(Path(out), text)
    else:
        out.write(text)
        out.flush()
    return len(lines)


def _write_atomically(path: Path, text: str) -> None:
    # A new name opened with "x" gets the usual permissions (umask), unlike mkstemp's 0600.
    temp = path.absolute().parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        with open(temp, "x", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------------------------
# Reading

_ESCAPED = re.compile(r"\\(.)")
# A search address up to its closing delimiter; inside it, a backslash escapes any character.
_SLASH_PATTERN = re.compile(r"/((?:[^\\/]|\\.)*)/")
_QUESTION_PATTERN = re.compile(r"\?((?:[^\\?]|\\.)*)\?")


class _Address:
    """Where a tag points: a line number, or the text of the line its pattern searches for."""

    def __init__(self, number: int | None, text: str | None, whole: bool):
        self.number = number
        self.text = text  # None for a number address
        self.whole = whole  # False when the pattern was cut short (no closing `$`)


def _parse_address(rest: str) -> tuple[_Address, str]:
    """Split `/^pattern$/;"<TAB>fields` (or `42;"<TAB>fields`) into the address and the fields."""
    if rest[:1] in ("/", "?"):
        found = (_SLASH_PATTERN if rest[0] == "/" else _QUESTION_PATTERN).match(rest)
        if found is None:
            raise ValueError("unterminated pattern")
        body, rest = found.group(1), rest[found.end():]
        whole = body.endswith("$") and not body.endswith("\\$")
        if body.startswith("^"):
            body = body[1:]
        if whole:
            body = body[:-1]
        address = _Address(None, _ESCAPED.sub(r"\1", body), whole)
    else:
        digits = re.match(r"\d+", rest)
        if digits is None:
            raise ValueError("no address")
        address, rest = _Address(int(digits.group()), None, True), rest[digits.end():]
    if rest.startswith(';"'):
        rest = rest[2:]
    return address, rest.lstrip("\t")


class TagsFile:
    """A tags file read into memory, looked up by binary search when it says it is sorted."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.folder = self.path.absolute().parent
        data = self.path.read_bytes().decode("utf-8", "replace")
        self._lines = [line.rstrip("\r") for line in data.split("\n") if line]
        self.sorted = "!_TAG_FILE_SORTED\t1\t" in data[:4096] or "!_TAG_FILE_SORTED\t1\n" in data[:4096]
        self._file_lines: dict[Path, list[str]] = {}
        self._paths: dict[str, Path] = {}

    def __iter__(self) -> Iterator[Symbol]:
        for line in self._lines:
            if not line.startswith("!_"):
                symbol = self._parse(line)
                if symbol is not None:
                    yield symbol

    def __len__(self) -> int:
        return sum(1 for line in self._lines if not line.startswith("!_"))

    def find(self, name: str) -> list[Symbol]:
        """The tags called exactly `name`, in file order."""
        prefix = name + "\t"
        if self.sorted:
            start = bisect.bisect_left(self._lines, prefix)
            matches = []
            for line in self._lines[start:]:
                if not line.startswith(prefix):
                    break
                matches.append(line)
        else:
            matches = [line for line in self._lines if line.startswith(prefix)]
        found = [s for s in map(self._parse, matches) if s is not None]
        found.sort(key=lambda s: (str(s.path), s.line))  # sorted lines order files, then patterns
        return found

    def _parse(self, line: str) -> Symbol | None:
        """One tag line as a Symbol; None when it is malformed."""
        try:
            name, file_name, rest = line.split("\t", 2)
            address, field_text = _parse_address(rest)
        except ValueError:
            return None
        if not name or not file_name:
            return None
        path = self._paths.get(file_name)
        if path is None:
            path = Path(file_name)
            if not path.is_absolute():
                path = self.folder / path
            self._paths[file_name] = path
        kind, scope, scope_kind, signature = "", "", "", ""
        number = address.number
        for field in field_text.split("\t") if field_text else ():
            key, colon, value = field.partition(":")
            if not colon:
                kind = _KINDS_READ.get(key, key)
            elif key == "kind":
                kind = _KINDS_READ.get(value, value)
            elif key == "line" and value.isdigit():
                number = int(value)
            elif key in ("class", "function", "member", "scope"):
                if key == "scope":  # Universal Ctags' --fields=+Z: scope:class:Outer
                    key, _, value = value.partition(":")
                scope, scope_kind = value, "class" if key == "class" else "function"
            elif key == "signature":
                signature = value
        if kind == "variable" and scope_kind == "class":
            kind = "member"
        if number is None:
            number = self._line_of(path, address)
            if number is None:
                return None
        if address.text is not None and address.whole:
            source = address.text
        else:
            source = self._source_line(path, number) or (address.text or "")
        return Symbol(name, kind, path, number, _column_of(name, source),
                      scope, scope_kind, signature, source)

    def _read(self, path: Path) -> list[str]:
        lines = self._file_lines.get(path)
        if lines is None:
            try:
                lines = path.read_bytes().decode("utf-8", "replace").replace("\r\n", "\n").split("\n")
            except OSError:
                lines = []
            self._file_lines[path] = lines
        return lines

    def _line_of(self, path: Path, address: _Address) -> int | None:
        """The first line of the file that the pattern matches (1-based)."""
        text = address.text or ""
        for number, line in enumerate(self._read(path), 1):
            if line == text or (not address.whole and line.startswith(text)):
                return number
        return None

    def _source_line(self, path: Path, number: int) -> str:
        lines = self._read(path)
        return lines[number - 1] if 0 < number <= len(lines) else ""


def _column_of(name: str, text: str) -> int:
    """Where `name` stands as a whole word in `text` ("f" in "def f():" is at 4, not 2); 0 if nowhere."""
    i = text.find(name)
    while i >= 0:
        before = text[i - 1:i]
        after = text[i + len(name):i + len(name) + 1]
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            return i
        i = text.find(name, i + 1)
    return 0


def read_tags(path: Path | str) -> list[Symbol]:
    """Every tag in a tags file, malformed lines left out."""
    return list(TagsFile(path))


def find_tags_file(start: Path | str) -> Path | None:
    """The nearest `tags` (or `.tags`) file in `start` or a folder above it, as vim's `tags=./tags;` finds it."""
    folder = Path(start).absolute()
    if not folder.is_dir():
        folder = folder.parent
    for candidate in (folder, *folder.parents):
        for name in ("tags", ".tags"):
            path = candidate / name
            if path.is_file():
                return path
    return None


# ---------------------------------------------------------------------------------------------
# `l4tui tags`

def tags_main(paths: list[str], output: str | None) -> int:
    """`l4tui tags [-o FILE] [PATHS...]`: write a tags file for PATHS (default: ./models, or .).

    `-o -` writes to standard output. Prints a one-line summary to standard error.
    """
    cwd = Path.cwd()
    if paths:
        roots = []
        for text in paths:
            root = Path(text)
            try:
                os.stat(root)
            except FileNotFoundError:
                raise ValueError(f"{clip(text)}: no such file or folder") from None
            except OSError as error:
                why = "a symbolic link loop" if error.errno == errno.ELOOP else error.strerror
                raise ValueError(f"{clip(text)}: {why}") from None
            if root.is_file() and root.suffix not in (".py", ".pyi"):
                raise ValueError(f"{text}: not a Python file (.py or .pyi)")
            roots.append(root)
    else:
        roots = [cwd / "models"] if (cwd / "models").is_dir() else [cwd]
    target = output or "tags"
    if target != "-" and Path(target).is_dir():
        raise ValueError(f"{target}: is a folder; give the tags file's name, e.g. {Path(target) / 'tags'}")
    if target != "-" and not Path(target).absolute().parent.is_dir():
        raise ValueError(f"{target}: the folder {Path(target).absolute().parent} does not exist")

    skipped: list[tuple[str, str]] = []
    index = build_index(roots, skipped=skipped)
    skipped = [(path, why) for path, why in skipped if not is_notebook(Path(path))]  # none is written (write_tags)
    for path, why in skipped:
        print(clip(f"l4tui: skipped {path}: {why}", 400), file=sys.stderr)
    if target == "-":
        count = write_tags(index, sys.stdout, base=cwd)
        where = "standard output"
    else:
        count = write_tags(index, Path(target))
        where = target
    left = {Path(path) for path, _ in skipped}
    files = sum(1 for path in index.files() if path not in left and not is_notebook(path))
    left_out = f" ({len(skipped)} skipped, listed above)" if skipped else ""
    print(f"wrote {count} tags from {files} file{'s' if files != 1 else ''} to {where}{left_out}", file=sys.stderr)
    return 1 if skipped and not files else 0
