"""Epoch times of our training loop: against a plain PyTorch loop, with the app watching, and against fastai.

    python bench/train.py [--families collab,tabular,lm,classifier] [--epochs 3] [--quick]
                          [--watcher app|poll|none] [--threads N] [--activation-stats N[,N...]]

For each family the recipe's `prepare_*` builds its Task (device cpu), on data of the sizes of
the fastai anchors (generated, deterministically, in a temp folder: a MovieLens-100k-sized u.data,
an adult-sized adult.csv; the bundled review sample for lm and classifier). Then:

1. our loop: `l4tui.train.loop.fit` on the Task, 1 warm-up epoch + N timed epochs (for the
   classifier: its three one-epoch stages, then 1 + N epochs of the unfrozen stage; only
   those N are timed); events go to a real EventWriter;
2. the plain loop: the same model (a second Task prepared from the same seed: the same initial
   weights), the same batches in the same order (the same epoch numbers), the same batch size:
   a for loop of forward, loss (+ the AWD-LSTM's AR/TAR penalty for the LM, as ours), zero_grad,
   backward, AdamW step (our optimizer's hyper-parameters, a constant lr: no schedule), no
   events; then a plain validation pass (forward + loss under no_grad), as our epoch has one;
3. the app watching: the recipe as three real detached runs (`start_run`) into a temp runs
   folder: unwatched, watched, unwatched again. The watcher (`--watcher app`, the default) is
   the real Textual app: L4App in a pseudo-terminal, switched to its Data & training pane by
   typing 2, watching the run as when its row is picked (it tails the run's events every 0.5 s
   and lists the runs every 2 s); or (`--watcher poll`) a process that does just that polling,
   EventReader.read_new() every 0.5 s and list_runs every 2 s. The epoch times are the runs'
   own `epoch_seconds`.

Our loop and the plain loop take turns epoch by epoch (the plain loop's epoch runs from our
fit's on_epoch_end, outside our epoch's time), so drift of the machine's speed favours neither.
Epoch times are medians over the timed epochs and include the validation pass (as fastai's
`time` column does); the train pass alone is timed too. The output says how busy other
processes kept the CPUs meanwhile (on a shared machine that is the main noise).

`--activation-stats N[,N...]` measures something else, alone: what recording activation
statistics every N training batches (the `activation_stats_every` option;
l4tui/train/activation_stats.py) adds to an epoch of our loop. One Task of the recipe without the
recorder and one with it for each N, all prepared from the same seed, each run as one-epoch fits
(the recipe's last stage, one epoch at a time, the same batches) taking turns, each round
starting one further along the order: 1 warm-up round + --epochs timed rounds. The overhead is
the median, over the rounds, of (on - off) / off, for the whole epoch (train + validation, wall
clock), for the train pass alone, and for this process's CPU time; the events' size is shown too.

fastai 2.8 anchors, re-measured side by side on this 2-core machine kind on 2026-12-06 (older
figures were from slower machines): collab_learner (50 factors, bs 64) 7.64 s an epoch on
MovieLens 100k's 80,000 training ratings (RMSE 0.924); tabular_learner ([200,100], bs 64) 3.49 s an
epoch on adult's 26,000 training rows (accuracy 0.837). bench/tabular_vs_fastai.py runs fastai
itself beside our loop, where a fastai is installed; these anchors are for machines without it.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# `python bench/train.py` puts bench/ first on sys.path, where bench/tokenize.py would shadow the
# standard library's tokenize (which torch's import reaches through linecache): take bench/ off,
# put the repo root on, and load our data helper by path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

FAMILIES = ("collab", "tabular", "lm", "classifier")
ANCHORS = {"collab": 7.64, "tabular": 3.49}  # fastai 2.8, seconds per epoch, bs 64, this machine kind (2026-12-06)
POLL_S, RUNS_POLL_S = 0.5, 2.0  # the TUI's data pane: tail the watched run, list the runs
RUN_TIMEOUT_S = 900
STARTED_RUNS: list[Path] = []  # stopped at exit if still running (Ctrl-C, an error)


class OthersCPU:
    """How busy the machine was with other processes (other engineers' tests, say) while we
    measured: the CPU time all processes used (/proc/stat) less ours and our children's."""

    def __init__(self):
        self.start = self._sample()

    @staticmethod
    def _sample():
        try:
            fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except (OSError, ValueError):
            return None
        busy = sum(fields[:3]) + sum(fields[5:8])  # user nice system, irq softirq steal
        times = os.times()
        ours = times.user + times.system + times.children_user + times.children_system
        return time.time(), busy / os.sysconf("SC_CLK_TCK"), ours

    def share(self):
        """Other processes' share of all the CPUs since the start, 0..1 (None without /proc)."""
        end = self._sample()
        if self.start is None or end is None:
            return None
        wall = (end[0] - self.start[0]) * (os.cpu_count() or 1)
        return max(0.0, (end[1] - self.start[1]) - (end[2] - self.start[2])) / max(wall, 1e-9)


def int_list(text: str) -> list[int]:
    """`25,50` -> [25, 50], for argparse."""
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got {text!r}") from None


def log(message: str) -> None:
    """Progress goes to stderr; the results go to stdout."""
    print(message, file=sys.stderr, flush=True)


def load_module(name: str):
    """A helper module of bench/ (`_train_data`, `_pty_app`), loaded by path (bench/ is off sys.path)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_l4tui_bench{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_helper():
    return load_module("_train_data")


def make_data(tmp: Path, families: list[str], quick: bool) -> dict:
    """Each family's `data` config value (a path, or a bundled name)."""
    helper = load_helper()
    data = {}
    if "collab" in families:
        sizes = dict(n_ratings=10_000, n_users=300, n_items=600) if quick else helper.ML100K
        started = time.time()
        data["collab"] = str(helper.make_ratings(tmp / "ml" / "u.data", **sizes).parent)
        log(f"generated {sizes['n_ratings']:,} ratings ({sizes['n_users']:,} users, {sizes['n_items']:,} items) "
            f"in {time.time() - started:.1f} s")
    if "tabular" in families:
        rows = 4_000 if quick else helper.ADULT_ROWS
        started = time.time()
        data["tabular"] = str(helper.make_adult(tmp / "adult" / "adult.csv", rows))
        log(f"generated {rows:,} adult-like rows in {time.time() - started:.1f} s")
    for family in ("lm", "classifier"):
        if family in families:
            if quick:
                from l4tui.data.sources import resolve

                path = tmp / "imdb" / "texts.csv"
                if not path.exists():
                    helper.make_texts_subset(resolve("bundled-imdb"), path, 300)
                data[family] = str(path)
            else:
                data[family] = "bundled-imdb"
    return data


# ---- timing the loops in this process ---------------------------------------------------------


class TimedBatches:
    """Wraps a batch source: the time from a pass's first batch asked to its last one done, and
    how many items it held. Both loops train through it, so it costs both the same."""

    def __init__(self, source):
        self.source = source
        self.seconds, self.items = {}, {}

    def n_batches(self, epoch: int = 0) -> int:
        return self.source.n_batches(epoch)

    def epoch_batches(self, epoch: int):
        items, started = 0, time.perf_counter()
        for inputs, target in self.source.epoch_batches(epoch):
            items += target.numel() if target.dim() > 1 else len(target)
            yield inputs, target
        self.seconds[epoch], self.items[epoch] = time.perf_counter() - started, items


class RecordingEvents:
    """A real EventWriter (our loop writes its events as in a run) that also keeps the epoch events."""

    def __init__(self, writer):
        self.writer, self.epochs = writer, []

    def write(self, type_: str, **fields) -> None:
        self.writer.write(type_, **fields)
        if type_ == "epoch":
            self.epochs.append(fields)

    def close(self) -> None:
        self.writer.close()


def batch_size(target) -> int:
    return target.numel() if target.dim() > 1 else len(target)


class PlainLoop:
    """The minimal PyTorch loop, one epoch per call: forward, loss (+ the LM's AR/TAR penalty, as
    ours adds it), zero_grad, backward, AdamW step; no events, no schedule (a constant lr: the
    stage's peak); then a plain validation pass (forward + loss under no_grad)."""

    def __init__(self, task, stage, batches: TimedBatches):
        import torch

        from l4tui.train.loop import lrs_for_groups, param_groups

        self.task, self.batches = task, batches
        if stage.freeze_to is not None:
            task.model.freeze_to(stage.freeze_to)
        groups = param_groups(task.model, task.groups)  # our optimizer's groups: the same tensors, the same order
        self.optimizer = torch.optim.AdamW(
            [{"params": params, "lr": lr} for params, lr in zip(groups, lrs_for_groups(stage.lr, len(groups)))],
            betas=(task.moms[0], 0.99), eps=1e-5, weight_decay=task.wd)
        self.timings = []

    def epoch(self, epoch: int) -> None:
        import torch

        task, model, optimizer = self.task, self.task.model, self.optimizer
        recurrent = hasattr(model, "reset")
        started = time.perf_counter()
        model.train()
        if recurrent:
            model.reset()
        for inputs, target in self.batches.epoch_batches(epoch):
            loss = task.loss_func(model(*inputs), target)
            if task.regularizer is not None:
                loss = loss + task.regularizer.penalty()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if task.clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), task.clip)
            optimizer.step()
        model.eval()
        if recurrent:
            model.reset()
        total, count = 0.0, 0
        with torch.no_grad():
            for inputs, target in task.valid.epoch_batches(0):
                size = batch_size(target)
                total += task.loss_func(model(*inputs), target).item() * size
                count += size
        if recurrent:
            model.reset()
        self.timings.append({"epoch": epoch, "epoch_s": time.perf_counter() - started,
                             "train_s": self.batches.seconds[epoch], "items": self.batches.items[epoch]})


