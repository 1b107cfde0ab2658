"""The model zoo: fastai's language models pretrained on Wikipedia, read safely.

    l4tui data get wt103          ->  ~/.cache/l4tui/data/wt103-fwd/{lstm_fwd.pth, itos_wt103.pkl}
    read_pretrained("wt103")      ->  PretrainedLM: its vocab, its weights, emb 400, hidden 1152, 3 layers

fastai's archive holds two files: the AWD-LSTM's weights (a torch file, `.pth`) and its vocab
(`itos`, "int to string": a pickled list of the 60,000 words, whose order is the embedding's
rows). No checksum or size is published for them, so what arrives is checked by its *structure*
(`check_unpacked`): one `.pth`, one `.pkl`, the keys and shapes of a 3-LSTM AWD-LSTM whose sizes
agree with each other, and as many words as embedding rows. Anything else is refused in one line
and the download is not kept.

Both files are untrusted. The weights load with `torch.load(..., weights_only=True)` (tensors and
plain data only). The vocab is read by `read_itos`, an unpickler that refuses every global, so a
pickle can only give back lists, strings and numbers: nothing in it runs. Then it must be a list
of str.

fastai saved these weights in two layouts; both are read (`to_our_keys`):
  - bare, or inside `{'model': ..., 'opt': ...}` (a Learner.save with its optimizer);
  - each LSTM's hidden-to-hidden weight once, as `0.rnns.N.weight_hh_l0_raw` (fastai 2), or also
    as its dropped-out copy `0.rnns.N.module.weight_hh_l0` (fastai 1), which is dropped here.
The names left are those of models/awd_lstm.py's LanguageModel, which keeps fastai's names.

torch is imported inside the functions that need it: listing the zoo or downloading needs none.
"""

import io
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path

from l4tui.data.registry import ALIASES, PRETRAINED, cache_dir, find_dataset

ZOO_PRESET = "lesson"  # fastai's AWD_LSTM sizes (emb 400, hidden 1152, 3 LSTMs): l4tui/presets.py
MAX_ITOS_BYTES = 64 * 2**20  # wt103's is about 1 MB; a vocab pickle this big is no vocab


class PretrainedError(ValueError):
    """A pretrained model that can't be used; the message is one line for the user."""


@dataclass
class PretrainedLM:
    """A pretrained AWD-LSTM language model: its vocab and its weights under models/awd_lstm.py's
    key names (`0.encoder.weight` ... `1.decoder.bias`), with the sizes they have."""

    name: str
    itos: list[str]
    weights: dict  # name -> torch tensor
    emb_sz: int
    n_hid: int
    n_layers: int

    def sizes(self) -> dict:
        return {"emb_sz": self.emb_sz, "n_hid": self.n_hid, "n_layers": self.n_layers}

    def describe_sizes(self) -> str:
        return f"emb {self.emb_sz}, hidden {self.n_hid}, {self.n_layers} layers"


# ---- the names ------------------------------------------------------------------------------

def is_zoo_name(name: str) -> bool:
    return name in PRETRAINED or name in ALIASES


def zoo_folder(name: str) -> Path:
    """Where `name` (wt103, wt103-fwd, wt103-bwd) is unpacked in the data folder."""
    return cache_dir() / find_dataset(name).folder


def downloaded_zoo() -> list[str]:
    """The pretrained models already unpacked in the data folder (only folders are looked at)."""
    return [name for name, entry in PRETRAINED.items() if (cache_dir() / entry.folder).is_dir()]


def zoo_files(folder: Path) -> tuple[Path, Path]:
    """(the .pth, the .pkl) of an unpacked model: exactly one of each, as fastai's archives hold
    (fastai itself takes the first *.pth and *.pkl it finds)."""
    folder = Path(folder)
    found = {ext: sorted(p for p in folder.rglob(f"*.{ext}") if p.is_file()) for ext in ("pth", "pkl")}
    for ext, paths in found.items():
        if len(paths) != 1:
            what = "none" if not paths else f"{len(paths)} ({', '.join(p.name for p in paths[:3])})"
            raise PretrainedError(f"a pretrained model holds one .{ext} file; {folder.name} holds {what}")
    return found["pth"][0], found["pkl"][0]


# ---- the vocab: a restricted unpickler --------------------------------------------------------

class _Refused(pickle.UnpicklingError):
    """What the vocab's unpickler says when a pickle asks for code."""


