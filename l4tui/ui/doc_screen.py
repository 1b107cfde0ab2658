"""`K`: the signature and docstring of the name under the cursor, as vim's keywordprg shows them."""

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from l4tui.code.navigator import Help
from l4tui.ui.key_order import forward_key


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


class DocScreen(ModalScreen):
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
        self._early_keys: list | None = []  # keys that came before the text was laid out

    def on_mount(self) -> None:
        self.call_after_refresh(self._take_early_keys)

    def _take_early_keys(self) -> None:
        """Now that the text has its size, the keys typed with K (`K j j`) can scroll it."""
        early, self._early_keys = self._early_keys, None
        for key, character in early:
            forward_key(self.app, key, character)

    def take_key(self, key: str, character: str | None) -> None:
        """A key for this screen (key_order.forward_key): kept until the text is laid out."""
        if self._early_keys is not None:
            self._early_keys.append((key, character))
        else:
            event = events.Key(key, character)
            event.set_sender(self.app)
            self._forward_event(event)

    def on_key(self, event: events.Key) -> None:
        if self._early_keys is not None:
            event.stop()
            event.prevent_default()
            self._early_keys.append((event.key, event.character))

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="doc-box"):
            yield Static(help_text(self.help, self.where), id="doc-text")
            yield Static("Esc, q or K closes this.", id="doc-footer")

    def action_scroll(self, lines: int) -> None:
        box = self.query_one("#doc-box")
        # From where the last scroll is going, not where the screen is: two j's in one burst
        # come before the first has been drawn, and must scroll two lines.
        box.scroll_to(y=box.scroll_target_y + lines, animate=False, immediate=True)