def measure_loops(family: str, config_dict: dict, tmp: Path) -> dict:
    """Our loop and the plain loop, in this process, epoch by epoch in turn: after each epoch of
    ours, the plain loop trains one epoch of its own (so a machine whose speed drifts favours
    neither). Each has its own Task, prepared twice from the same seed: the same initial weights,
    the same batches in the same order. The plain loop draws its dropout masks from its own copy
    of the random stream, so ours trains exactly as the run process does."""
    import torch

    from l4tui.runs.events import EventWriter
    from l4tui.train.loop import evaluate, fit
    from l4tui.train.recipes import RECIPES

    config_class, prepare = RECIPES[family]
    config = config_class.from_dict(config_dict)
    config.validate()
    torch.manual_seed(config.seed)  # as the run process does, so its figures match ours
    task = prepare(config, "cpu")
    rng = torch.get_rng_state()
    torch.manual_seed(config.seed)
    plain_task = prepare(config, "cpu")
    ours_init, plain_init = task.model.state_dict(), plain_task.model.state_dict()
    assert all(torch.equal(ours_init[k], plain_init[k]) for k in ours_init), "the two models start differently"
    torch.set_rng_state(rng)

    timed_stage = len(task.stages) - 1
    first = sum(stage.epochs for stage in task.stages[:-1])  # the timed stage's first epoch number
    task.train = batches = TimedBatches(task.train)
    plain = PlainLoop(plain_task, task.stages[-1], TimedBatches(plain_task.train))
    plain_rng = rng.clone()

    def after_epoch(stage_index, epoch, results, optimizer):
        nonlocal plain_rng
        if stage_index == timed_stage:
            with torch.random.fork_rng(devices=[]):
                torch.set_rng_state(plain_rng)
                plain.epoch(first + epoch)
                plain_rng = torch.get_rng_state()

    log_dir = tmp / f"inprocess-{family}"
    log_dir.mkdir(parents=True, exist_ok=True)
    events = RecordingEvents(EventWriter(log_dir))
    try:
        our_results = fit(task, events, on_epoch_end=after_epoch)
    finally:
        events.close()
    ours = [e for e in events.epochs if e["stage"] == timed_stage][1:]  # the stage's first epoch: warm-up
    plains = plain.timings[1:]
    assert [e["epoch"] for e in ours] == [p["epoch"] for p in plains]  # the same batches, epoch for epoch
    plain_results = evaluate(plain_task)  # the figures its training reached (not timed)
    if plain_task.derive:
        plain_results = plain_task.derive(plain_results)
    for t in (task, plain_task):
        if t.regularizer is not None:
            t.regularizer.remove()
    return {
        "config": config, "start": task.start, "timed_stage": timed_stage, "bs": config.bs,
        "items": statistics.median(batches.items[e["epoch"]] for e in ours),
        "plain_items": statistics.median(p["items"] for p in plains),
        "our_epoch_s": statistics.median(e["epoch_seconds"] for e in ours),
        "our_train_s": statistics.median(batches.seconds[e["epoch"]] for e in ours),
        "plain_epoch_s": statistics.median(p["epoch_s"] for p in plains),
        "plain_train_s": statistics.median(p["train_s"] for p in plains),
        "our_epochs_s": [e["epoch_seconds"] for e in ours], "plain_epochs_s": [p["epoch_s"] for p in plains],
        "our_results": our_results, "plain_results": plain_results,
    }


