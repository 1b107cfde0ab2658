"""jedi's parse cache, kept where l4tui can trust it.

jedi has parso pickle the parse tree of every module it reads (torch's 30k-line stub is a
3 MB pickle) and reload it next time. parso writes the pickle in place, and loads it without
checking: a process that ends mid-write (quitting l4tui while it warms jedi, a kill, a full
disk) leaves a torn file, and every later look-up that reaches that module fails with
`EOFError: Ran out of input` until someone deletes it.

So l4tui gives jedi a cache folder of its own (beside its symbol index, not the `~/.cache/jedi`
that the user's editor shares), writes each pickle to a temporary file and renames it into
place (a rename is atomic: a reader sees the old file or the new one, never half of one), and
loads defensively: a pickle that can't be read is moved aside as `NAME.torn` and the module is
parsed again, which writes a good pickle. A torn file written by anyone is thus found, set
aside and rebuilt on the first look-up that needs it.
"""

import gc
import os
import pickle
import tempfile
import threading
import time
from pathlib import Path

from l4tui.code.index import default_cache_dir

STALE_TEMP_S = 600  # a temporary pickle older than this belongs to a process that died mid-write

_installed: Path | None = None
_lock = threading.Lock()
set_aside: list[Path] = []  # the torn files found since start-up, for a message


def cache_dir() -> Path:
    """$L4TUI_CACHE/jedi, else $XDG_CACHE_HOME/l4tui/jedi, else ~/.cache/l4tui/jedi."""
    return default_cache_dir().parent / "jedi"


def install() -> Path:
    """Point jedi at l4tui's cache folder and make parso's pickles atomic and checked.

    Idempotent; call it where jedi is first imported. Returns the folder. When parso's private
    functions are not what we expect (a newer parso), only the folder changes.
    """
    global _installed
    folder = cache_dir()  # looked up each time: tests (and a changed $XDG_CACHE_HOME) move it
    with _lock:
        if _installed == folder:
            return folder
        import jedi
        import parso.cache as parso_cache

        jedi.settings.cache_directory = str(folder)
        if callable(getattr(parso_cache, "_save_to_file_system", None)) and \
                callable(getattr(parso_cache, "_load_from_file_system", None)) and \
                callable(getattr(parso_cache, "_get_hashed_path", None)):
            parso_cache._save_to_file_system = _save_atomically
            parso_cache._load_from_file_system = _load_or_set_aside
        remove_stale_temporaries(folder)
        _installed = folder
        return folder


def _save_atomically(hashed_grammar, path, item, cache_path=None) -> None:
    """parso's `_save_to_file_system`, through a temporary file and a rename."""
    import parso.cache as parso_cache

    target = parso_cache._get_hashed_path(hashed_grammar, path, cache_path=cache_path)
    folder, name = os.path.split(target)
    try:
        fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    except OSError:
        return  # a read-only or full disk: the tree stays in memory, which is all a cache owes
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(item, f, pickle.HIGHEST_PROTOCOL)
        os.replace(temp, target)
    except BaseException as error:
        try:
            os.unlink(temp)
        except OSError:
            pass
        if not isinstance(error, Exception):
            raise  # KeyboardInterrupt, SystemExit: the temporary file is gone, the old pickle intact


def _load_or_set_aside(hashed_grammar, path, p_time, cache_path=None):
    """parso's `_load_from_file_system`; a pickle that can't be loaded is moved aside, and None
    (no cache) makes parso parse the module again and write a fresh one."""
    import parso.cache as parso_cache

    pickled = parso_cache._get_hashed_path(hashed_grammar, path, cache_path=cache_path)
    try:
        if p_time > os.path.getmtime(pickled):
            return None  # older than the module: parso parses it again
        with open(pickled, "rb") as f:
            gc.disable()  # as parso does: a tree is millions of objects, and collecting mid-load is slow
            try:
                item = pickle.load(f)
            finally:
                gc.enable()
    except FileNotFoundError:
        return None
    except Exception:  # truncated (EOFError, UnpicklingError), foreign, unreadable
        _set_aside(Path(pickled))
        return None
    if not isinstance(item, parso_cache._NodeCacheItem):
        _set_aside(Path(pickled))
        return None
    parso_cache._set_cache_item(hashed_grammar, path, item)
    return item.node


def _set_aside(pickled: Path) -> None:
    try:
        os.replace(pickled, pickled.with_name(pickled.name + ".torn"))
        set_aside.append(pickled)
    except OSError:
        try:
            pickled.unlink()
        except OSError:
            pass


def remove_stale_temporaries(folder: Path, older_than_s: float = STALE_TEMP_S) -> int:
    """Delete the temporary pickles of processes that ended mid-write. Returns how many."""
    removed = 0
    now = time.time()
    for temp in Path(folder).glob("*/.*.tmp"):
        try:
            if now - temp.stat().st_mtime > older_than_s:
                temp.unlink()
                removed += 1
        except OSError:
            continue
    return removed
