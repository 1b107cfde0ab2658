"""A read-only source viewer: pygments highlighting, line numbers, a cursor, vim-style motions.

It renders line by line (`render_line`) from a cache of styled segments, so only the lines on
screen cost anything to draw.
"""

import re
from pathlib import Path

from rich.segment import Segment
from rich.style import Style
from rich.syntax import PygmentsSyntaxTheme
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class CodeView(ScrollView, can_focus=True):
    """Shows one file. Posts CursorMoved as the cursor moves and GotoDefinition for `gd`."""

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False, id="code.up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="code.down"),
        Binding("left,h", "cursor_left", "Left", show=False, id="code.left"),
        Binding("right,l", "cursor_right", "Right", show=False, id="code.right"),
        Binding("pageup,ctrl+u", "page_up", "Page up", show=False, id="code.page_up"),
        Binding("pagedown,ctrl+d", "page_down", "Page down", show=False, id="code.page_down"),
        Binding("home,0", "line_start", "Start of line", show=False, id="code.line_start"),
        Binding("end,dollar_sign", "line_end", "End of line", show=False, id="code.line_end"),
    ]
    # Two-key sequences, handled in on_key (Textual bindings are single keys). Listed for the help screen.
    SEQUENCES = [("g g", "First line"), ("G", "Last line"), ("g d", "Go to definition (like Ctrl-])")]

    DEFAULT_CSS = """
    CodeView { background: $surface; }
    """

    class CursorMoved(Message):
        def __init__(self, view: "CodeView") -> None:
            super().__init__()
            self.view = view

    class GotoDefinition(Message):
        """The user asked for the definition of the name under the cursor (gd)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.path: Path | None = None
        self.lines: list[str] = []
        self._tokens: list[list[tuple[object, str]]] = []
        self._styled: dict[int, list[Segment]] = {}
        self.cursor_line = 0  # from 0
        self.cursor_col = 0  # from 0
        self._wanted_col = 0  # the column up/down try to keep, as vim's curswant
        self._pending = ""  # the first key of a two-key sequence
        self._theme = None

    # ---- content -------------------------------------------------------------------------

    def load(self, path: Path, source: str, tokens: list[list[tuple[object, str]]],
             line: int = 0, col: int = 0) -> None:
        """Show `source` (its pygments tokens per line) with the cursor at (line, col) from 0."""
        self.path = Path(path)
        self.lines = source.expandtabs(4).splitlines() or [""]
        self._tokens = tokens
        self._styled.clear()
        width = max((len(text) for text in self.lines), default=0)
        self.virtual_size = Size(self.gutter_width + width + 1, len(self.lines))
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.move_to(line, col, center=True)

    @property
    def source(self) -> str:
        return "\n".join(self.lines) + "\n"

    @property
    def gutter_width(self) -> int:
        return len(str(max(1, len(self.lines)))) + 2

    def word_at_cursor(self) -> str:
        text = self.lines[self.cursor_line] if self.lines else ""
        for match in IDENTIFIER.finditer(text):
            if match.start() <= self.cursor_col < match.end():
                return match.group()
        return ""

    # ---- drawing -------------------------------------------------------------------------

    def _syntax_theme(self) -> PygmentsSyntaxTheme:
        if self._theme is None:
            dark = getattr(self.app.current_theme, "dark", True)
            self._theme = PygmentsSyntaxTheme("monokai" if dark else "default")
        return self._theme

    def _styled_line(self, index: int) -> list[Segment]:
        segments = self._styled.get(index)
        if segments is None:
            theme = self._syntax_theme()
            tokens = self._tokens[index] if index < len(self._tokens) else [(None, self.lines[index])]
            segments = []
            for token_type, text in tokens:
                style = theme.get_style_for_token(token_type) if token_type is not None else Style()
                segments.append(Segment(text, Style(color=style.color, bold=style.bold,
                                                    italic=style.italic)))
            self._styled[index] = segments
        return segments

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        base = self.rich_style
        if index >= len(self.lines):
            return Strip.blank(width, base)
        is_cursor_line = index == self.cursor_line
        line_style = base + Style(bgcolor="grey19") if is_cursor_line else base
        gutter_style = line_style + Style(color="bright_white" if is_cursor_line else "grey50")
        gutter = Segment(f"{index + 1:>{self.gutter_width - 1}} ", gutter_style)
        code = Strip(self._styled_line(index)).apply_style(line_style)
        if is_cursor_line and self.has_focus:
            code = self._with_cursor(code, line_style)
        code_width = max(0, width - self.gutter_width)
        code = code.crop_extend(scroll_x, scroll_x + code_width, line_style)
        return Strip([gutter, *code], width)

    def _with_cursor(self, code: Strip, line_style: Style) -> Strip:
        col = self.cursor_col
        length = code.cell_length
        if col >= length:
            code = code.extend_cell_length(col + 1, line_style)
        before, cell, after = code.divide([col, col + 1, max(col + 1, code.cell_length)])
        cell = cell.apply_style(Style(reverse=True))
        return Strip([*before, *cell, *after])

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._theme = None
        self._styled.clear()

    # ---- moving --------------------------------------------------------------------------

    def move_to(self, line: int, col: int, center: bool = False, keep_wanted: bool = False) -> None:
        line = max(0, min(line, len(self.lines) - 1))
        col = max(0, min(col, max(0, len(self.lines[line]) - 1)))
        self.cursor_line, self.cursor_col = line, col
        if not keep_wanted:
            self._wanted_col = col
        self._scroll_to_cursor(center)
        self.refresh()
        self.post_message(self.CursorMoved(self))

    def _scroll_to_cursor(self, center: bool) -> None:
        height = max(1, self.scrollable_content_region.height or self.size.height)
        code_width = max(1, (self.scrollable_content_region.width or self.size.width) - self.gutter_width)
        x, y = self.scroll_offset
        line, col = self.cursor_line, self.cursor_col
        if center and not y <= line < y + height:
            y = max(0, line - height // 2)
        elif line < y:
            y = line
        elif line >= y + height:
            y = line - height + 1
        if col < x:
            x = col
        elif col >= x + code_width:
            x = col - code_width + 1
        self.scroll_to(x, y, animate=False, immediate=True)

    def _move_lines(self, delta: int) -> None:
        line = max(0, min(self.cursor_line + delta, len(self.lines) - 1))
        self.move_to(line, self._wanted_col, keep_wanted=True)

    def action_cursor_up(self) -> None:
        self._move_lines(-1)

    def action_cursor_down(self) -> None:
        self._move_lines(1)

    def action_cursor_left(self) -> None:
        self.move_to(self.cursor_line, self.cursor_col - 1)

    def action_cursor_right(self) -> None:
        self.move_to(self.cursor_line, self.cursor_col + 1)

    def action_page_up(self) -> None:
        self._move_lines(-max(1, self.scrollable_content_region.height - 1))

    def action_page_down(self) -> None:
        self._move_lines(max(1, self.scrollable_content_region.height - 1))

    def action_line_start(self) -> None:
        self.move_to(self.cursor_line, 0)

    def action_line_end(self) -> None:
        self.move_to(self.cursor_line, len(self.lines[self.cursor_line]))

    def on_key(self, event: events.Key) -> None:
        pending, self._pending = self._pending, ""
        if event.character == "G":
            self.move_to(len(self.lines) - 1, 0)
        elif event.character == "g" and pending == "g":
            self.move_to(0, 0)
        elif event.character == "d" and pending == "g":
            self.post_message(self.GotoDefinition())
        elif event.character == "g":
            self._pending = "g"
        else:
            return
        event.stop()
        event.prevent_default()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
