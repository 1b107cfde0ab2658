"""Handing a file to the user's own editor at the right line ($VISUAL, then $EDITOR).

The command is built as an argument list, never a shell string: a path with spaces or quotes
reaches the editor as one argument and nothing user-supplied is interpreted by a shell.
"""

import os
import shlex
from pathlib import Path

# How each editor is told "open at this line (and column)". Columns count from 1 here.
LINE_PLUS = {"vi", "vim", "nvim", "gvim", "view", "nano", "pico", "micro", "kak", "joe", "ne", "mcedit", "jed"}
LINE_COLUMN_PLUS = {"emacs", "emacsclient", "kak"}
GOTO_FLAG = {"code", "code-insiders", "codium", "cursor", "windsurf"}  # -g path:line:col
SUBL_STYLE = {"subl", "sublime_text", "hx", "helix", "zed"}  # path:line:col


def editor_from_environment(environ=os.environ) -> list[str]:
    """$VISUAL, else $EDITOR, else vi, split as a shell would split words (no expansion)."""
    for variable in ("VISUAL", "EDITOR"):
        value = environ.get(variable, "").strip()
        if value:
            try:
                words = shlex.split(value)
            except ValueError:  # an unbalanced quote: take it as one program name
                words = [value]
            if words:
                return words
    return ["vi"]


def editor_command(editor: list[str], path: Path, line: int, column: int = 1) -> list[str]:
    """The argument list that opens `path` at `line` (from 1), `column` (from 1) in `editor`."""
    program = Path(editor[0]).name
    if program.endswith(".exe"):
        program = program[:-4]
    path_text = str(path)
    if program in ("vi", "vim", "nvim", "gvim", "view"):
        # `+call cursor(L, C)` puts vim on the column too; plain `+L` is what every vi knows.
        return [*editor, f"+call cursor({line}, {column})", path_text] if program != "vi" \
            else [*editor, f"+{line}", path_text]
    if program in LINE_COLUMN_PLUS:
        return [*editor, f"+{line}:{column}", path_text]
    if program in LINE_PLUS:
        return [*editor, f"+{line}", path_text]
    if program in GOTO_FLAG:
        return [*editor, "-g", f"{path_text}:{line}:{column}"]
    if program in SUBL_STYLE:
        return [*editor, f"{path_text}:{line}:{column}"]
    return [*editor, path_text]  # an editor we don't know: at least the right file
