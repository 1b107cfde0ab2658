"""A run's checkpoint files: saving them whole, loading them safely, and which one a resume uses.

Checkpoints are untrusted input like the rest of a run folder. They load with
`torch.load(..., weights_only=True)` only: tensors and plain data, never arbitrary objects, so
loading one runs no code. A file that does not load (truncated by a full disk, replaced by text,
empty) is reported in one line naming it, in l4tui's words: torch's own message would advise
`weights_only=False`, which is exactly what must not be done with a file one does not trust.

Resuming uses `last.pt` (the weights, the optimizer's state, the place in the schedule). When it
is damaged, the resume does not start: the message offers the latest sound earlier checkpoint,
the newest `epoch-NNN.pt` or `best.pt`, and `--from FILE` (`r` in the app asks) resumes there; the
run then trains again from the epoch after that checkpoint, and readers drop what the undone
epochs had logged (events.py). Epoch files hold no optimizer state: AdamW's moments restart.
"""

import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from l4tui.runs.fields import is_count

FOLDER = "checkpoints"
LAST = "last.pt"  # after every epoch, with the optimizer's state: what a resume uses
BEST = "best.pt"  # when the validation figure improved: what the screens show of a trained run


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; `offer` names a sound one to resume from instead."""

    def __init__(self, message: str, offer: str | None = None):
        super().__init__(message)
        self.offer = offer


def save_checkpoint_atomic(path: Path, payload: dict) -> None:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)  # a reader sees the old checkpoint or the new one, never half of one


def shown(path: Path) -> str:
    """RUN/checkpoints/FILE: enough to find it, short enough for one line."""
    path = Path(path)
    return f"{path.parent.parent.name}/{path.parent.name}/{path.name}"


def load_checkpoint(path: Path) -> dict:
    """The checkpoint at `path` (tensors and plain data only); CheckpointError, one line, when it
    is missing, not a file, damaged, or holds anything else."""
    import pickle

    import torch

    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        raise CheckpointError(f"{shown(path)} cannot be read: {error.strerror}") from None
    if not stat.S_ISREG(mode):  # torch.load of a FIFO would wait forever
        raise CheckpointError(f"{shown(path)} is not a regular file")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch's messages advise weights_only=False: never passed on
        if os.path.getsize(path) == 0:
            what = "it is empty"
        elif not zipfile.is_zipfile(path):
            what = "truncated, or not a torch checkpoint"
        elif isinstance(error, pickle.UnpicklingError) and "Weights only" in str(error):
            what = "it holds objects other than tensors and plain data, which l4tui does not load"
        else:
            what = f"damaged ({type(error).__name__})"
        raise CheckpointError(f"{shown(path)} cannot be loaded: {what}") from None
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f"{shown(path)} is not an l4tui checkpoint (it holds a {type(checkpoint).__name__})")
    return checkpoint


def check_resumable(checkpoint: dict, path: Path, family: str) -> None:
    """Does the checkpoint hold what a resume needs, for a run of `family`?"""
    model = checkpoint.get("model")
    if not isinstance(model, dict) or not model:
        raise CheckpointError(f"{shown(path)} has no model weights")
    if not (is_count(checkpoint.get("stage")) and is_count(checkpoint.get("epoch"))):
        raise CheckpointError(f"{shown(path)} does not say which epoch it was saved after")
    if checkpoint.get("family") not in (None, family):
        raise CheckpointError(f"{shown(path)} is a {checkpoint.get('family')} checkpoint, not a {family} one")


def load_for_resume(path: Path, family: str) -> dict:
    checkpoint = load_checkpoint(path)
    check_resumable(checkpoint, path, family)
    return checkpoint


def epoch_number(checkpoint: dict) -> int | None:
    """The epoch a checkpoint was saved after, 1-based over the whole run (as epoch-NNN.pt)."""
    if is_count(checkpoint.get("epoch_number")):
        return checkpoint["epoch_number"]
    if checkpoint.get("stage") == 0:  # checkpoints saved before they said it: the first stage's
        return checkpoint["epoch"] + 1
    return None


def epoch_files(folder: Path) -> list[Path]:
    """epoch-NNN.pt, newest first."""
    numbered = []
    for path in Path(folder).glob("epoch-*.pt"):
        number = path.stem.removeprefix("epoch-")
        if number.isascii() and number.isdigit():
            numbered.append((int(number), path))
    return [path for _, path in sorted(numbered, reverse=True)]


def earlier_sound(folder: Path, family: str) -> str | None:
    """The checkpoint to offer when last.pt is damaged: the newest sound epoch file, or best.pt
    when it is as new (it keeps the optimizer's state), or best.pt alone. None: no sound one."""
    best = Path(folder) / "best.pt"
    best_number = None
    if best.is_file():
        try:
            checkpoint = load_for_resume(best, family)
            best_number = epoch_number(checkpoint)
        except CheckpointError:
            best = None
    else:
        best = None
    for path in epoch_files(folder):
        number = int(path.stem.removeprefix("epoch-"))
        if best is not None and best_number is not None and best_number >= number:
            return best.name
        try:
            load_for_resume(path, family)
            return path.name
        except CheckpointError:
            continue
    return best.name if best is not None else None


def resume_checkpoint(run_dir: Path, family: str, wanted: str | None = None) -> Path:
    """The checkpoint a resume of the run starts from: `wanted` (a file of the run's checkpoints
    folder) or last.pt, checked. CheckpointError, one line, naming the file and offering a sound
    earlier one, when it cannot be used."""
    folder = Path(run_dir) / FOLDER
    name = Path(wanted).name if wanted else LAST
    if wanted and Path(wanted).parent != Path(".") and Path(wanted).parent.resolve() != folder.resolve():
        raise CheckpointError(f"--from takes a file of {Path(run_dir).name}/{FOLDER}: last.pt, best.pt or "
                              f"epoch-NNN.pt")
    path = folder / name
    if not path.exists():
        if wanted:
            raise CheckpointError(f"run {Path(run_dir).name} has no {shown(path)}")
        raise CheckpointError(f"run {Path(run_dir).name} has no checkpoint to resume from "
                              f"(it ended before its first epoch)")
    try:
        load_for_resume(path, family)
    except CheckpointError as error:
        offer = earlier_sound(folder, family) if name == LAST else None
        if offer:
            raise CheckpointError(f"{error}; resume from an earlier one: l4tui runs resume {Path(run_dir).name} "
                                  f"--from {offer}", offer) from None
        if name == LAST:
            raise CheckpointError(f"{error}, and the run has no sound checkpoint to resume from: "
                                  f"start a new run") from None
        raise
    return path


@dataclass(frozen=True)
class CheckpointFile:
    label: str  # "epoch 3", "best", "last"
    path: Path
    epoch: int | None  # 1-based over the whole run, for the epoch files


def list_checkpoints(run_dir: Path) -> list[CheckpointFile]:
    """A run's checkpoints in the order they were made: each epoch's weights, then best and last."""
    folder = Path(run_dir) / FOLDER
    found = []
    for path in reversed(epoch_files(folder)):
        if path.is_file():
            number = int(path.stem.removeprefix("epoch-"))
            found.append(CheckpointFile(f"epoch {number}", path, number))
    for name in (BEST, LAST):
        if (folder / name).is_file():
            found.append(CheckpointFile(Path(name).stem, folder / name, None))
    return found

def run_dir_of_checkpoint(weights: str) -> Path | None:
    """The run folder of a checkpoint path (RUN/checkpoints/X.pt); None for weights that are no
    checkpoint file (a fresh model's are named by its preset)."""
    path = Path(weights)
    return path.parent.parent if path.suffix == ".pt" else None


def default_choice(labels: list[str]) -> tuple[int, int | None]:
    """Of a run's checkpoints (list_checkpoints' labels), the one shown first (best, else last,
    else the latest epoch) and the one it is compared with (the first epoch's weights, when there
    are epochs to compare)."""
    shown = labels.index("best") if "best" in labels else (labels.index("last") if "last" in labels else len(labels) - 1)
    epochs = [i for i, label in enumerate(labels) if label.startswith("epoch")]
    base = epochs[0] if len(epochs) > 1 else None
    return shown, base


def trained_weights(run_dir: Path) -> Path:
    """The checkpoint that shows what a run learned: best.pt, else last.pt. ValueError, one line,
    when the run has neither yet."""
    folder = Path(run_dir) / FOLDER
    for name in (BEST, LAST):
        if (folder / name).is_file():
            return folder / name
    raise ValueError(f"run {Path(run_dir).name} has no checkpoint yet (it ended before its first epoch)")


def find_checkpoint(name: str, runs_dir) -> tuple[Path, str]:
    """(the checkpoint file, how a config names it) for `name`: a run id (its last.pt; named by
    the run's id) or a .pt file (named by its absolute path). Raises ValueError with one line when
    it is missing, unreadable or no checkpoint; the file is only looked at, not loaded."""
    from l4tui.runs.store import find_run
    from l4tui.textcut import clip

    path = Path(name).expanduser()
    looks_like_a_path = path.is_absolute() or "/" in name or path.suffix == ".pt"
    if path.is_file() or looks_like_a_path:
        if not path.exists() and not path.is_symlink():
            raise ValueError(f"{clip(name)}: no such checkpoint file (give a .pt file or a run id)")
        sniff_checkpoint(path)
        return path, str(path.resolve())
    run_dir = find_run(Path(runs_dir), name) if Path(runs_dir).is_dir() else None
    if run_dir is None:
        raise ValueError(f"no run {clip(name)!r} in {runs_dir}, and no checkpoint file of that name "
                         "(`l4tui runs` lists the runs)")
    path = run_dir / FOLDER / LAST
    if not path.is_file():
        raise ValueError(f"run {run_dir.name} has no checkpoint yet (it ended before its first epoch)")
    sniff_checkpoint(path)
    return path, run_dir.name


def sniff_checkpoint(path) -> None:
    """A file torch.save could have written: a zip holding a data.pkl (or an old-style pickle).
    Looks at the file without loading it; ValueError, one line, when it is not one."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
        if head.startswith(b"\x80"):
            return  # torch's legacy format: a pickle
        with zipfile.ZipFile(path) as archive:
            if any(name.endswith("data.pkl") for name in archive.namelist()):
                return
    except IsADirectoryError:
        raise ValueError(f"{path}: is a folder, not a checkpoint file") from None
    except OSError as error:
        raise ValueError(f"{path}: can't be read: {error.strerror or error}") from None
    except zipfile.BadZipFile:
        pass
    raise ValueError(f"{path}: is not a checkpoint (torch's .pt format), or is cut short "
                     "(give the .pt file a run saved)")


def load_named_checkpoint(name: str) -> dict:
    """A run's last checkpoint (by run id, in the runs folder) or a checkpoint file; ValueError,
    one line, when it can't be."""
    from l4tui.paths import runs_dir

    path, _ = find_checkpoint(name, runs_dir())
    return load_checkpoint(path)
