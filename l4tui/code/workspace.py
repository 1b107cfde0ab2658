"""The user's workspace as the code pane lists it: its files for the tree and the finders, and short paths.

A workspace is a project (paths.workspace_root): the user's own files, without what git ignores
(.gitignore, .git/info/exclude), virtualenvs (a folder with `pyvenv.cfg`), `runs/`, caches,
`node_modules` and hidden folders. A project can be big, or a home folder opened by mistake:
the listing stops at a cap, reports progress, never follows a linked folder (no loops), and
says which folders it could not read instead of failing.
"""

import os
import sys
from pathlib import Path
from typing import Callable

from l4tui.code.gitignore import Rule, decide, read_rules
from l4tui.code.source import os_error_reason

SKIP_DIRS = frozenset({"__pycache__", "node_modules", ".git", ".venv", "venv", "runs", ".mypy_cache",
                       ".pytest_cache", "site-packages", ".tox", ".nox", ".ipynb_checkpoints"})
SKIP_SUFFIXES = (".pyc", ".pt")  # bytecode and checkpoints: nothing a person reads in the viewer
# An environment made in the project folder itself (`python -m venv .`): its own parts, not the user's.
VENV_PARTS = frozenset({"bin", "lib", "lib64", "include", "Lib", "Scripts", "Include", "share"})
MAX_WORKSPACE_FILES = 100_000  # 50,000 is a big project; past the cap the finder says it stopped


def is_virtualenv(folder: Path | str) -> bool:
    return os.path.isfile(os.path.join(folder, "pyvenv.cfg"))


class ProjectFilter:
    """What of a project the user sees: one answer per path, .gitignore files read once each.

    Used by the listing (a thread) and by the tree (one folder at a time); both ask about a
    folder's entries only after asking about the folder, as a walk does.
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root_is_venv = is_virtualenv(self.root)
        self._rules: dict[str, list[Rule]] = {}  # folder (relative, "" for the root) -> its rules

    def _rules_of(self, relative_folder: str) -> list[Rule]:
        rules = self._rules.get(relative_folder)
        if rules is None:
            folder = self.root / relative_folder
            rules = read_rules(folder / ".gitignore")
            if not relative_folder:
                rules = read_rules(self.root / ".git" / "info" / "exclude") + rules
            self._rules[relative_folder] = rules
        return rules

    def ignored(self, relative: str, is_folder: bool) -> bool:
        """Whether git ignores `relative` (a '/'-separated path under the root): the deepest
        .gitignore with a matching rule decides."""
        parts = relative.split("/")
        for depth in range(len(parts) - 1, -1, -1):
            folder = "/".join(parts[:depth])
            said = decide(self._rules_of(folder), "/".join(parts[depth:]), is_folder)
            if said is not None:
                return said
        return False

    def keep(self, path: Path | str, is_folder: bool, relative: str | None = None) -> bool:
        """Whether the user sees `path`; `relative` ('/'-separated, under the root) saves the
        listing a relpath per file."""
        name = os.path.basename(path)
        if name.startswith("."):
            return False
        if relative is None:
            relative = os.path.relpath(path, self.root).replace(os.sep, "/")
        if is_folder:
            if name in SKIP_DIRS or name.endswith(".egg-info") or is_virtualenv(path):
                return False
            if self.root_is_venv and "/" not in relative and name in VENV_PARTS:
                return False
        elif name.endswith(SKIP_SUFFIXES):
            return False
        return not self.ignored(relative, is_folder)


def list_workspace(workspace: Path, most: int = MAX_WORKSPACE_FILES,
                   progress: Callable[[int], None] | None = None,
                   skipped: list | None = None, into: list | None = None) -> list[Path]:
    """Every file of the project a user might open (ProjectFilter), folder by folder in name
    order, at most `most`. `progress(count)` is called every thousand files; `skipped` gets
    (path, why) for each folder or file that could not be read; `into` is the list to fill
    (another thread may read it meanwhile: the finder searches what is listed so far)."""
    keep = ProjectFilter(workspace).keep
    found: list[Path] = [] if into is None else into
    top = os.fspath(workspace)
    stack = [top]
    while stack:
        folder = stack.pop()
        # The entries' paths relative to the project, as .gitignore patterns are written.
        prefix = "" if folder == top else folder[len(top) + 1:].replace(os.sep, "/") + "/"
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as error:
            if skipped is not None:
                skipped.append((folder, f"can't read the folder: {os_error_reason(error)}"))
            continue
        subfolders = []
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):  # a linked folder is never followed: no loops
                    if keep(entry.path, True, prefix + entry.name):
                        subfolders.append(entry.path)
                elif entry.is_file() and keep(entry.path, False, prefix + entry.name):  # a link to a file: the file
                    found.append(Path(entry.path))
                    if len(found) >= most:
                        return found
                    if progress is not None and len(found) % 1000 == 0:
                        progress(len(found))
            except OSError as error:  # a link loop, a file gone meanwhile
                if skipped is not None:
                    skipped.append((entry.path, os_error_reason(error)))
        stack.extend(reversed(subfolders))
    return found


def display_path(path: Path, workspace: Path, import_roots: list[str] | None = None) -> str:
    """A short path: relative to the workspace, else to the import root (sys.path entry) it lives
    under, the longest first so that site-packages/torch/nn.py shows as torch/nn.py."""
    path = Path(path)
    entries = sys.path if import_roots is None else import_roots
    roots = sorted({Path(workspace), *(Path(p) for p in entries if p)}, key=lambda p: -len(str(p)))
    for root in roots:
        try:
            return str(path.relative_to(root))
        except ValueError:
            continue
    return str(path)


def short_names(files: list[Path], root: Path) -> list[str]:
    """The files' paths relative to `root`, by cutting the prefix off: display_path tries every
    import root per file, 5 s for a 50,000-file project, where this takes milliseconds."""
    prefix = os.path.join(os.fspath(root), "")
    return [text[len(prefix):] if text.startswith(prefix) else text for text in map(os.fspath, files)]


def workspace_files(workspace: Path, most: int = MAX_WORKSPACE_FILES) -> list[Path]:
    """The listing without progress or reasons: for callers that only want the files."""
    return list_workspace(workspace, most)


def lesson_file(lesson_dir: Path, name: str = "") -> Path | None:
    """`:lesson NAME`'s file: the bundled model NAME (`collab`, `tabular.py`), by default
    collab.py; None when the lesson has no such model."""
    name = (name.strip() or "collab").removesuffix(".py")
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    path = Path(lesson_dir) / f"{name}.py"
    return path if path.is_file() else None
