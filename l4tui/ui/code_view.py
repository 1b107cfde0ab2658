"""A read-only source viewer with vim's keys: highlighting, line numbers, folds, search.

It renders line by line (`render_line`) from a cache of styled segments, so only the lines on
screen cost anything to draw: a 30,000-line file scrolls as fast as a 30-line one. Display rows
and file lines differ only where a fold is closed; `FoldState` maps one to the other.

The motions themselves (w, b, %, search, folds) are plain functions in `l4tui.code`; this
widget reads keys, keeps the cursor and draws. What goes beyond one file (definitions, the
tag stack, the jump list, the editor) it asks of the Code pane with a `Request` message.
"""

import re
from pathlib import Path
from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from l4tui.code import motions
from l4tui.code.documents import Document
from l4tui.code.folds import FoldState, summary
from l4tui.code.notebook import PROSE
from l4tui.code.search import compile_pattern, matches_in_line, search
from l4tui.ui.key_order import forward_key, has_focus_now, run_binding
from l4tui.ui.messages import CodeRequest, CursorMoved, Jumped, Said

if TYPE_CHECKING:
    from rich.syntax import PygmentsSyntaxTheme

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Two-key sequences, as vim's: the first key, then the second -> (the method that does it, its help).
# Textual's bindings can't express them; the ? screen reads them from here (HELP_KEYS).
SEQUENCES = {
    "g": {"g": ("first_line", "First line (G: the last)"),
          "d": ("request:goto_definition", "Go to definition (as Ctrl-])"),
          "r": ("request:references", "References, with a preview")},
    "z": {"c": ("fold_close", "Close the fold (class or def) at the cursor"),
          "o": ("fold_open", "Open the fold at the cursor"),
          "a": ("fold_toggle", "Toggle the fold at the cursor"),
          "M": ("fold_close_all", "Close every fold"),
          "R": ("fold_open_all", "Open every fold"),
          "z": ("scroll_center", "Scroll the cursor line to the middle"),
          "t": ("scroll_top", "Scroll the cursor line to the top"),
          "b": ("scroll_bottom", "Scroll the cursor line to the bottom")},
}


