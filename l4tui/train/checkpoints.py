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
from pathlib import Path

from l4tui.train.run_fields import is_count

FOLDER = "checkpoints"
LAST = "last.pt"


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
