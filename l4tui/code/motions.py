"""vim's cursor motions on a list of lines: `w` `b` `e` (and `W` `B` `E`), `^`, `%`, `{` `}`.

Pure functions, no UI: each takes the viewer's `lines` (tabs already expanded) and a cursor
(line, col), both from 0, and returns where vim would put the cursor. They are transcriptions of
vim's own algorithms (`fwd_word`, `bck_word`, `end_word`, `findmatchlimit`, `findpar` in vim's
search.c / textobject.c) rather than re-inventions, because the small cases are where
re-inventions differ: a line of only blanks is not a word but an empty line is, `w` on the last
word lands on the last character, `%` ignores a bracket inside "double quotes".

vim walks a cursor that may rest on the NUL past the end of a line; here that is `col ==
len(line)`. Columns are characters (Python string indices), where vim counts bytes: the same
positions for ASCII, and the right ones for the viewer either way.
"""

from bisect import bisect_right

KEYWORD_ASCII = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
BRACKETS = {"(": ")", "[": "]", "{": "}", ")": "(", "]": "[", "}": "{"}
OPENERS = "([{"
# vim's default 'paragraphs' and 'sections': nroff macros (".PP", ".SH"...) that `{` `}` stop at.
PARAGRAPH_MACROS = "IPLPPPQPP TPHPLIPpLpItpplpipbp"
SECTION_MACROS = "SHNHH HUnhsh"


# ---- character classes ---------------------------------------------------------------------

# vim's utf_class() tables (mbyte.c), beyond Latin-1: (first, last, class). Class 1 is
# punctuation, 0 blanks, anything else a kind of word (CJK, kana, braille... each its own, so `w`
# stops where the script changes). Searched with vim's own binary search, whose result on the
# table's two overlapping entries (0x2060-0x27ff around the super/subscripts) is what vim does.
_CLASSES = [
    (0x037e, 0x037e, 1), (0x0387, 0x0387, 1), (0x055a, 0x055f, 1), (0x0589, 0x0589, 1),
    (0x05be, 0x05be, 1), (0x05c0, 0x05c0, 1), (0x05c3, 0x05c3, 1), (0x05f3, 0x05f4, 1),
    (0x060c, 0x060c, 1), (0x061b, 0x061b, 1), (0x061f, 0x061f, 1), (0x066a, 0x066d, 1),
    (0x06d4, 0x06d4, 1), (0x0700, 0x070d, 1), (0x0964, 0x0965, 1), (0x0970, 0x0970, 1),
    (0x0df4, 0x0df4, 1), (0x0e4f, 0x0e4f, 1), (0x0e5a, 0x0e5b, 1), (0x0f04, 0x0f12, 1),
    (0x0f3a, 0x0f3d, 1), (0x0f85, 0x0f85, 1), (0x104a, 0x104f, 1), (0x10fb, 0x10fb, 1),
    (0x1361, 0x1368, 1), (0x166d, 0x166e, 1), (0x1680, 0x1680, 0), (0x169b, 0x169c, 1),
    (0x16eb, 0x16ed, 1), (0x1735, 0x1736, 1), (0x17d4, 0x17dc, 1), (0x1800, 0x180a, 1),
    (0x2000, 0x200b, 0), (0x200c, 0x2027, 1), (0x2028, 0x2029, 0), (0x202a, 0x202e, 1),
    (0x202f, 0x202f, 0), (0x2030, 0x205e, 1), (0x205f, 0x205f, 0), (0x2060, 0x27ff, 1),
    (0x2070, 0x207f, 0x2070), (0x2080, 0x2094, 0x2080), (0x20a0, 0x27ff, 1),
    (0x2800, 0x28ff, 0x2800), (0x2900, 0x2998, 1), (0x29d8, 0x29db, 1), (0x29fc, 0x29fd, 1),
    (0x2e00, 0x2e7f, 1), (0x3000, 0x3000, 0), (0x3001, 0x3020, 1), (0x3030, 0x3030, 1),
    (0x303d, 0x303d, 1), (0x3040, 0x309f, 0x3040), (0x30a0, 0x30ff, 0x30a0),
    (0x3300, 0x9fff, 0x4e00), (0xac00, 0xd7a3, 0xac00), (0xf900, 0xfaff, 0x4e00),
    (0xfd3e, 0xfd3f, 1), (0xfe30, 0xfe6b, 1), (0xff00, 0xff0f, 1), (0xff1a, 0xff20, 1),
    (0xff3b, 0xff40, 1), (0xff5b, 0xff65, 1), (0x1d000, 0x1d24f, 1), (0x1d400, 0x1d7ff, 1),
    (0x1f000, 0x1f2ff, 1), (0x1f300, 0x1f9ff, 1), (0x20000, 0x2a6df, 0x4e00),
    (0x2a700, 0x2b73f, 0x4e00), (0x2b740, 0x2b81f, 0x4e00), (0x2f800, 0x2fa1f, 0x4e00),
]


