"""What watching a run costs: the app's CPU, the run's speed, and how fast a long run opens.

    python bench/monitor.py [--seconds 20] [--rounds 3] [--epochs 12] [--skip-throughput]

1. Opening a long run: a run folder with 100,000 logged steps (written as a run writes them,
   tests/fake_runs.py), opened in the app (headless, Textual's run_test) by picking it in the
   runs list, as a user does: the time until the history is read and the charts are drawn.
   Timed with the app's start-up work still going (jedi parsing torch in a thread) and after it.
2. The app's CPU while it watches: the real app (L4App) in a pseudo-terminal, on its Data &
   training pane, first with no live run (idle), then watching a run that logs 50 events a
   second (a writer process appending batch events, and an epoch event each second). CPU from
   /proc, as a share of one CPU.
3. Training with and without the app watching: a real collab run (the lesson's recipe, 50
   factors, bs 64) on a MovieLens-100k-sized ratings file, as detached runs: unwatched, watched,
   unwatched, `--rounds` times. Items/s are the runs' own epoch figures (the first epoch left
   out); the ratio is watched / unwatched, medians over all rounds.
"""

import sys
from pathlib import Path

# bench/tokenize.py would shadow the standard library's tokenize (asyncio reaches it through
# traceback and linecache): take bench/ off the import path before anything else is imported.
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # fake_runs.py: runs written without training

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402


