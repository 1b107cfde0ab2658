"""Text from the language model, a word at a time, as lesson 4 makes it:

    TEXT = "I liked this movie because"
    learn.predict(TEXT, N_WORDS, temperature=0.75)

    generate(model, vocab, "I liked this movie because", n_words=20, temperature=0.75, seed=0)
    next_word_candidates(model, vocab, "My favourite actor is Tom", k=10)

The language model only ever predicts the next token: a probability for each token of the
vocab. Generating is doing that over and over: pick a token from those probabilities, add it to
the text, predict again. How the pick is made changes the text a lot:

  temperature  divides the scores (logits) before the softmax: below 1 the likely tokens get
               likelier (safer, duller text), above 1 the unlikely ones get a chance (wilder text).
               0 means always the likeliest token (greedy; the same text every time).
               fastai raises the probabilities to 1/temperature, which is the same thing.
  top_k        draw only among the k likeliest tokens (top_k=1 is greedy too).
  no_unk       never pick xxunk (fastai's predict has no_unk=True): "unknown word" is not a word.
               xxpad (padding) and xxfake (the vocab's filler to a multiple of 8) are never
               picked either: they are not text.

How our AWD-LSTM is fed: the model keeps its LSTMs' hidden state from one call to the next
(`reset()` clears it), so the prompt goes in once and then only each new token: the state
already holds everything before it. In eval mode (no dropout) that gives exactly what feeding
the whole text again would (fastai's predict does that, resetting each time). A model without
`reset()` has no state to keep: it is given the whole text at every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from l4tui.data.tokenizer import PAD, UNK, detokenize, tokenize
from l4tui.data.vocab import FAKE, Vocab

N_CANDIDATES = 10
# Prompts to start from, the lesson's first: the Generate tab takes the first whose words are all
# in the model's vocab (a word the vocab lacks reaches the model as xxunk).
PROMPTS = ("I liked this movie because", "I loved this movie because", "This movie was", "The film is",
           "It was")


@dataclass
class Step:
    """One generated token and what the model thought before it was picked."""

    token: str
    token_id: int
    probability: float  # the model's probability of this token (softmax of the logits, temperature 1)
    chance: float  # its probability in the distribution it was drawn from (no_unk, temperature,
    #                top_k applied); 1.0 when greedy
    candidates: list[tuple[str, float]]  # the model's likeliest tokens (token, probability), best
    #                first; xxpad, xxfake (and xxunk with no_unk) left out, so they sum to <= 1


@dataclass
class Generation:
    prompt: str
    prompt_tokens: list[str]  # tokenize(prompt), starting with xxbos
    unknown_words: list[str]  # prompt tokens the vocab lacks: the model saw them as xxunk
    tokens: list[str]  # the generated tokens, in order
    steps: list[Step]  # one per generated token
    text: str  # prompt and generated tokens, detokenized
    continuation: str  # the generated part of `text`
    settings: dict = field(default_factory=dict)  # n_words, temperature, top_k, seed, no_unk


# --- the model, fed a token at a time ---------------------------------------------------------------

def default_prompt(vocab) -> str:
    """A prompt whose every word is in `vocab`: one of PROMPTS, else the vocab's own likeliest words."""
    vocab = _vocab(vocab)
    for prompt in PROMPTS:
        if all(token in vocab for token in tokenize(prompt)):
            return prompt
    words = [token for token in vocab.itos if token.isalpha() and not token.startswith("xx")][:3]
    return " ".join(words) or PROMPTS[0]


def _vocab(vocab) -> Vocab:
    return vocab if isinstance(vocab, Vocab) else Vocab(list(vocab))


def _prompt_ids(vocab: Vocab, prompt: str) -> tuple[list[str], list[int]]:
    if not isinstance(prompt, str):
        raise TypeError(f"the prompt must be a str, not {type(prompt).__name__}")
    tokens = tokenize(prompt)
    if len(tokens) <= 1:  # just xxbos
        raise ValueError("a prompt is needed: the language model continues a sentence, "
                         "e.g. 'I liked this movie because'")
    return tokens, vocab.numericalize(tokens)


def _last_logits(output):
    """The scores of the next token after the last position, from (batch, seq, vocab) logits;
    fastai's models return a tuple whose first item is the logits, ours the logits alone."""
    if isinstance(output, (tuple, list)):
        output = output[0]
    return output[0, -1].detach().float().cpu().numpy().astype(np.float64)


class _Feeder:
    """Puts the model in eval mode, reset; gives the next token's logits after the prompt and after
    each token added; puts the model back as it was (mode, and reset) on close."""

    def __init__(self, model, vocab: Vocab):
        import torch

        self.torch, self.model = torch, model
        self.stateful = callable(getattr(model, "reset", None))
        self.was_training = model.training
        parameter = next(model.parameters(), None)
        self.device = parameter.device if parameter is not None else torch.device("cpu")
        self.vocab_size = len(vocab)
        self.ids: list[int] = []

    def __enter__(self):
        self.model.eval()
        if self.stateful:
            self.model.reset()
        self.no_grad = self.torch.no_grad()
        self.no_grad.__enter__()
        return self

    def __exit__(self, *exc):
        self.no_grad.__exit__(*exc)
        self.model.train(self.was_training)
        if self.stateful:
            self.model.reset()  # the prompt must not leak into what the model does next
        return False

    def feed(self, ids: list[int]) -> np.ndarray:
        self.ids.extend(ids)
        given = ids if self.stateful else self.ids
        x = self.torch.tensor([given], dtype=self.torch.long, device=self.device)
        logits = _last_logits(self.model(x))
        if len(logits) != self.vocab_size:
            raise ValueError(f"the model scores {len(logits):,} tokens but the vocab has {self.vocab_size:,}: "
                             "they are not from the same run")
        return logits


