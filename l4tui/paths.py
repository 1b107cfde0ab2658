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


def workspace_root(start: Path | None = None) -> Path:
    """The workspace: the current folder when it has a `models/` folder, else the bundled one."""
    here = Path(start or os.getcwd()).resolve()
    if (here / "models").is_dir():
        return here
    return bundled_root()


def models_dir(workspace: Path | None = None) -> Path:
    return (workspace or workspace_root()) / "models"


def datasets_dir() -> Path:
    return bundled_root() / "datasets"


def default_ratings_dir() -> Path:
    """The bundled ratings sample, in MovieLens 100k's layout."""
    return datasets_dir() / "ml-sample"


def runs_dir() -> Path:
    """`./runs` by default (the PyTorch/TensorBoard convention); L4TUI_RUNS overrides it."""
    # Made absolute, not resolved: a link loop in it is the runs folder's problem to report
    # (runs.runs_dir_problem), not a traceback here.
    return Path(os.path.abspath(os.environ.get("L4TUI_RUNS") or Path(os.getcwd()) / "runs"))
