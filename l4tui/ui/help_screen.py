"""`?`: every key of the app, read from the bindings themselves so the list never goes stale."""

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEY_NAMES = {
    "ctrl+right_square_bracket": "Ctrl-]", "question_mark": "?", "dollar_sign": "$",
    "pageup": "PgUp", "pagedown": "PgDn", "left_square_bracket": "[", "right_square_bracket": "]",
    "space": "Space", "escape": "Esc", "circumflex_accent": "^", "percent_sign": "%",
    "left_curly_bracket": "{", "right_curly_bracket": "}", "asterisk": "*", "number_sign": "#",
    "slash": "/", "colon": ":", "tab": "Tab",
}


def key_text(keys: str) -> str:
    names = []
    for key in keys.split(","):
        key = key.strip()
        name = KEY_NAMES.get(key)
        if name is None:
            if key.startswith("ctrl+"):
                name = "Ctrl-" + key[5:].upper()
            else:
                name = key[0].upper() + key[1:] if len(key) > 1 else key
        names.append(name)
    return " / ".join(names)


def help_text(sections: list[tuple[str, list]]) -> str:
    lines = []
    for title, entries in sections:
        lines.append(f"[b]{title}[/b]")
        for entry in entries:
            if isinstance(entry, Binding):
                keys, text = key_text(entry.key), entry.tooltip or entry.description
            else:
                keys, text = entry
            lines.append(f"  [b $accent]{keys:<18}[/] {text}")
        lines.append("")
    return "\n".join(lines)


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]

    def __init__(self, sections: list[tuple[str, list]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(help_text(self.sections), id="help-text")
            yield Static("Esc, q or ? closes this.", id="help-footer")