def _ranges(text: str) -> list[tuple[int, int]]:
    """ "203c 2194-2199" -> [(0x203c, 0x203c), (0x2194, 0x2199)]"""
    pairs = [item.partition("-") for item in text.split()]
    return [(int(first, 16), int(last or first, 16)) for first, _, last in pairs]


# vim's emoji_all table: emoji are class 3.
_EMOJI = _ranges("""
    203c 2049 2122 2139 2194-2199 21a9-21aa 231a-231b 2328 23cf 23e9-23f3 23f8-23fa 24c2
    25aa-25ab 25b6 25c0 25fb-25fe 2600-2604 260e 2611 2614-2615 2618 261d 2620 2622-2623 2626
    262a 262e-262f 2638-263a 2640 2642 2648-2653 265f-2660 2663 2665-2666 2668 267b 267e-267f
    2692-2697 2699 269b-269c 26a0-26a1 26a7 26aa-26ab 26b0-26b1 26bd-26be 26c4-26c5 26c8
    26ce-26cf 26d1 26d3-26d4 26e9-26ea 26f0-26f5 26f7-26fa 26fd 2702 2705 2708-270d 270f 2712
    2714 2716 271d 2721 2728 2733-2734 2744 2747 274c 274e 2753-2755 2757 2763-2764 2795-2797
    27a1 27b0 27bf 2934-2935 2b05-2b07 2b1b-2b1c 2b50 2b55 3030 303d 3297 3299 1f004 1f0cf
    1f170-1f171 1f17e-1f17f 1f18e 1f191-1f19a 1f1e6-1f1ff 1f201-1f202 1f21a 1f22f 1f232-1f23a
    1f250-1f251 1f300-1f321 1f324-1f393 1f396-1f397 1f399-1f39b 1f39e-1f3f0 1f3f3-1f3f5
    1f3f7-1f4fd 1f4ff-1f53d 1f549-1f54e 1f550-1f567 1f56f-1f570 1f573-1f57a 1f587 1f58a-1f58d
    1f590 1f595-1f596 1f5a4-1f5a5 1f5a8 1f5b1-1f5b2 1f5bc 1f5c2-1f5c4 1f5d1-1f5d3 1f5dc-1f5de
    1f5e1 1f5e3 1f5e8 1f5ef 1f5f3 1f5fa-1f64f 1f680-1f6c5 1f6cb-1f6d2 1f6d5-1f6d7 1f6dc-1f6e5
    1f6e9 1f6eb-1f6ec 1f6f0 1f6f3-1f6fc 1f7e0-1f7eb 1f7f0 1f90c-1f93a 1f93c-1f945 1f947-1f9ff
    1fa70-1fa7c 1fa80-1fa88 1fa90-1fabd 1fabf-1fac5 1face-1fadb 1fae0-1fae8 1faf0-1faf8
""")
_EMOJI_STARTS = [first for first, _ in _EMOJI]


def char_class(ch: str, big: bool = False) -> int:
    """vim's `cls()`: 0 for blanks (and the end of a line, ""), 2 for keyword chars, 1 for
    punctuation, other numbers for other kinds of word (CJK, kana, emoji...).

    With `big` (W, B, E) every non-blank is class 1. Keyword chars up to 0xff are vim's default
    'iskeyword' (`@,48-57,_,192-255`); beyond, vim's utf_class() tables.
    """
    if ch == "" or ch == " " or ch == "\t" or ch == "\xa0":
        return 0
    code = ord(ch)
    if code < 0x100:
        if big:
            return 1
        if ch in KEYWORD_ASCII or code >= 0xC0 or code == 0xB5:
            return 2
        return 1
    cls = _wide_class(code)
    if cls != 0 and big:
        return 1
    return cls


