"""`K`: the signature and docstring of the name under the cursor, as vim's keywordprg shows them."""

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from l4tui.code.navigator import Help
from l4tui.ui.key_order import EarlyKeys


def help_text(help: Help, where: str) -> Text:
    text = Text()
    text.append(f"{help.kind} ", style="dim")
    text.append(f"{help.module_name}.{help.name}" if help.module_name else help.name, style="bold")
    if where:
        text.append(f"   {where}", style="dim")
    text.append("\n")
    for signature in help.signatures:
        text.append("\n" + signature, style="bold cyan")
    text.append("\n\n")
    text.append(help.docstring or "(no docstring)")
    return text


class DocScreen(EarlyKeys, ModalScreen):
    DEFAULT_CSS = """
    DocScreen { align: center middle; }
    DocScreen #doc-box { width: 90; max-width: 100%; height: 90%;
                         border: round $accent; background: $surface; padding: 0 1; }
    DocScreen #doc-footer { color: $text-muted; margin-top: 1; }
    """

    BINDINGS = [
        Binding("escape,q,K", "dismiss", "Close", id="doc.close"),
        Binding("j,down", "scroll(1)", "Down", show=False, id="doc.down"),
        Binding("k,up", "scroll(-1)", "Up", show=False, id="doc.up"),
        Binding("ctrl+d,pagedown,space", "scroll(10)", "Page down", show=False, id="doc.page_down"),
        Binding("ctrl+u,pageup", "scroll(-10)", "Page up", show=False, id="doc.page_up"),
    ]

    def __init__(self, help: Help, where: str = "") -> None:
        super().__init__()
        self.help = help
        self.where = where

    def on_mount(self) -> None:
        # Once the text has its size, the keys typed with K (`K j j`) can scroll it.
        self.call_after_refresh(self.release_early_keys)

    def key_when_ready(self, key: str, character: str | None) -> None:
        event = events.Key(key, character)
        event.set_sender(self.app)
        self._forward_event(event)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="doc-box"):
            yield Static(help_text(self.help, self.where), id="doc-text")
            yield Static("Esc, q or K closes this.", id="doc-footer")

    def action_scroll(self, lines: int) -> None:
        box = self.query_one("#doc-box")
        # From where the last scroll is going, not where the screen is: two j's in one burst
        # come before the first has been drawn, and must scroll two lines.
        box.scroll_to(y=box.scroll_target_y + lines, animate=False, immediate=True)
