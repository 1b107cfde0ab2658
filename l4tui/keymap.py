"""The user's keymap: `[keymap]` in `$XDG_CONFIG_HOME/l4tui/config.toml`, binding id -> keys.

    [keymap]
    "app.quit" = "ctrl+x"          # Textual's key names; several keys with commas: "ctrl+x,f10"
    "code.find_file" = "ctrl+f"

The file is the user's and can be wrong in every way: missing (the usual case: no keymap),
unreadable, not TOML, an id that names no key, a value that is not a key string. Each problem is
one line for the app to show; the entry (or the file) is ignored and the app starts anyway.

Plain Python: what counts as a key name and which ids exist are the UI's knowledge (Textual's),
so the caller passes them in.
"""

import os
import stat
import sys
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

MAX_CONFIG_BYTES = 1_000_000  # a config file is a few lines; anything bigger is a mistake


@dataclass
class Keymap:
    keys: dict[str, str] = field(default_factory=dict)  # binding id -> Textual key string
    problems: list[str] = field(default_factory=list)  # one line each, for the user


def config_path(environ=os.environ) -> Path:
    """`$XDG_CONFIG_HOME/l4tui/config.toml`; `~/.config` when the variable is unset, empty or
    relative (the XDG spec says to ignore a relative one)."""
    base = environ.get("XDG_CONFIG_HOME", "")
    if not base or not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "l4tui" / "config.toml"


def read_keymap(path: Path, is_key: Callable[[str], bool]) -> Keymap:
    """The keymap in `path`, and what is wrong with it. No file is no keymap and no problem."""
    table, problem = _keymap_table(path)
    if problem:
        return Keymap(problems=[f"{path}: {problem}; keys stay as they are"])
    return check_entries(table, is_key)


def check_entries(table: dict, is_key: Callable[[str], bool]) -> Keymap:
    """Keep the entries whose value is a string of valid keys; a problem line for each other."""
    keymap = Keymap()
    for binding_id, value in table.items():
        if isinstance(value, str):
            keys = [key.strip() for key in value.split(",")]
        if not isinstance(value, str) or not any(keys):
            keymap.problems.append(f'keymap: {binding_id} = {value!r} is not a key string '
                                   f'(write it in quotes, e.g. "ctrl+x"); ignored')
            continue
        bad = [key for key in keys if not is_key(key)]
        if bad:
            keymap.problems.append(f"keymap: {binding_id}: {', '.join(map(repr, bad))} "
                                   f"is not a key name; ignored")
            continue
        keymap.keys[binding_id] = ",".join(keys)
    return keymap


def drop_unknown_ids(keymap: Keymap, known_ids: Collection[str]) -> Keymap:
    """The keymap without the entries whose id names no binding, with a problem for each."""
    kept = Keymap(problems=list(keymap.problems))
    for binding_id, keys in keymap.keys.items():
        if binding_id in known_ids:
            kept.keys[binding_id] = keys
        else:
            kept.problems.append(f"keymap: no key has the id {binding_id!r} "
                                 f"(the ? screen shows each key's id); ignored")
    return kept


def _keymap_table(path: Path) -> tuple[dict, str]:
    """The `[keymap]` table of the file, else ({}, what went wrong)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # a folder, or a FIFO that would block the read
            return {}, "is not a file"
        with path.open("rb") as file:
            data = file.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:  # the usual case: the user has no keymap
        return {}, ""
    except OSError as error:
        return {}, f"can't be read ({error.strerror or error})"
    if len(data) > MAX_CONFIG_BYTES:
        return {}, f"is larger than {MAX_CONFIG_BYTES:,} bytes"
    # Imported only when there is a file: most users have none, and start-up pays for every import.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10 has no TOML reader in the standard library
        import tomli as tomllib
    try:
        config = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return {}, "is not UTF-8 text"
    except tomllib.TOMLDecodeError as error:
        return {}, f"is not valid TOML ({error})"
    table = config.get("keymap", {})
    if not isinstance(table, dict):
        return {}, "keymap is not a table (write it as [keymap])"
    return table, ""