def _banned(vocab: Vocab, no_unk: bool) -> np.ndarray:
    """Ids never picked nor listed: xxpad, every xxfake, and xxunk with no_unk."""
    banned = {i for i, token in enumerate(vocab.itos) if token in (PAD, FAKE)}
    if no_unk:
        banned.update(i for i, token in enumerate(vocab.itos) if token == UNK)
    return np.array(sorted(banned), dtype=np.int64)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max()
    exp = np.exp(shifted)
    return exp / exp.sum()


def _candidates(vocab: Vocab, probabilities: np.ndarray, order: np.ndarray, allowed: np.ndarray,
                k: int) -> list[tuple[str, float]]:
    chosen = order[allowed[order]][:max(k, 0)]
    return [(vocab.itos[i], float(probabilities[i])) for i in chosen]


def _check_settings(n_words: int, temperature: float, top_k) -> None:
    if n_words < 0:
        raise ValueError("words can't be negative")
    if not temperature >= 0:  # also catches NaN
        raise ValueError("temperature must be 0 (greedy) or more")
    if top_k is not None and top_k < 1:
        raise ValueError("top-k must be at least 1 (or empty: every token)")


def generate(model, vocab, prompt: str, n_words: int = 20, temperature: float = 0.75, top_k: int | None = None,
             seed: int | None = None, no_unk: bool = True, n_candidates: int = N_CANDIDATES) -> Generation:
    """`n_words` tokens after `prompt`, picked one at a time (fastai's learn.predict).

    model: the language model (AWD-LSTM + decoder; its logits come first if it returns a tuple).
    vocab: its Vocab, or the `vocab` list (itos) its run saved.
    temperature: divides the logits; 0 is greedy (always the likeliest token).
    top_k: draw among the k likeliest tokens only; None for all of them.
    seed: the same seed (and settings) gives the same text; None for a different one each time.
    no_unk: never pick xxunk (xxpad and xxfake are never picked).
    n_candidates: how many of the model's likeliest tokens each Step lists.
    The model is put in eval mode and reset, and given back in the mode it was in, reset.
    """
    vocab = _vocab(vocab)
    _check_settings(n_words, temperature, top_k)
    prompt_tokens, ids = _prompt_ids(vocab, prompt)
    banned = _banned(vocab, no_unk)
    allowed = np.ones(len(vocab), dtype=bool)
    allowed[banned] = False
    if not allowed.any():
        raise ValueError("every token of this vocab is excluded (xxunk, xxpad, xxfake): nothing to pick")
    rng = np.random.default_rng(seed)
    steps: list[Step] = []
    with _Feeder(model, vocab) as feeder:
        logits = feeder.feed(ids)
        for n in range(n_words):
            probabilities = _softmax(logits)
            masked = np.where(allowed, logits, -np.inf)
            order = np.argsort(-masked, kind="stable")  # likeliest first; ties: the smaller id
            if temperature == 0 or top_k == 1:
                chosen, chance = int(order[0]), 1.0
            else:
                scaled = masked / temperature
                if top_k is not None and top_k < len(order):
                    scaled[order[top_k:]] = -np.inf
                sampling = _softmax(scaled)
                chosen = int(rng.choice(len(sampling), p=sampling))
                chance = float(sampling[chosen])
            steps.append(Step(vocab.itos[chosen], chosen, float(probabilities[chosen]), chance,
                              _candidates(vocab, probabilities, order, allowed, n_candidates)))
            if n < n_words - 1:
                logits = feeder.feed([chosen])
    tokens = [step.token for step in steps]
    text = detokenize(prompt_tokens + tokens)
    start = detokenize(prompt_tokens)
    continuation = text[len(start):].lstrip(" ") if text.startswith(start) else detokenize(tokens)
    return Generation(prompt, prompt_tokens, [t for t, i in zip(prompt_tokens, ids) if i == 0 and t != UNK],
                      tokens, steps, text, continuation,
                      dict(n_words=n_words, temperature=temperature, top_k=top_k, seed=seed, no_unk=no_unk))


def next_word_candidates(model, vocab, prompt: str, k: int = 10, no_unk: bool = True) -> list[tuple[str, float]]:
    """The model's `k` likeliest next tokens after `prompt`, with their probabilities, best first:
    "My favourite actor is Tom ___". Probabilities are the softmax of the logits over the whole
    vocab (temperature 1); xxpad and xxfake, and xxunk with no_unk, are left out of the list (not
    of the softmax), so the list sums to at most 1. The model is given back as it was, reset.
    """
    vocab = _vocab(vocab)
    if k < 1:
        raise ValueError("k must be at least 1")
    _, ids = _prompt_ids(vocab, prompt)
    allowed = np.ones(len(vocab), dtype=bool)
    allowed[_banned(vocab, no_unk)] = False
    with _Feeder(model, vocab) as feeder:
        logits = feeder.feed(ids)
    probabilities = _softmax(logits)
    order = np.argsort(-logits, kind="stable")
    return _candidates(vocab, probabilities, order, allowed, k)

