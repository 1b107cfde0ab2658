"""Where things live: the bundled models and datasets, the user's workspace, the runs folder.

`models/` and `datasets/` sit at the top of a source checkout. An installed wheel carries them
inside the package as `l4tui/_bundled/models` and `l4tui/_bundled/datasets` (see pyproject.toml),
so they never become top-level packages that could shadow someone else's `datasets`.
"""

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def bundled_root() -> Path:
    """The folder holding the bundled `models/` and `datasets/`."""
    in_wheel = PACKAGE_DIR / "_bundled"
    if in_wheel.is_dir():
        return in_wheel
    return PACKAGE_DIR.parent  # a source checkout (or an editable install of one)


# What marks a project's root folder, as editors (VS Code, vim-rooter, pyright) look for it.
PROJECT_MARKERS = (".git", "pyproject.toml", "setup.cfg", "setup.py")


def project_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` with a project marker, or None.

    The climb stops below the home folder: a home kept in git (dotfiles) would otherwise make
    every loose script's project the whole home. The home itself counts only as the start.
    """
    here = Path(start)
    home = Path(os.path.expanduser("~"))
    try:
        home = home.resolve()
    except (OSError, RuntimeError):
        pass
    for folder in (here, *here.parents):
        if folder == home and folder != here:
            return None
        try:
            if any((folder / marker).exists() for marker in PROJECT_MARKERS):
                return folder
        except OSError:  # an unreadable folder on the way up: no project there
            continue
    return None


def workspace_root(start: Path | None = None) -> Path:
    """The workspace: the project of the file or folder opened (default: the current folder).

    The nearest folder up with `.git`, `pyproject.toml`, `setup.cfg` or `setup.py`; else the
    file's own folder (the folder itself, when a folder is opened). The bundled lesson models
    are not the workspace any more: they stay reachable beside it (the tree's "lesson" root,
    `:lesson`), and the Model pane reads `<workspace>/models/`, then the bundled ones.
    """
    opened = Path(os.path.abspath(start if start is not None else os.getcwd()))
    try:
        opened = opened.resolve()
        folder = opened if opened.is_dir() else opened.parent
    except (OSError, RuntimeError):  # a link loop: its folder, as typed
        folder = opened.parent
    return project_root(folder) or folder


def models_dir(workspace: Path | None = None) -> Path:
    return (workspace or workspace_root()) / "models"


def datasets_dir() -> Path:
    return bundled_root() / "datasets"


def default_ratings_dir() -> Path:
    """The bundled ratings sample, in MovieLens 100k's layout."""
    return datasets_dir() / "ml-sample"


def user_state_dir(environ=os.environ) -> Path:
    """`$XDG_STATE_HOME/l4tui` (`~/.local/state/l4tui` when the variable is unset, empty or
    relative): what l4tui remembers between sessions, such as where the tour stopped."""
    base = environ.get("XDG_STATE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "l4tui"


def runs_dir() -> Path:
    """`./runs` by default (the PyTorch/TensorBoard convention); L4TUI_RUNS overrides it."""
    # Made absolute, not resolved: a link loop in it is the runs folder's problem to report
    # (runs.runs_dir_problem), not a traceback here.
    return Path(os.path.abspath(os.environ.get("L4TUI_RUNS") or Path(os.getcwd()) / "runs"))
