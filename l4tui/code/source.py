"""Reading source files for the viewer, and splitting pygments tokens into lines."""

import errno
import stat
from pathlib import Path

from l4tui.code.notebook import NotebookError, is_notebook, parse_notebook

MAX_BYTES = 20 * 1024 * 1024


def os_error_reason(error: OSError) -> str:
    """Why a file or folder could not be read, in a few words (for a listing's skipped items)."""
    if error.errno == errno.ELOOP:
        return "a symbolic link loop"
    if isinstance(error, PermissionError):
        return "permission denied"
    return error.strerror or type(error).__name__


class SourceError(ValueError):
    """The file can't be shown as text."""


def read_source(path: Path) -> str:
    """The file's text; for a notebook (.ipynb), its cell-joined Python view (notebook.py), so
    everything that reads source (the viewer, jedi, `l4tui goto`, previews) counts the same lines."""
    if is_notebook(path):
        return read_notebook(path).source
    return read_text(path)


def read_notebook(path: Path):
    """The joined view (notebook.JoinedNotebook) of a .ipynb file; SourceError when it is no
    notebook, with the reason in one line."""
    text = read_text(path)
    try:
        return parse_notebook(text)
    except NotebookError as error:
        raise SourceError(f"{Path(path).name}: {error}") from None


def read_text(path: Path) -> str:
    """A file's text, or SourceError saying why it can't be shown."""
    path = Path(path)
    try:
        status = path.stat()
        if stat.S_ISDIR(status.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(status.st_mode):  # /dev/zero never ends, a pipe waits for a writer
            raise SourceError(f"{path} is not a regular file (a device, a pipe or a socket)")
        if status.st_size > MAX_BYTES:
            raise SourceError(f"{path.name} is {status.st_size / 1e6:.0f} MB, too big to show")
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)  # a file still growing stops at the limit too
        if len(data) > MAX_BYTES:
            raise SourceError(f"{path.name} is over {MAX_BYTES / 1e6:.0f} MB, too big to show")
    except FileNotFoundError:
        raise SourceError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise SourceError(f"{path} is a folder") from None
    except PermissionError:
        raise SourceError(f"can't read {path}: permission denied (see ls -l {path})") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise SourceError(f"{path} is a symbolic link loop: it leads back to itself; fix or remove it") from None
        raise SourceError(f"can't read {path}: {error.strerror}") from None
    if b"\0" in data[:8192]:
        raise SourceError(f"{path.name} is a binary file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SourceError(f"{path.name} is not UTF-8 (byte {error.start})") from None


def preview_lines(path: Path, cache: dict) -> list[str] | None:
    """A file's lines for a finder's preview (tabs as 4 spaces), read once per finder; None when
    read_source refuses it (missing, binary, a pipe, too big, not UTF-8)."""
    if path not in cache:
        try:
            cache[path] = read_source(path).expandtabs(4).splitlines()
        except SourceError:
            cache[path] = None
    return cache[path]


def token_lines(source: str, filename: str) -> list[list[tuple[object, str]]]:
    """The file's lines, each a list of (pygments token type, text); tabs expanded to 4 spaces."""
    from pygments.lexers import get_lexer_for_filename
    from pygments.lexers.special import TextLexer
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_for_filename(filename, stripnl=False, ensurenl=False)
    except ClassNotFound:
        lexer = TextLexer(stripnl=False, ensurenl=False)
    lines: list[list[tuple[object, str]]] = [[]]
    for token_type, text in lexer.get_tokens(source.expandtabs(4)):
        parts = text.split("\n")
        for i, part in enumerate(parts):
            if i:
                lines.append([])
            if part:
                lines[-1].append((token_type, part))
    if source.endswith("\n") and not lines[-1]:
        lines.pop()
    return lines