def _wide_class(code: int) -> int:
    i = bisect_right(_EMOJI_STARTS, code) - 1
    if i >= 0 and code <= _EMOJI[i][1]:
        return 3
    bot, top = 0, len(_CLASSES) - 1
    while top >= bot:
        mid = (bot + top) // 2
        first, last, cls = _CLASSES[mid]
        if last < code:
            bot = mid + 1
        elif first > code:
            top = mid - 1
        else:
            return cls
    return 2


class _Cursor:
    """A position that walks the buffer like vim's inc()/dec(), stopping on each line's NUL."""

    __slots__ = ("lines", "line", "col", "big")

    def __init__(self, lines: list[str], line: int, col: int, big: bool) -> None:
        self.lines = lines if lines else [""]
        self.line = max(0, min(line, len(self.lines) - 1))
        self.col = max(0, min(col, len(self.lines[self.line])))
        self.big = big

    def cls(self) -> int:
        text = self.lines[self.line]
        return char_class(text[self.col] if self.col < len(text) else "", self.big)

    def on_empty_line(self) -> bool:
        return self.col == 0 and self.lines[self.line] == ""

    def inc(self) -> int:
        """vim's inc(): 0 moved within the line, 2 moved onto the NUL, 1 went to the next line,
        -1 already at the end of the buffer."""
        text = self.lines[self.line]
        if self.col < len(text):
            self.col += 1
            return 2 if self.col == len(text) else 0
        if self.line < len(self.lines) - 1:
            self.line += 1
            self.col = 0
            return 1
        return -1

    def dec(self) -> int:
        """vim's dec(): 0 moved within the line, 1 went to the previous line's NUL, -1 at the start."""
        if self.col > 0:
            self.col -= 1
            return 0
        if self.line > 0:
            self.line -= 1
            self.col = len(self.lines[self.line])
            return 1
        return -1

    def skip(self, cls: int, forward: bool) -> bool:
        """vim's skip_chars(): move while the class is `cls`; True when the buffer ran out."""
        while self.cls() == cls:
            if (self.inc() if forward else self.dec()) == -1:
                return True
        return False

    def off_nul(self) -> None:
        """vim's adjust_cursor(): normal mode never rests on the NUL of a non-empty line."""
        if self.col > 0 and self.col >= len(self.lines[self.line]):
            self.col = len(self.lines[self.line]) - 1

    @property
    def pos(self) -> tuple[int, int]:
        return self.line, self.col


# ---- words ---------------------------------------------------------------------------------

def word_forward(lines: list[str], line: int, col: int, big: bool = False,
                 count: int = 1) -> tuple[int, int]:
    """`w` (`W` with `big`): the start of the next word; an empty line counts as a word.

    On the last word of the file it goes to the last character (vim beeps but moves); already
    there, it stays.
    """
    cur = _Cursor(lines, line, col, big)
    start = cur.pos
    for _ in range(count):
        if not _fwd_word_once(cur):
            break
    if cur.pos > start:
        cur.off_nul()
    return cur.pos


def _fwd_word_once(cur: _Cursor) -> bool:
    start_class = cur.cls()
    last_line = cur.line == len(cur.lines) - 1
    i = cur.inc()
    if i == -1 or (i >= 1 and last_line):  # started on the last char of the file
        return False
    if start_class != 0:  # go one past the end of the current word
        while cur.cls() == start_class:
            if cur.inc() == -1:
                return False  # the end of the buffer: vim returns at once
    while cur.cls() == 0:  # then to the next non-blank; an empty line stops it
        if cur.on_empty_line():
            break
        if cur.inc() == -1:
            return False
    return True


def word_backward(lines: list[str], line: int, col: int, big: bool = False,
                  count: int = 1) -> tuple[int, int]:
    """`b` (`B` with `big`): the start of this word, or of the previous one when already there.
    Stops on empty lines; at the very start of the file it stays."""
    cur = _Cursor(lines, line, col, big)
    cur.off_nul()
    for _ in range(count):
        if cur.dec() == -1:  # started at the start of the file
            break
        if not _bck_word_rest(cur):
            break
    return cur.pos


def _bck_word_rest(cur: _Cursor) -> bool:
    """The part of vim's bck_word() after the first dec(); False when it hit the file start."""
    while cur.cls() == 0:  # skip white space before the word, stop on an empty line
        if cur.on_empty_line():
            return True
        if cur.dec() == -1:
            return False
    if cur.skip(cur.cls(), forward=False):  # back to the start of this word
        return False
    cur.inc()  # overshot: forward one
    return True