class _NoGlobals(pickle.Unpickler):
    """Unpickles plain data only. A pickle runs code by naming a global (a function or a class,
    `os.system` say) for the unpickler to look up and call; this one looks up none."""

    def find_class(self, module, name):
        raise _Refused(f"it names {module}.{name}, and a vocab needs no code")

    def persistent_load(self, pid):
        raise _Refused("it refers to outside objects, and a vocab needs none")


def read_itos(path) -> list[str]:
    """The vocab pickled at `path`: a list of str, read without running anything in it.
    PretrainedError, one line, for anything else."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_ITOS_BYTES:
            raise PretrainedError(f"{path.name} is {size:,} bytes: too big to be a vocab")
        data = path.read_bytes()
    except OSError as error:
        raise PretrainedError(f"{path.name} cannot be read: {error.strerror or error}") from None
    try:
        itos = _NoGlobals(io.BytesIO(data)).load()
    except _Refused as error:
        raise PretrainedError(f"{path.name} was refused: {error}") from None
    except Exception as error:  # noqa: BLE001 - damaged data: any of Unpickling, EOF, Value, Index errors
        raise PretrainedError(f"{path.name} is not a vocab pickle, or is cut short ({error})") from None
    if type(itos) is not list or not all(type(word) is str for word in itos):
        raise PretrainedError(f"{path.name} is not a vocab: it holds a {type(itos).__name__}, "
                              "not a list of words")
    if not itos:
        raise PretrainedError(f"{path.name} is an empty vocab")
    return itos


# ---- the weights ------------------------------------------------------------------------------

def load_weights(path) -> dict:
    """A torch file of weights (tensors and plain data only), unwrapped from {'model': ...}."""
    import torch

    path = Path(path)
    try:
        # mmap: the tensors are read from the file as they are used (the launcher only wants the
        # sizes of wt103's 180 MB); only torch's zip format can be mapped.
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
    except OSError as error:
        raise PretrainedError(f"{path.name} cannot be read: {error.strerror or error}") from None
    except Exception as error:  # noqa: BLE001 - torch's messages advise weights_only=False: never passed on
        with open(path, "rb") as f:
            head = f.read(4)
        if not (zipfile.is_zipfile(path) or head.startswith(b"\x80")):  # torch's zip, or its legacy pickle
            raise PretrainedError(f"{path.name} is not a torch file of weights, or is cut short") from None
        if "Weights only" in str(error):
            raise PretrainedError(f"{path.name} holds objects other than tensors and plain data, "
                                  "which l4tui does not load") from None
        raise PretrainedError(f"{path.name} is damaged or not a torch file of weights "
                              f"({type(error).__name__})") from None
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]  # saved by a Learner, with its optimizer beside it ('opt')
    if not isinstance(state, dict):
        raise PretrainedError(f"{path.name} holds a {type(state).__name__}, not a dict of weights")
    return state


def to_our_keys(state: dict) -> dict:
    """fastai's saved AWD-LSTM language model weights under models/awd_lstm.py's names.

    The names are fastai's own; what differs between fastai's versions is only what is saved:
    fastai 1 saved each LSTM's dropped-out hidden weight (`0.rnns.N.module.weight_hh_l0`) beside
    the real one (`0.rnns.N.weight_hh_l0_raw`): the copy is dropped. The embedding is tied to the
    decoder and read again by EmbeddingDropout, so `0.encoder_dp.emb.weight` and
    `1.decoder.weight`, when not saved, are the embedding's."""
    weights = {key: value for key, value in state.items()
               if not (key.endswith(".module.weight_hh_l0") and key.replace(".module.weight_hh_l0",
                                                                            ".weight_hh_l0_raw") in state)}
    if "0.encoder.weight" in weights:
        embedding = weights["0.encoder.weight"]
        weights.setdefault("0.encoder_dp.emb.weight", embedding)
        weights.setdefault("1.decoder.weight", embedding)
    return weights


def lm_shapes(vocab_sz: int, emb_sz: int, n_hid: int, n_layers: int) -> dict[str, tuple]:
    """Every weight of models/awd_lstm.py's LanguageModel and its shape, for these sizes: an
    LSTM of n_out units has 4 * n_out rows (its input, forget, cell and output gates)."""
    shapes = {"0.encoder.weight": (vocab_sz, emb_sz), "0.encoder_dp.emb.weight": (vocab_sz, emb_sz)}
    for layer in range(n_layers):
        n_in = emb_sz if layer == 0 else n_hid
        n_out = emb_sz if layer == n_layers - 1 else n_hid
        shapes[f"0.rnns.{layer}.weight_hh_l0_raw"] = (4 * n_out, n_out)
        shapes[f"0.rnns.{layer}.module.weight_ih_l0"] = (4 * n_out, n_in)
        shapes[f"0.rnns.{layer}.module.bias_ih_l0"] = (4 * n_out,)
        shapes[f"0.rnns.{layer}.module.bias_hh_l0"] = (4 * n_out,)
    shapes["1.decoder.weight"] = (vocab_sz, emb_sz)
    shapes["1.decoder.bias"] = (vocab_sz,)
    return shapes


