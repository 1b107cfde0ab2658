"""Find and load the model files: the workspace's `models/` folder, then l4tui's bundled one.

Looking never runs code. Discovery only reads the source (`ast`), and only files up to
MAX_MODEL_FILE_BYTES. A model file is imported (by path, under a private module name) only when
the user builds or trains a model, and a file that is not l4tui's own is first tried in a
short-lived child process (model_trial.py), so a file that exits, loops or eats the memory at
import costs that child, not the app.

Which file a name means: the workspace's `models/<name>.py` when there is one (a user's
`models/collab.py` is theirs to use on purpose), else the bundled lesson file. Relative imports
inside a model file (`from .tabular import ...`) follow the same order.
"""

import ast
import importlib.util
import sys
import types
from pathlib import Path

from l4tui.paths import bundled_root, models_dir

# A model file a person wrote is a few hundred lines; the bundled AWD-LSTM is 15 kB. A bigger
# file is listed with the reason it is skipped, never parsed: ast on 20 MB takes ~30 s and GBs.
MAX_MODEL_FILE_BYTES = 1_000_000


class ModelFileError(ValueError):
    """A model file could not be read or imported; the message names the file and the error."""


def bundled_models_dir() -> Path:
    return bundled_root() / "models"


def model_files(workspace: Path | None = None) -> list[Path]:
    """The workspace's own model files (names starting with _ are helpers, not models)."""
    folder = models_dir(workspace)
    try:
        return sorted(p for p in folder.glob("*.py") if not p.name.startswith("_") and p.is_file())
    except OSError:  # unreadable folder: nothing to list
        return []


def model_file_path(name: str, workspace: Path | None = None) -> Path:
    """`models/<name>.py` of the workspace when it has one, else the bundled lesson file."""
    for folder in search_folders(workspace):
        path = folder / f"{name}.py"
        if path.is_file():
            return path
    raise FileNotFoundError(f"No model file {name}.py in {' or '.join(str(f) for f in search_folders(workspace))}")


def search_folders(workspace: Path | None = None) -> list[Path]:
    folders = [models_dir(workspace).resolve(), bundled_models_dir().resolve()]
    return list(dict.fromkeys(folders))  # a workspace that is the bundled root: one folder


def is_bundled(path: Path) -> bool:
    """A file of l4tui's own (trusted like l4tui itself), not one the user brought."""
    return Path(path).resolve().parent == bundled_models_dir().resolve()


def describe_file(path: Path) -> str:
    """How the screen names a model file: the user's own, or l4tui's bundled lesson file."""
    return f"l4tui's bundled models/{Path(path).name}" if is_bundled(path) else str(path)


def read_model_source(path: Path) -> str:
    """The text of a model file, refused with a reason when it is too big, binary or unreadable."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_MODEL_FILE_BYTES:
            raise ModelFileError(f"{path}: {size / 1e6:.1f} MB, more than the {MAX_MODEL_FILE_BYTES / 1e6:.0f} MB "
                                 "a model file may be; not read")
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ModelFileError(f"{path}: not UTF-8 text (byte {error.start}); not read") from None
    except OSError as error:
        raise ModelFileError(f"{path}: cannot be read ({error.strerror or error})") from None


def parse_model_file(path: Path) -> ast.Module:
    """The syntax tree of a model file, read without running it; ModelFileError says why not."""
    source = read_model_source(path)
    try:
        return ast.parse(source, filename=str(path))
    except (SyntaxError, ValueError) as error:  # ValueError: a NUL byte in the source
        line = f" (line {error.lineno})" if getattr(error, "lineno", None) else ""
        raise ModelFileError(f"{Path(path).name}{line}: {error.msg if isinstance(error, SyntaxError) else error}") \
            from None


def model_classes(path: Path) -> list[str]:
    """Names of the classes a model file defines, read from its source without running it."""
    try:
        tree = parse_model_file(path)
    except ModelFileError:
        return []
    return [node.name for node in tree.body if isinstance(node, ast.ClassDef)]


PACKAGE = "l4tui_models"  # model files are imported as its submodules, so `from .tabular import` works


def load_model_file(name: str, workspace: Path | None = None, class_name: str = ""):
    """Import the model file `name` (see model_file_path) fresh, and return the module.

    A file that is not l4tui's own is tried in a child process first (and `class_name`, when
    given, built there too). Whatever importing it raises, SystemExit included, comes back as a
    ModelFileError naming the file.
    """
    path = model_file_path(name, workspace)
    if not is_bundled(path):
        from l4tui.model_trial import try_model_file

        problem = try_model_file(name, search_folders(workspace), class_name)
        if problem:
            raise ModelFileError(f"{path}: {problem}")
    return import_model_file(name, search_folders(workspace))


def import_model_file(name: str, folders: list[Path]):
    """Import `<name>.py` from the first of `folders` that has it, as a submodule of PACKAGE."""
    path = next(folder / f"{name}.py" for folder in folders if (folder / f"{name}.py").is_file())
    for loaded in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[loaded]  # fresh: a file edited since is read again
    package = types.ModuleType(PACKAGE, "The model files, imported by path.")
    package.__path__ = [str(folder) for folder in folders]
    sys.modules[PACKAGE] = package
    module_name = f"{PACKAGE}.{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # the user's file: SystemExit too is reported, not an exit
        del sys.modules[module_name]
        from l4tui.textcut import clip

        raise ModelFileError(f"{path}: {type(error).__name__}: {clip(str(error))}") from error
    return module
