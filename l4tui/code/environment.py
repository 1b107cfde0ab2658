"""Which Python environment names are resolved in: the one the user's code runs in.

The order is the one the user's shell implies: a path picked by hand (`--python`, `:python`),
then the activated virtualenv (`$VIRTUAL_ENV`), then the activated conda environment
(`$CONDA_PREFIX`), then a `.venv/` in the project, then l4tui's own interpreter. A candidate
that is not a Python environment is skipped with a one-line reason, and the next one is used.

Plain paths and files here (no jedi, nothing started): the navigator hands the chosen path to
`jedi.create_environment` on its own thread; l4tui's own interpreter is used in-process.
"""

import functools
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

OWN = "l4tui's own"


@dataclass(frozen=True)
class EnvironmentChoice:
    path: Path | None  # the environment's folder or its python; None: l4tui's own interpreter
    source: str  # "--python", "$VIRTUAL_ENV", "$CONDA_PREFIX", ".venv", or OWN
    name: str  # what the status line calls it: ".venv", the folder's name, "l4tui's own"
    version: str = ""  # "3.11" when it can be read without starting Python
    problems: tuple[str, ...] = ()  # candidates skipped, one line each
    # Picked by the user (by hand, or activated in their shell), not found in the project: a
    # project's .venv/bin/python comes with a cloned repository and may be anything, so jedi
    # runs it only when it is a Python install jedi knows (jedi's own `safe` check).
    trusted: bool = True

    @property
    def is_own(self) -> bool:
        return self.path is None

    @property
    def label(self) -> str:
        return f"env: {self.name}" + (f" ({self.version})" if self.version else "")

    def describe(self, label: str | None = None) -> str:
        """What `:python` alone says: the label, where it came from, and its path."""
        if self.is_own:
            return f"{label or self.label}: {sys.executable}"
        return f"{label or self.label} (from {self.source}): {self.path}"


def python_of(path: Path) -> Path | None:
    """The interpreter of an environment folder (bin/python, Scripts/python.exe), or the path
    itself when it is an executable file; None when there is none."""
    if path.is_file():
        return path if os.access(path, os.X_OK) else None
    for candidate in (path / "bin" / "python", path / "Scripts" / "python.exe", path / "python.exe"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def prefix_of(path: Path) -> Path:
    """The environment folder of a path that is one, or of its interpreter (ENV/bin/python)."""
    if path.is_file() and path.parent.name in ("bin", "Scripts"):
        return path.parent.parent
    return path.parent if path.is_file() else path


def is_own(path: Path) -> bool:
    """Whether `path` is l4tui's own environment or interpreter (not resolved through links:
    a venv's python is a link to the base interpreter that other venvs share)."""
    if Path(os.path.abspath(path)) == Path(sys.executable):
        return True
    return os.path.realpath(prefix_of(path)) == os.path.realpath(sys.prefix)


def in_own_packages(path: Path | str) -> bool:
    """Whether `path` is a file of l4tui's own installed packages (its torch, its jedi): not the
    user's code, and not in their environment when they picked another."""
    return os.path.realpath(path).startswith(_own_package_folders())


@functools.cache
def _own_package_folders() -> tuple[str, ...]:
    import sysconfig

    return tuple({os.path.realpath(sysconfig.get_paths()[key]).rstrip(os.sep) + os.sep
                  for key in ("purelib", "platlib")})


def version_of(prefix: Path) -> str:
    """"3.11" from the environment's pyvenv.cfg or its lib/python3.11 folder; "" if neither."""
    try:
        text = (prefix / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace")
        match = re.search(r"^\s*version(?:_info)?\s*=\s*(\d+)\.(\d+)", text, re.MULTILINE)
        if match:
            return f"{match.group(1)}.{match.group(2)}"
    except OSError:
        pass
    try:
        for child in sorted((prefix / "lib").iterdir()):
            match = re.fullmatch(r"python(\d+)\.(\d+)t?", child.name)
            if match:
                return f"{match.group(1)}.{match.group(2)}"
    except OSError:
        pass
    return ""


def own_choice(problems: tuple[str, ...] = ()) -> EnvironmentChoice:
    return EnvironmentChoice(None, OWN, OWN, f"{sys.version_info[0]}.{sys.version_info[1]}", problems)


def candidate(path: Path, source: str) -> tuple[EnvironmentChoice | None, str]:
    """The choice for one candidate path, or (None, why it is not one)."""
    path = Path(os.path.abspath(Path(path).expanduser()))
    if not path.exists():
        return None, f"{source} {path}: no such file or folder"
    if python_of(path) is None:
        return None, f"{source} {path}: not a Python environment (no bin/python in it)"
    if is_own(path):
        return own_choice(), ""
    prefix = prefix_of(path)  # named by its folder: ".venv", "fastai-env", ...
    return EnvironmentChoice(path, source, prefix.name or str(prefix), version_of(prefix),
                             trusted=source != ".venv"), ""


def choose_environment(workspace: Path, python: str | Path | None = None,
                       environ=None) -> EnvironmentChoice:
    """The environment to resolve names in, with the candidates skipped on the way."""
    environ = os.environ if environ is None else environ
    candidates = []
    if python:
        candidates.append((Path(python), "--python"))
    for variable in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        if environ.get(variable):
            candidates.append((Path(environ[variable]), f"${variable}"))
    venv = Path(workspace) / ".venv"
    if venv.is_dir():
        candidates.append((venv, ".venv"))
    problems = []
    for path, source in candidates:
        choice, problem = candidate(path, source)
        if choice is not None:
            return EnvironmentChoice(choice.path, choice.source, choice.name, choice.version,
                                     tuple(problems), choice.trusted)
        problems.append(problem)
    return own_choice(tuple(problems))
