"""Find and load the model files in a workspace's `models/` folder.

Discovery only reads the source (`ast`), so browsing a folder never runs its code. A model file
is imported (by path, under a private module name) only when the user builds or trains a model.
"""

import ast
import importlib.util
import sys
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


def load_model_file(name: str, workspace: Path | None = None):
    """Import `models/<name>.py` by path and return the module."""
    path = models_dir(workspace) / f"{name}.py"
    if not path.is_file():
        raise FileNotFoundError(f"No model file {path}")
    module_name = f"l4tui_models.{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module
