"""The run process: `python -m l4tui.train.worker RUN_DIR [--resume [--from CHECKPOINT]]`.

It is started detached (its own session, no terminal) so it outlives the TUI or the shell that
started it and the SSH link they came through. It reads its config from run.json, trains, and
reports everything through the run folder: events, checkpoints, stdout/stderr.

Checkpoints (`checkpoints/last.pt` after every epoch, `best.pt` when the validation figure
improves) hold the weights, the optimizer's state and where in the schedule the run is, so
`--resume` continues exactly there (`--from epoch-003.pt`: from an earlier one, see
checkpoints.py). They load with `torch.load(..., weights_only=True)`.
"""

import math
import os
import signal
import sys
import threading
import traceback
from pathlib import Path

from l4tui.runs.checkpoints import (BEST, FOLDER, LAST, CheckpointError, load_checkpoint,
                                     load_for_resume, save_checkpoint_atomic)
from l4tui.runs.events import EventWriter
from l4tui.runs.store import read_run_file
from l4tui.train.recipes import RECIPES
from l4tui.train.threads import Registry, apply_threads, one_interop_thread


class Checkpointer:
    """Saves last.pt after each epoch and best.pt when the task's best metric improves; and the
    weights of every epoch as epoch-001.pt, epoch-002.pt ... (without the optimizer's state, which
    is twice their size), so the app can show how the weights and embeddings changed epoch by epoch."""

    def __init__(self, run_dir: Path, family: str, config, task, best=None):
        self.folder = run_dir / FOLDER
        self.family, self.config, self.task = family, config, task
        self.higher_is_better = task.best_metric in ("accuracy", "valid_accuracy")
        self.best = best

    def __call__(self, stage: int, epoch: int, results: dict, optimizer) -> None:
        payload = {"model": self.task.model.state_dict(),
                   "stage": stage, "epoch": epoch, "family": self.family, "config": self.config.to_dict(),
                   "results": {k: v for k, v in results.items() if isinstance(v, (int, float))},
                   **self.task.extras}
        # Numbered over the whole run (stages one after another), from 1, as the app shows epochs.
        number = sum(s.epochs for s in self.task.stages[:stage]) + epoch + 1
        payload["epoch_number"] = number
        save_checkpoint_atomic(self.folder / f"epoch-{number:03d}.pt", payload)
        payload["optimizer"] = optimizer.state_dict()
        save_checkpoint_atomic(self.folder / LAST, payload)
        value = results.get(self.task.best_metric)
        if value is not None and math.isfinite(value) and self._better(value):
            self.best = value
            save_checkpoint_atomic(self.folder / BEST, payload)

    def _better(self, value: float) -> bool:
        if self.best is None:
            return True
        return value > self.best if self.higher_is_better else value < self.best


class NoEvents:
    """The events of processes other than rank 0: rank 0 alone writes the run folder."""

    def write(self, *args, **kwargs) -> None:
        pass

    def close(self) -> None:
        pass


