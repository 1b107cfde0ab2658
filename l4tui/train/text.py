"""The ULMFiT recipes of lesson 4: fine-tune a language model on the reviews, then train a
classifier on its encoder with gradual unfreezing.

    learn = language_model_learner(dls_lm, AWD_LSTM, drop_mult=0.3)
    learn.fit_one_cycle(1, 2e-2)                                    # (frozen, with pretrained weights)
    learn.unfreeze(); learn.fit_one_cycle(10, 2e-3)
    learn.save_encoder('finetuned')

    learn = text_classifier_learner(dls_clas, AWD_LSTM, drop_mult=0.5).load_encoder('finetuned')
    learn.fit_one_cycle(1, 2e-2)
    learn.freeze_to(-2); learn.fit_one_cycle(1, slice(1e-2/(2.6**4), 1e-2))
    learn.freeze_to(-3); learn.fit_one_cycle(1, slice(5e-3/(2.6**4), 5e-3))
    learn.unfreeze();    learn.fit_one_cycle(2, slice(1e-3/(2.6**4), 1e-3))

The language model starts from its own random weights unless `pretrained` names a pretrained
model: fastai's Wikipedia model (`wt103`, once `l4tui data get wt103` fetched it), fastai's
.pth/.pkl files, or an l4tui language model run. Its vocab is refitted to the texts' own
(train/transfer.py's `match_embeds`) and its sizes set the preset.
"""

from dataclasses import dataclass
from l4tui.runs.checkpoints import load_named_checkpoint
from l4tui.train.config import RecipeConfig
from l4tui.train.options import recipe_config
from l4tui.train.transfer import load_pretrained_lm, match_embeds, vocab_coverage
from l4tui.presets import awd_lstm_sizes


@dataclass
class TextConfig(RecipeConfig):
    """What the language model and the classifier share beyond their options: the vocab they
    build when no checkpoint brings one (fastai's max_vocab and min_freq)."""

    max_vocab: int = 60_000
    min_freq: int = 3


@recipe_config("lm")
class LMConfig(TextConfig):
    """Fields: the options lm takes, at lm's defaults (the OPTIONS table of
    l4tui/train/options.py: the lesson's values above), then lm's own settings below."""

    alpha: float = 2.0  # AR
    beta: float = 1.0  # TAR


@recipe_config("classifier")
class ClassifierConfig(TextConfig):
    """Fields: the options the classifier takes, at its defaults (the OPTIONS table of
    l4tui/train/options.py: the lesson's values above)."""


class RNNRegularizer:
    """AR and TAR (Merity et al.): penalise large activations of the last LSTM (AR, on the
    dropped-out outputs) and big steps between time steps (TAR, on the raw outputs).
    Reads them with a forward hook on the decoder's dropout; `remove()` takes the hook off."""

    def __init__(self, output_dp, alpha: float, beta: float):
        self.alpha, self.beta = alpha, beta
        self.raw = self.dropped = None
        self.handle = output_dp.register_forward_hook(self._keep)

    def _keep(self, module, args, output):
        if module.training:
            self.raw, self.dropped = args[0], output

    def penalty(self):
        if self.raw is None:
            return 0.0
        raw, dropped = self.raw.float(), self.dropped.float()  # in float32 under bfloat16/float16 autocast too
        penalty = self.alpha * dropped.pow(2).mean()
        if raw.size(1) > 1:
            penalty = penalty + self.beta * (raw[:, 1:] - raw[:, :-1]).pow(2).mean()
        self.raw = self.dropped = None
        return penalty

    def remove(self) -> None:
        self.handle.remove()


LM_VALID_PCT = 0.1  # the language model's share of texts held out to validate it
CLASSIFIER_VALID_PCT = 0.2  # the classifier's, when the data has no is_valid column


def _held_out(n: int, share: float, seed: int):
    import numpy as np

    return np.random.default_rng(seed).random(n) < share


