"""The vocab of the text models: token <-> id, built the way fastai 2.8's `make_vocab` builds it.

    vocab = Vocab.build(token_lists)            # min_freq=3, max_vocab=60000, as fastai
    ids = vocab.numericalize(tokens)            # unknown words -> 0 (xxunk)
    vocab.textify(ids)                          # back to tokens
    vocab.coverage(token_lists)                 # how much of a corpus the vocab covers
    Vocab.from_counts(counts); vocab.coverage_of_counts(counts)   # the same from token counts
    vocab.save(path); Vocab.load(path)          # JSON, never pickle

fastai's rules, kept exactly so that a vocab matches one fastai builds from the same tokens
(and so the embedding sizes of the models match): count the tokens; take the `max_vocab` most
frequent (ties: the token seen first comes first) and keep those seen at least `min_freq` times;
put the special tokens first, in fastai's order; cut to `max_vocab`; then pad with ``xxfake``
to a multiple of 8 (for fast matrix products on GPUs). Like fastai, the padding is
``8 - len % 8`` tokens: 8 of them when the length is already a multiple of 8, so a vocab can
have up to max_vocab + 8 entries. ``xxfake`` never gets an id of its own: it numericalizes to 0.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import repeat
from pathlib import Path

from l4tui.data.errors import DataError
from l4tui.data.tokenizer import SPECIAL_TOKENS  # xxunk first: unknown words get id 0

FAKE = "xxfake"  # fastai's padding token
FORMAT = "l4tui-vocab"  # the "format" field of a saved vocab
_MAX_FILE_BYTES = 200_000_000  # far above any real vocab; a bigger file is not a vocab


class Vocab:
    """Tokens in id order (`itos`) and the way back (`stoi`); id 0 is xxunk."""

    def __init__(self, itos: Sequence[str]):
        itos = list(itos)
        problem = _problem_with(itos)
        if problem:
            raise ValueError(f"not a vocab: {problem}")
        self.itos = itos
        # fastai: defaultdict(int, {v: k for k, v in enumerate(vocab) if v != 'xxfake'})
        self.stoi = {token: i for i, token in enumerate(itos) if token != FAKE}

    @classmethod
    def build(cls, token_lists: Iterable[Iterable[str]], max_vocab: int = 60000, min_freq: int = 3) -> Vocab:
        """fastai's make_vocab over the tokens of every text (see the module's docstring)."""
        return cls.from_counts(count_tokens(token_lists), max_vocab=max_vocab, min_freq=min_freq)

    @classmethod
    def from_counts(cls, counts: Counter[str], max_vocab: int = 60000, min_freq: int = 3) -> Vocab:
        """make_vocab from token counts made in the order the tokens were first seen (a Counter
        updated text after text), so that ties come out as they do from the texts themselves."""
        if max_vocab < len(SPECIAL_TOKENS):
            raise ValueError(f"max_vocab must be at least {len(SPECIAL_TOKENS)} (the special tokens)")
        # most_common is a stable sort by count: ties keep the order tokens were first seen in.
        itos = [token for token, count in counts.most_common(max_vocab) if count >= min_freq]
        special = set(SPECIAL_TOKENS)
        itos = SPECIAL_TOKENS + [token for token in itos if token not in special]
        itos = itos[:max_vocab]
        return cls(itos + [FAKE] * (8 - len(itos) % 8))

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __repr__(self) -> str:
        return f"Vocab({len(self)} tokens: {' '.join(self.itos[9:14])} ...)"

    def numericalize(self, tokens: Iterable[str]) -> list[int]:
        """The id of each token; 0 (xxunk) for a token that is not in the vocab."""
        return list(map(self.stoi.get, tokens, repeat(0)))

    def textify(self, ids: Iterable[int]) -> list[str]:
        """The token of each id (ints, or a numpy/torch integer array)."""
        itos, size = self.itos, len(self.itos)
        tokens = []
        for i in ids:
            i = int(i)
            if not 0 <= i < size:
                raise ValueError(f"id {i} is outside this vocab (0 to {size - 1})")
            tokens.append(itos[i])
        return tokens

    def coverage(self, token_lists: Iterable[Iterable[str]], top_unknown: int = 10) -> dict:
        """How well this vocab covers a corpus, for the inspector:

        tokens: tokens in the corpus; unknown: how many become xxunk (not in the vocab, or
        xxunk itself); unknown_rate: their share; covered: 1 - unknown_rate; distinct: distinct
        tokens in the corpus; distinct_in_vocab: how many of those the vocab has; vocab_size;
        top_unknown: the most frequent unknown tokens, [(token, count)]."""
        return self.coverage_of_counts(count_tokens(token_lists), top_unknown)

    def coverage_of_counts(self, counts: Counter[str], top_unknown: int = 10) -> dict:
        """`coverage` from a corpus's token counts (see count_tokens)."""
        total = sum(counts.values())
        unknown = Counter({token: n for token, n in counts.items() if self.stoi.get(token, 0) == 0})
        n_unknown = sum(unknown.values())
        rate = n_unknown / total if total else 0.0
        return {
            "tokens": total,
            "unknown": n_unknown,
            "unknown_rate": rate,
            "covered": 1.0 - rate if total else 0.0,
            "distinct": len(counts),
            "distinct_in_vocab": sum(1 for token in counts if token in self.stoi),
            "vocab_size": len(self),
            "top_unknown": unknown.most_common(top_unknown),
        }

    def save(self, path) -> None:
        """Write the vocab as JSON; atomically, so a reader never sees half a file."""
        path = Path(path)
        text = json.dumps({"format": FORMAT, "version": 1, "itos": self.itos}, ensure_ascii=False)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path) -> Vocab:
        """Read a vocab written by `save` (a bare JSON list of tokens is accepted too).

        Anything else (missing, a folder, not UTF-8, not JSON, the wrong shape, no special tokens
        first) raises DataError, a ValueError whose message names the file and what is wrong."""
        path = Path(path)
        expected = "a vocab saved by l4tui (JSON)"
        if not path.exists():
            raise DataError(path, "no such file", f"check the path; expected {expected}")
        if path.is_dir():
            raise DataError(path, "is a folder", f"expected {expected}")
        if path.stat().st_size > _MAX_FILE_BYTES:
            raise DataError(path, f"is too big for a vocab ({path.stat().st_size:,} bytes)",
                            f"expected {expected}")
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except OSError as error:
            raise DataError(path, f"cannot be read: {error.strerror or error}") from None
        except UnicodeDecodeError as error:
            raise DataError(path, f"is not UTF-8 text (byte {error.start})", f"expected {expected}") from None
        except json.JSONDecodeError as error:
            raise DataError(path, f"is not JSON: {error.msg}", f"expected {expected}", line=error.lineno) from None
        if isinstance(data, dict):
            if data.get("format") != FORMAT or "itos" not in data:
                raise DataError(path, "is JSON but not a vocab (no \"format\": \"l4tui-vocab\" and \"itos\")",
                                f"expected {expected}")
            data = data["itos"]
        if not isinstance(data, list):
            raise DataError(path, f"holds a JSON {type(data).__name__}, not a list of tokens",
                            f"expected {expected}")
        problem = _problem_with(data)
        if problem:
            raise DataError(path, f"is not a vocab: {problem}", f"expected {expected}")
        return cls(data)


def count_tokens(token_lists: Iterable[Iterable[str]]) -> Counter[str]:
    """How often each token occurs, in the order the tokens were first seen."""
    counts: Counter[str] = Counter()
    for tokens in token_lists:
        counts.update(tokens)
    return counts


def _problem_with(itos: list) -> str:
    """What is wrong with a token list as a vocab, or "" if nothing."""
    for token in itos:
        if not isinstance(token, str) or not token:
            return f"the tokens must be non-empty strings, and {token!r} is not"
    if itos[:len(SPECIAL_TOKENS)] != SPECIAL_TOKENS:
        return f"it must start with the special tokens {' '.join(SPECIAL_TOKENS)}"
    seen: set[str] = set()
    for token in itos:
        if token in seen and token != FAKE:
            return f"{token!r} is in it twice"
        seen.add(token)
    return ""

