"""Fuzzy matching for the file finder and the symbol finder: "edb" finds EmbeddingDotBias.

A candidate matches when the query's characters appear in it in order. Among matches, the
better ones have the query's characters at word starts (after `_`, `.`, `/`, `-`, a space, at a
camelCase hump or a digit), in consecutive runs, at the very start, and are short. Smart case:
a lowercase query letter matches either case, an uppercase one only itself.

Ranking 70,000 names must take well under 100 ms in pure Python, so one regex pass over all the
candidates joined into one string rejects the non-matches in C, and only the survivors are
scored, most of them (a query found whole at a word start) without a loop over characters.
"""

import heapq
import re
from functools import lru_cache
from itertools import compress
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")

WORD_START = 3.0  # a character at a word start, the strongest hint that the user meant it
FIRST_CHAR = 2.0  # ... and more when it is the candidate's first character
CONSECUTIVE = 1.5  # the least a run of adjacent characters earns per character
GAP = 0.1  # cost of each skipped character between two matched ones (up to MAX_GAP)
LEADING_GAP = 0.05  # cost of each character before the first match (up to MAX_GAP)
MAX_GAP = 10
EXACT = 10.0
PREFIX = 3.0


def _is_word_start(text: str, i: int) -> bool:
    if i == 0:
        return True
    prev, char = text[i - 1], text[i]
    if not prev.isalnum():
        return char.isalnum()
    if prev.islower():
        return char.isupper() or char.isdigit()
    return prev.isdigit() and char.isalpha()


def _fits(hay: str, lower: str, needles: list[tuple[str, bool]], start: int) -> bool:
    """Whether the needles still appear in order from `start`."""
    for needle, exact in needles:
        start = (hay if exact else lower).find(needle, start)
        if start < 0:
            return False
        start += 1
    return True


class _Matcher:
    """One query, ready to score many candidates (its pieces are worked out once)."""

    def __init__(self, query: str):
        self.query = query
        self.folded = query.lower()
        self.smart = self.folded != query  # an uppercase letter in the query must match its case
        # Each query character as (what to look for, whether to look in the original case).
        self.needles = [(c, True) if c.isupper() else (c.lower(), False) for c in query]
        # Scores of the query found whole: at the candidate's start, at another word start,
        # or inside a word.
        m = len(query)
        self.whole_at_start = m * (1.0 + WORD_START + FIRST_CHAR)
        self.whole_at_word = m * (1.0 + WORD_START)
        self.whole_inside = 1.0 + (m - 1) * (1.0 + CONSECUTIVE)

    def score(self, candidate: str) -> float | None:
        lower = candidate.lower()
        folded = self.folded
        if not self.smart:
            # Fast path, for most matches: the query whole, best at a word start ("ten" in
            # "tensor", "max_tensor"), else wherever it is first ("content"). A scattered
            # match at word starts could beat the latter, but a name holding both is rare.
            first = i = lower.find(folded)
            if first >= 0:
                while i > 0 and not _is_word_start(candidate, i):
                    i = lower.find(folded, i + 1)
                if i == 0:
                    score = self.whole_at_start
                elif i > 0:
                    score = self.whole_at_word - LEADING_GAP * min(i, MAX_GAP)
                else:
                    score = self.whole_inside - LEADING_GAP * min(first, MAX_GAP)
                return score + self._whole_bonus(candidate, lower)
        return self._scattered(candidate, lower)

    def _scattered(self, candidate: str, lower: str) -> float | None:
        needles = self.needles
        score = 0.0
        previous = -2
        run_bonus = 0.0
        start = 0
        for t, (needle, exact) in enumerate(needles):
            hay = candidate if exact else lower
            j = hay.find(needle, start)
            if j < 0:
                return None
            word_start = _is_word_start(candidate, j)
            if j != previous + 1 and not word_start:
                # A later occurrence at a word start reads better ("edb" in EmbeddingDotBias
                # takes the D of Dot, not the d of Embedding), if the rest still fits after it.
                k = j
                while True:
                    k = hay.find(needle, k + 1)
                    if k < 0:
                        break
                    if _is_word_start(candidate, k) and _fits(candidate, lower, needles[t + 1:], k + 1):
                        j, word_start = k, True
                        break
            bonus = WORD_START if word_start else 0.0
            if j == 0:
                bonus += FIRST_CHAR
            if j == previous + 1:
                # A run keeps the bonus of the word start it began at: "emb" at the start of
                # "embedding" scores like "e_m_b" at three word starts, less the gaps.
                run_bonus = max(run_bonus, bonus)
                bonus = max(run_bonus, CONSECUTIVE)
            else:
                if previous >= 0:
                    score -= GAP * min(j - previous - 1, MAX_GAP)
                else:
                    score -= LEADING_GAP * min(j, MAX_GAP)
                run_bonus = bonus
            score += 1.0 + bonus
            previous = j
            start = j + 1
        return score + self._whole_bonus(candidate, lower)

    def _whole_bonus(self, candidate: str, lower: str) -> float:
        if lower == self.folded:
            return EXACT + (1.0 if candidate == self.query else 0.0)
        if lower.startswith(self.folded):
            return PREFIX + (0.5 if candidate.startswith(self.query) else 0.0)
        return 0.0


@lru_cache(maxsize=32)
def _matcher(query: str) -> _Matcher:
    return _Matcher(query)


def fuzzy_score(query: str, candidate: str) -> float | None:
    """How well `candidate` matches `query`: None for no match, higher for better."""
    if not query:
        return 0.0
    return _matcher(query).score(candidate)


def _prefilter(query: str, keys: list[str]) -> Iterable[int]:
    """The indexes of the keys that hold the query's characters in order, ignoring case.

    The keys are joined into one lowercase text and searched with `e[^d\\n]*d[^b\\n]*b`: the
    regex engine walks the 70,000 names in C, and a negated class never backtracks.
    """
    folded = query.lower()
    parts = [re.escape(folded[0])]
    for char in folded[1:]:
        parts.append(f"[^{re.escape(char)}\\n]*{re.escape(char)}")
    pattern = re.compile("".join(parts))
    text = "\n".join(keys).lower()
    if text.count("\n") != len(keys) - 1:  # a key with a newline in it: one search per key
        return compress(range(len(keys)), (pattern.search(key.lower()) for key in keys))
    found = []
    search, count, find = pattern.search, text.count, text.find
    pos = line = 0
    while True:
        match = search(text, pos)
        if match is None:
            return found
        line += count("\n", pos, match.start())
        found.append(line)
        end = find("\n", match.end())
        if end < 0:
            return found
        line += 1
        pos = end + 1


def fuzzy_rank(
    query: str,
    items: Iterable[T],
    key: Callable[[T], str] | None = None,
    limit: int | None = 50,
    bonus: Callable[[T], float] | None = None,
) -> list[T]:
    """The items whose key matches `query`, best first; ties go to the shorter key, then to
    the earlier item. An empty query matches nothing. `bonus(item)` is added to a match's
    score: the user's own files rank above the environment's unless those match much better."""
    if not query:
        return []
    items = items if isinstance(items, list) else list(items)
    keys = items if key is None else [key(item) for item in items]
    if not keys:
        return []
    scored = []
    score_of = _Matcher(query).score
    for i in _prefilter(query, keys):
        score = score_of(keys[i])
        if score is not None:
            if bonus is not None:
                score += bonus(items[i])
            scored.append((-score, len(keys[i]), i))
    if limit is None:
        scored.sort()
    else:
        scored = heapq.nsmallest(limit, scored)
    return [items[i] for _, _, i in scored]
