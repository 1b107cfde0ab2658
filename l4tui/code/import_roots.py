"""Where a file's imports are looked for before the environment's sys.path: as Python would.

`python main.py` puts main.py's folder first on sys.path; a project is usually run from its root
(`python -m pkg.main`, pytest, an editable install), which puts the root there; a `src/` layout
puts `src/`. A module inside a package is imported, not run: its own folder is *not* a root
(otherwise its `types.py` would shadow the standard library's for every `import types`), the
folder above the outermost package is. A file outside the workspace (torch's, the standard
library's) gets only that: it lives on the environment's path already, and nothing of the user's
project may shadow names inside it.

Plain paths, no jedi: the navigator turns these into a jedi Project per distinct list.
"""

from pathlib import Path


def package_top(folder: Path) -> Path | None:
    """The folder holding the outermost package that `folder` is part of (None: not a package)."""
    if not (folder / "__init__.py").is_file():
        return None
    while (folder.parent / "__init__.py").is_file() and folder.parent != folder:
        folder = folder.parent
    return folder.parent


def import_roots(path: Path | None, workspace: Path) -> list[Path]:
    """The folders searched before the environment, first first, for imports in `path`.

    `path` None (a snippet of code with no file) gets the workspace's roots only.
    """
    workspace = Path(workspace)
    roots: list[Path] = []
    if path is not None:
        folder = Path(path).parent
        top = package_top(folder)
        inside = folder == workspace or workspace in folder.parents
        if top is not None:
            roots.append(top)
        else:
            roots.append(folder)
        if not inside:
            return roots
    # The project root, unless it is itself a package (then the folder above it, as for a file).
    roots.append(package_top(workspace) or workspace)
    if (workspace / "src").is_dir():
        roots.append(workspace / "src")
    unique: list[Path] = []
    for root in roots:
        if root not in unique:
            unique.append(root)
    return unique
