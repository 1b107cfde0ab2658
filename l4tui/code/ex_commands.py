"""What the code pane's `:` command line understands: vim's ex commands, read into a plain
decision (`ExCommand`) that the pane carries out.

Reading the command apart from doing it keeps the vocabulary (aliases, which commands need an
argument, where `:e PATH` points) in one place a test can check without a terminal.
"""

from dataclasses import dataclass
from pathlib import Path

# action -> the names vim users type for it
ALIASES = {
    "tags": ("tags",),
    "jumps": ("jumps", "ju"),
    "find_file": ("Files", "files", "find", "fin"),
    "find_symbol": ("Tags", "symbols"),
    "tag": ("tag", "ta", "tselect", "ts"),
    "no_highlight": ("noh", "nohlsearch"),
    "edit": ("e", "edit"),
    "help": ("h", "help"),
    "python": ("python",),  # :python PATH picks the environment names resolve in; alone, names it
    "lesson": ("lesson", "les"),  # the bundled lesson models, from any project (argument: a model's name)
    "quit": ("q", "q!", "qa", "qa!", "quit", "wq", "x"),
}
NEEDS_ARGUMENT = {"tag", "edit"}  # without one they are not commands here (vim's :tag alone re-jumps)
_ACTION_OF = {name: action for action, names in ALIASES.items() for name in names}


@dataclass(frozen=True)
class ExCommand:
    action: str  # goto_line, one of ALIASES' keys, or "unknown"
    argument: str = ""  # the tag's name, the path to edit (made absolute), the command not understood
    line: int = 0  # for goto_line


def parse_ex_command(text: str, workspace: Path, cwd: Path, lesson: Path | None = None) -> ExCommand:
    """What `:TEXT` asks for. A relative `:e PATH` is in the workspace when it exists there, else
    in l4tui's bundled files (`lesson`: `:e models/tabular.py` from any project) when it exists
    there, else in the folder the app was started from (as the shell the user typed it in would
    have it)."""
    text = text.strip().lstrip(":").strip()
    if text.isdigit():
        return ExCommand("goto_line", line=int(text))
    name, _, argument = text.partition(" ")
    argument = argument.strip()
    action = _ACTION_OF.get(name)
    if action is None or (action in NEEDS_ARGUMENT and not argument):
        return ExCommand("unknown", text)
    if action == "edit" or (action == "python" and argument):
        argument = str(edit_path(argument, workspace, cwd, lesson if action == "edit" else None))
    return ExCommand(action, argument)


def edit_path(argument: str, workspace: Path, cwd: Path, lesson: Path | None = None) -> Path:
    path = Path(argument).expanduser()
    if path.is_absolute():
        return path
    for root in (workspace, lesson):
        if root is not None and (root / path).exists():
            return root / path
    return cwd / path


def not_a_command(text: str) -> str:
    """vim's own words for a command it doesn't know."""
    return f"E492: Not an editor command: {text}"