def word_end(lines: list[str], line: int, col: int, big: bool = False,
             count: int = 1) -> tuple[int, int]:
    """`e` (`E` with `big`): the end of this word, or of the next one when already there.
    Unlike `w`, empty lines are skipped. Past the last word it goes to the last character."""
    cur = _Cursor(lines, line, col, big)
    cur.off_nul()
    start = cur.pos
    for _ in range(count):
        if not _end_word_once(cur):
            break
    if cur.pos > start:
        cur.off_nul()
    return cur.pos


def _end_word_once(cur: _Cursor) -> bool:
    start_class = cur.cls()
    if cur.inc() == -1:
        return False
    if cur.cls() == start_class and start_class != 0:  # inside a word: to its end
        if cur.skip(start_class, forward=True):
            return False
    else:  # at the end of a word: skip blanks, then to the end of the next word
        while cur.cls() == 0:
            if cur.inc() == -1:
                return False
        if cur.skip(cur.cls(), forward=True):
            return False
    cur.dec()  # overshot: back one
    return True


def first_non_blank(lines: list[str], line: int) -> int:
    """`^`: the first non-blank column; on a line of only blanks, its last column (as vim)."""
    text = lines[line] if 0 <= line < len(lines) else ""
    stripped = len(text) - len(text.lstrip(" \t"))
    return min(stripped, max(0, len(text) - 1))


# ---- % -------------------------------------------------------------------------------------

def match_bracket(lines: list[str], line: int, col: int) -> tuple[int, int] | None:
    """`%`: jump from the first `()[]{}` at or after the cursor on its line to its partner.

    This is vim's findmatchlimit() with its defaults (`-u NONE`: 'matchpairs' `(:),{:},[:]`,
    'cpoptions' without `%` or `M`, no matchit), including its "smart" parts:
      - brackets inside "double quotes" are skipped, but only on lines with an even number of `"`
        (vim does not know which part of an odd line is quoted); a bracket in the same quotes as
        the starting one still counts when the search has not crossed a quote yet;
      - a bracket in single quotes like `'('` or `'\\('` is skipped;
      - a bracket after an odd number of backslashes only matches an equally escaped one.
    vim does not know Python: a bracket in a # comment or a 'single-quoted string' still counts.
    Deviation: vim's `%` also jumps between C's `/* */` and `#if`/`#else`/`#endif` lines (which a
    Python comment such as `# else ...` can look like); that is left out here.
    None when the rest of the line has no bracket or the bracket has no partner.
    """
    if not lines or not 0 <= line < len(lines):
        return None
    text = lines[line]
    if col >= len(text) and col > 0:
        col = len(text) - 1
    start = next((i for i in range(max(0, col), len(text)) if text[i] in BRACKETS), None)
    if start is None:
        return None
    initc = text[start]
    findc = BRACKETS[initc]
    backwards = initc not in OPENERS
    match_escaped = _backslashes_before(text, start) & 1
    return _find_match(lines, line, start, initc, findc, backwards, match_escaped)


def _backslashes_before(text: str, col: int) -> int:
    count = 0
    while col - count - 1 >= 0 and text[col - count - 1] == "\\":
        count += 1
    return count


