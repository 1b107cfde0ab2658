"""Transfer learning: a language model starts from pretrained weights (ULMFiT's step 2).

    learn = language_model_learner(dls_lm, AWD_LSTM, drop_mult=0.3)   # pretrained=True: wt103

fastai downloads the model pretrained on Wikipedia, then fits it to the vocab of *your* texts
(`match_embeds` below), then trains one epoch with everything but the embeddings and decoder
frozen, then unfreezes. l4tui does the same from any of these sources (`load_pretrained_lm`):

    wt103, wt103-fwd, wt103-bwd   fastai's model zoo, once `l4tui data get wt103` fetched it
    PATH.pth  or  PTH,PKL         fastai's files: weights, and the pickled vocab beside them
    RUN  or  FILE.pt              a language model l4tui trained (its checkpoint holds its vocab)

`match_embeds` lives here rather than in models/awd_lstm.py: it works on saved weights (a state
dict), not on a module, and the recipe must find it whatever models/awd_lstm.py a user's
workspace holds (the model file is loaded by path and may be the user's own copy).
"""

from pathlib import Path

from l4tui.data.zoo import PretrainedError, PretrainedLM, is_zoo_name, lm_sizes, read_pretrained, read_zoo


def match_embeds(weights: dict, old_itos: list[str], new_itos: list[str]) -> dict:
    """The pretrained weights refitted to a new vocab: the rows that belong to words.

    The embedding (`0.encoder.weight`) has one row per word of the *pretrained* vocab, and so do
    the decoder's weight and bias (the decoder scores every word). Your texts have their own
    vocab: IMDB has "xxmaj", "movie" and "tarantino", in an order of its own. So each new word
    looks itself up in the old vocab:
      - found: it takes its pretrained row (in the embedding, the decoder, and the decoder's bias);
      - new:   it takes the *mean* row and the mean bias, a neutral "some word" to learn from.
    The embedding is tied to the decoder and read again by EmbeddingDropout, so all three weights
    get the same new matrix. Everything else (the LSTMs) does not depend on the vocab: kept as is.

    (new vocab size, emb_sz) <- (old vocab size, emb_sz); returns a new dict, `weights` unchanged.
    """
    import torch

    old_rows, old_bias = weights["0.encoder.weight"], weights.get("1.decoder.bias")
    old_index = {word: i for i, word in enumerate(old_itos)}
    found = torch.tensor([old_index.get(word, -1) for word in new_itos])  # -1: a new word
    is_new = found < 0

    rows = old_rows[found.clamp(min=0)].clone()  # each word's pretrained row ...
    rows[is_new] = old_rows.mean(0)  # ... or the mean row for a new word
    matched = dict(weights)
    matched["0.encoder.weight"] = rows
    matched["0.encoder_dp.emb.weight"] = rows.clone()
    matched["1.decoder.weight"] = rows.clone()
    if old_bias is not None:
        bias = old_bias[found.clamp(min=0)].clone()
        bias[is_new] = old_bias.mean()
        matched["1.decoder.bias"] = bias
    return matched


def load_pretrained_lm(name: str, runs_dir=None) -> PretrainedLM:
    """The pretrained language model `name` names (see the module's docstring), checked: its vocab
    and its weights under models/awd_lstm.py's names. ValueError, one line, when it can't be used.
    A run id is looked up in `runs_dir` (default: l4tui's runs folder)."""
    name = name.strip()
    if is_zoo_name(name):
        _unpack_hand_placed(name)
        return read_zoo(name)
    if "," in name:
        pth, pkl = (Path(part.strip()).expanduser() for part in name.split(",", 1))
        return _read_pair(name, pth, pkl)
    path = Path(name).expanduser()
    if path.suffix == ".pth":
        if not path.is_file():
            raise PretrainedError(f"{name}: no such file (give fastai's .pth, with its .pkl vocab beside it)")
        pkls = sorted(path.parent.glob("*.pkl"))
        if len(pkls) != 1:
            raise PretrainedError(f"{path.name} needs its vocab: one .pkl beside it ({len(pkls)} there); "
                                  f"or give both: --pretrained {path},VOCAB.pkl")
        return _read_pair(name, path, pkls[0])
    return _from_checkpoint(name, runs_dir)


def _unpack_hand_placed(name: str) -> None:
    """A zoo archive put in the data folder by hand (no internet on this box) but not unpacked
    yet: checked and unpacked now, without the network, as `l4tui data get` would."""
    from l4tui.data.download import DownloadError, get_dataset
    from l4tui.data.registry import cache_dir, find_dataset

    entry = find_dataset(name)
    if (cache_dir() / entry.folder).is_dir() or not (cache_dir() / entry.archive_name).is_file():
        return  # unpacked already, or not there at all (read_zoo says how to get it)
    try:
        get_dataset(entry)
    except DownloadError as error:
        raise PretrainedError(str(error).splitlines()[0]) from None


