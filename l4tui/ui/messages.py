"""The messages one part of the app sends another (as Harlequin and Toolong keep theirs).

A widget posts a message instead of calling the widget above it, so it never imports it: the
code viewer tells the code pane what happened, a Model pane tab tells the pane what was chosen.
"""

from textual.message import Message


# ---- the code viewer -> the code pane --------------------------------------------------------

class CursorMoved(Message):
    """The viewer's cursor moved (the status line shows where)."""

    def __init__(self, view) -> None:
        super().__init__()
        self.view = view


class Jumped(Message):
    """The cursor is about to jump within the file: (line, col) is where it leaves, from 0."""

    def __init__(self, line: int, col: int) -> None:
        super().__init__()
        self.line, self.col = line, col


class CodeRequest(Message):
    """Something only the code pane can do: goto_definition, references, ..."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action


class Said(Message):
    """A short message for the status line (vim's "search hit BOTTOM", "E490: No fold found")."""

    def __init__(self, text: str, error: bool = False) -> None:
        super().__init__()
        self.text, self.error = text, error


# ---- the Model pane's tabs -> the Model pane -------------------------------------------------

class LayerSelected(Message):
    """The Layers tab's cursor is on this module (qualified name, "" for the model): the
    Parameters tab follows it."""

    def __init__(self, module_name: str) -> None:
        super().__init__()
        self.module_name = module_name


class OpenCode(Message):
    """Open this place in the Code pane (the Layers tab's gd: a layer's class definition)."""

    def __init__(self, path, line: int) -> None:
        super().__init__()
        self.path, self.line = path, line
