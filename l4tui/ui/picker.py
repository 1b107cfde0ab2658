"""A list to choose from, with a preview of the chosen place: vim's :tselect, references, finders.

One screen serves every "pick a place" question in the Code pane. With a `search` function it
gets a query line and becomes a fuzzy finder (files, symbols); the search runs in a thread so
typing never waits for the ranking. Enter answers with the item, Escape with None.
"""

from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from l4tui.code.location import Location
from l4tui.code.source import preview_lines
from l4tui.ui.key_order import EarlyKeys, InOrderInput

PREVIEW_CONTEXT = 3  # lines above the place; the rest of the preview's height goes below it


@dataclass(frozen=True)
class PickItem:
    label: str  # what the list shows
    location: Location | None  # where choosing it goes (None: nothing to open)
    detail: str = ""  # dimmed text after the label: a path, a kind, a signature


class QueryInput(InOrderInput):
    """The finder's query line: Enter chooses at once, from the results of what is typed."""

    def enter_now(self) -> None:
        self.screen.choose_now()


class PickerScreen(EarlyKeys, ModalScreen[PickItem | None]):
    DEFAULT_CSS = """
    PickerScreen { align: center middle; }
    PickerScreen #picker-box { width: 100; max-width: 100%; height: 90%;
                               border: round $accent; background: $surface; padding: 0 1; }
    PickerScreen #picker-title { height: 1; text-style: bold; }
    PickerScreen #picker-query { height: 1; border: none; padding: 0; }
    PickerScreen #picker-list { height: 1fr; min-height: 3;
                                border: none; text-wrap: nowrap; text-overflow: ellipsis; }
    PickerScreen #picker-preview { height: 1fr; max-height: 14; border-top: solid $panel; }
    """

    BINDINGS = [
        Binding("escape", "dismiss_none", "Close", id="picker.close"),
        Binding("down,ctrl+n,ctrl+j", "move(1)", "Next", show=False, id="picker.next"),
        Binding("up,ctrl+p,ctrl+k", "move(-1)", "Previous", show=False, id="picker.previous"),
        Binding("pagedown", "move(10)", "Page down", show=False, id="picker.page_down"),
        Binding("pageup", "move(-10)", "Page up", show=False, id="picker.page_up"),
    ]

    def __init__(self, title: str, items: list[PickItem] | None = None,
                 search: Callable[[str], list[PickItem]] | None = None, placeholder: str = "",
                 highlighted: int = 0, preview: bool = True) -> None:
        super().__init__()
        self.title_text = title
        self.items: list[PickItem] = list(items or [])
        self.search = search
        self.placeholder = placeholder
        self.initial = highlighted
        self.show_preview = preview
        self._file_cache: dict = {}
        self.preview_text = ""  # the lines the preview shows
        self._shown_query: str | None = None  # the query whose results the list shows
        self._chosen = False

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-box"):
            yield Static(self.title_text, id="picker-title", markup=False)
            if self.search is not None:
                yield QueryInput(placeholder=self.placeholder, id="picker-query")
            yield OptionList(id="picker-list")
            if self.show_preview:
                yield Static("", id="picker-preview")

    def on_mount(self) -> None:
        if self.search is not None:
            self.run_search("")
            focus = self.query_one(Input)
        else:
            self._show(self.items, self.initial)
            focus = self.query_one(OptionList)
        # Focus now, then hand over the keys typed while the screen was being built (Ctrl-P and
        # "tabular" in one burst), in order, ahead of any that come later.
        self.set_focus(focus)
        self.release_early_keys()

    # ---- the list -----------------------------------------------------------------------

    def _show(self, items: list[PickItem], highlighted: int = 0, query: str | None = None) -> None:
        self.items = items
        self._shown_query = query
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(self._label(item)) for item in items])
        if items:
            options.highlighted = max(0, min(highlighted, len(items) - 1))
        self._preview()

    @staticmethod
    def _label(item: PickItem) -> Text:
        text = Text(item.label, no_wrap=True, overflow="ellipsis")  # one row per item, as fzf shows them
        if item.detail:
            text.append("  " + item.detail, style="dim")
        return text

    def action_move(self, delta: int) -> None:
        options = self.query_one(OptionList)
        if not self.items:
            return
        current = options.highlighted or 0
        options.highlighted = max(0, min(current + delta, len(self.items) - 1))

    @on(OptionList.OptionHighlighted)
    def _highlighted(self) -> None:
        self._preview()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.items[event.option_index])

    def choose_now(self) -> None:
        """Enter in the query: the highlighted item of what the query finds now. When the
        ranking of the last keys typed has not come back yet, it is done here, so Enter typed
        right after a query never picks from an older list."""
        query = self.query_one(Input).value
        if self.search is not None and query != self._shown_query:
            self._show(self.search(query), query=query)
        index = self.query_one(OptionList).highlighted
        if self.items and index is not None:
            self._chosen = True
            self.dismiss(self.items[index])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    # ---- searching ------------------------------------------------------------------------

    @on(Input.Changed)
    def _query_changed(self, event: Input.Changed) -> None:
        self.run_search(event.value)

    @work(thread=True, exclusive=True, group="picker-search")
    def run_search(self, query: str) -> None:
        items = self.search(query)
        self.app.call_from_thread(self._show_unless_stale, items, query)

    def _show_unless_stale(self, items: list[PickItem], query: str) -> None:
        if not self.is_attached or self._chosen:
            return  # chosen already (Enter came before this ranking)
        if self.query_one(Input).value == query:  # a later query's results may be shown already
            self._show(items, query=query)

    # ---- the preview ----------------------------------------------------------------------

    def _preview(self) -> None:
        if not self.show_preview:
            return
        preview = self.query_one("#picker-preview", Static)
        index = self.query_one(OptionList).highlighted
        if not self.items or index is None or self.items[index].location is None:
            preview.update("")
            return
        location = self.items[index].location
        lines = preview_lines(location.path, self._file_cache)
        if lines is None:
            preview.update(Text(f"can't read {location.path}", style="red"))
            return
        height = max(3, preview.size.height or 8)
        first = max(0, location.line - 1 - PREVIEW_CONTEXT)
        snippet = self.preview_text = "\n".join(lines[first:first + height])
        lexer = "python" if location.path.suffix in (".py", ".pyi") else "text"
        dark = getattr(self.app.current_theme, "dark", True)
        from rich.syntax import Syntax  # pygments: not before the first frame (docs/startup.md)

        preview.update(Syntax(snippet, lexer, theme="monokai" if dark else "default", line_numbers=True,
                              start_line=first + 1, highlight_lines={location.line}, word_wrap=False))