def load_module(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_l4tui_bench{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---- 1. opening a run with 100,000 logged steps ---------------------------------------------

async def time_opening(runs_dir: Path, big: Path, wait_for_startup: bool) -> float:
    from l4tui.ui.app import L4App
    from l4tui.ui.data_pane import DataPane

    app = L4App(runs_dir=runs_dir, workspace=ROOT)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        pane = app.query_one(DataPane)
        while pane.watched is None:  # the newest (small) run is watched first
            await pilot.pause(0.05)
        if wait_for_startup:
            code = app.query_one("#code-pane")
            while getattr(code, "warmed", None) is None or not code.warmed.done():
                await pilot.pause(0.1)
        monitor = pane.monitor
        started = time.perf_counter()
        pane.watch_run(big)  # what picking its row does
        while monitor._loading or len(monitor.progress.raw_points) < 100_000:
            await pilot.pause(0.01)
        await pilot.pause()  # the frame with the charts
        return time.perf_counter() - started


def bench_opening(tmp: Path, repeats: int = 3) -> dict:
    from fake_runs import write_fake_run

    runs_dir = tmp / "open-runs"
    big = write_fake_run(runs_dir, "20260101-000000-collab-big0", steps=100_000, epochs=10)
    write_fake_run(runs_dir, "20260101-000001-collab-small", steps=10)
    size_mb = (big / "events.jsonl").stat().st_size / 1e6
    during = [asyncio.run(time_opening(runs_dir, big, False)) for _ in range(repeats)]
    after = [asyncio.run(time_opening(runs_dir, big, True)) for _ in range(repeats)]
    return {"events_mb": size_mb, "during_startup": during, "after_startup": after}


# ---- 2. the app's CPU, idle and watching 50 events a second ----------------------------------

APP_CHILD = r"""
import json, sys, time
from pathlib import Path
from l4tui.ui.app import L4App
from l4tui.ui.data_pane import DataPane

ready_file, go_file, stop_file, result_file, runs_dir = map(Path, sys.argv[1:6])

class Watching(L4App):
    def on_ready(self):
        super().on_ready()  # the app's own start-up: the Data & training pane is built after it
        self._run_dir = None
        self.set_interval(0.25, self._check)
        ready_file.write_text(str(time.time()))

    def _check(self):
        panes = self.query(DataPane)
        if not panes:  # not built yet (a thread imports it after the first frame)
            return
        pane = panes.first()
        if self._run_dir is None and go_file.exists():
            self._run_dir = Path(go_file.read_text().strip())
            pane.watch_run(self._run_dir)  # what picking the run's row (Enter) does
        if stop_file.exists():
            progress = pane.monitor.progress
            result_file.write_text(json.dumps({
                "watched": pane.watched.name if pane.watched else None,
                "batch_points": len(progress.raw_points), "epoch_rows": len(progress.epoch_rows),
                "rows_in_table": len(pane._row_keys)}))
            self.exit()

Watching(runs_dir=runs_dir).run()
"""

WRITER_CHILD = r"""
import os, sys, time
from pathlib import Path
from l4tui.runs.events import EventWriter
from l4tui.runs.store import write_run_file

run_dir, rate, seconds = Path(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
run_dir.mkdir(parents=True)
write_run_file(run_dir, "collab", {"epochs": 1000}, [sys.executable, "writer", run_dir.name], pid=os.getpid())
writer = EventWriter(run_dir)
total = int(rate * seconds)
writer.write("start", epochs=1000)
started = time.time()
for i in range(1, total + 1):
    writer.write("batch", epoch=i // 50, iter=i, total_iters=50_000, loss=1.0 / (1 + i / 500), raw=1.0,
                 lr=1e-3, mom=0.9, items_per_s=50_000.0)
    if i % 50 == 0:
        writer.write("epoch", epoch=i // 50 - 1, epochs=1000, iter=i, total_iters=50_000, train_loss=0.5,
                     valid_loss=0.6, valid_rmse=0.77, items_per_s=50_000.0, epoch_seconds=1.0)
    time.sleep(max(0.0, started + i / rate - time.time()))
writer.write("end", state="finished", metrics={})
writer.close()
"""


def bench_watch_cpu(tmp: Path, seconds: float, rate: float = 50.0) -> dict:
    pty_app = load_module("_pty_app")
    runs_dir, work = tmp / "cpu-runs", tmp / "cpu-app"
    runs_dir.mkdir(parents=True)
    work.mkdir()
    app = pty_app.PtyApp(APP_CHILD, [work / "ready", work / "go", work / "stop", work / "result", runs_dir],
                         runs_dir, work, size=(120, 40))
    writer = None
    try:
        app.wait_for_file("ready", 60)
        app.settle(60)
        app.type(b"2")
        time.sleep(0.5)
        app.settle(60)
        cpu0, t0 = app.cpu_seconds(), time.time()
        time.sleep(seconds)
        idle = (app.cpu_seconds() - cpu0) / (time.time() - t0)
        run_dir = runs_dir / "20260101-000000-collab-live"
        writer = subprocess.Popen([sys.executable, "-c", WRITER_CHILD, str(run_dir), str(rate), str(seconds + 10)],
                                  cwd=ROOT)
        while not (run_dir / "events.jsonl").exists():
            time.sleep(0.05)
        (work / "go").write_text(str(run_dir))
        time.sleep(3)  # picked up and first drawn
        cpu0, t0 = app.cpu_seconds(), time.time()
        time.sleep(seconds)
        watching = (app.cpu_seconds() - cpu0) / (time.time() - t0)
        (work / "stop").write_text("")
        app.process.wait(timeout=30)
        result = json.loads((work / "result").read_text())
    finally:
        app.close()
        if writer is not None and writer.poll() is None:
            writer.kill()
            writer.wait()
    return {"idle": idle, "watching": watching, "rate": rate, "seconds": seconds, "app": result,
            "terminal_bytes": app.drained}


# ---- 3. training speed with and without the app ----------------------------------------------

def bench_throughput(tmp: Path, rounds: int, epochs: int) -> dict:
    train = load_module("train")  # its run helpers: the detached run, the app watching it
    data = train.make_data(tmp, ["collab"], quick=False)["collab"]
    runs_dir = tmp / "speed-runs"
    config = {"data": data, "epochs": epochs}

    def items_per_s(events: list[dict]) -> float:
        values = [e["items_per_s"] for e in events if e.get("type") == "epoch"][1:]  # first epoch: warm-up
        return statistics.median(values)

    from l4tui.train.launcher import start_run

    def unwatched() -> float:
        run_dir = start_run("collab", config, runs_dir)
        train.STARTED_RUNS.append(run_dir)
        return items_per_s(train.wait_for_run(run_dir, 900))

    def watched() -> tuple[float, dict]:
        work = tmp / f"watch-{time.time_ns()}"
        work.mkdir()
        app = train.AppWatcher(runs_dir, work)
        try:
            app.ready()
            run_dir = start_run("collab", config, runs_dir)
            train.STARTED_RUNS.append(run_dir)
            app.watch(run_dir)
            events = train.wait_for_run(run_dir, 900)
            seen = app.result(timeout=60)
        finally:
            app.close()
        if seen.get("watched") != run_dir.name or seen.get("end") != "finished":
            raise RuntimeError(f"the app did not follow the run to its end: {seen}")
        return items_per_s(events), seen

    plain, with_app, app_cpu = [], [], []
    for round_ in range(rounds):
        plain.append(unwatched())
        speed, seen = watched()
        with_app.append(speed)
        app_cpu.append(seen["cpu_s"] / seen["wall_s"])
        plain.append(unwatched())
        log(f"round {round_ + 1}/{rounds}: unwatched {plain[-2]:,.0f} and {plain[-1]:,.0f} items/s, "
            f"watched {speed:,.0f} items/s (app {100 * app_cpu[-1]:.1f}% of a CPU)")
    return {"unwatched": plain, "watched": with_app, "app_cpu": app_cpu, "epochs": epochs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each CPU measurement")
    parser.add_argument("--rounds", type=int, default=3, help="unwatched/watched/unwatched rounds")
    parser.add_argument("--epochs", type=int, default=12, help="epochs of each collab run")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="l4tui-bench-monitor-") as name:
        tmp = Path(name)
        os.environ["L4TUI_RUNS"] = str(tmp / "runs")
        log("opening a run with 100,000 logged steps ...")
        opening = bench_opening(tmp)
        log("the app's CPU, idle and watching 50 events/s ...")
        cpu = bench_watch_cpu(tmp, args.seconds)
        speed = None
        if not args.skip_throughput:
            log("collab runs with and without the app watching ...")
            speed = bench_throughput(tmp, args.rounds, args.epochs)

    print(f"machine: {os.cpu_count()} CPUs; python {sys.version.split()[0]}")
    print(f"\n1. opening a run with 100,000 logged steps ({opening['events_mb']:.1f} MB of events), "
          f"to the history read and charts drawn:")
    for label, key in (("with the app's start-up work going", "during_startup"),
                       ("after the start-up work", "after_startup")):
        times = opening[key]
        print(f"   {label}: median {statistics.median(times):.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)})")
    app = cpu["app"]
    print(f"\n2. the app's CPU (120x40 terminal, Data & training pane), share of one CPU over {cpu['seconds']:.0f} s:")
    print(f"   idle, no live run: {100 * cpu['idle']:.1f}%")
    print(f"   watching a run logging {cpu['rate']:.0f} events/s: {100 * cpu['watching']:.1f}% "
          f"(it read {app['batch_points']:,} batch and {app['epoch_rows']} epoch events)")
    if speed:
        plain, watched = statistics.median(speed["unwatched"]), statistics.median(speed["watched"])
        print(f"\n3. collab training (MovieLens-100k size, 50 factors, bs 64, {speed['epochs']} epochs a run, "
              f"{len(speed['watched'])} rounds):")
        print(f"   unwatched: median {plain:,.0f} items/s ({', '.join(f'{v:,.0f}' for v in speed['unwatched'])})")
        print(f"   watched by the app: median {watched:,.0f} items/s "
              f"({', '.join(f'{v:,.0f}' for v in speed['watched'])})")
        print(f"   the app meanwhile: {', '.join(f'{100 * v:.1f}%' for v in speed['app_cpu'])} of a CPU")
        print(f"   ratio watched / unwatched: {watched / plain:.3f} (goal: at least 0.97)")
        # Each watched run against the unwatched runs on either side of it: drift of the
        # machine's speed over the bench then favours neither.
        paired = [w / ((a + b) / 2) for w, a, b in
                  zip(speed["watched"], speed["unwatched"][0::2], speed["unwatched"][1::2])]
        print(f"   paired (each watched run / the mean of its two neighbours): median "
              f"{statistics.median(paired):.3f} ({', '.join(f'{r:.3f}' for r in paired)})")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        for run_dir in getattr(sys.modules.get("_l4tui_benchtrain"), "STARTED_RUNS", []):
            try:
                from l4tui.runs.store import stop_run

                stop_run(run_dir)
            except (OSError, ValueError):
                pass
