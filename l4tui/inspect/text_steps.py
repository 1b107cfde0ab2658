"""The lesson's text steps, for the inspector: text -> tokens -> ids, the vocab, an LM batch.

    cells = token_cells(tokenize(text), vocab)   # each token, its id, what kind it is
    rules_fired(text)                            # which of fastai's rules changed this text
    figures = vocab_figures(token_lists, max_vocab=60000, min_freq=3)
    figures = vocab_figures_of_counts(count_corpus(texts), ...)   # a big corpus, see corpus_counts
    x, y = lm_batch(ids_of_texts, bs=4, bptt=8)  # y is x moved one token on
"""

from collections import Counter
from dataclasses import dataclass

import numpy as np

from l4tui.data import tokenizer
from l4tui.data.vocab import Vocab, count_tokens

# What each special token means, in the words a learner of lesson 4 needs.
SPECIAL_MEANINGS = {
    "xxbos": "beginning of stream: a new text starts here",
    "xxunk": "unknown: a word too rare to be in the vocab",
    "xxpad": "padding: fills shorter texts up to the batch's length",
    "xxeos": "end of stream",
    "xxfld": "a new field of the text (title, body ...)",
    "xxmaj": "the next word started with a capital (all words are lowercased)",
    "xxup": "the next word was in CAPITALS",
    "xxrep": "a character repeated: xxrep 4 o is 'oooo'",
    "xxwrep": "a word repeated: xxwrep 3 very is 'very very very'",
    "xxfake": "padding of the vocab to a multiple of 8 (never in a text)",
}

# fastai's rules on the raw string, in their order; the case rules work on whole words after them.
STRING_RULES = [("fix_html", tokenizer.fix_html), ("replace_rep", tokenizer.replace_rep),
                ("replace_wrep", tokenizer.replace_wrep), ("spec_add_spaces", tokenizer.spec_add_spaces),
                ("rm_useless_spaces", tokenizer.rm_useless_spaces)]


@dataclass(frozen=True)
class TokenCell:
    token: str
    id: int
    kind: str  # "special", "unknown" (becomes xxunk) or "word"
    meaning: str  # for special tokens; "" otherwise


def token_cells(tokens: list[str], vocab: Vocab) -> list[TokenCell]:
    cells = []
    for token, token_id in zip(tokens, vocab.numericalize(tokens)):
        if token in SPECIAL_MEANINGS:
            cells.append(TokenCell(token, token_id, "special", SPECIAL_MEANINGS[token]))
        elif token_id == 0:
            cells.append(TokenCell(token, token_id, "unknown", SPECIAL_MEANINGS["xxunk"]))
        else:
            cells.append(TokenCell(token, token_id, "word", ""))
    return cells


def rules_fired(text: str) -> list[str]:
    """The names of fastai's rules that changed `text`, in the order they run."""
    fired = []
    for name, rule in STRING_RULES:
        changed = rule(text)
        if changed != text:
            fired.append(name)
        text = changed
    # The case rules, decided per word exactly as the tokenizer decides them.
    markers = {tokenizer._analyse_run(word)[0] for word in text.split()}
    if tokenizer.TK_UP in markers:
        fired.append("replace_all_caps")
    if tokenizer.TK_MAJ in markers:
        fired.append("replace_maj")
    fired.append("lowercase")  # always: it also puts xxbos in front
    return fired


BATCH_CHARS = 300_000  # of the corpus's first texts, tokenized for the Text screen's LM batch


def first_tokens(texts: list[str], chars: int = BATCH_CHARS) -> list[list[str]]:
    """The tokens of the corpus's first texts, about `chars` characters of them: enough for the
    LM batches shown, and quick even when one text is the whole corpus."""
    token_lists, used = [], 0
    for text in texts:
        if used >= chars:
            break
        token_lists.append(tokenizer.tokenize(text[:chars - used]))
        used += len(text)
    return token_lists


def vocab_figures(token_lists: list[list[str]], max_vocab: int = 60000, min_freq: int = 3) -> dict:
    """The vocab fastai would build from these texts, and how much of them it covers:
    Vocab.coverage's figures plus the vocab itself and each token's count."""
    return vocab_figures_of_counts(count_tokens(token_lists), max_vocab, min_freq)


def vocab_figures_of_counts(counts: Counter[str], max_vocab: int = 60000, min_freq: int = 3) -> dict:
    """vocab_figures from a corpus's token counts (count_tokens, or corpus_counts.count_corpus)."""
    vocab = Vocab.from_counts(counts, max_vocab=max_vocab, min_freq=min_freq)
    figures = vocab.coverage_of_counts(counts)
    figures.update(vocab=vocab, counts=counts, max_vocab=max_vocab, min_freq=min_freq)
    return figures


def lm_batch(docs: list[list[int]], bs: int = 4, bptt: int = 8, index: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Batch `index` of a language model's data, as fastai's LMDataLoader makes it (without the
    shuffling): all texts joined into one stream, cut into `bs` rows of equal length, read
    `bptt` tokens at a time. y is x moved on by one token: each position's target is the next word."""
    stream = np.concatenate([np.asarray(doc, dtype=np.int64) for doc in docs]) if docs else np.zeros(0, np.int64)
    row_length = (len(stream) - 1) // bs
    if row_length < 1:
        raise ValueError(f"{len(stream)} tokens are too few for {bs} rows")
    rows = stream[:row_length * bs + 1]
    x_rows = np.stack([rows[i * row_length:(i + 1) * row_length] for i in range(bs)])
    y_rows = np.stack([rows[i * row_length + 1:(i + 1) * row_length + 1] for i in range(bs)])
    start = index * bptt
    if start >= row_length:
        raise ValueError(f"batch {index} is past the end ({(row_length + bptt - 1) // bptt} batches)")
    return x_rows[:, start:start + bptt], y_rows[:, start:start + bptt]
