"""Finding what the user typed among movies, users, tokens or a column's categories.

    movies = NameList("movie", titles, ids=["", "1", "2", ...])    # one label (and id) per row
    users = NameList("user", ["#na#", "user 1", ...], ids=["", "1", ...])
    found = find_name("mountain", [movies, users], current="movie")
    found.match        # the one meant, or None
    found.choices      # several fit and none stands out: the user picks one
    found.message      # nothing fits: one line saying so and what to type

One function serves the embeddings screen and the Model pane alike, so a name that works in one
works in the other. In order:
1. the label itself ("Star Wars (1977)", "the");
2. a kind and an id or a name, whatever the current kind: `user 42`, `u42`, `movie 50`, `m50`,
   `movie star wars`, `token the`;
3. a bare id of the current kind ("42" among the users);
4. the label ignoring case;
5. fuzzy, with the file finder's matcher (`l4tui.code.fuzzy`): when exactly one label holds every
   word typed ("the wild mountain", "star wars"), or exactly one label matches at all, it is
   meant; otherwise the matches, best first, are the choices. An ambiguous name is never
   settled by picking one of them silently.
"""

import re
from dataclasses import dataclass, field
from typing import Sequence

from l4tui.code.fuzzy import fuzzy_rank, fuzzy_score

CHOICES = 30  # at most this many choices: past that, typing more narrows faster than scrolling
PLURALS = {"movie": "movies", "user": "users", "token": "tokens", "category": "categories"}
# What the user may type before an id or a name to say which kind it is.
PREFIXES = {"user": "user", "users": "user", "movie": "movie", "movies": "movie", "item": "movie",
            "token": "token", "word": "token", "category": "category"}