def start_distributed(config):
    """Under torchrun: join the process group. Returns (rank, world, device) — (0, 1, None) alone."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1, None
    import torch
    import torch.distributed as dist

    cuda = torch.cuda.is_available() and config.device != "cpu"
    dist.init_process_group("nccl" if cuda else "gloo")
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if cuda:
        torch.cuda.set_device(local_rank)
    return dist.get_rank(), world, f"cuda:{local_rank}" if cuda else "cpu"


def best_so_far(run_dir: Path, metric: str):
    """The best figure of the run before a resume, from best.pt (None when it cannot be read)."""
    path = run_dir / FOLDER / BEST
    if not path.is_file():
        return None
    try:
        value = (load_checkpoint(path).get("results") or {}).get(metric)
    except CheckpointError:
        return None
    return value if isinstance(value, (int, float)) else None


def run(run_dir: Path, resume: bool = False, checkpoint: str = LAST) -> int:
    from l4tui.train.device import device_stats_reader, pick_device
    from l4tui.train.loop import StopTraining, fit

    meta = read_run_file(run_dir)
    # Run ids in the config (a classifier's encoder, an LM's pretrained weights) name runs beside
    # this one, whatever runs folder the CLI or the app was given.
    os.environ["L4TUI_RUNS"] = str(Path(run_dir).resolve().parent)
    config_class, prepare = RECIPES[meta["family"]]
    config = config_class.from_dict(meta.get("config") or {})
    rank, world, distributed_device = start_distributed(config)
    events = EventWriter(run_dir) if rank == 0 else NoEvents()
    stop_requested = threading.Event()
    # SIGTERM (from `l4tui runs stop` or the app) asks for a clean stop at the next batch.
    signal.signal(signal.SIGTERM, lambda *_: stop_requested.set())
    signal.signal(signal.SIGINT, lambda *_: stop_requested.set())
    # A dropped SSH link must not end the run.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    task = None
    registry = Registry()
    registry.enter(None, run=Path(run_dir).name)  # running, threads not chosen yet: others count it
    try:
        import torch

        one_interop_thread()
        family = meta["family"]
        torch.manual_seed(config.seed)  # the same on every process: the same first weights
        device = distributed_device or pick_device(config.device)
        def report(**fields) -> None:
            # What preparing the data takes long for (tokenizing a big corpus) is told as `prepare`
            # events: the monitor and `l4tui runs follow` show it before the first batch. A stop
            # asked for meanwhile ends the run here rather than after the tokenizing.
            events.write("prepare", **fields)
            if stop_requested.is_set():
                raise StopTraining()

        task = prepare(config, device, report=report)
        task.fp16 = bool(getattr(config, "fp16", False))
        task.cpu_bf16 = bool(getattr(config, "cpu_bf16", False))
        task.div, task.pct_start = config.div, config.pct_start
        task.device_stats = device_stats_reader(device)
        # The model's size is known now: choose the threads (threads.py) before the first batch.
        threads = apply_threads(task.model, device, getattr(config, "threads", 0), registry, Path(run_dir).name)
        if config.moms:
            task.moms = tuple(config.moms)
        if world > 1:
            from torch.nn.parallel import DistributedDataParallel

            from l4tui.train.batches import ShardedBatches

            task.train = ShardedBatches(task.train, rank, world)
            task.wrap = lambda model: DistributedDataParallel(
                model, device_ids=[torch.device(device).index] if device.startswith("cuda") else None)
        if meta.get("mode") == "lr_find":
            from l4tui.train.lr_find import lr_find

            events.write("start", device=device, epochs=1, mode="lr_find", **threads, **task.start)
            found = lr_find(task, events, should_stop=stop_requested.is_set)
            events.write("end", state="finished", metrics=found)
            return 0
        every = getattr(config, "activation_stats_every", 0)
        if every and rank == 0:  # rank 0 alone writes events: the others would compute figures for nothing
            from l4tui.train.activation_stats import ActivationStats

            task.activation_stats = ActivationStats(task.model, every)
        state = None
        if resume:
            state = load_for_resume(run_dir / FOLDER / checkpoint, family)
            task.model.load_state_dict(state["model"])
            # Where the history rewinds to: the epochs from from_epoch on train again, and readers
            # drop what they logged before (a killed epoch's batches; later epochs, from an earlier file).
            from_epoch = sum(s.epochs for s in task.stages[:state["stage"]]) + state["epoch"] + 1
            events.write("resume", stage=state["stage"], epoch=state["epoch"], from_epoch=from_epoch,
                         checkpoint=checkpoint, device=device, **threads)
        else:
            events.write("start", device=device, epochs=sum(s.epochs for s in task.stages),
                         stages=[s.name for s in task.stages], processes=world, **threads, **task.start)
        best = best_so_far(run_dir, task.best_metric) if resume else None
        checkpointer = Checkpointer(run_dir, family, config, task, best)
        results = fit(task, events, should_stop=stop_requested.is_set,
                      on_epoch_end=checkpointer if rank == 0 else None,
                      resume=state and {"stage": state["stage"], "epoch": state["epoch"],
                                        "optimizer": state.get("optimizer")})
        baselines = {k: v for k, v in task.start.items() if k.startswith(("baseline", "unigram"))}
        events.write("end", state="finished", metrics={**results, **baselines})
        return 0
    except StopTraining:
        events.write("end", state="stopped")
        return 0
    except BaseException as error:  # everything the run dies of is reported in its folder
        trace = traceback.format_exc()
        print(trace, file=sys.stderr, flush=True)
        events.write("end", state="failed", error=f"{type(error).__name__}: {error}", traceback=trace)
        return 1
    finally:
        registry.leave()
        if task is not None and task.regularizer is not None:
            task.regularizer.remove()
        if task is not None and task.activation_stats is not None:
            task.activation_stats.remove()
        events.close()
        if world > 1:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()


def wait_passively() -> None:
    """Make torch's CPU threads sleep, not spin, while they wait for each other.

    torch's threads (GNU OpenMP) spin at the end of each parallel piece of work (every matrix
    product of each LSTM time step) waiting for the slowest thread. When other programs use the
    cores too, a spinning thread takes a core from the thread it waits for: on a shared 2-core
    machine the lesson's LSTMs trained 3-4x slower with 2 threads than with 1; sleeping, 2 threads
    were as fast as 1 there (bench/lm_speed.py, docs/training.md). A sleeping thread takes
    microseconds to wake, which is little beside an LSTM step. Read when torch is imported, so it
    is set before that; the user's own OMP_WAIT_POLICY wins."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main(argv: list[str]) -> int:
    wait_passively()
    checkpoint = argv[argv.index("--from") + 1] if "--from" in argv[1:-1] else LAST
    return run(Path(argv[0]), resume="--resume" in argv[1:], checkpoint=Path(checkpoint).name)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