# ---- activation statistics: off and on, in turns ---------------------------------------------


def measure_activation_stats(family: str, config_dict: dict, tmp: Path, everies: list[int], rounds: int) -> dict:
    """Our loop without and with an ActivationStats recorder (every N batches, for each N of
    `everies`): one Task each, prepared from the same seed, trained by one-epoch fits of the
    recipe's last stage in turns; each round starts one further along the order (off, N1, N2 ...),
    so no mode always goes first. Round 0 is a warm-up."""
    import torch

    from l4tui.train.activation_stats import ActivationStats
    from l4tui.runs.events import EventWriter
    from l4tui.train.loop import Stage, fit
    from l4tui.train.recipes import RECIPES

    config_class, prepare = RECIPES[family]
    config = config_class.from_dict(config_dict)
    config.validate()
    modes = [0, *everies]  # 0: off
    tasks, writers, dirs = {}, {}, {}
    for every in modes:
        torch.manual_seed(config.seed)
        task = prepare(config, "cpu")
        last = task.stages[-1]
        task.stages = [Stage(1, last.lr, freeze_to=last.freeze_to, name=last.name)]
        task.train = TimedBatches(task.train)
        if every:
            task.activation_stats = ActivationStats(task.model, every)
        tasks[every] = task
        dirs[every] = tmp / f"stats-{family}-{every}"
        dirs[every].mkdir(parents=True, exist_ok=True)
        writers[every] = RecordingEvents(EventWriter(dirs[every]))
    epoch_s, train_s, cpu_s = ({every: [] for every in modes} for _ in range(3))
    try:
        for round_ in range(rounds + 1):
            for every in modes[round_ % len(modes):] + modes[:round_ % len(modes)]:
                cpu_started = time.process_time()
                fit(tasks[every], writers[every])
                if round_:
                    epoch_s[every].append(writers[every].epochs[-1]["epoch_seconds"])
                    train_s[every].append(tasks[every].train.seconds[0])
                    cpu_s[every].append(time.process_time() - cpu_started)
    finally:
        for every in modes:
            writers[every].close()
            for hooks in (tasks[every].activation_stats, tasks[every].regularizer):
                if hooks is not None:
                    hooks.remove()
    result = {"batches": tasks[0].train.n_batches(0), "epoch_s": epoch_s, "train_s": train_s, "cpu_s": cpu_s,
              "modes": {}}
    for every in everies:
        recorded = [line for line in (dirs[every] / "events.jsonl").read_text().splitlines()
                    if '"type":"activations"' in line]
        result["modes"][every] = {
            "records_per_epoch": len(recorded) / (rounds + 1),
            "layers": len(json.loads(recorded[-1])["layers"]) if recorded else 0,
            "bytes_per_record": statistics.mean(len(line) + 1 for line in recorded) if recorded else 0,
            **{f"{name}_overhead": statistics.median((on - off) / off for off, on in zip(times[0], times[every]))
               for name, times in (("epoch", epoch_s), ("train", train_s), ("cpu", cpu_s))},
        }
    return result