SHORT_PREFIXES = {"u": "user", "m": "movie", "i": "movie"}  # only before digits: "u42", "m 50"
_LONG = re.compile(r"^(%s)\s*:?\s+(.+)$|^(%s)(\d+)$" % ("|".join(PREFIXES), "|".join(PREFIXES)), re.IGNORECASE)
_SHORT = re.compile(r"^([umi])\s*:?\s*(\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class NameList:
    """The names of one kind of thing, one per embedding row."""
    kind: str  # "movie", "user", "token" or "category"
    labels: list[str]  # per row, as shown
    ids: list[str] | None = None  # per row, the id a user types ("42"); None: labels only
    skip: frozenset = frozenset()  # rows that are never meant (#na#, padding)

    @property
    def plural(self) -> str:
        return PLURALS.get(self.kind, self.kind + "s")

    def rows(self) -> list[int]:
        return [row for row in range(len(self.labels)) if row not in self.skip]


@dataclass(frozen=True)
class Match:
    kind: str
    row: int
    label: str
    id: str | None = None

    def describe(self) -> str:
        """The label, and the id when the label does not already say it."""
        if self.id and self.id not in self.label:
            return f"{self.label} ({self.kind} {self.id})"
        return self.label


@dataclass
class Found:
    query: str
    match: Match | None = None
    choices: list[Match] = field(default_factory=list)
    message: str = ""
    total: int = 0  # how many matched: more than the choices when they were cut to the limit

    def choices_title(self) -> str:
        """`41 movies match 'mountain' (the best 30)`: the picker's title."""
        if not self.choices:
            return ""
        kind = self.choices[0].kind
        total = max(self.total, len(self.choices))
        what = f"{total} {PLURALS.get(kind, kind + 's') if total != 1 else kind} match {self.query!r}"
        return what + (f" (the best {len(self.choices)})" if total > len(self.choices) else "")

    @property
    def ambiguous(self) -> bool:
        return self.match is None and bool(self.choices)


def _match(names: NameList, row: int) -> Match:
    return Match(names.kind, row, names.labels[row], names.ids[row] if names.ids else None)


def _by_kind(lists: Sequence[NameList], kind: str) -> NameList | None:
    return next((names for names in lists if names.kind == kind), None)


def split_prefix(text: str) -> tuple[str | None, str]:
    """("user", "42") for `user 42`, `u42`, `User: 42`; (None, text) when no kind is named."""
    text = text.strip()
    short = _SHORT.match(text)
    if short:
        return SHORT_PREFIXES[short.group(1).lower()], short.group(2)
    long = _LONG.match(text)
    if long:
        word, rest = (long.group(1), long.group(2)) if long.group(1) else (long.group(3), long.group(4))
        return PREFIXES[word.lower()], rest.strip()
    return None, text


def find_name(query: str, lists: Sequence[NameList], current: str | None = None, limit: int = CHOICES) -> Found:
    """What `query` names among `lists`, looked for in the list of kind `current` (the first list
    when None) unless the query names a kind. See the module's docstring for the order."""
    text = " ".join(str(query).split())
    if not lists:
        return Found(text, message="nothing to look in")
    names = _by_kind(lists, current) if current else None
    names = names or lists[0]
    if not text:
        return Found(text, message=f"type a {names.kind}: part of its name is enough")
    exact = _exact(names, text)
    if exact is not None:
        return exact
    kind, rest = split_prefix(text)
    if kind is not None:
        named = _by_kind(lists, kind)
        if named is None:
            return Found(text, message=f"there are no {PLURALS.get(kind, kind)} here; "
                                       f"these are {', '.join(n.plural for n in lists)}")
        names, text = named, rest
        exact = _exact(names, text)
        if exact is not None:
            return exact
    if text.isdigit() and names.ids is not None:
        row = _row_of_id(names, text)
        if row is not None:
            return Found(query, match=_match(names, row))
        return Found(query, message=f"no {names.kind} {text} among the {len(names.rows()):,} {names.plural} "
                                    f"this model learned")
    return _fuzzy(query, text, names, limit)


def _exact(names: NameList, text: str) -> Found | None:
    """The label typed exactly (several rows with that label: the choices), then ignoring case."""
    for same in ([r for r in names.rows() if names.labels[r].strip() == text],
                 [r for r in names.rows() if names.labels[r].strip().casefold() == text.casefold()]):
        if len(same) == 1:
            return Found(text, match=_match(names, same[0]))
        if same:
            return Found(text, choices=[_match(names, r) for r in same], total=len(same))
    return None


def _row_of_id(names: NameList, text: str) -> int | None:
    wanted = text.lstrip("0") or "0"
    return next((r for r in names.rows() if (names.ids[r] or "").lstrip("0") == wanted and names.ids[r]), None)


def _fuzzy(query: str, text: str, names: NameList, limit: int) -> Found:
    rows = names.rows()
    labels = names.labels
    ranked = fuzzy_rank(text, rows, key=lambda r: labels[r], limit=None)
    # Every word typed, in any order and wherever it is: "the wild mountain" is
    # "Wild Mountain, The (1975)" too, which the characters in order never reach.
    words = text.casefold().split()
    holding = [r for r in rows if all(word in labels[r].casefold() for word in words)]
    if len(holding) == 1:
        return Found(query, match=_match(names, holding[0]))
    if not holding and not ranked and len(words) > 1:
        ranked = _all_words_fuzzy(words, rows, labels)
    if len(ranked) == 1 and not holding:
        return Found(query, match=_match(names, ranked[0]))
    first = set(holding)
    order = [r for r in ranked if r in first] + [r for r in holding if r not in set(ranked)]
    order += [r for r in ranked if r not in first]
    if not order:
        return Found(query, message=f"no {names.kind} matches {text!r} among the {len(rows):,} {names.plural}")
    return Found(query, choices=[_match(names, r) for r in order[:limit]], total=len(order))


def _all_words_fuzzy(words: list[str], rows: list[int], labels: list[str]) -> list[int]:
    """The rows whose label fuzzy-matches each word on its own, best total score first."""
    scored = []
    for row in fuzzy_rank(words[0], rows, key=lambda r: labels[r], limit=None):
        scores = [fuzzy_score(word, labels[row]) for word in words]
        if all(score is not None for score in scores):
            scored.append((-sum(scores), len(labels[row]), row))
    return [row for *_, row in sorted(scored)]
