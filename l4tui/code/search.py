"""vim's `/`, `?`, `n`, `N` over the viewer's lines, with Python regexes.

The pattern is a Python regex (not vim's dialect), read the way vim reads one under
`:set ignorecase smartcase`: all lowercase means case-insensitive. Which match `n` lands on
follows vim's searchit() with its default 'cpoptions' (flag `c`): a line's matches are the
non-overlapping ones found from the start of the line, and the next one is the first whose
start is strictly after the cursor (strictly before it, backwards). So on "aaaa", `/aa` visits
column 0 and 2, never 1, as vim does.

Matching is line by line, as in vim without `\\n` in the pattern: a match never spans lines.
The lines are scanned with `map(pattern.search, ...)`, so the per-line loop runs in C: a
match 25,000 lines away is found in a few milliseconds.
"""

import re
from dataclasses import dataclass
from itertools import compress, count, islice
from typing import Iterator


@dataclass(frozen=True)
class SearchHit:
    """Where `n` puts the cursor. `wrapped`: the search went past the end of the file (or the
    start, backwards) to find it; vim then says "search hit BOTTOM, continuing at TOP"."""

    line: int
    col: int
    wrapped: bool = False


WRAP_MESSAGES = {True: "search hit BOTTOM, continuing at TOP",
                 False: "search hit TOP, continuing at BOTTOM"}  # keyed by `forward`

_ESCAPE = re.compile(r"\\N\{[^}]*\}|\\.", re.DOTALL)
_GROUP_NAME = re.compile(r"\(\?P(?:<\w+>|=\w+\))")


def has_uppercase(text: str) -> bool:
    """smartcase's test, as vim's pat_has_uppercase(): an uppercase letter outside escapes
    (`\\S`, `\\W`, `\\D`, `\\N{...}` do not count; nor do group names)."""
    return any(ch.isupper() for ch in _GROUP_NAME.sub("", _ESCAPE.sub("", text)))


def translate(text: str) -> str:
    """vim's word boundaries `\\<` and `\\>` become `\\b`; everything else is left alone."""
    return _ESCAPE.sub(lambda m: r"\b" if m.group() in (r"\<", r"\>") else m.group(), text)


def compile_pattern(text: str) -> re.Pattern:
    """The pattern typed after `/`: a Python regex with smartcase; `\\<` `\\>` mean `\\b`.

    An invalid regex (say `foo(`) is searched for literally instead of raising. An empty
    pattern matches everywhere: vim would reuse the last pattern, which is the caller's
    business (it has the history)."""
    flags = 0 if has_uppercase(text) else re.IGNORECASE
    try:
        return re.compile(translate(text), flags)
    except (re.error, OverflowError, RecursionError):
        return re.compile(re.escape(text), flags)


def _line_matches(pattern: re.Pattern, text: str) -> Iterator[tuple[int, int]]:
    """The (start, end) of the matches vim sees on a line: from column 0, each search
    continuing at the end of the previous match (one further after an empty one), and none
    once that reaches the end of the line."""
    pos, n = 0, len(text)
    while True:
        m = pattern.search(text, pos)
        if m is None:
            return
        start, end = m.span()
        yield start, end
        pos = end + 1 if end == start and end < n else end
        if pos >= n:
            return


def _cursor_col(start: int, text: str) -> int:
    """A match on the end of the line (`/$`) puts the cursor on the last character."""
    return min(start, max(0, len(text) - 1))


def _first(pattern: re.Pattern, text: str) -> int | None:
    m = pattern.search(text)
    return None if m is None else m.start()


def _last(pattern: re.Pattern, text: str, before: int | None = None) -> int | None:
    found = None
    for start, _ in _line_matches(pattern, text):
        if before is not None and start >= before:
            break
        found = start
    return found


def search(lines: list[str], pattern: re.Pattern, line: int, col: int,
           forward: bool = True, wrap: bool = True) -> SearchHit | None:
    """`n` (forward) / `N` (backward) from the cursor (line, col): the next match strictly after
    (before) it, wrapping round the end (start) of the file when `wrap` ('wrapscan'). When the
    only match is the one under the cursor, it is found again after wrapping, as in vim.
    None when there is no match (vim's "E486: Pattern not found")."""
    if not lines:
        return None
    line = max(0, min(line, len(lines) - 1))
    if forward:
        return _search_forward(lines, pattern, line, col, wrap)
    return _search_backward(lines, pattern, line, col, wrap)


def _search_forward(lines, pattern, line, col, wrap):
    text = lines[line]
    for start, _ in _line_matches(pattern, text):
        # A match on the line's end counts as one column back, where the cursor will go.
        if start - (start >= len(text)) >= col + 1:
            return SearchHit(line, _cursor_col(start, text))
    hits = compress(count(line + 1), map(pattern.search, islice(lines, line + 1, None)))
    found = next(hits, None)
    if found is None and wrap:
        hits = compress(count(0), map(pattern.search, islice(lines, 0, line + 1)))
        found = next(hits, None)
        if found is not None:
            start = _first(pattern, lines[found])
            return SearchHit(found, _cursor_col(start, lines[found]), wrapped=True)
        return None
    if found is None:
        return None
    return SearchHit(found, _cursor_col(_first(pattern, lines[found]), lines[found]))


def _search_backward(lines, pattern, line, col, wrap):
    text = lines[line]
    if col > 0:
        start = _last(pattern, text, before=col)
        if start is not None:
            return SearchHit(line, _cursor_col(start, text))
    hits = compress(count(line - 1, -1), map(pattern.search, reversed(lines[:line])))
    found = next(hits, None)
    wrapped = False
    if found is None:
        if not wrap:
            return None
        last = len(lines) - 1
        hits = compress(count(last, -1), map(pattern.search, reversed(lines[line:])))
        found = next(hits, None)
        if found is None:
            return None
        wrapped = True
    start = _last(pattern, lines[found])
    return SearchHit(found, _cursor_col(start, lines[found]), wrapped)


def matches_in_line(pattern: re.Pattern, text: str) -> list[tuple[int, int]]:
    """The (start, end) column spans to highlight on a line ('hlsearch'): the matches `n`
    visits. An empty match (`/^`, `/\\b`) is widened to one column, as vim shows it."""
    return [(start, end if end > start else start + 1) for start, end in _line_matches(pattern, text)]


def count_matches(lines: list[str], pattern: re.Pattern) -> int:
    """How many matches `n` visits in a full round of the file (the 17 of "[3/17]")."""
    total = 0
    for index in compress(count(0), map(pattern.search, lines)):
        total += sum(1 for _ in _line_matches(pattern, lines[index]))
    return total


def index_of(lines: list[str], pattern: re.Pattern, hit: SearchHit) -> int:
    """The 1-based number of the match at `hit` (the 3 of "[3/17]"): matches before it, plus
    one. 0 if `hit` is not on a match. Pair with count_matches for vim's search count."""
    number = 0
    for index in compress(count(0), map(pattern.search, islice(lines, 0, hit.line + 1))):
        text = lines[index]
        for start, _ in _line_matches(pattern, text):
            number += 1
            if index == hit.line and _cursor_col(start, text) == hit.col:
                return number
    return 0
