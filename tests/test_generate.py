"""Text generation with the language model: sampling, temperature, top_k, no_unk, each step's candidates."""

import pytest
import torch
from torch import nn

from l4tui.data.tokenizer import SPECIAL_TOKENS
from l4tui.data.vocab import Vocab
from l4tui.inspect.generate import generate, next_word_candidates
from l4tui.modelfiles import load_model_file

WORDS = ["the", "movie", "was", "great", "good"]
VOCAB = Vocab(SPECIAL_TOKENS + WORDS + ["xxfake", "xxfake"])  # 16 tokens: xxfake at 14 and 15
ID = {token: i for i, token in enumerate(VOCAB.itos[:14])}
BANNED = {"xxunk", "xxpad", "xxfake"}

# What the hand-set model predicts after each token: the token -> {next token: logit weight}.
# After "great" the likeliest are xxunk, then xxfake, then xxpad: all three are never picked.
CHAIN = {"xxbos": {"the": 20}, "the": {"movie": 20}, "movie": {"was": 20}, "was": {"great": 20},
         "great": {"xxunk": 20, 14: 18, "xxpad": 16, "good": 12}, "good": {"the": 20}}


def chain_model():
    """An LM whose next token depends only on the current one (CHAIN), built from our AWD-LSTM.

    One-hot embeddings; one LSTM that forgets at once (forget gate shut, input and output gates
    open, no hidden-to-hidden weights), so its output is ~0.76 at the current token's position
    and ~0 elsewhere; the decoder maps that position to the scores of the next token."""
    awd = load_model_file("awd_lstm")
    v = len(VOCAB)
    model = awd.get_language_model(v, emb_sz=v, n_hid=v, n_layers=1, drop_mult=0.0, tie_weights=False)
    encoder, decoder = model[0], model[1].decoder
    lstm = encoder.rnns[0]
    with torch.no_grad():
        encoder.encoder.weight.copy_(torch.eye(v))
        lstm.weight_hh_l0_raw.zero_()
        lstm.module.weight_ih_l0.zero_()
        lstm.module.weight_ih_l0[2 * v:3 * v] = 3 * torch.eye(v)  # the cell input g = tanh(3x)
        lstm.module.bias_hh_l0.zero_()
        bias = torch.zeros(4 * v)
        bias[:v], bias[v:2 * v], bias[3 * v:] = 10, -10, 10  # gates i, f, o (g has none)
        lstm.module.bias_ih_l0.copy_(bias)
        decoder.weight.zero_()
        decoder.bias.zero_()
        for token, nexts in CHAIN.items():
            for after, weight in nexts.items():
                decoder.weight[after if isinstance(after, int) else ID[after], ID[token]] = weight
    return model


def random_model(vocab, seed=0):
    awd = load_model_file("awd_lstm")
    torch.manual_seed(seed)
    model = awd.get_language_model(len(vocab), emb_sz=16, n_hid=32, n_layers=2, drop_mult=0.5)
    with torch.no_grad():
        model[0].encoder.weight.normal_(0, 1.0)  # spikier than the init, so the choices matter
        model[1].decoder.bias[0] = 3.0  # xxunk likely: no_unk has something to do
    return model


def small_vocab():
    words = ("i liked this movie because it was a great film , and the acting the story . bad good "
             "plot actor funny boring scene ending love hate").split()
    itos = SPECIAL_TOKENS + list(dict.fromkeys(words))
    return Vocab(itos + ["xxfake"] * (8 - len(itos) % 8))


def greedy_by_hand(model, vocab, prompt_ids, n):
    """Argmax of the allowed tokens, the whole text fed afresh each step (as fastai's predict)."""
    banned = [i for i, t in enumerate(vocab.itos) if t in BANNED]
    ids, probabilities = list(prompt_ids), []
    model.eval()
    with torch.no_grad():
        for _ in range(n):
            model.reset()
            logits = model(torch.tensor([ids]))[0, -1].double()
            p = torch.softmax(logits, 0)
            logits[banned] = -float("inf")
            ids.append(int(logits.argmax()))
            probabilities.append(float(p[ids[-1]]))
    model.reset()
    return ids[len(prompt_ids):], probabilities


