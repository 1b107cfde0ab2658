"""Tokens per second of l4tui's tokenizer, against fastai 2.8's default tokenizer (spaCy).

    python bench/tokenize.py [--tokens 1000000] [--seed 0] [--workers N]

Makes a corpus of review-like texts deterministically (sentences put together from word lists:
a Zipf-distributed vocabulary of common words and made-up names, contractions, capitals, ALL
CAPS, numbers, punctuation, <br /> breaks, repeated letters and words), then times:

- all cores: `tokenize_many`, worker start-up included, caches empty;
- one process: `tokenize` on each text in a loop, first with an empty cache (a corpus's first
  pass), then again (a second pass: the runs of characters it has kept are seen again; the
  cache keeps 100,000 of them).

The anchor is fastai 2.8's `Tokenizer` (spaCy) at about 57,000 tokens/s in one process on a
2-core machine; the ratios below are to that figure. Prints figures; asserts nothing.
"""

import sys
from pathlib import Path

# This file is named like the standard library's `tokenize` (which linecache, traceback and
# others import): take its folder off the import path before anything else is imported.
REPO = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

import argparse  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from itertools import accumulate  # noqa: E402

FASTAI_TOKENS_PER_S = 57_000

COMMON = ("the a and of to is in it that this was i for with as but on movie film not his you are have "
          "be one all at by an who so from like her they there just about if out has what some good can "
          "more when very up time no even my would which story only really see their had me well were "
          "than much get bad been people will other also into do first because great how him most made "
          "its then make way could them any after too characters think watch character films two seen "
          "many being life plot acting never love little best where over did show know off ever does "
          "better end your still man here these scene say scenes go why something while though real "
          "years actors through back thing watching director now doesn't didn't funny nothing new actually "
          "work before old another makes going same lot few look part find every cast us quite world want "
          "horror pretty things seems young around got enough fact however take both big long thought "
          "series give may music without action between must right original saw always times whole gets "
          "come isn't almost role point interesting least done far bit guess minutes script performance").split()
SYLLABLES = ("ka ri to mo na shi lu ve den bar cor el fin gra hol jas kel lim nor pel quin ros sal tam "
             "vor wil zen").split()
PUNCT_AFTER = [",", ",", ",", ".", "!", "?", ";", ":", "...", "!!", "'s"]
CONTRACTIONS = ["don't", "it's", "I'm", "can't", "won't", "isn't", "you're", "they're", "I've", "that's",
                "wasn't", "I'd", "couldn't", "there's", "he's", "she's", "we're", "let's", "aren't", "you'll"]
NUMBERS = ["10/10", "1/10", "3.5", "7", "10,000", "1980s", "'80s", "2", "90", "$15", "5%", "#1", "20", "1999"]


def make_corpus(n_tokens: int, seed: int) -> list[str]:
    """Review-like texts, about n_tokens tokens in all, the same for the same seed."""
    rng = random.Random(seed)
    made_up = ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 5))) for _ in range(100_000)]
    vocab = COMMON + made_up
    cum_weights = list(accumulate(1 / (rank + 1) for rank in range(len(vocab))))  # Zipf, like real text
    texts, total = [], 0
    while total < n_tokens:
        sentences = []
        for _ in range(rng.randint(3, 14)):
            words = rng.choices(vocab, cum_weights=cum_weights, k=rng.randint(4, 22))
            for i, word in enumerate(words):
                r = rng.random()
                if r < 0.06:
                    words[i] = rng.choice(CONTRACTIONS)
                elif r < 0.09:
                    words[i] = word.capitalize()  # names, titles
                elif r < 0.10:
                    words[i] = word.upper()
                elif r < 0.12:
                    words[i] = rng.choice(NUMBERS)
                elif r < 0.14:
                    words[i] = word + rng.choice(PUNCT_AFTER)
                elif r < 0.15:
                    words[i] = f"{word}-{rng.choice(vocab)}"
                elif r < 0.155:
                    words[i] = f'"{word}"' if rng.random() < 0.5 else f"({word})"
                elif r < 0.1597:
                    words[i] = word + word[-1] * rng.randint(2, 5)  # "sooooo"
                elif r < 0.16:  # rare, as in real reviews
                    words[i] = " ".join([word] * rng.randint(4, 6))
            words[0] = words[0].capitalize()
            sentences.append(" ".join(words) + rng.choice([".", ".", ".", "!", "?", "...", "!!!"]))
        text = " ".join(sentences)
        if rng.random() < 0.5:
            cut = text.find(". ", len(text) // 2)
            if cut > 0:
                text = text[:cut + 1] + "<br /><br />" + text[cut + 2:]
        texts.append(text)
        total += int(len(text.split()) * 1.25)  # a rough guess; the real count is measured below
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1_000_000, help="corpus size, about (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(),
                        help=f"processes for tokenize_many (default: every core, {os.cpu_count()} here)")
    args = parser.parse_args()

    texts = make_corpus(args.tokens, args.seed)
    print(f"corpus: {len(texts):,} texts, {sum(map(len, texts)):,} characters (seed {args.seed})")

    from l4tui.data import tokenizer

    # All cores first, while this process's cache is empty: forked workers would inherit it.
    started = time.perf_counter()
    many = tokenizer.tokenize_many(texts, n_workers=args.workers)
    parallel = time.perf_counter() - started

    started = time.perf_counter()
    tokens = [tokenizer.tokenize(text) for text in texts]
    cold = time.perf_counter() - started
    started = time.perf_counter()
    for text in texts:
        tokenizer.tokenize(text)
    warm = time.perf_counter() - started
    if many != tokens:
        print("warning: tokenize_many disagrees with tokenize")

    n_tokens = sum(map(len, tokens))
    distinct = len(set().union(*map(set, tokens)))
    runs = len(set().union(*(text.split() for text in texts)))
    print(f"        {n_tokens:,} tokens, {distinct:,} distinct tokens, {runs:,} distinct space-separated words")

    def line(what: str, seconds: float) -> str:
        rate = n_tokens / seconds
        return f"{what:<52} {seconds:6.2f} s {rate:>12,.0f} tokens/s  {rate / FASTAI_TOKENS_PER_S:5.1f}x fastai"

    print(line("one process, first pass (empty cache)", cold))
    print(line("one process, second pass (warm cache)", warm))
    print(line(f"tokenize_many, {args.workers} processes (start-up included)", parallel))
    print(f"(fastai 2.8 + spaCy, one process: about {FASTAI_TOKENS_PER_S:,} tokens/s on a 2-core machine)")


if __name__ == "__main__":
    main()