def report_activation_stats(measured: dict, args, threads: int, total_s: float) -> None:
    print(f"activation statistics every N training batches (N = {args.activation_stats}) against none: our loop, "
          f"one-epoch fits in turns (each round starting one further along), 1 warm-up + {args.epochs} timed rounds; "
          f"device cpu, torch threads {threads}" + ("; --quick: small data" if args.quick else ""))
    headers = ["family", "batches", "N", "records/epoch", "layers", "bytes/record", "off epoch s", "on epoch s",
               "epoch +%", "train +%", "off CPU s", "on CPU s", "CPU +%"]
    rows = []
    for family, m in measured.items():
        for every, mode in m["modes"].items():
            rows.append([family, m["batches"], every, f"{mode['records_per_epoch']:.1f}", mode["layers"],
                         f"{mode['bytes_per_record']:,.0f}", f"{statistics.median(m['epoch_s'][0]):.3f}",
                         f"{statistics.median(m['epoch_s'][every]):.3f}", f"{100 * mode['epoch_overhead']:+.1f}",
                         f"{100 * mode['train_overhead']:+.1f}", f"{statistics.median(m['cpu_s'][0]):.3f}",
                         f"{statistics.median(m['cpu_s'][every]):.3f}", f"{100 * mode['cpu_overhead']:+.1f}"])
    print(table(headers, rows))
    print("(+%: the median over the rounds of (on - off) / off: epoch = train + validation, wall clock; train = the "
          "train pass alone; CPU = this process's CPU time for the epoch's fit, less sensitive to other processes "
          "than the wall clock; the requirement is under 5% an epoch)")
    print("each timed round, epoch s (off / N ...), then CPU s:")
    for family, m in measured.items():
        for key in ("epoch_s", "cpu_s"):
            turns = " ".join("/".join(f"{s:.3f}" for s in times) for times in zip(*m[key].values()))
            print(f"  {family if key == 'epoch_s' else '':<10} {turns}{others_note(m['others']) if key == 'cpu_s' else ''}")
    print()
    print(f"total bench time: {total_s:.0f} s")


# ---- detached runs, unwatched and watched -----------------------------------------------------