def estimated_tokens(texts: list[str]) -> int:
    """Tokens the texts make, counted as whitespace words plus one xxbos a text, without
    tokenizing (which takes minutes on the full IMDB). The tokenizer only adds to the words
    (punctuation, xxmaj): on the bundled sample it makes 1.45 tokens a word, so this is low."""
    return sum(len(text.split()) + 1 for text in texts)


def lm_training_rows(config: LMConfig) -> int:
    """The language model's "training items", as many as the data gives once checked: rows of
    `bptt` tokens its training stream fills (estimated_tokens).

    LMBatches cuts the training texts' stream of tokens into `bs` rows of (tokens - 1) // bs
    tokens. It only fails when a row would be empty (bs >= tokens), but once bs exceeds
    (tokens - 1) // bptt each row is shorter than one bptt window: an epoch is then one short
    batch, and the validation stream (a tenth of the texts, with the same bs) is shorter still.
    So that figure is what "bs larger than the data" means here."""
    data, valid = load_checked_lm_texts(config)
    tokens = estimated_tokens([text for text, is_valid in zip(data.texts, valid) if not is_valid])
    return max(0, (tokens - 1) // config.bptt)


def load_checked_lm_texts(config: LMConfig):
    """The texts and which of them validate, once the data check has passed: the one check, made
    by start_run before the run exists and by the run itself. Each split's stream must fill one
    row per batch item; tokens are estimated from words (cheap), and counted exactly by
    tokenizing only when the estimate is close, which it only is for a small corpus."""
    from l4tui.data.checks import check_split, check_texts, check_tokens
    from l4tui.data.texts import open_texts
    from l4tui.data.tokenizer import tokenize_many

    data = open_texts(config.data)
    check_texts(data)
    valid = _held_out(len(data), LM_VALID_PCT, config.seed)
    check_split(data.source, ("text", "texts"), int((~valid).sum()), int(valid.sum()), config.bs,
                f"{LM_VALID_PCT:.0%} of them by chance, seed {config.seed}", drop_last=False)
    for split, chosen in (("training", ~valid), ("validation", valid)):
        texts = [text for text, keep in zip(data.texts, chosen) if keep]
        n_tokens = estimated_tokens(texts)
        if n_tokens < 4 * (config.bs + 1):
            n_tokens = sum(len(tokens) for tokens in tokenize_many(texts))
        check_tokens(data.source, split, n_tokens, config.bs)
    return data, valid


def load_checked_classifier_texts(config: ClassifierConfig):
    """(data, the labelled texts' indices, classes, their labels as class ids, which validate),
    once the data check has passed (see load_checked_lm_texts)."""
    import numpy as np

    from l4tui.data.checks import check_labels, check_split, check_texts
    from l4tui.data.texts import open_texts

    data = open_texts(config.data)
    check_texts(data)
    labelled = [i for i, label in enumerate(data.labels) if label]
    classes = sorted({data.labels[i] for i in labelled})
    check_labels(data.source, classes)
    labels = np.array([classes.index(data.labels[i]) for i in labelled])
    valid = np.array([data.is_valid[i] for i in labelled])
    how = "the texts marked is_valid"
    if not valid.any():  # no validation flag in the data: hold out 20% at random
        valid = _held_out(len(labelled), CLASSIFIER_VALID_PCT, config.seed)
        how = f"no is_valid marks: {CLASSIFIER_VALID_PCT:.0%} of them by chance, seed {config.seed}"
    check_split(data.source, ("labelled text", "labelled texts"), int((~valid).sum()), int(valid.sum()),
                config.bs, how, drop_last=False, min_train=2)  # the head's BatchNorm: two a batch
    return data, labelled, classes, labels, valid


def tokenizing_progress(report, every_s: float = 0.5):
    """corpus.tokenized_corpus's progress as the run's `prepare` events (at most one every
    `every_s` seconds, and the last): `report(step=..., done=..., total=..., tokens=...)`."""
    import time

    if report is None:
        return None
    last = [0.0]

    def progress(done: int, total: int, tokens: int) -> None:
        now = time.monotonic()
        if done >= total or now - last[0] >= every_s:
            last[0] = now
            report(step="tokenize", done=done, total=total, tokens=tokens)
    return progress


def prepare_lm(config: LMConfig, device: str, workspace=None, report=None):
    import math

    import numpy as np
    import torch.nn.functional as F

    from l4tui.data.corpus import tokenized_corpus
    from l4tui.data.text_batches import LMBatches
    from l4tui.data.vocab import Vocab
    from l4tui.modelfiles import load_model_file
    from l4tui.train.batches import NumpyBatches
    from l4tui.train.loop import Stage, Task

    # The language model learns from every text, labelled or not; 10% of them, at random, check it.
    # Tokenized once (in worker processes, cached for later runs), the ids in a memmap: corpus.py.
    data, valid = load_checked_lm_texts(config)
    corpus = tokenized_corpus(data.texts, progress=tokenizing_progress(report))
    train_texts, valid_texts = np.flatnonzero(~valid), np.flatnonzero(valid)
    # The vocab is always the texts' own; pretrained weights are refitted to it (match_embeds).
    pretrained = load_pretrained_lm(config.pretrained) if config.pretrained else None
    vocab = corpus.vocab(train_texts, config.max_vocab, config.min_freq)
    ids = corpus.numericalized(vocab)
    train_docs, valid_docs = ids.pick(train_texts), ids.pick(valid_texts)
    train_counts = train_docs.bincount(len(vocab))  # each id's count in the training texts

    awd = load_model_file("awd_lstm", workspace)
    sizes = awd_lstm_sizes(config.preset)
    if pretrained is not None and pretrained.sizes() != sizes:  # start_run set the preset from them
        raise ValueError(f"--preset {config.preset} disagrees with {config.pretrained}'s sizes "
                         f"({pretrained.describe_sizes()})")
    model = awd.get_language_model(len(vocab), drop_mult=config.drop_mult, **sizes).to(device)
    stages = [Stage(config.epochs, config.lr, freeze_to=0, name="unfrozen")]
    transfer = {}
    if pretrained is not None:
        model.load_state_dict(match_embeds(pretrained.weights, pretrained.itos, vocab.itos))
        transfer = dict(pretrained=config.pretrained,
                        **vocab_coverage(vocab.itos, pretrained.itos, train_counts))
        del pretrained  # wt103's weights: 180 MB not to keep through training
        # The lesson's schedule: one epoch training only the embeddings and decoder (the new
        # words' rows start as the mean), then everything, at a tenth of the learning rate.
        stages = [Stage(1, config.lr, freeze_to=-1, name="frozen"),
                  Stage(config.epochs, config.lr / 10, freeze_to=0, name="unfrozen")]

    # The baseline: a unigram model, each token predicted by its frequency in the training texts.
    counts = train_counts + 1
    log_p = np.log(counts / counts.sum())
    valid_counts = valid_docs.bincount(len(vocab))
    valid_counts[valid_docs[0][0]] -= 1  # the first token is never a target
    unigram_loss = float(-(valid_counts * log_p).sum() / valid_counts.sum())

    def loss_func(preds, target):
        return F.cross_entropy(preds.reshape(-1, preds.size(-1)), target.reshape(-1))

    def derive(results):
        results["perplexity"] = math.exp(min(results["valid_loss"], 50))
        return results

    regularizer = RNNRegularizer(model[1].output_dp, config.alpha, config.beta)
    return Task(
        model=model, loss_func=loss_func,
        train=NumpyBatches(LMBatches(train_docs, config.bs, config.bptt, shuffle=True, seed=config.seed), device),
        valid=NumpyBatches(LMBatches(valid_docs, config.bs, config.bptt, shuffle=False, jitter=False), device),
        stages=stages, groups=model.layer_groups(), moms=(0.8, 0.7, 0.8), wd=config.wd,
        regularizer=regularizer, derive=derive,
        metrics={"accuracy": lambda preds, target: (preds.argmax(-1) == target).float().mean()},
        start=dict(n_train=len(train_docs), n_valid=len(valid_docs), vocab_size=len(vocab),
                   train_tokens=train_docs.n_tokens(), unigram_loss=unigram_loss,
                   unigram_perplexity=math.exp(unigram_loss), **transfer),
        extras={"vocab": vocab.itos, "unigram_loss": unigram_loss},
    )


def prepare_classifier(config: ClassifierConfig, device: str, workspace=None, report=None):
    import numpy as np
    import torch.nn.functional as F

    from l4tui.data.corpus import tokenized_corpus
    from l4tui.data.text_batches import ClassifierBatches
    from l4tui.data.vocab import Vocab
    from l4tui.modelfiles import load_model_file
    from l4tui.train.batches import NumpyBatches
    from l4tui.train.loop import Stage, Task

    data, labelled, classes, labels, valid = load_checked_classifier_texts(config)
    # Every text is tokenized (unlabelled ones too): the same corpus as the language model's,
    # so a classifier after it finds the corpus in the cache (corpus.py).
    corpus = tokenized_corpus(data.texts, progress=tokenizing_progress(report))
    labelled = np.asarray(labelled, dtype=np.int64)
    encoder = load_named_checkpoint(config.encoder) if config.encoder else None
    if encoder is not None:
        vocab = Vocab(encoder["vocab"])  # the language model's vocab: its embedding rows are these words
    else:
        vocab = corpus.vocab(labelled[~valid], config.max_vocab, config.min_freq)
    ids = corpus.numericalized(vocab).pick(labelled)

    awd = load_model_file("awd_lstm", workspace)
    model = awd.get_text_classifier(len(vocab), len(classes), bptt=config.bptt, drop_mult=config.drop_mult,
                                    **awd_lstm_sizes(config.preset)).to(device)
    if encoder is not None:
        # The LM's encoder is `0.*` in its state dict; in the classifier it sits at `0.module.*`.
        weights = {f"0.module.{k[2:]}": v for k, v in encoder["model"].items() if k.startswith("0.")}
        missing = model.load_state_dict(weights, strict=False)
        if missing.unexpected_keys:
            raise ValueError(f"the encoder's weights don't fit this classifier: {missing.unexpected_keys[:3]}")
    lr = config.lr
    stages = [Stage(1, lr, freeze_to=-1, name="head"),
              Stage(1, (lr / 2 / 2.6 ** 4, lr / 2), freeze_to=-2, name="freeze_to(-2)"),
              Stage(1, (lr / 4 / 2.6 ** 4, lr / 4), freeze_to=-3, name="freeze_to(-3)"),
              Stage(config.epochs, (lr / 20 / 2.6 ** 4, lr / 20), freeze_to=0, name="unfrozen")]
    majority = float(max(np.bincount(labels[valid]) / valid.sum()))
    train_docs, valid_docs = ids.pick(np.flatnonzero(~valid)), ids.pick(np.flatnonzero(valid))
    return Task(
        model=model, loss_func=F.cross_entropy,
        # The short last batch is dropped, as fastai's training DataLoader does (one text alone
        # would break the head's BatchNorm), unless it is the only batch.
        train=NumpyBatches(ClassifierBatches(train_docs, labels[~valid], config.bs, shuffle=True,
                                             seed=config.seed, drop_last=len(train_docs) > config.bs), device),
        valid=NumpyBatches(ClassifierBatches(valid_docs, labels[valid], config.bs * 2, shuffle=False), device),
        stages=stages, groups=model.layer_groups(), moms=(0.8, 0.7, 0.8), wd=config.wd,
        metrics={"accuracy": lambda preds, target: (preds.argmax(1) == target).float().mean()},
        best_metric="accuracy",
        start=dict(n_train=len(train_docs), n_valid=len(valid_docs), classes=classes, vocab_size=len(vocab),
                   baseline_accuracy=majority, encoder=config.encoder or None),
        extras={"vocab": vocab.itos, "classes": classes, "baseline_accuracy": majority},
    )