def lm_sizes(weights: dict, what: str = "the weights") -> tuple[int, int, int, int]:
    """(vocab_sz, emb_sz, n_hid, n_layers) of an AWD-LSTM language model's weights (our names),
    once every key and shape is what those sizes make. PretrainedError, one line, otherwise."""
    import torch

    if not all(isinstance(key, str) and isinstance(value, torch.Tensor) for key, value in weights.items()):
        raise PretrainedError(f"{what} are not a dict of named tensors")
    embedding = weights.get("0.encoder.weight")
    if embedding is None or embedding.dim() != 2:
        raise PretrainedError(f"{what} are not an AWD-LSTM language model's (no 0.encoder.weight matrix)")
    vocab_sz, emb_sz = embedding.shape
    n_layers = sum(1 for key in weights if key.startswith("0.rnns.") and key.endswith(".weight_hh_l0_raw"))
    first = weights.get("0.rnns.0.weight_hh_l0_raw")
    if n_layers < 2 or first is None or first.dim() != 2:
        raise PretrainedError(f"{what} are not an AWD-LSTM language model's (it has {n_layers} LSTMs; "
                              "l4tui's AWD-LSTM has at least 2)")
    n_hid = first.shape[1]
    expected = lm_shapes(vocab_sz, emb_sz, n_hid, n_layers)
    missing = [key for key in expected if key not in weights]
    extra = [key for key in weights if key not in expected]
    if missing or extra:
        parts = ([f"lacks {', '.join(missing[:3])}"] if missing else []) + \
                ([f"has unexpected {', '.join(extra[:3])}"] if extra else [])
        raise PretrainedError(f"{what} are not an AWD-LSTM language model's: it {' and '.join(parts)}")
    for key, shape in expected.items():
        if tuple(weights[key].shape) != shape:
            raise PretrainedError(f"{what}' sizes disagree: {key} is {tuple(weights[key].shape)}, "
                                  f"emb {emb_sz} and hidden {n_hid} make it {shape}")
    return vocab_sz, emb_sz, n_hid, n_layers


def read_pretrained(name: str, pth, pkl) -> PretrainedLM:
    """The model of a .pth (weights) and a .pkl (vocab), checked; PretrainedError, one line."""
    pth, pkl = Path(pth), Path(pkl)
    itos = read_itos(pkl)
    weights = to_our_keys(load_weights(pth))
    vocab_sz, emb_sz, n_hid, n_layers = lm_sizes(weights, pth.name)
    if vocab_sz != len(itos):
        raise PretrainedError(f"{pkl.name} has {len(itos):,} words but {pth.name} has {vocab_sz:,} "
                              "embedding rows: they are not one model's")
    return PretrainedLM(name, itos, weights, emb_sz, n_hid, n_layers)


def check_unpacked(archive, folder) -> None:
    """The structure check of a downloaded (or hand-placed) zoo archive, once unpacked into
    `folder`: a gzip tar holding one .pth and one .pkl that make a model. PretrainedError."""
    with open(archive, "rb") as f:
        if f.read(2) != b"\x1f\x8b":
            raise PretrainedError("it is not a gzip-compressed tar (.tgz) as fastai's model zoo serves")
    pth, pkl = zoo_files(folder)
    read_pretrained(Path(folder).name, pth, pkl)


def read_zoo(name: str) -> PretrainedLM:
    """A model of the zoo, already unpacked in the data folder. PretrainedError, one line, saying
    how to get it. (train/transfer.py unpacks an archive put in the data folder by hand first.)"""
    entry = find_dataset(name)
    folder = cache_dir() / entry.folder
    if not folder.is_dir():
        raise PretrainedError(f"{name} is not downloaded: run `l4tui data get {name}`, or put "
                              f"{entry.archive_name} in {cache_dir()}")
    pth, pkl = zoo_files(folder)
    return read_pretrained(name, pth, pkl)
