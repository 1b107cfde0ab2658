"""Tabular side by side: our loop against fastai's tabular_learner, on the same rows.

    PYTHONPATH=. /work/fastai-venv/bin/python bench/tabular_vs_fastai.py [--data adult.csv]
        [--rounds 3] [--epochs 3] [--threads 2] [--lr 1e-2] [--omp-wait passive]

Both train the lesson's model on adult: layers [200,100], bs 64, procs Categorify, FillMissing,
Normalize, the lesson's 6 categorical and 3 continuous columns, `fit_one_cycle(epochs, lr)`, on
the same split: fastai's `RandomSplitter(valid_pct=0.2, seed=42)`, which ours takes with
`--split fastai` (l4tui/train/tabular.py: fastai_valid_rows). The data is `--data` (a real
adult.csv, fastai's ADULT_SAMPLE layout) or, by default, an adult-sized CSV generated as
bench/train.py does (32,561 rows, bench/_train_data.py: nothing is downloaded).

The two take turns, a whole fit each, `--rounds` times (fastai, ours, fastai, ours, ...), so a
drift in the machine's speed favours neither. Each fit starts fresh (new model, new optimizer)
from torch seed 42. An epoch's time is its wall clock from its first training batch to the end of
its validation pass (fastai's `time` column; our epoch event's epoch_seconds); the figures are
medians over all the epochs of all the rounds, the first epoch of each fit left out (warm-up).
Accuracy: the last epoch's, on the validation rows, per round, and their median.

Both run in this process with the same torch threads (`--threads`; torch's default otherwise)
and OMP_WAIT_POLICY (`--omp-wait`, passive by default, as l4tui's runs set it: worker.py).
Our loop writes its events to a real EventWriter in a temp folder, as a run does. Without
fastai importable it says so and times ours alone.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# bench/ off sys.path (its tokenize.py would shadow the standard library's), the repo root on.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="an adult.csv (default: an adult-sized generated one)")
    parser.add_argument("--rows", type=int, default=32_561, help="rows of the generated CSV")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-2, help="fit_one_cycle's lr_max, both (our default)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--omp-wait", choices=["passive", "active", "unset"], default="passive")
    parser.add_argument("--ours-only", action="store_true", help="skip fastai")
    return parser.parse_args(argv)


ARGS = parse_args()
if ARGS.omp_wait != "unset":  # read by OpenMP when torch loads: set before the import
    os.environ["OMP_WAIT_POLICY"] = ARGS.omp_wait.upper()

import torch  # noqa: E402

from l4tui.data.tables import ADULT_CAT_NAMES, ADULT_CONT_NAMES, ADULT_Y_NAME  # noqa: E402

SEED, VALID_PCT, BS, LAYERS = 42, 0.2, 64, [200, 100]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def adult_csv(tmp: Path) -> Path:
    if ARGS.data:
        return ARGS.data
    import importlib.util

    spec = importlib.util.spec_from_file_location("_l4tui_bench_train_data", HERE / "_train_data.py")
    helper = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helper)
    return helper.make_adult(tmp / "adult.csv", ARGS.rows)


def fastai_fit(path: Path) -> tuple[list[float], float]:
    """fastai's lesson: TabularDataLoaders.from_csv, tabular_learner, fit_one_cycle."""
    import pandas as pd
    from fastai.tabular.all import (Callback, Categorify, FillMissing, Normalize, RandomSplitter,
                                    TabularPandas, accuracy, tabular_learner)

    class EpochTimes(Callback):
        order = 100

        def before_epoch(self):
            self.started = time.perf_counter()

        def after_epoch(self):
            self.times.append(time.perf_counter() - self.started)

    class FillMissingCopyOnWrite(FillMissing):
        """fastai 2.8.4's FillMissing fills with `to[n].fillna(..., inplace=True)`, which under
        pandas 3's copy-on-write fills a copy and leaves the NaNs (pandas warns): the model then
        sees NaN inputs and its loss turns NaN. The same fill, assigned back."""

        def encodes(self, to):
            missing = pd.isnull(to.conts)
            for n in self.na_dict:
                to[n] = to[n].fillna(self.na_dict[n])
                if self.add_col:
                    to.loc[:, n + "_na"] = missing[n]
                    if n + "_na" not in to.cat_names:
                        to.cat_names.append(n + "_na")

    fill_missing = FillMissingCopyOnWrite if int(pd.__version__.split(".")[0]) >= 3 else FillMissing
    frame = pd.read_csv(path)
    splits = RandomSplitter(valid_pct=VALID_PCT, seed=SEED)(range(len(frame)))
    table = TabularPandas(frame, procs=[Categorify, fill_missing, Normalize], cat_names=list(ADULT_CAT_NAMES),  # a copy: FillMissing appends to it
                          cont_names=list(ADULT_CONT_NAMES), y_names=ADULT_Y_NAME, splits=splits)
    assert not table.conts.isna().any().any(), "fastai's FillMissing left NaNs"
    dls = table.dataloaders(bs=BS)
    torch.manual_seed(SEED)
    timer = EpochTimes()
    timer.times = []
    learn = tabular_learner(dls, layers=LAYERS, metrics=accuracy, cbs=[timer])
    with learn.no_bar(), learn.no_logging():
        learn.fit_one_cycle(ARGS.epochs, ARGS.lr)
    return timer.times, float(learn.recorder.values[-1][2])