def test_the_hand_set_model_generates_b_after_a():
    model = chain_model()
    result = generate(model, VOCAB, "the movie", n_words=6, temperature=0)
    assert result.prompt_tokens == ["xxbos", "the", "movie"]
    # after "great": xxunk, xxfake and xxpad score higher than "good", but are never picked
    assert result.tokens == ["was", "great", "good", "the", "movie", "was"]
    assert result.text == "the movie was great good the movie was"
    assert result.continuation == "was great good the movie was"
    assert [s.candidates[0][0] for s in result.steps] == result.tokens
    # sampling, at the lesson's temperature, follows the chain too: each next token is ~certain
    sampled = generate(model, VOCAB, "the movie", n_words=6, temperature=0.75, seed=3)
    assert sampled.tokens == result.tokens
    # without no_unk, xxunk comes after "great" (xxfake and xxpad still never do)
    assert generate(model, VOCAB, "was", n_words=2, temperature=0, no_unk=False).tokens == ["great", "xxunk"]


def test_each_steps_candidates_are_the_models_probabilities_best_first():
    model = chain_model()
    step = generate(model, VOCAB, "the movie was great", n_words=1, temperature=0).steps[0]
    tokens = [token for token, _ in step.candidates]
    assert tokens[0] == "good" and not BANNED & set(tokens)
    assert len(tokens) == 10 and len(set(tokens)) == len(tokens)  # 10 of the 12 that may be picked
    probabilities = [p for _, p in step.candidates]
    assert probabilities == sorted(probabilities, reverse=True)
    assert sum(probabilities) <= 1.0
    # "good" is ~certain among what may be picked, but not in the model's own softmax (xxunk wins)
    assert step.probability < 0.01 and step.chance == 1.0
    assert next_word_candidates(model, VOCAB, "the movie was", k=3)[0][0] == "great"
    assert next_word_candidates(model, VOCAB, "the movie was great", k=1, no_unk=False) == [
        ("xxunk", pytest.approx(next_word_candidates(model, VOCAB, "great", k=1, no_unk=False)[0][1]))]


def test_greedy_is_the_argmax_chain_and_top_k_1_is_greedy():
    vocab = small_vocab()
    model = random_model(vocab)
    prompt = "I liked this movie because"
    greedy = generate(model, vocab, prompt, n_words=12, temperature=0)
    ids, probabilities = greedy_by_hand(model, vocab, vocab.numericalize(greedy.prompt_tokens), 12)
    # Feeding one token at a time (the kept hidden state) = feeding the whole text again.
    assert [s.token_id for s in greedy.steps] == ids
    assert [s.probability for s in greedy.steps] == pytest.approx(probabilities, abs=1e-6)
    assert generate(model, vocab, prompt, n_words=12, temperature=0.75, top_k=1, seed=5).tokens == greedy.tokens
    first = greedy.steps[0]
    candidates = next_word_candidates(model, vocab, prompt, k=10)
    assert [t for t, _ in candidates] == [t for t, _ in first.candidates]
    assert [p for _, p in candidates] == pytest.approx([p for _, p in first.candidates], abs=1e-12)


def test_a_seed_makes_it_reproducible_and_xxunk_never_comes():
    vocab = small_vocab()
    model = random_model(vocab)
    one = generate(model, vocab, "the movie was", n_words=60, temperature=1.0, seed=7)
    assert generate(model, vocab, "the movie was", n_words=60, temperature=1.0, seed=7) == one
    assert generate(model, vocab, "the movie was", n_words=60, temperature=1.0, seed=8).tokens != one.tokens
    assert not BANNED & set(one.tokens)
    unk_allowed = generate(model, vocab, "the movie was", n_words=60, temperature=1.0, seed=7, no_unk=False)
    assert "xxunk" in unk_allowed.tokens  # the decoder's bias makes it likely: the ban is doing something
    assert not {"xxpad", "xxfake"} & set(unk_allowed.tokens)
    assert len(one.steps) == len(one.tokens) == 60 and one.settings["temperature"] == 1.0