def config_name(name: str, runs_dir) -> str:
    """How a run's config names the pretrained model, so the run finds it wherever it runs: a zoo
    name as it is, files by their absolute paths, a run by its id (runs.checkpoints). Only looks
    at the files; ValueError, one line, when one is missing."""
    from l4tui.runs.checkpoints import find_checkpoint

    name = name.strip()
    if is_zoo_name(name):
        return name
    if "," in name:
        paths = [Path(part.strip()).expanduser() for part in name.split(",", 1)]
        for path in paths:
            if not path.is_file():
                raise PretrainedError(f"{path}: no such file")
        return ",".join(str(path.resolve()) for path in paths)
    if name.endswith(".pth"):
        path = Path(name).expanduser()
        if not path.is_file():
            raise PretrainedError(f"{name}: no such file (give fastai's .pth, with its .pkl vocab beside it)")
        return str(path.resolve())
    return find_checkpoint(name, runs_dir)[1]


def _read_pair(name: str, pth: Path, pkl: Path) -> PretrainedLM:
    for path, what in ((pth, "weights (.pth)"), (pkl, "vocab (.pkl)")):
        if not path.is_file():
            raise PretrainedError(f"{path}: no such file (the {what})")
    return read_pretrained(name, pth, pkl)


def _from_checkpoint(name: str, runs_dir) -> PretrainedLM:
    """An l4tui language model: a run id (its last checkpoint) or a .pt file."""
    from l4tui.runs.checkpoints import CheckpointError, find_checkpoint, load_checkpoint, load_named_checkpoint

    try:
        checkpoint = load_named_checkpoint(name) if runs_dir is None else load_checkpoint(
            find_checkpoint(name, runs_dir)[0])
    except CheckpointError:
        raise
    except ValueError as error:  # no such run or file
        raise PretrainedError(f"{error}; or name a pretrained model: wt103, PATH.pth, PTH,PKL") from None
    itos, weights = checkpoint.get("vocab"), checkpoint.get("model")
    if not (isinstance(itos, list) and itos and all(type(word) is str for word in itos)):
        raise PretrainedError(f"{name}: its checkpoint holds no vocab: is it a language model's?")
    if not isinstance(weights, dict):
        raise PretrainedError(f"{name}: its checkpoint holds no model weights")
    vocab_sz, emb_sz, n_hid, n_layers = lm_sizes(weights, f"{name}'s weights")
    if vocab_sz != len(itos):
        raise PretrainedError(f"{name}: {len(itos):,} words but {vocab_sz:,} embedding rows")
    return PretrainedLM(name, itos, weights, emb_sz, n_hid, n_layers)


def preset_for(pretrained: PretrainedLM) -> str | None:
    """The preset of l4tui/presets.py whose AWD-LSTM sizes are the pretrained model's, if any."""
    from l4tui.presets import PRESETS, awd_lstm_sizes

    return next((preset for preset in PRESETS if awd_lstm_sizes(preset) == pretrained.sizes()), None)


def settle_preset(config: dict, runs_dir=None) -> dict:
    """An LM config with `pretrained`, or a classifier's with `encoder`: the model's sizes follow
    the weights it starts from, so the preset becomes the one they match (recorded in the run's
    config, where a classifier on the LM run reads it). A preset given that disagrees, or weights
    of sizes no preset has, is a ValueError naming both. Loads the model once to read its sizes."""
    from l4tui.presets import PRESETS, awd_lstm_sizes

    name = config.get("pretrained") or config.get("encoder")
    if not name:
        return config
    pretrained = load_pretrained_lm(name, runs_dir)
    matching = preset_for(pretrained)
    given = config.get("preset")
    if given and given in PRESETS and awd_lstm_sizes(given) != pretrained.sizes():
        sizes = awd_lstm_sizes(given)
        fix = f"give --preset {matching}, or leave it out" if matching else "leave --preset out"
        raise ValueError(f"--preset {given} (emb {sizes['emb_sz']}, hidden {sizes['n_hid']}) disagrees with "
                         f"{name}'s sizes ({pretrained.describe_sizes()}): {fix}")
    if matching is None:
        known = "; ".join(f"{p}: emb {PRESETS[p]['emb_sz']}, hidden {PRESETS[p]['n_hid']}, "
                          f"{PRESETS[p]['n_layers']} layers" for p in PRESETS)
        raise ValueError(f"{name}'s sizes ({pretrained.describe_sizes()}) are no preset's ({known}): "
                         "l4tui builds its models at a preset's sizes")
    return {**config, "preset": matching}


def vocab_coverage(new_itos: list[str], old_itos: list[str], train_counts) -> dict:
    """What the start event says of the transfer: how many of the new vocab's words the pretrained
    vocab has (those start from a pretrained row), the pretrained vocab's size, and the share of
    the training tokens whose word was found. `train_counts[i]`: how often id i occurs in the
    training texts (counts, not the tokens themselves: the full IMDB has 25M of them)."""
    import numpy as np

    old = set(old_itos)
    found = np.array([word in old for word in new_itos], dtype=bool)
    counts = np.zeros(len(new_itos), dtype=np.int64)
    counts[:len(train_counts)] = np.asarray(train_counts)[:len(new_itos)]
    total = int(counts.sum())
    share = float(counts[found].sum() / total) if total else 0.0
    return dict(pretrained_vocab_found=int(found.sum()), pretrained_vocab_size=len(old_itos),
                pretrained_token_share=share)