def ours_fit(path: Path, run_dir: Path) -> tuple[list[float], float]:
    from l4tui.runs.events import EventWriter
    from l4tui.train.loop import fit
    from l4tui.train.tabular import TabularConfig, prepare_tabular

    config = TabularConfig(data=str(path), epochs=ARGS.epochs, lr=ARGS.lr, bs=BS, layers=tuple(LAYERS),
                           split="fastai", seed=SEED, valid_pct=VALID_PCT)  # adult: the lesson's columns
    torch.manual_seed(SEED)
    task = prepare_tabular(config, "cpu")
    assert task.start["n_valid"] == int(VALID_PCT * (task.start["n_train"] + task.start["n_valid"]))
    run_dir.mkdir(parents=True)
    events = EventWriter(run_dir)
    times = []
    try:
        results = fit(task, events, on_epoch_end=lambda stage, epoch, res, opt: times.append(res["epoch_seconds"]))
    finally:
        events.close()
    return times, float(results["accuracy"])


def main() -> int:
    if ARGS.threads:
        torch.set_num_threads(ARGS.threads)
    have_fastai = not ARGS.ours_only
    if have_fastai:
        try:
            import fastai
            fastai_version = fastai.__version__
        except ImportError:
            print("fastai is not importable here: timing ours alone (run with /work/fastai-venv/bin/python "
                  "and PYTHONPATH=. for the side by side)")
            have_fastai = False
    figures = {"fastai": ([], []), "ours": ([], [])}
    with tempfile.TemporaryDirectory() as tmp:
        path = adult_csv(Path(tmp))
        for round_ in range(ARGS.rounds):
            for name in (["fastai"] if have_fastai else []) + ["ours"]:
                started = time.time()
                times, acc = fastai_fit(path) if name == "fastai" else ours_fit(path, Path(tmp) / f"run{round_}")
                figures[name][0].extend(times[1:] if len(times) > 1 else times)
                figures[name][1].append(acc)
                log(f"round {round_ + 1} {name}: epochs {', '.join(f'{t:.2f}' for t in times)} s, "
                    f"accuracy {acc:.4f} ({time.time() - started:.0f} s)")
    print(f"tabular, adult {'(' + str(ARGS.data) + ')' if ARGS.data else f'(generated, {ARGS.rows:,} rows)'}, "
          f"fastai's RandomSplitter({VALID_PCT}, seed {SEED}), layers {LAYERS}, bs {BS}, "
          f"fit_one_cycle({ARGS.epochs}, {ARGS.lr:g}); torch {torch.__version__}, {torch.get_num_threads()} "
          f"thread(s) of {os.cpu_count()} CPUs, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}")
    medians = {}
    for name, (times, accs) in figures.items():
        if not times:
            continue
        medians[name] = statistics.median(times)
        label = f"fastai {fastai_version}" if name == "fastai" else "ours"
        print(f"  {label:12s} {medians[name]:.3f} s/epoch (median of {len(times)}), accuracy "
              f"{statistics.median(accs):.4f} (rounds: {', '.join(f'{a:.4f}' for a in accs)})")
    if "fastai" in medians:
        print(f"  ours is {medians['fastai'] / medians['ours']:.2f}x faster per epoch")
    # the machine's load meanwhile: on a shared machine, the main noise (our loop, with its many
    # small ops on 2 threads, suffers more from it than fastai's Python-bound one)
    print(f"  load average at the end (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
