"""Reading a file of a run folder, which is untrusted input: anything may sit under a file's name.

Only regular files are read. A FIFO named run.json would make a plain read wait for a writer
forever, and /dev/zero linked in would never end; a folder or an unreadable file is an error
the caller reports as a reason, never a traceback.
"""

import os
import stat
from pathlib import Path


def read_regular(path: Path, offset: int = 0, limit: int | None = None) -> bytes:
    """The bytes of `path` from `offset` (at most `limit` of them). Raises FileNotFoundError when
    it is missing, and OSError with a short reason when it is not a regular file or cannot be read."""
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{Path(path).name} is not a regular file")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as f:
            f.seek(offset)
            return f.read() if limit is None else f.read(limit)
    finally:
        os.close(fd)


def tail_lines(path: Path, n: int, max_bytes: int = 16_384) -> list[str]:
    """The last `n` lines of a run's log, read from its end (logs can be long); none when it is
    missing, unreadable or no regular file. The first line may be cut when the tail is."""
    if n <= 0:
        return []
    try:
        size = os.stat(path).st_size
        data = read_regular(path, max(0, size - max_bytes), max_bytes)
    except OSError:
        return []
    return data.decode("utf-8", errors="replace").splitlines()[-n:]


def reason(error: OSError) -> str:
    """An OSError as a few words: "Permission denied", "is a folder" ..."""
    if isinstance(error, IsADirectoryError):
        return "it is a folder"
    return error.strerror or str(error)