def _find_match(lines, lnum, col, initc, findc, backwards, match_escaped):
    """The loop of vim's findmatchlimit(), for brackets only (see match_bracket)."""
    MAYBE = None
    linep = lines[lnum]
    count = 0
    do_quotes = -1  # -1: not yet computed for this line; 1: even number of quotes, honour them
    start_in_quotes = MAYBE
    inquote = False
    last = len(lines) - 1
    while True:
        if backwards:
            if col == 0:
                if lnum == 0:
                    return None
                lnum -= 1
                linep = lines[lnum]
                col = len(linep)  # on the NUL
                do_quotes = -1
            else:
                col -= 1
        else:
            if col >= len(linep):
                if lnum == last:
                    return None
                lnum += 1
                linep = lines[lnum]
                col = 0
                do_quotes = -1
            else:
                col += 1

        if do_quotes == -1:
            # Count the quotes in the line, skipping \" and '"'.
            quotes = -1
            at_start = quotes
            i, n = 0, len(linep)
            target = col + (1 if backwards else 0)
            while i < n:
                if i == target:
                    at_start = quotes & 1
                ch = linep[i]
                if ch == '"' and (i == 0 or linep[i - 1] != "'" or i + 1 >= n or linep[i + 1] != "'"):
                    quotes += 1
                if ch == "\\" and i + 1 < n:
                    i += 1
                i += 1
            do_quotes = quotes & 1  # 1 with an even number of quotes
            if not do_quotes:
                # An odd count: only a line (or the previous one) ending in "\" says where we are.
                inquote = False
                if linep.endswith("\\"):
                    do_quotes = 1
                    if start_in_quotes is MAYBE:
                        inquote = True
                        start_in_quotes = True
                    elif backwards:
                        inquote = True
                if lnum > 0 and lines[lnum - 1].endswith("\\"):
                    do_quotes = 1
                    if start_in_quotes is MAYBE:
                        inquote = bool(at_start)
                        if inquote:
                            start_in_quotes = True
                    elif not backwards:
                        inquote = True
        if start_in_quotes is MAYBE:
            start_in_quotes = False

        c = linep[col] if col < len(linep) else ""
        if c == "":
            if col == 0 or linep[col - 1] != "\\":
                inquote = False
                start_in_quotes = False
        elif c == '"':
            if do_quotes and _backslashes_before(linep, col) % 2 == 0:
                inquote = not inquote
                start_in_quotes = False
        elif c == "'":
            # Skip 'x' and '\x' (but not "jon's"). vim looks at bytes, so the x must be ASCII.
            if backwards:
                if col > 1 and linep[col - 1].isascii():
                    if linep[col - 2] == "'":
                        col -= 2
                    elif linep[col - 2] == "\\" and col > 2 and linep[col - 3] == "'":
                        col -= 3
            elif col + 1 < len(linep):
                if (linep[col + 1] == "\\" and col + 3 < len(linep) and linep[col + 2].isascii()
                        and linep[col + 3] == "'"):
                    col += 3
                elif col + 2 < len(linep) and linep[col + 1].isascii() and linep[col + 2] == "'":
                    col += 2
        elif (c == initc or c == findc) and (not inquote or start_in_quotes is True):
            if _backslashes_before(linep, col) & 1 == match_escaped:
                if c == initc:
                    count += 1
                elif count == 0:
                    return lnum, col
                else:
                    count -= 1


# ---- paragraphs ----------------------------------------------------------------------------

def _in_macro(option: str, rest: str) -> bool:
    """vim's inmacro(): is `rest` (a line after its ".") one of the two-letter nroff macros?"""
    s0 = rest[0] if rest else ""
    s1 = rest[1] if len(rest) > 1 else ""
    for k in range(0, len(option), 2):
        m0, m1 = option[k], option[k + 1] if k + 1 < len(option) else ""
        if (m0 == s0 or (m0 == " " and s0 in ("", " "))) and (
                m1 == s1 or (m1 in ("", " ") and (s0 == "" or s1 in ("", " ")))):
            return True
    return False


def _para_boundary(text: str) -> bool:
    """vim's startPS() for `{` `}`: an empty line (not one of blanks), a form feed, a macro."""
    if text == "" or text[0] == "\f":
        return True
    return text[0] == "." and (_in_macro(SECTION_MACROS, text[1:]) or _in_macro(PARAGRAPH_MACROS, text[1:]))


def paragraph_forward(lines: list[str], line: int, col: int = 0, count: int = 1) -> tuple[int, int]:
    """`}`: the next empty line after some non-empty ones (lines of blanks are not empty);
    past the last paragraph, the last character of the file. vim counts `}` as a jump."""
    return _findpar(lines, line, col, 1, count)


def paragraph_backward(lines: list[str], line: int, col: int = 0, count: int = 1) -> tuple[int, int]:
    """`{`: the previous empty line before some non-empty ones; else the first line."""
    return _findpar(lines, line, col, -1, count)


def _findpar(lines: list[str], line: int, col: int, direction: int, count: int) -> tuple[int, int]:
    """vim's findpar() for `{` `}` (no 'cpoptions' `{` flag)."""
    if not lines:
        return 0, 0
    start = line = max(0, min(line, len(lines) - 1))
    for remaining in range(count - 1, -1, -1):
        did_skip = False
        first = True
        while True:
            if lines[line] != "":
                did_skip = True
            if not first and did_skip and _para_boundary(lines[line]):
                break
            first = False
            line += direction
            if not 0 <= line < len(lines):
                if remaining:  # vim fails the whole motion when a count runs out early
                    return start, col
                line -= direction
                break
    if line == len(lines) - 1:  # vim 9.0 does this for `{` too (in a one-line file)
        return line, max(0, len(lines[line]) - 1)
    return line, 0
