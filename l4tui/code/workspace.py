"""The user's workspace as the code pane lists it: its files for the file finder, and short paths.

A workspace can be a big project; the finder lists its files without the folders no one opens
(caches, environments, runs, hidden ones) and stops at a cap, so a home folder opened by
mistake costs a moment, not minutes.
"""

import os
import sys
from pathlib import Path

SKIP_DIRS = frozenset({"__pycache__", "node_modules", ".git", ".venv", "venv", "runs", ".mypy_cache",
                       ".pytest_cache"})
SKIP_SUFFIXES = (".pyc", ".pt")  # bytecode and checkpoints: nothing a person reads in the viewer
MAX_WORKSPACE_FILES = 20_000


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


def workspace_files(workspace: Path, most: int = MAX_WORKSPACE_FILES) -> list[Path]:
    """Every file of the workspace a user might open, without caches, runs and hidden folders,
    sorted folder by folder; at most `most` of them."""
    found = []
    for root, dirs, files in os.walk(workspace):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and not name.endswith(SKIP_SUFFIXES):
                found.append(Path(root) / name)
                if len(found) >= most:
                    return found
    return found
