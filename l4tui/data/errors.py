"""The one error the data layer raises for bad input: a message that names the file, the place
(line or column) when there is one, and the fix. The CLI and the app show it as it is."""


class DataError(ValueError):
    def __init__(self, path, problem: str, fix: str = "", line: int | None = None):
        place = f"{path}:{line}" if line is not None else f"{path}"
        message = f"{place}: {problem}"
        if fix:
            message += f" ({fix})"
        super().__init__(message)
        self.path, self.problem, self.fix, self.line = path, problem, fix, line


def sniff_text_file(path, what: str) -> None:
    """Refuse, with a clear message, what is not a readable non-empty text file."""
    from pathlib import Path

    path = Path(path)
    if not path.exists():
        raise DataError(path, "no such file", f"check the path; expected {what}")
    if path.is_dir():
        raise DataError(path, "is a folder", f"expected {what}")
    with open(path, "rb") as f:
        head = f.read(8192)
    if not head.strip():
        raise DataError(path, "is empty", f"expected {what}")
    if b"\0" in head:
        raise DataError(path, "is a binary file, not text", f"expected {what}")
