"""Vocab figures over a big corpus in the app: how long, and how much the screen stalls meanwhile.

    python bench/corpus_vocab.py [--mb 50] [--seed 0]

Writes a CSV of review-like texts of about `--mb` million characters (bench/tokenize.py's
generator), opens the text screen (`t` in Data & training) on it in the app, headless, and
measures (after letting the app's start-up work end) until the vocab figures are shown:

- time from opening the screen to the figures (reading the CSV, counting the tokens, the vocab);
- the event loop's stalls meanwhile: a task asks to wake every 20 ms and records how late it
  wakes. A late wake-up is a frame the screen could not draw, a key it could not answer.

Three times: as the app counts the first time (worker processes, a progress line; the corpus is
kept in the runs' corpus cache, a private one here), as it counts when opened again (read back
from that cache, as after a run on the same texts), and with the counting done in a thread of the
app's own process, uncached (how the screen counted at first), for comparison. Then the time a
`min_freq` change takes once the corpus is counted. Prints figures; asserts nothing.
"""

import sys
from pathlib import Path

# bench/ holds a tokenize.py that would shadow the standard library's (here and in the worker
# processes, which get this import path): take bench/ off the path before anything is imported.
REPO = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import csv  # noqa: E402
import importlib.util  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402



STARTUP_S = 8.0


def make_csv(path: Path, mb: float, seed: int) -> int:
    spec = importlib.util.spec_from_file_location("bench_tokenize", REPO / "bench" / "tokenize.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    texts = generator.make_corpus(int(mb * 1e6 / 5.5), seed)  # ~5.5 characters a token
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["label", "text", "is_valid"])
        writer.writerows([["pos", text, "False"] for text in texts])
    return sum(map(len, texts))


async def open_screen(path: Path, runs: Path) -> dict:
    from l4tui.ui.app import L4App
    from l4tui.ui.text_screen import TextScreen

    app = L4App(runs_dir=runs, workspace=REPO)
    lateness: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        # The app warms the Code pane's jedi in the background for its first seconds; a user gets
        # to this screen later than that, and its stalls are not this screen's.
        await asyncio.sleep(STARTUP_S)
        screen = TextScreen(str(path))
        started = time.perf_counter()
        await app.push_screen(screen)
        while screen.figures is None:
            if app._exception is not None:
                raise app._exception
            asked = time.perf_counter()
            await asyncio.sleep(0.02)
            lateness.append((time.perf_counter() - asked - 0.02) * 1000)
            if lateness[-1] > 100 and "--verbose" in sys.argv:
                print(f"  stall {lateness[-1]:.0f} ms at {time.perf_counter() - started:.1f} s, "
                      f"counted {screen.counted}")
        ready = time.perf_counter() - started
        changed = time.perf_counter()
        await pilot.press("right_square_bracket")
        while screen.figures["min_freq"] != 4:
            await asyncio.sleep(0.005)
        min_freq_s = time.perf_counter() - changed
    lateness.sort()
    return {"ready_s": ready, "p50": statistics.median(lateness), "p95": lateness[int(len(lateness) * 0.95)],
            "worst": lateness[-1], "over_100ms": sum(1 for ms in lateness if ms > 100), "wakes": len(lateness),
            "min_freq_s": min_freq_s}


def in_a_thread(texts, progress=None, stop=None, n_workers=None):
    """The counting as it was at first: in the app's process (the screen calls it in a thread),
    without the cache."""
    from l4tui.inspect import corpus_counts

    return corpus_counts.original(texts, progress, stop, n_workers=1, cache=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50, help="corpus size in million characters (default 50)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", action="store_true", help="print each stall over 100 ms as it happens")
    args = parser.parse_args()
    from l4tui.inspect import corpus_counts

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["L4TUI_DATA"] = str(Path(tmp) / "cache")  # the corpus cache: empty, and not the user's
        path = Path(tmp) / "corpus.csv"
        chars = make_csv(path, args.mb, args.seed)
        print(f"corpus: {chars / 1e6:.1f} M characters, {path.stat().st_size / 1e6:.1f} MB of CSV")
        print(f"{'counting':<37} {'to figures':>10} {'stall p50':>10} {'p95':>8} {'worst':>8} {'>100 ms':>8}")
        corpus_counts.original = corpus_counts.count_corpus
        for label, counter in (("worker processes (the app), first", corpus_counts.original),
                               ("opened again: the corpus cache", corpus_counts.original),
                               ("a thread of the app's process", in_a_thread)):
            corpus_counts.count_corpus = counter
            r = asyncio.run(open_screen(path, Path(tmp) / "runs"))
            print(f"{label:<37} {r['ready_s']:>9.1f}s {r['p50']:>8.1f}ms {r['p95']:>6.1f}ms "
                  f"{r['worst']:>6.0f}ms {r['over_100ms']:>4}/{r['wakes']}")
        print(f"then a min_freq change (vocab and figures from the counts): {r['min_freq_s'] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
