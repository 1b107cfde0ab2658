"""The one error the data layer raises for bad input: a message that names the file, the place
(line or column) when there is one, and the fix. The CLI and the app show it as it is."""

from l4tui.textcut import clip

# A problem holds some quoted input (a cell, a header) cut to ~200 characters, and words around it.
PROBLEM_LIMIT = 400


class DataError(ValueError):
    def __init__(self, path, problem: str, fix: str = "", line: int | None = None):
        problem, fix = clip(problem, PROBLEM_LIMIT), clip(fix)
        place = f"{path}:{line}" if line is not None else f"{path}"
        message = f"{place}: {problem}"
        if fix:
            message += f" ({fix})"
        super().__init__(message)
        self.path, self.problem, self.fix, self.line = path, problem, fix, line


def unreadable(path, error: OSError) -> DataError:
    """A file that is there but can't be read (permissions, a dangling link, a folder in its place)."""
    return DataError(path, f"can't be read: {error.strerror or error}", "check that it is a file you may read")


def header_text(columns) -> str:
    """A header's columns for a message, cut short, with a hint when the file is not comma-separated:
    a header read as one column that holds ';', tabs or '|' was written with that delimiter."""
    columns = [str(c) for c in columns]
    text = f"the header has {clip(', '.join(columns)) or 'nothing'}"
    if len(columns) == 1:
        for delimiter, name in ((";", "';'"), ("\t", "tabs"), ("|", "'|'")):
            if delimiter in columns[0]:
                return f"{text}; the file looks separated by {name}, and l4tui reads commas"
    return text


def sniff_text_file(path, what: str) -> None:
    """Refuse, with a clear message, what is not a readable non-empty text file."""
    from pathlib import Path

    path = Path(path)
    if not path.exists():
        if path.is_symlink():
            raise DataError(path, "is a link to nothing", f"expected {what}")
        raise DataError(path, "no such file", f"check the path; expected {what}")
    if path.is_dir():
        raise DataError(path, "is a folder", f"expected {what}")
    try:
        with open(path, "rb") as f:
            head = f.read(8192)
    except OSError as error:
        raise unreadable(path, error) from None
    if not head.strip():
        raise DataError(path, "is empty", f"expected {what}")
    if b"\0" in head:
        raise DataError(path, "is a binary file, not text", f"expected {what}")