def wait_for_run(run_dir: Path, timeout: float) -> list[dict]:
    """Wait for the run's process to end (checking its pid only: no reading of its events), then
    return its events; raises RuntimeError when it did not finish."""
    from l4tui.runs.events import EventReader
    from l4tui.runs.store import process_alive, read_run_file

    meta = read_run_file(run_dir)
    pid = int(meta["pid"])
    deadline = time.time() + timeout
    while True:
        if not process_alive(pid, run_dir.name):
            # Once, a run read as gone and then as running again: believe "gone" only twice over.
            time.sleep(0.5)
            if not process_alive(pid, run_dir.name):
                break
            log(f"run {run_dir.name}: its process {pid} read as gone for a moment, then alive again")
        if time.time() > deadline:
            os.kill(pid, signal.SIGTERM)
            raise RuntimeError(f"run {run_dir.name} did not finish within {timeout:.0f} s; stopped it")
        time.sleep(0.2)
    try:
        os.waitpid(pid, os.WNOHANG)  # our child (the launcher's Popen): reap it
    except ChildProcessError:
        pass
    events = EventReader(run_dir).read_new()
    end = next((e for e in events if e.get("type") == "end"), None)
    if end is None or end.get("state") != "finished":
        tail = (run_dir / "stderr.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"run {run_dir.name} ended {end and end.get('state')}: "
                           f"{end and end.get('error')}\n{tail}")
    return events


def run_epochs(events: list[dict], timed_stage: int) -> list[float]:
    return [e["epoch_seconds"] for e in events if e.get("type") == "epoch" and e.get("stage") == timed_stage][1:]


APP_CHILD = r"""
import json, sys, time
from pathlib import Path
from l4tui.ui.app import L4App
from l4tui.ui.data_pane import DataPane

ready_file, go_file, result_file, runs_dir = map(Path, sys.argv[1:5])

class Watching(L4App):
    # L4App.on_ready runs too (Textual calls each class's handler): the panes start as usual. The
    # bench switches to the Data & training pane as a user does, by typing 2 into the terminal.
    def on_ready(self):
        self._run_dir = None
        self.set_interval(0.5, self._check)
        ready_file.write_text(str(time.time()))

    def _check(self):
        pane = self.query_one(DataPane)
        if self._run_dir is None:
            if go_file.exists():
                self._run_dir = Path(go_file.read_text().strip())
                pane.watch_run(self._run_dir)  # what picking the run's row (Enter) does
                self._t0, self._cpu0 = time.time(), time.process_time()
            return
        progress = pane.monitor.progress
        if progress.end is not None:
            result_file.write_text(json.dumps({
                "watched": pane.watched.name if pane.watched else None,
                "end": progress.end.get("state"), "epoch_rows": len(progress.epoch_rows),
                "loss_points": len(progress.train_points),
                "rows_in_table": len(pane._row_keys),
                "wall_s": time.time() - self._t0, "cpu_s": time.process_time() - self._cpu0}))
            self.exit()

Watching(runs_dir=runs_dir).run()
"""

POLL_CHILD = r"""
import json, sys, time
from pathlib import Path
from l4tui.runs.events import EventReader
from l4tui.runs.store import list_runs

run_dir, runs_dir, result_file = map(Path, sys.argv[1:4])
POLL_S, RUNS_POLL_S = float(sys.argv[4]), float(sys.argv[5])
reader, events, listed, end = EventReader(run_dir), 0, 0, None
t0, cpu0, next_list = time.time(), time.process_time(), 0.0
while end is None and time.time() - t0 < float(sys.argv[6]):
    now = time.time()
    if now >= next_list:
        listed = len(list_runs(runs_dir))
        next_list = now + RUNS_POLL_S
    for event in reader.read_new():
        events += 1
        if event.get("type") == "end":
            end = event.get("state")
    time.sleep(POLL_S)
result_file.write_text(json.dumps({"watched": run_dir.name, "end": end, "events": events, "rows_in_table": listed,
                                   "wall_s": time.time() - t0, "cpu_s": time.process_time() - cpu0}))
"""


class AppWatcher:
    """The real app (L4App) in a pseudo-terminal, as a user runs it (bench/_pty_app.py)."""

    name = "app"

    def __init__(self, runs_dir: Path, tmp: Path, size=(120, 40)):
        self.tmp = tmp
        for name in ("ready", "go", "result"):
            (tmp / name).unlink(missing_ok=True)
        self.app = load_module("_pty_app").PtyApp(
            APP_CHILD, [tmp / "ready", tmp / "go", tmp / "result", runs_dir], runs_dir, tmp, size)

    def ready(self, timeout: float = 60.0) -> float:
        """Wait for the first frame; let the app's start-up work end; type 2 (the Data & training
        pane) and let that pane's start-up work end too, so none of it is counted against the
        run. Returns the seconds that took."""
        started = time.time()
        self.app.wait_for_file("ready", timeout)
        self.app.settle(timeout)
        self.app.type(b"2")
        time.sleep(0.5)
        self.app.settle(timeout)
        return time.time() - started

    def watch(self, run_dir: Path) -> None:
        tmp_go = self.tmp / ".go"
        tmp_go.write_text(str(run_dir))
        os.replace(tmp_go, self.tmp / "go")

    def result(self, timeout: float) -> dict:
        try:
            self.app.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.close()
            raise RuntimeError("the app did not see the run end") from None
        self.app.thread.join(timeout=5)
        try:
            result = json.loads((self.tmp / "result").read_text())
        except (OSError, ValueError):
            raise RuntimeError("the app ended without a result: " + self.app.last_screen()) from None
        result["terminal_bytes"] = self.app.drained
        return result

    def close(self) -> None:
        self.app.close()


