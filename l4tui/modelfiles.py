"""Find and load the model files in a workspace's `models/` folder.

Discovery only reads the source (`ast`), so browsing a folder never runs its code. A model file
is imported (by path, under a private module name) only when the user builds or trains a model.
"""

import ast
import importlib.util
import sys
import types
from pathlib import Path

from l4tui.paths import models_dir


def model_files(workspace: Path | None = None) -> list[Path]:
    folder = models_dir(workspace)
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith("_")) if folder.is_dir() else []


def model_classes(path: Path) -> list[str]:
    """Names of the classes a model file defines, read from its source without running it."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return []
    return [node.name for node in tree.body if isinstance(node, ast.ClassDef)]


class ModelFileError(ValueError):
    """A model file failed to import; the message names the file and the error."""


PACKAGE = "l4tui_models"  # model files are imported as its submodules, so `from .tabular import` works


def load_model_file(name: str, workspace: Path | None = None):
    """Import `models/<name>.py` by path, fresh (a file edited since is read again), and return it."""
    folder = models_dir(workspace)
    path = folder / f"{name}.py"
    if not path.is_file():
        raise FileNotFoundError(f"No model file {path}")
    for loaded in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[loaded]
    package = types.ModuleType(PACKAGE, "The workspace's models/ folder, imported by path.")
    package.__path__ = [str(folder)]
    sys.modules[PACKAGE] = package
    module_name = f"{PACKAGE}.{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the user's file: whatever it raises is reported, not a crash
        del sys.modules[module_name]
        raise ModelFileError(f"{path}: {type(error).__name__}: {error}") from error
    return module