def test_temperature_divides_the_logits_and_top_k_keeps_the_k_best():
    vocab = small_vocab()
    model = random_model(vocab)
    model.eval()
    with torch.no_grad():
        model.reset()
        logits = model(torch.tensor([vocab.numericalize(["xxbos", "the", "plot"])]))[0, -1].double()
    model.reset()
    banned = [i for i, t in enumerate(vocab.itos) if t in BANNED]
    logits[banned] = -float("inf")
    for temperature in (0.5, 0.75, 2.0):
        step = generate(model, vocab, "the plot", n_words=1, temperature=temperature, seed=1).steps[0]
        assert step.chance == pytest.approx(float(torch.softmax(logits / temperature, 0)[step.token_id]), rel=1e-6)
    best3 = set(logits.argsort(descending=True)[:3].tolist())
    for seed in range(20):
        step = generate(model, vocab, "the plot", n_words=1, temperature=2.0, top_k=3, seed=seed).steps[0]
        assert step.token_id in best3
        top3 = logits[sorted(best3)] / 2.0
        assert step.chance == pytest.approx(float(torch.softmax(top3, 0)[sorted(best3).index(step.token_id)]))


def test_the_model_is_given_back_as_it_was():
    vocab = small_vocab()
    model = random_model(vocab)
    model.train()
    generate(model, vocab, "this movie", n_words=3, seed=0)
    assert model.training and all(m.training for m in model.modules())
    assert all(not h.any() and not c.any() for h, c in model[0].hidden)  # reset: the prompt is forgotten
    model.eval()
    next_word_candidates(model, vocab, "this movie")
    assert not any(m.training for m in model.modules())


def test_a_model_without_state_gets_the_whole_text_each_step():
    vocab = small_vocab()
    lm = random_model(vocab)

    class Stateless(nn.Module):
        """No reset(): feeding it a token alone would lose the text; returns a tuple, as fastai's."""

        def __init__(self):
            super().__init__()
            self.lm = lm

        def forward(self, x):
            self.lm.reset()
            return self.lm(x), None, None

    greedy = generate(lm, vocab, "the acting was", n_words=8, temperature=0)
    assert generate(Stateless(), vocab, "the acting was", n_words=8, temperature=0).tokens == greedy.tokens


def test_prompts_and_settings_that_make_no_sense_are_refused():
    vocab = small_vocab()
    model = random_model(vocab)
    for prompt in ("", "   "):
        with pytest.raises(ValueError, match="a prompt is needed"):
            generate(model, vocab, prompt)
        with pytest.raises(ValueError, match="a prompt is needed"):
            next_word_candidates(model, vocab, prompt)
    with pytest.raises(ValueError, match="temperature"):
        generate(model, vocab, "the", temperature=-1)
    with pytest.raises(ValueError, match="top-k must be at least 1"):
        generate(model, vocab, "the", top_k=0)
    with pytest.raises(ValueError, match="not from the same run"):
        generate(model, VOCAB, "the movie")
    # the vocab can be the itos list a run saves; a word it lacks is fed as xxunk, and said so
    result = generate(model, list(vocab.itos), "the zorgblat movie", n_words=2, seed=0)
    assert result.unknown_words == ["zorgblat"] and "zorgblat" in result.text
    assert generate(model, vocab, "the", n_words=0).tokens == []


def test_the_default_prompt_is_made_of_words_the_vocab_has():
    from l4tui.data.tokenizer import tokenize
    from l4tui.inspect.generate import default_prompt
    from l4tui.inspect.subject import sample_vocab

    vocab = sample_vocab()  # the bundled reviews: no "liked" among their words
    assert "liked" not in vocab
    prompt = default_prompt(vocab)
    assert prompt == "I loved this movie because" and all(token in vocab for token in tokenize(prompt))
    tiny = Vocab(list(SPECIAL_TOKENS) + ["good", "bad", "plot", "."])
    assert default_prompt(tiny) == "good bad plot"
