"""How many CPU threads a run's torch uses: chosen per run, so runs that share a machine don't collapse.

torch takes every core by default, and its threads wait for each other at the end of each piece
of parallel work. A small model (collab's embeddings, tabular's few dense layers) gains nothing
from a second thread, and two runs that each take every core, or a run beside another busy
program, slow down 14-70x on a 2-core machine (docs/training.md, bench/contention.py). So:

  * `--threads N` (or OMP_NUM_THREADS set by the user) is taken as it is;
  * a GPU run takes 1 thread: its CPU only feeds the GPU;
  * a small model takes 1 thread (under SMALL_DENSE dense weights: embeddings are looked up, not
    multiplied, so they do not count);
  * a larger one (the lesson's AWD-LSTM) takes its share of the cores: the cores split evenly
    between it and the runs already running on the machine, and never more than the cores the
    others leave free.

`choose_threads` is the rule, a pure function. The runs already running are known through a
registry folder per user on the machine ($XDG_RUNTIME_DIR/l4tui/threads, or
<tmp>/l4tui-threads-<uid>): each run process leaves a file named by its pid holding its threads,
and removes it when it ends; files of dead processes are ignored and removed.
"""

import json
import os
import tempfile
from pathlib import Path

SMALL_DENSE = 1_000_000  # dense weights below which one thread is as fast as several
RULE_ENV = "L4TUI_THREAD_RULE"  # "off": torch's own default threads (bench/contention.py --before)


def cores() -> int:
    """The cores this process may run on (its affinity where the system tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def choose_threads(dense_params: int, n_cores: int, others: list, override: int | None = None,
                   device: str = "cpu") -> tuple[int, str]:
    """(threads, why) for a run.

    dense_params: the model's weights that are multiplied (not embedding tables);
    n_cores: the cores the run may use; others: the threads of the runs already running on the
    machine (None for one that has not chosen yet); override: --threads (0 or None: auto)."""
    if override:
        return override, f"--threads {override}"
    if device.startswith("cuda"):
        return 1, "auto: GPU run (the CPU only feeds it)"
    if dense_params < SMALL_DENSE:
        return 1, "auto: small model"
    runs = 1 + len(others)
    share = max(1, n_cores // runs)
    known = sum(t for t in others if t)
    free = n_cores - known - share * sum(1 for t in others if not t)  # an undecided run takes its share
    threads = max(1, min(share, free))
    if not others:
        return threads, f"auto: {n_cores} core{'s' * (n_cores != 1)}"
    return threads, f"auto: {n_cores} cores shared with {len(others)} other run{'s' * (len(others) != 1)}"


def dense_params(model) -> int:
    """The model's weights that take part in matrix products: all but its embedding tables (a
    weight shared with an embedding, as a language model's decoder's, counts as the embedding's)."""
    import torch

    looked_up = {id(m.weight) for m in model.modules() if isinstance(m, (torch.nn.Embedding, torch.nn.EmbeddingBag))}
    return sum(p.numel() for p in model.parameters() if id(p) not in looked_up)


# ---- the registry of the runs on this machine ---------------------------------------------------


def registry_dir() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime) and os.access(runtime, os.W_OK):
        return Path(runtime) / "l4tui" / "threads"
    uid = os.getuid() if hasattr(os, "getuid") else os.getlogin()
    return Path(tempfile.gettempdir()) / f"l4tui-threads-{uid}"


def _started(pid: int) -> str | None:
    """The process's start time (from /proc), so a reused pid is not taken for the run; None where unknown."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _alive(pid: int, started: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return started is None or _started(pid) in (None, started)


class Registry:
    """This machine's running runs and their threads, one file each: <folder>/<pid>.json."""

    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder) if folder else registry_dir()

    def enter(self, threads: int | None, pid: int | None = None, run: str = "") -> None:
        """Note (or update) this process: None threads means it has not chosen yet."""
        pid = pid or os.getpid()
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = self.folder / f"{pid}.json"
            tmp = self.folder / f".{pid}.tmp"
            tmp.write_text(json.dumps({"pid": pid, "threads": threads, "run": run, "started": _started(pid)}))
            os.replace(tmp, path)
        except OSError:
            pass  # no registry: the run chooses as if alone

    def leave(self, pid: int | None = None) -> None:
        try:
            (self.folder / f"{pid or os.getpid()}.json").unlink(missing_ok=True)
        except OSError:
            pass

    def others(self, pid: int | None = None) -> list:
        """The threads of the other live runs (None for those still choosing); dead ones' files go."""
        pid = pid or os.getpid()
        found = []
        try:
            paths = list(self.folder.glob("*.json"))
        except OSError:
            return found
        for path in paths:
            try:
                entry = json.loads(path.read_text())
                other = int(entry["pid"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if other == pid:
                continue
            if not _alive(other, entry.get("started")):
                path.unlink(missing_ok=True)
                continue
            threads = entry.get("threads")
            found.append(threads if isinstance(threads, int) and threads > 0 else None)
        return found


def user_threads() -> int | None:
    """OMP_NUM_THREADS as the user set it (a whole number above 0), else None."""
    try:
        value = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        return None
    return value if value > 0 else None


def apply_threads(model, device: str, override: int | None, registry: Registry, run: str = "") -> dict:
    """Choose the run's threads, set them in torch, note them in the registry; returns the start
    event's fields: {"threads": N, "threads_why": "..."} ({} when the rule is off)."""
    import torch

    if os.environ.get(RULE_ENV) == "off":
        return {"threads": torch.get_num_threads(), "threads_why": "torch's default (thread rule off)"}
    if not override and user_threads():
        threads, why = user_threads(), f"OMP_NUM_THREADS={user_threads()}"
    else:
        # torch's own default counts physical cores where it can tell (MKL), the affinity logical
        # ones: on a machine with hyper-threads, sharing the smaller figure keeps a thread a core.
        n_cores = min(cores(), torch.get_num_threads())
        threads, why = choose_threads(dense_params(model), n_cores, registry.others(), override, device)
    torch.set_num_threads(threads)
    threads = torch.get_num_threads()  # what torch took, read back: the start event says what the run uses
    registry.enter(threads, run=run)
    return {"threads": threads, "threads_why": why}


def one_interop_thread() -> None:
    """Eager training does not run ops side by side: one inter-op thread is enough. Must come
    before any parallel work; later it cannot be changed, and is left as it is."""
    import torch

    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
