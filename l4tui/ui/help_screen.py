"""`?`: the keys that work where the user is, read from the live bindings so the list can't drift.

The list comes from the screen's `active_bindings` (the focused widget, its parents, the screen,
the app, with the user's keymap applied), so a remapped key shows as it is now and a key another
binding shadows here is not listed. Keys a widget reads itself, outside its bindings (the Code
view's `gg`, `zc` ...), it declares as data in a `HELP_KEYS` list of (keys, what they do).

Grouped by where a key works: the pane (or pushed screen) in focus, then everywhere.
"""

from dataclasses import dataclass, field

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from l4tui.ui.key_names import key_text

EVERYWHERE = "Everywhere"
THIS_SCREEN = "This screen"


@dataclass
class HelpLine:
    keys: list[str] = field(default_factory=list)  # Textual key names, in binding order
    text: str = ""
    binding_id: str | None = None  # what a keymap names it by; None for keys that aren't bindings
    shown_keys: str = ""  # already spelled for people (HELP_KEYS entries)

    def keys_text(self) -> str:
        return self.shown_keys or key_text(",".join(self.keys))


def help_sections(screen: Screen, here: str = THIS_SCREEN) -> list[tuple[str, list[HelpLine]]]:
    """The keys that work on `screen` now, grouped: `here` (the focused widget and the widgets
    around it, the title says which pane), "This screen" (a pushed screen's own keys), "Everywhere".

    Textual's own widget keys (arrows, PgUp/PgDn in tables and lists) are left out: they carry
    no id and work as in every other app. Its screen- and app-wide ones (Tab, Ctrl-Q) stay."""
    app = screen.app
    focused = screen.focused
    chain = list(reversed(focused.ancestors_with_self)) if focused is not None else [app, screen]
    depth = {node: index for index, node in enumerate(chain)}  # outermost first: the pane's own keys lead
    lines: dict[object, tuple[str, float, HelpLine]] = {}  # (group, rank in it, line)
    for key, active in screen.active_bindings.items():
        node, binding = active.node, active.binding
        if node is app or (isinstance(node, Screen) and binding.id is None):
            group = EVERYWHERE
        elif binding.id is None:
            continue
        elif isinstance(node, Screen):
            group = THIS_SCREEN
        else:
            group = here
        merged = (binding.id or binding.action, id(node))  # one line for every key of a binding
        if merged not in lines:
            lines[merged] = (group, depth.get(node, 0),
                             HelpLine(text=binding.tooltip or binding.description, binding_id=binding.id))
        lines[merged][2].keys.append(key)
    for node in chain:
        for keys, text in getattr(node, "HELP_KEYS", ()):
            group = here if node is not screen and node is not app else THIS_SCREEN
            lines[(keys, id(node))] = (group, depth[node] + 0.5, HelpLine(text=text, shown_keys=keys))
    sections = []
    for title in dict.fromkeys([here, THIS_SCREEN, EVERYWHERE]):
        found = [(rank, line) for group, rank, line in lines.values() if group == title]
        if found:
            found.sort(key=lambda item: item[0])  # stable: bindings keep their declared order
            sections.append((title, [line for _, line in found]))
    return sections


class HelpScreen(ModalScreen):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen #help-box { width: 76; max-width: 100%; height: 90%;
                           border: round $accent; background: $surface; padding: 0 1; }
    HelpScreen #help-footer { color: $text-muted; margin-top: 1; }
    HelpScreen .help-title { margin-top: 1; }
    HelpScreen .help-line { height: auto; }
    HelpScreen .help-keys { width: 18; }
    HelpScreen .help-what { width: 1fr; }
    """

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]

    def __init__(self, sections: list[tuple[str, list[HelpLine]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            for title, lines in self.sections:
                yield Static(Content.styled(title, "bold"), classes="help-title")
                for line in lines:
                    # Content, not markup: a key such as `[` must show as itself.
                    text = Content(line.text)
                    if line.binding_id:
                        text = Content.assemble(text, "  ", (line.binding_id, "dim"))
                    with Horizontal(classes="help-line"):
                        yield Static(Content.styled(line.keys_text(), "bold $accent"), classes="help-keys")
                        yield Static(text, classes="help-what")
            yield Static(id="help-footer")

    def on_mount(self) -> None:
        close = [key for key, active in self.active_bindings.items() if active.binding.id == "help.close"]
        self.query_one("#help-footer", Static).update(Content(
            f"{key_text(','.join(close))} closes this. A key's id (dim) names it in config.toml's "
            f"[keymap] to remap it (docs/keys.md)."))

    def text(self) -> str:
        """What the screen says, a line per key, as plain text (for tests)."""
        lines = []
        for child in self.query_one("#help-box").children:
            parts = child.query(Static) if isinstance(child, Horizontal) else [child]
            lines.append("  ".join(str(part.render()) for part in parts))
        return "\n".join(lines)