class CodeView(ScrollView, can_focus=True):
    """Shows one file. Posts (ui/messages.py) CursorMoved as the cursor moves, Jumped before a
    jump, Said for the status line, and CodeRequest for what the pane does (definitions,
    references, the jump list, the editor)."""

    HELP_KEYS = [(f"{first} {second}", text) for first, seconds in SEQUENCES.items()
                 for second, (_, text) in seconds.items()]
    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False, id="code.up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="code.down"),
        Binding("left,h", "cursor_left", "Left", show=False, id="code.left"),
        Binding("right,l", "cursor_right", "Right", show=False, id="code.right"),
        Binding("ctrl+u", "half_page(-1)", "Half page up", show=False, id="code.half_up"),
        Binding("ctrl+d", "half_page(1)", "Half page down", show=False, id="code.half_down"),
        Binding("pageup,ctrl+b", "page(-1)", "Page up", show=False, id="code.page_up"),
        Binding("pagedown,ctrl+f", "page(1)", "Page down", show=False, id="code.page_down"),
        Binding("home,0", "line_start", "Start of line", show=False, id="code.line_start"),
        Binding("circumflex_accent", "first_non_blank", "First non-blank", show=False, id="code.first_non_blank"),
        Binding("end,dollar_sign", "line_end", "End of line", show=False, id="code.line_end"),
        Binding("G", "last_line", "Last line", show=False, id="code.last_line"),
        Binding("w", "word('forward', False)", "Next word", show=False, id="code.word"),
        Binding("W", "word('forward', True)", "Next WORD", show=False, id="code.big_word"),
        Binding("b", "word('backward', False)", "Previous word", show=False, id="code.back_word"),
        Binding("B", "word('backward', True)", "Previous WORD", show=False, id="code.back_big_word"),
        Binding("percent_sign", "match_bracket", "Matching bracket", show=False, id="code.match_bracket"),
        Binding("left_curly_bracket", "paragraph(-1)", "Previous blank line", show=False, id="code.paragraph_back"),
        Binding("right_curly_bracket", "paragraph(1)", "Next blank line", show=False, id="code.paragraph"),
        Binding("H", "screen_line('top')", "Top of screen", show=False, id="code.screen_top"),
        Binding("M", "screen_line('middle')", "Middle of screen", show=False, id="code.screen_middle"),
        Binding("L", "screen_line('bottom')", "Bottom of screen", show=False, id="code.screen_bottom"),
        Binding("n", "search_next(True)", "Next match", show=False, id="code.search_next"),
        Binding("N", "search_next(False)", "Previous match", show=False, id="code.search_previous"),
        Binding("asterisk", "search_word(True)", "Search word forward", show=False, id="code.star"),
        Binding("number_sign", "search_word(False)", "Search word back", show=False, id="code.hash"),
    ]

    DEFAULT_CSS = """
    CodeView { background: $surface; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.path: Path | None = None
        self.document: Document | None = None
        self.lines: list[str] = []
        self._width = 0
        self._tokens: list[list[tuple[object, str]]] = []
        self._styled: dict[int, list[Segment]] = {}
        self.folds = FoldState([], 0)
        self._rows: list[int] = []  # display row -> file line
        self.cursor_line = 0  # from 0
        self.cursor_col = 0  # from 0
        self._wanted_col = 0  # the column up/down try to keep, as vim's curswant
        self._pending = ""  # the first key of a two-key sequence
        self._holds: set[object] = set()  # reasons to hold keys: a file opening, a look-up
        self._held: list[tuple[str, str | None]] = []  # keys typed meanwhile: (key, character)
        self._replaying = False
        self.keys_seen = 0  # every key taken, for "did another key come right after this one?"
        self._theme = None
        self._frame_style: Style | None = None  # rich_style, taken once per frame (render_lines)
        self.pattern: re.Pattern | None = None  # the last search, highlighted until :noh
        self.highlight_search = True
        self.search_forward = True  # / searches forward, ? back; n keeps the direction

    # ---- content -------------------------------------------------------------------------

    def load(self, document: Document, line: int = 0, col: int = 0) -> None:
        """Show a document (documents.py) with the cursor at (line, col) from 0."""
        self._show(document)
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.move_to(line, col, center=True)
        # Opened before the first layout (`l4tui FILE:LINE`), the view has no height yet to
        # centre the line in: centre it again once it has.
        self.call_after_refresh(self._scroll_to_cursor, True)

    def reload(self, document: Document) -> None:
        """The file changed on disk: show the new text, keeping the cursor and the view where they were."""
        line, col = self.cursor_line, self.cursor_col
        x, y = self.scroll_offset
        self._show(document)
        self.scroll_to(x, y, animate=False, immediate=True)
        self.move_to(min(line, len(self.lines) - 1), col)

    def _show(self, document: Document) -> None:
        self.document = document
        self.path = document.path
        self.lines = document.lines or [""]
        self._tokens = document.tokens or []
        self._styled.clear()
        self._width = document.width
        self.folds = FoldState(document.folds, len(self.lines))
        for start in document.closed:  # a notebook's markdown cells open folded
            self.folds.close(start)
        self._folds_changed()

    def set_tokens(self, tokens: list[list[tuple[object, str]]]) -> None:
        """The highlighting of a big file, arriving after the file is already shown as plain text."""
        self._tokens = tokens
        self._styled.clear()
        self.refresh()

    def _folds_changed(self) -> None:
        self._rows = self.folds.visible_lines()
        self.virtual_size = Size(self.gutter_width + self._width + 1, len(self._rows))
        self.refresh()

    @property
    def source(self) -> str:
        return "\n".join(self.lines) + "\n"

    @property
    def gutter_width(self) -> int:
        return len(str(max(1, len(self.lines)))) + 2

    def word_at_cursor(self) -> str:
        span = self._word_span()
        return self.lines[self.cursor_line][span[0]:span[1]] if span else ""

    def qualifier_at_cursor(self) -> str:
        """The dotted name before the word at the cursor: "nn" for `nn.Embedding`, "" for none."""
        span = self._word_span()
        if not span:
            return ""
        before = self.lines[self.cursor_line][:span[0]]
        match = re.search(r"([A-Za-z_][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*)\s*\.\s*$", before)
        return re.sub(r"\s+", "", match.group(1)) if match else ""

    def _word_span(self) -> tuple[int, int] | None:
        text = self.lines[self.cursor_line] if self.lines else ""
        for match in IDENTIFIER.finditer(text):
            if match.start() <= self.cursor_col < match.end():
                return match.span()
        return None

    # ---- drawing -------------------------------------------------------------------------

    def _syntax_theme(self) -> "PygmentsSyntaxTheme":
        if self._theme is None:
            # Imported on the first line drawn, not with this module: pygments (which rich.syntax
            # imports) is not needed for the first frame (docs/startup.md).
            from rich.syntax import PygmentsSyntaxTheme

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
                if token_type is PROSE:  # a notebook's markdown: dimmed, not coloured as code
                    segments.append(Segment(text, Style(dim=True, italic=True)))
                    continue
                style = theme.get_style_for_token(token_type) if token_type is not None else Style()
                segments.append(Segment(text, Style(color=style.color, bold=style.bold,
                                                    italic=style.italic)))
            self._styled[index] = segments
        return segments

    def render_lines(self, crop: Region) -> list[Strip]:
        # The widget's base style, once per frame: `rich_style` walks every ancestor's styles
        # and cost ~0.2 ms a call, 8 ms a frame when asked for on each of 40 rows.
        self._frame_style = self.rich_style
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.size.width
        base = self._frame_style if self._frame_style is not None else self.rich_style
        if row >= len(self._rows):
            return Strip.blank(width, base)
        index = self._rows[row]
        is_cursor_line = index == self.cursor_line
        line_style = base + Style(bgcolor="grey19") if is_cursor_line else base
        gutter_style = line_style + Style(color="bright_white" if is_cursor_line else "grey50")
        closed = self.folds.fold_at(index)
        marker = "+" if closed else " "
        gutter = Segment(f"{index + 1:>{self.gutter_width - 2}}{marker} ", gutter_style)
        if closed is not None:
            code = Strip([Segment(summary(closed, self.lines), line_style + Style(color="cyan", dim=True))])
        else:
            code = Strip(self._styled_line(index)).apply_style(line_style)
            if self.pattern is not None and self.highlight_search:
                code = self._with_matches(code, self.lines[index])
        if is_cursor_line and self.has_focus:
            code = self._with_cursor(code, line_style)
        code_width = max(0, width - self.gutter_width)
        code = code.crop_extend(scroll_x, scroll_x + code_width, line_style)
        return Strip([gutter, *code], width)

    def _with_matches(self, code: Strip, text: str) -> Strip:
        spans = matches_in_line(self.pattern, text)
        if not spans:
            return code
        cuts = sorted({cut for span in spans for cut in span if 0 < cut < code.cell_length})
        pieces = code.divide([*cuts, code.cell_length])
        starts = [0, *cuts]
        match_style = Style(bgcolor="yellow4", color="white")
        out = []
        for start, piece in zip(starts, pieces):
            hit = any(a <= start < b for a, b in spans)
            # On top of the segment's own style (Strip.apply_style would put it underneath,
            # and the line's background would hide it).
            out.append(Strip([Segment(segment.text, (segment.style or Style()) + match_style)
                              for segment in piece]) if hit else piece)
        return Strip.join(out)

    def _with_cursor(self, code: Strip, line_style: Style) -> Strip:
        col = self.cursor_col
        if col >= code.cell_length:
            code = code.extend_cell_length(col + 1, line_style)
        before, cell, after = code.divide([col, col + 1, max(col + 1, code.cell_length)])
        cell = cell.apply_style(Style(reverse=True))
        return Strip([*before, *cell, *after])

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._frame_style = None
        self._theme = None
        self._styled.clear()

    # ---- moving --------------------------------------------------------------------------

    @property
    def page_height(self) -> int:
        return max(1, self.scrollable_content_region.height or self.size.height)

    def move_to(self, line: int, col: int, center: bool = False, keep_wanted: bool = False) -> None:
        if not self.lines:  # no file open (an empty models/ folder): nothing to move over
            return
        line = max(0, min(line, len(self.lines) - 1))
        if self.folds.is_hidden(line):  # vim opens the folds a jump or a search lands in
            self.folds.reveal(line)
            self._folds_changed()
        col = max(0, min(col, max(0, len(self.lines[line]) - 1)))
        self.cursor_line, self.cursor_col = line, col
        if not keep_wanted:
            self._wanted_col = col
        self._scroll_to_cursor(center)
        self.refresh()
        self.post_message(CursorMoved(self))

    def jump_to(self, line: int, col: int, center: bool = True) -> None:
        """A move the jump list remembers (gg, G, %, search, :N): says where it leaves first."""
        self.post_message(Jumped(self.cursor_line, self.cursor_col))
        self.move_to(line, col, center=center)

    def _scroll_to_cursor(self, center: bool) -> None:
        height = self.page_height
        code_width = max(1, (self.scrollable_content_region.width or self.size.width) - self.gutter_width)
        x, y = self.scroll_offset
        row, col = self.folds.display_row(self.cursor_line), self.cursor_col
        if center and not y <= row < y + height:
            y = max(0, row - height // 2)
        elif row < y:
            y = row
        elif row >= y + height:
            y = row - height + 1
        if col < x:
            x = col
        elif col >= x + code_width:
            x = col - code_width + 1
        self.scroll_to(x, y, animate=False, immediate=True)

    def _move_rows(self, delta: int) -> None:
        """Up and down count display rows, so a closed fold is one step, as in vim."""
        row = max(0, min(self.folds.display_row(self.cursor_line) + delta, len(self._rows) - 1))
        self.move_to(self._rows[row], self._wanted_col, keep_wanted=True)

    def action_cursor_up(self) -> None:
        self._move_rows(-1)

    def action_cursor_down(self) -> None:
        self._move_rows(1)

    def action_cursor_left(self) -> None:
        self.move_to(self.cursor_line, self.cursor_col - 1)

    def action_cursor_right(self) -> None:
        self.move_to(self.cursor_line, self.cursor_col + 1)

    def action_half_page(self, direction: int) -> None:
        """Ctrl-D / Ctrl-U: scroll half a screen, the cursor moving as far (vim's 'scroll')."""
        half = max(1, self.page_height // 2)
        x, y = self.scroll_offset
        self.scroll_to(x, max(0, min(y + direction * half, len(self._rows) - self.page_height)),
                       animate=False, immediate=True)
        self._move_rows(direction * half)

    def action_page(self, direction: int) -> None:
        self._move_rows(direction * max(1, self.page_height - 2))

    def action_line_start(self) -> None:
        self.move_to(self.cursor_line, 0)

    def action_first_non_blank(self) -> None:
        self.move_to(self.cursor_line, motions.first_non_blank(self.lines, self.cursor_line))

    def action_line_end(self) -> None:
        if self.lines:
            self.move_to(self.cursor_line, len(self.lines[self.cursor_line]))

    def action_first_line(self) -> None:
        self.jump_to(0, motions.first_non_blank(self.lines, 0))

    def action_last_line(self) -> None:
        last = len(self.lines) - 1
        self.jump_to(last, motions.first_non_blank(self.lines, last))

    def action_word(self, direction: str, big: bool) -> None:
        motion = {"forward": motions.word_forward, "backward": motions.word_backward,
                  "end": motions.word_end}[direction]
        self.move_to(*motion(self.lines, self.cursor_line, self.cursor_col, big))

    def action_match_bracket(self) -> None:
        target = motions.match_bracket(self.lines, self.cursor_line, self.cursor_col)
        if target is None:
            self.post_message(Said("no bracket to match here", error=True))
            return
        self.jump_to(*target, center=False)

    def action_paragraph(self, direction: int) -> None:
        motion = motions.paragraph_forward if direction > 0 else motions.paragraph_backward
        self.jump_to(*motion(self.lines, self.cursor_line, self.cursor_col), center=False)

    def action_screen_line(self, where: str) -> None:
        _, y = self.scroll_offset
        last = min(len(self._rows), y + self.page_height) - 1
        row = {"top": y, "middle": (y + last) // 2, "bottom": last}[where]
        line = self._rows[max(0, row)]
        self.jump_to(line, motions.first_non_blank(self.lines, line), center=False)

    def action_goto_line(self, line: int) -> None:
        """`:NUMBER`, from 1; past the end goes to the last line, as vim does."""
        line = max(1, min(line, len(self.lines))) - 1
        self.jump_to(line, motions.first_non_blank(self.lines, line))

    # ---- scrolling the cursor line ---------------------------------------------------------

    def _scroll_cursor_row_to(self, offset_from_top: int) -> None:
        x, _ = self.scroll_offset
        row = self.folds.display_row(self.cursor_line)
        self.scroll_to(x, max(0, row - offset_from_top), animate=False, immediate=True)
        self.refresh()

    def action_scroll_center(self) -> None:
        self._scroll_cursor_row_to(self.page_height // 2)

    def action_scroll_top(self) -> None:
        self._scroll_cursor_row_to(0)

    def action_scroll_bottom(self) -> None:
        self._scroll_cursor_row_to(self.page_height - 1)

    # ---- folds ---------------------------------------------------------------------------

    def _fold_command(self, do) -> None:
        fold = do(self.cursor_line)
        if fold is None:
            self.post_message(Said("E490: No fold found", error=True))
            return
        self._folds_changed()
        if self.folds.is_hidden(self.cursor_line) or self.folds.fold_at(fold.start):
            self.move_to(fold.start, self.cursor_col)  # vim puts the cursor on the closed fold
        else:
            self.move_to(self.cursor_line, self.cursor_col)

    def action_fold_close(self) -> None:
        self._fold_command(self.folds.close)

    def action_fold_open(self) -> None:
        self._fold_command(self.folds.open)

    def action_fold_toggle(self) -> None:
        self._fold_command(self.folds.toggle)

    def action_fold_close_all(self) -> None:
        self.folds.close_all()
        self._folds_changed()
        line = self.cursor_line
        while self.folds.is_hidden(line):  # the cursor goes to the closed fold that hides it
            line -= 1
        self.move_to(line, self.cursor_col)

    def action_fold_open_all(self) -> None:
        self.folds.open_all()
        self._folds_changed()
        self.move_to(self.cursor_line, self.cursor_col)

    # ---- search --------------------------------------------------------------------------

    def search_for(self, text: str, forward: bool = True) -> bool:
        """`/text` (or `?text`): remember the pattern and go to the next match."""
        self.pattern = compile_pattern(text)
        self.search_forward = forward
        self.highlight_search = True
        return self._search(forward)

    def action_search_next(self, same_direction: bool) -> None:
        if self.pattern is None:
            self.post_message(Said("E35: No previous regular expression", error=True))
            return
        self.highlight_search = True
        self._search(self.search_forward if same_direction else not self.search_forward)

    def action_search_word(self, forward: bool) -> None:
        word = self.word_at_cursor()
        if not word:
            self.post_message(Said("E348: No string under cursor", error=True))
            return
        self.pattern = re.compile(rf"\b{re.escape(word)}\b")  # * is whole-word and exact case
        self.search_forward = forward
        self.highlight_search = True
        self._search(forward)

    def _search(self, forward: bool) -> bool:
        hit = search(self.lines, self.pattern, self.cursor_line, self.cursor_col, forward=forward)
        if hit is None:
            self.post_message(Said(f"E486: Pattern not found: {self.pattern.pattern}", error=True))
            self.refresh()
            return False
        if hit.wrapped:
            self.post_message(Said("search hit BOTTOM, continuing at TOP" if forward
                                        else "search hit TOP, continuing at BOTTOM"))
        self.jump_to(hit.line, hit.col)
        return True

    def clear_search_highlight(self) -> None:
        self.highlight_search = False
        self.refresh()

    # ---- keys ----------------------------------------------------------------------------

    # Every key is handled here, in the order typed (key_order.py says why): held while a file
    # opens and replayed once it is shown, handed on when the focus has moved (to the prompt `/`
    # opened), else a two-key sequence or the key's binding, run at once.

    def hold_keys(self) -> object:
        """Keep the keys typed from now on (a file is being read, a name looked up), to replay
        them in order once `release_keys` has been called with every token handed out."""
        token = object()
        self._holds.add(token)
        return token

    def release_keys(self, token: object) -> None:
        self._holds.discard(token)
        if not self._holds and self._held and not self._replaying:
            self.call_later(self._replay)

    def keys_pending(self) -> bool:
        """Keys typed but not yet acted on: held, or being replayed."""
        return bool(self._holds or self._held or self._replaying)

    async def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        self.keys_seen += 1
        # Quitting never waits behind a slow look-up; a quit key that is a character (`q`) typed
        # after other held keys may be text for a prompt they open, so it waits its turn. (The
        # quit keys are looked up only while keys wait: not on every key press.)
        if self.keys_pending() and not (event.key in self._quit_keys()
                                        and (not event.is_printable or not self._held)):
            self._held.append((event.key, event.character))
            return
        await self._handle_key(event.key, event.character)  # a key bound to nothing does nothing

    def _quit_keys(self) -> set[str]:
        """The keys that quit the app now, the user's keymap applied; Ctrl-C always (it quits
        where nothing is selected, and is never text)."""
        bound = {key for key, active in self.screen.active_bindings.items() if active.binding.action == "quit"}
        return bound | {"ctrl+c"}

    def _request_now(self, action: str) -> None:
        """gd, gr: the pane's action, run now (a message would let the next keys overtake it)."""
        for node in self.ancestors:
            method = getattr(node, f"action_{action}", None)
            if method is not None:
                method()
                return
        self.post_message(CodeRequest(action))

    async def _replay(self) -> None:
        self._replaying = True
        try:
            while self._held and not self._holds:
                key, character = self._held.pop(0)
                await self._handle_key(key, character)
        finally:
            self._replaying = False  # a new hold stopped it: its release replays the rest

    async def _handle_key(self, key: str, character: str | None) -> bool:
        if not has_focus_now(self):  # an earlier key moved the focus (/ opened the prompt): follow it
            forward_key(self.app, key, character)
            return True
        pending, self._pending = self._pending, ""
        typed = character or key
        if pending:
            target, _ = SEQUENCES[pending].get(typed, (None, ""))
            if target is None:  # not a sequence: vim beeps and forgets the first key
                return True
            if target.startswith("request:"):
                self._request_now(target.split(":", 1)[1])
            else:
                getattr(self, f"action_{target}")()
            return True
        if typed in SEQUENCES:
            self._pending = typed
            return True
        return await run_binding(self.app, key)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