class PollWatcher:
    """A process that polls as the app's data pane does, without the app."""

    name = "poll"

    def __init__(self, runs_dir: Path, tmp: Path):
        self.runs_dir, self.tmp, self.process = runs_dir, tmp, None
        (tmp / "result").unlink(missing_ok=True)

    def ready(self, timeout: float = 60.0) -> float:
        return 0.0

    def watch(self, run_dir: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", POLL_CHILD, str(run_dir), str(self.runs_dir), str(self.tmp / "result"),
             str(POLL_S), str(RUNS_POLL_S), str(RUN_TIMEOUT_S)], cwd=ROOT)

    def result(self, timeout: float) -> dict:
        self.process.wait(timeout=timeout)
        return json.loads((self.tmp / "result").read_text())

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def measure_runs(family: str, config_dict: dict, timed_stage: int, runs_dir: Path, tmp: Path, watcher: str) -> dict:
    """The recipe as a detached run three times: unwatched, watched, unwatched again (the two
    unwatched runs on either side, so a machine that drifts faster or slower favours neither)."""
    from l4tui.train.launcher import start_run

    def unwatched() -> list[dict]:
        run_dir = start_run(family, config_dict, runs_dir)
        STARTED_RUNS.append(run_dir)
        return wait_for_run(run_dir, RUN_TIMEOUT_S)

    result = {}
    events = unwatched()
    result["unwatched"] = run_epochs(events, timed_stage)
    result["run_results"] = next(e for e in events if e.get("type") == "end").get("metrics", {})

    watch_tmp = tmp / f"watch-{family}"
    watch_tmp.mkdir(parents=True, exist_ok=True)
    result["watcher"] = watcher
    app = None
    try:
        app = AppWatcher(runs_dir, watch_tmp) if watcher == "app" else PollWatcher(runs_dir, watch_tmp)
        result["settle_s"] = app.ready()
    except (RuntimeError, OSError) as error:  # no usable terminal: fall back to the poller
        log(f"{family}: the app could not start ({error}); watching with the poller instead")
        if app is not None:
            app.close()
        app = PollWatcher(runs_dir, watch_tmp)
        result["watcher"] = "poll (app failed)"
    try:
        run_dir = start_run(family, config_dict, runs_dir)
        STARTED_RUNS.append(run_dir)
        app.watch(run_dir)
        events = wait_for_run(run_dir, RUN_TIMEOUT_S)
        result["watch"] = app.result(timeout=60)
    finally:
        app.close()
    if result["watch"].get("watched") != run_dir.name or result["watch"].get("end") != "finished":
        raise RuntimeError(f"the watcher did not follow the run to its end: {result['watch']}")
    result["watched"] = run_epochs(events, timed_stage)
    result["watched_run_s"] = result["watch"]["wall_s"]
    result["unwatched_after"] = run_epochs(unwatched(), timed_stage)
    return result


# ---- the report -------------------------------------------------------------------------------


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows)]
    line = lambda cells: " | ".join(str(c).rjust(w) if i else str(c).ljust(w)  # noqa: E731
                                    for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(headers), "-+-".join("-" * w for w in widths), *map(line, rows)])


def items_label(family: str, n: float) -> str:
    return f"{n:,.0f} tok" if family == "lm" else f"{n:,.0f}"


def others_note(share) -> str:
    if share is None:
        return ""
    note = f"   (other processes: {100 * share:.0f}% of the CPUs)"
    return note + "  <- busy machine: noisy" if share > 0.10 else note


QUALITY = {  # family -> (metric, how it is read from results, baseline key in the task's start figures)
    "collab": ("valid RMSE", "valid_rmse", "baseline_rmse", "predict the mean rating"),
    "tabular": ("accuracy", "accuracy", "baseline_accuracy", "majority class"),
    "lm": ("perplexity", "perplexity", "unigram_perplexity", "unigram model"),
    "classifier": ("accuracy", "accuracy", "baseline_accuracy", "majority class"),
}


