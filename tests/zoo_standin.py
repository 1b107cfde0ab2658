"""A stand-in for fastai's wt103 archive, at any size: the tests and bench/pretrained_standin.py
make one instead of downloading 200 MB.

    wt103-fwd.tgz
      wt103-fwd/lstm_fwd.pth      the AWD-LSTM's weights, under fastai's key names
      wt103-fwd/itos_wt103.pkl    the vocab: a pickled list of str

`layout` picks how fastai saved them: "fastai2" (each LSTM's hidden weight once, as
`0.rnns.N.weight_hh_l0_raw`) or "fastai1" (also its copy `0.rnns.N.module.weight_hh_l0`);
`wrapped` puts them in {'model': ..., 'opt': ...} as a Learner.save does.
"""

import io
import pickle
import tarfile
from pathlib import Path

SPECIALS = ["xxunk", "xxpad", "xxbos", "xxeos", "xxfld", "xxrep", "xxwrep", "xxup", "xxmaj"]
WORDS = ("the , . a and of to is in it i this that was as with for movie film but on not you are his "
         "have he be one all at by they who an from so like her just about or has out if some what "
         "there good more when very up she even my no would which only story really see their had "
         "can were me well than we much been get bad will also into people other great because do "
         "most how its first him don time made then them way could make any too after characters "
         "think watch films two many seen being never plot acting love best little know life where "
         "wikipedia century river album county census").split()


def fastai_weights(state: dict, layout: str = "fastai2") -> dict:
    """Our LanguageModel's state dict (models/awd_lstm.py) as fastai saves it."""
    weights = {key: value.detach().clone() for key, value in state.items()}
    if layout == "fastai1":  # fastai 1 also kept the LSTM's dropped-out copy of weight_hh_l0
        for key in list(weights):
            if key.endswith(".weight_hh_l0_raw"):
                weights[key.replace(".weight_hh_l0_raw", ".module.weight_hh_l0")] = weights[key].clone()
    return weights


def random_lm_state(vocab_sz: int, emb_sz: int = 64, n_hid: int = 128, n_layers: int = 3, seed: int = 0) -> dict:
    """The weights of an AWD-LSTM language model of these sizes, at random (ours, by name)."""
    import torch

    from l4tui.data.zoo import lm_shapes

    generator = torch.Generator().manual_seed(seed)
    state = {key: torch.randn(shape, generator=generator) * 0.1
             for key, shape in lm_shapes(vocab_sz, emb_sz, n_hid, n_layers).items()}
    state["0.encoder_dp.emb.weight"] = state["0.encoder.weight"]
    state["1.decoder.weight"] = state["0.encoder.weight"]
    return state


def standin_itos(n_words: int | None = None) -> list[str]:
    words = SPECIALS + [w for w in dict.fromkeys(WORDS) if w not in SPECIALS]
    if n_words is not None:
        words = (words + [f"word{i}" for i in range(n_words)])[:n_words]
    return words


def archive_bytes(itos: list[str], state: dict, direction: str = "fwd", layout: str = "fastai2",
                  wrapped: bool = False, itos_pickle: bytes | None = None, extra: dict | None = None) -> bytes:
    """The .tgz as fastai's model zoo serves it. `itos_pickle` replaces the vocab's bytes (a
    hostile pickle), `extra` adds members {name: bytes}."""
    import torch

    weights = fastai_weights(state, layout)
    payload = {"model": weights, "opt": {"state": {}, "param_groups": []}} if wrapped else weights
    pth = io.BytesIO()
    torch.save(payload, pth)
    members = {f"wt103-{direction}/lstm_{direction}.pth": pth.getvalue(),
               f"wt103-{direction}/itos_wt103.pkl": itos_pickle if itos_pickle is not None else pickle.dumps(itos),
               **(extra or {})}
    return tgz(members)


def write_standin(folder, itos: list[str] | None = None, state: dict | None = None, direction: str = "fwd",
                  **options) -> Path:
    """Write wt103-<direction>.tgz into `folder` (a data folder: $L4TUI_DATA), as if put there
    by hand; returns its path. Defaults: the small preset's sizes, random weights."""
    itos = itos if itos is not None else standin_itos()
    state = state if state is not None else random_lm_state(len(itos))
    path = Path(folder) / f"wt103-{direction}.tgz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(archive_bytes(itos, state, direction, **options))
    return path


def tgz(members: dict) -> bytes:
    """A gzip tar in memory holding `members` (path in the archive -> bytes)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
