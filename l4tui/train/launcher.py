"""Start a run as its own detached process. The CLI and the TUI both start runs through here."""

import contextlib
import os
import subprocess
import sys
from pathlib import Path

from l4tui.runs.store import new_run_dir, runs_dir_problem, write_run_file
from l4tui.train.recipes import RECIPES, check_data

LAUNCH_LOCK = ".launch.lock"  # in a run's folder: resume_run holds it while it checks and starts


def _spawn(run_dir: Path, command: list[str]):
    with open(run_dir / "stdout.log", "ab") as out, open(run_dir / "stderr.log", "ab") as err:
        return subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
            start_new_session=True,  # not in our process group: Ctrl-C and hang-ups don't reach it
            close_fds=True, cwd=os.getcwd(),
        )


def resume_run(run_dir: Path, checkpoint: str | None = None) -> Path:
    """Start the run's process again, continuing from its last checkpoint (or `checkpoint`, a
    file of its checkpoints folder); the history is kept. The checkpoint is loaded and checked
    first: a damaged one raises CheckpointError (a ValueError) offering a sound earlier one.
    Returns the checkpoint it resumes from."""
    from l4tui.runs.checkpoints import resume_checkpoint
    from l4tui.runs.store import read_run, read_run_file

    from l4tui.runs.store import RUN_FILE, process_alive, write_json_atomic

    with one_launcher_at_a_time(Path(run_dir)):
        info = read_run(run_dir)
        if info.state == "invalid":
            raise ValueError(f"run {info.id} is invalid: {info.error}")
        if info.state in ("running", "starting"):
            raise ValueError(f"run {info.id} is {info.state}; stop it first")
        if info.state == "finished" and checkpoint is None:
            raise ValueError(f"run {info.id} finished; start a new run to train more")
        if info.family not in RECIPES:
            raise ValueError(f"run {info.id} is of an unknown family {info.family!r}; known: {', '.join(RECIPES)}")
        meta = read_run_file(run_dir)
        # Resumed a moment ago: run.json names the new process (written after the run's last end
        # event), alive, but the log still ends "stopped" until it has loaded torch and written its
        # resume event. A second resume now would train the run twice. (The process that wrote the
        # end event may still be exiting: run.json is older than that event then, and that is fine.)
        resumed_since = info.ended is not None and (Path(run_dir) / RUN_FILE).stat().st_mtime > info.ended
        if resumed_since and process_alive(meta.get("pid") or 0, info.id):
            raise ValueError(f"run {info.id} is starting again (process {meta['pid']}); wait for it, or stop it")
        path = resume_checkpoint(Path(run_dir), info.family, checkpoint)
        processes = int(meta.get("processes") or 1)
        command = worker_command(Path(run_dir), processes, resume=True,
                                 checkpoint=path.name if checkpoint else None)
        process = _spawn(Path(run_dir), command)
        meta.update(pid=process.pid, command=command)
        write_json_atomic(Path(run_dir) / RUN_FILE, meta)
    return path


@contextlib.contextmanager
def one_launcher_at_a_time(run_dir: Path):
    """Hold the run's launch lock (`.launch.lock` in its folder, flock: other processes and
    threads wait): two `l4tui runs resume` at once, or the app's `r` beside one, check the run's
    state and start its process one after the other, so the second sees the first's process."""
    try:
        import fcntl
    except ImportError:  # not on POSIX: no lock, as before
        yield
        return
    with open(run_dir / LAUNCH_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def worker_command(run_dir: Path, processes: int = 1, resume: bool = False, checkpoint: str | None = None) -> list[str]:
    """The run's process: the worker itself, or torchrun starting `processes` of it (DDP)."""
    tail = ["-m", "l4tui.train.worker", str(run_dir)] + (["--resume"] if resume else [])
    tail += ["--from", checkpoint] if checkpoint else []
    if processes > 1:
        return [sys.executable, "-m", "torch.distributed.run", "--standalone",
                f"--nproc_per_node={processes}", *tail]
    return [sys.executable, *tail]


def start_run(family: str, config: dict, runs_dir: Path, mode: str = "train", processes: int = 1) -> Path:
    """Create the run folder, start the run process, return the folder. Raises ValueError on a bad config.

    mode "lr_find" runs the learning-rate finder instead of training; its curve is stored like any run.
    """
    if family not in RECIPES:
        raise ValueError(f"unknown family {family!r}; known: {', '.join(RECIPES)}")
    problem = runs_dir_problem(runs_dir, writing=True)  # before the data is read: it is quicker to say
    if problem:
        raise ValueError(problem)
    config_class, _ = RECIPES[family]
    if (family == "lm" and config.get("pretrained")) or (family == "classifier" and config.get("encoder")):
        from l4tui.train.transfer import settle_preset

        config = settle_preset(config, runs_dir)  # the sizes follow the weights it starts from
    checked = config_class.from_dict(config)
    checked.validate()
    check_data(family, checked)
    run_dir = new_run_dir(runs_dir, family if mode == "train" else f"{family}-lr_find")
    if processes < 1:
        raise ValueError("--gpus must be at least 1")
    command = worker_command(run_dir, processes if mode == "train" else 1)
    write_run_file(run_dir, family, checked.to_dict(), command, pid=0, mode=mode, processes=processes)
    process = _spawn(run_dir, command)
    write_run_file(run_dir, family, checked.to_dict(), command, pid=process.pid, mode=mode, processes=processes)
    return run_dir