def report(measured: dict, args, threads: int, total_s: float) -> None:
    n = args.epochs
    print(f"torch threads: {threads} (torch.get_num_threads(), the same for our loop and the plain loop; "
          f"{os.cpu_count()} CPUs; the run processes: "
          f"{'OMP_NUM_THREADS=' + str(args.threads) if args.threads else 'torch default too'})")
    print(f"each loop: 1 warm-up + {n} timed epochs, median of the {n}; the two loops take turns, epoch by epoch; "
          f"epoch = train pass + validation pass; device cpu"
          + ("; --quick: small data, anchors do not apply" if args.quick else ""))
    for family, m in measured.items():
        start, data = m["start"], m["config"].data
        where = "bundled" if not Path(data).is_absolute() else "generated"
        extra = (f", embeddings for {start['n_users']:,} users x {start['n_items']:,} items (with #na#)"
                 if family == "collab"
                 else f", {start['train_tokens']:,} training tokens" if family == "lm" else "")
        name = "u.data" if family == "collab" else Path(data).name
        print(f"data {family:<10} {where} {name}: {start['n_train']:,} training + {start['n_valid']:,} "
              f"validation {'texts' if family in ('lm', 'classifier') else 'rows'}{extra}")
    print()
    headers = ["family", "rows", "bs", "our epoch s", "plain epoch s", "plain/ours", "watched epoch s", "anchor s",
               "speed-up"]
    rows = []
    for family, m in measured.items():
        runs = m.get("runs")
        anchor = ANCHORS.get(family) if not args.quick else None
        rows.append([family, items_label(family, m["items"]), m["bs"], f"{m['our_epoch_s']:.3f}",
                     f"{m['plain_epoch_s']:.3f}", f"{m['plain_epoch_s'] / m['our_epoch_s']:.3f}",
                     f"{statistics.median(runs['watched']):.3f}" if runs else "-",
                     f"{anchor:g}" if anchor else "-",
                     f"{anchor / m['our_epoch_s']:.1f}x" if anchor else "-"])
    print(table(headers, rows))
    print()
    print("train pass alone (no validation):")
    headers = ["family", "our train s", "plain train s", "plain/ours", "our items/s", "plain items/s"]
    rows = [[family, f"{m['our_train_s']:.3f}", f"{m['plain_train_s']:.3f}",
             f"{m['plain_train_s'] / m['our_train_s']:.3f}", f"{m['items'] / m['our_train_s']:,.0f}",
             f"{m['plain_items'] / m['plain_train_s']:,.0f}"] for family, m in measured.items()]
    print(table(headers, rows))
    print("(items: ratings, table rows, tokens for lm, reviews for classifier)")
    print("each timed epoch, s (in turn: ours 1, plain 1, ours 2, ...):")
    for family, m in measured.items():
        turns = ' '.join(f'{p / o:.3f}' for o, p in zip(m['our_epochs_s'], m['plain_epochs_s']))
        print(f"  {family:<10} ours {' '.join(f'{s:.3f}' for s in m['our_epochs_s'])}   "
              f"plain {' '.join(f'{s:.3f}' for s in m['plain_epochs_s'])}   plain/ours by turn {turns}"
              f"{others_note(m['others_loops'])}")

    watched = {f: m for f, m in measured.items() if m.get("runs")}
    if watched:
        print()
        kinds = sorted({m["runs"]["watcher"] for m in watched.values()})
        print(f"detached runs (start_run): unwatched, watched by: {', '.join(kinds)}, unwatched again; "
              f"run epoch s: median of both unwatched runs")
        if "app" in kinds:
            print("(app: the real L4App in a pseudo-terminal, 120x40, on its Data & training pane, watching the run)")
        headers = ["family", "run epoch s", "watched epoch s", "watched/unwatched", "watcher CPU s", "watcher CPU %",
                   "seen"]
        rows = []
        for family, m in watched.items():
            runs = m["runs"]
            unwatched_s = statistics.median(runs["unwatched"] + runs["unwatched_after"])
            watched_s = statistics.median(runs["watched"])
            watch = runs["watch"]
            seen = (f"{watch['epoch_rows']} epochs, {watch['loss_points']} loss pts" if "epoch_rows" in watch
                    else f"{watch['events']} events")
            rows.append([family, f"{unwatched_s:.3f}", f"{watched_s:.3f}", f"{watched_s / unwatched_s:.3f}",
                         f"{watch['cpu_s']:.2f}", f"{100 * watch['cpu_s'] / max(watch['wall_s'], 1e-9):.1f}", seen])
        print(table(headers, rows))
        print("each timed epoch of the runs, s:")
        for family, m in watched.items():
            runs = m["runs"]
            print(f"  {family:<10} unwatched {' '.join(f'{s:.3f}' for s in runs['unwatched'])}   "
                  f"watched {' '.join(f'{s:.3f}' for s in runs['watched'])}   "
                  f"unwatched again {' '.join(f'{s:.3f}' for s in runs['unwatched_after'])}"
                  f"{others_note(runs['others'])}")

    print()
    print(f"what the training reached (after {n + 1} epochs; classifier: its 3 stages + {n + 1} unfrozen epochs; "
          "the plain loop has no schedule):")
    headers = ["family", "metric", "our loop", "plain loop", "detached run", "baseline"]
    rows = []
    for family, m in measured.items():
        metric, key, base_key, base_name = QUALITY[family]
        run_value = m.get("runs", {}).get("run_results", {}).get(key) if m.get("runs") else None
        base = m["start"].get(base_key)
        rows.append([family, metric, f"{m['our_results'].get(key, float('nan')):.4f}",
                     f"{m['plain_results'].get(key, float('nan')):.4f}",
                     f"{run_value:.4f}" if isinstance(run_value, (int, float)) else "-",
                     f"{base:.4f} ({base_name})" if isinstance(base, (int, float)) else "-"])
    print(table(headers, rows))
    print()
    print(f"total bench time: {total_s:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=",".join(FAMILIES), help="comma-separated, of: " + ", ".join(FAMILIES))
    parser.add_argument("--epochs", type=int, default=None, help="timed epochs (default 3; 1 with --quick)")
    parser.add_argument("--quick", action="store_true", help="small data, for a smoke run")
    parser.add_argument("--watcher", choices=("app", "poll", "none"), default="app",
                        help="who watches the detached run: the real app (default), a plain poller, or no runs at all")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads for both loops and the runs (default: torch's own default)")
    parser.add_argument("--activation-stats", type=int_list, default=None, metavar="N[,N...]",
                        help="instead: time our loop without and with activation statistics every N batches")
    args = parser.parse_args()
    families = [f.strip() for f in args.families.split(",") if f.strip()]
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        parser.error(f"unknown families {unknown}; known: {', '.join(FAMILIES)}")
    args.epochs = args.epochs if args.epochs is not None else (1 if args.quick else 3)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if args.activation_stats is not None and (not args.activation_stats or min(args.activation_stats) < 1):
        parser.error("--activation-stats takes numbers of batches, each at least 1: 25 or 25,50")

    started = time.time()
    # Runs are started from the repo root (its models/ are the workspace), with it importable.
    os.chdir(ROOT)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)  # the run processes read it at start
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()

    measured = {}
    with tempfile.TemporaryDirectory(prefix="l4tui-bench-train-") as tmp_name:
        try:
            if args.activation_stats:
                run_activation_stats(args, families, Path(tmp_name), measured, started)
            else:
                run_families(args, families, Path(tmp_name), measured, started)
        finally:
            stop_started_runs()
    if args.activation_stats:
        report_activation_stats(measured, args, threads, time.time() - started)
    else:
        report(measured, args, threads, time.time() - started)


def run_activation_stats(args, families: list[str], tmp: Path, measured: dict, started: float) -> None:
    data = make_data(tmp, families, args.quick)
    for family in families:
        config_dict = {"data": data[family], "device": "cpu"}
        log(f"{family}: activation statistics off and every {args.activation_stats} batches, in turns ...")
        others = OthersCPU()
        m = measure_activation_stats(family, config_dict, tmp, args.activation_stats, args.epochs)
        m["others"] = others.share()
        log(f"{family}: {statistics.median(m['epoch_s'][0]):.3f} s/epoch off, "
            + ", ".join(f"every {every}: {100 * mode['epoch_overhead']:+.1f}%" for every, mode in m["modes"].items())
            + f" ({time.time() - started:.0f} s so far)")
        measured[family] = m


def stop_started_runs() -> None:
    from l4tui.runs.store import read_run, stop_run

    for run_dir in STARTED_RUNS:
        try:
            if read_run(run_dir).state == "running" and stop_run(run_dir):
                log(f"stopped run {run_dir.name}")
        except (OSError, ValueError):
            pass


def run_families(args, families: list[str], tmp: Path, measured: dict, started: float) -> None:
    data = make_data(tmp, families, args.quick)
    for family in families:
        config_dict = {"data": data[family], "device": "cpu", "epochs": args.epochs + 1}
        log(f"{family}: our loop and the plain loop, in turns ...")
        others = OthersCPU()
        m = measure_loops(family, config_dict, tmp)
        m["others_loops"] = others.share()
        log(f"{family}: ours {m['our_epoch_s']:.3f} s/epoch, plain {m['plain_epoch_s']:.3f} s/epoch "
            f"({time.time() - started:.0f} s so far)")
        if args.watcher != "none":
            log(f"{family}: three detached runs: unwatched, watched ({args.watcher}), unwatched ...")
            others = OthersCPU()
            m["runs"] = measure_runs(family, config_dict, m["timed_stage"], tmp / "runs", tmp, args.watcher)
            m["runs"]["others"] = others.share()
            log(f"{family}: runs {statistics.median(m['runs']['unwatched']):.3f} s/epoch unwatched, "
                f"{statistics.median(m['runs']['watched']):.3f} watched ({time.time() - started:.0f} s so far)")
        measured[family] = m


if __name__ == "__main__":
    main()
